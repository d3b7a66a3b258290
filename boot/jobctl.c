/* boot/jobctl.c — job control of a booted tree's ptys: the process groups
 * and sessions of the tree's processes (the embedder runs them and tells
 * us, uvfs_boot_set_process), and the devpts task model over them.
 *
 * devpts is registered once per instance (uvfs_boot_register_filesystems,
 * before any boot) with boot_devpts_opts; its callbacks find the boot from
 * the calling context (uvfs_boot_ctx: task = the boot, tid = the pid). The
 * task pointer is checked against the live boots (a ctx made by another
 * embedder is not a boot: -ESRCH, no signal), so a foreign ctx->task is
 * never dereferenced.
 *
 * Locks: live_mu protects the list of live tables (live, next); each
 * table's mu protects procs/nprocs. live_mu → j->mu. Callbacks run with no
 * uvfs lock held (devpts's rule); the embedder's kill_pgrp is called with
 * none of ours either. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "boot/internal.h"
#include "fsimpl/devpts/devpts.h"

struct boot_proc {
	int32_t pid, pgid, sid;
};

struct boot_thread {
	int32_t tid, pid; /* a thread of process pid other than its leader */
};

struct boot_jobctl {
	struct uvfs_boot *b; /* immutable */
	const struct uvfs_boot_jobctl *opts; /* immutable, borrowed; may be NULL */
	pthread_mutex_t mu;
	struct boot_proc *procs; /* mu */
	size_t nprocs, cap; /* mu */
	struct boot_thread *threads; /* mu */
	size_t nthreads, tcap; /* mu */
	struct boot_jobctl *next; /* live_mu */
};

static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct boot_jobctl *live; /* live_mu */

HIDDEN int boot_jobctl_new(struct uvfs_boot *b, const struct uvfs_boot_jobctl *opts, struct boot_jobctl **out)
{
	struct boot_jobctl *j = calloc(1, sizeof *j);
	if (!j || !(j->procs = malloc(4 * sizeof *j->procs))) {
		free(j);
		return -ENOMEM;
	}
	j->b = b;
	j->opts = opts;
	j->cap = 4;
	j->procs[j->nprocs++] = (struct boot_proc){ 1, 1, 1 }; /* the init */
	pthread_mutex_init(&j->mu, NULL);
	pthread_mutex_lock(&live_mu);
	j->next = live;
	live = j;
	pthread_mutex_unlock(&live_mu);
	*out = j;
	return 0;
}

HIDDEN void boot_jobctl_free(struct boot_jobctl *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&live_mu);
	for (struct boot_jobctl **pp = &live; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	pthread_mutex_unlock(&live_mu);
	pthread_mutex_destroy(&j->mu);
	free(j->procs);
	free(j->threads);
	free(j);
}

/* j->mu held. */
static struct boot_proc *find(struct boot_jobctl *j, int32_t pid)
{
	for (size_t i = 0; i < j->nprocs; i++)
		if (j->procs[i].pid == pid)
			return &j->procs[i];
	return NULL;
}

/* j->mu held: the thread tid, or NULL. */
static struct boot_thread *find_thread(struct boot_jobctl *j, int32_t tid)
{
	for (size_t i = 0; i < j->nthreads; i++)
		if (j->threads[i].tid == tid)
			return &j->threads[i];
	return NULL;
}

/* j->mu held: the process task tid belongs to (itself or its thread
 * group's), or NULL. */
static struct boot_proc *find_task(struct boot_jobctl *j, int32_t tid)
{
	struct boot_thread *t = find_thread(j, tid);
	return find(j, t ? t->pid : tid);
}

/* j->mu held: the session of group pgid, or 0 when no process is in it. */
static int32_t group_session(struct boot_jobctl *j, int32_t pgid)
{
	for (size_t i = 0; i < j->nprocs; i++)
		if (j->procs[i].pgid == pgid)
			return j->procs[i].sid;
	return 0;
}

UVFS_API int uvfs_boot_set_process(struct uvfs_boot *b, int32_t pid, int32_t pgid, int32_t sid)
{
	if (!b || pid < 1 || pgid < 1 || sid < 1)
		return -EINVAL;
	struct boot_jobctl *j = boot_jobctl_of(b);
	int rc = 0;
	pthread_mutex_lock(&j->mu);
	int32_t gs = group_session(j, pgid);
	if (pgid != pid && gs != sid)
		rc = -ESRCH; /* joining a group that is not in the session */
	else if (pgid == pid && gs && gs != sid)
		rc = -EPERM; /* the group exists in another session */
	struct boot_proc *p = rc ? NULL : find(j, pid);
	if (!rc && !p) {
		if (j->nprocs == j->cap) {
			struct boot_proc *n = realloc(j->procs, 2 * j->cap * sizeof *n);
			if (!n)
				rc = -ENOMEM;
			else {
				j->procs = n;
				j->cap *= 2;
			}
		}
		if (!rc)
			p = &j->procs[j->nprocs++];
	}
	if (p)
		*p = (struct boot_proc){ pid, pgid, sid };
	pthread_mutex_unlock(&j->mu);
	return rc;
}

UVFS_API int uvfs_boot_exit_process(struct uvfs_boot *b, int32_t pid)
{
	if (!b)
		return -EINVAL;
	struct boot_jobctl *j = boot_jobctl_of(b);
	pthread_mutex_lock(&j->mu);
	struct boot_proc *p = find(j, pid);
	if (p) {
		*p = j->procs[--j->nprocs];
		for (size_t i = 0; i < j->nthreads;) /* its threads go with it */
			if (j->threads[i].pid == pid)
				j->threads[i] = j->threads[--j->nthreads];
			else
				i++;
	}
	pthread_mutex_unlock(&j->mu);
	return p ? 0 : -ESRCH;
}

UVFS_API int uvfs_boot_set_thread(struct uvfs_boot *b, int32_t tid, int32_t pid)
{
	if (!b || tid < 1 || pid < 1)
		return -EINVAL;
	struct boot_jobctl *j = boot_jobctl_of(b);
	int rc = 0;
	pthread_mutex_lock(&j->mu);
	if (!find(j, pid))
		rc = -ESRCH;
	else if (find(j, tid) || find_thread(j, tid))
		rc = -EEXIST;
	else if (j->nthreads == j->tcap) {
		size_t cap = j->tcap ? 2 * j->tcap : 4;
		struct boot_thread *n = realloc(j->threads, cap * sizeof *n);
		if (!n)
			rc = -ENOMEM;
		else {
			j->threads = n;
			j->tcap = cap;
		}
	}
	if (!rc)
		j->threads[j->nthreads++] = (struct boot_thread){ tid, pid };
	pthread_mutex_unlock(&j->mu);
	return rc;
}

UVFS_API int uvfs_boot_exit_thread(struct uvfs_boot *b, int32_t tid)
{
	if (!b)
		return -EINVAL;
	struct boot_jobctl *j = boot_jobctl_of(b);
	pthread_mutex_lock(&j->mu);
	struct boot_thread *t = find_thread(j, tid);
	if (t)
		*t = j->threads[--j->nthreads];
	pthread_mutex_unlock(&j->mu);
	return t ? 0 : -ESRCH;
}

UVFS_API void uvfs_boot_ctx(struct uvfs_boot *b, int32_t pid, struct uvfs_ctx *c)
{
	memset(c, 0, sizeof *c);
	c->task = b;
	c->tid = pid;
}

/* The live table of the calling context's boot, locked (j->mu), or NULL.
 * The boot outlives the calls made as its processes (the embedder's rule),
 * so j stays valid after live_mu is dropped. */
static struct boot_jobctl *caller_locked(void)
{
	const struct uvfs_ctx *c = uvfs_current_ctx();
	struct boot_jobctl *j = NULL;
	if (!c || !c->task)
		return NULL;
	pthread_mutex_lock(&live_mu);
	for (struct boot_jobctl *q = live; q; q = q->next)
		if (q->b == c->task) {
			j = q;
			pthread_mutex_lock(&j->mu);
			break;
		}
	pthread_mutex_unlock(&live_mu);
	return j;
}

static int task_ids(void *arg, void *task, struct uvfs_tty_task_ids *out)
{
	(void)arg;
	(void)task; /* == uvfs_current_ctx()->task, checked there */
	struct boot_jobctl *j = caller_locked();
	if (!j)
		return -ESRCH;
	struct boot_proc *p = find_task(j, uvfs_current_ctx()->tid); /* a thread acts for its process */
	if (p)
		*out = (struct uvfs_tty_task_ids){ p->pid, p->pgid, p->sid };
	pthread_mutex_unlock(&j->mu);
	return p ? 0 : -ESRCH;
}

static int pgrp_session(void *arg, int32_t pgid, int32_t *sid)
{
	(void)arg;
	struct boot_jobctl *j = caller_locked();
	if (!j)
		return -ESRCH;
	int32_t s = group_session(j, pgid);
	pthread_mutex_unlock(&j->mu);
	if (!s)
		return -ESRCH;
	*sid = s;
	return 0;
}

static void kill_pgrp(void *arg, int32_t pgid, int sig)
{
	(void)arg;
	struct boot_jobctl *j = caller_locked();
	if (!j)
		return; /* typed by a caller that is no process of a booted tree */
	const struct uvfs_boot_jobctl *o = j->opts;
	pthread_mutex_unlock(&j->mu);
	if (o && o->kill_pgrp)
		o->kill_pgrp(o->arg, pgid, sig);
}

HIDDEN const struct uvfs_devpts_opts boot_devpts_opts = {
	.task_ids = task_ids,
	.pgrp_session = pgrp_session,
	.kill_pgrp = kill_pgrp,
};
