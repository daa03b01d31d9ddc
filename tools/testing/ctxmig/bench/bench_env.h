/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host benches' settings from the environment, read one way.
 */
#ifndef CTXMIG_BENCH_ENV_H
#define CTXMIG_BENCH_ENV_H

#include <linux/types.h>
#include <stdlib.h>

/**
 * bench_env_u64() - a size or count from the environment
 * @name: the variable, e.g. "BENCH_BYTES".
 * @def: returned when it is unset, empty or zero.
 *
 * A number as strtoull() reads it (decimal, 0x hex), optionally followed
 * by K, M or G (binary multiples, either case).
 *
 * Return: the value, or @def.
 */
static inline u64 bench_env_u64(const char *name, u64 def)
{
	const char *env = getenv(name);
	char *end;
	u64 v;

	if (!env || !*env)
		return def;
	v = strtoull(env, &end, 0);
	switch (*end) {
	case 'G': case 'g':
		v <<= 10;
		fallthrough;
	case 'M': case 'm':
		v <<= 10;
		fallthrough;
	case 'K': case 'k':
		v <<= 10;
		break;
	}
	return v ? v : def;
}

#endif /* CTXMIG_BENCH_ENV_H */
