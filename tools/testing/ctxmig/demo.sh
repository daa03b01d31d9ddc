#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make demo", the README's main job.  What it shows today, with ctxmig.ko
# already built by make: an IR stream written by the codec and decoded by
# ctxmig-dump, then Debian's own 6.12 kernel booted in QEMU with vfio,
# vfio_iommu_type1, mdev and ctxmig.ko loaded and checked.  The live
# migration of a running vGPU between two GPU models replaces the middle
# of this script when the VFIO driver lands (issue 4).
set -euo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
out=$cache/host-build
cd "$top"

step() { echo; echo "==> [$(date +%H:%M:%S)] $*"; }
t0=$(date +%s)

step "1/3 ctxmig.ko"
modinfo -F vermagic drivers/gpu/ctxmig/ctxmig.ko | sed 's/^/    vermagic: /'
modinfo -F parm drivers/gpu/ctxmig/ctxmig.ko | sed 's/^/    parameter: /'

step "2/3 an IR stream, written by the codec and decoded by ctxmig-dump"
make -s -f tools/testing/ctxmig/host.mk OUT="$out" dump >/dev/null
# A stream the codec's writer produced (tools/testing/ctxmig/fuzz/gen_corpus.c).
sample=tools/testing/ctxmig/fuzz/corpus/06-everything.ir
echo "    stream: $sample ($(stat -c %s "$sample") bytes)"
"$out/ctxmig-dump" "$sample" | sed 's/^/    /'

step "3/3 Debian's 6.12 kernel in QEMU with vfio, mdev and ctxmig.ko"
set +e
tools/testing/ctxmig/vm/run.sh | sed 's/^/    /'
vmrc=${PIPESTATUS[0]}
set -e

echo
echo "==> report"
echo "    elapsed: $(( $(date +%s) - t0 )) s"
if [ "$vmrc" -eq 0 ]; then
	echo "    verdict: PASS (codec and module; live migration: issue 4)"
else
	echo "    verdict: FAIL (VM step, see $cache/logs/vm-console.log)"
fi
exit "$vmrc"
