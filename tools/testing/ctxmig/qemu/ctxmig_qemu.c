// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig qemu tier: the scenario program.  Runs on VM host A and drives
 * both hosts (see run.sh for the topology): the inner QEMUs through their
 * QMP sockets, host B's side through its command agent, and the guest's
 * CPU through QEMU's qtest socket, with the kselftests' guest driver
 * library (guest.c) on the qtest transport (qtest.c).
 *
 * The migration tests: one guest migrates hop after hop between the
 * hosts, each hop to a new vGPU of the next model (mdevctl) under a new
 * QEMU 10 with -incoming, so that a list of pairs where each starts
 * where the last ended (run.sh makes one of every ordered pair) needs no
 * new guest.  The guest sets its GPU up (page tables, ring, a mapping of
 * guest RAM), fills VRAM and runs batches of commands that write and copy
 * in VRAM and into guest RAM.  QMP "migrate" starts, held before the
 * switchover (see gate.h); once QEMU has sent all guest RAM once, the
 * guest goes on submitting, so the GPU writes VRAM and guest RAM (by DMA)
 * after pre-copy sent them, and QEMU can learn of the latter only through
 * dirty tracking (the device's DMA logging; with the enable-migration
 * workaround, the type1 container's bitmap).  The last batch goes in
 * with the engine throttled, so that commands are pending at the stop,
 * and the gate opens.  QEMU switches over; on the destination the guest
 * driver recovers (guest_recover(), the model may have changed), the
 * pending commands finish there, more batches run in the new model's
 * format, and every byte of the data in VRAM and of the guest RAM the GPU
 * wrote is checked against a reference computed here.  The report gives
 * QEMU's query-migrate figures beside ctxmig's own statistics.  One more
 * migration runs on QEMU's own tight budget (see mig_budget()).
 *
 * Failure tests: migrate_cancel during pre-copy, the destination QEMU
 * killed mid-stream, a destination that refuses the stream (a smaller
 * GPU VA width), each with the workload completing on host A; and the
 * source QEMU killed mid-stream, after which host B's vGPU works under a
 * new QEMU.
 *
 * Output: KTAP, one result per test.  Options:
 *   --pairs "SRC:DST:MODE ..."   migrations to test (MODE S or bios, see
 *                                qhost.sh)
 *   --failures MODEL             run the failure tests with MODEL
 *   --workarounds "WORD ..."     see run.sh's QEMU_WORKAROUNDS
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "guest.h"
#include "workload.h"
#include "gate.h"
#include "qmp.h"
#include "qtest.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* The hosts on their private link, and the ports the hosts serve. */
#define HOST_A		"192.168.100.1"
#define HOST_B		"192.168.100.2"
#define AGENT_PORT	7000
#define MIG_PORT	4444
#define QMP_PORT	4445
#define QTEST_PORT	4446
#define GATE_PORT	5444	/* on host A, see gate.h */

/* Hang guards only: nothing is decided by how long something took. */
#define HANG_MS		(180 * 1000)
#define HANG_S		(HANG_MS / 1000)

/* Guest RAM the GPU maps, and where in its VA space. */
#define SYS_GPA		0x1000000ULL
#define SYS_VA		0x20000000ULL
#define SYS_SIZE	0x40000ULL
/* struct gw's buffer holds either. */
static_assert(SYS_SIZE <= GUEST_DATA_SIZE, "guest RAM buffer");

#define PER_BATCH	48	/* workload commands per batch */
#define SYS_PER_BATCH	8	/* commands into guest RAM per batch */
#define PRECOPY_BATCHES	3	/* batches run while pre-copy iterates */
#define THROTTLE	"1"	/* engine steps per 10 ms at the switchover */
/* The hosts' link, bytes per second, as QEMU is told (see mig_switchover). */
#define SWITCHOVER_BW	(100ULL << 20)
/* QEMU's own budget, see mig_budget(). */
#define BUDGET_BW	(64U << 10)
#define BUDGET_DOWNTIME	300U
#define BUDGET_ARGS	"\"max-bandwidth\": %u, \"downtime-limit\": %u, " \
			"\"avail-switchover-bandwidth\": %u"

/* A migration capability, on. */
#define CAP_ON		"{\"capability\": \"%s\", \"state\": true}"

static const char *const models[] = {
	"amd-gfx9", "amd-gfx12", "intel-gen12", "nv-ampere", "nv-hopper",
};

/* See QEMU_WORKAROUNDS in run.sh. */
static struct {
	bool enable_migration;	/* vfio-pci's enable-migration=on */
	bool same_model;	/* migrate to the source's own model */
	bool warnings;		/* QEMU's warnings do not fail a test */
	bool estimates;		/* no migration on QEMU's own budget */
} wa;

struct host {
	const char *name;
	const char *ip;
};

static const struct host host_a = { "A", HOST_A };
static const struct host host_b = { "B", HOST_B };

/* ------------------------------------------------------------ results */

struct test {
	char name[96];
	bool failed;
	char why[512];
};

static unsigned int test_num;
static struct timespec t0;

/* Seconds since the program started, for the log. */
static double elapsed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec - t0.tv_sec + (ts.tv_nsec - t0.tv_nsec) / 1e9;
}

/* A step of @t, in the log. */
__printf(2, 3)
static void t_log(const struct test *t, const char *fmt, ...)
{
	va_list ap;

	printf("# [%7.1f] %s: ", elapsed(), t->name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

__printf(2, 3)
static void t_fail(struct test *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t_log(t, "%s", msg);
	if (!t->failed)
		snprintf(t->why, sizeof(t->why), "%s", msg);
	t->failed = true;
}

__printf(2, 3)
static void t_begin(struct test *t, const char *fmt, ...)
{
	va_list ap;

	memset(t, 0, sizeof(*t));
	va_start(ap, fmt);
	vsnprintf(t->name, sizeof(t->name), fmt, ap);
	va_end(ap);
	t_log(t, "begin");
}

static bool t_end(struct test *t)
{
	if (t->failed)
		t_log(t, "FAILED: %s", t->why);
	printf("%sok %u %s\n", t->failed ? "not " : "", ++test_num, t->name);
	fflush(stdout);
	return !t->failed;
}

/* ---------------------------------------------------------- the hosts */

/*
 * Run a shell command on @h through its agent; its exit status or a
 * negative errno, its output (stdout and stderr) in @out.
 */
__printf(4, 5)
static int host_run(const struct host *h, char *out, size_t size,
		    const char *fmt, ...)
{
	char addr[64], cmd[1024], *line;
	size_t used = 0;
	struct sock s;
	int ret, rc = -EPROTO;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (out && size)
		out[0] = '\0';
	snprintf(addr, sizeof(addr), "tcp:%s:%d", h->ip, AGENT_PORT);
	ret = sock_connect(&s, addr, HANG_MS);
	if (ret)
		return ret;
	ret = sock_printf(&s, "%s\n", cmd);
	while (!ret && (line = sock_getline(&s))) {
		if (!strncmp(line, "CTXMIG-RC ", 10)) {
			rc = atoi(line + 10);
			continue;
		}
		if (out && used + 1 < size)
			used += snprintf(out + used, size - used, "%s\n", line);
	}
	sock_close(&s);
	return ret ? ret : rc;
}

/* The same, with @out only as long as the command runs. */
#define host_do(h, ...)		host_run(h, NULL, 0, __VA_ARGS__)

static void print_lines(const char *prefix, const char *text)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		printf("# %s%.*s\n", prefix, (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

/* Show what a host and its QEMU @qemu said. */
static void host_dump(const struct host *h, const char *qemu)
{
	static char out[1 << 16];
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "%s %s: ", h->name, qemu);
	if (host_run(h, out, sizeof(out), "qhost.sh log %s", qemu) >= 0)
		print_lines(prefix, out);
	snprintf(prefix, sizeof(prefix), "%s dmesg: ", h->name);
	if (host_run(h, out, sizeof(out), "qhost.sh dmesg 20") >= 0)
		print_lines(prefix, out);
}

static void make_uuid(char *out)
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		memset(b, 0x5a, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* A sysfs control of a vGPU (see sysfs-bus-mdev-ctxmig), as text. */
static int attr_get(const struct host *h, const char *uuid, const char *attr,
		    char *out, size_t size)
{
	int ret = host_run(h, out, size, "qhost.sh attr %s %s", uuid, attr);
	size_t n = strlen(out);

	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	return ret;
}

/* A "key value" line of a vGPU's ctxmig/stats. */
static long long stat_of(const char *stats, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "%s ", key);
	for (p = stats; (p = strstr(p, pat)); p++)
		if (p == stats || p[-1] == '\n')
			return atoll(p + strlen(pat));
	return -1;
}

/* ------------------------------------------------ guest and workload */

/* The guest: its driver, the workload and what guest RAM must hold. */
struct gw {
	struct guest g;
	struct workload w;
	uint8_t *sysref;
	uint8_t *buf;
	bool live;
};

static void gw_free(struct gw *x)
{
	if (x->live)
		guest_fini(&x->g);
	wl_free(&x->w);
	free(x->sysref);
	free(x->buf);
	memset(x, 0, sizeof(*x));
}

/* Driver, mappings, VRAM pattern and guest RAM pattern, on @dev. */
static int gw_start(struct test *t, struct gw *x, struct vdev *dev,
		    uint64_t seed)
{
	uint64_t i;
	int ret;

	memset(x, 0, sizeof(*x));
	x->sysref = malloc(SYS_SIZE);
	x->buf = malloc(GUEST_DATA_SIZE);
	if (!x->sysref || !x->buf || wl_init(&x->w, seed)) {
		t_fail(t, "out of memory");
		return -ENOMEM;
	}
	ret = guest_init(&x->g, dev);
	if (ret) {
		t_fail(t, "guest_init: %s", x->g.why);
		return ret;
	}
	x->live = true;
	ret = guest_setup(&x->g);
	ret = ret ?: guest_map_sysmem(&x->g, SYS_VA, SYS_GPA, SYS_SIZE);
	if (ret) {
		t_fail(t, "guest setup: %s", x->g.why);
		return ret;
	}
	/*
	 * The whole data mapping, not only the pattern: VRAM may hold an
	 * earlier guest's bytes (a reset keeps VRAM).
	 */
	for (i = 0; i < SRC_LEN; i++)
		x->w.ref[SRC_OFF + i] = wl_rand(&x->w) >> 56;
	ret = vdev_vram_write(dev, GUEST_DATA_VRAM, x->w.ref, GUEST_DATA_SIZE);
	for (i = 0; i < SYS_SIZE; i++)
		x->sysref[i] = wl_rand(&x->w) >> 56;
	ret = ret ?: vdev_sys_write(dev, SYS_GPA, x->sysref, SYS_SIZE);
	if (ret)
		t_fail(t, "filling VRAM and guest RAM: %s", strerror(-ret));
	return ret;
}

/* Commands that write and copy into guest RAM, applied to the reference. */
static unsigned int sys_gen(struct gw *x, struct guest_cmd *c, unsigned int n)
{
	struct workload *w = &x->w;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint64_t len, off;

		memset(&c[i], 0, sizeof(c[i]));
		switch (wl_below(w, 3)) {
		case 0:
			off = wl_below(w, SYS_SIZE / 8) * 8;
			c[i].op = CTXMIG_OP_WRITE64;
			c[i].dst = SYS_VA + off;
			c[i].value = wl_rand(w);
			put_le(x->sysref + off, c[i].value, 8);
			break;
		case 1:
			off = wl_below(w, SYS_SIZE / 4) * 4;
			c[i].op = CTXMIG_OP_WRITE32;
			c[i].dst = SYS_VA + off;
			c[i].value = (uint32_t)wl_rand(w);
			put_le(x->sysref + off, c[i].value, 4);
			break;
		default:
			/* From the data in VRAM, as it is at this point. */
			len = 1 + wl_below(w, 4096);
			c[i].op = CTXMIG_OP_COPY;
			c[i].src = GUEST_DATA_VA + 8 +
				   wl_below(w, GUEST_DATA_SIZE - 8 - len);
			off = wl_below(w, SYS_SIZE - len);
			c[i].dst = SYS_VA + off;
			c[i].value = len;
			memcpy(x->sysref + off,
			       w->ref + (c[i].src - GUEST_DATA_VA), len);
			break;
		}
	}
	return n;
}

/* Submit one batch: VRAM work, guest RAM work, a fence. */
static int gw_batch(struct test *t, struct gw *x, bool ib)
{
	struct guest_cmd c[PER_BATCH + SYS_PER_BATCH + 1];
	unsigned int n;
	int ret;

	n = wl_gen(&x->w, c, PER_BATCH);
	n += sys_gen(x, c + n, SYS_PER_BATCH);
	memset(&c[n], 0, sizeof(c[n]));
	c[n].op = CTXMIG_OP_FENCE;
	c[n].dst = GUEST_DATA_VA + FENCE_OFF;
	c[n].value = ++x->w.seq;
	wl_apply(&x->w, &c[n]);
	n++;
	ret = guest_submit(&x->g, c, n, ib);
	if (ret)
		t_fail(t, "submitting on %s: %s", guest_model_name(&x->g),
		       x->g.why);
	return ret;
}

static int gw_wait(struct test *t, struct gw *x)
{
	int ret = guest_wait_fence(&x->g, x->w.seq);

	ret = ret ?: guest_wait_idle(&x->g);
	if (ret)
		t_fail(t, "waiting on %s: %s", guest_model_name(&x->g),
		       x->g.why);
	return ret;
}

/* Every byte of the data in VRAM and of the guest RAM the GPU wrote. */
static int gw_check(struct test *t, struct gw *x)
{
	struct vdev *dev = x->g.dev;
	int64_t bad;
	uint64_t i;
	int ret;

	bad = wl_check(&x->w, dev, x->buf, &ret);
	if (ret) {
		t_fail(t, "reading VRAM: %s", strerror(-ret));
		return ret;
	}
	if (bad >= 0) {
		t_fail(t, "VRAM data byte 0x%llx is 0x%02x, expected 0x%02x",
		       (unsigned long long)bad, x->buf[bad], x->w.ref[bad]);
		return -EIO;
	}
	ret = vdev_sys_read(dev, SYS_GPA, x->buf, SYS_SIZE);
	if (ret) {
		t_fail(t, "reading guest RAM: %s", strerror(-ret));
		return ret;
	}
	for (i = 0; i < SYS_SIZE; i++)
		if (x->buf[i] != x->sysref[i]) {
			t_fail(t, "guest RAM byte 0x%llx is 0x%02x, expected 0x%02x",
			       (unsigned long long)(SYS_GPA + i), x->buf[i],
			       x->sysref[i]);
			return -EIO;
		}
	return 0;
}

/* ----------------------------------------------------- one QEMU each */

/*
 * A vGPU and its QEMU on one host, and the sockets to them.  Never
 * copied: the guest library's device (@v.dev) points into it.
 */
struct side {
	const struct host *h;
	char qemu[16];		/* its files on the host: "q<n>" */
	char model[32];
	char uuid[37];
	bool mdev, started;
	struct qmp qmp;
	struct qtest qt;
	struct qvdev v;
	bool qmp_open, qt_open;
};

static void side_init(struct side *s, const struct host *h, const char *model)
{
	static unsigned int n;

	memset(s, 0, sizeof(*s));
	s->h = h;
	snprintf(s->qemu, sizeof(s->qemu), "q%u", ++n);
	snprintf(s->model, sizeof(s->model), "%s", model);
	make_uuid(s->uuid);
}

static int side_mdev(struct test *t, struct side *s)
{
	char out[512];
	int ret;

	ret = host_run(s->h, out, sizeof(out), "qhost.sh mdev-start %s %s",
		       s->uuid, s->model);
	if (ret) {
		t_fail(t, "%s: mdevctl start %s: %d: %s", s->h->name, s->model,
		       ret, out);
		return -EIO;
	}
	s->mdev = true;
	return 0;
}

/* Start QEMU on the vGPU and connect to its QMP socket. */
static int side_qemu(struct test *t, struct side *s, const char *mode,
		     bool incoming)
{
	char out[4096], addr[64];
	int ret;

	ret = host_run(s->h, out, sizeof(out), "qhost.sh qemu-start %s %s %s %s",
		       s->qemu, s->uuid, mode, incoming ? "incoming" : "");
	if (ret) {
		t_fail(t, "%s: starting QEMU: %d", s->h->name, ret);
		print_lines("", out);
		return -EIO;
	}
	s->started = true;
	snprintf(addr, sizeof(addr), "tcp:%s:%d", s->h->ip, QMP_PORT);
	ret = qmp_open(&s->qmp, addr, HANG_MS);
	if (ret) {
		t_fail(t, "%s: %s", s->h->name, s->qmp.why);
		return ret;
	}
	s->qmp_open = true;
	return 0;
}

/* The guest's CPU on this side's QEMU, the device attached. */
static int side_cpu(struct test *t, struct side *s, bool program)
{
	char addr[64];
	int ret;

	snprintf(addr, sizeof(addr), "tcp:%s:%d", s->h->ip, QTEST_PORT);
	ret = qtest_open(&s->qt, addr, HANG_MS);
	if (ret) {
		t_fail(t, "%s: %s", s->h->name, s->qt.why);
		return ret;
	}
	s->qt_open = true;
	ret = qvdev_attach(&s->v, &s->qt, program);
	if (ret)
		t_fail(t, "%s: attaching the device: %s", s->h->name,
		       s->qt.why);
	return ret;
}

/*
 * Bring the source's guest up in @mode: "S" programs the BARs and starts
 * the VM (a CPU that halts), "bios" waits for SeaBIOS to finish.
 */
static int side_boot(struct test *t, struct side *s, const char *mode)
{
	int ret;

	if (!strcmp(mode, "bios")) {
		ret = host_do(s->h, "qhost.sh fw-wait %s %d", s->qemu, HANG_S);
		if (ret) {
			t_fail(t, "%s: SeaBIOS did not finish", s->h->name);
			return -ETIMEDOUT;
		}
		return side_cpu(t, s, false);
	}
	ret = side_cpu(t, s, true);
	if (!ret && qmp_cmd(&s->qmp, NULL, "cont", NULL)) {
		t_fail(t, "%s: cont: %s", s->h->name, s->qmp.why);
		ret = -EIO;
	}
	return ret;
}

/* QEMU's exit status once it exited, or -1 if it still runs. */
static int side_exit_status(struct side *s, int secs)
{
	char out[64];

	if (host_run(s->h, out, sizeof(out), "qhost.sh qemu-wait %s %d",
		     s->qemu, secs) || !strncmp(out, "running", 7))
		return -1;
	return atoi(out);
}

/* QEMU's warnings (stderr lines saying so) fail @t unless worked around. */
static void side_warnings(struct test *t, struct side *s)
{
	static char out[1 << 16];
	char *p, *nl;

	if (!s->started ||
	    host_run(s->h, out, sizeof(out), "qhost.sh log %s", s->qemu))
		return;
	for (p = out; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (!strstr(p, "warning:"))
			continue;
		/* What enable-migration=on is for, QEMU warns of. */
		if (wa.warnings || (wa.enable_migration &&
				    strstr(p, "IOMMU dirty tracking")))
			printf("# %s QEMU (tolerated): %s\n", s->h->name, p);
		else
			t_fail(t, "%s QEMU: %s", s->h->name, p);
	}
}

/* Quit QEMU, remove the vGPU; on failure show what the host said. */
static void side_down(struct test *t, struct side *s)
{
	if (s->qt_open)
		qtest_close(&s->qt);
	if (s->qmp_open) {
		qmp_cmd(&s->qmp, NULL, "quit", NULL);
		qmp_close(&s->qmp);
	}
	if (s->started) {
		if (side_exit_status(s, 30) < 0)
			host_do(s->h, "qhost.sh qemu-kill %s", s->qemu);
		side_exit_status(s, 30);
		side_warnings(t, s);
		if (t->failed)
			host_dump(s->h, s->qemu);
	}
	if (s->mdev && host_do(s->h, "qhost.sh mdev-stop %s", s->uuid))
		t_fail(t, "%s: mdevctl stop %s failed", s->h->name, s->uuid);
	s->qt_open = false;
	s->qmp_open = false;
	s->started = false;
	s->mdev = false;
}

/* --------------------------------------------------------- migration */

/* query-migrate's status, or "" if QMP failed; *@reply the whole answer. */
static const char *mig_status(struct side *s, const char **reply)
{
	static char status[32];
	const char *r;

	status[0] = '\0';
	if (qmp_cmd(&s->qmp, &r, "query-migrate", NULL))
		return status;
	json_str(r, "return.status", status, sizeof(status));
	if (reply)
		*reply = r;
	return status;
}

/* Poll until the status is none of @busy ("|a|b|"); the last one seen. */
static const char *mig_wait(struct side *s, const char *busy)
{
	long long deadline = (long long)time(NULL) + HANG_S;
	const char *st;
	char pat[40];

	for (;;) {
		st = mig_status(s, NULL);
		snprintf(pat, sizeof(pat), "|%s|", st);
		if (!*st || !strstr(busy, pat) || time(NULL) > deadline)
			return st;
		usleep(100 * 1000);
	}
}

#define MIG_BUSY	"|none|setup|active|device|pre-switchover|cancelling|"

/* What QEMU says of its VM and its migration, into the log. */
static void qmp_dump(const struct test *t, struct side *s)
{
	const char *r;

	if (!qmp_cmd(&s->qmp, &r, "query-status", NULL))
		t_log(t, "%s: %s", s->h->name, r);
	if (!qmp_cmd(&s->qmp, &r, "query-migrate", NULL))
		t_log(t, "%s: %s", s->h->name, r);
}

/* A vGPU's migration_state in sysfs is @want. */
static int expect_state(struct test *t, struct side *s, const char *want)
{
	char buf[64];

	attr_get(s->h, s->uuid, "migration_state", buf, sizeof(buf));
	if (!strcmp(buf, want))
		return 0;
	t_fail(t, "%s's vGPU is in '%s', expected '%s'", s->h->name, buf, want);
	return -EIO;
}

/* QEMU's switchover-ack, and the return path it needs, on @s. */
static int mig_caps(struct side *s)
{
	return qmp_cmd(&s->qmp, NULL, "migrate-set-capabilities",
		       "\"capabilities\": [" CAP_ON ", " CAP_ON "]",
		       "return-path", "switchover-ack");
}

/*
 * Start migrating @a to @b through a held gate (gate.h) on this host:
 * QEMU iterates pre-copy until the gate is released.  With @active,
 * return once pre-copy runs, the source vGPU in pre_copy, and QEMU sent
 * all RAM once.
 */
static int mig_begin(struct test *t, struct side *a, struct side *b,
		     struct gate *gate, bool active)
{
	char dst[64];
	const char *st;
	unsigned int i;

	snprintf(dst, sizeof(dst), "%s:%d", b->h->ip, MIG_PORT);
	if (mig_caps(b) || mig_caps(a)) {
		t_fail(t, "migration capabilities: %s / %s", a->qmp.why,
		       b->qmp.why);
		return -EIO;
	}
	if (gate_open(gate, GATE_PORT, dst)) {
		t_fail(t, "no gate on port %d", GATE_PORT);
		return -EIO;
	}
	if (qmp_cmd(&a->qmp, NULL, "migrate", "\"uri\": \"tcp:%s:%d\"",
		    HOST_A, GATE_PORT)) {
		t_fail(t, "migrate: %s", a->qmp.why);
		return -EIO;
	}
	if (!active)
		return 0;
	st = mig_wait(a, "|none|setup|");
	if (strcmp(st, "active")) {
		t_fail(t, "migration is '%s', not active", st);
		qmp_dump(t, a);
		return -EIO;
	}
	/* The device is in pre-copy: it runs, and its VRAM is being sent. */
	if (expect_state(t, a, "pre_copy")) {
		qmp_dump(t, a);
		return -EIO;
	}
	/*
	 * QEMU syncs the dirty log a second time once its first pass over
	 * RAM is through: from then on a page the GPU writes reaches the
	 * destination only if dirty tracking reported it.
	 */
	for (i = 0; i < HANG_S * 10; i++) {
		const char *r = NULL;
		long long syncs = 0;

		st = mig_status(a, &r);
		if (strcmp(st, "active"))
			break;
		if (r && json_num(r, "ram.dirty-sync-count", &syncs) &&
		    syncs >= 2) {
			t_log(t, "pre-copy, RAM sent once");
			return 0;
		}
		usleep(100 * 1000);
	}
	t_fail(t, "no second dirty sync (migration '%s')", st);
	qmp_dump(t, a);
	return -EIO;
}

/*
 * Let QEMU switch over: open the gate.  While it was held there was
 * little left to send, so QEMU's measure of the bandwidth, by which it
 * judges whether the rest fits its downtime limit, says next to
 * nothing; tell it the link's real capacity instead.
 */
static int mig_switchover(struct test *t, struct side *a, struct gate *gate)
{
	if (qmp_cmd(&a->qmp, NULL, "migrate-set-parameters",
		    "\"avail-switchover-bandwidth\": %llu", SWITCHOVER_BW) ||
	    gate_release(gate)) {
		t_fail(t, "switchover: %s", a->qmp.why);
		return -EIO;
	}
	return 0;
}

/* The report: QEMU's figures beside ctxmig's. */
static void mig_report(struct test *t, struct side *a, struct side *b,
		       const char *qm)
{
	long long total = -1, down = -1, setup = -1, ram = -1, vfio = -1;
	long long syncs = -1;
	char sa[1024], sb[1024];

	json_num(qm, "total-time", &total);
	json_num(qm, "downtime", &down);
	json_num(qm, "setup-time", &setup);
	json_num(qm, "ram.transferred", &ram);
	json_num(qm, "ram.dirty-sync-count", &syncs);
	json_num(qm, "vfio.transferred", &vfio);
	attr_get(a->h, a->uuid, "stats", sa, sizeof(sa));
	attr_get(b->h, b->uuid, "stats", sb, sizeof(sb));
	t_log(t, "QEMU:   total %lld ms, downtime %lld ms, setup %lld ms",
	      total, down, setup);
	t_log(t, "QEMU:   RAM %lld bytes (%lld dirty syncs), vfio %lld bytes",
	      ram, syncs, vfio);
	t_log(t, "ctxmig: saved %lld bytes: pre-copy %lld ms, stop-copy %lld ms",
	      stat_of(sa, "bytes_saved"), stat_of(sa, "precopy_us") / 1000,
	      stat_of(sa, "stopcopy_us") / 1000);
	t_log(t, "ctxmig: restored %lld bytes in %lld ms",
	      stat_of(sb, "bytes_restored"), stat_of(sb, "restore_us") / 1000);
}

/* @s's VM runs (the end of a migration into it); 0 or -ETIMEDOUT. */
static int wait_running(struct test *t, struct side *s)
{
	unsigned int i;

	for (i = 0; i < HANG_S * 10; i++) {
		const char *r;
		char rs[32] = "";

		if (qmp_cmd(&s->qmp, &r, "query-status", NULL))
			break;
		json_str(r, "return.status", rs, sizeof(rs));
		if (!strcmp(rs, "running"))
			return 0;
		usleep(100 * 1000);
	}
	t_fail(t, "%s's VM is not running", s->h->name);
	qmp_dump(t, s);
	return -ETIMEDOUT;
}

/* A vGPU of @model on @h with a QEMU on it, booted in @mode. */
static int side_up(struct test *t, struct side *s, const struct host *h,
		   const char *model, const char *mode)
{
	side_init(s, h, model);
	if (side_mdev(t, s) || side_qemu(t, s, mode, false) ||
	    side_boot(t, s, mode))
		return -EIO;
	return 0;
}

/*
 * The migration tests' guest: one workload that migrates hop after hop
 * between the two hosts, through one model after another.  @s[@cur]
 * runs it; the other side is set up for each hop and the old one ends.
 */
struct chain {
	struct side s[2];
	unsigned int cur;
	char mode[8];
	struct gw x;
	bool live;
};

static void chain_end(struct test *t, struct chain *c)
{
	gw_free(&c->x);
	side_down(t, &c->s[0]);
	side_down(t, &c->s[1]);
	c->live = false;
}

/* A fresh guest on host A: @model, booted in @mode, its workload begun. */
static int chain_start(struct test *t, struct chain *c, const char *model,
		       const char *mode, uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->mode, sizeof(c->mode), "%s", mode);
	c->live = true;
	if (side_up(t, &c->s[0], &host_a, model, mode) ||
	    gw_start(t, &c->x, &c->s[0].v.dev, seed) ||
	    gw_batch(t, &c->x, false) || gw_batch(t, &c->x, true) ||
	    gw_wait(t, &c->x))
		return -EIO;
	t_log(t, "a new guest on %s, %s, mode %s", c->s[0].h->name, model,
	      mode);
	return 0;
}

/*
 * QEMU on a tight budget: 64 KiB/s and the default 300 ms downtime
 * limit, no gate.  QEMU switches over once what is left fits the
 * downtime limit at the switchover bandwidth, here 19.6 KB (the
 * bandwidth given as avail-switchover-bandwidth: what QEMU measures on
 * this link varies with the load of the machine), and what is left
 * includes the device's stop-copy estimate (MIG_DATA_SIZE): a device
 * that overstates it never converges.  The guest is idle meanwhile:
 * nothing holds the switchover back.
 */
static int mig_budget(struct test *t, struct side *a, struct side *b)
{
	if (qmp_cmd(&a->qmp, NULL, "migrate-set-parameters",
		    BUDGET_ARGS, BUDGET_BW, BUDGET_DOWNTIME, BUDGET_BW) ||
	    qmp_cmd(&a->qmp, NULL, "migrate", "\"uri\": \"tcp:%s:%d\"",
		    b->h->ip, MIG_PORT)) {
		t_fail(t, "migrate: %s", a->qmp.why);
		return -EIO;
	}
	t_log(t, "migrating at %u bytes/s, downtime limit %u ms", BUDGET_BW,
	      BUDGET_DOWNTIME);
	return 0;
}

/*
 * One live migration of the working guest to a vGPU of @dst on the other
 * host; see the top of this file.  With @budget, see mig_budget().
 */
static int chain_hop(struct test *t, struct chain *c, const char *dst,
		     bool budget)
{
	struct gate gate = { .pid = -1, .ctl = -1 };
	struct side *a = &c->s[c->cur], *b = &c->s[!c->cur];
	struct gw *x = &c->x;
	struct guest gb = {};
	const char *st, *qm = NULL;
	char qmcopy[4096] = "";
	unsigned int i;
	long long migrated;
	uint64_t at_stop;
	int ret = -EIO;

	side_init(b, a->h == &host_a ? &host_b : &host_a, dst);
	if (side_mdev(t, b) || side_qemu(t, b, c->mode, true))
		goto out;
	if (budget) {
		if (mig_budget(t, a, b))
			goto out;
		goto switchover;
	}

	/*
	 * The guest works through pre-copy: VRAM and guest RAM written
	 * after QEMU sent them (the switchover waits for the gate).
	 */
	if (mig_begin(t, a, b, &gate, true))
		goto out;
	for (i = 0; i < PRECOPY_BATCHES; i++)
		if (gw_batch(t, x, i & 1) || gw_wait(t, x))
			goto out;
	st = mig_status(a, NULL);
	if (strcmp(st, "active")) {
		t_fail(t, "migration '%s' before the gate opened", st);
		goto out;
	}
	t_log(t, "%u batches ran on %s during pre-copy", PRECOPY_BATCHES,
	      a->h->name);

	/* The last batch, slowed down so that it is pending at the stop. */
	if (host_do(a->h, "qhost.sh attr %s throttle " THROTTLE, a->uuid) ||
	    gw_batch(t, x, true) || mig_switchover(t, a, &gate))
		goto out;
switchover:
	st = mig_wait(a, MIG_BUSY);
	if (strcmp(st, "completed")) {
		t_fail(t, "migration ended '%s'", st);
		qmp_dump(t, a);
		goto out;
	}
	mig_status(a, &qm);
	if (qm)
		snprintf(qmcopy, sizeof(qmcopy), "%s", qm);
	/* The source is stopped: what it did is what it had done. */
	at_stop = guest_fence(&x->g);
	t_log(t, "switched over, fence %llu of %llu at the stop",
	      (unsigned long long)at_stop, (unsigned long long)x->w.seq);

	/* The destination's VM runs; the guest driver recovers there. */
	if (wait_running(t, b) || side_cpu(t, b, false))
		goto out;
	migrated = vdev_ctl(&b->v.dev, GUEST_CTL_MIGRATED);
	if (migrated != 1) {
		t_fail(t, "%s's MIGRATED counter is %lld, expected 1",
		       b->h->name, migrated);
		goto out;
	}
	if (guest_fork(&gb, &x->g, &b->v.dev)) {
		t_fail(t, "recovery on %s: %s", b->h->name, gb.why);
		guest_fini(&gb);
		goto out;
	}
	guest_fini(&x->g);
	x->g = gb;
	if (strcmp(guest_model_name(&x->g), dst)) {
		t_fail(t, "%s's device is a %s, expected %s", b->h->name,
		       guest_model_name(&x->g), dst);
		goto out;
	}
	t_log(t, "recovered on %s as %s", b->h->name,
	      guest_model_name(&x->g));

	/* What was pending, then new work in the new model's format. */
	if (gw_wait(t, x) || gw_batch(t, x, true) || gw_batch(t, x, false) ||
	    gw_wait(t, x) || gw_check(t, x))
		goto out;
	t_log(t, "every byte checked on %s", b->h->name);
	mig_report(t, a, b, qmcopy);
	ret = 0;
out:
	gate_close(&gate);
	/* The old side ends; the guest runs on the new one. */
	if (!ret) {
		side_down(t, a);
		c->cur = !c->cur;
	}
	return ret;
}

/*
 * Migrate the chain's guest from @src to @dst in @mode.  A chain whose
 * guest is not on @src in @mode (the first test, or after a failure)
 * starts again with a new guest.
 */
static bool test_migrate(struct chain *c, const char *src, const char *dst,
			 const char *mode, uint64_t seed)
{
	struct test t;

	t_begin(&t, "migrate_%s_to_%s_%s", src, dst, mode);
	if (c->live && (strcmp(c->s[c->cur].model, src) ||
			strcmp(c->mode, mode)))
		chain_end(&t, c);
	if ((!c->live && chain_start(&t, c, src, mode, seed)) ||
	    chain_hop(&t, c, dst, false))
		chain_end(&t, c);
	return t_end(&t);
}

/* A new guest migrates from @src to @dst at 64 KiB/s; see mig_budget(). */
static bool test_budget(struct chain *c, const char *src, const char *dst,
			uint64_t seed)
{
	struct test t;

	t_begin(&t, "budget_64k_%s_to_%s", src, dst);
	if (c->live)
		chain_end(&t, c);
	if (chain_start(&t, c, src, "S", seed) || chain_hop(&t, c, dst, true))
		chain_end(&t, c);
	return t_end(&t);
}

/* The failure tests (mdevctl, QEMU and the guest as in test_migrate). */
enum failure {
	CANCEL,		/* migrate_cancel during pre-copy */
	DST_KILLED,	/* the destination QEMU killed mid-stream */
	DST_REFUSES,	/* the destination's VA width is too small */
	SRC_KILLED,	/* the source QEMU killed mid-stream */
};

static const char *const failure_names[] = {
	[CANCEL] = "cancel_during_precopy",
	[DST_KILLED] = "destination_killed",
	[DST_REFUSES] = "destination_refuses",
	[SRC_KILLED] = "source_killed",
};

/* The guest carries on where it is: two more batches, every byte. */
static int carry_on(struct test *t, struct gw *x)
{
	if (gw_batch(t, x, false) || gw_batch(t, x, true) || gw_wait(t, x) ||
	    gw_check(t, x))
		return -EIO;
	t_log(t, "the guest carried on, every byte checked");
	return 0;
}

/* Host B's QEMU ended on its own, with an error. */
static int dst_ended(struct test *t, struct side *b)
{
	int rc = side_exit_status(b, HANG_S);

	if (rc <= 0) {
		t_fail(t, "B's QEMU %s", rc ? "did not end" : "exited 0");
		return -EIO;
	}
	t_log(t, "B's QEMU exited %d", rc);
	return 0;
}

/*
 * The lines of @h's log of QEMU @qemu (or of its kernel log, @qemu NULL)
 * that have @what, warnings left out, into @t's log; false if none.
 */
static bool log_show(const struct test *t, const struct host *h,
		     const char *qemu, const char *what)
{
	static char out[1 << 16];
	bool found = false;
	char *p, *eol;

	if (qemu)
		host_run(h, out, sizeof(out), "qhost.sh log %s", qemu);
	else
		host_run(h, out, sizeof(out), "qhost.sh dmesg 200");
	for (p = out; *p; p = eol + 1) {
		eol = strchr(p, '\n');
		if (!eol)
			break;
		*eol = '\0';
		if (strstr(p, what) && !strstr(p, "warning:")) {
			t_log(t, "%s %s: %s", h->name, qemu ? qemu : "kernel",
			      p);
			found = true;
		}
	}
	return found;
}

static bool test_failure(enum failure f, const char *model, uint64_t seed)
{
	struct gate gate = { .pid = -1, .ctl = -1 };
	struct side a, b;
	struct gw x = {};
	const char *st;
	struct test t;

	t_begin(&t, "%s_%s", failure_names[f], model);
	side_init(&a, &host_a, model);
	side_init(&b, &host_b, model);
	if (side_mdev(&t, &a) || side_mdev(&t, &b))
		goto out;
	/* A destination that gives its guest fewer VA bits than the source. */
	if (f == DST_REFUSES &&
	    host_do(b.h, "qhost.sh attr %s va_bits 40", b.uuid)) {
		t_fail(&t, "B: writing va_bits failed");
		goto out;
	}
	if (side_qemu(&t, &b, "S", true) || side_qemu(&t, &a, "S", false) ||
	    side_boot(&t, &a, "S"))
		goto out;
	if (gw_start(&t, &x, &a.v.dev, seed) || gw_batch(&t, &x, true) ||
	    gw_wait(&t, &x))
		goto out;

	if (f == DST_REFUSES) {
		/* B refuses the stream's first bytes: no pre-copy to wait for. */
		if (mig_begin(&t, &a, &b, &gate, false))
			goto out;
		st = mig_wait(&a, MIG_BUSY);
		if (strcmp(st, "failed")) {
			t_fail(&t, "migration ended '%s', expected failed", st);
			goto out;
		}
		if (dst_ended(&t, &b))
			goto out;
		/* QEMU says the load failed; ctxmig says why. */
		if (!log_show(&t, b.h, b.qemu, "qemu-system-x86_64: "))
			t_fail(&t, "B's QEMU did not report the failed load");
		if (!log_show(&t, b.h, NULL, "-bit GPU VAs"))
			t_fail(&t, "B's kernel log lacks ctxmig's reason");
	} else {
		if (mig_begin(&t, &a, &b, &gate, true) ||
		    gw_batch(&t, &x, false) || gw_wait(&t, &x))
			goto out;
	}

	switch (f) {
	case CANCEL:
		if (qmp_cmd(&a.qmp, NULL, "migrate_cancel", NULL)) {
			t_fail(&t, "migrate_cancel: %s", a.qmp.why);
			goto out;
		}
		st = mig_wait(&a, MIG_BUSY);
		if (strcmp(st, "cancelled")) {
			t_fail(&t, "migration ended '%s', expected cancelled",
			       st);
			goto out;
		}
		if (dst_ended(&t, &b))
			goto out;
		break;
	case DST_KILLED:
		host_do(b.h, "qhost.sh qemu-kill %s", b.qemu);
		st = mig_wait(&a, MIG_BUSY);
		if (strcmp(st, "failed")) {
			t_fail(&t, "migration ended '%s', expected failed", st);
			goto out;
		}
		break;
	case DST_REFUSES:
		break;
	case SRC_KILLED:
		host_do(a.h, "qhost.sh qemu-kill %s", a.qemu);
		if (dst_ended(&t, &b))
			goto out;
		/* B's vGPU under a new QEMU (which resets it): it works. */
		gw_free(&x);
		side_down(&t, &a);
		qmp_close(&b.qmp);
		b.qmp_open = false;
		snprintf(b.qemu + strlen(b.qemu), sizeof(b.qemu) - strlen(b.qemu),
			 "-again");
		if (side_qemu(&t, &b, "S", false) || side_boot(&t, &b, "S") ||
		    expect_state(&t, &b, "running") ||
		    gw_start(&t, &x, &b.v.dev, seed + 1) || carry_on(&t, &x))
			goto out;
		goto out;
	}
	/* The source runs on and the guest finishes its work there. */
	if (expect_state(&t, &a, "running") || carry_on(&t, &x))
		goto out;
out:
	gate_close(&gate);
	gw_free(&x);
	side_down(&t, &a);
	side_down(&t, &b);
	return t_end(&t);
}

/* mdevctl on @h lists every ctxmig type. */
static bool test_types(const struct host *h)
{
	static char out[1 << 14];
	struct test t;
	unsigned int i;
	int ret;

	t_begin(&t, "mdevctl_types_host_%s", h->name);
	ret = host_run(h, out, sizeof(out), "qhost.sh types");
	if (ret)
		t_fail(&t, "mdevctl types: %d", ret);
	for (i = 0; i < ARRAY_LEN(models); i++) {
		char type[48];

		snprintf(type, sizeof(type), "ctxmig-%s", models[i]);
		if (!strstr(out, type))
			t_fail(&t, "mdevctl types does not list %s", type);
	}
	if (t.failed)
		print_lines("mdevctl: ", out);
	return t_end(&t);
}

int main(int argc, char **argv)
{
	const char *pairs = "amd-gfx9:nv-ampere:S nv-ampere:amd-gfx9:S";
	const char *failures = NULL, *workarounds = "";
	char *list, *tok, *save, *done, key[48];
	size_t size;
	unsigned int failed = 0, i;
	static struct chain chain;
	uint64_t seed = 0x5eed0000;

	for (i = 1; i + 1 < (unsigned int)argc; i += 2) {
		if (!strcmp(argv[i], "--pairs"))
			pairs = argv[i + 1];
		else if (!strcmp(argv[i], "--failures"))
			failures = argv[i + 1];
		else if (!strcmp(argv[i], "--workarounds"))
			workarounds = argv[i + 1];
	}
	wa.enable_migration = strstr(workarounds, "enable-migration");
	wa.same_model = strstr(workarounds, "same-model");
	wa.warnings = strstr(workarounds, "warnings");
	wa.estimates = strstr(workarounds, "estimates");
	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Requests cross a TCG VM's network: be patient, it is no hang. */
	guest_timeout_ms = 60 * 1000;

	printf("KTAP version 1\n");
	printf("# workarounds: %s\n", *workarounds ? workarounds : "none");
	failed += !test_types(&host_a);
	failed += !test_types(&host_b);

	list = strdup(pairs);
	size = strlen(pairs) * 2 + 2;
	done = calloc(1, size);
	if (!list || !done)
		return 1;
	done[0] = ' ';
	for (tok = strtok_r(list, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char src[32], dst[32], mode[8];

		if (sscanf(tok, "%31[^:]:%31[^:]:%7s", src, dst, mode) != 3) {
			printf("# bad pair '%s'\n", tok);
			failed++;
			continue;
		}
		if (wa.same_model && strcmp(src, dst)) {
			printf("# workaround same-model: %s -> %s instead of %s -> %s\n",
			       src, src, src, dst);
			snprintf(dst, sizeof(dst), "%s", src);
			/* Once per model and mode is enough. */
			snprintf(key, sizeof(key), " %s:%s ", src, mode);
			if (strstr(done, key))
				continue;
			snprintf(done + strlen(done), size - strlen(done),
				 "%s", key + 1);
		}
		failed += !test_migrate(&chain, src, dst, mode, seed++);
	}
	free(list);
	free(done);
	if (!wa.estimates)
		failed += !test_budget(&chain, "amd-gfx9",
				       wa.same_model ? "amd-gfx9" : "nv-ampere",
				       seed++);
	if (chain.live) {
		struct test t = { .name = "end" };

		chain_end(&t, &chain);
	}
	if (failures)
		for (i = 0; i < ARRAY_LEN(failure_names); i++)
			failed += !test_failure(i, failures, seed++);
	printf("1..%u\n", test_num);
	printf("# totals: %u tests, %u failed\n", test_num, failed);
	host_do(&host_b, "touch /tmp/ctxmig-done");
	return failed ? 1 : 0;
}
