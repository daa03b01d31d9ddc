// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig NVIDIA family: the GPFIFO ring, pushbuffer methods of the host
 * class and the copy engine, and the PD0-dual page tables of MMU v2 and
 * v3, shared by the Ampere and Hopper style models.  The subset emulated
 * and how each field maps to the IR: models/nvidia.rst.
 *
 * The ring holds GP entries only; each points at a pushbuffer of methods.
 * Methods write state that stays latched in the engine
 * (&struct ctxmig_engine.method) until a trigger method turns it into a
 * command: a command is the run of methods up to and including its
 * trigger.
 */
#include <linux/bitfield.h>
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/string.h>

#include "ctxmig_gpu.h"
#include "ctxmig_nv.h"

static const struct ctxmig_nv_gen *gen(const struct ctxmig_gpu *gpu)
{
	return gpu->model->data;
}

/* ---------------------------------------------------------------- ring */

/* GP_BASE_HI's OFFSET field: GPFIFO VA bits 32 and up. */
static u32 nv_gp_hi_mask(const struct ctxmig_nv_gen *g)
{
	return GENMASK(g->gp_hi_bits - 1, 0);
}

static u32 nv_limit2_mask(const struct ctxmig_nv_gen *g)
{
	return GENMASK(NV_GP_LIMIT2_BITS - 1, 0) << g->limit2_shift;
}

/* Set LIMIT2, leaving the rest of its register alone. */
static void nv_set_limit2(struct ctxmig_gpu *gpu, u32 limit2)
{
	const struct ctxmig_nv_gen *g = gen(gpu);
	u32 *reg = ctxmig_reg(gpu, g->limit2_reg);

	*reg = (*reg & ~nv_limit2_mask(g)) | limit2 << g->limit2_shift;
}

void ctxmig_nv_reset(struct ctxmig_gpu *gpu)
{
	/* A 4 KiB GPFIFO, the channel disabled, no page directory. */
	nv_set_limit2(gpu, ilog2(4096 / NV_GP_ENTRY_SIZE));
	*ctxmig_reg(gpu, NV_RAMIN_PDB_LO) =
		FIELD_PREP(NV_PDB_TARGET, NV_PDB_TARGET_INVALID);
}

void ctxmig_nv_ring_get(struct ctxmig_gpu *gpu, u32 engine,
			struct ctxmig_ring *ring)
{
	const struct ctxmig_nv_gen *g = gen(gpu);
	u32 hi = *ctxmig_reg(gpu, NV_PBDMA_GP_BASE_HI) & nv_gp_hi_mask(g);
	u32 limit2 = (*ctxmig_reg(gpu, g->limit2_reg) & nv_limit2_mask(g)) >>
		     g->limit2_shift;

	memset(ring, 0, sizeof(*ring));
	ring->engine = engine;
	/* LIMIT2 beyond the largest ring reads as the largest ring. */
	ring->size = NV_GP_ENTRY_SIZE <<
		     min_t(u32, limit2,
			   ilog2(gpu->model->ring_max / NV_GP_ENTRY_SIZE));
	ring->base = (u64)hi << 32 |
		     (*ctxmig_reg(gpu, NV_PBDMA_GP_BASE) & ~7U);
	if (g->ext_base_latched)
		ring->ib_va_base = (u64)gpu->eng[engine].method[NV_M_GP_EXT_BASE]
				   << 40;
	ring->head = (*ctxmig_reg(gpu, NV_PBDMA_GP_GET) * NV_GP_ENTRY_SIZE) &
		     (ring->size - 1);
	ring->tail = (*ctxmig_reg(gpu, NV_PBDMA_GP_PUT) * NV_GP_ENTRY_SIZE) &
		     (ring->size - 1);
	if (*ctxmig_reg(gpu, NV_CCSR_CHANNEL) & NV_CCSR_CHANNEL_ENABLE)
		ring->flags |= CTXMIG_RING_ENABLED;
}

int ctxmig_nv_ring_set(struct ctxmig_gpu *gpu, u32 engine,
		       const struct ctxmig_ring *ring)
{
	const struct ctxmig_nv_gen *g = gen(gpu);
	const struct ctxmig_model *m = gpu->model;

	if (!is_power_of_2(ring->size) || ring->size < m->ring_min ||
	    ring->size > m->ring_max || !IS_ALIGNED(ring->base, m->ring_align) ||
	    ring->base >> (32 + g->gp_hi_bits) ||
	    !IS_ALIGNED(ring->head, NV_GP_ENTRY_SIZE) ||
	    !IS_ALIGNED(ring->tail, NV_GP_ENTRY_SIZE))
		return -EINVAL;
	/* Only a channel that keeps an extended base takes one. */
	if (g->ext_base_latched) {
		if (ring->ib_va_base & ~(NV_GP_ENTRY0_EXT_BASE_VA))
			return -EINVAL;
		gpu->eng[engine].method[NV_M_GP_EXT_BASE] =
			ring->ib_va_base >> 40;
	}
	*ctxmig_reg(gpu, NV_PBDMA_GP_BASE) = lower_32_bits(ring->base);
	*ctxmig_reg(gpu, NV_PBDMA_GP_BASE_HI) = upper_32_bits(ring->base);
	nv_set_limit2(gpu, ilog2(ring->size / NV_GP_ENTRY_SIZE));
	*ctxmig_reg(gpu, NV_PBDMA_GP_GET) = ring->head / NV_GP_ENTRY_SIZE;
	*ctxmig_reg(gpu, NV_PBDMA_GP_PUT) = ring->tail / NV_GP_ENTRY_SIZE;
	*ctxmig_reg(gpu, NV_CCSR_CHANNEL) =
		ring->flags & CTXMIG_RING_ENABLED ? NV_CCSR_CHANNEL_ENABLE : 0;
	return 0;
}

void ctxmig_nv_set_head(struct ctxmig_gpu *gpu, u32 engine, u32 head)
{
	*ctxmig_reg(gpu, NV_PBDMA_GP_GET) = head / NV_GP_ENTRY_SIZE;
}

u64 ctxmig_nv_pt_root(struct ctxmig_gpu *gpu)
{
	u32 lo = *ctxmig_reg(gpu, NV_RAMIN_PDB_LO);

	/* Page directories in system memory are not emulated. */
	if (FIELD_GET(NV_PDB_TARGET, lo) != NV_PDB_TARGET_VID_MEM)
		return U64_MAX;
	return (u64)*ctxmig_reg(gpu, NV_RAMIN_PDB_HI) << 32 |
	       (lo & NV_PDB_ADDR_LO);
}

void ctxmig_nv_set_pt_root(struct ctxmig_gpu *gpu, u64 root)
{
	/* As nouveau's gp100_vmm_join() writes it. */
	*ctxmig_reg(gpu, NV_RAMIN_PDB_LO) =
		FIELD_PREP(NV_PDB_TARGET, NV_PDB_TARGET_VID_MEM) |
		NV_PDB_USE_VER2_PT_FORMAT | NV_PDB_BIG_PAGE_64K |
		(lower_32_bits(root) & NV_PDB_ADDR_LO);
	*ctxmig_reg(gpu, NV_RAMIN_PDB_HI) = upper_32_bits(root);
}

/* --------------------------------------------------------- page tables */

/* VOL (or PCF UNCACHED) and ctxmig's bit 55, as bits 0 and 1. */
static const u8 nv_pte_cache[4] = {
	CTXMIG_CACHE_DEFAULT,
	CTXMIG_CACHE_UNCACHED,
	CTXMIG_CACHE_CACHED,
	CTXMIG_CACHE_WC,
};

static u64 nv_cache_bits(u8 cache)
{
	switch (cache) {
	case CTXMIG_CACHE_UNCACHED:
		return NV_PTE_VOL;
	case CTXMIG_CACHE_CACHED:
		return NV_PTE_CTXMIG_CACHE;
	case CTXMIG_CACHE_WC:
		return NV_PTE_VOL | NV_PTE_CTXMIG_CACHE;
	default:
		return 0;
	}
}

/* A table pointer (8-byte PDE, or either half of a dual PDE). */
static void nv_pde_decode(const struct ctxmig_nv_gen *g, u64 e, u64 mask,
			  struct ctxmig_pte *pte)
{
	/* Tables in system memory are not emulated: they read as invalid. */
	if (FIELD_GET(NV_PDE_APERTURE, e) != NV_PDE_AP_VIDEO)
		return;
	pte->kind = CTXMIG_PTE_TABLE;
	pte->addr = (e & mask) << g->addr_shift;
}

static void nv_leaf_decode(const struct ctxmig_nv_gen *g, u64 e,
			   struct ctxmig_pte *pte)
{
	u32 ap = FIELD_GET(NV_PTE_APERTURE, e);

	/* Invalid, sparse, or a peer GPU's memory (not emulated). */
	if (!(e & NV_PTE_VALID) || ap == NV_PTE_AP_PEER)
		return;
	pte->kind = CTXMIG_PTE_LEAF;
	pte->flags = CTXMIG_MAP_READ | CTXMIG_MAP_EXEC;
	if (!(e & g->pte_ro))
		pte->flags |= CTXMIG_MAP_WRITE;
	if (ap == NV_PTE_AP_VIDEO) {
		pte->addr = (e & g->pte_vid_addr) << g->addr_shift;
	} else {
		pte->addr = (e & g->pte_sys_addr) << g->addr_shift;
		pte->flags |= CTXMIG_MAP_SYSMEM;
		if (ap == NV_PTE_AP_SYS_COHERENT)
			pte->flags |= CTXMIG_MAP_SNOOP;
	}
	pte->cache = nv_pte_cache[(e & NV_PTE_VOL ? 1 : 0) |
				  (e & NV_PTE_CTXMIG_CACHE ? 2 : 0)];
}

void ctxmig_nv_pte_decode(const struct ctxmig_gpu *gpu, u32 level, u32 sub,
			  const u64 *raw, struct ctxmig_pte *pte)
{
	const struct ctxmig_nv_gen *g = gen(gpu);

	memset(pte, 0, sizeof(*pte));
	if (level == g->pd0 + 1 && !(raw[0] & NV_PTE_VALID) &&
	    (raw[0] & g->pte_no_small)) {
		/* A big-page PTE that hides the 4 KiB PTEs under it. */
		pte->kind = CTXMIG_PTE_STOP;
	} else if (level > g->pd0) {
		nv_leaf_decode(g, raw[0], pte);
	} else if (level < g->pd0) {
		/* No huge pages above PD0. */
		if (!(raw[0] & NV_PDE_IS_PTE))
			nv_pde_decode(g, raw[0], g->pde_addr, pte);
	} else if (raw[0] & NV_PDE_IS_PTE) {
		/* A 2 MiB page: the low half is a PTE, the high half unused. */
		if (!sub)
			nv_leaf_decode(g, raw[0], pte);
	} else {
		nv_pde_decode(g, raw[sub], sub ? g->pde_addr : g->pde_big_addr,
			      pte);
	}
}

/* @addr as an entry's address field, or U64_MAX if it does not fit. */
static u64 nv_addr_field(const struct ctxmig_nv_gen *g, u64 addr, u64 mask)
{
	u64 f = addr >> g->addr_shift;

	if ((f & ~mask) || (f << g->addr_shift) != addr)
		return U64_MAX;
	return f;
}

static int nv_leaf_encode(const struct ctxmig_nv_gen *g,
			  const struct ctxmig_pte *pte, u64 *e)
{
	bool sys = pte->flags & CTXMIG_MAP_SYSMEM;
	u64 f = nv_addr_field(g, pte->addr,
			      sys ? g->pte_sys_addr : g->pte_vid_addr);
	u32 ap = NV_PTE_AP_VIDEO;

	/* Every valid page is readable; there is no execute bit. */
	if (f == U64_MAX || !(pte->flags & CTXMIG_MAP_READ) ||
	    pte->cache > CTXMIG_CACHE_MAX)
		return -EOPNOTSUPP;
	if (sys)
		ap = pte->flags & CTXMIG_MAP_SNOOP ? NV_PTE_AP_SYS_COHERENT :
						     NV_PTE_AP_SYS_NONCOHERENT;
	*e = NV_PTE_VALID | FIELD_PREP(NV_PTE_APERTURE, ap) | f |
	     nv_cache_bits(pte->cache);
	if (!(pte->flags & CTXMIG_MAP_WRITE))
		*e |= g->pte_ro;
	return 0;
}

static int nv_pde_encode(const struct ctxmig_nv_gen *g,
			 const struct ctxmig_pte *pte, u64 mask, u64 *e)
{
	u64 f = nv_addr_field(g, pte->addr, mask);

	if (f == U64_MAX || (pte->flags & CTXMIG_MAP_SYSMEM))
		return -EOPNOTSUPP;
	*e = FIELD_PREP(NV_PDE_APERTURE, NV_PDE_AP_VIDEO) | g->pde_table | f;
	return 0;
}

int ctxmig_nv_pte_encode(const struct ctxmig_gpu *gpu, u32 level, u32 sub,
			 const struct ctxmig_pte *pte, u64 *raw)
{
	const struct ctxmig_nv_gen *g = gen(gpu);
	bool small_valid = FIELD_GET(NV_PDE_APERTURE, raw[1]);

	if (pte->kind == CTXMIG_PTE_INVALID) {
		raw[sub] = 0;
		return 0;
	}
	if (level > g->pd0) {
		if (pte->kind != CTXMIG_PTE_LEAF)
			return -EOPNOTSUPP;
		return nv_leaf_encode(g, pte, &raw[0]);
	}
	if (level < g->pd0) {
		if (pte->kind != CTXMIG_PTE_TABLE)
			return -EOPNOTSUPP;
		return nv_pde_encode(g, pte, g->pde_addr, &raw[0]);
	}
	/* PD0: a 2 MiB page or a big-page table in sub 0, small in sub 1. */
	if (pte->kind == CTXMIG_PTE_LEAF) {
		if (sub)
			return -EOPNOTSUPP;
		if (small_valid && !(raw[0] & NV_PDE_IS_PTE))
			return -EEXIST;	/* the page would hide the table */
		return nv_leaf_encode(g, pte, &raw[0]);
	}
	if (raw[0] & NV_PDE_IS_PTE)
		return -EEXIST;
	return nv_pde_encode(g, pte, sub ? g->pde_addr : g->pde_big_addr,
			     &raw[sub]);
}

/* ------------------------------------------------------------- GPFIFO */

/* A GP entry that starts a pushbuffer (not a control entry). */
static bool nv_gp_is_buffer(u32 e1)
{
	return FIELD_GET(NV_GP_ENTRY1_LENGTH, e1) &&
	       !(e1 & NV_GP_ENTRY1_LEVEL);
}

/* The pushbuffer of a GP entry, VA 39:0 from the entry, above from @ext. */
static void nv_gp_buffer(u32 e0, u32 e1, u64 ext, struct ctxmig_cmd *cmd)
{
	cmd->op = CTXMIG_OP_IB;
	cmd->src = ext << 40 |
		   (u64)FIELD_GET(NV_GP_ENTRY1_GET_HI, e1) << 32 |
		   (e0 & NV_GP_ENTRY0_GET);
	cmd->value = (u64)FIELD_GET(NV_GP_ENTRY1_LENGTH, e1) * 4;
}

static int nv_decode_gp(const struct ctxmig_nv_gen *g, const void *buf,
			u32 len, u32 *st, struct ctxmig_cmd *cmd)
{
	u64 ext = g->ext_base_latched ? st[NV_M_GP_EXT_BASE] : 0;
	u32 e0, e1;

	if (len < NV_GP_ENTRY_SIZE)
		return -ENODATA;
	e0 = ctxmig_dw_get(buf, 0);
	e1 = ctxmig_dw_get(buf, 1);
	if (FIELD_GET(NV_GP_ENTRY1_LENGTH, e1)) {
		if (e1 & NV_GP_ENTRY1_LEVEL)
			return -EOPNOTSUPP;	/* subroutines */
		nv_gp_buffer(e0, e1, ext, cmd);
		return NV_GP_ENTRY_SIZE;
	}
	switch (FIELD_GET(NV_GP_ENTRY1_OPCODE, e1)) {
	case NV_GP_OPCODE_NOP:
		cmd->op = CTXMIG_OP_NOP;
		return NV_GP_ENTRY_SIZE;
	case NV_GP_OPCODE_SET_PB_SEGMENT_EXTENDED_BASE:
		ext = FIELD_GET(NV_GP_ENTRY0_EXT_BASE, e0);
		/*
		 * Hopper keeps the base as channel state (gh100
		 * dev_esched_pbdma.h GP_INFO.PB_SEGMENT_EXTENDED_BASE): it
		 * is a command of its own.  Ampere has none; ctxmig's
		 * extension gives it to the next entry only, so nothing
		 * stays latched for a guest that never sets it.  Either
		 * way, the base and a buffer entry after it decode as one
		 * buffer.
		 */
		if (g->ext_base_latched)
			st[NV_M_GP_EXT_BASE] = ext;
		else if (len < 2 * NV_GP_ENTRY_SIZE)
			return -ENODATA;
		if (len < 2 * NV_GP_ENTRY_SIZE ||
		    !nv_gp_is_buffer(ctxmig_dw_get(buf, 3))) {
			cmd->op = CTXMIG_OP_NOP;
			return NV_GP_ENTRY_SIZE;
		}
		nv_gp_buffer(ctxmig_dw_get(buf, 2), ctxmig_dw_get(buf, 3), ext,
			     cmd);
		return 2 * NV_GP_ENTRY_SIZE;
	default:
		return -EOPNOTSUPP;	/* CRC checks */
	}
}

/* ------------------------------------------------------------- methods */

/* What a method write is. */
enum nv_mthd_kind {
	NV_MTHD_STATE,		/* latched */
	NV_MTHD_NOOP,		/* nothing for the engine to do */
	NV_MTHD_TRIGGER,	/* a command: @cmd filled in */
};

static u64 nv_addr64(u32 upper, u32 lower, u8 upper_bits)
{
	return (u64)(upper & GENMASK(upper_bits - 1, 0)) << 32 | lower;
}

static int nv_sem_execute(const struct ctxmig_nv_gen *g, const u32 *st,
			  u32 data, struct ctxmig_cmd *cmd)
{
	/* Acquires, reductions and timestamped releases are not emulated. */
	if (FIELD_GET(NV_SEM_EXECUTE_OPERATION, data) !=
	    NV_SEM_EXECUTE_OP_RELEASE || (data & NV_SEM_EXECUTE_TIMESTAMP))
		return -EOPNOTSUPP;
	cmd->op = CTXMIG_OP_FENCE;
	cmd->dst = nv_addr64(st[NV_M_SEM_ADDR_HI],
			     st[NV_M_SEM_ADDR_LO] & ~3U, g->sem_hi_bits);
	cmd->value = st[NV_M_SEM_PAYLOAD_LO];
	if (data & NV_SEM_EXECUTE_PAYLOAD_64) {
		cmd->value |= (u64)st[NV_M_SEM_PAYLOAD_HI] << 32;
		cmd->flags |= CTXMIG_CMD_FENCE64;
	}
	return NV_MTHD_TRIGGER;
}

/*
 * SEMAPHORED (clc56f.h): a release writes SEMAPHOREC at SEMAPHOREA (VA
 * 39:32) and SEMAPHOREB (31:2), what nouveau's nvc0_fence_emit32() uses.
 * A 16-byte release also writes a reserved word and a timestamp after the
 * payload on the hardware; here only the payload is written.
 */
static int nv_semaphored(const u32 *st, u32 data, struct ctxmig_cmd *cmd)
{
	if (FIELD_GET(NV_SEMAPHORED_OPERATION, data) !=
	    NV_SEMAPHORED_OP_RELEASE)
		return -EOPNOTSUPP;	/* acquires and reductions */
	cmd->op = CTXMIG_OP_FENCE;
	cmd->dst = nv_addr64(st[NV_M_SEMA_A], st[NV_M_SEMA_B] & ~3U, 8);
	cmd->value = st[NV_M_SEMA_C];
	return NV_MTHD_TRIGGER;
}

/*
 * A copy of LINE_COUNT lines: one linear copy when the lines are back to
 * back on both sides (both pitches equal to the line length), as
 * nouveau's nve0_bo_move_copy() moves buffers in PAGE_SIZE lines.
 */
static int nv_copy_bytes(const u32 *st, bool multi, u64 *bytes)
{
	u32 len = st[NV_M_CE_LINE_LENGTH], lines = st[NV_M_CE_LINE_COUNT];

	if (!len)
		return -EINVAL;
	if (!multi || lines == 1) {
		*bytes = len;
		return 0;
	}
	if (!lines)
		return -EINVAL;
	if (st[NV_M_CE_PITCH_IN] != len || st[NV_M_CE_PITCH_OUT] != len)
		return -EOPNOTSUPP;	/* a 2D copy */
	*bytes = (u64)len * lines;
	return 0;
}

static int nv_launch_dma(const struct ctxmig_nv_gen *g, const u32 *st,
			 u32 data, struct ctxmig_cmd *cmd)
{
	u32 xfer = FIELD_GET(NV_LD_DATA_TRANSFER_TYPE, data);
	u32 sem = FIELD_GET(NV_LD_SEMAPHORE_TYPE, data);
	u32 intr = FIELD_GET(NV_LD_INTERRUPT_TYPE, data);
	u32 pitch = NV_LD_SRC_LAYOUT_PITCH | NV_LD_DST_LAYOUT_PITCH;
	bool wide = data & NV_LD_SEM_PAYLOAD_SIZE_64;

	if (data & (NV_LD_REMAP_ENABLE | NV_LD_SRC_TYPE_PHYSICAL |
		    NV_LD_DST_TYPE_PHYSICAL | NV_LD_SEM_REDUCTION_ENABLE) ||
	    intr > NV_LD_INTR_NON_BLOCKING)
		return -EOPNOTSUPP;
	if (xfer) {
		int ret;

		/* Pitch lines, nothing else in the same launch. */
		if (xfer > NV_LD_XFER_NON_PIPELINED || sem || intr ||
		    (data & pitch) != pitch)
			return -EOPNOTSUPP;
		ret = nv_copy_bytes(st, data & NV_LD_MULTI_LINE_ENABLE,
				    &cmd->value);
		if (ret)
			return ret;
		cmd->op = CTXMIG_OP_COPY;
		cmd->src = nv_addr64(st[NV_M_CE_IN_UPPER], st[NV_M_CE_IN_LOWER],
				     g->ce_upper_bits);
		cmd->dst = nv_addr64(st[NV_M_CE_OUT_UPPER],
				     st[NV_M_CE_OUT_LOWER], g->ce_upper_bits);
		return NV_MTHD_TRIGGER;
	}
	if (intr)
		cmd->flags |= CTXMIG_CMD_IRQ;
	if (sem == NV_LD_SEM_NONE) {
		cmd->op = CTXMIG_OP_NOP;
		return NV_MTHD_TRIGGER;
	}
	if (sem != NV_LD_SEM_RELEASE_ONE_WORD)
		return -EOPNOTSUPP;	/* four-word (timestamped) releases */
	cmd->dst = nv_addr64(st[NV_M_CE_SEM_A], st[NV_M_CE_SEM_B],
			     g->ce_upper_bits);
	if (cmd->dst & 3)
		return -EINVAL;
	cmd->value = st[NV_M_CE_SEM_PAYLOAD];
	if (wide)
		cmd->value |= (u64)st[NV_M_CE_SEM_PAYLOAD_UPPER] << 32;
	/* Flushed or interrupting: a fence; neither: a plain write. */
	if ((data & NV_LD_FLUSH_ENABLE) || intr) {
		cmd->op = CTXMIG_OP_FENCE;
		if (wide)
			cmd->flags |= CTXMIG_CMD_FENCE64;
	} else {
		cmd->op = wide ? CTXMIG_OP_WRITE64 : CTXMIG_OP_WRITE32;
	}
	return NV_MTHD_TRIGGER;
}

static int nv_method(const struct ctxmig_nv_gen *g, u32 *st, u32 subch,
		     u32 mthd, u32 data, struct ctxmig_cmd *cmd)
{
	if (mthd < NV_HOST_METHODS_END) {
		switch (mthd) {
		case NV_HOST_SET_OBJECT:
		case NV_HOST_NOP:
		case NV_HOST_WFI:
		case NV_HOST_MEM_OP_A:
		case NV_HOST_MEM_OP_B:
		case NV_HOST_MEM_OP_C:
			return NV_MTHD_NOOP;
		case NV_HOST_MEM_OP_D:
			/* A membar orders what is done already: nothing here. */
			if (FIELD_GET(NV_MEM_OP_D_OPERATION, data) !=
			    NV_MEM_OP_D_MEMBAR)
				return -EOPNOTSUPP;
			return NV_MTHD_NOOP;
		case NV_HOST_SEMAPHOREA:
		case NV_HOST_SEMAPHOREB:
		case NV_HOST_SEMAPHOREC:
			if (!g->semaphore_abcd)
				return -EOPNOTSUPP;
			st[NV_M_SEMA_A + (mthd - NV_HOST_SEMAPHOREA) / 4] =
				data;
			return NV_MTHD_STATE;
		case NV_HOST_SEMAPHORED:
			if (!g->semaphore_abcd)
				return -EOPNOTSUPP;
			return nv_semaphored(st, data, cmd);
		case NV_HOST_NON_STALL_INTERRUPT:
			cmd->op = CTXMIG_OP_NOP;
			cmd->flags |= CTXMIG_CMD_IRQ;
			return NV_MTHD_TRIGGER;
		case NV_HOST_SEM_ADDR_LO:
		case NV_HOST_SEM_ADDR_HI:
		case NV_HOST_SEM_PAYLOAD_LO:
		case NV_HOST_SEM_PAYLOAD_HI:
			st[NV_M_SEM_ADDR_LO + (mthd - NV_HOST_SEM_ADDR_LO) / 4] =
				data;
			return NV_MTHD_STATE;
		case NV_HOST_SEM_EXECUTE:
			return nv_sem_execute(g, st, data, cmd);
		}
		return -EOPNOTSUPP;
	}
	if (subch != NV_CE_SUBCH)
		return -EOPNOTSUPP;	/* no other engine is bound */
	if (mthd >= NV_CE_SET_SEMAPHORE_A &&
	    mthd <= NV_CE_SET_SEMAPHORE_PAYLOAD_UPPER) {
		st[NV_M_CE_SEM_A + (mthd - NV_CE_SET_SEMAPHORE_A) / 4] = data;
		return NV_MTHD_STATE;
	}
	if (mthd >= NV_CE_OFFSET_IN_UPPER && mthd <= NV_CE_LINE_COUNT) {
		st[NV_M_CE_IN_UPPER + (mthd - NV_CE_OFFSET_IN_UPPER) / 4] = data;
		return NV_MTHD_STATE;
	}
	if (mthd == NV_CE_LAUNCH_DMA)
		return nv_launch_dma(g, st, data, cmd);
	return -EOPNOTSUPP;
}

/*
 * Methods up to and including a trigger.  A buffer that ends before one:
 * methods that only latched state are not a command yet (-ENODATA) unless
 * the fetch window was full (the executor goes on from where they end);
 * methods that did nothing are a NOP.
 */
static int nv_decode_pb(const struct ctxmig_nv_gen *g, const void *buf,
			u32 len, u32 *st, struct ctxmig_cmd *cmd)
{
	bool state = false;
	u32 pos = 0;

	while (pos + 4 <= len) {
		u32 h = ctxmig_dw_get(buf, pos / 4);
		u32 op = FIELD_GET(NV_DMA_SEC_OP, h);
		u32 count = FIELD_GET(NV_DMA_COUNT, h);
		u32 mthd = FIELD_GET(NV_DMA_ADDR, h);
		u32 subch = FIELD_GET(NV_DMA_SUBCH, h);
		u32 n = count, i, bytes;

		if (!h) {
			pos += 4;	/* a NOP header */
			continue;
		}
		switch (op) {
		case NV_SEC_OP_INC:
		case NV_SEC_OP_NON_INC:
		case NV_SEC_OP_ONE_INC:
			break;
		case NV_SEC_OP_IMMD:
			n = 1;
			break;
		default:
			return -EOPNOTSUPP;	/* tertiary ops, segment end */
		}
		bytes = 4 + (op == NV_SEC_OP_IMMD ? 0 : n * 4);
		if (pos + bytes > len)
			break;
		for (i = 0; i < n; i++) {
			u32 m = mthd;
			u32 data = op == NV_SEC_OP_IMMD ? count :
				   ctxmig_dw_get(buf, pos / 4 + 1 + i);
			int ret;

			if (op == NV_SEC_OP_INC)
				m += i;
			else if (op == NV_SEC_OP_ONE_INC && i)
				m++;
			ret = nv_method(g, st, subch,
					FIELD_GET(NV_DMA_ADDR, m) * 4, data,
					cmd);
			if (ret < 0)
				return ret;
			if (ret == NV_MTHD_STATE)
				state = true;
			if (ret != NV_MTHD_TRIGGER)
				continue;
			/*
			 * A command ends with its header's last method, or a
			 * fence with the interrupt that is that last method
			 * (nvc0_fence_emit32(): SEMAPHORED, then
			 * NON_STALL_INTERRUPT, one header).
			 */
			if (i + 2 == n && op == NV_SEC_OP_INC &&
			    cmd->op == CTXMIG_OP_FENCE &&
			    FIELD_GET(NV_DMA_ADDR, m + 1) * 4 ==
			    NV_HOST_NON_STALL_INTERRUPT) {
				cmd->flags |= CTXMIG_CMD_IRQ;
				return pos + bytes;
			}
			if (i != n - 1)
				return -EOPNOTSUPP;
			return pos + bytes;
		}
		pos += bytes;
	}
	if (!pos || (state && len < CTXMIG_CMD_MAX_BYTES))
		return -ENODATA;
	cmd->op = CTXMIG_OP_NOP;
	return pos;
}

int ctxmig_nv_decode(struct ctxmig_gpu *gpu, u32 engine, const void *buf,
		     u32 len, u32 level, struct ctxmig_cmd *cmd)
{
	struct ctxmig_engine *eng = &gpu->eng[engine];
	u32 st[ARRAY_SIZE(eng->method)];
	int ret;

	BUILD_BUG_ON(ARRAY_SIZE(eng->method) < NV_M_COUNT);
	/* Latched state changes only with a whole command. */
	memcpy(st, eng->method, sizeof(st));
	if (level)
		ret = nv_decode_pb(gen(gpu), buf, len, st, cmd);
	else
		ret = nv_decode_gp(gen(gpu), buf, len, st, cmd);
	if (ret > 0)
		memcpy(eng->method, st, sizeof(st));
	return ret;
}

/* ------------------------------------------------------------ encoding */

static u32 nv_hdr(u32 op, u32 subch, u32 mthd, u32 count)
{
	return FIELD_PREP(NV_DMA_SEC_OP, op) | FIELD_PREP(NV_DMA_COUNT, count) |
	       FIELD_PREP(NV_DMA_SUBCH, subch) |
	       FIELD_PREP(NV_DMA_ADDR, mthd >> 2);
}

static bool nv_ce_reach(const struct ctxmig_nv_gen *g, u64 va)
{
	return !(va >> (32 + g->ce_upper_bits));
}

static int nv_encode_gp(const struct ctxmig_gpu *gpu,
			const struct ctxmig_cmd *cmd, u32 *dw)
{
	const struct ctxmig_nv_gen *g = gen(gpu);
	u32 base = gpu->eng[cmd->engine].method[NV_M_GP_EXT_BASE];
	u64 src = cmd->src;

	if (cmd->op == CTXMIG_OP_NOP && !(cmd->flags & CTXMIG_CMD_IRQ)) {
		dw[0] = 0;
		dw[1] = FIELD_PREP(NV_GP_ENTRY1_OPCODE, NV_GP_OPCODE_NOP);
		return 2;
	}
	if (cmd->op != CTXMIG_OP_IB)
		return -EOPNOTSUPP;	/* a GPFIFO holds buffers only */
	if (cmd->dst || !cmd->value || !IS_ALIGNED(cmd->value, 4) ||
	    cmd->value / 4 > FIELD_MAX(NV_GP_ENTRY1_LENGTH) || (src & 3) ||
	    src >> gpu->model->va_bits)
		return -EOPNOTSUPP;
	/* The extended base first, whatever is latched: self-contained. */
	dw[0] = FIELD_PREP(NV_GP_ENTRY0_EXT_BASE, src >> 40);
	dw[1] = FIELD_PREP(NV_GP_ENTRY1_OPCODE,
			   NV_GP_OPCODE_SET_PB_SEGMENT_EXTENDED_BASE);
	dw[2] = lower_32_bits(src) & NV_GP_ENTRY0_GET;
	dw[3] = FIELD_PREP(NV_GP_ENTRY1_GET_HI, upper_32_bits(src)) |
		FIELD_PREP(NV_GP_ENTRY1_LENGTH, cmd->value / 4);
	if (!g->ext_base_latched || src >> 40 == base)
		return 4;
	/* Then the channel's own base back, for the guest's entries. */
	dw[4] = FIELD_PREP(NV_GP_ENTRY0_EXT_BASE, base);
	dw[5] = dw[1];
	return 6;
}

/* A copy engine semaphore release: WRITE32/64, or FENCE when flushed. */
static int nv_encode_sem(const struct ctxmig_nv_gen *g,
			 const struct ctxmig_cmd *cmd, bool fence, u32 *dw)
{
	bool wide = fence ? cmd->flags & CTXMIG_CMD_FENCE64 :
			    cmd->op == CTXMIG_OP_WRITE64;
	u32 n = wide ? 4 : 3;
	u32 launch = FIELD_PREP(NV_LD_SEMAPHORE_TYPE,
				NV_LD_SEM_RELEASE_ONE_WORD);

	if ((cmd->dst & 3) || !nv_ce_reach(g, cmd->dst))
		return -EOPNOTSUPP;
	if (wide)
		launch |= NV_LD_SEM_PAYLOAD_SIZE_64;
	if (fence)
		launch |= NV_LD_FLUSH_ENABLE;
	if (fence && (cmd->flags & CTXMIG_CMD_IRQ))
		launch |= FIELD_PREP(NV_LD_INTERRUPT_TYPE,
				     NV_LD_INTR_NON_BLOCKING);
	dw[0] = nv_hdr(NV_SEC_OP_INC, NV_CE_SUBCH, NV_CE_SET_SEMAPHORE_A, n);
	dw[1] = upper_32_bits(cmd->dst);
	dw[2] = lower_32_bits(cmd->dst);
	dw[3] = lower_32_bits(cmd->value);
	dw[4] = upper_32_bits(cmd->value);
	dw[n + 1] = nv_hdr(NV_SEC_OP_INC, NV_CE_SUBCH, NV_CE_LAUNCH_DMA, 1);
	dw[n + 2] = launch;
	return n + 3;
}

static int nv_encode_copy(const struct ctxmig_nv_gen *g,
			  const struct ctxmig_cmd *cmd, u64 done, u32 *dw)
{
	u32 bytes = min_t(u64, cmd->value - done, NV_CE_MAX_LINE);
	u64 src = cmd->src + done, dst = cmd->dst + done;

	if (!cmd->value || cmd->src + cmd->value < cmd->src ||
	    cmd->dst + cmd->value < cmd->dst ||
	    !nv_ce_reach(g, cmd->src + cmd->value - 1) ||
	    !nv_ce_reach(g, cmd->dst + cmd->value - 1))
		return -EOPNOTSUPP;
	dw[0] = nv_hdr(NV_SEC_OP_INC, NV_CE_SUBCH, NV_CE_OFFSET_IN_UPPER, 4);
	dw[1] = upper_32_bits(src);
	dw[2] = lower_32_bits(src);
	dw[3] = upper_32_bits(dst);
	dw[4] = lower_32_bits(dst);
	dw[5] = nv_hdr(NV_SEC_OP_INC, NV_CE_SUBCH, NV_CE_LINE_LENGTH_IN, 2);
	dw[6] = bytes;
	dw[7] = 1;
	dw[8] = nv_hdr(NV_SEC_OP_INC, NV_CE_SUBCH, NV_CE_LAUNCH_DMA, 1);
	dw[9] = FIELD_PREP(NV_LD_DATA_TRANSFER_TYPE, NV_LD_XFER_NON_PIPELINED) |
		NV_LD_FLUSH_ENABLE | NV_LD_SRC_LAYOUT_PITCH |
		NV_LD_DST_LAYOUT_PITCH;
	return 10;
}

int ctxmig_nv_encode(const struct ctxmig_gpu *gpu,
		     const struct ctxmig_cmd *cmd, void *buf, u32 room)
{
	const struct ctxmig_nv_gen *g = gen(gpu);
	u32 dw[10], out = 0;
	u64 done = 0;
	int n;

	do {
		if (!cmd->level) {
			n = nv_encode_gp(gpu, cmd, dw);
		} else {
			switch (cmd->op) {
			case CTXMIG_OP_NOP:
				dw[0] = cmd->flags & CTXMIG_CMD_IRQ ?
					nv_hdr(NV_SEC_OP_IMMD, 0,
					       NV_HOST_NON_STALL_INTERRUPT, 0) :
					0;
				n = 1;
				break;
			case CTXMIG_OP_WRITE32:
			case CTXMIG_OP_WRITE64:
				n = nv_encode_sem(g, cmd, false, dw);
				break;
			case CTXMIG_OP_FENCE:
				n = nv_encode_sem(g, cmd, true, dw);
				break;
			case CTXMIG_OP_COPY:
				n = nv_encode_copy(g, cmd, done, dw);
				done += dw[6];
				break;
			default:
				/* Buffers are started from the GPFIFO only. */
				n = -EOPNOTSUPP;
			}
		}
		if (n < 0)
			return n;
		if (ctxmig_dw_emit(buf, room, &out, dw, n))
			return -ENOSPC;
	} while (cmd->level && cmd->op == CTXMIG_OP_COPY && done < cmd->value);
	return out * 4;
}
