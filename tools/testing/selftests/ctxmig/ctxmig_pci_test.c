// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig: what a VMM's vfio-pci asks of a vGPU, through VFIO only.
 *
 *  identity_every_type     config space of every type, its BARs sized,
 *                          equal byte for byte (a VMM refuses to migrate
 *                          between devices whose read-only config bytes
 *                          differ): 1af4:10f0, a display controller; the
 *                          model only in the control page and the IR's
 *                          DEVICE record
 *
 * Run after vfio, vfio_iommu_type1, mdev and ctxmig are loaded.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/ctxmig.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "guest.h"

#define PCI_VENDOR	0x1af4
#define PCI_DEVICE	0x10f0
#define PCI_CLASS	0x038000	/* display controller, other */
#define CFG_SIZE	256

static const struct {
	const char *name;
	uint32_t id;
} types[] = {
	{ "amd-gfx9", CTXMIG_MODEL_AMD_GFX9 },
	{ "amd-gfx12", CTXMIG_MODEL_AMD_GFX12 },
	{ "intel-gen12", CTXMIG_MODEL_INTEL_GEN12 },
	{ "nv-ampere", CTXMIG_MODEL_NV_AMPERE },
	{ "nv-hopper", CTXMIG_MODEL_NV_HOPPER },
};

/* ------------------------------------------------------------ helpers */

static uint32_t cfg_rd(struct vdev *d, uint32_t off, unsigned int len)
{
	uint32_t v = 0;

	if (vdev_region_rw(d, d->cfg_off + off, &v, len, false))
		return ~0U;
	return le32toh(v);
}

static int cfg_wr(struct vdev *d, uint32_t off, uint32_t val, unsigned int len)
{
	uint32_t v = htole32(val);

	return vdev_region_rw(d, d->cfg_off + off, &v, len, true);
}

static void cfg_dump(struct vdev *d, uint8_t *cfg)
{
	uint32_t off, v;

	for (off = 0; off < CFG_SIZE; off += 4) {
		v = htole32(cfg_rd(d, off, 4));
		memcpy(cfg + off, &v, 4);
	}
}

/* ------------------------------------------------------------ identity */

/*
 * The DEVICE record of a stream: the identity the source presented.  The
 * preamble, then a DEVICE container whose first record is DEV_IDENTITY.
 */
static const struct ctxmig_ir_dev_identity *
stream_identity(const uint8_t *s, size_t len)
{
	const struct ctxmig_ir_preamble *p = (const void *)s;
	const struct ctxmig_ir_rec *rec;
	size_t off;

	if (len < sizeof(*p))
		return NULL;
	off = le32toh(p->preamble_len);
	if (off + 2 * sizeof(*rec) + sizeof(struct ctxmig_ir_dev_identity) > len)
		return NULL;
	rec = (const void *)(s + off);
	if (le16toh(rec->type) != CTXMIG_IR_DEVICE)
		return NULL;
	rec++;
	if (le16toh(rec->type) != CTXMIG_IR_DEV_IDENTITY)
		return NULL;
	return (const void *)(rec + 1);
}

TEST(identity_every_type)
{
	uint8_t cfg[ARRAY_SIZE(types)][CFG_SIZE];
	uint32_t sized[ARRAY_SIZE(types)][3];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		const struct ctxmig_ir_dev_identity *id;
		static const uint32_t bars[3] = {
			PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_2,
			PCI_BASE_ADDRESS_3,
		};
		uint8_t *stream = NULL;
		size_t len = 0;
		struct vdev d;
		unsigned int b;
		int fd, ret;

		ret = vdev_track_new(&d, types[i].name);
		ASSERT_EQ(0, ret) TH_LOG("%s: %s", types[i].name, strerror(-ret));
		cfg_dump(&d, cfg[i]);
		for (b = 0; b < 3; b++) {
			uint32_t old = cfg_rd(&d, bars[b], 4);

			ASSERT_EQ(0, cfg_wr(&d, bars[b], ~0U, 4));
			sized[i][b] = cfg_rd(&d, bars[b], 4);
			ASSERT_EQ(0, cfg_wr(&d, bars[b], old, 4));
		}
		EXPECT_EQ(types[i].id, vdev_ctl(&d, GUEST_CTL_MODEL));

		/* The stream names the model, with the same PCI identity. */
		ASSERT_EQ(0, vdev_set_state(&d, VFIO_DEVICE_STATE_STOP, NULL));
		ASSERT_EQ(0, vdev_set_state(&d, VFIO_DEVICE_STATE_STOP_COPY,
					    &fd));
		ASSERT_EQ(0, vdev_read_stream(fd, &stream, &len));
		close(fd);
		id = stream_identity(stream, len);
		ASSERT_NE(NULL, id) TH_LOG("%s: no DEVICE record", types[i].name);
		EXPECT_EQ(PCI_VENDOR, le16toh(id->pci_vendor));
		EXPECT_EQ(PCI_DEVICE, le16toh(id->pci_device));
		EXPECT_EQ(cfg[i][PCI_REVISION_ID], id->revision);
		EXPECT_EQ(types[i].id, le32toh(id->model));
		EXPECT_EQ(0, strncmp((const char *)id->name, types[i].name,
				     sizeof(id->name)));
		free(stream);
		ASSERT_EQ(0, vdev_set_state(&d, VFIO_DEVICE_STATE_RUNNING, NULL));
		EXPECT_EQ(0, vdev_track_remove(&d));
	}

	EXPECT_EQ(PCI_VENDOR, cfg[0][0] | cfg[0][1] << 8);
	EXPECT_EQ(PCI_DEVICE, cfg[0][2] | cfg[0][3] << 8);
	EXPECT_EQ(PCI_VENDOR, cfg[0][0x2c] | cfg[0][0x2d] << 8);
	EXPECT_EQ(PCI_DEVICE, cfg[0][0x2e] | cfg[0][0x2f] << 8);
	EXPECT_EQ(PCI_CLASS, cfg[0][9] | cfg[0][10] << 8 | cfg[0][11] << 16);
	for (i = 1; i < ARRAY_SIZE(types); i++) {
		unsigned int off;

		for (off = 0; off < CFG_SIZE; off++)
			EXPECT_EQ(cfg[0][off], cfg[i][off])
				TH_LOG("%s and %s differ at config 0x%02x",
				       types[0].name, types[i].name, off);
		EXPECT_EQ(0, memcmp(sized[0], sized[i], sizeof(sized[0])))
			TH_LOG("%s and %s size their BARs differently",
			       types[0].name, types[i].name);
	}
}

int main(int argc, char **argv)
{
	vdev_track_init();
	/* Exits through ksft_exit(). */
	return test_harness_run(argc, argv);
}
