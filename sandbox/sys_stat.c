/* sandbox/sys_stat.c — stat family, access, chmod/chown, utimensat,
 * truncate, fallocate, fsync, statfs. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statvfs.h> /* ST_* */

#define SBX_ST_VALID 0x0020 /* the kernel's ST_VALID: f_flags is filled (not in glibc) */
#include <sys/sysmacros.h>

#include "sandbox/sbx.h"

/* struct statx -> the host ABI's struct stat, field by field as the
 * kernel's cp_new_stat. */
static void stat_from_statx(struct stat *st, const struct statx *x)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(x->stx_dev_major, x->stx_dev_minor);
	st->st_ino = x->stx_ino;
	st->st_mode = x->stx_mode;
	st->st_nlink = x->stx_nlink;
	st->st_uid = x->stx_uid;
	st->st_gid = x->stx_gid;
	st->st_rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor);
	st->st_size = (off_t)x->stx_size;
	st->st_blksize = x->stx_blksize;
	st->st_blocks = (blkcnt_t)x->stx_blocks;
	st->st_atim = (struct timespec){ x->stx_atime.tv_sec, x->stx_atime.tv_nsec };
	st->st_mtim = (struct timespec){ x->stx_mtime.tv_sec, x->stx_mtime.tv_nsec };
	st->st_ctim = (struct timespec){ x->stx_ctime.tv_sec, x->stx_ctime.tv_nsec };
}

static unsigned at_flags(int flags)
{
	return ((flags & AT_EMPTY_PATH) ? SBX_AT_EMPTY : 0) | ((flags & AT_SYMLINK_NOFOLLOW) ? 0 : SBX_AT_FOLLOW);
}

/* statx of dirfd+path (AT_* flags already validated). */
static long do_stat(struct uvfs_sbx_task *t, int dirfd, const char *path, int flags, unsigned mask, struct statx *x)
{
	/* Linux >= 6.11: a NULL path with AT_EMPTY_PATH is the empty path. */
	if (!path && (flags & AT_EMPTY_PATH))
		path = "";
	struct sbx_at at;
	int err = sbx_at_begin(t, dirfd, path, at_flags(flags), &at);
	if (err)
		return err;
	/* An empty path names the dirfd's file itself (any type, O_PATH too). */
	if (at.dir && !path[0])
		err = uvfs_file_stat(at.dir, mask, x);
	else
		err = uvfs_stat_at(t->vfs, &t->cred, &at.pop, mask, x);
	sbx_at_end(&at);
	return err;
}

UVFS_API long uvfs_sbx_fstat(struct uvfs_sbx_task *t, int fd, struct stat *st)
{
	SBX_CTX(t);
	struct statx x;
	long err = WITH_FILE(t, fd, uvfs_file_stat(f, STATX_BASIC_STATS, &x));
	if (!err) {
		if (!st)
			return -EFAULT;
		stat_from_statx(st, &x);
	}
	return err;
}

UVFS_API long uvfs_sbx_newfstatat(struct uvfs_sbx_task *t, int dirfd, const char *path, struct stat *st, int flags)
{
	SBX_CTX(t);
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
		return -EINVAL;
	struct statx x;
	long err = do_stat(t, dirfd, path, flags, STATX_BASIC_STATS, &x);
	if (!err) {
		if (!st)
			return -EFAULT;
		stat_from_statx(st, &x);
	}
	return err;
}

UVFS_API long uvfs_sbx_statx(struct uvfs_sbx_task *t, int dirfd, const char *path, int flags, unsigned mask,
			     struct statx *stx)
{
	SBX_CTX(t);
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
		return -EINVAL;
	if (mask & STATX__RESERVED)
		return -EINVAL;
	struct statx x;
	memset(&x, 0, sizeof(x));
	long err = do_stat(t, dirfd, path, flags, mask, &x);
	if (!err) {
		if (!stx)
			return -EFAULT;
		*stx = x;
	}
	return err;
}

/* faccessat2: without AT_EACCESS the check uses the real ids, and a
 * non-root real uid loses its capabilities (Linux access_override_creds). */
UVFS_API long uvfs_sbx_faccessat2(struct uvfs_sbx_task *t, int dirfd, const char *path, int mode, int flags)
{
	SBX_CTX(t);
	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct uvfs_cred c = t->cred;
	if (!(flags & AT_EACCESS)) {
		c.fsuid = c.uid;
		c.fsgid = c.gid;
		if (c.uid != 0)
			c.caps = 0;
	}
	struct sbx_at at;
	long err = sbx_at_begin(t, dirfd, path, at_flags(flags), &at);
	if (err)
		return err;
	err = uvfs_access_at(t->vfs, &c, &at.pop, mode);
	sbx_at_end(&at);
	return err;
}

UVFS_API long uvfs_sbx_faccessat(struct uvfs_sbx_task *t, int dirfd, const char *path, int mode)
{
	return uvfs_sbx_faccessat2(t, dirfd, path, mode, 0);
}

static long setattr_at(struct uvfs_sbx_task *t, int dirfd, const char *path, int flags,
		       const struct uvfs_setattr *a, unsigned sflags)
{
	struct sbx_at at;
	long err = sbx_at_begin(t, dirfd, path, at_flags(flags), &at);
	if (err)
		return err;
	if (at.dir && !path[0])
		err = (uvfs_file_flags(at.dir) & O_PATH) ? uvfs_setstat_at(t->vfs, &t->cred, &at.pop, a, sflags)
							  : uvfs_file_setstat(at.dir, &t->cred, a);
	else
		err = uvfs_setstat_at(t->vfs, &t->cred, &at.pop, a, sflags);
	sbx_at_end(&at);
	return err;
}

UVFS_API long uvfs_sbx_fchmod(struct uvfs_sbx_task *t, int fd, mode_t mode)
{
	SBX_CTX(t);
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = mode & 07777 };
	return WITH_FILE_NOPATH(t, fd, uvfs_file_setstat(f, &t->cred, &a));
}

/* fchmodat2's flags (fchmodat passes 0). */
UVFS_API long uvfs_sbx_fchmodat(struct uvfs_sbx_task *t, int dirfd, const char *path, mode_t mode, int flags)
{
	SBX_CTX(t);
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = mode & 07777 };
	if (flags & AT_SYMLINK_NOFOLLOW) {
		/* Linux: symlinks have no mode of their own to change. */
		struct statx x;
		long err = do_stat(t, dirfd, path, flags, STATX_TYPE, &x);
		if (err)
			return err;
		if (S_ISLNK(x.stx_mode))
			return -EOPNOTSUPP;
	}
	return setattr_at(t, dirfd, path, flags, &a, 0);
}

UVFS_API long uvfs_sbx_fchown(struct uvfs_sbx_task *t, int fd, uid_t uid, gid_t gid)
{
	SBX_CTX(t);
	struct uvfs_setattr a = { .mask = STATX_UID | STATX_GID, .uid = uid, .gid = gid };
	return WITH_FILE_NOPATH(t, fd, uvfs_file_setstat(f, &t->cred, &a));
}

UVFS_API long uvfs_sbx_fchownat(struct uvfs_sbx_task *t, int dirfd, const char *path, uid_t uid, gid_t gid,
				int flags)
{
	SBX_CTX(t);
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct uvfs_setattr a = { .mask = STATX_UID | STATX_GID, .uid = uid, .gid = gid };
	return setattr_at(t, dirfd, path, flags, &a, 0);
}

static bool valid_time(const struct timespec *ts)
{
	return (ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000) || ts->tv_nsec == UTIME_NOW ||
	       ts->tv_nsec == UTIME_OMIT;
}

UVFS_API long uvfs_sbx_utimensat(struct uvfs_sbx_task *t, int dirfd, const char *path,
				 const struct timespec times[2], int flags)
{
	SBX_CTX(t);
	struct uvfs_setattr a = { .mask = STATX_ATIME | STATX_MTIME };
	a.atime.tv_nsec = a.mtime.tv_nsec = UTIME_NOW;
	if (times) {
		if (!valid_time(&times[0]) || !valid_time(&times[1]))
			return -EINVAL;
		if (times[0].tv_nsec == UTIME_OMIT && times[1].tv_nsec == UTIME_OMIT)
			return 0;
		a.atime = times[0];
		a.mtime = times[1];
		if (times[0].tv_nsec == UTIME_OMIT)
			a.mask &= ~STATX_ATIME;
		if (times[1].tv_nsec == UTIME_OMIT)
			a.mask &= ~STATX_MTIME;
	}
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (!path) {
		/* The futimens form: dirfd itself, no flags (do_utimes_fd). */
		if (flags)
			return -EINVAL;
		return WITH_FILE_NOPATH(t, dirfd, uvfs_file_setstat(f, &t->cred, &a));
	}
	return setattr_at(t, dirfd, path, flags, &a, 0);
}

UVFS_API long uvfs_sbx_truncate(struct uvfs_sbx_task *t, const char *path, off_t length)
{
	SBX_CTX(t);
	if (length < 0)
		return -EINVAL;
	struct uvfs_setattr a = { .mask = STATX_SIZE, .size = (uint64_t)length };
	return setattr_at(t, AT_FDCWD, path, 0, &a, UVFS_SETATTR_NEED_WRITE);
}

UVFS_API long uvfs_sbx_ftruncate(struct uvfs_sbx_task *t, int fd, off_t length)
{
	SBX_CTX(t);
	if (length < 0)
		return -EINVAL;
	return WITH_FILE(t, fd, uvfs_file_truncate(f, (uint64_t)length));
}

UVFS_API long uvfs_sbx_fallocate(struct uvfs_sbx_task *t, int fd, int mode, off_t off, off_t len)
{
	SBX_CTX(t);
	return WITH_FILE_NOPATH(t, fd, uvfs_fallocate(f, mode, off, len));
}

UVFS_API long uvfs_sbx_fsync(struct uvfs_sbx_task *t, int fd)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, uvfs_fsync(f, false));
}

UVFS_API long uvfs_sbx_fdatasync(struct uvfs_sbx_task *t, int fd)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, uvfs_fsync(f, true));
}

/* statfs of vd. The VFS leaves f_flags 0; Linux's calculate_f_flags
 * reports ST_VALID and the mount's flags, and relatime is the default
 * atime mode of every mount that is not noatime. */
static long statfs_vd(struct uvfs_sbx_task *t, const struct uvfs_vd *vd, struct statfs *buf)
{
	struct uvfs_pathop pop = { .root = *vd, .start = *vd, .path = "", .flags = UVFS_PATH_EMPTY };
	struct statfs s;
	long err = uvfs_statfs_at(t->vfs, &t->cred, &pop, &s);
	if (err)
		return err;
	unsigned mf = uvfs_mount_flags(vd->mount) | (uvfs_mount_readonly(vd->mount) ? UVFS_MNT_RDONLY : 0);
	s.f_flags = SBX_ST_VALID | ((mf & UVFS_MNT_RDONLY) ? ST_RDONLY : 0) | ((mf & UVFS_MNT_NOSUID) ? ST_NOSUID : 0) |
		    ((mf & UVFS_MNT_NODEV) ? ST_NODEV : 0) | ((mf & UVFS_MNT_NOEXEC) ? ST_NOEXEC : 0) |
		    ((mf & UVFS_MNT_NOATIME) ? ST_NOATIME : ST_RELATIME);
	if (!buf)
		return -EFAULT;
	*buf = s;
	return 0;
}

UVFS_API long uvfs_sbx_statfs(struct uvfs_sbx_task *t, const char *path, struct statfs *buf)
{
	SBX_CTX(t);
	struct sbx_at at;
	long err = sbx_at_begin(t, AT_FDCWD, path, SBX_AT_FOLLOW, &at);
	if (err)
		return err;
	struct uvfs_vd vd;
	err = uvfs_get_dentry_at(t->vfs, &t->cred, &at.pop, 0, &vd);
	sbx_at_end(&at);
	if (err)
		return err;
	err = statfs_vd(t, &vd, buf);
	uvfs_vd_put(&vd);
	return err;
}

UVFS_API long uvfs_sbx_fstatfs(struct uvfs_sbx_task *t, int fd, struct statfs *buf)
{
	SBX_CTX(t);
	struct uvfs_file *f;
	long err = sbx_file(t, fd, &f); /* O_PATH allowed (fdget_raw) */
	if (err)
		return err;
	err = statfs_vd(t, &f->f_vd, buf);
	uvfs_file_put(f);
	return err;
}
