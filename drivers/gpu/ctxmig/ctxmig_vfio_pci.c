// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig VFIO glue: the PCI function a vGPU presents.  Config space, the
 * memory and bus-master enables, INTx, MSI, the error and request
 * interrupts, and the DMA the GPU does into the guest's memory.
 *
 * The function is a conventional PCI display controller: one identity for
 * every model (CTXMIG_PCI_*), BAR0 a 32-bit BAR of the model's registers
 * with ctxmig's control page last, BAR2 a 64-bit prefetchable BAR of its
 * VRAM, INTA, and a capability list holding one MSI capability (64-bit
 * address, one vector, no per-vector masking).  Config space behaves as
 * hardware would: registers have their reset values (memory space and bus
 * mastering off), writes change only writable bits, BARs size the usual
 * way, and accesses of any size and alignment work.
 *
 * Interrupts follow vfio-pci (drivers/vfio/pci/vfio_pci_intrs.c): the
 * VMM chooses one of INTx and MSI with VFIO_DEVICE_SET_IRQS.  INTx is
 * level triggered: the line is up while an enabled control-page interrupt
 * is pending.  When the line is up and INTx is not masked, the eventfd is
 * signalled and INTx masked; it stays masked until the VMM unmasks it
 * (VFIO_IRQ_SET_ACTION_UNMASK, directly or through an eventfd), and a line
 * still up then signals again.  The command register's INTx disable bit
 * keeps the line from being signalled, the status register's interrupt
 * bit shows it, and an enabled MSI capability replaces it.  MSI is a
 * memory write: it needs bus mastering, as any DMA does.  The error and
 * request eventfds only the user (a loopback test) and the request op
 * (ctxmig_vfio.c, when the mdev is being removed) signal.
 *
 * Accesses to BAR0 and BAR2 while memory space is disabled fail with
 * -EIO, as vfio-pci's do, and BAR2's mappings go with it: turning memory
 * space off (a config write, a reset) zaps them under
 * &ctxmig_pci.mem_lock, and a fault while it is off is SIGBUS
 * (ctxmig_vfio.c).  Everything here runs under gpu_lock but the SET_IRQS
 * bookkeeping that may wait for the INTx unmask eventfd's work, which
 * runs under &ctxmig_pci.igate.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/eventfd.h>
#include <linux/pci_ids.h>
#include <linux/pci_regs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <linux/vfio.h>

#include "ctxmig_gpu.h"
#include "ctxmig_vfio.h"
#include "ctxmig_vfio_types.h"
#include "ctxmig_vram.h"

/* Where the one capability, MSI, lives. */
#define CTXMIG_PCI_MSI_CAP	0x40

/* The uAPI's class code is PCI's display controller, "other". */
static_assert(PCI_CLASS_DISPLAY_OTHER << 8 == CTXMIG_PCI_CLASS);

/* The command register bits that do something, and so can be written. */
#define CTXMIG_PCI_COMMAND_RW	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
				 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | \
				 PCI_COMMAND_INTX_DISABLE)

/* A register's value and which of its bits a write changes. */
static void cfg_set(struct ctxmig_pci *pci, u32 off, u32 len, u32 val,
		    u32 wmask)
{
	__le32 v = cpu_to_le32(val), m = cpu_to_le32(wmask);

	memcpy(pci->config + off, &v, len);
	memcpy(pci->wmask + off, &m, len);
}

static u16 cfg_command(const struct ctxmig_vgpu *vgpu)
{
	return get_unaligned_le16(vgpu->pci.config + PCI_COMMAND);
}

static bool cfg_msi_enabled(const struct ctxmig_vgpu *vgpu)
{
	return vgpu->pci.config[CTXMIG_PCI_MSI_CAP + PCI_MSI_FLAGS] &
	       PCI_MSI_FLAGS_ENABLE;
}

/**
 * ctxmig_pci_config_init() - config space as at power-on
 * @vgpu: the vGPU; gpu_lock held, or not yet shared.
 *
 * BAR2's size is the VRAM's, so this is done again when it changes.
 */
void ctxmig_pci_config_init(struct ctxmig_vgpu *vgpu)
{
	struct ctxmig_pci *pci = &vgpu->pci;
	u64 bar2 = ~(vgpu->gpu.vram_size - 1);
	u32 msi = CTXMIG_PCI_MSI_CAP;

	memset(pci->config, 0, sizeof(pci->config));
	memset(pci->wmask, 0, sizeof(pci->wmask));
	cfg_set(pci, PCI_VENDOR_ID, 2, CTXMIG_PCI_VENDOR_ID, 0);
	cfg_set(pci, PCI_DEVICE_ID, 2, CTXMIG_PCI_DEVICE_ID, 0);
	cfg_set(pci, PCI_COMMAND, 2, 0, CTXMIG_PCI_COMMAND_RW);
	cfg_set(pci, PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0);
	cfg_set(pci, PCI_CLASS_REVISION, 4,
		(CTXMIG_PCI_CLASS << 8) | CTXMIG_PCI_REVISION, 0);
	cfg_set(pci, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL, 0);
	cfg_set(pci, PCI_BASE_ADDRESS_0, 4, PCI_BASE_ADDRESS_SPACE_MEMORY |
		PCI_BASE_ADDRESS_MEM_TYPE_32, ~(CTXMIG_PCI_BAR0_SIZE - 1));
	cfg_set(pci, PCI_BASE_ADDRESS_2, 4, PCI_BASE_ADDRESS_MEM_TYPE_64 |
		PCI_BASE_ADDRESS_MEM_PREFETCH,
		lower_32_bits(bar2) & PCI_BASE_ADDRESS_MEM_MASK);
	cfg_set(pci, PCI_BASE_ADDRESS_3, 4, 0, upper_32_bits(bar2));
	cfg_set(pci, PCI_SUBSYSTEM_VENDOR_ID, 2, CTXMIG_PCI_SUBSYSTEM_VENDOR_ID,
		0);
	cfg_set(pci, PCI_SUBSYSTEM_ID, 2, CTXMIG_PCI_SUBSYSTEM_ID, 0);
	cfg_set(pci, PCI_CAPABILITY_LIST, 1, msi, 0);
	cfg_set(pci, PCI_INTERRUPT_LINE, 1, 0, 0xff);
	cfg_set(pci, PCI_INTERRUPT_PIN, 1, 1, 0);	/* INTA */

	/* MSI: 64-bit address, one vector, the end of the list. */
	cfg_set(pci, msi + PCI_CAP_LIST_ID, 1, PCI_CAP_ID_MSI, 0);
	cfg_set(pci, msi + PCI_CAP_LIST_NEXT, 1, 0, 0);
	cfg_set(pci, msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_64BIT,
		PCI_MSI_FLAGS_ENABLE);
	cfg_set(pci, msi + PCI_MSI_ADDRESS_LO, 4, 0, 0xfffffffc);
	cfg_set(pci, msi + PCI_MSI_ADDRESS_HI, 4, 0, U32_MAX);
	cfg_set(pci, msi + PCI_MSI_DATA_64, 2, 0, U16_MAX);
}

/* The INTx line: an enabled interrupt of any engine is pending. */
static bool ctxmig_pci_intx_line(const struct ctxmig_vgpu *vgpu)
{
	unsigned int e;

	for (e = 0; e < CTXMIG_GPU_ENGINES; e++)
		if (vgpu->gpu.eng[e].irq_pending & vgpu->gpu.eng[e].irq_enabled)
			return true;
	return false;
}

/* MSI replaces INTx: chosen by the VMM, or enabled in the capability. */
static bool ctxmig_pci_msi_mode(const struct ctxmig_vgpu *vgpu)
{
	return vgpu->pci.irq_type == VFIO_PCI_MSI_IRQ_INDEX ||
	       cfg_msi_enabled(vgpu);
}

/**
 * ctxmig_pci_intx_update() - signal INTx if the line is up and may be
 * @vgpu: the vGPU, gpu_lock held.
 *
 * Called whenever the line, the mask or what gates them may have changed:
 * an interrupt raised, a BAR0 write, a config write, an unmask, the device
 * running again.  A stopped device signals nothing (vfio.h: no interrupts
 * in STOP); its line, if up, is signalled once it runs.
 */
void ctxmig_pci_intx_update(struct ctxmig_vgpu *vgpu)
{
	struct ctxmig_pci *pci = &vgpu->pci;

	lockdep_assert_held(&vgpu->gpu_lock);
	if (!vgpu->running ||
	    pci->irq_type != VFIO_PCI_INTX_IRQ_INDEX || pci->intx_masked ||
	    ctxmig_pci_msi_mode(vgpu) ||
	    (cfg_command(vgpu) & PCI_COMMAND_INTX_DISABLE) ||
	    !ctxmig_pci_intx_line(vgpu))
		return;
	/* As vfio-pci's handler: signal once, masked until unmasked. */
	pci->intx_masked = true;
	if (pci->intx)
		eventfd_signal(pci->intx);
}

/**
 * ctxmig_pci_irq() - &ctxmig_gpu.irq: an enabled interrupt was raised
 * @priv: the vGPU, gpu_lock held.
 * @engine: the engine that raised it.
 * @sources: CTXMIG_IRQ_* raised.
 */
void ctxmig_pci_irq(void *priv, u32 engine, u32 sources)
{
	struct ctxmig_vgpu *vgpu = priv;

	if (!ctxmig_pci_msi_mode(vgpu)) {
		ctxmig_pci_intx_update(vgpu);
		return;
	}
	/* No message from a stopped device (vfio.h): sent when it runs. */
	if (!vgpu->running) {
		vgpu->pci.msi_held = true;
		return;
	}
	/* An MSI is a write to memory: not without bus mastering. */
	if (vgpu->pci.msi && (cfg_command(vgpu) & PCI_COMMAND_MASTER))
		eventfd_signal(vgpu->pci.msi);
}

/**
 * ctxmig_pci_irq_resume() - the device runs again: deliver what waited
 * @vgpu: the vGPU, gpu_lock held, &ctxmig_vgpu.running set.
 *
 * An INTx line left up meanwhile is signalled; an MSI held back while the
 * device was stopped is sent if its source is still pending and enabled
 * (the guest may have acknowledged or disabled it before the device ran).
 */
void ctxmig_pci_irq_resume(struct ctxmig_vgpu *vgpu)
{
	struct ctxmig_pci *pci = &vgpu->pci;
	bool held = pci->msi_held;

	lockdep_assert_held(&vgpu->gpu_lock);
	pci->msi_held = false;
	if (!ctxmig_pci_msi_mode(vgpu)) {
		ctxmig_pci_intx_update(vgpu);
		return;
	}
	if (held && ctxmig_pci_intx_line(vgpu))
		ctxmig_pci_irq(vgpu, 0, 0);
}

/**
 * ctxmig_pci_dma_rw() - &ctxmig_sysmem_ops.rw: the GPU reaches guest memory
 * @priv: the vGPU, gpu_lock held.
 * @addr: IOVA.
 * @buf: the bytes.
 * @len: how many.
 * @write: to guest memory.
 *
 * Through the emulated IOMMU, which also marks the pages dirty in the
 * container's own dirty tracking; writes are logged for DMA logging too.
 *
 * Return: 0, -EIO while bus mastering is off, or vfio_dma_rw()'s error.
 */
int ctxmig_pci_dma_rw(void *priv, u64 addr, void *buf, u32 len, bool write)
{
	struct ctxmig_vgpu *vgpu = priv;
	int ret;

	if (!(cfg_command(vgpu) & PCI_COMMAND_MASTER))
		return -EIO;
	ret = vfio_dma_rw(&vgpu->vdev, addr, buf, len, write);
	/* Logged after the write: the VMM never reads a page too early. */
	if (write)
		ctxmig_dma_log_write(vgpu, addr, len);
	return ret;
}

/**
 * ctxmig_pci_mem_enabled() - does the function decode its BARs
 * @vgpu: the vGPU, gpu_lock or &ctxmig_pci.mem_lock held.
 *
 * Return: whether the command register's memory space bit is set.
 */
bool ctxmig_pci_mem_enabled(const struct ctxmig_vgpu *vgpu)
{
	return cfg_command(vgpu) & PCI_COMMAND_MEMORY;
}

/**
 * ctxmig_pci_bar_rw() - one access to BAR0 or BAR2
 * @vgpu: the vGPU, gpu_lock held.
 * @index: VFIO_PCI_BAR0_REGION_INDEX or VFIO_PCI_BAR2_REGION_INDEX.
 * @off: byte offset, inside the BAR.
 * @buf: the bytes, little-endian.
 * @len: BAR0: 1, 2 or 4 bytes, naturally aligned; BAR2: any, in one page.
 * @write: a write.
 *
 * A BAR0 access of less than a dword reads or writes only its bytes of
 * the register, as the byte enables of a bus cycle would.
 *
 * Return: 0, -EIO while memory space is disabled (as vfio-pci), -EPERM for
 * a write into BAR2's reserved area, -EINVAL.
 */
int ctxmig_pci_bar_rw(struct ctxmig_vgpu *vgpu, u32 index, u64 off, u8 *buf,
		      u32 len, bool write)
{
	u32 shift = (off & 3) * BITS_PER_BYTE, mask, val;
	__le32 v = 0;

	if (!ctxmig_pci_mem_enabled(vgpu))
		return -EIO;
	if (index == VFIO_PCI_BAR2_REGION_INDEX && !write)
		return ctxmig_vram_read(&vgpu->gpu.vram, off, buf, len);
	/* ctxmig's reserved area: the guest may read it, not write it. */
	if (index == VFIO_PCI_BAR2_REGION_INDEX)
		return off + len > vgpu->gpu.guest_size ? -EPERM :
		       ctxmig_vram_write(&vgpu->gpu.vram, off, buf, len);
	if (index != VFIO_PCI_BAR0_REGION_INDEX ||
	    (len != 1 && len != 2 && len != 4) || off % len)
		return -EINVAL;
	mask = GENMASK(len * BITS_PER_BYTE - 1, 0) << shift;
	if (!write) {
		val = ctxmig_gpu_mmio_read(&vgpu->gpu, off & ~3ULL) >> shift;
		v = cpu_to_le32(val);
		memcpy(buf, &v, len);
		return 0;
	}
	memcpy(&v, buf, len);
	ctxmig_gpu_mmio_write_mask(&vgpu->gpu, off & ~3ULL,
				   le32_to_cpu(v) << shift, mask);
	/* The control page's interrupt registers move the INTx line. */
	ctxmig_pci_intx_update(vgpu);
	return 0;
}

/*
 * Around a change of the command register (gpu_lock held): no BAR2 fault
 * meanwhile, and BAR2's mappings zapped if memory space went off.
 */
static bool ctxmig_pci_mem_begin(struct ctxmig_vgpu *vgpu)
{
	down_write(&vgpu->pci.mem_lock);
	return ctxmig_pci_mem_enabled(vgpu);
}

static void ctxmig_pci_mem_end(struct ctxmig_vgpu *vgpu, bool was_on)
{
	if (was_on && !ctxmig_pci_mem_enabled(vgpu))
		ctxmig_bar2_zap(vgpu);
	up_write(&vgpu->pci.mem_lock);
}

/**
 * ctxmig_pci_config_rw() - one access to config space
 * @vgpu: the vGPU, gpu_lock held.
 * @off: byte offset.
 * @buf: the bytes, in config space (little-endian) order.
 * @len: 1 to 4 bytes, inside config space and one dword.
 * @write: a write.
 *
 * A write changes the writable bits of the bytes written (one that turns
 * memory space off takes BAR2's mappings away); a read of the status
 * register shows the INTx line.
 */
void ctxmig_pci_config_rw(struct ctxmig_vgpu *vgpu, u32 off, u8 *buf,
			  u32 len, bool write)
{
	struct ctxmig_pci *pci = &vgpu->pci;
	bool command = off <= PCI_COMMAND && off + len > PCI_COMMAND;
	bool was_on = false;
	u32 i;

	if (!write) {
		memcpy(buf, pci->config + off, len);
		if (off <= PCI_STATUS && off + len > PCI_STATUS &&
		    ctxmig_pci_intx_line(vgpu))
			buf[PCI_STATUS - off] |= PCI_STATUS_INTERRUPT;
		return;
	}
	if (command)
		was_on = ctxmig_pci_mem_begin(vgpu);
	for (i = 0; i < len; i++)
		pci->config[off + i] = (pci->config[off + i] & ~pci->wmask[off + i]) |
				       (buf[i] & pci->wmask[off + i]);
	if (command)
		ctxmig_pci_mem_end(vgpu, was_on);
	/* INTx disable, or the MSI enable, may have let the line through. */
	ctxmig_pci_intx_update(vgpu);
}

/**
 * ctxmig_pci_reset() - the function's part of a device reset
 * @vgpu: the vGPU, gpu_lock held.
 *
 * Config space returns to its power-on values (a function-level reset
 * keeps nothing this function has: it has no sticky bits), so memory
 * space is off and BAR2's mappings go, and INTx is unmasked.  The
 * interrupt eventfds stay, as with vfio-pci.
 */
void ctxmig_pci_reset(struct ctxmig_vgpu *vgpu)
{
	bool was_on = ctxmig_pci_mem_begin(vgpu);

	ctxmig_pci_config_init(vgpu);
	ctxmig_pci_mem_end(vgpu, was_on);
	vgpu->pci.intx_masked = false;
	vgpu->pci.msi_held = false;
	ctxmig_pci_intx_update(vgpu);
}

/* ----------------------------------------------------------- SET_IRQS */

static u32 ctxmig_pci_irq_count(u32 index)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_ERR_IRQ_INDEX:
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	}
	return 0;
}

/**
 * ctxmig_pci_get_irq_info() - VFIO_DEVICE_GET_IRQ_INFO
 * @vgpu: the vGPU.
 * @uarg: the user's &struct vfio_irq_info.
 *
 * Return: 0 or a negative errno.
 */
long ctxmig_pci_get_irq_info(struct ctxmig_vgpu *vgpu, void __user *uarg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, uarg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info.count = ctxmig_pci_irq_count(info.index);
	info.flags = 0;
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			     VFIO_IRQ_INFO_AUTOMASKED;
	else if (info.count)
		info.flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
	return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
}

/* Take the eventfd @fd names for *@ctx, or none for -1. */
static int ctxmig_pci_eventfd_set(struct eventfd_ctx **ctx, s32 fd)
{
	struct eventfd_ctx *evt = NULL;

	if (fd < -1)
		return -EINVAL;
	if (fd >= 0) {
		evt = eventfd_ctx_fdget(fd);
		if (IS_ERR(evt))
			return PTR_ERR(evt);
	}
	if (*ctx)
		eventfd_ctx_put(*ctx);
	*ctx = evt;
	return 0;
}

/*
 * DATA_NONE or a true DATA_BOOL: the loopback test of a trigger (gpu_lock
 * held).  Return: whether the data asked for it.
 */
static bool ctxmig_pci_data_true(u32 flags, const void *data)
{
	return (flags & VFIO_IRQ_SET_DATA_NONE) ||
	       ((flags & VFIO_IRQ_SET_DATA_BOOL) && *(const u8 *)data);
}

static void ctxmig_pci_intx_unmask(struct ctxmig_vgpu *vgpu)
{
	vgpu->pci.intx_masked = false;
	ctxmig_pci_intx_update(vgpu);
}

/* The unmask eventfd was signalled (vfio's virqfd work, may sleep). */
static void ctxmig_pci_intx_unmask_work(void *opaque, void *data)
{
	struct ctxmig_vgpu *vgpu = opaque;

	mutex_lock(&vgpu->gpu_lock);
	if (vgpu->pci.irq_type == VFIO_PCI_INTX_IRQ_INDEX)
		ctxmig_pci_intx_unmask(vgpu);
	mutex_unlock(&vgpu->gpu_lock);
}

/* Stop delivering INTx (igate held, not gpu_lock: the unmask work). */
static void ctxmig_pci_intx_disable(struct ctxmig_vgpu *vgpu)
{
	struct ctxmig_pci *pci = &vgpu->pci;

	vfio_virqfd_disable(&pci->intx_unmask);
	mutex_lock(&vgpu->gpu_lock);
	ctxmig_pci_eventfd_set(&pci->intx, -1);
	pci->intx_masked = false;
	pci->irq_type = VFIO_PCI_NUM_IRQS;
	mutex_unlock(&vgpu->gpu_lock);
}

static int ctxmig_pci_set_intx(struct ctxmig_vgpu *vgpu, u32 action,
			       u32 flags, u32 count, void *data)
{
	struct ctxmig_pci *pci = &vgpu->pci;
	bool intx = pci->irq_type == VFIO_PCI_INTX_IRQ_INDEX;
	int ret = 0;

	if (action == VFIO_IRQ_SET_ACTION_TRIGGER && intx && !count &&
	    (flags & VFIO_IRQ_SET_DATA_NONE)) {
		ctxmig_pci_intx_disable(vgpu);
		return 0;
	}
	if (count != 1)
		return -EINVAL;
	if (action == VFIO_IRQ_SET_ACTION_TRIGGER) {
		if (!intx && pci->irq_type != VFIO_PCI_NUM_IRQS)
			return -EINVAL;	/* MSI is in use */
	} else if (!intx) {
		return -EINVAL;
	}

	if (action == VFIO_IRQ_SET_ACTION_UNMASK &&
	    (flags & VFIO_IRQ_SET_DATA_EVENTFD)) {
		s32 fd = *(s32 *)data;

		if (fd >= 0)
			return vfio_virqfd_enable(vgpu, NULL,
						  ctxmig_pci_intx_unmask_work,
						  NULL, &pci->intx_unmask, fd);
		vfio_virqfd_disable(&pci->intx_unmask);
		return 0;
	}
	if (action == VFIO_IRQ_SET_ACTION_MASK &&
	    (flags & VFIO_IRQ_SET_DATA_EVENTFD))
		return -ENOTTY;	/* as vfio-pci */

	mutex_lock(&vgpu->gpu_lock);
	switch (action) {
	case VFIO_IRQ_SET_ACTION_MASK:
		if (ctxmig_pci_data_true(flags, data))
			pci->intx_masked = true;
		break;
	case VFIO_IRQ_SET_ACTION_UNMASK:
		if (ctxmig_pci_data_true(flags, data))
			ctxmig_pci_intx_unmask(vgpu);
		break;
	case VFIO_IRQ_SET_ACTION_TRIGGER:
		if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
			ret = ctxmig_pci_eventfd_set(&pci->intx, *(s32 *)data);
			if (ret || intx)
				break;
			/* INTx enabled: a line already up fires now. */
			pci->irq_type = VFIO_PCI_INTX_IRQ_INDEX;
			pci->intx_masked = false;
			ctxmig_pci_intx_update(vgpu);
		} else if (!intx) {
			ret = -EINVAL;
		} else if (pci->intx && ctxmig_pci_data_true(flags, data)) {
			eventfd_signal(pci->intx);
		}
		break;
	}
	mutex_unlock(&vgpu->gpu_lock);
	return ret;
}

static int ctxmig_pci_set_msi(struct ctxmig_vgpu *vgpu, u32 action, u32 flags,
			      u32 count, void *data)
{
	struct ctxmig_pci *pci = &vgpu->pci;
	bool msi = pci->irq_type == VFIO_PCI_MSI_IRQ_INDEX;
	int ret = 0;

	if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return -ENOTTY;	/* no per-vector masking */
	mutex_lock(&vgpu->gpu_lock);
	if (msi && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		ctxmig_pci_eventfd_set(&pci->msi, -1);
		pci->irq_type = VFIO_PCI_NUM_IRQS;
		/* INTx may be chosen again; the line is not its business yet. */
	} else if (count != 1 || (!msi && pci->irq_type != VFIO_PCI_NUM_IRQS)) {
		ret = -EINVAL;	/* INTx is in use */
	} else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		ret = ctxmig_pci_eventfd_set(&pci->msi, *(s32 *)data);
		if (!ret)
			pci->irq_type = VFIO_PCI_MSI_IRQ_INDEX;
	} else if (!msi) {
		ret = -EINVAL;
	} else if (pci->msi && ctxmig_pci_data_true(flags, data)) {
		eventfd_signal(pci->msi);
	}
	mutex_unlock(&vgpu->gpu_lock);
	return ret;
}

/*
 * A trigger nothing but the user signals (vfio-pci's
 * vfio_pci_set_ctx_trigger_single()): an eventfd to set or clear, and
 * DATA_NONE / DATA_BOOL to signal it for a loopback test.
 */
static int ctxmig_pci_set_single(struct ctxmig_vgpu *vgpu,
				 struct eventfd_ctx **trigger, u32 action,
				 u32 flags, u32 count, void *data)
{
	int ret = 0;

	if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return -ENOTTY;
	mutex_lock(&vgpu->gpu_lock);
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		if (!*trigger)
			ret = -EINVAL;
		else if (count)
			eventfd_signal(*trigger);
		else
			ctxmig_pci_eventfd_set(trigger, -1);
	} else if (!count) {
		ret = -EINVAL;
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*trigger && *(u8 *)data)
			eventfd_signal(*trigger);
	} else {
		ret = ctxmig_pci_eventfd_set(trigger, *(s32 *)data);
	}
	mutex_unlock(&vgpu->gpu_lock);
	return ret;
}

/**
 * ctxmig_pci_set_irqs() - VFIO_DEVICE_SET_IRQS
 * @vgpu: the vGPU.
 * @uarg: the user's &struct vfio_irq_set and its data.
 *
 * Return: 0 or a negative errno, as vfio-pci gives them.
 */
long ctxmig_pci_set_irqs(struct ctxmig_vgpu *vgpu, void __user *uarg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct ctxmig_pci *pci = &vgpu->pci;
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	u32 action;
	u8 *data = NULL;
	int ret;

	if (copy_from_user(&hdr, uarg, minsz))
		return -EFAULT;
	ret = vfio_set_irqs_validate_and_prepare(&hdr,
						 ctxmig_pci_irq_count(hdr.index),
						 VFIO_PCI_NUM_IRQS, &data_size);
	if (ret)
		return ret;
	if (data_size) {
		data = memdup_user(uarg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}
	action = hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	mutex_lock(&pci->igate);
	switch (hdr.index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		ret = ctxmig_pci_set_intx(vgpu, action, hdr.flags, hdr.count,
					  data);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
		ret = ctxmig_pci_set_msi(vgpu, action, hdr.flags, hdr.count,
					 data);
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		ret = ctxmig_pci_set_single(vgpu, &pci->err, action, hdr.flags,
					    hdr.count, data);
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		ret = ctxmig_pci_set_single(vgpu, &pci->req, action, hdr.flags,
					    hdr.count, data);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&pci->igate);
	kfree(data);
	return ret;
}

/* ---------------------------------------------------------- lifetime */

/**
 * ctxmig_pci_init() - the function of a new vGPU
 * @vgpu: the vGPU, its GPU initialised.
 */
void ctxmig_pci_init(struct ctxmig_vgpu *vgpu)
{
	mutex_init(&vgpu->pci.igate);
	init_rwsem(&vgpu->pci.mem_lock);
	vgpu->pci.irq_type = VFIO_PCI_NUM_IRQS;
	ctxmig_pci_config_init(vgpu);
	ctxmig_dma_log_init(vgpu);
}

/**
 * ctxmig_pci_close() - a session ends (the device is opened or closed)
 * @vgpu: the vGPU, its engine stopped; gpu_lock not held.
 *
 * Interrupts are no longer delivered, their eventfds (INTx and its unmask
 * eventfd, MSI, error, request) are let go, DMA logging stops.
 */
void ctxmig_pci_close(struct ctxmig_vgpu *vgpu)
{
	struct ctxmig_pci *pci = &vgpu->pci;

	mutex_lock(&pci->igate);
	vfio_virqfd_disable(&pci->intx_unmask);
	mutex_lock(&vgpu->gpu_lock);
	ctxmig_pci_eventfd_set(&pci->intx, -1);
	ctxmig_pci_eventfd_set(&pci->msi, -1);
	ctxmig_pci_eventfd_set(&pci->err, -1);
	ctxmig_pci_eventfd_set(&pci->req, -1);
	pci->irq_type = VFIO_PCI_NUM_IRQS;
	pci->intx_masked = false;
	pci->msi_held = false;
	mutex_unlock(&vgpu->gpu_lock);
	mutex_unlock(&pci->igate);
	ctxmig_dma_log_stop(&vgpu->vdev);
}

/**
 * ctxmig_pci_fini() - undo ctxmig_pci_init()
 * @vgpu: the vGPU, closed.
 */
void ctxmig_pci_fini(struct ctxmig_vgpu *vgpu)
{
	ctxmig_dma_log_fini(vgpu);
	mutex_destroy(&vgpu->pci.igate);
}
