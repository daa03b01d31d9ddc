#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print the path of an extracted linux-source-6.12 tree under $CTXMIG_CACHE,
# extracting Debian's tarball the first time.  The tree is shared by the
# KUnit tier (which overlays ctxmig onto it), the selftests (which take
# kselftest_harness.h from it) and checkpatch.
set -e
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n1)
[ -n "$tarball" ] || { echo "ksrc: linux-source-6.12 is not installed" >&2; exit 1; }
dir=$cache/linux-source-6.12
stamp=$dir/.ctxmig-extracted
mkdir -p "$cache"
# Tiers may run side by side: one extracts, the others wait.
exec 9>"$cache/.ksrc.lock"
flock 9
if [ ! -f "$stamp" ] || [ "$tarball" -nt "$stamp" ]; then
	rm -rf "$dir"
	echo "ksrc: extracting $tarball into $cache" >&2
	tar -C "$cache" -xf "$tarball"
	touch "$stamp"
fi
printf '%s\n' "$dir"
