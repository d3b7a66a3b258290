#!/bin/bash
# Shell-level tests: every tests/sh/t_*.sh is run with the built CLI in $UVFS.
# Each script prints "ok NAME" or "not ok NAME: why" lines; this prints the total.
set -u
cd "$(dirname "$0")/../.."
export UVFS=$PWD/build/uvfs
p=0; f=0
for t in tests/sh/t_*.sh; do
  [ -e "$t" ] || continue
  out=$(bash "$t" 2>&1); rc=$?
  echo "$out"
  p=$((p + $(grep -c '^ok ' <<<"$out")))
  f=$((f + $(grep -c '^not ok ' <<<"$out")))
  if [ $rc != 0 ] && ! grep -q '^not ok ' <<<"$out"; then echo "not ok $t: exit $rc"; f=$((f+1)); fi
done
echo "$p passed, $f failed"
[ $f = 0 ]
