/* vfs/fallocate.c — fallocate(2): the VFS's checks, in Linux's order
 * (fs/open.c vfs_fallocate as of 6.18, checked against the host kernel by
 * tests/tmpfs/test_fallocate.c), then the filesystem's fallocate op.
 *
 * No lock is taken here: the op locks the inode itself (as ->write does).
 */
#include <fcntl.h>
#include <linux/falloc.h>

#include "internal.h"

#ifndef FALLOC_FL_WRITE_ZEROES
#define FALLOC_FL_WRITE_ZEROES 0x80 /* Linux 6.17 */
#endif
#define FALLOC_MODE_MASK                                                                                       \
	(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE |       \
	 FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_WRITE_ZEROES)

/* 0 or -EOPNOTSUPP: one operation, KEEP_SIZE only where it means something. */
static int check_mode(int mode)
{
	if (mode & ~(FALLOC_MODE_MASK | FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	switch (mode & FALLOC_MODE_MASK) {
	case 0:
	case FALLOC_FL_UNSHARE_RANGE:
	case FALLOC_FL_ZERO_RANGE:
		return 0;
	case FALLOC_FL_PUNCH_HOLE:
		return (mode & FALLOC_FL_KEEP_SIZE) ? 0 : -EOPNOTSUPP;
	case FALLOC_FL_COLLAPSE_RANGE:
	case FALLOC_FL_INSERT_RANGE:
	case FALLOC_FL_WRITE_ZEROES:
		return (mode & FALLOC_FL_KEEP_SIZE) ? -EOPNOTSUPP : 0;
	default:
		return -EOPNOTSUPP;
	}
}

UVFS_API int uvfs_fallocate(struct uvfs_file *f, int mode, off_t off, off_t len)
{
	rcu_enter();
	if (f->f_flags & O_PATH) /* fdget refuses O_PATH descriptors */
		return -EBADF;
	if (off < 0 || len <= 0)
		return -EINVAL;
	int err = check_mode(mode);
	if (err)
		return err;
	int acc = f->f_flags & O_ACCMODE;
	if (acc != O_WRONLY && acc != O_RDWR)
		return -EBADF;
	/* uvfs has no append-only/immutable inode flags, so no -EPERM here. */
	uint32_t type = load_relaxed(f->f_inode->i_mode) & S_IFMT;
	if (type == S_IFIFO)
		return -ESPIPE;
	if (type == S_IFDIR)
		return -EISDIR;
	if (type != S_IFREG && type != S_IFBLK)
		return -ENODEV;
	if (off > INT64_MAX - len)
		return -EFBIG;
	if (!f->f_op->fallocate)
		return -EOPNOTSUPP;
	err = f->f_op->fallocate(f, mode, (uint64_t)off, (uint64_t)len);
	if (!err) {
		file_remove_privs(f); /* Linux file_modified() */
		watch_inode(f->f_vd.mount->m_vfs, UVFS_WATCH_DATA, f->f_inode, (uint64_t)off, (uint64_t)len);
	}
	return err;
}
