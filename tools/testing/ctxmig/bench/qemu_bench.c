// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig QEMU bench (make bench, its QEMU part): QEMU 10's own
 * query-migrate figures for a VM with a vGPU against the same VM without
 * one, migrated from VM host A to VM host B in the same run.  Runs on
 * host A in the qemu tier's place (tools/testing/ctxmig/qemu/run.sh,
 * QEMU_MAIN; qemu/bench.sh), with the tier's scenario machinery
 * (qemu/scenario.h).
 *
 *  1. The vGPU VM: an amd-gfx9 vGPU of 256 MiB VRAM (ctxmig/vram_mib) on
 *     host A, the guest driver set up as the tier's tests set it up.  The
 *     GPU fills FILL_SIZE bytes of VRAM, the guest's VRAM above its own
 *     structures to the end of its part, with copies from a random seed in
 *     guest RAM (each MiB a different shift of it: every page differs);
 *     the fill is timed.  QMP "migrate" to an nv-ampere vGPU on host B,
 *     the switchover held (chain_hop()); once the device's first pre-copy
 *     pass is through (vram_dirty_pages 0), the GPU rewrites DIRTY_CHUNKS
 *     MiB of it, pre-copy sends them again, and the switchover goes.  On
 *     host B the guest driver recovers, the tier's checks run (the
 *     workload's data, the device bytes QEMU carried against ctxmig's
 *     count), and the GPU copies the filled VRAM, 16 MiB at a time, into
 *     guest RAM, which QEMU saves (QMP pmemsave) for cksum(1) on host B:
 *     each sum must be that of the bytes the GPU was told to write,
 *     summed here.
 *  2. The plain VM: the same QEMU without the vfio-pci device, migrated
 *     the same way: the same capabilities and gate, the switchover let go
 *     once QEMU sent all RAM once.
 *
 * The two migrate in turn ROUNDS times.  Prints every migration's
 * figures, and the least total time and downtime of each VM (the
 * migration a shared machine slowed least, as vm_bench.c takes its
 * best) and the larger device-state bytes as "BENCH qemu_<vgpu|plain>_
 * <total_ms|downtime_ms|device_bytes> <value>" lines for bench/table.sh;
 * ends with a KTAP result per migration (a bench that breaks fails).
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario.h"
#include "gate.h"

#define SRC_MODEL	"amd-gfx9"
#define DST_MODEL	"nv-ampere"
#define MODE		"S"
#define VRAM_MIB	256U
#define MIB		(1024ULL * 1024)

/* The VRAM the GPU fills: from 32 MiB to the end of the guest's part. */
#define FILL_VRAM	(32 * MIB)
#define FILL_SIZE	((VRAM_MIB - VRAM_MIB / 16) * MIB - FILL_VRAM)
#define FILL_VA		0x40000000ULL
#define CHUNK		MIB
#define NCHUNKS		(FILL_SIZE / CHUNK)
/* Rewritten after the first pre-copy pass: every 13th MiB, 16 of them. */
#define DIRTY_CHUNKS	16U
#define DIRTY_STEP	13U

/* Guest RAM the GPU maps: the seed, later the window of the check. */
#define WIN_GPA		0x2000000ULL
#define WIN_VA		0x60000000ULL
#define WIN_SIZE	(16 * MIB)
#define SEED_SIZE	(2 * CHUNK)
#define PER_SUBMIT	32U
#define SUM_FILE	"/tmp/ctxmig/bench.mem"
/* Each VM migrates this often, in turn; each time is the least of them. */
#define ROUNDS		2U

/*
 * What the bench measured; -1: not measured.  @stream_bytes: query-migrate's
 * ram.transferred, which QEMU 10 counts as every byte it sent (RAM and
 * devices).
 */
struct figures {
	long long total_ms, downtime_ms, device_bytes, stream_bytes;
};

static uint8_t *seed;
static bool dirty[NCHUNKS];

/*
 * Where in the seed chunk @i's bytes come from: i * (4 KiB + 8), so that
 * no page of one chunk is that of another, 4 bytes on once rewritten.
 */
#define SHIFT_STEP	(4096 + 8)
static_assert(NCHUNKS * SHIFT_STEP + 4 + CHUNK <= SEED_SIZE,
	      "every chunk its own shift of the seed");

static uint64_t shift_of(unsigned int i)
{
	return (uint64_t)i * SHIFT_STEP + (dirty[i] ? 4 : 0);
}

/* GPU copies of @n chunks from @first, from the seed, with a fence. */
static int copy_chunks(struct test *t, struct gw *x, unsigned int first,
		       unsigned int n, unsigned int step)
{
	struct guest_cmd c[PER_SUBMIT + 1];
	unsigned int i, k = 0;
	int ret;

	for (i = 0; i < n; i++) {
		unsigned int ch = first + i * step;

		memset(&c[k], 0, sizeof(c[k]));
		c[k].op = CTXMIG_OP_COPY;
		c[k].src = WIN_VA + shift_of(ch);
		c[k].dst = FILL_VA + ch * CHUNK;
		c[k].value = CHUNK;
		if (++k < PER_SUBMIT && i + 1 < n)
			continue;
		ret = gw_submit(t, x, c, k, true);
		ret = ret ?: gw_wait(t, x);
		if (ret)
			return ret;
		k = 0;
	}
	return 0;
}

static long long vram_stat(struct side *s, const char *key)
{
	char stats[1024];

	if (attr_get(s->h, s->uuid, "stats", stats, sizeof(stats)))
		return -1;
	return stat_of(stats, key);
}

/* Wait until pre-copy sent every VRAM page written (vram_dirty_pages 0). */
static int wait_sent(struct test *t, struct side *a)
{
	long long left = -1;
	unsigned int i;

	for (i = 0; i < HANG_S * 10; i++) {
		left = vram_stat(a, "vram_dirty_pages");
		if (!left)
			return 0;
		usleep(100 * 1000);
	}
	t_fail(t, "pre-copy did not send all of VRAM (%lld pages left)", left);
	return -EIO;
}

/*
 * While the switchover is held: once the device's first pre-copy pass is
 * through, the GPU rewrites DIRTY_CHUNKS MiB, and QEMU sends them again
 * before the switchover goes, so that what stop-copy carries does not
 * depend on how far QEMU got with them when the gate opened.
 */
static int dirty_held(struct test *t, struct chain *c)
{
	struct side *a = &c->s[c->cur];
	unsigned int i;

	if (wait_sent(t, a))
		return -EIO;
	for (i = 0; i < DIRTY_CHUNKS; i++)
		dirty[i * DIRTY_STEP] = true;
	if (copy_chunks(t, &c->x, 0, DIRTY_CHUNKS, DIRTY_STEP))
		return -EIO;
	t_log(t, "first pre-copy pass through; the GPU rewrote %u MiB (%lld pages dirty)",
	      DIRTY_CHUNKS, vram_stat(a, "vram_dirty_pages"));
	if (wait_sent(t, a))
		return -EIO;
	t_log(t, "pre-copy sent them again");
	return 0;
}

/* cksum(1) of the bytes chunks @first.. must hold, summed on this host. */
static int expected_sum(unsigned int first, unsigned int n, char *out,
			size_t size)
{
	unsigned int i;
	FILE *f;
	int ret = 0;

	f = popen("cksum > " SUM_FILE ".sum", "w");
	if (!f)
		return -errno;
	for (i = 0; i < n; i++)
		if (fwrite(seed + shift_of(first + i), CHUNK, 1, f) != 1)
			ret = -EIO;
	if (pclose(f) || ret)
		return -EIO;
	f = fopen(SUM_FILE ".sum", "r");
	if (!f)
		return -errno;
	if (!fgets(out, size, f))
		ret = -EIO;
	fclose(f);
	unlink(SUM_FILE ".sum");
	return ret;
}

/*
 * On host B, after the migration: the GPU copies the filled VRAM into
 * guest RAM, 16 MiB at a time, QEMU saves that for cksum(1) there.
 */
static int check_vram(struct test *t, struct chain *c)
{
	const unsigned int per = WIN_SIZE / CHUNK;
	struct side *b = &c->s[c->cur];
	struct guest_cmd cmd[WIN_SIZE / CHUNK + 1];
	char want[128], got[128];
	unsigned int first, i;

	for (first = 0; first < NCHUNKS; first += per) {
		for (i = 0; i < per; i++) {
			memset(&cmd[i], 0, sizeof(cmd[i]));
			cmd[i].op = CTXMIG_OP_COPY;
			cmd[i].src = FILL_VA + (first + i) * CHUNK;
			cmd[i].dst = WIN_VA + i * CHUNK;
			cmd[i].value = CHUNK;
		}
		if (gw_submit(t, &c->x, cmd, per, true) || gw_wait(t, &c->x))
			return -EIO;
		if (qmp_cmd(&b->qmp, NULL, "pmemsave",
			    "\"val\": %llu, \"size\": %llu, \"filename\": \"%s\"",
			    WIN_GPA, WIN_SIZE, SUM_FILE)) {
			t_fail(t, "pmemsave: %s", b->qmp.why);
			return -EIO;
		}
		if (host_run(b->h, got, sizeof(got), "cksum < %s; rm -f %s",
			     SUM_FILE, SUM_FILE) ||
		    expected_sum(first, per, want, sizeof(want))) {
			t_fail(t, "cksum failed");
			return -EIO;
		}
		if (strcmp(got, want)) {
			t_fail(t, "VRAM 0x%llx..+16 MiB on %s: cksum %.*s, expected %.*s",
			       FILL_VRAM + first * CHUNK, b->h->name,
			       (int)strcspn(got, "\n"), got,
			       (int)strcspn(want, "\n"), want);
			return -EIO;
		}
	}
	t_log(t, "%llu MiB of filled VRAM checked on %s: %llu cksums of 16 MiB match",
	      FILL_SIZE / MIB, b->h->name, NCHUNKS / per);
	return 0;
}

/* The migration of a VM with a vGPU; its figures in @f. */
static void vgpu_vm(struct test *t, struct figures *f)
{
	static struct chain c;
	struct hop hop = {};
	struct gw *x = &c.x;
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	char vram[32];
	double t0;
	size_t i;

	memset(f, 0xff, sizeof(*f));
	memset(dirty, 0, sizeof(dirty));
	seed = malloc(SEED_SIZE);
	if (!seed) {
		t_fail(t, "out of memory");
		return;
	}
	/* splitmix64: random, yet the same every run */
	for (i = 0; i < SEED_SIZE; i += 8) {
		uint64_t z = (s += 0x9e3779b97f4a7c15ULL);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		memcpy(seed + i, &z, 8);
	}
	if (chain_start(t, &c, SRC_MODEL, MODE, 0xbe5c))
		goto out;
	attr_get(&host_a, c.s[0].uuid, "vram_mib", vram, sizeof(vram));
	if (atoi(vram) != VRAM_MIB) {
		t_fail(t, "the vGPU has %s MiB of VRAM, not %u", vram, VRAM_MIB);
		goto out;
	}
	if (guest_map_vram(&x->g, FILL_VA, FILL_VRAM, FILL_SIZE) ||
	    guest_map_sysmem(&x->g, WIN_VA, WIN_GPA, WIN_SIZE)) {
		t_fail(t, "mapping: %s", x->g.why);
		goto out;
	}
	t0 = elapsed();
	if (vdev_sys_write(&c.s[0].v.dev, WIN_GPA, seed, SEED_SIZE)) {
		t_fail(t, "writing the seed to guest RAM failed");
		goto out;
	}
	t_log(t, "seed: %llu MiB written to guest RAM over qtest in %.1f s",
	      SEED_SIZE / MIB, elapsed() - t0);
	t0 = elapsed();
	if (copy_chunks(t, x, 0, NCHUNKS, 1))
		goto out;
	t_log(t, "VRAM filled: %llu MiB at 0x%llx by the GPU in %.1f s; %lld VRAM pages present",
	      FILL_SIZE / MIB, FILL_VRAM, elapsed() - t0,
	      vram_stat(&c.s[0], "vram_pages"));
	c.held = dirty_held;
	if (chain_hop(t, &c, DST_MODEL, false, &hop) || check_vram(t, &c))
		goto out;
	f->total_ms = hop.total_ms;
	f->downtime_ms = hop.downtime_ms;
	f->device_bytes = hop.vfio_bytes;
	f->stream_bytes = hop.ram_bytes;
out:
	chain_end(t, &c);
	free(seed);
}

/* A side without a vGPU: a VM with no vfio-pci device. */
static int plain_side(struct test *t, struct side *s, const struct host *h,
		      bool incoming)
{
	side_init(s, h, "none");
	snprintf(s->uuid, sizeof(s->uuid), "none");
	if (side_qemu(t, s, MODE, incoming))
		return -EIO;
	if (!incoming && qmp_cmd(&s->qmp, NULL, "cont", NULL)) {
		t_fail(t, "cont: %s", s->qmp.why);
		return -EIO;
	}
	return 0;
}

/* The same VM without the vGPU, migrated the same way. */
static void plain_vm(struct test *t, struct figures *f)
{
	struct gate gate = { .pid = -1, .ctl = -1 };
	struct side a, b;
	const char *st, *qm = NULL;
	long long v;

	memset(f, 0xff, sizeof(*f));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (plain_side(t, &a, &host_a, false) ||
	    plain_side(t, &b, &host_b, true) ||
	    mig_begin(t, &a, &b, &gate, true) ||
	    mig_switchover(t, &a, &gate))
		goto out;
	st = mig_wait(&a, MIG_BUSY);
	if (strcmp(st, "completed")) {
		t_fail(t, "migration ended '%s'", st);
		qmp_dump(t, &a);
		goto out;
	}
	mig_status(&a, &qm);
	if (!qm || !json_num(qm, "total-time", &f->total_ms) ||
	    !json_num(qm, "downtime", &f->downtime_ms)) {
		t_fail(t, "query-migrate has no times");
		goto out;
	}
	json_num(qm, "ram.transferred", &f->stream_bytes);
	/* No vfio device, no "vfio" member: no device-state bytes. */
	f->device_bytes = json_num(qm, "vfio.transferred", &v) ? v : 0;
	if (wait_running(t, &b))
		goto out;
	t_log(t, "migrated to %s, running there", b.h->name);
out:
	gate_close(&gate);
	side_down(t, &a);
	side_down(t, &b);
}

static void print_figures(const char *name, unsigned int round,
			  const struct figures *f)
{
	printf("  %s %u: total %lld ms, downtime %lld ms, stream %lld B, device state %lld B\n",
	       name, round, f->total_ms, f->downtime_ms, f->stream_bytes,
	       f->device_bytes);
}

/* The least time of each (the migration the machine slowed least). */
static void best_of(const struct figures *f, struct figures *best)
{
	unsigned int r;

	*best = f[0];
	for (r = 1; r < ROUNDS; r++) {
		if (f[r].total_ms < best->total_ms)
			best->total_ms = f[r].total_ms;
		if (f[r].downtime_ms < best->downtime_ms)
			best->downtime_ms = f[r].downtime_ms;
		if (f[r].device_bytes > best->device_bytes)
			best->device_bytes = f[r].device_bytes;
	}
}

static void print_ratio(const char *what, long long v, long long p)
{
	if (p > 0)
		printf("  %s: %.2fx\n", what, (double)v / p);
	else
		printf("  %s: - (the VM without a vGPU has %lld)\n", what, p);
}

int main(int argc, char **argv)
{
	struct figures fv[ROUNDS], fp[ROUNDS], bv, bp;
	struct test t;
	unsigned int r;
	bool ok = true;

	scenario_init(&argc, argv);
	vram_mib = VRAM_MIB;
	printf("KTAP version 1\n");
	printf("ctxmig QEMU bench: a VM with a %u MiB vGPU (%s -> %s) against one without\n",
	       VRAM_MIB, SRC_MODEL, DST_MODEL);
	for (r = 0; r < ROUNDS && ok; r++) {
		t_begin(&t, "vgpu_vm_%u", r + 1);
		vgpu_vm(&t, &fv[r]);
		ok = t_end(&t);
		t_begin(&t, "plain_vm_%u", r + 1);
		plain_vm(&t, &fp[r]);
		ok = t_end(&t) && ok;
	}
	if (ok) {
		printf("QEMU query-migrate (switchover held until pre-copy sent all once):\n");
		printf("  vGPU VM: %llu MiB of VRAM filled, %u MiB rewritten after pass 1\n",
		       FILL_SIZE / MIB, DIRTY_CHUNKS);
		for (r = 0; r < ROUNDS; r++) {
			print_figures("vGPU VM", r + 1, &fv[r]);
			print_figures("plain VM", r + 1, &fp[r]);
		}
		printf("  (device state: no vfio member in query-migrate without one: 0)\n");
		best_of(fv, &bv);
		best_of(fp, &bp);
		printf("  best of %u, vGPU VM: total %lld ms, downtime %lld ms\n",
		       ROUNDS, bv.total_ms, bv.downtime_ms);
		printf("  best of %u, plain VM: total %lld ms, downtime %lld ms\n",
		       ROUNDS, bp.total_ms, bp.downtime_ms);
		print_ratio("total time, vGPU / plain", bv.total_ms,
			    bp.total_ms);
		print_ratio("downtime, vGPU / plain", bv.downtime_ms,
			    bp.downtime_ms);
		printf("BENCH qemu_vgpu_total_ms %lld\n", bv.total_ms);
		printf("BENCH qemu_vgpu_downtime_ms %lld\n", bv.downtime_ms);
		printf("BENCH qemu_vgpu_device_bytes %lld\n", bv.device_bytes);
		printf("BENCH qemu_plain_total_ms %lld\n", bp.total_ms);
		printf("BENCH qemu_plain_downtime_ms %lld\n", bp.downtime_ms);
		printf("BENCH qemu_plain_device_bytes %lld\n", bp.device_bytes);
	}
	printf("1..%u\n", t_count());
	host_do(&host_b, "touch /tmp/ctxmig-done");
	return ok ? 0 : 1;
}
