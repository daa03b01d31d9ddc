/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig GPU engine models: device lifetime, registers, memory access,
 * page tables and command execution shared by every model.
 */
#ifndef _CTXMIG_GPU_H_
#define _CTXMIG_GPU_H_

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include "ctxmig_gpu_types.h"

/* Smallest device, and the default size of an instance's VRAM. */
#define CTXMIG_VRAM_MIN			(16ULL << 20)
#define CTXMIG_VRAM_DEFAULT		(256ULL << 20)
#define CTXMIG_VRAM_MAX			(64ULL << 30)

/* The registered models, in &enum ctxmig_model_id order. */
const struct ctxmig_model *ctxmig_model_find(u32 id);
const struct ctxmig_model *ctxmig_model_lookup(const char *name);
const struct ctxmig_model *ctxmig_model_at(unsigned int i);

u64 ctxmig_gpu_reserved_size(u64 vram_size);
int ctxmig_gpu_init(struct ctxmig_gpu *gpu, const struct ctxmig_model *model,
		    u64 vram_size);
int ctxmig_gpu_set_vram(struct ctxmig_gpu *gpu, u64 vram_size);
int ctxmig_gpu_set_va_bits(struct ctxmig_gpu *gpu, u8 bits);
void ctxmig_gpu_fini(struct ctxmig_gpu *gpu);
void ctxmig_gpu_reset(struct ctxmig_gpu *gpu);
void ctxmig_gpu_caps(const struct ctxmig_gpu *gpu, struct ctxmig_caps *caps);

/**
 * ctxmig_gpu_work() - work done so far on inputs' behalf
 * @gpu: device.
 *
 * Pages visited by VRAM clears, page-table entries decoded and written,
 * pending commands decoded: the units in which
 * Documentation/gpu/ctxmig/architecture.rst bounds what a stream or a guest
 * may cost.  It only grows (a change of VRAM size starts it again).
 *
 * Return: the count.
 */
static inline u64 ctxmig_gpu_work(const struct ctxmig_gpu *gpu)
{
	return gpu->work + gpu->vram.cleared;
}

u32 ctxmig_gpu_mmio_read(struct ctxmig_gpu *gpu, u32 offset);
void ctxmig_gpu_mmio_write(struct ctxmig_gpu *gpu, u32 offset, u32 value);
void ctxmig_gpu_mmio_write_mask(struct ctxmig_gpu *gpu, u32 offset, u32 value,
				u32 mask);

/**
 * ctxmig_reg() - a model's register, by byte offset in BAR0
 * @gpu: device.
 * @offset: 4-byte aligned byte offset below the control page.
 *
 * Return: pointer to the register's value.
 */
static inline u32 *ctxmig_reg(struct ctxmig_gpu *gpu, u32 offset)
{
	return &gpu->mmio[offset / 4];
}

/**
 * ctxmig_dw_get() - dword @i of little-endian command words at any alignment
 * @buf: command bytes.
 * @i: dword index.
 *
 * Return: the CPU-endian dword.
 */
static inline u32 ctxmig_dw_get(const void *buf, u32 i)
{
	__le32 v;

	memcpy(&v, (const u8 *)buf + i * 4, sizeof(v));
	return le32_to_cpu(v);
}

/**
 * ctxmig_dw_put() - store dword @i of little-endian command words
 * @buf: command bytes.
 * @i: dword index.
 * @value: CPU-endian dword.
 */
static inline void ctxmig_dw_put(void *buf, u32 i, u32 value)
{
	__le32 v = cpu_to_le32(value);

	memcpy((u8 *)buf + i * 4, &v, sizeof(v));
}

/**
 * ctxmig_dw_emit() - append encoded dwords to a command buffer
 * @buf: command bytes.
 * @room: bytes @buf holds.
 * @out: dwords already in @buf; advanced past the new ones.
 * @dw: the CPU-endian dwords.
 * @n: how many.
 *
 * Return: 0, or -ENOSPC (and nothing written) if they do not fit.
 */
static inline int ctxmig_dw_emit(void *buf, u32 room, u32 *out, const u32 *dw,
				 u32 n)
{
	u32 i;

	if ((*out + n) * 4 > room)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		ctxmig_dw_put(buf, *out + i, dw[i]);
	*out += n;
	return 0;
}

/**
 * ctxmig_gpu_encode_end() - end an indirect buffer's encoded commands
 * @gpu: device.
 * @buf: where the buffer's commands end.
 * @room: bytes @buf holds.
 *
 * Return: bytes written (0 for models whose buffers end at their length),
 * or -ENOSPC.
 */
static inline int ctxmig_gpu_encode_end(const struct ctxmig_gpu *gpu,
					void *buf, u32 room)
{
	return gpu->model->encode_end ? gpu->model->encode_end(gpu, buf, room) :
					0;
}

u64 ctxmig_gpu_pool_alloc(struct ctxmig_gpu *gpu, u64 size, u64 align);
u64 ctxmig_gpu_window_va(const struct ctxmig_gpu *gpu, u64 vram_offset);

int ctxmig_gpu_access(struct ctxmig_gpu *gpu, u64 va, void *buf, u32 len,
		      bool write);
int ctxmig_gpu_poke(struct ctxmig_gpu *gpu, u64 va, const void *buf, u32 len);
int ctxmig_gpu_phys_rw(struct ctxmig_gpu *gpu, const struct ctxmig_xlate *x,
		       u64 delta, void *buf, u32 len, bool write);

__printf(4, 5)
int ctxmig_gpu_fail(struct ctxmig_gpu *gpu, u32 engine, int err,
		    const char *fmt, ...);
void ctxmig_gpu_raise(struct ctxmig_gpu *gpu, u32 engine, u32 sources);

/* Page tables: ctxmig_pt.c. */

/**
 * struct ctxmig_pt_walk_ops - what a page-table walk reports
 * @mapping: a run of pages with equal attributes, contiguous in VA and in
 *	backing address, in ascending VA order; the window of the reserved
 *	area is not reported.
 * @table: a VRAM page (or part of one) holding page-table entries.
 *
 * Either may be NULL.  A non-zero return ends the walk with that value.
 */
struct ctxmig_pt_walk_ops {
	int (*mapping)(void *priv, const struct ctxmig_mapping *map);
	int (*table)(void *priv, u64 offset, u32 bytes);
};

/**
 * typedef ctxmig_pt_alloc_t - where a page-table build takes its tables
 * @priv: the allocator's.
 * @bytes: table size, a power of two up to 4 KiB.
 *
 * Return: VRAM offset of zeroed, @bytes-aligned memory, or U64_MAX.
 */
typedef u64 (*ctxmig_pt_alloc_t)(void *priv, u32 bytes);

/*
 * A &ctxmig_mapping.page_shift no model has: ctxmig_pt_map() and
 * ctxmig_pt_plan_add() then use the largest pages the model has.
 */
#define CTXMIG_PT_LARGEST_PAGES		63

int ctxmig_pt_translate(struct ctxmig_gpu *gpu, u64 va, struct ctxmig_xlate *x);
int ctxmig_pt_walk(struct ctxmig_gpu *gpu, const struct ctxmig_pt_walk_ops *ops,
		   void *priv);
int ctxmig_pt_map(struct ctxmig_gpu *gpu, const struct ctxmig_mapping *map,
		  ctxmig_pt_alloc_t alloc, void *alloc_priv);
u64 ctxmig_pt_pool_alloc(void *gpu, u32 bytes);
void ctxmig_pt_plan_init(struct ctxmig_pt_plan *plan, bool root);
int ctxmig_pt_plan_add(const struct ctxmig_model *m,
		       struct ctxmig_pt_plan *plan,
		       const struct ctxmig_mapping *map);

/* Command execution: ctxmig_exec.c. */
int ctxmig_gpu_run(struct ctxmig_gpu *gpu, u32 engine, u32 budget);
int ctxmig_gpu_execute(struct ctxmig_gpu *gpu, u32 engine,
		       const struct ctxmig_cmd *cmd);
int ctxmig_gpu_fetch(struct ctxmig_gpu *gpu, u32 engine, u64 va, u32 avail,
		     u32 level, struct ctxmig_cmd *cmd);
int ctxmig_gpu_fetch_ring(struct ctxmig_gpu *gpu, u32 engine,
			  const struct ctxmig_ring *ring, u32 pos,
			  struct ctxmig_cmd *cmd);

#endif /* _CTXMIG_GPU_H_ */
