/* fsimpl/devpts/devpts.c — the devpts filesystem: a tmpfs (root 0555)
 * holding `ptmx`, one per uvfs instance and shared by every mount of the
 * type (gVisor's singleton), remembered weakly as devtmpfs's is (see
 * fsimpl/devtmpfs/devtmpfs.c): get_fs revives it only while its count is
 * above zero, and its release drops the instance. Replica nodes are made
 * and removed by pty.c through the VFS.
 *
 * Lock: devpts_mu (internal.h) protects the instance list; get_fs holds it
 * across the creation so two first mounts make one filesystem. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "fsimpl/devpts/internal.h"

DP_HIDDEN pthread_mutex_t devpts_mu = PTHREAD_MUTEX_INITIALIZER;
static struct devpts_inst *instances; /* under devpts_mu */
static struct uvfs_fs_ops devpts_fs_ops; /* tmpfs's with release wrapped; set under devpts_mu */
static const struct uvfs_fs_ops *tmpfs_fs_ops;

DP_HIDDEN struct devpts_inst *devpts_find(struct uvfs *vfs)
{
	for (struct devpts_inst *i = instances; i; i = i->next)
		if (i->vfs == vfs && atomic_load(&i->fs->refs) > 0)
			return i;
	return NULL;
}

DP_HIDDEN bool devpts_is(const struct uvfs_filesystem *fs) { return fs->type == &uvfs_devpts_type; }

static void devpts_release(struct uvfs_filesystem *fs)
{
	pthread_mutex_lock(&devpts_mu);
	for (struct devpts_inst **pp = &instances; *pp; pp = &(*pp)->next) {
		if ((*pp)->fs == fs) {
			struct devpts_inst *i = *pp;
			*pp = i->next;
			free(i->ptys); /* every master is closed: they held a mount */
			free(i);
			break;
		}
	}
	const struct uvfs_fs_ops *inner = tmpfs_fs_ops;
	pthread_mutex_unlock(&devpts_mu);
	inner->release(fs);
}

static bool fs_tryget(struct uvfs_filesystem *fs)
{
	long r = atomic_load(&fs->refs);
	while (r > 0)
		if (atomic_compare_exchange_weak(&fs->refs, &r, r + 1))
			return true;
	return false;
}

/* ptmx 5:2 0666 in a fresh devpts, through a private mount of it. */
static int make_ptmx(struct uvfs *vfs, struct uvfs_filesystem *fs, const struct uvfs_cred *root)
{
	struct uvfs_mount *m;
	int err = uvfs_new_disconnected_mount(vfs, fs, fs->root, &(struct uvfs_mount_opts){ 0 }, &m);
	if (err)
		return err;
	struct uvfs_vd r = { m, fs->root };
	struct uvfs_pathop p = { .root = r, .start = r, .path = "ptmx" };
	err = uvfs_mknod_at(vfs, root, &p, S_IFCHR | 0666, makedev(UVFS_TTYAUX_MAJOR_DP, UVFS_PTMX_MINOR));
	uvfs_mount_put(m);
	return err;
}

static int devpts_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
			 const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	if (opts && opts->data && *opts->data) {
		uvfs_log(UVFS_LOG_WARN, "devpts: mount data must be empty: \"%s\"", opts->data);
		return -EINVAL;
	}
	int err = 0;
	pthread_mutex_lock(&devpts_mu);
	for (struct devpts_inst *i = instances; i; i = i->next) {
		if (i->vfs == vfs && fs_tryget(i->fs)) {
			*out = i->fs;
			goto out;
		}
	}
	struct devpts_inst *inst = calloc(1, sizeof(*inst));
	if (!inst) {
		err = -ENOMEM;
		goto out;
	}
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	struct uvfs_filesystem *fs;
	if ((err = uvfs_tmpfs_type.get_fs(vfs, &root, source, &(struct uvfs_fs_opts){ .data = "mode=0555" }, &fs))) {
		free(inst);
		goto out;
	}
	if (!tmpfs_fs_ops) {
		tmpfs_fs_ops = fs->ops;
		devpts_fs_ops = *fs->ops;
		devpts_fs_ops.release = devpts_release;
	}
	/* Not published yet: type and ops may still change. */
	fs->ops = &devpts_fs_ops;
	fs->type = &uvfs_devpts_type;
	inst->vfs = vfs;
	inst->fs = fs;
	inst->next = instances;
	instances = inst;
	if ((err = make_ptmx(vfs, fs, &root))) {
		pthread_mutex_unlock(&devpts_mu);
		uvfs_fs_put(fs); /* devpts_release takes devpts_mu and unlists it */
		return err;
	}
	*out = fs;
out:
	pthread_mutex_unlock(&devpts_mu);
	return err;
}

UVFS_API const struct uvfs_fs_type uvfs_devpts_type = {
	.name = "devpts",
	.flags = UVFS_FST_RCU_WALK | UVFS_FST_DCACHE_COMPLETE,
	.get_fs = devpts_get_fs,
};
