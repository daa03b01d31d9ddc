// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the ctxmig IR codec, built from the kernel sources with
 * ASan and UBSan.  The per-rule catalogue is shared with KUnit
 * (drivers/gpu/ctxmig/tests/ctxmig_ir_cases.c); what is here on top needs a
 * host's time or memory: every chunk split, every truncation, every byte
 * flipped, random input, and a stream much larger than the writer's buffer.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include "ctxmig_ir.h"
#include "harness.h"

#include "tests/ctxmig_ir_cases.c"

/* Deterministic pseudo-random numbers (xorshift64*), seeded per test. */
static u64 rng_state;

static u64 rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static u8 *valid_stream(size_t *len)
{
	static const struct ctxmig_ir_case valid = {
		.name = "valid", .build = build_valid,
	};
	u8 *buf = NULL;

	if (case_write(&valid, &buf, len))
		return NULL;
	return buf;
}

TEST(crc32c_known_answer)
{
	/* The CRC-32C check value of "123456789" (RFC 3720 B.4). */
	CHECK_EQ(~ctxmig_ir_crc32c(~0U, "123456789", 9), 0xe3069283U);
	/* Split updates equal one update. */
	CHECK_EQ(ctxmig_ir_crc32c(ctxmig_ir_crc32c(~0U, "1234", 4), "56789", 5),
		 ctxmig_ir_crc32c(~0U, "123456789", 9));
}

/* Every catalogue case, written at once and in awkward chunk sizes. */
TEST(catalogue_all_chunkings)
{
	static const size_t chunks[] = { 0, 1, 3, 8, 13, 4096 };
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(ctxmig_ir_cases); i++) {
		const struct ctxmig_ir_case *c = &ctxmig_ir_cases[i];
		size_t len;
		u8 *buf;

		if (case_write(c, &buf, &len)) {
			CHECK(0, "%s: writer failed", c->name);
			continue;
		}
		for (j = 0; j < ARRAY_SIZE(chunks); j++) {
			struct ctxmig_ir_error e;
			int err = case_read(buf, len, chunks[j], &e, NULL);

			CHECK(err == c->expect,
			      "%s (chunk %zu): got %d, expected %d: %s", c->name,
			      chunks[j], err, c->expect, e.reason);
			if (c->reason)
				CHECK(strstr(e.reason, c->reason),
				      "%s: reason \"%s\" lacks \"%s\"", c->name,
				      e.reason, c->reason);
		}
		kvfree(buf);
	}
}

/*
 * A write() handler hands the reader each user buffer as it comes, at any
 * address: feed every valid case in chunks copied to odd addresses, so that
 * whole payloads arrive misaligned (UBSan traps a misaligned decode).
 */
TEST(catalogue_misaligned_chunks)
{
	static const size_t chunks[] = { 13, 4096, 65536 + 24 };
	unsigned int i, j;
	u8 *bounce;

	bounce = kmalloc(65536 + 64, GFP_KERNEL);
	CHECK(bounce, "no memory");
	if (!bounce)
		return;
	for (i = 0; i < ARRAY_SIZE(ctxmig_ir_cases); i++) {
		const struct ctxmig_ir_case *c = &ctxmig_ir_cases[i];
		size_t len;
		u8 *buf;

		if (c->expect || case_write(c, &buf, &len))
			continue;
		for (j = 0; j < ARRAY_SIZE(chunks); j++) {
			struct ctxmig_ir_reader r;
			size_t off = 0;
			int err;

			err = ctxmig_ir_reader_init(&r, NULL, NULL);
			while (!err && off < len) {
				size_t n = min(chunks[j], len - off);
				u8 *at = bounce + 1 + (off + j) % 7;

				memcpy(at, buf + off, n);
				err = ctxmig_ir_feed(&r, at, n);
				off += n;
			}
			if (!err)
				err = ctxmig_ir_reader_finish(&r);
			CHECK(!err, "%s (chunk %zu): %d: %s", c->name,
			      chunks[j], err, r.error.reason);
			ctxmig_ir_reader_fini(&r);
		}
		kvfree(buf);
	}
	kfree(bounce);
}

/* A consumer that keeps everything it is given. */
struct collect {
	struct ctxmig_caps caps;
	struct ctxmig_identity id;
	struct ctxmig_caps dev_caps;
	struct ctxmig_ring ring[2];
	struct ctxmig_fence fence;
	struct ctxmig_irq irq;
	struct ctxmig_cmd cmd[32];
	unsigned int ncmd;
	struct ctxmig_mapping map[8];
	unsigned int nmap;
	u8 vram[0x10000 + CASE_VRAM_LEN];
	u64 zero_bytes;
	unsigned int nest_start, nest_end, skipped;
	bool end;
};

static int collect_preamble(struct ctxmig_ir_reader *r, void *priv,
			    const struct ctxmig_caps *caps)
{
	((struct collect *)priv)->caps = *caps;
	return 0;
}

static int collect_event(struct ctxmig_ir_reader *r, void *priv,
			 const struct ctxmig_ir_event *ev)
{
	struct collect *c = priv;

	if (ev->kind == CTXMIG_EV_NEST_START) {
		c->nest_start++;
		return 0;
	}
	if (ev->kind == CTXMIG_EV_NEST_END) {
		c->nest_end++;
		return 0;
	}
	switch (ev->type) {
	case CTXMIG_IR_DEV_IDENTITY:
		c->id = ev->u.identity;
		break;
	case CTXMIG_IR_DEV_CAPS:
		c->dev_caps = ev->u.caps;
		break;
	case CTXMIG_IR_ENG_RING:
		c->ring[ev->u.ring.engine] = ev->u.ring;
		break;
	case CTXMIG_IR_ENG_FENCE:
		c->fence = ev->u.fence;
		break;
	case CTXMIG_IR_ENG_IRQ:
		c->irq = ev->u.irq;
		break;
	case CTXMIG_IR_CMD:
		if (c->ncmd < ARRAY_SIZE(c->cmd))
			c->cmd[c->ncmd++] = ev->u.cmd;
		break;
	case CTXMIG_IR_MAPPING:
		if (c->nmap < ARRAY_SIZE(c->map))
			c->map[c->nmap++] = ev->u.mapping;
		break;
	case CTXMIG_IR_VRAM:
		if (ev->u.vram.offset + ev->u.vram.length <= sizeof(c->vram))
			memcpy(c->vram + ev->u.vram.offset, ev->u.vram.data,
			       ev->u.vram.length);
		break;
	case CTXMIG_IR_VRAM_ZERO:
		c->zero_bytes += ev->u.vram.length;
		break;
	case CTXMIG_IR_END:
		c->end = true;
		break;
	}
	return 0;
}

static void collect_skipped(struct ctxmig_ir_reader *r, void *priv, u16 type,
			    u64 offset, u32 len)
{
	((struct collect *)priv)->skipped++;
}

static const struct ctxmig_ir_reader_ops collect_ops = {
	.preamble = collect_preamble,
	.event = collect_event,
	.skipped = collect_skipped,
};

#define SAME(a, b) (memcmp(&(a), &(b), sizeof(a)) == 0)

static bool same_caps(const struct ctxmig_caps *a, const struct ctxmig_caps *b)
{
	return a->model == b->model && a->features == b->features &&
	       a->vram_size == b->vram_size && a->va_bits == b->va_bits &&
	       a->num_engines == b->num_engines &&
	       a->page_sizes == b->page_sizes;
}

TEST(round_trip_every_record_type)
{
	struct ctxmig_ir_reader r;
	struct collect *c = calloc(1, sizeof(*c));
	unsigned int i;
	size_t len;
	u8 *buf = valid_stream(&len);

	CHECK(buf && c, "setup");
	if (!buf || !c)
		return;
	CHECK_EQ(ctxmig_ir_reader_init(&r, &collect_ops, c), 0);
	CHECK_EQ(ctxmig_ir_feed(&r, buf, len), 0);
	CHECK_EQ(ctxmig_ir_reader_finish(&r), 0);

	CHECK(same_caps(&c->caps, &case_caps), "preamble caps");
	CHECK_EQ(c->caps.version_major, CTXMIG_IR_VERSION_MAJOR);
	CHECK_EQ(c->caps.version_minor, CTXMIG_IR_VERSION_MINOR);
	CHECK(same_caps(&c->dev_caps, &case_caps), "DEV_CAPS");
	CHECK_EQ(c->id.pci_vendor, case_id.pci_vendor);
	CHECK_EQ(c->id.pci_device, case_id.pci_device);
	CHECK_EQ(c->id.revision, case_id.revision);
	CHECK_EQ(c->id.model, case_id.model);
	CHECK(!strcmp(c->id.name, case_id.name), "name %s", c->id.name);
	CHECK_EQ(c->id.migrated, case_id.migrated);
	for (i = 0; i < 2; i++) {
		CHECK_EQ(c->ring[i].engine, case_ring[i].engine);
		CHECK_EQ(c->ring[i].flags, case_ring[i].flags);
		CHECK_EQ(c->ring[i].base, case_ring[i].base);
		CHECK_EQ(c->ring[i].size, case_ring[i].size);
		CHECK_EQ(c->ring[i].head, case_ring[i].head);
		CHECK_EQ(c->ring[i].tail, case_ring[i].tail);
		CHECK_EQ(c->ring[i].ib_va_base, case_ring[i].ib_va_base);
	}
	CHECK(SAME(c->fence, case_fence), "fence");
	CHECK(SAME(c->irq, case_irq), "irq");
	CHECK_EQ(c->ncmd, ARRAY_SIZE(case_cmds));
	for (i = 0; i < c->ncmd; i++) {
		const struct ctxmig_cmd *a = &c->cmd[i], *b = &case_cmds[i];

		CHECK(a->engine == b->engine && a->op == b->op &&
		      a->level == b->level && a->flags == b->flags &&
		      a->dst == b->dst && a->src == b->src &&
		      a->value == b->value, "cmd %u", i);
	}
	CHECK_EQ(c->nmap, ARRAY_SIZE(case_maps));
	for (i = 0; i < c->nmap; i++) {
		const struct ctxmig_mapping *a = &c->map[i], *b = &case_maps[i];

		CHECK(a->va == b->va && a->size == b->size &&
		      a->addr == b->addr && a->flags == b->flags &&
		      a->cache == b->cache && a->page_shift == b->page_shift,
		      "mapping %u", i);
	}
	CHECK(!memcmp(c->vram + 0x10000, case_vram, CASE_VRAM_LEN), "VRAM bytes");
	/* The middle zero page was elided, plus the explicit 2 MiB. */
	CHECK_EQ(c->zero_bytes, CTXMIG_IR_VRAM_PAGE_SIZE + 0x200000);
	CHECK_EQ(c->nest_start, 3);
	CHECK_EQ(c->nest_end, 3);
	CHECK(c->end, "END delivered");
	ctxmig_ir_reader_fini(&r);
	kvfree(buf);
	free(c);
}

/* A 1.0 writer's ENG_RING ends before ib_va_base: it reads as 0. */
TEST(ring_of_version_1_0)
{
	static const struct ctxmig_ir_case c = {
		.name = "1.0 ring", .build = build_ring_v1_0,
	};
	struct ctxmig_ir_reader r;
	struct collect *col = calloc(1, sizeof(*col));
	size_t len;
	u8 *buf;

	CHECK(case_ring[0].ib_va_base, "the catalogue's ring has a base");
	CHECK_EQ(case_write(&c, &buf, &len), 0);
	CHECK_EQ(ctxmig_ir_reader_init(&r, &collect_ops, col), 0);
	CHECK_EQ(ctxmig_ir_feed(&r, buf, len), 0);
	CHECK_EQ(ctxmig_ir_reader_finish(&r), 0);
	CHECK_EQ(col->ring[0].base, case_ring[0].base);
	CHECK_EQ(col->ring[0].ib_va_base, 0);
	ctxmig_ir_reader_fini(&r);
	kvfree(buf);
	free(col);
}

TEST(identity_of_version_1_1)
{
	static const struct ctxmig_ir_case c = {
		.name = "1.1 identity", .build = build_identity_v1_1,
	};
	struct ctxmig_ir_reader r;
	struct collect *col = calloc(1, sizeof(*col));
	size_t len;
	u8 *buf;

	CHECK(case_id.migrated, "the catalogue's identity has a count");
	CHECK_EQ(case_write(&c, &buf, &len), 0);
	CHECK_EQ(ctxmig_ir_reader_init(&r, &collect_ops, col), 0);
	CHECK_EQ(ctxmig_ir_feed(&r, buf, len), 0);
	CHECK_EQ(ctxmig_ir_reader_finish(&r), 0);
	CHECK_EQ(col->id.model, case_id.model);
	CHECK_EQ(col->id.migrated, 0);
	ctxmig_ir_reader_fini(&r);
	kvfree(buf);
	free(col);
}

TEST(same_stream_twice_same_bytes)
{
	size_t la, lb;
	u8 *a = valid_stream(&la), *b = valid_stream(&lb);

	CHECK(a && b && la == lb && !memcmp(a, b, la), "writer is deterministic");
	kvfree(a);
	kvfree(b);
}

TEST(unknown_optional_reported_skipped)
{
	static const struct ctxmig_ir_case c = {
		.name = "opt", .build = build_unknown_optional_container,
	};
	struct ctxmig_ir_reader r;
	struct collect *col = calloc(1, sizeof(*col));
	size_t len;
	u8 *buf;

	CHECK_EQ(case_write(&c, &buf, &len), 0);
	CHECK_EQ(ctxmig_ir_reader_init(&r, &collect_ops, col), 0);
	CHECK_EQ(ctxmig_ir_feed(&r, buf, len), 0);
	CHECK_EQ(ctxmig_ir_reader_finish(&r), 0);
	CHECK_EQ(col->skipped, 1);
	ctxmig_ir_reader_fini(&r);
	kvfree(buf);
	free(col);
}

/* Cutting a valid stream anywhere must never yield a valid stream. */
TEST(every_truncation_rejected)
{
	size_t len, cut;
	u8 *buf = valid_stream(&len);

	for (cut = 0; buf && cut < len; cut++) {
		struct ctxmig_ir_error e;
		int err = case_read(buf, cut, 0, &e, NULL);

		if (err != -ENODATA) {
			CHECK(0, "cut at %zu: %d (%s)", cut, err, e.reason);
			break;
		}
	}
	kvfree(buf);
}

/* Any single corrupted byte is caught: by a rule, else by a CRC. */
TEST(every_byte_flip_rejected)
{
	size_t len, i;
	u8 *buf = valid_stream(&len);

	rng_state = 0x5eed;
	for (i = 0; buf && i < len; i++) {
		struct ctxmig_ir_error e;
		u8 flip = 1U << (rng() % 8);
		int err;

		buf[i] ^= flip;
		err = case_read(buf, len, 0, &e, NULL);
		buf[i] ^= flip;
		if (!err) {
			CHECK(0, "flip 0x%02x at %zu accepted", flip, i);
			break;
		}
	}
	kvfree(buf);
}

/* Random bytes, bare and behind a valid preamble: rejected, no crash. */
TEST(random_input_rejected)
{
	size_t vlen;
	u8 *valid = valid_stream(&vlen);
	u8 *buf = malloc(8192);
	unsigned int i;

	rng_state = 0xc0ffee;
	for (i = 0; valid && buf && i < 4000; i++) {
		size_t len = rng() % 8192, keep = 0, j;
		struct ctxmig_ir_error e;
		int err;

		if (i & 1) {
			keep = min_t(size_t, len, 48 + rng() % 512);
			memcpy(buf, valid, keep);
		}
		for (j = keep; j < len; j++)
			buf[j] = rng();
		err = case_read(buf, len, 1 + rng() % 64, &e, NULL);
		CHECK(err < 0, "random input %u accepted", i);
		CHECK(e.reason[0], "no reason for %d", err);
	}
	free(buf);
	kvfree(valid);
}

static int refuse_preamble(struct ctxmig_ir_reader *r, void *priv,
			   const struct ctxmig_caps *caps)
{
	return -EXDEV;
}

TEST(consumer_refusal_stops_stream)
{
	static const struct ctxmig_ir_reader_ops ops = {
		.preamble = refuse_preamble,
	};
	struct ctxmig_ir_reader r;
	size_t len;
	u8 *buf = valid_stream(&len);

	CHECK_EQ(ctxmig_ir_reader_init(&r, &ops, NULL), 0);
	CHECK_EQ(ctxmig_ir_feed(&r, buf, len), -EXDEV);
	CHECK_EQ(ctxmig_ir_reader_finish(&r), -EXDEV);
	/* A failed stream stays failed. */
	CHECK_EQ(ctxmig_ir_feed(&r, buf, len), -EXDEV);
	ctxmig_ir_reader_fini(&r);
	kvfree(buf);
}

TEST(check_preamble_alone)
{
	struct ctxmig_ir_error e;
	struct ctxmig_caps caps;
	size_t len;
	u8 *buf = valid_stream(&len);

	CHECK_EQ(ctxmig_ir_check_preamble(buf, len, &caps, &e), 0);
	CHECK(same_caps(&caps, &case_caps), "caps");
	CHECK_EQ(ctxmig_ir_check_preamble(buf, 47, &caps, &e), -ENODATA);
	buf[3] ^= 1;
	CHECK_EQ(ctxmig_ir_check_preamble(buf, len, &caps, &e), -EINVAL);
	kvfree(buf);
}

TEST(writer_misuse)
{
	struct ctxmig_ir_writer w;
	struct ctxmig_cmd nop = { .op = CTXMIG_OP_NOP };
	u8 page[CTXMIG_IR_VRAM_PAGE_SIZE] = { 1 };

	CHECK_EQ(ctxmig_ir_writer_init(&w, 1024), -EINVAL);
	CHECK_EQ(ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF), 0);
	CHECK_EQ(ctxmig_ir_put_cmd(&w, &nop), -EINVAL);
	CHECK_EQ(ctxmig_ir_nest_end(&w), -EINVAL);
	CHECK_EQ(ctxmig_ir_put_preamble(&w, &case_caps), 0);
	CHECK_EQ(ctxmig_ir_put_preamble(&w, &case_caps), -EINVAL);
	CHECK_EQ(ctxmig_ir_put_vram(&w, 0x800, page, sizeof(page)), -EINVAL);
	CHECK_EQ(ctxmig_ir_put_vram(&w, 0, page, CTXMIG_IR_VRAM_CHUNK_MAX + 1),
		 -EINVAL);
	CHECK_EQ(ctxmig_ir_nest_start(&w, CTXMIG_IR_ENGINE), 0);
	CHECK_EQ(ctxmig_ir_put_end(&w), -EINVAL);
	CHECK_EQ(ctxmig_ir_nest_end(&w), 0);
	CHECK_EQ(ctxmig_ir_put_end(&w), 0);
	CHECK_EQ(ctxmig_ir_put_cmd(&w, &nop), -EINVAL);
	ctxmig_ir_writer_fini(&w);
}

/* Room runs out until the reader drains; nothing is written half. */
TEST(writer_backpressure)
{
	static u8 chunk[CTXMIG_IR_VRAM_CHUNK_MAX];
	struct ctxmig_ir_writer w;
	u32 before, n;
	int err = 0, puts = 0;

	memset(chunk, 0x5a, sizeof(chunk));
	CHECK_EQ(ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF), 0);
	CHECK_EQ(ctxmig_ir_put_preamble(&w, &case_caps), 0);
	while (!err && puts < 10) {
		before = ctxmig_ir_room(&w);
		err = ctxmig_ir_put_vram(&w, (u64)puts * sizeof(chunk), chunk,
					 sizeof(chunk));
		puts++;
	}
	CHECK_EQ(err, -ENOSPC);
	CHECK_EQ(ctxmig_ir_room(&w), before);
	ctxmig_ir_peek(&w, &n);
	ctxmig_ir_consume(&w, n);
	CHECK_EQ(ctxmig_ir_put_vram(&w, 0, chunk, sizeof(chunk)), 0);
	ctxmig_ir_writer_fini(&w);
}

/* Zero pages cost a 24-byte record, whatever their number. */
TEST(writer_zero_elision)
{
	static u8 chunk[CTXMIG_IR_VRAM_CHUNK_MAX];
	struct ctxmig_ir_writer w;
	u32 n;

	memset(chunk, 0, sizeof(chunk));
	CHECK_EQ(ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF), 0);
	CHECK_EQ(ctxmig_ir_put_preamble(&w, &case_caps), 0);
	ctxmig_ir_peek(&w, &n);
	ctxmig_ir_consume(&w, n);
	CHECK_EQ(ctxmig_ir_put_vram(&w, 0, chunk, sizeof(chunk)), 0);
	ctxmig_ir_peek(&w, &n);
	CHECK_EQ(n, sizeof(struct ctxmig_ir_rec) + sizeof(struct ctxmig_ir_vram));
	CHECK_EQ(w.records_by_type[CTXMIG_IR_VRAM_ZERO], 1);
	CHECK_EQ(w.records_by_type[CTXMIG_IR_VRAM], 0);
	/* Alternating pages: one record per run, data pages verbatim. */
	chunk[0] = 1;
	chunk[2 * CTXMIG_IR_VRAM_PAGE_SIZE + 5] = 1;
	ctxmig_ir_consume(&w, n);
	CHECK_EQ(ctxmig_ir_put_vram(&w, 0, chunk, 3 * CTXMIG_IR_VRAM_PAGE_SIZE), 0);
	CHECK_EQ(w.records_by_type[CTXMIG_IR_VRAM], 2);
	CHECK_EQ(w.records_by_type[CTXMIG_IR_VRAM_ZERO], 2);
	ctxmig_ir_peek(&w, &n);
	CHECK(n <= ctxmig_ir_vram_record_bytes(3 * CTXMIG_IR_VRAM_PAGE_SIZE),
	      "%u bytes exceed the advertised bound", n);
	ctxmig_ir_writer_fini(&w);
}

/* Rebuilds VRAM as a CRC of its bytes, in offset order. */
struct xfer {
	u32 crc;
	u64 next;
	bool ordered;
};

static int xfer_event(struct ctxmig_ir_reader *r, void *priv,
		      const struct ctxmig_ir_event *ev)
{
	static const u8 zero[CTXMIG_IR_VRAM_PAGE_SIZE];
	struct xfer *x = priv;
	u64 left;

	if (ev->kind != CTXMIG_EV_RECORD ||
	    (ev->type != CTXMIG_IR_VRAM && ev->type != CTXMIG_IR_VRAM_ZERO))
		return 0;
	if (ev->u.vram.offset != x->next)
		x->ordered = false;
	x->next = ev->u.vram.offset + ev->u.vram.length;
	if (ev->u.vram.data) {
		x->crc = ctxmig_ir_crc32c(x->crc, ev->u.vram.data,
					  ev->u.vram.length);
		return 0;
	}
	for (left = ev->u.vram.length; left; left -= sizeof(zero))
		x->crc = ctxmig_ir_crc32c(x->crc, zero, sizeof(zero));
	return 0;
}

static const struct ctxmig_ir_reader_ops xfer_ops = { .event = xfer_event };

/* Drain what the writer has, in reads of at most @max bytes. */
static u64 pump(struct ctxmig_ir_writer *w, struct ctxmig_ir_reader *r,
		u32 max, u32 until_room)
{
	static u8 out[5000];
	u64 moved = 0;
	u32 n;

	while (ctxmig_ir_room(w) < until_room) {
		const u8 *p = ctxmig_ir_peek(w, &n);

		if (!n)
			break;
		n = min_t(u32, n, min_t(u32, max, sizeof(out)));
		memcpy(out, p, n);
		ctxmig_ir_consume(w, n);
		moved += n;
		if (ctxmig_ir_feed(r, out, n))
			break;
	}
	return moved;
}

/*
 * 64 MiB of mixed VRAM through the smallest writer, drained in odd-sized
 * reads and fed in odd-sized writes, as the data_fd does: the destination
 * sees the exact bytes, in order, and the wire carries no zero page.
 */
TEST(stream_larger_than_buffers)
{
	const u64 total = 64ULL << 20;
	static u8 chunk[CTXMIG_IR_VRAM_CHUNK_MAX];
	const u32 need = ctxmig_ir_vram_record_bytes(sizeof(chunk));
	struct xfer dst = { ~0U, 0, true };
	struct ctxmig_ir_writer w;
	struct ctxmig_ir_reader r;
	u32 crc_src = ~0U, i;
	u64 off, wire = 0;

	rng_state = 77;
	CHECK_EQ(ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF), 0);
	CHECK_EQ(ctxmig_ir_reader_init(&r, &xfer_ops, &dst), 0);
	CHECK_EQ(ctxmig_ir_put_preamble(&w, &case_caps), 0);
	CHECK_EQ(ctxmig_ir_put_device(&w, &case_id, &case_caps), 0);
	CHECK_EQ(ctxmig_ir_put_engine(&w, &case_ring[0], NULL, NULL), 0);
	CHECK_EQ(ctxmig_ir_put_engine(&w, &case_ring[1], NULL, NULL), 0);
	for (off = 0; off < total; off += sizeof(chunk)) {
		bool zero = !((off / sizeof(chunk)) % 3);

		for (i = 0; i < sizeof(chunk); i += 8) {
			u64 v = zero ? 0 : rng();

			memcpy(chunk + i, &v, 8);
		}
		crc_src = ctxmig_ir_crc32c(crc_src, chunk, sizeof(chunk));
		wire += pump(&w, &r, 4093, need);
		CHECK_EQ(ctxmig_ir_put_vram(&w, off, chunk, sizeof(chunk)), 0);
	}
	wire += pump(&w, &r, 777, w.size);
	CHECK_EQ(ctxmig_ir_put_end(&w), 0);
	wire += pump(&w, &r, 777, w.size + 1);
	CHECK_EQ(ctxmig_ir_reader_finish(&r), 0);
	CHECK(ctxmig_ir_reader_error(&r)->err == 0, "%s",
	      ctxmig_ir_reader_error(&r)->reason);
	CHECK_EQ(dst.crc, crc_src);
	CHECK_EQ(dst.next, total);
	CHECK(dst.ordered, "VRAM records out of order");
	/* A third of the chunks were zero: the wire carries about 2/3. */
	CHECK(wire < total * 7 / 10 && wire > total * 6 / 10, "wire %llu",
	      (unsigned long long)wire);
	CHECK_EQ(w.offset, wire);
	ctxmig_ir_writer_fini(&w);
	ctxmig_ir_reader_fini(&r);
}

int main(void)
{
	case_fill_vram();
	return host_main("ir_test");
}
