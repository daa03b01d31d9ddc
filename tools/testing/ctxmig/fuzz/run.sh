#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run libFuzzer targets one after the other, each for SECONDS, and report
# per target its exec count ("Done N runs in S seconds") and corpus size,
# then "fuzz: N passed, N failed".  Called by tools.mk (check-fuzz, fuzz):
#
#   run.sh SECONDS OUT BIN:SEEDS:MAXLEN...
#
# BIN is a fuzzer binary, SEEDS the seed directory in the tree (only read:
# it is copied, without overwriting, into OUT/fuzz-corpus-<name>, where the
# corpus grows across runs), MAXLEN its -max_len.  Crash, leak and timeout
# reproducers go to OUT/fuzz-artifacts/<name>-*; a target that finds one
# fails, and its reproducer's path and the sanitizer report are printed.
set -u
secs=$1
out=$2
shift 2
arts=$out/fuzz-artifacts
passed=0
failed=0
mkdir -p "$arts" || exit 1
for spec in "$@"; do
	bin=${spec%%:*}
	rest=${spec#*:}
	seeds=${rest%%:*}
	maxlen=${rest#*:}
	name=$(basename "$bin")
	corpus=$out/fuzz-corpus-$name
	log=$out/fuzz-$name.log
	mkdir -p "$corpus"
	cp -n "$seeds"/* "$corpus"/
	# -timeout: a restore that maps GiBs in 4 KiB pages fills the reserved
	# area before -ENOSPC, ~1 s of CPU under the sanitizers; 10 s went by
	# on a loaded machine.  A real hang still fails.
	"$bin" -rss_limit_mb=2048 -timeout=30 -max_len="$maxlen" \
		-print_final_stats=1 -artifact_prefix="$arts/$name-" \
		-max_total_time="$secs" "$corpus" >"$log" 2>&1
	rc=$?
	done=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n1)
	if [ $rc -eq 0 ] && [ -n "$done" ]; then
		grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1
		echo "fuzz: $name: $done, corpus $(ls "$corpus" | wc -l) files," \
		     "$(du -sk "$corpus" | cut -f1) KiB in $corpus"
		passed=$((passed + 1))
		continue
	fi
	# The report: from the sanitizer's or the harness's first word on.
	first=$(grep -nE 'ERROR: |runtime error|broken promise|ALARM|Leak' \
		"$log" | head -n1 | cut -d: -f1)
	if [ -n "$first" ]; then
		tail -n +"$first" "$log" | head -n 100
	else
		tail -n 60 "$log"
	fi
	repro=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n1)
	echo "fuzz: $name exited $rc, log $log, reproducer ${repro:-none}"
	failed=$((failed + 1))
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
