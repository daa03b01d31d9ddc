/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig qemu tier: the scenario machinery, for a program that runs on VM
 * host A and drives both hosts (see run.sh for the topology): the qemu
 * tier's tests (ctxmig_qemu.c), make demo (demo/ctxmig_demo.c) and the
 * QEMU bench of make bench (bench/qemu_bench.c).
 *
 * Results and the log (struct test); the hosts (their command agents, the
 * vGPUs' sysfs); the guest and its workload (struct gw); a vGPU with a
 * QEMU 10 on it and the sockets to that QEMU (struct side); and one live
 * migration of the working guest to the other host, with what QEMU and
 * ctxmig say of it (struct chain, struct hop).
 */
#ifndef _CTXMIG_QEMU_SCENARIO_H
#define _CTXMIG_QEMU_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.h"
#include "workload.h"
#include "qmp.h"
#include "qtest.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* Hang guards only: nothing is decided by how long something took. */
#define HANG_MS		(180 * 1000)
#define HANG_S		(HANG_MS / 1000)

/*
 * How the VM hosts run their QEMUs, from the program's options (see
 * scenario_init()).  @no_dma_logging: the hosts' kernel cannot report
 * DMA logging, so qhost.sh gives vfio-pci enable-migration=on, and QEMU's
 * one warning about it is expected (see run.sh).
 */
extern bool no_dma_logging;
/* If not 0: the VRAM of every vGPU made from now on, in MiB (vram_mib). */
extern unsigned int vram_mib;

/*
 * Take the options the scenario machinery knows out of @argc/@argv
 * (--no-dma-logging), leaving the others; start the log's clock.
 */
void scenario_init(int *argc, char **argv);

/* ------------------------------------------------------------ results */

struct test {
	char name[96];
	bool failed;
	char why[512];
};

/* Seconds since scenario_init(), for the log. */
double elapsed(void);
/* A step of @t: "# [seconds] name: ..." */
__printf(2, 3) void t_log(const struct test *t, const char *fmt, ...);
/* @t failed; the first reason is kept for its result line. */
__printf(2, 3) void t_fail(struct test *t, const char *fmt, ...);
__printf(2, 3) void t_begin(struct test *t, const char *fmt, ...);
/* Print @t's KTAP result line; true if it passed. */
bool t_end(struct test *t);
/* The number of results printed so far. */
unsigned int t_count(void);

/* ---------------------------------------------------------- the hosts */

struct host {
	const char *name;
	const char *ip;
};

extern const struct host host_a, host_b;

/*
 * Run a shell command on @h through its agent; its exit status or a
 * negative errno, its output (stdout and stderr) in @out.
 */
__printf(4, 5)
int host_run(const struct host *h, char *out, size_t size,
	     const char *fmt, ...);
/* The same, the output dropped. */
#define host_do(h, ...)		host_run(h, NULL, 0, __VA_ARGS__)
/* Each line of @text as a comment "# @prefix<line>". */
void print_lines(const char *prefix, const char *text);
/* A sysfs control of a vGPU (see sysfs-bus-mdev-ctxmig), as text. */
int attr_get(const struct host *h, const char *uuid, const char *attr,
	     char *out, size_t size);
/* A "key value" line of a vGPU's ctxmig/stats; -1 if there is none. */
long long stat_of(const char *stats, const char *key);

/* ------------------------------------------------ guest and workload */

/* Guest RAM the GPU maps, and where in its VA space. */
#define SYS_GPA		0x1000000ULL
#define SYS_VA		0x20000000ULL
#define SYS_SIZE	0x40000ULL

#define PER_BATCH	48	/* workload commands per batch */
#define SYS_PER_BATCH	8	/* commands into guest RAM per batch */

/* The guest: its driver, the workload and what guest RAM must hold. */
struct gw {
	struct guest g;
	struct workload w;
	uint8_t *sysref;
	uint8_t *buf;
	unsigned int batches;	/* submitted so far */
	bool live;
};

/* Driver, mappings, VRAM pattern and guest RAM pattern, on @dev. */
int gw_start(struct test *t, struct gw *x, struct vdev *dev, uint64_t seed);
/* Submit @n commands of @c, then a fence (c[@n]), on the guest's GPU. */
int gw_submit(struct test *t, struct gw *x, struct guest_cmd *c,
	      unsigned int n, bool ib);
/* Submit one batch (through an indirect buffer with @ib), with a fence. */
int gw_batch(struct test *t, struct gw *x, bool ib);
/* Wait for the last fence and an idle engine. */
int gw_wait(struct test *t, struct gw *x);
/* Every byte of the data in VRAM and of the guest RAM the GPU wrote. */
int gw_check(struct test *t, struct gw *x);
void gw_free(struct gw *x);

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

void side_init(struct side *s, const struct host *h, const char *model);
/* mdevctl start: the vGPU. */
int side_mdev(struct test *t, struct side *s);
/*
 * Start QEMU on the vGPU in @mode (S or bios, see qhost.sh); its QMP.  A
 * side without side_mdev() (uuid "none") is a VM without a vGPU.
 */
int side_qemu(struct test *t, struct side *s, const char *mode,
	      bool incoming);
/* The guest's CPU on this side's QEMU; @program: the test sets the BARs. */
int side_cpu(struct test *t, struct side *s, bool program);
/* Bring a source's guest up in @mode: BARs programmed and running. */
int side_boot(struct test *t, struct side *s, const char *mode);
/* All of the above: a vGPU of @model on @h, a QEMU, the guest's CPU. */
int side_up(struct test *t, struct side *s, const struct host *h,
	    const char *model, const char *mode);
/* QEMU's exit status once it exited (waiting up to @secs), or -1. */
int side_exit_status(struct side *s, int secs);
/*
 * Quit QEMU, fail @t on a warning of it (but the expected one, see
 * no_dma_logging), remove the vGPU; on failure show what the host said.
 */
void side_down(struct test *t, struct side *s);

/* --------------------------------------------------------- migration */

/* query-migrate's status, or "" if QMP failed; *@reply the whole answer. */
const char *mig_status(struct side *s, const char **reply);
/* Poll until the status is none of @busy ("|a|b|"); the last one seen. */
const char *mig_wait(struct side *s, const char *busy);
#define MIG_BUSY	"|none|setup|active|device|pre-switchover|cancelling|"
/* What QEMU says of its VM and its migration, into the log. */
void qmp_dump(const struct test *t, struct side *s);
/* A vGPU's migration_state in sysfs is @want. */
int expect_state(struct test *t, struct side *s, const char *want);

struct gate;
/*
 * Start migrating @a to @b through a held gate (gate.h): QEMU iterates
 * pre-copy until the gate is released.  With @active, return once
 * pre-copy runs, the source vGPU in pre_copy, and QEMU sent all RAM once.
 */
int mig_begin(struct test *t, struct side *a, struct side *b,
	      struct gate *gate, bool active);

/* Let QEMU switch over: release the gate of mig_begin(). */
int mig_switchover(struct test *t, struct side *a, struct gate *gate);
/* @s's VM runs (the end of a migration into it); 0 or -ETIMEDOUT. */
int wait_running(struct test *t, struct side *s);

/*
 * What QEMU's trace of the source's vfio device shows of one migration
 * (qhost.sh has QEMU trace the vfio_save_* and vfio_state_pending_*
 * events): the bytes it read from the data_fd in each phase, and the
 * device's estimates with the bytes QEMU had read when it asked.
 */
#define VFIO_EXACT_MAX	64
struct vfio_trace {
	long long precopy_bytes, stopcopy_bytes;
	unsigned int precopy_reads, stopcopy_reads;
	/* PRECOPY_INFO at setup (the first estimate QEMU had); -1: none */
	long long setup_initial, setup_dirty;
	/*
	 * Read when pre-copy was first seen to have nothing more (a read
	 * found nothing, or PRECOPY_INFO said 0 and 0); -1: never
	 */
	long long precopy_end;
	/*
	 * Each VFIO_DEVICE_FEATURE_MIG_DATA_SIZE QEMU asked for (QEMU's
	 * "exact" pending size): the answer and PRECOPY_INFO's with it,
	 * and the bytes read until then.  QEMU 10 takes the answer as all
	 * that is left of the stream.
	 */
	unsigned int n_exact;
	struct {
		long long stopcopy, initial, dirty, read;
		bool precopy;
	} exact[VFIO_EXACT_MAX];
};

/* What one migration did: QEMU's figures beside ctxmig's. */
struct hop {
	/* query-migrate on the source once it completed */
	long long total_ms, downtime_ms, setup_ms;
	long long ram_bytes, ram_syncs, vfio_bytes;
	struct vfio_trace tr;
	char stats_src[1024], stats_dst[1024];	/* ctxmig/stats */
	long long bytes_saved, bytes_restored;	/* from those */
	char ir_dump[2048];			/* ctxmig/ir_dump of the source */
	uint64_t fence_at_stop;		/* the guest's fence when it stopped */
	uint64_t seq_at_stop;		/* the last fence it had submitted */
	unsigned int batches_precopy;	/* batches run during pre-copy */
};

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
	/*
	 * If set (after chain_start()), run by chain_hop() while the
	 * switchover is held, once the guest's pre-copy batches are done.
	 */
	int (*held)(struct test *t, struct chain *c);
};

/* A fresh guest on host A: @model, booted in @mode, its workload begun. */
int chain_start(struct test *t, struct chain *c, const char *model,
		const char *mode, uint64_t seed);
/*
 * One live migration of the working guest to a vGPU of @dst on the other
 * host (see scenario.c), its figures in *@hop if not NULL.  With @budget
 * QEMU migrates on its own tight budget (64 KiB/s, 300 ms), the guest
 * idle.
 */
int chain_hop(struct test *t, struct chain *c, const char *dst, bool budget,
	      struct hop *hop);
/* QEMU's switchover threshold on that budget: bandwidth x downtime limit. */
long long budget_bytes(void);
/* The guest and both sides end. */
void chain_end(struct test *t, struct chain *c);

#endif /* _CTXMIG_QEMU_SCENARIO_H */
