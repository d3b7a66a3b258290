/* fsimpl/gofer/launcher.c — the gofer process: one diod per exported host
 * directory, on a socketpair, a child of the process that mounts it.
 *
 * diod in -r/-w mode serves exactly that connection and exits when it
 * reads EOF, so closing the client fd (the 9p mount's release) ends it;
 * reap waits for that, then kills it if it lingers. PR_SET_PDEATHSIG makes
 * sure a crashed parent does not leave it behind. No locks: a proc has one
 * owner. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsimpl/gofer/gofer.h"
#include "vfs/uvfs_fs.h" /* uvfs_log */

#ifndef UVFS_DIOD_PATH
#define UVFS_DIOD_PATH "/usr/sbin/diod"
#endif

struct uvfs_gofer_proc {
	pid_t pid; /* immutable; the owner reaps it */
};

int uvfs_gofer_spawn(const char *hostdir, bool ro, int *client_fd, struct uvfs_gofer_proc **out)
{
	struct stat st;
	if (!hostdir || !*hostdir)
		return -EINVAL;
	if (stat(hostdir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	struct uvfs_gofer_proc *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		int e = -errno;
		free(p);
		return e;
	}
	/* Everything the child needs is built before fork: after it, only
	 * async-signal-safe calls (the caller may be multithreaded). */
	char *argv[20] = { "diod", "-f", "-r", "3", "-w", "3", "-n", "-N", "-c", "/dev/null", "-L", "/dev/null" };
	int argc = 12;
	if (ro) {
		argv[argc++] = "-o";
		argv[argc++] = "ro";
	}
	argv[argc++] = "-e";
	argv[argc++] = (char *)hostdir;
	argv[argc] = NULL;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(sv[0]);
		close(sv[1]);
		free(p);
		return e;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		/* dup2 clears CLOEXEC on the copy; our other fds are CLOEXEC. */
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(UVFS_DIOD_PATH, argv);
		_exit(127);
	}
	close(sv[1]);
	p->pid = pid;
	uvfs_log(UVFS_LOG_INFO, "9p: gofer for %s%s: diod started, pid %d", hostdir, ro ? " (read-only)" : "", (int)pid);
	*client_fd = sv[0];
	*out = p;
	return 0;
}

pid_t uvfs_gofer_pid(const struct uvfs_gofer_proc *p) { return p ? p->pid : -1; }

void uvfs_gofer_reap(struct uvfs_gofer_proc *p)
{
	if (!p)
		return;
	/* Up to 2 s for diod to notice EOF and exit by itself. */
	for (int i = 0; i < 200; i++) {
		pid_t r = waitpid(p->pid, NULL, WNOHANG);
		if (r == p->pid || (r < 0 && errno == ECHILD)) {
			uvfs_log(UVFS_LOG_INFO, "9p: gofer pid %d stopped", (int)p->pid);
			goto done;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	uvfs_log(UVFS_LOG_WARN, "9p: gofer pid %d still running 2 s after its connection closed: killed", (int)p->pid);
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
done:
	free(p);
}
