// SPDX-License-Identifier: GPL-2.0
/*
 * Throughput of the ctxmig IR codec on VRAM, against memcpy plus CRC32C.  A benchmark,
 * not a test: it prints a table and fails only if the codec does.
 *
 * For BENCH_BYTES (default 1 GiB) of random VRAM and as much zero VRAM, in
 * 64 KiB chunks, one loop streams each chunk through the writer
 * (ctxmig_ir_put_vram() into a CTXMIG_IR_WRITER_MIN_BUF staging buffer,
 * drained with ctxmig_ir_peek()/ctxmig_ir_consume()) and feeds the drained
 * bytes straight to a reader, whose consumer copies VRAM data into a 64 KiB
 * destination (and clears it for VRAM_ZERO), as a restore would.  The
 * stream is never in memory whole: the writer holds one record, the reader
 * decodes it in place.
 *
 * The baseline, measured in the same run on the same source bytes and the
 * same chunking, is per chunk a memcpy and a CRC32C of the copy twice:
 * source -> staging ("encode") and staging -> destination ("decode"), the
 * CRC computed as the kernel's crc32c-intel does (the shim's crc32c()).
 * The codec does those same copies and CRCs plus a zero-page scan and the
 * record checks, so "vs base" (baseline time / codec time) is what the
 * format costs on top of moving and checking the bytes.  The staging and
 * destination buffers are written before anything is timed.
 *
 * Every case runs BENCH_RUNS times (default 3); the table shows the
 * fastest run of each, which is the least disturbed by the rest of the
 * machine.
 *
 * Random data comes from a 16 MiB pool generated once and reused, so that
 * 1 GiB never has to be allocated; zero data from a zero pool of the same
 * size, written once so that it is backed by real pages.
 */
#include <linux/crc32c.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_env.h"
#include "ctxmig_ir.h"

#define CHUNK		CTXMIG_IR_VRAM_CHUNK_MAX
#define POOL_BYTES	(16U << 20)
#define DEFAULT_BYTES	BIT_ULL(30)
#define DEFAULT_RUNS	3

/* The destination side of the codec run. */
struct sink {
	u8 *dst;
	u64 data;
	u64 zero;
};

/* Keep the compiler from dropping copies into memory nobody reads. */
static inline void clobber(void *p)
{
	asm volatile("" : : "r"(p) : "memory");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sink_event(struct ctxmig_ir_reader *r, void *priv,
		      const struct ctxmig_ir_event *ev)
{
	struct sink *s = priv;
	u64 at, len;

	if (ev->kind != CTXMIG_EV_RECORD ||
	    (ev->type != CTXMIG_IR_VRAM && ev->type != CTXMIG_IR_VRAM_ZERO))
		return 0;
	/* put_vram() of one chunk never crosses the chunk's boundary. */
	at = ev->u.vram.offset % CHUNK;
	len = ev->u.vram.length;
	if (at + len > CHUNK)
		return ctxmig_ir_reader_fail(r, -ERANGE, "record crosses a chunk");
	if (ev->type == CTXMIG_IR_VRAM) {
		memcpy(s->dst + at, ev->u.vram.data, len);
		s->data += len;
	} else {
		memset(s->dst + at, 0, len);
		s->zero += len;
	}
	return 0;
}

static const struct ctxmig_ir_reader_ops sink_ops = {
	.event = sink_event,
};

/* Hand everything the writer can drain to the reader. */
static int drain(struct ctxmig_ir_writer *w, struct ctxmig_ir_reader *r,
		 u64 *wire)
{
	const void *p;
	u32 n;
	int err;

	for (;;) {
		p = ctxmig_ir_peek(w, &n);
		if (!n)
			return 0;
		err = ctxmig_ir_feed(r, p, n);
		if (err)
			return err;
		ctxmig_ir_consume(w, n);
		*wire += n;
	}
}

static const u8 *chunk_src(const u8 *pool, u64 off)
{
	return pool + off % POOL_BYTES;
}

/**
 * run_codec() - encode and decode @bytes of VRAM in one streaming loop
 * @pool: source bytes, %POOL_BYTES of them, reused cyclically.
 * @bytes: VRAM bytes, a multiple of %CHUNK.
 * @dst: %CHUNK bytes of destination.
 * @wire: set to the stream's length.
 * @secs: set to the elapsed time.
 *
 * Return: 0, or the writer's or reader's negative errno.
 */
static int run_codec(const u8 *pool, u64 bytes, u8 *dst, u64 *wire,
		     double *secs)
{
	const struct ctxmig_caps caps = {
		.model = CTXMIG_MODEL_AMD_GFX9,
		.vram_size = bytes,
		.va_bits = 48,
		.num_engines = 1,
		.page_sizes = BIT(12),
	};
	const struct ctxmig_identity id = {
		.pci_vendor = 0x1af4, .pci_device = 0x10f0,
		.model = CTXMIG_MODEL_AMD_GFX9, .name = "bench",
	};
	const struct ctxmig_ring ring = { .engine = 0, .size = 4096 };
	struct ctxmig_ir_writer w;
	struct ctxmig_ir_reader r;
	struct sink s = { .dst = dst };
	double t0;
	u64 off;
	int err;

	*wire = 0;
	err = ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF);
	if (err)
		return err;
	err = ctxmig_ir_reader_init(&r, &sink_ops, &s);
	if (err) {
		ctxmig_ir_writer_fini(&w);
		return err;
	}

	t0 = now();
	err = ctxmig_ir_put_preamble(&w, &caps);
	if (!err)
		err = ctxmig_ir_put_device(&w, &id, &caps);
	if (!err)
		err = ctxmig_ir_put_engine(&w, &ring, NULL, NULL);
	if (!err)
		err = drain(&w, &r, wire);
	for (off = 0; off < bytes && !err; off += CHUNK) {
		err = ctxmig_ir_put_vram(&w, off, chunk_src(pool, off), CHUNK);
		if (!err)
			err = drain(&w, &r, wire);
	}
	if (!err)
		err = ctxmig_ir_put_end(&w);
	if (!err)
		err = drain(&w, &r, wire);
	if (!err)
		err = ctxmig_ir_reader_finish(&r);
	*secs = now() - t0;

	if (err)
		fprintf(stderr, "ir_bench: codec failed: %d: %s%s\n", err,
			w.error.err ? w.error.reason : "",
			r.error.err ? r.error.reason : "");
	else if (s.data + s.zero != bytes)
		err = -EIO;
	ctxmig_ir_reader_fini(&r);
	ctxmig_ir_writer_fini(&w);
	return err;
}

static volatile u32 crc_sink;

/* The baseline: source -> staging -> destination, each copy CRCed. */
static double run_memcpy(const u8 *pool, u64 bytes, u8 *tmp, u8 *dst)
{
	double t0 = now();
	u32 a = ~0U, b = ~0U;
	u64 off;

	for (off = 0; off < bytes; off += CHUNK) {
		memcpy(tmp, chunk_src(pool, off), CHUNK);
		clobber(tmp);
		a = crc32c(a, tmp, CHUNK);
		memcpy(dst, tmp, CHUNK);
		clobber(dst);
		b = crc32c(b, dst, CHUNK);
	}
	crc_sink = a ^ b;
	return now() - t0;
}

static u64 bench_bytes(void)
{
	u64 v = bench_env_u64("BENCH_BYTES", DEFAULT_BYTES);

	v -= v % CHUNK;
	return v ? v : CHUNK;
}

static unsigned int bench_runs(void)
{
	const char *env = getenv("BENCH_RUNS");
	int v = env ? atoi(env) : 0;

	return v > 0 ? v : DEFAULT_RUNS;
}

/**
 * best_of() - fastest of @runs memcpy and codec runs over one source
 * @pool: source bytes.
 * @bytes: VRAM bytes per run.
 * @runs: repetitions.
 * @tmp: %CHUNK bytes of staging for the baseline.
 * @dst: %CHUNK bytes of destination.
 * @base: set to the fastest baseline time.
 * @secs: set to the fastest codec time.
 * @wire: set to the stream's length.
 *
 * Return: 0, or the codec's negative errno.
 */
static int best_of(const u8 *pool, u64 bytes, unsigned int runs, u8 *tmp,
		   u8 *dst, double *base, double *secs, u64 *wire)
{
	unsigned int i;
	double t;
	int err;

	*base = *secs = 1e30;
	for (i = 0; i < runs; i++) {
		t = run_memcpy(pool, bytes, tmp, dst);
		*base = min(*base, t);
		err = run_codec(pool, bytes, dst, wire, &t);
		if (err)
			return err;
		*secs = min(*secs, t);
	}
	return 0;
}

static void row(const char *name, u64 bytes, double secs, double base_secs,
		u64 wire)
{
	double gibs = bytes / secs / (1 << 30);

	printf("%-14s %12llu %9.3f %8.2f %10.2f", name,
	       (unsigned long long)bytes, secs, gibs, base_secs / secs);
	if (wire)
		printf(" %14llu %10.6f\n", (unsigned long long)wire,
		       (double)wire / bytes);
	else
		printf(" %14s %10s\n", "-", "-");
}

int main(void)
{
	u64 bytes = bench_bytes(), wire, state = 0x9e3779b97f4a7c15ULL;
	unsigned int runs = bench_runs();
	u8 *pool, *zero, *tmp, *dst;
	double base, secs;
	unsigned int i;

	pool = malloc(POOL_BYTES);
	zero = malloc(POOL_BYTES);
	tmp = malloc(CHUNK);
	dst = malloc(CHUNK);
	if (!pool || !zero || !tmp || !dst) {
		fprintf(stderr, "ir_bench: out of memory\n");
		return 1;
	}
	memset(zero, 0, POOL_BYTES);
	memset(tmp, 0x5a, CHUNK);
	memset(dst, 0x5a, CHUNK);
	/* xorshift64*: no page of it is zero, so nothing is elided. */
	for (i = 0; i < POOL_BYTES / sizeof(u64); i++) {
		u64 x;

		state ^= state >> 12;
		state ^= state << 25;
		state ^= state >> 27;
		x = state * 0x2545f4914f6cdd1dULL;
		memcpy(pool + i * sizeof(u64), &x, sizeof(x));
	}

	printf("ctxmig IR codec: %llu bytes per case in %u-byte chunks\n",
	       (unsigned long long)bytes, CHUNK);
	printf("writer buffer %zu bytes, best of %u runs\n",
	       (size_t)CTXMIG_IR_WRITER_MIN_BUF, runs);
	printf("baseline: per chunk memcpy + crc32c twice (src->staging, staging->dst)\n");
	printf("vs base: baseline time / case time\n");
	printf("%-14s %12s %9s %8s %10s %14s %10s\n", "case", "bytes",
	       "seconds", "GiB/s", "vs base", "wire bytes", "wire/VRAM");

	if (best_of(pool, bytes, runs, tmp, dst, &base, &secs, &wire))
		return 1;
	row("base-random", bytes, base, base, 0);
	row("codec-random", bytes, secs, base, wire);

	/* A zero pool of the same size: same addresses, same cache misses. */
	if (best_of(zero, bytes, runs, tmp, dst, &base, &secs, &wire))
		return 1;
	row("base-zero", bytes, base, base, 0);
	row("codec-zero", bytes, secs, base, wire);

	free(pool);
	free(zero);
	free(tmp);
	free(dst);
	return 0;
}
