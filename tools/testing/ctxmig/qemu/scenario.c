// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig qemu tier: the scenario machinery; see scenario.h.
 *
 * A migration (chain_hop()): the guest sets its GPU up (page tables,
 * ring, a mapping of guest RAM), fills VRAM and runs batches of commands
 * that write and copy in VRAM and into guest RAM.  QMP "migrate" starts,
 * held before the switchover (see gate.h); once QEMU has sent all guest
 * RAM once, the guest goes on submitting, so the GPU writes VRAM and
 * guest RAM (by DMA) after pre-copy sent them, and QEMU can learn of the
 * latter only through dirty tracking (the device's DMA logging, or where
 * the kernel cannot report that, the type1 container's bitmap).  The
 * last batch goes in with the engine throttled, so that commands are
 * pending at the stop, and the gate opens.  QEMU switches over; on the
 * destination the guest driver recovers (guest_recover(), the model may
 * have changed), the pending commands finish there, more batches run in
 * the new model's format, and every byte of the data in VRAM and of the
 * guest RAM the GPU wrote is checked against a reference computed here.
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

#include "scenario.h"
#include "gate.h"

/* The hosts on their private link, and the ports the hosts serve. */
#define HOST_A		"192.168.100.1"
#define HOST_B		"192.168.100.2"
#define AGENT_PORT	7000
#define MIG_PORT	4444
#define QMP_PORT	4445
#define QTEST_PORT	4446
#define GATE_PORT	5444	/* on host A, see gate.h */

/* struct gw's buffer holds either. */
static_assert(SYS_SIZE <= GUEST_DATA_SIZE, "guest RAM buffer");

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

/* What QEMU says when enable-migration=on stands in for DMA logging. */
#define NO_DIRTY_TRACKING "VFIO device doesn't support device and IOMMU dirty tracking"

bool no_dma_logging;
unsigned int vram_mib;

const struct host host_a = { "A", HOST_A };
const struct host host_b = { "B", HOST_B };

/* ------------------------------------------------------------ results */

static unsigned int test_num;
static struct timespec t0;

/**
 * scenario_init() - the machinery's options, and the log's clock
 * @argc: the program's argument count, less the options taken.
 * @argv: its arguments, the options taken out.
 */
void scenario_init(int *argc, char **argv)
{
	int i, n = 1;

	for (i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--no-dma-logging"))
			no_dma_logging = true;
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	*argc = n;
	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Requests cross a TCG VM's network: be patient, it is no hang. */
	guest_timeout_ms = 60 * 1000;
}

double elapsed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec - t0.tv_sec + (ts.tv_nsec - t0.tv_nsec) / 1e9;
}

void t_log(const struct test *t, const char *fmt, ...)
{
	va_list ap;

	printf("# [%7.1f] %s: ", elapsed(), t->name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void t_fail(struct test *t, const char *fmt, ...)
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

void t_begin(struct test *t, const char *fmt, ...)
{
	va_list ap;

	memset(t, 0, sizeof(*t));
	va_start(ap, fmt);
	vsnprintf(t->name, sizeof(t->name), fmt, ap);
	va_end(ap);
	t_log(t, "begin");
}

bool t_end(struct test *t)
{
	if (t->failed)
		t_log(t, "FAILED: %s", t->why);
	printf("%sok %u %s\n", t->failed ? "not " : "", ++test_num, t->name);
	fflush(stdout);
	return !t->failed;
}

unsigned int t_count(void)
{
	return test_num;
}

/* ---------------------------------------------------------- the hosts */

int host_run(const struct host *h, char *out, size_t size,
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

void print_lines(const char *prefix, const char *text)
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

int attr_get(const struct host *h, const char *uuid, const char *attr,
	     char *out, size_t size)
{
	int ret = host_run(h, out, size, "qhost.sh attr %s %s", uuid, attr);
	size_t n = strlen(out);

	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	return ret;
}

long long stat_of(const char *stats, const char *key)
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

void gw_free(struct gw *x)
{
	if (x->live)
		guest_fini(&x->g);
	wl_free(&x->w);
	free(x->sysref);
	free(x->buf);
	memset(x, 0, sizeof(*x));
}

int gw_start(struct test *t, struct gw *x, struct vdev *dev, uint64_t seed)
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

/**
 * gw_submit() - submit commands with a fence after them
 * @t: the test.
 * @x: the guest.
 * @c: @n commands, and room for one more: the fence.
 * @n: the number of commands.
 * @ib: through an indirect buffer.
 *
 * Return: 0 or a negative errno, @t failed.
 */
int gw_submit(struct test *t, struct gw *x, struct guest_cmd *c,
	      unsigned int n, bool ib)
{
	int ret;

	memset(&c[n], 0, sizeof(c[n]));
	c[n].op = CTXMIG_OP_FENCE;
	c[n].dst = GUEST_DATA_VA + FENCE_OFF;
	c[n].value = ++x->w.seq;
	wl_apply(&x->w, &c[n]);
	ret = guest_submit(&x->g, c, n + 1, ib);
	if (ret)
		t_fail(t, "submitting on %s: %s", guest_model_name(&x->g),
		       x->g.why);
	return ret;
}

/* Submit one batch: VRAM work, guest RAM work, a fence. */
int gw_batch(struct test *t, struct gw *x, bool ib)
{
	struct guest_cmd c[PER_BATCH + SYS_PER_BATCH + 1];
	unsigned int n;
	int ret;

	n = wl_gen(&x->w, c, PER_BATCH);
	n += sys_gen(x, c + n, SYS_PER_BATCH);
	ret = gw_submit(t, x, c, n, ib);
	if (!ret)
		x->batches++;
	return ret;
}

int gw_wait(struct test *t, struct gw *x)
{
	int ret = guest_wait_fence(&x->g, x->w.seq);

	ret = ret ?: guest_wait_idle(&x->g);
	if (ret)
		t_fail(t, "waiting on %s: %s", guest_model_name(&x->g),
		       x->g.why);
	return ret;
}

int gw_check(struct test *t, struct gw *x)
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

void side_init(struct side *s, const struct host *h, const char *model)
{
	static unsigned int n;

	memset(s, 0, sizeof(*s));
	s->h = h;
	snprintf(s->qemu, sizeof(s->qemu), "q%u", ++n);
	snprintf(s->model, sizeof(s->model), "%s", model);
	make_uuid(s->uuid);
}

int side_mdev(struct test *t, struct side *s)
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
	if (vram_mib && host_do(s->h, "qhost.sh attr %s vram_mib %u", s->uuid,
				vram_mib)) {
		t_fail(t, "%s: vram_mib %u failed", s->h->name, vram_mib);
		return -EIO;
	}
	return 0;
}

/* Start QEMU on the vGPU and connect to its QMP socket. */
int side_qemu(struct test *t, struct side *s, const char *mode,
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

int side_cpu(struct test *t, struct side *s, bool program)
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
int side_boot(struct test *t, struct side *s, const char *mode)
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

int side_exit_status(struct side *s, int secs)
{
	char out[64];

	if (host_run(s->h, out, sizeof(out), "qhost.sh qemu-wait %s %d",
		     s->qemu, secs) || !strncmp(out, "running", 7))
		return -1;
	return atoi(out);
}

/*
 * A warning of QEMU (a stderr line saying so) fails @t, but one: where
 * the kernel cannot report DMA logging (no_dma_logging), QEMU warns that
 * the device lacks dirty tracking, as enable-migration=on makes it do,
 * and then it must: otherwise the option was not needed.
 */
static void side_warnings(struct test *t, struct side *s)
{
	static char out[1 << 16];
	static bool shown;
	bool expected = false;
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
		if (no_dma_logging && strstr(p, NO_DIRTY_TRACKING)) {
			expected = true;
			if (!shown)
				printf("# %s QEMU (expected, each one): %s\n",
				       s->h->name, strstr(p, "warning:"));
			shown = true;
		} else {
			t_fail(t, "%s QEMU: %s", s->h->name, p);
		}
	}
	if (no_dma_logging && s->mdev && !expected)
		t_fail(t, "%s QEMU did not warn \"%s\": enable-migration=on not needed",
		       s->h->name, NO_DIRTY_TRACKING);
}

void side_down(struct test *t, struct side *s)
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

const char *mig_status(struct side *s, const char **reply)
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

const char *mig_wait(struct side *s, const char *busy)
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

void qmp_dump(const struct test *t, struct side *s)
{
	const char *r;

	if (!qmp_cmd(&s->qmp, &r, "query-status", NULL))
		t_log(t, "%s: %s", s->h->name, r);
	if (!qmp_cmd(&s->qmp, &r, "query-migrate", NULL))
		t_log(t, "%s: %s", s->h->name, r);
}

int expect_state(struct test *t, struct side *s, const char *want)
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

/* The gate listens on host A (this host). */
int mig_begin(struct test *t, struct side *a, struct side *b,
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
	t_log(t, "QMP migrate to %s, the switchover held", b->h->name);
	if (!active)
		return 0;
	st = mig_wait(a, "|none|setup|");
	if (strcmp(st, "active")) {
		t_fail(t, "migration is '%s', not active", st);
		qmp_dump(t, a);
		return -EIO;
	}
	/* The device is in pre-copy: it runs, and its VRAM is being sent. */
	if (a->mdev && expect_state(t, a, "pre_copy")) {
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
int mig_switchover(struct test *t, struct side *a, struct gate *gate)
{
	if (qmp_cmd(&a->qmp, NULL, "migrate-set-parameters",
		    "\"avail-switchover-bandwidth\": %llu", SWITCHOVER_BW) ||
	    gate_release(gate)) {
		t_fail(t, "switchover: %s", a->qmp.why);
		return -EIO;
	}
	return 0;
}

int wait_running(struct test *t, struct side *s)
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

int side_up(struct test *t, struct side *s, const struct host *h,
	    const char *model, const char *mode)
{
	side_init(s, h, model);
	if (side_mdev(t, s) || side_qemu(t, s, mode, false) ||
	    side_boot(t, s, mode))
		return -EIO;
	return 0;
}

void chain_end(struct test *t, struct chain *c)
{
	gw_free(&c->x);
	side_down(t, &c->s[0]);
	side_down(t, &c->s[1]);
	c->live = false;
}

int chain_start(struct test *t, struct chain *c, const char *model,
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
 * that overstates it never converges, one that understates it overruns
 * the downtime limit.  The guest is idle meanwhile: nothing holds the
 * switchover back.
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

long long budget_bytes(void)
{
	return (long long)BUDGET_BW * BUDGET_DOWNTIME / 1000;
}

/* The number after @key in @line; false if @key is not there. */
static bool num_after(const char *line, const char *key, long long *val)
{
	const char *p = strstr(line, key);

	if (!p)
		return false;
	*val = strtoll(p + strlen(key), NULL, 0);
	return true;
}

/*
 * Read QEMU @s's trace (qhost.sh trace: the events of its vfio device,
 * the estimates after the first left out) into @tr.
 */
static int vfio_trace_read(struct test *t, struct side *s,
			   struct vfio_trace *tr)
{
	static char out[1 << 20];
	bool stopped = false;
	char *p, *nl;
	long long v;

	memset(tr, 0, sizeof(*tr));
	tr->setup_initial = -1;
	tr->setup_dirty = -1;
	tr->precopy_end = -1;
	if (host_run(s->h, out, sizeof(out), "qhost.sh trace %s", s->qemu)) {
		t_fail(t, "%s: no trace of QEMU %s", s->h->name, s->qemu);
		return -EIO;
	}
	for (p = out; *p; p = nl + 1) {
		long long read = tr->precopy_bytes + tr->stopcopy_bytes;

		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (strstr(p, "vfio_migration_set_state ")) {
			if (strstr(p, "new state STOP_COPY"))
				stopped = true;
		} else if (strstr(p, "vfio_save_block ")) {
			if (!num_after(p, "data_size ", &v))
				continue;
			if (stopped) {
				tr->stopcopy_bytes += v;
				tr->stopcopy_reads++;
			} else {
				tr->precopy_bytes += v;
				tr->precopy_reads++;
			}
		} else if (strstr(p, "vfio_save_block_precopy_empty_hit ")) {
			if (tr->precopy_end < 0 && !stopped)
				tr->precopy_end = read;
		} else if (strstr(p, "vfio_state_pending_estimate ")) {
			if (tr->setup_initial < 0 && !read &&
			    num_after(p, "initial size ", &tr->setup_initial))
				num_after(p, "dirty size ", &tr->setup_dirty);
		} else if (strstr(p, "vfio_state_pending_exact ")) {
			unsigned int i = tr->n_exact++;

			if (i >= VFIO_EXACT_MAX)
				continue;
			num_after(p, "stopcopy size ", &tr->exact[i].stopcopy);
			num_after(p, "initial size ", &tr->exact[i].initial);
			num_after(p, "dirty size ", &tr->exact[i].dirty);
			tr->exact[i].read = read;
			tr->exact[i].precopy = !stopped;
			if (tr->precopy_end < 0 && !stopped &&
			    !tr->exact[i].initial && !tr->exact[i].dirty)
				tr->precopy_end = read;
		}
	}
	return 0;
}

/* What QEMU and both vGPUs say of the migration @a -> @b, in @hop. */
static void hop_figures(struct test *t, struct side *a, struct side *b,
			const char *qm, struct hop *hop)
{
	json_num(qm, "total-time", &hop->total_ms);
	json_num(qm, "downtime", &hop->downtime_ms);
	json_num(qm, "setup-time", &hop->setup_ms);
	json_num(qm, "ram.transferred", &hop->ram_bytes);
	json_num(qm, "ram.dirty-sync-count", &hop->ram_syncs);
	json_num(qm, "vfio.transferred", &hop->vfio_bytes);
	attr_get(a->h, a->uuid, "stats", hop->stats_src,
		 sizeof(hop->stats_src));
	attr_get(b->h, b->uuid, "stats", hop->stats_dst,
		 sizeof(hop->stats_dst));
	attr_get(a->h, a->uuid, "ir_dump", hop->ir_dump, sizeof(hop->ir_dump));
	vfio_trace_read(t, a, &hop->tr);
	hop->bytes_saved = stat_of(hop->stats_src, "bytes_saved");
	hop->bytes_restored = stat_of(hop->stats_dst, "bytes_restored");
	t_log(t, "QEMU:   total %lld ms, downtime %lld ms, setup %lld ms",
	      hop->total_ms, hop->downtime_ms, hop->setup_ms);
	t_log(t, "QEMU:   RAM %lld bytes (%lld dirty syncs), vfio %lld bytes",
	      hop->ram_bytes, hop->ram_syncs, hop->vfio_bytes);
	t_log(t, "QEMU:   vfio pre-copy %lld bytes in %u reads, stop-copy %lld in %u",
	      hop->tr.precopy_bytes, hop->tr.precopy_reads,
	      hop->tr.stopcopy_bytes, hop->tr.stopcopy_reads);
	t_log(t, "ctxmig: saved %lld bytes: pre-copy %lld ms, stop-copy %lld ms",
	      hop->bytes_saved, stat_of(hop->stats_src, "precopy_us") / 1000,
	      stat_of(hop->stats_src, "stopcopy_us") / 1000);
	t_log(t, "ctxmig: restored %lld bytes in %lld ms", hop->bytes_restored,
	      stat_of(hop->stats_dst, "restore_us") / 1000);
	/* Both ends count the stream QEMU carried, byte for byte. */
	if (hop->bytes_saved != hop->vfio_bytes ||
	    hop->bytes_restored != hop->vfio_bytes)
		t_fail(t, "QEMU carried %lld device bytes, ctxmig saved %lld and restored %lld",
		       hop->vfio_bytes, hop->bytes_saved, hop->bytes_restored);
}

int chain_hop(struct test *t, struct chain *c, const char *dst, bool budget,
	      struct hop *hop)
{
	struct gate gate = { .pid = -1, .ctl = -1 };
	struct side *a = &c->s[c->cur], *b = &c->s[!c->cur];
	struct gw *x = &c->x;
	struct guest gb = {};
	const char *st, *qm = NULL;
	char qmcopy[4096] = "";
	static struct hop spare;
	unsigned int i, before;
	long long migrated;
	int ret = -EIO;

	if (!hop)
		hop = &spare;
	memset(hop, 0, sizeof(*hop));
	side_init(b, a->h == &host_a ? &host_b : &host_a, dst);
	if (side_mdev(t, b) || side_qemu(t, b, c->mode, true))
		goto out;
	t_log(t, "%s: a %s vGPU (mdevctl) under a QEMU that waits (-incoming)",
	      b->h->name, dst);
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
	before = x->batches;
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
	if (c->held && c->held(t, c))
		goto out;

	/* The last batch, slowed down so that it is pending at the stop. */
	if (host_do(a->h, "qhost.sh attr %s throttle " THROTTLE, a->uuid) ||
	    gw_batch(t, x, true) || mig_switchover(t, a, &gate))
		goto out;
	t_log(t, "one more batch, slowed down to be pending at the stop; switchover let go");
	hop->batches_precopy = x->batches - before;
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
	hop->fence_at_stop = guest_fence(&x->g);
	hop->seq_at_stop = x->w.seq;
	t_log(t, "switched over, fence %llu of %llu at the stop",
	      (unsigned long long)hop->fence_at_stop,
	      (unsigned long long)x->w.seq);

	/* The destination's VM runs; the guest driver recovers there. */
	if (wait_running(t, b) || side_cpu(t, b, false))
		goto out;
	/*
	 * One more than the source's count, whatever the hop
	 * (guest-interface.rst, "Control page": MIGRATED).
	 */
	migrated = vdev_ctl(&b->v.dev, GUEST_CTL_MIGRATED);
	if (migrated != x->g.migrated + 1LL) {
		t_fail(t, "%s's MIGRATED counter is %lld, expected %llu",
		       b->h->name, migrated, x->g.migrated + 1ULL);
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
	hop_figures(t, a, b, qmcopy, hop);
	ret = t->failed ? -EIO : 0;
out:
	gate_close(&gate);
	/* The old side ends; the guest runs on the new one. */
	if (!ret) {
		side_down(t, a);
		c->cur = !c->cur;
	}
	return ret;
}
