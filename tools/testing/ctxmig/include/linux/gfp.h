/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: whole pages, zeroed or not, as the kernel's page allocator gives. */
#ifndef _CTXMIG_SHIM_LINUX_GFP_H
#define _CTXMIG_SHIM_LINUX_GFP_H

#include <stdlib.h>
#include <string.h>
#include <linux/slab.h>

#define PAGE_SIZE	4096UL

#ifdef CTXMIG_SHIM_PAGE_LISTS
/*
 * A bench's page allocator: freed pages kept on a list and given out again
 * last in, first out, as the kernel's per-CPU page lists give them, where
 * glibc's aligned_alloc() costs several times a kernel page allocation.
 * The program defines the list.  Not for the tests: their sanitizers are
 * to see every free().
 */
struct shim_page {
	struct shim_page *next;
};

extern struct shim_page *shim_free_pages;

static inline unsigned long __get_free_page(gfp_t gfp)
{
	struct shim_page *p = shim_free_pages;

	if (!p)
		return (unsigned long)aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	shim_free_pages = p->next;
	return (unsigned long)p;
}

static inline void free_page(unsigned long addr)
{
	struct shim_page *p = (struct shim_page *)addr;

	p->next = shim_free_pages;
	shim_free_pages = p;
}
#else
static inline unsigned long __get_free_page(gfp_t gfp)
{
	return (unsigned long)aligned_alloc(PAGE_SIZE, PAGE_SIZE);
}

static inline void free_page(unsigned long addr)
{
	free((void *)addr);
}
#endif

static inline unsigned long get_zeroed_page(gfp_t gfp)
{
	unsigned long p = __get_free_page(gfp);

	if (p)
		memset((void *)p, 0, PAGE_SIZE);
	return p;
}

#endif
