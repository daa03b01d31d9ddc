// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the Intel Gen12 style model's native encodings: command
 * words as the kernel's i915 and xe drivers emit them decode to the right
 * neutral commands, neutral commands encode to the documented words, PPGTT
 * entry bits, and the ring and PDP registers.  The model-independent tests
 * (every op, page tables, identity) run on it from gpu_test.c.
 */
#include <linux/bitfield.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "ctxmig_gpu.h"
#include "ctxmig_intel_regs.h"
#include "harness.h"
#include "gpu_util.h"

#include "../../../../drivers/gpu/ctxmig/tests/ctxmig_vectors.c"

static const struct ctxmig_model *intel(void)
{
	return ctxmig_model_find(CTXMIG_MODEL_INTEL_GEN12);
}

/* Decode @n dwords; returns bytes consumed or the error. */
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

/* Encode @cmd into @dw; returns dwords written or the error. */
static int enc(struct ctxmig_gpu *gpu, const struct ctxmig_cmd *cmd, u32 *dw,
	       u32 room)
{
	u8 buf[256];
	int n, i;

	n = gpu->model->encode(gpu, cmd, buf, min_t(u32, room * 4,
						    sizeof(buf)));
	for (i = 0; i < n / 4; i++)
		dw[i] = ctxmig_dw_get(buf, i);
	return n < 0 ? n : n / 4;
}

static int setup(struct ctxmig_gpu *gpu)
{
	const struct ctxmig_model *m = intel();
	int ret;

	CHECK(m, "intel-gen12 not registered");
	if (!m)
		return -ENODEV;
	CHECK(!strcmp(m->name, "intel-gen12"), "%s", m->name);
	/* The guest gets one VA bit less than the model's 48: the window. */
	ret = gu_setup(gpu, m, 64 << 20, 47);
	CHECK(!ret, "setup failed (%d)", ret);
	return ret;
}

TEST(constants_match_the_kernel)
{
	CHECK_EQ(MI_NOOP, 0x00000000);
	CHECK_EQ(MI_USER_INTERRUPT, 0x01000000);
	CHECK_EQ(MI_ARB_CHECK, 0x02800000);
	CHECK_EQ(MI_BATCH_BUFFER_END, 0x05000000);
	CHECK_EQ(MI_STORE_DWORD_IMM_GEN4, 0x10000002);
	CHECK_EQ(MI_STORE_QWORD_IMM_GEN8, 0x10200003);
	CHECK_EQ(MI_FLUSH_DW | MI_FLUSH_DW_BASE_LEN, 0x13000001);
	CHECK_EQ(MI_COPY_MEM_MEM, 0x17000003);
	CHECK_EQ(MI_BATCH_BUFFER_START_GEN8 | MI_BATCH_PPGTT_HSW, 0x18800101);
	CHECK_EQ(MEM_COPY_CMD, 0x56800000);
	CHECK_EQ(RING_TAIL(RENDER_RING_BASE), 0x2030);
	CHECK_EQ(RING_HEAD(RENDER_RING_BASE), 0x2034);
	CHECK_EQ(RING_START(RENDER_RING_BASE), 0x2038);
	CHECK_EQ(RING_CTL(RENDER_RING_BASE), 0x203c);
	CHECK_EQ(RING_START_UDW(RENDER_RING_BASE), 0x2048);
	CHECK_EQ(GEN8_RING_PDP_LDW(RENDER_RING_BASE, 0), 0x2270);
	CHECK_EQ(GEN8_RING_PDP_UDW(RENDER_RING_BASE, 0), 0x2274);
	CHECK_EQ(intel()->mmio_size, 64 * 1024);
	CHECK(GEN8_RING_PDP_UDW(RENDER_RING_BASE, 0) <
	      intel()->mmio_size - CTXMIG_CTL_SIZE, "registers in ctl page");
}

/* gpu_test.c skips a model its setup fails on: make sure it does not. */
TEST(gpu_test_setup_works)
{
	struct ctxmig_gpu gpu;

	CHECK_EQ(gu_setup(&gpu, intel(), 64 << 20, 40), 0);
	ctxmig_gpu_fini(&gpu);
}

TEST(decode_one_dword_commands)
{
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	u32 dw[2];

	if (setup(&gpu))
		return;
	dw[0] = MI_NOOP;
	CHECK_EQ(dec(&gpu, dw, 1, &c), 4);
	CHECK(c.op == CTXMIG_OP_NOP && !c.flags, "noop %u %x", c.op, c.flags);
	dw[0] = MI_USER_INTERRUPT;
	CHECK_EQ(dec(&gpu, dw, 1, &c), 4);
	CHECK(c.op == CTXMIG_OP_NOP && c.flags == CTXMIG_CMD_IRQ, "irq %x",
	      c.flags);
	dw[0] = MI_BATCH_BUFFER_END;
	CHECK_EQ(dec(&gpu, dw, 1, &c), 4);
	CHECK(c.op == CTXMIG_OP_NOP && !c.flags, "bb end");
	dw[0] = MI_ARB_CHECK;
	CHECK_EQ(dec(&gpu, dw, 1, &c), 4);
	CHECK_EQ(c.op, CTXMIG_OP_NOP);
	/* xe's emit_user_interrupt() re-enables arbitration after it. */
	dw[0] = MI_ARB_ON_OFF | MI_ARB_ENABLE;
	CHECK_EQ(dec(&gpu, dw, 1, &c), 4);
	CHECK_EQ(c.op, CTXMIG_OP_NOP);
	/* MI_NOOP with an identification number (bit 22): a NOP. */
	dw[0] = MI_NOOP | BIT(22) | 5;
	dw[1] = 0x18800101;
	CHECK_EQ(dec(&gpu, dw, 2, &c), 4);
	CHECK_EQ(c.op, CTXMIG_OP_NOP);
	CHECK_EQ(dec(&gpu, dw, 1, &c), 4);
	CHECK_EQ(dec(&gpu, dw, 0, &c), -ENODATA);
	ctxmig_gpu_fini(&gpu);
}

TEST(decode_store_data_imm)
{
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	/* i915 gen8_emit_ggtt_write() shape, PPGTT: dword form. */
	u32 sdi[] = { 0x10000002, 0x00200004, 0x00000001, 0xdeadbeef };
	u32 sqi[] = { 0x10200003, 0x00200008, 0x00000000, 0x55667788,
		      0x11223344 };
	u32 two[] = { 0x10000003, 0x0020000c, 0x00000000, 0x55667788,
		      0x11223344 };
	u32 bad[5];

	if (setup(&gpu))
		return;
	CHECK_EQ(dec(&gpu, sdi, 4, &c), 16);
	CHECK_EQ(c.op, CTXMIG_OP_WRITE32);
	CHECK_EQ(c.dst, 0x100200004ULL);
	CHECK_EQ(c.value, 0xdeadbeef);
	CHECK_EQ(dec(&gpu, sdi, 3, &c), -ENODATA);
	CHECK_EQ(dec(&gpu, sqi, 5, &c), 20);
	CHECK_EQ(c.op, CTXMIG_OP_WRITE64);
	CHECK_EQ(c.dst, 0x200008);
	CHECK_EQ(c.value, 0x1122334455667788ULL);
	CHECK_EQ(dec(&gpu, sqi, 4, &c), -ENODATA);
	/* Two dwords in a burst store the same eight bytes. */
	CHECK_EQ(dec(&gpu, two, 5, &c), 20);
	CHECK_EQ(c.op, CTXMIG_OP_WRITE64);
	CHECK_EQ(c.dst, 0x20000c);
	/* GGTT (MI_USE_GGTT): the GGTT is the PPGTT on this model. */
	memcpy(bad, sdi, sizeof(sdi));
	bad[0] |= MI_USE_GGTT;
	CHECK_EQ(dec(&gpu, bad, 4, &c), 16);
	CHECK_EQ(c.dst, 0x100200004ULL);
	/* Misaligned, qword bit on a dword store. */
	memcpy(bad, sdi, sizeof(sdi));
	bad[1] |= 2;
	CHECK_EQ(dec(&gpu, bad, 4, &c), -EINVAL);
	bad[0] = 0x10200002;
	bad[1] = 0x200000;
	CHECK_EQ(dec(&gpu, bad, 4, &c), -EINVAL);
	memcpy(bad, sqi, sizeof(sqi));
	bad[1] = 0x200004;	/* a qword store must be qword aligned */
	CHECK_EQ(dec(&gpu, bad, 5, &c), -EINVAL);
	bad[0] = MI_STORE_DATA_IMM | 4;	/* three dwords: not in the subset */
	CHECK_EQ(dec(&gpu, bad, 5, &c), -EOPNOTSUPP);
	ctxmig_gpu_fini(&gpu);
}

TEST(decode_flush_dw)
{
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	/* xe emit_flush_imm_ggtt() shape with a PPGTT address. */
	u32 f[] = { MI_FLUSH_DW | MI_FLUSH_DW_OP_STOREDW | MI_FLUSH_IMM_DW,
		    0x00200100, 0x00000000, 7, MI_USER_INTERRUPT };
	u32 q[] = { MI_FLUSH_DW | MI_FLUSH_DW_OP_STOREDW | MI_FLUSH_IMM_QW,
		    0x00200108, 0x00000000, 0x00000000, 0x00000100, MI_NOOP };
	u32 b[] = { 0x13000001, 0x00000000, 0x00000000, MI_USER_INTERRUPT };
	u32 bad[5];

	if (setup(&gpu))
		return;
	CHECK_EQ(f[0], 0x13004002);
	/* The flush and the user interrupt after it: one fence. */
	CHECK_EQ(dec(&gpu, f, 5, &c), 20);
	CHECK_EQ(c.op, CTXMIG_OP_FENCE);
	CHECK_EQ(c.flags, CTXMIG_CMD_IRQ);
	CHECK_EQ(c.dst, 0x200100);
	CHECK_EQ(c.value, 7);
	/* The buffer ends after the flush: a fence without interrupt. */
	CHECK_EQ(dec(&gpu, f, 4, &c), 16);
	CHECK_EQ(c.op, CTXMIG_OP_FENCE);
	CHECK_EQ(c.flags, 0);
	CHECK_EQ(dec(&gpu, f, 3, &c), -ENODATA);
	/* Qword store, followed by something else. */
	CHECK_EQ(dec(&gpu, q, 6, &c), 20);
	CHECK_EQ(c.op, CTXMIG_OP_FENCE);
	CHECK_EQ(c.flags, CTXMIG_CMD_FENCE64);
	CHECK_EQ(c.value, 1ULL << 40);
	CHECK_EQ(c.dst, 0x200108);
	/* Notify: the flush interrupts by itself, a user interrupt after
	 * it is a command of its own.
	 */
	memcpy(bad, f, sizeof(f));
	bad[0] |= MI_FLUSH_DW_NOTIFY;
	CHECK_EQ(dec(&gpu, bad, 5, &c), 16);
	CHECK_EQ(c.flags, CTXMIG_CMD_IRQ);
	/* The i915 base form without post-sync: a NOP, here with the irq. */
	CHECK_EQ(dec(&gpu, b, 4, &c), 16);
	CHECK(c.op == CTXMIG_OP_NOP && c.flags == CTXMIG_CMD_IRQ, "%u %x",
	      c.op, c.flags);
	CHECK_EQ(dec(&gpu, b, 3, &c), 12);
	CHECK(c.op == CTXMIG_OP_NOP && !c.flags, "%u %x", c.op, c.flags);
	/* A GGTT address: through the PPGTT here. */
	memcpy(bad, f, sizeof(f));
	bad[1] |= MI_FLUSH_DW_USE_GTT;
	CHECK_EQ(dec(&gpu, bad, 5, &c), 20);
	CHECK_EQ(c.dst, 0x200100);
	/* The status page, a timestamp: not in the subset. */
	memcpy(bad, f, sizeof(f));
	bad[0] |= MI_FLUSH_DW_STORE_INDEX;
	CHECK_EQ(dec(&gpu, bad, 5, &c), -EOPNOTSUPP);
	bad[0] = MI_FLUSH_DW | FIELD_PREP(MI_FLUSH_DW_OP_MASK, 3) |
		 MI_FLUSH_IMM_QW;
	CHECK_EQ(dec(&gpu, bad, 5, &c), -EOPNOTSUPP);
	bad[0] = MI_FLUSH_DW | MI_FLUSH_DW_OP_STOREDW | MI_FLUSH_DW_BASE_LEN;
	CHECK_EQ(dec(&gpu, bad, 5, &c), -EINVAL);
	ctxmig_gpu_fini(&gpu);
}

TEST(decode_copies)
{
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	u32 cmm[] = { MI_COPY_MEM_MEM, 0x00300000, 0x00000000, 0x00200000,
		      0x00000001 };
	u32 mc[] = { MEM_COPY_CMD | 8, 15, 0, 0, 0, 0x00200001, 0x00000000,
		     0x00300003, 0x00000000, 0 };
	u32 bad[10];

	if (setup(&gpu))
		return;
	CHECK_EQ(dec(&gpu, cmm, 5, &c), 20);
	CHECK_EQ(c.op, CTXMIG_OP_COPY);
	CHECK_EQ(c.dst, 0x300000);
	CHECK_EQ(c.src, 0x100200000ULL);
	CHECK_EQ(c.value, 4);
	CHECK_EQ(dec(&gpu, cmm, 4, &c), -ENODATA);
	memcpy(bad, cmm, sizeof(cmm));
	bad[0] |= MI_COPY_MEM_MEM_SRC_GGTT;	/* the GGTT is the PPGTT */
	CHECK_EQ(dec(&gpu, bad, 5, &c), 20);
	bad[0] = MI_COPY_MEM_MEM + 1;
	CHECK_EQ(dec(&gpu, bad, 5, &c), -EINVAL);
	CHECK_EQ(dec(&gpu, mc, 10, &c), 40);
	CHECK_EQ(c.op, CTXMIG_OP_COPY);
	CHECK_EQ(c.src, 0x200001);
	CHECK_EQ(c.dst, 0x300003);
	CHECK_EQ(c.value, 16);
	CHECK_EQ(dec(&gpu, mc, 9, &c), -ENODATA);
	/* 0x3ffff bytes at most: a width of 0x3ffff (2^18 bytes) is not. */
	memcpy(bad, mc, sizeof(mc));
	bad[1] = 0x3fffe;
	CHECK_EQ(dec(&gpu, bad, 10, &c), 40);
	CHECK_EQ(c.value, 0x3ffff);
	bad[1] = 0x3ffff;
	CHECK_EQ(dec(&gpu, bad, 10, &c), -EINVAL);
	memcpy(bad, mc, sizeof(mc));
	bad[0] |= MEM_COPY_PAGE_COPY_MODE;
	CHECK_EQ(dec(&gpu, bad, 10, &c), -EOPNOTSUPP);
	memcpy(bad, mc, sizeof(mc));
	bad[0] |= MEM_COPY_MATRIX_COPY;
	CHECK_EQ(dec(&gpu, bad, 10, &c), -EOPNOTSUPP);
	ctxmig_gpu_fini(&gpu);
}

/* Words into GPU memory at @va. */
static void put_words(struct ctxmig_gpu *gpu, u64 va, const u32 *dw, u32 n)
{
	u8 buf[256];
	u32 i;

	for (i = 0; i < n; i++)
		ctxmig_dw_put(buf, i, dw[i]);
	CHECK_EQ(ctxmig_gpu_poke(gpu, va, buf, n * 4), 0);
}

/*
 * A bare MI_BATCH_BUFFER_START, as xe's emit_bb_start() writes it: the
 * batch runs to its MI_BATCH_BUFFER_END, found the way i915's command
 * parser finds it.
 */
TEST(decode_batch_buffer_start)
{
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	u32 bb[] = { 0x18800101, 0x00180000, 0x00000000 };
	u32 batch[] = {
		MI_NOOP,
		0x10000002, 0x00200004, 0, 7,	/* MI_STORE_DATA_IMM */
		0x7a000004, PIPE_CONTROL_CS_STALL, 0, 0, 0, 0,
		0x18800101, 0x00190000, 0,	/* a nested batch start */
		MI_BATCH_BUFFER_END,
		0x13004002,			/* after the end: not read */
	};
	u32 bad[3];

	if (setup(&gpu))
		return;
	put_words(&gpu, 0x180000, batch, ARRAY_SIZE(batch));
	CHECK_EQ(dec(&gpu, bb, 3, &c), 12);
	CHECK_EQ(c.op, CTXMIG_OP_IB);
	CHECK_EQ(c.src, 0x180000);
	CHECK_EQ(c.value, 15 * 4);
	CHECK_EQ(dec(&gpu, bb, 2, &c), -ENODATA);
	/* A GGTT batch (PPGTT bit 8 clear): the GGTT is the PPGTT here. */
	memcpy(bad, bb, sizeof(bb));
	bad[0] = MI_BATCH_BUFFER_START_GEN8;
	CHECK_EQ(dec(&gpu, bad, 3, &c), 12);
	CHECK_EQ(c.value, 15 * 4);
	/* A wrong length. */
	bad[0] = 0x18800102;
	CHECK_EQ(dec(&gpu, bad, 3, &c), -EINVAL);
	/* No end within the bound (VRAM reads zero: MI_NOOPs). */
	memcpy(bad, bb, sizeof(bb));
	bad[1] = 0x200000;
	CHECK_EQ(dec(&gpu, bad, 3, &c), -EINVAL);
	/* A command the parser does not know (client 7). */
	batch[1] = 0xe0000000;
	put_words(&gpu, 0x180000, batch, ARRAY_SIZE(batch));
	CHECK_EQ(dec(&gpu, bb, 3, &c), -EINVAL);
	/* A batch that is not mapped. */
	bad[1] = 0x7000000;
	CHECK_EQ(dec(&gpu, bad, 3, &c), -EFAULT);
	ctxmig_gpu_fini(&gpu);
}

/*
 * The RCS breadcrumb: xe's emit_pipe_imm_ggtt() (PIPE_CONTROL with a
 * post-sync qword write to a GGTT address) then emit_user_interrupt().
 */
TEST(decode_pipe_control)
{
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	u32 pc[] = {
		0x7a000004, PIPE_CONTROL_CS_STALL | PIPE_CONTROL_GLOBAL_GTT_IVB |
		PIPE_CONTROL_QW_WRITE | PIPE_CONTROL_FLUSH_ENABLE,
		0x00200108, 0, 42, 0,
		MI_USER_INTERRUPT, MI_ARB_ON_OFF | MI_ARB_ENABLE, MI_ARB_CHECK,
	};
	u32 bad[9];

	if (setup(&gpu))
		return;
	CHECK_EQ(GFX_OP_PIPE_CONTROL(6), 0x7a000004);
	CHECK_EQ(dec(&gpu, pc, 9, &c), 28);
	CHECK_EQ(c.op, CTXMIG_OP_FENCE);
	CHECK_EQ(c.flags, CTXMIG_CMD_IRQ | CTXMIG_CMD_FENCE64);
	CHECK_EQ(c.dst, 0x200108);
	CHECK_EQ(c.value, 42);
	CHECK_EQ(dec(&gpu, pc, 6, &c), 24);
	CHECK_EQ(c.flags, CTXMIG_CMD_FENCE64);
	CHECK_EQ(dec(&gpu, pc, 5, &c), -ENODATA);
	/* Its own notify bit; no post-sync: a flush, a NOP. */
	memcpy(bad, pc, sizeof(pc));
	bad[1] |= PIPE_CONTROL_NOTIFY;
	CHECK_EQ(dec(&gpu, bad, 9, &c), 24);
	CHECK_EQ(c.flags, CTXMIG_CMD_IRQ | CTXMIG_CMD_FENCE64);
	bad[1] = PIPE_CONTROL_CS_STALL;
	CHECK_EQ(dec(&gpu, bad, 6, &c), 24);
	CHECK(c.op == CTXMIG_OP_NOP && !c.flags, "%u %x", c.op, c.flags);
	/* The status page, a register, a timestamp, a misaligned qword. */
	bad[1] = PIPE_CONTROL_QW_WRITE | PIPE_CONTROL_STORE_DATA_INDEX;
	CHECK_EQ(dec(&gpu, bad, 6, &c), -EOPNOTSUPP);
	bad[1] = PIPE_CONTROL_QW_WRITE | PIPE_CONTROL_MMIO_WRITE;
	CHECK_EQ(dec(&gpu, bad, 6, &c), -EOPNOTSUPP);
	bad[1] = 3 << 14;
	CHECK_EQ(dec(&gpu, bad, 6, &c), -EOPNOTSUPP);
	bad[1] = PIPE_CONTROL_QW_WRITE;
	bad[2] = 0x200104;
	CHECK_EQ(dec(&gpu, bad, 6, &c), -EINVAL);
	bad[0] = 0x7a000003;	/* the five-dword pre-Gen8 form */
	CHECK_EQ(dec(&gpu, bad, 6, &c), -EINVAL);
	ctxmig_gpu_fini(&gpu);
}

TEST(decode_illegal_commands)
{
	static const u32 words[] = {
		0x7b000005,	/* GFXPIPE 3DPRIMITIVE */
		0x54c00008,	/* XY_FAST_COPY_BLT: another blitter command */
		0x11000001,	/* MI_LOAD_REGISTER_IMM */
		0x0e000000,	/* MI_SEMAPHORE_WAIT, old opcode space */
		0x00800000,	/* MI_SET_PREDICATE */
		0xe0000000,	/* no such client */
	};
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	unsigned int i;

	if (setup(&gpu))
		return;
	for (i = 0; i < ARRAY_SIZE(words); i++) {
		u32 dw[16] = { words[i] };
		int n = dec(&gpu, dw, 16, &c);

		CHECK(n == -EOPNOTSUPP || n == -EILSEQ, "0x%08x gave %d",
		      words[i], n);
	}
	ctxmig_gpu_fini(&gpu);
}

TEST(encode_native_words)
{
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c = {}, d;
	u32 dw[64];

	if (setup(&gpu))
		return;
	c.op = CTXMIG_OP_NOP;
	CHECK_EQ(enc(&gpu, &c, dw, 64), 1);
	CHECK_EQ(dw[0], MI_NOOP);
	/*
	 * The Gen8+ form i915 (gen8_engine_cs.c) and xe (xe_ring_ops.c)
	 * emit: four dwords, no post-sync operation, the notify bit.
	 */
	c.flags = CTXMIG_CMD_IRQ;
	CHECK_EQ(enc(&gpu, &c, dw, 64), 4);
	CHECK(dw[0] == 0x13000102 && !dw[1] && !dw[2] && !dw[3],
	      "%08x %08x %08x %08x", dw[0], dw[1], dw[2], dw[3]);
	CHECK_EQ(dec(&gpu, dw, 4, &d), 16);
	CHECK(d.op == CTXMIG_OP_NOP && d.flags == CTXMIG_CMD_IRQ, "%u %x",
	      d.op, d.flags);

	c = (struct ctxmig_cmd){ .op = CTXMIG_OP_WRITE32, .dst = 0x100200004ULL,
				 .value = 0x1deadbeefULL };
	CHECK_EQ(enc(&gpu, &c, dw, 64), 4);
	CHECK(dw[0] == 0x10000002 && dw[1] == 0x200004 && dw[2] == 1 &&
	      dw[3] == 0xdeadbeef, "%08x %08x %08x %08x", dw[0], dw[1], dw[2],
	      dw[3]);
	c = (struct ctxmig_cmd){ .op = CTXMIG_OP_WRITE64, .dst = 0x200008,
				 .value = 0x1122334455667788ULL };
	CHECK_EQ(enc(&gpu, &c, dw, 64), 5);
	CHECK(dw[0] == 0x10200003 && dw[3] == 0x55667788 &&
	      dw[4] == 0x11223344, "%08x", dw[0]);
	c.dst = 0x20000c;
	CHECK_EQ(enc(&gpu, &c, dw, 64), 5);
	CHECK_EQ(dw[0], 0x10000003);
	CHECK_EQ(dec(&gpu, dw, 5, &d), 20);
	CHECK(d.op == c.op && d.dst == c.dst && d.value == c.value, "burst");

	c = (struct ctxmig_cmd){ .op = CTXMIG_OP_FENCE, .dst = 0x200100,
				 .value = 7, .flags = CTXMIG_CMD_IRQ };
	CHECK_EQ(enc(&gpu, &c, dw, 64), 4);
	CHECK(dw[0] == 0x13004102 && dw[1] == 0x200100 && dw[3] == 7, "%08x",
	      dw[0]);
	c.flags = CTXMIG_CMD_FENCE64;
	c.value = 1ULL << 40;
	CHECK_EQ(enc(&gpu, &c, dw, 64), 5);
	CHECK(dw[0] == 0x13004003 && dw[3] == 0 && dw[4] == 0x100, "%08x",
	      dw[0]);

	c = (struct ctxmig_cmd){ .op = CTXMIG_OP_COPY, .src = 0x200000,
				 .dst = 0x300000, .value = 4 };
	CHECK_EQ(enc(&gpu, &c, dw, 64), 5);
	CHECK(dw[0] == MI_COPY_MEM_MEM && dw[1] == 0x300000 &&
	      dw[3] == 0x200000, "%08x", dw[0]);
	c.value = 16;
	CHECK_EQ(enc(&gpu, &c, dw, 64), 10);
	CHECK(dw[0] == 0x56800008 && dw[1] == 15 && dw[5] == 0x200000 &&
	      dw[7] == 0x300000, "%08x %u", dw[0], dw[1]);
	/* IGT's xe_copy_basic.c: at most 0x3ffff bytes before Xe2. */
	CHECK_EQ(CTXMIG_INTEL_MEM_COPY_MAX, 262143);
	c.value = 262144;
	CHECK_EQ(enc(&gpu, &c, dw, 64), 20);
	CHECK(dw[1] == 262142 && dw[11] == 0, "%u %u", dw[1], dw[11]);
	/* Longer than one MEM_COPY carries: split. */
	c.value = 300000;
	CHECK_EQ(enc(&gpu, &c, dw, 64), 20);
	CHECK(dw[1] == CTXMIG_INTEL_MEM_COPY_MAX - 1 &&
	      dw[11] == 300000 - CTXMIG_INTEL_MEM_COPY_MAX - 1 &&
	      dw[15] == 0x200000 + CTXMIG_INTEL_MEM_COPY_MAX &&
	      dw[17] == 0x300000 + CTXMIG_INTEL_MEM_COPY_MAX, "%u %u", dw[1],
	      dw[11]);

	/* A bare batch start; the batch ends with MI_BATCH_BUFFER_END. */
	c = (struct ctxmig_cmd){ .op = CTXMIG_OP_IB, .src = 0x180000,
				 .value = 256 };
	CHECK_EQ(enc(&gpu, &c, dw, 64), 3);
	CHECK(dw[0] == 0x18800101 && dw[1] == 0x180000 && dw[2] == 0,
	      "%08x %08x", dw[0], dw[1]);
	CHECK_EQ(enc(&gpu, &c, dw, 2), -ENOSPC);
	{
		u8 end[8];

		CHECK_EQ(ctxmig_gpu_encode_end(&gpu, end, sizeof(end)), 4);
		CHECK_EQ(ctxmig_dw_get(end, 0), MI_BATCH_BUFFER_END);
		CHECK_EQ(ctxmig_gpu_encode_end(&gpu, end, 2), -ENOSPC);
	}
	ctxmig_gpu_fini(&gpu);
}

TEST(encode_refuses_what_it_cannot_express)
{
	static const struct ctxmig_cmd bad[] = {
		/* MI_FLUSH_DW address bits 2:0 are flags. */
		{ .op = CTXMIG_OP_FENCE, .dst = 0x200104, .value = 1 },
		{ .op = CTXMIG_OP_WRITE32, .dst = 0x200002, .value = 1 },
		{ .op = CTXMIG_OP_WRITE32, .dst = 1ULL << 48, .value = 1 },
		{ .op = CTXMIG_OP_COPY, .src = 0x1000, .dst = 0x2000 },
		{ .op = CTXMIG_OP_IB, .src = 0x180000, .value = 256,
		  .dst = 16 },
		{ .op = CTXMIG_OP_IB, .src = 0x180000, .value = 6 },
		{ .op = CTXMIG_OP_IB, .src = 0x180000,
		  .value = CTXMIG_INTEL_BATCH_MAX + 4 },
		{ .op = CTXMIG_OP_MAX + 1 },
	};
	struct ctxmig_gpu gpu;
	unsigned int i;
	u32 dw[64];

	if (setup(&gpu))
		return;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(enc(&gpu, &bad[i], dw, 64) == -EOPNOTSUPP, "case %u", i);
	ctxmig_gpu_fini(&gpu);
}

/* Commands the encoder puts side by side decode as they were. */
TEST(encoded_sequence_keeps_its_commands)
{
	static const struct ctxmig_cmd seq[] = {
		{ .op = CTXMIG_OP_FENCE, .dst = 0x200100, .value = 3 },
		{ .op = CTXMIG_OP_NOP, .flags = CTXMIG_CMD_IRQ },
		{ .op = CTXMIG_OP_FENCE, .dst = 0x200100, .value = 4,
		  .flags = CTXMIG_CMD_IRQ },
		{ .op = CTXMIG_OP_NOP, .flags = CTXMIG_CMD_IRQ },
		{ .op = CTXMIG_OP_IB, .src = 0x180000, .value = 64 },
		{ .op = CTXMIG_OP_NOP },
	};
	struct ctxmig_gpu gpu;
	u8 buf[512];
	u32 len = 0, pos = 0, i;
	int n;

	if (setup(&gpu))
		return;
	/* The batch the IB starts: 60 bytes of MI_NOOP, then its end. */
	{
		u32 end = MI_BATCH_BUFFER_END;

		put_words(&gpu, 0x180000 + 60, &end, 1);
	}
	for (i = 0; i < ARRAY_SIZE(seq); i++) {
		n = gpu.model->encode(&gpu, &seq[i], buf + len,
				      sizeof(buf) - len);
		CHECK(n > 0, "encode %u: %d", i, n);
		if (n <= 0)
			goto out;
		len += n;
	}
	for (i = 0; i < ARRAY_SIZE(seq); i++) {
		struct ctxmig_cmd c = {};

		n = gpu.model->decode(&gpu, 0, buf + pos,
				      min_t(u32, len - pos,
					    CTXMIG_CMD_MAX_BYTES), 1, &c);
		CHECK(n > 0, "decode %u: %d", i, n);
		if (n <= 0)
			break;
		CHECK(c.op == seq[i].op && c.flags == seq[i].flags &&
		      c.value == seq[i].value && c.dst == seq[i].dst &&
		      c.src == seq[i].src, "command %u came back as op %u %x",
		      i, c.op, c.flags);
		pos += n;
	}
	CHECK_EQ(pos, len);
out:
	ctxmig_gpu_fini(&gpu);
}

TEST(pte_bits)
{
	const struct ctxmig_model *m = intel();
	struct ctxmig_gpu gpu;
	struct ctxmig_pte p, q;
	u64 raw;

	if (setup(&gpu))
		return;
	/* 4 KiB VRAM page, writable, cached (PAT 0). */
	p = (struct ctxmig_pte){ .kind = CTXMIG_PTE_LEAF, .addr = 0x123456000ULL,
				 .flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE,
				 .cache = CTXMIG_CACHE_CACHED };
	CHECK_EQ(m->pte_encode(&gpu, 3, 0, &p, &raw), 0);
	CHECK_EQ(raw, 0x123456000ULL | GEN8_PAGE_PRESENT | GEN8_PAGE_RW |
		 GEN12_PPGTT_PTE_LM);
	m->pte_decode(&gpu, 3, 0, &raw, &q);
	CHECK_EQ(q.kind, CTXMIG_PTE_LEAF);
	CHECK_EQ(q.addr, 0x123456000ULL);
	CHECK_EQ(q.flags, CTXMIG_MAP_READ | CTXMIG_MAP_WRITE | CTXMIG_MAP_EXEC);
	CHECK_EQ(q.cache, CTXMIG_CACHE_CACHED);
	/* Read-only system page, WC: no LM, no RW, PAT 1. */
	p.flags = CTXMIG_MAP_READ | CTXMIG_MAP_SYSMEM;
	p.cache = CTXMIG_CACHE_WC;
	CHECK_EQ(m->pte_encode(&gpu, 3, 0, &p, &raw), 0);
	CHECK_EQ(raw, 0x123456000ULL | GEN8_PAGE_PRESENT |
		 GEN12_PPGTT_PTE_PAT0);
	m->pte_decode(&gpu, 3, 0, &raw, &q);
	CHECK_EQ(q.flags, CTXMIG_MAP_READ | CTXMIG_MAP_EXEC |
		 CTXMIG_MAP_SYSMEM | CTXMIG_MAP_SNOOP);
	CHECK_EQ(q.cache, CTXMIG_CACHE_WC);
	/* UC is PAT 3 (PWT|PCD); DEFAULT the reserved PAT 4 (bit 7). */
	p.cache = CTXMIG_CACHE_UNCACHED;
	CHECK_EQ(m->pte_encode(&gpu, 3, 0, &p, &raw), 0);
	CHECK_EQ(raw & (GEN12_PPGTT_PTE_PAT0 | GEN12_PPGTT_PTE_PAT1 |
			GEN12_PPGTT_PTE_PAT2),
		 GEN12_PPGTT_PTE_PAT0 | GEN12_PPGTT_PTE_PAT1);
	p.cache = CTXMIG_CACHE_DEFAULT;
	CHECK_EQ(m->pte_encode(&gpu, 3, 0, &p, &raw), 0);
	CHECK_EQ(raw & (GEN12_PPGTT_PTE_PAT0 | GEN12_PPGTT_PTE_PAT1 |
			GEN12_PPGTT_PTE_PAT2), GEN12_PPGTT_PTE_PAT2);
	m->pte_decode(&gpu, 3, 0, &raw, &q);
	CHECK_EQ(q.cache, CTXMIG_CACHE_DEFAULT);
	/* WT (PAT 2) and PAT 5..7 read as cached. */
	raw = 0x1000 | GEN8_PAGE_PRESENT | GEN12_PPGTT_PTE_PAT1;
	m->pte_decode(&gpu, 3, 0, &raw, &q);
	CHECK_EQ(q.cache, CTXMIG_CACHE_CACHED);
	raw |= GEN12_PPGTT_PTE_PAT2;
	m->pte_decode(&gpu, 3, 0, &raw, &q);
	CHECK_EQ(q.cache, CTXMIG_CACHE_CACHED);
	/* 2 MiB page: PS bit 7, PAT2 moves to bit 12. */
	p = (struct ctxmig_pte){ .kind = CTXMIG_PTE_LEAF, .addr = 0x40200000,
				 .flags = CTXMIG_MAP_READ,
				 .cache = CTXMIG_CACHE_DEFAULT };
	CHECK_EQ(m->pte_encode(&gpu, 2, 0, &p, &raw), 0);
	CHECK_EQ(raw, 0x40200000 | GEN8_PAGE_PRESENT | GEN8_PDE_PS_2M |
		 GEN12_PPGTT_PTE_LM | XE_PPGTT_PDE_PDPE_PAT2);
	m->pte_decode(&gpu, 2, 0, &raw, &q);
	CHECK(q.kind == CTXMIG_PTE_LEAF && q.addr == 0x40200000 &&
	      q.cache == CTXMIG_CACHE_DEFAULT, "2M %u %llx %u", q.kind,
	      (unsigned long long)q.addr, q.cache);
	/* 1 GiB page at the PDP level; a misaligned one is refused. */
	p.addr = 0x40000000;
	CHECK_EQ(m->pte_encode(&gpu, 1, 0, &p, &raw), 0);
	CHECK(raw & XE_PDPE_PS_1G, "1G PS");
	m->pte_decode(&gpu, 1, 0, &raw, &q);
	CHECK(q.kind == CTXMIG_PTE_LEAF && q.addr == 0x40000000, "1G");
	p.addr = 0x40200000;
	CHECK_EQ(m->pte_encode(&gpu, 1, 0, &p, &raw), -EOPNOTSUPP);
	CHECK_EQ(m->pte_encode(&gpu, 0, 0, &p, &raw), -EOPNOTSUPP);
	p.addr = 1ULL << 48;
	CHECK_EQ(m->pte_encode(&gpu, 3, 0, &p, &raw), -EOPNOTSUPP);
	/* Tables: present and writable, like gen8_pde_encode(). */
	p = (struct ctxmig_pte){ .kind = CTXMIG_PTE_TABLE, .addr = 0x11000 };
	CHECK_EQ(m->pte_encode(&gpu, 0, 0, &p, &raw), 0);
	CHECK_EQ(raw, 0x11000 | GEN8_PAGE_PRESENT | GEN8_PAGE_RW);
	m->pte_decode(&gpu, 2, 0, &raw, &q);
	CHECK(q.kind == CTXMIG_PTE_TABLE && q.addr == 0x11000, "table");
	CHECK_EQ(m->pte_encode(&gpu, 3, 0, &p, &raw), -EOPNOTSUPP);
	/* A 64 KiB page table and a non-present entry: nothing there. */
	raw = 0x11000 | GEN8_PAGE_PRESENT | GEN8_PDE_IPS_64K;
	m->pte_decode(&gpu, 2, 0, &raw, &q);
	CHECK_EQ(q.kind, CTXMIG_PTE_INVALID);
	raw = 0x11000 | GEN8_PAGE_RW;
	m->pte_decode(&gpu, 3, 0, &raw, &q);
	CHECK_EQ(q.kind, CTXMIG_PTE_INVALID);
	ctxmig_gpu_fini(&gpu);
}

TEST(ring_and_pdp_registers)
{
	const struct ctxmig_model *m = intel();
	struct ctxmig_ring r = { .base = 0x1234567000ULL, .size = 64 << 10,
				 .head = 0x104, .tail = 0x20c,
				 .flags = CTXMIG_RING_ENABLED }, g;
	struct ctxmig_gpu gpu;
	u64 root;

	if (setup(&gpu))
		return;
	CHECK_EQ(m->ring_set(&gpu, 0, &r), 0);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, 0x2038), 0x34567000);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, 0x2048), 0x12);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, 0x203c), (60 << 10) | RING_VALID);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, 0x2034), 0x104);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, 0x2030), 0x20c);
	/* The guest's view: a wrap count in HEAD is ignored. */
	ctxmig_gpu_mmio_write(&gpu, 0x2034, 3 * HEAD_WRAP_ONE | 0x200);
	m->ring_get(&gpu, 0, &g);
	CHECK(g.base == r.base && g.size == r.size && g.head == 0x200 &&
	      g.tail == 0x20c && g.flags == CTXMIG_RING_ENABLED,
	      "%llx %x %x %x %x", (unsigned long long)g.base, g.size, g.head,
	      g.tail, g.flags);
	m->set_head(&gpu, 0, 0x208);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, 0x2034), 0x208);
	/* Sizes: 4 KiB..2 MiB, powers of two, 4 KiB aligned. */
	r.size = 2 << 20;
	CHECK_EQ(m->ring_set(&gpu, 0, &r), 0);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, 0x203c), RING_NR_PAGES | 1);
	r.size = 4 << 20;
	CHECK_EQ(m->ring_set(&gpu, 0, &r), -EINVAL);
	r.size = 2048;
	CHECK_EQ(m->ring_set(&gpu, 0, &r), -EINVAL);
	r.size = 4096;
	r.head = 0;
	r.tail = 0;
	r.base += 256;
	CHECK_EQ(m->ring_set(&gpu, 0, &r), -EINVAL);
	/* Three pages read as two. */
	ctxmig_gpu_mmio_write(&gpu, 0x203c, RING_CTL_SIZE(3 * 4096));
	m->ring_get(&gpu, 0, &g);
	CHECK_EQ(g.size, 8192);
	CHECK_EQ(g.flags, 0);
	/* PDP0 holds the PML4; zero turns paging off. */
	root = (u64)ctxmig_gpu_mmio_read(&gpu, 0x2274) << 32 |
	       ctxmig_gpu_mmio_read(&gpu, 0x2270);
	CHECK(root && m->pt_root(&gpu) == root, "root %llx",
	      (unsigned long long)root);
	m->set_pt_root(&gpu, 0x3456789000ULL);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, 0x2270), 0x56789000);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, 0x2274), 0x34);
	CHECK_EQ(m->pt_root(&gpu), 0x3456789000ULL);
	ctxmig_gpu_reset(&gpu);
	CHECK_EQ(m->pt_root(&gpu), U64_MAX);
	m->ring_get(&gpu, 0, &g);
	CHECK(g.size == 4096 && !g.flags && !g.head && !g.tail, "reset");
	ctxmig_gpu_fini(&gpu);
}

/*
 * Native words in the ring, as the drivers write them: a batch (ended by
 * MI_BATCH_BUFFER_END), stores and the breadcrumb flush with its user
 * interrupt.
 */
TEST(execute_native_ring)
{
	static const u32 batch[] = {
		0x10000002, 0x00200000, 0, 0xcafef00d,		/* SDI */
		MI_COPY_MEM_MEM, 0x00300000, 0, 0x00200000, 0,
		MI_BATCH_BUFFER_END, MI_NOOP,
	};
	static const u32 ring[] = {
		0x18800101, 0x00180000, 0,
		0x10200003, 0x00200008, 0, 0x55667788, 0x11223344,
		0x13004002, 0x00200100, 0, 9, MI_USER_INTERRUPT,
		MI_ARB_CHECK,
	};
	const struct ctxmig_model *m;
	struct ctxmig_gpu gpu;
	u8 buf[sizeof(ring)];
	unsigned int i;
	int n;

	if (setup(&gpu))
		return;
	m = gpu.model;
	ctxmig_gpu_mmio_write(&gpu, m->mmio_size - CTXMIG_CTL_SIZE +
			      CTXMIG_CTL_IRQ_ENABLE, CTXMIG_IRQ_ALL);
	for (i = 0; i < ARRAY_SIZE(batch); i++)
		ctxmig_dw_put(buf, i, batch[i]);
	CHECK_EQ(ctxmig_gpu_poke(&gpu, 0x180000, buf, sizeof(batch)), 0);
	for (i = 0; i < ARRAY_SIZE(ring); i++)
		ctxmig_dw_put(buf, i, ring[i]);
	CHECK_EQ(gu_ring_append(&gpu, buf, sizeof(ring)), 0);
	n = ctxmig_gpu_run(&gpu, 0, 100);
	/* IB, SDI, COPY, END; SDI qword, FENCE+IRQ, ARB_CHECK. */
	CHECK(n == 7, "ran %d: %s", n, gpu.eng[0].reason);
	CHECK_EQ(gu_read32(&gpu, 0x300000), 0xcafef00d);
	CHECK_EQ(gu_read64(&gpu, 0x200008), 0x1122334455667788ULL);
	CHECK_EQ(gu_read32(&gpu, 0x200100), 9);
	CHECK_EQ(gpu.eng[0].fence.signalled, 9);
	CHECK_EQ(gpu.eng[0].irqs, 1);
	CHECK_EQ(gpu.eng[0].status, CTXMIG_ENG_IDLE);
	ctxmig_gpu_fini(&gpu);
}

/*
 * What xe's __emit_job_gen12_render_compute() puts around a user batch,
 * in the part the model emulates: emit_bb_start() (PPGTT) of a batch
 * that ends with MI_BATCH_BUFFER_END, the breadcrumb
 * emit_pipe_imm_ggtt() and emit_user_interrupt(); run from the ring.
 */
TEST(xe_job_words)
{
	u32 dw[64], bw[16];
	struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };
	struct vec_ring b = { .dw = bw, .room = ARRAY_SIZE(bw) };
	static const u32 sdi[] = { 0x10000002, 0x00200004, 0, 0x5a5a5a5a };
	const struct ctxmig_model *m;
	struct ctxmig_gpu gpu;
	u8 buf[256];
	u32 i;

	if (setup(&gpu))
		return;
	m = gpu.model;
	ctxmig_gpu_mmio_write(&gpu, m->mmio_size - CTXMIG_CTL_SIZE +
			      CTXMIG_CTL_IRQ_ENABLE, CTXMIG_IRQ_ALL);
	for (i = 0; i < ARRAY_SIZE(sdi); i++)
		vec_write(&b, sdi[i]);
	vec_batch_end(&b);
	vec_bytes(&b, buf);
	CHECK_EQ(ctxmig_gpu_poke(&gpu, 0x180000, buf, b.n * 4), 0);
	vec_xe_emit_bb_start(&r, 0x180000, BIT(8));
	/* The seqno's GGTT address is mapped at the same PPGTT VA. */
	vec_xe_emit_pipe_imm_ggtt(&r, 0x200108, 77, false);
	vec_xe_emit_user_interrupt(&r);
	vec_bytes(&r, buf);
	CHECK_EQ(gu_ring_append(&gpu, buf, r.n * 4), 0);
	/* IB, SDI, END; FENCE + IRQ, ARB_ON_OFF, ARB_CHECK. */
	CHECK_EQ(ctxmig_gpu_run(&gpu, 0, 100), 6);
	CHECK_EQ(gu_read32(&gpu, 0x200004), 0x5a5a5a5a);
	CHECK_EQ(gu_read64(&gpu, 0x200108), 77);
	CHECK_EQ(gpu.eng[0].fence.signalled, 77);
	CHECK_EQ(gpu.eng[0].irqs, 1);
	CHECK_EQ(gpu.eng[0].status, CTXMIG_ENG_IDLE);
	ctxmig_gpu_fini(&gpu);
}

/* A status page store stops the engine with a reason. */
TEST(illegal_command_stops_engine)
{
	const u32 ring[] = { 0x13204002, 0x00200000, 0, 1 };
	struct ctxmig_gpu gpu;
	u8 buf[sizeof(ring)];
	unsigned int i;

	if (setup(&gpu))
		return;
	for (i = 0; i < ARRAY_SIZE(ring); i++)
		ctxmig_dw_put(buf, i, ring[i]);
	CHECK_EQ(gu_ring_append(&gpu, buf, sizeof(ring)), 0);
	CHECK_EQ(ctxmig_gpu_run(&gpu, 0, 10), -EOPNOTSUPP);
	CHECK_EQ(gpu.eng[0].status, CTXMIG_ENG_ERROR);
	CHECK(strstr(gpu.eng[0].reason, "illegal command"), "%s",
	      gpu.eng[0].reason);
	ctxmig_gpu_fini(&gpu);
}

int main(void)
{
	return host_main("intel_test");
}
