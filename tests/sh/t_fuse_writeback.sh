#!/bin/bash
# The kernel's writeback cache on the FUSE export (issue 17, speed): a
# user who may write a file but not read it writes part of a page (the
# kernel reads the rest through that user's write-only handle) and closes
# it (the kernel sends the file's new mtime as that user), on the mount and
# on a kernel tmpfs, with the same results.
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse fuse-writeback
mp=$T/mnt
uvfs_mount "$mp" allow_other || { nok "fuse-writeback: mount"; exit 1; }
K=$(mktemp -d /dev/shm/uvfs-t-wb.XXXXXX); chmod 0777 "$K"
trap 'rm -rf "$K"; cleanup' EXIT
as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups -- "$@"; }

for where in "$K" "$mp/tmp"; do
  name=$([ "$where" = "$K" ] && echo tmpfs || echo uvfs)
  f=$where/wo
  # uvfs: written with O_DIRECT, so the kernel has no page of it cached
  # and must read it through the writer's handle
  if [ "$name" = uvfs ]; then printf '0123456789abcdef' | dd of="$f" oflag=direct status=none
  else printf '0123456789abcdef' >"$f"; fi
  chmod 0622 "$f"; touch -d @1000000000 "$f"
  # dd opens O_WRONLY: 2 bytes in the middle of the first page, then close
  out=$(printf XY | as_nobody dd of="$f" bs=1 seek=4 conv=notrunc status=none 2>&1); rc=$?
  res="rc=$rc out=$out content=$(cat "$f") size=$(stat -c %s "$f") mtime_moved=$([ "$(stat -c %Y "$f")" -gt 1000000000 ] && echo y || echo n)"
  eval "r_$name=\$res"
  # a writer's truncate of a file it may write but does not own
  out=$(as_nobody truncate -s 6 "$f" 2>&1); rc=$?
  res="rc=$rc out=$out content=$(cat "$f") size=$(stat -c %s "$f")"
  eval "t_$name=\$res"
done
[ "$r_uvfs" = "$r_tmpfs" ] && ok "fuse-writeback: write-only user's partial-page write and close ($r_uvfs)" ||
  nok "fuse-writeback: partial-page write as a write-only user: uvfs [$r_uvfs] tmpfs [$r_tmpfs]"
[ "$t_uvfs" = "$t_tmpfs" ] && ok "fuse-writeback: writer's truncate ($t_uvfs)" ||
  nok "fuse-writeback: writer's truncate: uvfs [$t_uvfs] tmpfs [$t_tmpfs]"

uvfs_umount "$mp" && ok "fuse-writeback: teardown" || nok "fuse-writeback: teardown: $WHY"
