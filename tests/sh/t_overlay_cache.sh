#!/bin/bash
# `uvfs mount -t overlay` lets the kernel cache an overlay's directory
# listings (cache_readdir) and file pages (keep_cache): every change made
# through the mount must still show at once — creates, removals, renames,
# copy-ups (of a lower file and of a lower directory by a create in it),
# writes after a cached read — and the upper directory on the host must be
# the copy (owner, mode, times of a copied-up file; nothing left in work).
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse overlay-cache
d=$T/ovcache
mkdir -p "$d/l/dir" "$d/u" "$d/w" "$d/m"
echo lower >"$d/l/dir/a"
echo b >"$d/l/b"
chown 1234:5678 "$d/l/b"; chmod 0640 "$d/l/b"; touch -d '2011-02-03 04:05:06' "$d/l/b"
"$UVFS" mount -f -t overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" overlay "$d/m" 2>"$T/log.m" &
MPID[$d/m]=$!
for _ in $(seq 100); do is_mounted "$d/m" && break; sleep 0.05; done
is_mounted "$d/m" || { nok "overlay-cache: mount: $(cat "$T/log.m")"; exit 1; }
M=$d/m
fail=
check() { # NAME EXPECTED ACTUAL
  [ "$2" = "$3" ] || { nok "overlay-cache: $1: expected '$2', got '$3'"; fail=1; }
}
ls1() { ls -A "$1" | tr '\n' ' '; }

check "first listing" "b dir " "$(ls1 "$M")"
touch "$M/new"
check "listing after a create" "b dir new " "$(ls1 "$M")"
mv "$M/new" "$M/renamed"
check "listing after a rename" "b dir renamed " "$(ls1 "$M")"
rm "$M/renamed"
check "listing after a removal" "b dir " "$(ls1 "$M")"
check "lower dir listing" "a " "$(ls1 "$M/dir")"
echo c >"$M/dir/c" # copies dir up
check "listing after a create in a lower dir" "a c " "$(ls1 "$M/dir")"
rm "$M/dir/a" # whiteout
check "listing after removing a lower file" "c " "$(ls1 "$M/dir")"
check "cached read" "b" "$(cat "$M/b")"
echo more >>"$M/b" # copy-up of b
check "read after the copy-up" "b more" "$(cat "$M/b" | tr '\n' ' ' | sed 's/ $//')"
check "size through the mount" "7" "$(stat -c %s "$M/b")"
check "upper copy: owner, mode" "1234:5678 640" "$(stat -c '%u:%g %a' "$d/u/b")"
check "upper copy: data" "b more" "$(tr '\n' ' ' <"$d/u/b" | sed 's/ $//')"
check "work left empty" "" "$(ls -A "$d/w" | grep -v '^work$' | tr '\n' ' ')"
touch -d "2011-02-03 04:05:06" "$M/dir/c"
check "times through the mount" "2011-02-03" "$(stat -c %y "$M/dir/c" | cut -c1-10)"
if uvfs_umount "$M"; then :; else nok "overlay-cache: unmount: $WHY"; fail=1; fi
[ -z "$fail" ] && ok overlay-cache
