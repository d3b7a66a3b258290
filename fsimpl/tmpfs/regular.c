/* fsimpl/tmpfs/regular.c — file operations: regular file data (read,
 * write, truncate), directory iteration, special files.
 *
 * Lock order: inode i_lock → tmpfs_pages.lock. Writers and truncate hold
 * both (write takes i_lock, the VFS holds it for truncate); readers
 * hold only the pages read lock (i_lock briefly: for atime, and for the
 * size of a file without a store). Once a file has a page store, its i_size
 * changes only under the store's write lock, so a reader sees a size and
 * data that match. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fsimpl/tmpfs/internal.h"

static inline struct tmpfs_pages *load_pages(struct tmpfs_inode *ti)
{
	return __atomic_load_n(&ti->pages, __ATOMIC_ACQUIRE);
}

/* Stable view for readers: returns the page store read-locked (or NULL
 * when the file has none, i.e. is all holes) and the size matching it. No
 * lockless i_size read, so ThreadSanitizer needs no exception here. */
static struct tmpfs_pages *read_begin(struct uvfs_inode *inode, uint64_t *size)
{
	struct tmpfs_pages *p = load_pages(TI(inode));
	if (!p) {
		uvfs_lock_acquire(&inode->i_lock);
		p = TI(inode)->pages;
		if (!p)
			*size = inode->i_size;
		uvfs_lock_release(&inode->i_lock);
		if (!p)
			return NULL;
	}
	pthread_rwlock_rdlock(&p->lock);
	*size = inode->i_size;
	return p;
}

static void read_end(struct tmpfs_pages *p)
{
	if (p)
		pthread_rwlock_unlock(&p->lock);
}

static ssize_t tmpfs_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	struct uvfs_inode *inode = f->f_inode;
	if (S_ISDIR(inode->i_mode))
		return -EISDIR;
	if (!S_ISREG(inode->i_mode))
		return -EINVAL;
	if (len == 0)
		return 0;
	uint64_t size;
	struct tmpfs_pages *p = read_begin(inode, &size);
	size_t n = off >= size ? 0 : (size - off < len ? (size_t)(size - off) : len);
	if (p)
		tmpfs_pages_read(p, off, buf, n);
	else
		memset(buf, 0, n);
	read_end(p);
	tmpfs_file_accessed(f, false);
	return (ssize_t)n;
}

static ssize_t tmpfs_write_locked(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	struct uvfs_inode *inode = f->f_inode;
	struct tmpfs_inode *ti = TI(inode);
	uint64_t pos = (f->f_flags & O_APPEND) ? inode->i_size : *off;
	if (len == 0) {
		*off = pos;
		return 0;
	}
	if (pos >= TMPFS_MAX_FILE_SIZE)
		return -EFBIG;
	if (len > TMPFS_MAX_FILE_SIZE - pos)
		len = (size_t)(TMPFS_MAX_FILE_SIZE - pos);
	struct tmpfs_pages *p = ti->pages;
	if (!p) {
		if (!(p = tmpfs_pages_new()))
			return -ENOMEM;
		__atomic_store_n(&ti->pages, p, __ATOMIC_RELEASE);
	}
	pthread_rwlock_wrlock(&p->lock);
	ssize_t n = tmpfs_pages_write(p, &TFS(inode->i_fs)->pages, pos, buf, len);
	if (n > 0) {
		struct timespec now = uvfs_now();
		uint64_t end = pos + (uint64_t)n;
		uvfs_inode_attr_begin(inode);
		if (end > inode->i_size)
			inode->i_size = end;
		inode->i_blocks = p->npages * (TMPFS_PAGE_SIZE / 512);
		inode->i_mtime = now;
		inode->i_ctime = now;
		uvfs_inode_attr_end(inode);
		*off = end;
	}
	pthread_rwlock_unlock(&p->lock);
	return n;
}

static ssize_t tmpfs_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	struct uvfs_inode *inode = f->f_inode;
	if (S_ISDIR(inode->i_mode))
		return -EISDIR;
	if (!S_ISREG(inode->i_mode))
		return -EINVAL;
	if (!TMPFS_VFS_LOCKS_WRITE)
		uvfs_lock_acquire(&inode->i_lock);
	ssize_t n = tmpfs_write_locked(f, buf, len, off);
	if (!TMPFS_VFS_LOCKS_WRITE)
		uvfs_lock_release(&inode->i_lock);
	return n;
}

/* i_lock held (the VFS's setattr/O_TRUNC path). mtime/ctime change with
 * the size, as on Linux shmem. */
int tmpfs_truncate(struct uvfs_inode *inode, uint64_t size)
{
	if (S_ISDIR(inode->i_mode))
		return -EISDIR;
	if (!S_ISREG(inode->i_mode))
		return -EINVAL;
	if (size > TMPFS_MAX_FILE_SIZE)
		return -EFBIG;
	struct tmpfs_pages *p = TI(inode)->pages;
	if (p)
		pthread_rwlock_wrlock(&p->lock);
	if (size != inode->i_size) {
		if (p && size < inode->i_size)
			tmpfs_pages_truncate(p, &TFS(inode->i_fs)->pages, size);
		struct timespec now = uvfs_now();
		uvfs_inode_attr_begin(inode);
		inode->i_size = size;
		inode->i_blocks = p ? p->npages * (TMPFS_PAGE_SIZE / 512) : 0;
		inode->i_mtime = now;
		inode->i_ctime = now;
		uvfs_inode_attr_end(inode);
	}
	if (p)
		pthread_rwlock_unlock(&p->lock);
	return 0;
}

/* Generic SEEK_SET/CUR/END plus SEEK_DATA/SEEK_HOLE at page granularity
 * (EOF is a hole). f_lock held by the VFS, which stores a result >= 0 in
 * f_pos. */
static int64_t tmpfs_llseek(struct uvfs_file *f, int64_t off, int whence)
{
	struct uvfs_inode *inode = f->f_inode;
	if (whence == SEEK_DATA || whence == SEEK_HOLE) {
		uint64_t size;
		struct tmpfs_pages *p = read_begin(inode, &size);
		int64_t r;
		if (off < 0 || (uint64_t)off >= size) {
			r = -ENXIO;
		} else {
			uint64_t idx = tmpfs_pages_next(p, (uint64_t)off >> TMPFS_PAGE_SHIFT, whence == SEEK_DATA);
			uint64_t at = idx >= (size >> TMPFS_PAGE_SHIFT) + 1 ? size : idx << TMPFS_PAGE_SHIFT;
			if (at < (uint64_t)off)
				at = (uint64_t)off;
			if (at > size)
				at = size;
			r = (whence == SEEK_DATA && at >= size) ? -ENXIO : (int64_t)at;
		}
		read_end(p);
		return r;
	}
	uint64_t size = 0;
	if (whence == SEEK_END)
		read_end(read_begin(inode, &size));
	return uvfs_generic_llseek(f, off, whence, (int64_t)size);
}

static int tmpfs_fsync(struct uvfs_file *f, bool datasync) { return 0; }

static int tmpfs_iterate(struct uvfs_file *f, struct uvfs_dir_ctx *ctx)
{
	int err = uvfs_dcache_iterate(f, f->f_vd.dentry, ctx); /* "." and ".." too */
	tmpfs_file_accessed(f, TMPFS_VFS_LOCKS_ITERATE);
	return err;
}

static ssize_t tmpfs_dir_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off) { return -EISDIR; }

static int tmpfs_special_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	/* Sockets cannot be opened (Linux: ENXIO); device nodes never get
	 * here (the VFS opens them through the device registry). */
	return S_ISSOCK(inode->i_mode) ? -ENXIO : 0;
}

const struct uvfs_file_ops tmpfs_reg_fops = {
	.read = tmpfs_read,
	.write = tmpfs_write,
	.llseek = tmpfs_llseek,
	.fsync = tmpfs_fsync,
};

const struct uvfs_file_ops tmpfs_dir_fops = {
	.read = tmpfs_dir_read,
	.iterate = tmpfs_iterate,
	.fsync = tmpfs_fsync,
};

const struct uvfs_file_ops tmpfs_special_fops = {
	.open = tmpfs_special_open,
	.fsync = tmpfs_fsync,
};
