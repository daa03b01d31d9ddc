/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: <linux/build_bug.h>. */
#ifndef _CTXMIG_SHIM_LINUX_BUILD_BUG_H
#define _CTXMIG_SHIM_LINUX_BUILD_BUG_H
#define BUILD_BUG_ON(cond)	_Static_assert(!(cond), #cond)
/* As the kernel's: the message is optional, the expression by default. */
#define static_assert(expr, ...) __static_assert(expr, ##__VA_ARGS__, #expr)
#define __static_assert(expr, msg, ...) _Static_assert(expr, msg)
#endif
