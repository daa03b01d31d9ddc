// SPDX-License-Identifier: GPL-2.0
/*
 * Host implementation of the kernel's crc32c() for the userspace builds of
 * ctxmig's sources.  Same semantics as lib/libcrc32c.c: the caller seeds
 * and inverts.
 *
 * It computes the CRC the way the kernel's crc32c-intel does
 * (arch/x86/crypto/crc32c-intel_glue.c, crc32c-pcl-intel-asm_64.S): from
 * CRC32C_PCL_BREAKEVEN bytes on, the buffer goes in blocks of three
 * streams of up to 128 quadwords each, run through the SSE4.2 crc32q
 * instruction side by side so that its latency is hidden, and the three
 * stream CRCs are combined with carry-less multiplications (PCLMULQDQ) by
 * x^n mod P; shorter buffers and the tail go one crc32q at a time.  A
 * table (slicing by 8) serves CPUs without SSE4.2 and PCLMULQDQ.
 * crc32c_1way() is the one-stream loop alone, for comparison.
 */
#include <linux/crc32c.h>
#include <string.h>

#define CRC32C_POLY_LE		0x82f63b78U
/* As crc32c-intel: shorter buffers gain nothing from three streams. */
#define CRC32C_PCL_BREAKEVEN	512
/* As crc_pcl's SMALL_SIZE: below it the tail goes one stream. */
#define CRC32C_3WAY_MIN		200
/* Quadwords per stream in a full block (crc_pcl: 128 * 24 bytes). */
#define CRC32C_3WAY_QWORDS	128

static u32 crc32c_table[8][256];
/* For n quadwords per stream: x^(128n - 33) and x^(64n - 33) mod P. */
static u32 crc32c_k[CRC32C_3WAY_QWORDS + 1][2];

/* @v * x^@bits mod P, in the reflected bit order of the CRC. */
static u32 crc32c_shift(u32 v, unsigned int bits)
{
	while (bits--)
		v = (v >> 1) ^ ((v & 1) ? CRC32C_POLY_LE : 0);
	return v;
}

static void crc32c_init_tables(void)
{
	unsigned int i, j;
	u32 k1, k2;

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
	/*
	 * Reflected, bit 31 is x^0.  A stream of n quadwords is shifted past
	 * the next one by x^(64n); the carry-less product and the crc32q
	 * that reduces it add x^33, which the constant takes off.
	 */
	k1 = crc32c_shift(0x80000000U, 128 - 33);
	k2 = crc32c_shift(0x80000000U, 64 - 33);
	for (i = 1; i <= CRC32C_3WAY_QWORDS; i++) {
		crc32c_k[i][0] = k1;
		crc32c_k[i][1] = k2;
		k1 = crc32c_shift(k1, 128);
		k2 = crc32c_shift(k2, 64);
	}
}

static u32 crc32c_sw(u32 crc, const unsigned char *p, size_t len)
{
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
#include <immintrin.h>

static inline u64 crc32c_load64(const unsigned char *p)
{
	u64 w;

	memcpy(&w, p, 8);
	return w;
}

__attribute__((target("sse4.2")))
static u32 crc32c_hw_1(u32 crc, const unsigned char *p, size_t len)
{
	u64 c = crc;

	while (len >= 8) {
		c = __builtin_ia32_crc32di(c, crc32c_load64(p));
		p += 8;
		len -= 8;
	}
	crc = (u32)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

/* @crc * x^33 * @k mod P: crc32q reduces the carry-less product. */
__attribute__((target("sse4.2,pclmul")))
static u64 crc32c_clmul(u32 crc, u32 k)
{
	__m128i a = _mm_cvtsi32_si128(crc), b = _mm_cvtsi32_si128(k);

	return _mm_cvtsi128_si64(_mm_clmulepi64_si128(a, b, 0x00));
}

__attribute__((target("sse4.2,pclmul")))
static u32 crc32c_hw_3(u32 crc, const unsigned char *p, size_t len)
{
	/* Align to 8 bytes first, as crc_pcl does. */
	while (len && ((unsigned long)p & 7)) {
		crc = __builtin_ia32_crc32qi(crc, *p++);
		len--;
	}
	while (len >= CRC32C_3WAY_MIN) {
		size_t n = len / 24, i;
		const unsigned char *b, *c;
		u64 ca = crc, cb = 0, cc = 0;

		if (n > CRC32C_3WAY_QWORDS)
			n = CRC32C_3WAY_QWORDS;
		b = p + 8 * n;
		c = b + 8 * n;
		for (i = 0; i < 8 * n; i += 8) {
			ca = __builtin_ia32_crc32di(ca, crc32c_load64(p + i));
			cb = __builtin_ia32_crc32di(cb, crc32c_load64(b + i));
			cc = __builtin_ia32_crc32di(cc, crc32c_load64(c + i));
		}
		crc = (u32)__builtin_ia32_crc32di(0,
				crc32c_clmul(ca, crc32c_k[n][0]) ^
				crc32c_clmul(cb, crc32c_k[n][1])) ^ (u32)cc;
		p += 24 * n;
		len -= 24 * n;
	}
	return crc32c_hw_1(crc, p, len);
}
#endif

/* -1 until probed; then HW_CRC32 (SSE4.2) and HW_CLMUL (PCLMULQDQ). */
#define HW_CRC32	1
#define HW_CLMUL	2
static int crc32c_hw = -1;

static void crc32c_setup(void)
{
	int hw = 0;

	crc32c_init_tables();
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2"))
		hw |= HW_CRC32;
	if (__builtin_cpu_supports("pclmul"))
		hw |= HW_CLMUL;
#endif
	crc32c_hw = hw;
}

/**
 * crc32c_1way() - crc32c() one crc32q at a time, whatever the length
 * @crc: seed.
 * @address: bytes.
 * @length: byte count.
 *
 * Return: what crc32c() returns; slower for long buffers (a benchmark
 * shows by how much).
 */
u32 crc32c_1way(u32 crc, const void *address, unsigned int length)
{
	if (crc32c_hw < 0)
		crc32c_setup();
#if defined(__x86_64__)
	if (crc32c_hw & HW_CRC32)
		return crc32c_hw_1(crc, address, length);
#endif
	return crc32c_sw(crc, address, length);
}

u32 crc32c(u32 crc, const void *address, unsigned int length)
{
	if (crc32c_hw < 0)
		crc32c_setup();
#if defined(__x86_64__)
	if (length >= CRC32C_PCL_BREAKEVEN &&
	    crc32c_hw == (HW_CRC32 | HW_CLMUL))
		return crc32c_hw_3(crc, address, length);
	if (crc32c_hw & HW_CRC32)
		return crc32c_hw_1(crc, address, length);
#endif
	return crc32c_sw(crc, address, length);
}

/**
 * crc32c_table_only() - crc32c() by table, for checking the others
 * @crc: seed.
 * @address: bytes.
 * @length: byte count.
 *
 * Return: what crc32c() returns.
 */
u32 crc32c_table_only(u32 crc, const void *address, unsigned int length)
{
	if (crc32c_hw < 0)
		crc32c_setup();
	return crc32c_sw(crc, address, length);
}
