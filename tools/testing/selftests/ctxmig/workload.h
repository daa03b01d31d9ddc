/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig kselftests: the random workload the VFIO and migration tests
 * run through the guest driver, and the reference it must match.
 *
 * A workload's commands write and copy inside the guest's data mapping
 * (GUEST_DATA_VA); wl_apply() computes in memory what the engine must
 * have done, so every byte can be checked through BAR2.
 */
#ifndef _CTXMIG_SELFTEST_WORKLOAD_H
#define _CTXMIG_SELFTEST_WORKLOAD_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/ctxmig.h>

#include "guest.h"

/* Workload data layout, as offsets in the guest's data mapping. */
#define FENCE_OFF	0x0ULL		/* the fence slot */
#define SRC_OFF		0x1000ULL	/* initial pattern */
#define SRC_LEN		0x10000ULL
#define HALF		(GUEST_DATA_SIZE / 2)
#define COPY_MAX	9000U

/* FNV-1a: a seed per model name, so every pair runs its own workload. */
static inline uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ULL;
	return h;
}

struct workload {
	uint8_t *ref;		/* expected GUEST_DATA_SIZE bytes */
	uint64_t seq;		/* last fence emitted */
	uint64_t rng;
};

static inline uint64_t wl_rand(struct workload *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545f4914f6cdd1dULL;
}

static inline uint64_t wl_below(struct workload *w, uint64_t n)
{
	return n ? wl_rand(w) % n : 0;
}

static inline int wl_init(struct workload *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->rng = seed ? seed : 1;
	w->ref = calloc(1, GUEST_DATA_SIZE);
	return w->ref ? 0 : -ENOMEM;
}

static inline int wl_clone(struct workload *to, const struct workload *from)
{
	*to = *from;
	to->ref = malloc(GUEST_DATA_SIZE);
	if (!to->ref)
		return -ENOMEM;
	memcpy(to->ref, from->ref, GUEST_DATA_SIZE);
	return 0;
}

static inline void wl_free(struct workload *w)
{
	free(w->ref);
	w->ref = NULL;
}

static inline void put_le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++)
		p[i] = v >> (8 * i);
}

/* What the engine does to the data mapping, command by command. */
static inline void wl_apply(struct workload *w, const struct guest_cmd *c)
{
	uint8_t *ref = w->ref;
	uint64_t done, n;

	switch (c->op) {
	case CTXMIG_OP_WRITE32:
		put_le(ref + c->dst - GUEST_DATA_VA, c->value, 4);
		break;
	case CTXMIG_OP_WRITE64:
		put_le(ref + c->dst - GUEST_DATA_VA, c->value, 8);
		break;
	case CTXMIG_OP_FENCE:
		put_le(ref + c->dst - GUEST_DATA_VA, c->value,
		       c->flags & CTXMIG_CMD_FENCE64 ? 8 : 4);
		break;
	case CTXMIG_OP_COPY:
		/* Forward, a page at a time, as the engine copies. */
		for (done = 0; done < c->value; done += n) {
			n = c->value - done < 4096 ? c->value - done : 4096;
			memmove(ref + c->dst - GUEST_DATA_VA + done,
				ref + c->src - GUEST_DATA_VA + done, n);
		}
		break;
	}
}

/*
 * @n random commands and a fence with an interrupt.  Writes land anywhere
 * but the fence slot; copies read the lower half and write the upper half.
 */
static inline unsigned int wl_gen(struct workload *w, struct guest_cmd *c,
				  unsigned int n)
{
	unsigned int i;

	for (i = 0; i + 1 < n; i++) {
		struct guest_cmd *x = &c[i];
		uint64_t len;

		memset(x, 0, sizeof(*x));
		switch (wl_below(w, 8)) {
		case 0:
			x->op = CTXMIG_OP_NOP;
			break;
		case 1:
		case 2:
			x->op = CTXMIG_OP_WRITE32;
			x->dst = GUEST_DATA_VA + 8 +
				 wl_below(w, (GUEST_DATA_SIZE - 8) / 4) * 4;
			x->value = (uint32_t)wl_rand(w);
			break;
		case 3:
			x->op = CTXMIG_OP_WRITE64;
			x->dst = GUEST_DATA_VA + 8 +
				 wl_below(w, (GUEST_DATA_SIZE - 16) / 8) * 8;
			x->value = wl_rand(w);
			break;
		case 4:
			x->op = CTXMIG_OP_FENCE;
			x->dst = GUEST_DATA_VA + FENCE_OFF;
			x->value = ++w->seq;
			x->flags = wl_below(w, 2) ? CTXMIG_CMD_FENCE64 : 0;
			break;
		default:
			len = 1 + wl_below(w, COPY_MAX);
			x->op = CTXMIG_OP_COPY;
			x->src = GUEST_DATA_VA + 8 + wl_below(w, HALF - 8 - len);
			x->dst = GUEST_DATA_VA + HALF + wl_below(w, HALF - len);
			x->value = len;
			break;
		}
		wl_apply(w, x);
	}
	memset(&c[i], 0, sizeof(c[i]));
	c[i].op = CTXMIG_OP_FENCE;
	c[i].dst = GUEST_DATA_VA + FENCE_OFF;
	c[i].value = ++w->seq;
	c[i].flags = CTXMIG_CMD_IRQ;
	wl_apply(w, &c[i]);
	return n;
}

/* The most commands wl_run_batch() takes in one batch. */
#define WL_BATCH_MAX	96

/*
 * @n random commands (wl_gen()) submitted through the ring, or an indirect
 * buffer if @ib, and run to their fence and to idle.  0, -EINVAL if @n
 * is above WL_BATCH_MAX, or the guest's error with its reason in @g->why.
 */
static inline int wl_run_batch(struct workload *w, struct guest *g,
			       unsigned int n, bool ib)
{
	struct guest_cmd c[WL_BATCH_MAX];
	int ret;

	if (n > WL_BATCH_MAX) {
		snprintf(g->why, sizeof(g->why),
			 "a batch of %u commands, at most %u", n, WL_BATCH_MAX);
		return -EINVAL;
	}
	n = wl_gen(w, c, n);
	ret = guest_submit(g, c, n, ib);
	ret = ret ?: guest_wait_fence(g, w->seq);
	return ret ?: guest_wait_idle(g);
}

/* The initial pattern, in the device and in the reference. */
static inline int wl_fill(struct workload *w, struct vdev *d)
{
	uint64_t i;

	for (i = 0; i < SRC_LEN; i++)
		w->ref[SRC_OFF + i] = wl_rand(w) >> 56;
	return vdev_vram_write(d, GUEST_DATA_VRAM + SRC_OFF, w->ref + SRC_OFF,
			       SRC_LEN);
}

/* Offset of the first byte of the data mapping that differs, or -1. */
static inline int64_t wl_check(struct workload *w, struct vdev *d,
			       uint8_t *got, int *err)
{
	uint64_t i;

	*err = vdev_vram_read(d, GUEST_DATA_VRAM, got, GUEST_DATA_SIZE);
	if (*err)
		return -1;
	if (!memcmp(got, w->ref, GUEST_DATA_SIZE))
		return -1;
	for (i = 0; i < GUEST_DATA_SIZE; i++)
		if (got[i] != w->ref[i])
			return i;
	return -1;
}

#endif /* _CTXMIG_SELFTEST_WORKLOAD_H */
