#!/bin/bash
# bench/run_workloads_bench.sh — whole workloads under `uvfs run --root
# COPY`, under `proot -r COPY` and natively on the host copy: `find / -xdev
# -ls` over a tree of 10,000 files, `tar c` of this repository's source,
# `make -j2` of a generated C project (40 files, the host's gcc). COPY holds
# the data and every host file the three workloads open (collected by
# running them natively under strace), so both sandboxes run the same
# binaries from the same tree and no bind is needed. Wall time, median of
# REPS (default 3) runs, one run of the script for every ratio. uvfs run's
# tree is a tmpfs overlay over a read-only 9p (diod) view of COPY, nothing
# copied; its startup (diod, mounts, supervisor: `uvfs run --root COPY --
# /bin/true`) is reported on its own row.
# Writes bench/results/run_workloads.csv. Needs strace and proot.
# WORKLOADS="find tar" runs only those; KEEP=1 keeps the tree in /tmp;
# RUN_OPTS="--copy" measures uvfs run's old copied tree.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
UVFS=${UVFS:-$ROOT/build/uvfs}
REPS=${REPS:-3}
[ -n "${BENCH_QUICK:-}" ] && REPS=1
NFILES=${NFILES:-10000}
for t in strace proot gcc make tar find; do
  command -v $t >/dev/null || { echo "run_workloads: $t missing: skipped"; exit 0; }
done
mkdir -p bench/results
csv=bench/results/run_workloads.csv
W=$(mktemp -d /tmp/uvfs-bench-run.XXXXXX)
trap 'rm -rf "$W"' EXIT; [ -n "${KEEP:-}" ] && trap - EXIT
C=$W/root
mkdir -p "$C/data" "$C/proj" "$C/src" "$C/tmp"
chmod 1777 "$C/tmp"

# the data: NFILES small files in 100 directories
for d in $(seq 0 99); do
  mkdir "$C/data/d$d"
  (cd "$C/data/d$d" && for f in $(seq 1 $((NFILES / 100))); do echo "$d $f" > "f$f"; done)
done
# the source tree: this repository's sources
tar cf - --exclude=build --exclude=.git vfs fsimpl devices sandbox boot cli fuse tests bench doc scripts \
  Makefile README.md | tar xf - -C "$C/src"
# the C project: 40 files and a Makefile
for i in $(seq 1 40); do
  cat > "$C/proj/m$i.c" <<EOF
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct s$i { int a[16]; char name[32]; };
int f$i(int n) {
	struct s$i *v = calloc((size_t)n, sizeof(*v));
	int t = 0;
	for (int k = 0; k < n; k++) { snprintf(v[k].name, sizeof(v[k].name), "x%d", k); t += (int)strlen(v[k].name) + v[k].a[k % 16]; }
	free(v);
	return t + $i;
}
EOF
done
{ echo '#include <stdio.h>'; for i in $(seq 1 40); do echo "int f$i(int);"; done
  echo 'int main(void) { long t = 0;'; for i in $(seq 1 40); do echo "t += f$i(10);"; done
  echo 'printf("%ld\n", t); return 0; }'; } > "$C/proj/main.c"
printf 'OBJS := main.o %s\nprog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n%%.o: %%.c\n\t$(CC) -O1 -c -o $@ $<\nclean:\n\trm -f *.o prog\n' \
  "$(for i in $(seq 1 40); do printf 'm%d.o ' $i; done)" > "$C/proj/Makefile"

# the workloads, as commands run with / = the tree (native: cwd = the copy)
FIND='find / -xdev -ls > /dev/null'
TAR='cd / && tar cf - src | wc -c > /dev/null'
MAKE='make -s -j2 -C /proj > /dev/null'

# every host file they open, into the copy (as regular files)
cp -a "$C/proj" "$W/proj0"
strace -f -qq -o "$W/trace" -e trace=execve,open,openat,stat,lstat,newfstatat,access,readlink,statx \
  sh -c "find /usr/bin -maxdepth 0 -ls > /dev/null; tar cf - -C '$C' proj | wc -c > /dev/null; make -s -j2 -C '$W/proj0' > /dev/null; cat /dev/null; /bin/true" || exit 1
grep -o '"/[^"]*"' "$W/trace" | tr -d '"' | sort -u | grep -v -e '^/proc' -e '^/dev' -e '^/sys' -e '^/tmp' -e "^$W" |
  while read -r p; do
    [ -f "$p" ] || continue
    mkdir -p "$C$(dirname "$p")" && cp -L "$p" "$C$p" 2>/dev/null
  done
mkdir -p "$C/bin" "$C/usr/bin"
for b in /bin/sh /bin/true /usr/bin/wc /bin/rm; do
  [ -e "$C$b" ] || cp -L "$b" "$C$b"
  for l in $(ldd "$b" 2>/dev/null | grep -o '/[^ ]*'); do [ -e "$C$l" ] || { mkdir -p "$C$(dirname "$l")"; cp -L "$l" "$C$l"; }; done
done
[ -e "$C/etc/ld.so.cache" ] || { mkdir -p "$C/etc" && cp /etc/ld.so.cache "$C/etc/"; }
# one check that the tree is complete: the project builds inside it
(cd "$C" && proot -r "$C" -b /dev -b /proc -b /sys -w / sh -c "$MAKE && /proj/prog && make -s -C /proj clean") > "$W/check" 2>&1 ||
  { echo "run_workloads: the project does not build in the copy: $(tail -5 "$W/check")"; exit 1; }
nfiles=$(find "$C" -xdev | wc -l)
echo "tree: $nfiles entries, $(du -sh "$C" | cut -f1)"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# time1 MODE CMD: one run's wall seconds (make clean before, outside the timing)
time1() {
  local t0 t1
  make -s -C "$C/proj" clean > /dev/null 2>&1
  case $1 in
    native) t0=$(now); (cd "$C" && sh -c "$(native_cmd "$2")") > /dev/null 2>"$W/err"; rc=$?; t1=$(now) ;;
    uvfs) t0=$(now); "$UVFS" run ${RUN_OPTS:-} --root "$C" -- /bin/sh -c "$2" > /dev/null 2>"$W/err"; rc=$?; t1=$(now) ;;
    proot) t0=$(now); proot -r "$C" -b /dev -b /proc -b /sys -w / /bin/sh -c "$2" > /dev/null 2>"$W/err"; rc=$?; t1=$(now) ;;
  esac
  [ $rc = 0 ] || { echo "run_workloads: $1 [$2] failed ($rc): $(tail -3 "$W/err")" >&2; exit 1; }
  echo "$t1 - $t0" | bc -l
}
native_cmd() { # the same work on the host copy
  case $1 in
    "$FIND") echo "find '$C' -xdev -ls > /dev/null" ;;
    "$TAR") echo "cd '$C' && tar cf - src | wc -c > /dev/null" ;;
    "$MAKE") echo "make -s -j2 -C '$C/proj' > /dev/null" ;;
    *) echo "$1" ;;
  esac
}
med() { for _ in $(seq "$REPS"); do time1 "$1" "$2" || exit 1; done | median; }

echo "workload,native_s,uvfs_run_s,proot_s,uvfs_over_native,proot_over_uvfs" > "$csv"
for w in ${WORKLOADS:-startup find tar make}; do
  case $w in
    startup) cmd=/bin/true ;;
    find) cmd=$FIND ;;
    tar) cmd=$TAR ;;
    make) cmd=$MAKE ;;
    *) continue ;; # WORKLOADS=none with KEEP=1: only build the tree
  esac
  n=$(med native "$cmd") || exit 1
  u=$(med uvfs "$cmd") || exit 1
  p=$(med proot "$cmd") || exit 1
  row=$(printf '%s,%.3f,%.3f,%.3f,%.2f,%.2f' "$w" "$n" "$u" "$p" "$(echo "$u / $n" | bc -l)" "$(echo "$p / $u" | bc -l)")
  echo "$row" >> "$csv"
  echo "$row"
done
echo "(load: $(cut -d' ' -f1-3 /proc/loadavg); median of $REPS; $csv)"
