#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM tier: boot Debian's own 6.12 kernel (the image of exactly the version
# ctxmig.ko was built against, taken with apt-get download + dpkg -x, never
# installed) under qemu-system-x86_64 (TCG) with a busybox initramfs that
# loads vfio, vfio_iommu_type1, mdev and ctxmig.ko, runs the kselftests of
# tools/testing/selftests/ctxmig and unloads ctxmig.  The kselftests' KTAP
# comes back on the serial console between markers.
#
# Ends with "vm: N passed, N failed[, N skipped]".  An oops, BUG, WARN,
# panic, hang or a module that will not unload fails the tier.
#
# Environment: CTXMIG_CACHE, KVER (default: tools/testing/ctxmig/kver.sh),
# VM_TIMEOUT (seconds, default 600), VM_TESTS (extra selftest names),
# VM_BENCH=1 runs the benchmark (tools/testing/ctxmig/bench/vm_bench.c)
# instead, with VM_BENCH_ARGS in its /vm_bench.args,
# VM_MEM (MiB of guest RAM, default 1024, 2048 for the debug kernel),
# VM_QEMU_ARGS (more qemu-system-x86_64 arguments, e.g. "-icount
# shift=0,sleep=off": guest time counts instructions, see
# Documentation/gpu/ctxmig/performance.rst), VM_KEEP=1 keeps the staging
# directory.  VM_TIMEOUT_SCALE multiplies the
# kselftest harness's per-test timeouts (default 1, 4 for the debug kernel).
#
# VM_KERNEL=debug (tools/testing/ctxmig/debug.sh builds it first): boot the
# debug kernel of $CTXMIG_CACHE/debug-build instead, with the modules it
# installed in $CTXMIG_CACHE/debug-modroot, ctxmig.ko among them (its KUnit
# suites run when it loads).  The VM then also reports those suites' KTAP,
# a kmemleak scan after ctxmig is unloaded and lockdep's debug_locks; any
# KASAN, lockdep, UBSAN or kmemleak report fails.  Lines start "debug:".
set -euo pipefail

top=$(cd "$(dirname "$0")/../../../.." && pwd)
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
kver=${KVER:-$("$top/tools/testing/ctxmig/kver.sh")}
timeout_s=${VM_TIMEOUT:-600}
vmdir=$cache/vm
imgroot=$vmdir/image-$kver
log=$cache/logs/vm-console.log
tier=vm
mem=${VM_MEM:-1024}
tscale=${VM_TIMEOUT_SCALE:-1}
# The VM gets both of CI's cores; its kernel must see them all (a kernel
# that sees one is starved by any long loop: it is checked below).
cpus=2
append="console=ttyS0 panic=-1 oops=panic loglevel=4 quiet"
if [ "${VM_KERNEL:-}" = debug ]; then
	tier=debug
	dbuild=$cache/debug-build
	kver=$(cat "$dbuild/include/config/kernel.release" 2>/dev/null || true)
	imgroot=$cache/debug-modroot
	bzimage=$dbuild/arch/x86/boot/bzImage
	# KASAN under TCG is slow; lockdep's and KUnit's lines are warnings
	# and infos, so the console shows them all.
	timeout_s=${VM_TIMEOUT:-2400}
	tscale=${VM_TIMEOUT_SCALE:-4}
	mem=${VM_MEM:-2048}
	append="console=ttyS0 panic=-1 oops=panic loglevel=7"
	log=$cache/logs/debug-console.log
fi
mkdir -p "$vmdir" "$(dirname "$log")"

. "$top/tools/testing/ctxmig/vm/lib.sh"

command -v qemu-system-x86_64 >/dev/null || cannot_run "qemu-system-x86_64 missing"
[ -x /bin/busybox ] || cannot_run "busybox-static missing"
if [ "$tier" = debug ]; then
	[ -n "$kver" ] && [ -f "$bzimage" ] || fail "no debug kernel in $dbuild (run debug.sh)"
	ko=$imgroot/lib/modules/$kver/kernel/drivers/gpu/ctxmig/ctxmig.ko
	[ -f "$ko" ] || fail "no $ko (run debug.sh)"
else
	ko=$top/ctxmig.ko
	[ -f "$ko" ] || ko=$top/drivers/gpu/ctxmig/ctxmig.ko
	[ -f "$ko" ] || fail "ctxmig.ko not built (run make)"
fi
modver=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
[ "$modver" = "$kver" ] || fail "ctxmig.ko is for $modver, the VM boots $kver"

# 1. Debian's kernel image, unpacked into the cache once per version.
if [ "$tier" = vm ]; then
	kimage_unpack "$vmdir" "$kver" ||
		cannot_run "apt-get download linux-image-$kver-unsigned failed"
fi
if [ "$tier" = vm ]; then
	bzimage=$imgroot/boot/vmlinuz-$kver
	[ -f "$bzimage" ] || fail "no $bzimage in the image package"
fi

# 2. The initramfs: busybox, the modules in dependency order, the tests.
# Everything a run builds lives in its own directory, so that runs from
# several checkouts can share the cache at the same time.
# The console goes to the run's own file first and is copied to $log (the
# last run's, for the user) as the run ends.
work=$(mktemp -d "$vmdir/run.XXXXXX")
console=$work/console.log
if [ "${VM_KEEP:-}" = 1 ]; then
	trap 'cp -f "$console" "$log" 2>/dev/null' EXIT
else
	trap 'cp -f "$console" "$log" 2>/dev/null; rm -rf "$work"' EXIT
fi
stage=$work/stage
mkdir -p "$stage"/{bin,dev,etc,proc,sys,tmp,modules,selftests}
cp /bin/busybox "$stage/bin/busybox"
[ "$tier" = vm ] || touch "$stage/etc/ctxmig-debug"

# The benchmark also hashes from user space (AF_ALG: algif_hash).
mods="vfio vfio_iommu_type1 mdev crc32c_generic libcrc32c"
[ "${VM_BENCH:-}" != 1 ] || mods="$mods algif_hash"
# shellcheck disable=SC2086
kimage_modules "$imgroot" "$kver" "$stage/modules" $mods
cp "$ko" "$stage/modules/ctxmig.ko"

# The kselftests, built statically in a copy of the kernel tree's
# selftests layout (this run's own) so that "../kselftest_harness.h"
# resolves as it does in-tree.  The
# programs of CTXMIG_GUEST_PROGS (selftests Makefile) also link guest.c and
# the driver's GPU model sources, compiled through the host shim headers
# as tools/testing/ctxmig/host.mk compiles them; the tests themselves see
# only the uAPI headers.
ksrc=$("$top/tools/testing/ctxmig/ksrc.sh")
ksel=$work/selftests
selmk=$top/tools/testing/selftests/ctxmig/Makefile
mkdir -p "$ksel/ctxmig/obj"
cp "$ksrc"/tools/testing/selftests/kselftest*.h "$ksel/"
cp "$top"/tools/testing/selftests/ctxmig/*.[ch] "$ksel/ctxmig/"
tests=$(sed -n 's/^TEST_GEN_PROGS *[:+]*= *//p' "$selmk")
guest_progs=$(sed -n 's/^CTXMIG_GUEST_PROGS *[:+]*= *//p' "$selmk")
guest_cflags=(-static -std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter
	-Wno-sign-compare -Wno-missing-field-initializers
	-I"$top/tools/testing/ctxmig/include" -I"$top/include/uapi"
	-I"$top/drivers/gpu/ctxmig")
build_guest_objs() {
	[ ${#guest_objs[@]} -eq 0 ] || return 0
	guest_objs "$top" "$ksel/ctxmig/obj" ||
		fail "building the guest library for the selftests failed"
}
# VM_BENCH=1: the VM runs the benchmark (make bench) instead of the tests.
if [ "${VM_BENCH:-}" = 1 ]; then
	build_guest_objs
	gcc "${guest_cflags[@]}" -Werror -I"$ksel/ctxmig" \
		-o "$stage/selftests/vm_bench" \
		"$top/tools/testing/ctxmig/bench/vm_bench.c" "${guest_objs[@]}" ||
		fail "building the benchmark failed"
	echo "${VM_BENCH_ARGS:-}" >"$stage/vm_bench.args"
	tests=
fi
# A slower kernel gets proportionally longer harness timeouts: the
# harness arms each test with alarm(), scaled here.  The tests are GNU
# programs: <unistd.h> must not be read before _GNU_SOURCE is defined.
scale=()
if [ "$tscale" != 1 ]; then
	printf '#define _GNU_SOURCE\n#include <unistd.h>\n#define alarm(s) alarm((s) * %u)\n' \
		"$tscale" >"$ksel/ctxmig/obj/timeout_scale.h"
	scale=(-include "$ksel/ctxmig/obj/timeout_scale.h")
fi
for t in $tests ${VM_TESTS:-}; do
	extra=()
	if [[ " $guest_progs " == *" $t "* ]]; then
		build_guest_objs
		extra=("${guest_objs[@]}")
	fi
	gcc -static -O2 -Wall -Werror -I"$top/include/uapi" "${scale[@]}" \
		-o "$stage/selftests/$t" "$ksel/ctxmig/$t.c" "${extra[@]}" ||
		fail "building selftest $t failed"
done

cat >"$stage/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo 1 >/proc/sys/kernel/panic_on_warn 2>/dev/null
debug=
[ -f /etc/ctxmig-debug ] && debug=1
[ -z "$debug" ] || mount -t debugfs debugfs /sys/kernel/debug
# The tests that measure memory learn that freed objects wait in KASAN's
# quarantine here.
[ -z "$debug" ] || export CTXMIG_KASAN=1
for m in $(cat /modules/order) ctxmig.ko; do
	insmod /modules/$m || echo "CTXMIG-VM: insmod $m failed"
done
echo "CTXMIG-VM: modules loaded"
echo "CTXMIG-VM: cpus $(grep -c ^processor /proc/cpuinfo)"
if [ -n "$debug" ]; then
	# ctxmig's KUnit suites ran when it was loaded.
	echo "CTXMIG-VM: kunit begin"
	cat /sys/kernel/debug/kunit/ctxmig*/results
	echo "CTXMIG-VM: kunit end"
fi
echo "CTXMIG-VM: ktap begin"
for t in /selftests/*; do
	echo "# selftest: $(basename $t)"
	if [ -n "$debug" ]; then
		# The console shows the kernel's warnings too: print the
		# KTAP once the test is over, so that none cuts a line.
		$t >/tmp/selftest.out 2>&1
		rc=$?
		cat /tmp/selftest.out
	else
		$t 2>&1
		rc=$?
	fi
	echo "# exit: $(basename $t) $rc"
done
echo "CTXMIG-VM: ktap end"
if rmmod ctxmig; then
	echo "CTXMIG-VM: ctxmig unloaded"
else
	echo "CTXMIG-VM: rmmod ctxmig failed"
fi
if [ -n "$debug" ]; then
	# kmemleak does not report objects younger than 5 s, and an object
	# is reported only once two scans found it unreferenced.
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak &&
		echo scan >/sys/kernel/debug/kmemleak &&
		echo "CTXMIG-VM: kmemleak scanned"
	echo "CTXMIG-VM: kmemleak begin"
	cat /sys/kernel/debug/kmemleak
	echo "CTXMIG-VM: kmemleak end"
	echo "CTXMIG-VM: lockdep $(grep debug_locks: /proc/lockdep_stats)"
fi
echo "CTXMIG-VM: done"
# The debug kernel has no ACPI power-off ("Power off not available"):
# QEMU's -no-reboot ends on the reboot.
[ -z "$debug" ] || reboot -f
poweroff -f
INIT
chmod +x "$stage/init"
initrd=$work/initramfs.gz
(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 >"$initrd"

# 3. Boot.  TCG: there is no KVM here.  panic_on_warn plus panic=-1 and
# -no-reboot turn any WARN or panic into an immediate exit.
echo "$tier: booting $kver under qemu (TCG, ${mem} MiB), timeout ${timeout_s}s; console: $log"
start=$(date +%s)
set +e
timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
	-machine q35 -cpu max -smp "$cpus" -m "$mem" -accel tcg \
	-kernel "$bzimage" -initrd "$initrd" \
	-append "$append" \
	-display none -serial "file:$console" -monitor none -no-reboot \
	${VM_QEMU_ARGS:-} </dev/null
qrc=$?
set -e
echo "$tier: qemu exited $qrc after $(( $(date +%s) - start ))s"

# 4. Results.  (grep -v fails when the VM died before the KTAP began;
# the checks below report that.)
sed -n '/CTXMIG-VM: ktap begin/,/CTXMIG-VM: ktap end/p' "$console" |
	{ grep -v '^CTXMIG-VM' || true; } | tr -d '\r'
bad=0
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	echo "$tier: timed out after ${timeout_s}s (hang)" >&2
	bad=1
fi
problem='Oops|BUG:|WARNING:|Kernel panic|Call Trace|general protection|KASAN|UBSAN'
# The debug kernel's reports: lockdep (which says "WARNING:" or "BUG:"
# first, or "INFO:"), lockdep turning itself off after any earlier report,
# RCU stalls, kmemleak, or kmemleak disabling itself.
[ "$tier" = vm ] || problem="$problem|INFO:|possible circular locking|inconsistent lock state|possible recursive locking|suspicious RCU usage|sleeping function called from invalid context|turning off the locking correctness validator|unreferenced object|kmemleak: .*(disabled|failed)"
if grep -qE "$problem" "$console"; then
	echo "$tier: kernel reported a problem:" >&2
	grep -E -A20 "$problem" "$console" | head -n 60 >&2
	bad=1
fi
grep -q 'CTXMIG-VM: insmod .* failed' "$console" && {
	grep 'CTXMIG-VM: insmod' "$console" >&2
	bad=1
}
grep -q 'CTXMIG-VM: ctxmig unloaded' "$console" || {
	echo "$tier: ctxmig did not unload" >&2
	bad=1
}
vcpus=$(sed -n 's/^CTXMIG-VM: cpus \([0-9]*\).*/\1/p' "$console" | head -n1)
[ "${vcpus:-0}" -eq "$cpus" ] || {
	echo "$tier: the kernel saw ${vcpus:-no} of the VM's $cpus CPUs" >&2
	bad=1
}
grep -q 'CTXMIG-VM: done' "$console" || {
	echo "$tier: the VM did not reach the end of its script" >&2
	bad=1
}

kpassed=0
kfailed=0
kskipped=0
if [ "$tier" = debug ]; then
	grep -q 'KernelAddressSanitizer initialized' "$console" || {
		echo "$tier: KASAN did not initialise" >&2
		bad=1
	}
	grep -qE '^CTXMIG-VM: lockdep +debug_locks: +1' "$console" || {
		echo "$tier: lockdep is off at the end ($(grep 'CTXMIG-VM: lockdep' "$console"))" >&2
		bad=1
	}
	grep -q 'CTXMIG-VM: kmemleak scanned' "$console" || {
		echo "$tier: the kmemleak scan did not run" >&2
		bad=1
	}
	# Each suite's debugfs results are a KTAP document of one test; join
	# them into one and let kunit.py count the cases as the kunit tier
	# does.
	ksrc=${ksrc:-$("$top/tools/testing/ctxmig/ksrc.sh")}
	kunit_ktap=$work/kunit-$tier.ktap
	sed -n '/CTXMIG-VM: kunit begin/,/CTXMIG-VM: kunit end/p' "$console" |
		tr -d '\r' | { grep -v '^CTXMIG-VM' || true; } | awk '
		/^KTAP version/ { next }
		/^1\.\.1$/ { next }
		/^(not )?ok 1 / { n++; sub(/ 1 /, " " n " "); }
		{ body = body $0 "\n" }
		END { printf "KTAP version 1\n1..%d\n%s", n, body }' >"$kunit_ktap"
	python3 "$ksrc/tools/testing/kunit/kunit.py" parse "$kunit_ktap" \
		>"$kunit_ktap.parsed" 2>&1 || true
	sed -n '/=====\|\[PASSED\]\|\[FAILED\]\|\[SKIPPED\]\|\[CRASHED\]\|Testing complete\|ERROR/p' \
		"$kunit_ktap.parsed" | tail -n 100
	summary=$(grep -o 'Testing complete. Ran [0-9]* tests:.*' "$kunit_ktap.parsed" | tail -n1 || true)
	kcount() {
		printf '%s\n' "$summary" | grep -o "$1: [0-9]*" | grep -o '[0-9]*' || echo 0
	}
	kpassed=$(kcount passed)
	kfailed=$(( $(kcount failed) + $(kcount crashed) + $(kcount errors) ))
	kskipped=$(kcount skipped)
	if [ -z "$summary" ] || [ "$kpassed" -eq 0 ]; then
		echo "$tier: no KUnit results from ctxmig.ko (see $kunit_ktap)" >&2
		kfailed=$((kfailed + 1))
	fi
	sed -n '/CTXMIG-VM: kmemleak begin/,/CTXMIG-VM: kmemleak end/p' "$console" |
		tr -d '\r'
fi

ktap=$(sed -n '/CTXMIG-VM: ktap begin/,/CTXMIG-VM: ktap end/p' "$console" | tr -d '\r')
# Top-level KTAP results of each selftest program ("ok N name",
# "not ok N name", "ok N name # SKIP reason").
passed=$(grep -cE '^ok [0-9]+ ' <<<"$ktap" | tr -d ' ' || true)
skipped=$(grep -cE '^ok [0-9]+ .*# SKIP' <<<"$ktap" || true)
failed=$(grep -cE '^not ok [0-9]+ ' <<<"$ktap" || true)
passed=$((passed - skipped))
# A program that died before its plan was done, or exited non-zero.
nonzero=$(grep -cE '^# exit: [^ ]+ [1-9]' <<<"$ktap" || true)
if [ "$nonzero" -gt 0 ] && [ "$failed" -eq 0 ]; then
	echo "$tier: a selftest exited non-zero without a failing result" >&2
	failed=$nonzero
fi
[ $((passed + failed + skipped)) -gt 0 ] || {
	echo "$tier: no results came back" >&2
	bad=1
}
if [ "$tier" = debug ]; then
	echo "$tier: kselftests: $passed passed, $failed failed, $skipped skipped"
	echo "$tier: kunit: $kpassed passed, $kfailed failed, $kskipped skipped"
fi
passed=$((passed + kpassed))
failed=$((failed + kfailed + bad))
skipped=$((skipped + kskipped))
line="$tier: $passed passed, $failed failed"
[ "$skipped" -eq 0 ] || line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
