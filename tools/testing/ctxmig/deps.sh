#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages ctxmig's build and tests need, and only
# those missing: a second run is silent and instant.
#
# It also adds Debian 12's bookworm-backports suite, pinned so that only
# QEMU 10 and the firmware it needs can come from it (qemu/backports.pref
# says why).  The qemu tier installs QEMU 10 into its VM hosts' image from
# there; this machine's own qemu-system-x86 runs the outer VMs and may be
# either Debian 12's 7.2 or 10.0.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

pkgs=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves kmod
	linux-headers-6.12-amd64 linux-source-6.12
	qemu-system-x86 busybox-static cpio xz-utils zstd rsync
	debootstrap e2fsprogs
	git debhelper dh-dkms man-db
	sparse clang llvm libclang-rt-14-dev python3
)

# The backports suite and its pin, where they are missing or differ.
apt_files=(
	"$here/qemu/backports.sources:/etc/apt/sources.list.d/ctxmig-backports.sources"
	"$here/qemu/backports.pref:/etc/apt/preferences.d/ctxmig-backports"
)
stale=()
for f in "${apt_files[@]}"; do
	cmp -s "${f%%:*}" "${f#*:}" || stale+=("$f")
done

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case $st in
	ii*) ;;
	*) missing+=("$p") ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && [ ${#stale[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}${stale:+ bookworm-backports};" \
		"run 'make deps' as root" >&2
	exit 1
fi
for f in "${stale[@]}"; do
	echo "deps: writing ${f#*:}"
	install -m 0644 "${f%%:*}" "${f#*:}"
done
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
