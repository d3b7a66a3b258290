#!/bin/bash
# Differential test: tests/fuse/difftest.c runs one program of syscalls in a
# kernel tmpfs directory and in the uvfs FUSE mount; the transcripts (every
# result, errno and checked stat field) must be identical.
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse fuse-diff

bin=$ROOT/build/fuse-difftest
if ! ${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Werror -o "$bin" "$ROOT/tests/fuse/difftest.c" 2>"$T/cc.log"; then
  nok "fuse-diff: difftest does not build: $(head -5 "$T/cc.log")"; exit 1
fi
host=$(mktemp -d /dev/shm/uvfs-t-diff.XXXXXX)
if [ "$(stat -f -c %T "$host")" != tmpfs ]; then nok "fuse-diff: /dev/shm is not a tmpfs"; rm -rf "$host"; exit 1; fi
"$bin" "$host" >"$T/host.txt" 2>"$T/host.err"; hrc=$?
rm -rf "$host"

# Twice: with the kernel's 1 s caches, and with every request reaching uvfs.
for opts in allow_other,dev,suid allow_other,dev,suid,entry_timeout=0,attr_timeout=0; do
  tag=; [[ $opts == *timeout=0* ]] && tag=" (no kernel cache)"
  mp=$T/mnt
  # dev,suid: like the host tmpfs; allow_other: the user phase runs as uid 1000.
  uvfs_mount "$mp" "$opts" || { nok "fuse-diff$tag: mount failed"; exit 1; }
  mkdir "$mp/tmp/diff"
  timeout 120 "$bin" "$mp/tmp/diff" >"$T/fuse.txt" 2>"$T/fuse.err"; frc=$?
  n=$(wc -l <"$T/host.txt")
  if [ $hrc != 0 ] || [ $frc != 0 ]; then
    nok "fuse-diff$tag: difftest exit host=$hrc fuse=$frc: $(cat "$T/host.err" "$T/fuse.err")"
  elif [ "$n" -lt 150 ]; then
    nok "fuse-diff$tag: host transcript too short ($n lines)"
  elif ! diff -u "$T/host.txt" "$T/fuse.txt" >"$T/diff.txt"; then
    nok "fuse-diff$tag: $(grep -c '^+[0-9]' "$T/diff.txt") of $n results differ (- host tmpfs, + uvfs):"
    grep '^[-+][0-9]' "$T/diff.txt" | sed 's/^/#   /'
  else
    ok "fuse-diff$tag: $n syscall results identical to kernel tmpfs"
  fi
  # the tree the program left behind is still consistent and removable
  rm -rf "$mp/tmp/diff" && [ -z "$(ls -A "$mp/tmp")" ] && ok "fuse-diff$tag: rm -rf of the result" || nok "fuse-diff$tag: rm -rf failed"
  uvfs_umount "$mp" && ok "fuse-diff$tag: unmount, 0 live objects" || nok "fuse-diff$tag: unmount: $WHY"
done
