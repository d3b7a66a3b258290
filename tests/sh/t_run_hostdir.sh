#!/bin/bash
# `uvfs run`: the host directory of a run (/tmp/uvfs-run-XXXXXX: exec links,
# directory placeholders; the tracee's host cwd) is locked for the run; a
# supervisor killed by SIGKILL leaves it behind, and the next run removes
# every such directory of the same user whose lock is free and that is a
# few seconds old — never one of a run still going.
set -u
D=$(mktemp -d /tmp/uvfs-trhd-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 $p 2>/dev/null; done; rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /bin/busybox ]; then echo "ok run-hostdir-skipped # busybox-static missing"; exit 0; fi
T=$D/tree
mkdir -p "$T/bin"
cp /bin/busybox "$T/bin/busybox"
for a in sh sleep true; do ln -s busybox "$T/bin/$a"; done
# the host directory of a run started in the background: its program's cwd
hostdir_of() { # uvfs pid
  local c i w
  for i in $(seq 100); do
    for c in $(cat /proc/$1/task/*/children 2>/dev/null); do
      w=$(readlink /proc/$c/cwd)
      case "$w" in */uvfs-run-*) echo "$w"; return;; esac
    done
    sleep 0.1
  done
}
"$UVFS" run --root "$T" -- /bin/sleep 60 & killed=$!; pids+=($killed)
"$UVFS" run --root "$T" -- /bin/sleep 60 & alive=$!; pids+=($alive)
dk=$(hostdir_of $killed); da=$(hostdir_of $alive)
check run-hostdir-found "yes" "$(case "$dk" in /*/uvfs-run-*) [ -d "$dk" ] && [ "$dk" != "$da" ] && echo yes;; *) echo "$dk";; esac)"
kill -9 $killed; wait $killed 2>/dev/null
check run-hostdir-left "yes" "$([ -d "$dk" ] && echo yes || echo no)"
# younger than a few seconds: a run just starting may not hold its lock yet
"$UVFS" run --root "$T" -- /bin/true
check run-hostdir-young-kept "yes" "$([ -d "$dk" ] && echo yes || echo no)"
sleep 4
"$UVFS" run --root "$T" -- /bin/true
check run-hostdir-removed "yes" "$([ ! -e "$dk" ] && echo yes || echo "no: $(ls -la "$dk")")"
check run-hostdir-live-kept "yes" "$([ -d "$da" ] && echo yes || echo no)"
kill $alive; wait $alive 2>/dev/null
check run-hostdir-own-removed "yes" "$([ ! -e "$da" ] && echo yes || echo no)"
