#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages ctxmig's build and tests need, and only
# those missing: a second run is silent and instant.
set -eu

pkgs=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves kmod
	linux-headers-6.12-amd64 linux-source-6.12
	qemu-system-x86 busybox-static cpio xz-utils zstd rsync
	sparse clang llvm libclang-rt-14-dev python3
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case $st in
	ii*) ;;
	*) missing+=("$p") ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
