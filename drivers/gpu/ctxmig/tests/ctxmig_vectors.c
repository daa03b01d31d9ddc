// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig real-driver vectors: the command words the drivers of the GPUs
 * the models imitate put on their rings, for the models to execute and
 * the translators to save, translate and restore mid-flight.
 *
 * Each vec_*() function below follows one named function of a public
 * driver step by step, writing the same words in the same order: the
 * Linux 6.12 tree (amdgpu, xe, nouveau), Mesa's radeonsi, and NVIDIA's
 * open-gpu-kernel-modules (UVM).  Where the driver takes a value from its
 * device state (a register offset, a flag), the caller passes it.  Field
 * values are spelled here from the drivers' own headers, not taken from
 * the models, so that a model that misreads a field fails its tests.
 *
 * Words are CPU-endian in a struct vec_ring, as amdgpu_ring_write() and
 * the nvif push macros see them; vec_bytes() stores them little-endian.
 *
 * Included, not linked: the host tests, the differential runs
 * (ctxmig_diff.c, also under KUnit) and the VM tests' guest driver
 * include this file.
 */

/**
 * struct vec_ring - command words being written
 * @dw: the words.
 * @n: words written.
 * @room: words @dw holds.
 * @overflow: a write did not fit (and was dropped).
 */
struct vec_ring {
	u32 *dw;
	u32 n;
	u32 room;
	bool overflow;
};

/* amdgpu_ring_write(), PUSH_DATA(): one word. */
static void vec_write(struct vec_ring *r, u32 v)
{
	if (r->n < r->room)
		r->dw[r->n++] = v;
	else
		r->overflow = true;
}

/* The words little-endian into @buf (at least r->n * 4 bytes). */
static void __maybe_unused vec_bytes(const struct vec_ring *r, void *buf)
{
	u32 i;

	for (i = 0; i < r->n; i++)
		ctxmig_dw_put(buf, i, r->dw[i]);
}

/* ------------------------------------------------------------ NVIDIA */

/*
 * Method headers as nvif's PUSH_HDR() (nouveau include/nvif/push906f.h)
 * and UVM's UVM_METHOD_INC() (uvm_push_macros.h) build them from the
 * NV906F_DMA / NVC46F_DMA fields: SEC_OP 31:29, COUNT (or immediate data)
 * 28:16, SUBCHANNEL 15:13, method address >> 2 in 11:0.
 */
#define VEC_NV_INC_METHOD	1
#define VEC_NV_IMMD_DATA_METHOD	4

static void __maybe_unused vec_nv_hdr(struct vec_ring *r, u32 sec_op, u32 subc,
				      u32 mthd, u32 count)
{
	vec_write(r, sec_op << 29 | (count & 0x1fff) << 16 |
		     (subc & 7) << 13 | ((mthd >> 2) & 0xfff));
}

/* nvif's subchannels (push906f.h PUSH906F_SUBC_*), UVM's (uvm_push_macros.h). */
#define VEC_NV_SUBC_HOST	0
#define VEC_NV_SUBC_COPY	4	/* PUSH906F_SUBC_NVA0B5, UVM_SUBCHANNEL_CE */
#define VEC_NV_SUBC_SW		5	/* UVM_SUBCHANNEL_SW */

/* Host class methods (cl906f.h, clc46f.h, clc56f.h, clc86f.h). */
#define VEC_NV906F_SEMAPHOREA		0x0010
#define VEC_NV906F_NON_STALL_INTERRUPT	0x0020
#define VEC_NVC46F_MEM_OP_A		0x0028
#define VEC_NVC46F_WFI			0x0078
#define VEC_NVC86F_SEM_ADDR_LO		0x005c
/* Copy engine methods (cla0b5.h, clc8b5.h). */
#define VEC_NVA0B5_LAUNCH_DMA		0x0300
#define VEC_NVA0B5_OFFSET_IN_UPPER	0x0400
#define VEC_NVA0B5_LINE_LENGTH_IN	0x0418

/**
 * vec_nvc0_fence_emit32() - nouveau nvc0_fence.c nvc0_fence_emit32()
 * @r: the pushbuffer.
 * @virtual: the fence's GPU VA.
 * @sequence: the fence value.
 *
 * One PUSH_MTHD(): SEMAPHOREA..D and NON_STALL_INTERRUPT are consecutive
 * methods, so nvif writes one incrementing header of five.  SEMAPHORED:
 * OPERATION RELEASE (2), RELEASE_WFI EN (0), RELEASE_SIZE 16BYTE (0).
 */
static void __maybe_unused vec_nvc0_fence_emit32(struct vec_ring *r,
						 u64 virtual, u32 sequence)
{
	vec_nv_hdr(r, VEC_NV_INC_METHOD, VEC_NV_SUBC_HOST,
		   VEC_NV906F_SEMAPHOREA, 5);
	vec_write(r, upper_32_bits(virtual) & 0xff);	/* OFFSET_UPPER 7:0 */
	vec_write(r, lower_32_bits(virtual));		/* SEMAPHOREB */
	vec_write(r, sequence);				/* SEMAPHOREC */
	vec_write(r, 2 << 0 | 0 << 20 | 0 << 24);	/* SEMAPHORED */
	vec_write(r, 0);				/* NON_STALL_INTERRUPT */
}

/**
 * vec_nve0_bo_move_init() - nouveau nouveau_boa0b5.c nve0_bo_move_init()
 * @r: the pushbuffer.
 * @handle: the copy object's handle.
 *
 * PUSH_NVSQ(push, NVA0B5, 0x0000, handle & 0x0000ffff): the object bound
 * to the copy engine's subchannel, once per channel.
 */
static void __maybe_unused vec_nve0_bo_move_init(struct vec_ring *r, u32 handle)
{
	vec_nv_hdr(r, VEC_NV_INC_METHOD, VEC_NV_SUBC_COPY, 0x0000, 1);
	vec_write(r, handle & 0x0000ffff);
}

/**
 * vec_nve0_bo_move_copy() - nouveau nouveau_boa0b5.c nve0_bo_move_copy()
 * @r: the pushbuffer.
 * @src: the old placement's VA (mem->vma[0].addr).
 * @dst: the new placement's VA (mem->vma[1].addr).
 * @size: the buffer's size in bytes (new_reg->size).
 *
 * One PUSH_MTHD() of OFFSET_IN_UPPER .. LINE_COUNT (cla0b5.h, eight
 * consecutive methods), PAGE_SIZE lines, PFN_UP(size) of them, then
 * LAUNCH_DMA as immediate data: NON_PIPELINED, FLUSH_ENABLE, no
 * semaphore, no interrupt, pitch to pitch, MULTI_LINE_ENABLE, virtual.
 */
static void __maybe_unused vec_nve0_bo_move_copy(struct vec_ring *r, u64 src,
						 u64 dst, u64 size)
{
	const u32 page_size = 4096;

	vec_nv_hdr(r, VEC_NV_INC_METHOD, VEC_NV_SUBC_COPY,
		   VEC_NVA0B5_OFFSET_IN_UPPER, 8);
	vec_write(r, upper_32_bits(src) & 0xff);	/* OFFSET_IN_UPPER 7:0 */
	vec_write(r, lower_32_bits(src));
	vec_write(r, upper_32_bits(dst) & 0xff);	/* OFFSET_OUT_UPPER */
	vec_write(r, lower_32_bits(dst));
	vec_write(r, page_size);			/* PITCH_IN */
	vec_write(r, page_size);			/* PITCH_OUT */
	vec_write(r, page_size);			/* LINE_LENGTH_IN */
	vec_write(r, DIV_ROUND_UP(size, page_size));	/* LINE_COUNT */
	vec_nv_hdr(r, VEC_NV_IMMD_DATA_METHOD, VEC_NV_SUBC_COPY,
		   VEC_NVA0B5_LAUNCH_DMA,
		   2 << 0 |	/* DATA_TRANSFER_TYPE NON_PIPELINED */
		   1 << 2 |	/* FLUSH_ENABLE TRUE */
		   0 << 3 |	/* SEMAPHORE_TYPE NONE */
		   0 << 5 |	/* INTERRUPT_TYPE NONE */
		   1 << 7 |	/* SRC_MEMORY_LAYOUT PITCH */
		   1 << 8 |	/* DST_MEMORY_LAYOUT PITCH */
		   1 << 9 |	/* MULTI_LINE_ENABLE TRUE */
		   0 << 10 |	/* REMAP_ENABLE FALSE */
		   0 << 11 |	/* BYPASS_L2 USE_PTE_SETTING */
		   0 << 12 |	/* SRC_TYPE VIRTUAL */
		   0 << 13);	/* DST_TYPE VIRTUAL */
}

/**
 * vec_nv50_dma_push() - nouveau nouveau_dma.c nv50_dma_push()
 * @gp: the two words of the GPFIFO entry.
 * @offset: the pushbuffer's VA.
 * @length: its bytes.
 * @no_prefetch: the entry's bit 31.
 */
static void __maybe_unused vec_nv50_dma_push(u32 gp[2], u64 offset, u32 length,
					     bool no_prefetch)
{
	gp[0] = lower_32_bits(offset);
	gp[1] = upper_32_bits(offset) | length << 8 |
		(no_prefetch ? (1U << 31) : 0);
}

/**
 * vec_uvm_host_init() - UVM uvm_turing_host.c uvm_hal_turing_host_init()
 * @r: the pushbuffer of a copy-engine channel.
 *
 * NV_PUSH_1U(C076, SET_OBJECT, GP100_UVM_SW): SET_OBJECT on the software
 * subchannel, at the start of each push.
 */
static void __maybe_unused vec_uvm_host_init(struct vec_ring *r)
{
	vec_nv_hdr(r, VEC_NV_INC_METHOD, VEC_NV_SUBC_SW, 0x0000, 1);
	vec_write(r, 0xc076);	/* GP100_UVM_SW */
}

/*
 * uvm_hal_wfi_membar() (uvm_hal.h) with the push's default membar, SYS:
 * uvm_hal_turing_host_wait_for_idle(), NV_PUSH_1U(C46F, WFI, 0), then
 * uvm_hal_turing_host_membar_sys(), NV_PUSH_4U(C46F, MEM_OP_A, 0,
 * MEM_OP_B, 0, MEM_OP_C, MEMBAR_TYPE SYS_MEMBAR (0), MEM_OP_D, OPERATION
 * MEMBAR (5 in 31:27)).
 */
static void __maybe_unused vec_uvm_wfi_membar_sys(struct vec_ring *r)
{
	vec_nv_hdr(r, VEC_NV_INC_METHOD, VEC_NV_SUBC_HOST, VEC_NVC46F_WFI, 1);
	vec_write(r, 0);
	vec_nv_hdr(r, VEC_NV_INC_METHOD, VEC_NV_SUBC_HOST, VEC_NVC46F_MEM_OP_A,
		   4);
	vec_write(r, 0);
	vec_write(r, 0);
	vec_write(r, 0);
	vec_write(r, 5U << 27);
}

/**
 * vec_uvm_hopper_host_semaphore_release() - UVM uvm_hopper_host.c
 *	uvm_hal_hopper_host_semaphore_release()
 * @r: the pushbuffer.
 * @gpu_va: the semaphore's VA, 4-byte aligned.
 * @payload: the value released.
 *
 * uvm_hal_wfi_membar(), then NV_PUSH_5U(C86F, SEM_ADDR_LO .. SEM_EXECUTE):
 * OPERATION RELEASE (1), PAYLOAD_SIZE 32BIT, RELEASE_TIMESTAMP DIS,
 * RELEASE_WFI DIS.
 */
static void __maybe_unused
vec_uvm_hopper_host_semaphore_release(struct vec_ring *r, u64 gpu_va,
				      u32 payload)
{
	u32 sem_lo = lower_32_bits(gpu_va) >> 2;	/* READ_HWVALUE 31:2 */

	vec_uvm_wfi_membar_sys(r);
	vec_nv_hdr(r, VEC_NV_INC_METHOD, VEC_NV_SUBC_HOST,
		   VEC_NVC86F_SEM_ADDR_LO, 5);
	vec_write(r, sem_lo << 2);			/* SEM_ADDR_LO 31:2 */
	vec_write(r, upper_32_bits(gpu_va) & 0x1ffffff); /* SEM_ADDR_HI 24:0 */
	vec_write(r, payload);				/* SEM_PAYLOAD_LO */
	vec_write(r, 0);				/* SEM_PAYLOAD_HI */
	vec_write(r, 1 << 0 | 0 << 24 | 0 << 25 | 0 << 20); /* SEM_EXECUTE */
}

/**
 * vec_uvm_host_interrupt() - UVM uvm_turing_host.c
 *	uvm_hal_turing_host_interrupt()
 * @r: the pushbuffer.
 */
static void __maybe_unused vec_uvm_host_interrupt(struct vec_ring *r)
{
	vec_nv_hdr(r, VEC_NV_INC_METHOD, VEC_NV_SUBC_HOST,
		   VEC_NV906F_NON_STALL_INTERRUPT, 1);
	vec_write(r, 0);
}

/**
 * vec_uvm_hopper_ce_memcopy() - UVM uvm_turing_ce.c
 *	uvm_hal_turing_ce_memcopy() on a Hopper copy engine
 * @r: the pushbuffer.
 * @dst: destination VA.
 * @src: source VA.
 * @size: bytes.
 *
 * HOPPER_DMA_COPY_A inherits uvm_hal_turing_ce_memcopy() and takes
 * uvm_hal_hopper_ce_offset_in_out() (NV_PUSH_4U of OFFSET_IN_UPPER ..
 * OFFSET_OUT_LOWER, UPPER 24:0), uvm_hal_ampere_ce_plc_mode_c7b5()
 * (DISABLE_PLC, bit 26) and uvm_hal_hopper_ce_memcopy_copy_type()
 * (COPY_TYPE DEFAULT).  Copies of at most 0xffffffff bytes; the first
 * NON_PIPELINED, the rest PIPELINED; the last flushes for the push's
 * default membar (FLUSH_ENABLE, FLUSH_TYPE SYS), as
 * turing_get_flush_value() decides; virtual addresses on both sides.
 */
static void __maybe_unused vec_uvm_hopper_ce_memcopy(struct vec_ring *r,
						     u64 dst, u64 src, u64 size)
{
	const u64 max_single_copy_size = 0xffffffff;
	u32 pipelined_value = 2;	/* DATA_TRANSFER_TYPE NON_PIPELINED */
	u32 flush_value = 0;		/* FLUSH_ENABLE FALSE */

	do {
		u32 copy_this_time = min(size, max_single_copy_size);

		if (size == copy_this_time)
			flush_value = 1 << 2 | 0 << 25;	/* TRUE, SYS */
		vec_nv_hdr(r, VEC_NV_INC_METHOD, VEC_NV_SUBC_COPY,
			   VEC_NVA0B5_OFFSET_IN_UPPER, 4);
		vec_write(r, upper_32_bits(src) & 0x1ffffff);
		vec_write(r, lower_32_bits(src));
		vec_write(r, upper_32_bits(dst) & 0x1ffffff);
		vec_write(r, lower_32_bits(dst));
		vec_nv_hdr(r, VEC_NV_INC_METHOD, VEC_NV_SUBC_COPY,
			   VEC_NVA0B5_LINE_LENGTH_IN, 1);
		vec_write(r, copy_this_time);
		vec_nv_hdr(r, VEC_NV_INC_METHOD, VEC_NV_SUBC_COPY,
			   VEC_NVA0B5_LAUNCH_DMA, 1);
		vec_write(r, 1 << 7 |		/* SRC_MEMORY_LAYOUT PITCH */
			     1 << 8 |		/* DST_MEMORY_LAYOUT PITCH */
			     0 << 9 |		/* MULTI_LINE_ENABLE FALSE */
			     0 << 10 |		/* REMAP_ENABLE FALSE */
			     flush_value |
			     0 << 12 | 0 << 13 |	/* SRC/DST_TYPE VIRTUAL */
			     1 << 26 |		/* DISABLE_PLC TRUE */
			     0 << 20 |		/* COPY_TYPE DEFAULT */
			     pipelined_value);
		pipelined_value = 1;		/* PIPELINED */
		dst += copy_this_time;
		src += copy_this_time;
		size -= copy_this_time;
	} while (size > 0);
}

/**
 * vec_uvm_hopper_set_gpfifo_pushbuffer_segment_base() - UVM
 *	uvm_hopper_host.c uvm_hal_hopper_host_set_gpfifo_pushbuffer_segment_base()
 * @gp: the two words of the control GPFIFO entry.
 * @pushbuffer_va: the channel's pushbuffer VA; its bits 56:40 stay with
 *	the channel (uvm_channel.c writes this entry once per channel).
 */
static void __maybe_unused
vec_uvm_hopper_set_gpfifo_pushbuffer_segment_base(u32 gp[2], u64 pushbuffer_va)
{
	gp[0] = (u32)(pushbuffer_va >> 40) << 8;	/* 24:8 */
	gp[1] = 4;	/* OPCODE SET_PB_SEGMENT_EXTENDED_BASE */
}

/**
 * vec_uvm_hopper_set_gpfifo_entry() - UVM uvm_hopper_host.c
 *	uvm_hal_hopper_host_set_gpfifo_entry()
 * @gp: the two words of the GPFIFO entry.
 * @pushbuffer_va: the pushbuffer's VA; only bits 39:0 go in the entry.
 * @pushbuffer_length: its bytes.
 * @sync_wait: SYNC WAIT rather than PROCEED.
 */
static void __maybe_unused
vec_uvm_hopper_set_gpfifo_entry(u32 gp[2], u64 pushbuffer_va,
				u32 pushbuffer_length, bool sync_wait)
{
	u64 va = pushbuffer_va & ((1ULL << 40) - 1);

	gp[0] = (lower_32_bits(va) >> 2) << 2;		/* GET 31:2 */
	gp[1] = (upper_32_bits(va) & 0xff) |		/* GET_HI 7:0 */
		(pushbuffer_length >> 2) << 10 |	/* LENGTH 30:10 */
		(sync_wait ? 1U << 31 : 0);		/* SYNC */
}

/* --------------------------------------------------------------- AMD */

/* PACKET3() of soc15d.h / nvd.h: type 3, COUNT 29:16, opcode 15:8. */
#define VEC_PACKET3(op, n)	(3U << 30 | ((n) & 0x3fff) << 16 | \
				 ((op) & 0xff) << 8)
#define VEC_PACKET3_WRITE_DATA		0x37
#define VEC_PACKET3_WAIT_REG_MEM	0x3c
#define VEC_PACKET3_INDIRECT_BUFFER	0x3f
#define VEC_PACKET3_PFP_SYNC_ME		0x42
#define VEC_PACKET3_RELEASE_MEM		0x49
#define VEC_PACKET3_DMA_DATA		0x50
#define VEC_CACHE_FLUSH_AND_INV_TS_EVENT 0x14	/* sid.h: 20 */

/* amdgpu_ring.h */
#define VEC_AMDGPU_FENCE_FLAG_64BIT	BIT(0)
#define VEC_AMDGPU_FENCE_FLAG_INT	BIT(1)

/**
 * vec_gfx_v9_0_ring_emit_fence() - amdgpu gfx_v9_0.c
 *	gfx_v9_0_ring_emit_fence()
 * @r: the ring.
 * @addr: the fence's GPU VA.
 * @seq: its value.
 * @flags: AMDGPU_FENCE_FLAG_64BIT, AMDGPU_FENCE_FLAG_INT.
 *
 * RELEASE_MEM: EOP_TCL1_ACTION_EN | EOP_TC_ACTION_EN | EOP_TC_MD_ACTION_EN
 * | EOP_TC_WB_ACTION_EN | EVENT_TYPE(CACHE_FLUSH_AND_INV_TS_EVENT) |
 * EVENT_INDEX(5); DATA_SEL 2 or 1, INT_SEL 2 or 0.
 */
static void __maybe_unused vec_gfx_v9_0_ring_emit_fence(struct vec_ring *r,
							u64 addr, u64 seq,
							unsigned int flags)
{
	bool write64bit = flags & VEC_AMDGPU_FENCE_FLAG_64BIT;
	bool int_sel = flags & VEC_AMDGPU_FENCE_FLAG_INT;
	u32 dw2;

	vec_write(r, VEC_PACKET3(VEC_PACKET3_RELEASE_MEM, 6));
	dw2 = 1 << 16 | 1 << 17 | 1 << 21;	/* TCL1, TC, TC_MD actions */
	dw2 |= 1 << 15 |			/* EOP_TC_WB_ACTION_EN */
	       VEC_CACHE_FLUSH_AND_INV_TS_EVENT << 0 | 5 << 8;
	vec_write(r, dw2);
	vec_write(r, (write64bit ? 2 : 1) << 29 | (int_sel ? 2 : 0) << 24);
	vec_write(r, lower_32_bits(addr));
	vec_write(r, upper_32_bits(addr));
	vec_write(r, lower_32_bits(seq));
	vec_write(r, upper_32_bits(seq));
	vec_write(r, 0);
}

/**
 * vec_gfx_v12_0_ring_emit_fence() - amdgpu gfx_v12_0.c
 *	gfx_v12_0_ring_emit_fence()
 * @r: the ring.
 * @addr: the fence's GPU VA.
 * @seq: its value.
 * @flags: AMDGPU_FENCE_FLAG_64BIT, AMDGPU_FENCE_FLAG_INT.
 *
 * RELEASE_MEM (nvd.h): GCR_SEQ | GCR_GL2_WB | CACHE_POLICY(3) |
 * EVENT_TYPE(CACHE_FLUSH_AND_INV_TS_EVENT) | EVENT_INDEX(5); DATA_SEL 2
 * or 1, INT_SEL 2 or 0; the last dword 0 on a kernel (not MES) queue.
 */
static void __maybe_unused vec_gfx_v12_0_ring_emit_fence(struct vec_ring *r,
							 u64 addr, u64 seq,
							 unsigned int flags)
{
	bool write64bit = flags & VEC_AMDGPU_FENCE_FLAG_64BIT;
	bool int_sel = flags & VEC_AMDGPU_FENCE_FLAG_INT;

	vec_write(r, VEC_PACKET3(VEC_PACKET3_RELEASE_MEM, 6));
	vec_write(r, 1 << 22 | 1 << 21 | 3 << 25 |
		     VEC_CACHE_FLUSH_AND_INV_TS_EVENT << 0 | 5 << 8);
	vec_write(r, (write64bit ? 2 : 1) << 29 | (int_sel ? 2 : 0) << 24);
	vec_write(r, lower_32_bits(addr));
	vec_write(r, upper_32_bits(addr));
	vec_write(r, lower_32_bits(seq));
	vec_write(r, upper_32_bits(seq));
	vec_write(r, 0);
}

/**
 * vec_amdgpu_ring_emit_ib_gfx() - amdgpu gfx_v9_0.c
 *	gfx_v9_0_ring_emit_ib_gfx() and gfx_v12_0.c gfx_v12_0_ring_emit_ib_gfx()
 * @r: the ring.
 * @gpu_addr: the IB's GPU VA.
 * @length_dw: its length in dwords.
 * @vmid: the job's VMID.
 *
 * The two write the same words for an IB that is neither a constant
 * engine nor a preemptible one, on a kernel (not MES) queue:
 * INDIRECT_BUFFER, the address, and a control dword of the length and the
 * VMID (24 up) without INDIRECT_BUFFER_VALID.
 */
static void __maybe_unused vec_amdgpu_ring_emit_ib_gfx(struct vec_ring *r,
						       u64 gpu_addr,
						       u32 length_dw,
						       unsigned int vmid)
{
	u32 control = length_dw | vmid << 24;

	vec_write(r, VEC_PACKET3(VEC_PACKET3_INDIRECT_BUFFER, 2));
	vec_write(r, lower_32_bits(gpu_addr));
	vec_write(r, upper_32_bits(gpu_addr));
	vec_write(r, control);
}

/**
 * struct vec_amdgpu_vmhub - the registers amdgpu's struct amdgpu_vmhub
 *	names for the GFX hub, absolute dword offsets (SOC15_REG_OFFSET())
 * @ctx0_ptb_addr_lo32: VM_CONTEXT0_PAGE_TABLE_BASE_ADDR_LO32.
 * @ctx0_ptb_addr_hi32: VM_CONTEXT0_PAGE_TABLE_BASE_ADDR_HI32.
 * @vm_inv_eng0_req: VM_INVALIDATE_ENG0_REQ.
 * @vm_inv_eng0_ack: VM_INVALIDATE_ENG0_ACK.
 * @ctx_addr_distance: between two contexts' page table bases.
 * @eng_distance: between two invalidation engines' registers.
 * @req_shift_l2_ptes: VM_INVALIDATE_ENG0_REQ__INVALIDATE_L2_PTES__SHIFT.
 */
struct vec_amdgpu_vmhub {
	u32 ctx0_ptb_addr_lo32;
	u32 ctx0_ptb_addr_hi32;
	u32 vm_inv_eng0_req;
	u32 vm_inv_eng0_ack;
	u32 ctx_addr_distance;
	u32 eng_distance;
	u8 req_shift_l2_ptes;
};

/*
 * gfxhub_v1_0_init() (GFX9): GC segment 0 at 0x2000 (vega10_ip_offset.h),
 * gc_9_0_offset.h registers, gc_9_0_sh_mask.h fields.
 */
static const struct vec_amdgpu_vmhub vec_gfxhub_v1_0 __maybe_unused = {
	.ctx0_ptb_addr_lo32 = 0x2000 + 0x08eb,
	.ctx0_ptb_addr_hi32 = 0x2000 + 0x08ec,
	.vm_inv_eng0_req = 0x2000 + 0x08a3,
	.vm_inv_eng0_ack = 0x2000 + 0x08b5,
	.ctx_addr_distance = 2,		/* CONTEXT1 - CONTEXT0 LO32 */
	.eng_distance = 1,		/* ENG1_REQ - ENG0_REQ */
	.req_shift_l2_ptes = 0x12,
};

/*
 * gfxhub_v12_0_init() (GFX12): gc_12_0_0_offset.h registers behind GC
 * segment 0, which the IP discovery table gives (ctxmig's GFX12 model:
 * 0x1260, see models/amd.rst), gc_12_0_0_sh_mask.h fields.
 */
static const struct vec_amdgpu_vmhub vec_gfxhub_v12_0 __maybe_unused = {
	.ctx0_ptb_addr_lo32 = 0x1260 + 0x168f,
	.ctx0_ptb_addr_hi32 = 0x1260 + 0x1690,
	.vm_inv_eng0_req = 0x1260 + 0x1647,
	.vm_inv_eng0_ack = 0x1260 + 0x1659,
	.ctx_addr_distance = 2,
	.eng_distance = 1,
	.req_shift_l2_ptes = 0x13,
};

/*
 * gmc_v9_0_get_invalidate_req() / gfxhub_v12_0_get_invalidate_req() with
 * flush type 0: PER_VMID_INVALIDATE_REQ 1 << vmid, then INVALIDATE_L2_PTES,
 * L2_PDE0, L2_PDE1, L2_PDE2 and L1_PTES, consecutive bits.
 */
static u32 vec_get_invalidate_req(const struct vec_amdgpu_vmhub *hub,
				  unsigned int vmid)
{
	return 1U << vmid | 0x1fU << hub->req_shift_l2_ptes;
}

/* gfx_v9_0_ring_emit_wreg(), gfx_v12_0_ring_emit_wreg() on the GFX ring. */
static void vec_gfx_ring_emit_wreg(struct vec_ring *r, u32 reg, u32 val)
{
	u32 cmd = 1U << 30 | 1 << 20;	/* WRITE_DATA_ENGINE_SEL(1), WR_CONFIRM */

	vec_write(r, VEC_PACKET3(VEC_PACKET3_WRITE_DATA, 3));
	vec_write(r, cmd);		/* DST_SEL 0: a register */
	vec_write(r, reg);
	vec_write(r, 0);
	vec_write(r, val);
}

/**
 * vec_amdgpu_ring_emit_vm_flush() - amdgpu gfx_v9_0.c
 *	gfx_v9_0_ring_emit_vm_flush() and gfx_v12_0.c
 *	gfx_v12_0_ring_emit_vm_flush() on the GFX ring
 * @r: the ring.
 * @hub: the GFX hub's registers.
 * @vmid: the VM's VMID.
 * @pd_addr: the page directory, as the page table base register holds it.
 * @eng: the ring's invalidation engine (ring->vm_inv_eng; 0 for the first
 *	GFX ring, amdgpu_gmc_allocate_vm_inv_eng()).
 *
 * amdgpu_gmc_emit_flush_gpu_tlb(): gmc_v9_0_emit_flush_gpu_tlb() or
 * gmc_v12_0_emit_flush_gpu_tlb(), which on the GFX hub take no semaphore:
 * the page table base written (LO32, HI32), then
 * reg_write_reg_wait() on the engine's REQ and ACK (WAIT_REG_MEM, PFP,
 * register, write then wait, equal, poll interval 0x20, with the firmware
 * that can); then PFP_SYNC_ME.
 */
static void __maybe_unused
vec_amdgpu_ring_emit_vm_flush(struct vec_ring *r,
			      const struct vec_amdgpu_vmhub *hub,
			      unsigned int vmid, u64 pd_addr, unsigned int eng)
{
	u32 req = vec_get_invalidate_req(hub, vmid);

	vec_gfx_ring_emit_wreg(r, hub->ctx0_ptb_addr_lo32 +
			       hub->ctx_addr_distance * vmid,
			       lower_32_bits(pd_addr));
	vec_gfx_ring_emit_wreg(r, hub->ctx0_ptb_addr_hi32 +
			       hub->ctx_addr_distance * vmid,
			       upper_32_bits(pd_addr));
	/* gfx_v9_0_wait_reg_mem(ring, usepfp, 0, 1, reg0, reg1, ...). */
	vec_write(r, VEC_PACKET3(VEC_PACKET3_WAIT_REG_MEM, 5));
	vec_write(r, 0 << 4 |	/* WAIT_REG_MEM_MEM_SPACE(0) */
		     1 << 6 |	/* WAIT_REG_MEM_OPERATION(1) */
		     3 << 0 |	/* WAIT_REG_MEM_FUNCTION(3), equal */
		     1 << 8);	/* WAIT_REG_MEM_ENGINE(1), PFP */
	vec_write(r, hub->vm_inv_eng0_req + hub->eng_distance * eng);
	vec_write(r, hub->vm_inv_eng0_ack + hub->eng_distance * eng);
	vec_write(r, req);
	vec_write(r, 1U << vmid);
	vec_write(r, 0x20);
	/* The GFX ring syncs PFP to ME. */
	vec_write(r, VEC_PACKET3(VEC_PACKET3_PFP_SYNC_ME, 0));
	vec_write(r, 0x0);
}

/*
 * radeonsi si_cp_dma.c: cp_dma_max_byte_count(), S_415_BYTE_COUNT_GFX9 is
 * 26 bits; GFX11 and later 32767; rounded down to SI_CPDMA_ALIGNMENT (32).
 */
static u32 vec_cp_dma_max_byte_count(bool gfx11_plus)
{
	u32 max = gfx11_plus ? 32767 : 0x3ffffff;

	return max & ~(32U - 1);
}

/**
 * vec_si_cp_dma_copy_buffer() - Mesa radeonsi si_cp_dma.c
 *	si_cp_dma_copy_buffer() with si_emit_cp_dma(), GFX9 and later
 * @r: the IB.
 * @gfx12: a GFX12 context (else GFX9).
 * @use_l2: radeon_info.cp_dma_use_L2.
 * @dst: destination VA.
 * @src: source VA.
 * @size: bytes.
 *
 * Packets of at most cp_dma_max_byte_count() bytes; the first with
 * CP_DMA_RAW_WAIT (RAW_WAIT in the command dword), the last with
 * CP_DMA_SYNC (CP_SYNC in the header dword); DST_SEL and SRC_SEL "using
 * L2" (3) when cp_dma_use_L2 or on GFX12.  The realignment workarounds
 * are for chips up to Carrizo, the barrier si_cp_dma_prepare() emits
 * first is not part of the copy.
 */
static void __maybe_unused vec_si_cp_dma_copy_buffer(struct vec_ring *r,
						     bool gfx12, bool use_l2,
						     u64 dst, u64 src, u32 size)
{
	bool is_first = true;

	while (size) {
		u32 byte_count = min(size, vec_cp_dma_max_byte_count(gfx12));
		u32 header = 0, command = byte_count & 0x3ffffff;

		if (is_first)
			command |= 1U << 30;		/* S_415_RAW_WAIT */
		is_first = false;
		if (byte_count == size)
			header |= 1U << 31;		/* S_411_CP_SYNC */
		if (use_l2 || gfx12) {
			header |= 3U << 20;		/* DST_ADDR_TC_L2 */
			header |= 3U << 29;		/* SRC_ADDR_TC_L2 */
		}
		vec_write(r, VEC_PACKET3(VEC_PACKET3_DMA_DATA, 5));
		vec_write(r, header);
		vec_write(r, lower_32_bits(src));
		vec_write(r, upper_32_bits(src));
		vec_write(r, lower_32_bits(dst));
		vec_write(r, upper_32_bits(dst));
		vec_write(r, command);
		size -= byte_count;
		src += byte_count;
		dst += byte_count;
	}
}

/* ------------------------------------------------------------- Intel */

/* xe_mi_commands.h, xe_instr_defs.h, xe_gpu_commands.h */
#define VEC_MI_INSTR(op)		((op) << 23)
#define VEC_MI_USER_INTERRUPT		VEC_MI_INSTR(0x2)
#define VEC_MI_ARB_CHECK		VEC_MI_INSTR(0x5)
#define VEC_MI_ARB_ON_OFF		VEC_MI_INSTR(0x8)
#define VEC_MI_ARB_ENABLE		BIT(0)
#define VEC_MI_BATCH_BUFFER_END		VEC_MI_INSTR(0xa)
#define VEC_MI_BATCH_BUFFER_START	VEC_MI_INSTR(0x31)
#define VEC_XE_INSTR_NUM_DW(x)		((x) - 2)
#define VEC_GFX_OP_PIPE_CONTROL(len)	(0x3U << 29 | 0x3 << 27 | 0x2 << 24 | \
					 ((len) - 2))
#define VEC_PIPE_CONTROL_GLOBAL_GTT_IVB	BIT(24)
#define VEC_PIPE_CONTROL_CS_STALL	BIT(20)
#define VEC_PIPE_CONTROL_QW_WRITE	BIT(14)
#define VEC_PIPE_CONTROL_FLUSH_ENABLE	BIT(7)

/**
 * vec_xe_emit_bb_start() - xe xe_ring_ops.c emit_bb_start()
 * @r: the ring.
 * @batch_addr: the batch's address.
 * @ppgtt_flag: BIT(8) for a job of a VM (get_ppgtt_flag()), else 0.
 *
 * The batch it starts ends with MI_BATCH_BUFFER_END, written by whoever
 * built it (vec_batch_end()).
 */
static void __maybe_unused vec_xe_emit_bb_start(struct vec_ring *r,
						u64 batch_addr, u32 ppgtt_flag)
{
	vec_write(r, VEC_MI_BATCH_BUFFER_START | ppgtt_flag |
		     VEC_XE_INSTR_NUM_DW(3));
	vec_write(r, lower_32_bits(batch_addr));
	vec_write(r, upper_32_bits(batch_addr));
}

/**
 * vec_batch_end() - the end of a batch, MI_BATCH_BUFFER_END
 * @r: the batch.
 *
 * What IGT's emit_blt_mem_copy() (lib/intel_blt.c, emit_bbe) and every
 * userspace batch end with, and what i915's intel_engine_cmd_parser()
 * looks for.
 */
static void __maybe_unused vec_batch_end(struct vec_ring *r)
{
	vec_write(r, VEC_MI_BATCH_BUFFER_END);
}

/**
 * vec_xe_emit_pipe_imm_ggtt() - xe xe_ring_ops.c emit_pipe_imm_ggtt()
 * @r: the ring.
 * @addr: the GGTT address of the job's seqno (xe_lrc_seqno_ggtt_addr()).
 * @value: the seqno.
 * @stall_only: no FLUSH_ENABLE (an engine without render).
 *
 * emit_pipe_control(): PIPE_CONTROL(6), flags, the address, 0, the value,
 * 0: a qword write of the 32-bit seqno.
 */
static void __maybe_unused vec_xe_emit_pipe_imm_ggtt(struct vec_ring *r,
						     u32 addr, u32 value,
						     bool stall_only)
{
	u32 flags = VEC_PIPE_CONTROL_CS_STALL |
		    VEC_PIPE_CONTROL_GLOBAL_GTT_IVB | VEC_PIPE_CONTROL_QW_WRITE;

	if (!stall_only)
		flags |= VEC_PIPE_CONTROL_FLUSH_ENABLE;
	vec_write(r, VEC_GFX_OP_PIPE_CONTROL(6) | 0);	/* bit_group_0 */
	vec_write(r, flags);
	vec_write(r, addr);
	vec_write(r, 0);
	vec_write(r, value);
	vec_write(r, 0);
}

/**
 * vec_xe_emit_user_interrupt() - xe xe_ring_ops.c emit_user_interrupt()
 * @r: the ring.
 */
static void __maybe_unused vec_xe_emit_user_interrupt(struct vec_ring *r)
{
	vec_write(r, VEC_MI_USER_INTERRUPT);
	vec_write(r, VEC_MI_ARB_ON_OFF | VEC_MI_ARB_ENABLE);
	vec_write(r, VEC_MI_ARB_CHECK);
}

/* ------------------------------------------------ a driver per model */

/* Channel state a driver sets once per channel (vec_driver_*()). */
#define VEC_CHAN_CE_BOUND	BIT(0)	/* nouveau: nve0_bo_move_init() */
#define VEC_CHAN_PB_BASE	BIT(1)	/* UVM: the pushbuffer segment base */

/**
 * vec_driver_job_start() - what a driver writes before a job's commands
 * @r: the ring.
 * @model: &enum ctxmig_model_id.
 * @pd_addr: the VM's page directory as its page table base register
 *	holds it (amdgpu).
 *
 * amdgpu flushes the VM before the job (amdgpu_vm_flush(), through
 * emit_vm_flush); the others write nothing here.
 */
static void __maybe_unused vec_driver_job_start(struct vec_ring *r, u32 model,
						u64 pd_addr)
{
	if (model == CTXMIG_MODEL_AMD_GFX9)
		vec_amdgpu_ring_emit_vm_flush(r, &vec_gfxhub_v1_0, 0, pd_addr,
					      0);
	else if (model == CTXMIG_MODEL_AMD_GFX12)
		vec_amdgpu_ring_emit_vm_flush(r, &vec_gfxhub_v12_0, 0,
					      pd_addr, 0);
}

/**
 * vec_driver_push_start() - what a driver writes at a pushbuffer's start
 * @r: the pushbuffer.
 * @model: &enum ctxmig_model_id.
 *
 * UVM on a copy-engine channel: uvm_hal_turing_host_init().
 */
static void __maybe_unused vec_driver_push_start(struct vec_ring *r, u32 model)
{
	if (model == CTXMIG_MODEL_NV_HOPPER)
		vec_uvm_host_init(r);
}

/**
 * vec_driver_cmd() - a neutral command as its model's real driver writes it
 * @r: the words.
 * @model: &enum ctxmig_model_id.
 * @c: the command, outside a ring that holds only buffers.
 * @chan: VEC_CHAN_* the channel has; updated.
 *
 * amdgpu's fences (gfx_v9_0/gfx_v12_0_ring_emit_fence()) and Mesa's CP
 * DMA copies; xe's breadcrumb for a 64-bit fence of a 32-bit value at a
 * 32-bit address; nouveau's fence with its interrupt and its buffer moves
 * of whole pages below 1 TiB; UVM's semaphore release (and interrupt) and
 * memcopy.
 *
 * Return: true if @r holds the driver's words, false where the driver has
 * no sequence for @c (the caller uses the model's own encoder).
 */
static bool __maybe_unused vec_driver_cmd(struct vec_ring *r, u32 model,
					  const struct ctxmig_cmd *c, u8 *chan)
{
	bool irq = c->flags & CTXMIG_CMD_IRQ;
	bool wide = c->flags & CTXMIG_CMD_FENCE64;
	u32 n = r->n;

	switch (model) {
	case CTXMIG_MODEL_AMD_GFX9:
	case CTXMIG_MODEL_AMD_GFX12: {
		bool gfx12 = model == CTXMIG_MODEL_AMD_GFX12;
		unsigned int flags = (wide ? VEC_AMDGPU_FENCE_FLAG_64BIT : 0) |
				     (irq ? VEC_AMDGPU_FENCE_FLAG_INT : 0);

		if (c->op == CTXMIG_OP_FENCE && gfx12)
			vec_gfx_v12_0_ring_emit_fence(r, c->dst, c->value,
						      flags);
		else if (c->op == CTXMIG_OP_FENCE)
			vec_gfx_v9_0_ring_emit_fence(r, c->dst, c->value,
						     flags);
		else if (c->op == CTXMIG_OP_COPY && c->value <= U32_MAX)
			vec_si_cp_dma_copy_buffer(r, gfx12, false, c->dst,
						  c->src, c->value);
		break;
	}
	case CTXMIG_MODEL_INTEL_GEN12:
		if (c->op == CTXMIG_OP_FENCE && wide && !(c->value >> 32) &&
		    !(c->dst >> 32) && !(c->dst & 7)) {
			vec_xe_emit_pipe_imm_ggtt(r, c->dst, c->value, false);
			if (irq)
				vec_xe_emit_user_interrupt(r);
		}
		break;
	case CTXMIG_MODEL_NV_AMPERE:
		if (c->op == CTXMIG_OP_FENCE && irq && !wide &&
		    !(c->dst >> 40) && !(c->dst & 3)) {
			vec_nvc0_fence_emit32(r, c->dst, c->value);
		} else if (c->op == CTXMIG_OP_COPY && c->value &&
			   !(c->value & 4095) &&
			   !((c->src + c->value) >> 40) &&
			   !((c->dst + c->value) >> 40)) {
			if (!(*chan & VEC_CHAN_CE_BOUND))
				vec_nve0_bo_move_init(r, 0xbeef0002);
			*chan |= VEC_CHAN_CE_BOUND;
			vec_nve0_bo_move_copy(r, c->src, c->dst, c->value);
		}
		break;
	case CTXMIG_MODEL_NV_HOPPER:
		if (c->op == CTXMIG_OP_FENCE && !wide && !(c->dst & 3)) {
			vec_uvm_hopper_host_semaphore_release(r, c->dst,
							      c->value);
			if (irq)
				vec_uvm_host_interrupt(r);
		} else if (c->op == CTXMIG_OP_COPY && c->value) {
			vec_uvm_hopper_ce_memcopy(r, c->dst, c->src, c->value);
		}
		break;
	}
	return r->n != n;
}

/**
 * vec_driver_ib() - the ring words that start a buffer, as the driver
 *	writes them
 * @r: the ring.
 * @model: &enum ctxmig_model_id.
 * @va: the buffer's VA (a Hopper guest's, above 1 TiB in the tests).
 * @len: its bytes, what ends it included.
 * @chan: VEC_CHAN_* the channel has; updated.
 *
 * amdgpu's IB (..._ring_emit_ib_gfx()), xe's emit_bb_start() (PPGTT),
 * nouveau's nv50_dma_push(), UVM's GPFIFO entry after the pushbuffer
 * segment base the first time on the channel.
 */
static void __maybe_unused vec_driver_ib(struct vec_ring *r, u32 model, u64 va,
					 u32 len, u8 *chan)
{
	u32 gp[4], ngp = 0, i;

	switch (model) {
	case CTXMIG_MODEL_AMD_GFX9:
	case CTXMIG_MODEL_AMD_GFX12:
		vec_amdgpu_ring_emit_ib_gfx(r, va, len / 4, 0);
		break;
	case CTXMIG_MODEL_INTEL_GEN12:
		vec_xe_emit_bb_start(r, va, BIT(8));
		break;
	case CTXMIG_MODEL_NV_AMPERE:
		vec_nv50_dma_push(gp, va, len, false);
		ngp = 2;
		break;
	case CTXMIG_MODEL_NV_HOPPER:
		if (!(*chan & VEC_CHAN_PB_BASE)) {
			vec_uvm_hopper_set_gpfifo_pushbuffer_segment_base(gp,
									  va);
			ngp = 2;
			*chan |= VEC_CHAN_PB_BASE;
		}
		vec_uvm_hopper_set_gpfifo_entry(gp + ngp, va, len, false);
		ngp += 2;
		break;
	}
	for (i = 0; i < ngp; i++)
		vec_write(r, gp[i]);
}
