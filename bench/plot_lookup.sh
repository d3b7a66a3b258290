#!/bin/sh
# bench/plot_lookup.sh — draw bench/results/lookup_depth.png from lookup.csv.
# Called by build/bench/bench_lookup; run from the repository root.
set -e
cd "$(dirname "$0")/.."
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "gnuplot not found: skipping bench/results/lookup_depth.png" >&2
	exit 0
fi
[ -f bench/results/lookup.csv ] || { echo "no bench/results/lookup.csv" >&2; exit 1; }
gnuplot bench/lookup_depth.gp
