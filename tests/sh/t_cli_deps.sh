#!/bin/bash
# make run installs only what the build and the demo need; make check adds
# the test tools. Every pkg-config module the library/CLI build links comes
# from a package in the run list.
set -u
cd "$(dirname "$0")/../.."
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; }
run=$(scripts/deps.sh --list run 2>&1) || { nok "cli-deps --list run: $run"; exit 0; }
check=$(scripts/deps.sh --list check 2>&1) || { nok "cli-deps --list check: $check"; exit 0; }
extra=""
for p in $run; do grep -qw -- "$p" <<<"$check" || extra="$extra $p"; done
[ -z "$extra" ] && ok "cli-deps run list is part of the check list" || nok "cli-deps run-only packages:$extra"
heavy=""
# diod is the gofer of the demo's host tree (make run), so it is in both lists.
for p in libcriterion-dev clang dbench postmark fio runc; do grep -qw -- "$p" <<<"$run" && heavy="$heavy $p"; done
[ -z "$heavy" ] && ok "cli-deps run list has no test tools" || nok "cli-deps run list has test tools:$heavy"
grep -qw diod <<<"$run" && ok "cli-deps run list has diod (the demo's gofer)" || nok "cli-deps run list lacks diod: make run shows the host tree through it"
missing=""
for m in liburcu-memb liburcu-cds libxxhash libcrypto fuse3 jansson; do
  pc=$(pkg-config --variable=pcfiledir "$m" 2>/dev/null)/$m.pc
  owner=$(dpkg -S "$(readlink -f "$pc")" 2>/dev/null | head -1 | cut -d: -f1)
  [ -n "$owner" ] && grep -qw -- "$owner" <<<"$run" || missing="$missing $m($owner)"
done
[ -z "$missing" ] && ok "cli-deps the build's pkg-config modules come from the run list" || nok "cli-deps not in run list:$missing"
mr=$(make -n run 2>/dev/null | grep deps.sh); mc=$(make -n check 2>/dev/null | grep deps.sh)
grep -q 'deps.sh run' <<<"$mr" && grep -q 'deps.sh check' <<<"$mc" && ok "cli-deps make run / make check install their own lists" \
  || nok "cli-deps make targets: run='$mr' check='$mc'"
out=$(scripts/deps.sh --list frob 2>&1); rc=$?
[ $rc = 2 ] && ok "cli-deps unknown list is a usage error" || nok "cli-deps unknown list: rc=$rc"
exit 0
