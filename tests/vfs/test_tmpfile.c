/* test_tmpfile.c — open(O_TMPFILE) on tmpfs and the VFS's ->tmpfile op.
 * Every expected result is what the host's tmpfs gave for the same
 * sequence (open(2)/linkat(2) on a fresh tmpfs mount, as root):
 *   dir O_TMPFILE|O_RDWR → fd, mode 0100640 for 0640, nlink 0, size 0;
 *   O_RDONLY or with O_CREAT → EINVAL; O_TRUNC accepted; a regular file →
 *   ENOTDIR; a missing dir → ENOENT; a fs without tmpfile (procfs) →
 *   EOPNOTSUPP; linkat(fd, "", AT_EMPTY_PATH) → 0 and nlink 1, again → 0;
 *   with O_EXCL the link → ENOENT. */
#include "fixture.h"

#include "testfs.h"

static int tmpfile_open(const char *dir, int flags, mode_t mode, struct uvfs_file **f)
{
	*f = NULL;
	return fx_open(dir, O_TMPFILE | flags, mode, f);
}

static int link_file(struct uvfs_file *f, const char *newpath)
{
	struct uvfs_vd vd;
	uvfs_file_vd(f, &vd);
	struct uvfs_pathop o = fx_pop_at(&vd, "", UVFS_PATH_EMPTY);
	struct uvfs_pathop n = fx_pop(newpath);
	int rc = uvfs_link_at(fx.vfs, &fx.cred, &o, &n);
	uvfs_vd_put(&vd);
	return rc;
}

FX_TEST(tmpfile, flag_rules)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/f", "x");
	struct uvfs_file *f;
	FX_ASSERT_ERR(tmpfile_open("/d", O_RDONLY, 0600, &f), -EINVAL);
	FX_ASSERT_ERR(tmpfile_open("/d", O_RDWR | O_CREAT, 0600, &f), -EINVAL);
	/* __O_TMPFILE without O_DIRECTORY is not O_TMPFILE: EINVAL too. */
	f = NULL;
	FX_ASSERT_ERR(fx_open("/d", (O_TMPFILE & ~O_DIRECTORY) | O_RDWR, 0600, &f), -EINVAL);
	FX_ASSERT_ERR(tmpfile_open("/f", O_RDWR, 0600, &f), -ENOTDIR);
	FX_ASSERT_ERR(tmpfile_open("/nx", O_RDWR, 0600, &f), -ENOENT);
	cr_assert_null(f);
	FX_ASSERT_OK(tmpfile_open("/d", O_WRONLY, 0600, &f));
	uvfs_file_put(f);
	FX_ASSERT_OK(tmpfile_open("/d", O_RDWR | O_TRUNC, 0600, &f));
	uvfs_file_put(f);
	char names[64];
	fx_list_dir("/d", names, sizeof names);
	cr_assert_str_empty(names, "a tmpfile has no name: %s", names);
}

FX_TEST(tmpfile, unnamed_inode_then_linked)
{
	fx_must_mkdir("/d", 0755);
	struct uvfs_file *f;
	FX_ASSERT_OK(tmpfile_open("/d", O_RDWR, 0640, &f));
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_mode, S_IFREG | 0640);
	cr_assert_eq(st.stx_nlink, 0);
	cr_assert_eq(st.stx_size, 0);
	cr_assert_eq(uvfs_write(f, "hi", 2), 2);
	FX_ASSERT_OK(link_file(f, "/d/linked"));
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_nlink, 1);
	FX_ASSERT_OK(link_file(f, "/d/linked2"));
	uvfs_file_put(f);
	char buf[8];
	cr_assert_eq(fx_read_file("/d/linked", buf, sizeof buf), 2);
	cr_assert_str_eq(buf, "hi");
	cr_assert_eq(fx_ino("/d/linked"), fx_ino("/d/linked2"));
	char names[64];
	fx_list_dir("/d", names, sizeof names);
	cr_assert_str_eq(names, "linked,linked2");
}

FX_TEST(tmpfile, excl_not_linkable)
{
	fx_must_mkdir("/d", 0755);
	struct uvfs_file *f;
	FX_ASSERT_OK(tmpfile_open("/d", O_RDWR | O_EXCL, 0600, &f));
	FX_ASSERT_ERR(link_file(f, "/d/x"), -ENOENT);
	uvfs_file_put(f);
	/* A linked-then-unlinked tmpfile is an ordinary unlinked file. */
	FX_ASSERT_OK(tmpfile_open("/d", O_RDWR, 0600, &f));
	FX_ASSERT_OK(link_file(f, "/d/y"));
	struct uvfs_pathop p = fx_pop("/d/y");
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &p));
	FX_ASSERT_ERR(link_file(f, "/d/z"), -ENOENT);
	uvfs_file_put(f);
}

FX_TEST(tmpfile, permission_and_readonly)
{
	fx_must_mkdir("/d", 0755);
	struct uvfs_file *f = NULL;
	/* Needs write and search on the directory (host: EACCES as uid 1000). */
	FX_ASSERT_ERR(fx_open_as(&fx.user, "/d", O_TMPFILE | O_RDWR, 0600, &f), -EACCES);
	FX_ASSERT_OK(fx_chmod("/d", 0777));
	FX_ASSERT_OK(fx_open_as(&fx.user, "/d", O_TMPFILE | O_RDWR, 0600, &f));
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_uid, 1000);
	uvfs_file_put(f);
	fx_must_mkdir("/ro", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/ro", NULL, UVFS_MNT_RDONLY));
	FX_ASSERT_ERR(tmpfile_open("/ro", O_RDWR, 0600, &f), -EROFS);
	FX_ASSERT_OK(fx_umount("/ro", 0));
}

/* A filesystem without ->tmpfile: EOPNOTSUPP (host: /proc). */
FX_TEST(tmpfile, no_op_eopnotsupp)
{
	int rc = uvfs_register_fs_type(fx.vfs, &testfs_type, UVFS_FS_USER_MOUNT);
	cr_assert_eq(rc, 0);
	fx_must_mkdir("/t", 0755);
	struct uvfs_pathop p = fx_popf("/t");
	struct uvfs_mount_opts o = { 0 };
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "srv", &p, "testfs", &o));
	struct uvfs_file *f;
	FX_ASSERT_ERR(tmpfile_open("/t", O_RDWR, 0600, &f), -EOPNOTSUPP);
	FX_ASSERT_OK(fx_umount("/t", 0));
}
