#!/bin/bash
# Runs every test kind and prints one "N passed, N failed" line at the end.
# Usage: run-tests.sh CRITERION_BINS... -- STRESS_BINS... -- FUZZ_BINS...
# FUZZ_SECONDS (default 20) bounds each libFuzzer run.
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0; failures=(); details=()
mode=unit
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1 suppressions=$PWD/tests/stress/tsan.supp}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
log=build/test-logs; mkdir -p "$log"

record() { # name rc npass nfail
  passed=$((passed + $3)); failed=$((failed + $4))
  if [ "$2" != 0 ] || [ "$4" != 0 ]; then
    failures+=("$1 (rc $2, $4 failed)")
    [ "$4" = 0 ] && failed=$((failed + 1))
  fi
}

for b in "$@"; do
  if [ "$b" = "--" ]; then
    [ $mode = unit ] && mode=stress || mode=fuzz
    continue
  fi
  name=$(basename "$b")
  case $mode in
  unit)
    # The gofer suites run a second time over trans=direct (no diod).
    passes="plain"
    case $name in test_gofer|test_gofer_core|test_gofer_gaps|test_gofer_cache) passes="plain direct" ;; esac
    for pass in $passes; do
    [ $pass = direct ] && name="$(basename "$b")[direct]"
    # One job: criterion 2.4.1's runner intermittently leaks 48 bytes with --jobs 2,
    # which LeakSanitizer reports as a failure of the whole binary.
    if [ $pass = direct ]; then UVFS_GOFER_DIRECT=1 "$b" --jobs 1 >"$log/$name.log" 2>&1; rc=$?
    else "$b" --jobs 1 >"$log/$name.log" 2>&1; rc=$?; fi
    syn=$(grep -a 'Synthesis:' "$log/$name.log" | tail -1)
    np=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$syn"); nf=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$syn")
    nc=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$syn")
    np=${np:-0}; nf=$(( ${nf:-0} + ${nc:-0} ))
    [ -z "$syn" ] && nf=1
    echo "unit   $name: $np passed, $nf failed"
    if [ "$nf" != 0 ] || [ $rc != 0 ]; then
      d=$(grep -a -E '\[FAIL\]|\[----\].*(Assert|FAIL|crash|Timed out)|ERROR: |runtime error|SUMMARY:' "$log/$name.log" | head -20)
      echo "$d"; details+=("== $name" "$d")
    fi
    record "$name" $rc "$np" "$nf"
    done ;;
  stress)
    "$b" >"$log/$name.log" 2>&1; rc=$?
    if [ $rc = 0 ]; then echo "stress $name: ok ($(tail -1 "$log/$name.log"))"; record "$name" 0 1 0
    else echo "stress $name: FAILED rc=$rc"; tail -30 "$log/$name.log"
      details+=("== $name" "$(tail -15 "$log/$name.log")"); record "$name" $rc 0 1; fi ;;
  fuzz)
    corpus=tests/fuzz/corpus/$name; work=build/fuzz-work/$name
    mkdir -p "$work"; cp -r "$corpus"/. "$work"/ 2>/dev/null
    "$b" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -print_final_stats=0 "$work" >"$log/$name.log" 2>&1; rc=$?
    if [ $rc = 0 ]; then echo "fuzz   $name: ok ($(grep -a -o 'Done [0-9]* runs' "$log/$name.log" | tail -1))"; record "$name" 0 1 0
    else echo "fuzz   $name: FAILED rc=$rc"; tail -30 "$log/$name.log"
      details+=("== $name" "$(tail -15 "$log/$name.log")"); record "$name" $rc 0 1; fi ;;
  esac
done

if [ -x tests/sh/run.sh ]; then
  out=$(tests/sh/run.sh 2>&1); rc=$?
  echo "$out" | grep -v '^ok ' | sed 's/^/shell  /'
  sd=$(echo "$out" | grep -a -E '^(not ok|FAIL)' | head -20); [ -n "$sd" ] && details+=("== shell" "$sd")
  sp=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<<"$out" | tail -1)
  sf=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<<"$out" | tail -1)
  record shell $rc "${sp:-0}" "${sf:-1}"
fi

echo
# CI shows only the tail of this output: repeat what failed, and why, here.
[ ${#details[@]} -gt 0 ] && printf '%s\n' "${details[@]}"
[ ${#failures[@]} -gt 0 ] && printf 'FAILED: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
