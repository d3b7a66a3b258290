/* ov.h — overlay test helpers: two tmpfs lower layers (/l1 over /l2), a
 * tmpfs holding upper and work (/up/u, /up/w), the overlay at /m. */
#pragma once

#include <linux/fs.h>
#include <stdlib.h>
#include <sys/xattr.h>

#include "fixture.h"
#include "fsimpl/overlay/overlay.h"

static inline void ov_layers(void)
{
	cr_assert_eq(uvfs_register_fs_type(fx.vfs, &uvfs_overlay_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST), 0);
	fx_must_mkdir("/l1", 0755);
	fx_must_mkdir("/l2", 0755);
	fx_must_mkdir("/up", 0755);
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/l1", NULL, 0));
	FX_ASSERT_OK(fx_mount_tmpfs("/l2", NULL, 0));
	FX_ASSERT_OK(fx_mount_tmpfs("/up", NULL, 0));
	FX_ASSERT_OK(fx_chmod("/l1", 0755));
	FX_ASSERT_OK(fx_chmod("/l2", 0755));
	fx_must_mkdir("/up/u", 0755);
	fx_must_mkdir("/up/w", 0755);
}

static inline int ov_mount_data(const char *data)
{
	struct uvfs_overlay_opts in = { .root = fx.root };
	struct uvfs_mount_opts mo = { .data = data, .internal = &in };
	struct uvfs_pathop t = fx_pop("/m");
	return uvfs_mount_at(fx.vfs, &fx.cred, "overlay", &t, "overlay", &mo);
}

static inline void ov_mount(void)
{
	FX_ASSERT_OK(ov_mount_data("lowerdir=/l1:/l2,upperdir=/up/u,workdir=/up/w"));
}

static inline int ov_unlink(const char *p)
{
	struct uvfs_pathop pp = fx_pop(p);
	return uvfs_unlink_at(fx.vfs, &fx.cred, &pp);
}
static inline int ov_rmdir(const char *p)
{
	struct uvfs_pathop pp = fx_pop(p);
	return uvfs_rmdir_at(fx.vfs, &fx.cred, &pp);
}
static inline int ov_rename(const char *a, const char *b, unsigned fl)
{
	struct uvfs_pathop pa = fx_pop(a), pb = fx_pop(b);
	return uvfs_rename_at(fx.vfs, &fx.cred, &pa, &pb, fl);
}
static inline int ov_link(const char *a, const char *b)
{
	struct uvfs_pathop pa = fx_pop(a), pb = fx_pop(b);
	return uvfs_link_at(fx.vfs, &fx.cred, &pa, &pb);
}
static inline int ov_whiteout(const char *p)
{
	struct uvfs_pathop pp = fx_pop(p);
	return uvfs_whiteout_at(fx.vfs, &fx.cred, &pp);
}
static inline int ov_setx(const char *p, const char *name, const char *v)
{
	struct uvfs_pathop pp = fx_pop(p);
	return uvfs_setxattr_at(fx.vfs, &fx.cred, &pp, name, v, strlen(v), 0);
}
static inline ssize_t ov_getx(const char *p, const char *name, char *buf, size_t len)
{
	struct uvfs_pathop pp = fx_pop(p);
	return uvfs_getxattr_at(fx.vfs, &fx.cred, &pp, name, buf, len);
}
static inline void ov_expect_file(const char *p, const char *content)
{
	char buf[4096];
	ssize_t n = fx_read_file(p, buf, sizeof buf);
	cr_assert_geq(n, 0, "read %s: %s", p, fx_err(n));
	cr_assert_str_eq(buf, content, "%s", p);
}
static inline void ov_expect_list(const char *dir, const char *want)
{
	char got[4096];
	fx_list_dir(dir, got, sizeof got);
	cr_assert_str_eq(got, want, "readdir %s", dir);
}
static inline bool ov_is_whiteout(const char *p)
{
	struct statx st;
	return fx_lstat(p, &st) == 0 && S_ISCHR(st.stx_mode) && st.stx_rdev_major == 0 && st.stx_rdev_minor == 0;
}
