// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of what a save says it has left to send
 * (ctxmig_save_estimate(), ctxmig_save_precopy_info()) against the bytes
 * it then writes, on every model: a VMM decides when to switch over from
 * them.  The device does not change between an estimate and the stream
 * here, so the only difference allowed is the record headers the
 * estimate counts for pages that share a record.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "ctxmig_gpu.h"
#include "ctxmig_vram.h"
#include "ctxmig_xlate.h"
#include "harness.h"
#include "gpu_util.h"

#define PAGE		CTXMIG_VRAM_PAGE_SIZE
#define HDR		CTXMIG_IR_VRAM_HDR_BYTES
/* More than the data pages of the test and of the guest's own. */
#define PAGES		64

static u8 page_buf[PAGE];

static void write_pages(struct ctxmig_gpu *gpu, u64 off, u32 n, bool zero)
{
	u32 i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < PAGE; j++)
			page_buf[j] = zero ? 0 : (u8)(gu_rand() | 1);
		CHECK_EQ(ctxmig_vram_write(&gpu->vram, off + i * PAGE,
					   page_buf, PAGE), 0);
	}
}

/* Run a save until it returns @until (or an error); bytes written. */
static u64 step_until(struct ctxmig_save *s, struct ctxmig_ir_writer *w,
		      int until)
{
	struct gu_stream out = {};
	u64 bytes;
	int ret;

	do {
		ret = ctxmig_save_step(s, w);
		gu_drain(w, &out);
	} while (ret == 0);
	CHECK(ret == until, "save step: %d, wanted %d (%s)", ret, until,
	      s->error.reason);
	bytes = out.len;
	gu_stream_free(&out);
	return bytes;
}

/* @est covers @got, by no more than a header for each of @pages. */
#define CHECK_ESTIMATE(what, est, got, pages)				\
	CHECK((est) >= (got) && (est) - (got) <= (u64)(pages) * HDR,	\
	      "%s: %s estimated %llu, %llu written", m->name, what,	\
	      (unsigned long long)(est), (unsigned long long)(got))

/*
 * Page tables, sparse data pages, zero pages, a run of data and commands
 * pending: a stop-copy save, then a pre-copy save with pages written in
 * between.
 */
TEST(estimates_match_the_stream)
{
	static const struct ctxmig_cmd nop = { .op = CTXMIG_OP_NOP };
	const struct ctxmig_model *m;
	unsigned int i;

	for (i = 0; (m = ctxmig_model_at(i)); i++) {
		struct ctxmig_cmd cmds[40];
		struct ctxmig_ir_writer w;
		struct ctxmig_save s;
		struct ctxmig_gpu gpu;
		struct gu_stream out = {};
		char why[CTXMIG_IR_REASON_LEN];
		u64 est, got, initial, dirty;
		u32 k;

		gu_seed(i + 1);
		if (gu_setup(&gpu, m, 64 << 20, 40)) {
			CHECK(0, "%s: setup", m->name);
			continue;
		}
		write_pages(&gpu, 8 << 20, 1, false);
		write_pages(&gpu, 21 << 20, 3, false);
		write_pages(&gpu, 30 << 20, 50, true);
		write_pages(&gpu, 40 << 20, 33, false);
		for (k = 0; k < ARRAY_SIZE(cmds); k++)
			cmds[k] = nop;
		CHECK_EQ(gu_submit(&gpu, cmds, ARRAY_SIZE(cmds)), 0);

		est = ctxmig_save_estimate(NULL, &gpu);
		CHECK_EQ(gu_save(&gpu, &out, why), 0);
		CHECK_ESTIMATE("stop-copy", est, out.len, PAGES);
		gu_stream_free(&out);

		CHECK_EQ(ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF), 0);
		CHECK_EQ(ctxmig_save_precopy_init(&s, &gpu), 0);
		CHECK(ctxmig_save_precopy_pending(&s), "%s: nothing to read",
		      m->name);
		ctxmig_save_precopy_info(&s, &initial, &dirty);
		CHECK_EQ(dirty, 0);
		got = step_until(&s, &w, CTXMIG_SAVE_IDLE);
		CHECK_ESTIMATE("initial", initial, got, PAGES);
		CHECK(!ctxmig_save_precopy_pending(&s), "%s: more at the end",
		      m->name);
		ctxmig_save_precopy_info(&s, &initial, &dirty);
		CHECK_EQ(initial + dirty, 0);

		/* New data, and data overwritten with zeros: VRAM_ZERO. */
		write_pages(&gpu, 40 << 20, 5, false);
		write_pages(&gpu, (40 << 20) + 5 * PAGE, 7, true);
		write_pages(&gpu, 50 << 20, 9, false);
		CHECK(ctxmig_save_precopy_pending(&s), "%s: no dirty pages",
		      m->name);
		ctxmig_save_precopy_info(&s, &initial, &dirty);
		CHECK_EQ(initial, 0);
		got = step_until(&s, &w, CTXMIG_SAVE_IDLE);
		CHECK_ESTIMATE("dirty", dirty, got, 21);

		/*
		 * Stop-copy: what pre-copy has left is in the estimate, which
		 * is the rest of the stream (a VMM takes it so).
		 */
		write_pages(&gpu, 12 << 20, 2, false);
		ctxmig_save_precopy_info(&s, &initial, &dirty);
		CHECK(dirty > 0, "%s: no dirty pages", m->name);
		est = ctxmig_save_estimate(&s, &gpu);
		CHECK(est > initial + dirty, "%s: estimated %llu, pre-copy has %llu",
		      m->name, (unsigned long long)est,
		      (unsigned long long)(initial + dirty));
		CHECK_EQ(ctxmig_save_stop(&s), 0);
		got = step_until(&s, &w, CTXMIG_SAVE_DONE);
		CHECK_ESTIMATE("stop-copy after pre-copy", est, got, 2);
		CHECK_EQ(ctxmig_save_estimate(&s, &gpu), 0);
		ctxmig_save_fini(&s);
		ctxmig_ir_writer_fini(&w);
		ctxmig_gpu_fini(&gpu);
	}
}

/* A pre-copy stopped before its first pass is over sends the rest then. */
TEST(estimate_of_an_early_stop)
{
	const struct ctxmig_model *m = ctxmig_model_at(0);
	struct ctxmig_ir_writer w;
	struct ctxmig_save s;
	struct ctxmig_gpu gpu;
	u64 initial, dirty, est, got;
	u32 held;
	int ret;

	gu_seed(7);
	CHECK_EQ(gu_setup(&gpu, m, 64 << 20, 40), 0);
	write_pages(&gpu, 8 << 20, 200, false);
	CHECK_EQ(ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF), 0);
	CHECK_EQ(ctxmig_save_precopy_init(&s, &gpu), 0);
	/* One writer's worth of the first pass. */
	ret = ctxmig_save_step(&s, &w);
	CHECK_EQ(ret, 0);
	ctxmig_save_precopy_info(&s, &initial, &dirty);
	CHECK(initial > 0, "%s: the first pass is not over", m->name);
	/* The writer holds some of the first pass already: not estimated. */
	ctxmig_ir_peek(&w, &held);
	est = ctxmig_save_estimate(&s, &gpu) + held;
	CHECK_EQ(ctxmig_save_stop(&s), 0);
	got = step_until(&s, &w, CTXMIG_SAVE_DONE);
	CHECK_ESTIMATE("early stop", est, got, 200 + PAGES);
	ctxmig_save_fini(&s);
	ctxmig_ir_writer_fini(&w);
	ctxmig_gpu_fini(&gpu);
}

/*
 * Beyond the pages an estimate looks into it extrapolates: zero pages
 * among data pages, evenly, give an estimate within a few percent.
 */
TEST(estimate_extrapolates)
{
	const struct ctxmig_model *m = ctxmig_model_at(0);
	struct ctxmig_gpu gpu;
	struct gu_stream out = {};
	char why[CTXMIG_IR_REASON_LEN];
	u64 est;
	u32 k;

	gu_seed(9);
	CHECK_EQ(gu_setup(&gpu, m, 64 << 20, 40), 0);
	for (k = 0; k < 3000; k++)
		write_pages(&gpu, (8 << 20) + k * PAGE, 1, k % 3 == 0);
	est = ctxmig_save_estimate(NULL, &gpu);
	CHECK_EQ(gu_save(&gpu, &out, why), 0);
	CHECK(est > out.len - out.len / 20 && est < out.len + out.len / 20,
	      "%s: estimated %llu, %zu written", m->name,
	      (unsigned long long)est, out.len);
	gu_stream_free(&out);
	ctxmig_gpu_fini(&gpu);
}

int main(void)
{
	return host_main("estimate_test");
}
