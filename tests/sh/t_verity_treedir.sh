#!/bin/bash
# uvfs verity seal --tree-dir: trees and manifests in a separate directory.
# The data directory is left untouched, the root hash equals the one with
# trees beside the files, and the pair moves as a whole (tar, untar
# elsewhere: resealing the moved copy gives the same hash and byte-identical
# trees, i.e. the moved trees are exactly what that location needs).
# Prints "ok NAME" / "not ok NAME: why" lines.
set -u
: "${UVFS:=build/uvfs}"
d=$(mktemp -d /tmp/uvfs-t-verity-td.XXXXXX)
trap 'rm -rf "$d"' EXIT

mk() { # a small tree at $1
  mkdir -p "$1/sub/deep"
  head -c 300000 /dev/urandom >"$1/big"
  printf 'x\n' >"$1/sub/x"
  printf 'y\n' >"$1/sub/deep/y"
  ln -s big "$1/link"
  chmod 0750 "$1/sub"
}
mk "$d/data"
mkdir "$d/trees"
before=$(cd "$d/data" && find . | sort | md5sum)
h1=$("$UVFS" verity seal --tree-dir="$d/trees" "$d/data" 2>&1)
after=$(cd "$d/data" && find . | sort | md5sum)
if [ "$before" = "$after" ]; then echo "ok verity treedir data untouched"
else echo "not ok verity treedir data untouched: seal wrote into the data directory"; fi
if [ -f "$d/trees/.merkle.verity" ] && [ -f "$d/trees/.merkle.verity.big" ] \
   && [ -f "$d/trees/sub/deep/.merkle.verity.y" ]; then echo "ok verity treedir mirror"
else echo "not ok verity treedir mirror: $(cd "$d/trees" && find . | tr '\n' ' ')"; fi

# The same bytes sealed beside the files: the same root hash.
cp -a "$d/data" "$d/beside"
h2=$("$UVFS" verity seal "$d/beside" 2>&1)
if [ "${#h1}" = 64 ] && [ "$h1" = "$h2" ]; then echo "ok verity treedir same hash as beside"
else echo "not ok verity treedir same hash as beside: '$h1' vs '$h2'"; fi
if cmp -s "$d/trees/sub/.merkle.verity.x" "$d/beside/sub/.merkle.verity.x" \
   && cmp -s "$d/trees/.merkle.verity" "$d/beside/.merkle.verity"; then echo "ok verity treedir same tree bytes"
else echo "not ok verity treedir same tree bytes"; fi

# Move the pair (tar keeps modes and owners) and reseal the moved copy into
# a fresh tree directory: same hash, same trees.
mkdir "$d/moved"
tar -C "$d" -cf - data trees | tar -C "$d/moved" -xpf -
mkdir "$d/fresh"
h3=$("$UVFS" verity seal --tree-dir="$d/fresh" "$d/moved/data" 2>&1)
if [ "$h3" = "$h1" ] && diff -r "$d/fresh" "$d/moved/trees" >/dev/null; then echo "ok verity treedir moves as a whole"
else echo "not ok verity treedir moves as a whole: '$h3' vs '$h1' or trees differ"; fi

# Errors: a missing tree directory, a file as tree directory.
if ! "$UVFS" verity seal --tree-dir="$d/nope" "$d/data" >/dev/null 2>&1 \
   && ! "$UVFS" verity seal --tree-dir="$d/data/big" "$d/data" >/dev/null 2>&1; then echo "ok verity treedir bad tree dir"
else echo "not ok verity treedir bad tree dir: seal accepted it"; fi

# -t verity with tree_dir=HOSTPATH: the tree directory, outside DIR, is
# served too (a second read-only gofer) and verity reads its trees there.
out=$("$UVFS" cat -t verity -o "root_hash=$h1,tree_dir=$d/trees" "$d/data" /sub/x 2>&1)
[ "$out" = x ] && echo "ok verity treedir cli cat" || echo "not ok verity treedir cli cat: '$out'"
"$UVFS" cat -t verity -o "root_hash=$h1,tree_dir=$d/trees,action=error" "$d/data" /big 2>"$d/err" |
  cmp -s - "$d/data/big" && echo "ok verity treedir cli cat big" ||
  echo "not ok verity treedir cli cat big: $(cat "$d/err")"
out=$("$UVFS" ls -t verity -o "tree_dir=$d/trees,root_hash=$h1" "$d/data" /sub 2>&1 | awk '{print $NF}' | tr '\n' ' ')
[ "$out" = "deep x " ] && echo "ok verity treedir cli ls" || echo "not ok verity treedir cli ls: '$out'"
# Without tree_dir= the data directory has no trees: the mount fails.
"$UVFS" ls -t verity -o "root_hash=$h1" "$d/data" / >/dev/null 2>&1; rc=$?
[ $rc != 0 ] && echo "ok verity treedir cli needs the trees" || echo "not ok verity treedir cli needs the trees: rc=$rc"
# A tree directory of another tree (the moved pair's trees, after a byte
# changed in the moved data): names match but a data block does not.
printf 'X' | dd of="$d/moved/data/big" bs=1 seek=4097 conv=notrunc 2>/dev/null
out=$("$UVFS" cat -t verity -o "root_hash=$h1,tree_dir=$d/moved/trees" "$d/moved/data" /big 2>&1 >/dev/null); rc=$?
out2=$("$UVFS" cat -t verity -o "root_hash=$h1,tree_dir=$d/moved/trees" "$d/moved/data" /sub/deep/y 2>&1)
if [ $rc != 0 ] && [[ $out == *"Input/output error"* ]] && [ "$out2" = y ]; then echo "ok verity treedir cli flipped byte EIO"
else echo "not ok verity treedir cli flipped byte EIO: rc=$rc '$out' '$out2'"; fi
# Errors: a missing tree directory, an empty tree_dir=.
"$UVFS" ls -t verity -o "root_hash=$h1,tree_dir=$d/nope" "$d/data" / >/dev/null 2>&1; rc=$?
"$UVFS" ls -t verity -o "root_hash=$h1,tree_dir=" "$d/data" / >/dev/null 2>&1; rc2=$?
[ $rc != 0 ] && [ $rc2 != 0 ] && echo "ok verity treedir cli bad tree_dir" || echo "not ok verity treedir cli bad tree_dir: rc=$rc/$rc2"
