#!/bin/bash
# `uvfs run`: unmodified programs (busybox-static, dynamically linked
# coreutils, a hostile static test program) run with their file system
# served from a uvfs overlay (tmpfs upper) over a read-only 9p view of a
# host tree. Each command's output and
# exit status are compared with the same command under `chroot` of an
# identical host copy; files written inside land in the uvfs tree (seen
# with --dump) and never on the host.
set -u
D=$(mktemp -d /tmp/uvfs-trun-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /bin/busybox ]; then echo "ok run-skipped # busybox-static missing"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "ok run-skipped # the chroot references need root"; exit 0; fi
# the references run on a host tmpfs, so sizes of directories match
mkdir -p "$D/r" && mount -t tmpfs none "$D/r" || exit 1
trap 'umount "$D/r"; rm -rf "$D"' EXIT
# the tree is on a host tmpfs too, so directory sizes match (uvfs run
# shows the host's through 9p)
T=$D/r/tree
# proc, sys, dev: mount points (uvfs run mounts its own there; the
# references get a /dev/null)
mkdir -p "$T/bin" "$T/etc" "$T/tmp" "$T/data/sub" "$T/proc" "$T/sys" "$T/dev"
cp /bin/busybox "$T/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$T/bin/$a"; done
echo hello > "$T/etc/greeting"
seq 1 2000 | sort > "$T/data/numbers"
ln -s ../etc/greeting "$T/data/link"
chmod 1777 "$T/tmp"

# diff NAME SCRIPT: the same sh -c SCRIPT under uvfs run and under chroot
diffrun() {
  rm -rf "$D/r/ref" && cp -a "$T" "$D/r/ref" && mknod -m 666 "$D/r/ref/dev/null" c 1 3
  out=$("$UVFS" run --root "$T" -- /bin/sh -c "$2" 2>&1); rc=$?
  ref=$(chroot "$D/r/ref" /bin/sh -c "$2" 2>&1); rrc=$?
  check "run-$1" "$rrc:$ref" "$rc:$out"
}
# "." and "..": the root is a merged overlay directory, shown as Linux
# overlayfs shows one (nlink 1, the size of its tmpfs upper)
diffrun ls-la 'ls -la / /data | grep -v " \(dev\|proc\|sys\|\.\|\.\.\)$" | sed "s/ [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]* / DATE /"'
diffrun cat 'cat /etc/greeting /data/link; cat /nonexistent; echo rc=$?'
diffrun mkdir-echo-cat 'mkdir -p a/b && echo hi > a/b/f && cat a/b/f && echo more >> a/b/f && cat a/b/f && wc -c a/b/f'
diffrun cd-pwd 'cd /data/sub && pwd && cd .. && ls && cd /nonexistent; echo rc=$?'
diffrun find 'find / -path /proc -prune -o -print | sort | head -20; find /data -type l'
diffrun mv-rm-ln 'cd /tmp && echo x > f && mv f g && ln g h && ln -s g s && readlink s && ls -l | wc -l && rm -r /tmp/* && ls /tmp'
diffrun pipes-sort 'sort -rn /data/numbers | head -3; cat /data/numbers | sort -n | tail -1 > /tmp/last; cat /tmp/last'
diffrun stat 'stat -c "%s %a %F %h" /etc/greeting /data /data/link; stat -L -c %s /data/link'
# hard links keep their link count and inode (the old copy made them
# separate files)
ln "$T/etc/greeting" "$T/etc/hardlink"
diffrun hardlink 'stat -c %h /etc/hardlink; [ /etc/hardlink -ef /etc/greeting ] && echo same; cat /etc/hardlink'
rm "$T/etc/hardlink"
diffrun chmod-touch 'touch /tmp/t && chmod 640 /tmp/t && stat -c %a /tmp/t && touch -d @1000000 /tmp/t && stat -c %Y /tmp/t'
diffrun exit-status 'exit 42'
diffrun umask 'umask 027; mkdir /tmp/d; touch /tmp/f; stat -c "%a %n" /tmp/d /tmp/f; umask 0; mkdir -m 777 /tmp/e; stat -c %a /tmp/e'
diffrun chroot 'mkdir -p /j/bin && cp /bin/busybox /j/bin/ && chroot /j /bin/busybox sh -c "cd /; /bin/busybox ls /; /bin/busybox pwd"; ls /j' 
diffrun tar 'cd /tmp && tar cf x.tar -C /data . && mkdir u && tar xf x.tar -C u && ls u && cmp u/numbers /data/numbers && echo same'

# as a user without privileges: the caller's credentials decide
chmod 755 "$D"
S='id -u; mkdir /x; echo rc=$?; cd /tmp && echo hi > f && cat f && ls -l f | cut -c1-30; rm /etc/greeting; echo rc=$?'
rm -rf "$D/r/ref" && cp -a "$T" "$D/r/ref" && mknod -m 666 "$D/r/ref/dev/null" c 1 3
out=$(runuser -u nobody -- "$UVFS" run --root "$T" -- /bin/sh -c "$S" 2>&1); rc=$?
ref=$(chroot --userspec=65534:65534 "$D/r/ref" /bin/sh -c "$S" 2>&1); rrc=$?
check run-nonroot "$rrc:$ref" "$rc:$out"
diffrun subshells 'cd /data; (cd sub && pwd; sh -c "pwd; cd /; pwd"); pwd; (cd /etc & wait); pwd; echo x | (cd /tmp; cat > y); cat /tmp/y'

# an OCI bundle: booted (its root under a tmpfs overlay), its
# process.args/cwd used; runc spec's root is read-only: made writable
# here, then kept read-only for the EROFS check
if command -v runc >/dev/null; then
  mkdir -p "$D/b/rootfs/bin" "$D/b/rootfs/w" && cp /bin/busybox "$D/b/rootfs/bin/sh"
  (cd "$D/b" && runc spec)
  sed -i 's|"sh"$|"sh", "-c", "echo bundle; pwd; echo x > f; ls"|; s|"cwd": "/"|"cwd": "/w"|' "$D/b/config.json"
  cp "$D/b/config.json" "$D/b/ro.json"
  sed -i 's|"readonly": true|"readonly": false|' "$D/b/config.json"
  # boot's warnings (e.g. no mqueue filesystem) are not the program's
  out=$("$UVFS" run --bundle "$D/b" 2>&1 | grep -v "^uvfs: warn: "); rc=${PIPESTATUS[0]}
  check run-bundle "0:bundle /w f" "$rc:$(echo $out)"
  check run-bundle-host-untouched "" "$(ls "$D/b/rootfs/w")"
  mv "$D/b/ro.json" "$D/b/config.json"
  out=$("$UVFS" run --bundle "$D/b" -- /bin/sh -c 'echo x > /w/f; echo $?' 2>&1 | grep -v "^uvfs: warn: ")
  check run-bundle-readonly "yes" "$(echo "$out" | grep -q 'Read-only file system' && [ "$(echo "$out" | tail -1)" = 1 ] && echo yes || echo "$out")"
fi

# files written inside are in the uvfs tree, not on the host
"$UVFS" run --root "$T" --dump "$D/dump" -- /bin/sh -c 'mkdir -p /a/b && echo hi > /a/b/f' ; rc=$?
check run-write-rc 0 "$rc"
check run-write-in-tree "f 0644 3 /a/b/f" "$(grep ' /a/b/f$' "$D/dump")"
check run-write-not-on-host "no" "$([ -e "$T/a" ] && echo yes || echo no)"

# --gofer diod: the lower served by a diod child instead of in process
out=$("$UVFS" run --root "$T" --gofer diod -- /bin/sh -c 'cat /etc/greeting; echo x > /tmp/n; cat /tmp/n; ls /data' 2>&1); rc=$?
check run-gofer-diod "0:hello x link numbers sub" "$rc:$(echo $out)"
check run-gofer-usage "2" "$("$UVFS" run --root "$T" --gofer pigeon -- /bin/true >/dev/null 2>&1; echo $?)"

# bad trees: a clear error, no program run; --copy keeps the old copied tree
out=$("$UVFS" run --root "$D/none" -- /bin/true 2>&1); rc=$?
check run-root-missing "1:uvfs run: building the tree from $D/none: No such file or directory" "$rc:$out"
out=$("$UVFS" run --root "$T/etc/greeting" -- /bin/true 2>&1); rc=$?
check run-root-notdir "1:uvfs run: building the tree from $T/etc/greeting: Not a directory" "$rc:$out"
check run-copy-usage "2" "$("$UVFS" run --copy -- /bin/true >/dev/null 2>&1; echo $?)"
out=$("$UVFS" run --copy --root "$T" --dump "$D/dump" -- /bin/sh -c 'cat /etc/greeting; grep -c . /proc/self/mounts; echo x > /new' 2>&1); rc=$?
check run-copy "0:hello 5" "$rc:$(echo $out)"
check run-copy-not-on-host "f 0644 2 /new no" "$(grep ' /new$' "$D/dump") $([ -e "$T/new" ] && echo yes || echo no)"

# the supervisor killed mid-run: no tracee stays behind, blocked or not
M=uvfsrunmarker$$
"$UVFS" run --root "$T" -- /bin/sh -c "while :; do stat / > /tmp/x; done # $M" 2>/dev/null & sup=$!
sleep 1; kill -9 $sup; wait $sup 2>/dev/null; sleep 1
check run-supervisor-killed "" "$(pgrep -f "$M")"

# a signal kills uvfs the same way
"$UVFS" run --root "$T" -- /bin/sh -c 'kill -TERM $$' ; rc=$?
check run-signal 143 "$rc"

# dynamically linked programs from the tree (ld.so is the host's, the
# libraries are opened from the tree)
if command -v ldd >/dev/null && [ -x /usr/bin/ls ] && [ -x /bin/bash ]; then
  Y=$D/dyn
  for f in /usr/bin/ls /usr/bin/cat /bin/bash $(ldd /usr/bin/ls /usr/bin/cat /bin/bash | grep -o '/[^ :]*' | sort -u); do
    mkdir -p "$Y$(dirname "$f")" && cp -L "$f" "$Y$f"
  done
  [ -e /etc/ld.so.cache ] && mkdir -p "$Y/etc" && cp /etc/ld.so.cache "$Y/etc/"
  mkdir -p "$Y/w" "$Y/dev"
  rm -rf "$D/r/dref" && cp -a "$Y" "$D/r/dref" && mknod -m 666 "$D/r/dref/dev/null" c 1 3
  S='cd /w && echo dyn > x && /usr/bin/cat x && /usr/bin/ls -la / | wc -l 2>/dev/null; /usr/bin/ls /w; exit 3'
  out=$("$UVFS" run --root "$Y" -- /bin/bash -c "$S" 2>&1); rc=$?
  ref=$(chroot "$D/r/dref" /bin/bash -c "$S" 2>&1); rrc=$?
  check run-dynamic "$rrc:$ref" "$rc:$out"
fi

# hostile pointers and lengths: the errnos the kernel gives (compared with
# the same static program under chroot)
if cc -static -pthread -o "$T/bin/hostile" -x c - 2>/dev/null <<'CEOF'
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
static void r(const char *what, long rc) { printf("%s %ld %s\n", what, rc, rc < 0 ? strerrorname_np(errno) : "-"); }
static char racy[64] = "/etc/greeting";
static volatile int stop;
static void *flip(void *a) { /* rewrites the path while the other thread opens it */
	(void)a;
	while (!stop) { memcpy(racy, "/etc/greetinX", 14); memset(racy, 'z', 63); memcpy(racy, "/etc/greeting", 14); }
	return NULL;
}
static int entries(int fd) {
	char buf[4096];
	int n = 0;
	long k;
	lseek(fd, 0, SEEK_SET);
	while ((k = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
		for (long o = 0; o < k; o += ((struct dirent *)(buf + o))->d_reclen) n++;
	return k < 0 ? -1 : n;
}
int main(void) {
	static char longp[8192];
	struct stat st;
	char cwd[2];
	r("open-null", syscall(SYS_openat, AT_FDCWD, (char *)0, O_RDONLY));
	r("open-bad", syscall(SYS_openat, AT_FDCWD, (char *)8, O_RDONLY));
	memset(longp, 'a', sizeof(longp) - 1);
	r("open-toolong", syscall(SYS_openat, AT_FDCWD, longp, O_RDONLY));
	for (int i = 0; i < 4094; i += 2) longp[i] = 'x', longp[i + 1] = '/';
	longp[4094] = 'x', longp[4095] = 0; /* 4095 bytes: long, but allowed */
	r("open-4095", syscall(SYS_openat, AT_FDCWD, longp, O_RDONLY));
	longp[4095] = 'x', longp[4096] = 0;
	r("open-4096", syscall(SYS_openat, AT_FDCWD, longp, O_RDONLY));
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(m + pg, pg);
	memcpy(m + pg - 4, "/etc", 4);
	r("stat-unterminated", syscall(SYS_newfstatat, AT_FDCWD, m + pg - 4, &st, 0));
	r("stat-badbuf", syscall(SYS_newfstatat, AT_FDCWD, "/etc", (void *)8, 0));
	r("stat-badflags", syscall(SYS_newfstatat, AT_FDCWD, "/etc", &st, 0x40000));
	r("getcwd-small", syscall(SYS_getcwd, cwd, sizeof(cwd)));
	r("openat-badfd", syscall(SYS_openat, 12345, "etc", O_RDONLY));
	r("openat-stdin", syscall(SYS_openat, 0, "etc", O_RDONLY));
	r("fstat-badfd", syscall(SYS_fstat, 12345, &st));
	r("readlink-zero", syscall(SYS_readlinkat, AT_FDCWD, "/etc", cwd, 0));
	r("mkdir-exists", syscall(SYS_mkdirat, AT_FDCWD, "/etc", 0755));
	r("rmdir-notempty", syscall(SYS_unlinkat, AT_FDCWD, "/etc", AT_REMOVEDIR));
	r("unlink-dir", syscall(SYS_unlinkat, AT_FDCWD, "/etc", 0));
	int fd = open("/etc", O_RDONLY | O_DIRECTORY);
	r("dir-fstat-isdir", fstat(fd, &st) == 0 && S_ISDIR(st.st_mode));
	r("fchdir-file", syscall(SYS_fchdir, open("/etc/greeting", O_RDONLY)));
	r("exec-notfound", syscall(SYS_execve, "/nonexistent", (char *[]){ "x", 0 }, (char *[]){ 0 }));
	r("exec-dir", syscall(SYS_execve, "/etc", (char *[]){ "x", 0 }, (char *[]){ 0 }));
	/* a directory fd held (and moved) across thousands of other opens */
	int held = open("/data", O_RDONLY | O_DIRECTORY);
	int moved = dup2(held, 200);
	close(held);
	for (int i = 0; i < 3000; i++) close(open("/data/sub", O_RDONLY | O_DIRECTORY));
	r("held-dir-entries", entries(moved));
	/* a path rewritten by another thread while it is read: some opens
	 * work, some fail, nothing else happens */
	pthread_t th;
	pthread_create(&th, NULL, flip, NULL);
	int ok = 0, bad = 0;
	for (int i = 0; i < 2000; i++) {
		int f = open(racy, O_RDONLY);
		if (f >= 0) ok++, close(f);
		else if (errno == ENOENT || errno == ENAMETOOLONG) bad++;
	}
	stop = 1;
	pthread_join(th, NULL);
	r("race-all-answered", ok + bad == 2000);
	r("after-race", open("/etc/greeting", O_RDONLY) >= 0);
	/* ids changed without an exec are the ids the next call is checked with */
	int sf = open("/tmp/secret", O_CREAT | O_WRONLY, 0600);
	r("secret-created", sf >= 0);
	r("drop-ids", syscall(SYS_setresuid, 65534, 65534, 65534));
	r("secret-as-nobody", open("/tmp/secret", O_RDONLY));
	r("mkdir-as-nobody", mkdir("/data/x", 0755));
	return 0;
}
CEOF
then
  rm -rf "$D/r/ref" && cp -a "$T" "$D/r/ref" && mknod -m 666 "$D/r/ref/dev/null" c 1 3
  out=$("$UVFS" run --root "$T" -- /bin/hostile 2>&1); rc=$?
  ref=$(chroot "$D/r/ref" /bin/hostile 2>&1); rrc=$?
  check run-hostile "$rrc:$ref" "$rc:$out"
  check run-hostile-efault "open-bad -1 EFAULT" "$(echo "$out" | grep '^open-bad ')"
  check run-hostile-toolong "open-4096 -1 ENAMETOOLONG" "$(echo "$out" | grep '^open-4096 ')"
else
  echo "ok run-hostile-skipped # no static libc to build the test program"
fi
