/* test_ctxops.c — the interface issue 9 adds for /proc, the gofer and
 * overlay: the caller context (uvfs_ctx), jump links (->get_link), the
 * ->permission op (RCU-walk and ref-walk), atomic create+open, and the one
 * mount crossing of O_CREAT opens. The filesystem is tests/lib/testfs.c
 * mounted on /t of the fixture's tmpfs.
 *
 * Errnos checked against the host kernel (6.x): openat2(O_CREAT|O_RDWR,
 * RESOLVE_NO_XDEV) of a bind-mounted file is EXDEV; /proc/self/fd links
 * (magic links) are ELOOP under RESOLVE_NO_MAGICLINKS and NO_SYMLINKS,
 * EXDEV under RESOLVE_BENEATH, and count in the 40-link budget; readlink
 * of one whose file was unlinked ends in " (deleted)". */
#include "fixture.h"
#include "testfs.h"

#include <urcu/urcu-memb.h>

static void tf_mount(void)
{
	int rc = uvfs_register_fs_type(fx.vfs, &testfs_type, UVFS_FS_USER_MOUNT);
	cr_assert_eq(rc, 0, "register testfs: %s", fx_err(rc));
	fx_must_mkdir("/t", 0755);
	struct uvfs_pathop p = fx_popf("/t");
	struct uvfs_mount_opts o = { 0 };
	rc = uvfs_mount_at(fx.vfs, &fx.cred, "srv", &p, "testfs", &o);
	cr_assert_eq(rc, 0, "mount testfs: %s", fx_err(rc));
}

static void tf_umount(void)
{
	FX_ASSERT_OK(fx_umount("/t", 0));
	uvfs_rcu_barrier();
	cr_assert_eq(atomic_load(&testfs_calls.handles_live), 0, "%d open handles leaked",
		     atomic_load(&testfs_calls.handles_live));
	cr_assert_eq(atomic_load(&testfs_calls.fsdata_live), 0);
}

/* testfs_reset() runs first, so a test may set testfs_policy before the
 * mount (see TF_TEST_P). */
#define TF_TEST_P(name, policy_stmt)                                                                           \
	static void tfbody_##name(void);                                                                         \
	FX_TEST(ctxops, name)                                                                                    \
	{                                                                                                        \
		testfs_reset();                                                                                  \
		policy_stmt;                                                                                     \
		tf_mount();                                                                                      \
		tfbody_##name();                                                                                 \
		tf_umount();                                                                                     \
	}                                                                                                        \
	static void tfbody_##name(void)
#define TF_TEST(name) TF_TEST_P(name, (void)0)

static struct uvfs_pathop pop_flags(const char *path, unsigned flags)
{
	struct uvfs_pathop p = fx_pop(path);
	p.flags = flags;
	return p;
}

static int stat_as(const struct uvfs_cred *c, const char *path, unsigned flags, struct statx *st)
{
	struct uvfs_pathop p = pop_flags(path, flags);
	return uvfs_stat_at(fx.vfs, c, &p, STATX_BASIC_STATS, st);
}

/* ------------------------------------------------------- caller context */

static int task_a, task_b; /* two "tasks": only their addresses matter */
static int intr_answer(void *task) { return task == &task_b; }

TF_TEST(ctx_task_reaches_lookup_and_read)
{
	cr_assert(testfs_add(TESTFS_ROOT, "a", S_IFREG | 0644));
	cr_assert_null(uvfs_current_ctx()->task, "no context entered: task NULL");
	struct uvfs_ctx ca = { .cred = &fx.cred, .task = &task_a, .interrupted = intr_answer };
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&ca);
	cr_assert_null(prev);
	struct statx st;
	FX_ASSERT_OK(fx_stat("/t/a", &st));
	cr_assert_eq(atomic_load(&testfs_calls.lookup_task), &task_a, "->lookup did not see the caller's task");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/t/a", O_RDONLY, 0, &f));
	/* Nested: a file call made as another task sees that task. */
	struct uvfs_ctx cb = { .task = &task_b };
	cr_assert_eq(uvfs_ctx_enter(&cb), &ca);
	char buf[4];
	FX_ASSERT_OK(uvfs_read(f, buf, sizeof buf));
	cr_assert_eq(atomic_load(&testfs_calls.read_task), &task_b, "->read did not see the caller's task");
	uvfs_ctx_leave(&ca);
	cr_assert_eq(uvfs_current_ctx(), &ca);
	FX_ASSERT_OK(uvfs_read(f, buf, sizeof buf));
	cr_assert_eq(atomic_load(&testfs_calls.read_task), &task_a);
	uvfs_file_put(f);
	uvfs_ctx_leave(prev);
	cr_assert_null(uvfs_current_ctx()->task);
}

TF_TEST(ctx_interrupt_check_gives_eintr)
{
	cr_assert(testfs_add(TESTFS_ROOT, "intr1", S_IFREG | 0644));
	struct statx st;
	struct uvfs_ctx quiet = { .task = &task_a, .interrupted = intr_answer };
	struct uvfs_ctx signalled = { .task = &task_b, .interrupted = intr_answer };
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&signalled);
	cr_assert_eq(uvfs_ctx_interrupted(), -EINTR);
	FX_ASSERT_ERR(fx_stat("/t/intr1", &st), -EINTR);
	uvfs_ctx_leave(prev);
	/* Not cached: the next call asks the server again and succeeds. */
	prev = uvfs_ctx_enter(&quiet);
	cr_assert_eq(uvfs_ctx_interrupted(), 0);
	FX_ASSERT_OK(fx_stat("/t/intr1", &st));
	uvfs_ctx_leave(prev);
	cr_assert_eq(uvfs_ctx_interrupted(), 0, "no context: never interrupted");
}

/* ----------------------------------------------------------- jump links */

/* /target/f on the fixture's tmpfs; /t/jl jumps to /target. */
static void jump_setup(const char *target_path)
{
	fx_must_mkdir("/target", 0755);
	fx_must_write("/target/f", "hello");
	cr_assert(testfs_add(TESTFS_ROOT, "jl", S_IFLNK | 0777));
	struct uvfs_pathop p = fx_pop(target_path);
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, &testfs_jump_target));
}

static void jump_done(void) { uvfs_vd_put(&testfs_jump_target); }

TF_TEST(jump_link_resolves_to_its_vd)
{
	jump_setup("/target");
	struct statx st, lst, want;
	FX_ASSERT_OK(fx_stat("/target/f", &want));
	FX_ASSERT_OK(fx_stat("/t/jl/f", &st));
	cr_assert_eq(st.stx_ino, want.stx_ino, "/t/jl/f is not /target/f");
	FX_ASSERT_OK(fx_stat("/t/jl", &st));
	cr_assert(S_ISDIR(st.stx_mode), "a followed final jump link is its target");
	FX_ASSERT_OK(fx_lstat("/t/jl", &lst));
	cr_assert(S_ISLNK(lst.stx_mode), "not followed: the link itself");
	/* ".." from the target is the target's parent, not the link's. */
	FX_ASSERT_OK(fx_stat("/t/jl/..", &st));
	cr_assert_eq(st.stx_ino, fx_ino("/"));
	char buf[64];
	FX_ASSERT_ERR(fx_read_file("/t/jl/f", buf, sizeof buf), 5);
	cr_assert_str_eq(buf, "hello");
	cr_assert_gt(atomic_load(&testfs_calls.get_links), 0);
	/* RESOLVE_CACHED: get_link needs the ref-walk. */
	FX_ASSERT_ERR(stat_as(&fx.cred, "/t/jl/f", UVFS_RESOLVE_CACHED, &st), -EAGAIN);
	jump_done();
}

TF_TEST(jump_link_resolve_flags)
{
	jump_setup("/target");
	struct statx st;
	FX_ASSERT_ERR(stat_as(&fx.cred, "/t/jl/f", UVFS_RESOLVE_NO_MAGICLINKS, &st), -ELOOP);
	FX_ASSERT_ERR(stat_as(&fx.cred, "/t/jl", UVFS_PATH_FOLLOW | UVFS_RESOLVE_NO_MAGICLINKS, &st), -ELOOP);
	FX_ASSERT_OK(stat_as(&fx.cred, "/t/jl", UVFS_RESOLVE_NO_MAGICLINKS, &st)); /* not followed */
	cr_assert(S_ISLNK(st.stx_mode));
	FX_ASSERT_ERR(stat_as(&fx.cred, "/t/jl/f", UVFS_RESOLVE_NO_SYMLINKS, &st), -ELOOP);
	/* Scoped lookups and mount changes, from /t. */
	struct uvfs_vd t;
	struct uvfs_pathop tp = fx_pop("/t");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &tp, 0, &t));
	struct uvfs_pathop p = fx_pop_at(&t, "jl/f", UVFS_RESOLVE_BENEATH);
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, &st), -EXDEV);
	p = fx_pop_at(&t, "jl/f", UVFS_RESOLVE_IN_ROOT);
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, &st), -EXDEV);
	p = fx_pop_at(&t, "jl/f", UVFS_RESOLVE_NO_XDEV);
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, &st), -EXDEV);
	p = fx_pop_at(&t, "jl/f", 0);
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, &st));
	uvfs_vd_put(&t);
	jump_done();
}

TF_TEST(jump_link_counts_in_the_40_link_budget)
{
	jump_setup("/target");
	/* /s0 -> /s1 -> ... -> /s39 -> /t/jl: 40 text links and a jump. */
	char name[16], target[16];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof name, "/s%d", i);
		if (i == 39)
			snprintf(target, sizeof target, "/t/jl");
		else
			snprintf(target, sizeof target, "/s%d", i + 1);
		FX_ASSERT_OK(fx_symlink(target, name));
	}
	struct statx st;
	FX_ASSERT_OK(fx_stat("/s1/f", &st)); /* 39 + 1 = 40 */
	FX_ASSERT_ERR(fx_stat("/s0/f", &st), -ELOOP); /* 40 + 1 */
	jump_done();
}

TF_TEST(jump_link_readlink_is_the_target_path)
{
	jump_setup("/target/f");
	char buf[64] = { 0 };
	struct uvfs_pathop p = fx_pop("/t/jl");
	FX_ASSERT_ERR(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, sizeof buf), 9);
	cr_assert_str_eq(buf, "/target/f");
	memset(buf, 0, sizeof buf);
	FX_ASSERT_ERR(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, 4), 4); /* truncated, as readlink(2) */
	cr_assert_str_eq(buf, "/tar");
	struct uvfs_pathop f = fx_pop("/target/f");
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &f));
	memset(buf, 0, sizeof buf);
	FX_ASSERT_ERR(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, sizeof buf), 19);
	cr_assert_str_eq(buf, "/target/f (deleted)");
	jump_done();
}

TF_TEST(jump_link_o_creat_opens_the_target)
{
	jump_setup("/target/f");
	struct uvfs_file *f;
	/* Linux: open(O_CREAT) through /proc/self/fd/N opens the file. */
	FX_ASSERT_OK(fx_open("/t/jl", O_CREAT | O_WRONLY | O_TRUNC, 0644, &f));
	FX_ASSERT_ERR(uvfs_write(f, "bye", 3), 3);
	uvfs_file_put(f);
	char buf[16];
	FX_ASSERT_ERR(fx_read_file("/target/f", buf, sizeof buf), 3);
	cr_assert_str_eq(buf, "bye");
	FX_ASSERT_ERR(fx_open("/t/jl", O_CREAT | O_EXCL | O_WRONLY, 0644, &f), -EEXIST);
	struct uvfs_pathop p = pop_flags("/t/jl", UVFS_RESOLVE_NO_MAGICLINKS);
	FX_ASSERT_ERR(uvfs_open_at(fx.vfs, &fx.cred, &p, O_CREAT | O_WRONLY, 0644, 0, &f), -ELOOP);
	cr_assert_eq(atomic_load(&testfs_calls.creates), 0, "nothing created on testfs");
	jump_done();
}

/* ------------------------------------------------------------ permission */

TF_TEST(permission_op_decides_in_both_walks)
{
	cr_assert(testfs_add(TESTFS_ROOT, "a", S_IFREG | 0644));
	struct statx st;
	FX_ASSERT_OK(stat_as(&fx.user2, "/t/a", 0, &st)); /* cache it */
	testfs_policy.deny_uid = fx.user.fsuid;
	int rcu0 = atomic_load(&testfs_calls.perms_rcu);
	/* The mode (0755) lets everybody search; the op says no to user. */
	FX_ASSERT_ERR(stat_as(&fx.user, "/t/a", 0, &st), -EACCES);
	FX_ASSERT_ERR(stat_as(&fx.user, "/t/a", UVFS_RESOLVE_CACHED, &st), -EACCES);
	/* Pinned entries without dentry ops: the RCU fast loop's own
	 * mode-bit shortcut must defer to the op too. */
	FX_ASSERT_OK(stat_as(&fx.user2, "/t/static/s1", 0, &st));
	FX_ASSERT_ERR(stat_as(&fx.user, "/t/static/s1", 0, &st), -EACCES);
	FX_ASSERT_ERR(stat_as(&fx.user, "/t/fixed", 0, &st), -EACCES);
	FX_ASSERT_OK(stat_as(&fx.user2, "/t/a", UVFS_RESOLVE_CACHED, &st)); /* RCU walk, cached */
	cr_assert_gt(atomic_load(&testfs_calls.perms_rcu), rcu0, "RCU walk skipped ->permission");
	struct uvfs_file *f;
	FX_ASSERT_ERR(fx_open_as(&fx.user, "/t/a", O_RDONLY, 0, &f), -EACCES);
	FX_ASSERT_ERR(fx_open_as(&fx.user, "/t/new", O_CREAT | O_RDONLY, 0644, &f), -EACCES);
	testfs_policy.deny_uid = 0; /* nobody */
	FX_ASSERT_OK(fx_open_as(&fx.user2, "/t/a", O_RDONLY, 0, &f));
	uvfs_file_put(f);
}

TF_TEST(permission_op_echild_falls_back_to_ref_walk)
{
	cr_assert(testfs_add(TESTFS_ROOT, "a", S_IFREG | 0644));
	struct statx st;
	FX_ASSERT_OK(stat_as(&fx.user2, "/t/a", 0, &st));
	testfs_policy.perm_rcu_echild = true;
	int rcu0 = atomic_load(&testfs_calls.perms_rcu), ref0 = atomic_load(&testfs_calls.perms);
	FX_ASSERT_OK(stat_as(&fx.user2, "/t/a", 0, &st));
	cr_assert_gt(atomic_load(&testfs_calls.perms_rcu), rcu0);
	cr_assert_gt(atomic_load(&testfs_calls.perms), ref0, "-ECHILD did not send the walk to ref-walk");
	FX_ASSERT_ERR(stat_as(&fx.user2, "/t/a", UVFS_RESOLVE_CACHED, &st), -EAGAIN);
}

/* ------------------------------------------------------- atomic open */

TF_TEST_P(atomic_open_called_once_on_a_miss, testfs_policy.atomic_open = true)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/t/new", O_CREAT | O_RDWR, 0640, &f));
	cr_assert_eq(atomic_load(&testfs_calls.atomic_opens), 1);
	cr_assert_eq(atomic_load(&testfs_calls.creates), 0, "->create called beside ->atomic_open");
	cr_assert_eq(atomic_load(&testfs_calls.file_opens), 0, "->open called after ->atomic_open");
	cr_assert_not_null(f->f_private);
	cr_assert_eq(uvfs_file_flags(f) & O_ACCMODE, O_RDWR);
	char b[4];
	FX_ASSERT_OK(uvfs_read(f, b, sizeof b)); /* the inode's fops are in place */
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_mode, S_IFREG | 0640);
	cr_assert_eq(atomic_load(&testfs_calls.file_releases), 0);
	uvfs_file_put(f);
	cr_assert_eq(atomic_load(&testfs_calls.file_releases), 1, "->release after atomic_open");
	/* It exists now: a plain open, no second create. */
	FX_ASSERT_OK(fx_open("/t/new", O_CREAT | O_RDONLY, 0640, &f));
	cr_assert_eq(atomic_load(&testfs_calls.atomic_opens), 1);
	cr_assert_eq(atomic_load(&testfs_calls.file_opens), 1);
	uvfs_file_put(f);
	FX_ASSERT_ERR(fx_open("/t/new", O_CREAT | O_EXCL | O_RDONLY, 0640, &f), -EEXIST);
	/* The VFS checks first: no write permission, no call. */
	FX_ASSERT_ERR(fx_open_as(&fx.user, "/t/other", O_CREAT | O_RDWR, 0640, &f), -EACCES);
	cr_assert_eq(atomic_load(&testfs_calls.atomic_opens), 1);
	/* Read-only mount: -EROFS, no call. */
	struct uvfs_vd t;
	struct uvfs_pathop tp = fx_popf("/t");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &tp, 0, &t));
	FX_ASSERT_OK(uvfs_set_mount_readonly(t.mount, true));
	FX_ASSERT_ERR(fx_open("/t/ro", O_CREAT | O_RDWR, 0640, &f), -EROFS);
	FX_ASSERT_OK(uvfs_set_mount_readonly(t.mount, false));
	uvfs_vd_put(&t);
	cr_assert_eq(atomic_load(&testfs_calls.atomic_opens), 1);
}

TF_TEST(without_atomic_open_create_then_open)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/t/new", O_CREAT | O_RDWR, 0640, &f));
	cr_assert_eq(atomic_load(&testfs_calls.atomic_opens), 0);
	cr_assert_eq(atomic_load(&testfs_calls.creates), 1);
	cr_assert_eq(atomic_load(&testfs_calls.file_opens), 1);
	uvfs_file_put(f);
	cr_assert_eq(atomic_load(&testfs_calls.file_releases), 1);
}

FX_TEST(ctxops, tmpfs_o_creat_still_works)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/n", O_CREAT | O_EXCL | O_RDWR, 0600, &f));
	FX_ASSERT_ERR(uvfs_write(f, "x", 1), 1);
	uvfs_file_put(f);
	cr_assert_eq(fx_mode("/n"), S_IFREG | 0600);
}

/* --------------------------------------------------- O_CREAT and mounts */

/* Regression: open_create crossed mounts with its own loop, which ignored
 * RESOLVE_NO_XDEV (Linux: EXDEV, as for any crossing). */
FX_TEST(ctxops, o_creat_on_a_mountpoint_obeys_no_xdev)
{
	fx_must_write("/src", "s");
	fx_must_write("/mp", "m");
	struct uvfs_pathop src = fx_pop("/src"), dst = fx_pop("/mp");
	FX_ASSERT_OK(uvfs_bind_at(fx.vfs, &fx.cred, &src, &dst, 0));
	struct uvfs_file *f;
	struct uvfs_pathop p = pop_flags("/mp", UVFS_RESOLVE_NO_XDEV);
	p.path = "mp"; /* relative: an absolute path may start anywhere */
	FX_ASSERT_ERR(uvfs_open_at(fx.vfs, &fx.cred, &p, O_CREAT | O_RDWR, 0644, 0, &f), -EXDEV);
	FX_ASSERT_ERR(uvfs_open_at(fx.vfs, &fx.cred, &p, O_RDWR, 0644, 0, &f), -EXDEV);
	/* Without the flag both open the bound file. */
	p.flags = 0;
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.cred, &p, O_CREAT | O_RDWR, 0644, 0, &f));
	char b[4] = { 0 };
	FX_ASSERT_ERR(uvfs_read(f, b, sizeof b), 1);
	cr_assert_str_eq(b, "s");
	uvfs_file_put(f);
	FX_ASSERT_OK(fx_umount("/mp", 0));
}

/* The symlink target limit (Linux: the target is a path, PATH_MAX with
 * its NUL): 4095 bytes are accepted, 4096 are -ENAMETOOLONG. */
FX_TEST(ctxops, symlink_target_length)
{
	char *t = malloc(4097);
	cr_assert(t);
	memset(t, 'a', 4096);
	t[4096] = 0;
	FX_ASSERT_ERR(fx_symlink(t, "/long"), -ENAMETOOLONG);
	t[4095] = 0;
	FX_ASSERT_OK(fx_symlink(t, "/long"));
	char *buf = malloc(5000);
	struct uvfs_pathop p = fx_pop("/long");
	FX_ASSERT_ERR(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, 5000), 4095);
	free(buf);
	free(t);
}

/* A failing ->atomic_open leaves no file, no release and a negative name. */
TF_TEST_P(atomic_open_error_leaves_nothing, testfs_policy.atomic_open = true)
{
	testfs_policy.no_create = true;
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/t/new", O_CREAT | O_WRONLY, 0644, &f), -EPERM);
	cr_assert_null(f);
	cr_assert_eq(atomic_load(&testfs_calls.atomic_opens), 1);
	cr_assert_eq(atomic_load(&testfs_calls.file_releases), 0, "->release for a file that was never opened");
	struct statx st;
	FX_ASSERT_ERR(fx_stat("/t/new", &st), -ENOENT);
}
