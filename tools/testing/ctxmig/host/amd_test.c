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

#include "../../../../drivers/gpu/ctxmig/tests/ctxmig_vectors.c"

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

/*
 * BYTE_COUNT is 25:0: nvd.h (GFX12) and Mesa's S_415_BYTE_COUNT_GFX9
 * (GFX9; soc15d.h's comment keeps GFX7's 20:0), whose copies of more than
 * 2 MiB per packet would otherwise be misread.  The command bits above
 * (RAW_WAIT) are not part of it.
 */
static void dma_data_byte_count_width_on(const struct ctxmig_model *m)
{
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	u32 dw[7] = {
		pkt3(AMD_PKT3_DMA_DATA, 5), 0, 0x1000, 0, 0x2000, 0,
		AMD_DMA_RAW_WAIT | (1U << 25) | 8,
	};

	if (gu_setup(&gpu, m, 64 << 20, 40))
		return;
	CHECK_EQ(dec(&gpu, dw, 7, &c), 28);
	CHECK_EQ(c.value, (1U << 25) + 8);
	ctxmig_gpu_fini(&gpu);
}

TEST(dma_data_byte_count_width)
{
	on_every_amd(dma_data_byte_count_width_on);
}

/* The GFX hub registers amdgpu programs for @m. */
static const struct vec_amdgpu_vmhub *hub_of(const struct ctxmig_model *m)
{
	return m == &ctxmig_amd_gfx12_model ? &vec_gfxhub_v12_0 :
					      &vec_gfxhub_v1_0;
}

/* The next command of @r at ring level; its bytes in @pos (dwords). */
static int dec_vec(struct ctxmig_gpu *gpu, const struct vec_ring *r,
		   u32 *pos, struct ctxmig_cmd *cmd)
{
	struct vec_ring part = {
		.dw = r->dw + *pos,
		.n = min_t(u32, r->n - *pos, CTXMIG_CMD_MAX_BYTES / 4),
	};
	u8 buf[CTXMIG_CMD_MAX_BYTES];
	int ret;

	vec_bytes(&part, buf);
	memset(cmd, 0, sizeof(*cmd));
	ret = gpu->model->decode(gpu, 0, buf, part.n * 4, 0, cmd);
	if (ret > 0)
		*pos += ret / 4;
	return ret;
}

/*
 * amdgpu's own ring words: the fence (gfx_v9_0_ring_emit_fence(),
 * gfx_v12_0_ring_emit_fence()), an IB without INDIRECT_BUFFER_VALID
 * (..._ring_emit_ib_gfx()), the VM flush of the page tables in use
 * (..._ring_emit_vm_flush()), and Mesa's CP DMA copy; then the same run.
 */
static void amdgpu_ring_words_on(const struct ctxmig_model *m)
{
	bool gfx12 = m == &ctxmig_amd_gfx12_model;
	const struct ctxmig_amd_gen *g = m->data;
	u32 dw[256];
	struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	u64 pd;
	u32 pos = 0, i;
	u8 *bytes;

	if (gu_setup(&gpu, m, 64 << 20, 40))
		return;
	ctxmig_gpu_mmio_write(&gpu, m->mmio_size - CTXMIG_CTL_SIZE +
			      CTXMIG_CTL_IRQ_ENABLE, CTXMIG_IRQ_ALL);
	pd = (u64)*ctxmig_reg(&gpu, g->vm_pt_base_hi) << 32 |
	     *ctxmig_reg(&gpu, g->vm_pt_base_lo);
	vec_amdgpu_ring_emit_vm_flush(&r, hub_of(m), 0, pd, 0);
	vec_amdgpu_ring_emit_ib_gfx(&r, 0x180000, 16, 0);
	vec_si_cp_dma_copy_buffer(&r, gfx12, false, 0x300000, 0x200000,
				  40000);
	(gfx12 ? vec_gfx_v12_0_ring_emit_fence : vec_gfx_v9_0_ring_emit_fence)(&r, 0x200100, 5,
						     VEC_AMDGPU_FENCE_FLAG_INT);
	(gfx12 ? vec_gfx_v12_0_ring_emit_fence : vec_gfx_v9_0_ring_emit_fence)(&r, 0x200108,
						     1ULL << 40,
						     VEC_AMDGPU_FENCE_FLAG_64BIT);
	CHECK(!r.overflow, "vector overflow");

	for (i = 0; i < 4; i++) {	/* WRITE_DATA x2, WAIT_REG_MEM, PFP */
		CHECK(dec_vec(&gpu, &r, &pos, &c) > 0, "%s: flush %u",
		      m->name, i);
		CHECK(c.op == CTXMIG_OP_NOP && !c.flags, "%s: flush %u op %u",
		      m->name, i, c.op);
	}
	CHECK_EQ(dec_vec(&gpu, &r, &pos, &c), 16);
	CHECK(c.op == CTXMIG_OP_IB && c.src == 0x180000 && c.value == 64,
	      "%s: IB", m->name);
	for (i = 0; i < 40000; i += c.value) {
		CHECK_EQ(dec_vec(&gpu, &r, &pos, &c), 28);
		CHECK(c.op == CTXMIG_OP_COPY && c.src == 0x200000 + i &&
		      c.dst == 0x300000 + i, "%s: copy at %u", m->name, i);
		if (c.op != CTXMIG_OP_COPY || !c.value)
			break;
	}
	CHECK_EQ(dec_vec(&gpu, &r, &pos, &c), 32);
	CHECK(c.op == CTXMIG_OP_FENCE && c.dst == 0x200100 && c.value == 5 &&
	      c.flags == CTXMIG_CMD_IRQ, "%s: fence", m->name);
	CHECK_EQ(dec_vec(&gpu, &r, &pos, &c), 32);
	CHECK(c.op == CTXMIG_OP_FENCE && c.value == 1ULL << 40 &&
	      c.flags == CTXMIG_CMD_FENCE64, "%s: fence64", m->name);
	CHECK_EQ(pos, r.n);

	/* The same words, run: the IB holds a NOP packet of 16 dwords. */
	{
		u32 nop[16] = { VEC_PACKET3(0x10, 14) };
		struct vec_ring ib = { .dw = nop, .n = 16, .room = 16 };
		u8 ibb[64];

		vec_bytes(&ib, ibb);
		CHECK_EQ(ctxmig_gpu_poke(&gpu, 0x180000, ibb, 64), 0);
	}
	bytes = malloc(r.n * 4);
	vec_bytes(&r, bytes);
	CHECK_EQ(ctxmig_gpu_poke(&gpu, 0x200000, "0123456789", 10), 0);
	CHECK_EQ(gu_ring_append(&gpu, bytes, r.n * 4), 0);
	CHECK(ctxmig_gpu_run(&gpu, 0, 100) > 0, "%s: %s", m->name,
	      gpu.eng[0].reason);
	CHECK_EQ(gpu.eng[0].status, CTXMIG_ENG_IDLE);
	CHECK_EQ(gu_read32(&gpu, 0x300004), gu_read32(&gpu, 0x200004));
	CHECK_EQ(gu_read32(&gpu, 0x200100), 5);
	CHECK_EQ(gu_read64(&gpu, 0x200108), 1ULL << 40);
	CHECK_EQ(gpu.eng[0].irqs, 1);
	free(bytes);

	/* A flush to other page tables would switch them: not emulated. */
	r.n = 0;
	vec_amdgpu_ring_emit_vm_flush(&r, hub_of(m), 0, pd + 0x1000, 0);
	pos = 0;
	CHECK_EQ(dec_vec(&gpu, &r, &pos, &c), -EOPNOTSUPP);
	ctxmig_gpu_fini(&gpu);
}

TEST(amdgpu_ring_words)
{
	on_every_amd(amdgpu_ring_words_on);
}

int main(void)
{
	return host_main("amd_test");
}
