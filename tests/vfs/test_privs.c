/* test_privs.c — privilege bits, the security.* xattr namespace, special
 * files on read-only mounts and POSIX edge cases, each answer taken from
 * the host kernel's tmpfs (Linux 6.18) as root and as uid 1000 (setpriv). */
#include "fixture.h"
#include "uvfs_fs.h"

#include <sys/xattr.h>
#include <time.h>

static int setattr_as(const struct uvfs_cred *c, const char *path, const struct uvfs_setattr *a, unsigned flags)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_setstat_at(fx.vfs, c, &p, a, flags);
}

static int chown_none_as(const struct uvfs_cred *c, const char *path)
{
	/* chown(path, -1, -1) */
	struct uvfs_setattr a = { .mask = STATX_UID | STATX_GID, .uid = (uint32_t)-1, .gid = (uint32_t)-1 };
	return setattr_as(c, path, &a, 0);
}

/* path: content, then chmod mode, owner root:root. */
static void mkfile(const char *path, const char *content, mode_t mode)
{
	fx_must_write(path, content);
	FX_ASSERT_OK(fx_chmod(path, mode));
}

static uint32_t perm(const char *path) { return fx_mode(path) & 07777; }

static struct statx_timestamp ctime_of(const char *path)
{
	struct statx st;
	FX_ASSERT_OK(fx_lstat(path, &st));
	return st.stx_ctime;
}

static bool later(struct statx_timestamp a, struct statx_timestamp b)
{
	return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

static void tick(void)
{
	struct timespec t = { 0, 2 * 1000 * 1000 };
	nanosleep(&t, NULL);
}

static void write_as(const struct uvfs_cred *c, const char *path)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(c, path, O_WRONLY, 0, &f));
	cr_assert_eq(uvfs_write(f, "x", 1), 1);
	uvfs_file_put(f);
}

static struct uvfs_vd vd_of(const char *path)
{
	struct uvfs_vd vd;
	struct uvfs_pathop p = fx_pop(path);
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, &vd));
	return vd;
}

static void set_ro(const char *path, bool ro)
{
	struct uvfs_vd vd = vd_of(path);
	FX_ASSERT_OK(uvfs_set_mount_readonly(vd.mount, ro));
	uvfs_vd_put(&vd);
}

/* ---------------------------------------------------- setuid / setgid */

/* C6: ftruncate by an unprivileged writer clears S_ISUID, even to the
 * same size. */
FX_TEST(privs, ftruncate_by_unprivileged_writer_clears_setuid)
{
	mkfile("/su", "abc", 04777);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/su", O_WRONLY, 0, &f));
	FX_ASSERT_OK(uvfs_file_truncate(f, 3));
	uvfs_file_put(f);
	cr_assert_eq(perm("/su"), 0777, "mode %o", perm("/su"));
	/* An opener with CAP_FSETID keeps it. */
	FX_ASSERT_OK(fx_chmod("/su", 04777));
	FX_ASSERT_OK(fx_open("/su", O_WRONLY, 0, &f));
	FX_ASSERT_OK(uvfs_file_truncate(f, 1));
	uvfs_file_put(f);
	cr_assert_eq(perm("/su"), 04777, "mode %o", perm("/su"));
}

FX_TEST(privs, truncate_to_same_size_clears_setuid)
{
	mkfile("/su", "abc", 04777);
	struct uvfs_setattr a = { .mask = STATX_SIZE, .size = 3 };
	FX_ASSERT_OK(setattr_as(&fx.user, "/su", &a, UVFS_SETATTR_NEED_WRITE));
	cr_assert_eq(perm("/su"), 0777, "mode %o", perm("/su"));
	/* Root (CAP_FSETID) keeps it. */
	FX_ASSERT_OK(fx_chmod("/su", 04777));
	a.size = 1;
	FX_ASSERT_OK(setattr_as(&fx.cred, "/su", &a, UVFS_SETATTR_NEED_WRITE));
	cr_assert_eq(perm("/su"), 04777, "mode %o", perm("/su"));
}

FX_TEST(privs, o_trunc_of_empty_file_clears_setuid)
{
	mkfile("/su", "", 04777);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/su", O_WRONLY | O_TRUNC, 0, &f));
	uvfs_file_put(f);
	cr_assert_eq(perm("/su"), 0777, "mode %o", perm("/su"));
}

/* Linux >= 6.2 setattr_should_drop_sgid: S_ISGID goes when group-executable,
 * or when the writer is not in the file's group (and lacks CAP_FSETID). */
FX_TEST(privs, setgid_dropped_by_nonmember_write_without_group_exec)
{
	mkfile("/sg", "abc", 02766);
	write_as(&fx.user, "/sg");
	cr_assert_eq(perm("/sg"), 0766, "non-member write: mode %o", perm("/sg"));
	/* A member of the file's group keeps it (no group exec). */
	FX_ASSERT_OK(fx_chmod("/sg", 02766));
	struct uvfs_cred member = fx.user;
	member.fsgid = member.egid = member.gid = 0;
	write_as(&member, "/sg");
	cr_assert_eq(perm("/sg"), 02766, "member write: mode %o", perm("/sg"));
	/* With group exec even a member drops it. */
	FX_ASSERT_OK(fx_chmod("/sg", 02776));
	write_as(&member, "/sg");
	cr_assert_eq(perm("/sg"), 0776, "member write, g+x: mode %o", perm("/sg"));
	/* Truncate by a non-member too. */
	FX_ASSERT_OK(fx_chmod("/sg", 02766));
	struct uvfs_setattr a = { .mask = STATX_SIZE, .size = 1 };
	FX_ASSERT_OK(setattr_as(&fx.user, "/sg", &a, UVFS_SETATTR_NEED_WRITE));
	cr_assert_eq(perm("/sg"), 0766, "non-member truncate: mode %o", perm("/sg"));
}

/* A file keeps its opener's groups past the call that lent them: a member
 * through a supplementary group keeps setgid on write even after the
 * borrowed array is gone (ASan catches a file that kept the pointer). */
FX_TEST(privs, file_owns_its_openers_groups)
{
	mkfile("/sg2", "abc", 02766);
	struct uvfs_cred c = fx.user;
	uint32_t *groups = malloc(3 * sizeof(*groups));
	groups[0] = 7, groups[1] = 0, groups[2] = 5;
	uvfs_cred_set_groups(&c, groups, 3);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&c, "/sg2", O_WRONLY, 0, &f));
	memset(groups, 0xff, 3 * sizeof(*groups));
	free(groups);
	c.groups = NULL, c.ngroups = 0;
	cr_assert_eq(uvfs_write(f, "x", 1), 1);
	cr_assert_eq(perm("/sg2"), 02766, "supplementary member write: mode %o", perm("/sg2"));
	uvfs_file_put(f);
}

FX_TEST(privs, nonowner_chmod_is_eperm)
{
	mkfile("/su", "abc", 04777);
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = 0777 };
	FX_ASSERT_ERR(setattr_as(&fx.user, "/su", &a, 0), -EPERM);
	cr_assert_eq(perm("/su"), 04777);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/su", O_RDWR, 0, &f));
	FX_ASSERT_ERR(uvfs_file_setstat(f, &fx.user, &a), -EPERM);
	uvfs_file_put(f);
	cr_assert_eq(perm("/su"), 04777);
}

/* chown(-1, -1): a chown that changes no id. It still kills setuid (and
 * setgid per setattr_should_drop_sgid), which a non-owner may not do
 * (EPERM), and it updates ctime. */
FX_TEST(privs, chown_minus_one)
{
	for (unsigned k = 0; k < 4; k++) {
		static const uint32_t modes[] = { 04777, 02777, 02766, 06755 };
		mkfile("/p", "abc", modes[k]);
		FX_ASSERT_ERR(chown_none_as(&fx.user, "/p"), -EPERM);
		cr_assert_eq(perm("/p"), modes[k]);
	}
	mkfile("/n", "abc", 0777);
	struct statx_timestamp t0 = ctime_of("/n");
	tick();
	FX_ASSERT_OK(chown_none_as(&fx.user, "/n"));
	cr_assert(later(ctime_of("/n"), t0), "non-owner chown(-1,-1) must update ctime");
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/n", &st));
	cr_assert_eq(st.stx_uid, 0);
	cr_assert_eq(st.stx_gid, 0);
	/* Owner (not in the file's group 0). */
	static const uint32_t omodes[][2] = { { 04777, 0777 }, { 02766, 0766 }, { 02776, 0776 }, { 0644, 0644 } };
	for (unsigned k = 0; k < 4; k++) {
		mkfile("/o", "abc", omodes[k][0]);
		FX_ASSERT_OK(fx_chown("/o", 1000, 0));
		FX_ASSERT_OK(fx_chmod("/o", omodes[k][0]));
		t0 = ctime_of("/o");
		tick();
		FX_ASSERT_OK(chown_none_as(&fx.user, "/o"));
		cr_assert_eq(perm("/o"), omodes[k][1], "owner chown(-1,-1) of %o gave %o", omodes[k][0], perm("/o"));
		cr_assert(later(ctime_of("/o"), t0), "owner chown(-1,-1) must update ctime");
		FX_ASSERT_OK(fx_lstat("/o", &st));
		cr_assert_eq(st.stx_uid, 1000);
		cr_assert_eq(st.stx_gid, 0);
	}
	/* Root keeps a setgid without group exec (CAP_FSETID), drops setuid. */
	mkfile("/r", "abc", 06766);
	FX_ASSERT_OK(chown_none_as(&fx.cred, "/r"));
	cr_assert_eq(perm("/r"), 02766, "root chown(-1,-1): %o", perm("/r"));
	/* Directories keep everything. */
	fx_must_mkdir("/d", 0777);
	FX_ASSERT_OK(fx_chmod("/d", 02777));
	FX_ASSERT_OK(chown_none_as(&fx.user, "/d"));
	cr_assert_eq(perm("/d"), 02777);
}

/* ------------------------------------------------------------ security.* */

static int setx_as(const struct uvfs_cred *c, const char *path, const char *name)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_setxattr_at(fx.vfs, c, &p, name, "v", 1, 0);
}
static int rmx_as(const struct uvfs_cred *c, const char *path, const char *name)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_removexattr_at(fx.vfs, c, &p, name);
}
static ssize_t getx_as(const struct uvfs_cred *c, const char *path, const char *name)
{
	char b[16];
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_getxattr_at(fx.vfs, c, &p, name, b, sizeof b);
}

FX_TEST(privs, security_xattrs_need_cap_sys_admin)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chown("/f", 1000, 1000)); /* the user's own file */
	FX_ASSERT_ERR(setx_as(&fx.user, "/f", "security.foo"), -EPERM);
	FX_ASSERT_ERR(setx_as(&fx.user, "/f", "security.capability"), -EPERM);
	FX_ASSERT_OK(setx_as(&fx.cred, "/f", "security.foo"));
	FX_ASSERT_OK(setx_as(&fx.cred, "/f", "security.capability"));
	/* Anyone may read them. */
	cr_assert_eq(getx_as(&fx.user, "/f", "security.foo"), 1);
	cr_assert_eq(getx_as(&fx.user, "/f", "security.capability"), 1);
	FX_ASSERT_ERR(rmx_as(&fx.user, "/f", "security.foo"), -EPERM);
	FX_ASSERT_ERR(rmx_as(&fx.user, "/f", "security.capability"), -EPERM);
	/* CAP_SYS_ADMIN: security.* but not security.capability. */
	struct uvfs_cred admin = fx_user_with_cap(CAP_SYS_ADMIN);
	FX_ASSERT_OK(setx_as(&admin, "/f", "security.bar"));
	FX_ASSERT_OK(rmx_as(&admin, "/f", "security.bar"));
	FX_ASSERT_ERR(setx_as(&admin, "/f", "security.capability"), -EPERM);
	FX_ASSERT_ERR(rmx_as(&admin, "/f", "security.capability"), -EPERM);
	/* CAP_SETFCAP: security.capability only. */
	struct uvfs_cred setfcap = fx_user_with_cap(CAP_SETFCAP);
	FX_ASSERT_ERR(setx_as(&setfcap, "/f", "security.baz"), -EPERM);
	FX_ASSERT_OK(setx_as(&setfcap, "/f", "security.capability"));
	FX_ASSERT_OK(rmx_as(&setfcap, "/f", "security.capability"));
	cr_assert_eq(getx_as(&fx.cred, "/f", "security.foo"), 1, "still there");
}

/* ---------------------------------------------- special files, ro mounts */

static ssize_t dev_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	(void)f, (void)buf, (void)off;
	return (ssize_t)len;
}
static const struct uvfs_file_ops dev_fops = { .write = dev_write };

/* C5: Linux skips mnt_want_write for device nodes, FIFOs and sockets. */
FX_TEST(privs, special_files_open_for_write_on_readonly_mount)
{
	FX_ASSERT_OK(uvfs_register_device(fx.vfs, UVFS_DEV_CHAR, 240, 9, &dev_fops, NULL, "test"));
	fx_must_mkdir("/ro", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/ro", NULL, 0));
	struct uvfs_pathop p = fx_pop("/ro/null");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFCHR | 0666, makedev(240, 9)));
	p = fx_pop("/ro/fifo");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFIFO | 0666, 0));
	p = fx_pop("/ro/sock");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFSOCK | 0666, 0));
	fx_must_write("/ro/reg", "x");
	set_ro("/ro", true);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/ro/null", O_WRONLY, 0, &f));
	cr_assert_eq(uvfs_write(f, "abc", 3), 3);
	/* The file holds no write reference on the mount. */
	set_ro("/ro", false);
	set_ro("/ro", true);
	uvfs_file_put(f);
	FX_ASSERT_OK(fx_open("/ro/null", O_RDWR | O_TRUNC, 0, &f));
	uvfs_file_put(f);
	/* No pipe or socket behind them yet: ENXIO, never EROFS. */
	FX_ASSERT_ERR(fx_open("/ro/fifo", O_WRONLY | O_NONBLOCK, 0, &f), -ENXIO);
	FX_ASSERT_ERR(fx_open("/ro/sock", O_WRONLY, 0, &f), -ENXIO);
	FX_ASSERT_ERR(fx_open("/ro/reg", O_WRONLY, 0, &f), -EROFS);
	set_ro("/ro", false);
	FX_ASSERT_OK(fx_umount("/ro", 0));
}

/* ------------------------------------------------------------------ C10 */

FX_TEST(privs, readlink_len0_is_einval)
{
	FX_ASSERT_OK(fx_symlink("target", "/l"));
	struct uvfs_pathop p = fx_pop("/l");
	char b[8];
	FX_ASSERT_ERR(uvfs_readlink_at(fx.vfs, &fx.cred, &p, b, 0), -EINVAL);
	cr_assert_eq(uvfs_readlink_at(fx.vfs, &fx.cred, &p, b, sizeof b), 6);
}

FX_TEST(privs, chmod_of_symlink_nofollow_is_eopnotsupp)
{
	fx_must_write("/t", "x");
	FX_ASSERT_OK(fx_symlink("t", "/l"));
	uint32_t before = fx_mode("/l");
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = 0600 };
	FX_ASSERT_ERR(setattr_as(&fx.cred, "/l", &a, 0), -EOPNOTSUPP);
	cr_assert_eq(fx_mode("/l"), before);
	/* Following the link changes the target. */
	struct uvfs_pathop p = fx_popf("/l");
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &a, 0));
	cr_assert_eq(perm("/t"), 0600);
	/* chown of the link itself is fine (lchown). */
	a = (struct uvfs_setattr){ .mask = STATX_UID, .uid = 5 };
	FX_ASSERT_OK(setattr_as(&fx.cred, "/l", &a, 0));
}

FX_TEST(privs, truncate_checks_erofs_before_eacces)
{
	fx_must_mkdir("/ro", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/ro", NULL, 0));
	mkfile("/ro/f", "abc", 0600);
	set_ro("/ro", true);
	struct uvfs_setattr a = { .mask = STATX_SIZE, .size = 0 };
	FX_ASSERT_ERR(setattr_as(&fx.user, "/ro/f", &a, UVFS_SETATTR_NEED_WRITE), -EROFS);
	set_ro("/ro", false);
	FX_ASSERT_ERR(setattr_as(&fx.user, "/ro/f", &a, UVFS_SETATTR_NEED_WRITE), -EACCES);
	FX_ASSERT_OK(fx_umount("/ro", 0));
}

FX_TEST(privs, seek_hole_data_on_directory_is_einval)
{
	fx_must_mkdir("/d", 0755);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/d", O_RDONLY | O_DIRECTORY, 0, &f));
	FX_ASSERT_ERR(uvfs_seek(f, 0, SEEK_DATA), -EINVAL);
	FX_ASSERT_ERR(uvfs_seek(f, 0, SEEK_HOLE), -EINVAL);
	FX_ASSERT_ERR(uvfs_seek(f, -1, SEEK_DATA), -EINVAL);
	uvfs_file_put(f);
}
