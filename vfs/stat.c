/* vfs/stat.c — attributes out: the generic getattr (statx from the inode
 * under its seqcount) and the ->getattr dispatch, in ref mode and (for the
 * RCU-walk stat and stacking filesystems' ->getattr_rcu) lock-free. */
#include "internal.h"

UVFS_API void uvfs_inode_fill_statx(struct uvfs_inode *i, struct statx *st) { inode_fill_statx(i, st); }

HIDDEN int stat_dentry(struct uvfs_dentry *d, unsigned mask, struct statx *out)
{
	struct uvfs_inode *i = d->d_inode;
	if (i->i_op->getattr)
		return i->i_op->getattr(d, mask, out);
	uvfs_inode_fill_statx(i, out);
	return 0;
}

/* Lock-free: the caller is inside an RCU read section. Inlined into the
 * RCU-walk stat (namei.c) through stat_dentry_rcu. */
UVFS_API int uvfs_getattr_rcu(struct uvfs_dentry *d, unsigned mask, struct statx *out)
{
	return stat_dentry_rcu(d, mask, out);
}
