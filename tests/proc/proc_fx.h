/* proc_fx.h — set-up shared by the proc suites: the standard fixture, a
 * task table, proc mounted at /proc and an init task (pid 1) with cwd
 * /home/u, plus a small fd table for /proc/1/fd. */
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"
#include "fsimpl/proc/proc.h"

static struct uvfs_tasks *T;

/* A fixed fd table: fds[i] open at number i (NULL: closed). */
static struct uvfs_file *pfx_fds[8];
static inline int pfx_fd_list(void *arg, int after, int *fds, int max)
{
	int n = 0;
	for (int i = after + 1; i < 8 && n < max; i++)
		if (pfx_fds[i])
			fds[n++] = i;
	return n;
}
static int pfx_fd_get(void *arg, int fd, struct uvfs_file **out)
{
	if (fd < 0 || fd >= 8 || !pfx_fds[fd])
		return -EBADF;
	uvfs_file_get(pfx_fds[fd]);
	*out = pfx_fds[fd];
	return 0;
}
static const struct uvfs_task_fd_ops pfx_fd_ops = { .list = pfx_fd_list, .get = pfx_fd_get };

static struct uvfs_vd pfx_vd(const char *path)
{
	struct uvfs_vd vd;
	struct uvfs_pathop p = fx_popf(path);
	cr_assert_eq(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, &vd), 0, "%s", path);
	return vd;
}

/* Registers task tid of group pid with root and cwd paths. */
static int pfx_register(int32_t pid, int32_t tid, const char *root, const char *cwd, const char *comm,
			const struct uvfs_cred *cred)
{
	static const char *const argv[] = { "/bin/sh", "-c", "x y", NULL };
	static const char *const envp[] = { "A=1", "B=two", NULL };
	struct uvfs_vd r = pfx_vd(root), c = pfx_vd(cwd);
	struct uvfs_task_params p = {
		.pid = pid, .tid = tid, .ppid = pid > 1 ? 1 : 0, .cred = cred, .comm = comm, .argv = argv,
		.envp = envp, .root = &r, .cwd = &c, .exe = &c, .mntns = fx.ns,
		.fd_ops = pid == 1 ? &pfx_fd_ops : NULL,
	};
	int err = uvfs_task_register(T, &p);
	uvfs_vd_put(&r);
	uvfs_vd_put(&c);
	return err;
}

static void pfx_setup(void)
{
	fx_setup();
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &uvfs_proc_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST));
	FX_ASSERT_OK(uvfs_tasks_new(fx.vfs, &T));
	fx_must_mkdir("/proc", 0555);
	fx_must_mkdir("/home", 0755);
	fx_must_mkdir("/home/u", 0755);
	struct uvfs_pathop p = fx_popf("/proc");
	struct uvfs_mount_opts o = { .flags = UVFS_MNT_NOSUID | UVFS_MNT_NODEV | UVFS_MNT_NOEXEC };
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "proc", &p, "proc", &o));
	FX_ASSERT_OK(pfx_register(1, 0, "/", "/home/u", NULL, NULL));
}

static void pfx_teardown(void)
{
	for (int i = 0; i < 8; i++)
		if (pfx_fds[i]) {
			uvfs_file_put(pfx_fds[i]);
			pfx_fds[i] = NULL;
		}
	uvfs_tasks_destroy(T);
	fx_teardown();
}

#define PROC_TEST(suite, name, ...)                                                                              \
	static void pbody_##suite##_##name(void);                                                                \
	Test(suite, name, .timeout = 60, ##__VA_ARGS__)                                                         \
	{                                                                                                        \
		pfx_setup();                                                                                     \
		pbody_##suite##_##name();                                                                        \
		pfx_teardown();                                                                                  \
	}                                                                                                        \
	static void pbody_##suite##_##name(void)

/* Whole content of path (following links) into a malloc'd buffer. */
static inline ssize_t pfx_read(const char *path, char **out)
{
	struct uvfs_file *f;
	int err = fx_open(path, O_RDONLY, 0, &f);
	if (err)
		return err;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1024 >= cap)
			buf = realloc(buf, cap *= 2);
		ssize_t n = uvfs_read(f, buf + len, cap - len - 1);
		if (n < 0) {
			free(buf);
			uvfs_file_put(f);
			return n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	uvfs_file_put(f);
	*out = buf;
	return (ssize_t)len;
}

static inline ssize_t pfx_readlink(const char *path, char *buf, size_t len)
{
	struct uvfs_pathop p = fx_pop(path);
	ssize_t n = uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, len - 1);
	if (n >= 0)
		buf[n] = 0;
	return n;
}
