/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig qemu tier: a small QMP client (QEMU's JSON monitor protocol,
 * docs/interop/qmp-spec.rst), enough to drive and watch a migration.
 *
 * QEMU sends one JSON object per line; answers start {"return" or
 * {"error", asynchronous events {"timestamp" and are skipped.  The JSON
 * helpers find a member by name in QEMU's own output, which is all they
 * are for.
 */
#ifndef _CTXMIG_QEMU_QMP_H
#define _CTXMIG_QEMU_QMP_H

#include <stdbool.h>
#include <stddef.h>

#include "sock.h"

struct qmp {
	struct sock s;
	char why[256];		/* the last failure */
};

/* Connect to QEMU's QMP chardev at @addr and leave negotiation mode. */
int qmp_open(struct qmp *m, const char *addr, int timeout_ms);
void qmp_close(struct qmp *m);
/*
 * Execute command @cmd; @args, if not NULL, formats the members of its
 * "arguments" object.  On success 0 and *@reply (if not NULL) the answer
 * line (valid until the next command); on an error answer -EIO, its
 * description in @m->why.
 */
__printf(4, 5)
int qmp_cmd(struct qmp *m, const char **reply, const char *cmd,
	    const char *args, ...);

/*
 * The number at @path ("ram.transferred": member "transferred" of member
 * "ram") in @json; false if there is none.
 */
bool json_num(const char *json, const char *path, long long *val);
/* The string at @path, copied to @out (at most @size bytes with NUL). */
bool json_str(const char *json, const char *path, char *out, size_t size);

#endif /* _CTXMIG_QEMU_QMP_H */
