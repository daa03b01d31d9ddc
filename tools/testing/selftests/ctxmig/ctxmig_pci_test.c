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
 *  pci.config_walk         the header as a VMM walks it: reset values
 *                          (memory space and bus mastering off), the
 *                          capability list and its MSI capability; a
 *                          write changes writable bits only
 *  pci.bar_sizing          32-bit BAR0, 64-bit prefetchable BAR2, sized
 *                          by writing all ones as firmware does, in
 *                          dwords or in smaller pieces
 *  pci.byte_and_word       config space and BAR0 in 1, 2 and 4 bytes
 *  pci.memory_and_master   the BARs fail while memory space is off; DMA
 *                          and MSI wait for bus mastering
 *  pci.bar2_mmap_memory_off
 *                          memory space off (or a reset) takes a BAR2
 *                          mapping away: an access is SIGBUS until it is
 *                          on again, with the same bytes
 *  pci.intx                auto-masked when it fires, latched while
 *                          masked, unmasked directly and through an
 *                          eventfd, the INTx disable bit, the status
 *                          bit; INTx and MSI are not both in use
 *  pci.msi                 the MSI capability's registers; an MSI enabled
 *                          there replaces INTx; MSI delivered
 *  pci.err_irq             the error interrupt index
 *  pci.reset               VFIO_DEVICE_RESET: config space and the INTx
 *                          mask back to their reset values
 *  pci.dma_logging         offered exactly when the kernel can report it;
 *                          then start, report and stop with the pages the
 *                          GPU wrote into system memory; where it cannot
 *                          (Debian's kernel), refused with ENOTTY; either
 *                          way the type1 container's dirty bitmap, a
 *                          VMM's fallback, has exactly the pages the GPU
 *                          wrote
 *  estimate.*.accuracy     MIG_DATA_SIZE, PRECOPY_INFO's initial and dirty
 *                          bytes against the bytes then read, for sparse
 *                          VRAM, zero pages, page tables, pending
 *                          commands and pages dirtied in pre-copy
 *  estimate.*.poll         poll() on the saving file: readable when bytes
 *                          are ready, not at pre-copy's temporary end,
 *                          woken by a write through BAR2, a mapping or
 *                          the engine
 *
 * Run after vfio, vfio_iommu_type1, mdev and ctxmig are loaded.  Waits
 * poll with timeouts (the VM runs under TCG), never sleep a fixed time;
 * what must not happen is checked once the device is known to be done
 * (an interrupt is raised before the fence that asked for it is seen).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <linux/ctxmig.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "guest.h"

/* Linux 6.2 uAPI; Debian 12's userspace headers are 6.1. */
#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
struct vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};
#endif

#define CFG_SIZE	256
/* Config dwords 0x00 and 0x2c, as <linux/ctxmig.h> gives them. */
#define ID_DWORD	(CTXMIG_PCI_VENDOR_ID | CTXMIG_PCI_DEVICE_ID << 16)
#define SUBSYS_DWORD	(CTXMIG_PCI_SUBSYSTEM_VENDOR_ID | \
			 CTXMIG_PCI_SUBSYSTEM_ID << 16)
/* The command register bits that can be set. */
#define COMMAND_RW	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
			 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | \
			 PCI_COMMAND_INTX_DISABLE)

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

/* The offset of capability @id in the list, or 0; walked as a VMM does. */
static uint32_t cfg_find_cap(struct vdev *d, uint8_t id)
{
	uint32_t pos, n;

	if (!(cfg_rd(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = cfg_rd(d, PCI_CAPABILITY_LIST, 1) & ~3U;
	for (n = 0; pos >= 0x40 && n < 48; n++) {
		if (cfg_rd(d, pos + PCI_CAP_LIST_ID, 1) == id)
			return pos;
		pos = cfg_rd(d, pos + PCI_CAP_LIST_NEXT, 1) & ~3U;
	}
	return 0;
}

static int set_irq(struct vdev *d, uint32_t index, uint32_t flags,
		   uint32_t count, const void *data, size_t size)
{
	uint64_t buf[(sizeof(struct vfio_irq_set) + 8 + 7) / 8] = {};
	struct vfio_irq_set *set = (void *)buf;

	set->argsz = sizeof(*set) + size;
	set->flags = flags;
	set->index = index;
	set->count = count;
	memcpy(set->data, data, size);
	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

/* What an eventfd was signalled since last read: 0 if not at all. */
static uint64_t efd_take(int efd)
{
	uint64_t v;

	return read(efd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

static int64_t mig_data_size(struct vdev *d)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_mig_data_size) + 7) / 8] = {};
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_data_size *m = (void *)f->data;

	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE;
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	return m->stop_copy_length;
}

static int precopy_info(int fd, uint64_t *initial, uint64_t *dirty)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };

	if (ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info))
		return -errno;
	*initial = info.initial_bytes;
	*dirty = info.dirty_bytes;
	return 0;
}

/* Read a pre-copy fd to its temporary end (ENOMSG); bytes read or -errno. */
static int64_t drain_precopy(int fd)
{
	static uint8_t buf[1 << 16];
	int64_t total = 0;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ENOMSG ? total : -errno;
		if (!n)
			return -ENODATA;	/* not an end pre-copy has */
		total += n;
	}
}

/* Read a stop-copy fd to its end; bytes read or -errno. */
static int64_t drain_stop_copy(int fd)
{
	static uint8_t buf[1 << 16];
	int64_t total = 0;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return total;
		total += n;
	}
}

/* An estimate within 10% and 4 KiB of what was then read. */
static bool close_to(int64_t estimate, int64_t actual)
{
	int64_t diff = estimate > actual ? estimate - actual : actual - estimate;

	return estimate >= 0 && actual >= 0 && diff <= actual / 10 + 4096;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* A device with its guest driver, its ring and an interrupt enabled. */
struct dev {
	struct vdev d;
	struct guest g;
	bool have_guest;
	uint64_t seq;
};

static int dev_new(struct dev *x, const char *model)
{
	int ret;

	memset(x, 0, sizeof(*x));
	ret = vdev_track_new(&x->d, model);
	if (ret)
		return ret;
	ret = guest_init(&x->g, &x->d);
	x->have_guest = !ret || x->g.shadow;
	ret = ret ?: guest_setup(&x->g);
	ret = ret ?: vdev_ctl_wr(&x->d, CTXMIG_CTL_IRQ_ENABLE, CTXMIG_IRQ_FENCE);
	return ret;
}

static void dev_free(struct dev *x)
{
	if (x->have_guest)
		guest_fini(&x->g);
	x->have_guest = false;
	vdev_track_remove(&x->d);
}

/* A fence with an interrupt, seen done: the interrupt was raised. */
static int dev_fence_irq(struct dev *x)
{
	struct guest_cmd c = {
		.op = CTXMIG_OP_FENCE, .dst = GUEST_DATA_VA,
		.value = ++x->seq, .flags = CTXMIG_CMD_IRQ,
	};
	int ret = guest_submit(&x->g, &c, 1, false);

	return ret ?: guest_wait_fence(&x->g, x->seq);
}

/* After a reset: the guest driver starts over on the reset engine. */
static int dev_restart(struct dev *x)
{
	int ret;

	if (x->have_guest)
		guest_fini(&x->g);
	x->seq = 0;
	ret = guest_init(&x->g, &x->d);
	x->have_guest = !ret || x->g.shadow;
	ret = ret ?: guest_setup(&x->g);
	return ret ?: vdev_ctl_wr(&x->d, CTXMIG_CTL_IRQ_ENABLE,
				  CTXMIG_IRQ_FENCE);
}

static int dev_ack(struct dev *x)
{
	return vdev_ctl_wr(&x->d, CTXMIG_CTL_IRQ_STATUS, CTXMIG_IRQ_ALL);
}

static bool intx_status(struct dev *x)
{
	return cfg_rd(&x->d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT;
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
		EXPECT_EQ(types[i].id, vdev_ctl(&d, CTXMIG_CTL_MODEL));

		/* The stream names the model, with the same PCI identity. */
		ASSERT_EQ(0, vdev_set_state(&d, VFIO_DEVICE_STATE_STOP, NULL));
		ASSERT_EQ(0, vdev_set_state(&d, VFIO_DEVICE_STATE_STOP_COPY,
					    &fd));
		ASSERT_EQ(0, vdev_read_stream(fd, &stream, &len));
		close(fd);
		id = stream_identity(stream, len);
		ASSERT_NE(NULL, id) TH_LOG("%s: no DEVICE record", types[i].name);
		EXPECT_EQ(CTXMIG_PCI_VENDOR_ID, le16toh(id->pci_vendor));
		EXPECT_EQ(CTXMIG_PCI_DEVICE_ID, le16toh(id->pci_device));
		EXPECT_EQ(cfg[i][PCI_REVISION_ID], id->revision);
		EXPECT_EQ(types[i].id, le32toh(id->model));
		EXPECT_EQ(0, strncmp((const char *)id->name, types[i].name,
				     sizeof(id->name)));
		free(stream);
		ASSERT_EQ(0, vdev_set_state(&d, VFIO_DEVICE_STATE_RUNNING, NULL));
		EXPECT_EQ(0, vdev_track_remove(&d));
	}

	EXPECT_EQ(CTXMIG_PCI_VENDOR_ID, cfg[0][0] | cfg[0][1] << 8);
	EXPECT_EQ(CTXMIG_PCI_DEVICE_ID, cfg[0][2] | cfg[0][3] << 8);
	EXPECT_EQ(CTXMIG_PCI_SUBSYSTEM_VENDOR_ID,
		  cfg[0][0x2c] | cfg[0][0x2d] << 8);
	EXPECT_EQ(CTXMIG_PCI_SUBSYSTEM_ID, cfg[0][0x2e] | cfg[0][0x2f] << 8);
	EXPECT_EQ(CTXMIG_PCI_CLASS,
		  cfg[0][9] | cfg[0][10] << 8 | cfg[0][11] << 16);
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

/* ------------------------------------------------------------ PCI */

FIXTURE(pci) {
	struct dev x;
	int efd[3];
	uint8_t *sys;
	size_t sys_len;
};

FIXTURE_SETUP(pci)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(self->efd); i++)
		self->efd[i] = -1;
	ret = dev_new(&self->x, "amd-gfx9");
	ASSERT_EQ(0, ret) TH_LOG("%s", self->x.g.why);
}

FIXTURE_TEARDOWN(pci)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(self->efd); i++)
		if (self->efd[i] >= 0)
			close(self->efd[i]);
	dev_free(&self->x);
	if (self->sys)
		munmap(self->sys, self->sys_len);
}

/*
 * System memory for the GPU: @len bytes of 0x5a at IOVA @iova, GPU VA
 * @va; *@sys gets it (unmapped by the caller, also on failure).
 */
static void dev_sysmem(struct __test_metadata *_metadata, struct dev *x,
		       uint8_t **sys, uint64_t iova, uint64_t va, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	*sys = p;
	memset(p, 0x5a, len);
	ASSERT_EQ(0, vdev_map_dma(&x->d, p, iova, len));
	ASSERT_EQ(0, guest_map_sysmem(&x->g, va, iova, len))
		TH_LOG("%s", x->g.why);
}

TEST_F(pci, config_walk)
{
	struct vdev *d = &self->x.d;
	uint32_t msi, flags;

	/* A reset gives the power-on values, as an open does. */
	ASSERT_EQ(0, ioctl(d->fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(ID_DWORD, cfg_rd(d, PCI_VENDOR_ID, 4));
	EXPECT_EQ(0, cfg_rd(d, PCI_COMMAND, 2));
	EXPECT_EQ(PCI_STATUS_CAP_LIST, cfg_rd(d, PCI_STATUS, 2));
	EXPECT_EQ(CTXMIG_PCI_CLASS, cfg_rd(d, PCI_CLASS_REVISION, 4) >> 8);
	EXPECT_NE(0, cfg_rd(d, PCI_REVISION_ID, 1));
	EXPECT_EQ(PCI_HEADER_TYPE_NORMAL, cfg_rd(d, PCI_HEADER_TYPE, 1));
	EXPECT_EQ(PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_TYPE_32,
		  cfg_rd(d, PCI_BASE_ADDRESS_0, 4) & 0xf);
	EXPECT_EQ(PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH,
		  cfg_rd(d, PCI_BASE_ADDRESS_2, 4) & 0xf);
	EXPECT_EQ(0, cfg_rd(d, PCI_BASE_ADDRESS_1, 4));
	EXPECT_EQ(0, cfg_rd(d, PCI_BASE_ADDRESS_4, 4));
	EXPECT_EQ(0, cfg_rd(d, PCI_BASE_ADDRESS_5, 4));
	EXPECT_EQ(0, cfg_rd(d, PCI_ROM_ADDRESS, 4));
	EXPECT_EQ(SUBSYS_DWORD, cfg_rd(d, PCI_SUBSYSTEM_VENDOR_ID, 4));
	EXPECT_EQ(1, cfg_rd(d, PCI_INTERRUPT_PIN, 1));

	/* The capability list: MSI, one vector, a 64-bit address. */
	msi = cfg_find_cap(d, PCI_CAP_ID_MSI);
	ASSERT_NE(0, msi) TH_LOG("no MSI capability in the list");
	flags = cfg_rd(d, msi + PCI_MSI_FLAGS, 2);
	EXPECT_TRUE(flags & PCI_MSI_FLAGS_64BIT);
	EXPECT_EQ(0, flags & (PCI_MSI_FLAGS_QMASK | PCI_MSI_FLAGS_ENABLE |
			      PCI_MSI_FLAGS_MASKBIT));

	/* Read-only registers stay; the command register takes its bits. */
	ASSERT_EQ(0, cfg_wr(d, PCI_VENDOR_ID, ~0U, 4));
	EXPECT_EQ(ID_DWORD, cfg_rd(d, PCI_VENDOR_ID, 4));
	ASSERT_EQ(0, cfg_wr(d, PCI_CLASS_REVISION, 0, 4));
	EXPECT_EQ(CTXMIG_PCI_CLASS, cfg_rd(d, PCI_CLASS_REVISION, 4) >> 8);
	ASSERT_EQ(0, cfg_wr(d, PCI_CAPABILITY_LIST, 0, 1));
	EXPECT_NE(0, cfg_rd(d, PCI_CAPABILITY_LIST, 1));
	ASSERT_EQ(0, cfg_wr(d, PCI_INTERRUPT_PIN, 4, 1));
	EXPECT_EQ(1, cfg_rd(d, PCI_INTERRUPT_PIN, 1));
	ASSERT_EQ(0, cfg_wr(d, PCI_STATUS, 0xffff, 2));
	EXPECT_EQ(PCI_STATUS_CAP_LIST, cfg_rd(d, PCI_STATUS, 2));
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, 0xffff, 2));
	EXPECT_EQ(COMMAND_RW, cfg_rd(d, PCI_COMMAND, 2));
	ASSERT_EQ(0, cfg_wr(d, PCI_INTERRUPT_LINE, 0x0b, 1));
	EXPECT_EQ(0x0b, cfg_rd(d, PCI_INTERRUPT_LINE, 1));
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, 0, 2));
}

TEST_F(pci, bar_sizing)
{
	struct vdev *d = &self->x.d;
	uint64_t bar2;

	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_0, ~0U, 4));
	EXPECT_EQ(~(uint32_t)(CTXMIG_PCI_BAR0_SIZE - 1),
		  cfg_rd(d, PCI_BASE_ADDRESS_0, 4));
	EXPECT_EQ(CTXMIG_PCI_BAR0_SIZE, d->bar0_size);

	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_2, ~0U, 4));
	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_3, ~0U, 4));
	bar2 = (uint64_t)cfg_rd(d, PCI_BASE_ADDRESS_3, 4) << 32 |
	       cfg_rd(d, PCI_BASE_ADDRESS_2, 4);
	EXPECT_EQ(PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH,
		  bar2 & 0xf);
	EXPECT_EQ(d->bar2_size, ~(bar2 & ~0xfULL) + 1);

	/* Unimplemented BARs size to nothing. */
	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_1, ~0U, 4));
	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_4, ~0U, 4));
	ASSERT_EQ(0, cfg_wr(d, PCI_ROM_ADDRESS, ~0U, 4));
	EXPECT_EQ(0, cfg_rd(d, PCI_BASE_ADDRESS_1, 4));
	EXPECT_EQ(0, cfg_rd(d, PCI_BASE_ADDRESS_4, 4));
	EXPECT_EQ(0, cfg_rd(d, PCI_ROM_ADDRESS, 4));

	/* Written a word at a time, as a byte-enabled cycle can. */
	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_0, 0, 4));
	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_0 + 2, 0xffff, 2));
	EXPECT_EQ(0xffff0000, cfg_rd(d, PCI_BASE_ADDRESS_0, 4));
	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_0, 0xffff, 2));
	EXPECT_EQ(~(uint32_t)(CTXMIG_PCI_BAR0_SIZE - 1),
		  cfg_rd(d, PCI_BASE_ADDRESS_0, 4));
	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_3 + 3, 0x12, 1));
	EXPECT_EQ(0x12, cfg_rd(d, PCI_BASE_ADDRESS_3 + 3, 1));

	/* An address is kept, as programmed. */
	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_0, 0xfebf0000, 4));
	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_2, 0, 4));
	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_3, 0x80, 4));
	EXPECT_EQ(0xfebf0000, cfg_rd(d, PCI_BASE_ADDRESS_0, 4));
	EXPECT_EQ(0x8000000000ULL | 0xc,
		  (uint64_t)cfg_rd(d, PCI_BASE_ADDRESS_3, 4) << 32 |
		  cfg_rd(d, PCI_BASE_ADDRESS_2, 4));
}

TEST_F(pci, byte_and_word)
{
	struct vdev *d = &self->x.d;
	uint32_t en = d->ctl + CTXMIG_CTL_IRQ_ENABLE;
	uint8_t b[4];
	uint16_t w;

	/* Config space. */
	EXPECT_EQ(CTXMIG_PCI_VENDOR_ID & 0xff, cfg_rd(d, 0, 1));
	EXPECT_EQ(CTXMIG_PCI_VENDOR_ID >> 8, cfg_rd(d, 1, 1));
	EXPECT_EQ(CTXMIG_PCI_DEVICE_ID, cfg_rd(d, 2, 2));
	EXPECT_EQ(CTXMIG_PCI_DEVICE_ID >> 8, cfg_rd(d, 3, 1));
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, 0, 2));
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND + 1, PCI_COMMAND_INTX_DISABLE >> 8, 1));
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MEMORY, 1));
	EXPECT_EQ(PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE,
		  cfg_rd(d, PCI_COMMAND, 2));
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MEMORY |
			    PCI_COMMAND_MASTER, 2));

	/* BAR0: the control page's magic by bytes and words. */
	ASSERT_EQ(0, vdev_region_rw(d, d->bar0_off + d->ctl, b, 1, false));
	ASSERT_EQ(0, vdev_region_rw(d, d->bar0_off + d->ctl + 1, b + 1, 1,
				    false));
	ASSERT_EQ(0, vdev_region_rw(d, d->bar0_off + d->ctl + 2, &w, 2, false));
	EXPECT_EQ(CTXMIG_CTL_MAGIC_VALUE & 0xff, b[0]);
	EXPECT_EQ((CTXMIG_CTL_MAGIC_VALUE >> 8) & 0xff, b[1]);
	EXPECT_EQ(CTXMIG_CTL_MAGIC_VALUE >> 16, le16toh(w));

	/* A byte or a word writes only its bytes of the register. */
	ASSERT_EQ(0, vdev_wr32(d, en, 0));
	b[0] = CTXMIG_IRQ_ALL;
	ASSERT_EQ(0, vdev_region_rw(d, d->bar0_off + en, b, 1, true));
	EXPECT_EQ(CTXMIG_IRQ_ALL, vdev_rd32(d, en));
	w = 0;
	ASSERT_EQ(0, vdev_region_rw(d, d->bar0_off + en + 2, &w, 2, true));
	EXPECT_EQ(CTXMIG_IRQ_ALL, vdev_rd32(d, en));
	w = htole16(CTXMIG_IRQ_FENCE);
	ASSERT_EQ(0, vdev_region_rw(d, d->bar0_off + en, &w, 2, true));
	EXPECT_EQ(CTXMIG_IRQ_FENCE, vdev_rd32(d, en));
	ASSERT_EQ(0, vdev_region_rw(d, d->bar0_off + en, b, 1, false));
	EXPECT_EQ(CTXMIG_IRQ_FENCE, b[0]);

	/* Write-1-to-clear: only a byte written clears its bits. */
	ASSERT_EQ(0, dev_fence_irq(&self->x)) TH_LOG("%s", self->x.g.why);
	ASSERT_EQ(CTXMIG_IRQ_FENCE,
		  vdev_ctl(d, CTXMIG_CTL_IRQ_STATUS) & CTXMIG_IRQ_FENCE);
	b[0] = 0xff;
	ASSERT_EQ(0, vdev_region_rw(d, d->bar0_off + d->ctl +
				    CTXMIG_CTL_IRQ_STATUS + 1, b, 1, true));
	EXPECT_EQ(CTXMIG_IRQ_FENCE,
		  vdev_ctl(d, CTXMIG_CTL_IRQ_STATUS) & CTXMIG_IRQ_FENCE);
	ASSERT_EQ(0, vdev_region_rw(d, d->bar0_off + d->ctl +
				    CTXMIG_CTL_IRQ_STATUS, b, 1, true));
	EXPECT_EQ(0, vdev_ctl(d, CTXMIG_CTL_IRQ_STATUS));
}

TEST_F(pci, memory_and_master)
{
	const uint64_t iova = 0x40000000ULL, va = 0x20000000ULL;
	struct vdev *d = &self->x.d;
	struct guest_cmd c = {
		.op = CTXMIG_OP_WRITE32, .dst = va + 0x100, .value = 0x600df00d,
	};
	uint32_t v = 0;
	int efd;

	self->sys_len = 0x10000;
	dev_sysmem(_metadata, &self->x, &self->sys, iova, va, self->sys_len);
	ASSERT_EQ(0, vdev_msi_eventfd(d, &efd));
	self->efd[0] = efd;

	/* Memory space off: BAR accesses fail as vfio-pci's do. */
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MASTER, 2));
	EXPECT_EQ(-EIO, vdev_region_rw(d, d->bar0_off + d->ctl, &v, 4, false));
	EXPECT_EQ(-EIO, vdev_region_rw(d, d->bar0_off + d->ctl, &v, 4, true));
	EXPECT_EQ(-EIO, vdev_region_rw(d, d->bar2_off, &v, 4, false));
	EXPECT_EQ(-EIO, vdev_region_rw(d, d->bar2_off, &v, 4, true));
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MEMORY |
			    PCI_COMMAND_MASTER, 2));
	EXPECT_EQ(CTXMIG_CTL_MAGIC_VALUE, vdev_ctl(d, CTXMIG_CTL_MAGIC));

	/* Bus mastering off: no MSI, and a DMA faults the engine. */
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MEMORY, 2));
	ASSERT_EQ(0, dev_fence_irq(&self->x)) TH_LOG("%s", self->x.g.why);
	EXPECT_EQ(0, efd_take(efd)) TH_LOG("an MSI without bus mastering");
	ASSERT_EQ(0, guest_submit(&self->x.g, &c, 1, false));
	EXPECT_NE(0, guest_wait_idle(&self->x.g));
	EXPECT_EQ(CTXMIG_ENG_ERROR, vdev_ctl(d, CTXMIG_CTL_ENG_STATUS));
	memcpy(&v, self->sys + 0x100, 4);
	EXPECT_EQ(0x5a5a5a5a, v);

	/* Reset, then with bus mastering: both work. */
	ASSERT_EQ(0, vdev_reset(d));
	ASSERT_EQ(0, dev_restart(&self->x)) TH_LOG("%s", self->x.g.why);
	ASSERT_EQ(0, guest_map_sysmem(&self->x.g, va, iova, 0x10000));
	ASSERT_EQ(0, guest_submit(&self->x.g, &c, 1, false));
	ASSERT_EQ(0, dev_fence_irq(&self->x)) TH_LOG("%s", self->x.g.why);
	EXPECT_LT(0, vdev_eventfd_wait(efd, GUEST_TIMEOUT_MS));
	memcpy(&v, self->sys + 0x100, 4);
	EXPECT_EQ(0x600df00d, v);
}

/*
 * Touch *@p in a child (read, or write @val): 0 if the access worked and
 * a read saw @val, -SIGBUS if it was killed by SIGBUS, 1 otherwise.
 */
static int touch(uint32_t *p, bool write, uint32_t val)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return 1;
	if (!pid) {
		if (write)
			__atomic_store_n(p, val, __ATOMIC_RELAXED);
		_exit(write || __atomic_load_n(p, __ATOMIC_RELAXED) == val ?
		      0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	if (WIFSIGNALED(status))
		return WTERMSIG(status) == SIGBUS ? -SIGBUS : 1;
	return WEXITSTATUS(status) ? 1 : 0;
}

TEST_F(pci, bar2_mmap_memory_off)
{
	const uint32_t val = 0x600dcafe;
	struct vdev *d = &self->x.d;
	uint32_t *map;

	map = vdev_vram_mmap(d, 0, 2 * 4096);
	ASSERT_NE(NULL, map);
	map[0] = val;
	ASSERT_EQ(0, touch(map, false, val));

	/*
	 * Memory space off: the mapping is gone and a fault is SIGBUS, as
	 * with vfio-pci, for a page mapped before and for one never mapped.
	 */
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MASTER, 2));
	EXPECT_EQ(-SIGBUS, touch(map, false, val));
	EXPECT_EQ(-SIGBUS, touch(map, true, 0xbad));
	EXPECT_EQ(-SIGBUS, touch(map + 1024, false, 0));

	/* On again: the same bytes, through the same mapping. */
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MEMORY |
			    PCI_COMMAND_MASTER, 2));
	EXPECT_EQ(val, map[0]);
	EXPECT_EQ(0, touch(map + 1024, true, 1));

	/* A reset turns memory space off too; VRAM survives it. */
	ASSERT_EQ(0, ioctl(d->fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(0, cfg_rd(d, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
	EXPECT_EQ(-SIGBUS, touch(map, false, val));
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MEMORY |
			    PCI_COMMAND_MASTER, 2));
	EXPECT_EQ(val, map[0]);
	EXPECT_EQ(1, map[1024]);
	munmap(map, 2 * 4096);
}

TEST_F(pci, intx)
{
	struct dev *x = &self->x;
	struct vdev *d = &x->d;
	int efd, unmask, msi;

	ASSERT_EQ(0, vdev_irq_eventfd(d, VFIO_PCI_INTX_IRQ_INDEX,
				      VFIO_IRQ_SET_ACTION_TRIGGER, &efd));
	self->efd[0] = efd;
	EXPECT_FALSE(intx_status(x));

	/* It fires once, and is masked. */
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
	EXPECT_EQ(1, efd_take(efd));
	EXPECT_TRUE(intx_status(x));
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
	EXPECT_EQ(0, efd_take(efd)) TH_LOG("fired while masked");

	/* Raised while masked: delivered on unmask. */
	ASSERT_EQ(0, dev_ack(x));
	EXPECT_FALSE(intx_status(x));
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
	EXPECT_EQ(0, efd_take(efd));
	ASSERT_EQ(0, set_irq(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE |
			     VFIO_IRQ_SET_ACTION_UNMASK, 1, NULL, 0));
	EXPECT_EQ(1, efd_take(efd)) TH_LOG("the latched interrupt was lost");

	/* Acknowledged, then unmasked: nothing until the next one. */
	ASSERT_EQ(0, dev_ack(x));
	ASSERT_EQ(0, set_irq(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE |
			     VFIO_IRQ_SET_ACTION_UNMASK, 1, NULL, 0));
	EXPECT_EQ(0, efd_take(efd));
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
	EXPECT_EQ(1, efd_take(efd));

	/* The command register's INTx disable holds the line back. */
	ASSERT_EQ(0, dev_ack(x));
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MEMORY |
			    PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE, 2));
	ASSERT_EQ(0, set_irq(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE |
			     VFIO_IRQ_SET_ACTION_UNMASK, 1, NULL, 0));
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
	EXPECT_EQ(0, efd_take(efd)) TH_LOG("fired with INTx disabled");
	EXPECT_TRUE(intx_status(x));
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MEMORY |
			    PCI_COMMAND_MASTER, 2));
	EXPECT_EQ(1, efd_take(efd));

	/* QEMU's resample path: unmasked by an eventfd, fires again. */
	ASSERT_EQ(0, vdev_irq_eventfd(d, VFIO_PCI_INTX_IRQ_INDEX,
				      VFIO_IRQ_SET_ACTION_UNMASK, &unmask));
	self->efd[1] = unmask;
	ASSERT_EQ(8, write(unmask, &(uint64_t){ 1 }, 8));
	EXPECT_EQ(1, vdev_eventfd_wait(efd, GUEST_TIMEOUT_MS))
		TH_LOG("no INTx after the unmask eventfd, the line still up");
	ASSERT_EQ(0, dev_ack(x));
	ASSERT_EQ(8, write(unmask, &(uint64_t){ 1 }, 8));
	/* Raised until it fires: the unmask eventfd's work is asynchronous. */
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
	EXPECT_EQ(1, vdev_eventfd_wait(efd, GUEST_TIMEOUT_MS));
	ASSERT_EQ(0, set_irq(d, VFIO_PCI_INTX_IRQ_INDEX,
			     VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_UNMASK, 1, &(int32_t){ -1 }, 4));

	/* MASK masks. */
	ASSERT_EQ(0, dev_ack(x));
	ASSERT_EQ(0, set_irq(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE |
			     VFIO_IRQ_SET_ACTION_UNMASK, 1, NULL, 0));
	ASSERT_EQ(0, set_irq(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE |
			     VFIO_IRQ_SET_ACTION_MASK, 1, NULL, 0));
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
	EXPECT_EQ(0, efd_take(efd)) TH_LOG("fired while masked");
	ASSERT_EQ(0, set_irq(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE |
			     VFIO_IRQ_SET_ACTION_UNMASK, 1, NULL, 0));
	EXPECT_EQ(1, efd_take(efd));

	/* INTx and MSI are never both in use, as with vfio-pci. */
	EXPECT_EQ(-EINVAL, vdev_irq_eventfd(d, VFIO_PCI_MSI_IRQ_INDEX,
					    VFIO_IRQ_SET_ACTION_TRIGGER, &msi));
	EXPECT_EQ(0, vdev_irq_disable(d, VFIO_PCI_INTX_IRQ_INDEX));
	ASSERT_EQ(0, vdev_irq_eventfd(d, VFIO_PCI_MSI_IRQ_INDEX,
				      VFIO_IRQ_SET_ACTION_TRIGGER, &msi));
	self->efd[2] = msi;
	EXPECT_EQ(-EINVAL, set_irq(d, VFIO_PCI_INTX_IRQ_INDEX,
				   VFIO_IRQ_SET_DATA_NONE |
				   VFIO_IRQ_SET_ACTION_UNMASK, 1, NULL, 0));
}

TEST_F(pci, msi)
{
	struct dev *x = &self->x;
	struct vdev *d = &x->d;
	uint32_t msi = cfg_find_cap(d, PCI_CAP_ID_MSI);
	int intx, efd;

	ASSERT_NE(0, msi);
	/* Its registers, as the specification has them for one vector. */
	ASSERT_EQ(0, cfg_wr(d, msi + PCI_MSI_ADDRESS_LO, 0xfee00fff, 4));
	ASSERT_EQ(0, cfg_wr(d, msi + PCI_MSI_ADDRESS_HI, 0x1, 4));
	ASSERT_EQ(0, cfg_wr(d, msi + PCI_MSI_DATA_64, 0xffff4041, 4));
	EXPECT_EQ(0xfee00ffc, cfg_rd(d, msi + PCI_MSI_ADDRESS_LO, 4));
	EXPECT_EQ(0x1, cfg_rd(d, msi + PCI_MSI_ADDRESS_HI, 4));
	EXPECT_EQ(0x4041, cfg_rd(d, msi + PCI_MSI_DATA_64, 4));
	ASSERT_EQ(0, cfg_wr(d, msi, 0xffffffff, 4));
	EXPECT_EQ(PCI_CAP_ID_MSI, cfg_rd(d, msi + PCI_CAP_LIST_ID, 1));
	EXPECT_EQ(PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_ENABLE,
		  cfg_rd(d, msi + PCI_MSI_FLAGS, 2));

	/* Enabled in the capability, MSI replaces INTx. */
	ASSERT_EQ(0, vdev_irq_eventfd(d, VFIO_PCI_INTX_IRQ_INDEX,
				      VFIO_IRQ_SET_ACTION_TRIGGER, &intx));
	self->efd[0] = intx;
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
	EXPECT_EQ(0, efd_take(intx)) TH_LOG("INTx with MSI enabled");
	ASSERT_EQ(0, cfg_wr(d, msi + PCI_MSI_FLAGS, 0, 2));
	EXPECT_EQ(1, efd_take(intx)) TH_LOG("INTx once MSI is off again");

	/* The VMM's MSI route delivers it. */
	ASSERT_EQ(0, vdev_irq_disable(d, VFIO_PCI_INTX_IRQ_INDEX));
	ASSERT_EQ(0, dev_ack(x));
	ASSERT_EQ(0, vdev_irq_eventfd(d, VFIO_PCI_MSI_IRQ_INDEX,
				      VFIO_IRQ_SET_ACTION_TRIGGER, &efd));
	self->efd[1] = efd;
	ASSERT_EQ(0, cfg_wr(d, msi + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2));
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
	EXPECT_EQ(1, efd_take(efd));
	/* Edge-triggered: each fence interrupt is a message. */
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
	EXPECT_EQ(1, efd_take(efd));
	/* The loopback test of the trigger. */
	ASSERT_EQ(0, set_irq(d, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE |
			     VFIO_IRQ_SET_ACTION_TRIGGER, 1, NULL, 0));
	EXPECT_EQ(1, efd_take(efd));
	EXPECT_EQ(-ENOTTY, set_irq(d, VFIO_PCI_MSI_IRQ_INDEX,
				   VFIO_IRQ_SET_DATA_NONE |
				   VFIO_IRQ_SET_ACTION_MASK, 1, NULL, 0));
}

TEST_F(pci, err_irq)
{
	struct vfio_irq_info ii = {
		.argsz = sizeof(ii), .index = VFIO_PCI_ERR_IRQ_INDEX,
	};
	struct vdev *d = &self->x.d;
	int efd;

	ASSERT_EQ(0, ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(1, ii.count);
	EXPECT_TRUE(ii.flags & VFIO_IRQ_INFO_EVENTFD);

	EXPECT_EQ(-EINVAL, set_irq(d, VFIO_PCI_ERR_IRQ_INDEX,
				   VFIO_IRQ_SET_DATA_NONE |
				   VFIO_IRQ_SET_ACTION_TRIGGER, 1, NULL, 0));
	ASSERT_EQ(0, vdev_irq_eventfd(d, VFIO_PCI_ERR_IRQ_INDEX,
				      VFIO_IRQ_SET_ACTION_TRIGGER, &efd));
	self->efd[0] = efd;
	/* Nothing signals it but a loopback test: ctxmig has no AER. */
	EXPECT_EQ(0, efd_take(efd));
	ASSERT_EQ(0, set_irq(d, VFIO_PCI_ERR_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE |
			     VFIO_IRQ_SET_ACTION_TRIGGER, 1, NULL, 0));
	EXPECT_EQ(1, efd_take(efd));
	ASSERT_EQ(0, set_irq(d, VFIO_PCI_ERR_IRQ_INDEX, VFIO_IRQ_SET_DATA_BOOL |
			     VFIO_IRQ_SET_ACTION_TRIGGER, 1, &(uint8_t){ 0 }, 1));
	EXPECT_EQ(0, efd_take(efd));
	EXPECT_EQ(-ENOTTY, set_irq(d, VFIO_PCI_ERR_IRQ_INDEX,
				   VFIO_IRQ_SET_DATA_NONE |
				   VFIO_IRQ_SET_ACTION_UNMASK, 1, NULL, 0));
	/* Taken away; then there is none to test. */
	ASSERT_EQ(0, set_irq(d, VFIO_PCI_ERR_IRQ_INDEX,
			     VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_TRIGGER, 1, &(int32_t){ -1 }, 4));
	EXPECT_EQ(-EINVAL, set_irq(d, VFIO_PCI_ERR_IRQ_INDEX,
				   VFIO_IRQ_SET_DATA_NONE |
				   VFIO_IRQ_SET_ACTION_TRIGGER, 1, NULL, 0));
}

TEST_F(pci, reset)
{
	struct dev *x = &self->x;
	struct vdev *d = &x->d;
	uint8_t power_on[CFG_SIZE], now[CFG_SIZE];
	uint32_t msi = cfg_find_cap(d, PCI_CAP_ID_MSI);
	unsigned int off;
	int efd;

	ASSERT_NE(0, msi);
	ASSERT_EQ(0, ioctl(d->fd, VFIO_DEVICE_RESET));
	cfg_dump(d, power_on);

	/* Everything a guest programs, and INTx fired and masked. */
	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_0, 0xfebf0000, 4));
	ASSERT_EQ(0, cfg_wr(d, PCI_BASE_ADDRESS_3, 0x80, 4));
	ASSERT_EQ(0, cfg_wr(d, PCI_INTERRUPT_LINE, 0x0b, 1));
	ASSERT_EQ(0, cfg_wr(d, msi + PCI_MSI_ADDRESS_LO, 0xfee00000, 4));
	ASSERT_EQ(0, cfg_wr(d, msi + PCI_MSI_DATA_64, 0x4041, 2));
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MEMORY |
			    PCI_COMMAND_MASTER, 2));
	ASSERT_EQ(0, vdev_irq_eventfd(d, VFIO_PCI_INTX_IRQ_INDEX,
				      VFIO_IRQ_SET_ACTION_TRIGGER, &efd));
	self->efd[0] = efd;
	ASSERT_EQ(0, dev_restart(x)) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
	EXPECT_EQ(1, efd_take(efd));

	ASSERT_EQ(0, ioctl(d->fd, VFIO_DEVICE_RESET));
	cfg_dump(d, now);
	for (off = 0; off < CFG_SIZE; off++)
		EXPECT_EQ(power_on[off], now[off])
			TH_LOG("config 0x%02x after the reset", off);

	/* INTx is no longer masked: a new interrupt fires without UNMASK. */
	ASSERT_EQ(0, cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MEMORY |
			    PCI_COMMAND_MASTER, 2));
	ASSERT_EQ(0, dev_restart(x)) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
	EXPECT_EQ(1, efd_take(efd)) TH_LOG("INTx still masked after a reset");
}

/* ------------------------------------------------------- DMA logging */

struct dma_logging_range {
	uint64_t iova, length;
};

static int log_start(struct vdev *d, const struct dma_logging_range *r,
		     unsigned int n, uint64_t *page_size, bool probe)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_dma_logging_control) +
		      7) / 8] = {};
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_dma_logging_control *c = (void *)f->data;
	struct vfio_device_feature_dma_logging_range ranges[4];
	unsigned int i;

	for (i = 0; i < n; i++) {
		ranges[i].iova = r[i].iova;
		ranges[i].length = r[i].length;
	}
	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_DMA_LOGGING_START |
		   (probe ? VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET :
			    VFIO_DEVICE_FEATURE_SET);
	c->page_size = page_size ? *page_size : 4096;
	c->num_ranges = n;
	c->ranges = (uintptr_t)ranges;
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	if (page_size)
		*page_size = c->page_size;
	return 0;
}

static int log_stop(struct vdev *d)
{
	struct vfio_device_feature f = {
		.argsz = sizeof(f),
		.flags = VFIO_DEVICE_FEATURE_SET |
			 VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
	};

	return ioctl(d->fd, VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
}

/* The pages of [@iova, @iova + @len) written since, 4 KiB a bit. */
static int log_report(struct vdev *d, uint64_t iova, uint64_t len,
		      uint64_t *bitmap)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_dma_logging_report) +
		      7) / 8] = {};
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_dma_logging_report *r = (void *)f->data;

	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_GET |
		   VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
	r->iova = iova;
	r->length = len;
	r->page_size = 4096;
	r->bitmap = (uintptr_t)bitmap;
	memset(bitmap, 0, (len / 4096 + 63) / 64 * 8);
	return ioctl(d->fd, VFIO_DEVICE_FEATURE, f) ? -errno : 0;
}

/*
 * The VFIO core reports DMA logging through its iova_bitmap helpers,
 * which a kernel has with CONFIG_IOMMUFD_DRIVER; they are in its symbols.
 */
static bool kernel_reports_dma_logging(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " iova_bitmap_set\n") ||
			strstr(line, " iova_bitmap_set\t");
	fclose(f);
	return found;
}

/* The GPU writes pages 1 and 5 of @va and copies VRAM over 12 and 13. */
static void gpu_write_1_5_12_13(struct __test_metadata *_metadata,
				struct dev *x, uint64_t va)
{
	struct guest_cmd c[3] = {};

	c[0].op = CTXMIG_OP_WRITE32;
	c[0].dst = va + 0x1000;
	c[0].value = 1;
	c[1].op = CTXMIG_OP_WRITE64;
	c[1].dst = va + 0x5ff8;
	c[1].value = 5;
	c[2].op = CTXMIG_OP_COPY;
	c[2].src = GUEST_DATA_VA;
	c[2].dst = va + 0xc800;
	c[2].value = 0x1000;
	ASSERT_EQ(0, guest_submit(&x->g, c, 3, false)) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
}

/* The GPU reads page 3 of @va (into VRAM) and writes page 15. */
static void gpu_read_3_write_15(struct __test_metadata *_metadata,
				struct dev *x, uint64_t va)
{
	struct guest_cmd c[2] = {};

	c[0].op = CTXMIG_OP_COPY;
	c[0].src = va + 0x3000;
	c[0].dst = GUEST_DATA_VA + 0x2000;
	c[0].value = 0x1000;
	c[1].op = CTXMIG_OP_WRITE32;
	c[1].dst = va + 0xf000;
	c[1].value = 15;
	ASSERT_EQ(0, guest_submit(&x->g, c, 2, false)) TH_LOG("%s", x->g.why);
	ASSERT_EQ(0, dev_fence_irq(x)) TH_LOG("%s", x->g.why);
}

/* VFIO_IOMMU_DIRTY_PAGES, START or STOP, on the type1 container. */
static int container_dirty(struct vdev *d, uint32_t flag)
{
	struct vfio_iommu_type1_dirty_bitmap db = {
		.argsz = sizeof(db), .flags = flag,
	};

	return ioctl(d->container, VFIO_IOMMU_DIRTY_PAGES, &db) ? -errno : 0;
}

/* The container's dirty bitmap of [@iova, @iova + @len), 4 KiB a bit. */
static int container_bitmap(struct vdev *d, uint64_t iova, uint64_t len,
			    uint64_t *bitmap)
{
	uint64_t buf[(sizeof(struct vfio_iommu_type1_dirty_bitmap) +
		      sizeof(struct vfio_iommu_type1_dirty_bitmap_get) +
		      7) / 8] = {};
	struct vfio_iommu_type1_dirty_bitmap *db = (void *)buf;
	struct vfio_iommu_type1_dirty_bitmap_get *g = (void *)db->data;

	db->argsz = sizeof(buf);
	db->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	g->iova = iova;
	g->size = len;
	g->bitmap.pgsize = 4096;
	g->bitmap.size = (len / 4096 + 63) / 64 * 8;
	g->bitmap.data = (void *)bitmap;
	memset(bitmap, 0, g->bitmap.size);
	return ioctl(d->container, VFIO_IOMMU_DIRTY_PAGES, db) ? -errno : 0;
}

/*
 * What a VMM tracks the GPU's writes with where the device offers no DMA
 * logging (QEMU's enable-migration=on): the type1 container's dirty
 * bitmap, which vfio_dma_rw() marks.  [@iova, @iova + @len) is mapped at
 * GPU VA @va.
 */
static void container_tracks_gpu_writes(struct __test_metadata *_metadata,
					struct dev *x, uint64_t iova,
					uint64_t va, uint64_t len)
{
	struct vdev *d = &x->d;
	uint64_t bitmap[4];

	EXPECT_EQ(-EINVAL, container_bitmap(d, iova, len, bitmap));
	ASSERT_EQ(0, container_dirty(d, VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	ASSERT_EQ(0, container_bitmap(d, iova, len, bitmap));
	EXPECT_EQ(0, bitmap[0]) TH_LOG("dirty before the GPU wrote");

	gpu_write_1_5_12_13(_metadata, x, va);
	ASSERT_EQ(0, container_bitmap(d, iova, len, bitmap));
	EXPECT_EQ(1ULL << 1 | 1ULL << 5 | 1ULL << 12 | 1ULL << 13, bitmap[0]);
	/* Reported pages are clean until written again. */
	ASSERT_EQ(0, container_bitmap(d, iova, len, bitmap));
	EXPECT_EQ(0, bitmap[0]);
	/* Read from, not written: not dirty. */
	gpu_read_3_write_15(_metadata, x, va);
	ASSERT_EQ(0, container_bitmap(d, iova, len, bitmap));
	EXPECT_EQ(1ULL << 15, bitmap[0]);

	EXPECT_EQ(0, container_dirty(d, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	EXPECT_EQ(-EINVAL, container_bitmap(d, iova, len, bitmap));
}

TEST_F(pci, dma_logging)
{
	const uint64_t iova = 0x40000000ULL, va = 0x20000000ULL;
	const uint64_t len = 0x10000;
	struct dma_logging_range r = { iova, len };
	struct vdev *d = &self->x.d;
	uint64_t bitmap[4], page_size = 4096;
	bool can = kernel_reports_dma_logging();
	int ret;

	/* Offered exactly where the kernel can hand the log over. */
	ret = log_start(d, &r, 1, NULL, true);
	ASSERT_EQ(can ? 0 : -ENOTTY, ret)
		TH_LOG("DMA logging %s, the kernel %s report it",
		       ret ? "not offered" : "offered",
		       can ? "can" : "cannot");
	self->sys_len = len;
	dev_sysmem(_metadata, &self->x, &self->sys, iova, va, len);
	if (!can) {
		/*
		 * Not offered (the VFIO core refuses each feature with
		 * ENOTTY for a device without log ops): the VMM falls back
		 * on the container's dirty tracking, which sees every page
		 * the GPU writes.
		 */
		EXPECT_EQ(-ENOTTY, log_start(d, &r, 1, &page_size, false));
		EXPECT_EQ(-ENOTTY, log_report(d, iova, len, bitmap));
		EXPECT_EQ(-ENOTTY, log_stop(d));
		container_tracks_gpu_writes(_metadata, &self->x, iova, va, len);
		return;
	}

	EXPECT_EQ(-EINVAL, log_report(d, iova, len, bitmap));
	page_size = 512;
	EXPECT_EQ(-EINVAL, log_start(d, &r, 1, &page_size, false));
	page_size = 4096;
	ASSERT_EQ(0, log_start(d, &r, 1, &page_size, false));
	EXPECT_EQ(4096, page_size);
	EXPECT_EQ(-EBUSY, log_start(d, &r, 1, &page_size, false));

	gpu_write_1_5_12_13(_metadata, &self->x, va);
	ASSERT_EQ(0, log_report(d, iova, len, bitmap));
	EXPECT_EQ(1ULL << 1 | 1ULL << 5 | 1ULL << 12 | 1ULL << 13, bitmap[0]);
	/* Reported pages are clean until written again. */
	ASSERT_EQ(0, log_report(d, iova, len, bitmap));
	EXPECT_EQ(0, bitmap[0]);
	/* Read from, not written: not logged. */
	gpu_read_3_write_15(_metadata, &self->x, va);
	ASSERT_EQ(0, log_report(d, iova + 0x8000, len - 0x8000, bitmap));
	EXPECT_EQ(1ULL << 7, bitmap[0]);
	ASSERT_EQ(0, log_report(d, iova, len, bitmap));
	EXPECT_EQ(0, bitmap[0]);
	EXPECT_EQ(0, log_stop(d));
	EXPECT_EQ(-EINVAL, log_report(d, iova, len, bitmap));
	EXPECT_EQ(0, log_stop(d));

	/* Wide ranges are logged in larger pages; too wide is refused. */
	r.iova = 0;
	r.length = 1ULL << 47;
	page_size = 4096;
	ASSERT_EQ(0, log_start(d, &r, 1, &page_size, false));
	EXPECT_LE(1ULL << 23, page_size);
	EXPECT_EQ(0, log_stop(d));
	r.length = 1ULL << 62;
	page_size = 4096;
	EXPECT_EQ(-E2BIG, log_start(d, &r, 1, &page_size, false));

	/* The container's dirty tracking works beside it. */
	container_tracks_gpu_writes(_metadata, &self->x, iova, va, len);
}

/* ----------------------------------------------------------- estimates */

FIXTURE(estimate) {
	struct dev x;
	uint8_t *map;
	size_t map_len;
};

FIXTURE_VARIANT(estimate) {
	const char *model;
};

FIXTURE_VARIANT_ADD(estimate, amd_gfx9) { .model = "amd-gfx9" };
FIXTURE_VARIANT_ADD(estimate, amd_gfx12) { .model = "amd-gfx12" };
FIXTURE_VARIANT_ADD(estimate, intel_gen12) { .model = "intel-gen12" };
FIXTURE_VARIANT_ADD(estimate, nv_ampere) { .model = "nv-ampere" };
FIXTURE_VARIANT_ADD(estimate, nv_hopper) { .model = "nv-hopper" };

FIXTURE_SETUP(estimate)
{
	int ret = dev_new(&self->x, variant->model);

	ASSERT_EQ(0, ret) TH_LOG("%s: %s", variant->model, self->x.g.why);
}

FIXTURE_TEARDOWN(estimate)
{
	if (self->map)
		munmap(self->map, self->map_len);
	vdev_attr_write(&self->x.d, "throttle", "0");
	dev_free(&self->x);
}

/* @n pages from VRAM offset @off, each of random bytes or all zero. */
static int write_pages(struct vdev *d, uint64_t off, unsigned int n,
		       bool zero, uint64_t seed)
{
	uint64_t page[4096 / 8];
	unsigned int i, j;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		for (j = 0; j < ARRAY_SIZE(page); j++)
			page[j] = zero ? 0 : (seed + i) * 0x9e3779b97f4a7c15ULL +
					     j * 0xbf58476d1ce4e5b9ULL;
		ret = vdev_vram_write(d, off + i * 4096ULL, page, sizeof(page));
	}
	return ret;
}

/* NOPs the engine, one step per 10 ms, is still on when the test reads. */
static int submit_nops(struct dev *x, unsigned int n)
{
	struct guest_cmd c[64] = {};
	unsigned int done;
	int ret;

	ret = vdev_attr_write(&x->d, "throttle", "1");
	for (done = 0; !ret && done < n; done += 64)
		ret = guest_submit(&x->g, c, n - done < 64 ? n - done : 64,
				   true);
	return ret;
}

#define MIB(n)	((uint64_t)(n) << 20)

TEST_F_TIMEOUT(estimate, accuracy, 120)
{
	struct vdev *d = &self->x.d;
	int64_t est, got, stop_est;
	uint64_t initial = 0, dirty = 0;
	int fd;

	/*
	 * Page tables (guest_setup()), sparse data pages over the VRAM, a
	 * run of zero pages, a run of data, commands pending.
	 */
	ASSERT_EQ(0, write_pages(d, MIB(40), 1, false, 1));
	ASSERT_EQ(0, write_pages(d, MIB(97), 3, false, 2));
	ASSERT_EQ(0, write_pages(d, MIB(200), 1, false, 3));
	ASSERT_EQ(0, write_pages(d, MIB(48), 96, true, 0));
	ASSERT_EQ(0, write_pages(d, MIB(64), 40, false, 4));
	ASSERT_EQ(0, submit_nops(&self->x, 1024)) TH_LOG("%s", self->x.g.why);

	/* A stop-copy save: the whole stream, asked for in RUNNING... */
	est = mig_data_size(d);
	ASSERT_EQ(0, vdev_set_state(d, VFIO_DEVICE_STATE_STOP, NULL));
	/* ... and in STOP, with the commands pending for certain. */
	stop_est = mig_data_size(d);
	ASSERT_EQ(0, vdev_set_state(d, VFIO_DEVICE_STATE_STOP_COPY, &fd));
	got = drain_stop_copy(fd);
	close(fd);
	EXPECT_TRUE(close_to(est, got))
		TH_LOG("MIG_DATA_SIZE in RUNNING %lld, stop-copy read %lld",
		       (long long)est, (long long)got);
	EXPECT_TRUE(close_to(stop_est, got))
		TH_LOG("MIG_DATA_SIZE in STOP %lld, stop-copy read %lld",
		       (long long)stop_est, (long long)got);
	ASSERT_EQ(0, vdev_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL));

	/* Pre-copy: the first part, without zero pages or page tables. */
	ASSERT_EQ(0, vdev_set_state(d, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	ASSERT_EQ(0, precopy_info(fd, &initial, &dirty));
	got = drain_precopy(fd);
	EXPECT_TRUE(close_to(initial + dirty, got))
		TH_LOG("initial %llu + dirty %llu, pre-copy read %lld",
		       (unsigned long long)initial, (unsigned long long)dirty,
		       (long long)got);
	ASSERT_EQ(0, precopy_info(fd, &initial, &dirty));
	EXPECT_EQ(0, initial);
	EXPECT_EQ(0, dirty);

	/* Pages written since: new data, and data overwritten with zeros. */
	ASSERT_EQ(0, write_pages(d, MIB(64), 8, false, 5));
	ASSERT_EQ(0, write_pages(d, MIB(66), 24, false, 6));
	ASSERT_EQ(0, write_pages(d, MIB(64) + 8 * 4096, 16, true, 0));
	ASSERT_EQ(0, precopy_info(fd, &initial, &dirty));
	EXPECT_EQ(0, initial);
	got = drain_precopy(fd);
	EXPECT_TRUE(close_to(dirty, got))
		TH_LOG("dirty %llu, pre-copy read %lld",
		       (unsigned long long)dirty, (long long)got);

	/*
	 * During pre-copy MIG_DATA_SIZE is the rest of the stream, what
	 * pre-copy has left included: QEMU (since 9.0.4) takes it so.
	 */
	ASSERT_EQ(0, write_pages(d, MIB(100), 4, false, 7));
	ASSERT_EQ(0, precopy_info(fd, &initial, &dirty));
	EXPECT_LT(0, dirty);
	est = mig_data_size(d);
	ASSERT_EQ(0, vdev_set_state(d, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	got = drain_stop_copy(fd);
	close(fd);
	EXPECT_TRUE(close_to(est, got))
		TH_LOG("MIG_DATA_SIZE %lld (initial %llu, dirty %llu), stop-copy read %lld",
		       (long long)est, (unsigned long long)initial,
		       (unsigned long long)dirty, (long long)got);
	ASSERT_EQ(0, vdev_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, vdev_attr_write(d, "throttle", "0"));
	ASSERT_EQ(0, guest_wait_idle(&self->x.g)) TH_LOG("%s", self->x.g.why);
}

struct waiter {
	int fd;
	int ret;
};

static void *wait_readable(void *arg)
{
	struct waiter *w = arg;
	struct pollfd p = { .fd = w->fd, .events = POLLIN };

	w->ret = poll(&p, 1, GUEST_TIMEOUT_MS);
	if (w->ret == 1 && !(p.revents & POLLIN))
		w->ret = -1;
	return NULL;
}

/* How a poll test writes something pre-copy sends. */
enum poll_write { BY_BAR2, BY_MAPPING, BY_ENGINE };

static int poll_write(struct dev *x, uint8_t *map, enum poll_write how)
{
	struct guest_cmd c = {
		.op = CTXMIG_OP_WRITE32, .dst = GUEST_DATA_VA + 0x3000,
		.value = 0x1234,
	};

	switch (how) {
	case BY_BAR2:
		return write_pages(&x->d, MIB(80), 1, false, 8);
	case BY_MAPPING:
		map[100] = 0x77;
		return 0;
	case BY_ENGINE:
		return guest_submit(&x->g, &c, 1, false);
	}
	return -EINVAL;
}

/* Poll @fd from another thread while a write happens; true if readable. */
static bool woken_by(int fd, struct dev *x, uint8_t *map, enum poll_write how)
{
	struct waiter w = { .fd = fd };
	pthread_t t;
	int ret;

	if (pthread_create(&t, NULL, wait_readable, &w))
		return false;
	ret = poll_write(x, map, how);
	pthread_join(t, NULL);
	return !ret && w.ret == 1;
}

TEST_F_TIMEOUT(estimate, poll, 60)
{
	struct vdev *d = &self->x.d;
	int fd;

	ASSERT_EQ(0, write_pages(d, MIB(40), 4, false, 1));
	self->map_len = 4096;
	self->map = vdev_vram_mmap(d, MIB(81), self->map_len);
	ASSERT_NE(NULL, self->map);
	self->map[0] = 1;

	ASSERT_EQ(0, vdev_set_state(d, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	EXPECT_TRUE(readable(fd)) TH_LOG("the first part is there to read");
	ASSERT_LE(0, drain_precopy(fd));
	EXPECT_FALSE(readable(fd)) TH_LOG("readable at the temporary end");

	/* A write through BAR2, a mapping, the engine: readable again. */
	EXPECT_TRUE(woken_by(fd, &self->x, self->map, BY_BAR2));
	ASSERT_LE(0, drain_precopy(fd));
	EXPECT_FALSE(readable(fd));
	EXPECT_TRUE(woken_by(fd, &self->x, self->map, BY_MAPPING));
	ASSERT_LE(0, drain_precopy(fd));
	EXPECT_FALSE(readable(fd));
	EXPECT_TRUE(woken_by(fd, &self->x, self->map, BY_ENGINE));
	ASSERT_EQ(0, guest_wait_idle(&self->x.g)) TH_LOG("%s", self->x.g.why);
	ASSERT_LE(0, drain_precopy(fd));
	EXPECT_FALSE(readable(fd));

	/* Stop-copy: readable to the end, and at the end. */
	ASSERT_EQ(0, vdev_set_state(d, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	EXPECT_TRUE(readable(fd));
	ASSERT_LT(0, drain_stop_copy(fd));
	EXPECT_TRUE(readable(fd));
	close(fd);
	ASSERT_EQ(0, vdev_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL));
}

int main(int argc, char **argv)
{
	vdev_track_init();
	/* Exits through ksft_exit(). */
	return test_harness_run(argc, argv);
}
