#!/bin/bash
# `uvfs run`'s per-call costs that are properties, not timings: the run's
# host directory (the tracee's host cwd, exec links and one placeholder
# directory per open tree directory) lives on a tmpfs when /dev/shm is one
# (mkdir+rmdir there is ~10 us, ~130 us on ext4), is removed at the end,
# and placeholders of closed directories are collected.
set -u
D=$(mktemp -d /tmp/uvfs-trcost-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /bin/busybox ]; then echo "ok run-cost-skipped # busybox-static missing"; exit 0; fi
T=$D/tree
mkdir -p "$T/bin" "$T/data"
cp /bin/busybox "$T/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$T/bin/$a"; done
for i in $(seq 3000); do mkdir "$T/data/d$i"; done
# the tracee: uvfs's child that is not the diod serving --root's lower
tracee_of() {
  local c
  for c in $(pgrep -P "$1"); do [ "$(cat /proc/$c/comm 2>/dev/null)" = diod ] || { echo $c; return; }; done
}
# find opens every directory (3000 placeholders, most collected), then the
# shell waits in sleep so the host side can be looked at
"$UVFS" run --root "$T" -- /bin/sh -c 'find /data -type d | wc -l > /data/n; sleep 3; cat /data/n' > "$D/out" 2>&1 & up=$!
hd=
for i in $(seq 100); do
  sleep 0.1
  tr=$(tracee_of $up); [ -n "$tr" ] || continue
  # (comm is the exec link's name: look at argv[0] of the shell's child)
  pgrep -P "$tr" | while read c; do tr '\0' ' ' < /proc/$c/cmdline; echo; done | grep -q '^sleep ' || continue
  hd=$(readlink /proc/$tr/cwd); break
done
want=tmpfs
if [ ! -w /dev/shm ] || [ "$(stat -f -c %T /dev/shm 2>/dev/null)" != tmpfs ]; then want=$(stat -f -c %T /tmp); fi
check run-cost-hostdir-tmpfs "$want" "$([ -n "$hd" ] && stat -f -c %T "$hd")"
n=$([ -n "$hd" ] && ls "$hd/d" 2>/dev/null | wc -l)
check run-cost-placeholders-collected yes "$([ -n "$n" ] && [ "$n" -lt 2100 ] && echo yes || echo "no ($n)")"
wait $up; rc=$?
check run-cost-run "0:3001" "$rc:$(cat "$D/out")"
check run-cost-hostdir-removed "" "$([ -n "$hd" ] && ls -d "$hd" 2>/dev/null)"

# fd calls map the tracee's fd to a tree file by a copy of it taken through
# the thread's pidfd (pidfd_getfd), with /proc/<tid>/fd as the fallback:
# host fds of every kind (O_PATH too) continue in the kernel, an fd that is
# not open is EBADF, a tree fd is the tree's
if command -v gcc > /dev/null && command -v python3 > /dev/null; then
  cat > "$D/probe.c" <<'PEOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int d = open("/data", O_RDONLY | O_DIRECTORY);
	for (int i = 1; i < argc; i++) {
		int fd = !strcmp(argv[i], "tree") ? d : atoi(argv[i]);
		struct stat a, b;
		int r1 = fstat(fd, &a), e1 = errno;
		int r2 = fstatat(fd, "", &b, AT_EMPTY_PATH), e2 = errno;
		printf("%s:%s:%s:%s ", argv[i], r1 ? strerror(e1) : S_ISDIR(a.st_mode) ? "dir" : S_ISREG(a.st_mode) ? "reg" : "other",
		       r2 ? strerror(e2) : S_ISDIR(b.st_mode) ? "dir" : S_ISREG(b.st_mode) ? "reg" : "other",
		       !r1 && !r2 && a.st_ino == b.st_ino ? "same" : "-");
	}
	printf("\n");
	return 0;
}
PEOF
  if gcc -static -O1 -o "$T/bin/probe" "$D/probe.c" 2> /dev/null; then
    echo x > "$D/hostfile"
    # fd 5: an O_PATH host file, fd 6: a host regular file, fd 9: not open
    out=$(python3 -c 'import os,sys
a=os.open(sys.argv[1], os.O_PATH); b=os.open(sys.argv[1], os.O_RDONLY)
os.dup2(a,5); os.dup2(b,6); os.set_inheritable(5,True); os.set_inheritable(6,True)
os.execv(sys.argv[2], [sys.argv[2], "run", "--root", sys.argv[3], "--", "/bin/probe", "5", "6", "9", "tree"])' \
      "$D/hostfile" "$UVFS" "$T" 2>&1)
    check run-cost-fd-kinds "5:reg:reg:same 6:reg:reg:same 9:Bad file descriptor:Bad file descriptor:- tree:dir:dir:same " "$out"
  fi
fi

# the notify loop blocks in the receive; the program's exit ends it even
# when a tracee that left the process group keeps the filter alive (the
# watcher thread interrupts the receive), and the run's status is the
# program's: a daemon idle in sleep, and one busy making file syscalls
for d in 'exec sleep 20' 'while :; do stat / > /dev/null; done'; do
  s0=$(date +%s)
  out=$(timeout 15 "$UVFS" run --root "$T" -- /bin/sh -c "setsid sh -c 'echo pid \$\$; exec > /dev/null 2>&1; $d' & sleep 0.5; exit 3" 2>&1); rc=$?
  s1=$(date +%s)
  pid=$(echo "$out" | sed -n 's/^pid //p'); [ -n "$pid" ] && kill -9 "$pid" 2> /dev/null
  check "run-cost-escaped-daemon-$([ "${d#exec}" = "$d" ] && echo busy || echo idle)" "3 fast" "$rc $([ $((s1 - s0)) -lt 10 ] && echo fast || echo slow)"
done
# the same with the wake-up signal blocked by uvfs's parent (masks are
# inherited across exec): the loop unblocks it for the run
if command -v python3 > /dev/null; then
  s0=$(date +%s)
  out=$(timeout 15 python3 -c 'import os,signal,sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGRTMIN + 3])
os.execv(sys.argv[1], sys.argv[1:])' "$UVFS" run --root "$T" -- /bin/sh -c "setsid sh -c 'echo pid \$\$; exec > /dev/null 2>&1; exec sleep 20' & sleep 0.5; exit 3" 2>&1); rc=$?
  s1=$(date +%s)
  pid=$(echo "$out" | sed -n 's/^pid //p'); [ -n "$pid" ] && kill -9 "$pid" 2> /dev/null
  check run-cost-escaped-daemon-sigblocked "3 fast" "$rc $([ $((s1 - s0)) -lt 10 ] && echo fast || echo slow)"
fi
