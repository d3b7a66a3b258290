/* vfs/permission.c — permission checks: mode bits against fsuid, groups and
 * capabilities (Linux generic_permission), ownership, sticky directories.
 * Mode, uid and gid are read together under i_seq, so a check never mixes
 * two attribute states (one setattr may change mode and owner at once). */
#include "internal.h"

static int generic_permission(const struct uvfs_cred *cred, uint32_t mode, uint32_t uid, uint32_t gid, int mask)
{
	uint32_t bits;
	if (cred->fsuid == uid)
		bits = (mode >> 6) & 7;
	else if (((mode >> 3) & 7) != (mode & 7) && uvfs_cred_in_group(cred, gid)) /* else it cannot matter */
		bits = (mode >> 3) & 7;
	else
		bits = mode & 7;
	if ((bits & (uint32_t)mask) == (uint32_t)mask)
		return 0;
	bool dir = S_ISDIR(mode);
	/* CAP_DAC_READ_SEARCH: read anything, search directories. */
	if (uvfs_cred_has_cap(cred, 2) && !(mask & MAY_WRITE) && (dir || !(mask & MAY_EXEC)))
		return 0;
	/* CAP_DAC_OVERRIDE: anything on directories; read/write on files;
	 * exec on files only if some x bit is set. */
	if (uvfs_cred_has_cap(cred, 1)) {
		if (dir || !(mask & MAY_EXEC) || (mode & 0111))
			return 0;
	}
	return -EACCES;
}

/* Mode, uid and gid of one attribute state. Waits for a writer in its
 * attribute section (callers may block; one that holds i_lock never waits,
 * since writers hold it too), or with UVFS_MAY_NOT_BLOCK returns -ECHILD
 * after a bounded spin. */
UVFS_API int uvfs_generic_permission(struct uvfs_inode *inode, const struct uvfs_cred *cred, int mask,
				     unsigned flags)
{
	uint32_t seq, mode, uid, gid;
	do {
		if (!(flags & UVFS_MAY_NOT_BLOCK))
			seq = uvfs_seq_read_begin(&inode->i_seq);
		else if (!uvfs_seq_read_try_begin(&inode->i_seq, &seq))
			return -ECHILD;
		mode = load_relaxed(inode->i_mode);
		uid = load_relaxed(inode->i_uid);
		gid = load_relaxed(inode->i_gid);
	} while (uvfs_seq_read_retry(&inode->i_seq, seq));
	return generic_permission(cred, mode, uid, gid, mask);
}

/* Every permission check of the VFS goes through these two, so a
 * filesystem's ->permission sees them all (walk, open, create, ...). */
HIDDEN int inode_permission(const struct uvfs_cred *cred, struct uvfs_inode *inode, int mask)
{
	if (unlikely(inode->i_op->permission))
		return inode->i_op->permission(inode, cred, mask, 0);
	return uvfs_generic_permission(inode, cred, mask, 0);
}

/* RCU-walk: -ECHILD instead of waiting for a writer (or when the
 * filesystem's op cannot answer without blocking). */
HIDDEN int inode_permission_rcu(const struct uvfs_cred *cred, struct uvfs_inode *inode, int mask)
{
	if (unlikely(inode->i_op->permission))
		return inode->i_op->permission(inode, cred, mask, UVFS_MAY_NOT_BLOCK);
	return uvfs_generic_permission(inode, cred, mask, UVFS_MAY_NOT_BLOCK);
}

HIDDEN bool inode_owner_or_capable(const struct uvfs_cred *cred, const struct uvfs_inode *inode)
{
	return cred->fsuid == load_relaxed(((struct uvfs_inode *)inode)->i_uid) ||
	       uvfs_cred_has_cap(cred, 3 /* CAP_FOWNER */);
}

/* Sticky directories: only the owner of the file or of the directory (or
 * CAP_FOWNER) may delete or rename it. */
HIDDEN int may_delete_sticky(const struct uvfs_cred *cred, struct uvfs_inode *dir, struct uvfs_inode *victim)
{
	if (!(load_relaxed(dir->i_mode) & S_ISVTX))
		return 0;
	if (cred->fsuid == load_relaxed(victim->i_uid) || cred->fsuid == load_relaxed(dir->i_uid) ||
	    uvfs_cred_has_cap(cred, 3))
		return 0;
	return -EPERM;
}
