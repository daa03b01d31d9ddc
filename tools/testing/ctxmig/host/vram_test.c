// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of ctxmig's sparse VRAM (and so of the xarray shim under it):
 * sparse allocation, bounds, page-crossing access, dirty tracking.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "ctxmig_vram.h"
#include "harness.h"

TEST(sparse_8gib_costs_what_is_touched)
{
	struct ctxmig_vram v;
	u8 buf[64] = { 0 }, out[64];
	u64 pfn = 0;
	unsigned int n = 0;

	CHECK_EQ(ctxmig_vram_init(&v, 8ULL << 30), 0);
	CHECK_EQ(v.present, 0);
	memset(buf, 0xab, sizeof(buf));
	CHECK_EQ(ctxmig_vram_write(&v, (8ULL << 30) - 32, buf, 32), 0);
	CHECK_EQ(ctxmig_vram_write(&v, 0x12345, buf, sizeof(buf)), 0);
	CHECK_EQ(v.present, 2);
	CHECK_EQ(ctxmig_vram_read(&v, 0x12345, out, sizeof(out)), 0);
	CHECK(!memcmp(out, buf, sizeof(out)), "read back");
	/* Never-written memory reads as zero and allocates nothing. */
	CHECK_EQ(ctxmig_vram_read(&v, 4ULL << 30, out, sizeof(out)), 0);
	CHECK(!memchr_inv(out, 0, sizeof(out)), "absent page reads zero");
	CHECK_EQ(v.present, 2);
	while (ctxmig_vram_next(&v, &pfn, false)) {
		n++;
		pfn++;
	}
	CHECK_EQ(n, 2);
	ctxmig_vram_fini(&v);
}

TEST(bounds)
{
	struct ctxmig_vram v;
	u8 b[16] = { 0 };

	CHECK_EQ(ctxmig_vram_init(&v, 0), -EINVAL);
	CHECK_EQ(ctxmig_vram_init(&v, 4097), -EINVAL);
	CHECK_EQ(ctxmig_vram_init(&v, 1 << 20), 0);
	CHECK_EQ(ctxmig_vram_write(&v, (1 << 20) - 8, b, 16), -ERANGE);
	CHECK_EQ(ctxmig_vram_read(&v, ~0ULL - 4, b, 16), -ERANGE);
	CHECK_EQ(ctxmig_vram_write(&v, 1 << 20, b, 0), 0);
	CHECK_EQ(ctxmig_vram_clear(&v, 0, (1 << 20) + 1), -ERANGE);
	CHECK_EQ(v.present, 0);
	ctxmig_vram_fini(&v);
}

TEST(page_crossing_and_clear)
{
	struct ctxmig_vram v;
	static u8 big[3 * CTXMIG_VRAM_PAGE_SIZE], out[sizeof(big)];
	unsigned int i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = i * 13;
	CHECK_EQ(ctxmig_vram_init(&v, 1 << 20), 0);
	CHECK_EQ(ctxmig_vram_write(&v, 100, big, sizeof(big)), 0);
	CHECK_EQ(v.present, 4);
	CHECK_EQ(ctxmig_vram_read(&v, 100, out, sizeof(out)), 0);
	CHECK(!memcmp(big, out, sizeof(out)), "round trip across pages");
	/* Whole pages are freed, partial ones zeroed. */
	CHECK_EQ(ctxmig_vram_clear(&v, 0, 2 * CTXMIG_VRAM_PAGE_SIZE + 10), 0);
	CHECK_EQ(v.present, 2);
	CHECK_EQ(ctxmig_vram_read(&v, 0, out, sizeof(out)), 0);
	CHECK(!memchr_inv(out, 0, 2 * CTXMIG_VRAM_PAGE_SIZE + 10), "cleared");
	CHECK_EQ(out[2 * CTXMIG_VRAM_PAGE_SIZE + 10],
		 big[2 * CTXMIG_VRAM_PAGE_SIZE + 10 - 100]);
	ctxmig_vram_fini(&v);
}

TEST(dirty_tracking)
{
	struct ctxmig_vram v;
	u8 b[8] = { 1 };
	u64 pfn = 0;
	unsigned int n = 0;

	CHECK_EQ(ctxmig_vram_init(&v, 1 << 30), 0);
	CHECK_EQ(ctxmig_vram_write(&v, 0, b, 8), 0);
	CHECK(!ctxmig_vram_next(&v, &pfn, true), "nothing dirty untracked");
	v.track_dirty = true;
	CHECK_EQ(ctxmig_vram_write(&v, 5 * CTXMIG_VRAM_PAGE_SIZE, b, 8), 0);
	CHECK_EQ(ctxmig_vram_write(&v, (1 << 29), b, 8), 0);
	/* Clearing a page while tracking keeps it, zeroed and dirty. */
	CHECK_EQ(ctxmig_vram_clear(&v, 0, CTXMIG_VRAM_PAGE_SIZE), 0);
	CHECK_EQ(v.present, 3);
	pfn = 0;
	while (ctxmig_vram_next(&v, &pfn, true)) {
		ctxmig_vram_clean(&v, pfn);
		n++;
		pfn++;
	}
	CHECK_EQ(n, 3);
	pfn = 0;
	CHECK(!ctxmig_vram_next(&v, &pfn, true), "all cleaned");
	ctxmig_vram_fini(&v);
}

/* The dirty count follows the marks, whatever the order of events. */
TEST(dirty_count)
{
	struct ctxmig_vram v;
	u8 buf[8] = { 1 };
	u64 pfn = 0;

	CHECK_EQ(ctxmig_vram_init(&v, 16 << 20), 0);
	CHECK_EQ(ctxmig_vram_write(&v, 0x3000, buf, 8), 0);
	ctxmig_vram_track(&v, true);
	CHECK_EQ(v.dirty, 0);
	CHECK_EQ(ctxmig_vram_write(&v, 0x1000, buf, 8), 0);
	CHECK_EQ(ctxmig_vram_write(&v, 0x1008, buf, 8), 0);
	CHECK_EQ(ctxmig_vram_write(&v, 0x2000, buf, 8), 0);
	CHECK_EQ(v.dirty, 2);
	ctxmig_vram_clean(&v, 1);
	ctxmig_vram_clean(&v, 1);
	CHECK_EQ(v.dirty, 1);
	/* A cleared page stays, zeroed and dirty, so a round resends it. */
	CHECK_EQ(ctxmig_vram_clear(&v, 0x3000, 4096), 0);
	CHECK_EQ(v.dirty, 2);
	CHECK_EQ(v.present, 3);
	CHECK(ctxmig_vram_next(&v, &pfn, true) && pfn == 2, "pfn %llu",
	      (unsigned long long)pfn);
	ctxmig_vram_track(&v, false);
	CHECK_EQ(v.dirty, 0);
	pfn = 0;
	CHECK(!ctxmig_vram_next(&v, &pfn, true), "a page still dirty");
	ctxmig_vram_fini(&v);
}

/* What a BAR2 mmap asks of VRAM: pages stay, cleaning write-protects. */
struct wp_log {
	u64 calls;
	u64 pfn;
	u64 npages;
};

static void wp_record(void *priv, u64 pfn, u64 npages)
{
	struct wp_log *log = priv;

	log->calls++;
	log->pfn = pfn;
	log->npages = npages;
}

TEST(mapped_pages_stay_and_are_write_protected)
{
	struct wp_log log = { 0 };
	struct ctxmig_vram v;
	u8 buf[8] = { 7 };
	const u8 *page;

	CHECK_EQ(ctxmig_vram_init(&v, 16 << 20), 0);
	v.wprotect = wp_record;
	v.wprotect_priv = &log;
	/* A fault allocates without marking; past the end there is none. */
	CHECK(ctxmig_vram_get(&v, 3), "get allocates");
	CHECK(ctxmig_vram_get(&v, 3) == ctxmig_vram_page(&v, 3), "same page");
	CHECK(!ctxmig_vram_get(&v, 4096), "past the end");
	CHECK_EQ(v.present, 1);
	ctxmig_vram_set_mapped(&v, true);
	CHECK_EQ(ctxmig_vram_write(&v, 0x3000, buf, 8), 0);
	page = ctxmig_vram_page(&v, 3);
	/*
	 * A mapped page is zeroed in place, never freed, and protected, so
	 * that its next write through a mapping marks it as holding data.
	 */
	CHECK_EQ(ctxmig_vram_clear(&v, 0, 16 << 20), 0);
	CHECK(ctxmig_vram_page(&v, 3) == page && !page[0], "page kept, zeroed");
	CHECK_EQ(v.present, 1);
	CHECK(log.calls == 1 && log.pfn == 3 && log.npages == 1, "pfn 3 protected");
	/* Zero already: a second clear passes it by. */
	CHECK_EQ(ctxmig_vram_clear(&v, 0, 16 << 20), 0);
	CHECK_EQ(log.calls, 1);
	/* Tracking on write-protects every page once. */
	ctxmig_vram_track(&v, true);
	CHECK_EQ(log.calls, 2);
	CHECK(log.pfn == 0 && log.npages == 4096, "whole VRAM, got %llu+%llu",
	      (unsigned long long)log.pfn, (unsigned long long)log.npages);
	/* Cleaning a clean page does nothing; a dirty one is protected. */
	ctxmig_vram_clean(&v, 3);
	CHECK_EQ(log.calls, 2);
	ctxmig_vram_mark(&v, 3);
	CHECK_EQ(v.dirty, 1);
	ctxmig_vram_clean(&v, 3);
	CHECK(log.calls == 3 && log.pfn == 3 && log.npages == 1, "pfn 3 protected");
	ctxmig_vram_track(&v, false);
	/* Unmapped again, clearing frees. */
	ctxmig_vram_set_mapped(&v, false);
	CHECK_EQ(ctxmig_vram_clear(&v, 0, 16 << 20), 0);
	CHECK_EQ(v.present, 0);
	CHECK_EQ(log.calls, 3);
	ctxmig_vram_fini(&v);
}

int main(void)
{
	return host_main("vram_test");
}
