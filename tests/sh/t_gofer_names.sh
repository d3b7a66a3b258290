#!/bin/bash
# Names from a 9p server are data: `uvfs ls|tree -t 9p` and `uvfs 9p ls`
# print them escaped (\ooo for control bytes, as `ls -b`), so a hostile
# export cannot send escape sequences to the terminal.
set -u
UVFS=$(readlink -f "${UVFS:-build/uvfs}")
h=$(mktemp -d /tmp/uvfs-t-gnames.XXXXXX)
trap 'rm -rf "$h"' EXIT
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; }
evil=$(printf 'a\033]0;pwned\007b\033[31mred\r')
touch "$h/$evil"; ln -s "$evil" "$h/link"; echo plain >"$h/plain"
# raw control bytes (ESC, BEL, CR) in the output fail the test
bad() { LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' <<<"$1"; }
for cmd in ls tree; do
  out=$("$UVFS" $cmd -t 9p "$h" / 2>&1)
  if bad "$out"; then nok "gofer-names $cmd -t 9p: raw control bytes printed"
  elif grep -qF 'a\033]0;pwned\007b\033[31mred\015' <<<"$out" && grep -q plain <<<"$out"; then ok "gofer-names $cmd -t 9p escapes"
  else nok "gofer-names $cmd -t 9p: $(printf '%q' "$out")"; fi
done
# the link target, in ls -l
out=$("$UVFS" ls -l -t 9p "$h" / 2>&1 | grep -- '->')
bad "$out" && nok "gofer-names link target: raw control bytes" || ok "gofer-names link target escaped"
# uvfs 9p ls against a diod on a unix socket
sock=$h.sock
/usr/sbin/diod -f -l "$sock" -e "$h" -n -N -c /dev/null -L stderr 2>/dev/null &
dp=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done; sleep 0.2
out=$("$UVFS" 9p -a "$h" ls "unix:$sock" / 2>&1)
kill $dp; wait $dp 2>/dev/null; rm -f "$sock"
if bad "$out"; then nok "gofer-names 9p ls: raw control bytes printed"
elif grep -qF 'a\033]0;pwned\007b' <<<"$out"; then ok "gofer-names 9p ls escapes"
else nok "gofer-names 9p ls: $(printf '%q' "$out")"; fi
exit 0
