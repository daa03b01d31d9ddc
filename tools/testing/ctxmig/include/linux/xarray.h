/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: the subset of the kernel's XArray API that ctxmig's pure logic
 * uses (load, store, erase, marks, ordered iteration), with the kernel's
 * semantics.  tools/testing/ctxmig/xarray.c implements it as a radix tree
 * of 64-slot nodes.  The host tests are single-threaded: xa_lock() and
 * xa_unlock() do nothing and the __xa_*() variants are the plain ones.
 */
#ifndef _CTXMIG_SHIM_LINUX_XARRAY_H
#define _CTXMIG_SHIM_LINUX_XARRAY_H

#include <limits.h>
#include <linux/types.h>
#include <linux/slab.h>

typedef unsigned int xa_mark_t;
#define XA_MARK_0	0U
#define XA_MARK_1	1U
#define XA_MARK_2	2U
#define XA_PRESENT	8U
#define XA_MARK_MAX	XA_MARK_2

struct xa_node;

struct xarray {
	struct xa_node *root;
	unsigned int height;	/* levels below root; 0 = empty */
};

#define XA_ERR_NOMEM	((void *)(((uintptr_t)-ENOMEM << 2) | 2))

static inline bool xa_is_err(const void *entry)
{
	return ((uintptr_t)entry & 3) == 2 && (intptr_t)entry < 0;
}

static inline int xa_err(void *entry)
{
	return xa_is_err(entry) ? (int)((intptr_t)entry >> 2) : 0;
}

static inline void xa_init(struct xarray *xa)
{
	xa->root = NULL;
	xa->height = 0;
}

static inline bool xa_empty(const struct xarray *xa)
{
	return !xa->root;
}

void *xa_load(struct xarray *xa, unsigned long index);
void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp);
void *xa_erase(struct xarray *xa, unsigned long index);
bool xa_get_mark(struct xarray *xa, unsigned long index, xa_mark_t mark);
void xa_set_mark(struct xarray *xa, unsigned long index, xa_mark_t mark);
void xa_clear_mark(struct xarray *xa, unsigned long index, xa_mark_t mark);
void *__xa_cmpxchg(struct xarray *xa, unsigned long index, void *old,
		   void *entry, gfp_t gfp);

#define xa_lock(xa)		((void)(xa))
#define xa_unlock(xa)		((void)(xa))
#define __xa_erase		xa_erase
#define __xa_set_mark		xa_set_mark
#define __xa_clear_mark		xa_clear_mark

void *xa_find(struct xarray *xa, unsigned long *index, unsigned long max,
	      xa_mark_t filter);
void *xa_find_after(struct xarray *xa, unsigned long *index,
		    unsigned long max, xa_mark_t filter);
void xa_destroy(struct xarray *xa);

#define xa_for_each_range(xa, index, entry, start, last)		\
	for (index = start,						\
	     entry = xa_find(xa, &index, last, XA_PRESENT);		\
	     entry;							\
	     entry = xa_find_after(xa, &index, last, XA_PRESENT))
#define xa_for_each_start(xa, index, entry, start)			\
	xa_for_each_range(xa, index, entry, start, ULONG_MAX)
#define xa_for_each(xa, index, entry)					\
	xa_for_each_start(xa, index, entry, 0)
#define xa_for_each_marked(xa, index, entry, filter)			\
	for (index = 0, entry = xa_find(xa, &index, ULONG_MAX, filter);	\
	     entry; entry = xa_find_after(xa, &index, ULONG_MAX, filter))

#endif
