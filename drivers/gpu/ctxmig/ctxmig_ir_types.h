/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig IR codec: in-memory types.
 *
 * The wire structures live in include/uapi/linux/ctxmig.h and are
 * little-endian.  The codec converts them to and from the CPU-endian
 * structures below, which is all translators ever see.
 */
#ifndef _CTXMIG_IR_TYPES_H_
#define _CTXMIG_IR_TYPES_H_

#include <linux/types.h>
#include <linux/ctxmig.h>

/* Engines a stream may describe; bounds the reader's per-engine state. */
#define CTXMIG_MAX_ENGINES		8

/* Optional records a reader will skip; larger ones are refused. */
#define CTXMIG_IR_SKIP_MAX		(16U << 20)

/* Room for the longest reason a reader or writer reports. */
#define CTXMIG_IR_REASON_LEN		160

/**
 * struct ctxmig_caps - what a stream's state needs, CPU-endian
 * @model: &enum ctxmig_model_id of the source.
 * @version_major: stream major version (reader side only).
 * @version_minor: stream minor version (reader side only).
 * @features: CTXMIG_FEAT_*.
 * @vram_size: device memory bytes.
 * @va_bits: GPU virtual address width.
 * @num_engines: engines described, 1..CTXMIG_MAX_ENGINES.
 * @page_sizes: bit n set for pages of 2^n bytes.
 *
 * Mirrors &struct ctxmig_ir_preamble and &struct ctxmig_ir_dev_caps.
 */
struct ctxmig_caps {
	u32 model;
	u16 version_major;
	u16 version_minor;
	u32 features;
	u64 vram_size;
	u8 va_bits;
	u8 num_engines;
	u32 page_sizes;
};

/** struct ctxmig_identity - CPU-endian &struct ctxmig_ir_dev_identity */
struct ctxmig_identity {
	u16 pci_vendor;
	u16 pci_device;
	u8 revision;
	u32 model;
	char name[21];
	u32 migrated;
};

/** struct ctxmig_ring - CPU-endian &struct ctxmig_ir_eng_ring */
struct ctxmig_ring {
	u32 engine;
	u32 flags;
	u64 base;
	u32 size;
	u32 head;
	u32 tail;
	u64 ib_va_base;
};

/** struct ctxmig_fence - CPU-endian &struct ctxmig_ir_eng_fence */
struct ctxmig_fence {
	u64 emitted;
	u64 signalled;
	u64 addr;
};

/** struct ctxmig_irq - CPU-endian &struct ctxmig_ir_eng_irq */
struct ctxmig_irq {
	u32 enabled;
	u32 pending;
};

/** struct ctxmig_cmd - CPU-endian &struct ctxmig_ir_cmd */
struct ctxmig_cmd {
	u32 engine;
	u8 op;
	u8 level;
	u16 flags;
	u64 dst;
	u64 src;
	u64 value;
};

/** struct ctxmig_mapping - CPU-endian &struct ctxmig_ir_mapping */
struct ctxmig_mapping {
	u64 va;
	u64 size;
	u64 addr;
	u32 flags;
	u8 cache;
	u8 page_shift;
};

/**
 * struct ctxmig_vram_chunk - a VRAM range carried by a VRAM or VRAM_ZERO record
 * @offset: VRAM byte offset.
 * @length: bytes.
 * @data: @length bytes for VRAM, valid only during the callback that
 *	receives it; NULL for VRAM_ZERO, and for VRAM whose data the reader
 *	already wrote where &ctxmig_ir_reader_ops.vram_dest said.
 */
struct ctxmig_vram_chunk {
	u64 offset;
	u64 length;
	const void *data;
};

/** struct ctxmig_end - CPU-endian &struct ctxmig_ir_end */
struct ctxmig_end {
	u32 crc32c;
	u64 records;
};

/**
 * struct ctxmig_ir_error - why a stream was refused
 * @err: negative errno, 0 while no error happened.
 * @offset: stream offset of the record (or byte) at fault.
 * @reason: NUL-terminated human-readable reason.
 */
struct ctxmig_ir_error {
	int err;
	u64 offset;
	char reason[CTXMIG_IR_REASON_LEN];
};

/**
 * enum ctxmig_ir_event_kind - what a reader callback is told about
 * @CTXMIG_EV_RECORD: a complete, validated leaf record.
 * @CTXMIG_EV_NEST_START: a container opened; its children follow.
 * @CTXMIG_EV_NEST_END: a container closed and passed its checks.
 */
enum ctxmig_ir_event_kind {
	CTXMIG_EV_RECORD,
	CTXMIG_EV_NEST_START,
	CTXMIG_EV_NEST_END,
};

/**
 * struct ctxmig_ir_event - one validated record, decoded
 * @kind: &enum ctxmig_ir_event_kind.
 * @type: &enum ctxmig_ir_type.
 * @depth: nesting depth, 0 at top level.
 * @offset: stream offset of the record header.
 * @len: payload length on the wire.
 * @u: decoded payload, chosen by @type; unused for containers.
 */
struct ctxmig_ir_event {
	enum ctxmig_ir_event_kind kind;
	u16 type;
	u8 depth;
	u64 offset;
	u32 len;
	union {
		struct ctxmig_identity identity;
		struct ctxmig_caps caps;
		struct ctxmig_ring ring;
		struct ctxmig_fence fence;
		struct ctxmig_irq irq;
		struct ctxmig_cmd cmd;
		struct ctxmig_mapping mapping;
		struct ctxmig_vram_chunk vram;
		struct ctxmig_end end;
	} u;
};

struct ctxmig_ir_reader;

/**
 * struct ctxmig_ir_reader_ops - consumer of a validated stream
 * @preamble: called once the preamble is valid; may refuse the stream
 *	(e.g. incompatible target) by returning a negative errno after
 *	ctxmig_ir_reader_fail().  Optional.
 * @event: called for every record in stream order, after the record passed
 *	validation.  Returning a negative errno stops the stream.  Optional.
 * @skipped: called for an unknown optional record that was skipped.
 *	Optional.
 * @vram_dest: where the data of a VRAM record goes.  Called once a VRAM
 *	record's header and range passed validation, before each run of
 *	its data: @offset is the VRAM byte the next data byte is for, @left
 *	how many data bytes of the record are still to come.  Sets @dst to
 *	where the byte at @offset is to be written and returns how many
 *	bytes may be written there (at least one, at most @left), or a
 *	negative errno after ctxmig_ir_reader_fail().  The reader writes the
 *	data there itself and takes it into the CRC once it landed, and the
 *	record's event comes after its last byte with a NULL
 *	&ctxmig_vram_chunk.data.  Optional: without it VRAM data is gathered
 *	into the reader's buffer and given to @event, as every other payload.
 */
struct ctxmig_ir_reader_ops {
	int (*preamble)(struct ctxmig_ir_reader *r, void *priv,
			const struct ctxmig_caps *caps);
	int (*event)(struct ctxmig_ir_reader *r, void *priv,
		     const struct ctxmig_ir_event *ev);
	void (*skipped)(struct ctxmig_ir_reader *r, void *priv, u16 type,
			u64 offset, u32 len);
	int (*vram_dest)(struct ctxmig_ir_reader *r, void *priv, u64 offset,
			 u64 left, void **dst);
};

/*
 * Reader parse states; see ctxmig_ir_feed().  A VRAM record read for a
 * consumer with a @vram_dest op goes VRAM_HDR (its range, gathered),
 * VRAM_DATA (straight to the consumer's pages), VRAM_PAD (its padding,
 * gathered).
 */
enum ctxmig_ir_rstate {
	CTXMIG_RS_PREAMBLE,
	CTXMIG_RS_HEADER,
	CTXMIG_RS_PAYLOAD,
	CTXMIG_RS_VRAM_HDR,
	CTXMIG_RS_VRAM_DATA,
	CTXMIG_RS_VRAM_PAD,
	CTXMIG_RS_SKIP,
	CTXMIG_RS_DONE,
	CTXMIG_RS_FAILED,
};

/**
 * struct ctxmig_ir_nest - an open container on the reader's stack
 * @type: container record type.
 * @offset: stream offset of its header.
 * @end: stream offset just past its padded payload.
 * @counts: children seen so far, indexed by type (types < 256).
 */
struct ctxmig_ir_nest {
	u16 type;
	u64 offset;
	u64 end;
	u8 counts[256];
};

/**
 * struct ctxmig_ir_reader - incremental, validating IR stream reader
 *
 * Fed arbitrary slices of a stream by ctxmig_ir_feed(); buffers at most one
 * record (a header plus at most the largest payload a policy allows) and
 * calls its ops for each record that passed validation.  Never reads past
 * what it was given, never allocates per record.  Owned by one caller; no
 * internal locking.
 */
struct ctxmig_ir_reader {
	const struct ctxmig_ir_reader_ops *ops;
	void *priv;
	enum ctxmig_ir_rstate state;

	u8 *buf;
	u32 buf_size;
	u32 fill;
	u32 need;

	u64 offset;
	u32 crc;

	/* Current record, once its header was read. */
	u16 rec_type;
	u16 rec_flags;
	u32 rec_len;
	u64 rec_offset;
	u64 skip_left;

	/* VRAM record being streamed to @ops->vram_dest, and its next run. */
	struct ctxmig_vram_chunk vram;
	u64 vram_at;
	u64 vram_left;
	u8 *dest;
	u32 dest_room;

	struct ctxmig_caps caps;
	u64 records;

	unsigned int depth;
	struct ctxmig_ir_nest nest[CTXMIG_IR_MAX_DEPTH + 1];

	/* Cross-record ordering state. */
	unsigned long engines_seen;
	bool mapping_seen;
	u64 mapping_end;
	int cmd_engine;
	u8 cmd_level;
	bool cmd_open_ib;
	bool cmd_prev_open;

	struct ctxmig_ir_error error;
};

/**
 * struct ctxmig_ir_writer - incremental IR stream writer
 *
 * Records are emitted into a bounded staging buffer and drained with
 * ctxmig_ir_peek()/ctxmig_ir_consume(); only bytes outside open containers
 * can be drained.  The producer asks ctxmig_ir_room() before emitting.  The
 * whole stream never has to fit: a writer of N bytes of buffer streams any
 * amount of VRAM.  Owned by one caller; no internal locking.
 */
struct ctxmig_ir_writer {
	u8 *buf;
	u32 size;
	u32 head;
	u32 tail;
	u32 committed;

	u64 offset;
	u32 crc;
	u64 records;

	unsigned int depth;
	u32 nest[CTXMIG_IR_MAX_DEPTH];

	bool started;
	bool ended;
	u64 bytes_by_type[256];
	u64 records_by_type[256];

	struct ctxmig_ir_error error;
};

#endif /* _CTXMIG_IR_TYPES_H_ */
