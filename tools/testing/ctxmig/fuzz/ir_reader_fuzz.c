// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the ctxmig IR reader, built from the kernel sources
 * with ASan and UBSan ("make -f tools/testing/ctxmig/host.mk fuzz").
 *
 * Input layout.  Valid IR streams are a multiple of 8 bytes long, so the
 * input is split as:
 *
 *	[ stream: len & ~7 bytes ][ control trailer: len & 7 bytes ]
 *
 * Without a trailer (any seed in corpus/, which are plain valid streams)
 * the stream is fed in chunks whose sizes are derived from its first byte.
 * With a trailer, its first byte is the control byte:
 *
 *	bits 0-5  chunking seed (0: the whole stream in one call)
 *	bit 6     FIX_COUNT: rewrite the END record's record count
 *	bit 7     FIX_CRC: rewrite the preamble CRC and the END record's CRC32C
 *
 * and bit 0 of a second trailer byte copies every chunk to the start of a
 * buffer of its own before feeding it, as a write() handler does, so that
 * records start at any alignment (this found the reader decoding misaligned
 * payloads in place; it now gathers them).
 *
 * The FIX_* modes patch a copy of the mutated stream so that it passes the
 * checksum checks a mutation almost always breaks, which lets the fuzzer
 * reach the record-ordering rules and the END checks behind them.
 *
 * Every input is also given to ctxmig_ir_check_preamble().  The consumer
 * callbacks check what the reader promises its consumers (bounds of decoded
 * values, nesting balance, END last) and read every VRAM payload byte, so
 * that ASan sees any out-of-bounds data pointer.  A broken promise aborts.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/byteorder.h>
#include <stdlib.h>

#include "ctxmig_ir.h"
#include "ctxmig_ir_policy.h"
#include "fuzz_util.h"

#define BOUNCE		0x01

#ifndef CTXMIG_FUZZ_BOUNCE
#define CTXMIG_FUZZ_BOUNCE	1
#endif

/* What the callbacks saw of one stream. */
struct fuzz_state {
	struct ctxmig_caps caps;
	bool preamble;
	bool end;
	unsigned int depth;
	unsigned long engines;
	u64 last_offset;
	u64 events;
	u8 sink;
};

static int fuzz_preamble(struct ctxmig_ir_reader *r __always_unused,
			 void *priv, const struct ctxmig_caps *caps)
{
	struct fuzz_state *s = priv;

	fuzz_assert(!s->preamble);
	fuzz_assert(caps->version_major == CTXMIG_IR_VERSION_MAJOR);
	fuzz_assert(caps->num_engines >= 1 &&
		    caps->num_engines <= CTXMIG_MAX_ENGINES);
	fuzz_assert(caps->vram_size &&
		    IS_ALIGNED(caps->vram_size, CTXMIG_IR_VRAM_PAGE_SIZE));
	fuzz_assert(caps->va_bits >= 32 && caps->va_bits <= 64);
	fuzz_assert(caps->page_sizes & BIT(12));
	s->caps = *caps;
	s->preamble = true;
	return 0;
}

/* Read every byte of a VRAM payload, so ASan checks the data pointer. */
static u8 touch(const u8 *p, u64 len)
{
	u8 x = 0;
	u64 i;

	for (i = 0; i < len; i++)
		x ^= p[i];
	return x;
}

static void check_vram(struct fuzz_state *s, const struct ctxmig_ir_event *ev)
{
	const struct ctxmig_vram_chunk *v = &ev->u.vram;

	fuzz_assert(v->length);
	fuzz_assert(IS_ALIGNED(v->offset, CTXMIG_IR_VRAM_PAGE_SIZE));
	fuzz_assert(v->offset < s->caps.vram_size &&
		    v->length <= s->caps.vram_size - v->offset);
	if (ev->type == CTXMIG_IR_VRAM) {
		fuzz_assert(v->data);
		fuzz_assert(v->length <= CTXMIG_IR_VRAM_CHUNK_MAX);
		fuzz_assert(v->length + sizeof(struct ctxmig_ir_vram) == ev->len);
		s->sink ^= touch(v->data, v->length);
	} else {
		fuzz_assert(!v->data);
		fuzz_assert(IS_ALIGNED(v->length, CTXMIG_IR_VRAM_PAGE_SIZE));
	}
}

static int fuzz_event(struct ctxmig_ir_reader *r __always_unused,
		      void *priv, const struct ctxmig_ir_event *ev)
{
	struct fuzz_state *s = priv;

	fuzz_assert(s->preamble && !s->end);
	fuzz_assert(ev->depth <= CTXMIG_IR_MAX_DEPTH);
	fuzz_assert(ctxmig_ir_policy_get(ev->type));
	s->events++;

	switch (ev->kind) {
	case CTXMIG_EV_NEST_START:
		fuzz_assert(ev->depth == s->depth);
		fuzz_assert(ev->offset >= s->last_offset);
		s->last_offset = ev->offset;
		s->depth++;
		return 0;
	case CTXMIG_EV_NEST_END:
		fuzz_assert(s->depth && ev->depth == s->depth - 1);
		s->depth--;
		return 0;
	case CTXMIG_EV_RECORD:
		break;
	default:
		fuzz_assert(0);
	}

	fuzz_assert(ev->depth == s->depth);
	fuzz_assert(ev->offset >= s->last_offset);
	s->last_offset = ev->offset;

	switch (ev->type) {
	case CTXMIG_IR_DEV_IDENTITY:
		fuzz_assert(ev->u.identity.model == s->caps.model);
		fuzz_assert(strnlen(ev->u.identity.name,
				    sizeof(ev->u.identity.name)) <
			    sizeof(ev->u.identity.name));
		break;
	case CTXMIG_IR_ENG_RING:
		fuzz_assert(ev->u.ring.engine < s->caps.num_engines);
		fuzz_assert(!(s->engines & BIT(ev->u.ring.engine)));
		fuzz_assert(is_power_of_2(ev->u.ring.size));
		fuzz_assert(ev->u.ring.head < ev->u.ring.size &&
			    ev->u.ring.tail < ev->u.ring.size);
		fuzz_assert(s->caps.va_bits >= 64 ||
			    !(ev->u.ring.ib_va_base >> s->caps.va_bits));
		s->engines |= BIT(ev->u.ring.engine);
		break;
	case CTXMIG_IR_ENG_FENCE:
		fuzz_assert(ev->u.fence.signalled <= ev->u.fence.emitted);
		break;
	case CTXMIG_IR_CMD:
		fuzz_assert(ev->u.cmd.engine < s->caps.num_engines);
		fuzz_assert(s->engines & BIT(ev->u.cmd.engine));
		fuzz_assert(ev->u.cmd.op <= CTXMIG_OP_MAX);
		fuzz_assert(ev->u.cmd.level <= CTXMIG_IR_MAX_IB_LEVEL);
		break;
	case CTXMIG_IR_MAPPING:
		fuzz_assert(ev->u.mapping.size);
		fuzz_assert(ev->u.mapping.page_shift < 32 &&
			    (s->caps.page_sizes & BIT(ev->u.mapping.page_shift)));
		fuzz_assert(ev->u.mapping.cache <= CTXMIG_CACHE_MAX);
		break;
	case CTXMIG_IR_VRAM:
	case CTXMIG_IR_VRAM_ZERO:
		check_vram(s, ev);
		break;
	case CTXMIG_IR_END:
		fuzz_assert(!s->depth);
		fuzz_assert(s->engines == GENMASK(s->caps.num_engines - 1, 0));
		s->end = true;
		break;
	}
	return 0;
}

static void fuzz_skipped(struct ctxmig_ir_reader *r __always_unused,
			 void *priv, u16 type, u64 offset __always_unused,
			 u32 len)
{
	struct fuzz_state *s = priv;

	fuzz_assert(s->preamble && !s->end);
	fuzz_assert(!ctxmig_ir_policy_get(type));
	fuzz_assert(len <= CTXMIG_IR_SKIP_MAX);
}

static const struct ctxmig_ir_reader_ops fuzz_ops = {
	.preamble = fuzz_preamble,
	.event = fuzz_event,
	.skipped = fuzz_skipped,
};

static void run_reader(const u8 *data, size_t len, u8 seed, bool bounce)
{
	static u8 chunk[MAX_CHUNK];
	struct ctxmig_ir_reader r;
	struct fuzz_state s = {};
	const struct ctxmig_ir_error *e;
	u32 state = seed;
	size_t pos = 0;
	int err = 0, fin;

	if (ctxmig_ir_reader_init(&r, &fuzz_ops, &s))
		return;
	while (pos < len) {
		/* The shim's min() evaluates its arguments twice. */
		size_t n = seed ? next_chunk(&state) : len;
		int ret;

		n = min(n, len - pos);
		if (bounce) {
			memcpy(chunk, data + pos, n);
			ret = ctxmig_ir_feed(&r, chunk, n);
		} else {
			ret = ctxmig_ir_feed(&r, data + pos, n);
		}

		/* Once failed, a stream stays failed with the same error. */
		fuzz_assert(!err || ret == err);
		err = ret;
		pos += n;
	}
	/* Feeding nothing changes nothing. */
	fuzz_assert(ctxmig_ir_feed(&r, data, 0) == err);
	fin = ctxmig_ir_reader_finish(&r);
	e = ctxmig_ir_reader_error(&r);

	fuzz_assert(fin <= 0 && fin >= -4095);
	fuzz_assert(!err || fin == err);
	fuzz_assert(e->err == fin);
	fuzz_assert(memchr(e->reason, '\0', sizeof(e->reason)));
	if (fin) {
		fuzz_assert(e->reason[0]);
		fuzz_assert(e->offset <= len);
	} else {
		fuzz_assert(s.end && !s.depth);
		fuzz_assert(len % CTXMIG_IR_ALIGN == 0);
	}
	ctxmig_ir_reader_fini(&r);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	size_t len = size & ~(size_t)(CTXMIG_IR_ALIGN - 1);
	struct ctxmig_ir_error e;
	struct ctxmig_caps caps;
	u8 ctl, *copy = NULL;
	bool bounce;

	if (ctxmig_ir_check_preamble(data, size, &caps, &e) == 0)
		fuzz_assert(caps.num_engines && !e.err);
	else
		fuzz_assert(e.err < 0 && e.reason[0]);

	if (len == size) {
		run_reader(data, len, size ? data[0] & SEED_MASK : 0, false);
		return 0;
	}
	ctl = data[len];
	bounce = CTXMIG_FUZZ_BOUNCE && size - len > 1 &&
		 (data[len + 1] & BOUNCE);
	if (ctl & (FIX_CRC | FIX_COUNT)) {
		copy = malloc(len ? len : 1);
		if (!copy)
			return 0;
		memcpy(copy, data, len);
		fix_stream(copy, len, ctl);
		data = copy;
	}
	run_reader(data, len, ctl & SEED_MASK, bounce);
	free(copy);
	return 0;
}
