#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# KUnit tier: overlay ctxmig onto Debian's linux-source-6.12 and run
# kunit.py (UML) with drivers/gpu/ctxmig/.kunitconfig.  The source tree and
# the build directory live in $CTXMIG_CACHE, so only the first run pays for
# a full UML build.  Ends with "kunit: N passed, N failed[, N skipped]".
set -eu

top=$(cd "$(dirname "$0")/../../.." && pwd)
cache=${CTXMIG_CACHE:-$HOME/.cache/ctxmig}
build=$cache/kunit-build
log=$cache/logs/kunit.log

cannot_run() {
	echo "kunit: cannot run: $*" >&2
	if [ "${CI:-}" = true ]; then
		echo "kunit: 0 passed, 1 failed"
		exit 1
	fi
	echo "kunit: 0 passed, 0 failed, 1 skipped"
	exit 0
}

command -v python3 >/dev/null || cannot_run "python3 is missing"
ksrc=$("$top/tools/testing/ctxmig/ksrc.sh") || cannot_run "no linux-source-6.12"
mkdir -p "$build" "$(dirname "$log")"

# Overlay: the driver, the uAPI header, and one line each in
# drivers/gpu/Kconfig and drivers/gpu/Makefile.  Idempotent.
"$top/tools/testing/ctxmig/overlay.sh" "$ksrc"

echo "kunit: kunit.py run (UML) in $build; log: $log"
echo "kunit: the first build takes several minutes, later ones are incremental"
set +e
(cd "$ksrc" && python3 tools/testing/kunit/kunit.py run \
	--kunitconfig=drivers/gpu/ctxmig --build_dir="$build" \
	--jobs="$(nproc)" --timeout=600) >"$log" 2>&1
rc=$?
set -e
# The parsed results, without the build chatter.
sed -n '/Starting KUnit Kernel\|=====\|\[PASSED\]\|\[FAILED\]\|\[SKIPPED\]\|\[CRASHED\]\|Testing complete\|ERROR\|error:/p' \
	"$log" | tail -n 200

summary=$(grep -o 'Testing complete. Ran [0-9]* tests:.*' "$log" | tail -n1 || true)
if [ -z "$summary" ]; then
	echo "kunit: kunit.py exited $rc without results; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	echo "kunit: 0 passed, 1 failed"
	exit 1
fi
count() {
	printf '%s\n' "$summary" | grep -o "$1: [0-9]*" | grep -o '[0-9]*' || echo 0
}
passed=$(count passed)
failed=$(( $(count failed) + $(count crashed) + $(count errors) ))
skipped=$(count skipped)
# kunit.py failing for another reason (e.g. a crash it could not parse)
# must not read as a pass.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
fi
line="kunit: $passed passed, $failed failed"
[ "$skipped" -eq 0 ] || line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
