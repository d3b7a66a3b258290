#!/bin/bash
# `uvfs run --max-tasks N`: past N live tracee processes fork/clone/vfork
# fail with EAGAIN (as at RLIMIT_NPROC), the run goes on, and the
# supervisor keeps serving the others. Children that never make a file
# syscall (subshells blocked reading a pipe) count too.
set -u
D=$(mktemp -d /tmp/uvfs-trunf-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /bin/busybox ]; then echo "ok run-fork-skipped # busybox-static missing"; exit 0; fi
T=$D/tree
mkdir -p "$T/bin" "$T/etc"
cp /bin/busybox "$T/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$T/bin/$a"; done
echo hello > "$T/etc/greeting"
# 30 pipelines of two processes each (sleep, seen at its exec; a subshell
# blocked in read, never seen), all alive together for 3 s
# (busybox sh exits when a fork fails, as under a real RLIMIT_NPROC: the
# loop runs in a shell of its own; the outer shell then waits without
# forking, in a builtin read on a pipe, until the loop's children are gone)
S='sleep 6 | { sh -c "for i in \$(seq 30); do sleep 1 | (read x) & done" 2>/dev/null; echo spawned $?; read -t 3 x; cat /etc/greeting; }'
# the tracee processes alive while the loop's children sleep: counted from
# the outside, as members of the run's process group
count_live() { # timeout's pid -> max number of processes in the tracee's group seen
  local max=0 n pg i u
  for i in $(seq 20); do
    sleep 0.1
    u=$(pgrep -P "$1" | head -1); [ -n "$u" ] || continue
    # the tracee: uvfs's child that is not the diod serving --root's lower
    pg=$(for c in $(pgrep -P "$u"); do [ "$(cat /proc/$c/comm 2>/dev/null)" = diod ] || echo $c; done | head -1)
    [ -n "$pg" ] || continue
    n=$(ps -e -o pgid= | grep -cx " *$pg")
    [ "$n" -gt "$max" ] && max=$n
  done
  echo $max
}
timeout 60 "$UVFS" run --max-tasks 12 --root "$T" -- /bin/sh -c "$S" > "$D/out" 2>&1 & up=$!
live=$(count_live $up)
wait $up; rc=$?
check run-fork-bounded-rc "0" "$rc"
check run-fork-bounded-out "spawned 2 hello" "$(echo $(cat "$D/out"))"
check run-fork-bounded-live "yes" "$([ "$live" -le 12 ] && [ "$live" -ge 6 ] && echo yes || echo "$live live")"
# the failures are EAGAIN, as the kernel's own limit gives
out=$(timeout 60 "$UVFS" run --max-tasks 3 --root "$T" -- /bin/sh -c 'sh -c "sleep 2 & sleep 2 & sleep 2 & wait"; echo done $?' 2>&1)
check run-fork-eagain "yes" "$(echo "$out" | grep -q "can't fork: Resource temporarily unavailable" && echo yes || echo "$out")"
check run-fork-eagain-goes-on "yes" "$(echo "$out" | tail -1 | grep -qx "done 2" && echo yes || echo "$out")"
# under the default limit nothing fails
timeout 60 "$UVFS" run --root "$T" -- /bin/sh -c "$S" > "$D/out" 2>&1 & up=$!
live=$(count_live $up)
wait $up
check run-fork-default "spawned 0 hello" "$(echo $(cat "$D/out"))"
check run-fork-default-live "yes" "$([ "$live" -gt 40 ] && echo yes || echo "$live live")"
# a fork bomb ends (bounded in time) and the supervisor stays responsive
start=$(date +%s)
M=uvfsbomb$$
out=$(timeout 60 "$UVFS" run --max-tasks 50 --root "$T" -- /bin/sh -c "b() { b | b & }; (b) 2>/dev/null & sleep 3; cat /etc/greeting # $M" 2>&1); rc=$?
check run-fork-bomb "yes" "$(echo "$out" | grep -qx hello && [ $(( $(date +%s) - start )) -lt 50 ] && echo yes || echo "rc=$rc $out")"
sleep 1
check run-fork-bomb-gone "" "$(pgrep -f "$M")"
check run-fork-usage "2" "$("$UVFS" run --max-tasks 0 --root "$T" -- /bin/true >/dev/null 2>&1; echo $?)"
# vfork + exec of a program in the tree whose argv[0] is the path string
# itself (gcc's driver running cc1, posix_spawn callers): the child shares
# the parent's memory, so exec must not leave the parent's argv pointing at
# the child's stack (the parent frees it: "free(): invalid pointer")
if cc -static -o "$T/bin/vforker" -x c - 2>/dev/null <<'CEOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
	for (int i = 0; i < 20; i++) {
		char *p = strdup("/bin/true");
		char *argv[] = { p, NULL };
		pid_t c = vfork();
		if (c == 0) { execv(p, argv); _exit(127); }
		int st = 0;
		waitpid(c, &st, 0);
		if (argv[0] != p || !WIFEXITED(st) || WEXITSTATUS(st)) { printf("bad %d %d\n", argv[0] != p, st); return 1; }
		free(argv[0]);
	}
	puts("vfork ok");
	return 0;
}
CEOF
then
  check run-vfork-exec "0:vfork ok" "$(out=$(timeout 60 "$UVFS" run --root "$T" -- /bin/vforker 2>&1); echo "$?:$out")"
else
  echo "ok run-vfork-exec-skipped # no static libc"
fi
