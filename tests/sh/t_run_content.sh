#!/bin/bash
# `uvfs run`: regular file content. Every writable open's memfd is written
# back to the tree at the next handled call; files no tracee can write any
# more leave that list (their last content synced first), so the cost of a
# call does not grow with the number of files written before it, and a
# file opened writable again joins it again.
set -u
D=$(mktemp -d /tmp/uvfs-trunc-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if ! command -v ldd >/dev/null || [ ! -x /bin/bash ]; then echo "ok run-content-skipped # no ldd or bash"; exit 0; fi
Y=$D/dyn
P="/usr/bin/cat /usr/bin/stat /bin/bash"
for f in $P $(ldd $P | grep -o '/[^ :]*' | sort -u); do
  mkdir -p "$Y$(dirname "$f")" && cp -L "$f" "$Y$f"
done
[ -e /etc/ld.so.cache ] && mkdir -p "$Y/etc" && cp /etc/ld.so.cache "$Y/etc/"
mkdir -p "$Y/w" && echo hello > "$Y/w/x"
calls='for i in {1..200}; do [ -e /w/x ]; done' # handled calls: prunes happen meanwhile

# a writer that stays open across many calls keeps being written back; a
# file written, closed and written again (appended) after many calls too
out=$("$UVFS" run --root "$Y" --dump "$D/dump" -- /bin/bash -c "exec 3>/w/g; echo a >&3; $calls; echo b >&3
  echo a > /w/h; $calls; echo bbb >> /w/h; $calls; stat -c %s /w/g /w/h; echo cc >&3" 2>&1); rc=$?
check run-content-stat "0:4 6" "$rc:$(echo $out)"
check run-content-dump "f 0644 7 /w/g f 0644 6 /w/h" "$(echo $(grep -e ' /w/g$' -e ' /w/h$' "$D/dump"))"

# 2000 files written (and closed) before: a handled call costs what it did
# before them (it used to check every file ever written: 2000 fstats each)
S='t() { local t0=$EPOCHREALTIME; for i in {1..1000}; do [ -e /w/x ]; done; echo $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 )); }
a=$(t); for i in {1..2000}; do echo $i > /w/f$i; done; b=$(t); echo $a $b'
out=$("$UVFS" run --root "$Y" -- /bin/bash -c "$S" 2>&1)
set -- $out
check run-content-calls-flat "yes" "$([ $# = 2 ] && [ "$2" -le $(( 3 * $1 + 20 )) ] && echo yes || echo "1000 calls: $1 ms before, $2 ms after the files: $out")"
