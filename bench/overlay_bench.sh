#!/bin/bash
# bench/overlay_bench.sh — `uvfs mount -t overlay` against fuse-overlayfs,
# both FUSE, over the same kind of host layers (kernel tmpfs under
# /dev/shm: a lower holding a small tree, an empty upper), in one run.
# Each metric is the median of REPS runs (default 3):
#   stat8      lstat of a depth-8 path that exists in the lower layer, warm
#              (ops/s, higher is better)
#   copyup     append one byte to each of 1000 lower files (s): copy-ups
#   dbench     dbench, 2 clients, DBENCH_SECONDS (default 10) (MB/s)
#   postmark   postmark, PM_FILES files (1000), PM_TX transactions (10000) (s)
# Fresh layers for every target. Writes bench/results/overlay_fuse.csv.
# Needs root, /dev/fuse, dbench, postmark, fuse-overlayfs, diod.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
UVFS=${UVFS:-$ROOT/build/uvfs}
REPS=${REPS:-3}
SECS=${DBENCH_SECONDS:-10}
NSTAT=${NSTAT:-100000}
PM_FILES=${PM_FILES:-1000}
PM_TX=${PM_TX:-10000}
METRICS=${METRICS:-stat8 copyup dbench postmark}
mkdir -p bench/results build
csv=bench/results/overlay_fuse.csv
cc -O2 -o build/fuse_helper bench/fuse_helper.c || exit 1
H=$ROOT/build/fuse_helper
for t in fuse-overlayfs dbench postmark diod; do
  command -v $t >/dev/null || { echo "overlay_bench: $t missing (make deps)" >&2; exit 1; }
done
S=$(mktemp -d /dev/shm/uvfs-bench-ovl.XXXXXX)
pid=
cleanup() {
  for m in "$S"/mnt-*; do fusermount3 -u "$m" 2>/dev/null; done
  [ -n "$pid" ] && wait "$pid" 2>/dev/null
  rm -rf "$S"
}
trap cleanup EXIT
waitmnt() { for _ in $(seq 200); do grep -q " $1 fuse" /proc/mounts && return 0; sleep 0.05; done; return 1; }

layers() { # fresh layers in $S/$1
  rm -rf "$S/$1"; mkdir -p "$S/$1/l/a/b/c/d/e/f/g/h" "$S/$1/u" "$S/$1/w" "$S/$1/l/many"
  touch "$S/$1/l/a/b/c/d/e/f/g/h/file"
  for i in $(seq 1000); do echo "$i" >"$S/$1/l/many/f$i"; done
}
# setup TARGET -> D, the merged directory (no $(...): the server would hold its pipe)
setup() {
  local mp=$S/mnt-$1 L=$S/$1
  mkdir -p "$mp"; layers "$1"
  case $1 in
  fuse-overlayfs)
    fuse-overlayfs -o "lowerdir=$L/l,upperdir=$L/u,workdir=$L/w" "$mp" || return 1 ;;
  uvfs-overlay)
    "$UVFS" mount -f -t overlay -o "lowerdir=$L/l,upperdir=$L/u,workdir=$L/w" overlay "$mp" >/dev/null 2>"$S/log-$1" &
    pid=$! ;;
  esac
  waitmnt "$mp" || { echo "overlay_bench: $1: $(cat "$S/log-$1" 2>/dev/null)" >&2; return 1; }
  D=$mp
}
teardown() {
  fusermount3 -u "$S/mnt-$1"
  if [ "$1" = uvfs-overlay ]; then
    wait "$pid"; pid=
    grep -q '^uvfs: teardown: 0 live objects$' "$S/log-$1" || echo "overlay_bench: $1 teardown: $(cat "$S/log-$1")" >&2
  fi
}

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || echo "overlay_bench: failed: $*" >&2; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
loadfile=$(ls /usr/share/dbench/client.txt 2>/dev/null || echo)
db() { dbench ${loadfile:+-c "$loadfile"} -D "$1" -t "$SECS" 2 2>&1 | sed -n 's/^Throughput \([0-9.]*\) MB\/sec.*/\1/p'; }
pm() { printf 'set location %s\nset number %s\nset transactions %s\nrun\nquit\n' "$1" "$PM_FILES" "$PM_TX" | postmark; }
appendall() { for i in $(seq 1000); do echo x >>"$1/many/f$i"; done; }

run1() { # METRIC TARGET -> one sample (copyup needs fresh layers: remounts)
  case $1 in
  stat8) "$H" stat "$D/a/b/c/d/e/f/g/h/file" 1 >/dev/null # warm: the first walk of a fresh mount is not measured
         "$H" stat "$D/a/b/c/d/e/f/g/h/file" "$NSTAT" ;;
  copyup) secs appendall "$D" ;;
  dbench) db "$D"; rm -rf "$D/clients" ;;
  postmark) secs pm "$D" ;;
  esac
}

targets="fuse-overlayfs uvfs-overlay"
declare -A R
for m in $METRICS; do
  for t in $targets; do
    vals=
    for _ in $(seq "$REPS"); do
      setup "$t" || exit 1
      vals="$vals $(run1 "$m" "$t")"
      teardown "$t"
    done
    R[$t,$m]=$(median <<<"$vals")
    printf '%-15s %-9s %-10s (%s)\n' "$t" "$m" "${R[$t,$m]}" "$vals" >&2
  done
done
unit() { case $1 in stat8) echo ops/s ;; dbench) echo MB/s ;; *) echo s ;; esac; }
{
  echo "metric,unit,fuse-overlayfs,uvfs-overlay,uvfs_speed_vs_fuse-overlayfs"
  for m in $METRICS; do
    awk -v m="$m" -v u="$(unit "$m")" -v f="${R[fuse-overlayfs,$m]}" -v o="${R[uvfs-overlay,$m]}" \
      'BEGIN { r = (u == "s") ? f / o : o / f; printf "%s,%s,%s,%s,%.3f\n", m, u, f, o, r }'
  done
} >"$csv"
echo "# $(date -u +%FT%TZ) REPS=$REPS dbench ${SECS}s postmark ${PM_FILES}/${PM_TX} $(git rev-parse --short HEAD)" >>"$csv"
column -s, -t <"$csv"
