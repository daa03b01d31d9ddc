// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig: live migration of virtual GPUs between different GPU models.
 *
 * Module entry.  The driver's layers are described in
 * Documentation/gpu/ctxmig/architecture.rst: the IR codec, the GPU models
 * and their translators, and (with CONFIG_CTXMIG_VFIO) the mdev parent
 * with one vGPU type per model.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>

#include "ctxmig_ir.h"
#include "ctxmig_vfio.h"

#define CREATE_TRACE_POINTS
#include "ctxmig_trace.h"

/*
 * The IR version this module writes, read-only under
 * /sys/module/ctxmig/parameters/ir_version, so that management software can
 * tell which streams a host speaks without opening a device.
 */
static char ir_version[16] = __stringify(CTXMIG_IR_VERSION_MAJOR) "."
			     __stringify(CTXMIG_IR_VERSION_MINOR);
module_param_string(ir_version, ir_version, sizeof(ir_version), 0444);
MODULE_PARM_DESC(ir_version, "IR stream version written (major.minor)");

static int __init ctxmig_init(void)
{
	int ret = ctxmig_vfio_init();

	if (ret)
		return ret;
	pr_info("%s, IR version %s\n", CTXMIG_RELEASE, ir_version);
	return 0;
}

static void __exit ctxmig_exit(void)
{
	ctxmig_vfio_exit();
}

module_init(ctxmig_init);
module_exit(ctxmig_exit);

MODULE_DESCRIPTION("ctxmig: heterogeneous GPU live migration");
MODULE_LICENSE("GPL");
MODULE_VERSION(CTXMIG_RELEASE);
