// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig IR codec test catalogue, shared by the KUnit suite
 * (ctxmig_ir_kunit.c) and the host tests (tools/testing/ctxmig/host): one
 * stream per validation rule, built with the writer (which emits whatever
 * it is told, with a correct CRC), optionally patched as raw bytes
 * afterwards, and the errno the reader must answer with.
 *
 * Included, not linked: both harnesses #include this file.
 */

/* The stream every case starts from: two engines, all page sizes. */
static const struct ctxmig_caps case_caps = {
	.model = CTXMIG_MODEL_AMD_GFX9,
	.features = CTXMIG_FEAT_ALL,
	.vram_size = 256ULL << 20,
	.va_bits = 48,
	.num_engines = 2,
	.page_sizes = (1U << 12) | (1U << 16) | (1U << 21) | (1U << 30),
};

static const struct ctxmig_identity case_id = {
	.pci_vendor = 0x1af4,
	.pci_device = 0x10f0,
	.revision = 1,
	.model = CTXMIG_MODEL_AMD_GFX9,
	.name = "amd-gfx9",
	.migrated = 7,
};

static const struct ctxmig_ring case_ring[2] = {
	{ .engine = 0, .flags = CTXMIG_RING_ENABLED, .base = 0x100000,
	  .size = 4096, .head = 64, .tail = 256, .ib_va_base = 1ULL << 40 },
	{ .engine = 1, .flags = 0, .base = 0x200000, .size = 8192 },
};

static const struct ctxmig_fence case_fence = {
	.emitted = 42, .signalled = 40, .addr = 0x300000,
};

static const struct ctxmig_irq case_irq = {
	.enabled = CTXMIG_IRQ_FENCE, .pending = CTXMIG_IRQ_FENCE,
};

static const struct ctxmig_cmd case_cmds[] = {
	{ .engine = 0, .op = CTXMIG_OP_NOP },
	{ .engine = 0, .op = CTXMIG_OP_WRITE32, .dst = 0x400000,
	  .value = 0xdeadbeef },
	{ .engine = 0, .op = CTXMIG_OP_WRITE64, .dst = 0x400008,
	  .value = 0x0123456789abcdefULL },
	{ .engine = 0, .op = CTXMIG_OP_COPY, .dst = 0x500000, .src = 0x400000,
	  .value = 4096 },
	{ .engine = 0, .op = CTXMIG_OP_IB, .src = 0x600000, .value = 256,
	  .dst = 64 },
	{ .engine = 0, .op = CTXMIG_OP_WRITE32, .level = 1, .dst = 0x400010,
	  .value = 7 },
	{ .engine = 0, .op = CTXMIG_OP_IB, .level = 1, .src = 0x610000,
	  .value = 64 },
	{ .engine = 0, .op = CTXMIG_OP_NOP, .level = 2 },
	{ .engine = 0, .op = CTXMIG_OP_FENCE, .level = 1,
	  .flags = CTXMIG_CMD_IRQ | CTXMIG_CMD_FENCE64, .dst = 0x300000,
	  .value = 41 },
	{ .engine = 0, .op = CTXMIG_OP_FENCE, .flags = CTXMIG_CMD_IRQ,
	  .dst = 0x300000, .value = 42 },
	{ .engine = 1, .op = CTXMIG_OP_NOP },
	{ .engine = 1, .op = CTXMIG_OP_NOP, .flags = CTXMIG_CMD_IRQ },
	{ .engine = 1, .op = CTXMIG_OP_IB, .flags = CTXMIG_CMD_IB_PRIVATE,
	  .value = 64 },
	{ .engine = 1, .op = CTXMIG_OP_NOP, .level = 1 },
};

static const struct ctxmig_mapping case_maps[] = {
	{ .va = 0x100000, .size = 0x100000, .addr = 0x100000,
	  .flags = CTXMIG_MAP_READ, .cache = CTXMIG_CACHE_UNCACHED,
	  .page_shift = 12 },
	{ .va = 0x200000, .size = 0x600000, .addr = 0x200000,
	  .flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE | CTXMIG_MAP_EXEC,
	  .cache = CTXMIG_CACHE_CACHED, .page_shift = 21 },
	{ .va = 0x80000000ULL, .size = 0x10000, .addr = 0x7fff0000ULL,
	  .flags = CTXMIG_MAP_READ | CTXMIG_MAP_WRITE | CTXMIG_MAP_SYSMEM |
		   CTXMIG_MAP_SNOOP,
	  .cache = CTXMIG_CACHE_WC, .page_shift = 16 },
};

/* Two pages of data around a zero page: one VRAM, VRAM_ZERO, VRAM. */
#define CASE_VRAM_LEN	(3 * CTXMIG_IR_VRAM_PAGE_SIZE)
static u8 case_vram[CASE_VRAM_LEN];

static void case_fill_vram(void)
{
	unsigned int i;

	for (i = 0; i < CASE_VRAM_LEN; i++)
		case_vram[i] = (u8)(i * 31 + 7);
	memset(case_vram + CTXMIG_IR_VRAM_PAGE_SIZE, 0, CTXMIG_IR_VRAM_PAGE_SIZE);
}

/* Knobs a case turns on the standard stream. */
struct case_opts {
	struct ctxmig_caps caps;	/* preamble */
	struct ctxmig_caps dev_caps;	/* DEV_CAPS record */
	struct ctxmig_identity id;
	struct ctxmig_ring ring[2];
	struct ctxmig_fence fence;
	struct ctxmig_irq irq;
	bool no_engine1;
	bool no_body;
	bool no_end;
};

static void case_default_opts(struct case_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->caps = case_caps;
	o->dev_caps = case_caps;
	o->id = case_id;
	o->ring[0] = case_ring[0];
	o->ring[1] = case_ring[1];
	o->fence = case_fence;
	o->irq = case_irq;
}

/* Preamble, DEVICE and both ENGINEs: what every valid stream starts with. */
static int case_head(struct ctxmig_ir_writer *w, const struct case_opts *o)
{
	int err;

	err = ctxmig_ir_put_preamble(w, &o->caps);
	if (!err)
		err = ctxmig_ir_put_device(w, &o->id, &o->dev_caps);
	if (!err)
		err = ctxmig_ir_put_engine(w, &o->ring[0], &o->fence, &o->irq);
	if (!err && !o->no_engine1)
		err = ctxmig_ir_put_engine(w, &o->ring[1], NULL, NULL);
	return err;
}

/* The full valid stream with every record type. */
static int case_body(struct ctxmig_ir_writer *w)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(case_cmds) && !err; i++)
		err = ctxmig_ir_put_cmd(w, &case_cmds[i]);
	for (i = 0; i < ARRAY_SIZE(case_maps) && !err; i++)
		err = ctxmig_ir_put_mapping(w, &case_maps[i]);
	if (!err)
		err = ctxmig_ir_put_vram(w, 0x10000, case_vram, CASE_VRAM_LEN);
	if (!err)
		err = ctxmig_ir_put_vram_zero(w, 0x100000, 0x200000);
	return err;
}

static int case_valid_opts(struct ctxmig_ir_writer *w, const struct case_opts *o)
{
	int err = case_head(w, o);

	if (!err && !o->no_body)
		err = case_body(w);
	if (!err && !o->no_end)
		err = ctxmig_ir_put_end(w);
	return err;
}

static int build_valid(struct ctxmig_ir_writer *w)
{
	struct case_opts o;

	case_default_opts(&o);
	return case_valid_opts(w, &o);
}

/* A valid stream with one extra leaf record written just before END. */
static int case_with_record(struct ctxmig_ir_writer *w, u16 type, u16 flags,
			    const void *payload, u32 len)
{
	struct case_opts o;
	int err;

	case_default_opts(&o);
	err = case_head(w, &o);
	if (!err)
		err = case_body(w);
	if (!err)
		err = ctxmig_ir_put(w, type, flags, payload, len);
	if (!err)
		err = ctxmig_ir_put_end(w);
	return err;
}

/* Raw stream patching, after the writer is done. */
static struct ctxmig_ir_rec *case_find(u8 *buf, size_t len, u16 type,
				       unsigned int nth)
{
	size_t off = le32_to_cpu(((struct ctxmig_ir_preamble *)buf)->preamble_len);

	while (off + sizeof(struct ctxmig_ir_rec) <= len) {
		struct ctxmig_ir_rec *rec = (void *)(buf + off);
		u16 flags = le16_to_cpu(rec->flags);

		if (le16_to_cpu(rec->type) == type && !nth--)
			return rec;
		off += sizeof(*rec);
		if (!(flags & CTXMIG_IR_F_CONTAINER))
			off += ALIGN(le32_to_cpu(rec->len), CTXMIG_IR_ALIGN);
	}
	return NULL;
}

/* Recompute the preamble CRC and the END CRC after a patch. */
static void case_fix_crcs(u8 *buf, size_t len)
{
	struct ctxmig_ir_preamble *p = (void *)buf;
	struct ctxmig_ir_rec *end = case_find(buf, len, CTXMIG_IR_END, 0);

	size_t crc_len = offsetof(struct ctxmig_ir_preamble, preamble_crc);

	p->preamble_crc = cpu_to_le32(~ctxmig_ir_crc32c(~0U, p, crc_len));
	if (end) {
		struct ctxmig_ir_end *e = (void *)(end + 1);

		e->crc32c = cpu_to_le32(~ctxmig_ir_crc32c(~0U, buf,
							  (u8 *)e - buf));
	}
}

#define PATCH(name)	static void name(u8 *buf, size_t *len)
#define PRE(buf)	((struct ctxmig_ir_preamble *)(buf))

PATCH(patch_magic) { PRE(buf)->magic ^= cpu_to_le64(1); case_fix_crcs(buf, *len); }
PATCH(patch_major) { PRE(buf)->version_major = cpu_to_le16(2); case_fix_crcs(buf, *len); }
PATCH(patch_plen_odd) { PRE(buf)->preamble_len = cpu_to_le32(52); case_fix_crcs(buf, *len); }
PATCH(patch_plen_short) { PRE(buf)->preamble_len = cpu_to_le32(40); case_fix_crcs(buf, *len); }
PATCH(patch_plen_huge) { PRE(buf)->preamble_len = cpu_to_le32(1U << 20); case_fix_crcs(buf, *len); }
PATCH(patch_pcrc) { PRE(buf)->preamble_crc ^= cpu_to_le32(1); }
PATCH(patch_preserved) { PRE(buf)->reserved = cpu_to_le16(1); case_fix_crcs(buf, *len); }

/* A newer minor with 8 more preamble bytes: must be accepted. */
PATCH(patch_minor_longer)
{
	memmove(buf + 56, buf + 48, *len - 48);
	memset(buf + 48, 0xab, 8);
	*len += 8;
	PRE(buf)->version_minor = cpu_to_le16(CTXMIG_IR_VERSION_MINOR + 1);
	PRE(buf)->preamble_len = cpu_to_le32(56);
	case_fix_crcs(buf, *len);
}

PATCH(patch_bitflip_vram)
{
	struct ctxmig_ir_rec *rec = case_find(buf, *len, CTXMIG_IR_VRAM, 0);

	((u8 *)(rec + 1))[100] ^= 0x10;
}

PATCH(patch_end_crc)
{
	struct ctxmig_ir_rec *rec = case_find(buf, *len, CTXMIG_IR_END, 0);

	((struct ctxmig_ir_end *)(rec + 1))->crc32c ^= cpu_to_le32(0x80);
}

PATCH(patch_end_count)
{
	struct ctxmig_ir_rec *rec = case_find(buf, *len, CTXMIG_IR_END, 0);
	struct ctxmig_ir_end *e = (void *)(rec + 1);

	e->records = cpu_to_le64(le64_to_cpu(e->records) + 1);
}

PATCH(patch_end_reserved)
{
	struct ctxmig_ir_rec *rec = case_find(buf, *len, CTXMIG_IR_END, 0);

	((struct ctxmig_ir_end *)(rec + 1))->reserved = cpu_to_le32(1);
}

PATCH(patch_trailing)
{
	memset(buf + *len, 0, 8);
	*len += 8;
}

PATCH(patch_truncate_end) { *len -= 8; }

PATCH(patch_hdr_flags)
{
	struct ctxmig_ir_rec *rec = case_find(buf, *len, CTXMIG_IR_MAPPING, 0);

	rec->flags |= cpu_to_le16(0x100);
	case_fix_crcs(buf, *len);
}

PATCH(patch_padding)
{
	/* build_vram_pad's record, just before END, ends in padding. */
	struct ctxmig_ir_rec *end = case_find(buf, *len, CTXMIG_IR_END, 0);

	((u8 *)end)[-1] = 1;
	case_fix_crcs(buf, *len);
}

PATCH(patch_container_overrun)
{
	/* DEV_CAPS claims 8 bytes more than DEVICE holds. */
	struct ctxmig_ir_rec *rec = case_find(buf, *len, CTXMIG_IR_DEV_CAPS, 0);

	rec->len = cpu_to_le32(le32_to_cpu(rec->len) + 8);
	case_fix_crcs(buf, *len);
}

PATCH(patch_device_flags)
{
	struct ctxmig_ir_rec *rec = case_find(buf, *len, CTXMIG_IR_DEVICE, 0);

	rec->flags = cpu_to_le16(CTXMIG_IR_F_CRITICAL);
	case_fix_crcs(buf, *len);
}

PATCH(patch_huge_len)
{
	struct ctxmig_ir_rec *rec = case_find(buf, *len, CTXMIG_IR_VRAM, 0);

	rec->len = cpu_to_le32(0xfffffff0U);
	case_fix_crcs(buf, *len);
}

PATCH(patch_short_len)
{
	struct ctxmig_ir_rec *rec = case_find(buf, *len, CTXMIG_IR_MAPPING, 0);

	rec->len = cpu_to_le32(8);
	case_fix_crcs(buf, *len);
}

PATCH(patch_vram_length)
{
	struct ctxmig_ir_rec *rec = case_find(buf, *len, CTXMIG_IR_VRAM, 0);
	struct ctxmig_ir_vram *v = (void *)(rec + 1);

	v->length = cpu_to_le64(le64_to_cpu(v->length) - 8);
	case_fix_crcs(buf, *len);
}

/* Case builders: a stream where exactly one rule is broken. */
#define BUILD(name)	static int name(struct ctxmig_ir_writer *w)
#define WITH_OPTS(name, stmt)						\
	static int build_##name(struct ctxmig_ir_writer *w)		\
	{								\
		struct case_opts o;					\
		case_default_opts(&o);					\
		stmt;							\
		return case_valid_opts(w, &o);				\
	}

WITH_OPTS(model0, o.caps.model = 0; o.dev_caps.model = 0; o.id.model = 0)
WITH_OPTS(feature, o.caps.features |= 1U << 20;
	  o.dev_caps.features = o.caps.features)
WITH_OPTS(vram0, o.caps.vram_size = 0; o.dev_caps.vram_size = 0)
WITH_OPTS(vram_unaligned, o.caps.vram_size = 12345;
	  o.dev_caps.vram_size = 12345)
WITH_OPTS(va_bits, o.caps.va_bits = 20; o.dev_caps.va_bits = 20)
WITH_OPTS(engines0, o.caps.num_engines = 0; o.dev_caps.num_engines = 0)
WITH_OPTS(engines9, o.caps.num_engines = 9; o.dev_caps.num_engines = 9)
WITH_OPTS(pages, o.caps.page_sizes = 1U << 21;
	  o.dev_caps.page_sizes = 1U << 21)
WITH_OPTS(id_model, o.id.model = CTXMIG_MODEL_NV_AMPERE)
WITH_OPTS(caps_mismatch, o.dev_caps.vram_size <<= 1)
WITH_OPTS(ring_engine, o.ring[1].engine = 2)
WITH_OPTS(ring_dup, o.ring[1].engine = 0)
WITH_OPTS(ring_size, o.ring[0].size = 3000)
WITH_OPTS(ring_head, o.ring[0].head = 4096)
WITH_OPTS(ring_tail_align, o.ring[0].tail = 2)
WITH_OPTS(ring_flags, o.ring[0].flags = 0x10)
WITH_OPTS(ring_va, o.ring[0].base = 1ULL << 48)
WITH_OPTS(ring_ib_va_base, o.ring[0].ib_va_base = 1ULL << 48)
WITH_OPTS(fence_order, o.fence.signalled = 43)
WITH_OPTS(fence_va, o.fence.addr = 3)
WITH_OPTS(irq_bits, o.irq.pending = 0x80)
WITH_OPTS(missing_engine, o.no_engine1 = true; o.no_body = true)
WITH_OPTS(no_end, o.no_end = true)

BUILD(build_first_not_device)
{
	struct ctxmig_mapping m = case_maps[0];
	int err = ctxmig_ir_put_preamble(w, &case_caps);

	if (!err)
		err = ctxmig_ir_put_mapping(w, &m);
	return err;
}

BUILD(build_two_devices)
{
	int err = ctxmig_ir_put_preamble(w, &case_caps);

	if (!err)
		err = ctxmig_ir_put_device(w, &case_id, &case_caps);
	if (!err)
		err = ctxmig_ir_put_device(w, &case_id, &case_caps);
	return err;
}

/* case_caps as DEV_CAPS carries them. */
static struct ctxmig_ir_dev_caps case_wire_caps(void)
{
	return (struct ctxmig_ir_dev_caps) {
		.vram_size = cpu_to_le64(case_caps.vram_size),
		.features = cpu_to_le32(case_caps.features),
		.page_sizes = cpu_to_le32(case_caps.page_sizes),
		.va_bits = case_caps.va_bits,
		.num_engines = case_caps.num_engines,
	};
}

static int put_device_with(struct ctxmig_ir_writer *w, bool identity,
			   bool caps, u16 extra_type)
{
	struct ctxmig_ir_dev_identity wid = {
		.model = cpu_to_le32(case_id.model),
	};
	struct ctxmig_ir_dev_caps wcaps = case_wire_caps();
	struct ctxmig_ir_eng_ring wring = { .size = cpu_to_le32(4096) };
	int err = ctxmig_ir_put_preamble(w, &case_caps);

	if (!err)
		err = ctxmig_ir_nest_start(w, CTXMIG_IR_DEVICE);
	if (!err && identity)
		err = ctxmig_ir_put(w, CTXMIG_IR_DEV_IDENTITY,
				    CTXMIG_IR_F_CRITICAL, &wid, sizeof(wid));
	if (!err && extra_type == CTXMIG_IR_ENG_RING)
		err = ctxmig_ir_put(w, CTXMIG_IR_ENG_RING, CTXMIG_IR_F_CRITICAL,
				    &wring, sizeof(wring));
	if (!err && extra_type == CTXMIG_IR_DEVICE)
		err = ctxmig_ir_nest_start(w, CTXMIG_IR_DEVICE);
	if (!err && extra_type == CTXMIG_IR_DEVICE)
		err = ctxmig_ir_nest_end(w);
	if (!err && caps)
		err = ctxmig_ir_put(w, CTXMIG_IR_DEV_CAPS, CTXMIG_IR_F_CRITICAL,
				    &wcaps, sizeof(wcaps));
	if (!err && extra_type == CTXMIG_IR_DEV_CAPS)
		err = ctxmig_ir_put(w, CTXMIG_IR_DEV_CAPS, CTXMIG_IR_F_CRITICAL,
				    &wcaps, sizeof(wcaps));
	if (!err)
		err = ctxmig_ir_nest_end(w);
	if (!err)
		err = ctxmig_ir_put_end(w);
	return err;
}

/* A stream of version 1.0's ENG_RING: 32 bytes, no ib_va_base. */
BUILD(build_ring_v1_0)
{
	int err = ctxmig_ir_put_preamble(w, &case_caps);
	u32 e;

	if (!err)
		err = ctxmig_ir_put_device(w, &case_id, &case_caps);
	for (e = 0; !err && e < case_caps.num_engines; e++) {
		struct ctxmig_ir_eng_ring wring = {
			.engine = cpu_to_le32(e),
			.base = cpu_to_le64(case_ring[e].base),
			.size = cpu_to_le32(case_ring[e].size),
		};

		err = ctxmig_ir_nest_start(w, CTXMIG_IR_ENGINE);
		if (!err)
			err = ctxmig_ir_put(w, CTXMIG_IR_ENG_RING,
					    CTXMIG_IR_F_CRITICAL, &wring,
					    offsetof(struct ctxmig_ir_eng_ring,
						     ib_va_base));
		if (!err)
			err = ctxmig_ir_nest_end(w);
	}
	if (!err)
		err = ctxmig_ir_put_end(w);
	return err;
}

/* Version 1.1's DEV_IDENTITY: 32 bytes, no migrated; or with reserved2. */
static int put_identity_version(struct ctxmig_ir_writer *w, bool v1_1)
{
	struct ctxmig_ir_dev_identity wid = {
		.model = cpu_to_le32(case_id.model),
		.migrated = cpu_to_le32(case_id.migrated),
		.reserved2 = cpu_to_le32(!v1_1),
	};
	struct ctxmig_ir_dev_caps wcaps = case_wire_caps();
	int err = ctxmig_ir_put_preamble(w, &case_caps);
	u32 e;

	if (!err)
		err = ctxmig_ir_nest_start(w, CTXMIG_IR_DEVICE);
	if (!err)
		err = ctxmig_ir_put(w, CTXMIG_IR_DEV_IDENTITY,
				    CTXMIG_IR_F_CRITICAL, &wid,
				    v1_1 ? offsetof(typeof(wid), migrated) :
					   sizeof(wid));
	if (!err)
		err = ctxmig_ir_put(w, CTXMIG_IR_DEV_CAPS, CTXMIG_IR_F_CRITICAL,
				    &wcaps, sizeof(wcaps));
	if (!err)
		err = ctxmig_ir_nest_end(w);
	for (e = 0; !err && e < case_caps.num_engines; e++)
		err = ctxmig_ir_put_engine(w, &case_ring[e], NULL, NULL);
	if (!err)
		err = ctxmig_ir_put_end(w);
	return err;
}

BUILD(build_identity_v1_1) { return put_identity_version(w, true); }
BUILD(build_identity_reserved2) { return put_identity_version(w, false); }

BUILD(build_device_no_caps) { return put_device_with(w, true, false, 0); }
BUILD(build_device_dup_caps) { return put_device_with(w, true, true, CTXMIG_IR_DEV_CAPS); }
BUILD(build_ring_in_device) { return put_device_with(w, true, true, CTXMIG_IR_ENG_RING); }
BUILD(build_device_in_device) { return put_device_with(w, true, true, CTXMIG_IR_DEVICE); }

BUILD(build_identity_top)
{
	struct ctxmig_ir_dev_identity wid = {
		.model = cpu_to_le32(case_id.model),
	};

	return case_with_record(w, CTXMIG_IR_DEV_IDENTITY, CTXMIG_IR_F_CRITICAL,
				&wid, sizeof(wid));
}

BUILD(build_fence_first)
{
	struct ctxmig_ir_eng_fence wf = {};
	int err;

	err = ctxmig_ir_put_preamble(w, &case_caps);
	if (!err)
		err = ctxmig_ir_put_device(w, &case_id, &case_caps);
	if (!err)
		err = ctxmig_ir_nest_start(w, CTXMIG_IR_ENGINE);
	if (!err)
		err = ctxmig_ir_put(w, CTXMIG_IR_ENG_FENCE, CTXMIG_IR_F_CRITICAL,
				    &wf, sizeof(wf));
	if (!err)
		err = ctxmig_ir_nest_end(w);
	return err;
}

BUILD(build_empty_engine)
{
	int err = ctxmig_ir_put_preamble(w, &case_caps);

	if (!err)
		err = ctxmig_ir_put_device(w, &case_id, &case_caps);
	if (!err)
		err = ctxmig_ir_nest_start(w, CTXMIG_IR_ENGINE);
	if (!err)
		err = ctxmig_ir_nest_end(w);
	return err;
}

BUILD(build_unknown_critical)
{
	u64 payload = 0;

	return case_with_record(w, 0x7001, CTXMIG_IR_F_CRITICAL, &payload,
				sizeof(payload));
}

BUILD(build_unknown_optional)
{
	u8 payload[13] = { 1, 2, 3 };
	int err = case_with_record(w, 0x7002, 0, payload, sizeof(payload));

	return err;
}

BUILD(build_unknown_optional_container)
{
	struct case_opts o;
	u8 payload[8] = { 0 };
	int err;

	case_default_opts(&o);
	err = case_head(w, &o);
	if (!err)
		err = ctxmig_ir_nest_start(w, 0x7003);
	if (!err)
		err = ctxmig_ir_put(w, 0x7004, CTXMIG_IR_F_CRITICAL, payload,
				    sizeof(payload));
	if (!err)
		err = ctxmig_ir_nest_end(w);
	if (!err)
		err = case_body(w);
	if (!err)
		err = ctxmig_ir_put_end(w);
	return err;
}

static int with_cmd(struct ctxmig_ir_writer *w, const struct ctxmig_cmd *cmd)
{
	struct case_opts o;
	int err;

	case_default_opts(&o);
	err = case_head(w, &o);
	if (!err)
		err = ctxmig_ir_put_cmd(w, cmd);
	if (!err)
		err = ctxmig_ir_put_end(w);
	return err;
}

#define CMD_CASE(name, ...)						\
	static int build_##name(struct ctxmig_ir_writer *w)		\
	{								\
		struct ctxmig_cmd c = { __VA_ARGS__ };			\
		return with_cmd(w, &c);					\
	}

CMD_CASE(cmd_engine, .engine = 5, .op = CTXMIG_OP_NOP)
CMD_CASE(cmd_op, .op = 9)
CMD_CASE(cmd_level, .op = CTXMIG_OP_NOP, .level = 1)
CMD_CASE(cmd_flags, .op = CTXMIG_OP_WRITE32, .flags = CTXMIG_CMD_IRQ)
CMD_CASE(cmd_ib_open, .op = CTXMIG_OP_IB, .flags = CTXMIG_CMD_IB_OPEN,
	 .src = 0x100000, .value = 64, .dst = 16)

static int build_cmd_ib_open_late(struct ctxmig_ir_writer *w)
{
	struct ctxmig_cmd nop = { .op = CTXMIG_OP_NOP };
	struct ctxmig_cmd ib = {
		.op = CTXMIG_OP_IB, .flags = CTXMIG_CMD_IB_OPEN,
		.src = 0x100000, .value = 64,
	};
	struct case_opts o;
	int err;

	case_default_opts(&o);
	err = case_head(w, &o);
	err = err ?: ctxmig_ir_put_cmd(w, &nop);
	err = err ?: ctxmig_ir_put_cmd(w, &ib);
	return err ?: ctxmig_ir_put_end(w);
}

CMD_CASE(cmd_ib_private, .op = CTXMIG_OP_IB, .flags = CTXMIG_CMD_IB_PRIVATE,
	 .src = 0x100000, .value = 64)
CMD_CASE(cmd_flag_bits, .op = CTXMIG_OP_FENCE, .flags = 0x40)
CMD_CASE(cmd_nop_args, .op = CTXMIG_OP_NOP, .value = 1)
CMD_CASE(cmd_wide32, .op = CTXMIG_OP_WRITE32, .value = 1ULL << 32)
CMD_CASE(cmd_write_va, .op = CTXMIG_OP_WRITE64, .dst = (1ULL << 48) - 4)
CMD_CASE(cmd_copy_va, .op = CTXMIG_OP_COPY, .src = 0x1000,
	 .dst = (1ULL << 48) - 0x800, .value = 0x1000)
CMD_CASE(cmd_copy_wrap, .op = CTXMIG_OP_COPY, .src = ~0ULL - 8,
	 .dst = 0, .value = 0x1000)
CMD_CASE(cmd_copy0, .op = CTXMIG_OP_COPY, .src = 0x1000, .dst = 0x2000)
CMD_CASE(cmd_ib_progress, .op = CTXMIG_OP_IB, .src = 0x1000,
	 .value = 64, .dst = 68)
CMD_CASE(cmd_ib_unaligned, .op = CTXMIG_OP_IB, .src = 0x1002,
	 .value = 64)
CMD_CASE(cmd_fence32, .op = CTXMIG_OP_FENCE, .dst = 0x1000,
	 .value = 1ULL << 32)

BUILD(build_cmd_deep)
{
	struct case_opts o;
	struct ctxmig_cmd c = { .op = CTXMIG_OP_IB, .src = 0x1000, .value = 64 };
	int err, i;

	case_default_opts(&o);
	err = case_head(w, &o);
	for (i = 0; i <= CTXMIG_IR_MAX_IB_LEVEL + 1 && !err; i++) {
		c.level = i;
		err = ctxmig_ir_put_cmd(w, &c);
	}
	if (!err)
		err = ctxmig_ir_put_end(w);
	return err;
}

/* An IB opened on engine 0 does not open a level for engine 1. */
BUILD(build_cmd_engine_switch)
{
	struct case_opts o;
	struct ctxmig_cmd ib = { .op = CTXMIG_OP_IB, .src = 0x1000, .value = 64 };
	struct ctxmig_cmd nop = { .engine = 1, .op = CTXMIG_OP_NOP, .level = 1 };
	int err;

	case_default_opts(&o);
	err = case_head(w, &o);
	if (!err)
		err = ctxmig_ir_put_cmd(w, &ib);
	if (!err)
		err = ctxmig_ir_put_cmd(w, &nop);
	if (!err)
		err = ctxmig_ir_put_end(w);
	return err;
}

static int with_maps(struct ctxmig_ir_writer *w, const struct ctxmig_mapping *m,
		     unsigned int n)
{
	struct case_opts o;
	unsigned int i;
	int err;

	case_default_opts(&o);
	err = case_head(w, &o);
	for (i = 0; i < n && !err; i++)
		err = ctxmig_ir_put_mapping(w, &m[i]);
	if (!err)
		err = ctxmig_ir_put_end(w);
	return err;
}

#define MAP_CASE(name, ...)						\
	static int build_##name(struct ctxmig_ir_writer *w)		\
	{								\
		struct ctxmig_mapping m[] = { __VA_ARGS__ };		\
		return with_maps(w, m, ARRAY_SIZE(m));			\
	}
#define RW	(CTXMIG_MAP_READ | CTXMIG_MAP_WRITE)

MAP_CASE(map_overlap,
	 { .va = 0x10000, .size = 0x2000, .flags = RW, .page_shift = 12 },
	 { .va = 0x11000, .size = 0x1000, .flags = RW, .page_shift = 12 })
MAP_CASE(map_order,
	 { .va = 0x20000, .size = 0x1000, .flags = RW, .page_shift = 12 },
	 { .va = 0x10000, .size = 0x1000, .flags = RW, .page_shift = 12 })
MAP_CASE(map_align,
	 { .va = 0x1000, .size = 0x200000, .flags = RW, .page_shift = 21 })
MAP_CASE(map_size0,
	 { .va = 0x1000, .size = 0, .flags = RW, .page_shift = 12 })
MAP_CASE(map_pagesize,
	 { .va = 0, .size = 0x2000, .flags = RW, .page_shift = 13 })
MAP_CASE(map_pageshift,
	 { .va = 0, .size = 0x2000, .flags = RW, .page_shift = 200 })
MAP_CASE(map_vram,
	 { .va = 0, .size = 0x2000, .addr = (256ULL << 20) - 0x1000,
	   .flags = RW, .page_shift = 12 })
MAP_CASE(map_va,
	 { .va = (1ULL << 48) - 0x1000, .size = 0x2000, .flags = RW,
	   .page_shift = 12 })
MAP_CASE(map_noaccess,
	 { .va = 0, .size = 0x1000, .flags = CTXMIG_MAP_EXEC, .page_shift = 12 })
MAP_CASE(map_flags,
	 { .va = 0, .size = 0x1000, .flags = RW | 0x100, .page_shift = 12 })
MAP_CASE(map_cache,
	 { .va = 0, .size = 0x1000, .flags = RW, .cache = 9, .page_shift = 12 })
MAP_CASE(map_sys_wrap,
	 { .va = 0, .size = 0x2000, .addr = ~0ULL & ~0xfffULL,
	   .flags = RW | CTXMIG_MAP_SYSMEM, .page_shift = 12 })

static int with_vram(struct ctxmig_ir_writer *w, u16 type, u64 off, u64 len,
		     u32 data)
{
	struct {
		struct ctxmig_ir_vram v;
		u8 data[64];
	} rec = {
		.v = { .offset = cpu_to_le64(off), .length = cpu_to_le64(len) },
		.data = { 1 },
	};

	return case_with_record(w, type, CTXMIG_IR_F_CRITICAL, &rec,
				sizeof(rec.v) + data);
}

BUILD(build_vram_beyond) { return with_vram(w, CTXMIG_IR_VRAM, 256ULL << 20, 64, 64); }
BUILD(build_vram_misaligned) { return with_vram(w, CTXMIG_IR_VRAM, 0x800, 64, 64); }
BUILD(build_vram_empty) { return with_vram(w, CTXMIG_IR_VRAM, 0x1000, 0, 0); }
BUILD(build_vram_pad) { return with_vram(w, CTXMIG_IR_VRAM, 0x1000, 60, 60); }
BUILD(build_zero_partial) { return with_vram(w, CTXMIG_IR_VRAM_ZERO, 0x1000, 0x800, 0); }
BUILD(build_zero_wrap) { return with_vram(w, CTXMIG_IR_VRAM_ZERO, 0x1000, ~0ULL & ~0xfffULL, 0); }

/**
 * struct ctxmig_ir_case - one stream and the reader's expected verdict
 * @name: what rule the stream breaks ("valid..." for accepted streams).
 * @build: writes the stream.
 * @patch: optional raw edit of the written stream; the buffer has 64 bytes
 *	of slack for growth.
 * @expect: 0 or the negative errno the reader must return.
 * @reason: a substring the reason must contain, or NULL.
 */
struct ctxmig_ir_case {
	const char *name;
	int (*build)(struct ctxmig_ir_writer *w);
	void (*patch)(u8 *buf, size_t *len);
	int expect;
	const char *reason;
};

static const struct ctxmig_ir_case ctxmig_ir_cases[] = {
	{ "valid: every record type", build_valid, NULL, 0, NULL },
	{ "valid: newer minor, longer preamble", build_valid, patch_minor_longer, 0, NULL },
	{ "valid: unknown optional record skipped", build_unknown_optional, NULL, 0, NULL },
	{ "valid: version 1.0 ENG_RING", build_ring_v1_0, NULL, 0, NULL },
	{ "valid: version 1.1 DEV_IDENTITY", build_identity_v1_1, NULL, 0, NULL },
	{ "valid: unknown optional container skipped",
	  build_unknown_optional_container, NULL, 0, NULL },
	{ "preamble: bad magic", build_valid, patch_magic, -EINVAL, "magic" },
	{ "preamble: major version 2", build_valid, patch_major, -EPROTONOSUPPORT, "version" },
	{ "preamble: length not 8-aligned",
	  build_valid, patch_plen_odd, -EINVAL, "preamble length" },
	{ "preamble: length below v1", build_valid, patch_plen_short, -EINVAL, "preamble length" },
	{ "preamble: length huge", build_valid, patch_plen_huge, -EINVAL, "preamble length" },
	{ "preamble: CRC", build_valid, patch_pcrc, -EBADMSG, "preamble CRC" },
	{ "preamble: reserved", build_valid, patch_preserved, -EINVAL, "reserved" },
	{ "caps: model 0", build_model0, NULL, -EINVAL, "model" },
	{ "caps: unknown feature", build_feature, NULL, -EOPNOTSUPP, "features" },
	{ "caps: VRAM size 0", build_vram0, NULL, -EINVAL, "VRAM size" },
	{ "caps: VRAM size unaligned", build_vram_unaligned, NULL, -EINVAL, "VRAM size" },
	{ "caps: VA width", build_va_bits, NULL, -EINVAL, "VA width" },
	{ "caps: no engines", build_engines0, NULL, -EINVAL, "engines" },
	{ "caps: too many engines", build_engines9, NULL, -EINVAL, "engines" },
	{ "caps: no 4 KiB pages", build_pages, NULL, -EINVAL, "page sizes" },
	{ "order: first record not DEVICE", build_first_not_device, NULL, -EINVAL, "first record" },
	{ "count: two DEVICEs", build_two_devices, NULL, -EINVAL, "more than 1" },
	{ "count: two DEV_CAPS", build_device_dup_caps, NULL, -EINVAL, "more than 1" },
	{ "container: DEVICE without DEV_CAPS", build_device_no_caps, NULL, -EINVAL, "lacks" },
	{ "container: ENGINE without ENG_RING", build_empty_engine, NULL, -EINVAL, "lacks" },
	{ "container: ENG_FENCE before ENG_RING",
	  build_fence_first, NULL, -EINVAL, "start with ENG_RING" },
	{ "container: record overruns it",
	  build_valid, patch_container_overrun, -EINVAL, "overrun" },
	{ "placement: DEV_IDENTITY at top level",
	  build_identity_top, NULL, -EINVAL, "not allowed" },
	{ "placement: ENG_RING inside DEVICE",
	  build_ring_in_device, NULL, -EINVAL, "not allowed inside DEVICE" },
	{ "nesting: DEVICE inside DEVICE", build_device_in_device, NULL, -EINVAL, "not allowed" },
	{ "header: unknown flag bits", build_valid, patch_hdr_flags, -EINVAL, "header flags" },
	{ "header: container flag missing", build_valid, patch_device_flags, -EINVAL, "flags" },
	{ "header: unknown critical type",
	  build_unknown_critical, NULL, -EOPNOTSUPP, "unknown critical" },
	{ "length: hostile 4 GiB", build_valid, patch_huge_len, -E2BIG, "above maximum" },
	{ "length: below minimum", build_valid, patch_short_len, -EINVAL, "below minimum" },
	{ "valid: VRAM record with padding", build_vram_pad, NULL, 0, NULL },
	{ "padding: not zero", build_vram_pad, patch_padding, -EINVAL, "padding" },
	{ "identity: model differs", build_id_model, NULL, -EINVAL, "differs" },
	{ "identity: reserved2 not zero", build_identity_reserved2, NULL, -EINVAL,
	  "reserved" },
	{ "caps: DEV_CAPS disagree", build_caps_mismatch, NULL, -EINVAL, "disagree" },
	{ "ring: engine index", build_ring_engine, NULL, -ERANGE, "engine" },
	{ "ring: engine twice", build_ring_dup, NULL, -EINVAL, "twice" },
	{ "ring: size not power of two", build_ring_size, NULL, -EINVAL, "power of two" },
	{ "ring: head beyond size", build_ring_head, NULL, -EINVAL, "head" },
	{ "ring: tail unaligned", build_ring_tail_align, NULL, -EINVAL, "tail" },
	{ "ring: unknown flags", build_ring_flags, NULL, -EINVAL, "flags" },
	{ "ring: outside VA", build_ring_va, NULL, -ERANGE, "VA space" },
	{ "ring: entries' VA base outside VA", build_ring_ib_va_base, NULL,
	  -ERANGE, "VA base" },
	{ "fence: signalled > emitted", build_fence_order, NULL, -EINVAL, "signalled" },
	{ "fence: address unaligned", build_fence_va, NULL, -ERANGE, "fence address" },
	{ "irq: unknown bits", build_irq_bits, NULL, -EINVAL, "interrupt" },
	{ "cmd: undeclared engine", build_cmd_engine, NULL, -EINVAL, "before its ENGINE" },
	{ "cmd: unknown opcode", build_cmd_op, NULL, -EOPNOTSUPP, "opcode" },
	{ "cmd: level without IB", build_cmd_level, NULL, -EINVAL, "IB level" },
	{ "cmd: IB nesting too deep", build_cmd_deep, NULL, -EINVAL, "IB level" },
	{ "cmd: IB level across engines", build_cmd_engine_switch, NULL, -EINVAL, "IB level" },
	{ "cmd: flags on a write", build_cmd_flags, NULL, -EINVAL, "not allowed" },
	{ "valid: open indirect buffer first", build_cmd_ib_open, NULL, 0, NULL },
	{ "cmd: open IB after other commands", build_cmd_ib_open_late, NULL,
	  -EINVAL, "open indirect buffer" },
	{ "cmd: private IB with an address", build_cmd_ib_private, NULL, -EINVAL,
	  "private indirect buffer" },
	{ "cmd: unknown flags", build_cmd_flag_bits, NULL, -EINVAL, "command flags" },
	{ "cmd: NOP with operands", build_cmd_nop_args, NULL, -EINVAL, "NOP" },
	{ "cmd: WRITE32 value too wide", build_cmd_wide32, NULL, -EINVAL, "too wide" },
	{ "cmd: write outside VA", build_cmd_write_va, NULL, -ERANGE, "invalid VA" },
	{ "cmd: copy outside VA", build_cmd_copy_va, NULL, -ERANGE, "copy" },
	{ "cmd: copy wraps", build_cmd_copy_wrap, NULL, -ERANGE, "copy" },
	{ "cmd: copy of 0 bytes", build_cmd_copy0, NULL, -ERANGE, "copy" },
	{ "cmd: IB progress beyond size", build_cmd_ib_progress, NULL, -EINVAL, "progress" },
	{ "cmd: IB unaligned", build_cmd_ib_unaligned, NULL, -ERANGE, "indirect" },
	{ "cmd: 32-bit fence value too wide", build_cmd_fence32, NULL, -EINVAL, "too wide" },
	{ "map: overlap", build_map_overlap, NULL, -EINVAL, "overlaps" },
	{ "map: out of order", build_map_order, NULL, -EINVAL, "precedes" },
	{ "map: unaligned to page", build_map_align, NULL, -EINVAL, "aligned" },
	{ "map: empty", build_map_size0, NULL, -EINVAL, "aligned" },
	{ "map: undeclared page size", build_map_pagesize, NULL, -EINVAL, "page size" },
	{ "map: absurd page shift", build_map_pageshift, NULL, -EINVAL, "page size" },
	{ "map: beyond VRAM", build_map_vram, NULL, -ERANGE, "beyond VRAM" },
	{ "map: beyond VA", build_map_va, NULL, -ERANGE, "VA space" },
	{ "map: no access", build_map_noaccess, NULL, -EINVAL, "no access" },
	{ "map: unknown flags", build_map_flags, NULL, -EINVAL, "mapping flags" },
	{ "map: unknown cache policy", build_map_cache, NULL, -EINVAL, "cache" },
	{ "map: system range wraps", build_map_sys_wrap, NULL, -ERANGE, "wraps" },
	{ "vram: beyond VRAM", build_vram_beyond, NULL, -ERANGE, "beyond VRAM" },
	{ "vram: offset unaligned", build_vram_misaligned, NULL, -EINVAL, "page aligned" },
	{ "vram: empty", build_vram_empty, NULL, -EINVAL, "empty" },
	{ "vram: length disagrees with record",
	  build_valid, patch_vram_length, -EINVAL, "data bytes" },
	{ "vram zero: partial page", build_zero_partial, NULL, -EINVAL, "whole pages" },
	{ "vram zero: range wraps", build_zero_wrap, NULL, -ERANGE, "beyond VRAM" },
	{ "end: payload bit flipped", build_valid, patch_bitflip_vram, -EBADMSG, "CRC32C" },
	{ "end: CRC field wrong", build_valid, patch_end_crc, -EBADMSG, "CRC32C" },
	{ "end: record count wrong", build_valid, patch_end_count, -EINVAL, "records" },
	{ "end: reserved", build_valid, patch_end_reserved, -EINVAL, "reserved" },
	{ "end: engine state missing",
	  build_missing_engine, NULL, -EINVAL, "engine state missing" },
	{ "end: trailing data", build_valid, patch_trailing, -EINVAL, "trailing" },
	{ "end: stream truncated in END",
	  build_valid, patch_truncate_end, -ENODATA, "without END" },
	{ "end: no END record", build_no_end, NULL, -ENODATA, "without END" },
};

/* Slack a case's stream buffer has beyond what the writer produced. */
#define CASE_SLACK	64

/**
 * case_write() - run a case's builder and patch into a flat buffer
 * @c: the case.
 * @out: receives a kvmalloc'ed buffer the caller frees with kvfree().
 * @len: receives its length.
 *
 * Return: 0 or a negative errno from the writer (a broken test, not a
 * verdict on the stream).
 */
static int case_write(const struct ctxmig_ir_case *c, u8 **out, size_t *len)
{
	struct ctxmig_ir_writer *w;
	const void *bytes;
	u32 n;
	int err;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	err = ctxmig_ir_writer_init(w, CTXMIG_IR_WRITER_MIN_BUF);
	if (!err)
		err = c->build(w);
	if (!err) {
		bytes = ctxmig_ir_peek(w, &n);
		*out = kvmalloc(n + CASE_SLACK, GFP_KERNEL);
		if (*out) {
			memcpy(*out, bytes, n);
			memset(*out + n, 0, CASE_SLACK);
			*len = n;
			if (c->patch)
				c->patch(*out, len);
		} else {
			err = -ENOMEM;
		}
	}
	ctxmig_ir_writer_fini(w);
	kfree(w);
	return err;
}

/**
 * case_read() - feed a stream to a fresh reader in @chunk-sized writes
 * @buf: stream.
 * @len: its length.
 * @chunk: write size, 0 for all at once.
 * @error: receives the reader's error.
 * @records: receives the number of leaf records the reader delivered.
 *
 * Return: the reader's verdict after finishing the stream.
 */
static int case_read(const u8 *buf, size_t len, size_t chunk,
		     struct ctxmig_ir_error *error, u64 *records)
{
	struct ctxmig_ir_reader *r;
	size_t off = 0;
	int err = 0;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	err = ctxmig_ir_reader_init(r, NULL, NULL);
	if (err)
		goto out;
	if (!chunk)
		chunk = len;
	while (off < len && !err) {
		size_t n = min(chunk, len - off);

		err = ctxmig_ir_feed(r, buf + off, n);
		off += n;
	}
	if (!err)
		err = ctxmig_ir_reader_finish(r);
	*error = r->error;
	if (records)
		*records = r->records;
	ctxmig_ir_reader_fini(r);
out:
	kfree(r);
	return err;
}
