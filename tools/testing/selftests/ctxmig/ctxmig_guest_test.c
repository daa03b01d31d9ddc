// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig: the guest interface does what its specification says
 * (Documentation/gpu/ctxmig/guest-interface.rst, "the spec").  The
 * constants come from <linux/ctxmig.h> only; the host test spec_test holds
 * the spec's tables to that header, and this test holds the device to
 * both, through VFIO as a VMM would give them to its guest.
 *
 *  interface.*.control_page  the PCI identity and BAR0's size; every
 *                            control page register's reset value, the
 *                            version, GUEST_VRAM against BAR2 (the
 *                            reserved area's rule, and its writes refused
 *                            just there), offsets not listed, the
 *                            enable's bits, RW1C, the error registers
 *  recovery.*.protocol       for every ordered pair of models, the
 *                            recovery step by step: a submission pending
 *                            at the stop and one cut before its tail
 *                            write, the guest still writing the source's
 *                            format on the destination; CTXMIG_IRQ_MIGRATED
 *                            not sent while stopped, sent by MSI once
 *                            running; head and tail at the source's tail;
 *                            the lost submission found and sent again;
 *                            data and fences kept; a second migration
 *                            counted 2; the guest's own tables built
 *                            again in the new format and a new mapping
 *                            used
 *
 * Run after vfio, vfio_iommu_type1, mdev and ctxmig are loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/ctxmig.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "guest.h"

static const struct {
	const char *name;
	uint32_t id;
} models[] = {
	{ "amd-gfx9", CTXMIG_MODEL_AMD_GFX9 },
	{ "amd-gfx12", CTXMIG_MODEL_AMD_GFX12 },
	{ "intel-gen12", CTXMIG_MODEL_INTEL_GEN12 },
	{ "nv-ampere", CTXMIG_MODEL_NV_AMPERE },
	{ "nv-hopper", CTXMIG_MODEL_NV_HOPPER },
};

static uint32_t model_id(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(models); i++)
		if (!strcmp(models[i].name, name))
			return models[i].id;
	return CTXMIG_MODEL_INVALID;
}

/* Same command format: the spec, "What changes". */
static bool same_format(const char *a, const char *b)
{
	return !strncmp(a, b, 3);
}

static uint64_t ctl64(struct vdev *d, uint32_t lo)
{
	return vdev_ctl(d, lo) | (uint64_t)vdev_ctl(d, lo + 4) << 32;
}

/* The spec, "VRAM and the reserved area": a sixteenth, >= 4 MiB, 2 MiB. */
static uint64_t guest_vram_of(uint64_t vram)
{
	uint64_t r = vram / 16 > (4ULL << 20) ? vram / 16 : 4ULL << 20;

	r = (r + (2ULL << 20) - 1) & ~((2ULL << 20) - 1);
	return vram - r;
}

/* ------------------------------------------------------------ interface */

FIXTURE(interface) {
	struct vdev d;
	struct guest g;
	bool have_g;
};

FIXTURE_VARIANT(interface) {
	const char *model;
};

FIXTURE_VARIANT_ADD(interface, amd_gfx9) { .model = "amd-gfx9" };
FIXTURE_VARIANT_ADD(interface, amd_gfx12) { .model = "amd-gfx12" };
FIXTURE_VARIANT_ADD(interface, intel_gen12) { .model = "intel-gen12" };
FIXTURE_VARIANT_ADD(interface, nv_ampere) { .model = "nv-ampere" };
FIXTURE_VARIANT_ADD(interface, nv_hopper) { .model = "nv-hopper" };

FIXTURE_SETUP(interface)
{
	int ret = vdev_track_new(&self->d, variant->model);

	ASSERT_EQ(0, ret) TH_LOG("%s: %s", variant->model, strerror(-ret));
}

FIXTURE_TEARDOWN(interface)
{
	if (self->have_g)
		guest_fini(&self->g);
	vdev_track_remove(&self->d);
}

TEST_F(interface, control_page)
{
	struct vdev *d = &self->d;
	struct guest *g = &self->g;
	uint16_t w16;
	uint32_t w32, gvram_lo;
	uint64_t gvram;
	uint8_t b;
	char buf[32];
	struct guest_cmd fault[] = {
		{ .op = CTXMIG_OP_WRITE32, .dst = GUEST_DATA_VA - 0x1000,
		  .value = 1 },
	};
	struct guest_cmd irq[] = {
		{ .op = CTXMIG_OP_FENCE, .dst = GUEST_DATA_VA, .value = 1,
		  .flags = CTXMIG_CMD_IRQ },
	};
	unsigned int i;

	/* "PCI identity". */
	ASSERT_EQ(0, vdev_cfg_read(d, PCI_VENDOR_ID, &w16, 2));
	EXPECT_EQ(CTXMIG_PCI_VENDOR_ID, w16);
	ASSERT_EQ(0, vdev_cfg_read(d, PCI_DEVICE_ID, &w16, 2));
	EXPECT_EQ(CTXMIG_PCI_DEVICE_ID, w16);
	ASSERT_EQ(0, vdev_cfg_read(d, PCI_SUBSYSTEM_VENDOR_ID, &w16, 2));
	EXPECT_EQ(CTXMIG_PCI_SUBSYSTEM_VENDOR_ID, w16);
	ASSERT_EQ(0, vdev_cfg_read(d, PCI_SUBSYSTEM_ID, &w16, 2));
	EXPECT_EQ(CTXMIG_PCI_SUBSYSTEM_ID, w16);
	ASSERT_EQ(0, vdev_cfg_read(d, PCI_CLASS_REVISION, &w32, 4));
	EXPECT_EQ(CTXMIG_PCI_REVISION, w32 & 0xff);
	EXPECT_EQ(CTXMIG_PCI_CLASS, w32 >> 8);
	ASSERT_EQ(0, vdev_cfg_read(d, PCI_INTERRUPT_PIN, &b, 1));
	EXPECT_EQ(1, b);
	EXPECT_EQ(CTXMIG_PCI_BAR0_SIZE, d->bar0_size);
	EXPECT_EQ(CTXMIG_CTL_BASE, d->ctl);

	/* "Control page": each register at reset. */
	EXPECT_EQ(CTXMIG_CTL_MAGIC_VALUE, vdev_ctl(d, CTXMIG_CTL_MAGIC));
	EXPECT_EQ(CTXMIG_CTL_VERSION_VALUE, vdev_ctl(d, CTXMIG_CTL_VERSION));
	EXPECT_EQ(model_id(variant->model), vdev_ctl(d, CTXMIG_CTL_MODEL));
	EXPECT_EQ(0, vdev_ctl(d, CTXMIG_CTL_MIGRATED));
	EXPECT_EQ(0, vdev_ctl(d, CTXMIG_CTL_IRQ_STATUS));
	EXPECT_EQ(0, vdev_ctl(d, CTXMIG_CTL_IRQ_ENABLE));
	EXPECT_EQ(CTXMIG_ENG_IDLE, vdev_ctl(d, CTXMIG_CTL_ENG_STATUS));
	EXPECT_EQ(0, vdev_ctl(d, CTXMIG_CTL_ENG_ERROR));
	EXPECT_EQ(0, ctl64(d, CTXMIG_CTL_FENCE_LO));
	EXPECT_EQ(0, ctl64(d, CTXMIG_CTL_FAULT_VA_LO));
	ASSERT_LT(0, vdev_attr_read(d, "va_bits", buf, sizeof(buf)));
	EXPECT_EQ(strtoul(buf, NULL, 0), vdev_ctl(d, CTXMIG_CTL_VA_BITS));

	/* GUEST_VRAM: the reserved area's rule, and writes refused there. */
	gvram = ctl64(d, CTXMIG_CTL_GUEST_VRAM_LO);
	EXPECT_EQ(guest_vram_of(d->bar2_size), gvram);
	EXPECT_EQ(0, gvram & ((2ULL << 20) - 1));
	gvram_lo = 0x5a5a5a5a;
	EXPECT_EQ(0, vdev_vram_write(d, gvram - 4, &gvram_lo, 4));
	EXPECT_EQ(-EPERM, vdev_vram_write(d, gvram, &gvram_lo, 4));
	EXPECT_EQ(0, vdev_vram_read(d, gvram, &gvram_lo, 4));

	/* Offsets not listed read 0 and ignore writes. */
	for (i = CTXMIG_CTL_GUEST_VRAM_HI + 4; i < CTXMIG_CTL_SIZE; i += 0x3c4) {
		EXPECT_EQ(0, vdev_ctl_wr(d, i, ~0U));
		EXPECT_EQ(0, vdev_ctl(d, i)) TH_LOG("offset 0x%x", i);
	}
	/* RO registers ignore writes. */
	EXPECT_EQ(0, vdev_ctl_wr(d, CTXMIG_CTL_MIGRATED, 7));
	EXPECT_EQ(0, vdev_ctl(d, CTXMIG_CTL_MIGRATED));
	EXPECT_EQ(0, vdev_ctl_wr(d, CTXMIG_CTL_MODEL, 0));
	EXPECT_EQ(model_id(variant->model), vdev_ctl(d, CTXMIG_CTL_MODEL));
	/* IRQ_ENABLE: only the sources stick. */
	EXPECT_EQ(0, vdev_ctl_wr(d, CTXMIG_CTL_IRQ_ENABLE, ~0U));
	EXPECT_EQ(CTXMIG_IRQ_ALL, vdev_ctl(d, CTXMIG_CTL_IRQ_ENABLE));
	EXPECT_EQ(0, vdev_ctl_wr(d, CTXMIG_CTL_IRQ_ENABLE, 0));

	/* A fence with its interrupt raises FENCE even if disabled; RW1C. */
	ASSERT_EQ(0, guest_init(g, d)) TH_LOG("%s", g->why);
	self->have_g = true;
	ASSERT_EQ(0, guest_setup(g)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_submit(g, irq, 1, false)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_wait_fence(g, 1)) TH_LOG("%s", g->why);
	EXPECT_EQ(1, ctl64(d, CTXMIG_CTL_FENCE_LO));
	EXPECT_EQ(CTXMIG_IRQ_FENCE, vdev_ctl(d, CTXMIG_CTL_IRQ_STATUS));
	EXPECT_EQ(0, vdev_ctl_wr(d, CTXMIG_CTL_IRQ_STATUS, 0));
	EXPECT_EQ(CTXMIG_IRQ_FENCE, vdev_ctl(d, CTXMIG_CTL_IRQ_STATUS));
	EXPECT_EQ(0, vdev_ctl_wr(d, CTXMIG_CTL_IRQ_STATUS, CTXMIG_IRQ_FENCE));
	EXPECT_EQ(0, vdev_ctl(d, CTXMIG_CTL_IRQ_STATUS));

	/* "The engine", errors: a write where nothing is mapped. */
	ASSERT_EQ(0, guest_submit(g, fault, 1, false)) TH_LOG("%s", g->why);
	EXPECT_EQ(-EIO, guest_wait_idle(g));
	EXPECT_EQ(CTXMIG_ENG_ERROR, vdev_ctl(d, CTXMIG_CTL_ENG_STATUS));
	EXPECT_EQ(EFAULT, vdev_ctl(d, CTXMIG_CTL_ENG_ERROR));
	EXPECT_EQ(fault[0].dst, ctl64(d, CTXMIG_CTL_FAULT_VA_LO));
	EXPECT_EQ(CTXMIG_IRQ_ERROR, vdev_ctl(d, CTXMIG_CTL_IRQ_STATUS));
	/* Only a reset ends it; MIGRATED stays what it was. */
	ASSERT_EQ(0, vdev_reset(d));
	EXPECT_EQ(CTXMIG_ENG_IDLE, vdev_ctl(d, CTXMIG_CTL_ENG_STATUS));
	EXPECT_EQ(0, vdev_ctl(d, CTXMIG_CTL_ENG_ERROR));
	EXPECT_EQ(0, vdev_ctl(d, CTXMIG_CTL_IRQ_STATUS));
}

/* ------------------------------------------------------------- recovery */

/* The data the submissions write, as offsets in the data mapping. */
#define SLOT(n)		(0x100ULL + 4 * (n))
#define NEW_VA		(GUEST_DATA_VA + 0x4000000ULL)
#define NEW_VRAM	(GUEST_DATA_VRAM + 0x80000ULL)

FIXTURE(recovery) {
	struct vdev a, b, c;
	struct guest g;
	bool have_g;
	int efd;
};

FIXTURE_VARIANT(recovery) {
	const char *src;
	const char *dst;
};

FIXTURE_VARIANT_ADD(recovery, amd_gfx9_to_amd_gfx12) {
	.src = "amd-gfx9", .dst = "amd-gfx12",
};

FIXTURE_VARIANT_ADD(recovery, amd_gfx9_to_intel_gen12) {
	.src = "amd-gfx9", .dst = "intel-gen12",
};

FIXTURE_VARIANT_ADD(recovery, amd_gfx9_to_nv_ampere) {
	.src = "amd-gfx9", .dst = "nv-ampere",
};

FIXTURE_VARIANT_ADD(recovery, amd_gfx9_to_nv_hopper) {
	.src = "amd-gfx9", .dst = "nv-hopper",
};

FIXTURE_VARIANT_ADD(recovery, amd_gfx12_to_amd_gfx9) {
	.src = "amd-gfx12", .dst = "amd-gfx9",
};

FIXTURE_VARIANT_ADD(recovery, amd_gfx12_to_intel_gen12) {
	.src = "amd-gfx12", .dst = "intel-gen12",
};

FIXTURE_VARIANT_ADD(recovery, amd_gfx12_to_nv_ampere) {
	.src = "amd-gfx12", .dst = "nv-ampere",
};

FIXTURE_VARIANT_ADD(recovery, amd_gfx12_to_nv_hopper) {
	.src = "amd-gfx12", .dst = "nv-hopper",
};

FIXTURE_VARIANT_ADD(recovery, intel_gen12_to_amd_gfx9) {
	.src = "intel-gen12", .dst = "amd-gfx9",
};

FIXTURE_VARIANT_ADD(recovery, intel_gen12_to_amd_gfx12) {
	.src = "intel-gen12", .dst = "amd-gfx12",
};

FIXTURE_VARIANT_ADD(recovery, intel_gen12_to_nv_ampere) {
	.src = "intel-gen12", .dst = "nv-ampere",
};

FIXTURE_VARIANT_ADD(recovery, intel_gen12_to_nv_hopper) {
	.src = "intel-gen12", .dst = "nv-hopper",
};

FIXTURE_VARIANT_ADD(recovery, nv_ampere_to_amd_gfx9) {
	.src = "nv-ampere", .dst = "amd-gfx9",
};

FIXTURE_VARIANT_ADD(recovery, nv_ampere_to_amd_gfx12) {
	.src = "nv-ampere", .dst = "amd-gfx12",
};

FIXTURE_VARIANT_ADD(recovery, nv_ampere_to_intel_gen12) {
	.src = "nv-ampere", .dst = "intel-gen12",
};

FIXTURE_VARIANT_ADD(recovery, nv_ampere_to_nv_hopper) {
	.src = "nv-ampere", .dst = "nv-hopper",
};

FIXTURE_VARIANT_ADD(recovery, nv_hopper_to_amd_gfx9) {
	.src = "nv-hopper", .dst = "amd-gfx9",
};

FIXTURE_VARIANT_ADD(recovery, nv_hopper_to_amd_gfx12) {
	.src = "nv-hopper", .dst = "amd-gfx12",
};

FIXTURE_VARIANT_ADD(recovery, nv_hopper_to_intel_gen12) {
	.src = "nv-hopper", .dst = "intel-gen12",
};

FIXTURE_VARIANT_ADD(recovery, nv_hopper_to_nv_ampere) {
	.src = "nv-hopper", .dst = "nv-ampere",
};

FIXTURE_SETUP(recovery)
{
	int ret;

	self->efd = -1;
	vdev_init(&self->a);
	vdev_init(&self->b);
	vdev_init(&self->c);
	ret = vdev_track_new(&self->a, variant->src);
	ret = ret ?: vdev_track_new(&self->b, variant->dst);
	ret = ret ?: vdev_track_new(&self->c, variant->src);
	ASSERT_EQ(0, ret) TH_LOG("%s, %s: %s", variant->src, variant->dst,
				 strerror(-ret));
}

FIXTURE_TEARDOWN(recovery)
{
	if (self->have_g)
		guest_fini(&self->g);
	if (self->efd >= 0)
		close(self->efd);
	vdev_track_remove(&self->a);
	vdev_track_remove(&self->b);
	vdev_track_remove(&self->c);
}

/* One write of @value to data slot @n, then fence @seq. */
static void job(struct guest_cmd *c, unsigned int n, uint32_t value,
		uint64_t seq)
{
	c[0] = (struct guest_cmd){ .op = CTXMIG_OP_WRITE32,
				   .dst = GUEST_DATA_VA + SLOT(n),
				   .value = value };
	c[1] = (struct guest_cmd){ .op = CTXMIG_OP_FENCE,
				   .dst = GUEST_DATA_VA, .value = seq };
}

static uint32_t slot(struct vdev *d, unsigned int n)
{
	uint32_t v = 0;

	vdev_vram_read(d, GUEST_DATA_VRAM + SLOT(n), &v, 4);
	return v;
}

/* STOP_COPY @from into @to (left in STOP); returns the restore's result. */
static int migrate(struct vdev *from, struct vdev *to)
{
	uint8_t *stream;
	size_t len;
	int ret, fd, werr;

	ret = vdev_set_state(from, VFIO_DEVICE_STATE_STOP, NULL);
	ret = ret ?: vdev_set_state(from, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	if (ret)
		return ret;
	ret = vdev_read_stream(fd, &stream, &len);
	close(fd);
	if (ret)
		return ret;
	ret = vdev_set_state(from, VFIO_DEVICE_STATE_STOP, NULL);
	ret = ret ?: vdev_restore_stream(to, stream, len, 4093, &werr);
	free(stream);
	return ret ?: werr;
}

TEST_F(recovery, protocol)
{
	struct guest *g = &self->g;
	struct guest_cmd c[2];
	uint32_t tail_before, tail_after;
	uint64_t fence_mem = 0;
	unsigned int n;

	/* A working guest that takes the MIGRATED interrupt. */
	ASSERT_EQ(0, guest_init(g, &self->a)) TH_LOG("%s", g->why);
	self->have_g = true;
	ASSERT_EQ(0, guest_setup(g)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, vdev_ctl_wr(&self->a, CTXMIG_CTL_IRQ_ENABLE,
				 CTXMIG_IRQ_FENCE | CTXMIG_IRQ_MIGRATED));
	job(c, 0, 0xa0, 1);
	ASSERT_EQ(0, guest_submit(g, c, 2, false)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_wait_fence(g, 1)) TH_LOG("%s", g->why);

	/* A submission whose tail write reaches the quiesced source. */
	ASSERT_EQ(0, vdev_set_state(&self->a, VFIO_DEVICE_STATE_RUNNING_P2P,
				    NULL));
	job(c, 1, 0xb0, 2);
	ASSERT_EQ(0, guest_submit(g, c, 2, false)) TH_LOG("%s", g->why);
	tail_before = g->tail_sent;
	/* The VM stops inside the next one, before its tail write. */
	job(c, 2, 0xc0, 3);
	ASSERT_EQ(0, guest_submit_raced(g, c, 2, false, false))
		TH_LOG("%s", g->why);
	ASSERT_EQ(0, migrate(&self->a, &self->b));

	/* "Interrupts": raised by the restore, not sent while stopped. */
	ASSERT_EQ(0, vdev_msi_eventfd(&self->b, &self->efd));
	EXPECT_EQ(1, vdev_ctl(&self->b, CTXMIG_CTL_MIGRATED));
	EXPECT_EQ(model_id(variant->dst), vdev_ctl(&self->b, CTXMIG_CTL_MODEL));
	EXPECT_EQ(CTXMIG_IRQ_MIGRATED,
		  vdev_ctl(&self->b, CTXMIG_CTL_IRQ_STATUS) &
		  CTXMIG_IRQ_MIGRATED);
	EXPECT_EQ(CTXMIG_IRQ_FENCE | CTXMIG_IRQ_MIGRATED,
		  vdev_ctl(&self->b, CTXMIG_CTL_IRQ_ENABLE));
	EXPECT_EQ(-ETIMEDOUT, vdev_eventfd_wait(self->efd, 50));
	/*
	 * The guest goes on with its submission on the destination, in the
	 * source's format: ring bytes at its old tail, its tail register.
	 */
	g->dev = &self->b;
	job(c, 3, 0xd0, 4);
	ASSERT_EQ(0, guest_submit_raced(g, c, 2, false, true))
		TH_LOG("%s", g->why);
	tail_after = g->tail_sent;
	ASSERT_EQ(0, vdev_set_state(&self->b, VFIO_DEVICE_STATE_RUNNING,
				    NULL));
	EXPECT_LT(0, vdev_eventfd_wait(self->efd, guest_timeout_ms))
		TH_LOG("no MSI for MIGRATED");

	/* "Recovery, step by step". */
	ASSERT_EQ(0, guest_recover(g)) TH_LOG("%s", g->why);
	EXPECT_STREQ(variant->dst, guest_model_name(g));
	EXPECT_EQ(0, vdev_ctl(&self->b, CTXMIG_CTL_IRQ_STATUS) &
		     CTXMIG_IRQ_MIGRATED);
	if (same_format(variant->src, variant->dst)) {
		/* The ring kept: the late tail write was one of its own. */
		EXPECT_FALSE(g->lost);
		EXPECT_EQ(tail_after, g->tail_sent);
	} else {
		/* Head and tail at the source's tail; C and D were lost. */
		EXPECT_TRUE(g->lost);
		EXPECT_NE(tail_after, g->tail_sent);
		EXPECT_EQ(0, tail_before & 7);
		ASSERT_EQ(0, guest_wait_fence(g, 2)) TH_LOG("%s", g->why);
		ASSERT_EQ(0, guest_wait_idle(g)) TH_LOG("%s", g->why);
		EXPECT_EQ(2, guest_fence(g));
		EXPECT_EQ(0, slot(&self->b, 2));
		EXPECT_EQ(0, slot(&self->b, 3));
		for (n = 2; n < 4; n++) {
			job(c, n, 0xa0 + 0x10 * n, n + 1);
			ASSERT_EQ(0, guest_submit(g, c, 2, false))
				TH_LOG("%s", g->why);
		}
	}
	ASSERT_EQ(0, guest_wait_fence(g, 4)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_wait_idle(g)) TH_LOG("%s", g->why);
	EXPECT_EQ(CTXMIG_ENG_IDLE, vdev_ctl(&self->b, CTXMIG_CTL_ENG_STATUS));
	for (n = 0; n < 4; n++)
		EXPECT_EQ(0xa0 + 0x10 * n, slot(&self->b, n)) TH_LOG("slot %u", n);
	vdev_vram_read(&self->b, GUEST_DATA_VRAM, &fence_mem, 8);
	EXPECT_EQ(4, fence_mem & 0xffffffff);

	/* A second migration: counted again, whatever the device's count. */
	ASSERT_EQ(0, migrate(&self->b, &self->c));
	EXPECT_EQ(2, vdev_ctl(&self->c, CTXMIG_CTL_MIGRATED));
	ASSERT_EQ(0, vdev_set_state(&self->c, VFIO_DEVICE_STATE_RUNNING,
				    NULL));
	g->dev = &self->c;
	/* A guest that does not take the interrupt: the count tells it. */
	job(c, 4, 0xe0, 5);
	ASSERT_EQ(0, guest_submit(g, c, 2, false)) TH_LOG("%s", g->why);
	EXPECT_STREQ(variant->src, guest_model_name(g));
	EXPECT_EQ(2, g->migrated);
	EXPECT_FALSE(g->lost);
	ASSERT_EQ(0, guest_wait_fence(g, 5)) TH_LOG("%s", g->why);

	/* Step 7: tables of its own again, and a new mapping used. */
	EXPECT_LE(guest_vram_of(self->c.bar2_size), guest_pt_root(g));
	ASSERT_EQ(0, guest_remap(g)) TH_LOG("%s", g->why);
	EXPECT_GT(GUEST_PT_END, guest_pt_root(g));
	ASSERT_EQ(0, guest_map_vram(g, NEW_VA, NEW_VRAM, 0x1000))
		TH_LOG("%s", g->why);
	c[0] = (struct guest_cmd){ .op = CTXMIG_OP_WRITE32,
				   .dst = NEW_VA + 0x10, .value = 0xfeed };
	c[1] = (struct guest_cmd){ .op = CTXMIG_OP_FENCE,
				   .dst = GUEST_DATA_VA, .value = 6 };
	ASSERT_EQ(0, guest_submit(g, c, 2, false)) TH_LOG("%s", g->why);
	ASSERT_EQ(0, guest_wait_fence(g, 6)) TH_LOG("%s", g->why);
	EXPECT_EQ(0, vdev_vram_read(&self->c, NEW_VRAM + 0x10, &n, 4));
	EXPECT_EQ(0xfeed, n);
	for (n = 0; n < 5; n++)
		EXPECT_EQ(0xa0 + 0x10 * n, slot(&self->c, n)) TH_LOG("slot %u", n);
}

int main(int argc, char **argv)
{
	vdev_track_init();
	return test_harness_run(argc, argv);
}
