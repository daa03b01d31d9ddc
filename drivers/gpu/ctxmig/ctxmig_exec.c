// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig command execution, the same for every model: fetch the next
 * native command from the ring or the innermost indirect buffer, let the
 * model decode it into neutral form, and execute that against VRAM (or
 * system memory) through the model's own page tables.
 *
 * Execution stops at command boundaries, or between the CTXMIG_COPY_SLICE
 * steps of a long copy: a stopped engine's pending work is a list of whole
 * commands, the progress of its open indirect buffers, and what is left of
 * a copy it had started (&ctxmig_engine.copy).
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include "ctxmig_gpu.h"
#include "ctxmig_ir.h"

static const char *access_error(int err)
{
	switch (err) {
	case -EACCES:
		return "permission fault";
	case -ERANGE:
		return "outside the VA space";
	default:
		return "not mapped";
	}
}

static int fault(struct ctxmig_gpu *gpu, u32 engine, int err, const char *what,
		 u64 va)
{
	return ctxmig_gpu_fail(gpu, engine, err, "%s at 0x%llx: %s", what,
			       (unsigned long long)va, access_error(err));
}

/**
 * ctxmig_gpu_fetch() - decode the command at a GPU VA
 * @gpu: device.
 * @engine: engine index.
 * @va: where the command starts.
 * @avail: bytes of commands from @va on (to the end of the buffer).
 * @level: indirect-buffer level (0: the ring).
 * @cmd: the decoded command.
 *
 * Return: bytes the command takes, -ENODATA if it runs past @avail, a
 * negative errno from the translation, or the model's decode error.
 */
int ctxmig_gpu_fetch(struct ctxmig_gpu *gpu, u32 engine, u64 va, u32 avail,
		     u32 level, struct ctxmig_cmd *cmd)
{
	u8 buf[CTXMIG_CMD_MAX_BYTES];
	u32 n = min_t(u32, avail, sizeof(buf));
	int ret;

	ret = ctxmig_gpu_access(gpu, va, buf, n, false);
	if (ret)
		return ret;
	memset(cmd, 0, sizeof(*cmd));
	cmd->engine = engine;
	cmd->level = level;
	ret = gpu->model->decode(gpu, engine, buf, n, level, cmd);
	if (ret == -ENODATA && n < avail)
		return -EMSGSIZE;
	if (ret > (int)avail)
		return -ENODATA;	/* e.g. a long NOP past the end */
	return ret;
}

/**
 * ctxmig_gpu_fetch_ring() - decode the ring command at a position
 * @gpu: device.
 * @engine: engine index.
 * @ring: the ring.
 * @pos: byte offset in the ring, between head and tail.
 * @cmd: the decoded command.
 *
 * The command may wrap around the end of the ring.
 *
 * Return: bytes it takes, -ENODATA if it runs past the tail, a negative
 * errno from the translation (-EFAULT, -EACCES, -ERANGE), or the model's
 * decode error.
 */
int ctxmig_gpu_fetch_ring(struct ctxmig_gpu *gpu, u32 engine,
			  const struct ctxmig_ring *ring, u32 pos,
			  struct ctxmig_cmd *cmd)
{
	u32 avail = (ring->tail - pos) & (ring->size - 1);
	u8 buf[CTXMIG_CMD_MAX_BYTES];
	u32 n = min_t(u32, avail, sizeof(buf));
	u32 first = min(n, ring->size - pos);
	int ret;

	ret = ctxmig_gpu_access(gpu, ring->base + pos, buf, first, false);
	if (!ret && n > first)
		ret = ctxmig_gpu_access(gpu, ring->base, buf + first,
					n - first, false);
	if (ret)
		return ret;
	memset(cmd, 0, sizeof(*cmd));
	cmd->engine = engine;
	ret = gpu->model->decode(gpu, engine, buf, n, 0, cmd);
	if (ret == -ENODATA && n < avail)
		ret = -EMSGSIZE;
	if (ret > (int)avail)
		ret = -ENODATA;
	return ret;
}

static bool is_access_error(int err)
{
	return err == -EFAULT || err == -EACCES || err == -ERANGE;
}

/* Forward, in page-sized steps: overlapping copies are defined so. */
static int copy_bytes(struct ctxmig_gpu *gpu, u32 engine, u64 dst, u64 src,
		      u64 len)
{
	u64 done = 0;
	int ret;

	while (done < len) {
		u32 n = min_t(u64, len - done, CTXMIG_VRAM_PAGE_SIZE);

		ret = ctxmig_gpu_access(gpu, src + done, gpu->bounce, n, false);
		if (ret)
			return fault(gpu, engine, ret, "copy read",
				     gpu->eng[engine].fault_va);
		ret = ctxmig_gpu_access(gpu, dst + done, gpu->bounce, n, true);
		if (ret)
			return fault(gpu, engine, ret, "copy write",
				     gpu->eng[engine].fault_va);
		done += n;
	}
	return 0;
}

/*
 * One step of the copy in progress.  The slice is a whole number of
 * copy_bytes() pages, so a copy resumed from what is left (here or, after
 * a migration, on another device) takes the very same page steps.
 */
static int copy_step(struct ctxmig_gpu *gpu, u32 engine)
{
	struct ctxmig_cmd *c = &gpu->eng[engine].copy;
	u64 n = min_t(u64, c->value, CTXMIG_COPY_SLICE);
	int ret;

	ret = copy_bytes(gpu, engine, c->dst, c->src, n);
	if (ret)
		return ret;
	c->dst += n;
	c->src += n;
	c->value -= n;
	if (!c->value)
		gpu->eng[engine].executed++;
	return 0;
}

static int write_value(struct ctxmig_gpu *gpu, u32 engine, u64 va, u64 value,
		       bool wide, const char *what)
{
	__le64 v64 = cpu_to_le64(value);
	__le32 v32 = cpu_to_le32(lower_32_bits(value));
	int ret;

	ret = ctxmig_gpu_access(gpu, va, wide ? (void *)&v64 : (void *)&v32,
				wide ? 8 : 4, true);
	if (ret)
		return fault(gpu, engine, ret, what, gpu->eng[engine].fault_va);
	return 0;
}

/**
 * ctxmig_gpu_execute() - execute one neutral command
 * @gpu: device.
 * @engine: engine index.
 * @cmd: the command; an IB opens a buffer the following fetches read.
 *
 * Return: 0, or the negative errno that put the engine in error.
 */
int ctxmig_gpu_execute(struct ctxmig_gpu *gpu, u32 engine,
		       const struct ctxmig_cmd *cmd)
{
	struct ctxmig_engine *eng = &gpu->eng[engine];
	u32 max_depth = min_t(u32, gpu->model->ib_levels,
			      CTXMIG_IR_MAX_IB_LEVEL);
	int ret = 0;

	switch (cmd->op) {
	case CTXMIG_OP_NOP:
		if (cmd->flags & CTXMIG_CMD_IRQ)
			ctxmig_gpu_raise(gpu, engine, CTXMIG_IRQ_FENCE);
		break;
	case CTXMIG_OP_WRITE32:
	case CTXMIG_OP_WRITE64:
		ret = write_value(gpu, engine, cmd->dst, cmd->value,
				  cmd->op == CTXMIG_OP_WRITE64, "write");
		break;
	case CTXMIG_OP_COPY:
		ret = copy_bytes(gpu, engine, cmd->dst, cmd->src, cmd->value);
		break;
	case CTXMIG_OP_FENCE:
		ret = write_value(gpu, engine, cmd->dst, cmd->value,
				  cmd->flags & CTXMIG_CMD_FENCE64, "fence write");
		if (ret)
			break;
		eng->fence.signalled = cmd->value;
		eng->fence.addr = cmd->dst;
		if (cmd->flags & CTXMIG_CMD_IRQ)
			ctxmig_gpu_raise(gpu, engine, CTXMIG_IRQ_FENCE);
		break;
	case CTXMIG_OP_IB:
		if (eng->depth >= max_depth)
			return ctxmig_gpu_fail(gpu, engine, -ELOOP,
					       "indirect buffers nested deeper than %u",
					       max_depth);
		if (!cmd->value || cmd->value > U32_MAX || cmd->dst > cmd->value)
			return ctxmig_gpu_fail(gpu, engine, -EINVAL,
					       "indirect buffer of %llu bytes",
					       (unsigned long long)cmd->value);
		eng->ib[eng->depth].va = cmd->src;
		eng->ib[eng->depth].size = cmd->value;
		eng->ib[eng->depth].pos = cmd->dst;
		eng->depth++;
		break;
	default:
		return ctxmig_gpu_fail(gpu, engine, -EOPNOTSUPP,
				       "neutral op %u", cmd->op);
	}
	if (!ret)
		eng->executed++;
	return ret;
}

/**
 * ctxmig_gpu_run() - let an engine execute up to @budget steps
 * @gpu: device.
 * @engine: engine index.
 * @budget: steps to execute at most: a step is a command, or a
 *	CTXMIG_COPY_SLICE of a longer copy.
 *
 * Return: steps executed (fewer than @budget when the engine ran out of
 * work), or the negative errno that put the engine in error (also when it
 * already was).
 */
int ctxmig_gpu_run(struct ctxmig_gpu *gpu, u32 engine, u32 budget)
{
	const struct ctxmig_model *m = gpu->model;
	struct ctxmig_engine *eng = &gpu->eng[engine];
	u32 done = 0;
	int ret;

	if (eng->status == CTXMIG_ENG_ERROR)
		return eng->err;
	while (done < budget) {
		struct ctxmig_cmd cmd;

		if (eng->copy.value) {
			ret = copy_step(gpu, engine);
			if (ret)
				return ret;
			done++;
			continue;
		}
		if (eng->depth) {
			struct ctxmig_ib_frame *f = &eng->ib[eng->depth - 1];

			if (f->pos >= f->size) {
				eng->depth--;
				continue;
			}
			ret = ctxmig_gpu_fetch(gpu, engine, f->va + f->pos,
					       f->size - f->pos, eng->depth,
					       &cmd);
			if (ret < 0) {
				if (is_access_error(ret))
					return fault(gpu, engine, ret,
						     "indirect buffer fetch",
						     eng->fault_va);
				return ctxmig_gpu_fail(gpu, engine, ret,
						       "illegal command in indirect buffer at 0x%llx",
						       (unsigned long long)(f->va + f->pos));
			}
			f->pos += ret;
		} else {
			struct ctxmig_ring ring;

			m->ring_get(gpu, engine, &ring);
			if (!(ring.flags & CTXMIG_RING_ENABLED) ||
			    ring.head == ring.tail)
				break;
			ret = ctxmig_gpu_fetch_ring(gpu, engine, &ring, ring.head,
						    &cmd);
			if (ret == -ENODATA)
				break;	/* the guest is still writing it */
			if (is_access_error(ret))
				return fault(gpu, engine, ret, "ring fetch",
					     eng->fault_va);
			if (ret < 0)
				return ctxmig_gpu_fail(gpu, engine, ret,
						       "illegal command in ring at offset 0x%x",
						       ring.head);
			m->set_head(gpu, engine,
				    (ring.head + ret) & (ring.size - 1));
		}
		if (cmd.op == CTXMIG_OP_COPY && cmd.value > CTXMIG_COPY_SLICE) {
			/* Fetched: from now on the engine holds what is left. */
			eng->copy = cmd;
			continue;
		}
		ret = ctxmig_gpu_execute(gpu, engine, &cmd);
		if (ret)
			return ret;
		done++;
	}
	eng->status = done == budget ? CTXMIG_ENG_BUSY : CTXMIG_ENG_IDLE;
	return done;
}
