#!/bin/bash
# `--host`: runsc do's default tree (the issue's `make run` demo): the host's
# / read-only under a tmpfs overlay, runc spec's mounts, /proc /sys /dev
# generated. In process and through FUSE: ls -la /, /proc/mounts, ls -l
# /dev, /sys/devices/system/cpu/online; a file written lands in the overlay,
# not on the host; unmounting reports 0 live objects.
set -u
D=$(mktemp -d /tmp/uvfs-thost-XXXXXX)
M=$D/mnt
N=uvfs-host-test-$$
cleanup() { fusermount3 -u "$M" 2>/dev/null; rm -rf "$D" "/root/$N"; }
trap cleanup EXIT
# The kernel may still hold the mount for a moment after the last user exits.
unmount() { for _ in $(seq 50); do fusermount3 -u "$1" 2>/dev/null && return 0; sleep 0.1; done; fusermount3 -u "$1"; }
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /usr/sbin/diod ] || [ "$(id -u)" != 0 ]; then
  echo "ok host-skipped # needs root and diod"; exit 0
fi
mkdir -p "$M"
"$UVFS" boot --host --print > "$D/out" 2> "$D/err"; rc=$?
check host-boot-rc 0 "$rc"
types=$(awk '{for(i=1;i<=NF;i++) if($i=="-"){print $5, $(i+1)}}' "$D/out" | sort | tr '\n' ';')
check host-boot-types "/ overlay;/dev devtmpfs;/dev/pts devpts;/dev/shm tmpfs;/proc proc;/sys sysfs;" "$types"
check host-boot-teardown "uvfs: teardown: 0 live objects" "$(tail -n1 "$D/err")"
check host-cat-cpu "$(cat /sys/devices/system/cpu/online)" "$("$UVFS" cat --host /sys/devices/system/cpu/online 2>/dev/null)"
"$UVFS" boot --host --bundle "$D" --print >/dev/null 2>&1; check host-and-bundle 2 $?

if [ ! -e /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
  echo "ok host-fuse-skipped # no /dev/fuse"; exit 0
fi
"$UVFS" mount --host "$M" 2> "$D/merr" &
pid=$!
for _ in $(seq 100); do grep -q "mounted at" "$D/merr" 2>/dev/null && break; sleep 0.1; done
check host-mount-ls "$(ls -A / | tr "\n" " ")" "$(ls -A "$M" | tr "\n" " ")"
ls -la "$M" > /dev/null || echo "not ok host-mount-ls-la"
check host-mount-proc-mounts 1 "$(grep -c '^proc /proc proc ' "$M/proc/mounts")"
check host-mount-dev-null 1 "$(ls -l "$M/dev" | grep -c ' null$')"
check host-mount-cpu "$(cat /sys/devices/system/cpu/online)" "$(cat "$M/sys/devices/system/cpu/online")"
echo overlay > "$M/root/$N"
check host-mount-write-inside overlay "$(cat "$M/root/$N" 2>&1)"
check host-mount-write-not-on-host no "$([ -e "/root/$N" ] && echo yes || echo no)"
unmount "$M" || { echo "not ok unmount: busy"; kill -TERM $pid; }
wait $pid; rc=$?
check host-mount-exit 0 "$rc"
check host-mount-teardown "uvfs: teardown: 0 live objects" "$(tail -n1 "$D/merr")"
