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
#include <sys/mman.h>
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

/* diod's Lua config exporting dir read-only, in a memfd (CLOEXEC, fd >= 5).
 * The path goes in a long bracket string whose level it cannot close. */
static int ro_config(const char *dir)
{
	char close_br[16];
	int level = 0;
	for (;; level++) {
		if (level > 8)
			return -EINVAL;
		close_br[0] = ']';
		memset(close_br + 1, '=', level);
		close_br[level + 1] = ']';
		close_br[level + 2] = 0;
		if (!strstr(dir, close_br))
			break;
	}
	char eq[10];
	memset(eq, '=', level);
	eq[level] = 0;
	char *text;
	int n = asprintf(&text, "exports = { { path = [%s[%s]%s], opts = \"ro\" } }\n", eq, dir, eq);
	if (n < 0)
		return -ENOMEM;
	int fd = memfd_create("uvfs-diod-ro", MFD_CLOEXEC);
	int err = fd < 0 ? -errno : 0;
	if (!err && write(fd, text, n) != n)
		err = -EIO;
	free(text);
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, 5);
	err = hi < 0 ? -errno : 0;
	close(fd);
	return err ? err : hi;
}

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
	/* Both fds the child keeps are moved above 4 first, so its dup2s to 3
	 * and 4 neither clobber one another nor land on themselves (a dup2 onto
	 * itself would keep CLOEXEC). */
	int cfd = -1, xfd = fcntl(sv[1], F_DUPFD_CLOEXEC, 5);
	close(sv[1]);
	sv[1] = xfd;
	if (xfd < 0 || (ro && (cfd = ro_config(hostdir)) < 0)) {
		int e = xfd < 0 ? -errno : cfd;
		close(sv[0]);
		if (xfd >= 0)
			close(xfd);
		free(p);
		return e;
	}
	/* Everything the child needs is built before fork: after it, only
	 * async-signal-safe calls (the caller may be multithreaded). */
	char *argv[20] = { "diod", "-f", "-r", "3", "-w", "3", "-n", "-N", "-L", "/dev/null" };
	int argc = 10;
	if (ro) {
		/* diod applies export options (-o ro) only to exports from its
		 * config file, never to -e ones: a "read-only" -e export takes
		 * mkdir. So a read-only export comes from a config in fd 4. */
		argv[argc++] = "-c";
		argv[argc++] = "/dev/fd/4";
	} else {
		argv[argc++] = "-c";
		argv[argc++] = "/dev/null";
		argv[argc++] = "-e";
		argv[argc++] = (char *)hostdir;
	}
	argv[argc] = NULL;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(sv[0]);
		close(sv[1]);
		if (cfd >= 0)
			close(cfd);
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
		if (dup2(sv[1], 3) < 0 || (cfd >= 0 && dup2(cfd, 4) < 0))
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(UVFS_DIOD_PATH, argv);
		_exit(127);
	}
	close(sv[1]);
	if (cfd >= 0)
		close(cfd);
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
