#!/bin/bash
# Permission checks through an `-o allow_other` mount as non-root users
# (setpriv/runuser): the kernel (default_permissions) and uvfs both check,
# with the caller's uid, gid, groups and capabilities.
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse fuse-perm
command -v setpriv >/dev/null || { nok "fuse-perm: setpriv missing"; exit 1; }

as() { # as UID GID[,GROUPS] CMD...: run CMD as that user with no capabilities
  local uid=$1 g=$2; shift 2
  local gid=${g%%,*} groups=--clear-groups
  [ "$g" != "$gid" ] && groups=--groups=${g#*,}
  setpriv --reuid="$uid" --regid="$gid" $groups --inh-caps=-all --bounding-set=-all -- "$@"
}
expect() { # expect NAME ok|fail CMD...
  local name=$1 want=$2; shift 2
  local out; out=$("$@" 2>&1); local rc=$?
  if { [ "$want" = ok ] && [ $rc = 0 ]; } || { [ "$want" != ok ] && [ $rc != 0 ] && grep -qi "$want" <<<"$out"; }; then
    ok "fuse-perm $name"
  else nok "fuse-perm $name: wanted $want, rc=$rc: $out"; fi
}

mp=$T/mnt
uvfs_mount "$mp" allow_other || { nok "fuse-perm: mount"; exit 1; }
expect "user reads /etc/hostname" ok as 1000 1000 cat "$mp/etc/hostname"
expect "user cannot write /etc/hostname" "permission denied" as 1000 1000 sh -c "echo x >'$mp/etc/hostname'"
expect "user cannot list /root (0700)" "permission denied" as 1000 1000 ls "$mp/root"
expect "user cannot create in /etc" "permission denied" as 1000 1000 touch "$mp/etc/new"
expect "user cannot remove /usr/bin/hello" "permission denied" as 1000 1000 rm -f "$mp/usr/bin/hello"
expect "user cannot chmod root's file" "not permitted" as 1000 1000 chmod 777 "$mp/etc/hostname"
expect "user cannot chown to root" "not permitted" as 1000 1000 chown 0 "$mp/home/user/notes.txt"
expect "user writes own home" ok as 1000 1000 sh -c "echo hi >'$mp/home/user/new' && mkdir '$mp/home/user/dir'"
expect "user creates in /tmp (1777)" ok as 1000 1000 sh -c "umask 077; echo u >'$mp/tmp/u'"
got=$(stat -c '%u:%g %a' "$mp/tmp/u" "$mp/home/user/new" "$mp/home/user/dir" | tr '\n' ' ')
[ "$got" = "1000:1000 600 1000:1000 644 1000:1000 755 " ] && ok "fuse-perm new nodes owned by caller, umask applied" \
  || nok "fuse-perm owner/mode of new nodes: $got"
expect "other user cannot delete in sticky /tmp" "not permitted" as 1001 1001 rm -f "$mp/tmp/u"
expect "other user cannot read a 0600 file" "permission denied" as 1001 1001 cat "$mp/tmp/u"
expect "owner deletes own file in /tmp" ok as 1000 1000 rm "$mp/tmp/u"
expect "user xattr on own file" ok as 1000 1000 setfattr -n user.k -v v "$mp/home/user/new"
expect "user xattr on root's file" "permission denied" as 1000 1000 setfattr -n user.k -v v "$mp/etc/hostname"
expect "trusted xattr needs CAP_SYS_ADMIN" "not permitted" as 1000 1000 setfattr -n trusted.k -v v "$mp/home/user/new"
expect "user cannot cd into /root" "can.t cd" as 1000 1000 sh -c "cd '$mp/root'"
expect "user runs /usr/bin/hello" ok as 1000 1000 "$mp/usr/bin/hello"
chmod 0644 "$mp/usr/bin/hi"
expect "exec needs an x bit" "permission denied" as 1000 1000 "$mp/usr/bin/hello"
chmod 0755 "$mp/usr/bin/hi"

# supplementary groups come from the caller (fuse_req_getgroups)
mkdir "$mp/tmp/g" && chown 0:4242 "$mp/tmp/g" && chmod 0770 "$mp/tmp/g"
expect "group member creates in 0770 group dir" ok as 1000 1000,4242 touch "$mp/tmp/g/f"
expect "non-member cannot" "permission denied" as 1000 1000 touch "$mp/tmp/g/f2"

# a name root has looked up (and the kernel has cached) still needs search
# permission on its directory for everyone else
echo secret >"$mp/root/secret"; chmod 0644 "$mp/root/secret"; cat "$mp/root/secret" >/dev/null
expect "cached entry under 0700 dir still denied" "permission denied" as 1000 1000 cat "$mp/root/secret"
expect "cached entry stat denied" "permission denied" as 1000 1000 stat "$mp/root/secret"

if command -v runuser >/dev/null && getent passwd nobody >/dev/null; then
  nob=$(id -u nobody)
  expect "runuser nobody reads os-release" ok runuser -u nobody -- cat "$mp/etc/os-release"
  expect "runuser nobody cannot write home of 1000" "permission denied" runuser -u nobody -- touch "$mp/home/user/x"
  runuser -u nobody -- sh -c "echo n >'$mp/tmp/nob'"
  [ "$(stat -c %u "$mp/tmp/nob")" = "$nob" ] && ok "fuse-perm runuser file owner" || nok "fuse-perm runuser owner"
fi
uvfs_umount "$mp" && ok "fuse-perm unmount, 0 live objects" || nok "fuse-perm unmount: $WHY"

# without allow_other the kernel keeps other users out entirely
uvfs_mount "$mp" || { nok "fuse-perm: mount 2"; exit 1; }
expect "no allow_other: other users kept out" "permission denied" as 1000 1000 ls "$mp"
uvfs_umount "$mp" && ok "fuse-perm unmount 2" || nok "fuse-perm unmount 2: $WHY"
