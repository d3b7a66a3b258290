#!/bin/bash
# uvfs demo | head (SIGPIPE) and ^C (SIGINT to the whole process group) leave
# no FUSE mount and no /tmp/uvfs-demo.* directory behind.
set -u
: "${UVFS:=build/uvfs}"
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; }
if [ "$(id -u)" != 0 ] || [ ! -w /dev/fuse ]; then nok "cli-demo: needs root and /dev/fuse"; exit 1; fi
leftovers() { # mounts and directories that did not exist before
  comm -13 <(echo "$1") <(grep -o '/tmp/uvfs-demo\.[^ ]*' /proc/mounts; ls -d /tmp/uvfs-demo.* 2>/dev/null) | sort -u
}
snap() { { grep -o '/tmp/uvfs-demo\.[^ ]*' /proc/mounts; ls -d /tmp/uvfs-demo.* 2>/dev/null; } | sort -u; }

# The demo itself (make run): runsc do's default tree (the host's / under a
# tmpfs overlay), shown with ls -la /, /proc/mounts, ls -l /dev, the cpu
# list; a file written lands in the overlay and not on the host; teardown
# reports 0 live objects.
check() { [ "$2" = "$3" ] && ok "$1" || nok "$1: expected [$2] got [$3]"; }
out=$(timeout 50 "$UVFS" demo 2>&1); rc=$?
check cli-demo-rc 0 "$rc"
check cli-demo-host-root 1 "$(grep -c '^/ overlay\|^overlay / overlay ' <<<"$out" | sed 's/^[1-9].*/1/')"
check cli-demo-proc-mounts 1 "$(grep -c '^proc /proc proc ' <<<"$out")"
check cli-demo-dev-null 1 "$(grep -c '^c.* null$' <<<"$out")"
check cli-demo-cpu-online 1 "$(grep -cx "$(cat /sys/devices/system/cpu/online)" <<<"$out" | sed 's/^[1-9].*/1/')"
f=$(sed -n 's/^hello from uvfs: \(.*\)$/\1/p' <<<"$out" | head -1)
check cli-demo-write-in-overlay 1 "$(grep -c "^hello from uvfs: $f\$" <<<"$out")"
[ -n "$f" ] && [ ! -e "$f" ] && ok "cli-demo-write-not-on-host ($f)" || nok "cli-demo-write-not-on-host: [$f]"
check cli-demo-teardown "uvfs: teardown: 0 live objects" "$(tail -n1 <<<"$out")"
grep -q "uvfs-demo\.[^ ]* fuse" /proc/mounts && nok "cli-demo-unmounted" || ok "cli-demo-unmounted"

for n in 1 3 12; do
  before=$(snap)
  rc=$(timeout 20 "$UVFS" demo 2>/dev/null | head -$n >/dev/null; echo ${PIPESTATUS[0]})
  sleep 0.3
  left=$(comm -13 <(echo "$before") <(snap))
  [ -z "$left" ] && [ $rc != 124 ] && ok "cli-demo | head -$n leaves nothing (rc $rc)" || nok "cli-demo | head -$n: rc=$rc left: $left"
  for d in $left; do fusermount3 -u -z "$d" 2>/dev/null; rmdir "$d" 2>/dev/null; done
done

# ^C: the terminal sends SIGINT to the whole foreground group (demo and its ls/tree)
before=$(snap)
setsid bash -c "'$UVFS' demo >/dev/null 2>&1 & p=\$!; sleep 0.4; kill -INT -\$\$ 2>/dev/null; wait \$p; echo rc=\$?" >"/tmp/cli-demo-int.$$" 2>&1
sleep 0.3
left=$(comm -13 <(echo "$before") <(snap))
[ -z "$left" ] && ok "cli-demo ^C leaves nothing ($(cat /tmp/cli-demo-int.$$))" || nok "cli-demo ^C: left: $left"
for d in $left; do fusermount3 -u -z "$d" 2>/dev/null; rmdir "$d" 2>/dev/null; done
rm -f "/tmp/cli-demo-int.$$"
exit 0
