#!/bin/bash
# bench/fuse_peers.sh — `uvfs mount` (tmpfs) against its peers in one run:
# a kernel tmpfs directory (the baseline), fuse-overlayfs over tmpfs layers,
# and optionally a second uvfs binary (UVFS_BEFORE=path, e.g. a build of
# the previous commit). Each metric is the median of REPS runs (default 3):
#   stat8      lstat of a depth-8 path, warm (ops/s, higher is better)
#   create     create 100k empty files in 100 directories (s)
#   unlink     unlink them and the directories (s)
#   dbench     dbench, 2 clients, DBENCH_SECONDS (default 20) (MB/s)
#   postmark   postmark, PM_FILES files (2000), PM_TX transactions (20000) (s)
# Writes bench/results/fuse_peers${TAG:+-$TAG}.csv. Needs root, /dev/fuse,
# dbench, postmark, fuse-overlayfs (scripts/deps.sh installs them).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
UVFS=${UVFS:-$ROOT/build/uvfs}
UVFS_BEFORE=${UVFS_BEFORE:-}
REPS=${REPS:-3}
SECS=${DBENCH_SECONDS:-20}
NSTAT=${NSTAT:-300000}
PM_FILES=${PM_FILES:-2000}
PM_TX=${PM_TX:-20000}
ND=${ND:-100} NF=${NF:-1000}
METRICS=${METRICS:-stat8 create unlink dbench postmark}
mkdir -p bench/results build
csv=bench/results/fuse_peers${TAG:+-$TAG}.csv
cc -O2 -o build/fuse_helper bench/fuse_helper.c || exit 1
H=$ROOT/build/fuse_helper
command -v fuse-overlayfs >/dev/null || { echo "fuse_peers: fuse-overlayfs missing (make deps)" >&2; exit 1; }

T=$(mktemp -d /tmp/uvfs-bench-peers.XXXXXX)
S=$(mktemp -d /dev/shm/uvfs-bench-peers.XXXXXX)
[ "$(stat -f -c %T "$S")" = tmpfs ] || { echo "fuse_peers: /dev/shm is not tmpfs" >&2; exit 1; }
pid=
cleanup() {
  for m in "$T"/mnt-*; do fusermount3 -u "$m" 2>/dev/null; done
  [ -n "$pid" ] && wait "$pid" 2>/dev/null
  rm -rf "$T" "$S"
}
trap cleanup EXIT

waitmnt() { for _ in $(seq 200); do grep -q " $1 fuse" /proc/mounts && return 0; sleep 0.05; done; return 1; }

# setup NAME -> D, the directory to run in (no $(...): the server would hold its pipe).
# Every target runs one directory below its root (uvfs's tree has /tmp), so
# the stat path crosses as many FUSE names on each mount.
setup() {
  local mp=$T/mnt-$1
  mkdir -p "$mp"
  case $1 in
  tmpfs) mkdir -p "$S/k/tmp"; D=$S/k/tmp ;;
  overlay)
    mkdir -p "$S/ol" "$S/ou" "$S/ow"
    fuse-overlayfs -o "lowerdir=$S/ol,upperdir=$S/ou,workdir=$S/ow" "$mp" || return 1
    waitmnt "$mp" || return 1
    mkdir -p "$mp/tmp"; D=$mp/tmp ;;
  uvfs|uvfs_before)
    local bin=$UVFS; [ "$1" = uvfs_before ] && bin=$UVFS_BEFORE
    "$bin" mount -f "$mp" >/dev/null 2>"$T/log-$1" &
    pid=$!
    waitmnt "$mp" || { echo "fuse_peers: $1: $(cat "$T/log-$1")" >&2; return 1; }
    D=$mp/tmp ;;
  esac
}
teardown() {
  local mp=$T/mnt-$1
  case $1 in
  tmpfs) rm -rf "$S/k" ;;
  overlay) fusermount3 -u "$mp"; rm -rf "$S/ol" "$S/ou" "$S/ow" ;;
  uvfs|uvfs_before)
    fusermount3 -u "$mp"; wait "$pid"; local rc=$?; pid=
    grep -q '^uvfs: teardown: 0 live objects$' "$T/log-$1" ||
      echo "fuse_peers: $1 teardown (rc $rc): $(cat "$T/log-$1")" >&2 ;;
  esac
}

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || echo "fuse_peers: failed: $*" >&2; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
loadfile=$(ls /usr/share/dbench/client.txt 2>/dev/null || echo)
db() { dbench ${loadfile:+-c "$loadfile"} -D "$1" -t "$SECS" 2 2>&1 | sed -n 's/^Throughput \([0-9.]*\) MB\/sec.*/\1/p'; }
pm() { printf 'set location %s\nset number %s\nset transactions %s\nrun\nquit\n' "$1" "$PM_FILES" "$PM_TX" | postmark; }

# run1 METRIC DIR -> one sample
run1() {
  case $1 in
  stat8) mkdir -p "$2/a/b/c/d/e/f/g/h" && touch "$2/a/b/c/d/e/f/g/h/file"
         "$H" stat "$2/a/b/c/d/e/f/g/h/file" "$NSTAT" ;;
  create) secs "$H" mktree "$2/cu" "$ND" "$NF" ;;
  unlink) secs "$H" rmtree "$2/cu" "$ND" "$NF" ;;
  dbench) db "$2"; rm -rf "$2/clients" ;;
  postmark) secs pm "$2" ;;
  esac
}

targets="tmpfs overlay uvfs"
[ -n "$UVFS_BEFORE" ] && targets="tmpfs overlay uvfs_before uvfs"
targets=${TARGETS:-$targets} # a subset, e.g. TARGETS="tmpfs uvfs_before uvfs"
declare -A R
for t in $targets; do
  setup "$t" || exit 1; d=$D
  for m in $METRICS; do
    [ "$m" = unlink ] && continue # sampled with create
    vals= vals2=
    for _ in $(seq "$REPS"); do
      if [ "$m" = create ]; then
        mkdir -p "$d/cu"; vals="$vals $(run1 create "$d")"; vals2="$vals2 $(run1 unlink "$d")"; rmdir "$d/cu"
      else
        vals="$vals $(run1 "$m" "$d")"
      fi
    done
    R[$t,$m]=$(median <<<"$vals")
    [ "$m" = create ] && R[$t,unlink]=$(median <<<"$vals2")
    printf '%-12s %-9s %-10s (%s)\n' "$t" "$m" "${R[$t,$m]}" "$vals" >&2
    [ "$m" = create ] && printf '%-12s %-9s %-10s (%s)\n' "$t" unlink "${R[$t,unlink]}" "$vals2" >&2
  done
  teardown "$t"
done

unit() { case $1 in stat8) echo ops/s ;; dbench) echo MB/s ;; *) echo s ;; esac; }
{
  printf 'metric,unit'; for t in $targets; do printf ',%s' "$t"; done
  printf ',uvfs_vs_tmpfs,uvfs_vs_overlay\n'
  for m in $METRICS; do
    [ "$m" = unlink ] && continue
    [ "$m" = create ] && ms="create unlink" || ms=$m
    for mm in $ms; do
      printf '%s,%s' "$mm" "$(unit "$mm")"
      for t in $targets; do printf ",%s" "${R[$t,$mm]:-}"; done
      # speed ratios, higher is better for uvfs
      awk -v k="${R[tmpfs,$mm]:-}" -v o="${R[overlay,$mm]:-}" -v u="${R[uvfs,$mm]}" -v rate="$([ "$(unit "$mm")" = s ] && echo 0 || echo 1)" \
        'function r(a, b) { return (a > 0 && b > 0) ? sprintf("%.3f", a / b) : "" }
         BEGIN { if (rate) printf ",%s,%s\n", r(u, k), r(u, o); else printf ",%s,%s\n", r(k, u), r(o, u) }'
    done
  done
} >"$csv"
echo "# $(date -u +%FT%TZ) REPS=$REPS dbench ${SECS}s postmark ${PM_FILES}/${PM_TX} tree ${ND}x${NF} $(git rev-parse --short HEAD)" >>"$csv"
column -s, -t <"$csv"
