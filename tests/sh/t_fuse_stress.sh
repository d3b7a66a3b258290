#!/bin/bash
# Concurrency on the mount: parallel writers create, rename (across
# directories), hard-link, unlink, list and stat the same names with kernel
# caching off (every lookup and forget reaches the node table), against an
# ASan/UBSan build of the server when build/libuvfs-san.a exists. Then the
# tree must be consistent, removable, and teardown must leave 0 live objects.
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse fuse-stress
SECS=${FUSE_STRESS_SECONDS:-4}

san=$ROOT/build/libuvfs-san.a
server=$UVFS
if [ -f "$san" ]; then
  server=$ROOT/build/uvfs-san
  if ! ${CC:-cc} -std=gnu11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
       -D_GNU_SOURCE -I"$ROOT" -I"$ROOT/vfs" -DUVFS_VERSION='"san"' $(pkg-config --cflags fuse3) -o "$server" \
       "$ROOT"/cli/*.c "$san" \
       $(pkg-config --libs liburcu-memb liburcu-cds libxxhash fuse3 jansson libcrypto libseccomp) -lpthread 2>"$T/cc.log"; then
    nok "fuse-stress: sanitized server does not build: $(head -3 "$T/cc.log")"; exit 1
  fi
fi
UVFS=$server
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
mp=$T/mnt
uvfs_mount "$mp" entry_timeout=0,attr_timeout=0 || { nok "fuse-stress: mount"; exit 1; }
W=$mp/tmp/w; mkdir -p "$W"/{a,b,c}

worker() { # id
  local end=$((SECONDS + SECS)) i=0 d e n
  local dirs=(a b c)
  while [ $SECONDS -lt $end ]; do
    i=$((i + 1)); d=${dirs[$((RANDOM % 3))]}; e=${dirs[$((RANDOM % 3))]}; n=$((RANDOM % 20))
    case $((RANDOM % 9)) in
      0) echo "$1 $i" >"$W/$d/f$n" ;;
      1) mv -f "$W/$d/f$n" "$W/$e/f$((RANDOM % 20))" ;;
      2) ln "$W/$d/f$n" "$W/$e/l$n" ;;
      3) rm -f "$W/$d/f$n" "$W/$d/l$n" ;;
      4) ls -l "$W/$d" ;;
      5) mkdir "$W/$d/s$n" && echo x >"$W/$d/s$n/x" ;;
      6) rm -rf "$W/$d/s$n" ;;
      7) cat "$W/$d/f$n" "$W/$e/l$n" ;;
      8) mv -T "$W/$d/s$n" "$W/$e/s$((RANDOM % 20))" ;;
    esac
  done >/dev/null 2>&1
}
for w in 1 2 3 4; do worker $w & done
wait_workers() { for p in $(jobs -p); do [ "$p" = "${MPID[$mp]}" ] || wait "$p"; done; }
wait_workers
if kill -0 "${MPID[$mp]}" 2>/dev/null && is_mounted "$mp"; then ok "fuse-stress: server alive after ${SECS}s of 4 parallel writers"
else nok "fuse-stress: server died: $(tail -20 "$T/log.mnt")"; exit 1; fi

# consistency: every listed name stats, link counts match the names found
bad=0
while read -r p; do stat "$p" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "# unstat-able: $p"; }; done < <(find "$W")
declare -A seen want
while read -r ino links; do seen[$ino]=$(( ${seen[$ino]:-0} + 1 )); want[$ino]=$links; done < <(find "$W" -type f -printf '%i %n\n')
for ino in "${!seen[@]}"; do [ "${seen[$ino]}" = "${want[$ino]}" ] || { bad=$((bad + 1)); echo "# inode $ino: ${seen[$ino]} names, nlink ${want[$ino]}"; }; done
[ $bad = 0 ] && ok "fuse-stress: tree consistent (every name stats, nlink = names)" || nok "fuse-stress: $bad inconsistencies"
rm -rf "$W" && [ ! -e "$W" ] && ok "fuse-stress: rm -rf" || nok "fuse-stress: rm -rf failed"
uvfs_umount "$mp" && ok "fuse-stress: unmount, 0 live objects$([ "$server" != "$ROOT/build/uvfs-san" ] || echo " (ASan server)")" || nok "fuse-stress: unmount: $WHY"
