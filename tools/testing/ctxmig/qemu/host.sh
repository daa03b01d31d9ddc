#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A qemu tier VM host, in its Debian root (host-init runs it).  Both
# hosts serve the command agent on the private link; host A runs the
# scenario program, whose KTAP goes to the console between markers, and
# then tells host B to finish.
set -u
role=$1
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/ctxmig
. /ctxmig/config
/ctxmig/busybox nc -ll -p 7000 -e /ctxmig/agent.sh &
if [ "$role" = b ]; then
	echo "CTXMIG-HOST: b agent ready"
	# Until host A says it is done (or the tier's hang guard ends us).
	while [ ! -f /tmp/ctxmig-done ]; do
		sleep 1
	done
	exit 0
fi
echo "CTXMIG-HOST: ktap begin"
set -- --workarounds "$QEMU_WORKAROUNDS" --pairs "$QEMU_PAIRS"
[ -z "$QEMU_FAILURES" ] || set -- "$@" --failures "$QEMU_FAILURES"
/ctxmig/ctxmig_qemu "$@" 2>&1
echo "# exit: ctxmig_qemu $?"
echo "CTXMIG-HOST: ktap end"
