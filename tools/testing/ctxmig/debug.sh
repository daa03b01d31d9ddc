#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debug-kernel tier: build an x86_64 kernel from linux-source-6.12 (out of
# tree, O=$CTXMIG_CACHE/debug-build) with KASAN, lockdep, kmemleak,
# DEBUG_ATOMIC_SLEEP and KUnit (tools/testing/ctxmig/vm/debug.config), with
# ctxmig overlaid and built in the tree as a module that carries its KUnit
# suites; then boot it with vm/run.sh (VM_KERNEL=debug), which runs the
# kselftests and the KUnit suites and fails on any KASAN, lockdep or
# kmemleak report.
#
# The build is skipped when neither the fragment, ctxmig's sources nor the
# compiler changed since the last one (a hash in the build directory); a
# change rebuilds incrementally.
#
# Ends with "debug: N passed, N failed[, N skipped]".
set -euo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
build=$cache/debug-build
modroot=$cache/debug-modroot
frag=$top/tools/testing/ctxmig/vm/debug.config
log=$cache/logs/debug-build.log
mkdir -p "$build" "$(dirname "$log")"

cannot_run() {
	echo "debug: cannot run: $*" >&2
	if [ "${CI:-}" = true ]; then
		echo "debug: 0 passed, 1 failed"
		exit 1
	fi
	echo "debug: 0 passed, 0 failed, 1 skipped"
	exit 0
}

fail() {
	echo "debug: $*" >&2
	echo "debug: 0 passed, 1 failed"
	exit 1
}

for tool in gcc make bc flex bison rsync depmod; do
	command -v "$tool" >/dev/null || cannot_run "$tool is missing"
done
ksrc=$("$top/tools/testing/ctxmig/ksrc.sh") || cannot_run "no linux-source-6.12"
"$top/tools/testing/ctxmig/overlay.sh" "$ksrc"

kmake() {
	nice -n 10 make -C "$ksrc" O="$build" -j"$(nproc)" "$@"
}

# What the build depends on beyond the kernel source itself.
cfg_hash=$(cat "$frag" "$top/drivers/gpu/ctxmig/Kconfig" | sha256sum | cut -c1-16)
src_hash=$( (echo "$cfg_hash"; gcc --version | head -n1
	cd "$top" && find drivers/gpu/ctxmig include/uapi/linux/ctxmig.h \
		-type f \( -name '*.[ch]' -o -name Kconfig -o -name Makefile \) |
		LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-16)

# 1. Configuration: allnoconfig plus the fragment, then every option the
# fragment sets must have its value in .config.
if [ "$(cat "$build/.ctxmig-config" 2>/dev/null)" != "$cfg_hash" ] ||
   [ ! -f "$build/.config" ]; then
	echo "debug: configuring $build from $frag"
	rm -f "$build/.ctxmig-built"
	kmake KCONFIG_ALLCONFIG="$frag" allnoconfig >"$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; fail "allnoconfig failed"; }
	missing=()
	while read -r want; do
		grep -qxF "$want" "$build/.config" || missing+=("$want")
	done < <(grep -E '^(CONFIG_[A-Z0-9_]+=|# CONFIG_[A-Z0-9_]+ is not set)' "$frag")
	if [ ${#missing[@]} -ne 0 ]; then
		echo "debug: these options of $frag did not survive:" >&2
		for want in "${missing[@]}"; do
			sym=$(sed -E 's/^# //; s/[= ].*//' <<<"$want")
			echo "  want '$want', got '$(grep -E "^$sym=|^# $sym is not set" \
				"$build/.config" || echo absent)'" >&2
		done
		fail "kernel configuration incomplete"
	fi
	echo "$cfg_hash" >"$build/.ctxmig-config"
fi

# 2. The kernel and its modules, then a module tree for the initramfs.
if [ "$(cat "$build/.ctxmig-built" 2>/dev/null)" != "$src_hash" ] ||
   [ ! -f "$build/arch/x86/boot/bzImage" ]; then
	echo "debug: building the debug kernel in $build (nice, $(nproc) jobs); log: $log"
	start=$(date +%s)
	kmake bzImage modules >>"$log" 2>&1 ||
		{ grep -E 'error|Error' "$log" | head -n 30 >&2; fail "kernel build failed"; }
	rm -rf "$modroot"
	kmake INSTALL_MOD_PATH="$modroot" modules_install >>"$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; fail "modules_install failed"; }
	echo "debug: kernel built in $(( $(date +%s) - start ))s"
	echo "$src_hash" >"$build/.ctxmig-built"
else
	echo "debug: debug kernel up to date in $build"
fi

VM_KERNEL=debug exec "$top/tools/testing/ctxmig/vm/run.sh"
