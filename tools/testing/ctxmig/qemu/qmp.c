// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig qemu tier: a small QMP client; see qmp.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmp.h"

/* The next answer line, events skipped; NULL on end of stream. */
static const char *next_answer(struct qmp *m)
{
	char *line;

	do {
		line = sock_getline(&m->s);
	} while (line && strncmp(line, "{\"return\"", 9) &&
		 strncmp(line, "{\"error\"", 8) && strncmp(line, "{\"QMP\"", 6));
	if (!line)
		snprintf(m->why, sizeof(m->why), "QMP: no answer: %s",
			 errno ? strerror(errno) : "connection closed");
	return line;
}

int qmp_open(struct qmp *m, const char *addr, int timeout_ms)
{
	int ret;

	memset(m, 0, sizeof(*m));
	ret = sock_connect(&m->s, addr, timeout_ms);
	if (ret) {
		snprintf(m->why, sizeof(m->why), "connecting to %s: %s", addr,
			 strerror(-ret));
		return ret;
	}
	/* The greeting, then capabilities negotiation. */
	if (!next_answer(m))
		return -ECONNRESET;
	return qmp_cmd(m, NULL, "qmp_capabilities", NULL);
}

void qmp_close(struct qmp *m)
{
	sock_close(&m->s);
}

int qmp_cmd(struct qmp *m, const char **reply, const char *cmd,
	    const char *args, ...)
{
	const char *line;
	va_list ap;
	int ret;

	ret = sock_printf(&m->s, "{\"execute\": \"%s\"", cmd);
	if (!ret && args) {
		ret = sock_printf(&m->s, ", \"arguments\": {");
		va_start(ap, args);
		ret = ret ?: sock_vprintf(&m->s, args, ap);
		va_end(ap);
		ret = ret ?: sock_printf(&m->s, "}");
	}
	ret = ret ?: sock_printf(&m->s, "}\n");
	if (ret) {
		snprintf(m->why, sizeof(m->why), "QMP send: %s",
			 strerror(-ret));
		return ret;
	}
	line = next_answer(m);
	if (!line)
		return -ECONNRESET;
	if (!strncmp(line, "{\"error\"", 8)) {
		char desc[200];

		if (!json_str(line, "error.desc", desc, sizeof(desc)))
			snprintf(desc, sizeof(desc), "%.199s", line);
		snprintf(m->why, sizeof(m->why), "QMP: %s", desc);
		return -EIO;
	}
	if (reply)
		*reply = line;
	return 0;
}

/* Where the value of member @path starts in @json, or NULL. */
static const char *json_find(const char *json, const char *path)
{
	const char *p = json;

	while (*path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		char key[64];

		if (n + 4 > sizeof(key))
			return NULL;
		snprintf(key, sizeof(key), "\"%.*s\":", (int)n, path);
		p = strstr(p, key);
		if (!p)
			return NULL;
		p += strlen(key);
		path += n + (dot ? 1 : 0);
	}
	while (*p == ' ')
		p++;
	return p;
}

bool json_num(const char *json, const char *path, long long *val)
{
	const char *p = json_find(json, path);
	char *end;

	if (!p)
		return false;
	*val = strtoll(p, &end, 10);
	return end != p;
}

bool json_str(const char *json, const char *path, char *out, size_t size)
{
	const char *p = json_find(json, path);
	size_t n = 0;

	if (!p || *p != '"' || !size)
		return false;
	for (p++; *p && *p != '"' && n + 1 < size; p++) {
		if (*p == '\\' && p[1])
			p++;
		out[n++] = *p;
	}
	out[n] = '\0';
	return true;
}
