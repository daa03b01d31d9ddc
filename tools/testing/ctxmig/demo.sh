#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make demo", the README's main job, with ctxmig.ko already built by
# make: boot Debian's own 6.12 kernel in QEMU with vfio, vfio_iommu_type1,
# mdev and ctxmig.ko, create an AMD-style and an NVIDIA-style vGPU, start
# a workload on the first, live-migrate it mid-stream (pre-copy rounds,
# then stop-copy) to the second, finish the workload there, verify it and
# print a report (tools/testing/ctxmig/demo/ctxmig_demo.c does the VMM's
# and the guest's part inside the VM).
set -euo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
cd "$top"
# The first command a newcomer runs: nothing in the cache exists yet.
mkdir -p "$cache/logs"

step() { echo; echo "==> [$(date +%H:%M:%S)] $*"; }
t0=$(date +%s)

step "1/2 ctxmig.ko"
modinfo -F vermagic drivers/gpu/ctxmig/ctxmig.ko | sed 's/^/    vermagic: /'
modinfo -F parm drivers/gpu/ctxmig/ctxmig.ko | sed 's/^/    parameter: /'

step "2/2 Debian's 6.12 kernel in QEMU: live migration amd-gfx9 -> nv-ampere"
echo "    (the first run downloads the kernel image and builds the guest tools)"
set +e
VM_DEMO=1 tools/testing/ctxmig/vm/run.sh >"$cache/logs/demo.log" 2>&1
vmrc=$?
set -e
grep -E '^vm: (fetching|booting|qemu)' "$cache/logs/demo.log" | sed 's/^/    /'
sed -n '/^ctxmig demo:/,/^verdict:/p' "$cache/logs/demo.log" | sed 's/^/    /'

echo
echo "==> done in $(( $(date +%s) - t0 )) s"
if [ "$vmrc" -ne 0 ] || ! grep -q '^verdict: PASS' "$cache/logs/demo.log"; then
	echo "    demo FAILED; the VM's output: $cache/logs/demo.log and"
	echo "    $cache/logs/vm-console.log"
	tail -n 20 "$cache/logs/demo.log" | sed 's/^/    /'
	exit 1
fi
