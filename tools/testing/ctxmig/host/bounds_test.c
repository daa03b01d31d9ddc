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
		.pci_vendor = CTXMIG_PCI_VENDOR_ID,
		.pci_device = CTXMIG_PCI_DEVICE_ID,
		.model = m->id,
	};
	struct ctxmig_fence fence = {};
	struct ctxmig_irq irq = {};
	struct ctxmig_ring ring;
	struct ctxmig_caps caps;

	memset(b, 0, sizeof(*b));
	b->err = ctxmig_ir_writer_init(&b->w, CTXMIG_IR_WRITER_MIN_BUF);
	memcpy(id.name, m->name, strnlen(m->name, sizeof(id.name) - 1));
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

/* ------------------------------------------------------ b) MAPPING */

/* A restore fed @in whole that keeps its plan for the caller to see. */
struct brestore {
	struct ctxmig_restore rs;
	int feed;
	int finish;
	u64 work;
};

static void b_restore(struct brestore *br, struct ctxmig_gpu *dst,
		      const struct gu_stream *in)
{
	u64 work = ctxmig_gpu_work(dst);

	br->finish = -EINPROGRESS;
	br->feed = ctxmig_restore_init(&br->rs, dst);
	br->feed = br->feed ?: ctxmig_restore_feed(&br->rs, in->buf, in->len);
	if (!br->feed)
		br->finish = ctxmig_restore_finish(&br->rs);
	br->work = ctxmig_gpu_work(dst) - work;
}

static void b_mapping_stream(struct gu_stream *out, struct ctxmig_gpu *src,
			     const struct ctxmig_mapping *map)
{
	struct bstream b;

	bs_begin(&b, src);
	bs_done(&b, ctxmig_ir_put_mapping(&b.w, map));
	bs_end(&b);
	CHECK_EQ(b.err, 0);
	*out = b.out;
}

/*
 * One MAPPING record of 2^46 bytes whose address only 4 KiB pages fit:
 * 2^34 leaves, more tables than any target reserves.  Refused at the
 * record, -ENOSPC with the reason, for the work of a few records, on
 * every model.
 */
TEST(huge_mapping_refused_at_its_record)
{
	const struct ctxmig_mapping huge = {
		.va = 0, .size = 1ULL << 46, .addr = 0x1000,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_SYSMEM, .page_shift = 12,
	};
	const struct ctxmig_model *t;
	struct ctxmig_gpu src;
	struct gu_stream st;
	unsigned int i;

	CHECK_EQ(gu_setup(&src, ctxmig_model_at(0), 64 << 20, 47), 0);
	b_mapping_stream(&st, &src, &huge);
	for_each_model(i, t) {
		struct brestore *br = calloc(1, sizeof(*br));
		struct ctxmig_gpu dst;

		CHECK_EQ(ctxmig_gpu_init(&dst, t, 64 << 20), 0);
		CHECK_EQ(ctxmig_gpu_set_va_bits(&dst, 47), 0);
		b_restore(br, &dst, &st);
		CHECK(br->feed == -ENOSPC &&
		      strstr(ctxmig_restore_error(&br->rs)->reason, "do not fit"),
		      "%s: feed %d: %s", t->name, br->feed,
		      ctxmig_restore_error(&br->rs)->reason);
		CHECK(br->work <= 16, "%s: refusing cost %llu work", t->name,
		      (unsigned long long)br->work);
		ctxmig_restore_fini(&br->rs);
		free(br);
		ctxmig_gpu_fini(&dst);
	}
	gu_stream_free(&st);
	ctxmig_gpu_fini(&src);
}

/*
 * 64 GiB of system memory mapped in 4 KiB pages takes 32768 page tables
 * at that size, 32 times what a 64 MiB target reserves; in the target's
 * largest pages a few.  It restores on every model, built in those pages,
 * for work in proportion to the tables, not to the bytes mapped.
 */
TEST(large_mapping_restores_in_large_pages)
{
	const struct ctxmig_mapping large = {
		.va = 1ULL << 40, .size = 1ULL << 36, .addr = 1ULL << 40,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_SYSMEM, .page_shift = 12,
	};
	const struct ctxmig_model *t;
	struct ctxmig_gpu src;
	struct gu_stream st;
	unsigned int i;

	CHECK_EQ(gu_setup(&src, ctxmig_model_at(0), 64 << 20, 47), 0);
	b_mapping_stream(&st, &src, &large);
	for_each_model(i, t) {
		struct brestore *br = calloc(1, sizeof(*br));
		u64 va = large.va + large.size / 2 + 0x12345, tables;
		struct ctxmig_gpu dst;
		struct ctxmig_xlate x = {};

		CHECK_EQ(ctxmig_gpu_init(&dst, t, 64 << 20), 0);
		CHECK_EQ(ctxmig_gpu_set_va_bits(&dst, 47), 0);
		b_restore(br, &dst, &st);
		CHECK(!br->feed && !br->finish, "%s: %d/%d: %s", t->name,
		      br->feed, br->finish,
		      ctxmig_restore_error(&br->rs)->reason);
		tables = (dst.pool_next - dst.guest_size) / CTXMIG_VRAM_PAGE_SIZE;
		CHECK(br->work <= 512 * tables, "%s: %llu work for %llu tables",
		      t->name, (unsigned long long)br->work,
		      (unsigned long long)tables);
		CHECK(!ctxmig_pt_translate(&dst, va, &x) &&
		      x.addr + (va & (BIT_ULL(x.page_shift) - 1)) ==
		      large.addr + (va - large.va) && x.page_shift >= 21,
		      "%s: VA 0x%llx does not translate in large pages",
		      t->name, (unsigned long long)va);
		ctxmig_restore_fini(&br->rs);
		free(br);
		ctxmig_gpu_fini(&dst);
	}
	gu_stream_free(&st);
	ctxmig_gpu_fini(&src);
}

/* Mappings of every alignment a guest may give, in ascending VA order. */
static void b_random_mappings(struct ctxmig_gpu *src, u64 seed)
{
	const struct ctxmig_model *m = src->model;
	u64 va = 0x40000000ULL;
	unsigned int i, n = 0;
	u8 shifts[CTXMIG_PT_MAX_LEVELS];

	for (i = 0; i < m->nlevels; i++)
		if (m->levels[i].leaf && m->levels[i].shift <= 21)
			shifts[n++] = m->levels[i].shift;
	gu_seed(seed);
	for (i = 0; i < 24; i++) {
		u8 shift = shifts[gu_rand() % n];
		u64 page = BIT_ULL(shift);
		struct ctxmig_mapping map = {
			.size = (1 + gu_rand() % 700) * page,
			.flags = CTXMIG_MAP_READ | CTXMIG_MAP_SYSMEM,
			.page_shift = shift,
		};

		va = ALIGN(va + (gu_rand() % 3) * page + (gu_rand() % 4 ?
							  0 : 1ULL << 30),
			   page);
		map.va = va;
		map.addr = (gu_rand() % 2 ? va : (gu_rand() % 64) << 21) +
			   (gu_rand() % 2 ? 0 : (gu_rand() % 8) * page);
		map.addr = ALIGN(map.addr, page);
		CHECK_EQ(gu_map(src, &map), 0);
		va += map.size;
	}
}

/*
 * The count a restore makes as the MAPPING records arrive is the tables
 * it then builds, for streams of every model into every model; with
 * commands to re-encode, what it builds stays within what it counted.
 */
TEST(restore_plan_is_what_apply_builds)
{
	static const struct ctxmig_cmd cmds[] = {
		{ .op = CTXMIG_OP_WRITE32, .dst = 0x200000, .value = 1 },
		{ .op = CTXMIG_OP_COPY, .src = 0x200000, .dst = 0x300000,
		  .value = 0x80000 },
		{ .op = CTXMIG_OP_FENCE, .dst = 0x200100, .value = 7,
		  .flags = CTXMIG_CMD_IRQ },
	};
	const struct ctxmig_model *m, *t;
	unsigned int i, j, k;

	for_each_model(i, m)
		for_each_model(j, t)
			for (k = 0; k < 2; k++) {
				struct brestore *br = calloc(1, sizeof(*br));
				struct ctxmig_gpu src, dst;
				struct gu_stream st = {};
				char why[CTXMIG_IR_REASON_LEN] = "";
				struct ctxmig_cmd ib;
				u64 used, planned;

				CHECK_EQ(gu_setup(&src, m, 64 << 20, 40), 0);
				b_random_mappings(&src, i * 16 + j + 1);
				if (k) {
					u8 enc[CTXMIG_CMD_MAX_BYTES];
					int n;

					CHECK_EQ(gu_make_ib(&src, cmds, 3, 1, &ib),
						 0);
					n = m->encode(&src, &ib, enc, sizeof(enc));
					CHECK(n > 0, "%s: %d", m->name, n);
					CHECK_EQ(gu_ring_append(&src, enc, n), 0);
					CHECK_EQ(gu_submit(&src, cmds, 3), 0);
				}
				CHECK(!gu_save(&src, &st, why), "%s", why);
				CHECK_EQ(ctxmig_gpu_init(&dst, t, 64 << 20), 0);
				ctxmig_gpu_set_va_bits(&dst, 40);
				b_restore(br, &dst, &st);
				CHECK(!br->feed && !br->finish,
				      "%s -> %s: %s", m->name, t->name,
				      ctxmig_restore_error(&br->rs)->reason);
				used = dst.pool_next - dst.guest_size;
				planned = (br->rs.plan.tables +
					   br->rs.window_tables) *
					  CTXMIG_VRAM_PAGE_SIZE;
				if (k && br->rs.reencode)
					planned += br->rs.cmd_bytes;
				if (!k)
					CHECK(used == planned,
					      "%s -> %s: built %llu, counted %llu",
					      m->name, t->name,
					      (unsigned long long)used,
					      (unsigned long long)planned);
				else
					CHECK(used <= planned,
					      "%s -> %s: built %llu, counted %llu",
					      m->name, t->name,
					      (unsigned long long)used,
					      (unsigned long long)planned);
				ctxmig_restore_fini(&br->rs);
				free(br);
				gu_stream_free(&st);
				ctxmig_gpu_fini(&src);
				ctxmig_gpu_fini(&dst);
			}
}

/*
 * Every model keeps the promise a restore counts on: a command encodes
 * into at most CTXMIG_CMD_MAX_BYTES, a COPY into as many of those as it
 * has CTXMIG_CMD_COPY_MIN bytes, plus one.
 */
TEST(encoded_sizes_within_what_a_restore_counts)
{
	static const u64 copies[] = { 1, 4096, 0x3ffff, 0x40000, 0x40001,
				      16 << 20, (16 << 20) + 3 };
	const struct ctxmig_model *m;
	unsigned int i, k;
	u8 *buf = malloc(1 << 16);

	for_each_model(i, m) {
		struct ctxmig_gpu gpu;

		CHECK_EQ(gu_setup(&gpu, m, 64 << 20, 40), 0);
		for (k = 0; k < ARRAY_SIZE(copies); k++) {
			struct ctxmig_cmd c = {
				.op = CTXMIG_OP_COPY, .level = 1,
				.src = 0x200000, .dst = 0x300000,
				.value = copies[k],
			};
			int n = m->encode(&gpu, &c, buf, 1 << 16);

			CHECK(n > 0 && n <= CTXMIG_CMD_MAX_BYTES *
			      (copies[k] / CTXMIG_CMD_COPY_MIN + 1),
			      "%s: COPY of %llu bytes takes %d", m->name,
			      (unsigned long long)copies[k], n);
		}
		for (k = 0; k <= CTXMIG_OP_MAX; k++) {
			struct ctxmig_cmd c = {
				.op = k, .level = 1, .dst = 0x200000,
				.src = 0x180000, .value = k == CTXMIG_OP_IB ?
							  256 : 8,
			};
			int n = m->encode(&gpu, &c, buf, 1 << 16);

			CHECK(n <= CTXMIG_CMD_MAX_BYTES, "%s: op %u takes %d",
			      m->name, k, n);
		}
		ctxmig_gpu_fini(&gpu);
	}
	free(buf);
}

/* ---------------------------------------------- c) page-table walks */

/* Is the entry @raw of @level invalid in every sub-entry? */
static bool entry_unused(struct ctxmig_gpu *gpu, u32 level, const u64 *raw)
{
	const struct ctxmig_model *m = gpu->model;
	u32 sub;

	for (sub = 0; sub < m->levels[level].nsubs; sub++) {
		struct ctxmig_pte pte;

		m->pte_decode(gpu, level, sub, raw, &pte);
		if (pte.kind != CTXMIG_PTE_INVALID)
			return false;
	}
	return true;
}

/*
 * Along the path of @va, point @copies unused entries of every directory
 * at the same next table, as a guest may: each level multiplies the
 * tables a walk meets by @copies + 1.
 */
static void alias_path(struct ctxmig_gpu *gpu, u64 va, u32 n)
{
	const struct ctxmig_model *m = gpu->model;
	u64 table = m->pt_root(gpu);
	u32 level = 0;

	for (;;) {
		u32 copies = n;
		const struct ctxmig_pt_level *l = &m->levels[level];
		u64 idx = (va >> l->shift) & (BIT_ULL(l->bits) - 1);
		u64 raw[CTXMIG_PT_MAX_SUBS] = {}, next = 0;
		int sub, child = -1;
		u32 k;

		CHECK_EQ(ctxmig_vram_read(&gpu->vram, table + idx * l->entry_size,
					  raw, l->entry_size), 0);
		for (sub = l->nsubs - 1; sub >= 0 && child < 0; sub--) {
			struct ctxmig_pte pte;

			m->pte_decode(gpu, level, sub, raw, &pte);
			if (pte.kind == CTXMIG_PTE_TABLE && l->child[sub] >= 0) {
				child = l->child[sub];
				next = pte.addr;
			}
		}
		if (child < 0)
			return;
		for (k = 1; copies && k < BIT_ULL(l->bits); k++) {
			u64 at = table + ((idx + k) & (BIT_ULL(l->bits) - 1)) *
				 l->entry_size;
			u64 old[CTXMIG_PT_MAX_SUBS] = {};

			ctxmig_vram_read(&gpu->vram, at, old, l->entry_size);
			if (!entry_unused(gpu, level, old))
				continue;
			CHECK_EQ(ctxmig_vram_write(&gpu->vram, at, raw,
						   l->entry_size), 0);
			copies--;
		}
		table = next;
		level = child;
	}
}

/*
 * A guest whose directories point eight more entries each at the tables
 * of its one mapping: the walk would meet 9^n tables.  The save fails,
 * at stop-copy and at the start of pre-copy alike, -ELOOP with the
 * reason, for no more work than the budget of the guest's VRAM, and
 * the source runs on: a command executes after it.
 */
TEST(shared_tables_refused_within_the_budget)
{
	static const struct ctxmig_cmd fence = {
		.op = CTXMIG_OP_FENCE, .dst = 0x200100, .value = 5,
	};
	const struct ctxmig_model *m;
	unsigned int i;

	for_each_model(i, m) {
		struct ctxmig_gpu gpu;
		struct ctxmig_save s;
		u64 work, budget;
		int ret;

		CHECK_EQ(gu_setup(&gpu, m, 64 << 20, 40), 0);
		alias_path(&gpu, GU_VA, 8);
		budget = 1024 * (gpu.vram.present + 1);
		work = ctxmig_gpu_work(&gpu);
		ret = ctxmig_save_init(&s, &gpu);
		work = ctxmig_gpu_work(&gpu) - work;
		CHECK(ret == -ELOOP && strstr(s.error.reason, "page tables"),
		      "%s: %d: %s", m->name, ret, s.error.reason);
		CHECK(work <= budget, "%s: %llu work, budget %llu", m->name,
		      (unsigned long long)work, (unsigned long long)budget);
		ctxmig_save_fini(&s);

		work = ctxmig_gpu_work(&gpu);
		ret = ctxmig_save_precopy_init(&s, &gpu);
		work = ctxmig_gpu_work(&gpu) - work;
		CHECK(ret == -ELOOP, "%s: pre-copy: %d", m->name, ret);
		CHECK(work <= budget, "%s: pre-copy: %llu work, budget %llu",
		      m->name, (unsigned long long)work,
		      (unsigned long long)budget);
		ctxmig_save_fini(&s);

		CHECK_EQ(gu_submit(&gpu, &fence, 1), 0);
		CHECK(ctxmig_gpu_run(&gpu, 0, 100) > 0, "%s: %s", m->name,
		      gpu.eng[0].reason);
		CHECK_EQ(gu_read32(&gpu, 0x200100), 5);
		ctxmig_gpu_fini(&gpu);
	}
}

/*
 * A directory whose other entries all point at pages never written
 * (reading as zero: empty tables) is no sharing: it saves, each empty
 * table costing one unit of work.
 */
TEST(empty_tables_cost_one_each)
{
	const struct ctxmig_model *m;
	unsigned int i;

	for_each_model(i, m) {
		struct ctxmig_gpu gpu;
		struct gu_stream st = {};
		char why[CTXMIG_IR_REASON_LEN] = "";
		u64 table, idx, work, raw[CTXMIG_PT_MAX_SUBS];
		const struct ctxmig_pt_level *l;
		struct ctxmig_xlate x;
		int level, sub = 0;
		u32 k, n = 0;

		CHECK_EQ(gu_setup(&gpu, m, 64 << 20, 40), 0);
		/* The directory above the leaf table that maps GU_VA. */
		CHECK_EQ(ctxmig_pt_translate(&gpu, GU_VA, &x), 0);
		for (level = 0; level < m->nlevels; level++)
			if (m->levels[level].shift == x.page_shift)
				break;
		for (k = 0; k < m->nlevels; k++)
			for (sub = 0; sub < m->levels[k].nsubs; sub++)
				if (m->levels[k].child[sub] == level)
					goto found;
found:
		l = &m->levels[k];
		table = m->pt_root(&gpu);
		for (level = 0; level < (int)k; level++) {
			const struct ctxmig_pt_level *d = &m->levels[level];
			struct ctxmig_pte pte;
			int s;

			idx = (GU_VA >> d->shift) & (BIT_ULL(d->bits) - 1);
			memset(raw, 0, sizeof(raw));
			ctxmig_vram_read(&gpu.vram, table + idx * d->entry_size,
					 raw, d->entry_size);
			for (s = d->nsubs - 1; s >= 0; s--) {
				m->pte_decode(&gpu, level, s, raw, &pte);
				if (pte.kind == CTXMIG_PTE_TABLE)
					break;
			}
			table = pte.addr;
		}
		idx = (GU_VA >> l->shift) & (BIT_ULL(l->bits) - 1);
		for (k = 0; k < BIT_ULL(l->bits); k++) {
			struct ctxmig_pte pte = {
				.kind = CTXMIG_PTE_TABLE,
				.addr = (32ULL << 20) + (u64)k * 4096,
			};

			if (k == idx)
				continue;
			memset(raw, 0, sizeof(raw));
			if (m->pte_encode(&gpu, level, sub, &pte, raw))
				continue;
			ctxmig_vram_write(&gpu.vram, table + k * l->entry_size,
					  raw, l->entry_size);
			n++;
		}
		CHECK(n > 200, "%s: %u empty tables", m->name, n);
		work = ctxmig_gpu_work(&gpu);
		CHECK(!gu_save(&gpu, &st, why), "%s: %s", m->name, why);
		work = ctxmig_gpu_work(&gpu) - work;
		CHECK(work <= 1024 * (gpu.vram.present + 1),
		      "%s: %llu work for %llu pages", m->name,
		      (unsigned long long)work,
		      (unsigned long long)gpu.vram.present);
		gu_stream_free(&st);
		ctxmig_gpu_fini(&gpu);
	}
}

/*
 * Between models of one command format a restore checks that the guest's
 * own ring and buffers, which travelled as VRAM, say what the stream's
 * CMD records say.  Buffers rewritten to point many times at another
 * buffer would make that check decode thousands of commands for each
 * record; it decodes no more than the stream lists, then re-encodes.
 */
TEST(passthrough_check_decodes_what_the_stream_lists)
{
	const struct ctxmig_model *m = ctxmig_model_at(0);
	const u64 b1_vram = GU_VRAM + (GU_BUF_VA - GU_VA);
	const u64 b2_va = GU_BUF_VA + 0x40000;
	struct ctxmig_cmd nops[256], ib, enc;
	struct brestore *br = calloc(1, sizeof(*br));
	struct ctxmig_gpu src, dst;
	struct gu_stream st = {};
	char why[CTXMIG_IR_REASON_LEN] = "";
	u8 buf[4096], one[CTXMIG_CMD_MAX_BYTES];
	u32 len = 0;
	u64 work;
	int n;

	memset(nops, 0, sizeof(nops));
	CHECK_EQ(gu_setup(&src, m, 64 << 20, 40), 0);
	CHECK_EQ(gu_make_ib(&src, nops, ARRAY_SIZE(nops), 1, &ib), 0);
	n = m->encode(&src, &ib, one, sizeof(one));
	CHECK(n > 0, "%d", n);
	CHECK_EQ(gu_ring_append(&src, one, n), 0);
	CHECK(!gu_save(&src, &st, why), "%s", why);

	CHECK_EQ(ctxmig_gpu_init(&dst, m, 64 << 20), 0);
	ctxmig_gpu_set_va_bits(&dst, 40);
	CHECK_EQ(ctxmig_restore_init(&br->rs, &dst), 0);
	CHECK_EQ(ctxmig_restore_feed(&br->rs, st.buf, st.len), 0);
	CHECK_EQ(br->rs.cmds[0].n, ARRAY_SIZE(nops) + 1);
	/* The second buffer: the first one's bytes, somewhere else. */
	CHECK_EQ(ctxmig_vram_read(&dst.vram, b1_vram, buf, ib.value), 0);
	CHECK_EQ(ctxmig_vram_write(&dst.vram, b1_vram + (b2_va - GU_BUF_VA),
				   buf, ib.value), 0);
	/* The first one: as many buffer starts of the second as fit. */
	enc = ib;
	enc.src = b2_va;
	enc.level = 1;
	while ((n = m->encode(&dst, &enc, one, sizeof(one))) > 0 &&
	       len + n <= ib.value) {
		memcpy(buf + len, one, n);
		len += n;
	}
	CHECK(len >= 16 * 16, "%u bytes of buffer starts", len);
	CHECK_EQ(ctxmig_vram_write(&dst.vram, b1_vram, buf, len), 0);

	work = ctxmig_gpu_work(&dst);
	CHECK_EQ(ctxmig_restore_finish(&br->rs), 0);
	work = ctxmig_gpu_work(&dst) - work;
	CHECK(!br->rs.passthrough[0], "the rewritten buffers passed the check");
	CHECK(work <= 4 * (ARRAY_SIZE(nops) + 1) + 4096,
	      "checking %u commands cost %llu work",
	      (unsigned int)ARRAY_SIZE(nops) + 1, (unsigned long long)work);
	ctxmig_restore_fini(&br->rs);
	free(br);
	gu_stream_free(&st);
	ctxmig_gpu_fini(&src);
	ctxmig_gpu_fini(&dst);
}

int main(void)
{
	return host_main("bounds_test");
}
