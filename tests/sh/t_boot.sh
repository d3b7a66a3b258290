#!/bin/bash
# `uvfs boot --bundle DIR --print`: an unedited `runc spec` bundle over a
# busybox rootfs boots with real diod gofers, prints its mountinfo, and tears
# down with 0 live objects and no diod left; a bad bundle fails naming the step.
set -u
D=$(mktemp -d /tmp/uvfs-tboot-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /bin/busybox ] || ! command -v runc >/dev/null || [ ! -x /usr/sbin/diod ]; then
  echo "ok boot-skipped # busybox-static, runc or diod missing"; exit 0
fi
mkdir -p "$D/b/rootfs/bin" && cp /bin/busybox "$D/b/rootfs/bin/busybox"
(cd "$D/b" && runc spec)
# runc spec's args are ["sh"]: without a sh the boot reports the seed's
# ResolveExecutablePath error and exits 1 (runsc would fail the start).
out=$("$UVFS" boot --bundle "$D/b" --print 2>&1 >/dev/null); rc=$?
check boot-exec-missing '1:uvfs: boot: error finding executable "sh" in PATH [/usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin]: no such file or directory' "$rc:$(echo "$out" | grep 'executable')"
ln -s busybox "$D/b/rootfs/bin/sh"
"$UVFS" boot --bundle "$D/b" --print > "$D/out" 2> "$D/err"; rc=$?
check boot-rc 0 "$rc"
# mountinfo fields: 5 = mount point, after " - " the type.
types=$(awk '{for(i=1;i<=NF;i++) if($i=="-"){print $5, $(i+1)}}' "$D/out" | sort | tr '\n' ';')
check boot-types "/ 9p;/dev devtmpfs;/dev/pts devpts;/dev/shm tmpfs;/proc proc;/sys sysfs;/tmp tmpfs;" "$types"
check boot-root-ro "ro" "$(awk '$5=="/"{print $6}' "$D/out")"
check boot-executable "executable: /bin/sh" "$(grep '^executable:' "$D/out")"
check boot-mqueue-warned 1 "$(grep -c '/dev/mqueue: ignoring unknown filesystem type "mqueue"' "$D/err")"
check boot-teardown "uvfs: teardown: 0 live objects" "$(tail -n1 "$D/err")"
check boot-no-diod "" "$(pgrep -f -- "diod.*$D/b/rootfs")"
# A bundle whose root is missing: exit 1, the step named, nothing left.
rm -rf "$D/b/rootfs"
out=$("$UVFS" boot --bundle "$D/b" --print 2>&1); rc=$?
check boot-missing-root "1:uvfs: boot: gofer for rootfs: No such file or directory" "$rc:$(echo "$out" | grep -v warn | head -n1)"
check boot-missing-root-teardown "uvfs: teardown: 0 live objects" "$(echo "$out" | tail -n1)"
"$UVFS" boot --print >/dev/null 2>&1; check boot-usage 2 $?
