#!/bin/bash
# `uvfs run`: exec of dynamically linked programs from the tree. The
# supervisor caches each program's exec image (its PT_INTERP pointed at
# /proc/self/fd/L) per tree inode and per interpreter fd L: a program
# rewritten in the tree runs its new content, an exec whose interpreter
# lands on another fd number works, and many execs keep the supervisor's
# fds bounded.
set -u
D=$(mktemp -d /tmp/uvfs-trunx-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if ! command -v ldd >/dev/null || [ ! -x /bin/bash ]; then echo "ok run-exec-skipped # no ldd or bash"; exit 0; fi
Y=$D/dyn
P="/usr/bin/true /usr/bin/false /usr/bin/cat /usr/bin/sleep /usr/bin/chmod /usr/bin/seq /usr/bin/env /bin/bash"
for f in $P $(ldd $P | grep -o '/[^ :]*' | sort -u); do
  mkdir -p "$Y$(dirname "$f")" && cp -L "$f" "$Y$f"
done
[ -e /etc/ld.so.cache ] && mkdir -p "$Y/etc" && cp /etc/ld.so.cache "$Y/etc/"
mkdir -p "$Y/w" && echo hello > "$Y/w/x"
run() { "$UVFS" run --root "$Y" -- /bin/bash -c "$1" 2>&1; }

# a program rewritten in place (same inode) between two execs runs its new
# content: the cached image is dropped when the file changes
check run-exec-rewritten "0 1 0" "$(run 'cat /usr/bin/true > /w/p && chmod 755 /w/p && /w/p; a=$?
  cat /usr/bin/false > /w/p; /w/p; b=$?; cat /usr/bin/true > /w/p; /w/p; echo $a $b $?')"
# overwritten in place without truncating (true and false have the same
# size: only the content differs)
check run-exec-rewritten-dd "0 1" "$(run 'cat /usr/bin/true > /w/p && chmod 755 /w/p && /w/p; a=$?
  exec 3<>/w/p; cat /usr/bin/false >&3; exec 3>&-; /w/p; echo $a $?')"

# the interpreter on another fd number than the cached image's (fds 3-5
# taken): the image must name the right one
check run-exec-interp-fd "hello hello hello" \
  "$(run '/usr/bin/cat /w/x; /usr/bin/cat /w/x 3</w/x 4</w/x 5</w/x; /usr/bin/cat /w/x' | tr '\n' ' ' | sed 's/ $//')"

# 200 execs, 60 of them with an interpreter fd of its own: the supervisor's
# fds (and so the images it keeps) do not grow with them (40 new images
# after A; a few fds of the direct lower's file cache may come and go). The tracee
# reports on stdout (a FIFO read here) and pauses while its supervisor's
# fds are counted.
mkfifo "$D/fifo"
S='/usr/bin/sleep 0; for k in $(seq 3 22); do /usr/bin/true || echo fail; eval "exec $k</w/x"; done; echo A; /usr/bin/sleep 1
for k in $(seq 23 62); do /usr/bin/true || echo fail; eval "exec $k</w/x"; done
for i in $(seq 140); do /usr/bin/true || echo fail; done; echo B; /usr/bin/sleep 1'
"$UVFS" run --root "$Y" -- /bin/bash -c "$S" > "$D/fifo" 2>&1 & sup=$!
na= nb= other=
while read -r l; do
  case $l in
    A) na=$(ls /proc/$sup/fd | wc -l) ;;
    B) nb=$(ls /proc/$sup/fd | wc -l) ;;
    *) other="$other $l" ;;
  esac
done < "$D/fifo"
wait $sup; rc=$?
check run-exec-200-rc "0:" "$rc:$other"
check run-exec-200-fds-bounded "yes" "$([ -n "$na" ] && [ -n "$nb" ] && [ "$nb" -le $((na + 10)) ] && echo yes || echo "fds $na then $nb")"

# argv[0] of a program run by a process that forked (not vfork): its own
# name, even when argv[0] is the path string itself (env execs argv[0];
# only a vfork child's argv[0] becomes "Nd/BASENAME", see README.md)
check run-exec-argv0 "/usr/bin/cat: /nonexistent: No such file or directory" "$(run '/usr/bin/cat /nonexistent')"
check run-exec-argv0-env "/usr/bin/cat: /nonexistent: No such file or directory" "$(run '/usr/bin/env /usr/bin/cat /nonexistent')"
