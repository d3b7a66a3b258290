#!/bin/sh
# bench/profile_lookup.sh — deterministic cost of one lookup case: callgrind
# instruction counts (Ir) per uvfs_stat_at call and per function. This VM has
# no hardware perf counters and is shared/noisy; Ir/op is the stable metric
# to compare two versions of vfs/.
#
#   bench/profile_lookup.sh [case ...]      default: depth8 depth64
#
# Cases are bench_lookup case names (depth1 … depth64, mount8, negative8,
# dotdot8, symlink8, dir10, dir1M, refwalk8 …). Builds and profiles
# build/bench/portable/bench_lookup: the bench compiled without -march=native,
# since valgrind 3.19 stops on AVX-512 instructions the native build uses on
# such CPUs (`make bench` runs this after the lookup bench). Output files:
# /tmp/uvfs-cg.<case> (open with callgrind_annotate or kcachegrind).
set -e
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
BIN=build/bench/portable/bench_lookup
make -s --no-print-directory "$BIN" >/dev/null || { echo "cannot build $BIN" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 1; }
[ $# -gt 0 ] || set -- depth8 depth64
for c in "$@"; do
	out=/tmp/uvfs-cg.$c
	calls=$(BENCH_ONLY=$c BENCH_QUICK=1 valgrind --tool=callgrind --dump-instr=yes \
		--toggle-collect=uvfs_stat_at --callgrind-out-file="$out" "$BIN" 2>/dev/null |
		awk '/^uvfs_stat_at calls:/ { print $3 }')
	[ -n "$calls" ] && [ "$calls" -gt 0 ] || { echo "$c: no calls counted (unknown case?)" >&2; exit 1; }
	callgrind_annotate "$out" 2>/dev/null | awk -v c="$c" -v n="$calls" '
		/PROGRAM TOTALS/ { gsub(",", "", $1); printf "== %s: %d calls, %.0f Ir per uvfs_stat_at\n", c, n, $1 / n; go = 1; next }
		go && /^ *[0-9,]+ \(/ { v = $1; gsub(",", "", v); if (v / n >= 1) { sub(/^ *[0-9,]+ \( *[0-9.]+%\) +/, ""); sub(/ \[.*\]$/, ""); printf "%10.1f  %s\n", v / n, $0 } }
		go && /Auto-annotated/ { exit }'
done
