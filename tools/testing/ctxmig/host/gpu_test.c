// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the GPU engine models, page tables, executor and
 * translators: every registered model, every ordered pair of models.
 * The random differential workloads live in migrate_test.c.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "ctxmig_gpu.h"
#include "ctxmig_vram.h"
#include "ctxmig_xlate.h"
#include "harness.h"
#include "gpu_util.h"

#define for_each_model(i, m) \
	for (i = 0; (m = ctxmig_model_at(i)); i++)

/* Set a device up, and count a model that cannot be set up as a failure. */
static bool setup_failed(struct ctxmig_gpu *gpu, const struct ctxmig_model *m,
			 u64 vram, u8 va_bits)
{
	int ret = gu_setup(gpu, m, vram, va_bits);

	CHECK(!ret, "%s: setup failed (%d)", m->name, ret);
	return ret;
}

static const struct ctxmig_cmd smoke_cmds[] = {
	{ .op = CTXMIG_OP_WRITE32, .dst = 0x200000, .value = 0xdeadbeef },
	{ .op = CTXMIG_OP_WRITE64, .dst = 0x200008,
	  .value = 0x1122334455667788ULL },
	{ .op = CTXMIG_OP_COPY, .src = 0x200000, .dst = 0x300000, .value = 16 },
	{ .op = CTXMIG_OP_FENCE, .dst = 0x200100, .value = 7,
	  .flags = CTXMIG_CMD_IRQ },
	{ .op = CTXMIG_OP_NOP },
	{ .op = CTXMIG_OP_NOP, .flags = CTXMIG_CMD_IRQ },
	{ .op = CTXMIG_OP_FENCE, .dst = 0x200108, .value = 1ULL << 40,
	  .flags = CTXMIG_CMD_FENCE64 },
};

/* Every op executes with its meaning on every model. */
TEST(every_op_on_every_model)
{
	const struct ctxmig_model *m;
	unsigned int i;

	for_each_model(i, m) {
		struct ctxmig_gpu gpu;
		u32 v32;
		u64 v64;
		int n;

		if (setup_failed(&gpu, m, 64 << 20, 40))
			continue;
		ctxmig_gpu_mmio_write(&gpu, m->mmio_size - CTXMIG_CTL_SIZE +
				      CTXMIG_CTL_IRQ_ENABLE, CTXMIG_IRQ_ALL);
		CHECK_EQ(gu_submit(&gpu, smoke_cmds, ARRAY_SIZE(smoke_cmds)), 0);
		n = ctxmig_gpu_run(&gpu, 0, 100);
		CHECK(n >= (int)ARRAY_SIZE(smoke_cmds), "%s: ran %d: %s",
		      m->name, n, gpu.eng[0].reason);
		CHECK_EQ(gpu.eng[0].status, CTXMIG_ENG_IDLE);
		CHECK_EQ(gu_read32(&gpu, 0x300000), 0xdeadbeef);
		v64 = gu_read64(&gpu, 0x300008);
		CHECK_EQ(v64, 0x1122334455667788ULL);
		v32 = gu_read32(&gpu, 0x200100);
		CHECK_EQ(v32, 7);
		CHECK_EQ(gu_read64(&gpu, 0x200108), 1ULL << 40);
		CHECK_EQ(gpu.eng[0].fence.signalled, 1ULL << 40);
		CHECK_EQ(gpu.eng[0].irqs, 2);
		CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, m->mmio_size -
					      CTXMIG_CTL_SIZE + CTXMIG_CTL_MAGIC),
			 CTXMIG_CTL_MAGIC_VALUE);
		ctxmig_gpu_fini(&gpu);
	}
}

/* Encoding then decoding gives the command back, on every model. */
TEST(encode_decode_round_trip)
{
	const struct ctxmig_model *m;
	unsigned int i, j;

	for_each_model(i, m) {
		struct ctxmig_gpu gpu;

		if (setup_failed(&gpu, m, 64 << 20, 40))
			continue;
		for (j = 0; j < ARRAY_SIZE(smoke_cmds); j++) {
			struct ctxmig_cmd in = smoke_cmds[j], out;
			u8 buf[256];
			int n, d;

			in.level = 1;	/* inside a buffer: every op is legal */
			n = m->encode(&gpu, &in, buf, sizeof(buf));
			CHECK(n > 0, "%s: encode op %u: %d", m->name, in.op, n);
			if (n <= 0)
				continue;
			memset(&out, 0, sizeof(out));
			d = m->decode(&gpu, 0, buf, n, 1, &out);
			CHECK(d == n, "%s: op %u: decoded %d of %d bytes",
			      m->name, in.op, d, n);
			CHECK(out.op == in.op && out.dst == in.dst &&
			      out.src == in.src && out.value == in.value &&
			      out.flags == in.flags,
			      "%s: op %u came back as op %u", m->name, in.op,
			      out.op);
			/* Every truncation is incomplete, never a crash. */
			for (d = 0; d < n; d += 4)
				CHECK_EQ(m->decode(&gpu, 0, buf, d, 1, &out),
					 -ENODATA);
		}
		ctxmig_gpu_fini(&gpu);
	}
}

/* Random words never crash a decoder, and never claim too much. */
TEST(decode_random_words)
{
	const struct ctxmig_model *m;
	unsigned int i, k;

	gu_seed(0x5eed);
	for_each_model(i, m) {
		struct ctxmig_gpu gpu;

		if (setup_failed(&gpu, m, 64 << 20, 40))
			continue;
		for (k = 0; k < 200000; k++) {
			struct ctxmig_cmd out;
			u32 buf[CTXMIG_CMD_MAX_BYTES / 4];
			u32 len = 4 * (1 + gu_rand() % ARRAY_SIZE(buf));
			unsigned int w;
			int n;

			for (w = 0; w < ARRAY_SIZE(buf); w++)
				buf[w] = gu_rand_word();
			memset(&out, 0, sizeof(out));
			n = m->decode(&gpu, 0, buf, len, gu_rand() % 3, &out);
			CHECK(n < 0 || (n >= 4 && n % 4 == 0),
			      "%s: decode returned %d", m->name, n);
			if (n > 0)
				CHECK(out.op <= CTXMIG_OP_MAX, "%s: op %u",
				      m->name, out.op);
		}
		ctxmig_gpu_fini(&gpu);
	}
}

/* Faults and illegal commands stop the engine with a reason. */
TEST(errors_stop_the_engine)
{
	const struct ctxmig_model *m;
	unsigned int i;

	for_each_model(i, m) {
		struct ctxmig_cmd bad[] = {
			{ .op = CTXMIG_OP_WRITE32, .dst = 0x7000000, .value = 1 },
			{ .op = CTXMIG_OP_WRITE32, .dst = 0x200000, .value = 2 },
		};
		struct ctxmig_gpu gpu;
		int n;

		if (setup_failed(&gpu, m, 64 << 20, 40))
			continue;
		CHECK_EQ(gu_submit(&gpu, bad, ARRAY_SIZE(bad)), 0);
		n = ctxmig_gpu_run(&gpu, 0, 10);
		CHECK_EQ(n, -EFAULT);
		CHECK_EQ(gpu.eng[0].status, CTXMIG_ENG_ERROR);
		CHECK(strstr(gpu.eng[0].reason, "not mapped"), "%s: %s",
		      m->name, gpu.eng[0].reason);
		CHECK_EQ(gpu.eng[0].fault_va, 0x7000000);
		CHECK_EQ(gu_read32(&gpu, 0x200000), 0);
		/* Stays stopped; saving it is refused with the reason. */
		CHECK_EQ(ctxmig_gpu_run(&gpu, 0, 10), -EFAULT);
		{
			struct ctxmig_save s;

			CHECK_EQ(ctxmig_save_init(&s, &gpu), -EIO);
			CHECK(strstr(s.error.reason, "in error"), "%s",
			      s.error.reason);
			ctxmig_save_fini(&s);
		}
		/* A reset brings it back. */
		ctxmig_gpu_reset(&gpu);
		CHECK_EQ(gpu.eng[0].status, CTXMIG_ENG_IDLE);
		ctxmig_gpu_fini(&gpu);
	}
}

/* Page tables: what is mapped translates back, walks merge runs. */
TEST(page_tables_map_translate_walk)
{
	const struct ctxmig_model *m;
	unsigned int i;

	for_each_model(i, m) {
		struct ctxmig_gpu gpu;
		struct ctxmig_mapping huge = {
			.va = 0x40000000, .size = 8 << 20, .addr = 0x1000000,
			.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE,
			.page_shift = 21,
		};
		struct ctxmig_mapping sys = {
			.va = 0x80000000, .size = 0x10000, .addr = 0x123450000ULL,
			.flags = CTXMIG_MAP_READ | CTXMIG_MAP_SYSMEM |
				 CTXMIG_MAP_SNOOP,
			.page_shift = 12,
		};
		struct ctxmig_xlate x;

		if (setup_failed(&gpu, m, 64 << 20, 40))
			continue;
		CHECK_EQ(gu_map(&gpu, &huge), 0);
		CHECK_EQ(gu_map(&gpu, &sys), 0);
		CHECK_EQ(ctxmig_pt_translate(&gpu, 0x40000000 + 0x345678, &x), 0);
		CHECK_EQ(x.addr + (0x345678 & (BIT_ULL(x.page_shift) - 1)),
			 0x1000000 + 0x345678);
		CHECK(x.page_shift >= 16, "%s: %u", m->name, x.page_shift);
		CHECK_EQ(ctxmig_pt_translate(&gpu, 0x80000000 + 0x5123, &x), 0);
		CHECK_EQ(x.addr, 0x123455000ULL);
		CHECK(x.flags & CTXMIG_MAP_SYSMEM, "%s", m->name);
		CHECK(!(x.flags & CTXMIG_MAP_WRITE), "%s", m->name);
		CHECK_EQ(ctxmig_pt_translate(&gpu, 0x80010000, &x), -EFAULT);
		CHECK_EQ(ctxmig_pt_translate(&gpu, 1ULL << 40, &x), -ERANGE);
		CHECK_EQ(gu_map(&gpu, &huge), -EEXIST);
		CHECK_EQ(gu_check_walk(&gpu), 0);
		ctxmig_gpu_fini(&gpu);
	}
}

/* Compatibility from the preamble alone, with the specific errno. */
TEST(compatibility_check)
{
	const struct ctxmig_model *m = ctxmig_model_at(0);
	struct ctxmig_gpu gpu;
	struct ctxmig_caps caps;
	char why[128];

	if (setup_failed(&gpu, m, 64 << 20, 40))
		return;
	ctxmig_gpu_caps(&gpu, &caps);
	CHECK_EQ(ctxmig_compat(&caps, &gpu, why, sizeof(why)), 0);
	caps.vram_size = gpu.guest_size + (2 << 20);
	CHECK_EQ(ctxmig_compat(&caps, &gpu, why, sizeof(why)), -ENOSPC);
	CHECK(strstr(why, "MiB"), "%s", why);
	ctxmig_gpu_caps(&gpu, &caps);
	caps.va_bits = 41;
	CHECK_EQ(ctxmig_compat(&caps, &gpu, why, sizeof(why)), -ERANGE);
	CHECK(strstr(why, "41-bit"), "%s", why);
	ctxmig_gpu_caps(&gpu, &caps);
	caps.num_engines = 2;
	CHECK_EQ(ctxmig_compat(&caps, &gpu, why, sizeof(why)), -EOPNOTSUPP);
	ctxmig_gpu_fini(&gpu);
}

/*
 * Save -> restore -> save on the same model: identical IR bytes but the
 * migration count, and the same registers except where the rebuilt page
 * tables live.
 */
TEST(same_model_identity)
{
	const struct ctxmig_model *m;
	unsigned int i;

	for_each_model(i, m) {
		struct ctxmig_gpu a, b;
		struct gu_stream s1 = {}, s2 = {};
		char why[CTXMIG_IR_REASON_LEN];

		if (setup_failed(&a, m, 64 << 20, 40))
			continue;
		CHECK_EQ(gu_submit(&a, smoke_cmds, ARRAY_SIZE(smoke_cmds)), 0);
		CHECK_EQ(ctxmig_gpu_run(&a, 0, 3), 3);
		CHECK_EQ(gu_save(&a, &s1, why), 0);
		CHECK_EQ(ctxmig_gpu_init(&b, m, 64 << 20), 0);
		ctxmig_gpu_set_va_bits(&b, 40);
		CHECK(!gu_restore(&b, &s1, 13, why), "%s: %s", m->name, why);
		/* The one thing a migration changes: its count, and its irq. */
		CHECK_EQ(b.migrated, 1);
		CHECK_EQ(b.eng[0].irq_pending & CTXMIG_IRQ_MIGRATED,
			 CTXMIG_IRQ_MIGRATED);
		b.migrated = a.migrated;
		CHECK_EQ(gu_save(&b, &s2, why), 0);
		CHECK(s1.len == s2.len && !memcmp(s1.buf, s2.buf, s1.len),
		      "%s: second save differs (%zu vs %zu bytes)", m->name,
		      s1.len, s2.len);
		CHECK(gu_same_registers(&a, &b), "%s: registers differ",
		      m->name);
		gu_stream_free(&s1);
		gu_stream_free(&s2);
		ctxmig_gpu_fini(&a);
		ctxmig_gpu_fini(&b);
	}
}

/*
 * Between command formats the pending commands run from the reserved area
 * and the guest's ring is left as it was, its head and tail at the
 * source's tail: a guest still writing its ring in the source's format
 * after the state was saved (its tail write came too late) overwrites
 * nothing the target executes.
 */
TEST(reencoded_commands_leave_the_ring_alone)
{
	const struct ctxmig_model *ma, *mb;
	unsigned int i, j;

	for_each_model(i, ma) {
		for_each_model(j, mb) {
			struct ctxmig_gpu a, b;
			struct gu_stream s = {};
			struct ctxmig_ring ra, rb;
			char why[CTXMIG_IR_REASON_LEN];
			u8 ring_a[GU_RING_SIZE], ring_b[GU_RING_SIZE];
			u8 stale[256];
			int n;

			if (ma->cmd_format == mb->cmd_format)
				continue;
			if (setup_failed(&a, ma, 64 << 20, 40))
				continue;
			CHECK_EQ(gu_submit(&a, smoke_cmds,
					   ARRAY_SIZE(smoke_cmds)), 0);
			ma->ring_get(&a, 0, &ra);
			CHECK_EQ(ctxmig_gpu_access(&a, ra.base, ring_a,
						   sizeof(ring_a), false), 0);
			CHECK_EQ(gu_save(&a, &s, why), 0);
			CHECK_EQ(ctxmig_gpu_init(&b, mb, 64 << 20), 0);
			ctxmig_gpu_set_va_bits(&b, 40);
			CHECK(!gu_restore(&b, &s, 4096, why), "%s -> %s: %s",
			      ma->name, mb->name, why);
			mb->ring_get(&b, 0, &rb);
			CHECK(rb.head == rb.tail &&
			      rb.tail == (ALIGN(ra.tail, mb->ring_slot) &
					  (ra.size - 1)),
			      "%s -> %s: head 0x%x tail 0x%x, source tail 0x%x",
			      ma->name, mb->name, rb.head, rb.tail, ra.tail);
			CHECK_EQ(ctxmig_gpu_access(&b, rb.base, ring_b,
						   sizeof(ring_b), false), 0);
			CHECK(!memcmp(ring_a, ring_b, sizeof(ring_a)),
			      "%s -> %s: the ring was written", ma->name,
			      mb->name);
			/* The source's format, late, where its tail was. */
			memset(stale, 0xa5, sizeof(stale));
			CHECK_EQ(ctxmig_gpu_poke(&b, ra.base + ra.tail, stale,
						 min_t(u32, sizeof(stale),
						       ra.size - ra.tail)), 0);
			n = ctxmig_gpu_run(&b, 0, 100);
			CHECK(n >= 0 && b.eng[0].status == CTXMIG_ENG_IDLE,
			      "%s -> %s: %d %s", ma->name, mb->name, n,
			      b.eng[0].reason);
			CHECK_EQ(gu_read32(&b, 0x300000), 0xdeadbeef);
			CHECK_EQ(gu_read64(&b, 0x200108), 1ULL << 40);
			CHECK_EQ(b.eng[0].fence.signalled, 1ULL << 40);
			gu_stream_free(&s);
			ctxmig_gpu_fini(&a);
			ctxmig_gpu_fini(&b);
		}
	}
}

/*
 * A long copy stops between its slices: what is left travels as a COPY
 * from where it got to, and finishes on any model with the very bytes an
 * uninterrupted run gives, overlapping copies included.
 */
#define LONG_COPY	BIT_ULL(20)
#define LONG_SEEN_VA	0x200000ULL	/* what the checks compare */
#define LONG_SEEN	(2ULL << 20)
#define LONG_FENCE_VA	0x4ff000ULL

static const struct {
	u64 src, dst;
} long_copies[] = {
	{ 0x200000, 0x300000 },		/* apart */
	{ 0x200000, 0x210800 },		/* overlapping, dst above src */
};

/* Random source bytes, the copy and a fence; false if setup failed. */
static bool long_copy_setup(struct ctxmig_gpu *gpu,
			    const struct ctxmig_model *m, u32 k)
{
	struct ctxmig_cmd c[2] = {
		{ .op = CTXMIG_OP_COPY, .src = long_copies[k].src,
		  .dst = long_copies[k].dst, .value = LONG_COPY },
		{ .op = CTXMIG_OP_FENCE, .dst = LONG_FENCE_VA, .value = 9 },
	};
	u8 *buf;
	u64 i;

	if (setup_failed(gpu, m, 64 << 20, 40))
		return false;
	buf = malloc(LONG_SEEN);
	gu_seed(0x10c0 + k);
	for (i = 0; i < LONG_SEEN; i++)
		buf[i] = gu_rand();
	CHECK_EQ(ctxmig_gpu_access(gpu, LONG_SEEN_VA, buf, LONG_SEEN, true), 0);
	free(buf);
	CHECK_EQ(gu_submit(gpu, c, ARRAY_SIZE(c)), 0);
	return true;
}

/*
 * Does one native command of @m carry more than a slice of the long copy?
 * Models whose copy packets are smaller (GFX12's DMA_DATA) split it into
 * commands that are pending as such instead.
 */
static bool long_copy_held(struct ctxmig_gpu *gpu)
{
	struct ctxmig_cmd c = { .op = CTXMIG_OP_COPY, .level = 1,
				.src = long_copies[0].src,
				.dst = long_copies[0].dst,
				.value = LONG_COPY }, out = {};
	u8 buf[CTXMIG_CMD_MAX_BYTES];

	return gpu->model->encode(gpu, &c, buf, sizeof(buf)) > 0 &&
	       gpu->model->decode(gpu, 0, buf, sizeof(buf), 1, &out) > 0 &&
	       out.value > CTXMIG_COPY_SLICE;
}

TEST(long_copy_stops_inside_and_migrates)
{
	const u32 steps = 5;
	const struct ctxmig_model *m, *t;
	u8 *want = malloc(LONG_SEEN), *got = malloc(LONG_SEEN);
	unsigned int i, j, k;

	for (k = 0; k < ARRAY_SIZE(long_copies); k++) {
		for_each_model(i, m) {
			struct ctxmig_gpu ref;

			if (!long_copy_setup(&ref, m, k))
				continue;
			CHECK(ctxmig_gpu_run(&ref, 0, 1000) > 0, "%s", m->name);
			CHECK_EQ(gu_read32(&ref, LONG_FENCE_VA), 9);
			CHECK_EQ(ctxmig_gpu_access(&ref, LONG_SEEN_VA, want,
						   LONG_SEEN, false), 0);
			ctxmig_gpu_fini(&ref);

			for_each_model(j, t) {
				struct ctxmig_gpu a, b;
				struct gu_stream s = {};
				char why[CTXMIG_IR_REASON_LEN];

				if (!long_copy_setup(&a, m, k))
					continue;
				/*
				 * Stopped inside a copy (a model may split
				 * it into several native commands), its rest
				 * kept, slice-aligned.
				 */
				CHECK_EQ(ctxmig_gpu_run(&a, 0, steps), steps);
				CHECK(!long_copy_held(&a) ||
				      (a.eng[0].copy.value &&
				       a.eng[0].copy.value < LONG_COPY &&
				       !((a.eng[0].copy.src -
					  long_copies[k].src) %
					 CTXMIG_COPY_SLICE)),
				      "%s: %llu bytes left from 0x%llx", m->name,
				      (unsigned long long)a.eng[0].copy.value,
				      (unsigned long long)a.eng[0].copy.src);
				CHECK_EQ(a.eng[0].status, CTXMIG_ENG_BUSY);
				CHECK_EQ(gu_read32(&a, LONG_FENCE_VA), 0);
				CHECK_EQ(gu_save(&a, &s, why), 0);
				CHECK_EQ(ctxmig_gpu_init(&b, t, 64 << 20), 0);
				ctxmig_gpu_set_va_bits(&b, 40);
				CHECK(!gu_restore(&b, &s, 4093, why),
				      "%s -> %s: %s", m->name, t->name, why);
				CHECK(ctxmig_gpu_run(&b, 0, 1000) > 0,
				      "%s -> %s: %s", m->name, t->name,
				      b.eng[0].reason);
				CHECK_EQ(gu_read32(&b, LONG_FENCE_VA), 9);
				CHECK_EQ(ctxmig_gpu_access(&b, LONG_SEEN_VA, got,
							   LONG_SEEN, false), 0);
				CHECK(!memcmp(got, want, LONG_SEEN),
				      "%s -> %s, copy %u: bytes differ", m->name,
				      t->name, k);
				/* The source, resumed, finishes it too. */
				CHECK(ctxmig_gpu_run(&a, 0, 1000) > 0, "%s",
				      m->name);
				CHECK_EQ(ctxmig_gpu_access(&a, LONG_SEEN_VA, got,
							   LONG_SEEN, false), 0);
				CHECK(!memcmp(got, want, LONG_SEEN),
				      "%s resumed, copy %u: bytes differ",
				      m->name, k);
				CHECK_EQ(a.eng[0].copy.value, 0);
				gu_stream_free(&s);
				ctxmig_gpu_fini(&a);
				ctxmig_gpu_fini(&b);
			}
		}
	}
	free(want);
	free(got);
}

/*
 * What the target cannot represent is refused with its errno before the
 * target's state changes: a guest page and the registers stay as they were.
 */
TEST(incompatible_stream_leaves_target_alone)
{
	const struct ctxmig_model *m;
	unsigned int i;

	for_each_model(i, m) {
		const struct ctxmig_model *t = ctxmig_model_at(0);
		struct {
			u64 vram;
			u8 va_bits;
			int err;
			const char *why;
		} cases[] = {
			{ 128 << 20, 40, -ENOSPC, "MiB" },
			{ 64 << 20, 41, -ERANGE, "41-bit" },
		};
		unsigned int k;

		for (k = 0; k < ARRAY_SIZE(cases); k++) {
			struct ctxmig_gpu a, b;
			struct gu_stream st = {};
			char why[CTXMIG_IR_REASON_LEN] = "";
			u32 *regs;

			if (setup_failed(&a, m, cases[k].vram, cases[k].va_bits))
				continue;
			CHECK_EQ(gu_save(&a, &st, why), 0);
			if (setup_failed(&b, t, 64 << 20, 40))
				continue;
			CHECK_EQ(ctxmig_gpu_poke(&b, GU_VA + 0x1000, "keep", 4), 0);
			regs = malloc(t->mmio_size);
			memcpy(regs, b.mmio, t->mmio_size);
			CHECK_EQ(gu_restore(&b, &st, 0, why), cases[k].err);
			CHECK(strstr(why, cases[k].why), "%s -> %s: %s", m->name,
			      t->name, why);
			CHECK_EQ(gu_read32(&b, GU_VA + 0x1000),
				 *(const u32 *)"keep");
			CHECK(!memcmp(regs, b.mmio, t->mmio_size),
			      "%s: registers changed", t->name);
			CHECK_EQ(b.migrated, 0);
			free(regs);
			gu_stream_free(&st);
			ctxmig_gpu_fini(&a);
			ctxmig_gpu_fini(&b);
		}
	}
}

/* Page tables from VRAM 5..12 MiB, for a source with many of them. */
static u64 big_pt_next;

static u64 big_pt_alloc(void *priv, u32 bytes)
{
	if (big_pt_next + 4096 > (12 << 20))
		return U64_MAX;
	big_pt_next += 4096;
	return big_pt_next - 4096;
}

/*
 * Page tables that do not fit the target's reserved area: -ENOSPC with the
 * reason, from every model to every model.  1100 VAs 2 MiB apart, all
 * mapping one page, need a page table each; a 16 MiB device reserves
 * 4 MiB (1024 pages).
 */
TEST(page_tables_overflow_reserved_area)
{
	const struct ctxmig_model *m, *t;
	unsigned int i, j, k;

	for_each_model(i, m)
		for (j = 0; (t = ctxmig_model_at(j)); j++) {
			struct ctxmig_gpu a, b;
			struct gu_stream st = {};
			char why[CTXMIG_IR_REASON_LEN] = "";

			if (setup_failed(&a, m, 16 << 20, 40))
				continue;
			big_pt_next = 5 << 20;
			for (k = 0; k < 1100; k++) {
				struct ctxmig_mapping one = {
					.va = 0x80000000ULL + ((u64)k << 21),
					.size = 4096, .addr = GU_VRAM,
					.flags = CTXMIG_MAP_READ,
					.page_shift = 12,
				};

				if (ctxmig_pt_map(&a, &one, big_pt_alloc, NULL))
					break;
			}
			CHECK_EQ(k, 1100);
			CHECK_EQ(gu_save(&a, &st, why), 0);
			CHECK_EQ(ctxmig_gpu_init(&b, t, 16 << 20), 0);
			ctxmig_gpu_set_va_bits(&b, 40);
			CHECK_EQ(gu_restore(&b, &st, 0, why), -ENOSPC);
			CHECK(strstr(why, "do not fit"), "%s -> %s: %s", m->name,
			      t->name, why);
			gu_stream_free(&st);
			ctxmig_gpu_fini(&a);
			ctxmig_gpu_fini(&b);
		}
}

/*
 * 8 GiB of VRAM costs only the pages written, on every model, through a
 * migration to every other model.
 */
TEST(eight_gib_is_sparse)
{
	const struct ctxmig_model *m, *t;
	unsigned int i, j;

	for_each_model(i, m)
		for (j = 0; (t = ctxmig_model_at(j)); j++) {
			struct ctxmig_mapping far = {
				.va = 0x200000000ULL, .size = 2 << 20,
				.addr = (7ULL << 30) + (2 << 20),
				.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE,
				.page_shift = 21,
			};
			struct ctxmig_gpu a, b;
			struct gu_stream st = {};
			char why[CTXMIG_IR_REASON_LEN] = "";

			if (setup_failed(&a, m, 8ULL << 30, 40))
				continue;
			CHECK_EQ(gu_map(&a, &far), 0);
			CHECK_EQ(ctxmig_gpu_poke(&a, far.va + 0x1234, "far", 4), 0);
			CHECK_EQ(gu_save(&a, &st, why), 0);
			CHECK_EQ(ctxmig_gpu_init(&b, t, 8ULL << 30), 0);
			ctxmig_gpu_set_va_bits(&b, 40);
			CHECK(!gu_restore(&b, &st, 4096, why), "%s -> %s: %s",
			      m->name, t->name, why);
			CHECK_EQ(gu_read32(&b, far.va + 0x1234),
				 *(const u32 *)"far");
			/* A handful of pages: data, page tables, nothing more. */
			CHECK(a.vram.present < 64 && b.vram.present < 64,
			      "%s -> %s: %llu and %llu pages present", m->name,
			      t->name, (unsigned long long)a.vram.present,
			      (unsigned long long)b.vram.present);
			CHECK(st.len < 64 * 1024, "%zu stream bytes", st.len);
			gu_stream_free(&st);
			ctxmig_gpu_fini(&a);
			ctxmig_gpu_fini(&b);
		}
}

/*
 * Pre-copy stopped before a byte was read (a VMM that goes straight from
 * PRE_COPY to STOP_COPY): the stream is still whole and restores.
 */
TEST(precopy_stopped_before_any_read)
{
	const struct ctxmig_model *m = ctxmig_model_at(0);
	struct ctxmig_ir_writer w;
	struct ctxmig_save s;
	struct ctxmig_gpu a, b;
	struct gu_stream st = {};
	char why[CTXMIG_IR_REASON_LEN] = "";
	int ret;

	if (setup_failed(&a, m, 64 << 20, 40))
		return;
	CHECK_EQ(ctxmig_gpu_poke(&a, GU_VA + 0x2000, "data", 4), 0);
	CHECK_EQ(ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF), 0);
	CHECK_EQ(ctxmig_save_precopy_init(&s, &a), 0);
	CHECK_EQ(ctxmig_save_stop(&s), 0);
	do {
		ret = ctxmig_save_step(&s, &w);
		gu_drain(&w, &st);
	} while (!ret);
	CHECK(ret == CTXMIG_SAVE_DONE, "%d: %s %s", ret, s.error.reason,
	      w.error.reason);
	CHECK(!a.vram.track_dirty, "tracking left on");
	ctxmig_save_fini(&s);
	ctxmig_ir_writer_fini(&w);
	CHECK_EQ(ctxmig_gpu_init(&b, m, 64 << 20), 0);
	ctxmig_gpu_set_va_bits(&b, 40);
	CHECK(!gu_restore(&b, &st, 100, why), "%s", why);
	CHECK_EQ(gu_read32(&b, GU_VA + 0x2000), *(const u32 *)"data");
	gu_stream_free(&st);
	ctxmig_gpu_fini(&a);
	ctxmig_gpu_fini(&b);
}

/* ctxmig_ir_send_vram_pages()'s copy: onto the end of a gu_stream. */
static int append_at(void *ctx, u32 at, const void *src, u32 len)
{
	struct gu_stream *out = ctx;

	memcpy(out->buf + out->len + at, src, len);
	return 0;
}

/*
 * Save @s, sending data pages by reference whenever the writer is empty,
 * as a data_fd read does (ctxmig_vfio_mig.c): ctxmig_ir_send_vram_pages()
 * copies the record onto the stream.  Returns the save's result.
 */
static int save_by_reference(struct ctxmig_save *s, struct ctxmig_ir_writer *w,
			     struct gu_stream *out, u32 *by_ref)
{
	const void *pages[CTXMIG_IR_VRAM_CHUNK_MAX / CTXMIG_VRAM_PAGE_SIZE];
	int ret = 0;

	for (;;) {
		const void *p;
		u64 off;
		u32 n;

		while ((p = ctxmig_ir_peek(w, &n)) && n) {
			out->buf = realloc(out->buf, out->len + n);
			memcpy(out->buf + out->len, p, n);
			out->len += n;
			ctxmig_ir_consume(w, n);
		}
		if (ret)
			return ret;
		n = ctxmig_save_vram_pages(s, &off, pages);
		if (!n) {
			ret = ctxmig_save_step(s, w);
			continue;
		}
		out->buf = realloc(out->buf, out->len +
				   CTXMIG_IR_VRAM_HDR_BYTES +
				   n * CTXMIG_VRAM_PAGE_SIZE);
		ret = ctxmig_ir_send_vram_pages(w, off, pages, n, append_at,
						out);
		if (ret < 0)
			return ret;
		out->len += ret;
		ret = 0;
		*by_ref += n;
	}
}

/* A copy into @ctx's stream that fails at its @fail_at-th call. */
struct flaky_sink {
	struct gu_stream *out;
	int calls;
	int fail_at;
};

static int flaky_append(void *ctx, u32 at, const void *src, u32 len)
{
	struct flaky_sink *f = ctx;

	if (++f->calls == f->fail_at)
		return -1;
	return append_at(f->out, at, src, len);
}

/* A preamble and DEVICE record for the codec-level tests below. */
static void start_stream(struct ctxmig_ir_writer *w, struct gu_stream *out)
{
	const struct ctxmig_caps caps = {
		.model = CTXMIG_MODEL_AMD_GFX9, .vram_size = 64 << 20,
		.va_bits = 40, .num_engines = 1, .page_sizes = BIT(12),
	};
	const struct ctxmig_identity id = { .model = CTXMIG_MODEL_AMD_GFX9 };

	CHECK_EQ(ctxmig_ir_writer_init(w, CTXMIG_IR_WRITER_MIN_BUF), 0);
	CHECK_EQ(ctxmig_ir_put_preamble(w, &caps), 0);
	CHECK_EQ(ctxmig_ir_put_device(w, &id, &caps), 0);
	gu_drain(w, out);
}

/*
 * A record sent by reference whose copy fails part way leaves the writer
 * as it was: sent again, the stream is byte for byte the one the writer
 * makes of the same pages (the same CRC in END).
 */
TEST(vram_pages_failed_copy_changes_nothing)
{
	const u32 n = 5, len = n * CTXMIG_VRAM_PAGE_SIZE;
	u8 *data = malloc(len);
	const void *pages[5];
	struct ctxmig_ir_writer w;
	struct gu_stream a = {}, b = {};
	struct flaky_sink f = { .out = &a, .fail_at = 3 };
	u32 i;
	int ret;

	if (!data)
		return;
	for (i = 0; i < len; i++)
		data[i] = i * 13 + 1;
	for (i = 0; i < n; i++)
		pages[i] = data + i * CTXMIG_VRAM_PAGE_SIZE;

	start_stream(&w, &a);
	a.buf = realloc(a.buf, a.len + CTXMIG_IR_VRAM_HDR_BYTES + len);
	CHECK_EQ(ctxmig_ir_send_vram_pages(&w, 0x10000, pages, n,
					   flaky_append, &f), -EFAULT);
	CHECK_EQ(w.records_by_type[CTXMIG_IR_VRAM], 0);
	ret = ctxmig_ir_send_vram_pages(&w, 0x10000, pages, n, append_at, &a);
	CHECK_EQ(ret, CTXMIG_IR_VRAM_HDR_BYTES + len);
	if (ret > 0)
		a.len += ret;
	CHECK_EQ(ctxmig_ir_put_end(&w), 0);
	gu_drain(&w, &a);
	ctxmig_ir_writer_fini(&w);

	start_stream(&w, &b);
	CHECK_EQ(ctxmig_ir_put_vram(&w, 0x10000, data, len), 0);
	CHECK_EQ(ctxmig_ir_put_end(&w), 0);
	gu_drain(&w, &b);
	ctxmig_ir_writer_fini(&w);

	CHECK_EQ(a.len, b.len);
	CHECK(a.len == b.len && !memcmp(a.buf, b.buf, a.len), "streams differ");
	gu_stream_free(&a);
	gu_stream_free(&b);
	free(data);
}

/*
 * VRAM pages sent by reference (one copy, the data_fd read path) make the
 * very stream the writer makes; after pre-copy, where dirty zero pages
 * still go through the writer, the target ends with the source's VRAM.
 */
TEST(vram_pages_by_reference)
{
	const struct ctxmig_model *m = ctxmig_model_at(0);
	const u64 base = 8 << 20, span = 3 << 20;
	struct ctxmig_ir_writer w;
	struct ctxmig_save s;
	struct ctxmig_gpu a, b;
	struct gu_stream ref = {}, st = {};
	char why[CTXMIG_IR_REASON_LEN] = "";
	u8 *page = malloc(CTXMIG_VRAM_PAGE_SIZE);
	u8 *va = malloc(span), *vb = malloc(span);
	u32 by_ref = 0, i;
	int ret;

	if (!page || !va || !vb || setup_failed(&a, m, 64 << 20, 40))
		goto out;
	CHECK_EQ(gu_submit(&a, smoke_cmds, ARRAY_SIZE(smoke_cmds)), 0);
	/* Data pages in runs of 1 to 37, zero pages and holes between. */
	for (i = 0; i < span / CTXMIG_VRAM_PAGE_SIZE; i++) {
		bool zero = i % 37 == 5 || i % 53 == 0;

		if (i % 41 == 7)
			continue;
		memset(page, zero ? 0 : (u8)(i * 7 + 1), CTXMIG_VRAM_PAGE_SIZE);
		if (!zero)
			memcpy(page + 8, &i, sizeof(i));
		CHECK_EQ(ctxmig_vram_write(&a.vram, base +
					   (u64)i * CTXMIG_VRAM_PAGE_SIZE,
					   page, CTXMIG_VRAM_PAGE_SIZE), 0);
	}

	/* Stop-copy: byte for byte the writer's stream. */
	CHECK_EQ(gu_save(&a, &ref, why), 0);
	CHECK_EQ(ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF), 0);
	CHECK_EQ(ctxmig_save_init(&s, &a), 0);
	ret = save_by_reference(&s, &w, &st, &by_ref);
	CHECK(ret == CTXMIG_SAVE_DONE, "%d: %s %s", ret, s.error.reason,
	      w.error.reason);
	CHECK(by_ref > 600, "only %u pages by reference", by_ref);
	CHECK_EQ(st.len, ref.len);
	CHECK(st.len == ref.len && !memcmp(st.buf, ref.buf, st.len),
	      "streams differ");
	ctxmig_save_fini(&s);
	ctxmig_ir_writer_fini(&w);

	/* Pre-copy, then dirty pages mixing data and zeroes, then stop. */
	st.len = 0;
	by_ref = 0;
	CHECK_EQ(ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF), 0);
	CHECK_EQ(ctxmig_save_precopy_init(&s, &a), 0);
	do {
		ret = ctxmig_save_step(&s, &w);
		gu_drain(&w, &st);
	} while (ret == 0);
	CHECK_EQ(ret, CTXMIG_SAVE_IDLE);
	for (i = 0; i < 200; i++) {
		memset(page, i % 3 && i % 29 ? (u8)(i + 100) : 0,
		       CTXMIG_VRAM_PAGE_SIZE);
		if (i >= 100 && i % 29)
			page[9] = 1;	/* runs of 28 data pages */
		CHECK_EQ(ctxmig_vram_write(&a.vram, base + (u64)i *
					   CTXMIG_VRAM_PAGE_SIZE, page,
					   CTXMIG_VRAM_PAGE_SIZE), 0);
	}
	CHECK_EQ(ctxmig_save_stop(&s), 0);
	ret = save_by_reference(&s, &w, &st, &by_ref);
	CHECK(ret == CTXMIG_SAVE_DONE, "%d: %s %s", ret, s.error.reason,
	      w.error.reason);
	CHECK(by_ref > 0, "no page by reference");
	ctxmig_save_fini(&s);
	ctxmig_ir_writer_fini(&w);
	CHECK_EQ(ctxmig_gpu_init(&b, m, 64 << 20), 0);
	ctxmig_gpu_set_va_bits(&b, 40);
	CHECK(!gu_restore(&b, &st, 4096, why), "%s", why);
	CHECK_EQ(ctxmig_vram_read(&a.vram, base, va, span), 0);
	CHECK_EQ(ctxmig_vram_read(&b.vram, base, vb, span), 0);
	CHECK(!memcmp(va, vb, span), "VRAM differs after pre-copy");
	ctxmig_gpu_fini(&b);
	ctxmig_gpu_fini(&a);
out:
	gu_stream_free(&ref);
	gu_stream_free(&st);
	free(page);
	free(va);
	free(vb);
}

/* A stream cut anywhere is refused and the target reports why. */
TEST(truncated_stream_refused)
{
	const struct ctxmig_model *m = ctxmig_model_at(0);
	struct ctxmig_gpu a, b;
	struct gu_stream s = {};
	char why[CTXMIG_IR_REASON_LEN];
	size_t cut;

	if (setup_failed(&a, m, 64 << 20, 40))
		return;
	CHECK_EQ(gu_submit(&a, smoke_cmds, ARRAY_SIZE(smoke_cmds)), 0);
	CHECK_EQ(gu_save(&a, &s, why), 0);
	CHECK_EQ(ctxmig_gpu_init(&b, m, 64 << 20), 0);
	ctxmig_gpu_set_va_bits(&b, 40);
	for (cut = 0; cut < s.len; cut += 8) {
		size_t len = s.len;

		s.len = cut;
		CHECK(gu_restore(&b, &s, 0, why) < 0, "cut at %zu accepted",
		      cut);
		s.len = len;
	}
	gu_stream_free(&s);
	ctxmig_gpu_fini(&a);
	ctxmig_gpu_fini(&b);
}

/* Every vGPU presents one BAR0, and its streams one PCI identity. */
TEST(one_identity_for_every_model)
{
	const struct ctxmig_model *m;
	unsigned int i;

	for_each_model(i, m) {
		struct ctxmig_gpu gpu;
		struct gu_stream out = {};
		const struct ctxmig_ir_dev_identity *id;
		const struct ctxmig_ir_preamble *p;
		char why[CTXMIG_IR_REASON_LEN];

		CHECK_EQ(m->mmio_size, CTXMIG_PCI_BAR0_SIZE);
		if (gu_setup(&gpu, m, 16 << 20, 40)) {
			CHECK(0, "%s: setup", m->name);
			continue;
		}
		CHECK_EQ(gu_save(&gpu, &out, why), 0);
		p = (const void *)out.buf;
		/* DEVICE's header, then DEV_IDENTITY's, then its payload. */
		id = (const void *)(out.buf + le32_to_cpu(p->preamble_len) +
				    2 * sizeof(struct ctxmig_ir_rec));
		CHECK_EQ(le16_to_cpu(id->pci_vendor), CTXMIG_PCI_VENDOR_ID);
		CHECK_EQ(le16_to_cpu(id->pci_device), CTXMIG_PCI_DEVICE_ID);
		CHECK_EQ(id->revision, CTXMIG_PCI_REVISION);
		CHECK_EQ(le32_to_cpu(id->model), m->id);
		gu_stream_free(&out);
		ctxmig_gpu_fini(&gpu);
	}
}

/* A BAR0 write of some bytes of a register changes those bytes only. */
TEST(bar0_byte_enables)
{
	const struct ctxmig_model *m = ctxmig_model_at(0);
	u32 ctl = m->mmio_size - CTXMIG_CTL_SIZE;
	struct ctxmig_gpu gpu;

	CHECK_EQ(gu_setup(&gpu, m, 16 << 20, 40), 0);
	ctxmig_gpu_mmio_write(&gpu, 0x100, 0x11223344);
	ctxmig_gpu_mmio_write_mask(&gpu, 0x100, 0xaabbccdd, 0x00ff0000);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, 0x100), 0x11bb3344);
	ctxmig_gpu_mmio_write_mask(&gpu, ctl + CTXMIG_CTL_IRQ_ENABLE,
				   CTXMIG_IRQ_ALL, 0xff);
	CHECK_EQ(gpu.eng[0].irq_enabled, CTXMIG_IRQ_ALL);
	ctxmig_gpu_mmio_write_mask(&gpu, ctl + CTXMIG_CTL_IRQ_ENABLE, 0,
				   0xffff0000);
	CHECK_EQ(gpu.eng[0].irq_enabled, CTXMIG_IRQ_ALL);
	/* Write 1 to clear, but only in the bytes written. */
	gpu.eng[0].irq_pending = CTXMIG_IRQ_ALL;
	ctxmig_gpu_mmio_write_mask(&gpu, ctl + CTXMIG_CTL_IRQ_STATUS,
				   U32_MAX, 0xff00);
	CHECK_EQ(gpu.eng[0].irq_pending, CTXMIG_IRQ_ALL);
	ctxmig_gpu_mmio_write_mask(&gpu, ctl + CTXMIG_CTL_IRQ_STATUS,
				   CTXMIG_IRQ_FENCE, 0xff);
	CHECK_EQ(gpu.eng[0].irq_pending, CTXMIG_IRQ_ALL & ~CTXMIG_IRQ_FENCE);
	ctxmig_gpu_fini(&gpu);
}

int main(void)
{
	return host_main("gpu_test");
}
