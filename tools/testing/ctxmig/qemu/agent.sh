#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A VM host's command agent for the qemu tier, run by "busybox nc -ll -e"
# on the hosts' private link: one command line per connection, run with
# sh; the answer is its output, then "CTXMIG-RC <exit status>".
read -r line || exit 0
sh -c "$line" </dev/null 2>&1
echo "CTXMIG-RC $?"
