// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig: mutated migration streams into resuming devices.
 *
 * A source of every model runs a small workload (a 1 KiB pattern, writes
 * and copies in the first page of its data mapping, fences) and is
 * stopped with commands still pending (sysfs throttle); its stop-copy
 * stream is saved.  From these real streams, with record boundaries taken
 * from their TLV headers (<linux/ctxmig.h>), a seeded PRNG (the seed is
 * printed; CTXMIG_MUTATION_SEED overrides it) derives mutants of seven
 * classes: bit flips, truncations, splices (also between streams of
 * different models), length edits (0, 1, odd, +-8, past the end, of the
 * preamble, of any record at any depth), reordered records (swapped
 * siblings at any depth), duplicated records (containers' lengths kept
 * consistent) and huge lengths (record lengths, VRAM lengths and
 * offsets, mapping sizes, the preamble's VRAM size and length).
 *
 * Two threads, each with its own destination device (another model than
 * the stream's), write them into RESUMING.  A raw mutant must be refused:
 * write() fails with an errno, or RESUMING -> STOP fails and leaves the
 * device in ERROR; a reset brings it back to RUNNING with its MIGRATED
 * counter unchanged.  Raw mutants mostly die at the END record's CRC32C,
 * so the same classes are also sent CRC-repaired (preamble CRC and END
 * recomputed, END appended where a truncation cut it): those reach the
 * semantic checks and may be valid (a flipped VRAM byte), so they must be
 * refused as above or accepted with the device then RUNNING, its control
 * page naming its own model and MIGRATED counted; one in four of them
 * (per thread) is also reset and runs a small workload, checked through
 * BAR2.  They are counted apart.  Counts per class and per stage (write,
 * STOP) and the errnos are printed.
 *
 * After each model's batch, the source goes back to RUNNING and finishes
 * its workload (every byte checked through BAR2), and the untouched
 * stream restores into a destination that took the batch, where a second
 * guest driver finishes the same workload.  Unreclaimable slab, and the
 * pages the kernel uses (free pages with the per-CPU lists, less this
 * process's own), are compared before and after the campaign.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/ctxmig.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "guest.h"
#include "workload.h"

#define NMODELS		5
#define NWORKERS	2
/* Raw mutants per source model, and CRC-repaired ones. */
#define RAW_PER_MODEL	2000
#define REP_PER_MODEL	80
#define MAX_RECS	512
#define DEFAULT_SEED	0x6d757461ULL

static const char * const models[NMODELS] = {
	"amd-gfx9", "amd-gfx12", "intel-gen12", "nv-ampere", "nv-hopper",
};

static const uint32_t model_ids[NMODELS] = {
	CTXMIG_MODEL_AMD_GFX9, CTXMIG_MODEL_AMD_GFX12,
	CTXMIG_MODEL_INTEL_GEN12, CTXMIG_MODEL_NV_AMPERE,
	CTXMIG_MODEL_NV_HOPPER,
};

enum mclass {
	M_BITFLIP, M_TRUNCATE, M_SPLICE, M_LENGTH, M_REORDER, M_DUPLICATE,
	M_HUGE, NCLASS
};

static const char * const class_names[NCLASS] = {
	"bitflip", "truncate", "splice", "length", "reorder", "duplicate",
	"huge",
};

enum mstage { S_WRITE, S_STOP, S_ACCEPTED, NSTAGE };

#define MAX_ERRNO	140

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* --------------------------------------------------------- TLV parsing */

struct rec {
	size_t off;		/* of the header */
	size_t end;		/* past the padded payload */
	uint16_t type;
	uint16_t flags;
	uint32_t len;
	int parent;		/* index of the container, -1 at top level */
};

struct sstream {
	const char *model;
	uint8_t *p;
	size_t len;
	struct rec r[MAX_RECS];
	int n;
	unsigned int cmds, vram;
};

static int parse_level(struct sstream *s, size_t off, size_t end, int parent,
		       int depth)
{
	while (off < end) {
		const struct ctxmig_ir_rec *h = (const void *)(s->p + off);
		struct rec *r;
		int me;

		if (off + sizeof(*h) > end || s->n >= MAX_RECS ||
		    depth > CTXMIG_IR_MAX_DEPTH)
			return -EINVAL;
		me = s->n++;
		r = &s->r[me];
		r->off = off;
		r->type = le16toh(h->type);
		r->flags = le16toh(h->flags);
		r->len = le32toh(h->len);
		r->end = off + sizeof(*h) + pad8(r->len);
		r->parent = parent;
		if (r->end > end)
			return -EINVAL;
		if (r->type == CTXMIG_IR_CMD)
			s->cmds++;
		if (r->type == CTXMIG_IR_VRAM)
			s->vram++;
		if ((r->flags & CTXMIG_IR_F_CONTAINER) &&
		    parse_level(s, off + sizeof(*h), off + sizeof(*h) + r->len,
				me, depth + 1))
			return -EINVAL;
		off = r->end;
	}
	return 0;
}

static int parse_stream(struct sstream *s)
{
	const struct ctxmig_ir_preamble *p = (const void *)s->p;

	s->n = 0;
	if (s->len < sizeof(*p) || le64toh(p->magic) != CTXMIG_IR_MAGIC)
		return -EINVAL;
	return parse_level(s, le32toh(p->preamble_len), s->len, -1, 0);
}

/* Top-level records of a (mutated) stream, as far as they are whole. */
static int top_level(const uint8_t *s, size_t len, size_t *last_ok,
		     size_t *end_off)
{
	const struct ctxmig_ir_preamble *p = (const void *)s;
	size_t off;
	int n = 0;

	*end_off = SIZE_MAX;
	if (len < sizeof(*p))
		return -1;
	off = le32toh(p->preamble_len);
	if (off < sizeof(*p) || off > len || off % 8)
		return -1;
	*last_ok = off;
	while (off + sizeof(struct ctxmig_ir_rec) <= len) {
		const struct ctxmig_ir_rec *h = (const void *)(s + off);
		size_t e = off + sizeof(*h) + pad8(le32toh(h->len));

		if (e > len || e < off)
			break;
		if (le16toh(h->type) == CTXMIG_IR_END && e == len) {
			*end_off = off;
			break;
		}
		off = e;
		*last_ok = off;
		n++;
	}
	return n;
}

/*
 * Make a mutant's checksums right: the preamble CRC if its length is
 * sane, and an END record that ends the stream, holding the CRC and the
 * count of the whole records before it (appended after the last whole
 * record if the stream has none).  Returns the new length, or 0.
 */
static size_t repair(uint8_t *s, size_t len, size_t cap)
{
	struct ctxmig_ir_preamble *p = (void *)s;
	struct ctxmig_ir_end end = {};
	struct ctxmig_ir_rec h = {
		.type = htole16(CTXMIG_IR_END),
		.flags = htole16(CTXMIG_IR_F_CRITICAL),
		.len = htole32(sizeof(end)),
	};
	size_t last_ok, at;
	int n;

	n = top_level(s, len, &last_ok, &at);
	if (n < 0)
		return 0;
	p->preamble_crc = htole32(guest_ir_crc(p, offsetof(struct ctxmig_ir_preamble,
							   preamble_crc)));
	if (at == SIZE_MAX) {
		at = last_ok;
		if (at + sizeof(h) + sizeof(end) > cap)
			return 0;
		memcpy(s + at, &h, sizeof(h));
	} else {
		memcpy(&h, s + at, sizeof(h));
	}
	end.crc32c = htole32(guest_ir_crc(s, at + sizeof(h)));
	end.records = htole64(n);
	memcpy(s + at + sizeof(h), &end, sizeof(end));
	return at + sizeof(h) + sizeof(end);
}

/* ------------------------------------------------------------ mutants */

struct campaign {
	struct sstream src[NMODELS];
	size_t cap;		/* of a mutant buffer */
	uint64_t seed;
};

static void set_len(uint8_t *s, const struct rec *r, uint32_t v)
{
	v = htole32(v);
	memcpy(s + r->off + 4, &v, 4);
}

static void put64(uint8_t *s, size_t off, uint64_t v)
{
	v = htole64(v);
	memcpy(s + off, &v, 8);
}

/* Siblings of record @i (same parent), as indices into @out. */
static int siblings(const struct sstream *s, int i, int *out)
{
	int k, n = 0;

	for (k = 0; k < s->n; k++)
		if (s->r[k].parent == s->r[i].parent)
			out[n++] = k;
	return n;
}

/* Add @delta to the length of every container around record @i. */
static void grow_parents(uint8_t *s, const struct sstream *ss, int i,
			 int64_t delta)
{
	int k;

	for (k = ss->r[i].parent; k >= 0; k = ss->r[k].parent)
		set_len(s, &ss->r[k], ss->r[k].len + delta);
}

/*
 * Mutant of class @c of stream @m into @out (cap bytes), from the PRNG
 * state @rs; returns its length.
 */
static size_t mutate(const struct campaign *cp, int m, enum mclass c,
		     uint64_t *rs, uint8_t *out)
{
	const struct sstream *s = &cp->src[m];
	const struct ctxmig_ir_preamble *pre = (const void *)s->p;
	size_t len = s->len, pl = le32toh(pre->preamble_len);
	const struct rec *r = &s->r[below(rs, s->n)];
	int sib[MAX_RECS];
	unsigned int k;

	memcpy(out, s->p, len);
	switch (c) {
	case M_BITFLIP:
		for (k = 0; k < 1 + below(rs, 4); k++) {
			uint64_t bit = below(rs, len * 8);

			out[bit / 8] ^= 1 << (bit % 8);
		}
		return len;
	case M_TRUNCATE:
		switch (below(rs, 3)) {
		case 0:
			return below(rs, len);
		case 1:
			return r->off;
		default:
			return r->off + 8 + below(rs, r->end - r->off - 8);
		}
	case M_SPLICE: {
		int o = below(rs, 5) ? (m + 1 + below(rs, NMODELS - 1)) %
				       NMODELS : m;
		const struct sstream *b = &cp->src[o];
		size_t a_at, b_at;

		if (below(rs, 4)) {
			/* At record boundaries, any depth. */
			a_at = s->r[below(rs, s->n)].off;
			b_at = b->r[below(rs, b->n)].off;
		} else {
			a_at = below(rs, len);
			b_at = below(rs, b->len);
		}
		memcpy(out + a_at, b->p + b_at, b->len - b_at);
		return a_at + b->len - b_at;
	}
	case M_LENGTH: {
		static const int64_t d[] = { 1, -1, 8, -8, 3, 4096 };
		uint64_t v;

		if (!below(rs, 8)) {
			static const uint32_t pls[] = { 0, 8, 40, 47, 49, 56,
							64, 4096 };
			uint32_t x = pls[below(rs, ARRAY_SIZE(pls))];

			x = x == pl ? pl + 8 : x;
			x = htole32(x);
			memcpy(out + offsetof(struct ctxmig_ir_preamble,
					      preamble_len), &x, 4);
			return len;
		}
		switch (below(rs, 4)) {
		case 0:
			v = below(rs, 2);	/* 0 or 1 */
			break;
		case 1:				/* past the end */
			v = len - r->off - 8 + 1 + below(rs, 64);
			break;
		default:
			v = r->len + d[below(rs, ARRAY_SIZE(d))];
			break;
		}
		if (v == r->len)
			v++;
		set_len(out, r, v);
		return len;
	}
	case M_REORDER: {
		int n = siblings(s, r - s->r, sib), i, j;
		const struct rec *a, *b;
		size_t at;

		if (n < 2)
			return 0;
		i = below(rs, n);
		j = (i + 1 + below(rs, n - 1)) % n;
		if (i > j) {
			int t = i;

			i = j;
			j = t;
		}
		a = &s->r[sib[i]];
		b = &s->r[sib[j]];
		/* a b -> b (between) a */
		at = a->off;
		memcpy(out + at, s->p + b->off, b->end - b->off);
		at += b->end - b->off;
		memcpy(out + at, s->p + a->end, b->off - a->end);
		at += b->off - a->end;
		memcpy(out + at, s->p + a->off, a->end - a->off);
		return len;
	}
	case M_DUPLICATE: {
		int n = siblings(s, r - s->r, sib);
		const struct rec *at = &s->r[sib[below(rs, n)]];
		size_t sz = r->end - r->off, ins = below(rs, 2) ? at->off :
						  at->end;

		memcpy(out + ins, s->p + r->off, sz);
		memcpy(out + ins + sz, s->p + ins, len - ins);
		grow_parents(out, s, r - s->r, sz);
		return len + sz;
	}
	case M_HUGE: {
		static const uint64_t h64[] = {
			~0ULL, 1ULL << 63, 1ULL << 40, 0xfffffffffffff000ULL,
			0x100000000ULL, 0x7ffffffffffff000ULL,
		};
		static const uint32_t h32[] = {
			0xffffffff, 0xfffffff8, 0x80000000, 0x7fffffff,
			0x7ffffff8, 0x01000000, 0x00100008,
		};
		uint64_t v = h64[below(rs, ARRAY_SIZE(h64))];
		size_t pay = r->off + 8;

		switch (below(rs, 4)) {
		case 0:
			set_len(out, r, h32[below(rs, ARRAY_SIZE(h32))]);
			break;
		case 1:
			/* A length or address field inside the payload. */
			if ((r->type == CTXMIG_IR_VRAM ||
			     r->type == CTXMIG_IR_VRAM_ZERO) && r->len >= 16)
				put64(out, pay + 8 * below(rs, 2), v);
			else if (r->type == CTXMIG_IR_MAPPING && r->len >= 24)
				put64(out, pay + 8 * below(rs, 3), v);
			else if (r->type == CTXMIG_IR_CMD && r->len >= 32)
				put64(out, pay + 8 + 8 * below(rs, 3), v);
			else if (r->type == CTXMIG_IR_ENG_RING && r->len >= 40)
				/* base, size, tail, ib_va_base (IR 1.1) */
				put64(out, pay + 8 + 8 * below(rs, 4), v);
			else if (r->type == CTXMIG_IR_ENG_RING && r->len >= 24)
				put64(out, pay + 8 + 8 * below(rs, 2), v);
			else
				set_len(out, r, h32[below(rs, ARRAY_SIZE(h32))]);
			break;
		case 2:
			put64(out, offsetof(struct ctxmig_ir_preamble,
					    vram_size), v);
			break;
		default: {
			uint32_t x = htole32(h32[below(rs, ARRAY_SIZE(h32))]);

			memcpy(out + offsetof(struct ctxmig_ir_preamble,
					      preamble_len), &x, 4);
			break;
		}
		}
		return len;
	}
	default:
		return 0;
	}
}

/* ------------------------------------------------------------ workers */

struct worker {
	pthread_t th;
	struct vdev dst;
	int idx, dst_model;
	const struct campaign *cp;
	/* This batch: mutants [0, nraw + nrep) of stream @m, every NWORKERS. */
	int m;
	unsigned int nraw, nrep;
	uint32_t migrated;	/* the MIGRATED counter it must show */
	uint8_t *buf;
	/* Results, summed over batches. */
	unsigned long cnt[2][NCLASS][NSTAGE];
	unsigned long err_write[MAX_ERRNO + 1], err_stop[MAX_ERRNO + 1];
	unsigned long accepted, checked_accepted;
	uint64_t us[4];		/* in RESUMING, write, STOP, reset */
	unsigned int failures;
	char why[512];
};

__printf(2, 3)
static void wfail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->failures++) {
		va_start(ap, fmt);
		vsnprintf(w->why, sizeof(w->why), fmt, ap);
		va_end(ap);
	}
}

/* errnos a refused stream may give: the IR reader's and translators'. */
static bool sane_errno(int e)
{
	switch (e) {
	case EINVAL: case EBADMSG: case E2BIG: case EEXIST: case EFAULT:
	case EILSEQ: case EIO: case ELOOP: case ENODATA: case ENOSPC:
	case EOPNOTSUPP: case EPROTONOSUPPORT: case ERANGE: case ENOMSG:
		return true;
	}
	return false;
}

static uint32_t state_of(struct vdev *d)
{
	uint32_t st;

	return vdev_get_state(d, &st) ? ~0U : st;
}

/* The device works: RUNNING, registers, and a workload after a reset. */
static void check_accepted(struct worker *w, const char *what)
{
	struct vdev *d = &w->dst;
	struct guest_cmd c[3] = {
		{ .op = CTXMIG_OP_WRITE32, .dst = GUEST_DATA_VA + 0x3000,
		  .value = 0xc0de0000 | w->idx },
		{ .op = CTXMIG_OP_WRITE64, .dst = GUEST_DATA_VA + 0x3008,
		  .value = 0x1234567890abcdefULL },
		{ .op = CTXMIG_OP_FENCE, .dst = GUEST_DATA_VA,
		  .value = 77, .flags = CTXMIG_CMD_IRQ },
	};
	uint32_t v32 = 0;
	uint64_t v64 = 0;
	struct guest g;
	int ret;

	ret = vdev_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL);
	if (ret || state_of(d) != VFIO_DEVICE_STATE_RUNNING)
		return wfail(w, "%s: accepted, then RUNNING: %d", what, ret);
	if (vdev_ctl(d, CTXMIG_CTL_MAGIC) != CTXMIG_CTL_MAGIC_VALUE ||
	    vdev_ctl(d, CTXMIG_CTL_MODEL) != model_ids[w->dst_model])
		return wfail(w, "%s: accepted, control page magic 0x%x model %u",
			     what, vdev_ctl(d, CTXMIG_CTL_MAGIC),
			     vdev_ctl(d, CTXMIG_CTL_MODEL));
	w->migrated++;
	if (vdev_ctl(d, CTXMIG_CTL_MIGRATED) != w->migrated)
		return wfail(w, "%s: accepted, MIGRATED %u, expected %u", what,
			     vdev_ctl(d, CTXMIG_CTL_MIGRATED), w->migrated);
	/* A guest driver's setup is dear under TCG: one in four. */
	if (w->accepted++ % 4)
		return;
	ret = vdev_reset(d);
	if (ret)
		return wfail(w, "%s: reset: %d", what, ret);
	ret = guest_init(&g, d);
	ret = ret ?: guest_setup(&g);
	ret = ret ?: guest_submit(&g, c, ARRAY_SIZE(c), false);
	ret = ret ?: guest_wait_fence(&g, 77);
	ret = ret ?: guest_wait_idle(&g);
	if (ret) {
		wfail(w, "%s: accepted, then the workload: %s", what, g.why);
	} else {
		vdev_vram_read(d, GUEST_DATA_VRAM + 0x3000, &v32, 4);
		vdev_vram_read(d, GUEST_DATA_VRAM + 0x3008, &v64, 8);
		if (v32 != c[0].value || v64 != c[1].value)
			wfail(w, "%s: accepted, workload wrote 0x%x 0x%llx",
			      what, v32, (unsigned long long)v64);
	}
	guest_fini(&g);
	w->checked_accepted++;
}

/* One mutant into the device: refused (or, if @repaired, maybe not). */
static void one(struct worker *w, const uint8_t *s, size_t len, size_t chunk,
		bool repaired, enum mclass c, const char *what)
{
	struct vdev *d = &w->dst;
	int ret, werr, fd = -1, stage;
	uint64_t t0 = now_us(), t1, t2;
	uint32_t st;

	ret = vdev_set_state(d, VFIO_DEVICE_STATE_RESUMING, &fd);
	if (ret || fd < 0)
		return wfail(w, "%s: RUNNING -> RESUMING: %d", what, ret);
	t1 = now_us();
	werr = vdev_write_stream(fd, s, len, chunk);
	t2 = now_us();
	ret = vdev_set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
	close(fd);
	w->us[0] += t1 - t0;
	w->us[1] += t2 - t1;
	w->us[2] += now_us() - t2;
	st = state_of(d);
	if (werr) {
		stage = S_WRITE;
		if (-werr > MAX_ERRNO || !sane_errno(-werr))
			wfail(w, "%s: write failed with errno %d", what, -werr);
		else
			w->err_write[-werr]++;
		if (!ret)
			wfail(w, "%s: STOP succeeded after a refused write",
			      what);
	} else if (ret) {
		stage = S_STOP;
		if (-ret > MAX_ERRNO || !sane_errno(-ret))
			wfail(w, "%s: STOP failed with errno %d", what, -ret);
		else
			w->err_stop[-ret]++;
	} else {
		stage = S_ACCEPTED;
	}
	w->cnt[repaired][c][stage]++;
	if (stage == S_ACCEPTED) {
		if (!repaired)
			return wfail(w, "%s: a raw mutant was accepted", what);
		return check_accepted(w, what);
	}
	if (st != VFIO_DEVICE_STATE_ERROR)
		wfail(w, "%s: state %u after the refusal, not ERROR", what, st);
	t0 = now_us();
	ret = vdev_reset(d);
	st = state_of(d);
	w->us[3] += now_us() - t0;
	if (ret || st != VFIO_DEVICE_STATE_RUNNING)
		wfail(w, "%s: reset %d, state %u", what, ret, st);
	if (vdev_ctl(d, CTXMIG_CTL_MIGRATED) != w->migrated)
		wfail(w, "%s: refused, yet MIGRATED went %u -> %u", what,
		      w->migrated, vdev_ctl(d, CTXMIG_CTL_MIGRATED));
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	const struct campaign *cp = w->cp;
	unsigned int i;

	for (i = w->idx; i < w->nraw + w->nrep && w->failures < 5;
	     i += NWORKERS) {
		bool rep = i >= w->nraw;
		enum mclass c = i % NCLASS;
		uint64_t rs = splitmix(cp->seed ^ ((uint64_t)w->m << 48) ^ i);
		size_t len, chunk;
		char what[96];

		rs = rs ? rs : 1;
		do {
			len = mutate(cp, w->m, c, &rs, w->buf);
			if (len && rep)
				len = repair(w->buf, len, cp->cap);
			/* Never the original bytes again. */
		} while (!len || (len == cp->src[w->m].len &&
				  !memcmp(w->buf, cp->src[w->m].p, len)));
		switch (i % 8) {
		case 0:
			chunk = 512 + below(&rs, 4096);
			break;
		case 1:
			chunk = 4093;
			break;
		default:
			chunk = 0;	/* one write */
		}
		snprintf(what, sizeof(what), "%s %s %s #%u (%zu bytes)",
			 models[w->m], rep ? "repaired" : "raw",
			 class_names[c], i, len);
		one(w, w->buf, len, chunk, rep, c, what);
	}
	return NULL;
}

/* ---------------------------------------------------------- the sources */

struct src {
	struct vdev dev;
	struct guest g;
	bool have_g;
	struct workload w;
	uint8_t *got;
};

/*
 * Everything small_batch() touches is in the first page of the data
 * mapping, so that a stream is that page, the ring's, and the records:
 * the fence at 0, 32-bit writes below 0x400, 64-bit writes below 0x800,
 * a pattern at PAT_OFF and copies of it above 0xc00.
 */
#define WL_SPAN		0x1000U
#define PENDING		8
#define PAT_OFF		0x800U
#define PAT_LEN		0x400U

static unsigned int small_batch(struct workload *w, struct guest_cmd *c,
				unsigned int n)
{
	unsigned int i;

	for (i = 0; i + 1 < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		switch (wl_below(w, 4)) {
		case 0:
			c[i].op = CTXMIG_OP_WRITE32;
			c[i].dst = GUEST_DATA_VA + 8 + wl_below(w, 254) * 4;
			c[i].value = (uint32_t)wl_rand(w);
			break;
		case 1:
			c[i].op = CTXMIG_OP_WRITE64;
			c[i].dst = GUEST_DATA_VA + 0x400 + wl_below(w, 128) * 8;
			c[i].value = wl_rand(w);
			break;
		case 2:
			c[i].op = CTXMIG_OP_COPY;
			c[i].src = GUEST_DATA_VA + PAT_OFF + wl_below(w, 768);
			c[i].dst = GUEST_DATA_VA + 0xc00 + wl_below(w, 768);
			c[i].value = 1 + wl_below(w, 256);
			break;
		default:
			c[i].op = CTXMIG_OP_FENCE;
			c[i].dst = GUEST_DATA_VA + FENCE_OFF;
			c[i].value = ++w->seq;
			break;
		}
		wl_apply(w, &c[i]);
	}
	memset(&c[i], 0, sizeof(c[i]));
	c[i].op = CTXMIG_OP_FENCE;
	c[i].dst = GUEST_DATA_VA + FENCE_OFF;
	c[i].value = ++w->seq;
	c[i].flags = CTXMIG_CMD_IRQ;
	wl_apply(w, &c[i]);
	return n;
}

static void check_data(struct __test_metadata *_metadata, struct workload *w,
		       struct vdev *d, uint8_t *got)
{
	int64_t at;
	int err;

	at = wl_check(w, d, got, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(-1, at) TH_LOG("%s: data differs at +0x%llx: 0x%02x, expected 0x%02x",
				 d->model, (unsigned long long)at, got[at],
				 w->ref[at]);
}

/* Run, check, and leave the source stopped with commands pending. */
static void src_start(struct __test_metadata *_metadata, struct src *x,
		      int m, struct sstream *s)
{
	struct guest_cmd c[24];
	int fd, ret, i;
	unsigned int n;

	ret = vdev_track_new(&x->dev, models[m]);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", models[m], strerror(-ret));
	x->got = malloc(GUEST_DATA_SIZE);
	ASSERT_NE(NULL, x->got);
	ASSERT_EQ(0, wl_init(&x->w, name_hash(models[m])));
	ret = guest_init(&x->g, &x->dev);
	x->have_g = !ret || x->g.shadow;
	ASSERT_EQ(0, ret) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, guest_setup(&x->g)) TH_LOG("%s", x->g.why);
	for (i = 0; i < PAT_LEN; i++)
		x->w.ref[PAT_OFF + i] = wl_rand(&x->w) >> 56;
	ASSERT_EQ(0, vdev_vram_write(&x->dev, GUEST_DATA_VRAM + PAT_OFF,
				     x->w.ref + PAT_OFF, PAT_LEN));
	n = small_batch(&x->w, c, 10);
	ASSERT_EQ(0, guest_submit(&x->g, c, n, false)) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, guest_wait_fence(&x->g, x->w.seq)) TH_LOG("%s", x->g.why);
	check_data(_metadata, &x->w, &x->dev, x->got);

	/* Pending work: one command per 10 ms, stopped right away. */
	ASSERT_EQ(0, vdev_attr_write(&x->dev, "throttle", "1"));
	n = small_batch(&x->w, c, PENDING);
	ASSERT_EQ(0, guest_submit(&x->g, c, n, false)) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, vdev_set_state(&x->dev, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vdev_set_state(&x->dev, VFIO_DEVICE_STATE_STOP_COPY,
				    &fd));
	ASSERT_LE(0, fd);
	ret = vdev_read_stream(fd, &s->p, &s->len);
	close(fd);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, vdev_set_state(&x->dev, VFIO_DEVICE_STATE_STOP, NULL));
	s->model = models[m];
	ASSERT_EQ(0, parse_stream(s)) TH_LOG("%s: unparsable stream", models[m]);
	ASSERT_EQ(CTXMIG_IR_END, s->r[s->n - 1].type);
	ASSERT_EQ(s->len, s->r[s->n - 1].end);
	EXPECT_LT(0, s->cmds) TH_LOG("%s: no command pending in the stream",
				     models[m]);
}

/* The source carries on where it stopped and finishes its work. */
static void src_finish(struct __test_metadata *_metadata, struct src *x)
{
	struct guest_cmd c[12];
	unsigned int n;

	ASSERT_EQ(0, vdev_attr_write(&x->dev, "throttle", "0"));
	ASSERT_EQ(0, vdev_set_state(&x->dev, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, guest_wait_fence(&x->g, x->w.seq)) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, guest_wait_idle(&x->g)) TH_LOG("%s", x->g.why);
	check_data(_metadata, &x->w, &x->dev, x->got);
	n = small_batch(&x->w, c, ARRAY_SIZE(c));
	ASSERT_EQ(0, guest_submit(&x->g, c, n, false)) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, guest_wait_fence(&x->g, x->w.seq)) TH_LOG("%s", x->g.why);
	check_data(_metadata, &x->w, &x->dev, x->got);
}

/* The untouched stream restores into @d; a second guest finishes there. */
static void restore_and_finish(struct __test_metadata *_metadata,
			       struct src *x, const struct sstream *s,
			       struct vdev *d, struct workload *w)
{
	struct guest g;
	unsigned int i;
	int ret, werr;

	ret = vdev_restore_stream(d, s->p, s->len, 0, &werr);
	ASSERT_EQ(0, werr);
	ASSERT_EQ(0, ret) TH_LOG("%s into %s: %s", s->model, d->model,
				 strerror(-ret));
	ASSERT_EQ(0, vdev_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL));
	ret = guest_fork(&g, &x->g, d);
	EXPECT_EQ(0, ret) TH_LOG("%s", g.why);
	if (!ret) {
		ret = guest_wait_fence(&g, w->seq);
		EXPECT_EQ(0, ret) TH_LOG("%s", g.why);
		ret = ret ?: guest_wait_idle(&g);
		EXPECT_EQ(0, ret) TH_LOG("%s", g.why);
	}
	guest_fini(&g);
	/*
	 * The pages the workload wrote (the stream carries them); the rest
	 * of a destination that accepted repaired mutants holds their bytes.
	 */
	ASSERT_EQ(0, vdev_vram_read(d, GUEST_DATA_VRAM, x->got, WL_SPAN));
	for (i = 0; i < WL_SPAN && x->got[i] == w->ref[i]; i++)
		;
	ASSERT_EQ(WL_SPAN, i) TH_LOG("%s: data differs at +0x%x: 0x%02x, expected 0x%02x",
				     d->model, i, x->got[i], w->ref[i]);
}

/* ---------------------------------------------------------- /proc/meminfo */

static long kb_of(const char *file, const char *key)
{
	char line[128];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static long meminfo_kb(const char *key)
{
	return kb_of("/proc/meminfo", key);
}

/* This process's own resident memory and page tables, in kB. */
static long self_kb(void)
{
	return kb_of("/proc/self/status", "VmRSS") +
	       kb_of("/proc/self/status", "VmPTE");
}

/*
 * Free pages, counting those parked on the per-CPU lists (which
 * MemFree and MemAvailable miss), in kB; from /proc/zoneinfo.
 */
static long free_kb(void)
{
	char line[160];
	long pages = 0, v;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " pages free %ld", &v) == 1 ||
		    sscanf(line, " count: %ld", &v) == 1)
			pages += v;
	fclose(f);
	return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ------------------------------------------------------------- the test */

FIXTURE(mutation) {
	struct campaign cp;
	struct src src[NMODELS];
	struct worker w[NWORKERS];
};

FIXTURE_SETUP(mutation)
{
	int i;

	memset(self, 0, sizeof(*self));
	for (i = 0; i < NMODELS; i++)
		vdev_init(&self->src[i].dev);
	for (i = 0; i < NWORKERS; i++)
		vdev_init(&self->w[i].dst);
}

FIXTURE_TEARDOWN(mutation)
{
	int i;

	for (i = 0; i < NWORKERS; i++) {
		vdev_track_remove(&self->w[i].dst);
		free(self->w[i].buf);
	}
	for (i = 0; i < NMODELS; i++) {
		struct src *x = &self->src[i];

		if (x->have_g)
			guest_fini(&x->g);
		wl_free(&x->w);
		free(x->got);
		vdev_track_remove(&x->dev);
		free(self->cp.src[i].p);
	}
}

/*
 * The campaign.  Its time, and each stage's, is printed: 35 s for the
 * 10,400 mutants in the TCG VM on this project's 2-core host while other
 * jobs kept its load average near 8 (VM_TESTS=ctxmig_mutation_test,
 * November 2026).
 */
TEST_F_TIMEOUT(mutation, every_class, 480)
{
	struct campaign *cp = &self->cp;
	unsigned long tot[2][NSTAGE] = {}, by_class[2][NCLASS] = {};
	long slab0 = 0, slab1, avail0 = 0, avail1, free0 = 0, free1;
	long self0 = 0, self1, used;
	uint64_t t0, tb;
	const char *env;
	size_t maxlen = 0;
	int m, i, c, e;

	env = getenv("CTXMIG_MUTATION_SEED");
	cp->seed = env ? strtoull(env, NULL, 0) : DEFAULT_SEED;
	TH_LOG("seed 0x%llx (CTXMIG_MUTATION_SEED)",
	       (unsigned long long)cp->seed);
	(void)guest_ir_crc("", 0);	/* CRC tables, before the threads */

	t0 = now_ms();
	for (m = 0; m < NMODELS; m++) {
		src_start(_metadata, &self->src[m], m, &cp->src[m]);
		TH_LOG("%s: %zu-byte stream, %d records, %u commands pending, %u VRAM records",
		       models[m], cp->src[m].len, cp->src[m].n, cp->src[m].cmds,
		       cp->src[m].vram);
		if (cp->src[m].len > maxlen)
			maxlen = cp->src[m].len;
	}
	/* A splice is at most two streams; a duplicate one stream more. */
	cp->cap = 2 * maxlen + 64;

	/*
	 * Memory before: sources only, after a warm-up round of mutants on
	 * destinations that are then removed (slab caches populated).
	 */
	for (i = 0; i < NWORKERS; i++) {
		struct worker *w = &self->w[i];

		w->idx = i;
		w->cp = cp;
		w->buf = malloc(cp->cap);
		ASSERT_NE(NULL, w->buf);
	}
	for (m = -1; m < NMODELS; m++) {
		bool warmup = m < 0;

		tb = now_ms();
		for (i = 0; i < NWORKERS; i++) {
			struct worker *w = &self->w[i];
			int ret;

			w->m = warmup ? 0 : m;
			w->dst_model = (w->m + 1 + i) % NMODELS;
			/* Another destination model for each stream. */
			if (w->dst.fd >= 0 &&
			    strcmp(w->dst.model, models[w->dst_model]))
				ASSERT_EQ(0, vdev_track_remove(&w->dst));
			if (w->dst.fd < 0) {
				ret = vdev_track_new(&w->dst,
						     models[w->dst_model]);
				ASSERT_EQ(0, ret) TH_LOG("%s: %s",
							 models[w->dst_model],
							 strerror(-ret));
				w->migrated = 0;
			}
			w->nraw = warmup ? 2 * NCLASS * NWORKERS : RAW_PER_MODEL;
			w->nrep = warmup ? NCLASS * NWORKERS : REP_PER_MODEL;
			ASSERT_EQ(0, pthread_create(&w->th, NULL, worker_run,
						    w));
		}
		for (i = 0; i < NWORKERS; i++)
			ASSERT_EQ(0, pthread_join(self->w[i].th, NULL));
		for (i = 0; i < NWORKERS; i++) {
			struct worker *w = &self->w[i];

			ASSERT_EQ(0, w->failures)
				TH_LOG("worker %d: %u failures, first: %s",
				       w->idx, w->failures, w->why);
		}
		if (warmup) {
			for (i = 0; i < NWORKERS; i++)
				ASSERT_EQ(0, vdev_track_remove(&self->w[i].dst));
			memset(tot, 0, sizeof(tot));
			for (i = 0; i < NWORKERS; i++) {
				memset(self->w[i].cnt, 0, sizeof(self->w[i].cnt));
				memset(self->w[i].us, 0, sizeof(self->w[i].us));
				memset(self->w[i].err_write, 0,
				       sizeof(self->w[i].err_write));
				memset(self->w[i].err_stop, 0,
				       sizeof(self->w[i].err_stop));
				self->w[i].checked_accepted = 0;
				self->w[i].accepted = 0;
			}
			slab0 = meminfo_kb("SUnreclaim");
			avail0 = meminfo_kb("MemAvailable");
			free0 = free_kb();
			self0 = self_kb();
			ASSERT_LT(0, slab0);
			ASSERT_LT(0, free0);
			continue;
		}
		TH_LOG("%s: %u raw + %u repaired mutants in %llu ms",
		       models[m], RAW_PER_MODEL, REP_PER_MODEL,
		       (unsigned long long)(now_ms() - tb));
		/* The source is whole: its stream restores, it resumes. */
		restore_and_finish(_metadata, &self->src[m], &cp->src[m],
				   &self->w[0].dst, &self->src[m].w);
		self->w[0].migrated++;
		ASSERT_EQ(0, vdev_reset(&self->w[0].dst));
		src_finish(_metadata, &self->src[m]);
	}

	for (i = 0; i < NWORKERS; i++) {
		for (c = 0; c < NCLASS; c++)
			for (e = 0; e < NSTAGE; e++) {
				tot[0][e] += self->w[i].cnt[0][c][e];
				tot[1][e] += self->w[i].cnt[1][c][e];
				by_class[0][c] += self->w[i].cnt[0][c][e];
				by_class[1][c] += self->w[i].cnt[1][c][e];
			}
	}
	for (c = 0; c < NCLASS; c++) {
		unsigned long r[2][NSTAGE] = {};

		for (i = 0; i < NWORKERS; i++)
			for (e = 0; e < NSTAGE; e++) {
				r[0][e] += self->w[i].cnt[0][c][e];
				r[1][e] += self->w[i].cnt[1][c][e];
			}
		TH_LOG("%-9s raw: %5lu refused at write, %5lu at STOP",
		       class_names[c], r[0][S_WRITE], r[0][S_STOP]);
		TH_LOG("%-9s repaired: %4lu at write, %4lu at STOP, %3lu accepted",
		       class_names[c], r[1][S_WRITE], r[1][S_STOP],
		       r[1][S_ACCEPTED]);
		EXPECT_LT(0, by_class[0][c]);
		EXPECT_LT(0, by_class[1][c]);
	}
	for (e = 1; e <= MAX_ERRNO; e++) {
		unsigned long wn = 0, sn = 0;

		for (i = 0; i < NWORKERS; i++) {
			wn += self->w[i].err_write[e];
			sn += self->w[i].err_stop[e];
		}
		if (wn || sn)
			TH_LOG("errno %-16s %6lu at write, %6lu at STOP",
			       strerrorname_np(e) ?: "?", wn, sn);
	}
	for (i = 0; i < NWORKERS; i++)
		TH_LOG("worker %d ms: RESUMING %llu, write %llu, STOP %llu, reset %llu",
		       i, (unsigned long long)self->w[i].us[0] / 1000,
		       (unsigned long long)self->w[i].us[1] / 1000,
		       (unsigned long long)self->w[i].us[2] / 1000,
		       (unsigned long long)self->w[i].us[3] / 1000);
	TH_LOG("raw: %lu refused (%lu at write, %lu at STOP), %lu accepted",
	       tot[0][S_WRITE] + tot[0][S_STOP], tot[0][S_WRITE],
	       tot[0][S_STOP], tot[0][S_ACCEPTED]);
	TH_LOG("repaired: %lu refused (%lu at write, %lu at STOP), %lu accepted",
	       tot[1][S_WRITE] + tot[1][S_STOP], tot[1][S_WRITE],
	       tot[1][S_STOP], tot[1][S_ACCEPTED]);
	TH_LOG("accepted: all RUNNING with their registers, %lu ran a workload",
	       self->w[0].checked_accepted + self->w[1].checked_accepted);
	EXPECT_EQ(0, tot[0][S_ACCEPTED]);
	EXPECT_LE(10000, tot[0][S_WRITE] + tot[0][S_STOP]);

	/*
	 * No leak: with the destinations removed, the same devices as at
	 * the start.  Each mutant allocated a migration file, a restore
	 * state, a reader buffer and a 64 KiB bounce buffer in the kernel;
	 * leaking the smallest of them (well over 100 bytes) for each of
	 * the 10,000+ mutants would grow unreclaimable slab by over 1 MiB,
	 * the tolerance, and a leaked bounce buffer (16 pages) for one
	 * mutant in 300 would take over 2 MiB of free pages, that
	 * tolerance (free pages include the per-CPU lists: MemAvailable
	 * alone moves by megabytes as they fill; what this process itself
	 * holds more, its heap and thread stacks kept by glibc, is not the
	 * kernel's and is taken out).  Freed objects go back through RCU
	 * and per-CPU caches, so the figures are polled.
	 */
	for (i = 0; i < NWORKERS; i++)
		ASSERT_EQ(0, vdev_track_remove(&self->w[i].dst));
	tb = now_ms();
	do {
		slab1 = meminfo_kb("SUnreclaim");
		avail1 = meminfo_kb("MemAvailable");
		free1 = free_kb();
		self1 = self_kb();
		used = free0 - free1 - (self1 - self0);
		if (slab1 - slab0 <= 1024 && used <= 2048)
			break;
		usleep(100 * 1000);
	} while (now_ms() - tb < 5000);
	TH_LOG("SUnreclaim %ld -> %ld kB: %+ld (tolerance +1024)",
	       slab0, slab1, slab1 - slab0);
	TH_LOG("free pages %ld -> %ld kB, this process %ld -> %ld kB",
	       free0, free1, self0, self1);
	TH_LOG("kernel pages: %+ld kB used (tolerance +2048); MemAvailable %ld -> %ld kB",
	       used, avail0, avail1);
	if (getenv("CTXMIG_KASAN")) {
		/*
		 * KASAN keeps freed objects in its quarantine (up to a 32nd
		 * of memory): they stay in SUnreclaim, so the figures are
		 * no measure of a leak there.  The debug tier runs kmemleak
		 * instead, once ctxmig is unloaded.
		 */
		TH_LOG("freed objects are quarantined here: leaks are kmemleak's to find");
	} else {
		EXPECT_GE(1024, slab1 - slab0);
		EXPECT_GE(2048, used);
	}
	TH_LOG("campaign in %llu ms", (unsigned long long)(now_ms() - t0));
}

static uint64_t t_start;

static void print_elapsed(void)
{
	printf("# ctxmig_mutation_test: %llu ms\n",
	       (unsigned long long)(now_ms() - t_start));
}

int main(int argc, char **argv)
{
	t_start = now_ms();
	atexit(print_elapsed);
	vdev_track_init();
	return test_harness_run(argc, argv);
}
