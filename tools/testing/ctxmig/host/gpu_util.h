/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small guest driver for the host tests: sets a device up the way a
 * guest would (page tables in its own VRAM, a ring, commands in the
 * model's native format), and saves and restores through byte streams.
 *
 * Guest VRAM layout: page tables from 0x10000, the default mapping VA
 * 0x100000..0x500000 -> VRAM 0x400000, the ring at its start, command
 * buffers from VA 0x180000.
 */
#ifndef _CTXMIG_HOST_GPU_UTIL_H
#define _CTXMIG_HOST_GPU_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "ctxmig_gpu.h"
#include "ctxmig_xlate.h"

#define GU_PT_BASE	0x10000ULL
#define GU_PT_END	0x400000ULL
#define GU_VA		0x100000ULL
#define GU_VA_SIZE	(4ULL << 20)
#define GU_VRAM		0x400000ULL
#define GU_RING_SIZE	4096U
#define GU_BUF_VA	0x180000ULL
#define GU_BUF_END	0x200000ULL

static u64 gu_rng = 1;
static u64 gu_pt_next;
static u64 gu_buf_next;

static inline void gu_seed(u64 seed)
{
	gu_rng = seed ? seed : 1;
}

/* xorshift64*: deterministic, so a failure replays from its seed. */
static inline u64 gu_rand(void)
{
	gu_rng ^= gu_rng >> 12;
	gu_rng ^= gu_rng << 25;
	gu_rng ^= gu_rng >> 27;
	return gu_rng * 0x2545f4914f6cdd1dULL;
}

/* Words that look like commands now and then. */
static inline u32 gu_rand_word(void)
{
	static const u32 seeds[] = {
		0xc0003700, 0xc0064900, 0xc0055000, 0xc0023f00, 0x80000000,
		0x10000002, 0x10200003, 0x13000002, 0x18800101, 0x05000000,
		0x00000000, 0x20018000, 0x200a8017, 0x200580c0, 0x00000001,
	};

	switch (gu_rand() % 4) {
	case 0:
		return seeds[gu_rand() % ARRAY_SIZE(seeds)] |
		       (u32)(gu_rand() % 8);
	case 1:
		return gu_rand() % 64;
	default:
		return (u32)gu_rand();
	}
}

static inline u64 gu_pt_alloc(void *priv, u32 bytes)
{
	u64 at = gu_pt_next;

	if (at + 4096 > GU_PT_END)
		return U64_MAX;
	gu_pt_next += 4096;
	return at;
}

static inline int gu_map(struct ctxmig_gpu *gpu,
			 const struct ctxmig_mapping *map)
{
	return ctxmig_pt_map(gpu, map, gu_pt_alloc, NULL);
}

/* A device with the default mapping and an empty, enabled ring. */
static inline int gu_setup(struct ctxmig_gpu *gpu,
			   const struct ctxmig_model *m, u64 vram, u8 va_bits)
{
	struct ctxmig_mapping map = {
		.va = GU_VA, .size = GU_VA_SIZE, .addr = GU_VRAM,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE,
		.page_shift = 12,
	};
	struct ctxmig_ring ring = {
		.base = GU_VA, .size = GU_RING_SIZE,
		.flags = CTXMIG_RING_ENABLED,
	};
	int ret;

	ret = ctxmig_gpu_init(gpu, m, vram);
	if (ret)
		return ret;
	ret = ctxmig_gpu_set_va_bits(gpu, va_bits);
	gu_pt_next = GU_PT_BASE;
	gu_buf_next = GU_BUF_VA;
	ret = ret ?: gu_map(gpu, &map);
	ret = ret ?: m->ring_set(gpu, 0, &ring);
	if (ret)
		ctxmig_gpu_fini(gpu);
	return ret;
}

static inline u32 gu_read32(struct ctxmig_gpu *gpu, u64 va)
{
	u32 v = 0;

	ctxmig_gpu_access(gpu, va, &v, 4, false);
	return v;
}

static inline u64 gu_read64(struct ctxmig_gpu *gpu, u64 va)
{
	u64 v = 0;

	ctxmig_gpu_access(gpu, va, &v, 8, false);
	return v;
}

/* Append encoded commands to the ring, as the guest's driver would. */
static inline int gu_ring_append(struct ctxmig_gpu *gpu, const void *bytes,
				 u32 len)
{
	const struct ctxmig_model *m = gpu->model;
	struct ctxmig_ring ring;
	u32 first;
	int ret;

	m->ring_get(gpu, 0, &ring);
	if (((ring.head - ring.tail - 1) & (ring.size - 1)) < len)
		return -ENOSPC;
	first = min(len, ring.size - ring.tail);
	ret = ctxmig_gpu_poke(gpu, ring.base + ring.tail, bytes, first);
	if (!ret && len > first)
		ret = ctxmig_gpu_poke(gpu, ring.base, (const u8 *)bytes + first,
				      len - first);
	if (ret)
		return ret;
	ring.tail = (ring.tail + len) & (ring.size - 1);
	return m->ring_set(gpu, 0, &ring);
}

/*
 * Encode @n commands at @level (1 for a buffer started from the ring)
 * into a new buffer; return the level - 1 IB command that runs it.
 */
static inline int gu_make_ib(struct ctxmig_gpu *gpu,
			     const struct ctxmig_cmd *c, u32 n, u32 level,
			     struct ctxmig_cmd *ib)
{
	u8 buf[4096];
	u32 len = 0, i;
	int ret;

	for (i = 0; i < n; i++) {
		struct ctxmig_cmd cmd = c[i];

		cmd.level = level;
		ret = gpu->model->encode(gpu, &cmd, buf + len,
					 sizeof(buf) - len);
		if (ret < 0)
			return ret;
		len += ret;
	}
	ret = ctxmig_gpu_encode_end(gpu, buf + len, sizeof(buf) - len);
	if (ret < 0)
		return ret;
	len += ret;
	if (gu_buf_next + len > GU_BUF_END)
		return -ENOSPC;
	ret = ctxmig_gpu_poke(gpu, gu_buf_next, buf, len);
	memset(ib, 0, sizeof(*ib));
	ib->op = CTXMIG_OP_IB;
	ib->level = level - 1;
	ib->src = gu_buf_next;
	ib->value = len;
	gu_buf_next += ALIGN(len, 256);
	return ret;
}

/* Submit commands: into the ring, or via a buffer where the ring holds
 * only buffers (NVIDIA GPFIFO).
 */
static inline int gu_submit(struct ctxmig_gpu *gpu,
			    const struct ctxmig_cmd *c, u32 n)
{
	struct ctxmig_cmd ib;
	u8 buf[4096];
	u32 len = 0, i;
	int ret;

	if (gpu->model->ring_ib_only) {
		ret = gu_make_ib(gpu, c, n, 1, &ib);
		if (ret)
			return ret;
		ret = gpu->model->encode(gpu, &ib, buf, sizeof(buf));
		return ret < 0 ? ret : gu_ring_append(gpu, buf, ret);
	}
	for (i = 0; i < n; i++) {
		ret = gpu->model->encode(gpu, &c[i], buf + len,
					 sizeof(buf) - len);
		if (ret < 0)
			return ret;
		len += ret;
	}
	return gu_ring_append(gpu, buf, len);
}

struct gu_stream {
	u8 *buf;
	size_t len;
	size_t cap;
};

static inline void gu_stream_free(struct gu_stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

/* Move what the writer holds to the end of @out. */
static inline void gu_drain(struct ctxmig_ir_writer *w, struct gu_stream *out)
{
	const void *p;
	u32 len;

	while ((p = ctxmig_ir_peek(w, &len)) && len) {
		if (out->len + len > out->cap) {
			out->cap = (out->len + len) * 2;
			out->buf = realloc(out->buf, out->cap);
		}
		memcpy(out->buf + out->len, p, len);
		out->len += len;
		ctxmig_ir_consume(w, len);
	}
}

/* Save a device into @out; @why gets the reason on failure. */
static inline int gu_save(struct ctxmig_gpu *gpu, struct gu_stream *out,
			  char *why)
{
	struct ctxmig_ir_writer w;
	struct ctxmig_save s;
	int ret;

	out->len = 0;
	ret = ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF);
	if (ret)
		return ret;
	ret = ctxmig_save_init(&s, gpu);
	while (!ret) {
		ret = ctxmig_save_step(&s, &w);
		gu_drain(&w, out);
	}
	if (ret < 0)
		snprintf(why, CTXMIG_IR_REASON_LEN, "%s",
			 s.error.err ? s.error.reason : w.error.reason);
	ctxmig_save_fini(&s);
	ctxmig_ir_writer_fini(&w);
	return ret < 0 ? ret : 0;
}

/*
 * @len bytes written where the restore says, as the driver's write() takes
 * them (ctxmig_resume_copy()): each run copied into place and committed,
 * and with a @state one in four (by @state) cut to half, as a copy that
 * met a user page not mapped in is.  A run the restore offers beyond
 * @len, or none, aborts.
 */
static inline int gu_feed_in_place(struct ctxmig_restore *rs, const u8 *data,
				   size_t len, u32 *state)
{
	size_t pos = 0;
	ssize_t n;
	void *dst;
	int err;

	while (pos < len) {
		n = ctxmig_restore_dest(rs, len - pos, &dst);
		if (n < 0)
			return n;
		if (!n || (size_t)n > len - pos)
			abort();
		if (state) {
			*state = *state * 1103515245U + 12345U;
			if (!((*state >> 16) & 3))
				n /= 2;
		}
		memcpy(dst, data + pos, n);
		err = ctxmig_restore_commit(rs, n);
		if (err)
			return err;
		pos += n;
	}
	return 0;
}

/*
 * Restore @in into @gpu, fed in @chunk-byte pieces (0: at once); an odd
 * @chunk has them written in place (gu_feed_in_place()).
 */
static inline int gu_restore(struct ctxmig_gpu *gpu,
			     const struct gu_stream *in, size_t chunk,
			     char *why)
{
	struct ctxmig_restore *rs = calloc(1, sizeof(*rs));
	u32 state = chunk;
	size_t off = 0;
	int ret;

	if (!rs)
		return -ENOMEM;
	ret = ctxmig_restore_init(rs, gpu);
	if (!chunk)
		chunk = in->len ? in->len : 1;
	while (!ret && off < in->len) {
		size_t n = min(chunk, in->len - off);

		if (chunk & 1)
			ret = gu_feed_in_place(rs, in->buf + off, n, &state);
		else
			ret = ctxmig_restore_feed(rs, in->buf + off, n);
		off += n;
	}
	if (!ret)
		ret = ctxmig_restore_finish(rs);
	if (ret)
		snprintf(why, CTXMIG_IR_REASON_LEN, "%s",
			 ctxmig_restore_error(rs)->reason);
	ctxmig_restore_fini(rs);
	free(rs);
	return ret;
}

/* Registers equal, except the page-table root each device built itself. */
static inline bool gu_same_registers(struct ctxmig_gpu *a,
				     struct ctxmig_gpu *b)
{
	const struct ctxmig_model *m = a->model;
	u64 root = m->pt_root(b);
	bool same;

	m->set_pt_root(b, m->pt_root(a));
	same = !memcmp(a->mmio, b->mmio, m->mmio_size);
	m->set_pt_root(b, root);
	return same;
}

struct gu_walk {
	struct ctxmig_gpu *gpu;
	u64 last_end;
	int bad;
};

static inline int gu_walk_map(void *priv, const struct ctxmig_mapping *map)
{
	struct gu_walk *w = priv;
	struct ctxmig_xlate x;
	u64 last = map->va + map->size - CTXMIG_VRAM_PAGE_SIZE;

	if (map->va < w->last_end || ctxmig_pt_translate(w->gpu, last, &x) ||
	    x.flags != map->flags ||
	    x.addr + (last & (BIT_ULL(x.page_shift) - 1)) !=
	    map->addr + map->size - CTXMIG_VRAM_PAGE_SIZE)
		w->bad++;
	w->last_end = map->va + map->size;
	return 0;
}

/* Every walked run is ordered and translates as it says. */
static inline int gu_check_walk(struct ctxmig_gpu *gpu)
{
	static const struct ctxmig_pt_walk_ops ops = { .mapping = gu_walk_map };
	struct gu_walk w = { .gpu = gpu };
	int ret = ctxmig_pt_walk(gpu, &ops, &w);

	return ret ?: (w.bad ? -EINVAL : 0);
}

#endif
