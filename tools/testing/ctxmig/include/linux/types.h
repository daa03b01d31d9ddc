/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: the kernel's type names on top of the system's uAPI
 * <linux/types.h>, so that ctxmig's pure-logic sources (codec, engine
 * models, translators) compile unchanged in userspace for the host tests,
 * the fuzzers and the benchmarks.  Only what those sources use is here.
 */
#ifndef _CTXMIG_SHIM_LINUX_TYPES_H
#define _CTXMIG_SHIM_LINUX_TYPES_H

#include_next <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

#ifndef __force
#define __force
#endif
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define __always_unused	__attribute__((unused))
#define __maybe_unused	__attribute__((unused))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* Kconfig as the host build sees it: no kernel-only options. */
#define IS_ENABLED(option)	0

#endif
