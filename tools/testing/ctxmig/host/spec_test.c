// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig host tests: the guest interface's specification says what the
 * uAPI header and the models say.
 *
 * Documentation/gpu/ctxmig/guest-interface.rst names each constant of the
 * guest interface at the start of a table row (``NAME`` and two spaces),
 * its value in the next column.  The values are taken from
 * include/uapi/linux/ctxmig.h here and nowhere else: every such row must
 * give the header's value, every name of the guest interface the header
 * defines must have a row, and the list below must name exactly what the
 * header defines (so that it cannot fall behind a new constant).
 *
 * Each model's register table follows a ".. ctxmig-registers: <model>"
 * comment: register, BAR0 offset, access, reset value.  A device of that
 * model just reset must hold the reset values, and every register the
 * model's own operations (reset, ring, head, page-table root) touch must
 * be in the table: the table is the whole register set a guest uses.
 *
 * Run from the top of the tree (the host tier does).
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>

#include "harness.h"
#include "ctxmig_gpu.h"

#define SPEC	"Documentation/gpu/ctxmig/guest-interface.rst"
#define UAPI	"include/uapi/linux/ctxmig.h"

#define C(x)	{ #x, x }

/* The guest interface's names, their values from the uAPI header. */
static const struct {
	const char *name;
	unsigned long long value;
} consts[] = {
	C(CTXMIG_PCI_VENDOR_ID), C(CTXMIG_PCI_DEVICE_ID),
	C(CTXMIG_PCI_SUBSYSTEM_VENDOR_ID), C(CTXMIG_PCI_SUBSYSTEM_ID),
	C(CTXMIG_PCI_REVISION), C(CTXMIG_PCI_CLASS), C(CTXMIG_PCI_BAR0_SIZE),
	C(CTXMIG_CTL_BASE), C(CTXMIG_CTL_SIZE),
	C(CTXMIG_CTL_MAGIC), C(CTXMIG_CTL_MODEL), C(CTXMIG_CTL_MIGRATED),
	C(CTXMIG_CTL_IRQ_STATUS), C(CTXMIG_CTL_IRQ_ENABLE),
	C(CTXMIG_CTL_ENG_STATUS), C(CTXMIG_CTL_ENG_ERROR),
	C(CTXMIG_CTL_VERSION), C(CTXMIG_CTL_FENCE_LO), C(CTXMIG_CTL_FENCE_HI),
	C(CTXMIG_CTL_FAULT_VA_LO), C(CTXMIG_CTL_FAULT_VA_HI),
	C(CTXMIG_CTL_VA_BITS), C(CTXMIG_CTL_GUEST_VRAM_LO),
	C(CTXMIG_CTL_GUEST_VRAM_HI), C(CTXMIG_CTL_MAGIC_VALUE),
	C(CTXMIG_CTL_VERSION_MAJOR), C(CTXMIG_CTL_VERSION_MINOR),
	C(CTXMIG_CTL_VERSION_VALUE),
	C(CTXMIG_IRQ_FENCE), C(CTXMIG_IRQ_ERROR), C(CTXMIG_IRQ_MIGRATED),
	C(CTXMIG_IRQ_ALL),
	C(CTXMIG_ENG_IDLE), C(CTXMIG_ENG_BUSY), C(CTXMIG_ENG_ERROR),
	C(CTXMIG_MODEL_INVALID), C(CTXMIG_MODEL_AMD_GFX9),
	C(CTXMIG_MODEL_AMD_GFX12), C(CTXMIG_MODEL_INTEL_GEN12),
	C(CTXMIG_MODEL_NV_AMPERE), C(CTXMIG_MODEL_NV_HOPPER),
};

static int const_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(consts); i++)
		if (!strcmp(consts[i].name, name))
			return i;
	return -1;
}

/* The file's lines, NUL-terminated in one buffer; NULL if unreadable. */
static char **read_lines(const char *path, unsigned int *n)
{
	FILE *f = fopen(path, "r");
	char **lines = NULL, buf[512];
	unsigned int cap = 0;

	*n = 0;
	if (!f)
		return NULL;
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (*n == cap) {
			cap = cap ? 2 * cap : 256;
			lines = realloc(lines, cap * sizeof(*lines));
		}
		lines[(*n)++] = strdup(buf);
	}
	fclose(f);
	return lines;
}

static void free_lines(char **lines, unsigned int n)
{
	while (n--)
		free(lines[n]);
	free(lines);
}

/* A whole token that is a number (C syntax); false otherwise. */
static bool parse_number(const char *tok, unsigned long long *v)
{
	char *end;

	if (!isdigit((unsigned char)*tok))
		return false;
	errno = 0;
	*v = strtoull(tok, &end, 0);
	return !errno && (!*end || isspace((unsigned char)*end));
}

static const char *next_token(const char *p)
{
	while (*p && !isspace((unsigned char)*p))
		p++;
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* The header defines exactly the list's names of the guest interface. */
TEST(every_guest_constant_of_the_header_is_listed)
{
	static const char *const pat =
		"^(#define[ \t]+|[ \t]+)(CTXMIG_(PCI|CTL|IRQ|ENG|MODEL)_[A-Z0-9_]+)";
	bool seen[ARRAY_SIZE(consts)] = {};
	unsigned int n, i;
	char **lines = read_lines(UAPI, &n);
	regex_t re;

	CHECK(lines, "cannot read %s", UAPI);
	if (!lines)
		return;
	CHECK_EQ(regcomp(&re, pat, REG_EXTENDED), 0);
	for (i = 0; i < n; i++) {
		regmatch_t m[3];
		char name[64];
		int k;

		if (regexec(&re, lines[i], 3, m, 0))
			continue;
		snprintf(name, sizeof(name), "%.*s",
			 (int)(m[2].rm_eo - m[2].rm_so), lines[i] + m[2].rm_so);
		k = const_index(name);
		CHECK(k >= 0, "%s:%u: %s is not in spec_test's list", UAPI,
		      i + 1, name);
		if (k >= 0)
			seen[k] = true;
	}
	for (i = 0; i < ARRAY_SIZE(consts); i++)
		CHECK(seen[i], "%s is not defined in %s", consts[i].name, UAPI);
	regfree(&re);
	free_lines(lines, n);
}

/* Every row naming a constant gives its value; every constant has one. */
TEST(the_specification_gives_the_header_values)
{
	bool seen[ARRAY_SIZE(consts)] = {};
	unsigned int n, i, rows = 0;
	char **lines = read_lines(SPEC, &n);

	CHECK(lines, "cannot read %s", SPEC);
	if (!lines)
		return;
	for (i = 0; i < n; i++) {
		const char *p = lines[i], *end;
		unsigned long long v;
		char name[64];
		int k;

		if (strncmp(p, "``CTXMIG_", 9))
			continue;
		end = strstr(p + 2, "``");
		/* A table row: the next column is two spaces on at least. */
		if (!end || end - p - 2 >= (int)sizeof(name) ||
		    strncmp(end + 2, "  ", 2))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(end - p - 2), p + 2);
		rows++;
		k = const_index(name);
		CHECK(k >= 0, "%s:%u: %s is not a guest interface constant",
		      SPEC, i + 1, name);
		if (k < 0)
			continue;
		CHECK(parse_number(next_token(p), &v), "%s:%u: %s has no value",
		      SPEC, i + 1, name);
		if (!parse_number(next_token(p), &v))
			continue;
		CHECK(v == consts[k].value, "%s:%u: %s is 0x%llx, the header 0x%llx",
		      SPEC, i + 1, name, v, consts[k].value);
		seen[k] = true;
		/* The models' table names each model. */
		if (!strncmp(name, "CTXMIG_MODEL_", 13) && v) {
			const struct ctxmig_model *m = ctxmig_model_find(v);
			const char *model = next_token(next_token(p));

			CHECK(m && !strncmp(model, m->name, strlen(m->name)),
			      "%s:%u: model %llu is not named %.12s", SPEC,
			      i + 1, v, model);
		}
	}
	for (i = 0; i < ARRAY_SIZE(consts); i++)
		CHECK(seen[i], "%s has no row in %s", consts[i].name, SPEC);
	CHECK(rows >= ARRAY_SIZE(consts), "%u rows", rows);
	free_lines(lines, n);
}

struct reg_row {
	char name[40];
	u32 offset;
	u32 reset;
};

#define MAX_REGS	32

/* The register table after line @at: its rows; -1 if malformed. */
static int read_reg_table(char **lines, unsigned int n, unsigned int at,
			  struct reg_row *rows)
{
	unsigned int borders = 0, nrows = 0;

	for (; at < n && borders < 3; at++) {
		const char *p = lines[at];
		unsigned long long off, reset;
		const char *tok;

		if (p[0] == '=') {
			borders++;
			continue;
		}
		/* Rows of the body only, not their continuation lines. */
		if (borders != 2 || !p[0] || isspace((unsigned char)p[0]))
			continue;
		if (nrows == MAX_REGS)
			return -1;
		tok = next_token(p);
		if (!parse_number(tok, &off))
			return -1;
		tok = next_token(tok);
		if (strncmp(tok, "RW ", 3))
			return -1;
		if (!parse_number(next_token(tok), &reset))
			return -1;
		snprintf(rows[nrows].name, sizeof(rows[nrows].name), "%.*s",
			 (int)strcspn(p, " "), p);
		rows[nrows].offset = off;
		rows[nrows].reset = reset;
		nrows++;
	}
	return borders == 3 ? (int)nrows : -1;
}

static const struct reg_row *find_reg(const struct reg_row *rows, int n,
				      u32 offset)
{
	int i;

	for (i = 0; i < n; i++)
		if (rows[i].offset == offset)
			return &rows[i];
	return NULL;
}

/*
 * Dwords below the control page that the model's register operations
 * write, with the file filled with @fill first: set in @touched.
 */
static void probe_registers(struct ctxmig_gpu *gpu, u32 fill, bool *touched)
{
	const struct ctxmig_model *m = gpu->model;
	u32 nd = CTXMIG_CTL_BASE / 4, i;
	struct ctxmig_ring ring = {
		.base = (0x5a5a5a5000ULL >> 8) & ~((u64)m->ring_align - 1),
		.size = m->ring_min * 2,
		.flags = CTXMIG_RING_ENABLED,
		.head = m->ring_slot,
		.tail = m->ring_slot * 3,
	};

	for (i = 0; i < nd; i++)
		gpu->mmio[i] = fill;
	m->reset(gpu);
	CHECK_EQ(m->ring_set(gpu, 0, &ring), 0);
	m->set_head(gpu, 0, m->ring_slot * 2);
	m->set_pt_root(gpu, 0x3a5000);
	for (i = 0; i < nd; i++)
		if (gpu->mmio[i] != fill)
			touched[i] = true;
}

TEST(model_register_tables_are_the_models_registers)
{
	unsigned int n, i, tables = 0;
	char **lines = read_lines(SPEC, &n);
	const struct ctxmig_model *m;

	CHECK(lines, "cannot read %s", SPEC);
	if (!lines)
		return;
	for (i = 0; (m = ctxmig_model_at(i)); i++) {
		static bool touched[CTXMIG_CTL_BASE / 4];
		struct reg_row rows[MAX_REGS];
		char marker[64];
		struct ctxmig_gpu gpu;
		unsigned int at, k;
		int nrows = -1;

		snprintf(marker, sizeof(marker), ".. ctxmig-registers: %s",
			 m->name);
		for (at = 0; at < n && strcmp(lines[at], marker); at++)
			;
		CHECK(at < n, "%s has no register table", m->name);
		if (at < n)
			nrows = read_reg_table(lines, n, at + 1, rows);
		CHECK(nrows > 0, "%s's register table is malformed", m->name);
		if (nrows <= 0)
			continue;
		tables++;
		CHECK_EQ(m->mmio_size, CTXMIG_PCI_BAR0_SIZE);
		CHECK_EQ(ctxmig_gpu_init(&gpu, m, 16 << 20), 0);
		for (k = 0; k < (unsigned int)nrows; k++) {
			const struct reg_row *r = &rows[k];

			CHECK(r->offset < CTXMIG_CTL_BASE && !(r->offset & 3),
			      "%s %s at 0x%x", m->name, r->name, r->offset);
			if (r->offset >= CTXMIG_CTL_BASE || (r->offset & 3))
				continue;
			CHECK(gpu.mmio[r->offset / 4] == r->reset,
			      "%s %s resets to 0x%x, the table says 0x%x",
			      m->name, r->name, gpu.mmio[r->offset / 4],
			      r->reset);
		}
		for (k = 0; k < CTXMIG_CTL_BASE / 4; k++)
			CHECK(!gpu.mmio[k] || find_reg(rows, nrows, k * 4),
			      "%s: BAR0 0x%x resets to 0x%x, not in the table",
			      m->name, k * 4, gpu.mmio[k]);
		memset(touched, 0, sizeof(touched));
		probe_registers(&gpu, 0xa5a5a5a5, touched);
		probe_registers(&gpu, 0x5a5a5a5a, touched);
		for (k = 0; k < CTXMIG_CTL_BASE / 4; k++)
			CHECK(!touched[k] || find_reg(rows, nrows, k * 4),
			      "%s uses BAR0 0x%x, not in the table", m->name,
			      k * 4);
		ctxmig_gpu_fini(&gpu);
	}
	CHECK(tables >= 5, "%u register tables", tables);
	free_lines(lines, n);
}

int main(void)
{
	return host_main("spec_test");
}
