// SPDX-License-Identifier: GPL-2.0
/*
 * Write the seed corpus of the IR reader fuzzer: small valid IR streams
 * made with the writer, one file each, into the directory given as the only
 * argument ("make -f tools/testing/ctxmig/host.mk fuzz-corpus" regenerates
 * tools/testing/ctxmig/fuzz/corpus).  The output is deterministic.
 *
 * The seeds are plain streams without the fuzzer's control trailer (see
 * ir_reader_fuzz.c), so ctxmig-dump decodes every one of them.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxmig_gpu_types.h"
#include "ctxmig_ir.h"

#define SEED_MAX	8192

static const struct ctxmig_caps caps_one = {
	.model = CTXMIG_MODEL_INTEL_GEN12,
	.features = CTXMIG_FEAT_FENCE_IRQ,
	.vram_size = 16ULL << 20,
	.va_bits = 48,
	.num_engines = 1,
	.page_sizes = BIT(12),
};

static const struct ctxmig_caps caps_two = {
	.model = CTXMIG_MODEL_AMD_GFX9,
	.features = CTXMIG_FEAT_ALL,
	.vram_size = 256ULL << 20,
	.va_bits = 48,
	.num_engines = 2,
	.page_sizes = BIT(12) | BIT(16) | BIT(21) | BIT(30),
};

static const struct ctxmig_caps caps_eight = {
	.model = CTXMIG_MODEL_NV_HOPPER,
	.features = CTXMIG_FEAT_ALL,
	.vram_size = 1ULL << 30,
	.va_bits = 64,
	.num_engines = CTXMIG_MAX_ENGINES,
	.page_sizes = BIT(12) | BIT(21),
};

static void identity(struct ctxmig_identity *id, const struct ctxmig_caps *caps)
{
	memset(id, 0, sizeof(*id));
	id->pci_vendor = CTXMIG_PCI_VENDOR_ID;
	id->pci_device = CTXMIG_PCI_DEVICE_ID;
	id->revision = CTXMIG_PCI_REVISION;
	id->model = caps->model;
	snprintf(id->name, sizeof(id->name), "%s",
		 ctxmig_ir_model_name(caps->model));
}

/* Preamble, DEVICE and one plain ENGINE per engine of @caps. */
static int head(struct ctxmig_ir_writer *w, const struct ctxmig_caps *caps,
		bool fence)
{
	struct ctxmig_identity id;
	unsigned int i;
	int err;

	identity(&id, caps);
	err = ctxmig_ir_put_preamble(w, caps);
	if (!err)
		err = ctxmig_ir_put_device(w, &id, caps);
	for (i = 0; i < caps->num_engines && !err; i++) {
		struct ctxmig_ring ring = {
			.engine = i, .flags = CTXMIG_RING_ENABLED,
			.base = 0x100000 + i * 0x10000, .size = 4096,
			.head = 16 * i, .tail = 64 + 16 * i,
		};
		struct ctxmig_fence f = {
			.emitted = 10 + i, .signalled = 8 + i,
			.addr = 0x300000 + 8 * i,
		};
		struct ctxmig_irq irq = {
			.enabled = CTXMIG_IRQ_ALL, .pending = CTXMIG_IRQ_FENCE,
		};

		err = ctxmig_ir_put_engine(w, &ring, fence ? &f : NULL,
					   fence ? &irq : NULL);
	}
	return err;
}

static int build_minimal(struct ctxmig_ir_writer *w)
{
	int err = head(w, &caps_one, false);

	return err ?: ctxmig_ir_put_end(w);
}

static int build_cmds(struct ctxmig_ir_writer *w)
{
	static const struct ctxmig_cmd cmds[] = {
		{ .engine = 0, .op = CTXMIG_OP_NOP },
		{ .engine = 0, .op = CTXMIG_OP_WRITE32, .dst = 0x400000,
		  .value = 0xdeadbeef },
		{ .engine = 0, .op = CTXMIG_OP_WRITE64, .dst = 0x400008,
		  .value = 0x0123456789abcdefULL },
		{ .engine = 0, .op = CTXMIG_OP_COPY, .dst = 0x500000,
		  .src = 0x400000, .value = 4096 },
		{ .engine = 0, .op = CTXMIG_OP_IB, .src = 0x600000,
		  .value = 256, .dst = 64 },
		{ .engine = 0, .op = CTXMIG_OP_WRITE32, .level = 1,
		  .dst = 0x400010, .value = 7 },
		{ .engine = 0, .op = CTXMIG_OP_IB, .level = 1, .src = 0x610000,
		  .value = 64 },
		{ .engine = 0, .op = CTXMIG_OP_IB, .level = 2, .src = 0x620000,
		  .value = 32 },
		{ .engine = 0, .op = CTXMIG_OP_NOP, .level = 3 },
		{ .engine = 0, .op = CTXMIG_OP_FENCE, .level = 1,
		  .flags = CTXMIG_CMD_IRQ | CTXMIG_CMD_FENCE64,
		  .dst = 0x300000, .value = 1ULL << 40 },
		{ .engine = 0, .op = CTXMIG_OP_FENCE, .flags = CTXMIG_CMD_IRQ,
		  .dst = 0x300000, .value = 42 },
		{ .engine = 1, .op = CTXMIG_OP_NOP },
		{ .engine = 1, .op = CTXMIG_OP_FENCE, .dst = 0x300008,
		  .value = 11 },
	};
	unsigned int i;
	int err = head(w, &caps_two, true);

	for (i = 0; i < ARRAY_SIZE(cmds) && !err; i++)
		err = ctxmig_ir_put_cmd(w, &cmds[i]);
	return err ?: ctxmig_ir_put_end(w);
}

static int build_mappings(struct ctxmig_ir_writer *w)
{
	static const struct ctxmig_mapping maps[] = {
		{ .va = 0x100000, .size = 0x100000, .addr = 0x100000,
		  .flags = CTXMIG_MAP_READ, .cache = CTXMIG_CACHE_UNCACHED,
		  .page_shift = 12 },
		{ .va = 0x200000, .size = 0x600000, .addr = 0x200000,
		  .flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE |
			   CTXMIG_MAP_EXEC,
		  .cache = CTXMIG_CACHE_CACHED, .page_shift = 21 },
		{ .va = 0x80000000ULL, .size = 0x10000, .addr = 0x7fff0000ULL,
		  .flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE |
			   CTXMIG_MAP_SYSMEM | CTXMIG_MAP_SNOOP,
		  .cache = CTXMIG_CACHE_WC, .page_shift = 16 },
		/* 1 GiB pages of system memory: more than the VRAM. */
		{ .va = 0x400000000ULL, .size = 0x40000000ULL, .addr = 0,
		  .flags = CTXMIG_MAP_WRITE | CTXMIG_MAP_SYSMEM,
		  .cache = CTXMIG_CACHE_DEFAULT, .page_shift = 30 },
	};
	unsigned int i;
	int err = head(w, &caps_two, false);

	for (i = 0; i < ARRAY_SIZE(maps) && !err; i++)
		err = ctxmig_ir_put_mapping(w, &maps[i]);
	return err ?: ctxmig_ir_put_end(w);
}

/* Data page, zero page, a short tail: VRAM, VRAM_ZERO, padded VRAM. */
static int build_vram(struct ctxmig_ir_writer *w)
{
	static u8 chunk[2 * CTXMIG_IR_VRAM_PAGE_SIZE + 100];
	unsigned int i;
	int err = head(w, &caps_one, true);

	for (i = 0; i < CTXMIG_IR_VRAM_PAGE_SIZE; i++)
		chunk[i] = (u8)(i * 31 + 7);
	for (i = 0; i < 100; i++)
		chunk[2 * CTXMIG_IR_VRAM_PAGE_SIZE + i] = (u8)(i + 1);
	if (!err)
		err = ctxmig_ir_put_vram(w, 0x10000, chunk, sizeof(chunk));
	if (!err)
		err = ctxmig_ir_put_vram_zero(w, 0x100000, 0x200000);
	/* A later record for the same bytes supersedes the earlier one. */
	if (!err)
		err = ctxmig_ir_put_vram(w, 0x10000, chunk + 2 *
					 CTXMIG_IR_VRAM_PAGE_SIZE, 100);
	/* The last page of VRAM, all zero. */
	if (!err)
		err = ctxmig_ir_put_vram_zero(w, caps_one.vram_size -
					      CTXMIG_IR_VRAM_PAGE_SIZE,
					      CTXMIG_IR_VRAM_PAGE_SIZE);
	return err ?: ctxmig_ir_put_end(w);
}

/* Optional records of a later minor version, leaf and container. */
static int build_unknown(struct ctxmig_ir_writer *w)
{
	static const char note[] = "from a newer writer";
	u64 v = 0x1122334455667788ULL;
	int err = head(w, &caps_two, false);

	if (!err)
		err = ctxmig_ir_put(w, 0x0123, 0, note, sizeof(note));
	if (!err)
		err = ctxmig_ir_nest_start(w, 0x0200);
	if (!err)
		err = ctxmig_ir_put(w, 0x0201, 0, &v, sizeof(v));
	if (!err)
		err = ctxmig_ir_put(w, CTXMIG_IR_CMD, CTXMIG_IR_F_CRITICAL, &v,
				    sizeof(v));
	if (!err)
		err = ctxmig_ir_nest_end(w);
	if (!err)
		err = ctxmig_ir_put(w, 0x7fff, 0, note, 0);
	return err ?: ctxmig_ir_put_end(w);
}

/* Every record type, eight engines, 64-bit VA space. */
static int build_everything(struct ctxmig_ir_writer *w)
{
	static const struct ctxmig_cmd cmd = {
		.engine = 7, .op = CTXMIG_OP_COPY, .dst = 0xffffffff00000000ULL,
		.src = 0x1000, .value = 0x1000,
	};
	static const struct ctxmig_mapping map = {
		.va = 0xffff800000000000ULL, .size = 0x200000, .addr = 0x200000,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE,
		.cache = CTXMIG_CACHE_CACHED, .page_shift = 21,
	};
	static u8 page[CTXMIG_IR_VRAM_PAGE_SIZE];
	int err = head(w, &caps_eight, true);

	memset(page, 0xa5, sizeof(page));
	if (!err)
		err = ctxmig_ir_put_cmd(w, &cmd);
	if (!err)
		err = ctxmig_ir_put_mapping(w, &map);
	if (!err)
		err = ctxmig_ir_put_vram(w, caps_eight.vram_size - sizeof(page),
					 page, sizeof(page));
	if (!err)
		err = ctxmig_ir_put_vram_zero(w, 0, 1ULL << 29);
	return err ?: ctxmig_ir_put_end(w);
}

static const struct seed {
	const char *name;
	int (*build)(struct ctxmig_ir_writer *w);
} seeds[] = {
	{ "01-minimal.ir", build_minimal },
	{ "02-engines-cmds.ir", build_cmds },
	{ "03-mappings.ir", build_mappings },
	{ "04-vram-zero.ir", build_vram },
	{ "05-unknown-optional.ir", build_unknown },
	{ "06-everything.ir", build_everything },
};

/* Build one seed, check it with the reader, write it to @dir. */
static int write_seed(const char *dir, const struct seed *s)
{
	static u8 out[SEED_MAX];
	struct ctxmig_ir_writer w;
	struct ctxmig_ir_reader r;
	char path[4096];
	size_t len = 0;
	const void *p;
	FILE *f;
	u32 n;
	int err;

	err = ctxmig_ir_writer_init(&w, CTXMIG_IR_WRITER_MIN_BUF);
	if (err)
		return err;
	err = s->build(&w);
	p = ctxmig_ir_peek(&w, &n);
	if (!err && n > sizeof(out))
		err = -E2BIG;
	if (!err) {
		memcpy(out, p, n);
		len = n;
		ctxmig_ir_consume(&w, n);
	}
	if (err)
		fprintf(stderr, "%s: writer: %d %s\n", s->name, err,
			w.error.reason);
	ctxmig_ir_writer_fini(&w);
	if (err)
		return err;

	if (ctxmig_ir_reader_init(&r, NULL, NULL))
		return -ENOMEM;
	err = ctxmig_ir_feed(&r, out, len);
	if (!err)
		err = ctxmig_ir_reader_finish(&r);
	if (err)
		fprintf(stderr, "%s: reader: %d at %llu: %s\n", s->name, err,
			(unsigned long long)r.error.offset, r.error.reason);
	ctxmig_ir_reader_fini(&r);
	if (err)
		return err;

	snprintf(path, sizeof(path), "%s/%s", dir, s->name);
	f = fopen(path, "wb");
	if (!f || fwrite(out, 1, len, f) != len || fclose(f)) {
		perror(path);
		return -EIO;
	}
	printf("%s: %zu bytes\n", path, len);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int i;
	int ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (i = 0; i < ARRAY_SIZE(seeds); i++)
		if (write_seed(argv[1], &seeds[i]))
			ret = 1;
	return ret;
}
