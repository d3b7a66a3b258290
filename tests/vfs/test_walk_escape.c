/* test_walk_escape.c — ".." must not climb out of a bind mount whose root
 * is no longer an ancestor of the walker (Linux path_connected(),
 * CVE-2015-2925). Linux answers ENOENT (checked with mount --bind on a host
 * tmpfs and a cwd renamed out of the bound subtree). */
#include "fixture.h"

/* Layout: /a/b/c (the bound subtree), /outside/secret, /a/outside/ok;
 * /a bind-mounted at /mnt. Returns the bind mount's vd at /mnt and the
 * walker's cwd /mnt/b/c. */
static void bind_tree(struct uvfs_vd *mnt, struct uvfs_vd *cwd)
{
	fx_must_mkdir("/a", 0755);
	fx_must_mkdir("/a/b", 0755);
	fx_must_mkdir("/a/b/c", 0755);
	fx_must_mkdir("/a/outside", 0755);
	fx_must_write("/a/outside/ok", "inside");
	fx_must_mkdir("/outside", 0755);
	fx_must_write("/outside/secret", "secret");
	fx_must_mkdir("/mnt", 0755);

	struct uvfs_vd a;
	struct uvfs_pathop p = fx_pop("/a");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, &a));
	struct uvfs_mount *m;
	FX_ASSERT_OK(uvfs_new_disconnected_mount(fx.vfs, uvfs_mount_fs(a.mount), a.dentry,
						 &(struct uvfs_mount_opts){ 0 }, &m));
	uvfs_vd_put(&a);
	p = fx_pop("/mnt");
	FX_ASSERT_OK(uvfs_connect_mount_at(fx.vfs, &fx.cred, m, &p));
	uvfs_mount_put(m);

	p = fx_pop("/mnt");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, mnt));
	p = fx_pop("/mnt/b/c");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, cwd));
}

static int stat_from(const struct uvfs_vd *root, const struct uvfs_vd *start, const char *path)
{
	struct uvfs_pathop p = { .root = *root, .start = *start, .path = path };
	struct statx st;
	return uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, &st);
}

static int open_from(const struct uvfs_vd *root, const struct uvfs_vd *start, const char *path, int oflags)
{
	struct uvfs_pathop p = { .root = *root, .start = *start, .path = path };
	struct uvfs_file *f = NULL;
	int err = uvfs_open_at(fx.vfs, &fx.cred, &p, oflags, 0644, 0, &f);
	if (!err)
		uvfs_file_put(f);
	return err;
}

static void escape_case(bool refwalk)
{
	struct uvfs_vd mnt, cwd;
	bind_tree(&mnt, &cwd);
	uvfs_set_debug(fx.vfs, refwalk ? UVFS_DEBUG_REFWALK : 0);
	/* Before the rename ".." stays inside the bound subtree. */
	FX_ASSERT_OK(stat_from(&mnt, &cwd, "../../outside/ok"));
	FX_ASSERT_ERR(stat_from(&mnt, &cwd, "../../../outside/secret"), -ENOENT);

	/* Move the walker's directory out of the bound subtree /a. */
	struct uvfs_pathop o = fx_pop("/a/b/c"), n = fx_pop("/c_moved");
	FX_ASSERT_OK(uvfs_rename_at(fx.vfs, &fx.cred, &o, &n, 0));

	FX_ASSERT_ERR(stat_from(&mnt, &cwd, "../outside/secret"), -ENOENT);
	FX_ASSERT_ERR(stat_from(&mnt, &cwd, ".."), -ENOENT);
	FX_ASSERT_ERR(stat_from(&mnt, &cwd, "./../outside"), -ENOENT);
	FX_ASSERT_ERR(open_from(&mnt, &cwd, "../outside/secret", O_RDONLY), -ENOENT);
	FX_ASSERT_ERR(open_from(&mnt, &cwd, "../outside/new", O_CREAT | O_WRONLY), -ENOENT);
	/* Whatever the root: cwd is still on the bind mount (as in Linux). */
	FX_ASSERT_ERR(stat_from(&fx.root, &cwd, "../outside/secret"), -ENOENT);
	/* Through the namespace root's mount (the fs root) it is connected. */
	FX_ASSERT_OK(stat_from(&fx.root, &fx.root, "/c_moved/../outside/secret"));
	/* Names below the disconnected directory still resolve. */
	FX_ASSERT_OK(stat_from(&mnt, &cwd, "."));
	uvfs_set_debug(fx.vfs, 0);
	uvfs_vd_put(&cwd);
	uvfs_vd_put(&mnt);
}

FX_TEST(walk_escape, dotdot_after_rename_out_of_bind_rcu) { escape_case(false); }
FX_TEST(walk_escape, dotdot_after_rename_out_of_bind_ref) { escape_case(true); }

FX_TEST(walk_escape, dotdot_inside_bind_mount_still_works)
{
	struct uvfs_vd mnt, cwd;
	bind_tree(&mnt, &cwd);
	for (int ref = 0; ref < 2; ref++) {
		uvfs_set_debug(fx.vfs, ref ? UVFS_DEBUG_REFWALK : 0);
		FX_ASSERT_OK(stat_from(&mnt, &cwd, "../../outside/ok"));
		FX_ASSERT_OK(stat_from(&fx.root, &cwd, "../../../../outside/secret"));
		FX_ASSERT_OK(stat_from(&fx.root, &fx.root, "/mnt/b/c/../../outside/ok"));
		FX_ASSERT_OK(stat_from(&fx.root, &fx.root, "/mnt/b/../../outside/secret"));
	}
	uvfs_set_debug(fx.vfs, 0);
	uvfs_vd_put(&cwd);
	uvfs_vd_put(&mnt);
}
