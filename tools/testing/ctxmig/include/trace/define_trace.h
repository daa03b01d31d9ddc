/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: tracepoints are not created here (see linux/tracepoint.h). */
