#!/bin/bash
# `uvfs run`, syscall-layer and exec gaps (issue 16): read(2) of a directory
# fd, #! and ELF interpreters that exist only in the tree, execveat with a
# real dirfd and fexecve.
# Each case runs the same program under `uvfs run` and under `chroot` of an
# identical host copy (on a host tmpfs) and compares output and status.
set -u
D=$(mktemp -d /tmp/uvfs-tsbx-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /bin/busybox ]; then echo "ok sbx-run-skipped # busybox-static missing"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "ok sbx-run-skipped # the chroot references need root"; exit 0; fi
mkdir -p "$D/r" && mount -t tmpfs none "$D/r" || exit 1
trap 'umount "$D/r"; rm -rf "$D"' EXIT
T=$D/tree
mkdir -p "$T/bin" "$T/etc" "$T/tmp" "$T/data/sub" "$T/opt/only"
cp /bin/busybox "$T/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$T/bin/$a"; done
echo hello > "$T/etc/greeting"
chmod 1777 "$T/tmp"

# diffrun NAME PROGRAM ARGS...: the same command under uvfs run and chroot
diffrun() {
  local n=$1; shift
  rm -rf "$D/r/ref" && cp -a "$T" "$D/r/ref"
  out=$("$UVFS" run --root "$T" -- "$@" 2>&1); rc=$?
  ref=$(chroot "$D/r/ref" "$@" 2>&1); rrc=$?
  check "sbx-run-$n" "$rrc:$ref" "$rc:$out"
}

# a static test program: one line per probe, "name result errno"
if ! cc -static -D_GNU_SOURCE -o "$T/bin/probe" -x c - 2>/dev/null <<'CEOF'
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
static void r(const char *what, long rc) { printf("%s %ld %s\n", what, rc, rc < 0 ? strerrorname_np(errno) : "-"); fflush(stdout); }
static int child_exec(int dirfd, const char *path, int flags, char *const argv[]) {
	pid_t p = fork();
	if (p == 0) {
		syscall(SYS_execveat, dirfd, path, argv, environ, flags);
		printf("exec-failed %s\n", strerrorname_np(errno));
		fflush(stdout);
		_exit(99);
	}
	int st;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
int main(int argc, char **argv) {
	char buf[64];
	if (argc > 1 && !strcmp(argv[1], "dir")) {
		int d = open("/data", O_RDONLY | O_DIRECTORY);
		r("dir-read", read(d, buf, sizeof(buf)));
		r("dir-pread", pread(d, buf, sizeof(buf), 0));
		r("dir-read0", read(d, buf, 0));
		struct stat st;
		r("dir-fstat-isdir", fstat(d, &st) == 0 && S_ISDIR(st.st_mode));
		r("dir-getdents", syscall(SYS_getdents64, d, buf, sizeof(buf)) > 0);
		r("dir-fchdir", fchdir(d));
		r("dir-cwd", getcwd(buf, sizeof(buf)) ? (long)strlen(buf) : -1);
		puts(buf);
		r("opath-open", open("/data", O_PATH) >= 0); /* read(2) on it: EBADF in Linux, EISDIR here */
		r("dir-mmap", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, d, 0) == MAP_FAILED ? -1 : 0);
		r("dir-openat-rel", openat(d, "sub", O_RDONLY | O_DIRECTORY) >= 0);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "exec")) {
		int bin = open("/bin", O_RDONLY | O_DIRECTORY);
		r("execveat-dirfd", child_exec(bin, "busybox", 0, (char *[]){ "echo", "via-dirfd", 0 }));
		r("execveat-dirfd-sub", child_exec(open("/", O_RDONLY | O_DIRECTORY), "bin/echo", 0, (char *[]){ "echo", "via-sub", 0 }));
		if (argc > 2) /* Linux passes "/dev/fd/D/only/script" to sh: no /dev in the chroot */
			r("execveat-dirfd-script", child_exec(open("/opt", O_RDONLY | O_DIRECTORY), "only/script", 0, (char *[]){ "script", "arg", 0 }));
		if (argc > 2) { /* the tree's interpreters through fexecve (Linux: sh opens /dev/fd/N) */
			r("fexecve-script", child_exec(open("/opt/only/script2", O_RDONLY), "", AT_EMPTY_PATH, (char *[]){ "script", "fx", 0 }));
			int c2 = open("/opt/only/cat2", O_RDONLY);
			if (c2 >= 0)
				r("fexecve-dynamic", child_exec(c2, "", AT_EMPTY_PATH, (char *[]){ "cat", "/etc/greeting", 0 }));
		}
		r("execveat-dirfd-missing", child_exec(bin, "nonexistent", 0, (char *[]){ "x", 0 }));
		r("execveat-dirfd-nofollow", child_exec(bin, "echo", AT_SYMLINK_NOFOLLOW, (char *[]){ "x", 0 }));
		int fd = open("/bin/busybox", O_RDONLY);
		r("fexecve", child_exec(fd, "", AT_EMPTY_PATH, (char *[]){ "echo", "via-fexecve", 0 }));
		int pfd = open("/bin/busybox", O_PATH);
		r("fexecve-opath", child_exec(pfd, "", AT_EMPTY_PATH, (char *[]){ "echo", "via-opath", 0 }));
		r("fexecve-cloexec", child_exec(open("/bin/busybox", O_RDONLY | O_CLOEXEC), "", AT_EMPTY_PATH, (char *[]){ "echo", "via-cloexec", 0 }));
		r("fexecve-dir", child_exec(bin, "", AT_EMPTY_PATH, (char *[]){ "x", 0 }));
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "./fds")) { /* as the interpreter of a script */
		printf("open fds above 2:");
		for (int fd = 3; fd < 64; fd++)
			if (fcntl(fd, F_GETFD) >= 0)
				printf(" %d", fd);
		puts("");
		return 0;
	}
	return 2;
}
CEOF
then echo "ok sbx-run-skipped # no static libc to build the probe"; exit 0; fi

# 1. read(2) of a directory fd is EISDIR, as the kernel's
diffrun dir-read /bin/probe dir

# 3. execveat with a real dirfd and a relative path; fexecve
printf '#!/bin/sh\necho script "$@"\n' > "$T/opt/only/script"; chmod 755 "$T/opt/only/script"
diffrun execveat /bin/probe exec

# 2. a #! interpreter that exists only in the tree (with an argument, and
# nested: a script whose interpreter is itself a script). A script's name as
# its interpreter sees it ($0) is /dev/fd/N (or N) unless it was run by a
# one-component name: normalised here (N below)
mkdir -p "$T/opt/only/i" && cp /bin/busybox "$T/opt/only/i/sh"
printf '#!/opt/only/i/sh -e\necho "sh: $0 $*"; false; echo not-reached\n' > "$T/opt/only/s1"
printf '#!/opt/only/s1\n' > "$T/opt/only/s2"
printf '#! /opt/only/i/sh\necho rel "$0"\n' > "$T/data/rel"
chmod 755 "$T/opt/only/s1" "$T/opt/only/s2" "$T/data/rel"
N='sed -E "s,/dev/fd/[0-9]+,N,g; s,/opt/only/s[12],N,g; s,[.][.]/rel,N,g; s,^rel [0-9]+$,rel N,"'
diffrun script-tree-interp /bin/sh -c "{ /opt/only/s1 a b; echo rc=\$?; cd /data && ./rel; cd sub && ../rel x; echo rc=\$?; } | $N"
before=$(ls -d /tmp/uvfs-run-* /dev/shm/uvfs-run-* 2>/dev/null | sort)
diffrun script-nested /bin/sh -c "/opt/only/s2 z | $N"
check sbx-run-exec-dir-removed "" "$(comm -13 <(echo "$before") <(ls -d /tmp/uvfs-run-* /dev/shm/uvfs-run-* 2>/dev/null | sort))"
# run by its own name, a script's interpreter has no extra fd open
printf '#!/bin/probe\n' > "$T/data/fds"
chmod 755 "$T/data/fds"
diffrun script-no-extra-fd /bin/sh -c 'cd /data && ./fds'
printf '#!/opt/only/missing\n' > "$T/data/badinterp"; chmod 755 "$T/data/badinterp"
diffrun script-missing-interp /bin/sh -c '/data/badinterp; echo rc=$?'

# 2. a dynamically linked program whose ELF interpreter exists only in the
# tree (PT_INTERP renamed in the tree's copy, same length)
if command -v ldd >/dev/null && [ -x /usr/bin/cat ]; then
  for f in /usr/bin/cat $(ldd /usr/bin/cat | grep -o '/[^ :]*' | sort -u); do
    mkdir -p "$T$(dirname "$f")" && cp -L "$f" "$T$f"
  done
  interp=$(ldd /usr/bin/cat | grep -o '/[^ ]*ld-linux[^ ]*' | head -1)
  if [ -n "$interp" ]; then
    new=${interp%?}Q  # same length, absent on the host
    cp -L "$interp" "$T$new"
    perl -pi -e "s|\Q$interp\E\0|$new\0|" "$T/usr/bin/cat"
    [ -e "$new" ] && echo "not ok sbx-run-elf-interp: $new exists on the host"
    diffrun elf-tree-interp /usr/bin/cat /etc/greeting
    cp -L "$T/usr/bin/cat" "$T/opt/only/cat2"
    diffrun elf-tree-interp-sh /bin/sh -c 'cd /opt/only && ./cat2 /etc/greeting && exec ./cat2 /etc/greeting'
  fi
fi

# fexecve and execveat with a dirfd of scripts and dynamic programs from the
# tree (no differential: Linux hands the interpreter /dev/fd/N names, and
# the chroot has no /dev)
printf '#!/opt/only/i/sh\necho script2 "$@"\n' > "$T/opt/only/script2"; chmod 755 "$T/opt/only/script2"
out=$("$UVFS" run --root "$T" -- /bin/probe exec script 2>&1 | grep -A1 '^script\|^hello')
check sbx-run-exec-tree-interp-fd "script arg
execveat-dirfd-script 0 -
script2 fx
fexecve-script 0 -
hello
fexecve-dynamic 0 -" "$out"

# 4. stores through shared mappings reaching the tree: tests/sandbox/test_sbx_mmap.c
# (inside a run every reader sees the supervisor's memfd; only the tree
# after the run shows whether they were written back)
