/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig VFIO glue: the mdev parent, one mdev type per GPU model, and the
 * vfio_device of each vGPU with its migration files.
 */
#ifndef _CTXMIG_VFIO_H_
#define _CTXMIG_VFIO_H_

#include <linux/types.h>

#ifdef CTXMIG_VFIO
struct attribute_group;
struct ctxmig_vgpu;
struct vfio_device;
struct vfio_migration_ops;

int ctxmig_vfio_init(void);
void ctxmig_vfio_exit(void);

/* ctxmig_vfio.c, ctxmig_vfio_mig.c and ctxmig_vfio_sysfs.c share these. */
void ctxmig_engine_stop(struct ctxmig_vgpu *vgpu);
void ctxmig_engine_sync(struct ctxmig_vgpu *vgpu);
int ctxmig_vgpu_configure(struct ctxmig_vgpu *vgpu, u64 vram_size, u8 va_bits);
bool ctxmig_fail(struct ctxmig_vgpu *vgpu, u32 at);
void ctxmig_note_error(struct ctxmig_vgpu *vgpu, int err, const char *what,
		       const char *reason);
void ctxmig_disable_files(struct ctxmig_vgpu *vgpu);
void ctxmig_state_mutex_unlock(struct ctxmig_vgpu *vgpu);
void ctxmig_mig_kick(struct ctxmig_vgpu *vgpu);
void ctxmig_bar2_zap(struct ctxmig_vgpu *vgpu);
extern const struct vfio_migration_ops ctxmig_migration_ops;
extern const struct attribute_group *ctxmig_vgpu_groups[];

/* ctxmig_vfio_pci.c: the PCI function (config space, BARs, interrupts). */
void ctxmig_pci_init(struct ctxmig_vgpu *vgpu);
void ctxmig_pci_fini(struct ctxmig_vgpu *vgpu);
void ctxmig_pci_close(struct ctxmig_vgpu *vgpu);
void ctxmig_pci_config_init(struct ctxmig_vgpu *vgpu);
void ctxmig_pci_reset(struct ctxmig_vgpu *vgpu);
void ctxmig_pci_config_rw(struct ctxmig_vgpu *vgpu, u32 off, u8 *buf, u32 len,
			  bool write);
int ctxmig_pci_bar_rw(struct ctxmig_vgpu *vgpu, u32 index, u64 off, u8 *buf,
		      u32 len, bool write);
bool ctxmig_pci_mem_enabled(const struct ctxmig_vgpu *vgpu);
void ctxmig_pci_intx_update(struct ctxmig_vgpu *vgpu);
void ctxmig_pci_irq(void *priv, u32 engine, u32 sources);
void ctxmig_pci_irq_resume(struct ctxmig_vgpu *vgpu);
int ctxmig_pci_dma_rw(void *priv, u64 addr, void *buf, u32 len, bool write);
long ctxmig_pci_get_irq_info(struct ctxmig_vgpu *vgpu, void __user *uarg);
long ctxmig_pci_set_irqs(struct ctxmig_vgpu *vgpu, void __user *uarg);

/* ctxmig_vfio_dirty.c: DMA logging. */
void ctxmig_dma_log_init(struct ctxmig_vgpu *vgpu);
void ctxmig_dma_log_fini(struct ctxmig_vgpu *vgpu);
int ctxmig_dma_log_stop(struct vfio_device *vdev);
void ctxmig_dma_log_write(struct ctxmig_vgpu *vgpu, u64 iova, u32 len);
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
