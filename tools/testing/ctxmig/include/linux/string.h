/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: <linux/string.h>, including memchr_inv(). */
#ifndef _CTXMIG_SHIM_LINUX_STRING_H
#define _CTXMIG_SHIM_LINUX_STRING_H

#include <string.h>
#include <linux/types.h>

/* Like the kernel's: the first byte of @start that differs from @c. */
static inline void *memchr_inv(const void *start, int c, size_t bytes)
{
	const unsigned char *p = start;
	u64 pattern = 0x0101010101010101ULL * (unsigned char)c;

	while (bytes >= 8) {
		u64 word;

		memcpy(&word, p, 8);
		if (word != pattern)
			break;
		p += 8;
		bytes -= 8;
	}
	for (; bytes; p++, bytes--)
		if (*p != (unsigned char)c)
			return (void *)p;
	return NULL;
}

static inline ssize_t strscpy(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size);

	if (!size)
		return -7;	/* -E2BIG */
	if (n == size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -7;
	}
	memcpy(dst, src, n + 1);
	return n;
}

#endif
