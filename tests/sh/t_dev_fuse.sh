#!/bin/bash
# devtmpfs (filled as gVisor's boot fills it) on /dev and devpts on
# /dev/pts, listed through the FUSE export (tests/fuse/devtree.c): types,
# modes and major:minor numbers equal the host's /dev nodes. Device I/O
# through a FUSE mount is the host kernel's: it opens the driver of the
# node's numbers itself (never a FUSE read), and only with -o dev (FUSE
# mounts are nodev by default: open is EACCES). In-process callers get
# uvfs's own drivers (tests/devices).
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse dev-fuse
lib=${UVFS_LIB:-$ROOT/build/libuvfs.a}
libs="$ROOT/build/libuvfs-boot.a $ROOT/build/libuvfs-fuse.a $lib"
[ -f "$lib" ] || { nok "dev-fuse: $lib not built"; exit 1; }
bin=$ROOT/build/fuse-devtree
if ! ${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Wno-unused-parameter -Werror -I"$ROOT" -I"$ROOT/vfs" $(pkg-config --cflags fuse3) \
     -o "$bin" "$ROOT/tests/fuse/devtree.c" $libs \
     $(pkg-config --libs liburcu-memb liburcu-cds libxxhash fuse3 jansson libcrypto) -lpthread 2>"$T/cc.log"; then
  nok "dev-fuse: does not build: $(head -5 "$T/cc.log")"; exit 1
fi

# devtree_mount MP [OPTS]: as lib.sh's uvfs_mount, with the devtree program.
devtree_mount() {
  local mp=$1 log="$T/log.$(basename "$1")"
  mkdir -p "$mp"
  if [ -n "${2:-}" ]; then "$bin" -f -o "$2" "$mp" 2>"$log" & else "$bin" -f "$mp" 2>"$log" & fi
  MPID[$mp]=$!
  for _ in $(seq 100); do
    is_mounted "$mp" && return 0
    kill -0 "${MPID[$mp]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "mount failed: $(cat "$log")" >&2
  return 1
}

M=$T/m
devtree_mount "$M" || { nok "dev-fuse: mount"; exit 1; }

# ls -l /dev: each device a character node with the host's numbers.
ls -l "$M/dev" >"$T/ls" 2>&1
bad=
for d in null zero full random urandom tty; do
  want=$(stat -c 'c %t:%T %a' "/dev/$d")
  got=$(stat -c '%F %t:%T %a' "$M/dev/$d" 2>&1 | sed 's/^character special file/c/')
  [ "$got" = "${want% *} 666" ] || bad="$bad $d($got, host ${want% *})"
  grep -Eq "^crw-rw-rw- .* [0-9]+, +[0-9]+ .* $d\$" "$T/ls" || bad="$bad $d(ls)"
done
[ -z "$bad" ] && ok "dev-fuse: ls -l /dev shows the devices with the host's numbers" \
  || nok "dev-fuse: devices:$bad; ls: $(tr '\n' ';' <"$T/ls")"

grep -Eq '^crw-rw-rw- .* 1, +3 .* null$' "$T/ls" && grep -Eq '^crw-rw-rw- .* 1, +5 .* zero$' "$T/ls" \
  && grep -Eq '^crw-rw-rw- .* 5, +0 .* tty$' "$T/ls" \
  && ok "dev-fuse: null 1,3, zero 1,5, tty 5,0" || nok "dev-fuse: numbers: $(tr '\n' ';' <"$T/ls")"

# UserspaceInit: the links, shm 1777, pts (devpts root 0555).
bad=
for l in "fd /proc/self/fd" "stdin /proc/self/fd/0" "stdout /proc/self/fd/1" "stderr /proc/self/fd/2" "ptmx pts/ptmx"; do
  set -- $l
  [ "$(readlink "$M/dev/$1")" = "$2" ] || bad="$bad $1"
done
[ "$(stat -c '%A' "$M/dev/shm")" = drwxrwxrwt ] || bad="$bad shm($(stat -c '%A' "$M/dev/shm"))"
[ "$(stat -c '%A' "$M/dev/pts")" = dr-xr-xr-x ] || bad="$bad pts($(stat -c '%A' "$M/dev/pts"))"
[ -z "$bad" ] && ok "dev-fuse: links, shm 1777, pts 0555" || nok "dev-fuse: userspace init:$bad"

# devpts: ptmx 5:2 0666.
l=$(ls -l "$M/dev/pts/ptmx" 2>&1)
[[ "$l" =~ ^crw-rw-rw-\ .*\ 5,\ +2\ .*ptmx$ ]] && ok "dev-fuse: ls -l /dev/pts/ptmx" || nok "dev-fuse: ptmx: $l"

# Default nodev: device opens are refused by the kernel (EACCES).
if head -c 1 "$M/dev/zero" >/dev/null 2>"$T/err"; then nok "dev-fuse: nodev mount opened a device"
else grep -q 'Permission denied' "$T/err" && ok "dev-fuse: nodev by default (EACCES)" \
  || nok "dev-fuse: nodev: $(cat "$T/err")"; fi

uvfs_umount "$M" && ok "dev-fuse: teardown, 0 live objects" || nok "dev-fuse: teardown: $WHY"

# -o dev: the kernel opens the nodes' drivers by their numbers.
D=$T/d
devtree_mount "$D" dev || { nok "dev-fuse: mount -o dev"; exit 1; }
z=$(head -c 16 "$D/dev/zero" | od -An -tx1 | tr -s ' \n' ' ')
[ "$z" = " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 " ] && ok "dev-fuse: head -c 16 /dev/zero | od: zeros" \
  || nok "dev-fuse: zero read \"$z\""
{ echo x >"$D/dev/null"; } 2>"$T/err" && [ ! -s "$D/dev/null" ] && ok "dev-fuse: echo x > /dev/null" \
  || nok "dev-fuse: write null: $(cat "$T/err")"
if { echo x >"$D/dev/full"; } 2>"$T/err"; then nok "dev-fuse: write to full succeeded"
else grep -q 'No space left' "$T/err" && ok "dev-fuse: /dev/full: ENOSPC" || nok "dev-fuse: full: $(cat "$T/err")"; fi
uvfs_umount "$D" && ok "dev-fuse: -o dev teardown, 0 live objects" || nok "dev-fuse: -o dev teardown: $WHY"
