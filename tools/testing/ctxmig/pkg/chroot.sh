#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The pkg tier's first part, run by pkg/run.sh with chroot in a copy of
# the tier's Debian 12 image, in a fresh clone of the tree at
# /root/ctxmig: make install and make uninstall, make dkms, a kernel
# upgrade that DKMS follows, make dkms-remove.  Nothing is loaded (the
# kernel here is the test machine's): modprobe --show-depends tells what
# modprobe would load for the installed kernel; the VM part loads it.
set -u
. /ctxmig-test/tap.sh
cd /root/ctxmig

# The kernel make install builds for by default: the one
# linux-headers-6.12-amd64 names, as installed here.
kver=$(tools/testing/ctxmig/kver.sh)
up=$(cat /var/cache/ctxmig/upgrade/KVER)
note "kernel $kver; the upgrade installs $up"
ko=/lib/modules/$kver/updates/drivers/gpu/ctxmig/ctxmig.ko.xz

# resolves KVER DIR: modprobe, for kernel KVER, would load vfio,
# vfio_iommu_type1, mdev and libcrc32c, then ctxmig from DIR.
resolves() {
	local d m
	d=$(modprobe --set-version "$1" --show-depends ctxmig) || return 1
	printf '%s\n' "$d"
	for m in vfio vfio_iommu_type1 mdev libcrc32c; do
		grep -q "/$m\.ko" <<<"$d" || return 1
	done
	grep -q "^insmod $2/ctxmig\.ko" <<<"$d"
}

# -- make install, from a clone with nothing built
s=$(date +%s)
t "make install builds and installs, with no other step" make -s install
note "make install took $(($(date +%s) - s)) s"
t "ctxmig.ko is in /lib/modules/$kver/updates" test -f "$ko"
t "its version is VERSION's" test "$(modinfo -F version "$ko")" = "$(cat VERSION)"
t "modprobe resolves vfio, mdev and libcrc32c for it" \
	resolves "$kver" "${ko%/ctxmig.ko.xz}"
t "ctxmig-dump is installed in /usr/local/bin" \
	sh -c "ctxmig-dump --version | grep -q '^ctxmig-dump $(cat VERSION),'"
t "the header, the man pages and the udev rule are installed" \
	test -f /usr/local/include/linux/ctxmig.h -a \
	     -f /usr/local/share/man/man1/ctxmig-dump.1 -a \
	     -f /usr/local/share/man/man4/ctxmig.4 -a \
	     -f /etc/udev/rules.d/61-ctxmig-mdevctl.rules
t "make uninstall" make -s uninstall
t "nothing of make install is left" sh -c "
	! modprobe --set-version $kver --show-depends ctxmig 2>/dev/null &&
	! test -e $ko && ! test -e /usr/local/bin/ctxmig-dump &&
	! test -e /usr/local/include/linux/ctxmig.h &&
	! test -e /usr/local/share/man/man4/ctxmig.4 &&
	! test -e /etc/udev/rules.d/61-ctxmig-mdevctl.rules"
t "make install DESTDIR= installs there only, without depmod" sh -c "
	make -s install DESTDIR=/tmp/dest >/dev/null 2>&1 &&
	test -f /tmp/dest$ko && test -f /tmp/dest/usr/local/bin/ctxmig-dump &&
	! test -e /tmp/dest/lib/modules/$kver/modules.dep &&
	! modprobe --set-version $kver --show-depends ctxmig 2>/dev/null"

# -- make dkms, then a kernel upgrade
s=$(date +%s)
t "make dkms adds, builds and installs through dkms" make -s dkms
note "make dkms took $(($(date +%s) - s)) s"
t "dkms status: installed for $kver" \
	sh -c "dkms status ctxmig | grep -qxF 'ctxmig/$(cat VERSION), $kver, x86_64: installed'"
t "modprobe resolves the DKMS module" \
	resolves "$kver" "/lib/modules/$kver/updates/dkms"
# Without its initramfs (INITRD=No, which Debian's hook honours): not
# what is tested here, and a minute of the tier's time.
s=$(date +%s)
t "apt installs kernel $up and its headers" \
	env INITRD=No apt-get install -y -q /var/cache/ctxmig/upgrade/*.deb
note "the kernel upgrade, with its DKMS build, took $(($(date +%s) - s)) s"
t "DKMS built and installed ctxmig for $up" \
	sh -c "dkms status ctxmig | grep -qxF 'ctxmig/$(cat VERSION), $up, x86_64: installed' &&
	       modinfo -k $up -F vermagic ctxmig | grep -q '^$up '"
t "modprobe resolves it for $up" resolves "$up" "/lib/modules/$up/updates/dkms"
t "make dkms-remove" make -s dkms-remove
t "no ctxmig module is left for either kernel" sh -c "
	! modprobe --set-version $kver --show-depends ctxmig 2>/dev/null &&
	! modprobe --set-version $up --show-depends ctxmig 2>/dev/null &&
	! test -e /usr/src/ctxmig-$(cat VERSION)"
echo "# chroot: $tap_n checks, $tap_failed failed"
