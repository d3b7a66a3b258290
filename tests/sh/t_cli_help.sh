#!/bin/bash
# uvfs --help / CMD --help / help CMD: usage with an example, exit 0, nothing
# run (no mount appears, no demo directory); exit codes 0/1/2 documented;
# usage errors exit 2 and name the offending word.
set -u
: "${UVFS:=build/uvfs}"
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; }

out=$("$UVFS" --help 2>&1); rc=$?
[ $rc = 0 ] && grep -q '0  success' <<<"$out" && grep -q '1  the operation failed' <<<"$out" \
  && grep -q '2  usage error' <<<"$out" && ok "cli-help --help documents exit codes" || nok "cli-help --help: rc=$rc: $out"

before=$(grep -c fuse /proc/mounts; ls -d /tmp/uvfs-demo.* 2>/dev/null | wc -l)
for c in demo mount ls stat cat tree 9p verity boot help "9p ls" "9p cat" "9p stat" \
         "verity digest" "verity build" "verity verify" "verity seal"; do
  for form in "$c --help" "help $c" "$c -h"; do
    [ "$form" = "help help" ] && continue
    out=$(timeout 10 "$UVFS" $form 2>&1 </dev/null); rc=$?
    if [ $rc = 0 ] && grep -q '^usage: uvfs' <<<"$out" && grep -q '^example' <<<"$out"; then
      ok "cli-help uvfs $form"
    else nok "cli-help uvfs $form: rc=$rc: $(head -3 <<<"$out")"; fi
  done
done
# subcommand help names the subcommand
out=$("$UVFS" verity seal --help 2>&1)
grep -q '^usage: uvfs verity seal' <<<"$out" && ok "cli-help verity seal is its own" || nok "cli-help verity seal: $out"
out=$("$UVFS" ls /etc --help 2>&1)
grep -q '^usage: uvfs ls' <<<"$out" && ok "cli-help --help after arguments" || nok "cli-help late --help: $out"
after=$(grep -c fuse /proc/mounts; ls -d /tmp/uvfs-demo.* 2>/dev/null | wc -l)
[ "$before" = "$after" ] && ok "cli-help ran nothing" || nok "cli-help: mounts or demo dirs appeared"

# usage errors: 2, naming the word
chk() { # NAME WANT_RC PATTERN CMD...
  local name=$1 want=$2 pat=$3; shift 3
  out=$(timeout 10 "$UVFS" "$@" 2>&1 </dev/null); rc=$?
  [ $rc = "$want" ] && grep -q -- "$pat" <<<"$out" && ok "cli-help $name" || nok "cli-help $name: rc=$rc: $out"
}
chk "unknown command" 2 "unknown command 'frob'" frob
chk "help unknown command" 2 "unknown command 'frob'" help frob
chk "no command" 2 "usage:"
chk "mount unknown -o" 2 "unknown option 'bogus'" mount -o bogus /tmp
chk "mount unknown flag" 2 "unknown option '-z'" mount -z /tmp
chk "mount too many" 2 "too many arguments" mount a b c
chk "mount missing source" 1 "source /nonexistent-src" mount /nonexistent-src /tmp
chk "ls missing path" 1 "/nope" ls /nope
chk "9p no args" 2 "usage" 9p
chk "version" 0 "^uvfs [0-9]" --version
out=$(UVFS_LOG=verbose "$UVFS" ls / 2>&1); rc=$?
[ $rc = 2 ] && grep -q 'UVFS_LOG=verbose' <<<"$out" && ok "cli-help unknown UVFS_LOG level is an error" || nok "cli-help UVFS_LOG=verbose: rc=$rc: $out"
out=$(UVFS_LOG=debug "$UVFS" ls / 2>&1); rc=$?
[ $rc = 0 ] && ok "cli-help UVFS_LOG=debug accepted" || nok "cli-help UVFS_LOG=debug: rc=$rc: $out"
exit 0
