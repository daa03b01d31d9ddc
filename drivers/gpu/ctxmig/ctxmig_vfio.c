// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig VFIO glue: each GPU model is an mdev type, each instance a
 * vfio_device with an emulated IOMMU presenting a PCI device (config
 * space, BAR0 = the model's registers, BAR2 = its VRAM, INTx and MSI),
 * migrated through the VFIO migration uAPI v2 with the IR as the data_fd
 * stream.  The file and state machine follow samples/vfio-mdev/mtty.c.
 *
 * Locking, outermost first (Documentation/gpu/ctxmig/architecture.rst):
 *   state_mutex  migration state, the saving/resuming files, reset
 *   migf->lock   one migration file's writer or reader
 *   gpu_lock     the device: registers, VRAM, engine, interrupt triggers
 * The engine runs from a work item holding gpu_lock per batch of
 * commands; stopping clears @running under gpu_lock and flushes the work,
 * so the engine always stops at a command boundary.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/mdev.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/pci_ids.h>
#include <linux/pci_regs.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <linux/vfio.h>
#include <linux/workqueue.h>

#include "ctxmig_gpu.h"
#include "ctxmig_ir_policy.h"
#include "ctxmig_model.h"
#include "ctxmig_vfio.h"
#include "ctxmig_vram.h"
#include "ctxmig_xlate.h"

#define CTXMIG_MAX_INSTANCES	16
#define CTXMIG_MAX_TYPES	8
#define CTXMIG_CONFIG_SIZE	256
#define CTXMIG_OFFSET_SHIFT	40
#define CTXMIG_OFFSET_MASK	(BIT_ULL(CTXMIG_OFFSET_SHIFT) - 1)
#define CTXMIG_RUN_BATCH	256
#define CTXMIG_MIGF_CHUNK	(64 * 1024)

static unsigned int vram_mib = 256;
module_param(vram_mib, uint, 0444);
MODULE_PARM_DESC(vram_mib, "VRAM of each vGPU in MiB (sparse; default 256)");

static unsigned int guest_va_bits = 47;
module_param(guest_va_bits, uint, 0444);
MODULE_PARM_DESC(guest_va_bits,
		 "GPU VA width every vGPU gives its guest (default 47, which every model has)");

struct ctxmig_vgpu_type {
	struct mdev_type type;
	const struct ctxmig_model *model;
};

static struct {
	struct device dev;
	struct class *class;
	struct mdev_parent parent;
	struct ctxmig_vgpu_type types[CTXMIG_MAX_TYPES];
	struct mdev_type *type_ptrs[CTXMIG_MAX_TYPES];
	unsigned int ntypes;
	atomic_t avail;
} ctxmig_parent;

struct ctxmig_vgpu;

/* Fault injection points, written by name to the fail_at attribute. */
enum ctxmig_fail_at {
	CTXMIG_FAIL_NONE,
	CTXMIG_FAIL_SAVE_INIT,
	CTXMIG_FAIL_SAVE_STEP,
	CTXMIG_FAIL_RESTORE_FEED,
	CTXMIG_FAIL_RESTORE_FINISH,
	CTXMIG_FAIL_MAX,
};

static const char *const ctxmig_fail_names[CTXMIG_FAIL_MAX] = {
	[CTXMIG_FAIL_NONE] = "none",
	[CTXMIG_FAIL_SAVE_INIT] = "save_init",
	[CTXMIG_FAIL_SAVE_STEP] = "save_step",
	[CTXMIG_FAIL_RESTORE_FEED] = "restore_feed",
	[CTXMIG_FAIL_RESTORE_FINISH] = "restore_finish",
};

/**
 * struct ctxmig_vgpu_stats - what sysfs shows of a vGPU's migrations
 * @saves: streams saved to the end.
 * @restores: streams restored.
 * @save_errors: saves that failed.
 * @restore_errors: restores that failed.
 * @bytes_saved: stream bytes of saves, all of them.
 * @bytes_restored: stream bytes of restores.
 * @precopy_ns: time in pre-copy of the last save.
 * @stopcopy_ns: time from stop-copy to the end of the last save.
 * @restore_ns: time from RESUMING to the end of the last restore.
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
	u64 precopy_ns;
	u64 stopcopy_ns;
	u64 restore_ns;
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
 * @err: saving: the error that stopped producing the stream.
 * @save: saving: the translator.
 * @w: saving: the writer the translator fills.
 * @rs: resuming: the translator.
 * @bounce: resuming: user bytes on their way to the reader.
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
	u8 *bounce;
};

/**
 * struct ctxmig_vgpu - one vGPU instance
 * @vdev: the VFIO device.
 * @model: what it emulates.
 * @gpu: the emulated GPU.
 * @gpu_lock: guards @gpu, @running and the interrupt triggers.
 * @run_work: executes commands while @running.
 * @running: the migration state lets the engine execute.
 * @config: PCI config space.
 * @bar_mask: size masks of BAR0 and BAR2, for sizing writes.
 * @intx: INTx trigger, or NULL.
 * @msi: MSI trigger, or NULL.
 * @intx_masked: INTx masked by the user.
 * @state: VFIO migration state.
 * @state_mutex: guards @state, @saving, @resuming.
 * @reset_mutex: with @deferred_reset, mtty's deferred reset.
 * @deferred_reset: a reset came while @state_mutex was held.
 * @saving: the saving file, or NULL.
 * @resuming: the resuming file, or NULL.
 * @throttle: commands the engine executes per 10 ms, 0 for no limit
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
	u8 config[CTXMIG_CONFIG_SIZE];
	u64 bar_mask[VFIO_PCI_NUM_REGIONS];
	struct eventfd_ctx *intx;
	struct eventfd_ctx *msi;
	bool intx_masked;
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

static struct ctxmig_vgpu *to_vgpu(struct vfio_device *vdev)
{
	return container_of(vdev, struct ctxmig_vgpu, vdev);
}

/* Is fault injection point @at armed?  Disarms it.  Under gpu_lock. */
static bool ctxmig_fail(struct ctxmig_vgpu *vgpu, u32 at)
{
	if (vgpu->fail_at != at)
		return false;
	vgpu->fail_at = CTXMIG_FAIL_NONE;
	return true;
}

/* Remember an error for sysfs, and log it.  Under gpu_lock. */
static void ctxmig_note_error(struct ctxmig_vgpu *vgpu, int err,
			      const char *what, const char *reason)
{
	scnprintf(vgpu->stats.last_error, sizeof(vgpu->stats.last_error),
		  "%s: %s (%d)", what, reason, err);
	dev_warn(vgpu->vdev.dev, "%s\n", vgpu->stats.last_error);
}

/* ------------------------------------------------------------- engine */

static void ctxmig_run_work(struct work_struct *work)
{
	struct ctxmig_vgpu *vgpu = container_of(work, struct ctxmig_vgpu,
						run_work);
	int n;

	u32 budget;

	do {
		mutex_lock(&vgpu->gpu_lock);
		budget = vgpu->throttle ?
			 min_t(u32, vgpu->throttle, CTXMIG_RUN_BATCH) :
			 CTXMIG_RUN_BATCH;
		n = vgpu->running ? ctxmig_gpu_run(&vgpu->gpu, 0, budget) : 0;
		mutex_unlock(&vgpu->gpu_lock);
		if (n < 0)
			dev_dbg(vgpu->vdev.dev, "engine error: %s\n",
				vgpu->gpu.eng[0].reason);
		if (n == budget && vgpu->throttle)
			usleep_range(10000, 11000);
		cond_resched();
	} while (n == budget);
}

static void ctxmig_engine_start(struct ctxmig_vgpu *vgpu)
{
	mutex_lock(&vgpu->gpu_lock);
	vgpu->running = true;
	mutex_unlock(&vgpu->gpu_lock);
	queue_work(system_unbound_wq, &vgpu->run_work);
}

/* Stop at a command boundary: no command runs once this returns. */
static void ctxmig_engine_stop(struct ctxmig_vgpu *vgpu)
{
	mutex_lock(&vgpu->gpu_lock);
	vgpu->running = false;
	mutex_unlock(&vgpu->gpu_lock);
	flush_work(&vgpu->run_work);
}

/* Called by the engine under gpu_lock when an enabled interrupt fires. */
static void ctxmig_irq(void *priv, u32 engine, u32 sources)
{
	struct ctxmig_vgpu *vgpu = priv;

	if (vgpu->msi)
		eventfd_signal(vgpu->msi);
	else if (vgpu->intx && !vgpu->intx_masked)
		eventfd_signal(vgpu->intx);
}

/* System memory the GPU maps is the guest's, reached through the IOMMU. */
static int ctxmig_sys_rw(void *priv, u64 addr, void *buf, u32 len, bool write)
{
	struct ctxmig_vgpu *vgpu = priv;

	return vfio_dma_rw(&vgpu->vdev, addr, buf, len, write);
}

static const struct ctxmig_sysmem_ops ctxmig_sysmem = {
	.rw = ctxmig_sys_rw,
};

/* ------------------------------------------------------- config space */

static void ctxmig_config_init(struct ctxmig_vgpu *vgpu)
{
	u8 *c = vgpu->config;

	memset(c, 0, sizeof(vgpu->config));
	put_unaligned_le16(vgpu->model->pci_vendor, c + PCI_VENDOR_ID);
	put_unaligned_le16(vgpu->model->pci_device, c + PCI_DEVICE_ID);
	put_unaligned_le16(PCI_COMMAND_MEMORY, c + PCI_COMMAND);
	c[PCI_REVISION_ID] = 1;
	c[PCI_CLASS_DEVICE] = 0x80;	/* other */
	c[PCI_CLASS_DEVICE + 1] = PCI_BASE_CLASS_DISPLAY;
	put_unaligned_le32(PCI_BASE_ADDRESS_SPACE_MEMORY, c + PCI_BASE_ADDRESS_0);
	put_unaligned_le32(PCI_BASE_ADDRESS_MEM_TYPE_64 |
			   PCI_BASE_ADDRESS_MEM_PREFETCH, c + PCI_BASE_ADDRESS_2);
	put_unaligned_le16(vgpu->model->pci_vendor, c + PCI_SUBSYSTEM_VENDOR_ID);
	put_unaligned_le16(vgpu->model->pci_device, c + PCI_SUBSYSTEM_ID);
	c[PCI_INTERRUPT_PIN] = 1;
	vgpu->bar_mask[VFIO_PCI_BAR0_REGION_INDEX] =
		~((u64)vgpu->model->mmio_size - 1);
	vgpu->bar_mask[VFIO_PCI_BAR2_REGION_INDEX] = ~(vgpu->gpu.vram_size - 1);
}

static void ctxmig_config_write(struct ctxmig_vgpu *vgpu, u32 off, u32 val,
				u32 len)
{
	u8 *c = vgpu->config;
	u32 flags;

	switch (off) {
	case PCI_COMMAND:
		if (len >= 2)
			put_unaligned_le16(val, c + off);
		break;
	case PCI_BASE_ADDRESS_0:
		if (len == 4)
			put_unaligned_le32((val & vgpu->bar_mask[0]) |
					   PCI_BASE_ADDRESS_SPACE_MEMORY, c + off);
		break;
	case PCI_BASE_ADDRESS_2:
		flags = PCI_BASE_ADDRESS_MEM_TYPE_64 |
			PCI_BASE_ADDRESS_MEM_PREFETCH;
		if (len == 4)
			put_unaligned_le32((val & lower_32_bits(vgpu->bar_mask[2]) &
					    PCI_BASE_ADDRESS_MEM_MASK) | flags,
					   c + off);
		break;
	case PCI_BASE_ADDRESS_3:
		if (len == 4)
			put_unaligned_le32(val & upper_32_bits(vgpu->bar_mask[2]),
					   c + off);
		break;
	case PCI_INTERRUPT_LINE:
		c[off] = val;
		break;
	}
}

/* ------------------------------------------------------------ regions */

static u64 ctxmig_region_size(struct ctxmig_vgpu *vgpu, u32 index)
{
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return CTXMIG_CONFIG_SIZE;
	case VFIO_PCI_BAR0_REGION_INDEX:
		return vgpu->model->mmio_size;
	case VFIO_PCI_BAR2_REGION_INDEX:
		return vgpu->gpu.vram_size;
	}
	return 0;
}

/* One access of at most 4 bytes (config, BAR0) or a page (BAR2). */
static ssize_t ctxmig_access(struct ctxmig_vgpu *vgpu, u8 *buf, size_t count,
			     loff_t pos, bool write)
{
	u32 index = pos >> CTXMIG_OFFSET_SHIFT;
	u64 off = pos & CTXMIG_OFFSET_MASK;
	u64 size = ctxmig_region_size(vgpu, index);
	bool kick = false;
	__le32 val = 0;
	int ret = 0;

	if (off >= size || count > size - off)
		return -EINVAL;

	mutex_lock(&vgpu->gpu_lock);
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		if (write) {
			memcpy(&val, buf, count);
			ctxmig_config_write(vgpu, off, le32_to_cpu(val), count);
		} else {
			memcpy(buf, vgpu->config + off, count);
		}
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		if (count != 4 || off % 4) {
			ret = -EINVAL;
			break;
		}
		if (write) {
			ctxmig_gpu_mmio_write(&vgpu->gpu, off,
					      get_unaligned_le32(buf));
			kick = vgpu->running;
		} else {
			put_unaligned_le32(ctxmig_gpu_mmio_read(&vgpu->gpu, off),
					   buf);
		}
		break;
	case VFIO_PCI_BAR2_REGION_INDEX:
		ret = write ? ctxmig_vram_write(&vgpu->gpu.vram, off, buf, count) :
			      ctxmig_vram_read(&vgpu->gpu.vram, off, buf, count);
		break;
	default:
		ret = -EINVAL;
	}
	mutex_unlock(&vgpu->gpu_lock);
	if (kick)
		queue_work(system_unbound_wq, &vgpu->run_work);
	return ret ?: count;
}

static ssize_t ctxmig_rw(struct ctxmig_vgpu *vgpu, char __user *ubuf,
			 size_t count, loff_t *ppos, bool write)
{
	u32 index = *ppos >> CTXMIG_OFFSET_SHIFT;
	size_t done = 0;
	u8 *buf;
	int ret = 0;

	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	while (count) {
		size_t n = index == VFIO_PCI_BAR2_REGION_INDEX ?
			   min_t(size_t, count, PAGE_SIZE) :
			   (count >= 4 && !(*ppos % 4)) ? 4 :
			   (count >= 2 && !(*ppos % 2)) ? 2 : 1;

		if (write && copy_from_user(buf, ubuf, n)) {
			ret = -EFAULT;
			break;
		}
		ret = ctxmig_access(vgpu, buf, n, *ppos, write);
		if (ret < 0)
			break;
		if (!write && copy_to_user(ubuf, buf, n)) {
			ret = -EFAULT;
			break;
		}
		ret = 0;
		count -= n;
		done += n;
		*ppos += n;
		ubuf += n;
	}
	kfree(buf);
	return done ? done : ret;
}

static ssize_t ctxmig_read(struct vfio_device *vdev, char __user *buf,
			   size_t count, loff_t *ppos)
{
	return ctxmig_rw(to_vgpu(vdev), buf, count, ppos, false);
}

static ssize_t ctxmig_write(struct vfio_device *vdev, const char __user *buf,
			    size_t count, loff_t *ppos)
{
	return ctxmig_rw(to_vgpu(vdev), (char __user *)buf, count, ppos, true);
}

/* ---------------------------------------------------- migration files */

static void ctxmig_migf_disable(struct ctxmig_migf *migf)
{
	mutex_lock(&migf->lock);
	if (!migf->disabled) {
		migf->disabled = true;
		if (migf->saving) {
			ctxmig_save_fini(&migf->save);
			ctxmig_ir_writer_fini(&migf->w);
		} else if (migf->rs) {
			ctxmig_restore_fini(migf->rs);
			kfree(migf->rs);
			migf->rs = NULL;
		}
		migf->vgpu = NULL;
	}
	mutex_unlock(&migf->lock);
}

static void ctxmig_disable_files(struct ctxmig_vgpu *vgpu)
{
	if (vgpu->saving) {
		ctxmig_migf_disable(vgpu->saving);
		fput(vgpu->saving->filp);
		vgpu->saving = NULL;
	}
	if (vgpu->resuming) {
		ctxmig_migf_disable(vgpu->resuming);
		fput(vgpu->resuming->filp);
		vgpu->resuming = NULL;
	}
}

static int ctxmig_migf_release(struct inode *inode, struct file *filp)
{
	struct ctxmig_migf *migf = filp->private_data;

	ctxmig_migf_disable(migf);
	kvfree(migf->bounce);
	mutex_destroy(&migf->lock);
	kfree(migf);
	return 0;
}

/* A save reached END: statistics and the stream's metadata. */
static void ctxmig_stats_saved(struct ctxmig_migf *migf)
{
	struct ctxmig_vgpu_stats *st = &migf->vgpu->stats;

	st->saves++;
	st->bytes_saved += migf->w.offset;
	st->stopcopy_ns = ktime_get_ns() - st->t_stopcopy;
	st->ir_saved = true;
	st->ir_caps = migf->save.caps;
	memcpy(st->ir_records, migf->w.records_by_type, sizeof(st->ir_records));
	memcpy(st->ir_bytes, migf->w.bytes_by_type, sizeof(st->ir_bytes));
}

/* Stream bytes encoded and not yet read. */
static u32 migf_buffered(struct ctxmig_migf *migf)
{
	u32 n;

	ctxmig_ir_peek(&migf->w, &n);
	return n;
}

static ssize_t ctxmig_save_read(struct file *filp, char __user *buf,
				size_t len, loff_t *pos)
{
	struct ctxmig_migf *migf = filp->private_data;
	ssize_t done = 0;
	int ret = 0;

	if (pos)
		return -ESPIPE;
	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out;
	}
	while (len && !ret) {
		const void *p;
		u32 n;

		p = ctxmig_ir_peek(&migf->w, &n);
		if (n) {
			n = min_t(size_t, n, len);
			if (copy_to_user(buf, p, n)) {
				ret = -EFAULT;
				break;
			}
			ctxmig_ir_consume(&migf->w, n);
			buf += n;
			len -= n;
			done += n;
			continue;
		}
		if (migf->done)
			break;
		if (migf->err) {
			ret = migf->err;
			break;
		}
		if (migf->idle && done)
			break;
		mutex_lock(&migf->vgpu->gpu_lock);
		if (ctxmig_fail(migf->vgpu, CTXMIG_FAIL_SAVE_STEP))
			ret = ctxmig_ir_set_error(&migf->save.error, -EIO,
						  "fault injected at save_step");
		else
			ret = ctxmig_save_step(&migf->save, &migf->w);
		if (ret < 0) {
			ctxmig_note_error(migf->vgpu, ret, "save",
					  migf->save.error.err ?
					  migf->save.error.reason :
					  migf->w.error.reason);
			migf->vgpu->stats.save_errors++;
		} else if (ret == CTXMIG_SAVE_DONE) {
			ctxmig_stats_saved(migf);
		}
		mutex_unlock(&migf->vgpu->gpu_lock);
		if (ret < 0) {
			migf->err = ret;
		} else {
			migf->done = ret == CTXMIG_SAVE_DONE;
			migf->idle = ret == CTXMIG_SAVE_IDLE;
			/* Pre-copy with nothing to send: a temporary end. */
			if (migf->idle && !done && !migf_buffered(migf)) {
				ret = -ENOMSG;
				break;
			}
			ret = 0;
		}
	}
out:
	mutex_unlock(&migf->lock);
	return done ? done : ret;
}

static long ctxmig_precopy_ioctl(struct file *filp, unsigned int cmd,
				 unsigned long arg)
{
	struct ctxmig_migf *migf = filp->private_data;
	struct vfio_precopy_info info = {};
	struct ctxmig_vgpu *vgpu;
	unsigned long minsz;
	u64 initial, dirty;
	int ret = 0;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&migf->lock);
	vgpu = migf->vgpu;
	if (migf->disabled || !migf->save.precopy || migf->stop_copy) {
		mutex_unlock(&migf->lock);
		return migf->disabled ? -ENODEV : -EINVAL;
	}
	mutex_lock(&vgpu->gpu_lock);
	ctxmig_save_precopy_info(&migf->save, &initial, &dirty);
	mutex_unlock(&vgpu->gpu_lock);
	/* Bytes already encoded count with the phase they belong to. */
	if (initial)
		initial += migf_buffered(migf);
	else
		dirty += migf_buffered(migf);
	mutex_unlock(&migf->lock);

	info.initial_bytes = initial;
	info.dirty_bytes = dirty;
	if (copy_to_user((void __user *)arg, &info, minsz))
		ret = -EFAULT;
	return ret;
}

static const struct file_operations ctxmig_save_fops = {
	.owner = THIS_MODULE,
	.read = ctxmig_save_read,
	.unlocked_ioctl = ctxmig_precopy_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = ctxmig_migf_release,
};

static ssize_t ctxmig_resume_write(struct file *filp, const char __user *buf,
				   size_t len, loff_t *pos)
{
	struct ctxmig_migf *migf = filp->private_data;
	ssize_t done = 0;
	int ret = 0;

	if (pos)
		return -ESPIPE;
	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out;
	}
	while (len) {
		size_t n = min_t(size_t, len, CTXMIG_MIGF_CHUNK);

		if (copy_from_user(migf->bounce, buf, n)) {
			ret = -EFAULT;
			break;
		}
		mutex_lock(&migf->vgpu->gpu_lock);
		if (ctxmig_fail(migf->vgpu, CTXMIG_FAIL_RESTORE_FEED))
			ret = ctxmig_ir_reader_fail(&migf->rs->reader, -EIO,
						    "fault injected at restore_feed");
		else
			ret = ctxmig_restore_feed(migf->rs, migf->bounce, n);
		if (ret)
			ctxmig_note_error(migf->vgpu, ret, "stream refused",
					  ctxmig_restore_error(migf->rs)->reason);
		mutex_unlock(&migf->vgpu->gpu_lock);
		if (ret)
			break;
		buf += n;
		len -= n;
		done += n;
	}
out:
	mutex_unlock(&migf->lock);
	return done ? done : ret;
}

static const struct file_operations ctxmig_resume_fops = {
	.owner = THIS_MODULE,
	.write = ctxmig_resume_write,
	.release = ctxmig_migf_release,
};

static struct ctxmig_migf *ctxmig_migf_new(struct ctxmig_vgpu *vgpu,
					   bool saving, bool precopy)
{
	struct ctxmig_migf *migf;
	int ret;

	migf = kzalloc(sizeof(*migf), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	mutex_init(&migf->lock);
	migf->vgpu = vgpu;
	migf->saving = saving;
	if (saving) {
		ret = ctxmig_ir_writer_init(&migf->w, CTXMIG_IR_WRITER_MIN_BUF);
		if (ret)
			goto err_free;
		mutex_lock(&vgpu->gpu_lock);
		if (ctxmig_fail(vgpu, CTXMIG_FAIL_SAVE_INIT)) {
			memset(&migf->save, 0, sizeof(migf->save));
			ret = ctxmig_ir_set_error(&migf->save.error, -EIO,
						  "fault injected at save_init");
		} else {
			ret = precopy ?
			      ctxmig_save_precopy_init(&migf->save, &vgpu->gpu) :
			      ctxmig_save_init(&migf->save, &vgpu->gpu);
		}
		if (ret) {
			ctxmig_note_error(vgpu, ret, "cannot save",
					  migf->save.error.reason);
			vgpu->stats.save_errors++;
		}
		mutex_unlock(&vgpu->gpu_lock);
		if (ret) {
			ctxmig_save_fini(&migf->save);
			ctxmig_ir_writer_fini(&migf->w);
			goto err_free;
		}
	} else {
		ret = -ENOMEM;
		migf->rs = kzalloc(sizeof(*migf->rs), GFP_KERNEL_ACCOUNT);
		migf->bounce = kvmalloc(CTXMIG_MIGF_CHUNK, GFP_KERNEL_ACCOUNT);
		if (!migf->rs || !migf->bounce)
			goto err_rs;
		ret = ctxmig_restore_init(migf->rs, &vgpu->gpu);
		if (ret)
			goto err_rs;
	}
	migf->filp = anon_inode_getfile("ctxmig_mig", saving ?
					&ctxmig_save_fops : &ctxmig_resume_fops,
					migf, saving ? O_RDONLY : O_WRONLY);
	if (IS_ERR(migf->filp)) {
		ret = PTR_ERR(migf->filp);
		if (saving) {
			ctxmig_save_fini(&migf->save);
			ctxmig_ir_writer_fini(&migf->w);
		}
		goto err_rs;
	}
	stream_open(migf->filp->f_inode, migf->filp);
	return migf;

err_rs:
	if (migf->rs)
		ctxmig_restore_fini(migf->rs);
	kfree(migf->rs);
	kvfree(migf->bounce);
err_free:
	mutex_destroy(&migf->lock);
	kfree(migf);
	return ERR_PTR(ret);
}

/* --------------------------------------------------- state machine */

/*
 * Unlock state_mutex, doing first a reset that arrived meanwhile: the
 * device returns to RUNNING, its migration files die, its registers and
 * engine return to their reset state (VRAM survives, as on real GPUs).
 */
static void ctxmig_state_mutex_unlock(struct ctxmig_vgpu *vgpu)
{
again:
	mutex_lock(&vgpu->reset_mutex);
	if (vgpu->deferred_reset) {
		vgpu->deferred_reset = false;
		mutex_unlock(&vgpu->reset_mutex);
		ctxmig_engine_stop(vgpu);
		ctxmig_disable_files(vgpu);
		mutex_lock(&vgpu->gpu_lock);
		ctxmig_gpu_reset(&vgpu->gpu);
		mutex_unlock(&vgpu->gpu_lock);
		vgpu->state = VFIO_DEVICE_STATE_RUNNING;
		ctxmig_engine_start(vgpu);
		goto again;
	}
	mutex_unlock(&vgpu->state_mutex);
	mutex_unlock(&vgpu->reset_mutex);
}

static int ctxmig_load(struct ctxmig_vgpu *vgpu)
{
	struct ctxmig_migf *migf = vgpu->resuming;
	int ret;

	mutex_lock(&migf->lock);
	mutex_lock(&vgpu->gpu_lock);
	if (ctxmig_fail(vgpu, CTXMIG_FAIL_RESTORE_FINISH))
		ret = ctxmig_ir_reader_fail(&migf->rs->reader, -EIO,
					    "fault injected at restore_finish");
	else
		ret = ctxmig_restore_finish(migf->rs);
	if (ret) {
		ctxmig_note_error(vgpu, ret, "restore failed",
				  ctxmig_restore_error(migf->rs)->reason);
		vgpu->stats.restore_errors++;
	} else {
		struct ctxmig_vgpu_stats *st = &vgpu->stats;

		st->restores++;
		st->bytes_restored += migf->rs->reader.offset;
		st->restore_ns = ktime_get_ns() - st->t_resuming;
		st->ir_saved = false;
		st->ir_caps = migf->rs->src;
		memcpy(st->ir_records, migf->rs->records_by_type,
		       sizeof(st->ir_records));
		memcpy(st->ir_bytes, migf->rs->bytes_by_type,
		       sizeof(st->ir_bytes));
	}
	mutex_unlock(&vgpu->gpu_lock);
	mutex_unlock(&migf->lock);
	return ret;
}

static struct file *ctxmig_step_state(struct ctxmig_vgpu *vgpu,
				      enum vfio_device_mig_state new)
{
	enum vfio_device_mig_state cur = vgpu->state;
	struct ctxmig_migf *migf;

	/* The engine runs in RUNNING and RUNNING_P2P (it does no P2P). */
	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     new == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     new == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	     new == VFIO_DEVICE_STATE_PRE_COPY_P2P) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	     new == VFIO_DEVICE_STATE_PRE_COPY))
		return NULL;
	/* Pre-copy abandoned: the source carries on, nothing lost. */
	if ((cur == VFIO_DEVICE_STATE_PRE_COPY &&
	     new == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	     new == VFIO_DEVICE_STATE_RUNNING_P2P)) {
		ctxmig_disable_files(vgpu);
		return NULL;
	}
	/* Pre-copy ends: the same fd goes on with the stop-copy part. */
	if (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	    new == VFIO_DEVICE_STATE_STOP_COPY) {
		int ret;

		ctxmig_engine_stop(vgpu);
		migf = vgpu->saving;
		mutex_lock(&migf->lock);
		mutex_lock(&vgpu->gpu_lock);
		vgpu->stats.t_stopcopy = ktime_get_ns();
		vgpu->stats.precopy_ns = vgpu->stats.t_stopcopy -
					 vgpu->stats.t_precopy;
		ret = ctxmig_save_stop(&migf->save);
		mutex_unlock(&vgpu->gpu_lock);
		migf->idle = false;
		migf->stop_copy = true;
		if (ret) {
			dev_warn(vgpu->vdev.dev, "cannot save: %s\n",
				 migf->save.error.reason);
			migf->err = ret;
		}
		mutex_unlock(&migf->lock);
		return ret ? ERR_PTR(ret) : NULL;
	}
	if (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	    new == VFIO_DEVICE_STATE_STOP) {
		ctxmig_engine_stop(vgpu);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    new == VFIO_DEVICE_STATE_RUNNING_P2P) {
		ctxmig_engine_start(vgpu);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP_COPY &&
	    new == VFIO_DEVICE_STATE_STOP) {
		ctxmig_disable_files(vgpu);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_RESUMING &&
	    new == VFIO_DEVICE_STATE_STOP) {
		int ret = ctxmig_load(vgpu);

		if (ret) {
			/* Half restored: only a reset leaves this. */
			vgpu->state = VFIO_DEVICE_STATE_ERROR;
			return ERR_PTR(ret);
		}
		ctxmig_disable_files(vgpu);
		return NULL;
	}
	if ((cur == VFIO_DEVICE_STATE_STOP &&
	     (new == VFIO_DEVICE_STATE_STOP_COPY ||
	      new == VFIO_DEVICE_STATE_RESUMING)) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING &&
	     new == VFIO_DEVICE_STATE_PRE_COPY) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     new == VFIO_DEVICE_STATE_PRE_COPY_P2P)) {
		bool saving = new != VFIO_DEVICE_STATE_RESUMING;
		bool precopy = new == VFIO_DEVICE_STATE_PRE_COPY ||
			       new == VFIO_DEVICE_STATE_PRE_COPY_P2P;

		mutex_lock(&vgpu->gpu_lock);
		if (!saving)
			vgpu->stats.t_resuming = ktime_get_ns();
		else if (precopy)
			vgpu->stats.t_precopy = ktime_get_ns();
		else
			vgpu->stats.t_stopcopy = ktime_get_ns();
		if (saving && !precopy)
			vgpu->stats.precopy_ns = 0;
		mutex_unlock(&vgpu->gpu_lock);
		migf = ctxmig_migf_new(vgpu, saving, precopy);
		if (IS_ERR(migf))
			return ERR_CAST(migf);
		get_file(migf->filp);
		if (saving)
			vgpu->saving = migf;
		else
			vgpu->resuming = migf;
		return migf->filp;
	}
	/* vfio_mig_get_next_state() uses no other arc. */
	WARN_ON(true);
	return ERR_PTR(-EINVAL);
}

static struct file *ctxmig_set_state(struct vfio_device *vdev,
				     enum vfio_device_mig_state new_state)
{
	struct ctxmig_vgpu *vgpu = to_vgpu(vdev);
	struct file *ret = NULL;

	mutex_lock(&vgpu->state_mutex);
	/* Only a reset leaves ERROR; vfio_mig_get_next_state() WARNs on it. */
	if (vgpu->state == VFIO_DEVICE_STATE_ERROR &&
	    new_state != VFIO_DEVICE_STATE_ERROR)
		ret = ERR_PTR(-EINVAL);
	while (!IS_ERR(ret) && vgpu->state != new_state) {
		enum vfio_device_mig_state next;
		int rc = vfio_mig_get_next_state(vdev, vgpu->state, new_state,
						 &next);

		if (rc) {
			ret = ERR_PTR(rc);
			break;
		}
		ret = ctxmig_step_state(vgpu, next);
		if (IS_ERR(ret))
			break;
		vgpu->state = next;
		if (WARN_ON(ret && new_state != next)) {
			fput(ret);
			ret = ERR_PTR(-EINVAL);
			break;
		}
	}
	ctxmig_state_mutex_unlock(vgpu);
	return ret;
}

static int ctxmig_get_state(struct vfio_device *vdev,
			    enum vfio_device_mig_state *state)
{
	struct ctxmig_vgpu *vgpu = to_vgpu(vdev);

	mutex_lock(&vgpu->state_mutex);
	*state = vgpu->state;
	ctxmig_state_mutex_unlock(vgpu);
	return 0;
}

/* An upper bound: every present guest page plus the records around them. */
static int ctxmig_get_data_size(struct vfio_device *vdev,
				unsigned long *stop_copy_length)
{
	struct ctxmig_vgpu *vgpu = to_vgpu(vdev);

	mutex_lock(&vgpu->gpu_lock);
	*stop_copy_length = vgpu->gpu.vram.present *
			    (CTXMIG_VRAM_PAGE_SIZE + 24) + (64 << 10);
	mutex_unlock(&vgpu->gpu_lock);
	return 0;
}

static const struct vfio_migration_ops ctxmig_migration_ops = {
	.migration_set_state = ctxmig_set_state,
	.migration_get_state = ctxmig_get_state,
	.migration_get_data_size = ctxmig_get_data_size,
};

/* ------------------------------------------------------ reset, ioctls */

/* mtty's pattern: whoever holds state_mutex does the reset on unlock. */
static void ctxmig_reset(struct ctxmig_vgpu *vgpu)
{
	mutex_lock(&vgpu->reset_mutex);
	vgpu->deferred_reset = true;
	if (!mutex_trylock(&vgpu->state_mutex)) {
		mutex_unlock(&vgpu->reset_mutex);
		return;
	}
	mutex_unlock(&vgpu->reset_mutex);
	ctxmig_state_mutex_unlock(vgpu);
}

static void ctxmig_irq_put(struct eventfd_ctx **ctx)
{
	if (*ctx)
		eventfd_ctx_put(*ctx);
	*ctx = NULL;
}

static int ctxmig_set_irqs(struct ctxmig_vgpu *vgpu, u32 flags, u32 index,
			   u32 start, u32 count, void *data)
{
	u32 action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	struct eventfd_ctx **ctx;
	int ret = 0;

	if (index == VFIO_PCI_INTX_IRQ_INDEX)
		ctx = &vgpu->intx;
	else if (index == VFIO_PCI_MSI_IRQ_INDEX)
		ctx = &vgpu->msi;
	else
		return -EINVAL;

	mutex_lock(&vgpu->gpu_lock);
	switch (action) {
	case VFIO_IRQ_SET_ACTION_MASK:
	case VFIO_IRQ_SET_ACTION_UNMASK:
		if (index != VFIO_PCI_INTX_IRQ_INDEX ||
		    !(flags & VFIO_IRQ_SET_DATA_NONE)) {
			ret = -EINVAL;
			break;
		}
		vgpu->intx_masked = action == VFIO_IRQ_SET_ACTION_MASK;
		break;
	case VFIO_IRQ_SET_ACTION_TRIGGER:
		if (!count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
			ctxmig_irq_put(ctx);
			break;
		}
		if (start || count != 1) {
			ret = -EINVAL;
			break;
		}
		if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
			int fd = *(int *)data;

			ctxmig_irq_put(ctx);
			if (fd >= 0) {
				struct eventfd_ctx *evt = eventfd_ctx_fdget(fd);

				if (IS_ERR(evt))
					ret = PTR_ERR(evt);
				else
					*ctx = evt;
			}
		} else if (*ctx) {
			/* DATA_NONE or a true DATA_BOOL: fire it now. */
			if ((flags & VFIO_IRQ_SET_DATA_NONE) || *(u8 *)data)
				eventfd_signal(*ctx);
		}
		break;
	default:
		ret = -EINVAL;
	}
	mutex_unlock(&vgpu->gpu_lock);
	return ret;
}

static long ctxmig_ioctl(struct vfio_device *vdev, unsigned int cmd,
			 unsigned long arg)
{
	struct ctxmig_vgpu *vgpu = to_vgpu(vdev);
	void __user *uarg = (void __user *)arg;
	unsigned long minsz;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;

		minsz = offsetofend(struct vfio_device_info, num_irqs);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		info.num_regions = VFIO_PCI_NUM_REGIONS;
		info.num_irqs = VFIO_PCI_NUM_IRQS;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info info;

		minsz = offsetofend(struct vfio_region_info, offset);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_REGIONS)
			return -EINVAL;
		info.offset = (u64)info.index << CTXMIG_OFFSET_SHIFT;
		info.size = ctxmig_region_size(vgpu, info.index);
		info.flags = info.size ? VFIO_REGION_INFO_FLAG_READ |
					 VFIO_REGION_INFO_FLAG_WRITE : 0;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info info;

		minsz = offsetofend(struct vfio_irq_info, count);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
			return -EINVAL;
		info.flags = 0;
		info.count = 0;
		if (info.index == VFIO_PCI_INTX_IRQ_INDEX) {
			info.flags = VFIO_IRQ_INFO_EVENTFD |
				     VFIO_IRQ_INFO_MASKABLE;
			info.count = 1;
		} else if (info.index == VFIO_PCI_MSI_IRQ_INDEX) {
			info.flags = VFIO_IRQ_INFO_EVENTFD |
				     VFIO_IRQ_INFO_NORESIZE;
			info.count = 1;
		}
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_SET_IRQS: {
		struct vfio_irq_set hdr;
		size_t data_size = 0;
		u8 *data = NULL;
		int ret;

		minsz = offsetofend(struct vfio_irq_set, count);
		if (copy_from_user(&hdr, uarg, minsz))
			return -EFAULT;
		ret = vfio_set_irqs_validate_and_prepare(&hdr, VFIO_PCI_NUM_IRQS,
							 VFIO_PCI_NUM_IRQS,
							 &data_size);
		if (ret)
			return ret;
		if (data_size) {
			data = memdup_user(uarg + minsz, data_size);
			if (IS_ERR(data))
				return PTR_ERR(data);
		}
		ret = ctxmig_set_irqs(vgpu, hdr.flags, hdr.index, hdr.start,
				      hdr.count, data);
		kfree(data);
		return ret;
	}
	case VFIO_DEVICE_RESET:
		ctxmig_reset(vgpu);
		return 0;
	}
	return -ENOTTY;
}

/* --------------------------------------------------- device lifetime */

static int ctxmig_init_dev(struct vfio_device *vdev)
{
	struct ctxmig_vgpu *vgpu = to_vgpu(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	struct ctxmig_vgpu_type *type =
		container_of(mdev->type, struct ctxmig_vgpu_type, type);
	int avail = atomic_read(&ctxmig_parent.avail);
	int ret;

	do {
		if (!avail)
			return -ENOSPC;
	} while (!atomic_try_cmpxchg(&ctxmig_parent.avail, &avail, avail - 1));

	vgpu->model = type->model;
	ret = ctxmig_gpu_init(&vgpu->gpu, type->model, (u64)vram_mib << 20);
	if (ret)
		goto err_avail;
	ret = ctxmig_gpu_set_va_bits(&vgpu->gpu, guest_va_bits);
	if (ret)
		goto err_gpu;
	vgpu->gpu.sys = &ctxmig_sysmem;
	vgpu->gpu.sys_priv = vgpu;
	vgpu->gpu.irq = ctxmig_irq;
	vgpu->gpu.irq_priv = vgpu;
	mutex_init(&vgpu->gpu_lock);
	mutex_init(&vgpu->state_mutex);
	mutex_init(&vgpu->reset_mutex);
	INIT_WORK(&vgpu->run_work, ctxmig_run_work);
	ctxmig_config_init(vgpu);
	vgpu->running = true;
	vgpu->state = VFIO_DEVICE_STATE_RUNNING;
	vdev->migration_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
				VFIO_MIGRATION_PRE_COPY;
	vdev->mig_ops = &ctxmig_migration_ops;
	return 0;

err_gpu:
	ctxmig_gpu_fini(&vgpu->gpu);
err_avail:
	atomic_inc(&ctxmig_parent.avail);
	return ret;
}

static void ctxmig_release_dev(struct vfio_device *vdev)
{
	struct ctxmig_vgpu *vgpu = to_vgpu(vdev);

	ctxmig_gpu_fini(&vgpu->gpu);
	mutex_destroy(&vgpu->reset_mutex);
	mutex_destroy(&vgpu->state_mutex);
	mutex_destroy(&vgpu->gpu_lock);
	atomic_inc(&ctxmig_parent.avail);
}

static void ctxmig_close_device(struct vfio_device *vdev)
{
	struct ctxmig_vgpu *vgpu = to_vgpu(vdev);

	mutex_lock(&vgpu->state_mutex);
	ctxmig_disable_files(vgpu);
	ctxmig_state_mutex_unlock(vgpu);
	mutex_lock(&vgpu->gpu_lock);
	ctxmig_irq_put(&vgpu->intx);
	ctxmig_irq_put(&vgpu->msi);
	mutex_unlock(&vgpu->gpu_lock);
}

static const struct vfio_device_ops ctxmig_dev_ops = {
	.name = "ctxmig",
	.init = ctxmig_init_dev,
	.release = ctxmig_release_dev,
	.read = ctxmig_read,
	.write = ctxmig_write,
	.ioctl = ctxmig_ioctl,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
	.close_device = ctxmig_close_device,
};

static int ctxmig_probe(struct mdev_device *mdev)
{
	struct ctxmig_vgpu *vgpu;
	int ret;

	vgpu = vfio_alloc_device(ctxmig_vgpu, vdev, &mdev->dev,
				 &ctxmig_dev_ops);
	if (IS_ERR(vgpu))
		return PTR_ERR(vgpu);
	ret = vfio_register_emulated_iommu_dev(&vgpu->vdev);
	if (ret)
		goto err_put;
	dev_set_drvdata(&mdev->dev, vgpu);
	return 0;

err_put:
	vfio_put_device(&vgpu->vdev);
	return ret;
}

static void ctxmig_remove(struct mdev_device *mdev)
{
	struct ctxmig_vgpu *vgpu = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&vgpu->vdev);
	ctxmig_engine_stop(vgpu);
	vfio_put_device(&vgpu->vdev);
}

/* ------------------------------------------------ sysfs debug controls */

/*
 * /sys/bus/mdev/devices/<uuid>/ctxmig/: see
 * Documentation/ABI/testing/sysfs-bus-mdev-ctxmig.
 */

static struct ctxmig_vgpu *dev_to_vgpu(struct device *dev)
{
	return dev_get_drvdata(dev);
}

static ssize_t model_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n", dev_to_vgpu(dev)->model->name);
}
static DEVICE_ATTR_RO(model);

static const char *const ctxmig_state_names[] = {
	[VFIO_DEVICE_STATE_ERROR] = "error",
	[VFIO_DEVICE_STATE_STOP] = "stop",
	[VFIO_DEVICE_STATE_RUNNING] = "running",
	[VFIO_DEVICE_STATE_STOP_COPY] = "stop_copy",
	[VFIO_DEVICE_STATE_RESUMING] = "resuming",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "running_p2p",
	[VFIO_DEVICE_STATE_PRE_COPY] = "pre_copy",
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "pre_copy_p2p",
};

static ssize_t migration_state_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct ctxmig_vgpu *vgpu = dev_to_vgpu(dev);
	enum vfio_device_mig_state state;

	mutex_lock(&vgpu->state_mutex);
	state = vgpu->state;
	ctxmig_state_mutex_unlock(vgpu);
	if (state >= ARRAY_SIZE(ctxmig_state_names))
		return sysfs_emit(buf, "%u\n", state);
	return sysfs_emit(buf, "%s\n", ctxmig_state_names[state]);
}
static DEVICE_ATTR_RO(migration_state);

static ssize_t stats_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct ctxmig_vgpu *vgpu = dev_to_vgpu(dev);
	struct ctxmig_vgpu_stats *st = &vgpu->stats;
	struct ctxmig_engine *eng = &vgpu->gpu.eng[0];
	int n;

	mutex_lock(&vgpu->gpu_lock);
	n = sysfs_emit(buf,
		       "saves %llu\nsave_errors %llu\nbytes_saved %llu\n"
		       "restores %llu\nrestore_errors %llu\nbytes_restored %llu\n"
		       "precopy_us %llu\nstopcopy_us %llu\nrestore_us %llu\n"
		       "migrated %u\ncommands %llu\ninterrupts %llu\n"
		       "vram_pages %llu\nvram_dirty_pages %llu\n"
		       "engine %s\nlast_error %s\n",
		       st->saves, st->save_errors, st->bytes_saved,
		       st->restores, st->restore_errors, st->bytes_restored,
		       st->precopy_ns / 1000, st->stopcopy_ns / 1000,
		       st->restore_ns / 1000, vgpu->gpu.migrated,
		       eng->executed, eng->irqs, vgpu->gpu.vram.present,
		       vgpu->gpu.vram.dirty,
		       eng->status == CTXMIG_ENG_ERROR ? eng->reason :
		       eng->status == CTXMIG_ENG_BUSY ? "busy" : "idle",
		       st->last_error[0] ? st->last_error : "none");
	mutex_unlock(&vgpu->gpu_lock);
	return n;
}
static DEVICE_ATTR_RO(stats);

static ssize_t ir_dump_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct ctxmig_vgpu *vgpu = dev_to_vgpu(dev);
	struct ctxmig_vgpu_stats *st = &vgpu->stats;
	const struct ctxmig_caps *c = &st->ir_caps;
	unsigned int t;
	int n;

	mutex_lock(&vgpu->gpu_lock);
	if (!c->model) {
		mutex_unlock(&vgpu->gpu_lock);
		return sysfs_emit(buf, "none\n");
	}
	n = sysfs_emit(buf,
		       "stream %s\nversion %u.%u\nmodel %s\nfeatures 0x%x\n"
		       "vram_size %llu\nva_bits %u\nengines %u\n"
		       "page_sizes 0x%x\n",
		       st->ir_saved ? "saved" : "restored", c->version_major,
		       c->version_minor, ctxmig_ir_model_name(c->model),
		       c->features, c->vram_size, c->va_bits, c->num_engines,
		       c->page_sizes);
	for (t = 0; t < ARRAY_SIZE(st->ir_records); t++)
		if (st->ir_records[t])
			n += sysfs_emit_at(buf, n, "records %s %llu %llu\n",
					   ctxmig_ir_type_name(t),
					   st->ir_records[t], st->ir_bytes[t]);
	mutex_unlock(&vgpu->gpu_lock);
	return n;
}
static DEVICE_ATTR_RO(ir_dump);

static ssize_t throttle_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(dev_to_vgpu(dev)->throttle));
}

static ssize_t throttle_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t count)
{
	struct ctxmig_vgpu *vgpu = dev_to_vgpu(dev);
	u32 val;
	int ret = kstrtou32(buf, 0, &val);

	if (ret)
		return ret;
	mutex_lock(&vgpu->gpu_lock);
	vgpu->throttle = val;
	mutex_unlock(&vgpu->gpu_lock);
	queue_work(system_unbound_wq, &vgpu->run_work);
	return count;
}
static DEVICE_ATTR_RW(throttle);

static ssize_t fail_at_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	u32 at = READ_ONCE(dev_to_vgpu(dev)->fail_at);

	return sysfs_emit(buf, "%s\n", ctxmig_fail_names[at]);
}

static ssize_t fail_at_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct ctxmig_vgpu *vgpu = dev_to_vgpu(dev);
	int at = sysfs_match_string(ctxmig_fail_names, buf);

	if (at < 0)
		return at;
	mutex_lock(&vgpu->gpu_lock);
	vgpu->fail_at = at;
	mutex_unlock(&vgpu->gpu_lock);
	return count;
}
static DEVICE_ATTR_RW(fail_at);

static ssize_t compat_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct ctxmig_vgpu *vgpu = dev_to_vgpu(dev);
	int n;

	mutex_lock(&vgpu->gpu_lock);
	n = sysfs_emit(buf, "%s\n", vgpu->compat[0] ? vgpu->compat :
		       "none: write a stream's first bytes here");
	mutex_unlock(&vgpu->gpu_lock);
	return n;
}

/* A stream's preamble written here: can this vGPU accept that stream? */
static ssize_t compat_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t count)
{
	struct ctxmig_vgpu *vgpu = dev_to_vgpu(dev);
	struct ctxmig_ir_error error = {};
	char reason[CTXMIG_IR_REASON_LEN];
	struct ctxmig_caps caps;
	int ret;

	ret = ctxmig_ir_check_preamble(buf, count, &caps, &error);
	mutex_lock(&vgpu->gpu_lock);
	if (ret) {
		scnprintf(vgpu->compat, sizeof(vgpu->compat),
			  "invalid %d %s", ret, error.reason);
	} else {
		ret = ctxmig_compat(&caps, &vgpu->gpu, reason, sizeof(reason));
		scnprintf(vgpu->compat, sizeof(vgpu->compat), "%s %d %s",
			  ret ? "incompatible" : "compatible", ret, reason);
	}
	mutex_unlock(&vgpu->gpu_lock);
	return count;
}
static DEVICE_ATTR_RW(compat);

static struct attribute *ctxmig_vgpu_attrs[] = {
	&dev_attr_model.attr,
	&dev_attr_migration_state.attr,
	&dev_attr_stats.attr,
	&dev_attr_ir_dump.attr,
	&dev_attr_throttle.attr,
	&dev_attr_fail_at.attr,
	&dev_attr_compat.attr,
	NULL,
};

static const struct attribute_group ctxmig_vgpu_group = {
	.name = "ctxmig",
	.attrs = ctxmig_vgpu_attrs,
};

static const struct attribute_group *ctxmig_vgpu_groups[] = {
	&ctxmig_vgpu_group,
	NULL,
};

static unsigned int ctxmig_get_available(struct mdev_type *mtype)
{
	return atomic_read(&ctxmig_parent.avail);
}

static struct mdev_driver ctxmig_mdev_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = "ctxmig",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
		.dev_groups = ctxmig_vgpu_groups,
	},
	.probe = ctxmig_probe,
	.remove = ctxmig_remove,
	.get_available = ctxmig_get_available,
};

static void ctxmig_parent_release(struct device *dev)
{
}

/**
 * ctxmig_vfio_init() - register the mdev parent and one type per model
 *
 * Return: 0 or a negative errno.
 */
int ctxmig_vfio_init(void)
{
	const struct ctxmig_model *m;
	int ret;

	atomic_set(&ctxmig_parent.avail, CTXMIG_MAX_INSTANCES);
	for (ctxmig_parent.ntypes = 0;
	     ctxmig_parent.ntypes < CTXMIG_MAX_TYPES &&
	     (m = ctxmig_model_at(ctxmig_parent.ntypes));
	     ctxmig_parent.ntypes++) {
		struct ctxmig_vgpu_type *t =
			&ctxmig_parent.types[ctxmig_parent.ntypes];

		t->model = m;
		t->type.sysfs_name = m->name;
		t->type.pretty_name = m->desc;
		ctxmig_parent.type_ptrs[ctxmig_parent.ntypes] = &t->type;
	}

	ret = mdev_register_driver(&ctxmig_mdev_driver);
	if (ret)
		return ret;
	ctxmig_parent.class = class_create("ctxmig");
	if (IS_ERR(ctxmig_parent.class)) {
		ret = PTR_ERR(ctxmig_parent.class);
		goto err_driver;
	}
	ctxmig_parent.dev.class = ctxmig_parent.class;
	ctxmig_parent.dev.release = ctxmig_parent_release;
	dev_set_name(&ctxmig_parent.dev, "ctxmig");
	ret = device_register(&ctxmig_parent.dev);
	if (ret)
		goto err_put;
	ret = mdev_register_parent(&ctxmig_parent.parent, &ctxmig_parent.dev,
				   &ctxmig_mdev_driver, ctxmig_parent.type_ptrs,
				   ctxmig_parent.ntypes);
	if (ret)
		goto err_device;
	return 0;

err_device:
	device_del(&ctxmig_parent.dev);
err_put:
	put_device(&ctxmig_parent.dev);
	class_destroy(ctxmig_parent.class);
err_driver:
	mdev_unregister_driver(&ctxmig_mdev_driver);
	return ret;
}

/**
 * ctxmig_vfio_exit() - undo ctxmig_vfio_init()
 */
void ctxmig_vfio_exit(void)
{
	mdev_unregister_parent(&ctxmig_parent.parent);
	device_unregister(&ctxmig_parent.dev);
	class_destroy(ctxmig_parent.class);
	mdev_unregister_driver(&ctxmig_mdev_driver);
}
