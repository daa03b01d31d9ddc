/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig AMD family: what the GFX9 and GFX12 style models share (PM4
 * type-3 packets, the CP_RB0 ring, GPUVM's 4-level shape).  Each
 * generation supplies its register offsets and its entry layout.
 *
 * Sources: drivers/gpu/drm/amd/amdgpu/soc15d.h and nvd.h (packets),
 * amdgpu_vm.h (PTE/PDE bits), asic_reg/gc/gc_9_0_offset.h and
 * gc_12_0_0_offset.h (registers); Mesa's radeonsi si_cp_dma.c (CP DMA
 * limits).
 */
#ifndef _CTXMIG_AMD_H_
#define _CTXMIG_AMD_H_

#include <linux/bits.h>

#include "ctxmig_gpu_types.h"

/* PM4 type-3 header (soc15d.h). */
#define AMD_PM4_TYPE		GENMASK(31, 30)
#define AMD_PM4_COUNT		GENMASK(29, 16)
#define AMD_PM4_OPCODE		GENMASK(15, 8)
#define AMD_PM4_TYPE2_FILLER	0x80000000U
#define AMD_PM4_NOP_ONE		0x3fff	/* PACKET3(NOP, 0x3FFF): one dword */

#define AMD_PKT3_NOP		0x10
#define AMD_PKT3_WRITE_DATA	0x37
#define AMD_PKT3_WAIT_REG_MEM	0x3c
#define AMD_PKT3_INDIRECT_BUFFER 0x3f
#define AMD_PKT3_PFP_SYNC_ME	0x42
#define AMD_PKT3_RELEASE_MEM	0x49
#define AMD_PKT3_DMA_DATA	0x50

/* WRITE_DATA control dword. */
#define AMD_WD_DST_SEL		GENMASK(11, 8)
#define AMD_WD_DST_REG		0
#define AMD_WD_DST_MEM_SYNC	1
#define AMD_WD_DST_TC_L2	2
#define AMD_WD_DST_MEM_ASYNC	5
#define AMD_WD_WR_ONE_ADDR	BIT(16)
#define AMD_WD_WR_CONFIRM	BIT(20)

/* WAIT_REG_MEM control dword. */
#define AMD_WRM_FUNCTION	GENMASK(2, 0)
#define AMD_WRM_FUNC_EQUAL	3
#define AMD_WRM_MEM_SPACE	GENMASK(5, 4)
#define AMD_WRM_SPACE_REG	0
#define AMD_WRM_OPERATION	GENMASK(7, 6)
#define AMD_WRM_OP_WRITE_WAIT	1	/* wr_wait_wr_reg */
/* VM invalidation engines per hub (AMDGPU_VMHUB_INV_ENG_BITMAP, 17 bits). */
#define AMD_VM_INV_ENGS		18

/* RELEASE_MEM. */
#define AMD_RM_EVENT_TYPE	GENMASK(5, 0)
#define AMD_RM_EVENT_INDEX	GENMASK(11, 8)
#define AMD_RM_EVENT_TS		0x14	/* CACHE_FLUSH_AND_INV_TS_EVENT */
#define AMD_RM_EVENT_INDEX_EOP	5
#define AMD_RM_INT_SEL		GENMASK(26, 24)
#define AMD_RM_INT_ONLY		1	/* interrupt only (DATA_SEL 0) */
#define AMD_RM_INT_AFTER_WRITE	2	/* when the data write is confirmed */
#define AMD_RM_DATA_SEL		GENMASK(31, 29)
#define AMD_RM_DATA_NONE	0
#define AMD_RM_DATA_32		1
#define AMD_RM_DATA_64		2

/* DMA_DATA. */
#define AMD_DMA_DST_SEL		GENMASK(21, 20)
#define AMD_DMA_SRC_SEL		GENMASK(30, 29)
#define AMD_DMA_SEL_ADDR	0	/* address using SAS / DAS */
#define AMD_DMA_SEL_L2		3	/* address using L2 */
#define AMD_DMA_CP_SYNC		BIT(31)
#define AMD_DMA_RAW_WAIT	BIT(30)	/* in the COMMAND dword */
/*
 * BYTE_COUNT: 25:0 in nvd.h (GFX10 on) and in Mesa's sid.h for GFX9
 * (S_415_BYTE_COUNT_GFX9); soc15d.h's comment still gives GFX7's 20:0.
 */
#define AMD_DMA_BYTE_COUNT	GENMASK(25, 0)

/* INDIRECT_BUFFER. */
#define AMD_IB_SIZE		GENMASK(19, 0)
#define AMD_IB_VALID		BIT(23)
#define AMD_IB_VMID		GENMASK(27, 24)

/* CP_RB0_CNTL. */
#define AMD_RB_BUFSZ		GENMASK(5, 0)
#define AMD_RB_BLKSZ		GENMASK(13, 8)

/* Registers: byte offset in BAR0 of a dword register offset. */
#define AMD_REG(gc_base, off)	(((gc_base) + (off)) * 4)

/**
 * struct ctxmig_amd_gen - what one AMD generation defines
 * @rb0_base: CP_RB0_BASE, byte offset in BAR0.
 * @rb0_base_hi: CP_RB0_BASE_HI.
 * @rb0_cntl: CP_RB0_CNTL.
 * @rb0_rptr: CP_RB0_RPTR.
 * @rb0_wptr: CP_RB0_WPTR.
 * @rb0_wptr_hi: CP_RB0_WPTR_HI.
 * @rb0_active: CP_RB0_ACTIVE.
 * @vm_cntl: VM_CONTEXT0_CNTL (GCVM_ on GFX12).
 * @vm_pt_base_lo: VM_CONTEXT0_PAGE_TABLE_BASE_ADDR_LO32.
 * @vm_pt_base_hi: VM_CONTEXT0_PAGE_TABLE_BASE_ADDR_HI32.
 * @vm_inv_req: VM_INVALIDATE_ENG0_REQ (GCVM_ on GFX12); engine n's is
 *	n registers on.
 * @vm_inv_ack: VM_INVALIDATE_ENG0_ACK.
 * @mtype_shift: PTE MTYPE field position (2 bits).
 * @pde_pte: the bit that makes a PDE act as a PTE (a 2 MiB page).
 * @dma_max: most bytes one DMA_DATA the encoder writes carries.
 */
struct ctxmig_amd_gen {
	u32 rb0_base;
	u32 rb0_base_hi;
	u32 rb0_cntl;
	u32 rb0_rptr;
	u32 rb0_wptr;
	u32 rb0_wptr_hi;
	u32 rb0_active;
	u32 vm_cntl;
	u32 vm_pt_base_lo;
	u32 vm_pt_base_hi;
	u32 vm_inv_req;
	u32 vm_inv_ack;
	u8 mtype_shift;
	u64 pde_pte;
	u32 dma_max;
};

extern const struct ctxmig_pt_level ctxmig_amd_levels[4];

void ctxmig_amd_reset(struct ctxmig_gpu *gpu);
void ctxmig_amd_ring_get(struct ctxmig_gpu *gpu, u32 engine,
			 struct ctxmig_ring *ring);
int ctxmig_amd_ring_set(struct ctxmig_gpu *gpu, u32 engine,
			const struct ctxmig_ring *ring);
void ctxmig_amd_set_head(struct ctxmig_gpu *gpu, u32 engine, u32 head);
u64 ctxmig_amd_pt_root(struct ctxmig_gpu *gpu);
void ctxmig_amd_set_pt_root(struct ctxmig_gpu *gpu, u64 root);
void ctxmig_amd_pte_decode(const struct ctxmig_gpu *gpu, u32 level, u32 sub,
			   const u64 *raw, struct ctxmig_pte *pte);
int ctxmig_amd_pte_encode(const struct ctxmig_gpu *gpu, u32 level, u32 sub,
			  const struct ctxmig_pte *pte, u64 *raw);
int ctxmig_amd_decode(struct ctxmig_gpu *gpu, u32 engine, const void *buf,
		      u32 len, u32 level, struct ctxmig_cmd *cmd);
int ctxmig_amd_encode(const struct ctxmig_gpu *gpu,
		      const struct ctxmig_cmd *cmd, void *buf, u32 room);

/* Everything of a model but its identity and its generation's constants. */
#define CTXMIG_AMD_MODEL_OPS					\
	.features = CTXMIG_FEAT_ALL,				\
	.va_bits = 48,						\
	.mmio_size = CTXMIG_PCI_BAR0_SIZE,		\
	.ring_align = 256,					\
	.ring_min = 256,					\
	.ring_max = 8 << 20,					\
	.ring_slot = 4,						\
	.ib_levels = 2,						\
	.cmd_format = CTXMIG_CMDFMT_PM4,			\
	.levels = ctxmig_amd_levels,				\
	.nlevels = ARRAY_SIZE(ctxmig_amd_levels),		\
	.reset = ctxmig_amd_reset,				\
	.ring_get = ctxmig_amd_ring_get,			\
	.ring_set = ctxmig_amd_ring_set,			\
	.set_head = ctxmig_amd_set_head,			\
	.pt_root = ctxmig_amd_pt_root,				\
	.set_pt_root = ctxmig_amd_set_pt_root,			\
	.pte_decode = ctxmig_amd_pte_decode,			\
	.pte_encode = ctxmig_amd_pte_encode,			\
	.decode = ctxmig_amd_decode,				\
	.encode = ctxmig_amd_encode

#endif /* _CTXMIG_AMD_H_ */
