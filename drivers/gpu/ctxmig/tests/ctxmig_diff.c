// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig differential migration tests, shared by the KUnit suite
 * (ctxmig_xlate_kunit.c) and the host tests (tools/testing/ctxmig/host).
 *
 * A random workload (mappings of VRAM in 4 KiB, 64 KiB and 2 MiB pages and
 * of system memory, initial data, and a neutral command program with
 * writes, copies, fences, interrupts and indirect buffers) is run twice:
 * once on one model without migration (the reference), and once starting
 * on the first model of a chain and migrating, at random points, to each
 * next model.  A small guest driver submits the program in the native
 * format of whatever model the device is at the moment, in batches, and
 * after each migration re-reads the ring registers and carries on, as a
 * guest driver's post-migration recovery would.  At the end every byte of
 * every data mapping, the system memory and the fence state must equal
 * the reference.
 *
 * The same runs with the guest driver writing what the real drivers write
 * (diff_run_real()): each model's commands, where a real driver has a
 * sequence for them, come from tests/ctxmig_vectors.c.
 *
 * Included, not linked: both harnesses #include this file.  In the
 * kernel a run is long (KASAN under TCG: seconds), so its loops yield.
 */
#include <linux/sched.h>

#include "ctxmig_vectors.c"

#define DIFF_VRAM		(32ULL << 20)
/* Wide enough for the command memory's alias above 1 TiB. */
#define DIFF_VA_BITS		44
#define DIFF_PT_BASE		0x10000ULL
#define DIFF_PT_END		0x200000ULL
/* Command memory: ring, then guest command buffers. */
#define DIFF_CMD_VA		0x100000ULL
#define DIFF_CMD_VRAM		0x200000ULL
#define DIFF_CMD_SIZE		0x80000ULL
#define DIFF_RING_SIZE		0x4000U
/* Data mappings are backed from here up. */
#define DIFF_DATA_VRAM		0x400000ULL
#define DIFF_DATA_VA		0x10000000ULL
#define DIFF_SYS_BASE		0x100000000ULL
#define DIFF_SYS_SIZE		0x40000U
#define DIFF_MAX_MAPS		8
#define DIFF_MAX_CMDS		256
#define DIFF_BATCHES		3

struct diff_rng {
	u64 s;
};

static u64 diff_rand(struct diff_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static u64 diff_below(struct diff_rng *r, u64 n)
{
	return n ? diff_rand(r) % n : 0;
}

/* A data mapping of the workload, and whether commands may write it. */
struct diff_map {
	struct ctxmig_mapping map;
	bool writable;
};

/**
 * struct diff_workload - what a run does, independent of any model
 * @maps: data mappings (VRAM and system memory).
 * @nmaps: how many.
 * @cmds: the program, a depth-first IB tree as in the IR.
 * @ncmds: how many.
 * @batch_end: where each submission batch ends in @cmds (level 0 only).
 * @nested: the program nests buffers two deep.
 */
struct diff_workload {
	struct diff_map maps[DIFF_MAX_MAPS];
	u32 nmaps;
	struct ctxmig_cmd cmds[DIFF_MAX_CMDS];
	u32 ncmds;
	u32 batch_end[DIFF_BATCHES];
	bool nested;
};

/* What one run's device lives with: the guest's system memory. */
struct diff_sys {
	u8 *mem;
};

static int diff_sys_rw(void *priv, u64 addr, void *buf, u32 len, bool write)
{
	struct diff_sys *sys = priv;

	if (addr < DIFF_SYS_BASE || addr - DIFF_SYS_BASE > DIFF_SYS_SIZE ||
	    len > DIFF_SYS_SIZE - (addr - DIFF_SYS_BASE))
		return -EFAULT;
	if (write)
		memcpy(sys->mem + (addr - DIFF_SYS_BASE), buf, len);
	else
		memcpy(buf, sys->mem + (addr - DIFF_SYS_BASE), len);
	return 0;
}

static const struct ctxmig_sysmem_ops diff_sys_ops = {
	.rw = diff_sys_rw,
};

static void diff_fill_bytes(struct diff_rng *r, u8 *buf, u32 len)
{
	u32 i;

	for (i = 0; i < len; i++)
		buf[i] = diff_rand(r) >> 56;
}

/* A random byte range inside a mapping. */
static u64 diff_addr(struct diff_rng *r, const struct diff_map *m, u64 len,
		     u64 align)
{
	u64 span = m->map.size - len;

	return m->map.va + (diff_below(r, span / align + 1) * align);
}

static const struct diff_map *diff_pick(struct diff_rng *r,
					const struct diff_workload *wl,
					bool writable)
{
	for (;;) {
		const struct diff_map *m = &wl->maps[diff_below(r, wl->nmaps)];

		if (!writable || m->writable)
			return m;
	}
}

static void diff_gen_maps(struct diff_rng *r, struct diff_workload *wl)
{
	static const u8 shifts[] = { 12, 12, 16, 21 };
	u64 vram = DIFF_DATA_VRAM, va = DIFF_DATA_VA, sys = 0;
	u32 i, n = 3 + diff_below(r, 4);

	for (i = 0; i < n; i++) {
		struct diff_map *m = &wl->maps[wl->nmaps++];
		u8 shift = shifts[diff_below(r, ARRAY_SIZE(shifts))];
		u64 page = BIT_ULL(shift);
		bool sysmem = i && !diff_below(r, 4) && sys < DIFF_SYS_SIZE;

		m->map.page_shift = shift;
		m->map.cache = diff_below(r, CTXMIG_CACHE_MAX + 1);
		m->map.flags = CTXMIG_MAP_READ;
		m->writable = i == 0 || diff_below(r, 5);
		if (m->writable)
			m->map.flags |= CTXMIG_MAP_WRITE;
		if (diff_below(r, 2))
			m->map.flags |= CTXMIG_MAP_EXEC;
		va = ALIGN(va + diff_below(r, 4) * 0x10000, page);
		m->map.va = va;
		if (sysmem) {
			m->map.page_shift = 12;
			m->map.size = 0x10000;
			m->map.addr = DIFF_SYS_BASE + sys;
			m->map.flags |= CTXMIG_MAP_SYSMEM;
			if (diff_below(r, 2))
				m->map.flags |= CTXMIG_MAP_SNOOP;
			sys += m->map.size;
		} else {
			m->map.size = shift == 21 ? page :
				      page * (1 + diff_below(r, 16));
			vram = ALIGN(vram, page);
			m->map.addr = vram;
			vram += m->map.size;
		}
		va += m->map.size;
	}
}

static void diff_gen_cmd(struct diff_rng *r, const struct diff_workload *wl,
			 struct ctxmig_cmd *c, u64 *seq)
{
	const struct diff_map *dst = diff_pick(r, wl, true);
	const struct diff_map *src;
	u32 len;

	memset(c, 0, sizeof(*c));
	switch (diff_below(r, 10)) {
	case 0:
		c->op = CTXMIG_OP_NOP;
		if (diff_below(r, 2))
			c->flags = CTXMIG_CMD_IRQ;
		break;
	case 1:
	case 2:
		c->op = CTXMIG_OP_WRITE32;
		c->dst = diff_addr(r, dst, 4, 4);
		c->value = (u32)diff_rand(r);
		break;
	case 3:
		c->op = CTXMIG_OP_WRITE64;
		c->dst = diff_addr(r, dst, 8, 4);
		c->value = diff_rand(r);
		break;
	case 4:
	case 5:
	case 6:
		src = diff_pick(r, wl, false);
		len = 1 + diff_below(r, min_t(u64, 9000, min(src->map.size,
							      dst->map.size)));
		c->op = CTXMIG_OP_COPY;
		c->src = diff_addr(r, src, len, 1);
		c->dst = diff_addr(r, dst, len, 1);
		c->value = len;
		break;
	default:
		/* Fences go to the first mapping, which is always writable. */
		c->op = CTXMIG_OP_FENCE;
		c->dst = diff_addr(r, &wl->maps[0], 8, 8);
		c->value = ++*seq;
		if (diff_below(r, 2))
			c->flags |= CTXMIG_CMD_IRQ;
		if (diff_below(r, 3) == 0) {
			c->flags |= CTXMIG_CMD_FENCE64;
			c->value |= diff_rand(r) << 32;
			*seq = c->value;
		}
		break;
	}
}

static void diff_gen(struct diff_rng *r, struct diff_workload *wl,
		     bool can_nest)
{
	u32 b, per = 4 + diff_below(r, 10);
	u64 seq = 0;

	memset(wl, 0, sizeof(*wl));
	diff_gen_maps(r, wl);
	for (b = 0; b < DIFF_BATCHES; b++) {
		u32 i;

		for (i = 0; i < per && wl->ncmds + 12 < DIFF_MAX_CMDS; i++) {
			u32 k, n;

			if (diff_below(r, 5)) {
				diff_gen_cmd(r, wl, &wl->cmds[wl->ncmds++], &seq);
				continue;
			}
			/* An indirect buffer of a few commands. */
			wl->cmds[wl->ncmds++] = (struct ctxmig_cmd){
				.op = CTXMIG_OP_IB,
			};
			n = 1 + diff_below(r, 8);
			for (k = 0; k < n; k++) {
				struct ctxmig_cmd *c = &wl->cmds[wl->ncmds++];

				if (can_nest && k == n / 2 && !diff_below(r, 3)) {
					*c = (struct ctxmig_cmd){
						.op = CTXMIG_OP_IB, .level = 1,
					};
					c = &wl->cmds[wl->ncmds++];
					diff_gen_cmd(r, wl, c, &seq);
					c->level = 2;
					wl->nested = true;
					continue;
				}
				diff_gen_cmd(r, wl, c, &seq);
				c->level = 1;
			}
		}
		wl->batch_end[b] = wl->ncmds;
	}
}

/* A device being driven by the guest driver. */
struct diff_dev {
	struct ctxmig_gpu gpu;
	u64 pt_next;
	u64 buf_next;
	bool real;
	u8 real_chan;
};

static u64 diff_pt_alloc(void *priv, u32 bytes)
{
	struct diff_dev *d = priv;
	u64 at = d->pt_next;

	if (at + CTXMIG_VRAM_PAGE_SIZE > DIFF_PT_END)
		return U64_MAX;
	d->pt_next += CTXMIG_VRAM_PAGE_SIZE;
	return at;
}

static int diff_fill(struct diff_rng *r, struct diff_dev *d,
		     const struct diff_workload *wl, struct diff_sys *sys)
{
	u32 i, p;

	diff_fill_bytes(r, sys->mem, DIFF_SYS_SIZE);
	for (i = 0; i < wl->nmaps; i++) {
		const struct ctxmig_mapping *m = &wl->maps[i].map;
		u32 pages = min_t(u64, m->size >> 12, 8);

		if (m->flags & CTXMIG_MAP_SYSMEM)
			continue;
		cond_resched();
		/* A few pages of each: VRAM stays sparse. */
		for (p = 0; p < pages; p++) {
			u64 off = diff_below(r, m->size >> 12) << 12;
			u8 page[256];

			diff_fill_bytes(r, page, sizeof(page));
			if (ctxmig_vram_write(&d->gpu.vram, m->addr + off, page,
					      sizeof(page)))
				return -EFAULT;
		}
	}
	return 0;
}

/* Bring a fresh device up the way the guest driver does. */
static int diff_dev_init(struct diff_dev *d, const struct ctxmig_model *m,
			 const struct diff_workload *wl, struct diff_sys *sys)
{
	const struct ctxmig_mapping cmdmap = {
		.va = DIFF_CMD_VA, .size = DIFF_CMD_SIZE, .addr = DIFF_CMD_VRAM,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE,
		.page_shift = 12,
	};
	struct ctxmig_ring ring = {
		.base = DIFF_CMD_VA, .size = DIFF_RING_SIZE,
		.flags = CTXMIG_RING_ENABLED,
	};
	u32 i;
	int ret;

	ret = ctxmig_gpu_init(&d->gpu, m, DIFF_VRAM);
	if (ret)
		return ret;
	d->gpu.sys = &diff_sys_ops;
	d->gpu.sys_priv = sys;
	d->pt_next = DIFF_PT_BASE;
	d->buf_next = DIFF_CMD_VA + DIFF_RING_SIZE;
	ret = ctxmig_gpu_set_va_bits(&d->gpu, DIFF_VA_BITS);
	if (!wl)
		return ret;
	ret = ret ?: ctxmig_pt_map(&d->gpu, &cmdmap, diff_pt_alloc, d);
	for (i = 0; !ret && i < wl->nmaps; i++)
		ret = ctxmig_pt_map(&d->gpu, &wl->maps[i].map, diff_pt_alloc, d);
	ret = ret ?: m->ring_set(&d->gpu, 0, &ring);
	ctxmig_gpu_mmio_write(&d->gpu, m->mmio_size - CTXMIG_CTL_SIZE +
			      CTXMIG_CTL_IRQ_ENABLE, CTXMIG_IRQ_ALL);
	return ret;
}

/* The guest driver: encode a command list into bytes in native format. */
struct diff_buf {
	u8 bytes[8192];
	u32 len;
};

static int diff_encode_list(struct diff_dev *d, const struct ctxmig_cmd *c,
			    u32 n, u32 level, struct diff_buf *out);

static int diff_encode_ib(struct diff_dev *d, const struct ctxmig_cmd *c,
			  u32 n, u32 level, struct diff_buf *out)
{
	struct diff_buf *body;
	struct ctxmig_cmd ib = { .op = CTXMIG_OP_IB, .level = level };
	int ret;

	body = kzalloc(sizeof(*body), GFP_KERNEL);
	if (!body)
		return -ENOMEM;
	ret = diff_encode_list(d, c, n, level + 1, body);
	if (ret || !body->len)
		goto out;
	ret = ctxmig_gpu_encode_end(&d->gpu, body->bytes + body->len,
				    sizeof(body->bytes) - body->len);
	if (ret < 0)
		goto out;
	body->len += ret;
	ret = -ENOSPC;
	if (d->buf_next + body->len > DIFF_CMD_VA + DIFF_CMD_SIZE)
		goto out;
	ret = ctxmig_gpu_poke(&d->gpu, d->buf_next, body->bytes, body->len);
	ib.src = d->buf_next;
	ib.value = body->len;
	d->buf_next += ALIGN(body->len, 256);
	if (!ret) {
		ret = d->gpu.model->encode(&d->gpu, &ib, out->bytes + out->len,
					   sizeof(out->bytes) - out->len);
		if (ret >= 0) {
			out->len += ret;
			ret = 0;
		}
	}
out:
	kfree(body);
	return ret;
}

static int diff_encode_list(struct diff_dev *d, const struct ctxmig_cmd *c,
			    u32 n, u32 level, struct diff_buf *out)
{
	const struct ctxmig_model *m = d->gpu.model;
	u32 i = 0, j;
	int ret;

	while (i < n) {
		for (j = i + 1; j < n && c[j].level > c[i].level; j++)
			;
		if (c[i].op == CTXMIG_OP_IB) {
			if (level + 1 <= m->ib_levels)
				ret = diff_encode_ib(d, c + i + 1, j - i - 1,
						     level, out);
			else
				ret = diff_encode_list(d, c + i + 1, j - i - 1,
						       level, out);
		} else if (!level && m->ring_ib_only) {
			for (j = i; j < n && c[j].op != CTXMIG_OP_IB; j++)
				;
			ret = diff_encode_ib(d, c + i, j - i, 0, out);
		} else {
			struct ctxmig_cmd cmd = c[i];

			cmd.level = level;
			ret = m->encode(&d->gpu, &cmd, out->bytes + out->len,
					sizeof(out->bytes) - out->len);
			if (ret >= 0) {
				out->len += ret;
				ret = 0;
			}
			j = i + 1;
		}
		if (ret)
			return ret;
		i = j;
	}
	return 0;
}

static int diff_real_submit(struct diff_dev *d, const struct ctxmig_cmd *c,
			    u32 n, struct diff_buf *out);

/* Submit a batch at the ring's tail, reading the ring state afresh. */
static int diff_submit(struct diff_dev *d, const struct ctxmig_cmd *c, u32 n)
{
	const struct ctxmig_model *m = d->gpu.model;
	struct ctxmig_ring ring;
	struct diff_buf *out;
	u32 first;
	int ret;

	out = kzalloc(sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	ret = d->real ? diff_real_submit(d, c, n, out) :
			diff_encode_list(d, c, n, 0, out);
	m->ring_get(&d->gpu, 0, &ring);
	if (!ret && ((ring.head - ring.tail - 1) & (ring.size - 1)) < out->len)
		ret = -ENOSPC;
	if (ret)
		goto out;
	first = min(out->len, ring.size - ring.tail);
	ret = ctxmig_gpu_poke(&d->gpu, ring.base + ring.tail, out->bytes, first);
	if (!ret && out->len > first)
		ret = ctxmig_gpu_poke(&d->gpu, ring.base, out->bytes + first,
				      out->len - first);
	ring.tail = (ring.tail + out->len) & (ring.size - 1);
	ret = ret ?: m->ring_set(&d->gpu, 0, &ring);
out:
	kfree(out);
	return ret;
}

/* ------------------------------------------------ real-driver words */

/*
 * The command memory again above 1 TiB: a Hopper guest (UVM) keeps its
 * pushbuffers there and writes their extended base (VA 56:40) once per
 * channel; its GPFIFO entries carry VA 39:0 only, which below 1 TiB map
 * nothing: an entry read without the base faults.
 */
#define DIFF_CMD_VA_HI		(BIT_ULL(40) + 0x8000000ULL)

/*
 * Shape the workload so that every driver's sequence has commands to
 * carry: some 64-bit fences with a 32-bit value (Intel's breadcrumb
 * writes a qword of its 32-bit seqno), some copies of whole pages
 * (nouveau moves buffers in pages), fences with their interrupt (nouveau
 * always raises one).  Only values and lengths change, within bounds.
 */
static void diff_real_shape(u64 seed, struct diff_workload *wl)
{
	struct diff_rng r = { .s = seed ^ 0x3c3c3c3c3c3c3c3cULL };
	u32 i;

	for (i = 0; i < wl->ncmds; i++) {
		struct ctxmig_cmd *c = &wl->cmds[i];

		if (c->op == CTXMIG_OP_FENCE && diff_below(&r, 2))
			c->flags |= CTXMIG_CMD_IRQ;
		if (c->op == CTXMIG_OP_FENCE &&
		    (c->flags & CTXMIG_CMD_FENCE64) && diff_below(&r, 2))
			c->value = lower_32_bits(c->value);
		if (c->op == CTXMIG_OP_COPY && c->value >= 4096 &&
		    diff_below(&r, 2))
			c->value &= ~4095ULL;
	}
}

/* The alias of the command memory, in the guest's own tables. */
static int diff_real_init(struct diff_dev *d)
{
	const struct ctxmig_mapping hi = {
		.va = DIFF_CMD_VA_HI, .size = DIFF_CMD_SIZE,
		.addr = DIFF_CMD_VRAM,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE, .page_shift = 12,
	};

	d->real = true;
	return ctxmig_pt_map(&d->gpu, &hi, diff_pt_alloc, d);
}

static u32 diff_model(const struct diff_dev *d)
{
	return d->gpu.model->id;
}

/* Append a vector's words to @out. */
static int diff_real_put(struct diff_buf *out, const struct vec_ring *r)
{
	if (r->overflow || out->len + r->n * 4 > sizeof(out->bytes))
		return -ENOSPC;
	vec_bytes(r, out->bytes + out->len);
	out->len += r->n * 4;
	return 0;
}

/* One command with the model's own encoder. */
static int diff_real_model(struct diff_dev *d, const struct ctxmig_cmd *c,
			   u32 level, struct diff_buf *out)
{
	struct ctxmig_cmd cmd = *c;
	int ret;

	cmd.level = level;
	ret = d->gpu.model->encode(&d->gpu, &cmd, out->bytes + out->len,
				   sizeof(out->bytes) - out->len);
	if (ret < 0)
		return ret;
	out->len += ret;
	return 0;
}

/*
 * One command as its model's real driver writes it, where that driver has
 * a sequence for it; else with the model's own encoder.
 */
static int diff_real_cmd(struct diff_dev *d, const struct ctxmig_cmd *c,
			 u32 level, struct diff_buf *out)
{
	u32 dw[64];
	struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };

	if (vec_driver_cmd(&r, diff_model(d), c, &d->real_chan))
		return diff_real_put(out, &r);
	return diff_real_model(d, c, level, out);
}

static int diff_real_list(struct diff_dev *d, const struct ctxmig_cmd *c,
			  u32 n, u32 level, struct diff_buf *out);

/*
 * Commands into a new buffer, and what starts it at @level: at ring level
 * what the driver writes (amdgpu's IB, xe's batch start, nouveau's and
 * UVM's GPFIFO entries), inside a buffer the model's own encoding.
 */
static int diff_real_ib(struct diff_dev *d, const struct ctxmig_cmd *c, u32 n,
			u32 level, struct diff_buf *out)
{
	u32 id = diff_model(d), dw[8];
	struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };
	struct diff_buf *body;
	u64 va;
	int ret;

	body = kzalloc(sizeof(*body), GFP_KERNEL);
	if (!body)
		return -ENOMEM;
	vec_driver_push_start(&r, id);
	ret = diff_real_put(body, &r);
	ret = ret ?: diff_real_list(d, c, n, level + 1, body);
	if (ret || !body->len)
		goto out;
	ret = ctxmig_gpu_encode_end(&d->gpu, body->bytes + body->len,
				    sizeof(body->bytes) - body->len);
	if (ret < 0)
		goto out;
	body->len += ret;
	ret = -ENOSPC;
	if (d->buf_next + body->len > DIFF_CMD_VA + DIFF_CMD_SIZE)
		goto out;
	ret = ctxmig_gpu_poke(&d->gpu, d->buf_next, body->bytes, body->len);
	va = d->buf_next;
	d->buf_next += ALIGN(body->len, 256);
	if (ret)
		goto out;
	if (level) {
		struct ctxmig_cmd ib = {
			.op = CTXMIG_OP_IB, .src = va, .value = body->len,
		};

		ret = diff_real_model(d, &ib, level, out);
		goto out;
	}
	if (id == CTXMIG_MODEL_NV_HOPPER)
		va += DIFF_CMD_VA_HI - DIFF_CMD_VA;
	r.n = 0;
	vec_driver_ib(&r, id, va, body->len, &d->real_chan);
	ret = diff_real_put(out, &r);
out:
	kfree(body);
	return ret;
}

static int diff_real_list(struct diff_dev *d, const struct ctxmig_cmd *c,
			  u32 n, u32 level, struct diff_buf *out)
{
	const struct ctxmig_model *m = d->gpu.model;
	u32 i = 0, j;
	int ret;

	while (i < n) {
		for (j = i + 1; j < n && c[j].level > c[i].level; j++)
			;
		if (c[i].op == CTXMIG_OP_IB) {
			if (level + 1 <= m->ib_levels)
				ret = diff_real_ib(d, c + i + 1, j - i - 1,
						   level, out);
			else
				ret = diff_real_list(d, c + i + 1, j - i - 1,
						     level, out);
		} else if (!level && m->ring_ib_only) {
			for (j = i; j < n && c[j].op != CTXMIG_OP_IB; j++)
				;
			ret = diff_real_ib(d, c + i, j - i, 0, out);
		} else {
			ret = diff_real_cmd(d, &c[i], level, out);
			j = i + 1;
		}
		if (ret)
			return ret;
		i = j;
	}
	return 0;
}

/*
 * A submission as the real driver writes it: amdgpu flushes the VM before
 * a job (its page directory as the base registers hold it), then the
 * commands.
 */
static int diff_real_submit(struct diff_dev *d, const struct ctxmig_cmd *c,
			    u32 n, struct diff_buf *out)
{
	u32 id = diff_model(d), dw[32];
	struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };
	u64 pd = 0;
	int ret;

	if (id == CTXMIG_MODEL_AMD_GFX9 || id == CTXMIG_MODEL_AMD_GFX12) {
		const struct vec_amdgpu_vmhub *hub =
			id == CTXMIG_MODEL_AMD_GFX12 ? &vec_gfxhub_v12_0 :
						       &vec_gfxhub_v1_0;

		pd = (u64)ctxmig_gpu_mmio_read(&d->gpu,
					       hub->ctx0_ptb_addr_hi32 * 4) << 32 |
		     ctxmig_gpu_mmio_read(&d->gpu, hub->ctx0_ptb_addr_lo32 * 4);
	}
	vec_driver_job_start(&r, id, pd);
	ret = diff_real_put(out, &r);
	return ret ?: diff_real_list(d, c, n, 0, out);
}

/**
 * struct diff_stats - what the differential runs did
 * @runs: workloads run.
 * @migrations: migrations done.
 * @with_pending: migrations with commands pending.
 * @mid_ib: migrations with an indirect buffer half executed.
 * @bytes: stream bytes moved.
 * @precopy: migrations that went through pre-copy.
 * @stop_bytes: stream bytes those sent after the source stopped.
 * @real_pending: migrations of runs written as the real drivers write
 *	them (diff_run_real()) with commands pending.
 */
struct diff_stats {
	u64 runs;
	u64 migrations;
	u64 with_pending;
	u64 mid_ib;
	u64 bytes;
	u64 precopy;
	u64 stop_bytes;
	u64 real_pending;
};

/* Hand the writer's bytes to the restore in @chunk-byte pieces. */
static int diff_drain_writer(struct ctxmig_ir_writer *w,
			     struct ctxmig_restore *rs, size_t chunk,
			     u64 *bytes)
{
	const u8 *p;
	u32 n;
	int ret = 0;

	while (!ret && (p = ctxmig_ir_peek(w, &n)) && n) {
		u32 k = min_t(size_t, n, chunk);

		ret = ctxmig_restore_feed(rs, p, k);
		ctxmig_ir_consume(w, k);
		*bytes += k;
	}
	return ret;
}

/*
 * Pre-copy: send VRAM while the source keeps executing, @rounds times,
 * then stop it.  Returns 0 or a negative errno.
 */
static int diff_precopy(struct diff_dev *d, struct ctxmig_ir_writer *w,
			struct ctxmig_restore *rs, struct ctxmig_save *s,
			struct diff_rng *r, size_t chunk, u64 *bytes)
{
	u32 rounds = 1 + diff_below(r, 3);
	int ret = 0, step;

	while (!ret && rounds--) {
		do {
			step = ctxmig_save_step(s, w);
			ret = step < 0 ? step :
			      diff_drain_writer(w, rs, chunk, bytes);
		} while (!ret && step == 0);
		/* The guest's work goes on and dirties pages. */
		if (!ret)
			ret = min(ctxmig_gpu_run(&d->gpu, 0, diff_below(r, 8)), 0);
	}
	return ret ?: ctxmig_save_stop(s);
}

/* Stream the device's state into @next, in pieces of @chunk bytes. */
static int diff_transfer(struct diff_dev *d, struct diff_dev *next,
			 struct ctxmig_ir_writer *w, struct ctxmig_restore *rs,
			 struct ctxmig_save *s, struct diff_rng *r,
			 size_t chunk, struct diff_stats *st, char *why,
			 size_t len)
{
	bool precopy = diff_below(r, 2);
	u64 before;
	int ret, done = 0;

	ret = precopy ? ctxmig_save_precopy_init(s, &d->gpu) :
			ctxmig_save_init(s, &d->gpu);
	if (ret) {
		scnprintf(why, len, "save from %s: %s", d->gpu.model->name,
			  s->error.reason);
		goto out_save;
	}
	ret = ctxmig_restore_init(rs, &next->gpu);
	if (!ret && precopy) {
		ret = diff_precopy(d, w, rs, s, r, chunk, &st->bytes);
		if (ret)
			scnprintf(why, len, "pre-copy from %s: %d %s",
				  d->gpu.model->name, ret, s->error.err ?
				  s->error.reason : d->gpu.eng[0].reason);
		st->precopy++;
	}
	before = st->bytes;
	while (!ret && !done) {
		done = ctxmig_save_step(s, w);
		if (done < 0) {
			ret = done;
			scnprintf(why, len, "save: %s", s->error.err ?
				  s->error.reason : w->error.reason);
			break;
		}
		ret = diff_drain_writer(w, rs, chunk, &st->bytes);
	}
	if (precopy)
		st->stop_bytes += st->bytes - before;
	if (!ret)
		ret = ctxmig_restore_finish(rs);
	if (ret && !why[0])
		scnprintf(why, len, "restore %s -> %s: %s", d->gpu.model->name,
			  next->gpu.model->name,
			  ctxmig_restore_error(rs)->reason);
	ctxmig_restore_fini(rs);
out_save:
	ctxmig_save_fini(s);
	return ret;
}

/* Move the device to another model through an IR stream. */
static int diff_migrate(struct diff_dev *d, const struct ctxmig_model *to,
			struct ctxmig_ir_writer *w, struct ctxmig_restore *rs,
			struct ctxmig_save *s, struct diff_sys *sys,
			struct diff_rng *r, size_t chunk,
			struct diff_stats *st, char *why, size_t len)
{
	struct diff_dev *next;
	int ret;

	next = kzalloc(sizeof(*next), GFP_KERNEL);
	if (!next)
		return -ENOMEM;
	ret = diff_dev_init(next, to, NULL, sys);
	if (ret)
		goto out_dev;
	ret = ctxmig_ir_writer_init(w, CTXMIG_IR_WRITER_MIN_BUF);
	if (ret)
		goto out_dev;
	ret = diff_transfer(d, next, w, rs, s, r, chunk, st, why, len);
	ctxmig_ir_writer_fini(w);
	if (ret)
		goto out_dev;
	/* The guest now drives the new device, from where it was. */
	next->pt_next = d->pt_next;
	next->buf_next = d->buf_next;
	next->real = d->real;
	/* Channel state migrated with the device; another model starts anew. */
	if (to == d->gpu.model)
		next->real_chan = d->real_chan;
	ctxmig_gpu_fini(&d->gpu);
	*d = *next;
	kfree(next);
	return 0;

out_dev:
	ctxmig_gpu_fini(&next->gpu);
	kfree(next);
	return ret;
}

static int diff_compare(struct diff_dev *a, struct diff_dev *b,
			const struct diff_workload *wl, u8 *ba, u8 *bb,
			char *why, size_t len)
{
	struct ctxmig_engine *ea = &a->gpu.eng[0], *eb = &b->gpu.eng[0];
	u32 i;

	for (i = 0; i < wl->nmaps; i++) {
		const struct ctxmig_mapping *m = &wl->maps[i].map;
		u64 off;

		for (off = 0; off < m->size; off += CTXMIG_VRAM_PAGE_SIZE) {
			int ra = ctxmig_gpu_access(&a->gpu, m->va + off, ba,
						   CTXMIG_VRAM_PAGE_SIZE, false);
			int rb = ctxmig_gpu_access(&b->gpu, m->va + off, bb,
						   CTXMIG_VRAM_PAGE_SIZE, false);

			if (ra || rb || memcmp(ba, bb, CTXMIG_VRAM_PAGE_SIZE)) {
				scnprintf(why, len,
					  "VA 0x%llx differs (%d/%d) on %s vs reference %s",
					  (unsigned long long)(m->va + off),
					  rb, ra, b->gpu.model->name,
					  a->gpu.model->name);
				return -EBADMSG;
			}
		}
	}
	if (ea->fence.signalled != eb->fence.signalled ||
	    ea->fence.addr != eb->fence.addr ||
	    /* Only the migrated one was told so. */
	    (ea->irq_pending ^ eb->irq_pending) & ~CTXMIG_IRQ_MIGRATED ||
	    ea->status != eb->status) {
		scnprintf(why, len,
			  "engine differs: fence %llu/%llu irq 0x%x/0x%x status %u/%u (%s)",
			  (unsigned long long)eb->fence.signalled,
			  (unsigned long long)ea->fence.signalled,
			  eb->irq_pending, ea->irq_pending, eb->status,
			  ea->status, eb->reason);
		return -EBADMSG;
	}
	return 0;
}

/* Run an engine until idle, within a bound: a program never loops. */
static int diff_drain(struct diff_dev *d)
{
	int ret;

	do {
		ret = ctxmig_gpu_run(&d->gpu, 0, 4096);
	} while (ret == 4096);
	return ret < 0 ? ret : 0;
}

/**
 * diff_run_as() - one workload on a chain of models, against the reference
 * @seed: the workload and migration points.
 * @chain: models the device visits; the reference runs on @chain[0].
 * @n: length of @chain (at least 2).
 * @real: the guest writes what the models' real drivers write.
 * @st: statistics to add to.
 * @why: reason on failure.
 * @len: size of @why.
 *
 * Return: 0 when the migrated run ends equal to the reference.
 */
static int diff_run_as(u64 seed, const struct ctxmig_model *const *chain,
		       u32 n, bool real, struct diff_stats *st, char *why,
		       size_t len)
{
	struct diff_rng rng = { .s = seed | 1 };
	struct diff_workload *wl;
	struct diff_dev *ref, *dev;
	struct diff_sys sys_ref, sys_dev;
	struct ctxmig_ir_writer *w;
	struct ctxmig_restore *rs;
	struct ctxmig_save *s;
	u8 *pa, *pb;
	u32 b, hop = 1, start;
	bool nest = true;
	int ret = -ENOMEM;

	why[0] = '\0';
	for (b = 0; b < n; b++)
		nest &= chain[b]->ib_levels >= 2;
	wl = kzalloc(sizeof(*wl), GFP_KERNEL);
	ref = kzalloc(sizeof(*ref), GFP_KERNEL);
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	rs = kzalloc(sizeof(*rs), GFP_KERNEL);
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	pa = kmalloc(2 * CTXMIG_VRAM_PAGE_SIZE, GFP_KERNEL);
	sys_ref.mem = kmalloc(DIFF_SYS_SIZE, GFP_KERNEL);
	sys_dev.mem = kmalloc(DIFF_SYS_SIZE, GFP_KERNEL);
	if (!wl || !ref || !dev || !w || !rs || !s || !pa || !sys_ref.mem ||
	    !sys_dev.mem)
		goto out_free;
	pb = pa + CTXMIG_VRAM_PAGE_SIZE;

	diff_gen(&rng, wl, nest);
	if (real)
		diff_real_shape(seed, wl);
	ret = diff_dev_init(ref, chain[0], wl, &sys_ref);
	if (!ret && real)
		ret = diff_real_init(ref);
	if (!ret) {
		struct diff_rng fill = { .s = seed ^ 0x5a5a5a5a5a5a5a5aULL };

		ret = diff_fill(&fill, ref, wl, &sys_ref);
	}
	if (!ret)
		ret = diff_dev_init(dev, chain[0], wl, &sys_dev);
	if (!ret && real)
		ret = diff_real_init(dev);
	if (!ret) {
		struct diff_rng fill = { .s = seed ^ 0x5a5a5a5a5a5a5a5aULL };

		ret = diff_fill(&fill, dev, wl, &sys_dev);
	}
	if (ret) {
		scnprintf(why, len, "setup on %s failed (%d)", chain[0]->name,
			  ret);
		goto out_devs;
	}

	/* The reference: every batch, run to the end, no migration. */
	for (b = 0, start = 0; !ret && b < DIFF_BATCHES; b++) {
		cond_resched();
		ret = diff_submit(ref, wl->cmds + start,
				  wl->batch_end[b] - start);
		ret = ret ?: diff_drain(ref);
		start = wl->batch_end[b];
	}
	if (ret) {
		scnprintf(why, len, "reference on %s: %d %s", chain[0]->name,
			  ret, ref->gpu.eng[0].reason);
		goto out_devs;
	}

	/* The migrating run: partial runs, migrations in between. */
	for (b = 0, start = 0; !ret && b < DIFF_BATCHES; b++) {
		u32 k, moves = hop < n ? 1 + diff_below(&rng, 2) : 0;

		ret = diff_submit(dev, wl->cmds + start,
				  wl->batch_end[b] - start);
		start = wl->batch_end[b];
		for (k = 0; !ret && k < moves && hop < n; k++) {
			struct ctxmig_engine *eng = &dev->gpu.eng[0];
			struct ctxmig_ring ring;
			int ran;

			cond_resched();
			ran = ctxmig_gpu_run(&dev->gpu, 0, diff_below(&rng, 24));
			if (ran < 0) {
				ret = ran;
				break;
			}
			dev->gpu.model->ring_get(&dev->gpu, 0, &ring);
			st->with_pending += ring.head != ring.tail ||
					    eng->depth;
			st->real_pending += real && (ring.head != ring.tail ||
						     eng->depth);
			st->mid_ib += eng->depth && eng->ib[0].pos;
			ret = diff_migrate(dev, chain[hop++], w, rs, s,
					   &sys_dev, &rng,
					   1 + diff_below(&rng, 9000), st, why,
					   len);
			st->migrations += !ret;
		}
		/* The rest of the chain, before the last batch drains. */
		while (!ret && b == DIFF_BATCHES - 1 && hop < n) {
			ret = diff_migrate(dev, chain[hop++], w, rs, s,
					   &sys_dev, &rng, 4096, st, why, len);
			st->migrations += !ret;
		}
		if (!ret)
			ret = diff_drain(dev);
	}
	if (ret && !why[0])
		scnprintf(why, len, "on %s: %d %s", dev->gpu.model->name, ret,
			  dev->gpu.eng[0].reason);
	if (!ret)
		ret = diff_compare(ref, dev, wl, pa, pb, why, len);
	if (!ret && memcmp(sys_ref.mem, sys_dev.mem, DIFF_SYS_SIZE)) {
		scnprintf(why, len, "system memory differs");
		ret = -EBADMSG;
	}
	st->runs++;
out_devs:
	ctxmig_gpu_fini(&ref->gpu);
	ctxmig_gpu_fini(&dev->gpu);
out_free:
	kfree(sys_dev.mem);
	kfree(sys_ref.mem);
	kfree(pa);
	kfree(s);
	kfree(rs);
	kfree(w);
	kfree(dev);
	kfree(ref);
	kfree(wl);
	return ret;
}

/* diff_run_as() with the guest writing the models' own encodings. */
static int diff_run(u64 seed, const struct ctxmig_model *const *chain, u32 n,
		    struct diff_stats *st, char *why, size_t len)
{
	return diff_run_as(seed, chain, n, false, st, why, len);
}

/*
 * diff_run_as() with the guest writing what the real drivers write:
 * amdgpu's fences, IBs and VM flushes and Mesa's CP DMA copies, xe's batch
 * starts and RCS breadcrumbs, nouveau's fences, buffer moves and GPFIFO
 * entries, UVM's semaphore releases, memcopies and GPFIFO entries with
 * the pushbuffer base written once per channel.
 */
static int __maybe_unused diff_run_real(u64 seed,
					const struct ctxmig_model *const *chain,
					u32 n, struct diff_stats *st, char *why,
					size_t len)
{
	return diff_run_as(seed, chain, n, true, st, why, len);
}
