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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* Reaping. A server exits by itself once its client fd is closed; the
 * waits for several servers overlap when their owner batches them
 * (uvfs_gofer_reap_batch_begin/end): reaps on the batching thread only
 * queue, and the batch's end waits for all at once. Waits use pidfds
 * (exit seen at once), else short WNOHANG polls. */
#define REAP_GRACE_MS 2000
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* Linux 5.3, the same number on every architecture */
#endif

struct reap_batch {
	unsigned depth; /* nested begins */
	struct uvfs_gofer_proc **q;
	size_t n, cap;
};
static __thread struct reap_batch batch; /* per thread: a proc has one owner */

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static bool reaped(pid_t pid)
{
	pid_t r;
	while ((r = waitpid(pid, NULL, WNOHANG)) < 0 && errno == EINTR)
		;
	return r == pid || (r < 0 && errno == ECHILD);
}

/* Waits up to the grace for every proc of ps (n <= REAP_CHUNK) to exit,
 * kills the rest, and frees them all. */
#define REAP_CHUNK 64
static void reap_chunk(struct uvfs_gofer_proc **ps, size_t n)
{
	struct pollfd pfd[REAP_CHUNK];
	bool done[REAP_CHUNK] = { false }, pidfds = true;
	for (size_t i = 0; i < n; i++) {
		pfd[i] = (struct pollfd){ .fd = (int)syscall(SYS_pidfd_open, ps[i]->pid, 0), .events = POLLIN };
		pidfds = pidfds && pfd[i].fd >= 0;
	}
	long deadline = now_ms() + REAP_GRACE_MS;
	size_t left = n;
	for (;;) {
		for (size_t i = 0; i < n; i++)
			if (!done[i] && reaped(ps[i]->pid)) {
				uvfs_log(UVFS_LOG_INFO, "9p: gofer pid %d stopped", (int)ps[i]->pid);
				done[i] = true;
				left--;
				if (pfd[i].fd >= 0)
					close(pfd[i].fd);
				pfd[i].fd = -1; /* poll skips it from now on */
			}
		long rest = deadline - now_ms();
		if (!left || rest <= 0)
			break;
		if (pidfds) {
			poll(pfd, n, (int)rest); /* a pidfd turns readable at its process's exit */
		} else {
			struct timespec ts = { 0, 2 * 1000 * 1000 }; /* no pidfds (Linux < 5.3) */
			nanosleep(&ts, NULL);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!done[i]) {
			uvfs_log(UVFS_LOG_WARN, "9p: gofer pid %d still running 2 s after its connection closed: killed",
				 (int)ps[i]->pid);
			kill(ps[i]->pid, SIGKILL);
			while (waitpid(ps[i]->pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
		free(ps[i]);
	}
}

static void reap_all(struct uvfs_gofer_proc **ps, size_t n)
{
	for (size_t i = 0; i < n; i += REAP_CHUNK)
		reap_chunk(ps + i, n - i < REAP_CHUNK ? n - i : REAP_CHUNK);
}

void uvfs_gofer_reap(struct uvfs_gofer_proc *p)
{
	if (!p)
		return;
	if (batch.depth) {
		if (batch.n == batch.cap) {
			size_t cap = batch.cap ? 2 * batch.cap : 16;
			struct uvfs_gofer_proc **q = realloc(batch.q, cap * sizeof(*q));
			if (!q) {
				reap_all(&p, 1); /* out of memory: wait for this one now */
				return;
			}
			batch.q = q;
			batch.cap = cap;
		}
		batch.q[batch.n++] = p;
		return;
	}
	reap_all(&p, 1);
}

void uvfs_gofer_reap_batch_begin(void) { batch.depth++; }

void uvfs_gofer_reap_batch_end(void)
{
	if (!batch.depth || --batch.depth)
		return;
	reap_all(batch.q, batch.n);
	free(batch.q);
	batch.q = NULL;
	batch.n = batch.cap = 0;
}
