#!/bin/bash
# `uvfs run`: regular file content. Every writable open's memfd is written
# back to the tree at the next handled call; files no tracee can write any
# more leave that list (their last content synced first), so the cost of a
# call does not grow with the number of files written before it, and a
# file opened writable again joins it again.
set -u
D=$(mktemp -d /tmp/uvfs-trunc-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if ! command -v ldd >/dev/null || [ ! -x /bin/bash ]; then echo "ok run-content-skipped # no ldd or bash"; exit 0; fi
Y=$D/dyn
# as root the tree is a file system of its own, so its files' host device
# is not the one of the run's placeholder directories (in /tmp)
mkdir -p "$Y"
if [ "$(id -u)" = 0 ] && mount -t tmpfs none "$Y"; then trap 'umount "$Y"; rm -rf "$D"' EXIT; fi
P="/usr/bin/cat /usr/bin/stat /usr/bin/sleep /usr/bin/readlink /bin/bash"
for f in $P $(ldd $P | grep -o '/[^ :]*' | sort -u); do
  mkdir -p "$Y$(dirname "$f")" && cp -L "$f" "$Y$f"
done
[ -e /etc/ld.so.cache ] && mkdir -p "$Y/etc" && cp /etc/ld.so.cache "$Y/etc/"
mkdir -p "$Y/w" && echo hello > "$Y/w/x"
calls='for i in {1..200}; do [ -e /w/x ]; done' # handled calls: prunes happen meanwhile

# a writer that stays open across many calls keeps being written back; a
# file written, closed and written again (appended) after many calls too
out=$("$UVFS" run --root "$Y" --dump "$D/dump" -- /bin/bash -c "exec 3>/w/g; echo a >&3; $calls; echo b >&3
  echo a > /w/h; $calls; echo bbb >> /w/h; $calls; stat -c %s /w/g /w/h; echo cc >&3" 2>&1); rc=$?
check run-content-stat "0:4 6" "$rc:$(echo $out)"
check run-content-dump "f 0644 7 /w/g f 0644 6 /w/h" "$(echo $(grep -e ' /w/g$' -e ' /w/h$' "$D/dump"))"

# 2000 files written (and closed) before: a handled call costs what it did
# before them (it used to check every file ever written: 2000 fstats each)
S='t() { local t0=$EPOCHREALTIME; for i in {1..1000}; do [ -e /w/x ]; done; echo $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 )); }
a=$(t); for i in {1..2000}; do echo $i > /w/f$i; done; b=$(t); echo $a $b'
out=$("$UVFS" run --root "$Y" -- /bin/bash -c "$S" 2>&1)
set -- $out
check run-content-calls-flat "yes" "$([ $# = 2 ] && [ "$2" -le $(( 3 * $1 + 20 )) ] && echo yes || echo "1000 calls: $1 ms before, $2 ms after the files: $out")"

# read-only opens of a file of the (direct) lower are the host file itself,
# and libraries are mapped from the host files: nothing copied. Seen from
# the host while the tracee waits.
mkfifo "$D/fifo"
"$UVFS" run --root "$Y" -- /bin/bash -c 'exec 3</w/x; echo $$; /usr/bin/sleep 1' > "$D/fifo" 2>&1 & sup=$!
read -r pid < "$D/fifo"
fd3=$(readlink /proc/$pid/fd/3); libs=$(grep -c " $Y/.*libc" /proc/$pid/maps)
cat "$D/fifo" > /dev/null; wait $sup
check run-content-ro-is-host-file "$Y/w/x" "$fd3"
check run-content-libs-from-host "yes" "$([ "${libs:-0}" -gt 0 ] && echo yes || echo "libc maps: $libs")"
# fd calls on such an fd are the tree's (fstat: the tree's device; the
# tracee's /proc/self/fd lists it)
check run-content-ro-fstat-tree "yes" "$("$UVFS" run --root "$Y" -- /bin/bash -c '[ "$(stat -c %d%i - < /w/x)" = "$(stat -c %d%i /w/x)" ] && echo yes || { stat -c "%d %i" - /w/x < /w/x; }' 2>&1)"
check run-content-ro-fdview "/w/x" "$("$UVFS" run --root "$Y" -- /bin/bash -c 'exec 3</w/x; /usr/bin/readlink /proc/$$/fd/3' 2>&1)"

# a read-only fd and a writable one of the same file: the read-only fd
# opened before the copy-up keeps reading the lower (host) file, as Linux
# overlayfs did before 4.19 (since then its old fd follows the copy-up and
# reads "orig more": the known difference, sandbox/run/README.md); opens
# after the copy-up see the tree's content, as on a real overlay mount
# (compared when we are root)
echo orig > "$Y/w/y"
S='exec 3</w/y; echo more >> /w/y; echo "fd3: $(cat <&3)"; echo "new open: $(cat /w/y)"; echo new > /w/x; cat /w/x'
out=$("$UVFS" run --root "$Y" -- /bin/bash -c "$S" 2>&1)
check run-content-ro-and-rw "fd3: orig|new open: orig more|new" "$(echo "$out" | paste -sd'|' | sed 's/|more/ more/')"
if [ "$(id -u)" = 0 ] && mkdir -p "$D/ov/u" "$D/ov/w" "$D/ov/m" && mount -t overlay overlay -o "lowerdir=$Y/w,upperdir=$D/ov/u,workdir=$D/ov/w" "$D/ov/m" 2>/dev/null; then
  ref=$(cd "$D/ov/m" && bash -c "${S//\/w\//./}" 2>&1); umount "$D/ov/m"
  check run-content-ro-and-rw-overlay "$(echo "$ref" | sed '1,/^new open/{/^new open/!d}')" "$(echo "$out" | sed '1,/^new open/{/^new open/!d}')"
fi
check run-content-host-untouched "orig hello" "$(echo $(cat "$Y/w/y" "$Y/w/x"))"

# a static program of the lower runs from its host file (nothing copied);
# O_PATH opens are host files too, with fd calls served from the tree;
# fexecve of an O_PATH fd of such a program works
if cc -static -o "$Y/w/prog" -x c - 2>/dev/null <<'CEOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
extern char **environ;
int main(int argc, char **argv) {
	if (argc > 1 && !strcmp(argv[1], "child")) { printf("fexecve ok\n"); return 0; }
	printf("%d\n", (int)getpid());
	fflush(stdout);
	sleep(1);
	int p = open("/w/x", O_PATH);
	struct stat a, b;
	if (p < 0 || fstat(p, &a) || stat("/w/x", &b)) { perror("opath"); return 1; }
	printf("opath-fstat %s\n", a.st_dev == b.st_dev && a.st_ino == b.st_ino ? "tree" : "host");
	fflush(stdout);
	int e = open("/w/prog", O_PATH);
	char *av[] = { "prog", "child", NULL };
	fexecve(e, av, environ);
	perror("fexecve");
	return 1;
}
CEOF
then
  "$UVFS" run --root "$Y" -- /w/prog > "$D/fifo" 2>&1 & sup=$!
  read -r pid < "$D/fifo"
  exe=$(readlink /proc/$pid/exe)
  out=$(cat "$D/fifo"); wait $sup; rc=$?
  check run-content-static-from-host "$Y/w/prog" "$exe"
  check run-content-opath-fexecve "0:opath-fstat tree fexecve ok" "$rc:$(echo $out)"
else
  echo "ok run-content-static-skipped # no static libc"
fi
