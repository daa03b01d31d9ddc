#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# scripts/checkpatch.pl --strict, from linux-source-6.12, over every C
# source and header of the driver, the uAPI, the selftests and the tools.
set -eu
top=$(cd "$(dirname "$0")/../../.." && pwd)
ksrc=$("$top/tools/testing/ctxmig/ksrc.sh")
cd "$top"
files=$(git ls-files 'drivers/gpu/ctxmig/*.[ch]' 'include/uapi/linux/*.h' \
	'tools/ctxmig/*.[ch]' 'tools/testing/selftests/ctxmig/*.[ch]' \
	'tools/testing/ctxmig/demo/*.c' 'tools/testing/ctxmig/qemu/*.[ch]')
# --no-tree: this is not a kernel tree; SPDX placement is checked anyway.
"$ksrc/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES -f $files
echo "checkpatch: $(echo "$files" | wc -l) files clean (--strict)"
