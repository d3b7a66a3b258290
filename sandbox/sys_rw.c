/* sandbox/sys_rw.c — read, write and their positional and vectored forms,
 * lseek: fd lookup, then the VFS's own checks (rw_verify_area order). */
#include <errno.h>

#include "sandbox/sbx.h"

UVFS_API long uvfs_sbx_read(struct uvfs_sbx_task *t, int fd, void *buf, size_t count)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, uvfs_read(f, buf, count));
}

UVFS_API long uvfs_sbx_write(struct uvfs_sbx_task *t, int fd, const void *buf, size_t count)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, uvfs_write(f, buf, count));
}

UVFS_API long uvfs_sbx_pread64(struct uvfs_sbx_task *t, int fd, void *buf, size_t count, off_t off)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, uvfs_pread(f, buf, count, off));
}

UVFS_API long uvfs_sbx_pwrite64(struct uvfs_sbx_task *t, int fd, const void *buf, size_t count, off_t off)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, uvfs_pwrite(f, buf, count, off));
}

UVFS_API long uvfs_sbx_readv(struct uvfs_sbx_task *t, int fd, const struct iovec *iov, int iovcnt)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, uvfs_readv(f, iov, iovcnt));
}

UVFS_API long uvfs_sbx_writev(struct uvfs_sbx_task *t, int fd, const struct iovec *iov, int iovcnt)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, uvfs_writev(f, iov, iovcnt));
}

UVFS_API long uvfs_sbx_preadv(struct uvfs_sbx_task *t, int fd, const struct iovec *iov, int iovcnt, off_t off)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, uvfs_preadv(f, iov, iovcnt, off));
}

UVFS_API long uvfs_sbx_pwritev(struct uvfs_sbx_task *t, int fd, const struct iovec *iov, int iovcnt, off_t off)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, uvfs_pwritev(f, iov, iovcnt, off));
}

UVFS_API long uvfs_sbx_lseek(struct uvfs_sbx_task *t, int fd, off_t off, int whence)
{
	SBX_CTX(t);
	return WITH_FILE(t, fd, uvfs_seek(f, off, whence));
}
