#!/bin/bash
# ioctl and poll forwarding through the FUSE export (issue 17): a sealed
# verity tree mounted with `uvfs mount -t verity` answers `fsverity measure`
# with the digest fsverity computes of the host file, and lsattr shows the
# verity flag (FS_IOC_GETFLAGS); a directory is ENODATA; poll on a file
# through the mount answers (readable at once; FIFOs and device nodes are
# the kernel's own, never forwarded).
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse fuse-ioctl
command -v fsverity >/dev/null || { nok "fuse-ioctl: fsverity tool not installed"; exit 1; }
src=$T/src; mkdir -p "$src/sub"
printf 'hello, verity\n' >"$src/a.txt"
head -c 70001 /dev/urandom >"$src/sub/big"
: >"$src/empty"
h=$("$UVFS" verity seal "$src") || { nok "fuse-ioctl: seal"; exit 1; }
mp=$T/mnt; mkdir -p "$mp"
env "$UVFS" mount -f -t verity -o "root_hash=$h" "$src" "$mp" 2>"$T/log.mnt" &
MPID[$mp]=$!
for _ in $(seq 100); do is_mounted "$mp" && break; sleep 0.05; done
is_mounted "$mp" || { nok "fuse-ioctl: mount: $(cat "$T/log.mnt")"; exit 1; }

for f in a.txt sub/big empty; do
  want=$(fsverity digest "$src/$f" | cut -d' ' -f1)
  got=$(fsverity measure "$mp/$f" 2>&1 | cut -d' ' -f1)
  [ -n "$want" ] && [ "$got" = "$want" ] && ok "fuse-ioctl: fsverity measure $f" ||
    nok "fuse-ioctl: fsverity measure $f: got '$got' want '$want'"
done
out=$(lsattr -d "$mp/a.txt" 2>&1 | cut -d' ' -f1)
[[ $out == *V* ]] && ok "fuse-ioctl: lsattr shows the verity flag ($out)" || nok "fuse-ioctl: lsattr: '$out'"
out=$(fsverity measure "$mp/sub" 2>&1); rc=$?
[ $rc != 0 ] && [[ $out == *"No data available"* ]] && ok "fuse-ioctl: measure of a directory is ENODATA, as Linux" ||
  nok "fuse-ioctl: measure of a directory: '$out'"
# poll(2) on a regular file through the mount: readable at once
out=$(python3 -c '
import select, sys
f = open(sys.argv[1], "rb")
p = select.poll(); p.register(f, select.POLLIN)
print(p.poll(2000))' "$mp/a.txt" 2>&1)
[[ $out == "[(3, 1)]" || $out == *", 1)]" ]] && ok "fuse-ioctl: poll on a file ($out)" || nok "fuse-ioctl: poll: '$out'"
uvfs_umount "$mp" && ok "fuse-ioctl: teardown" || nok "fuse-ioctl: teardown: $WHY"
