// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig VM benchmark: the VFIO data path inside the test VM, each figure
 * against a baseline measured in the same run.  Runs in the VM of
 * tools/testing/ctxmig/vm/run.sh with VM_BENCH=1 ("make bench").  A
 * benchmark, not a test: it fails only if a migration does.
 *
 * (a) save: SAVE_MIB (1024) of random bytes written to a source vGPU's
 *     VRAM through BAR2, then STOP_COPY and read() of the whole data_fd
 *     stream into one user buffer in CHUNK (64 MiB) reads.  Baseline: the
 *     same number of bytes read() from a memfd (shmem, as tmpfs) into the
 *     same buffer in the same chunks.
 * (b) resume: the stream write()n in CHUNK writes into the data_fd of a
 *     RESUMING vGPU of another model (amd-gfx9 -> nv-ampere), then the
 *     RESUMING -> STOP arc that applies it.  Baseline: the same bytes
 *     write()n into an emptied memfd, whose pages are allocated as the
 *     destination's VRAM pages are.
 * (c) sparse: a vGPU whose VRAM has SPARSE_MIB of random data and a
 *     ZERO_MIB region written with zeroes; the full stream's bytes against
 *     the VRAM's, and what the zero pages cost on the wire: in a full save
 *     (they are elided) and in a pre-copy dirty pass that must send them
 *     (the destination may hold older data: VRAM_ZERO records).
 * (d) pre-copy for each VRAM size of SIZES (256, 1024, 4096 MiB; ctxmig.ko
 *     reloaded with vram_mib=N): every guest VRAM page populated with
 *     non-zero data, one full pre-copy pass to the destination, then
 *     DIRTY_MIB (16) rewritten through BAR2, then STOP_COPY.  Downtime is
 *     from the STOP_COPY request to the destination in RUNNING: the rest
 *     of the stream read and written, RESUMING -> STOP (the restore) and
 *     STOP -> RUNNING, as the demo measures it.  Each size migrates the
 *     same source PRECOPY_RUNS (2) times, each time to a new destination.
 *
 * Timed figures are the best of RUNS (3) for (a), (b) and their
 * baselines, of PRECOPY_RUNS for (d): the least disturbed by the rest of
 * the machine (QEMU TCG on a shared host).  Every figure is also printed as
 * a "BENCH <key> <value>" line for tools/testing/ctxmig/bench/table.sh.
 * Options come from /vm_bench.args if present ("key=value ..." of
 * save_mib, sparse_mib, zero_mib, dirty_mib, runs, precopy_runs,
 * sizes=256,1024,4096).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/vfio.h>

#include "ctxmig_gpu.h"
#include "guest.h"

#define SRC_MODEL	"amd-gfx9"
#define DST_MODEL	"nv-ampere"
#define CHUNK		(64UL << 20)
#define MIB		(1ULL << 20)
#define PAGE		4096ULL
#define MAX_SIZES	8
#define KO		"/modules/ctxmig.ko"

static struct {
	uint64_t save_mib, sparse_mib, zero_mib, dirty_mib, runs, precopy_runs;
	uint64_t sizes[MAX_SIZES];
	unsigned int nsizes;
} opt = {
	.save_mib = 1024, .sparse_mib = 16, .zero_mib = 64, .dirty_mib = 16,
	.runs = 3, .precopy_runs = 2, .sizes = { 256, 1024, 4096 }, .nsizes = 3,
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static void fill_random(void *p, uint64_t len)
{
	uint64_t *q = p, i;

	for (i = 0; i < len / 8; i++)
		q[i] = rnd();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	printf("vm_bench: %s failed: %s\n", what,
	       strerror(err < 0 ? -err : err));
	printf("not ok 1 vm_bench\n");
	fflush(stdout);
	exit(1);
}

static void check(int ret, const char *what)
{
	if (ret)
		die(what, ret);
}

static void bench(const char *key, double v)
{
	printf("BENCH %s %.15g\n", key, v);
	fflush(stdout);
}

static void read_args(void)
{
	char buf[512], *tok, *save = NULL;
	FILE *f = fopen("/vm_bench.args", "r");
	size_t n;

	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		char *eq = strchr(tok, '='), *s;

		if (!eq)
			continue;
		*eq++ = '\0';
		if (!strcmp(tok, "save_mib"))
			opt.save_mib = strtoull(eq, NULL, 0);
		else if (!strcmp(tok, "sparse_mib"))
			opt.sparse_mib = strtoull(eq, NULL, 0);
		else if (!strcmp(tok, "zero_mib"))
			opt.zero_mib = strtoull(eq, NULL, 0);
		else if (!strcmp(tok, "dirty_mib"))
			opt.dirty_mib = strtoull(eq, NULL, 0);
		else if (!strcmp(tok, "runs"))
			opt.runs = strtoull(eq, NULL, 0);
		else if (!strcmp(tok, "precopy_runs"))
			opt.precopy_runs = strtoull(eq, NULL, 0);
		else if (!strcmp(tok, "sizes"))
			for (opt.nsizes = 0, s = strtok(eq, ",");
			     s && opt.nsizes < MAX_SIZES; s = strtok(NULL, ","))
				opt.sizes[opt.nsizes++] = strtoull(s, NULL, 0);
	}
	if (!opt.runs)
		opt.runs = 1;
	if (!opt.precopy_runs)
		opt.precopy_runs = 1;
}

/* ctxmig.ko again, every vGPU of @mib MiB of VRAM. */
static void reload(uint64_t mib)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd),
		 "rmmod ctxmig && insmod " KO " vram_mib=%llu",
		 (unsigned long long)mib);
	fflush(stdout);
	if (system(cmd))
		die(cmd, -EIO);
}

static void new_vdev(struct vdev *d, const char *model)
{
	check(vdev_create(d, model), "creating a vGPU");
	check(vdev_open(d), "opening a vGPU");
}

/* VRAM the guest may use: BAR2 less ctxmig's reserved area at its top. */
static uint64_t guest_bytes(const struct vdev *d)
{
	return d->bar2_size - ctxmig_gpu_reserved_size(d->bar2_size);
}

/* Write @len bytes from @buf to VRAM at @off through BAR2. */
static void vram_write(struct vdev *d, uint64_t off, const uint8_t *buf,
		       uint64_t len)
{
	check(vdev_vram_write(d, off, buf, len), "writing VRAM");
}

/* Read a data_fd to its end into @buf (of @cap bytes); returns the length. */
static uint64_t read_all(int fd, uint8_t *buf, uint64_t cap)
{
	uint64_t len = 0;

	for (;;) {
		ssize_t n;

		if (len == cap)
			die("reading the stream: buffer full", -ENOSPC);
		n = read(fd, buf + len, cap - len < CHUNK ? cap - len : CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("reading the stream", -errno);
		if (!n)
			return len;
		len += n;
	}
}

static void write_all(int fd, const uint8_t *buf, uint64_t len,
		      const char *what)
{
	uint64_t off = 0;

	while (off < len) {
		uint64_t n = len - off < CHUNK ? len - off : CHUNK;
		ssize_t k = write(fd, buf + off, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die(what, k < 0 ? -errno : -EIO);
		off += k;
	}
}

/*
 * Move data_fd bytes from @from to @to through @buf until the stream
 * ends, or, in pre-copy, until nothing more is to be sent for now.
 * Returns the bytes moved.
 */
static uint64_t pump(int from, int to, uint8_t *buf, bool precopy)
{
	uint64_t moved = 0;

	for (;;) {
		ssize_t n = read(from, buf, CHUNK);

		if (n < 0 && errno == ENOMSG && precopy)
			return moved;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("reading the stream", -errno);
		if (!n)
			return moved;
		write_all(to, buf, n, "writing the stream");
		moved += n;
	}
}

static double gibs(uint64_t bytes, double s)
{
	return bytes / s / (1ULL << 30);
}

/* (a) and (b). */
static void bench_stream(void)
{
	uint64_t data = opt.save_mib * MIB, cap = data + data / 64 + 64 * MIB;
	uint64_t len = 0, off, r;
	double best_save = 1e9, best_rd = 1e9, best_res = 1e9, best_wr = 1e9;
	uint8_t *buf, *check_buf, *ref;
	struct vdev src, dst;
	int mfd;

	/* VRAM twice the data: a sparse VRAM that holds it whole. */
	reload(opt.save_mib * 2);
	buf = mmap(NULL, cap, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	check_buf = malloc(16 * MIB);
	ref = malloc(16 * MIB);
	if (buf == MAP_FAILED || !check_buf || !ref)
		die("allocating the stream buffer", -ENOMEM);
	mfd = memfd_create("vm_bench", 0);
	if (mfd < 0)
		die("memfd_create", -errno);

	new_vdev(&src, SRC_MODEL);
	if (guest_bytes(&src) < data)
		die("VRAM size", -ENOSPC);
	fill_random(buf, data);
	memcpy(ref, buf + data - 16 * MIB, 16 * MIB);
	vram_write(&src, 0, buf, data);
	printf("(a) save: %llu MiB of random VRAM on %s, data_fd read() in %lu MiB reads, best of %llu\n",
	       (unsigned long long)opt.save_mib, SRC_MODEL, CHUNK >> 20,
	       (unsigned long long)opt.runs);
	check(vdev_set_state(&src, VFIO_DEVICE_STATE_STOP, NULL), "STOP");
	for (r = 0; r < opt.runs; r++) {
		double t0, t1;
		int fd;

		t0 = now();
		check(vdev_set_state(&src, VFIO_DEVICE_STATE_STOP_COPY, &fd),
		      "STOP_COPY");
		len = read_all(fd, buf, cap);
		t1 = now();
		close(fd);
		check(vdev_set_state(&src, VFIO_DEVICE_STATE_STOP, NULL),
		      "STOP_COPY -> STOP");
		if (t1 - t0 < best_save)
			best_save = t1 - t0;
		printf("  run %llu: data_fd %llu bytes in %.3f s\n",
		       (unsigned long long)r + 1, (unsigned long long)len,
		       t1 - t0);
	}
	/* Keep the stream; the memfd holds a copy for the baselines. */
	vdev_destroy(&src);

	for (r = 0; r < opt.runs; r++) {
		double t0, t1, tw;

		check(ftruncate(mfd, 0) ? -errno : 0, "emptying the memfd");
		t0 = now();
		check(lseek(mfd, 0, SEEK_SET) < 0 ? -errno : 0, "lseek");
		write_all(mfd, buf, len, "writing the memfd");
		t1 = now();
		tw = t1 - t0;
		if (tw < best_wr)
			best_wr = tw;
		t0 = now();
		for (off = 0; off < len;) {
			uint64_t n = len - off < CHUNK ? len - off : CHUNK;
			ssize_t k = pread(mfd, buf + off, n, off);

			if (k <= 0)
				die("reading the memfd", k < 0 ? -errno : -EIO);
			off += k;
		}
		t1 = now();
		if (t1 - t0 < best_rd)
			best_rd = t1 - t0;
		printf("  baseline run %llu: memfd write %.3f s, read %.3f s\n",
		       (unsigned long long)r + 1, tw, t1 - t0);
	}

	printf("(b) resume: %s -> %s, data_fd write() in %lu MiB writes + RESUMING -> STOP, best of %llu\n",
	       SRC_MODEL, DST_MODEL, CHUNK >> 20,
	       (unsigned long long)opt.runs);
	for (r = 0; r < opt.runs; r++) {
		double t0, t1;
		int fd;

		new_vdev(&dst, DST_MODEL);
		check(vdev_set_state(&dst, VFIO_DEVICE_STATE_STOP, NULL),
		      "STOP");
		t0 = now();
		check(vdev_set_state(&dst, VFIO_DEVICE_STATE_RESUMING, &fd),
		      "RESUMING");
		write_all(fd, buf, len, "writing the stream");
		check(vdev_set_state(&dst, VFIO_DEVICE_STATE_STOP, NULL),
		      "RESUMING -> STOP");
		t1 = now();
		close(fd);
		if (t1 - t0 < best_res)
			best_res = t1 - t0;
		printf("  run %llu: %.3f s\n", (unsigned long long)r + 1,
		       t1 - t0);
		/* The last 16 MiB of data arrived intact. */
		check(vdev_vram_read(&dst, data - 16 * MIB, check_buf,
				     16 * MIB), "reading VRAM back");
		if (memcmp(ref, check_buf, 16 * MIB))
			die("the restored VRAM differs", -EIO);
		vdev_destroy(&dst);
	}

	printf("  save   %.3f s %.3f GiB/s, baseline read()  %.3f s %.3f GiB/s: %.2fx\n",
	       best_save, gibs(len, best_save), best_rd, gibs(len, best_rd),
	       best_rd / best_save);
	printf("  resume %.3f s %.3f GiB/s, baseline write() %.3f s %.3f GiB/s: %.2fx\n",
	       best_res, gibs(len, best_res), best_wr, gibs(len, best_wr),
	       best_wr / best_res);
	bench("stream_data_bytes", data);
	bench("stream_bytes", len);
	bench("save_s", best_save);
	bench("save_base_s", best_rd);
	bench("resume_s", best_res);
	bench("resume_base_s", best_wr);
	close(mfd);
	munmap(buf, cap);
	free(check_buf);
	free(ref);
}

/* (c) */
static void bench_sparse(void)
{
	uint64_t vram_mib = 2048, data = opt.sparse_mib * MIB;
	uint64_t zero = opt.zero_mib * MIB, cap = 256 * MIB, base, full;
	uint64_t zoff = 1024 * MIB, dirty, guest;
	uint8_t *buf, *zbuf;
	struct vdev src, dst;
	int sfd, dfd, fd;

	reload(vram_mib);
	buf = malloc(cap);
	zbuf = calloc(1, zero);
	if (!buf || !zbuf)
		die("allocating", -ENOMEM);

	/* Random pages spread one in 64 over the first guest GiB... */
	new_vdev(&src, SRC_MODEL);
	fill_random(buf, data);
	for (uint64_t i = 0; i < data / PAGE; i++)
		vram_write(&src, i * 64 * PAGE, buf + i * PAGE, PAGE);
	check(vdev_set_state(&src, VFIO_DEVICE_STATE_STOP_COPY, &fd),
	      "STOP_COPY");
	base = read_all(fd, buf, cap);
	close(fd);
	check(vdev_set_state(&src, VFIO_DEVICE_STATE_RUNNING, NULL),
	      "RUNNING");
	/* ...then a region written with zeroes: present, all zero pages. */
	vram_write(&src, zoff, zbuf, zero);
	check(vdev_set_state(&src, VFIO_DEVICE_STATE_STOP_COPY, &fd),
	      "STOP_COPY");
	full = read_all(fd, buf, cap);
	close(fd);
	check(vdev_set_state(&src, VFIO_DEVICE_STATE_RUNNING, NULL),
	      "RUNNING");
	guest = guest_bytes(&src);
	printf("(c) sparse: %llu MiB VRAM (%llu MiB for the guest), %llu MiB random in pages one in 64, %llu MiB written with zeroes\n",
	       (unsigned long long)vram_mib,
	       (unsigned long long)(guest_bytes(&src) >> 20),
	       (unsigned long long)opt.sparse_mib,
	       (unsigned long long)opt.zero_mib);
	printf("  full save without the zero region %llu bytes, with it %llu\n",
	       (unsigned long long)base, (unsigned long long)full);

	/*
	 * Dirty pass: the zero region first holds random data, pre-copy
	 * sends it, then it is zeroed again; the stop-copy pass sends the
	 * zero pages as VRAM_ZERO.  Its bytes beyond the same stop-copy with
	 * nothing dirty are the zero pages' cost.
	 */
	new_vdev(&dst, DST_MODEL);
	for (uint64_t o = 0; o < zero; o += 16 * MIB) {
		fill_random(buf, 16 * MIB);
		vram_write(&src, zoff + o, buf, 16 * MIB);
	}
	check(vdev_set_state(&dst, VFIO_DEVICE_STATE_RESUMING, &dfd),
	      "RESUMING");
	check(vdev_set_state(&src, VFIO_DEVICE_STATE_PRE_COPY, &sfd),
	      "PRE_COPY");
	pump(sfd, dfd, buf, true);
	vram_write(&src, zoff, zbuf, zero);
	check(vdev_set_state(&src, VFIO_DEVICE_STATE_STOP_COPY, NULL),
	      "STOP_COPY");
	dirty = pump(sfd, dfd, buf, false);
	close(sfd);
	close(dfd);
	check(vdev_set_state(&dst, VFIO_DEVICE_STATE_STOP, NULL),
	      "RESUMING -> STOP");
	check(vdev_vram_read(&dst, zoff, buf, zero), "reading VRAM back");
	if (memcmp(buf, zbuf, zero))
		die("the zeroed region did not arrive as zeroes", -EIO);
	vdev_destroy(&dst);
	vdev_destroy(&src);

	/* Stop-copy with nothing dirty: the same device state, no VRAM. */
	{
		uint64_t idle;

		new_vdev(&src, SRC_MODEL);
		new_vdev(&dst, DST_MODEL);
		vram_write(&src, 0, zbuf, PAGE);
		check(vdev_set_state(&dst, VFIO_DEVICE_STATE_RESUMING, &dfd),
		      "RESUMING");
		check(vdev_set_state(&src, VFIO_DEVICE_STATE_PRE_COPY, &sfd),
		      "PRE_COPY");
		pump(sfd, dfd, buf, true);
		check(vdev_set_state(&src, VFIO_DEVICE_STATE_STOP_COPY, NULL),
		      "STOP_COPY");
		idle = pump(sfd, dfd, buf, false);
		close(sfd);
		close(dfd);
		check(vdev_set_state(&dst, VFIO_DEVICE_STATE_STOP, NULL),
		      "RESUMING -> STOP");
		vdev_destroy(&dst);
		vdev_destroy(&src);
		printf("  dirty pass: %llu MiB rewritten with zeroes after pre-copy: stop-copy %llu bytes, %llu with nothing dirty\n",
		       (unsigned long long)opt.zero_mib,
		       (unsigned long long)dirty, (unsigned long long)idle);
		bench("zero_dirty_bytes", dirty > idle ? dirty - idle : 0);
	}
	bench("sparse_vram_bytes", (double)vram_mib * MIB);
	bench("sparse_guest_bytes", (double)guest);
	bench("sparse_data_bytes", data);
	bench("sparse_stream_bytes", base);
	bench("zero_bytes", zero);
	bench("zero_full_bytes", full - base);
	free(buf);
	free(zbuf);
}

/* (d) for one VRAM size: PRECOPY_RUNS migrations of the same source. */
static void bench_precopy(uint64_t mib)
{
	uint64_t dirty = opt.dirty_mib * MIB, pop, o, init = 0, stop = 0, r;
	double best[4] = { 0, 0, 0, 1e9 }, t_init = 0;
	struct vdev src, dst;
	uint8_t *buf, *back;
	char key[64];

	reload(mib);
	buf = malloc(CHUNK + dirty);
	back = malloc(dirty);
	if (!buf || !back)
		die("allocating", -ENOMEM);
	new_vdev(&src, SRC_MODEL);
	pop = guest_bytes(&src);
	if (pop < 2 * dirty + 32 * MIB)
		die("VRAM too small for the dirty set", -EINVAL);
	/* Every guest page, non-zero: 16 MiB of random bytes, restamped. */
	fill_random(buf, 16 * MIB);
	for (o = 0; o < pop; o += 16 * MIB) {
		uint64_t n = pop - o < 16 * MIB ? pop - o : 16 * MIB;

		for (uint64_t p = 0; p < n; p += PAGE)
			memcpy(buf + p, &o, sizeof(o));
		vram_write(&src, o, buf, n);
	}
	printf("(d) pre-copy, VRAM %llu MiB: all %llu MiB of guest VRAM populated, best of %llu migrations\n",
	       (unsigned long long)mib, (unsigned long long)(pop >> 20),
	       (unsigned long long)opt.precopy_runs);

	for (r = 0; r < opt.precopy_runs; r++) {
		double t0, t[4];
		uint64_t i0, s0;
		int sfd, dfd;

		new_vdev(&dst, DST_MODEL);
		check(vdev_set_state(&src, VFIO_DEVICE_STATE_RUNNING, NULL),
		      "source RUNNING");
		check(vdev_set_state(&dst, VFIO_DEVICE_STATE_RESUMING, &dfd),
		      "RESUMING");
		t0 = now();
		check(vdev_set_state(&src, VFIO_DEVICE_STATE_PRE_COPY, &sfd),
		      "PRE_COPY");
		i0 = pump(sfd, dfd, buf, true);
		t_init = now() - t0;

		/* The dirty set, rewritten after the first pass sent it. */
		fill_random(buf, dirty);
		vram_write(&src, 32 * MIB, buf, dirty);

		/*
		 * Downtime: t[0] STOP_COPY arc, t[1] the rest of the stream
		 * read and written, t[2] RESUMING -> STOP, t[3] -> RUNNING.
		 */
		t0 = now();
		check(vdev_set_state(&src, VFIO_DEVICE_STATE_STOP_COPY, NULL),
		      "STOP_COPY");
		t[0] = now() - t0;
		s0 = pump(sfd, dfd, buf + dirty, false);
		t[1] = now() - t0;
		close(sfd);
		close(dfd);
		check(vdev_set_state(&dst, VFIO_DEVICE_STATE_STOP, NULL),
		      "RESUMING -> STOP");
		t[2] = now() - t0;
		check(vdev_set_state(&dst, VFIO_DEVICE_STATE_RUNNING, NULL),
		      "RUNNING");
		t[3] = now() - t0;
		check(vdev_vram_read(&dst, 32 * MIB, back, dirty),
		      "reading VRAM back");
		if (memcmp(back, buf, dirty))
			die("the dirty set differs on the destination", -EIO);
		vdev_destroy(&dst);
		printf("  run %llu: initial pass %llu bytes in %.2f s; stop-copy %llu bytes; downtime %.3f s: STOP_COPY arc %.3f, stream read+written %.3f, RESUMING -> STOP %.3f, -> RUNNING %.3f\n",
		       (unsigned long long)r + 1, (unsigned long long)i0,
		       t_init, (unsigned long long)s0, t[3], t[0],
		       t[1] - t[0], t[2] - t[1], t[3] - t[2]);
		if (r && (s0 != stop || i0 != init))
			die("stop-copy bytes changed between runs", -EIO);
		init = i0;
		stop = s0;
		if (t[3] < best[3])
			memcpy(best, t, sizeof(t));
	}
	snprintf(key, sizeof(key), "precopy_%llu_populated_bytes",
		 (unsigned long long)mib);
	bench(key, pop);
	snprintf(key, sizeof(key), "precopy_%llu_initial_bytes",
		 (unsigned long long)mib);
	bench(key, init);
	snprintf(key, sizeof(key), "precopy_%llu_stop_bytes",
		 (unsigned long long)mib);
	bench(key, stop);
	snprintf(key, sizeof(key), "precopy_%llu_downtime_s",
		 (unsigned long long)mib);
	bench(key, best[3]);
	vdev_destroy(&src);
	free(buf);
	free(back);
}

int main(void)
{
	double t0 = now();
	unsigned int i;

	read_args();
	printf("ctxmig VM bench: data_fd throughput, sparse VRAM, pre-copy\n");
	/* Which CRC32C the stream's checksums run on (highest priority). */
	fflush(stdout);
	if (system("grep -A4 '^name *: crc32c$' /proc/crypto | grep -E '^(driver|priority)' | paste - - | sed 's/^/  crc32c: /'"))
		printf("  crc32c: /proc/crypto unreadable\n");
	bench("dirty_bytes", opt.dirty_mib * MIB);
	bench_stream();
	bench_sparse();
	for (i = 0; i < opt.nsizes; i++)
		bench_precopy(opt.sizes[i]);
	/* Back to the default for whatever runs next. */
	reload(256);
	printf("vm_bench: done in %.0f s\n", now() - t0);
	printf("ok 1 vm_bench\n");
	return 0;
}
