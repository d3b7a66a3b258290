#!/bin/bash
# The requests the kernel sends through the FUSE export for common calls
# (libfuse's debug log): none it does not need (issue 17, speed).
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse fuse-roundtrips
mp=$T/mnt
uvfs_mount "$mp" debug || { nok "fuse-roundtrips: mount"; exit 1; }
log=$T/log.mnt
# ops CMD...: runs CMD, prints the opcodes the server got meanwhile
ops() {
  local n; n=$(wc -l <"$log")
  "$@"
  sleep 0.2
  tail -n +"$((n + 1))" "$log" | sed -n 's/.*opcode: \([A-Z_]*\).*/\1/p' | tr '\n' ' '
}

o=$(ops sh -c ": > $mp/tmp/new")
case " $o" in
*" FLUSH "*) nok "fuse-roundtrips: create+close sends FLUSH though uvfs has nothing to flush: $o" ;;
*" CREATE "*) ok "fuse-roundtrips: create+close ($o)" ;;
*) nok "fuse-roundtrips: create+close: no CREATE: $o" ;;
esac

o=$(ops dd if=/dev/zero of="$mp/tmp/new" bs=4096 count=8 conv=notrunc status=none)
n=$(grep -o GETXATTR <<<"$o" | wc -l)
[ "$n" -le 1 ] && ok "fuse-roundtrips: 8 writes, $n GETXATTR" ||
  nok "fuse-roundtrips: 8 writes ask GETXATTR (security.capability) $n times: $o"

uvfs_umount "$mp" && ok "fuse-roundtrips: teardown" || nok "fuse-roundtrips: teardown: $WHY"
