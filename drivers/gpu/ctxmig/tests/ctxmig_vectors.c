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

static void __maybe_unused vec_nv_hdr(struct vec_ring *r, u32 sec_op, u32 subc, u32 mthd,
		       u32 count)
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
static void __maybe_unused vec_nvc0_fence_emit32(struct vec_ring *r, u64 virtual,
				  u32 sequence)
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
static void __maybe_unused vec_nve0_bo_move_copy(struct vec_ring *r, u64 src, u64 dst,
				  u64 size)
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
static void __maybe_unused vec_uvm_hopper_host_semaphore_release(struct vec_ring *r,
						  u64 gpu_va, u32 payload)
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
static void __maybe_unused vec_uvm_hopper_ce_memcopy(struct vec_ring *r, u64 dst, u64 src,
				      u64 size)
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
static void __maybe_unused vec_uvm_hopper_set_gpfifo_pushbuffer_segment_base(u32 gp[2],
							      u64 pushbuffer_va)
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
static void __maybe_unused vec_uvm_hopper_set_gpfifo_entry(u32 gp[2], u64 pushbuffer_va,
					    u32 pushbuffer_length,
					    bool sync_wait)
{
	u64 va = pushbuffer_va & ((1ULL << 40) - 1);

	gp[0] = (lower_32_bits(va) >> 2) << 2;		/* GET 31:2 */
	gp[1] = (upper_32_bits(va) & 0xff) |		/* GET_HI 7:0 */
		(pushbuffer_length >> 2) << 10 |	/* LENGTH 30:10 */
		(sync_wait ? 1U << 31 : 0);		/* SYNC */
}
