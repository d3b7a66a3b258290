/* sandbox/task.c — the task object: credentials, root/cwd/umask (shared
 * with CLONE_FS), the fd table (shared with CLONE_FILES), fork and exec,
 * registration in a proc task table, and the dirfd + path start of every
 * *at call. Lock rules: sandbox/sbx.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/kernfs/task.h"
#include "sandbox/sbx.h"

/* ------------------------------------------------------------ credentials */

static int cred_copy(struct uvfs_sbx_task *t, const struct uvfs_cred *src)
{
	struct uvfs_cred c;
	if (src)
		c = *src;
	else
		uvfs_cred_init_root(&c);
	const uint32_t *g = c.groups;
	uint32_t n = c.ngroups;
	if (c.groups_src) {
		/* The task outlives the caller's source: load it now, keep a copy. */
		if (!c.groups_src->loaded) {
			if (c.groups_src->load(c.groups_src, &g, &n))
				g = NULL, n = 0;
		} else {
			g = c.groups_src->groups, n = c.groups_src->n;
		}
	}
	uint32_t *copy = NULL;
	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, g, n * sizeof(*copy));
	}
	c.groups_src = NULL;
	c.groups = copy;
	c.ngroups = n;
	free(t->groups);
	t->groups = copy;
	t->cred = c;
	return 0;
}

UVFS_API int uvfs_sbx_task_set_cred(struct uvfs_sbx_task *t, const struct uvfs_cred *cred)
{
	if (!t || !cred)
		return -EINVAL;
	return cred_copy(t, cred);
}

UVFS_API const struct uvfs_cred *uvfs_sbx_task_cred(const struct uvfs_sbx_task *t) { return &t->cred; }

UVFS_API int uvfs_sbx_task_set_nofile(struct uvfs_sbx_task *t, unsigned limit)
{
	if (!t || limit == 0 || limit > UVFS_SBX_NOFILE_MAX)
		return -EINVAL;
	t->nofile = limit;
	return 0;
}

UVFS_API int32_t uvfs_sbx_task_tid(const struct uvfs_sbx_task *t) { return t->tid; }

/* ---------------------------------------------------------------- fs state */

static struct sbx_fs *fs_new(const struct uvfs_vd *root, const struct uvfs_vd *cwd, mode_t umask)
{
	struct sbx_fs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	atomic_init(&fs->refs, 1);
	pthread_mutex_init(&fs->lock, NULL);
	fs->root = *root;
	uvfs_vd_get(&fs->root);
	fs->cwd = *cwd;
	uvfs_vd_get(&fs->cwd);
	fs->umask = umask & 0777;
	return fs;
}

static void fs_put(struct sbx_fs *fs)
{
	if (!fs || atomic_fetch_sub_explicit(&fs->refs, 1, memory_order_acq_rel) != 1)
		return;
	uvfs_vd_put(&fs->cwd);
	uvfs_vd_put(&fs->root);
	pthread_mutex_destroy(&fs->lock);
	free(fs->tids);
	free(fs);
}

HIDDEN int sbx_fs_add_tid(struct sbx_fs *fs, int32_t tid)
{
	pthread_mutex_lock(&fs->lock);
	if (fs->ntids == fs->tcap) {
		unsigned cap = fs->tcap ? fs->tcap * 2 : 4;
		int32_t *n = realloc(fs->tids, cap * sizeof(*n));
		if (!n) {
			pthread_mutex_unlock(&fs->lock);
			return -ENOMEM;
		}
		fs->tids = n, fs->tcap = cap;
	}
	fs->tids[fs->ntids++] = tid;
	pthread_mutex_unlock(&fs->lock);
	return 0;
}

static void fs_del_tid(struct sbx_fs *fs, int32_t tid)
{
	pthread_mutex_lock(&fs->lock);
	for (unsigned i = 0; i < fs->ntids; i++)
		if (fs->tids[i] == tid) {
			fs->tids[i] = fs->tids[--fs->ntids];
			break;
		}
	pthread_mutex_unlock(&fs->lock);
}

HIDDEN mode_t sbx_umask(struct uvfs_sbx_task *t)
{
	pthread_mutex_lock(&t->fs->lock);
	mode_t m = t->fs->umask;
	pthread_mutex_unlock(&t->fs->lock);
	return m;
}

UVFS_API long uvfs_sbx_umask(struct uvfs_sbx_task *t, mode_t mask)
{
	pthread_mutex_lock(&t->fs->lock);
	mode_t old = t->fs->umask;
	t->fs->umask = mask & 0777;
	pthread_mutex_unlock(&t->fs->lock);
	return old;
}

/* ---------------------------------------------------------------- fd table */

HIDDEN struct sbx_fdtable *sbx_files(struct uvfs_sbx_task *t)
{
	pthread_mutex_lock(&t->files_lock);
	struct sbx_fdtable *fdt = t->files;
	fdt_get(fdt);
	pthread_mutex_unlock(&t->files_lock);
	return fdt;
}

HIDDEN int sbx_file(struct uvfs_sbx_task *t, int fd, struct uvfs_file **out)
{
	struct sbx_fdtable *fdt = sbx_files(t);
	int err = fdt_file(fdt, fd, out, NULL);
	fdt_put(fdt);
	return err;
}

HIDDEN int sbx_unshare_files(struct uvfs_sbx_task *t)
{
	/* Only the task's own thread replaces t->files, so reading it here
	 * without files_lock is safe; readers elsewhere take the lock. */
	struct sbx_fdtable *old = t->files;
	if (atomic_load_explicit(&old->refs, memory_order_acquire) == 1)
		return 0;
	struct sbx_fdtable *copy;
	int err = fdt_copy(old, &copy);
	if (err)
		return err;
	pthread_mutex_lock(&t->files_lock);
	t->files = copy;
	pthread_mutex_unlock(&t->files_lock);
	fdt_put(old);
	return 0;
}

UVFS_API int uvfs_sbx_fd_get(struct uvfs_sbx_task *t, int fd, struct uvfs_file **out)
{
	if (!t || !out)
		return -EINVAL;
	return sbx_file(t, fd, out);
}

UVFS_API long uvfs_sbx_fd_install(struct uvfs_sbx_task *t, struct uvfs_file *f, int minfd, bool cloexec)
{
	if (!t || !f || minfd < 0)
		return -EINVAL;
	if ((unsigned)minfd >= t->nofile)
		return -EMFILE;
	uvfs_file_get(f);
	struct sbx_fdtable *fdt = sbx_files(t);
	long fd = fdt_alloc(fdt, f, (unsigned)minfd, t->nofile, cloexec);
	fdt_put(fdt);
	if (fd < 0)
		uvfs_file_put(f);
	return fd;
}

UVFS_API int uvfs_sbx_fd_list(struct uvfs_sbx_task *t, int after, int *fds, int max)
{
	if (!t || (!fds && max > 0) || max < 0)
		return -EINVAL;
	struct sbx_fdtable *fdt = sbx_files(t);
	int n = fdt_list(fdt, after, fds, max);
	fdt_put(fdt);
	return n;
}

/* ------------------------------------------------------- proc registration */

static int proc_fd_list(void *arg, int after, int *fds, int max) { return uvfs_sbx_fd_list(arg, after, fds, max); }
static int proc_fd_get(void *arg, int fd, struct uvfs_file **out) { return sbx_file(arg, fd, out); }
static const struct uvfs_task_fd_ops proc_fd_ops = { .list = proc_fd_list, .get = proc_fd_get };

static int task_register(struct uvfs_sbx_task *t, int32_t ppid)
{
	if (!t->tasks || t->tid <= 0)
		return 0;
	if (!t->mntns)
		return -EINVAL;
	pthread_mutex_lock(&t->fs->lock);
	struct uvfs_vd root = t->fs->root, cwd = t->fs->cwd;
	uvfs_vd_get(&root);
	uvfs_vd_get(&cwd);
	pthread_mutex_unlock(&t->fs->lock);
	struct uvfs_task_params p = {
		.pid = t->pid, .tid = t->tid, .ppid = ppid, .cred = &t->cred,
		.root = &root, .cwd = &cwd, .mntns = t->mntns, .fd_ops = &proc_fd_ops, .fd_arg = t,
	};
	int err = uvfs_task_register(t->tasks, &p);
	uvfs_vd_put(&cwd);
	uvfs_vd_put(&root);
	if (!err && (err = sbx_fs_add_tid(t->fs, t->tid)))
		uvfs_task_unregister(t->tasks, t->tid);
	return err;
}

/* -------------------------------------------------------------- lifecycle */

static struct uvfs_sbx_task *task_alloc(struct uvfs *vfs, struct uvfs_mntns *ns)
{
	struct uvfs_sbx_task *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->vfs = vfs;
	t->mntns = ns;
	if (ns)
		uvfs_mntns_get(ns);
	pthread_mutex_init(&t->files_lock, NULL);
	uvfs_intr_init(&t->intr);
	return t;
}

static void task_free(struct uvfs_sbx_task *t)
{
	fdt_put(t->files);
	fs_put(t->fs);
	if (t->mntns)
		uvfs_mntns_put(t->mntns);
	free(t->groups);
	pthread_mutex_destroy(&t->files_lock);
	free(t);
}

UVFS_API int uvfs_sbx_task_new(const struct uvfs_sbx_task_params *p, struct uvfs_sbx_task **out)
{
	if (!p || !out || !p->vfs || !p->root || !uvfs_vd_ok(p->root) || (p->cwd && !uvfs_vd_ok(p->cwd)) ||
	    p->nofile > UVFS_SBX_NOFILE_MAX || p->tid < 0 || p->pid < 0)
		return -EINVAL;
	struct uvfs_sbx_task *t = task_alloc(p->vfs, p->mntns);
	if (!t)
		return -ENOMEM;
	t->nofile = p->nofile ? p->nofile : UVFS_SBX_NOFILE_DEFAULT;
	t->tid = p->tid;
	t->pid = p->pid ? p->pid : p->tid;
	t->tasks = p->tasks;
	int err = cred_copy(t, p->cred);
	if (!err && !(t->fs = fs_new(p->root, p->cwd ? p->cwd : p->root, p->umask)))
		err = -ENOMEM;
	if (!err)
		err = fdt_new(&t->files);
	if (!err)
		err = task_register(t, p->ppid);
	if (err) {
		t->tasks = NULL;
		task_free(t);
		return err;
	}
	*out = t;
	return 0;
}

UVFS_API int uvfs_sbx_task_fork(struct uvfs_sbx_task *parent, unsigned flags, int32_t tid,
				struct uvfs_sbx_task **child)
{
	if (!parent || !child || tid < 0 ||
	    (flags & ~(UVFS_SBX_CLONE_FILES | UVFS_SBX_CLONE_FS | UVFS_SBX_CLONE_THREAD)))
		return -EINVAL;
	struct uvfs_sbx_task *t = task_alloc(parent->vfs, parent->mntns);
	if (!t)
		return -ENOMEM;
	t->nofile = parent->nofile;
	t->tid = tid;
	t->pid = (flags & UVFS_SBX_CLONE_THREAD) ? parent->pid : tid;
	t->tasks = parent->tasks;
	int err = cred_copy(t, &parent->cred);
	if (!err) {
		if (flags & UVFS_SBX_CLONE_FS) {
			t->fs = parent->fs;
			atomic_fetch_add_explicit(&t->fs->refs, 1, memory_order_relaxed);
		} else {
			pthread_mutex_lock(&parent->fs->lock);
			t->fs = fs_new(&parent->fs->root, &parent->fs->cwd, parent->fs->umask);
			pthread_mutex_unlock(&parent->fs->lock);
			if (!t->fs)
				err = -ENOMEM;
		}
	}
	if (!err) {
		struct sbx_fdtable *fdt = sbx_files(parent);
		if (flags & UVFS_SBX_CLONE_FILES) {
			t->files = fdt;
		} else {
			err = fdt_copy(fdt, &t->files);
			fdt_put(fdt);
		}
	}
	if (!err)
		err = task_register(t, (flags & UVFS_SBX_CLONE_THREAD) ? 0 : parent->pid);
	if (err) {
		t->tasks = NULL;
		task_free(t);
		return err;
	}
	*child = t;
	return 0;
}

UVFS_API int uvfs_sbx_task_exec(struct uvfs_sbx_task *t)
{
	if (!t)
		return -EINVAL;
	int err = sbx_unshare_files(t);
	if (err)
		return err;
	fdt_close_range(t->files, 0, ~0u, true, false);
	return 0;
}

UVFS_API void uvfs_sbx_task_put(struct uvfs_sbx_task *t)
{
	if (!t)
		return;
	if (t->tasks && t->tid > 0) {
		fs_del_tid(t->fs, t->tid);
		uvfs_task_unregister(t->tasks, t->tid);
	}
	task_free(t);
}

/* -------------------------------------------------------- path start (*at) */

HIDDEN int sbx_at_begin(struct uvfs_sbx_task *t, int dirfd, const char *path, unsigned flags, struct sbx_at *at)
{
	memset(at, 0, sizeof(*at));
	if (!path)
		return -EFAULT;
	if (!path[0] && !(flags & SBX_AT_EMPTY))
		return -ENOENT;
	bool rel = path[0] != '/' || (flags & SBX_AT_SCOPED);
	if (rel && dirfd != AT_FDCWD) {
		int err = sbx_file(t, dirfd, &at->dir);
		if (err)
			return err;
		if (path[0] && path[0] != '/' && !S_ISDIR(__atomic_load_n(&at->dir->f_inode->i_mode, __ATOMIC_RELAXED))) {
			uvfs_file_put(at->dir);
			at->dir = NULL;
			return -ENOTDIR;
		}
	}
	pthread_mutex_lock(&t->fs->lock);
	at->root = t->fs->root;
	uvfs_vd_get(&at->root);
	at->cwd = t->fs->cwd;
	uvfs_vd_get(&at->cwd);
	pthread_mutex_unlock(&t->fs->lock);
	at->pop.root = at->root;
	at->pop.start = at->dir ? at->dir->f_vd : at->cwd;
	at->pop.path = path;
	at->pop.flags = ((flags & SBX_AT_EMPTY) ? UVFS_PATH_EMPTY : 0) | ((flags & SBX_AT_FOLLOW) ? UVFS_PATH_FOLLOW : 0);
	return 0;
}

HIDDEN void sbx_at_end(struct sbx_at *at)
{
	if (at->dir)
		uvfs_file_put(at->dir);
	if (uvfs_vd_ok(&at->cwd))
		uvfs_vd_put(&at->cwd);
	if (uvfs_vd_ok(&at->root))
		uvfs_vd_put(&at->root);
	at->dir = NULL;
}

/* ------------------------------------------------------------- interrupts */

UVFS_API int uvfs_sbx_task_interrupt(struct uvfs_sbx_task *t)
{
	if (!t)
		return -EINVAL;
	struct uvfs_ctx c = { .task = t, .tid = t->tid, .intr = &t->intr };
	return uvfs_ctx_interrupt(&c);
}

UVFS_API void uvfs_sbx_task_interrupt_clear(struct uvfs_sbx_task *t)
{
	if (!t)
		return;
	struct uvfs_ctx c = { .task = t, .tid = t->tid, .intr = &t->intr };
	uvfs_ctx_interrupt_clear(&c);
}
