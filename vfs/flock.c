/* vfs/flock.c — POSIX record locks handed to the filesystem (Linux
 * vfs_lock_file with f_op->lock). The VFS does what Linux's fcntl_getlk /
 * fcntl_setlk do before the fs sees the request: type and open-mode
 * checks and flock_to_posix_lock's range arithmetic, so the op gets an
 * absolute range. Filesystems without the op get -ENOLCK and the caller's
 * own lock table (sandbox/locks.c) applies. No state here: no lock. */
#include <errno.h>
#include <fcntl.h>

#include "internal.h"

UVFS_API bool uvfs_file_has_lock_op(const struct uvfs_file *f)
{
	return !(f->f_flags & O_PATH) && f->f_op && f->f_op->lock;
}

/* fl -> [start, start + len) with len 0 to EOF (flock_to_posix_lock). */
static int lock_range(struct uvfs_file *f, struct flock *fl)
{
	int64_t base;
	switch (fl->l_whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = uvfs_seek(f, 0, SEEK_CUR);
		if (base < 0)
			return (int)base;
		break;
	case SEEK_END: {
		struct statx x;
		int err = uvfs_file_stat(f, STATX_SIZE, &x);
		if (err)
			return err;
		base = (int64_t)x.stx_size;
		break;
	}
	default:
		return -EINVAL;
	}
	int64_t start, len = fl->l_len;
	if (__builtin_add_overflow(base, (int64_t)fl->l_start, &start))
		return -EOVERFLOW;
	if (start < 0)
		return -EINVAL;
	if (len > 0) {
		int64_t end;
		if (__builtin_add_overflow(start, len - 1, &end))
			return -EOVERFLOW;
	} else if (len < 0) {
		if (__builtin_add_overflow(start, len, &start) || start < 0)
			return -EINVAL;
		len = -len;
	}
	fl->l_whence = SEEK_SET;
	fl->l_start = start;
	fl->l_len = len;
	return 0;
}

UVFS_API int uvfs_file_lock(struct uvfs_file *f, uint64_t owner, int cmd, struct flock *fl)
{
	rcu_enter();
	if (!fl)
		return -EFAULT;
	if (f->f_flags & O_PATH) /* fcntl's fdget_raw allows O_PATH, but locks need a mode */
		return -EBADF;
	if (cmd != F_GETLK && cmd != F_SETLK && cmd != F_SETLKW)
		return -EINVAL;
	short type = fl->l_type;
	if (cmd == F_GETLK ? type != F_RDLCK && type != F_WRLCK
			   : type != F_RDLCK && type != F_WRLCK && type != F_UNLCK)
		return -EINVAL;
	int acc = f->f_flags & O_ACCMODE;
	if (cmd != F_GETLK && ((type == F_RDLCK && acc == O_WRONLY) || (type == F_WRLCK && acc == O_RDONLY)))
		return -EBADF;
	if (!uvfs_file_has_lock_op(f))
		return -ENOLCK;
	struct flock req = *fl;
	int err = lock_range(f, &req);
	if (err)
		return err;
	err = f->f_op->lock(f, owner, cmd, &req);
	if (!err && cmd == F_GETLK)
		*fl = req;
	return err;
}
