/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig qemu tier: a switchover gate on the migration stream.
 *
 * A TCP relay between the source QEMU and the destination that passes
 * the stream on at once but holds the destination's return path until
 * released.  With QEMU's "switchover-ack" migration capability the
 * source does not stop its VM before the destination said yes, on the
 * return path, so while the gate is held pre-copy goes on, with as many
 * rounds as it takes, and the test decides when QEMU may switch over.
 * A qtest client is a guest CPU that QEMU does not stop with the VM:
 * held this way, it never acts on a stopped source.
 */
#ifndef _CTXMIG_QEMU_GATE_H
#define _CTXMIG_QEMU_GATE_H

#include <sys/types.h>

struct gate {
	pid_t pid;
	int ctl;		/* write end of the relay's control pipe */
};

/*
 * Listen on @port (every address of this host: its loopback and the
 * hosts' private link) and relay one connection to @dst ("HOST:PORT",
 * IPv4), in a child process, the return path held.  0 or a negative
 * errno.
 */
int gate_open(struct gate *g, int port, const char *dst);
/* Let the return path through. */
int gate_release(struct gate *g);
/* End the relay (if it did not end with its connection) and reap it. */
void gate_close(struct gate *g);

#endif /* _CTXMIG_QEMU_GATE_H */
