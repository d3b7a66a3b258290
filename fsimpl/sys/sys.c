/* fsimpl/sys/sys.c — sysfs: devices/system/cpu/{online,possible,present,
 * kernel_max, cpuN/}, fs/ (synthetic mount points only), kernel/, and the
 * empty block/ bus/ class/ dev/ firmware/ module/ power/. */
#include "fsimpl/sys/sys.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsimpl/kernfs/kernfs.h"
#include "fsimpl/kernfs/task_internal.h"

struct sys_fs {
	struct kernfs_fs k;
	pthread_mutex_t lock; /* names */
	char **names; /* under lock: /sys/fs's synthetic directories, in creation order */
	size_t nnames;
};

static struct sys_fs *SYS(struct kernfs_node *n) { return container_of(kernfs_node_fs(n), struct sys_fs, k); }

/* ---------------------------------------------------------------- cpus */

/* The CPU count now: the default task table's (uvfs_tasks_set_ncpus), else
 * the host's. Asked at each open, lookup, listing and revalidation rather
 * than kept, so a change shows at once, and on a sysfs mounted before the
 * table existed. */
static int ncpus(struct kernfs_node *n)
{
	struct uvfs *vfs = kernfs_node_fs(n)->vfs.vfs;
	struct uvfs_tasks *t = tasks_default(vfs);
	long nc = t ? tasks_ncpus(t) : sysconf(_SC_NPROCESSORS_ONLN);
	if (t)
		tasks_put(t);
	return nc > 0 ? (int)nc : 1;
}

static int show_cpus(struct kernfs_node *n, struct kernfs_buf *b)
{
	int nc = ncpus(n);
	if (nc == 1)
		kernfs_printf(b, "0\n");
	else
		kernfs_printf(b, "0-%d\n", nc - 1);
	return 0;
}

static int show_kernel_max(struct kernfs_node *n, struct kernfs_buf *b)
{
	kernfs_printf(b, "%d\n", ncpus(n) - 1);
	return 0;
}

/* A cpuN looked up before the count shrank goes stale. */
static bool cpu_valid(struct kernfs_node *n) { return n->idx < ncpus(n); }
static const struct kernfs_entry cpu_dir = { .name = "cpu", .mode = S_IFDIR | 0755, .valid = cpu_valid };

static bool parse_cpu(const char *name, size_t len, int *out)
{
	if (len < 4 || len > 8 || memcmp(name, "cpu", 3) || (name[3] == '0' && len > 4))
		return false;
	int v = 0;
	for (size_t i = 3; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (name[i] - '0');
	}
	*out = v;
	return true;
}

static int cpus_lookup(struct kernfs_node *dir, const char *name, size_t len, struct kernfs_node **out)
{
	int c;
	*out = NULL;
	if (!parse_cpu(name, len, &c) || c >= ncpus(dir))
		return 0;
	*out = kernfs_new_node(kernfs_node_fs(dir), dir, &cpu_dir, NULL, kernfs_ino(dir->vfs.i_ino, name, len));
	if (!*out)
		return -ENOMEM;
	(*out)->idx = c;
	return 0;
}

static int cpus_iterate(struct kernfs_node *dir, struct uvfs_dir_ctx *ctx, int64_t pos)
{
	int nc = ncpus(dir);
	for (int64_t c = pos; c < nc; c++) {
		char s[16];
		snprintf(s, sizeof s, "cpu%d", (int)c);
		if (kernfs_emit(ctx, dir, s, kernfs_ino(dir->vfs.i_ino, s, strlen(s)), DT_DIR, c))
			return 0;
	}
	return 0;
}
static const struct kernfs_dyn_ops cpus_dyn = { .lookup = cpus_lookup, .iterate = cpus_iterate };

/* ------------------------------------------------------------- /sys/fs */

static const struct kernfs_entry synth_dir = { .name = "synthetic", .mode = S_IFDIR | 0755 };

/* Index of name in the list, or -1 (lock held). */
static ssize_t find_name(struct sys_fs *fs, const char *name, size_t len)
{
	for (size_t i = 0; i < fs->nnames; i++)
		if (strlen(fs->names[i]) == len && !memcmp(fs->names[i], name, len))
			return (ssize_t)i;
	return -1;
}

static int fs_lookup(struct kernfs_node *dir, const char *name, size_t len, struct kernfs_node **out)
{
	struct sys_fs *fs = SYS(dir);
	pthread_mutex_lock(&fs->lock);
	bool have = find_name(fs, name, len) >= 0;
	pthread_mutex_unlock(&fs->lock);
	*out = NULL;
	if (!have)
		return 0;
	*out = kernfs_new_node(&fs->k, dir, &synth_dir, NULL, kernfs_ino(dir->vfs.i_ino, name, len));
	return *out ? 0 : -ENOMEM;
}

static int fs_iterate(struct kernfs_node *dir, struct uvfs_dir_ctx *ctx, int64_t pos)
{
	struct sys_fs *fs = SYS(dir);
	for (int64_t i = pos;; i++) {
		char name[256];
		pthread_mutex_lock(&fs->lock);
		bool have = (size_t)i < fs->nnames;
		if (have)
			snprintf(name, sizeof name, "%s", fs->names[i]);
		pthread_mutex_unlock(&fs->lock);
		if (!have)
			return 0;
		if (kernfs_emit(ctx, dir, name, kernfs_ino(dir->vfs.i_ino, name, strlen(name)), DT_DIR, i))
			return 0;
	}
}

static int fs_mkdir(struct kernfs_node *dir, const char *name, size_t len, unsigned flags, struct kernfs_node **out)
{
	if (!(flags & UVFS_MKDIR_SYNTHETIC))
		return -EPERM;
	struct sys_fs *fs = SYS(dir);
	char *copy = strndup(name, len);
	struct kernfs_node *n = kernfs_new_node(&fs->k, dir, &synth_dir, NULL, kernfs_ino(dir->vfs.i_ino, name, len));
	if (!copy || !n) {
		free(copy);
		if (n)
			uvfs_inode_put(&n->vfs);
		return -ENOMEM;
	}
	pthread_mutex_lock(&fs->lock);
	int err = find_name(fs, name, len) >= 0 ? -EEXIST : 0;
	if (!err) {
		char **v = realloc(fs->names, (fs->nnames + 1) * sizeof(*v));
		if (!v)
			err = -ENOMEM;
		else {
			fs->names = v;
			fs->names[fs->nnames++] = copy;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		free(copy);
		uvfs_inode_put(&n->vfs);
		return err;
	}
	*out = n;
	return 0;
}
static const struct kernfs_dyn_ops fs_dyn = { .lookup = fs_lookup, .iterate = fs_iterate };

/* ---------------------------------------------------------------- tree */

#define DIR(n, ...) { .name = n, .mode = S_IFDIR | 0755, __VA_ARGS__ }
#define RO_FILE(n, fn) { .name = n, .mode = S_IFREG | 0444, .show = fn }

static const struct kernfs_entry cpu_children[] = {
	RO_FILE("kernel_max", show_kernel_max), RO_FILE("online", show_cpus), RO_FILE("possible", show_cpus),
	RO_FILE("present", show_cpus), { 0 },
};
static const struct kernfs_entry system_children[] = { DIR("cpu", .children = cpu_children, .dyn = &cpus_dyn), { 0 } };
static const struct kernfs_entry devices_children[] = { DIR("system", .children = system_children), { 0 } };
static const struct kernfs_entry root_children[] = {
	DIR("block"), DIR("bus"), DIR("class"), DIR("dev"), DIR("devices", .children = devices_children),
	DIR("firmware"), DIR("fs", .dyn = &fs_dyn, .mkdir = fs_mkdir), DIR("kernel"), DIR("module"), DIR("power"),
	{ 0 },
};
static const struct kernfs_entry sys_root = DIR("", .children = root_children);

static void sys_release(struct kernfs_fs *k)
{
	struct sys_fs *fs = container_of(k, struct sys_fs, k);
	for (size_t i = 0; i < fs->nnames; i++)
		free(fs->names[i]);
	free(fs->names);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

static int sys_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		      const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	struct uvfs_opts o;
	int err = uvfs_opts_parse(&o, opts ? opts->data : NULL);
	if (err)
		return err;
	uint64_t limit;
	err = kernfs_take_common_opts(&o, "sysfs", &limit);
	uvfs_opts_free(&o);
	if (err)
		return err;
	struct sys_fs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	pthread_mutex_init(&fs->lock, NULL);
	fs->k.release = sys_release;
	fs->k.magic = UVFS_SYSFS_MAGIC;
	if ((err = kernfs_fs_init(&fs->k, vfs, &uvfs_sysfs_type, &sys_root, NULL, (unsigned long)limit))) {
		pthread_mutex_destroy(&fs->lock);
		free(fs);
		return err;
	}
	*out = &fs->k.vfs;
	return 0;
}

UVFS_API const struct uvfs_fs_type uvfs_sysfs_type = { .name = "sysfs", .get_fs = sys_get_fs };
