/* fsimpl/cgroup/cgroup.c — cgroupfs v1, the seed of spec §3.8, with
 * child cgroups and task moves (later gVisor versions).
 *
 * Mount options: controller names (cpu, cpuacct, cpuset, memory, job) or
 * "all" (the default when none is named), and dentry_cache_limit. "all"
 * with a named controller is EINVAL; a set equal to an existing
 * hierarchy's reuses that hierarchy (the same filesystem); a controller
 * already bound to another hierarchy is EBUSY. Each live hierarchy of an
 * instance has an ID (the lowest free from 1), shown in /proc/[pid]/cgroup.
 *
 * A hierarchy is a tree of cgroups (mkdir/rmdir; rmdir is EBUSY while the
 * cgroup has children or tasks) and a membership table: a task is in the
 * cgroup of its own entry, else of its thread group leader's entry, else
 * in the root. Writing a pid to cgroup.procs moves the thread group (the
 * leader's entry, dropping its threads' own), to tasks one thread. Entries
 * of exited tasks are ignored and pruned. Tasks come from the instance's
 * default task table (fsimpl/kernfs/task_internal.h).
 *
 * Locks: hier_lock (the hierarchy registry, ids) → cg_fs.lock (each
 * hierarchy's tree links and membership) → the task table's lock. */
#include "fsimpl/cgroup/cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsimpl/cgroup/internal.h"

enum { C_CPU = 1, C_CPUACCT = 2, C_CPUSET = 4, C_MEMORY = 8, C_JOB = 16, C_ALL = 31 };
/* In Linux's subsystem order (/proc/cgroups: cpuset, cpu, cpuacct, blkio,
 * memory, ...), the order it joins a hierarchy's controllers in for
 * mountinfo and /proc/[pid]/cgroup; gVisor's job, not Linux's, last. */
static const struct {
	const char *name;
	unsigned bit;
} controllers[] = {
	{ "cpuset", C_CPUSET }, { "cpu", C_CPU }, { "cpuacct", C_CPUACCT }, { "memory", C_MEMORY }, { "job", C_JOB },
};
#define NCTL (sizeof controllers / sizeof controllers[0])

struct cg_fs;

/* One cgroup: the node data of its directory and of the files in it. */
struct cgroup {
	atomic_long refs; /* its parent's list link (until rmdir; the fs's for the root) + nodes' + members' */
	atomic_bool removed; /* set once, at rmdir: its nodes go stale */
	struct cg_fs *fs; /* immutable; no reference (nodes and mounts keep the fs) */
	struct cgroup *parent; /* immutable; a reference (NULL: the root) */
	char *name; /* immutable; "" for the root */
	int64_t serial; /* immutable: readdir offset among its siblings */
	_Atomic int64_t job_id;
	struct cgroup *children, *next; /* under fs->lock; ascending serial */
};

struct member {
	struct task *tk; /* a reference */
	struct cgroup *cg; /* a reference; never the root (no entry means root) */
};

struct cg_fs {
	struct kernfs_fs k;
	struct uvfs *vfs; /* immutable */
	unsigned mask; /* immutable: C_* */
	int id; /* immutable: the hierarchy ID (chosen under hier_lock) */
	struct cgroup *root; /* immutable */
	struct cg_fs *next; /* under hier_lock: the registry */
	pthread_mutex_t lock; /* the tree links, members, next_serial */
	struct member *mem;
	size_t nmem, capmem;
	int64_t next_serial;
};

static pthread_mutex_t hier_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cg_fs *hiers; /* under hier_lock */

static struct cg_fs *CG(struct kernfs_node *n) { return container_of(kernfs_node_fs(n), struct cg_fs, k); }
static struct cgroup *CGRP(struct kernfs_node *n) { return n->data; }

/* ------------------------------------------------------------- cgroups */

static void cgroup_get(struct cgroup *cg) { atomic_fetch_add(&cg->refs, 1); }
static void cgroup_put(struct cgroup *cg)
{
	while (cg && atomic_fetch_sub(&cg->refs, 1) == 1) {
		struct cgroup *parent = cg->parent;
		free(cg->name);
		free(cg);
		cg = parent;
	}
}
static void cd_get(void *d) { cgroup_get(d); }
static void cd_put(void *d) { cgroup_put(d); }
static bool cd_alive(void *d) { return !atomic_load(&((struct cgroup *)d)->removed); }
static const struct kernfs_data_ops cg_dops = { .get = cd_get, .put = cd_put, .alive = cd_alive };

static struct cgroup *cgroup_new(struct cg_fs *fs, struct cgroup *parent, const char *name, size_t len)
{
	struct cgroup *cg = calloc(1, sizeof(*cg));
	if (!cg || !(cg->name = strndup(name, len))) {
		free(cg);
		return NULL;
	}
	atomic_init(&cg->refs, 1);
	cg->fs = fs;
	cg->parent = parent;
	if (parent)
		cgroup_get(parent);
	return cg;
}

/* Drops the tree's own links below cg (the filesystem is going: no node
 * holds any cgroup any more). */
static void cgroup_destroy_tree(struct cgroup *cg)
{
	struct cgroup *c = cg->children;
	cg->children = NULL;
	while (c) {
		struct cgroup *next = c->next;
		cgroup_destroy_tree(c);
		cgroup_put(c);
		c = next;
	}
}

/* ---------------------------------------------------------- membership */

static void prune_members(struct cg_fs *fs)
{
	size_t j = 0;
	for (size_t i = 0; i < fs->nmem; i++) {
		if (atomic_load(&fs->mem[i].tk->dead)) {
			task_put(fs->mem[i].tk);
			cgroup_put(fs->mem[i].cg);
		} else {
			fs->mem[j++] = fs->mem[i];
		}
	}
	fs->nmem = j;
}

static struct member *find_member(struct cg_fs *fs, struct task *tk)
{
	for (size_t i = 0; i < fs->nmem; i++)
		if (fs->mem[i].tk == tk)
			return &fs->mem[i];
	return NULL;
}

/* tk's cgroup (fs->lock held; no reference). */
static struct cgroup *cg_of(struct cg_fs *fs, struct task *tk)
{
	struct member *m = find_member(fs, tk);
	if (m)
		return m->cg;
	for (size_t i = 0; i < fs->nmem; i++) {
		struct task *l = fs->mem[i].tk;
		if (l->tid == tk->pid && l->pid == tk->pid && !atomic_load(&l->dead))
			return fs->mem[i].cg;
	}
	return fs->root;
}

/* Puts tk in cg (fs->lock held): 0 or -ENOMEM. */
static int set_member(struct cg_fs *fs, struct task *tk, struct cgroup *cg)
{
	struct member *m = find_member(fs, tk);
	if (m) {
		cgroup_put(m->cg);
		if (cg == fs->root) {
			task_put(m->tk);
			*m = fs->mem[--fs->nmem];
			return 0;
		}
		cgroup_get(cg);
		m->cg = cg;
		return 0;
	}
	if (cg == fs->root)
		return 0;
	if (fs->nmem == fs->capmem) {
		size_t cap = fs->capmem ? fs->capmem * 2 : 8;
		struct member *v = realloc(fs->mem, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		fs->mem = v;
		fs->capmem = cap;
	}
	task_get(tk);
	cgroup_get(cg);
	fs->mem[fs->nmem++] = (struct member){ .tk = tk, .cg = cg };
	return 0;
}

/* Drops the own entries of tk's group's other threads (fs->lock held). */
static void drop_thread_members(struct cg_fs *fs, struct task *leader)
{
	for (size_t i = 0; i < fs->nmem;) {
		struct member *m = &fs->mem[i];
		if (m->tk != leader && m->tk->pid == leader->pid) {
			task_put(m->tk);
			cgroup_put(m->cg);
			*m = fs->mem[--fs->nmem];
		} else {
			i++;
		}
	}
}

/* "/a/b" for cg into b. Names and parents are immutable. */
static void print_path(struct kernfs_buf *b, struct cgroup *cg)
{
	if (!cg->parent) {
		kernfs_write(b, "/", 1);
		return;
	}
	const char *names[64];
	int n = 0;
	for (struct cgroup *c = cg; c->parent; c = c->parent) {
		if (n == 64) {
			b->err = -ENAMETOOLONG;
			return;
		}
		names[n++] = c->name;
	}
	while (n--)
		kernfs_printf(b, "/%s", names[n]);
}

/* --------------------------------------------------------------- files */

static int show_text(struct kernfs_buf *b, const char *s)
{
	kernfs_write(b, s, strlen(s));
	return 0;
}
static int show_zero(struct kernfs_node *n, struct kernfs_buf *b) { return show_text(b, "0\n"); }
static int show_period(struct kernfs_node *n, struct kernfs_buf *b) { return show_text(b, "100000\n"); }
static int show_quota(struct kernfs_node *n, struct kernfs_buf *b) { return show_text(b, "-1\n"); }
static int show_shares(struct kernfs_node *n, struct kernfs_buf *b) { return show_text(b, "1024\n"); }
static int show_acct_stat(struct kernfs_node *n, struct kernfs_buf *b) { return show_text(b, "user 0\nsystem 0\n"); }
static int show_mems(struct kernfs_node *n, struct kernfs_buf *b) { return show_text(b, "0\n"); }
static int show_limit(struct kernfs_node *n, struct kernfs_buf *b) { return show_text(b, "9223372036854771712\n"); }

static int show_cpus(struct kernfs_node *n, struct kernfs_buf *b)
{
	long nc = sysconf(_SC_NPROCESSORS_ONLN);
	if (nc <= 1)
		kernfs_printf(b, "0\n");
	else
		kernfs_printf(b, "0-%ld\n", nc - 1);
	return 0;
}

static int show_job_id(struct kernfs_node *n, struct kernfs_buf *b)
{
	kernfs_printf(b, "%" PRId64 "\n", atomic_load(&CGRP(n)->job_id));
	return 0;
}

/* An integer with an optional trailing newline (kstrtoll); false if not. */
static bool parse_ll(const char *buf, size_t len, long long *out)
{
	char tmp[32];
	if (len == 0 || len >= sizeof tmp)
		return false;
	memcpy(tmp, buf, len);
	tmp[len] = 0;
	if (tmp[len - 1] == '\n')
		tmp[len - 1] = 0;
	char *end;
	errno = 0;
	long long v = strtoll(tmp, &end, 10);
	if (!tmp[0] || *end || errno)
		return false;
	*out = v;
	return true;
}

static ssize_t store_job_id(struct kernfs_node *n, struct uvfs_file *f, const char *buf, size_t len, uint64_t off)
{
	long long v;
	if (!parse_ll(buf, len, &v))
		return -EINVAL;
	atomic_store(&CGRP(n)->job_id, (int64_t)v);
	return (ssize_t)len;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* tasks: the tids in this cgroup; cgroup.procs: the thread groups with a
 * thread in it (Linux v1), ascending. */
static int show_ids(struct kernfs_node *n, struct kernfs_buf *b, bool procs)
{
	struct cg_fs *fs = CG(n);
	struct cgroup *cg = CGRP(n);
	struct uvfs_tasks *t = tasks_default(fs->vfs);
	if (!t)
		return 0;
	int32_t *ids = NULL;
	size_t nids = 0, cap = 0;
	int err = 0;
	struct task *batch[64];
	int32_t from = 1;
	for (;;) {
		int k = tasks_list(t, from, false, 0, batch, 64);
		pthread_mutex_lock(&fs->lock);
		for (int i = 0; i < k; i++) {
			if (!err && cg_of(fs, batch[i]) == cg) {
				if (nids == cap) {
					size_t nc = cap ? cap * 2 : 64;
					int32_t *v = realloc(ids, nc * sizeof(*v));
					if (!v)
						err = -ENOMEM;
					else {
						ids = v;
						cap = nc;
					}
				}
				if (!err)
					ids[nids++] = procs ? batch[i]->pid : batch[i]->tid;
			}
		}
		pthread_mutex_unlock(&fs->lock);
		for (int i = 0; i < k; i++) {
			from = batch[i]->tid + 1;
			task_put(batch[i]);
		}
		if (k < 64)
			break;
	}
	tasks_put(t);
	if (!err) {
		if (nids)
			qsort(ids, nids, sizeof(*ids), cmp_i32);
		for (size_t i = 0; i < nids; i++)
			if (i == 0 || ids[i] != ids[i - 1])
				kernfs_printf(b, "%d\n", ids[i]);
	}
	free(ids);
	return err;
}
static int show_procs(struct kernfs_node *n, struct kernfs_buf *b) { return show_ids(n, b, true); }
static int show_tasks(struct kernfs_node *n, struct kernfs_buf *b) { return show_ids(n, b, false); }

/* Linux __cgroup1_procs_write: a pid >= 0 (0: the writer itself), ESRCH
 * if no such task. */
static ssize_t store_ids(struct kernfs_node *n, const char *buf, size_t len, bool procs)
{
	struct cg_fs *fs = CG(n);
	struct cgroup *cg = CGRP(n);
	long long v;
	while (len && isspace((unsigned char)buf[len - 1]))
		len--;
	if (!parse_ll(buf, len, &v) || v < 0 || v > INT32_MAX)
		return -EINVAL;
	if (v == 0)
		v = uvfs_current_ctx()->tid;
	struct uvfs_tasks *t = tasks_default(fs->vfs);
	struct task *tk = t && v ? tasks_find(t, (int32_t)v) : NULL;
	if (!tk) {
		if (t)
			tasks_put(t);
		return -ESRCH;
	}
	if (procs && tk->tid != tk->pid) {
		struct task *leader = tasks_find(t, tk->pid);
		if (leader) {
			task_put(tk);
			tk = leader;
		}
	}
	tasks_put(t);
	pthread_mutex_lock(&fs->lock);
	int err = atomic_load(&cg->removed) ? -ENODEV : 0;
	if (!err) {
		prune_members(fs);
		err = set_member(fs, tk, cg);
	}
	if (!err && procs)
		drop_thread_members(fs, tk);
	pthread_mutex_unlock(&fs->lock);
	task_put(tk);
	return err ? err : (ssize_t)len;
}
static ssize_t store_procs(struct kernfs_node *n, struct uvfs_file *f, const char *buf, size_t len, uint64_t off)
{
	ssize_t r = store_ids(n, buf, len, true);
	return r < 0 ? r : (ssize_t)len;
}
static ssize_t store_tasks(struct kernfs_node *n, struct uvfs_file *f, const char *buf, size_t len, uint64_t off)
{
	ssize_t r = store_ids(n, buf, len, false);
	return r < 0 ? r : (ssize_t)len;
}

#define RO(n, fn) { .name = n, .mode = S_IFREG | 0444, .show = fn }
#define RW(n, fn) { .name = n, .mode = S_IFREG | 0644, .show = fn }

static const struct kernfs_entry common[] = {
	RW("cgroup.clone_children", show_zero),
	{ .name = "cgroup.procs", .mode = S_IFREG | 0644, .show = show_procs, .store = store_procs },
	RO("cgroup.sane_behavior", show_zero),
	RW("notify_on_release", show_zero),
	{ .name = "tasks", .mode = S_IFREG | 0644, .show = show_tasks, .store = store_tasks },
	{ 0 },
};

/* Controller files, offered by every cgroup directory's dynamic ops when
 * the hierarchy has the controller. */
static const struct {
	unsigned bit;
	struct kernfs_entry ent;
} ctl_files[] = {
	{ C_CPU, RW("cpu.cfs_period_us", show_period) },
	{ C_CPU, RW("cpu.cfs_quota_us", show_quota) },
	{ C_CPU, RW("cpu.shares", show_shares) },
	{ C_CPUACCT, RO("cpuacct.stat", show_acct_stat) },
	{ C_CPUACCT, RW("cpuacct.usage", show_zero) },
	{ C_CPUACCT, RO("cpuacct.usage_sys", show_zero) },
	{ C_CPUACCT, RO("cpuacct.usage_user", show_zero) },
	{ C_CPUSET, RW("cpuset.cpus", show_cpus) },
	{ C_CPUSET, RW("cpuset.mems", show_mems) },
	{ C_JOB, { .name = "job.id", .mode = S_IFREG | 0644, .show = show_job_id, .store = store_job_id } },
	{ C_MEMORY, RW("memory.limit_in_bytes", show_limit) },
	{ C_MEMORY, RO("memory.usage_in_bytes", show_zero) },
};
#define NFILES (sizeof ctl_files / sizeof ctl_files[0])

static const struct kernfs_entry *find_ctl(struct cg_fs *fs, const char *name, size_t len)
{
	for (size_t i = 0; i < NFILES; i++)
		if ((fs->mask & ctl_files[i].bit) && strlen(ctl_files[i].ent.name) == len &&
		    !memcmp(ctl_files[i].ent.name, name, len))
			return &ctl_files[i].ent;
	return NULL;
}

/* -------------------------------------------------- cgroup directories */

static const struct kernfs_entry cg_dir;

static int cg_lookup(struct kernfs_node *dir, const char *name, size_t len, struct kernfs_node **out)
{
	struct cg_fs *fs = CG(dir);
	*out = NULL;
	const struct kernfs_entry *e = find_ctl(fs, name, len);
	if (e) {
		*out = kernfs_new_node(&fs->k, dir, e, dir->data, 0);
		return *out ? 0 : -ENOMEM;
	}
	pthread_mutex_lock(&fs->lock);
	struct cgroup *c = CGRP(dir)->children;
	while (c && (strlen(c->name) != len || memcmp(c->name, name, len)))
		c = c->next;
	if (c)
		cgroup_get(c);
	pthread_mutex_unlock(&fs->lock);
	if (!c)
		return 0;
	*out = kernfs_new_node(&fs->k, dir, &cg_dir, c, 0);
	cgroup_put(c);
	return *out ? 0 : -ENOMEM;
}

/* Dynamic offsets: the controller files at their index, then the child
 * cgroups at NFILES + their serial (stable while siblings come and go). */
static int cg_iterate(struct kernfs_node *dir, struct uvfs_dir_ctx *ctx, int64_t pos)
{
	struct cg_fs *fs = CG(dir);
	for (int64_t i = pos < 0 ? 0 : pos; i < (int64_t)NFILES; i++) {
		if (!(fs->mask & ctl_files[i].bit))
			continue;
		const char *name = ctl_files[i].ent.name;
		if (kernfs_emit(ctx, dir, name, kernfs_ino(dir->vfs.i_ino, name, strlen(name)), DT_REG, i))
			return 0;
	}
	int64_t serial = pos > (int64_t)NFILES ? pos - (int64_t)NFILES : 0;
	for (;;) {
		char name[256];
		pthread_mutex_lock(&fs->lock);
		struct cgroup *c = CGRP(dir)->children;
		while (c && c->serial < serial)
			c = c->next;
		if (c) {
			snprintf(name, sizeof name, "%s", c->name);
			serial = c->serial;
		}
		pthread_mutex_unlock(&fs->lock);
		if (!c)
			return 0;
		if (kernfs_emit(ctx, dir, name, kernfs_ino(dir->vfs.i_ino, name, strlen(name)), DT_DIR,
				(int64_t)NFILES + serial))
			return 0;
		serial++;
	}
}

static int cg_mkdir(struct kernfs_node *dir, const char *name, size_t len, unsigned flags, struct kernfs_node **out)
{
	struct cg_fs *fs = CG(dir);
	struct cgroup *parent = CGRP(dir);
	if (find_ctl(fs, name, len))
		return -EEXIST;
	struct cgroup *cg = cgroup_new(fs, parent, name, len);
	if (!cg)
		return -ENOMEM;
	pthread_mutex_lock(&fs->lock);
	int err = atomic_load(&parent->removed) ? -ENOENT : 0;
	struct cgroup **tail = &parent->children;
	for (; !err && *tail; tail = &(*tail)->next)
		if (!strcmp((*tail)->name, cg->name))
			err = -EEXIST;
	if (!err) {
		cg->serial = fs->next_serial++;
		*tail = cg; /* the list's reference */
	}
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		cgroup_put(cg);
		return err;
	}
	if (!(*out = kernfs_new_node(&fs->k, dir, &cg_dir, cg, 0)))
		return -ENOMEM; /* the cgroup stays; a lookup finds it */
	return 0;
}

/* Linux cgroup_destroy_locked: EBUSY with tasks or children. */
static int cg_rmdir(struct kernfs_node *dir, struct kernfs_node *n)
{
	struct cg_fs *fs = CG(dir);
	struct cgroup *parent = CGRP(dir), *cg = CGRP(n);
	if (n->ent != &cg_dir)
		return -ENOTDIR;
	pthread_mutex_lock(&fs->lock);
	prune_members(fs);
	int err = cg->children ? -EBUSY : 0;
	for (size_t i = 0; !err && i < fs->nmem; i++)
		if (fs->mem[i].cg == cg)
			err = -EBUSY;
	if (!err) {
		struct cgroup **p = &parent->children;
		while (*p && *p != cg)
			p = &(*p)->next;
		if (*p)
			*p = cg->next;
		else
			err = -ENOENT;
	}
	if (!err)
		atomic_store(&cg->removed, true);
	pthread_mutex_unlock(&fs->lock);
	if (!err)
		cgroup_put(cg); /* the list's reference */
	return err;
}

static const struct kernfs_dyn_ops cg_dyn = { .lookup = cg_lookup, .iterate = cg_iterate };
static const struct kernfs_entry cg_dir = {
	.name = "", .mode = S_IFDIR | 0755, .children = common, .dyn = &cg_dyn, .mkdir = cg_mkdir, .rmdir = cg_rmdir,
};

/* ------------------------------------------------------ /proc/[pid]/cgroup */

static int cmp_id_desc(const void *a, const void *b)
{
	int x = (*(struct cg_fs *const *)a)->id, y = (*(struct cg_fs *const *)b)->id;
	return (x < y) - (x > y);
}

static bool get_live(struct cg_fs *fs);
int cgroup_show_task(struct uvfs *vfs, struct task *tk, struct kernfs_buf *b)
{
	struct cg_fs *v[NCTL]; /* hierarchies of vfs are disjoint: at most one per controller */
	size_t n = 0;
	pthread_mutex_lock(&hier_lock);
	for (struct cg_fs *h = hiers; h && n < NCTL; h = h->next)
		if (h->vfs == vfs && get_live(h))
			v[n++] = h;
	pthread_mutex_unlock(&hier_lock);
	qsort(v, n, sizeof(*v), cmp_id_desc);
	for (size_t i = 0; i < n; i++) {
		struct cg_fs *fs = v[i];
		char ctl[64];
		fs->k.show_options(&fs->k, ctl, sizeof ctl);
		pthread_mutex_lock(&fs->lock);
		struct cgroup *cg = cg_of(fs, tk);
		cgroup_get(cg);
		pthread_mutex_unlock(&fs->lock);
		kernfs_printf(b, "%d:%s:", fs->id, ctl);
		print_path(b, cg);
		kernfs_write(b, "\n", 1);
		cgroup_put(cg);
		uvfs_fs_put(&fs->k.vfs);
	}
	return 0;
}

/* ---------------------------------------------------------------- type */

static int cg_show_options(struct kernfs_fs *k, char *buf, size_t len)
{
	unsigned mask = container_of(k, struct cg_fs, k)->mask;
	size_t n = 0;
	buf[0] = 0;
	for (size_t i = 0; i < NCTL; i++) {
		if (!(mask & controllers[i].bit))
			continue;
		int w = snprintf(buf + n, len - n, "%s%s", n ? "," : "", controllers[i].name);
		if (w < 0 || (size_t)w >= len - n)
			return -ERANGE;
		n += (size_t)w;
	}
	return 0;
}

static void cg_free(struct cg_fs *fs)
{
	for (size_t i = 0; i < fs->nmem; i++) {
		task_put(fs->mem[i].tk);
		cgroup_put(fs->mem[i].cg);
	}
	free(fs->mem);
	if (fs->root) {
		cgroup_destroy_tree(fs->root);
		cgroup_put(fs->root);
	}
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

static void cg_release(struct kernfs_fs *k)
{
	struct cg_fs *fs = container_of(k, struct cg_fs, k);
	pthread_mutex_lock(&hier_lock);
	for (struct cg_fs **p = &hiers; *p; p = &(*p)->next)
		if (*p == fs) {
			*p = fs->next;
			break;
		}
	pthread_mutex_unlock(&hier_lock);
	cg_free(fs);
}

/* uvfs_fs_get unless the last reference is already gone (hier_lock held:
 * release cannot have freed it yet). */
static bool get_live(struct cg_fs *fs)
{
	long r = atomic_load(&fs->k.vfs.refs);
	while (r > 0)
		if (atomic_compare_exchange_weak(&fs->k.vfs.refs, &r, r + 1))
			return true;
	return false;
}

/* The lowest hierarchy ID no live hierarchy of vfs has (hier_lock held). */
static int free_id(struct uvfs *vfs)
{
	for (int id = 1;; id++) {
		bool used = false;
		for (struct cg_fs *h = hiers; h && !used; h = h->next)
			used = h->vfs == vfs && h->id == id && atomic_load(&h->k.vfs.refs) > 0;
		if (!used)
			return id;
	}
}

static int cg_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		     const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	struct uvfs_opts o;
	int err = uvfs_opts_parse(&o, opts ? opts->data : NULL);
	if (err)
		return err;
	unsigned mask = 0;
	bool all = uvfs_opts_take(&o, "all") != NULL;
	for (size_t i = 0; i < NCTL; i++)
		if (uvfs_opts_take(&o, controllers[i].name))
			mask |= controllers[i].bit;
	uint64_t limit;
	err = kernfs_take_common_opts(&o, "cgroup", &limit);
	uvfs_opts_free(&o);
	if (err)
		return err;
	if (all && mask) {
		uvfs_log(UVFS_LOG_ERROR, "cgroup: \"all\" with named controllers");
		return -EINVAL;
	}
	if (!mask)
		mask = C_ALL;

	pthread_mutex_lock(&hier_lock);
	for (struct cg_fs *h = hiers; h; h = h->next) {
		if (h->vfs != vfs || !(h->mask & mask))
			continue;
		if (h->mask == mask && get_live(h)) {
			pthread_mutex_unlock(&hier_lock);
			*out = &h->k.vfs; /* the same hierarchy again */
			return 0;
		}
		if (atomic_load(&h->k.vfs.refs) > 0) {
			pthread_mutex_unlock(&hier_lock);
			return -EBUSY; /* a controller is bound to another hierarchy */
		}
	}
	struct cg_fs *fs = calloc(1, sizeof(*fs));
	if (!fs || (pthread_mutex_init(&fs->lock, NULL), !(fs->root = cgroup_new(fs, NULL, "", 0)))) {
		pthread_mutex_unlock(&hier_lock);
		if (fs)
			cg_free(fs);
		return -ENOMEM;
	}
	fs->vfs = vfs;
	fs->mask = mask;
	fs->id = free_id(vfs);
	fs->k.dops = &cg_dops;
	fs->k.release = cg_release;
	fs->k.magic = UVFS_CGROUP_SUPER_MAGIC;
	fs->k.dead_errno = ENODEV;
	fs->k.show_options = cg_show_options;
	if ((err = kernfs_fs_init(&fs->k, vfs, &uvfs_cgroupfs_type, &cg_dir, fs->root, (unsigned long)limit))) {
		pthread_mutex_unlock(&hier_lock);
		cg_free(fs);
		return err;
	}
	fs->next = hiers;
	hiers = fs;
	pthread_mutex_unlock(&hier_lock);
	*out = &fs->k.vfs;
	return 0;
}

UVFS_API const struct uvfs_fs_type uvfs_cgroupfs_type = { .name = "cgroup", .get_fs = cg_get_fs };
