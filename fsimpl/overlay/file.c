/* fsimpl/overlay/file.c — regular files: an open overlay file holds an
 * open file of the real object (f_private), the upper copy when opened
 * for writing (copied up first). I/O goes to the real file's ops; the
 * overlay inode's size and times follow under its i_lock after a write. */
#include <fcntl.h>
#include <stdio.h>

#include "fsimpl/overlay/internal.h"

static int ovl_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	struct ovl_inode *oi = OI(inode);
	struct ovl_fs *ofs = ofs_of(inode);
	int acc = f->f_flags & O_ACCMODE;
	if (acc != O_RDONLY) {
		int err = ovl_copy_up(ofs, f->f_vd.dentry);
		if (err)
			return err;
	}
	/* O_TRUNC is applied by the VFS through setattr after ->open. */
	int flags = f->f_flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_SYNC | O_DSYNC);
	struct uvfs_pathop pop = ovl_pop(ofs, ovl_top(oi), NULL);
	struct uvfs_file *real;
	int err = uvfs_open_at(ofs->vfs.vfs, &ofs->cred, &pop, flags, 0, 0, &real);
	if (err)
		return err;
	f->f_private = real;
	return 0;
}

static void ovl_release(struct uvfs_file *f)
{
	uvfs_file_put(f->f_private);
}

static ssize_t ovl_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	struct uvfs_file *real = f->f_private;
	return uvfs_pread(real, buf, len, (off_t)off);
}

static ssize_t ovl_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	struct uvfs_file *real = f->f_private;
	ssize_t n = real->f_op->write(real, buf, len, off);
	if (n >= 0) {
		uvfs_lock_acquire(&f->f_inode->i_lock);
		ovl_copy_attr(OI(f->f_inode));
		uvfs_lock_release(&f->f_inode->i_lock);
	}
	return n;
}

static int64_t ovl_llseek(struct uvfs_file *f, int64_t off, int whence)
{
	struct uvfs_file *real = f->f_private;
	if (whence == SEEK_CUR) {
		if (__builtin_add_overflow(off, (int64_t)f->f_pos, &off))
			return -EINVAL;
		whence = SEEK_SET;
	}
	return uvfs_seek(real, off, whence);
}

static int ovl_fsync(struct uvfs_file *f, bool datasync)
{
	return uvfs_fsync(f->f_private, datasync);
}

static int ovl_fallocate(struct uvfs_file *f, int mode, uint64_t off, uint64_t len)
{
	int err = uvfs_fallocate(f->f_private, mode, (off_t)off, (off_t)len);
	if (!err) {
		uvfs_lock_acquire(&f->f_inode->i_lock);
		ovl_copy_attr(OI(f->f_inode));
		uvfs_lock_release(&f->f_inode->i_lock);
	}
	return err;
}

const struct uvfs_file_ops ovl_file_fops = {
	.open = ovl_open,
	.release = ovl_release,
	.read = ovl_read,
	.write = ovl_write,
	.llseek = ovl_llseek,
	.fsync = ovl_fsync,
	.fallocate = ovl_fallocate,
};

/* Symlinks, devices, fifos and sockets: the VFS serves what it can. */
const struct uvfs_file_ops ovl_special_fops = { 0 };

const struct uvfs_inode_ops ovl_file_iops = {
	OVL_ATTR_IOPS,
};
