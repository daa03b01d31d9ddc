/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig Intel Gen12 style model: register offsets, command words and
 * PPGTT entry bits.  Names and values are the kernel's own (6.12 tree):
 *
 *   drivers/gpu/drm/i915/gt/intel_gpu_commands.h	MI_* (i915)
 *   drivers/gpu/drm/xe/instructions/xe_mi_commands.h	MI_* (xe)
 *   drivers/gpu/drm/xe/instructions/xe_instr_defs.h	instruction header
 *   drivers/gpu/drm/i915/gt/intel_engine_regs.h		RING_*, GEN8_RING_PDP_*
 *   drivers/gpu/drm/xe/regs/xe_engine_regs.h		RING_START_UDW
 *   drivers/gpu/drm/i915/gt/intel_gtt.h			GEN8_PAGE_*, GEN12_*
 *   drivers/gpu/drm/xe/regs/xe_gtt_defs.h		XE_PPGTT_*, XE_PDE_*
 *
 * Register macros give byte offsets in BAR0 (the kernel's wrap them in
 * _MMIO()/XE_REG()).  Values the 6.12 tree does not carry say where they
 * come from; choices of ctxmig's own are prefixed CTXMIG_INTEL_.  How the
 * model uses them: Documentation/gpu/ctxmig/models/intel-gen12.rst.
 */
#ifndef _CTXMIG_INTEL_REGS_H_
#define _CTXMIG_INTEL_REGS_H_

#include <linux/bits.h>

/* Instruction header (xe_instr_defs.h). */
#define XE_INSTR_CMD_TYPE		GENMASK(31, 29)
#define   XE_INSTR_MI			0x0
#define   XE_INSTR_GSC			0x2	/* also the 2D/BLT client */
#define   XE_INSTR_GFXPIPE		0x3
#define XE_INSTR_LEN_MASK		GENMASK(7, 0)	/* total dwords - 2 */
/* intel_gpu_commands.h: the media subclient of the render client. */
#define INSTR_SUBCLIENT_MASK		GENMASK(28, 27)
#define   INSTR_MEDIA_SUBCLIENT		0x2

/* MI commands: MI_INSTR(op, flags) = op << 23 | flags (intel_gpu_commands.h). */
#define MI_OPCODE			GENMASK(28, 23)	/* xe_mi_commands.h */
#define MI_INSTR(opcode, flags)		((opcode) << 23 | (flags))
#define MI_GLOBAL_GTT			BIT(22)

#define MI_NOOP				MI_INSTR(0, 0)
#define MI_USER_INTERRUPT		MI_INSTR(0x02, 0)
#define MI_ARB_CHECK			MI_INSTR(0x05, 0)	/* xe_mi_commands.h */
#define MI_ARB_ON_OFF			MI_INSTR(0x08, 0)
#define   MI_ARB_ENABLE			BIT(0)
#define MI_BATCH_BUFFER_END		MI_INSTR(0x0a, 0)
/* MI opcodes below this are one dword (i915_cmd_parser.c: fixed length). */
#define CTXMIG_INTEL_MI_ONE_DWORD	0x10

#define MI_STORE_DATA_IMM		MI_INSTR(0x20, 0)
#define   MI_USE_GGTT			BIT(22)	/* MI_SDI_GGTT in xe */
#define   MI_SDI_LEN_DW			GENMASK(9, 0)	/* xe_mi_commands.h */
#define   MI_SDI_STORE_QWORD		BIT(21)	/* in MI_STORE_QWORD_IMM_GEN8 */
#define MI_STORE_DWORD_IMM_GEN4		MI_INSTR(0x20, 2)	/* 0x10000002 */
#define MI_STORE_QWORD_IMM_GEN8		(MI_INSTR(0x20, 3) | BIT(21))

#define MI_FLUSH_DW			MI_INSTR(0x26, 0)	/* xe: no length */
#define   MI_FLUSH_DW_STORE_INDEX	BIT(21)
#define   MI_INVALIDATE_TLB		BIT(18)
#define   MI_FLUSH_DW_OP_STOREDW	BIT(14)
#define   MI_FLUSH_DW_OP_MASK		GENMASK(15, 14)
#define   MI_FLUSH_DW_OP_NONE		0
#define   MI_FLUSH_DW_OP_STORE		1	/* MI_FLUSH_DW_OP_STOREDW >> 14 */
#define   MI_FLUSH_DW_OP_TIMESTAMP	3
#define   MI_FLUSH_DW_NOTIFY		BIT(8)
#define   MI_FLUSH_DW_LEN_DW		GENMASK(5, 0)	/* xe_mi_commands.h */
#define   MI_FLUSH_IMM_DW		(4 - 2)	/* store form: 4 dwords */
#define   MI_FLUSH_IMM_QW		(5 - 2)	/* qword store: 5 dwords */
#define   MI_FLUSH_DW_USE_GTT		BIT(2)	/* in the address dword */
/* The Gen6 base form: header, address low, address high. */
#define MI_FLUSH_DW_BASE_LEN		(3 - 2)

#define MI_COPY_MEM_MEM			MI_INSTR(0x2e, 5 - 2)	/* 0x17000003 */
#define   MI_COPY_MEM_MEM_SRC_GGTT	BIT(22)
#define   MI_COPY_MEM_MEM_DST_GGTT	BIT(21)

#define MI_BATCH_BUFFER_START		MI_INSTR(0x31, 0)
#define MI_BATCH_BUFFER_START_GEN8	MI_INSTR(0x31, 1)	/* 0x18800001 */
#define   MI_BATCH_PPGTT_HSW		BIT(8)

/* PIPE_CONTROL (intel_gpu_commands.h), the render pipe's flush and write. */
#define GFX_OP_PIPE_CONTROL(len)	(3U << 29 | 3 << 27 | 2 << 24 | ((len) - 2))
#define   GFX_OP_PIPE_CONTROL_MASK	GENMASK(31, 16)
#define   PIPE_CONTROL_GLOBAL_GTT_IVB	BIT(24)
#define   PIPE_CONTROL_MMIO_WRITE	BIT(23)
#define   PIPE_CONTROL_STORE_DATA_INDEX	BIT(21)
#define   PIPE_CONTROL_POST_SYNC_OP_MASK GENMASK(15, 14)
#define   PIPE_CONTROL_POST_SYNC_NONE	0
#define   PIPE_CONTROL_POST_SYNC_QW	1	/* PIPE_CONTROL_QW_WRITE >> 14 */
#define   PIPE_CONTROL_QW_WRITE		BIT(14)
#define   PIPE_CONTROL_NOTIFY		BIT(8)
#define   PIPE_CONTROL_CS_STALL		BIT(20)
#define   PIPE_CONTROL_FLUSH_ENABLE	BIT(7)

/*
 * MEM_COPY: the Xe-HPC/Xe2 copy-engine linear copy (2D client, opcode
 * 0x5a), 10 dwords.  The 6.12 tree has only its sibling PVC_MEM_SET_CMD
 * (0x5b) in xe/instructions/xe_gpu_commands.h; the layout below is the
 * one the i915 PVC migration code (PVC_MEM_COPY_CMD) and IGT's xe copy
 * tests emit:
 *   DW0 header | mode, DW1 width - 1 (bytes in linear byte mode),
 *   DW2 height - 1, DW3 source pitch - 1, DW4 destination pitch - 1,
 *   DW5/DW6 source address, DW7/DW8 destination address, DW9 MOCS.
 */
#define MEM_COPY_CMD			(2U << 29 | 0x5a << 22)
#define   MEM_COPY_CMD_MASK		GENMASK(31, 22)
#define   MEM_COPY_CMD_LEN_DW		10
#define   MEM_COPY_PAGE_COPY_MODE	BIT(19)	/* width in 256-byte pages */
#define   MEM_COPY_MATRIX_COPY		BIT(17)	/* as PVC_MEM_SET_MATRIX */
/*
 * Linear byte mode width (bytes - 1) in bits 17:0, as IGT's
 * emit_blt_mem_copy() fills it; at most 0x3ffff bytes per command before
 * Xe2 (IGT's xe_copy_basic.c, "18-bit limit on gfx_ver < 20").
 */
#define CTXMIG_INTEL_MEM_COPY_WIDTH	GENMASK(17, 0)
#define CTXMIG_INTEL_MEM_COPY_MAX	0x3ffffU

/*
 * The longest batch the engine looks for its MI_BATCH_BUFFER_END in; a
 * batch without one within it is an illegal command (ctxmig's bound: the
 * kernel's parser takes the length from the execbuf).
 */
#define CTXMIG_INTEL_BATCH_MAX		BIT(20)

/* Graphics addresses in commands: 48 bits, bits 47:32 in the high dword. */
#define CTXMIG_INTEL_ADDR_HI		GENMASK(15, 0)

/* Engine registers (intel_engine_regs.h), byte offsets from an engine base. */
#define RENDER_RING_BASE		0x02000	/* i915_reg.h */
#define RING_TAIL(base)			((base) + 0x30)
#define   TAIL_ADDR			0x001ffff8
#define RING_HEAD(base)			((base) + 0x34)
#define   HEAD_WRAP_COUNT		0xffe00000
#define   HEAD_WRAP_ONE			0x00200000
#define   HEAD_ADDR			0x001ffffc
#define RING_START(base)		((base) + 0x38)
#define RING_CTL(base)			((base) + 0x3c)
#define   RING_CTL_SIZE(size)		((size) - 4096)	/* (size) - PAGE_SIZE */
#define   RING_NR_PAGES			0x001ff000
#define   RING_VALID			0x00000001
#define RING_START_UDW(base)		((base) + 0x48)	/* xe_engine_regs.h */
#define GEN8_RING_PDP_UDW(base, n)	((base) + 0x270 + (n) * 8 + 4)
#define GEN8_RING_PDP_LDW(base, n)	((base) + 0x270 + (n) * 8)

/*
 * ctxmig keeps tail bit 2 as well (real TAIL_ADDR is qword granular and
 * i915 pads with MI_NOOP): neutral rings end at any dword.
 */
#define CTXMIG_INTEL_TAIL_ADDR		(TAIL_ADDR | BIT(2))
#define CTXMIG_INTEL_RING_START		GENMASK(31, 12)

/* PPGTT entries (intel_gtt.h, xe_gtt_defs.h). */
#define GEN8_PAGE_PRESENT		BIT_ULL(0)
#define GEN8_PAGE_RW			BIT_ULL(1)
#define GEN12_PPGTT_PTE_PAT0		BIT_ULL(3)	/* _PAGE_PWT */
#define GEN12_PPGTT_PTE_PAT1		BIT_ULL(4)	/* _PAGE_PCD */
#define GEN12_PPGTT_PTE_PAT2		BIT_ULL(7)	/* _PAGE_PAT, 4 KiB PTE */
#define XE_PPGTT_PDE_PDPE_PAT2		BIT_ULL(12)	/* PAT2 of a 2M/1G page */
#define GEN8_PDE_PS_2M			BIT_ULL(7)
#define XE_PDPE_PS_1G			BIT_ULL(7)
#define GEN8_PDE_IPS_64K		BIT_ULL(11)	/* in a PDE to a table */
#define GEN12_PPGTT_PTE_LM		BIT_ULL(11)	/* XE_PPGTT_PTE_DM */
/* Entry address bits: tables 4 KiB aligned; the upper bound is ctxmig's. */
#define CTXMIG_INTEL_PTE_ADDR		GENMASK_ULL(47, 12)

/*
 * The Gen12 private PAT as i915 programs it on TGL (tgl_setup_private_ppat()
 * in intel_gtt.c): 0 WB, 1 WC, 2 WT, 3 UC, 4..7 WB.  ctxmig reserves index
 * 4 for CTXMIG_CACHE_DEFAULT.
 */
#define CTXMIG_INTEL_PAT_WB		0
#define CTXMIG_INTEL_PAT_WC		1
#define CTXMIG_INTEL_PAT_WT		2
#define CTXMIG_INTEL_PAT_UC		3
#define CTXMIG_INTEL_PAT_DEFAULT	4

#endif /* _CTXMIG_INTEL_REGS_H_ */
