// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig Intel Gen12 style model: the render engine's ring registers at
 * RENDER_RING_BASE, MI commands, and a 4-level 48-bit PPGTT whose PML4 is
 * held in PDP0.  The subset emulated, how each field maps to the IR and
 * what is approximated: Documentation/gpu/ctxmig/models/intel-gen12.rst.
 *
 * One address space (the PPGTT) translates everything the engine touches:
 * the ring, batch buffers and every command's addresses.  There is no
 * GGTT of its own: an address a command gives in the GGTT (the
 * breadcrumb's PIPE_CONTROL, xe's emit_pipe_imm_ggtt()) is translated
 * through the PPGTT too.
 */
#include <linux/bitfield.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/log2.h>

#include "ctxmig_gpu.h"
#include "ctxmig_intel_regs.h"
#include "ctxmig_model.h"

#define RCS	RENDER_RING_BASE

/* PML4 47:39, PDP 38:30 (1 GiB pages), PD 29:21 (2 MiB pages), PT 20:12. */
static const struct ctxmig_pt_level intel_gen12_levels[4] = {
	{ .shift = 39, .bits = 9, .entry_size = 8, .nsubs = 1,
	  .child = { 1, -1 } },
	{ .shift = 30, .bits = 9, .entry_size = 8, .nsubs = 1, .leaf = true,
	  .child = { 2, -1 } },
	{ .shift = 21, .bits = 9, .entry_size = 8, .nsubs = 1, .leaf = true,
	  .child = { 3, -1 } },
	{ .shift = 12, .bits = 9, .entry_size = 8, .nsubs = 1, .leaf = true,
	  .child = { -1, -1 } },
};

static void intel_reset(struct ctxmig_gpu *gpu)
{
	/*
	 * All registers read 0 after reset: a 4 KiB ring that is not valid,
	 * PDP0 zero so paging is off.
	 */
}

static void intel_ring_get(struct ctxmig_gpu *gpu, u32 engine,
			   struct ctxmig_ring *ring)
{
	u32 ctl = *ctxmig_reg(gpu, RING_CTL(RCS));
	u32 size = (ctl & RING_NR_PAGES) + 4096;

	memset(ring, 0, sizeof(*ring));
	ring->engine = engine;
	/* A size that is not a power of two reads as the one below it. */
	ring->size = 1U << ilog2(size);
	ring->base = (u64)(*ctxmig_reg(gpu, RING_START_UDW(RCS)) &
			   CTXMIG_INTEL_ADDR_HI) << 32 |
		     (*ctxmig_reg(gpu, RING_START(RCS)) &
		      CTXMIG_INTEL_RING_START);
	/* The wrap count in HEAD 31:21 is ignored. */
	ring->head = *ctxmig_reg(gpu, RING_HEAD(RCS)) & HEAD_ADDR &
		     (ring->size - 1);
	ring->tail = *ctxmig_reg(gpu, RING_TAIL(RCS)) &
		     CTXMIG_INTEL_TAIL_ADDR & (ring->size - 1);
	if (ctl & RING_VALID)
		ring->flags |= CTXMIG_RING_ENABLED;
}

static int intel_ring_set(struct ctxmig_gpu *gpu, u32 engine,
			  const struct ctxmig_ring *ring)
{
	const struct ctxmig_model *m = gpu->model;

	if (!is_power_of_2(ring->size) || ring->size < m->ring_min ||
	    ring->size > m->ring_max || !IS_ALIGNED(ring->base, m->ring_align) ||
	    ring->base >> 48 || ring->head >= ring->size ||
	    ring->tail >= ring->size || (ring->head | ring->tail) & 3)
		return -EINVAL;
	*ctxmig_reg(gpu, RING_START(RCS)) = lower_32_bits(ring->base);
	*ctxmig_reg(gpu, RING_START_UDW(RCS)) = upper_32_bits(ring->base);
	*ctxmig_reg(gpu, RING_CTL(RCS)) = RING_CTL_SIZE(ring->size) |
		(ring->flags & CTXMIG_RING_ENABLED ? RING_VALID : 0);
	*ctxmig_reg(gpu, RING_HEAD(RCS)) = ring->head;
	*ctxmig_reg(gpu, RING_TAIL(RCS)) = ring->tail;
	return 0;
}

static void intel_set_head(struct ctxmig_gpu *gpu, u32 engine, u32 head)
{
	*ctxmig_reg(gpu, RING_HEAD(RCS)) = head & HEAD_ADDR;
}

static u64 intel_pt_root(struct ctxmig_gpu *gpu)
{
	u64 pdp0 = (u64)*ctxmig_reg(gpu, GEN8_RING_PDP_UDW(RCS, 0)) << 32 |
		   *ctxmig_reg(gpu, GEN8_RING_PDP_LDW(RCS, 0));

	/* Paging is on while PDP0 (the PML4's address) is not zero. */
	return pdp0 ? pdp0 & CTXMIG_INTEL_PTE_ADDR : U64_MAX;
}

static void intel_set_pt_root(struct ctxmig_gpu *gpu, u64 root)
{
	u64 pdp0 = root == U64_MAX ? 0 : root & CTXMIG_INTEL_PTE_ADDR;

	*ctxmig_reg(gpu, GEN8_RING_PDP_LDW(RCS, 0)) = lower_32_bits(pdp0);
	*ctxmig_reg(gpu, GEN8_RING_PDP_UDW(RCS, 0)) = upper_32_bits(pdp0);
}

static const u8 intel_pat_to_cache[8] = {
	[CTXMIG_INTEL_PAT_WB] = CTXMIG_CACHE_CACHED,
	[CTXMIG_INTEL_PAT_WC] = CTXMIG_CACHE_WC,
	[CTXMIG_INTEL_PAT_WT] = CTXMIG_CACHE_CACHED,
	[CTXMIG_INTEL_PAT_UC] = CTXMIG_CACHE_UNCACHED,
	[CTXMIG_INTEL_PAT_DEFAULT] = CTXMIG_CACHE_DEFAULT,
	[5] = CTXMIG_CACHE_CACHED,
	[6] = CTXMIG_CACHE_CACHED,
	[7] = CTXMIG_CACHE_CACHED,
};

static const u8 intel_cache_to_pat[CTXMIG_CACHE_MAX + 1] = {
	[CTXMIG_CACHE_DEFAULT] = CTXMIG_INTEL_PAT_DEFAULT,
	[CTXMIG_CACHE_UNCACHED] = CTXMIG_INTEL_PAT_UC,
	[CTXMIG_CACHE_WC] = CTXMIG_INTEL_PAT_WC,
	[CTXMIG_CACHE_CACHED] = CTXMIG_INTEL_PAT_WB,
};

/* PAT2 is bit 7 in a 4 KiB PTE; bit 7 is PS in a PDE or PDPE. */
static u64 intel_pat2(u32 level)
{
	return level == 3 ? GEN12_PPGTT_PTE_PAT2 : XE_PPGTT_PDE_PDPE_PAT2;
}

static void intel_pte_decode(const struct ctxmig_gpu *gpu, u32 level, u32 sub,
			     const u64 *raw, struct ctxmig_pte *pte)
{
	u64 e = raw[0];
	u32 pat;
	bool leaf;

	memset(pte, 0, sizeof(*pte));
	if (!(e & GEN8_PAGE_PRESENT) || level > 3)
		return;
	leaf = level == 3 ||
	       ((level == 1 || level == 2) && (e & GEN8_PDE_PS_2M));
	if (!leaf) {
		/* 64 KiB page tables are not emulated: not present. */
		if (level == 2 && (e & GEN8_PDE_IPS_64K))
			return;
		pte->kind = CTXMIG_PTE_TABLE;
		pte->addr = e & CTXMIG_INTEL_PTE_ADDR;
		return;
	}
	pte->kind = CTXMIG_PTE_LEAF;
	pte->addr = e & GENMASK_ULL(47, gpu->model->levels[level].shift);
	/* No read or execute permission bits: a present page has both. */
	pte->flags = CTXMIG_MAP_READ | CTXMIG_MAP_EXEC;
	if (e & GEN8_PAGE_RW)
		pte->flags |= CTXMIG_MAP_WRITE;
	/* System memory is always snooped on this model. */
	if (!(e & GEN12_PPGTT_PTE_LM))
		pte->flags |= CTXMIG_MAP_SYSMEM | CTXMIG_MAP_SNOOP;
	pat = (e & GEN12_PPGTT_PTE_PAT0 ? 1 : 0) |
	      (e & GEN12_PPGTT_PTE_PAT1 ? 2 : 0) |
	      (e & intel_pat2(level) ? 4 : 0);
	pte->cache = intel_pat_to_cache[pat];
}

static int intel_pte_encode(const struct ctxmig_gpu *gpu, u32 level, u32 sub,
			    const struct ctxmig_pte *pte, u64 *raw)
{
	u64 mask, e;
	u32 pat;

	if (pte->kind == CTXMIG_PTE_INVALID) {
		raw[0] = 0;
		return 0;
	}
	if (pte->kind == CTXMIG_PTE_TABLE) {
		if (level > 2 || pte->addr & ~CTXMIG_INTEL_PTE_ADDR)
			return -EOPNOTSUPP;
		/* As gen8_pde_encode(): present, writable, PAT 0. */
		raw[0] = pte->addr | GEN8_PAGE_PRESENT | GEN8_PAGE_RW;
		return 0;
	}
	if (pte->kind != CTXMIG_PTE_LEAF || level < 1 || level > 3 ||
	    pte->cache > CTXMIG_CACHE_MAX)
		return -EOPNOTSUPP;
	mask = GENMASK_ULL(47, gpu->model->levels[level].shift);
	if (pte->addr & ~mask)
		return -EOPNOTSUPP;	/* beyond 48 bits, or misaligned */
	e = pte->addr | GEN8_PAGE_PRESENT;
	if (level != 3)
		e |= GEN8_PDE_PS_2M;	/* XE_PDPE_PS_1G at level 1 */
	if (pte->flags & CTXMIG_MAP_WRITE)
		e |= GEN8_PAGE_RW;
	if (!(pte->flags & CTXMIG_MAP_SYSMEM))
		e |= GEN12_PPGTT_PTE_LM;
	pat = intel_cache_to_pat[pte->cache];
	if (pat & 1)
		e |= GEN12_PPGTT_PTE_PAT0;
	if (pat & 2)
		e |= GEN12_PPGTT_PTE_PAT1;
	if (pat & 4)
		e |= intel_pat2(level);
	raw[0] = e;
	return 0;
}

/* A 48-bit graphics address from a low and a high dword. */
static u64 intel_addr(const void *buf, u32 i, u32 lo_mask)
{
	return (ctxmig_dw_get(buf, i) & lo_mask) |
	       (u64)(ctxmig_dw_get(buf, i + 1) & CTXMIG_INTEL_ADDR_HI) << 32;
}

static u64 intel_qword(const void *buf, u32 i)
{
	return ctxmig_dw_get(buf, i) | (u64)ctxmig_dw_get(buf, i + 1) << 32;
}

static int decode_sdi(u32 h, const void *buf, u32 len, struct ctxmig_cmd *cmd)
{
	u32 n = FIELD_GET(MI_SDI_LEN_DW, h) + 2;
	u32 lo;

	if (n != 4 && n != 5)
		return -EOPNOTSUPP;	/* longer bursts are not in the subset */
	if (n == 4 && (h & MI_SDI_STORE_QWORD))
		return -EINVAL;
	if (n * 4 > len)
		return -ENODATA;
	/* MI_USE_GGTT: the GGTT is the PPGTT here. */
	lo = ctxmig_dw_get(buf, 1);
	if (lo & 3 || ((h & MI_SDI_STORE_QWORD) && (lo & 7)))
		return -EINVAL;
	cmd->dst = intel_addr(buf, 1, U32_MAX);
	if (n == 4) {
		cmd->op = CTXMIG_OP_WRITE32;
		cmd->value = ctxmig_dw_get(buf, 3);
	} else {
		/* A qword store, or a burst of two dwords: the same bytes. */
		cmd->op = CTXMIG_OP_WRITE64;
		cmd->value = intel_qword(buf, 3);
	}
	return n * 4;
}

/*
 * A flush's interrupt: its own notify bit, or the MI_USER_INTERRUPT right
 * after it (i915's and xe's breadcrumbs), which then belongs to it.
 * Returns the dwords the command takes.
 */
static u32 take_interrupt(bool notify, const void *buf, u32 len, u32 n,
			  struct ctxmig_cmd *cmd)
{
	if (notify) {
		cmd->flags |= CTXMIG_CMD_IRQ;
	} else if (len >= (n + 1) * 4 &&
		   ctxmig_dw_get(buf, n) == MI_USER_INTERRUPT) {
		cmd->flags |= CTXMIG_CMD_IRQ;
		n++;
	}
	return n;
}

static int decode_flush_dw(u32 h, const void *buf, u32 len,
			   struct ctxmig_cmd *cmd)
{
	u32 n = FIELD_GET(MI_FLUSH_DW_LEN_DW, h) + 2;
	u32 op = FIELD_GET(MI_FLUSH_DW_OP_MASK, h);

	switch (op) {
	case MI_FLUSH_DW_OP_NONE:
		if (n < 3 || n > 5)
			return -EINVAL;
		cmd->op = CTXMIG_OP_NOP;
		break;
	case MI_FLUSH_DW_OP_STORE:
		if (n != 4 && n != 5)
			return -EINVAL;
		cmd->op = CTXMIG_OP_FENCE;
		break;
	case MI_FLUSH_DW_OP_TIMESTAMP:
		return -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
	if (n * 4 > len)
		return -ENODATA;
	if (cmd->op == CTXMIG_OP_FENCE) {
		if (h & MI_FLUSH_DW_STORE_INDEX)
			return -EOPNOTSUPP;	/* the status page */
		/* MI_FLUSH_DW_USE_GTT: the GGTT is the PPGTT here. */
		cmd->dst = intel_addr(buf, 1, GENMASK(31, 3));
		if (n == 4) {
			cmd->value = ctxmig_dw_get(buf, 3);
		} else {
			cmd->value = intel_qword(buf, 3);
			cmd->flags |= CTXMIG_CMD_FENCE64;
		}
	}
	return take_interrupt(h & MI_FLUSH_DW_NOTIFY, buf, len, n, cmd) * 4;
}

/*
 * PIPE_CONTROL, six dwords from Gen8 on: the flags in DW1 (flushes and
 * invalidations done at once here), a post-sync write of the qword in
 * DW4/DW5 at the address in DW2/DW3.  The RCS breadcrumb of i915
 * (gen12_emit_ggtt_write_rcs()) and xe (emit_pipe_imm_ggtt()), a GGTT
 * address followed by MI_USER_INTERRUPT, is one FENCE + IRQ; a
 * PIPE_CONTROL without post-sync is a flush, a NOP.
 */
static int decode_pipe_control(u32 h, const void *buf, u32 len,
			       struct ctxmig_cmd *cmd)
{
	u32 n = FIELD_GET(XE_INSTR_LEN_MASK, h) + 2;
	u32 flags, lo;

	if (n != 6)
		return -EINVAL;
	if (len < n * 4)
		return -ENODATA;
	flags = ctxmig_dw_get(buf, 1);
	if (flags & (PIPE_CONTROL_STORE_DATA_INDEX | PIPE_CONTROL_MMIO_WRITE))
		return -EOPNOTSUPP;	/* the status page, a register */
	switch (FIELD_GET(PIPE_CONTROL_POST_SYNC_OP_MASK, flags)) {
	case PIPE_CONTROL_POST_SYNC_NONE:
		cmd->op = CTXMIG_OP_NOP;
		break;
	case PIPE_CONTROL_POST_SYNC_QW:
		/* PIPE_CONTROL_GLOBAL_GTT_IVB: the GGTT is the PPGTT here. */
		lo = ctxmig_dw_get(buf, 2);
		if (lo & 7)
			return -EINVAL;	/* a qword write */
		cmd->op = CTXMIG_OP_FENCE;
		cmd->flags |= CTXMIG_CMD_FENCE64;
		cmd->dst = intel_addr(buf, 2, U32_MAX);
		cmd->value = intel_qword(buf, 4);
		break;
	default:
		return -EOPNOTSUPP;	/* depth count, timestamp */
	}
	return take_interrupt(flags & PIPE_CONTROL_NOTIFY, buf, len, n, cmd) *
	       4;
}

static int decode_copy_mem_mem(u32 h, const void *buf, u32 len,
			       struct ctxmig_cmd *cmd)
{
	if (FIELD_GET(XE_INSTR_LEN_MASK, h) != FIELD_GET(XE_INSTR_LEN_MASK,
							 MI_COPY_MEM_MEM))
		return -EINVAL;
	if (len < 20)
		return -ENODATA;
	/* MI_COPY_MEM_MEM_*_GGTT: the GGTT is the PPGTT here. */
	if ((ctxmig_dw_get(buf, 1) | ctxmig_dw_get(buf, 3)) & 3)
		return -EINVAL;
	cmd->op = CTXMIG_OP_COPY;
	cmd->dst = intel_addr(buf, 1, U32_MAX);
	cmd->src = intel_addr(buf, 3, U32_MAX);
	cmd->value = 4;
	return 20;
}

/*
 * Dwords of the command at @h for a batch's parse, as i915's command
 * parser steps over commands (i915_cmd_parser.c, find_cmd() with
 * gen7_render_get_cmd_length_mask() and gen9_blt_get_cmd_length_mask()):
 * MI commands below opcode 0x10 are one dword, the others' length is in
 * 5:0; render commands' in 7:0 (15:0 for media); blitter commands' in
 * 7:0; lengths count from 2.  0 for a client the parser does not know.
 */
static u32 intel_cmd_dwords(u32 h)
{
	switch (FIELD_GET(XE_INSTR_CMD_TYPE, h)) {
	case XE_INSTR_MI:
		if (FIELD_GET(MI_OPCODE, h) < CTXMIG_INTEL_MI_ONE_DWORD)
			return 1;
		return (h & 0x3f) + 2;
	case XE_INSTR_GFXPIPE:
		if (FIELD_GET(INSTR_SUBCLIENT_MASK, h) == INSTR_MEDIA_SUBCLIENT)
			return (h & 0xffff) + 2;
		return (h & 0xff) + 2;
	case XE_INSTR_GSC:
		return (h & 0xff) + 2;
	default:
		return 0;
	}
}

/*
 * The bytes of the batch at @va, up to and including its
 * MI_BATCH_BUFFER_END: what hardware executes of it.  Found as
 * intel_engine_cmd_parser() finds it, stepping over whole commands, no
 * further than CTXMIG_INTEL_BATCH_MAX: a batch without its end within
 * that, or with a command the parser does not know, is -EINVAL.
 */
static int intel_batch_len(struct ctxmig_gpu *gpu, u64 va, u64 *bytes)
{
	u32 chunk[64], have = 0, at = 0;
	u64 off = 0;	/* of chunk[0] in the batch */
	int ret;

	for (;;) {
		u32 h, n;

		if (at >= have) {
			/* Refill from the next command on, within its page. */
			off += at * 4;
			if (off >= CTXMIG_INTEL_BATCH_MAX)
				return -EINVAL;
			have = min_t(u64, ARRAY_SIZE(chunk),
				     (CTXMIG_INTEL_BATCH_MAX - off) / 4);
			have = min_t(u32, have, (CTXMIG_VRAM_PAGE_SIZE -
					((va + off) &
					 (CTXMIG_VRAM_PAGE_SIZE - 1))) / 4);
			ret = ctxmig_gpu_access(gpu, va + off, chunk, have * 4,
						false);
			if (ret)
				return ret;
			at = 0;
		}
		h = ctxmig_dw_get(chunk, at);
		if (h == MI_BATCH_BUFFER_END) {
			*bytes = off + (at + 1) * 4;
			return 0;
		}
		n = intel_cmd_dwords(h);
		if (!n)
			return -EINVAL;
		at += n;
	}
}

/*
 * MI_BATCH_BUFFER_START as the Gen8+ drivers write it, three dwords (xe's
 * emit_bb_start(), i915's gen8_emit_bb_start()): a batch of the length
 * its MI_BATCH_BUFFER_END gives.  Whether the address is in the PPGTT
 * (bit 8) or the GGTT, it is translated through the PPGTT here.
 */
static int decode_bb_start(struct ctxmig_gpu *gpu, u32 h, const void *buf,
			   u32 len, struct ctxmig_cmd *cmd)
{
	int ret;

	if (FIELD_GET(XE_INSTR_LEN_MASK, h) != 1)
		return -EINVAL;
	if (len < 12)
		return -ENODATA;
	cmd->op = CTXMIG_OP_IB;
	cmd->src = intel_addr(buf, 1, GENMASK(31, 2));
	ret = intel_batch_len(gpu, cmd->src, &cmd->value);
	return ret ?: 12;
}

static int decode_mi(struct ctxmig_gpu *gpu, u32 h, const void *buf, u32 len,
		     struct ctxmig_cmd *cmd)
{
	switch (h & MI_OPCODE) {
	case MI_NOOP:
		/* An identification number write (bit 22) changes nothing. */
		cmd->op = CTXMIG_OP_NOP;
		return 4;
	case MI_USER_INTERRUPT:
		cmd->op = CTXMIG_OP_NOP;
		cmd->flags |= CTXMIG_CMD_IRQ;
		return 4;
	case MI_ARB_CHECK:
	case MI_ARB_ON_OFF:
	case MI_BATCH_BUFFER_END:
		/* No preemption; a batch ends at its length. */
		cmd->op = CTXMIG_OP_NOP;
		return 4;
	case MI_STORE_DATA_IMM:
		return decode_sdi(h, buf, len, cmd);
	case MI_FLUSH_DW:
		return decode_flush_dw(h, buf, len, cmd);
	case MI_COPY_MEM_MEM & MI_OPCODE:
		return decode_copy_mem_mem(h, buf, len, cmd);
	case MI_BATCH_BUFFER_START:
		return decode_bb_start(gpu, h, buf, len, cmd);
	default:
		return -EOPNOTSUPP;
	}
}

static int decode_mem_copy(u32 h, const void *buf, u32 len,
			   struct ctxmig_cmd *cmd)
{
	u32 width;

	if (FIELD_GET(XE_INSTR_LEN_MASK, h) != MEM_COPY_CMD_LEN_DW - 2)
		return -EINVAL;
	if (len < MEM_COPY_CMD_LEN_DW * 4)
		return -ENODATA;
	if (h & (MEM_COPY_PAGE_COPY_MODE | MEM_COPY_MATRIX_COPY))
		return -EOPNOTSUPP;	/* page and matrix copies */
	width = ctxmig_dw_get(buf, 1);
	if (width & ~CTXMIG_INTEL_MEM_COPY_WIDTH ||
	    width >= CTXMIG_INTEL_MEM_COPY_MAX)
		return -EINVAL;
	cmd->op = CTXMIG_OP_COPY;
	cmd->value = (u64)width + 1;
	cmd->src = intel_addr(buf, 5, U32_MAX);
	cmd->dst = intel_addr(buf, 7, U32_MAX);
	return MEM_COPY_CMD_LEN_DW * 4;
}

static int intel_decode(struct ctxmig_gpu *gpu, u32 engine, const void *buf,
			u32 len, u32 level, struct ctxmig_cmd *cmd)
{
	u32 h;

	if (len < 4)
		return -ENODATA;
	h = ctxmig_dw_get(buf, 0);
	if (FIELD_GET(XE_INSTR_CMD_TYPE, h) == XE_INSTR_MI)
		return decode_mi(gpu, h, buf, len, cmd);
	if ((h & MEM_COPY_CMD_MASK) == MEM_COPY_CMD)
		return decode_mem_copy(h, buf, len, cmd);
	if ((h & GFX_OP_PIPE_CONTROL_MASK) == (GFX_OP_PIPE_CONTROL(2) &
					       GFX_OP_PIPE_CONTROL_MASK))
		return decode_pipe_control(h, buf, len, cmd);
	return -EILSEQ;	/* 3D, media and other blitter commands */
}

/* Encode one native command of @cmd into @dw; returns dwords. */
static int encode_one(const struct ctxmig_cmd *cmd, u64 done, u32 *dw)
{
	u64 src = cmd->src + done, dst = cmd->dst + done;
	u32 bytes;

	switch (cmd->op) {
	case CTXMIG_OP_NOP:
		if (!(cmd->flags & CTXMIG_CMD_IRQ)) {
			dw[0] = MI_NOOP;
			return 1;
		}
		/*
		 * A flush that notifies, not MI_USER_INTERRUPT: a flush
		 * before it would take the interrupt as its own.  The Gen8+
		 * four-dword form, as gen8_emit_flush_xcs() (i915) and
		 * emit_flush_dw() (xe) write it, without a post-sync write.
		 */
		dw[0] = MI_FLUSH_DW | MI_FLUSH_IMM_DW | MI_FLUSH_DW_NOTIFY;
		dw[1] = 0;
		dw[2] = 0;
		dw[3] = 0;
		return 4;
	case CTXMIG_OP_WRITE32:
		if (cmd->dst & 3 || cmd->dst >> 48)
			return -EOPNOTSUPP;
		dw[0] = MI_STORE_DWORD_IMM_GEN4;
		dw[1] = lower_32_bits(cmd->dst);
		dw[2] = upper_32_bits(cmd->dst);
		dw[3] = lower_32_bits(cmd->value);
		return 4;
	case CTXMIG_OP_WRITE64:
		if (cmd->dst & 3 || cmd->dst >> 48)
			return -EOPNOTSUPP;
		/* A qword store where aligned, else two dwords. */
		dw[0] = cmd->dst & 7 ? MI_STORE_DATA_IMM | (5 - 2) :
			MI_STORE_QWORD_IMM_GEN8;
		dw[1] = lower_32_bits(cmd->dst);
		dw[2] = upper_32_bits(cmd->dst);
		dw[3] = lower_32_bits(cmd->value);
		dw[4] = upper_32_bits(cmd->value);
		return 5;
	case CTXMIG_OP_FENCE:
		/* Address bits 2:0 of MI_FLUSH_DW are not address bits. */
		if (cmd->dst & 7 || cmd->dst >> 48)
			return -EOPNOTSUPP;
		dw[0] = MI_FLUSH_DW | MI_FLUSH_DW_OP_STOREDW |
			(cmd->flags & CTXMIG_CMD_FENCE64 ? MI_FLUSH_IMM_QW :
			 MI_FLUSH_IMM_DW) |
			(cmd->flags & CTXMIG_CMD_IRQ ? MI_FLUSH_DW_NOTIFY : 0);
		dw[1] = lower_32_bits(cmd->dst);
		dw[2] = upper_32_bits(cmd->dst);
		dw[3] = lower_32_bits(cmd->value);
		if (!(cmd->flags & CTXMIG_CMD_FENCE64))
			return 4;
		dw[4] = upper_32_bits(cmd->value);
		return 5;
	case CTXMIG_OP_COPY:
		if (!cmd->value || (cmd->src + cmd->value - 1) >> 48 ||
		    (cmd->dst + cmd->value - 1) >> 48 ||
		    cmd->src + cmd->value < cmd->src ||
		    cmd->dst + cmd->value < cmd->dst)
			return -EOPNOTSUPP;
		if (cmd->value == 4 && !((cmd->src | cmd->dst) & 3)) {
			dw[0] = MI_COPY_MEM_MEM;
			dw[1] = lower_32_bits(cmd->dst);
			dw[2] = upper_32_bits(cmd->dst);
			dw[3] = lower_32_bits(cmd->src);
			dw[4] = upper_32_bits(cmd->src);
			return 5;
		}
		bytes = min_t(u64, cmd->value - done,
			      CTXMIG_INTEL_MEM_COPY_MAX);
		dw[0] = MEM_COPY_CMD | (MEM_COPY_CMD_LEN_DW - 2);
		dw[1] = bytes - 1;
		dw[2] = 0;
		dw[3] = 0;
		dw[4] = 0;
		dw[5] = lower_32_bits(src);
		dw[6] = upper_32_bits(src);
		dw[7] = lower_32_bits(dst);
		dw[8] = upper_32_bits(dst);
		dw[9] = 0;
		return MEM_COPY_CMD_LEN_DW;
	case CTXMIG_OP_IB:
		/* The batch ends with its MI_BATCH_BUFFER_END: encode_end. */
		if (cmd->dst || !cmd->value || !IS_ALIGNED(cmd->value, 4) ||
		    cmd->value > CTXMIG_INTEL_BATCH_MAX ||
		    cmd->src & 3 || cmd->src >> 48)
			return -EOPNOTSUPP;
		dw[0] = MI_BATCH_BUFFER_START_GEN8 | MI_BATCH_PPGTT_HSW;
		dw[1] = lower_32_bits(cmd->src);
		dw[2] = upper_32_bits(cmd->src);
		return 3;
	default:
		return -EOPNOTSUPP;
	}
}

static int intel_encode(const struct ctxmig_gpu *gpu,
			const struct ctxmig_cmd *cmd, void *buf, u32 room)
{
	u32 dw[MEM_COPY_CMD_LEN_DW], out = 0;
	u64 done = 0;
	int n;

	do {
		n = encode_one(cmd, done, dw);
		if (n < 0)
			return n;
		if (ctxmig_dw_emit(buf, room, &out, dw, n))
			return -ENOSPC;
		if (cmd->op == CTXMIG_OP_COPY)
			done += n == MEM_COPY_CMD_LEN_DW ? dw[1] + 1 : 4;
	} while (cmd->op == CTXMIG_OP_COPY && done < cmd->value);
	return out * 4;
}

/* A batch ends with MI_BATCH_BUFFER_END (i915_cmd_parser.c looks for it). */
static int intel_encode_end(const struct ctxmig_gpu *gpu, void *buf, u32 room)
{
	static const u32 end = MI_BATCH_BUFFER_END;
	u32 out = 0;

	return ctxmig_dw_emit(buf, room, &out, &end, 1) ?: 4;
}

const struct ctxmig_model ctxmig_intel_gen12_model = {
	.id = CTXMIG_MODEL_INTEL_GEN12,
	.name = "intel-gen12",
	.desc = "Intel Gen12 style: MI commands, RCS ring, 4-level PPGTT",
	.features = CTXMIG_FEAT_ALL,
	.va_bits = 48,
	.mmio_size = CTXMIG_PCI_BAR0_SIZE,
	.ring_align = 4096,
	.ring_min = 4096,
	.ring_max = 2 << 20,
	.ring_slot = 4,
	.ring_ib_only = false,
	.ib_levels = 2,
	.cmd_format = CTXMIG_CMDFMT_MI,
	.levels = intel_gen12_levels,
	.nlevels = ARRAY_SIZE(intel_gen12_levels),
	.reset = intel_reset,
	.ring_get = intel_ring_get,
	.ring_set = intel_ring_set,
	.set_head = intel_set_head,
	.pt_root = intel_pt_root,
	.set_pt_root = intel_set_pt_root,
	.pte_decode = intel_pte_decode,
	.pte_encode = intel_pte_encode,
	.decode = intel_decode,
	.encode = intel_encode,
	.encode_end = intel_encode_end,
};
