// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig VFIO glue: DMA logging, the VMM's record of the guest pages a
 * vGPU wrote (struct vfio_log_ops; VFIO_DEVICE_FEATURE_DMA_LOGGING_*).
 *
 * The GPU writes guest memory only through ctxmig_pci_dma_rw(), which
 * reports every write here after it is done.  While logging is on, a
 * bitmap over the ranges the VMM asked for records the pages written, and
 * a report hands them over and clears them.  Memory is bounded: one bit
 * per page of the ranges, at most CTXMIG_DMA_LOG_BITS of them; ranges too
 * wide for that are logged in larger pages (the page size the VMM gets
 * back says so), up to CTXMIG_DMA_LOG_MAX_SHIFT, beyond which logging is
 * refused with -E2BIG.  Writes outside the ranges are not logged: the
 * VMM named what it migrates.
 *
 * The VFIO core hands reports to the driver through its iova_bitmap
 * helpers, which it has only when built with CONFIG_IOMMUFD_DRIVER; a
 * kernel without them (Debian 12's 6.12 kernel is one) fails every
 * report, so the logging is offered only to a kernel that can report it.
 * Without it the VFIO core refuses the DMA logging features with ENOTTY
 * and a VMM relies on the container's own dirty tracking
 * (VFIO_IOMMU_DIRTY_PAGES), which vfio_dma_rw() feeds as well.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/interval_tree.h>
#include <linux/iova_bitmap.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "ctxmig_vfio.h"
#include "ctxmig_vfio_types.h"

#if IS_ENABLED(CONFIG_IOMMUFD_DRIVER)
MODULE_IMPORT_NS(IOMMUFD);
#endif

/* Bits of a log: 2 MiB of bitmap, 64 GiB of ranges in 4 KiB pages. */
#define CTXMIG_DMA_LOG_BITS		BIT_ULL(24)
/* Smallest and largest page a log is kept in. */
#define CTXMIG_DMA_LOG_MIN_SHIFT	12
#define CTXMIG_DMA_LOG_MAX_SHIFT	30

/*
 * Lay the ranges out in pages of 2^@shift bytes, merging those that come
 * to share a page, into @ranges (NULL to only count).  Return: the pages.
 */
static u64 ctxmig_dma_log_layout(struct rb_root_cached *root, u8 shift,
				 struct ctxmig_dma_range *ranges, u32 *nranges)
{
	struct interval_tree_node *node;
	u64 total = 0, end = 0;
	u32 n = 0;

	/* Ascending and disjoint; once rounded to pages, maybe touching. */
	for (node = interval_tree_iter_first(root, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		u64 first = node->start >> shift;
		u64 pages = (node->last >> shift) - first + 1;

		if (n && first < end) {
			pages -= end - first;
			if (ranges)
				ranges[n - 1].pages += pages;
		} else {
			if (ranges) {
				ranges[n].start = first << shift;
				ranges[n].pages = pages;
				ranges[n].first = total;
			}
			n++;
		}
		total += pages;
		end = (node->last >> shift) + 1;
	}
	if (nranges)
		*nranges = n;
	return total;
}

static int ctxmig_dma_log_start(struct vfio_device *vdev,
				struct rb_root_cached *root, u32 nnodes,
				u64 *page_size)
{
	struct ctxmig_dma_log *log = &to_vgpu(vdev)->dma_log;
	struct ctxmig_dma_range *ranges;
	struct interval_tree_node *node;
	unsigned long *bitmap;
	u32 nranges;
	u64 bits;
	u8 shift;

	if (!is_power_of_2(*page_size) ||
	    *page_size < BIT_ULL(CTXMIG_DMA_LOG_MIN_SHIFT) ||
	    *page_size > BIT_ULL(CTXMIG_DMA_LOG_MAX_SHIFT))
		return -EINVAL;
	for (node = interval_tree_iter_first(root, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX))
		if (node->start > node->last)
			return -EINVAL;	/* an empty range */

	/* Wider ranges are logged in larger pages, so that they fit. */
	for (shift = __ffs64(*page_size);; shift++) {
		bits = ctxmig_dma_log_layout(root, shift, NULL, NULL);
		if (bits <= CTXMIG_DMA_LOG_BITS)
			break;
		if (shift == CTXMIG_DMA_LOG_MAX_SHIFT)
			return -E2BIG;
	}

	ranges = kvcalloc(nnodes, sizeof(*ranges), GFP_KERNEL_ACCOUNT);
	bitmap = kvcalloc(BITS_TO_LONGS(bits), sizeof(long),
			  GFP_KERNEL_ACCOUNT);
	if (!ranges || !bitmap) {
		kvfree(ranges);
		kvfree(bitmap);
		return -ENOMEM;
	}
	ctxmig_dma_log_layout(root, shift, ranges, &nranges);

	mutex_lock(&log->lock);
	if (log->ranges) {
		mutex_unlock(&log->lock);
		kvfree(ranges);
		kvfree(bitmap);
		return -EBUSY;	/* started already: stop first */
	}
	log->ranges = ranges;
	log->nranges = nranges;
	log->page_shift = shift;
	log->bitmap = bitmap;
	mutex_unlock(&log->lock);
	*page_size = BIT_ULL(shift);
	return 0;
}

/**
 * ctxmig_dma_log_stop() - &vfio_log_ops.log_stop: forget the log
 * @vdev: the vGPU's device.
 *
 * Also when the device is closed.  Stopping a log that is not on is fine.
 *
 * Return: 0.
 */
int ctxmig_dma_log_stop(struct vfio_device *vdev)
{
	struct ctxmig_dma_log *log = &to_vgpu(vdev)->dma_log;

	mutex_lock(&log->lock);
	kvfree(log->ranges);
	kvfree(log->bitmap);
	log->ranges = NULL;
	log->bitmap = NULL;
	log->nranges = 0;
	mutex_unlock(&log->lock);
	return 0;
}

/* The range holding @iova, or NULL (log->lock held). */
static struct ctxmig_dma_range *ctxmig_dma_log_find(struct ctxmig_dma_log *log,
						    u64 iova)
{
	u32 lo = 0, hi = log->nranges;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		struct ctxmig_dma_range *r = &log->ranges[mid];

		if (iova < r->start)
			hi = mid;
		else if ((iova - r->start) >> log->page_shift >= r->pages)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

/**
 * ctxmig_dma_log_write() - the device wrote guest memory
 * @vgpu: the vGPU, gpu_lock held.
 * @iova: where.
 * @len: how many bytes.
 *
 * Called once the bytes are written, so that a report that hands the page
 * over comes after them.
 */
void ctxmig_dma_log_write(struct ctxmig_vgpu *vgpu, u64 iova, u32 len)
{
	struct ctxmig_dma_log *log = &vgpu->dma_log;
	u64 last, page;

	if (!len || check_add_overflow(iova, (u64)len - 1, &last))
		return;
	mutex_lock(&log->lock);
	for (page = iova >> log->page_shift;
	     log->ranges && page <= last >> log->page_shift; page++) {
		struct ctxmig_dma_range *r =
			ctxmig_dma_log_find(log, page << log->page_shift);

		if (r)
			__set_bit(r->first + page - (r->start >> log->page_shift),
				  log->bitmap);
	}
	mutex_unlock(&log->lock);
}

static int ctxmig_dma_log_read_and_clear(struct vfio_device *vdev,
					 unsigned long iova,
					 unsigned long length,
					 struct iova_bitmap *dirty)
{
	struct ctxmig_dma_log *log = &to_vgpu(vdev)->dma_log;
	u64 last = (u64)iova + length - 1;
	u8 shift;
	u32 i;

	if (!length)
		return 0;
	mutex_lock(&log->lock);
	if (!log->ranges) {
		mutex_unlock(&log->lock);
		return -EINVAL;
	}
	shift = log->page_shift;
	for (i = 0; i < log->nranges; i++) {
		const struct ctxmig_dma_range *r = &log->ranges[i];
		u64 base = r->start >> shift;
		u64 lo = max_t(u64, iova >> shift, base);
		u64 hi = min(last >> shift, base + r->pages - 1);
		unsigned long bit, stop;

		if (lo > hi)
			continue;
		bit = r->first + lo - base;
		stop = r->first + hi - base + 1;
		for_each_set_bit_from(bit, log->bitmap, stop) {
			u64 at = (base + bit - r->first) << shift;
			u64 at_last = at + BIT_ULL(shift) - 1;
			u64 from = max_t(u64, at, iova);

			iova_bitmap_set(dirty, from, min(at_last, last) - from + 1);
			/* A page the report covers only in part stays dirty. */
			if (at >= iova && at_last <= last)
				__clear_bit(bit, log->bitmap);
		}
	}
	mutex_unlock(&log->lock);
	return 0;
}

static const struct vfio_log_ops ctxmig_dma_log_ops = {
	.log_start = ctxmig_dma_log_start,
	.log_stop = ctxmig_dma_log_stop,
	.log_read_and_clear = ctxmig_dma_log_read_and_clear,
};

/**
 * ctxmig_dma_log_init() - offer DMA logging, where the kernel can report it
 * @vgpu: the vGPU, before its device is registered.
 */
void ctxmig_dma_log_init(struct ctxmig_vgpu *vgpu)
{
	mutex_init(&vgpu->dma_log.lock);
	if (IS_ENABLED(CONFIG_IOMMUFD_DRIVER))
		vgpu->vdev.log_ops = &ctxmig_dma_log_ops;
}

/**
 * ctxmig_dma_log_fini() - undo ctxmig_dma_log_init()
 * @vgpu: the vGPU, closed.
 */
void ctxmig_dma_log_fini(struct ctxmig_vgpu *vgpu)
{
	ctxmig_dma_log_stop(&vgpu->vdev);
	mutex_destroy(&vgpu->dma_log.lock);
}
