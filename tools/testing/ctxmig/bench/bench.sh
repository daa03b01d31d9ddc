#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench", with ctxmig.ko already built: the host benches (save and
# restore paths, IR codec, page-table translation; tools.mk), then the VM
# bench (vm_bench.c through vm/run.sh with VM_BENCH=1), then the qemu
# tier's bench (qemu/bench.sh: QEMU's query-migrate figures with and
# without a vGPU), then one table of every figure with its baseline,
# ratio, target and PASS or MISS (table.sh).  A benchmark, not a test: a
# MISS does not fail it; a bench that breaks does.  If the VM cannot run
# its figures are reported as SKIPPED, never made up.
#
# Environment: CTXMIG_CACHE; BENCH_VM_MEM (MiB of guest RAM, default 9216:
# a 4 GiB VRAM populated on both ends of a migration), BENCH_VM_TIMEOUT
# (seconds, default 2400), BENCH_VM_ARGS (vm_bench options, see its
# header), and BENCH_BYTES, BENCH_RUNS, BENCH_MAP_BYTES of the host benches.
set -uo pipefail

top=$(cd "$(dirname "$0")/../../../.." && pwd)
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
logs=$cache/logs
host_log=$logs/bench-host.log
vm_log=$logs/bench-vm.log
qemu_log=$logs/bench-qemu.log
mkdir -p "$logs"
cd "$top"

echo "==> [$(date +%H:%M:%S)] host benches"
make -s -f tools/testing/ctxmig/host.mk OUT="$cache/host-build" \
	bench 2>&1 | tee "$host_log"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "bench: the host benches failed"; exit 1; }

echo
echo "==> [$(date +%H:%M:%S)] VM bench (QEMU TCG, ${BENCH_VM_MEM:-9216} MiB)"
VM_BENCH=1 VM_MEM=${BENCH_VM_MEM:-9216} VM_TIMEOUT=${BENCH_VM_TIMEOUT:-2400} \
	VM_BENCH_ARGS=${BENCH_VM_ARGS:-} tools/testing/ctxmig/vm/run.sh \
	>"$vm_log" 2>&1
vmrc=$?
skip=
if grep -q '^vm: cannot run:' "$vm_log"; then
	skip=$(sed -n 's/^vm: cannot run: //p' "$vm_log" | head -n1)
	echo "bench: VM BENCH SKIPPED: $skip"
else
	grep -E '^vm: (fetching|booting|qemu)' "$vm_log"
	sed -n '/^ctxmig VM bench:/,/^vm_bench: done/p' "$vm_log" | grep -v '^BENCH '
	if [ "$vmrc" -ne 0 ]; then
		echo "bench: the VM bench failed; $vm_log and $logs/vm-console.log:"
		tail -n 30 "$vm_log"
	fi
fi

# QEMU's own query-migrate figures with and without a vGPU: the qemu
# tier's bench.sh prints the "BENCH qemu_..." lines table.sh reads (see
# there), its report before them.
qemu_bench=$top/tools/testing/ctxmig/qemu/bench.sh
qemu_args=()
qrc=0
if [ -x "$qemu_bench" ]; then
	echo
	echo "==> [$(date +%H:%M:%S)] QEMU bench"
	"$qemu_bench" >"$qemu_log" 2>&1
	qrc=$?
	grep -v '^BENCH ' "$qemu_log" | tail -n 20
	qemu_args=("$qemu_log")
fi

echo
echo "==> [$(date +%H:%M:%S)] table (make bench)"
"$top/tools/testing/ctxmig/bench/table.sh" "$host_log" "$vm_log" "$skip" \
	"${qemu_args[@]}"
trc=$?
[ "$vmrc" -eq 0 ] && [ "$qrc" -eq 0 ] && [ "$trc" -eq 0 ]
