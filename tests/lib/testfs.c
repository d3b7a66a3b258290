/* testfs.c — see testfs.h. */
#include "testfs.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct testfs_counters testfs_calls;
struct testfs_policy testfs_policy;
struct uvfs_vd testfs_jump_target;

/* ------------------------------------------------------------ the server */

#define MAX_NODES 4096

struct node {
	uint64_t id, parent;
	char name[64];
	mode_t mode;
	bool alive, stale;
};

static pthread_mutex_t srv_lock = PTHREAD_MUTEX_INITIALIZER;
static struct node nodes[MAX_NODES]; /* under srv_lock */
static int nnodes;
static uint64_t next_id;
static _Atomic unsigned srv_gen;
static struct uvfs_filesystem *last_fs;

void testfs_reset(void)
{
	pthread_mutex_lock(&srv_lock);
	memset(nodes, 0, sizeof nodes);
	nodes[0] = (struct node){ .id = TESTFS_ROOT, .mode = S_IFDIR | 0755, .alive = true };
	nnodes = 1;
	next_id = 2000;
	pthread_mutex_unlock(&srv_lock);
	atomic_store(&srv_gen, 1);
	memset(&testfs_calls, 0, sizeof testfs_calls);
	memset(&testfs_policy, 0, sizeof testfs_policy);
	memset(&testfs_jump_target, 0, sizeof testfs_jump_target);
}

unsigned testfs_gen(void) { return atomic_load(&srv_gen); }

static struct node *find_id(uint64_t id)
{
	for (int i = 0; i < nnodes; i++)
		if (nodes[i].id == id)
			return &nodes[i];
	return NULL;
}

static struct node *find_child(uint64_t parent, const char *name, size_t len)
{
	for (int i = 0; i < nnodes; i++)
		if (nodes[i].alive && nodes[i].parent == parent && strlen(nodes[i].name) == len &&
		    !memcmp(nodes[i].name, name, len))
			return &nodes[i];
	return NULL;
}

static uint64_t add_locked(uint64_t parent, const char *name, mode_t mode)
{
	if (nnodes == MAX_NODES || strlen(name) >= sizeof nodes[0].name)
		return 0;
	struct node *n = &nodes[nnodes++];
	*n = (struct node){ .id = next_id++, .parent = parent, .mode = mode, .alive = true };
	strcpy(n->name, name);
	return n->id;
}

uint64_t testfs_add(uint64_t parent, const char *name, mode_t mode)
{
	pthread_mutex_lock(&srv_lock);
	uint64_t id = add_locked(parent, name, mode);
	pthread_mutex_unlock(&srv_lock);
	atomic_fetch_add(&srv_gen, 1);
	return id;
}

void testfs_remove(uint64_t id)
{
	pthread_mutex_lock(&srv_lock);
	struct node *n = find_id(id);
	if (n)
		n->alive = false;
	pthread_mutex_unlock(&srv_lock);
	atomic_fetch_add(&srv_gen, 1);
}

uint64_t testfs_replace(uint64_t id)
{
	pthread_mutex_lock(&srv_lock);
	uint64_t nid = 0;
	struct node *n = find_id(id);
	if (n && n->alive) {
		n->alive = false;
		n->stale = true;
		struct node old = *n;
		nid = add_locked(old.parent, old.name, old.mode);
		for (int i = 0; nid && i < nnodes; i++)
			if (nodes[i].parent == id)
				nodes[i].parent = nid;
	}
	pthread_mutex_unlock(&srv_lock);
	atomic_fetch_add(&srv_gen, 1);
	return nid;
}

/* ------------------------------------------------------- the filesystem */

struct tf_inode {
	struct uvfs_inode vfs;
	uint64_t id;
};

/* d_fsdata: the server generation at which the dentry was last known right. */
struct tf_dentry {
	_Atomic unsigned gen;
};

static uint64_t ino_id(struct uvfs_inode *i) { return container_of(i, struct tf_inode, vfs)->id; }

static const struct uvfs_inode_ops tf_dir_iops, tf_dir_ao_iops, tf_jump_iops;
static const struct uvfs_inode_ops tf_file_iops = { 0 };

/* Files: a per-open handle in f_private (a gofer's fid), made by ->open or
 * ->atomic_open and freed by ->release, so a test sees both run once. */
static int tf_new_handle(struct uvfs_file *f)
{
	if (!(f->f_private = malloc(1)))
		return -ENOMEM;
	atomic_fetch_add(&testfs_calls.handles_live, 1);
	return 0;
}
static int tf_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	atomic_fetch_add(&testfs_calls.file_opens, 1);
	return tf_new_handle(f);
}
static void tf_file_release(struct uvfs_file *f)
{
	atomic_fetch_add(&testfs_calls.file_releases, 1);
	if (f->f_private) {
		atomic_fetch_sub(&testfs_calls.handles_live, 1);
		free(f->f_private);
	}
}
static ssize_t tf_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	atomic_store(&testfs_calls.read_task, uvfs_current_ctx()->task);
	return 0;
}
static const struct uvfs_file_ops tf_fops = { .open = tf_open, .release = tf_file_release, .read = tf_read };
static const struct uvfs_file_ops tf_dir_fops = { 0 };

static struct uvfs_inode *tf_new_inode(struct uvfs_filesystem *fs, uint64_t id, mode_t mode)
{
	struct tf_inode *ti = calloc(1, sizeof(*ti));
	if (!ti)
		return NULL;
	const struct uvfs_inode_ops *iop = S_ISDIR(mode) ? (testfs_policy.atomic_open ? &tf_dir_ao_iops : &tf_dir_iops)
				       : S_ISLNK(mode)	 ? &tf_jump_iops
							 : &tf_file_iops;
	uvfs_inode_init(&ti->vfs, fs, iop, S_ISDIR(mode) ? &tf_dir_fops : &tf_fops, id, mode);
	ti->vfs.i_nlink = S_ISDIR(mode) ? 2 : 1;
	ti->id = id;
	return &ti->vfs;
}

static int tf_set_fsdata(struct uvfs_dentry *d, unsigned gen)
{
	struct tf_dentry *td = uvfs_dentry_fsdata(d);
	if (!td) {
		if (!(td = calloc(1, sizeof(*td))))
			return -ENOMEM;
		atomic_fetch_add(&testfs_calls.fsdata_live, 1);
		uvfs_dentry_set_fsdata(d, td);
	}
	atomic_store(&td->gen, gen);
	return 0;
}

static int tf_lookup(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	atomic_fetch_add(&testfs_calls.lookups, 1);
	atomic_store(&testfs_calls.lookup_task, uvfs_current_ctx()->task);
	size_t len;
	const char *name = uvfs_dentry_name(d, &len);
	int intr;
	if (len >= 4 && !memcmp(name, "intr", 4) && (intr = uvfs_ctx_interrupted()))
		return intr; /* a remote call cut short by a signal */
	unsigned gen = atomic_load(&srv_gen);
	pthread_mutex_lock(&srv_lock);
	struct node *dn = find_id(ino_id(dir));
	if (!dn || dn->stale) {
		pthread_mutex_unlock(&srv_lock);
		return -ESTALE;
	}
	struct node *c = find_child(dn->id, name, len);
	uint64_t id = c ? c->id : 0;
	mode_t mode = c ? c->mode : 0;
	pthread_mutex_unlock(&srv_lock);
	if (uvfs_dentry_fsdata(d) == NULL && testfs_policy.no_dops == false && tf_set_fsdata(d, gen))
		return -ENOMEM;
	if (id) {
		struct uvfs_inode *i = tf_new_inode(dir->i_fs, id, mode);
		if (!i)
			return -ENOMEM;
		uvfs_d_instantiate(d, i);
	}
	return 0;
}

static int tf_permission(struct uvfs_inode *inode, const struct uvfs_cred *cred, int mask, unsigned flags)
{
	if (flags & UVFS_MAY_NOT_BLOCK) {
		atomic_fetch_add(&testfs_calls.perms_rcu, 1);
		if (testfs_policy.perm_rcu_echild)
			return -ECHILD;
	} else {
		atomic_fetch_add(&testfs_calls.perms, 1);
	}
	if (testfs_policy.deny_uid && cred->fsuid == testfs_policy.deny_uid)
		return -EACCES;
	return uvfs_generic_permission(inode, cred, mask, flags);
}

/* A new regular file on the server, instantiated at d. */
static int tf_make(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode)
{
	size_t len;
	const char *name = uvfs_dentry_name(d, &len);
	char buf[64];
	if (len >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, name, len);
	buf[len] = 0;
	uint64_t id = testfs_add(ino_id(dir), buf, mode);
	struct uvfs_inode *i = id ? tf_new_inode(dir->i_fs, id, mode) : NULL;
	if (!i)
		return -ENOSPC;
	uvfs_inode_init_owner(i, dir, cred, &mode);
	i->i_mode = mode;
	unsigned gen = atomic_load(&srv_gen);
	if (!testfs_policy.no_dops && tf_set_fsdata(d, gen)) {
		uvfs_inode_put(i);
		return -ENOMEM;
	}
	uvfs_d_instantiate(d, i);
	return 0;
}

static int tf_create(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
		     dev_t rdev)
{
	atomic_fetch_add(&testfs_calls.creates, 1);
	return S_ISREG(mode) && !testfs_policy.no_create ? tf_make(dir, d, cred, mode) : -EPERM;
}

static int tf_atomic_open(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
			  struct uvfs_file *f)
{
	atomic_fetch_add(&testfs_calls.atomic_opens, 1);
	if (testfs_policy.no_create)
		return -EPERM;
	int err = tf_new_handle(f);
	if (err)
		return err;
	if ((err = tf_make(dir, d, cred, mode))) {
		atomic_fetch_sub(&testfs_calls.handles_live, 1);
		free(f->f_private);
		f->f_private = NULL;
	}
	return err;
}

static int tf_get_link(struct uvfs_dentry *d, struct uvfs_vd *out)
{
	atomic_fetch_add(&testfs_calls.get_links, 1);
	if (!testfs_jump_target.mount)
		return -ENOENT;
	*out = testfs_jump_target;
	uvfs_vd_get(out);
	return 0;
}

static const struct uvfs_inode_ops tf_dir_iops = { .lookup = tf_lookup,
						   .create = tf_create,
						   .permission = tf_permission };
static const struct uvfs_inode_ops tf_dir_ao_iops = { .lookup = tf_lookup,
						      .create = tf_create,
						      .permission = tf_permission,
						      .atomic_open = tf_atomic_open };
static const struct uvfs_inode_ops tf_jump_iops = { .get_link = tf_get_link };

static int tf_revalidate(struct uvfs_dentry *d, unsigned flags)
{
	struct tf_dentry *td = uvfs_dentry_fsdata(d);
	if (flags & UVFS_LOOKUP_RCU) {
		atomic_fetch_add(&testfs_calls.revalidates_rcu, 1);
		if (testfs_policy.rcu_echild || !td)
			return -ECHILD;
		return atomic_load(&td->gen) == atomic_load(&srv_gen) ? 0 : -ECHILD;
	}
	atomic_fetch_add(flags & UVFS_LOOKUP_REVAL ? &testfs_calls.revalidates_reval : &testfs_calls.revalidates, 1);
	if (testfs_policy.trust_cache && !(flags & UVFS_LOOKUP_REVAL))
		return 0;
	size_t len;
	const char *name = uvfs_dentry_name(d, &len);
	uint64_t pid = ino_id(uvfs_dentry_inode(uvfs_dentry_parent(d)));
	struct uvfs_inode *i = uvfs_dentry_inode(d);
	unsigned gen = atomic_load(&srv_gen);
	pthread_mutex_lock(&srv_lock);
	struct node *pn = find_id(pid);
	struct node *c = pn && !pn->stale ? find_child(pid, name, len) : NULL;
	bool valid = pn && !pn->stale && (i ? c && c->id == ino_id(i) : !c);
	pthread_mutex_unlock(&srv_lock);
	if (valid && td)
		atomic_store(&td->gen, gen);
	return valid ? 0 : 1;
}

static void tf_d_release(struct uvfs_dentry *d)
{
	atomic_fetch_add(&testfs_calls.releases, 1);
	struct tf_dentry *td = uvfs_dentry_fsdata(d);
	if (td) {
		atomic_fetch_sub(&testfs_calls.fsdata_live, 1);
		free(td);
	}
}

static const struct uvfs_dentry_ops tf_dops = { .revalidate = tf_revalidate, .release = tf_d_release };

static void tf_release(struct uvfs_filesystem *fs)
{
	if (last_fs == fs)
		last_fs = NULL;
	free(fs);
}
static void tf_free_inode(struct uvfs_inode *inode) { free(container_of(inode, struct tf_inode, vfs)); }
static const struct uvfs_fs_ops tf_fs_ops = { .release = tf_release, .free_inode = tf_free_inode };

/* Fixed entries: pinned, and never revalidated (no ops on them). */
static int tf_add_static(struct uvfs_dentry *parent, const char *name, uint64_t id, mode_t mode,
			 struct uvfs_dentry **out)
{
	struct uvfs_inode *i = tf_new_inode(uvfs_dentry_inode(parent)->i_fs, id, mode);
	if (!i)
		return -ENOMEM;
	struct uvfs_dentry *d;
	int err = uvfs_d_add_static(parent, name, strlen(name), i, &d);
	if (err) {
		uvfs_inode_put(i);
		return err;
	}
	uvfs_d_set_op(d, NULL);
	if (out)
		*out = d;
	return 0;
}

static int tf_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		     const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	struct uvfs_filesystem *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	int err = uvfs_fs_init(fs, vfs, &testfs_type, &tf_fs_ops);
	if (err) {
		free(fs);
		return err;
	}
	fs->d_op = testfs_policy.no_dops ? NULL : &tf_dops;
	if (testfs_policy.lru_max)
		fs->lru_max = testfs_policy.lru_max < 0 ? 0 : (unsigned long)testfs_policy.lru_max;
	struct uvfs_inode *root = tf_new_inode(fs, TESTFS_ROOT, S_IFDIR | 0755);
	if (!root) {
		uvfs_fs_abort(fs);
		free(fs);
		return -ENOMEM;
	}
	if ((err = uvfs_d_make_root(fs, root, &fs->root))) {
		uvfs_inode_put(root);
		uvfs_fs_abort(fs);
		free(fs);
		return err;
	}
	struct uvfs_dentry *sd;
	if ((err = tf_add_static(fs->root, "fixed", 1000, S_IFREG | 0644, NULL)) ||
	    (err = tf_add_static(fs->root, "static", 1001, S_IFDIR | 0755, &sd))) {
		uvfs_fs_abort(fs);
		free(fs);
		return err;
	}
	uvfs_dentry_inode(sd)->i_flags |= UVFS_I_COMPLETE;
	if ((err = tf_add_static(sd, "s1", 1002, S_IFREG | 0644, NULL)) ||
	    (err = tf_add_static(sd, "s2", 1003, S_IFREG | 0644, NULL))) {
		uvfs_fs_abort(fs);
		free(fs);
		return err;
	}
	last_fs = fs;
	*out = fs;
	return 0;
}

const struct uvfs_fs_type testfs_type = { .name = "testfs", .flags = UVFS_FST_RCU_WALK, .get_fs = tf_get_fs };

struct uvfs_filesystem *testfs_last_fs(void) { return last_fs; }
