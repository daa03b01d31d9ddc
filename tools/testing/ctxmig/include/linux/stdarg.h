/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: <linux/stdarg.h>. */
#include <stdarg.h>
