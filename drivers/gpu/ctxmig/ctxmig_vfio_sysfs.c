// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig VFIO sysfs debug controls of a vGPU, under
 * /sys/bus/mdev/devices/<uuid>/ctxmig/: see
 * Documentation/ABI/testing/sysfs-bus-mdev-ctxmig.
 */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include "ctxmig_gpu.h"
#include "ctxmig_ir.h"
#include "ctxmig_vfio.h"
#include "ctxmig_vfio_types.h"
#include "ctxmig_xlate.h"

static const char *const ctxmig_fail_names[CTXMIG_FAIL_MAX] = {
	[CTXMIG_FAIL_NONE] = "none",
	[CTXMIG_FAIL_SAVE_INIT] = "save_init",
	[CTXMIG_FAIL_SAVE_STEP] = "save_step",
	[CTXMIG_FAIL_RESTORE_FEED] = "restore_feed",
	[CTXMIG_FAIL_RESTORE_FINISH] = "restore_finish",
	[CTXMIG_FAIL_SAVE_STOP] = "save_stop",
	[CTXMIG_FAIL_ARC] = "arc",
};

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
		       "precopy_steps %llu\n"
		       "precopy_us %llu\nstopcopy_us %llu\nrestore_us %llu\n"
		       "save_stop_us %llu\nprecopy_read_us %llu\n"
		       "stop_read_us %llu\nwrite_us %llu\n"
		       "restore_finish_us %llu\n"
		       "migrated %u\ncommands %llu\ninterrupts %llu\n"
		       "vram_pages %llu\nvram_dirty_pages %llu\nwork %llu\n"
		       "engine %s\nlast_error %s\n",
		       st->saves, st->save_errors, st->bytes_saved,
		       st->restores, st->restore_errors, st->bytes_restored,
		       st->precopy_steps,
		       st->precopy_ns / 1000, st->stopcopy_ns / 1000,
		       st->restore_ns / 1000, st->save_stop_ns / 1000,
		       st->precopy_read_ns / 1000, st->stop_read_ns / 1000,
		       st->write_ns / 1000, st->restore_finish_ns / 1000,
		       vgpu->gpu.migrated,
		       eng->executed, eng->irqs, vgpu->gpu.vram.present,
		       vgpu->gpu.vram.dirty, ctxmig_gpu_work(&vgpu->gpu),
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

static ssize_t vram_mib_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct ctxmig_vgpu *vgpu = dev_to_vgpu(dev);
	u64 size;

	mutex_lock(&vgpu->gpu_lock);
	size = vgpu->gpu.vram_size;
	mutex_unlock(&vgpu->gpu_lock);
	return sysfs_emit(buf, "%llu\n", (unsigned long long)(size >> 20));
}

static ssize_t vram_mib_store(struct device *dev,
			      struct device_attribute *attr, const char *buf,
			      size_t count)
{
	u32 mib;
	int ret = kstrtou32(buf, 0, &mib);

	if (ret)
		return ret;
	if (!mib)
		return -EINVAL;
	ret = ctxmig_vgpu_configure(dev_to_vgpu(dev), (u64)mib << 20, 0);
	return ret ?: count;
}
static DEVICE_ATTR_RW(vram_mib);

static ssize_t va_bits_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct ctxmig_vgpu *vgpu = dev_to_vgpu(dev);
	u8 bits;

	mutex_lock(&vgpu->gpu_lock);
	bits = vgpu->gpu.va_bits;
	mutex_unlock(&vgpu->gpu_lock);
	return sysfs_emit(buf, "%u\n", bits);
}

static ssize_t va_bits_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	u8 bits;
	int ret = kstrtou8(buf, 0, &bits);

	if (ret)
		return ret;
	if (!bits)
		return -ERANGE;
	ret = ctxmig_vgpu_configure(dev_to_vgpu(dev), 0, bits);
	return ret ?: count;
}
static DEVICE_ATTR_RW(va_bits);

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
	&dev_attr_vram_mib.attr,
	&dev_attr_va_bits.attr,
	NULL,
};

static const struct attribute_group ctxmig_vgpu_group = {
	.name = "ctxmig",
	.attrs = ctxmig_vgpu_attrs,
};

const struct attribute_group *ctxmig_vgpu_groups[] = {
	&ctxmig_vgpu_group,
	NULL,
};
