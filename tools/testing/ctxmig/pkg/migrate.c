// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig_migrate: live-migrate a running vGPU to another one, as a VMM
 * would, through the VFIO uAPI alone, and report.  The pkg tier runs it,
 * built statically, on the Debian system it installed ctxmig on, between
 * two vGPUs made with mdevctl (tools/testing/ctxmig/pkg/vm.sh).
 *
 * The workload: 1 MiB of data in VRAM, filled by the guest, then batches
 * of copies, writes and fences submitted in the source model's native
 * format.  While the source executes, pre-copy rounds send its VRAM; then
 * the source stops, the rest is sent, the destination resumes, and the
 * guest driver recovers on the new model and submits the remaining
 * batches in that model's format.  The result must equal the same program
 * applied to a copy of the data in this process.
 *
 *	ctxmig_migrate [SRC_UUID DST_UUID]
 *
 * With two UUIDs it migrates between instances someone else made, e.g.
 * with mdevctl, whatever their models, and leaves them; without
 * arguments it creates an amd-gfx9 and an nv-ampere vGPU (and removes
 * them).  With CTXMIG_DEMO_STREAM=FILE in the environment it writes the
 * stream the migration moved to FILE (for ctxmig-dump).
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/vfio.h>

#include "guest.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define SRC_MODEL	"amd-gfx9"
#define DST_MODEL	"nv-ampere"
#define DATA		GUEST_DATA_SIZE
#define BATCHES		8
#define PER_BATCH	96
#define MIGRATE_AFTER	5	/* batches submitted on the source */
#define ROUNDS		3

static uint8_t ref[DATA];
static uint64_t seq;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

/* One batch of commands, applied to the reference as it is made. */
static unsigned int make_batch(struct guest_cmd *c)
{
	unsigned int i;

	for (i = 0; i < PER_BATCH - 1; i++) {
		uint64_t off = (rnd() % (DATA / 8 - 1)) * 8;

		memset(&c[i], 0, sizeof(c[i]));
		if (i % 3) {
			c[i].op = CTXMIG_OP_WRITE64;
			c[i].dst = GUEST_DATA_VA + off;
			c[i].value = rnd();
			memcpy(ref + off, &c[i].value, 8);
		} else {
			uint64_t len = 1 + rnd() % 16384;
			uint64_t src = rnd() % (DATA - len);
			uint64_t dst = rnd() % (DATA - len);
			uint64_t done;

			c[i].op = CTXMIG_OP_COPY;
			c[i].src = GUEST_DATA_VA + src;
			c[i].dst = GUEST_DATA_VA + dst;
			c[i].value = len;
			/* Forward in 4 KiB steps, as every model copies. */
			for (done = 0; done < len; done += 4096) {
				uint64_t n = len - done < 4096 ? len - done : 4096;

				memmove(ref + dst + done, ref + src + done, n);
			}
		}
	}
	memset(&c[i], 0, sizeof(c[i]));
	c[i].op = CTXMIG_OP_FENCE;
	c[i].flags = CTXMIG_CMD_IRQ | CTXMIG_CMD_FENCE64;
	c[i].dst = GUEST_DATA_VA + DATA - 8;
	c[i].value = ++seq;
	memcpy(ref + DATA - 8, &seq, 8);
	return PER_BATCH;
}

/*
 * What the stream carried: its top-level records per type, walked with
 * the uAPI's layout (the driver validated every byte already).
 */
static int stream_tally(const uint8_t *p, size_t len)
{
	static const struct {
		uint16_t type;
		const char *name;
	} names[] = {
		{ CTXMIG_IR_DEVICE, "DEVICE" }, { CTXMIG_IR_ENGINE, "ENGINE" },
		{ CTXMIG_IR_CMD, "CMD" }, { CTXMIG_IR_MAPPING, "MAPPING" },
		{ CTXMIG_IR_VRAM, "VRAM" }, { CTXMIG_IR_VRAM_ZERO, "VRAM_ZERO" },
		{ CTXMIG_IR_END, "END" },
	};
	uint64_t records[ARRAY_LEN(names)] = {}, bytes[ARRAY_LEN(names)] = {};
	const struct ctxmig_ir_preamble *pre = (const void *)p;
	size_t off, i;

	if (len < sizeof(*pre))
		return -EINVAL;
	off = le32toh(pre->preamble_len);
	printf("  preamble: %zu bytes, IR %u.%u, model %u, %llu MiB guest VRAM, %u-bit VAs\n",
	       off, le16toh(pre->version_major), le16toh(pre->version_minor),
	       le32toh(pre->model),
	       (unsigned long long)(le64toh(pre->vram_size) >> 20),
	       pre->va_bits);
	while (off + sizeof(struct ctxmig_ir_rec) <= len) {
		const struct ctxmig_ir_rec *rec = (const void *)(p + off);
		size_t size = sizeof(*rec) + ((le32toh(rec->len) + 7) & ~7ULL);

		for (i = 0; i < ARRAY_LEN(names); i++)
			if (names[i].type == le16toh(rec->type)) {
				records[i]++;
				bytes[i] += size;
			}
		off += size;
	}
	printf("  %-10s %8s %12s\n", "record", "count", "bytes");
	for (i = 0; i < ARRAY_LEN(names); i++)
		printf("  %-10s %8llu %12llu\n", names[i].name,
		       (unsigned long long)records[i],
		       (unsigned long long)bytes[i]);
	return off == len ? 0 : -EINVAL;
}

static int die(const char *what, int err)
{
	printf("migrate: %s failed: %s\n", what, strerror(err < 0 ? -err : err));
	printf("verdict: FAIL\nnot ok 1 ctxmig_migrate\n");
	exit(1);
}

/* Die unless @ret is 0. */
static void check(int ret, const char *what)
{
	if (ret)
		die(what, ret);
}

/* An instance made by someone else: @d on it, its model in @d->model. */
static int vdev_use(struct vdev *d, const char *uuid)
{
	char path[128];
	FILE *f;

	vdev_init(d);
	snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/ctxmig/model",
		 uuid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(d->model, sizeof(d->model), f))
		d->model[0] = '\0';
	fclose(f);
	d->model[strcspn(d->model, "\n")] = '\0';
	return d->model[0] ? 0 : -EIO;
}

/* Move data_fd bytes to the destination until a temporary or final end. */
static int pump(int from, int to, uint64_t *moved, bool precopy,
		uint8_t **log, size_t *loglen)
{
	static uint8_t buf[1 << 16];

	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf));
		ssize_t w;

		if (n < 0 && errno == ENOMSG && precopy)
			return 0;	/* nothing more for now */
		if (n < 0)
			return -errno;
		if (!n)
			return 1;	/* end of stream */
		*log = realloc(*log, *loglen + n);
		memcpy(*log + *loglen, buf, n);
		*loglen += n;
		for (w = 0; w < n;) {
			ssize_t k = write(to, buf + w, n - w);

			if (k < 0)
				return -errno;
			w += k;
		}
		*moved += n;
	}
}

int main(int argc, char **argv)
{
	struct vdev src, dst;
	struct guest g;
	struct guest_cmd cmds[PER_BATCH];
	struct vfio_precopy_info info;
	uint64_t flags, round_bytes[ROUNDS] = {}, stop_bytes = 0, total;
	double t0, t_pre[ROUNDS], t_stop, t_run, t_end;
	uint8_t *stream = NULL, *back;
	size_t stream_len = 0;
	int sfd, dfd, ret, b, r;
	unsigned int n;

	if (argc == 3) {
		check(vdev_use(&src, argv[1]), "finding the source vGPU");
		check(vdev_use(&dst, argv[2]), "finding the destination vGPU");
	} else if (argc == 1) {
		vdev_init(&src);
		vdev_init(&dst);
		check(vdev_create(&src, SRC_MODEL), "creating the source vGPU");
		check(vdev_create(&dst, DST_MODEL),
		      "creating the destination vGPU");
	} else {
		fprintf(stderr, "usage: ctxmig_migrate [SRC_UUID DST_UUID]\n");
		return 2;
	}
	printf("ctxmig_migrate: live migration of a running vGPU, %s -> %s\n",
	       src.model, dst.model);
	check(vdev_open(&src), "opening the source vGPU");
	check(vdev_open(&dst), "opening the destination vGPU");
	ret = vdev_mig_flags(&src, &flags);
	if (ret || !(flags & VFIO_MIGRATION_PRE_COPY))
		die("checking for pre-copy", ret ? ret : -EOPNOTSUPP);
	printf("  source      %s (%s), destination %s (%s), migration flags 0x%llx\n",
	       src.uuid, src.model, dst.uuid, dst.model,
	       (unsigned long long)flags);

	/* The guest sets its vGPU up and fills 1 MiB of data. */
	check(guest_init(&g, &src), g.why);
	check(guest_setup(&g), g.why);
	for (n = 0; n < DATA; n += 8) {
		uint64_t v = rnd();

		memcpy(ref + n, &v, 8);
	}
	check(vdev_vram_write(&src, GUEST_DATA_VRAM, ref, DATA),
	      "filling VRAM");

	/* Work starts on the source. */
	t0 = now();
	for (b = 0; b < MIGRATE_AFTER - 2; b++) {
		n = make_batch(cmds);
		check(guest_submit(&g, cmds, n, b % 2), g.why);
	}
	printf("  [%6.3f s] %d batches of %d commands submitted on %s\n",
	       now() - t0, MIGRATE_AFTER - 2, PER_BATCH, src.model);

	/* Pre-copy while the source executes. */
	check(vdev_set_state(&dst, VFIO_DEVICE_STATE_RESUMING, &dfd),
	      "destination RESUMING");
	check(vdev_set_state(&src, VFIO_DEVICE_STATE_PRE_COPY, &sfd),
	      "source PRE_COPY");
	for (r = 0; r < ROUNDS; r++) {
		double t = now();

		memset(&info, 0, sizeof(info));
		info.argsz = sizeof(info);
		ioctl(sfd, VFIO_MIG_GET_PRECOPY_INFO, &info);
		ret = pump(sfd, dfd, &round_bytes[r], true, &stream,
			   &stream_len);
		if (ret < 0)
			die("pre-copy read", ret);
		t_pre[r] = now() - t;
		printf("  [%6.3f s] pre-copy %d: %llu B (initial %llu, dirty %llu) %.3f s\n",
		       now() - t0, r + 1, (unsigned long long)round_bytes[r],
		       (unsigned long long)info.initial_bytes,
		       (unsigned long long)info.dirty_bytes, t_pre[r]);
		if (r == 0) {
			/* The guest keeps working: this dirties VRAM. */
			n = make_batch(cmds);
			check(guest_submit(&g, cmds, n, true), g.why);
		}
	}

	/* One more batch right before stopping: work is pending. */
	n = make_batch(cmds);
	check(guest_submit(&g, cmds, n, true), g.why);

	/* Stop-copy: the downtime starts. */
	t_stop = now();
	check(vdev_set_state(&src, VFIO_DEVICE_STATE_STOP_COPY, NULL),
	      "source STOP_COPY");
	ret = pump(sfd, dfd, &stop_bytes, false, &stream, &stream_len);
	if (ret < 0)
		die("stop-copy read", ret);
	close(sfd);
	close(dfd);
	check(vdev_set_state(&dst, VFIO_DEVICE_STATE_STOP, NULL),
	      "destination RESUMING -> STOP (stream refused)");
	check(vdev_set_state(&dst, VFIO_DEVICE_STATE_RUNNING, NULL),
	      "destination RUNNING");
	t_run = now();
	printf("  [%6.3f s] stop-copy: %llu bytes; destination running after %.3f s of downtime\n",
	       now() - t0, (unsigned long long)stop_bytes, t_run - t_stop);

	/* The guest recovers on the new model and finishes its work. */
	g.dev = &dst;
	check(guest_recover(&g), g.why);
	printf("  [%6.3f s] guest driver recovered: device is now %s (migrated %u)\n",
	       now() - t0, guest_model_name(&g),
	       vdev_ctl(&dst, GUEST_CTL_MIGRATED));
	for (b = MIGRATE_AFTER; b < BATCHES; b++) {
		n = make_batch(cmds);
		check(guest_submit(&g, cmds, n, b % 2), g.why);
	}
	check(guest_wait_fence(&g, seq), g.why);
	check(guest_wait_idle(&g), g.why);
	t_end = now();
	printf("  [%6.3f s] %d more batches done on %s, fence %llu\n",
	       t_end - t0, BATCHES - MIGRATE_AFTER, guest_model_name(&g),
	       (unsigned long long)guest_fence(&g));

	/* Verify every byte against the same program run here. */
	back = malloc(DATA);
	if (!back)
		die("reading VRAM back", -ENOMEM);
	check(vdev_vram_read(&dst, GUEST_DATA_VRAM, back, DATA),
	      "reading VRAM back");

	total = stream_len;
	if (getenv("CTXMIG_DEMO_STREAM")) {
		FILE *f = fopen(getenv("CTXMIG_DEMO_STREAM"), "w");

		if (!f || fwrite(stream, 1, stream_len, f) != stream_len ||
		    fclose(f))
			die("writing the stream", -EIO);
	}
	printf("\nreport\n");
	printf("  stream: %llu bytes in all: pre-copy %llu + %llu + %llu, stop-copy %llu\n",
	       (unsigned long long)total, (unsigned long long)round_bytes[0],
	       (unsigned long long)round_bytes[1],
	       (unsigned long long)round_bytes[2],
	       (unsigned long long)stop_bytes);
	ret = stream_tally(stream, stream_len);
	printf("  downtime: %.3f s (stop-copy read, restore, resume)\n",
	       t_run - t_stop);
	printf("  workload: %d batches, %d commands, %d before the switch\n",
	       BATCHES, BATCHES * PER_BATCH, MIGRATE_AFTER * PER_BATCH);
	if (ret || memcmp(back, ref, DATA) || guest_fence(&g) != seq) {
		printf("  data: DIFFERS from the reference\nverdict: FAIL\n");
		printf("not ok 1 ctxmig_migrate\n");
		return 1;
	}
	printf("  data: 1 MiB equal to the reference, last fence %llu\n",
	       (unsigned long long)seq);
	printf("verdict: PASS\nok 1 ctxmig_migrate\n");
	guest_fini(&g);
	vdev_destroy(&src);
	vdev_destroy(&dst);
	return 0;
}
