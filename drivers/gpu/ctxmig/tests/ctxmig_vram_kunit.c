// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the sparse VRAM, compiled into ctxmig_vram.c: the xarray
 * work of a pre-copy stop-copy at two VRAM sizes, natively (on UML) where
 * the VM tier measures it under an emulator.
 */
#include <kunit/test.h>
#include <linux/ktime.h>
#include <linux/sched.h>

#define KUNIT_DIRTY_PFN		(32 << (20 - CTXMIG_VRAM_PAGE_SHIFT))
#define KUNIT_DIRTY_PAGES	(16 << (20 - CTXMIG_VRAM_PAGE_SHIFT))
#define KUNIT_CHUNK		(64 << 10)	/* a VRAM record's data */

/* Write @data (KUNIT_CHUNK bytes) over the dirty set, a record at a time. */
static int kunit_write_dirty_set(struct ctxmig_vram *vram, const u8 *data)
{
	u64 off = (u64)KUNIT_DIRTY_PFN << CTXMIG_VRAM_PAGE_SHIFT;
	u64 end = off + KUNIT_DIRTY_PAGES * CTXMIG_VRAM_PAGE_SIZE;
	int ret = 0;

	for (; off < end && !ret; off += KUNIT_CHUNK)
		ret = ctxmig_vram_write(vram, off, data, KUNIT_CHUNK);
	return ret;
}

/*
 * A VRAM of @npages pages, all present: the dirty set's pages real ones,
 * the others value entries (the xarray holds and walks them the same, and
 * UML has not the memory for 4 GiB of pages).
 */
static int kunit_vram_fill(struct kunit *test, struct ctxmig_vram *vram,
			   u64 npages)
{
	u64 pfn;

	KUNIT_ASSERT_EQ(test, ctxmig_vram_init(vram, npages <<
					       CTXMIG_VRAM_PAGE_SHIFT), 0);
	for (pfn = 0; pfn < npages; pfn++) {
		if (pfn >= KUNIT_DIRTY_PFN &&
		    pfn < KUNIT_DIRTY_PFN + KUNIT_DIRTY_PAGES) {
			if (!ctxmig_vram_get(vram, pfn))
				return -ENOMEM;
		} else if (xa_err(xa_store(&vram->pages, pfn, xa_mk_value(pfn),
					   GFP_KERNEL))) {
			return -ENOMEM;
		}
		if (!(pfn % 4096))
			cond_resched();
	}
	return 0;
}

/* Take the value entries out, so that ctxmig_vram_fini() frees pages only. */
static void kunit_vram_empty(struct ctxmig_vram *vram)
{
	unsigned long pfn;
	void *entry;

	xa_for_each(&vram->pages, pfn, entry)
		if (xa_is_value(entry))
			xa_erase(&vram->pages, pfn);
	ctxmig_vram_fini(vram);
}

/*
 * The xarray work of the VRAM part of a stop-copy after pre-copy, on a
 * VRAM whose @npages pages are all present and 16 MiB of them were
 * written since pre-copy sent them: the source's pass over the dirty
 * pages (find, zero check, clean), as save_gather() makes it, and the
 * destination's writes into pages it holds, as the restore makes them.
 * Return: the pages the source's pass visited; a clean page among them
 * counts in @clean.
 */
static u64 kunit_stop_copy(struct kunit *test, u64 npages, const u8 *data,
			   u64 *clean, u64 *src_ns, u64 *dst_ns)
{
	struct ctxmig_vram *vram = kunit_kzalloc(test, sizeof(*vram),
						  GFP_KERNEL);
	u64 pfn = 0, visited = 0, t0;
	const void *page;

	KUNIT_ASSERT_NOT_NULL(test, vram);
	KUNIT_ASSERT_EQ(test, kunit_vram_fill(test, vram, npages), 0);
	ctxmig_vram_track(vram, true);
	KUNIT_ASSERT_EQ(test, kunit_write_dirty_set(vram, data), 0);
	KUNIT_EXPECT_EQ(test, vram->dirty, KUNIT_DIRTY_PAGES);

	t0 = ktime_get_ns();
	*clean = 0;
	while ((page = ctxmig_vram_next(vram, &pfn, true))) {
		visited++;
		if (xa_is_value(page))
			(*clean)++;
		else if (!memchr_inv(page, 0, CTXMIG_VRAM_PAGE_SIZE))
			(*clean)++;
		ctxmig_vram_clean(vram, pfn++);
	}
	*src_ns = ktime_get_ns() - t0;
	ctxmig_vram_track(vram, false);

	t0 = ktime_get_ns();
	KUNIT_EXPECT_EQ(test, kunit_write_dirty_set(vram, data), 0);
	*dst_ns = ktime_get_ns() - t0;
	KUNIT_EXPECT_EQ(test, vram->dirty, 0);
	kunit_vram_empty(vram);
	return visited;
}

/*
 * The 4 GiB pre-copy downtime against the 256 MiB one (Documentation/gpu/
 * ctxmig/performance.rst): the same xarray operations on 64 Ki and on
 * 1 Mi present pages visit the same 4 Ki dirty pages.  Their native times
 * are printed; the VM bench shows what an emulator adds.
 */
static void ctxmig_vram_stop_copy_scale(struct kunit *test)
{
	static const u64 sizes[] = { 256 << (20 - CTXMIG_VRAM_PAGE_SHIFT),
				     4096 << (20 - CTXMIG_VRAM_PAGE_SHIFT) };
	u64 src_ns, dst_ns, visited, clean;
	u8 *data;
	u32 i;

	data = kunit_kmalloc(test, KUNIT_CHUNK, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, data);
	memset(data, 0x5a, KUNIT_CHUNK);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		visited = kunit_stop_copy(test, sizes[i], data, &clean,
					  &src_ns, &dst_ns);
		KUNIT_EXPECT_EQ(test, visited, KUNIT_DIRTY_PAGES);
		KUNIT_EXPECT_EQ(test, clean, 0);
		kunit_info(test,
			   "%llu MiB present, %u dirty pages: source pass %llu us (%llu ns a page), destination writes %llu us\n",
			   sizes[i] >> (20 - CTXMIG_VRAM_PAGE_SHIFT),
			   KUNIT_DIRTY_PAGES, src_ns / 1000,
			   src_ns / KUNIT_DIRTY_PAGES, dst_ns / 1000);
	}
}

static struct kunit_case ctxmig_vram_test_cases[] = {
	KUNIT_CASE_SLOW(ctxmig_vram_stop_copy_scale),
	{}
};

static struct kunit_suite ctxmig_vram_test_suite = {
	.name = "ctxmig_vram",
	.test_cases = ctxmig_vram_test_cases,
};

kunit_test_suite(ctxmig_vram_test_suite);
