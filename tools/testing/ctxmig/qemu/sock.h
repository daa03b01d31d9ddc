/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig qemu tier: a line-oriented client socket, for QEMU's qtest and
 * QMP sockets and the hosts' command agents.
 *
 * Addresses are "unix:PATH" or "tcp:HOST:PORT" (HOST an IPv4 address).
 * Every wait is bounded by the socket's timeout, a guard against hangs
 * only: nothing is decided by how long something took.
 */
#ifndef _CTXMIG_QEMU_SOCK_H
#define _CTXMIG_QEMU_SOCK_H

#include <stdarg.h>
#include <stddef.h>

/* The kernel's printf format check; libc has no name for it. */
#ifndef __printf
#define __printf(a, b)	__attribute((format(printf, a, b)))
#endif

struct sock {
	int fd;
	int timeout_ms;		/* per wait for the peer */
	char *buf;		/* received bytes not yet returned */
	size_t len, cap;
	size_t line;		/* length of the line last returned */
};

/*
 * Connect to @addr, retrying until @timeout_ms passed (the server may not
 * be listening yet); the same timeout guards each later wait.  Returns 0
 * or a negative errno.
 */
int sock_connect(struct sock *s, const char *addr, int timeout_ms);
void sock_close(struct sock *s);
/* Send all of @len bytes. */
int sock_send(struct sock *s, const void *buf, size_t len);
/* Send a formatted line; the format carries its own '\n'. */
__printf(2, 3)
int sock_printf(struct sock *s, const char *fmt, ...);
int sock_vprintf(struct sock *s, const char *fmt, va_list ap);
/*
 * The next line, without its '\n', NUL-terminated and valid until the
 * next call; NULL with errno set at end of stream (0), error or timeout.
 */
char *sock_getline(struct sock *s);

#endif /* _CTXMIG_QEMU_SOCK_H */
