// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig AMD family: PM4 type-3 packets, the CP_RB0 ring and GPUVM page
 * tables, shared by the GFX9 and GFX12 style models.  The subset emulated
 * and how each field maps to the IR: Documentation/gpu/ctxmig/models.rst.
 *
 * One VM context (VMID 0) translates everything the command processor
 * touches: the ring, indirect buffers and every packet's addresses.
 */
#include <linux/bitfield.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/log2.h>

#include "ctxmig_amd.h"
#include "ctxmig_gpu.h"

#define AMD_PTE_VALID		BIT_ULL(0)
#define AMD_PTE_SYSTEM		BIT_ULL(1)
#define AMD_PTE_SNOOPED		BIT_ULL(2)
#define AMD_PTE_EXECUTABLE	BIT_ULL(4)
#define AMD_PTE_READABLE	BIT_ULL(5)
#define AMD_PTE_WRITEABLE	BIT_ULL(6)
#define AMD_PTE_ADDR		GENMASK_ULL(47, 12)
#define AMD_MTYPE_NC		0
#define AMD_MTYPE_WC		1
#define AMD_MTYPE_CC		2
#define AMD_MTYPE_UC		3

/* VM_CONTEXT0_CNTL: ENABLE_CONTEXT, PAGE_TABLE_DEPTH (levels - 1). */
#define AMD_VM_ENABLE		BIT(0)
#define AMD_VM_DEPTH		GENMASK(2, 1)

/* GPUVM with 48-bit VA and 4 KiB pages: PDB2, PDB1, PDB0, PTB. */
const struct ctxmig_pt_level ctxmig_amd_levels[4] = {
	{ .shift = 39, .bits = 9, .entry_size = 8, .nsubs = 1,
	  .child = { 1, -1 } },
	{ .shift = 30, .bits = 9, .entry_size = 8, .nsubs = 1,
	  .child = { 2, -1 } },
	/* A PDB0 entry with the PDE-as-PTE bit maps 2 MiB. */
	{ .shift = 21, .bits = 9, .entry_size = 8, .nsubs = 1, .leaf = true,
	  .child = { 3, -1 } },
	{ .shift = 12, .bits = 9, .entry_size = 8, .nsubs = 1, .leaf = true,
	  .child = { -1, -1 } },
};

static const struct ctxmig_amd_gen *gen(const struct ctxmig_gpu *gpu)
{
	return gpu->model->data;
}

void ctxmig_amd_reset(struct ctxmig_gpu *gpu)
{
	/* Ring of 4 KiB (RB_BUFSZ = log2(4096 / 8)), inactive, paging off. */
	*ctxmig_reg(gpu, gen(gpu)->rb0_cntl) = FIELD_PREP(AMD_RB_BUFSZ, 9);
}

void ctxmig_amd_ring_get(struct ctxmig_gpu *gpu, u32 engine,
			 struct ctxmig_ring *ring)
{
	const struct ctxmig_amd_gen *g = gen(gpu);
	u32 bufsz = FIELD_GET(AMD_RB_BUFSZ, *ctxmig_reg(gpu, g->rb0_cntl));

	memset(ring, 0, sizeof(*ring));
	ring->engine = engine;
	/* RB_BUFSZ beyond the largest ring reads as the largest ring. */
	ring->size = 8U << min_t(u32, bufsz, ilog2(gpu->model->ring_max) - 3);
	ring->base = ((u64)*ctxmig_reg(gpu, g->rb0_base_hi) << 32 |
		      *ctxmig_reg(gpu, g->rb0_base)) << 8;
	ring->head = (*ctxmig_reg(gpu, g->rb0_rptr) * 4) & (ring->size - 1);
	ring->tail = (*ctxmig_reg(gpu, g->rb0_wptr) * 4) & (ring->size - 1);
	if (*ctxmig_reg(gpu, g->rb0_active) & 1)
		ring->flags |= CTXMIG_RING_ENABLED;
}

int ctxmig_amd_ring_set(struct ctxmig_gpu *gpu, u32 engine,
			const struct ctxmig_ring *ring)
{
	const struct ctxmig_amd_gen *g = gen(gpu);
	const struct ctxmig_model *m = gpu->model;

	if (!is_power_of_2(ring->size) || ring->size < m->ring_min ||
	    ring->size > m->ring_max || !IS_ALIGNED(ring->base, m->ring_align))
		return -EINVAL;
	*ctxmig_reg(gpu, g->rb0_base) = lower_32_bits(ring->base >> 8);
	*ctxmig_reg(gpu, g->rb0_base_hi) = upper_32_bits(ring->base >> 8);
	*ctxmig_reg(gpu, g->rb0_cntl) =
		FIELD_PREP(AMD_RB_BUFSZ, ilog2(ring->size / 8)) |
		FIELD_PREP(AMD_RB_BLKSZ, ilog2(ring->size / 8) - 2);
	*ctxmig_reg(gpu, g->rb0_rptr) = ring->head / 4;
	*ctxmig_reg(gpu, g->rb0_wptr) = ring->tail / 4;
	*ctxmig_reg(gpu, g->rb0_wptr_hi) = 0;
	*ctxmig_reg(gpu, g->rb0_active) =
		!!(ring->flags & CTXMIG_RING_ENABLED);
	return 0;
}

void ctxmig_amd_set_head(struct ctxmig_gpu *gpu, u32 engine, u32 head)
{
	*ctxmig_reg(gpu, gen(gpu)->rb0_rptr) = head / 4;
}

u64 ctxmig_amd_pt_root(struct ctxmig_gpu *gpu)
{
	const struct ctxmig_amd_gen *g = gen(gpu);
	u64 base = (u64)*ctxmig_reg(gpu, g->vm_pt_base_hi) << 32 |
		   *ctxmig_reg(gpu, g->vm_pt_base_lo);

	if (!(*ctxmig_reg(gpu, g->vm_cntl) & AMD_VM_ENABLE) ||
	    !(base & AMD_PTE_VALID))
		return U64_MAX;
	return base & AMD_PTE_ADDR;
}

void ctxmig_amd_set_pt_root(struct ctxmig_gpu *gpu, u64 root)
{
	const struct ctxmig_amd_gen *g = gen(gpu);
	u64 base = (root & AMD_PTE_ADDR) | AMD_PTE_VALID;

	*ctxmig_reg(gpu, g->vm_pt_base_lo) = lower_32_bits(base);
	*ctxmig_reg(gpu, g->vm_pt_base_hi) = upper_32_bits(base);
	*ctxmig_reg(gpu, g->vm_cntl) = AMD_VM_ENABLE |
				       FIELD_PREP(AMD_VM_DEPTH, 3);
}

static const u8 amd_mtype_to_cache[4] = {
	[AMD_MTYPE_NC] = CTXMIG_CACHE_DEFAULT,
	[AMD_MTYPE_WC] = CTXMIG_CACHE_WC,
	[AMD_MTYPE_CC] = CTXMIG_CACHE_CACHED,
	[AMD_MTYPE_UC] = CTXMIG_CACHE_UNCACHED,
};

static const u8 amd_cache_to_mtype[CTXMIG_CACHE_MAX + 1] = {
	[CTXMIG_CACHE_DEFAULT] = AMD_MTYPE_NC,
	[CTXMIG_CACHE_UNCACHED] = AMD_MTYPE_UC,
	[CTXMIG_CACHE_WC] = AMD_MTYPE_WC,
	[CTXMIG_CACHE_CACHED] = AMD_MTYPE_CC,
};

void ctxmig_amd_pte_decode(const struct ctxmig_gpu *gpu, u32 level, u32 sub,
			   const u64 *raw, struct ctxmig_pte *pte)
{
	const struct ctxmig_amd_gen *g = gen(gpu);
	u64 e = raw[0];
	bool leaf;

	memset(pte, 0, sizeof(*pte));
	if (!(e & AMD_PTE_VALID))
		return;
	leaf = level == 3 || (level == 2 && (e & g->pde_pte));
	pte->kind = leaf ? CTXMIG_PTE_LEAF : CTXMIG_PTE_TABLE;
	pte->addr = e & AMD_PTE_ADDR;
	if (e & AMD_PTE_SYSTEM)
		pte->flags |= CTXMIG_MAP_SYSMEM;
	if (!leaf)
		return;
	if (e & AMD_PTE_READABLE)
		pte->flags |= CTXMIG_MAP_READ;
	if (e & AMD_PTE_WRITEABLE)
		pte->flags |= CTXMIG_MAP_WRITE;
	if (e & AMD_PTE_EXECUTABLE)
		pte->flags |= CTXMIG_MAP_EXEC;
	if (e & AMD_PTE_SNOOPED)
		pte->flags |= CTXMIG_MAP_SNOOP;
	pte->cache = amd_mtype_to_cache[(e >> g->mtype_shift) & 3];
}

int ctxmig_amd_pte_encode(const struct ctxmig_gpu *gpu, u32 level, u32 sub,
			  const struct ctxmig_pte *pte, u64 *raw)
{
	const struct ctxmig_amd_gen *g = gen(gpu);
	u64 e;

	if (pte->addr & ~AMD_PTE_ADDR)
		return -EOPNOTSUPP;	/* beyond 48 bits, or misaligned */
	if (pte->kind == CTXMIG_PTE_INVALID) {
		raw[0] = 0;
		return 0;
	}
	e = pte->addr | AMD_PTE_VALID;
	if (pte->kind == CTXMIG_PTE_TABLE) {
		raw[0] = e;
		return 0;
	}
	if (level == 2)
		e |= g->pde_pte;
	else if (level != 3)
		return -EOPNOTSUPP;
	if (pte->flags & CTXMIG_MAP_SYSMEM)
		e |= AMD_PTE_SYSTEM;
	if (pte->flags & CTXMIG_MAP_READ)
		e |= AMD_PTE_READABLE;
	if (pte->flags & CTXMIG_MAP_WRITE)
		e |= AMD_PTE_WRITEABLE;
	if (pte->flags & CTXMIG_MAP_EXEC)
		e |= AMD_PTE_EXECUTABLE;
	if (pte->flags & CTXMIG_MAP_SNOOP)
		e |= AMD_PTE_SNOOPED;
	if (pte->cache > CTXMIG_CACHE_MAX)
		return -EOPNOTSUPP;
	e |= (u64)amd_cache_to_mtype[pte->cache] << g->mtype_shift;
	raw[0] = e;
	return 0;
}

static u32 pkt3(u32 opcode, u32 count)
{
	return FIELD_PREP(AMD_PM4_TYPE, 3) | FIELD_PREP(AMD_PM4_COUNT, count) |
	       FIELD_PREP(AMD_PM4_OPCODE, opcode);
}

static u64 addr64(const void *buf, u32 i)
{
	return ctxmig_dw_get(buf, i) | (u64)ctxmig_dw_get(buf, i + 1) << 32;
}

/*
 * A register write from the ring: emit_vm_flush() writes the VM context's
 * page table base (gmc_v9_0_emit_flush_gpu_tlb(),
 * gmc_v12_0_emit_flush_gpu_tlb(), through gfx_v9_0_ring_emit_wreg() and
 * gfx_v12_0_ring_emit_wreg()).  Writing the base it already holds (a TLB
 * flush of the current page tables) is a NOP here: there is no TLB.  A
 * write that would switch the page tables, or to any other register, is
 * not in the subset: the IR carries one address space per device.
 */
static int decode_write_reg(struct ctxmig_gpu *gpu, const void *buf, u32 count,
			    struct ctxmig_cmd *cmd)
{
	const struct ctxmig_amd_gen *g = gen(gpu);
	u32 reg = ctxmig_dw_get(buf, 2) * 4;

	if (count != 3 || ctxmig_dw_get(buf, 3))
		return -EOPNOTSUPP;
	if ((reg != g->vm_pt_base_lo && reg != g->vm_pt_base_hi) ||
	    ctxmig_dw_get(buf, 4) != *ctxmig_reg(gpu, reg))
		return -EOPNOTSUPP;
	cmd->op = CTXMIG_OP_NOP;
	return 0;
}

static int decode_write_data(struct ctxmig_gpu *gpu, const void *buf,
			     u32 count, struct ctxmig_cmd *cmd)
{
	u32 ctrl = ctxmig_dw_get(buf, 1);
	u32 sel = FIELD_GET(AMD_WD_DST_SEL, ctrl);

	if (count < 3)
		return -EINVAL;
	if (sel == AMD_WD_DST_REG)
		return decode_write_reg(gpu, buf, count, cmd);
	if (sel != AMD_WD_DST_MEM_SYNC && sel != AMD_WD_DST_TC_L2 &&
	    sel != AMD_WD_DST_MEM_ASYNC)
		return -EOPNOTSUPP;	/* GDS writes */
	cmd->dst = addr64(buf, 2);
	if (cmd->dst & 3)
		return -EINVAL;
	if (count == 3) {
		cmd->op = CTXMIG_OP_WRITE32;
		cmd->value = ctxmig_dw_get(buf, 4);
	} else if (count == 4 && !(ctrl & AMD_WD_WR_ONE_ADDR)) {
		cmd->op = CTXMIG_OP_WRITE64;
		cmd->value = addr64(buf, 4);
	} else {
		return -EOPNOTSUPP;	/* longer bursts are not in the subset */
	}
	return 0;
}

static int decode_release_mem(const void *buf, u32 count,
			      struct ctxmig_cmd *cmd)
{
	u32 dw2 = ctxmig_dw_get(buf, 2);

	if (count != 6)
		return -EINVAL;
	if (FIELD_GET(AMD_RM_INT_SEL, dw2))
		cmd->flags |= CTXMIG_CMD_IRQ;
	switch (FIELD_GET(AMD_RM_DATA_SEL, dw2)) {
	case AMD_RM_DATA_NONE:
		cmd->op = CTXMIG_OP_NOP;
		return 0;
	case AMD_RM_DATA_32:
		cmd->value = ctxmig_dw_get(buf, 5);
		break;
	case AMD_RM_DATA_64:
		cmd->flags |= CTXMIG_CMD_FENCE64;
		cmd->value = addr64(buf, 5);
		break;
	default:
		return -EOPNOTSUPP;	/* GPU clock and system counter */
	}
	cmd->op = CTXMIG_OP_FENCE;
	cmd->dst = addr64(buf, 3);
	return cmd->dst & 3 ? -EINVAL : 0;
}

/*
 * WAIT_REG_MEM, write then wait, on a VM invalidation engine's request and
 * acknowledge registers: the TLB invalidation of emit_vm_flush()
 * (gfx_v9_0_ring_emit_reg_write_reg_wait(),
 * gfx_v12_0_ring_emit_reg_write_reg_wait()).  With no TLB it completes at
 * once: a NOP.  Other waits (on memory, on other registers) are not in
 * the subset: nothing here would ever change what they wait for.
 */
static int decode_wait_reg_mem(struct ctxmig_gpu *gpu, const void *buf,
			       u32 count, struct ctxmig_cmd *cmd)
{
	const struct ctxmig_amd_gen *g = gen(gpu);
	u32 ctl = ctxmig_dw_get(buf, 1);
	u32 req = ctxmig_dw_get(buf, 2) * 4, ack = ctxmig_dw_get(buf, 3) * 4;
	u32 eng = (req - g->vm_inv_req) / 4;

	if (count != 5)
		return -EINVAL;
	if (FIELD_GET(AMD_WRM_MEM_SPACE, ctl) != AMD_WRM_SPACE_REG ||
	    FIELD_GET(AMD_WRM_OPERATION, ctl) != AMD_WRM_OP_WRITE_WAIT ||
	    FIELD_GET(AMD_WRM_FUNCTION, ctl) != AMD_WRM_FUNC_EQUAL ||
	    req < g->vm_inv_req || eng >= AMD_VM_INV_ENGS ||
	    ack != g->vm_inv_ack + eng * 4)
		return -EOPNOTSUPP;
	cmd->op = CTXMIG_OP_NOP;
	return 0;
}

/* A DMA_DATA source or destination select that names a memory address. */
static bool dma_sel_addr(u32 sel)
{
	return sel == AMD_DMA_SEL_ADDR || sel == AMD_DMA_SEL_L2;
}

static int decode_dma_data(const void *buf, u32 count, struct ctxmig_cmd *cmd)
{
	u32 dw1 = ctxmig_dw_get(buf, 1);

	if (count != 5)
		return -EINVAL;
	if (!dma_sel_addr(FIELD_GET(AMD_DMA_SRC_SEL, dw1)) ||
	    !dma_sel_addr(FIELD_GET(AMD_DMA_DST_SEL, dw1)))
		return -EOPNOTSUPP;	/* immediate data, GDS */
	cmd->op = CTXMIG_OP_COPY;
	cmd->src = addr64(buf, 2);
	cmd->dst = addr64(buf, 4);
	cmd->value = FIELD_GET(AMD_DMA_BYTE_COUNT, ctxmig_dw_get(buf, 6));
	return cmd->value ? 0 : -EINVAL;
}

static int decode_ib(const void *buf, u32 count, struct ctxmig_cmd *cmd)
{
	u32 ctl = ctxmig_dw_get(buf, 3);

	if (count != 2)
		return -EINVAL;
	cmd->op = CTXMIG_OP_IB;
	cmd->src = (ctxmig_dw_get(buf, 1) & ~3U) |
		   (u64)(ctxmig_dw_get(buf, 2) & 0xffff) << 32;
	cmd->value = (u64)FIELD_GET(AMD_IB_SIZE, ctl) * 4;
	return cmd->value ? 0 : -EINVAL;
}

int ctxmig_amd_decode(struct ctxmig_gpu *gpu, u32 engine, const void *buf,
		      u32 len, u32 level, struct ctxmig_cmd *cmd)
{
	u32 h, count, bytes;
	int ret;

	if (len < 4)
		return -ENODATA;
	h = ctxmig_dw_get(buf, 0);
	if (h == AMD_PM4_TYPE2_FILLER) {
		cmd->op = CTXMIG_OP_NOP;
		return 4;
	}
	if (FIELD_GET(AMD_PM4_TYPE, h) != 3)
		return -EILSEQ;	/* type-0/1 register packets */
	count = FIELD_GET(AMD_PM4_COUNT, h);
	if (FIELD_GET(AMD_PM4_OPCODE, h) == AMD_PKT3_NOP) {
		cmd->op = CTXMIG_OP_NOP;
		return count == AMD_PM4_NOP_ONE ? 4 : (count + 2) * 4;
	}
	bytes = (count + 2) * 4;
	if (bytes > len)
		return -ENODATA;
	switch (FIELD_GET(AMD_PM4_OPCODE, h)) {
	case AMD_PKT3_WRITE_DATA:
		ret = decode_write_data(gpu, buf, count, cmd);
		break;
	case AMD_PKT3_WAIT_REG_MEM:
		ret = decode_wait_reg_mem(gpu, buf, count, cmd);
		break;
	case AMD_PKT3_PFP_SYNC_ME:
		/* The prefetch parser waits for the micro engine: a NOP. */
		cmd->op = CTXMIG_OP_NOP;
		ret = count ? -EINVAL : 0;
		break;
	case AMD_PKT3_RELEASE_MEM:
		ret = decode_release_mem(buf, count, cmd);
		break;
	case AMD_PKT3_DMA_DATA:
		ret = decode_dma_data(buf, count, cmd);
		break;
	case AMD_PKT3_INDIRECT_BUFFER:
		ret = decode_ib(buf, count, cmd);
		break;
	default:
		ret = -EOPNOTSUPP;
	}
	return ret ?: bytes;
}

static u32 encode_release_mem(u32 *dw, const struct ctxmig_cmd *cmd,
			      u32 data_sel)
{
	dw[0] = pkt3(AMD_PKT3_RELEASE_MEM, 6);
	dw[1] = FIELD_PREP(AMD_RM_EVENT_TYPE, AMD_RM_EVENT_TS) |
		FIELD_PREP(AMD_RM_EVENT_INDEX, AMD_RM_EVENT_INDEX_EOP);
	/* With data, interrupt once it is written; without, interrupt only. */
	dw[2] = FIELD_PREP(AMD_RM_DATA_SEL, data_sel);
	if (cmd->flags & CTXMIG_CMD_IRQ)
		dw[2] |= FIELD_PREP(AMD_RM_INT_SEL,
				    data_sel == AMD_RM_DATA_NONE ?
				    AMD_RM_INT_ONLY : AMD_RM_INT_AFTER_WRITE);
	dw[3] = lower_32_bits(cmd->dst);
	dw[4] = upper_32_bits(cmd->dst);
	dw[5] = lower_32_bits(cmd->value);
	dw[6] = data_sel == AMD_RM_DATA_64 ? upper_32_bits(cmd->value) : 0;
	dw[7] = 0;
	return 8;
}

int ctxmig_amd_encode(const struct ctxmig_gpu *gpu,
		      const struct ctxmig_cmd *cmd, void *buf, u32 room)
{
	u32 dw[8], n = 0, out = 0;
	u64 done = 0;

	do {
		switch (cmd->op) {
		case CTXMIG_OP_NOP:
			if (cmd->flags & CTXMIG_CMD_IRQ) {
				/* No data, so no address: dst is 0. */
				n = encode_release_mem(dw, cmd,
						       AMD_RM_DATA_NONE);
			} else {
				dw[0] = pkt3(AMD_PKT3_NOP, AMD_PM4_NOP_ONE);
				n = 1;
			}
			break;
		case CTXMIG_OP_WRITE32:
		case CTXMIG_OP_WRITE64:
			n = cmd->op == CTXMIG_OP_WRITE32 ? 5 : 6;
			dw[0] = pkt3(AMD_PKT3_WRITE_DATA, n - 2);
			dw[1] = FIELD_PREP(AMD_WD_DST_SEL,
					   AMD_WD_DST_MEM_ASYNC) |
				AMD_WD_WR_CONFIRM;
			dw[2] = lower_32_bits(cmd->dst);
			dw[3] = upper_32_bits(cmd->dst);
			dw[4] = lower_32_bits(cmd->value);
			dw[5] = upper_32_bits(cmd->value);
			break;
		case CTXMIG_OP_FENCE:
			n = encode_release_mem(dw, cmd,
					       cmd->flags & CTXMIG_CMD_FENCE64 ?
					       AMD_RM_DATA_64 : AMD_RM_DATA_32);
			break;
		case CTXMIG_OP_COPY: {
			u32 bytes = min_t(u64, cmd->value - done,
					  gen(gpu)->dma_max);

			dw[0] = pkt3(AMD_PKT3_DMA_DATA, 5);
			dw[1] = AMD_DMA_CP_SYNC;
			dw[2] = lower_32_bits(cmd->src + done);
			dw[3] = upper_32_bits(cmd->src + done);
			dw[4] = lower_32_bits(cmd->dst + done);
			dw[5] = upper_32_bits(cmd->dst + done);
			dw[6] = bytes;
			done += bytes;
			n = 7;
			break;
		}
		case CTXMIG_OP_IB:
			if (cmd->dst || !IS_ALIGNED(cmd->value, 4) ||
			    cmd->value / 4 > FIELD_MAX(AMD_IB_SIZE) ||
			    (cmd->src >> 48) || (cmd->src & 3))
				return -EOPNOTSUPP;
			dw[0] = pkt3(AMD_PKT3_INDIRECT_BUFFER, 2);
			dw[1] = lower_32_bits(cmd->src);
			dw[2] = upper_32_bits(cmd->src);
			dw[3] = FIELD_PREP(AMD_IB_SIZE, cmd->value / 4) |
				AMD_IB_VALID;
			n = 4;
			break;
		default:
			return -EOPNOTSUPP;
		}
		if (ctxmig_dw_emit(buf, room, &out, dw, n))
			return -ENOSPC;
	} while (cmd->op == CTXMIG_OP_COPY && done < cmd->value);
	return out * 4;
}
