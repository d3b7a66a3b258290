/* test_host_fd.c — uvfs_file_host_fd as the VFS answers it: -EOPNOTSUPP
 * for O_PATH files, non-regular files and filesystems without a ->host_fd
 * op (tmpfs), and never calling the op of a non-regular file. The gofer's
 * real host fds are tested in tests/gofer/test_direct.c. */
#include <unistd.h>

#include "fixture.h"

#include "uvfs_fs.h"

static int host_fd_calls;
static int dev_host_fd(struct uvfs_file *f)
{
	(void)f;
	host_fd_calls++;
	return dup(0);
}
static const struct uvfs_file_ops dev_ops = { .host_fd = dev_host_fd };

FX_TEST(host_fd, tmpfs_regular_file_has_none)
{
	fx_must_write("/f", "data");
	struct uvfs_file *f = NULL;
	cr_assert_eq(fx_open("/f", O_RDONLY, 0, &f), 0);
	cr_assert_eq(uvfs_file_host_fd(f), -EOPNOTSUPP);
	uvfs_file_put(f);
}

FX_TEST(host_fd, o_path_and_directories_have_none)
{
	fx_must_write("/f", "data");
	struct uvfs_file *f = NULL;
	cr_assert_eq(fx_open("/f", O_PATH, 0, &f), 0);
	cr_assert_eq(uvfs_file_host_fd(f), -EOPNOTSUPP);
	uvfs_file_put(f);
	cr_assert_eq(fx_open("/", O_RDONLY | O_DIRECTORY, 0, &f), 0);
	cr_assert_eq(uvfs_file_host_fd(f), -EOPNOTSUPP);
	uvfs_file_put(f);
}

FX_TEST(host_fd, op_of_a_device_is_never_called)
{
	struct uvfs_pathop p = fx_pop("/dev");
	cr_assert_eq(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFCHR | 0666, makedev(241, 0)), 0);
	cr_assert_eq(uvfs_register_device(fx.vfs, UVFS_DEV_CHAR, 241, 0, &dev_ops, NULL, "test"), 0);
	struct uvfs_file *f = NULL;
	cr_assert_eq(fx_open("/dev", O_RDONLY, 0, &f), 0);
	cr_assert_eq(uvfs_file_host_fd(f), -EOPNOTSUPP);
	cr_assert_eq(host_fd_calls, 0);
	uvfs_file_put(f);
}
