// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig IR codec: streaming writer and validating streaming reader.
 *
 * Writer: records are built in a bounded staging buffer and drained as the
 * migration data_fd is read.  Bytes inside an open container cannot be
 * drained (the container's length is patched when it closes), everything
 * else can, so the buffer only ever holds what the reader of the fd has not
 * taken yet plus at most one container.
 *
 * Reader: fed whatever slices write() hands it.  It gathers one unit at a
 * time (preamble, record header, record payload) in a buffer sized for the
 * largest payload any policy allows, validates it against the policy table
 * (ctxmig_ir_policy.c) and hands the decoded record to its consumer.
 * Unknown optional records are skipped without buffering.  The first
 * failure is sticky and recorded with an errno, a reason and an offset.
 *
 * Both sides run a CRC32C over the stream; see struct ctxmig_ir_end.
 */
#include <linux/crc32c.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/stdarg.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include "ctxmig_ir.h"
#include "ctxmig_ir_policy.h"
#include "ctxmig_trace.h"

#define REC_HDR		sizeof(struct ctxmig_ir_rec)
#define PREAMBLE_V1	sizeof(struct ctxmig_ir_preamble)
#define PREAMBLE_MAX	4096U
#define PREAMBLE_CRC_LEN offsetof(struct ctxmig_ir_preamble, preamble_crc)
#define READER_BUF	(sizeof(struct ctxmig_ir_vram) + CTXMIG_IR_VRAM_CHUNK_MAX)

/**
 * ctxmig_ir_crc32c() - update a stream CRC
 * @crc: running value (start with ~0).
 * @data: bytes.
 * @len: byte count.
 *
 * Return: the new running value; the stream's CRC is its bitwise inverse.
 */
u32 ctxmig_ir_crc32c(u32 crc, const void *data, size_t len)
{
	const u8 *p = data;

	/* crc32c() takes an unsigned int length. */
	while (len) {
		unsigned int n = min_t(size_t, len, 1U << 30);

		crc = crc32c(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

/**
 * ctxmig_ir_set_error() - record an error and its reason
 * @error: where to record it.
 * @err: negative errno.
 * @fmt: printf format of the reason.
 *
 * Return: @err, so that callers can "return ctxmig_ir_set_error(...)".
 */
int ctxmig_ir_set_error(struct ctxmig_ir_error *error, int err,
			const char *fmt, ...)
{
	va_list args;

	error->err = err;
	va_start(args, fmt);
	vscnprintf(error->reason, sizeof(error->reason), fmt, args);
	va_end(args);
	return err;
}

/* Header flags a well-formed record of a known type carries. */
static u16 policy_flags(u16 type)
{
	const struct ctxmig_ir_policy *pol = ctxmig_ir_policy_get(type);

	return pol ? pol->flags : 0;
}

/* ---------------------------------------------------------------- writer */

/**
 * ctxmig_ir_writer_init() - prepare a writer
 * @w: writer.
 * @bufsize: staging buffer bytes, at least CTXMIG_IR_WRITER_MIN_BUF.
 *
 * Return: 0, -EINVAL for a buffer too small, -ENOMEM.
 */
int ctxmig_ir_writer_init(struct ctxmig_ir_writer *w, u32 bufsize)
{
	memset(w, 0, sizeof(*w));
	if (bufsize < CTXMIG_IR_WRITER_MIN_BUF)
		return -EINVAL;
	w->buf = kvmalloc(bufsize, GFP_KERNEL_ACCOUNT);
	if (!w->buf)
		return -ENOMEM;
	w->size = bufsize;
	w->crc = ~0U;
	return 0;
}

/**
 * ctxmig_ir_writer_fini() - release a writer's buffer
 * @w: writer; may have failed to initialise.
 */
void ctxmig_ir_writer_fini(struct ctxmig_ir_writer *w)
{
	kvfree(w->buf);
	w->buf = NULL;
}

/**
 * ctxmig_ir_room() - bytes the producer may emit before draining
 * @w: writer.
 *
 * Return: free bytes in the staging buffer.
 */
u32 ctxmig_ir_room(const struct ctxmig_ir_writer *w)
{
	return w->size - (w->tail - w->head);
}

/* Make @len contiguous bytes available at the tail, compacting if needed. */
static void *writer_reserve(struct ctxmig_ir_writer *w, u32 len)
{
	unsigned int i;

	if (!w->started || w->ended) {
		ctxmig_ir_set_error(&w->error, -EINVAL,
				    w->ended ? "record after END" :
					       "record before the preamble");
		return NULL;
	}
	if (len > ctxmig_ir_room(w)) {
		ctxmig_ir_set_error(&w->error, -ENOSPC,
				    "%u bytes do not fit, %u free", len,
				    ctxmig_ir_room(w));
		return NULL;
	}
	if (w->size - w->tail < len) {
		memmove(w->buf, w->buf + w->head, w->tail - w->head);
		for (i = 0; i < w->depth; i++)
			w->nest[i] -= w->head;
		w->committed -= w->head;
		w->tail -= w->head;
		w->head = 0;
	}
	return w->buf + w->tail;
}

/* Bytes outside any open container become part of the drainable stream. */
static void writer_commit(struct ctxmig_ir_writer *w)
{
	if (w->depth)
		return;
	w->crc = ctxmig_ir_crc32c(w->crc, w->buf + w->committed,
				  w->tail - w->committed);
	w->committed = w->tail;
}

/*
 * Count a record the writer emitted, of @bytes on the wire (a container:
 * its header); END is not one of the records END counts.
 */
static void writer_count(struct ctxmig_ir_writer *w, u16 type, u32 bytes)
{
	w->records += !w->depth && type != CTXMIG_IR_END;
	w->records_by_type[type & 0xff]++;
	w->bytes_by_type[type & 0xff] += bytes;
	trace_ctxmig_save_record(type, bytes);
}

static void put_header(void *at, u16 type, u16 flags, u32 len)
{
	struct ctxmig_ir_rec *rec = at;

	rec->type = cpu_to_le16(type);
	rec->flags = cpu_to_le16(flags);
	rec->len = cpu_to_le32(len);
}

/**
 * ctxmig_ir_put_preamble() - start a stream
 * @w: writer, fresh.
 * @caps: the source's model and capabilities.
 *
 * Return: 0 or -EINVAL if the stream was already started.
 */
int ctxmig_ir_put_preamble(struct ctxmig_ir_writer *w,
			   const struct ctxmig_caps *caps)
{
	struct ctxmig_ir_preamble *p = (void *)w->buf;

	if (w->started)
		return ctxmig_ir_set_error(&w->error, -EINVAL,
					   "preamble written twice");
	memset(p, 0, sizeof(*p));
	p->magic = cpu_to_le64(CTXMIG_IR_MAGIC);
	p->version_major = cpu_to_le16(CTXMIG_IR_VERSION_MAJOR);
	p->version_minor = cpu_to_le16(CTXMIG_IR_VERSION_MINOR);
	p->preamble_len = cpu_to_le32(sizeof(*p));
	p->model = cpu_to_le32(caps->model);
	p->features = cpu_to_le32(caps->features);
	p->vram_size = cpu_to_le64(caps->vram_size);
	p->va_bits = caps->va_bits;
	p->num_engines = caps->num_engines;
	p->page_sizes = cpu_to_le32(caps->page_sizes);
	p->preamble_crc = cpu_to_le32(~ctxmig_ir_crc32c(~0U, p, PREAMBLE_CRC_LEN));
	w->tail = sizeof(*p);
	w->started = true;
	writer_commit(w);
	return 0;
}

/**
 * ctxmig_ir_put() - emit one leaf record
 * @w: writer.
 * @type: record type.
 * @flags: CTXMIG_IR_F_* for the header (tests may forge any).
 * @payload: @len bytes.
 * @len: payload bytes.
 *
 * Return: 0, -ENOSPC if ctxmig_ir_room() is too small, -EINVAL outside a
 * stream.
 */
int ctxmig_ir_put(struct ctxmig_ir_writer *w, u16 type, u16 flags,
		  const void *payload, u32 len)
{
	u32 padded = ALIGN(len, CTXMIG_IR_ALIGN);
	u8 *at;

	if (padded < len || padded > U32_MAX - REC_HDR)
		return ctxmig_ir_set_error(&w->error, -E2BIG,
					   "record of %u bytes", len);
	at = writer_reserve(w, REC_HDR + padded);
	if (!at)
		return w->error.err;
	put_header(at, type, flags, len);
	memcpy(at + REC_HDR, payload, len);
	memset(at + REC_HDR + len, 0, padded - len);
	w->tail += REC_HDR + padded;
	writer_count(w, type, REC_HDR + padded);
	writer_commit(w);
	return 0;
}

/**
 * ctxmig_ir_nest_start() - open a container record
 * @w: writer.
 * @type: container type (its policy gives the flags).
 *
 * Everything emitted until ctxmig_ir_nest_end() is its payload and stays in
 * the staging buffer until then.
 *
 * Return: 0, -ENOSPC, or -EINVAL when nested too deep.
 */
int ctxmig_ir_nest_start(struct ctxmig_ir_writer *w, u16 type)
{
	u8 *at;

	if (w->depth >= CTXMIG_IR_MAX_DEPTH)
		return ctxmig_ir_set_error(&w->error, -EINVAL,
					   "containers nested too deep");
	at = writer_reserve(w, REC_HDR);
	if (!at)
		return w->error.err;
	put_header(at, type, policy_flags(type) | CTXMIG_IR_F_CONTAINER, 0);
	writer_count(w, type, REC_HDR);
	w->nest[w->depth++] = w->tail;
	w->tail += REC_HDR;
	return 0;
}

/**
 * ctxmig_ir_nest_end() - close the innermost open container
 * @w: writer.
 *
 * Return: 0 or -EINVAL if none is open.
 */
int ctxmig_ir_nest_end(struct ctxmig_ir_writer *w)
{
	struct ctxmig_ir_rec *rec;
	u32 start;

	if (!w->depth)
		return ctxmig_ir_set_error(&w->error, -EINVAL,
					   "no container to close");
	start = w->nest[--w->depth];
	rec = (void *)(w->buf + start);
	rec->len = cpu_to_le32(w->tail - start - REC_HDR);
	writer_commit(w);
	return 0;
}

/**
 * ctxmig_ir_put_device() - emit the DEVICE record
 * @w: writer, right after the preamble.
 * @id: identity of the source device.
 * @caps: the capabilities given to ctxmig_ir_put_preamble().
 *
 * Return: 0 or a negative errno from the writer.
 */
int ctxmig_ir_put_device(struct ctxmig_ir_writer *w,
			 const struct ctxmig_identity *id,
			 const struct ctxmig_caps *caps)
{
	struct ctxmig_ir_dev_identity wid = {
		.pci_vendor = cpu_to_le16(id->pci_vendor),
		.pci_device = cpu_to_le16(id->pci_device),
		.revision = id->revision,
		.model = cpu_to_le32(id->model),
		.migrated = cpu_to_le32(id->migrated),
	};
	struct ctxmig_ir_dev_caps wcaps = {
		.vram_size = cpu_to_le64(caps->vram_size),
		.features = cpu_to_le32(caps->features),
		.page_sizes = cpu_to_le32(caps->page_sizes),
		.va_bits = caps->va_bits,
		.num_engines = caps->num_engines,
	};
	int err;

	memcpy(wid.name, id->name, strnlen(id->name, sizeof(wid.name)));
	err = ctxmig_ir_nest_start(w, CTXMIG_IR_DEVICE);
	if (!err)
		err = ctxmig_ir_put(w, CTXMIG_IR_DEV_IDENTITY,
				    CTXMIG_IR_F_CRITICAL, &wid, sizeof(wid));
	if (!err)
		err = ctxmig_ir_put(w, CTXMIG_IR_DEV_CAPS, CTXMIG_IR_F_CRITICAL,
				    &wcaps, sizeof(wcaps));
	if (!err)
		err = ctxmig_ir_nest_end(w);
	return err;
}

/**
 * ctxmig_ir_put_engine() - emit one ENGINE record
 * @w: writer.
 * @ring: ring state, naming the engine.
 * @fence: fence state, or NULL.
 * @irq: interrupt state, or NULL.
 *
 * Return: 0 or a negative errno from the writer.
 */
int ctxmig_ir_put_engine(struct ctxmig_ir_writer *w,
			 const struct ctxmig_ring *ring,
			 const struct ctxmig_fence *fence,
			 const struct ctxmig_irq *irq)
{
	struct ctxmig_ir_eng_ring wring = {
		.engine = cpu_to_le32(ring->engine),
		.flags = cpu_to_le32(ring->flags),
		.base = cpu_to_le64(ring->base),
		.size = cpu_to_le32(ring->size),
		.head = cpu_to_le32(ring->head),
		.tail = cpu_to_le32(ring->tail),
		.ib_va_base = cpu_to_le64(ring->ib_va_base),
	};
	int err;

	err = ctxmig_ir_nest_start(w, CTXMIG_IR_ENGINE);
	if (!err)
		err = ctxmig_ir_put(w, CTXMIG_IR_ENG_RING, CTXMIG_IR_F_CRITICAL,
				    &wring, sizeof(wring));
	if (!err && fence) {
		struct ctxmig_ir_eng_fence wfence = {
			.emitted = cpu_to_le64(fence->emitted),
			.signalled = cpu_to_le64(fence->signalled),
			.addr = cpu_to_le64(fence->addr),
		};

		err = ctxmig_ir_put(w, CTXMIG_IR_ENG_FENCE,
				    CTXMIG_IR_F_CRITICAL, &wfence,
				    sizeof(wfence));
	}
	if (!err && irq) {
		struct ctxmig_ir_eng_irq wirq = {
			.enabled = cpu_to_le32(irq->enabled),
			.pending = cpu_to_le32(irq->pending),
		};

		err = ctxmig_ir_put(w, CTXMIG_IR_ENG_IRQ, CTXMIG_IR_F_CRITICAL,
				    &wirq, sizeof(wirq));
	}
	if (!err)
		err = ctxmig_ir_nest_end(w);
	return err;
}

/**
 * ctxmig_ir_put_cmd() - emit one pending command
 * @w: writer.
 * @cmd: the command in neutral form.
 *
 * Return: 0 or a negative errno from the writer.
 */
int ctxmig_ir_put_cmd(struct ctxmig_ir_writer *w, const struct ctxmig_cmd *cmd)
{
	struct ctxmig_ir_cmd wcmd = {
		.engine = cpu_to_le32(cmd->engine),
		.op = cmd->op,
		.level = cmd->level,
		.flags = cpu_to_le16(cmd->flags),
		.dst = cpu_to_le64(cmd->dst),
		.src = cpu_to_le64(cmd->src),
		.value = cpu_to_le64(cmd->value),
	};

	return ctxmig_ir_put(w, CTXMIG_IR_CMD, CTXMIG_IR_F_CRITICAL, &wcmd,
			     sizeof(wcmd));
}

/**
 * ctxmig_ir_put_mapping() - emit one address-space mapping
 * @w: writer.
 * @map: the mapping; mappings go in ascending, disjoint VA order.
 *
 * Return: 0 or a negative errno from the writer.
 */
int ctxmig_ir_put_mapping(struct ctxmig_ir_writer *w,
			  const struct ctxmig_mapping *map)
{
	struct ctxmig_ir_mapping wmap = {
		.va = cpu_to_le64(map->va),
		.size = cpu_to_le64(map->size),
		.addr = cpu_to_le64(map->addr),
		.flags = cpu_to_le32(map->flags),
		.cache = map->cache,
		.page_shift = map->page_shift,
	};

	return ctxmig_ir_put(w, CTXMIG_IR_MAPPING, CTXMIG_IR_F_CRITICAL, &wmap,
			     sizeof(wmap));
}

/**
 * ctxmig_ir_put_vram_zero() - emit a VRAM range that reads as zero
 * @w: writer.
 * @offset: VRAM offset, page aligned.
 * @length: bytes, whole pages.
 *
 * Return: 0 or a negative errno from the writer.
 */
int ctxmig_ir_put_vram_zero(struct ctxmig_ir_writer *w, u64 offset,
			    u64 length)
{
	struct ctxmig_ir_vram wv = {
		.offset = cpu_to_le64(offset),
		.length = cpu_to_le64(length),
	};

	return ctxmig_ir_put(w, CTXMIG_IR_VRAM_ZERO, CTXMIG_IR_F_CRITICAL, &wv,
			     sizeof(wv));
}

/* The header of a VRAM data record: rec, then struct ctxmig_ir_vram. */
static void put_vram_hdr(void *at, u64 offset, u32 len)
{
	struct ctxmig_ir_vram *wv = (void *)((u8 *)at + REC_HDR);

	put_header(at, CTXMIG_IR_VRAM, CTXMIG_IR_F_CRITICAL, sizeof(*wv) + len);
	wv->offset = cpu_to_le64(offset);
	wv->length = cpu_to_le64(len);
}

/*
 * One VRAM data record through the staging buffer.  The data go a page at
 * a time, each committed (taken into the stream's CRC) right after it was
 * copied, while it is still in the cache: one pass over the bytes, not a
 * copy of the whole record and then a CRC over it.
 */
static int put_vram_data(struct ctxmig_ir_writer *w, u64 offset,
			 const void *data, u32 len)
{
	u32 padded = ALIGN(len, CTXMIG_IR_ALIGN);
	u32 total = CTXMIG_IR_VRAM_HDR_BYTES + padded;
	u32 pos, n;
	u8 *at;

	at = writer_reserve(w, total);
	if (!at)
		return w->error.err;
	put_vram_hdr(at, offset, len);
	w->tail += CTXMIG_IR_VRAM_HDR_BYTES;
	for (pos = 0; pos < len; pos += n) {
		n = min_t(u32, len - pos, CTXMIG_IR_VRAM_PAGE_SIZE);
		memcpy(w->buf + w->tail, (const u8 *)data + pos, n);
		w->tail += n;
		writer_commit(w);
	}
	memset(w->buf + w->tail, 0, padded - len);
	w->tail += padded - len;
	writer_count(w, CTXMIG_IR_VRAM, total);
	writer_commit(w);
	return 0;
}

/**
 * ctxmig_ir_put_vram() - emit VRAM contents, eliding zero pages
 * @w: writer.
 * @offset: VRAM offset of @data, page aligned.
 * @data: the bytes.
 * @len: at most CTXMIG_IR_VRAM_CHUNK_MAX.
 *
 * Runs of zero pages become VRAM_ZERO records, runs of other pages VRAM
 * records.  Needs ctxmig_ir_vram_record_bytes(@len) of room.
 *
 * Return: 0, -EINVAL for bad arguments, or a negative errno from the writer.
 */
int ctxmig_ir_put_vram(struct ctxmig_ir_writer *w, u64 offset,
		       const void *data, u32 len)
{
	const u8 *p = data;
	u32 pos = 0;
	int err = 0;

	if (len > CTXMIG_IR_VRAM_CHUNK_MAX ||
	    !IS_ALIGNED(offset, CTXMIG_IR_VRAM_PAGE_SIZE))
		return ctxmig_ir_set_error(&w->error, -EINVAL,
					   "VRAM chunk 0x%llx+%u invalid",
					   (unsigned long long)offset, len);
	if (ctxmig_ir_room(w) < ctxmig_ir_vram_record_bytes(len))
		return ctxmig_ir_set_error(&w->error, -ENOSPC,
					   "VRAM chunk of %u bytes does not fit",
					   len);

	while (pos < len && !err) {
		u32 run = pos;
		bool zero = !memchr_inv(p + pos, 0,
					min_t(u32, len - pos,
					      CTXMIG_IR_VRAM_PAGE_SIZE));

		/* Extend the run while pages keep the same zero-ness. */
		while (run < len) {
			u32 n = min_t(u32, len - run, CTXMIG_IR_VRAM_PAGE_SIZE);

			if (!memchr_inv(p + run, 0, n) != zero)
				break;
			run += n;
		}
		/* A partial last page of zeroes is sent as data. */
		if (zero && !IS_ALIGNED(run - pos, CTXMIG_IR_VRAM_PAGE_SIZE))
			zero = false;
		if (zero)
			err = ctxmig_ir_put_vram_zero(w, offset + pos, run - pos);
		else
			err = put_vram_data(w, offset + pos, p + pos, run - pos);
		pos = run;
	}
	return err;
}

/**
 * ctxmig_ir_send_vram_pages() - deliver a VRAM record straight from its pages
 * @w: writer with nothing buffered and no open container.
 * @offset: VRAM offset of the first page, page aligned.
 * @pages: @n whole pages of CTXMIG_IR_VRAM_PAGE_SIZE bytes, none all zero,
 *	contiguous in VRAM from @offset.
 * @n: at most CTXMIG_IR_VRAM_CHUNK_MAX / CTXMIG_IR_VRAM_PAGE_SIZE.
 * @copy: puts @len bytes from @src at byte @at of the record in the
 *	reader's buffer; returns 0, or non-zero if it could not.
 * @ctx: passed to @copy.
 *
 * The record ctxmig_ir_put_vram() would write for these pages, without
 * staging it: @copy gets its header, then each page, and each page goes
 * into the stream's CRC right after its copy, while it is in the cache
 * (one pass over the bytes).  The stream's CRC, record count and
 * statistics then take the record in and it counts as drained.  This
 * lets a data_fd read copy VRAM to the reader once instead of through a
 * staging buffer and the writer's buffer; the stream is the same byte for
 * byte.  The pages must not change until this returns.
 *
 * Return: the record's bytes; -EFAULT if @copy failed, with the writer
 * unchanged (the pages may then go through ctxmig_ir_put_vram()); -EINVAL
 * for bad arguments or a writer not in that state.
 */
int ctxmig_ir_send_vram_pages(struct ctxmig_ir_writer *w, u64 offset,
			      const void *const *pages, u32 n,
			      ctxmig_ir_copy_fn copy, void *ctx)
{
	u32 len = n * CTXMIG_IR_VRAM_PAGE_SIZE;
	u32 total = CTXMIG_IR_VRAM_HDR_BYTES + len;
	u8 hdr[CTXMIG_IR_VRAM_HDR_BYTES];
	u32 crc, i, at = sizeof(hdr);

	if (!n || len > CTXMIG_IR_VRAM_CHUNK_MAX ||
	    !IS_ALIGNED(offset, CTXMIG_IR_VRAM_PAGE_SIZE))
		return ctxmig_ir_set_error(&w->error, -EINVAL,
					   "VRAM pages 0x%llx+%u invalid",
					   (unsigned long long)offset, n);
	if (!w->started || w->ended || w->depth || w->tail != w->head)
		return ctxmig_ir_set_error(&w->error, -EINVAL,
					   "VRAM pages with the writer busy");
	put_vram_hdr(hdr, offset, len);
	if (copy(ctx, 0, hdr, sizeof(hdr)))
		return -EFAULT;
	crc = ctxmig_ir_crc32c(w->crc, hdr, sizeof(hdr));
	for (i = 0; i < n; i++, at += CTXMIG_IR_VRAM_PAGE_SIZE) {
		if (copy(ctx, at, pages[i], CTXMIG_IR_VRAM_PAGE_SIZE))
			return -EFAULT;
		crc = ctxmig_ir_crc32c(crc, pages[i], CTXMIG_IR_VRAM_PAGE_SIZE);
	}
	w->crc = crc;
	w->offset += total;
	writer_count(w, CTXMIG_IR_VRAM, total);
	return total;
}

/**
 * ctxmig_ir_put_end() - finish the stream with its END record
 * @w: writer with no open container.
 *
 * Return: 0 or a negative errno from the writer.
 */
int ctxmig_ir_put_end(struct ctxmig_ir_writer *w)
{
	struct ctxmig_ir_end *end;
	u8 *at;

	if (w->depth)
		return ctxmig_ir_set_error(&w->error, -EINVAL,
					   "END inside a container");
	at = writer_reserve(w, REC_HDR + sizeof(*end));
	if (!at)
		return w->error.err;
	put_header(at, CTXMIG_IR_END, CTXMIG_IR_F_CRITICAL, sizeof(*end));
	w->tail += REC_HDR;
	writer_commit(w);

	end = (void *)(w->buf + w->tail);
	memset(end, 0, sizeof(*end));
	end->crc32c = cpu_to_le32(~w->crc);
	end->records = cpu_to_le64(w->records);
	w->tail += sizeof(*end);
	w->committed = w->tail;
	writer_count(w, CTXMIG_IR_END, REC_HDR + sizeof(*end));
	w->ended = true;
	return 0;
}

/**
 * ctxmig_ir_peek() - the next drainable bytes
 * @w: writer.
 * @len: set to the number of bytes at the returned address.
 *
 * Return: the bytes, valid until the next call on @w.
 */
const void *ctxmig_ir_peek(const struct ctxmig_ir_writer *w, u32 *len)
{
	*len = w->committed - w->head;
	return w->buf + w->head;
}

/**
 * ctxmig_ir_consume() - mark drained bytes as gone
 * @w: writer.
 * @len: bytes taken, at most what ctxmig_ir_peek() offered.
 */
void ctxmig_ir_consume(struct ctxmig_ir_writer *w, u32 len)
{
	len = min(len, w->committed - w->head);
	w->head += len;
	w->offset += len;
	if (w->head == w->tail) {
		w->head = 0;
		w->tail = 0;
		w->committed = 0;
	}
}

/* ---------------------------------------------------------------- reader */

/**
 * ctxmig_ir_reader_init() - prepare a reader
 * @r: reader.
 * @ops: consumer callbacks; may be NULL to validate only.
 * @priv: passed to @ops.
 *
 * Return: 0 or -ENOMEM.
 */
int ctxmig_ir_reader_init(struct ctxmig_ir_reader *r,
			  const struct ctxmig_ir_reader_ops *ops, void *priv)
{
	memset(r, 0, sizeof(*r));
	r->buf_size = max_t(u32, READER_BUF, PREAMBLE_MAX);
	r->buf = kvmalloc(r->buf_size, GFP_KERNEL_ACCOUNT);
	if (!r->buf)
		return -ENOMEM;
	r->ops = ops;
	r->priv = priv;
	r->state = CTXMIG_RS_PREAMBLE;
	r->need = PREAMBLE_V1;
	r->crc = ~0U;
	r->cmd_engine = -1;
	return 0;
}

/**
 * ctxmig_ir_reader_fini() - release a reader's buffer
 * @r: reader; may have failed to initialise.
 */
void ctxmig_ir_reader_fini(struct ctxmig_ir_reader *r)
{
	kvfree(r->buf);
	r->buf = NULL;
}

/**
 * ctxmig_ir_reader_fail() - stop the stream with an error
 * @r: reader.
 * @err: negative errno.
 * @fmt: printf format of the reason.
 *
 * The first error wins; its offset is the current record's.
 *
 * Return: the stream's error (@err unless one was recorded before).
 */
int ctxmig_ir_reader_fail(struct ctxmig_ir_reader *r, int err,
			  const char *fmt, ...)
{
	va_list args;
	int n = 0;

	if (r->state == CTXMIG_RS_FAILED)
		return r->error.err;
	r->state = CTXMIG_RS_FAILED;
	r->error.err = err;
	r->error.offset = r->rec_offset;
	if (r->rec_type)
		n = scnprintf(r->error.reason, sizeof(r->error.reason), "%s: ",
			      ctxmig_ir_type_name(r->rec_type));
	va_start(args, fmt);
	vscnprintf(r->error.reason + n, sizeof(r->error.reason) - n, fmt, args);
	va_end(args);
	return err;
}

static int decode_preamble(const struct ctxmig_ir_preamble *p, size_t len,
			   struct ctxmig_caps *caps,
			   struct ctxmig_ir_error *error)
{
	u32 crc, plen;

	if (len < PREAMBLE_V1)
		return ctxmig_ir_set_error(error, -ENODATA,
					   "preamble truncated at %zu bytes",
					   len);
	if (le64_to_cpu(p->magic) != CTXMIG_IR_MAGIC)
		return ctxmig_ir_set_error(error, -EINVAL,
					   "bad magic 0x%016llx: not a ctxmig stream",
					   (unsigned long long)le64_to_cpu(p->magic));
	memset(caps, 0, sizeof(*caps));
	caps->version_major = le16_to_cpu(p->version_major);
	caps->version_minor = le16_to_cpu(p->version_minor);
	if (caps->version_major != CTXMIG_IR_VERSION_MAJOR)
		return ctxmig_ir_set_error(error, -EPROTONOSUPPORT,
					   "IR version %u.%u, this reader speaks %u.x",
					   caps->version_major,
					   caps->version_minor,
					   CTXMIG_IR_VERSION_MAJOR);
	plen = le32_to_cpu(p->preamble_len);
	if (plen < PREAMBLE_V1 || plen > PREAMBLE_MAX ||
	    !IS_ALIGNED(plen, CTXMIG_IR_ALIGN))
		return ctxmig_ir_set_error(error, -EINVAL,
					   "preamble length %u invalid", plen);
	crc = ~ctxmig_ir_crc32c(~0U, p, PREAMBLE_CRC_LEN);
	if (crc != le32_to_cpu(p->preamble_crc))
		return ctxmig_ir_set_error(error, -EBADMSG,
					   "preamble CRC32C 0x%08x, expected 0x%08x",
					   le32_to_cpu(p->preamble_crc), crc);
	if (p->reserved || p->reserved2)
		return ctxmig_ir_set_error(error, -EINVAL,
					   "preamble reserved fields not zero");
	caps->model = le32_to_cpu(p->model);
	caps->features = le32_to_cpu(p->features);
	caps->vram_size = le64_to_cpu(p->vram_size);
	caps->va_bits = p->va_bits;
	caps->num_engines = p->num_engines;
	caps->page_sizes = le32_to_cpu(p->page_sizes);
	return ctxmig_ir_caps_check(caps, error);
}

/**
 * ctxmig_ir_check_preamble() - validate a stream's preamble on its own
 * @data: the first bytes of a stream.
 * @len: bytes at @data.
 * @caps: filled with the source's model and capabilities.
 * @error: filled in on failure.
 *
 * This is what a compatibility check reads: the preamble is enough to know
 * what the source state will need from a target.
 *
 * Return: 0 or a negative errno, with @error's reason set.
 */
int ctxmig_ir_check_preamble(const void *data, size_t len,
			     struct ctxmig_caps *caps,
			     struct ctxmig_ir_error *error)
{
	memset(error, 0, sizeof(*error));
	return decode_preamble(data, len, caps, error);
}

static int reader_preamble(struct ctxmig_ir_reader *r)
{
	const struct ctxmig_ir_preamble *p = (void *)r->buf;
	int err;

	if (r->need == PREAMBLE_V1) {
		struct ctxmig_ir_error perr = {};

		err = decode_preamble(p, r->fill, &r->caps, &perr);
		if (err)
			return ctxmig_ir_reader_fail(r, err, "%s", perr.reason);
		/* A later minor's longer preamble: read and ignore the rest. */
		r->need = le32_to_cpu(p->preamble_len);
		if (r->need > r->fill)
			return 0;
	}
	r->crc = ctxmig_ir_crc32c(r->crc, r->buf, r->fill);
	if (r->ops && r->ops->preamble) {
		err = r->ops->preamble(r, r->priv, &r->caps);
		if (err)
			return ctxmig_ir_reader_fail(r, err, "refused by the consumer");
	}
	r->state = CTXMIG_RS_HEADER;
	r->need = REC_HDR;
	r->fill = 0;
	return 0;
}

static int reader_event(struct ctxmig_ir_reader *r, struct ctxmig_ir_event *ev)
{
	int err;

	if (!r->ops || !r->ops->event)
		return 0;
	err = r->ops->event(r, r->priv, ev);
	if (err)
		return ctxmig_ir_reader_fail(r, err, "refused by the consumer");
	return 0;
}

/* Close every container that ends where the stream now is. */
static int reader_close_nests(struct ctxmig_ir_reader *r)
{
	while (r->depth && r->offset == r->nest[r->depth].end) {
		struct ctxmig_ir_nest *nest = &r->nest[r->depth];
		const struct ctxmig_ir_policy *pol =
			ctxmig_ir_policy_get(nest->type);
		struct ctxmig_ir_event ev = {
			.kind = CTXMIG_EV_NEST_END,
			.type = nest->type,
			.depth = r->depth - 1,
			.offset = nest->offset,
			.len = nest->end - nest->offset - REC_HDR,
		};
		int err;

		r->rec_type = nest->type;
		r->rec_offset = nest->offset;
		err = pol->close ? pol->close(r, nest) : 0;
		if (err)
			return err;
		r->depth--;
		err = reader_event(r, &ev);
		if (err)
			return err;
	}
	return 0;
}

/* The current record is whole and valid: hand it over, expect the next. */
static int reader_record_done(struct ctxmig_ir_reader *r,
			      struct ctxmig_ir_event *ev)
{
	int err;

	trace_ctxmig_restore_record(r->rec_type,
				    REC_HDR + ALIGN(r->rec_len, CTXMIG_IR_ALIGN));
	r->records += !r->depth;
	r->state = CTXMIG_RS_HEADER;
	r->need = REC_HDR;
	r->fill = 0;
	err = reader_event(r, ev);
	if (err)
		return err;
	return reader_close_nests(r);
}

/* The event of the current record, its decoded fields still to fill. */
static void reader_record_event(const struct ctxmig_ir_reader *r,
				struct ctxmig_ir_event *ev)
{
	*ev = (struct ctxmig_ir_event) {
		.kind = CTXMIG_EV_RECORD,
		.type = r->rec_type,
		.depth = r->depth,
		.offset = r->rec_offset,
		.len = r->rec_len,
	};
}

static int reader_payload(struct ctxmig_ir_reader *r, const u8 *payload)
{
	const struct ctxmig_ir_policy *pol = ctxmig_ir_policy_get(r->rec_type);
	struct ctxmig_ir_event ev;
	int err;

	reader_record_event(r, &ev);

	if (memchr_inv(payload + r->rec_len, 0, r->need - r->rec_len))
		return ctxmig_ir_reader_fail(r, -EINVAL, "padding not zero");
	if (r->rec_type != CTXMIG_IR_END)
		r->crc = ctxmig_ir_crc32c(r->crc, payload, r->need);

	err = pol->decode(r, payload, r->rec_len, &ev);
	if (err)
		return err;
	if (r->rec_type == CTXMIG_IR_END) {
		trace_ctxmig_restore_record(r->rec_type, REC_HDR + r->need);
		r->state = CTXMIG_RS_DONE;
		return reader_event(r, &ev);
	}
	return reader_record_done(r, &ev);
}

/*
 * A streamed VRAM record's range is in: validate it as a gathered one's
 * would be (all of the record but its data), then let the data flow.
 */
static int reader_vram_hdr(struct ctxmig_ir_reader *r)
{
	const struct ctxmig_ir_policy *pol = ctxmig_ir_policy_get(r->rec_type);
	struct ctxmig_ir_event ev = {};
	int err;

	r->crc = ctxmig_ir_crc32c(r->crc, r->buf, r->need);
	/* decode_vram() reads the range only and points past it. */
	err = pol->decode(r, r->buf, r->rec_len, &ev);
	if (err)
		return err;
	r->vram = ev.u.vram;
	r->vram.data = NULL;
	r->vram_at = r->vram.offset;
	r->vram_left = r->vram.length;
	r->dest_room = 0;
	r->state = CTXMIG_RS_VRAM_DATA;
	return 0;
}

/* A streamed VRAM record's data all landed; its padding may follow. */
static int reader_vram_end(struct ctxmig_ir_reader *r)
{
	struct ctxmig_ir_event ev;

	if (r->state == CTXMIG_RS_VRAM_DATA &&
	    !IS_ALIGNED(r->rec_len, CTXMIG_IR_ALIGN)) {
		r->state = CTXMIG_RS_VRAM_PAD;
		r->need = ALIGN(r->rec_len, CTXMIG_IR_ALIGN) - r->rec_len;
		r->fill = 0;
		return 0;
	}
	if (r->state == CTXMIG_RS_VRAM_PAD) {
		if (memchr_inv(r->buf, 0, r->need))
			return ctxmig_ir_reader_fail(r, -EINVAL,
						     "padding not zero");
		r->crc = ctxmig_ir_crc32c(r->crc, r->buf, r->need);
	}
	reader_record_event(r, &ev);
	ev.u.vram = r->vram;
	return reader_record_done(r, &ev);
}

/* @n bytes of an unknown record went by at @p. */
static int reader_skip(struct ctxmig_ir_reader *r, const u8 *p, size_t n)
{
	r->crc = ctxmig_ir_crc32c(r->crc, p, n);
	r->offset += n;
	r->skip_left -= n;
	if (r->skip_left)
		return 0;
	r->state = CTXMIG_RS_HEADER;
	r->need = REC_HDR;
	r->fill = 0;
	return reader_close_nests(r);
}

static int reader_header(struct ctxmig_ir_reader *r)
{
	const struct ctxmig_ir_rec *rec = (void *)r->buf;
	struct ctxmig_ir_nest *parent = &r->nest[r->depth];
	const char *where = r->depth ? ctxmig_ir_type_name(parent->type) :
				       "stream";
	const struct ctxmig_ir_policy *pol;
	u64 padded, end;

	r->rec_type = le16_to_cpu(rec->type);
	r->rec_flags = le16_to_cpu(rec->flags);
	r->rec_len = le32_to_cpu(rec->len);
	r->rec_offset = r->offset - REC_HDR;
	r->crc = ctxmig_ir_crc32c(r->crc, rec, REC_HDR);
	r->fill = 0;

	padded = ALIGN((u64)r->rec_len, CTXMIG_IR_ALIGN);
	end = r->offset + padded;
	if (r->rec_flags & ~CTXMIG_IR_F_KNOWN)
		return ctxmig_ir_reader_fail(r, -EINVAL, "unknown header flags 0x%x",
					     r->rec_flags);
	if (r->depth && end > parent->end)
		return ctxmig_ir_reader_fail(r, -EINVAL,
					     "%u bytes overrun the enclosing container",
					     r->rec_len);
	if (!r->records && r->rec_type != CTXMIG_IR_DEVICE)
		return ctxmig_ir_reader_fail(r, -EINVAL,
					     "first record must be DEVICE, not type 0x%x",
					     r->rec_type);

	pol = ctxmig_ir_policy_get(r->rec_type);
	if (!pol) {
		if (r->rec_flags & CTXMIG_IR_F_CRITICAL)
			return ctxmig_ir_reader_fail(r, -EOPNOTSUPP,
						     "unknown critical record type 0x%x",
						     r->rec_type);
		if (r->rec_len > CTXMIG_IR_SKIP_MAX)
			return ctxmig_ir_reader_fail(r, -E2BIG,
						     "unknown record of %u bytes, skip limit %u",
						     r->rec_len,
						     CTXMIG_IR_SKIP_MAX);
		trace_ctxmig_restore_skip(r->rec_type, REC_HDR + padded);
		if (r->ops && r->ops->skipped)
			r->ops->skipped(r, r->priv, r->rec_type, r->rec_offset,
					r->rec_len);
		r->records += !r->depth;
		r->skip_left = padded;
		r->state = CTXMIG_RS_SKIP;
		/* An empty one is over already. */
		return padded ? 0 : reader_skip(r, r->buf, 0);
	}

	if (r->rec_flags != pol->flags)
		return ctxmig_ir_reader_fail(r, -EINVAL, "flags 0x%x, expected 0x%x",
					     r->rec_flags, pol->flags);
	if (pol->parent != (r->depth ? parent->type : 0))
		return ctxmig_ir_reader_fail(r, -EINVAL, "not allowed %s%s",
					     r->depth ? "inside " : "at top level",
					     r->depth ? where : "");
	if (pol->max_count && parent->counts[r->rec_type] >= pol->max_count)
		return ctxmig_ir_reader_fail(r, -EINVAL, "more than %u in one %s",
					     pol->max_count, where);
	if (r->rec_len < pol->min_len)
		return ctxmig_ir_reader_fail(r, -EINVAL, "length %u below minimum %u",
					     r->rec_len, pol->min_len);
	if (r->rec_len > pol->max_len)
		return ctxmig_ir_reader_fail(r, -E2BIG, "length %u above maximum %u",
					     r->rec_len, pol->max_len);
	if (parent->counts[r->rec_type] < U8_MAX)
		parent->counts[r->rec_type]++;

	if (pol->flags & CTXMIG_IR_F_CONTAINER) {
		struct ctxmig_ir_event ev = {
			.kind = CTXMIG_EV_NEST_START,
			.type = r->rec_type,
			.depth = r->depth,
			.offset = r->rec_offset,
			.len = r->rec_len,
		};
		struct ctxmig_ir_nest *nest;
		int err;

		if (r->depth >= CTXMIG_IR_MAX_DEPTH)
			return ctxmig_ir_reader_fail(r, -EINVAL,
						     "containers nested deeper than %u",
						     CTXMIG_IR_MAX_DEPTH);
		nest = &r->nest[++r->depth];
		memset(nest, 0, sizeof(*nest));
		nest->type = r->rec_type;
		nest->offset = r->rec_offset;
		nest->end = end;
		r->records += r->depth == 1;
		trace_ctxmig_restore_record(r->rec_type, REC_HDR);
		err = reader_event(r, &ev);
		if (err)
			return err;
		return reader_close_nests(r);
	}

	if (r->rec_type == CTXMIG_IR_VRAM && r->ops && r->ops->vram_dest) {
		r->state = CTXMIG_RS_VRAM_HDR;
		r->need = sizeof(struct ctxmig_ir_vram);
		return 0;
	}
	r->state = CTXMIG_RS_PAYLOAD;
	r->need = padded;
	return padded ? 0 : reader_payload(r, r->buf);
}

/**
 * ctxmig_ir_feed_dest() - where the next bytes of the stream go
 * @r: reader.
 * @avail: bytes the caller has for it, at least one.
 * @dst: set to where they are to be written.
 *
 * The reader takes a stream a run at a time, each run written by the
 * caller where the reader says and then given with ctxmig_ir_feed_commit():
 * the header or payload being gathered, or, for a VRAM record and a
 * consumer with &ctxmig_ir_reader_ops.vram_dest, the VRAM page the data is
 * for.  So each byte is copied once, from wherever the caller has it (a
 * user buffer, with copy_from_user()) into its place, and the CRC32C is
 * taken from there while the bytes are in the cache.  Bytes written to
 * @dst and not committed are not part of the stream.
 *
 * Return: how many bytes may be written at @dst (1 to @avail), 0 if
 * @avail is 0, or the stream's negative errno once it failed (also for
 * bytes after END).
 */
ssize_t ctxmig_ir_feed_dest(struct ctxmig_ir_reader *r, size_t avail,
			    void **dst)
{
	void *to;
	int n;

	if (r->state == CTXMIG_RS_FAILED)
		return r->error.err;
	if (!avail)
		return 0;
	switch (r->state) {
	case CTXMIG_RS_VRAM_DATA:
		if (!r->dest_room) {
			n = r->ops->vram_dest(r, r->priv, r->vram_at,
					      r->vram_left, &to);
			if (n < 0)
				return ctxmig_ir_reader_fail(r, n,
							     "refused by the consumer");
			if (!n || n > r->vram_left)
				return ctxmig_ir_reader_fail(r, -EINVAL,
							     "consumer offers %d bytes for %llu",
							     n,
							     (unsigned long long)r->vram_left);
			r->dest = to;
			r->dest_room = n;
		}
		*dst = r->dest;
		return min_t(size_t, avail, r->dest_room);
	case CTXMIG_RS_SKIP:
		*dst = r->buf;
		return min_t(u64, min_t(u64, avail, r->skip_left), r->buf_size);
	case CTXMIG_RS_DONE:
		r->rec_type = 0;
		r->rec_offset = r->offset;
		return ctxmig_ir_reader_fail(r, -EINVAL,
					     "%zu bytes of trailing data after END",
					     avail);
	default:
		*dst = r->buf + r->fill;
		return min_t(size_t, avail, r->need - r->fill);
	}
}

/**
 * ctxmig_ir_feed_commit() - the caller wrote the next bytes of the stream
 * @r: reader.
 * @n: bytes written at the place ctxmig_ir_feed_dest() gave, at most what
 *	it returned; 0 is allowed (a copy that faulted at once).
 *
 * Every record the bytes complete is validated and handed to the ops
 * before this returns.
 *
 * Return: 0, or the stream's negative errno once it failed.
 */
int ctxmig_ir_feed_commit(struct ctxmig_ir_reader *r, size_t n)
{
	if (r->state == CTXMIG_RS_FAILED)
		return r->error.err;
	if (!n)
		return 0;
	switch (r->state) {
	case CTXMIG_RS_VRAM_DATA:
		r->crc = ctxmig_ir_crc32c(r->crc, r->dest, n);
		r->dest += n;
		r->dest_room -= n;
		r->offset += n;
		r->vram_at += n;
		r->vram_left -= n;
		return r->vram_left ? 0 : reader_vram_end(r);
	case CTXMIG_RS_SKIP:
		return reader_skip(r, r->buf, n);
	default:
		break;
	}
	r->fill += n;
	r->offset += n;
	if (r->fill < r->need)
		return 0;
	switch (r->state) {
	case CTXMIG_RS_PREAMBLE:
		return reader_preamble(r);
	case CTXMIG_RS_HEADER:
		return reader_header(r);
	case CTXMIG_RS_PAYLOAD:
		return reader_payload(r, r->buf);
	case CTXMIG_RS_VRAM_HDR:
		return reader_vram_hdr(r);
	default:
		return reader_vram_end(r);
	}
}

/**
 * ctxmig_ir_feed() - give the reader the next bytes of a stream
 * @r: reader.
 * @data: bytes, any split of the stream.
 * @len: byte count.
 *
 * Every complete record in the bytes is validated and handed to the ops
 * before this returns; a partial one waits for the next call.  The bytes
 * go where ctxmig_ir_feed_dest() says, but for a whole payload, aligned
 * for the wire structures, which is used in place, and a skipped record,
 * which is only taken into the CRC.
 *
 * Return: 0, or the stream's negative errno once it failed (see
 * ctxmig_ir_reader_error() for the reason).
 */
int ctxmig_ir_feed(struct ctxmig_ir_reader *r, const void *data, size_t len)
{
	const u8 *p = data;
	ssize_t n;
	void *dst;
	int err = 0;

	while (len && !err) {
		if (r->state == CTXMIG_RS_PAYLOAD && !r->fill &&
		    len >= r->need && IS_ALIGNED((unsigned long)p, sizeof(u64))) {
			n = r->need;
			r->offset += n;
			err = reader_payload(r, p);
		} else if (r->state == CTXMIG_RS_SKIP) {
			n = min_t(u64, r->skip_left, len);
			err = reader_skip(r, p, n);
		} else {
			n = ctxmig_ir_feed_dest(r, len, &dst);
			if (n < 0)
				return n;
			memcpy(dst, p, n);
			err = ctxmig_ir_feed_commit(r, n);
		}
		p += n;
		len -= n;
	}
	return r->state == CTXMIG_RS_FAILED ? r->error.err : err;
}

/**
 * ctxmig_ir_reader_finish() - the writer says the stream is over
 * @r: reader.
 *
 * Return: 0 if a complete, valid stream was read; -ENODATA if it stopped
 * before its END record; the stream's error if it failed before.
 */
int ctxmig_ir_reader_finish(struct ctxmig_ir_reader *r)
{
	if (r->state == CTXMIG_RS_DONE)
		return 0;
	if (r->state == CTXMIG_RS_FAILED)
		return r->error.err;
	/* Inside a payload the reason names the record that was cut short. */
	if (r->state == CTXMIG_RS_PREAMBLE || r->state == CTXMIG_RS_HEADER) {
		r->rec_offset = r->offset - r->fill;
		r->rec_type = 0;
	}
	return ctxmig_ir_reader_fail(r, -ENODATA,
				     "stream ends at %llu bytes without END",
				     (unsigned long long)r->offset);
}

#if IS_ENABLED(CONFIG_CTXMIG_KUNIT_TEST)
#include "tests/ctxmig_ir_kunit.c"
#endif
