/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig VFIO glue: the mdev parent, one mdev type per GPU model, and the
 * vfio_device of each vGPU with its migration files.
 */
#ifndef _CTXMIG_VFIO_H_
#define _CTXMIG_VFIO_H_

#ifdef CTXMIG_VFIO
int ctxmig_vfio_init(void);
void ctxmig_vfio_exit(void);
#else
static inline int ctxmig_vfio_init(void)
{
	return 0;
}

static inline void ctxmig_vfio_exit(void)
{
}
#endif

#endif /* _CTXMIG_VFIO_H_ */
