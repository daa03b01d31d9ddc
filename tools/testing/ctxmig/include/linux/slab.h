/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: kernel allocators on top of libc; GFP flags are ignored. */
#ifndef _CTXMIG_SHIM_LINUX_SLAB_H
#define _CTXMIG_SHIM_LINUX_SLAB_H

#include <stdlib.h>
#include <linux/types.h>

typedef unsigned int gfp_t;
#define GFP_KERNEL		0U
#define GFP_KERNEL_ACCOUNT	0U

static inline void *kmalloc(size_t size, gfp_t gfp) { return malloc(size); }
static inline void *kzalloc(size_t size, gfp_t gfp) { return calloc(1, size); }
static inline void *kvmalloc(size_t size, gfp_t gfp) { return malloc(size); }
static inline void *kvzalloc(size_t size, gfp_t gfp) { return calloc(1, size); }
static inline void kfree(const void *p) { free((void *)p); }
static inline void kvfree(const void *p) { free((void *)p); }

#endif
