/* vfs/readlink.c — reading a symlink's target by path. */
#include "internal.h"

/* A jump link reads as the path of its target seen from root (Linux
 * proc_fd_link + d_path), truncated to len as readlink(2) truncates. */
static ssize_t readlink_jump(struct uvfs *vfs, const struct uvfs_vd *root, struct uvfs_dentry *link, char *buf,
			     size_t len)
{
	struct uvfs_vd target = { 0 };
	int err = link->d_inode->i_op->get_link(link, &target);
	if (err)
		return err;
	if (!target.mount || !target.dentry) {
		uvfs_vd_put(&target); /* a broken ->get_link */
		return -EIO;
	}
	char *tmp = malloc(UVFS_PATH_MAX);
	ssize_t n = tmp ? uvfs_vd_path(vfs, root, &target, tmp, UVFS_PATH_MAX, UVFS_VD_PATH_DELETED) : -ENOMEM;
	uvfs_vd_put(&target);
	if (n >= 0) {
		if ((size_t)n > len)
			n = (ssize_t)len;
		memcpy(buf, tmp, (size_t)n);
	}
	free(tmp);
	return n;
}

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
	if (!S_ISLNK(load_relaxed(inode->i_mode)))
		n = -EINVAL;
	else if (inode->i_link) {
		size_t l = strlen(inode->i_link);
		n = (ssize_t)(l < len ? l : len);
		memcpy(buf, inode->i_link, (size_t)n);
	} else if (inode->i_op->readlink)
		n = inode->i_op->readlink(vd.dentry, buf, len);
	else if (inode->i_op->get_link)
		n = readlink_jump(vfs, &pop->root, vd.dentry, buf, len);
	else
		n = -EINVAL;
	uvfs_vd_put(&vd);
	return n;
}
