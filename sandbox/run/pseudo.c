/* sandbox/run/pseudo.c — /proc, /sys, /dev and /dev/pts inside the run's
 * tree, for the length of the run.
 *
 * The filesystems and devices are the library's own (fsimpl/proc, sys,
 * devtmpfs, devpts; devices/), set up the way boot/ sets up a booted tree:
 * devtmpfs filled through its accessor (UserspaceInit, then the device
 * files), proc shown from a task table that the tracees' tasks register in
 * (proc.c: each tracee process is a task with its host pid as tid, so
 * /proc/self, /proc/$$ and getpid() agree). Types or devices the embedder
 * registered already are kept (-EEXIST is fine). The mounts are connected
 * on the tree's /proc, /sys, /dev, /dev/pts (mount points made when
 * missing) and taken away again at the end, with the directories we made:
 * the tree the run leaves behind is the tree without them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "devices/devices.h"
#include "fsimpl/cgroup/cgroup.h"
#include "fsimpl/devpts/devpts.h"
#include "fsimpl/devtmpfs/devtmpfs.h"
#include "fsimpl/kernfs/task.h"
#include "fsimpl/proc/proc.h"
#include "fsimpl/sys/sys.h"
#include "sandbox/run/internal.h"
#include "vfs/uvfs_fs.h"

/* /dev/tty: the caller's controlling terminal, ENXIO without one (pty.c;
 * uvfs_devices_register borrows this until uvfs_destroy). */
static const struct uvfs_devices_opts run_dev_opts = { .ctty_open = run_pty_ctty_open };

static const struct {
	const char *path, *type;
	mode_t mode; /* of a mount point we make */
	unsigned flags; /* as a Linux distribution mounts them */
} pseudo_mounts[RUN_NPSEUDO] = {
	{ "/proc", "proc", 0555, UVFS_MNT_NOSUID | UVFS_MNT_NODEV | UVFS_MNT_NOEXEC },
	{ "/sys", "sysfs", 0555, UVFS_MNT_NOSUID | UVFS_MNT_NODEV | UVFS_MNT_NOEXEC },
	{ "/dev", "devtmpfs", 0755, UVFS_MNT_NOSUID },
	{ "/dev/pts", "devpts", 0755, UVFS_MNT_NOSUID | UVFS_MNT_NOEXEC },
};

static int tolerate(int err) { return err == -EEXIST ? 0 : err; }

static int register_types(struct uvfs *vfs)
{
	const struct uvfs_fs_type *types[] = { &uvfs_proc_type, &uvfs_sysfs_type, &uvfs_devtmpfs_type,
					       &uvfs_devpts_type };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int err = tolerate(
			uvfs_register_fs_type(vfs, types[i], i == 3 ? UVFS_FS_USER_LIST : UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST));
		if (err)
			return err;
	}
	/* EBUSY: the device regions are registered already (a booted tree
	 * registered its own devices; they stay) */
	int err = uvfs_devices_register(vfs, &run_dev_opts);
	if (err && err != -EBUSY && err != -EEXIST)
		return err;
	err = uvfs_devpts_register_devices(vfs);
	return err == -EBUSY ? 0 : tolerate(err);
}

/* What the tree already has mounted at path (a booted bundle): 1 when path
 * is the root of a mount of type, else 0. */
static int mounted_here(struct run_sup *s, const struct uvfs_cred *cr, const char *path, const char *type)
{
	struct uvfs_pathop pop = { .root = s->root, .start = s->root, .path = path, .flags = UVFS_PATH_FOLLOW };
	struct uvfs_file *f;
	if (uvfs_open_at(s->vfs, cr, &pop, O_PATH | O_DIRECTORY, 0, 0, &f))
		return 0;
	struct uvfs_vd vd;
	uvfs_file_vd(f, &vd);
	int r = vd.dentry == uvfs_mount_root(vd.mount) && !strcmp(uvfs_mount_fs(vd.mount)->type->name, type);
	uvfs_vd_put(&vd);
	uvfs_file_put(f);
	return r;
}

/* Makes path a directory if nothing is there; true when we made it. */
static bool make_point(struct run_sup *s, const struct uvfs_cred *cr, const char *path, mode_t mode)
{
	struct uvfs_pathop pop = { .root = s->root, .start = s->root, .path = path };
	if (uvfs_mkdir_at(s->vfs, cr, &pop, mode))
		return false;
	/* mkdir applies no umask here, but keep the mode exact */
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = mode };
	uvfs_setstat_at(s->vfs, cr, &pop, &a, 0);
	return true;
}

int run_pseudo_setup(struct run_sup *s)
{
	struct uvfs_cred cr;
	uvfs_cred_init_root(&cr);
	int err = register_types(s->vfs);
	if (!err)
		err = uvfs_tasks_new(s->vfs, &s->tasks_table);
	if (err)
		return err;
	err = uvfs_devtmpfs_accessor_new(s->vfs, &s->dev);
	if (!err)
		err = tolerate(uvfs_devtmpfs_userspace_init(s->dev));
	if (!err) {
		err = uvfs_devtmpfs_create_device_files(s->dev, &run_dev_opts);
		if (err == -EEXIST) /* filled by an earlier run of this instance */
			err = 0;
	}
	for (int i = 0; !err && i < RUN_NPSEUDO; i++) {
		struct uvfs_proc_internal pi = { .tasks = s->tasks_table };
		bool proc = !strcmp(pseudo_mounts[i].type, "proc");
		if (mounted_here(s, &cr, pseudo_mounts[i].path, pseudo_mounts[i].type)) {
			/* A booted tree's own: kept, except proc, whose task
			 * table (the boot's init) knows nothing of the tracees:
			 * ours replaces it for good. */
			if (!proc)
				continue;
			struct uvfs_pathop pop = { .root = s->root, .start = s->root, .path = pseudo_mounts[i].path };
			uvfs_umount_at(s->vfs, &cr, &pop, UVFS_UMOUNT_DETACH);
		}
		struct uvfs_mount *mnt;
		err = uvfs_mount_disconnected(s->vfs, &cr, pseudo_mounts[i].type, pseudo_mounts[i].type,
					      &(struct uvfs_mount_opts){ .flags = pseudo_mounts[i].flags,
									 .internal = proc ? &pi : NULL,
									 .internal_mount = true },
					      &mnt);
		if (err)
			break;
		s->made_point[i] = make_point(s, &cr, pseudo_mounts[i].path, pseudo_mounts[i].mode);
		struct uvfs_pathop pop = { .root = s->root, .start = s->root, .path = pseudo_mounts[i].path,
					   .flags = UVFS_PATH_FOLLOW };
		err = uvfs_connect_mount_at(s->vfs, &cr, mnt, &pop);
		uvfs_mount_put(mnt);
		if (err) {
			fprintf(stderr, "uvfs run: mounting %s on %s: %s\n", pseudo_mounts[i].type, pseudo_mounts[i].path,
				strerror(-err));
			if (s->made_point[i]) {
				uvfs_rmdir_at(s->vfs, &cr, &pop);
				s->made_point[i] = false;
			}
			err = 0; /* a tree whose /proc is a file: run without it */
			continue;
		}
		s->mounted[i] = true;
	}
	return err;
}

void run_pseudo_teardown(struct run_sup *s)
{
	struct uvfs_cred cr;
	uvfs_cred_init_root(&cr);
	/* the tasks hold vds and the namespace: gone before the unmounts */
	if (s->tasks_table)
		uvfs_tasks_destroy(s->tasks_table);
	s->tasks_table = NULL;
	for (int i = RUN_NPSEUDO - 1; i >= 0; i--) {
		struct uvfs_pathop pop = { .root = s->root, .start = s->root, .path = pseudo_mounts[i].path };
		if (s->mounted[i])
			uvfs_umount_at(s->vfs, &cr, &pop, UVFS_UMOUNT_DETACH);
		if (s->made_point[i])
			uvfs_rmdir_at(s->vfs, &cr, &pop);
		s->mounted[i] = s->made_point[i] = false;
	}
	if (s->dev)
		uvfs_devtmpfs_accessor_release(s->dev);
	s->dev = NULL;
}

bool run_pseudo_fs(struct run_sup *s, struct uvfs_file *f)
{
	(void)s;
	struct uvfs_vd vd;
	uvfs_file_vd(f, &vd);
	const struct uvfs_fs_type *t = uvfs_mount_fs(vd.mount)->type;
	uvfs_vd_put(&vd);
	return t == &uvfs_proc_type || t == &uvfs_sysfs_type || t == &uvfs_cgroupfs_type;
}
