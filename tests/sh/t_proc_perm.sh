#!/bin/bash
# Ptrace-style access checks of proc through the FUSE export, compared with
# the host's /proc: a uid 1000 process read by uid 65534 and by uid 1000
# with gid 65534 (setpriv) gets the same yes/no answers for environ, fd/,
# fdinfo/, fdinfo/0, the fd/0, cwd, root and exe links, cmdline and
# mountinfo, on the host's /proc/PID and on MNT/proc/5 (tests/proc/fuse_perm.c).
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse proc-perm
command -v setpriv >/dev/null || { nok "proc-perm: needs setpriv (util-linux)"; exit 1; }
lib=${UVFS_LIB:-$ROOT/build/libuvfs.a}
libs="$ROOT/build/libuvfs-fuse.a $lib"
[ -f "$lib" ] || { nok "proc-perm: $lib not built"; exit 1; }
bin=$ROOT/build/proc-fuse-perm
if ! ${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Wno-unused-parameter -Werror -I"$ROOT" -I"$ROOT/vfs" $(pkg-config --cflags fuse3) \
     -o "$bin" "$ROOT/tests/proc/fuse_perm.c" $libs \
     $(pkg-config --libs liburcu-memb liburcu-cds libxxhash fuse3 libcrypto) -lpthread 2>"$T/cc.log"; then
  nok "proc-perm: does not build: $(head -5 "$T/cc.log")"; exit 1
fi

# probe DIR: one "name yes|no" line per access, as the calling user.
cat > "$T/probe.sh" <<'PROBE'
d=$1
a() { if eval "$2" >/dev/null 2>&1; then echo "$1 yes"; else echo "$1 no"; fi; }
a environ "cat $d/environ"
a fd-list "ls $d/fd"
a fdinfo-list "ls $d/fdinfo"
a fdinfo-0 "cat $d/fdinfo/0"
a fd-0-link "readlink $d/fd/0"
a cwd-link "readlink $d/cwd"
a root-link "readlink $d/root"
a exe-link "readlink $d/exe"
a cmdline "cat $d/cmdline"
a mountinfo "cat $d/mountinfo"
PROBE
chmod 755 "$T/probe.sh"

setpriv --reuid=1000 --regid=1000 --clear-groups sleep 300 </dev/null &
hostpid=$!
sleep 0.3
# Allowed readers first, so a kernel-cached answer would leak to the others.
users="1000:1000 0:0 65534:65534 1000:65534"
for u in $users; do
  setpriv --reuid=${u%:*} --regid=${u#*:} --clear-groups bash "$T/probe.sh" /proc/$hostpid > "$T/host.$u"
done
kill $hostpid; wait $hostpid 2>/dev/null

mkdir "$T/mnt"
cmd='for u in '"$users"'; do setpriv --reuid=${u%:*} --regid=${u#*:} --clear-groups bash '"$T"'/probe.sh $MNT/proc/5 > '"$T"'/uvfs.$u; done'
timeout 60 "$bin" "$T/mnt" "$cmd"; rc=$?
is_mounted "$T/mnt" && { nok "proc-perm: left mounted"; fusermount3 -u -z "$T/mnt"; }
[ $rc = 0 ] || nok "proc-perm: exit $rc"
for u in $users; do
  if [ -s "$T/uvfs.$u" ] && d=$(diff "$T/host.$u" "$T/uvfs.$u"); then
    ok "proc-perm: uid:gid $u gets the host's answers ($(grep -c ' no$' "$T/host.$u") refusals)"
  else
    nok "proc-perm: uid:gid $u differs from the host (host < > uvfs): $(echo ${d:-no output})"
  fi
done
