/* Lookup through the layers, whiteouts, opaque directories, the merged
 * readdir, hidden trusted.overlay.* xattrs and mount options. */
#include "ov.h"

FX_TEST(ovl_lookup, layers_top_wins)
{
	ov_layers();
	fx_must_write("/l1/a", "l1a");
	fx_must_write("/l2/a", "l2a");
	fx_must_write("/l2/b", "l2b");
	fx_must_write("/up/u/c", "upc");
	ov_mount();
	ov_expect_file("/m/a", "l1a");
	ov_expect_file("/m/b", "l2b");
	ov_expect_file("/m/c", "upc");
	struct statx st;
	FX_ASSERT_ERR(fx_lstat("/m/nope", &st), -ENOENT);
	ov_expect_list("/m", "a,b,c");
}

FX_TEST(ovl_lookup, whiteout_hides_lower)
{
	ov_layers();
	fx_must_write("/l1/a", "x");
	fx_must_write("/l2/b", "y");
	FX_ASSERT_OK(ov_whiteout("/up/u/a"));
	FX_ASSERT_OK(ov_whiteout("/l1/b")); /* a whiteout in a middle layer hides lower ones */
	ov_mount();
	struct statx st;
	FX_ASSERT_ERR(fx_lstat("/m/a", &st), -ENOENT);
	FX_ASSERT_ERR(fx_lstat("/m/b", &st), -ENOENT);
	ov_expect_list("/m", "");
}

FX_TEST(ovl_lookup, merged_and_opaque_dirs)
{
	ov_layers();
	fx_must_mkdir("/l2/d", 0755);
	fx_must_write("/l2/d/low", "1");
	fx_must_mkdir("/l1/d", 0755);
	fx_must_write("/l1/d/mid", "2");
	fx_must_mkdir("/up/u/d", 0755);
	fx_must_write("/up/u/d/top", "3");
	fx_must_mkdir("/l2/o", 0755);
	fx_must_write("/l2/o/hidden", "h");
	fx_must_mkdir("/up/u/o", 0755);
	fx_must_write("/up/u/o/seen", "s");
	FX_ASSERT_OK(ov_setx("/up/u/o", "trusted.overlay.opaque", "y"));
	ov_mount();
	ov_expect_list("/m/d", "low,mid,top");
	ov_expect_file("/m/d/low", "1");
	ov_expect_list("/m/o", "seen");
	struct statx st;
	FX_ASSERT_ERR(fx_lstat("/m/o/hidden", &st), -ENOENT);
	/* merged directories report nlink 1, as Linux */
	FX_ASSERT_OK(fx_lstat("/m/d", &st));
	cr_assert_eq(st.stx_nlink, 1);
}

FX_TEST(ovl_lookup, nondir_below_dir_ends_merge)
{
	ov_layers();
	fx_must_write("/l2/d", "file");
	fx_must_mkdir("/l1/d", 0755);
	fx_must_write("/l1/d/x", "1");
	ov_mount();
	ov_expect_list("/m/d", "x");
}

FX_TEST(ovl_lookup, private_xattrs_hidden)
{
	ov_layers();
	fx_must_mkdir("/up/u/o", 0755);
	FX_ASSERT_OK(ov_setx("/up/u/o", "trusted.overlay.opaque", "y"));
	FX_ASSERT_OK(ov_setx("/up/u/o", "user.keep", "v"));
	ov_mount();
	char buf[256];
	FX_ASSERT_ERR(ov_getx("/m/o", "trusted.overlay.opaque", buf, sizeof buf), -EOPNOTSUPP);
	cr_assert_eq(ov_getx("/m/o", "user.keep", buf, sizeof buf), 1);
	struct uvfs_pathop p = fx_pop("/m/o");
	ssize_t n = uvfs_listxattr_at(fx.vfs, &fx.cred, &p, buf, sizeof buf);
	cr_assert_eq(n, (ssize_t)sizeof("user.keep"));
	cr_assert_str_eq(buf, "user.keep");
	cr_assert_eq(uvfs_listxattr_at(fx.vfs, &fx.cred, &p, NULL, 0), n);
	FX_ASSERT_ERR(ov_setx("/m/o", "trusted.overlay.opaque", "n"), -EOPNOTSUPP);
}

FX_TEST(ovl_lookup, readdir_stable_across_seek)
{
	ov_layers();
	char p[64];
	for (int i = 0; i < 40; i++) {
		snprintf(p, sizeof p, "/l%d/f%02d", 1 + i % 2, i);
		fx_must_write(p, "x");
	}
	ov_mount();
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/m", O_RDONLY | O_DIRECTORY, 0, &f));
	char buf[512];
	ssize_t n = uvfs_getdents64(f, buf, 200); /* a few entries */
	cr_assert_gt(n, 0);
	off_t mid = uvfs_seek(f, 0, SEEK_CUR);
	char rest1[8192], rest2[8192];
	size_t r1 = 0, r2 = 0;
	while ((n = uvfs_getdents64(f, rest1 + r1, sizeof rest1 - r1)) > 0)
		r1 += (size_t)n;
	/* a new file now must not shift the offsets of the open listing */
	fx_must_write("/m/zz-new", "n");
	cr_assert_eq(uvfs_seek(f, mid, SEEK_SET), mid);
	while ((n = uvfs_getdents64(f, rest2 + r2, sizeof rest2 - r2)) > 0)
		r2 += (size_t)n;
	cr_assert_eq(r1, r2);
	cr_assert_eq(memcmp(rest1, rest2, r1), 0);
	uvfs_file_put(f);
}

FX_TEST(ovl_lookup, options)
{
	ov_layers();
	FX_ASSERT_ERR(ov_mount_data("upperdir=/up/u,workdir=/up/w"), -EINVAL); /* no lower */
	FX_ASSERT_ERR(ov_mount_data("lowerdir=/l1"), -EINVAL); /* read-only needs two lowers */
	FX_ASSERT_ERR(ov_mount_data("lowerdir=/l1,upperdir=/up/u"), -EINVAL); /* no workdir */
	FX_ASSERT_ERR(ov_mount_data("lowerdir=/l1,upperdir=/up/u,workdir=/up/w,bogus=1"), -EINVAL);
	FX_ASSERT_ERR(ov_mount_data("lowerdir=/nope:/l2"), -ENOENT);
	FX_ASSERT_ERR(ov_mount_data("lowerdir=/l1,upperdir=/up/u,workdir=/l2"), -EINVAL); /* other mount */
	/* read-only overlay: changes are EROFS */
	fx_must_write("/l2/f", "x");
	FX_ASSERT_OK(ov_mount_data("lowerdir=/l1:/l2"));
	ov_expect_file("/m/f", "x");
	FX_ASSERT_ERR(fx_write_file("/m/f", "y"), -EROFS);
	FX_ASSERT_ERR(fx_mkdir("/m/d", 0755), -EROFS);
	FX_ASSERT_OK(fx_umount("/m", 0));
}

FX_TEST(ovl_lookup, internal_vds)
{
	ov_layers();
	fx_must_write("/l1/a", "A");
	struct uvfs_vd l1, u, w;
	struct uvfs_pathop p1 = fx_pop("/l1"), pu = fx_pop("/up/u"), pw = fx_pop("/up/w");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p1, 0, &l1));
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pu, 0, &u));
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pw, 0, &w));
	struct uvfs_overlay_opts in = { .upper = u, .work = w, .nlower = 1, .lower = &l1 };
	struct uvfs_mount_opts mo = { .internal = &in, .internal_mount = true };
	struct uvfs_pathop t = fx_pop("/m");
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "overlay", &t, "overlay", &mo));
	uvfs_vd_put(&l1);
	uvfs_vd_put(&u);
	uvfs_vd_put(&w);
	ov_expect_file("/m/a", "A");
	fx_must_write("/m/b", "B");
	ov_expect_file("/up/u/b", "B");
}

/* Bad input never crashes: Data paths without a root to resolve them, a
 * lower count without lowers. */
FX_TEST(ovl_lookup, bad_internal_options)
{
	ov_layers();
	struct uvfs_pathop t = fx_pop("/m");
	struct uvfs_mount_opts mo = { .data = "lowerdir=/l1,upperdir=/up/u,workdir=/up/w" };
	FX_ASSERT_ERR(uvfs_mount_at(fx.vfs, &fx.cred, "overlay", &t, "overlay", &mo), -EINVAL);
	struct uvfs_overlay_opts in = { .nlower = 2 };
	struct uvfs_mount_opts mo2 = { .internal = &in };
	FX_ASSERT_ERR(uvfs_mount_at(fx.vfs, &fx.cred, "overlay", &t, "overlay", &mo2), -EINVAL);
	in.nlower = UVFS_OVERLAY_MAX_LOWER + 1;
	FX_ASSERT_ERR(uvfs_mount_at(fx.vfs, &fx.cred, "overlay", &t, "overlay", &mo2), -EINVAL);
	FX_ASSERT_ERR(ov_mount_data("lowerdir=/l1::/l2"), -EINVAL);
	FX_ASSERT_ERR(ov_mount_data("lowerdir="), -EINVAL);
	FX_ASSERT_ERR(ov_mount_data("lowerdir=/up/u,upperdir=/up/u,workdir=/up/u"), -EINVAL);
}
