#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The pkg tier's VM part, run by systemd (ctxmig-test.service, which
# pkg/init installs) in a clean copy of the tier's Debian 12 image, booted
# with Debian's 6.12 kernel; /ctxmig-test holds the packages and the
# programs.  The tier boots the same disk twice (ctxmig.boot=1, then 2 on
# the kernel command line):
#   1. apt installs ctxmig-dkms and ctxmig-tools (DKMS builds the module),
#      modprobe ctxmig, mdevctl types, start and define --auto, a
#      migration between two vGPUs mdevctl made, and the module is listed
#      in /etc/modules-load.d, as an admin does to have it at boot;
#   2. after the reboot: the module loaded at boot, mdevctl started the
#      defined vGPU with its attribute, and apt purges the packages.
set -u
. /ctxmig-test/tap.sh
boot=$(sed -n 's/.*ctxmig\.boot=\([0-9]\).*/\1/p' /proc/cmdline)
t=/ctxmig-test
# The vGPUs: a transient one and one defined to start with its parent.
u1=5a1e0001-c7d1-4b5e-9a36-000000000001
u2=5a1e0002-c7d1-4b5e-9a36-000000000002
mdevs=/sys/bus/mdev/devices

echo "CTXMIG-PKG: boot $boot begin"
note "$(uname -r), PID 1 is $(cat /proc/1/comm)"
case $boot in
1)
	s=$(date +%s)
	t "apt installs ctxmig-dkms and ctxmig-tools (DKMS builds ctxmig.ko)" \
		apt-get install -y -q "$t"/ctxmig-dkms_*_all.deb \
			"$t"/ctxmig-tools_*_amd64.deb
	note "the install with its DKMS build took $(($(date +%s) - s)) s"
	v=$(dpkg-query -W -f='${Version}' ctxmig-dkms)
	t "dkms status: ctxmig $v installed for the running kernel" \
		sh -c "dkms status ctxmig | grep -qxF 'ctxmig/$v, $(uname -r), x86_64: installed'"
	t "the module, ctxmig-dump and the package say one version ($v)" \
		sh -c "test \"\$(modinfo -F version ctxmig)\" = $v &&
		       ctxmig-dump --version | grep -q '^ctxmig-dump $v,'"
	t "modprobe ctxmig" modprobe ctxmig
	t "modprobe loaded vfio, vfio_iommu_type1, mdev and libcrc32c" \
		sh -c 'for m in vfio vfio_iommu_type1 mdev libcrc32c ctxmig; do
			grep -q "^$m " /proc/modules || { echo "no $m"; exit 1; }
		done'
	t "mdevctl types: five ctxmig types, each described" \
		sh -c 'mdevctl types | tee /dev/stderr |
		       grep -c "Description: .*; vram_mib=256, va_bits=47 (max [0-9]*), ir_version=" |
		       grep -qx 5'
	t "mdevctl start -p ctxmig -t ctxmig-amd-gfx9" \
		mdevctl start -u "$u1" -p ctxmig -t ctxmig-amd-gfx9
	t "mdevctl define --auto from a JSON file (ctxmig-nv-ampere, 512 MiB)" \
		mdevctl define -u "$u2" -p ctxmig --jsonfile "$t/mdevctl-nv-ampere.json"
	t "mdevctl start of the defined vGPU, with its attribute" \
		sh -c "mdevctl start -u $u2 &&
		       test \"\$(cat $mdevs/$u2/ctxmig/vram_mib)\" = 512"
	t "mdevctl list --dumpjson holds the definition" \
		sh -c "mdevctl list --dumpjson | tee /dev/stderr | tr -d ' \n' |
		       grep -q '\"$u2\":{\"mdev_type\":\"ctxmig-nv-ampere\",\"start\":\"auto\",\"attrs\":\[{\"ctxmig/vram_mib\":\"512\"}\]}'"
	t "mdevctl list: both active" \
		sh -c "mdevctl list | tee /dev/stderr | grep -q '^$u1 ctxmig ctxmig-amd-gfx9' &&
		       mdevctl list | grep -q '^$u2 ctxmig ctxmig-nv-ampere.*(defined)'"
	t "a live migration from the amd-gfx9 vGPU to the nv-ampere one" \
		sh -c "CTXMIG_DEMO_STREAM=/tmp/stream.ir $t/ctxmig_migrate $u1 $u2 |
		       tee /dev/stderr | grep -q '^verdict: PASS'"
	t "ctxmig-dump reads the stream it moved" \
		sh -c "ctxmig-dump /tmp/stream.ir | tee /dev/stderr |
		       grep -q '^  model: *amd-gfx9'"
	t "mdevctl stop removes the transient vGPU" \
		sh -c "mdevctl stop -u $u1 && ! test -e $mdevs/$u1"
	t "ctxmig listed in /etc/modules-load.d" \
		sh -c 'echo ctxmig >/etc/modules-load.d/ctxmig.conf && sync'
	;;
2)
	t "systemd loaded ctxmig at boot" grep -q '^ctxmig ' /proc/modules
	# udev runs mdevctl's rule when the ctxmig parent registers.
	for _ in $(seq 120); do
		[ -e "$mdevs/$u2" ] && break
		sleep 0.5
	done
	t "the defined vGPU started with its parent" test -e "$mdevs/$u2"
	t "with its attribute" \
		test "$(cat "$mdevs/$u2/ctxmig/vram_mib" 2>&1)" = 512
	t "mdevctl list shows it active" \
		sh -c "mdevctl list | tee /dev/stderr | grep -q '^$u2 ctxmig ctxmig-nv-ampere.*(defined)'"
	note "mdevctl in the journal: $(journalctl -b -t mdevctl --no-pager -q 2>&1 | tail -n 5 | tr '\n' ' ')"
	t "mdevctl stop and undefine" \
		sh -c "mdevctl stop -u $u2 && mdevctl undefine -u $u2"
	t "apt purges ctxmig-dkms and ctxmig-tools" \
		apt-get purge -y -q ctxmig-dkms ctxmig-tools
	t "DKMS removed the module" \
		sh -c '! modinfo ctxmig 2>/dev/null && ! dkms status ctxmig | grep -q .'
	t "rmmod ctxmig" rmmod ctxmig
	;;
*)
	t "the kernel command line has ctxmig.boot=1 or 2" false
	;;
esac
echo "CTXMIG-PKG: boot $boot end ($tap_n checks, $tap_failed failed)"
