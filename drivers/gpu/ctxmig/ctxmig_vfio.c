// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig VFIO glue: each GPU model is an mdev type, each instance a
 * vfio_device with an emulated IOMMU presenting a PCI device (config
 * space, BAR0 = the model's registers, BAR2 = its VRAM, INTx and MSI),
 * migrated through the VFIO migration uAPI v2 with the IR as the data_fd
 * stream.  This file has the device; ctxmig_vfio_pci.c its PCI function
 * (config space, BAR decoding, interrupts, DMA), ctxmig_vfio_dirty.c the
 * DMA logging, ctxmig_vfio_mig.c the migration files and state machine
 * (after samples/vfio-mdev/mtty.c), ctxmig_vfio_sysfs.c the debug
 * controls, ctxmig_vfio_types.h the types.
 *
 * Locking, outermost first (Documentation/gpu/ctxmig/architecture.rst):
 *   state_mutex  migration state, the saving/resuming files, reset
 *   migf->lock   one migration file's writer or reader
 *   pci.igate    SET_IRQS and the interrupts' teardown
 *   gpu_lock     the device: registers, VRAM, engine, config space,
 *                interrupt triggers
 *   inside it: pci.mem_lock (memory space against BAR2 faults) and
 *   dma_log.lock (the DMA log), never one inside the other.
 * The engine runs from a work item holding gpu_lock per batch of
 * commands, only while the device is open and RUNNING or PRE_COPY
 * (ctxmig_engine_sync()); stopping clears @running under gpu_lock and
 * flushes the work, so the engine always stops at a command boundary, or
 * between two CTXMIG_COPY_SLICE steps of a long copy (ctxmig_exec.c).
 *
 * Every open starts a new session: RUNNING, no migration file, the device
 * reset, its VRAM empty, no eventfd; close_device() stops the engine and
 * ends the session the same way, so that nothing runs, reaches the
 * user's memory or signals once the user's access to them is gone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/delay.h>
#include <linux/eventfd.h>
#include <linux/mdev.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/memcontrol.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/workqueue.h>

#include "ctxmig_gpu.h"
#include "ctxmig_ir_policy.h"
#include "ctxmig_model.h"
#include "ctxmig_trace.h"
#include "ctxmig_vfio.h"
#include "ctxmig_vfio_types.h"
#include "ctxmig_vram.h"
#include "ctxmig_xlate.h"

#define CTXMIG_MAX_INSTANCES	16
#define CTXMIG_MAX_TYPES	8
#define CTXMIG_OFFSET_SHIFT	40
#define CTXMIG_OFFSET_MASK	(BIT_ULL(CTXMIG_OFFSET_SHIFT) - 1)
#define CTXMIG_RUN_BATCH	256
/* VRAM emptied per gpu_lock hold when a session ends. */
#define CTXMIG_EMPTY_STEP	(256ULL << 20)

static unsigned int vram_mib = 256;
module_param(vram_mib, uint, 0444);
MODULE_PARM_DESC(vram_mib,
		 "VRAM of a new vGPU in MiB, a power of two (sparse; default 256; per instance: ctxmig/vram_mib)");

static unsigned int guest_va_bits = 47;
module_param(guest_va_bits, uint, 0444);
MODULE_PARM_DESC(guest_va_bits,
		 "GPU VA width a new vGPU gives its guest (default 47, which every model has; per instance: ctxmig/va_bits)");

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

/**
 * ctxmig_fail() - is a fault injection point armed
 * @vgpu: the vGPU, gpu_lock held.
 * @at: &enum ctxmig_fail_at.
 *
 * Return: true once, disarming it.
 */
bool ctxmig_fail(struct ctxmig_vgpu *vgpu, u32 at)
{
	if (vgpu->fail_at != at)
		return false;
	vgpu->fail_at = CTXMIG_FAIL_NONE;
	return true;
}

/**
 * ctxmig_note_error() - remember an error for sysfs, and log it
 * @vgpu: the vGPU, gpu_lock held.
 * @err: negative errno.
 * @what: what failed.
 * @reason: why.
 *
 * The log is rate-limited: userspace can write any number of bad streams.
 */
void ctxmig_note_error(struct ctxmig_vgpu *vgpu, int err, const char *what,
		       const char *reason)
{
	scnprintf(vgpu->stats.last_error, sizeof(vgpu->stats.last_error),
		  "%s: %s (%d)", what, reason, err);
	dev_warn_ratelimited(vgpu->vdev.dev, "%s\n", vgpu->stats.last_error);
	trace_ctxmig_error(dev_name(vgpu->vdev.dev), what, err, reason);
}

/* The engine stopped, asked to or on an error of its own. */
static void ctxmig_trace_engine_stop(struct ctxmig_vgpu *vgpu)
{
	const struct ctxmig_engine *e = &vgpu->gpu.eng[0];

	if (trace_ctxmig_engine_stop_enabled())
		trace_ctxmig_engine_stop(dev_name(vgpu->vdev.dev), e->status,
					 e->err, e->fence.signalled);
}

/* ------------------------------------------------------------- engine */

static void ctxmig_run_work(struct work_struct *work)
{
	struct ctxmig_vgpu *vgpu = container_of(work, struct ctxmig_vgpu,
						run_work);
	struct mem_cgroup *old;
	u32 budget;
	int n;

	do {
		mutex_lock(&vgpu->gpu_lock);
		budget = vgpu->throttle ?
			 min_t(u32, vgpu->throttle, CTXMIG_RUN_BATCH) :
			 CTXMIG_RUN_BATCH;
		/* VRAM the engine allocates is charged as the user's writes are. */
		old = set_active_memcg(vgpu->memcg);
		n = vgpu->running ? ctxmig_gpu_run(&vgpu->gpu, 0, budget) : 0;
		set_active_memcg(old);
		mutex_unlock(&vgpu->gpu_lock);
		/* Commands may have written VRAM: pre-copy has more to send. */
		if (n > 0)
			ctxmig_mig_kick(vgpu);
		if (n < 0) {
			dev_dbg(vgpu->vdev.dev, "engine error: %s\n",
				vgpu->gpu.eng[0].reason);
			ctxmig_trace_engine_stop(vgpu);
		}
		if (n == budget && vgpu->throttle)
			usleep_range(10000, 11000);
		cond_resched();
	} while (n == budget);
}

/**
 * ctxmig_engine_stop() - stop the engine at a step boundary
 * @vgpu: the vGPU.
 *
 * The engine does nothing (no DMA, no interrupt) once this returns, until
 * ctxmig_engine_sync() lets it run again.
 */
void ctxmig_engine_stop(struct ctxmig_vgpu *vgpu)
{
	bool was;

	mutex_lock(&vgpu->gpu_lock);
	was = vgpu->running;
	vgpu->running = false;
	mutex_unlock(&vgpu->gpu_lock);
	flush_work(&vgpu->run_work);
	if (was)
		ctxmig_trace_engine_stop(vgpu);
}

/**
 * ctxmig_engine_sync() - run or stop the engine as the migration state says
 * @vgpu: the vGPU, state_mutex held.
 *
 * The engine executes only while the device is open and RUNNING or
 * PRE_COPY.  In RUNNING_P2P and PRE_COPY_P2P it is quiesced as in STOP
 * (it cannot tell a peer's BAR from RAM behind an IOVA, so it initiates no
 * DMA at all, and raises no interrupt); BAR0 writes are stored meanwhile
 * and take effect when it runs again, or the commands they expose are
 * saved.  An INTx line left up meanwhile (or by a restore) is signalled
 * when it runs again, and so is an MSI raised meanwhile (a restore's
 * CTXMIG_IRQ_MIGRATED).  Stopping returns once the engine is idle.
 */
void ctxmig_engine_sync(struct ctxmig_vgpu *vgpu)
{
	bool run = vgpu->state == VFIO_DEVICE_STATE_RUNNING ||
		   vgpu->state == VFIO_DEVICE_STATE_PRE_COPY;

	lockdep_assert_held(&vgpu->state_mutex);
	if (!run) {
		ctxmig_engine_stop(vgpu);
		return;
	}
	mutex_lock(&vgpu->gpu_lock);
	vgpu->running = vgpu->open;
	if (vgpu->running)
		ctxmig_pci_irq_resume(vgpu);
	mutex_unlock(&vgpu->gpu_lock);
	queue_work(system_unbound_wq, &vgpu->run_work);
}

static const struct ctxmig_sysmem_ops ctxmig_sysmem = {
	.rw = ctxmig_pci_dma_rw,
};

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

/* One access of at most 4 bytes (config, BAR0) or inside a page (BAR2). */
static ssize_t ctxmig_access(struct ctxmig_vgpu *vgpu, u8 *buf, size_t count,
			     loff_t pos, bool write)
{
	u32 index = pos >> CTXMIG_OFFSET_SHIFT;
	u64 off = pos & CTXMIG_OFFSET_MASK;
	u64 size = ctxmig_region_size(vgpu, index);
	bool kick = false;
	int ret = 0;

	if (off >= size || count > size - off)
		return -EINVAL;

	mutex_lock(&vgpu->gpu_lock);
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		ctxmig_pci_config_rw(vgpu, off, buf, count, write);
	} else {
		ret = ctxmig_pci_bar_rw(vgpu, index, off, buf, count, write);
		kick = write && !ret && index == VFIO_PCI_BAR0_REGION_INDEX &&
		       vgpu->running;
	}
	mutex_unlock(&vgpu->gpu_lock);
	if (kick)
		queue_work(system_unbound_wq, &vgpu->run_work);
	if (write && !ret && index == VFIO_PCI_BAR2_REGION_INDEX)
		ctxmig_mig_kick(vgpu);
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
			   min_t(size_t, count,
				 PAGE_SIZE - (*ppos & ~PAGE_MASK)) :
			   (count >= 4 && !(*ppos % 4)) ? 4 :
			   (count >= 2 && !(*ppos % 2)) ? 2 : 1;

		/* As long as the region: yield, and let a killed user go. */
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
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

/* ------------------------------------------------------ BAR2 mmap */

/*
 * BAR2 maps the VRAM pages themselves (VM_PFNMAP, as DRM's shmem helper
 * maps its pages).  Pages are found or allocated at fault time and, with
 * pfn_mkwrite, every mapping starts read-only so that the first write to
 * a page marks it dirty; ctxmig_vram_clean() write-protects a page again
 * by zapping it (ctxmig_bar2_wprotect()) before pre-copy reads it.  While
 * BAR2 may be mapped VRAM pages are never freed (&struct ctxmig_vram), so
 * no user page table can point at a freed page.
 *
 * A fault cannot take gpu_lock: that lock is held across vfio_dma_rw(),
 * which may fault on the VMM's memory under mmap_lock.  What a fault
 * changes (the page array, its counters and dirty marks) is guarded by
 * the xarray's own lock instead.
 *
 * As with vfio-pci, BAR2 is mapped only while the function decodes it:
 * turning memory space off (a config write, a reset) zaps every mapping
 * under &ctxmig_pci.mem_lock, and a fault, which holds that lock for
 * reading, gives SIGBUS while it is off.
 */
/* VRAM pages are mapped one to one: only where they are CPU pages. */
#define CTXMIG_BAR2_MMAP	(PAGE_SIZE == CTXMIG_VRAM_PAGE_SIZE)
#define CTXMIG_BAR2_PGOFF \
	((u64)VFIO_PCI_BAR2_REGION_INDEX << (CTXMIG_OFFSET_SHIFT - PAGE_SHIFT))

static vm_fault_t ctxmig_bar2_fault(struct vm_fault *vmf)
{
	struct ctxmig_vgpu *vgpu = vmf->vma->vm_private_data;
	u64 pfn = vmf->pgoff - CTXMIG_BAR2_PGOFF;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	void *page;

	down_read(&vgpu->pci.mem_lock);
	/* Only the guest's part can be mapped; nothing else is there. */
	if (pfn >= READ_ONCE(vgpu->gpu.guest_size) >> PAGE_SHIFT ||
	    !ctxmig_pci_mem_enabled(vgpu))
		goto out;
	page = ctxmig_vram_get(&vgpu->gpu.vram, pfn);
	if (!page) {
		ret = VM_FAULT_OOM;
		goto out;
	}
	/* Read-only (write notify): a write comes back to pfn_mkwrite. */
	ret = vmf_insert_pfn(vmf->vma, vmf->address,
			     page_to_pfn(virt_to_page(page)));
out:
	up_read(&vgpu->pci.mem_lock);
	return ret;
}

static vm_fault_t ctxmig_bar2_pfn_mkwrite(struct vm_fault *vmf)
{
	struct ctxmig_vgpu *vgpu = vmf->vma->vm_private_data;

	ctxmig_vram_mark(&vgpu->gpu.vram, vmf->pgoff - CTXMIG_BAR2_PGOFF);
	ctxmig_mig_kick(vgpu);
	return 0;
}

static const struct vm_operations_struct ctxmig_bar2_vm_ops = {
	.fault = ctxmig_bar2_fault,
	.pfn_mkwrite = ctxmig_bar2_pfn_mkwrite,
};

/* &ctxmig_vram.wprotect: the next write through any mapping faults. */
static void ctxmig_bar2_wprotect(void *priv, u64 pfn, u64 npages)
{
	struct ctxmig_vgpu *vgpu = priv;

	unmap_mapping_range(vgpu->vdev.inode->i_mapping,
			    (CTXMIG_BAR2_PGOFF + pfn) << PAGE_SHIFT,
			    npages << PAGE_SHIFT, true);
}

/**
 * ctxmig_bar2_zap() - take BAR2 out of every mapping of it
 * @vgpu: the vGPU, &ctxmig_pci.mem_lock held for writing.
 *
 * The next access through a mapping faults, and maps the page again only
 * if memory space is on by then.
 */
void ctxmig_bar2_zap(struct ctxmig_vgpu *vgpu)
{
	lockdep_assert_held_write(&vgpu->pci.mem_lock);
	ctxmig_bar2_wprotect(vgpu, 0, vgpu->gpu.vram_size >> PAGE_SHIFT);
}

/*
 * Only the guest's part of BAR2, [0, guest_size), may be mapped (the
 * region's sparse mmap capability says so): ctxmig's reserved area above
 * it is read through the region, never written by the guest.
 */
static int ctxmig_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	struct ctxmig_vgpu *vgpu = to_vgpu(vdev);
	u64 pages = READ_ONCE(vgpu->gpu.guest_size) >> PAGE_SHIFT;
	u64 first = vma->vm_pgoff - CTXMIG_BAR2_PGOFF;

	if (!CTXMIG_BAR2_MMAP ||
	    vma->vm_pgoff >> (CTXMIG_OFFSET_SHIFT - PAGE_SHIFT) !=
	    VFIO_PCI_BAR2_REGION_INDEX)
		return -EINVAL;
	if (first >= pages || vma_pages(vma) > pages - first)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	vm_flags_set(vma, VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_private_data = vgpu;
	vma->vm_ops = &ctxmig_bar2_vm_ops;
	ctxmig_vram_set_mapped(&vgpu->gpu.vram, true);
	return 0;
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

/*
 * BAR2 is mappable only in its guest part: a sparse mmap capability with
 * the one area [0, guest_size), as vfio-pci and nvgrace-gpu describe
 * theirs.
 */
static int ctxmig_region_info(struct ctxmig_vgpu *vgpu,
			      struct vfio_region_info __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	struct vfio_region_info info;
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	info.offset = (u64)info.index << CTXMIG_OFFSET_SHIFT;
	info.size = ctxmig_region_size(vgpu, info.index);
	info.flags = info.size ? VFIO_REGION_INFO_FLAG_READ |
				 VFIO_REGION_INFO_FLAG_WRITE : 0;
	info.cap_offset = 0;
	if (info.index == VFIO_PCI_BAR2_REGION_INDEX && CTXMIG_BAR2_MMAP) {
		DEFINE_RAW_FLEX(struct vfio_region_info_cap_sparse_mmap, sparse,
				areas, 1);

		info.flags |= VFIO_REGION_INFO_FLAG_MMAP;
		sparse->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
		sparse->header.version = 1;
		sparse->nr_areas = 1;
		sparse->areas[0].offset = 0;
		sparse->areas[0].size = READ_ONCE(vgpu->gpu.guest_size);
		ret = vfio_info_add_capability(&caps, &sparse->header,
					       struct_size(sparse, areas, 1));
		if (ret)
			return ret;
	}
	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(arg + 1, caps.buf, caps.size)) {
				kfree(caps.buf);
				return -EFAULT;
			}
			info.cap_offset = sizeof(info);
		}
		kfree(caps.buf);
	}
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
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
	case VFIO_DEVICE_GET_REGION_INFO:
		return ctxmig_region_info(vgpu, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return ctxmig_pci_get_irq_info(vgpu, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return ctxmig_pci_set_irqs(vgpu, uarg);
	case VFIO_DEVICE_RESET:
		ctxmig_reset(vgpu);
		return 0;
	}
	return -ENOTTY;
}

/* --------------------------------------------------- device lifetime */

/**
 * ctxmig_vgpu_configure() - give a closed vGPU another VRAM size or VA width
 * @vgpu: the vGPU.
 * @vram_size: bytes of VRAM, a power of two, or 0 to keep it.
 * @va_bits: GPU VA width for the guest, or 0 to keep it.
 *
 * Only while no one has the device open (so nothing maps or migrates it):
 * a new VRAM size empties the VRAM and resets the device.
 *
 * Return: 0, -EBUSY while open, -EINVAL or -ERANGE for a value the model
 * cannot take (nothing changed).
 */
int ctxmig_vgpu_configure(struct ctxmig_vgpu *vgpu, u64 vram_size, u8 va_bits)
{
	struct ctxmig_gpu *gpu = &vgpu->gpu;
	int ret = 0;

	if (vram_size && !is_power_of_2(vram_size))
		return -EINVAL;	/* BAR2 is its VRAM: a power of two */
	mutex_lock(&vgpu->gpu_lock);
	if (vgpu->open) {
		ret = -EBUSY;
	} else if (va_bits && (va_bits < 32 || va_bits >= gpu->model->va_bits)) {
		ret = -ERANGE;
	} else {
		if (vram_size && vram_size != gpu->vram_size)
			ret = ctxmig_gpu_set_vram(gpu, vram_size);
		if (!ret && va_bits)
			ret = ctxmig_gpu_set_va_bits(gpu, va_bits);
		if (!ret)
			ctxmig_pci_config_init(vgpu);
	}
	mutex_unlock(&vgpu->gpu_lock);
	return ret;
}

/*
 * End whatever session the device had: the engine stopped, no migration
 * file, RUNNING, no eventfd, the device reset, its config space as new
 * and its VRAM empty (and freed: a VMM never sees what the one before
 * wrote).  state_mutex held; no mapping of BAR2 may exist (each holds the
 * device file open, so none does on the first open or the last close).
 */
static void ctxmig_session_end(struct ctxmig_vgpu *vgpu)
{
	u64 off;

	lockdep_assert_held(&vgpu->state_mutex);
	ctxmig_engine_stop(vgpu);
	ctxmig_disable_files(vgpu);
	vgpu->state = VFIO_DEVICE_STATE_RUNNING;
	ctxmig_pci_close(vgpu);
	mutex_lock(&vgpu->gpu_lock);
	ctxmig_vram_set_mapped(&vgpu->gpu.vram, false);
	ctxmig_gpu_reset(&vgpu->gpu);
	vgpu->gpu.migrated = 0;
	/* As vfio-pci builds its virtual config space at each open. */
	ctxmig_pci_reset(vgpu);
	mutex_unlock(&vgpu->gpu_lock);
	/* A sparse VRAM of up to 64 GiB: a bounded part per lock hold. */
	for (off = 0;; off += CTXMIG_EMPTY_STEP) {
		mutex_lock(&vgpu->gpu_lock);
		if (off >= vgpu->gpu.vram_size) {
			mutex_unlock(&vgpu->gpu_lock);
			break;
		}
		ctxmig_vram_clear(&vgpu->gpu.vram, off,
				  min(vgpu->gpu.vram_size - off,
				      CTXMIG_EMPTY_STEP));
		mutex_unlock(&vgpu->gpu_lock);
		cond_resched();
	}
}

/* vfio.h: a device is RUNNING when opened; nothing of a session before. */
static int ctxmig_open_device(struct vfio_device *vdev)
{
	struct ctxmig_vgpu *vgpu = to_vgpu(vdev);

	mutex_lock(&vgpu->state_mutex);
	mutex_lock(&vgpu->gpu_lock);
	vgpu->open = true;
	mutex_unlock(&vgpu->gpu_lock);
	ctxmig_session_end(vgpu);
	mutex_lock(&vgpu->gpu_lock);
	vgpu->memcg = get_mem_cgroup_from_mm(current->mm);
	mutex_unlock(&vgpu->gpu_lock);
	ctxmig_engine_sync(vgpu);
	ctxmig_state_mutex_unlock(vgpu);
	return 0;
}

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
	ret = -EINVAL;
	if (!is_power_of_2(vram_mib))
		goto err_avail;
	ret = ctxmig_gpu_init(&vgpu->gpu, type->model, (u64)vram_mib << 20);
	if (ret)
		goto err_avail;
	ret = ctxmig_gpu_set_va_bits(&vgpu->gpu, guest_va_bits);
	if (ret)
		goto err_gpu;
	vgpu->gpu.sys = &ctxmig_sysmem;
	vgpu->gpu.sys_priv = vgpu;
	vgpu->gpu.irq = ctxmig_pci_irq;
	vgpu->gpu.irq_priv = vgpu;
	vgpu->gpu.vram.wprotect = ctxmig_bar2_wprotect;
	vgpu->gpu.vram.wprotect_priv = vgpu;
	mutex_init(&vgpu->gpu_lock);
	mutex_init(&vgpu->state_mutex);
	mutex_init(&vgpu->reset_mutex);
	spin_lock_init(&vgpu->saving_lock);
	INIT_WORK(&vgpu->run_work, ctxmig_run_work);
	ctxmig_pci_init(vgpu);
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

	ctxmig_pci_fini(vgpu);
	ctxmig_gpu_fini(&vgpu->gpu);
	mutex_destroy(&vgpu->reset_mutex);
	mutex_destroy(&vgpu->state_mutex);
	mutex_destroy(&vgpu->gpu_lock);
	atomic_inc(&ctxmig_parent.avail);
}

/*
 * After this returns VFIO unbinds the user's IOMMU (vfio_dma_rw() would
 * touch freed state) and the user's eventfds may go: the engine is
 * stopped first, and no work item, DMA or signal comes after.
 */
static void ctxmig_close_device(struct vfio_device *vdev)
{
	struct ctxmig_vgpu *vgpu = to_vgpu(vdev);

	mutex_lock(&vgpu->state_mutex);
	ctxmig_session_end(vgpu);
	mutex_lock(&vgpu->gpu_lock);
	mem_cgroup_put(vgpu->memcg);
	vgpu->memcg = NULL;
	vgpu->open = false;
	mutex_unlock(&vgpu->gpu_lock);
	ctxmig_state_mutex_unlock(vgpu);
}

/*
 * The mdev is being removed while a user has it open (or BAR2 mapped):
 * ask the user to let it go, as vfio-pci's request does.  The core calls
 * this again every ten seconds until the device is closed.
 */
static void ctxmig_request(struct vfio_device *vdev, unsigned int count)
{
	struct ctxmig_vgpu *vgpu = to_vgpu(vdev);

	mutex_lock(&vgpu->gpu_lock);
	if (vgpu->pci.req) {
		if (!(count % 10))
			dev_notice_ratelimited(vdev->dev,
					       "relaying device request to user (#%u)\n",
					       count);
		eventfd_signal(vgpu->pci.req);
	} else if (!count) {
		dev_warn(vdev->dev,
			 "no device request channel registered, blocked until released by user\n");
	}
	mutex_unlock(&vgpu->gpu_lock);
}

static const struct vfio_device_ops ctxmig_dev_ops = {
	.name = "ctxmig",
	.init = ctxmig_init_dev,
	.release = ctxmig_release_dev,
	.open_device = ctxmig_open_device,
	.read = ctxmig_read,
	.write = ctxmig_write,
	.mmap = ctxmig_mmap,
	.ioctl = ctxmig_ioctl,
	.request = ctxmig_request,
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

static unsigned int ctxmig_get_available(struct mdev_type *mtype)
{
	return atomic_read(&ctxmig_parent.avail);
}

/*
 * The type's description, one line for mdevctl and libvirt: the model,
 * then what a new instance of it starts with (the names are those of the
 * module parameters and of the instance's attributes) and the IR version
 * this host writes.
 */
static ssize_t ctxmig_show_description(struct mdev_type *mtype, char *buf)
{
	struct ctxmig_vgpu_type *type =
		container_of(mtype, struct ctxmig_vgpu_type, type);

	return sysfs_emit(buf,
			  "%s; vram_mib=%u, va_bits=%u (max %u), ir_version=%u.%u\n",
			  type->model->desc, vram_mib, guest_va_bits,
			  type->model->va_bits - 1, CTXMIG_IR_VERSION_MAJOR,
			  CTXMIG_IR_VERSION_MINOR);
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
	.show_description = ctxmig_show_description,
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
