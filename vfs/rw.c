/* vfs/rw.c — the checks and dispatch every read and write goes through:
 * range verification (Linux rw_verify_area + the MAX_RW_COUNT cap), the
 * choice between a file's plain and vectored ops, and the vectored entry
 * points uvfs_readv/writev/preadv/pwritev. Filesystems therefore never see
 * a negative position, a position + count past INT64_MAX, or a count above
 * MAX_RW_COUNT.
 *
 * Locks: f_lock (f_pos) for the non-positional calls, taken here as in
 * file.c; nothing else. */
#include <sys/uio.h>

#include "internal.h"

#define MAX_RW_COUNT ((size_t)(INT_MAX & ~4095)) /* Linux: INT_MAX & PAGE_MASK */
#define IOV_MAX_SEGS 1024 /* UIO_MAXIOV */
#define IOV_STACK 8

HIDDEN ssize_t rw_verify_area(struct uvfs_file *f, int64_t pos, size_t count)
{
	bool unsigned_off = f->f_op->fop_flags & UVFS_FOP_UNSIGNED_OFFSET;
	if (count > SSIZE_MAX)
		return -EINVAL;
	if (pos < 0) {
		if (!unsigned_off)
			return -EINVAL;
		if (count >= (uint64_t)0 - (uint64_t)pos) /* wraps past 2^64 */
			return -EOVERFLOW;
	} else if ((uint64_t)pos + count > (uint64_t)INT64_MAX && !unsigned_off) {
		return -EINVAL;
	}
	return (ssize_t)(count > MAX_RW_COUNT ? MAX_RW_COUNT : count);
}

/* Checked, capped; dispatch to ->read or, failing that, ->read_iter. */
HIDDEN ssize_t rw_read(struct uvfs_file *f, void *buf, size_t len, int64_t pos)
{
	ssize_t n = rw_verify_area(f, pos, len);
	if (n < 0)
		return n;
	if (f->f_op->read)
		return f->f_op->read(f, buf, (size_t)n, (uint64_t)pos);
	struct iovec iov = { buf, (size_t)n };
	return f->f_op->read_iter(f, &iov, 1, (uint64_t)pos);
}

/* len already verified (the caller removes privileges between the check
 * and the write). */
HIDDEN ssize_t rw_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *pos)
{
	if (f->f_op->write)
		return f->f_op->write(f, buf, len, pos);
	struct iovec iov = { (void *)buf, len };
	return f->f_op->write_iter(f, &iov, 1, pos);
}

/* Linux import_iovec: copies iov into *out (stack or heap), caps the total
 * at MAX_RW_COUNT by shortening segments, and returns the total or -errno.
 * *out is left for iov_release. */
static ssize_t iov_import(const struct iovec *iov, int cnt, struct iovec *stack, struct iovec **out, int *outcnt)
{
	*out = stack;
	*outcnt = 0;
	if (cnt < 0 || cnt > IOV_MAX_SEGS)
		return -EINVAL;
	if (cnt == 0)
		return 0;
	if (!iov)
		return -EFAULT;
	if (cnt > IOV_STACK && !(*out = malloc((size_t)cnt * sizeof(**out)))) {
		*out = stack;
		return -ENOMEM;
	}
	size_t tot = 0;
	for (int i = 0; i < cnt; i++) {
		size_t len = iov[i].iov_len;
		if (len > SSIZE_MAX)
			return -EINVAL;
		if (len > MAX_RW_COUNT - tot)
			len = MAX_RW_COUNT - tot;
		(*out)[i] = (struct iovec){ iov[i].iov_base, len };
		tot += len;
	}
	*outcnt = cnt;
	return (ssize_t)tot;
}

static void iov_release(struct iovec *v, struct iovec *stack)
{
	if (v != stack)
		free(v);
}

/* Linux do_loop_readv_writev: one segment at a time, stop at the first
 * short transfer; an error after progress returns the progress. */
static ssize_t loop_rw(struct uvfs_file *f, const struct iovec *v, int cnt, uint64_t *pos, bool write)
{
	ssize_t ret = 0;
	for (int i = 0; i < cnt; i++) {
		if (!v[i].iov_len)
			continue;
		ssize_t nr;
		if (write) {
			nr = f->f_op->write(f, v[i].iov_base, v[i].iov_len, pos);
		} else {
			nr = f->f_op->read(f, v[i].iov_base, v[i].iov_len, *pos);
			if (nr > 0)
				*pos += (uint64_t)nr;
		}
		if (nr < 0) {
			if (!ret)
				ret = nr;
			break;
		}
		ret += nr;
		if ((size_t)nr != v[i].iov_len)
			break;
	}
	return ret;
}

/* *pos: in, the position; out, where the next transfer starts (for
 * O_APPEND writes the fs moves it to the end). */
static ssize_t do_rw_iov(struct uvfs_file *f, const struct iovec *iov, int cnt, uint64_t *pos, bool write)
{
	int err = write ? file_may_write(f) : file_may_read(f);
	if (err)
		return err;
	struct iovec stack[IOV_STACK], *v;
	int vcnt;
	ssize_t tot = iov_import(iov, cnt, stack, &v, &vcnt);
	if (tot <= 0)
		goto out; /* an error, or nothing to move: the fs is not called */
	if ((tot = rw_verify_area(f, (int64_t)*pos, (size_t)tot)) < 0)
		goto out;
	if (write) {
		file_remove_privs(f);
		tot = f->f_op->write_iter ? f->f_op->write_iter(f, v, vcnt, pos) : loop_rw(f, v, vcnt, pos, true);
	} else if (f->f_op->read_iter) {
		tot = f->f_op->read_iter(f, v, vcnt, *pos);
		if (tot > 0)
			*pos += (uint64_t)tot;
	} else {
		tot = loop_rw(f, v, vcnt, pos, false);
	}
out:
	iov_release(v, stack);
	return tot;
}

static ssize_t rw_iov_fpos(struct uvfs_file *f, const struct iovec *iov, int cnt, bool write)
{
	rcu_enter();
	if (f->f_op->fop_flags & UVFS_FOP_STREAM) {
		uint64_t zero = 0; /* no position: no f_lock either */
		return do_rw_iov(f, iov, cnt, &zero, write);
	}
	uvfs_lock_acquire(&f->f_lock);
	uint64_t pos = f->f_pos;
	ssize_t n = do_rw_iov(f, iov, cnt, &pos, write);
	if (n > 0)
		f->f_pos = pos;
	uvfs_lock_release(&f->f_lock);
	if (write)
		write_done(f, n, pos - (uint64_t)(n > 0 ? n : 0));
	return n;
}

static ssize_t rw_iov_at(struct uvfs_file *f, const struct iovec *iov, int cnt, off_t off, bool write)
{
	rcu_enter();
	if (off < 0)
		return -EINVAL; /* preadv/pwritev check before anything else */
	if (f->f_op->fop_flags & UVFS_FOP_STREAM)
		return -ESPIPE;
	uint64_t pos = (uint64_t)off;
	ssize_t n = do_rw_iov(f, iov, cnt, &pos, write);
	if (write)
		write_done(f, n, pos - (uint64_t)(n > 0 ? n : 0));
	return n;
}

UVFS_API ssize_t uvfs_readv(struct uvfs_file *f, const struct iovec *iov, int iovcnt)
{
	return rw_iov_fpos(f, iov, iovcnt, false);
}

UVFS_API ssize_t uvfs_writev(struct uvfs_file *f, const struct iovec *iov, int iovcnt)
{
	return rw_iov_fpos(f, iov, iovcnt, true);
}

UVFS_API ssize_t uvfs_preadv(struct uvfs_file *f, const struct iovec *iov, int iovcnt, off_t off)
{
	return rw_iov_at(f, iov, iovcnt, off, false);
}

UVFS_API ssize_t uvfs_pwritev(struct uvfs_file *f, const struct iovec *iov, int iovcnt, off_t off)
{
	return rw_iov_at(f, iov, iovcnt, off, true);
}
