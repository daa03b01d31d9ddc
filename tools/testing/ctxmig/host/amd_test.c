// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the AMD GFX9 and GFX12 style models' native encodings:
 * PM4 packets as amdgpu and Mesa emit them decode to the right neutral
 * commands, and neutral commands encode to what those drivers would
 * write.  The model-independent tests (every op, page tables, identity)
 * run on both from gpu_test.c.
 */
#include <linux/bitfield.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "ctxmig_amd.h"
#include "ctxmig_gpu.h"
#include "ctxmig_model.h"
#include "harness.h"
#include "gpu_util.h"

static const struct ctxmig_model *const amd_models[] = {
	&ctxmig_amd_gfx9_model,
	&ctxmig_amd_gfx12_model,
};

static void on_every_amd(void (*fn)(const struct ctxmig_model *m))
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(amd_models); i++)
		fn(amd_models[i]);
}

/* Decode @n dwords inside a buffer; returns bytes consumed or the error. */
static int dec(struct ctxmig_gpu *gpu, const u32 *dw, u32 n,
	       struct ctxmig_cmd *cmd)
{
	u8 buf[CTXMIG_CMD_MAX_BYTES];
	u32 i;

	for (i = 0; i < n; i++)
		ctxmig_dw_put(buf, i, dw[i]);
	memset(cmd, 0, sizeof(*cmd));
	return gpu->model->decode(gpu, 0, buf, n * 4, 1, cmd);
}

/* Encode @cmd into @dw (room for @room dwords); returns dwords or error. */
static int enc(struct ctxmig_gpu *gpu, const struct ctxmig_cmd *cmd, u32 *dw,
	       u32 room)
{
	u8 *buf = calloc(room, 4);
	int n, i;

	if (!buf)
		return -ENOMEM;
	n = gpu->model->encode(gpu, cmd, buf, room * 4);
	for (i = 0; i < n / 4; i++)
		dw[i] = ctxmig_dw_get(buf, i);
	free(buf);
	return n < 0 ? n : n / 4;
}

static u32 pkt3(u32 op, u32 count)
{
	return FIELD_PREP(AMD_PM4_TYPE, 3) | FIELD_PREP(AMD_PM4_COUNT, count) |
	       FIELD_PREP(AMD_PM4_OPCODE, op);
}

/*
 * A fence interrupt without data is INT_SEL 1 ("interrupt only") with
 * DATA_SEL 0, as soc15d.h and kfd_pm4_headers_ai.h define it; INT_SEL 2
 * waits for a data write that never comes.
 */
static void nop_irq_is_interrupt_only_on(const struct ctxmig_model *m)
{
	struct ctxmig_cmd in = { .op = CTXMIG_OP_NOP, .flags = CTXMIG_CMD_IRQ,
				 .level = 1 }, out;
	struct ctxmig_gpu gpu;
	u32 dw[16];
	int n;

	if (gu_setup(&gpu, m, 64 << 20, 40))
		return;
	n = enc(&gpu, &in, dw, ARRAY_SIZE(dw));
	CHECK_EQ(n, 8);
	CHECK_EQ(dw[0], pkt3(AMD_PKT3_RELEASE_MEM, 6));
	CHECK_EQ(FIELD_GET(AMD_RM_DATA_SEL, dw[2]), AMD_RM_DATA_NONE);
	CHECK_EQ(FIELD_GET(AMD_RM_INT_SEL, dw[2]), 1);
	CHECK_EQ(dec(&gpu, dw, n, &out), 32);
	CHECK_EQ(out.op, CTXMIG_OP_NOP);
	CHECK_EQ(out.flags, CTXMIG_CMD_IRQ);
	ctxmig_gpu_fini(&gpu);
}

TEST(nop_irq_is_interrupt_only)
{
	on_every_amd(nop_irq_is_interrupt_only_on);
}

/*
 * Mesa's cp_dma_max_byte_count() (radeonsi si_cp_dma.c): 32767 bytes per
 * DMA_DATA on GFX11 and later, rounded down to SI_CPDMA_ALIGNMENT (32);
 * GFX9 packets stay below 2 MiB (soc15d.h's 21-bit BYTE_COUNT).
 */
TEST(copy_packets_within_the_generation_limit)
{
	static const struct {
		const struct ctxmig_model *m;
		u32 max;
	} gens[] = {
		{ &ctxmig_amd_gfx9_model, 0x1fffff },
		{ &ctxmig_amd_gfx12_model, 32767 },
	};
	unsigned int g;

	for (g = 0; g < ARRAY_SIZE(gens); g++) {
		struct ctxmig_cmd in = {
			.op = CTXMIG_OP_COPY, .level = 1, .src = 0x100000,
			.dst = 0x800000, .value = (1 << 20) + 4,
		}, out;
		struct ctxmig_gpu gpu;
		u32 *dw = calloc(4096, 4);
		u64 sum = 0, expect_src = in.src, expect_dst = in.dst;
		int n, i, d;

		if (!dw || gu_setup(&gpu, gens[g].m, 64 << 20, 40)) {
			free(dw);
			continue;
		}
		n = enc(&gpu, &in, dw, 4096);
		CHECK(n > 0 && n % 7 == 0, "%s: %d dwords", gens[g].m->name, n);
		for (i = 0; n > 0 && i < n; i += 7) {
			d = dec(&gpu, dw + i, 7, &out);
			CHECK_EQ(d, 28);
			CHECK_EQ(out.op, CTXMIG_OP_COPY);
			CHECK(out.value <= gens[g].max, "%s: %llu bytes",
			      gens[g].m->name, (unsigned long long)out.value);
			CHECK_EQ(out.src, expect_src);
			CHECK_EQ(out.dst, expect_dst);
			expect_src += out.value;
			expect_dst += out.value;
			sum += out.value;
		}
		CHECK_EQ(sum, in.value);
		ctxmig_gpu_fini(&gpu);
		free(dw);
	}
}

/*
 * DMA_DATA addresses selected "using L2" (SRC_SEL / DST_SEL 3, soc15d.h
 * and nvd.h) are memory addresses too: Mesa's si_emit_cp_dma() always
 * selects them on GFX12.  Immediate data and GDS stay illegal.
 */
static void dma_data_selects_on(const struct ctxmig_model *m)
{
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	u32 dw[7] = {
		pkt3(AMD_PKT3_DMA_DATA, 5),
		FIELD_PREP(AMD_DMA_SRC_SEL, 3) | FIELD_PREP(AMD_DMA_DST_SEL, 3) |
		AMD_DMA_CP_SYNC,
		0x1000, 0x1, 0x2000, 0x2, 4096,
	};

	if (gu_setup(&gpu, m, 64 << 20, 40))
		return;
	CHECK_EQ(dec(&gpu, dw, 7, &c), 28);
	CHECK_EQ(c.op, CTXMIG_OP_COPY);
	CHECK_EQ(c.src, 0x100001000ULL);
	CHECK_EQ(c.dst, 0x200002000ULL);
	CHECK_EQ(c.value, 4096);
	dw[1] = FIELD_PREP(AMD_DMA_SRC_SEL, 2);	/* immediate data */
	CHECK_EQ(dec(&gpu, dw, 7, &c), -EOPNOTSUPP);
	dw[1] = FIELD_PREP(AMD_DMA_DST_SEL, 1);	/* GDS */
	CHECK_EQ(dec(&gpu, dw, 7, &c), -EOPNOTSUPP);
	ctxmig_gpu_fini(&gpu);
}

TEST(dma_data_selects)
{
	on_every_amd(dma_data_selects_on);
}

/* BYTE_COUNT is 20:0 in soc15d.h (GFX9) and 25:0 in nvd.h (GFX12). */
TEST(dma_data_byte_count_width)
{
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	u32 dw[7] = {
		pkt3(AMD_PKT3_DMA_DATA, 5), 0, 0x1000, 0, 0x2000, 0,
		(1U << 21) | 8,
	};

	if (!gu_setup(&gpu, &ctxmig_amd_gfx9_model, 64 << 20, 40)) {
		CHECK_EQ(dec(&gpu, dw, 7, &c), 28);
		CHECK_EQ(c.value, 8);
		ctxmig_gpu_fini(&gpu);
	}
	if (!gu_setup(&gpu, &ctxmig_amd_gfx12_model, 64 << 20, 40)) {
		CHECK_EQ(dec(&gpu, dw, 7, &c), 28);
		CHECK_EQ(c.value, (1U << 21) + 8);
		ctxmig_gpu_fini(&gpu);
	}
}

int main(void)
{
	return host_main("amd_test");
}
