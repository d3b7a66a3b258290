/* fsimpl/tmpfs/dir.c — directory inode operations and the inode ops tables.
 * Names live only in the VFS dcache (UVFS_FST_DCACHE_COMPLETE): tmpfs keeps
 * no name map, it creates inodes, keeps nlink and times, and instantiates.
 *
 * Locks: the VFS holds every i_lock a directory op writes under (the
 * directories, the victim, the link or rename source; see uvfs_fs.h and
 * vfs/dirops.c); tmpfs takes none. Counters are atomics. */
#include <stdlib.h>

#include "fsimpl/tmpfs/internal.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT (1 << 2)
#endif

/* Entries and subdirectories of dir change (dir's i_lock held): nlink,
 * size, mtime and ctime in one attribute section. */
static void dir_changed(struct uvfs_inode *dir, int subdirs, int entries, struct timespec now)
{
	uvfs_inode_attr_begin(dir);
	dir->i_nlink += subdirs;
	dir->i_size += (int64_t)entries * TMPFS_DIRENT_SIZE;
	dir->i_mtime = now;
	dir->i_ctime = now;
	uvfs_inode_attr_end(dir);
}

/* Drop one name of inode (i_lock held). Every name beyond the first holds
 * an inode slot of nr_inodes, as on Linux: tmpfs names pin memory. */
static void drop_link(struct uvfs_inode *inode, struct timespec now)
{
	if (S_ISDIR(inode->i_mode)) {
		uvfs_inode_attr_begin(inode);
		inode->i_nlink = 0;
		inode->i_ctime = now;
		uvfs_inode_attr_end(inode);
		return;
	}
	if (inode->i_nlink > 1)
		tmpfs_budget_give(&TFS(inode->i_fs)->inodes, 1);
	uvfs_inode_attr_begin(inode);
	if (inode->i_nlink)
		inode->i_nlink--;
	inode->i_ctime = now;
	uvfs_inode_attr_end(inode);
}

/* Create an inode of mode at negative dentry d in dir (i_lock held). */
static int make_node(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
		     dev_t rdev, const char *link)
{
	struct tmpfs_inode *ti;
	int err = tmpfs_new_inode(TFS(dir->i_fs), dir, cred, mode, rdev, link, &ti);
	if (err)
		return err;
	dir_changed(dir, S_ISDIR(mode) ? 1 : 0, 1, ti->vfs.i_ctime); /* a subdir's ".." links dir */
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

/* O_TMPFILE: a regular inode with no name (nlink 0), dir unchanged; it
 * holds its inode slot until evicted, and its first link takes none. */
static int tmpfs_tmpfile(struct uvfs_inode *dir, const struct uvfs_cred *cred, mode_t mode, struct uvfs_inode **out)
{
	struct tmpfs_inode *ti;
	int err = tmpfs_new_inode(TFS(dir->i_fs), dir, cred, S_IFREG | (mode & 07777), 0, NULL, &ti);
	if (err)
		return err;
	ti->vfs.i_nlink = 0; /* not yet published */
	*out = &ti->vfs;
	return 0;
}

/* flags (UVFS_MKDIR_SYNTHETIC) do not matter to a local fs. */
static int tmpfs_mkdir(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
			unsigned flags)
{
	(void)flags;
	if (dir->i_nlink >= UINT32_MAX - 1)
		return -EMLINK;
	return make_node(dir, d, cred, S_IFDIR | (mode & 01777), 0, NULL);
}

static int tmpfs_symlink(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred,
			 const char *target)
{
	return make_node(dir, d, cred, S_IFLNK | 0777, 0, target);
}

/* dir's and old's inode i_locks held. */
static int tmpfs_link(struct uvfs_dentry *old, struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct uvfs_inode *inode = uvfs_dentry_inode(old);
	if (S_ISDIR(inode->i_mode))
		return -EPERM;
	bool first = inode->i_nlink == 0; /* an O_TMPFILE inode's first name */
	if (first && !(inode->i_flags & UVFS_I_LINKABLE))
		return -ENOENT; /* unlinked meanwhile */
	if (inode->i_nlink >= UINT32_MAX - 1)
		return -EMLINK;
	int err = first ? 0 : tmpfs_budget_take(&TFS(dir->i_fs)->inodes, 1);
	if (err)
		return err;
	struct timespec now = uvfs_now();
	uvfs_inode_attr_begin(inode);
	inode->i_nlink++;
	inode->i_ctime = now;
	uvfs_inode_attr_end(inode);
	dir_changed(dir, 0, 1, now);
	uvfs_inode_get(inode); /* consumed by instantiate: one per dentry */
	uvfs_d_instantiate(d, inode);
	return 0;
}

/* dir's and the victim's i_locks held. */
static int tmpfs_unlink(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct timespec now = uvfs_now();
	drop_link(uvfs_dentry_inode(d), now);
	dir_changed(dir, 0, -1, now);
	return 0;
}

/* dir's and the victim's i_locks held. */
static int tmpfs_rmdir(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	if (!uvfs_dcache_dir_empty(d))
		return -ENOTEMPTY;
	struct timespec now = uvfs_now();
	drop_link(uvfs_dentry_inode(d), now);
	dir_changed(dir, -1, -1, now);
	return 0;
}

/* odir's and ndir's i_locks held, and the source's and the victim's.
 * RENAME_WHITEOUT (Linux shmem_whiteout): a char 0:0 inode of mode 0,
 * owned by cred, is made before anything changes (so ENOSPC renames
 * nothing) and instantiated at whiteout, od's name, at the end. */
static int tmpfs_rename(struct uvfs_inode *odir, struct uvfs_dentry *od, struct uvfs_inode *ndir,
			struct uvfs_dentry *nd, unsigned flags, const struct uvfs_cred *cred, struct uvfs_dentry *whiteout)
{
	struct uvfs_inode *src = uvfs_dentry_inode(od);
	struct uvfs_inode *victim = uvfs_dentry_inode(nd);
	struct timespec now = uvfs_now();
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & RENAME_WHITEOUT) && (!whiteout || (flags & RENAME_EXCHANGE)))
		return -EINVAL;
	struct tmpfs_inode *wi = NULL;
	if (victim == src)
		return 0; /* two links of one inode: POSIX says do nothing */
	bool sdir = S_ISDIR(src->i_mode);
	/* Deltas of (subdirs, entries) for odir and ndir. */
	int osub = 0, oent = 0, nsub = 0, nent = 0;

	if (flags & RENAME_EXCHANGE) {
		if (!victim)
			return -ENOENT;
		bool vdir = S_ISDIR(victim->i_mode);
		if (odir != ndir && sdir != vdir) {
			/* The directory changes parent: move its ".." link. */
			osub = sdir ? -1 : 1;
			nsub = -osub;
		}
		tmpfs_touch_c(victim, now);
	} else {
		if (victim && (flags & RENAME_NOREPLACE))
			return -EEXIST;
		if (victim && S_ISDIR(victim->i_mode) && !uvfs_dcache_dir_empty(nd))
			return -ENOTEMPTY;
		if (flags & RENAME_WHITEOUT) {
			int err = tmpfs_new_inode(TFS(odir->i_fs), odir, cred, S_IFCHR, 0, NULL, &wi);
			if (err)
				return err;
			oent++; /* the whiteout keeps od's entry */
		}
		if (victim) {
			if (S_ISDIR(victim->i_mode))
				nsub--;
			drop_link(victim, now);
		} else {
			nent++;
		}
		oent--;
		if (sdir) {
			osub--;
			nsub++;
		}
	}
	tmpfs_touch_c(src, now);
	if (odir == ndir) {
		dir_changed(odir, osub + nsub, oent + nent, now);
	} else {
		dir_changed(odir, osub, oent, now);
		dir_changed(ndir, nsub, nent, now);
	}
	if (wi)
		uvfs_d_instantiate(whiteout, &wi->vfs);
	return 0;
}

static int tmpfs_dir_truncate(struct uvfs_inode *inode, uint64_t size) { return -EISDIR; }

const struct uvfs_inode_ops tmpfs_dir_iops = {
	.create = tmpfs_create,
	.tmpfile = tmpfs_tmpfile,
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
