/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: <linux/log2.h>. */
#ifndef _CTXMIG_SHIM_LINUX_LOG2_H
#define _CTXMIG_SHIM_LINUX_LOG2_H
#include <linux/kernel.h>
static inline int ilog2_u64(u64 n) { return 63 - __builtin_clzll(n); }
#define ilog2(n)	ilog2_u64(n)
#endif
