/* fsimpl/overlay/file.c — regular files: an open overlay file holds an
 * open file of the real object (f_private: struct ovl_file), the upper
 * copy when opened for writing (copied up first). A read-only file opened
 * on the lower object switches to the upper copy once there is one (Linux
 * >= 4.19 does the same), exactly once: the lower file is kept until
 * release because a concurrent reader may still use it. I/O goes to the
 * real file's ops; the overlay inode's size and times follow under its
 * i_lock after a write. */
#include <fcntl.h>
#include <stdio.h>

#include "fsimpl/overlay/internal.h"

struct ovl_file {
	struct uvfs_file *_Atomic real; /* acquire/release: lower, then at most once upper */
	struct uvfs_file *lower; /* the file replaced by the switch (under lock), put at release */
	struct uvfs_lock lock; /* the switch */
};

static int open_real(struct ovl_fs *ofs, struct ovl_real r, int fflags, struct uvfs_file **out)
{
	/* O_TRUNC is applied by the VFS through setattr after ->open. */
	int flags = fflags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_SYNC | O_DSYNC);
	struct uvfs_pathop pop = ovl_pop(ofs, r, NULL);
	return uvfs_open_at(ofs->vfs.vfs, &ofs->cred, &pop, flags, 0, 0, out);
}

/* The real file to use now. */
static struct uvfs_file *real_file(struct uvfs_file *f)
{
	struct ovl_file *of = f->f_private;
	struct uvfs_file *r = atomic_load_explicit(&of->real, memory_order_acquire);
	struct uvfs_dentry *up = ovl_upper(OI(f->f_inode));
	if (!up || r->f_vd.dentry == up)
		return r;
	uvfs_lock_acquire(&of->lock);
	r = atomic_load_explicit(&of->real, memory_order_relaxed);
	struct uvfs_file *nr;
	if (!of->lower && open_real(ofs_of(f->f_inode), (struct ovl_real){ up, 0 }, f->f_flags, &nr) == 0) {
		of->lower = r;
		atomic_store_explicit(&of->real, nr, memory_order_release);
		r = nr;
	}
	uvfs_lock_release(&of->lock);
	return r; /* the upper cannot be opened: keep reading the lower */
}

static int ovl_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	struct ovl_inode *oi = OI(inode);
	struct ovl_fs *ofs = ofs_of(inode);
	if ((f->f_flags & O_ACCMODE) != O_RDONLY) {
		int err = ovl_copy_up(ofs, f->f_vd.dentry);
		if (err)
			return err;
	}
	struct ovl_file *of = calloc(1, sizeof(*of));
	if (!of)
		return -ENOMEM;
	struct uvfs_file *real;
	int err = open_real(ofs, ovl_top(oi), f->f_flags, &real);
	if (err) {
		free(of);
		return err;
	}
	atomic_init(&of->real, real);
	f->f_private = of;
	return 0;
}

static void ovl_release(struct uvfs_file *f)
{
	struct ovl_file *of = f->f_private;
	uvfs_file_put(atomic_load(&of->real));
	if (of->lower)
		uvfs_file_put(of->lower);
	free(of);
}

static ssize_t ovl_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	struct uvfs_file *real = real_file(f);
	return uvfs_pread(real, buf, len, (off_t)off);
}

static ssize_t ovl_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	struct uvfs_file *real = real_file(f);
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
	struct uvfs_file *real = real_file(f);
	if (whence == SEEK_CUR) {
		if (__builtin_add_overflow(off, (int64_t)f->f_pos, &off))
			return -EINVAL;
		whence = SEEK_SET;
	}
	return uvfs_seek(real, off, whence);
}

static int ovl_fsync(struct uvfs_file *f, bool datasync)
{
	return uvfs_fsync(real_file(f), datasync);
}

static int ovl_fallocate(struct uvfs_file *f, int mode, uint64_t off, uint64_t len)
{
	int err = uvfs_fallocate(real_file(f), mode, (off_t)off, (off_t)len);
	if (!err) {
		uvfs_lock_acquire(&f->f_inode->i_lock);
		ovl_copy_attr(OI(f->f_inode));
		uvfs_lock_release(&f->f_inode->i_lock);
	}
	return err;
}

/* Whatever real file the overlay file reads now (the lower one until a
 * copy-up is seen, then the upper's) answers for the host file. */
static int ovl_host_fd(struct uvfs_file *f)
{
	return uvfs_file_host_fd(real_file(f));
}

const struct uvfs_file_ops ovl_file_fops = {
	.open = ovl_open,
	.release = ovl_release,
	.read = ovl_read,
	.write = ovl_write,
	.llseek = ovl_llseek,
	.fsync = ovl_fsync,
	.fallocate = ovl_fallocate,
	.host_fd = ovl_host_fd,
};

/* Symlinks, devices, fifos and sockets: the VFS serves what it can. */
const struct uvfs_file_ops ovl_special_fops = { 0 };

const struct uvfs_inode_ops ovl_file_iops = {
	OVL_ATTR_IOPS,
};
