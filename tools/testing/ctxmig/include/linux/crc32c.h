/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: <linux/crc32c.h>.  crc32c(seed, data, len) with the kernel's
 * semantics (no pre- or post-inversion); tools/testing/ctxmig/crc32c.c
 * implements it as crc32c-intel does (SSE4.2 crc32q, three streams
 * combined with PCLMULQDQ for long buffers).  The other two are host-only,
 * for the tests and benchmarks: the same CRC one crc32q at a time, and by
 * table.
 */
#ifndef _CTXMIG_SHIM_LINUX_CRC32C_H
#define _CTXMIG_SHIM_LINUX_CRC32C_H
#include <linux/types.h>
u32 crc32c(u32 crc, const void *address, unsigned int length);
u32 crc32c_1way(u32 crc, const void *address, unsigned int length);
u32 crc32c_table_only(u32 crc, const void *address, unsigned int length);
#endif
