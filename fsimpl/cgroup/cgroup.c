/* fsimpl/cgroup/cgroup.c — cgroupfs v1, the seed of spec §3.8.
 *
 * Mount options: controller names (cpu, cpuacct, cpuset, memory, job) or
 * "all" (the default when none is named), and dentry_cache_limit. "all"
 * with a named controller is EINVAL; a set equal to an existing
 * hierarchy's reuses that hierarchy (the same filesystem); a controller
 * already bound to another hierarchy is EBUSY.
 *
 * Locks: hier_lock guards the hierarchy registry; a cg_fs's job_id is an
 * atomic. Tasks come from the instance's default task table (read under
 * its own lock, see fsimpl/kernfs/task_internal.h). */
#include "fsimpl/cgroup/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsimpl/kernfs/kernfs.h"
#include "fsimpl/kernfs/task_internal.h"

enum { C_CPU = 1, C_CPUACCT = 2, C_CPUSET = 4, C_MEMORY = 8, C_JOB = 16, C_ALL = 31 };
static const struct {
	const char *name;
	unsigned bit;
} controllers[] = {
	{ "cpu", C_CPU }, { "cpuacct", C_CPUACCT }, { "cpuset", C_CPUSET }, { "memory", C_MEMORY }, { "job", C_JOB },
};
#define NCTL (sizeof controllers / sizeof controllers[0])

struct cg_fs {
	struct kernfs_fs k;
	struct uvfs *vfs; /* immutable */
	unsigned mask; /* immutable: C_* */
	_Atomic int64_t job_id;
	struct cg_fs *next; /* under hier_lock: the registry */
};

static pthread_mutex_t hier_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cg_fs *hiers; /* under hier_lock */

static struct cg_fs *CG(struct kernfs_node *n) { return container_of(kernfs_node_fs(n), struct cg_fs, k); }

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
	kernfs_printf(b, "%" PRId64 "\n", atomic_load(&CG(n)->job_id));
	return 0;
}

/* An integer, optional trailing newline (kstrtoll). */
static ssize_t store_job_id(struct kernfs_node *n, struct uvfs_file *f, const char *buf, size_t len, uint64_t off)
{
	char tmp[32];
	if (len == 0 || len >= sizeof tmp)
		return -EINVAL;
	memcpy(tmp, buf, len);
	tmp[len] = 0;
	if (tmp[len - 1] == '\n')
		tmp[len - 1] = 0;
	char *end;
	errno = 0;
	long long v = strtoll(tmp, &end, 10);
	if (!tmp[0] || *end || errno)
		return -EINVAL;
	atomic_store(&CG(n)->job_id, (int64_t)v);
	return (ssize_t)len;
}

/* cgroup.procs: thread group ids; tasks: every tid. Everybody is in the
 * root cgroup. */
static int show_ids(struct kernfs_node *n, struct kernfs_buf *b, bool leaders)
{
	struct uvfs_tasks *t = tasks_default(CG(n)->vfs);
	if (!t)
		return 0;
	struct task *batch[64];
	int32_t from = 1;
	for (;;) {
		int k = tasks_list(t, from, leaders, 0, batch, 64);
		for (int i = 0; i < k; i++) {
			kernfs_printf(b, "%d\n", batch[i]->tid);
			from = batch[i]->tid + 1;
			task_put(batch[i]);
		}
		if (k < 64)
			break;
	}
	tasks_put(t);
	return 0;
}
static int show_procs(struct kernfs_node *n, struct kernfs_buf *b) { return show_ids(n, b, true); }
static int show_tasks(struct kernfs_node *n, struct kernfs_buf *b) { return show_ids(n, b, false); }

#define RO(n, fn) { .name = n, .mode = S_IFREG | 0444, .show = fn }
#define RW(n, fn) { .name = n, .mode = S_IFREG | 0644, .show = fn }

static const struct kernfs_entry common[] = {
	RW("cgroup.clone_children", show_zero), RW("cgroup.procs", show_procs), RO("cgroup.sane_behavior", show_zero),
	RW("notify_on_release", show_zero), RW("tasks", show_tasks), { 0 },
};

/* Controller files, offered by the root's dynamic ops when the
 * hierarchy has the controller. */
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

static int ctl_lookup(struct kernfs_node *dir, const char *name, size_t len, struct kernfs_node **out)
{
	*out = NULL;
	for (size_t i = 0; i < NFILES; i++)
		if ((CG(dir)->mask & ctl_files[i].bit) && strlen(ctl_files[i].ent.name) == len &&
		    !memcmp(ctl_files[i].ent.name, name, len)) {
			*out = kernfs_new_node(kernfs_node_fs(dir), dir, &ctl_files[i].ent, NULL, 0);
			return *out ? 0 : -ENOMEM;
		}
	return 0;
}

static int ctl_iterate(struct kernfs_node *dir, struct uvfs_dir_ctx *ctx, int64_t pos)
{
	for (int64_t i = pos < 0 ? 0 : pos; i < (int64_t)NFILES; i++) {
		if (!(CG(dir)->mask & ctl_files[i].bit))
			continue;
		const char *name = ctl_files[i].ent.name;
		if (kernfs_emit(ctx, dir, name, kernfs_ino(dir->vfs.i_ino, name, strlen(name)), DT_REG, i))
			return 0;
	}
	return 0;
}
static const struct kernfs_dyn_ops ctl_dyn = { .lookup = ctl_lookup, .iterate = ctl_iterate };
static const struct kernfs_entry cg_root = { .name = "", .mode = S_IFDIR | 0555, .children = common, .dyn = &ctl_dyn };

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
	free(fs);
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
	if (!fs) {
		pthread_mutex_unlock(&hier_lock);
		return -ENOMEM;
	}
	fs->vfs = vfs;
	fs->mask = mask;
	fs->k.release = cg_release;
	fs->k.magic = UVFS_CGROUP_SUPER_MAGIC;
	fs->k.show_options = cg_show_options;
	if ((err = kernfs_fs_init(&fs->k, vfs, &uvfs_cgroupfs_type, &cg_root, NULL, (unsigned long)limit))) {
		pthread_mutex_unlock(&hier_lock);
		free(fs);
		return err;
	}
	fs->next = hiers;
	hiers = fs;
	pthread_mutex_unlock(&hier_lock);
	*out = &fs->k.vfs;
	return 0;
}

UVFS_API const struct uvfs_fs_type uvfs_cgroupfs_type = { .name = "cgroup", .get_fs = cg_get_fs };
