/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig NVIDIA family: what the Ampere and Hopper style models share
 * (the GPFIFO, pushbuffer methods of the host class and of the copy
 * engine, the PBDMA-style ring registers, the PD0-dual page-table shape).
 * Each generation supplies its page-table levels, its entry layout (MMU
 * v2 or v3) and the widths of its method address fields.
 *
 * Sources: open-gpu-kernel-modules clc56f.h / clc86f.h (host class, GP
 * entries), clc7b5.h / clc8b5.h (copy engine), dev_pbdma.ref (ring
 * registers), gh100 dev_mmu.h (MMU v3); nouveau vmmgp100.c (MMU v2),
 * cl906f.h and cla0b5.h in the 6.12 tree.  The subset emulated, the
 * register offsets and the mapping to the IR:
 * Documentation/gpu/ctxmig/models/nvidia.rst.
 */
#ifndef _CTXMIG_NV_H_
#define _CTXMIG_NV_H_

#include <linux/bits.h>

#include "ctxmig_gpu_types.h"

/*
 * Registers, byte offsets in BAR0.  PBDMA 0's GPFIFO registers at their
 * dev_pbdma offsets less NV_PPBDMA(0) (0x40000); the channel's enable bit
 * (NV_PCCSR_CHANNEL) and the instance block's PAGE_DIR_BASE (RAMIN 0x200)
 * at offsets of ctxmig's choosing.  Where GP_BASE_HI's OFFSET ends and
 * which register holds LIMIT2 is the generation's (&struct ctxmig_nv_gen).
 */
#define NV_PBDMA_GP_PUT			0x0000	/* entry index */
#define NV_PBDMA_GP_GET			0x0014	/* entry index */
#define NV_PBDMA_GP_BASE		0x0048	/* OFFSET 31:3 = VA 31:3 */
#define NV_PBDMA_GP_BASE_HI		0x004c
#define NV_PBDMA_GP_INFO		0x00a4	/* Hopper: gh100 dev_esched_pbdma.h */
#define NV_GP_LIMIT2_BITS		5	/* log2(entries) */
#define NV_CCSR_CHANNEL			0x1004
#define NV_CCSR_CHANNEL_ENABLE		BIT(0)
#define NV_RAMIN_PDB_LO			0x2200
#define NV_RAMIN_PDB_HI			0x2204	/* address 63:32 */
#define NV_PDB_TARGET			GENMASK(1, 0)
#define NV_PDB_TARGET_VID_MEM		0
#define NV_PDB_TARGET_INVALID		1
#define NV_PDB_USE_VER2_PT_FORMAT	BIT(10)
#define NV_PDB_BIG_PAGE_64K		BIT(11)
#define NV_PDB_ADDR_LO			GENMASK(31, 12)

/* GP entry (clc86f.h NVC86F_GP_ENTRY*). */
#define NV_GP_ENTRY_SIZE		8
#define NV_GP_ENTRY0_GET		GENMASK(31, 2)
#define NV_GP_ENTRY0_EXT_BASE		GENMASK(24, 8)	/* VA 56:40 */
#define NV_GP_ENTRY0_EXT_BASE_VA	GENMASK_ULL(56, 40)
#define NV_GP_ENTRY1_GET_HI		GENMASK(7, 0)
#define NV_GP_ENTRY1_OPCODE		GENMASK(7, 0)
#define NV_GP_ENTRY1_LEVEL		BIT(9)		/* 1: subroutine */
#define NV_GP_ENTRY1_LENGTH		GENMASK(30, 10)	/* dwords */
#define NV_GP_ENTRY1_SYNC		BIT(31)
#define NV_GP_OPCODE_NOP		0
#define NV_GP_OPCODE_SET_PB_SEGMENT_EXTENDED_BASE 4

/* Pushbuffer method header (NVC56F_DMA_*). */
#define NV_DMA_SEC_OP			GENMASK(31, 29)
#define NV_DMA_COUNT			GENMASK(28, 16)	/* or immediate data */
#define NV_DMA_SUBCH			GENMASK(15, 13)
#define NV_DMA_ADDR			GENMASK(11, 0)	/* method >> 2 */
#define NV_SEC_OP_INC			1
#define NV_SEC_OP_NON_INC		3
#define NV_SEC_OP_IMMD			4
#define NV_SEC_OP_ONE_INC		5

/* Host class methods (clc56f.h), on every subchannel. */
#define NV_HOST_SET_OBJECT		0x0000
#define NV_HOST_NOP			0x0008
#define NV_HOST_SEMAPHOREA		0x0010	/* Ampere: clc56f.h, not clc86f.h */
#define NV_HOST_SEMAPHOREB		0x0014
#define NV_HOST_SEMAPHOREC		0x0018
#define NV_HOST_SEMAPHORED		0x001c
#define NV_HOST_NON_STALL_INTERRUPT	0x0020
#define NV_HOST_MEM_OP_A		0x0028
#define NV_HOST_MEM_OP_B		0x002c
#define NV_HOST_MEM_OP_C		0x0030
#define NV_HOST_MEM_OP_D		0x0034
#define NV_HOST_SEM_ADDR_LO		0x005c
#define NV_HOST_SEM_ADDR_HI		0x0060
#define NV_HOST_SEM_PAYLOAD_LO		0x0064
#define NV_HOST_SEM_PAYLOAD_HI		0x0068
#define NV_HOST_SEM_EXECUTE		0x006c
#define NV_HOST_WFI			0x0078
#define NV_HOST_METHODS_END		0x0100
#define NV_SEM_EXECUTE_OPERATION	GENMASK(2, 0)
#define NV_SEM_EXECUTE_OP_RELEASE	1
#define NV_SEM_EXECUTE_RELEASE_WFI	BIT(20)		/* 1: WFI on */
#define NV_SEM_EXECUTE_PAYLOAD_64	BIT(24)
#define NV_SEM_EXECUTE_TIMESTAMP	BIT(25)
#define NV_SEMAPHORED_OPERATION		GENMASK(4, 0)
#define NV_SEMAPHORED_OP_RELEASE	2
#define NV_SEMAPHORED_RELEASE_WFI_DIS	BIT(20)
#define NV_SEMAPHORED_RELEASE_4BYTE	BIT(24)
#define NV_MEM_OP_D_OPERATION		GENMASK(31, 27)
#define NV_MEM_OP_D_MEMBAR		5

/* Copy engine methods (clc7b5.h), on subchannel NV_CE_SUBCH. */
#define NV_CE_SUBCH			4
#define NV_CE_SET_SEMAPHORE_A		0x0240	/* address upper */
#define NV_CE_SET_SEMAPHORE_B		0x0244	/* address lower */
#define NV_CE_SET_SEMAPHORE_PAYLOAD	0x0248
#define NV_CE_SET_SEMAPHORE_PAYLOAD_UPPER 0x024c
#define NV_CE_LAUNCH_DMA		0x0300
#define NV_CE_OFFSET_IN_UPPER		0x0400
#define NV_CE_OFFSET_IN_LOWER		0x0404
#define NV_CE_OFFSET_OUT_UPPER		0x0408
#define NV_CE_OFFSET_OUT_LOWER		0x040c
#define NV_CE_PITCH_IN			0x0410
#define NV_CE_PITCH_OUT			0x0414
#define NV_CE_LINE_LENGTH_IN		0x0418
#define NV_CE_LINE_COUNT		0x041c

/* LAUNCH_DMA. */
#define NV_LD_DATA_TRANSFER_TYPE	GENMASK(1, 0)
#define NV_LD_XFER_NONE			0
#define NV_LD_XFER_PIPELINED		1
#define NV_LD_XFER_NON_PIPELINED	2
#define NV_LD_FLUSH_ENABLE		BIT(2)
#define NV_LD_SEMAPHORE_TYPE		GENMASK(4, 3)
#define NV_LD_SEM_NONE			0
#define NV_LD_SEM_RELEASE_ONE_WORD	1
#define NV_LD_INTERRUPT_TYPE		GENMASK(6, 5)
#define NV_LD_INTR_NONE			0
#define NV_LD_INTR_BLOCKING		1
#define NV_LD_INTR_NON_BLOCKING		2
#define NV_LD_SRC_LAYOUT_PITCH		BIT(7)
#define NV_LD_DST_LAYOUT_PITCH		BIT(8)
#define NV_LD_MULTI_LINE_ENABLE		BIT(9)
#define NV_LD_REMAP_ENABLE		BIT(10)
#define NV_LD_SRC_TYPE_PHYSICAL		BIT(12)
#define NV_LD_DST_TYPE_PHYSICAL		BIT(13)
#define NV_LD_SEM_REDUCTION_ENABLE	BIT(19)
#define NV_LD_SEM_PAYLOAD_SIZE_64	BIT(27)
/* Longest copy one LAUNCH_DMA carries when encoding (LINE_LENGTH_IN). */
#define NV_CE_MAX_LINE			0x80000000U

/*
 * Method state latched between commands, as indices of
 * &struct ctxmig_engine.method.  The host semaphore, the copy engine's
 * semaphore and its copy registers are each in method order, so that a
 * method's index is its offset from the first of its run.  The GPFIFO's
 * extended base, channel state on Hopper, is kept here too: decoding the
 * pending commands for a save replays it on a copy.
 */
enum ctxmig_nv_latch {
	NV_M_SEM_ADDR_LO,
	NV_M_SEM_ADDR_HI,
	NV_M_SEM_PAYLOAD_LO,
	NV_M_SEM_PAYLOAD_HI,
	NV_M_CE_SEM_A,
	NV_M_CE_SEM_B,
	NV_M_CE_SEM_PAYLOAD,
	NV_M_CE_SEM_PAYLOAD_UPPER,
	NV_M_CE_IN_UPPER,
	NV_M_CE_IN_LOWER,
	NV_M_CE_OUT_UPPER,
	NV_M_CE_OUT_LOWER,
	NV_M_CE_PITCH_IN,
	NV_M_CE_PITCH_OUT,
	NV_M_CE_LINE_LENGTH,
	NV_M_CE_LINE_COUNT,
	NV_M_SEMA_A,
	NV_M_SEMA_B,
	NV_M_SEMA_C,
	NV_M_GP_EXT_BASE,	/* Hopper: PB segment extended base, VA 56:40 */
	NV_M_COUNT,
};

/* Page-directory and page-table entries, MMU v2 and v3 alike. */
#define NV_PDE_IS_PTE			BIT_ULL(0)
#define NV_PDE_APERTURE			GENMASK_ULL(2, 1)
#define NV_PDE_AP_INVALID		0
#define NV_PDE_AP_VIDEO			1
#define NV_PTE_VALID			BIT_ULL(0)
#define NV_PTE_APERTURE			GENMASK_ULL(2, 1)
#define NV_PTE_AP_VIDEO			0
#define NV_PTE_AP_PEER			1
#define NV_PTE_AP_SYS_COHERENT		2
#define NV_PTE_AP_SYS_NONCOHERENT	3
/* v2 VOL, v3 PCF bit 0 (UNCACHED): the same bit. */
#define NV_PTE_VOL			BIT_ULL(3)
/* Reserved in both layouts; ctxmig's: the other half of the cache policy. */
#define NV_PTE_CTXMIG_CACHE		BIT_ULL(55)

/**
 * struct ctxmig_nv_gen - what one NVIDIA generation defines
 * @host_class: the host (channel) class, e.g. 0xc56f.
 * @copy_class: the copy engine class, e.g. 0xc7b5.
 * @pd0: index of the dual PD0 level in the model's levels; the big-page
 *	table is @pd0 + 1, the small-page table @pd0 + 2.
 * @addr_shift: an entry's address field holds address >> @addr_shift
 *	(MMU v2: 4, address 12 up at bit 8; MMU v3: 0, in place).
 * @pde_addr: address field of an 8-byte PDE and of PD0's small half.
 * @pde_big_addr: address field of PD0's big half.
 * @pde_table: further bits of a PDE pointing at a table in VRAM.
 * @pte_sys_addr: PTE address field, system memory.
 * @pte_vid_addr: PTE address field, video memory.
 * @pte_ro: the PTE's read-only bit.
 * @pte_no_small: bits of an invalid big-page PTE that tell the MMU not to
 *	look at the 4 KiB PTEs under it (v2: PRIV, nouveau vmmgp100.c's
 *	"invalid" LPTE, or VOL, sparse; v3: a non-zero PCF, UVM's
 *	NO_VALID_4KB_PAGE or SPARSE).
 * @sem_hi_bits: width of SEM_ADDR_HI (VA bits from 32 up).
 * @ce_upper_bits: width of the copy engine's *_UPPER address fields.
 * @semaphore_abcd: the host class has SEMAPHOREA..D (clc56f.h; Hopper's
 *	clc86f.h has only the SEM_* methods).
 * @ext_base_latched: SET_PB_SEGMENT_EXTENDED_BASE sets channel state that
 *	every later GP entry uses (Hopper); else ctxmig's extension gives it
 *	to the entry right after it only.
 * @gp_hi_bits: width of GP_BASE_HI's OFFSET (GPFIFO VA bits from 32 up).
 * @limit2_reg: the register whose bits @limit2_shift up hold LIMIT2.
 * @limit2_shift: where LIMIT2 starts in @limit2_reg.
 */
struct ctxmig_nv_gen {
	u16 host_class;
	u16 copy_class;
	u8 pd0;
	u8 addr_shift;
	u64 pde_addr;
	u64 pde_big_addr;
	u64 pde_table;
	u64 pte_sys_addr;
	u64 pte_vid_addr;
	u64 pte_ro;
	u64 pte_no_small;
	u8 sem_hi_bits;
	u8 ce_upper_bits;
	bool semaphore_abcd;
	bool ext_base_latched;
	u8 gp_hi_bits;
	u32 limit2_reg;
	u8 limit2_shift;
};

void ctxmig_nv_reset(struct ctxmig_gpu *gpu);
void ctxmig_nv_ring_get(struct ctxmig_gpu *gpu, u32 engine,
			struct ctxmig_ring *ring);
int ctxmig_nv_ring_set(struct ctxmig_gpu *gpu, u32 engine,
		       const struct ctxmig_ring *ring);
void ctxmig_nv_set_head(struct ctxmig_gpu *gpu, u32 engine, u32 head);
u64 ctxmig_nv_pt_root(struct ctxmig_gpu *gpu);
void ctxmig_nv_set_pt_root(struct ctxmig_gpu *gpu, u64 root);
void ctxmig_nv_pte_decode(const struct ctxmig_gpu *gpu, u32 level, u32 sub,
			  const u64 *raw, struct ctxmig_pte *pte);
int ctxmig_nv_pte_encode(const struct ctxmig_gpu *gpu, u32 level, u32 sub,
			 const struct ctxmig_pte *pte, u64 *raw);
int ctxmig_nv_decode(struct ctxmig_gpu *gpu, u32 engine, const void *buf,
		     u32 len, u32 level, struct ctxmig_cmd *cmd);
int ctxmig_nv_encode(const struct ctxmig_gpu *gpu,
		     const struct ctxmig_cmd *cmd, void *buf, u32 room);

/* Everything of a model but its identity, its levels and its constants. */
#define CTXMIG_NV_MODEL_OPS					\
	.features = CTXMIG_FEAT_ALL,				\
	.mmio_size = CTXMIG_PCI_BAR0_SIZE,		\
	.ring_align = 4096,					\
	.ring_min = 256,					\
	.ring_max = 1024 * 1024,				\
	.ring_slot = NV_GP_ENTRY_SIZE,				\
	.ring_ib_only = true,					\
	.ib_levels = 1,						\
	.cmd_format = CTXMIG_CMDFMT_NV,				\
	.reset = ctxmig_nv_reset,				\
	.ring_get = ctxmig_nv_ring_get,				\
	.ring_set = ctxmig_nv_ring_set,				\
	.set_head = ctxmig_nv_set_head,				\
	.pt_root = ctxmig_nv_pt_root,				\
	.set_pt_root = ctxmig_nv_set_pt_root,			\
	.pte_decode = ctxmig_nv_pte_decode,			\
	.pte_encode = ctxmig_nv_pte_encode,			\
	.decode = ctxmig_nv_decode,				\
	.encode = ctxmig_nv_encode

#endif /* _CTXMIG_NV_H_ */
