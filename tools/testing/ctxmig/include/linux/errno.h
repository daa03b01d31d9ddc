/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: errno values; the uAPI header has the kernel's numbers. */
#ifndef _CTXMIG_SHIM_LINUX_ERRNO_H
#define _CTXMIG_SHIM_LINUX_ERRNO_H
#include_next <linux/errno.h>
#endif
