/* test_cgroup_tree.c — child cgroups (mkdir/rmdir, EBUSY while they hold
 * tasks or children), moving tasks by writing to cgroup.procs and tasks,
 * and /proc/[pid]/cgroup: one "ID:controllers:/path" line per mounted
 * hierarchy, highest ID first, as Linux. */
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

static int rmdir_(const char *path)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_rmdir_at(fx.vfs, &fx.cred, &p);
}

static ssize_t write_as(const struct uvfs_cred *c, const char *path, const char *s)
{
	struct uvfs_file *f;
	int err = fx_open_as(c, path, O_WRONLY, 0, &f);
	if (err)
		return err;
	ssize_t n = uvfs_write(f, s, strlen(s));
	uvfs_file_put(f);
	return n;
}
static ssize_t write_(const char *path, const char *s) { return write_as(&fx.cred, path, s); }

static const char *read_(const char *path)
{
	static char buf[1024];
	ssize_t n = fx_read_file(path, buf, sizeof buf);
	cr_assert_geq(n, 0, "%s: %s", path, fx_err(n));
	return buf;
}

PROC_TEST(cgroup_tree, mkdir_rmdir)
{
	cg_setup();
	FX_ASSERT_OK(mount_cg("/cg/a", "cpu,cpuacct"));
	FX_ASSERT_OK(fx_mkdir("/cg/a/x", 0755));
	FX_ASSERT_OK(fx_mkdir("/cg/a/x/y", 0755));
	FX_ASSERT_ERR(fx_mkdir("/cg/a/x", 0755), -EEXIST);
	FX_ASSERT_ERR(fx_mkdir("/cg/a/cpu.shares", 0755), -EEXIST);
	FX_ASSERT_ERR(fx_mkdir("/cg/a/tasks", 0755), -EEXIST);
	cr_assert_eq(fx_mode("/cg/a/x"), S_IFDIR | 0755);
	char list[1024];
	fx_list_dir("/cg/a/x", list, sizeof list);
	cr_assert_str_eq(list, "cgroup.clone_children,cgroup.procs,cgroup.sane_behavior,cpu.cfs_period_us,"
			       "cpu.cfs_quota_us,cpu.shares,cpuacct.stat,cpuacct.usage,cpuacct.usage_sys,"
			       "cpuacct.usage_user,notify_on_release,tasks,y");
	fx_list_dir("/cg/a", list, sizeof list);
	cr_assert(strstr(list, ",tasks,x"), "%s", list);
	cr_assert_str_eq(read_("/cg/a/x/y/cpu.shares"), "1024\n");
	cr_assert_str_eq(read_("/cg/a/x/cgroup.procs"), "");
	/* The same hierarchy mounted again shows the same children. */
	FX_ASSERT_OK(mount_cg("/cg/b", "cpuacct,cpu"));
	fx_list_dir("/cg/b/x", list, sizeof list);
	cr_assert(strstr(list, ",tasks,y"), "%s", list);
	/* Not empty: a child. */
	FX_ASSERT_ERR(rmdir_("/cg/a/x"), -EBUSY);
	FX_ASSERT_OK(rmdir_("/cg/a/x/y"));
	struct statx st;
	FX_ASSERT_ERR(fx_stat("/cg/b/x/y", &st), -ENOENT);
	FX_ASSERT_ERR(fx_stat("/cg/a/x/y", &st), -ENOENT);
	FX_ASSERT_OK(rmdir_("/cg/a/x"));
	fx_list_dir("/cg/a", list, sizeof list);
	cr_assert(!strstr(list, "x"), "%s", list);
	/* Files of a removed cgroup still open: ENODEV (Linux kernfs). */
	FX_ASSERT_OK(fx_mkdir("/cg/a/x", 0755));
	struct uvfs_file *w, *r;
	FX_ASSERT_OK(fx_open("/cg/a/x/tasks", O_WRONLY, 0, &w));
	FX_ASSERT_OK(fx_open("/cg/a/x/cpu.shares", O_RDONLY, 0, &r));
	char b[16];
	cr_assert_eq(uvfs_read(r, b, sizeof b), 5);
	FX_ASSERT_OK(rmdir_("/cg/a/x"));
	FX_ASSERT_ERR(uvfs_write(w, "1", 1), -ENODEV);
	FX_ASSERT_ERR(uvfs_pread(r, b, sizeof b, 0), -ENODEV);
	uvfs_file_put(w);
	uvfs_file_put(r);
	/* A name used again is a new cgroup. */
	FX_ASSERT_OK(fx_mkdir("/cg/a/x", 0755));
	FX_ASSERT_OK(rmdir_("/cg/a/x"));
	/* Files cannot be removed, and an unprivileged user cannot mkdir. */
	FX_ASSERT_ERR(rmdir_("/cg/a/tasks"), -ENOTDIR);
	struct uvfs_pathop p = fx_pop("/cg/a/z");
	FX_ASSERT_ERR(uvfs_mkdir_at(fx.vfs, &fx.user, &p, 0755), -EACCES);
}

PROC_TEST(cgroup_tree, move_tasks)
{
	cg_setup();
	FX_ASSERT_OK(mount_cg("/cg/a", "cpu,cpuacct"));
	FX_ASSERT_OK(mount_cg("/cg/c", "memory"));
	FX_ASSERT_OK(fx_mkdir("/cg/a/x", 0755));
	FX_ASSERT_OK(fx_mkdir("/cg/a/x/y", 0755));
	FX_ASSERT_OK(fx_mkdir("/cg/c/m", 0755));
	FX_ASSERT_OK(pfx_register(7, 0, "/", "/", "seven", NULL));
	FX_ASSERT_OK(pfx_register(7, 8, "/", "/", "eight", NULL));
	/* cgroup.procs moves the whole thread group. */
	cr_assert_eq(write_("/cg/a/x/y/cgroup.procs", "8\n"), 2);
	cr_assert_str_eq(read_("/cg/a/x/y/cgroup.procs"), "7\n");
	cr_assert_str_eq(read_("/cg/a/x/y/tasks"), "7\n8\n");
	cr_assert_str_eq(read_("/cg/a/cgroup.procs"), "1\n");
	cr_assert_str_eq(read_("/cg/a/tasks"), "1\n");
	cr_assert_str_eq(read_("/cg/a/x/cgroup.procs"), "");
	cr_assert_str_eq(read_("/proc/7/cgroup"), "2:memory:/\n1:cpu,cpuacct:/x/y\n");
	cr_assert_str_eq(read_("/proc/1/cgroup"), "2:memory:/\n1:cpu,cpuacct:/\n");
	/* tasks moves one thread; the others stay. */
	cr_assert_eq(write_("/cg/c/m/tasks", "8"), 1);
	cr_assert_str_eq(read_("/cg/c/m/tasks"), "8\n");
	cr_assert_str_eq(read_("/cg/c/m/cgroup.procs"), "7\n"); /* Linux lists a group with any thread in it */
	cr_assert_str_eq(read_("/cg/c/tasks"), "1\n7\n");
	cr_assert_str_eq(read_("/proc/7/task/8/cgroup"), "2:memory:/m\n1:cpu,cpuacct:/x/y\n");
	cr_assert_str_eq(read_("/proc/7/cgroup"), "2:memory:/\n1:cpu,cpuacct:/x/y\n");
	/* A cgroup with tasks cannot go. */
	FX_ASSERT_ERR(rmdir_("/cg/c/m"), -EBUSY);
	FX_ASSERT_ERR(rmdir_("/cg/a/x/y"), -EBUSY);
	/* Bad writes. */
	FX_ASSERT_ERR(write_("/cg/a/x/cgroup.procs", "99"), -ESRCH);
	FX_ASSERT_ERR(write_("/cg/a/x/cgroup.procs", "7x"), -EINVAL);
	FX_ASSERT_ERR(write_("/cg/a/x/cgroup.procs", "-1"), -EINVAL);
	FX_ASSERT_ERR(write_as(&fx.user, "/cg/a/x/cgroup.procs", "7"), -EACCES);
	/* Back to the root: the cgroup can go. */
	cr_assert_eq(write_("/cg/a/cgroup.procs", "7"), 1);
	cr_assert_str_eq(read_("/proc/7/cgroup"), "2:memory:/\n1:cpu,cpuacct:/\n");
	FX_ASSERT_OK(rmdir_("/cg/a/x/y"));
	/* An exiting task leaves its cgroup. */
	FX_ASSERT_OK(uvfs_task_unregister(T, 8));
	cr_assert_str_eq(read_("/cg/c/m/tasks"), "");
	FX_ASSERT_OK(rmdir_("/cg/c/m"));
	/* A task's cgroup survives a remount of its hierarchy elsewhere. */
	cr_assert_eq(write_("/cg/a/x/tasks", "7"), 1);
	FX_ASSERT_OK(mount_cg("/cg/b", "cpu,cpuacct"));
	FX_ASSERT_OK(fx_umount("/cg/a", 0));
	cr_assert_str_eq(read_("/cg/b/x/tasks"), "7\n");
	cr_assert_str_eq(read_("/proc/7/cgroup"), "2:memory:/\n1:cpu,cpuacct:/x\n");
}

PROC_TEST(cgroup_tree, proc_cgroup_lines)
{
	cg_setup();
	/* No hierarchy mounted: nothing to show. */
	cr_assert_str_eq(read_("/proc/1/cgroup"), "");
	FX_ASSERT_OK(mount_cg("/cg/a", "cpu"));
	FX_ASSERT_OK(mount_cg("/cg/c", "memory,cpuacct"));
	FX_ASSERT_OK(mount_cg("/cg/d", "job,cpuset"));
	cr_assert_str_eq(read_("/proc/1/cgroup"), "3:cpuset,job:/\n2:cpuacct,memory:/\n1:cpu:/\n");
	/* A hierarchy's ID is free again once its last mount goes. */
	FX_ASSERT_OK(fx_umount("/cg/c", 0));
	cr_assert_str_eq(read_("/proc/1/cgroup"), "3:cpuset,job:/\n1:cpu:/\n");
	FX_ASSERT_OK(mount_cg("/cg/c", "memory"));
	cr_assert_str_eq(read_("/proc/self/cgroup"), "3:cpuset,job:/\n2:memory:/\n1:cpu:/\n");
	/* Each child has its own job.id. */
	FX_ASSERT_OK(fx_mkdir("/cg/d/j", 0755));
	cr_assert_eq(write_("/cg/d/j/job.id", "5\n"), 2);
	cr_assert_str_eq(read_("/cg/d/j/job.id"), "5\n");
	cr_assert_str_eq(read_("/cg/d/job.id"), "0\n");
	cr_assert_str_eq(read_("/cg/d/j/cpuset.mems"), "0\n");
}
