#!/bin/bash
# The runc differential: one unedited `runc spec` bundle (args changed to
# print /proc/self/mountinfo) over a busybox rootfs, run by `runc run` and
# booted by `uvfs boot --print`. Mount points, types and the ro/noexec flags
# must agree except for the documented gVisor differences (boot/README.md,
# "The runc differential"):
#   /            runc: the host filesystem of rootfs; uvfs: 9p (flags compared)
#   /dev         runc: tmpfs (as the spec says); runsc forces devtmpfs
#   /dev/mqueue  runc: mqueue; this gVisor has no mqueue fs: skipped, warned
#   /sys/fs/cgroup...  runc: cgroup hierarchies; runsc drops cgroup mounts
#   maskedPaths, readonlyPaths  runc masks/remounts them; runsc does not
#   /tmp         uvfs: runsc's /tmp rule mounts a tmpfs (image /tmp empty)
#   nosuid, nodev, relatime, strictatime: not modelled (flags: ro, noexec)
set -u
D=$(mktemp -d /tmp/uvfs-trdiff-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /bin/busybox ] || ! command -v runc >/dev/null || ! command -v jq >/dev/null || [ ! -x /usr/sbin/diod ] ||
   [ "$(id -u)" != 0 ]; then
  echo "ok rdiff-skipped # needs root, busybox-static, runc, jq and diod"; exit 0
fi
B=$D/b
mkdir -p "$B/rootfs/bin" && cp /bin/busybox "$B/rootfs/bin/busybox"
(cd "$B" && runc spec)
jq '.process.terminal=false | .process.args=["/bin/busybox","cat","/proc/self/mountinfo"]' "$B/config.json" > "$D/c" &&
  mv "$D/c" "$B/config.json"
id=uvfs-rdiff-$$
if ! timeout 60 runc run --bundle "$B" "$id" > "$D/runc.mi" 2> "$D/runc.err"; then
  runc delete -f "$id" >/dev/null 2>&1
  echo "ok rdiff-runc-unavailable # runc run failed here: $(head -c 200 "$D/runc.err")"; exit 0
fi
"$UVFS" boot --bundle "$B" --print > "$D/uvfs.mi" 2> "$D/uvfs.err"; rc=$?
check rdiff-uvfs-boot 0 "$rc"
skip=$(jq -r '.linux.maskedPaths[], .linux.readonlyPaths[]' "$B/config.json")
# "MOUNTPOINT TYPE FLAGS": flags from the per-mount options, ro|rw then noexec.
norm() {
  awk -v skip="$skip" -v who="$2" '
    BEGIN { n = split(skip, s, "\n"); for (i = 1; i <= n; i++) sk[s[i]] = 1 }
    / - / {
      mp = $5; for (i = 7; i <= NF; i++) if ($i == "-") { type = $(i + 1); break }
      if (mp in sk || mp == "/dev/mqueue" || mp ~ /^\/sys\/fs\/cgroup/) next
      if (who == "uvfs" && mp == "/tmp") next
      if (mp == "/" || mp == "/dev") type = "*"
      n2 = split($6, o, ","); fl = o[1]
      for (i = 2; i <= n2; i++) if (o[i] == "noexec") fl = fl ",noexec"
      print mp, type, fl
    }' "$1" | sort
}
norm "$D/runc.mi" runc > "$D/runc.n"
norm "$D/uvfs.mi" uvfs > "$D/uvfs.n"
if cmp -s "$D/runc.n" "$D/uvfs.n"; then
  echo "ok rdiff-mounts-agree # $(wc -l < "$D/runc.n") mounts: $(awk '{print $1}' "$D/runc.n" | tr '\n' ' ')"
else
  echo "not ok rdiff-mounts-agree: $(diff "$D/runc.n" "$D/uvfs.n" | grep '^[<>]' | tr '\n' ';')"
fi
# The documented differences are real (not an artefact of the filter).
check rdiff-uvfs-dev-devtmpfs 1 "$(awk '$5=="/dev"' "$D/uvfs.mi" | grep -c ' - devtmpfs ')"
check rdiff-uvfs-root-9p 1 "$(awk '$5=="/"' "$D/uvfs.mi" | grep -c ' - 9p ')"
check rdiff-uvfs-no-mqueue 0 "$(awk '$5=="/dev/mqueue"' "$D/uvfs.mi" | wc -l)"
check rdiff-uvfs-tmp 1 "$(awk '$5=="/tmp"' "$D/uvfs.mi" | grep -c ' - tmpfs ')"
# runc masks the paths that exist in its /proc and /sys (uvfs: none).
n=$(echo "$skip" | while read -r p; do awk -v p="$p" '$5==p' "$D/runc.mi"; done | wc -l)
check rdiff-runc-masks yes "$([ "$n" -gt 0 ] && echo yes || echo "no ($n)")"
check rdiff-uvfs-masks 0 "$(echo "$skip" | while read -r p; do awk -v p="$p" '$5==p' "$D/uvfs.mi"; done | wc -l)"
