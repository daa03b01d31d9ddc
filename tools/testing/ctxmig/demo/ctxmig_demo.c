// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig demo (make demo): a stock QEMU 10 live-migrates a running VM
 * with a ctxmig vGPU from VM host A, an AMD-style GPU, to VM host B, an
 * NVIDIA-style one, and the guest finishes its work there in the new
 * model's format.  Runs on host A in the qemu tier's place
 * (tools/testing/ctxmig/qemu/run.sh, QEMU_MAIN), with the tier's scenario
 * machinery (qemu/scenario.h): vGPUs made with mdevctl, QEMU's vfio-pci
 * on them, SeaBIOS enumerating the device, this program as the guest's
 * CPU over QEMU's qtest socket, QMP "migrate" to host B.
 *
 * The report: the stream by record type (ctxmig's ir_dump of the saved
 * stream), bytes and time per phase, the downtime, QEMU's own figures
 * (query-migrate: total time, downtime, setup time, RAM and vfio device
 * bytes) beside ctxmig's, and the verdict: every byte of VRAM data and
 * of the guest RAM the GPU wrote checked on host B.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

#define SRC_MODEL	"amd-gfx9"
#define DST_MODEL	"nv-ampere"
/* SeaBIOS enumerates the vGPU and assigns its BARs, as on a real boot. */
#define MODE		"bios"

/* A line of @text that starts with @key, what follows it in @out. */
static bool line_of(const char *text, const char *key, char *out,
		    size_t size)
{
	size_t n = strlen(key);
	const char *p, *nl;

	for (p = text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (!strncmp(p, key, n)) {
			snprintf(out, size, "%.*s", (int)(nl - p - n), p + n);
			return true;
		}
		if (!*nl)
			break;
	}
	return false;
}

/* The records of the saved stream (ir_dump), a table; their bytes. */
static long long records_table(const char *dump)
{
	long long sum = 0, count, bytes;
	const char *p, *nl;
	char type[32];

	printf("  %-12s %8s %12s\n", "record", "count", "bytes");
	for (p = dump; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (sscanf(p, "records %31s %lld %lld", type, &count,
			   &bytes) == 3) {
			printf("  %-12s %8lld %12lld\n", type, count, bytes);
			sum += bytes;
		}
		if (!nl)
			break;
	}
	return sum;
}

/* What the hosts run, for the report's first lines. */
static void host_versions(void)
{
	char out[256], *nl;

	if (host_run(&host_a, out, sizeof(out), "echo %s, QEMU %s, %s",
		     "$(uname -r)",
		     "$(qemu-system-x86_64 --version | sed -n '1s/.*version //p')",
		     "$(mdevctl --version | head -n1)"))
		return;
	nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	printf("  hosts A and B: %s\n", out);
}

/* What the guest did, kept past the end of the chain. */
struct work {
	unsigned int batches;
	uint64_t seq;
};

static void report(const struct hop *hop, const struct work *wk, bool pass,
		   const char *why)
{
	const struct vfio_trace *tr = &hop->tr;
	long long stream = tr->precopy_bytes + tr->stopcopy_bytes, records;
	char model[32] = "?", va[16] = "?", vram[32] = "0";

	printf("\nreport\n");
	printf("  stream: %lld bytes in all: pre-copy %lld in %u reads, stop-copy %lld in %u\n",
	       stream, tr->precopy_bytes, tr->precopy_reads,
	       tr->stopcopy_bytes, tr->stopcopy_reads);
	if (tr->setup_initial >= 0)
		printf("  PRECOPY_INFO at setup: initial %lld bytes, dirty %lld\n",
		       tr->setup_initial, tr->setup_dirty);
	line_of(hop->ir_dump, "model ", model, sizeof(model));
	line_of(hop->ir_dump, "va_bits ", va, sizeof(va));
	line_of(hop->ir_dump, "vram_size ", vram, sizeof(vram));
	printf("  saved by %s: %lld MiB of guest VRAM, %s-bit GPU VAs\n", model,
	       atoll(vram) >> 20, va);
	records = records_table(hop->ir_dump);
	printf("  %-12s %8s %12lld\n", "preamble", "", stream - records);
	printf("  %-12s %12s %8s\n", "phase", "bytes", "ms");
	printf("  %-12s %12lld %8lld  the source vGPU in pre-copy, running\n",
	       "pre-copy", tr->precopy_bytes,
	       stat_of(hop->stats_src, "precopy_us") / 1000);
	printf("  %-12s %12lld %8lld  from its stop to the stream's end\n",
	       "stop-copy", tr->stopcopy_bytes,
	       stat_of(hop->stats_src, "stopcopy_us") / 1000);
	printf("  %-12s %12lld %8lld  the destination vGPU resuming, all along\n",
	       "restore", hop->bytes_restored,
	       stat_of(hop->stats_dst, "restore_us") / 1000);
	printf("  downtime: %lld ms, from the source VM's stop to the destination's start (QEMU)\n",
	       hop->downtime_ms);
	printf("  QEMU query-migrate: total %lld ms, downtime %lld ms, setup %lld ms,\n",
	       hop->total_ms, hop->downtime_ms, hop->setup_ms);
	printf("    RAM %lld bytes (%lld dirty syncs), vfio device %lld bytes\n",
	       hop->ram_bytes, hop->ram_syncs, hop->vfio_bytes);
	printf("  workload: %u batches of %u commands (%u into guest RAM), %u during pre-copy;\n",
	       wk->batches, PER_BATCH + SYS_PER_BATCH + 1, SYS_PER_BATCH,
	       hop->batches_precopy);
	printf("    fence value %llu of %llu reached at the stop, the rest on %s\n",
	       (unsigned long long)hop->fence_at_stop,
	       (unsigned long long)hop->seq_at_stop, DST_MODEL);
	if (pass) {
		printf("  data: %llu KiB of VRAM, %llu KiB of guest RAM as expected, fence %llu\n",
		       (unsigned long long)GUEST_DATA_SIZE >> 10,
		       (unsigned long long)SYS_SIZE >> 10,
		       (unsigned long long)wk->seq);
		printf("verdict: PASS\n");
	} else {
		printf("  %s\nverdict: FAIL\n", why);
	}
}

int main(int argc, char **argv)
{
	static struct chain chain;
	struct hop hop = {};
	struct work wk;
	struct test t;
	bool pass;

	scenario_init(&argc, argv);
	printf("KTAP version 1\n");
	printf("ctxmig demo: QEMU 10 live-migrates a VM with a working vGPU: %s (A) to %s (B)\n",
	       SRC_MODEL, DST_MODEL);
	host_versions();
	if (no_dma_logging)
		printf("  no DMA logging on this kernel: vfio-pci has enable-migration=on\n");
	t_begin(&t, "demo");
	if (!chain_start(&t, &chain, SRC_MODEL, MODE, 0xde30))
		chain_hop(&t, &chain, DST_MODEL, false, &hop);
	printf("  vGPUs (mdevctl): host A %s ctxmig-%s, host B %s ctxmig-%s\n",
	       chain.s[0].uuid, SRC_MODEL, chain.s[1].uuid, DST_MODEL);
	wk.batches = chain.x.batches;
	wk.seq = chain.x.w.seq;
	chain_end(&t, &chain);
	pass = !t.failed;
	report(&hop, &wk, pass, t.why);
	printf("1..1\n");
	t_end(&t);
	host_do(&host_b, "touch /tmp/ctxmig-done");
	return pass ? 0 : 1;
}
