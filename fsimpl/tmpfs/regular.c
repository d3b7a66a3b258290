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
#include <limits.h>
#include <linux/falloc.h>
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
	/* Not growing: pages past the new size go, including those that
	 * fallocate(KEEP_SIZE) put beyond EOF (Linux shmem_setattr does this
	 * for an unchanged size too). */
	uint64_t blocks = inode->i_blocks;
	if (p && size <= inode->i_size) {
		tmpfs_pages_truncate(p, &TFS(inode->i_fs)->pages, size);
		blocks = p->npages * (TMPFS_PAGE_SIZE / 512);
	}
	if (size != inode->i_size || blocks != inode->i_blocks) {
		uvfs_inode_attr_begin(inode);
		if (size != inode->i_size) {
			struct timespec now = uvfs_now();
			inode->i_size = size;
			inode->i_mtime = now;
			inode->i_ctime = now;
		}
		inode->i_blocks = blocks;
		uvfs_inode_attr_end(inode);
	}
	if (p)
		pthread_rwlock_unlock(&p->lock);
	return 0;
}

/* Total RAM in pages: the most an unlimited (size=0) fs may reserve in one
 * call before it is -ENOMEM rather than an OOM kill. */
static uint64_t ram_pages(void)
{
	long pagesz = sysconf(_SC_PAGESIZE), npages = sysconf(_SC_PHYS_PAGES);
	return pagesz > 0 && npages > 0 ? (uint64_t)pagesz * (uint64_t)npages / TMPFS_PAGE_SIZE : 0;
}

/* Allocate (mode 0, KEEP_SIZE) or zero (ZERO_RANGE) [first, last] pages of
 * p: the absent pages are reserved from size= in one step first, so a
 * request that does not fit fails with -ENOSPC before anything changes (Linux
 * gets the same result by undoing its partial allocation). Lock held. */
static int alloc_range(struct tmpfs_fs *fs, struct tmpfs_pages *p, int op, uint64_t off, uint64_t len)
{
	uint64_t first = off >> TMPFS_PAGE_SHIFT, last = (off + len - 1) >> TMPFS_PAGE_SHIFT;
	uint64_t want = last - first + 1 - tmpfs_pages_count(p, first, last);
	if (want) {
		if (!tmpfs_budget_max(&fs->pages) && want > ram_pages())
			return -ENOMEM;
		if (want > (uint64_t)LONG_MAX)
			return -ENOSPC;
		int err = tmpfs_budget_take(&fs->pages, (long)want);
		if (err)
			return err;
	}
	if (op == FALLOC_FL_ZERO_RANGE)
		tmpfs_pages_zero(p, off, len);
	if (!want)
		return 0;
	uint64_t added;
	int err = tmpfs_pages_fill(p, first, last, &added);
	if (err) /* out of memory: the pages added stay (zeros), counted */
		tmpfs_budget_give(&fs->pages, (long)(want - added));
	return err;
}

/* Modes as Linux shmem (allocate, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE) plus
 * ZERO_RANGE, which Linux's tmpfs lacks: the range reads as zeros and is
 * allocated, as on ext4/xfs. Takes i_lock (the VFS holds nothing). */
static int tmpfs_fallocate(struct uvfs_file *f, int mode, uint64_t off, uint64_t len)
{
	struct uvfs_inode *inode = f->f_inode;
	struct tmpfs_inode *ti = TI(inode);
	struct tmpfs_fs *fs = TFS(inode->i_fs);
	int op = mode & ~FALLOC_FL_KEEP_SIZE;
	if (op != 0 && op != FALLOC_FL_PUNCH_HOLE && op != FALLOC_FL_ZERO_RANGE)
		return -EOPNOTSUPP;
	if (off + len > TMPFS_MAX_FILE_SIZE)
		return -EFBIG;
	uvfs_lock_acquire(&inode->i_lock);
	struct tmpfs_pages *p = ti->pages;
	int err = 0;
	if (!p && op != FALLOC_FL_PUNCH_HOLE) {
		if (!(p = tmpfs_pages_new())) {
			uvfs_lock_release(&inode->i_lock);
			return -ENOMEM;
		}
		__atomic_store_n(&ti->pages, p, __ATOMIC_RELEASE);
	}
	if (p)
		pthread_rwlock_wrlock(&p->lock);
	if (op == FALLOC_FL_PUNCH_HOLE) {
		if (p)
			tmpfs_pages_punch(p, &fs->pages, off, len);
	} else {
		err = alloc_range(fs, p, op, off, len);
	}
	if (!err || p->npages * (TMPFS_PAGE_SIZE / 512) != inode->i_blocks) {
		uvfs_inode_attr_begin(inode);
		if (!err) {
			struct timespec now = uvfs_now();
			if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > inode->i_size)
				inode->i_size = off + len;
			inode->i_mtime = now;
			inode->i_ctime = now;
		}
		if (p)
			inode->i_blocks = p->npages * (TMPFS_PAGE_SIZE / 512);
		uvfs_inode_attr_end(inode);
	}
	if (p)
		pthread_rwlock_unlock(&p->lock);
	uvfs_lock_release(&inode->i_lock);
	return err;
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
	.fallocate = tmpfs_fallocate,
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
