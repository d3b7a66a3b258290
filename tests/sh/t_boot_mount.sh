#!/bin/bash
# `uvfs mount --bundle DIR MNT` and `uvfs ls|stat|cat --bundle DIR PATH`: an
# unedited `runc spec` bundle over a busybox rootfs, booted and exported
# through FUSE; busybox chrooted into the mount lists /, reads /proc/mounts
# and /dev/null, writes /tmp; the root stays read-only; unmounting tears down
# with 0 live objects and no diod left.
set -u
D=$(mktemp -d /tmp/uvfs-tbmount-XXXXXX)
M=$D/mnt
cleanup() { fusermount3 -u "$M" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT
# The kernel may still hold the mount for a moment after the last user exits.
unmount() { for _ in $(seq 50); do fusermount3 -u "$1" 2>/dev/null && return 0; sleep 0.1; done; fusermount3 -u "$1"; }
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /bin/busybox ] || ! command -v runc >/dev/null || [ ! -x /usr/sbin/diod ]; then
  echo "ok bmount-skipped # busybox-static, runc or diod missing"; exit 0
fi
# The mount points an exported image has. (Without them the read-only root
# gets synthetic mount points, which a gofer directory's readdir does not
# list yet; see fsimpl/gofer/README.md.)
mkdir -p "$D/b/rootfs/bin" "$D/b/rootfs/dev" "$D/b/rootfs/proc" "$D/b/rootfs/sys" "$D/b/rootfs/tmp" "$M" &&
  cp /bin/busybox "$D/b/rootfs/bin/busybox" && ln -s busybox "$D/b/rootfs/bin/sh"
(cd "$D/b" && runc spec)
before=$(cd "$D/b/rootfs" && find . | sort | tr '\n' ' ')

# In process.
check bls-root "bin dev proc sys tmp" "$("$UVFS" ls --bundle "$D/b" / 2>/dev/null | awk '{print $NF}' | tr '\n' ' ' | sed 's/ $//')"
check bcat-mounts-proc 1 "$("$UVFS" cat --bundle "$D/b" /proc/mounts 2>/dev/null | grep -c '^proc /proc proc ')"
check bstat-null "crw-rw-rw-" "$("$UVFS" stat --bundle "$D/b" /dev/null 2>/dev/null | sed -n 's/.*(0666\/\(.*\)).*Uid.*/\1/p')"
out=$("$UVFS" ls --bundle "$D/nope" / 2>&1); rc=$?
check bls-bad-bundle 1 "$rc"

if [ ! -e /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
  echo "ok bmount-fuse-skipped # no /dev/fuse"; exit 0
fi
"$UVFS" mount --bundle "$D/b" "$M" 2> "$D/err" &
pid=$!
for _ in $(seq 100); do grep -q "mounted at" "$D/err" 2>/dev/null && break; sleep 0.1; done
check bmount-up 1 "$(grep -c 'booted and mounted at' "$D/err")"
check bmount-ls "bin dev proc sys tmp" "$(ls "$M" | tr '\n' ' ' | sed 's/ $//')"
inside=$(chroot "$M" /bin/busybox sh -c 'B=/bin/busybox; $B ls /; $B grep -c " /proc proc " /proc/mounts; $B ls /dev/null; echo hi > /tmp/x && $B cat /tmp/x; $B touch /newfile 2>&1 | $B grep -c "Read-only"' 2>&1)
check bmount-chroot "bin dev proc sys tmp 1 /dev/null hi 1" "$(echo $inside)"
check bmount-host-untouched "" "$(ls "$D/b/rootfs/tmp" 2>/dev/null; ls "$D/b/rootfs" | grep newfile)"
unmount "$M" || { echo "not ok unmount: busy"; kill -TERM $pid; }
wait $pid; rc=$?
check bmount-exit 0 "$rc"
check bmount-teardown "uvfs: teardown: 0 live objects" "$(tail -n1 "$D/err")"
check bmount-no-diod "" "$(pgrep -f -- "diod.*$D/b/rootfs")"
# SIGTERM stops it the same way.
"$UVFS" mount --bundle "$D/b" "$M" 2> "$D/err2" &
pid=$!
for _ in $(seq 100); do grep -q "mounted at" "$D/err2" 2>/dev/null && break; sleep 0.1; done
kill -TERM $pid; wait $pid; rc=$?
check bmount-sigterm "0:uvfs: teardown: 0 live objects" "$rc:$(tail -n1 "$D/err2")"
check bmount-sigterm-unmounted 0 "$(grep -c " $M " /proc/mounts)"
check bhost-untouched "$before" "$(cd "$D/b/rootfs" && find . | sort | tr '\n' ' ')"
