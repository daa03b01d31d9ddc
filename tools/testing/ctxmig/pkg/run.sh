#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pkg tier: ctxmig installed the ways an admin installs an out-of-tree
# module, on a clean Debian 12 system with Debian's 6.12 kernel, from a
# fresh clone of this checkout's HEAD (uncommitted changes are not in it;
# the tests themselves are the checkout's).
#
#   1. make deb in the clone: the source package, ctxmig-dkms and
#      ctxmig-tools.
#   2. In a copy of the tier's image (vm/image.sh, recipe pkg.image:
#      Debian 12 with systemd, the 6.12 kernel and headers, dkms and
#      mdevctl), with chroot: make install and make uninstall, make dkms,
#      a kernel upgrade that DKMS follows, make dkms-remove (chroot.sh).
#   3. In another clean copy, booted in QEMU (TCG) with Debian's 6.12
#      kernel and the image's systemd: apt installs the packages (DKMS
#      builds the module in the VM), modprobe, mdevctl, a migration
#      between two vGPUs mdevctl made; then a reboot of the same disk: the
#      module and the defined vGPU come up by themselves, and apt purges
#      the packages (vm.sh).
#
# Each check is one "ok N"/"not ok N" line; ends with "pkg: N passed, N
# failed[, N skipped]".  An oops, WARN, BUG or hang in the VM fails it.
# Environment: CTXMIG_CACHE, KVER (default: tools/testing/ctxmig/kver.sh),
# PKG_TIMEOUT (seconds per boot, default 1800), PKG_KEEP=1 keeps the
# run's directory (the disks, the consoles, the logs).
set -euo pipefail

top=$(cd "$(dirname "$0")/../../../.." && pwd)
here=$top/tools/testing/ctxmig/pkg
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
kver=${KVER:-$("$top/tools/testing/ctxmig/kver.sh")}
timeout_s=${PKG_TIMEOUT:-1800}
vmdir=$cache/vm
logs=$cache/logs
tier=pkg
mkdir -p "$logs" "$cache/pkg"

. "$top/tools/testing/ctxmig/vm/lib.sh"

command -v qemu-system-x86_64 >/dev/null || cannot_run "qemu-system-x86_64 missing"
[ -x /bin/busybox ] || cannot_run "busybox-static missing"
for tool in debootstrap git dpkg-buildpackage; do
	command -v "$tool" >/dev/null || cannot_run "$tool missing"
done
[ "$(id -u)" -eq 0 ] || cannot_run "the image, chroot and loop mounts need root"

t0=$(date +%s)
# Debian's kernel for the VM (the VM tier's), and the clean image.
kimage_unpack "$vmdir" "$kver" ||
	cannot_run "apt-get download linux-image-$kver-unsigned failed"
imgroot=$vmdir/image-$kver
bzimage=$imgroot/boot/vmlinuz-$kver
img=$(KVER=$kver "$top/tools/testing/ctxmig/vm/image.sh" "$here/pkg.image") ||
	cannot_run "no image for the tier (see above)"

work=$(mktemp -d "$cache/pkg/run.XXXXXX")
mnt=$work/mnt
cleanup() {
	for m in dev sys proc ""; do
		mountpoint -q "$mnt/$m" 2>/dev/null && umount "$mnt/$m"
	done
	if [ "${PKG_KEEP:-}" = 1 ]; then
		echo "$tier: kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# 1. A fresh clone, and its packages.
rev=$(git -C "$top" rev-parse HEAD)
if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
	echo "$tier: note: uncommitted changes are not tested, a clone of $rev is"
fi
git clone -q --no-checkout "$top" "$work/src"
git -C "$work/src" checkout -q "$rev"
echo "$tier: make deb in a fresh clone of $(git -C "$top" log -1 --format='%h %s' "$rev")"
make -s -C "$work/src" deb DEB_OUT="$work/deb" >"$work/deb.log" 2>&1 ||
	{ tail -n 30 "$work/deb.log" >&2; fail "make deb failed"; }
ls "$work/deb"/*.deb | sed "s|^$work/deb/|$tier:   |"

# The payload of the VM part: the packages, the scripts, mdevctl's
# example definition from the docs and ctxmig_migrate (migrate.c), a
# VFIO client, static (the guest library and the driver's model code
# through the host shim headers, as the VM tier builds it).
payload=$work/payload
mkdir -p "$payload"
cp "$work/deb"/ctxmig-dkms_*_all.deb "$work/deb"/ctxmig-tools_*_amd64.deb \
	"$here/tap.sh" "$here/vm.sh" "$here/ctxmig-test.service" \
	"$top/Documentation/gpu/ctxmig/examples/mdevctl-nv-ampere.json" \
	"$payload/"
guest_objs "$top" "$work/obj" || fail "building the guest library failed"
gcc -static -std=gnu11 -O2 -Wall -Werror -Wno-unused-parameter \
	-Wno-sign-compare -I"$top/include/uapi" \
	-I"$top/tools/testing/selftests/ctxmig" -o "$payload/ctxmig_migrate" \
	"$here/migrate.c" "${guest_objs[@]}" ||
	fail "building ctxmig_migrate failed"
tbuild=$(($(date +%s) - t0))

# 2. make install, make dkms and a kernel upgrade, in a chroot.
echo "$tier: part 1: make install, make dkms, a kernel upgrade (chroot)"
s=$(date +%s)
cp --sparse=always "$img" "$work/chroot.ext4"
mkdir -p "$mnt"
mount -o loop "$work/chroot.ext4" "$mnt"
mount -t proc proc "$mnt/proc"
mount -t sysfs sysfs "$mnt/sys"
mount --bind /dev "$mnt/dev"
# No service may start in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$mnt/usr/sbin/policy-rc.d"
chmod +x "$mnt/usr/sbin/policy-rc.d"
cp -a "$work/src" "$mnt/root/ctxmig"
mkdir -p "$mnt/ctxmig-test"
cp "$here/tap.sh" "$here/chroot.sh" "$mnt/ctxmig-test/"
set +e
# root's PATH on Debian (/etc/profile), where make install's tools are.
chroot "$mnt" /usr/bin/env -i \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
	/bin/bash /ctxmig-test/chroot.sh >"$work/chroot.log" 2>&1
set -e
for m in dev sys proc ""; do
	umount "$mnt/$m"
done
rm -f "$work/chroot.ext4"
cp "$work/chroot.log" "$logs/pkg-chroot.log"
echo "$tier: part 1 took $(($(date +%s) - s)) s (log: $logs/pkg-chroot.log)"

# 3. The packages on a clean copy, booted twice.
stage=$work/stage
mkdir -p "$stage"/{bin,dev,proc,sys,modules}
cp /bin/busybox "$stage/bin/busybox"
cp "$here/init" "$stage/init"
cp -a "$payload" "$stage/payload"
kimage_modules "$imgroot" "$kver" "$stage/modules" virtio_blk ext4
initrd=$work/initramfs.gz
(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 >"$initrd"
cp --sparse=always "$img" "$work/vm.ext4"
boot() {
	local n=$1 rc
	local con=$work/console-$n.log

	echo "$tier: part 2: boot $n of the packages' VM ($kver, systemd), timeout ${timeout_s}s"
	s=$(date +%s)
	set +e
	timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
		-machine q35 -cpu max -smp 2 -m 2048 -accel tcg \
		-kernel "$bzimage" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 oops=panic loglevel=4 quiet systemd.show_status=0 ctxmig.boot=$n" \
		-drive "file=$work/vm.ext4,format=raw,if=virtio" -nic none \
		-display none -serial "file:$con" -monitor none -no-reboot \
		</dev/null
	rc=$?
	set -e
	cp "$con" "$logs/pkg-console-$n.log"
	echo "$tier: boot $n: QEMU exited $rc after $(($(date +%s) - s)) s (console: $logs/pkg-console-$n.log)"
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || {
		echo "$tier: boot $n timed out after ${timeout_s}s (hang)" >&2
		bad=$((bad + 1))
	}
}
bad=0
boot 1
boot 2

# 4. Results.
echo "$tier: part 1 (chroot):"
grep -E '^(ok|not ok|#) ' "$work/chroot.log" || true
ktap=$(grep -E '^(ok|not ok) [0-9]+ ' "$work/chroot.log" || true)
problem='Oops|BUG:|WARNING:|Kernel panic|Call Trace|general protection|KASAN|UBSAN'
for n in 1 2; do
	con=$work/console-$n.log
	echo "$tier: part 2, boot $n:"
	out=$(sed -n "/CTXMIG-PKG: boot $n begin/,/CTXMIG-PKG: boot $n end/p" "$con" |
	      tr -d '\r' | { grep -E '^(ok|not ok|#) ' || true; })
	printf '%s\n' "$out"
	ktap=$(printf '%s\n%s\n' "$ktap" "$out")
	grep -q "CTXMIG-PKG: boot $n end" "$con" || {
		echo "$tier: boot $n did not reach the end of its script" >&2
		tail -n 30 "$con" >&2
		bad=$((bad + 1))
	}
	if grep -qE "$problem" "$con"; then
		echo "$tier: boot $n: the kernel reported a problem:" >&2
		grep -E -A20 "$problem" "$con" | head -n 60 >&2
		bad=$((bad + 1))
	fi
done
passed=$(grep -cE '^ok [0-9]+ ' <<<"$ktap" || true)
failed=$(grep -cE '^not ok [0-9]+ ' <<<"$ktap" || true)
[ $((passed + failed)) -gt 0 ] || {
	echo "$tier: no results came back" >&2
	bad=$((bad + 1))
}
echo "$tier: ran $(($(date +%s) - t0)) s (image, clone, packages and ctxmig_migrate ${tbuild} s)"
failed=$((failed + bad))
echo "$tier: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
