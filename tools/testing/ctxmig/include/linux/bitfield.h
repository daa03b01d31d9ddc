/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: FIELD_GET/FIELD_PREP of <linux/bitfield.h>, without checks. */
#ifndef _CTXMIG_SHIM_LINUX_BITFIELD_H
#define _CTXMIG_SHIM_LINUX_BITFIELD_H

#include <linux/kernel.h>

#define __bf_shf(x) (__builtin_ffsll(x) - 1)
#define FIELD_PREP(_mask, _val) \
	((typeof(_mask))(((typeof(_mask))(_val) << __bf_shf(_mask)) & (_mask)))
#define FIELD_GET(_mask, _reg) \
	((typeof(_mask))(((_reg) & (_mask)) >> __bf_shf(_mask)))
#define FIELD_MAX(_mask) ((typeof(_mask))((_mask) >> __bf_shf(_mask)))
#define FIELD_FIT(_mask, _val) \
	(!((((typeof(_mask))(_val)) << __bf_shf(_mask)) & ~(_mask)))

#endif
