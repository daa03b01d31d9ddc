/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: whole zeroed pages, as the kernel's page allocator gives. */
#ifndef _CTXMIG_SHIM_LINUX_GFP_H
#define _CTXMIG_SHIM_LINUX_GFP_H

#include <stdlib.h>
#include <string.h>
#include <linux/slab.h>

#define PAGE_SIZE	4096UL

static inline unsigned long get_zeroed_page(gfp_t gfp)
{
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);

	if (p)
		memset(p, 0, PAGE_SIZE);
	return (unsigned long)p;
}

static inline void free_page(unsigned long addr)
{
	free((void *)addr);
}

#endif
