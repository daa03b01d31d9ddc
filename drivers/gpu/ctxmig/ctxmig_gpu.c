// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig GPU engine models: the device object every model shares.
 *
 * A device is a register file (BAR0) whose last page is ctxmig's control
 * page, a sparse VRAM whose top part is reserved for ctxmig, and the
 * model-independent state of its engine.  The models give the registers and
 * memory their native meaning; see Documentation/gpu/ctxmig/models.rst.
 *
 * Locking: none here.  The owner of a device serialises every call (the
 * driver holds the device's engine lock).
 */
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "ctxmig_gpu.h"
#include "ctxmig_vram.h"

/* Every model's BAR0 ends with the control page. */
static_assert(CTXMIG_CTL_BASE + CTXMIG_CTL_SIZE == CTXMIG_PCI_BAR0_SIZE);

/* Reserved area: 1/16 of VRAM, at least 4 MiB, in whole 2 MiB pages. */
#define CTXMIG_RESERVED_MIN	(4ULL << 20)
#define CTXMIG_RESERVED_ALIGN	(2ULL << 20)

/**
 * ctxmig_gpu_reserved_size() - bytes of VRAM ctxmig keeps for itself
 * @vram_size: the device's VRAM.
 *
 * The reserved area at the top of VRAM holds the page tables a restore
 * builds and the command buffers it re-encodes; it is visible to the
 * engine through a window at the top of the GPU VA space.
 *
 * Return: the reserved size, a multiple of 2 MiB.
 */
u64 ctxmig_gpu_reserved_size(u64 vram_size)
{
	u64 r = max(vram_size / 16, CTXMIG_RESERVED_MIN);

	return ALIGN(r, CTXMIG_RESERVED_ALIGN);
}

static bool vram_size_ok(u64 vram_size)
{
	return vram_size >= CTXMIG_VRAM_MIN && vram_size <= CTXMIG_VRAM_MAX &&
	       IS_ALIGNED(vram_size, CTXMIG_RESERVED_ALIGN);
}

/* Where the guest's VRAM ends and ctxmig's reserved area and window are. */
static void gpu_layout(struct ctxmig_gpu *gpu, u64 vram_size)
{
	gpu->vram_size = vram_size;
	gpu->guest_size = vram_size - ctxmig_gpu_reserved_size(vram_size);
	gpu->window_va = BIT_ULL(gpu->model->va_bits) -
			 ctxmig_gpu_reserved_size(vram_size);
}

/**
 * ctxmig_gpu_init() - create a device of @model with @vram_size of VRAM
 * @gpu: zeroed or stale device to initialise.
 * @model: what to emulate.
 * @vram_size: bytes, a multiple of 2 MiB in CTXMIG_VRAM_MIN..
 *	CTXMIG_VRAM_MAX; nothing is allocated until written.
 *
 * Return: 0, -EINVAL for a bad size, -ENOMEM.
 */
int ctxmig_gpu_init(struct ctxmig_gpu *gpu, const struct ctxmig_model *model,
		    u64 vram_size)
{
	int ret;

	memset(gpu, 0, sizeof(*gpu));
	if (!vram_size_ok(vram_size))
		return -EINVAL;
	gpu->model = model;
	gpu_layout(gpu, vram_size);
	gpu->va_bits = model->va_bits - 1;

	gpu->mmio = kvzalloc(model->mmio_size, GFP_KERNEL);
	if (!gpu->mmio)
		return -ENOMEM;
	gpu->bounce = kmalloc(CTXMIG_VRAM_PAGE_SIZE, GFP_KERNEL);
	if (!gpu->bounce) {
		ret = -ENOMEM;
		goto err_mmio;
	}
	ret = ctxmig_vram_init(&gpu->vram, vram_size);
	if (ret)
		goto err_bounce;
	ctxmig_gpu_reset(gpu);
	return 0;

err_bounce:
	kfree(gpu->bounce);
	gpu->bounce = NULL;
err_mmio:
	kvfree(gpu->mmio);
	gpu->mmio = NULL;
	return ret;
}

/**
 * ctxmig_gpu_set_vram() - make a device one with another VRAM size
 * @gpu: device, engine stopped; nothing may map its VRAM.
 * @vram_size: as ctxmig_gpu_init().
 *
 * VRAM is emptied and the device reset, as a new device of that size
 * would be; the VA width the guest gets stays.  Nothing is allocated.
 *
 * Return: 0, or -EINVAL for a bad size (the device is unchanged).
 */
int ctxmig_gpu_set_vram(struct ctxmig_gpu *gpu, u64 vram_size)
{
	struct ctxmig_vram *vram = &gpu->vram;
	void (*wprotect)(void *priv, u64 pfn, u64 npages) = vram->wprotect;
	void *priv = vram->wprotect_priv;

	if (!vram_size_ok(vram_size))
		return -EINVAL;
	ctxmig_vram_fini(vram);
	ctxmig_vram_init(vram, vram_size);	/* cannot fail: size checked */
	vram->wprotect = wprotect;
	vram->wprotect_priv = priv;
	gpu_layout(gpu, vram_size);
	ctxmig_gpu_reset(gpu);
	return 0;
}

/**
 * ctxmig_gpu_set_va_bits() - choose the VA width the guest gets
 * @gpu: device, before the guest uses it.
 * @bits: 32 up to one less than the model's width (the top half holds
 *	ctxmig's window).
 *
 * Return: 0 or -ERANGE.
 */
int ctxmig_gpu_set_va_bits(struct ctxmig_gpu *gpu, u8 bits)
{
	if (bits < 32 || bits >= gpu->model->va_bits)
		return -ERANGE;
	gpu->va_bits = bits;
	return 0;
}

/**
 * ctxmig_gpu_fini() - free a device's memory
 * @gpu: device.
 */
void ctxmig_gpu_fini(struct ctxmig_gpu *gpu)
{
	ctxmig_vram_fini(&gpu->vram);
	kfree(gpu->bounce);
	gpu->bounce = NULL;
	kvfree(gpu->mmio);
	gpu->mmio = NULL;
}

/**
 * ctxmig_gpu_reset() - device reset
 * @gpu: device.
 *
 * Registers return to their reset values, the engine forgets its commands,
 * errors and interrupts, and the reserved area is given back.  VRAM
 * contents survive, as they do on real GPUs.
 */
void ctxmig_gpu_reset(struct ctxmig_gpu *gpu)
{
	memset(gpu->mmio, 0, gpu->model->mmio_size);
	memset(gpu->eng, 0, sizeof(gpu->eng));
	gpu->pool_next = gpu->guest_size;
	gpu->model->reset(gpu);
}

/**
 * ctxmig_gpu_caps() - what the device's state needs from a target
 * @gpu: device.
 * @caps: filled in as a stream preamble of this device would carry it.
 */
void ctxmig_gpu_caps(const struct ctxmig_gpu *gpu, struct ctxmig_caps *caps)
{
	const struct ctxmig_model *m = gpu->model;
	unsigned int i;

	memset(caps, 0, sizeof(*caps));
	caps->model = m->id;
	caps->version_major = CTXMIG_IR_VERSION_MAJOR;
	caps->version_minor = CTXMIG_IR_VERSION_MINOR;
	caps->features = m->features;
	caps->vram_size = gpu->guest_size;
	caps->va_bits = gpu->va_bits;
	caps->num_engines = CTXMIG_GPU_ENGINES;
	for (i = 0; i < m->nlevels; i++)
		if (m->levels[i].leaf)
			caps->page_sizes |= BIT(m->levels[i].shift);
}

static u32 ctl_read(struct ctxmig_gpu *gpu, u32 reg)
{
	struct ctxmig_engine *eng = &gpu->eng[0];

	switch (reg) {
	case CTXMIG_CTL_MAGIC:
		return CTXMIG_CTL_MAGIC_VALUE;
	case CTXMIG_CTL_MODEL:
		return gpu->model->id;
	case CTXMIG_CTL_MIGRATED:
		return gpu->migrated;
	case CTXMIG_CTL_IRQ_STATUS:
		return eng->irq_pending;
	case CTXMIG_CTL_IRQ_ENABLE:
		return eng->irq_enabled;
	case CTXMIG_CTL_ENG_STATUS:
		return eng->status;
	case CTXMIG_CTL_ENG_ERROR:
		return -eng->err;
	case CTXMIG_CTL_VERSION:
		return CTXMIG_CTL_VERSION_VALUE;
	case CTXMIG_CTL_FENCE_LO:
		return lower_32_bits(eng->fence.signalled);
	case CTXMIG_CTL_FENCE_HI:
		return upper_32_bits(eng->fence.signalled);
	case CTXMIG_CTL_FAULT_VA_LO:
		return lower_32_bits(eng->fault_va);
	case CTXMIG_CTL_FAULT_VA_HI:
		return upper_32_bits(eng->fault_va);
	case CTXMIG_CTL_VA_BITS:
		return gpu->va_bits;
	case CTXMIG_CTL_GUEST_VRAM_LO:
		return lower_32_bits(gpu->guest_size);
	case CTXMIG_CTL_GUEST_VRAM_HI:
		return upper_32_bits(gpu->guest_size);
	}
	return 0;
}

/* @mask: the bits of the bytes written; the others keep their value. */
static void ctl_write(struct ctxmig_gpu *gpu, u32 reg, u32 value, u32 mask)
{
	struct ctxmig_engine *eng = &gpu->eng[0];

	switch (reg) {
	case CTXMIG_CTL_IRQ_STATUS:
		eng->irq_pending &= ~(value & mask);
		break;
	case CTXMIG_CTL_IRQ_ENABLE:
		eng->irq_enabled = ((eng->irq_enabled & ~mask) | (value & mask)) &
				   CTXMIG_IRQ_ALL;
		break;
	}
}

/**
 * ctxmig_gpu_mmio_read() - a 32-bit read of BAR0
 * @gpu: device.
 * @offset: byte offset; unaligned or out-of-range reads return 0.
 *
 * Return: the register's value.
 */
u32 ctxmig_gpu_mmio_read(struct ctxmig_gpu *gpu, u32 offset)
{
	u32 ctl = gpu->model->mmio_size - CTXMIG_CTL_SIZE;

	if (!IS_ALIGNED(offset, 4) || offset >= gpu->model->mmio_size)
		return 0;
	if (offset >= ctl)
		return ctl_read(gpu, offset - ctl);
	return *ctxmig_reg(gpu, offset);
}

/**
 * ctxmig_gpu_mmio_write_mask() - a write of some bytes of a BAR0 dword
 * @gpu: device.
 * @offset: byte offset of the dword; unaligned or out-of-range writes are
 *	dropped.
 * @value: what the guest wrote, in the dword's byte lanes.
 * @mask: the bits of the bytes written (the byte enables of the access).
 *
 * Native registers just hold what is written: the engine reads them when
 * it runs.  Writes to the control page act on it; a write-1-to-clear bit
 * is cleared only by a byte that was written.
 */
void ctxmig_gpu_mmio_write_mask(struct ctxmig_gpu *gpu, u32 offset, u32 value,
				u32 mask)
{
	u32 ctl = gpu->model->mmio_size - CTXMIG_CTL_SIZE;
	u32 *reg;

	if (!IS_ALIGNED(offset, 4) || offset >= gpu->model->mmio_size)
		return;
	if (offset >= ctl) {
		ctl_write(gpu, offset - ctl, value, mask);
		return;
	}
	reg = ctxmig_reg(gpu, offset);
	*reg = (*reg & ~mask) | (value & mask);
}

/**
 * ctxmig_gpu_mmio_write() - a 32-bit write of BAR0
 * @gpu: device.
 * @offset: byte offset; unaligned or out-of-range writes are dropped.
 * @value: what the guest wrote.
 */
void ctxmig_gpu_mmio_write(struct ctxmig_gpu *gpu, u32 offset, u32 value)
{
	ctxmig_gpu_mmio_write_mask(gpu, offset, value, U32_MAX);
}

/**
 * ctxmig_gpu_pool_alloc() - take zeroed memory from the reserved area
 * @gpu: device.
 * @size: bytes.
 * @align: power-of-two alignment.
 *
 * Return: the VRAM offset, or U64_MAX when the reserved area is full.
 */
u64 ctxmig_gpu_pool_alloc(struct ctxmig_gpu *gpu, u64 size, u64 align)
{
	u64 at = ALIGN(gpu->pool_next, align);

	if (at > gpu->vram_size || size > gpu->vram_size - at)
		return U64_MAX;
	if (ctxmig_vram_clear(&gpu->vram, at, size))
		return U64_MAX;
	gpu->pool_next = at + size;
	return at;
}

/**
 * ctxmig_pt_pool_alloc() - &ctxmig_pt_alloc_t taking tables from the pool
 * @gpu: the &struct ctxmig_gpu.
 * @bytes: table size.
 *
 * Return: VRAM offset or U64_MAX.
 */
u64 ctxmig_pt_pool_alloc(void *gpu, u32 bytes)
{
	return ctxmig_gpu_pool_alloc(gpu, bytes, bytes);
}

/**
 * ctxmig_gpu_window_va() - GPU VA of a reserved-area offset
 * @gpu: device.
 * @vram_offset: offset inside the reserved area.
 *
 * Return: where the engine sees it once the window is mapped.
 */
u64 ctxmig_gpu_window_va(const struct ctxmig_gpu *gpu, u64 vram_offset)
{
	return gpu->window_va + (vram_offset - gpu->guest_size);
}

/**
 * ctxmig_gpu_phys_rw() - access memory behind a translation
 * @gpu: device.
 * @x: translation of the page.
 * @delta: byte offset inside the page.
 * @buf: data.
 * @len: bytes, not crossing the page.
 * @write: direction.
 *
 * Return: 0, or -EFAULT if the memory is not there.
 */
int ctxmig_gpu_phys_rw(struct ctxmig_gpu *gpu, const struct ctxmig_xlate *x,
		       u64 delta, void *buf, u32 len, bool write)
{
	u64 addr = x->addr + delta;

	if (x->flags & CTXMIG_MAP_SYSMEM) {
		if (!gpu->sys)
			return -EFAULT;
		return gpu->sys->rw(gpu->sys_priv, addr, buf, len, write);
	}
	if (!ctxmig_vram_range_ok(&gpu->vram, addr, len))
		return -EFAULT;
	if (write)
		return ctxmig_vram_write(&gpu->vram, addr, buf, len);
	return ctxmig_vram_read(&gpu->vram, addr, buf, len);
}

static int gpu_access(struct ctxmig_gpu *gpu, u64 va, void *buf, u32 len,
		      bool write, bool check)
{
	u8 *p = buf;

	while (len) {
		struct ctxmig_xlate x;
		u64 page, delta;
		u32 n;
		int ret;

		ret = ctxmig_pt_translate(gpu, va, &x);
		if (!ret && check && !(x.flags & (write ? CTXMIG_MAP_WRITE :
							  CTXMIG_MAP_READ)))
			ret = -EACCES;
		if (!ret) {
			page = BIT_ULL(x.page_shift);
			delta = va & (page - 1);
			n = min_t(u64, len, page - delta);
			ret = ctxmig_gpu_phys_rw(gpu, &x, delta, p, n, write);
		}
		if (ret) {
			gpu->eng[0].fault_va = va;
			return ret;
		}
		va += n;
		p += n;
		len -= n;
	}
	return 0;
}

/**
 * ctxmig_gpu_access() - read or write GPU virtual memory as the engine does
 * @gpu: device.
 * @va: GPU VA.
 * @buf: data.
 * @len: bytes.
 * @write: direction.
 *
 * Every page is translated through the device's own page tables and its
 * permissions checked, as the engine would.
 *
 * Return: 0, -EFAULT on a missing translation or memory, -EACCES on a
 * permission fault, -ERANGE beyond the VA space.  The failing VA is left
 * in the engine's @fault_va.
 */
int ctxmig_gpu_access(struct ctxmig_gpu *gpu, u64 va, void *buf, u32 len,
		      bool write)
{
	return gpu_access(gpu, va, buf, len, write, true);
}

/**
 * ctxmig_gpu_poke() - write GPU virtual memory whatever the permissions
 * @gpu: device.
 * @va: GPU VA.
 * @buf: data.
 * @len: bytes.
 *
 * For ctxmig itself, e.g. re-encoding commands into a ring the guest
 * mapped read-only (the engine only reads rings).
 *
 * Return: 0, -EFAULT or -ERANGE as ctxmig_gpu_access().
 */
int ctxmig_gpu_poke(struct ctxmig_gpu *gpu, u64 va, const void *buf, u32 len)
{
	return gpu_access(gpu, va, (void *)buf, len, true, false);
}

/**
 * ctxmig_gpu_raise() - raise interrupt sources of an engine
 * @gpu: device.
 * @engine: engine index.
 * @sources: CTXMIG_IRQ_*.
 *
 * The sources stay pending until the guest acknowledges them in the
 * control page; enabled ones are delivered through @gpu->irq.
 */
void ctxmig_gpu_raise(struct ctxmig_gpu *gpu, u32 engine, u32 sources)
{
	struct ctxmig_engine *eng = &gpu->eng[engine];

	eng->irq_pending |= sources;
	if (!(sources & eng->irq_enabled))
		return;
	eng->irqs++;
	if (gpu->irq)
		gpu->irq(gpu->irq_priv, engine, sources & eng->irq_enabled);
}

/**
 * ctxmig_gpu_fail() - stop an engine on an error
 * @gpu: device.
 * @engine: engine index.
 * @err: negative errno.
 * @fmt: reason, printf-style.
 *
 * The engine stays in CTXMIG_ENG_ERROR, with the reason, until reset or
 * restored; the error interrupt is raised.
 *
 * Return: @err.
 */
int ctxmig_gpu_fail(struct ctxmig_gpu *gpu, u32 engine, int err,
		    const char *fmt, ...)
{
	struct ctxmig_engine *eng = &gpu->eng[engine];
	va_list args;

	if (eng->status == CTXMIG_ENG_ERROR)
		return eng->err;
	va_start(args, fmt);
	vscnprintf(eng->reason, sizeof(eng->reason), fmt, args);
	va_end(args);
	eng->status = CTXMIG_ENG_ERROR;
	eng->err = err;
	ctxmig_gpu_raise(gpu, engine, CTXMIG_IRQ_ERROR);
	return err;
}
