#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The one table of "make bench": every figure with its baseline from the
# same run, the ratio, its target and PASS or MISS, or "info" where there
# is no target.  Reads the host benches' output
# (path_bench, ir_bench, xlate_bench), the VM bench's "BENCH <key> <value>"
# and "CRC32C <driver>" lines (vm_bench.c) and the qemu tier's bench's
# "BENCH qemu_..." lines (qemu/bench.sh); prints nothing it did not find.
#
#   table.sh HOST_LOG VM_LOG [VM_SKIPPED_REASON [QEMU_LOG]]
#
# Targets:
#   data_fd save and resume       >= 0.80x read()/write() of the same bytes
#                                 in the same VM plus the kernel's CRC32C
#                                 of them (AF_ALG); the bare read()/write()
#                                 ratio is info
#   zero pages on the wire        < 1% of their size
#   pre-copy stop-copy bytes      <= 1.01x the 256 MiB figure
#   pre-copy downtime             <= 1.25x the 256 MiB figure (best of two
#                                 migrations per size under TCG: the margin
#                                 is for noise)
#   host save and restore paths   >= 0.80x memcpy() plus the CRC32C of the
#                                 same bytes, as crc32c-intel computes it
# The QEMU figures (query-migrate with and without a vGPU), the host codec
# and translator figures, and the diagnostics of the 4 GiB downtime are
# info.
#
# QEMU_LOG, when given, holds "BENCH qemu_<vgpu|plain>_<total_ms|
# downtime_ms|device_bytes> <value>" lines: QEMU's own query-migrate
# figures for the same VM with a vGPU (256 MiB VRAM, 16 MiB dirtied after
# the first pass) and without one, migrated in turn in the same run
# (bench/qemu_bench.c; each time the least of two migrations).  The VM
# without one has no device state: 0 bytes, and no ratio.
#
# Exit status: 0, or 1 if a figure is missing (a bench did not run).
set -uo pipefail

host_log=$1
vm_log=$2
vm_skip=${3:-}
qemu_log=${4:-/dev/null}

awk -v vm_skip="$vm_skip" -v qemu_given="${4:+1}" '
function fmt_ratio(r) { return sprintf("%.2fx", r) }
function row(fig, val, base, ratio, target, res) {
	printf "%-46s %13s %24s %8s %9s  %s\n", fig, val, base, ratio, target, res
	if (res == "MISS")
		miss++
	if (res == "PASS")
		pass++
}
function verdict(ok) { return ok ? "PASS" : "MISS" }
function gib(bytes, s) { return bytes / s / 1073741824 }
FNR == 1 { file++ }
file == 1 && /^path-(save|restore) / { path_b[$1] = $2; path_s[$1] = $3; path_base[$1] = $5; path_way[$1] = $8 " " $9 " " $10 " " $11 }
file == 1 && /^restore-(flat|new) / { path_b[$1] = $2; path_s[$1] = $3; path_base[$1] = $5 }
file == 1 && /^crc32c three streams / { host_crc = $4; host_crc1 = $8 }
file == 1 && /^ctxmig data_fd paths on the host: / { path_mib = $7 }
file == 1 && /^codec-random / { cr_gibs = $4; cr_vs = $5; cr_wire = $7 }
file == 1 && /^base-random / { mr_gibs = $4 }
file == 1 && /^codec-zero / { cz_gibs = $4; cz_vs = $5; cz_wire = $7 }
file == 1 && /^base-zero / { mz_gibs = $4 }
file == 1 && /against streaming/ { stream_s = $(NF - 1) }
file == 1 && /^(4K|2M) / {
	npairs[$1]++
	pair_s[$1, npairs[$1]] = $4
}
file == 2 && /^BENCH / { b[$2] = $3 }
file == 2 && /^CRC32C / { crc_driver = $2 }
file == 3 && /^BENCH qemu_/ { q[$2] = $3 }
function precopy_rows(m, ref,    sb, dt, rb, rd, rdt, rname) {
	sb = b["precopy_" m "_stop_bytes"]
	dt = b["precopy_" m "_downtime_s"]
	rb = sb / b["precopy_" ref "_stop_bytes"]
	row(sprintf("pre-copy %d MiB VRAM: stop-copy bytes", m),
	    sprintf("%d B", sb),
	    m == ref ? "(reference)" : sprintf("%d MiB: %d B", ref, b["precopy_" ref "_stop_bytes"]),
	    fmt_ratio(rb), m == ref ? "-" : "<= 1.01x",
	    m == ref ? "ref" : verdict(rb <= 1.01))
	# A reference migrated in turn with this size, if there is one.
	rdt = b["precopy_" ref "_downtime_s"]
	rname = sprintf("%d MiB: %.3f s", ref, rdt)
	if (("precopy_" m "_ref_downtime_s") in b) {
		rdt = b["precopy_" m "_ref_downtime_s"]
		rname = sprintf("%d MiB in turn: %.3f s", ref, rdt)
	}
	rd = dt / rdt
	row(sprintf("pre-copy %d MiB VRAM: downtime", m),
	    sprintf("%.3f s", dt), m == ref ? "(reference)" : rname,
	    fmt_ratio(rd), m == ref ? "-" : "<= 1.25x",
	    m == ref ? "ref" : verdict(rd <= 1.25))
}
END {
	printf "%-46s %13s %24s %8s %9s  %s\n", "figure", "value", "baseline",
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
		    sprintf("read()+crc32c %.3f GiB/s", gib(n, b["save_base_s"])),
		    fmt_ratio(b["save_base_s"] / b["save_s"]), ">= 0.80x",
		    verdict(b["save_base_s"] / b["save_s"] >= 0.8))
		row("  the same against read() alone",
		    sprintf("%.3f GiB/s", gib(n, b["save_s"])),
		    sprintf("read() %.3f GiB/s", gib(n, b["save_read_s"])),
		    fmt_ratio(b["save_read_s"] / b["save_s"]), "-", "info")
		row("data_fd resume, amd-gfx9 -> nv-ampere",
		    sprintf("%.3f GiB/s", gib(n, b["resume_s"])),
		    sprintf("write()+crc32c %.3f GiB/s", gib(n, b["resume_base_s"])),
		    fmt_ratio(b["resume_base_s"] / b["resume_s"]), ">= 0.80x",
		    verdict(b["resume_base_s"] / b["resume_s"] >= 0.8))
		row("  the same against write() alone",
		    sprintf("%.3f GiB/s", gib(n, b["resume_s"])),
		    sprintf("write() %.3f GiB/s", gib(n, b["resume_write_s"])),
		    fmt_ratio(b["resume_write_s"] / b["resume_s"]), "-", "info")
		row(sprintf("kernel crc32c (%s), AF_ALG", crc_driver),
		    sprintf("%.3f GiB/s", gib(n, b["crc_s"])),
		    sprintf("read() %.3f GiB/s", gib(n, b["save_read_s"])),
		    fmt_ratio(b["save_read_s"] / b["crc_s"]), "-", "info")
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
		ref = order[1]
		for (i = 1; i <= ns; i++)
			precopy_rows(order[i], ref)
		printf "  (pre-copy: every guest VRAM page populated, %d MiB rewritten after the first pass)\n",
		       b["dirty_bytes"] / 1048576
		# The pre-copy downtime, taken apart: the driver time in it, and
		# the 4 GiB source with few pages present.
		top = order[ns]
		for (i = 1; i <= ns; i++) {
			m = order[i]
			if (!(("precopy_" m "_driver_s") in b))
				continue
			dr = b["precopy_" m "_driver_s"]
			row(sprintf("  driver time in the %d MiB downtime", m),
			    sprintf("%.3f s", dr),
			    sprintf("downtime %.3f s", b["precopy_" m "_downtime_s"]),
			    fmt_ratio(dr / b["precopy_" m "_downtime_s"]), "-", "info")
		}
		if (("precopy_" top "_few_downtime_s") in b) {
			dt = b["precopy_" top "_few_downtime_s"]
			row(sprintf("  %d MiB VRAM, %d MiB present: downtime", top,
				    b["precopy_" top "_few_populated_bytes"] / 1048576),
			    sprintf("%.3f s", dt),
			    sprintf("all present: %.3f s", b["precopy_" top "_downtime_s"]),
			    fmt_ratio(dt / b["precopy_" top "_downtime_s"]), "-", "info")
			printf "  (the same VRAM size, stop-copy and dirty set, few pages present, migrated in turn)\n"
		}
	}
	# QEMU 10 query-migrate, a VM with a vGPU against one without.
	split("total_ms downtime_ms device_bytes", qk, " ")
	split("total time|downtime|device-state bytes", qn, "|")
	if (!("qemu_vgpu_total_ms" in q)) {
		printf "QEMU query-migrate, vGPU vs none: not measured%s\n",
		       qemu_given ? ": the QEMU bench did not report (see its log)" : " (no QEMU bench log)"
		if (qemu_given)
			missing = 1
	} else {
		for (i = 1; i <= 3; i++) {
			qv = q["qemu_vgpu_" qk[i]]
			qw = q["qemu_plain_" qk[i]]
			row(sprintf("QEMU migrate, 256 MiB vGPU: %s", qn[i]),
			    sprintf(i == 3 ? "%d B" : "%d ms", qv),
			    sprintf(i == 3 ? "no vGPU: %d B" : "no vGPU: %d ms", qw),
			    qw ? fmt_ratio(qv / qw) : "-", "-", "info")
		}
	}
	if (!("path-save" in path_s)) {
		printf "host figures: MISSING, the host benches did not report\n"
		missing = 1
	} else {
		split("path-save path-restore", pk, " ")
		pn[1] = sprintf("host save path, %d MiB random VRAM", path_mib)
		pn[2] = "host restore path, amd-gfx9 -> nv-ampere"
		for (i = 1; i <= 2; i++) {
			k = pk[i]
			r = path_base[k] / path_s[k]
			row(pn[i], sprintf("%.2f GiB/s", gib(path_b[k], path_s[k])),
			    sprintf("memcpy+crc32c %.2f GiB/s", gib(path_b[k], path_base[k])),
			    fmt_ratio(r), ">= 0.80x", verdict(r >= 0.8))
		}
		split("restore-flat restore-new", ik, " ")
		in_[1] = "  the same against a copy to stream offsets"
		in_[2] = "  the same against a copy into new pages"
		ib[1] = "flat copy"
		ib[2] = "new pages"
		for (i = 1; i <= 2; i++) {
			k = ik[i]
			if (!(k in path_s))
				continue
			row(in_[i], sprintf("%.2f GiB/s", gib(path_b[k], path_s[k])),
			    sprintf("%s %.2f GiB/s", ib[i], gib(path_b[k], path_base[k])),
			    fmt_ratio(path_base[k] / path_s[k]), "-", "info")
		}
		printf "  (host crc32c: %s GiB/s in three streams as crc32c-intel, %s GiB/s in one)\n",
		       host_crc, host_crc1
		row("host codec, 1 GiB random VRAM", cr_gibs " GiB/s",
		    "2x copy+CRC " mr_gibs " GiB/s", cr_vs "x", "-", "info")
		row("host codec, 1 GiB zero VRAM", cz_gibs " GiB/s",
		    "2x copy+CRC " mz_gibs " GiB/s", cz_vs "x", "-", "info")
		split("4K 2M", kinds, " ")
		for (ki = 1; ki <= 2; ki++) {
			k = kinds[ki]
			if (!(k in npairs))
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
}' "$host_log" "$vm_log" "$qemu_log"
