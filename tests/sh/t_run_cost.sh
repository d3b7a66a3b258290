#!/bin/bash
# `uvfs run`'s per-call costs that are properties, not timings: the run's
# host directory (the tracee's host cwd, exec links and one placeholder
# directory per open tree directory) lives on a tmpfs when /dev/shm is one
# (mkdir+rmdir there is ~10 us, ~130 us on ext4), is removed at the end,
# and placeholders of closed directories are collected.
set -u
D=$(mktemp -d /tmp/uvfs-trcost-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /bin/busybox ]; then echo "ok run-cost-skipped # busybox-static missing"; exit 0; fi
T=$D/tree
mkdir -p "$T/bin" "$T/data"
cp /bin/busybox "$T/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$T/bin/$a"; done
for i in $(seq 3000); do mkdir "$T/data/d$i"; done
# the tracee: uvfs's child that is not the diod serving --root's lower
tracee_of() {
  local c
  for c in $(pgrep -P "$1"); do [ "$(cat /proc/$c/comm 2>/dev/null)" = diod ] || { echo $c; return; }; done
}
# find opens every directory (3000 placeholders, most collected), then the
# shell waits in sleep so the host side can be looked at
"$UVFS" run --root "$T" -- /bin/sh -c 'find /data -type d | wc -l > /data/n; sleep 3; cat /data/n' > "$D/out" 2>&1 & up=$!
hd=
for i in $(seq 100); do
  sleep 0.1
  tr=$(tracee_of $up); [ -n "$tr" ] || continue
  # (comm is the exec link's name: look at argv[0] of the shell's child)
  pgrep -P "$tr" | while read c; do tr '\0' ' ' < /proc/$c/cmdline; echo; done | grep -q '^sleep ' || continue
  hd=$(readlink /proc/$tr/cwd); break
done
want=tmpfs
if [ ! -w /dev/shm ] || [ "$(stat -f -c %T /dev/shm 2>/dev/null)" != tmpfs ]; then want=$(stat -f -c %T /tmp); fi
check run-cost-hostdir-tmpfs "$want" "$([ -n "$hd" ] && stat -f -c %T "$hd")"
n=$([ -n "$hd" ] && ls "$hd/d" 2>/dev/null | wc -l)
check run-cost-placeholders-collected yes "$([ -n "$n" ] && [ "$n" -lt 2100 ] && echo yes || echo "no ($n)")"
wait $up; rc=$?
check run-cost-run "0:3001" "$rc:$(cat "$D/out")"
check run-cost-hostdir-removed "" "$([ -n "$hd" ] && ls -d "$hd" 2>/dev/null)"
