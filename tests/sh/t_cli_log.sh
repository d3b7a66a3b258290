#!/bin/bash
# UVFS_LOG=info|debug: real messages from the gofer's start and stop, its
# cache decision, and the FUSE export's unmount (foreground and signal).
set -u
: "${UVFS:=build/uvfs}"
UVFS=$(readlink -f "$UVFS")
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; }
if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/diod ]; then echo "ok cli-log-skipped # needs root and diod"; exit 0; fi
T=$(mktemp -d /tmp/uvfs-t-log.XXXXXX)
mounted() { grep -q " $1 fuse" /proc/mounts; }
trap 'fusermount3 -u "$T/m" 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/src/d" "$T/m"

for c in fscache remote_revalidating none; do
  err=$(UVFS_LOG=debug "$UVFS" ls -t 9p -o cache=$c "$T/src" / 2>&1 >/dev/null)
  grep -q "debug: 9p: $T/src: cache=$c: " <<<"$err" && ok "cli-log 9p cache=$c decision" || nok "cli-log cache=$c: $err"
done
err=$(UVFS_LOG=info "$UVFS" ls -t 9p "$T/src" / 2>&1 >/dev/null)
grep -Eq "info: 9p: gofer .*diod started, pid [0-9]+" <<<"$err" && grep -Eq "info: 9p: gofer pid [0-9]+ stopped" <<<"$err" \
  && ok "cli-log gofer start and stop" || nok "cli-log gofer start/stop: $err"
err=$(UVFS_LOG=warn "$UVFS" ls -t 9p "$T/src" / 2>&1 >/dev/null)
[ -z "$err" ] && ok "cli-log warn level is quiet" || nok "cli-log warn: $err"

if [ -w /dev/fuse ] && command -v fusermount3 >/dev/null; then
  UVFS_LOG=info "$UVFS" mount -f default "$T/m" 2>"$T/fg.log" & pid=$!
  for _ in $(seq 100); do mounted "$T/m" && break; sleep 0.05; done
  fusermount3 -u "$T/m"; wait $pid
  grep -q "info: fuse: $T/m: unmounted from outside" "$T/fg.log" && ok "cli-log fusermount3 -u is logged" \
    || nok "cli-log fusermount3 -u: $(cat "$T/fg.log")"
  UVFS_LOG=info "$UVFS" mount -f default "$T/m" 2>"$T/sig.log" & pid=$!
  for _ in $(seq 100); do mounted "$T/m" && break; sleep 0.05; done
  kill -TERM $pid; wait $pid
  grep -q "info: fuse: $T/m: signal 15, unmounting" "$T/sig.log" && ok "cli-log unmount on a signal is logged" \
    || nok "cli-log signal: $(cat "$T/sig.log")"
fi
