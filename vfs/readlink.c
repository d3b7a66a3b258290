/* vfs/readlink.c — reading a symlink's target by path. */
#include "internal.h"

UVFS_API ssize_t uvfs_readlink_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
				  char *buf, size_t len)
{
	if (len == 0 || len > INT_MAX)
		return -EINVAL; /* Linux readlinkat: bufsiz <= 0 (an int) */
	struct uvfs_pathop p = *pop;
	p.flags &= ~UVFS_PATH_FOLLOW;
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(vfs, cred, &p, 0, &vd);
	if (err)
		return err;
	struct uvfs_inode *inode = vd.dentry->d_inode;
	ssize_t n;
	if (!S_ISLNK(inode->i_mode))
		n = -EINVAL;
	else if (inode->i_link) {
		size_t l = strlen(inode->i_link);
		n = (ssize_t)(l < len ? l : len);
		memcpy(buf, inode->i_link, (size_t)n);
	} else if (inode->i_op->readlink)
		n = inode->i_op->readlink(vd.dentry, buf, len);
	else
		n = -EINVAL;
	uvfs_vd_put(&vd);
	return n;
}
