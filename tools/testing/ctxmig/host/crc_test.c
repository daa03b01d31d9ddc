// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the shim's crc32c() (tools/testing/ctxmig/crc32c.c): its
 * three-stream path, the one-stream path and the table agree with each
 * other and with the CRC32C check value, at every length around the
 * block sizes, at every alignment and from any seed.
 */
#include <linux/crc32c.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "harness.h"

#define BUF_BYTES	(64 * 1024 + 64)

static u64 rng = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static u8 *random_buf(void)
{
	u8 *buf = malloc(BUF_BYTES);
	unsigned int i;

	for (i = 0; buf && i < BUF_BYTES; i++)
		buf[i] = rnd();
	return buf;
}

/* All three ways agree on @len bytes at @buf from @seed. */
static bool agree(u32 seed, const u8 *buf, unsigned int len)
{
	u32 t = crc32c_table_only(seed, buf, len);

	return crc32c(seed, buf, len) == t && crc32c_1way(seed, buf, len) == t;
}

TEST(check_value)
{
	static const char s[] = "123456789";

	/* The CRC-32C (Castagnoli) check value of the catalogue. */
	CHECK_EQ(~crc32c(~0U, s, 9), 0xe3069283U);
	CHECK_EQ(~crc32c_1way(~0U, s, 9), 0xe3069283U);
	CHECK_EQ(~crc32c_table_only(~0U, s, 9), 0xe3069283U);
}

TEST(every_length_to_two_blocks)
{
	u8 *buf = random_buf();
	unsigned int len, bad = 0;

	CHECK(buf, "allocation");
	/* Both sides of the breakeven, the full block (3072) and tails. */
	for (len = 0; buf && len <= 2 * 3072 + 64; len++)
		bad += !agree(~0U, buf, len);
	CHECK_EQ(bad, 0);
	free(buf);
}

TEST(every_alignment_and_seed)
{
	u8 *buf = random_buf();
	unsigned int off, bad = 0, i;

	CHECK(buf, "allocation");
	for (off = 0; buf && off < 64; off++)
		for (i = 0; i < 8; i++)
			bad += !agree((u32)rnd(), buf + off,
				      (unsigned int)(rnd() % (BUF_BYTES - 64)));
	CHECK_EQ(bad, 0);
	free(buf);
}

TEST(pages_and_chunks)
{
	static const unsigned int lens[] = { 4096, 4096 + 24, 65536,
					     65536 + 24, 3 * 4096 };
	u8 *buf = random_buf();
	unsigned int i, bad = 0;
	u32 crc = ~0U, split = ~0U;

	CHECK(buf, "allocation");
	for (i = 0; buf && i < ARRAY_SIZE(lens); i++)
		bad += !agree(~0U, buf, lens[i]);
	CHECK_EQ(bad, 0);
	/* A CRC taken page by page is the CRC of the whole. */
	for (i = 0; buf && i < 16; i++)
		split = crc32c(split, buf + i * 4096, 4096);
	if (buf)
		crc = crc32c(crc, buf, 65536);
	CHECK_EQ(split, crc);
	free(buf);
}

int main(void)
{
	return host_main("crc_test");
}
