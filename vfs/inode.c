/* vfs/inode.c — generic inode lifetime and helpers.
 *
 * An inode's reference count counts the dentries pointing at it plus
 * transient holders. At zero the filesystem's evict_inode frees its data
 * and, after an RCU grace period (lockless walkers may still be reading
 * the inode's attributes or i_link), free_inode frees the memory. */
#include <sys/sysmacros.h>

#include "internal.h"

UVFS_API void uvfs_inode_init(struct uvfs_inode *inode, struct uvfs_filesystem *fs, const struct uvfs_inode_ops *iop,
			      const struct uvfs_file_ops *fop, uint64_t ino, mode_t mode)
{
	memset(inode, 0, sizeof(*inode));
	inode->i_fs = fs;
	inode->i_op = iop;
	inode->i_fop = fop;
	inode->i_ino = ino;
	inode->i_mode = mode;
	inode->i_nlink = 1;
	struct timespec now = uvfs_now();
	inode->i_atime = inode->i_mtime = inode->i_ctime = inode->i_btime = now;
	atomic_init(&inode->i_count, 1);
	LIVE_INC(fs->vfs, inodes);
}

UVFS_API void uvfs_inode_init_owner(struct uvfs_inode *inode, const struct uvfs_inode *dir,
				    const struct uvfs_cred *cred, mode_t *mode)
{
	inode->i_uid = cred->fsuid;
	if (dir && (dir->i_mode & S_ISGID)) {
		inode->i_gid = dir->i_gid;
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	} else {
		inode->i_gid = cred->fsgid;
	}
	/* A setgid file created in a setgid dir by a non-member loses S_ISGID
	 * (Linux inode_init_owner). */
	if (!S_ISDIR(*mode) && (*mode & S_ISGID) && (*mode & S_IXGRP) && !uvfs_cred_in_group(cred, inode->i_gid) &&
	    !uvfs_cred_has_cap(cred, 4 /* CAP_FSETID */))
		*mode &= ~(mode_t)S_ISGID;
	inode->i_mode = (uint32_t)*mode;
}

UVFS_API void uvfs_inode_get(struct uvfs_inode *inode)
{
	atomic_fetch_add_explicit(&inode->i_count, 1, memory_order_relaxed);
}

static void inode_free_rcu(struct rcu_head *h)
{
	RCU_CALLBACK_ENTER();
	struct uvfs_inode *inode = container_of(h, struct uvfs_inode, i_rcu);
	inode->i_fs->ops->free_inode(inode);
	RCU_CALLBACK_EXIT();
}

UVFS_API void uvfs_inode_put(struct uvfs_inode *inode)
{
	if (atomic_fetch_sub_explicit(&inode->i_count, 1, memory_order_acq_rel) != 1)
		return;
	struct uvfs_filesystem *fs = inode->i_fs;
	if (fs->ops->evict_inode)
		fs->ops->evict_inode(inode);
	LIVE_DEC(fs->vfs, inodes);
	call_rcu(&inode->i_rcu, inode_free_rcu);
}

UVFS_API struct timespec uvfs_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}
