#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make demo", the README's main job, with ctxmig.ko already built by
# make: two VM hosts under this machine's QEMU, each booting Debian's own
# 6.12 kernel with vfio, vfio_iommu_type1, mdev and ctxmig.ko and running
# QEMU 10; host A runs a VM with an AMD-style vGPU (mdevctl, vfio-pci),
# host B a QEMU waiting with an NVIDIA-style one; the guest works, QMP
# "migrate" moves the running VM to host B, the guest finishes its work
# there in the new model's format, every byte is checked, and the report
# gives ctxmig's and QEMU's figures.  The qemu tier's machinery does it
# (tools/testing/ctxmig/qemu/run.sh with demo/ctxmig_demo.c in the tests'
# place); the whole output is in $CTXMIG_CACHE/logs/demo.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
cd "$top"
# The first command a newcomer runs: nothing in the cache exists yet.
mkdir -p "$cache/logs"
log=$cache/logs/demo.log

step() { echo; echo "==> [$(date +%H:%M:%S)] $*"; }
t0=$(date +%s)

step "1/2 ctxmig.ko"
modinfo -F vermagic drivers/gpu/ctxmig/ctxmig.ko | sed 's/^/    vermagic: /'
modinfo -F parm drivers/gpu/ctxmig/ctxmig.ko | sed 's/^/    parameter: /'

step "2/2 two VM hosts, QEMU 10: live migration amd-gfx9 (host A) -> nv-ampere (host B)"
echo "    (the first run downloads Debian's kernel image and builds the hosts'"
echo "    Debian 12 image with QEMU 10 and mdevctl: a few minutes)"
set +e
QEMU_MAIN=$top/tools/testing/ctxmig/demo/ctxmig_demo.c QEMU_ARGS= \
	QEMU_TIER=demo QEMU_TIMEOUT=900 \
	tools/testing/ctxmig/qemu/run.sh >"$log" 2>&1
rc=$?
set -e
grep -E '^(demo|image|kimage|ksrc): ' "$log" | grep -vE '^demo: [0-9]+ passed' |
	sed 's/^/    /'
# The program's own lines; its log lines "# [seconds] demo: what" as
# "[seconds s] what" (but those the report repeats), its notes "# ..."
# left out.
sed -n '/^ctxmig demo:/,/^verdict:/p' "$log" |
	grep -vE '^# \[.*\] demo: (begin|QEMU: |ctxmig: )' |
	sed -E 's/^# \[ *([0-9.]+)\] demo: /  [\1 s] /' |
	grep -vE '^# ' | sed 's/^/    /'

echo
echo "==> done in $(( $(date +%s) - t0 )) s"
if [ "$rc" -ne 0 ] || ! grep -q '^verdict: PASS' "$log"; then
	echo "    demo FAILED; the whole output: $log, the hosts' consoles:"
	echo "    $cache/logs/demo-host-a.log and $cache/logs/demo-host-b.log"
	tail -n 30 "$log" | sed 's/^/    /'
	exit 1
fi
