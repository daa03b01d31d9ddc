/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: the handful of <linux/kernel.h> helpers ctxmig uses. */
#ifndef _CTXMIG_SHIM_LINUX_KERNEL_H
#define _CTXMIG_SHIM_LINUX_KERNEL_H

#include <stdarg.h>
#include <stdio.h>
#include <linux/types.h>
#include <linux/align.h>
#include <linux/log2.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define U32_MAX		((u32)~0U)
#define U64_MAX		((u64)~0ULL)
#define U8_MAX		((u8)~0U)
#define min(a, b)	((a) < (b) ? (a) : (b))
#define max(a, b)	((a) > (b) ? (a) : (b))
#define min_t(t, a, b)	((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b)	((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define BIT(n)		(1UL << (n))
#define BIT_ULL(n)	(1ULL << (n))
#define GENMASK(h, l)	(((~0UL) << (l)) & (~0UL >> (63 - (h))))
#define GENMASK_ULL(h, l) (((~0ULL) << (l)) & (~0ULL >> (63 - (h))))
#define lower_32_bits(n)	((u32)((n) & 0xffffffff))
#define upper_32_bits(n)	((u32)(((u64)(n)) >> 32))
#define __stringify_1(x)	#x
#define __stringify(x)		__stringify_1(x)
#define fallthrough	__attribute__((__fallthrough__))

static inline int vscnprintf(char *buf, size_t size, const char *fmt,
			     va_list args)
{
	int n = vsnprintf(buf, size, fmt, args);

	if (n < 0)
		return 0;
	return (size_t)n >= size ? (size ? (int)size - 1 : 0) : n;
}

static inline __printf(3, 4)
int scnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list args;
	int n;

	va_start(args, fmt);
	n = vscnprintf(buf, size, fmt, args);
	va_end(args);
	return n;
}

static inline bool is_power_of_2(unsigned long n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

#endif
