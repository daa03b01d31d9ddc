/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig qemu tier: the guest's CPU over QEMU's qtest protocol
 * (docs/devel/qtest.rst in QEMU's source), and a guest library transport
 * (struct vdev_ops, see tools/testing/selftests/ctxmig/guest.h) on it.
 *
 * QEMU runs with "-qtest <chardev>" and the accelerator it has (Debian's
 * QEMU has no qtest accelerator: TCG here).  Each command is a line, each
 * answer a line starting "OK" or "FAIL".  The transport finds the ctxmig
 * device on bus 0 with config cycles through ports 0xcf8/0xcfc, sizes its
 * BARs and either programs them itself (the guest CPU never ran, -S) or
 * uses what the firmware assigned; MMIO goes to the BARs' guest physical
 * addresses, system memory is guest RAM at its bus address (there is no
 * vIOMMU: a bus address is a guest physical address).
 */
#ifndef _CTXMIG_QEMU_QTEST_H
#define _CTXMIG_QEMU_QTEST_H

#include <stdbool.h>
#include <stdint.h>

#include "guest.h"
#include "sock.h"

struct qtest {
	struct sock s;
	char why[160];		/* the last failure */
};

/* Connect to QEMU's qtest chardev at @addr (see sock_connect()). */
int qtest_open(struct qtest *q, const char *addr, int timeout_ms);
void qtest_close(struct qtest *q);
/*
 * Send a command; on "OK", 0 and *@reply (if not NULL) what follows "OK"
 * (valid until the next command); otherwise a negative errno and the
 * answer in @q->why.
 */
__printf(3, 4)
int qtest_cmd(struct qtest *q, const char **reply, const char *fmt, ...);
/* Port I/O of @size bytes (1, 2, 4). */
int qtest_in(struct qtest *q, uint16_t port, unsigned int size,
	     uint32_t *val);
int qtest_out(struct qtest *q, uint16_t port, uint32_t val,
	      unsigned int size);
/* A 32-bit access to guest physical address @addr. */
int qtest_readl(struct qtest *q, uint64_t addr, uint32_t *val);
int qtest_writel(struct qtest *q, uint64_t addr, uint32_t val);
/* @len bytes of guest physical memory (RAM or MMIO) at @addr. */
int qtest_memread(struct qtest *q, uint64_t addr, void *buf, size_t len);
int qtest_memwrite(struct qtest *q, uint64_t addr, const void *buf,
		   size_t len);

/* Where the transport puts the BARs when it programs them itself. */
#define QVDEV_BAR0_GPA	0xfe000000ULL
#define QVDEV_BAR2_GPA	0xe0000000ULL

/* A ctxmig device seen through qtest; @dev is what the guest library uses. */
struct qvdev {
	struct vdev dev;
	struct qtest *q;
	uint32_t cfg;		/* config address of function 0, enable bit set */
	uint16_t device_id;
	uint64_t bar0, bar2;	/* guest physical addresses */
};

/*
 * Find the ctxmig device on bus 0 behind @q, size its BARs and enable
 * memory decoding and bus mastering.  With @program the BARs get
 * QVDEV_BAR0_GPA and QVDEV_BAR2_GPA (the firmware did not run); without
 * it they must have been assigned already.  0 or a negative errno, the
 * reason in @q->why.
 */
int qvdev_attach(struct qvdev *v, struct qtest *q, bool program);

#endif /* _CTXMIG_QEMU_QTEST_H */
