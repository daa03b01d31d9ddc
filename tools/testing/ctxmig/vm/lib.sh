# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the tiers that boot Debian's own 6.12 kernel (vm/run.sh,
# qemu/run.sh, pkg/run.sh): their verdicts when they cannot run, its image,
# its modules for an initramfs, and the guest library for the programs
# they run.

# cannot_run MSG: the tier $tier cannot run here: skipped, or failed under
# CI=true (a skip is never a pass).  fail MSG: it failed before its tests.
cannot_run() {
	echo "$tier: cannot run: $*" >&2
	if [ "${CI:-}" = true ]; then
		echo "$tier: 0 passed, 1 failed"
		exit 1
	fi
	echo "$tier: 0 passed, 0 failed, 1 skipped"
	exit 0
}

fail() {
	echo "$tier: $*" >&2
	echo "$tier: 0 passed, 1 failed"
	exit 1
}

# kimage_unpack VMDIR KVER: unpack linux-image-KVER-unsigned (taken with
# apt-get download, never installed) into VMDIR/image-KVER once per
# version, with its modules.dep.  Returns non-zero if the package cannot
# be had.
kimage_unpack() {
	local vmdir=$1 kver=$2
	local imgroot=$vmdir/image-$kver pkg=linux-image-$kver-unsigned

	[ -f "$imgroot/.ctxmig-unpacked" ] && return 0
	mkdir -p "$vmdir"
	# Tiers may run side by side: one unpacks, the others wait.
	(
		flock 9
		[ -f "$imgroot/.ctxmig-unpacked" ] && exit 0
		echo "kimage: fetching $pkg" >&2
		rm -rf "$imgroot" "$vmdir/deb"
		mkdir -p "$vmdir/deb"
		(cd "$vmdir/deb" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
			(apt-get update -q >/dev/null 2>&1 &&
			 cd "$vmdir/deb" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
			exit 1
		dpkg -x "$vmdir"/deb/"$pkg"_*.deb "$imgroot"
		rm -rf "$vmdir/deb"
		depmod -b "$imgroot" "$kver"
		touch "$imgroot/.ctxmig-unpacked"
	) 9>"$vmdir/.kimage.lock"
}

# kimage_modules IMGROOT KVER DEST MODULE...: copy MODULEs and what they
# need, decompressed, into DEST, and their load order into DEST/order.
# modprobe resolves the order (hard dependencies and softdeps, such as
# libcrc32c's crc32c) from the image's own modules.dep.
kimage_modules() {
	local imgroot=$1 kver=$2 dest=$3 m path name
	shift 3

	mkdir -p "$dest"
	: >"$dest/order"
	for m in "$@"; do
		modprobe -d "$imgroot" -S "$kver" --show-depends "$m" |
			awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r path; do
		name=$(basename "$path")
		name=${name%.xz}
		name=${name%.zst}
		case $path in
		*.xz) xz -dc "$path" >"$dest/$name" ;;
		*.zst) zstd -qdc "$path" >"$dest/$name" ;;
		*) cp "$path" "$dest/$name" ;;
		esac
		echo "$name" >>"$dest/order"
	done
}

# guest_objs TOP OUTDIR: compile the kselftests' guest library and the
# driver's pure logic (every model, without naming one, as host.mk's
# LOGIC_SRCS) for a static program, through the host shim headers; the
# objects' paths go to the array guest_objs.  Returns non-zero if one
# fails to build.
guest_objs=()
guest_objs() {
	local top=$1 out=$2 src obj werror
	local cflags=(-static -std=gnu11 -O2 -Wall -Wextra
		-Wno-unused-parameter -Wno-sign-compare
		-Wno-missing-field-initializers
		-I"$top/tools/testing/ctxmig/include" -I"$top/include/uapi"
		-I"$top/drivers/gpu/ctxmig")
	local srcs=("$top/tools/testing/selftests/ctxmig/guest.c")

	for src in "$top"/drivers/gpu/ctxmig/ctxmig_*.c; do
		case ${src##*/} in
		ctxmig_main.c | ctxmig_vfio*.c) ;;
		*) srcs+=("$src") ;;
		esac
	done
	srcs+=("$top/tools/testing/ctxmig/crc32c.c"
	       "$top/tools/testing/ctxmig/xarray.c")
	mkdir -p "$out"
	guest_objs=()
	for src in "${srcs[@]}"; do
		obj=$out/$(basename "${src%.c}").o
		werror=()
		[ "${src##*/}" != guest.c ] || werror=(-Werror)
		gcc "${cflags[@]}" "${werror[@]}" -c -o "$obj" "$src" || {
			echo "building $(basename "$src") failed" >&2
			return 1
		}
		guest_objs+=("$obj")
	done
}
