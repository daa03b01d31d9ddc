// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig kselftests: the VFIO transport and plumbing, and the guest
 * driver; see guest.h.
 *
 * Built with the host shim headers (tools/testing/ctxmig/include) and the
 * driver's model sources, as tools/testing/ctxmig/host.mk builds them.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "ctxmig_gpu.h"
#include "ctxmig_ir.h"
#include "ctxmig_vram.h"
#include "guest.h"

#include "tests/ctxmig_vectors.c"

#define MDEV_TYPES	"/sys/class/mdev_bus/ctxmig/mdev_supported_types"
#define MDEV_DEVICES	"/sys/bus/mdev/devices"

/* ---------------------------------------------------------------- VFIO */

static int write_attr(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : 0;
}

void vdev_init(struct vdev *d)
{
	memset(d, 0, sizeof(*d));
	d->ops = &vdev_vfio_ops;
	d->container = -1;
	d->group = -1;
	d->fd = -1;
}

static void make_uuid(char *out)
{
	uint8_t b[16];
	unsigned int i;

	if (getrandom(b, sizeof(b), 0) != sizeof(b)) {
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

		for (i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)(t >> (i % 8 * 8)) ^ (uint8_t)(i * 37);
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		b[10], b[11], b[12], b[13], b[14], b[15]);
}

int vdev_create(struct vdev *d, const char *model)
{
	char path[256];
	int ret;

	vdev_init(d);
	snprintf(d->model, sizeof(d->model), "%s", model);
	make_uuid(d->uuid);
	snprintf(path, sizeof(path), MDEV_TYPES "/ctxmig-%s/create", model);
	ret = write_attr(path, d->uuid);
	if (!ret)
		d->created = true;
	return ret;
}

static int region_info(struct vdev *d, uint32_t index, uint64_t *off,
		       uint64_t *size)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };

	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return -errno;
	*off = ri.offset;
	*size = ri.size;
	return 0;
}

/*
 * What a guest's driver does first (pci_enable_device(), pci_set_master()):
 * a function starts with its BARs and its DMA off.
 */
static int vdev_enable(struct vdev *d)
{
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	return vdev_region_rw(d, d->cfg_off + PCI_COMMAND, &cmd, sizeof(cmd),
			      true);
}

int vdev_open(struct vdev *d)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	char path[PATH_MAX], link[256], *grp;
	ssize_t n;
	int ret;

	snprintf(path, sizeof(path), MDEV_DEVICES "/%s/iommu_group", d->uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	grp = strrchr(link, '/');
	grp = grp ? grp + 1 : link;

	d->container = open("/dev/vfio/vfio", O_RDWR);
	if (d->container < 0)
		return -errno;
	if (ioctl(d->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return -EPROTO;
	snprintf(path, sizeof(path), "/dev/vfio/%s", grp);
	d->group = open(path, O_RDWR);
	if (d->group < 0)
		return -errno;
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &gs))
		return -errno;
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -EBUSY;
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container))
		return -errno;
	if (ioctl(d->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0)
		ret = ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	else
		ret = ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU);
	if (ret)
		return -errno;
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->uuid);
	if (d->fd < 0)
		return -errno;
	ret = region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, &d->cfg_off,
			  &d->cfg_size);
	ret = ret ?: region_info(d, VFIO_PCI_BAR0_REGION_INDEX, &d->bar0_off,
				 &d->bar0_size);
	ret = ret ?: region_info(d, VFIO_PCI_BAR2_REGION_INDEX, &d->bar2_off,
				 &d->bar2_size);
	if (ret)
		return ret;
	/* The spec, "BAR0: registers": one size, the control page last. */
	if (d->bar0_size != CTXMIG_PCI_BAR0_SIZE)
		return -ENXIO;
	d->ctl = CTXMIG_CTL_BASE;
	return vdev_enable(d);
}

void vdev_close(struct vdev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0) {
		ioctl(d->group, VFIO_GROUP_UNSET_CONTAINER);
		close(d->group);
	}
	if (d->container >= 0)
		close(d->container);
	d->fd = -1;
	d->group = -1;
	d->container = -1;
	d->ndma = 0;
}

int vdev_remove(struct vdev *d)
{
	char path[256];
	int ret;

	if (!d->created)
		return 0;
	snprintf(path, sizeof(path), MDEV_DEVICES "/%s/remove", d->uuid);
	ret = write_attr(path, "1");
	if (!ret)
		d->created = false;
	return ret;
}

void vdev_destroy(struct vdev *d)
{
	vdev_close(d);
	vdev_remove(d);
}

/*
 * Instances created by any test process, in memory shared with the
 * harness's forks, so that the main process can remove at exit what a
 * killed test left behind.
 */
#define TRACK_MAX	64

static struct {
	int n;
	char uuid[TRACK_MAX][37];
	bool live[TRACK_MAX];
} *track;
static pid_t track_pid;

static void track_remove_leftovers(void)
{
	int i;

	if (!track || getpid() != track_pid)
		return;
	for (i = 0; i < track->n && i < TRACK_MAX; i++) {
		struct vdev d;

		if (!track->live[i])
			continue;
		vdev_init(&d);
		memcpy(d.uuid, track->uuid[i], sizeof(d.uuid));
		d.created = true;
		if (!vdev_remove(&d))
			printf("# removed leftover instance %s\n", d.uuid);
	}
}

void vdev_track_init(void)
{
	track = mmap(NULL, sizeof(*track), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (track == MAP_FAILED) {
		track = NULL;
		return;
	}
	track_pid = getpid();
	atexit(track_remove_leftovers);
}

int vdev_track_create(struct vdev *d, const char *model)
{
	int ret = vdev_create(d, model);

	if (!ret && track) {
		int i = __sync_fetch_and_add(&track->n, 1);

		if (i < TRACK_MAX) {
			memcpy(track->uuid[i], d->uuid, sizeof(d->uuid));
			track->live[i] = true;
		}
	}
	return ret;
}

int vdev_track_remove(struct vdev *d)
{
	int i, ret;

	vdev_close(d);
	if (!d->created)
		return 0;
	ret = vdev_remove(d);
	for (i = 0; !d->created && track && i < track->n && i < TRACK_MAX; i++)
		if (!strcmp(track->uuid[i], d->uuid))
			track->live[i] = false;
	return ret;
}

int vdev_track_new(struct vdev *d, const char *model)
{
	int ret = vdev_track_create(d, model);

	if (ret)
		return ret;
	ret = vdev_open(d);
	if (ret)
		vdev_track_remove(d);
	return ret;
}

int vdev_region_rw(struct vdev *d, uint64_t off, void *buf, size_t len,
		   bool write)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = write ? pwrite(d->fd, p, len, off) :
				    pread(d->fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int vfio_cfg_rw(struct vdev *d, uint32_t off, void *buf, size_t len,
		       bool write)
{
	return vdev_region_rw(d, d->cfg_off + off, buf, len, write);
}

static int vfio_bar_rw(struct vdev *d, unsigned int bar, uint64_t off,
		       void *buf, size_t len, bool write)
{
	uint64_t base = bar == 2 ? d->bar2_off : d->bar0_off;

	return vdev_region_rw(d, base + off, buf, len, write);
}

/* System memory is the buffers of this process that vdev_map_dma() got. */
static int vfio_sys_rw(struct vdev *d, uint64_t iova, void *buf, size_t len,
		       bool write)
{
	unsigned int i;

	for (i = 0; i < d->ndma; i++) {
		uint8_t *p = d->dma[i].vaddr;

		if (iova < d->dma[i].iova ||
		    iova - d->dma[i].iova > d->dma[i].size ||
		    len > d->dma[i].size - (iova - d->dma[i].iova))
			continue;
		p += iova - d->dma[i].iova;
		if (write)
			memcpy(p, buf, len);
		else
			memcpy(buf, p, len);
		return 0;
	}
	return -EFAULT;
}

const struct vdev_ops vdev_vfio_ops = {
	.name = "vfio",
	.cfg_rw = vfio_cfg_rw,
	.bar_rw = vfio_bar_rw,
	.sys_rw = vfio_sys_rw,
};

/* A device set up before its transport was chosen is on VFIO's. */
static const struct vdev_ops *ops_of(const struct vdev *d)
{
	return d->ops ? d->ops : &vdev_vfio_ops;
}

int vdev_cfg_read(struct vdev *d, uint32_t off, void *buf, size_t len)
{
	return ops_of(d)->cfg_rw(d, off, buf, len, false);
}

int vdev_cfg_write(struct vdev *d, uint32_t off, const void *buf,
		   size_t len)
{
	return ops_of(d)->cfg_rw(d, off, (void *)buf, len, true);
}

/* A failed read reads as all ones, as a PCI read of a dead device. */
uint32_t vdev_rd32(struct vdev *d, uint32_t off)
{
	uint32_t v;

	if (ops_of(d)->bar_rw(d, 0, off, &v, 4, false))
		return ~0U;
	return v;
}

int vdev_wr32(struct vdev *d, uint32_t off, uint32_t val)
{
	return ops_of(d)->bar_rw(d, 0, off, &val, 4, true);
}

uint32_t vdev_ctl(struct vdev *d, uint32_t reg)
{
	return vdev_rd32(d, d->ctl + reg);
}

int vdev_ctl_wr(struct vdev *d, uint32_t reg, uint32_t val)
{
	return vdev_wr32(d, d->ctl + reg, val);
}

int vdev_vram_read(struct vdev *d, uint64_t off, void *buf, size_t len)
{
	if (off > d->bar2_size || len > d->bar2_size - off)
		return -EINVAL;
	return ops_of(d)->bar_rw(d, 2, off, buf, len, false);
}

int vdev_vram_write(struct vdev *d, uint64_t off, const void *buf,
		    size_t len)
{
	if (off > d->bar2_size || len > d->bar2_size - off)
		return -EINVAL;
	return ops_of(d)->bar_rw(d, 2, off, (void *)buf, len, true);
}

int vdev_sys_read(struct vdev *d, uint64_t iova, void *buf, size_t len)
{
	return ops_of(d)->sys_rw(d, iova, buf, len, false);
}

int vdev_sys_write(struct vdev *d, uint64_t iova, const void *buf,
		   size_t len)
{
	return ops_of(d)->sys_rw(d, iova, (void *)buf, len, true);
}

void *vdev_vram_mmap(struct vdev *d, uint64_t off, size_t len)
{
	void *p;

	if (off > d->bar2_size || len > d->bar2_size - off) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		 d->bar2_off + off);
	return p == MAP_FAILED ? NULL : p;
}

int vdev_map_dma(struct vdev *d, void *vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	if (ioctl(d->container, VFIO_IOMMU_MAP_DMA, &map))
		return -errno;
	/* Past VDEV_DMA_MAX the device still reaches it, the guest not. */
	if (d->ndma < VDEV_DMA_MAX) {
		d->dma[d->ndma].vaddr = vaddr;
		d->dma[d->ndma].iova = iova;
		d->dma[d->ndma].size = size;
		d->ndma++;
	}
	return 0;
}

int vdev_restore_stream(struct vdev *d, const uint8_t *stream, size_t len,
			size_t chunk, int *write_err)
{
	int ret, fd;

	*write_err = 0;
	ret = vdev_set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
	ret = ret ?: vdev_set_state(d, VFIO_DEVICE_STATE_RESUMING, &fd);
	if (ret)
		return ret;
	if (fd < 0)
		return -EBADF;
	*write_err = vdev_write_stream(fd, stream, len, chunk);
	ret = vdev_set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
	close(fd);
	return ret;
}

int vdev_reset(struct vdev *d)
{
	if (ioctl(d->fd, VFIO_DEVICE_RESET))
		return -errno;
	/* The reset cleared the command register, as a guest's driver knows. */
	return vdev_enable(d);
}

int vdev_attr_write(struct vdev *d, const char *attr, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), MDEV_DEVICES "/%s/ctxmig/%s", d->uuid,
		 attr);
	return write_attr(path, val);
}

int vdev_attr_read(struct vdev *d, const char *attr, char *buf, size_t size)
{
	char path[256];
	ssize_t n;
	int fd;

	if (!size)
		return -EINVAL;
	snprintf(path, sizeof(path), MDEV_DEVICES "/%s/ctxmig/%s", d->uuid,
		 attr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return (int)n;
}

bool vdev_last_error_has(struct vdev *d, const char *what)
{
	char buf[4096];
	const char *at;

	if (vdev_attr_read(d, "stats", buf, sizeof(buf)) < 0)
		return false;
	at = strstr(buf, "last_error ");
	return at && strstr(at, what);
}

uint32_t guest_ir_crc(const void *p, size_t len)
{
	return ~ctxmig_ir_crc32c(~0U, p, len);
}

int vdev_mig_flags(struct vdev *d, uint64_t *flags)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_migration) + 7) / 8] = {};
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_migration *m = (void *)f->data;

	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION;
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	*flags = m->flags;
	return 0;
}

int vdev_set_state(struct vdev *d, uint32_t state, int *data_fd)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_mig_state) + 7) / 8] = {};
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_state *s = (void *)f->data;

	if (data_fd)
		*data_fd = -1;
	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_SET |
		   VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	s->device_state = state;
	s->data_fd = -1;
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	if (data_fd)
		*data_fd = s->data_fd;
	else if (s->data_fd >= 0)
		close(s->data_fd);
	return 0;
}

int vdev_get_state(struct vdev *d, uint32_t *state)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_mig_state) + 7) / 8] = {};
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_state *s = (void *)f->data;

	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_GET |
		   VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	*state = s->device_state;
	return 0;
}

int vdev_irq_eventfd(struct vdev *d, uint32_t index, uint32_t action,
		     int *efd)
{
	uint64_t buf[(sizeof(struct vfio_irq_set) + sizeof(int32_t) + 7) / 8];
	struct vfio_irq_set *set = (void *)buf;
	int32_t fd;

	memset(buf, 0, sizeof(buf));
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	set->argsz = sizeof(*set) + sizeof(fd);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | action;
	set->index = index;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &fd, sizeof(fd));
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, set)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	*efd = fd;
	return 0;
}

int vdev_msi_eventfd(struct vdev *d, int *efd)
{
	return vdev_irq_eventfd(d, VFIO_PCI_MSI_IRQ_INDEX,
				VFIO_IRQ_SET_ACTION_TRIGGER, efd);
}

int vdev_irq_disable(struct vdev *d, uint32_t index)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
	};

	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

int64_t vdev_eventfd_wait(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t v;
	int ret;

	do {
		ret = poll(&p, 1, ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (!ret)
		return -ETIMEDOUT;
	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return -errno;
	return (int64_t)v;
}

int vdev_read_stream(int fd, uint8_t **out, size_t *outlen)
{
	size_t len = 0, cap = 1 << 16;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			poll(&p, 1, 100);
			continue;
		}
		if (n < 0) {
			int ret = -errno;

			free(buf);
			return ret;
		}
		if (!n)
			break;
		len += n;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int vdev_write_stream(int fd, const uint8_t *buf, size_t len, size_t chunk)
{
	size_t off = 0;

	if (!chunk)
		chunk = len ? len : 1;
	while (off < len) {
		size_t want = len - off < chunk ? len - off : chunk;
		ssize_t n = write(fd, buf + off, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;
		off += n;
	}
	return 0;
}

size_t vdev_stream_end(const uint8_t *stream, size_t len, uint64_t *records)
{
	const struct ctxmig_ir_preamble *pre = (const void *)stream;
	size_t off;

	*records = 0;
	if (len < sizeof(*pre))
		return 0;
	off = le32toh(pre->preamble_len);
	while (off + sizeof(struct ctxmig_ir_rec) <= len) {
		const struct ctxmig_ir_rec *h = (const void *)(stream + off);

		if (le16toh(h->type) == CTXMIG_IR_END)
			return off;
		off += sizeof(*h) + ((le32toh(h->len) + 7) & ~7UL);
		(*records)++;
	}
	return 0;
}

/* ------------------------------------------------------------- streams */

void vdev_stream_free(struct vdev_stream *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

int vdev_stream_room(struct vdev_stream *s, size_t more)
{
	size_t cap = s->cap ? s->cap : 1 << 16;
	uint8_t *p;

	while (cap - s->len < more)
		cap *= 2;
	if (cap == s->cap)
		return 0;
	p = realloc(s->p, cap);
	if (!p)
		return -ENOMEM;
	s->p = p;
	s->cap = cap;
	return 0;
}

ssize_t vdev_stream_read(struct vdev_stream *s, int fd, size_t max)
{
	ssize_t n;
	int ret;

	ret = vdev_stream_room(s, max);
	if (ret)
		return ret;
	do
		n = read(fd, s->p + s->len, max);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	s->len += n;
	return n;
}

int vdev_stream_read_all(struct vdev_stream *s, int fd)
{
	ssize_t n;

	do
		n = vdev_stream_read(s, fd, 1 << 16);
	while (n > 0);
	return n;
}

int vdev_save_stopped(struct vdev *d, struct vdev_stream *s)
{
	int ret, fd;

	ret = vdev_set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
	ret = ret ?: vdev_set_state(d, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	if (ret)
		return ret;
	if (fd < 0)
		return -EBADF;
	ret = vdev_stream_read_all(s, fd);
	close(fd);
	return ret ?: vdev_set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
}

/* --------------------------------------------------------------- guest */

unsigned int guest_timeout_ms = GUEST_TIMEOUT_MS;

__printf(3, 4)
static int fail(struct guest *g, int err, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(g->why, sizeof(g->why), fmt, args);
	va_end(args);
	return err;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t nregs_of(const struct ctxmig_model *m)
{
	return (m->mmio_size - CTXMIG_CTL_SIZE) / 4;
}

/*
 * Which dwords of the register file does the model's register code touch?
 * Fill the scratch file with a pattern, let reset(), ring_set(),
 * set_head() and set_pt_root() write it, and see what changed; twice with
 * other patterns so that a value equal to the pattern is not missed.  The
 * ring tail's registers are those a tail-only change of the ring changes.
 */
static int probe_regs(struct guest *g)
{
	static const u32 fills[] = { 0xa5a5a5a5, 0x5a5a5a5a, 0 };
	const struct ctxmig_model *m = g->model;
	struct ctxmig_gpu *s = g->shadow;
	u32 nd = nregs_of(m), i, f;
	u8 *used = calloc(nd, 1), *tail = calloc(nd, 1);
	u32 *save = malloc(m->mmio_size), *before = malloc(m->mmio_size);
	int ret = -ENOMEM;

	if (!used || !tail || !save || !before)
		goto out;
	memcpy(save, s->mmio, m->mmio_size);
	for (f = 0; f < ARRAY_SIZE(fills); f++) {
		struct ctxmig_ring r = {
			.base = (0x5a5a5a5000ULL + f * 0x10000) &
				~((u64)m->ring_align - 1),
			.size = f ? m->ring_min : m->ring_max,
			.flags = CTXMIG_RING_ENABLED,
		};

		r.head = r.size - m->ring_slot;
		r.tail = m->ring_slot * 3;
		for (i = 0; i < nd; i++)
			s->mmio[i] = fills[f];
		m->reset(s);
		if (m->ring_set(s, 0, &r)) {
			ret = -EINVAL;
			goto out;
		}
		m->set_head(s, 0, m->ring_slot * 2);
		m->set_pt_root(s, 0x3a5000ULL << f);
		for (i = 0; i < nd; i++)
			if (s->mmio[i] != fills[f])
				used[i] = 1;
		memcpy(before, s->mmio, m->mmio_size);
		r.head = m->ring_slot * 2;
		r.tail = m->ring_slot * 7;
		m->ring_set(s, 0, &r);
		for (i = 0; i < nd; i++)
			if (s->mmio[i] != before[i])
				tail[i] = 1;
		for (i = 0; i < nd; i++)
			used[i] |= tail[i];
	}
	memcpy(s->mmio, save, m->mmio_size);

	free(g->regs);
	free(g->tail_regs);
	g->nregs = 0;
	g->ntail_regs = 0;
	g->regs = calloc(nd, sizeof(u32));
	g->tail_regs = calloc(nd, sizeof(u32));
	if (!g->regs || !g->tail_regs)
		goto out;
	for (i = 0; i < nd; i++) {
		if (used[i])
			g->regs[g->nregs++] = i * 4;
		if (tail[i])
			g->tail_regs[g->ntail_regs++] = i * 4;
	}
	ret = g->ntail_regs ? 0 : -EINVAL;
out:
	free(used);
	free(tail);
	free(save);
	free(before);
	return ret;
}

/* Re-read the registers in use from the device into the shadow. */
static void sync_regs(struct guest *g)
{
	u32 i;

	for (i = 0; i < g->nregs; i++) {
		u32 off = g->regs[i];
		u32 v = vdev_rd32(g->dev, off);

		g->shadow->mmio[off / 4] = v;
		g->last[off / 4] = v;
	}
}

static bool is_tail_reg(const struct guest *g, u32 off)
{
	u32 i;

	for (i = 0; i < g->ntail_regs; i++)
		if (g->tail_regs[i] == off)
			return true;
	return false;
}

/* Write the registers the shadow changed; the ring tail last. */
static int push_regs(struct guest *g)
{
	unsigned int pass;
	u32 i;
	int ret;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < g->nregs; i++) {
			u32 off = g->regs[i];
			u32 v = g->shadow->mmio[off / 4];

			if (v == g->last[off / 4] ||
			    is_tail_reg(g, off) != pass)
				continue;
			ret = vdev_wr32(g->dev, off, v);
			if (ret)
				return fail(g, ret, "BAR0 write at 0x%x: %d",
					    off, ret);
			g->last[off / 4] = v;
		}
	return 0;
}

/* Write the shadow's VRAM pages written since the last push to BAR2. */
static int push_vram(struct guest *g)
{
	const void *page;
	u64 pfn;
	int ret;

	for (pfn = 0; (page = ctxmig_vram_next(&g->shadow->vram, &pfn, true));
	     pfn++) {
		ret = vdev_vram_write(g->dev, pfn << CTXMIG_VRAM_PAGE_SHIFT,
				      page, CTXMIG_VRAM_PAGE_SIZE);
		if (ret)
			return fail(g, ret, "BAR2 write at 0x%llx: %d",
				    (unsigned long long)pfn << 12, ret);
		ctxmig_vram_clean(&g->shadow->vram, pfn);
	}
	return 0;
}

static void shadow_free(struct guest *g)
{
	if (g->shadow) {
		ctxmig_gpu_fini(g->shadow);
		free(g->shadow);
	}
	g->shadow = NULL;
	free(g->last);
	g->last = NULL;
	free(g->regs);
	g->regs = NULL;
	free(g->tail_regs);
	g->tail_regs = NULL;
	g->nregs = 0;
	g->ntail_regs = 0;
}

/*
 * A fresh shadow of the model the device's control page names.  The spec,
 * "Control page": MAGIC first, then a VERSION of a major this guest knows
 * ("Versioning"), the MODEL, VA_BITS and GUEST_VRAM, which must hold the
 * guest's layout ("VRAM and the reserved area").
 */
static int shadow_new(struct guest *g)
{
	u32 magic = vdev_ctl(g->dev, CTXMIG_CTL_MAGIC);
	u32 version = vdev_ctl(g->dev, CTXMIG_CTL_VERSION);
	u32 id = vdev_ctl(g->dev, CTXMIG_CTL_MODEL);
	u32 va_bits = vdev_ctl(g->dev, CTXMIG_CTL_VA_BITS);
	u64 guest_vram = vdev_ctl(g->dev, CTXMIG_CTL_GUEST_VRAM_LO) |
			 (u64)vdev_ctl(g->dev, CTXMIG_CTL_GUEST_VRAM_HI) << 32;
	const struct ctxmig_model *m;
	int ret;

	shadow_free(g);
	if (magic != CTXMIG_CTL_MAGIC_VALUE)
		return fail(g, -ENODEV, "control page magic 0x%x", magic);
	if (version >> 16 != CTXMIG_CTL_VERSION_MAJOR)
		return fail(g, -ENODEV, "control page version 0x%x", version);
	if (guest_vram < GUEST_DATA_VRAM + GUEST_DATA_SIZE ||
	    guest_vram > g->dev->bar2_size)
		return fail(g, -ENOSPC, "%llu bytes of guest VRAM",
			    (unsigned long long)guest_vram);
	g->version = version;
	g->guest_vram = guest_vram;
	m = ctxmig_model_find(id);
	if (!m)
		return fail(g, -ENODEV, "control page names model %u", id);
	if (m->mmio_size != g->dev->bar0_size)
		return fail(g, -EINVAL, "BAR0 is %llu bytes, %s has %u",
			    (unsigned long long)g->dev->bar0_size, m->name,
			    m->mmio_size);
	g->model = m;
	g->shadow = calloc(1, sizeof(*g->shadow));
	g->last = calloc(1, m->mmio_size);
	if (!g->shadow || !g->last)
		return fail(g, -ENOMEM, "out of memory");
	ret = ctxmig_gpu_init(g->shadow, m, g->dev->bar2_size);
	if (ret) {
		free(g->shadow);
		g->shadow = NULL;
		return fail(g, ret, "shadow %s of %llu bytes: %d", m->name,
			    (unsigned long long)g->dev->bar2_size, ret);
	}
	g->shadow->vram.track_dirty = true;
	ret = ctxmig_gpu_set_va_bits(g->shadow, va_bits);
	if (ret)
		return fail(g, ret, "VA_BITS %u for %s", va_bits, m->name);
	ret = probe_regs(g);
	if (ret)
		return fail(g, ret, "probing %s's registers: %d", m->name, ret);
	sync_regs(g);
	return 0;
}

int guest_init(struct guest *g, struct vdev *dev)
{
	struct ctxmig_ring ring;
	int ret;

	memset(g, 0, sizeof(*g));
	g->dev = dev;
	g->pt_next = GUEST_PT_BASE;
	g->buf_next = GUEST_BUF_VA;
	/* The spec, "How the guest learns of it": the count it compares. */
	g->migrated = vdev_ctl(dev, CTXMIG_CTL_MIGRATED);
	ret = shadow_new(g);
	if (ret)
		return ret;
	g->model->ring_get(g->shadow, 0, &ring);
	g->tail_sent = ring.tail;
	return 0;
}

void guest_fini(struct guest *g)
{
	shadow_free(g);
}

const char *guest_model_name(const struct guest *g)
{
	return g->model ? g->model->name : "?";
}

static u64 guest_pt_alloc(void *priv, u32 bytes)
{
	struct guest *g = priv;
	u64 at = g->pt_next;

	if (at + CTXMIG_VRAM_PAGE_SIZE > GUEST_PT_END)
		return U64_MAX;
	g->pt_next += CTXMIG_VRAM_PAGE_SIZE;
	return at;
}

/*
 * Map into the shadow's tables, and remember it for guest_remap(): the
 * first GUEST_MAPS_MAX mappings (a guest with more cannot remap).
 */
static int guest_pt_map(struct guest *g, const struct ctxmig_mapping *map)
{
	int ret = ctxmig_pt_map(g->shadow, map, guest_pt_alloc, g);

	if (ret)
		return ret;
	if (g->nmaps == GUEST_MAPS_MAX) {
		g->maps_dropped = true;
		return 0;
	}
	g->maps[g->nmaps++] = (struct guest_map){
		.va = map->va, .size = map->size, .addr = map->addr,
		.flags = map->flags,
	};
	return 0;
}

int guest_setup(struct guest *g)
{
	const struct ctxmig_mapping maps[] = {
		{ .va = GUEST_CMD_VA, .size = GUEST_CMD_SIZE,
		  .addr = GUEST_CMD_VRAM, .page_shift = 12,
		  .flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE },
		{ .va = GUEST_DATA_VA, .size = GUEST_DATA_SIZE,
		  .addr = GUEST_DATA_VRAM, .page_shift = 12,
		  .flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE },
		/* Last: the alias a real driver's guest keeps pushbuffers in. */
		{ .va = GUEST_CMD_VA_HI, .size = GUEST_CMD_SIZE,
		  .addr = GUEST_CMD_VRAM, .page_shift = 12,
		  .flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE },
	};
	struct ctxmig_ring ring = {
		.base = GUEST_CMD_VA, .size = GUEST_RING_SIZE,
		.flags = CTXMIG_RING_ENABLED,
	};
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(maps) - !g->real; i++) {
		ret = guest_pt_map(g, &maps[i]);
		if (ret)
			return fail(g, ret, "%s: mapping 0x%llx: %d",
				    g->model->name,
				    (unsigned long long)maps[i].va, ret);
	}
	/*
	 * The ring starts empty, at the reset read pointer; set while empty
	 * (the spec, "The engine").
	 */
	g->tail_sent = 0;
	ret = g->model->ring_set(g->shadow, 0, &ring);
	if (ret)
		return fail(g, ret, "%s: ring_set: %d", g->model->name, ret);
	ret = push_vram(g);
	return ret ?: push_regs(g);
}

int guest_map_sysmem(struct guest *g, uint64_t va, uint64_t iova,
		     uint64_t size)
{
	const struct ctxmig_mapping map = {
		.va = va, .size = size, .addr = iova, .page_shift = 12,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE |
			 CTXMIG_MAP_SYSMEM | CTXMIG_MAP_SNOOP,
	};
	int ret;

	ret = guest_pt_map(g, &map);
	if (ret)
		return fail(g, ret, "%s: mapping system 0x%llx at 0x%llx: %d",
			    g->model->name, (unsigned long long)iova,
			    (unsigned long long)va, ret);
	ret = push_vram(g);
	return ret ?: push_regs(g);
}

uint64_t guest_va_to_vram(const struct guest *g, uint64_t va)
{
	const struct ctxmig_gpu *s = g->shadow;

	if (va >= GUEST_CMD_VA && va - GUEST_CMD_VA < GUEST_CMD_SIZE)
		return GUEST_CMD_VRAM + (va - GUEST_CMD_VA);
	if (va >= GUEST_DATA_VA && va - GUEST_DATA_VA < GUEST_DATA_SIZE)
		return GUEST_DATA_VRAM + (va - GUEST_DATA_VA);
	if (s && va >= s->window_va && !(va >> g->model->va_bits))
		return s->guest_size + (va - s->window_va);
	return UINT64_MAX;
}

/* Write @len bytes at GPU VA @va, through the guest's own mappings. */
static int write_va(struct guest *g, u64 va, const void *buf, u32 len)
{
	u64 first = guest_va_to_vram(g, va);
	u64 last = len ? guest_va_to_vram(g, va + len - 1) : first;

	if (first == U64_MAX || last != first + len - 1)
		return fail(g, -EFAULT, "VA 0x%llx+%u is not mapped linearly",
			    (unsigned long long)va, len);
	return vdev_vram_write(g->dev, first, buf, len);
}

/*
 * Wait for room in the ring.  @fresh: read the head from the device; else
 * use the ring as the guest last saw it (a submission under way does not
 * look again).
 */
static int ring_space_wait(struct guest *g, u32 len, struct ctxmig_ring *ring,
			   bool fresh)
{
	u64 deadline = now_ms() + guest_timeout_ms;

	for (;;) {
		if (fresh)
			sync_regs(g);
		g->model->ring_get(g->shadow, 0, ring);
		if (!(ring->flags & CTXMIG_RING_ENABLED))
			return fail(g, -EINVAL, "%s: ring disabled",
				    g->model->name);
		if (len >= ring->size)
			return fail(g, -E2BIG, "%u bytes for a %u-byte ring",
				    len, ring->size);
		if (((ring->head - ring->tail - 1) & (ring->size - 1)) >= len)
			return 0;
		if (!fresh)
			return fail(g, -ENOSPC, "%s: no room for %u bytes",
				    g->model->name, len);
		if (vdev_ctl(g->dev, CTXMIG_CTL_ENG_STATUS) == CTXMIG_ENG_ERROR)
			return fail(g, -EIO, "%s: engine error %u while waiting for ring space",
				    g->model->name,
				    vdev_ctl(g->dev, CTXMIG_CTL_ENG_ERROR));
		if (now_ms() > deadline)
			return fail(g, -ETIMEDOUT, "%s: ring full (head 0x%x tail 0x%x)",
				    g->model->name, ring->head, ring->tail);
		usleep(500);
	}
}

/*
 * Append whole commands to the ring and, with @doorbell, move the tail:
 * one tail write, the commands padded to 8 bytes with no-ops so that a
 * recovery can tell whether it reached the device (the spec, "Recovery,
 * step by step", 4).  @bytes has room for 8 more.
 */
static int ring_append(struct guest *g, u8 *bytes, u32 len, bool doorbell,
		       bool fresh)
{
	const struct ctxmig_cmd nop = { .op = CTXMIG_OP_NOP };
	struct ctxmig_ring ring;
	u32 first;
	int ret;

	if (!len)
		return 0;
	while (len % 8) {
		ret = g->model->encode(g->shadow, &nop, bytes + len, 8);
		if (ret <= 0)
			return fail(g, ret ?: -EINVAL, "%s: padding: %d",
				    g->model->name, ret);
		len += ret;
	}
	ret = ring_space_wait(g, len, &ring, fresh);
	if (ret)
		return ret;
	first = min(len, ring.size - ring.tail);
	ret = write_va(g, ring.base + ring.tail, bytes, first);
	if (!ret && len > first)
		ret = write_va(g, ring.base, bytes + first, len - first);
	if (ret)
		return ret;
	ring.tail = (ring.tail + len) & (ring.size - 1);
	ret = g->model->ring_set(g->shadow, 0, &ring);
	if (ret)
		return fail(g, ret, "%s: ring_set: %d", g->model->name, ret);
	/* Where it will be once written: its VM may stop just before. */
	g->tail_sent = ring.tail;
	return doorbell ? push_regs(g) : 0;
}

static void to_cmd(const struct guest_cmd *gc, u8 level, struct ctxmig_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->op = gc->op;
	c->flags = gc->flags;
	c->dst = gc->dst;
	c->src = gc->src;
	c->value = gc->value;
	c->level = level;
}

/* Words of the real driver's into @buf, or -ENOSPC. */
static int put_words(const struct vec_ring *r, u8 *buf, u32 room)
{
	if (r->overflow)
		return -E2BIG;
	if (r->n * 4 > room)
		return -ENOSPC;
	vec_bytes(r, buf);
	return r->n * 4;
}

/*
 * One command: what its model's real driver writes (guest.real) where it
 * has a sequence for it, else the model's encoding.  Returns bytes.
 */
static int enc_cmd(struct guest *g, const struct ctxmig_cmd *cmd, u8 *buf,
		   u32 room)
{
	if (g->real) {
		u32 dw[64];
		struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };
		u8 chan = g->chan;
		int ret;

		if (vec_driver_cmd(&r, g->model->id, cmd, &chan)) {
			ret = put_words(&r, buf, room);
			if (ret >= 0)
				g->chan = chan;
			return ret;
		}
	}
	return g->model->encode(g->shadow, cmd, buf, room);
}

/* What a real driver writes at a buffer's start; returns bytes. */
static int enc_buf_start(struct guest *g, u8 *buf, u32 room)
{
	u32 dw[8];
	struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };

	if (g->real)
		vec_driver_push_start(&r, g->model->id);
	return put_words(&r, buf, room);
}

/* Put @len encoded bytes in a new indirect buffer; queue its IB command. */
static int flush_ib(struct guest *g, const u8 *buf, u32 len, u8 *ring,
		    u32 *rlen, u32 rcap)
{
	struct ctxmig_cmd ib = { .op = CTXMIG_OP_IB };
	u64 va = g->buf_next;
	u8 end[CTXMIG_CMD_MAX_BYTES];
	int ret, n;

	if (!len)
		return 0;
	/* What ends the buffer where the model needs it (Intel's BBE). */
	n = ctxmig_gpu_encode_end(g->shadow, end, sizeof(end));
	if (n < 0)
		return fail(g, n, "%s: ending an IB: %d", g->model->name, n);
	if (va + len + n > GUEST_CMD_VA + GUEST_CMD_SIZE)
		return fail(g, -ENOSPC, "out of indirect buffer space");
	ret = write_va(g, va, buf, len);
	if (!ret && n)
		ret = write_va(g, va + len, end, n);
	if (ret)
		return ret;
	len += n;
	g->buf_next += ALIGN(len, 256);
	ib.src = va;
	ib.value = len;
	if (g->real) {
		u32 dw[8];
		struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };

		/* A Hopper guest's pushbuffers are in the alias (UVM). */
		if (g->model->id == CTXMIG_MODEL_NV_HOPPER)
			ib.src += GUEST_CMD_VA_HI - GUEST_CMD_VA;
		vec_driver_ib(&r, g->model->id, ib.src, len, &g->chan);
		ret = put_words(&r, ring + *rlen, rcap - *rlen);
	} else {
		ret = g->model->encode(g->shadow, &ib, ring + *rlen,
				       rcap - *rlen);
	}
	if (ret < 0)
		return fail(g, ret, "%s: encoding an IB: %d", g->model->name,
			    ret);
	*rlen += ret;
	return 0;
}

/* Ring bytes are appended in pieces of at most this many bytes. */
#define RING_CHUNK	1024U
#define IB_MAX		4096U

/* @fresh: read the ring from the device, as a new submission does. */
static int submit(struct guest *g, const struct guest_cmd *c, unsigned int n,
		  bool ib, bool doorbell, bool fresh)
{
	const struct ctxmig_model *m = g->model;
	/* Room for a chunk, a command beyond it, and 8 bytes of padding. */
	u8 ring[RING_CHUNK + CTXMIG_CMD_MAX_BYTES + 8];
	const u32 rcap = sizeof(ring) - 8;
	u8 buf[IB_MAX];
	u32 rlen = 0, blen = 0;
	unsigned int i;
	int ret;

	ib = ib || m->ring_ib_only;
	if (g->real) {
		/* amdgpu's VM flush, of the page tables the registers name. */
		u32 dw[32];
		struct vec_ring r = { .dw = dw, .room = ARRAY_SIZE(dw) };
		u64 pd = 0;

		if (m->id == CTXMIG_MODEL_AMD_GFX9 ||
		    m->id == CTXMIG_MODEL_AMD_GFX12) {
			const struct vec_amdgpu_vmhub *hub =
				m->id == CTXMIG_MODEL_AMD_GFX12 ?
				&vec_gfxhub_v12_0 : &vec_gfxhub_v1_0;

			sync_regs(g);
			pd = (u64)*ctxmig_reg(g->shadow,
					      hub->ctx0_ptb_addr_hi32 * 4) << 32 |
			     *ctxmig_reg(g->shadow, hub->ctx0_ptb_addr_lo32 * 4);
		}
		vec_driver_job_start(&r, m->id, pd);
		ret = put_words(&r, ring, rcap);
		if (ret < 0)
			return fail(g, ret, "%s: job start: %d", m->name, ret);
		rlen = ret;
	}
	for (i = 0; i < n; i++) {
		struct ctxmig_cmd cmd;

		to_cmd(&c[i], ib ? 1 : 0, &cmd);
		if (ib) {
			if (!blen) {
				ret = enc_buf_start(g, buf, sizeof(buf));
				if (ret < 0)
					return fail(g, ret, "buffer start");
				blen = ret;
			}
			ret = enc_cmd(g, &cmd, buf + blen, sizeof(buf) - blen);
			if (ret == -ENOSPC && blen) {
				ret = flush_ib(g, buf, blen, ring, &rlen,
					       rcap);
				blen = 0;
				if (!ret)
					ret = enc_buf_start(g, buf,
							    sizeof(buf));
				if (ret >= 0) {
					blen = ret;
					ret = enc_cmd(g, &cmd, buf + blen,
						      sizeof(buf) - blen);
				}
			}
			if (ret < 0)
				return fail(g, ret, "%s: encoding op %u: %d",
					    m->name, cmd.op, ret);
			blen += ret;
		} else {
			ret = enc_cmd(g, &cmd, ring + rlen, rcap - rlen);
			if (ret < 0)
				return fail(g, ret, "%s: encoding op %u: %d",
					    m->name, cmd.op, ret);
			rlen += ret;
		}
		if (rlen >= RING_CHUNK) {
			ret = ring_append(g, ring, rlen, true, fresh);
			if (ret)
				return ret;
			rlen = 0;
		}
	}
	ret = flush_ib(g, buf, blen, ring, &rlen, rcap);
	return ret ?: ring_append(g, ring, rlen, doorbell, fresh);
}

int guest_submit_raced(struct guest *g, const struct guest_cmd *c,
		       unsigned int n, bool ib, bool doorbell)
{
	return submit(g, c, n, ib, doorbell, false);
}

/*
 * The spec, "How the guest learns of it": a guest that does not take the
 * interrupt compares the count before each submission.
 */
int guest_submit(struct guest *g, const struct guest_cmd *c, unsigned int n,
		 bool ib)
{
	if (vdev_ctl(g->dev, CTXMIG_CTL_MIGRATED) != g->migrated) {
		int ret = guest_recover(g);

		if (ret)
			return ret;
	}
	return submit(g, c, n, ib, true, true);
}

uint64_t guest_fence(struct guest *g)
{
	u32 hi, lo;

	do {
		hi = vdev_ctl(g->dev, CTXMIG_CTL_FENCE_HI);
		lo = vdev_ctl(g->dev, CTXMIG_CTL_FENCE_LO);
	} while (hi != vdev_ctl(g->dev, CTXMIG_CTL_FENCE_HI));
	return (u64)hi << 32 | lo;
}

static int engine_error(struct guest *g)
{
	u64 va = (u64)vdev_ctl(g->dev, CTXMIG_CTL_FAULT_VA_HI) << 32 |
		 vdev_ctl(g->dev, CTXMIG_CTL_FAULT_VA_LO);

	return fail(g, -EIO, "%s: engine error %u, fault VA 0x%llx",
		    g->model->name, vdev_ctl(g->dev, CTXMIG_CTL_ENG_ERROR),
		    (unsigned long long)va);
}

int guest_wait_fence(struct guest *g, uint64_t seq)
{
	u64 deadline = now_ms() + guest_timeout_ms;

	for (;;) {
		u32 st = vdev_ctl(g->dev, CTXMIG_CTL_ENG_STATUS);

		if (st == CTXMIG_ENG_ERROR)
			return engine_error(g);
		if (guest_fence(g) >= seq)
			return 0;
		if (now_ms() > deadline)
			return fail(g, -ETIMEDOUT,
				    "%s: fence %llu after %u ms, waiting for %llu (status %u)",
				    g->model->name,
				    (unsigned long long)guest_fence(g),
				    guest_timeout_ms, (unsigned long long)seq,
				    st);
		usleep(200);
	}
}

int guest_wait_idle(struct guest *g)
{
	u64 deadline = now_ms() + guest_timeout_ms;

	for (;;) {
		struct ctxmig_ring ring;
		u32 st;

		/*
		 * The ring first, the status after: a status read before an
		 * engine that then takes the last command and faults would
		 * say IDLE next to an empty ring.
		 */
		sync_regs(g);
		g->model->ring_get(g->shadow, 0, &ring);
		st = vdev_ctl(g->dev, CTXMIG_CTL_ENG_STATUS);
		if (st == CTXMIG_ENG_ERROR)
			return engine_error(g);
		if (st == CTXMIG_ENG_IDLE && ring.head == ring.tail)
			return 0;
		if (now_ms() > deadline)
			return fail(g, -ETIMEDOUT,
				    "%s: not idle after %u ms (status %u head 0x%x tail 0x%x)",
				    g->model->name, guest_timeout_ms, st,
				    ring.head, ring.tail);
		usleep(200);
	}
}

/* The spec, "Post-migration recovery", "Recovery, step by step". */
int guest_recover(struct guest *g)
{
	const struct ctxmig_model *was = g->model;
	struct ctxmig_ring ring;
	u32 sent;
	int ret;

	/* 1: the control page again, the interrupt acknowledged. */
	g->migrated = vdev_ctl(g->dev, CTXMIG_CTL_MIGRATED);
	ret = vdev_ctl_wr(g->dev, CTXMIG_CTL_IRQ_STATUS, CTXMIG_IRQ_MIGRATED);
	if (ret)
		return fail(g, ret, "acknowledging MIGRATED: %d", ret);
	/* 2: the new model's registers and formats, nothing kept. */
	ret = shadow_new(g);
	if (ret)
		return ret;
	/* The channel's state came along, unless the model changed. */
	if (g->model != was)
		g->chan = 0;
	/* 3: head and tail read again (shadow_new() synced the registers). */
	g->model->ring_get(g->shadow, 0, &ring);
	/* 4: did the last tail write reach the device before it went? */
	sent = ALIGN(g->tail_sent, g->model->ring_slot) & (ring.size - 1);
	g->lost = ring.tail != sent;
	g->tail_sent = ring.tail;
	return 0;
}

/*
 * The spec, "Recovery, step by step", 7: tables of the guest's own in the
 * new format, its PT heap reused (the old tables mean nothing now), and
 * the root register last.  The engine must have finished what was
 * pending at the migration: it runs from the restore's window.
 */
int guest_remap(struct guest *g)
{
	static const u8 zero_page[CTXMIG_VRAM_PAGE_SIZE];
	struct guest_map maps[GUEST_MAPS_MAX];
	unsigned int i, n = g->nmaps;
	u64 root;
	int ret;

	if (g->maps_dropped)
		return fail(g, -E2BIG, "more than %u mappings to build again",
			    GUEST_MAPS_MAX);
	ret = guest_wait_idle(g);
	if (ret)
		return ret;
	memcpy(maps, g->maps, sizeof(maps));
	ret = shadow_new(g);
	if (ret)
		return ret;
	g->nmaps = 0;
	g->pt_next = GUEST_PT_BASE;
	root = guest_pt_alloc(g, CTXMIG_VRAM_PAGE_SIZE);
	/* Written whole to the device, whatever the page held there. */
	ret = ctxmig_vram_write(&g->shadow->vram, root, zero_page,
				CTXMIG_VRAM_PAGE_SIZE);
	if (ret)
		return fail(g, ret, "root table: %d", ret);
	g->model->set_pt_root(g->shadow, root);
	for (i = 0; i < n; i++) {
		const struct ctxmig_mapping map = {
			.va = maps[i].va, .size = maps[i].size,
			.addr = maps[i].addr, .flags = maps[i].flags,
			.page_shift = 12,
		};

		ret = guest_pt_map(g, &map);
		if (ret)
			return fail(g, ret, "%s: mapping 0x%llx again: %d",
				    g->model->name,
				    (unsigned long long)map.va, ret);
	}
	ret = push_vram(g);
	return ret ?: push_regs(g);
}

int guest_fork(struct guest *to, const struct guest *from, struct vdev *dev)
{
	*to = *from;
	to->dev = dev;
	/* The shadow and register lists are @from's: make new ones. */
	to->shadow = NULL;
	to->last = NULL;
	to->regs = NULL;
	to->tail_regs = NULL;
	to->nregs = 0;
	to->ntail_regs = 0;
	to->why[0] = '\0';
	return guest_recover(to);
}

uint64_t guest_pt_root(const struct guest *g)
{
	return g->shadow ? g->model->pt_root(g->shadow) : UINT64_MAX;
}

int guest_map_vram(struct guest *g, uint64_t va, uint64_t vram,
		   uint64_t size)
{
	const struct ctxmig_mapping map = {
		.va = va, .size = size, .addr = vram, .page_shift = 12,
		.flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE,
	};
	int ret;

	ret = guest_pt_map(g, &map);
	if (ret)
		return fail(g, ret, "%s: mapping VRAM 0x%llx at 0x%llx: %d",
			    g->model->name, (unsigned long long)vram,
			    (unsigned long long)va, ret);
	ret = push_vram(g);
	return ret ?: push_regs(g);
}
