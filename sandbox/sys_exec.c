/* sandbox/sys_exec.c — execve's open: what the kernel checks before it
 * reads a program (do_open_execat + may_open), for interceptors that run
 * programs living in the uvfs tree. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "sandbox/sbx.h"

UVFS_API long uvfs_sbx_open_exec(struct uvfs_sbx_task *t, int dirfd, const char *path, int flags,
				 struct uvfs_file **out)
{
	SBX_CTX(t);
	if (!out)
		return -EFAULT;
	*out = NULL;
	if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	struct sbx_at at;
	unsigned af = ((flags & AT_EMPTY_PATH) ? SBX_AT_EMPTY : 0) | ((flags & AT_SYMLINK_NOFOLLOW) ? 0 : SBX_AT_FOLLOW);
	long err = sbx_at_begin(t, dirfd, path, af, &at);
	if (err)
		return err;
	struct uvfs_vd vd;
	err = uvfs_get_dentry_at(t->vfs, &t->cred, &at.pop, 0, &vd);
	sbx_at_end(&at);
	if (err)
		return err;
	struct uvfs_pathop self = { .root = vd, .start = vd, .path = "", .flags = UVFS_PATH_EMPTY };
	struct statx x;
	err = uvfs_stat_at(t->vfs, &t->cred, &self, STATX_TYPE, &x);
	if (!err && S_ISLNK(x.stx_mode))
		err = -ELOOP; /* AT_SYMLINK_NOFOLLOW named a link (open's O_NOFOLLOW) */
	else if (!err && (!S_ISREG(x.stx_mode) || (uvfs_mount_flags(vd.mount) & UVFS_MNT_NOEXEC)))
		err = -EACCES;
	if (!err)
		err = uvfs_access_at(t->vfs, &t->cred, &self, X_OK);
	if (!err) {
		/* The kernel reads the program itself: exec permission is all
		 * the task needs, so the read open runs with full privilege. */
		struct uvfs_cred k;
		uvfs_cred_init_root(&k);
		err = uvfs_open_at(t->vfs, &k, &self, O_RDONLY, 0, UVFS_OPEN_EXEC, out);
	}
	uvfs_vd_put(&vd);
	return err;
}
