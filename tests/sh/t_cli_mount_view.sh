#!/bin/bash
# uvfs mount -o uid=,gid=,umask= (sshfs: what is shown; the kernel checks the
# view, uvfs the real owners for the real caller, both must allow), map=
# (bindfs --map: an idmapped view, callers mapped back), kernel_cache (the
# page cache kept across opens). Checked as non-root users through allow_other.
set -u
: "${UVFS:=build/uvfs}"
UVFS=$(readlink -f "$UVFS")
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; }
if [ "$(id -u)" != 0 ] || [ ! -w /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
  echo "ok cli-view-skipped # needs root, /dev/fuse and fusermount3"; exit 0; fi
T=$(mktemp -d /tmp/uvfs-t-view.XXXXXX)
M=$T/m; mkdir -p "$M" "$T/src"; chmod 755 "$T"
mounted() { grep -q " $1 fuse" /proc/mounts; }
umnt() { fusermount3 -u "$1" 2>/dev/null || fusermount3 -u -z "$1" 2>/dev/null; for _ in $(seq 40); do mounted "$1" || break; sleep 0.05; done; }
trap 'umnt "$M"; rm -rf "$T"' EXIT
as() { local u=$1; shift; setpriv --reuid "$u" --regid "$u" --clear-groups -- "$@"; }

# uid= gid= umask=: shown for every file
out=$("$UVFS" mount -o allow_other,uid=1000,gid=1001,umask=027 default "$M" 2>&1); rc=$?
[ $rc = 0 ] && ok "cli-view mount -o uid,gid,umask" || nok "cli-view mount -o uid,gid,umask: rc=$rc: $out"
[ "$(stat -c '%u:%g %a' "$M/etc/hostname" 2>&1)" = "1000:1001 640" ] && [ "$(stat -c '%u:%g %a' "$M/home/user" 2>&1)" = "1000:1001 750" ] \
  && ok "cli-view owners and mode shown" || nok "cli-view shown: $(stat -c '%u:%g %a' "$M/etc/hostname" "$M/home/user" 2>&1)"
[ "$(stat -c %A "$M/bin" 2>&1)" = lrwxrwxrwx ] && ok "cli-view umask spares symlinks" || nok "cli-view symlink: $(stat -c %A "$M/bin" 2>&1)"
# the kernel checks the view: umask=027 takes "others" away from 1002
out=$(as 1002 cat "$M/etc/hostname" 2>&1); rc=$?
[ $rc != 0 ] && grep -q 'Permission denied' <<<"$out" && ok "cli-view umask restricts others (kernel, on the view)" \
  || nok "cli-view umask: rc=$rc: $out"
# uvfs checks the real owner (root) for the real caller: uid=1000 shows 1000
# as owner, but 1000 may not write root's file
out=$(as 1000 sh -c "echo x >> $M/etc/hostname" 2>&1); rc=$?
[ $rc != 0 ] && grep -q 'Permission denied' <<<"$out" && [ "$(cat "$M/etc/hostname")" = uvfs ] \
  && ok "cli-view uid= does not grant: uvfs checks the real owner" || nok "cli-view uid= grant: rc=$rc: $out"
[ "$(as 1000 cat "$M/etc/hostname" 2>&1)" = uvfs ] && ok "cli-view shown owner reads" || nok "cli-view owner read"
umnt "$M"

# map=: 1000 shown as 2000, and 2000 acts as 1000
out=$("$UVFS" mount -o allow_other,map=1000/2000:@1000/@2000 default "$M" 2>&1); rc=$?
[ $rc = 0 ] && ok "cli-view mount -o map=" || nok "cli-view mount -o map=: rc=$rc: $out"
[ "$(stat -c '%u:%g' "$M/home/user/notes.txt" "$M/etc/hostname" 2>&1 | tr '\n' ' ')" = "2000:2000 0:0 " ] \
  && ok "cli-view map= owners shown" || nok "cli-view map= shown: $(stat -c '%u:%g' "$M/home/user/notes.txt" "$M/etc/hostname" 2>&1)"
out=$(as 2000 sh -c "echo more >> $M/home/user/notes.txt && touch $M/home/user/new && stat -c %u:%g $M/home/user/new" 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = 2000:2000 ] && ok "cli-view map= caller 2000 acts as 1000 (write, create)" \
  || nok "cli-view map= caller: rc=$rc: $out"
out=$(as 1000 sh -c "echo x >> $M/home/user/notes.txt" 2>&1); rc=$?
[ $rc != 0 ] && ok "cli-view map= real 1000 is not the shown owner" || nok "cli-view map= 1000 wrote: $out"
touch "$M/tmp/c" && chown 2000:2000 "$M/tmp/c" && chmod 600 "$M/tmp/c"
out=$(as 2000 sh -c "echo y > $M/tmp/c && cat $M/tmp/c" 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = y ] && [ "$(stat -c %u:%g "$M/tmp/c")" = 2000:2000 ] \
  && ok "cli-view map= chown to the shown id stores the real one" || nok "cli-view map= chown: rc=$rc: $out"
umnt "$M"
for o in map=1000 map=1000/@2 map=nosuchuser/1 uid=nosuchuser umask=9 idmap=b:0:1000:1; do
  out=$("$UVFS" mount -o "$o" default "$M" 2>&1); rc=$?
  [ $rc = 2 ] && grep -q "'$o'" <<<"$out" && ! mounted "$M" && ok "cli-view -o $o refused by name" \
    || { nok "cli-view -o $o: rc=$rc: $out"; umnt "$M"; }
done

# kernel_cache on a 9p tree: a second open reads from the page cache
if [ -x /usr/sbin/diod ]; then
  head -c 65536 /dev/urandom > "$T/src/f"
  reads() { # options: READ requests for two cats of f
    "$UVFS" mount -f -d -o "ro$1" "$T/src" "$M" 2>"$T/log" & local pid=$!
    for _ in $(seq 100); do mounted "$M" && break; sleep 0.05; done
    cat "$M/f" >/dev/null; cat "$M/f" >/dev/null; umnt "$M"; wait $pid
    grep -c 'opcode: READ' "$T/log"
  }
  without=$(reads ""); with=$(reads ",kernel_cache")
  [ "$with" -gt 0 ] && [ "$without" -gt "$with" ] && ok "cli-view kernel_cache keeps the page cache ($without READs -> $with)" \
    || nok "cli-view kernel_cache: READs without $without, with $with"
fi
