/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: <linux/overflow.h>, the compiler builtins the kernel wraps. */
#ifndef _CTXMIG_SHIM_LINUX_OVERFLOW_H
#define _CTXMIG_SHIM_LINUX_OVERFLOW_H
#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)
#include <stddef.h>
#include <stdint.h>
static inline size_t array_size(size_t a, size_t b)
{
	size_t r;

	return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}
#endif
