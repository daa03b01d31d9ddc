/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: the marked accesses the pure logic uses.  The host tests are
 * single-threaded, so these are plain volatile accesses.
 */
#ifndef _CTXMIG_SHIM_LINUX_COMPILER_H
#define _CTXMIG_SHIM_LINUX_COMPILER_H

#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val)	(*(volatile __typeof__(x) *)&(x) = (val))

#endif /* _CTXMIG_SHIM_LINUX_COMPILER_H */
