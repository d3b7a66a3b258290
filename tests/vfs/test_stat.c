/* test_stat.c — statx mask semantics and setstat rules (chmod/chown by
 * owner vs non-owner, setgid clearing, utimes). Linux-checked as uid 1000. */
#include "fixture.h"

static int setattr_as(const struct uvfs_cred *c, const char *path, const struct uvfs_setattr *a)
{
	struct uvfs_pathop p = fx_popf(path);
	return uvfs_setstat_at(fx.vfs, c, &p, a, 0);
}

static void statx_of(const char *path, struct statx *st) { FX_ASSERT_OK(fx_lstat(path, st)); }

static int ts_cmp(struct statx_timestamp a, struct statx_timestamp b)
{
	if (a.tv_sec != b.tv_sec)
		return a.tv_sec < b.tv_sec ? -1 : 1;
	if (a.tv_nsec != b.tv_nsec)
		return a.tv_nsec < b.tv_nsec ? -1 : 1;
	return 0;
}

static void tiny_sleep(void)
{
	struct timespec ts = { 0, 15 * 1000 * 1000 };
	nanosleep(&ts, NULL);
}

FX_TEST(stat, basic_fields)
{
	fx_must_write("/f", "12345");
	FX_ASSERT_OK(fx_chmod("/f", 0640));
	FX_ASSERT_OK(fx_chown("/f", 7, 8));
	struct statx st;
	statx_of("/f", &st);
	unsigned need = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID | STATX_INO | STATX_SIZE;
	cr_assert_eq(st.stx_mask & need, need, "mask %#x lacks basic fields", st.stx_mask);
	cr_assert_eq(st.stx_mode, S_IFREG | 0640);
	cr_assert_eq(st.stx_nlink, 1);
	cr_assert_eq(st.stx_uid, 7);
	cr_assert_eq(st.stx_gid, 8);
	cr_assert_eq(st.stx_size, 5);
	cr_assert_neq(st.stx_ino, 0);
	cr_assert_gt(st.stx_blksize, 0);
	/* Directories: nlink 2 + subdirectories. */
	fx_must_mkdir("/d", 0755);
	fx_must_mkdir("/d/a", 0755);
	fx_must_mkdir("/d/b", 0755);
	fx_must_write("/d/file", "");
	statx_of("/d", &st);
	cr_assert_eq(st.stx_nlink, 4);
	cr_assert(S_ISDIR(st.stx_mode));
	/* Distinct files have distinct inode numbers, same device. */
	struct statx a, b;
	statx_of("/d/a", &a);
	statx_of("/d/b", &b);
	cr_assert_neq(a.stx_ino, b.stx_ino);
	cr_assert_eq(a.stx_dev_minor, b.stx_dev_minor);
	cr_assert_eq(a.stx_dev_major, b.stx_dev_major);
}

FX_TEST(stat, mask_semantics)
{
	fx_must_write("/f", "abc");
	struct uvfs_pathop p = fx_pop("/f");
	struct statx st;
	memset(&st, 0, sizeof st);
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_SIZE, &st));
	cr_assert(st.stx_mask & STATX_SIZE, "requested field must be in the mask");
	cr_assert_eq(st.stx_size, 3);
	memset(&st, 0, sizeof st);
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO | STATX_TYPE, &st));
	cr_assert(st.stx_mask & STATX_INO);
	cr_assert(st.stx_mask & STATX_TYPE);
	cr_assert(S_ISREG(st.stx_mode));
	cr_assert_eq(st.stx_ino, fx_ino("/f"));
	/* A mask of 0 still succeeds. */
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, 0, &st));
	/* Every valid bit claimed must hold a real value: check the times. */
	memset(&st, 0, sizeof st);
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS | STATX_BTIME, &st));
	if (st.stx_mask & STATX_MTIME)
		cr_assert_gt(st.stx_mtime.tv_sec, 1000000000, "mtime claimed valid but is %lld",
			     (long long)st.stx_mtime.tv_sec);
	if (st.stx_mask & STATX_BTIME)
		cr_assert_gt(st.stx_btime.tv_sec, 1000000000);
	cr_assert_lt(st.stx_mtime.tv_nsec, 1000000000u);
}

FX_TEST(stat, file_stat_matches_path_stat)
{
	fx_must_write("/f", "abc");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_RDWR, 0, &f));
	struct statx a, b;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_BASIC_STATS, &a));
	statx_of("/f", &b);
	cr_assert_eq(a.stx_ino, b.stx_ino);
	cr_assert_eq(a.stx_mode, b.stx_mode);
	cr_assert_eq(a.stx_size, b.stx_size);
	cr_assert_eq(uvfs_write(f, "defg", 4), 4);
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_SIZE, &a));
	cr_assert_eq(a.stx_size, 4);
	uvfs_file_put(f);
}

FX_TEST(stat, symlink_stat)
{
	FX_ASSERT_OK(fx_symlink("a/b/c", "/l"));
	struct statx st;
	statx_of("/l", &st);
	cr_assert(S_ISLNK(st.stx_mode));
	cr_assert_eq(st.stx_mode & 07777, 0777);
	cr_assert_eq(st.stx_size, 5);
}

FX_TEST(stat, chmod_owner_vs_nonowner)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chown("/f", 1000, 1000));
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = 0600 };
	FX_ASSERT_OK(setattr_as(&fx.user, "/f", &a));
	cr_assert_eq(fx_mode("/f"), S_IFREG | 0600);
	a.mode = 0666;
	FX_ASSERT_ERR(setattr_as(&fx.user2, "/f", &a), -EPERM);
	cr_assert_eq(fx_mode("/f"), S_IFREG | 0600);
	struct uvfs_cred fowner = fx_user_with_cap(CAP_FOWNER);
	fowner.uid = fowner.euid = fowner.fsuid = 1001;
	FX_ASSERT_OK(setattr_as(&fowner, "/f", &a));
	cr_assert_eq(fx_mode("/f"), S_IFREG | 0666);
}

FX_TEST(stat, chmod_to_current_mode_keeps_file_type)
{
	/* chmod(f, 0644) on a 0644 file is a no-op (Linux: st_mode stays
	 * 0100644); the file type bits must never change. */
	fx_must_write("/f", "x");
	cr_assert_eq(fx_mode("/f"), S_IFREG | 0644);
	FX_ASSERT_OK(fx_chmod("/f", 0644));
	cr_assert_eq(fx_mode("/f"), S_IFREG | 0644, "mode became %o", fx_mode("/f"));
	fx_must_mkdir("/d", 0755);
	FX_ASSERT_OK(fx_chmod("/d", 0755));
	cr_assert_eq(fx_mode("/d"), S_IFDIR | 0755, "mode became %o", fx_mode("/d"));
	char buf[4];
	cr_assert_eq(fx_read_file("/f", buf, sizeof buf), 1, "the file must still open as a regular file");
}

FX_TEST(stat, chown_rules)
{
	fx_must_mkdir("/o", 0777);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/o/mine", O_CREAT | O_WRONLY, 0644, &f));
	uvfs_file_put(f);
	struct statx st;
	statx_of("/o/mine", &st);
	cr_assert_eq(st.stx_uid, 1000);
	cr_assert_eq(st.stx_gid, 1000);
	/* Owner: chown to own uid is allowed (no-op). */
	struct uvfs_setattr a = { .mask = STATX_UID, .uid = 1000 };
	FX_ASSERT_OK(setattr_as(&fx.user, "/o/mine", &a));
	/* Owner: giving the file away is not. */
	a.uid = 1001;
	FX_ASSERT_ERR(setattr_as(&fx.user, "/o/mine", &a), -EPERM);
	/* Owner: chgrp to a group it is not in. */
	a = (struct uvfs_setattr){ .mask = STATX_GID, .gid = 0 };
	FX_ASSERT_ERR(setattr_as(&fx.user, "/o/mine", &a), -EPERM);
	/* Owner: chgrp to a supplementary group. */
	struct uvfs_cred member = fx.user;
	uint32_t g4242[] = { 4242 };
	uvfs_cred_set_groups(&member, g4242, 1);
	a.gid = 4242;
	FX_ASSERT_OK(setattr_as(&member, "/o/mine", &a));
	statx_of("/o/mine", &st);
	cr_assert_eq(st.stx_gid, 4242);
	/* Non-owner cannot chgrp even to its own group. */
	a.gid = 1001;
	FX_ASSERT_ERR(setattr_as(&fx.user2, "/o/mine", &a), -EPERM);
	/* CAP_CHOWN can do anything. */
	struct uvfs_cred chowner = fx.user2;
	chowner.caps = UVFS_CAP(CAP_CHOWN);
	a = (struct uvfs_setattr){ .mask = STATX_UID | STATX_GID, .uid = 55, .gid = 66 };
	FX_ASSERT_OK(setattr_as(&chowner, "/o/mine", &a));
	statx_of("/o/mine", &st);
	cr_assert_eq(st.stx_uid, 55);
	cr_assert_eq(st.stx_gid, 66);
}

FX_TEST(stat, chown_clears_setuid_setgid)
{
	fx_must_mkdir("/o", 0777);
	fx_must_write("/o/su", "x");
	FX_ASSERT_OK(fx_chown("/o/su", 1000, 1000));
	FX_ASSERT_OK(fx_chmod("/o/su", 06755));
	cr_assert_eq(fx_mode("/o/su"), S_IFREG | 06755);
	/* Even a no-op chown by the (unprivileged) owner clears them (Linux). */
	struct uvfs_setattr a = { .mask = STATX_UID | STATX_GID, .uid = 1000, .gid = 1000 };
	FX_ASSERT_OK(setattr_as(&fx.user, "/o/su", &a));
	cr_assert_eq(fx_mode("/o/su"), S_IFREG | 0755, "mode %o", fx_mode("/o/su"));
}

FX_TEST(stat, chmod_setgid_cleared_for_nonmember)
{
	/* Owner 1000 but group 0, which the owner is not in: S_ISGID is
	 * silently dropped by chmod (no CAP_FSETID). */
	fx_must_write("/sg", "x");
	FX_ASSERT_OK(fx_chown("/sg", 1000, 0));
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = 02755 };
	FX_ASSERT_OK(setattr_as(&fx.user, "/sg", &a));
	cr_assert_eq(fx_mode("/sg"), S_IFREG | 0755);
	/* Group member keeps it. */
	FX_ASSERT_OK(fx_chown("/sg", 1000, 1000));
	FX_ASSERT_OK(setattr_as(&fx.user, "/sg", &a));
	cr_assert_eq(fx_mode("/sg"), S_IFREG | 02755);
	/* Root keeps it regardless. */
	FX_ASSERT_OK(fx_chown("/sg", 1000, 0));
	FX_ASSERT_OK(setattr_as(&fx.cred, "/sg", &a));
	cr_assert_eq(fx_mode("/sg"), S_IFREG | 02755);
}

FX_TEST(stat, setgid_directory_inheritance)
{
	fx_must_mkdir("/sgd", 0777);
	FX_ASSERT_OK(fx_chown("/sgd", 0, 50));
	FX_ASSERT_OK(fx_chmod("/sgd", 02777));
	struct uvfs_pathop p = fx_pop("/sgd/sub");
	FX_ASSERT_OK(uvfs_mkdir_at(fx.vfs, &fx.user, &p, 0755));
	struct statx st;
	statx_of("/sgd/sub", &st);
	cr_assert_eq(st.stx_gid, 50);
	cr_assert_eq(st.stx_mode, S_IFDIR | 02755);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/sgd/file", O_CREAT | O_WRONLY, 0644, &f));
	uvfs_file_put(f);
	statx_of("/sgd/file", &st);
	cr_assert_eq(st.stx_gid, 50);
	cr_assert_eq(st.stx_uid, 1000);
	cr_assert_eq(st.stx_mode, S_IFREG | 0644);
}

FX_TEST(stat, utimes_rules)
{
	fx_must_write("/w", "x");
	FX_ASSERT_OK(fx_chmod("/w", 0666)); /* root-owned, world-writable */
	fx_must_write("/r", "x");
	FX_ASSERT_OK(fx_chmod("/r", 0644));
	struct uvfs_setattr now = { .mask = STATX_ATIME | STATX_MTIME };
	now.atime.tv_nsec = UTIME_NOW;
	now.mtime.tv_nsec = UTIME_NOW;
	/* Non-owner with write permission may set both to now. */
	struct statx before, after;
	statx_of("/w", &before);
	tiny_sleep();
	FX_ASSERT_OK(setattr_as(&fx.user, "/w", &now));
	statx_of("/w", &after);
	cr_assert_gt(ts_cmp(after.stx_mtime, before.stx_mtime), 0, "UTIME_NOW must advance mtime");
	cr_assert_gt(ts_cmp(after.stx_atime, before.stx_atime), 0);
	/* Without write permission: EACCES. */
	FX_ASSERT_ERR(setattr_as(&fx.user, "/r", &now), -EACCES);
	/* Explicit times by a non-owner: EPERM. */
	struct uvfs_setattr expl = { .mask = STATX_ATIME | STATX_MTIME };
	expl.atime = (struct timespec){ 1, 0 };
	expl.mtime = (struct timespec){ 2, 0 };
	FX_ASSERT_ERR(setattr_as(&fx.user, "/w", &expl), -EPERM);
	/* The owner (root) may set explicit times. */
	FX_ASSERT_OK(setattr_as(&fx.cred, "/w", &expl));
	statx_of("/w", &after);
	cr_assert_eq(after.stx_atime.tv_sec, 1);
	cr_assert_eq(after.stx_mtime.tv_sec, 2);
	cr_assert_eq(after.stx_mtime.tv_nsec, 0);
	/* Only the fields in the mask change. */
	struct uvfs_setattr monly = { .mask = STATX_MTIME, .mtime = { 77, 5 } };
	FX_ASSERT_OK(setattr_as(&fx.cred, "/w", &monly));
	statx_of("/w", &after);
	cr_assert_eq(after.stx_atime.tv_sec, 1);
	cr_assert_eq(after.stx_mtime.tv_sec, 77);
	cr_assert_eq(after.stx_mtime.tv_nsec, 5);
}

FX_TEST(stat, setattr_changes_ctime)
{
	fx_must_write("/f", "x");
	struct statx before, after;
	statx_of("/f", &before);
	tiny_sleep();
	FX_ASSERT_OK(fx_chmod("/f", 0600));
	statx_of("/f", &after);
	cr_assert_gt(ts_cmp(after.stx_ctime, before.stx_ctime), 0, "chmod must update ctime");
}

FX_TEST(stat, write_updates_mtime_and_size)
{
	fx_must_write("/f", "x");
	struct statx before, after;
	statx_of("/f", &before);
	tiny_sleep();
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_WRONLY | O_APPEND, 0, &f));
	cr_assert_eq(uvfs_write(f, "yz", 2), 2);
	uvfs_file_put(f);
	statx_of("/f", &after);
	cr_assert_eq(after.stx_size, 3);
	cr_assert_gt(ts_cmp(after.stx_mtime, before.stx_mtime), 0);
	cr_assert_gt(ts_cmp(after.stx_ctime, before.stx_ctime), 0);
}

FX_TEST(stat, setattr_size_through_path)
{
	fx_must_write("/f", "abcdef");
	struct uvfs_setattr a = { .mask = STATX_SIZE, .size = 2 };
	FX_ASSERT_OK(setattr_as(&fx.cred, "/f", &a));
	struct statx st;
	statx_of("/f", &st);
	cr_assert_eq(st.stx_size, 2);
	fx_must_mkdir("/d", 0755);
	FX_ASSERT_ERR(setattr_as(&fx.cred, "/d", &a), -EISDIR);
}

FX_TEST(stat, statfs_reports_tmpfs)
{
	struct statfs sf;
	struct uvfs_pathop p = fx_pop("/");
	FX_ASSERT_OK(uvfs_statfs_at(fx.vfs, &fx.cred, &p, &sf));
	cr_assert_eq((unsigned long)sf.f_type, 0x01021994UL, "TMPFS_MAGIC expected, got %#lx",
		     (unsigned long)sf.f_type);
	cr_assert_gt(sf.f_bsize, 0);
}

FX_TEST(stat, access_at_modes)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chmod("/f", 0604));
	struct uvfs_pathop p = fx_popf("/f");
	FX_ASSERT_OK(uvfs_access_at(fx.vfs, &fx.user, &p, R_OK));
	FX_ASSERT_ERR(uvfs_access_at(fx.vfs, &fx.user, &p, W_OK), -EACCES);
	FX_ASSERT_ERR(uvfs_access_at(fx.vfs, &fx.user, &p, R_OK | X_OK), -EACCES);
	p = fx_popf("/missing");
	FX_ASSERT_ERR(uvfs_access_at(fx.vfs, &fx.user, &p, F_OK), -ENOENT);
}
