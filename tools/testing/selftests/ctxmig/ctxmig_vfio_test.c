// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig: the vGPUs as a VMM and its guest see them, through VFIO only.
 *
 * Every test creates its own mdev instances and removes them in its
 * teardown (and main() removes any a killed test left behind).  A guest
 * driver (guest.c) programs each device in its model's native formats;
 * the workloads are random writes, copies and fences in one data mapping
 * whose expected contents a reference computation gives.
 *
 *  types_enumerate          the five mdev types and their attributes
 *  each_model.*.regions_and_irqs
 *                           VFIO device, region and IRQ info, config
 *                           space, control page, migration flags
 *  each_model.*.workload    ring and indirect-buffer submissions, fences,
 *                           the data through BAR2, the MSI eventfd
 *  each_model.*.bar2_mmap   VRAM mapped: what the engine writes shows in
 *                           the mapping, what is written there the engine
 *                           copies; mappings of BAR0, private or past the
 *                           end are refused
 *  migrate_same_type.*.live and migrate_cross_type.*.live
 *                           a workload migrated with commands pending
 *                           (when the engine was caught with any), the
 *                           target verified and driven in its own
 *                           format, the source resumed and driven
 *  instance_settings.vram_and_va_bits
 *                           per-instance VRAM size and VA width through
 *                           sysfs while closed, refused while open, a
 *                           stream refused by a narrower target, taken
 *                           once it is widened
 *  real_drivers.every_pair  every ordered pair of types, the guest writing
 *                           what the real drivers write (amdgpu, Mesa,
 *                           xe, nouveau, UVM), migrated with those words
 *                           pending: how many were is reported
 *  bad_streams.*.refused    truncated, bit-flipped and wrong-version
 *                           streams: RESUMING -> STOP fails, the target
 *                           is in ERROR, a reset recovers it, the good
 *                           stream then restores; the source resumes
 *  bad_streams.*.user_buffers
 *                           the stream written from pages not mapped in
 *                           yet, and from a buffer with a hole: write()
 *                           stops at the hole, EFAULT there, the rest
 *                           written after it restores
 *
 * Run after vfio, vfio_iommu_type1, mdev and ctxmig are loaded.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/ctxmig.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "guest.h"
#include "workload.h"

#define MDEV_TYPES	"/sys/class/mdev_bus/ctxmig/mdev_supported_types"
#define VA_BITS		47
#define VRAM_MIN	(16ULL << 20)

static const struct model_info {
	const char *name;
	uint32_t id;
} models[] = {
	{ "amd-gfx9", CTXMIG_MODEL_AMD_GFX9 },
	{ "amd-gfx12", CTXMIG_MODEL_AMD_GFX12 },
	{ "intel-gen12", CTXMIG_MODEL_INTEL_GEN12 },
	{ "nv-ampere", CTXMIG_MODEL_NV_AMPERE },
	{ "nv-hopper", CTXMIG_MODEL_NV_HOPPER },
};

static const struct model_info *model_info(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(models); i++)
		if (!strcmp(models[i].name, name))
			return &models[i];
	return NULL;
}

static int read_attr(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static void check_data(struct __test_metadata *_metadata,
		       struct workload *w, struct vdev *d, uint8_t *buf)
{
	int err;
	int64_t at = wl_check(w, d, buf, &err);

	ASSERT_EQ(0, err);
	ASSERT_EQ(-1, at) {
		TH_LOG("%s: data differs at +0x%llx: 0x%02x, expected 0x%02x",
		       d->model, (long long)at, buf[at], w->ref[at]);
	}
}

/* Submit a batch of @n commands and wait for its last fence. */
static void run_batch(struct __test_metadata *_metadata, struct guest *g,
		      struct workload *w, unsigned int n, bool ib)
{
	ASSERT_EQ(0, wl_run_batch(w, g, n, ib)) TH_LOG("%s", g->why);
}

/* -------------------------------------------------------- enumeration */

TEST(types_enumerate)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(models); i++) {
		char path[256], buf[64];

		snprintf(path, sizeof(path), MDEV_TYPES "/ctxmig-%s/device_api",
			 models[i].name);
		ASSERT_EQ(0, read_attr(path, buf, sizeof(buf)))
			TH_LOG("no mdev type ctxmig-%s", models[i].name);
		EXPECT_STREQ("vfio-pci", buf);

		snprintf(path, sizeof(path),
			 MDEV_TYPES "/ctxmig-%s/available_instances",
			 models[i].name);
		ASSERT_EQ(0, read_attr(path, buf, sizeof(buf)));
		EXPECT_LT(0, atoi(buf)) TH_LOG("%s: %s instances available",
					       models[i].name, buf);

		snprintf(path, sizeof(path), MDEV_TYPES "/ctxmig-%s/name",
			 models[i].name);
		ASSERT_EQ(0, read_attr(path, buf, sizeof(buf)));
		EXPECT_NE(0, strlen(buf));

		snprintf(path, sizeof(path), MDEV_TYPES "/ctxmig-%s/create",
			 models[i].name);
		EXPECT_EQ(0, access(path, W_OK));
	}
}

/* ---------------------------------------------------------- each model */

FIXTURE(each_model) {
	struct vdev dev;
	struct guest g;
	bool have_guest;
	int efd;
	uint8_t *buf;
	struct workload w;
	void *map;		/* a BAR2 mapping, unmapped before removal */
	size_t map_len;
};

FIXTURE_VARIANT(each_model) {
	const char *model;
};

FIXTURE_VARIANT_ADD(each_model, amd_gfx9) { .model = "amd-gfx9" };
FIXTURE_VARIANT_ADD(each_model, amd_gfx12) { .model = "amd-gfx12" };
FIXTURE_VARIANT_ADD(each_model, intel_gen12) { .model = "intel-gen12" };
FIXTURE_VARIANT_ADD(each_model, nv_ampere) { .model = "nv-ampere" };
FIXTURE_VARIANT_ADD(each_model, nv_hopper) { .model = "nv-hopper" };

FIXTURE_SETUP(each_model)
{
	int ret;

	self->efd = -1;
	self->buf = malloc(GUEST_DATA_SIZE);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, wl_init(&self->w, name_hash(variant->model)));
	ret = vdev_track_new(&self->dev, variant->model);
	ASSERT_EQ(0, ret) TH_LOG("%s: create/open: %s", variant->model,
				 strerror(-ret));
}

FIXTURE_TEARDOWN(each_model)
{
	if (self->map)
		munmap(self->map, self->map_len);
	if (self->have_guest)
		guest_fini(&self->g);
	if (self->efd >= 0)
		close(self->efd);
	vdev_track_remove(&self->dev);
	wl_free(&self->w);
	free(self->buf);
}

TEST_F(each_model, regions_and_irqs)
{
	const struct model_info *mi = model_info(variant->model);
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vdev *d = &self->dev;
	uint16_t id[2];
	uint64_t flags;
	uint32_t state;
	unsigned int i;

	ASSERT_NE(NULL, mi);
	ASSERT_EQ(0, ioctl(d->fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_EQ(VFIO_PCI_NUM_REGIONS, info.num_regions);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = i };
		uint32_t rw = VFIO_REGION_INFO_FLAG_READ |
			      VFIO_REGION_INFO_FLAG_WRITE;

		ASSERT_EQ(0, ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
			TH_LOG("region %u: %s", i, strerror(errno));
		switch (i) {
		case VFIO_PCI_CONFIG_REGION_INDEX:
			EXPECT_EQ(256, ri.size);
			EXPECT_EQ(rw, ri.flags & rw);
			break;
		case VFIO_PCI_BAR0_REGION_INDEX:
			EXPECT_EQ(64 * 1024, ri.size);
			EXPECT_EQ(rw, ri.flags & rw);
			break;
		case VFIO_PCI_BAR2_REGION_INDEX:
			EXPECT_LE(VRAM_MIN, ri.size);
			EXPECT_EQ(0, ri.size & ((2ULL << 20) - 1));
			EXPECT_EQ(rw, ri.flags & rw);
			EXPECT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
			break;
		default:
			EXPECT_EQ(0, ri.size) TH_LOG("region %u", i);
			break;
		}
	}

	ASSERT_EQ(0, vdev_region_rw(d, d->cfg_off, &id[0], 2, false));
	ASSERT_EQ(0, vdev_region_rw(d, d->cfg_off + 2, &id[1], 2, false));
	EXPECT_EQ(CTXMIG_PCI_VENDOR_ID, id[0]);
	EXPECT_EQ(CTXMIG_PCI_DEVICE_ID, id[1]);

	for (i = 0; i < 2; i++) {
		struct vfio_irq_info ii = {
			.argsz = sizeof(ii),
			.index = i ? VFIO_PCI_MSI_IRQ_INDEX :
				     VFIO_PCI_INTX_IRQ_INDEX,
		};

		ASSERT_EQ(0, ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
		EXPECT_EQ(1, ii.count);
		EXPECT_TRUE(ii.flags & VFIO_IRQ_INFO_EVENTFD);
	}

	ASSERT_EQ(0, vdev_mig_flags(d, &flags));
	EXPECT_TRUE(flags & VFIO_MIGRATION_STOP_COPY);
	EXPECT_TRUE(flags & VFIO_MIGRATION_P2P);
	ASSERT_EQ(0, vdev_get_state(d, &state));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, state);

	EXPECT_EQ(CTXMIG_CTL_MAGIC_VALUE, vdev_ctl(d, CTXMIG_CTL_MAGIC));
	EXPECT_EQ(mi->id, vdev_ctl(d, CTXMIG_CTL_MODEL));
	EXPECT_EQ(VA_BITS, vdev_ctl(d, CTXMIG_CTL_VA_BITS));
	EXPECT_EQ(0, vdev_ctl(d, CTXMIG_CTL_MIGRATED));
	EXPECT_EQ(CTXMIG_ENG_IDLE, vdev_ctl(d, CTXMIG_CTL_ENG_STATUS));
}

TEST_F(each_model, workload)
{
	struct guest *g = &self->g;
	struct workload *w = &self->w;
	int64_t fired;
	int ret;

	ret = guest_init(g, &self->dev);
	self->have_guest = !ret || g->shadow;
	ASSERT_EQ(0, ret) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_setup(g)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, vdev_msi_eventfd(&self->dev, &self->efd));
	ASSERT_EQ(0, vdev_ctl_wr(&self->dev, CTXMIG_CTL_IRQ_ENABLE,
				 CTXMIG_IRQ_FENCE));
	ASSERT_EQ(0, wl_fill(w, &self->dev));

	/* Commands in the ring (or GPFIFO buffers). */
	run_batch(_metadata, g, w, 24, false);
	check_data(_metadata, w, &self->dev, self->buf);
	fired = vdev_eventfd_wait(self->efd, GUEST_TIMEOUT_MS);
	EXPECT_LT(0, fired) TH_LOG("no MSI for a fence with an interrupt");
	EXPECT_TRUE(vdev_ctl(&self->dev, CTXMIG_CTL_IRQ_STATUS) &
		    CTXMIG_IRQ_FENCE);
	ASSERT_EQ(0, vdev_ctl_wr(&self->dev, CTXMIG_CTL_IRQ_STATUS,
				 CTXMIG_IRQ_ALL));

	/* The same through indirect buffers, twice. */
	run_batch(_metadata, g, w, 40, true);
	run_batch(_metadata, g, w, 16, true);
	check_data(_metadata, w, &self->dev, self->buf);
	fired = vdev_eventfd_wait(self->efd, GUEST_TIMEOUT_MS);
	EXPECT_LT(0, fired) TH_LOG("no MSI for the second fence");
	EXPECT_EQ(w->seq, guest_fence(g));
	EXPECT_EQ(CTXMIG_ENG_IDLE, vdev_ctl(&self->dev, CTXMIG_CTL_ENG_STATUS));
	EXPECT_EQ(0, vdev_irq_disable(&self->dev, VFIO_PCI_MSI_IRQ_INDEX));
}

/*
 * BAR2 mapped into this process is the VRAM itself: the engine's writes
 * show in the mapping and the engine copies what was written there.
 */
TEST_F(each_model, bar2_mmap)
{
	struct vdev *d = &self->dev;
	struct guest *g = &self->g;
	struct workload *w = &self->w;
	uint8_t *map;
	void *bad;
	uint64_t i;
	int ret;

	ret = guest_init(g, d);
	self->have_guest = !ret || g->shadow;
	ASSERT_EQ(0, ret) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_setup(g)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, wl_fill(w, d));

	self->map_len = GUEST_DATA_SIZE;
	self->map = vdev_vram_mmap(d, GUEST_DATA_VRAM, self->map_len);
	ASSERT_NE(NULL, self->map) TH_LOG("mmap BAR2: %s", strerror(errno));
	map = self->map;
	EXPECT_EQ(0, memcmp(map, w->ref, GUEST_DATA_SIZE))
		TH_LOG("the mapping does not show what BAR2 writes wrote");

	/* A new source pattern through the mapping; the workload copies it. */
	for (i = SRC_OFF; i < SRC_OFF + SRC_LEN; i++) {
		w->ref[i] = (uint8_t)(i * 131 + 7);
		map[i] = w->ref[i];
	}
	run_batch(_metadata, g, w, 48, false);
	run_batch(_metadata, g, w, 24, true);
	check_data(_metadata, w, d, self->buf);
	EXPECT_EQ(0, memcmp(map, w->ref, GUEST_DATA_SIZE))
		TH_LOG("the mapping does not show what the engine wrote");

	bad = mmap(NULL, 4096, PROT_READ, MAP_SHARED, d->fd, d->bar0_off);
	EXPECT_EQ(MAP_FAILED, bad) TH_LOG("BAR0 mapped");
	bad = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, d->fd,
		   d->bar2_off);
	EXPECT_EQ(MAP_FAILED, bad) TH_LOG("a private BAR2 mapping");
	bad = mmap(NULL, 8192, PROT_READ, MAP_SHARED, d->fd,
		   d->bar2_off + d->bar2_size - 4096);
	EXPECT_EQ(MAP_FAILED, bad) TH_LOG("a mapping past the end of BAR2");
}

/*
 * A GPU mapping of system memory: the engine reaches the guest's RAM
 * through the VFIO DMA helpers.  Writes and copies go both ways between
 * VRAM and this process's buffer.
 */
TEST_F(each_model, system_memory)
{
	const uint64_t iova = 0x40000000ULL, va = 0x20000000ULL;
	const size_t size = 0x10000;
	struct guest *g = &self->g;
	struct guest_cmd c[4] = {};
	uint8_t *sys, vram[256];
	uint64_t v;
	size_t i;
	int ret;

	sys = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sys);
	for (i = 0; i < size; i++)
		sys[i] = i * 7;
	ASSERT_EQ(0, vdev_map_dma(&self->dev, sys, iova, size));
	ret = guest_init(g, &self->dev);
	self->have_guest = !ret || g->shadow;
	ASSERT_EQ(0, ret) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_setup(g)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_map_sysmem(g, va, iova, size)) TH_LOG("%s", g->why);

	/* A write into RAM, RAM to VRAM, VRAM to RAM, a fence. */
	c[0].op = CTXMIG_OP_WRITE64;
	c[0].dst = va + 0x100;
	c[0].value = 0x1122334455667788ULL;
	c[1].op = CTXMIG_OP_COPY;
	c[1].src = va + 0x1000;
	c[1].dst = GUEST_DATA_VA + 0x2000;
	c[1].value = sizeof(vram);
	c[2].op = CTXMIG_OP_COPY;
	c[2].src = va + 0x1000;
	c[2].dst = va + 0x8000;
	c[2].value = 5000;
	c[3].op = CTXMIG_OP_FENCE;
	c[3].dst = GUEST_DATA_VA;
	c[3].value = 1;
	ASSERT_EQ(0, guest_submit(g, c, 4, false)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_wait_fence(g, 1)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_wait_idle(g)) TH_LOG("%s", g->why);

	memcpy(&v, sys + 0x100, 8);
	EXPECT_EQ(0x1122334455667788ULL, v);
	ASSERT_EQ(0, vdev_vram_read(&self->dev, GUEST_DATA_VRAM + 0x2000, vram,
				    sizeof(vram)));
	EXPECT_EQ(0, memcmp(vram, sys + 0x1000, sizeof(vram)));
	EXPECT_EQ(0, memcmp(sys + 0x8000, sys + 0x1000, 5000));
	munmap(sys, size);
}

/* ----------------------------------------------------------- migration */

struct mig {
	struct vdev src, dst;
	struct guest g;		/* the guest, which moves to dst */
	struct guest gs;	/* a guest driver of the resumed source */
	bool have_g, have_gs;
	struct workload w, ws;
	uint8_t *buf;
	uint8_t *stream;
	size_t stream_len;
};

static void mig_teardown(struct mig *m)
{
	if (m->have_g)
		guest_fini(&m->g);
	if (m->have_gs)
		guest_fini(&m->gs);
	vdev_track_remove(&m->src);
	vdev_track_remove(&m->dst);
	wl_free(&m->w);
	wl_free(&m->ws);
	free(m->buf);
	free(m->stream);
}

static int mig_setup(struct mig *m, const char *src, const char *dst,
		     uint64_t seed)
{
	int ret;

	vdev_init(&m->src);
	vdev_init(&m->dst);
	m->buf = malloc(GUEST_DATA_SIZE);
	if (!m->buf || wl_init(&m->w, seed))
		return -ENOMEM;
	ret = vdev_track_new(&m->src, src);
	return ret ?: vdev_track_new(&m->dst, dst);
}

/*
 * Bring the source up, run a first batch to completion, submit a second
 * and stop the source at once, then save it.  *@pending says whether the
 * engine still had commands.
 */
static void mig_save(struct __test_metadata *_metadata, struct mig *m,
		     bool *pending, uint64_t *buf_next)
{
	struct guest *g = &m->g;
	struct guest_cmd c[WL_BATCH_MAX];
	unsigned int n;
	int ret, fd;

	ret = guest_init(g, &m->src);
	m->have_g = !ret || g->shadow;
	ASSERT_EQ(0, ret) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_setup(g)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, vdev_ctl_wr(&m->src, CTXMIG_CTL_IRQ_ENABLE,
				 CTXMIG_IRQ_FENCE));
	ASSERT_EQ(0, wl_fill(&m->w, &m->src));
	run_batch(_metadata, g, &m->w, 20, false);
	check_data(_metadata, &m->w, &m->src, m->buf);

	/* Ring commands, then buffers of up to a page of commands each. */
	n = wl_gen(&m->w, c, 30);
	ASSERT_EQ(0, guest_submit(g, c, n, false)) TH_LOG("%s", g->why);
	n = wl_gen(&m->w, c, ARRAY_SIZE(c));
	ASSERT_EQ(0, guest_submit(g, c, n, true)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, vdev_set_state(&m->src, VFIO_DEVICE_STATE_STOP, NULL));
	*pending = guest_fence(g) < m->w.seq;
	*buf_next = g->buf_next;
	TH_LOG("%s: stopped at fence %llu of %llu: %s", m->src.model,
	       (unsigned long long)guest_fence(g),
	       (unsigned long long)m->w.seq,
	       *pending ? "commands pending" : "nothing pending");

	ASSERT_EQ(0, vdev_set_state(&m->src, VFIO_DEVICE_STATE_STOP_COPY,
				    &fd));
	ASSERT_LE(0, fd);
	ret = vdev_read_stream(fd, &m->stream, &m->stream_len);
	close(fd);
	ASSERT_EQ(0, ret) TH_LOG("reading the data_fd: %s", strerror(-ret));
	ASSERT_LT(sizeof(struct ctxmig_ir_preamble), m->stream_len);
	ASSERT_EQ(0, vdev_set_state(&m->src, VFIO_DEVICE_STATE_STOP, NULL));
}

/* The resumed source finishes its work and takes more. */
static void mig_resume_source(struct __test_metadata *_metadata,
			      struct mig *m, const struct workload *at_stop,
			      uint64_t buf_next)
{
	struct guest *gs = &m->gs;
	int ret;

	ASSERT_EQ(0, vdev_set_state(&m->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, wl_clone(&m->ws, at_stop));
	ret = guest_init(gs, &m->src);
	m->have_gs = !ret || gs->shadow;
	ASSERT_EQ(0, ret) TH_LOG("%s", gs->why);
	/* The same guest driver's state as when the source stopped. */
	gs->buf_next = buf_next;
	ASSERT_EQ(0, guest_wait_fence(gs, m->ws.seq)) TH_LOG("%s", gs->why);
	ASSERT_EQ(0, guest_wait_idle(gs)) TH_LOG("%s", gs->why);
	EXPECT_EQ(0, vdev_ctl(&m->src, CTXMIG_CTL_MIGRATED));
	check_data(_metadata, &m->ws, &m->src, m->buf);
	run_batch(_metadata, gs, &m->ws, 24, false);
	run_batch(_metadata, gs, &m->ws, 24, true);
	check_data(_metadata, &m->ws, &m->src, m->buf);
}

/* The restored target runs: its guest recovers, finishes, has every byte. */
static void mig_check_target(struct __test_metadata *_metadata,
			     struct mig *m)
{
	struct guest *g = &m->g;

	ASSERT_EQ(0, vdev_set_state(&m->dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(1, vdev_ctl(&m->dst, CTXMIG_CTL_MIGRATED));
	g->dev = &m->dst;
	ASSERT_EQ(0, guest_recover(g)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_wait_fence(g, m->w.seq)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_wait_idle(g)) TH_LOG("%s", g->why);
	EXPECT_EQ(m->w.seq, guest_fence(g));
	check_data(_metadata, &m->w, &m->dst, m->buf);
}

static void mig_live(struct __test_metadata *_metadata, struct mig *m)
{
	const struct model_info *to = model_info(m->dst.model);
	struct workload at_stop = {};
	struct guest *g = &m->g;
	uint64_t buf_next;
	bool pending;
	int ret, werr;

	ASSERT_NE(NULL, to);
	mig_save(_metadata, m, &pending, &buf_next);
	ASSERT_EQ(0, wl_clone(&at_stop, &m->w));

	ret = vdev_restore_stream(&m->dst, m->stream, m->stream_len, 4093, &werr);
	EXPECT_EQ(0, werr) TH_LOG("writing the stream: %s", strerror(-werr));
	ASSERT_EQ(0, ret) TH_LOG("%s -> %s: restore: %s", m->src.model,
				 m->dst.model, strerror(-ret));
	/* The guest finds itself on the target and recovers. */
	mig_check_target(_metadata, m);
	EXPECT_EQ(to->id, vdev_ctl(&m->dst, CTXMIG_CTL_MODEL));
	EXPECT_STREQ(m->dst.model, guest_model_name(g));
	run_batch(_metadata, g, &m->w, 24, false);
	run_batch(_metadata, g, &m->w, 24, true);
	check_data(_metadata, &m->w, &m->dst, m->buf);
	TH_LOG("%s -> %s: %zu stream bytes, %s", m->src.model, m->dst.model,
	       m->stream_len, pending ? "migrated with commands pending" :
	       "nothing was pending");

	mig_resume_source(_metadata, m, &at_stop, buf_next);
	wl_free(&at_stop);
}

/* Create and open both devices; on failure nothing is left behind. */
static void mig_fixture_setup(struct __test_metadata *_metadata,
			      struct mig *m, const char *src, const char *dst)
{
	int ret = mig_setup(m, src, dst, name_hash(src) * 31 + name_hash(dst));

	if (ret)
		mig_teardown(m);
	ASSERT_EQ(0, ret) TH_LOG("%s, %s: create/open: %s", src, dst,
				 strerror(-ret));
}

FIXTURE(migrate_same_type) {
	struct mig m;
};

FIXTURE_VARIANT(migrate_same_type) {
	const char *src;
	const char *dst;
};

FIXTURE_SETUP(migrate_same_type)
{
	mig_fixture_setup(_metadata, &self->m, variant->src, variant->dst);
}

FIXTURE_TEARDOWN(migrate_same_type)
{
	mig_teardown(&self->m);
}

FIXTURE(migrate_cross_type) {
	struct mig m;
};

FIXTURE_VARIANT(migrate_cross_type) {
	const char *src;
	const char *dst;
};

FIXTURE_SETUP(migrate_cross_type)
{
	mig_fixture_setup(_metadata, &self->m, variant->src, variant->dst);
}

FIXTURE_TEARDOWN(migrate_cross_type)
{
	mig_teardown(&self->m);
}

FIXTURE(bad_streams) {
	struct mig m;
};

FIXTURE_VARIANT(bad_streams) {
	const char *src;
	const char *dst;
};

FIXTURE_SETUP(bad_streams)
{
	mig_fixture_setup(_metadata, &self->m, variant->src, variant->dst);
}

FIXTURE_TEARDOWN(bad_streams)
{
	mig_teardown(&self->m);
}

FIXTURE_VARIANT_ADD(migrate_same_type, amd_gfx9) {
	.src = "amd-gfx9", .dst = "amd-gfx9",
};

FIXTURE_VARIANT_ADD(migrate_same_type, amd_gfx12) {
	.src = "amd-gfx12", .dst = "amd-gfx12",
};

FIXTURE_VARIANT_ADD(migrate_same_type, intel_gen12) {
	.src = "intel-gen12", .dst = "intel-gen12",
};

FIXTURE_VARIANT_ADD(migrate_same_type, nv_ampere) {
	.src = "nv-ampere", .dst = "nv-ampere",
};

FIXTURE_VARIANT_ADD(migrate_same_type, nv_hopper) {
	.src = "nv-hopper", .dst = "nv-hopper",
};

/* The two pairs the brief names first, then every other ordered pair. */
FIXTURE_VARIANT_ADD(migrate_cross_type, amd_gfx9_to_nv_ampere) {
	.src = "amd-gfx9", .dst = "nv-ampere",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, nv_ampere_to_intel_gen12) {
	.src = "nv-ampere", .dst = "intel-gen12",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, amd_gfx9_to_amd_gfx12) {
	.src = "amd-gfx9", .dst = "amd-gfx12",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, amd_gfx9_to_intel_gen12) {
	.src = "amd-gfx9", .dst = "intel-gen12",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, amd_gfx9_to_nv_hopper) {
	.src = "amd-gfx9", .dst = "nv-hopper",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, amd_gfx12_to_amd_gfx9) {
	.src = "amd-gfx12", .dst = "amd-gfx9",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, amd_gfx12_to_intel_gen12) {
	.src = "amd-gfx12", .dst = "intel-gen12",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, amd_gfx12_to_nv_ampere) {
	.src = "amd-gfx12", .dst = "nv-ampere",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, amd_gfx12_to_nv_hopper) {
	.src = "amd-gfx12", .dst = "nv-hopper",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, intel_gen12_to_amd_gfx9) {
	.src = "intel-gen12", .dst = "amd-gfx9",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, intel_gen12_to_amd_gfx12) {
	.src = "intel-gen12", .dst = "amd-gfx12",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, intel_gen12_to_nv_ampere) {
	.src = "intel-gen12", .dst = "nv-ampere",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, intel_gen12_to_nv_hopper) {
	.src = "intel-gen12", .dst = "nv-hopper",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, nv_ampere_to_amd_gfx9) {
	.src = "nv-ampere", .dst = "amd-gfx9",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, nv_ampere_to_amd_gfx12) {
	.src = "nv-ampere", .dst = "amd-gfx12",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, nv_ampere_to_nv_hopper) {
	.src = "nv-ampere", .dst = "nv-hopper",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, nv_hopper_to_amd_gfx9) {
	.src = "nv-hopper", .dst = "amd-gfx9",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, nv_hopper_to_amd_gfx12) {
	.src = "nv-hopper", .dst = "amd-gfx12",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, nv_hopper_to_intel_gen12) {
	.src = "nv-hopper", .dst = "intel-gen12",
};

FIXTURE_VARIANT_ADD(migrate_cross_type, nv_hopper_to_nv_ampere) {
	.src = "nv-hopper", .dst = "nv-ampere",
};

TEST_F_TIMEOUT(migrate_same_type, live, 120)
{
	mig_live(_metadata, &self->m);
}

TEST_F_TIMEOUT(migrate_cross_type, live, 120)
{
	mig_live(_metadata, &self->m);
}

/* ---------------------------------------------------------- bad streams */

FIXTURE_VARIANT_ADD(bad_streams, amd_gfx9_to_nv_ampere) {
	.src = "amd-gfx9", .dst = "nv-ampere",
};

FIXTURE_VARIANT_ADD(bad_streams, nv_ampere_to_intel_gen12) {
	.src = "nv-ampere", .dst = "intel-gen12",
};

FIXTURE_VARIANT_ADD(bad_streams, intel_gen12_to_intel_gen12) {
	.src = "intel-gen12", .dst = "intel-gen12",
};

static uint32_t crc32c(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t crc = ~0U;
	unsigned int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (crc & 1 ? 0x82f63b78U : 0);
	}
	return ~crc;
}

/* A bad stream must be refused and leave the target in ERROR. */
static void refuse(struct __test_metadata *_metadata, struct vdev *d,
		   const uint8_t *s, size_t len, const char *what)
{
	uint32_t state = ~0U;
	int ret, werr;

	ret = vdev_restore_stream(d, s, len, 4093, &werr);
	EXPECT_NE(0, ret) TH_LOG("%s stream: RESUMING -> STOP succeeded",
				 what);
	ASSERT_EQ(0, vdev_get_state(d, &state));
	EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, state)
		TH_LOG("%s stream: state %u after the refusal (write: %d)",
		       what, state, werr);
	/* Only a reset leaves ERROR. */
	ASSERT_EQ(0, vdev_reset(d));
	ASSERT_EQ(0, vdev_get_state(d, &state));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, state);
	EXPECT_EQ(0, vdev_ctl(d, CTXMIG_CTL_MIGRATED));
}

TEST_F_TIMEOUT(bad_streams, refused, 120)
{
	struct mig *m = &self->m;
	struct ctxmig_ir_preamble pre;
	struct workload at_stop = {};
	uint64_t buf_next;
	uint8_t *bad;
	bool pending;
	int ret, werr;

	mig_save(_metadata, m, &pending, &buf_next);
	ASSERT_EQ(0, wl_clone(&at_stop, &m->w));
	bad = malloc(m->stream_len);
	ASSERT_NE(NULL, bad);

	/* Truncated: the END record never comes. */
	refuse(_metadata, &m->dst, m->stream, m->stream_len / 2, "truncated");
	refuse(_metadata, &m->dst, m->stream, m->stream_len - 1,
	       "one byte short");

	/* One bit flipped in the middle: the stream CRC no longer holds. */
	memcpy(bad, m->stream, m->stream_len);
	bad[m->stream_len / 2] ^= 0x10;
	refuse(_metadata, &m->dst, bad, m->stream_len, "bit-flipped");

	/* Another major version, with a preamble CRC that matches it. */
	memcpy(bad, m->stream, m->stream_len);
	memcpy(&pre, bad, sizeof(pre));
	pre.version_major = htole16(CTXMIG_IR_VERSION_MAJOR + 1);
	pre.preamble_crc = htole32(crc32c(&pre,
					  offsetof(struct ctxmig_ir_preamble,
						   preamble_crc)));
	memcpy(bad, &pre, sizeof(pre));
	refuse(_metadata, &m->dst, bad, m->stream_len, "wrong-version");
	free(bad);

	/* The target is not poisoned: the good stream restores. */
	ret = vdev_restore_stream(&m->dst, m->stream, m->stream_len, 0, &werr);
	EXPECT_EQ(0, werr);
	ASSERT_EQ(0, ret) TH_LOG("good stream after bad ones: %s",
				 strerror(-ret));
	mig_check_target(_metadata, m);

	/* And the source, never told, carries on. */
	mig_resume_source(_metadata, m, &at_stop, buf_next);
	wl_free(&at_stop);
}

/*
 * write() copies from the VMM's buffer straight to where the restore wants
 * the bytes, with page faults off while it holds the device: a page not
 * mapped in yet is faulted in and the copy goes on, a hole in the buffer
 * ends the write at the hole, and nothing before it is lost, so the VMM
 * can write the rest.
 */
TEST_F_TIMEOUT(bad_streams, user_buffers, 120)
{
	struct mig *m = &self->m;
	size_t pg = getpagesize(), hole, size;
	struct workload at_stop = {};
	uint64_t buf_next;
	uint8_t *buf;
	bool pending;
	int mfd, fd;
	ssize_t n;

	mig_save(_metadata, m, &pending, &buf_next);
	ASSERT_EQ(0, wl_clone(&at_stop, &m->w));
	size = (m->stream_len + pg - 1) / pg * pg;
	hole = m->stream_len / 2 / pg * pg;
	ASSERT_LT(0, hole);

	/* A fresh shared mapping of a file: no page is mapped in yet. */
	mfd = memfd_create("ctxmig-stream", 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ((ssize_t)m->stream_len, write(mfd, m->stream,
						m->stream_len));
	buf = mmap(NULL, size, PROT_READ, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, munmap(buf + hole, pg));

	ASSERT_EQ(0, vdev_set_state(&m->dst, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vdev_set_state(&m->dst, VFIO_DEVICE_STATE_RESUMING,
				    &fd));
	ASSERT_LE(0, fd);
	n = write(fd, buf, m->stream_len);
	EXPECT_EQ((ssize_t)hole, n) TH_LOG("write up to a hole: %zd (%s)", n,
					   n < 0 ? strerror(errno) : "");
	n = write(fd, buf + hole, m->stream_len - hole);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, vdev_write_stream(fd, m->stream + hole,
				       m->stream_len - hole, 0));
	EXPECT_EQ(0, vdev_set_state(&m->dst, VFIO_DEVICE_STATE_STOP, NULL));
	close(fd);
	munmap(buf, size);
	close(mfd);
	mig_check_target(_metadata, m);
	mig_resume_source(_metadata, m, &at_stop, buf_next);
	wl_free(&at_stop);
}

/* ---------------------------------------------------------------- main */

/* ------------------------------------------------ sysfs debug controls */

static int ctl_path(char *path, size_t size, const struct vdev *d,
		    const char *attr)
{
	return snprintf(path, size, "/sys/bus/mdev/devices/%s/ctxmig/%s",
			d->uuid, attr);
}

static int ctl_read(const struct vdev *d, const char *attr, char *buf,
		    size_t size)
{
	char path[160];

	ctl_path(path, sizeof(path), d, attr);
	return read_attr(path, buf, size);
}

/* The value of "@key N" in a stats text, or -1 if it has none. */
static long long stat_value(const char *stats, const char *key)
{
	size_t n = strlen(key);
	const char *p;

	for (p = stats; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
	return -1;
}

static int ctl_write(const struct vdev *d, const char *attr, const void *val,
		     size_t len)
{
	char path[160];
	ssize_t n;
	int fd;

	ctl_path(path, sizeof(path), d, attr);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	close(fd);
	return n < 0 ? -errno : 0;
}

FIXTURE(sysfs_controls) {
	struct mig m;
};

FIXTURE_SETUP(sysfs_controls)
{
	mig_fixture_setup(_metadata, &self->m, "amd-gfx9", "intel-gen12");
}

FIXTURE_TEARDOWN(sysfs_controls)
{
	mig_teardown(&self->m);
}

/*
 * Model and state, a throttle that leaves work pending at the stop, the
 * statistics and IR metadata of both ends, the compatibility check from
 * a preamble, and one-shot fault injection at save and at restore.
 */
TEST_F(sysfs_controls, all)
{
	struct mig *m = &self->m;
	struct ctxmig_ir_preamble pre;
	uint64_t buf_next;
	bool pending;
	char buf[2048];
	int ret, werr, fd;

	ASSERT_EQ(0, ctl_read(&m->src, "model", buf, sizeof(buf)));
	EXPECT_STREQ("amd-gfx9", buf);
	ASSERT_EQ(0, ctl_read(&m->src, "migration_state", buf, sizeof(buf)));
	EXPECT_STREQ("running", buf);

	/* One command per 10 ms: the stop comes with work pending. */
	ASSERT_EQ(0, ctl_write(&m->src, "throttle", "1", 1));
	ASSERT_EQ(0, ctl_read(&m->src, "throttle", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	mig_save(_metadata, m, &pending, &buf_next);
	EXPECT_TRUE(pending);
	ASSERT_EQ(0, ctl_write(&m->src, "throttle", "0", 1));
	ASSERT_EQ(0, ctl_read(&m->src, "stats", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "saves 1\n")) TH_LOG("%s", buf);
	/* The driver's time per phase: a stop-copy save, no pre-copy part. */
	EXPECT_EQ(0, stat_value(buf, "save_stop_us")) TH_LOG("%s", buf);
	EXPECT_EQ(0, stat_value(buf, "precopy_read_us")) TH_LOG("%s", buf);
	EXPECT_LT(0, stat_value(buf, "stop_read_us")) TH_LOG("%s", buf);
	ASSERT_EQ(0, ctl_read(&m->src, "ir_dump", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "stream saved")) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "model amd-gfx9")) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "records VRAM ")) TH_LOG("%s", buf);

	/* The compatibility check answers from the preamble alone. */
	ASSERT_LE(sizeof(pre), m->stream_len);
	ASSERT_EQ(0, ctl_write(&m->dst, "compat", m->stream, sizeof(pre)));
	ASSERT_EQ(0, ctl_read(&m->dst, "compat", buf, sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, "compatible 0", 12)) TH_LOG("%s", buf);
	memcpy(&pre, m->stream, sizeof(pre));
	pre.vram_size = htole64(le64toh(pre.vram_size) * 4);
	pre.preamble_crc = htole32(crc32c(&pre,
					  offsetof(struct ctxmig_ir_preamble,
						   preamble_crc)));
	ASSERT_EQ(0, ctl_write(&m->dst, "compat", &pre, sizeof(pre)));
	ASSERT_EQ(0, ctl_read(&m->dst, "compat", buf, sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, "incompatible -28", 16)) TH_LOG("%s", buf);
	ASSERT_EQ(0, ctl_write(&m->dst, "compat", "garbage!", 8));
	ASSERT_EQ(0, ctl_read(&m->dst, "compat", buf, sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, "invalid", 7)) TH_LOG("%s", buf);

	/* An injected restore failure: ERROR, the reason, then a reset. */
	ASSERT_EQ(0, ctl_write(&m->dst, "fail_at", "restore_finish", 14));
	ret = vdev_restore_stream(&m->dst, m->stream, m->stream_len, 65536, &werr);
	EXPECT_NE(0, ret);
	ASSERT_EQ(0, ctl_read(&m->dst, "migration_state", buf, sizeof(buf)));
	EXPECT_STREQ("error", buf);
	ASSERT_EQ(0, ctl_read(&m->dst, "stats", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "fault injected at restore_finish"))
		TH_LOG("%s", buf);
	ASSERT_EQ(0, vdev_reset(&m->dst));
	ASSERT_EQ(0, ctl_read(&m->dst, "fail_at", buf, sizeof(buf)));
	EXPECT_STREQ("none", buf);

	/* The same stream then restores, and the target says so. */
	ret = vdev_restore_stream(&m->dst, m->stream, m->stream_len, 4093, &werr);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, ctl_read(&m->dst, "stats", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "restores 1\n")) TH_LOG("%s", buf);
	EXPECT_LT(0, stat_value(buf, "write_us")) TH_LOG("%s", buf);
	EXPECT_LT(0, stat_value(buf, "restore_finish_us")) TH_LOG("%s", buf);
	ASSERT_EQ(0, ctl_read(&m->dst, "ir_dump", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "stream restored")) TH_LOG("%s", buf);

	/* An injected save failure: the source stays STOP, then runs. */
	ASSERT_EQ(0, ctl_write(&m->src, "fail_at", "save_init", 9));
	EXPECT_NE(0, vdev_set_state(&m->src, VFIO_DEVICE_STATE_STOP_COPY,
				    &fd));
	ASSERT_EQ(0, ctl_read(&m->src, "migration_state", buf, sizeof(buf)));
	EXPECT_STREQ("stop", buf);
	ASSERT_EQ(0, ctl_read(&m->src, "stats", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "save_errors 1\n")) TH_LOG("%s", buf);
	EXPECT_EQ(0, vdev_set_state(&m->src, VFIO_DEVICE_STATE_RUNNING, NULL));
}

/* --------------------------------------------------- instance settings */

FIXTURE(instance_settings) {
	struct mig m;
};

/* Two instances created and left closed, as settings want them. */
FIXTURE_SETUP(instance_settings)
{
	struct mig *m = &self->m;

	vdev_init(&m->src);
	vdev_init(&m->dst);
	m->buf = malloc(GUEST_DATA_SIZE);
	ASSERT_NE(NULL, m->buf);
	ASSERT_EQ(0, wl_init(&m->w, 0x5e771465));
	ASSERT_EQ(0, vdev_track_create(&m->src, "nv-ampere"));
	ASSERT_EQ(0, vdev_track_create(&m->dst, "amd-gfx12"));
}

FIXTURE_TEARDOWN(instance_settings)
{
	mig_teardown(&self->m);
}

/* Write a control of a closed device and read the value back. */
static int ctl_set(const struct vdev *d, const char *attr, const char *val)
{
	char buf[64];
	int ret = ctl_write(d, attr, val, strlen(val));

	ret = ret ?: ctl_read(d, attr, buf, sizeof(buf));
	return ret ?: strcmp(buf, val) ? -EIO : 0;
}

/*
 * VRAM size and VA width are set per instance while it is closed: the
 * device then presents them, refuses a change while open, and a target
 * with a narrower VA space refuses a stream until it is given as many bits.
 */
TEST_F(instance_settings, vram_and_va_bits)
{
	struct vfio_region_info ri = {
		.argsz = sizeof(ri),
		.index = VFIO_PCI_BAR2_REGION_INDEX,
	};
	struct mig *m = &self->m;
	struct guest *g = &m->g;
	uint64_t buf_next;
	char buf[64];
	bool pending;
	int ret, werr;

	ASSERT_EQ(0, ctl_read(&m->src, "vram_mib", buf, sizeof(buf)));
	EXPECT_STREQ("256", buf);
	ASSERT_EQ(0, ctl_read(&m->src, "va_bits", buf, sizeof(buf)));
	EXPECT_STREQ("47", buf);
	EXPECT_EQ(-EINVAL, ctl_write(&m->src, "vram_mib", "100", 3));
	EXPECT_EQ(-EINVAL, ctl_write(&m->src, "vram_mib", "8", 1));
	EXPECT_EQ(-EINVAL, ctl_write(&m->src, "vram_mib", "0", 1));
	EXPECT_EQ(-ERANGE, ctl_write(&m->src, "va_bits", "31", 2));
	EXPECT_EQ(-ERANGE, ctl_write(&m->src, "va_bits", "64", 2));
	ASSERT_EQ(0, ctl_set(&m->src, "vram_mib", "64"));
	ASSERT_EQ(0, ctl_set(&m->src, "va_bits", "40"));

	ASSERT_EQ(0, vdev_open(&m->src));
	ASSERT_EQ(0, ioctl(m->src.fd, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(64ULL << 20, ri.size);
	EXPECT_EQ(40, vdev_ctl(&m->src, CTXMIG_CTL_VA_BITS));
	EXPECT_EQ(-EBUSY, ctl_write(&m->src, "vram_mib", "128", 3));
	EXPECT_EQ(-EBUSY, ctl_write(&m->src, "va_bits", "41", 2));

	/* 39 bits cannot hold the source's 40-bit VAs. */
	ASSERT_EQ(0, ctl_set(&m->dst, "va_bits", "39"));
	ASSERT_EQ(0, vdev_open(&m->dst));
	mig_save(_metadata, m, &pending, &buf_next);
	ret = vdev_restore_stream(&m->dst, m->stream, m->stream_len, 4093, &werr);
	EXPECT_TRUE(ret == -ERANGE || werr == -ERANGE)
		TH_LOG("restore into 39 bits: %d, writes %d", ret, werr);
	ASSERT_EQ(0, vdev_reset(&m->dst));

	/* Given 40 bits and the source's VRAM size, it takes the stream. */
	vdev_close(&m->dst);
	ASSERT_EQ(0, ctl_set(&m->dst, "va_bits", "40"));
	ASSERT_EQ(0, ctl_set(&m->dst, "vram_mib", "64"));
	ASSERT_EQ(0, vdev_open(&m->dst));
	ret = vdev_restore_stream(&m->dst, m->stream, m->stream_len, 4093, &werr);
	EXPECT_EQ(0, werr);
	ASSERT_EQ(0, ret) TH_LOG("restore: %s", strerror(-ret));
	mig_check_target(_metadata, m);
	EXPECT_EQ(40, vdev_ctl(&m->dst, CTXMIG_CTL_VA_BITS));
	run_batch(_metadata, g, &m->w, 24, true);
	check_data(_metadata, &m->w, &m->dst, m->buf);
}

/* ------------------------------------------------------ real drivers */

/*
 * One ordered pair: a guest writing what the real drivers write runs
 * batches on the source, the source (slowed) is stopped with the next
 * ones pending and migrated; the guest recovers on the target and goes on
 * there with the target's driver words.  Returns whether anything was
 * pending at the stop.
 */
static bool real_pair(struct __test_metadata *_metadata, const char *src,
		      const char *dst)
{
	struct mig *m = calloc(1, sizeof(*m));
	struct guest_cmd c[WL_BATCH_MAX];
	struct guest *g;
	bool pending = false;
	unsigned int n;
	int ret, werr, fd;

	ASSERT_NE(NULL, m);
	ret = mig_setup(m, src, dst, name_hash(src) * 37 + name_hash(dst));
	if (ret)
		goto out;
	g = &m->g;
	ret = guest_init(g, &m->src);
	m->have_g = !ret || g->shadow;
	if (ret)
		goto out;
	g->real = true;
	ret = guest_setup(g) ?: vdev_ctl_wr(&m->src, CTXMIG_CTL_IRQ_ENABLE,
					    CTXMIG_IRQ_FENCE);
	ret = ret ?: wl_fill(&m->w, &m->src);
	if (ret)
		goto out;
	run_batch(_metadata, g, &m->w, 16, false);
	run_batch(_metadata, g, &m->w, 16, true);
	check_data(_metadata, &m->w, &m->src, m->buf);

	/* Slowed to a step per 10 ms, stopped with commands pending. */
	ret = ctl_write(&m->src, "throttle", "1", 1);
	n = wl_gen(&m->w, c, 24);
	ret = ret ?: guest_submit(g, c, n, false);
	n = wl_gen(&m->w, c, 24);
	ret = ret ?: guest_submit(g, c, n, true);
	ret = ret ?: vdev_set_state(&m->src, VFIO_DEVICE_STATE_STOP, NULL);
	if (ret)
		goto out;
	pending = guest_fence(g) < m->w.seq;
	ret = vdev_set_state(&m->src, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	if (ret)
		goto out;
	ret = vdev_read_stream(fd, &m->stream, &m->stream_len);
	close(fd);
	ret = ret ?: vdev_restore_stream(&m->dst, m->stream, m->stream_len,
					 4093, &werr);
	ret = ret ?: werr;
	ret = ret ?: vdev_set_state(&m->dst, VFIO_DEVICE_STATE_RUNNING, NULL);
	if (ret)
		goto out;
	g->dev = &m->dst;
	ret = guest_recover(g) ?: guest_wait_fence(g, m->w.seq);
	ret = ret ?: guest_wait_idle(g);
	if (ret)
		goto out;
	check_data(_metadata, &m->w, &m->dst, m->buf);
	run_batch(_metadata, g, &m->w, 16, false);
	run_batch(_metadata, g, &m->w, 16, true);
	check_data(_metadata, &m->w, &m->dst, m->buf);
out:
	EXPECT_EQ(0, ret) TH_LOG("%s -> %s: %s (%s)", src, dst, strerror(-ret),
				 m->have_g ? m->g.why : "");
	mig_teardown(m);
	free(m);
	return pending;
}

FIXTURE(real_drivers) {
	int unused;
};

FIXTURE_SETUP(real_drivers)
{
}

FIXTURE_TEARDOWN(real_drivers)
{
}

TEST_F_TIMEOUT(real_drivers, every_pair, 900)
{
	unsigned int x, y, migrations = 0, pending = 0;

	for (x = 0; x < ARRAY_SIZE(models); x++)
		for (y = 0; y < ARRAY_SIZE(models); y++) {
			pending += real_pair(_metadata, models[x].name,
					     models[y].name);
			migrations++;
		}
	TH_LOG("real-driver vectors: %u migrations, %u of them %s",
	       migrations, pending, "with real-driver commands pending");
	ksft_print_msg("real-driver vectors: %u migrations, %u of them %s\n",
		       migrations, pending, "with real-driver commands pending");
	EXPECT_LT(0, pending);
}

int main(int argc, char **argv)
{
	vdev_track_init();
	/* Exits through ksft_exit(). */
	return test_harness_run(argc, argv);
}
