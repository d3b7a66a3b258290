#!/bin/bash
# make bench leaves the committed bench/results alone unless SAVE=1, has a
# quick mode, reports instructions per lookup; bench_lookup --help prints
# usage and runs nothing; profile_lookup.sh profiles a binary built without
# -march=native (valgrind 3.19 stops on the AVX-512 code a native build has).
set -u
cd "$(dirname "$0")/../.."
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; }
make -s build/bench/bench_lookup >/dev/null 2>&1 || { nok "cli-bench: cannot build bench_lookup"; exit 0; }
sum() { find bench/results -type f -exec md5sum {} + 2>/dev/null | sort; }
before=$(sum)
out=$(cd /tmp && timeout 20 "$OLDPWD/build/bench/bench_lookup" --help 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^usage: bench_lookup' <<<"$out" && grep -q -- '--quick' <<<"$out" && [ ! -e /tmp/bench/results/lookup.csv ] \
  && ok "cli-bench bench_lookup --help" || nok "cli-bench --help: rc=$rc: $(head -3 <<<"$out")"
out=$(timeout 20 build/bench/bench_lookup --frob 2>&1); rc=$?
[ $rc = 2 ] && grep -q "frob" <<<"$out" && ok "cli-bench bad argument: usage error" || nok "cli-bench bad arg: rc=$rc"

rm -rf build/bench-run
out=$(BENCH_NO_1M=1 timeout 600 make -s bench QUICK=1 BENCH_BINS=build/bench/bench_lookup BENCH_SCRIPTS= 2>&1); rc=$?
after=$(sum)
[ "$before" = "$after" ] && ok "cli-bench make bench keeps the committed results" || nok "cli-bench committed results changed"
if [ $rc = 0 ] && grep -q '^depth8,' build/bench-run/bench/results/lookup.csv 2>/dev/null; then
  ok "cli-bench results in build/bench-run"; else nok "cli-bench make bench: rc=$rc: $(tail -3 <<<"$out")"; fi
if command -v valgrind >/dev/null; then
  grep -q 'Ir per uvfs_stat_at' build/bench-run/bench/results/lookup_ir.txt 2>/dev/null \
    && ok "cli-bench instructions per lookup ($(grep -m1 'Ir per' build/bench-run/bench/results/lookup_ir.txt))" \
    || nok "cli-bench no Ir/lookup: $(tail -3 <<<"$out")"
  bin=$(sed -n 's/^cmd: *\([^ ]*\).*/\1/p' /tmp/uvfs-cg.depth8 2>/dev/null)
  prod=$(readelf --debug-dump=info "$bin" 2>/dev/null | grep 'DW_AT_producer' | head -1)
  [ -n "$bin" ] && [ -n "$prod" ] && { ! grep -q 'march=' <<<"$prod" || grep -q 'march=x86-64 ' <<<"$prod"; } \
    && ok "cli-bench profiled binary is generic x86-64 ($bin)" \
    || nok "cli-bench profiled binary: $bin: $prod"
else nok "cli-bench: valgrind missing"; fi
exit 0
