/* fsimpl/devpts/devpts.c — the devpts filesystem: a tmpfs (root 0555)
 * holding `ptmx`, one per uvfs instance and shared by every mount of the
 * type (gVisor's singleton; fsimpl/devtmpfs/singleton.h: remembered
 * weakly, the instance's pty table dropped with it). Replica nodes are
 * made and removed by pty.c through the VFS.
 *
 * Lock: devpts_mu (internal.h) is the singleton list's lock and guards the
 * pty tables; creation (ptmx's mknod) runs under it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "fsimpl/devtmpfs/singleton.h"
#include "fsimpl/devpts/internal.h"

DP_HIDDEN pthread_mutex_t devpts_mu = PTHREAD_MUTEX_INITIALIZER;

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

static int devpts_setup(struct uvfs *vfs, struct uvfs_filesystem *fs, void **priv)
{
	struct devpts_inst *inst = calloc(1, sizeof(*inst));
	if (!inst)
		return -ENOMEM;
	*priv = inst;
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	return make_ptmx(vfs, fs, &root);
}

static void devpts_teardown(void *priv)
{
	struct devpts_inst *inst = priv;
	if (inst)
		free(inst->ptys); /* every master is closed: they held a mount */
	free(inst);
}

static struct fs_singletons devpts_singletons = {
	.mu = &devpts_mu,
	.type = &uvfs_devpts_type,
	.tmpfs_data = "mode=0555",
	.setup = devpts_setup,
	.teardown = devpts_teardown,
};

DP_HIDDEN struct devpts_inst *devpts_find(struct uvfs *vfs) { return fs_singleton_find(&devpts_singletons, vfs); }

DP_HIDDEN bool devpts_is(const struct uvfs_filesystem *fs) { return fs->type == &uvfs_devpts_type; }

static int devpts_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
			 const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	if (opts && opts->data && *opts->data) {
		uvfs_log(UVFS_LOG_WARN, "devpts: mount data must be empty: \"%s\"", opts->data);
		return -EINVAL;
	}
	return fs_singleton_get(&devpts_singletons, vfs, source, out);
}

UVFS_API const struct uvfs_fs_type uvfs_devpts_type = {
	.name = "devpts",
	.flags = UVFS_FST_RCU_WALK | UVFS_FST_DCACHE_COMPLETE,
	.get_fs = devpts_get_fs,
};
