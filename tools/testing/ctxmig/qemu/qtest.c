// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig qemu tier: the guest's CPU over QEMU's qtest protocol; see
 * qtest.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qtest.h"

/* Bytes per b64read/b64write command. */
#define QTEST_CHUNK	(32 * 1024)

#define PCI_CFG_ADDR	0xcf8
#define PCI_CFG_DATA	0xcfc
#define PCI_COMMAND	0x04
#define PCI_BAR0	0x10
#define PCI_BAR2	0x18
#define PCI_BAR3	0x1c
#define PCI_CMD_MEMORY	0x2
#define PCI_CMD_MASTER	0x4
#define PCI_BAR_FLAGS	0xfULL
/* ctxmig's vendor and device ID range, as the driver sets them. */
#define CTXMIG_VENDOR	0x1af4
#define CTXMIG_DEV_MIN	0x10f0
#define CTXMIG_DEV_MAX	0x10ff

int qtest_open(struct qtest *q, const char *addr, int timeout_ms)
{
	int ret;

	memset(q, 0, sizeof(*q));
	ret = sock_connect(&q->s, addr, timeout_ms);
	if (ret)
		snprintf(q->why, sizeof(q->why), "connecting to %s: %s", addr,
			 strerror(-ret));
	return ret;
}

void qtest_close(struct qtest *q)
{
	sock_close(&q->s);
}

int qtest_cmd(struct qtest *q, const char **reply, const char *fmt, ...)
{
	va_list ap;
	char *line;
	int ret;

	va_start(ap, fmt);
	ret = sock_vprintf(&q->s, fmt, ap);
	va_end(ap);
	if (ret) {
		snprintf(q->why, sizeof(q->why), "qtest send: %s",
			 strerror(-ret));
		return ret;
	}
	/* Asynchronous "IRQ ..." lines come only after irq_intercept_*. */
	do {
		line = sock_getline(&q->s);
	} while (line && !strncmp(line, "IRQ ", 4));
	if (!line) {
		ret = errno ? -errno : -ECONNRESET;
		snprintf(q->why, sizeof(q->why), "qtest: no answer: %s",
			 strerror(-ret));
		return ret;
	}
	if (strncmp(line, "OK", 2)) {
		snprintf(q->why, sizeof(q->why), "qtest: %.150s", line);
		return -EIO;
	}
	if (reply)
		*reply = line[2] == ' ' ? line + 3 : line + 2;
	return 0;
}

static const char *const io_suffix[] = { [1] = "b", [2] = "w", [4] = "l" };

/* The number an answer "OK <number>" carries. */
static int reply_num(struct qtest *q, int ret, const char *r, uint32_t *val)
{
	char *end;

	if (ret)
		return ret;
	*val = strtoull(r, &end, 0);
	if (end == r) {
		snprintf(q->why, sizeof(q->why), "qtest: not a number: %.60s",
			 r);
		return -EPROTO;
	}
	return 0;
}

int qtest_in(struct qtest *q, uint16_t port, unsigned int size,
	     uint32_t *val)
{
	const char *r = NULL;
	int ret;

	ret = qtest_cmd(q, &r, "in%s 0x%x\n", io_suffix[size], port);
	return reply_num(q, ret, r, val);
}

int qtest_out(struct qtest *q, uint16_t port, uint32_t val, unsigned int size)
{
	return qtest_cmd(q, NULL, "out%s 0x%x 0x%x\n", io_suffix[size], port,
			 val);
}

int qtest_readl(struct qtest *q, uint64_t addr, uint32_t *val)
{
	const char *r = NULL;
	int ret;

	ret = qtest_cmd(q, &r, "readl 0x%llx\n", (unsigned long long)addr);
	return reply_num(q, ret, r, val);
}

int qtest_writel(struct qtest *q, uint64_t addr, uint32_t val)
{
	return qtest_cmd(q, NULL, "writel 0x%llx 0x%x\n",
			 (unsigned long long)addr, val);
}

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];

		*out++ = b64[v >> 18];
		*out++ = b64[v >> 12 & 63];
		*out++ = b64[v >> 6 & 63];
		*out++ = b64[v & 63];
	}
	if (i < len) {
		uint32_t v = in[i] << 16 | (i + 1 < len ? in[i + 1] << 8 : 0);

		*out++ = b64[v >> 18];
		*out++ = b64[v >> 12 & 63];
		*out++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

/* Decode exactly @len bytes; -EPROTO when @in does not hold them. */
static int b64_decode(const char *in, uint8_t *out, size_t len)
{
	uint32_t v = 0;
	size_t n = 0;
	int bits = 0;

	for (; *in && *in != '=' && n < len; in++) {
		const char *c = strchr(b64, *in);

		if (!c)
			return -EPROTO;
		v = v << 6 | (uint32_t)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = v >> bits;
		}
	}
	return n == len ? 0 : -EPROTO;
}

int qtest_memread(struct qtest *q, uint64_t addr, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		size_t n = len < QTEST_CHUNK ? len : QTEST_CHUNK;
		const char *r;
		int ret;

		ret = qtest_cmd(q, &r, "b64read 0x%llx 0x%zx\n",
				(unsigned long long)addr, n);
		if (!ret && b64_decode(r, p, n)) {
			snprintf(q->why, sizeof(q->why),
				 "qtest: b64read of %zu bytes: %.60s", n, r);
			ret = -EPROTO;
		}
		if (ret)
			return ret;
		p += n;
		addr += n;
		len -= n;
	}
	return 0;
}

int qtest_memwrite(struct qtest *q, uint64_t addr, const void *buf,
		   size_t len)
{
	const uint8_t *p = buf;
	char *enc = malloc(QTEST_CHUNK / 3 * 4 + 8);
	int ret = 0;

	if (!enc)
		return -ENOMEM;
	while (len && !ret) {
		size_t n = len < QTEST_CHUNK ? len : QTEST_CHUNK;

		b64_encode(p, n, enc);
		ret = qtest_cmd(q, NULL, "b64write 0x%llx 0x%zx %s\n",
				(unsigned long long)addr, n, enc);
		p += n;
		addr += n;
		len -= n;
	}
	free(enc);
	return ret;
}

/* ------------------------------------------------------------ transport */

static struct qvdev *to_qvdev(struct vdev *d)
{
	return d->priv;
}

/* Config cycles: the dword's address to 0xcf8, the bytes at 0xcfc + n. */
static int qvdev_cfg_rw(struct vdev *d, uint32_t off, void *buf, size_t len,
			bool write)
{
	struct qvdev *v = to_qvdev(d);
	uint32_t val = 0;
	int ret;

	if ((len != 1 && len != 2 && len != 4) || off % len || off >= 256)
		return -EINVAL;
	ret = qtest_out(v->q, PCI_CFG_ADDR, v->cfg | (off & 0xfc), 4);
	if (ret)
		return ret;
	if (write) {
		memcpy(&val, buf, len);
		return qtest_out(v->q, PCI_CFG_DATA + (off & 3), val, len);
	}
	ret = qtest_in(v->q, PCI_CFG_DATA + (off & 3), len, &val);
	memcpy(buf, &val, len);
	return ret;
}

static int qvdev_bar_rw(struct vdev *d, unsigned int bar, uint64_t off,
			void *buf, size_t len, bool write)
{
	struct qvdev *v = to_qvdev(d);
	uint32_t val;
	int ret;

	if (bar == 2)
		return write ? qtest_memwrite(v->q, v->bar2 + off, buf, len) :
			       qtest_memread(v->q, v->bar2 + off, buf, len);
	if (bar != 0 || len != 4 || off % 4)
		return -EINVAL;
	if (write) {
		memcpy(&val, buf, 4);
		return qtest_writel(v->q, v->bar0 + off, val);
	}
	ret = qtest_readl(v->q, v->bar0 + off, &val);
	memcpy(buf, &val, 4);
	return ret;
}

static int qvdev_sys_rw(struct vdev *d, uint64_t iova, void *buf, size_t len,
			bool write)
{
	struct qvdev *v = to_qvdev(d);

	return write ? qtest_memwrite(v->q, iova, buf, len) :
		       qtest_memread(v->q, iova, buf, len);
}

static const struct vdev_ops qvdev_ops = {
	.name = "qtest",
	.cfg_rw = qvdev_cfg_rw,
	.bar_rw = qvdev_bar_rw,
	.sys_rw = qvdev_sys_rw,
};

static uint32_t cfg_rd32(struct vdev *d, uint32_t off)
{
	uint32_t val = ~0U;

	vdev_cfg_read(d, off, &val, 4);
	return val;
}

static int cfg_wr32(struct vdev *d, uint32_t off, uint32_t val)
{
	return vdev_cfg_write(d, off, &val, 4);
}

/*
 * A BAR's size, found as a guest OS finds it: write all ones with
 * decoding off, read what sticks, put the address back.
 */
static uint64_t bar_size(struct vdev *d, uint32_t bar, bool is64)
{
	uint32_t lo = cfg_rd32(d, bar), hi = is64 ? cfg_rd32(d, bar + 4) : 0;
	uint64_t mask;

	cfg_wr32(d, bar, ~0U);
	if (is64)
		cfg_wr32(d, bar + 4, ~0U);
	mask = (uint64_t)(is64 ? cfg_rd32(d, bar + 4) : ~0U) << 32 |
	       (cfg_rd32(d, bar) & ~(uint32_t)PCI_BAR_FLAGS);
	cfg_wr32(d, bar, lo);
	if (is64)
		cfg_wr32(d, bar + 4, hi);
	return ~mask + 1;
}

static int qvdev_fail(struct qvdev *v, int err, const char *what)
{
	snprintf(v->q->why, sizeof(v->q->why), "%s", what);
	return err;
}

int qvdev_attach(struct qvdev *v, struct qtest *q, bool program)
{
	struct vdev *d = &v->dev;
	uint32_t slot, id = ~0U, cmd;
	uint16_t cmd16;

	memset(v, 0, sizeof(*v));
	vdev_init(d);
	d->ops = &qvdev_ops;
	d->priv = v;
	v->q = q;
	for (slot = 0; slot < 32; slot++) {
		v->cfg = 0x80000000U | slot << 11;
		id = cfg_rd32(d, 0);
		if ((id & 0xffff) == CTXMIG_VENDOR &&
		    id >> 16 >= CTXMIG_DEV_MIN && id >> 16 <= CTXMIG_DEV_MAX)
			break;
	}
	if (slot == 32)
		return qvdev_fail(v, -ENODEV, "no ctxmig device on bus 0");
	v->device_id = id >> 16;

	/* Decoding off while the BARs are sized. */
	cmd = cfg_rd32(d, PCI_COMMAND) & 0xffff;
	cmd16 = cmd & ~(PCI_CMD_MEMORY | PCI_CMD_MASTER);
	vdev_cfg_write(d, PCI_COMMAND, &cmd16, 2);
	d->bar0_size = bar_size(d, PCI_BAR0, false);
	d->bar2_size = bar_size(d, PCI_BAR2, true);
	if (program) {
		cfg_wr32(d, PCI_BAR0, (uint32_t)QVDEV_BAR0_GPA);
		cfg_wr32(d, PCI_BAR2, (uint32_t)QVDEV_BAR2_GPA);
		cfg_wr32(d, PCI_BAR3, QVDEV_BAR2_GPA >> 32);
	}
	v->bar0 = cfg_rd32(d, PCI_BAR0) & ~PCI_BAR_FLAGS;
	v->bar2 = ((uint64_t)cfg_rd32(d, PCI_BAR3) << 32 |
		   cfg_rd32(d, PCI_BAR2)) & ~PCI_BAR_FLAGS;
	if (!v->bar0 || !v->bar2)
		return qvdev_fail(v, -ENXIO, "BARs not assigned");
	if (d->bar0_size < 2 * GUEST_CTL_SIZE || d->bar0_size > 1 << 24 ||
	    d->bar2_size < (1 << 20))
		return qvdev_fail(v, -ENXIO, "BAR sizes out of range");
	if (program && (v->bar0 != QVDEV_BAR0_GPA || v->bar2 != QVDEV_BAR2_GPA))
		return qvdev_fail(v, -EIO, "BARs did not take their address");
	cmd16 = cmd | PCI_CMD_MEMORY | PCI_CMD_MASTER;
	if (vdev_cfg_write(d, PCI_COMMAND, &cmd16, 2))
		return qvdev_fail(v, -EIO, "command register write failed");
	d->ctl = d->bar0_size - GUEST_CTL_SIZE;
	snprintf(d->model, sizeof(d->model), "%s", "?");
	q->why[0] = '\0';
	return 0;
}
