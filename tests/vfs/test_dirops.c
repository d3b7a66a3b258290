/* test_dirops.c — mkdir/mknod/symlink/link/unlink/rmdir/rename/readlink.
 * Expected errnos checked against Linux on tmpfs (/dev/shm). */
#include "fixture.h"


static void tree(void)
{
	fx_must_mkdir("/d", 0755);
	fx_must_mkdir("/d/e", 0755);
	fx_must_write("/d/f", "hello");
	fx_must_mkdir("/ne", 0755);
	fx_must_mkdir("/ne/x", 0755);
}

static int op_mkdir(const char *p, mode_t m) { return fx_mkdir(p, m); }
static int op_unlink(const char *path)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_unlink_at(fx.vfs, &fx.cred, &p);
}
static int op_rmdir(const char *path)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_rmdir_at(fx.vfs, &fx.cred, &p);
}
static int op_rename(const char *from, const char *to, unsigned flags)
{
	struct uvfs_pathop a = fx_pop(from), b = fx_pop(to);
	return uvfs_rename_at(fx.vfs, &fx.cred, &a, &b, flags);
}
static int op_link(const char *from, const char *to)
{
	struct uvfs_pathop a = fx_pop(from), b = fx_pop(to);
	return uvfs_link_at(fx.vfs, &fx.cred, &a, &b);
}
static int op_mknod(const char *path, mode_t mode, dev_t rdev)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_mknod_at(fx.vfs, &fx.cred, &p, mode, rdev);
}
static int exists(const char *path)
{
	struct statx st;
	int rc = fx_lstat(path, &st);
	cr_assert(rc == 0 || rc == -ENOENT, "lstat %s: %s", path, fx_err(rc));
	return rc == 0;
}
static uint32_t nlink(const char *path)
{
	struct statx st;
	FX_ASSERT_OK(fx_lstat(path, &st));
	return st.stx_nlink;
}

FX_TEST(dirops, mkdir_basic_and_eexist)
{
	tree();
	FX_ASSERT_OK(op_mkdir("/n", 0750));
	cr_assert_eq(fx_mode("/n"), S_IFDIR | 0750);
	cr_assert_eq(nlink("/n"), 2);
	FX_ASSERT_ERR(op_mkdir("/n", 0755), -EEXIST);
	FX_ASSERT_ERR(op_mkdir("/d/f", 0755), -EEXIST);
	FX_ASSERT_ERR(op_mkdir("/", 0755), -EEXIST);
	FX_ASSERT_ERR(op_mkdir(".", 0755), -EEXIST);
	FX_ASSERT_ERR(op_mkdir("/d/..", 0755), -EEXIST);
	FX_ASSERT_ERR(op_mkdir("/nope/b", 0755), -ENOENT);
	/* A symlink, even dangling, is an existing name for mkdir. */
	FX_ASSERT_OK(fx_symlink("nowhere", "/dl"));
	FX_ASSERT_ERR(op_mkdir("/dl", 0755), -EEXIST);
	FX_ASSERT_ERR(op_mkdir("/dl/", 0755), -EEXIST);
	cr_assert_not(exists("/nowhere"));
}

FX_TEST(dirops, mkdir_updates_parent_nlink)
{
	tree();
	uint32_t before = nlink("/d");
	FX_ASSERT_OK(op_mkdir("/d/sub", 0755));
	cr_assert_eq(nlink("/d"), before + 1);
	FX_ASSERT_OK(op_rmdir("/d/sub"));
	cr_assert_eq(nlink("/d"), before);
}

FX_TEST(dirops, mkdir_mode_masks_type_bits)
{
	tree();
	FX_ASSERT_OK(op_mkdir("/s", 01777));
	cr_assert_eq(fx_mode("/s"), S_IFDIR | 01777);
}

FX_TEST(dirops, mknod_kinds)
{
	tree();
	FX_ASSERT_OK(op_mknod("/reg", S_IFREG | 0640, 0));
	cr_assert_eq(fx_mode("/reg"), S_IFREG | 0640);
	FX_ASSERT_OK(op_mknod("/zero", 0644, 0)); /* type 0 means regular */
	cr_assert_eq(fx_mode("/zero"), S_IFREG | 0644);
	FX_ASSERT_OK(op_mknod("/fifo", S_IFIFO | 0600, 0));
	cr_assert(S_ISFIFO(fx_mode("/fifo")));
	FX_ASSERT_OK(op_mknod("/sock", S_IFSOCK | 0600, 0));
	cr_assert(S_ISSOCK(fx_mode("/sock")));
	FX_ASSERT_OK(op_mknod("/blk", S_IFBLK | 0600, makedev(8, 1)));
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/blk", &st));
	cr_assert(S_ISBLK(st.stx_mode));
	cr_assert_eq(st.stx_rdev_major, 8);
	cr_assert_eq(st.stx_rdev_minor, 1);
	FX_ASSERT_ERR(op_mknod("/reg", S_IFREG | 0640, 0), -EEXIST);
	FX_ASSERT_ERR(op_mknod("/dir", S_IFDIR | 0755, 0), -EPERM);
	cr_assert_not(exists("/dir"));
}

FX_TEST(dirops, symlink_and_readlink)
{
	tree();
	FX_ASSERT_OK(fx_symlink("some/where/../x", "/l"));
	char buf[64];
	memset(buf, 0, sizeof buf);
	struct uvfs_pathop p = fx_pop("/l");
	cr_assert_eq(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, sizeof buf), 15);
	cr_assert_str_eq(buf, "some/where/../x");
	/* Short buffer truncates, no NUL. */
	memset(buf, 'Z', sizeof buf);
	cr_assert_eq(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, 4), 4);
	cr_assert(memcmp(buf, "someZ", 5) == 0);
	cr_assert_eq(fx_mode("/l") & S_IFMT, S_IFLNK);
	FX_ASSERT_ERR(fx_symlink("x", "/l"), -EEXIST);
	FX_ASSERT_ERR(fx_symlink("", "/empty"), -ENOENT);
	/* readlink of a non-symlink. */
	p = fx_pop("/d/f");
	FX_ASSERT_ERR(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, sizeof buf), -EINVAL);
	p = fx_pop("/nope");
	FX_ASSERT_ERR(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, sizeof buf), -ENOENT);
}

FX_TEST(dirops, link_basic)
{
	tree();
	FX_ASSERT_OK(op_link("/d/f", "/hard"));
	cr_assert_eq(fx_ino("/hard"), fx_ino("/d/f"));
	cr_assert_eq(nlink("/d/f"), 2);
	char buf[16];
	cr_assert_eq(fx_read_file("/hard", buf, sizeof buf), 5);
	cr_assert_str_eq(buf, "hello");
	FX_ASSERT_OK(op_unlink("/d/f"));
	cr_assert_eq(nlink("/hard"), 1);
	FX_ASSERT_ERR(op_link("/d", "/d2"), -EPERM);
	FX_ASSERT_ERR(op_link("/hard", "/d/e"), -EEXIST);
	FX_ASSERT_ERR(op_link("/nope", "/x"), -ENOENT);
	FX_ASSERT_ERR(op_link("/hard", "/nope/x"), -ENOENT);
	/* link does not follow a symlink source: it links the symlink. */
	FX_ASSERT_OK(fx_symlink("hard", "/sl"));
	FX_ASSERT_OK(op_link("/sl", "/sl2"));
	cr_assert(S_ISLNK(fx_mode("/sl2")));
	cr_assert_eq(fx_ino("/sl2"), fx_ino("/sl"));
}

FX_TEST(dirops, unlink_rules)
{
	tree();
	FX_ASSERT_OK(op_unlink("/d/f"));
	cr_assert_not(exists("/d/f"));
	FX_ASSERT_ERR(op_unlink("/d/f"), -ENOENT);
	FX_ASSERT_ERR(op_unlink("/d"), -EISDIR);
	FX_ASSERT_ERR(op_unlink("/d/."), -EISDIR);
	fx_must_write("/g", "x");
	FX_ASSERT_ERR(op_unlink("/g/"), -ENOTDIR);
	cr_assert(exists("/g"));
	/* Unlinking a symlink removes the link, not the target. */
	FX_ASSERT_OK(fx_symlink("g", "/lg"));
	FX_ASSERT_OK(op_unlink("/lg"));
	cr_assert_not(exists("/lg"));
	cr_assert(exists("/g"));
}

FX_TEST(dirops, rmdir_rules)
{
	tree();
	FX_ASSERT_ERR(op_rmdir("/ne"), -ENOTEMPTY);
	FX_ASSERT_ERR(op_rmdir("/d/f"), -ENOTDIR);
	FX_ASSERT_ERR(op_rmdir("."), -EINVAL);
	FX_ASSERT_ERR(op_rmdir("/d/."), -EINVAL);
	FX_ASSERT_ERR(op_rmdir("/d/.."), -ENOTEMPTY);
	FX_ASSERT_ERR(op_rmdir("/"), -EBUSY);
	FX_ASSERT_ERR(op_rmdir("/nope"), -ENOENT);
	FX_ASSERT_OK(fx_symlink("d", "/ld"));
	FX_ASSERT_ERR(op_rmdir("/ld"), -ENOTDIR);
	FX_ASSERT_OK(op_rmdir("/ne/x"));
	FX_ASSERT_OK(op_rmdir("/ne/"));
	cr_assert_not(exists("/ne"));
	/* A file inside keeps it non-empty; removing the file empties it. */
	FX_ASSERT_ERR(op_rmdir("/d/e/../"), -ENOTEMPTY);
	FX_ASSERT_OK(op_rmdir("/d/e"));
	FX_ASSERT_OK(op_unlink("/d/f"));
	FX_ASSERT_OK(op_rmdir("/d"));
}

FX_TEST(dirops, rmdir_of_open_directory_then_use)
{
	tree();
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/d/e", O_RDONLY | O_DIRECTORY, 0, &f));
	FX_ASSERT_OK(op_rmdir("/d/e"));
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_NLINK, &st));
	cr_assert_eq(st.stx_nlink, 0, "removed directory reports nlink %u", st.stx_nlink);
	/* Creating inside a removed directory fails with ENOENT. */
	struct uvfs_vd vd;
	uvfs_file_vd(f, &vd);
	struct uvfs_pathop p = fx_pop_at(&vd, "x", 0);
	FX_ASSERT_ERR(uvfs_mkdir_at(fx.vfs, &fx.cred, &p, 0755), -ENOENT);
	uvfs_vd_put(&vd);
	uvfs_file_put(f);
}

FX_TEST(dirops, rename_file_basic)
{
	tree();
	uint64_t ino = fx_ino("/d/f");
	FX_ASSERT_OK(op_rename("/d/f", "/d/e/g", 0));
	cr_assert_not(exists("/d/f"));
	cr_assert_eq(fx_ino("/d/e/g"), ino);
	/* Replace an existing file. */
	fx_must_write("/other", "zz");
	uint64_t other = fx_ino("/other");
	FX_ASSERT_OK(op_rename("/other", "/d/e/g", 0));
	cr_assert_eq(fx_ino("/d/e/g"), other);
	cr_assert_not(exists("/other"));
	/* Same name: no-op success. */
	FX_ASSERT_OK(op_rename("/d/e/g", "/d/e/g", 0));
	cr_assert_eq(fx_ino("/d/e/g"), other);
	/* Two hard links of one inode: success, nothing changes. */
	FX_ASSERT_OK(op_link("/d/e/g", "/h"));
	FX_ASSERT_OK(op_rename("/d/e/g", "/h", 0));
	cr_assert(exists("/d/e/g"));
	cr_assert(exists("/h"));
	FX_ASSERT_ERR(op_rename("/nope", "/x", 0), -ENOENT);
	FX_ASSERT_ERR(op_rename("/h", "/missing/x", 0), -ENOENT);
}

FX_TEST(dirops, rename_directory_updates_dotdot_and_nlink)
{
	tree();
	fx_must_mkdir("/t", 0755);
	uint32_t d_before = nlink("/d"), t_before = nlink("/t");
	FX_ASSERT_OK(op_rename("/d/e", "/t/e2", 0));
	cr_assert_eq(fx_ino("/t/e2/.."), fx_ino("/t"));
	cr_assert_eq(nlink("/d"), d_before - 1);
	cr_assert_eq(nlink("/t"), t_before + 1);
	/* Replace an empty directory. */
	fx_must_mkdir("/empty", 0755);
	FX_ASSERT_OK(op_rename("/t/e2", "/empty", 0));
	cr_assert_eq(fx_ino("/empty/.."), fx_ino("/"));
	cr_assert_not(exists("/t/e2"));
}

FX_TEST(dirops, rename_type_mismatch)
{
	tree();
	FX_ASSERT_ERR(op_rename("/d/f", "/d/e", 0), -EISDIR);
	FX_ASSERT_ERR(op_rename("/d/e", "/d/f", 0), -ENOTDIR);
	FX_ASSERT_ERR(op_rename("/d/e", "/ne", 0), -ENOTEMPTY);
	cr_assert(exists("/d/e"));
	cr_assert(exists("/ne/x"));
}

FX_TEST(dirops, rename_into_own_subtree_einval)
{
	tree();
	FX_ASSERT_ERR(op_rename("/d/e", "/d/e/x", 0), -EINVAL);
	FX_ASSERT_ERR(op_rename("/d", "/d/e/x", 0), -EINVAL);
	fx_must_mkdir("/d/e/deep", 0755);
	FX_ASSERT_ERR(op_rename("/d", "/d/e/deep/x", 0), -EINVAL);
	/* Replacing an ancestor with its descendant is ENOTEMPTY, not a loop. */
	FX_ASSERT_ERR(op_rename("/d/e/deep", "/d", 0), -ENOTEMPTY);
	cr_assert(exists("/d/e/deep"));
}

FX_TEST(dirops, rename_onto_own_parent_is_enotempty)
{
	/* Linux's "target is an ancestor of the source" trap, checked before
	 * the type rules (used to deadlock on the parent's lock). */
	tree();
	fx_must_mkdir("/d/sub", 0755);
	fx_must_write("/d/file", "x");
	FX_ASSERT_ERR(op_rename("/d/sub", "/d", 0), -ENOTEMPTY);
	FX_ASSERT_ERR(op_rename("/d/file", "/d", 0), -ENOTEMPTY);
	FX_ASSERT_ERR(op_rename("/d/sub", "/d", RENAME_EXCHANGE), -EINVAL);
	FX_ASSERT_ERR(op_rename("/d", "/d/sub", RENAME_EXCHANGE), -EINVAL);
	cr_assert(exists("/d/sub"));
	cr_assert(exists("/d/file"));
}

FX_TEST(dirops, rename_dot_and_dotdot_ebusy)
{
	tree();
	FX_ASSERT_ERR(op_rename("/d/.", "/x", 0), -EBUSY);
	FX_ASSERT_ERR(op_rename("/d/f", "/d/..", 0), -EBUSY);
	FX_ASSERT_ERR(op_rename("/d/e/..", "/y", 0), -EBUSY);
	cr_assert(exists("/d/f"));
}

FX_TEST(dirops, rename_noreplace)
{
	tree();
	fx_must_write("/g", "g");
	FX_ASSERT_ERR(op_rename("/d/f", "/g", RENAME_NOREPLACE), -EEXIST);
	FX_ASSERT_ERR(op_rename("/d/e", "/ne", RENAME_NOREPLACE), -EEXIST);
	char buf[8];
	cr_assert_eq(fx_read_file("/g", buf, sizeof buf), 1);
	FX_ASSERT_OK(op_rename("/d/f", "/fresh", RENAME_NOREPLACE));
	cr_assert(exists("/fresh"));
	cr_assert_not(exists("/d/f"));
}

FX_TEST(dirops, rename_exchange)
{
	tree();
	uint64_t f = fx_ino("/d/f"), ne = fx_ino("/ne");
	/* File <-> directory swaps fine. */
	FX_ASSERT_OK(op_rename("/d/f", "/ne", RENAME_EXCHANGE));
	cr_assert_eq(fx_ino("/ne"), f);
	cr_assert_eq(fx_ino("/d/f"), ne);
	cr_assert(S_ISDIR(fx_mode("/d/f")));
	cr_assert_eq(fx_ino("/d/f/.."), fx_ino("/d"), "exchanged directory's .. must move");
	cr_assert(exists("/d/f/x"));
	FX_ASSERT_ERR(op_rename("/d/e", "/nope", RENAME_EXCHANGE), -ENOENT);
	FX_ASSERT_ERR(op_rename("/nope", "/d/e", RENAME_EXCHANGE), -ENOENT);
	FX_ASSERT_ERR(op_rename("/d/e", "/ne", RENAME_EXCHANGE | RENAME_NOREPLACE), -EINVAL);
	FX_ASSERT_ERR(op_rename("/d", "/d/e", RENAME_EXCHANGE), -EINVAL);
	FX_ASSERT_ERR(op_rename("/d/e", "/d", RENAME_EXCHANGE), -EINVAL);
}

FX_TEST(dirops, rename_of_open_file_keeps_file)
{
	tree();
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/d/f", O_RDWR, 0, &f));
	FX_ASSERT_OK(op_rename("/d/f", "/moved", 0));
	cr_assert_eq(uvfs_pwrite(f, "J", 1, 0), 1);
	uvfs_file_put(f);
	char buf[16];
	cr_assert_eq(fx_read_file("/moved", buf, sizeof buf), 5);
	cr_assert_str_eq(buf, "Jello");
}

FX_TEST(dirops, exdev_across_mounts)
{
	tree();
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	fx_must_write("/m/inner", "i");
	FX_ASSERT_ERR(op_link("/d/f", "/m/lf"), -EXDEV);
	FX_ASSERT_ERR(op_link("/m/inner", "/lin"), -EXDEV);
	FX_ASSERT_ERR(op_rename("/d/f", "/m/f", 0), -EXDEV);
	FX_ASSERT_ERR(op_rename("/m/inner", "/inner", 0), -EXDEV);
	FX_ASSERT_ERR(op_rename("/d/e", "/m/e", 0), -EXDEV);
	cr_assert(exists("/d/f"));
	cr_assert(exists("/m/inner"));
	/* Inside the mount everything works. */
	FX_ASSERT_OK(op_rename("/m/inner", "/m/inner2", 0));
	FX_ASSERT_OK(op_link("/m/inner2", "/m/inner3"));
}

FX_TEST(dirops, ebusy_for_mount_points)
{
	tree();
	FX_ASSERT_OK(fx_mount_tmpfs("/d/e", NULL, 0));
	FX_ASSERT_ERR(op_rmdir("/d/e"), -EBUSY);
	FX_ASSERT_ERR(op_rename("/d/e", "/moved", 0), -EBUSY);
	fx_must_mkdir("/empty", 0755);
	FX_ASSERT_ERR(op_rename("/empty", "/d/e", 0), -EBUSY);
	FX_ASSERT_ERR(op_rename("/empty", "/d/e", RENAME_EXCHANGE), -EBUSY);
	cr_assert(exists("/empty"));
	/* After umount they work. */
	FX_ASSERT_OK(fx_umount("/d/e", 0));
	FX_ASSERT_OK(op_rename("/d/e", "/moved", 0));
	FX_ASSERT_OK(op_rmdir("/moved"));
}

FX_TEST(dirops, rename_parent_of_mount_point_is_allowed)
{
	tree();
	FX_ASSERT_OK(fx_mount_tmpfs("/d/e", NULL, 0));
	fx_must_write("/d/e/inmount", "m");
	FX_ASSERT_OK(op_rename("/d", "/d2", 0));
	cr_assert(exists("/d2/e/inmount"), "the mount moves with its parent directory");
	cr_assert_not(exists("/d"));
}

FX_TEST(dirops, unlink_of_open_file_keeps_data)
{
	tree();
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/d/f", O_RDONLY, 0, &f));
	FX_ASSERT_OK(op_unlink("/d/f"));
	char buf[16] = { 0 };
	cr_assert_eq(uvfs_pread(f, buf, sizeof buf, 0), 5);
	cr_assert_str_eq(buf, "hello");
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_NLINK, &st));
	cr_assert_eq(st.stx_nlink, 0);
	cr_assert_not(exists("/d/f"));
	/* The name can be reused immediately with a new inode. */
	fx_must_write("/d/f", "new");
	cr_assert_eq(uvfs_pread(f, buf, sizeof buf, 0), 5);
	uvfs_file_put(f);
}

FX_TEST(dirops, times_on_create_and_unlink)
{
	tree();
	struct statx before, after;
	FX_ASSERT_OK(fx_lstat("/d", &before));
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	fx_must_write("/d/new", "x");
	FX_ASSERT_OK(fx_lstat("/d", &after));
	cr_assert(after.stx_mtime.tv_sec > before.stx_mtime.tv_sec ||
			  (after.stx_mtime.tv_sec == before.stx_mtime.tv_sec &&
			   after.stx_mtime.tv_nsec > before.stx_mtime.tv_nsec),
		  "parent mtime must advance on create");
}

FX_TEST(dirops, trailing_slash_rules_for_rename_and_link)
{
	tree();
	/* Linux: a non-directory with a trailing slash on either side. */
	FX_ASSERT_ERR(op_rename("/d/f", "/new/", 0), -ENOTDIR);
	FX_ASSERT_ERR(op_rename("/d/f/", "/x", 0), -ENOTDIR);
	cr_assert(exists("/d/f"));
	cr_assert_not(exists("/new"));
	/* A directory may carry one. */
	FX_ASSERT_OK(op_rename("/d/e", "/newd/", 0));
	cr_assert(S_ISDIR(fx_mode("/newd")));
	FX_ASSERT_ERR(op_link("/d/f/", "/x"), -ENOTDIR);
	FX_ASSERT_ERR(op_link("/d/f", "/new/"), -ENOENT); /* sic: Linux says ENOENT */
	FX_ASSERT_ERR(op_mkdir("/d/f/", 0755), -EEXIST);
}

FX_TEST(dirops, moving_a_directory_needs_write_on_it)
{
	/* Moving a directory to another parent rewrites its "..": Linux asks
	 * for write permission on the directory itself. */
	fx_must_mkdir("/pa", 0777);
	fx_must_mkdir("/pb", 0777);
	fx_must_mkdir("/pa/rd", 0755); /* root-owned */
	struct uvfs_pathop a = fx_pop("/pa/rd"), b = fx_pop("/pb/rd"), c = fx_pop("/pa/rd2");
	FX_ASSERT_ERR(uvfs_rename_at(fx.vfs, &fx.user, &a, &b, 0), -EACCES);
	cr_assert(exists("/pa/rd"));
	/* Within the same parent it is fine. */
	FX_ASSERT_OK(uvfs_rename_at(fx.vfs, &fx.user, &a, &c, 0));
	cr_assert(exists("/pa/rd2"));
}

FX_TEST(dirops, link_needs_write_on_target_dir)
{
	fx_must_mkdir("/pa", 0777);
	fx_must_mkdir("/rootdir", 0755);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/pa/own", O_CREAT | O_WRONLY, 0644, &f));
	uvfs_file_put(f);
	struct uvfs_pathop a = fx_pop("/pa/own"), b = fx_pop("/rootdir/l"), c = fx_pop("/pa/l");
	FX_ASSERT_ERR(uvfs_link_at(fx.vfs, &fx.user, &a, &b), -EACCES);
	FX_ASSERT_OK(uvfs_link_at(fx.vfs, &fx.user, &a, &c));
	cr_assert_eq(nlink("/pa/own"), 2);
}

FX_TEST(dirops, exchange_directories_in_different_parents)
{
	tree();
	fx_must_mkdir("/ne/y", 0755);
	uint64_t e = fx_ino("/d/e"), x = fx_ino("/ne/x");
	FX_ASSERT_OK(op_rename("/d/e", "/ne/x", RENAME_EXCHANGE));
	cr_assert_eq(fx_ino("/d/e"), x);
	cr_assert_eq(fx_ino("/ne/x"), e);
	cr_assert_eq(fx_ino("/d/e/.."), fx_ino("/d"));
	cr_assert_eq(fx_ino("/ne/x/.."), fx_ino("/ne"));
}
