/* sandbox/sys_rw.c — read, write and their positional and vectored forms,
 * lseek: fd lookup, then the VFS's own checks (rw_verify_area order). */
#include <errno.h>

#include "sandbox/sbx.h"

/* A NULL buffer is -EFAULT (the kernel's copy would fault): checked once
 * the fd resolved, so -EBADF still comes first. (Linux faults only when
 * bytes move; a NULL read at EOF returns 0 there.) */
#define BUF_OK(buf, count) (!(buf) && (count) ? -EFAULT : 0)

/* Linux import_iovec: a count outside 0..UIO_MAXIOV is -EINVAL before the
 * array is read; an unreadable array or a NULL segment base is -EFAULT. */
static long iov_check(const struct iovec *iov, int iovcnt)
{
	if (iovcnt < 0 || iovcnt > 1024)
		return -EINVAL;
	if (iovcnt && !iov)
		return -EFAULT;
	for (int i = 0; i < iovcnt; i++)
		if (!iov[i].iov_base && iov[i].iov_len)
			return -EFAULT;
	return 0;
}

UVFS_API long uvfs_sbx_read(struct uvfs_sbx_task *t, int fd, void *buf, size_t count)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, BUF_OK(buf, count) ?: uvfs_read(f, buf, count));
}

UVFS_API long uvfs_sbx_write(struct uvfs_sbx_task *t, int fd, const void *buf, size_t count)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, BUF_OK(buf, count) ?: uvfs_write(f, buf, count));
}

UVFS_API long uvfs_sbx_pread64(struct uvfs_sbx_task *t, int fd, void *buf, size_t count, off_t off)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, BUF_OK(buf, count) ?: uvfs_pread(f, buf, count, off));
}

UVFS_API long uvfs_sbx_pwrite64(struct uvfs_sbx_task *t, int fd, const void *buf, size_t count, off_t off)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, BUF_OK(buf, count) ?: uvfs_pwrite(f, buf, count, off));
}

UVFS_API long uvfs_sbx_readv(struct uvfs_sbx_task *t, int fd, const struct iovec *iov, int iovcnt)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, iov_check(iov, iovcnt) ?: uvfs_readv(f, iov, iovcnt));
}

UVFS_API long uvfs_sbx_writev(struct uvfs_sbx_task *t, int fd, const struct iovec *iov, int iovcnt)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, iov_check(iov, iovcnt) ?: uvfs_writev(f, iov, iovcnt));
}

UVFS_API long uvfs_sbx_preadv(struct uvfs_sbx_task *t, int fd, const struct iovec *iov, int iovcnt, off_t off)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, iov_check(iov, iovcnt) ?: uvfs_preadv(f, iov, iovcnt, off));
}

UVFS_API long uvfs_sbx_pwritev(struct uvfs_sbx_task *t, int fd, const struct iovec *iov, int iovcnt, off_t off)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, iov_check(iov, iovcnt) ?: uvfs_pwritev(f, iov, iovcnt, off));
}

UVFS_API long uvfs_sbx_lseek(struct uvfs_sbx_task *t, int fd, off_t off, int whence)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, uvfs_seek(f, off, whence));
}
