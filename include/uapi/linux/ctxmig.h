/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ctxmig: vendor-neutral GPU context intermediary representation (IR), and
 * the guest interface of a ctxmig vGPU.
 *
 * The guest interface (the end of this file) is what a guest driver sees
 * through the vGPU's PCI function: its PCI identity and ctxmig's control
 * page in BAR0.  Documentation/gpu/ctxmig/guest-interface.rst is its
 * normative description.
 *
 * The IR is the byte stream carried by a ctxmig vGPU's VFIO migration
 * data_fd.  It is produced by the source device's translator, consumed by
 * the destination device's translator, and can be decoded by userspace
 * (tools/ctxmig/ctxmig-dump).  Documentation/gpu/ctxmig/ir-format.rst is the
 * normative description, including the compatibility rules.
 *
 * Layout: one struct ctxmig_ir_preamble, then a sequence of records.  Every
 * record starts with a struct ctxmig_ir_rec header, is followed by @len bytes
 * of payload and padded with zeroes to the next multiple of 8 bytes.  A
 * record with CTXMIG_IR_F_CONTAINER carries nested records as its payload.
 * The last record is CTXMIG_IR_END, which holds a CRC32C of everything before
 * its payload.  All multi-byte fields are little-endian.
 */
#ifndef _UAPI_LINUX_CTXMIG_H
#define _UAPI_LINUX_CTXMIG_H

#include <linux/types.h>

/* "CTXMIGIR" read as a little-endian 64-bit value. */
#define CTXMIG_IR_MAGIC		0x524947494d585443ULL

/*
 * A reader accepts any stream whose major version equals its own.  Minor
 * versions only add optional (non-critical) records, new record fields at
 * the end of a payload, or new preamble fields within preamble_len; a reader
 * ignores what it does not know of those.  Anything else bumps the major.
 */
#define CTXMIG_IR_VERSION_MAJOR	1
#define CTXMIG_IR_VERSION_MINOR	2

/* Every record header and payload start on this boundary. */
#define CTXMIG_IR_ALIGN		8

/* Largest payload of one VRAM data record, and the VRAM page granule. */
#define CTXMIG_IR_VRAM_CHUNK_MAX	(64 * 1024)
#define CTXMIG_IR_VRAM_PAGE_SIZE	4096

/* Deepest nesting of containers a reader accepts (top level is depth 0). */
#define CTXMIG_IR_MAX_DEPTH	4

/**
 * enum ctxmig_model_id - GPU engine models known to this version of ctxmig
 * @CTXMIG_MODEL_INVALID: never valid on the wire.
 * @CTXMIG_MODEL_AMD_GFX9: AMD GFX9 (Vega) style engine.
 * @CTXMIG_MODEL_AMD_GFX12: AMD GFX12 style engine (GFX12 PTE layout).
 * @CTXMIG_MODEL_INTEL_GEN12: Intel Gen12 style render engine.
 * @CTXMIG_MODEL_NV_AMPERE: NVIDIA Ampere style engine (MMU v2).
 * @CTXMIG_MODEL_NV_HOPPER: NVIDIA Hopper style engine (MMU v3).
 *
 * A stream names its source model; a reader for another model translates.
 * New models take new numbers; numbers are never reused.
 */
enum ctxmig_model_id {
	CTXMIG_MODEL_INVALID		= 0,
	CTXMIG_MODEL_AMD_GFX9		= 1,
	CTXMIG_MODEL_AMD_GFX12		= 2,
	CTXMIG_MODEL_INTEL_GEN12	= 3,
	CTXMIG_MODEL_NV_AMPERE		= 4,
	CTXMIG_MODEL_NV_HOPPER		= 5,
};

/* Device features, in ctxmig_ir_preamble.features and ctxmig_ir_dev_caps. */
#define CTXMIG_FEAT_SYSMEM	(1U << 0) /* GPU VAs may map system memory */
#define CTXMIG_FEAT_FENCE_IRQ	(1U << 1) /* fences can raise an interrupt */
#define CTXMIG_FEAT_IB		(1U << 2) /* indirect buffers / batches */
#define CTXMIG_FEAT_COPY	(1U << 3) /* linear copy command */
#define CTXMIG_FEAT_WRITE64	(1U << 4) /* 64-bit immediate writes */
#define CTXMIG_FEAT_ALL		0x1fU

/**
 * struct ctxmig_ir_preamble - first bytes of every IR stream
 * @magic: CTXMIG_IR_MAGIC.
 * @version_major: CTXMIG_IR_VERSION_MAJOR of the writer.
 * @version_minor: CTXMIG_IR_VERSION_MINOR of the writer.
 * @preamble_len: size of this structure as written, a multiple of 8 and at
 *	least sizeof(struct ctxmig_ir_preamble) of version 1.0; the first
 *	record starts at this offset.
 * @model: source &enum ctxmig_model_id.
 * @features: CTXMIG_FEAT_* the source state may use.
 * @vram_size: bytes of device memory the source state addresses.
 * @va_bits: width of the GPU virtual address space of the source state.
 * @num_engines: number of engines whose state the stream carries.
 * @reserved: zero.
 * @page_sizes: bit n set when the source maps pages of 2^n bytes.
 * @preamble_crc: CRC32C of the preceding bytes of the preamble, so that a
 *	compatibility check can trust the preamble without the whole stream.
 * @reserved2: zero.
 *
 * The preamble alone answers "can model Y accept this stream": see
 * Documentation/gpu/ctxmig/ir-format.rst.
 */
struct ctxmig_ir_preamble {
	__le64 magic;
	__le16 version_major;
	__le16 version_minor;
	__le32 preamble_len;
	__le32 model;
	__le32 features;
	__le64 vram_size;
	__u8 va_bits;
	__u8 num_engines;
	__le16 reserved;
	__le32 page_sizes;
	__le32 preamble_crc;
	__le32 reserved2;
};

/* Record header flags. */
#define CTXMIG_IR_F_CRITICAL	(1U << 0) /* reader must understand it */
#define CTXMIG_IR_F_CONTAINER	(1U << 1) /* payload is nested records */
#define CTXMIG_IR_F_KNOWN	(CTXMIG_IR_F_CRITICAL | CTXMIG_IR_F_CONTAINER)

/**
 * struct ctxmig_ir_rec - header of every record
 * @type: &enum ctxmig_ir_type.
 * @flags: CTXMIG_IR_F_*; unknown flag bits must be zero.
 * @len: payload bytes following the header, excluding padding.
 */
struct ctxmig_ir_rec {
	__le16 type;
	__le16 flags;
	__le32 len;
};

/**
 * enum ctxmig_ir_type - record types of IR version 1
 * @CTXMIG_IR_DEVICE: container, critical, first record, exactly once;
 *	holds one DEV_IDENTITY and one DEV_CAPS.
 * @CTXMIG_IR_DEV_IDENTITY: &struct ctxmig_ir_dev_identity, in DEVICE.
 * @CTXMIG_IR_DEV_CAPS: &struct ctxmig_ir_dev_caps, in DEVICE; must agree
 *	with the preamble.
 * @CTXMIG_IR_ENGINE: container, critical, once per engine index; holds one
 *	ENG_RING and optionally ENG_FENCE and ENG_IRQ.
 * @CTXMIG_IR_ENG_RING: &struct ctxmig_ir_eng_ring, in ENGINE, first.
 * @CTXMIG_IR_ENG_FENCE: &struct ctxmig_ir_eng_fence, in ENGINE.
 * @CTXMIG_IR_ENG_IRQ: &struct ctxmig_ir_eng_irq, in ENGINE.
 * @CTXMIG_IR_CMD: &struct ctxmig_ir_cmd, a pending command; after the
 *	ENGINE record of its engine, in execution order.
 * @CTXMIG_IR_MAPPING: &struct ctxmig_ir_mapping; in ascending, disjoint
 *	GPU VA order.
 * @CTXMIG_IR_VRAM: &struct ctxmig_ir_vram followed by the bytes; a later
 *	record for the same bytes supersedes an earlier one (pre-copy).
 * @CTXMIG_IR_VRAM_ZERO: &struct ctxmig_ir_vram with no data: the range
 *	reads as zero.
 * @CTXMIG_IR_END: &struct ctxmig_ir_end, critical, last record.
 */
enum ctxmig_ir_type {
	CTXMIG_IR_DEVICE	= 0x0001,
	CTXMIG_IR_DEV_IDENTITY	= 0x0002,
	CTXMIG_IR_DEV_CAPS	= 0x0003,
	CTXMIG_IR_ENGINE	= 0x0010,
	CTXMIG_IR_ENG_RING	= 0x0011,
	CTXMIG_IR_ENG_FENCE	= 0x0012,
	CTXMIG_IR_ENG_IRQ	= 0x0013,
	CTXMIG_IR_CMD		= 0x0020,
	CTXMIG_IR_MAPPING	= 0x0030,
	CTXMIG_IR_VRAM		= 0x0040,
	CTXMIG_IR_VRAM_ZERO	= 0x0041,
	CTXMIG_IR_END		= 0x00ff,
};

/**
 * struct ctxmig_ir_dev_identity - who the source device was
 * @pci_vendor: PCI vendor ID the source vGPU presented.
 * @pci_device: PCI device ID the source vGPU presented.
 * @revision: PCI revision ID.
 * @reserved: zero.
 * @model: &enum ctxmig_model_id, equal to the preamble's.
 * @name: NUL-padded model name for humans; need not be NUL-terminated.
 * @migrated: (version 1.2) the source's CTXMIG_CTL_MIGRATED: how many
 *	migrations the state has been through; the target shows one more.
 *	A 1.0 or 1.1 stream, 32 bytes long, reads as 0.
 * @reserved2: zero.
 */
struct ctxmig_ir_dev_identity {
	__le16 pci_vendor;
	__le16 pci_device;
	__u8 revision;
	__u8 reserved[3];
	__le32 model;
	__u8 name[20];
	__le32 migrated;
	__le32 reserved2;
};

/**
 * struct ctxmig_ir_dev_caps - what the source state needs from a target
 * @vram_size: as the preamble.
 * @features: as the preamble.
 * @page_sizes: as the preamble.
 * @va_bits: as the preamble.
 * @num_engines: as the preamble.
 * @reserved: zero.
 */
struct ctxmig_ir_dev_caps {
	__le64 vram_size;
	__le32 features;
	__le32 page_sizes;
	__u8 va_bits;
	__u8 num_engines;
	__u8 reserved[6];
};

/* ctxmig_ir_eng_ring.flags */
#define CTXMIG_RING_ENABLED	(1U << 0)

/**
 * struct ctxmig_ir_eng_ring - an engine's command ring
 * @engine: engine index, below num_engines.
 * @flags: CTXMIG_RING_*.
 * @base: GPU virtual address of the ring.
 * @size: ring bytes, a power of two.
 * @head: byte offset of the next command the engine will fetch.
 * @tail: byte offset where the guest will write its next command.
 * @reserved: zero.
 * @ib_va_base: (version 1.1) GPU VA bits the engine adds to the address of
 *	an indirect buffer that a ring entry starts when the entry carries
 *	only the lower bits of it, as the engine holds them once it has read
 *	the commands pending in the ring (the base the guest's next entries
 *	use): NVIDIA Hopper's PB segment extended base, which a GPFIFO
 *	channel keeps until it is set again.  0 where ring entries carry
 *	whole addresses; a 1.0 stream, 32 bytes long, reads as 0.
 *
 * Head and tail describe the guest's view of its ring; the commands between
 * them travel as CTXMIG_IR_CMD records, not as native bytes.
 */
struct ctxmig_ir_eng_ring {
	__le32 engine;
	__le32 flags;
	__le64 base;
	__le32 size;
	__le32 head;
	__le32 tail;
	__le32 reserved;
	__le64 ib_va_base;
};

/**
 * struct ctxmig_ir_eng_fence - fence progress of an engine
 * @emitted: highest sequence number submitted to the engine.
 * @signalled: highest sequence number the engine has written.
 * @addr: GPU VA the engine writes sequence numbers to.
 */
struct ctxmig_ir_eng_fence {
	__le64 emitted;
	__le64 signalled;
	__le64 addr;
};

/**
 * struct ctxmig_ir_eng_irq - interrupt state of an engine
 * @enabled: CTXMIG_IRQ_* sources enabled.
 * @pending: CTXMIG_IRQ_* sources raised and not yet acknowledged.
 */
struct ctxmig_ir_eng_irq {
	__le32 enabled;
	__le32 pending;
};

/*
 * Interrupt sources: ctxmig_ir_eng_irq's bits, and the control page's
 * CTXMIG_CTL_IRQ_STATUS and CTXMIG_CTL_IRQ_ENABLE bits.
 */
#define CTXMIG_IRQ_FENCE	(1U << 0) /* a command asked for it */
#define CTXMIG_IRQ_ERROR	(1U << 1) /* the engine stopped on an error */
#define CTXMIG_IRQ_MIGRATED	(1U << 2) /* (1.2) a restore completed */
#define CTXMIG_IRQ_ALL		0x7U

/**
 * enum ctxmig_ir_op - neutral command opcodes
 * @CTXMIG_OP_NOP: nothing, or only the fence interrupt with CTXMIG_CMD_IRQ.
 * @CTXMIG_OP_WRITE32: write the low 32 bits of @value at @dst.
 * @CTXMIG_OP_WRITE64: write @value at @dst.
 * @CTXMIG_OP_COPY: copy @value bytes from @src to @dst.
 * @CTXMIG_OP_FENCE: write sequence number @value at @dst, then raise the
 *	fence interrupt if CTXMIG_CMD_IRQ.
 * @CTXMIG_OP_IB: execute the indirect buffer at @src of @value bytes; the
 *	commands it still has to execute follow as records at @level + 1,
 *	@dst holds the byte offset inside the buffer already executed.  With
 *	CTXMIG_CMD_IB_PRIVATE the buffer was in the source's own reserved
 *	memory, not the guest's: @src is 0 and only the records that follow
 *	describe it.  CTXMIG_CMD_IB_OPEN marks a buffer the engine had
 *	already fetched from its parent and was executing: only the first
 *	command of an engine, or the first command inside an open buffer,
 *	may carry it.
 */
enum ctxmig_ir_op {
	CTXMIG_OP_NOP		= 0,
	CTXMIG_OP_WRITE32	= 1,
	CTXMIG_OP_WRITE64	= 2,
	CTXMIG_OP_COPY		= 3,
	CTXMIG_OP_FENCE		= 4,
	CTXMIG_OP_IB		= 5,
	CTXMIG_OP_MAX		= CTXMIG_OP_IB,
};

/* ctxmig_ir_cmd.flags */
#define CTXMIG_CMD_IRQ		(1U << 0) /* FENCE or NOP raises the fence irq */
#define CTXMIG_CMD_FENCE64	(1U << 1) /* FENCE writes 64 bits */
#define CTXMIG_CMD_IB_PRIVATE	(1U << 2) /* IB not in guest memory */
#define CTXMIG_CMD_IB_OPEN	(1U << 3) /* IB already being executed */
#define CTXMIG_CMD_ALL		0xfU

/* Deepest indirect-buffer nesting a stream may describe. */
#define CTXMIG_IR_MAX_IB_LEVEL	3

/**
 * struct ctxmig_ir_cmd - one pending command in neutral form
 * @engine: engine index whose queue holds the command.
 * @op: &enum ctxmig_ir_op.
 * @level: 0 for the ring, n for commands inside an indirect buffer opened
 *	by the nearest preceding CTXMIG_OP_IB record at level n - 1.
 * @flags: CTXMIG_CMD_*.
 * @dst: destination GPU VA (or IB progress, see &enum ctxmig_ir_op).
 * @src: source GPU VA (COPY, IB).
 * @value: immediate value, sequence number or byte count.
 */
struct ctxmig_ir_cmd {
	__le32 engine;
	__u8 op;
	__u8 level;
	__le16 flags;
	__le64 dst;
	__le64 src;
	__le64 value;
};

/* ctxmig_ir_mapping.flags */
#define CTXMIG_MAP_READ		(1U << 0)
#define CTXMIG_MAP_WRITE	(1U << 1)
#define CTXMIG_MAP_EXEC		(1U << 2)
#define CTXMIG_MAP_SYSMEM	(1U << 3) /* @addr is a system (IOVA) address */
#define CTXMIG_MAP_SNOOP	(1U << 4) /* coherent with CPU caches */
#define CTXMIG_MAP_ALL		0x1fU

/**
 * enum ctxmig_ir_cache - neutral cache policy of a mapping
 * @CTXMIG_CACHE_DEFAULT: the target's default for the aperture.
 * @CTXMIG_CACHE_UNCACHED: no caching.
 * @CTXMIG_CACHE_WC: write-combined.
 * @CTXMIG_CACHE_CACHED: cached, coherent within the GPU.
 */
enum ctxmig_ir_cache {
	CTXMIG_CACHE_DEFAULT	= 0,
	CTXMIG_CACHE_UNCACHED	= 1,
	CTXMIG_CACHE_WC		= 2,
	CTXMIG_CACHE_CACHED	= 3,
	CTXMIG_CACHE_MAX	= CTXMIG_CACHE_CACHED,
};

/**
 * struct ctxmig_ir_mapping - a range of GPU VA mapped to one backing range
 * @va: GPU virtual address, aligned to 2^@page_shift.
 * @size: bytes, a non-zero multiple of 2^@page_shift.
 * @addr: VRAM offset, or system IOVA with CTXMIG_MAP_SYSMEM.
 * @flags: CTXMIG_MAP_*.
 * @cache: &enum ctxmig_ir_cache.
 * @page_shift: log2 of the page size the source used (12..30).
 * @reserved: zero.
 */
struct ctxmig_ir_mapping {
	__le64 va;
	__le64 size;
	__le64 addr;
	__le32 flags;
	__u8 cache;
	__u8 page_shift;
	__le16 reserved;
};

/**
 * struct ctxmig_ir_vram - header of a VRAM data or zero record
 * @offset: VRAM byte offset, a multiple of CTXMIG_IR_VRAM_PAGE_SIZE.
 * @length: bytes; for CTXMIG_IR_VRAM exactly the data that follows (at
 *	most CTXMIG_IR_VRAM_CHUNK_MAX), for CTXMIG_IR_VRAM_ZERO any multiple of
 *	CTXMIG_IR_VRAM_PAGE_SIZE.
 */
struct ctxmig_ir_vram {
	__le64 offset;
	__le64 length;
};

/**
 * struct ctxmig_ir_end - last record of a stream
 * @crc32c: CRC32C (Castagnoli, seed ~0, final xor ~0) of every stream byte
 *	from the preamble up to and including this record's header.
 * @reserved: zero.
 * @records: number of top-level records before this one.  Records inside
 *	containers are not counted: a reader that skips an unknown container
 *	cannot see them (the CRC covers them).
 */
struct ctxmig_ir_end {
	__le32 crc32c;
	__le32 reserved;
	__le64 records;
};

/*
 * The guest interface.  Every ctxmig vGPU is one PCI function, whatever its
 * model: a VMM compares a device's read-only config bytes on both sides of
 * a migration and refuses a difference, so the model cannot be told there.
 * A guest driver binds to these IDs, reads the model from the control page
 * (CTXMIG_CTL_MODEL) and learns that it changed from CTXMIG_CTL_MIGRATED or
 * CTXMIG_IRQ_MIGRATED.
 *
 * 1af4:10f0 lies in 1af4:10f0-10ff, the range QEMU's docs/specs/pci-ids.rst
 * leaves "available for experimental usage without registration".  An ID of
 * ctxmig's own is needed before an upstream merge or shipping.
 */
#define CTXMIG_PCI_VENDOR_ID		0x1af4
#define CTXMIG_PCI_DEVICE_ID		0x10f0
#define CTXMIG_PCI_SUBSYSTEM_VENDOR_ID	0x1af4
#define CTXMIG_PCI_SUBSYSTEM_ID		0x10f0
#define CTXMIG_PCI_REVISION		0x01
/* Base class, sub-class, programming interface: display controller, other. */
#define CTXMIG_PCI_CLASS		0x038000
/* BAR0: the model's registers, then the control page, on every model. */
#define CTXMIG_PCI_BAR0_SIZE		0x10000

/*
 * The control page: the last 4 KiB of BAR0, the same on every model.
 * Registers are 32 bits wide, little-endian, at these byte offsets from
 * the start of the page.  Offsets not listed read 0 and ignore writes.
 */
#define CTXMIG_CTL_BASE			0xf000	/* in BAR0 */
#define CTXMIG_CTL_SIZE			0x1000
#define CTXMIG_CTL_MAGIC		0x000	/* RO CTXMIG_CTL_MAGIC_VALUE */
#define CTXMIG_CTL_MODEL		0x004	/* RO enum ctxmig_model_id */
#define CTXMIG_CTL_MIGRATED		0x008	/* RO migrations of the state */
#define CTXMIG_CTL_IRQ_STATUS		0x00c	/* RW1C CTXMIG_IRQ_* pending */
#define CTXMIG_CTL_IRQ_ENABLE		0x010	/* RW CTXMIG_IRQ_* enabled */
#define CTXMIG_CTL_ENG_STATUS		0x014	/* RO enum ctxmig_eng_status */
#define CTXMIG_CTL_ENG_ERROR		0x018	/* RO positive errno, or 0 */
#define CTXMIG_CTL_VERSION		0x01c	/* RO major << 16 | minor */
#define CTXMIG_CTL_FENCE_LO		0x020	/* RO last fence written */
#define CTXMIG_CTL_FENCE_HI		0x024
#define CTXMIG_CTL_FAULT_VA_LO		0x028	/* RO GPU VA of the last fault */
#define CTXMIG_CTL_FAULT_VA_HI		0x02c
#define CTXMIG_CTL_VA_BITS		0x030	/* RO guest GPU VA width */
#define CTXMIG_CTL_GUEST_VRAM_LO	0x034	/* RO VRAM bytes the guest owns */
#define CTXMIG_CTL_GUEST_VRAM_HI	0x038

/* "CXMG" in the byte order of the page. */
#define CTXMIG_CTL_MAGIC_VALUE		0x474d5843

/*
 * The control page's version.  A minor version only adds registers at
 * offsets that read 0 before, and bits that read 0 and ignored writes
 * before; a guest written for a major version works with every minor of
 * it.  Another major version changes a meaning: a guest refuses a major it
 * does not know.  A migration may bring another minor version (another
 * host's ctxmig): a guest reads the version again in its recovery.
 */
#define CTXMIG_CTL_VERSION_MAJOR	1
#define CTXMIG_CTL_VERSION_MINOR	0
#define CTXMIG_CTL_VERSION_VALUE	\
	(CTXMIG_CTL_VERSION_MAJOR << 16 | CTXMIG_CTL_VERSION_MINOR)

/**
 * enum ctxmig_eng_status - what the engine is doing (CTXMIG_CTL_ENG_STATUS)
 * @CTXMIG_ENG_IDLE: it found nothing to execute when it last looked
 *	(ring disabled, or empty and no buffer open).
 * @CTXMIG_ENG_BUSY: commands pending.
 * @CTXMIG_ENG_ERROR: stopped on a fault or an illegal command, with
 *	CTXMIG_IRQ_ERROR raised; only a device reset or a restore leaves
 *	this state.
 */
enum ctxmig_eng_status {
	CTXMIG_ENG_IDLE		= 0,
	CTXMIG_ENG_BUSY		= 1,
	CTXMIG_ENG_ERROR	= 2,
};

#endif /* _UAPI_LINUX_CTXMIG_H */
