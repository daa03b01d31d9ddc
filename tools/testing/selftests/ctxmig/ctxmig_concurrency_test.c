// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig: migrations and state changes racing each other.
 *
 *  concurrency.many_pairs       every instance the parent allows
 *                               (available_instances, 16 in all) as
 *                               source/destination pairs of different
 *                               models, each pair migrated live by its
 *                               own thread at the same time (pre-copy
 *                               rounds, then stop-copy), every guest
 *                               finishing its workload on its target
 *  concurrency.racing_arcs      two threads setting random migration
 *                               states on one device: every ioctl
 *                               succeeds or fails with a sane errno, no
 *                               hang; the device then resets and runs
 *                               with its VRAM intact
 *  concurrency.close_during_read
 *                               a saving data_fd closed, or its device
 *                               stopped, while another thread is inside
 *                               read() on it, many times: the bytes read
 *                               are a prefix of the stream, then EOF or
 *                               an errno; one time in four between two
 *                               reads for certain, then exactly EBADF
 *                               (closed) or ENODEV (stopped)
 *  concurrency.reset_during_write
 *                               VFIO_DEVICE_RESET while another thread
 *                               writes a stream into the resuming
 *                               data_fd: RUNNING, nothing applied, the fd
 *                               dead (every other time between two writes
 *                               for certain: the next write gets ENODEV),
 *                               then a whole stream restores
 *  concurrency.remove_during_transfer
 *                               the source, then a destination, removed
 *                               through sysfs while a thread pumps the
 *                               stream between them: the removal waits
 *                               for the device fd only, the transfer
 *                               fails cleanly, nothing is lost, and new
 *                               instances migrate
 *
 * Threads never use the harness's ASSERT (it longjmps): they record what
 * went wrong, and the test thread asserts on that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/ctxmig.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "guest.h"
#include "workload.h"

#define NMODELS		5
#define MDEV_TYPES	"/sys/class/mdev_bus/ctxmig/mdev_supported_types"

static const char * const models[NMODELS] = {
	"amd-gfx9", "amd-gfx12", "intel-gen12", "nv-ampere", "nv-hopper",
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t state_of(struct vdev *d)
{
	uint32_t st;

	return vdev_get_state(d, &st) ? ~0U : st;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* Wait until *@p reaches @want or *@done, up to 10 s. */
static void wait_progress(size_t *p, size_t want, bool *done)
{
	uint64_t end = now_ms() + 10000;

	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < want &&
	       !(done && __atomic_load_n(done, __ATOMIC_ACQUIRE)) &&
	       now_ms() < end)
		;
}

/*
 * A worker told to pause before its call number @pause_at (counting
 * from 0) says so in @paused and waits for @resume: the main thread then
 * acts between two calls, for certain, where the other iterations leave
 * the timing to chance.
 */
struct pause {
	size_t at;		/* 0: never */
	bool paused;
	bool resume;
};

static void pause_point(struct pause *p, size_t calls);
static bool pause_wait(struct pause *p, bool *done);

static void set_flag(bool *f)
{
	__atomic_store_n(f, true, __ATOMIC_RELEASE);
}

static bool flag(bool *f)
{
	return __atomic_load_n(f, __ATOMIC_ACQUIRE);
}

/* What a thread saw go wrong: the first failure, and how many. */
struct verdict {
	unsigned int failures;
	char why[256];
};

__printf(2, 3)
static void vfail(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (__sync_fetch_and_add(&v->failures, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

/* --------------------------------------------- a guest and its workload */

struct gw {
	struct vdev *d;
	struct guest g;
	bool have;
	struct workload w;
	uint8_t *got;
};

static void gw_fini(struct gw *x)
{
	if (x->have)
		guest_fini(&x->g);
	x->have = false;
	wl_free(&x->w);
	free(x->got);
	x->got = NULL;
}

/* Every byte of the data mapping as the workload says; 0 or -errno. */
static int gw_check(struct gw *x, struct verdict *v, const char *what)
{
	int64_t at;
	int err;

	at = wl_check(&x->w, x->d, x->got, &err);
	if (err) {
		vfail(v, "%s: %s: reading BAR2: %d", what, x->d->model, err);
		return err;
	}
	if (at >= 0) {
		vfail(v, "%s: %s: data differs at +0x%llx: 0x%02x, expected 0x%02x",
		      what, x->d->model, (unsigned long long)at, x->got[at],
		      x->w.ref[at]);
		return -EIO;
	}
	return 0;
}

/* Submit @n random commands and wait for them; 0 or -errno. */
static int gw_batch(struct gw *x, unsigned int n, bool ib, struct verdict *v,
		    const char *what)
{
	int ret = wl_run_batch(&x->w, &x->g, n < 32 ? n : 32, ib);

	if (ret)
		vfail(v, "%s: %s: %s", what, x->d->model, x->g.why);
	return ret;
}

/* A guest on @d (its registers as they are), page tables and ring. */
static int gw_attach(struct gw *x, struct vdev *d, struct verdict *v,
		     const char *what)
{
	int ret;

	if (x->have)
		guest_fini(&x->g);
	x->d = d;
	ret = guest_init(&x->g, d);
	x->have = !ret || x->g.shadow;
	ret = ret ?: guest_setup(&x->g);
	if (ret)
		vfail(v, "%s: %s: %s", what, d->model, x->g.why);
	return ret;
}

/* Guest up on @d, the pattern, two batches run and checked. */
static int gw_start(struct gw *x, struct vdev *d, uint64_t seed,
		    struct verdict *v, const char *what)
{
	int ret;

	x->got = malloc(GUEST_DATA_SIZE);
	if (!x->got || wl_init(&x->w, seed)) {
		vfail(v, "%s: out of memory", what);
		return -ENOMEM;
	}
	ret = gw_attach(x, d, v, what);
	ret = ret ?: wl_fill(&x->w, d);
	ret = ret ?: gw_batch(x, 20, false, v, what);
	ret = ret ?: gw_batch(x, 20, true, v, what);
	return ret ?: gw_check(x, v, what);
}

/* The guest, moved to @d by a restore, carries on there. */
static int gw_moved(struct gw *x, struct vdev *d, struct verdict *v,
		    const char *what)
{
	int ret;

	x->d = d;
	x->g.dev = d;
	ret = guest_recover(&x->g);
	ret = ret ?: guest_wait_fence(&x->g, x->w.seq);
	ret = ret ?: guest_wait_idle(&x->g);
	if (ret) {
		vfail(v, "%s: after the move to %s: %s", what, d->model,
		      x->g.why);
		return ret;
	}
	ret = gw_check(x, v, what);
	ret = ret ?: gw_batch(x, 16, false, v, what);
	return ret ?: gw_check(x, v, what);
}

/* vdev_save_stopped() into a buffer of its own, which the caller frees. */
static int save_stopped(struct vdev *d, uint8_t **s, size_t *len)
{
	struct vdev_stream st = {};
	int ret = vdev_save_stopped(d, &st);

	if (ret) {
		vdev_stream_free(&st);
		return ret;
	}
	*s = st.p;
	*len = st.len;
	return 0;
}

static int read_attr_u(const char *path, unsigned long *v)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*v = strtoul(buf, NULL, 10);
	return 0;
}

static int available(unsigned long *n)
{
	return read_attr_u(MDEV_TYPES "/ctxmig-amd-gfx9/available_instances",
			   n);
}

/* Every test makes and removes its own instances. */
FIXTURE(concurrency) {
	int unused;
};

FIXTURE_SETUP(concurrency)
{
}

FIXTURE_TEARDOWN(concurrency)
{
}

/* --------------------------------------------------- (a) many pairs */

struct pair {
	pthread_t th;
	int idx;
	struct vdev src, dst;
	struct gw x;
	struct verdict v;
	unsigned int rounds;
	size_t bytes;
	uint64_t ms;
};

/* Copy @fd to @out until a temporary end (ENOMSG) or EOF; bytes or -errno. */
static ssize_t pump(int fd, int out, bool precopy)
{
	static __thread uint8_t buf[1 << 16];
	ssize_t total = 0;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		int ret;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && precopy && errno == ENOMSG)
			return total;
		if (n < 0)
			return -errno;
		if (!n)
			return total;
		ret = vdev_write_stream(out, buf, n, 0);
		if (ret)
			return ret;
		total += n;
	}
}

static void *pair_run(void *arg)
{
	struct pair *p = arg;
	struct verdict *v = &p->v;
	uint64_t t0 = now_ms();
	int sfd = -1, rfd = -1, fd, ret;
	char what[96];
	ssize_t n;

	snprintf(what, sizeof(what), "pair %d %s -> %s", p->idx,
		 p->src.model, p->dst.model);
	if (gw_start(&p->x, &p->src, 0x5eed1000 + p->idx, v, what))
		return NULL;
	ret = vdev_set_state(&p->dst, VFIO_DEVICE_STATE_RESUMING, &rfd);
	ret = ret ?: vdev_set_state(&p->src, VFIO_DEVICE_STATE_PRE_COPY, &sfd);
	if (ret || sfd < 0 || rfd < 0) {
		vfail(v, "%s: PRE_COPY / RESUMING: %d", what, ret);
		goto out;
	}
	/* Pre-copy rounds while the guest keeps writing. */
	for (p->rounds = 0; p->rounds < 3; p->rounds++) {
		n = pump(sfd, rfd, true);
		if (n < 0) {
			vfail(v, "%s: pre-copy round %u: %zd", what, p->rounds,
			      n);
			goto out;
		}
		p->bytes += n;
		if (gw_batch(&p->x, 12, p->rounds & 1, v, what))
			goto out;
	}
	ret = vdev_set_state(&p->src, VFIO_DEVICE_STATE_PRE_COPY_P2P, &fd);
	ret = ret ?: vdev_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	if (ret) {
		vfail(v, "%s: to STOP_COPY: %d", what, ret);
		goto out;
	}
	n = pump(sfd, rfd, false);
	if (n < 0) {
		vfail(v, "%s: stop-copy: %zd", what, n);
		goto out;
	}
	p->bytes += n;
	close(sfd);
	sfd = -1;
	close(rfd);
	rfd = -1;
	ret = vdev_set_state(&p->dst, VFIO_DEVICE_STATE_STOP, NULL);
	ret = ret ?: vdev_set_state(&p->dst, VFIO_DEVICE_STATE_RUNNING, NULL);
	ret = ret ?: vdev_set_state(&p->src, VFIO_DEVICE_STATE_STOP, NULL);
	if (ret) {
		vfail(v, "%s: restore: %d", what, ret);
		goto out;
	}
	if (vdev_ctl(&p->dst, CTXMIG_CTL_MIGRATED) != 1)
		vfail(v, "%s: MIGRATED %u", what,
		      vdev_ctl(&p->dst, CTXMIG_CTL_MIGRATED));
	gw_moved(&p->x, &p->dst, v, what);
out:
	if (sfd >= 0)
		close(sfd);
	if (rfd >= 0)
		close(rfd);
	p->ms = now_ms() - t0;
	return NULL;
}

TEST_F_TIMEOUT(concurrency, many_pairs, 240)
{
	struct pair *p;
	unsigned long avail = 0, left = 0, after = 0;
	struct vdev extra;
	int i, npairs, ret;
	uint64_t t0;

	ASSERT_EQ(0, available(&avail));
	EXPECT_EQ(16, avail) TH_LOG("available_instances %lu at the start",
				    avail);
	npairs = avail / 2;
	ASSERT_LT(0, npairs);
	p = calloc(npairs, sizeof(*p));
	ASSERT_NE(NULL, p);
	for (i = 0; i < npairs; i++) {
		const char *sm = models[i % NMODELS];
		const char *dm = models[(i + 1 + i / NMODELS) % NMODELS];

		p[i].idx = i;
		vdev_init(&p[i].src);
		vdev_init(&p[i].dst);
		ret = vdev_track_new(&p[i].src, sm);
		ASSERT_EQ(0, ret) TH_LOG("%s: %s", sm, strerror(-ret));
		ret = vdev_track_new(&p[i].dst, dm);
		ASSERT_EQ(0, ret) TH_LOG("%s: %s", dm, strerror(-ret));
		ASSERT_STRNE(sm, dm);
	}
	/* The parent is full now. */
	ASSERT_EQ(0, available(&left));
	EXPECT_EQ(avail - 2 * npairs, left);
	if (!left) {
		EXPECT_NE(0, vdev_track_create(&extra, "nv-ampere"))
			TH_LOG("a 17th instance was created");
		vdev_track_remove(&extra);
	}

	t0 = now_ms();
	for (i = 0; i < npairs; i++)
		ASSERT_EQ(0, pthread_create(&p[i].th, NULL, pair_run, &p[i]));
	for (i = 0; i < npairs; i++)
		ASSERT_EQ(0, pthread_join(p[i].th, NULL));
	TH_LOG("%d pairs migrated at once in %llu ms", npairs,
	       (unsigned long long)(now_ms() - t0));
	for (i = 0; i < npairs; i++) {
		struct pair *q = &p[i];

		EXPECT_EQ(0, q->v.failures) TH_LOG("%s", q->v.why);
		TH_LOG("pair %d %s -> %s: %u pre-copy rounds, %zu bytes, %llu ms",
		       q->idx, q->src.model, q->dst.model, q->rounds, q->bytes,
		       (unsigned long long)q->ms);
	}
	for (i = 0; i < npairs; i++) {
		gw_fini(&p[i].x);
		EXPECT_EQ(0, vdev_track_remove(&p[i].src));
		EXPECT_EQ(0, vdev_track_remove(&p[i].dst));
	}
	ASSERT_EQ(0, available(&after));
	EXPECT_EQ(avail, after);
	free(p);
}

/* ------------------------------------------------- (b) racing arcs */

static const uint32_t targets[] = {
	VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_STOP,
	VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_STOP_COPY,
	VFIO_DEVICE_STATE_RESUMING, VFIO_DEVICE_STATE_PRE_COPY,
	VFIO_DEVICE_STATE_PRE_COPY_P2P,
};

#define MAX_ERRNO	140

struct racer {
	pthread_t th;
	struct vdev *d;
	uint64_t rng;
	unsigned int iters, ok, resets, fds;
	unsigned long errs[MAX_ERRNO + 1];
	struct verdict v;
};

/*
 * errnos an arc may fail with: the FSM's refusals and ERROR (EINVAL), a
 * RESUMING -> STOP with an empty or garbage stream (the IR reader's), a
 * pre-copy stop-copy whose save failed (EIO).
 */
static bool sane_arc_errno(int e)
{
	switch (e) {
	case EINVAL: case ENODATA: case EBADMSG: case EIO: case EILSEQ:
	case ERANGE: case E2BIG: case EOPNOTSUPP: case EPROTONOSUPPORT:
	case ENOSPC:
		return true;
	}
	return false;
}

static void *racer_run(void *arg)
{
	struct racer *r = arg;
	uint8_t buf[4096];
	unsigned int i;

	for (i = 0; i < r->iters; i++) {
		uint32_t to = targets[rnd(&r->rng) % ARRAY_SIZE(targets)];
		int fd = -1, ret;

		ret = vdev_set_state(r->d, to, &fd);
		if (!ret)
			r->ok++;
		else if (-ret > MAX_ERRNO || !sane_arc_errno(-ret))
			vfail(&r->v, "-> %u: errno %d", to, -ret);
		else
			r->errs[-ret]++;
		if (fd >= 0) {
			r->fds++;
			/* Use it a little while the other thread moves on. */
			if (to == VFIO_DEVICE_STATE_RESUMING) {
				memset(buf, 0xa5, 64);
				if (write(fd, buf, 64) < 0 && errno != ENODEV &&
				    !sane_arc_errno(errno))
					vfail(&r->v, "garbage write: errno %d",
					      errno);
			} else if (read(fd, buf, sizeof(buf)) < 0 &&
				   errno != ENODEV && errno != ENOMSG &&
				   errno != EIO) {
				vfail(&r->v, "read: errno %d", errno);
			}
			close(fd);
		}
		if (state_of(r->d) == VFIO_DEVICE_STATE_ERROR) {
			if (vdev_reset(r->d))
				vfail(&r->v, "reset failed");
			r->resets++;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(concurrency, racing_arcs, 180)
{
	struct verdict v = {};
	struct racer r[2] = {};
	struct vdev d;
	struct gw x = {};
	unsigned long e;
	uint64_t t0;
	int i, ret;

	vdev_init(&d);
	ret = vdev_track_new(&d, "intel-gen12");
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(0, gw_start(&x, &d, 0x5eed2000, &v, "start")) TH_LOG("%s", v.why);

	t0 = now_ms();
	for (i = 0; i < 2; i++) {
		r[i].d = &d;
		r[i].rng = 0xa5c3e1d0ULL + i;
		r[i].iters = 400;
		ASSERT_EQ(0, pthread_create(&r[i].th, NULL, racer_run, &r[i]));
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(r[i].th, NULL));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, r[i].v.failures) TH_LOG("thread %d: %s", i,
						     r[i].v.why);
		TH_LOG("thread %d: %u arcs, %u succeeded, %u data_fds, %u resets",
		       i, r[i].iters, r[i].ok, r[i].fds, r[i].resets);
		for (e = 1; e <= MAX_ERRNO; e++)
			if (r[i].errs[e])
				TH_LOG("thread %d: %lu x %s", i, r[i].errs[e],
				       strerrorname_np(e) ?: "?");
		EXPECT_LT(0, r[i].ok);
	}
	TH_LOG("%llu ms", (unsigned long long)(now_ms() - t0));

	/* Usable again: out of ERROR, RUNNING, VRAM as the guest left it. */
	if (state_of(&d) == VFIO_DEVICE_STATE_ERROR)
		ASSERT_EQ(0, vdev_reset(&d));
	if (vdev_set_state(&d, VFIO_DEVICE_STATE_RUNNING, NULL))
		ASSERT_EQ(0, vdev_reset(&d));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, state_of(&d));
	EXPECT_EQ(0, vdev_ctl(&d, CTXMIG_CTL_MIGRATED));
	/* A reset or a stop may have happened anywhere: set up afresh. */
	ASSERT_EQ(0, vdev_reset(&d));
	ASSERT_EQ(0, gw_attach(&x, &d, &v, "after")) TH_LOG("%s", v.why);
	EXPECT_EQ(0, gw_check(&x, &v, "after the race")) TH_LOG("%s", v.why);
	EXPECT_EQ(0, gw_batch(&x, 24, true, &v, "after")) TH_LOG("%s", v.why);
	EXPECT_EQ(0, gw_check(&x, &v, "after")) TH_LOG("%s", v.why);
	gw_fini(&x);
	EXPECT_EQ(0, vdev_track_remove(&d));
}

static void pause_point(struct pause *p, size_t calls)
{
	uint64_t end = now_ms() + 10000;

	if (!p->at || calls != p->at)
		return;
	set_flag(&p->paused);
	while (!flag(&p->resume) && now_ms() < end)
		;
}

/* Wait for a worker to pause; false if it ended (@done) or timed out. */
static bool pause_wait(struct pause *p, bool *done)
{
	uint64_t end = now_ms() + 10000;

	while (!flag(&p->paused)) {
		if ((done && flag(done)) || now_ms() >= end)
			return false;
	}
	return true;
}

/* ------------------------------------------ (c) close during read */

struct reader {
	pthread_t th;
	int fd;
	uint8_t *buf;
	size_t cap;
	size_t got;
	size_t entering;	/* read() calls begun */
	bool go;
	bool done;
	struct pause pause;
	int err;		/* 0 for EOF, else the errno that ended it */
};

static void *reader_run(void *arg)
{
	struct reader *r = arg;

	/* Both threads on a CPU when the reads start. */
	while (!flag(&r->go))
		;
	for (;;) {
		/* A small read, then long ones the close can land in. */
		size_t max = r->entering ? 65536 : 4096;
		size_t want = r->cap - r->got < max ? r->cap - r->got : max;
		ssize_t n;

		pause_point(&r->pause, r->entering);
		__atomic_add_fetch(&r->entering, 1, __ATOMIC_RELEASE);
		n = read(r->fd, r->buf + r->got, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r->err = errno;
			break;
		}
		if (!n) {
			r->err = 0;
			break;
		}
		__atomic_store_n(&r->got, r->got + n, __ATOMIC_RELEASE);
		if (r->got == r->cap) {
			r->err = EFBIG;
			break;
		}
	}
	set_flag(&r->done);
	return NULL;
}

#define CLOSE_ITERS	48

TEST_F_TIMEOUT(concurrency, close_during_read, 180)
{
	struct verdict v = {};
	struct gw x = {};
	struct vdev d;
	uint8_t *ref = NULL;
	size_t reflen = 0;
	unsigned int it, eof = 0, ebadf = 0, enodev = 0;
	uint64_t rng = 0x0c105edULL;
	int ret;

	vdev_init(&d);
	ret = vdev_track_new(&d, "amd-gfx12");
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(0, gw_start(&x, &d, 0x5eed3000, &v, "start")) TH_LOG("%s", v.why);
	ASSERT_EQ(0, save_stopped(&d, &ref, &reflen));
	TH_LOG("%zu-byte stream", reflen);

	for (it = 0; it < CLOSE_ITERS; it++) {
		struct reader r = { .cap = reflen + 4096 };
		bool stop_first = it & 1;
		/* One in four between two reads for certain: after the first. */
		bool certain = !(it & 2);
		int fd;

		r.buf = malloc(r.cap);
		ASSERT_NE(NULL, r.buf);
		ASSERT_EQ(0, vdev_set_state(&d, VFIO_DEVICE_STATE_STOP_COPY,
					    &fd));
		ASSERT_LE(0, fd);
		r.fd = fd;
		ASSERT_EQ(0, pthread_create(&r.th, NULL, reader_run, &r));
		if (certain)
			r.pause.at = 1;
		set_flag(&r.go);
		if (certain) {
			EXPECT_TRUE(pause_wait(&r.pause, &r.done))
				TH_LOG("iteration %u: the reader never paused", it);
		} else {
			/* Right after the reader enters its 2nd or 3rd read. */
			wait_progress(&r.entering, 2 + rnd(&rng) % 2, NULL);
		}
		if (stop_first) {
			/* The transfer ends under the reader, then the fd. */
			EXPECT_EQ(0, vdev_set_state(&d, VFIO_DEVICE_STATE_STOP,
						    NULL));
			set_flag(&r.pause.resume);
			ASSERT_EQ(0, pthread_join(r.th, NULL));
			close(fd);
		} else {
			close(fd);
			set_flag(&r.pause.resume);
			ASSERT_EQ(0, pthread_join(r.th, NULL));
		}
		if (certain)
			EXPECT_EQ(stop_first ? ENODEV : EBADF, r.err)
				TH_LOG("iteration %u: read after %s: %s", it,
				       stop_first ? "STOP" : "close",
				       strerror(r.err));
		EXPECT_GE(reflen, r.got);
		EXPECT_EQ(0, memcmp(r.buf, ref, r.got < reflen ? r.got : reflen))
			TH_LOG("iteration %u: the bytes read are not the stream's",
			       it);
		switch (r.err) {
		case 0:
			eof++;
			EXPECT_EQ(reflen, r.got);
			break;
		case EBADF:
			ebadf++;
			break;
		case ENODEV:
			enodev++;
			EXPECT_TRUE(stop_first);
			break;
		default:
			EXPECT_EQ(0, r.err) TH_LOG("iteration %u: read ended with %s",
						   it, strerror(r.err));
		}
		if (!stop_first)
			EXPECT_EQ(0, vdev_set_state(&d, VFIO_DEVICE_STATE_STOP,
						    NULL));
		EXPECT_EQ(VFIO_DEVICE_STATE_STOP, state_of(&d));
		free(r.buf);
	}
	TH_LOG("%u closes/stops during read: %u ended at EOF, %u EBADF, %u ENODEV",
	       CLOSE_ITERS, eof, ebadf, enodev);
	/* The race happened: transfers were cut short. */
	EXPECT_LT(0, ebadf + enodev);

	/* The device carries on with everything. */
	ASSERT_EQ(0, vdev_set_state(&d, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(0, gw_check(&x, &v, "after")) TH_LOG("%s", v.why);
	EXPECT_EQ(0, gw_batch(&x, 24, false, &v, "after")) TH_LOG("%s", v.why);
	EXPECT_EQ(0, gw_check(&x, &v, "after")) TH_LOG("%s", v.why);
	gw_fini(&x);
	free(ref);
	EXPECT_EQ(0, vdev_track_remove(&d));
}

/* ------------------------------------------ (d) reset during write */

struct writer {
	pthread_t th;
	int fd;
	const uint8_t *s;
	size_t len;
	size_t put;
	size_t entering;	/* write() calls begun */
	bool done, go;
	struct pause pause;
	int err;
};

static void *writer_run(void *arg)
{
	struct writer *w = arg;

	while (!flag(&w->go))
		;
	while (w->put < w->len) {
		/* A small write, then longer ones the reset can land in. */
		size_t max = w->entering ? 16384 : 1024;
		size_t n = w->len - w->put < max ? w->len - w->put : max;
		ssize_t k;

		pause_point(&w->pause, w->entering);
		__atomic_add_fetch(&w->entering, 1, __ATOMIC_RELEASE);
		k = write(w->fd, w->s + w->put, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			w->err = k < 0 ? errno : EIO;
			break;
		}
		__atomic_store_n(&w->put, w->put + k, __ATOMIC_RELEASE);
	}
	set_flag(&w->done);
	return NULL;
}

#define RESET_ITERS	32

TEST_F_TIMEOUT(concurrency, reset_during_write, 180)
{
	struct verdict v = {};
	struct gw x = {};
	struct vdev src, dst;
	uint8_t *s = NULL;
	size_t len = 0;
	unsigned int it, whole = 0, cut = 0;
	uint64_t rng = 0x5e7e7ULL;
	int ret, werr;

	vdev_init(&src);
	vdev_init(&dst);
	ret = vdev_track_new(&src, "amd-gfx9");
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ret = vdev_track_new(&dst, "nv-ampere");
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(0, gw_start(&x, &src, 0x5eed4000, &v, "start")) TH_LOG("%s", v.why);
	ASSERT_EQ(0, save_stopped(&src, &s, &len));

	for (it = 0; it < RESET_ITERS; it++) {
		struct writer w = { .s = s, .len = len };
		/* One in two between two writes for certain: after the first. */
		bool certain = !(it & 1);
		uint8_t b[64] = {};
		int fd;

		ASSERT_EQ(0, vdev_set_state(&dst, VFIO_DEVICE_STATE_RESUMING,
					    &fd));
		ASSERT_LE(0, fd);
		w.fd = fd;
		ASSERT_EQ(0, pthread_create(&w.th, NULL, writer_run, &w));
		if (certain)
			w.pause.at = 1;
		set_flag(&w.go);
		if (certain) {
			EXPECT_TRUE(pause_wait(&w.pause, &w.done))
				TH_LOG("iteration %u: the writer never paused", it);
		} else {
			wait_progress(&w.entering, 2 + rnd(&rng) % 4, &w.done);
		}
		ASSERT_EQ(0, vdev_reset(&dst));
		set_flag(&w.pause.resume);
		ASSERT_EQ(0, pthread_join(w.th, NULL));
		if (certain)
			EXPECT_EQ(ENODEV, w.err)
				TH_LOG("iteration %u: write after a reset: %s",
				       it, strerror(w.err));
		EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, state_of(&dst));
		/* Nothing was applied: RESUMING never reached STOP. */
		EXPECT_EQ(0, vdev_ctl(&dst, CTXMIG_CTL_MIGRATED));
		if (w.err) {
			EXPECT_EQ(ENODEV, w.err) TH_LOG("iteration %u: write: %s",
							it, strerror(w.err));
			cut++;
		} else {
			EXPECT_EQ(len, w.put);
			whole++;
		}
		EXPECT_EQ(-1, write(fd, b, sizeof(b)))
			TH_LOG("iteration %u: the resuming fd lives on after a reset",
			       it);
		close(fd);
	}
	TH_LOG("%u resets during a write: %u cut it short, %u came after the last byte",
	       RESET_ITERS, cut, whole);
	EXPECT_LT(0, cut);

	/* The whole stream then restores, and the guest carries on. */
	ret = vdev_restore_stream(&dst, s, len, 0, &werr);
	EXPECT_EQ(0, werr);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(0, vdev_set_state(&dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(1, vdev_ctl(&dst, CTXMIG_CTL_MIGRATED));
	EXPECT_EQ(0, gw_moved(&x, &dst, &v, "moved")) TH_LOG("%s", v.why);
	gw_fini(&x);
	free(s);
	EXPECT_EQ(0, vdev_track_remove(&src));
	EXPECT_EQ(0, vdev_track_remove(&dst));
}

/* --------------------------------------- (e) removal during transfer */

struct xfer {
	pthread_t th;
	int sfd, rfd;
	size_t moved;
	bool done;
	bool removed;	/* pace until the removal is over */
	int rerr, werr;		/* errno that ended reading / writing */
	bool eof;
};

static void *xfer_run(void *arg)
{
	struct xfer *t = arg;
	uint8_t buf[512];

	for (;;) {
		ssize_t n;
		int ret;

		/* Slowly, so that the removal lands mid-transfer. */
		if (!flag(&t->removed) && t->moved)
			usleep(2000);
		n = read(t->sfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			t->rerr = errno;
			break;
		}
		if (!n) {
			t->eof = true;
			break;
		}
		ret = vdev_write_stream(t->rfd, buf, n, 0);
		if (ret) {
			t->werr = -ret;
			break;
		}
		__atomic_store_n(&t->moved, t->moved + n, __ATOMIC_RELEASE);
	}
	set_flag(&t->done);
	return NULL;
}

struct remover {
	pthread_t th;
	struct vdev *d;
	bool done;
	int ret;
};

static void *remover_run(void *arg)
{
	struct remover *r = arg;

	r->ret = vdev_remove(r->d);
	set_flag(&r->done);
	return NULL;
}

/*
 * Pump @src's stop-copy stream into @dst's resuming fd from a thread and
 * remove @victim (one of them) through sysfs a quarter of the way in.
 * The removal must wait until @victim's device fd is closed, then
 * finish.  Returns with both fds closed; *@t tells how the transfer
 * ended.
 */
static void transfer_and_remove(struct __test_metadata *_metadata,
				struct vdev *src, struct vdev *dst,
				struct vdev *victim, size_t len,
				struct xfer *t)
{
	struct remover rm = { .d = victim };
	size_t at_close;
	uint64_t t0;

	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP_COPY,
				    &t->sfd));
	ASSERT_EQ(0, vdev_set_state(dst, VFIO_DEVICE_STATE_RESUMING, &t->rfd));
	ASSERT_LE(0, t->sfd);
	ASSERT_LE(0, t->rfd);
	ASSERT_EQ(0, pthread_create(&t->th, NULL, xfer_run, t));
	wait_progress(&t->moved, len / 4, &t->done);
	ASSERT_EQ(0, pthread_create(&rm.th, NULL, remover_run, &rm));
	/* The device fd is open: the removal waits for it. */
	t0 = now_ms();
	while (!flag(&rm.done) && now_ms() - t0 < 300)
		usleep(1000);
	EXPECT_FALSE(flag(&rm.done))
		TH_LOG("%s removed with its device fd open", victim->model);
	t0 = now_ms();
	at_close = __atomic_load_n(&t->moved, __ATOMIC_ACQUIRE);
	vdev_close(victim);
	ASSERT_EQ(0, pthread_join(rm.th, NULL));
	set_flag(&t->removed);
	EXPECT_GT(len, at_close) TH_LOG("the transfer was over before the removal");
	EXPECT_EQ(0, rm.ret) TH_LOG("removing %s: %s", victim->model,
				    strerror(-rm.ret));
	if (!rm.ret)
		victim->created = false;
	TH_LOG("%s removed %llu ms after its fd closed, at %zu of %zu bytes",
	       victim->model, (unsigned long long)(now_ms() - t0), at_close,
	       len);
	ASSERT_EQ(0, pthread_join(t->th, NULL));
	close(t->sfd);
	close(t->rfd);
	/* The removed side's fd died under the transfer: ENODEV, no EOF. */
	EXPECT_FALSE(t->eof);
	EXPECT_EQ(ENODEV, t->rerr ? t->rerr : t->werr)
		TH_LOG("transfer ended with read %s, write %s",
		       strerror(t->rerr), strerror(t->werr));
}

TEST_F_TIMEOUT(concurrency, remove_during_transfer, 180)
{
	struct verdict v = {};
	struct gw x = {};
	struct vdev src, dst, src2, dst2, dst3;
	struct xfer t1 = {}, t2 = {};
	uint8_t *s = NULL, *s2 = NULL;
	size_t len = 0, len2 = 0;
	unsigned long avail = 0;
	int ret, werr;

	vdev_init(&src);
	vdev_init(&dst);
	vdev_init(&src2);
	vdev_init(&dst2);
	vdev_init(&dst3);
	ASSERT_EQ(0, vdev_track_new(&src, "nv-hopper"));
	ASSERT_EQ(0, vdev_track_new(&dst, "amd-gfx9"));
	ASSERT_EQ(0, gw_start(&x, &src, 0x5eed5000, &v, "start")) TH_LOG("%s", v.why);
	ASSERT_EQ(0, save_stopped(&src, &s, &len));

	/* 1. The source goes while its stream is read. */
	transfer_and_remove(_metadata, &src, &dst, &src, len, &t1);
	vdev_track_remove(&src);
	ret = vdev_set_state(&dst, VFIO_DEVICE_STATE_STOP, NULL);
	if (t1.eof) {
		EXPECT_EQ(0, ret) TH_LOG("the whole stream was refused: %s",
					 strerror(-ret));
	} else {
		EXPECT_NE(0, ret) TH_LOG("half a stream was accepted");
		EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, state_of(&dst));
	}
	ASSERT_EQ(0, vdev_reset(&dst));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, state_of(&dst));

	/* A new instance of the removed type takes the saved stream. */
	ASSERT_EQ(0, vdev_track_new(&src2, "nv-hopper"));
	ret = vdev_restore_stream(&src2, s, len, 0, &werr);
	EXPECT_EQ(0, werr);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(0, vdev_set_state(&src2, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, gw_moved(&x, &src2, &v, "recreated")) TH_LOG("%s", v.why);

	/* 2. A destination goes while the stream is written into it. */
	ASSERT_EQ(0, vdev_track_remove(&dst));
	ASSERT_EQ(0, vdev_track_new(&dst2, "amd-gfx9"));
	ASSERT_EQ(0, save_stopped(&src2, &s2, &len2));
	transfer_and_remove(_metadata, &src2, &dst2, &dst2, len2, &t2);
	vdev_track_remove(&dst2);
	/* The source lost nothing: it runs on. */
	ASSERT_EQ(0, vdev_set_state(&src2, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vdev_set_state(&src2, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(0, gw_check(&x, &v, "source after")) TH_LOG("%s", v.why);
	EXPECT_EQ(0, gw_batch(&x, 16, true, &v, "source after")) TH_LOG("%s", v.why);

	/* And migrates to a new destination. */
	ASSERT_EQ(0, vdev_track_new(&dst3, "amd-gfx9"));
	free(s2);
	s2 = NULL;
	ASSERT_EQ(0, save_stopped(&src2, &s2, &len2));
	ret = vdev_restore_stream(&dst3, s2, len2, 0, &werr);
	EXPECT_EQ(0, werr);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(0, vdev_set_state(&dst3, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(0, gw_moved(&x, &dst3, &v, "new destination")) TH_LOG("%s", v.why);

	gw_fini(&x);
	free(s);
	free(s2);
	EXPECT_EQ(0, vdev_track_remove(&src2));
	EXPECT_EQ(0, vdev_track_remove(&dst3));
	ASSERT_EQ(0, available(&avail));
	EXPECT_EQ(16, avail);
}

static uint64_t t_start;

static void print_elapsed(void)
{
	printf("# ctxmig_concurrency_test: %llu ms\n",
	       (unsigned long long)(now_ms() - t_start));
}

int main(int argc, char **argv)
{
	t_start = now_ms();
	atexit(print_elapsed);
	vdev_track_init();
	return test_harness_run(argc, argv);
}
