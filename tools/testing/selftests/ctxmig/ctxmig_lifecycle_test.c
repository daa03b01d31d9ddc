// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig: a vGPU's VFIO lifecycle as include/uapi/linux/vfio.h describes
 * it, driven as any VFIO user may drive it.
 *
 *  lifecycle.reopen_after_resuming
 *                              STOP, RESUMING, the data_fd closed, the
 *                              device closed and opened again: RUNNING,
 *                              and STOP works
 *  lifecycle.close_in_every_state
 *                              the device closed in each migration state
 *                              and ERROR, its data_fd closed before or
 *                              left open, or with a long copy to system
 *                              memory queued on a slowed engine: opened
 *                              again it is RUNNING with nothing of the
 *                              session before (registers, config space,
 *                              VRAM, interrupt masks and eventfds), every
 *                              arc works, and so does a workload
 *  lifecycle.failed_arcs       a fault injected into each arc out of
 *                              RUNNING, PRE_COPY and the P2P states (and
 *                              into a save's start and stop-copy) leaves
 *                              the device in the last state the walk
 *                              reached; back in RUNNING the work queued
 *                              before finishes and every byte verifies
 *  lifecycle.unsaveable_guest  a guest mapping into ctxmig's reserved
 *                              area refuses PRE_COPY_P2P -> STOP_COPY; the
 *                              source goes back to RUNNING with nothing
 *                              lost and, the mapping undone, migrates
 *  lifecycle.p2p_quiescent     a doorbell in RUNNING_P2P neither advances
 *                              the fence nor signals; the work runs once
 *                              RUNNING again
 *  lifecycle.p2p_doorbell_migrates
 *                              a doorbell in PRE_COPY_P2P runs nothing on
 *                              the source; its commands travel in the
 *                              stream and run on another model
 *  lifecycle.precopy_read_bounded
 *                              while a thread rewrites the guest's page
 *                              tables through a BAR2 mapping, a pre-copy
 *                              read() that finds nothing to send returns
 *                              ENOMSG after at most two steps (counted
 *                              in sysfs), and SIGKILL ends a reader
 *  lifecycle.request_on_remove the device request eventfd fires when an
 *                              open, mapped mdev is removed; the removal
 *                              completes once the device is closed
 *  lifecycle.reserved_area     the top of BAR2 (ctxmig's) reads but does
 *                              not write (EPERM) or map (EINVAL); the
 *                              sparse mmap capability lists the guest's
 *                              part, whose last page migrates
 *  lifecycle.engine_memory_charged
 *                              VRAM the engine allocates (a copy into
 *                              pages never written) is charged to the
 *                              memory cgroup of the device's opener
 *
 * Waits poll with deadlines (the VM runs under TCG); where a test shows
 * that something does not happen it watches for a while and then checks
 * what a stopped device must show.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/ctxmig.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "guest.h"
#include "workload.h"

#define MDEV_DEVICES	"/sys/bus/mdev/devices"
#define NSTATES		8	/* enum vfio_device_mig_state */
#define WATCH_MS	300	/* how long "nothing happens" is watched */
#define SYS_IOVA	0x40000000ULL
#define SYS_VA		0x20000000ULL
#define BAD_VA		0x30000000ULL
#define SPREAD_VA	0x40000000ULL	/* mappings 2 MiB apart */
#define SPREAD_MAPS	256

#define ERROR		VFIO_DEVICE_STATE_ERROR
#define STOP		VFIO_DEVICE_STATE_STOP
#define RUNNING		VFIO_DEVICE_STATE_RUNNING
#define STOP_COPY	VFIO_DEVICE_STATE_STOP_COPY
#define RESUMING	VFIO_DEVICE_STATE_RESUMING
#define RUNNING_P2P	VFIO_DEVICE_STATE_RUNNING_P2P
#define PRE_COPY	VFIO_DEVICE_STATE_PRE_COPY
#define PRE_COPY_P2P	VFIO_DEVICE_STATE_PRE_COPY_P2P

static const uint32_t fsm_states[] = {
	RUNNING, STOP, RUNNING_P2P, STOP_COPY, RESUMING, PRE_COPY,
	PRE_COPY_P2P,
};

static const char *state_name(uint32_t s)
{
	static const char * const names[] = {
		"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING",
		"RUNNING_P2P", "PRE_COPY", "PRE_COPY_P2P",
	};

	return s < NSTATES ? names[s] : "?";
}

/*
 * The next state on the way from @cur to @to, as the kernel's
 * vfio_mig_get_next_state() walks it for a device with P2P and PRE_COPY.
 */
static uint32_t fsm_next(uint32_t cur, uint32_t to)
{
	static const uint8_t next[NSTATES][NSTATES] = {
		[STOP] = {
			[STOP] = STOP, [RUNNING] = RUNNING_P2P,
			[PRE_COPY] = RUNNING_P2P, [PRE_COPY_P2P] = RUNNING_P2P,
			[STOP_COPY] = STOP_COPY, [RESUMING] = RESUMING,
			[RUNNING_P2P] = RUNNING_P2P,
		},
		[RUNNING] = {
			[STOP] = RUNNING_P2P, [RUNNING] = RUNNING,
			[PRE_COPY] = PRE_COPY, [PRE_COPY_P2P] = RUNNING_P2P,
			[STOP_COPY] = RUNNING_P2P, [RESUMING] = RUNNING_P2P,
			[RUNNING_P2P] = RUNNING_P2P,
		},
		[PRE_COPY] = {
			[STOP] = RUNNING, [RUNNING] = RUNNING,
			[PRE_COPY] = PRE_COPY, [PRE_COPY_P2P] = PRE_COPY_P2P,
			[STOP_COPY] = PRE_COPY_P2P, [RESUMING] = RUNNING,
			[RUNNING_P2P] = RUNNING,
		},
		[PRE_COPY_P2P] = {
			[STOP] = RUNNING_P2P, [RUNNING] = RUNNING_P2P,
			[PRE_COPY] = PRE_COPY, [PRE_COPY_P2P] = PRE_COPY_P2P,
			[STOP_COPY] = STOP_COPY, [RESUMING] = RUNNING_P2P,
			[RUNNING_P2P] = RUNNING_P2P,
		},
		[RUNNING_P2P] = {
			[STOP] = STOP, [RUNNING] = RUNNING,
			[PRE_COPY] = RUNNING, [PRE_COPY_P2P] = PRE_COPY_P2P,
			[STOP_COPY] = STOP, [RESUMING] = STOP,
			[RUNNING_P2P] = RUNNING_P2P,
		},
	};

	return next[cur][to];
}

static bool is_precopy(uint32_t s)
{
	return s == PRE_COPY || s == PRE_COPY_P2P;
}

static bool opens_transfer(uint32_t s)
{
	return s == STOP_COPY || s == RESUMING || is_precopy(s);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The device's migration state, or ~0 if it cannot be read. */
static uint32_t dev_state(struct vdev *d)
{
	uint32_t s;

	return vdev_get_state(d, &s) ? ~0U : s;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A number from a "key value" line of a sysfs attribute, or -1. */
static long long attr_value(struct vdev *d, const char *attr, const char *key)
{
	char buf[4096], *p;
	size_t klen = strlen(key);

	if (vdev_attr_read(d, attr, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strtoll(p + klen + 1, NULL, 0);
	return -1;
}

static bool attr_is(struct vdev *d, const char *attr, const char *want)
{
	char buf[64];

	if (vdev_attr_read(d, attr, buf, sizeof(buf)) < 0)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	return !strcmp(buf, want);
}

static int intx_mask(struct vdev *d)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
		.index = VFIO_PCI_INTX_IRQ_INDEX,
		.count = 1,
	};

	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

/* Signals an eventfd counted since it was last read, without waiting. */
static uint64_t eventfd_count(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* ------------------------------------------------------------ guest */

/* The guest driver of one device and the workload it runs. */
struct gw {
	struct guest g;
	bool have;
	struct workload w;
	uint8_t *buf;		/* GUEST_DATA_SIZE bytes for checks */
};

static void gw_fini(struct gw *x)
{
	if (x->have)
		guest_fini(&x->g);
	x->have = false;
	wl_free(&x->w);
	free(x->buf);
	x->buf = NULL;
}

static void check_data(struct __test_metadata *_metadata, struct gw *x,
		       struct vdev *d)
{
	int64_t at;
	int err;

	at = wl_check(&x->w, d, x->buf, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(-1, at) TH_LOG("%s: data differs at +0x%llx: 0x%02x, expected 0x%02x",
				 d->model, (unsigned long long)at,
				 x->buf[at], x->w.ref[at]);
}

/* @n commands of the workload and a fence with an interrupt, submitted. */
static void submit_batch(struct __test_metadata *_metadata, struct gw *x,
			 unsigned int n, bool ib)
{
	struct guest_cmd c[64];

	ASSERT_GE(64, n);
	n = wl_gen(&x->w, c, n);
	ASSERT_EQ(0, guest_submit(&x->g, c, n, ib)) TH_LOG("%s", x->g.why);
}

static void wait_batch(struct __test_metadata *_metadata, struct gw *x)
{
	ASSERT_EQ(0, guest_wait_fence(&x->g, x->w.seq)) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, guest_wait_idle(&x->g)) TH_LOG("%s", x->g.why);
}

static void run_batch(struct __test_metadata *_metadata, struct gw *x,
		      unsigned int n, bool ib)
{
	submit_batch(_metadata, x, n, ib);
	wait_batch(_metadata, x);
}

/* A guest on @d (page tables, ring), the initial pattern, a batch. */
static void gw_start(struct __test_metadata *_metadata, struct gw *x,
		     struct vdev *d, uint64_t seed)
{
	int ret;

	gw_fini(x);
	x->buf = malloc(GUEST_DATA_SIZE);
	ASSERT_NE(NULL, x->buf);
	ASSERT_EQ(0, wl_init(&x->w, seed));
	ret = guest_init(&x->g, d);
	x->have = !ret || x->g.shadow;
	ASSERT_EQ(0, ret) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, guest_setup(&x->g)) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, wl_fill(&x->w, d));
	run_batch(_metadata, x, 16, false);
	check_data(_metadata, x, d);
}

/* The guest finds itself on @d after a restore and carries on there. */
static void gw_moved(struct __test_metadata *_metadata, struct gw *x,
		     struct vdev *d)
{
	x->g.dev = d;
	ASSERT_EQ(0, guest_recover(&x->g)) TH_LOG("%s", x->g.why);
	wait_batch(_metadata, x);
	check_data(_metadata, x, d);
	run_batch(_metadata, x, 16, true);
	check_data(_metadata, x, d);
}

/* ---------------------------------------------------------- fixture */

#define NFD	3

FIXTURE(lifecycle) {
	struct vdev dev[2];
	struct gw gw;
	int fd[NFD];		/* data_fds */
	int efd[2];		/* eventfds */
	void *map;		/* a BAR2 mapping, unmapped before removal */
	size_t map_len;
	void *sys;		/* GUEST_DATA_SIZE bytes the device reaches by DMA */
	struct vdev_stream s;
};

FIXTURE_SETUP(lifecycle)
{
	int i;

	for (i = 0; i < 2; i++) {
		vdev_init(&self->dev[i]);
		self->efd[i] = -1;
	}
	for (i = 0; i < NFD; i++)
		self->fd[i] = -1;
}

FIXTURE_TEARDOWN(lifecycle)
{
	int i;

	for (i = 0; i < NFD; i++)
		close_fd(&self->fd[i]);
	for (i = 0; i < 2; i++)
		close_fd(&self->efd[i]);
	if (self->map)
		munmap(self->map, self->map_len);
	gw_fini(&self->gw);
	for (i = 0; i < 2; i++)
		vdev_track_remove(&self->dev[i]);
	if (self->sys)
		munmap(self->sys, GUEST_DATA_SIZE);
	free(self->s.p);
}

static void open_dev(struct __test_metadata *_metadata, struct vdev *d,
		     const char *model)
{
	int ret = vdev_track_new(d, model);

	ASSERT_EQ(0, ret) TH_LOG("%s: create/open: %s", model, strerror(-ret));
}

/* ---------------------------------------------------- open and close */

/* The reproducer: the device must come back RUNNING, and work. */
TEST_F(lifecycle, reopen_after_resuming)
{
	struct vdev *d = &self->dev[0];
	int *fd = &self->fd[0];

	open_dev(_metadata, d, "amd-gfx9");
	ASSERT_EQ(0, vdev_set_state(d, STOP, NULL));
	ASSERT_EQ(0, vdev_set_state(d, RESUMING, fd));
	ASSERT_LE(0, *fd);
	close_fd(fd);
	vdev_close(d);
	ASSERT_EQ(0, vdev_open(d));
	EXPECT_EQ(RUNNING, dev_state(d))
		TH_LOG("reopened in %s", state_name(dev_state(d)));
	EXPECT_EQ(0, vdev_set_state(d, STOP, NULL));
	EXPECT_EQ(0, vdev_set_state(d, RUNNING, NULL));
	gw_start(_metadata, &self->gw, d, 0x5eed2001);
}

/* Fresh from an open: as the first open showed it, nothing else. */
struct fresh {
	uint8_t cfg[256];
	uint8_t *bar0;
};

static void fresh_take(struct __test_metadata *_metadata, struct vdev *d,
		       struct fresh *f)
{
	f->bar0 = malloc(d->bar0_size);
	ASSERT_NE(NULL, f->bar0);
	ASSERT_EQ(0, vdev_region_rw(d, d->cfg_off, f->cfg, sizeof(f->cfg),
				    false));
	ASSERT_EQ(0, vdev_region_rw(d, d->bar0_off, f->bar0, d->bar0_size,
				    false));
}

static void expect_fresh(struct __test_metadata *_metadata, struct vdev *d,
			 const struct fresh *f, const char *when)
{
	uint8_t cfg[256], page[4096], zero[4096] = {};
	uint8_t *bar0 = malloc(d->bar0_size);
	uint64_t i;

	ASSERT_NE(NULL, bar0);
	EXPECT_EQ(RUNNING, dev_state(d))
		TH_LOG("%s: opened in %s", when, state_name(dev_state(d)));
	EXPECT_EQ(0, vdev_ctl(d, CTXMIG_CTL_MIGRATED)) TH_LOG("%s", when);
	EXPECT_EQ(CTXMIG_ENG_IDLE, vdev_ctl(d, CTXMIG_CTL_ENG_STATUS))
		TH_LOG("%s", when);
	ASSERT_EQ(0, vdev_region_rw(d, d->cfg_off, cfg, sizeof(cfg), false));
	EXPECT_EQ(0, memcmp(cfg, f->cfg, sizeof(cfg)))
		TH_LOG("%s: config space not as new", when);
	ASSERT_EQ(0, vdev_region_rw(d, d->bar0_off, bar0, d->bar0_size,
				    false));
	for (i = 0; i < d->bar0_size && bar0[i] == f->bar0[i]; i++)
		;
	EXPECT_EQ(d->bar0_size, i)
		TH_LOG("%s: BAR0 byte 0x%llx is 0x%02x, was 0x%02x when new",
		       when, (unsigned long long)i, bar0[i], f->bar0[i]);
	free(bar0);
	EXPECT_EQ(0, attr_value(d, "stats", "vram_pages"))
		TH_LOG("%s: VRAM not empty", when);
	ASSERT_EQ(0, vdev_vram_read(d, GUEST_DATA_VRAM, page, sizeof(page)));
	EXPECT_EQ(0, memcmp(page, zero, sizeof(page)))
		TH_LOG("%s: the last session's data is readable", when);
}

/*
 * Every ordered pair of states, from RUNNING and back: what each arc
 * gives is ctxmig_migration_test's; here it must all work again on a
 * device that was closed in the middle of something.
 */
static void walk_every_arc(struct __test_metadata *_metadata, struct vdev *d,
			   int *fd, const char *when)
{
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(fsm_states); i++) {
		for (j = 0; j < ARRAY_SIZE(fsm_states); j++) {
			uint32_t from = fsm_states[i], to = fsm_states[j];
			int ret, tfd = -1;

			ASSERT_EQ(0, vdev_set_state(d, from, &fd[0]))
				TH_LOG("%s: RUNNING -> %s", when,
				       state_name(from));
			ret = vdev_set_state(d, to, &tfd);
			close_fd(&tfd);
			if (from == STOP_COPY && is_precopy(to)) {
				EXPECT_EQ(-EINVAL, ret);
				EXPECT_EQ(from, dev_state(d));
			} else if (from == RESUMING && to != RESUMING) {
				EXPECT_NE(0, ret);
				EXPECT_EQ(ERROR, dev_state(d));
			} else {
				EXPECT_EQ(0, ret) TH_LOG("%s: %s -> %s: %s",
							 when, state_name(from),
							 state_name(to),
							 strerror(-ret));
				EXPECT_EQ(to, dev_state(d));
			}
			if (dev_state(d) == RESUMING || dev_state(d) == ERROR)
				ret = vdev_reset(d);
			else
				ret = vdev_set_state(d, RUNNING, NULL);
			EXPECT_EQ(0, ret) TH_LOG("%s: back from %s -> %s", when,
						 state_name(from),
						 state_name(to));
			ASSERT_EQ(RUNNING, dev_state(d)) TH_LOG("%s", when);
			close_fd(&fd[0]);
		}
	}
}

/*
 * A long copy into system memory (@sys, GUEST_DATA_SIZE bytes) on an
 * engine slowed to 100 steps a second: sixteen steps of DMA queued.
 */
static void queue_long_copy(struct __test_metadata *_metadata, struct gw *x,
			    struct vdev *d, void *sys)
{
	struct guest_cmd c = {
		.op = CTXMIG_OP_COPY, .src = GUEST_DATA_VA, .dst = SYS_VA,
		.value = GUEST_DATA_SIZE,
	};

	ASSERT_EQ(0, vdev_map_dma(d, sys, SYS_IOVA, GUEST_DATA_SIZE));
	ASSERT_EQ(0, guest_map_sysmem(&x->g, SYS_VA, SYS_IOVA,
				      GUEST_DATA_SIZE))
		TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, vdev_attr_write(d, "throttle", "1"));
	ASSERT_EQ(0, guest_submit(&x->g, &c, 1, false)) TH_LOG("%s", x->g.why);
}

/* From RUNNING into @st (ERROR: a RESUMING -> STOP with no stream). */
static void enter_state(struct __test_metadata *_metadata, struct vdev *d,
			uint32_t st, int *fd)
{
	if (st != ERROR) {
		ASSERT_EQ(0, vdev_set_state(d, st, fd));
		ASSERT_EQ(st, dev_state(d));
		ASSERT_EQ(opens_transfer(st), *fd >= 0);
		return;
	}
	ASSERT_EQ(0, vdev_set_state(d, RESUMING, fd));
	ASSERT_NE(0, vdev_set_state(d, STOP, NULL));
	ASSERT_EQ(ERROR, dev_state(d));
}

enum { KEEP_FD, CLOSE_FD_FIRST, WORK_QUEUED, NVARIANTS };

TEST_F_TIMEOUT(lifecycle, close_in_every_state, 600)
{
	static const char * const variants[] = {
		"data_fd left open", "data_fd closed first", "work queued",
	};
	static const uint32_t states[] = {
		RUNNING, STOP, RUNNING_P2P, STOP_COPY, RESUMING, PRE_COPY,
		PRE_COPY_P2P, ERROR,
	};
	const uint8_t irq_line = 0x2a, command[2] = { 0x06, 0x00 };
	struct vdev *d = &self->dev[0];
	struct gw *x = &self->gw;
	int *fd = &self->fd[0], *msi = &self->efd[0], *intx = &self->efd[1];
	struct fresh f = {};
	unsigned int i, v, sessions = 0;
	char when[96] = "first open";
	int ret;

	self->sys = mmap(NULL, GUEST_DATA_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sys);
	ASSERT_EQ(0, vdev_track_create(d, "nv-ampere"));
	for (i = 0; i <= ARRAY_SIZE(states); i++) {
		for (v = 0; v < NVARIANTS; v++) {
			uint32_t st;

			ret = vdev_open(d);
			ASSERT_EQ(0, ret) TH_LOG("%s: open: %s", when,
						 strerror(-ret));
			if (!sessions++)
				fresh_take(_metadata, d, &f);
			expect_fresh(_metadata, d, &f, when);
			/* The last session's MSI eventfd is not used again. */
			if (*msi >= 0) {
				EXPECT_EQ(0, eventfd_count(*msi))
					TH_LOG("%s: the old MSI eventfd fired", when);
				close_fd(msi);
			}
			walk_every_arc(_metadata, d, fd, when);
			gw_start(_metadata, x, d, 0x5eed2100 + sessions);

			/* INTx is unmasked, whatever the last session did. */
			ASSERT_EQ(0, vdev_irq_eventfd(d,
						      VFIO_PCI_INTX_IRQ_INDEX,
						      VFIO_IRQ_SET_ACTION_TRIGGER,
						      intx));
			ASSERT_EQ(0, vdev_ctl_wr(d, CTXMIG_CTL_IRQ_ENABLE,
						 CTXMIG_IRQ_FENCE));
			run_batch(_metadata, x, 8, false);
			EXPECT_LT(0, vdev_eventfd_wait(*intx, GUEST_TIMEOUT_MS))
				TH_LOG("%s: no INTx", when);
			close_fd(intx);
			if (i == ARRAY_SIZE(states))
				break;

			/*
			 * Leave state behind: INTx masked, or MSI in its
			 * place (one excludes the other), eventfds, config.
			 */
			snprintf(when, sizeof(when), "after a close in %s, %s",
				 state_name(states[i]), variants[v]);
			if ((i + v) % 2) {
				ASSERT_EQ(0, intx_mask(d));
			} else {
				ASSERT_EQ(0, vdev_irq_disable(d,
							      VFIO_PCI_INTX_IRQ_INDEX));
				ASSERT_EQ(0, vdev_irq_eventfd(d,
							      VFIO_PCI_MSI_IRQ_INDEX,
							      VFIO_IRQ_SET_ACTION_TRIGGER,
							      msi));
				run_batch(_metadata, x, 8, true);
				EXPECT_LT(0, vdev_eventfd_wait(*msi,
							       GUEST_TIMEOUT_MS));
			}
			ASSERT_EQ(0, vdev_region_rw(d, d->cfg_off + 0x3c,
						    (void *)&irq_line, 1, true));
			ASSERT_EQ(0, vdev_region_rw(d, d->cfg_off + 0x04,
						    (void *)command, 2, true));
			if (v == WORK_QUEUED)
				queue_long_copy(_metadata, x, d, self->sys);

			st = states[i];
			enter_state(_metadata, d, st, fd);
			if (v == CLOSE_FD_FIRST)
				close_fd(fd);
			vdev_close(d);
			/* The session is over: its data_fd is dead. */
			if (*fd >= 0) {
				uint8_t b[64] = {};

				EXPECT_EQ(-1, st == RESUMING || st == ERROR ?
					  write(*fd, b, sizeof(b)) :
					  read(*fd, b, sizeof(b)));
				close_fd(fd);
			}
			EXPECT_EQ(0, vdev_attr_write(d, "throttle", "0"));
			EXPECT_TRUE(attr_is(d, "migration_state", "running"))
				TH_LOG("%s: a closed device not in RUNNING", when);
			EXPECT_EQ(0, attr_value(d, "stats", "vram_pages"))
				TH_LOG("%s: VRAM kept after the close", when);
			eventfd_count(*msi);
			gw_fini(x);
		}
	}
	free(f.bar0);
	TH_LOG("%u sessions", sessions);
}

/* ------------------------------------------------------ failed arcs */

/*
 * The state a SET from @from to @to is left in when the fault injected at
 * @point fails its arc: the state before that arc, or ~0 if the walk does
 * not pass there.  "arc" fails the first arc; "save_init" an arc that
 * opens a save; "save_stop" PRE_COPY_P2P -> STOP_COPY.
 */
static uint32_t fail_state(uint32_t from, uint32_t to, const char *point)
{
	uint32_t cur = from;

	while (cur != to) {
		uint32_t next = fsm_next(cur, to);

		if (!strcmp(point, "arc") ||
		    (!strcmp(point, "save_init") &&
		     ((cur == STOP && next == STOP_COPY) ||
		      (cur == RUNNING && next == PRE_COPY) ||
		      (cur == RUNNING_P2P && next == PRE_COPY_P2P))) ||
		    (!strcmp(point, "save_stop") &&
		     cur == PRE_COPY_P2P && next == STOP_COPY))
			return cur;
		cur = next;
	}
	return ~0U;
}

static int precopy_info(int fd)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };

	return ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info) ? -errno : 0;
}

TEST_F_TIMEOUT(lifecycle, failed_arcs, 300)
{
	static const uint32_t froms[] = {
		RUNNING, PRE_COPY, PRE_COPY_P2P, RUNNING_P2P,
	};
	static const char * const points[] = {
		"arc", "save_init", "save_stop",
	};
	const unsigned int npoints = ARRAY_SIZE(points);
	const unsigned int ncases = ARRAY_SIZE(froms) *
				    ARRAY_SIZE(fsm_states) * npoints;
	struct vdev *d = &self->dev[0];
	struct gw *x = &self->gw;
	int *pfd = &self->fd[0], *tfd = &self->fd[1];
	unsigned int c, cases = 0;

	open_dev(_metadata, d, "intel-gen12");
	gw_start(_metadata, x, d, 0x5eed2200);
	for (c = 0; c < ncases; c++) {
		uint32_t from = froms[c / npoints / ARRAY_SIZE(fsm_states)];
		uint32_t to = fsm_states[c / npoints % ARRAY_SIZE(fsm_states)];
		unsigned int k = c % npoints;
		uint32_t want = fail_state(from, to, points[k]);
		uint8_t b[64];
		char what[96];
		int ret;

		if (from == to || want == ~0U)
			continue;
		snprintf(what, sizeof(what), "%s -> %s, %s failing",
			 state_name(from), state_name(to), points[k]);
		ASSERT_EQ(0, vdev_set_state(d, from, pfd));
		if (is_precopy(from)) {
			ASSERT_LE(0, *pfd);
			EXPECT_LT(0, read(*pfd, b, sizeof(b)));
		}
		/* Work the engine has, or gets when it runs again. */
		submit_batch(_metadata, x, 12, k & 1);
		ASSERT_EQ(0, vdev_attr_write(d, "fail_at", points[k]))
			TH_LOG("%s: fail_at", what);
		ret = vdev_set_state(d, to, tfd);
		EXPECT_EQ(-EIO, ret) TH_LOG("%s: %s", what, strerror(-ret));
		EXPECT_EQ(want, dev_state(d))
			TH_LOG("%s: left in %s, not %s", what,
			       state_name(dev_state(d)), state_name(want));
		EXPECT_EQ(-1, *tfd);
		EXPECT_TRUE(attr_is(d, "fail_at", "none"));
		if (!strcmp(points[k], "save_stop")) {
			unsigned int reads = 0;
			ssize_t n;

			/* That stream has failed for good, and says so. */
			do
				n = read(*pfd, b, sizeof(b));
			while (n > 0 && ++reads < 100000);
			EXPECT_EQ(-1, n);
			EXPECT_EQ(EIO, errno);
			EXPECT_EQ(-EIO, precopy_info(*pfd));
			EXPECT_EQ(-EIO, vdev_set_state(d, STOP_COPY, NULL));
			EXPECT_EQ(PRE_COPY_P2P, dev_state(d));
		}
		/* Back to RUNNING: the work runs, every byte as it should. */
		ret = vdev_set_state(d, RUNNING, NULL);
		ASSERT_EQ(0, ret) TH_LOG("%s: back to RUNNING: %s", what,
					 strerror(-ret));
		wait_batch(_metadata, x);
		check_data(_metadata, x, d);
		close_fd(pfd);
		close_fd(tfd);
		cases++;
	}
	TH_LOG("%u failed arcs", cases);
}

/* VRAM bytes a guest owns: ctxmig's top 1/16, at least 4 MiB, is not. */
static uint64_t guest_part(uint64_t bar2_size)
{
	uint64_t reserved = bar2_size / 16;

	return bar2_size - (reserved > (4 << 20) ? reserved : (4 << 20));
}

/* Read a pre-copy fd until it has nothing more for now (ENOMSG). */
static void precopy_drain(struct __test_metadata *_metadata,
			  struct vdev_stream *s, int fd)
{
	unsigned int reads;
	ssize_t n = 0;

	for (reads = 0; reads < 100000; reads++) {
		n = vdev_stream_read(s, fd, 1 << 16);
		if (n <= 0)
			break;
	}
	ASSERT_EQ(-ENOMSG, n) TH_LOG("after %u reads", reads);
}

/* The rest of a stream, to its end. */
static void stream_to_eof(struct __test_metadata *_metadata,
			  struct vdev_stream *s, int fd)
{
	ssize_t n;

	do
		n = vdev_stream_read(s, fd, 1 << 16);
	while (n > 0);
	ASSERT_EQ(0, n) TH_LOG("reading to EOF: %s", strerror(-n));
}

static void restore_into(struct __test_metadata *_metadata,
			 const struct vdev_stream *s, struct vdev *d)
{
	int ret, werr;

	ret = vdev_restore_stream(d, s->p, s->len, 4093, &werr);
	EXPECT_EQ(0, werr) TH_LOG("writing the stream: %s", strerror(-werr));
	ASSERT_EQ(0, ret) TH_LOG("%s: restore: %s", d->model, strerror(-ret));
	ASSERT_EQ(0, vdev_set_state(d, RUNNING, NULL));
}

/*
 * A guest can make its device unsaveable: here a mapping of ctxmig's
 * reserved area.  The VMM's PRE_COPY_P2P -> STOP_COPY fails; the source
 * is still PRE_COPY_P2P, and RUNNING again it runs what was queued.
 */
TEST_F_TIMEOUT(lifecycle, unsaveable_guest, 180)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	struct gw *x = &self->gw;
	int *pfd = &self->fd[0];
	uint64_t pt_len;
	uint8_t *pt, b[64];

	open_dev(_metadata, src, "amd-gfx12");
	open_dev(_metadata, dst, "nv-ampere");
	gw_start(_metadata, x, src, 0x5eed2300);
	pt_len = x->g.pt_next - GUEST_PT_BASE;
	pt = malloc(pt_len);
	ASSERT_NE(NULL, pt);
	ASSERT_EQ(0, vdev_vram_read(src, GUEST_PT_BASE, pt, pt_len));
	ASSERT_EQ(0, guest_map_vram(&x->g, BAD_VA,
				    guest_part(src->bar2_size), 4096))
		TH_LOG("%s", x->g.why);

	ASSERT_EQ(0, vdev_set_state(src, PRE_COPY, pfd));
	ASSERT_LE(0, *pfd);
	precopy_drain(_metadata, &self->s, *pfd);
	ASSERT_EQ(0, vdev_set_state(src, PRE_COPY_P2P, NULL));
	submit_batch(_metadata, x, 16, true);
	EXPECT_EQ(-EINVAL, vdev_set_state(src, STOP_COPY, NULL));
	EXPECT_EQ(PRE_COPY_P2P, dev_state(src));
	EXPECT_EQ(-1, read(*pfd, b, sizeof(b)));
	EXPECT_EQ(EINVAL, errno);

	/* The VMM gives up: the source carries on with nothing lost. */
	ASSERT_EQ(0, vdev_set_state(src, RUNNING, NULL));
	wait_batch(_metadata, x);
	check_data(_metadata, x, src);
	close_fd(pfd);
	run_batch(_metadata, x, 16, false);

	/* The mapping undone, the same guest migrates. */
	ASSERT_EQ(0, vdev_vram_write(src, GUEST_PT_BASE, pt, pt_len));
	free(pt);
	self->s.len = 0;
	ASSERT_EQ(0, vdev_set_state(src, STOP_COPY, pfd));
	ASSERT_LE(0, *pfd);
	stream_to_eof(_metadata, &self->s, *pfd);
	close_fd(pfd);
	ASSERT_EQ(0, vdev_set_state(src, STOP, NULL));
	restore_into(_metadata, &self->s, dst);
	gw_moved(_metadata, x, dst);
}

/* ------------------------------------------------------------- P2P */

/* The fence stays at @fence for WATCH_MS: the engine executes nothing. */
static void expect_no_progress(struct __test_metadata *_metadata,
			       struct gw *x, uint64_t fence, int efd)
{
	uint64_t end = now_ms() + WATCH_MS, now = fence;

	while (now == fence && now_ms() < end) {
		usleep(5000);
		now = guest_fence(&x->g);
	}
	EXPECT_EQ(fence, now) TH_LOG("commands ran in P2P");
	if (efd >= 0)
		EXPECT_EQ(0, eventfd_count(efd)) TH_LOG("an interrupt in P2P");
}

TEST_F_TIMEOUT(lifecycle, p2p_quiescent, 120)
{
	struct vdev *d = &self->dev[0];
	struct gw *x = &self->gw;
	int *msi = &self->efd[0];
	uint64_t fence;

	open_dev(_metadata, d, "amd-gfx9");
	gw_start(_metadata, x, d, 0x5eed2400);
	ASSERT_EQ(0, vdev_irq_eventfd(d, VFIO_PCI_MSI_IRQ_INDEX,
				      VFIO_IRQ_SET_ACTION_TRIGGER, msi));
	ASSERT_EQ(0, vdev_ctl_wr(d, CTXMIG_CTL_IRQ_ENABLE, CTXMIG_IRQ_FENCE));
	run_batch(_metadata, x, 4, false);
	EXPECT_LT(0, vdev_eventfd_wait(*msi, GUEST_TIMEOUT_MS));
	fence = guest_fence(&x->g);
	ASSERT_EQ(x->w.seq, fence);

	/* A doorbell in RUNNING_P2P is stored; nothing runs, nothing fires. */
	ASSERT_EQ(0, vdev_set_state(d, RUNNING_P2P, NULL));
	submit_batch(_metadata, x, 24, false);
	expect_no_progress(_metadata, x, fence, *msi);
	ASSERT_EQ(0, vdev_set_state(d, STOP, NULL));
	EXPECT_EQ(fence, guest_fence(&x->g));
	EXPECT_EQ(0, eventfd_count(*msi));
	ASSERT_EQ(0, vdev_set_state(d, RUNNING_P2P, NULL));
	expect_no_progress(_metadata, x, fence, *msi);

	/* RUNNING: the doorbell takes effect. */
	ASSERT_EQ(0, vdev_set_state(d, RUNNING, NULL));
	wait_batch(_metadata, x);
	EXPECT_LT(0, vdev_eventfd_wait(*msi, GUEST_TIMEOUT_MS));
	check_data(_metadata, x, d);
}

TEST_F_TIMEOUT(lifecycle, p2p_doorbell_migrates, 180)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	struct gw *x = &self->gw;
	int *pfd = &self->fd[0];
	uint64_t fence;

	open_dev(_metadata, src, "intel-gen12");
	open_dev(_metadata, dst, "amd-gfx12");
	gw_start(_metadata, x, src, 0x5eed2500);
	ASSERT_EQ(0, vdev_set_state(src, PRE_COPY, pfd));
	ASSERT_LE(0, *pfd);
	precopy_drain(_metadata, &self->s, *pfd);
	ASSERT_EQ(0, vdev_set_state(src, PRE_COPY_P2P, NULL));
	fence = guest_fence(&x->g);
	submit_batch(_metadata, x, 24, true);
	expect_no_progress(_metadata, x, fence, -1);
	ASSERT_EQ(0, vdev_set_state(src, STOP_COPY, NULL));
	stream_to_eof(_metadata, &self->s, *pfd);
	close_fd(pfd);
	EXPECT_EQ(fence, guest_fence(&x->g)) TH_LOG("the source ran the batch");
	ASSERT_EQ(0, vdev_set_state(src, STOP, NULL));
	/* The commands the doorbell exposed run on the target. */
	restore_into(_metadata, &self->s, dst);
	gw_moved(_metadata, x, dst);
}

/* --------------------------------------------------- bounded reads */

struct hammer {
	uint64_t *p;		/* the mapping: accessed as device memory */
	size_t pages;
	bool stop;
	uint64_t writes;	/* rounds over all pages */
};

static uint64_t load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Run the caller on CPU @cpu, if there is one (the VM has two). */
static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Rewrite pages through a BAR2 mapping, each with its own value, round
 * after round, on another CPU than the reader's: every write after
 * pre-copy went past a page faults and marks it again.
 */
static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	size_t i;

	pin_to(1);
	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < h->pages; i++)
			store64(&h->p[i * 512], load64(&h->p[i * 512]));
		store64(&h->writes, h->writes + 1);
	}
	return NULL;
}

TEST_F_TIMEOUT(lifecycle, precopy_read_bounded, 180)
{
	struct vdev *d = &self->dev[0];
	struct gw *x = &self->gw;
	int *pfd = &self->fd[0];
	struct hammer h = {};
	unsigned int i, nomsg = 0;
	uint64_t writes, end;
	int pipefd[2], status = 0;
	pthread_t th;
	pid_t child, got = 0;
	uint8_t *buf;
	char c;

	open_dev(_metadata, d, "amd-gfx9");
	gw_start(_metadata, x, d, 0x5eed2600);
	/* A table for each of many mappings: a pass has many to go over. */
	for (i = 0; i < SPREAD_MAPS; i++)
		ASSERT_EQ(0, guest_map_vram(&x->g, SPREAD_VA + i * (2ULL << 20),
					    GUEST_DATA_VRAM, 4096))
			TH_LOG("%s", x->g.why);
	/* Every page of the guest's page tables. */
	ASSERT_EQ(GUEST_PT_BASE, guest_pt_root(&x->g));
	self->map_len = x->g.pt_next - GUEST_PT_BASE;
	self->map = vdev_vram_mmap(d, GUEST_PT_BASE, self->map_len);
	ASSERT_NE(NULL, self->map) TH_LOG("mmap: %s", strerror(errno));
	buf = malloc(1 << 16);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, vdev_set_state(d, PRE_COPY, pfd));
	ASSERT_LE(0, *pfd);
	precopy_drain(_metadata, &self->s, *pfd);

	/* The page tables, rewritten through the mapping meanwhile. */
	pin_to(0);
	h.p = self->map;
	h.pages = self->map_len / 4096;
	ASSERT_EQ(0, pthread_create(&th, NULL, hammer_run, &h));
	while (load64(&h.writes) < 1000)
		usleep(1000);
	writes = load64(&h.writes);
	for (i = 0; i < 64; i++) {
		long long steps = attr_value(d, "stats", "precopy_steps");
		ssize_t n = read(*pfd, buf, 1 << 16);
		int err = errno;

		/* Nothing sent costs a bounded number of passes. */
		ASSERT_LE(0, steps);
		steps = attr_value(d, "stats", "precopy_steps") - steps;
		if (n < 0) {
			EXPECT_EQ(ENOMSG, err) TH_LOG("read %u", i);
			EXPECT_GE(2, steps) TH_LOG("read %u: %lld steps for nothing",
						   i, steps);
			nomsg++;
		}
	}
	EXPECT_LT(writes, load64(&h.writes))
		TH_LOG("the pages were not rewritten");
	EXPECT_LT(0, nomsg);

	/* A reader killed while the page is still being rewritten. */
	ASSERT_EQ(0, pipe(pipefd));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		close(pipefd[0]);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			if (read(*pfd, buf, 1 << 16) < 0 && errno != ENOMSG)
				_exit(2);
	}
	close(pipefd[1]);
	EXPECT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	usleep(100000);
	ASSERT_EQ(0, kill(child, SIGKILL));
	/* A hang guard, far beyond what ending a killed task takes. */
	end = now_ms() + 60000;
	while (!got && now_ms() < end) {
		got = waitpid(child, &status, WNOHANG);
		if (!got)
			usleep(10000);
	}
	EXPECT_EQ(child, got) TH_LOG("SIGKILL did not end the reader");
	__atomic_store_n(&h.stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	if (got != child)
		waitpid(child, &status, 0);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	free(buf);

	/* The page-table page goes with the stop-copy part as mappings. */
	ASSERT_EQ(0, vdev_set_state(d, RUNNING, NULL));
	run_batch(_metadata, x, 16, true);
	check_data(_metadata, x, d);
}

/* ------------------------------------------------------ device request */

struct remover {
	struct vdev *d;
	int ret;
	bool done;
};

static void *remover_run(void *arg)
{
	struct remover *r = arg;

	r->ret = vdev_remove(r->d);
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	return NULL;
}

TEST_F_TIMEOUT(lifecycle, request_on_remove, 120)
{
	struct vfio_irq_info ii = {
		.argsz = sizeof(ii),
		.index = VFIO_PCI_REQ_IRQ_INDEX,
	};
	static struct remover r;
	struct vdev *d = &self->dev[1];
	char path[256];
	pthread_t th;

	open_dev(_metadata, d, "intel-gen12");
	ASSERT_EQ(0, ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	ASSERT_EQ(1, ii.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, ii.flags);
	ASSERT_EQ(0, vdev_irq_eventfd(d, VFIO_PCI_REQ_IRQ_INDEX,
				      VFIO_IRQ_SET_ACTION_TRIGGER,
				      &self->efd[0]));
	self->map_len = 4096;
	self->map = vdev_vram_mmap(d, 0, self->map_len);
	ASSERT_NE(NULL, self->map);

	/* Removal waits for the user, and asks it to let go. */
	r.d = d;
	ASSERT_EQ(0, pthread_create(&th, NULL, remover_run, &r));
	EXPECT_LT(0, vdev_eventfd_wait(self->efd[0], 10000))
		TH_LOG("no device request");
	EXPECT_FALSE(__atomic_load_n(&r.done, __ATOMIC_ACQUIRE))
		TH_LOG("removed while open: %d", r.ret);
	munmap(self->map, self->map_len);
	self->map = NULL;
	vdev_close(d);
	pthread_join(th, NULL);
	EXPECT_EQ(0, r.ret) TH_LOG("remove: %s", strerror(-r.ret));
	snprintf(path, sizeof(path), MDEV_DEVICES "/%s", d->uuid);
	EXPECT_NE(0, access(path, F_OK)) TH_LOG("%s still there", path);
}

/* ------------------------------------------------------ reserved area */

/* BAR2's sparse mmap capability: its areas, or -errno. */
static int bar2_sparse(struct vdev *d, struct vfio_region_sparse_mmap_area *a,
		       uint32_t *n)
{
	struct vfio_region_info *ri = calloc(1, sizeof(*ri));
	struct vfio_info_cap_header *h;
	uint32_t off, i;
	int ret = -ENOENT;

	if (!ri)
		return -ENOMEM;
	ri->argsz = sizeof(*ri);
	ri->index = VFIO_PCI_BAR2_REGION_INDEX;
	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, ri))
		goto out_errno;
	if (!(ri->flags & VFIO_REGION_INFO_FLAG_CAPS) ||
	    ri->argsz <= sizeof(*ri))
		goto out;
	ri = realloc(ri, ri->argsz);
	if (!ri)
		return -ENOMEM;
	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, ri))
		goto out_errno;
	for (off = ri->cap_offset; off; off = h->next) {
		struct vfio_region_info_cap_sparse_mmap *s;

		if (off + sizeof(*h) > ri->argsz)
			break;
		h = (void *)((uint8_t *)ri + off);
		if (h->id != VFIO_REGION_INFO_CAP_SPARSE_MMAP)
			continue;
		s = (void *)h;
		if (h->version != 1 || off + sizeof(*s) > ri->argsz ||
		    off + sizeof(*s) + s->nr_areas * sizeof(*a) > ri->argsz) {
			ret = -EINVAL;
			break;
		}
		for (i = 0; i < s->nr_areas && i < *n; i++)
			a[i] = s->areas[i];
		*n = s->nr_areas;
		ret = 0;
		break;
	}
	goto out;
out_errno:
	ret = -errno;
out:
	free(ri);
	return ret;
}

TEST_F_TIMEOUT(lifecycle, reserved_area, 120)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	struct vfio_region_sparse_mmap_area a[4];
	uint8_t page[4096], want[4096], *map;
	uint32_t n = ARRAY_SIZE(a);
	uint64_t guest, at;
	int *fd = &self->fd[0];
	void *bad;
	ssize_t w;

	open_dev(_metadata, src, "amd-gfx9");
	open_dev(_metadata, dst, "intel-gen12");
	guest = guest_part(src->bar2_size);

	/* Only the guest's part is mappable, and says so. */
	ASSERT_EQ(0, bar2_sparse(src, a, &n));
	ASSERT_EQ(1, n);
	EXPECT_EQ(0, a[0].offset);
	EXPECT_EQ(guest, a[0].size);
	bad = mmap(NULL, 4096, PROT_READ, MAP_SHARED, src->fd,
		   src->bar2_off + guest);
	EXPECT_EQ(MAP_FAILED, bad);
	EXPECT_EQ(EINVAL, errno);
	bad = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, src->fd,
		   src->bar2_off + guest - 4096);
	EXPECT_EQ(MAP_FAILED, bad);
	bad = mmap(NULL, 4096, PROT_READ, MAP_SHARED, src->fd,
		   src->bar2_off + src->bar2_size - 4096);
	EXPECT_EQ(MAP_FAILED, bad);

	/* ctxmig's part reads, and refuses writes: none is lost silently. */
	EXPECT_EQ(sizeof(page), pread(src->fd, page, sizeof(page),
				      src->bar2_off + guest));
	EXPECT_EQ(sizeof(page), pread(src->fd, page, sizeof(page),
				      src->bar2_off + src->bar2_size - 4096));
	EXPECT_EQ(-1, pwrite(src->fd, page, 4, src->bar2_off + guest));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, pwrite(src->fd, page, 4,
			     src->bar2_off + src->bar2_size - 4));
	EXPECT_EQ(EPERM, errno);
	memset(want, 0x3c, sizeof(want));
	w = pwrite(src->fd, want, 8, src->bar2_off + guest - 4);
	EXPECT_EQ(4, w) TH_LOG("a write across the boundary: %zd", w);

	/* The guest's last page, written both ways, reaches the target. */
	self->map_len = guest;
	self->map = vdev_vram_mmap(src, 0, self->map_len);
	ASSERT_NE(NULL, self->map) TH_LOG("mmap: %s", strerror(errno));
	map = self->map;
	at = guest - sizeof(want);
	for (n = 0; n < sizeof(want) - 4; n++)
		want[n] = n * 7 + 1;
	memcpy(map + at, want, 2048);
	ASSERT_EQ(0, vdev_vram_write(src, at + 2048, want + 2048,
				     sizeof(want) - 2048 - 4));
	ASSERT_EQ(0, vdev_set_state(src, STOP_COPY, fd));
	ASSERT_LE(0, *fd);
	stream_to_eof(_metadata, &self->s, *fd);
	close_fd(fd);
	ASSERT_EQ(0, vdev_set_state(src, RUNNING, NULL));
	restore_into(_metadata, &self->s, dst);
	ASSERT_EQ(0, vdev_vram_read(dst, at, page, sizeof(page)));
	EXPECT_EQ(0, memcmp(page, want, sizeof(page)));
}

/* ------------------------------------------------------ memory cgroup */

#define CG_ROOT		"/tmp/ctxmig-cgroup"
#define CG_CHILD	CG_ROOT "/lifecycle"
#define FRESH_VA	0x50000000ULL
#define FRESH_VRAM	0x2000000ULL	/* never written by anyone */
#define FRESH_SIZE	(4 * GUEST_DATA_SIZE)

static int put_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

static long long get_ll(const char *path)
{
	char buf[64] = "";
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtoll(buf, NULL, 10) : -1;
}

TEST_F_TIMEOUT(lifecycle, engine_memory_charged, 120)
{
	struct vdev *d = &self->dev[0];
	struct gw *x = &self->gw;
	struct guest_cmd c[5] = {};
	long long before, after;
	char pid[32];
	int i;

	/* This process in a memory cgroup of its own, then the device. */
	mkdir(CG_ROOT, 0755);
	if (mount("none", CG_ROOT, "cgroup2", 0, NULL) && errno != EBUSY)
		SKIP(return, "no cgroup2: %s", strerror(errno));
	put_str(CG_ROOT "/cgroup.subtree_control", "+memory");
	mkdir(CG_CHILD, 0755);
	if (get_ll(CG_CHILD "/memory.current") < 0)
		SKIP(return, "no memory controller");
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_EQ(0, put_str(CG_CHILD "/cgroup.procs", pid));
	open_dev(_metadata, d, "amd-gfx9");
	gw_start(_metadata, x, d, 0x5eed2800);
	ASSERT_EQ(0, guest_map_vram(&x->g, FRESH_VA, FRESH_VRAM, FRESH_SIZE))
		TH_LOG("%s", x->g.why);

	/* The engine copies into 1024 pages nothing has written yet. */
	before = get_ll(CG_CHILD "/memory.current");
	for (i = 0; i < 4; i++) {
		c[i].op = CTXMIG_OP_COPY;
		c[i].src = GUEST_DATA_VA;
		c[i].dst = FRESH_VA + i * GUEST_DATA_SIZE;
		c[i].value = GUEST_DATA_SIZE;
	}
	c[4].op = CTXMIG_OP_FENCE;
	c[4].dst = GUEST_DATA_VA + FENCE_OFF;
	c[4].value = ++x->w.seq;
	wl_apply(&x->w, &c[4]);
	ASSERT_EQ(0, guest_submit(&x->g, c, 5, false)) TH_LOG("%s", x->g.why);
	wait_batch(_metadata, x);
	after = get_ll(CG_CHILD "/memory.current");
	EXPECT_LE(before + (long long)FRESH_SIZE * 9 / 10, after)
		TH_LOG("the cgroup went from %lld to %lld bytes", before, after);
	check_data(_metadata, x, d);

	vdev_track_remove(d);
	put_str(CG_ROOT "/cgroup.procs", pid);
	rmdir(CG_CHILD);
	umount(CG_ROOT);
}

int main(int argc, char **argv)
{
	vdev_track_init();
	/* Exits through ksft_exit(). */
	return test_harness_run(argc, argv);
}
