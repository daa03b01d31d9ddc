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

/**
 * struct ctxmig_vram - a device's memory, allocated a page at a time
 * @pages: page frame number -> page-sized, page-aligned buffer.  A page
 *	that was never written is absent and reads as zero, so a device of
 *	8 GiB costs only what its guest touched.
 * @size: bytes the device presents; a multiple of the page size.
 * @present: pages allocated.
 * @dirty: pages marked CTXMIG_VRAM_DIRTY.
 * @track_dirty: mark written pages CTXMIG_VRAM_DIRTY (pre-copy).
 *
 * Not locked: the owning engine's lock serialises every access.
 */
struct ctxmig_vram {
	struct xarray pages;
	u64 size;
	u64 present;
	u64 dirty;
	bool track_dirty;
};

#endif /* _CTXMIG_VRAM_TYPES_H_ */
