#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The VM hosts' root filesystem: a minimal debootstrap of Debian 12 with
# QEMU 10 from bookworm-backports (pinned, see backports.pref) and
# mdevctl, as an ext4 image that both hosts boot read-only.  Built once
# into $CTXMIG_CACHE/qemu and again only when this script (its package
# list) or the backports files change; prints the image's path.
#
# Needs root (debootstrap, chroot) and the network the first time.
# CTXMIG_DEBIAN_MIRROR overrides the mirror (default deb.debian.org).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
mirror=${CTXMIG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
dir=$cache/qemu
# What the hosts run: the inner QEMU and mdevctl.  Everything else they
# need (busybox, the modules, ctxmig.ko, the test programs) comes with
# each boot's initramfs.
pkgs=(qemu-system-x86 mdevctl)

key=$(cat "$0" "$here/backports.sources" "$here/backports.pref" |
      sha256sum | cut -c1-12)
img=$dir/host-$key.ext4
mkdir -p "$dir"

# Runs may build side by side: one builds, the others wait.
exec 9>"$dir/.image.lock"
flock 9
if [ -f "$img" ]; then
	printf '%s\n' "$img"
	exit 0
fi

root=$(mktemp -d "$dir/rootfs.XXXXXX")
cleanup() {
	for m in proc sys dev; do
		umount "$root/$m" 2>/dev/null || true
	done
	rm -rf "$root"
}
trap cleanup EXIT

echo "image: debootstrap of Debian 12 into $root (a few minutes, once)" >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$dir/debootstrap.log" 2>&1 || {
	tail -n 20 "$dir/debootstrap.log" >&2
	echo "image: debootstrap failed (log: $dir/debootstrap.log)" >&2
	exit 1
}
install -m 0644 "$here/backports.sources" \
	"$root/etc/apt/sources.list.d/ctxmig-backports.sources"
install -m 0644 "$here/backports.pref" \
	"$root/etc/apt/preferences.d/ctxmig-backports"
# No service may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
echo "image: installing ${pkgs[*]}" >&2
chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c "
	apt-get update -q &&
	apt-get install -y -q --no-install-recommends ${pkgs[*]} &&
	apt-get clean" >>"$dir/debootstrap.log" 2>&1 || {
	tail -n 20 "$dir/debootstrap.log" >&2
	echo "image: installing ${pkgs[*]} failed (log: $dir/debootstrap.log)" >&2
	exit 1
}
ver=$(chroot "$root" qemu-system-x86_64 --version | head -n1)
case $ver in
*" version 10."*) ;;
*) echo "image: expected QEMU 10, the image has: $ver" >&2; exit 1 ;;
esac
chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' >"$img.manifest"
for m in proc sys dev; do
	umount "$root/$m"
done
rm -f "$root/usr/sbin/policy-rc.d"
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
	"$root"/usr/share/man/* "$root"/usr/share/locale/*

# An ext4 image of the tree, made without mounting anything; 25% and
# 64 MiB spare for the metadata.
mib=$(du -sm "$root" | cut -f1)
mib=$((mib + mib / 4 + 64))
mke2fs -q -t ext4 -L ctxmig-host -d "$root" "$img.tmp" "${mib}M" >&2
mv "$img.tmp" "$img"
# Images of earlier package lists are of no more use.
for old in "$dir"/host-*.ext4; do
	[ "$old" = "$img" ] || rm -f "$old" "$old.manifest"
done
echo "image: $ver, $(wc -l <"$img.manifest") packages, ${mib} MiB" >&2
printf '%s\n' "$img"
