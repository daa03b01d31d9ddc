/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig sparse VRAM: a device's memory as an xarray of pages.
 */
#ifndef _CTXMIG_VRAM_H_
#define _CTXMIG_VRAM_H_

#include "ctxmig_vram_types.h"

int ctxmig_vram_init(struct ctxmig_vram *vram, u64 size);
void ctxmig_vram_fini(struct ctxmig_vram *vram);
int ctxmig_vram_read(struct ctxmig_vram *vram, u64 offset, void *buf, u64 len);
int ctxmig_vram_dest(struct ctxmig_vram *vram, u64 offset, u64 len,
		     void **dst);
int ctxmig_vram_insert(struct ctxmig_vram *vram, u64 pfn, void *page);
int ctxmig_vram_write(struct ctxmig_vram *vram, u64 offset, const void *buf,
		      u64 len);
int ctxmig_vram_clear(struct ctxmig_vram *vram, u64 offset, u64 len);
void *ctxmig_vram_get(struct ctxmig_vram *vram, u64 pfn);
void ctxmig_vram_set_mapped(struct ctxmig_vram *vram, bool mapped);
const void *ctxmig_vram_page(struct ctxmig_vram *vram, u64 pfn);
const void *ctxmig_vram_next(struct ctxmig_vram *vram, u64 *pfn, bool dirty);
void ctxmig_vram_clean(struct ctxmig_vram *vram, u64 pfn);
void ctxmig_vram_mark(struct ctxmig_vram *vram, u64 pfn);
void ctxmig_vram_track(struct ctxmig_vram *vram, bool on);

/**
 * ctxmig_vram_range_ok() - is [@offset, @offset + @len) inside @vram?
 * @vram: device memory.
 * @offset: byte offset.
 * @len: bytes.
 *
 * Return: true when the whole range is inside, without overflow.
 */
static inline bool ctxmig_vram_range_ok(const struct ctxmig_vram *vram,
					u64 offset, u64 len)
{
	return offset <= vram->size && len <= vram->size - offset;
}

#endif /* _CTXMIG_VRAM_H_ */
