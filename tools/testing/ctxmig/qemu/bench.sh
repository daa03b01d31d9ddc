#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The qemu tier's bench (make bench runs it, ../bench/bench.sh): QEMU 10's
# own query-migrate figures for a VM with a 256 MiB vGPU, its VRAM filled
# and 16 MiB of it rewritten after the first pre-copy pass, against the
# same VM without the vGPU, both migrated from host A to host B in one
# run of the tier's two VM hosts (run.sh with ../bench/qemu_bench.c in
# the tests' place; see there).  Prints the program's report and its
# "BENCH qemu_<vgpu|plain>_<total_ms|downtime_ms|device_bytes> <value>"
# lines for ../bench/table.sh; the whole output is in
# $CTXMIG_CACHE/logs/qbench.log.  Exits non-zero if a migration or the
# check of the VRAM on host B failed.  Environment: CTXMIG_CACHE,
# QEMU_TIMEOUT (seconds, default 900).
set -uo pipefail

top=$(cd "$(dirname "$0")/../../../.." && pwd)
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
mkdir -p "$cache/logs"
log=$cache/logs/qbench.log

QEMU_MAIN=$top/tools/testing/ctxmig/bench/qemu_bench.c QEMU_ARGS='' \
	QEMU_TIER=qbench QEMU_TIMEOUT=${QEMU_TIMEOUT:-900} \
	"$top/tools/testing/ctxmig/qemu/run.sh" >"$log" 2>&1
rc=$?
grep -E '^qbench: ' "$log"
# The program's steps ("# [seconds] test: what") and its report.
grep -E '^ctxmig QEMU bench:|^# \[ *[0-9.]+\] ' "$log"
sed -n '/^QEMU query-migrate/,/^1\.\./p' "$log" | grep -v '^1\.\.'
if [ "$rc" -ne 0 ] || ! grep -qE '^qbench: [1-9][0-9]* passed, 0 failed' "$log"; then
	echo "qbench: FAILED; the whole output: $log, the hosts' consoles:"
	echo "qbench: $cache/logs/qbench-host-a.log $cache/logs/qbench-host-b.log"
	exit 1
fi
