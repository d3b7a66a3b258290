/* unlink/rmdir leave whiteouts, rmdir checks the merged view, creation
 * over a whiteout (opaque directories), rename within the upper layer. */
#include "ov.h"

static struct statx lst(const char *p)
{
	struct statx st;
	int rc = fx_lstat(p, &st);
	cr_assert_eq(rc, 0, "lstat %s: %s", p, fx_err(rc));
	return st;
}

static void expect_absent(const char *p)
{
	struct statx st;
	FX_ASSERT_ERR(fx_lstat(p, &st), -ENOENT);
}

static bool opaque(const char *p)
{
	char v[4];
	return ov_getx(p, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
}

FX_TEST(ovl_dirops, unlink_leaves_whiteout)
{
	ov_layers();
	fx_must_write("/l1/low", "1");
	fx_must_write("/l1/both", "2");
	ov_mount();
	fx_must_write("/m/both", "3"); /* copied up */
	fx_must_write("/m/new", "4"); /* upper only */
	FX_ASSERT_OK(ov_unlink("/m/low"));
	FX_ASSERT_OK(ov_unlink("/m/both"));
	FX_ASSERT_OK(ov_unlink("/m/new"));
	expect_absent("/m/low");
	expect_absent("/m/both");
	cr_assert(ov_is_whiteout("/up/u/low"));
	cr_assert(ov_is_whiteout("/up/u/both"));
	expect_absent("/up/u/new"); /* no lower: no whiteout */
	ov_expect_list("/m", "");
	ov_expect_list("/up/w", "");
	FX_ASSERT_ERR(ov_unlink("/m/low"), -ENOENT);
	/* create over the whiteout, then remove it again */
	fx_must_write("/m/low", "again");
	ov_expect_file("/m/low", "again");
	FX_ASSERT_OK(ov_unlink("/m/low"));
	cr_assert(ov_is_whiteout("/up/u/low"));
}

FX_TEST(ovl_dirops, rmdir_checks_merged_view)
{
	ov_layers();
	fx_must_mkdir("/l2/d", 0755);
	fx_must_write("/l2/d/x", "x");
	fx_must_mkdir("/l1/d", 0755);
	ov_mount();
	FX_ASSERT_ERR(ov_rmdir("/m/d"), -ENOTEMPTY); /* empty in l1 and upper, not merged */
	FX_ASSERT_OK(ov_unlink("/m/d/x"));
	cr_assert(ov_is_whiteout("/up/u/d/x"));
	FX_ASSERT_OK(ov_rmdir("/m/d"));
	expect_absent("/m/d");
	cr_assert(ov_is_whiteout("/up/u/d"));
	ov_expect_list("/up/w", "");
	/* a new directory there is opaque: the lower x must not come back */
	fx_must_mkdir("/m/d", 0700);
	cr_assert(opaque("/up/u/d"));
	ov_expect_list("/m/d", "");
	expect_absent("/m/d/x");
	cr_assert_eq(lst("/m/d").stx_mode & 07777, 0700);
}

FX_TEST(ovl_dirops, create_owner_is_caller)
{
	ov_layers();
	FX_ASSERT_OK(fx_chmod("/up/u", 0777)); /* the overlay root's attributes are upper's */
	ov_mount();
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/m/mine", O_CREAT | O_WRONLY, 0640, &f));
	uvfs_file_put(f);
	struct statx st = lst("/m/mine");
	cr_assert_eq(st.stx_uid, 1000);
	cr_assert_eq(st.stx_gid, 1000);
	cr_assert_eq(st.stx_mode & 07777, 0640);
	cr_assert_eq(lst("/up/u/mine").stx_uid, 1000);
	/* the caller's permissions are checked against the overlay inode */
	FX_ASSERT_OK(fx_chmod("/m/mine", 0600));
	FX_ASSERT_ERR(fx_open_as(&fx.user2, "/m/mine", O_RDONLY, 0, &f), -EACCES);
}

FX_TEST(ovl_dirops, symlink_link_mknod)
{
	ov_layers();
	fx_must_write("/l1/f", "data");
	ov_mount();
	FX_ASSERT_OK(fx_symlink("f", "/m/sl"));
	ov_expect_file("/m/sl", "data"); /* follows, through the overlay */
	FX_ASSERT_OK(ov_link("/m/f", "/m/hard"));
	cr_assert_eq(lst("/m/hard").stx_ino, lst("/m/f").stx_ino);
	cr_assert_eq(lst("/m/f").stx_nlink, 2);
	struct uvfs_pathop p = fx_pop("/m/fifo");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFIFO | 0644, 0));
	cr_assert(S_ISFIFO(lst("/up/u/fifo").stx_mode));
	FX_ASSERT_ERR(fx_mkdir("/m/f", 0755), -EEXIST);
	FX_ASSERT_ERR(fx_symlink("x", "/m/f"), -EEXIST);
}

FX_TEST(ovl_dirops, rename_rules)
{
	ov_layers();
	fx_must_mkdir("/l1/lowdir", 0755);
	fx_must_write("/l1/lowdir/x", "x");
	fx_must_write("/l1/lf", "lf");
	fx_must_write("/l1/other", "o");
	ov_mount();
	/* a directory with lower entries cannot move without redirect_dir */
	FX_ASSERT_ERR(ov_rename("/m/lowdir", "/m/moved", 0), -EXDEV);
	/* a pure upper directory can */
	fx_must_mkdir("/m/updir", 0755);
	fx_must_write("/m/updir/in", "i");
	FX_ASSERT_OK(ov_rename("/m/updir", "/m/updir2", 0));
	ov_expect_file("/m/updir2/in", "i");
	expect_absent("/up/u/updir");
	/* a lower file: copied up, moved, whiteout at the old name */
	FX_ASSERT_OK(ov_rename("/m/lf", "/m/lf2", 0));
	ov_expect_file("/m/lf2", "lf");
	expect_absent("/m/lf");
	cr_assert(ov_is_whiteout("/up/u/lf"));
	/* NOREPLACE sees the merged view */
	FX_ASSERT_ERR(ov_rename("/m/lf2", "/m/other", RENAME_NOREPLACE), -EEXIST);
	FX_ASSERT_OK(ov_rename("/m/lf2", "/m/lf", RENAME_NOREPLACE)); /* over the whiteout */
	ov_expect_file("/m/lf", "lf");
	/* replace a lower-only file */
	FX_ASSERT_OK(ov_rename("/m/lf", "/m/other", 0));
	ov_expect_file("/m/other", "lf");
	ov_expect_list("/m", "lowdir,other,updir2");
	FX_ASSERT_ERR(ov_rename("/m/other", "/m/lowdir", RENAME_EXCHANGE), -EXDEV); /* lowdir has lower entries */
	FX_ASSERT_ERR(ov_rename("/m/other", "/m/x", RENAME_WHITEOUT), -EINVAL);
	/* a directory over a whiteout becomes opaque: lowdir's x stays hidden */
	FX_ASSERT_OK(ov_unlink("/m/lowdir/x"));
	FX_ASSERT_OK(ov_rmdir("/m/lowdir"));
	FX_ASSERT_OK(ov_rename("/m/updir2", "/m/lowdir", 0));
	cr_assert(opaque("/up/u/lowdir"));
	ov_expect_list("/m/lowdir", "in");
	ov_expect_list("/up/w", "");
}

FX_TEST(ovl_dirops, rename_over_merged_empty_dir)
{
	ov_layers();
	fx_must_mkdir("/l1/t", 0755);
	fx_must_write("/l1/t/gone", "g");
	ov_mount();
	FX_ASSERT_OK(ov_unlink("/m/t/gone"));
	fx_must_mkdir("/m/s", 0755);
	fx_must_write("/m/s/k", "k");
	FX_ASSERT_OK(ov_rename("/m/s", "/m/t", 0));
	ov_expect_list("/m/t", "k");
	expect_absent("/m/t/gone");
	cr_assert(opaque("/up/u/t"));
	fx_must_mkdir("/m/s2", 0755);
	fx_must_write("/m/t/more", "m");
	FX_ASSERT_ERR(ov_rename("/m/s2", "/m/t", 0), -ENOTEMPTY);
}

/* Linux marks a directory moved into a merged parent opaque (upper format:
 * the kernel mounting our upper must see the same tree); a directory made
 * there is not. Differential seed 100. */
FX_TEST(ovl_dirops, rename_into_merged_parent_sets_opaque)
{
	ov_layers();
	fx_must_mkdir("/l1/p", 0755);
	fx_must_write("/l1/p/f", "f");
	ov_mount();
	fx_must_mkdir("/m/x", 0755);
	fx_must_mkdir("/m/p/made", 0755);
	FX_ASSERT_OK(ov_rename("/m/x", "/m/p/y", 0));
	cr_assert(opaque("/up/u/p/y"));
	cr_assert(!opaque("/up/u/p/made"));
	cr_assert(!opaque("/up/u/p"));
}

FX_TEST(ovl_dirops, exchange)
{
	ov_layers();
	fx_must_write("/l1/a", "A");
	fx_must_mkdir("/l1/p", 0755);
	ov_mount();
	fx_must_mkdir("/m/dir", 0700);
	fx_must_write("/m/dir/in", "i");
	FX_ASSERT_OK(ov_rename("/m/a", "/m/dir", RENAME_EXCHANGE));
	ov_expect_file("/m/dir", "A");
	ov_expect_file("/m/a/in", "i");
	ov_expect_file("/up/u/dir", "A");
	cr_assert(opaque("/up/u/a")); /* a directory now where the (merged) root's lower had a file */
	FX_ASSERT_ERR(ov_rename("/m/a", "/m/p", RENAME_EXCHANGE), -EXDEV);
	FX_ASSERT_ERR(ov_rename("/m/a", "/m/nope", RENAME_EXCHANGE), -ENOENT);
	ov_expect_list("/up/w", "");
}

/* Linux marks the moved directory opaque before the upper rename, so the
 * mark stays when the rename then fails (ENOTEMPTY from a pure upper
 * target). Same upper layer as the kernel: differential seed 3117. */
FX_TEST(ovl_dirops, failed_rename_keeps_opaque_mark)
{
	ov_layers();
	fx_must_mkdir("/l1/p", 0755);
	fx_must_mkdir("/l1/q", 0755);
	ov_mount();
	fx_must_mkdir("/m/p/src", 0755);
	fx_must_mkdir("/m/q/full", 0755);
	fx_must_write("/m/q/full/x", "x");
	FX_ASSERT_ERR(ov_rename("/m/p/src", "/m/q/full", 0), -ENOTEMPTY);
	cr_assert(opaque("/up/u/p/src"));
	ov_expect_list("/m/q/full", "x");
}
