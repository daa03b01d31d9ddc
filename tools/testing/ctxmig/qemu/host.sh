#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A qemu tier VM host, in its Debian root (host-init runs it).  Both
# hosts serve the command agent on the private link; host A runs the
# program (run.sh's QEMU_MAIN, the tests by default), whose KTAP goes to
# the console between markers, and then tells host B to finish.
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
eval "set -- $QEMU_ARGS"
/ctxmig/program "$@" 2>&1
echo "# exit: program $?"
echo "CTXMIG-HOST: ktap end"
