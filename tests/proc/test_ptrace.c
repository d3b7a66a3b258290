/* test_ptrace.c — ptrace-style access checks (Linux ptrace_may_access
 * with PTRACE_MODE_READ_FSCREDS) on /proc/[pid]/environ, fdinfo/ and the
 * links cwd, root, exe and fd/N; fd/ itself is only mode bits (0500).
 * The expected answers are the host's, seen with setpriv as uid 65534 and
 * as uid 1000 with gid 65534 reading a uid 1000 process: environ, fdinfo/
 * and the links EACCES for both, fd/ listable by the second. */
#include <linux/capability.h>

#include "proc_fx.h"

static struct uvfs_cred owner, other, halfway, root;

static void setup_task(void)
{
	uvfs_cred_init_user(&owner, 1000, 1000);
	uvfs_cred_init_user(&other, 65534, 65534);
	uvfs_cred_init_user(&halfway, 1000, 65534); /* owner's uid, another gid */
	uvfs_cred_init_root(&root);
	fx_must_write("/home/u/f", "x");
	FX_ASSERT_OK(fx_open("/home/u/f", O_RDONLY, 0, &pfx_fds[0]));
	struct uvfs_vd r = pfx_vd("/"), c = pfx_vd("/home/u");
	static const char *const envp[] = { "SECRET=1", NULL };
	struct uvfs_task_params p = {
		.pid = 5, .cred = &owner, .envp = envp, .root = &r, .cwd = &c, .exe = &c, .mntns = fx.ns,
		.fd_ops = &pfx_fd_ops,
	};
	FX_ASSERT_OK(uvfs_task_register(T, &p));
	uvfs_vd_put(&r);
	uvfs_vd_put(&c);
}

static int open_as(const struct uvfs_cred *c, const char *path, int flags)
{
	struct uvfs_file *f;
	int err = fx_open_as(c, path, flags, 0, &f);
	if (!err)
		uvfs_file_put(f);
	return err;
}

/* readlink as c, with c as the caller context's credentials (the way an
 * embedder runs a task's calls). */
static ssize_t readlink_as(const struct uvfs_cred *c, const char *path)
{
	char buf[256];
	struct uvfs_ctx ctx = { .cred = c };
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&ctx);
	struct uvfs_pathop p = fx_pop(path);
	ssize_t n = uvfs_readlink_at(fx.vfs, c, &p, buf, sizeof buf);
	uvfs_ctx_leave(prev);
	return n;
}

PROC_TEST(ptrace, environ)
{
	setup_task();
	FX_ASSERT_ERR(open_as(&other, "/proc/5/environ", O_RDONLY), -EACCES);
	FX_ASSERT_ERR(open_as(&halfway, "/proc/5/environ", O_RDONLY), -EACCES);
	FX_ASSERT_OK(open_as(&owner, "/proc/5/environ", O_RDONLY));
	FX_ASSERT_OK(open_as(&root, "/proc/5/environ", O_RDONLY));
	char *s;
	cr_assert_eq(pfx_read("/proc/5/environ", &s), 9);
	cr_assert_str_eq(s, "SECRET=1");
	free(s);
	/* CAP_SYS_PTRACE alone is not enough: environ is 0400 (DAC first)... */
	struct uvfs_cred tracer = fx_user_with_cap(CAP_SYS_PTRACE);
	tracer.fsuid = tracer.uid = tracer.euid = 2000;
	FX_ASSERT_ERR(open_as(&tracer, "/proc/5/environ", O_RDONLY), -EACCES);
	/* ...but with read access by mode bits, it passes the ptrace check. */
	tracer.caps |= UVFS_CAP(CAP_DAC_READ_SEARCH);
	FX_ASSERT_OK(open_as(&tracer, "/proc/5/environ", O_RDONLY));
}

PROC_TEST(ptrace, fd_and_fdinfo)
{
	setup_task();
	/* fd/: mode bits only (0500, the task's owner). */
	FX_ASSERT_ERR(open_as(&other, "/proc/5/fd", O_RDONLY | O_DIRECTORY), -EACCES);
	FX_ASSERT_OK(open_as(&halfway, "/proc/5/fd", O_RDONLY | O_DIRECTORY));
	FX_ASSERT_OK(open_as(&owner, "/proc/5/fd", O_RDONLY | O_DIRECTORY));
	/* fdinfo/: 0555, and the ptrace check. */
	FX_ASSERT_ERR(open_as(&other, "/proc/5/fdinfo", O_RDONLY | O_DIRECTORY), -EACCES);
	FX_ASSERT_ERR(open_as(&halfway, "/proc/5/fdinfo", O_RDONLY | O_DIRECTORY), -EACCES);
	FX_ASSERT_ERR(open_as(&halfway, "/proc/5/fdinfo/0", O_RDONLY), -EACCES);
	FX_ASSERT_OK(open_as(&owner, "/proc/5/fdinfo", O_RDONLY | O_DIRECTORY));
	FX_ASSERT_OK(open_as(&owner, "/proc/5/fdinfo/0", O_RDONLY));
	FX_ASSERT_OK(open_as(&root, "/proc/5/fdinfo/0", O_RDONLY));
	/* A cached fdinfo/0 dentry (an RCU walk) is checked again. */
	FX_ASSERT_ERR(open_as(&other, "/proc/5/fdinfo/0", O_RDONLY), -EACCES);
}

PROC_TEST(ptrace, links)
{
	setup_task();
	const char *links[] = { "/proc/5/cwd", "/proc/5/root", "/proc/5/exe", "/proc/5/fd/0", NULL };
	for (int i = 0; links[i]; i++) {
		/* other cannot even search fd/ (mode bits); the rest is ptrace. */
		FX_ASSERT_ERR(readlink_as(&other, links[i]), -EACCES);
		FX_ASSERT_ERR(readlink_as(&halfway, links[i]), -EACCES);
		cr_assert_gt(readlink_as(&owner, links[i]), 0, "%s", links[i]);
		cr_assert_gt(readlink_as(&root, links[i]), 0, "%s", links[i]);
	}
	/* Following the link is checked too. */
	struct uvfs_ctx ctx = { .cred = &halfway };
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&ctx);
	FX_ASSERT_ERR(fx_open_as(&halfway, "/proc/5/cwd/f", O_RDONLY, 0, &(struct uvfs_file *){ 0 }), -EACCES);
	uvfs_ctx_leave(prev);
	/* The task itself (its thread group) always may, whatever its cred. */
	ctx = (struct uvfs_ctx){ .cred = &other, .tid = 5 };
	prev = uvfs_ctx_enter(&ctx);
	struct uvfs_pathop p = fx_pop("/proc/5/cwd");
	char buf[64];
	cr_assert_gt(uvfs_readlink_at(fx.vfs, &other, &p, buf, sizeof buf), 0);
	uvfs_ctx_leave(prev);
	/* cmdline and mountinfo stay world-readable. */
	FX_ASSERT_OK(open_as(&other, "/proc/5/cmdline", O_RDONLY));
	FX_ASSERT_OK(open_as(&other, "/proc/5/mountinfo", O_RDONLY));
}
