// SPDX-License-Identifier: GPL-2.0
/*
 * Write the seed corpus of the restore fuzzer (restore_fuzz.c): streams
 * saved by a device of every model with commands pending, each prefixed
 * with a target-model byte and a control byte, into the directory given as
 * the only argument ("make -f tools/testing/ctxmig/host.mk fuzz-corpus"
 * regenerates tools/testing/ctxmig/fuzz/corpus-restore).  The devices are
 * set up by the host tests' guest driver (host/gpu_util.h).  The output is
 * deterministic.
 *
 * Two workloads per source model:
 *
 *   ring  the default mapping, commands pending in the ring, none run.
 *   ib    also a 2 MiB-page mapping and a system-memory mapping, and
 *         commands in an indirect buffer (nested one deeper where the
 *         model can); two commands run, so the engine stops inside it.
 *
 * Each stream goes to the same model and to the next two models; every
 * seed is checked to restore into its target before it is written.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxmig_gpu.h"
#include "ctxmig_xlate.h"
#include "fuzz_util.h"
#include "../host/gpu_util.h"

/* As restore_fuzz.c: the smallest VRAM, system memory at 4 GiB. */
#define SEED_VRAM	CTXMIG_VRAM_MIN
#define SEED_SYS_BASE	0x100000000ULL
#define SEED_TARGETS	3

static const struct ctxmig_cmd ring_cmds[] = {
	{ .op = CTXMIG_OP_WRITE32, .dst = 0x200000, .value = 0xdeadbeef },
	{ .op = CTXMIG_OP_WRITE64, .dst = 0x200008,
	  .value = 0x1122334455667788ULL },
	{ .op = CTXMIG_OP_COPY, .src = 0x200000, .dst = 0x300000, .value = 16 },
	{ .op = CTXMIG_OP_FENCE, .dst = 0x200100, .value = 7,
	  .flags = CTXMIG_CMD_IRQ },
	{ .op = CTXMIG_OP_NOP, .flags = CTXMIG_CMD_IRQ },
	{ .op = CTXMIG_OP_FENCE, .dst = 0x200108, .value = 1ULL << 40,
	  .flags = CTXMIG_CMD_FENCE64 },
};

/* Run inside a buffer: the huge mapping, system memory, a fence. */
static const struct ctxmig_cmd ib_cmds[] = {
	{ .op = CTXMIG_OP_WRITE32, .dst = 0x40000010, .value = 0x5eed },
	{ .op = CTXMIG_OP_COPY, .src = 0x40000010, .dst = 0x80000020,
	  .value = 4 },
	{ .op = CTXMIG_OP_WRITE64, .dst = 0x80000100, .value = 42 },
	{ .op = CTXMIG_OP_COPY, .src = 0x200000, .dst = 0x40100000,
	  .value = 5000 },
	{ .op = CTXMIG_OP_FENCE, .dst = 0x200200, .value = 9,
	  .flags = CTXMIG_CMD_IRQ },
};

static const struct ctxmig_cmd inner_cmds[] = {
	{ .op = CTXMIG_OP_WRITE32, .dst = 0x200300, .value = 3 },
	{ .op = CTXMIG_OP_NOP },
};

/* Encode commands at level 0 straight into the ring. */
static int ring_put(struct ctxmig_gpu *gpu, const struct ctxmig_cmd *c, u32 n)
{
	u8 buf[1024];
	u32 len = 0, i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = gpu->model->encode(gpu, &c[i], buf + len,
					 sizeof(buf) - len);
		if (ret < 0)
			return ret;
		len += ret;
	}
	return gu_ring_append(gpu, buf, len);
}

static int workload_ring(struct ctxmig_gpu *gpu)
{
	return gu_submit(gpu, ring_cmds, ARRAY_SIZE(ring_cmds));
}

static int workload_ib(struct ctxmig_gpu *gpu)
{
	const struct ctxmig_mapping huge = {
		.va = 0x40000000, .size = 2 << 20, .addr = 0x800000,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE,
		.cache = CTXMIG_CACHE_WC, .page_shift = 21,
	};
	const struct ctxmig_mapping sys = {
		.va = 0x80000000, .size = 0x10000, .addr = SEED_SYS_BASE,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE |
			 CTXMIG_MAP_SYSMEM | CTXMIG_MAP_SNOOP,
		.page_shift = 12,
	};
	struct ctxmig_cmd cmds[ARRAY_SIZE(ib_cmds) + 1], ib;
	u32 n = ARRAY_SIZE(ib_cmds);
	int ret;

	ret = gu_map(gpu, &huge);
	ret = ret ?: gu_map(gpu, &sys);
	if (ret)
		return ret;
	memcpy(cmds, ib_cmds, sizeof(ib_cmds));
	/* A buffer of level-2 commands, called from the level-1 one. */
	if (gpu->model->ib_levels > 1) {
		ret = gu_make_ib(gpu, inner_cmds, ARRAY_SIZE(inner_cmds), 2,
				 &cmds[n++]);
		if (ret)
			return ret;
	}
	ret = gu_make_ib(gpu, cmds, n, 1, &ib);
	if (ret)
		return ret;
	/* A GPFIFO holds buffers only; other rings get a command around it. */
	if (gpu->model->ring_ib_only) {
		ret = ring_put(gpu, &ib, 1);
	} else {
		ret = ring_put(gpu, &ring_cmds[0], 1);
		ret = ret ?: ring_put(gpu, &ib, 1);
		ret = ret ?: ring_put(gpu, &ring_cmds[3], 1);
	}
	if (ret)
		return ret;
	/* Stop inside the buffer, one command into it. */
	ret = ctxmig_gpu_run(gpu, 0, gpu->model->ring_ib_only ? 2 : 3);
	if (ret < 0)
		return ret;
	return gpu->eng[0].depth ? 0 : -EINVAL;
}

static const struct workload {
	const char *name;
	int (*run)(struct ctxmig_gpu *gpu);
} workloads[] = {
	{ "ring", workload_ring },
	{ "ib", workload_ib },
};

static unsigned int nmodels(void)
{
	unsigned int n = 0;

	while (ctxmig_model_at(n))
		n++;
	return n;
}

/* Restore @st into a fresh device of @m, as the fuzzer will. */
static int check_restore(const struct ctxmig_model *m,
			 const struct gu_stream *st, char *why)
{
	struct ctxmig_gpu gpu;
	int ret;

	ret = ctxmig_gpu_init(&gpu, m, SEED_VRAM);
	if (ret) {
		snprintf(why, CTXMIG_IR_REASON_LEN, "device: %d", ret);
		return ret;
	}
	ret = gu_restore(&gpu, st, 0, why);
	ctxmig_gpu_fini(&gpu);
	return ret;
}

static int write_seed(const char *dir, const char *name, u8 target, u8 ctl,
		      const struct gu_stream *st)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fputc(target, f) == EOF || fputc(ctl, f) == EOF ||
	    fwrite(st->buf, 1, st->len, f) != st->len || fclose(f)) {
		perror(path);
		return -EIO;
	}
	printf("%s: %zu bytes\n", path, st->len + 2);
	return 0;
}

/* Save one workload on @src and write it for SEED_TARGETS targets. */
static int seed_workload(const char *dir, unsigned int src,
			 const struct workload *wl, unsigned int k)
{
	const struct ctxmig_model *m = ctxmig_model_at(src);
	struct gu_stream st = {};
	char why[CTXMIG_IR_REASON_LEN] = "", name[128];
	struct ctxmig_gpu gpu;
	unsigned int t, n = nmodels();
	int ret;

	ret = gu_setup(&gpu, m, SEED_VRAM, 40);
	if (ret) {
		fprintf(stderr, "%s: setup: %d\n", m->name, ret);
		return ret;
	}
	ret = wl->run(&gpu);
	if (ret)
		snprintf(why, sizeof(why), "workload: %d %s", ret,
			 gpu.eng[0].reason);
	ret = ret ?: gu_save(&gpu, &st, why);
	ctxmig_gpu_fini(&gpu);
	for (t = 0; t < SEED_TARGETS && !ret; t++) {
		unsigned int dst = (src + t) % n;
		/* Both fixes (no-ops on a valid stream), varied chunking. */
		u8 ctl = FIX_CRC | FIX_COUNT | ((src * 7 + k * 3 + t) & SEED_MASK);

		ret = check_restore(ctxmig_model_at(dst), &st, why);
		if (ret)
			break;
		snprintf(name, sizeof(name), "%s-%s-to-%s.bin", m->name,
			 wl->name, ctxmig_model_at(dst)->name);
		ret = write_seed(dir, name, dst, ctl, &st);
	}
	if (ret)
		fprintf(stderr, "%s %s: %d: %s\n", m->name, wl->name, ret, why);
	gu_stream_free(&st);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned int i, k;
	int ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (i = 0; ctxmig_model_at(i); i++)
		for (k = 0; k < ARRAY_SIZE(workloads); k++)
			if (seed_workload(argv[1], i, &workloads[k], k))
				ret = 1;
	return ret;
}
