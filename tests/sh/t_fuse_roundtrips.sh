#!/bin/bash
# The requests the kernel sends through the FUSE export for common calls
# (libfuse's debug log): none it does not need (issue 17, speed).
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse fuse-roundtrips
# ops LOG CMD...: runs CMD, prints the opcodes the server got meanwhile
ops() {
  local log=$1 n; shift; n=$(wc -l <"$log")
  "$@"
  sleep 0.2
  tail -n +"$((n + 1))" "$log" | sed -n 's/.*opcode: \([A-Z_]*\).*/\1/p' | tr '\n' ' '
}

# Without the writeback cache, a close sends no FLUSH for files whose
# filesystem has nothing to flush (tmpfs). (With it, the kernel sends one
# after writing back whatever the file has cached.)
mp=$T/nowb
uvfs_mount "$mp" debug,writeback=0 || { nok "fuse-roundtrips: mount"; exit 1; }
o=$(ops "$T/log.nowb" sh -c ": > $mp/tmp/new")
case " $o" in
*" FLUSH "*) nok "fuse-roundtrips: create+close sends FLUSH though uvfs has nothing to flush: $o" ;;
*" CREATE "*) ok "fuse-roundtrips: create+close, writeback=0 ($o)" ;;
*) nok "fuse-roundtrips: create+close: no CREATE: $o" ;;
esac
uvfs_umount "$mp" && ok "fuse-roundtrips: teardown (writeback=0)" || nok "fuse-roundtrips: teardown: $WHY"

# Default (tmpfs, writeback cache): small writes reach uvfs as one WRITE.
mp=$T/wb
uvfs_mount "$mp" debug || { nok "fuse-roundtrips: mount"; exit 1; }
: >"$mp/tmp/new"
o=$(ops "$T/log.wb" dd if=/dev/zero of="$mp/tmp/new" bs=4096 count=8 conv=notrunc status=none)
n=$(grep -o ' WRITE' <<<" $o" | wc -l)
[ "$n" -le 1 ] && ok "fuse-roundtrips: 8 writes of 4 KiB, $n WRITE ($o)" ||
  nok "fuse-roundtrips: 8 writes of 4 KiB send $n WRITEs: $o"
[ "$(stat -c %s "$mp/tmp/new")" = 32768 ] && [ "$(cmp -n 32768 "$mp/tmp/new" /dev/zero && echo same)" = same ] &&
  ok "fuse-roundtrips: written data" || nok "fuse-roundtrips: written data: size $(stat -c %s "$mp/tmp/new")"

# Under the writeback cache the kernel sends FLUSH on every close whatever
# the open said; the export refuses the first (ENOSYS: nothing in a tree
# without 9p flushes), and the kernel sends none after that.
: >"$mp/tmp/c1"
o=$(ops "$T/log.wb" sh -c ": > $mp/tmp/c2; : > $mp/tmp/c3")
case " $o" in
*" FLUSH "*) nok "fuse-roundtrips: creates after the first still send FLUSH: $o" ;;
*" CREATE "*) ok "fuse-roundtrips: create+close with writeback, no FLUSH ($o)" ;;
*) nok "fuse-roundtrips: create+close with writeback: no CREATE: $o" ;;
esac

# tmpfs names are kept by the kernel as long as it likes (the export
# invalidates the ones that change in process): unlinking a name made
# more than a second ago needs no LOOKUP.
: >"$mp/tmp/old"
sleep 1.3
o=$(ops "$T/log.wb" rm -f "$mp/tmp/old")
case " $o" in
*" LOOKUP "*) nok "fuse-roundtrips: unlink of a name made 1.3 s ago revalidates it: $o" ;;
*" UNLINK "*) ok "fuse-roundtrips: unlink of an older name, no LOOKUP ($o)" ;;
*) nok "fuse-roundtrips: unlink: no UNLINK: $o" ;;
esac

# Workers: two per CPU, at least 4 (a tree without 9p), however many callers wait.
pid=${MPID[$mp]}
mkdir -p "$mp/tmp/par"
for i in $(seq 8); do (for j in $(seq 300); do : >"$mp/tmp/par/f$i-$j"; done) & done
wait_par() { local p; for p in $(jobs -p); do [ "$p" = "$pid" ] || wait "$p"; done; }
sleep 0.5
nt=$(ls /proc/"$pid"/task | wc -l)
wait_par
max=$(( 2 * $(nproc) < 4 ? 4 : 2 * $(nproc) ))
# the main thread (waits in the loop), the notifier, liburcu's call_rcu thread,
# workers, and one spare (once seen: 9 with 4 workers; libfuse 3.14 without a cap: 10)
[ "$nt" -le $((max + 4)) ] && ok "fuse-roundtrips: $nt threads under 8 parallel creators (cap $max workers)" ||
  nok "fuse-roundtrips: $nt threads under 8 parallel creators, more than $max workers"
uvfs_umount "$mp" && ok "fuse-roundtrips: teardown" || nok "fuse-roundtrips: teardown: $WHY"
