// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig qemu tier: a line-oriented client socket; see sock.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One connection attempt; a socket or a negative errno. */
static int try_connect(const char *addr)
{
	struct sockaddr_storage ss = {};
	socklen_t sslen;
	int fd, one = 1;

	if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;

		if (strlen(addr + 5) >= sizeof(un->sun_path))
			return -ENAMETOOLONG;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, addr + 5, strlen(addr + 5) + 1);
		sslen = sizeof(*un);
	} else if (!strncmp(addr, "tcp:", 4)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		char host[64];
		const char *colon = strrchr(addr + 4, ':');

		if (!colon || colon - (addr + 4) >= (long)sizeof(host))
			return -EINVAL;
		memcpy(host, addr + 4, colon - (addr + 4));
		host[colon - (addr + 4)] = '\0';
		in->sin_family = AF_INET;
		in->sin_port = htons(atoi(colon + 1));
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -EINVAL;
		sslen = sizeof(*in);
	} else {
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sslen)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	/* Request and reply, one at a time: no Nagle delay. */
	if (ss.ss_family == AF_INET)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int sock_connect(struct sock *s, const char *addr, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int fd;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->timeout_ms = timeout_ms;
	for (;;) {
		fd = try_connect(addr);
		if (fd >= 0)
			break;
		if (fd != -ECONNREFUSED && fd != -ENOENT &&
		    fd != -EHOSTUNREACH && fd != -ENETUNREACH)
			return fd;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(50 * 1000);
	}
	s->fd = fd;
	s->cap = 1 << 16;
	s->buf = malloc(s->cap);
	if (!s->buf) {
		sock_close(s);
		return -ENOMEM;
	}
	return 0;
}

void sock_close(struct sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

int sock_send(struct sock *s, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

int sock_vprintf(struct sock *s, const char *fmt, va_list ap)
{
	char *line;
	int n, ret;

	n = vasprintf(&line, fmt, ap);
	if (n < 0)
		return -ENOMEM;
	ret = sock_send(s, line, n);
	free(line);
	return ret;
}

int sock_printf(struct sock *s, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = sock_vprintf(s, fmt, ap);
	va_end(ap);
	return ret;
}

char *sock_getline(struct sock *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	char *nl;

	/* Drop the line returned last. */
	if (s->line) {
		memmove(s->buf, s->buf + s->line, s->len - s->line);
		s->len -= s->line;
		s->line = 0;
	}
	while (!(nl = memchr(s->buf, '\n', s->len))) {
		ssize_t n;
		int ret;

		if (s->len + 1 >= s->cap) {
			char *nb = realloc(s->buf, s->cap * 2);

			if (!nb) {
				errno = ENOMEM;
				return NULL;
			}
			s->buf = nb;
			s->cap *= 2;
		}
		ret = poll(&p, 1, s->timeout_ms);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return NULL;
		if (!ret) {
			errno = ETIMEDOUT;
			return NULL;
		}
		n = recv(s->fd, s->buf + s->len, s->cap - s->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = 0;
			return NULL;
		}
		s->len += n;
	}
	*nl = '\0';
	s->line = nl - s->buf + 1;
	return s->buf;
}
