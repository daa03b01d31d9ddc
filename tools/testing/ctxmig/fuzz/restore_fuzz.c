// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for ctxmig's restore path: an IR stream, written by any
 * model, restored into a fresh device of any model, whose engine then
 * executes what the restore rebuilt (rings, page tables, indirect buffers),
 * after which the device is saved again and that stream must restore into
 * a fresh device of the same model.  Built from the kernel sources
 * with ASan and UBSan ("make -f tools/testing/ctxmig/host.mk fuzz").
 *
 * Input layout:
 *
 *	[ target ][ control ][ stream ... ]
 *
 * target   modulo the number of models: the model of the device restored
 *          into (ctxmig_model_at()).
 * control  bits 0-5  chunking seed (0: the whole stream in one call;
 *                    odd: each chunk written in place, see
 *                    gu_feed_in_place())
 *          bit 6     FIX_COUNT: rewrite the END record's record count
 *          bit 7     FIX_CRC: rewrite the preamble CRC and the END
 *                    record's CRC32C over the (mutated) bytes before it
 *
 * A mutation almost always breaks a checksum, which the reader checks
 * before the restore applies anything; with FIX_CRC the stream gets past
 * them so that the semantic checks and the translators are reached.  The
 * seeds in corpus-restore/ are streams saved by every model with commands
 * pending (gen_restore_corpus.c), both bits set.
 *
 * The target device has the smallest VRAM (16 MiB, sparse) and 64 KiB of
 * system memory at FUZZ_SYS_BASE, all allocated per input so that nothing
 * carries over between inputs; ASan's leak check covers every input.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <stdlib.h>

#include "ctxmig_gpu.h"
#include "ctxmig_ir.h"
#include "ctxmig_xlate.h"
#include "fuzz_util.h"
#include "../host/gpu_util.h"

#define FUZZ_VRAM	CTXMIG_VRAM_MIN
#define FUZZ_SYS_BASE	0x100000000ULL
#define FUZZ_SYS_SIZE	0x10000U
/* Commands each restored engine may execute. */
#define RUN_BUDGET	64
#define HEADER		2

struct fuzz_sys {
	u8 *mem;
};

static int fuzz_sys_rw(void *priv, u64 addr, void *buf, u32 len, bool write)
{
	struct fuzz_sys *sys = priv;
	u64 off = addr - FUZZ_SYS_BASE;

	if (addr < FUZZ_SYS_BASE || off > FUZZ_SYS_SIZE ||
	    len > FUZZ_SYS_SIZE - off)
		return -EFAULT;
	if (write)
		memcpy(sys->mem + off, buf, len);
	else
		memcpy(buf, sys->mem + off, len);
	return 0;
}

static const struct ctxmig_sysmem_ops fuzz_sys_ops = {
	.rw = fuzz_sys_rw,
};

static unsigned int nmodels(void)
{
	unsigned int n = 0;

	while (ctxmig_model_at(n))
		n++;
	return n;
}

/*
 * Feed @len bytes in chunks chosen by @seed, an odd one writing them in
 * place; the first error sticks.
 */
static int feed(struct ctxmig_restore *rs, const u8 *data, size_t len, u8 seed)
{
	u32 state = seed;
	size_t pos = 0;
	int err = 0;

	while (pos < len) {
		/* The shim's min() evaluates its arguments twice. */
		size_t n = seed ? next_chunk(&state) : len;
		int ret;

		n = min(n, len - pos);
		if (seed & 1)
			ret = gu_feed_in_place(rs, data + pos, n, &state);
		else
			ret = ctxmig_restore_feed(rs, data + pos, n);
		/* Once failed, a stream stays failed with the same error. */
		fuzz_assert(!err || ret == err);
		err = ret;
		pos += n;
	}
	return err;
}

/* A saved stream, gathered from the writer. */
struct fuzz_out {
	u8 *buf;
	size_t len;
	size_t cap;
};

static int out_drain(struct fuzz_out *o, struct ctxmig_ir_writer *w)
{
	const void *p;
	u32 len;

	while ((p = ctxmig_ir_peek(w, &len)) && len) {
		if (o->len + len > o->cap) {
			size_t cap = (o->len + len) * 2;
			u8 *buf = realloc(o->buf, cap);

			if (!buf)
				return -ENOMEM;
			o->buf = buf;
			o->cap = cap;
		}
		memcpy(o->buf + o->len, p, len);
		o->len += len;
		ctxmig_ir_consume(w, len);
	}
	return 0;
}

/*
 * What was saved restores into a fresh device of the same model; only the
 * reserved area may run out, when commands re-encoded once are re-encoded
 * again.
 */
static void check_round_trip(const struct ctxmig_model *m,
			     const struct fuzz_out *o, struct fuzz_sys *sys)
{
	struct ctxmig_restore *rs;
	struct ctxmig_gpu gpu;
	int ret;

	if (ctxmig_gpu_init(&gpu, m, FUZZ_VRAM))
		return;
	gpu.sys = &fuzz_sys_ops;
	gpu.sys_priv = sys;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		goto out;
	ret = ctxmig_restore_init(rs, &gpu);
	ret = ret ?: ctxmig_restore_feed(rs, o->buf, o->len);
	ret = ret ?: ctxmig_restore_finish(rs);
	if (ret && ret != -ENOSPC && ret != -ENOMEM) {
		fprintf(stderr, "%s: its own save does not restore: %d at %llu: %s\n",
			m->name, ret,
			(unsigned long long)ctxmig_restore_error(rs)->offset,
			ctxmig_restore_error(rs)->reason);
		abort();
	}
	ctxmig_restore_fini(rs);
	free(rs);
out:
	ctxmig_gpu_fini(&gpu);
}

/* Let every engine run a little, then save the device and restore that. */
static void run_restored(struct ctxmig_gpu *gpu, struct fuzz_sys *sys)
{
	struct fuzz_out o = {};
	struct ctxmig_ir_writer w;
	struct ctxmig_save *s;
	u32 e;
	int ret;

	for (e = 0; e < CTXMIG_GPU_ENGINES; e++) {
		ret = ctxmig_gpu_run(gpu, e, RUN_BUDGET);
		fuzz_assert(ret <= RUN_BUDGET && ret >= -4095);
		if (ret < 0)
			fuzz_assert(gpu->eng[e].status == CTXMIG_ENG_ERROR &&
				    gpu->eng[e].reason[0]);
	}

	s = calloc(1, sizeof(*s));
	if (!s)
		return;
	if (ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF))
		goto out;
	ret = ctxmig_save_init(s, gpu);
	while (!ret) {
		ret = ctxmig_save_step(s, &w);
		if (ret >= 0 && out_drain(&o, &w))
			ret = -ENOMEM;
	}
	fuzz_assert(ret == CTXMIG_SAVE_DONE ||
		    (ret < 0 && (s->error.reason[0] || w.error.reason[0] ||
				 ret == -ENOMEM)));
	ctxmig_save_fini(s);
	ctxmig_ir_writer_fini(&w);
	if (ret == CTXMIG_SAVE_DONE)
		check_round_trip(gpu->model, &o, sys);
out:
	free(o.buf);
	free(s);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	const struct ctxmig_ir_error *e;
	struct ctxmig_restore *rs = NULL;
	struct fuzz_sys sys = {};
	struct ctxmig_gpu gpu;
	size_t len;
	u8 ctl, *copy = NULL;
	int err, fin;

	if (size < HEADER)
		return 0;
	ctl = data[1];
	len = size - HEADER;
	if (ctxmig_gpu_init(&gpu, ctxmig_model_at(data[0] % nmodels()),
			    FUZZ_VRAM))
		return 0;
	sys.mem = calloc(1, FUZZ_SYS_SIZE);
	rs = calloc(1, sizeof(*rs));
	copy = malloc(len ? len : 1);
	if (!sys.mem || !rs || !copy)
		goto out_gpu;
	gpu.sys = &fuzz_sys_ops;
	gpu.sys_priv = &sys;
	memcpy(copy, data + HEADER, len);
	if (ctl & (FIX_CRC | FIX_COUNT))
		fix_stream(copy, len, ctl);

	if (ctxmig_restore_init(rs, &gpu))
		goto out_gpu;
	err = feed(rs, copy, len, ctl & SEED_MASK);
	/* Feeding nothing changes nothing. */
	fuzz_assert(ctxmig_restore_feed(rs, copy, 0) == err);
	fin = ctxmig_restore_finish(rs);
	e = ctxmig_restore_error(rs);
	fuzz_assert(fin <= 0 && fin >= -4095);
	fuzz_assert(!err || fin == err);
	fuzz_assert(e->err == fin);
	fuzz_assert(memchr(e->reason, '\0', sizeof(e->reason)));
	if (fin)
		fuzz_assert(e->reason[0]);
	else	/* one more than the stream's count, and told so */
		fuzz_assert(gpu.migrated == rs->src_migrated + 1 &&
			    (gpu.eng[0].irq_pending & CTXMIG_IRQ_MIGRATED));
	ctxmig_restore_fini(rs);
	if (!fin)
		run_restored(&gpu, &sys);

out_gpu:
	ctxmig_gpu_fini(&gpu);
	free(copy);
	free(rs);
	free(sys.mem);
	return 0;
}
