/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig IR codec: the streaming writer and the validating streaming reader
 * of the IR wire format (include/uapi/linux/ctxmig.h).
 *
 * The same sources build in the kernel and, through the shim headers in
 * tools/testing/ctxmig/include, in userspace.
 */
#ifndef _CTXMIG_IR_H_
#define _CTXMIG_IR_H_

#include <linux/kernel.h>
#include <asm/byteorder.h>

#include "ctxmig_ir_types.h"

/* Smallest writer buffer: one full VRAM chunk record plus slack. */
#define CTXMIG_IR_WRITER_MIN_BUF \
	(CTXMIG_IR_VRAM_CHUNK_MAX + \
	 (CTXMIG_IR_VRAM_CHUNK_MAX / CTXMIG_IR_VRAM_PAGE_SIZE) * \
	 (sizeof(struct ctxmig_ir_rec) + sizeof(struct ctxmig_ir_vram)) + 512)

u32 ctxmig_ir_crc32c(u32 crc, const void *data, size_t len);
const char *ctxmig_ir_type_name(u16 type);
const char *ctxmig_ir_model_name(u32 model);

/* Writer. */
int ctxmig_ir_writer_init(struct ctxmig_ir_writer *w, u32 bufsize);
void ctxmig_ir_writer_fini(struct ctxmig_ir_writer *w);
int ctxmig_ir_put_preamble(struct ctxmig_ir_writer *w,
			   const struct ctxmig_caps *caps);
int ctxmig_ir_put(struct ctxmig_ir_writer *w, u16 type, u16 flags,
		  const void *payload, u32 len);
int ctxmig_ir_nest_start(struct ctxmig_ir_writer *w, u16 type);
int ctxmig_ir_nest_end(struct ctxmig_ir_writer *w);
int ctxmig_ir_put_device(struct ctxmig_ir_writer *w,
			 const struct ctxmig_identity *id,
			 const struct ctxmig_caps *caps);
int ctxmig_ir_put_engine(struct ctxmig_ir_writer *w,
			 const struct ctxmig_ring *ring,
			 const struct ctxmig_fence *fence,
			 const struct ctxmig_irq *irq);
int ctxmig_ir_put_cmd(struct ctxmig_ir_writer *w, const struct ctxmig_cmd *cmd);
int ctxmig_ir_put_mapping(struct ctxmig_ir_writer *w,
			  const struct ctxmig_mapping *map);
int ctxmig_ir_put_vram(struct ctxmig_ir_writer *w, u64 offset,
		       const void *data, u32 len);
int ctxmig_ir_put_vram_zero(struct ctxmig_ir_writer *w, u64 offset,
			    u64 length);
/* A VRAM data record's header: rec, then struct ctxmig_ir_vram. */
#define CTXMIG_IR_VRAM_HDR_BYTES \
	(sizeof(struct ctxmig_ir_rec) + sizeof(struct ctxmig_ir_vram))
typedef int (*ctxmig_ir_copy_fn)(void *ctx, u32 at, const void *src, u32 len);
int ctxmig_ir_send_vram_pages(struct ctxmig_ir_writer *w, u64 offset,
			      const void *const *pages, u32 n,
			      ctxmig_ir_copy_fn copy, void *ctx);
int ctxmig_ir_put_end(struct ctxmig_ir_writer *w);
u32 ctxmig_ir_room(const struct ctxmig_ir_writer *w);
const void *ctxmig_ir_peek(const struct ctxmig_ir_writer *w, u32 *len);
void ctxmig_ir_consume(struct ctxmig_ir_writer *w, u32 len);

/**
 * ctxmig_ir_vram_record_bytes() - worst-case wire bytes of ctxmig_ir_put_vram()
 * @len: data bytes, at most CTXMIG_IR_VRAM_CHUNK_MAX.
 *
 * Zero pages are elided, so one call emits alternating VRAM and VRAM_ZERO
 * records: at most one header per page plus the data.
 *
 * Return: what ctxmig_ir_put_vram() needs from ctxmig_ir_room() at most.
 */
static inline u32 ctxmig_ir_vram_record_bytes(u32 len)
{
	u32 pages = DIV_ROUND_UP(len, CTXMIG_IR_VRAM_PAGE_SIZE);

	return pages * (sizeof(struct ctxmig_ir_rec) +
			sizeof(struct ctxmig_ir_vram)) +
	       ALIGN(len, CTXMIG_IR_ALIGN);
}

/* Reader. */
int ctxmig_ir_reader_init(struct ctxmig_ir_reader *r,
			  const struct ctxmig_ir_reader_ops *ops, void *priv);
void ctxmig_ir_reader_fini(struct ctxmig_ir_reader *r);
int ctxmig_ir_feed(struct ctxmig_ir_reader *r, const void *data, size_t len);
ssize_t ctxmig_ir_feed_dest(struct ctxmig_ir_reader *r, size_t avail,
			    void **dst);
int ctxmig_ir_feed_commit(struct ctxmig_ir_reader *r, size_t n);
int ctxmig_ir_reader_finish(struct ctxmig_ir_reader *r);
__printf(3, 4)
int ctxmig_ir_reader_fail(struct ctxmig_ir_reader *r, int err,
			  const char *fmt, ...);
int ctxmig_ir_check_preamble(const void *data, size_t len,
			     struct ctxmig_caps *caps,
			     struct ctxmig_ir_error *error);

/**
 * ctxmig_ir_reader_error() - why the reader stopped
 * @r: reader.
 *
 * Return: the error, whose @err is 0 while the stream is fine.
 */
static inline const struct ctxmig_ir_error *
ctxmig_ir_reader_error(const struct ctxmig_ir_reader *r)
{
	return &r->error;
}

#endif /* _CTXMIG_IR_H_ */
