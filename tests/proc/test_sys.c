/* test_sys.c — sysfs on the kernfs builder: the tree, cpu files, statfs,
 * mkdir refused except synthetic mount points under /sys/fs, and teardown
 * with zero live objects. */
#include <unistd.h>

#include "fixture.h"
#include "uvfs_fs.h"
#include "fsimpl/kernfs/task.h"
#include "fsimpl/sys/sys.h"

static void sys_setup(void)
{
	fx_setup();
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &uvfs_sysfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST));
	fx_must_mkdir("/sys", 0555);
	struct uvfs_pathop p = fx_popf("/sys");
	struct uvfs_mount_opts o = { .flags = UVFS_MNT_NOSUID | UVFS_MNT_NODEV | UVFS_MNT_NOEXEC };
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "sysfs", &p, "sysfs", &o));
}

#define SYS_TEST(name)                                                                                           \
	static void sbody_##name(void);                                                                          \
	Test(sys, name, .timeout = 60)                                                                           \
	{                                                                                                        \
		sys_setup();                                                                                     \
		sbody_##name();                                                                                  \
		fx_teardown();                                                                                   \
	}                                                                                                        \
	static void sbody_##name(void)

SYS_TEST(tree)
{
	char list[1024];
	fx_list_dir("/sys", list, sizeof list);
	cr_assert_str_eq(list, "block,bus,class,dev,devices,firmware,fs,kernel,module,power");
	fx_list_dir("/sys/fs", list, sizeof list);
	cr_assert_str_eq(list, "");
	long nc = sysconf(_SC_NPROCESSORS_ONLN);
	char want[64];
	snprintf(want, sizeof want, nc == 1 ? "0\n" : "0-%ld\n", nc - 1);
	const char *files[] = { "online", "possible", "present" };
	for (int i = 0; i < 3; i++) {
		char path[64], buf[64];
		snprintf(path, sizeof path, "/sys/devices/system/cpu/%s", files[i]);
		cr_assert_gt(fx_read_file(path, buf, sizeof buf), 0);
		cr_assert_str_eq(buf, want, "%s", path);
	}
	fx_list_dir("/sys/devices/system/cpu", list, sizeof list);
	cr_assert(strstr(list, "cpu0,") && strstr(list, "kernel_max,online,possible,present"), "%s", list);
	char path[64];
	struct statx st;
	snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%ld", nc - 1);
	FX_ASSERT_OK(fx_stat(path, &st));
	cr_assert(S_ISDIR(st.stx_mode));
	snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%ld", nc);
	FX_ASSERT_ERR(fx_stat(path, &st), -ENOENT);
	FX_ASSERT_ERR(fx_stat("/sys/devices/system/cpu/cpu01", &st), -ENOENT);
	struct statfs sf;
	struct uvfs_pathop p = fx_popf("/sys");
	FX_ASSERT_OK(uvfs_statfs_at(fx.vfs, &fx.cred, &p, &sf));
	cr_assert_eq(sf.f_type, UVFS_SYSFS_MAGIC);
}

SYS_TEST(synthetic_mountpoints)
{
	FX_ASSERT_ERR(fx_mkdir("/sys/x", 0755), -EPERM);
	FX_ASSERT_ERR(fx_mkdir("/sys/fs/cgroup", 0755), -EPERM);
	struct uvfs_pathop p = fx_pop("/sys/fs/cgroup");
	struct uvfs_create_opts o = { .flags = UVFS_MKDIR_SYNTHETIC };
	FX_ASSERT_OK(uvfs_mkdir_at2(fx.vfs, &fx.cred, &p, 0755, &o));
	FX_ASSERT_ERR(uvfs_mkdir_at2(fx.vfs, &fx.cred, &p, 0755, &o), -EEXIST);
	p = fx_pop("/sys/kernel/x");
	FX_ASSERT_ERR(uvfs_mkdir_at2(fx.vfs, &fx.cred, &p, 0755, &o), -EPERM);
	/* The way boot makes them. */
	FX_ASSERT_OK(uvfs_make_synthetic_mountpoint(fx.vfs, &fx.cred, "/sys/fs/fuse", &fx.root));
	char list[256];
	fx_list_dir("/sys/fs", list, sizeof list);
	cr_assert_str_eq(list, "cgroup,fuse");
	FX_ASSERT_OK(fx_mount_tmpfs("/sys/fs/cgroup", NULL, 0));
	fx_must_write("/sys/fs/cgroup/f", "x");
	struct statx a, b;
	FX_ASSERT_OK(fx_stat("/sys/fs/fuse", &a));
	/* Drop every unused cached dentry: the name comes back from the
	 * list with the same inode number. */
	struct uvfs_vd sv;
	struct uvfs_pathop sp = fx_popf("/sys");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &sp, 0, &sv));
	cr_assert_eq(uvfs_fs_shrink(uvfs_mount_fs(sv.mount), 0), 0);
	uvfs_vd_put(&sv);
	FX_ASSERT_OK(fx_stat("/sys/fs/fuse", &b));
	cr_assert_eq(a.stx_ino, b.stx_ino);
	fx_list_dir("/sys/fs", list, sizeof list);
	cr_assert_str_eq(list, "cgroup,fuse");
	FX_ASSERT_OK(fx_umount("/sys/fs/cgroup", 0));
	FX_ASSERT_OK(fx_stat("/sys/fs/cgroup", &b));
	cr_assert(S_ISDIR(b.stx_mode));
}

static void expect_cpus(const char *online, int present_max)
{
	char buf[64], path[64];
	struct statx st;
	cr_assert_gt(fx_read_file("/sys/devices/system/cpu/online", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, online);
	cr_assert_gt(fx_read_file("/sys/devices/system/cpu/possible", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, online);
	snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d", present_max);
	FX_ASSERT_OK(fx_stat(path, &st));
	snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d", present_max + 1);
	FX_ASSERT_ERR(fx_stat(path, &st), -ENOENT);
	char list[1024], want[16];
	fx_list_dir("/sys/devices/system/cpu", list, sizeof list);
	snprintf(want, sizeof want, "cpu%d,", present_max);
	cr_assert(strstr(list, want), "%s", list);
	snprintf(want, sizeof want, "cpu%d,", present_max + 1);
	cr_assert(!strstr(list, want), "%s", list);
}

/* The CPU files and cpuN directories follow uvfs_tasks_set_ncpus at once,
 * on a sysfs mounted before the table existed too; a cpuN looked up before
 * the count shrank goes away (its cached dentry fails revalidation). */
SYS_TEST(ncpus_follows)
{
	struct uvfs_tasks *t;
	FX_ASSERT_OK(uvfs_tasks_new(fx.vfs, &t));
	FX_ASSERT_OK(uvfs_tasks_set_ncpus(t, 2));
	expect_cpus("0-1\n", 1);
	FX_ASSERT_OK(uvfs_tasks_set_ncpus(t, 4));
	expect_cpus("0-3\n", 3);
	FX_ASSERT_OK(uvfs_tasks_set_ncpus(t, 1));
	expect_cpus("0\n", 0);
	uvfs_tasks_destroy(t);
}
