/* vfs/seek.c — the generic llseek arithmetic (Linux
 * generic_file_llseek_size), shared by the VFS's default seek and by
 * filesystems whose llseek only adds cases (tmpfs: SEEK_DATA/HOLE over its
 * pages). Locks: the caller holds f_lock (f_pos is read here). */
#include "internal.h"

UVFS_API int64_t uvfs_generic_llseek(struct uvfs_file *f, int64_t off, int whence, int64_t size)
{
	int64_t pos;
	switch (whence) {
	case SEEK_SET:
		pos = off;
		break;
	case SEEK_CUR:
		if (__builtin_add_overflow((int64_t)f->f_pos, off, &pos))
			return -EINVAL;
		break;
	case SEEK_END:
		if (__builtin_add_overflow(size, off, &pos))
			return -EINVAL;
		break;
	case SEEK_DATA: /* all data up to EOF; negative offsets are past it as unsigned */
		if ((uint64_t)off >= (uint64_t)size)
			return -ENXIO;
		pos = off;
		break;
	case SEEK_HOLE: /* the only hole is at EOF */
		if ((uint64_t)off >= (uint64_t)size)
			return -ENXIO;
		pos = size;
		break;
	default:
		return -EINVAL;
	}
	if (pos < 0 && !(f->f_op->fop_flags & UVFS_FOP_UNSIGNED_OFFSET))
		return -EINVAL;
	return pos;
}
