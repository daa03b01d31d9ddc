#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# One VM host's side of the qemu tier: what the scenario program
# (run.sh's program) asks a host to do, locally on host A and through the
# agent on host B.  Runs in the host's Debian root; the inner QEMU is
# QEMU 10 from bookworm-backports.
#
#   qhost.sh types                    mdevctl types
#   qhost.sh mdev-start UUID MODEL    mdevctl start, type ctxmig-MODEL
#   qhost.sh mdev-stop UUID           mdevctl stop
#   qhost.sh attr UUID NAME [VALUE]   read or write ctxmig/NAME in sysfs
#   qhost.sh qemu-start NAME UUID MODE [incoming]
#                                     start an inner QEMU (see below);
#                                     UUID "none": a VM without a vGPU
#   qhost.sh qemu-kill NAME           SIGKILL it
#   qhost.sh qemu-wait NAME SECONDS   wait until it exited; print its
#                                     exit status ("running" if it did not)
#   qhost.sh fw-wait NAME SECONDS     wait for SeaBIOS to finish its POST
#   qhost.sh log NAME                 its stderr (and qtest/QMP errors)
#   qhost.sh trace NAME               its trace of the vfio device's
#                                     migration (the first estimate only)
#   qhost.sh dmesg                    the kernel log's last lines
#
# The inner QEMU: TCG (no KVM), the vGPU as "-device vfio-pci,sysfsdev=",
# QMP on TCP port 4445, qtest on 4446 (the scenario program is its guest
# CPU), the migration stream on 4444 for the destination.  MODE "S": -S
# and a firmware that only halts, so no guest code ever touches the
# device and the test programs its BARs (then lets the VM run: a CPU that
# halts); MODE "bios": SeaBIOS runs, enumerates the device and assigns its
# BARs, as on a real boot.  Both ends of a migration use the same MODE;
# a destination starts running when the migration is in.  QEMU traces,
# with its own trace events, what it reads from the vGPU's migration
# file and what the vGPU estimated was left (QMP does not say).
# QEMU_VFIO_OPTS (config): ",enable-migration=on" where the kernel cannot
# report DMA logging (see run.sh), else nothing.
set -u

. /ctxmig/config
run=/tmp/ctxmig
mkdir -p "$run"

# Wait up to $2 seconds for the command $1 to succeed.
wait_for() {
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		eval "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

qemu_start() {
	name=$1 uuid=$2 mode=$3 incoming=${4:-}
	set -- -machine pc -accel tcg -m 64M -nodefaults -no-user-config \
		-display none -monitor none -serial none \
		-qmp tcp:0.0.0.0:4445,server=on,wait=off \
		-qtest tcp:0.0.0.0:4446,server=on,wait=off,nodelay=on \
		-qtest-log none -pidfile "$run/$name.pid" \
		-D "$run/$name.trace" -trace vfio_migration_set_state \
		-trace vfio_save_block -trace vfio_save_block_precopy_empty_hit \
		-trace vfio_state_pending_estimate \
		-trace vfio_state_pending_exact \
		-chardev file,id=fw,path="$run/$name.fw" \
		-device isa-debugcon,iobase=0x402,chardev=fw
	[ "$uuid" = none ] ||
		set -- "$@" -device "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$uuid,id=gpu,addr=04.0$QEMU_VFIO_OPTS"
	case $mode in
	S) set -- "$@" -bios /ctxmig/halt.bin ;;
	bios) ;;
	*) echo "qhost: unknown mode $mode" >&2; return 2 ;;
	esac
	# A destination runs once the migration is in, as its source ran.
	if [ -n "$incoming" ]; then
		set -- "$@" -incoming tcp:0.0.0.0:4444
	elif [ "$mode" = S ]; then
		set -- "$@" -S
	fi
	rm -f "$run/$name.fw" "$run/$name.pid" "$run/$name.rc" "$run/$name.trace"
	{
		echo "qemu-system-x86_64 $*"
		qemu-system-x86_64 --version | head -n1
	} >"$run/$name.log"
	# Detached from the agent's connection (the agent's answer ends
	# when no process holds its socket), the exit status kept.
	setsid sh -c 'qemu-system-x86_64 "$@" >>"$0.log" 2>&1
		echo $? >"$0.rc"' "$run/$name" "$@" </dev/null >/dev/null 2>&1 &
	# QEMU writes its pid (for qemu-kill) once it is up.
	wait_for "[ -s '$run/$name.pid' ] || [ -f '$run/$name.rc' ]" 60
	[ -s "$run/$name.pid" ] || {
		echo "qhost: $name did not start" >&2
		cat "$run/$name.log" >&2
		return 1
	}
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
types)
	mdevctl types
	;;
mdev-start)
	mdevctl start -u "$1" -p ctxmig -t "ctxmig-$2"
	;;
mdev-stop)
	mdevctl stop -u "$1"
	;;
attr)
	f=/sys/bus/mdev/devices/$1/ctxmig/$2
	if [ $# -ge 3 ]; then
		echo "$3" >"$f"
	else
		cat "$f"
	fi
	;;
qemu-start)
	qemu_start "$@"
	;;
qemu-kill)
	[ -f "$run/$1.pid" ] && kill -9 "$(cat "$run/$1.pid")"
	;;
qemu-wait)
	if wait_for "[ -f '$run/$1.rc' ]" "$2"; then
		cat "$run/$1.rc"
	else
		echo running
	fi
	;;
fw-wait)
	wait_for "grep -q 'No bootable device' '$run/$1.fw' 2>/dev/null" "$2"
	;;
log)
	cat "$run/$1.log"
	;;
trace)
	# QEMU estimates at every iteration: the first one is enough.
	awk '/vfio_state_pending_estimate/ { if (seen++) next } { print }' \
		"$run/$1.trace"
	;;
dmesg)
	dmesg | tail -n "${1:-30}"
	;;
*)
	echo "qhost: unknown command '$cmd'" >&2
	exit 2
	;;
esac
