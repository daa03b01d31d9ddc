#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host tier: run each host test program given before "--", then the command
# after it (the bounded fuzz run), and sum every "<name>: N passed, N failed"
# line they print into one "host: N passed, N failed".
set -u
passed=0
failed=0
tally() {
	# $1: output file, $2: exit status, $3: what ran
	line=$(grep -E '^[a-z_-]+: [0-9]+ passed, [0-9]+ failed' "$1" | tail -n1)
	if [ -z "$line" ]; then
		echo "host: $3 exited $2 without a result line" >&2
		failed=$((failed + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "host: $3 exited $2 after reporting no failure" >&2
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	"$1" >"$out" 2>&1
	rc=$?
	cat "$out"
	tally "$out" "$rc" "$1"
	shift
done
if [ $# -gt 0 ]; then
	shift
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	tally "$out" "$rc" "$*"
fi
echo "host: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
