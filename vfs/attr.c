/* vfs/attr.c — attribute changes (chmod/chown/truncate/utimes), statfs,
 * access(2) and extended attributes.
 *
 * Lock order: the inode's i_lock is taken here, after any walk. */
#include <linux/capability.h>
#include <stdio.h>
#include <sys/xattr.h>

#include "internal.h"

#define SETATTR_MASK (STATX_MODE | STATX_UID | STATX_GID | STATX_SIZE | STATX_ATIME | STATX_MTIME)

/* gVisor CheckSetStat + Linux setattr_prepare; i_lock held. */
static int check_setattr(const struct uvfs_cred *cred, struct uvfs_inode *inode, const struct uvfs_setattr *a)
{
	bool owner = cred->fsuid == inode->i_uid;
	if ((a->mask & STATX_MODE) && !owner && !uvfs_cred_has_cap(cred, CAP_FOWNER))
		return -EPERM;
	if ((a->mask & STATX_UID) && a->uid != inode->i_uid && !uvfs_cred_has_cap(cred, CAP_CHOWN))
		return -EPERM;
	if ((a->mask & STATX_UID) && a->uid == inode->i_uid && !owner && !uvfs_cred_has_cap(cred, CAP_CHOWN))
		return -EPERM;
	if ((a->mask & STATX_GID) && a->gid != inode->i_gid &&
	    !((owner && uvfs_cred_in_group(cred, a->gid)) || uvfs_cred_has_cap(cred, CAP_CHOWN)))
		return -EPERM;
	if ((a->mask & STATX_GID) && a->gid == inode->i_gid && !owner && !uvfs_cred_has_cap(cred, CAP_CHOWN))
		return -EPERM;
	if (a->mask & (STATX_ATIME | STATX_MTIME)) {
		bool all_now = (!(a->mask & STATX_ATIME) || a->atime.tv_nsec == UTIME_NOW) &&
			       (!(a->mask & STATX_MTIME) || a->mtime.tv_nsec == UTIME_NOW);
		if (!owner && !uvfs_cred_has_cap(cred, CAP_FOWNER)) {
			if (!all_now)
				return -EPERM;
			if (inode_permission(cred, inode, MAY_WRITE))
				return -EACCES;
		}
	}
	return 0;
}

/* Linux setattr_should_drop_sgid: S_ISGID goes if group-executable, or
 * if the caller is neither in the file's group nor has CAP_FSETID. */
static uint32_t sgid_to_drop(const struct uvfs_cred *cred, uint32_t mode, uint32_t gid)
{
	if (!(mode & S_ISGID))
		return 0;
	if (mode & S_IXGRP)
		return S_ISGID;
	return uvfs_cred_in_group(cred, gid) || uvfs_cred_has_cap(cred, CAP_FSETID) ? 0 : S_ISGID;
}

HIDDEN uint32_t suidgid_to_drop(const struct uvfs_cred *cred, uint32_t mode, uint32_t gid)
{
	uint32_t kill = (mode & S_ISUID) | sgid_to_drop(cred, mode, gid);
	return kill && S_ISREG(mode) && !uvfs_cred_has_cap(cred, CAP_FSETID) ? kill : 0;
}

static struct timespec resolve_time(struct timespec t, struct timespec now)
{
	return t.tv_nsec == UTIME_NOW ? now : t;
}

/* Argument checks that need no lock and no permission (Linux's
 * notify_change/do_sys_utimes EINVALs), on a copy with chown(2)'s -1 ids
 * dropped. *chown: the call is a chown even if both ids were -1 (setuid
 * clearing and ctime still apply). */
static int setattr_args(const struct uvfs_inode *inode, struct uvfs_setattr *a, bool *chown)
{
	*chown = a->mask & (STATX_UID | STATX_GID);
	if ((a->mask & STATX_UID) && a->uid == (uint32_t)-1)
		a->mask &= ~(unsigned)STATX_UID;
	if ((a->mask & STATX_GID) && a->gid == (uint32_t)-1)
		a->mask &= ~(unsigned)STATX_GID;
	if (a->mask & ~SETATTR_MASK)
		return -EINVAL;
	if ((a->mask & (STATX_ATIME)) && a->atime.tv_nsec != UTIME_NOW &&
	    (a->atime.tv_nsec < 0 || a->atime.tv_nsec >= 1000000000))
		return -EINVAL;
	if ((a->mask & (STATX_MTIME)) && a->mtime.tv_nsec != UTIME_NOW &&
	    (a->mtime.tv_nsec < 0 || a->mtime.tv_nsec >= 1000000000))
		return -EINVAL;
	if (a->mask & STATX_SIZE) {
		if (S_ISDIR(load_relaxed(inode->i_mode)))
			return -EISDIR;
		if (!S_ISREG(load_relaxed(inode->i_mode)))
			return -EINVAL;
		if ((int64_t)a->size < 0)
			return -EINVAL;
	}
	return 0;
}

/* Permission checks made after write access to the mount is held and
 * before i_lock (the rest, check_setattr, needs i_lock). */
static int setattr_may(const struct uvfs_cred *cred, struct uvfs_inode *inode, const struct uvfs_setattr *a,
		       unsigned flags)
{
	if ((a->mask & STATX_SIZE) && (flags & UVFS_SETATTR_NEED_WRITE) && inode_permission(cred, inode, MAY_WRITE))
		return -EACCES;
	/* Linux notify_change: a symlink's mode cannot change. */
	if ((a->mask & STATX_MODE) && S_ISLNK(load_relaxed(inode->i_mode)))
		return -EOPNOTSUPP;
	return 0;
}

/* The mode after the change, with the setuid/setgid bits that must drop
 * (Linux setattr_copy / chown_common / file_remove_privs). Called under
 * i_lock. -EPERM when a non-owner's chown would have to drop them. */
static int setattr_mode(const struct uvfs_cred *cred, const struct uvfs_inode *inode, const struct uvfs_setattr *a,
			bool chown, uint32_t *modep)
{
	uint32_t mode = (a->mask & STATX_MODE) ? ((inode->i_mode & S_IFMT) | (a->mode & 07777)) : inode->i_mode;
	if ((a->mask & STATX_MODE) && (mode & S_ISGID) && !S_ISDIR(mode)) {
		uint32_t g = (a->mask & STATX_GID) ? a->gid : inode->i_gid;
		if (!uvfs_cred_in_group(cred, g) && !uvfs_cred_has_cap(cred, CAP_FSETID))
			mode &= ~(uint32_t)S_ISGID;
	}
	/* Linux chown_common: any chown of a non-directory kills setuid, even
	 * a no-op one, even by root, and setgid per sgid_to_drop. That mode
	 * change is not forced: a non-owner who would cause it gets EPERM. */
	uint32_t gid = inode->i_gid; /* the group before the change, as Linux */
	if (chown && !S_ISDIR(mode)) {
		uint32_t kill = mode & ((uint32_t)S_ISUID | sgid_to_drop(cred, mode, gid));
		if (kill && cred->fsuid != inode->i_uid && !uvfs_cred_has_cap(cred, CAP_FOWNER))
			return -EPERM;
		mode &= ~kill;
	}
	/* Linux do_truncate: any truncate (same size too) by a caller without
	 * CAP_FSETID kills them, forced (no owner check). */
	if (a->mask & STATX_SIZE)
		mode &= ~suidgid_to_drop(cred, mode, gid);
	*modep = mode;
	return 0;
}

/* Store a fully resolved change (times resolved, full mode) through
 * ->setattr, or through ->truncate and the generic inode fields. Called
 * under i_lock. */
static int setattr_apply(struct uvfs_dentry *d, struct uvfs_file *file, const struct uvfs_setattr *a,
			 struct timespec now)
{
	struct uvfs_inode *inode = d->d_inode;
	if (inode->i_op->setattr)
		return inode->i_op->setattr(d, a, file);
	if (a->mask & STATX_SIZE) {
		int err = inode->i_op->truncate ? inode->i_op->truncate(inode, a->size) : -EINVAL;
		if (err)
			return err;
	}
	uvfs_inode_attr_begin(inode);
	if (a->mask & STATX_MODE)
		store_relaxed(inode->i_mode, a->mode); /* read by lockless walkers */
	if (a->mask & STATX_UID)
		store_relaxed(inode->i_uid, a->uid);
	if (a->mask & STATX_GID)
		store_relaxed(inode->i_gid, a->gid);
	if (a->mask & STATX_ATIME)
		inode->i_atime = a->atime;
	if (a->mask & STATX_MTIME)
		inode->i_mtime = a->mtime;
	inode->i_ctime = now;
	uvfs_inode_attr_end(inode);
	return 0;
}

/* file: the open file the change came through, or NULL (for ->setattr). */
static int do_setattr(struct uvfs_mount *mnt, struct uvfs_dentry *d, struct uvfs_file *file,
		      const struct uvfs_cred *cred, const struct uvfs_setattr *attr, unsigned flags)
{
	struct uvfs_inode *inode = d->d_inode;
	struct uvfs_setattr a = *attr;
	bool chown;
	int err = setattr_args(inode, &a, &chown);
	if (err)
		return err;
	/* A read-only mount answers EROFS before any permission check, as a
	 * read-only Linux superblock does. */
	err = mnt_want_write(mnt);
	if (err)
		return err;
	err = setattr_may(cred, inode, &a, flags);
	if (err)
		goto out_drop;
	uvfs_lock_acquire(&inode->i_lock);
	err = check_setattr(cred, inode, &a);
	if (err)
		goto out;
	struct timespec now = uvfs_now();
	uint32_t mode;
	err = setattr_mode(cred, inode, &a, chown, &mode);
	if (err)
		goto out;
	if ((a.mask & STATX_MODE) || mode != inode->i_mode) {
		a.mask |= STATX_MODE;
		a.mode = mode; /* full mode, file type included */
	}
	if (a.mask & STATX_ATIME)
		a.atime = resolve_time(a.atime, now);
	if (a.mask & STATX_MTIME)
		a.mtime = resolve_time(a.mtime, now);
	if ((a.mask & STATX_SIZE) && !(a.mask & STATX_MTIME)) {
		a.mask |= STATX_MTIME;
		a.mtime = now;
	}
	err = setattr_apply(d, file, &a, now);
out:
	uvfs_lock_release(&inode->i_lock);
	if (!err) /* a size change moved the end of the data */
		watch_inode(mnt->m_vfs, (a.mask & STATX_SIZE) ? UVFS_WATCH_DATA : UVFS_WATCH_ATTR, inode,
			    (a.mask & STATX_SIZE) ? a.size : 0, 0);
out_drop:
	mnt_drop_write(mnt);
	return err;
}

UVFS_API int uvfs_setstat_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			     const struct uvfs_setattr *attr, unsigned flags)
{
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(vfs, cred, pop, 0, &vd);
	if (err)
		return err;
	err = do_setattr(vd.mount, vd.dentry, NULL, cred, attr, flags);
	uvfs_vd_put(&vd);
	return err;
}

UVFS_API int uvfs_file_setstat(struct uvfs_file *f, const struct uvfs_cred *cred, const struct uvfs_setattr *attr)
{
	rcu_enter();
	if (f->f_flags & O_PATH)
		return -EBADF;
	return do_setattr(f->f_vd.mount, f->f_vd.dentry, f, cred, attr, 0);
}

HIDDEN int setattr_truncate(struct uvfs_file *f, const struct uvfs_cred *cred, uint64_t size)
{
	struct uvfs_setattr a = { .mask = STATX_SIZE, .size = size };
	/* ftruncate: permission was checked at open; setuid clearing follows
	 * the opener's privilege (Linux do_truncate with the file). */
	if (!cred)
		cred = &f->f_cred;
	return do_setattr(f->f_vd.mount, f->f_vd.dentry, f, cred, &a, 0);
}

UVFS_API int uvfs_statfs_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			    struct statfs *out)
{
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(vfs, cred, pop, 0, &vd);
	if (err)
		return err;
	struct uvfs_filesystem *fs = vd.mount->m_fs;
	memset(out, 0, sizeof(*out));
	if (fs->ops->statfs)
		err = fs->ops->statfs(fs, out);
	if (!err) {
		out->f_flags = 0;
		unsigned mf = uvfs_mount_flags(vd.mount);
		if (uvfs_mount_readonly(vd.mount)) /* the mount's or its fs's (Linux flags_by_sb) */
			out->f_flags |= ST_RDONLY;
		if (mf & UVFS_MNT_NOEXEC)
			out->f_flags |= ST_NOEXEC;
		if (mf & UVFS_MNT_NOATIME)
			out->f_flags |= ST_NOATIME;
		if (mf & UVFS_MNT_NODEV)
			out->f_flags |= ST_NODEV;
		if (mf & UVFS_MNT_NOSUID)
			out->f_flags |= ST_NOSUID;
		if (!out->f_namelen)
			out->f_namelen = UVFS_NAME_MAX;
	}
	uvfs_vd_put(&vd);
	return err;
}

UVFS_API int uvfs_access_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop, int mode)
{
	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(vfs, cred, pop, 0, &vd);
	if (err)
		return err;
	struct uvfs_inode *inode = vd.dentry->d_inode;
	int mask = ((mode & R_OK) ? MAY_READ : 0) | ((mode & W_OK) ? MAY_WRITE : 0) | ((mode & X_OK) ? MAY_EXEC : 0);
	/* Linux do_faccessat: nothing on a noexec mount is executable, even
	 * for root; checked before the mode bits. */
	if ((mode & X_OK) && S_ISREG(load_relaxed(inode->i_mode)) && (uvfs_mount_flags(vd.mount) & UVFS_MNT_NOEXEC))
		err = -EACCES;
	else if ((mode & W_OK) && uvfs_mount_readonly(vd.mount) &&
	    (S_ISREG(load_relaxed(inode->i_mode)) || S_ISDIR(load_relaxed(inode->i_mode)) || S_ISLNK(load_relaxed(inode->i_mode))))
		err = -EROFS;
	else if (mask)
		err = inode_permission(cred, inode, mask);
	uvfs_vd_put(&vd);
	return err;
}

/* ------------------------------------------------------------------ xattr */

#define XATTR_NAME_MAX_LEN 255
#define XATTR_SIZE_MAX_LEN 65536

enum xattr_ns { XNS_USER, XNS_TRUSTED, XNS_SECURITY, XNS_OTHER };

static enum xattr_ns xattr_ns_of(const char *name)
{
	if (!strncmp(name, "user.", 5))
		return XNS_USER;
	if (!strncmp(name, "trusted.", 8))
		return XNS_TRUSTED;
	if (!strncmp(name, "security.", 9))
		return XNS_SECURITY;
	return XNS_OTHER;
}

/* Linux xattr_permission. */
static int xattr_permission(const struct uvfs_cred *cred, struct uvfs_inode *inode, const char *name, int mask)
{
	size_t len = strlen(name);
	if (len == 0 || len > XATTR_NAME_MAX_LEN)
		return -ERANGE;
	switch (xattr_ns_of(name)) {
	case XNS_SECURITY:
		/* Anyone reads them. Writes: Linux's capability LSM
		 * (cap_inode_setxattr/removexattr; uvfs has no other LSM) wants
		 * CAP_SETFCAP for file capabilities, CAP_SYS_ADMIN for the rest. */
		if (!(mask & MAY_WRITE))
			return 0;
		if (!strcmp(name, "security.capability"))
			return uvfs_cred_has_cap(cred, CAP_SETFCAP) ? 0 : -EPERM;
		return uvfs_cred_has_cap(cred, CAP_SYS_ADMIN) ? 0 : -EPERM;
	case XNS_TRUSTED:
		if (!uvfs_cred_has_cap(cred, CAP_SYS_ADMIN))
			return (mask & MAY_WRITE) ? -EPERM : -ENODATA;
		return 0;
	case XNS_USER: {
		uint32_t mode = load_relaxed(inode->i_mode);
		if (!S_ISREG(mode) && !S_ISDIR(mode))
			return (mask & MAY_WRITE) ? -EPERM : -ENODATA;
		if (S_ISDIR(mode) && (mode & S_ISVTX) && (mask & MAY_WRITE) && !inode_owner_or_capable(cred, inode))
			return -EPERM;
		if (name[5] == 0)
			return -EINVAL;
		return inode_permission(cred, inode, mask);
	}
	default:
		return -EOPNOTSUPP;
	}
}

UVFS_API ssize_t uvfs_getxattr_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
				  const char *name, void *buf, size_t len)
{
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(vfs, cred, pop, 0, &vd);
	if (err)
		return err;
	struct uvfs_inode *inode = vd.dentry->d_inode;
	ssize_t n = xattr_permission(cred, inode, name, MAY_READ);
	if (!n) {
		if (!inode->i_op->getxattr) {
			n = -EOPNOTSUPP;
		} else {
			uvfs_lock_acquire(&inode->i_lock);
			n = inode->i_op->getxattr(vd.dentry, inode, name, buf, len);
			uvfs_lock_release(&inode->i_lock);
		}
	}
	uvfs_vd_put(&vd);
	return n;
}

static int xattr_change(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			const char *name, const void *val, size_t len, int flags, bool remove)
{
	if (!remove) {
		if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
			return -EINVAL;
		if (len > XATTR_SIZE_MAX_LEN)
			return -E2BIG;
	}
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(vfs, cred, pop, 0, &vd);
	if (err)
		return err;
	struct uvfs_inode *inode = vd.dentry->d_inode;
	if ((err = mnt_want_write(vd.mount)))
		goto out;
	if (!(err = xattr_permission(cred, inode, name, MAY_WRITE))) {
		if (remove ? !inode->i_op->removexattr : !inode->i_op->setxattr) {
			err = -EOPNOTSUPP;
		} else {
			uvfs_lock_acquire(&inode->i_lock);
			err = remove ? inode->i_op->removexattr(vd.dentry, inode, name)
				     : inode->i_op->setxattr(vd.dentry, inode, name, val, len, flags);
			if (!err) {
				uvfs_inode_attr_begin(inode);
				inode->i_ctime = uvfs_now();
				uvfs_inode_attr_end(inode);
			}
			uvfs_lock_release(&inode->i_lock);
			if (!err)
				watch_inode(vfs, UVFS_WATCH_ATTR, inode, 0, 0);
		}
	}
	mnt_drop_write(vd.mount);
out:
	uvfs_vd_put(&vd);
	return err;
}

UVFS_API int uvfs_setxattr_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			      const char *name, const void *val, size_t len, int flags)
{
	return xattr_change(vfs, cred, pop, name, val, len, flags, false);
}

UVFS_API int uvfs_removexattr_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
				 const char *name)
{
	return xattr_change(vfs, cred, pop, name, NULL, 0, 0, true);
}

UVFS_API ssize_t uvfs_listxattr_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
				   char *buf, size_t len)
{
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(vfs, cred, pop, 0, &vd);
	if (err)
		return err;
	struct uvfs_inode *inode = vd.dentry->d_inode;
	ssize_t n = 0;
	if (inode->i_op->listxattr) {
		uvfs_lock_acquire(&inode->i_lock);
		ssize_t full = inode->i_op->listxattr(vd.dentry, inode, NULL, 0);
		char *all = full > 0 ? malloc((size_t)full) : NULL;
		if (full > 0 && !all)
			n = -ENOMEM;
		else if (full > 0)
			full = inode->i_op->listxattr(vd.dentry, inode, all, (size_t)full);
		uvfs_lock_release(&inode->i_lock);
		if (full < 0)
			n = full;
		/* trusted.* is invisible without CAP_SYS_ADMIN (Linux). */
		bool admin = uvfs_cred_has_cap(cred, CAP_SYS_ADMIN);
		for (ssize_t off = 0; n >= 0 && all && off < full;) {
			size_t l = strnlen(all + off, (size_t)(full - off)) + 1;
			if (admin || xattr_ns_of(all + off) != XNS_TRUSTED) {
				if (len) {
					if ((size_t)n + l > len) {
						n = -ERANGE;
						break;
					}
					memcpy(buf + n, all + off, l);
				}
				n += (ssize_t)l;
			}
			off += (ssize_t)l;
		}
		free(all);
	}
	uvfs_vd_put(&vd);
	return n;
}
