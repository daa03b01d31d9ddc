// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the ctxmig IR codec, compiled into ctxmig_ir.c (as
 * drivers/gpu/drm/xe does) so that they run against the kernel's own
 * crc32c(), allocators and string helpers.  The per-rule catalogue is
 * shared with the host tests.
 */
#include <kunit/test.h>

#include "ctxmig_ir_cases.c"

static void ctxmig_ir_crc32c_known_answer(struct kunit *test)
{
	/* The CRC-32C check value of "123456789" (RFC 3720 B.4). */
	KUNIT_EXPECT_EQ(test, ~ctxmig_ir_crc32c(~0U, "123456789", 9),
			0xe3069283U);
}

static void ctxmig_ir_case_desc(const struct ctxmig_ir_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(ctxmig_ir_case, ctxmig_ir_cases, ctxmig_ir_case_desc);

/* Each catalogue stream, at once and in 7-byte writes: the same verdict. */
static void ctxmig_ir_case_verdict(struct kunit *test)
{
	const struct ctxmig_ir_case *c = test->param_value;
	static const size_t chunks[] = { 0, 7 };
	struct ctxmig_ir_error *e;
	unsigned int i;
	size_t len;
	u8 *buf;

	e = kunit_kzalloc(test, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_ASSERT_EQ(test, case_write(c, &buf, &len), 0);
	for (i = 0; i < ARRAY_SIZE(chunks); i++) {
		int err = case_read(buf, len, chunks[i], e, NULL);

		KUNIT_EXPECT_EQ_MSG(test, err, c->expect, "chunk %zu: %s",
				    chunks[i], e->reason);
		if (c->reason)
			KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(e->reason, c->reason),
						  "reason \"%s\"", e->reason);
	}
	kvfree(buf);
}

/* Events per record type: exactly what the writer says it wrote. */
struct ctxmig_ir_kunit_count {
	u64 records[256];
	u64 zero_bytes;
	u32 vram_crc;
};

static int ctxmig_ir_kunit_event(struct ctxmig_ir_reader *r, void *priv,
				 const struct ctxmig_ir_event *ev)
{
	struct ctxmig_ir_kunit_count *count = priv;

	if (ev->kind == CTXMIG_EV_NEST_END)
		return 0;
	count->records[ev->type & 0xff]++;
	if (ev->type == CTXMIG_IR_VRAM)
		count->vram_crc = ctxmig_ir_crc32c(count->vram_crc,
						   ev->u.vram.data,
						   ev->u.vram.length);
	if (ev->type == CTXMIG_IR_VRAM_ZERO)
		count->zero_bytes += ev->u.vram.length;
	return 0;
}

static const struct ctxmig_ir_reader_ops ctxmig_ir_kunit_ops = {
	.event = ctxmig_ir_kunit_event,
};

static void ctxmig_ir_round_trip(struct kunit *test)
{
	struct ctxmig_ir_kunit_count *count;
	struct ctxmig_ir_writer *w;
	struct ctxmig_ir_reader *r;
	const void *bytes;
	unsigned int t;
	u32 n, crc;

	w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	count = kunit_kzalloc(test, sizeof(*count), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_NOT_NULL(test, count);
	count->vram_crc = ~0U;

	KUNIT_ASSERT_EQ(test, ctxmig_ir_writer_init(w, CTXMIG_IR_WRITER_MIN_BUF), 0);
	KUNIT_ASSERT_EQ(test, build_valid(w), 0);
	KUNIT_ASSERT_EQ(test, ctxmig_ir_reader_init(r, &ctxmig_ir_kunit_ops, count), 0);
	bytes = ctxmig_ir_peek(w, &n);
	KUNIT_EXPECT_EQ(test, ctxmig_ir_feed(r, bytes, n), 0);
	KUNIT_EXPECT_EQ(test, ctxmig_ir_reader_finish(r), 0);

	for (t = 0; t < 256; t++)
		KUNIT_EXPECT_EQ_MSG(test, count->records[t],
				    w->records_by_type[t], "type 0x%x", t);
	KUNIT_EXPECT_EQ(test, count->records[CTXMIG_IR_CMD],
			(u64)ARRAY_SIZE(case_cmds));
	KUNIT_EXPECT_EQ(test, count->records[CTXMIG_IR_MAPPING],
			(u64)ARRAY_SIZE(case_maps));
	/* Pages 0 and 2 travel as data, page 1 as a zero range. */
	crc = ctxmig_ir_crc32c(~0U, case_vram, CTXMIG_IR_VRAM_PAGE_SIZE);
	crc = ctxmig_ir_crc32c(crc, case_vram + 2 * CTXMIG_IR_VRAM_PAGE_SIZE,
			       CTXMIG_IR_VRAM_PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, count->vram_crc, crc);
	KUNIT_EXPECT_EQ(test, count->zero_bytes,
			(u64)CTXMIG_IR_VRAM_PAGE_SIZE + 0x200000);

	ctxmig_ir_reader_fini(r);
	ctxmig_ir_writer_fini(w);
}

/* No prefix of a valid stream is a valid stream. */
static void ctxmig_ir_truncations(struct kunit *test)
{
	static const struct ctxmig_ir_case valid = {
		.name = "valid", .build = build_valid,
	};
	struct ctxmig_ir_error *e;
	size_t len, cut;
	u8 *buf;

	e = kunit_kzalloc(test, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_ASSERT_EQ(test, case_write(&valid, &buf, &len), 0);
	for (cut = 0; cut < len; cut += 8)
		KUNIT_EXPECT_EQ_MSG(test, case_read(buf, cut, 0, e, NULL),
				    -ENODATA, "cut at %zu: %s", cut, e->reason);
	kvfree(buf);
}

static int ctxmig_ir_suite_init(struct kunit_suite *suite)
{
	case_fill_vram();
	return 0;
}

static struct kunit_case ctxmig_ir_test_cases[] = {
	KUNIT_CASE(ctxmig_ir_crc32c_known_answer),
	KUNIT_CASE_PARAM(ctxmig_ir_case_verdict, ctxmig_ir_case_gen_params),
	KUNIT_CASE(ctxmig_ir_round_trip),
	KUNIT_CASE(ctxmig_ir_truncations),
	{}
};

static struct kunit_suite ctxmig_ir_test_suite = {
	.name = "ctxmig_ir",
	.suite_init = ctxmig_ir_suite_init,
	.test_cases = ctxmig_ir_test_cases,
};

kunit_test_suite(ctxmig_ir_test_suite);
