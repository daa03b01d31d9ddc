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
 *     same buffer in the same chunks, plus the kernel's own CRC32C of the
 *     stream's bytes, through the crypto API from user space (AF_ALG hash
 *     "crc32c": the implementation libcrc32c gives the driver, which
 *     /proc/crypto names); the least work an integrity-checked copy needs.
 *     That CRC is checked against the one in the stream's END record.
 *     The bare read() is an info figure.
 * (b) resume: the stream write()n in CHUNK writes into the data_fd of a
 *     RESUMING vGPU of another model (amd-gfx9 -> nv-ampere), then the
 *     RESUMING -> STOP arc that applies it.  Baseline: the same bytes
 *     write()n into an emptied memfd, whose pages are allocated as the
 *     destination's VRAM pages are, plus their CRC32C as in (a); the bare
 *     write() is an info figure.
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
 *     Each size but the first (the reference) migrates in turn with a
 *     source of the reference size (its sysfs vram_mib), so that their
 *     ratio is taken in the same minutes of a shared machine; at the
 *     largest size so does a source of that size with only FEW_MIB (64)
 *     populated, the dirty set among them: the same stop-copy and dirty
 *     set, few pages present against all.  Every migration also prints
 *     the driver's own time in each step of the downtime, from the vGPUs'
 *     sysfs stats.
 *
 * Timed figures are the best of RUNS (3) for (a), (b) and their
 * baselines, of PRECOPY_RUNS for (d): the least disturbed by the rest of
 * the machine (QEMU TCG on a shared host).  Every figure is also printed as
 * a "BENCH <key> <value>" line for tools/testing/ctxmig/bench/table.sh.
 * Options come from /vm_bench.args if present ("key=value ..." of
 * save_mib, sparse_mib, zero_mib, dirty_mib, few_mib, runs, precopy_runs,
 * sizes=256,1024,4096).
 */
#define _GNU_SOURCE
#include <endian.h>
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
#include <sys/socket.h>

#include <linux/ctxmig.h>
#include <linux/if_alg.h>
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
	uint64_t save_mib, sparse_mib, zero_mib, dirty_mib, few_mib, runs;
	uint64_t precopy_runs;
	uint64_t sizes[MAX_SIZES];
	unsigned int nsizes;
} opt = {
	.save_mib = 1024, .sparse_mib = 16, .zero_mib = 64, .dirty_mib = 16,
	.few_mib = 64, .runs = 3, .precopy_runs = 2,
	.sizes = { 256, 1024, 4096 }, .nsizes = 3,
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
		else if (!strcmp(tok, "few_mib"))
			opt.few_mib = strtoull(eq, NULL, 0);
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

/* A socket that hashes with the kernel's "crc32c" (AF_ALG). */
static int crc_open(void)
{
	struct sockaddr_alg sa = {
		.salg_family = AF_ALG,
		.salg_type = "hash",
		.salg_name = "crc32c",
	};
	int tfm, op;

	tfm = socket(AF_ALG, SOCK_SEQPACKET, 0);
	if (tfm < 0)
		die("socket(AF_ALG)", -errno);
	if (bind(tfm, (struct sockaddr *)&sa, sizeof(sa)))
		die("binding AF_ALG to crc32c", -errno);
	op = accept(tfm, NULL, 0);
	if (op < 0)
		die("accept(AF_ALG)", -errno);
	close(tfm);
	return op;
}

/*
 * The kernel's CRC32C of @len bytes at @buf, given in CHUNK pieces (the
 * socket hashes the user pages in place); what END's crc32c holds.
 */
static uint32_t crc_bytes(int op, const uint8_t *buf, uint64_t len)
{
	uint64_t off = 0;
	uint32_t crc;

	while (off < len) {
		uint64_t n = len - off < CHUNK ? len - off : CHUNK;
		ssize_t k = send(op, buf + off, n, MSG_MORE);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("hashing", k < 0 ? -errno : -EIO);
		off += k;
	}
	if (read(op, &crc, sizeof(crc)) != sizeof(crc))
		die("reading the CRC32C", -errno);
	return le32toh(crc);
}

/* (a) and (b). */
static void bench_stream(void)
{
	uint64_t data = opt.save_mib * MIB, cap = data + data / 64 + 64 * MIB;
	uint64_t len = 0, off, r, crc_len;
	double best_save = 1e9, best_rd = 1e9, best_res = 1e9, best_wr = 1e9;
	double best_crc = 1e9, best_rdc = 1e9, best_wrc = 1e9;
	uint8_t *buf, *check_buf, *ref;
	struct ctxmig_ir_end end;
	struct vdev src, dst;
	int mfd, cfd;

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
	cfd = crc_open();

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
	/* The CRC32C covers everything before END's payload. */
	if (len < sizeof(end))
		die("the stream has no END", -EIO);
	memcpy(&end, buf + len - sizeof(end), sizeof(end));
	crc_len = len - sizeof(end);

	for (r = 0; r < opt.runs; r++) {
		double t0, tw, tr, tc;
		uint32_t crc;

		check(ftruncate(mfd, 0) ? -errno : 0, "emptying the memfd");
		t0 = now();
		check(lseek(mfd, 0, SEEK_SET) < 0 ? -errno : 0, "lseek");
		write_all(mfd, buf, len, "writing the memfd");
		tw = now() - t0;
		t0 = now();
		for (off = 0; off < len;) {
			uint64_t n = len - off < CHUNK ? len - off : CHUNK;
			ssize_t k = pread(mfd, buf + off, n, off);

			if (k <= 0)
				die("reading the memfd", k < 0 ? -errno : -EIO);
			off += k;
		}
		tr = now() - t0;
		t0 = now();
		crc = crc_bytes(cfd, buf, crc_len);
		tc = now() - t0;
		if (crc != le32toh(end.crc32c))
			die("the kernel's CRC32C differs from END's", -EIO);
		best_wr = tw < best_wr ? tw : best_wr;
		best_rd = tr < best_rd ? tr : best_rd;
		best_crc = tc < best_crc ? tc : best_crc;
		best_wrc = tw + tc < best_wrc ? tw + tc : best_wrc;
		best_rdc = tr + tc < best_rdc ? tr + tc : best_rdc;
		printf("  baseline run %llu: memfd write %.3f s, read %.3f s; crc32c %.3f s\n",
		       (unsigned long long)r + 1, tw, tr, tc);
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

	printf("  save   %.3f s %.3f GiB/s; read() + crc32c %.3f s %.3f GiB/s: %.2fx; read() alone %.3f s: %.2fx\n",
	       best_save, gibs(len, best_save), best_rdc, gibs(len, best_rdc),
	       best_rdc / best_save, best_rd, best_rd / best_save);
	printf("  resume %.3f s %.3f GiB/s; write() + crc32c %.3f s %.3f GiB/s: %.2fx; write() alone %.3f s: %.2fx\n",
	       best_res, gibs(len, best_res), best_wrc, gibs(len, best_wrc),
	       best_wrc / best_res, best_wr, best_wr / best_res);
	printf("  crc32c alone (AF_ALG) %.3f s %.3f GiB/s, the stream's own CRC\n",
	       best_crc, gibs(crc_len, best_crc));
	bench("stream_data_bytes", data);
	bench("stream_bytes", len);
	bench("save_s", best_save);
	bench("save_base_s", best_rdc);
	bench("save_read_s", best_rd);
	bench("resume_s", best_res);
	bench("resume_base_s", best_wrc);
	bench("resume_write_s", best_wr);
	bench("crc_s", best_crc);
	close(cfd);
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

/* One stats value of a vGPU, in microseconds; -1 if it has none. */
static double stat_us(struct vdev *d, const char *key)
{
	char buf[4096], *p;
	size_t n = strlen(key);

	if (vdev_attr_read(d, "stats", buf, sizeof(buf)) < 0)
		die("reading stats", -EIO);
	for (p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/*
 * A pre-copy source: a vGPU of @vram_mib (0: the loaded size) with @pop
 * bytes of its guest VRAM written (0: all).
 */
struct precopy_src {
	struct vdev dev;
	const char *what;		/* "all" or "few" */
	uint64_t pop;
	uint64_t init, stop;		/* stream bytes: first pass, stop-copy */
	double best[4];			/* the downtime's parts, see below */
	double drv[4];			/* the driver's, of the best run */
};

static void precopy_src_new(struct precopy_src *ps, const char *what,
			    uint64_t vram_mib, uint64_t pop, uint8_t *buf)
{
	char mib[24];
	uint64_t o;

	memset(ps, 0, sizeof(*ps));
	ps->what = what;
	check(vdev_create(&ps->dev, SRC_MODEL), "creating a vGPU");
	if (vram_mib) {
		snprintf(mib, sizeof(mib), "%llu", (unsigned long long)vram_mib);
		check(vdev_attr_write(&ps->dev, "vram_mib", mib),
		      "setting vram_mib");
	}
	check(vdev_open(&ps->dev), "opening a vGPU");
	if (!pop || pop > guest_bytes(&ps->dev))
		pop = guest_bytes(&ps->dev);
	ps->pop = pop;
	ps->best[3] = 1e9;
	/* Non-zero pages: 16 MiB of random bytes, restamped per 16 MiB. */
	fill_random(buf, 16 * MIB);
	for (o = 0; o < pop; o += 16 * MIB) {
		uint64_t n = pop - o < 16 * MIB ? pop - o : 16 * MIB;

		for (uint64_t p = 0; p < n; p += PAGE)
			memcpy(buf + p, &o, sizeof(o));
		vram_write(&ps->dev, o, buf, n);
	}
}

/*
 * One migration of @ps to a new destination: a full pre-copy pass, the
 * dirty set rewritten, then the downtime, timed in its parts and with the
 * driver's own time in each (the vGPUs' sysfs stats).
 */
static void precopy_once(struct precopy_src *ps, uint64_t r, uint8_t *buf,
			 uint8_t *back)
{
	uint64_t dirty = opt.dirty_mib * MIB, i0, s0;
	double t0, t[4], drv[4], w0, t_init;
	struct vdev *src = &ps->dev, dst;
	int sfd, dfd;

	new_vdev(&dst, DST_MODEL);
	check(vdev_set_state(src, VFIO_DEVICE_STATE_RUNNING, NULL),
	      "source RUNNING");
	check(vdev_set_state(&dst, VFIO_DEVICE_STATE_RESUMING, &dfd),
	      "RESUMING");
	t0 = now();
	check(vdev_set_state(src, VFIO_DEVICE_STATE_PRE_COPY, &sfd),
	      "PRE_COPY");
	i0 = pump(sfd, dfd, buf, true);
	t_init = now() - t0;

	/* The dirty set, rewritten after the first pass sent it. */
	fill_random(buf, dirty);
	vram_write(src, 32 * MIB, buf, dirty);

	/*
	 * Downtime: t[0] STOP_COPY arc, t[1] the rest of the stream read
	 * and written, t[2] RESUMING -> STOP, t[3] -> RUNNING.
	 */
	w0 = stat_us(&dst, "write_us");
	t0 = now();
	check(vdev_set_state(src, VFIO_DEVICE_STATE_STOP_COPY, NULL),
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
	/* The driver's: STOP_COPY arc, stop-copy reads, writes, restore. */
	drv[0] = stat_us(src, "save_stop_us") / 1e6;
	drv[1] = stat_us(src, "stop_read_us") / 1e6;
	drv[2] = (stat_us(&dst, "write_us") - w0) / 1e6;
	drv[3] = stat_us(&dst, "restore_finish_us") / 1e6;
	check(vdev_vram_read(&dst, 32 * MIB, back, dirty), "reading VRAM back");
	if (memcmp(back, buf, dirty))
		die("the dirty set differs on the destination", -EIO);
	vdev_destroy(&dst);
	printf("  %s, run %llu: initial pass %llu bytes in %.2f s; stop-copy %llu bytes; downtime %.3f s: STOP_COPY arc %.3f, stream read+written %.3f, RESUMING -> STOP %.3f, -> RUNNING %.3f\n",
	       ps->what, (unsigned long long)r + 1, (unsigned long long)i0,
	       t_init, (unsigned long long)s0, t[3], t[0], t[1] - t[0],
	       t[2] - t[1], t[3] - t[2]);
	printf("    driver: STOP_COPY arc %.3f s, stop-copy reads %.3f s, writes %.3f s, restore %.3f s; %.3f s of the downtime\n",
	       drv[0], drv[1], drv[2], drv[3], drv[0] + drv[1] + drv[2] + drv[3]);
	if (r && (s0 != ps->stop || i0 != ps->init))
		die("stop-copy bytes changed between runs", -EIO);
	ps->init = i0;
	ps->stop = s0;
	if (t[3] < ps->best[3]) {
		memcpy(ps->best, t, sizeof(t));
		memcpy(ps->drv, drv, sizeof(drv));
	}
}

static void precopy_report(struct precopy_src *ps, uint64_t mib,
			   const char *tag)
{
	char key[64];

#define KEY(name) (snprintf(key, sizeof(key), "precopy_%llu%s_" name, \
			    (unsigned long long)mib, tag), key)
	bench(KEY("populated_bytes"), ps->pop);
	bench(KEY("initial_bytes"), ps->init);
	bench(KEY("stop_bytes"), ps->stop);
	bench(KEY("downtime_s"), ps->best[3]);
	bench(KEY("driver_s"), ps->drv[0] + ps->drv[1] + ps->drv[2] +
	      ps->drv[3]);
#undef KEY
}

/*
 * (d) for one VRAM size: PRECOPY_RUNS migrations of the same source.
 * Unless @mib is the reference size @ref, a source of @ref MiB (set
 * through its sysfs vram_mib) migrates in turn with it, so that the ratio
 * of the two downtimes is taken in the same minutes of a shared machine;
 * with @few, so does a source of @mib MiB with only FEW_MIB populated:
 * the same stop-copy and dirty set, few pages present against all.
 */
static void bench_precopy(uint64_t mib, uint64_t ref, bool few)
{
	uint64_t dirty = opt.dirty_mib * MIB, r;
	struct precopy_src all, refs, some;
	bool interleave = mib != ref;
	uint8_t *buf, *back;

	reload(mib);
	buf = malloc(CHUNK + dirty);
	back = malloc(dirty);
	if (!buf || !back)
		die("allocating", -ENOMEM);
	precopy_src_new(&all, "all", 0, 0, buf);
	if (all.pop < 2 * dirty + 32 * MIB)
		die("VRAM too small for the dirty set", -EINVAL);
	if (interleave)
		precopy_src_new(&refs, "reference", ref, 0, buf);
	if (few) {
		precopy_src_new(&some, "few", 0, opt.few_mib * MIB, buf);
		if (some.pop >= all.pop || some.pop < dirty + 32 * MIB)
			die("few_mib does not hold the dirty set", -EINVAL);
	}
	printf("(d) pre-copy, VRAM %llu MiB: all %llu MiB of guest VRAM populated",
	       (unsigned long long)mib, (unsigned long long)(all.pop >> 20));
	if (interleave)
		printf("; in turn a %llu MiB source, all populated",
		       (unsigned long long)ref);
	if (few)
		printf("; in turn a %llu MiB source with %llu MiB populated",
		       (unsigned long long)mib,
		       (unsigned long long)(some.pop >> 20));
	printf("; best of %llu migrations each\n",
	       (unsigned long long)opt.precopy_runs);

	for (r = 0; r < opt.precopy_runs; r++) {
		if (interleave)
			precopy_once(&refs, r, buf, back);
		precopy_once(&all, r, buf, back);
		if (few)
			precopy_once(&some, r, buf, back);
	}
	precopy_report(&all, mib, "");
	vdev_destroy(&all.dev);
	if (interleave) {
		precopy_report(&refs, mib, "_ref");
		vdev_destroy(&refs.dev);
	}
	if (few) {
		precopy_report(&some, mib, "_few");
		vdev_destroy(&some.dev);
	}
	free(buf);
	free(back);
}

/*
 * Which CRC32C the stream's checksums and the AF_ALG baseline run on: of
 * the /proc/crypto entries named "crc32c", the one of highest priority,
 * which crypto_alloc_shash() gives libcrc32c and AF_ALG's bind() gets.
 */
static void crc_driver(void)
{
	char line[256], name[64] = "", driver[64] = "", best[64] = "none";
	FILE *f = fopen("/proc/crypto", "r");
	int prio = -1, best_prio = -1;

	if (!f)
		die("reading /proc/crypto", -errno);
	printf("  /proc/crypto, crc32c:");
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "name : %63s", name);
		sscanf(line, "driver : %63s", driver);
		if (sscanf(line, "priority : %d", &prio) != 1 ||
		    strcmp(name, "crc32c"))
			continue;
		printf(" %s (priority %d)", driver, prio);
		if (prio > best_prio) {
			best_prio = prio;
			snprintf(best, sizeof(best), "%s", driver);
		}
	}
	fclose(f);
	printf("; in use: %s\n", best);
	printf("CRC32C %s\n", best);
}

int main(void)
{
	double t0 = now();
	unsigned int i;

	read_args();
	printf("ctxmig VM bench: data_fd throughput, sparse VRAM, pre-copy\n");
	crc_driver();
	bench("dirty_bytes", opt.dirty_mib * MIB);
	bench_stream();
	bench_sparse();
	for (i = 0; i < opt.nsizes; i++)
		bench_precopy(opt.sizes[i], opt.sizes[0],
			      i == opt.nsizes - 1 && opt.few_mib &&
			      opt.nsizes > 1);
	/* Back to the default for whatever runs next. */
	reload(256);
	printf("vm_bench: done in %.0f s\n", now() - t0);
	printf("ok 1 vm_bench\n");
	return 0;
}
