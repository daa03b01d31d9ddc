// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig AMD GFX12 style model: the GFX9 engine one generation on.  CP_RB0
 * and GCVM registers at their gc_12_0_0_offset.h offsets behind GC
 * segment 0 (dword 0x1260, as on GFX11; GFX12's own value is not public),
 * GFX12 PTEs: MTYPE in 55:54, PDE-as-PTE bit 63.
 */
#include <linux/kernel.h>

#include "ctxmig_amd.h"
#include "ctxmig_gpu.h"
#include "ctxmig_model.h"

#define GFX12_GC_BASE	0x1260

static const struct ctxmig_amd_gen gfx12 = {
	.rb0_base	= AMD_REG(GFX12_GC_BASE, 0x1de0),	/* regCP_RB0_BASE */
	.rb0_base_hi	= AMD_REG(GFX12_GC_BASE, 0x1e51),
	.rb0_cntl	= AMD_REG(GFX12_GC_BASE, 0x1de1),
	.rb0_rptr	= AMD_REG(GFX12_GC_BASE, 0x0f60),
	.rb0_wptr	= AMD_REG(GFX12_GC_BASE, 0x1df4),
	.rb0_wptr_hi	= AMD_REG(GFX12_GC_BASE, 0x1df5),
	.rb0_active	= AMD_REG(GFX12_GC_BASE, 0x1f40),
	.vm_cntl	= AMD_REG(GFX12_GC_BASE, 0x1624),	/* GCVM_CONTEXT0_CNTL */
	.vm_pt_base_lo	= AMD_REG(GFX12_GC_BASE, 0x168f),
	.vm_pt_base_hi	= AMD_REG(GFX12_GC_BASE, 0x1690),
	.mtype_shift	= 54,
	.pde_pte	= BIT_ULL(63),
};

const struct ctxmig_model ctxmig_amd_gfx12_model = {
	.id = CTXMIG_MODEL_AMD_GFX12,
	.name = "amd-gfx12",
	.desc = "AMD GFX12 style: PM4, CP_RB0, GPUVM with GFX12 entries",
	.data = &gfx12,
	CTXMIG_AMD_MODEL_OPS,
};
