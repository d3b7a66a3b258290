/* fsimpl/tmpfs/dir.c — directory inode operations and the inode ops tables.
 * Names live only in the VFS dcache (UVFS_FST_DCACHE_COMPLETE): tmpfs keeps
 * no name map, it creates inodes, keeps nlink and times, and instantiates.
 *
 * Lock order: the VFS holds the directory i_locks (parent before child,
 * both dirs for rename) and the victim's i_lock; tmpfs takes, innermost, the
 * i_lock of a link source or rename source when the VFS does not (see the
 * TMPFS_VFS_LOCKS_* switches in internal.h). */
#include <stdio.h>
#include <stdlib.h>

#include "fsimpl/tmpfs/internal.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif

/* Attribute change of an inode whose i_lock the caller may not hold. */
static void lock_if(struct uvfs_inode *i, bool held)
{
	if (!held)
		uvfs_lock_acquire(&i->i_lock);
}
static void unlock_if(struct uvfs_inode *i, bool held)
{
	if (!held)
		uvfs_lock_release(&i->i_lock);
}

static void add_nlink(struct uvfs_inode *i, int delta)
{
	uvfs_inode_attr_begin(i);
	i->i_nlink += delta;
	uvfs_inode_attr_end(i);
}

/* Create an inode of mode at negative dentry d in dir (i_lock held). */
static int make_node(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
		     dev_t rdev, const char *link)
{
	struct tmpfs_inode *ti;
	int err = tmpfs_new_inode(TFS(dir->i_fs), dir, cred, mode, rdev, link, &ti);
	if (err)
		return err;
	struct timespec now = ti->vfs.i_ctime;
	uvfs_inode_attr_begin(dir);
	if (S_ISDIR(mode))
		dir->i_nlink++; /* the child's ".." */
	dir->i_mtime = now;
	dir->i_ctime = now;
	uvfs_inode_attr_end(dir);
	uvfs_d_instantiate(d, &ti->vfs);
	return 0;
}

static int tmpfs_create(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
			dev_t rdev)
{
	if (!(mode & S_IFMT))
		mode |= S_IFREG;
	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		break;
	default:
		return -EINVAL;
	}
	return make_node(dir, d, cred, (mode & S_IFMT) | (mode & 07777), rdev, NULL);
}

static int tmpfs_mkdir(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode)
{
	if (dir->i_nlink >= UINT32_MAX - 1)
		return -EMLINK;
	return make_node(dir, d, cred, S_IFDIR | (mode & 01777), 0, NULL);
}

static int tmpfs_symlink(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred,
			 const char *target)
{
	return make_node(dir, d, cred, S_IFLNK | 0777, 0, target);
}

static int tmpfs_link(struct uvfs_dentry *old, struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct uvfs_inode *inode = uvfs_dentry_inode(old);
	if (S_ISDIR(inode->i_mode))
		return -EPERM;
	int err = 0;
	struct timespec now = uvfs_now();
	lock_if(inode, TMPFS_VFS_LOCKS_LINK_SOURCE);
	if (inode->i_nlink == 0)
		err = -ENOENT; /* unlinked meanwhile */
	else if (inode->i_nlink >= UINT32_MAX - 1)
		err = -EMLINK;
	if (!err) {
		uvfs_inode_attr_begin(inode);
		inode->i_nlink++;
		inode->i_ctime = now;
		uvfs_inode_attr_end(inode);
	}
	unlock_if(inode, TMPFS_VFS_LOCKS_LINK_SOURCE);
	if (err)
		return err;
	tmpfs_touch_mc(dir, now);
	uvfs_inode_get(inode); /* consumed by instantiate: one per dentry */
	uvfs_d_instantiate(d, inode);
	return 0;
}

static int tmpfs_unlink(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct uvfs_inode *inode = uvfs_dentry_inode(d);
	struct timespec now = uvfs_now();
	lock_if(inode, TMPFS_VFS_LOCKS_UNLINK_VICTIM);
	uvfs_inode_attr_begin(inode);
	if (inode->i_nlink)
		inode->i_nlink--;
	inode->i_ctime = now;
	uvfs_inode_attr_end(inode);
	unlock_if(inode, TMPFS_VFS_LOCKS_UNLINK_VICTIM);
	tmpfs_touch_mc(dir, now);
	return 0;
}

/* Both dir's and d's inode i_locks held. */
static int tmpfs_rmdir(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct uvfs_inode *inode = uvfs_dentry_inode(d);
	if (!uvfs_dcache_dir_empty(d))
		return -ENOTEMPTY;
	struct timespec now = uvfs_now();
	uvfs_inode_attr_begin(inode);
	inode->i_nlink = 0;
	inode->i_ctime = now;
	uvfs_inode_attr_end(inode);
	uvfs_inode_attr_begin(dir);
	dir->i_nlink--;
	dir->i_mtime = now;
	dir->i_ctime = now;
	uvfs_inode_attr_end(dir);
	return 0;
}

/* odir's and ndir's i_locks held, and the replaced victim's. */
static int tmpfs_rename(struct uvfs_inode *odir, struct uvfs_dentry *od, struct uvfs_inode *ndir,
			struct uvfs_dentry *nd, unsigned flags)
{
	struct uvfs_inode *src = uvfs_dentry_inode(od);
	struct uvfs_inode *victim = uvfs_dentry_inode(nd);
	struct timespec now = uvfs_now();
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (victim == src)
		return 0; /* two links of one inode: POSIX says do nothing */

	if (flags & RENAME_EXCHANGE) {
		if (!victim)
			return -ENOENT;
		if (odir != ndir && S_ISDIR(src->i_mode) != S_ISDIR(victim->i_mode)) {
			/* A directory changes parent: move its ".." link. */
			int d = S_ISDIR(src->i_mode) ? 1 : -1;
			add_nlink(odir, -d);
			add_nlink(ndir, d);
		}
		lock_if(victim, TMPFS_VFS_LOCKS_RENAME_SOURCE);
		tmpfs_touch_c(victim, now);
		unlock_if(victim, TMPFS_VFS_LOCKS_RENAME_SOURCE);
	} else {
		if (victim && (flags & RENAME_NOREPLACE))
			return -EEXIST;
		if (victim && S_ISDIR(victim->i_mode) && !uvfs_dcache_dir_empty(nd))
			return -ENOTEMPTY;
		if (victim) {
			uvfs_inode_attr_begin(victim);
			if (S_ISDIR(victim->i_mode))
				victim->i_nlink = 0;
			else if (victim->i_nlink)
				victim->i_nlink--;
			victim->i_ctime = now;
			uvfs_inode_attr_end(victim);
			if (S_ISDIR(victim->i_mode))
				add_nlink(ndir, -1);
		}
		if (S_ISDIR(src->i_mode) && odir != ndir) {
			add_nlink(odir, -1);
			add_nlink(ndir, 1);
		}
	}
	lock_if(src, TMPFS_VFS_LOCKS_RENAME_SOURCE);
	tmpfs_touch_c(src, now);
	unlock_if(src, TMPFS_VFS_LOCKS_RENAME_SOURCE);
	tmpfs_touch_mc(odir, now);
	if (ndir != odir)
		tmpfs_touch_mc(ndir, now);
	return 0;
}

static int tmpfs_dir_truncate(struct uvfs_inode *inode, uint64_t size) { return -EISDIR; }

const struct uvfs_inode_ops tmpfs_dir_iops = {
	.create = tmpfs_create,
	.mkdir = tmpfs_mkdir,
	.symlink = tmpfs_symlink,
	.link = tmpfs_link,
	.unlink = tmpfs_unlink,
	.rmdir = tmpfs_rmdir,
	.rename = tmpfs_rename,
	.truncate = tmpfs_dir_truncate,
	.getxattr = tmpfs_getxattr,
	.setxattr = tmpfs_setxattr,
	.listxattr = tmpfs_listxattr,
	.removexattr = tmpfs_removexattr,
};

const struct uvfs_inode_ops tmpfs_reg_iops = {
	.truncate = tmpfs_truncate,
	.getxattr = tmpfs_getxattr,
	.setxattr = tmpfs_setxattr,
	.listxattr = tmpfs_listxattr,
	.removexattr = tmpfs_removexattr,
};

/* readlink NULL: the VFS copies i_link. */
const struct uvfs_inode_ops tmpfs_symlink_iops = {
	.getxattr = tmpfs_getxattr,
	.setxattr = tmpfs_setxattr,
	.listxattr = tmpfs_listxattr,
	.removexattr = tmpfs_removexattr,
};

const struct uvfs_inode_ops tmpfs_special_iops = {
	.getxattr = tmpfs_getxattr,
	.setxattr = tmpfs_setxattr,
	.listxattr = tmpfs_listxattr,
	.removexattr = tmpfs_removexattr,
};
