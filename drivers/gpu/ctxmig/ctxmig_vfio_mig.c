// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig VFIO migration: the saving and resuming data_fd files and the
 * migration state machine of a vGPU, after samples/vfio-mdev/mtty.c
 * (files, deferred reset) and drivers/vfio/pci/mlx5 (pre-copy).  The
 * saving file runs the translator's save as it is read, the resuming file
 * feeds the restore as it is written; RESUMING -> STOP applies it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/ktime.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "ctxmig_gpu.h"
#include "ctxmig_ir_policy.h"
#include "ctxmig_trace.h"
#include "ctxmig_vfio.h"
#include "ctxmig_vfio_types.h"
#include "ctxmig_xlate.h"

/* Bytes a write() copies between two looks at signals and the scheduler. */
#define CTXMIG_MIGF_CHUNK	(64 * 1024)

/*
 * Pre-copy rounds one read() may run that send nothing.  Pages that are
 * written again and again but never sent (page tables: the stop-copy part
 * has the mappings instead) keep the dirty count up without giving a
 * byte; the read then ends as at the temporary end of the stream.
 */
#define CTXMIG_READ_EMPTY_ROUNDS	2

/* ---------------------------------------------------- migration files */

/**
 * ctxmig_mig_kick() - the device wrote something pre-copy may send
 * @vgpu: the vGPU; any context that may take a spinlock.
 *
 * Wakes whoever polls the saving file.
 */
void ctxmig_mig_kick(struct ctxmig_vgpu *vgpu)
{
	spin_lock(&vgpu->saving_lock);
	if (vgpu->saving_wait)
		wake_up_interruptible(vgpu->saving_wait);
	spin_unlock(&vgpu->saving_lock);
}

static void ctxmig_migf_disable(struct ctxmig_migf *migf)
{
	mutex_lock(&migf->lock);
	if (!migf->disabled) {
		migf->disabled = true;
		if (migf->saving) {
			struct ctxmig_vgpu *vgpu = migf->vgpu;

			spin_lock(&vgpu->saving_lock);
			if (vgpu->saving_wait == &migf->poll_wait)
				vgpu->saving_wait = NULL;
			spin_unlock(&vgpu->saving_lock);
			wake_up_interruptible_all(&migf->poll_wait);
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

void ctxmig_disable_files(struct ctxmig_vgpu *vgpu)
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
	mutex_destroy(&migf->lock);
	kfree(migf);
	return 0;
}

/* Stream bytes encoded and not yet read. */
static u32 migf_buffered(struct ctxmig_migf *migf)
{
	u32 n;

	ctxmig_ir_peek(&migf->w, &n);
	return n;
}

/* The reader's buffer of a data_fd read. */
struct ctxmig_reader_buf {
	char __user *buf;
};

/* Record bytes to the reader of a saving file; page faults are disabled. */
static int ctxmig_copy_to_reader(void *ctx, u32 at, const void *src, u32 len)
{
	struct ctxmig_reader_buf *rb = ctx;

	return __copy_to_user_inatomic(rb->buf + at, src, len) ? -EFAULT : 0;
}

/*
 * A save reached END: statistics and the stream's metadata.  The stream
 * is what was read and what the writer still holds (END at least).
 */
static void ctxmig_stats_saved(struct ctxmig_migf *migf)
{
	struct ctxmig_vgpu_stats *st = &migf->vgpu->stats;

	st->saves++;
	st->bytes_saved += migf->w.offset + migf_buffered(migf);
	st->stopcopy_ns = ktime_get_ns() - st->t_stopcopy;
	st->ir_saved = true;
	st->ir_caps = migf->save.caps;
	memcpy(st->ir_records, migf->w.records_by_type, sizeof(st->ir_records));
	memcpy(st->ir_bytes, migf->w.bytes_by_type, sizeof(st->ir_bytes));
}

/*
 * Send the next VRAM record of a stopped device straight from its pages
 * to the reader: one copy, where the writer path makes three (staging
 * buffer, writer buffer, user), and the CRC of each page right after its
 * copy (ctxmig_ir_send_vram_pages()).  gpu_lock keeps the pages and their
 * bytes still from the copy to the CRC; no page fault may be taken under
 * it (a fault on the reader's buffer could need the lock, were that
 * buffer mapped from a vGPU), so the buffer is faulted in first and
 * copied to with faults disabled.  If that copy fails after all, the same
 * pages go through the writer, one record each.
 *
 * Return: bytes sent, 0 when the writer path is to run instead, or a
 * negative errno.
 */
static ssize_t ctxmig_save_read_pages(struct ctxmig_migf *migf,
				      char __user *buf, size_t len)
{
	const size_t max = CTXMIG_IR_VRAM_HDR_BYTES + CTXMIG_IR_VRAM_CHUNK_MAX;
	const void *pages[CTXMIG_IR_VRAM_CHUNK_MAX / CTXMIG_VRAM_PAGE_SIZE];
	struct ctxmig_reader_buf rb = { .buf = buf };
	struct ctxmig_vgpu *vgpu = migf->vgpu;
	ssize_t ret = 0;
	u64 off;
	u32 n, i;

	if (len < max || (migf->save.precopy && !migf->stop_copy) ||
	    !access_ok(buf, max) || fault_in_writeable(buf, max))
		return 0;
	mutex_lock(&vgpu->gpu_lock);
	n = ctxmig_save_vram_pages(&migf->save, &off, pages);
	if (!n)
		goto out;
	pagefault_disable();
	ret = ctxmig_ir_send_vram_pages(&migf->w, off, pages, n,
					ctxmig_copy_to_reader, &rb);
	pagefault_enable();
	if (ret == -EFAULT) {
		ret = 0;
		for (i = 0; i < n && !ret; i++)
			ret = ctxmig_ir_put_vram(&migf->w,
						 off + i * CTXMIG_VRAM_PAGE_SIZE,
						 pages[i],
						 CTXMIG_VRAM_PAGE_SIZE);
	}
	if (ret < 0) {
		ctxmig_note_error(vgpu, ret, "save", migf->w.error.reason);
		vgpu->stats.save_errors++;
	}
out:
	mutex_unlock(&vgpu->gpu_lock);
	return ret;
}

/* The driver's time in a read() since @t0, by the phase it served. */
static void ctxmig_time_read(struct ctxmig_migf *migf, u64 t0)
{
	struct ctxmig_vgpu_stats *st = &migf->vgpu->stats;
	u64 ns = ktime_get_ns() - t0;

	mutex_lock(&migf->vgpu->gpu_lock);
	if (migf->save.precopy && !migf->stop_copy)
		st->precopy_read_ns += ns;
	else
		st->stop_read_ns += ns;
	mutex_unlock(&migf->vgpu->gpu_lock);
}

/*
 * A read() copies what the writer holds and produces more while the
 * reader has room.  Its work is bounded by the bytes it returns plus
 * CTXMIG_READ_EMPTY_ROUNDS rounds that found nothing to send (each a pass
 * over the pages written since the last one); it yields between steps and
 * a fatal signal ends it.  In pre-copy, a read that produced nothing
 * returns -ENOMSG, the temporary end of stream of vfio.h (QEMU then asks
 * again later; it fails the migration on any other error), never in
 * STOP_COPY.
 */
static ssize_t ctxmig_save_read(struct file *filp, char __user *buf,
				size_t len, loff_t *pos)
{
	struct ctxmig_migf *migf = filp->private_data;
	unsigned int empty = 0;
	ssize_t done = 0;
	int ret = 0;
	u64 t0;

	if (pos)
		return -ESPIPE;
	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out;
	}
	t0 = ktime_get_ns();
	while (len && !ret) {
		const void *p;
		ssize_t sent;
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
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
		sent = ctxmig_save_read_pages(migf, buf, len);
		if (sent < 0) {
			migf->err = sent;
			ret = sent;
			break;
		}
		if (sent) {
			buf += sent;
			len -= sent;
			done += sent;
			continue;
		}
		if (migf_buffered(migf))
			continue;	/* pages that went through the writer */
		mutex_lock(&migf->vgpu->gpu_lock);
		if (migf->save.precopy && !migf->stop_copy)
			migf->vgpu->stats.precopy_steps++;
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
			ret = 0;
			/* Pre-copy with nothing to send: a temporary end. */
			if (migf->save.precopy && !migf->stop_copy &&
			    !migf_buffered(migf) &&
			    (migf->idle || ++empty >= CTXMIG_READ_EMPTY_ROUNDS)) {
				if (!done)
					ret = -ENOMSG;
				break;
			}
		}
	}
	ctxmig_time_read(migf, t0);
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
	if (migf->disabled || migf->err || !migf->save.precopy ||
	    migf->stop_copy) {
		ret = migf->disabled ? -ENODEV : migf->err ?: -EINVAL;
		mutex_unlock(&migf->lock);
		return ret;
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
	trace_ctxmig_precopy(dev_name(vgpu->vdev.dev), initial, dirty);
	if (copy_to_user((void __user *)arg, &info, minsz))
		ret = -EFAULT;
	return ret;
}

/*
 * Readable while the stream has bytes to give: always in stop-copy (where
 * the end of the stream reads as 0), in pre-copy while the first pass is
 * under way or the device wrote pages since they were read (vfio.h: the
 * temporary end of a pre-copy stream, when read() fails with ENOMSG, is
 * not readable).  A file that failed or whose session ended is readable,
 * for read() to say so, and hung up.
 */
static __poll_t ctxmig_save_poll(struct file *filp,
				 struct poll_table_struct *wait)
{
	struct ctxmig_migf *migf = filp->private_data;
	__poll_t mask = 0;

	poll_wait(filp, &migf->poll_wait, wait);
	mutex_lock(&migf->lock);
	if (migf->disabled || migf->err) {
		mask = EPOLLIN | EPOLLRDNORM | EPOLLERR | EPOLLRDHUP;
	} else if (migf->done || migf->stop_copy || !migf->save.precopy ||
		   migf_buffered(migf)) {
		mask = EPOLLIN | EPOLLRDNORM;
	} else {
		mutex_lock(&migf->vgpu->gpu_lock);
		if (ctxmig_save_precopy_pending(&migf->save))
			mask = EPOLLIN | EPOLLRDNORM;
		mutex_unlock(&migf->vgpu->gpu_lock);
	}
	mutex_unlock(&migf->lock);
	return mask;
}

static const struct file_operations ctxmig_save_fops = {
	.owner = THIS_MODULE,
	.read = ctxmig_save_read,
	.poll = ctxmig_save_poll,
	.unlocked_ioctl = ctxmig_precopy_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = ctxmig_migf_release,
};

/*
 * Up to @len bytes from @buf into the restore, each copied once, straight
 * to where the reader wants it: a VRAM record's data into the target's
 * VRAM pages, the rest into the reader's record buffer.  Page faults are
 * off, gpu_lock being held (the buffer may even be this device's BAR2
 * mapping); @got says how many bytes were taken.
 *
 * Return: 0, -EFAULT if a copy stopped at a page not mapped in (the caller
 * faults it in without the lock and comes back), or the restore's errno.
 */
static int ctxmig_resume_copy(struct ctxmig_migf *migf,
			      const char __user *buf, size_t len, size_t *got)
{
	unsigned long left;
	ssize_t n;
	void *dst;
	int ret;

	*got = 0;
	while (len) {
		n = ctxmig_restore_dest(migf->rs, len, &dst);
		if (n < 0)
			return n;
		pagefault_disable();
		left = __copy_from_user_inatomic(dst, buf, n);
		pagefault_enable();
		ret = ctxmig_restore_commit(migf->rs, n - left);
		*got += n - left;
		if (ret)
			return ret;
		if (left)
			return -EFAULT;
		buf += n;
		len -= n;
	}
	return 0;
}

static ssize_t ctxmig_resume_write(struct file *filp, const char __user *buf,
				   size_t len, loff_t *pos)
{
	struct ctxmig_migf *migf = filp->private_data;
	bool faulted_in = false;
	ssize_t done = 0;
	size_t got;
	int ret = 0;
	u64 t0;

	if (pos)
		return -ESPIPE;
	if (!access_ok(buf, len))
		return -EFAULT;
	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out;
	}
	t0 = ktime_get_ns();
	while (len) {
		size_t n = min_t(size_t, len, CTXMIG_MIGF_CHUNK);

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
		got = 0;
		mutex_lock(&migf->vgpu->gpu_lock);
		if (ctxmig_fail(migf->vgpu, CTXMIG_FAIL_RESTORE_FEED))
			ret = ctxmig_ir_reader_fail(&migf->rs->reader, -EIO,
						    "fault injected at restore_feed");
		else
			ret = ctxmig_resume_copy(migf, buf, n, &got);
		if (ret && ret != -EFAULT)
			ctxmig_note_error(migf->vgpu, ret, "stream refused",
					  ctxmig_restore_error(migf->rs)->reason);
		mutex_unlock(&migf->vgpu->gpu_lock);
		buf += got;
		len -= got;
		done += got;
		if (ret == -EFAULT) {
			/*
			 * Fault the user's pages in without gpu_lock and try
			 * again; a copy that then still takes nothing is a
			 * bad buffer.
			 */
			if (got)
				faulted_in = false;
			n = min_t(size_t, len, CTXMIG_MIGF_CHUNK);
			if (faulted_in || fault_in_readable(buf, n) == n)
				break;
			faulted_in = true;
			ret = 0;
			continue;
		}
		if (ret)
			break;
		faulted_in = false;
	}
	mutex_lock(&migf->vgpu->gpu_lock);
	migf->vgpu->stats.write_ns += ktime_get_ns() - t0;
	mutex_unlock(&migf->vgpu->gpu_lock);
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
	init_waitqueue_head(&migf->poll_wait);
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
		if (!migf->rs)
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
	if (saving) {
		spin_lock(&vgpu->saving_lock);
		vgpu->saving_wait = &migf->poll_wait;
		spin_unlock(&vgpu->saving_lock);
	}
	return migf;

err_rs:
	if (migf->rs)
		ctxmig_restore_fini(migf->rs);
	kfree(migf->rs);
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
void ctxmig_state_mutex_unlock(struct ctxmig_vgpu *vgpu)
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
		ctxmig_pci_reset(vgpu);
		mutex_unlock(&vgpu->gpu_lock);
		vgpu->state = VFIO_DEVICE_STATE_RUNNING;
		ctxmig_engine_sync(vgpu);
		goto again;
	}
	mutex_unlock(&vgpu->state_mutex);
	mutex_unlock(&vgpu->reset_mutex);
}

/* RESUMING -> STOP: check and apply the stream written to @migf. */
static int ctxmig_load(struct ctxmig_vgpu *vgpu, struct ctxmig_migf *migf)
{
	int ret;
	u64 t0;

	mutex_lock(&migf->lock);
	mutex_lock(&vgpu->gpu_lock);
	t0 = ktime_get_ns();
	if (ctxmig_fail(vgpu, CTXMIG_FAIL_RESTORE_FINISH))
		ret = ctxmig_ir_reader_fail(&migf->rs->reader, -EIO,
					    "fault injected at restore_finish");
	else
		ret = ctxmig_restore_finish(migf->rs);
	vgpu->stats.restore_finish_ns = ktime_get_ns() - t0;
	if (ret) {
		ctxmig_note_error(vgpu, ret, "restore failed",
				  ctxmig_restore_error(migf->rs)->reason);
		vgpu->stats.restore_errors++;
	} else {
		struct ctxmig_vgpu_stats *st = &vgpu->stats;

		/*
		 * The restore raised CTXMIG_IRQ_MIGRATED: its MSI is owed when
		 * the device runs, whether or not the VMM chose MSI yet.
		 */
		vgpu->pci.msi_held = true;
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

/*
 * PRE_COPY_P2P -> STOP_COPY: the engine is quiesced already; what only a
 * stopped device gives (registers, pending commands, mappings) is taken
 * and the same stream goes on.  If the device cannot be saved (its guest
 * can make it so: a command that does not decode, a mapping into ctxmig's
 * reserved area, too many commands) the stream has failed for good, its
 * reads return the error, and the device stays in PRE_COPY_P2P.
 */
static int ctxmig_save_stop_copy(struct ctxmig_vgpu *vgpu,
				 struct ctxmig_migf *migf)
{
	int ret;

	mutex_lock(&migf->lock);
	ret = migf->err;
	if (!ret) {
		mutex_lock(&vgpu->gpu_lock);
		vgpu->stats.t_stopcopy = ktime_get_ns();
		vgpu->stats.precopy_ns = vgpu->stats.t_stopcopy -
					 vgpu->stats.t_precopy;
		if (ctxmig_fail(vgpu, CTXMIG_FAIL_SAVE_STOP))
			ret = ctxmig_ir_set_error(&migf->save.error, -EIO,
						  "fault injected at save_stop");
		else
			ret = ctxmig_save_stop(&migf->save);
		vgpu->stats.save_stop_ns = ktime_get_ns() -
					   vgpu->stats.t_stopcopy;
		if (ret) {
			ctxmig_note_error(vgpu, ret, "cannot save",
					  migf->save.error.reason);
			vgpu->stats.save_errors++;
		}
		mutex_unlock(&vgpu->gpu_lock);
		migf->err = ret;
	}
	if (!ret) {
		migf->idle = false;
		migf->stop_copy = true;
	}
	mutex_unlock(&migf->lock);
	/* The rest of the stream, or the error, is there to read. */
	wake_up_interruptible_all(&migf->poll_wait);
	return ret;
}

/*
 * One arc; vfio_mig_get_next_state() composes the others of them.  No
 * arc starts or stops the engine: ctxmig_set_state() makes it match each
 * state reached (ctxmig_engine_sync()).  An arc that fails changes
 * nothing, so the device stays in the state it was in, behaving as that
 * state says; only RESUMING -> STOP, which may have half applied a
 * stream, fails into ERROR.
 */
static struct file *ctxmig_step_state(struct ctxmig_vgpu *vgpu,
				      enum vfio_device_mig_state new)
{
	enum vfio_device_mig_state cur = vgpu->state;
	struct ctxmig_migf *migf;
	int ret;

	/* Into and out of P2P, and STOP: the engine stops or goes on. */
	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     new == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     new == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	     new == VFIO_DEVICE_STATE_PRE_COPY_P2P) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	     new == VFIO_DEVICE_STATE_PRE_COPY) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     new == VFIO_DEVICE_STATE_STOP) ||
	    (cur == VFIO_DEVICE_STATE_STOP &&
	     new == VFIO_DEVICE_STATE_RUNNING_P2P))
		return NULL;
	/* A save ends: pre-copy abandoned (the source carries on) or over. */
	if ((cur == VFIO_DEVICE_STATE_PRE_COPY &&
	     new == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	     new == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_STOP_COPY &&
	     new == VFIO_DEVICE_STATE_STOP)) {
		ctxmig_disable_files(vgpu);
		return NULL;
	}
	/* Pre-copy ends: the same fd goes on with the stop-copy part. */
	if (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	    new == VFIO_DEVICE_STATE_STOP_COPY) {
		ret = vgpu->saving ? ctxmig_save_stop_copy(vgpu, vgpu->saving) :
				     -EINVAL;
		return ret ? ERR_PTR(ret) : NULL;
	}
	if (cur == VFIO_DEVICE_STATE_RESUMING &&
	    new == VFIO_DEVICE_STATE_STOP) {
		ret = vgpu->resuming ? ctxmig_load(vgpu, vgpu->resuming) :
				       -EINVAL;
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
		if (saving) {
			vgpu->stats.save_stop_ns = 0;
			vgpu->stats.precopy_read_ns = 0;
			vgpu->stats.stop_read_ns = 0;
		} else {
			vgpu->stats.write_ns = 0;
		}
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

/*
 * The core hands the final state; the walk is ours, one arc at a time.
 * If an arc fails the device is in the last state the walk reached (the
 * one before the failed arc; ERROR after a failed RESUMING -> STOP), as
 * vfio.h allows: "any step along the path".
 */
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
		enum vfio_device_mig_state from = vgpu->state, next;
		bool injected;
		int rc = vfio_mig_get_next_state(vdev, from, new_state, &next);

		if (rc) {
			ret = ERR_PTR(rc);
			break;
		}
		mutex_lock(&vgpu->gpu_lock);
		injected = ctxmig_fail(vgpu, CTXMIG_FAIL_ARC);
		if (injected)
			ctxmig_note_error(vgpu, -EIO, "arc", "fault injected");
		mutex_unlock(&vgpu->gpu_lock);
		if (injected) {
			ret = ERR_PTR(-EIO);
			break;
		}
		ret = ctxmig_step_state(vgpu, next);
		trace_ctxmig_state(dev_name(vdev->dev), from, next,
				   PTR_ERR_OR_ZERO(ret));
		if (IS_ERR(ret))
			break;
		vgpu->state = next;
		ctxmig_engine_sync(vgpu);
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

/*
 * VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: what is left to read of the stream,
 * if the device stopped now (ctxmig_save_estimate() and the bytes encoded
 * and not read).  During pre-copy that includes PRECOPY_INFO's initial
 * and dirty bytes: QEMU 10 weighs it alone against its downtime budget.
 */
static int ctxmig_get_data_size(struct vfio_device *vdev,
				unsigned long *stop_copy_length)
{
	struct ctxmig_vgpu *vgpu = to_vgpu(vdev);
	struct ctxmig_migf *migf;
	u64 bytes;

	mutex_lock(&vgpu->state_mutex);
	migf = vgpu->saving;
	if (migf) {
		mutex_lock(&migf->lock);
		mutex_lock(&vgpu->gpu_lock);
		bytes = ctxmig_save_estimate(&migf->save, &vgpu->gpu);
		mutex_unlock(&vgpu->gpu_lock);
		bytes += migf_buffered(migf);
		mutex_unlock(&migf->lock);
	} else {
		mutex_lock(&vgpu->gpu_lock);
		bytes = ctxmig_save_estimate(NULL, &vgpu->gpu);
		mutex_unlock(&vgpu->gpu_lock);
	}
	ctxmig_state_mutex_unlock(vgpu);
	*stop_copy_length = bytes;
	return 0;
}

const struct vfio_migration_ops ctxmig_migration_ops = {
	.migration_set_state = ctxmig_set_state,
	.migration_get_state = ctxmig_get_state,
	.migration_get_data_size = ctxmig_get_data_size,
};
