#!/bin/bash
# uvfs verity digest/build/verify against the Debian fsverity tool.
# Prints "ok NAME" / "not ok NAME: why" lines.
set -u
: "${UVFS:=build/uvfs}"
if ! command -v fsverity >/dev/null; then
  echo "not ok verity: fsverity tool not installed"; exit 1
fi
d=$(mktemp -d /tmp/uvfs-t-verity.XXXXXX)
trap 'rm -rf "$d"' EXIT

: >"$d/empty"
printf a >"$d/one"
head -c 4096 /dev/zero >"$d/z4096"
head -c 4097 /dev/zero >"$d/z4097"
head -c 3000000 /dev/urandom >"$d/rand3m"
head -c 70001 /dev/urandom >"$d/rand70k"
files=("$d/empty" "$d/one" "$d/z4096" "$d/z4097" "$d/rand3m" "$d/rand70k")

check() { # name, then the common options
  local name=$1; shift
  local a b
  a=$("$UVFS" verity digest "${files[@]}" "$@" 2>&1); b=$(fsverity digest "${files[@]}" "$@" 2>&1)
  if [ "$a" = "$b" ]; then echo "ok verity digest $name"
  else echo "not ok verity digest $name: uvfs said '$a', fsverity said '$b'"; fi
}
check default
check sha512 --hash-alg=sha512
check 1k-salt --block-size=1024 --salt=00112233445566778899
check 64k-sha512-salt --hash-alg=sha512 --block-size=65536 --salt=ff
check compact --compact --block-size=2048
check for-builtin-sig --for-builtin-sig --hash-alg=sha512

# build: tree and descriptor bytes equal fsverity's
for f in rand3m rand70k one; do
  "$UVFS" verity build "$d/$f" --out-tree "$d/t1" --out-descriptor "$d/d1" --block-size=1024 >/dev/null
  fsverity digest "$d/$f" --out-merkle-tree="$d/t2" --out-descriptor="$d/d2" --block-size=1024 >/dev/null
  if cmp -s "$d/t1" "$d/t2" && cmp -s "$d/d1" "$d/d2"; then echo "ok verity build $f"
  else echo "not ok verity build $f: tree or descriptor differs from fsverity"; fi
done

# verify: accepts the right file, rejects a flipped byte with EIO
"$UVFS" verity build "$d/rand3m" --out-tree "$d/t" --out-descriptor "$d/desc" >/dev/null
dig=$(fsverity digest "$d/rand3m" | cut -d' ' -f1)
if "$UVFS" verity verify "$d/rand3m" --tree "$d/t" --descriptor "$d/desc" --digest "$dig" >/dev/null 2>&1
then echo "ok verity verify good file"; else echo "not ok verity verify good file: rejected"; fi
cp "$d/rand3m" "$d/bad"
b=$(od -An -tu1 -j2999999 -N1 "$d/bad" | tr -d ' ')
printf "\\x$(printf %02x $((b ^ 1)))" | dd of="$d/bad" bs=1 seek=2999999 conv=notrunc 2>/dev/null
out=$("$UVFS" verity verify "$d/bad" --tree "$d/t" --descriptor "$d/desc" --digest "$dig" 2>&1); rc=$?
if ! cmp -s "$d/bad" "$d/rand3m" && [ $rc = 1 ] && grep -q 'Input/output error' <<<"$out"; then
  echo "ok verity verify tampered file"
else echo "not ok verity verify tampered file: rc=$rc out=$out"; fi
# bad arguments: clear error, no crash
"$UVFS" verity digest --block-size=3000 "$d/one" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && echo "ok verity bad block size" || echo "not ok verity bad block size: rc=$rc"
a=$("$UVFS" verity digest "$d/one" "$d/nonexistent" "$d/z4096" 2>/dev/null); rc=$?
b=$(fsverity digest "$d/one" "$d/nonexistent" "$d/z4096" 2>/dev/null)
[ $rc = 1 ] && [ "$a" = "$b" ] && echo "ok verity missing file" \
  || echo "not ok verity missing file: rc=$rc, output '$a' vs fsverity '$b'"

# verify: the data size is part of the descriptor, so bytes appended after
# the sealed size (or a byte cut off) must fail verification.
cp "$d/rand3m" "$d/app"; printf x >>"$d/app"
out=$("$UVFS" verity verify "$d/app" --tree "$d/t" --descriptor "$d/desc" --digest "$dig" 2>&1); rc=$?
[ $rc = 1 ] && grep -q 'Input/output error' <<<"$out" && echo "ok verity verify appended byte" \
  || echo "not ok verity verify appended byte: rc=$rc out=$out"
head -c 2999999 "$d/rand3m" >"$d/cut"
out=$("$UVFS" verity verify "$d/cut" --tree "$d/t" --descriptor "$d/desc" --digest "$dig" 2>&1); rc=$?
[ $rc = 1 ] && echo "ok verity verify truncated byte" || echo "not ok verity verify truncated byte: rc=$rc out=$out"

# Runs a command under GNU time: its exit status in $rss_rc, its max RSS in
# KiB in $kb, its output in $d/cmd.out.
maxrss() {
  /usr/bin/time -v -o "$d/time.out" "$@" >"$d/cmd.out" 2>&1; rss_rc=$?
  kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$d/time.out")
}
# --descriptor: a 4 GiB file is refused by its size, not read whole first.
truncate -s 4G "$d/bigdesc"
maxrss "$UVFS" verity verify "$d/rand3m" --tree "$d/t" --descriptor "$d/bigdesc" --digest "$dig"
if [ "$rss_rc" = 1 ] && [ "$kb" -lt 65536 ]; then echo "ok verity verify huge descriptor"
else echo "not ok verity verify huge descriptor: rc=$rss_rc max RSS ${kb} KiB"; fi
rm -f "$d/bigdesc"

# digest streams: a 4 GiB sparse file (32 MiB of level-0 hashes) in bounded
# memory, with fsverity's digest.
truncate -s 4G "$d/sparse"
maxrss "$UVFS" verity digest "$d/sparse"
a=$(cat "$d/cmd.out"); b=$(fsverity digest "$d/sparse")
if [ "$rss_rc" = 0 ] && [ "$a" = "$b" ] && [ "$kb" -lt 24576 ]; then echo "ok verity digest streams (${kb} KiB)"
else echo "not ok verity digest streams: rc=$rss_rc max RSS ${kb} KiB, '$a' vs '$b'"; fi
rm -f "$d/sparse"

# seal: a host tree gets a root hash that is stable, moves with the tree
# (tar), changes with any byte, and per-file trees that are fsverity's.
s="$d/sealme"; mkdir -p "$s/sub/deep"
head -c 70001 /dev/urandom >"$s/f"; printf hi >"$s/sub/g"; : >"$s/sub/deep/e"; ln -s f "$s/l"
h1=$("$UVFS" verity seal "$s"); rc=$?
h2=$("$UVFS" verity seal "$s")
if [ $rc = 0 ] && [[ $h1 =~ ^[0-9a-f]{64}$ ]] && [ "$h1" = "$h2" ]; then echo "ok verity seal stable"
else echo "not ok verity seal stable: rc=$rc '$h1' vs '$h2'"; fi
fsverity digest "$s/f" --out-merkle-tree="$d/ft" --out-descriptor="$d/fd" >/dev/null
if cmp -s <(head -c 256 "$s/.merkle.verity.f") "$d/fd" && cmp -s <(tail -c +257 "$s/.merkle.verity.f") "$d/ft"
then echo "ok verity seal tree is fsverity's"; else echo "not ok verity seal tree is fsverity's"; fi
mkdir "$d/moved"; tar -C "$s" -cf - . | tar -C "$d/moved" -xpf -
h3=$("$UVFS" verity seal "$d/moved")
[ "$h3" = "$h1" ] && echo "ok verity seal moves with tar" || echo "not ok verity seal moves with tar: '$h3' vs '$h1'"
printf x >>"$d/moved/sub/g"; h4=$("$UVFS" verity seal "$d/moved")
[ "$h4" != "$h1" ] && echo "ok verity seal sees a changed byte" || echo "not ok verity seal sees a changed byte"
"$UVFS" verity seal "$d/nonexistent" >/dev/null 2>&1; rc=$?
[ $rc = 1 ] && echo "ok verity seal missing dir" || echo "not ok verity seal missing dir: rc=$rc"

# -t verity: a sealed host directory served by a gofer, checked on the way.
v="$d/vsrc"; mkdir -p "$v/sub"
printf 'hello verity\n' >"$v/a.txt"
head -c 200000 /dev/urandom >"$v/sub/big"
head -c 30000 /dev/urandom >"$v/sub/cold" # not read before it is tampered with
ln -s a.txt "$v/link"
vh=$("$UVFS" verity seal "$v")
out=$("$UVFS" cat -t verity -o "root_hash=$vh" "$v" /a.txt 2>&1)
[ "$out" = "hello verity" ] && echo "ok verity cli cat" || echo "not ok verity cli cat: '$out'"
"$UVFS" cat -t verity -o "root_hash=$vh,action=error" "$v" /sub/big 2>"$d/err" | cmp -s - "$v/sub/big" &&
  echo "ok verity cli cat big" || echo "not ok verity cli cat big: $(cat "$d/err")"
out=$("$UVFS" ls -t verity -o "root_hash=$vh" "$v" / 2>&1 | awk '{print $(NF>=3 && $(NF-1)=="->" ? NF-2 : NF)}' | tr '\n' ' ')
[ "$out" = "a.txt link sub " ] && echo "ok verity cli ls" || echo "not ok verity cli ls: '$out'"
bad=$(printf '%064d' 0)
out=$("$UVFS" ls -t verity -o "root_hash=$bad" "$v" / 2>&1); rc=$?
if [ $rc != 0 ] && [[ $out == *"root hash does not match"* ]]; then echo "ok verity cli wrong hash fails"
else echo "not ok verity cli wrong hash fails: rc=$rc '$out'"; fi
"$UVFS" ls -t verity -o root_hash=xyz "$v" / >/dev/null 2>&1; rc=$?
[ $rc != 0 ] && echo "ok verity cli bad hash" || echo "not ok verity cli bad hash: rc=$rc"

# lower=HOSTDIR names the lower in the options instead of SOURCE (issue 14);
# an empty one is refused.
out=$("$UVFS" ls -t verity -o "root_hash=$vh,lower=$v" / 2>&1 | awk '{print $(NF>=3 && $(NF-1)=="->" ? NF-2 : NF)}' | tr '\n' ' ')
[ "$out" = "a.txt link sub " ] && echo "ok verity cli lower= ls" || echo "not ok verity cli lower= ls: '$out'"
out=$("$UVFS" cat -t verity -o "lower=$v,root_hash=$vh" /a.txt 2>&1)
[ "$out" = "hello verity" ] && echo "ok verity cli lower= cat" || echo "not ok verity cli lower= cat: '$out'"
out=$("$UVFS" ls -t verity -o "root_hash=$bad,lower=$v" / 2>&1); rc=$?
if [ $rc != 0 ] && [[ $out == *"root hash does not match"* ]]; then echo "ok verity cli lower= wrong hash fails"
else echo "not ok verity cli lower= wrong hash fails: rc=$rc '$out'"; fi
"$UVFS" ls -t verity -o "root_hash=$vh,lower=" / >/dev/null 2>&1; rc=$?
[ $rc != 0 ] && echo "ok verity cli lower= empty" || echo "not ok verity cli lower= empty: rc=$rc"

# FUSE: mount, read, then a byte flipped on the host is EIO for that file only.
if [ "$(id -u)" = 0 ] && [ -w /dev/fuse ] && command -v fusermount3 >/dev/null; then
  mp="$d/mnt"; mkdir -p "$mp"
  env --default-signal=INT "$UVFS" mount -f -t verity -o "root_hash=$vh,action=error" "$v" "$mp" 2>"$d/mlog" &
  mpid=$!
  for _ in $(seq 100); do grep -q " $mp fuse" /proc/mounts && break; kill -0 $mpid 2>/dev/null || break; sleep 0.05; done
  if grep -q " $mp fuse" /proc/mounts; then
    [ "$(cat "$mp/a.txt" 2>&1)" = "hello verity" ] && cmp -s "$mp/sub/big" "$v/sub/big" &&
      echo "ok verity mount reads" || echo "not ok verity mount reads: $(cat "$d/mlog")"
    # A byte flipped in a file not read yet (blocks verified before are
    # kept, by design: later changes on the host do not reach them).
    printf 'X' | dd of="$v/sub/cold" bs=1 seek=12345 conv=notrunc 2>/dev/null
    out=$(cat "$mp/sub/cold" 2>&1 >/dev/null)
    if [[ $out == *"Input/output error"* ]] && [ "$(cat "$mp/a.txt")" = "hello verity" ] &&
       cmp -s "$mp/sub/big" "$v/sub/big"; then echo "ok verity mount flipped byte EIO"
    else echo "not ok verity mount flipped byte EIO: '$out'"; fi
    fusermount3 -u "$mp"; wait $mpid; rc=$?
    [ $rc = 0 ] && grep -q '^uvfs: teardown: 0 live objects$' "$d/mlog" && echo "ok verity mount teardown" ||
      echo "not ok verity mount teardown: rc=$rc $(tr '\n' ' ' <"$d/mlog")"
  else
    echo "not ok verity mount: $(cat "$d/mlog")"; kill $mpid 2>/dev/null; wait $mpid 2>/dev/null
  fi
  # lower= instead of SOURCE: uvfs mount -t verity -o root_hash=H,lower=DIR MOUNTPOINT
  env --default-signal=INT "$UVFS" mount -f -t verity -o "root_hash=$vh,lower=$v" "$mp" 2>"$d/mlog" &
  mpid=$!
  for _ in $(seq 100); do grep -q " $mp fuse" /proc/mounts && break; kill -0 $mpid 2>/dev/null || break; sleep 0.05; done
  if grep -q " $mp fuse" /proc/mounts; then
    [ "$(cat "$mp/a.txt" 2>&1)" = "hello verity" ] && echo "ok verity mount lower=" ||
      echo "not ok verity mount lower=: $(cat "$d/mlog")"
    fusermount3 -u "$mp"; wait $mpid
  else
    echo "not ok verity mount lower=: $(cat "$d/mlog")"; kill $mpid 2>/dev/null; wait $mpid 2>/dev/null
  fi
  env --default-signal=INT "$UVFS" mount -f -t verity -o "root_hash=$bad" "$v" "$mp" 2>"$d/mlog"; rc=$?
  [ $rc != 0 ] && ! grep -q " $mp fuse" /proc/mounts && echo "ok verity mount wrong hash fails" ||
    { echo "not ok verity mount wrong hash fails: rc=$rc"; fusermount3 -u -z "$mp" 2>/dev/null; }
  # in process: the flipped file is EIO, the rest reads
  out=$("$UVFS" cat -t verity -o "root_hash=$vh" "$v" /sub/cold 2>&1 >/dev/null); rc=$?
  if [ $rc != 0 ] && [[ $out == *"Input/output error"* ]]; then echo "ok verity cli flipped byte EIO"
  else echo "not ok verity cli flipped byte EIO: rc=$rc '$out'"; fi
else
  echo "not ok verity mount: needs root, /dev/fuse and fusermount3"
fi
