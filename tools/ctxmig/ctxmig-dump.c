// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig-dump: decode and summarise a ctxmig IR stream
 * (include/uapi/linux/ctxmig.h).
 *
 *	ctxmig-dump [-v] [--json] [FILE|-]
 *	ctxmig-dump --version
 *
 * The stream is read in 64 KiB chunks from FILE or standard input and fed
 * to the kernel's own validating reader (drivers/gpu/ctxmig/ctxmig_ir.c,
 * built for userspace through the shim headers in
 * tools/testing/ctxmig/include), so it is never held in memory whole and a
 * stream this tool accepts is one the kernel accepts.
 *
 * Output: a summary of the preamble, the device, the engines, the record
 * counts and bytes per type and the VRAM carried versus elided; with -v
 * also one line per record; with --json one JSON object holding the same.
 *
 * Exit status: 0 for a valid stream, 1 for an invalid one (reported on
 * standard error as "ctxmig-dump: <offset>: <reason> (<errno name>)") or an
 * I/O error, 2 for a usage error.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctxmig_ir.h"

#define PROG		"ctxmig-dump"
/* The release (VERSION at the top of the tree), from the build. */
#ifndef CTXMIG_RELEASE
#define CTXMIG_RELEASE	"unknown"
#endif
#define STR_(x)		#x
#define STR(x)		STR_(x)
#define CHUNK		(64 * 1024)
#define MAX_UNKNOWN	32

/* Records and wire bytes of one record type. */
struct type_stat {
	u16 type;
	u64 count;
	u64 bytes;
};

/* What the stream said about one engine. */
struct engine_info {
	bool present;
	bool has_fence;
	bool has_irq;
	struct ctxmig_ring ring;
	struct ctxmig_fence fence;
	struct ctxmig_irq irq;
	u64 cmds;
};

/* Everything the summary needs, gathered by the reader callbacks. */
struct dump {
	bool verbose;
	bool json;
	const char *name;
	u64 events;

	bool have_preamble;
	u64 preamble_len;
	struct ctxmig_caps caps;

	bool have_identity;
	struct ctxmig_identity id;

	struct engine_info engines[CTXMIG_MAX_ENGINES];
	int cur_engine;

	struct type_stat known[256];
	struct type_stat unknown[MAX_UNKNOWN];
	unsigned int nunknown;
	struct type_stat other_unknown;

	u64 vram_data, vram_data_recs;
	u64 vram_zero, vram_zero_recs;
	u64 maps, map_bytes, map_sysmem_bytes;
	u64 cmds;

	bool have_end;
	struct ctxmig_end end;
};

/* ------------------------------------------------------------ formatting */

/* A list of "key=value" (text) or "\"key\": value" (JSON) fields. */
struct fields {
	bool json;
	bool first;
};

static void fields_start(struct fields *f, bool json)
{
	f->json = json;
	f->first = true;
}

static void field_key(struct fields *f, const char *key)
{
	if (f->json)
		printf("%s\"%s\": ", f->first ? "" : ", ", key);
	else
		printf("%s%s=", f->first ? "" : " ", key);
	f->first = false;
}

/**
 * put_string() - print a string from the stream, quoted and escaped
 * @s: NUL-terminated bytes, possibly not valid UTF-8 or printable.
 * @json: escape for JSON (\uXXXX, bytes read as Latin-1) rather than C.
 */
static void put_string(const char *s, bool json)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p >= 0x20 && *p < 0x7f)
			putchar(*p);
		else if (json)
			printf("\\u%04x", *p);
		else
			printf("\\x%02x", *p);
	}
	putchar('"');
}

static void field_u64(struct fields *f, const char *key, u64 v)
{
	field_key(f, key);
	printf("%llu", (unsigned long long)v);
}

/* Addresses and bit masks: hex in text, numbers in JSON. */
static void field_hex(struct fields *f, const char *key, u64 v)
{
	field_key(f, key);
	printf(f->json ? "%llu" : "0x%llx", (unsigned long long)v);
}

static void field_bool(struct fields *f, const char *key, bool v)
{
	field_key(f, key);
	printf("%s", v ? "true" : "false");
}

static void field_str(struct fields *f, const char *key, const char *s)
{
	field_key(f, key);
	if (f->json)
		put_string(s, true);
	else
		printf("%s", s);
}

static const char *errno_name(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ EINVAL, "EINVAL" }, { ENODATA, "ENODATA" },
		{ EBADMSG, "EBADMSG" }, { EPROTONOSUPPORT, "EPROTONOSUPPORT" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { E2BIG, "E2BIG" },
		{ ERANGE, "ERANGE" }, { ENOMEM, "ENOMEM" }, { EIO, "EIO" },
		{ ENOSPC, "ENOSPC" }, { EXDEV, "EXDEV" },
		{ EOVERFLOW, "EOVERFLOW" }, { EPROTO, "EPROTO" },
		{ EFBIG, "EFBIG" }, { EPERM, "EPERM" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].err == -err || names[i].err == err)
			return names[i].name;
	return "unknown errno";
}

static const char *const feature_names[] = {
	"sysmem", "fence-irq", "ib", "copy", "write64",
};

/* "4K 64K 2M 1G" for a page_sizes mask. */
static void format_page_sizes(char *buf, size_t size, u32 mask)
{
	static const char unit[] = "KMG";
	size_t n = 0;
	unsigned int bit;

	buf[0] = '\0';
	for (bit = 10; bit < 32; bit++) {
		if (!(mask & BIT(bit)))
			continue;
		n += scnprintf(buf + n, size - n, "%s%u%c", n ? " " : "",
			       1U << (bit % 10), unit[bit / 10 - 1]);
	}
}

/* "256 MiB" style, for humans. */
static const char *human(u64 v, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	unsigned int u = 0;
	double d = v;

	while (d >= 1024 && u < ARRAY_SIZE(units) - 1) {
		d /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", d, units[u]);
	return buf;
}

/* ---------------------------------------------------------- accounting */

static u64 wire_bytes(u32 len)
{
	return sizeof(struct ctxmig_ir_rec) + ALIGN((u64)len, CTXMIG_IR_ALIGN);
}

static bool type_known(u16 type)
{
	return strcmp(ctxmig_ir_type_name(type), "UNKNOWN") != 0;
}

/* Account one record of @type taking @bytes on the wire. */
static void count_type(struct dump *d, u16 type, u64 bytes)
{
	struct type_stat *st = NULL;
	unsigned int i;

	if (type_known(type)) {
		st = &d->known[type & 0xff];
	} else {
		for (i = 0; i < d->nunknown && !st; i++)
			if (d->unknown[i].type == type)
				st = &d->unknown[i];
		if (!st && d->nunknown < MAX_UNKNOWN)
			st = &d->unknown[d->nunknown++];
		if (!st)
			st = &d->other_unknown;
	}
	st->type = type;
	st->count++;
	st->bytes += bytes;
}

/* ---------------------------------------------------- per-record output */

/**
 * record_fields() - print the decoded fields of a leaf record
 * @f: field list to append to.
 * @ev: the record.
 */
static void record_fields(struct fields *f, const struct ctxmig_ir_event *ev)
{
	switch (ev->type) {
	case CTXMIG_IR_DEV_IDENTITY:
		field_hex(f, "pci_vendor", ev->u.identity.pci_vendor);
		field_hex(f, "pci_device", ev->u.identity.pci_device);
		field_u64(f, "revision", ev->u.identity.revision);
		field_u64(f, "model", ev->u.identity.model);
		field_key(f, "name");
		put_string(ev->u.identity.name, f->json);
		field_u64(f, "migrated", ev->u.identity.migrated);
		break;
	case CTXMIG_IR_DEV_CAPS:
		field_u64(f, "vram_size", ev->u.caps.vram_size);
		field_hex(f, "features", ev->u.caps.features);
		field_hex(f, "page_sizes", ev->u.caps.page_sizes);
		field_u64(f, "va_bits", ev->u.caps.va_bits);
		field_u64(f, "num_engines", ev->u.caps.num_engines);
		break;
	case CTXMIG_IR_ENG_RING:
		field_u64(f, "engine", ev->u.ring.engine);
		field_hex(f, "flags", ev->u.ring.flags);
		field_hex(f, "base", ev->u.ring.base);
		field_u64(f, "size", ev->u.ring.size);
		field_u64(f, "head", ev->u.ring.head);
		field_u64(f, "tail", ev->u.ring.tail);
		field_hex(f, "ib_va_base", ev->u.ring.ib_va_base);
		break;
	case CTXMIG_IR_ENG_FENCE:
		field_u64(f, "emitted", ev->u.fence.emitted);
		field_u64(f, "signalled", ev->u.fence.signalled);
		field_hex(f, "addr", ev->u.fence.addr);
		break;
	case CTXMIG_IR_ENG_IRQ:
		field_hex(f, "enabled", ev->u.irq.enabled);
		field_hex(f, "pending", ev->u.irq.pending);
		break;
	case CTXMIG_IR_CMD:
		field_u64(f, "engine", ev->u.cmd.engine);
		field_u64(f, "op", ev->u.cmd.op);
		field_u64(f, "level", ev->u.cmd.level);
		field_hex(f, "flags", ev->u.cmd.flags);
		field_hex(f, "dst", ev->u.cmd.dst);
		field_hex(f, "src", ev->u.cmd.src);
		field_hex(f, "value", ev->u.cmd.value);
		break;
	case CTXMIG_IR_MAPPING:
		field_hex(f, "va", ev->u.mapping.va);
		field_hex(f, "size", ev->u.mapping.size);
		field_hex(f, "addr", ev->u.mapping.addr);
		field_hex(f, "flags", ev->u.mapping.flags);
		field_u64(f, "cache", ev->u.mapping.cache);
		field_u64(f, "page_shift", ev->u.mapping.page_shift);
		break;
	case CTXMIG_IR_VRAM:
	case CTXMIG_IR_VRAM_ZERO:
		field_hex(f, "offset", ev->u.vram.offset);
		field_u64(f, "length", ev->u.vram.length);
		break;
	case CTXMIG_IR_END:
		field_hex(f, "crc32c", ev->u.end.crc32c);
		field_u64(f, "records", ev->u.end.records);
		break;
	}
}

/**
 * print_event() - the -v line of one record, container start or end
 * @d: dump state.
 * @what: "record", "start", "end" or "skipped".
 * @type: record type.
 * @depth: nesting depth.
 * @offset: stream offset of the record header.
 * @len: payload bytes.
 * @ev: decoded record for "record", else NULL.
 */
static void print_event(struct dump *d, const char *what, u16 type,
			unsigned int depth, u64 offset, u32 len,
			const struct ctxmig_ir_event *ev)
{
	struct fields f;

	fields_start(&f, d->json);
	if (d->json) {
		printf("%s\n  {", d->events ? "," : "");
		field_str(&f, "event", what);
		field_u64(&f, "offset", offset);
		field_u64(&f, "depth", depth);
		field_u64(&f, "type_id", type);
		field_str(&f, "type", ctxmig_ir_type_name(type));
		field_u64(&f, "len", len);
	} else {
		if (!strcmp(what, "end")) {
			/* Where the container ends, not where it started. */
			printf("%10llu %*s} %s\n",
			       (unsigned long long)(offset + wire_bytes(len)),
			       2 * depth, "", ctxmig_ir_type_name(type));
			d->events++;
			return;
		}
		printf("%10llu %*s", (unsigned long long)offset, 2 * depth, "");
		if (type_known(type))
			printf("%s", ctxmig_ir_type_name(type));
		else
			printf("UNKNOWN(0x%04x)", type);
		printf(" len %u%s", len, !strcmp(what, "start") ? " {" :
		       !strcmp(what, "skipped") ? " skipped (optional)" : "");
		f.first = false;
	}
	if (ev)
		record_fields(&f, ev);
	printf(d->json ? "}" : "\n");
	d->events++;
}

/* ------------------------------------------------------ reader callbacks */

static int dump_preamble(struct ctxmig_ir_reader *r, void *priv,
			 const struct ctxmig_caps *caps)
{
	struct dump *d = priv;

	d->have_preamble = true;
	d->caps = *caps;
	/* Called once the whole preamble is in: the reader is just past it. */
	d->preamble_len = r->offset;
	return 0;
}

static void note_record(struct dump *d, const struct ctxmig_ir_event *ev)
{
	struct engine_info *eng;

	switch (ev->type) {
	case CTXMIG_IR_DEV_IDENTITY:
		d->have_identity = true;
		d->id = ev->u.identity;
		break;
	case CTXMIG_IR_ENG_RING:
		/* The reader checked the index against the preamble. */
		d->cur_engine = ev->u.ring.engine;
		eng = &d->engines[d->cur_engine];
		eng->present = true;
		eng->ring = ev->u.ring;
		break;
	case CTXMIG_IR_ENG_FENCE:
		if (d->cur_engine >= 0) {
			d->engines[d->cur_engine].has_fence = true;
			d->engines[d->cur_engine].fence = ev->u.fence;
		}
		break;
	case CTXMIG_IR_ENG_IRQ:
		if (d->cur_engine >= 0) {
			d->engines[d->cur_engine].has_irq = true;
			d->engines[d->cur_engine].irq = ev->u.irq;
		}
		break;
	case CTXMIG_IR_CMD:
		d->cmds++;
		if (ev->u.cmd.engine < CTXMIG_MAX_ENGINES)
			d->engines[ev->u.cmd.engine].cmds++;
		break;
	case CTXMIG_IR_MAPPING:
		d->maps++;
		d->map_bytes += ev->u.mapping.size;
		if (ev->u.mapping.flags & CTXMIG_MAP_SYSMEM)
			d->map_sysmem_bytes += ev->u.mapping.size;
		break;
	case CTXMIG_IR_VRAM:
		d->vram_data += ev->u.vram.length;
		d->vram_data_recs++;
		break;
	case CTXMIG_IR_VRAM_ZERO:
		d->vram_zero += ev->u.vram.length;
		d->vram_zero_recs++;
		break;
	case CTXMIG_IR_END:
		d->have_end = true;
		d->end = ev->u.end;
		break;
	}
}

static int dump_event(struct ctxmig_ir_reader *r __always_unused,
		      void *priv, const struct ctxmig_ir_event *ev)
{
	struct dump *d = priv;

	switch (ev->kind) {
	case CTXMIG_EV_NEST_START:
		/* A container's own bytes are its header; children count. */
		count_type(d, ev->type, sizeof(struct ctxmig_ir_rec));
		if (d->verbose)
			print_event(d, "start", ev->type, ev->depth, ev->offset,
				    ev->len, NULL);
		break;
	case CTXMIG_EV_NEST_END:
		if (ev->type == CTXMIG_IR_ENGINE)
			d->cur_engine = -1;
		if (d->verbose)
			print_event(d, "end", ev->type, ev->depth, ev->offset,
				    ev->len, NULL);
		break;
	case CTXMIG_EV_RECORD:
		count_type(d, ev->type, wire_bytes(ev->len));
		note_record(d, ev);
		if (d->verbose)
			print_event(d, "record", ev->type, ev->depth,
				    ev->offset, ev->len, ev);
		break;
	}
	return 0;
}

static void dump_skipped(struct ctxmig_ir_reader *r, void *priv, u16 type,
			 u64 offset, u32 len)
{
	struct dump *d = priv;

	count_type(d, type, wire_bytes(len));
	if (d->verbose)
		print_event(d, "skipped", type, r->depth, offset, len, NULL);
}

static const struct ctxmig_ir_reader_ops dump_ops = {
	.preamble = dump_preamble,
	.event = dump_event,
	.skipped = dump_skipped,
};

/* ------------------------------------------------------------- summary */

/* Known types in type order, then unknown ones in order of appearance. */
static unsigned int collect_stats(const struct dump *d,
				  const struct type_stat **out,
				  unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(d->known) && n < max; i++)
		if (d->known[i].count)
			out[n++] = &d->known[i];
	for (i = 0; i < d->nunknown && n < max; i++)
		out[n++] = &d->unknown[i];
	if (d->other_unknown.count && n < max)
		out[n++] = &d->other_unknown;
	return n;
}

static u64 vram_wire(const struct dump *d)
{
	return d->known[CTXMIG_IR_VRAM].bytes +
	       d->known[CTXMIG_IR_VRAM_ZERO].bytes;
}

static void print_text(const struct dump *d, u64 stream_bytes,
		       const struct ctxmig_ir_error *e)
{
	const struct type_stat *st[256 + MAX_UNKNOWN + 1];
	unsigned int i, n;
	u64 count = 0, bytes = 0, covered;
	char buf[64], buf2[64];

	printf("file:         %s\n", d->name);
	printf("stream:       %llu bytes, %s\n",
	       (unsigned long long)stream_bytes,
	       e->err ? "INVALID" : "valid");
	if (!d->have_preamble)
		return;

	printf("preamble:     IR %u.%u, %llu bytes\n", d->caps.version_major,
	       d->caps.version_minor, (unsigned long long)d->preamble_len);
	printf("  model:      %s (%u)\n", ctxmig_ir_model_name(d->caps.model),
	       d->caps.model);
	printf("  features:   0x%x", d->caps.features);
	for (i = 0; i < ARRAY_SIZE(feature_names); i++)
		if (d->caps.features & BIT(i))
			printf(" %s", feature_names[i]);
	printf("\n  vram:       %llu bytes (%s)\n",
	       (unsigned long long)d->caps.vram_size,
	       human(d->caps.vram_size, buf, sizeof(buf)));
	printf("  va bits:    %u\n", d->caps.va_bits);
	printf("  engines:    %u\n", d->caps.num_engines);
	format_page_sizes(buf, sizeof(buf), d->caps.page_sizes);
	printf("  page sizes: %s (0x%x)\n", buf, d->caps.page_sizes);
	if (d->have_identity) {
		printf("device:       %04x:%04x rev %u model %u ",
		       d->id.pci_vendor, d->id.pci_device, d->id.revision,
		       d->id.model);
		put_string(d->id.name, false);
		putchar('\n');
	}

	printf("records:      %-16s %10s %14s\n", "type", "count", "bytes");
	n = collect_stats(d, st, ARRAY_SIZE(st));
	for (i = 0; i < n; i++) {
		if (st[i] == &d->other_unknown)
			snprintf(buf, sizeof(buf), "UNKNOWN(other)");
		else if (type_known(st[i]->type))
			snprintf(buf, sizeof(buf), "%s",
				 ctxmig_ir_type_name(st[i]->type));
		else
			snprintf(buf, sizeof(buf), "UNKNOWN(0x%04x)",
				 st[i]->type);
		printf("              %-16s %10llu %14llu\n", buf,
		       (unsigned long long)st[i]->count,
		       (unsigned long long)st[i]->bytes);
		count += st[i]->count;
		bytes += st[i]->bytes;
	}
	printf("              %-16s %10llu %14llu\n", "total",
	       (unsigned long long)count, (unsigned long long)bytes);

	covered = d->vram_data + d->vram_zero;
	printf("vram:         %llu data bytes in %llu records\n",
	       (unsigned long long)d->vram_data,
	       (unsigned long long)d->vram_data_recs);
	printf("              %llu zero bytes elided in %llu records\n",
	       (unsigned long long)d->vram_zero,
	       (unsigned long long)d->vram_zero_recs);
	if (covered)
		printf("              %llu wire bytes for %s of VRAM (%.2f%%)\n",
		       (unsigned long long)vram_wire(d),
		       human(covered, buf, sizeof(buf)),
		       100.0 * vram_wire(d) / covered);
	printf("mappings:     %llu, %s mapped, %s of it system memory\n",
	       (unsigned long long)d->maps, human(d->map_bytes, buf, sizeof(buf)),
	       human(d->map_sysmem_bytes, buf2, sizeof(buf2)));
	printf("commands:     %llu\n", (unsigned long long)d->cmds);

	for (i = 0; i < CTXMIG_MAX_ENGINES; i++) {
		const struct engine_info *eng = &d->engines[i];

		if (!eng->present)
			continue;
		printf("engine %u:     ring %s, %llu commands\n", i,
		       eng->ring.flags & CTXMIG_RING_ENABLED ? "enabled" :
		       "disabled", (unsigned long long)eng->cmds);
		printf("              ring base 0x%llx size %u head %u tail %u\n",
		       (unsigned long long)eng->ring.base, eng->ring.size,
		       eng->ring.head, eng->ring.tail);
		if (eng->has_fence)
			printf("              fence emitted %llu signalled %llu addr 0x%llx\n",
			       (unsigned long long)eng->fence.emitted,
			       (unsigned long long)eng->fence.signalled,
			       (unsigned long long)eng->fence.addr);
		if (eng->has_irq)
			printf("              irq enabled 0x%x pending 0x%x\n",
			       eng->irq.enabled, eng->irq.pending);
	}
	if (d->have_end)
		printf("end:          crc32c 0x%08x, %llu top-level records\n",
		       d->end.crc32c, (unsigned long long)d->end.records);
}

static void print_json(const struct dump *d, u64 stream_bytes,
		       const struct ctxmig_ir_error *e)
{
	const struct type_stat *st[256 + MAX_UNKNOWN + 1];
	struct fields f;
	unsigned int i, n;
	bool first = true;
	char buf[64];

	/* With -v, the "events" array was opened and filled already. */
	printf(d->verbose ? "\n ],\n " : "{");
	fields_start(&f, true);
	field_str(&f, "file", d->name);
	field_u64(&f, "stream_bytes", stream_bytes);
	field_bool(&f, "valid", !e->err);

	printf(",\n \"error\": ");
	if (e->err) {
		fields_start(&f, true);
		printf("{");
		field_u64(&f, "offset", e->offset);
		field_str(&f, "reason", e->reason);
		field_str(&f, "errno", errno_name(e->err));
		field_key(&f, "code");
		printf("%d}", e->err);
	} else {
		printf("null");
	}

	printf(",\n \"preamble\": ");
	if (d->have_preamble) {
		fields_start(&f, true);
		printf("{");
		field_u64(&f, "version_major", d->caps.version_major);
		field_u64(&f, "version_minor", d->caps.version_minor);
		field_u64(&f, "preamble_len", d->preamble_len);
		field_u64(&f, "model", d->caps.model);
		field_str(&f, "model_name", ctxmig_ir_model_name(d->caps.model));
		field_hex(&f, "features", d->caps.features);
		field_key(&f, "feature_names");
		printf("[");
		for (i = 0; i < ARRAY_SIZE(feature_names); i++)
			if (d->caps.features & BIT(i)) {
				printf("%s\"%s\"", first ? "" : ", ",
				       feature_names[i]);
				first = false;
			}
		printf("]");
		field_u64(&f, "vram_size", d->caps.vram_size);
		field_u64(&f, "va_bits", d->caps.va_bits);
		field_u64(&f, "num_engines", d->caps.num_engines);
		field_hex(&f, "page_sizes", d->caps.page_sizes);
		format_page_sizes(buf, sizeof(buf), d->caps.page_sizes);
		field_str(&f, "page_size_names", buf);
		printf("}");
	} else {
		printf("null");
	}

	printf(",\n \"device\": ");
	if (d->have_identity) {
		fields_start(&f, true);
		printf("{");
		field_u64(&f, "pci_vendor", d->id.pci_vendor);
		field_u64(&f, "pci_device", d->id.pci_device);
		field_u64(&f, "revision", d->id.revision);
		field_u64(&f, "model", d->id.model);
		field_str(&f, "name", d->id.name);
		printf("}");
	} else {
		printf("null");
	}

	printf(",\n \"records\": [");
	n = collect_stats(d, st, ARRAY_SIZE(st));
	for (i = 0; i < n; i++) {
		bool other = st[i] == &d->other_unknown;

		fields_start(&f, true);
		printf("%s\n  {", i ? "," : "");
		if (other)
			field_str(&f, "type", "UNKNOWN");
		else
			field_str(&f, "type", ctxmig_ir_type_name(st[i]->type));
		if (!other)
			field_u64(&f, "type_id", st[i]->type);
		field_bool(&f, "known", type_known(st[i]->type) && !other);
		field_u64(&f, "count", st[i]->count);
		field_u64(&f, "bytes", st[i]->bytes);
		printf("}");
	}
	printf("\n ]");

	fields_start(&f, true);
	printf(",\n \"vram\": {");
	field_u64(&f, "data_bytes", d->vram_data);
	field_u64(&f, "data_records", d->vram_data_recs);
	field_u64(&f, "zero_bytes", d->vram_zero);
	field_u64(&f, "zero_records", d->vram_zero_recs);
	field_u64(&f, "wire_bytes", vram_wire(d));
	printf("}");

	fields_start(&f, true);
	printf(",\n \"mappings\": {");
	field_u64(&f, "count", d->maps);
	field_u64(&f, "bytes", d->map_bytes);
	field_u64(&f, "sysmem_bytes", d->map_sysmem_bytes);
	printf("},\n \"commands\": %llu", (unsigned long long)d->cmds);

	printf(",\n \"engines\": [");
	first = true;
	for (i = 0; i < CTXMIG_MAX_ENGINES; i++) {
		const struct engine_info *eng = &d->engines[i];

		if (!eng->present)
			continue;
		fields_start(&f, true);
		printf("%s\n  {", first ? "" : ",");
		first = false;
		field_u64(&f, "engine", i);
		field_bool(&f, "enabled", eng->ring.flags & CTXMIG_RING_ENABLED);
		field_u64(&f, "ring_base", eng->ring.base);
		field_u64(&f, "ring_size", eng->ring.size);
		field_u64(&f, "ring_head", eng->ring.head);
		field_u64(&f, "ring_tail", eng->ring.tail);
		field_u64(&f, "commands", eng->cmds);
		field_key(&f, "fence");
		if (eng->has_fence)
			printf("{\"emitted\": %llu, \"signalled\": %llu, \"addr\": %llu}",
			       (unsigned long long)eng->fence.emitted,
			       (unsigned long long)eng->fence.signalled,
			       (unsigned long long)eng->fence.addr);
		else
			printf("null");
		field_key(&f, "irq");
		if (eng->has_irq)
			printf("{\"enabled\": %u, \"pending\": %u}",
			       eng->irq.enabled, eng->irq.pending);
		else
			printf("null");
		printf("}");
	}
	printf("%s]", first ? "" : "\n ");

	printf(",\n \"end\": ");
	if (d->have_end)
		printf("{\"crc32c\": %u, \"records\": %llu}", d->end.crc32c,
		       (unsigned long long)d->end.records);
	else
		printf("null");
	printf("\n}\n");
}

/* ---------------------------------------------------------------- main */

static void show_usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " [-v] [--json] [FILE|-]\n"
		"       " PROG " --version\n"
		"Decode a ctxmig IR stream (standard input without FILE or with -).\n"
		"  -v, --verbose  also one line (JSON: one event) per record\n"
		"      --json     print one JSON object\n"
		"  -h, --help     this text\n"
		"  -V, --version  the release and the IR version this reader reads\n"
		"Exit status: 0 valid stream, 1 invalid stream or I/O error, 2 usage.\n");
}

/**
 * read_stream() - feed a file descriptor to the reader in 64 KiB chunks
 * @r: reader.
 * @fd: stream source.
 * @bytes: set to the bytes fed.
 *
 * Stops at end of file or at the first stream error.
 *
 * Return: 0 once the whole input was fed, with the stream's verdict left to
 * ctxmig_ir_reader_finish(); a positive errno for a read error.
 */
static int read_stream(struct ctxmig_ir_reader *r, int fd, u64 *bytes)
{
	static u8 buf[CHUNK];
	ssize_t n;

	*bytes = 0;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (!n)
			return 0;
		*bytes += n;
		if (ctxmig_ir_feed(r, buf, n))
			return 0;
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ }
	};
	const struct ctxmig_ir_error *e;
	struct ctxmig_ir_reader r;
	struct dump *d;
	const char *path = "-";
	u64 bytes;
	int fd = 0, opt, err;

	d = calloc(1, sizeof(*d));
	if (!d) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	d->cur_engine = -1;
	while ((opt = getopt_long(argc, argv, "vhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			d->verbose = true;
			break;
		case 'j':
			d->json = true;
			break;
		case 'h':
			show_usage(stdout);
			return 0;
		case 'V':
			printf(PROG " " CTXMIG_RELEASE ", IR version "
			       STR(CTXMIG_IR_VERSION_MAJOR) "."
			       STR(CTXMIG_IR_VERSION_MINOR) "\n");
			return 0;
		default:
			show_usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, PROG ": more than one FILE\n");
		show_usage(stderr);
		return 2;
	}
	if (optind < argc)
		path = argv[optind];
	d->name = strcmp(path, "-") ? path : "<stdin>";
	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
			return 1;
		}
	}

	if (ctxmig_ir_reader_init(&r, &dump_ops, d)) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	if (d->json && d->verbose)
		printf("{\"events\": [");
	err = read_stream(&r, fd, &bytes);
	if (err) {
		fprintf(stderr, PROG ": %s: %s\n", d->name, strerror(err));
		return 1;
	}
	ctxmig_ir_reader_finish(&r);
	e = ctxmig_ir_reader_error(&r);

	if (d->json)
		print_json(d, bytes, e);
	else
		print_text(d, bytes, e);
	fflush(stdout);
	if (e->err)
		fprintf(stderr, PROG ": %llu: %s (%s)\n",
			(unsigned long long)e->offset, e->reason,
			errno_name(e->err));

	ctxmig_ir_reader_fini(&r);
	if (fd > 0)
		close(fd);
	free(d);
	return e->err ? 1 : 0;
}
