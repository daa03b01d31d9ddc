/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CTXMIG_SHIM_BITS_H
#define _CTXMIG_SHIM_BITS_H
#include <linux/kernel.h>
#endif
