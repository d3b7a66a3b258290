#!/bin/bash
# `uvfs run`: /proc, /sys and /dev inside the run's tree. proc's task table
# is fed from the tracees (their host pids, cwds and uvfs fds), devtmpfs has
# the device files, and devices give real data through the tracee's fd.
# Where the output is the kernel's too, it is compared with the same command
# under chroot of a host copy with proc mounted in it.
set -u
D=$(mktemp -d /tmp/uvfs-trunp-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /bin/busybox ]; then echo "ok run-proc-skipped # busybox-static missing"; exit 0; fi
T=$D/tree
mkdir -p "$T/bin" "$T/etc" "$T/data/sub"
cp /bin/busybox "$T/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$T/bin/$a"; done
echo hello > "$T/etc/greeting"
run() { "$UVFS" run --root "$T" -- /bin/sh -c "$1" 2>&1; }

out=$(run 'cat /proc/self/mounts')
check run-proc-mounts-root "yes" "$(echo "$out" | grep -q '^overlay / overlay ' && echo yes || echo "$out")"
for m in "proc /proc proc" "sysfs /sys sysfs" "devtmpfs /dev devtmpfs" "devpts /dev/pts devpts"; do
  check "run-proc-mounts-${m%% *}" "yes" "$(echo "$out" | grep -q "^[^ ]* ${m#* } " && echo yes || echo "$out")"
done
check run-proc-cwd "/data/sub" "$(run 'cd /data/sub && readlink /proc/self/cwd')"
check run-proc-self-pid "yes" "$(run 'p=$(grep ^Pid: /proc/$$/status | cut -f2); [ "$p" = $$ ] && echo yes || echo "$p vs $$"')"
check run-proc-self-link "yes" "$(run 'exec readlink /proc/self' | grep -qx '[0-9]*' && echo yes)"
out=$(run 'cd /etc; exec 7< greeting; ls -l /proc/self/fd')
# busybox ls closes the directory before reading the links: 3 is gone
# by then, under the kernel too ("3" without a target)
check run-proc-fd-self "yes" "$(echo "$out" | grep -q ' 3$' && echo yes || echo "$out")"
check run-proc-fd-file "yes" "$(echo "$out" | grep -q ' 7 -> /etc/greeting$' && echo yes || echo "$out")"
check run-proc-fd-readlink "/etc/greeting" "$(run 'exec 5< /etc/greeting; readlink /proc/$$/fd/5')"
check run-proc-cat-status "yes" "$(run 'cat /proc/self/status' | grep -q '^Name:' && echo yes)"
check run-proc-cpuinfo "yes" "$(run 'grep -c ^processor /proc/cpuinfo' | grep -qx '[1-9][0-9]*' && echo yes)"
out=$(run 'ls -l /dev')
for n in null zero full random urandom tty ptmx pts shm fd stdin stdout stderr; do
  check "run-dev-ls-$n" "yes" "$(echo "$out" | grep -q " $n\( ->.*\)\?$" && echo yes || echo "$out")"
done
check run-dev-null-line "yes" "$(echo "$out" | grep -q '^crw-rw-rw- *1 0 *0 *1, *3 .* null$' && echo yes || echo "$out")"
check run-dev-stdin-line "yes" "$(echo "$out" | grep -q '^lrwxrwxrwx .* stdin -> /proc/self/fd/0$' && echo yes || echo "$out")"
check run-dev-urandom "16" "$(run 'head -c 16 /dev/urandom | wc -c')"
check run-dev-urandom-differs "yes" "$(run 'a=$(head -c 16 /dev/urandom | od -An -tx1); b=$(head -c 16 /dev/urandom | od -An -tx1); [ "$a" != "$b" ] && [ -n "$a" ] && echo yes')"
check run-dev-zero "00 00 00 00 00" "$(run 'head -c 5 /dev/zero | od -An -tx1' | tr -s ' ' | sed 's/^ //')"
check run-dev-null-write "rc=0 0" "$(run 'echo x > /dev/null; echo rc=$? $(wc -c < /dev/null)')"
check run-dev-full "yes" "$(run 'echo x > /dev/full' | grep -q 'No space left' && echo yes)"
check run-sys "yes" "$(run 'ls /sys' | grep -q '^devices$\|^kernel$\|^fs$' && echo yes)"
# the pseudo mounts come and go with the run: the tree keeps no trace
"$UVFS" run --root "$T" --dump "$D/dump" -- /bin/sh -c 'ls /proc > /dev/null'
check run-proc-tree-clean "" "$(grep -E ' /(proc|sys|dev)(/|$)' "$D/dump")"
# a tree with its own /proc, /dev directories: mounted over, kept
mkdir -p "$T/proc" "$T/dev" && echo keep > "$T/dev/mine"
"$UVFS" run --root "$T" --dump "$D/dump" -- /bin/sh -c 'cat /proc/self/comm; ls /dev/mine >/dev/null 2>&1; echo $?' > "$D/o"
check run-proc-over-dir "cat 1" "$(echo $(cat "$D/o"))"
check run-proc-over-dir-kept "f 0644 5 /dev/mine" "$(grep ' /dev/mine$' "$D/dump")"
rm -rf "$T/proc" "$T/dev"
# as a user without privileges
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$D"
  out=$(runuser -u nobody -- "$UVFS" run --root "$T" -- /bin/sh -c 'id -u; head -c 4 /dev/urandom | wc -c; readlink /proc/self/cwd; grep ^Uid: /proc/self/status | cut -f2' 2>&1)
  check run-proc-nonroot "65534 4 / 65534" "$(echo $out)"
fi
# an OCI bundle gets them too
mkdir -p "$D/b/rootfs" && cp -a "$T/bin" "$D/b/rootfs/" && "$UVFS" spec --bundle "$D/b" >/dev/null 2>&1
if [ -f "$D/b/config.json" ]; then
  sed -i 's|"sh"$|"sh", "-c", "head -c 3 /dev/zero \| wc -c; readlink /proc/self/cwd; grep -c \\" /dev/pts devpts\\" /proc/mounts"|' "$D/b/config.json"
  check run-proc-bundle "3 / 1" "$(echo $("$UVFS" run --bundle "$D/b" 2>&1 | grep -v "^uvfs: warn: "))"
else
  echo "not ok run-proc-bundle: uvfs spec wrote no config.json"
fi
# another process's fds: the shell's, listed by its child
check run-proc-fd-other "/etc/greeting" "$(run 'exec 6< /etc/greeting; ls -l /proc/$$/fd | grep " 6 -> " | sed "s/.* -> //"')"
# writable proc files: what the tracee writes reaches the file (one write
# at offset 0, at its next handled call); the shell's own comm, read back
# by a builtin (a forked or exec'd cat would show its own name)
check run-proc-write-comm "renamed" "$(run 'echo renamed > /proc/$$/comm; read x < /proc/$$/comm; echo $x')"
check run-proc-write-comm-rdwr "yes" "$(run 'exec 3<> /proc/$$/comm; echo again >&3; exec 3>&-; read x < /proc/$$/comm; [ "$x" = again ] && echo yes || echo "$x"')"
if [ "$(id -u)" = 0 ]; then
  check run-proc-write-hostname "box1" "$(run 'echo box1 > /proc/sys/kernel/hostname; cat /proc/sys/kernel/hostname')"
  # a file nobody may write: EACCES at open, as Linux for a user
  out=$(runuser -u nobody -- "$UVFS" run --root "$T" -- /bin/sh -c 'echo x > /proc/self/stat; echo rc=$?; echo x > /proc/sys/kernel/hostname; echo rc=$?' 2>&1)
  check run-proc-write-ro "yes" "$(echo "$out" | grep -c 'Permission denied' | grep -qx 2 && echo "$out" | grep -c rc=1 | grep -qx 2 && echo yes || echo "$out")"
fi
