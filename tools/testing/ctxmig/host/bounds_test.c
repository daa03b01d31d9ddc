// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the work bounds (Documentation/gpu/ctxmig/architecture.rst,
 * "Work bounds"): a stream or a guest makes the pure logic do work in
 * proportion to its own size, however it is made.  Each test holds the
 * work a hostile input causes, as ctxmig_gpu_work() counts it, against
 * the size of that input, in the same run: no clock.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "ctxmig_gpu.h"
#include "ctxmig_ir.h"
#include "ctxmig_vram.h"
#include "ctxmig_xlate.h"
#include "harness.h"
#include "gpu_util.h"

#define for_each_model(i, m) \
	for (i = 0; (m = ctxmig_model_at(i)); i++)

/* What a BAR2 mapping asks of VRAM: the pages it write-protects. */
struct wp_log {
	u64 calls;
	u64 pages;
};

static void wp_record(void *priv, u64 pfn, u64 npages)
{
	struct wp_log *log = priv;

	log->calls++;
	log->pages += npages;
}

static void vram_map(struct ctxmig_vram *vram, struct wp_log *log)
{
	vram->wprotect = wp_record;
	vram->wprotect_priv = log;
	ctxmig_vram_set_mapped(vram, true);
}

/* ------------------------------------------------------------ streams */

/* A stream written record by record, drained into @out as it goes. */
struct bstream {
	struct ctxmig_ir_writer w;
	struct gu_stream out;
	u64 records;
	int err;
};

static void bs_done(struct bstream *b, int ret)
{
	gu_drain(&b->w, &b->out);
	if (ret && !b->err)
		b->err = ret;
	b->records++;
}

/* Preamble, DEVICE and ENGINE as @src would write them. */
static void bs_begin(struct bstream *b, struct ctxmig_gpu *src)
{
	const struct ctxmig_model *m = src->model;
	struct ctxmig_identity id = {
		.pci_vendor = m->pci_vendor, .pci_device = m->pci_device,
		.model = m->id,
	};
	struct ctxmig_fence fence = {};
	struct ctxmig_irq irq = {};
	struct ctxmig_ring ring;
	struct ctxmig_caps caps;

	memset(b, 0, sizeof(*b));
	b->err = ctxmig_ir_writer_init(&b->w, CTXMIG_IR_WRITER_MIN_BUF);
	strncpy(id.name, m->name, sizeof(id.name) - 1);
	ctxmig_gpu_caps(src, &caps);
	m->ring_get(src, 0, &ring);
	b->err = b->err ?: ctxmig_ir_put_preamble(&b->w, &caps);
	gu_drain(&b->w, &b->out);
	bs_done(b, ctxmig_ir_put_device(&b->w, &id, &caps));
	bs_done(b, ctxmig_ir_put_engine(&b->w, &ring, &fence, &irq));
}

static void bs_vram(struct bstream *b, u64 offset, const u8 *data, u64 len)
{
	while (len) {
		u32 n = min_t(u64, len, CTXMIG_IR_VRAM_CHUNK_MAX);

		bs_done(b, ctxmig_ir_put_vram(&b->w, offset, data, n));
		offset += n;
		data += n;
		len -= n;
	}
}

static void bs_end(struct bstream *b)
{
	bs_done(b, ctxmig_ir_put_end(&b->w));
	ctxmig_ir_writer_fini(&b->w);
}

/* ------------------------------------------------------ a) VRAM_ZERO */

#define ZERO_AT		(16ULL << 20)
#define ZERO_LEN	(16ULL << 20)
#define ZERO_RECORDS	256

/*
 * Clearing the same range again and again on a mapped VRAM (pages stay,
 * they cannot be freed) costs the pages written in between, not the
 * range each time: a page zeroed once is passed by until written again.
 */
TEST(mapped_vram_clears_cost_the_pages_written)
{
	u64 pages = ZERO_LEN / CTXMIG_VRAM_PAGE_SIZE, work, pfn;
	struct wp_log log = { 0 };
	struct ctxmig_vram v;
	u8 *buf = malloc(ZERO_LEN);
	unsigned int i;
	u8 *page;

	memset(buf, 0x5a, ZERO_LEN);
	CHECK_EQ(ctxmig_vram_init(&v, 64 << 20), 0);
	vram_map(&v, &log);
	CHECK_EQ(ctxmig_vram_write(&v, ZERO_AT, buf, ZERO_LEN), 0);
	work = v.cleared;
	for (i = 0; i < ZERO_RECORDS; i++)
		CHECK_EQ(ctxmig_vram_clear(&v, ZERO_AT, ZERO_LEN), 0);
	work = v.cleared - work;
	CHECK(work <= pages + 2 * ZERO_RECORDS,
	      "%u clears of %llu written pages visited %llu pages", i,
	      (unsigned long long)pages, (unsigned long long)work);
	CHECK_EQ(v.present, pages);
	CHECK_EQ(ctxmig_vram_read(&v, ZERO_AT, buf, ZERO_LEN), 0);
	CHECK(!memchr_inv(buf, 0, ZERO_LEN), "cleared range reads zero");
	/* Every page zeroed in place was write-protected first. */
	CHECK(log.pages >= pages, "%llu of %llu pages protected",
	      (unsigned long long)log.pages, (unsigned long long)pages);

	/*
	 * A write through a mapping after that: its fault marks the page
	 * (as ctxmig_bar2_pfn_mkwrite() does), then the bytes land.  The
	 * next clear zeroes that page, and only it.
	 */
	pfn = (ZERO_AT >> CTXMIG_VRAM_PAGE_SHIFT) + 77;
	ctxmig_vram_mark(&v, pfn);
	page = ctxmig_vram_get(&v, pfn);
	CHECK(page, "page present");
	if (page)
		page[100] = 0xee;
	work = v.cleared;
	CHECK_EQ(ctxmig_vram_clear(&v, 0, 64 << 20), 0);
	CHECK_EQ(v.cleared - work, 1);
	CHECK(page && !page[100], "a written mapped page is zeroed again");

	/* The ends of a range that cut a page zero only their part. */
	memset(buf, 0x33, 3 * CTXMIG_VRAM_PAGE_SIZE);
	CHECK_EQ(ctxmig_vram_write(&v, ZERO_AT, buf, 3 * CTXMIG_VRAM_PAGE_SIZE),
		 0);
	CHECK_EQ(ctxmig_vram_clear(&v, ZERO_AT + 100,
				   2 * CTXMIG_VRAM_PAGE_SIZE), 0);
	CHECK_EQ(ctxmig_vram_read(&v, ZERO_AT, buf, 3 * CTXMIG_VRAM_PAGE_SIZE),
		 0);
	CHECK(buf[99] == 0x33 && !buf[100] &&
	      !memchr_inv(buf + 100, 0, 2 * CTXMIG_VRAM_PAGE_SIZE) &&
	      buf[100 + 2 * CTXMIG_VRAM_PAGE_SIZE] == 0x33,
	      "partial pages kept their other bytes");
	ctxmig_vram_fini(&v);
	free(buf);
}

/*
 * A stream of 16 MiB of data and 256 VRAM_ZERO records over it, restored
 * into a target whose BAR2 is mapped (QEMU maps it on the destination
 * too): the restore's work is bounded by the stream's pages and records,
 * mapped or not.
 */
TEST(zero_records_into_a_mapped_target)
{
	const struct ctxmig_model *m = ctxmig_model_at(0);
	u64 pages = ZERO_LEN / CTXMIG_VRAM_PAGE_SIZE;
	u8 *data = malloc(ZERO_LEN);
	struct ctxmig_gpu src;
	struct bstream b;
	unsigned int mapped, i;

	memset(data, 0xa5, ZERO_LEN);
	CHECK_EQ(gu_setup(&src, m, 64 << 20, 40), 0);
	bs_begin(&b, &src);
	bs_vram(&b, ZERO_AT, data, ZERO_LEN);
	for (i = 0; i < ZERO_RECORDS; i++)
		bs_done(&b, ctxmig_ir_put_vram_zero(&b.w, ZERO_AT, ZERO_LEN));
	bs_end(&b);
	CHECK_EQ(b.err, 0);

	for (mapped = 0; mapped < 2; mapped++) {
		struct wp_log log = { 0 };
		struct ctxmig_gpu dst;
		char why[CTXMIG_IR_REASON_LEN] = "";
		u64 work;

		CHECK_EQ(ctxmig_gpu_init(&dst, m, 64 << 20), 0);
		ctxmig_gpu_set_va_bits(&dst, 40);
		if (mapped)
			vram_map(&dst.vram, &log);
		work = ctxmig_gpu_work(&dst);
		CHECK(!gu_restore(&dst, &b.out, 4093, why), "%s", why);
		work = ctxmig_gpu_work(&dst) - work;
		CHECK(work <= 2 * (pages + b.records),
		      "%s target: %llu work for %llu pages and %llu records",
		      mapped ? "mapped" : "unmapped",
		      (unsigned long long)work, (unsigned long long)pages,
		      (unsigned long long)b.records);
		CHECK_EQ(ctxmig_vram_read(&dst.vram, ZERO_AT, data, ZERO_LEN), 0);
		CHECK(!memchr_inv(data, 0, ZERO_LEN), "zeroed");
		ctxmig_gpu_fini(&dst);
	}
	gu_stream_free(&b.out);
	ctxmig_gpu_fini(&src);
	free(data);
}

int main(void)
{
	return host_main("bounds_test");
}
