// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig IR codec: the validation policy of every IR version 1 record type.
 *
 * The table at the bottom is the rule book; the decoders above it check the
 * field values of a complete payload and its order relative to the records
 * before it.  Everything here runs on untrusted bytes: every value is
 * checked before it is used, arithmetic on stream values goes through
 * check_add_overflow().
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/overflow.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include "ctxmig_ir.h"
#include "ctxmig_ir_policy.h"

#define fail(r, err, fmt, ...) ctxmig_ir_reader_fail(r, err, fmt, ##__VA_ARGS__)

static bool all_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

/* Does [@va, @va + @len) fit in the source's GPU virtual address space? */
static bool va_range_ok(const struct ctxmig_caps *caps, u64 va, u64 len)
{
	u64 end;

	if (check_add_overflow(va, len, &end))
		return false;
	return caps->va_bits >= 64 || end <= (1ULL << caps->va_bits);
}

/* Does [@off, @off + @len) fit in the source's VRAM? */
static bool vram_range_ok(const struct ctxmig_caps *caps, u64 off, u64 len)
{
	u64 end;

	return !check_add_overflow(off, len, &end) && end <= caps->vram_size;
}

/**
 * ctxmig_ir_caps_check() - validate a capability set read from a stream
 * @caps: decoded preamble or DEV_CAPS.
 * @error: filled in on failure.
 *
 * Return: 0, -EINVAL for an impossible value, -EOPNOTSUPP for a feature this
 * version does not know.
 */
int ctxmig_ir_caps_check(const struct ctxmig_caps *caps,
			 struct ctxmig_ir_error *error)
{
	const u32 page_ok = GENMASK(30, 12);

	if (caps->model == CTXMIG_MODEL_INVALID)
		return ctxmig_ir_set_error(error, -EINVAL, "model is 0");
	if (caps->features & ~CTXMIG_FEAT_ALL)
		return ctxmig_ir_set_error(error, -EOPNOTSUPP,
					   "unknown features 0x%x",
					   caps->features & ~CTXMIG_FEAT_ALL);
	if (!caps->vram_size ||
	    !IS_ALIGNED(caps->vram_size, CTXMIG_IR_VRAM_PAGE_SIZE))
		return ctxmig_ir_set_error(error, -EINVAL,
					   "VRAM size %llu is not a non-zero multiple of 4 KiB",
					   (unsigned long long)caps->vram_size);
	if (caps->va_bits < 32 || caps->va_bits > 64)
		return ctxmig_ir_set_error(error, -EINVAL,
					   "VA width %u outside 32..64",
					   caps->va_bits);
	if (!caps->num_engines || caps->num_engines > CTXMIG_MAX_ENGINES)
		return ctxmig_ir_set_error(error, -EINVAL,
					   "%u engines, expected 1..%u",
					   caps->num_engines, CTXMIG_MAX_ENGINES);
	if (!(caps->page_sizes & BIT(12)) || (caps->page_sizes & ~page_ok))
		return ctxmig_ir_set_error(error, -EINVAL,
					   "page sizes 0x%x: 4 KiB missing or outside 4 KiB..1 GiB",
					   caps->page_sizes);
	return 0;
}

static int decode_identity(struct ctxmig_ir_reader *r, const void *payload,
			   u32 len, struct ctxmig_ir_event *ev)
{
	const struct ctxmig_ir_dev_identity *in = payload;
	struct ctxmig_identity *id = &ev->u.identity;

	if (!all_zero(in->reserved, sizeof(in->reserved)))
		return fail(r, -EINVAL, "reserved bytes not zero");
	id->pci_vendor = le16_to_cpu(in->pci_vendor);
	id->pci_device = le16_to_cpu(in->pci_device);
	id->revision = in->revision;
	id->model = le32_to_cpu(in->model);
	memcpy(id->name, in->name, sizeof(in->name));
	id->name[sizeof(in->name)] = '\0';
	/* Version 1.2's fields; an earlier record ends before them. */
	id->migrated = len >= sizeof(*in) ? le32_to_cpu(in->migrated) : 0;
	if (len >= sizeof(*in) && in->reserved2)
		return fail(r, -EINVAL, "reserved field not zero");
	if (id->model != r->caps.model)
		return fail(r, -EINVAL, "model %u differs from the preamble's %u",
			    id->model, r->caps.model);
	return 0;
}

static int decode_caps(struct ctxmig_ir_reader *r, const void *payload,
		       u32 len, struct ctxmig_ir_event *ev)
{
	const struct ctxmig_ir_dev_caps *in = payload;
	struct ctxmig_caps *caps = &ev->u.caps;

	if (!all_zero(in->reserved, sizeof(in->reserved)))
		return fail(r, -EINVAL, "reserved bytes not zero");
	*caps = r->caps;
	caps->vram_size = le64_to_cpu(in->vram_size);
	caps->features = le32_to_cpu(in->features);
	caps->page_sizes = le32_to_cpu(in->page_sizes);
	caps->va_bits = in->va_bits;
	caps->num_engines = in->num_engines;
	if (caps->vram_size != r->caps.vram_size ||
	    caps->features != r->caps.features ||
	    caps->page_sizes != r->caps.page_sizes ||
	    caps->va_bits != r->caps.va_bits ||
	    caps->num_engines != r->caps.num_engines)
		return fail(r, -EINVAL, "capabilities disagree with the preamble");
	return 0;
}

static int decode_ring(struct ctxmig_ir_reader *r, const void *payload,
		       u32 len, struct ctxmig_ir_event *ev)
{
	const struct ctxmig_ir_eng_ring *in = payload;
	struct ctxmig_ring *ring = &ev->u.ring;

	ring->engine = le32_to_cpu(in->engine);
	ring->flags = le32_to_cpu(in->flags);
	ring->base = le64_to_cpu(in->base);
	ring->size = le32_to_cpu(in->size);
	ring->head = le32_to_cpu(in->head);
	ring->tail = le32_to_cpu(in->tail);
	/* Version 1.1's field; a 1.0 record ends before it. */
	ring->ib_va_base = len >= sizeof(*in) ? le64_to_cpu(in->ib_va_base) : 0;

	if (in->reserved)
		return fail(r, -EINVAL, "reserved field not zero");
	if (ring->engine >= r->caps.num_engines)
		return fail(r, -ERANGE, "engine %u, stream has %u", ring->engine,
			    r->caps.num_engines);
	if (r->engines_seen & BIT(ring->engine))
		return fail(r, -EINVAL, "engine %u described twice",
			    ring->engine);
	if (ring->flags & ~CTXMIG_RING_ENABLED)
		return fail(r, -EINVAL, "unknown ring flags 0x%x", ring->flags);
	if (!is_power_of_2(ring->size) || ring->size < 256 ||
	    ring->size > (1U << 30))
		return fail(r, -EINVAL,
			    "ring size %u is not a power of two in 256 B..1 GiB",
			    ring->size);
	if (ring->head >= ring->size || ring->tail >= ring->size ||
	    !IS_ALIGNED(ring->head, 4) || !IS_ALIGNED(ring->tail, 4))
		return fail(r, -EINVAL, "ring head %u / tail %u invalid for size %u",
			    ring->head, ring->tail, ring->size);
	if (!IS_ALIGNED(ring->base, 8) ||
	    !va_range_ok(&r->caps, ring->base, ring->size))
		return fail(r, -ERANGE, "ring at 0x%llx is misaligned or outside the VA space",
			    (unsigned long long)ring->base);
	if (!va_range_ok(&r->caps, ring->ib_va_base, 1))
		return fail(r, -ERANGE, "ring entries' VA base 0x%llx outside the VA space",
			    (unsigned long long)ring->ib_va_base);
	r->engines_seen |= BIT(ring->engine);
	return 0;
}

/* ENG_FENCE and ENG_IRQ follow the ENG_RING that names their engine. */
static int need_ring_first(struct ctxmig_ir_reader *r)
{
	if (!r->nest[r->depth].counts[CTXMIG_IR_ENG_RING])
		return fail(r, -EINVAL, "ENGINE must start with ENG_RING");
	return 0;
}

static int decode_fence(struct ctxmig_ir_reader *r, const void *payload,
			u32 len, struct ctxmig_ir_event *ev)
{
	const struct ctxmig_ir_eng_fence *in = payload;
	struct ctxmig_fence *fence = &ev->u.fence;
	int err = need_ring_first(r);

	if (err)
		return err;
	fence->emitted = le64_to_cpu(in->emitted);
	fence->signalled = le64_to_cpu(in->signalled);
	fence->addr = le64_to_cpu(in->addr);
	if (fence->signalled > fence->emitted)
		return fail(r, -EINVAL, "fence %llu signalled but only %llu emitted",
			    (unsigned long long)fence->signalled,
			    (unsigned long long)fence->emitted);
	if (!IS_ALIGNED(fence->addr, 4) ||
	    !va_range_ok(&r->caps, fence->addr, sizeof(u64)))
		return fail(r, -ERANGE, "fence address 0x%llx invalid",
			    (unsigned long long)fence->addr);
	return 0;
}

static int decode_irq(struct ctxmig_ir_reader *r, const void *payload,
		      u32 len, struct ctxmig_ir_event *ev)
{
	const struct ctxmig_ir_eng_irq *in = payload;
	struct ctxmig_irq *irq = &ev->u.irq;
	int err = need_ring_first(r);

	if (err)
		return err;
	irq->enabled = le32_to_cpu(in->enabled);
	irq->pending = le32_to_cpu(in->pending);
	if ((irq->enabled | irq->pending) & ~CTXMIG_IRQ_ALL)
		return fail(r, -EINVAL, "unknown interrupt bits 0x%x",
			    (irq->enabled | irq->pending) & ~CTXMIG_IRQ_ALL);
	return 0;
}

/* Which CTXMIG_CMD_* flags each op may carry. */
static u16 ctxmig_cmd_op_flags(u8 op)
{
	switch (op) {
	case CTXMIG_OP_NOP:
		return CTXMIG_CMD_IRQ;
	case CTXMIG_OP_FENCE:
		return CTXMIG_CMD_IRQ | CTXMIG_CMD_FENCE64;
	case CTXMIG_OP_IB:
		return CTXMIG_CMD_IB_PRIVATE | CTXMIG_CMD_IB_OPEN;
	default:
		return 0;
	}
}

static int check_cmd_fields(struct ctxmig_ir_reader *r,
			    const struct ctxmig_cmd *cmd)
{
	const struct ctxmig_caps *caps = &r->caps;

	if (cmd->flags & ~CTXMIG_CMD_ALL)
		return fail(r, -EINVAL, "unknown command flags 0x%x", cmd->flags);
	if (cmd->flags & ~ctxmig_cmd_op_flags(cmd->op))
		return fail(r, -EINVAL, "flags 0x%x not allowed on op %u",
			    cmd->flags, cmd->op);

	switch (cmd->op) {
	case CTXMIG_OP_NOP:
		if (cmd->dst || cmd->src || cmd->value)
			return fail(r, -EINVAL, "NOP with operands");
		return 0;
	case CTXMIG_OP_WRITE32:
		if (cmd->value > U32_MAX)
			return fail(r, -EINVAL, "WRITE32 value 0x%llx too wide",
				    (unsigned long long)cmd->value);
		fallthrough;
	case CTXMIG_OP_WRITE64:
		if (cmd->src)
			return fail(r, -EINVAL, "write with a source address");
		if (!IS_ALIGNED(cmd->dst, 4) ||
		    !va_range_ok(caps, cmd->dst, cmd->op == CTXMIG_OP_WRITE32 ?
				 4 : 8))
			return fail(r, -ERANGE, "write to invalid VA 0x%llx",
				    (unsigned long long)cmd->dst);
		return 0;
	case CTXMIG_OP_COPY:
		if (!cmd->value || !va_range_ok(caps, cmd->src, cmd->value) ||
		    !va_range_ok(caps, cmd->dst, cmd->value))
			return fail(r, -ERANGE, "copy of %llu bytes 0x%llx -> 0x%llx invalid",
				    (unsigned long long)cmd->value,
				    (unsigned long long)cmd->src,
				    (unsigned long long)cmd->dst);
		return 0;
	case CTXMIG_OP_FENCE:
		if (cmd->src)
			return fail(r, -EINVAL, "fence with a source address");
		if (!IS_ALIGNED(cmd->dst, 4) ||
		    !va_range_ok(caps, cmd->dst, 8))
			return fail(r, -ERANGE, "fence to invalid VA 0x%llx",
				    (unsigned long long)cmd->dst);
		if (!(cmd->flags & CTXMIG_CMD_FENCE64) && cmd->value > U32_MAX)
			return fail(r, -EINVAL, "32-bit fence value 0x%llx too wide",
				    (unsigned long long)cmd->value);
		return 0;
	case CTXMIG_OP_IB:
		if ((cmd->flags & CTXMIG_CMD_IB_PRIVATE) && cmd->src)
			return fail(r, -EINVAL, "private indirect buffer with an address");
		if (!cmd->value || !IS_ALIGNED(cmd->value, 4) ||
		    !IS_ALIGNED(cmd->src, 4) ||
		    !va_range_ok(caps, cmd->src, cmd->value))
			return fail(r, -ERANGE, "indirect buffer of %llu bytes at 0x%llx invalid",
				    (unsigned long long)cmd->value,
				    (unsigned long long)cmd->src);
		if (cmd->dst > cmd->value || !IS_ALIGNED(cmd->dst, 4))
			return fail(r, -EINVAL, "IB progress %llu beyond its %llu bytes",
				    (unsigned long long)cmd->dst,
				    (unsigned long long)cmd->value);
		return 0;
	default:
		return fail(r, -EOPNOTSUPP, "unknown command opcode %u", cmd->op);
	}
}

static int decode_cmd(struct ctxmig_ir_reader *r, const void *payload,
		      u32 len, struct ctxmig_ir_event *ev)
{
	const struct ctxmig_ir_cmd *in = payload;
	struct ctxmig_cmd *cmd = &ev->u.cmd;
	unsigned int open_levels;
	int err;

	cmd->engine = le32_to_cpu(in->engine);
	cmd->op = in->op;
	cmd->level = in->level;
	cmd->flags = le16_to_cpu(in->flags);
	cmd->dst = le64_to_cpu(in->dst);
	cmd->src = le64_to_cpu(in->src);
	cmd->value = le64_to_cpu(in->value);

	if (cmd->engine >= CTXMIG_MAX_ENGINES ||
	    !(r->engines_seen & BIT(cmd->engine)))
		return fail(r, -EINVAL, "command for engine %u before its ENGINE record",
			    cmd->engine);
	err = check_cmd_fields(r, cmd);
	if (err)
		return err;

	/*
	 * Commands of one engine come in execution order and form a tree
	 * written depth first: a command at level n + 1 belongs to the
	 * nearest IB at level n before it.  A new engine starts at level 0.
	 */
	open_levels = 0;
	if (r->cmd_engine == (int)cmd->engine)
		open_levels = r->cmd_level + r->cmd_open_ib;
	if (cmd->level > open_levels || cmd->level > CTXMIG_IR_MAX_IB_LEVEL)
		return fail(r, -EINVAL, "command at IB level %u, only %u open",
			    cmd->level, open_levels);
	/*
	 * The buffers an engine is in the middle of form a chain at the
	 * start of its commands: level 0 first, each next one the first
	 * command inside the previous.
	 */
	if (cmd->flags & CTXMIG_CMD_IB_OPEN) {
		bool first = r->cmd_engine != (int)cmd->engine;

		if (first ? cmd->level : !r->cmd_prev_open)
			return fail(r, -EINVAL, "open indirect buffer after other commands");
	}
	r->cmd_engine = cmd->engine;
	r->cmd_level = cmd->level;
	r->cmd_open_ib = cmd->op == CTXMIG_OP_IB;
	r->cmd_prev_open = cmd->flags & CTXMIG_CMD_IB_OPEN;
	return 0;
}

static int decode_mapping(struct ctxmig_ir_reader *r, const void *payload,
			  u32 len, struct ctxmig_ir_event *ev)
{
	const struct ctxmig_ir_mapping *in = payload;
	struct ctxmig_mapping *map = &ev->u.mapping;
	u64 page;

	map->va = le64_to_cpu(in->va);
	map->size = le64_to_cpu(in->size);
	map->addr = le64_to_cpu(in->addr);
	map->flags = le32_to_cpu(in->flags);
	map->cache = in->cache;
	map->page_shift = in->page_shift;

	if (in->reserved)
		return fail(r, -EINVAL, "reserved field not zero");
	if (map->flags & ~CTXMIG_MAP_ALL)
		return fail(r, -EINVAL, "unknown mapping flags 0x%x", map->flags);
	if (!(map->flags & (CTXMIG_MAP_READ | CTXMIG_MAP_WRITE)))
		return fail(r, -EINVAL, "mapping grants no access");
	if (map->cache > CTXMIG_CACHE_MAX)
		return fail(r, -EINVAL, "unknown cache policy %u", map->cache);
	if (map->page_shift >= 32 || !(r->caps.page_sizes & BIT(map->page_shift)))
		return fail(r, -EINVAL, "page size 2^%u not declared in the preamble",
			    map->page_shift);
	page = 1ULL << map->page_shift;
	if (!map->size || !IS_ALIGNED(map->va | map->size | map->addr, page))
		return fail(r, -EINVAL, "mapping 0x%llx+0x%llx -> 0x%llx not aligned to 2^%u",
			    (unsigned long long)map->va,
			    (unsigned long long)map->size,
			    (unsigned long long)map->addr, map->page_shift);
	if (!va_range_ok(&r->caps, map->va, map->size))
		return fail(r, -ERANGE, "mapping 0x%llx+0x%llx outside the VA space",
			    (unsigned long long)map->va,
			    (unsigned long long)map->size);
	if (map->flags & CTXMIG_MAP_SYSMEM) {
		if (map->addr + map->size < map->addr)
			return fail(r, -ERANGE, "system range wraps");
	} else if (!vram_range_ok(&r->caps, map->addr, map->size)) {
		return fail(r, -ERANGE, "mapping of VRAM 0x%llx+0x%llx beyond VRAM size",
			    (unsigned long long)map->addr,
			    (unsigned long long)map->size);
	}
	if (r->mapping_seen && map->va < r->mapping_end)
		return fail(r, -EINVAL, "mapping at 0x%llx overlaps or precedes the previous one",
			    (unsigned long long)map->va);
	r->mapping_seen = true;
	r->mapping_end = map->va + map->size;
	return 0;
}

static int decode_vram_common(struct ctxmig_ir_reader *r, const void *payload,
			      struct ctxmig_vram_chunk *vram)
{
	const struct ctxmig_ir_vram *in = payload;

	vram->offset = le64_to_cpu(in->offset);
	vram->length = le64_to_cpu(in->length);
	if (!vram->length || !IS_ALIGNED(vram->offset, CTXMIG_IR_VRAM_PAGE_SIZE))
		return fail(r, -EINVAL, "VRAM range 0x%llx+%llu empty or not page aligned",
			    (unsigned long long)vram->offset,
			    (unsigned long long)vram->length);
	if (!vram_range_ok(&r->caps, vram->offset, vram->length))
		return fail(r, -ERANGE, "VRAM range 0x%llx+%llu beyond VRAM size",
			    (unsigned long long)vram->offset,
			    (unsigned long long)vram->length);
	return 0;
}

static int decode_vram(struct ctxmig_ir_reader *r, const void *payload,
		       u32 len, struct ctxmig_ir_event *ev)
{
	struct ctxmig_vram_chunk *vram = &ev->u.vram;
	u32 data_len = len - sizeof(struct ctxmig_ir_vram);
	int err = decode_vram_common(r, payload, vram);

	if (err)
		return err;
	if (vram->length != data_len)
		return fail(r, -EINVAL, "VRAM length %llu but %u data bytes",
			    (unsigned long long)vram->length, data_len);
	vram->data = (const u8 *)payload + sizeof(struct ctxmig_ir_vram);
	return 0;
}

static int decode_vram_zero(struct ctxmig_ir_reader *r, const void *payload,
			    u32 len, struct ctxmig_ir_event *ev)
{
	struct ctxmig_vram_chunk *vram = &ev->u.vram;
	int err = decode_vram_common(r, payload, vram);

	if (err)
		return err;
	if (!IS_ALIGNED(vram->length, CTXMIG_IR_VRAM_PAGE_SIZE))
		return fail(r, -EINVAL, "zero range of %llu bytes is not whole pages",
			    (unsigned long long)vram->length);
	vram->data = NULL;
	return 0;
}

static int decode_end(struct ctxmig_ir_reader *r, const void *payload,
		      u32 len, struct ctxmig_ir_event *ev)
{
	const struct ctxmig_ir_end *in = payload;
	struct ctxmig_end *end = &ev->u.end;
	unsigned long all = GENMASK(r->caps.num_engines - 1, 0);
	u32 crc = ~r->crc;

	end->crc32c = le32_to_cpu(in->crc32c);
	end->records = le64_to_cpu(in->records);
	if (in->reserved)
		return fail(r, -EINVAL, "reserved field not zero");
	if (end->crc32c != crc)
		return fail(r, -EBADMSG, "stream CRC32C 0x%08x, END says 0x%08x",
			    crc, end->crc32c);
	if (end->records != r->records)
		return fail(r, -EINVAL, "END counts %llu records, stream had %llu",
			    (unsigned long long)end->records,
			    (unsigned long long)r->records);
	if (r->engines_seen != all)
		return fail(r, -EINVAL, "engine state missing: have 0x%lx of 0x%lx",
			    r->engines_seen, all);
	return 0;
}

static int close_device(struct ctxmig_ir_reader *r,
			const struct ctxmig_ir_nest *nest)
{
	if (!nest->counts[CTXMIG_IR_DEV_IDENTITY] ||
	    !nest->counts[CTXMIG_IR_DEV_CAPS])
		return fail(r, -EINVAL, "DEVICE lacks DEV_IDENTITY or DEV_CAPS");
	return 0;
}

static int close_engine(struct ctxmig_ir_reader *r,
			const struct ctxmig_ir_nest *nest)
{
	if (!nest->counts[CTXMIG_IR_ENG_RING])
		return fail(r, -EINVAL, "ENGINE lacks ENG_RING");
	return 0;
}

#define FIXED(t)	.min_len = sizeof(t), .max_len = CTXMIG_IR_FIXED_MAX
#define CONTAINER	(CTXMIG_IR_F_CONTAINER | CTXMIG_IR_F_CRITICAL)

static const struct ctxmig_ir_policy ctxmig_ir_policy[256] = {
	[CTXMIG_IR_DEVICE] = {
		.name = "DEVICE", .flags = CONTAINER, .max_count = 1,
		.max_len = U32_MAX, .close = close_device,
	},
	[CTXMIG_IR_DEV_IDENTITY] = {
		.name = "DEV_IDENTITY", .parent = CTXMIG_IR_DEVICE,
		.flags = CTXMIG_IR_F_CRITICAL, .max_count = 1,
		/* 1.1 ended before migrated. */
		.min_len = offsetof(struct ctxmig_ir_dev_identity, migrated),
		.max_len = CTXMIG_IR_FIXED_MAX, .decode = decode_identity,
	},
	[CTXMIG_IR_DEV_CAPS] = {
		.name = "DEV_CAPS", .parent = CTXMIG_IR_DEVICE,
		.flags = CTXMIG_IR_F_CRITICAL, .max_count = 1,
		FIXED(struct ctxmig_ir_dev_caps), .decode = decode_caps,
	},
	[CTXMIG_IR_ENGINE] = {
		.name = "ENGINE", .flags = CONTAINER,
		.max_count = CTXMIG_MAX_ENGINES, .max_len = U32_MAX,
		.close = close_engine,
	},
	[CTXMIG_IR_ENG_RING] = {
		.name = "ENG_RING", .parent = CTXMIG_IR_ENGINE,
		.flags = CTXMIG_IR_F_CRITICAL, .max_count = 1,
		/* 1.0 ended before ib_va_base. */
		.min_len = offsetof(struct ctxmig_ir_eng_ring, ib_va_base),
		.max_len = CTXMIG_IR_FIXED_MAX, .decode = decode_ring,
	},
	[CTXMIG_IR_ENG_FENCE] = {
		.name = "ENG_FENCE", .parent = CTXMIG_IR_ENGINE,
		.flags = CTXMIG_IR_F_CRITICAL, .max_count = 1,
		FIXED(struct ctxmig_ir_eng_fence), .decode = decode_fence,
	},
	[CTXMIG_IR_ENG_IRQ] = {
		.name = "ENG_IRQ", .parent = CTXMIG_IR_ENGINE,
		.flags = CTXMIG_IR_F_CRITICAL, .max_count = 1,
		FIXED(struct ctxmig_ir_eng_irq), .decode = decode_irq,
	},
	[CTXMIG_IR_CMD] = {
		.name = "CMD", .flags = CTXMIG_IR_F_CRITICAL,
		FIXED(struct ctxmig_ir_cmd), .decode = decode_cmd,
	},
	[CTXMIG_IR_MAPPING] = {
		.name = "MAPPING", .flags = CTXMIG_IR_F_CRITICAL,
		FIXED(struct ctxmig_ir_mapping), .decode = decode_mapping,
	},
	[CTXMIG_IR_VRAM] = {
		.name = "VRAM", .flags = CTXMIG_IR_F_CRITICAL,
		.min_len = sizeof(struct ctxmig_ir_vram),
		.max_len = sizeof(struct ctxmig_ir_vram) +
			   CTXMIG_IR_VRAM_CHUNK_MAX,
		.decode = decode_vram,
	},
	[CTXMIG_IR_VRAM_ZERO] = {
		.name = "VRAM_ZERO", .flags = CTXMIG_IR_F_CRITICAL,
		FIXED(struct ctxmig_ir_vram), .decode = decode_vram_zero,
	},
	[CTXMIG_IR_END] = {
		.name = "END", .flags = CTXMIG_IR_F_CRITICAL, .max_count = 1,
		FIXED(struct ctxmig_ir_end), .decode = decode_end,
	},
};

/**
 * ctxmig_ir_policy_get() - the rules for a record type
 * @type: record type from a header.
 *
 * Return: the policy, or NULL for a type this version does not know.
 */
const struct ctxmig_ir_policy *ctxmig_ir_policy_get(u16 type)
{
	if (type >= ARRAY_SIZE(ctxmig_ir_policy) || !ctxmig_ir_policy[type].name)
		return NULL;
	return &ctxmig_ir_policy[type];
}

/**
 * ctxmig_ir_type_name() - printable name of a record type
 * @type: record type.
 *
 * Return: the name, or "UNKNOWN".
 */
const char *ctxmig_ir_type_name(u16 type)
{
	const struct ctxmig_ir_policy *pol = ctxmig_ir_policy_get(type);

	return pol ? pol->name : "UNKNOWN";
}

static const char *const ctxmig_model_names[] = {
	[CTXMIG_MODEL_AMD_GFX9] = "amd-gfx9",
	[CTXMIG_MODEL_AMD_GFX12] = "amd-gfx12",
	[CTXMIG_MODEL_INTEL_GEN12] = "intel-gen12",
	[CTXMIG_MODEL_NV_AMPERE] = "nv-ampere",
	[CTXMIG_MODEL_NV_HOPPER] = "nv-hopper",
};

/**
 * ctxmig_ir_model_name() - printable name of a GPU model
 * @model: &enum ctxmig_model_id.
 *
 * Return: the name, or "unknown" for a model this version does not know
 * (a stream from a newer source can still be valid).
 */
const char *ctxmig_ir_model_name(u32 model)
{
	if (model >= ARRAY_SIZE(ctxmig_model_names) ||
	    !ctxmig_model_names[model])
		return "unknown";
	return ctxmig_model_names[model];
}
