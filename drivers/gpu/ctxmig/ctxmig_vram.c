// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig sparse VRAM.
 *
 * A vGPU's memory is an xarray of page-sized buffers indexed by page frame
 * number.  A page exists once something wrote to it; reading an absent
 * page yields zeroes.  So an instance presenting 8 GiB costs the pages its
 * guest touched, and migration sends only those.  Pages are whole
 * zeroed pages from the page allocator so that BAR2 can map them.
 *
 * Every write marks its pages CTXMIG_VRAM_DATA first, and with
 * @track_dirty set CTXMIG_VRAM_DIRTY too; pre-copy sends and cleans dirty
 * pages round after round.  BAR2 maps the pages into user space
 * (ctxmig_vfio.c): a fault there allocates a page with ctxmig_vram_get()
 * and a first write marks it, so only the xarray's lock guards what both
 * sides change (&struct ctxmig_vram).
 *
 * Clearing a range frees its pages, or, where they must stay (mapped, or
 * tracked), zeroes only those with the data mark and takes the mark off:
 * a page is zeroed again only after something wrote it again.  So clears
 * cost, over any sequence of them, the pages written meanwhile, whatever
 * ranges they name (a stream's VRAM_ZERO records, the restore's clear of
 * all VRAM).
 */
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "ctxmig_vram.h"

/**
 * ctxmig_vram_init() - prepare an empty VRAM
 * @vram: VRAM to set up.
 * @size: bytes, a non-zero multiple of CTXMIG_VRAM_PAGE_SIZE.
 *
 * Nothing is allocated until written.
 *
 * Return: 0 or -EINVAL for a bad size.
 */
int ctxmig_vram_init(struct ctxmig_vram *vram, u64 size)
{
	memset(vram, 0, sizeof(*vram));
	if (!size || !IS_ALIGNED(size, CTXMIG_VRAM_PAGE_SIZE))
		return -EINVAL;
	xa_init(&vram->pages);
	vram->size = size;
	return 0;
}

/**
 * ctxmig_vram_fini() - free every page
 * @vram: VRAM.
 */
void ctxmig_vram_fini(struct ctxmig_vram *vram)
{
	unsigned long pfn;
	void *page;

	xa_for_each(&vram->pages, pfn, page) {
		free_page((unsigned long)page);
		cond_resched();
	}
	xa_destroy(&vram->pages);
	vram->present = 0;
}

/**
 * ctxmig_vram_page() - the contents of one page
 * @vram: VRAM.
 * @pfn: page frame number.
 *
 * Return: the page, or NULL if it was never written (it reads as zero).
 */
const void *ctxmig_vram_page(struct ctxmig_vram *vram, u64 pfn)
{
	return xa_load(&vram->pages, pfn);
}

/* Set the dirty mark when tracking, and the data mark if @data. */
static void vram_mark(struct ctxmig_vram *vram, u64 pfn, bool data)
{
	if ((!data || xa_get_mark(&vram->pages, pfn, CTXMIG_VRAM_DATA)) &&
	    (!READ_ONCE(vram->track_dirty) ||
	     xa_get_mark(&vram->pages, pfn, CTXMIG_VRAM_DIRTY)))
		return;
	xa_lock(&vram->pages);
	if (data)
		__xa_set_mark(&vram->pages, pfn, CTXMIG_VRAM_DATA);
	if (vram->track_dirty &&
	    !xa_get_mark(&vram->pages, pfn, CTXMIG_VRAM_DIRTY)) {
		__xa_set_mark(&vram->pages, pfn, CTXMIG_VRAM_DIRTY);
		vram->dirty++;
	}
	xa_unlock(&vram->pages);
}

/**
 * ctxmig_vram_mark() - a page is about to be written
 * @vram: VRAM.
 * @pfn: page frame number of a present page.
 *
 * Every path that writes a page calls this first: the page may hold data
 * from now on (CTXMIG_VRAM_DATA), and while pre-copy tracks writes it is
 * to be sent again (CTXMIG_VRAM_DIRTY).  A write through a user mapping
 * comes here from the mapping's write fault.
 *
 * Context: any; takes the xarray lock (see &struct ctxmig_vram).
 */
void ctxmig_vram_mark(struct ctxmig_vram *vram, u64 pfn)
{
	vram_mark(vram, pfn, true);
}

/*
 * Put @page at @pfn unless a page is there already (a fault on a user
 * mapping may insert one meanwhile).  Return: NULL if @page went in, else
 * the page that was there or an xarray error entry; @page is the
 * caller's then.
 */
static void *vram_add(struct ctxmig_vram *vram, u64 pfn, void *page)
{
	void *old;

	xa_lock(&vram->pages);
	old = __xa_cmpxchg(&vram->pages, pfn, NULL, page, GFP_KERNEL_ACCOUNT);
	if (!old)
		vram->present++;
	xa_unlock(&vram->pages);
	return old;
}

/**
 * ctxmig_vram_get() - find or allocate a page
 * @vram: VRAM.
 * @pfn: page frame number.
 *
 * The page is not marked dirty: ctxmig_vram_write() marks what it writes,
 * a fault on a user mapping marks the page when it is first written.
 *
 * Context: may sleep; takes the xarray lock (see &struct ctxmig_vram).
 * Return: the page, or NULL out of memory or past the end of @vram.
 */
void *ctxmig_vram_get(struct ctxmig_vram *vram, u64 pfn)
{
	void *page = xa_load(&vram->pages, pfn);
	void *old;

	if (page)
		return page;
	if (pfn >= vram->size >> CTXMIG_VRAM_PAGE_SHIFT)
		return NULL;
	page = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!page)
		return NULL;
	old = vram_add(vram, pfn, page);
	if (old) {
		free_page((unsigned long)page);
		page = xa_is_err(old) ? NULL : old;
	}
	return page;
}

/* Find or allocate the page @pfn; marks it dirty when tracking. */
static void *vram_page_for_write(struct ctxmig_vram *vram, u64 pfn)
{
	void *page = ctxmig_vram_get(vram, pfn);

	if (page)
		ctxmig_vram_mark(vram, pfn);
	return page;
}

/**
 * ctxmig_vram_set_mapped() - say whether pages may be mapped by user space
 * @vram: VRAM with its @wprotect hook set.
 * @mapped: from now on pages may be mapped; or no mapping exists any more.
 *
 * While mapped, pages are never freed (a user mapping may point at them)
 * and cleaning a dirty mark write-protects the page.
 */
void ctxmig_vram_set_mapped(struct ctxmig_vram *vram, bool mapped)
{
	xa_lock(&vram->pages);
	vram->mapped = mapped;
	xa_unlock(&vram->pages);
}

/**
 * ctxmig_vram_read() - copy bytes out of VRAM
 * @vram: VRAM.
 * @offset: byte offset.
 * @buf: destination.
 * @len: bytes.
 *
 * Return: 0 or -ERANGE if the range leaves the VRAM.
 */
int ctxmig_vram_read(struct ctxmig_vram *vram, u64 offset, void *buf, u64 len)
{
	u8 *dst = buf;

	if (!ctxmig_vram_range_ok(vram, offset, len))
		return -ERANGE;
	while (len) {
		u32 in = offset & (CTXMIG_VRAM_PAGE_SIZE - 1);
		u32 n = min_t(u64, len, CTXMIG_VRAM_PAGE_SIZE - in);
		const u8 *page = xa_load(&vram->pages,
					 offset >> CTXMIG_VRAM_PAGE_SHIFT);

		if (page)
			memcpy(dst, page + in, n);
		else
			memset(dst, 0, n);
		dst += n;
		offset += n;
		len -= n;
	}
	return 0;
}

/**
 * ctxmig_vram_dest() - where bytes written to VRAM land
 * @vram: VRAM.
 * @offset: byte offset of the first byte.
 * @len: bytes to be written from @offset in all.
 * @dst: set to the byte at @offset, in its page.
 *
 * Finds or allocates the page and marks it as written
 * (ctxmig_vram_mark()), for a caller that copies the bytes itself: the
 * restore copies them from the migration stream straight into the page.
 *
 * Context: may sleep; takes the xarray lock (see &struct ctxmig_vram).
 * Return: how many of the bytes go at @dst (to the end of the page or of
 * @len), -ERANGE if [@offset, @offset + @len) is empty or leaves the VRAM,
 * or -ENOMEM.
 */
int ctxmig_vram_dest(struct ctxmig_vram *vram, u64 offset, u64 len,
		     void **dst)
{
	u32 in = offset & (CTXMIG_VRAM_PAGE_SIZE - 1);
	u8 *page;

	if (!len || !ctxmig_vram_range_ok(vram, offset, len))
		return -ERANGE;
	page = vram_page_for_write(vram, offset >> CTXMIG_VRAM_PAGE_SHIFT);
	if (!page)
		return -ENOMEM;
	*dst = page + in;
	return min_t(u64, len, CTXMIG_VRAM_PAGE_SIZE - in);
}

/**
 * ctxmig_vram_insert() - add a page written whole elsewhere
 * @vram: VRAM.
 * @pfn: page frame number.
 * @page: from __get_free_page(), every byte of it written; VRAM owns it
 *	from now on, whatever the outcome.
 *
 * For a writer that fills a page before VRAM holds it, so that the page
 * need not be zeroed first and nothing sees it half written.  The page is
 * marked as ctxmig_vram_write() marks the pages it writes.  If the page is
 * present already (a fault on a user mapping put one there meanwhile) the
 * bytes are copied into that one.
 *
 * Context: may sleep; takes the xarray lock (see &struct ctxmig_vram).
 * Return: 0, -ERANGE past the end of @vram, or -ENOMEM.
 */
int ctxmig_vram_insert(struct ctxmig_vram *vram, u64 pfn, void *page)
{
	void *old;

	if (pfn >= vram->size >> CTXMIG_VRAM_PAGE_SHIFT) {
		free_page((unsigned long)page);
		return -ERANGE;
	}
	old = vram_add(vram, pfn, page);
	if (xa_is_err(old)) {
		free_page((unsigned long)page);
		return -ENOMEM;
	}
	if (old) {
		memcpy(old, page, CTXMIG_VRAM_PAGE_SIZE);
		free_page((unsigned long)page);
	}
	ctxmig_vram_mark(vram, pfn);
	return 0;
}

/**
 * ctxmig_vram_write() - copy bytes into VRAM, allocating pages as needed
 * @vram: VRAM.
 * @offset: byte offset.
 * @buf: source.
 * @len: bytes.
 *
 * Return: 0, -ERANGE if the range leaves the VRAM, or -ENOMEM (the bytes
 * before the failing page were written).
 */
int ctxmig_vram_write(struct ctxmig_vram *vram, u64 offset, const void *buf,
		      u64 len)
{
	const u8 *src = buf;
	void *dst;
	int n;

	if (!ctxmig_vram_range_ok(vram, offset, len))
		return -ERANGE;
	while (len) {
		n = ctxmig_vram_dest(vram, offset, len, &dst);
		if (n < 0)
			return n;
		memcpy(dst, src, n);
		src += n;
		offset += n;
		len -= n;
	}
	return 0;
}

/* Free page @pfn if nothing can map it; false if it must stay. */
static bool vram_free_page(struct ctxmig_vram *vram, u64 pfn)
{
	void *page = NULL;

	xa_lock(&vram->pages);
	/*
	 * While pre-copy tracks writes a freed page would vanish from the
	 * dirty set, and a mapped page may be in a user page table: zero
	 * those in place instead, so that the next round sends them (as a
	 * zero range) and the mapping stays the VRAM.
	 */
	if (!vram->track_dirty && !vram->mapped) {
		page = __xa_erase(&vram->pages, pfn);
		if (page)
			vram->present--;
	}
	xa_unlock(&vram->pages);
	free_page((unsigned long)page);
	return page;
}

/*
 * Zero a page that must stay.  A write through a user mapping first
 * faults and sets the data mark (ctxmig_bar2_pfn_mkwrite()), so the
 * mappings are write-protected before the mark is taken off: a write
 * after that marks the page again, one before it is zeroed, and a page
 * without the mark holds only zeroes.
 */
static void vram_zero_page(struct ctxmig_vram *vram, u64 pfn, u8 *page)
{
	if (!xa_get_mark(&vram->pages, pfn, CTXMIG_VRAM_DATA))
		return;
	if (READ_ONCE(vram->mapped))
		vram->wprotect(vram->wprotect_priv, pfn, 1);
	xa_lock(&vram->pages);
	__xa_clear_mark(&vram->pages, pfn, CTXMIG_VRAM_DATA);
	xa_unlock(&vram->pages);
	memset(page, 0, CTXMIG_VRAM_PAGE_SIZE);
	vram_mark(vram, pfn, false);
}

/* Zero [@in, @in + @n) of page @pfn, not all of it, if it holds data. */
static void vram_cut_page(struct ctxmig_vram *vram, u64 pfn, u32 in, u32 n)
{
	u8 *page = xa_load(&vram->pages, pfn);

	if (!page || !xa_get_mark(&vram->pages, pfn, CTXMIG_VRAM_DATA))
		return;
	vram->cleared++;
	memset(page + in, 0, n);
	vram_mark(vram, pfn, false);
}

/**
 * ctxmig_vram_clear() - make a range read as zero
 * @vram: VRAM.
 * @offset: byte offset.
 * @len: bytes.
 *
 * Whole pages are freed (and so stop costing memory and wire bytes)
 * unless dirty tracking is on or pages may be mapped; then the pages
 * holding data are zeroed in place and lose their data mark, and the
 * others, already zero, are passed by.  The ends of a range that cut a
 * page are zeroed in place.  So clearing all of a large, sparse VRAM
 * (every restore does) costs what it holds, not its size, and a clear
 * of what was cleared before costs nothing.
 *
 * Context: may sleep.
 * Return: 0 or -ERANGE.
 */
int ctxmig_vram_clear(struct ctxmig_vram *vram, u64 offset, u64 len)
{
	u64 end = offset + len;
	unsigned long first, last, pfn;
	bool keep;
	u8 *page;

	if (!ctxmig_vram_range_ok(vram, offset, len))
		return -ERANGE;
	if (!len)
		return 0;
	first = offset >> CTXMIG_VRAM_PAGE_SHIFT;
	last = (end - 1) >> CTXMIG_VRAM_PAGE_SHIFT;
	if (!IS_ALIGNED(offset, CTXMIG_VRAM_PAGE_SIZE)) {
		u32 in = offset & (CTXMIG_VRAM_PAGE_SIZE - 1);

		vram_cut_page(vram, first, in,
			      min_t(u64, len, CTXMIG_VRAM_PAGE_SIZE - in));
		if (first++ == last)
			return 0;
	}
	if (!IS_ALIGNED(end, CTXMIG_VRAM_PAGE_SIZE)) {
		vram_cut_page(vram, last, 0, end & (CTXMIG_VRAM_PAGE_SIZE - 1));
		if (last-- == first)
			return 0;
	}
	keep = READ_ONCE(vram->track_dirty) || READ_ONCE(vram->mapped);
	pfn = first;
	while ((page = xa_find(&vram->pages, &pfn, last,
			       keep ? CTXMIG_VRAM_DATA : XA_PRESENT))) {
		vram->cleared++;
		if (keep || !vram_free_page(vram, pfn))
			vram_zero_page(vram, pfn, page);
		cond_resched();
		if (pfn++ == last)
			break;
	}
	return 0;
}

/**
 * ctxmig_vram_next() - the next present (or dirty) page
 * @vram: VRAM.
 * @pfn: in: first page frame to consider; out: the page found.
 * @dirty: only pages marked CTXMIG_VRAM_DIRTY.
 *
 * Return: the page, or NULL when there is none at or after *@pfn.
 */
const void *ctxmig_vram_next(struct ctxmig_vram *vram, u64 *pfn, bool dirty)
{
	unsigned long index = *pfn;
	void *page;

	page = xa_find(&vram->pages, &index, ULONG_MAX,
		       dirty ? CTXMIG_VRAM_DIRTY : XA_PRESENT);
	if (page)
		*pfn = index;
	return page;
}

/**
 * ctxmig_vram_clean() - forget that a page was written
 * @vram: VRAM.
 * @pfn: page frame number.
 *
 * A mapped page is write-protected, so that a write through a user
 * mapping after this (after the caller reads the page to send it) marks
 * it again.
 */
void ctxmig_vram_clean(struct ctxmig_vram *vram, u64 pfn)
{
	bool was;

	if (!xa_get_mark(&vram->pages, pfn, CTXMIG_VRAM_DIRTY))
		return;
	xa_lock(&vram->pages);
	was = xa_get_mark(&vram->pages, pfn, CTXMIG_VRAM_DIRTY);
	if (was) {
		__xa_clear_mark(&vram->pages, pfn, CTXMIG_VRAM_DIRTY);
		vram->dirty--;
	}
	xa_unlock(&vram->pages);
	if (was && READ_ONCE(vram->mapped))
		vram->wprotect(vram->wprotect_priv, pfn, 1);
}

/**
 * ctxmig_vram_track() - start or stop tracking writes
 * @vram: VRAM.
 * @on: track from now on, with every page clean; or stop and forget.
 *
 * Pre-copy turns tracking on before its first pass over VRAM, so that
 * every page written after a page was sent is sent again.  Mapped pages
 * are write-protected, so that writes through user mappings are seen.
 */
void ctxmig_vram_track(struct ctxmig_vram *vram, bool on)
{
	u64 pfn = 0;

	while (ctxmig_vram_next(vram, &pfn, true)) {
		ctxmig_vram_clean(vram, pfn++);
		cond_resched();
	}
	xa_lock(&vram->pages);
	WRITE_ONCE(vram->track_dirty, on);
	xa_unlock(&vram->pages);
	if (on && READ_ONCE(vram->mapped))
		vram->wprotect(vram->wprotect_priv, 0,
			       vram->size >> CTXMIG_VRAM_PAGE_SHIFT);
}

#if IS_ENABLED(CONFIG_CTXMIG_KUNIT_TEST)
#include "tests/ctxmig_vram_kunit.c"
#endif
