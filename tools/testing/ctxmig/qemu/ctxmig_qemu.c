// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig qemu tier: the tests.  Runs on VM host A and drives both hosts
 * (see run.sh for the topology) with the scenario machinery (scenario.h).
 *
 * The migration tests: one guest migrates hop after hop between the
 * hosts, each hop to a new vGPU of the next model (mdevctl) under a new
 * QEMU 10 with -incoming, so that a list of pairs where each starts
 * where the last ended (run.sh makes one of every ordered pair) needs no
 * new guest.  The guest works through pre-copy, with DMA into guest RAM
 * after QEMU sent it, recovers on the destination in its model's format
 * and every byte is checked there (see chain_hop()).  One more migration
 * runs on QEMU's own tight budget (see test_budget()), checking the
 * device's estimates as QEMU read them.
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
 *   --no-dma-logging             see scenario_init()
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "gate.h"

static const char *const models[] = {
	"amd-gfx9", "amd-gfx12", "intel-gen12", "nv-ampere", "nv-hopper",
};

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
	    chain_hop(&t, c, dst, false, NULL))
		chain_end(&t, c);
	return t_end(&t);
}

/* Within 10% and 4 KiB of @actual, as the kselftests' estimate tests. */
static bool close_to(long long estimate, long long actual)
{
	long long diff = estimate > actual ? estimate - actual :
					     actual - estimate;

	return estimate >= 0 && actual >= 0 && diff <= actual / 10 + 4096;
}

/*
 * The device's estimates as QEMU read them during a migration of an idle
 * guest (nothing changes what is left to send): PRECOPY_INFO at setup
 * against what pre-copy read until it had nothing more; each
 * MIG_DATA_SIZE against all that QEMU read after it (QEMU 10 takes it
 * for what is left of the stream, pre-copy data included); and the
 * stop-copy bytes within QEMU's budget, which they are if the estimate
 * QEMU switched over on was right.
 */
static void check_estimates(struct test *t, const struct hop *hop)
{
	const struct vfio_trace *tr = &hop->tr;
	long long total = tr->precopy_bytes + tr->stopcopy_bytes;
	long long budget = budget_bytes();
	unsigned int i, bad = 0;

	if (total != hop->vfio_bytes) {
		t_fail(t, "QEMU's trace has %lld device bytes, query-migrate %lld",
		       total, hop->vfio_bytes);
		return;
	}
	if (tr->setup_initial < 0) {
		t_fail(t, "QEMU's trace has no PRECOPY_INFO from the setup");
	} else if (tr->precopy_end < 0) {
		t_fail(t, "pre-copy was never seen to run out of data");
	} else if (!close_to(tr->setup_initial + tr->setup_dirty,
			     tr->precopy_end)) {
		t_fail(t, "PRECOPY_INFO at setup: initial %lld + dirty %lld, pre-copy read %lld",
		       tr->setup_initial, tr->setup_dirty, tr->precopy_end);
	} else {
		t_log(t, "PRECOPY_INFO at setup: initial %lld + dirty %lld; pre-copy read %lld",
		      tr->setup_initial, tr->setup_dirty, tr->precopy_end);
	}
	if (!tr->n_exact)
		t_fail(t, "QEMU never asked for MIG_DATA_SIZE");
	for (i = 0; i < tr->n_exact && i < VFIO_EXACT_MAX; i++) {
		long long est = tr->exact[i].stopcopy;
		long long rest = total - tr->exact[i].read;

		if (close_to(est, rest))
			continue;
		if (bad++)
			continue;
		t_fail(t, "MIG_DATA_SIZE %lld (initial %lld, dirty %lld) at %lld; %lld left",
		       est, tr->exact[i].initial, tr->exact[i].dirty,
		       tr->exact[i].read, rest);
	}
	t_log(t, "MIG_DATA_SIZE asked %u times, %u off by more than 10%% + 4 KiB",
	      tr->n_exact, bad);
	if (tr->stopcopy_bytes > budget + budget / 10 + 4096)
		t_fail(t, "stop-copy read %lld bytes, over QEMU's budget of %lld",
		       tr->stopcopy_bytes, budget);
	else
		t_log(t, "stop-copy read %lld bytes, QEMU's budget %lld",
		      tr->stopcopy_bytes, budget);
}

/*
 * A new guest migrates from @src to @dst on QEMU's own budget (see
 * mig_budget()), and the device's estimates are checked.
 */
static bool test_budget(struct chain *c, const char *src, const char *dst,
			uint64_t seed)
{
	struct test t;
	struct hop hop;

	t_begin(&t, "budget_64k_%s_to_%s", src, dst);
	if (c->live)
		chain_end(&t, c);
	if (chain_start(&t, c, src, "S", seed) ||
	    chain_hop(&t, c, dst, true, &hop))
		chain_end(&t, c);
	else
		check_estimates(&t, &hop);
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
	const char *failures = NULL;
	unsigned int failed = 0, i;
	static struct chain chain;
	uint64_t seed = 0x5eed0000;
	char *list, *tok, *save;

	scenario_init(&argc, argv);
	for (i = 1; i + 1 < (unsigned int)argc; i += 2) {
		if (!strcmp(argv[i], "--pairs"))
			pairs = argv[i + 1];
		else if (!strcmp(argv[i], "--failures"))
			failures = argv[i + 1];
	}

	printf("KTAP version 1\n");
	if (no_dma_logging)
		printf("# no DMA logging on this kernel: vfio-pci has enable-migration=on\n");
	failed += !test_types(&host_a);
	failed += !test_types(&host_b);

	list = strdup(pairs);
	if (!list)
		return 1;
	for (tok = strtok_r(list, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char src[32], dst[32], mode[8];

		if (sscanf(tok, "%31[^:]:%31[^:]:%7s", src, dst, mode) != 3) {
			printf("# bad pair '%s'\n", tok);
			failed++;
			continue;
		}
		failed += !test_migrate(&chain, src, dst, mode, seed++);
	}
	free(list);
	failed += !test_budget(&chain, "amd-gfx9", "nv-ampere", seed++);
	if (chain.live) {
		struct test t = { .name = "end" };

		chain_end(&t, &chain);
	}
	if (failures)
		for (i = 0; i < ARRAY_LEN(failure_names); i++)
			failed += !test_failure(i, failures, seed++);
	printf("1..%u\n", t_count());
	printf("# totals: %u tests, %u failed\n", t_count(), failed);
	host_do(&host_b, "touch /tmp/ctxmig-done");
	return failed ? 1 : 0;
}
