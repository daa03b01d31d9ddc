// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig AMD GFX9 (Vega10) style model: CP_RB0 registers at their
 * gc_9_0_offset.h offsets behind GC segment 0 (dword 0x2000, so byte
 * 0x8000 + 4 * offset), Vega10 PTEs (MTYPE in 58:57, PDE-as-PTE bit 54).
 */
#include <linux/kernel.h>

#include "ctxmig_amd.h"
#include "ctxmig_gpu.h"
#include "ctxmig_model.h"

#define GFX9_GC_BASE	0x2000	/* GC_BASE__INST0_SEG0, vega10_ip_offset.h */

static const struct ctxmig_amd_gen gfx9 = {
	.rb0_base	= AMD_REG(GFX9_GC_BASE, 0x1040),	/* mmCP_RB0_BASE */
	.rb0_base_hi	= AMD_REG(GFX9_GC_BASE, 0x10b1),
	.rb0_cntl	= AMD_REG(GFX9_GC_BASE, 0x1041),
	.rb0_rptr	= AMD_REG(GFX9_GC_BASE, 0x01c0),
	.rb0_wptr	= AMD_REG(GFX9_GC_BASE, 0x1054),
	.rb0_wptr_hi	= AMD_REG(GFX9_GC_BASE, 0x1055),
	.rb0_active	= AMD_REG(GFX9_GC_BASE, 0x1069),
	.vm_cntl	= AMD_REG(GFX9_GC_BASE, 0x0880),	/* VM_CONTEXT0_CNTL */
	.vm_pt_base_lo	= AMD_REG(GFX9_GC_BASE, 0x08eb),
	.vm_pt_base_hi	= AMD_REG(GFX9_GC_BASE, 0x08ec),
	.vm_inv_req	= AMD_REG(GFX9_GC_BASE, 0x08a3),	/* VM_INVALIDATE_ENG0_REQ */
	.vm_inv_ack	= AMD_REG(GFX9_GC_BASE, 0x08b5),
	.mtype_shift	= 57,
	.pde_pte	= BIT_ULL(54),
	/* Whole pages below 2 MiB per DMA_DATA. */
	.dma_max	= 0x1ff000,
};

const struct ctxmig_model ctxmig_amd_gfx9_model = {
	.id = CTXMIG_MODEL_AMD_GFX9,
	.name = "amd-gfx9",
	.desc = "AMD GFX9 (Vega) style: PM4, CP_RB0, GPUVM 4-level",
	.data = &gfx9,
	CTXMIG_AMD_MODEL_OPS,
};
