/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: the one scheduler call the pure logic makes.  Long loops in
 * the kernel yield with cond_resched(); the host tests are ordinary
 * processes that the host kernel preempts, so it does nothing here.
 */
#ifndef _CTXMIG_SHIM_LINUX_SCHED_H
#define _CTXMIG_SHIM_LINUX_SCHED_H

static inline int cond_resched(void)
{
	return 0;
}

#endif /* _CTXMIG_SHIM_LINUX_SCHED_H */
