/* sandbox/run/proc.c — who is calling: credentials, umask and parentage
 * from /proc/<pid>/status, and the per-process task (its cwd in the tree).
 *
 * Tasks are keyed by thread-group id: threads share root, cwd and umask
 * (CLONE_FS, as every threads library does). A process seen for the first
 * time is a fork (uvfs_sbx_task_fork: root and cwd copied) of its parent's
 * task: right unless the parent changes directory between the fork and
 * the child's first file syscall (a shell waits for its children). Dead
 * tasks are swept when the table has doubled since the last sweep. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fsimpl/kernfs/task.h"
#include "sandbox/run/internal.h"

int run_read_status(pid_t pid, struct run_status *st)
{
	char p[64], line[1024];
	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return -ESRCH;
	memset(st, 0, sizeof(*st));
	st->umask = 022;
	unsigned ng = 0;
	unsigned long long cap = 0;
	int seen = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned a, b, c, d;
		if (sscanf(line, "Tgid: %d", &st->tgid) == 1)
			seen |= 1;
		else if (sscanf(line, "PPid: %d", &st->ppid) == 1)
			seen |= 2;
		else if (sscanf(line, "Umask: %o", &a) == 1)
			st->umask = a;
		else if (sscanf(line, "Uid: %u %u %u %u", &a, &b, &c, &d) == 4) {
			st->cred.uid = a, st->cred.euid = b, st->cred.fsuid = d;
			seen |= 4;
		} else if (sscanf(line, "Gid: %u %u %u %u", &a, &b, &c, &d) == 4) {
			st->cred.gid = a, st->cred.egid = b, st->cred.fsgid = d;
			seen |= 8;
		} else if (!strncmp(line, "Groups:", 7)) {
			char *q = line + 7, *end;
			for (;;) {
				unsigned long g = strtoul(q, &end, 10);
				if (end == q || ng == sizeof(st->groups) / sizeof(st->groups[0]))
					break;
				st->groups[ng++] = (uint32_t)g;
				q = end;
			}
		} else if (sscanf(line, "CapEff: %llx", &cap) == 1)
			seen |= 16;
	}
	fclose(f);
	if (seen != 31)
		return -ESRCH;
	st->cred.caps = cap;
	uvfs_cred_set_groups(&st->cred, st->groups, ng);
	return 0;
}

static struct run_task *find(struct run_sup *s, pid_t tgid)
{
	for (struct run_task *t = s->tasks; t; t = t->next)
		if (t->tgid == tgid)
			return t;
	return NULL;
}

static void sweep(struct run_sup *s)
{
	for (struct run_task **pp = &s->tasks; *pp;) {
		struct run_task *t = *pp;
		if (kill(t->tgid, 0) && errno == ESRCH) {
			*pp = t->next;
			uvfs_sbx_task_put(t->sbx);
			free(t);
			s->ntasks--;
		} else
			pp = &t->next;
	}
	s->sweep_at = s->ntasks * 2 + 16;
}

static struct run_task *add(struct run_sup *s, pid_t tgid, struct uvfs_sbx_task *sbx)
{
	struct run_task *t = calloc(1, sizeof(*t));
	if (!t) {
		uvfs_sbx_task_put(sbx);
		return NULL;
	}
	t->tgid = tgid;
	t->sbx = sbx;
	t->next = s->tasks;
	s->tasks = t;
	s->ntasks++;
	return t;
}

static int fresh(struct run_sup *s, pid_t tgid, const struct uvfs_vd *cwd, struct uvfs_sbx_task **out)
{
	struct uvfs_sbx_task_params p = {
		.vfs = s->vfs, .mntns = s->ns, .root = &s->root, .cwd = cwd, .umask = 022, .tid = tgid,
		.tasks = s->tasks_table,
	};
	return uvfs_sbx_task_new(&p, out);
}

struct run_task *run_task_get(struct run_sup *s, pid_t tgid, pid_t ppid)
{
	struct run_task *t = find(s, tgid);
	if (t)
		return t;
	if (s->ntasks >= s->sweep_at)
		sweep(s);
	if (s->forks_unseen)
		s->forks_unseen--; /* fork.c counted it at its fork */
	struct run_task *parent = find(s, ppid);
	struct uvfs_sbx_task *sbx;
	int err = parent ? uvfs_sbx_task_fork(parent->sbx, 0, tgid, &sbx) : fresh(s, tgid, NULL, &sbx);
	return err ? NULL : add(s, tgid, sbx);
}

int run_task_first(struct run_sup *s, pid_t tgid, const struct uvfs_vd *cwd)
{
	struct uvfs_sbx_task *sbx;
	int err = fresh(s, tgid, cwd, &sbx);
	if (err)
		return err;
	return add(s, tgid, sbx) ? 0 : -ENOMEM;
}

/* Children of tgid's threads that are not tasks yet. */
static size_t unseen_children(struct run_sup *s, pid_t tgid)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/task", (int)tgid);
	DIR *d = opendir(p);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char cp[300];
		snprintf(cp, sizeof(cp), "/proc/%d/task/%s/children", (int)tgid, e->d_name);
		FILE *f = fopen(cp, "re");
		if (!f)
			continue;
		int pid;
		while (fscanf(f, "%d", &pid) == 1)
			if (!find(s, pid))
				n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

size_t run_tasks_recount(struct run_sup *s)
{
	sweep(s);
	size_t unseen = 0;
	for (struct run_task *t = s->tasks; t; t = t->next)
		unseen += unseen_children(s, t->tgid);
	s->forks_unseen = unseen;
	return s->ntasks + unseen;
}

void run_tasks_free(struct run_sup *s)
{
	while (s->tasks) {
		struct run_task *t = s->tasks;
		s->tasks = t->next;
		uvfs_sbx_task_put(t->sbx);
		free(t);
	}
	s->ntasks = 0;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9 */
#endif

static bool thread_gone(const struct run_thread *th)
{
	struct pollfd p = { th->pidfd, POLLIN, 0 };
	return poll(&p, 1, 0) != 0;
}

static void thread_free(struct run_thread *th)
{
	if (th->pidfd >= 0)
		close(th->pidfd);
	free(th);
}

static void sweep_threads(struct run_sup *s)
{
	for (struct run_thread **pp = &s->threads; *pp;) {
		struct run_thread *th = *pp;
		if (th->pidfd < 0 || thread_gone(th)) {
			*pp = th->next;
			thread_free(th);
			s->nthreads--;
		} else
			pp = &th->next;
	}
	s->tsweep_at = s->nthreads * 2 + 64;
}

/* /proc/<pid>/comm in the tree: the host's (set by exec and PR_SET_NAME,
 * both of which make the status stale). */
static void set_comm(struct run_sup *s, pid_t tgid)
{
	char p[64], comm[32];
	snprintf(p, sizeof(p), "/proc/%d/comm", (int)tgid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return;
	comm[n] = 0;
	comm[strcspn(comm, "\n")] = 0;
	if (comm[0] && !comm[strspn(comm, "0123456789")]) {
		/* exec.c ran the program as "N" (a link to its memfd): the
		 * name the kernel would show is the basename of the path the
		 * program was exec'd by; argv[0]'s is the nearest we know */
		char cmd[4096];
		snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)tgid);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, cmd, sizeof(cmd) - 1);
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			cmd[n] = 0;
			const char *b = strrchr(cmd, '/');
			snprintf(comm, sizeof(comm), "%.15s", b ? b + 1 : cmd);
		}
	}
	uvfs_task_set_comm(s->tasks_table, tgid, comm);
}

int run_caller(struct run_sup *s, pid_t tid, struct run_status *st, struct run_task **task)
{
	struct run_thread **pp = &s->threads, *th = NULL;
	s->cur_tid = 0;
	s->cur_pidfd = -1;
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->tid == tid) {
			th = *pp;
			break;
		}
	if (th && (th->pidfd < 0 || thread_gone(th))) { /* a new thread with a reused tid */
		*pp = th->next;
		thread_free(th);
		s->nthreads--;
		th = NULL;
	}
	int err = 0;
	if (!th) {
		if (s->nthreads >= s->tsweep_at)
			sweep_threads(s);
		th = calloc(1, sizeof(*th));
		if (!th)
			return -ENOMEM;
		th->tid = tid;
		th->stale = true;
		th->pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
		if (th->pidfd >= 0)
			fcntl(th->pidfd, F_SETFD, FD_CLOEXEC);
		th->next = s->threads;
		s->threads = th;
		s->nthreads++;
	}
	bool fresh_status = th->stale || th->pidfd < 0;
	if (fresh_status) {
		err = run_read_status(tid, &th->st);
		if (err)
			return err;
		th->stale = false;
	}
	*st = th->st;
	st->cred.groups = st->groups; /* the copy's own array */
	s->cur_tid = tid; /* run_vfd_lookup copies its fds through the pidfd */
	s->cur_pidfd = th->pidfd;
	*task = run_task_get(s, st->tgid, st->ppid);
	if (*task && fresh_status && s->tasks_table)
		set_comm(s, st->tgid); /* new, or after an exec or prctl(PR_SET_NAME) */
	return *task ? 0 : -ENOMEM;
}

void run_caller_stale(struct run_sup *s, pid_t tgid)
{
	for (struct run_thread *th = s->threads; th; th = th->next)
		if (th->st.tgid == tgid)
			th->stale = true;
}

void run_threads_free(struct run_sup *s)
{
	while (s->threads) {
		struct run_thread *th = s->threads;
		s->threads = th->next;
		thread_free(th);
	}
	s->nthreads = 0;
}
