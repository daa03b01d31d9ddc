/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: <linux/align.h>. */
#ifndef _CTXMIG_SHIM_LINUX_ALIGN_H
#define _CTXMIG_SHIM_LINUX_ALIGN_H
#define ALIGN(x, a)		(((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a)	(((x) & ((__typeof__(x))(a) - 1)) == 0)
#endif
