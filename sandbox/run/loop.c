/* sandbox/run/loop.c — the notification loop and uvfs_run.
 *
 * One thread serves every tracee, one notification at a time, blocked in
 * SECCOMP_IOCTL_NOTIF_RECV between them; a watcher thread waits on a pidfd
 * of the program and interrupts that receive with a signal when the
 * program is gone (see struct watch). When the program exits, the
 * rest of its process group is killed (as a container's init exit ends the
 * container), the changed files are written back, and the listener is
 * closed — the kernel then fails any syscall still waiting for us, so no
 * tracee is ever left blocked; likewise when the supervisor fails, it
 * kills the tracees before returning. SIGINT, SIGTERM, SIGHUP and SIGQUIT
 * sent to the supervisor are forwarded to the program. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/run/internal.h"

/* <linux/seccomp.h> of Linux 6.6; older headers lack them */
#define RUN_NOTIF_SET_FLAGS _IOW('!', 4, __u64)
#define RUN_NOTIF_SYNC_WAKE_UP 1UL
#define TMPFS_MAGIC_RUN 0x01021994 /* <linux/magic.h> TMPFS_MAGIC */

static volatile sig_atomic_t fwd_pid;

static void forward(int sig)
{
	if (fwd_pid > 0)
		kill((pid_t)fwd_pid, sig);
}

static const int fwd_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* The loop blocks in the receive instead of polling the listener (and the
 * program's pidfd) before each one: a syscall less per notification, and
 * with synchronous wake-ups the tracee's CPU goes straight to the
 * receiving thread (a bare round trip, median of 7: 13.1 -> 10.3 us).
 * Only a notification, a signal, or the last tracee's exit (ENOENT, the
 * listener hung up) ends the receive, so the program's exit is watched by
 * a thread of its own: it sets stop and kills the program's process group
 * (what the loop did after it), which normally ends the receive. A tracee
 * that left the group keeps the filter alive: then the watcher signals the
 * loop while it is in the receive (RUN_WAKE_SIG, no SA_RESTART: EINTR),
 * every millisecond until the loop has left, since a signal landing
 * between the loop's check of stop and the receive is lost. (One landing
 * just after a receive interrupts a call of serve_one; those that can
 * wait — the 9P client's — retry on EINTR.) */
struct watch {
	int pidfd; /* the program's */
	pid_t pgid; /* its process group */
	pthread_t loop; /* the thread to interrupt */
	atomic_int stop; /* set by the watcher: the program is gone */
	atomic_int in_recv; /* set by the loop around the receive */
	atomic_int done; /* set by the loop: it left, stop signalling */
};
#define RUN_WAKE_SIG (SIGRTMIN + 3)

static void wake(int sig)
{
	(void)sig; /* only interrupts the receive */
}

static void *watcher(void *arg)
{
	struct watch *w = arg;
	struct pollfd p = { w->pidfd, POLLIN, 0 };
	while (!atomic_load(&w->done) && poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	atomic_store(&w->stop, 1);
	kill(-w->pgid, SIGKILL); /* a zombie's group: not reused yet */
	while (!atomic_load(&w->done)) {
		if (atomic_load(&w->in_recv))
			pthread_kill(w->loop, RUN_WAKE_SIG);
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return NULL;
}

static void serve_one(struct run_sup *s, struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	struct run_call c = { .s = s, .req = req, .resp = resp, .pid = (pid_t)req->pid };
	run_vfd_sync_all(s);
	resp->id = req->id;
	if (run_caller(s, c.pid, &c.st, &c.task))
		resp->error = -ESRCH;
	else
		run_dispatch(&c);
	if (c.fdview)
		run_fdview_clear(&c);
	seccomp_notify_respond(s->listener, resp); /* ENOENT: it died meanwhile */
}

/* The exec links: N, Nd/NAME, the interpreter directories iM and the d/SEQ placeholders (exec.c, vfd.c): a few levels at most. */
static void cleanup_hostdir(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (unlinkat(dirfd(d), e->d_name, 0) && errno == EISDIR && depth < 3) {
				char sub[PATH_MAX];
				snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
				cleanup_hostdir(sub, depth + 1);
			}
		}
		closedir(d);
	}
	rmdir(dir);
}

/* The run's host directory (the tracee's host cwd, the exec links and the
 * directory placeholders d/N: one mkdir and one rmdir per open of a tree
 * directory) on a tmpfs when one is writable: mkdir+rmdir costs ~10 us
 * there and ~130 us on ext4 (free-inode search), which made
 * open(dir)+close cost 250 us. Only links and empty directories live
 * there, so it costs no memory; noexec on it does not matter (every exec
 * path through it is a link to a memfd). Else /tmp. */
static int make_hostdir(char *dir, size_t size)
{
	const char *bases[] = { "/dev/shm", getenv("XDG_RUNTIME_DIR"), "/tmp" };
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		struct statfs sf;
		const char *b = bases[i];
		if (!b || b[0] != '/' || (i < 2 && (statfs(b, &sf) || sf.f_type != TMPFS_MAGIC_RUN)))
			continue;
		if (snprintf(dir, size, "%s/uvfs-run-XXXXXX", b) >= (int)size)
			continue;
		if (mkdtemp(dir))
			return 0;
	}
	return -errno;
}

int uvfs_run(const struct uvfs_run_opts *o, int *status)
{
	if (!o || !o->vfs || !o->ns || !o->argv || !o->argv[0] || !status)
		return -EINVAL;
	struct run_sup s = { .vfs = o->vfs, .ns = o->ns, .listener = -1, .child = -1, .gc_at = 1024, .tsweep_at = 64,
			      .max_tasks = o->max_tasks ? o->max_tasks : UVFS_RUN_MAX_TASKS_DEFAULT };
	char dir[PATH_MAX];
	int herr = make_hostdir(dir, sizeof(dir));
	if (herr)
		return herr;
	chmod(dir, 0711);
	/* locked for the run; dead runs' directories go (hostdir.c). Without
	 * a lock (flock failed) the run goes on: nobody removes dir then */
	int hostlock = run_hostdir_claim(dir);
	s.hostdir = dir;
	uvfs_mntns_root(o->ns, &s.root);
	struct uvfs_vd cwd = s.root;
	uvfs_vd_get(&cwd);
	int err = 0;
	if (o->cwd) {
		struct uvfs_cred root;
		uvfs_cred_init_root(&root);
		struct uvfs_pathop pop = { .root = s.root, .start = s.root, .path = o->cwd, .flags = UVFS_PATH_FOLLOW };
		uvfs_vd_put(&cwd);
		err = uvfs_get_dentry_at(o->vfs, &root, &pop, UVFS_GET_SEARCHABLE, &cwd);
	}
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	if (!err && seccomp_notify_alloc(&req, &resp))
		err = -ENOMEM;
	if (!err && !o->no_pseudo && (err = run_pseudo_setup(&s)))
		fprintf(stderr, "uvfs run: /proc, /sys, /dev: %s\n", strerror(-err));
	if (!err)
		err = run_launch(&s, o);
	if (err) {
		if (uvfs_vd_ok(&cwd))
			uvfs_vd_put(&cwd);
		goto out;
	}
	/* Synchronous wake-ups (Linux 6.6): the tracee hands its CPU straight
	 * to the supervisor and back, instead of two ordinary wake-ups that
	 * each wait for a CPU — most of a round trip's cost on a loaded
	 * machine. Older kernels: EINVAL, ignored. */
	ioctl(s.listener, RUN_NOTIF_SET_FLAGS, RUN_NOTIF_SYNC_WAKE_UP);
	/* a pidfd per tracee thread: room for them (the tracee keeps its own
	 * limit, it was forked before) */
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* the program's task, with the initial cwd */
	err = run_task_first(&s, s.child, &cwd);
	uvfs_vd_put(&cwd);
	if (err) {
		kill(-s.child, SIGKILL);
		kill(s.child, SIGKILL);
		waitpid(s.child, status, 0);
		goto out;
	}
	fwd_pid = s.child;
	struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART }, old[4];
	for (int i = 0; i < 4; i++)
		sigaction(fwd_sigs[i], &sa, &old[i]);
	int pidfd = (int)syscall(SYS_pidfd_open, s.child, 0);
	if (pidfd < 0) {
		err = -errno;
		kill(-s.child, SIGKILL);
		kill(s.child, SIGKILL);
	}
	struct watch w = { .pidfd = pidfd, .pgid = s.child, .loop = pthread_self() };
	struct sigaction wsa = { .sa_handler = wake }, wold;
	sigaction(RUN_WAKE_SIG, &wsa, &wold);
	sigset_t wset, wmask; /* an embedder may have it blocked */
	sigemptyset(&wset);
	sigaddset(&wset, RUN_WAKE_SIG);
	pthread_sigmask(SIG_UNBLOCK, &wset, &wmask);
	pthread_t wt;
	int werr = err ? -1 : pthread_create(&wt, NULL, watcher, &w);
	if (werr > 0) {
		err = -werr;
		kill(-s.child, SIGKILL);
		kill(s.child, SIGKILL);
	}
	while (!err) {
		memset(req, 0, sizeof(*req));
		atomic_store(&w.in_recv, 1);
		if (atomic_load(&w.stop)) {
			atomic_store(&w.in_recv, 0);
			break;
		}
		int r = ioctl(s.listener, SECCOMP_IOCTL_NOTIF_RECV, req);
		atomic_store(&w.in_recv, 0);
		if (r == 0) {
			serve_one(&s, req, resp);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != ENOENT) {
			err = -errno;
			break;
		}
		/* ENOENT: the caller was interrupted or died meanwhile, or no
		 * tracee is left with our filter (POLLHUP): then just wait for
		 * the program */
		struct pollfd q = { s.listener, POLLIN, 0 };
		if (poll(&q, 1, 0) > 0 && (q.revents & POLLHUP) && !(q.revents & POLLIN)) {
			struct pollfd q2 = { pidfd, POLLIN, 0 };
			while (poll(&q2, 1, -1) < 0 && errno == EINTR)
				;
			break;
		}
	}
	if (err && s.child > 0) /* the watcher's poll ends once the program is gone */
		kill(s.child, SIGKILL);
	atomic_store(&w.done, 1);
	if (!werr)
		pthread_join(wt, NULL);
	pthread_sigmask(SIG_SETMASK, &wmask, NULL);
	sigaction(RUN_WAKE_SIG, &wold, NULL);
	/* the program is gone (or we failed): no tracee may outlive it waiting
	 * for us */
	kill(-s.child, SIGKILL);
	if (err)
		kill(s.child, SIGKILL);
	while (waitpid(s.child, status, 0) < 0 && errno == EINTR)
		;
	fwd_pid = 0;
	for (int i = 0; i < 4; i++)
		sigaction(fwd_sigs[i], &old[i], NULL);
	if (pidfd >= 0)
		close(pidfd);
	run_vfd_sync_all(&s);
out:
	if (err)
		fprintf(stderr, "uvfs run: supervisor: %s\n", strerror(-err));
	if (s.listener >= 0)
		close(s.listener);
	seccomp_notify_free(req, resp);
	run_vfd_free_all(&s);
	run_threads_free(&s);
	run_tasks_free(&s);
	run_pseudo_teardown(&s);
	uvfs_vd_put(&s.root);
	cleanup_hostdir(dir, 0);
	if (hostlock >= 0)
		close(hostlock);
	return err;
}
