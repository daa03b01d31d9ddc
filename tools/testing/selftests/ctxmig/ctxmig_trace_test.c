// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig: the "ctxmig" trace events, through tracefs.
 *
 * An admin watching a migration enables events/ctxmig and reads the trace
 * (Documentation/gpu/ctxmig/admin-guide.rst, "Tracepoints").  Here an
 * amd-gfx9 vGPU with work done starts a pre-copy and aborts it, is saved
 * and restored into an intel-gen12 vGPU, and a stream of another major
 * version is refused; after each step the trace must say what happened:
 *
 *  - ctxmig_state: every arc the FSM took, with its result;
 *  - ctxmig_precopy: the initial and dirty bytes PRECOPY_INFO returned;
 *  - ctxmig_save_record / ctxmig_restore_record: one event per record,
 *    whose bytes add up to the stream's length after the preamble, END
 *    last;
 *  - ctxmig_engine_stop: the source's engine, stopped idle;
 *  - ctxmig_error: the refused stream, its errno and reason, and the
 *    arc that failed for it.
 *
 * No event may be lost (entries-in-buffer == entries-written).  The test
 * mounts tracefs if nothing has, and leaves the events disabled and the
 * buffer's size as it found them.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/ctxmig.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "guest.h"
#include "workload.h"

#define BATCH		40
#define TRACEFS		"/sys/kernel/tracing"
#define TRACE_MAX	(32U << 20)
/* Per CPU: a whole save or restore of the test's vGPU, with room. */
#define BUFFER_KB	"8192"

/* Write @val to @file under tracefs: 0 or -errno. */
static int tfs_write(const char *file, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : n < 0 ? -errno : -EIO;
}

/* Read @file under tracefs into a malloc'ed string, or NULL. */
static char *tfs_read(const char *file)
{
	size_t len = 0, cap = 1 << 16;
	char path[256], *buf = malloc(cap);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf)
		goto fail;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len == 1) {
			char *b = cap < TRACE_MAX ? realloc(buf, cap * 2) : NULL;

			if (!b)
				goto fail;
			buf = b;
			cap *= 2;
		}
	}
	if (n < 0)
		goto fail;
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* tracefs where the kernel puts it, mounted if nothing has. */
static int tfs_mount(void)
{
	struct stat st;

	if (!stat(TRACEFS "/trace", &st))
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		return -errno;
	return stat(TRACEFS "/events/ctxmig", &st) ? -errno : 0;
}

/*
 * What the trace holds of one migration step: the lines of the ctxmig
 * events, as counts and sums where a test wants those.
 */
struct seen {
	char *text;		/* the whole trace, for the log */
	unsigned long in_buffer, written;
	unsigned int save, restore, skip, precopy, error, engine_stop;
	unsigned long long save_bytes, restore_bytes;
	char last_save[32], last_restore[32];
};

/* A line's event payload after "<event>: ", or NULL. */
static const char *event(const char *line, const char *name)
{
	char key[64];
	const char *at;

	snprintf(key, sizeof(key), " %s: ", name);
	at = strstr(line, key);
	return at ? at + strlen(key) : NULL;
}

/* Record type name and bytes of a record event's "TYPE (0x...) N bytes". */
static int record(const char *p, char *type, size_t size,
		  unsigned long long *bytes)
{
	unsigned int t;
	char name[32];

	if (sscanf(p, "%31s (0x%x) %llu bytes", name, &t, bytes) != 3)
		return -EINVAL;
	snprintf(type, size, "%s", name);
	return 0;
}

static int parse(struct seen *s)
{
	char *line, *save = NULL;
	const char *p;
	unsigned long long b;

	memset(s, 0, sizeof(*s));
	s->text = tfs_read("trace");
	if (!s->text)
		return -EIO;
	p = strstr(s->text, "# entries-in-buffer/entries-written: ");
	if (!p || sscanf(p, "# entries-in-buffer/entries-written: %lu/%lu",
			 &s->in_buffer, &s->written) != 2)
		return -EINVAL;
	/* Parse a copy: the text stays whole for TH_LOG(). */
	line = strdup(s->text);
	if (!line)
		return -ENOMEM;
	for (char *l = strtok_r(line, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (l[0] == '#')
			continue;
		p = event(l, "ctxmig_save_record");
		if (p) {
			if (record(p, s->last_save, sizeof(s->last_save), &b))
				goto bad;
			s->save++;
			s->save_bytes += b;
			continue;
		}
		p = event(l, "ctxmig_restore_record");
		if (p) {
			if (record(p, s->last_restore,
				   sizeof(s->last_restore), &b))
				goto bad;
			s->restore++;
			s->restore_bytes += b;
		} else if (event(l, "ctxmig_restore_skip")) {
			s->skip++;
		} else if (event(l, "ctxmig_precopy")) {
			s->precopy++;
		} else if (event(l, "ctxmig_error")) {
			s->error++;
		} else if (event(l, "ctxmig_engine_stop")) {
			s->engine_stop++;
		}
	}
	free(line);
	return 0;
bad:
	free(line);
	return -EINVAL;
}

/* The trace holds a line of @name whose payload starts with @payload. */
__printf(3, 4)
static bool has(const struct seen *s, const char *name, const char *fmt, ...)
{
	char key[256];
	va_list ap;
	int n;

	n = snprintf(key, sizeof(key), " %s: ", name);
	va_start(ap, fmt);
	vsnprintf(key + n, sizeof(key) - n, fmt, ap);
	va_end(ap);
	return strstr(s->text, key);
}

/* Count lines of ctxmig_state with a nonzero result. */
static unsigned int failed_arcs(const struct seen *s)
{
	const char *p = s->text;
	unsigned int n = 0;

	while ((p = strstr(p, " ctxmig_state: "))) {
		const char *eol = strchrnul(p, '\n');

		if (eol - p < 3 || strncmp(eol - 3, ": 0", 3))
			n++;
		p = eol;
	}
	return n;
}

static size_t preamble_len(const uint8_t *stream)
{
	return le32toh(((const struct ctxmig_ir_preamble *)stream)->preamble_len);
}

FIXTURE(trace) {
	struct vdev src, dst;
	struct guest g;
	bool have_g;
	struct workload w;
	char old_kb[32];
	struct seen seen;
};

FIXTURE_SETUP(trace)
{
	char *kb;
	int ret;

	vdev_init(&self->src);
	vdev_init(&self->dst);
	ret = tfs_mount();
	ASSERT_EQ(0, ret) TH_LOG("tracefs with events/ctxmig: %s",
				 strerror(-ret));
	kb = tfs_read("buffer_size_kb");
	ASSERT_NE(NULL, kb);
	snprintf(self->old_kb, sizeof(self->old_kb), "%s", kb);
	free(kb);
	ASSERT_EQ(0, tfs_write("events/ctxmig/enable", "0"));
	ASSERT_EQ(0, tfs_write("buffer_size_kb", BUFFER_KB));
	ASSERT_EQ(0, tfs_write("tracing_on", "1"));

	ASSERT_EQ(0, wl_init(&self->w, 0x7eace5edULL));
	ASSERT_EQ(0, vdev_track_new(&self->src, "amd-gfx9"));
	ASSERT_EQ(0, vdev_track_new(&self->dst, "intel-gen12"));
	ret = guest_init(&self->g, &self->src);
	self->have_g = !ret || self->g.shadow;
	ASSERT_EQ(0, ret) TH_LOG("%s", self->g.why);
	ASSERT_EQ(0, guest_setup(&self->g)) TH_LOG("%s", self->g.why);
	ASSERT_EQ(0, wl_fill(&self->w, &self->src));
	ASSERT_EQ(0, wl_run_batch(&self->w, &self->g, BATCH, true))
		TH_LOG("%s", self->g.why);

	ASSERT_EQ(0, tfs_write("trace", ""));
	ASSERT_EQ(0, tfs_write("events/ctxmig/enable", "1"));
}

FIXTURE_TEARDOWN(trace)
{
	tfs_write("events/ctxmig/enable", "0");
	tfs_write("trace", "");
	if (self->old_kb[0])
		tfs_write("buffer_size_kb", self->old_kb);
	free(self->seen.text);
	if (self->have_g)
		guest_fini(&self->g);
	vdev_track_remove(&self->src);
	vdev_track_remove(&self->dst);
	wl_free(&self->w);
}

/* Parse the trace into self->seen, then clear it for the next step. */
#define TAKE_TRACE() do {						\
	free(self->seen.text);						\
	ASSERT_EQ(0, parse(&self->seen));				\
	EXPECT_EQ(self->seen.written, self->seen.in_buffer)		\
		TH_LOG("events lost");					\
	ASSERT_EQ(0, tfs_write("trace", ""));				\
} while (0)

TEST_F(trace, migration)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };
	struct seen *s = &self->seen;
	struct ctxmig_ir_preamble *p;
	uint8_t *stream = NULL;
	size_t len = 0;
	unsigned int saved;
	int fd, ret, werr;

	/* A pre-copy round, aborted: the arcs and what PRECOPY_INFO said. */
	ASSERT_EQ(0, vdev_set_state(&self->src, VFIO_DEVICE_STATE_PRE_COPY,
				    &fd));
	ASSERT_LE(0, fd);
	ret = ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info);
	ASSERT_EQ(0, ret) TH_LOG("PRECOPY_INFO: %s", strerror(errno));
	ASSERT_EQ(0, vdev_set_state(&self->src, VFIO_DEVICE_STATE_RUNNING,
				    NULL));
	close(fd);
	TAKE_TRACE();
	EXPECT_EQ(1, s->precopy) TH_LOG("%s", s->text);
	EXPECT_TRUE(has(s, "ctxmig_precopy", "%s: initial %llu dirty %llu",
			self->src.uuid, (unsigned long long)info.initial_bytes,
			(unsigned long long)info.dirty_bytes))
		TH_LOG("%s", s->text);
	EXPECT_TRUE(has(s, "ctxmig_state", "%s: running -> pre_copy: 0",
			self->src.uuid))
		TH_LOG("%s", s->text);
	EXPECT_TRUE(has(s, "ctxmig_state", "%s: pre_copy -> running: 0",
			self->src.uuid))
		TH_LOG("%s", s->text);
	EXPECT_EQ(0, failed_arcs(s)) TH_LOG("%s", s->text);

	/* Stop and save: every record, END last, the engine stopped idle. */
	ASSERT_EQ(0, vdev_set_state(&self->src, VFIO_DEVICE_STATE_STOP_COPY,
				    &fd));
	ret = vdev_read_stream(fd, &stream, &len);
	close(fd);
	ASSERT_EQ(0, ret) TH_LOG("reading the data_fd: %s", strerror(-ret));
	ASSERT_EQ(0, vdev_set_state(&self->src, VFIO_DEVICE_STATE_STOP, NULL));
	TAKE_TRACE();
	saved = s->save;
	EXPECT_LT(2, saved);
	EXPECT_EQ(len - preamble_len(stream), s->save_bytes)
		TH_LOG("%u records", s->save);
	EXPECT_STREQ("END", s->last_save);
	EXPECT_EQ(0, s->restore);
	EXPECT_TRUE(has(s, "ctxmig_engine_stop", "%s: idle, error 0", self->src.uuid))
		TH_LOG("%s", s->text);
	EXPECT_TRUE(has(s, "ctxmig_state", "%s: stop -> stop_copy: 0",
			self->src.uuid))
		TH_LOG("%s", s->text);
	EXPECT_TRUE(has(s, "ctxmig_state", "%s: stop_copy -> stop: 0",
			self->src.uuid))
		TH_LOG("%s", s->text);
	EXPECT_EQ(0, failed_arcs(s)) TH_LOG("%s", s->text);
	EXPECT_EQ(0, s->error) TH_LOG("%s", s->text);

	/* Restore into another model: the same records read back. */
	ret = vdev_restore_stream(&self->dst, stream, len, 4093, &werr);
	EXPECT_EQ(0, werr) TH_LOG("writing the stream: %s", strerror(-werr));
	ASSERT_EQ(0, ret) TH_LOG("restore: %s", strerror(-ret));
	TAKE_TRACE();
	EXPECT_EQ(len - preamble_len(stream), s->restore_bytes)
		TH_LOG("%u records", s->restore);
	EXPECT_EQ(saved, s->restore);
	EXPECT_STREQ("END", s->last_restore);
	EXPECT_EQ(0, s->skip);
	EXPECT_EQ(0, s->save);
	EXPECT_TRUE(has(s, "ctxmig_state", "%s: stop -> resuming: 0",
			self->dst.uuid))
		TH_LOG("%s", s->text);
	EXPECT_TRUE(has(s, "ctxmig_state", "%s: resuming -> stop: 0",
			self->dst.uuid))
		TH_LOG("%s", s->text);
	EXPECT_EQ(0, failed_arcs(s)) TH_LOG("%s", s->text);
	EXPECT_EQ(0, s->error) TH_LOG("%s", s->text);

	/* A stream of the next major version: refused, errno and reason. */
	p = (void *)stream;
	p->version_major = htole16(CTXMIG_IR_VERSION_MAJOR + 1);
	p->preamble_crc = htole32(guest_ir_crc(p, offsetof(struct ctxmig_ir_preamble,
							   preamble_crc)));
	ret = vdev_restore_stream(&self->dst, stream, len, 4093, &werr);
	free(stream);
	EXPECT_EQ(-EPROTONOSUPPORT, werr) TH_LOG("%s", strerror(-werr));
	EXPECT_EQ(-EPROTONOSUPPORT, ret);
	TAKE_TRACE();
	EXPECT_LE(1, s->error) TH_LOG("%s", s->text);
	EXPECT_TRUE(has(s, "ctxmig_error", "%s: stream refused: %d ",
			self->dst.uuid, -EPROTONOSUPPORT))
		TH_LOG("%s", s->text);
	/* The arc that failed, from the state it left. */
	EXPECT_TRUE(has(s, "ctxmig_state", "%s: resuming -> stop: %d",
			self->dst.uuid, -EPROTONOSUPPORT))
		TH_LOG("%s", s->text);
	EXPECT_EQ(0, s->restore_bytes);
}

int main(int argc, char **argv)
{
	/* A test that fails leaves no instance behind for the next ones. */
	vdev_track_init();
	return test_harness_run(argc, argv);
}
