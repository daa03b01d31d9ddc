/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: <linux/crc32c.h>.  crc32c(seed, data, len) with the kernel's
 * semantics (no pre- or post-inversion); tools/testing/ctxmig/crc32c.c
 * implements it with SSE4.2 when the CPU has it.
 */
#ifndef _CTXMIG_SHIM_LINUX_CRC32C_H
#define _CTXMIG_SHIM_LINUX_CRC32C_H
#include <linux/types.h>
u32 crc32c(u32 crc, const void *address, unsigned int length);
#endif
