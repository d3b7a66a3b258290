#!/bin/bash
# `uvfs 9p` against real diod servers: a private one on a socketpair
# (diod:DIR) and one listening on 127.0.0.1 (tcp:).
set -u
D=$(mktemp -d /tmp/uvfs-t9p-XXXXXX)
pid=
cleanup() { { [ -n "$pid" ] && kill -9 "$pid" && wait "$pid"; } 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
mkdir "$D/sub"; printf 'hello 9p\n' > "$D/a.txt"; ln -s a.txt "$D/link"
head -c 3000000 /dev/urandom > "$D/big"

check 9p-ls "$(printf 'a.txt\nbig\nlink\nsub/')" "$("$UVFS" 9p ls "diod:$D" / 2>&1)"
check 9p-cat "hello 9p" "$("$UVFS" 9p cat "diod:$D" a.txt 2>&1)"
check 9p-cat-big "$(sha256sum < "$D/big")" "$("$UVFS" 9p cat "diod:$D" big | sha256sum)"
check 9p-stat-link "Target: a.txt" "$("$UVFS" 9p stat "diod:$D" link | grep Target)"
check 9p-stat-size "3000000" "$("$UVFS" 9p stat "diod:$D" big | sed -n 's/.*Size: \([0-9]*\).*/\1/p')"
out=$("$UVFS" 9p cat "diod:$D" missing 2>&1); rc=$?
check 9p-enoent "1:uvfs 9p: missing: No such file or directory" "$rc:$out"
"$UVFS" 9p frob "diod:$D" / >/dev/null 2>&1; check 9p-usage 2 $?

# TCP: a diod listening on a free loopback port.
for try in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  /usr/sbin/diod -f -l 127.0.0.1:$port -e "$D" -n -N -c /dev/null -L stderr 2>/dev/null &
  pid=$!
  for i in $(seq 50); do
    out=$("$UVFS" 9p -a "$D" ls tcp:127.0.0.1:$port /sub 2>&1) && break
    sleep 0.1
  done
  [ -z "$out" ] && break
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; pid=
done
check 9p-tcp-ls "" "$out"
check 9p-tcp-cat "hello 9p" "$("$UVFS" 9p -a "$D" cat tcp:127.0.0.1:$port a.txt 2>&1)"
# fd:N — a connection inherited from the shell (bash opens the TCP socket).
if exec 5<>/dev/tcp/127.0.0.1/$port 2>/dev/null; then
  check 9p-fd-cat "hello 9p" "$("$UVFS" 9p -a "$D" cat fd:5 a.txt 2>&1)"
  exec 5>&-
else
  echo "not ok 9p-fd-cat: could not connect to 127.0.0.1:$port"
fi
out=$("$UVFS" 9p ls fd:x / 2>&1); rc=$?
check 9p-fd-bad "1:uvfs 9p: fd:x: Invalid argument" "$rc:$out"
