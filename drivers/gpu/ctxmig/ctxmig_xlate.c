// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig translators: native state <-> IR, for every model.
 *
 * Saving asks the source model to decode what is native (ring registers,
 * pending commands, page-table entries) and hands the neutral result to
 * the codec writer.  Restoring validates the stream with the codec reader,
 * checks the target can represent it, writes the VRAM data as it arrives,
 * and at the end rebuilds the page tables, the pending commands and the
 * registers in the target's own formats.
 *
 * Between models that share a command format the guest's own ring and
 * buffers stay as they are (they travelled as VRAM data); the restore
 * decodes them on the target and checks they give the commands the stream
 * lists.  Otherwise the pending commands are re-encoded: ring commands at
 * the ring's head, indirect buffers into the target's reserved area, which
 * the engine sees through the window at the top of its VA space.
 */
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "ctxmig_gpu.h"
#include "ctxmig_vram.h"
#include "ctxmig_xlate.h"

enum save_phase {
	SAVE_PREAMBLE,
	SAVE_DEVICE,
	SAVE_PRE_VRAM,		/* pre-copy: every page once */
	SAVE_PRE_DIRTY,		/* pre-copy: pages written since sent */
	SAVE_ENGINE,
	SAVE_CMD,
	SAVE_MAPPING,
	SAVE_VRAM,
	SAVE_END,
	SAVE_DONE,
};

/* Re-encoded buffers start on this boundary in the reserved area. */
#define IB_ALIGN	256

/* Worst-case wire bytes of the fixed-size records. */
#define DEVICE_BYTES	128
#define ENGINE_BYTES	128
#define SMALL_BYTES	64

/* Wire bytes of the records, for the estimates of what is left to send. */
#define REC_WIRE(payload) \
	(sizeof(struct ctxmig_ir_rec) + \
	 ALIGN(sizeof(struct payload), CTXMIG_IR_ALIGN))
#define PREAMBLE_WIRE	sizeof(struct ctxmig_ir_preamble)
#define DEVICE_WIRE	(sizeof(struct ctxmig_ir_rec) + \
			 REC_WIRE(ctxmig_ir_dev_identity) + \
			 REC_WIRE(ctxmig_ir_dev_caps))
#define ENGINE_WIRE	(sizeof(struct ctxmig_ir_rec) + \
			 REC_WIRE(ctxmig_ir_eng_ring) + \
			 REC_WIRE(ctxmig_ir_eng_fence) + \
			 REC_WIRE(ctxmig_ir_eng_irq))
#define CMD_WIRE	REC_WIRE(ctxmig_ir_cmd)
#define MAPPING_WIRE	REC_WIRE(ctxmig_ir_mapping)
#define END_WIRE	REC_WIRE(ctxmig_ir_end)
/* A data page: its bytes, and at most a record header of its own. */
#define PAGE_WIRE	(CTXMIG_VRAM_PAGE_SIZE + CTXMIG_IR_VRAM_HDR_BYTES)
/* A zero page of a dirty pass: at most a VRAM_ZERO record of its own. */
#define ZERO_WIRE	CTXMIG_IR_VRAM_HDR_BYTES
/* Pages an estimate looks into to tell data pages from zero pages. */
#define ESTIMATE_SAMPLE	1024

/*
 * Make room for entry @n of an array that a stream or a guest sizes, up
 * to @max entries, doubling it: charged to the memory cgroup of the
 * process that asked (the VMM), as every allocation a stream or a guest
 * causes is.
 */
static int grow(void **p, u32 *cap, u32 n, size_t elem, u32 max)
{
	u32 ncap;
	void *np;

	if (n < *cap)
		return 0;
	if (n >= max)
		return -E2BIG;
	ncap = min(max, *cap ? *cap * 2 : 64U);
	np = kvmalloc(array_size(ncap, elem), GFP_KERNEL_ACCOUNT);
	if (!np)
		return -ENOMEM;
	if (*p)
		memcpy(np, *p, (size_t)n * elem);
	kvfree(*p);
	*p = np;
	*cap = ncap;
	return 0;
}

static int cmd_add(struct ctxmig_cmd_list *l, const struct ctxmig_cmd *cmd)
{
	int ret = grow((void **)&l->cmds, &l->cap, l->n, sizeof(*cmd),
		       CTXMIG_XLATE_MAX_CMDS);

	if (!ret)
		l->cmds[l->n++] = *cmd;
	return ret;
}

/**
 * ctxmig_cmd_list_free() - free a command list
 * @list: list, left empty.
 */
void ctxmig_cmd_list_free(struct ctxmig_cmd_list *list)
{
	kvfree(list->cmds);
	memset(list, 0, sizeof(*list));
}

static int map_add(struct ctxmig_map_list *l, const struct ctxmig_mapping *map)
{
	int ret = grow((void **)&l->maps, &l->cap, l->n, sizeof(*map),
		       CTXMIG_XLATE_MAX_MAPS);

	if (!ret)
		l->maps[l->n++] = *map;
	return ret;
}

static bool in_window(const struct ctxmig_gpu *gpu, u64 va)
{
	return va >= gpu->window_va && !(va >> gpu->model->va_bits);
}

/* Collecting an engine's pending commands, as the executor would meet them. */
struct collect {
	struct ctxmig_gpu *gpu;
	u32 engine;
	struct ctxmig_cmd_list *list;
	u32 max;
	char *reason;
	size_t len;
};

static int collect_add(struct collect *c, struct ctxmig_cmd *cmd, u32 level)
{
	cmd->engine = c->engine;
	cmd->level = level;
	if (cmd->op == CTXMIG_OP_IB && in_window(c->gpu, cmd->src)) {
		cmd->flags |= CTXMIG_CMD_IB_PRIVATE;
		cmd->src = 0;
	}
	if (c->list->n >= c->max)
		return -E2BIG;
	return cmd_add(c->list, cmd);
}

static int collect_buffer(struct collect *c, u64 va, u32 size, u32 level)
{
	u32 off = 0;
	int ret;

	while (off < size) {
		struct ctxmig_cmd cmd;
		u64 src;

		c->gpu->work++;
		cond_resched();
		ret = ctxmig_gpu_fetch(c->gpu, c->engine, va + off, size - off,
				       level, &cmd);
		if (ret <= 0) {
			scnprintf(c->reason, c->len,
				  "pending command at 0x%llx cannot be decoded (%d)",
				  (unsigned long long)(va + off), ret);
			return ret == -ENODATA || !ret ? -EILSEQ : ret;
		}
		off += ret;
		src = cmd.src;
		if (cmd.op == CTXMIG_OP_IB && level >= CTXMIG_IR_MAX_IB_LEVEL) {
			scnprintf(c->reason, c->len,
				  "indirect buffers nested deeper than %u",
				  CTXMIG_IR_MAX_IB_LEVEL);
			return -ELOOP;
		}
		ret = collect_add(c, &cmd, level);
		if (!ret && cmd.op == CTXMIG_OP_IB)
			ret = collect_buffer(c, src, cmd.value, level + 1);
		if (ret)
			return ret;
	}
	return 0;
}

/* The rest of a started copy comes first at the level it was fetched. */
static int collect_copy(struct collect *c)
{
	struct ctxmig_engine *eng = &c->gpu->eng[c->engine];
	struct ctxmig_cmd cmd = eng->copy;

	return cmd.value ? collect_add(c, &cmd, eng->depth) : 0;
}

static int collect_open(struct collect *c, u32 k)
{
	struct ctxmig_engine *eng = &c->gpu->eng[c->engine];
	struct ctxmig_ib_frame *f = &eng->ib[k];
	struct ctxmig_cmd cmd = {
		.op = CTXMIG_OP_IB,
		.flags = CTXMIG_CMD_IB_OPEN,
		.src = f->va,
		.value = f->size,
		.dst = f->pos,
	};
	int ret;

	ret = collect_add(c, &cmd, k);
	if (!ret && k + 1 < eng->depth)
		ret = collect_open(c, k + 1);
	else if (!ret)
		ret = collect_copy(c);
	if (!ret)
		ret = collect_buffer(c, f->va + f->pos, f->size - f->pos, k + 1);
	return ret;
}

/**
 * ctxmig_pending_collect() - an engine's pending commands in IR order
 * @gpu: device, engine stopped.
 * @engine: engine index.
 * @list: empty list to fill.
 * @ib_va_base: if not NULL, set to the ring's &ctxmig_ring.ib_va_base as
 *	the engine will hold it once it has read the pending ring commands
 *	(ring entries may set it): the base the guest's next entries use.
 * @max: most commands to collect, at most CTXMIG_XLATE_MAX_CMDS.
 * @reason: where to say why it failed.
 * @len: size of @reason.
 *
 * The indirect buffers being executed come first (CTXMIG_CMD_IB_OPEN, with
 * their progress and what they still hold), then the ring from head to
 * tail; every pending indirect buffer is followed by its contents.  Buffers
 * in ctxmig's own reserved area are marked CTXMIG_CMD_IB_PRIVATE.  What is
 * left of a copy the engine started is the first command of the innermost
 * open buffer (or of the ring): an ordinary COPY from where it got to.
 *
 * A guest may point many commands at one buffer and that buffer's
 * commands at another: each command is decoded once for every time it is
 * reached, at most @max in all.
 *
 * Context: may sleep.
 * Return: 0; -EILSEQ or the model's error for a command that cannot be
 * decoded; -ELOOP for nesting deeper than the IR allows; -E2BIG for more
 * than @max commands; -ENOMEM.
 */
int ctxmig_pending_collect(struct ctxmig_gpu *gpu, u32 engine,
			   struct ctxmig_cmd_list *list, u64 *ib_va_base,
			   u32 max, char *reason, size_t len)
{
	struct ctxmig_engine *eng = &gpu->eng[engine];
	struct collect c = {
		.gpu = gpu, .engine = engine, .list = list, .max = max,
		.reason = reason, .len = len,
	};
	u32 method[ARRAY_SIZE(eng->method)];
	struct ctxmig_ring ring;
	u32 pos;
	int ret = 0;

	/* Decoding replays method state; the engine must not see it. */
	memcpy(method, eng->method, sizeof(method));
	if (eng->depth)
		ret = collect_open(&c, 0);
	else
		ret = collect_copy(&c);

	gpu->model->ring_get(gpu, engine, &ring);
	for (pos = ring.head; !ret && pos != ring.tail;) {
		struct ctxmig_cmd cmd;
		u64 src;

		gpu->work++;
		cond_resched();
		ret = ctxmig_gpu_fetch_ring(gpu, engine, &ring, pos, &cmd);
		if (ret <= 0) {
			scnprintf(reason, len,
				  "pending ring command at offset 0x%x cannot be decoded (%d)",
				  pos, ret);
			if (ret == -ENODATA || !ret)
				ret = -EILSEQ;
			break;
		}
		pos = (pos + ret) & (ring.size - 1);
		src = cmd.src;
		ret = collect_add(&c, &cmd, 0);
		if (!ret && cmd.op == CTXMIG_OP_IB)
			ret = collect_buffer(&c, src, cmd.value, 1);
	}
	if (!ret && ib_va_base) {
		/* The ring commands were decoded: the state they leave. */
		gpu->model->ring_get(gpu, engine, &ring);
		*ib_va_base = ring.ib_va_base;
	}
	memcpy(eng->method, method, sizeof(method));
	return ret;
}

/* ---------------------------------------------------------------- save */

__printf(3, 4)
static int save_fail(struct ctxmig_save *s, int err, const char *fmt, ...)
{
	va_list args;

	s->error.err = err;
	va_start(args, fmt);
	vscnprintf(s->error.reason, sizeof(s->error.reason), fmt, args);
	va_end(args);
	return err;
}

static int save_mapping(void *priv, const struct ctxmig_mapping *map)
{
	struct ctxmig_save *s = priv;

	if (!(map->flags & CTXMIG_MAP_SYSMEM) &&
	    map->addr + map->size > s->gpu->guest_size)
		return save_fail(s, -EINVAL,
				 "VA 0x%llx maps VRAM 0x%llx outside the guest's %llu bytes",
				 (unsigned long long)map->va,
				 (unsigned long long)map->addr,
				 (unsigned long long)s->gpu->guest_size);
	return map_add(&s->maps, map);
}

static int save_table(void *priv, u64 offset, u32 bytes)
{
	struct ctxmig_save *s = priv;
	int ret;

	/* Only pages that hold nothing but a table can be left out. */
	if (bytes != CTXMIG_VRAM_PAGE_SIZE ||
	    !IS_ALIGNED(offset, CTXMIG_VRAM_PAGE_SIZE) ||
	    offset >= s->gpu->guest_size)
		return 0;
	ret = grow((void **)&s->tables, &s->tables_cap, s->ntables,
		   sizeof(u64), CTXMIG_XLATE_MAX_MAPS);
	if (!ret)
		s->tables[s->ntables++] = offset >> CTXMIG_VRAM_PAGE_SHIFT;
	return ret;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static bool in_sorted(const u64 *list, u32 n, u64 pfn)
{
	u32 lo = 0, hi = n;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (list[mid] == pfn)
			return true;
		if (list[mid] < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool is_table(const struct ctxmig_save *s, u64 pfn)
{
	return in_sorted(s->tables, s->ntables, pfn);
}

static bool va_ok(const struct ctxmig_caps *caps, u64 va, u64 len)
{
	u64 end = BIT_ULL(caps->va_bits);

	return va <= end && len <= end - va;
}

/* The stream must be valid: check what the reader will check. */
static int save_check_cmd(struct ctxmig_save *s, const struct ctxmig_cmd *c)
{
	bool ok = true;

	switch (c->op) {
	case CTXMIG_OP_WRITE32:
	case CTXMIG_OP_WRITE64:
	case CTXMIG_OP_FENCE:
		ok = va_ok(&s->caps, c->dst, 8);
		break;
	case CTXMIG_OP_COPY:
		ok = va_ok(&s->caps, c->src, c->value) &&
		     va_ok(&s->caps, c->dst, c->value);
		break;
	case CTXMIG_OP_IB:
		ok = va_ok(&s->caps, c->src, c->value);
		break;
	}
	if (!ok)
		return save_fail(s, -ERANGE,
				 "pending command (op %u) addresses VA 0x%llx beyond %u bits",
				 c->op, (unsigned long long)(c->dst | c->src),
				 s->caps.va_bits);
	return 0;
}

static int save_start(struct ctxmig_save *s, struct ctxmig_gpu *gpu)
{
	memset(s, 0, sizeof(*s));
	s->gpu = gpu;
	ctxmig_gpu_caps(gpu, &s->caps);
	s->stage = kvmalloc(CTXMIG_IR_VRAM_CHUNK_MAX, GFP_KERNEL_ACCOUNT);
	if (!s->stage)
		return save_fail(s, -ENOMEM, "out of memory");
	return 0;
}

/* Walk the page tables: the mappings, or only the table pages. */
static int save_walk(struct ctxmig_save *s, bool mappings)
{
	static const struct ctxmig_pt_walk_ops full = {
		.mapping = save_mapping,
		.table = save_table,
	};
	static const struct ctxmig_pt_walk_ops tables = {
		.table = save_table,
	};
	int ret;

	s->ntables = 0;
	ret = ctxmig_pt_walk(s->gpu, mappings ? &full : &tables, s);
	if (ret == -ELOOP)
		return save_fail(s, ret,
				 "page tables hold more entries than %llu pages of VRAM can: tables shared by many entries",
				 (unsigned long long)s->gpu->vram.present);
	if (ret)
		return s->error.err ? s->error.err :
		       save_fail(s, ret, "page tables cannot be walked (%d)",
				 ret);
	sort(s->tables, s->ntables, sizeof(u64), cmp_u64, NULL);
	return 0;
}

/* The engines' state and pending commands, and the mappings. */
static int save_collect(struct ctxmig_save *s)
{
	struct ctxmig_gpu *gpu = s->gpu;
	const struct ctxmig_model *m = gpu->model;
	u32 e, i;
	int ret;

	for (e = 0; e < CTXMIG_GPU_ENGINES; e++) {
		struct ctxmig_engine *eng = &gpu->eng[e];

		if (eng->status == CTXMIG_ENG_ERROR)
			return save_fail(s, -EIO, "engine %u is in error: %s",
					 e, eng->reason);
		m->ring_get(gpu, e, &s->ring[e]);
		if (!va_ok(&s->caps, s->ring[e].base, s->ring[e].size))
			return save_fail(s, -ERANGE,
					 "ring at 0x%llx beyond the %u-bit VA space",
					 (unsigned long long)s->ring[e].base,
					 s->caps.va_bits);
		s->fence[e] = eng->fence;
		s->irq[e].enabled = eng->irq_enabled;
		/*
		 * Every restore raises MIGRATED again: not sending it pending
		 * lets a reader of IR 1.1 take the state of a guest that did
		 * not acknowledge it.
		 */
		s->irq[e].pending = eng->irq_pending & ~CTXMIG_IRQ_MIGRATED;
		ret = ctxmig_pending_collect(gpu, e, &s->cmds[e],
					     &s->ring[e].ib_va_base,
					     CTXMIG_XLATE_MAX_CMDS,
					     s->error.reason,
					     sizeof(s->error.reason));
		if (ret)
			return save_fail(s, ret, "%s", s->error.reason[0] ?
					 s->error.reason : "out of memory");
		s->fence[e].emitted = s->fence[e].signalled;
		for (i = 0; i < s->cmds[e].n; i++) {
			const struct ctxmig_cmd *c = &s->cmds[e].cmds[i];

			ret = save_check_cmd(s, c);
			if (ret)
				return ret;
			if (c->op == CTXMIG_OP_FENCE)
				s->fence[e].emitted = max(s->fence[e].emitted,
							  c->value);
		}
	}
	return save_walk(s, true);
}

/**
 * ctxmig_save_init() - take a stopped device's state for saving
 * @s: save to set up.
 * @gpu: the device; its engines stopped, and staying so until
 *	ctxmig_save_fini().
 *
 * Decodes the pending commands and walks the page tables now, so that a
 * device that cannot be saved is refused before the first byte.
 *
 * Return: 0, or a negative errno with the reason in @s->error.
 */
int ctxmig_save_init(struct ctxmig_save *s, struct ctxmig_gpu *gpu)
{
	return save_start(s, gpu) ?: save_collect(s);
}

/**
 * ctxmig_save_precopy_init() - start saving a device that keeps running
 * @s: save to set up.
 * @gpu: the device, whose engine may run between ctxmig_save_step()
 *	calls (its owner serialises them).
 *
 * Pre-copy: the stream starts with the preamble, the device and every
 * guest VRAM page, then, round after round, the pages written since they
 * were sent (VRAM writes are tracked from now on).  ctxmig_save_stop()
 * ends pre-copy once the engine is stopped.
 *
 * Return: 0, or a negative errno with the reason in @s->error.
 */
int ctxmig_save_precopy_init(struct ctxmig_save *s, struct ctxmig_gpu *gpu)
{
	int ret = save_start(s, gpu);

	if (ret)
		return ret;
	s->precopy = true;
	/* Page-table pages as of now are left out; stop re-checks them. */
	ret = save_walk(s, false);
	if (ret)
		return ret;
	ctxmig_vram_track(&gpu->vram, true);
	return 0;
}

/* Was @pfn a whole page-table page when the list was taken? */
static bool in_sorted(const u64 *list, u32 n, u64 pfn);

/**
 * ctxmig_save_stop() - end pre-copy: the engine has stopped
 * @s: a pre-copy save.
 *
 * Collects what only a stopped device can give (pending commands,
 * registers, mappings) and switches the stream to its final part: the
 * engines, commands, mappings, the pages written since they were sent,
 * and END.
 *
 * Return: 0, or a negative errno with the reason in @s->error.
 */
int ctxmig_save_stop(struct ctxmig_save *s)
{
	struct ctxmig_vram *vram = &s->gpu->vram;
	u64 *old = s->tables;
	u32 nold = s->ntables, i;
	int ret;

	if (!s->precopy || s->phase > SAVE_PRE_DIRTY)
		return save_fail(s, -EINVAL, "not in pre-copy");
	/* Keep the pre-copy table list: a page may have stopped being one. */
	s->tables = NULL;
	s->ntables = 0;
	s->tables_cap = 0;
	ret = save_collect(s);
	/* Pages skipped as tables that are tables no more: send them now. */
	for (i = 0; !ret && i < nold; i++) {
		u64 pfn = old[i];

		if (!in_sorted(s->tables, s->ntables, pfn) &&
		    ctxmig_vram_page(vram, pfn))
			ctxmig_vram_mark(vram, pfn);
	}
	kvfree(old);
	if (ret)
		return ret;
	if (s->phase < SAVE_PRE_VRAM) {
		/* Nothing produced yet: a plain stop-copy save from the start. */
		ctxmig_vram_track(vram, false);
		s->precopy = false;
		return 0;
	}
	/* The initial pass may not have finished: send what it had left. */
	if (s->phase <= SAVE_PRE_VRAM)
		s->pfn_initial = s->pfn;
	else
		s->pfn_initial = U64_MAX;
	s->phase = SAVE_ENGINE;
	s->pos = 0;
	return 0;
}

/*
 * The guest pages in [@pfn, @end) that a pass would take (@dirty: those
 * written since they were sent), page tables left out: *@zero of them are
 * zero pages and the rest, returned, hold data.  Only the first
 * ESTIMATE_SAMPLE are looked into; the others are taken to hold data in
 * the same proportion.  So the cost is bounded by the pages the pass
 * itself will go through.
 */
static u64 estimate_pages(const struct ctxmig_save *s, u64 pfn, u64 end,
			  bool dirty, u64 *zero)
{
	u64 guest_pages = s->gpu->guest_size >> CTXMIG_VRAM_PAGE_SHIFT;
	u64 pages = 0, sampled = 0, zeros = 0;
	const void *page;

	end = min(end, guest_pages);
	while (pfn < end &&
	       (page = ctxmig_vram_next(&s->gpu->vram, &pfn, dirty)) &&
	       pfn < end) {
		if (!is_table(s, pfn)) {
			if (sampled < ESTIMATE_SAMPLE) {
				sampled++;
				zeros += !memchr_inv(page, 0,
						     CTXMIG_VRAM_PAGE_SIZE);
			}
			pages++;
		}
		pfn++;
	}
	*zero = sampled ? div64_u64(zeros * pages, sampled) : 0;
	return pages - *zero;
}

/**
 * ctxmig_save_precopy_info() - what pre-copy has still to send
 * @s: a pre-copy save, its device's lock held.
 * @initial: bytes of the first part not yet produced: the preamble and
 *	the device record, then the data pages the first pass has still
 *	to go through (zero pages and page tables are not sent).
 * @dirty: bytes of the pages written since they were sent, or since pre-copy
 *	began for those the first pass already passed (a dirty zero page goes
 *	as a small VRAM_ZERO record).
 *
 * Estimates of the records ctxmig_save_step() will write, not counting
 * what the writer holds already; see estimate_pages() for their cost.
 */
void ctxmig_save_precopy_info(const struct ctxmig_save *s, u64 *initial,
			      u64 *dirty)
{
	u64 first_pass_at = U64_MAX, data, zero;

	*initial = 0;
	if (s->phase == SAVE_PREAMBLE)
		*initial += PREAMBLE_WIRE;
	if (s->phase <= SAVE_DEVICE)
		*initial += DEVICE_WIRE;
	if (s->phase <= SAVE_PRE_VRAM) {
		first_pass_at = s->phase == SAVE_PRE_VRAM ? s->pfn : 0;
		data = estimate_pages(s, first_pass_at, U64_MAX, false, &zero);
		*initial += data * PAGE_WIRE;
	}
	/* Pages the first pass has yet to reach are its to send. */
	data = estimate_pages(s, 0, first_pass_at, true, &zero);
	*dirty = data * PAGE_WIRE + zero * ZERO_WIRE;
}

/**
 * ctxmig_save_precopy_pending() - may a read of a pre-copy save give bytes
 * @s: a pre-copy save, its device's lock held.
 *
 * Never false while ctxmig_save_step() has records to write; may be true
 * when it has none (dirty pages ctxmig does not send: the pass that finds
 * out cleans them).
 *
 * Return: whether the first pass is not over or a page was written since.
 */
bool ctxmig_save_precopy_pending(const struct ctxmig_save *s)
{
	return s->phase <= SAVE_PRE_VRAM || s->gpu->vram.dirty;
}

/*
 * The engines, pending commands and mappings of @gpu as a save would take
 * them now, and with @pages the data pages a stop-copy save would send.
 */
static u64 estimate_state(struct ctxmig_gpu *gpu, bool pages)
{
	struct ctxmig_save *s;
	u64 bytes = CTXMIG_GPU_ENGINES * ENGINE_WIRE, zero;
	u32 e;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return bytes;
	s->gpu = gpu;
	ctxmig_gpu_caps(gpu, &s->caps);
	/* A device that cannot be saved (an engine in error) has no more. */
	if (!save_collect(s)) {
		for (e = 0; e < CTXMIG_GPU_ENGINES; e++)
			bytes += (u64)s->cmds[e].n * CMD_WIRE;
		bytes += (u64)s->maps.n * MAPPING_WIRE;
		if (pages)
			bytes += estimate_pages(s, 0, U64_MAX, false, &zero) *
				 PAGE_WIRE;
	}
	ctxmig_save_fini(s);
	kfree(s);
	return bytes;
}

/**
 * ctxmig_save_estimate() - what stop-copy will send
 * @s: the save under way, or NULL.
 * @gpu: the device, its lock held.
 *
 * Without a save: the whole stream a stop-copy save started now would
 * give.  With one: what is left of the stream, not counting what the
 * writer holds already; during pre-copy that is what
 * ctxmig_save_precopy_info() reports and what stop-copy adds (the
 * engines, the pending commands, the mappings and END): a VMM takes
 * VFIO_DEVICE_FEATURE_MIG_DATA_SIZE for all that is left to send (QEMU
 * has since 9.0.4; the uAPI says "the estimated data length that will be
 * required to complete stop copy").  The engine may run meanwhile: the
 * pending commands are those of now.
 *
 * Return: an estimate in bytes, within a few percent plus a few records of
 * the stream when the device does not change meanwhile.
 */
u64 ctxmig_save_estimate(const struct ctxmig_save *s, struct ctxmig_gpu *gpu)
{
	u64 bytes = END_WIRE, data, zero, initial, dirty;
	u32 e;

	if (!s)
		return PREAMBLE_WIRE + DEVICE_WIRE + estimate_state(gpu, true) +
		       bytes;
	if (s->phase <= SAVE_PRE_DIRTY && s->precopy) {
		ctxmig_save_precopy_info(s, &initial, &dirty);
		return estimate_state(gpu, false) + bytes + initial + dirty;
	}
	if (s->phase == SAVE_DONE)
		return 0;
	if (s->phase < SAVE_ENGINE)
		bytes += PREAMBLE_WIRE + DEVICE_WIRE;	/* nothing produced */
	if (s->phase <= SAVE_MAPPING) {
		bytes += CTXMIG_GPU_ENGINES * ENGINE_WIRE +
			 (u64)s->maps.n * MAPPING_WIRE;
		for (e = 0; e < CTXMIG_GPU_ENGINES; e++)
			bytes += (u64)s->cmds[e].n * CMD_WIRE;
	}
	if (s->phase > SAVE_VRAM)
		return bytes;
	if (!s->precopy) {
		data = estimate_pages(s, s->phase == SAVE_VRAM ? s->pfn : 0,
				      U64_MAX, false, &zero);
		return bytes + data * PAGE_WIRE;
	}
	if (s->pfn_initial != U64_MAX) {
		data = estimate_pages(s, s->pfn_initial, U64_MAX, false, &zero);
		bytes += data * PAGE_WIRE;
	}
	data = estimate_pages(s, 0, U64_MAX, true, &zero);
	return bytes + data * PAGE_WIRE + zero * ZERO_WIRE;
}

/**
 * ctxmig_save_fini() - free what a save holds
 * @s: save.
 */
void ctxmig_save_fini(struct ctxmig_save *s)
{
	u32 e;

	if (s->precopy && s->gpu)
		ctxmig_vram_track(&s->gpu->vram, false);
	for (e = 0; e < CTXMIG_GPU_ENGINES; e++)
		ctxmig_cmd_list_free(&s->cmds[e]);
	kvfree(s->maps.maps);
	kvfree(s->tables);
	kvfree(s->stage);
	memset(s, 0, sizeof(*s));
}

static void save_identity(const struct ctxmig_gpu *gpu,
			  struct ctxmig_identity *id)
{
	memset(id, 0, sizeof(*id));
	id->pci_vendor = CTXMIG_PCI_VENDOR_ID;
	id->pci_device = CTXMIG_PCI_DEVICE_ID;
	id->revision = CTXMIG_PCI_REVISION;
	id->model = gpu->model->id;
	strscpy(id->name, gpu->model->name, sizeof(id->name));
	id->migrated = gpu->migrated;
}

/*
 * The next run of up to a chunk of contiguous guest pages to send,
 * gathered into @s->stage, from @s->pfn on.  A full pass (@dirty false)
 * takes present pages that are neither all zero nor page tables.  A dirty
 * pass takes pages written since they were sent, zero ones included (the
 * writer turns those into VRAM_ZERO: the target may hold older data), and
 * cleans every page it passes.
 *
 * With @pages, the pages are not copied: their addresses go to @pages,
 * and a dirty zero page ends the run before it is taken (only data pages
 * are sent by reference; ctxmig_save_step() sends the zero ones).
 */
static u32 save_gather(struct ctxmig_save *s, u64 *start, bool dirty,
		       const void **pages)
{
	struct ctxmig_vram *vram = &s->gpu->vram;
	u64 guest_pages = s->gpu->guest_size >> CTXMIG_VRAM_PAGE_SHIFT;
	bool clean = dirty || s->precopy;
	u32 len = 0;

	for (;;) {
		u64 pfn = s->pfn;
		const void *page = ctxmig_vram_next(vram, &pfn, dirty);
		bool zero;

		cond_resched();
		if (page && pfn >= guest_pages && clean) {
			/* ctxmig's own area is never sent: forget its writes. */
			ctxmig_vram_clean(vram, pfn);
			s->pfn = pfn + 1;
			continue;
		}
		if (!page || pfn >= guest_pages)
			break;
		if (len && pfn != *start + len / CTXMIG_VRAM_PAGE_SIZE)
			break;
		zero = !memchr_inv(page, 0, CTXMIG_VRAM_PAGE_SIZE);
		if (pages && zero && dirty && !is_table(s, pfn))
			break;
		s->pfn = pfn + 1;
		if (clean)
			ctxmig_vram_clean(vram, pfn);
		if (is_table(s, pfn) || (zero && !dirty)) {
			if (len)
				break;
			continue;
		}
		if (!len)
			*start = pfn;
		if (pages)
			pages[len / CTXMIG_VRAM_PAGE_SIZE] = page;
		else
			memcpy(s->stage + len, page, CTXMIG_VRAM_PAGE_SIZE);
		len += CTXMIG_VRAM_PAGE_SIZE;
		if (len == CTXMIG_IR_VRAM_CHUNK_MAX)
			break;
	}
	return len;
}

/* Send VRAM while the writer has room: 1 when the pass is over. */
static int save_vram(struct ctxmig_save *s, struct ctxmig_ir_writer *w,
		     bool dirty)
{
	u32 need = ctxmig_ir_vram_record_bytes(CTXMIG_IR_VRAM_CHUNK_MAX);

	for (;;) {
		u64 start = 0;
		u32 len;
		int ret;

		if (ctxmig_ir_room(w) < need)
			return 0;
		len = save_gather(s, &start, dirty, NULL);
		if (!len)
			return 1;
		ret = ctxmig_ir_put_vram(w, start << CTXMIG_VRAM_PAGE_SHIFT,
					 s->stage, len);
		if (ret)
			return ret;
	}
}

/**
 * ctxmig_save_step() - write as much of the stream as the writer takes
 * @s: save.
 * @w: writer; drain it (ctxmig_ir_peek()/ctxmig_ir_consume()) between
 *	calls.
 *
 * Return: 1 (CTXMIG_SAVE_DONE) when the END record is written, 0 when the
 * writer is full and more is to come, CTXMIG_SAVE_IDLE in pre-copy when
 * nothing is to be sent until the device writes more, or a negative errno
 * (the writer's reason, or @s->error).
 */
int ctxmig_save_step(struct ctxmig_save *s, struct ctxmig_ir_writer *w)
{
	struct ctxmig_identity id;
	int ret = 0;

	while (!ret) {
		switch (s->phase) {
		case SAVE_PREAMBLE:
			if (ctxmig_ir_room(w) < DEVICE_BYTES)
				return 0;
			ret = ctxmig_ir_put_preamble(w, &s->caps);
			s->phase = SAVE_DEVICE;
			break;
		case SAVE_DEVICE:
			if (ctxmig_ir_room(w) < DEVICE_BYTES)
				return 0;
			save_identity(s->gpu, &id);
			ret = ctxmig_ir_put_device(w, &id, &s->caps);
			s->phase = s->precopy ? SAVE_PRE_VRAM : SAVE_ENGINE;
			s->pos = 0;
			s->pfn = 0;
			break;
		case SAVE_PRE_VRAM:
			ret = save_vram(s, w, false);
			if (ret <= 0)
				return ret;
			ret = 0;
			s->phase = SAVE_PRE_DIRTY;
			s->pfn = 0;
			break;
		case SAVE_PRE_DIRTY:
			ret = save_vram(s, w, true);
			if (ret <= 0)
				return ret;
			/* A round is over; come back for the next one. */
			s->pfn = 0;
			return s->gpu->vram.dirty ? 0 : CTXMIG_SAVE_IDLE;
		case SAVE_ENGINE:
			if (s->pos == CTXMIG_GPU_ENGINES) {
				s->phase = SAVE_CMD;
				s->pos = 0;
				s->engine = 0;
				break;
			}
			if (ctxmig_ir_room(w) < ENGINE_BYTES)
				return 0;
			ret = ctxmig_ir_put_engine(w, &s->ring[s->pos],
						   &s->fence[s->pos],
						   &s->irq[s->pos]);
			s->pos++;
			break;
		case SAVE_CMD:
			if (s->engine == CTXMIG_GPU_ENGINES) {
				s->phase = SAVE_MAPPING;
				s->pos = 0;
				break;
			}
			if (s->pos == s->cmds[s->engine].n) {
				s->engine++;
				s->pos = 0;
				break;
			}
			if (ctxmig_ir_room(w) < SMALL_BYTES)
				return 0;
			ret = ctxmig_ir_put_cmd(w, &s->cmds[s->engine].cmds[s->pos]);
			s->pos++;
			break;
		case SAVE_MAPPING:
			if (s->pos == s->maps.n) {
				s->phase = SAVE_VRAM;
				s->pfn = 0;
				break;
			}
			if (ctxmig_ir_room(w) < SMALL_BYTES)
				return 0;
			ret = ctxmig_ir_put_mapping(w, &s->maps.maps[s->pos]);
			s->pos++;
			break;
		case SAVE_VRAM:
			if (!s->precopy) {
				ret = save_vram(s, w, false);
			} else if (s->pfn_initial != U64_MAX) {
				/* Stopped before the first pass ended. */
				s->pfn = s->pfn_initial;
				ret = save_vram(s, w, false);
				if (ret == 1) {
					s->pfn_initial = U64_MAX;
					s->pfn = 0;
					ret = 0;
					break;
				}
				s->pfn_initial = s->pfn;
			} else {
				ret = save_vram(s, w, true);
			}
			if (ret <= 0)
				return ret;
			ret = 0;
			s->phase = SAVE_END;
			break;
		case SAVE_END:
			if (ctxmig_ir_room(w) < SMALL_BYTES)
				return 0;
			ret = ctxmig_ir_put_end(w);
			s->phase = SAVE_DONE;
			break;
		case SAVE_DONE:
			return 1;
		}
	}
	return ret;
}

/**
 * ctxmig_save_vram_pages() - the next VRAM record's pages, not copied
 * @s: save.
 * @offset: set to the VRAM offset of the first page.
 * @pages: set to the pages' addresses, room for CTXMIG_IR_VRAM_CHUNK_MAX /
 *	CTXMIG_VRAM_PAGE_SIZE.
 *
 * In the final VRAM part of a stream (a stop-copy save, or a pre-copy
 * save after ctxmig_save_stop()), takes the run of data pages that
 * ctxmig_save_step() would send next, for a caller that sends them with
 * ctxmig_ir_send_vram_pages() (or ctxmig_ir_put_vram()) before its next
 * ctxmig_save_step() call.  The pages stay valid and unchanged while the
 * device stays stopped and its owner's lock is held.
 *
 * Return: how many pages; 0 when ctxmig_save_step() is to be called
 * instead (another part of the stream, a zero page to send, the pass over).
 */
u32 ctxmig_save_vram_pages(struct ctxmig_save *s, u64 *offset,
			   const void **pages)
{
	bool initial = s->precopy && s->pfn_initial != U64_MAX;
	u64 start = 0;
	u32 len;

	if (s->phase != SAVE_VRAM)
		return 0;
	if (initial)
		s->pfn = s->pfn_initial;
	len = save_gather(s, &start, s->precopy && !initial, pages);
	if (initial)
		s->pfn_initial = s->pfn;
	*offset = start << CTXMIG_VRAM_PAGE_SHIFT;
	return len / CTXMIG_VRAM_PAGE_SIZE;
}

/* ------------------------------------------------------------- restore */

/**
 * ctxmig_compat() - can a device accept a stream with this preamble
 * @src: the stream's preamble.
 * @gpu: the target device.
 * @reason: where to say why not (or "compatible").
 * @len: size of @reason.
 *
 * Return: 0; -EOPNOTSUPP for engines or features the target lacks,
 * -ENOSPC when its guest VRAM is smaller, -ERANGE when its guest VA space
 * is narrower.
 */
int ctxmig_compat(const struct ctxmig_caps *src, const struct ctxmig_gpu *gpu,
		  char *reason, size_t len)
{
	const struct ctxmig_model *m = gpu->model;
	const struct ctxmig_model *from = ctxmig_model_find(src->model);
	const char *name = from ? from->name : "an unknown model";

	if (src->num_engines > CTXMIG_GPU_ENGINES) {
		scnprintf(reason, len, "%u engines from %s, %s has %u",
			  src->num_engines, name, m->name, CTXMIG_GPU_ENGINES);
		return -EOPNOTSUPP;
	}
	if (src->features & ~m->features) {
		scnprintf(reason, len, "features 0x%x of %s not on %s",
			  src->features & ~m->features, name, m->name);
		return -EOPNOTSUPP;
	}
	if (src->vram_size > gpu->guest_size) {
		scnprintf(reason, len,
			  "%s has %llu MiB of guest VRAM, this %s only %llu MiB",
			  name, (unsigned long long)(src->vram_size >> 20),
			  m->name, (unsigned long long)(gpu->guest_size >> 20));
		return -ENOSPC;
	}
	if (src->va_bits > gpu->va_bits) {
		scnprintf(reason, len,
			  "%s gives its guest %u-bit GPU VAs, this %s %u-bit",
			  name, src->va_bits, m->name, gpu->va_bits);
		return -ERANGE;
	}
	scnprintf(reason, len, "compatible: %s -> %s", name, m->name);
	return 0;
}

/* The mapping of the reserved area at the top of the GPU VA space. */
static void restore_window(const struct ctxmig_gpu *gpu,
			   struct ctxmig_mapping *window)
{
	memset(window, 0, sizeof(*window));
	window->va = gpu->window_va;
	window->size = gpu->vram_size - gpu->guest_size;
	window->addr = gpu->guest_size;
	window->flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE | CTXMIG_MAP_EXEC;
	window->page_shift = 21;
}

/* Nothing counted yet but the window's tables; the root comes with them. */
static int restore_plan_init(struct ctxmig_restore *rs)
{
	const struct ctxmig_model *m = rs->gpu->model;
	struct ctxmig_pt_plan window_plan;
	struct ctxmig_mapping window;
	int ret;

	ctxmig_pt_plan_init(&rs->plan, true);
	ctxmig_pt_plan_init(&rs->plan_large, true);
	ctxmig_pt_plan_init(&window_plan, false);
	restore_window(rs->gpu, &window);
	ret = ctxmig_pt_plan_add(m, &window_plan, &window);
	rs->window_tables = window_plan.tables;
	rs->reencode = !rs->src_model ||
		       rs->src_model->cmd_format != m->cmd_format;
	/* Re-encoded commands all go in one buffer (apply_translate()). */
	rs->cmd_bytes = IB_ALIGN + 2 * CTXMIG_CMD_MAX_BYTES;
	return ret;
}

/* Reserved-area bytes the stream so far takes, its tables built so. */
static u64 restore_need(const struct ctxmig_restore *rs, bool large)
{
	u64 tables = (large ? rs->plan_large : rs->plan).tables +
		     rs->window_tables;

	return tables * CTXMIG_VRAM_PAGE_SIZE +
	       (rs->reencode ? rs->cmd_bytes : 0);
}

/* Refuse the record that makes the stream need more than is reserved. */
static int restore_check_room(struct ctxmig_ir_reader *r,
			      const struct ctxmig_restore *rs)
{
	const struct ctxmig_gpu *gpu = rs->gpu;
	u64 room = gpu->vram_size - gpu->guest_size;
	u64 tables = min(rs->plan.tables, rs->plan_large.tables) +
		     rs->window_tables;

	if (min(restore_need(rs, false), restore_need(rs, true)) <= room)
		return 0;
	return ctxmig_ir_reader_fail(r, -ENOSPC,
				     "page tables (%llu pages at the least) and %llu bytes of re-encoded commands do not fit in %s's reserved %llu MiB",
				     (unsigned long long)tables,
				     (unsigned long long)(rs->reencode ?
							  rs->cmd_bytes : 0),
				     gpu->model->name,
				     (unsigned long long)(room >> 20));
}

/*
 * The most reserved-area bytes re-encoding @cmd takes: its native form
 * (a COPY one native command per CTXMIG_CMD_COPY_MIN bytes), and for an
 * indirect buffer a buffer of its own (aligned, and closed by the model's
 * end command) and the command that runs it.  The buffer that holds them
 * all is counted once, in restore_plan_init().
 */
static u64 cmd_pool_bytes(const struct ctxmig_cmd *cmd)
{
	u64 n = 1;

	if (cmd->op == CTXMIG_OP_COPY)
		n = min_t(u64, cmd->value / CTXMIG_CMD_COPY_MIN + 1,
			  U32_MAX / CTXMIG_CMD_MAX_BYTES);
	n *= CTXMIG_CMD_MAX_BYTES;
	if (cmd->op == CTXMIG_OP_IB)
		n += IB_ALIGN + 2 * CTXMIG_CMD_MAX_BYTES;
	return n;
}

static int restore_plan_mapping(struct ctxmig_ir_reader *r,
				struct ctxmig_restore *rs,
				const struct ctxmig_mapping *map)
{
	const struct ctxmig_model *m = rs->gpu->model;
	struct ctxmig_mapping large = *map;
	int ret;

	large.page_shift = CTXMIG_PT_LARGEST_PAGES;
	ret = ctxmig_pt_plan_add(m, &rs->plan, map);
	ret = ret ?: ctxmig_pt_plan_add(m, &rs->plan_large, &large);
	if (ret)
		return ctxmig_ir_reader_fail(r, ret,
					     "%s cannot map VA 0x%llx (%llu bytes at 0x%llx)",
					     m->name,
					     (unsigned long long)map->va,
					     (unsigned long long)map->size,
					     (unsigned long long)map->addr);
	return restore_check_room(r, rs);
}

static int restore_plan_cmd(struct ctxmig_ir_reader *r,
			    struct ctxmig_restore *rs,
			    const struct ctxmig_cmd *cmd)
{
	rs->cmd_bytes += cmd_pool_bytes(cmd);
	if (cmd->flags & CTXMIG_CMD_IB_PRIVATE)
		rs->reencode = true;
	return restore_check_room(r, rs);
}

static int restore_preamble(struct ctxmig_ir_reader *r, void *priv,
			    const struct ctxmig_caps *caps)
{
	struct ctxmig_restore *rs = priv;
	struct ctxmig_gpu *gpu = rs->gpu;
	char reason[CTXMIG_IR_REASON_LEN];
	int ret;

	ret = ctxmig_compat(caps, gpu, reason, sizeof(reason));
	if (ret)
		return ctxmig_ir_reader_fail(r, ret, "%s", reason);
	rs->src = *caps;
	rs->src_model = ctxmig_model_find(caps->model);
	/* The stream replaces the device's state: start from nothing. */
	ctxmig_gpu_reset(gpu);
	ret = restore_plan_init(rs);
	if (ret)
		return ctxmig_ir_reader_fail(r, ret,
					     "%s cannot map its reserved window",
					     gpu->model->name);
	return ctxmig_vram_clear(&gpu->vram, 0, gpu->vram_size);
}

/* Can the target's ring registers hold this ring? */
static int restore_check_ring(struct ctxmig_ir_reader *r,
			      const struct ctxmig_gpu *gpu,
			      const struct ctxmig_ring *ring)
{
	const struct ctxmig_model *m = gpu->model;

	if (ring->size < m->ring_min || ring->size > m->ring_max ||
	    !IS_ALIGNED(ring->base, m->ring_align))
		return ctxmig_ir_reader_fail(r, -EINVAL,
					     "%s rings are %u..%u bytes, %u-byte aligned: cannot hold %u bytes at 0x%llx",
					     m->name, m->ring_min, m->ring_max,
					     m->ring_align, ring->size,
					     (unsigned long long)ring->base);
	return 0;
}

/* Can the target's page-table entries express this mapping? */
static int restore_check_mapping(struct ctxmig_ir_reader *r,
				 const struct ctxmig_gpu *gpu,
				 const struct ctxmig_mapping *map)
{
	const struct ctxmig_model *m = gpu->model;
	struct ctxmig_pte pte = {
		.kind = CTXMIG_PTE_LEAF,
		.flags = map->flags,
		.cache = map->cache,
	};
	u64 raw[CTXMIG_PT_MAX_SUBS] = {};
	int level, ret;

	/* The first and the last page, at the smallest page size. */
	for (level = m->nlevels - 1; level >= 0 && !m->levels[level].leaf;
	     level--)
		;
	pte.addr = map->addr;
	ret = m->pte_encode(gpu, level, 0, &pte, raw);
	pte.addr = map->addr + map->size - BIT_ULL(m->levels[level].shift);
	ret = ret ?: m->pte_encode(gpu, level, 0, &pte, raw);
	if (ret)
		return ctxmig_ir_reader_fail(r, ret,
					     "%s cannot map VA 0x%llx to %s 0x%llx (flags 0x%x)",
					     m->name, (unsigned long long)map->va,
					     map->flags & CTXMIG_MAP_SYSMEM ?
					     "system address" : "VRAM",
					     (unsigned long long)map->addr,
					     map->flags);
	return 0;
}

/* The page filled whole by the last run of VRAM data goes into VRAM. */
static int restore_publish(struct ctxmig_restore *rs)
{
	void *page = rs->fresh;

	if (!page)
		return 0;
	rs->fresh = NULL;
	return ctxmig_vram_insert(&rs->gpu->vram, rs->fresh_pfn, page);
}

static int restore_event(struct ctxmig_ir_reader *r, void *priv,
			 const struct ctxmig_ir_event *ev)
{
	struct ctxmig_restore *rs = priv;
	struct ctxmig_gpu *gpu = rs->gpu;
	u32 e = rs->engine;
	int ret = 0;

	if (ev->kind != CTXMIG_EV_RECORD)
		return 0;
	rs->records_by_type[ev->type & 0xff]++;
	rs->bytes_by_type[ev->type & 0xff] += ev->len;
	switch (ev->type) {
	case CTXMIG_IR_DEV_IDENTITY:
		rs->src_migrated = ev->u.identity.migrated;
		break;
	case CTXMIG_IR_ENG_RING:
		e = ev->u.ring.engine;
		if (e >= CTXMIG_GPU_ENGINES)
			return ctxmig_ir_reader_fail(r, -EOPNOTSUPP,
						     "engine %u on a %u-engine device",
						     e, CTXMIG_GPU_ENGINES);
		ret = restore_check_ring(r, gpu, &ev->u.ring);
		if (ret)
			return ret;
		rs->ring[e] = ev->u.ring;
		rs->have_ring |= BIT(e);
		rs->engine = e;	/* ENG_FENCE and ENG_IRQ follow in ENGINE */
		break;
	case CTXMIG_IR_ENG_FENCE:
		rs->fence[e] = ev->u.fence;
		break;
	case CTXMIG_IR_ENG_IRQ:
		rs->irq[e] = ev->u.irq;
		break;
	case CTXMIG_IR_CMD:
		ret = restore_plan_cmd(r, rs, &ev->u.cmd);
		if (ret)
			return ret;
		ret = cmd_add(&rs->cmds[ev->u.cmd.engine], &ev->u.cmd);
		break;
	case CTXMIG_IR_MAPPING:
		ret = restore_check_mapping(r, gpu, &ev->u.mapping);
		ret = ret ?: restore_plan_mapping(r, rs, &ev->u.mapping);
		if (ret)
			return ret;
		ret = map_add(&rs->maps, &ev->u.mapping);
		break;
	case CTXMIG_IR_VRAM:
		/* The reader wrote the data where restore_vram_dest() said. */
		ret = restore_publish(rs);
		break;
	case CTXMIG_IR_VRAM_ZERO:
		ret = ctxmig_vram_clear(&gpu->vram, ev->u.vram.offset,
					ev->u.vram.length);
		break;
	}
	if (ret)
		return ctxmig_ir_reader_fail(r, ret, "%s",
					     ret == -E2BIG ? "too many records" :
					     "out of memory");
	return 0;
}

/*
 * VRAM data goes from the stream straight into the target's pages.  A page
 * the data fills whole and VRAM does not have yet is a new page, not
 * zeroed, that VRAM takes once it is full (restore_publish(), at the next
 * run or at the record's end): zeroing it first would cost as much as
 * writing it.
 */
static int restore_vram_dest(struct ctxmig_ir_reader *r, void *priv,
			     u64 offset, u64 left, void **dst)
{
	struct ctxmig_restore *rs = priv;
	struct ctxmig_vram *vram = &rs->gpu->vram;
	u64 pfn = offset >> CTXMIG_VRAM_PAGE_SHIFT;
	int n = restore_publish(rs);

	if (!n && IS_ALIGNED(offset, CTXMIG_VRAM_PAGE_SIZE) &&
	    left >= CTXMIG_VRAM_PAGE_SIZE &&
	    ctxmig_vram_range_ok(vram, offset, left) &&
	    !ctxmig_vram_page(vram, pfn)) {
		rs->fresh = (void *)__get_free_page(GFP_KERNEL_ACCOUNT);
		if (rs->fresh) {
			rs->fresh_pfn = pfn;
			*dst = rs->fresh;
			return CTXMIG_VRAM_PAGE_SIZE;
		}
		n = -ENOMEM;
	}
	n = n ?: ctxmig_vram_dest(vram, offset, left, dst);
	if (n < 0)
		return ctxmig_ir_reader_fail(r, n, "%s",
					     n == -ERANGE ?
					     "beyond the target's VRAM" :
					     "out of memory");
	return n;
}

static const struct ctxmig_ir_reader_ops restore_ops = {
	.preamble = restore_preamble,
	.event = restore_event,
	.vram_dest = restore_vram_dest,
};

/**
 * ctxmig_restore_init() - prepare to restore a stream into a device
 * @rs: restore to set up.
 * @gpu: the target; stopped, owned by the restore until it ends.  Its
 *	state is replaced once the stream's preamble is accepted.
 *
 * Return: 0 or a negative errno.
 */
int ctxmig_restore_init(struct ctxmig_restore *rs, struct ctxmig_gpu *gpu)
{
	memset(rs, 0, sizeof(*rs));
	rs->gpu = gpu;
	return ctxmig_ir_reader_init(&rs->reader, &restore_ops, rs);
}

/**
 * ctxmig_restore_feed() - give the restore the next bytes of the stream
 * @rs: restore.
 * @data: bytes, in any split.
 * @len: how many.
 *
 * Return: 0, or the negative errno that stopped it (the reason in
 * ctxmig_restore_error()).
 */
int ctxmig_restore_feed(struct ctxmig_restore *rs, const void *data,
			size_t len)
{
	return ctxmig_ir_feed(&rs->reader, data, len);
}

/**
 * ctxmig_restore_dest() - where the next bytes of the stream go
 * @rs: restore.
 * @avail: bytes the caller has, at least one.
 * @dst: set to where to write them.
 *
 * With ctxmig_restore_commit(), a restore that takes each byte with one
 * copy: VRAM data lands in the target's pages (see ctxmig_ir_feed_dest()).
 *
 * Return: bytes that may be written at @dst, or the negative errno that
 * stopped the restore.
 */
ssize_t ctxmig_restore_dest(struct ctxmig_restore *rs, size_t avail,
			    void **dst)
{
	return ctxmig_ir_feed_dest(&rs->reader, avail, dst);
}

/**
 * ctxmig_restore_commit() - the caller wrote the bytes ctxmig_restore_dest() asked for
 * @rs: restore.
 * @n: how many it wrote.
 *
 * Return: 0, or the negative errno that stopped the restore.
 */
int ctxmig_restore_commit(struct ctxmig_restore *rs, size_t n)
{
	return ctxmig_ir_feed_commit(&rs->reader, n);
}

/* A failure after the stream itself was found good. */
__printf(3, 4)
static int apply_fail(struct ctxmig_restore *rs, int err, const char *fmt, ...)
{
	struct ctxmig_ir_reader *r = &rs->reader;
	va_list args;

	r->state = CTXMIG_RS_FAILED;
	r->error.err = err;
	r->error.offset = r->offset;
	va_start(args, fmt);
	vscnprintf(r->error.reason, sizeof(r->error.reason), fmt, args);
	va_end(args);
	return err;
}

/* A growable byte buffer for re-encoded commands. */
struct xbuf {
	u8 *p;
	u32 len;
	u32 cap;
};

#define XBUF_MAX	(16U << 20)

static int xbuf_encode(struct ctxmig_gpu *gpu, struct xbuf *b,
		       const struct ctxmig_cmd *cmd)
{
	int ret;

	for (;;) {
		if (b->cap - b->len >= CTXMIG_CMD_MAX_BYTES) {
			ret = gpu->model->encode(gpu, cmd, b->p + b->len,
						 b->cap - b->len);
			if (ret >= 0) {
				b->len += ret;
				return 0;
			}
			if (ret != -ENOSPC)
				return ret;
		}
		if (b->cap >= XBUF_MAX)
			return -ENOSPC;
		ret = grow((void **)&b->p, &b->cap, b->cap, 1, XBUF_MAX);
		if (ret)
			return ret;
	}
}

/* What ends a buffer's commands on models that need it (Intel). */
static int xbuf_end(struct ctxmig_gpu *gpu, struct xbuf *b)
{
	int ret;

	for (;;) {
		ret = ctxmig_gpu_encode_end(gpu, b->p + b->len, b->cap - b->len);
		if (ret >= 0) {
			b->len += ret;
			return 0;
		}
		if (ret != -ENOSPC || b->cap >= XBUF_MAX)
			return -ENOSPC;
		ret = grow((void **)&b->p, &b->cap, b->cap, 1, XBUF_MAX);
		if (ret)
			return ret;
	}
}

/* Where the children of the command at @i end. */
static u32 subtree_end(const struct ctxmig_cmd *c, u32 n, u32 i)
{
	u32 j = i + 1;

	while (j < n && c[j].level > c[i].level)
		j++;
	return j;
}

static int encode_list(struct ctxmig_restore *rs, const struct ctxmig_cmd *c,
		       u32 n, u32 level, struct xbuf *out, u32 nest_left);

/*
 * Encode @n commands as the contents of a new buffer in the reserved area
 * and add the command that executes it, at @level, to @out.
 */
static int encode_ib(struct ctxmig_restore *rs, const struct ctxmig_cmd *c,
		     u32 n, u32 level, struct xbuf *out, u32 nest_left)
{
	struct ctxmig_gpu *gpu = rs->gpu;
	struct xbuf body = {};
	struct ctxmig_cmd ib = {
		.op = CTXMIG_OP_IB,
		.level = level,
	};
	u64 off;
	int ret;

	ret = encode_list(rs, c, n, level + 1, &body, nest_left - 1);
	if (ret || !body.len)
		goto out;
	ret = xbuf_end(gpu, &body);
	if (ret)
		goto out;
	off = ctxmig_gpu_pool_alloc(gpu, ALIGN(body.len, IB_ALIGN), IB_ALIGN);
	if (off == U64_MAX) {
		ret = -ENOSPC;
		goto out;
	}
	ret = ctxmig_vram_write(&gpu->vram, off, body.p, body.len);
	if (ret)
		goto out;
	ib.src = ctxmig_gpu_window_va(gpu, off);
	ib.value = body.len;
	ret = xbuf_encode(gpu, out, &ib);
out:
	kvfree(body.p);
	return ret;
}

static int encode_list(struct ctxmig_restore *rs, const struct ctxmig_cmd *c,
		       u32 n, u32 level, struct xbuf *out, u32 nest_left)
{
	u32 i = 0, j;
	int ret;

	while (i < n) {
		if (c[i].op == CTXMIG_OP_IB) {
			j = subtree_end(c, n, i);
			if (nest_left)
				ret = encode_ib(rs, c + i + 1, j - i - 1, level,
						out, nest_left);
			else	/* flatten: the target cannot nest deeper */
				ret = encode_list(rs, c + i + 1, j - i - 1,
						  level, out, 0);
		} else {
			struct ctxmig_cmd cmd = c[i];

			cmd.level = level;
			cmd.flags &= ~(CTXMIG_CMD_IB_OPEN | CTXMIG_CMD_IB_PRIVATE);
			ret = xbuf_encode(rs->gpu, out, &cmd);
			j = i + 1;
		}
		if (ret)
			return ret;
		i = j;
	}
	return 0;
}

/*
 * Another command format: re-encode the engine's pending commands into one
 * buffer in the reserved area, which the engine resumes as the buffer it
 * was executing, and leave the guest's ring alone.  The ring registers get
 * the source's tail as head and tail (a whole slot of the target's), so
 * the guest's next command goes where its last one ended.  A guest still
 * writing its ring in the source's format as its state was saved (its
 * tail write had not reached the device) writes over nothing the target
 * executes: see "Post-migration recovery" in
 * Documentation/gpu/ctxmig/guest-interface.rst.
 */
static int apply_translate(struct ctxmig_restore *rs, u32 e)
{
	struct ctxmig_gpu *gpu = rs->gpu;
	const struct ctxmig_model *m = gpu->model;
	struct ctxmig_engine *eng = &gpu->eng[e];
	struct ctxmig_cmd_list *l = &rs->cmds[e];
	struct ctxmig_ring ring = rs->ring[e];
	struct xbuf body = {};
	u64 off;
	int ret;

	ring.tail = ALIGN(ring.tail, m->ring_slot) & (ring.size - 1);
	ring.head = ring.tail;
	ret = m->ring_set(gpu, e, &ring);
	if (ret)
		return apply_fail(rs, ret, "a %u-byte ring at 0x%llx cannot be expressed by %s",
				  ring.size, (unsigned long long)ring.base,
				  m->name);
	/* The buffer is one level of the target's nesting. */
	ret = encode_list(rs, l->cmds, l->n, 1, &body, m->ib_levels - 1);
	if (ret || !body.len)
		goto out;
	off = ctxmig_gpu_pool_alloc(gpu, ALIGN(body.len, IB_ALIGN), IB_ALIGN);
	if (off == U64_MAX) {
		ret = -ENOSPC;
		goto out;
	}
	ret = ctxmig_vram_write(&gpu->vram, off, body.p, body.len);
	if (ret)
		goto out;
	eng->ib[0].va = ctxmig_gpu_window_va(gpu, off);
	eng->ib[0].size = body.len;
	eng->ib[0].pos = 0;
	eng->depth = 1;
out:
	kvfree(body.p);
	if (ret)
		apply_fail(rs, ret,
			   "%u pending commands cannot be re-encoded for %s%s",
			   l->n, m->name, ret == -ENOSPC ?
			   ": reserved area too small" : "");
	return ret;
}

static bool same_cmds(const struct ctxmig_cmd_list *a,
		      const struct ctxmig_cmd_list *b)
{
	u32 i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		const struct ctxmig_cmd *x = &a->cmds[i], *y = &b->cmds[i];

		if (x->engine != y->engine || x->op != y->op ||
		    x->level != y->level || x->flags != y->flags ||
		    x->dst != y->dst || x->src != y->src ||
		    x->value != y->value)
			return false;
	}
	return true;
}

/*
 * Same command format: the ring and buffers the guest wrote travelled as
 * VRAM data.  Point the engine at them and check they still say what the
 * stream says: decoding no more commands than the stream lists.
 */
static bool apply_passthrough(struct ctxmig_restore *rs, u32 e)
{
	struct ctxmig_gpu *gpu = rs->gpu;
	struct ctxmig_engine *eng = &gpu->eng[e];
	struct ctxmig_cmd_list *l = &rs->cmds[e];
	struct ctxmig_cmd_list check = {};
	char reason[CTXMIG_IR_REASON_LEN];
	u32 i, max_depth;
	bool ok = false;

	if (!rs->src_model ||
	    rs->src_model->cmd_format != gpu->model->cmd_format)
		return false;
	max_depth = min_t(u32, gpu->model->ib_levels, CTXMIG_IR_MAX_IB_LEVEL);
	for (i = 0; i < l->n; i++)
		if (l->cmds[i].flags & CTXMIG_CMD_IB_PRIVATE)
			return false;
	if (gpu->model->ring_set(gpu, e, &rs->ring[e]))
		return false;
	for (i = 0; i < l->n && (l->cmds[i].flags & CTXMIG_CMD_IB_OPEN); i++) {
		if (eng->depth == max_depth)
			goto out;
		eng->ib[eng->depth].va = l->cmds[i].src;
		eng->ib[eng->depth].size = l->cmds[i].value;
		eng->ib[eng->depth].pos = l->cmds[i].dst;
		eng->depth++;
	}
	/*
	 * A COPY next may be what was left of a started copy, which only the
	 * stream has: then the ring and buffers say the rest without it.
	 */
	if (i < l->n && l->cmds[i].op == CTXMIG_OP_COPY &&
	    l->cmds[i].level == eng->depth) {
		eng->copy = l->cmds[i];
		ok = !ctxmig_pending_collect(gpu, e, &check, NULL, l->n, reason,
					     sizeof(reason)) &&
		     same_cmds(&check, l);
		ctxmig_cmd_list_free(&check);
		if (ok)
			goto out;
		memset(&eng->copy, 0, sizeof(eng->copy));
	}
	ok = !ctxmig_pending_collect(gpu, e, &check, NULL, l->n, reason,
				     sizeof(reason)) &&
	     same_cmds(&check, l);
out:
	if (!ok)
		eng->depth = 0;
	ctxmig_cmd_list_free(&check);
	return ok;
}

static int apply(struct ctxmig_restore *rs)
{
	struct ctxmig_gpu *gpu = rs->gpu;
	const struct ctxmig_model *m = gpu->model;
	u64 reserved = gpu->vram_size - gpu->guest_size;
	u64 reserved_mib = reserved >> 20;
	/* The guest's own page sizes, unless their tables do not fit. */
	bool large = restore_need(rs, false) > reserved;
	struct ctxmig_mapping window;
	u32 i, e;
	int ret;

	restore_window(gpu, &window);
	for (i = 0; i < rs->maps.n; i++) {
		struct ctxmig_mapping map = rs->maps.maps[i];

		if (large)
			map.page_shift = CTXMIG_PT_LARGEST_PAGES;
		ret = ctxmig_pt_map(gpu, &map, ctxmig_pt_pool_alloc, gpu);
		if (ret == -ENOSPC)
			return apply_fail(rs, ret,
					  "page tables for %u mappings do not fit in %s's reserved %llu MiB",
					  rs->maps.n, m->name,
					  (unsigned long long)reserved_mib);
		if (ret)
			return apply_fail(rs, ret,
					  "%s cannot map VA 0x%llx (%llu bytes at 0x%llx, flags 0x%x)",
					  m->name, (unsigned long long)map.va,
					  (unsigned long long)map.size,
					  (unsigned long long)map.addr,
					  map.flags);
	}
	ret = ctxmig_pt_map(gpu, &window, ctxmig_pt_pool_alloc, gpu);
	if (ret)
		return apply_fail(rs, ret, "%s cannot map its reserved window",
				  m->name);

	for (e = 0; e < CTXMIG_GPU_ENGINES; e++) {
		struct ctxmig_engine *eng = &gpu->eng[e];

		if (!(rs->have_ring & BIT(e)))
			continue;
		rs->passthrough[e] = apply_passthrough(rs, e);
		if (!rs->passthrough[e]) {
			ret = apply_translate(rs, e);
			if (ret)
				return ret;
		}
		eng->fence = rs->fence[e];
		eng->irq_enabled = rs->irq[e].enabled;
		eng->irq_pending = rs->irq[e].pending;
		eng->status = rs->cmds[e].n ? CTXMIG_ENG_BUSY : CTXMIG_ENG_IDLE;
	}
	/*
	 * The state has been through one more migration than the source's
	 * count, and never shows a count this device showed before: a guest
	 * that compares with the count it last saw always sees a change.
	 */
	gpu->migrated = max(gpu->migrated, rs->src_migrated) + 1;
	ctxmig_gpu_raise(gpu, 0, CTXMIG_IRQ_MIGRATED);
	return 0;
}

/**
 * ctxmig_restore_finish() - the stream has ended: check it and apply it
 * @rs: restore.
 *
 * Nothing of the target's native state (registers, page tables, rings) is
 * written before the whole stream, END and CRC included, was accepted.
 *
 * Return: 0, or the negative errno (reason in ctxmig_restore_error()).
 */
int ctxmig_restore_finish(struct ctxmig_restore *rs)
{
	int ret = ctxmig_ir_reader_finish(&rs->reader);

	return ret ?: apply(rs);
}

/**
 * ctxmig_restore_fini() - free what a restore holds
 * @rs: restore.
 */
void ctxmig_restore_fini(struct ctxmig_restore *rs)
{
	u32 e;

	ctxmig_ir_reader_fini(&rs->reader);
	if (rs->fresh)
		free_page((unsigned long)rs->fresh);
	rs->fresh = NULL;
	for (e = 0; e < CTXMIG_GPU_ENGINES; e++)
		ctxmig_cmd_list_free(&rs->cmds[e]);
	kvfree(rs->maps.maps);
	rs->maps.maps = NULL;
}

#if IS_ENABLED(CONFIG_CTXMIG_KUNIT_TEST)
#include "tests/ctxmig_xlate_kunit.c"
#endif
