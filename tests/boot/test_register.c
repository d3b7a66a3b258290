/* test_register.c — registerFilesystems: the seed's flags (spec §1.1). */
#include <criterion/criterion.h>
#include <errno.h>

#include "boot/boot.h"
#include "fsimpl/kernfs/task.h"
#include "fixture.h"

static int user_mount(struct uvfs *vfs, const char *type)
{
	struct uvfs_cred cred;
	struct uvfs_mount *m;
	uvfs_cred_init_root(&cred);
	/* MountDisconnected checks AllowUserMount (NewMountNamespace does not). */
	int rc = uvfs_mount_disconnected(vfs, &cred, "none", type, &(struct uvfs_mount_opts){ 0 }, &m);
	if (!rc)
		uvfs_mount_put(m);
	return rc;
}

Test(register, seed_flags, .timeout = 30)
{
	struct uvfs *vfs;
	cr_assert_eq(uvfs_create(&vfs), 0);
	cr_assert_eq(uvfs_boot_register_filesystems(vfs, 0), 0);
	/* 9p and devpts: internal mounts only; the others user-mountable. */
	cr_assert_eq(user_mount(vfs, "9p"), -ENODEV);
	cr_assert_eq(user_mount(vfs, "devpts"), -ENODEV);
	cr_assert_eq(user_mount(vfs, "tmpfs"), 0);
	struct uvfs_tasks *tasks; /* proc needs a task table to show */
	cr_assert_eq(uvfs_tasks_new(vfs, &tasks), 0);
	cr_assert_eq(user_mount(vfs, "proc"), 0);
	uvfs_tasks_destroy(tasks);
	cr_assert_eq(user_mount(vfs, "sysfs"), 0);
	cr_assert_eq(user_mount(vfs, "devtmpfs"), 0);
	cr_assert_eq(user_mount(vfs, "nosuchfs"), -ENODEV);
	/* Twice is an error (the seed panics), never a crash. */
	cr_assert_lt(uvfs_boot_register_filesystems(vfs, 0), 0);
	fx_destroy_checked(vfs);
}

Test(register, bad_flags, .timeout = 30)
{
	struct uvfs *vfs;
	cr_assert_eq(uvfs_create(&vfs), 0);
	cr_assert_eq(uvfs_boot_register_filesystems(vfs, 1u << 7), -EINVAL);
	cr_assert_eq(uvfs_boot_register_filesystems(NULL, 0), -EINVAL);
	fx_destroy_checked(vfs);
}
