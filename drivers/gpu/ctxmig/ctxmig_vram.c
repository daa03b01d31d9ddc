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
 * With @track_dirty set, every write marks its pages CTXMIG_VRAM_DIRTY;
 * pre-copy sends and cleans dirty pages round after round.
 */
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
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

	xa_for_each(&vram->pages, pfn, page)
		free_page((unsigned long)page);
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

/**
 * ctxmig_vram_mark() - count a page as written since it was last sent
 * @vram: VRAM, tracking writes.
 * @pfn: page frame number of a present page.
 */
void ctxmig_vram_mark(struct ctxmig_vram *vram, u64 pfn)
{
	if (!vram->track_dirty ||
	    xa_get_mark(&vram->pages, pfn, CTXMIG_VRAM_DIRTY))
		return;
	xa_set_mark(&vram->pages, pfn, CTXMIG_VRAM_DIRTY);
	vram->dirty++;
}

/* Find or allocate the page @pfn; marks it dirty when tracking. */
static void *vram_page_for_write(struct ctxmig_vram *vram, u64 pfn)
{
	void *page = xa_load(&vram->pages, pfn);
	void *old;

	if (!page) {
		page = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!page)
			return NULL;
		old = xa_store(&vram->pages, pfn, page, GFP_KERNEL_ACCOUNT);
		if (xa_is_err(old)) {
			free_page((unsigned long)page);
			return NULL;
		}
		vram->present++;
	}
	ctxmig_vram_mark(vram, pfn);
	return page;
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

	if (!ctxmig_vram_range_ok(vram, offset, len))
		return -ERANGE;
	while (len) {
		u32 in = offset & (CTXMIG_VRAM_PAGE_SIZE - 1);
		u32 n = min_t(u64, len, CTXMIG_VRAM_PAGE_SIZE - in);
		u8 *page = vram_page_for_write(vram,
					       offset >> CTXMIG_VRAM_PAGE_SHIFT);

		if (!page)
			return -ENOMEM;
		memcpy(page + in, src, n);
		src += n;
		offset += n;
		len -= n;
	}
	return 0;
}

/**
 * ctxmig_vram_clear() - make a range read as zero
 * @vram: VRAM.
 * @offset: byte offset.
 * @len: bytes.
 *
 * Whole pages are freed (and so stop costing memory and wire bytes)
 * unless dirty tracking is on; other pages are zeroed in place.  Only the
 * pages present are visited, so that clearing all of a large, sparse VRAM
 * (every restore does) costs what it holds, not its size.
 *
 * Return: 0 or -ERANGE.
 */
int ctxmig_vram_clear(struct ctxmig_vram *vram, u64 offset, u64 len)
{
	u64 end = offset + len;
	unsigned long pfn;
	u8 *page;

	if (!ctxmig_vram_range_ok(vram, offset, len))
		return -ERANGE;
	if (!len)
		return 0;
	xa_for_each_range(&vram->pages, pfn, page,
			  offset >> CTXMIG_VRAM_PAGE_SHIFT,
			  (end - 1) >> CTXMIG_VRAM_PAGE_SHIFT) {
		u64 base = (u64)pfn << CTXMIG_VRAM_PAGE_SHIFT;
		u32 in = offset > base ? offset - base : 0;
		u32 n = min_t(u64, end - base, CTXMIG_VRAM_PAGE_SIZE) - in;

		/*
		 * While pre-copy tracks writes a freed page would vanish
		 * from the dirty set: zero it in place instead, so that the
		 * next round sends it (as a zero range).
		 */
		if (n == CTXMIG_VRAM_PAGE_SIZE && !vram->track_dirty) {
			xa_erase(&vram->pages, pfn);
			free_page((unsigned long)page);
			vram->present--;
		} else {
			memset(page + in, 0, n);
			ctxmig_vram_mark(vram, pfn);
		}
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
 */
void ctxmig_vram_clean(struct ctxmig_vram *vram, u64 pfn)
{
	if (!xa_get_mark(&vram->pages, pfn, CTXMIG_VRAM_DIRTY))
		return;
	xa_clear_mark(&vram->pages, pfn, CTXMIG_VRAM_DIRTY);
	vram->dirty--;
}

/**
 * ctxmig_vram_track() - start or stop tracking writes
 * @vram: VRAM.
 * @on: track from now on, with every page clean; or stop and forget.
 *
 * Pre-copy turns tracking on before its first pass over VRAM, so that
 * every page written after a page was sent is sent again.
 */
void ctxmig_vram_track(struct ctxmig_vram *vram, bool on)
{
	u64 pfn = 0;

	while (ctxmig_vram_next(vram, &pfn, true))
		ctxmig_vram_clean(vram, pfn++);
	vram->track_dirty = on;
}
