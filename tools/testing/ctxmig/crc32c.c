// SPDX-License-Identifier: GPL-2.0
/*
 * Host implementation of the kernel's crc32c() for the userspace builds of
 * ctxmig's sources: the SSE4.2 CRC32 instruction where the CPU has it (the
 * kernel's crc32c-intel does the same), a table otherwise.  Same semantics
 * as lib/libcrc32c.c: the caller seeds and inverts.
 */
#include <linux/crc32c.h>
#include <string.h>

#define CRC32C_POLY_LE	0x82f63b78U

static u32 crc32c_table[8][256];

static void crc32c_init_table(void)
{
	unsigned int i, j;

	for (i = 0; i < 256; i++) {
		u32 crc = i;

		for (j = 0; j < 8; j++)
			crc = (crc >> 1) ^ ((crc & 1) ? CRC32C_POLY_LE : 0);
		crc32c_table[0][i] = crc;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc32c_table[j][i] = (crc32c_table[j - 1][i] >> 8) ^
				crc32c_table[0][crc32c_table[j - 1][i] & 0xff];
}

static u32 crc32c_sw(u32 crc, const unsigned char *p, size_t len)
{
	if (!crc32c_table[0][1])
		crc32c_init_table();

	while (len >= 8) {
		u64 w;

		memcpy(&w, p, 8);
		w ^= crc;
		crc = crc32c_table[7][w & 0xff] ^
		      crc32c_table[6][(w >> 8) & 0xff] ^
		      crc32c_table[5][(w >> 16) & 0xff] ^
		      crc32c_table[4][(w >> 24) & 0xff] ^
		      crc32c_table[3][(w >> 32) & 0xff] ^
		      crc32c_table[2][(w >> 40) & 0xff] ^
		      crc32c_table[1][(w >> 48) & 0xff] ^
		      crc32c_table[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static u32 crc32c_hw(u32 crc, const unsigned char *p, size_t len)
{
	u64 c = crc;

	while (len >= 8) {
		u64 w;

		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	crc = (u32)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}
#endif

u32 crc32c(u32 crc, const void *address, unsigned int length)
{
#if defined(__x86_64__)
	static int have_hw = -1;

	if (have_hw < 0)
		have_hw = __builtin_cpu_supports("sse4.2");
	if (have_hw)
		return crc32c_hw(crc, address, length);
#endif
	return crc32c_sw(crc, address, length);
}
