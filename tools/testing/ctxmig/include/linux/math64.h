/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: <linux/math64.h>. */
#ifndef _CTXMIG_SHIM_LINUX_MATH64_H
#define _CTXMIG_SHIM_LINUX_MATH64_H
#include <linux/kernel.h>
static inline u64 div64_u64(u64 dividend, u64 divisor)
{
	return dividend / divisor;
}
#endif
