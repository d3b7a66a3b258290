/* test_proc.c — proc on the kernfs builder: every file read, seeked and
 * re-read, the task directories, links, errors, and teardown with zero
 * live objects (pfx_teardown → fx_teardown). */
#include "fsimpl/cgroup/cgroup.h"
#include "proc_fx.h"

static const char *const root_files[] = {
	"/proc/cmdline", "/proc/cpuinfo", "/proc/filesystems", "/proc/loadavg", "/proc/meminfo", "/proc/mounts",
	"/proc/stat", "/proc/uptime", "/proc/version", "/proc/sys/kernel/hostname", "/proc/sys/kernel/ostype",
	"/proc/sys/kernel/osrelease", "/proc/sys/kernel/version", "/proc/sys/vm/max_map_count",
	"/proc/sys/vm/mmap_min_addr", "/proc/sys/vm/overcommit_memory", "/proc/self/cmdline", "/proc/1/cgroup",
	"/proc/1/cmdline", "/proc/1/comm", "/proc/1/environ", "/proc/1/mountinfo", "/proc/1/mounts", "/proc/1/stat",
	"/proc/1/statm", "/proc/1/status", "/proc/1/uid_map", "/proc/1/gid_map", "/proc/thread-self/status", "/proc/1/task/1/stat", NULL,
};

PROC_TEST(proc, root_listing)
{
	char list[1024];
	fx_list_dir("/proc", list, sizeof list);
	cr_assert_str_eq(list, "1,cmdline,cpuinfo,filesystems,loadavg,meminfo,mounts,self,stat,sys,thread-self,uptime,"
			       "version");
	fx_list_dir("/proc/1", list, sizeof list);
	cr_assert_str_eq(list, "cgroup,cmdline,comm,cwd,environ,exe,fd,fdinfo,gid_map,mountinfo,mounts,root,stat,statm,status,task,uid_map");
	fx_list_dir("/proc/sys/kernel", list, sizeof list);
	cr_assert_str_eq(list, "hostname,osrelease,ostype,version");
}

/* Every file: st_size 0, non-empty content, pread in the middle, lseek
 * back and read the same again, SEEK_END refused (seq_lseek). */
PROC_TEST(proc, every_file_read_seek_reread)
{
	/* A cgroup hierarchy, so that /proc/1/cgroup has a line. */
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &uvfs_cgroupfs_type, UVFS_FS_USER_MOUNT));
	fx_must_mkdir("/cgm", 0755);
	struct uvfs_pathop cp = fx_popf("/cgm");
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "cgroup", &cp, "cgroup", &(struct uvfs_mount_opts){ 0 }));
	for (int i = 0; root_files[i]; i++) {
		const char *path = root_files[i];
		struct statx st;
		FX_ASSERT_OK(fx_stat(path, &st));
		cr_assert(S_ISREG(st.stx_mode), "%s", path);
		cr_assert_eq(st.stx_size, 0, "%s size %llu", path, (unsigned long long)st.stx_size);
		struct uvfs_file *f;
		FX_ASSERT_OK(fx_open(path, O_RDONLY, 0, &f));
		char a[65536], b[65536];
		ssize_t n = uvfs_read(f, a, sizeof a);
		cr_assert(n > 0, "%s: %zd", path, n);
		cr_assert_eq(uvfs_read(f, b, sizeof b), 0, "%s: EOF", path);
		bool stable = !strstr(path, "uptime") && !strstr(path, "/stat") && !strstr(path, "loadavg");
		if (n > 2) {
			ssize_t m = uvfs_pread(f, b, sizeof b, 2);
			cr_assert_eq(m, n - 2, "%s pread", path);
			if (stable)
				cr_assert(!memcmp(a + 2, b, (size_t)m), "%s pread content", path);
		}
		cr_assert_eq(uvfs_seek(f, 0, SEEK_SET), 0);
		ssize_t m = uvfs_read(f, b, sizeof b);
		if (stable) {
			cr_assert_eq(m, n, "%s re-read length", path);
			cr_assert(!memcmp(a, b, (size_t)n), "%s re-read", path);
		} else {
			cr_assert(m > 0, "%s re-read", path);
		}
		FX_ASSERT_ERR(uvfs_seek(f, 0, SEEK_END), -EINVAL);
		FX_ASSERT_ERR(uvfs_seek(f, -1, SEEK_SET), -EINVAL);
		cr_assert_eq(uvfs_seek(f, 1, SEEK_SET), 1);
		cr_assert_eq(uvfs_read(f, b, 1), 1);
		cr_assert_eq(b[0], a[1], "%s read after seek", path);
		uvfs_file_put(f);
	}
}

PROC_TEST(proc, links)
{
	char buf[256];
	cr_assert_eq(pfx_readlink("/proc/self", buf, sizeof buf), 1);
	cr_assert_str_eq(buf, "1");
	cr_assert_gt(pfx_readlink("/proc/thread-self", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "1/task/1");
	cr_assert_gt(pfx_readlink("/proc/mounts", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "self/mounts");
	cr_assert_gt(pfx_readlink("/proc/1/cwd", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "/home/u");
	cr_assert_gt(pfx_readlink("/proc/1/root", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "/");
	cr_assert_gt(pfx_readlink("/proc/self/exe", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "/home/u");
	/* A short buffer truncates, as readlink(2) does. */
	cr_assert_eq(pfx_readlink("/proc/1/cwd", buf, 5), 4);
	cr_assert_str_eq(buf, "/hom");
	cr_assert_eq(pfx_readlink("/proc/thread-self", buf, 3), 2);
	cr_assert_str_eq(buf, "1/");
	/* Followed: /proc/self/cwd is the directory itself. */
	struct statx a, b;
	FX_ASSERT_OK(fx_stat("/proc/self/cwd", &a));
	FX_ASSERT_OK(fx_stat("/home/u", &b));
	cr_assert_eq(a.stx_ino, b.stx_ino);
	/* cwd changes show at once. */
	struct uvfs_vd h = pfx_vd("/home");
	FX_ASSERT_OK(uvfs_task_set_cwd(T, 1, &h));
	uvfs_vd_put(&h);
	cr_assert_gt(pfx_readlink("/proc/1/cwd", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "/home");
	/* No init task: self is ENOENT. */
	FX_ASSERT_OK(uvfs_tasks_set_init(T, 77));
	FX_ASSERT_ERR(pfx_readlink("/proc/self", buf, sizeof buf), -ENOENT);
	FX_ASSERT_ERR(fx_stat("/proc/self/status", &a), -ENOENT);
}

/* /proc/self follows the caller context's task (review §2: caller context). */
PROC_TEST(proc, self_is_the_calling_task)
{
	char buf[64];
	FX_ASSERT_OK(pfx_register(7, 0, "/", "/home", NULL, NULL));
	FX_ASSERT_OK(pfx_register(7, 8, "/", "/home", NULL, NULL));
	struct uvfs_ctx c = { .tid = 8 };
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&c);
	cr_assert_gt(pfx_readlink("/proc/self", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "7");
	cr_assert_gt(pfx_readlink("/proc/thread-self", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "7/task/8");
	cr_assert_gt(pfx_readlink("/proc/self/cwd", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "/home");
	c.tid = 99; /* not in this table */
	FX_ASSERT_ERR(pfx_readlink("/proc/self", buf, sizeof buf), -ENOENT);
	uvfs_ctx_leave(prev);
	cr_assert_gt(pfx_readlink("/proc/self", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "1", "no context: the init task");
}

PROC_TEST(proc, task_contents)
{
	char *s;
	ssize_t n = pfx_read("/proc/1/cmdline", &s);
	cr_assert_eq(n, 15);
	cr_assert(!memcmp(s, "/bin/sh\0-c\0x y\0", 15));
	free(s);
	n = pfx_read("/proc/self/environ", &s);
	cr_assert_eq(n, 10);
	cr_assert(!memcmp(s, "A=1\0B=two\0", 10));
	free(s);
	n = pfx_read("/proc/1/comm", &s);
	cr_assert_str_eq(s, "sh\n");
	free(s);
	pfx_read("/proc/1/status", &s);
	cr_assert(strstr(s, "Name:\tsh\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t1\n"), "%s", s);
	cr_assert(strstr(s, "\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"), "%s", s);
	cr_assert(strstr(s, "\nThreads:\t1\n"), "%s", s);
	free(s);
	FX_ASSERT_OK(uvfs_task_set_state(T, 1, 'R'));
	pfx_read("/proc/1/stat", &s);
	cr_assert(!strncmp(s, "1 (sh) R 0 1 1 0 -1 ", 20), "%s", s);
	int fields = 0;
	for (char *p = strtok(s, " \n"); p; p = strtok(NULL, " \n"))
		fields++;
	cr_assert_eq(fields, 52);
	free(s);
	pfx_read("/proc/1/statm", &s);
	cr_assert_str_eq(s, "0 0 0 0 0 0 0\n");
	free(s);
	pfx_read("/proc/1/uid_map", &s);
	cr_assert_str_eq(s, "         0          0 4294967295\n");
	free(s);
	pfx_read("/proc/1/cgroup", &s);
	cr_assert_str_eq(s, ""); /* no cgroup hierarchy mounted (test_cgroup_tree has them) */
	free(s);
	/* comm is writable, truncated to 15 bytes. */
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/proc/1/comm", O_WRONLY, 0, &f));
	cr_assert_eq(uvfs_write(f, "a-very-long-name-indeed\n", 24), 24);
	uvfs_file_put(f);
	pfx_read("/proc/1/comm", &s);
	cr_assert_str_eq(s, "a-very-long-nam\n");
	free(s);
}

PROC_TEST(proc, root_files_content)
{
	char *s;
	pfx_read("/proc/filesystems", &s);
	cr_assert_str_eq(s, "nodev\tproc\nnodev\ttmpfs\n");
	free(s);
	pfx_read("/proc/sys/kernel/ostype", &s);
	cr_assert_str_eq(s, "Linux\n");
	free(s);
	FX_ASSERT_OK(uvfs_tasks_set_uts(T, "box", "6.1.0", NULL));
	pfx_read("/proc/sys/kernel/osrelease", &s);
	cr_assert_str_eq(s, "6.1.0\n");
	free(s);
	pfx_read("/proc/version", &s);
	cr_assert(!strncmp(s, "Linux version 6.1.0 ", 20), "%s", s);
	free(s);
	pfx_read("/proc/loadavg", &s);
	cr_assert_str_eq(s, "0.00 0.00 0.00 0/1 1\n");
	free(s);
	pfx_read("/proc/meminfo", &s);
	int lines = 0;
	for (char *p = strtok(s, "\n"); p; p = strtok(NULL, "\n"), lines++) {
		cr_assert_eq(strlen(p) >= 27, 1, "%s", p);
		cr_assert_eq(p[15] == ' ' || p[15] == ':', 1, "%s", p);
		cr_assert(!strcmp(p + strlen(p) - 3, " kB"), "%s", p);
	}
	cr_assert_gt(lines, 20);
	free(s);
}

PROC_TEST(proc, hostname_write)
{
	char *s;
	pfx_read("/proc/sys/kernel/hostname", &s);
	cr_assert_str_eq(s, "localhost\n");
	free(s);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/proc/sys/kernel/hostname", O_WRONLY, 0, &f));
	cr_assert_eq(uvfs_write(f, "sandbox\n", 8), 8);
	uvfs_file_put(f);
	pfx_read("/proc/sys/kernel/hostname", &s);
	cr_assert_str_eq(s, "sandbox\n");
	free(s);
	FX_ASSERT_ERR(fx_open_as(&fx.user, "/proc/sys/kernel/hostname", O_WRONLY, 0, &f), -EACCES);
	/* A read-only file refuses writers even for root. */
	FX_ASSERT_ERR(fx_open("/proc/sys/kernel/ostype", O_WRONLY, 0, &f), -EACCES);
}

/* A shell's `echo x > /proc/self/comm` opens O_WRONLY|O_CREAT|O_TRUNC: the
 * truncation (size and mtime) is ignored, as Linux proc does. */
PROC_TEST(proc, write_o_trunc)
{
	char *s;
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/proc/1/comm", O_WRONLY | O_CREAT | O_TRUNC, 0644, &f));
	cr_assert_eq(uvfs_write(f, "shell\n", 6), 6);
	uvfs_file_put(f);
	pfx_read("/proc/1/comm", &s);
	cr_assert_str_eq(s, "shell\n");
	free(s);
	FX_ASSERT_OK(fx_open("/proc/sys/kernel/hostname", O_WRONLY | O_TRUNC, 0, &f));
	uvfs_file_put(f);
}

PROC_TEST(proc, errors)
{
	FX_ASSERT_ERR(fx_mkdir("/proc/x", 0755), -EPERM);
	FX_ASSERT_ERR(fx_mkdir("/proc/1/x", 0755), -EPERM);
	FX_ASSERT_ERR(fx_symlink("x", "/proc/x"), -EPERM);
	struct statx st;
	FX_ASSERT_ERR(fx_stat("/proc/2", &st), -ENOENT);
	FX_ASSERT_ERR(fx_stat("/proc/01", &st), -ENOENT);
	FX_ASSERT_ERR(fx_stat("/proc/1/nope", &st), -ENOENT);
	FX_ASSERT_ERR(fx_chmod("/proc/meminfo", 0666), -EPERM);
	fx_must_mkdir("/p2", 0755);
	struct uvfs_pathop p = fx_popf("/p2");
	struct uvfs_mount_opts o = { .data = "bogus=1" };
	FX_ASSERT_ERR(uvfs_mount_at(fx.vfs, &fx.cred, "proc", &p, "proc", &o), -EINVAL);
	o.data = "dentry_cache_limit=0"; /* nothing cached: every name looked up afresh */
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "proc", &p, "proc", &o));
	char *s;
	for (int i = 0; i < 3; i++) {
		cr_assert_gt(pfx_read("/p2/1/status", &s), 0);
		free(s);
		cr_assert_gt(pfx_read("/p2/self/task/1/comm", &s), 0);
		free(s);
	}
	char list[256];
	fx_list_dir("/p2/1/task", list, sizeof list);
	cr_assert_str_eq(list, "1");
	struct statfs sf;
	FX_ASSERT_OK(uvfs_statfs_at(fx.vfs, &fx.cred, &p, &sf));
	cr_assert_eq(sf.f_type, UVFS_PROC_SUPER_MAGIC);
	FX_ASSERT_OK(fx_umount("/p2", 0));
}

/* A task's directories go stale when it unregisters; a pid looked up
 * before it existed is found once it registers; a reused pid shows the
 * new task. */
PROC_TEST(proc, task_lifecycle)
{
	struct statx st;
	char buf[64], *s;
	FX_ASSERT_ERR(fx_stat("/proc/2/status", &st), -ENOENT);
	FX_ASSERT_OK(pfx_register(2, 0, "/", "/", "first", NULL));
	FX_ASSERT_OK(fx_stat("/proc/2/status", &st));
	FX_ASSERT_ERR(pfx_register(2, 0, "/", "/", "dup", NULL), -EEXIST);
	FX_ASSERT_ERR(pfx_register(9, 10, "/", "/", "orphan", NULL), -ESRCH);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/proc/2/comm", O_RDONLY, 0, &f));
	cr_assert_eq(uvfs_read(f, buf, sizeof buf), 6);
	FX_ASSERT_OK(uvfs_task_unregister(T, 2));
	FX_ASSERT_ERR(uvfs_task_unregister(T, 2), -ESRCH);
	FX_ASSERT_ERR(fx_stat("/proc/2", &st), -ENOENT);
	FX_ASSERT_ERR(fx_stat("/proc/2/comm", &st), -ENOENT);
	/* The open file: its next generation finds the task gone. */
	cr_assert_eq(uvfs_seek(f, 0, SEEK_SET), 0);
	FX_ASSERT_ERR(uvfs_read(f, buf, sizeof buf), -ESRCH);
	uvfs_file_put(f);
	FX_ASSERT_OK(pfx_register(2, 0, "/", "/", "second", NULL));
	pfx_read("/proc/2/comm", &s);
	cr_assert_str_eq(s, "second\n");
	free(s);
	char list[256];
	fx_list_dir("/proc", list, sizeof list);
	cr_assert(!strncmp(list, "1,2,cmdline", 11), "%s", list);
}

PROC_TEST(proc, threads)
{
	FX_ASSERT_OK(pfx_register(2, 0, "/", "/", "lead", NULL));
	FX_ASSERT_OK(pfx_register(2, 3, "/", "/", "worker", NULL));
	char list[256], *s;
	fx_list_dir("/proc", list, sizeof list);
	cr_assert(!strncmp(list, "1,2,cmdline", 11), "thread 3 is not listed: %s", list);
	fx_list_dir("/proc/2/task", list, sizeof list);
	cr_assert_str_eq(list, "2,3");
	pfx_read("/proc/3/comm", &s); /* any tid answers at the top */
	cr_assert_str_eq(s, "worker\n");
	free(s);
	pfx_read("/proc/2/task/3/status", &s);
	cr_assert(strstr(s, "Tgid:\t2\n") && strstr(s, "Pid:\t3\n") && strstr(s, "Threads:\t2\n"), "%s", s);
	free(s);
	struct statx st;
	FX_ASSERT_ERR(fx_stat("/proc/1/task/3", &st), -ENOENT);
	FX_ASSERT_ERR(fx_stat("/proc/2/task/3/task", &st), -ENOENT);
}

PROC_TEST(proc, ownership_and_modes)
{
	struct uvfs_cred c;
	uvfs_cred_init_user(&c, 1000, 1000);
	FX_ASSERT_OK(pfx_register(5, 0, "/", "/", "user", &c));
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/proc/5", &st));
	cr_assert_eq(st.stx_uid, 1000);
	cr_assert_eq(st.stx_mode, S_IFDIR | 0555);
	FX_ASSERT_OK(fx_lstat("/proc/5/environ", &st));
	cr_assert_eq(st.stx_mode, S_IFREG | 0400);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/proc/5/environ", O_RDONLY, 0, &f));
	uvfs_file_put(f);
	FX_ASSERT_ERR(fx_open_as(&fx.user2, "/proc/5/environ", O_RDONLY, 0, &f), -EACCES);
	FX_ASSERT_OK(fx_lstat("/proc/5/cwd", &st));
	cr_assert_eq(st.stx_mode, S_IFLNK | 0777);
	FX_ASSERT_OK(fx_lstat("/proc/self", &st));
	cr_assert_eq(st.stx_mode, S_IFLNK | 0777);
	/* Readdir and stat agree on inode numbers. */
	struct uvfs_file *d;
	FX_ASSERT_OK(fx_open("/proc/5", O_RDONLY | O_DIRECTORY, 0, &d));
	char buf[4096];
	ssize_t n = uvfs_getdents64(d, buf, sizeof buf);
	cr_assert_gt(n, 0);
	int checked = 0;
	for (ssize_t o = 0; o < n;) {
		struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *e = (void *)(buf + o);
		if (e->name[0] != '.') {
			char path[64];
			snprintf(path, sizeof path, "/proc/5/%s", e->name);
			cr_assert_eq(fx_ino(path), e->ino, "%s", path);
			checked++;
		}
		o += e->reclen;
	}
	cr_assert_eq(checked, 17);
	uvfs_file_put(d);
}

PROC_TEST(proc, fd_links)
{
	fx_must_write("/home/u/f", "x");
	fx_must_write("/home/u/g", "y");
	FX_ASSERT_OK(fx_open("/home/u/f", O_RDONLY, 0, &pfx_fds[3]));
	FX_ASSERT_OK(fx_open("/home/u/g", O_RDONLY, 0, &pfx_fds[5]));
	char list[64], buf[256];
	fx_list_dir("/proc/1/fd", list, sizeof list);
	cr_assert_str_eq(list, "3,5");
	cr_assert_gt(pfx_readlink("/proc/1/fd/3", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "/home/u/f");
	struct uvfs_pathop p = fx_pop("/home/u/g");
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &p));
	cr_assert_gt(pfx_readlink("/proc/1/fd/5", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "/home/u/g (deleted)");
	struct statx st;
	FX_ASSERT_ERR(fx_lstat("/proc/1/fd/4", &st), -ENOENT);
	FX_ASSERT_ERR(fx_lstat("/proc/1/fd/x", &st), -ENOENT);
	/* A closed descriptor's cached link goes stale. */
	FX_ASSERT_OK(fx_lstat("/proc/1/fd/3", &st));
	uvfs_file_put(pfx_fds[3]);
	pfx_fds[3] = NULL;
	FX_ASSERT_ERR(fx_lstat("/proc/1/fd/3", &st), -ENOENT);
	fx_list_dir("/proc/1/fd", list, sizeof list);
	cr_assert_str_eq(list, "5");
	/* Another task has no fd table: empty. */
	FX_ASSERT_OK(pfx_register(2, 0, "/", "/", "nofd", NULL));
	fx_list_dir("/proc/2/fd", list, sizeof list);
	cr_assert_str_eq(list, "");
}

PROC_TEST(proc, register_checks_and_copies)
{
	struct uvfs_vd r = pfx_vd("/");
	struct uvfs_task_params p = { .pid = 0, .root = &r, .cwd = &r, .mntns = fx.ns };
	FX_ASSERT_ERR(uvfs_task_register(T, &p), -EINVAL);
	p.pid = 4;
	p.mntns = NULL;
	FX_ASSERT_ERR(uvfs_task_register(T, &p), -EINVAL);
	p.mntns = fx.ns;
	struct uvfs_cred c;
	uvfs_cred_init_user(&c, 7, 8);
	c.ngroups = 2;
	p.cred = &c;
	FX_ASSERT_ERR(uvfs_task_register(T, &p), -EINVAL);
	uint32_t groups[] = { 5, 3 };
	uvfs_cred_set_groups(&c, groups, 2);
	char argv0[] = "/usr/bin/prog";
	const char *argv[] = { argv0, NULL };
	p.argv = argv;
	FX_ASSERT_OK(uvfs_task_register(T, &p));
	uvfs_vd_put(&r);
	groups[0] = 99; /* the table keeps its own copies */
	argv0[1] = 'X';
	char *s;
	pfx_read("/proc/4/status", &s);
	cr_assert(strstr(s, "\nUid:\t7\t7\t7\t7\nGid:\t8\t8\t8\t8\nFDSize:\t64\nGroups:\t3 5 \n"), "%s", s);
	cr_assert(strstr(s, "Name:\tprog\n"), "%s", s);
	free(s);
	pfx_read("/proc/4/cmdline", &s);
	cr_assert_str_eq(s, "/usr/bin/prog");
	free(s);
	/* An empty argv reads as an empty file. */
	struct statx st;
	FX_ASSERT_OK(fx_stat("/proc/4/environ", &st));
	cr_assert_eq(pfx_read("/proc/4/environ", &s), 0);
	free(s);
}
