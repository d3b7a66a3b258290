#!/bin/bash
# uvfs mount / demo / ls / stat / cat / tree: command line behaviour, errors,
# unmount paths (fusermount3 -u, SIGINT, SIGTERM, daemonized) and teardown.
set -u
. "$(dirname "$0")/../fuse/lib.sh"

# --- in-process commands (no FUSE) -----------------------------------------
out=$("$UVFS" ls -l / 2>&1); rc=$?
if [ $rc = 0 ] && grep -q '^drwxrwxrwt .* tmp$' <<<"$out" && grep -q 'bin -> usr/bin' <<<"$out"; then
  ok "fuse-cli ls -l /"; else nok "fuse-cli ls -l /: rc=$rc: $out"; fi
out=$("$UVFS" ls / 2>&1); rc=$?
[ $rc = 0 ] && [ "$(head -2 <<<"$out")" = $'bin\netc' ] && ok "fuse-cli ls / (names only)" || nok "fuse-cli ls /: rc=$rc: $out"
out=$("$UVFS" cat /etc/hostname /bin/hello 2>&1); rc=$?
[ $rc = 0 ] && [ "$(head -1 <<<"$out")" = uvfs ] && grep -q 'echo "hello from uvfs"' <<<"$out" \
  && ok "fuse-cli cat through a symlink" || nok "fuse-cli cat: rc=$rc: $out"
out=$("$UVFS" stat /home/user/notes.txt /usr/bin/hi 2>&1); rc=$?
[ $rc = 0 ] && grep -q 'Uid: 1000  Gid: 1000' <<<"$out" && grep -q 'user.comment="hello from uvfs"' <<<"$out" \
  && grep -q 'Links: 2' <<<"$out" && ok "fuse-cli stat" || nok "fuse-cli stat: rc=$rc: $out"
out=$("$UVFS" tree / 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^11 directories, 6 files$' <<<"$out" && grep -q 'README' <<<"$out" \
  && ok "fuse-cli tree" || nok "fuse-cli tree: rc=$rc: $out"
out=$("$UVFS" ls /nope 2>&1); rc=$?
[ $rc = 1 ] && [ "$out" = "uvfs: ls: /nope: No such file or directory" ] \
  && ok "fuse-cli ls missing path" || nok "fuse-cli ls missing path: rc=$rc: $out"
out=$("$UVFS" cat /etc 2>&1); rc=$?
[ $rc = 1 ] && grep -q 'Is a directory' <<<"$out" && ok "fuse-cli cat a directory" || nok "fuse-cli cat dir: rc=$rc $out"

# --- mount: usage and errors --------------------------------------------------
out=$("$UVFS" mount --help 2>&1); rc=$?
[ $rc = 0 ] && grep -q 'entry_timeout' <<<"$out" && grep -q -- '-o allow_other' <<<"$out" && grep -q -- '-f' <<<"$out" \
  && ok "fuse-cli mount --help" || nok "fuse-cli mount --help: rc=$rc"
out=$("$UVFS" mount --version 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^uvfs 0' <<<"$out" && grep -qi 'fuse' <<<"$out" \
  && ok "fuse-cli mount --version" || nok "fuse-cli mount --version: rc=$rc: $out"
out=$("$UVFS" mount 2>&1); rc=$?
[ $rc = 2 ] && [ $(wc -l <<<"$out") = 1 ] && ok "fuse-cli mount without mount point" || nok "fuse-cli no mp: rc=$rc: $out"
out=$("$UVFS" mount -f "$T/does-not-exist" 2>&1); rc=$?
[ $rc = 1 ] && [ $(wc -l <<<"$out") = 1 ] && grep -q 'No such file' <<<"$out" \
  && ok "fuse-cli bad mount point" || nok "fuse-cli bad mount point: rc=$rc: $out"
touch "$T/file"
out=$("$UVFS" mount -f "$T/file" 2>&1); rc=$?
[ $rc = 1 ] && [ $(wc -l <<<"$out") = 1 ] && ok "fuse-cli mount point is a file" || nok "fuse-cli mp file: rc=$rc: $out"
out=$("$UVFS" mount -f -o no_such_option "$T" 2>&1); rc=$?
[ $rc != 0 ] && ! is_mounted "$T" && ok "fuse-cli unknown -o option refused" || nok "fuse-cli unknown option: rc=$rc: $out"

if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  # No /dev/fuse: an empty /dev in a private mount namespace.
  out=$(unshare -m sh -c "mount -t tmpfs none /dev && exec '$UVFS' mount -f '$T'" 2>&1); rc=$?
  [ $rc = 1 ] && [ $(wc -l <<<"$out") = 1 ] && grep -q '/dev/fuse' <<<"$out" \
    && ok "fuse-cli missing /dev/fuse" || nok "fuse-cli missing /dev/fuse: rc=$rc: $out"
  # /dev/fuse that is not FUSE: the kernel refuses the mount
  out=$(unshare -m sh -c "mount --bind /dev/null /dev/fuse && exec '$UVFS' mount -f '$T'" 2>&1); rc=$?
  [ $rc = 1 ] && [ $(wc -l <<<"$out") = 1 ] && grep -q 'cannot mount' <<<"$out" \
    && ok "fuse-cli kernel refuses the mount: one line" || nok "fuse-cli kernel refuses: rc=$rc: $out"
  out=$(unshare -m sh -c "mount -t tmpfs none /dev && exec '$UVFS' demo" 2>&1); rc=$?
  [ $rc = 0 ] && grep -q 'in process' <<<"$out" && grep -q 'os-release' <<<"$out" && grep -q 'teardown: 0 live objects' <<<"$out" \
    && ok "fuse-cli demo falls back without /dev/fuse" || nok "fuse-cli demo fallback: rc=$rc: $out"
else
  nok "fuse-cli missing /dev/fuse: needs root and unshare"
fi

need_fuse fuse-cli

# --- mount / unmount paths ------------------------------------------------------
mp=$T/m1
if uvfs_mount "$mp"; then
  [ "$(cat "$mp/etc/hostname")" = uvfs ] && ok "fuse-cli mounted tree readable" || nok "fuse-cli mounted tree readable"
  out=$("$UVFS" mount -f "$mp" 2>&1); rc=$?
  [ $rc = 1 ] && [ $(wc -l <<<"$out") = 1 ] && grep -q busy <<<"$out" \
    && ok "fuse-cli busy mount point" || nok "fuse-cli busy mount point: rc=$rc: $out"
  grep -q " $mp fuse.uvfs " /proc/mounts && ok "fuse-cli shows as fuse.uvfs" || nok "fuse-cli fstype: $(grep "$mp" /proc/mounts)"
  uvfs_umount "$mp" && ok "fuse-cli fusermount3 -u, teardown 0 live objects" || nok "fuse-cli fusermount3 -u: $WHY"
else nok "fuse-cli mount"; fi

mp=$T/ro
if uvfs_mount "$mp" ro; then
  out=$(sh -c "echo x >'$mp/tmp/x'" 2>&1); rc=$?
  [ $rc != 0 ] && grep -qi 'read-only' <<<"$out" && [ "$(cat "$mp/etc/hostname")" = uvfs ] \
    && ok "fuse-cli -o ro: reads work, writes fail" || nok "fuse-cli -o ro: rc=$rc: $out"
  uvfs_umount "$mp" || nok "fuse-cli -o ro unmount: $WHY"
else nok "fuse-cli -o ro mount"; fi

for sig in INT TERM; do
  mp=$T/sig$sig
  if uvfs_mount "$mp"; then
    ls -R "$mp" >/dev/null; exec 9<"$mp/etc/os-release" # a lookup-heavy run, one file open
    exec 9<&-
    pid=${MPID[$mp]}
    kill -$sig "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && { nok "fuse-cli SIG$sig: server ignored it"; continue; }
    wait "$pid"; rc=$?; unset "MPID[$mp]"
    log=$T/log.sig$sig
    if [ $rc = 0 ] && ! is_mounted "$mp" && grep -q '^uvfs: teardown: 0 live objects$' "$log"; then
      ok "fuse-cli SIG$sig unmounts, 0 live objects"
    else nok "fuse-cli SIG$sig: rc=$rc mounted=$(is_mounted "$mp" && echo yes) log=$(cat "$log")"; fi
  else nok "fuse-cli SIG$sig mount"; fi
done

# a server killed with SIGKILL leaves a dead mount: the next mount says busy
mp=$T/dead
if uvfs_mount "$mp"; then
  kill -9 "${MPID[$mp]}"; wait "${MPID[$mp]}" 2>/dev/null; unset "MPID[$mp]"
  out=$("$UVFS" mount -f "$mp" 2>&1); rc=$?
  [ $rc = 1 ] && [ $(wc -l <<<"$out") = 1 ] && grep -q 'busy' <<<"$out" \
    && ok "fuse-cli dead mount point is busy" || nok "fuse-cli dead mount point: rc=$rc: $out"
  fusermount3 -u -z "$mp" 2>/dev/null
else nok "fuse-cli dead mount: mount"; fi

# daemonized (no -f): the parent returns once mounted
mp=$T/daemon; mkdir -p "$mp"
"$UVFS" mount "$mp" 2>"$T/log.daemon"; rc=$?
if [ $rc = 0 ] && is_mounted "$mp" && [ -f "$mp/usr/bin/hello" ]; then
  fusermount3 -u "$mp"
  for _ in $(seq 50); do pgrep -f "uvfs mount $mp" >/dev/null || break; sleep 0.05; done
  is_mounted "$mp" && nok "fuse-cli daemon still mounted" || ok "fuse-cli daemonized mount and fusermount3 -u"
else nok "fuse-cli daemonized mount: rc=$rc $(cat "$T/log.daemon")"; fusermount3 -u -z "$mp" 2>/dev/null; fi

# --- demo -----------------------------------------------------------------------
start=$(date +%s%N)
out=$("$UVFS" demo 2>&1); rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
dmp=$(sed -n 's/.*mounted on \([^ ]*\) through FUSE.*/\1/p' <<<"$out")
if [ $rc = 0 ] && [ -n "$dmp" ] && ! is_mounted "$dmp" && [ ! -e "$dmp" ] && grep -q 'hello from uvfs' <<<"$out" \
   && grep -q '^overlay / overlay ' <<<"$out" && grep -q '^proc /proc proc ' <<<"$out" && grep -q '^uvfs: teardown: 0 live objects$' <<<"$out" \
   && [ $ms -lt 5000 ]; then
  ok "fuse-cli demo (${ms} ms)"
else nok "fuse-cli demo: rc=$rc ${ms}ms: $out"; fi
