#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The one table of "make bench": every figure with the ratio that matters,
# its target (issue 5, point 6) and PASS or MISS.  Reads the host benches'
# output (ir_bench, xlate_bench) and the VM bench's "BENCH <key> <value>"
# lines (vm_bench.c); prints nothing it did not find.
#
#   table.sh HOST_LOG VM_LOG [VM_SKIPPED_REASON]
#
# Targets:
#   data_fd save and resume       >= 0.80x the plain read()/write() of the
#                                 same bytes in the same VM
#   zero pages on the wire        < 1% of their size
#   pre-copy stop-copy bytes      <= 1.01x the 256 MiB figure
#   pre-copy downtime             <= 1.25x the 256 MiB figure (one run per
#                                 size under TCG: the margin is for noise)
# Host codec and translator figures have no target: "info".
# Exit status: 0, or 1 if a figure is missing (a bench did not run).
set -uo pipefail

host_log=$1
vm_log=$2
vm_skip=${3:-}

awk -v vm_skip="$vm_skip" '
function fmt_ratio(r) { return sprintf("%.2fx", r) }
function row(fig, val, base, ratio, target, res) {
	printf "%-44s %13s %20s %8s %9s  %s\n", fig, val, base, ratio, target, res
	if (res == "MISS")
		miss++
	if (res == "PASS")
		pass++
}
function verdict(ok) { return ok ? "PASS" : "MISS" }
function gib(bytes, s) { return bytes / s / 1073741824 }
FNR == 1 { file++ }
file == 1 && /^codec-random / { cr_gibs = $4; cr_vs = $5; cr_wire = $7 }
file == 1 && /^memcpy-random / { mr_gibs = $4 }
file == 1 && /^codec-zero / { cz_gibs = $4; cz_vs = $5; cz_wire = $7 }
file == 1 && /^memcpy-zero / { mz_gibs = $4 }
file == 1 && /against streaming/ { stream_s = $(NF - 1) }
file == 1 && /^(4K|2M) / {
	npairs[$1]++
	pair_s[$1, npairs[$1]] = $4
	if (!($1 in worst) || $5 > worst[$1]) {
		worst[$1] = $5; worst_s[$1] = $4; worst_pair[$1] = $2 "->" $3
	}
}
file == 2 && /^BENCH / { b[$2] = $3 }
END {
	printf "%-44s %13s %20s %8s %9s  %s\n", "figure", "value", "baseline",
	       "ratio", "target", "result"
	if (vm_skip != "") {
		printf "VM figures: SKIPPED, the VM could not run: %s\n", vm_skip
		skipped = 1
	} else if (!("save_s" in b)) {
		printf "VM figures: MISSING, the VM bench did not report (see its log)\n"
		missing = 1
	} else {
		n = b["stream_bytes"]
		row(sprintf("data_fd save, %d MiB random VRAM", b["stream_data_bytes"] / 1048576),
		    sprintf("%.3f GiB/s", gib(n, b["save_s"])),
		    sprintf("read() %.3f GiB/s", gib(n, b["save_base_s"])),
		    fmt_ratio(b["save_base_s"] / b["save_s"]), ">= 0.80x",
		    verdict(b["save_base_s"] / b["save_s"] >= 0.8))
		row("data_fd resume, amd-gfx9 -> nv-ampere",
		    sprintf("%.3f GiB/s", gib(n, b["resume_s"])),
		    sprintf("write() %.3f GiB/s", gib(n, b["resume_base_s"])),
		    fmt_ratio(b["resume_base_s"] / b["resume_s"]), ">= 0.80x",
		    verdict(b["resume_base_s"] / b["resume_s"] >= 0.8))
		row(sprintf("sparse: stream of %d MiB VRAM, %d MiB used",
			    b["sparse_guest_bytes"] / 1048576,
			    b["sparse_data_bytes"] / 1048576),
		    sprintf("%d B", b["sparse_stream_bytes"]),
		    sprintf("data %d B", b["sparse_data_bytes"]),
		    sprintf("%.4fx", b["sparse_stream_bytes"] / b["sparse_data_bytes"]),
		    "-", "info")
		pages = b["zero_bytes"] / 4096
		r = b["zero_full_bytes"] / b["zero_bytes"]
		row(sprintf("zero pages, full save (%d MiB)", b["zero_bytes"] / 1048576),
		    sprintf("%.3f B/page", b["zero_full_bytes"] / pages), "4096 B/page",
		    sprintf("%.4f%%", 100 * r), "< 1%", verdict(r < 0.01))
		r = b["zero_dirty_bytes"] / b["zero_bytes"]
		row(sprintf("zero pages, pre-copy dirty pass (%d MiB)", b["zero_bytes"] / 1048576),
		    sprintf("%.3f B/page", b["zero_dirty_bytes"] / pages), "4096 B/page",
		    sprintf("%.4f%%", 100 * r), "< 1%", verdict(r < 0.01))
		ref = ""
		ns = 0
		for (k in b)
			if (k ~ /^precopy_[0-9]+_stop_bytes$/) {
				split(k, p, "_")
				order[++ns] = p[2] + 0
			}
		for (i = 2; i <= ns; i++)	# insertion sort, for mawk
			for (j = i; j > 1 && order[j - 1] > order[j]; j--) {
				t = order[j]; order[j] = order[j - 1]; order[j - 1] = t
			}
		for (i = 1; i <= ns; i++) {
			m = order[i]
			if (ref == "")
				ref = m
			sb = b["precopy_" m "_stop_bytes"]
			dt = b["precopy_" m "_downtime_s"]
			if (!(m in done_bytes)) {
				rb = sb / b["precopy_" ref "_stop_bytes"]
				row(sprintf("pre-copy %d MiB VRAM: stop-copy bytes", m),
				    sprintf("%d B", sb),
				    m == ref ? "(reference)" : sprintf("%d MiB: %d B", ref, b["precopy_" ref "_stop_bytes"]),
				    fmt_ratio(rb), m == ref ? "-" : "<= 1.01x",
				    m == ref ? "ref" : verdict(rb <= 1.01))
				rd = dt / b["precopy_" ref "_downtime_s"]
				row(sprintf("pre-copy %d MiB VRAM: downtime", m),
				    sprintf("%.3f s", dt),
				    m == ref ? "(reference)" : sprintf("%d MiB: %.3f s", ref, b["precopy_" ref "_downtime_s"]),
				    fmt_ratio(rd), m == ref ? "-" : "<= 1.25x",
				    m == ref ? "ref" : verdict(rd <= 1.25))
				done_bytes[m] = 1
			}
		}
		printf "  (pre-copy: every guest VRAM page populated, %d MiB rewritten after the first pass)\n",
		       b["dirty_bytes"] / 1048576
	}
	if (cr_gibs == "") {
		printf "host figures: MISSING, the host benches did not report\n"
		missing = 1
	} else {
		row("host codec, 1 GiB random VRAM", cr_gibs " GiB/s",
		    "memcpy " mr_gibs " GiB/s", cr_vs "x", "-", "info")
		row("host codec, 1 GiB zero VRAM", cz_gibs " GiB/s",
		    "memcpy " mz_gibs " GiB/s", cz_vs "x", "-", "info")
		split("4K 2M", kinds, " ")
		for (ki = 1; ki <= 2; ki++) {
			k = kinds[ki]
			if (!(k in worst_s))
				continue
			n = npairs[k]
			for (i = 1; i <= n; i++)
				v[i] = pair_s[k, i]
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
					t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
				}
			med = v[int((n + 1) / 2)]
			row(sprintf("host PT translation, 1 GiB in %s pages", k),
			    med " s", "stream " stream_s " s",
			    sprintf("%.3fx", med / stream_s), "-", "info")
		}
		printf "  (translation: save + restore of the page tables, median of the %d model pairs)\n", npairs["4K"]
	}
	printf "bench: %d PASS, %d MISS%s\n", pass, miss,
	       skipped ? ", VM figures SKIPPED" : (missing ? ", figures MISSING" : "")
	exit missing ? 1 : 0
}' "$host_log" "$vm_log"
