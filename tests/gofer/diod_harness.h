/* tests/gofer/diod_harness.h — spawn a real diod for a test, bench or tool.
 *
 * The socketpair shape is the gofer's (`diod -f -r FD -w FD`); the TCP shape
 * listens on a free 127.0.0.1 port.  Each server exports a fresh temporary
 * directory, removed again by diod_stop.  Header-only so criterion tests,
 * the TSan stress binary and the bench can all use it without touching the
 * shared tests/lib. */
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef DIOD_PATH
#define DIOD_PATH "/usr/sbin/diod"
#endif

struct diod {
	pid_t pid;
	char dir[64];   /* exported directory */
	char addr[160]; /* "tcp:127.0.0.1:PORT" or "unix:PATH" */
};

static inline int diod_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) < 0 ? -1 : 0;
}

static inline int diod_mkdir_export(struct diod *d)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/uvfs-p9-XXXXXX");
	if (!mkdtemp(d->dir))
		return -errno;
	chmod(d->dir, 0755);
	return 0;
}

/* Exec diod with argv; stdin/stdout closed, stderr kept for its errors. */
static inline pid_t diod_exec(char *const argv[], int keep_fd)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* A test that crashes must not leave diod behind (holding its
	 * export, its port, or the runner's stderr pipe). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		if (devnull > 2 && devnull != keep_fd)
			close(devnull);
	}
	if (keep_fd >= 0) {
		/* dup2 onto itself would keep CLOEXEC set: move to fd 3 */
		if (keep_fd != 3) {
			dup2(keep_fd, 3);
		} else {
			int fl = fcntl(3, F_GETFD);
			fcntl(3, F_SETFD, fl & ~FD_CLOEXEC);
		}
	}
	execv(DIOD_PATH, argv);
	_exit(127);
}

/* Starts diod on a socketpair; returns our end (CLOEXEC) or -errno.
 * nthreads 0 = diod's default.  runas >= 0 makes diod drop root and serve
 * only that uid (then the kernel, not diod, decides permissions: as root
 * diod bypasses DAC and leaves enforcement to the client). */
static inline int diod_start_fd(struct diod *d, int nthreads, int runas)
{
	int sv[2];
	memset(d, 0, sizeof(*d));
	int err = diod_mkdir_export(d);
	if (err)
		return err;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	char nt[16];
	snprintf(nt, sizeof(nt), "%d", nthreads > 0 ? nthreads : 16);
	char uid[16];
	snprintf(uid, sizeof(uid), "%d", runas);
	char *argv[] = { "diod", "-f", "-r", "3", "-w", "3", "-e", d->dir, "-n", "-N", "-t", nt,
			 "-c", "/dev/null", "-L", "stderr", runas >= 0 ? "-u" : NULL, uid, NULL };
	d->pid = diod_exec(argv, sv[1]);
	close(sv[1]);
	if (d->pid < 0) {
		close(sv[0]);
		return -errno;
	}
	return sv[0];
}

/* Starts diod on two pipes (-r and -w differ, as trans=fd allows):
 * *rfd reads diod's replies, *wfd carries our requests. */
static inline int diod_start_pipes(struct diod *d, int *rfd, int *wfd)
{
	int to_srv[2], from_srv[2];
	memset(d, 0, sizeof(*d));
	int err = diod_mkdir_export(d);
	if (err)
		return err;
	if (pipe2(to_srv, O_CLOEXEC) < 0 || pipe2(from_srv, O_CLOEXEC) < 0)
		return -errno;
	d->pid = fork();
	if (d->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(to_srv[0], 3);   /* clears CLOEXEC on the copies */
		dup2(from_srv[1], 4);
		execl(DIOD_PATH, "diod", "-f", "-r", "3", "-w", "4", "-e", d->dir, "-n", "-N", "-c", "/dev/null",
		      "-L", "stderr", (char *)NULL);
		_exit(127);
	}
	close(to_srv[0]);
	close(from_srv[1]);
	if (d->pid < 0) {
		close(to_srv[1]);
		close(from_srv[0]);
		return -errno;
	}
	*rfd = from_srv[0];
	*wfd = to_srv[1];
	return 0;
}

/* Starts diod listening on a free 127.0.0.1 port; fills d->addr and waits
 * until it accepts connections. */
static inline int diod_start_tcp(struct diod *d)
{
	memset(d, 0, sizeof(*d));
	int err = diod_mkdir_export(d);
	if (err)
		return err;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || getsockname(s, (struct sockaddr *)&sa, &sl) < 0)
		return -errno;
	close(s); /* a tiny race with other binders; retried below by the caller if need be */
	int port = ntohs(sa.sin_port);
	char listen[32];
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(d->addr, sizeof(d->addr), "tcp:127.0.0.1:%d", port);
	char *argv[] = { "diod", "-f", "-l", listen, "-e", d->dir, "-n", "-N", "-c", "/dev/null", "-L", "stderr", NULL };
	d->pid = diod_exec(argv, -1);
	if (d->pid < 0)
		return -errno;
	for (int i = 0; i < 500; i++) { /* up to 5 s for diod to listen */
		int c = socket(AF_INET, SOCK_STREAM, 0);
		sa.sin_port = htons((uint16_t)port);
		int ok = connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(c);
		if (ok)
			return 0;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kill(d->pid, SIGKILL); /* never came up: don't leave it behind */
	waitpid(d->pid, NULL, 0);
	d->pid = 0;
	return -ETIMEDOUT;
}

/* Starts diod listening on a unix socket inside a fresh directory next to
 * the export; fills d->addr ("unix:PATH") once it accepts connections. */
static inline int diod_start_unix(struct diod *d)
{
	memset(d, 0, sizeof(*d));
	int err = diod_mkdir_export(d);
	if (err)
		return err;
	char sock[96];
	snprintf(sock, sizeof(sock), "%s.sock", d->dir);
	snprintf(d->addr, sizeof(d->addr), "unix:%s", sock);
	char *argv[] = { "diod", "-f", "-l", sock, "-e", d->dir, "-n", "-N", "-c", "/dev/null", "-L", "stderr", NULL };
	d->pid = diod_exec(argv, -1);
	if (d->pid < 0)
		return -errno;
	/* The socket file appears at bind(), before listen(): wait until a
	 * connection is actually accepted, or connect races ECONNREFUSED. */
	for (int i = 0; i < 500; i++) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return 0;
		}
		if (fd >= 0)
			close(fd);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kill(d->pid, SIGKILL); /* never came up: don't leave it behind */
	waitpid(d->pid, NULL, 0);
	d->pid = 0;
	return -ETIMEDOUT;
}

static inline void diod_kill(struct diod *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
			;
		d->pid = 0;
	}
}

static inline void diod_stop(struct diod *d)
{
	diod_kill(d);
	if (!strncmp(d->addr, "unix:", 5))
		unlink(d->addr + 5);
	d->addr[0] = '\0';
	if (d->dir[0]) {
		nftw(d->dir, diod_rm_one, 16, FTW_DEPTH | FTW_PHYS);
		d->dir[0] = '\0';
	}
}
