/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: <linux/build_bug.h>. */
#ifndef _CTXMIG_SHIM_LINUX_BUILD_BUG_H
#define _CTXMIG_SHIM_LINUX_BUILD_BUG_H
#define BUILD_BUG_ON(cond)	_Static_assert(!(cond), #cond)
#define static_assert(...)	_Static_assert(__VA_ARGS__)
#endif
