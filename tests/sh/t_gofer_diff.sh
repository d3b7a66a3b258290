#!/bin/bash
# Differential test on the gofer: tests/fuse/difftest.c runs its program of
# syscalls in a kernel tmpfs directory and in `uvfs mount -t 9p HOSTDIR MNT`
# (HOSTDIR itself on a tmpfs), in cache=fscache and cache=remote_revalidating;
# the transcripts must be identical, and afterwards the host directory must
# hold what the program left in the reference tmpfs (a manifest of types,
# modes, owners, sizes, contents, link targets, xattrs, hard-link groups).
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse gofer-diff

bin=$ROOT/build/fuse-difftest
if ! ${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Werror -o "$bin" "$ROOT/tests/fuse/difftest.c" 2>"$T/cc.log"; then
  nok "gofer-diff: difftest does not build: $(head -5 "$T/cc.log")"; exit 1
fi
ref=$(mktemp -d /dev/shm/uvfs-t-gdref.XXXXXX)
host=$(mktemp -d /dev/shm/uvfs-t-gdhost.XXXXXX)
trap 'cleanup; rm -rf "$ref" "$host"' EXIT
chmod 755 "$ref" "$host"
if [ "$(stat -f -c %T "$host")" != tmpfs ]; then nok "gofer-diff: /dev/shm is not a tmpfs"; exit 1; fi
# DIFFTEST_9P: both runs leave out what 9P2000.L cannot express (see difftest.c).
export DIFFTEST_9P=1
"$bin" "$ref" >"$T/host.txt" 2>"$T/host.err"; hrc=$?

manifest() (
  cd "$1" || exit 1
  find . -mindepth 1 -printf '%y %m %U:%G %p\n' | while read -r y m own p; do
    line="$y $m $own"
    case $y in
      f) line="$line $(stat -c %s "$p") $(md5sum <"$p" | cut -c1-12)";;
      l) line="$line -> $(readlink "$p")";;
      c|b) line="$line $(stat -c '%t:%T' "$p")";;
    esac
    xa=$(getfattr -h -d -m '^user\.' "$p" 2>/dev/null | grep -v '^#' | grep . | sort | tr '\n' ' ')
    echo "$p: $line $xa"
  done | sort
  echo "hardlinks:"
  find . -type f -links +1 -printf '%i %p\n' | sort | awk '{g[$1]=g[$1] " " $2} END {for (i in g) print g[i]}' \
    | while read -r l; do tr ' ' '\n' <<<"$l" | sort | tr '\n' ' '; echo; done | sort
)
manifest "$ref" >"$T/ref.man"

mp=$T/mnt
for cache in remote_revalidating fscache; do
  tag="gofer-diff [$cache]"
  rm -rf "${host:?}"/* "$host"/.[!.]* 2>/dev/null; mkdir "$host/diff"
  mkdir -p "$mp"
  # allow_other: the program's permission phase runs as uid 1000.
  env --default-signal=INT "$UVFS" mount -f -t 9p -o "cache=$cache,allow_other,dev,suid" "$host" "$mp" 2>"$T/log.mnt" &
  MPID[$mp]=$!
  for _ in $(seq 100); do is_mounted "$mp" && break; kill -0 "${MPID[$mp]}" 2>/dev/null || break; sleep 0.05; done
  is_mounted "$mp" || { nok "$tag: mount: $(cat "$T/log.mnt")"; exit 1; }
  timeout 120 "$bin" "$mp/diff" >"$T/fuse.txt" 2>"$T/fuse.err"; frc=$?
  n=$(wc -l <"$T/host.txt")
  if [ $hrc != 0 ] || [ $frc != 0 ]; then
    nok "$tag: difftest exit host=$hrc 9p=$frc: $(cat "$T/host.err" "$T/fuse.err")"
  elif [ "$n" -lt 150 ]; then
    nok "$tag: host transcript too short ($n lines)"
  elif ! diff -u "$T/host.txt" "$T/fuse.txt" >"$T/diff.txt"; then
    nok "$tag: $(grep -c '^+[0-9]' "$T/diff.txt") of $n results differ (- kernel tmpfs, + uvfs 9p):"
    grep '^[-+][0-9]' "$T/diff.txt" | sed 's/^/#   /'
  else
    ok "$tag: $n syscall results identical to kernel tmpfs"
  fi
  # what the program left behind, seen through the mount, and on the host
  # after the unmount (fscache writes back on close and at teardown)
  manifest "$mp/diff" >"$T/mnt.man"
  diff -u "$T/ref.man" "$T/mnt.man" >"$T/mnt.diff" && ok "$tag: tree seen through the mount" ||
    { nok "$tag: tree through the mount differs (- tmpfs, + mount)"; grep '^[-+][^-+]' "$T/mnt.diff" | head -15 | sed 's/^/#   /'; }
  if uvfs_umount "$mp"; then ok "$tag: unmount, 0 live objects"; else nok "$tag: unmount: $WHY"; fi
  manifest "$host/diff" >"$T/host.man"
  diff -u "$T/ref.man" "$T/host.man" >"$T/host.diff" && ok "$tag: host directory holds the expected tree" ||
    { nok "$tag: host directory differs (- tmpfs, + host)"; grep '^[-+][^-+]' "$T/host.diff" | head -15 | sed 's/^/#   /'; }
done
exit 0
