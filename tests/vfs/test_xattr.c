/* test_xattr.c — extended attributes through the VFS. Expected errnos
 * checked against Linux tmpfs (kernel 6.18) as root and uid 1000. */
#include "fixture.h"

#include <sys/xattr.h>

static int setx(const struct uvfs_cred *c, const char *path, unsigned pflags, const char *name, const char *val,
		int flags)
{
	struct uvfs_pathop p = fx_pop_at(&fx.root, path, pflags);
	return uvfs_setxattr_at(fx.vfs, c, &p, name, val, strlen(val), flags);
}

static ssize_t getx(const struct uvfs_cred *c, const char *path, unsigned pflags, const char *name, char *buf,
		    size_t len)
{
	struct uvfs_pathop p = fx_pop_at(&fx.root, path, pflags);
	return uvfs_getxattr_at(fx.vfs, c, &p, name, buf, len);
}

static ssize_t listx(const struct uvfs_cred *c, const char *path, char *buf, size_t len)
{
	struct uvfs_pathop p = fx_popf(path);
	return uvfs_listxattr_at(fx.vfs, c, &p, buf, len);
}

static int removex(const struct uvfs_cred *c, const char *path, const char *name)
{
	struct uvfs_pathop p = fx_popf(path);
	return uvfs_removexattr_at(fx.vfs, c, &p, name);
}

/* Does the NUL-separated list contain name? */
static bool has_name(const char *list, ssize_t len, const char *name)
{
	for (ssize_t off = 0; off < len;) {
		if (strcmp(list + off, name) == 0)
			return true;
		off += (ssize_t)strlen(list + off) + 1;
	}
	return false;
}

FX_TEST(xattr, set_get_list_remove)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(setx(&fx.cred, "/f", 0, "user.color", "blue", 0));
	char buf[64] = { 0 };
	cr_assert_eq(getx(&fx.cred, "/f", 0, "user.color", buf, sizeof buf), 4);
	cr_assert(memcmp(buf, "blue", 4) == 0);
	cr_assert_eq(getx(&fx.cred, "/f", 0, "user.color", NULL, 0), 4, "len 0 asks for the size");
	FX_ASSERT_ERR(getx(&fx.cred, "/f", 0, "user.color", buf, 2), -ERANGE);
	FX_ASSERT_OK(setx(&fx.cred, "/f", 0, "user.shape", "round", 0));
	char list[128];
	ssize_t need = listx(&fx.cred, "/f", NULL, 0);
	cr_assert_eq(need, (ssize_t)(sizeof "user.color" + sizeof "user.shape"), "list size %zd", need);
	ssize_t n = listx(&fx.cred, "/f", list, sizeof list);
	cr_assert_eq(n, need);
	cr_assert(has_name(list, n, "user.color"));
	cr_assert(has_name(list, n, "user.shape"));
	FX_ASSERT_ERR(listx(&fx.cred, "/f", list, 5), -ERANGE);
	FX_ASSERT_OK(removex(&fx.cred, "/f", "user.color"));
	FX_ASSERT_ERR(getx(&fx.cred, "/f", 0, "user.color", buf, sizeof buf), -ENODATA);
	n = listx(&fx.cred, "/f", list, sizeof list);
	cr_assert_eq(n, (ssize_t)sizeof "user.shape");
	FX_ASSERT_ERR(removex(&fx.cred, "/f", "user.color"), -ENODATA);
}

FX_TEST(xattr, create_and_replace_flags)
{
	fx_must_write("/f", "x");
	FX_ASSERT_ERR(setx(&fx.cred, "/f", 0, "user.a", "1", XATTR_REPLACE), -ENODATA);
	FX_ASSERT_OK(setx(&fx.cred, "/f", 0, "user.a", "1", XATTR_CREATE));
	FX_ASSERT_ERR(setx(&fx.cred, "/f", 0, "user.a", "2", XATTR_CREATE), -EEXIST);
	FX_ASSERT_OK(setx(&fx.cred, "/f", 0, "user.a", "33", XATTR_REPLACE));
	char buf[8] = { 0 };
	cr_assert_eq(getx(&fx.cred, "/f", 0, "user.a", buf, sizeof buf), 2);
	cr_assert_str_eq(buf, "33");
	/* Overwrite without flags; empty value allowed. */
	FX_ASSERT_OK(setx(&fx.cred, "/f", 0, "user.a", "", 0));
	cr_assert_eq(getx(&fx.cred, "/f", 0, "user.a", buf, sizeof buf), 0);
}

FX_TEST(xattr, on_directories)
{
	fx_must_mkdir("/d", 0755);
	FX_ASSERT_OK(setx(&fx.cred, "/d", 0, "user.dir", "yes", 0));
	char buf[8] = { 0 };
	cr_assert_eq(getx(&fx.cred, "/d", 0, "user.dir", buf, sizeof buf), 3);
}

FX_TEST(xattr, follow_flag_selects_link_or_target)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_symlink("f", "/l"));
	FX_ASSERT_OK(setx(&fx.cred, "/l", UVFS_PATH_FOLLOW, "user.t", "target", 0));
	char buf[16] = { 0 };
	cr_assert_eq(getx(&fx.cred, "/f", 0, "user.t", buf, sizeof buf), 6);
	/* user.* on the symlink itself: refused. */
	FX_ASSERT_ERR(setx(&fx.cred, "/l", 0, "user.t", "link", 0), -EPERM);
	FX_ASSERT_ERR(getx(&fx.cred, "/l", 0, "user.t", buf, sizeof buf), -ENODATA);
}

FX_TEST(xattr, user_namespace_on_special_files_refused)
{
	struct uvfs_pathop p = fx_pop("/fifo");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFIFO | 0666, 0));
	FX_ASSERT_ERR(setx(&fx.cred, "/fifo", 0, "user.a", "v", 0), -EPERM);
}

FX_TEST(xattr, trusted_needs_cap_sys_admin)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chmod("/f", 0666));
	FX_ASSERT_OK(fx_chown("/f", 1000, 1000));
	FX_ASSERT_OK(setx(&fx.cred, "/f", 0, "trusted.t", "root", 0));
	FX_ASSERT_OK(setx(&fx.cred, "/f", 0, "user.u", "u", 0));
	/* Even the owner without CAP_SYS_ADMIN. */
	FX_ASSERT_ERR(setx(&fx.user, "/f", 0, "trusted.x", "v", 0), -EPERM);
	char buf[16];
	FX_ASSERT_ERR(getx(&fx.user, "/f", 0, "trusted.t", buf, sizeof buf), -ENODATA);
	FX_ASSERT_ERR(removex(&fx.user, "/f", "trusted.t"), -EPERM);
	/* Listing hides trusted.* from the unprivileged. */
	char list[128];
	ssize_t n = listx(&fx.user, "/f", list, sizeof list);
	cr_assert_eq(n, (ssize_t)sizeof "user.u", "unprivileged list has %zd bytes", n);
	cr_assert_not(has_name(list, n, "trusted.t"));
	n = listx(&fx.cred, "/f", list, sizeof list);
	cr_assert(has_name(list, n, "trusted.t"));
	/* With the capability. */
	struct uvfs_cred admin = fx_user_with_cap(CAP_SYS_ADMIN);
	cr_assert_eq(getx(&admin, "/f", 0, "trusted.t", buf, sizeof buf), 4);
	FX_ASSERT_OK(setx(&admin, "/f", 0, "trusted.x", "v", 0));
}

FX_TEST(xattr, user_namespace_permissions)
{
	fx_must_write("/f", "x"); /* 0644, root-owned */
	FX_ASSERT_OK(setx(&fx.cred, "/f", 0, "user.a", "v", 0));
	char buf[8];
	cr_assert_eq(getx(&fx.user, "/f", 0, "user.a", buf, sizeof buf), 1, "read permission suffices to get");
	FX_ASSERT_ERR(setx(&fx.user, "/f", 0, "user.b", "v", 0), -EACCES);
	FX_ASSERT_ERR(removex(&fx.user, "/f", "user.a"), -EACCES);
	FX_ASSERT_OK(fx_chmod("/f", 0600));
	FX_ASSERT_ERR(getx(&fx.user, "/f", 0, "user.a", buf, sizeof buf), -EACCES);
}

FX_TEST(xattr, unknown_namespace_eopnotsupp)
{
	fx_must_write("/f", "x");
	FX_ASSERT_ERR(setx(&fx.cred, "/f", 0, "foo.bar", "v", 0), -EOPNOTSUPP);
	char buf[8];
	FX_ASSERT_ERR(getx(&fx.cred, "/f", 0, "foo.bar", buf, sizeof buf), -EOPNOTSUPP);
}

FX_TEST(xattr, missing_path)
{
	char buf[8];
	FX_ASSERT_ERR(getx(&fx.cred, "/nope", 0, "user.a", buf, sizeof buf), -ENOENT);
	FX_ASSERT_ERR(setx(&fx.cred, "/nope", 0, "user.a", "v", 0), -ENOENT);
}

FX_TEST(xattr, survive_rename_and_vanish_with_inode)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(setx(&fx.cred, "/f", 0, "user.keep", "kept", 0));
	struct uvfs_pathop a = fx_pop("/f"), b = fx_pop("/g");
	FX_ASSERT_OK(uvfs_rename_at(fx.vfs, &fx.cred, &a, &b, 0));
	char buf[8] = { 0 };
	cr_assert_eq(getx(&fx.cred, "/g", 0, "user.keep", buf, sizeof buf), 4);
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &b));
	fx_must_write("/g", "new");
	FX_ASSERT_ERR(getx(&fx.cred, "/g", 0, "user.keep", buf, sizeof buf), -ENODATA);
}
