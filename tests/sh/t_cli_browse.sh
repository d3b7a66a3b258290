#!/bin/bash
# uvfs ls -l/-a/-R, stat (shared with 9p stat), tree counting like GNU tree
# (checked against tree(1) on the same tree through FUSE when possible),
# and --json for ls, stat and tree.
set -u
: "${UVFS:=build/uvfs}"
UVFS=$(readlink -f "$UVFS")
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; }
T=$(mktemp -d /tmp/uvfs-t-browse.XXXXXX)
trap 'fusermount3 -u "$T/m" 2>/dev/null; rm -rf "$T"' EXIT

out=$("$UVFS" ls -l /etc 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^-rw-r--r-- .* hostname$' <<<"$out" && ok "cli-browse ls -l" || nok "cli-browse ls -l: rc=$rc: $out"
out=$("$UVFS" ls -la /home 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^d.* \.$' <<<"$out" && grep -q '^d.* \.\.$' <<<"$out" && grep -q '^d.* user$' <<<"$out" \
  && ok "cli-browse ls -la shows . and .." || nok "cli-browse ls -la: rc=$rc: $out"
# Short listing as ls(1): names only, one a line when stdout is not a terminal.
out=$("$UVFS" ls -a /home 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = $'.\n..\nuser' ] && ok "cli-browse ls -a short" || nok "cli-browse ls -a: rc=$rc: $out"
out=$("$UVFS" ls / 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = $'bin\netc\nhome\nmnt\nroot\ntmp\nusr' ] && ok "cli-browse ls short, one a line" \
  || nok "cli-browse ls short: rc=$rc: $out"
out=$("$UVFS" ls /etc/hostname /home 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = $'/etc/hostname\n\n/home:\nuser' ] && ok "cli-browse ls file and dir" \
  || nok "cli-browse ls file and dir: rc=$rc: $out"
out=$("$UVFS" ls -R /mnt 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = $'/mnt:\nscratch\n\n/mnt/scratch:\nREADME' ] && ok "cli-browse ls -R" || nok "cli-browse ls -R: rc=$rc: $out"
# On a terminal: columns, as GNU ls lays out the same host directory (9p).
if command -v script >/dev/null && [ -x /usr/sbin/diod ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$T/cols" && for n in bin etc home mnt root tmp usr a-rather-long-name-here x; do mkdir "$T/cols/$n"; done
  want=$(cd "$T/cols" && COLUMNS=40 script -qec "ls --color=never -T0" /dev/null | tr -d '\r')
  got=$(COLUMNS=40 script -qec "'$UVFS' ls -t 9p '$T/cols' /" /dev/null 2>/dev/null | tr -d '\r')
  [ "$want" = "$got" ] && ok "cli-browse ls columns on a terminal" || nok "cli-browse ls columns: want [$want] got [$got]"
fi
out=$("$UVFS" ls -lR --json /home 2>&1); rc=$?
[ $rc = 0 ] && python3 -c 'import json,sys; a=json.load(sys.stdin); assert {e["name"] for e in a} >= {"/home/user","/home/user/notes.txt"}, a; assert all("mode" in e and "mtime" in e for e in a)' <<<"$out" \
  && ok "cli-browse ls --json" || nok "cli-browse ls --json: rc=$rc: $(head -5 <<<"$out")"
out=$("$UVFS" ls -Z / 2>&1); rc=$?
[ $rc = 2 ] && grep -q "'-Z'" <<<"$out" && ok "cli-browse ls unknown flag: exit 2 naming it" || nok "cli-browse ls -Z: rc=$rc: $out"

out=$("$UVFS" stat /bin 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^  File: /bin -> usr/bin$' <<<"$out" && grep -q '^Access: (0777/lrwxrwxrwx)  Uid: 0  Gid: 0$' <<<"$out" \
  && grep -Eq '^Modify: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\.[0-9]{9} [+-][0-9]{4}$' <<<"$out" \
  && ok "cli-browse stat: stat(1) layout, human dates" || nok "cli-browse stat: rc=$rc: $out"
out=$("$UVFS" stat --json /home/user/notes.txt 2>&1); rc=$?
[ $rc = 0 ] && python3 -c 'import json,sys; a=json.load(sys.stdin); e=a[0]; assert e["uid"]==1000 and e["type"]=="file" and e["xattrs"]["user.comment"]=="hello from uvfs", e' <<<"$out" \
  && ok "cli-browse stat --json (with xattrs)" || nok "cli-browse stat --json: rc=$rc: $out"
if command -v diod >/dev/null; then
  mkdir -p "$T/d"; echo x >"$T/d/a"; ln -s a "$T/d/l"
  a=$("$UVFS" 9p stat "diod:$T/d" l 2>&1 | sed -n 's/^\(  File:\|Access: (\| Birth:\|Target:\)\(.*\)/\1/p')
  b=$("$UVFS" stat /bin 2>&1 | sed -n 's/^\(  File:\|Access: (\| Birth:\|Target:\)\(.*\)/\1/p')
  [ -n "$a" ] && [ "$a" = "$b" ] && ok "cli-browse 9p stat shares the stat layout" || nok "cli-browse 9p stat layout: [$a] vs [$b]"
else nok "cli-browse 9p stat: diod missing"; fi

out=$("$UVFS" tree / 2>&1); rc=$?
last=$(tail -1 <<<"$out")
if [ -w /dev/fuse ] && command -v tree >/dev/null && mkdir -p "$T/m" && "$UVFS" mount default "$T/m" 2>/dev/null; then
  want=$(tree "$T/m" | tail -1); wanta=$(tree -a "$T/m" | tail -1)
  fusermount3 -u "$T/m"
else want="11 directories, 6 files"; wanta=$want; fi
[ $rc = 0 ] && [ "$last" = "$want" ] && ok "cli-browse tree counts as GNU tree ($last)" || nok "cli-browse tree: '$last' vs tree's '$want'"
[ "$("$UVFS" tree -a / | tail -1)" = "$wanta" ] && ok "cli-browse tree -a counts as tree -a" || nok "cli-browse tree -a"
out=$("$UVFS" tree --json / 2>&1); rc=$?
[ $rc = 0 ] && python3 -c '
import json,sys; a=json.load(sys.stdin); r=a[-1]
assert r["type"]=="report" and "%d directories, %d files" % (r["directories"], r["files"]) == sys.argv[1], r
assert any(e["name"]=="bin" and e["type"]=="link" for e in a[0]["contents"])' "$want" <<<"$out" \
  && ok "cli-browse tree --json (as tree -J)" || nok "cli-browse tree --json: rc=$rc: $(head -5 <<<"$out")"
exit 0
