/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: <linux/sched.h>.  A host thread is preempted by its OS. */
#ifndef _CTXMIG_SHIM_LINUX_SCHED_H
#define _CTXMIG_SHIM_LINUX_SCHED_H

static inline void cond_resched(void)
{
}

#endif
