/* test_hostile.c — bad arguments an interceptor may pass straight through:
 * NULL pointers, huge counts, fds out of range, overlong paths. Each gives
 * Linux's errno, never a crash, and leaves nothing behind (the fixture
 * counts live objects at teardown). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

static struct uvfs_sbx_task *task_with_file(void)
{
	struct uvfs_sbx_task *t;
	struct uvfs_sbx_task_params p = { .vfs = fx.vfs, .mntns = fx.ns, .root = &fx.root, .umask = 022 };
	cr_assert_eq(uvfs_sbx_task_new(&p, &t), 0);
	cr_assert_eq(uvfs_sbx_openat(t, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644), 0);
	cr_assert_eq(uvfs_sbx_write(t, 0, "data", 4), 4);
	cr_assert_eq(uvfs_sbx_lseek(t, 0, 0, SEEK_SET), 0);
	return t;
}

FX_TEST(sbx_hostile, null_buffers)
{
	struct uvfs_sbx_task *t = task_with_file();
	FX_ASSERT_ERR(uvfs_sbx_read(t, 0, NULL, 10), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_write(t, 0, NULL, 10), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_pread64(t, 0, NULL, 10, 0), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_pwrite64(t, 0, NULL, 10, 0), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_readv(t, 0, NULL, 2), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_writev(t, 0, NULL, 2), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_preadv(t, 0, NULL, 2, 0), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_pwritev(t, 0, NULL, 2, 0), -EFAULT);
	cr_assert_eq(uvfs_sbx_read(t, 0, NULL, 0), 0);
	FX_ASSERT_ERR(uvfs_sbx_fstat(t, 0, NULL), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_newfstatat(t, AT_FDCWD, "/f", NULL, 0), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_statx(t, AT_FDCWD, "/f", 0, STATX_BASIC_STATS, NULL), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_getcwd(t, NULL, 100), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_readlinkat(t, AT_FDCWD, "/f", NULL, 100), -EINVAL); /* not a link: EINVAL first */
	FX_ASSERT_OK(uvfs_sbx_symlinkat(t, "f", AT_FDCWD, "/l"));
	FX_ASSERT_ERR(uvfs_sbx_readlinkat(t, AT_FDCWD, "/l", NULL, 100), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_openat(t, AT_FDCWD, NULL, O_RDONLY, 0), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_openat2(t, AT_FDCWD, "/f", NULL, sizeof(struct open_how)), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_mkdirat(t, AT_FDCWD, NULL, 0755), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_renameat2(t, AT_FDCWD, "/f", AT_FDCWD, NULL, 0), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_symlinkat(t, NULL, AT_FDCWD, "/x"), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_getxattr(t, "/f", NULL, NULL, 0), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_getxattr(t, NULL, "user.a", NULL, 0), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_getxattr(t, "/f", "user.a", NULL, 10), -ENODATA);
	FX_ASSERT_ERR(uvfs_sbx_setxattr(t, "/f", "user.a", NULL, 10, 0), -EFAULT);
	FX_ASSERT_OK(uvfs_sbx_setxattr(t, "/f", "user.a", "v", 1, 0));
	FX_ASSERT_ERR(uvfs_sbx_getxattr(t, "/f", "user.a", NULL, 10), -EFAULT);
	cr_assert_eq(uvfs_sbx_getxattr(t, "/f", "user.a", NULL, 0), 1);
	FX_ASSERT_ERR(uvfs_sbx_listxattr(t, "/f", NULL, 10), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_fgetxattr(t, 0, "user.a", NULL, 10), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_poll(t, NULL, 1, 0), -EFAULT);
	cr_assert_eq(uvfs_sbx_poll(t, NULL, 0, 0), 0);
	FX_ASSERT_ERR(uvfs_sbx_statfs(t, "/", NULL), -EFAULT);
	FX_ASSERT_ERR(uvfs_sbx_getdents64(t, 0, NULL, 100), -ENOTDIR);
	long d = uvfs_sbx_openat(t, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, 0);
	cr_assert_eq(d, 1);
	FX_ASSERT_ERR(uvfs_sbx_getdents64(t, 1, NULL, 100), -EFAULT);
	uvfs_sbx_task_put(t);
}

FX_TEST(sbx_hostile, bad_fds_and_sizes)
{
	struct uvfs_sbx_task *t = task_with_file();
	int fds[] = { -1, -100, 1, 1023, 1024, INT_MAX, INT_MIN };
	char buf[16];
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
		FX_ASSERT_ERR(uvfs_sbx_read(t, fds[i], buf, sizeof buf), -EBADF);
		FX_ASSERT_ERR(uvfs_sbx_close(t, fds[i]), -EBADF);
		FX_ASSERT_ERR(uvfs_sbx_fcntl(t, fds[i], F_GETFD, 0), -EBADF);
		FX_ASSERT_ERR(uvfs_sbx_dup(t, fds[i]), -EBADF);
		FX_ASSERT_ERR(uvfs_sbx_fchdir(t, fds[i]), -EBADF);
		FX_ASSERT_ERR(uvfs_sbx_fstatfs(t, fds[i], NULL), -EBADF);
		FX_ASSERT_ERR(uvfs_sbx_ioctl(t, fds[i], FIOCLEX, NULL), -EBADF);
		if (fds[i] != AT_FDCWD)
			FX_ASSERT_ERR(uvfs_sbx_openat(t, fds[i], "x", O_RDONLY, 0), -EBADF);
	}
	FX_ASSERT_ERR(uvfs_sbx_dup2(t, 0, -1), -EBADF);
	FX_ASSERT_ERR(uvfs_sbx_dup2(t, 0, INT_MAX), -EBADF);
	FX_ASSERT_ERR(uvfs_sbx_fcntl(t, 0, F_DUPFD, (unsigned long)-1), -EINVAL);
	/* The kernel takes arg as an unsigned int: 1 << 40 is 0. */
	cr_assert_eq(uvfs_sbx_fcntl(t, 0, F_DUPFD, 1UL << 40), 1);
	FX_ASSERT_OK(uvfs_sbx_close(t, 1));
	FX_ASSERT_ERR(uvfs_sbx_fcntl(t, 0, 12345, 0), -EINVAL);
	FX_ASSERT_ERR(uvfs_sbx_close_range(t, 5, 4, 0), -EINVAL);
	FX_ASSERT_OK(uvfs_sbx_close_range(t, 1000000, ~0U, 0));
	/* Huge counts: the VFS caps transfers; nothing is read past EOF. */
	cr_assert_eq(uvfs_sbx_read(t, 0, buf, SIZE_MAX), -EINVAL);
	cr_assert_eq(uvfs_sbx_read(t, 0, buf, (size_t)SSIZE_MAX), 4);
	FX_ASSERT_ERR(uvfs_sbx_readlinkat(t, AT_FDCWD, "/f", buf, 0), -EINVAL);
	FX_ASSERT_ERR(uvfs_sbx_readlinkat(t, AT_FDCWD, "/f", buf, (size_t)INT_MAX + 1), -EINVAL);
	FX_ASSERT_ERR(uvfs_sbx_readv(t, 0, (struct iovec *)buf, -1), -EINVAL);
	FX_ASSERT_ERR(uvfs_sbx_readv(t, 0, (struct iovec *)buf, 1025), -EINVAL);
	FX_ASSERT_ERR(uvfs_sbx_poll(t, (struct pollfd *)buf, 1u << 30, 0), -EINVAL);
	FX_ASSERT_ERR(uvfs_sbx_ppoll(t, NULL, 0, &(struct timespec){ -1, 0 }), -EINVAL);
	FX_ASSERT_ERR(uvfs_sbx_ppoll(t, NULL, 0, &(struct timespec){ 0, 1000000000L }), -EINVAL);
	FX_ASSERT_ERR(uvfs_sbx_pselect6(t, -1, NULL, NULL, NULL, NULL), -EINVAL);
	struct open_how how = { 0 };
	FX_ASSERT_ERR(uvfs_sbx_openat2(t, AT_FDCWD, "/f", &how, 8), -EINVAL);
	FX_ASSERT_ERR(uvfs_sbx_openat2(t, AT_FDCWD, "/f", &how, 1 << 20), -E2BIG);
	char big[64] = { 0 };
	memcpy(big, &how, sizeof how);
	cr_assert_eq(uvfs_sbx_openat2(t, AT_FDCWD, "/f", (struct open_how *)big, sizeof big), 1);
	big[40] = 1;
	FX_ASSERT_ERR(uvfs_sbx_openat2(t, AT_FDCWD, "/f", (struct open_how *)big, sizeof big), -E2BIG);
	how.flags = 1ULL << 40;
	FX_ASSERT_ERR(uvfs_sbx_openat2(t, AT_FDCWD, "/f", &how, sizeof how), -EINVAL);
	uvfs_sbx_task_put(t);
}

FX_TEST(sbx_hostile, long_paths)
{
	struct uvfs_sbx_task *t = task_with_file();
	char *p = malloc(UVFS_PATH_MAX + 10);
	memset(p, 'a', UVFS_PATH_MAX + 9);
	p[UVFS_PATH_MAX + 9] = 0;
	FX_ASSERT_ERR(uvfs_sbx_openat(t, AT_FDCWD, p, O_RDONLY, 0), -ENAMETOOLONG);
	FX_ASSERT_ERR(uvfs_sbx_chdir(t, p), -ENAMETOOLONG);
	FX_ASSERT_ERR(uvfs_sbx_mkdirat(t, AT_FDCWD, p, 0755), -ENAMETOOLONG);
	p[256] = 0;
	FX_ASSERT_ERR(uvfs_sbx_mkdirat(t, AT_FDCWD, p, 0755), -ENAMETOOLONG);
	p[255] = 0;
	FX_ASSERT_OK(uvfs_sbx_mkdirat(t, AT_FDCWD, p, 0755));
	FX_ASSERT_OK(uvfs_sbx_unlinkat(t, AT_FDCWD, p, AT_REMOVEDIR));
	free(p);
	uvfs_sbx_task_put(t);
}
