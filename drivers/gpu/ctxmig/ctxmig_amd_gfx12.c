// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig AMD GFX12 style model: the GFX9 engine one generation on.  CP_RB0
 * and GCVM registers at their gc_12_0_0_offset.h offsets behind GC
 * segment 0, GFX12 PTEs: MTYPE in 55:54, PDE-as-PTE bit 63.
 */
#include <linux/kernel.h>

#include "ctxmig_amd.h"
#include "ctxmig_gpu.h"
#include "ctxmig_model.h"

/*
 * GC segment 0.  amdgpu reads GFX11 and GFX12 register bases from the IP
 * discovery table at run time (amdgpu_discovery_reg_base_init()); no
 * header of the 6.12 tree gives them.  0x1260 is GC_BASE segment 0 of the
 * GFX10.x headers (navi10_ip_offset.h and its siblings): ctxmig's choice.
 */
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
	.vm_inv_req	= AMD_REG(GFX12_GC_BASE, 0x1647),	/* GCVM_INVALIDATE_ENG0_REQ */
	.vm_inv_ack	= AMD_REG(GFX12_GC_BASE, 0x1659),
	.mtype_shift	= 54,
	.pde_pte	= BIT_ULL(63),
	/*
	 * Mesa's cp_dma_max_byte_count() (radeonsi si_cp_dma.c) allows 32767
	 * bytes per DMA_DATA from GFX11 on, rounded down to
	 * SI_CPDMA_ALIGNMENT (32).
	 */
	.dma_max	= 32767 & ~31,
};

const struct ctxmig_model ctxmig_amd_gfx12_model = {
	.id = CTXMIG_MODEL_AMD_GFX12,
	.name = "amd-gfx12",
	.desc = "AMD GFX12 style: PM4, CP_RB0, GPUVM with GFX12 entries",
	.data = &gfx12,
	CTXMIG_AMD_MODEL_OPS,
};
