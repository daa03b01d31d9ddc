// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig: the VFIO migration state machine and data_fd at their edges.
 *
 * Every test creates its own mdev instances and removes them in its
 * teardown, closing every data_fd and device fd first (main() removes
 * what a killed test left behind).  A guest driver (guest.c) runs a
 * workload of random writes, copies and fences on the devices.
 *
 *  migration.every_fsm_arc     every ordered pair of RUNNING, STOP,
 *                              RUNNING_P2P, STOP_COPY, RESUMING, PRE_COPY,
 *                              PRE_COPY_P2P: the state reached, data_fd
 *                              exactly where a transfer opens, old fds
 *                              dead or alive as they should be, the two
 *                              arcs the FSM blocks (STOP_COPY -> PRE_COPY*)
 *                              refused, RESUMING left only through ERROR,
 *                              ERROR only by a reset; the workload runs
 *                              after each pair
 *  migration.precopy_converges PRECOPY_INFO initial/dirty bytes as a
 *                              running device is read, -ENOMSG at the
 *                              temporary end, dirty bytes after the guest
 *                              writes, PRE_COPY_P2P -> STOP_COPY to EOF,
 *                              restored into another model; an aborted
 *                              pre-copy; PRECOPY_INFO outside PRE_COPY
 *  migration.precopy_tracks_mmap_writes
 *                              pages written through a BAR2 mapping after
 *                              pre-copy sent them count as dirty bytes,
 *                              exactly, round after round, and the target
 *                              has the last bytes written
 *  migration.stop_inside_long_copy
 *                              STOP lands between the 64 KiB steps of a
 *                              long copy: the stream's first command is
 *                              the rest of it, and another model finishes
 *                              it with the bytes the whole copy gives
 *  migration.system_memory_moves
 *                              a GPU mapping of this process's memory
 *                              (through the VFIO DMA helpers) keeps
 *                              working on another model: commands pending
 *                              at the stop and new ones reach the memory
 *  migration.datafd_closed_mid_transfer
 *                              a half-read saving fd and a half-written
 *                              resuming fd closed early
 *  migration.reset_mid_migration
 *                              VFIO_DEVICE_RESET in STOP_COPY and in
 *                              RESUMING with the transfer half done
 *  migration.remove_mid_migration
 *                              the mdev removed (device fd closed first)
 *                              while its data_fds stay open and half
 *                              used; a new instance then migrates
 *  migration.hostile_lengths   huge and inconsistent record lengths, a
 *                              record crossing the end, a 2 GiB preamble
 *                              (seeded mutations of every class are
 *                              ctxmig_mutation_test's)
 *
 * Run after vfio, vfio_iommu_type1, mdev and ctxmig are loaded.  Waits
 * poll with timeouts (the VM runs under TCG), never sleep a fixed time.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/ctxmig.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "guest.h"
#include "workload.h"

#define POLL_MS		10000

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

/* xorshift64*, for the mutations. */
static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static void check_data(struct __test_metadata *_metadata,
		       struct workload *w, struct vdev *d, uint8_t *got)
{
	uint64_t i;

	ASSERT_EQ(0, vdev_vram_read(d, GUEST_DATA_VRAM, got,
				    GUEST_DATA_SIZE));
	if (!memcmp(got, w->ref, GUEST_DATA_SIZE))
		return;
	for (i = 0; i < GUEST_DATA_SIZE && got[i] == w->ref[i]; i++)
		;
	ASSERT_EQ(GUEST_DATA_SIZE, i) {
		TH_LOG("%s: data differs at +0x%llx: 0x%02x, expected 0x%02x",
		       d->model, (unsigned long long)i, got[i], w->ref[i]);
	}
}

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

/* Submit a batch of @n commands and wait for its last fence. */
static void run_batch(struct __test_metadata *_metadata, struct gw *x,
		      unsigned int n, bool ib)
{
	ASSERT_EQ(0, wl_run_batch(&x->w, &x->g, n, ib)) TH_LOG("%s", x->g.why);
}

/* A fresh guest on @d's current registers: page tables and ring. */
static void gw_attach(struct __test_metadata *_metadata, struct gw *x,
		      struct vdev *d)
{
	int ret;

	if (x->have)
		guest_fini(&x->g);
	ret = guest_init(&x->g, d);
	x->have = !ret || x->g.shadow;
	ASSERT_EQ(0, ret) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, guest_setup(&x->g)) TH_LOG("%s", x->g.why);
}

/* Guest up on @d, initial pattern, a first batch run and checked. */
static void gw_start(struct __test_metadata *_metadata, struct gw *x,
		     struct vdev *d, uint64_t seed)
{
	uint64_t i;

	x->buf = malloc(GUEST_DATA_SIZE);
	ASSERT_NE(NULL, x->buf);
	ASSERT_EQ(0, wl_init(&x->w, seed));
	gw_attach(_metadata, x, d);
	for (i = 0; i < SRC_LEN; i++)
		x->w.ref[SRC_OFF + i] = xorshift(&x->w.rng) >> 56;
	ASSERT_EQ(0, vdev_vram_write(d, GUEST_DATA_VRAM + SRC_OFF,
				     x->w.ref + SRC_OFF, SRC_LEN));
	run_batch(_metadata, x, 20, false);
	run_batch(_metadata, x, 20, true);
	check_data(_metadata, &x->w, d, x->buf);
}

/* The guest finds itself on @d after a restore and carries on there. */
static void gw_moved(struct __test_metadata *_metadata, struct gw *x,
		     struct vdev *d)
{
	x->g.dev = d;
	ASSERT_EQ(0, guest_recover(&x->g)) TH_LOG("%s", x->g.why);
	EXPECT_STREQ(d->model, guest_model_name(&x->g));
	ASSERT_EQ(0, guest_wait_fence(&x->g, x->w.seq)) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, guest_wait_idle(&x->g)) TH_LOG("%s", x->g.why);
	check_data(_metadata, &x->w, d, x->buf);
	run_batch(_metadata, x, 24, false);
	run_batch(_metadata, x, 24, true);
	check_data(_metadata, &x->w, d, x->buf);
}

/* -------------------------------------------------------------- streams */

/* Restore a good stream into @d and run it. */
static void restore_good(struct __test_metadata *_metadata, struct vdev *d,
			 const struct vdev_stream *s, uint32_t migrated)
{
	int ret, werr;

	ret = vdev_restore_stream(d, s->p, s->len, 4093, &werr);
	EXPECT_EQ(0, werr) TH_LOG("writing the stream: %s", strerror(-werr));
	ASSERT_EQ(0, ret) TH_LOG("%s: restore: %s", d->model, strerror(-ret));
	ASSERT_EQ(0, vdev_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(migrated, vdev_ctl(d, CTXMIG_CTL_MIGRATED));
}

static int precopy_info(int fd, uint64_t *initial, uint64_t *dirty)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };

	if (ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info))
		return -errno;
	*initial = info.initial_bytes;
	*dirty = info.dirty_bytes;
	return 0;
}

/* A data_fd whose transfer is over: read or write fails, never data. */
static void expect_dead_fd(struct __test_metadata *_metadata, int fd,
			   bool saving, const char *what)
{
	uint8_t b[64] = {};
	ssize_t n;

	n = saving ? read(fd, b, sizeof(b)) : write(fd, b, sizeof(b));
	EXPECT_EQ(-1, n) TH_LOG("%s: %s a dead data_fd gave %zd", what,
				saving ? "reading" : "writing", n);
}

/* -------------------------------------------------------------- fixture */

#define NDEV	3
#define NFD	4

FIXTURE(migration) {
	struct vdev dev[NDEV];
	int fd[NFD];		/* data_fds, closed before the devices */
	struct gw gw;
	struct vdev_stream s;
	void *map[NDEV];	/* BAR2 mappings, unmapped before removal */
	size_t map_len;
};

FIXTURE_SETUP(migration)
{
	int i;

	for (i = 0; i < NDEV; i++)
		vdev_init(&self->dev[i]);
	for (i = 0; i < NFD; i++)
		self->fd[i] = -1;
}

FIXTURE_TEARDOWN(migration)
{
	int i;

	for (i = 0; i < NFD; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	for (i = 0; i < NDEV; i++)
		if (self->map[i])
			munmap(self->map[i], self->map_len);
	gw_fini(&self->gw);
	for (i = 0; i < NDEV; i++)
		vdev_track_remove(&self->dev[i]);
	vdev_stream_free(&self->s);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void open_dev(struct __test_metadata *_metadata, struct vdev *d,
		     const char *model)
{
	int ret = vdev_track_new(d, model);

	ASSERT_EQ(0, ret) TH_LOG("%s: create/open: %s", model, strerror(-ret));
}

/* ---------------------------------------------------------- every arc */

static const uint32_t fsm_states[] = {
	VFIO_DEVICE_STATE_RUNNING,
	VFIO_DEVICE_STATE_STOP,
	VFIO_DEVICE_STATE_RUNNING_P2P,
	VFIO_DEVICE_STATE_STOP_COPY,
	VFIO_DEVICE_STATE_RESUMING,
	VFIO_DEVICE_STATE_PRE_COPY,
	VFIO_DEVICE_STATE_PRE_COPY_P2P,
};

static const char *state_name(uint32_t s)
{
	static const char * const names[] = {
		"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING",
		"RUNNING_P2P", "PRE_COPY", "PRE_COPY_P2P",
	};

	return s < ARRAY_SIZE(names) ? names[s] : "?";
}

static bool is_precopy(uint32_t s)
{
	return s == VFIO_DEVICE_STATE_PRE_COPY ||
	       s == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}

static bool opens_transfer(uint32_t s)
{
	return s == VFIO_DEVICE_STATE_STOP_COPY ||
	       s == VFIO_DEVICE_STATE_RESUMING || is_precopy(s);
}

/* The transfer open in @from goes on, on the same data_fd, in @to. */
static bool same_transfer(uint32_t from, uint32_t to)
{
	if (from == to)
		return opens_transfer(from);
	return is_precopy(from) &&
	       (is_precopy(to) || to == VFIO_DEVICE_STATE_STOP_COPY);
}

/* Arcs the VFIO FSM refuses (vfio_mig_get_next_state()): no path. */
static bool arc_blocked(uint32_t from, uint32_t to)
{
	return from == VFIO_DEVICE_STATE_STOP_COPY && is_precopy(to);
}

/*
 * Back to RUNNING from wherever the pair left the device: RESUMING can
 * only be left through a failed RESUMING -> STOP (nothing was written),
 * ERROR only by a reset.  Returns whether a reset happened.
 */
static bool arc_back_to_running(struct __test_metadata *_metadata,
				struct vdev *d, const char *pair)
{
	uint32_t st = dev_state(d);
	int ret, fd;

	if (st == VFIO_DEVICE_STATE_RESUMING) {
		ret = vdev_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL);
		EXPECT_NE(0, ret) TH_LOG("%s: leaving an empty RESUMING succeeded",
					 pair);
		st = dev_state(d);
		EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, st)
			TH_LOG("%s: %s after an aborted RESUMING", pair,
			       state_name(st));
	}
	if (st == VFIO_DEVICE_STATE_ERROR) {
		EXPECT_NE(0, vdev_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL))
			TH_LOG("%s: ERROR -> RUNNING without a reset", pair);
		EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, dev_state(d));
		EXPECT_EQ(0, vdev_reset(d));
		EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, dev_state(d))
			TH_LOG("%s: not RUNNING after the reset", pair);
		return true;
	}
	ret = vdev_set_state(d, VFIO_DEVICE_STATE_RUNNING, &fd);
	EXPECT_EQ(0, ret) TH_LOG("%s: back to RUNNING: %s", pair,
				 strerror(-ret));
	EXPECT_EQ(-1, fd);
	close_fd(&fd);
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, dev_state(d));
	return false;
}

TEST_F_TIMEOUT(migration, every_fsm_arc, 300)
{
	struct vdev *d = &self->dev[0];
	struct gw *x = &self->gw;
	int *sfd = &self->fd[0], *tfd = &self->fd[1];
	unsigned int i, j, arcs = 0, resets = 0;
	uint64_t flags;

	open_dev(_metadata, d, "intel-gen12");
	ASSERT_EQ(0, vdev_mig_flags(d, &flags));
	ASSERT_EQ(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
		  VFIO_MIGRATION_PRE_COPY, flags);
	gw_start(_metadata, x, d, 0x5eed0001);

	for (i = 0; i < ARRAY_SIZE(fsm_states); i++) {
		for (j = 0; j < ARRAY_SIZE(fsm_states); j++) {
			uint32_t from = fsm_states[i], to = fsm_states[j];
			bool want_fd = opens_transfer(to) &&
				       !same_transfer(from, to);
			uint32_t st;
			char pair[64];
			int ret;

			snprintf(pair, sizeof(pair), "%s -> %s",
				 state_name(from), state_name(to));
			ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, dev_state(d));

			/* The source state, from RUNNING. */
			ret = vdev_set_state(d, from, sfd);
			ASSERT_EQ(0, ret) TH_LOG("%s: RUNNING -> %s: %s", pair,
						 state_name(from),
						 strerror(-ret));
			ASSERT_EQ(from, dev_state(d));
			EXPECT_EQ(opens_transfer(from), *sfd >= 0)
				TH_LOG("%s: data_fd %d entering %s", pair, *sfd,
				       state_name(from));

			/* The arc, which the core may compose of several. */
			ret = vdev_set_state(d, to, tfd);
			st = dev_state(d);
			arcs++;
			if (arc_blocked(from, to)) {
				EXPECT_EQ(-EINVAL, ret) TH_LOG("%s: blocked arc: %s",
							       pair,
							       strerror(-ret));
				EXPECT_EQ(from, st) TH_LOG("%s: blocked arc left %s",
							   pair, state_name(st));
				EXPECT_EQ(-1, *tfd);
			} else if (from == VFIO_DEVICE_STATE_RESUMING &&
				   to != VFIO_DEVICE_STATE_RESUMING) {
				/* Via RESUMING -> STOP with nothing written. */
				EXPECT_NE(0, ret)
					TH_LOG("%s: an empty stream was accepted",
					       pair);
				EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, st)
					TH_LOG("%s: %s", pair, state_name(st));
				EXPECT_EQ(-1, *tfd);
			} else {
				EXPECT_EQ(0, ret) TH_LOG("%s: %s", pair,
							 strerror(-ret));
				EXPECT_EQ(to, st) TH_LOG("%s: got %s", pair,
							 state_name(st));
				EXPECT_EQ(want_fd, *tfd >= 0)
					TH_LOG("%s: data_fd %d", pair, *tfd);
			}
			if (*tfd >= 0) {
				int fl = fcntl(*tfd, F_GETFL);

				EXPECT_EQ(to == VFIO_DEVICE_STATE_RESUMING ?
					  O_WRONLY : O_RDONLY, fl & O_ACCMODE);
			}
			if (is_precopy(to) && *tfd >= 0) {
				uint64_t ini, dirty;

				EXPECT_EQ(0, precopy_info(*tfd, &ini, &dirty))
					TH_LOG("%s: PRECOPY_INFO", pair);
			}

			/* The old transfer goes on or is over. */
			if (*sfd >= 0 && same_transfer(from, st)) {
				uint64_t ini, dirty;

				if (is_precopy(st)) {
					EXPECT_EQ(0, precopy_info(*sfd, &ini,
								  &dirty))
						TH_LOG("%s: PRECOPY_INFO on the pre-copy fd",
						       pair);
				} else if (st == VFIO_DEVICE_STATE_STOP_COPY &&
					   is_precopy(from)) {
					struct vdev_stream s = {};

					EXPECT_EQ(0, vdev_stream_read_all(&s, *sfd))
						TH_LOG("%s: reading the pre-copy fd to EOF",
						       pair);
					EXPECT_LT(sizeof(struct ctxmig_ir_preamble),
						  s.len);
					vdev_stream_free(&s);
				}
			} else if (*sfd >= 0 && st != VFIO_DEVICE_STATE_ERROR) {
				expect_dead_fd(_metadata, *sfd,
					       from != VFIO_DEVICE_STATE_RESUMING,
					       pair);
			}

			if (arc_back_to_running(_metadata, d, pair)) {
				resets++;
				gw_attach(_metadata, x, d);
			}
			if (*sfd >= 0)
				expect_dead_fd(_metadata, *sfd,
					       from != VFIO_DEVICE_STATE_RESUMING,
					       pair);
			if (*tfd >= 0)
				expect_dead_fd(_metadata, *tfd,
					       to != VFIO_DEVICE_STATE_RESUMING,
					       pair);
			close_fd(sfd);
			close_fd(tfd);
			ASSERT_EQ(0, vdev_ctl(d, CTXMIG_CTL_MIGRATED));

			/* The workload still runs. */
			run_batch(_metadata, x, 6, j & 1);
		}
	}
	check_data(_metadata, &x->w, d, x->buf);
	TH_LOG("%u arcs, %u resets", arcs, resets);
}

/* ---------------------------------------------------------- pre-copy */

/*
 * Read a pre-copy fd until PRECOPY_INFO says nothing is left, then
 * check that read() says the same: -1/ENOMSG.
 */
static void precopy_drain(struct __test_metadata *_metadata, int fd,
			  struct vdev_stream *s, const char *phase)
{
	uint64_t ini = 0, dirty = 0, deadline = now_ms() + 60000;
	unsigned int reads = 0;
	ssize_t n;

	for (;;) {
		ASSERT_EQ(0, precopy_info(fd, &ini, &dirty));
		if (!ini && !dirty)
			break;
		n = vdev_stream_read(s, fd, 16384);
		ASSERT_LT(0, n) TH_LOG("%s: read %zd with initial %llu, dirty %llu",
				       phase, n, (unsigned long long)ini,
				       (unsigned long long)dirty);
		reads++;
		ASSERT_GT(deadline, now_ms())
			TH_LOG("%s: still initial %llu, dirty %llu after %u reads",
			       phase, (unsigned long long)ini,
			       (unsigned long long)dirty, reads);
	}
	n = vdev_stream_read(s, fd, 16384);
	EXPECT_EQ(-ENOMSG, n) TH_LOG("%s: read with nothing to send gave %zd",
				     phase, n);
	TH_LOG("%s: %u reads, %zu stream bytes so far", phase, reads, s->len);
}

TEST_F_TIMEOUT(migration, precopy_converges, 300)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	struct gw *x = &self->gw;
	int *pfd = &self->fd[0], *rfd = &self->fd[1], *fd = &self->fd[2];
	struct vdev_stream part = {};
	uint64_t ini = 0, dirty = 0, ini0 = 0, deadline;
	ssize_t n;

	open_dev(_metadata, src, "amd-gfx12");
	open_dev(_metadata, dst, "nv-hopper");
	gw_start(_metadata, x, src, 0x5eed0002);

	/* An aborted pre-copy: the source carries on, nothing lost. */
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_PRE_COPY, pfd));
	ASSERT_LE(0, *pfd);
	ASSERT_EQ(0, precopy_info(*pfd, &ini, &dirty));
	EXPECT_LT(0, ini);
	EXPECT_LT(0, vdev_stream_read(&part, *pfd, 4096));
	run_batch(_metadata, x, 16, false);
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_RUNNING, fd));
	EXPECT_EQ(-1, *fd);
	EXPECT_NE(0, precopy_info(*pfd, &ini, &dirty))
		TH_LOG("PRECOPY_INFO after PRE_COPY -> RUNNING succeeded");
	expect_dead_fd(_metadata, *pfd, true, "aborted pre-copy");
	close_fd(pfd);
	vdev_stream_free(&part);
	run_batch(_metadata, x, 16, true);
	check_data(_metadata, &x->w, src, x->buf);

	/* A stop-copy fd opened from STOP is no pre-copy fd. */
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP_COPY, fd));
	ASSERT_LE(0, *fd);
	EXPECT_EQ(-EINVAL, precopy_info(*fd, &ini, &dirty));
	close_fd(fd);
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_RUNNING, NULL));
	/* Nor is a resuming fd. */
	ASSERT_EQ(0, vdev_set_state(dst, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vdev_set_state(dst, VFIO_DEVICE_STATE_RESUMING, rfd));
	ASSERT_LE(0, *rfd);
	EXPECT_NE(0, precopy_info(*rfd, &ini, &dirty));
	close_fd(rfd);
	ASSERT_EQ(0, vdev_reset(dst));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, dev_state(dst));

	/* The real thing: the initial pass. */
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_PRE_COPY, pfd));
	ASSERT_LE(0, *pfd);
	ASSERT_EQ(0, precopy_info(*pfd, &ini0, &dirty));
	EXPECT_LE(SRC_LEN, ini0) TH_LOG("initial_bytes %llu at first",
					(unsigned long long)ini0);
	precopy_drain(_metadata, *pfd, &self->s, "initial pass");

	/* The guest writes: dirty bytes, then read back to none. */
	run_batch(_metadata, x, 40, false);
	deadline = now_ms() + POLL_MS;
	do {
		ASSERT_EQ(0, precopy_info(*pfd, &ini, &dirty));
	} while (!dirty && now_ms() < deadline);
	EXPECT_EQ(0, ini);
	EXPECT_LT(0, dirty) TH_LOG("no dirty bytes after the guest wrote");
	precopy_drain(_metadata, *pfd, &self->s, "dirty pass");

	/* More writes, left unread, then stop-copy through PRE_COPY_P2P. */
	run_batch(_metadata, x, 40, true);
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_PRE_COPY_P2P, fd));
	EXPECT_EQ(-1, *fd);
	close_fd(fd);
	EXPECT_EQ(0, precopy_info(*pfd, &ini, &dirty));
	EXPECT_LT(0, dirty);
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP_COPY, fd));
	EXPECT_EQ(-1, *fd) TH_LOG("PRE_COPY_P2P -> STOP_COPY opened a new fd");
	close_fd(fd);
	/* VFIO uAPI: PRECOPY_INFO is valid only in the PRE_COPY states. */
	EXPECT_EQ(-EINVAL, precopy_info(*pfd, &ini, &dirty))
		TH_LOG("PRECOPY_INFO in STOP_COPY: initial %llu, dirty %llu",
		       (unsigned long long)ini, (unsigned long long)dirty);
	n = vdev_stream_read_all(&self->s, *pfd);
	ASSERT_EQ(0, n) TH_LOG("reading to EOF: %s", strerror(-n));
	close_fd(pfd);
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP, NULL));
	TH_LOG("%s: %zu stream bytes, %llu initial", src->model, self->s.len,
	       (unsigned long long)ini0);

	/* Restored into another model, the guest carries on there. */
	restore_good(_metadata, dst, &self->s, 1);
	EXPECT_EQ(CTXMIG_MODEL_NV_HOPPER, vdev_ctl(dst, CTXMIG_CTL_MODEL));
	gw_moved(_metadata, x, dst);
}

/* A byte written through a mapping and into the expected image. */
static void poke(uint8_t *map, uint8_t *want, size_t at, uint8_t val)
{
	want[at] = val;
	map[at] = val;
}

/*
 * Writes through a BAR2 mapping are tracked like the engine's: a page
 * written after pre-copy sent it is dirty again (the mapping was
 * write-protected when it was sent), and the target ends up with the
 * last bytes.  The device is idle, so the dirty bytes are exactly the
 * pages written, each in a VRAM record of its own.
 */
TEST_F_TIMEOUT(migration, precopy_tracks_mmap_writes, 180)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	int *pfd = &self->fd[0], *fd = &self->fd[1];
	const size_t page = 4096, len = 16 * page;
	const size_t rec = page + sizeof(struct ctxmig_ir_rec) +
			   sizeof(struct ctxmig_ir_vram);
	const uint64_t at = GUEST_DATA_VRAM;
	uint64_t ini = 0, dirty = 0, i;
	uint8_t *want, *map, *got;
	ssize_t n;

	open_dev(_metadata, src, "amd-gfx9");
	open_dev(_metadata, dst, "nv-ampere");
	self->gw.buf = malloc(2 * len);
	want = self->gw.buf;
	ASSERT_NE(NULL, want);
	got = want + len;
	self->map_len = len;
	self->map[0] = vdev_vram_mmap(src, at, len);
	ASSERT_NE(NULL, self->map[0]) TH_LOG("mmap: %s", strerror(errno));
	map = self->map[0];
	for (i = 0; i < len; i++)
		want[i] = (uint8_t)(i * 13 + 1);
	memcpy(map, want, len);
	ASSERT_EQ(0, vdev_vram_read(src, at, got, len));
	ASSERT_EQ(0, memcmp(got, want, len));

	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_PRE_COPY, pfd));
	ASSERT_LE(0, *pfd);
	precopy_drain(_metadata, *pfd, &self->s, "initial pass");

	/* Two sent pages written through the mapping, one through BAR2. */
	poke(map, want, 3 * page + 5, 0xa5);
	poke(map, want, 9 * page, 0x5a);
	want[5 * page + 100] = 0x33;
	ASSERT_EQ(0, vdev_vram_write(src, at + 5 * page + 100,
				     &want[5 * page + 100], 1));
	ASSERT_EQ(0, precopy_info(*pfd, &ini, &dirty));
	EXPECT_EQ(0, ini);
	EXPECT_EQ(3 * rec, dirty);
	precopy_drain(_metadata, *pfd, &self->s, "first dirty pass");

	/* Sent again, so write-protected again: the next write is seen. */
	poke(map, want, 3 * page + 6, 0xc3);
	ASSERT_EQ(0, precopy_info(*pfd, &ini, &dirty));
	EXPECT_EQ(rec, dirty);
	precopy_drain(_metadata, *pfd, &self->s, "second dirty pass");

	/* Written and never sent in pre-copy: stop-copy carries it. */
	poke(map, want, 12 * page + 7, 0x7e);
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP_COPY, fd));
	EXPECT_EQ(-1, *fd);
	close_fd(fd);
	n = vdev_stream_read_all(&self->s, *pfd);
	ASSERT_EQ(0, n) TH_LOG("reading to EOF: %s", strerror(-n));
	close_fd(pfd);
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP, NULL));

	restore_good(_metadata, dst, &self->s, 1);
	ASSERT_EQ(0, vdev_vram_read(dst, at, got, len));
	for (i = 0; i < len && got[i] == want[i]; i++)
		;
	EXPECT_EQ(len, i) TH_LOG("target differs at +0x%llx: 0x%02x, not 0x%02x",
				 (unsigned long long)i, got[i], want[i]);
	self->map[1] = vdev_vram_mmap(dst, at, len);
	ASSERT_NE(NULL, self->map[1]) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(self->map[1], want, len));
	/* The source, back to RUNNING, still shows its mapping's bytes. */
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(0, memcmp(map, want, len));
}

/* Write a value to one of @d's ctxmig sysfs controls. */
static int ctl_set(struct vdev *d, const char *attr, unsigned int val)
{
	char path[160];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/ctxmig/%s",
		 d->uuid, attr);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fprintf(f, "%u", val) < 0 ? -EIO : 0;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/* The first COPY command record of a stream, or NULL. */
static const struct ctxmig_ir_cmd *first_copy(const struct vdev_stream *s)
{
	const struct ctxmig_ir_preamble *pre = (const void *)s->p;
	size_t off;

	if (s->len < sizeof(*pre))
		return NULL;
	for (off = le32toh(pre->preamble_len);
	     off + sizeof(struct ctxmig_ir_rec) <= s->len;) {
		const struct ctxmig_ir_rec *r = (const void *)(s->p + off);
		size_t len = le32toh(r->len);

		const struct ctxmig_ir_cmd *c = (const void *)(r + 1);

		if (le16toh(r->type) == CTXMIG_IR_CMD &&
		    len >= sizeof(*c) && off + sizeof(*r) + len <= s->len &&
		    c->op == CTXMIG_OP_COPY)
			return c;
		off += sizeof(*r) + ((len + 7) & ~(size_t)7);
	}
	return NULL;
}

/*
 * The engine, slowed to one step per 10 ms, is stopped while a copy of
 * almost half the data mapping (eight 64 KiB steps) runs: the stream's
 * first copy is what is left of it, and another model finishes it.  The
 * source is NVIDIA-style, whose copy is one native command of any length
 * (inside a GPFIFO buffer).  Under TCG the STOP may come too early or too
 * late; the copy is then repeated, a few times at most.
 */
TEST_F_TIMEOUT(migration, stop_inside_long_copy, 240)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	struct gw *x = &self->gw;
	const uint64_t len = HALF - SRC_OFF;
	const struct ctxmig_ir_cmd *c = NULL;
	struct guest_cmd copy[2] = {
		{ .op = CTXMIG_OP_COPY, .src = GUEST_DATA_VA + SRC_OFF,
		  .dst = GUEST_DATA_VA + HALF, .value = len },
		{ .op = CTXMIG_OP_FENCE, .dst = GUEST_DATA_VA + FENCE_OFF,
		  .flags = CTXMIG_CMD_IRQ },
	};
	uint64_t left = 0, deadline;
	unsigned int tries;
	uint8_t probe[16];
	int ret;

	open_dev(_metadata, src, "nv-ampere");
	open_dev(_metadata, dst, "intel-gen12");
	gw_start(_metadata, x, src, 0x5eed0007);
	ASSERT_EQ(0, ctl_set(src, "throttle", 1));

	for (tries = 0; tries < 4 && !c; tries++) {
		/* Each try copies other bytes, so progress is visible. */
		x->w.ref[SRC_OFF] = tries + 1;
		ASSERT_EQ(0, vdev_vram_write(src, GUEST_DATA_VRAM + SRC_OFF,
					     &x->w.ref[SRC_OFF], 1));
		copy[1].value = ++x->w.seq;
		wl_apply(&x->w, &copy[0]);
		wl_apply(&x->w, &copy[1]);
		ASSERT_EQ(0, guest_submit(&x->g, copy, 2, false))
			TH_LOG("%s", x->g.why);
		/* The first step has written the new first byte: stop. */
		deadline = now_ms() + POLL_MS;
		do {
			ASSERT_EQ(0, vdev_vram_read(src, GUEST_DATA_VRAM + HALF,
						    probe, sizeof(probe)));
			ASSERT_GT(deadline, now_ms()) TH_LOG("the copy never ran");
		} while (probe[0] != tries + 1);
		vdev_stream_free(&self->s);
		ret = vdev_save_stopped(src, &self->s);
		ASSERT_EQ(0, ret) TH_LOG("saving: %s", strerror(-ret));
		c = first_copy(&self->s);
		if (c && (c->op != CTXMIG_OP_COPY ||
			  le64toh(c->value) >= len))
			c = NULL;
		if (!c) {
			/* Too late: let it finish and try again. */
			ASSERT_EQ(0, vdev_set_state(src,
						    VFIO_DEVICE_STATE_RUNNING,
						    NULL));
			ASSERT_EQ(0, guest_wait_fence(&x->g, x->w.seq))
				TH_LOG("%s", x->g.why);
		}
	}
	ASSERT_NE(NULL, c) TH_LOG("STOP never landed inside the copy");
	left = le64toh(c->value);
	TH_LOG("stopped with %llu of %llu bytes left after %u tries",
	       (unsigned long long)left, (unsigned long long)len, tries);
	EXPECT_EQ(0, (len - left) % (64 * 1024));
	EXPECT_EQ(GUEST_DATA_VA + SRC_OFF + len - left, le64toh(c->src));
	EXPECT_EQ(GUEST_DATA_VA + HALF + len - left, le64toh(c->dst));
	ASSERT_EQ(0, ctl_set(src, "throttle", 0));

	/* Another model finishes the copy; the guest checks every byte. */
	restore_good(_metadata, dst, &self->s, 1);
	gw_moved(_metadata, x, dst);
}

/* Write @val at GPU VA @va, copy @len bytes, then a fence; submitted. */
static void sys_cmds(struct __test_metadata *_metadata, struct gw *x,
		     uint64_t va, uint64_t val, uint64_t src, uint64_t dst,
		     uint64_t len)
{
	struct guest_cmd c[3] = {
		{ .op = CTXMIG_OP_WRITE64, .dst = va, .value = val },
		{ .op = CTXMIG_OP_COPY, .src = src, .dst = dst, .value = len },
		{ .op = CTXMIG_OP_FENCE, .dst = GUEST_DATA_VA + FENCE_OFF },
	};

	c[2].value = ++x->w.seq;
	wl_apply(&x->w, &c[2]);
	ASSERT_EQ(0, guest_submit(&x->g, c, 3, false)) TH_LOG("%s", x->g.why);
}

/*
 * The guest maps some of its RAM (here: this process's memory at an
 * IOVA, through each device's container, as a VMM maps guest RAM for
 * both ends of a migration) into its GPU VA space.  After a migration to
 * another model the mapping still reaches it: commands left pending at
 * the stop and new commands on the target write and copy there.
 */
TEST_F_TIMEOUT(migration, system_memory_moves, 180)
{
	const uint64_t iova = 0x40000000ULL, va = 0x20000000ULL;
	const size_t size = 0x10000;
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	struct gw *x = &self->gw;
	uint64_t v;
	uint8_t *sys;
	size_t i;
	int ret;

	open_dev(_metadata, src, "intel-gen12");
	open_dev(_metadata, dst, "amd-gfx9");
	sys = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sys);
	for (i = 0; i < size; i++)
		sys[i] = i * 3 + 1;
	ASSERT_EQ(0, vdev_map_dma(src, sys, iova, size));
	ASSERT_EQ(0, vdev_map_dma(dst, sys, iova, size));
	gw_start(_metadata, x, src, 0x5eed0008);
	ASSERT_EQ(0, guest_map_sysmem(&x->g, va, iova, size))
		TH_LOG("%s", x->g.why);

	/* On the source. */
	sys_cmds(_metadata, x, va + 0x100, 0x1111222233334444ULL,
		 va + 0x1000, va + 0x8000, 3000);
	ASSERT_EQ(0, guest_wait_fence(&x->g, x->w.seq)) TH_LOG("%s", x->g.why);
	memcpy(&v, sys + 0x100, 8);
	EXPECT_EQ(0x1111222233334444ULL, v);
	EXPECT_EQ(0, memcmp(sys + 0x8000, sys + 0x1000, 3000));

	/* Submitted, then stopped at once: may be left pending. */
	sys_cmds(_metadata, x, va + 0x200, 0x5555666677778888ULL,
		 va + 0x2000, va + 0xa000, 5000);
	ret = vdev_save_stopped(src, &self->s);
	ASSERT_EQ(0, ret) TH_LOG("saving: %s", strerror(-ret));
	TH_LOG("stopped at fence %llu of %llu",
	       (unsigned long long)guest_fence(&x->g),
	       (unsigned long long)x->w.seq);

	/* On the target: what was pending, then new commands. */
	restore_good(_metadata, dst, &self->s, 1);
	gw_moved(_metadata, x, dst);
	memcpy(&v, sys + 0x200, 8);
	EXPECT_EQ(0x5555666677778888ULL, v);
	EXPECT_EQ(0, memcmp(sys + 0xa000, sys + 0x2000, 5000));
	sys_cmds(_metadata, x, va + 0x300, 0x99990000aaaabbbbULL,
		 va + 0x3000, va + 0xc000, 4096);
	ASSERT_EQ(0, guest_wait_fence(&x->g, x->w.seq)) TH_LOG("%s", x->g.why);
	memcpy(&v, sys + 0x300, 8);
	EXPECT_EQ(0x99990000aaaabbbbULL, v);
	EXPECT_EQ(0, memcmp(sys + 0xc000, sys + 0x3000, 4096));
	munmap(sys, size);
}

/* ------------------------------------------------- closed mid-transfer */

TEST_F_TIMEOUT(migration, datafd_closed_mid_transfer, 180)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	struct gw *x = &self->gw;
	int *fd = &self->fd[0];
	struct vdev_stream part = {};
	int ret, werr;

	open_dev(_metadata, src, "nv-ampere");
	open_dev(_metadata, dst, "amd-gfx9");
	gw_start(_metadata, x, src, 0x5eed0003);

	/* Source: half read, closed, STOP, RUNNING: it works. */
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP_COPY, fd));
	ASSERT_LE(0, *fd);
	ASSERT_LT(0, vdev_stream_read(&part, *fd, 5000));
	close_fd(fd);
	vdev_stream_free(&part);
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_RUNNING, NULL));
	run_batch(_metadata, x, 24, false);
	run_batch(_metadata, x, 24, true);
	check_data(_metadata, &x->w, src, x->buf);

	/* A whole stream, for the target. */
	ret = vdev_save_stopped(src, &self->s);
	ASSERT_EQ(0, ret) TH_LOG("saving: %s", strerror(-ret));

	/* Target: half written, closed: RESUMING -> STOP fails, ERROR. */
	ASSERT_EQ(0, vdev_set_state(dst, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vdev_set_state(dst, VFIO_DEVICE_STATE_RESUMING, fd));
	ASSERT_LE(0, *fd);
	ASSERT_EQ(0, vdev_write_stream(*fd, self->s.p, self->s.len / 2, 777));
	close_fd(fd);
	EXPECT_NE(0, vdev_set_state(dst, VFIO_DEVICE_STATE_STOP, NULL));
	EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, dev_state(dst));
	EXPECT_NE(0, vdev_set_state(dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, vdev_reset(dst));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, dev_state(dst));
	EXPECT_EQ(0, vdev_ctl(dst, CTXMIG_CTL_MIGRATED));

	/* A whole stream then restores. */
	ret = vdev_restore_stream(dst, self->s.p, self->s.len, 0, &werr);
	EXPECT_EQ(0, werr);
	ASSERT_EQ(0, ret) TH_LOG("restore after the closed one: %s",
				 strerror(-ret));
	ASSERT_EQ(0, vdev_set_state(dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(1, vdev_ctl(dst, CTXMIG_CTL_MIGRATED));
	gw_moved(_metadata, x, dst);
}

/* ---------------------------------------------------- reset mid-transfer */

/*
 * @d was reset: registers and engine, not VRAM.  A new guest driver of
 * it, with a copy of @x's workload, finds the data and carries on.
 */
static void resume_after_reset(struct __test_metadata *_metadata,
			       struct gw *x, struct vdev *d)
{
	struct gw y = {};

	y.buf = malloc(GUEST_DATA_SIZE);
	y.w = x->w;
	y.w.ref = malloc(GUEST_DATA_SIZE);
	if (y.buf && y.w.ref) {
		memcpy(y.w.ref, x->w.ref, GUEST_DATA_SIZE);
		gw_attach(_metadata, &y, d);
		check_data(_metadata, &y.w, d, y.buf);
		run_batch(_metadata, &y, 24, false);
		check_data(_metadata, &y.w, d, y.buf);
	}
	EXPECT_TRUE(y.buf && y.w.ref);
	gw_fini(&y);
}

TEST_F_TIMEOUT(migration, reset_mid_migration, 180)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	struct gw *x = &self->gw;
	int *fd = &self->fd[0];
	struct vdev_stream part = {};
	int ret;

	open_dev(_metadata, src, "amd-gfx9");
	open_dev(_metadata, dst, "intel-gen12");
	gw_start(_metadata, x, src, 0x5eed0004);
	ret = vdev_save_stopped(src, &self->s);
	ASSERT_EQ(0, ret) TH_LOG("saving: %s", strerror(-ret));

	/* Source: reset in STOP_COPY with the fd half read. */
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP_COPY, fd));
	ASSERT_LE(0, *fd);
	ASSERT_LT(0, vdev_stream_read(&part, *fd, self->s.len / 2));
	vdev_stream_free(&part);
	ASSERT_EQ(0, vdev_reset(src));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, dev_state(src));
	expect_dead_fd(_metadata, *fd, true, "saving fd after a reset");
	close_fd(fd);
	EXPECT_EQ(0, vdev_ctl(src, CTXMIG_CTL_MIGRATED));
	resume_after_reset(_metadata, x, src);

	/* Target: reset in RESUMING with half a stream written. */
	ASSERT_EQ(0, vdev_set_state(dst, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vdev_set_state(dst, VFIO_DEVICE_STATE_RESUMING, fd));
	ASSERT_LE(0, *fd);
	ASSERT_EQ(0, vdev_write_stream(*fd, self->s.p, self->s.len / 2, 0));
	ASSERT_EQ(0, vdev_reset(dst));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, dev_state(dst));
	expect_dead_fd(_metadata, *fd, false, "resuming fd after a reset");
	close_fd(fd);
	EXPECT_EQ(0, vdev_ctl(dst, CTXMIG_CTL_MIGRATED));

	/* And the whole stream restores. */
	restore_good(_metadata, dst, &self->s, 1);
	gw_moved(_metadata, x, dst);
}

/* ---------------------------------------------------- removed mid-transfer */

TEST_F_TIMEOUT(migration, remove_mid_migration, 180)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	struct vdev *dst2 = &self->dev[2];
	struct gw *x = &self->gw;
	int *sfd = &self->fd[0], *rfd = &self->fd[1];
	struct vdev_stream part = {};
	uint64_t ini = 0, dirty = 0, t0;
	int ret;

	open_dev(_metadata, src, "nv-hopper");
	open_dev(_metadata, dst, "amd-gfx12");
	gw_start(_metadata, x, src, 0x5eed0005);
	ret = vdev_save_stopped(src, &self->s);
	ASSERT_EQ(0, ret) TH_LOG("saving: %s", strerror(-ret));

	/* A saving fd half read, a resuming fd half written. */
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP_COPY, sfd));
	ASSERT_LE(0, *sfd);
	ASSERT_LT(0, vdev_stream_read(&part, *sfd, self->s.len / 2));
	vdev_stream_free(&part);
	ASSERT_EQ(0, vdev_set_state(dst, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vdev_set_state(dst, VFIO_DEVICE_STATE_RESUMING, rfd));
	ASSERT_LE(0, *rfd);
	ASSERT_EQ(0, vdev_write_stream(*rfd, self->s.p, self->s.len / 2, 0));

	/*
	 * Removal waits for the device fd to close; the data_fds stay open
	 * across it and must not keep it waiting.
	 */
	t0 = now_ms();
	ret = vdev_track_remove(src);
	ASSERT_EQ(0, ret) TH_LOG("removing %s: %s", src->model, strerror(-ret));
	ret = vdev_track_remove(dst);
	ASSERT_EQ(0, ret) TH_LOG("removing %s: %s", dst->model, strerror(-ret));
	TH_LOG("both removed in %llu ms", (unsigned long long)(now_ms() - t0));

	/* The stale fds fail cleanly. */
	expect_dead_fd(_metadata, *sfd, true, "saving fd of a removed device");
	expect_dead_fd(_metadata, *sfd, true, "saving fd of a removed device");
	EXPECT_NE(0, precopy_info(*sfd, &ini, &dirty));
	expect_dead_fd(_metadata, *rfd, false,
		       "resuming fd of a removed device");
	close_fd(sfd);
	close_fd(rfd);

	/* A new instance of the removed type migrates normally. */
	open_dev(_metadata, dst2, "amd-gfx12");
	restore_good(_metadata, dst2, &self->s, 1);
	gw_moved(_metadata, x, dst2);
}

/* ------------------------------------------------------ hostile lengths */

static uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = data;

	if (!table[1]) {
		unsigned int i, k;

		for (i = 0; i < 256; i++) {
			uint32_t c = i;

			for (k = 0; k < 8; k++)
				c = (c >> 1) ^ (c & 1 ? 0x82f63b78U : 0);
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = (crc >> 8) ^ table[(crc ^ *p++) & 0xff];
	return ~crc;
}

struct rec_at {
	size_t off;		/* of the header */
	uint16_t type;
	uint32_t len;
};

#define MAX_RECS	4096

/* The top-level records of a good stream; returns how many. */
static int top_records(const uint8_t *s, size_t len, struct rec_at *r)
{
	const struct ctxmig_ir_preamble *p = (const void *)s;
	size_t off = le32toh(p->preamble_len);
	int n = 0;

	while (off + sizeof(struct ctxmig_ir_rec) <= len && n < MAX_RECS) {
		const struct ctxmig_ir_rec *h = (const void *)(s + off);

		r[n].off = off;
		r[n].type = le16toh(h->type);
		r[n].len = le32toh(h->len);
		off += sizeof(*h) + ((r[n].len + 7) & ~7UL);
		n++;
	}
	return n;
}

/* Make a stream's END record agree with what precedes it. */
static void fix_end(uint8_t *s, size_t len)
{
	static struct rec_at r[MAX_RECS];
	int n = top_records(s, len, r);
	struct ctxmig_ir_end end;
	uint8_t *at;

	if (!n || r[n - 1].type != CTXMIG_IR_END)
		return;
	at = s + r[n - 1].off + sizeof(struct ctxmig_ir_rec);
	memcpy(&end, at, sizeof(end));
	end.crc32c = htole32(crc32c(0, s, at - s));
	end.records = htole64(n - 1);
	memcpy(at, &end, sizeof(end));
}

static void set_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

/* A refused stream leaves @d in ERROR; a reset brings it back. */
static bool refused(struct __test_metadata *_metadata, struct vdev *d,
		    const uint8_t *s, size_t len, size_t chunk,
		    const char *what)
{
	int ret, werr;
	uint32_t st;

	ret = vdev_restore_stream(d, s, len, chunk, &werr);
	st = dev_state(d);
	EXPECT_NE(0, ret) TH_LOG("%s: accepted (write: %d)", what, werr);
	if (ret) {
		EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, st)
			TH_LOG("%s: %s after the refusal", what, state_name(st));
	}
	EXPECT_EQ(0, vdev_reset(d));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, dev_state(d));
	return ret != 0;
}

/*
 * Hand-made hostile lengths at fixed places.  Seeded mutations of every
 * model's streams (bit flips, truncations, splices, length edits,
 * reordering, duplication, huge lengths; raw and CRC-repaired) are
 * ctxmig_mutation_test's.
 */
TEST_F_TIMEOUT(migration, hostile_lengths, 300)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	static struct rec_at r[MAX_RECS];
	struct ctxmig_ir_preamble pre;
	struct gw *x = &self->gw;
	uint8_t *bad = NULL;
	size_t vram_at = 0, badlen;
	unsigned int i;
	int n, ret;

	open_dev(_metadata, src, "intel-gen12");
	open_dev(_metadata, dst, "nv-ampere");
	gw_start(_metadata, x, src, 0x5eed0006);
	ret = vdev_save_stopped(src, &self->s);
	ASSERT_EQ(0, ret) TH_LOG("saving: %s", strerror(-ret));
	ASSERT_LT(sizeof(pre), self->s.len);
	memcpy(&pre, self->s.p, sizeof(pre));

	n = top_records(self->s.p, self->s.len, r);
	ASSERT_LT(2, n);
	ASSERT_EQ(CTXMIG_IR_DEVICE, r[0].type);
	ASSERT_EQ(CTXMIG_IR_END, r[n - 1].type);
	ASSERT_EQ(self->s.len, r[n - 1].off + 8 + ((r[n - 1].len + 7) & ~7UL));
	for (i = 0; i < (unsigned int)n && !vram_at; i++)
		if (r[i].type == CTXMIG_IR_VRAM)
			vram_at = r[i].off;
	ASSERT_NE(0, vram_at);
	/* Room for the largest variant: a 64 KiB + 1 record more. */
	bad = malloc(self->s.len + 2 * CTXMIG_IR_VRAM_CHUNK_MAX);
	ASSERT_NE(NULL, bad);

	/* The first record (DEVICE) claims 4 GiB. */
	memcpy(bad, self->s.p, self->s.len);
	set_le32(bad + r[0].off + 4, 0xffffffff);
	fix_end(bad, self->s.len);
	refused(_metadata, dst, bad, self->s.len, 4093, "DEVICE of 0xffffffff");

	/* Its first nested record claims 4 GiB. */
	memcpy(bad, self->s.p, self->s.len);
	set_le32(bad + r[0].off + 8 + 4, 0xffffffff);
	refused(_metadata, dst, bad, self->s.len, 0, "nested of 0xffffffff");

	/* A VRAM record claims 4 GiB, with or without the CRC fixed. */
	memcpy(bad, self->s.p, self->s.len);
	set_le32(bad + vram_at + 4, 0xffffffff);
	refused(_metadata, dst, bad, self->s.len, 0, "VRAM of 0xffffffff");
	fix_end(bad, self->s.len);
	refused(_metadata, dst, bad, self->s.len, 65536,
		"VRAM of 0xffffffff, END fixed");

	/* A VRAM record of 64 KiB + 1 bytes, consistent, CRC right. */
	{
		struct ctxmig_ir_rec h = {
			.type = htole16(CTXMIG_IR_VRAM),
			.len = htole32(sizeof(struct ctxmig_ir_vram) +
				       CTXMIG_IR_VRAM_CHUNK_MAX + 1),
		};
		struct ctxmig_ir_vram v = {
			.offset = htole64(GUEST_DATA_VRAM),
			.length = htole64(CTXMIG_IR_VRAM_CHUNK_MAX + 1),
		};
		size_t body = sizeof(v) + CTXMIG_IR_VRAM_CHUNK_MAX + 1;
		size_t rec = sizeof(h) + ((body + 7) & ~7UL);

		memcpy(&h.flags, self->s.p + vram_at + 2, 2);
		memcpy(bad, self->s.p, vram_at);
		memcpy(bad + vram_at, &h, sizeof(h));
		memcpy(bad + vram_at + sizeof(h), &v, sizeof(v));
		memset(bad + vram_at + sizeof(h) + sizeof(v), 0x5a,
		       CTXMIG_IR_VRAM_CHUNK_MAX + 1);
		memset(bad + vram_at + sizeof(h) + body, 0, rec - sizeof(h) -
		       body);
		memcpy(bad + vram_at + rec, self->s.p + vram_at,
		       self->s.len - vram_at);
		badlen = self->s.len + rec;
		fix_end(bad, badlen);
		refused(_metadata, dst, bad, badlen, 4093, "VRAM of 64 KiB + 1");
	}

	/* A VRAM header claiming 64 KiB + 1 in a record of the old size. */
	memcpy(bad, self->s.p, self->s.len);
	{
		uint64_t l = htole64(CTXMIG_IR_VRAM_CHUNK_MAX + 1);

		memcpy(bad + vram_at + 8 + 8, &l, 8);
	}
	fix_end(bad, self->s.len);
	refused(_metadata, dst, bad, self->s.len, 0,
		"VRAM length 64 KiB + 1 in a smaller record");

	/* The last record before END crosses the end of the stream. */
	memcpy(bad, self->s.p, self->s.len);
	set_le32(bad + r[n - 2].off + 4,
		 self->s.len - r[n - 2].off - 8 + 64);
	refused(_metadata, dst, bad, self->s.len, 0,
		"record crossing the end");
	/* END itself crosses it. */
	memcpy(bad, self->s.p, self->s.len);
	set_le32(bad + r[n - 1].off + 4, 4096);
	refused(_metadata, dst, bad, self->s.len, 0, "END crossing the end");

	/* A 2 GiB preamble, its CRC right. */
	memcpy(bad, self->s.p, self->s.len);
	pre.preamble_len = htole32(1U << 31);
	pre.preamble_crc = htole32(crc32c(0, &pre,
					  offsetof(struct ctxmig_ir_preamble,
						   preamble_crc)));
	memcpy(bad, &pre, sizeof(pre));
	refused(_metadata, dst, bad, self->s.len, 0, "preamble_len 2^31");
	free(bad);
	bad = NULL;

	/* The target recovers: the good stream restores. */
	restore_good(_metadata, dst, &self->s, 1);
	gw_moved(_metadata, x, dst);
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	vdev_track_init();
	/* Exits through ksft_exit(). */
	return test_harness_run(argc, argv);
}
