#!/bin/bash
# The permission classes of issue 17, as non-root (or capability-less) users
# through `-o allow_other`: FIFOs and sockets, names the kernel has cached,
# chown(-1,-1), exec and setuid, uid 0 without capabilities (and a non-root
# caller with capabilities), and more than 32 supplementary groups. Each
# scenario runs on a kernel tmpfs first (the expected answers are Linux's)
# and then on the uvfs mount, with the kernel's default caches and with
# long ones (a cached name must not skip a check).
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse fuse-perm-classes
command -v setpriv >/dev/null || { nok "fuse-perm-classes: setpriv missing"; exit 1; }

P=$T/permprobe
if ! ${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Werror -o "$P" "$ROOT/tests/fuse/permprobe.c" 2>"$T/cc.log"; then
  nok "fuse-perm-classes: permprobe does not build: $(head -5 "$T/cc.log")"; exit 1
fi
host=$T/host
mkdir "$host" && mount -t tmpfs -o mode=1777 uvfs-perm-classes "$host" || { nok "fuse-perm-classes: host tmpfs"; exit 1; }
trap 'umount -l "$host" 2>/dev/null; cleanup' EXIT

as() { # as UID GID[,GROUPS] CMD...: that user, no capabilities
  local uid=$1 g=$2; shift 2
  local gid=${g%%,*} groups=--clear-groups
  [ "$g" != "$gid" ] && groups=--groups=${g#*,}
  setpriv --reuid="$uid" --regid="$gid" $groups --inh-caps=-all --bounding-set=-all -- "$@"
}
as_caps() { # as_caps UID CAPS CMD...: uid/gid UID keeping only CAPS (e.g. +dac_override)
  local uid=$1 caps=$2; shift 2
  setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps="$caps" --ambient-caps="$caps" -- "$@"
}
check() { # check NAME WANT CMD...: CMD's output must be exactly WANT
  local name=$1 want=$2; shift 2
  local out; out=$("$@" 2>&1)
  [ "$out" = "$want" ] && ok "fuse-perm-classes $name" || nok "fuse-perm-classes $name: wanted $want, got: $out"
}
denied() { # denied NAME CMD...: CMD must fail with "Permission denied"
  local name=$1; shift
  local out; out=$("$@" 2>&1); local rc=$?
  [ $rc != 0 ] && grep -qi "permission denied" <<<"$out" && ok "fuse-perm-classes $name" \
    || nok "fuse-perm-classes $name: wanted permission denied, rc=$rc: $out"
}

many=$(seq -s, 10001 12000) # 2000 groups: more than a page of /proc status
scenarios() { # scenarios DIR TAG (DIR: empty, mode 1777, on a suid mount)
  local D=$1 t=$2
  # 1. FIFOs and sockets: the kernel opens them itself
  mkfifo "$D/p" && chown 1000:1000 "$D/p" && chmod 0477 "$D/p"
  check "$t: owner O_RDWR of a 0477 fifo" EACCES as 1000 1000 "$P" open "$D/p" rdwr
  check "$t: other O_RDONLY of a 0477 fifo" ok as 1001 1001 "$P" open "$D/p" rdonly
  "$P" bind "$D/s" >/dev/null && chmod 0600 "$D/s"
  check "$t: user connect to root's 0600 socket" EACCES as 1000 1000 "$P" connect "$D/s"
  check "$t: root connect to it (no listener)" ECONNREFUSED "$P" connect "$D/s"

  # 2. a cached name after its directory lost search permission
  as 1000 1000 mkdir "$D/a" && as 1000 1000 touch "$D/a/f" && chmod 0644 "$D/a"
  check "$t: chmod below a 0644 dir" EACCES as 1000 1000 "$P" chmod "$D/a/f" 600
  check "$t: open below a 0644 dir" EACCES as 1000 1000 "$P" open "$D/a/f" rdonly
  check "$t: truncate below a 0644 dir" EACCES as 1000 1000 "$P" truncate "$D/a/f" 0
  check "$t: chown below a 0644 dir" EACCES as 1000 1000 "$P" chown "$D/a/f" 1000 1000
  check "$t: link from below a 0644 dir" EACCES as 1000 1000 "$P" link "$D/a/f" "$D/b"
  check "$t: root still opens it" ok "$P" open "$D/a/f" rdonly
  chmod 0755 "$D/a"

  # 3. chown(f, -1, -1) changes nothing but ctime
  as 1000 1000 touch "$D/c"
  local c0 c1; c0=$("$P" ctime "$D/c"); sleep 0.02
  check "$t: owner chown(-1,-1)" ok as 1000 1000 "$P" chown "$D/c" -1 -1
  c1=$("$P" ctime "$D/c")
  [ "$c0" != "$c1" ] && ok "fuse-perm-classes $t: owner chown(-1,-1) updates ctime" \
    || nok "fuse-perm-classes $t: owner chown(-1,-1) left ctime at $c0"
  c0=$c1; sleep 0.02
  check "$t: root chown(-1,-1)" ok "$P" chown "$D/c" -1 -1
  c1=$("$P" ctime "$D/c")
  [ "$c0" != "$c1" ] && ok "fuse-perm-classes $t: root chown(-1,-1) updates ctime" \
    || nok "fuse-perm-classes $t: root chown(-1,-1) left ctime at $c0"

  # 4. execute permission, and a setuid binary of a group the user is not in
  printf '#!/bin/sh\necho ran\n' >"$D/script" && chmod 0744 "$D/script"
  # through sh: setpriv itself still holds root's capabilities when it execs
  denied "$t: user cannot run root's 0744 script" as 1000 1000 sh -c 'exec "$0"' "$D/script"
  check "$t: root runs it" ran "$D/script"
  cp "$P" "$D/suid" && chown 0:4343 "$D/suid" && chmod 4754 "$D/suid"
  denied "$t: non-member cannot run a 4754 root:devs binary" as 1000 1000 sh -c 'exec "$0" euid' "$D/suid"
  check "$t: a devs member runs it setuid" 0 as 1000 1000,4343 sh -c 'exec "$0" euid' "$D/suid"

  # 5. uid 0 without capabilities is not root; a user with one has it
  echo secret >"$D/u" && chown 1000:1000 "$D/u" && chmod 0600 "$D/u"
  check "$t: capless root cannot read a 0600 file of 1000" EACCES as 0 0 "$P" open "$D/u" rdonly
  check "$t: capless root cannot write it" EACCES as 0 0 "$P" open "$D/u" wronly
  check "$t: capless root cannot chown it" EPERM as 0 0 "$P" chown "$D/u" 0 0
  check "$t: uid 1001 with CAP_DAC_OVERRIDE reads it" ok as_caps 1001 +dac_override "$P" open "$D/u" rdonly
  check "$t: uid 1001 with CAP_DAC_OVERRIDE writes it" ok as_caps 1001 +dac_override "$P" open "$D/u" wronly
  check "$t: uid 1001 without it cannot" EACCES as 1001 1001 "$P" open "$D/u" rdonly
  check "$t: uid 1001 with CAP_CHOWN chowns it" ok as_caps 1001 +chown "$P" chown "$D/u" 1001 1001
  check "$t: uid 1001 with CAP_FOWNER chmods it" ok as_caps 1001 +fowner "$P" chmod "$D/u" 0640

  # 6. every supplementary group counts (41, and 2000)
  local g41; g41=$(seq -s, 5001 5041)
  echo g40 >"$D/g40" && chown 0:5040 "$D/g40" && chmod 0640 "$D/g40"
  echo g41 >"$D/g41" && chown 0:5041 "$D/g41" && chmod 0604 "$D/g41"
  check "$t: 41-group user reads by his 40th group" ok as 1000 "1000,$g41" "$P" open "$D/g40" rdonly
  check "$t: 41-group user is excluded by his 41st group" EACCES as 1000 "1000,$g41" "$P" open "$D/g41" rdonly
  as 1000 1000 touch "$D/own"
  check "$t: owner chgrp to his 41st group" ok as 1000 "1000,$g41" "$P" chown "$D/own" -1 5041
  check "$t: owner chmod g+s keeps it as a member" ok as 1000 "1000,$g41" "$P" chmod "$D/own" 2755
  check "$t: setgid kept" 2755 stat -c %a "$D/own"
  check "$t: owner chgrp to his 2000th group" ok as 1000 "1000,$many" "$P" chown "$D/own" -1 12000
  check "$t: owner chgrp to a group he lacks" EPERM as 1000 "1000,$many" "$P" chown "$D/own" -1 12001
}

scenarios "$host" tmpfs

mp=$T/mnt
for opts in allow_other,suid allow_other,suid,entry_timeout=60,attr_timeout=60; do
  tag=uvfs; [[ $opts == *timeout=60* ]] && tag="uvfs (60 s caches)"
  uvfs_mount "$mp" "$opts" || { nok "fuse-perm-classes: mount $opts"; exit 1; }
  mkdir "$mp/tmp/cls" && chmod 1777 "$mp/tmp/cls"
  scenarios "$mp/tmp/cls" "$tag"
  rm -rf "$mp/tmp/cls"
  uvfs_umount "$mp" && ok "fuse-perm-classes $tag: unmount, 0 live objects" || nok "fuse-perm-classes $tag: unmount: $WHY"
done
