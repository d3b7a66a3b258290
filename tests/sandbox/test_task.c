/* test_task.c — task semantics the differential harness cannot drive on
 * the host in one process: fork with and without CLONE_FILES/CLONE_FS,
 * CLOEXEC through exec, teardown closing files, and /proc/self/fd fed
 * from the task's fd table. Expected values are Linux's. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mount.h>

#include "harness.h"
#include "fsimpl/kernfs/task.h"
#include "fsimpl/proc/proc.h"

static struct uvfs_sbx_task *new_task(void)
{
	struct uvfs_sbx_task *t;
	struct uvfs_sbx_task_params p = { .vfs = fx.vfs, .mntns = fx.ns, .root = &fx.root, .umask = 022 };
	cr_assert_eq(uvfs_sbx_task_new(&p, &t), 0);
	return t;
}

FX_TEST(sbx_task, bad_params)
{
	struct uvfs_sbx_task *t;
	struct uvfs_sbx_task_params p = { .vfs = fx.vfs };
	FX_ASSERT_ERR(uvfs_sbx_task_new(&p, &t), -EINVAL);
	FX_ASSERT_ERR(uvfs_sbx_task_new(NULL, &t), -EINVAL);
	p.root = &fx.root;
	p.nofile = UVFS_SBX_NOFILE_MAX + 1;
	FX_ASSERT_ERR(uvfs_sbx_task_new(&p, &t), -EINVAL);
	t = new_task();
	struct uvfs_sbx_task *c;
	FX_ASSERT_ERR(uvfs_sbx_task_fork(t, 0x100, 0, &c), -EINVAL);
	FX_ASSERT_ERR(uvfs_sbx_task_set_nofile(t, 0), -EINVAL);
	uvfs_sbx_task_put(t);
}

/* fork without CLONE_FILES copies the table: closes and opens in the child
 * do not reach the parent, but the open file description (offset) is
 * shared. */
FX_TEST(sbx_task, fork_copies_fd_table)
{
	struct uvfs_sbx_task *p = new_task(), *c;
	cr_assert_eq(uvfs_sbx_openat(p, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644), 0);
	FX_ASSERT_OK(uvfs_sbx_task_fork(p, 0, 0, &c));
	cr_assert_eq(uvfs_sbx_write(c, 0, "abc", 3), 3);
	cr_assert_eq(uvfs_sbx_lseek(p, 0, 0, SEEK_CUR), 3, "offset is per open file, shared");
	FX_ASSERT_OK(uvfs_sbx_close(c, 0));
	cr_assert_eq(uvfs_sbx_fcntl(p, 0, F_GETFD, 0), 0, "parent's fd survives the child's close");
	cr_assert_eq(uvfs_sbx_openat(c, AT_FDCWD, "/f", O_RDONLY, 0), 0);
	cr_assert_eq(uvfs_sbx_dup(c, 0), 1);
	FX_ASSERT_ERR(uvfs_sbx_fcntl(p, 1, F_GETFD, 0), -EBADF);
	uvfs_sbx_task_put(c);
	cr_assert_eq(uvfs_sbx_fcntl(p, 0, F_GETFD, 0), 0);
	uvfs_sbx_task_put(p);
}

FX_TEST(sbx_task, clone_files_shares_fd_table)
{
	struct uvfs_sbx_task *p = new_task(), *c;
	cr_assert_eq(uvfs_sbx_openat(p, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644), 0);
	FX_ASSERT_OK(uvfs_sbx_task_fork(p, UVFS_SBX_CLONE_FILES, 0, &c));
	FX_ASSERT_OK(uvfs_sbx_close(c, 0));
	FX_ASSERT_ERR(uvfs_sbx_fcntl(p, 0, F_GETFD, 0), -EBADF);
	cr_assert_eq(uvfs_sbx_openat(c, AT_FDCWD, "/f", O_RDONLY | O_CLOEXEC, 0), 0);
	cr_assert_eq(uvfs_sbx_fcntl(p, 0, F_GETFD, 0), FD_CLOEXEC);
	/* The table outlives the child while the parent uses it. */
	uvfs_sbx_task_put(c);
	cr_assert_eq(uvfs_sbx_fcntl(p, 0, F_GETFD, 0), FD_CLOEXEC);
	uvfs_sbx_task_put(p);
}

FX_TEST(sbx_task, clone_fs_shares_cwd_and_umask)
{
	struct uvfs_sbx_task *p = new_task(), *shared, *copied;
	char buf[64];
	FX_ASSERT_OK(uvfs_sbx_mkdirat(p, AT_FDCWD, "/d", 0755));
	FX_ASSERT_OK(uvfs_sbx_task_fork(p, UVFS_SBX_CLONE_FS, 0, &shared));
	FX_ASSERT_OK(uvfs_sbx_task_fork(p, 0, 0, &copied));
	FX_ASSERT_OK(uvfs_sbx_chdir(shared, "/d"));
	cr_assert_eq(uvfs_sbx_getcwd(p, buf, sizeof buf), 3);
	cr_assert_str_eq(buf, "/d");
	cr_assert_eq(uvfs_sbx_getcwd(copied, buf, sizeof buf), 2);
	cr_assert_str_eq(buf, "/");
	cr_assert_eq(uvfs_sbx_umask(shared, 077), 022);
	cr_assert_eq(uvfs_sbx_umask(p, 077), 077);
	cr_assert_eq(uvfs_sbx_umask(copied, 022), 022);
	FX_ASSERT_OK(uvfs_sbx_chdir(copied, "/d"));
	FX_ASSERT_OK(uvfs_sbx_chroot(copied, "/d"));
	cr_assert_eq(uvfs_sbx_getcwd(copied, buf, sizeof buf), 2);
	cr_assert_str_eq(buf, "/");
	cr_assert_eq(uvfs_sbx_getcwd(p, buf, sizeof buf), 3, "chroot of a copied fs state stays there");
	/* A cwd left outside the new root reads "(unreachable)/..." (Linux). */
	FX_ASSERT_OK(uvfs_sbx_chdir(p, "/"));
	FX_ASSERT_OK(uvfs_sbx_chroot(p, "/d"));
	cr_assert_eq(uvfs_sbx_getcwd(p, buf, sizeof buf), 15);
	cr_assert_str_eq(buf, "(unreachable)/");
	uvfs_sbx_task_put(copied);
	uvfs_sbx_task_put(shared);
	uvfs_sbx_task_put(p);
}

/* exec closes exactly the CLOEXEC fds; in a child that shared its table
 * (CLONE_FILES, i.e. vfork+exec), the parent keeps its fds. */
FX_TEST(sbx_task, exec_closes_cloexec)
{
	struct uvfs_sbx_task *p = new_task(), *c;
	cr_assert_eq(uvfs_sbx_openat(p, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644), 0);
	cr_assert_eq(uvfs_sbx_openat(p, AT_FDCWD, "/f", O_RDONLY | O_CLOEXEC, 0), 1);
	cr_assert_eq(uvfs_sbx_fcntl(p, 0, F_DUPFD_CLOEXEC, 5), 5);
	cr_assert_eq(uvfs_sbx_dup2(p, 1, 7), 7, "dup2 clears CLOEXEC");
	FX_ASSERT_OK(uvfs_sbx_ioctl(p, 7, FIOCLEX, NULL));
	cr_assert_eq(uvfs_sbx_dup(p, 1), 2);
	FX_ASSERT_OK(uvfs_sbx_ioctl(p, 2, FIONCLEX, NULL));
	FX_ASSERT_OK(uvfs_sbx_task_fork(p, UVFS_SBX_CLONE_FILES, 0, &c));
	FX_ASSERT_OK(uvfs_sbx_task_exec(c));
	int fds[16];
	cr_assert_eq(uvfs_sbx_fd_list(c, -1, fds, 16), 2);
	cr_assert(fds[0] == 0 && fds[1] == 2, "child keeps 0 and 2, got %d %d", fds[0], fds[1]);
	cr_assert_eq(uvfs_sbx_fd_list(p, -1, fds, 16), 5, "the parent's shared table is untouched");
	FX_ASSERT_OK(uvfs_sbx_task_exec(p));
	cr_assert_eq(uvfs_sbx_fd_list(p, -1, fds, 16), 2);
	uvfs_sbx_task_put(c);
	uvfs_sbx_task_put(p);
}

/* close_range(CLOSE_RANGE_UNSHARE) gives the caller a private table. */
FX_TEST(sbx_task, close_range_unshare)
{
	struct uvfs_sbx_task *p = new_task(), *c;
	cr_assert_eq(uvfs_sbx_openat(p, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644), 0);
	FX_ASSERT_OK(uvfs_sbx_task_fork(p, UVFS_SBX_CLONE_FILES, 0, &c));
	FX_ASSERT_OK(uvfs_sbx_close_range(c, 0, ~0U, CLOSE_RANGE_UNSHARE));
	FX_ASSERT_ERR(uvfs_sbx_fcntl(c, 0, F_GETFD, 0), -EBADF);
	cr_assert_eq(uvfs_sbx_fcntl(p, 0, F_GETFD, 0), 0);
	uvfs_sbx_task_put(c);
	uvfs_sbx_task_put(p);
}

/* Interceptor helpers: install, get. */
FX_TEST(sbx_task, fd_install)
{
	struct uvfs_sbx_task *t = new_task();
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/", O_RDONLY | O_DIRECTORY, 0, &f));
	cr_assert_eq(uvfs_sbx_fd_install(t, f, 100, true), 100);
	cr_assert_eq(uvfs_sbx_fd_install(t, f, 100, false), 101);
	uvfs_file_put(f);
	cr_assert_eq(uvfs_sbx_fcntl(t, 100, F_GETFD, 0), FD_CLOEXEC);
	FX_ASSERT_OK(uvfs_sbx_task_set_nofile(t, 101));
	FX_ASSERT_ERR(uvfs_sbx_fd_install(t, f, 101, false), -EMFILE);
	FX_ASSERT_OK(uvfs_sbx_fd_get(t, 101, &f));
	uvfs_file_put(f);
	FX_ASSERT_ERR(uvfs_sbx_fd_get(t, 5, &f), -EBADF);
	uvfs_sbx_task_put(t); /* closes 100 and 101: the teardown counts no file */
}

/* The task's credentials are used: a user task cannot read a 0600 root
 * file that a root task can; faccessat uses real ids, AT_EACCESS effective. */
FX_TEST(sbx_task, credentials)
{
	struct uvfs_sbx_task *t = new_task();
	cr_assert_eq(uvfs_sbx_openat(t, AT_FDCWD, "/secret", O_CREAT | O_WRONLY, 0600), 0);
	struct uvfs_cred u;
	uvfs_cred_init_user(&u, 1000, 1000);
	uint32_t groups[] = { 5, 3 };
	uvfs_cred_set_groups(&u, groups, 2);
	FX_ASSERT_OK(uvfs_sbx_task_set_cred(t, &u));
	groups[0] = groups[1] = 99; /* the task keeps its own copy */
	cr_assert_eq(uvfs_sbx_task_cred(t)->ngroups, 2);
	cr_assert_eq(uvfs_sbx_task_cred(t)->groups[0], 3);
	FX_ASSERT_ERR(uvfs_sbx_openat(t, AT_FDCWD, "/secret", O_RDONLY, 0), -EACCES);
	u.euid = u.fsuid = 0;
	u.caps = UVFS_CAPS_ALL;
	u.ngroups = 0;
	FX_ASSERT_OK(uvfs_sbx_task_set_cred(t, &u));
	FX_ASSERT_ERR(uvfs_sbx_faccessat2(t, AT_FDCWD, "/secret", R_OK, 0), -EACCES);
	FX_ASSERT_OK(uvfs_sbx_faccessat2(t, AT_FDCWD, "/secret", R_OK, AT_EACCESS));
	uvfs_sbx_task_put(t);
}

/* /proc/self/fd of a registered task lists its fd table. */
FX_TEST(sbx_task, proc_self_fd)
{
	struct uvfs_tasks *T;
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &uvfs_proc_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST));
	FX_ASSERT_OK(uvfs_tasks_new(fx.vfs, &T));
	fx_must_mkdir("/proc", 0555);
	struct uvfs_pathop pp = fx_popf("/proc");
	struct uvfs_mount_opts o = { 0 };
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "proc", &pp, "proc", &o));
	struct uvfs_sbx_task *t, *c;
	struct uvfs_sbx_task_params p = { .vfs = fx.vfs, .mntns = fx.ns, .root = &fx.root, .tid = 1, .tasks = T };
	FX_ASSERT_OK(uvfs_sbx_task_new(&p, &t));
	cr_assert_eq(uvfs_sbx_openat(t, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644), 0);
	cr_assert_eq(uvfs_sbx_dup2(t, 0, 5), 5);
	long fd = uvfs_sbx_openat(t, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY, 0);
	cr_assert_eq(fd, 1, "open /proc/self/fd: %s", fx_err(fd));
	char buf[4096], names[256] = "";
	long n = uvfs_sbx_getdents64(t, 1, buf, sizeof buf);
	cr_assert_gt(n, 0, "%s", fx_err(n));
	for (long off = 0; off < n;) {
		const struct dirent64 *d = (const void *)(buf + off);
		if (d->d_name[0] != '.')
			strncat(names, d->d_name, 16), strcat(names, ",");
		off += d->d_reclen;
	}
	cr_assert_str_eq(names, "0,1,5,");
	n = uvfs_sbx_readlinkat(t, AT_FDCWD, "/proc/self/fd/5", buf, sizeof buf);
	cr_assert_eq(n, 2, "%s", fx_err(n));
	cr_assert(!memcmp(buf, "/f", 2));
	/* chdir moves /proc/self/cwd. */
	FX_ASSERT_OK(uvfs_sbx_mkdirat(t, AT_FDCWD, "/dir", 0755));
	FX_ASSERT_OK(uvfs_sbx_chdir(t, "/dir"));
	n = uvfs_sbx_readlinkat(t, AT_FDCWD, "/proc/self/cwd", buf, sizeof buf);
	cr_assert(n == 4 && !memcmp(buf, "/dir", 4), "cwd link: %s %.*s", fx_err(n), n > 0 ? (int)n : 0, buf);
	FX_ASSERT_OK(uvfs_sbx_fchdir(t, 1));
	n = uvfs_sbx_readlinkat(t, AT_FDCWD, "/proc/self/cwd", buf, sizeof buf);
	cr_assert(n == 10 && !memcmp(buf, "/proc/1/fd", 10), "cwd link after fchdir: %s", fx_err(n));
	/* A forked child is registered with its own table. */
	FX_ASSERT_OK(uvfs_sbx_task_fork(t, 0, 2, &c));
	FX_ASSERT_OK(uvfs_sbx_close(c, 5));
	FX_ASSERT_ERR(uvfs_sbx_readlinkat(c, AT_FDCWD, "/proc/self/fd/5", buf, sizeof buf), -ENOENT);
	cr_assert_eq(uvfs_sbx_readlinkat(c, AT_FDCWD, "/proc/1/fd/5", buf, sizeof buf), 2);
	uvfs_sbx_task_put(c);
	uvfs_sbx_task_put(t);
	uvfs_tasks_destroy(T);
}

/* chdir by one of several tasks sharing the fs state (CLONE_FS: threads)
 * moves /proc/[tid]/cwd of all of them, as in Linux, where they share one
 * fs_struct; a task forked without CLONE_FS keeps its own. */
FX_TEST(sbx_task, clone_fs_chdir_moves_every_proc_cwd)
{
	struct uvfs_tasks *T;
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &uvfs_proc_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST));
	FX_ASSERT_OK(uvfs_tasks_new(fx.vfs, &T));
	fx_must_mkdir("/proc", 0555);
	fx_must_mkdir("/a", 0755);
	fx_must_mkdir("/b", 0755);
	struct uvfs_pathop pp = fx_popf("/proc");
	struct uvfs_mount_opts o = { 0 };
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "proc", &pp, "proc", &o));
	struct uvfs_sbx_task *t, *th, *th2, *other;
	struct uvfs_sbx_task_params p = { .vfs = fx.vfs, .mntns = fx.ns, .root = &fx.root, .tid = 1, .tasks = T };
	FX_ASSERT_OK(uvfs_sbx_task_new(&p, &t));
	FX_ASSERT_OK(uvfs_sbx_task_fork(t, UVFS_SBX_CLONE_FS | UVFS_SBX_CLONE_FILES | UVFS_SBX_CLONE_THREAD, 2, &th));
	FX_ASSERT_OK(uvfs_sbx_task_fork(th, UVFS_SBX_CLONE_FS | UVFS_SBX_CLONE_FILES | UVFS_SBX_CLONE_THREAD, 3, &th2));
	FX_ASSERT_OK(uvfs_sbx_task_fork(t, 0, 4, &other));
	FX_ASSERT_OK(uvfs_sbx_chdir(th, "/a"));
	char buf[64];
	static const char *const links[] = { "/proc/1/cwd", "/proc/2/cwd", "/proc/3/cwd" };
	for (int i = 0; i < 3; i++) {
		long n = uvfs_sbx_readlinkat(t, AT_FDCWD, links[i], buf, sizeof buf);
		cr_expect(n == 2 && !memcmp(buf, "/a", 2), "%s: %s %.*s", links[i], fx_err(n), n > 0 ? (int)n : 0, buf);
	}
	long n = uvfs_sbx_readlinkat(t, AT_FDCWD, "/proc/4/cwd", buf, sizeof buf);
	cr_expect(n == 1 && buf[0] == '/', "the other process: %s", fx_err(n));
	uvfs_sbx_task_put(th); /* an exited thread is no longer updated */
	FX_ASSERT_OK(uvfs_sbx_fchdir(th2, uvfs_sbx_openat(th2, AT_FDCWD, "/b", O_RDONLY | O_DIRECTORY, 0)));
	n = uvfs_sbx_readlinkat(t, AT_FDCWD, "/proc/1/cwd", buf, sizeof buf);
	cr_expect(n == 2 && !memcmp(buf, "/b", 2), "after fchdir: %s %.*s", fx_err(n), n > 0 ? (int)n : 0, buf);
	uvfs_sbx_task_put(th2);
	uvfs_sbx_task_put(other);
	uvfs_sbx_task_put(t);
	uvfs_tasks_destroy(T);
}

/* A /proc/[pid]/fd directory held open by another task outlives the task
 * it describes: after that task exits, listing it and looking names up in
 * it must not reach the freed fd table (ASan would see it). The racing
 * form (exit during an fd_ops call) is tests/stress/stress_proc_exit.c:
 * uvfs_task_unregister waits for running fd_ops calls. */
FX_TEST(sbx_task, proc_fd_dir_after_exit)
{
	struct uvfs_tasks *T;
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &uvfs_proc_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST));
	FX_ASSERT_OK(uvfs_tasks_new(fx.vfs, &T));
	fx_must_mkdir("/proc", 0555);
	struct uvfs_pathop pp = fx_popf("/proc");
	struct uvfs_mount_opts o = { 0 };
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "proc", &pp, "proc", &o));
	struct uvfs_sbx_task *a, *b;
	struct uvfs_sbx_task_params p = { .vfs = fx.vfs, .mntns = fx.ns, .root = &fx.root, .tid = 1, .tasks = T };
	FX_ASSERT_OK(uvfs_sbx_task_new(&p, &a));
	p.tid = 2;
	FX_ASSERT_OK(uvfs_sbx_task_new(&p, &b));
	cr_assert_eq(uvfs_sbx_openat(a, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644), 0);
	cr_assert_eq(uvfs_sbx_openat(b, AT_FDCWD, "/proc/1/fd", O_RDONLY | O_DIRECTORY, 0), 0);
	char buf[4096];
	cr_assert_eq(uvfs_sbx_readlinkat(b, 0, "0", buf, sizeof buf), 2);
	long d = uvfs_sbx_openat(b, 0, "0", O_PATH | O_NOFOLLOW, 0);
	cr_assert_eq(d, 1, "%s", fx_err(d));
	uvfs_sbx_task_put(a);
	FX_ASSERT_OK(uvfs_sbx_lseek(b, 0, 0, SEEK_SET));
	long n = uvfs_sbx_getdents64(b, 0, buf, sizeof buf);
	FX_ASSERT_ERR(n, -ENOENT); /* kernfs: a dead task's nodes are stale */
	n = uvfs_sbx_readlinkat(b, 1, "", buf, sizeof buf);
	cr_assert(n < 0, "a dead task's fd link reads %s", fx_err(n));
	n = uvfs_sbx_readlinkat(b, 0, "0", buf, sizeof buf);
	cr_assert(n < 0, "a dead task's fd name resolves: %s", fx_err(n));
	uvfs_sbx_task_put(b);
	uvfs_tasks_destroy(T);
}

/* execve's open (Linux do_open_execat): exec permission, not read; only
 * regular files; noexec mounts refused; AT_SYMLINK_NOFOLLOW gives ELOOP on
 * a link; AT_EMPTY_PATH execs the fd. The file comes back readable so the
 * interceptor can map it, even when the task itself may not read it. */
FX_TEST(sbx_task, open_exec)
{
	struct uvfs_sbx_task *t = new_task();
	cr_assert_eq(uvfs_sbx_openat(t, AT_FDCWD, "/prog", O_CREAT | O_WRONLY, 0700), 0);
	cr_assert_eq(uvfs_sbx_write(t, 0, "\177ELF", 4), 4);
	FX_ASSERT_OK(uvfs_sbx_close(t, 0));
	FX_ASSERT_OK(uvfs_sbx_fchmodat(t, AT_FDCWD, "/prog", 0711, 0));
	cr_assert_eq(uvfs_sbx_openat(t, AT_FDCWD, "/data", O_CREAT | O_WRONLY, 0644), 0);
	FX_ASSERT_OK(uvfs_sbx_symlinkat(t, "prog", AT_FDCWD, "/link"));
	FX_ASSERT_OK(uvfs_sbx_mkdirat(t, AT_FDCWD, "/nx", 0755));
	FX_ASSERT_OK(uvfs_sbx_mount(t, "none", "/nx", "tmpfs", MS_NOEXEC, NULL));
	cr_assert_eq(uvfs_sbx_openat(t, AT_FDCWD, "/nx/prog", O_CREAT | O_WRONLY, 0755), 1);
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(uvfs_sbx_open_exec(t, AT_FDCWD, "/data", 0, &f), -EACCES); /* root too needs an x bit */
	struct uvfs_cred u;
	uvfs_cred_init_user(&u, 1000, 1000);
	FX_ASSERT_OK(uvfs_sbx_task_set_cred(t, &u));
	FX_ASSERT_ERR(uvfs_sbx_openat(t, AT_FDCWD, "/prog", O_RDONLY, 0), -EACCES);
	FX_ASSERT_OK(uvfs_sbx_open_exec(t, AT_FDCWD, "/prog", 0, &f));
	char buf[8];
	cr_assert_eq(uvfs_read(f, buf, sizeof buf), 4, "the supervisor reads it for the task");
	uvfs_file_put(f);
	FX_ASSERT_OK(uvfs_sbx_open_exec(t, AT_FDCWD, "/link", 0, &f));
	uvfs_file_put(f);
	FX_ASSERT_ERR(uvfs_sbx_open_exec(t, AT_FDCWD, "/link", AT_SYMLINK_NOFOLLOW, &f), -ELOOP);
	FX_ASSERT_ERR(uvfs_sbx_open_exec(t, AT_FDCWD, "/data", 0, &f), -EACCES);
	FX_ASSERT_ERR(uvfs_sbx_open_exec(t, AT_FDCWD, "/nx", 0, &f), -EACCES);
	FX_ASSERT_ERR(uvfs_sbx_open_exec(t, AT_FDCWD, "/nx/prog", 0, &f), -EACCES);
	FX_ASSERT_ERR(uvfs_sbx_open_exec(t, AT_FDCWD, "/none", 0, &f), -ENOENT);
	FX_ASSERT_ERR(uvfs_sbx_open_exec(t, AT_FDCWD, "", 0, &f), -ENOENT);
	FX_ASSERT_ERR(uvfs_sbx_open_exec(t, AT_FDCWD, "/prog", 0x1, &f), -EINVAL);
	cr_assert_eq(uvfs_sbx_openat(t, AT_FDCWD, "/prog", O_PATH, 0), 2);
	FX_ASSERT_OK(uvfs_sbx_open_exec(t, 2, "", AT_EMPTY_PATH, &f));
	uvfs_file_put(f);
	FX_ASSERT_ERR(uvfs_sbx_open_exec(t, 0, "", AT_EMPTY_PATH, &f), -EACCES); /* /data: no x bit */
	uvfs_sbx_close(t, 1);
	uvfs_sbx_task_set_cred(t, &fx.cred);
	FX_ASSERT_OK(uvfs_sbx_umount2(t, "/nx", 0));
	uvfs_sbx_task_put(t);
}

/* POSIX record locks between processes (Linux semantics): owned by the fd
 * table (threads share them, a fork does not inherit them), EAGAIN on
 * conflict, F_GETLK names the holder's pid, splitting on unlock, every
 * lock on the inode dropped when the owner closes any fd of it, F_SETLKW
 * waits, exit releases. */
static struct uvfs_sbx_task *task_tid(int32_t tid)
{
	struct uvfs_sbx_task *t;
	struct uvfs_sbx_task_params p = { .vfs = fx.vfs, .mntns = fx.ns, .root = &fx.root, .tid = tid };
	cr_assert_eq(uvfs_sbx_task_new(&p, &t), 0);
	return t;
}

static long lk(struct uvfs_sbx_task *t, int fd, int cmd, short type, off_t start, off_t len, struct flock *out)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	long r = uvfs_sbx_fcntl(t, fd, cmd, (unsigned long)&fl);
	if (out)
		*out = fl;
	return r;
}

struct waiter {
	struct uvfs_sbx_task *t;
	atomic_int done;
	long ret;
};
static void *setlkw(void *arg)
{
	struct waiter *w = arg;
	w->ret = lk(w->t, 0, F_SETLKW, F_WRLCK, 0, 1, NULL);
	atomic_store(&w->done, 1);
	return NULL;
}

FX_TEST(sbx_task, record_lock_conflicts)
{
	struct uvfs_sbx_task *a = task_tid(10), *b, *a2;
	struct flock fl;
	cr_assert_eq(uvfs_sbx_openat(a, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644), 0);
	FX_ASSERT_OK(uvfs_sbx_task_fork(a, 0, 20, &b));
	FX_ASSERT_OK(uvfs_sbx_task_fork(a, UVFS_SBX_CLONE_FILES | UVFS_SBX_CLONE_THREAD, 11, &a2));
	FX_ASSERT_OK(lk(a, 0, F_SETLK, F_WRLCK, 0, 10, NULL));
	FX_ASSERT_ERR(lk(b, 0, F_SETLK, F_RDLCK, 5, 1, NULL), -EAGAIN);
	FX_ASSERT_OK(lk(b, 0, F_GETLK, F_RDLCK, 0, 0, &fl));
	cr_assert(fl.l_type == F_WRLCK && fl.l_start == 0 && fl.l_len == 10 && fl.l_pid == 10,
		  "getlk: type %d start %ld len %ld pid %d", fl.l_type, (long)fl.l_start, (long)fl.l_len, fl.l_pid);
	FX_ASSERT_OK(lk(a2, 0, F_SETLK, F_WRLCK, 7, 1, NULL)); /* a thread of a: same owner */
	FX_ASSERT_OK(lk(b, 0, F_SETLK, F_WRLCK, 10, 5, NULL));
	FX_ASSERT_OK(lk(a, 0, F_SETLK, F_UNLCK, 0, 5, NULL));
	FX_ASSERT_OK(lk(b, 0, F_GETLK, F_WRLCK, 0, 5, &fl));
	cr_assert_eq(fl.l_type, F_UNLCK);
	FX_ASSERT_OK(lk(b, 0, F_GETLK, F_WRLCK, 0, 0, &fl));
	cr_assert(fl.l_type == F_WRLCK && fl.l_start == 5 && fl.l_len == 5, "split: start %ld len %ld",
		  (long)fl.l_start, (long)fl.l_len);
	FX_ASSERT_OK(lk(b, 0, F_SETLK, F_RDLCK, 0, 5, NULL));
	FX_ASSERT_ERR(lk(a, 0, F_SETLK, F_WRLCK, 12, 1, NULL), -EAGAIN);
	/* Closing any fd of the inode drops all of a's locks on it. */
	cr_assert_eq(uvfs_sbx_openat(a, AT_FDCWD, "/f", O_RDONLY, 0), 1);
	FX_ASSERT_OK(uvfs_sbx_close(a, 1));
	FX_ASSERT_OK(lk(b, 0, F_SETLK, F_WRLCK, 5, 5, NULL));
	/* F_SETLKW waits for b's read lock on [0, 5). */
	struct waiter w = { .t = a };
	pthread_t th;
	pthread_create(&th, NULL, setlkw, &w);
	usleep(100 * 1000);
	cr_assert_eq(atomic_load(&w.done), 0, "F_SETLKW returned %ld without waiting", w.ret);
	FX_ASSERT_OK(lk(b, 0, F_SETLK, F_UNLCK, 0, 5, NULL));
	pthread_join(th, NULL);
	FX_ASSERT_OK(w.ret);
	/* b's exit releases [5, 10) and [10, 15). */
	uvfs_sbx_task_put(b);
	FX_ASSERT_OK(lk(a, 0, F_GETLK, F_WRLCK, 0, 0, &fl));
	cr_assert_eq(fl.l_type, F_UNLCK);
	struct uvfs_sbx_task *c;
	FX_ASSERT_OK(uvfs_sbx_task_fork(a, 0, 30, &c));
	FX_ASSERT_ERR(lk(c, 0, F_SETLK, F_WRLCK, 0, 1, NULL), -EAGAIN); /* not inherited: a still holds it */
	uvfs_sbx_task_put(c);
	uvfs_sbx_task_put(a2);
	uvfs_sbx_task_put(a);
}
