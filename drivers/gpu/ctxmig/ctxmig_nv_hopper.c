// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig NVIDIA Hopper style model: the HOPPER_CHANNEL_GPFIFO_A host
 * class (clc86f.h: SEM_ADDR_HI 24:0, SET_PB_SEGMENT_EXTENDED_BASE) and
 * HOPPER_DMA_COPY_A (clc8b5.h: 25-bit *_UPPER address fields), MMU v3
 * page tables (gh100 dev_mmu.h): 57-bit VA, PD4..PD0 with a dual PD0,
 * 64 KiB and 4 KiB page tables; entry addresses in place, PCF codes.
 */
#include <linux/kernel.h>

#include "ctxmig_gpu.h"
#include "ctxmig_model.h"
#include "ctxmig_nv.h"

/*
 * PDE PCF (5:3) = 2, VALID_CACHED_ATS_NOT_ALLOWED, as nouveau's
 * gh100_vmm_pde() writes it for tables in VRAM.
 */
#define HOPPER_PDE_PCF_VALID_CACHED_NO_ATS	(2ULL << 3)

/* PD4 56, PD3 55:47, PD2 46:38, PD1 37:29, PD0 28:21, 20:16, 20:12. */
static const struct ctxmig_pt_level hopper_levels[7] = {
	{ .shift = 56, .bits = 1, .entry_size = 8, .nsubs = 1,
	  .child = { 1, -1 } },
	{ .shift = 47, .bits = 9, .entry_size = 8, .nsubs = 1,
	  .child = { 2, -1 } },
	{ .shift = 38, .bits = 9, .entry_size = 8, .nsubs = 1,
	  .child = { 3, -1 } },
	{ .shift = 29, .bits = 9, .entry_size = 8, .nsubs = 1,
	  .child = { 4, -1 } },
	/* Dual: big-page table, small-page table; or a 2 MiB PTE. */
	{ .shift = 21, .bits = 8, .entry_size = 16, .nsubs = 2, .leaf = true,
	  .child = { 5, 6 } },
	{ .shift = 16, .bits = 5, .entry_size = 8, .nsubs = 1, .leaf = true,
	  .child = { -1, -1 } },
	{ .shift = 12, .bits = 9, .entry_size = 8, .nsubs = 1, .leaf = true,
	  .child = { -1, -1 } },
};

static const struct ctxmig_nv_gen hopper = {
	.host_class	= 0xc86f,
	.copy_class	= 0xc8b5,
	.pd0		= 4,
	.addr_shift	= 0,
	.pde_addr	= GENMASK_ULL(51, 12),
	.pde_big_addr	= GENMASK_ULL(51, 8),	/* ADDRESS_BIG */
	.pde_table	= HOPPER_PDE_PCF_VALID_CACHED_NO_ATS,
	.pte_sys_addr	= GENMASK_ULL(51, 12),
	.pte_vid_addr	= GENMASK_ULL(39, 12),
	.pte_ro		= BIT_ULL(5),		/* PCF bit 2: RO */
	.pte_no_small	= GENMASK_ULL(7, 3),	/* PCF, e.g. NO_VALID_4KB_PAGE */
	.sem_hi_bits	= 25,
	.ce_upper_bits	= 25,
	.ext_base_latched = true,
	/* gh100 dev_esched_pbdma.h: GP_BASE_HI OFFSET 24:0, GP_INFO LIMIT2 4:0. */
	.gp_hi_bits	= 25,
	.limit2_reg	= NV_PBDMA_GP_INFO,
	.limit2_shift	= 0,
};

const struct ctxmig_model ctxmig_nv_hopper_model = {
	.id = CTXMIG_MODEL_NV_HOPPER,
	.name = "nv-hopper",
	.desc = "NVIDIA Hopper style: GPFIFO, host + copy methods, MMU v3",
	.va_bits = 57,
	.levels = hopper_levels,
	.nlevels = ARRAY_SIZE(hopper_levels),
	.data = &hopper,
	CTXMIG_NV_MODEL_OPS,
};
