// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig qemu tier: a switchover gate on the migration stream; see
 * gate.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "gate.h"
#include "sock.h"

/* Move what @from has to @to; false at end of stream or error. */
static bool pass(int from, int to)
{
	char buf[1 << 16];
	ssize_t n = read(from, buf, sizeof(buf));
	ssize_t done = 0;

	if (n <= 0)
		return false;
	while (done < n) {
		ssize_t w = write(to, buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		done += w;
	}
	return true;
}

/* The child: accept one connection, relay it, hold the return path. */
static void relay(int lfd, int ctl, const char *dst)
{
	struct pollfd p[3];
	bool held = true, up = true, down = true;
	struct sock d;
	char addr[80];
	int src;

	signal(SIGPIPE, SIG_IGN);
	src = accept(lfd, NULL, NULL);
	close(lfd);
	snprintf(addr, sizeof(addr), "tcp:%s", dst);
	if (src < 0 || sock_connect(&d, addr, 30 * 1000))
		_exit(1);
	while (up || down) {
		int n = 0, i;

		/* Stream: source to destination, always. */
		p[n++] = (struct pollfd){ .fd = up ? src : -1, .events = POLLIN };
		/* Return path: only once released. */
		p[n++] = (struct pollfd){ .fd = down && !held ? d.fd : -1,
					  .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = held ? ctl : -1,
					  .events = POLLIN };
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n; i++)
			if (p[i].revents & (POLLERR | POLLNVAL))
				p[i].revents |= POLLIN;
		if ((p[0].revents & (POLLIN | POLLHUP)) && !pass(src, d.fd)) {
			up = false;
			shutdown(d.fd, SHUT_WR);
		}
		if ((p[1].revents & (POLLIN | POLLHUP)) && !pass(d.fd, src)) {
			down = false;
			shutdown(src, SHUT_WR);
		}
		if (p[2].revents & (POLLIN | POLLHUP)) {
			char c;

			held = false;
			if (read(ctl, &c, 1) <= 0)
				ctl = -1;
		}
		/* The destination gone: nothing held matters any more. */
		if (!up && held)
			held = false;
	}
	_exit(0);
}

int gate_open(struct gate *g, int port, const char *dst)
{
	struct sockaddr_in in = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int lfd, pipefd[2], one = 1, ret;

	g->pid = -1;
	g->ctl = -1;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&in, sizeof(in)) || listen(lfd, 1)) {
		ret = -errno;
		close(lfd);
		return ret;
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		ret = -errno;
		close(lfd);
		return ret;
	}
	fflush(stdout);
	g->pid = fork();
	if (g->pid < 0) {
		ret = -errno;
		close(lfd);
		close(pipefd[0]);
		close(pipefd[1]);
		return ret;
	}
	if (!g->pid) {
		close(pipefd[1]);
		relay(lfd, pipefd[0], dst);
	}
	close(lfd);
	close(pipefd[0]);
	g->ctl = pipefd[1];
	return 0;
}

int gate_release(struct gate *g)
{
	if (g->ctl < 0)
		return -EBADF;
	return write(g->ctl, "r", 1) == 1 ? 0 : -errno;
}

void gate_close(struct gate *g)
{
	if (g->ctl >= 0)
		close(g->ctl);
	if (g->pid > 0) {
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
	}
	g->pid = -1;
	g->ctl = -1;
}
