/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig sparse VRAM: types.
 */
#ifndef _CTXMIG_VRAM_TYPES_H_
#define _CTXMIG_VRAM_TYPES_H_

#include <linux/bits.h>
#include <linux/types.h>
#include <linux/xarray.h>

/* The granule VRAM is allocated, tracked and migrated in. */
#define CTXMIG_VRAM_PAGE_SHIFT	12
#define CTXMIG_VRAM_PAGE_SIZE	BIT(CTXMIG_VRAM_PAGE_SHIFT)

/* Mark on a page that was written since dirty tracking last cleared it. */
#define CTXMIG_VRAM_DIRTY	XA_MARK_0
/*
 * Mark on a page that may hold non-zero bytes: set before every write, on
 * every path (ctxmig_vram_mark()), cleared when a clear zeroes the page.
 * A present page without it reads as zero, so a clear passes it by.
 */
#define CTXMIG_VRAM_DATA	XA_MARK_1

/**
 * struct ctxmig_vram - a device's memory, allocated a page at a time
 * @pages: page frame number -> page-sized, page-aligned buffer.  A page
 *	that was never written is absent and reads as zero, so a device of
 *	8 GiB costs only what its guest touched.
 * @size: bytes the device presents; a multiple of the page size.
 * @present: pages allocated.
 * @dirty: pages marked CTXMIG_VRAM_DIRTY.
 * @cleared: pages ctxmig_vram_clear() visited (freed, zeroed or cut), a
 *	measure of the work a restore's clears cost (see ctxmig_gpu_work()).
 * @track_dirty: mark written pages CTXMIG_VRAM_DIRTY (pre-copy).
 * @mapped: pages may be mapped into user space (BAR2 mmap): they are never
 *	freed, only zeroed, and a page whose dirty or data mark is cleared
 *	is write-protected through @wprotect so that its next write through
 *	a mapping marks it again.
 * @wprotect: make the user mappings of @npages pages from @pfn fault on
 *	their next write; may sleep; set by the owner before @mapped.
 * @wprotect_priv: the owner's argument to @wprotect.
 *
 * Locking: the owning device's lock serialises everything but what a
 * fault on a user mapping does, which cannot take that lock (the device
 * lock is held while touching user memory).  So the page array, the
 * counters, the marks and @mapped are changed under the xarray's own
 * lock (xa_lock()), which is all ctxmig_vram_get() and ctxmig_vram_mark()
 * take; page contents are not locked, as on real hardware.
 */
struct ctxmig_vram {
	struct xarray pages;
	u64 size;
	u64 present;
	u64 dirty;
	u64 cleared;
	bool track_dirty;
	bool mapped;
	void (*wprotect)(void *priv, u64 pfn, u64 npages);
	void *wprotect_priv;
};

#endif /* _CTXMIG_VRAM_TYPES_H_ */
