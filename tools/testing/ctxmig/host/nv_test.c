// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the NVIDIA style models' native encodings: GP entries,
 * method headers and method sequences as a driver writes them, MMU v2 and
 * v3 entries (with the PDE/PTE aperture pitfall), the ring and page
 * directory registers, and the methods that are illegal or outside the
 * subset.
 */
#include <linux/bitfield.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "ctxmig_gpu.h"
#include "ctxmig_model.h"
#include "ctxmig_nv.h"
#include "ctxmig_vram.h"
#include "harness.h"
#include "gpu_util.h"

#include "../../../../drivers/gpu/ctxmig/tests/ctxmig_vectors.c"

static const struct ctxmig_model *const nv_models[] = {
	&ctxmig_nv_ampere_model,
	&ctxmig_nv_hopper_model,
};

/* Run @fn on every NVIDIA model. */
static void on_every_nv(void (*fn)(const struct ctxmig_model *m))
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(nv_models); i++)
		fn(nv_models[i]);
}

static u32 hdr(u32 op, u32 subch, u32 mthd, u32 count)
{
	return FIELD_PREP(NV_DMA_SEC_OP, op) | FIELD_PREP(NV_DMA_COUNT, count) |
	       FIELD_PREP(NV_DMA_SUBCH, subch) |
	       FIELD_PREP(NV_DMA_ADDR, mthd >> 2);
}

static int dec(struct ctxmig_gpu *gpu, const u32 *dw, u32 n, u32 level,
	       struct ctxmig_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->level = level;
	return gpu->model->decode(gpu, 0, dw, n * 4, level, cmd);
}

static bool same(const struct ctxmig_cmd *c, u8 op, u64 dst, u64 src,
		 u64 value, u16 flags)
{
	return c->op == op && c->dst == dst && c->src == src &&
	       c->value == value && c->flags == flags;
}

/* GP entries, as clc56f.h / clc86f.h lay them out. */
static void gp_entries_on(const struct ctxmig_model *m)
{
	bool hopper = m == &ctxmig_nv_hopper_model;
	struct ctxmig_gpu gpu;
	struct ctxmig_ring r;
	struct ctxmig_cmd c;
	/* 0x40 dwords at 0x12_3456_7000 */
	u32 ib[2] = { 0x34567000, 0x12 | 0x40 << 10 };
	u32 sub[2] = { 0x34567000, 0x12 | 0x40 << 10 | BIT(9) };
	u32 nop[2] = { 0, 0 };
	u32 crc[2] = { 0, 2 };
	/* extended base 0x1ff, then the entry above, then it again */
	u32 ext[6] = { 0x1ff << 8, 4, 0x34567000, 0x12 | 0x40 << 10,
		       0x34567000, 0x12 | 0x40 << 10 };
	u8 buf[64];
	int n;

	CHECK_EQ(ctxmig_gpu_init(&gpu, m, 64 << 20), 0);
	CHECK_EQ(dec(&gpu, ib, 2, 0, &c), 8);
	CHECK(same(&c, CTXMIG_OP_IB, 0, 0x1234567000ULL, 0x100, 0),
	      "%s: IB src 0x%llx", m->name, (unsigned long long)c.src);
	CHECK_EQ(dec(&gpu, ib, 1, 0, &c), -ENODATA);
	CHECK_EQ(dec(&gpu, sub, 2, 0, &c), -EOPNOTSUPP);
	CHECK_EQ(dec(&gpu, nop, 2, 0, &c), 8);
	CHECK_EQ(c.op, CTXMIG_OP_NOP);
	CHECK_EQ(dec(&gpu, crc, 2, 0, &c), -EOPNOTSUPP);
	if (hopper) {
		/*
		 * GP_INFO.PB_SEGMENT_EXTENDED_BASE (gh100
		 * dev_esched_pbdma.h) is channel state: it stays for every
		 * later entry, until set again.
		 */
		CHECK_EQ(dec(&gpu, ext, 2, 0, &c), 8);
		CHECK(same(&c, CTXMIG_OP_NOP, 0, 0, 0, 0), "lone base");
		CHECK_EQ(dec(&gpu, ext + 4, 2, 0, &c), 8);
		CHECK_EQ(c.src, 0x1ff1234567000ULL);
		gpu.eng[0].method[NV_M_GP_EXT_BASE] = 0;
		CHECK_EQ(dec(&gpu, ext, 6, 0, &c), 16);
		CHECK_EQ(c.src, 0x1ff1234567000ULL);
		CHECK_EQ(dec(&gpu, ext + 4, 2, 0, &c), 8);
		CHECK_EQ(c.src, 0x1ff1234567000ULL);
		m->ring_get(&gpu, 0, &r);
		CHECK_EQ(r.ib_va_base, 0x1ffULL << 40);
		/* A restore sets it; the ring keeps it. */
		r.ib_va_base = 0x12ULL << 40;
		CHECK_EQ(m->ring_set(&gpu, 0, &r), 0);
		CHECK_EQ(dec(&gpu, ib, 2, 0, &c), 8);
		CHECK_EQ(c.src, 0x121234567000ULL);
		r.ib_va_base = 1;	/* not a base GP_INFO can hold */
		CHECK_EQ(m->ring_set(&gpu, 0, &r), -EINVAL);
		r.ib_va_base = 0;
		CHECK_EQ(m->ring_set(&gpu, 0, &r), 0);
	} else {
		/*
		 * Ampere's host class has no extended base: ctxmig's
		 * extension gives it to the entry after it only, so
		 * nothing stays latched for a guest that never sets it.
		 */
		CHECK_EQ(dec(&gpu, ext, 2, 0, &c), -ENODATA);
		CHECK_EQ(dec(&gpu, ext, 6, 0, &c), 16);
		CHECK_EQ(c.src, 0x1ff1234567000ULL);
		CHECK_EQ(dec(&gpu, ext + 4, 2, 0, &c), 8);
		CHECK_EQ(c.src, 0x1234567000ULL);
		m->ring_get(&gpu, 0, &r);
		CHECK_EQ(r.ib_va_base, 0);
	}

	/*
	 * Encoding: the base before the entry, and on Hopper the base the
	 * channel had back after it, so the guest's entries keep theirs.
	 */
	memset(&c, 0, sizeof(c));
	c.op = CTXMIG_OP_IB;
	c.src = BIT_ULL(m->va_bits) - (4 << 20);
	c.value = 0x200;
	n = m->encode(&gpu, &c, buf, sizeof(buf));
	CHECK_EQ(n, hopper ? 24 : 16);
	CHECK_EQ(dec(&gpu, (u32 *)buf, 4, 0, &c), 16);
	CHECK_EQ(c.src, BIT_ULL(m->va_bits) - (4 << 20));
	CHECK_EQ(c.value, 0x200);
	if (hopper) {
		CHECK_EQ(dec(&gpu, (u32 *)buf + 4, 2, 0, &c), 8);
		CHECK_EQ(c.op, CTXMIG_OP_NOP);
		CHECK_EQ(gpu.eng[0].method[NV_M_GP_EXT_BASE], 0);
	}
	memset(&c, 0, sizeof(c));
	c.op = CTXMIG_OP_IB;
	c.value = 0x200;
	c.src = 0x100000;
	CHECK_EQ(m->encode(&gpu, &c, buf, sizeof(buf)), 16);
	CHECK_EQ(dec(&gpu, (u32 *)buf, 4, 0, &c), 16);
	CHECK_EQ(c.src, 0x100000);
	c.src = 0x100002;
	CHECK_EQ(m->encode(&gpu, &c, buf, sizeof(buf)), -EOPNOTSUPP);
	c.src = BIT_ULL(m->va_bits);
	CHECK_EQ(m->encode(&gpu, &c, buf, sizeof(buf)), -EOPNOTSUPP);
	c.src = 0x100000;
	CHECK_EQ(m->encode(&gpu, &c, buf, 8), -ENOSPC);
	memset(&c, 0, sizeof(c));
	c.op = CTXMIG_OP_IB;
	c.src = 0x100000;
	c.value = 0x200;
	c.level = 1;	/* no nesting: buffers start from the GPFIFO */
	CHECK_EQ(m->encode(&gpu, &c, buf, sizeof(buf)), -EOPNOTSUPP);
	memset(&c, 0, sizeof(c));
	c.op = CTXMIG_OP_WRITE32;
	CHECK_EQ(m->encode(&gpu, &c, buf, sizeof(buf)), -EOPNOTSUPP);
	c.op = CTXMIG_OP_NOP;
	CHECK_EQ(m->encode(&gpu, &c, buf, sizeof(buf)), 8);
	ctxmig_gpu_fini(&gpu);
}

TEST(gp_entries)
{
	on_every_nv(gp_entries_on);
}

/* A host semaphore release as nouveau's gv100 fence writes it. */
static void host_semaphore_and_interrupt_on(const struct ctxmig_model *m)
{
	u32 fence[8] = {
		hdr(NV_SEC_OP_INC, 0, NV_HOST_SEM_ADDR_LO, 5),
		0x200100, 0x00, 7, 0xdead, 0x00100001,
		hdr(NV_SEC_OP_IMMD, 0, NV_HOST_NON_STALL_INTERRUPT, 0),
	};
	u32 fence64[6] = {
		hdr(NV_SEC_OP_INC, 2, NV_HOST_SEM_ADDR_LO, 5),
		0x200103, 0x01, 1, 2, 0x01100001,
	};
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	int d;

	CHECK_EQ(ctxmig_gpu_init(&gpu, m, 64 << 20), 0);
	CHECK_EQ(dec(&gpu, fence, 7, 1, &c), 24);
	CHECK(same(&c, CTXMIG_OP_FENCE, 0x200100, 0, 7, 0), "%s: op %u",
	      m->name, c.op);
	CHECK_EQ(dec(&gpu, fence + 6, 1, 1, &c), 4);
	CHECK(same(&c, CTXMIG_OP_NOP, 0, 0, 0, CTXMIG_CMD_IRQ), "%s",
	      m->name);
	/* Any subchannel; ADDR_LO 1:0 ignored; 64-bit payload. */
	CHECK_EQ(dec(&gpu, fence64, 6, 2, &c), 24);
	CHECK(same(&c, CTXMIG_OP_FENCE, 0x100200100ULL, 0,
		   0x200000001ULL, CTXMIG_CMD_FENCE64), "%s: 0x%llx",
	      m->name, (unsigned long long)c.dst);
	/* Every cut inside the run is incomplete. */
	for (d = 0; d < 6; d++)
		CHECK_EQ(dec(&gpu, fence, d, 1, &c), -ENODATA);
	ctxmig_gpu_fini(&gpu);
}

TEST(host_semaphore_and_interrupt)
{
	on_every_nv(host_semaphore_and_interrupt_on);
}

/* State latched by one command's methods serves a later trigger. */
static void latched_state_on(const struct ctxmig_model *m)
{
	u32 state[16] = {
		hdr(NV_SEC_OP_INC, 0, NV_HOST_SEM_ADDR_LO, 4),
		0x3000, 0, 9, 0,
		hdr(NV_SEC_OP_NON_INC, 0, NV_HOST_NOP, 2), 0, 0,
		hdr(NV_SEC_OP_INC, 0, NV_HOST_SET_OBJECT, 1), 0xc56f,
	};
	u32 exec = hdr(NV_SEC_OP_IMMD, 0, NV_HOST_SEM_EXECUTE, 1);
	struct ctxmig_cmd c, w = {
		.op = CTXMIG_OP_WRITE64, .dst = 0x4000, .value = 5,
		.level = 1,
	};
	struct ctxmig_gpu gpu;
	u8 buf[64];
	int n;

	CHECK_EQ(ctxmig_gpu_init(&gpu, m, 64 << 20), 0);
	/* The buffer ends on state: not a command yet... */
	CHECK_EQ(dec(&gpu, state, 10, 1, &c), -ENODATA);
	CHECK_EQ(gpu.eng[0].method[NV_M_SEM_ADDR_LO], 0);
	/* ...unless the fetch window is full: a NOP, state kept. */
	CHECK_EQ(dec(&gpu, state, 16, 1, &c), 64);
	CHECK(same(&c, CTXMIG_OP_NOP, 0, 0, 0, 0), "%s", m->name);
	CHECK_EQ(gpu.eng[0].method[NV_M_SEM_ADDR_LO], 0x3000);
	CHECK_EQ(dec(&gpu, &exec, 1, 1, &c), 4);
	CHECK(same(&c, CTXMIG_OP_FENCE, 0x3000, 0, 9, 0), "%s",
	      m->name);
	/* Only no-op methods: a NOP, even at the end of a buffer. */
	CHECK_EQ(dec(&gpu, state + 5, 5, 1, &c), 20);
	CHECK_EQ(c.op, CTXMIG_OP_NOP);
	/* An encoded group does not depend on what is latched. */
	n = m->encode(&gpu, &w, buf, sizeof(buf));
	CHECK_EQ(n, 28);
	gpu.eng[0].method[NV_M_CE_SEM_PAYLOAD_UPPER] = 0x5555;
	CHECK_EQ(dec(&gpu, (u32 *)buf, n / 4, 1, &c), n);
	CHECK(same(&c, CTXMIG_OP_WRITE64, 0x4000, 0, 5, 0), "%s",
	      m->name);
	ctxmig_gpu_fini(&gpu);
}

TEST(latched_state)
{
	on_every_nv(latched_state_on);
}

/* Copy engine launches: copies, semaphores, interrupts. */
static void copy_engine_on(const struct ctxmig_model *m)
{
	u32 copy[10] = {
		hdr(NV_SEC_OP_INC, 4, NV_CE_OFFSET_IN_UPPER, 4),
		0x1, 0x2000, 0x0, 0x3000,
		hdr(NV_SEC_OP_INC, 4, NV_CE_LINE_LENGTH_IN, 2), 0x100, 1,
		hdr(NV_SEC_OP_INC, 4, NV_CE_LAUNCH_DMA, 1),
		0x182,	/* NON_PIPELINED, pitch to pitch */
	};
	u32 sem[7] = {
		hdr(NV_SEC_OP_INC, 4, NV_CE_SET_SEMAPHORE_A, 3),
		0x0, 0x5000, 42,
		hdr(NV_SEC_OP_INC, 4, NV_CE_LAUNCH_DMA, 1), 0,
	};
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;

	CHECK_EQ(ctxmig_gpu_init(&gpu, m, 64 << 20), 0);
	CHECK_EQ(dec(&gpu, copy, 10, 1, &c), 40);
	CHECK(same(&c, CTXMIG_OP_COPY, 0x3000, 0x100002000ULL, 0x100,
		   0), "%s: op %u", m->name, c.op);
	/* Copy engine methods on another subchannel. */
	copy[0] = hdr(NV_SEC_OP_INC, 3, NV_CE_OFFSET_IN_UPPER, 4);
	CHECK_EQ(dec(&gpu, copy, 10, 1, &c), -EOPNOTSUPP);
	copy[0] = hdr(NV_SEC_OP_INC, 4, NV_CE_OFFSET_IN_UPPER, 4);
	copy[9] = 0x182 | NV_LD_REMAP_ENABLE;
	CHECK_EQ(dec(&gpu, copy, 10, 1, &c), -EOPNOTSUPP);
	copy[9] = 0x182 | NV_LD_MULTI_LINE_ENABLE;
	copy[7] = 2;
	CHECK_EQ(dec(&gpu, copy, 10, 1, &c), -EOPNOTSUPP);
	copy[7] = 1;
	CHECK_EQ(dec(&gpu, copy, 10, 1, &c), 40);
	copy[9] = 0x102;	/* block linear source */
	CHECK_EQ(dec(&gpu, copy, 10, 1, &c), -EOPNOTSUPP);
	copy[9] = 0x182 | FIELD_PREP(NV_LD_SEMAPHORE_TYPE, 1);
	CHECK_EQ(dec(&gpu, copy, 10, 1, &c), -EOPNOTSUPP);

	/* Semaphore release: plain, flushed, interrupting. */
	sem[5] = FIELD_PREP(NV_LD_SEMAPHORE_TYPE, 1);
	CHECK_EQ(dec(&gpu, sem, 6, 1, &c), 24);
	CHECK(same(&c, CTXMIG_OP_WRITE32, 0x5000, 0, 42, 0), "%s",
	      m->name);
	sem[5] |= NV_LD_FLUSH_ENABLE;
	CHECK_EQ(dec(&gpu, sem, 6, 1, &c), 24);
	CHECK(same(&c, CTXMIG_OP_FENCE, 0x5000, 0, 42, 0), "%s",
	      m->name);
	sem[5] |= FIELD_PREP(NV_LD_INTERRUPT_TYPE, 1);
	CHECK_EQ(dec(&gpu, sem, 6, 1, &c), 24);
	CHECK(same(&c, CTXMIG_OP_FENCE, 0x5000, 0, 42, CTXMIG_CMD_IRQ),
	      "%s", m->name);
	sem[5] = FIELD_PREP(NV_LD_INTERRUPT_TYPE, 2);
	CHECK_EQ(dec(&gpu, sem, 6, 1, &c), 24);
	CHECK(same(&c, CTXMIG_OP_NOP, 0, 0, 0, CTXMIG_CMD_IRQ), "%s",
	      m->name);
	sem[5] = FIELD_PREP(NV_LD_SEMAPHORE_TYPE, 2);	/* four-word */
	CHECK_EQ(dec(&gpu, sem, 6, 1, &c), -EOPNOTSUPP);
	sem[2] = 0x5002;
	sem[5] = FIELD_PREP(NV_LD_SEMAPHORE_TYPE, 1);
	CHECK_EQ(dec(&gpu, sem, 6, 1, &c), -EINVAL);
	ctxmig_gpu_fini(&gpu);
}

TEST(copy_engine)
{
	on_every_nv(copy_engine_on);
}

/* What is not in the subset, or not a method stream at all. */
static void illegal_methods_on(const struct ctxmig_model *m)
{
	u32 acquire[6] = {
		hdr(NV_SEC_OP_INC, 0, NV_HOST_SEM_ADDR_LO, 5),
		0x1000, 0, 1, 0, 0x3,	/* ACQ_CIRC_GEQ */
	};
	u32 stamp[6] = {
		hdr(NV_SEC_OP_INC, 0, NV_HOST_SEM_ADDR_LO, 5),
		0x1000, 0, 1, 0, 0x1 | NV_SEM_EXECUTE_TIMESTAMP,
	};
	/* SEM_EXECUTE then SEM_EXECUTE + 4 in one run */
	u32 past[3] = { hdr(NV_SEC_OP_INC, 0, NV_HOST_SEM_EXECUTE, 2),
			1, 0 };
	/* MEM_OP_D: a TLB invalidate (membars are no-ops) */
	u32 memop[2] = { hdr(NV_SEC_OP_INC, 0, 0x34, 1), 9U << 27 };
	u32 tert = 0x00010000;	/* SEC_OP 0, not the NOP header */
	u32 seg_end = 0xe0000000;
	u32 ce_unknown[2] = { hdr(NV_SEC_OP_INC, 4, 0x500, 1), 0 };
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;

	CHECK_EQ(ctxmig_gpu_init(&gpu, m, 64 << 20), 0);
	CHECK_EQ(dec(&gpu, acquire, 6, 1, &c), -EOPNOTSUPP);
	CHECK_EQ(dec(&gpu, stamp, 6, 1, &c), -EOPNOTSUPP);
	CHECK_EQ(dec(&gpu, past, 3, 1, &c), -EOPNOTSUPP);
	CHECK_EQ(dec(&gpu, memop, 2, 1, &c), -EOPNOTSUPP);
	CHECK_EQ(dec(&gpu, &tert, 1, 1, &c), -EOPNOTSUPP);
	CHECK_EQ(dec(&gpu, &seg_end, 1, 1, &c), -EOPNOTSUPP);
	CHECK_EQ(dec(&gpu, ce_unknown, 2, 1, &c), -EOPNOTSUPP);
	/* Nothing latched by a command that failed. */
	CHECK_EQ(gpu.eng[0].method[NV_M_SEM_ADDR_LO], 0);
	ctxmig_gpu_fini(&gpu);
}

TEST(illegal_methods)
{
	on_every_nv(illegal_methods_on);
}

/* Every encoding decodes back; long copies split; reach is checked. */
static void encode_round_trip_on(const struct ctxmig_model *m)
{
	static const struct ctxmig_cmd cmds[] = {
		{ .op = CTXMIG_OP_NOP },
		{ .op = CTXMIG_OP_NOP, .flags = CTXMIG_CMD_IRQ },
		{ .op = CTXMIG_OP_WRITE32, .dst = 0x1ffff000, .value = 3 },
		{ .op = CTXMIG_OP_WRITE64, .dst = 0x10000000008ULL,
		  .value = 1ULL << 63 },
		{ .op = CTXMIG_OP_FENCE, .dst = 0x2000, .value = 1 },
		{ .op = CTXMIG_OP_FENCE, .dst = 0x2000, .value = 1ULL << 40,
		  .flags = CTXMIG_CMD_FENCE64 | CTXMIG_CMD_IRQ },
		{ .op = CTXMIG_OP_COPY, .src = 0x1000, .dst = 0x9000,
		  .value = 0x7000 },
	};
	unsigned int j;
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c, big = {
		.op = CTXMIG_OP_COPY, .src = 0x100000000ULL,
		.dst = 0x800000000ULL, .value = 5ULL << 30, .level = 1,
	};
	u8 buf[256];
	u64 done;
	int n, d, pos;

	CHECK_EQ(ctxmig_gpu_init(&gpu, m, 64 << 20), 0);
	for (j = 0; j < ARRAY_SIZE(cmds); j++) {
		struct ctxmig_cmd in = cmds[j];

		in.level = 1;
		n = m->encode(&gpu, &in, buf, sizeof(buf));
		CHECK(n > 0 && n <= CTXMIG_CMD_MAX_BYTES, "%s: %d",
		      m->name, n);
		d = dec(&gpu, (u32 *)buf, n / 4, 1, &c);
		CHECK_EQ(d, n);
		CHECK(same(&c, in.op, in.dst, in.src, in.value,
			   in.flags), "%s: cmd %u", m->name, j);
	}
	/* 5 GiB: 2 GiB, 2 GiB, 1 GiB launches. */
	n = m->encode(&gpu, &big, buf, sizeof(buf));
	CHECK_EQ(n, 120);
	for (pos = 0, done = 0; pos < n; pos += d) {
		d = dec(&gpu, (u32 *)(buf + pos), (n - pos) / 4, 1, &c);
		CHECK_EQ(d, 40);
		if (d <= 0)
			break;
		CHECK_EQ(c.src, big.src + done);
		CHECK_EQ(c.dst, big.dst + done);
		done += c.value;
	}
	CHECK_EQ(done, big.value);
	/* Beyond the copy engine's reach: 49 or 57 bits. */
	c = cmds[2];
	c.level = 1;
	c.dst = BIT_ULL(m->va_bits);
	CHECK_EQ(m->encode(&gpu, &c, buf, sizeof(buf)), -EOPNOTSUPP);
	c.dst = BIT_ULL(m->va_bits) - 4;
	CHECK_EQ(m->encode(&gpu, &c, buf, sizeof(buf)), 24);
	c.dst = 0x1002;
	CHECK_EQ(m->encode(&gpu, &c, buf, sizeof(buf)), -EOPNOTSUPP);
	ctxmig_gpu_fini(&gpu);
}

TEST(encode_round_trip)
{
	on_every_nv(encode_round_trip_on);
}

static void pte_leaf(struct ctxmig_pte *p, u64 addr, u32 flags, u8 cache)
{
	memset(p, 0, sizeof(*p));
	p->kind = CTXMIG_PTE_LEAF;
	p->addr = addr;
	p->flags = flags;
	p->cache = cache;
}

static void pte_table(struct ctxmig_pte *p, u64 addr)
{
	memset(p, 0, sizeof(*p));
	p->kind = CTXMIG_PTE_TABLE;
	p->addr = addr;
}

/* MMU v2 entries, bit for bit as vmmgp100.c writes them. */
TEST(mmu_v2_entries)
{
	const struct ctxmig_model *m = &ctxmig_nv_ampere_model;
	u32 rw = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE;
	u32 rx = CTXMIG_MAP_READ | CTXMIG_MAP_EXEC;
	struct ctxmig_gpu gpu;
	struct ctxmig_pte p, q;
	u64 raw[2] = {};
	unsigned int c;

	CHECK_EQ(ctxmig_gpu_init(&gpu, m, 64 << 20), 0);
	/* PT (level 5): video, RW: VALID | addr >> 4 */
	pte_leaf(&p, 0x1234000, rw, CTXMIG_CACHE_DEFAULT);
	CHECK_EQ(m->pte_encode(&gpu, 5, 0, &p, raw), 0);
	CHECK_EQ(raw[0], 0x123401ULL);
	m->pte_decode(&gpu, 5, 0, raw, &q);
	CHECK_EQ(q.kind, CTXMIG_PTE_LEAF);
	CHECK_EQ(q.addr, 0x1234000);
	CHECK_EQ(q.flags, rw | CTXMIG_MAP_EXEC);
	/* System, coherent, read-only: APERTURE 2, READ_ONLY bit 6 */
	pte_leaf(&p, 0x123456000ULL,
		 CTXMIG_MAP_READ | CTXMIG_MAP_SYSMEM | CTXMIG_MAP_SNOOP,
		 CTXMIG_CACHE_DEFAULT);
	CHECK_EQ(m->pte_encode(&gpu, 4, 0, &p, raw), 0);
	CHECK_EQ(raw[0], 0x12345645ULL);
	m->pte_decode(&gpu, 4, 0, raw, &q);
	CHECK_EQ(q.flags, rx | CTXMIG_MAP_SYSMEM | CTXMIG_MAP_SNOOP);
	CHECK_EQ(q.addr, 0x123456000ULL);
	/* Non-coherent system: APERTURE 3, no SNOOP */
	raw[0] = 0x12345601ULL | 3 << 1;
	m->pte_decode(&gpu, 5, 0, raw, &q);
	CHECK_EQ(q.flags, rw | CTXMIG_MAP_EXEC | CTXMIG_MAP_SYSMEM);
	/* The pitfall: PTE aperture 1 is a peer, not video memory. */
	raw[0] = 0x123401ULL | 1 << 1;
	m->pte_decode(&gpu, 5, 0, raw, &q);
	CHECK_EQ(q.kind, CTXMIG_PTE_INVALID);
	/* Sparse: VALID 0, VOL 1. */
	raw[0] = BIT(3);
	m->pte_decode(&gpu, 5, 0, raw, &q);
	CHECK_EQ(q.kind, CTXMIG_PTE_INVALID);
	/* ...and PDE aperture 0 is invalid, 1 video, 2/3 system. */
	raw[0] = 0x1000ULL;
	m->pte_decode(&gpu, 1, 0, raw, &q);
	CHECK_EQ(q.kind, CTXMIG_PTE_INVALID);
	raw[0] = 0x1000ULL | 2 << 1;
	m->pte_decode(&gpu, 1, 0, raw, &q);
	CHECK_EQ(q.kind, CTXMIG_PTE_INVALID);
	pte_table(&p, 0x100000);
	CHECK_EQ(m->pte_encode(&gpu, 1, 0, &p, raw), 0);
	CHECK_EQ(raw[0], 0x10002ULL);
	m->pte_decode(&gpu, 1, 0, raw, &q);
	CHECK(q.kind == CTXMIG_PTE_TABLE && q.addr == 0x100000, "%u 0x%llx",
	      q.kind, (unsigned long long)q.addr);
	/* Video VRAM beyond ADDRESS_VID (32:8, 37 bits). */
	pte_leaf(&p, 1ULL << 37, rw, 0);
	CHECK_EQ(m->pte_encode(&gpu, 5, 0, &p, raw), -EOPNOTSUPP);
	/* Not readable: no such NVIDIA page. */
	pte_leaf(&p, 0x1000, CTXMIG_MAP_WRITE, 0);
	CHECK_EQ(m->pte_encode(&gpu, 5, 0, &p, raw), -EOPNOTSUPP);

	/* Dual PD0: big table in 63:0 (>> 8 at bit 4), small in 127:64. */
	memset(raw, 0, sizeof(raw));
	pte_table(&p, 0x20100);
	CHECK_EQ(m->pte_encode(&gpu, 3, 0, &p, raw), 0);
	pte_table(&p, 0x30000);
	CHECK_EQ(m->pte_encode(&gpu, 3, 1, &p, raw), 0);
	CHECK_EQ(raw[0], 0x2012ULL);
	CHECK_EQ(raw[1], 0x3002ULL);
	m->pte_decode(&gpu, 3, 0, raw, &q);
	CHECK_EQ(q.addr, 0x20100);
	m->pte_decode(&gpu, 3, 1, raw, &q);
	CHECK_EQ(q.addr, 0x30000);
	/* A 2 MiB page over a small-page table is refused. */
	pte_leaf(&p, 0x200000, rw, 0);
	CHECK_EQ(m->pte_encode(&gpu, 3, 0, &p, raw), -EEXIST);
	memset(raw, 0, sizeof(raw));
	CHECK_EQ(m->pte_encode(&gpu, 3, 0, &p, raw), 0);
	CHECK_EQ(raw[0], 0x20001ULL);
	m->pte_decode(&gpu, 3, 1, raw, &q);
	CHECK_EQ(q.kind, CTXMIG_PTE_INVALID);
	m->pte_decode(&gpu, 3, 0, raw, &q);
	CHECK(q.kind == CTXMIG_PTE_LEAF && q.addr == 0x200000, "%u", q.kind);
	pte_table(&p, 0x30000);
	CHECK_EQ(m->pte_encode(&gpu, 3, 1, &p, raw), -EEXIST);

	/* Cache: VOL and ctxmig's bit 55; a native VOL page is UNCACHED. */
	for (c = 0; c <= CTXMIG_CACHE_MAX; c++) {
		pte_leaf(&p, 0x5000, rw, c);
		CHECK_EQ(m->pte_encode(&gpu, 5, 0, &p, raw), 0);
		m->pte_decode(&gpu, 5, 0, raw, &q);
		CHECK_EQ(q.cache, c);
	}
	raw[0] = 0x501ULL | BIT(3);
	m->pte_decode(&gpu, 5, 0, raw, &q);
	CHECK_EQ(q.cache, CTXMIG_CACHE_UNCACHED);
	ctxmig_gpu_fini(&gpu);
}

/* MMU v3 entries, as gh100 dev_mmu.h lays them out. */
TEST(mmu_v3_entries)
{
	const struct ctxmig_model *m = &ctxmig_nv_hopper_model;
	struct ctxmig_gpu gpu;
	struct ctxmig_pte p, q;
	u64 raw[2] = {};
	unsigned int c;

	CHECK_EQ(ctxmig_gpu_init(&gpu, m, 64 << 20), 0);
	/* RO video page: PCF 4 (REGULAR_RO_ATOMIC_CACHED_ACE), in place */
	pte_leaf(&p, 0x1234000, CTXMIG_MAP_READ, CTXMIG_CACHE_DEFAULT);
	CHECK_EQ(m->pte_encode(&gpu, 6, 0, &p, raw), 0);
	CHECK_EQ(raw[0], 0x1234021ULL);
	CHECK_EQ(FIELD_GET(GENMASK_ULL(7, 3), raw[0]), 4);
	/* RW uncached: PCF 1 */
	pte_leaf(&p, 0x1234000, CTXMIG_MAP_READ | CTXMIG_MAP_WRITE,
		 CTXMIG_CACHE_UNCACHED);
	CHECK_EQ(m->pte_encode(&gpu, 6, 0, &p, raw), 0);
	CHECK_EQ(raw[0], 0x1234009ULL);
	/* nouveau's PCF with ACD (0x10) still decodes as RW */
	raw[0] = 0x1234001ULL | 0x10 << 3;
	m->pte_decode(&gpu, 6, 0, raw, &q);
	CHECK(q.flags & CTXMIG_MAP_WRITE, "0x%x", q.flags);
	CHECK_EQ(q.cache, CTXMIG_CACHE_DEFAULT);
	/* Video addresses stop at 40 bits, system at 52. */
	pte_leaf(&p, 1ULL << 40, CTXMIG_MAP_READ, 0);
	CHECK_EQ(m->pte_encode(&gpu, 6, 0, &p, raw), -EOPNOTSUPP);
	p.flags |= CTXMIG_MAP_SYSMEM;
	CHECK_EQ(m->pte_encode(&gpu, 6, 0, &p, raw), 0);
	CHECK_EQ(raw[0], (1ULL << 40) | 0x27);	/* aperture 3, RO */
	/* PDE: aperture 1 (video), PCF 2, address in place */
	pte_table(&p, 0x10000);
	CHECK_EQ(m->pte_encode(&gpu, 0, 0, &p, raw), 0);
	CHECK_EQ(raw[0], 0x10012ULL);
	/* The pitfall again: in a PTE, aperture 1 is a peer. */
	raw[0] = 0x10003ULL;
	m->pte_decode(&gpu, 6, 0, raw, &q);
	CHECK_EQ(q.kind, CTXMIG_PTE_INVALID);
	m->pte_decode(&gpu, 3, 0, raw, &q);	/* IS_PTE above PD0 */
	CHECK_EQ(q.kind, CTXMIG_PTE_INVALID);
	/* Dual PD0: big 51:8 and small 115:76, both in place. */
	memset(raw, 0, sizeof(raw));
	pte_table(&p, 0x20100);
	CHECK_EQ(m->pte_encode(&gpu, 4, 0, &p, raw), 0);
	pte_table(&p, 0x30000);
	CHECK_EQ(m->pte_encode(&gpu, 4, 1, &p, raw), 0);
	CHECK_EQ(raw[0], 0x20112ULL);
	CHECK_EQ(raw[1], 0x30012ULL);
	for (c = 0; c <= CTXMIG_CACHE_MAX; c++) {
		pte_leaf(&p, 0x200000, CTXMIG_MAP_READ, c);
		memset(raw, 0, sizeof(raw));
		CHECK_EQ(m->pte_encode(&gpu, 4, 0, &p, raw), 0);
		m->pte_decode(&gpu, 4, 0, raw, &q);
		CHECK(q.kind == CTXMIG_PTE_LEAF && q.cache == c, "%u", c);
	}
	ctxmig_gpu_fini(&gpu);
}

/* VRAM offset of the big-page table under the PD0 entry of @va. */
static u64 big_table_of(struct ctxmig_gpu *gpu, u64 va)
{
	const struct ctxmig_model *m = gpu->model;
	const struct ctxmig_nv_gen *g = m->data;
	u64 table = m->pt_root(gpu);
	u32 level;

	for (level = 0; level <= g->pd0; level++) {
		const struct ctxmig_pt_level *l = &m->levels[level];
		u64 idx = (va >> l->shift) & (BIT_ULL(l->bits) - 1);
		u64 raw[2] = {};
		struct ctxmig_pte pte;

		ctxmig_vram_read(&gpu->vram, table + idx * l->entry_size, raw,
				 l->entry_size);
		m->pte_decode(gpu, level, 0, raw, &pte);
		if (pte.kind != CTXMIG_PTE_TABLE)
			return U64_MAX;
		table = pte.addr;
	}
	return table;
}

static void set_big_pte(struct ctxmig_gpu *gpu, u64 va, u64 e)
{
	u64 t = big_table_of(gpu, va);

	CHECK(t != U64_MAX, "no big-page table at 0x%llx",
	      (unsigned long long)va);
	ctxmig_vram_write(&gpu->vram, t + ((va >> 16) & 31) * 8, &e, 8);
}

struct one_map {
	u64 va;
	u64 addr;
	u64 size;
	u32 n;
};

static int find_map(void *priv, const struct ctxmig_mapping *map)
{
	struct one_map *o = priv;

	if (map->va <= o->va && o->va < map->va + map->size) {
		o->addr = map->addr + (o->va - map->va);
		o->size = map->size;
		o->n++;
	}
	return 0;
}

/* What a walk (the save) reports for @va: 0 if unmapped, else its addr. */
static u64 walked(struct ctxmig_gpu *gpu, u64 va)
{
	static const struct ctxmig_pt_walk_ops ops = { .mapping = find_map };
	struct one_map o = { .va = va };

	CHECK_EQ(ctxmig_pt_walk(gpu, &ops, &o), 0);
	return o.n ? o.addr : 0;
}

/*
 * Dual PD0: the 64 KiB page table's entry decides whether the MMU looks
 * at the 4 KiB entries under it.  Valid: the big page, whatever is below.
 * Invalid with PRIV (MMU v2, nouveau vmmgp100.c gp100_vmm_lpt_invalid())
 * or PCF NO_VALID_4KB_PAGE (MMU v3, UVM uvm_hopper_mmu.c
 * unmapped_pte_hopper()), or sparse: the 4 KiB entries are ignored.
 * All zero: they are used.  A save carries what the MMU would translate.
 */
static void dual_pd0_on(const struct ctxmig_model *m)
{
	const u64 va = 0x1000000, small_vram = 0x1000000, big_vram = 0x1100000;
	const u64 no_4k = m == &ctxmig_nv_hopper_model ? 3ULL << 3 :
			  BIT_ULL(5);
	struct ctxmig_mapping small = {
		.va = va, .size = 0x10000, .addr = small_vram,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE, .page_shift = 12,
	}, big = {
		.va = va + 0x10000, .size = 0x10000, .addr = big_vram,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE, .page_shift = 16,
	};
	struct ctxmig_gpu gpu, b;
	struct ctxmig_xlate x;
	struct gu_stream s = {};
	char why[CTXMIG_IR_REASON_LEN];
	u64 t, valid_big;

	CHECK_EQ(gu_setup(&gpu, m, 64 << 20, 40), 0);
	CHECK_EQ(gu_map(&gpu, &small), 0);
	CHECK_EQ(gu_map(&gpu, &big), 0);
	t = big_table_of(&gpu, va);
	CHECK(t != U64_MAX, "%s: no big-page table", m->name);
	ctxmig_vram_read(&gpu.vram, t + 8, &valid_big, 8);

	/* All-zero big entry: the 4 KiB pages. */
	CHECK_EQ(ctxmig_pt_translate(&gpu, va + 0x3000, &x), 0);
	CHECK_EQ(x.addr, small_vram + 0x3000);
	CHECK_EQ(walked(&gpu, va + 0x3000), small_vram + 0x3000);
	CHECK_EQ(walked(&gpu, va + 0x13000), big_vram + 0x3000);

	/* Unmapped through the big entry: the 4 KiB pages are ignored. */
	set_big_pte(&gpu, va, no_4k);
	CHECK_EQ(ctxmig_pt_translate(&gpu, va + 0x3000, &x), -EFAULT);
	CHECK_EQ(walked(&gpu, va + 0x3000), 0);
	set_big_pte(&gpu, va, NV_PTE_VOL);	/* sparse */
	CHECK_EQ(ctxmig_pt_translate(&gpu, va + 0x3000, &x), -EFAULT);
	CHECK_EQ(walked(&gpu, va + 0x3000), 0);

	/* A valid big entry over valid 4 KiB entries: the big page. */
	set_big_pte(&gpu, va, valid_big);
	CHECK_EQ(ctxmig_pt_translate(&gpu, va + 0x3000, &x), 0);
	CHECK_EQ(x.addr + (0x3000 & (BIT_ULL(x.page_shift) - 1)),
		 big_vram + 0x3000);
	CHECK_EQ(walked(&gpu, va + 0x3000), big_vram + 0x3000);

	/* The save says so, and the target translates the same. */
	set_big_pte(&gpu, va, no_4k);
	CHECK_EQ(gu_save(&gpu, &s, why), 0);
	CHECK_EQ(ctxmig_gpu_init(&b, m, 64 << 20), 0);
	CHECK_EQ(ctxmig_gpu_set_va_bits(&b, 40), 0);
	CHECK(!gu_restore(&b, &s, 0, why), "%s", why);
	CHECK_EQ(ctxmig_pt_translate(&b, va + 0x3000, &x), -EFAULT);
	CHECK_EQ(ctxmig_pt_translate(&b, va + 0x13000, &x), 0);
	gu_stream_free(&s);
	ctxmig_gpu_fini(&b);
	ctxmig_gpu_fini(&gpu);
}

TEST(dual_pd0)
{
	on_every_nv(dual_pd0_on);
}

/* Ring and page directory registers. */
static void registers_on(const struct ctxmig_model *m)
{
	struct ctxmig_ring r = {
		.base = 0x12345000ULL, .size = 4096, .head = 64,
		.tail = 4088, .flags = CTXMIG_RING_ENABLED,
	}, g;
	struct ctxmig_gpu gpu;

	bool hopper = m == &ctxmig_nv_hopper_model;

	CHECK_EQ(ctxmig_gpu_init(&gpu, m, 64 << 20), 0);
	CHECK_EQ(m->pt_root(&gpu), U64_MAX);
	/* Reset: a 4 KiB GPFIFO, LIMIT2 9. */
	m->ring_get(&gpu, 0, &g);
	CHECK_EQ(g.size, 4096);
	CHECK_EQ(m->ring_set(&gpu, 0, &r), 0);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, NV_PBDMA_GP_BASE),
		 0x12345000);
	if (hopper) {
		/* gh100 dev_esched_pbdma.h: LIMIT2 in GP_INFO 4:0. */
		CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, NV_PBDMA_GP_BASE_HI), 0);
		CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, NV_PBDMA_GP_INFO), 9);
	} else {
		CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, NV_PBDMA_GP_BASE_HI),
			 9 << 16);
	}
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, NV_PBDMA_GP_GET), 8);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, NV_PBDMA_GP_PUT), 511);
	m->ring_get(&gpu, 0, &g);
	CHECK(g.base == r.base && g.size == r.size && g.head == r.head &&
	      g.tail == r.tail && g.flags == r.flags, "%s", m->name);
	/* The guest's own programming, entry indices. */
	if (hopper) {
		/* GP_BASE_HI OFFSET 24:0: VA 56:32. */
		ctxmig_gpu_mmio_write(&gpu, NV_PBDMA_GP_BASE_HI, 0x1fffff2);
		ctxmig_gpu_mmio_write(&gpu, NV_PBDMA_GP_INFO, 5);
	} else {
		/* OFFSET 7:0 (VA 39:32), LIMIT2 20:16. */
		ctxmig_gpu_mmio_write(&gpu, NV_PBDMA_GP_BASE_HI,
				      0x12 | 5 << 16);
	}
	ctxmig_gpu_mmio_write(&gpu, NV_PBDMA_GP_PUT, 33);
	m->ring_get(&gpu, 0, &g);
	CHECK_EQ(g.base, hopper ? 0x1fffff212345000ULL : 0x1212345000ULL);
	CHECK_EQ(g.size, 256);
	CHECK_EQ(g.tail, 8);
	r.head = 4;
	CHECK_EQ(m->ring_set(&gpu, 0, &r), -EINVAL);
	r.head = 0;
	/* Ampere's GPFIFO is below 1 TiB, Hopper's anywhere in 57 bits. */
	r.base = 1ULL << 40;
	CHECK_EQ(m->ring_set(&gpu, 0, &r), hopper ? 0 : -EINVAL);
	if (hopper) {
		m->ring_get(&gpu, 0, &g);
		CHECK_EQ(g.base, 1ULL << 40);
		CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, NV_PBDMA_GP_BASE_HI),
			 0x100);
	}
	r.base = 1ULL << 57;
	CHECK_EQ(m->ring_set(&gpu, 0, &r), -EINVAL);
	m->set_pt_root(&gpu, 0x123456789000ULL);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, NV_RAMIN_PDB_LO),
		 0x56789c00);
	CHECK_EQ(ctxmig_gpu_mmio_read(&gpu, NV_RAMIN_PDB_HI), 0x1234);
	CHECK_EQ(m->pt_root(&gpu), 0x123456789000ULL);
	ctxmig_gpu_mmio_write(&gpu, NV_RAMIN_PDB_LO, 0x56789c02);
	CHECK_EQ(m->pt_root(&gpu), U64_MAX);	/* system memory */
	ctxmig_gpu_fini(&gpu);
}

TEST(registers)
{
	on_every_nv(registers_on);
}

/* The smoke program through the GPFIFO, checked (gpu_test skips models
 * it cannot set up; here that is a failure).
 */
static void runs_through_the_gpfifo_on(const struct ctxmig_model *m)
{
	static const struct ctxmig_cmd cmds[] = {
		{ .op = CTXMIG_OP_WRITE32, .dst = 0x200000, .value = 0xabcd },
		{ .op = CTXMIG_OP_COPY, .src = 0x200000, .dst = 0x300000,
		  .value = 4 },
		{ .op = CTXMIG_OP_FENCE, .dst = 0x200100, .value = 3,
		  .flags = CTXMIG_CMD_IRQ },
	};
	struct ctxmig_gpu gpu;
	struct ctxmig_ring r;

	CHECK_EQ(gu_setup(&gpu, m, 64 << 20, 40), 0);
	ctxmig_gpu_mmio_write(&gpu, m->mmio_size - CTXMIG_CTL_SIZE +
			      CTXMIG_CTL_IRQ_ENABLE, CTXMIG_IRQ_ALL);
	CHECK_EQ(gu_submit(&gpu, cmds, ARRAY_SIZE(cmds)), 0);
	CHECK_EQ(ctxmig_gpu_run(&gpu, 0, 100), 4);
	CHECK_EQ(gu_read32(&gpu, 0x300000), 0xabcd);
	CHECK_EQ(gu_read32(&gpu, 0x200100), 3);
	CHECK_EQ(gpu.eng[0].irqs, 1);
	m->ring_get(&gpu, 0, &r);
	CHECK_EQ(r.head, 16);	/* extended base + entry */
	CHECK_EQ(r.tail, 16);
	ctxmig_gpu_fini(&gpu);
}

TEST(runs_through_the_gpfifo)
{
	on_every_nv(runs_through_the_gpfifo_on);
}

/*
 * UVM on Hopper: the channel's pushbuffer above 1 TiB, its extended base
 * written once (uvm_channel.c, set_gpfifo_pushbuffer_segment_base()),
 * then entries with VA 39:0 only (set_gpfifo_entry()).  The base is
 * channel state: the second submission still reaches the pushbuffer, and
 * so does a submission after a migration with nothing pending.
 */
#define HI_PB_VA	0x20000180000ULL	/* 2 TiB + 1.5 MiB */

static int hopper_push(struct ctxmig_gpu *gpu, u64 pb_va, u32 value,
		       bool set_base)
{
	u32 dw[32], gp[4];
	struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };
	u8 buf[128];
	u32 n = 0;
	int ret;

	vec_uvm_hopper_host_semaphore_release(&r, GU_VA + 0x200000, value);
	vec_bytes(&r, buf);
	ret = ctxmig_gpu_poke(gpu, pb_va, buf, r.n * 4);
	if (set_base) {
		vec_uvm_hopper_set_gpfifo_pushbuffer_segment_base(gp, pb_va);
		n = 2;
	}
	vec_uvm_hopper_set_gpfifo_entry(gp + n, pb_va, r.n * 4, false);
	n += 2;
	r = (struct vec_ring){ .dw = gp, .n = n, .room = 4 };
	vec_bytes(&r, buf);
	return ret ?: gu_ring_append(gpu, buf, n * 4);
}

TEST(extended_base_is_channel_state)
{
	const struct ctxmig_model *m = &ctxmig_nv_hopper_model;
	struct ctxmig_mapping hi = {
		.va = HI_PB_VA & ~0xfffffULL, .size = 1 << 20,
		.addr = GU_VRAM + GU_VA_SIZE,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE, .page_shift = 12,
	};
	struct ctxmig_gpu a, b;
	struct gu_stream s = {};
	char why[CTXMIG_IR_REASON_LEN];
	struct ctxmig_ring r;

	CHECK_EQ(gu_setup(&a, m, 64 << 20, 48), 0);
	CHECK_EQ(gu_map(&a, &hi), 0);
	CHECK_EQ(hopper_push(&a, HI_PB_VA, 1, true), 0);
	CHECK(ctxmig_gpu_run(&a, 0, 100) > 0, "%s", a.eng[0].reason);
	CHECK_EQ(gu_read32(&a, GU_VA + 0x200000), 1);
	CHECK_EQ(hopper_push(&a, HI_PB_VA + 0x100, 2, false), 0);
	CHECK(ctxmig_gpu_run(&a, 0, 100) > 0, "%s", a.eng[0].reason);
	CHECK_EQ(gu_read32(&a, GU_VA + 0x200000), 2);
	m->ring_get(&a, 0, &r);
	CHECK_EQ(r.ib_va_base, 2ULL << 40);

	/* Saved idle, restored on another Hopper: the base came along. */
	CHECK_EQ(gu_save(&a, &s, why), 0);
	CHECK_EQ(ctxmig_gpu_init(&b, m, 64 << 20), 0);
	CHECK_EQ(ctxmig_gpu_set_va_bits(&b, 48), 0);
	CHECK(!gu_restore(&b, &s, 0, why), "%s", why);
	CHECK_EQ(hopper_push(&b, HI_PB_VA + 0x200, 3, false), 0);
	CHECK(ctxmig_gpu_run(&b, 0, 100) > 0, "%s", b.eng[0].reason);
	CHECK_EQ(gu_read32(&b, GU_VA + 0x200000), 3);
	gu_stream_free(&s);
	ctxmig_gpu_fini(&a);
	ctxmig_gpu_fini(&b);
}

/* Decode what a vector wrote, as the commands of a pushbuffer. */
static int dec_ring(struct ctxmig_gpu *gpu, const struct vec_ring *r,
		    u32 *pos, struct ctxmig_cmd *cmd)
{
	u8 buf[CTXMIG_CMD_MAX_BYTES];
	u32 n = min_t(u32, (r->n - *pos) * 4, sizeof(buf));
	int ret;

	memcpy(buf, (const u8 *)r->dw + *pos * 4, n);
	{
		struct vec_ring part = { .dw = r->dw + *pos, .n = n / 4 };

		vec_bytes(&part, buf);
	}
	memset(cmd, 0, sizeof(*cmd));
	cmd->level = 1;
	ret = gpu->model->decode(gpu, 0, buf, n, 1, cmd);
	if (ret > 0)
		*pos += ret / 4;
	return ret;
}

/*
 * nouveau's Ampere fence (nvc0_fence_emit32(): SEMAPHOREA..D and
 * NON_STALL_INTERRUPT in one header, clc56f.h) is one fence with its
 * interrupt.  Hopper's host class (clc86f.h) has no SEMAPHOREA..D.
 */
static void nouveau_fence_on(const struct ctxmig_model *m)
{
	u32 dw[16];
	struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	u32 pos = 0;

	CHECK_EQ(ctxmig_gpu_init(&gpu, m, 64 << 20), 0);
	vec_nvc0_fence_emit32(&r, 0x1234567008ULL, 42);
	CHECK_EQ(r.n, 6);
	if (m == &ctxmig_nv_hopper_model) {
		CHECK_EQ(dec_ring(&gpu, &r, &pos, &c), -EOPNOTSUPP);
	} else {
		CHECK_EQ(dec_ring(&gpu, &r, &pos, &c), 24);
		CHECK(same(&c, CTXMIG_OP_FENCE, 0x1234567008ULL, 0, 42,
			   CTXMIG_CMD_IRQ), "%s: op %u flags %x dst 0x%llx",
		      m->name, c.op, c.flags, (unsigned long long)c.dst);
		/* Acquires are not emulated; releases without the irq are. */
		dw[4] = 4;	/* OPERATION ACQ_GEQ */
		pos = 0;
		CHECK_EQ(dec_ring(&gpu, &r, &pos, &c), -EOPNOTSUPP);
		dw[0] = hdr(NV_SEC_OP_INC, 0, 0x10, 4);
		dw[4] = 2;
		pos = 0;
		CHECK_EQ(dec_ring(&gpu, &r, &pos, &c), 20);
		CHECK(same(&c, CTXMIG_OP_FENCE, 0x1234567008ULL, 0, 42, 0),
		      "%s", m->name);
	}
	ctxmig_gpu_fini(&gpu);
}

TEST(nouveau_fence)
{
	on_every_nv(nouveau_fence_on);
}

/* nouveau's buffer move (nve0_bo_move_copy()): PAGE_SIZE lines, pitched. */
static void nouveau_copy_on(const struct ctxmig_model *m)
{
	u32 dw[32];
	struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	u32 pos = 0;

	CHECK_EQ(ctxmig_gpu_init(&gpu, m, 64 << 20), 0);
	vec_nve0_bo_move_init(&r, 0xbeef0001);
	vec_nve0_bo_move_copy(&r, 0x12000000ULL, 0x13000000ULL, 3 * 4096);
	CHECK_EQ(r.n, 12);
	CHECK_EQ(dec_ring(&gpu, &r, &pos, &c), 48);
	CHECK(same(&c, CTXMIG_OP_COPY, 0x13000000ULL, 0x12000000ULL,
		   3 * 4096, 0), "%s: op %u value %llu", m->name, c.op,
	      (unsigned long long)c.value);
	/* Lines that are not back to back are a 2D copy: not emulated. */
	dw[7] = 8192;	/* PITCH_IN */
	pos = 0;
	CHECK_EQ(dec_ring(&gpu, &r, &pos, &c), -EOPNOTSUPP);
	dw[7] = 4096;
	dw[10] = 0;	/* LINE_COUNT 0 */
	pos = 0;
	CHECK_EQ(dec_ring(&gpu, &r, &pos, &c), -EINVAL);
	ctxmig_gpu_fini(&gpu);
}

TEST(nouveau_copy)
{
	on_every_nv(nouveau_copy_on);
}

/*
 * UVM's semaphore release on Hopper (WFI, a system membar through MEM_OP,
 * SEM_ADDR_LO..SEM_EXECUTE), its interrupt and its memcopy.
 */
static void uvm_push_on(const struct ctxmig_model *m)
{
	u32 dw[64];
	struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };
	struct ctxmig_gpu gpu;
	struct ctxmig_cmd c;
	u32 pos = 0;

	CHECK_EQ(ctxmig_gpu_init(&gpu, m, 64 << 20), 0);
	vec_uvm_host_init(&r);
	vec_uvm_hopper_ce_memcopy(&r, 0x23000000ULL, 0x22000004ULL, 5000);
	vec_uvm_hopper_host_semaphore_release(&r, 0x24000010ULL, 77);
	vec_uvm_host_interrupt(&r);
	CHECK(!r.overflow, "vector overflow");
	CHECK_EQ(dec_ring(&gpu, &r, &pos, &c), 4 * (2 + 5 + 2 + 2));
	CHECK(same(&c, CTXMIG_OP_COPY, 0x23000000ULL, 0x22000004ULL, 5000, 0),
	      "%s: op %u", m->name, c.op);
	CHECK_EQ(dec_ring(&gpu, &r, &pos, &c), 4 * (2 + 5 + 6));
	CHECK(same(&c, CTXMIG_OP_FENCE, 0x24000010ULL, 0, 77, 0), "%s: op %u",
	      m->name, c.op);
	CHECK_EQ(dec_ring(&gpu, &r, &pos, &c), 8);
	CHECK(same(&c, CTXMIG_OP_NOP, 0, 0, 0, CTXMIG_CMD_IRQ), "%s", m->name);
	CHECK_EQ(pos, r.n);
	/* Other memory operations (a TLB invalidate) are not no-ops. */
	r.n = 0;
	vec_uvm_wfi_membar_sys(&r);
	dw[6] = 9U << 27;	/* MEM_OP_D OPERATION MMU_TLB_INVALIDATE */
	pos = 0;
	CHECK_EQ(dec_ring(&gpu, &r, &pos, &c), -EOPNOTSUPP);
	ctxmig_gpu_fini(&gpu);
}

TEST(uvm_push)
{
	on_every_nv(uvm_push_on);
}

int main(void)
{
	return host_main("nv_test");
}
