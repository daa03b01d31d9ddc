#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu tier: a stock QEMU 10 migrates a VM with a ctxmig vGPU from one VM
# host to another.
#
#   this machine
#   +--------------------------------+   +--------------------------------+
#   | outer QEMU: host A             |   | outer QEMU: host B             |
#   | Debian 6.12 kernel, ctxmig.ko  |   | Debian 6.12 kernel, ctxmig.ko  |
#   | Debian 12 image, QEMU 10       |   | Debian 12 image, QEMU 10       |
#   |  inner QEMU (TCG), vfio-pci    |   |  inner QEMU -incoming,         |
#   |  on an mdevctl-made vGPU       |   |  vfio-pci on another vGPU      |
#   |  ctxmig_qemu: the scenarios,   |   |  command agent                 |
#   |  the guest CPU over qtest      |   |                                |
#   +---------------+----------------+   +---------------+----------------+
#                   | virtio-net  192.168.100.1 <-> .2   |
#                   +---- unix socket on this machine ---+
#
# Both hosts boot Debian's own 6.12 kernel (the VM tier's image) with an
# initramfs (host-init) that loads vfio, vfio_iommu_type1, mdev and
# ctxmig.ko and brings the test programs; their root is one cached
# debootstrap image of Debian 12 (vm/image.sh, recipe host.image) with
# QEMU 10 from bookworm-backports and mdevctl, read-only under a tmpfs
# overlay.  The hosts' only link is a socket netdev over a unix socket
# here: no packet leaves this machine.  ctxmig_qemu on host A runs the
# tests and prints KTAP; qhost.sh is each host's part.
#
# Ends with "qemu: N passed, N failed[, N skipped]".  Environment:
# CTXMIG_CACHE, KVER, QEMU_PAIRS (migrations, "SRC:DST:MODE ...", MODE
# S or bios (see qhost.sh), or "all": every ordered pair of the five
# types; default: the demo pair both ways), QEMU_FAILURES (the model of
# the failure tests, "" for none), QEMU_TIMEOUT (seconds, default 1800),
# QEMU_KEEP=1 keeps the staging directory.
#
# Another program can run on the same hosts in the tests' place:
# QEMU_MAIN, a C file whose main() drives them with the scenario
# machinery (scenario.h; make demo's is ../demo/ctxmig_demo.c, bench.sh's
# ../bench/qemu_bench.c), QEMU_ARGS
# its arguments (words; the default is the tests' from QEMU_PAIRS and
# QEMU_FAILURES), and QEMU_TIER the name its result line starts with.
set -euo pipefail

top=$(cd "$(dirname "$0")/../../../.." && pwd)
here=$top/tools/testing/ctxmig/qemu
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
kver=${KVER:-$("$top/tools/testing/ctxmig/kver.sh")}
timeout_s=${QEMU_TIMEOUT:-1800}
vmdir=$cache/vm
logs=$cache/logs
tier=${QEMU_TIER:-qemu}
main=${QEMU_MAIN:-$here/ctxmig_qemu.c}
mkdir -p "$logs"

models=(amd-gfx9 amd-gfx12 intel-gen12 nv-ampere nv-hopper)
# One guest migrates hop after hop (see ctxmig_qemu.c), so a list whose
# every pair starts where the last ended runs without a new guest.  By
# default: the demo pair both ways with the BARs programmed by the test,
# then one way after SeaBIOS assigned them.
pairs=${QEMU_PAIRS:-amd-gfx9:nv-ampere:S nv-ampere:amd-gfx9:S amd-gfx9:nv-ampere:bios}
if [ "$pairs" = all ]; then
	# Every ordered pair of the five types once, in one circuit: for
	# each step d the cycle 0, d, 2d, ... (mod 5, a prime) from
	# amd-gfx9 back to it.  Then the demo pair both ways after SeaBIOS.
	pairs=
	for d in 1 2 3 4; do
		v=0
		for _ in 1 2 3 4 5; do
			n=$(((v + d) % 5))
			pairs="$pairs ${models[v]}:${models[n]}:S"
			v=$n
		done
	done
	pairs="$pairs amd-gfx9:nv-ampere:bios nv-ampere:amd-gfx9:bios"
fi
# The failure tests run with this model on both hosts ("" skips them).
failures=${QEMU_FAILURES-amd-gfx9}

. "$top/tools/testing/ctxmig/vm/lib.sh"

command -v qemu-system-x86_64 >/dev/null || cannot_run "qemu-system-x86_64 missing"
[ -x /bin/busybox ] || cannot_run "busybox-static missing"
command -v debootstrap >/dev/null || cannot_run "debootstrap missing"
[ "$(id -u)" -eq 0 ] || cannot_run "building the hosts' image needs root"
ko=$top/ctxmig.ko
[ -f "$ko" ] || ko=$top/drivers/gpu/ctxmig/ctxmig.ko
[ -f "$ko" ] || fail "ctxmig.ko not built (run make)"
modver=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
[ "$modver" = "$kver" ] || fail "ctxmig.ko is for $modver, the hosts boot $kver"

t0=$(date +%s)
# 1. Debian's kernel (the VM tier's), and the hosts' root image.
kimage_unpack "$vmdir" "$kver" ||
	cannot_run "apt-get download linux-image-$kver-unsigned failed"
imgroot=$vmdir/image-$kver
bzimage=$imgroot/boot/vmlinuz-$kver
kconfig=$imgroot/boot/config-$kver
img=$("$top/tools/testing/ctxmig/vm/image.sh" "$here/host.image") ||
	cannot_run "no image for the VM hosts (see above)"

# Whether the hosts' kernel can report DMA logging.  ctxmig logs the
# guest pages its GPU writes for VFIO_DEVICE_FEATURE_DMA_LOGGING_* (struct
# vfio_log_ops), but the VFIO core hands a report over only with its
# iova_bitmap helpers, which a kernel has with CONFIG_IOMMUFD_DRIVER, and
# Debian's 6.12 kernel is built without: there the core answers every
# DMA_LOGGING_* feature with -ENOTTY (-25), and QEMU 10 then migrates
# the vGPU only with vfio-pci's enable-migration=on (tracking the GPU's
# writes with the type1 container's dirty bitmap) and warns that the
# device lacks dirty tracking.  On such a kernel, and only there, the
# hosts' QEMUs get that option and the tests expect that one warning; on
# a kernel that can report DMA logging QEMU needs no option at all.
[ -f "$kconfig" ] || fail "no $kconfig"
if grep -qx 'CONFIG_IOMMUFD_DRIVER=y' "$kconfig"; then
	vfio_opts=
	dma_logging=
	echo "$tier: $kver reports DMA logging: QEMU gets no vfio-pci option"
else
	vfio_opts=,enable-migration=on
	dma_logging=--no-dma-logging
	echo "$tier: $kver cannot report DMA logging (no CONFIG_IOMMUFD_DRIVER): vfio-pci enable-migration=on"
fi

# 2. The initramfs both hosts boot: busybox, the modules, the payload.
# Everything a run makes lives in its own directory, the hosts' consoles
# too, so that runs from several checkouts can share the cache at the
# same time; the consoles are copied to $logs/$tier-host-{a,b}.log (the
# last run's, for the user) as the run ends.
stage=$(mktemp -d "$cache/qemu/stage.XXXXXX")
con_a=$stage/host-a.log
con_b=$stage/host-b.log
keep_consoles() {
	cp -f "$con_a" "$logs/$tier-host-a.log" 2>/dev/null || true
	cp -f "$con_b" "$logs/$tier-host-b.log" 2>/dev/null || true
	[ "${QEMU_KEEP:-}" = 1 ] || rm -rf "$stage"
}
trap keep_consoles EXIT
root=$stage/root
mkdir -p "$root"/{bin,dev,proc,sys,modules,payload} "$stage/obj"
cp /bin/busybox "$root/bin/busybox"
cp "$here/host-init" "$root/init"
kimage_modules "$imgroot" "$kver" "$root/modules" \
	vfio vfio_iommu_type1 mdev crc32c_generic libcrc32c \
	virtio_net virtio_blk ext4 overlay
cp "$ko" "$root/modules/ctxmig.ko"

# The program, static: the guest library and the driver's model code
# through the host shim headers (as the VM tier builds them), the
# scenario machinery, the gate, qtest, QMP and socket clients, and its
# main().
guest_objs "$top" "$stage/obj" || fail "building the guest library failed"
gcc -static -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-sign-compare -Wno-missing-field-initializers \
	-I"$top/include/uapi" -I"$top/tools/testing/selftests/ctxmig" \
	-I"$here" -o "$root/payload/program" \
	"$main" "$here/scenario.c" "$here/gate.c" "$here/qtest.c" \
	"$here/qmp.c" "$here/sock.c" "${guest_objs[@]}" ||
	fail "building $(basename "$main") failed"
cp "$here/host.sh" "$here/qhost.sh" "$here/agent.sh" /bin/busybox \
	"$root/payload/"
# The firmware of MODE S (qhost.sh): 64 KiB whose reset vector halts
# (cli; hlt; jmp back to hlt).
head -c $((65536 - 16)) /dev/zero >"$root/payload/halt.bin"
printf '\372\364\353\375' >>"$root/payload/halt.bin"
head -c 12 /dev/zero >>"$root/payload/halt.bin"
# The program's arguments, each quoted for host.sh's shell.
if [ -z "${QEMU_ARGS+set}" ]; then
	args=(--pairs "$pairs")
	[ -z "$failures" ] || args+=(--failures "$failures")
else
	read -r -a args <<<"$QEMU_ARGS"
fi
[ -z "$dma_logging" ] || args+=("$dma_logging")
quoted=
for a in "${args[@]}"; do
	quoted="$quoted '$a'"
done
cat >"$root/payload/config" <<EOF
QEMU_VFIO_OPTS='$vfio_opts'
QEMU_ARGS="$quoted"
EOF
initrd=$stage/initramfs.gz
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$initrd"
tbuild=$(( $(date +%s) - t0 ))

# 3. Boot host B, then host A; their link is a unix socket here.
link=$stage/link.sock
outer() {
	local role=$1 mac=$2 server=$3 console=$4
	timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
		-machine q35 -cpu max -smp 2 -m 1024 -accel tcg \
		-kernel "$bzimage" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 oops=panic loglevel=4 quiet ctxmig.role=$role" \
		-drive "file=$img,format=raw,if=virtio,readonly=on" \
		-netdev "stream,id=link,server=$server,addr.type=unix,addr.path=$link" \
		-device "virtio-net-pci,netdev=link,mac=$mac" \
		-display none -serial "file:$console" -monitor none -no-reboot \
		</dev/null
}
echo "$tier: booting hosts A and B ($kver, QEMU $(qemu-system-x86_64 --version | head -n1 | awk '{print $4}') outside, $(sed -n 's/^qemu-system-x86 //p' "$img.manifest") inside)"
echo "$tier: consoles (when the run ends): $logs/$tier-host-a.log $logs/$tier-host-b.log; timeout ${timeout_s}s"
start=$(date +%s)
set +e
outer b 52:54:00:c7:00:02 on "$con_b" &
pid_b=$!
for _ in $(seq 100); do
	[ -S "$link" ] && break
	sleep 0.1
done
outer a 52:54:00:c7:00:01 off "$con_a"
rc_a=$?
# Host B ends when A says so; if A died first, do not wait for long.
for _ in $(seq 300); do
	kill -0 "$pid_b" 2>/dev/null || break
	sleep 0.1
done
kill "$pid_b" 2>/dev/null
wait "$pid_b"
set -e
secs=$(( $(date +%s) - start ))
echo "$tier: hosts ran ${secs}s (build ${tbuild}s); host A's QEMU exited $rc_a"

# 4. Results: the KTAP of host A, both consoles' kernel reports.
ktap=$(sed -n '/CTXMIG-HOST: ktap begin/,/CTXMIG-HOST: ktap end/p' "$con_a" |
	tr -d '\r' | { grep -v '^CTXMIG-HOST' || true; })
printf '%s\n' "$ktap"
bad=0
if [ "$rc_a" -eq 124 ] || [ "$rc_a" -eq 137 ]; then
	echo "$tier: timed out after ${timeout_s}s (hang)" >&2
	bad=1
fi
problem='Oops|BUG:|WARNING:|Kernel panic|Call Trace|general protection|KASAN|UBSAN'
for c in "$con_a" "$con_b"; do
	if grep -qE "$problem" "$c"; then
		echo "$tier: kernel reported a problem in $c:" >&2
		grep -E -A20 "$problem" "$c" | head -n 60 >&2
		bad=1
	fi
	if grep -q 'CTXMIG-HOST: insmod .* failed' "$c"; then
		grep 'CTXMIG-HOST: insmod' "$c" >&2
		bad=1
	fi
done
grep -q 'CTXMIG-HOST: a done' "$con_a" || {
	echo "$tier: host A did not reach the end of its script" >&2
	tail -n 20 "$con_a" >&2
	bad=1
}
passed=$(grep -cE '^ok [0-9]+ ' <<<"$ktap" || true)
failed=$(grep -cE '^not ok [0-9]+ ' <<<"$ktap" || true)
if grep -qE '^# exit: program [1-9]' <<<"$ktap" && [ "$failed" -eq 0 ]; then
	echo "$tier: $(basename "$main" .c) exited non-zero without a failing result" >&2
	bad=1
fi
[ $((passed + failed)) -gt 0 ] || {
	echo "$tier: no results came back" >&2
	bad=1
}
failed=$((failed + bad))
echo "$tier: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
