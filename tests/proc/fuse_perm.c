/* tests/proc/fuse_perm.c — exports a tmpfs tree with proc and one task
 * (pid 5, uid/gid 1000, an fd 0, environ) through FUSE with allow_other,
 * runs the shell command given (MNT in its environment), then tears down.
 * tests/sh/t_proc_perm.sh uses it to compare the permission answers of
 * MNT/proc/5 with the host's /proc for other users. Not a criterion suite.
 *
 * usage: fuse_perm MOUNTPOINT COMMAND */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsimpl/proc/proc.h"
#include "fsimpl/tmpfs/tmpfs.h"
#include "fuse/fuse_export.h"
#include "vfs/uvfs_fs.h"

static struct uvfs_file *fd0;
static int fd_list(void *arg, int after, int *fds, int max)
{
	if (after >= 0 || max < 1)
		return 0;
	fds[0] = 0;
	return 1;
}
static int fd_get(void *arg, int fd, struct uvfs_file **out)
{
	if (fd != 0)
		return -EBADF;
	uvfs_file_get(fd0);
	*out = fd0;
	return 0;
}
static const struct uvfs_task_fd_ops fd_ops = { .list = fd_list, .get = fd_get };

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: fuse_perm MOUNTPOINT COMMAND\n");
		return 2;
	}
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct uvfs_tasks *tasks;
	struct uvfs_cred root, user;
	struct uvfs_vd rvd;
	uvfs_cred_init_root(&root);
	uvfs_cred_init_user(&user, 1000, 1000);
	int err = uvfs_create(&vfs);
	if (!err)
		err = uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT);
	if (!err)
		err = uvfs_register_fs_type(vfs, &uvfs_proc_type, UVFS_FS_USER_MOUNT);
	if (!err)
		err = uvfs_mntns_new(vfs, &root, "none", "tmpfs", &(struct uvfs_mount_opts){ .data = "mode=755" }, &ns);
	if (err) {
		printf("not ok proc-perm setup: %s\n", strerror(-err));
		return 1;
	}
	uvfs_mntns_root(ns, &rvd);
	struct uvfs_pathop proc = { .root = rvd, .start = rvd, .path = "/proc" };
	struct uvfs_pathop file = { .root = rvd, .start = rvd, .path = "/file" };
	err = uvfs_mkdir_at(vfs, &root, &proc, 0555);
	if (!err)
		err = uvfs_open_at(vfs, &root, &file, O_CREAT | O_RDWR, 0644, 0, &fd0);
	if (!err)
		err = uvfs_tasks_new(vfs, &tasks);
	if (!err)
		err = uvfs_mount_at(vfs, &root, "proc", &proc, "proc", &(struct uvfs_mount_opts){ 0 });
	static const char *const argv5[] = { "/bin/sleep", "300", NULL }, *const envp[] = { "SECRET=1", NULL };
	if (!err)
		err = uvfs_task_register(tasks, &(struct uvfs_task_params){ .pid = 5, .cred = &user, .argv = argv5,
									    .envp = envp, .root = &rvd, .cwd = &rvd,
									    .exe = &rvd, .mntns = ns, .fd_ops = &fd_ops });
	struct uvfs_fuse *fx = NULL;
	if (!err)
		err = uvfs_fuse_start(vfs, ns, argv[1], "allow_other", NULL, &fx);
	if (err) {
		printf("not ok proc-perm start: %s\n", strerror(-err));
		return 1;
	}
	setenv("MNT", argv[1], 1);
	int rc = system(argv[2]);
	uvfs_fuse_stop(fx);
	uvfs_file_put(fd0);
	uvfs_vd_put(&rvd);
	uvfs_tasks_destroy(tasks);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	memset(&live, 0, sizeof live);
	int drc = uvfs_destroy(vfs, &live);
	if (!uvfs_report_teardown(drc, &live))
		printf("not ok proc-perm teardown: live objects\n");
	return rc == 0 ? 0 : 1;
}
