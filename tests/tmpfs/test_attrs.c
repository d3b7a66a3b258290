/* tmpfs attributes: POSIX timestamp rules (incl. noatime), chmod/chown and
 * setuid/setgid clearing, xattrs. */
#include <fcntl.h>

#include "tt.h"

/* ---------------------------------------------------------- timestamps */

FX_TEST(tmpfs_times, create_sets_all_and_parent_mc)
{
	fx_must_mkdir("/d", 0755);
	struct statx d0 = tt_lstat("/d");
	tt_tick();
	fx_must_write("/d/f", "");
	struct statx f = tt_lstat("/d/f"), d1 = tt_lstat("/d");
	cr_assert(TT_SAME(f.stx_atime, f.stx_mtime) && TT_SAME(f.stx_mtime, f.stx_ctime));
	if (f.stx_mask & STATX_BTIME)
		cr_assert(TT_SAME(f.stx_btime, f.stx_ctime));
	cr_assert(TT_LATER(f.stx_ctime, d0.stx_ctime));
	cr_assert(TT_LATER(d1.stx_mtime, d0.stx_mtime), "parent mtime");
	cr_assert(TT_LATER(d1.stx_ctime, d0.stx_ctime), "parent ctime");
	cr_assert(TT_SAME(d1.stx_atime, d0.stx_atime), "parent atime unchanged");
	tt_tick();
	fx_must_mkdir("/d/sub", 0755);
	struct statx d2 = tt_lstat("/d");
	cr_assert(TT_LATER(d2.stx_mtime, d1.stx_mtime));
	tt_tick();
	FX_ASSERT_OK(fx_symlink("f", "/d/s"));
	struct statx d3 = tt_lstat("/d");
	cr_assert(TT_LATER(d3.stx_mtime, d2.stx_mtime));
	tt_tick();
	FX_ASSERT_OK(tt_mknod("/d/p", S_IFIFO | 0600, 0));
	cr_assert(TT_LATER(tt_lstat("/d").stx_mtime, d3.stx_mtime));
}

FX_TEST(tmpfs_times, write_updates_mc_not_atime)
{
	fx_must_write("/f", "abc");
	struct uvfs_file *f = tt_open("/f", O_RDWR, 0);
	struct statx s0 = tt_lstat("/f"), r0 = tt_lstat("/");
	tt_tick();
	cr_assert_eq(uvfs_pwrite(f, "x", 1, 1), 1);
	struct statx s1 = tt_lstat("/f");
	cr_assert(TT_LATER(s1.stx_mtime, s0.stx_mtime));
	cr_assert(TT_LATER(s1.stx_ctime, s0.stx_ctime));
	cr_assert(TT_SAME(s1.stx_atime, s0.stx_atime));
	cr_assert(TT_SAME(tt_lstat("/").stx_mtime, r0.stx_mtime), "parent untouched by a write");
	tt_tick();
	cr_assert_eq(uvfs_pwrite(f, "", 0, 0), 0);
	cr_assert(TT_SAME(tt_lstat("/f").stx_mtime, s1.stx_mtime), "empty write changes nothing");
	uvfs_file_put(f);
}

FX_TEST(tmpfs_times, read_updates_atime_only)
{
	fx_must_write("/f", "abc");
	struct statx s0 = tt_lstat("/f");
	tt_tick();
	char b[8];
	cr_assert_eq(fx_read_file("/f", b, sizeof(b)), 3);
	struct statx s1 = tt_lstat("/f");
	cr_assert(TT_LATER(s1.stx_atime, s0.stx_atime), "atime");
	cr_assert(TT_SAME(s1.stx_mtime, s0.stx_mtime));
	cr_assert(TT_SAME(s1.stx_ctime, s0.stx_ctime));
}

FX_TEST(tmpfs_times, o_noatime_read_keeps_atime)
{
	fx_must_write("/f", "abc");
	struct statx s0 = tt_lstat("/f");
	tt_tick();
	struct uvfs_file *f = tt_open("/f", O_RDONLY | O_NOATIME, 0);
	char b[8];
	cr_assert_eq(uvfs_read(f, b, sizeof(b)), 3);
	uvfs_file_put(f);
	cr_assert(TT_SAME(tt_lstat("/f").stx_atime, s0.stx_atime));
}

FX_TEST(tmpfs_times, readdir_updates_dir_atime)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/x", "");
	struct statx s0 = tt_lstat("/d");
	tt_tick();
	char list[64];
	fx_list_dir("/d", list, sizeof(list));
	struct statx s1 = tt_lstat("/d");
	cr_assert(TT_LATER(s1.stx_atime, s0.stx_atime));
	cr_assert(TT_SAME(s1.stx_mtime, s0.stx_mtime));
}

Test(tmpfs_times, noatime_mount)
{
	fx_setup_opts(NULL, UVFS_MNT_NOATIME);
	fx_must_write("/f", "abc");
	fx_must_mkdir("/d", 0755);
	struct statx f0 = tt_lstat("/f"), d0 = tt_lstat("/d");
	tt_tick();
	char b[8];
	cr_assert_eq(fx_read_file("/f", b, sizeof(b)), 3);
	char list[64];
	fx_list_dir("/d", list, sizeof(list));
	cr_assert(TT_SAME(tt_lstat("/f").stx_atime, f0.stx_atime), "read on a noatime mount");
	cr_assert(TT_SAME(tt_lstat("/d").stx_atime, d0.stx_atime), "readdir on a noatime mount");
	/* mtime still moves. */
	tt_tick();
	fx_must_write("/f", "x");
	cr_assert(TT_LATER(tt_lstat("/f").stx_mtime, f0.stx_mtime));
	fx_teardown();
}

FX_TEST(tmpfs_times, unlink_link_rename_rules)
{
	fx_must_mkdir("/a", 0755);
	fx_must_mkdir("/b", 0755);
	fx_must_write("/a/f", "x");
	struct statx a0 = tt_lstat("/a"), f0 = tt_lstat("/a/f");
	tt_tick();
	FX_ASSERT_OK(tt_link("/a/f", "/b/g"));
	struct statx b1 = tt_lstat("/b"), f1 = tt_lstat("/a/f");
	cr_assert(TT_LATER(f1.stx_ctime, f0.stx_ctime), "link: target ctime");
	cr_assert(TT_SAME(f1.stx_mtime, f0.stx_mtime), "link: target mtime unchanged");
	cr_assert(TT_LATER(b1.stx_mtime, a0.stx_mtime), "link: new parent mtime");
	tt_tick();
	FX_ASSERT_OK(tt_unlink("/b/g"));
	struct statx b2 = tt_lstat("/b"), f2 = tt_lstat("/a/f");
	cr_assert(TT_LATER(b2.stx_mtime, b1.stx_mtime), "unlink: parent mtime");
	cr_assert(TT_LATER(b2.stx_ctime, b1.stx_ctime), "unlink: parent ctime");
	cr_assert(TT_LATER(f2.stx_ctime, f1.stx_ctime), "unlink: target ctime");
	tt_tick();
	FX_ASSERT_OK(tt_rename("/a/f", "/b/h", 0));
	struct statx a3 = tt_lstat("/a"), b3 = tt_lstat("/b"), h3 = tt_lstat("/b/h");
	cr_assert(TT_LATER(a3.stx_mtime, b2.stx_mtime), "rename: old parent mtime");
	cr_assert(TT_LATER(a3.stx_ctime, b2.stx_ctime), "rename: old parent ctime");
	cr_assert(TT_LATER(b3.stx_mtime, b2.stx_mtime), "rename: new parent mtime");
	cr_assert(TT_LATER(h3.stx_ctime, f2.stx_ctime), "rename: moved inode ctime");
	cr_assert(TT_SAME(h3.stx_mtime, f2.stx_mtime), "rename: moved inode mtime unchanged");
	tt_tick();
	FX_ASSERT_OK(tt_rmdir("/a"));
	cr_assert(TT_LATER(tt_lstat("/").stx_mtime, a3.stx_mtime), "rmdir: parent mtime");
}

FX_TEST(tmpfs_times, truncate_updates_mc_when_size_changes)
{
	fx_must_write("/f", "abcdef");
	struct statx s0 = tt_lstat("/f");
	tt_tick();
	FX_ASSERT_OK(tt_truncate("/f", 2));
	struct statx s1 = tt_lstat("/f");
	cr_assert(TT_LATER(s1.stx_mtime, s0.stx_mtime));
	cr_assert(TT_LATER(s1.stx_ctime, s0.stx_ctime));
	tt_tick();
	FX_ASSERT_OK(tt_truncate("/f", 100));
	struct statx s2 = tt_lstat("/f");
	cr_assert(TT_LATER(s2.stx_mtime, s1.stx_mtime));
}

FX_TEST(tmpfs_times, chmod_chown_utimes_update_ctime)
{
	fx_must_write("/f", "x");
	struct statx s0 = tt_lstat("/f");
	tt_tick();
	FX_ASSERT_OK(fx_chmod("/f", 0600));
	struct statx s1 = tt_lstat("/f");
	cr_assert(TT_LATER(s1.stx_ctime, s0.stx_ctime));
	cr_assert(TT_SAME(s1.stx_mtime, s0.stx_mtime));
	tt_tick();
	FX_ASSERT_OK(fx_chown("/f", 5, 6));
	struct statx s2 = tt_lstat("/f");
	cr_assert(TT_LATER(s2.stx_ctime, s1.stx_ctime));
	struct uvfs_pathop p = fx_pop("/f");
	struct uvfs_setattr a = { .mask = STATX_ATIME | STATX_MTIME, .atime = { 1000, 5 }, .mtime = { 2000, 7 } };
	tt_tick();
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &a, 0));
	struct statx s3 = tt_lstat("/f");
	cr_assert_eq(s3.stx_atime.tv_sec, 1000);
	cr_assert_eq(s3.stx_atime.tv_nsec, 5);
	cr_assert_eq(s3.stx_mtime.tv_sec, 2000);
	cr_assert_eq(s3.stx_mtime.tv_nsec, 7);
	cr_assert(TT_LATER(s3.stx_ctime, s2.stx_ctime));
}

/* ----------------------------------------------------- chmod / chown */

FX_TEST(tmpfs_perm, chmod_chown_basics)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chmod("/f", 04755));
	cr_assert_eq(fx_mode("/f"), S_IFREG | 04755);
	FX_ASSERT_OK(fx_chown("/f", 1000, 1000));
	struct statx st = tt_lstat("/f");
	cr_assert_eq(st.stx_uid, 1000);
	cr_assert_eq(st.stx_gid, 1000);
	cr_assert_eq(st.stx_mode, S_IFREG | 0755, "chown clears setuid, got %o", st.stx_mode);
	/* Non-owner cannot chmod; the owner can. */
	struct uvfs_pathop p = fx_popf("/f");
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = 0700 };
	FX_ASSERT_ERR(uvfs_setstat_at(fx.vfs, &fx.user2, &p, &a, 0), -EPERM);
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.user, &p, &a, 0));
	cr_assert_eq(fx_mode("/f"), S_IFREG | 0700);
}

FX_TEST(tmpfs_perm, chown_clears_setgid_with_group_exec)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chmod("/f", 06755));
	FX_ASSERT_OK(fx_chown("/f", 0, 100));
	cr_assert_eq(fx_mode("/f"), S_IFREG | 0755);
	/* setgid without group exec is mandatory locking: kept. */
	FX_ASSERT_OK(fx_chmod("/f", 02745));
	FX_ASSERT_OK(fx_chown("/f", 0, 101));
	cr_assert_eq(fx_mode("/f"), S_IFREG | 02745);
}

FX_TEST(tmpfs_perm, write_by_unprivileged_clears_setuid)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chmod("/f", 06777));
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/f", O_WRONLY, 0, &f));
	cr_assert_eq(uvfs_write(f, "y", 1), 1);
	uvfs_file_put(f);
	cr_assert_eq(fx_mode("/f"), S_IFREG | 0777, "got %o", fx_mode("/f"));
}

FX_TEST(tmpfs_perm, chmod_setgid_by_non_member_drops_it)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chown("/f", 1000, 2000)); /* user owns, group it is not in */
	struct uvfs_pathop p = fx_popf("/f");
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = 02755 };
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.user, &p, &a, 0));
	cr_assert_eq(fx_mode("/f"), S_IFREG | 0755);
}

FX_TEST(tmpfs_perm, new_file_owner_is_fsuid)
{
	fx_must_mkdir("/pub", 0777);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/pub/mine", O_CREAT | O_WRONLY, 0640, &f));
	uvfs_file_put(f);
	struct statx st = tt_lstat("/pub/mine");
	cr_assert_eq(st.stx_uid, 1000);
	cr_assert_eq(st.stx_gid, 1000);
	cr_assert_eq(st.stx_mode, S_IFREG | 0640);
}

/* -------------------------------------------------------------- xattrs */

static int setx(const struct uvfs_cred *c, const char *path, const char *name, const char *v, int flags)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_setxattr_at(fx.vfs, c, &p, name, v, strlen(v), flags);
}
static ssize_t getx(const struct uvfs_cred *c, const char *path, const char *name, char *buf, size_t len)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_getxattr_at(fx.vfs, c, &p, name, buf, len);
}
static ssize_t listx(const char *path, char *buf, size_t len)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_listxattr_at(fx.vfs, &fx.cred, &p, buf, len);
}
static int rmx(const char *path, const char *name)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_removexattr_at(fx.vfs, &fx.cred, &p, name);
}

FX_TEST(tmpfs_xattr, set_get_list_remove)
{
	fx_must_write("/f", "x");
	char buf[64];
	FX_ASSERT_ERR(getx(&fx.cred, "/f", "user.a", buf, sizeof(buf)), -ENODATA);
	cr_assert_eq(listx("/f", buf, sizeof(buf)), 0);
	FX_ASSERT_OK(setx(&fx.cred, "/f", "user.a", "alpha", 0));
	FX_ASSERT_OK(setx(&fx.cred, "/f", "trusted.b", "beta", 0));
	cr_assert_eq(getx(&fx.cred, "/f", "user.a", NULL, 0), 5);
	FX_ASSERT_ERR(getx(&fx.cred, "/f", "user.a", buf, 2), -ERANGE);
	cr_assert_eq(getx(&fx.cred, "/f", "user.a", buf, sizeof(buf)), 5);
	cr_assert(!memcmp(buf, "alpha", 5));
	cr_assert_eq(listx("/f", NULL, 0), 17);
	FX_ASSERT_ERR(listx("/f", buf, 5), -ERANGE);
	cr_assert_eq(listx("/f", buf, sizeof(buf)), 17);
	cr_assert(!memcmp(buf, "user.a\0trusted.b\0", 17));
	FX_ASSERT_ERR(setx(&fx.cred, "/f", "user.a", "x", XATTR_CREATE), -EEXIST);
	FX_ASSERT_ERR(setx(&fx.cred, "/f", "user.zz", "x", XATTR_REPLACE), -ENODATA);
	FX_ASSERT_OK(setx(&fx.cred, "/f", "user.a", "A", XATTR_REPLACE));
	cr_assert_eq(getx(&fx.cred, "/f", "user.a", buf, sizeof(buf)), 1);
	FX_ASSERT_OK(rmx("/f", "user.a"));
	FX_ASSERT_ERR(rmx("/f", "user.a"), -ENODATA);
	cr_assert_eq(listx("/f", buf, sizeof(buf)), 10);
}

FX_TEST(tmpfs_xattr, on_dirs_and_limits)
{
	fx_must_mkdir("/d", 0755);
	FX_ASSERT_OK(setx(&fx.cred, "/d", "user.dir", "1", 0));
	char *big = malloc(65537);
	memset(big, 'v', 65536);
	big[65536] = 0;
	struct uvfs_pathop p = fx_pop("/d");
	FX_ASSERT_OK(uvfs_setxattr_at(fx.vfs, &fx.cred, &p, "user.big", big, 65536, 0));
	FX_ASSERT_ERR(uvfs_setxattr_at(fx.vfs, &fx.cred, &p, "user.big", big, 65537, 0), -E2BIG);
	char name[300] = "user.";
	memset(name + 5, 'n', 260);
	name[265] = 0;
	FX_ASSERT_ERR(setx(&fx.cred, "/d", name, "v", 0), -ERANGE);
	free(big);
}

FX_TEST(tmpfs_xattr, namespaces_and_permissions)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chmod("/f", 0666));
	char buf[16];
	FX_ASSERT_ERR(setx(&fx.user, "/f", "trusted.t", "v", 0), -EPERM);
	FX_ASSERT_OK(setx(&fx.user, "/f", "user.u", "v", 0));
	cr_assert_eq(getx(&fx.user2, "/f", "user.u", buf, sizeof(buf)), 1);
	FX_ASSERT_OK(fx_symlink("f", "/s"));
	FX_ASSERT_ERR(setx(&fx.cred, "/s", "user.u", "v", 0), -EPERM);
	FX_ASSERT_OK(setx(&fx.cred, "/s", "trusted.t", "v", 0));
	cr_assert_eq(getx(&fx.cred, "/s", "trusted.t", buf, sizeof(buf)), 1);
	FX_ASSERT_OK(tt_mknod("/p", S_IFIFO | 0666, 0));
	FX_ASSERT_ERR(setx(&fx.cred, "/p", "user.u", "v", 0), -EPERM);
}

FX_TEST(tmpfs_xattr, set_updates_ctime_and_freed_with_file)
{
	fx_must_write("/f", "x");
	struct statx s0 = tt_lstat("/f");
	tt_tick();
	FX_ASSERT_OK(setx(&fx.cred, "/f", "user.a", "1", 0));
	struct statx s1 = tt_lstat("/f");
	cr_assert(TT_LATER(s1.stx_ctime, s0.stx_ctime));
	cr_assert(TT_SAME(s1.stx_mtime, s0.stx_mtime));
	tt_tick();
	FX_ASSERT_OK(rmx("/f", "user.a"));
	cr_assert(TT_LATER(tt_lstat("/f").stx_ctime, s1.stx_ctime));
	FX_ASSERT_OK(setx(&fx.cred, "/f", "user.b", "2", 0));
	FX_ASSERT_OK(tt_unlink("/f")); /* ASan reports the store if eviction leaks it */
}

FX_TEST(tmpfs_times, open_trunc_updates_mc)
{
	fx_must_write("/f", "abc");
	struct statx s0 = tt_lstat("/f");
	tt_tick();
	struct uvfs_file *f = tt_open("/f", O_WRONLY | O_TRUNC, 0);
	uvfs_file_put(f);
	struct statx s1 = tt_lstat("/f");
	cr_assert_eq(s1.stx_size, 0);
	cr_assert(TT_LATER(s1.stx_mtime, s0.stx_mtime));
	cr_assert(TT_LATER(s1.stx_ctime, s0.stx_ctime));
	cr_assert_eq(s1.stx_blocks, 0, "pages freed");
}

FX_TEST(tmpfs_times, ctime_never_goes_back_on_utimes)
{
	fx_must_write("/f", "x");
	struct statx s0 = tt_lstat("/f");
	struct uvfs_pathop p = fx_pop("/f");
	struct uvfs_setattr a = { .mask = STATX_MTIME, .mtime = { 5, 0 } };
	tt_tick();
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &a, 0));
	struct statx s1 = tt_lstat("/f");
	cr_assert_eq(s1.stx_mtime.tv_sec, 5);
	cr_assert(TT_LATER(s1.stx_ctime, s0.stx_ctime));
}

/* atime has 1 ms resolution, but a read right after a write must still
 * leave atime >= mtime (mail readers compare them). */
FX_TEST(tmpfs_times, read_after_write_atime_not_before_mtime)
{
	struct uvfs_file *f = tt_open("/m", O_RDWR | O_CREAT, 0644);
	char b[4];
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(uvfs_pread(f, b, 1, 0), i ? 1 : 0);
		cr_assert_eq(uvfs_pwrite(f, "x", 1, 0), 1);
		cr_assert_eq(uvfs_pread(f, b, 1, 0), 1);
		struct statx st;
		FX_ASSERT_OK(uvfs_file_stat(f, STATX_BASIC_STATS, &st));
		cr_assert(tt_cmp(st.stx_atime, st.stx_mtime) >= 0, "round %d: atime before mtime", i);
		cr_assert(tt_cmp(st.stx_atime, st.stx_ctime) >= 0, "round %d: atime before ctime", i);
	}
	uvfs_file_put(f);
}
