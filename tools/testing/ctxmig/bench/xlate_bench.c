// SPDX-License-Identifier: GPL-2.0
/*
 * Cost of translating page tables between models, against streaming the
 * memory they map.  A benchmark, not a test: it prints a table and fails
 * only if a migration does.
 *
 * For every ordered pair of models and for 4 KiB and 2 MiB pages: a device
 * of the first model maps 1 GiB (BENCH_MAP_BYTES) of VRAM with its own
 * page tables; the time to save it (walk the tables into mappings) and
 * restore the stream into a device of the second model (build its tables)
 * is compared with the time, measured in the same run, to stream 1 GiB of
 * random VRAM through the codec's writer and reader.  No VRAM data pages
 * are written, so the stream carries the mapping and nothing else: the
 * figure is the translation alone.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctxmig_gpu.h"
#include "ctxmig_ir.h"
#include "ctxmig_vram.h"
#include "ctxmig_xlate.h"

#define VRAM_BYTES	(2ULL << 30)
#define MAP_VA		0x40000000ULL
#define PT_HEAP		(1ULL << 30)
#define POOL_BYTES	(16U << 20)

static u64 map_bytes = BIT_ULL(30);
static u64 pt_next;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static u64 pt_alloc(void *priv, u32 bytes)
{
	u64 at = pt_next;

	pt_next += CTXMIG_VRAM_PAGE_SIZE;
	return at;
}

static int sink_event(struct ctxmig_ir_reader *r, void *priv,
		      const struct ctxmig_ir_event *ev)
{
	if (ev->kind == CTXMIG_EV_RECORD && ev->type == CTXMIG_IR_VRAM)
		memcpy(priv, ev->u.vram.data, ev->u.vram.length);
	return 0;
}

static const struct ctxmig_ir_reader_ops sink_ops = { .event = sink_event };

/* Stream @bytes of random VRAM through writer and reader. */
static double stream(u64 bytes)
{
	static const struct ctxmig_caps caps = {
		.model = CTXMIG_MODEL_AMD_GFX9, .features = CTXMIG_FEAT_ALL,
		.vram_size = 4ULL << 30, .va_bits = 48, .num_engines = 1,
		.page_sizes = BIT(12),
	};
	struct ctxmig_identity id = { .model = CTXMIG_MODEL_AMD_GFX9 };
	struct ctxmig_ring ring = { .size = 4096 };
	struct ctxmig_fence fence = {};
	struct ctxmig_irq irq = {};
	struct ctxmig_ir_writer w;
	struct ctxmig_ir_reader r;
	u8 *pool = malloc(POOL_BYTES), *dst = malloc(CTXMIG_IR_VRAM_CHUNK_MAX);
	double t0, t;
	u64 off;
	u32 i;
	int ret;

	for (i = 0; i < POOL_BYTES; i++)
		pool[i] = rand() | 1;
	ret = ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF) ?:
	      ctxmig_ir_reader_init(&r, &sink_ops, dst);
	t0 = now();
	ret = ret ?: ctxmig_ir_put_preamble(&w, &caps);
	ret = ret ?: ctxmig_ir_put_device(&w, &id, &caps);
	ret = ret ?: ctxmig_ir_put_engine(&w, &ring, &fence, &irq);
	for (off = 0; !ret && off <= bytes; off += CTXMIG_IR_VRAM_CHUNK_MAX) {
		const void *p;
		u32 n;

		if (off < bytes)
			ret = ctxmig_ir_put_vram(&w, off, pool + off % POOL_BYTES,
						 CTXMIG_IR_VRAM_CHUNK_MAX);
		else
			ret = ctxmig_ir_put_end(&w);
		while (!ret && (p = ctxmig_ir_peek(&w, &n)) && n) {
			ret = ctxmig_ir_feed(&r, p, n);
			ctxmig_ir_consume(&w, n);
		}
	}
	ret = ret ?: ctxmig_ir_reader_finish(&r);
	t = now() - t0;
	ctxmig_ir_writer_fini(&w);
	ctxmig_ir_reader_fini(&r);
	free(pool);
	free(dst);
	if (ret) {
		fprintf(stderr, "xlate_bench: streaming failed (%d)\n", ret);
		exit(1);
	}
	return t;
}

/* Save a device mapping map_bytes in 2^shift pages, restore it into @to. */
static double translate(const struct ctxmig_model *from,
			const struct ctxmig_model *to, u8 shift, u64 *wire)
{
	struct ctxmig_mapping map = {
		.va = MAP_VA, .size = map_bytes, .addr = 0,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE, .page_shift = shift,
	};
	struct ctxmig_gpu *src = calloc(1, sizeof(*src));
	struct ctxmig_gpu *dst = calloc(1, sizeof(*dst));
	struct ctxmig_restore *rs = calloc(1, sizeof(*rs));
	struct ctxmig_save *s = calloc(1, sizeof(*s));
	struct ctxmig_ir_writer w;
	double t0, t;
	int ret, done = 0;

	ret = ctxmig_gpu_init(src, from, VRAM_BYTES) ?:
	      ctxmig_gpu_init(dst, to, VRAM_BYTES) ?:
	      ctxmig_gpu_set_va_bits(src, 40) ?:
	      ctxmig_gpu_set_va_bits(dst, 40);
	pt_next = PT_HEAP;
	ret = ret ?: ctxmig_pt_map(src, &map, pt_alloc, NULL);
	ret = ret ?: ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF);
	if (ret) {
		fprintf(stderr, "xlate_bench: setup %s failed (%d)\n", from->name,
			ret);
		exit(1);
	}
	*wire = 0;
	t0 = now();
	ret = ctxmig_save_init(s, src) ?: ctxmig_restore_init(rs, dst);
	while (!ret && !done) {
		const void *p;
		u32 n;

		done = ctxmig_save_step(s, &w);
		if (done < 0)
			ret = done;
		while (!ret && (p = ctxmig_ir_peek(&w, &n)) && n) {
			ret = ctxmig_restore_feed(rs, p, n);
			ctxmig_ir_consume(&w, n);
			*wire += n;
		}
	}
	ret = ret ?: ctxmig_restore_finish(rs);
	t = now() - t0;
	if (ret) {
		fprintf(stderr, "xlate_bench: %s -> %s failed (%d): %s%s\n",
			from->name, to->name, ret, s->error.reason,
			ctxmig_restore_error(rs)->reason);
		exit(1);
	}
	ctxmig_save_fini(s);
	ctxmig_restore_fini(rs);
	ctxmig_ir_writer_fini(&w);
	ctxmig_gpu_fini(src);
	ctxmig_gpu_fini(dst);
	free(src);
	free(dst);
	free(rs);
	free(s);
	return t;
}

int main(void)
{
	static const u8 shifts[] = { 12, 21 };
	const char *env = getenv("BENCH_MAP_BYTES");
	const struct ctxmig_model *a, *b;
	unsigned int i, j, k;
	double base;

	if (env && strtoull(env, NULL, 0))
		map_bytes = ALIGN(strtoull(env, NULL, 0), 2ULL << 20);
	base = stream(map_bytes);
	printf("page-table translation: save + restore of tables mapping %llu MiB,\n"
	       "against streaming %llu MiB of random VRAM through the codec: %.3f s\n\n",
	       (unsigned long long)(map_bytes >> 20),
	       (unsigned long long)(map_bytes >> 20), base);
	printf("%-6s %-12s %-12s %9s %10s %10s\n", "pages", "from", "to",
	       "seconds", "vs stream", "wire B");
	for (k = 0; k < ARRAY_SIZE(shifts); k++)
		for (i = 0; (a = ctxmig_model_at(i)); i++)
			for (j = 0; (b = ctxmig_model_at(j)); j++) {
				u64 wire;
				double t = translate(a, b, shifts[k], &wire);

				printf("%-6s %-12s %-12s %9.3f %10.3f %10llu\n",
				       shifts[k] == 12 ? "4K" : "2M", a->name,
				       b->name, t, t / base,
				       (unsigned long long)wire);
			}
	return 0;
}
