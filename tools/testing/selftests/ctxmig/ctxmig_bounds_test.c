// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig kselftest: no stream and no guest may make the driver work out of
 * proportion to its size (Documentation/gpu/ctxmig/architecture.rst,
 * "Work bounds").  Each test holds the driver's own count of that work
 * (the "work" line of ctxmig/stats: pages cleared, page-table entries
 * decoded and written, commands decoded) against the size of the stream
 * or of the guest's VRAM that caused it, in the same run; never a clock.
 *
 *  bounds.zero_records_mapped    a restore of 16 MiB of data and 256
 *                                VRAM_ZERO records over it into a target
 *                                whose BAR2 is mapped (QEMU maps it on
 *                                the destination too)
 *  bounds.huge_mapping_refused   one MAPPING of 2^46 bytes in 4 KiB pages
 *                                is refused at its record, -ENOSPC with
 *                                the reason, before any table is built
 *  bounds.large_mapping_restores 64 GiB mapped in 4 KiB pages restores
 *                                with the target's largest pages
 *  bounds.aliased_tables         a guest whose page tables point many
 *                                entries at one table: the save fails
 *                                cleanly, stop-copy and pre-copy, and the
 *                                source runs on
 *
 * Streams are real saved streams with records spliced in before END and
 * the END record's CRC and count made right, as a hostile VMM would.
 * Run after vfio, vfio_iommu_type1, mdev and ctxmig are loaded.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <linux/ctxmig.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "guest.h"

#define NDEV		2
#define DATA_AT		(16ULL << 20)
#define DATA_LEN	(16ULL << 20)
#define ZERO_RECORDS	256
#define PAGE		4096ULL

/* ----------------------------------------------------------- streams */

/*
 * Put @n records (each @len bytes: header and payload) before END and make
 * END agree: its CRC over what precedes its payload, its record count.
 */
static int splice_before_end(struct vdev_stream *s, const void *recs,
			     size_t len, unsigned int n)
{
	struct ctxmig_ir_rec h = {
		.type = htole16(CTXMIG_IR_END),
		.flags = htole16(CTXMIG_IR_F_CRITICAL),
		.len = htole32(sizeof(struct ctxmig_ir_end)),
	};
	struct ctxmig_ir_end end = {};
	uint64_t records;
	size_t at = vdev_stream_end(s->p, s->len, &records);
	unsigned int i;

	if (!at || vdev_stream_room(s, len * n))
		return -EINVAL;
	s->len = at;
	for (i = 0; i < n; i++) {
		memcpy(s->p + s->len, recs, len);
		s->len += len;
	}
	memcpy(s->p + s->len, &h, sizeof(h));
	s->len += sizeof(h);
	end.crc32c = htole32(guest_ir_crc(s->p, s->len));
	end.records = htole64(records + n);
	memcpy(s->p + s->len, &end, sizeof(end));
	s->len += sizeof(end);
	return 0;
}

/* ------------------------------------------------------------ stats */

/* The value of "@key N" in ctxmig/stats, or UINT64_MAX. */
static uint64_t stat_u64(struct vdev *d, const char *key)
{
	char buf[4096], pat[64];
	const char *at;

	if (vdev_attr_read(d, "stats", buf, sizeof(buf)) < 0)
		return UINT64_MAX;
	snprintf(pat, sizeof(pat), "\n%s ", key);
	at = strstr(buf, pat);
	return at ? strtoull(at + strlen(pat), NULL, 10) : UINT64_MAX;
}

static uint64_t work(struct vdev *d)
{
	return stat_u64(d, "work");
}

/* ---------------------------------------------------------- fixture */

FIXTURE(bounds) {
	struct vdev dev[NDEV];
	void *map;
	size_t map_len;
	struct vdev_stream s;
	struct guest g;
	bool have_guest;
};

FIXTURE_SETUP(bounds)
{
	int i;

	for (i = 0; i < NDEV; i++)
		vdev_init(&self->dev[i]);
}

FIXTURE_TEARDOWN(bounds)
{
	int i;

	if (self->map)
		munmap(self->map, self->map_len);
	if (self->have_guest)
		guest_fini(&self->g);
	for (i = 0; i < NDEV; i++)
		vdev_track_remove(&self->dev[i]);
	vdev_stream_free(&self->s);
}

static void open_dev(struct __test_metadata *_metadata, struct vdev *d,
		     const char *model)
{
	int ret = vdev_track_new(d, model);

	ASSERT_EQ(0, ret) TH_LOG("%s: create/open: %s", model, strerror(-ret));
}

/* A refused stream leaves @d in ERROR; a reset brings it back. */
static void reset_after_refusal(struct __test_metadata *_metadata,
				struct vdev *d)
{
	uint32_t st = ~0U;

	EXPECT_EQ(0, vdev_get_state(d, &st));
	EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, st);
	EXPECT_EQ(0, vdev_reset(d));
	EXPECT_EQ(0, vdev_get_state(d, &st));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, st);
}

/* A source with 16 MiB of data and no page tables, saved into self->s. */
static void save_data_source(struct __test_metadata *_metadata,
			     struct vdev *src, struct vdev_stream *s)
{
	uint8_t *data = malloc(DATA_LEN);
	uint64_t i;
	int ret;

	ASSERT_NE(NULL, data);
	for (i = 0; i < DATA_LEN; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	ASSERT_EQ(0, vdev_vram_write(src, DATA_AT, data, DATA_LEN));
	free(data);
	ret = vdev_save_stopped(src, s);
	ASSERT_EQ(0, ret) TH_LOG("save: %s", strerror(-ret));
}

/* --------------------------------------------------- a) VRAM_ZERO */

/*
 * Each VRAM_ZERO record used to zero every present page of its range when
 * BAR2 was mapped (a mapped page cannot be freed): 256 records over 16 MiB
 * were 256 times the work of the data.  Now a page is zeroed once, until
 * it is written again: the restore's work stays within twice the stream's
 * pages and records, mapped or not.
 */
TEST_F_TIMEOUT(bounds, zero_records_mapped, 300)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	struct {
		struct ctxmig_ir_rec h;
		struct ctxmig_ir_vram v;
	} zero = {
		.h = {
			.type = htole16(CTXMIG_IR_VRAM_ZERO),
			.flags = htole16(CTXMIG_IR_F_CRITICAL),
			.len = htole32(sizeof(struct ctxmig_ir_vram)),
		},
		.v = { .offset = htole64(DATA_AT), .length = htole64(DATA_LEN) },
	};
	uint64_t records, before, spent, bound;
	const uint8_t *p;
	int ret, werr;
	size_t i;

	open_dev(_metadata, src, "amd-gfx9");
	open_dev(_metadata, dst, "amd-gfx9");
	save_data_source(_metadata, src, &self->s);
	ASSERT_EQ(0, splice_before_end(&self->s, &zero, sizeof(zero),
				       ZERO_RECORDS));
	ASSERT_NE(0, vdev_stream_end(self->s.p, self->s.len, &records));

	/*
	 * The destination's BAR2 mapped, as QEMU maps it: QEMU maps all of
	 * the guest's part (the sparse mmap area); the zeroed range is enough
	 * here.
	 */
	self->map_len = DATA_AT + DATA_LEN;
	self->map = vdev_vram_mmap(dst, 0, self->map_len);
	ASSERT_NE(NULL, self->map) TH_LOG("mmap: %s", strerror(errno));
	p = self->map;

	before = work(dst);
	ASSERT_NE(UINT64_MAX, before) TH_LOG("no work line in stats");
	ret = vdev_restore_stream(dst, self->s.p, self->s.len, 65536, &werr);
	ASSERT_EQ(0, werr) TH_LOG("write: %s", strerror(-werr));
	ASSERT_EQ(0, ret) TH_LOG("restore: %s", strerror(-ret));
	spent = work(dst) - before;
	bound = 2 * (self->s.len / PAGE + records + 1);
	EXPECT_GE(bound, spent)
		TH_LOG("restoring %zu bytes (%llu records) into a mapped BAR2 cost %llu work",
		       self->s.len, (unsigned long long)records,
		       (unsigned long long)spent);
	/* Through the mapping, the range reads zero. */
	for (i = 0; i < DATA_LEN && !p[DATA_AT + i]; i++)
		;
	EXPECT_EQ(DATA_LEN, i)
		TH_LOG("mapped byte +0x%zx is 0x%02x", i, p[DATA_AT + i]);
	ASSERT_EQ(0, vdev_set_state(dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(1, vdev_ctl(dst, CTXMIG_CTL_MIGRATED));
}

/* ----------------------------------------------------- b) MAPPING */

struct mapping_rec {
	struct ctxmig_ir_rec h;
	struct ctxmig_ir_mapping m;
};

static struct mapping_rec mapping_rec(uint64_t va, uint64_t size,
				      uint64_t addr, uint8_t page_shift)
{
	struct mapping_rec r = {
		.h = {
			.type = htole16(CTXMIG_IR_MAPPING),
			.flags = htole16(CTXMIG_IR_F_CRITICAL),
			.len = htole32(sizeof(struct ctxmig_ir_mapping)),
		},
		.m = {
			.va = htole64(va), .size = htole64(size),
			.addr = htole64(addr),
			.flags = htole32(CTXMIG_MAP_READ | CTXMIG_MAP_SYSMEM),
			.page_shift = page_shift,
		},
	};

	return r;
}

/*
 * One MAPPING record of 2^46 bytes in 4 KiB pages used to be built page
 * by page at RESUMING -> STOP until the reserved area filled.  Its tables
 * do not fit even in the target's largest pages: refused at the record,
 * while the stream is written, with ENOSPC and the reason, for the work
 * of a few records.
 */
TEST_F_TIMEOUT(bounds, huge_mapping_refused, 300)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	struct mapping_rec r = mapping_rec(0, 1ULL << 46, 0x1000, 12);
	uint64_t before, spent;
	int ret, werr;

	open_dev(_metadata, src, "amd-gfx9");
	open_dev(_metadata, dst, "amd-gfx9");
	ret = vdev_save_stopped(src, &self->s);
	ASSERT_EQ(0, ret) TH_LOG("save: %s", strerror(-ret));
	ASSERT_EQ(0, splice_before_end(&self->s, &r, sizeof(r), 1));

	before = work(dst);
	ASSERT_NE(UINT64_MAX, before) TH_LOG("no work line in stats");
	ret = vdev_restore_stream(dst, self->s.p, self->s.len, 4093, &werr);
	EXPECT_EQ(-ENOSPC, werr) TH_LOG("writing the stream: %s",
					strerror(-werr));
	EXPECT_NE(0, ret);
	EXPECT_TRUE(vdev_last_error_has(dst, "do not fit"));
	spent = work(dst) - before;
	EXPECT_GE(64, spent) TH_LOG("refusing cost %llu work",
				    (unsigned long long)spent);
	reset_after_refusal(_metadata, dst);
}

/*
 * 64 GiB of system memory mapped in 4 KiB pages needs 32768 page tables
 * at that size, eight times the 16 MiB a 256 MiB target reserves; in the
 * target's largest pages it needs a few.  It restores, for work
 * proportional to those tables, not to the bytes mapped.
 */
TEST_F_TIMEOUT(bounds, large_mapping_restores, 300)
{
	struct vdev *src = &self->dev[0], *dst = &self->dev[1];
	struct mapping_rec r = mapping_rec(1ULL << 40, 1ULL << 36, 1ULL << 40,
					   12);
	uint64_t before, spent;
	int ret, werr;

	open_dev(_metadata, src, "amd-gfx9");
	open_dev(_metadata, dst, "amd-gfx9");
	ret = vdev_save_stopped(src, &self->s);
	ASSERT_EQ(0, ret) TH_LOG("save: %s", strerror(-ret));
	ASSERT_EQ(0, splice_before_end(&self->s, &r, sizeof(r), 1));

	before = work(dst);
	ASSERT_NE(UINT64_MAX, before) TH_LOG("no work line in stats");
	ret = vdev_restore_stream(dst, self->s.p, self->s.len, 65536, &werr);
	ASSERT_EQ(0, werr) TH_LOG("write: %s", strerror(-werr));
	ASSERT_EQ(0, ret) TH_LOG("restore: %s", strerror(-ret));
	spent = work(dst) - before;
	/* 2 MiB pages: 32768 leaves in 64 tables. */
	EXPECT_GE(2 * 32768 + 4096, spent)
		TH_LOG("building 64 GiB of mapping cost %llu work",
		       (unsigned long long)spent);
	ASSERT_EQ(0, vdev_set_state(dst, VFIO_DEVICE_STATE_RUNNING, NULL));
}

/* ----------------------------------------------- c) aliased tables */

/* Intel Gen12 PPGTT: present and writable; PDP0 of the render ring. */
#define GEN8_PAGE_PRESENT	0x1ULL
#define GEN8_PAGE_RW		0x2ULL
#define INTEL_PDP0_LDW		(0x2000 + 0x270)
#define INTEL_PDP0_UDW		(0x2000 + 0x274)

/* Guest VRAM the aliased tables take, far from the guest's own. */
#define ALIAS_P			0x4001000ULL
#define ALIAS_Q			0x4002000ULL
#define ALIAS_R			0x4003000ULL

static void put_entries(struct __test_metadata *_metadata, struct vdev *d,
			uint64_t table, unsigned int first, unsigned int n,
			uint64_t entry)
{
	uint64_t e[512];
	unsigned int i;

	ASSERT_GE(512, first + n);
	for (i = 0; i < n; i++)
		e[i] = htole64(entry);
	ASSERT_EQ(0, vdev_vram_write(d, table + first * 8, e, n * 8));
}

/* A fence on the guest's data, and the engine got to it. */
static void run_fence(struct __test_metadata *_metadata, struct guest *g,
		      uint64_t seq)
{
	struct guest_cmd c[] = {
		{ .op = CTXMIG_OP_WRITE32, .dst = GUEST_DATA_VA + 0x100,
		  .value = (uint32_t)seq * 3 },
		{ .op = CTXMIG_OP_FENCE, .dst = GUEST_DATA_VA, .value = seq },
	};

	ASSERT_EQ(0, guest_submit(g, c, 2, false)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_wait_fence(g, seq)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_wait_idle(g)) TH_LOG("%s", g->why);
}

/*
 * The guest points PML4 entries 1..16 at one PDP table, its first 16
 * entries at one PD, and 128 of that PD's entries at one page table that
 * maps nothing: the walk of a save used to decode 16 * 16 * 128 page
 * tables of 512 entries (16.8 million) under the device lock.  The walk
 * now stops at twice what the guest's present pages can hold, the save
 * fails with ELOOP and the reason (stop-copy and pre-copy alike), and the
 * source, which nothing changed, runs on.
 */
TEST_F_TIMEOUT(bounds, aliased_tables, 300)
{
	struct vdev *src = &self->dev[0];
	uint64_t root, before, spent, pages, invalid[512];
	uint32_t st;
	int fd, ret;
	unsigned int i;

	open_dev(_metadata, src, "intel-gen12");
	ret = guest_init(&self->g, src);
	self->have_guest = !ret || self->g.shadow;
	ASSERT_EQ(0, ret) TH_LOG("%s", self->g.why);
	ASSERT_EQ(0, guest_setup(&self->g)) TH_LOG("%s", self->g.why);
	run_fence(_metadata, &self->g, 1);

	root = (uint64_t)vdev_rd32(src, INTEL_PDP0_UDW) << 32 |
	       vdev_rd32(src, INTEL_PDP0_LDW);
	root &= ~(PAGE - 1);
	ASSERT_NE(0, root);
	/* R: present, every entry invalid (writable, not present). */
	for (i = 0; i < 512; i++)
		invalid[i] = htole64(GEN8_PAGE_RW);
	ASSERT_EQ(0, vdev_vram_write(src, ALIAS_R, invalid, sizeof(invalid)));
	put_entries(_metadata, src, ALIAS_Q, 0, 128,
		    ALIAS_R | GEN8_PAGE_PRESENT | GEN8_PAGE_RW);
	put_entries(_metadata, src, ALIAS_P, 0, 16,
		    ALIAS_Q | GEN8_PAGE_PRESENT | GEN8_PAGE_RW);
	put_entries(_metadata, src, root, 1, 16,
		    ALIAS_P | GEN8_PAGE_PRESENT | GEN8_PAGE_RW);

	/* Stop-copy: STOP -> STOP_COPY fails, the device stays in STOP. */
	pages = stat_u64(src, "vram_pages");
	ASSERT_NE(UINT64_MAX, pages);
	before = work(src);
	ASSERT_NE(UINT64_MAX, before) TH_LOG("no work line in stats");
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_STOP, NULL));
	fd = -1;
	ret = vdev_set_state(src, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-ELOOP, ret);
	spent = work(src) - before;
	EXPECT_GE(1024 * (pages + 1) + 1024, spent)
		TH_LOG("walking the tables of %llu pages cost %llu work",
		       (unsigned long long)pages, (unsigned long long)spent);
	EXPECT_TRUE(vdev_last_error_has(src, "page tables"));
	EXPECT_EQ(0, vdev_get_state(src, &st));
	EXPECT_EQ(VFIO_DEVICE_STATE_STOP, st);

	/* The source runs on. */
	ASSERT_EQ(0, vdev_set_state(src, VFIO_DEVICE_STATE_RUNNING, NULL));
	run_fence(_metadata, &self->g, 2);

	/* Pre-copy: RUNNING -> PRE_COPY fails, the engine keeps running. */
	before = work(src);
	fd = -1;
	ret = vdev_set_state(src, VFIO_DEVICE_STATE_PRE_COPY, &fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-ELOOP, ret);
	spent = work(src) - before;
	EXPECT_GE(1024 * (pages + 1) + 1024, spent);
	EXPECT_EQ(0, vdev_get_state(src, &st));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, st);
	run_fence(_metadata, &self->g, 3);
}

int main(int argc, char **argv)
{
	/* A test that fails leaves no instance behind for the next ones. */
	vdev_track_init();
	/* Exits through ksft_exit(). */
	return test_harness_run(argc, argv);
}
