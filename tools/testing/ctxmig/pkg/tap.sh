# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the pkg tier's test scripts (chroot.sh, vm.sh): one result
# line per check, "ok N what" or "not ok N what" followed by the check's
# output as comments; pkg/run.sh counts them.
tap_n=0
tap_failed=0

# t WHAT CMD...: one check, passed if CMD exits 0.
t() {
	local what=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	tap_n=$((tap_n + 1))
	if [ "$rc" -eq 0 ]; then
		echo "ok $tap_n $what"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n $what (exit $rc)"
		printf '%s\n' "$out" | tail -n 30 | sed 's/^/# /'
	fi
	return "$rc"
}

# note TEXT: a comment line.
note() {
	echo "# $*"
}
