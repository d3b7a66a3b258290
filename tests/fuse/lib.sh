# tests/fuse/lib.sh — helpers for tests/sh/t_fuse*.sh (sourced, not run).
# Provides: ok/nok, need_fuse, uvfs_mount MP [OPTS], uvfs_umount MP, a
# scratch dir $T removed (after unmounting everything) on exit.
: "${UVFS:=build/uvfs}"
UVFS=$(readlink -f "$UVFS")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d /tmp/uvfs-t-fuse.XXXXXX)
chmod 755 "$T"
declare -A MPID # mount point -> pid of its `uvfs mount -f`

ok() { echo "ok $*"; }
nok() { echo "not ok $*"; }

cleanup() {
  for mp in "${!MPID[@]}"; do
    fusermount3 -u -z "$mp" 2>/dev/null
    kill "${MPID[$mp]}" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

# need_fuse NAME: prints "not ok NAME" and exits if FUSE cannot be used.
need_fuse() {
  if [ "$(id -u)" != 0 ] || [ ! -w /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
    nok "$1: needs root, /dev/fuse and fusermount3"
    exit 1
  fi
}

is_mounted() { grep -q " $1 fuse" /proc/mounts; }

# uvfs_mount MP [OPTS]: mounts the default tree in the foreground (log in
# $T/log.<name>) and waits until the mount is up. Returns 1 on failure.
uvfs_mount() {
  local mp=$1 opts=${2:-}
  mkdir -p "$mp"
  local log="$T/log.$(basename "$mp")"
  # Background jobs of a script start with SIGINT ignored; undo that so
  # the SIGINT test means something.
  if [ -n "$opts" ]; then env --default-signal=INT "$UVFS" mount -f -o "$opts" "$mp" 2>"$log" &
  else env --default-signal=INT "$UVFS" mount -f "$mp" 2>"$log" & fi
  MPID[$mp]=$!
  for _ in $(seq 100); do
    is_mounted "$mp" && return 0
    kill -0 "${MPID[$mp]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "mount failed: $(cat "$log")" >&2
  return 1
}

# uvfs_umount MP: unmounts, waits for the server and checks it exited 0
# reporting zero live objects. Returns 1 otherwise, the problem in $WHY.
# (Not in a subshell: it waits for the server.)
uvfs_umount() {
  local mp=$1 pid=${MPID[$1]} rc
  local log="$T/log.$(basename "$mp")"
  fusermount3 -u "$mp" || fusermount3 -u -z "$mp"
  wait "$pid"; rc=$?
  unset "MPID[$mp]"
  WHY=
  if is_mounted "$mp"; then WHY="still mounted"; return 1; fi
  if [ $rc != 0 ] || ! grep -q '^uvfs: teardown: 0 live objects$' "$log"; then
    WHY="server rc=$rc: $(tr '\n' ' ' <"$log")"
    return 1
  fi
  return 0
}
