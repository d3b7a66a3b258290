/* test_cgroup.c — cgroupfs v1: mount-option rules, control files with
 * gVisor's defaults, job.id writes, cgroup.procs/tasks from the task
 * table, mountinfo options, teardown with zero live objects. */
#include "fsimpl/cgroup/cgroup.h"
#include "proc_fx.h"

static int mount_cg(const char *path, const char *data)
{
	struct uvfs_pathop p = fx_popf(path);
	struct uvfs_mount_opts o = { .data = data };
	return uvfs_mount_at(fx.vfs, &fx.cred, "cgroup", &p, "cgroup", &o);
}

static void cg_setup(void)
{
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &uvfs_cgroupfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST));
	const char *dirs[] = { "/cg", "/cg/a", "/cg/b", "/cg/c", "/cg/d", NULL };
	for (int i = 0; dirs[i]; i++)
		fx_must_mkdir(dirs[i], 0755);
}

PROC_TEST(cgroup, option_rules)
{
	cg_setup();
	FX_ASSERT_ERR(mount_cg("/cg/a", "all,cpu"), -EINVAL);
	FX_ASSERT_ERR(mount_cg("/cg/a", "cpu,bogus"), -EINVAL);
	FX_ASSERT_OK(mount_cg("/cg/a", "cpu,cpuacct"));
	/* The same set: the same hierarchy. */
	FX_ASSERT_OK(mount_cg("/cg/b", "cpuacct,cpu"));
	FX_ASSERT_OK(fx_stat("/cg/a/cpu.shares", &(struct statx){ 0 }));
	cr_assert_eq(fx_ino("/cg/a"), fx_ino("/cg/b"));
	struct uvfs_file *f;
	FX_ASSERT_ERR(fx_open("/cg/a/job.id", O_RDONLY, 0, &f), -ENOENT); /* no job controller here */
	/* A bound controller in another set: EBUSY; "all" overlaps too. */
	FX_ASSERT_ERR(mount_cg("/cg/c", "cpu"), -EBUSY);
	FX_ASSERT_ERR(mount_cg("/cg/c", NULL), -EBUSY);
	FX_ASSERT_OK(mount_cg("/cg/c", "memory"));
	FX_ASSERT_OK(mount_cg("/cg/d", "job,cpuset"));
	/* Once every mount of a hierarchy is gone its controllers are free. */
	FX_ASSERT_OK(fx_umount("/cg/a", 0));
	FX_ASSERT_ERR(mount_cg("/cg/a", "cpu"), -EBUSY);
	FX_ASSERT_OK(fx_umount("/cg/b", 0));
	FX_ASSERT_OK(mount_cg("/cg/a", "cpu"));
	char *s;
	cr_assert_gt(pfx_read("/proc/self/mountinfo", &s), 0);
	cr_assert(strstr(s, " /cg/a rw - cgroup cgroup rw,cpu\n"), "%s", s);
	cr_assert(strstr(s, " /cg/d rw - cgroup cgroup rw,cpuset,job\n"), "%s", s);
	free(s);
}

PROC_TEST(cgroup, files)
{
	cg_setup();
	FX_ASSERT_OK(mount_cg("/cg/a", NULL)); /* all */
	char list[1024];
	fx_list_dir("/cg/a", list, sizeof list);
	cr_assert_str_eq(list, "cgroup.clone_children,cgroup.procs,cgroup.sane_behavior,cpu.cfs_period_us,"
			       "cpu.cfs_quota_us,cpu.shares,cpuacct.stat,cpuacct.usage,cpuacct.usage_sys,"
			       "cpuacct.usage_user,cpuset.cpus,cpuset.mems,job.id,memory.limit_in_bytes,"
			       "memory.usage_in_bytes,notify_on_release,tasks");
	char buf[256];
	cr_assert_gt(fx_read_file("/cg/a/cpu.shares", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "1024\n");
	cr_assert_gt(fx_read_file("/cg/a/cpu.cfs_quota_us", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "-1\n");
	cr_assert_gt(fx_read_file("/cg/a/cpuacct.stat", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "user 0\nsystem 0\n");
	cr_assert_gt(fx_read_file("/cg/a/job.id", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "0\n");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/cg/a/job.id", O_WRONLY, 0, &f));
	cr_assert_eq(uvfs_write(f, "42\n", 3), 3);
	FX_ASSERT_ERR(uvfs_pwrite(f, "x1", 2, 0), -EINVAL);
	uvfs_file_put(f);
	cr_assert_gt(fx_read_file("/cg/a/job.id", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "42\n");
	/* procs and tasks follow the task table. */
	FX_ASSERT_OK(pfx_register(7, 0, "/", "/", "seven", NULL));
	FX_ASSERT_OK(pfx_register(7, 8, "/", "/", "eight", NULL));
	cr_assert_gt(fx_read_file("/cg/a/cgroup.procs", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "1\n7\n");
	cr_assert_gt(fx_read_file("/cg/a/tasks", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "1\n7\n8\n");
	struct statfs sf;
	struct uvfs_pathop p = fx_popf("/cg/a");
	FX_ASSERT_OK(uvfs_statfs_at(fx.vfs, &fx.cred, &p, &sf));
	cr_assert_eq(sf.f_type, UVFS_CGROUP_SUPER_MAGIC);
}

/* Linux joins a hierarchy's controllers in its subsystem order (that of
 * /proc/cgroups: cpuset, cpu, cpuacct, blkio, memory, ...), whatever order
 * the mount options named them in; gVisor's job comes last. */
PROC_TEST(cgroup, controller_order)
{
	cg_setup();
	FX_ASSERT_OK(mount_cg("/cg/a", "memory,cpuacct,cpu,cpuset"));
	char *s;
	cr_assert_gt(pfx_read("/proc/self/mountinfo", &s), 0);
	cr_assert(strstr(s, " /cg/a rw - cgroup cgroup rw,cpuset,cpu,cpuacct,memory\n"), "%s", s);
	free(s);
	cr_assert_gt(pfx_read("/proc/1/cgroup", &s), 0);
	cr_assert_str_eq(s, "1:cpuset,cpu,cpuacct,memory:/\n");
	free(s);
	FX_ASSERT_OK(fx_umount("/cg/a", 0));
	FX_ASSERT_OK(mount_cg("/cg/b", NULL)); /* all */
	cr_assert_gt(pfx_read("/proc/self/mountinfo", &s), 0);
	cr_assert(strstr(s, " /cg/b rw - cgroup cgroup rw,cpuset,cpu,cpuacct,memory,job\n"), "%s", s);
	free(s);
	cr_assert_gt(pfx_read("/proc/1/cgroup", &s), 0);
	cr_assert_str_eq(s, "1:cpuset,cpu,cpuacct,memory,job:/\n");
	free(s);
}
