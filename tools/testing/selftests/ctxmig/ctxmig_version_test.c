// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig: mixed IR versions, through VFIO.
 *
 * A host whose module writes a newer minor IR version migrates to this
 * one: its stream has a longer preamble and records of types this reader
 * does not know, marked optional (Documentation/gpu/ctxmig/ir-format.rst,
 * "Compatibility rules").  Such a stream is made here from a real one, an
 * amd-gfx9 vGPU saved with work done, by rewriting it as the newer writer
 * would, and restored into an nv-ampere vGPU: it must be accepted, and the
 * guest must recover and carry on with every byte right.  What an older
 * reader cannot skip is refused with the errno that says so, and the
 * reason: a record marked critical (EOPNOTSUPP) and another major version
 * (EPROTONOSUPPORT).
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/ctxmig.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "guest.h"
#include "workload.h"

#define BATCH		40
/* A record type no version of the IR has (types are never reused). */
#define TYPE_FUTURE	0x0e01
#define TYPE_FUTURE_K	0x0e02

struct stream {
	uint8_t *b;
	size_t len;
};

static void put(struct stream *s, const void *p, size_t len)
{
	memcpy(s->b + s->len, p, len);
	s->len += len;
}

/* A record of @type: @flags, @len payload bytes of a pattern. */
static void put_rec(struct stream *s, uint16_t type, uint16_t flags,
		    uint32_t len)
{
	struct ctxmig_ir_rec h = {
		.type = htole16(type),
		.flags = htole16(flags),
		.len = htole32(len),
	};

	put(s, &h, sizeof(h));
	memset(s->b + s->len, 0x5c, (len + 7) & ~7U);
	s->len += (len + 7) & ~7U;
}

/*
 * @in as a writer of IR @major.@minor would write it: 8 more preamble
 * bytes, after the first record (DEVICE) a record of an unknown type with
 * @flags and an unknown optional container holding one, and another
 * unknown optional record right before END; then both checksums and the
 * record count right again.
 */
static int rewrite(const struct stream *in, struct stream *out,
		   uint16_t major, uint16_t minor, uint16_t flags)
{
	const struct ctxmig_ir_preamble *ip = (const void *)in->b;
	struct ctxmig_ir_preamble *p;
	struct ctxmig_ir_rec *end;
	struct ctxmig_ir_end *e;
	size_t plen = le32toh(ip->preamble_len), first, end_at;
	uint64_t records;
	const struct ctxmig_ir_rec *dev;

	end_at = vdev_stream_end(in->b, in->len, &records);
	if (!end_at || plen != sizeof(*p))
		return -EINVAL;
	dev = (const void *)(in->b + plen);
	first = plen + sizeof(*dev) + ((le32toh(dev->len) + 7) & ~7ULL);
	out->b = malloc(in->len + 256);
	if (!out->b)
		return -ENOMEM;
	out->len = 0;

	put(out, in->b, plen);
	memset(out->b + out->len, 0xab, 8);	/* the newer preamble's fields */
	out->len += 8;
	put(out, in->b + plen, first - plen);
	put_rec(out, TYPE_FUTURE, flags, 20);
	/* A container of 24 bytes: one nested record of 16. */
	put_rec(out, TYPE_FUTURE_K, CTXMIG_IR_F_CONTAINER, 24);
	memset(out->b + out->len - 24, 0, 8);
	((struct ctxmig_ir_rec *)(out->b + out->len - 24))->type =
		htole16(TYPE_FUTURE);
	((struct ctxmig_ir_rec *)(out->b + out->len - 24))->len = htole32(16);
	put(out, in->b + first, end_at - first);
	put_rec(out, TYPE_FUTURE, 0, 4);
	put(out, in->b + end_at, in->len - end_at);

	p = (void *)out->b;
	p->version_major = htole16(major);
	p->version_minor = htole16(minor);
	p->preamble_len = htole32(plen + 8);
	p->preamble_crc = htole32(guest_ir_crc(p, offsetof(struct ctxmig_ir_preamble,
							   preamble_crc)));
	end = (void *)(out->b + out->len - (in->len - end_at));
	e = (void *)(end + 1);
	e->records = htole64(records + 3);
	e->crc32c = htole32(guest_ir_crc(out->b, (uint8_t *)e - out->b));
	return 0;
}

FIXTURE(mixed) {
	struct vdev src, dst;
	struct guest g;
	bool have_g;
	struct workload w;
	uint8_t *buf;
	struct stream saved;	/* the source's own stream */
};

FIXTURE_SETUP(mixed)
{
	int ret, fd;

	vdev_init(&self->src);
	vdev_init(&self->dst);
	self->buf = malloc(GUEST_DATA_SIZE);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, wl_init(&self->w, 0x1d0e5eedULL));
	ASSERT_EQ(0, vdev_track_new(&self->src, "amd-gfx9"));
	ASSERT_EQ(0, vdev_track_new(&self->dst, "nv-ampere"));

	ret = guest_init(&self->g, &self->src);
	self->have_g = !ret || self->g.shadow;
	ASSERT_EQ(0, ret) TH_LOG("%s", self->g.why);
	ASSERT_EQ(0, guest_setup(&self->g)) TH_LOG("%s", self->g.why);
	ASSERT_EQ(0, wl_fill(&self->w, &self->src));
	ASSERT_EQ(0, wl_run_batch(&self->w, &self->g, BATCH, true))
		TH_LOG("%s", self->g.why);

	ASSERT_EQ(0, vdev_set_state(&self->src, VFIO_DEVICE_STATE_STOP_COPY,
				    &fd));
	ret = vdev_read_stream(fd, &self->saved.b, &self->saved.len);
	close(fd);
	ASSERT_EQ(0, ret) TH_LOG("reading the data_fd: %s", strerror(-ret));
	ASSERT_EQ(0, vdev_set_state(&self->src, VFIO_DEVICE_STATE_STOP, NULL));
}

FIXTURE_TEARDOWN(mixed)
{
	if (self->have_g)
		guest_fini(&self->g);
	vdev_track_remove(&self->src);
	vdev_track_remove(&self->dst);
	wl_free(&self->w);
	free(self->buf);
	free(self->saved.b);
}

/* Restore @s into the destination: 0, or the first -errno on the way. */
static int restore(struct vdev *dst, const struct stream *s)
{
	int werr, ret;

	ret = vdev_restore_stream(dst, s->b, s->len, 4093, &werr);
	return werr ?: ret;
}

/* A newer minor's stream, its additions optional: restored, and it runs. */
TEST_F(mixed, newer_minor_restored)
{
	struct stream s = {};
	struct guest_cmd c[BATCH];
	unsigned int n;
	int64_t bad;
	int err, ret;

	ASSERT_EQ(0, rewrite(&self->saved, &s, CTXMIG_IR_VERSION_MAJOR,
			     CTXMIG_IR_VERSION_MINOR + 1, 0));
	ret = restore(&self->dst, &s);
	free(s.b);
	ASSERT_EQ(0, ret) TH_LOG("IR %u.%u stream: %s", CTXMIG_IR_VERSION_MAJOR,
				 CTXMIG_IR_VERSION_MINOR + 1, strerror(-ret));
	ASSERT_EQ(0, vdev_set_state(&self->dst, VFIO_DEVICE_STATE_RUNNING,
				    NULL));
	EXPECT_EQ(1, vdev_ctl(&self->dst, GUEST_CTL_MIGRATED));

	self->g.dev = &self->dst;
	ASSERT_EQ(0, guest_recover(&self->g)) TH_LOG("%s", self->g.why);
	EXPECT_STREQ("nv-ampere", guest_model_name(&self->g));
	bad = wl_check(&self->w, &self->dst, self->buf, &err);
	ASSERT_EQ(0, err);
	EXPECT_EQ(-1, bad) TH_LOG("VRAM differs at data offset %lld",
				  (long long)bad);
	n = wl_gen(&self->w, c, BATCH);
	ASSERT_EQ(0, guest_submit(&self->g, c, n, false)) TH_LOG("%s", self->g.why);
	ASSERT_EQ(0, guest_wait_fence(&self->g, self->w.seq))
		TH_LOG("%s", self->g.why);
	bad = wl_check(&self->w, &self->dst, self->buf, &err);
	ASSERT_EQ(0, err);
	EXPECT_EQ(-1, bad) TH_LOG("VRAM differs at data offset %lld",
				  (long long)bad);
}

/* The same with the first addition marked critical: refused, and why. */
TEST_F(mixed, unknown_critical_refused)
{
	struct stream s = {};
	int ret;

	ASSERT_EQ(0, rewrite(&self->saved, &s, CTXMIG_IR_VERSION_MAJOR,
			     CTXMIG_IR_VERSION_MINOR + 1, CTXMIG_IR_F_CRITICAL));
	ret = restore(&self->dst, &s);
	free(s.b);
	EXPECT_EQ(-EOPNOTSUPP, ret) TH_LOG("%s", strerror(-ret));
	EXPECT_TRUE(vdev_last_error_has(&self->dst, "(-95)"));
	/* The source, which nothing changed, runs on. */
	EXPECT_EQ(0, vdev_set_state(&self->src, VFIO_DEVICE_STATE_RUNNING,
				    NULL));
}

/* Another major version is refused before anything else is read. */
TEST_F(mixed, newer_major_refused)
{
	struct stream s = {};
	int ret;

	ASSERT_EQ(0, rewrite(&self->saved, &s, CTXMIG_IR_VERSION_MAJOR + 1, 0,
			     0));
	ret = restore(&self->dst, &s);
	free(s.b);
	EXPECT_EQ(-EPROTONOSUPPORT, ret) TH_LOG("%s", strerror(-ret));
	EXPECT_TRUE(vdev_last_error_has(&self->dst, "(-93)"));
}

int main(int argc, char **argv)
{
	/* A test that fails leaves no instance behind for the next ones. */
	vdev_track_init();
	return test_harness_run(argc, argv);
}
