#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Overlay ctxmig onto the kernel source tree given as $1: the driver (with
# VERSION), the uAPI header, and one line each in drivers/gpu/Kconfig and
# drivers/gpu/Makefile.  Idempotent; nothing else in the tree changes, so
# kernels are built out of it with O=.  Used by kunit.sh and debug.sh.
set -eu

top=$(cd "$(dirname "$0")/../../.." && pwd)
ksrc=${1:?usage: overlay.sh <kernel source tree>}

# By content, and without the checkout's times: a file that changes gets
# the current time, so that kbuild rebuilds it even when the new version
# is older than the object built from another (e.g. a scratch copy).
rsync -rlc --delete --exclude='*.o' --exclude='*.cmd' --exclude='*.ko' \
	--exclude='*.mod*' --exclude='modules.order' --exclude=VERSION \
	"$top/drivers/gpu/ctxmig/" "$ksrc/drivers/gpu/ctxmig/"
# The release (MODULE_VERSION) next to the driver's Makefile, which reads
# it there in a kernel tree.
cmp -s "$top/VERSION" "$ksrc/drivers/gpu/ctxmig/VERSION" ||
	cp "$top/VERSION" "$ksrc/drivers/gpu/ctxmig/VERSION"
# Copied only when it differs, so that kbuild does not rebuild for nothing.
cmp -s "$top/include/uapi/linux/ctxmig.h" "$ksrc/include/uapi/linux/ctxmig.h" ||
	cp "$top/include/uapi/linux/ctxmig.h" "$ksrc/include/uapi/linux/ctxmig.h"
grep -q 'drivers/gpu/ctxmig/Kconfig' "$ksrc/drivers/gpu/Kconfig" ||
	echo 'source "drivers/gpu/ctxmig/Kconfig"' >>"$ksrc/drivers/gpu/Kconfig"
grep -q 'CONFIG_CTXMIG' "$ksrc/drivers/gpu/Makefile" ||
	echo 'obj-$(CONFIG_CTXMIG) += ctxmig/' >>"$ksrc/drivers/gpu/Makefile"
