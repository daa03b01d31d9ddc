#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A Debian 12 root filesystem image for the tiers that boot one (qemu,
# pkg): a minimal debootstrap plus the packages a recipe names, as an ext4
# image made without mounting anything.  Built once into the recipe's
# directory and again only when the recipe, this script, the files the
# recipe names or its key_extra change; prints the image's path.
#
#   image.sh RECIPE
#
# RECIPE is a bash fragment, sourced, that sets
#   name       the image's name: the file is $dir/$name-<key>.ext4, with
#              the list of its packages in $dir/$name-<key>.ext4.manifest
#   dir        the directory it lives in
#   pkgs       (array) the packages to install, without recommends
# and may set
#   keyfiles   (array) more files whose contents are part of the key
#   key_extra  a string that is part of the key (e.g. a kernel version)
#   spare_mib  free space the image keeps for what runs write (default 64)
#   keep_docs  1: keep /usr/share/doc, man pages and locales
# and define
#   image_prepare  run before the install ($root: the tree), e.g. to add
#                  an apt source
#   image_finish   run after it, e.g. to check a version or to fetch
#                  packages for later
# Both may run commands in the tree with in_root.  $here is the recipe's
# directory, $top the checkout's top.
#
# Needs root (debootstrap, chroot) and the network the first time.
# CTXMIG_DEBIAN_MIRROR overrides the mirror (default deb.debian.org),
# CTXMIG_DEBIAN_SECURITY_MIRROR the security suite's.
set -euo pipefail

recipe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(dirname "$recipe")
top=$(cd "$(dirname "$0")/../../../.." && pwd)
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
mirror=${CTXMIG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${CTXMIG_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
export cache mirror security_mirror top here

keyfiles=()
key_extra=
spare_mib=64
keep_docs=
image_prepare() { :; }
image_finish() { :; }
# shellcheck source=/dev/null
. "$recipe"

key=$({ cat "$0" "$recipe" ${keyfiles[@]+"${keyfiles[@]}"}; echo "$key_extra"; } |
      sha256sum | cut -c1-12)
img=$dir/$name-$key.ext4
log=$dir/$name-debootstrap.log
mkdir -p "$dir"

# Runs may build side by side: one builds, the others wait.
exec 9>"$dir/.$name.lock"
flock 9
if [ -f "$img" ]; then
	printf '%s\n' "$img"
	exit 0
fi

root=$(mktemp -d "$dir/rootfs.XXXXXX")
umount_all() {
	for m in proc sys dev; do
		umount "$root/$m" 2>/dev/null || true
	done
}
cleanup() {
	umount_all
	rm -rf "$root"
}
trap cleanup EXIT

# in_root CMD...: run a shell command line in the tree, as apt would run.
in_root() {
	chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c "$*" >>"$log" 2>&1
}

failed() {
	tail -n 20 "$log" >&2
	echo "image: $name: $* failed (log: $log)" >&2
	exit 1
}

echo "image: $name: debootstrap of Debian 12 into $root (a few minutes, once)" >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$log" 2>&1 ||
	failed debootstrap
# No service may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
image_prepare || failed "preparing"
echo "image: $name: installing ${pkgs[*]}" >&2
in_root "apt-get update -q &&
	apt-get install -y -q --no-install-recommends ${pkgs[*]}" ||
	failed "installing ${pkgs[*]}"
image_finish || failed "finishing"
in_root apt-get clean
chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' >"$img.manifest"
umount_all
rm -f "$root/usr/sbin/policy-rc.d"
rm -rf "$root"/var/lib/apt/lists/*
[ -n "$keep_docs" ] ||
	rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* \
		"$root"/usr/share/locale/*

# An ext4 image of the tree, made without mounting anything; 25% and
# spare_mib MiB free for the metadata and what runs write.
mib=$(du -sm "$root" | cut -f1)
mib=$((mib + mib / 4 + spare_mib))
mke2fs -q -t ext4 -L "ctxmig-$name" -d "$root" "$img.tmp" "${mib}M" >&2
mv "$img.tmp" "$img"
# Images of earlier recipes are of no more use.
for old in "$dir/$name"-*.ext4; do
	[ "$old" = "$img" ] || rm -f "$old" "$old.manifest"
done
echo "image: $name: $(wc -l <"$img.manifest") packages, ${mib} MiB" >&2
printf '%s\n' "$img"
