/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig VFIO glue: the vGPU instance, its migration files, statistics
 * and fault injection.  ctxmig_vfio.c owns the device, ctxmig_vfio_mig.c
 * the migration files and state machine, ctxmig_vfio_sysfs.c the debug
 * controls.  Locking is described at the top of ctxmig_vfio.c.
 */
#ifndef _CTXMIG_VFIO_TYPES_H_
#define _CTXMIG_VFIO_TYPES_H_

#include <linux/mutex.h>
#include <linux/pci_regs.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/vfio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "ctxmig_gpu_types.h"
#include "ctxmig_ir_types.h"
#include "ctxmig_xlate.h"

#define CTXMIG_CONFIG_SIZE	PCI_CFG_SPACE_SIZE

struct eventfd_ctx;
struct mem_cgroup;
struct ctxmig_vgpu;
struct virqfd;

/**
 * struct ctxmig_pci - the PCI function a vGPU presents (ctxmig_vfio_pci.c)
 * @config: config space as the user reads it, but for the status
 *	register's interrupt bit, which follows the INTx line.
 * @wmask: per config byte, the bits a write changes.
 * @igate: serialises SET_IRQS and teardown, which may wait for the
 *	INTx unmask eventfd's work; taken before gpu_lock.
 * @mem_lock: the command register's memory space bit against BAR2 page
 *	faults: held for writing (inside gpu_lock) to change it, and to
 *	zap BAR2's mappings when it goes off; for reading by a fault, which
 *	cannot take gpu_lock.
 * @irq_type: the VFIO interrupt index delivering interrupts
 *	(VFIO_PCI_INTX_IRQ_INDEX or VFIO_PCI_MSI_IRQ_INDEX), or
 *	VFIO_PCI_NUM_IRQS for none, as vfio-pci keeps it.
 * @intx: INTx trigger, while @irq_type is INTx.
 * @intx_masked: INTx masked: set when it fires, cleared by an unmask.
 * @intx_unmask: the eventfd whose signal unmasks INTx (QEMU's resample
 *	path), or NULL.
 * @msi: MSI trigger, while @irq_type is MSI.
 * @msi_held: an interrupt was raised while the device did not run (a
 *	restore raises CTXMIG_IRQ_MIGRATED): its message is sent when it
 *	runs, if MSI is chosen and the source still pending and enabled.
 * @err: error trigger (VFIO_PCI_ERR_IRQ_INDEX), or NULL.
 * @req: device request trigger (VFIO_PCI_REQ_IRQ_INDEX), signalled when
 *	the mdev is being removed, or NULL.
 *
 * Everything but @igate, @mem_lock and @intx_unmask is guarded by
 * gpu_lock.
 */
struct ctxmig_pci {
	u8 config[CTXMIG_CONFIG_SIZE];
	u8 wmask[CTXMIG_CONFIG_SIZE];
	struct mutex igate;		/* SET_IRQS, before gpu_lock */
	struct rw_semaphore mem_lock;	/* memory space vs BAR2 faults */
	u32 irq_type;
	struct eventfd_ctx *intx;
	bool intx_masked;
	struct virqfd *intx_unmask;
	struct eventfd_ctx *msi;
	bool msi_held;
	struct eventfd_ctx *err;
	struct eventfd_ctx *req;
};

/**
 * struct ctxmig_dma_range - one IOVA range whose DMA writes are logged
 * @start: first IOVA, aligned to the log's page size.
 * @pages: pages of the log's page size it covers.
 * @first: index of its first page in &ctxmig_dma_log.bitmap.
 */
struct ctxmig_dma_range {
	u64 start;
	u64 pages;
	u64 first;
};

/**
 * struct ctxmig_dma_log - DMA logging (ctxmig_vfio_dirty.c)
 * @lock: guards the rest; taken inside gpu_lock by the DMA path.
 * @ranges: the ranges logged, by ascending IOVA, or NULL when off.
 * @nranges: entries of @ranges.
 * @page_shift: log2 of the page size pages are logged in.
 * @bitmap: one bit per page of every range, set by a DMA write.
 */
struct ctxmig_dma_log {
	struct mutex lock;		/* inside gpu_lock */
	struct ctxmig_dma_range *ranges;
	u32 nranges;
	u8 page_shift;
	unsigned long *bitmap;
};

/*
 * Fault injection points, written by name to the fail_at attribute:
 * CTXMIG_FAIL_ARC fails the next step of a migration state change before
 * it acts, the others the named stage of a save or restore.
 */
enum ctxmig_fail_at {
	CTXMIG_FAIL_NONE,
	CTXMIG_FAIL_SAVE_INIT,
	CTXMIG_FAIL_SAVE_STEP,
	CTXMIG_FAIL_RESTORE_FEED,
	CTXMIG_FAIL_RESTORE_FINISH,
	CTXMIG_FAIL_SAVE_STOP,
	CTXMIG_FAIL_ARC,
	CTXMIG_FAIL_MAX,
};

/**
 * struct ctxmig_vgpu_stats - what sysfs shows of a vGPU's migrations
 * @saves: streams saved to the end.
 * @restores: streams restored.
 * @save_errors: saves that failed.
 * @restore_errors: restores that failed.
 * @bytes_saved: stream bytes of saves, all of them.
 * @bytes_restored: stream bytes of restores.
 * @precopy_steps: translator steps run by pre-copy reads (the work a read
 *	does besides copying: each fills the writer, or is a pass over the
 *	pages written since the last one that found nothing to send).
 * @precopy_ns: time in pre-copy of the last save.
 * @stopcopy_ns: time from stop-copy to the end of the last save.
 * @restore_ns: time from RESUMING to the end of the last restore.
 * @save_stop_ns: the driver's time in the last PRE_COPY_P2P -> STOP_COPY
 *	arc (ctxmig_save_stop()).
 * @precopy_read_ns: the driver's time in read() of the last saving file
 *	while the device ran (pre-copy).
 * @stop_read_ns: the same once the device had stopped (stop-copy).
 * @write_ns: the driver's time in write() of the last resuming file.
 * @restore_finish_ns: the driver's time in the last RESUMING -> STOP
 *	arc (ctxmig_restore_finish()).
 * @t_precopy: when the current pre-copy began.
 * @t_stopcopy: when the current stop-copy began.
 * @t_resuming: when the current RESUMING began.
 * @ir_saved: the last stream below was saved (else restored).
 * @ir_caps: the last saved or restored stream's preamble.
 * @ir_records: its records per type (low byte of the type).
 * @ir_bytes: its bytes per type.
 * @last_error: the last error's reason, with its errno.
 */
struct ctxmig_vgpu_stats {
	u64 saves;
	u64 restores;
	u64 save_errors;
	u64 restore_errors;
	u64 bytes_saved;
	u64 bytes_restored;
	u64 precopy_steps;
	u64 precopy_ns;
	u64 stopcopy_ns;
	u64 restore_ns;
	u64 save_stop_ns;
	u64 precopy_read_ns;
	u64 stop_read_ns;
	u64 write_ns;
	u64 restore_finish_ns;
	u64 t_precopy;
	u64 t_stopcopy;
	u64 t_resuming;
	bool ir_saved;
	struct ctxmig_caps ir_caps;
	u64 ir_records[256];
	u64 ir_bytes[256];
	char last_error[CTXMIG_IR_REASON_LEN + 16];
};

/**
 * struct ctxmig_migf - a saving or resuming migration file
 * @filp: the data_fd.
 * @lock: serialises read()/write() and disabling.
 * @vgpu: the device, until the file is disabled.
 * @disabled: the device left the state the file belongs to.
 * @saving: a saving file (else resuming).
 * @done: saving: the END record was produced.
 * @idle: saving in pre-copy: nothing to send until the device writes.
 * @stop_copy: saving: pre-copy ended, the stream goes on in STOP_COPY.
 * @err: saving: the error that stopped producing the stream (a failed
 *	PRE_COPY_P2P -> STOP_COPY too); every later read() returns it.
 * @save: saving: the translator.
 * @w: saving: the writer the translator fills.
 * @rs: resuming: the translator.
 * @poll_wait: saving: poll()ers, woken when the device has written
 *	something pre-copy sends, and when the file ends.
 */
struct ctxmig_migf {
	struct file *filp;
	struct mutex lock;		/* read()/write() vs disabling */
	struct ctxmig_vgpu *vgpu;
	bool disabled;
	bool saving;
	bool done;
	bool idle;
	bool stop_copy;
	int err;
	struct ctxmig_save save;
	struct ctxmig_ir_writer w;
	struct ctxmig_restore *rs;
	wait_queue_head_t poll_wait;
};

/**
 * struct ctxmig_vgpu - one vGPU instance
 * @vdev: the VFIO device.
 * @model: what it emulates.
 * @gpu: the emulated GPU.
 * @gpu_lock: guards @gpu, @running, @memcg and the interrupt triggers.
 * @run_work: executes commands while @running.
 * @running: the device is open and its migration state lets the engine
 *	execute (RUNNING, PRE_COPY; see ctxmig_engine_sync()).
 * @memcg: the opener's memory cgroup, which the engine's allocations are
 *	charged to, or NULL (under @gpu_lock).
 * @pci: its PCI function: config space and interrupts.
 * @dma_log: the VMM's log of the guest pages the device wrote.
 * @saving_wait: poll()ers of the saving file, while one exists (under
 *	@saving_lock, so that a page fault can wake them).
 * @saving_lock: guards @saving_wait.
 * @open: a user has the device open, or is opening or closing it (under
 *	@gpu_lock): its VRAM size and VA width are fixed until the last close.
 * @state: VFIO migration state.
 * @state_mutex: guards @state, @saving, @resuming.
 * @reset_mutex: with @deferred_reset, mtty's deferred reset.
 * @deferred_reset: a reset came while @state_mutex was held.
 * @saving: the saving file, or NULL.
 * @resuming: the resuming file, or NULL.
 * @throttle: steps (commands, or 64 KiB of a copy) per 10 ms, 0 for no limit
 *	(under @gpu_lock; lets a test migrate with work pending).
 * @fail_at: &enum ctxmig_fail_at armed, one shot (under @gpu_lock).
 * @stats: statistics and the last stream's metadata (under @gpu_lock).
 * @compat: verdict of the last compatibility check (under @gpu_lock).
 */
struct ctxmig_vgpu {
	struct vfio_device vdev;
	const struct ctxmig_model *model;
	struct ctxmig_gpu gpu;
	struct mutex gpu_lock;		/* the device, innermost */
	struct work_struct run_work;
	bool running;
	struct mem_cgroup *memcg;
	struct ctxmig_pci pci;
	struct ctxmig_dma_log dma_log;
	wait_queue_head_t *saving_wait;
	spinlock_t saving_lock;		/* saving_wait */
	bool open;
	enum vfio_device_mig_state state;
	struct mutex state_mutex;	/* migration state and files */
	struct mutex reset_mutex;	/* deferred_reset */
	bool deferred_reset;
	struct ctxmig_migf *saving;
	struct ctxmig_migf *resuming;
	u32 throttle;
	u32 fail_at;
	struct ctxmig_vgpu_stats stats;
	char compat[CTXMIG_IR_REASON_LEN + 32];
};

static inline struct ctxmig_vgpu *to_vgpu(struct vfio_device *vdev)
{
	return container_of(vdev, struct ctxmig_vgpu, vdev);
}

#endif /* _CTXMIG_VFIO_TYPES_H_ */
