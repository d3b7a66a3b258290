/* fsimpl/kernfs/task.c — the task table (see task.h, task_internal.h).
 *
 * Concurrency: a mutex per table (the sorted tid array) and per task (its
 * mutable fields); tasks are reference counted, so a reader that found a
 * task keeps it valid after the table lock is dropped. Lock order:
 * table lock → task lock; neither is held while calling into the VFS
 * (vd and namespace puts happen after unlocking). */
#include "fsimpl/kernfs/task_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t tasks_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------- default table per vfs */

struct deflt {
	struct deflt *next;
	struct uvfs *vfs;
	struct uvfs_tasks *t;
};
static pthread_mutex_t deflt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct deflt *deflts; /* under deflt_lock */

struct uvfs_tasks *tasks_default(struct uvfs *vfs)
{
	struct uvfs_tasks *t = NULL;
	pthread_mutex_lock(&deflt_lock);
	for (struct deflt *d = deflts; d; d = d->next)
		if (d->vfs == vfs) {
			t = d->t;
			tasks_get(t);
			break;
		}
	pthread_mutex_unlock(&deflt_lock);
	return t;
}

/* ---------------------------------------------------------------- table */

UVFS_API int uvfs_tasks_new(struct uvfs *vfs, struct uvfs_tasks **out)
{
	struct uvfs_tasks *t = calloc(1, sizeof(*t));
	struct deflt *d = calloc(1, sizeof(*d));
	if (!t || !d) {
		free(t);
		free(d);
		return -ENOMEM;
	}
	atomic_init(&t->refs, 1);
	t->vfs = vfs;
	t->boot_ns = tasks_now_ns();
	pthread_mutex_init(&t->lock, NULL);
	strcpy(t->hostname, "localhost");
	strcpy(t->release, "4.4.0");
	strcpy(t->version, "#1 SMP Sun Jan 10 15:06:54 PST 2016");
	pthread_mutex_lock(&deflt_lock);
	bool have = false;
	for (struct deflt *x = deflts; x; x = x->next)
		have |= x->vfs == vfs;
	if (!have) {
		d->vfs = vfs;
		d->t = t;
		d->next = deflts;
		deflts = d;
		d = NULL;
	}
	pthread_mutex_unlock(&deflt_lock);
	free(d);
	*out = t;
	return 0;
}

void tasks_get(struct uvfs_tasks *t) { atomic_fetch_add(&t->refs, 1); }

void tasks_put(struct uvfs_tasks *t)
{
	if (atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	free(t->v);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

UVFS_API void uvfs_tasks_destroy(struct uvfs_tasks *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&deflt_lock);
	for (struct deflt **p = &deflts; *p; p = &(*p)->next)
		if ((*p)->t == t) {
			struct deflt *d = *p;
			*p = d->next;
			free(d);
			break;
		}
	pthread_mutex_unlock(&deflt_lock);
	pthread_mutex_lock(&t->lock);
	t->closed = true;
	pthread_mutex_unlock(&t->lock);
	for (;;) {
		pthread_mutex_lock(&t->lock);
		int32_t tid = t->n ? t->v[t->n - 1]->tid : 0; /* threads before their leaders */
		pthread_mutex_unlock(&t->lock);
		if (!tid)
			break;
		uvfs_task_unregister(t, tid);
	}
	tasks_put(t);
}

/* Index of the first task with tid >= tid (table lock held). */
static size_t lower_bound(struct uvfs_tasks *t, int32_t tid)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t->v[mid]->tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void task_get(struct task *tk) { atomic_fetch_add(&tk->refs, 1); }

void task_put(struct task *tk)
{
	if (atomic_fetch_sub(&tk->refs, 1) != 1)
		return;
	/* vds and the namespace went at unregister. */
	free(tk->argv);
	free(tk->env);
	free(tk->groups_buf);
	pthread_mutex_destroy(&tk->lock);
	pthread_rwlock_destroy(&tk->fd_rw);
	free(tk);
}

struct task *tasks_find(struct uvfs_tasks *t, int32_t tid)
{
	struct task *tk = NULL;
	pthread_mutex_lock(&t->lock);
	size_t i = lower_bound(t, tid);
	if (i < t->n && t->v[i]->tid == tid) {
		tk = t->v[i];
		task_get(tk);
	}
	pthread_mutex_unlock(&t->lock);
	return tk;
}

/* The one place /proc/self learns who is asking: the caller context's
 * tid, or the init task for callers that are no task (FUSE readers). A
 * tid this table does not know gets NULL (ENOENT), as a task outside the
 * pid namespace sees in Linux. */
struct task *tasks_current(struct uvfs_tasks *t)
{
	int32_t tid = uvfs_current_ctx()->tid;
	if (!tid) {
		pthread_mutex_lock(&t->lock);
		tid = t->init_tid ? t->init_tid : 1;
		pthread_mutex_unlock(&t->lock);
	}
	return tasks_find(t, tid);
}

int tasks_list(struct uvfs_tasks *t, int32_t from, bool leaders, int32_t pid, struct task **out, int max)
{
	int n = 0;
	pthread_mutex_lock(&t->lock);
	for (size_t i = lower_bound(t, from); i < t->n && n < max; i++) {
		struct task *tk = t->v[i];
		if (leaders && tk->tid != tk->pid)
			continue;
		if (pid && tk->pid != pid)
			continue;
		task_get(tk);
		out[n++] = tk;
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

void tasks_counts(struct uvfs_tasks *t, int *ntasks, int *nrunning, int32_t *last_pid)
{
	pthread_mutex_lock(&t->lock);
	int run = 0;
	for (size_t i = 0; i < t->n; i++) {
		pthread_mutex_lock(&t->v[i]->lock);
		run += t->v[i]->state == 'R';
		pthread_mutex_unlock(&t->v[i]->lock);
	}
	*ntasks = (int)t->n;
	*nrunning = run;
	*last_pid = t->last_pid;
	pthread_mutex_unlock(&t->lock);
}

/* ---------------------------------------------------------------- tasks */

static char *join(const char *const *v, size_t *len)
{
	size_t n = 0;
	for (size_t i = 0; v && v[i]; i++)
		n += strlen(v[i]) + 1;
	char *p = malloc(n ? n : 1);
	if (!p)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; v && v[i]; i++) {
		size_t l = strlen(v[i]) + 1;
		memcpy(p + o, v[i], l);
		o += l;
	}
	*len = n;
	return p;
}

static void set_comm(struct task *tk, const char *comm)
{
	snprintf(tk->comm, sizeof tk->comm, "%s", comm);
}

UVFS_API int uvfs_task_register(struct uvfs_tasks *t, const struct uvfs_task_params *p)
{
	if (!t || !p || p->pid <= 0 || p->tid < 0 || p->ppid < 0 || !p->mntns || !p->root || !p->cwd ||
	    !uvfs_vd_ok(p->root) || !uvfs_vd_ok(p->cwd) || (p->cred && p->cred->ngroups && !p->cred->groups))
		return -EINVAL;
	struct task *tk = calloc(1, sizeof(*tk));
	if (!tk)
		return -ENOMEM;
	atomic_init(&tk->refs, 1);
	pthread_mutex_init(&tk->lock, NULL);
	pthread_rwlock_init(&tk->fd_rw, NULL);
	tk->pid = p->pid;
	tk->tid = p->tid ? p->tid : p->pid;
	tk->ppid = p->ppid;
	tk->tasks = t;
	tk->state = p->state ? p->state : 'S';
	tk->start_ns = p->start_ns ? p->start_ns : tasks_now_ns() - t->boot_ns;
	tk->fd_ops = p->fd_ops;
	tk->fd_arg = p->fd_arg;
	if (p->cred)
		tk->cred = *p->cred;
	else
		uvfs_cred_init_root(&tk->cred);
	tk->cred.groups_src = NULL;
	tk->cred.groups = NULL;
	uint32_t ng = p->cred && !p->cred->groups_src ? p->cred->ngroups : 0;
	tk->cred.ngroups = ng;
	tk->argv = join(p->argv, &tk->argv_len);
	tk->env = join(p->envp, &tk->env_len);
	if (ng && (tk->groups_buf = malloc(ng * sizeof(uint32_t))))
		memcpy(tk->groups_buf, p->cred->groups, ng * sizeof(uint32_t));
	if (!tk->argv || !tk->env || (ng && !tk->groups_buf)) {
		task_put(tk);
		return -ENOMEM;
	}
	tk->cred.groups = tk->groups_buf;
	if (p->comm) {
		set_comm(tk, p->comm);
	} else if (p->argv && p->argv[0]) {
		const char *b = strrchr(p->argv[0], '/');
		set_comm(tk, b ? b + 1 : p->argv[0]);
	}
	pthread_mutex_lock(&t->lock);
	int err = 0;
	size_t i = lower_bound(t, tk->tid);
	if (t->closed)
		err = -ESHUTDOWN;
	else if (i < t->n && t->v[i]->tid == tk->tid)
		err = -EEXIST;
	else if (tk->tid != tk->pid) {
		size_t l = lower_bound(t, tk->pid);
		if (l == t->n || t->v[l]->tid != tk->pid)
			err = -ESRCH;
	}
	if (!err && t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct task **v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			err = -ENOMEM;
		else {
			t->v = v;
			t->cap = cap;
		}
	}
	if (err) {
		pthread_mutex_unlock(&t->lock);
		task_put(tk);
		return err;
	}
	/* References before publishing: readers may take them at once. */
	uvfs_vd_get(p->root);
	tk->root = *p->root;
	uvfs_vd_get(p->cwd);
	tk->cwd = *p->cwd;
	if (p->exe && uvfs_vd_ok(p->exe)) {
		uvfs_vd_get(p->exe);
		tk->exe = *p->exe;
	}
	uvfs_mntns_get(p->mntns);
	tk->mntns = p->mntns;
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
	t->v[i] = tk;
	t->n++;
	if (tk->tid > t->last_pid || t->last_pid == 0)
		t->last_pid = tk->tid;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

UVFS_API int uvfs_task_unregister(struct uvfs_tasks *t, int32_t tid)
{
	pthread_mutex_lock(&t->lock);
	size_t i = lower_bound(t, tid);
	if (i == t->n || t->v[i]->tid != tid) {
		pthread_mutex_unlock(&t->lock);
		return -ESRCH;
	}
	struct task *tk = t->v[i];
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
	atomic_store(&tk->dead, true);
	pthread_mutex_lock(&tk->lock);
	struct uvfs_vd root = tk->root, cwd = tk->cwd, exe = tk->exe;
	struct uvfs_mntns *ns = tk->mntns;
	tk->root = tk->cwd = tk->exe = (struct uvfs_vd){ 0 };
	tk->mntns = NULL;
	pthread_mutex_unlock(&tk->lock);
	pthread_mutex_unlock(&t->lock);
	uvfs_vd_put(&root);
	uvfs_vd_put(&cwd);
	if (uvfs_vd_ok(&exe))
		uvfs_vd_put(&exe);
	uvfs_mntns_put(ns);
	/* Wait out the fd_ops calls that started before dead was set; later
	 * ones see dead under fd_rw and do not call. */
	pthread_rwlock_wrlock(&tk->fd_rw);
	pthread_rwlock_unlock(&tk->fd_rw);
	task_put(tk);
	return 0;
}

/* Read side of fd_rw. dead is checked before taking it too, so once it
 * is set no new reader can keep a waiting unregister out (glibc's rwlock
 * prefers readers). */
static bool fd_enter(struct task *tk)
{
	if (!tk->fd_ops || atomic_load(&tk->dead))
		return false;
	pthread_rwlock_rdlock(&tk->fd_rw);
	if (atomic_load(&tk->dead)) {
		pthread_rwlock_unlock(&tk->fd_rw);
		return false;
	}
	return true;
}

int task_fd_list(struct task *tk, int after, int *fds, int max)
{
	if (!fd_enter(tk))
		return tk->fd_ops ? -ENOENT : 0;
	int n = tk->fd_ops->list(tk->fd_arg, after, fds, max);
	pthread_rwlock_unlock(&tk->fd_rw);
	return n;
}

int task_fd_get(struct task *tk, int fd, struct uvfs_file **out)
{
	if (!fd_enter(tk))
		return -ENOENT;
	int err = tk->fd_ops->get(tk->fd_arg, fd, out);
	pthread_rwlock_unlock(&tk->fd_rw);
	return err;
}

int task_fd_flags(struct task *tk, int fd)
{
	if (!tk->fd_ops || !tk->fd_ops->fd_flags || !fd_enter(tk))
		return 0;
	int fl = tk->fd_ops->fd_flags(tk->fd_arg, fd);
	pthread_rwlock_unlock(&tk->fd_rw);
	return fl;
}

int task_get_vd(struct task *tk, int which, struct uvfs_vd *out)
{
	pthread_mutex_lock(&tk->lock);
	struct uvfs_vd *vd = which == TASK_ROOT ? &tk->root : which == TASK_CWD ? &tk->cwd : &tk->exe;
	int err = atomic_load(&tk->dead) ? -ESRCH : uvfs_vd_ok(vd) ? 0 : -ENOENT;
	if (!err) {
		uvfs_vd_get(vd);
		*out = *vd;
	}
	pthread_mutex_unlock(&tk->lock);
	return err;
}

int task_get_mntns(struct task *tk, struct uvfs_mntns **out)
{
	pthread_mutex_lock(&tk->lock);
	int err = tk->mntns ? 0 : -ESRCH;
	if (!err) {
		uvfs_mntns_get(tk->mntns);
		*out = tk->mntns;
	}
	pthread_mutex_unlock(&tk->lock);
	return err;
}

/* Runs f on task tid under its lock. */
#define WITH_TASK(t, tid, body)                                  \
	do {                                                     \
		struct task *tk_ = tasks_find((t), (tid));       \
		if (!tk_)                                        \
			return -ESRCH;                           \
		pthread_mutex_lock(&tk_->lock);                  \
		body;                                            \
		pthread_mutex_unlock(&tk_->lock);                \
		task_put(tk_);                                   \
	} while (0)

UVFS_API int uvfs_task_set_state(struct uvfs_tasks *t, int32_t tid, char state)
{
	if (!state)
		return -EINVAL;
	WITH_TASK(t, tid, tk_->state = state);
	return 0;
}

UVFS_API int uvfs_task_set_comm(struct uvfs_tasks *t, int32_t tid, const char *comm)
{
	if (!comm)
		return -EINVAL;
	WITH_TASK(t, tid, set_comm(tk_, comm));
	return 0;
}

UVFS_API int uvfs_task_set_cwd(struct uvfs_tasks *t, int32_t tid, const struct uvfs_vd *cwd)
{
	if (!cwd || !uvfs_vd_ok(cwd))
		return -EINVAL;
	struct uvfs_vd old = { 0 };
	int err = 0;
	WITH_TASK(t, tid, {
		if (atomic_load(&tk_->dead)) {
			err = -ESRCH;
		} else {
			old = tk_->cwd;
			uvfs_vd_get(cwd);
			tk_->cwd = *cwd;
		}
	});
	if (uvfs_vd_ok(&old))
		uvfs_vd_put(&old);
	return err;
}

UVFS_API int uvfs_tasks_set_init(struct uvfs_tasks *t, int32_t tid)
{
	if (tid <= 0)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	t->init_tid = tid;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int tasks_ncpus(struct uvfs_tasks *t)
{
	pthread_mutex_lock(&t->lock);
	int n = t->ncpus;
	pthread_mutex_unlock(&t->lock);
	if (n <= 0) {
		long h = sysconf(_SC_NPROCESSORS_ONLN);
		n = h > 0 ? (int)h : 1;
	}
	return n;
}

UVFS_API int uvfs_tasks_set_ncpus(struct uvfs_tasks *t, int ncpus)
{
	if (ncpus < 1 || ncpus > 8192)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	t->ncpus = ncpus;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

UVFS_API int uvfs_tasks_set_uts(struct uvfs_tasks *t, const char *hostname, const char *release,
				const char *version)
{
	if ((hostname && strlen(hostname) >= sizeof t->hostname) || (release && strlen(release) >= sizeof t->release) ||
	    (version && strlen(version) >= sizeof t->version))
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	if (hostname)
		strcpy(t->hostname, hostname);
	if (release)
		strcpy(t->release, release);
	if (version)
		strcpy(t->version, version);
	pthread_mutex_unlock(&t->lock);
	return 0;
}
