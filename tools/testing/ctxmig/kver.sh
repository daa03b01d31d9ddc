#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel version Debian's linux-headers-6.12-amd64 meta package
# points at (e.g. 6.12.117+deb12-amd64).  The VM tier boots the image of
# exactly this version so that ctxmig.ko's vermagic matches.
set -e
dep=$(dpkg-query -W -f='${Depends}' linux-headers-6.12-amd64 2>/dev/null) ||
	dep=$(apt-cache depends linux-headers-6.12-amd64 2>/dev/null |
	      sed -n 's/.*Depends: //p' | head -n1)
ver=$(printf '%s\n' "$dep" | grep -o 'linux-headers-[^ ,]*-amd64' | head -n1)
[ -n "$ver" ] || exit 1
printf '%s\n' "${ver#linux-headers-}"
