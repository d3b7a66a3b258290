/* tests/vfs/test_accessors.c — the dentry accessors a filesystem may call
 * from any context (review C4): a referenced parent that follows renames,
 * and a name copied under RCU. */
#include "../lib/fixture.h"

#include "uvfs_fs.h"

static struct uvfs_vd get(const char *path)
{
	struct uvfs_pathop pop = fx_pop(path);
	struct uvfs_vd vd;
	cr_assert_eq(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pop, 0, &vd), 0, "%s", path);
	return vd;
}

FX_TEST(accessors, parent_is_referenced_and_follows_renames)
{
	fx_must_mkdir("/a", 0755);
	fx_must_mkdir("/b", 0755);
	fx_must_write("/a/f", "x");
	struct uvfs_vd f = get("/a/f"), a = get("/a"), b = get("/b");
	struct uvfs_dentry *p = uvfs_dentry_get_parent(f.dentry);
	cr_assert_eq(p, a.dentry);
	uvfs_dentry_put(p);
	struct uvfs_pathop o = fx_pop("/a/f"), n = fx_pop("/b/g");
	cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &o, &n, 0), 0);
	p = uvfs_dentry_get_parent(f.dentry);
	cr_assert_eq(p, b.dentry, "the parent after the rename");
	/* The old parent can go away while we hold the new one. */
	uvfs_vd_put(&a);
	struct uvfs_pathop ra = fx_pop("/a");
	cr_assert_eq(uvfs_rmdir_at(fx.vfs, &fx.cred, &ra), 0);
	uvfs_dentry_put(p);
	char name[8];
	cr_assert_eq(uvfs_dentry_name_copy(f.dentry, name, sizeof(name)), 1);
	cr_assert_str_eq(name, "g");
	/* A root is its own parent. */
	p = uvfs_dentry_get_parent(fx.root.dentry);
	cr_assert_eq(p, fx.root.dentry);
	uvfs_dentry_put(p);
	uvfs_vd_put(&f);
	uvfs_vd_put(&b);
}

FX_TEST(accessors, name_copy_truncates_and_reports_length)
{
	fx_must_write("/a-rather-long-name", "x");
	struct uvfs_vd f = get("/a-rather-long-name");
	char buf[6];
	cr_assert_eq(uvfs_dentry_name_copy(f.dentry, buf, sizeof(buf)), 18);
	cr_assert_str_eq(buf, "a-rat");
	cr_assert_eq(uvfs_dentry_name_copy(f.dentry, NULL, 0), 18);
	uvfs_vd_put(&f);
}
