/* Copy-up: every trigger, what is copied (data, sparse holes, mode, owner,
 * times, xattrs), parents first, st_ino kept, nothing half-made on failure. */
#include <linux/falloc.h>

#include "ov.h"
#include "uvfs_fs.h"

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

FX_TEST(ovl_copyup, open_for_write_copies_attrs_and_data)
{
	ov_layers();
	fx_must_mkdir("/l1/a", 0750);
	fx_must_mkdir("/l1/a/b", 0710);
	fx_must_write("/l1/a/b/f", "lower data");
	FX_ASSERT_OK(fx_chown("/l1/a/b/f", 1234, 567));
	FX_ASSERT_OK(fx_chmod("/l1/a/b/f", 04640));
	FX_ASSERT_OK(fx_chown("/l1/a/b", 42, 43));
	FX_ASSERT_OK(ov_setx("/l1/a/b/f", "user.k", "v1"));
	struct uvfs_setattr t = { .mask = STATX_ATIME | STATX_MTIME, .atime = { 1000, 5 }, .mtime = { 2000, 7 } };
	struct uvfs_pathop pf = fx_pop("/l1/a/b/f");
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &pf, &t, 0));
	ov_mount();
	struct statx before = lst("/m/a/b/f");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/m/a/b/f", O_RDONLY, 0, &f));
	uvfs_file_put(f);
	expect_absent("/up/u/a"); /* reading copies nothing */
	FX_ASSERT_OK(fx_open("/m/a/b/f", O_RDWR, 0, &f));
	uvfs_file_put(f);
	/* parents first, with their attributes */
	struct statx pa = lst("/up/u/a"), pb = lst("/up/u/a/b");
	cr_assert_eq(pa.stx_mode & 07777, 0750);
	cr_assert_eq(pb.stx_mode & 07777, 0710);
	cr_assert_eq(pb.stx_uid, 42);
	cr_assert_eq(pb.stx_gid, 43);
	struct statx u = lst("/up/u/a/b/f");
	cr_assert_eq(u.stx_mode & 07777, 04640);
	cr_assert_eq(u.stx_uid, 1234);
	cr_assert_eq(u.stx_gid, 567);
	cr_assert_eq(u.stx_mtime.tv_sec, 2000);
	cr_assert_eq(u.stx_mtime.tv_nsec, 7);
	cr_assert_eq(u.stx_atime.tv_sec, 1000);
	ov_expect_file("/up/u/a/b/f", "lower data");
	char v[16];
	cr_assert_eq(ov_getx("/up/u/a/b/f", "user.k", v, sizeof v), 2);
	/* same identity seen through the overlay */
	struct statx after = lst("/m/a/b/f");
	cr_assert_eq(after.stx_ino, before.stx_ino);
	cr_assert_eq(after.stx_dev_minor, before.stx_dev_minor);
	/* nothing left in work */
	ov_expect_list("/up/w", "");
}

FX_TEST(ovl_copyup, ino_stable_after_cache_drop)
{
	ov_layers();
	fx_must_mkdir("/l1/d", 0755);
	fx_must_write("/l1/d/f", "x");
	ov_mount();
	uint64_t ino = lst("/m/d/f").stx_ino, dino = lst("/m/d").stx_ino;
	fx_must_write("/m/d/f", "y"); /* copies up d and f */
	/* forget every cached overlay dentry: the next lookups start afresh */
	struct uvfs_vd m;
	struct uvfs_pathop pm = fx_pop("/m");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pm, 0, &m));
	struct uvfs_filesystem *ofs = uvfs_mount_fs(m.mount);
	uvfs_vd_put(&m);
	uvfs_fs_shrink(ofs, 0);
	cr_assert_eq(lst("/m/d/f").stx_ino, ino);
	cr_assert_eq(lst("/m/d").stx_ino, dino);
	cr_assert_neq(lst("/up/u/d/f").stx_ino, ino);
}

FX_TEST(ovl_copyup, every_trigger)
{
	ov_layers();
	const char *names[] = { "trunc", "chmod", "chown", "utimes", "setx", "rmx", "link", "rename" };
	char p[64];
	for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(p, sizeof p, "/l1/%s", names[i]);
		fx_must_write(p, "0123456789");
	}
	FX_ASSERT_OK(ov_setx("/l1/rmx", "user.gone", "1"));
	fx_must_mkdir("/l1/d", 0755);
	ov_mount();
	struct uvfs_setattr sz = { .mask = STATX_SIZE, .size = 3 };
	struct uvfs_pathop pp = fx_pop("/m/trunc");
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &pp, &sz, UVFS_SETATTR_NEED_WRITE));
	ov_expect_file("/up/u/trunc", "012");
	ov_expect_file("/l1/trunc", "0123456789");
	FX_ASSERT_OK(fx_chmod("/m/chmod", 0600));
	cr_assert_eq(lst("/up/u/chmod").stx_mode & 07777, 0600);
	FX_ASSERT_OK(fx_chown("/m/chown", 7, 8));
	cr_assert_eq(lst("/up/u/chown").stx_uid, 7);
	struct uvfs_setattr t = { .mask = STATX_MTIME, .mtime = { 99, 0 } };
	pp = fx_pop("/m/utimes");
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &pp, &t, 0));
	cr_assert_eq(lst("/up/u/utimes").stx_mtime.tv_sec, 99);
	FX_ASSERT_OK(ov_setx("/m/setx", "user.a", "b"));
	ov_expect_file("/up/u/setx", "0123456789");
	pp = fx_pop("/m/rmx");
	FX_ASSERT_OK(uvfs_removexattr_at(fx.vfs, &fx.cred, &pp, "user.gone"));
	char v[8];
	FX_ASSERT_ERR(ov_getx("/up/u/rmx", "user.gone", v, sizeof v), -ENODATA);
	FX_ASSERT_OK(ov_link("/m/link", "/m/link2"));
	cr_assert_eq(lst("/up/u/link").stx_ino, lst("/up/u/link2").stx_ino);
	cr_assert_eq(lst("/m/link2").stx_nlink, 2);
	FX_ASSERT_OK(ov_rename("/m/rename", "/m/d/renamed", 0));
	ov_expect_file("/up/u/d/renamed", "0123456789");
	cr_assert(ov_is_whiteout("/up/u/rename"));
	/* create in a lower-only directory copies the directory up */
	fx_must_mkdir("/l1/only", 0700);
	fx_must_write("/m/only/new", "n");
	cr_assert_eq(lst("/up/u/only").stx_mode & 07777, 0700);
	ov_expect_file("/up/u/only/new", "n");
}

FX_TEST(ovl_copyup, o_trunc)
{
	ov_layers();
	fx_must_write("/l1/f", "long lower content");
	ov_mount();
	fx_must_write("/m/f", "new"); /* O_CREAT|O_TRUNC|O_WRONLY */
	ov_expect_file("/m/f", "new");
	ov_expect_file("/l1/f", "long lower content");
}

FX_TEST(ovl_copyup, sparse_copied_sparsely)
{
	ov_layers();
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/l1/sp", O_CREAT | O_RDWR, 0644, &f));
	cr_assert_eq(uvfs_pwrite(f, "head", 4, 0), 4);
	cr_assert_eq(uvfs_pwrite(f, "tail", 4, (64 << 20) - 4), 4);
	uvfs_file_put(f);
	ov_mount();
	FX_ASSERT_OK(fx_open("/m/sp", O_RDWR, 0, &f));
	char b[4];
	cr_assert_eq(uvfs_pread(f, b, 4, (64 << 20) - 4), 4);
	cr_assert_eq(memcmp(b, "tail", 4), 0);
	uvfs_file_put(f);
	struct statx u = lst("/up/u/sp");
	cr_assert_eq(u.stx_size, 64 << 20);
	cr_assert_lt(u.stx_blocks * 512, 1 << 20, "copy-up filled the holes: %llu blocks",
		     (unsigned long long)u.stx_blocks);
}

FX_TEST(ovl_copyup, failure_leaves_nothing)
{
	/* an upper too small for the file: the copy-up fails with ENOSPC,
	 * the lower file stays visible and nothing is left in upper or work */
	cr_assert_eq(uvfs_register_fs_type(fx.vfs, &uvfs_overlay_type, UVFS_FS_USER_MOUNT), 0);
	fx_must_mkdir("/l1", 0755);
	fx_must_mkdir("/l2", 0755);
	fx_must_mkdir("/up", 0755);
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/l1", NULL, 0));
	FX_ASSERT_OK(fx_mount_tmpfs("/up", "size=64k", 0));
	fx_must_mkdir("/up/u", 0755);
	fx_must_mkdir("/up/w", 0755);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/l1/big", O_CREAT | O_RDWR, 0644, &f));
	static char blob[256 << 10];
	memset(blob, 'b', sizeof blob);
	cr_assert_eq(uvfs_pwrite(f, blob, sizeof blob, 0), (ssize_t)sizeof blob);
	uvfs_file_put(f);
	FX_ASSERT_OK(ov_mount_data("lowerdir=/l1,upperdir=/up/u,workdir=/up/w"));
	FX_ASSERT_ERR(fx_open("/m/big", O_WRONLY, 0, &f), -ENOSPC);
	ov_expect_list("/up/u", "");
	ov_expect_list("/up/w", "");
	cr_assert_eq(lst("/m/big").stx_size, sizeof blob);
}

FX_TEST(ovl_copyup, symlink_and_dir)
{
	ov_layers();
	FX_ASSERT_OK(fx_symlink("target/x", "/l1/ln"));
	fx_must_mkdir("/l1/d", 0751);
	fx_must_write("/l1/d/in", "i");
	ov_mount();
	struct uvfs_setattr own = { .mask = STATX_UID | STATX_GID, .uid = 5, .gid = 6 };
	struct uvfs_pathop pl = fx_pop("/m/ln");
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &pl, &own, 0)); /* lchown copies the link up */
	char buf[64];
	struct uvfs_pathop p = fx_pop("/up/u/ln");
	cr_assert_eq(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, sizeof buf), 8);
	cr_assert_eq(lst("/up/u/ln").stx_uid, 5);
	FX_ASSERT_OK(fx_chmod("/m/d", 0700));
	cr_assert_eq(lst("/up/u/d").stx_mode & 07777, 0700);
	ov_expect_list("/up/u/d", ""); /* a directory's copy-up copies no children */
	ov_expect_list("/m/d", "in");
}

/* A copy-up is not a change of the parent directory: its times stay (Linux
 * restores them after the rename into place). Differential seed 2004. */
FX_TEST(ovl_copyup, parent_times_kept)
{
	ov_layers();
	fx_must_mkdir("/l1/d", 0755);
	fx_must_write("/l1/d/f", "x");
	struct uvfs_setattr t = { .mask = STATX_ATIME | STATX_MTIME, .atime = { 1000, 0 }, .mtime = { 5000, 0 } };
	struct uvfs_pathop pd = fx_pop("/l1/d");
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &pd, &t, 0));
	ov_mount();
	FX_ASSERT_OK(ov_setx("/m/d/f", "user.x", "1")); /* copies up d, then f into it */
	cr_assert_eq(lst("/m/d").stx_mtime.tv_sec, 5000);
	cr_assert_eq(lst("/up/u/d").stx_mtime.tv_sec, 5000);
}

/* A file opened read-only before a copy-up reads the upper copy after it
 * (Linux >= 4.19: the stacked file follows the copy-up). */
FX_TEST(ovl_copyup, ro_fd_follows_copy_up)
{
	ov_layers();
	fx_must_write("/l1/f", "old");
	ov_mount();
	struct uvfs_file *ro;
	FX_ASSERT_OK(fx_open("/m/f", O_RDONLY, 0, &ro));
	char b[8] = { 0 };
	cr_assert_eq(uvfs_pread(ro, b, sizeof b, 0), 3);
	cr_assert_str_eq(b, "old");
	fx_must_write("/m/f", "newer");
	memset(b, 0, sizeof b);
	cr_assert_eq(uvfs_pread(ro, b, sizeof b, 0), 5);
	cr_assert_str_eq(b, "newer");
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(ro, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_size, 5);
	uvfs_file_put(ro);
}
