/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: sort() of <linux/sort.h> on qsort(); no swap function. */
#ifndef _CTXMIG_SHIM_LINUX_SORT_H
#define _CTXMIG_SHIM_LINUX_SORT_H

#include <stdlib.h>

static inline void sort(void *base, size_t num, size_t size,
			int (*cmp)(const void *, const void *), void *swap)
{
	if (num)
		qsort(base, num, size, cmp);
}

#endif
