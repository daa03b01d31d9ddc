// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig NVIDIA Ampere style model: the AMPERE_CHANNEL_GPFIFO_A host
 * class (clc56f.h: SEM_ADDR_HI 7:0) and AMPERE_DMA_COPY_B (clc7b5.h:
 * 17-bit *_UPPER address fields), MMU v2 page tables as nouveau's
 * vmmgp100.c builds them: 49-bit VA, PD3..PD0 with a dual PD0, 64 KiB and
 * 4 KiB page tables; entry addresses as address >> 12 from bit 8.
 */
#include <linux/kernel.h>

#include "ctxmig_gpu.h"
#include "ctxmig_model.h"
#include "ctxmig_nv.h"

/* PD3 48:47, PD2 46:38, PD1 37:29, PD0 28:21, big PT 20:16, PT 20:12. */
static const struct ctxmig_pt_level ampere_levels[6] = {
	{ .shift = 47, .bits = 2, .entry_size = 8, .nsubs = 1,
	  .child = { 1, -1 } },
	{ .shift = 38, .bits = 9, .entry_size = 8, .nsubs = 1,
	  .child = { 2, -1 } },
	{ .shift = 29, .bits = 9, .entry_size = 8, .nsubs = 1,
	  .child = { 3, -1 } },
	/* Dual: big-page table, small-page table; or a 2 MiB PTE. */
	{ .shift = 21, .bits = 8, .entry_size = 16, .nsubs = 2, .leaf = true,
	  .child = { 4, 5 } },
	{ .shift = 16, .bits = 5, .entry_size = 8, .nsubs = 1, .leaf = true,
	  .child = { -1, -1 } },
	{ .shift = 12, .bits = 9, .entry_size = 8, .nsubs = 1, .leaf = true,
	  .child = { -1, -1 } },
};

static const struct ctxmig_nv_gen ampere = {
	.host_class	= 0xc56f,
	.copy_class	= 0xc7b5,
	.pd0		= 3,
	.addr_shift	= 4,
	.pde_addr	= GENMASK_ULL(53, 8),	/* ADDRESS_SYS, >> 12 */
	.pde_big_addr	= GENMASK_ULL(53, 4),	/* ADDRESS_BIG, >> 8 */
	.pde_table	= 0,			/* VOL 0 */
	.pte_sys_addr	= GENMASK_ULL(53, 8),
	.pte_vid_addr	= GENMASK_ULL(32, 8),
	.pte_ro		= BIT_ULL(6),		/* READ_ONLY */
	.pte_no_small	= BIT_ULL(5) | BIT_ULL(3),	/* PRIV, VOL */
	.sem_hi_bits	= 8,
	.ce_upper_bits	= 17,
	.semaphore_abcd	= true,
	/* dev_pbdma.ref: GP_BASE_HI OFFSET 7:0, LIMIT2 20:16. */
	.gp_hi_bits	= 8,
	.limit2_reg	= NV_PBDMA_GP_BASE_HI,
	.limit2_shift	= 16,
};

const struct ctxmig_model ctxmig_nv_ampere_model = {
	.id = CTXMIG_MODEL_NV_AMPERE,
	.name = "nv-ampere",
	.desc = "NVIDIA Ampere style: GPFIFO, host + copy methods, MMU v2",
	.va_bits = 49,
	.levels = ampere_levels,
	.nlevels = ARRAY_SIZE(ampere_levels),
	.data = &ampere,
	CTXMIG_NV_MODEL_OPS,
};
