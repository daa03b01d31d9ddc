/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the ctxmig libFuzzer targets share: patching a mutated stream's
 * checksums so that it gets past them, and deterministic chunk sizes for
 * feeding a stream across arbitrary boundaries.  Included, not linked.
 */
#ifndef _CTXMIG_FUZZ_UTIL_H
#define _CTXMIG_FUZZ_UTIL_H

#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/byteorder.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctxmig_ir.h"

#define FIX_COUNT	0x40
#define FIX_CRC		0x80
#define SEED_MASK	0x3f
/* Largest chunk: more than the largest VRAM record. */
#define MAX_CHUNK	65559

#define fuzz_assert(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: broken promise: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/**
 * fix_stream() - make a mutated stream's checksums and END count right
 * @buf: the stream, writable.
 * @len: its length.
 * @mode: FIX_CRC and/or FIX_COUNT.
 *
 * Walks the top-level records the way the reader counts them (a container
 * counts once, whatever it holds) up to the first END record and rewrites
 * what @mode asks for: the preamble CRC over the bytes before it, the END
 * CRC32C over every byte up to and including the END header, and the END
 * record count.
 */
static inline void fix_stream(u8 *buf, size_t len, u8 mode)
{
	struct ctxmig_ir_preamble *p = (void *)buf;
	size_t off;
	u64 records = 0;
	u32 crc;

	if (len < sizeof(*p))
		return;
	if (mode & FIX_CRC) {
		crc = ctxmig_ir_crc32c(~0U, p,
				       offsetof(struct ctxmig_ir_preamble,
						preamble_crc));
		p->preamble_crc = cpu_to_le32(~crc);
	}
	off = le32_to_cpu(p->preamble_len);
	/* The reader refuses it anyway; records would be misaligned. */
	if (!IS_ALIGNED(off, CTXMIG_IR_ALIGN))
		return;
	while (off <= len && len - off >= sizeof(struct ctxmig_ir_rec)) {
		const struct ctxmig_ir_rec *rec = (void *)(buf + off);
		u64 padded = ALIGN((u64)le32_to_cpu(rec->len), CTXMIG_IR_ALIGN);
		struct ctxmig_ir_end *end;

		if (le16_to_cpu(rec->type) != CTXMIG_IR_END) {
			records++;
			if (padded > len - off - sizeof(*rec))
				return;
			off += sizeof(*rec) + padded;
			continue;
		}
		off += sizeof(*rec);
		if (len - off < sizeof(*end))
			return;
		end = (void *)(buf + off);
		if (mode & FIX_CRC)
			end->crc32c = cpu_to_le32(~ctxmig_ir_crc32c(~0U, buf,
								    off));
		if (mode & FIX_COUNT)
			end->records = cpu_to_le64(records);
		return;
	}
}

/**
 * next_chunk() - the next chunk size of a deterministic split
 * @state: the split's state, seeded by the input.
 *
 * Return: 1 byte up to more than a VRAM record.
 */
static inline size_t next_chunk(u32 *state)
{
	static const size_t sizes[] = {
		1, 2, 3, 7, 8, 9, 15, 16, 24, 48, 63, 100, 4096, 4104, MAX_CHUNK,
	};

	*state = *state * 1103515245U + 12345U;
	return sizes[(*state >> 16) % ARRAY_SIZE(sizes)];
}

#endif
