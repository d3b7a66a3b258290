/* sandbox/sys_open.c — openat, openat2, close, close_range, dup*, fcntl:
 * the calls that put files into or take them out of the fd table. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <string.h>

#include "sandbox/sbx.h"

/* The kernel's O_LARGEFILE: glibc defines O_LARGEFILE as 0 on 64-bit
 * ABIs, but the kernel forces its own bit on every open there and F_GETFL
 * reports it. */
#if defined(__x86_64__)
#define SBX_KO_LARGEFILE 0100000
#elif defined(__aarch64__)
#define SBX_KO_LARGEFILE 0400000
#else
#define SBX_KO_LARGEFILE 0
#endif

/* Linux's VALID_OPEN_FLAGS and O_PATH_FLAGS (fs/open.c). */
#define SBX_VALID_OPEN_FLAGS                                                                                     \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NDELAY | O_NONBLOCK | O_SYNC | O_DSYNC | \
	 FASYNC | O_DIRECT | SBX_KO_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | O_TMPFILE)
#define SBX_O_PATH_FLAGS (O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)
#define SBX_RESOLVE_ALL                                                                                          \
	(RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT |        \
	 RESOLVE_CACHED)

/* The common tail of openat and openat2 (flags already validated). */
static long do_open(struct uvfs_sbx_task *t, int dirfd, const char *path, int flags, mode_t mode,
		    unsigned resolve)
{
	struct sbx_at at;
	if (flags & O_PATH)
		flags &= SBX_O_PATH_FLAGS;
	flags &= ~SBX_KO_LARGEFILE; /* not a uvfs flag: F_GETFL adds it back */
	if (flags & (O_CREAT | O_TMPFILE))
		mode = mode & 07777 & ~sbx_umask(t);
	else
		mode = 0;
	/* Linux do_sys_openat2: getname (-EFAULT, -ENOENT for "",
	 * -ENAMETOOLONG), then the fd (-EMFILE before any lookup or
	 * creation), then the walk. */
	if (!path)
		return -EFAULT;
	if (!path[0])
		return -ENOENT;
	if (strnlen(path, UVFS_PATH_MAX) >= UVFS_PATH_MAX)
		return -ENAMETOOLONG;
	struct sbx_fdtable *fdt = sbx_files(t);
	long fd = fdt_reserve(fdt, 0, t->nofile);
	if (fd < 0) {
		fdt_put(fdt);
		return fd;
	}
	/* Scoped walks start at dirfd even for an absolute path. */
	unsigned atf = (resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) ? SBX_AT_SCOPED : 0;
	int err = sbx_at_begin(t, dirfd, path, atf, &at);
	struct uvfs_file *f = NULL;
	if (!err) {
		at.pop.flags |= resolve << 8; /* UVFS_RESOLVE_* are RESOLVE_* << 8 */
		err = uvfs_open_at(t->vfs, &t->cred, &at.pop, flags, mode, 0, &f);
		sbx_at_end(&at);
	}
	if (err)
		fdt_unreserve(fdt, (unsigned)fd);
	else
		fdt_install(fdt, (unsigned)fd, f, flags & O_CLOEXEC);
	fdt_put(fdt);
	return err ? err : fd;
}

UVFS_API long uvfs_sbx_openat(struct uvfs_sbx_task *t, int dirfd, const char *path, int flags, mode_t mode)
{
	SBX_CTX(t);
	return do_open(t, dirfd, path, flags & SBX_VALID_OPEN_FLAGS, mode, 0);
}

/* The kernel's __O_TMPFILE: glibc's O_TMPFILE and __O_TMPFILE include
 * O_DIRECTORY, which alone must not count as a tmpfile open. */
#define SBX_O_TMPFILE_BIT (O_TMPFILE & ~O_DIRECTORY)

UVFS_API long uvfs_sbx_openat2(struct uvfs_sbx_task *t, int dirfd, const char *path, const struct open_how *uhow,
			       size_t size)
{
	SBX_CTX(t);
	/* copy_struct_from_user: too small is -EINVAL, larger needs zeros. */
	if (size < 24) /* OPEN_HOW_SIZE_VER0 */
		return -EINVAL;
	if (size > 4096)
		return -E2BIG;
	if (!uhow)
		return -EFAULT;
	for (size_t i = sizeof(struct open_how); i < size; i++)
		if (((const unsigned char *)uhow)[i])
			return -E2BIG;
	struct open_how how;
	memcpy(&how, uhow, sizeof(how));
	if (how.flags & ~(uint64_t)SBX_VALID_OPEN_FLAGS)
		return -EINVAL;
	if (how.resolve & ~(uint64_t)SBX_RESOLVE_ALL)
		return -EINVAL;
	if (how.mode & ~(uint64_t)07777)
		return -EINVAL;
	int flags = (int)how.flags;
	if (!(flags & (O_CREAT | SBX_O_TMPFILE_BIT)) && how.mode)
		return -EINVAL;
	if ((flags & O_PATH) && (flags & ~SBX_O_PATH_FLAGS))
		return -EINVAL;
	if ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT))
		return -EINVAL;
	if ((how.resolve & RESOLVE_CACHED) && (flags & (O_TRUNC | O_CREAT | SBX_O_TMPFILE_BIT)))
		return -EAGAIN;
	return do_open(t, dirfd, path, flags, (mode_t)how.mode, (unsigned)how.resolve);
}

UVFS_API long uvfs_sbx_close(struct uvfs_sbx_task *t, int fd)
{
	SBX_CTX(t);
	struct sbx_fdtable *fdt = sbx_files(t);
	struct uvfs_file *f;
	int err = fdt_remove(fdt, fd, &f);
	if (!err)
		sbx_locks_remove(fdt, f); /* POSIX: any close drops the owner's locks */
	fdt_put(fdt);
	if (err)
		return err;
	err = uvfs_file_close(f);
	/* Linux: the fd is gone either way; an interrupted flush is not
	 * restartable (the fd cannot be closed twice). */
	if (err == -ERESTART || err == -EINTR)
		err = -EINTR;
	return err;
}

UVFS_API long uvfs_sbx_close_range(struct uvfs_sbx_task *t, unsigned first, unsigned last, unsigned flags)
{
	SBX_CTX(t);
	if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))
		return -EINVAL;
	if (first > last)
		return -EINVAL;
	if (flags & CLOSE_RANGE_UNSHARE) {
		int err = sbx_unshare_files(t);
		if (err)
			return err;
	}
	struct sbx_fdtable *fdt = sbx_files(t);
	fdt_close_range(fdt, first, last, false, flags & CLOSE_RANGE_CLOEXEC);
	fdt_put(fdt);
	return 0;
}

/* dup into the lowest free fd >= minfd. */
static long dup_from(struct uvfs_sbx_task *t, int oldfd, unsigned minfd, bool cloexec)
{
	struct uvfs_file *f;
	struct sbx_fdtable *fdt = sbx_files(t);
	long ret = fdt_file(fdt, oldfd, &f, NULL);
	if (!ret) {
		ret = fdt_alloc(fdt, f, minfd, t->nofile, cloexec);
		if (ret < 0)
			uvfs_file_put(f);
	}
	fdt_put(fdt);
	return ret;
}

UVFS_API long uvfs_sbx_dup(struct uvfs_sbx_task *t, int oldfd)
{
	SBX_CTX(t);
	return dup_from(t, oldfd, 0, false);
}

/* Linux ksys_dup3 after its flag checks: newfd past the limit, then oldfd. */
static long do_dup3(struct uvfs_sbx_task *t, int oldfd, int newfd, bool cloexec)
{
	if (newfd < 0 || (unsigned)newfd >= t->nofile)
		return -EBADF;
	struct uvfs_file *f, *old = NULL;
	struct sbx_fdtable *fdt = sbx_files(t);
	long ret = fdt_file(fdt, oldfd, &f, NULL);
	if (!ret) {
		ret = fdt_replace(fdt, (unsigned)newfd, f, cloexec, &old);
		if (ret)
			uvfs_file_put(f);
		else
			ret = newfd;
	}
	if (old)
		sbx_locks_remove(fdt, old);
	fdt_put(fdt);
	if (old)
		uvfs_file_close(old); /* Linux ignores this close's error */
	return ret;
}

UVFS_API long uvfs_sbx_dup2(struct uvfs_sbx_task *t, int oldfd, int newfd)
{
	SBX_CTX(t);
	if (oldfd == newfd) {
		struct uvfs_file *f;
		int err = sbx_file(t, oldfd, &f);
		if (err)
			return err;
		uvfs_file_put(f);
		return newfd;
	}
	return do_dup3(t, oldfd, newfd, false);
}

UVFS_API long uvfs_sbx_dup3(struct uvfs_sbx_task *t, int oldfd, int newfd, int flags)
{
	SBX_CTX(t);
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	if (oldfd == newfd)
		return -EINVAL;
	return do_dup3(t, oldfd, newfd, flags & O_CLOEXEC);
}

UVFS_API long uvfs_sbx_fcntl(struct uvfs_sbx_task *t, int fd, int cmd, unsigned long arg)
{
	SBX_CTX(t);
	struct uvfs_file *f;
	bool cloexec;
	struct sbx_fdtable *fdt = sbx_files(t);
	long ret = fdt_file(fdt, fd, &f, &cloexec);
	if (ret) {
		fdt_put(fdt);
		return ret;
	}
	/* Linux check_fcntl_cmd: an O_PATH fd allows only these. */
	if ((uvfs_file_flags(f) & O_PATH) && cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC && cmd != F_GETFD &&
	    cmd != F_SETFD && cmd != F_GETFL)
		cmd = -1, ret = -EBADF;
	switch (cmd) {
	case -1:
		break;
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		/* arg is an int in the kernel (negative: past any limit). */
		if ((long)(int)arg < 0 || (unsigned long)(int)arg >= t->nofile) {
			ret = -EINVAL;
			break;
		}
		uvfs_file_get(f);
		ret = fdt_alloc(fdt, f, (unsigned)arg, t->nofile, cmd == F_DUPFD_CLOEXEC);
		if (ret < 0)
			uvfs_file_put(f);
		break;
	case F_GETFD:
		ret = cloexec ? FD_CLOEXEC : 0;
		break;
	case F_SETFD:
		ret = fdt_set_cloexec(fdt, fd, arg & FD_CLOEXEC);
		break;
	case F_GETFL:
		ret = uvfs_file_flags(f);
		if (!(ret & O_PATH)) /* O_PATH drops the forced bit (O_PATH_FLAGS) */
			ret |= SBX_KO_LARGEFILE;
		break;
	case F_SETFL:
		ret = uvfs_file_set_flags(f, &t->cred, (int)arg);
		break;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
		ret = sbx_posix_lock(t, fdt, f, cmd, (struct flock *)arg);
		if (!ret && cmd != F_GETLK && ((struct flock *)arg)->l_type != F_UNLCK) {
			/* Linux fcntl_setlk: a close racing the lock call would
			 * leave a lock with no fd behind; undo it, -EBADF. */
			struct uvfs_file *now = NULL;
			if (fdt_file(fdt, fd, &now, NULL) || now != f) {
				struct flock un = *(struct flock *)arg;
				un.l_type = F_UNLCK;
				sbx_posix_lock(t, fdt, f, F_SETLK, &un);
				ret = -EBADF;
			}
			if (now)
				uvfs_file_put(now);
		}
		break;
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		/* No close race to undo (Linux fcntl_setlk): the lock belongs
		 * to the description, not to the fd. */
		ret = sbx_ofd_lock(t, f, cmd, (struct flock *)arg);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	uvfs_file_put(f);
	fdt_put(fdt);
	return ret;
}
