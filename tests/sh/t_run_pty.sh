#!/bin/bash
# `uvfs run` and terminals: the tree's devpts names the pty pairs and
# checks the opens (permissions, the lock), the host kernel's pty carries
# the data. A static test program (posix_openpt, grantpt, unlockpt,
# ptsname, open of the replica, TIOCGPTPEER, the lock, /dev/tty) run
# natively and under `uvfs run` over a busybox tree must print the same
# bytes (the line discipline is the host's: echo, ONLCR, raw mode); a
# tiny script(1) runs `tty; stty size` on a pty inside, and util-linux
# script(1) does over the host's /.
set -u
D=$(mktemp -d /tmp/uvfs-tpty-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /bin/busybox ]; then echo "ok run-pty-skipped # busybox-static missing"; exit 0; fi
T=$D/tree
mkdir -p "$T/bin" "$T/tmp" "$T/proc" "$T/sys" "$T/dev"
chmod 1777 "$T/tmp"
cp /bin/busybox "$T/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$T/bin/$a"; done
if ! cc -static -O1 -o "$T/bin/ptytest" -x c - 2>/dev/null <<'CEOF'
/* ptytest MODE: pty behaviour printed so that a run natively and one
 * under uvfs run can be compared byte for byte (pty numbers are printed
 * apart: they differ). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
static void dump(const char *what, const char *b, ssize_t n) {
	printf("%s %zd [", what, n);
	for (ssize_t i = 0; i < n; i++)
		printf(b[i] >= 32 && b[i] < 127 ? "%c" : "\\%03o", (unsigned char)b[i]);
	printf("]\n");
}
static ssize_t rd(int fd, char *b, size_t n) { /* what is there within 1 s */
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, 1000) <= 0) return -2;
	return read(fd, b, n);
}
static int openm(void) {
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0) { printf("posix_openpt %s\n", strerrorname_np(errno)); exit(1); }
	return m;
}
int main(int argc, char **argv) {
	const char *mode = argc > 1 ? argv[1] : "echo";
	char b[256];
	if (!strcmp(mode, "echo")) {
		int m = openm();
		int g = grantpt(m);
		printf("grantpt %d unlockpt %d\n", g, unlockpt(m));
		char *name = ptsname(m);
		if (!name) { printf("ptsname %s\n", strerrorname_np(errno)); return 1; }
		fprintf(stderr, "NAME %s\n", name);
		struct stat st;
		printf("stat-name %d\n", stat(name, &st) == 0 && S_ISCHR(st.st_mode));
		int s = open(name, O_RDWR | O_NOCTTY);
		if (s < 0) { printf("open slave %s\n", strerrorname_np(errno)); return 1; }
		struct stat fs;
		printf("fstat-same %d\n", fstat(s, &fs) == 0 && fs.st_rdev == st.st_rdev && fs.st_ino == st.st_ino);
		printf("isatty %d ttyname-same %d\n", isatty(s), ttyname(s) && !strcmp(ttyname(s), name));
		printf("write-slave %zd\n", write(s, "x\n", 2));
		ssize_t n = rd(m, b, sizeof b);
		dump("read-master", b, n);
		printf("write-master %zd\n", write(m, "yz\n", 3));
		n = rd(m, b, sizeof b);
		dump("read-master-echo", b, n);
		n = rd(s, b, sizeof b);
		dump("read-slave", b, n);
		struct termios t;
		tcgetattr(s, &t);
		t.c_oflag &= ~ONLCR;
		t.c_lflag &= ~ECHO;
		tcsetattr(s, TCSANOW, &t);
		write(s, "a\n", 2);
		n = rd(m, b, sizeof b);
		dump("raw-read-master", b, n);
		write(m, "q\n", 2);
		n = rd(m, b, 2);
		dump("noecho-read-master", b, n);
		n = rd(s, b, sizeof b);
		dump("noecho-read-slave", b, n);
		struct winsize ws = { .ws_row = 33, .ws_col = 77 };
		printf("TIOCSWINSZ %d\n", ioctl(m, TIOCSWINSZ, &ws));
		memset(&ws, 0, sizeof ws);
		int r = ioctl(s, TIOCGWINSZ, &ws);
		printf("TIOCGWINSZ %d %d %d\n", r, ws.ws_row, ws.ws_col);
		int pfd = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
		printf("TIOCGPTPEER %d fstat-same %d\n", pfd >= 0, pfd >= 0 && fstat(pfd, &fs) == 0 && fs.st_rdev == st.st_rdev);
		unsigned n1 = 0;
		r = ioctl(s, TIOCGPTN, &n1);
		printf("TIOCGPTN-slave %d %s\n", r, strerrorname_np(errno));
		/* the commands the supervisor serves, on bad pointers and fds */
		r = ioctl(m, TIOCGPTN, (void *)8);
		printf("TIOCGPTN-efault %d %s\n", r, strerrorname_np(errno));
		r = ioctl(m, TIOCSPTLCK, (void *)8);
		printf("TIOCSPTLCK-efault %d %s\n", r, strerrorname_np(errno));
		int f = open(argv[0], O_RDONLY);
		r = ioctl(f, TIOCGPTN, &n1);
		printf("TIOCGPTN-file %d %s\n", r, strerrorname_np(errno));
		r = ioctl(999, TIOCGPTN, &n1);
		printf("TIOCGPTN-ebadf %d %s\n", r, strerrorname_np(errno));
		r = ioctl(f, TIOCGPTPEER, O_RDWR);
		printf("TIOCGPTPEER-file %d %s\n", r, strerrorname_np(errno));
		close(s);
		if (pfd >= 0) close(pfd);
		n = rd(m, b, sizeof b);
		dump("read-master-closed", b, n);
		printf("%s\n", strerrorname_np(errno));
		return 0;
	}
	if (!strcmp(mode, "locked")) {
		int m = openm();
		char *name = ptsname(m);
		if (!name) return 1;
		int s = open(name, O_RDWR | O_NOCTTY);
		printf("open-locked %d %s\n", s, s < 0 ? strerrorname_np(errno) : "-");
		int r = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
		printf("TIOCGPTPEER-locked %d %s\n", r, strerrorname_np(errno));
		int one = 1, zero = 0;
		ioctl(m, TIOCSPTLCK, &zero);
		s = open(name, O_RDWR | O_NOCTTY);
		printf("open-unlocked %d\n", s >= 0);
		ioctl(m, TIOCSPTLCK, &one);
		int s2 = open(name, O_RDWR | O_NOCTTY);
		printf("open-relocked %d %s\n", s2, s2 < 0 ? strerrorname_np(errno) : "-");
		return 0;
	}
	if (!strcmp(mode, "tty")) {
		int fd = open("/dev/tty", O_RDWR);
		printf("open-dev-tty %s\n", fd < 0 ? strerrorname_np(errno) : "ok");
		return 0;
	}
	if (!strcmp(mode, "peer")) { /* TIOCGPTPEER without O_NOCTTY in a new session: its terminal */
		int m = openm();
		unlockpt(m);
		pid_t pid = fork();
		if (pid == 0) {
			setsid();
			int s = ioctl(m, TIOCGPTPEER, O_RDWR);
			int t = open("/dev/tty", O_RDWR);
			const char *e = t >= 0 ? "ok" : strerrorname_np(errno);
			printf("peer %d dev-tty %s tcgetsid-self %d\n", s >= 0, e, tcgetsid(s) == getpid());
			fflush(stdout);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		return 0;
	}
	if (!strcmp(mode, "run")) { /* a tiny script(1): argv[2] run by /bin/sh on a pty */
		int m = openm();
		grantpt(m), unlockpt(m);
		char name[64];
		snprintf(name, sizeof name, "%s", ptsname(m));
		pid_t pid = fork();
		if (pid == 0) {
			setsid();
			int s = open(name, O_RDWR);
			if (s < 0) _exit(126);
			ioctl(s, TIOCSCTTY, 0);
			dup2(s, 0), dup2(s, 1), dup2(s, 2);
			close(s), close(m);
			execl("/bin/sh", "sh", "-c", argv[2], (char *)0);
			_exit(127);
		}
		ssize_t n;
		while ((n = read(m, b, sizeof b)) > 0)
			fwrite(b, 1, (size_t)n, stdout);
		int stt;
		waitpid(pid, &stt, 0);
		printf("exit %d\n", WEXITSTATUS(stt));
		return 0;
	}
	return 2;
}
CEOF
then
  echo "ok run-pty-skipped # no static libc to build the test program"; exit 0
fi
chmod 755 "$D"
RUN() { "$UVFS" run --root "$T" -- "$@"; }

# the pair, its name, data both ways through the host's line discipline
nat=$("$T/bin/ptytest" echo 2>/dev/null)
out=$(RUN /bin/ptytest echo 2>"$D/err")
check run-pty-echo "$nat" "$out"
name=$(sed -n 's/^NAME //p' "$D/err")
if [[ $name =~ ^/dev/pts/[0-9]+$ ]]; then echo "ok run-pty-name"; else echo "not ok run-pty-name: [$name] $(cat "$D/err")"; fi

# a replica opens with EIO while its master holds it locked
check run-pty-locked "$("$T/bin/ptytest" locked 2>&1)" "$(RUN /bin/ptytest locked 2>&1)"

# /dev/tty without a controlling terminal: ENXIO
check run-pty-dev-tty-none "$(setsid -w "$T/bin/ptytest" tty </dev/null 2>&1)" \
  "$(setsid -w "$UVFS" run --root "$T" -- /bin/ptytest tty </dev/null 2>&1)"

# TIOCGPTPEER without O_NOCTTY by a session leader gives it its terminal
check run-pty-peer-ctty "$("$T/bin/ptytest" peer 2>&1)" "$(RUN /bin/ptytest peer 2>&1)"

# a shell on a pty inside (session leader, TIOCSCTTY): tty names the tree's
# replica, which /dev/pts lists while it is open; /dev/tty is that pty
S='t=$(tty); echo "tty=$t"; stty rows 24 cols 80; stty size; echo hello; ls /dev/pts | grep -qx "${t#/dev/pts/}" && echo listed; echo viatty > /dev/tty; [ -c "$t" ] && echo chr'
out=$(RUN /bin/ptytest run "$S" </dev/null 2>&1 | tr -d '\r')
exp=$(printf 'tty=/dev/pts/N\n24 80\nhello\nlisted\nviatty\nchr\nexit 0')
check run-pty-shell "$exp" "$(sed 's|^tty=/dev/pts/[0-9]*$|tty=/dev/pts/N|' <<<"$out")"
out=$(RUN /bin/sh -c 'ptytest run "exit 3"; ls /dev/pts' </dev/null 2>&1 | tr -d '\r')
check run-pty-gone "$(printf 'exit 3\nptmx')" "$out"

# util-linux script(1), dynamically linked, over the host's / (read-only
# 9p under a tmpfs overlay)
if command -v script >/dev/null; then
  out=$("$UVFS" run --root / -- /bin/sh -c 'script -q -c "tty; stty size; echo hello" /tmp/LOG >/dev/null </dev/null; echo rc=$?; tr -d "\r" < /tmp/LOG | grep -v "^Script "' 2>&1)
  check run-pty-script "$(printf 'rc=0\n/dev/pts/N\n0 0\nhello')" "$(sed 's|^/dev/pts/[0-9]*$|/dev/pts/N|' <<<"$out" | grep -v '^$')"
else
  echo "ok run-pty-script-skipped # no script(1)"
fi
