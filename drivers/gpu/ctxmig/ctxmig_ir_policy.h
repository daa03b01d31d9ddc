/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig IR codec: per-record-type validation policy, private to the codec.
 *
 * In the manner of lib/nlattr.c, what a record may look like is data: one
 * &struct ctxmig_ir_policy per known type says where the record may appear,
 * which header flags it carries, how long it may be and how often it may
 * occur.  The generic reader (ctxmig_ir.c) enforces those; the @decode and
 * @close callbacks check only what a table cannot express (field values and
 * the order of records relative to each other).
 */
#ifndef _CTXMIG_IR_POLICY_H_
#define _CTXMIG_IR_POLICY_H_

#include "ctxmig_ir_types.h"

/* Payload bytes a fixed-size record may grow to in later minor versions. */
#define CTXMIG_IR_FIXED_MAX	256

/**
 * struct ctxmig_ir_policy - what a valid record of one type looks like
 * @name: name for reasons and tools.
 * @parent: container type the record lives in, 0 for the top level.
 * @flags: exact CTXMIG_IR_F_* header flags.
 * @min_len: smallest payload (the version 1.0 structure).
 * @max_len: largest payload; fields past @min_len are a later minor's and
 *	are ignored.
 * @max_count: occurrences allowed per parent (per stream at top level);
 *	0 means any number.
 * @decode: checks a complete leaf payload and decodes it into @ev->u;
 *	returns 0 or a negative errno after ctxmig_ir_reader_fail().
 * @close: for containers: checks the children once the container ends.
 */
struct ctxmig_ir_policy {
	const char *name;
	u16 parent;
	u16 flags;
	u32 min_len;
	u32 max_len;
	u8 max_count;
	int (*decode)(struct ctxmig_ir_reader *r, const void *payload, u32 len,
		      struct ctxmig_ir_event *ev);
	int (*close)(struct ctxmig_ir_reader *r,
		     const struct ctxmig_ir_nest *nest);
};

const struct ctxmig_ir_policy *ctxmig_ir_policy_get(u16 type);
int ctxmig_ir_caps_check(const struct ctxmig_caps *caps,
			 struct ctxmig_ir_error *error);
__printf(3, 4)
int ctxmig_ir_set_error(struct ctxmig_ir_error *error, int err,
			const char *fmt, ...);

#endif /* _CTXMIG_IR_POLICY_H_ */
