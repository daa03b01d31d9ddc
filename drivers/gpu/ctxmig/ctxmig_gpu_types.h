/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig GPU engine models: the device object every model shares, and the
 * table of operations by which a model describes its native formats.
 *
 * A model (ctxmig_amd_gfx9.c, ctxmig_intel_gen12.c, ...) owns the meaning
 * of its register file, its command words and its page-table entries.
 * Everything else lives once: sparse VRAM (ctxmig_vram.c), page-table walks
 * and builds driven by the model's level table (ctxmig_pt.c), the command
 * executor (ctxmig_exec.c) and the save/restore sequencing of the
 * translators (ctxmig_xlate.c).  See Documentation/gpu/ctxmig/models.rst.
 */
#ifndef _CTXMIG_GPU_TYPES_H_
#define _CTXMIG_GPU_TYPES_H_

#include <linux/types.h>

#include "ctxmig_ir_types.h"
#include "ctxmig_vram_types.h"

struct ctxmig_gpu;

/* Engines per device.  Every model today has one command engine. */
#define CTXMIG_GPU_ENGINES		1
/* Bytes of a COPY executed per step: the engine can stop between steps. */
#define CTXMIG_COPY_SLICE		(64 * 1024)

/* Longest native command a model decodes or encodes, in bytes. */
#define CTXMIG_CMD_MAX_BYTES		64
/*
 * Every model's native copy command moves at least this many bytes, so
 * that a COPY of n bytes encodes into at most n / CTXMIG_CMD_COPY_MIN + 1
 * native commands (a restore sizes its re-encoded buffers by it).  The
 * smallest is amd-gfx12's DMA_DATA, which carries what Mesa gives one
 * from GFX11 on (32767 bytes, rounded down to 32-byte units).
 */
#define CTXMIG_CMD_COPY_MIN		(32767 & ~31)

/* Deepest page-table hierarchy and widest entry of any model. */
#define CTXMIG_PT_MAX_LEVELS		7
#define CTXMIG_PT_MAX_SUBS		2

/*
 * ctxmig's control page (CTXMIG_CTL_*), the PCI identity (CTXMIG_PCI_*) and
 * the engine status values are the guest interface: they live in
 * include/uapi/linux/ctxmig.h, described in
 * Documentation/gpu/ctxmig/guest-interface.rst.
 */

/**
 * struct ctxmig_ib_frame - an indirect buffer being executed
 * @va: GPU VA of the buffer.
 * @size: bytes.
 * @pos: bytes already executed.
 */
struct ctxmig_ib_frame {
	u64 va;
	u32 size;
	u32 pos;
};

/**
 * struct ctxmig_engine - model-independent execution state of one engine
 * @status: &enum ctxmig_eng_status.
 * @err: positive errno of the error that stopped the engine, else 0.
 * @reason: human-readable reason of @err.
 * @depth: indirect buffers open; @ib[0] was started from the ring.
 * @ib: the open indirect buffers, outermost first.
 * @fence: fence progress; @fence.emitted is filled in at save time.
 * @irq_pending: CTXMIG_IRQ_* raised and not acknowledged.
 * @irq_enabled: CTXMIG_IRQ_* the guest enabled.
 * @irqs: interrupts delivered (enabled when raised), for statistics.
 * @executed: commands executed, for statistics.
 * @fault_va: GPU VA of the last translation fault.
 * @method: NVIDIA-style method state latched between a command's method
 *	writes; the executor treats it as opaque model scratch.
 * @copy: what is left of a COPY the engine started and has not finished
 *	(@copy.value bytes from @copy.src to @copy.dst; none when 0).  Long
 *	copies run CTXMIG_COPY_SLICE bytes per step, so that the engine can
 *	stop inside one; its command was already fetched, so this is its
 *	only record, and a save sends it as the first command of its level.
 */
struct ctxmig_engine {
	u32 status;
	int err;
	char reason[96];
	u32 depth;
	struct ctxmig_ib_frame ib[CTXMIG_IR_MAX_IB_LEVEL];
	struct ctxmig_fence fence;
	u32 irq_pending;
	u32 irq_enabled;
	u64 irqs;
	u64 executed;
	u64 fault_va;
	u32 method[32];
	struct ctxmig_cmd copy;
};

/**
 * struct ctxmig_pte - one page-table entry in neutral form
 * @kind: CTXMIG_PTE_*.
 * @addr: next table's VRAM offset (TABLE), or the page's VRAM offset or
 *	system address (LEAF).
 * @flags: CTXMIG_MAP_* of a leaf.
 * @cache: &enum ctxmig_ir_cache of a leaf.
 */
struct ctxmig_pte {
	u8 kind;
	u8 cache;
	u32 flags;
	u64 addr;
};

/* Native command formats. */
#define CTXMIG_CMDFMT_PM4	1	/* AMD PM4 type-3 packets */
#define CTXMIG_CMDFMT_MI	2	/* Intel MI commands */
#define CTXMIG_CMDFMT_NV	3	/* NVIDIA GPFIFO and methods */

#define CTXMIG_PTE_INVALID	0
#define CTXMIG_PTE_TABLE	1
#define CTXMIG_PTE_LEAF		2
/*
 * Invalid, and the smaller pages under it are not looked at: a big-page
 * entry of a dual level that tells the MMU to ignore the small-page
 * table's entries for its range (NVIDIA's "no valid 4 KiB page" marks).
 */
#define CTXMIG_PTE_STOP		3

/**
 * struct ctxmig_pt_level - shape of one level of a model's page tables
 * @shift: lowest VA bit this level indexes (page size of a leaf here).
 * @bits: number of VA bits indexed: the table has 2^@bits entries.
 * @entry_size: bytes per entry, 8 or 16.
 * @leaf: a leaf (page) may be placed at this level.
 * @nsubs: entries holding two table pointers (NVIDIA dual PD0) have 2:
 *	sub-entry 0 is the big-page table, 1 the small-page table.  Where
 *	both exist the big-page entry decides: a page there is the
 *	translation, CTXMIG_PTE_STOP means none, anything else lets the
 *	small-page entries decide.
 * @child: level index each sub-entry's table belongs to, -1 if none.
 */
struct ctxmig_pt_level {
	u8 shift;
	u8 bits;
	u8 entry_size;
	bool leaf;
	u8 nsubs;
	s8 child[CTXMIG_PT_MAX_SUBS];
};

/**
 * struct ctxmig_pt_plan - the table pages a page-table build will take
 * @tables: table pages counted so far.
 * @last: per level, the last table counted there, as the VA it covers
 *	shifted right by its parent level's shift; U64_MAX before the
 *	first.  Mappings come in ascending VA order, so a table already
 *	counted can only be the last one of its level.
 */
struct ctxmig_pt_plan {
	u64 tables;
	u64 last[CTXMIG_PT_MAX_LEVELS];
};

/**
 * struct ctxmig_xlate - result of translating one GPU VA
 * @addr: VRAM offset or system address of the VA.
 * @flags: CTXMIG_MAP_* of the page.
 * @cache: &enum ctxmig_ir_cache of the page.
 * @page_shift: log2 of the page size.
 */
struct ctxmig_xlate {
	u64 addr;
	u32 flags;
	u8 cache;
	u8 page_shift;
};

/**
 * struct ctxmig_sysmem_ops - how a device reaches system memory
 * @rw: copy @len bytes between @buf and system address @addr; returns 0
 *	or a negative errno (the access faults).  In the driver this is the
 *	VFIO DMA helper; on the host a test buffer.
 */
struct ctxmig_sysmem_ops {
	int (*rw)(void *priv, u64 addr, void *buf, u32 len, bool write);
};

/**
 * struct ctxmig_model - one emulated GPU model
 * @id: &enum ctxmig_model_id.
 * @name: short name, also the mdev type name.
 * @desc: one line for humans.
 * @features: CTXMIG_FEAT_* the model supports.
 * @va_bits: width of its GPU virtual address space.
 * @mmio_size: BAR0 bytes, CTXMIG_PCI_BAR0_SIZE (every vGPU presents the
 *	same BAR0); ctxmig's control page is the last CTXMIG_CTL_SIZE bytes.
 * @ring_align: required alignment of the ring's GPU VA.
 * @ring_min: smallest ring in bytes.
 * @ring_max: largest ring in bytes (all sizes are powers of two).
 * @ring_slot: head and tail move in steps of this many bytes (a dword, or
 *	a GPFIFO entry).
 * @ring_ib_only: the ring holds only indirect-buffer entries (NVIDIA
 *	GPFIFO); other commands must be placed in a buffer.
 * @ib_levels: indirect buffers the engine can nest (1: only from the ring).
 * @cmd_format: CTXMIG_CMDFMT_*: models sharing one execute each other's
 *	command bytes, so a restore between them keeps the guest's rings
 *	and buffers as they are.
 * @levels: page-table levels, root first.
 * @nlevels: number of @levels.
 * @data: the model's own constants (register offsets, entry layout), for
 *	code a model family shares.
 * @reset: put the register file in its reset state.
 * @ring_get: the engine's ring in neutral form, from the registers.
 * @ring_set: program the registers from a neutral ring.
 * @set_head: move the engine's read pointer after it consumed commands.
 * @pt_root: VRAM offset of the root table, or U64_MAX if paging is off.
 * @set_pt_root: point the engine at a root table and enable paging.
 * @pte_decode: decode sub-entry @sub of a raw entry at @level.
 * @pte_encode: encode @pte into sub-entry @sub of @raw, leaving the other
 *	sub-entry alone; -EOPNOTSUPP when the model cannot express it.
 * @decode: decode the native command at the start of @buf (@len bytes
 *	available, executed at indirect-buffer @level) into @cmd; returns
 *	bytes consumed, -ENODATA if @buf ends inside the command, or another
 *	negative errno for an illegal command.
 * @encode: encode @cmd at @level into @buf of @room bytes; returns bytes
 *	written, -ENOSPC if it does not fit, -EOPNOTSUPP if the model cannot
 *	express it.
 * @encode_end: encode what ends the commands of an indirect buffer (Intel:
 *	MI_BATCH_BUFFER_END, the batch's length is where it is) into @buf of
 *	@room bytes; returns bytes written or -ENOSPC.  NULL where a buffer
 *	ends at the length its IB command gives.
 */
struct ctxmig_model {
	u32 id;
	const char *name;
	const char *desc;
	u32 features;
	u8 va_bits;
	u32 mmio_size;
	u32 ring_align;
	u32 ring_min;
	u32 ring_max;
	u8 ring_slot;
	bool ring_ib_only;
	u8 ib_levels;
	u8 cmd_format;
	const struct ctxmig_pt_level *levels;
	u8 nlevels;
	const void *data;

	void (*reset)(struct ctxmig_gpu *gpu);
	void (*ring_get)(struct ctxmig_gpu *gpu, u32 engine,
			 struct ctxmig_ring *ring);
	int (*ring_set)(struct ctxmig_gpu *gpu, u32 engine,
			const struct ctxmig_ring *ring);
	void (*set_head)(struct ctxmig_gpu *gpu, u32 engine, u32 head);
	u64 (*pt_root)(struct ctxmig_gpu *gpu);
	void (*set_pt_root)(struct ctxmig_gpu *gpu, u64 root);
	void (*pte_decode)(const struct ctxmig_gpu *gpu, u32 level, u32 sub,
			   const u64 *raw, struct ctxmig_pte *pte);
	int (*pte_encode)(const struct ctxmig_gpu *gpu, u32 level, u32 sub,
			  const struct ctxmig_pte *pte, u64 *raw);
	int (*decode)(struct ctxmig_gpu *gpu, u32 engine, const void *buf,
		      u32 len, u32 level, struct ctxmig_cmd *cmd);
	int (*encode)(const struct ctxmig_gpu *gpu, const struct ctxmig_cmd *cmd,
		      void *buf, u32 room);
	int (*encode_end)(const struct ctxmig_gpu *gpu, void *buf, u32 room);
};

/**
 * struct ctxmig_gpu - one emulated GPU
 * @model: what it emulates.
 * @vram: its device memory, sparse.
 * @vram_size: bytes of device memory in all.
 * @guest_size: bytes at the bottom of @vram the guest owns; everything
 *	above is ctxmig's reserved area (page tables it builds, re-encoded
 *	command buffers).
 * @pool_next: next free byte of the reserved area.
 * @va_bits: width of the GPU VA space this instance gives its guest, below
 *	the model's (a vGPU profile setting: instances that must migrate
 *	across models share a width all of them have).  The engine faults on
 *	guest VAs beyond it.
 * @window_va: first GPU VA of the window through which the reserved area
 *	is visible to the engine (the top of the model's VA space).
 * @mmio: the register file, @model->mmio_size bytes.
 * @eng: engine execution state.
 * @sys: how system addresses are reached, or NULL if they fault.
 * @sys_priv: passed to @sys.
 * @irq: called when an enabled interrupt is raised, or NULL.
 * @irq_priv: passed to @irq.
 * @migrated: migrations the state has been through, shown in the control
 *	page: a restore makes it one more than both the source's count and
 *	its own; a new session starts at 0.
 * @bounce: one page of scratch for copies and page-table builds.
 * @work: work done on a guest's or a stream's behalf that is not a copy
 *	of their bytes: page-table entries decoded by walks and leaves
 *	written by builds, pending commands decoded for a save.  With
 *	@vram.cleared it is what ctxmig_gpu_work() counts, so that a test
 *	can hold that work against the size of what caused it.
 */
struct ctxmig_gpu {
	const struct ctxmig_model *model;
	struct ctxmig_vram vram;
	u64 vram_size;
	u64 guest_size;
	u64 pool_next;
	u8 va_bits;
	u64 window_va;
	u32 *mmio;
	struct ctxmig_engine eng[CTXMIG_GPU_ENGINES];
	const struct ctxmig_sysmem_ops *sys;
	void *sys_priv;
	void (*irq)(void *priv, u32 engine, u32 sources);
	void *irq_priv;
	u32 migrated;
	u8 *bounce;
	u64 work;
};

#endif /* _CTXMIG_GPU_TYPES_H_ */
