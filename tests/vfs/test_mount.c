/* test_mount.c — mounts, namespaces, read-only, umount/detach, crossing,
 * synthetic mount points, connect stacking. */
#include "fixture.h"

#include <sys/statvfs.h>

static int exists(const char *path)
{
	struct statx st;
	int rc = fx_lstat(path, &st);
	cr_assert(rc == 0 || rc == -ENOENT, "lstat %s: %s", path, fx_err(rc));
	return rc == 0;
}

static void get_vd(const char *path, struct uvfs_vd *out)
{
	struct uvfs_pathop p = fx_popf(path);
	int rc = uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, out);
	cr_assert_eq(rc, 0, "get_dentry_at %s: %s", path, fx_err(rc));
}

static uint32_t devminor(const char *path)
{
	struct statx st;
	FX_ASSERT_OK(fx_lstat(path, &st));
	return st.stx_dev_minor | (st.stx_dev_major << 20);
}

FX_TEST(mount, mount_hides_and_umount_reveals)
{
	fx_must_mkdir("/m", 0755);
	fx_must_write("/m/under", "u");
	uint64_t under_dir = fx_ino("/m");
	uint32_t dev_parent = devminor("/");
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	cr_assert_not(exists("/m/under"));
	cr_assert_neq(devminor("/m"), dev_parent, "mounted root has its own st_dev");
	cr_assert_eq(devminor("/m/.."), dev_parent);
	fx_must_write("/m/over", "o");
	char list[256];
	fx_list_dir("/m", list, sizeof list);
	cr_assert_str_eq(list, "over");
	FX_ASSERT_OK(fx_umount("/m", 0));
	cr_assert(exists("/m/under"));
	cr_assert_not(exists("/m/over"));
	cr_assert_eq(fx_ino("/m"), under_dir);
	fx_list_dir("/m", list, sizeof list);
	cr_assert_str_eq(list, "under");
}

FX_TEST(mount, mount_options_reach_the_filesystem)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", "mode=0700,uid=1000,gid=1000", 0));
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/m", &st));
	cr_assert_eq(st.stx_mode, S_IFDIR | 0700);
	cr_assert_eq(st.stx_uid, 1000);
	cr_assert_eq(st.stx_gid, 1000);
	fx_must_mkdir("/m2", 0755);
	FX_ASSERT_ERR(fx_mount_tmpfs("/m2", "bogus_option=1", 0), -EINVAL);
	FX_ASSERT_ERR(fx_mount_tmpfs("/m2", "mode=0700,bogus", 0), -EINVAL);
	cr_assert_eq(devminor("/m2"), devminor("/"), "failed mount must leave nothing mounted");
}

FX_TEST(mount, mount_errors)
{
	FX_ASSERT_ERR(fx_mount_tmpfs("/missing", NULL, 0), -ENOENT);
	FX_ASSERT_ERR(fx_mount_tmpfs("/missing/deeper", NULL, 0), -ENOENT);
	fx_must_mkdir("/m", 0755);
	struct uvfs_pathop p = fx_popf("/m");
	struct uvfs_mount_opts o = { 0 };
	FX_ASSERT_ERR(uvfs_mount_at(fx.vfs, &fx.cred, "none", &p, "nosuchfs", &o), -ENODEV);
}

FX_TEST(mount, stacking_mount_at)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	fx_must_write("/m/a", "a");
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	cr_assert_not(exists("/m/a"));
	fx_must_write("/m/b", "b");
	FX_ASSERT_OK(fx_umount("/m", 0));
	cr_assert(exists("/m/a"));
	cr_assert_not(exists("/m/b"));
	FX_ASSERT_OK(fx_umount("/m", 0));
	cr_assert_not(exists("/m/a"));
	FX_ASSERT_ERR(fx_umount("/m", 0), -EINVAL);
}

FX_TEST(mount, connect_disconnected_mount_stacks_on_top)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	fx_must_write("/m/lower", "l");
	struct uvfs_mount_opts o = { 0 };
	struct uvfs_mount *mnt = NULL;
	FX_ASSERT_OK(uvfs_mount_disconnected(fx.vfs, &fx.cred, "none", "tmpfs", &o, &mnt));
	cr_assert_not_null(mnt);
	cr_assert_not_null(uvfs_mount_root(mnt));
	cr_assert_not_null(uvfs_mount_fs(mnt));
	/* Populate it while disconnected. */
	struct uvfs_vd mroot = { .mount = mnt, .dentry = uvfs_mount_root(mnt) };
	struct uvfs_pathop p = { .root = mroot, .start = mroot, .path = "upper", .flags = 0 };
	FX_ASSERT_OK(uvfs_mkdir_at(fx.vfs, &fx.cred, &p, 0755));
	/* ".." at a disconnected mount's root stays. */
	p.path = "upper/../..";
	struct statx st;
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st));
	p.path = ".";
	struct statx st2;
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st2));
	cr_assert_eq(st.stx_ino, st2.stx_ino);
	struct uvfs_pathop target = fx_popf("/m");
	FX_ASSERT_OK(uvfs_connect_mount_at(fx.vfs, &fx.cred, mnt, &target));
	uvfs_mount_put(mnt); /* the caller keeps its own reference */
	cr_assert(S_ISDIR(fx_mode("/m/upper")));
	cr_assert_not(exists("/m/lower"));
	FX_ASSERT_OK(fx_umount("/m", 0));
	cr_assert(exists("/m/lower"));
}

FX_TEST(mount, umount_not_a_mount_point_einval)
{
	fx_must_mkdir("/d", 0755);
	FX_ASSERT_ERR(fx_umount("/d", 0), -EINVAL);
	FX_ASSERT_ERR(fx_umount("/", 0), -EINVAL);
	FX_ASSERT_ERR(fx_umount("/missing", 0), -ENOENT);
	/* A directory inside a mount is not the mount's root. */
	FX_ASSERT_OK(fx_mount_tmpfs("/d", NULL, 0));
	fx_must_mkdir("/d/sub", 0755);
	FX_ASSERT_ERR(fx_umount("/d/sub", 0), -EINVAL);
}

FX_TEST(mount, umount_busy_and_detach)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/m/x", O_CREAT | O_RDWR, 0644, &f));
	FX_ASSERT_ERR(fx_umount("/m", 0), -EBUSY);
	cr_assert(exists("/m/x"));
	FX_ASSERT_OK(fx_umount("/m", UVFS_UMOUNT_DETACH));
	cr_assert_not(exists("/m/x"));
	/* The open file keeps working on the detached mount. */
	cr_assert_eq(uvfs_write(f, "abc", 3), 3);
	char buf[4] = { 0 };
	cr_assert_eq(uvfs_pread(f, buf, 3, 0), 3);
	cr_assert_str_eq(buf, "abc");
	uvfs_file_put(f);
}

FX_TEST(mount, umount_busy_with_held_vd)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	fx_must_mkdir("/m/in", 0755);
	struct uvfs_vd vd;
	get_vd("/m/in", &vd);
	FX_ASSERT_ERR(fx_umount("/m", 0), -EBUSY);
	uvfs_vd_put(&vd);
	FX_ASSERT_OK(fx_umount("/m", 0));
}

FX_TEST(mount, umount_busy_with_submount)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	fx_must_mkdir("/m/sub", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m/sub", NULL, 0));
	fx_must_write("/m/sub/deep", "x");
	FX_ASSERT_ERR(fx_umount("/m", 0), -EBUSY);
	/* Detach takes the whole subtree. */
	FX_ASSERT_OK(fx_umount("/m", UVFS_UMOUNT_DETACH));
	cr_assert_not(exists("/m/sub"));
}

FX_TEST(mount, readonly_mount_erofs)
{
	fx_must_mkdir("/m", 0755);
	struct uvfs_mount *mnt = NULL;
	struct uvfs_mount_opts o = { 0 };
	/* Populate then connect read-only by flipping the bit. */
	FX_ASSERT_OK(uvfs_mount_disconnected(fx.vfs, &fx.cred, "none", "tmpfs", &o, &mnt));
	struct uvfs_vd mroot = { .mount = mnt, .dentry = uvfs_mount_root(mnt) };
	struct uvfs_pathop p = { .root = mroot, .start = mroot, .path = "file", .flags = 0 };
	struct uvfs_file *f;
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.cred, &p, O_CREAT | O_WRONLY, 0644, 0, &f));
	cr_assert_eq(uvfs_write(f, "data", 4), 4);
	uvfs_file_put(f);
	p.path = "dir";
	FX_ASSERT_OK(uvfs_mkdir_at(fx.vfs, &fx.cred, &p, 0755));
	FX_ASSERT_OK(uvfs_set_mount_readonly(mnt, true));
	cr_assert(uvfs_mount_readonly(mnt));
	struct uvfs_pathop t = fx_popf("/m");
	FX_ASSERT_OK(uvfs_connect_mount_at(fx.vfs, &fx.cred, mnt, &t));
	uvfs_mount_put(mnt);

	FX_ASSERT_ERR(fx_mkdir("/m/new", 0755), -EROFS);
	FX_ASSERT_ERR(fx_open("/m/file", O_WRONLY, 0, &f), -EROFS);
	FX_ASSERT_ERR(fx_open("/m/file", O_RDWR, 0, &f), -EROFS);
	FX_ASSERT_ERR(fx_open("/m/newf", O_CREAT | O_WRONLY, 0644, &f), -EROFS);
	FX_ASSERT_ERR(fx_symlink("x", "/m/l"), -EROFS);
	FX_ASSERT_ERR(fx_chmod("/m/file", 0600), -EROFS);
	struct uvfs_pathop a = fx_pop("/m/file"), b = fx_pop("/m/file2"), d = fx_pop("/m/dir");
	FX_ASSERT_ERR(uvfs_unlink_at(fx.vfs, &fx.cred, &a), -EROFS);
	FX_ASSERT_ERR(uvfs_rmdir_at(fx.vfs, &fx.cred, &d), -EROFS);
	FX_ASSERT_ERR(uvfs_rename_at(fx.vfs, &fx.cred, &a, &b, 0), -EROFS);
	FX_ASSERT_ERR(uvfs_link_at(fx.vfs, &fx.cred, &a, &b), -EROFS);
	FX_ASSERT_ERR(uvfs_mknod_at(fx.vfs, &fx.cred, &b, S_IFIFO | 0644, 0), -EROFS);
	FX_ASSERT_ERR(uvfs_setxattr_at(fx.vfs, &fx.cred, &a, "user.x", "1", 1, 0), -EROFS);
	/* Existing-name errors win over EROFS (Linux order). */
	FX_ASSERT_ERR(fx_mkdir("/m/dir", 0755), -EEXIST);
	/* Reads work. */
	char buf[8];
	cr_assert_eq(fx_read_file("/m/file", buf, sizeof buf), 4);
	cr_assert_str_eq(buf, "data");
	/* The parent mount stays writable. */
	fx_must_mkdir("/rw", 0755);
}

FX_TEST(mount, readonly_flag_at_mount_time)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, UVFS_MNT_RDONLY));
	FX_ASSERT_ERR(fx_mkdir("/m/x", 0755), -EROFS);
	struct uvfs_vd vd;
	get_vd("/m", &vd);
	cr_assert(uvfs_mount_readonly(vd.mount));
	cr_assert_not(uvfs_mount_readonly(fx.root.mount));
	FX_ASSERT_OK(uvfs_set_mount_readonly(vd.mount, false));
	FX_ASSERT_OK(fx_mkdir("/m/x", 0755));
	uvfs_vd_put(&vd);
}

FX_TEST(mount, set_readonly_ebusy_with_writers)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	struct uvfs_vd vd;
	get_vd("/m", &vd);
	struct uvfs_file *w, *r;
	FX_ASSERT_OK(fx_open("/m/f", O_CREAT | O_WRONLY, 0644, &w));
	FX_ASSERT_OK(fx_open("/m/f", O_RDONLY, 0, &r));
	FX_ASSERT_ERR(uvfs_set_mount_readonly(vd.mount, true), -EBUSY);
	cr_assert_not(uvfs_mount_readonly(vd.mount));
	uvfs_file_put(w);
	/* A reader does not count as a writer. */
	FX_ASSERT_OK(uvfs_set_mount_readonly(vd.mount, true));
	cr_assert(uvfs_mount_readonly(vd.mount));
	FX_ASSERT_OK(uvfs_set_mount_readonly(vd.mount, true)); /* no-op */
	FX_ASSERT_ERR(fx_open("/m/f", O_WRONLY, 0, &w), -EROFS);
	FX_ASSERT_OK(uvfs_set_mount_readonly(vd.mount, false));
	FX_ASSERT_OK(fx_open("/m/f", O_WRONLY, 0, &w));
	uvfs_file_put(w);
	uvfs_file_put(r);
	uvfs_vd_put(&vd);
}

FX_TEST(mount, noexec_mount)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, UVFS_MNT_NOEXEC));
	fx_must_write("/m/prog", "#!");
	FX_ASSERT_OK(fx_chmod("/m/prog", 0755));
	struct uvfs_pathop p = fx_popf("/m/prog");
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(uvfs_open_at(fx.vfs, &fx.cred, &p, O_RDONLY, 0, UVFS_OPEN_EXEC, &f), -EACCES);
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.cred, &p, O_RDONLY, 0, 0, &f));
	uvfs_file_put(f);
	struct uvfs_vd vd;
	get_vd("/m", &vd);
	cr_assert(uvfs_mount_flags(vd.mount) & UVFS_MNT_NOEXEC);
	uvfs_vd_put(&vd);
	/* The same file on an exec mount opens for exec. */
	fx_must_write("/prog", "#!");
	FX_ASSERT_OK(fx_chmod("/prog", 0755));
	p = fx_popf("/prog");
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.cred, &p, O_RDONLY, 0, UVFS_OPEN_EXEC, &f));
	uvfs_file_put(f);
}

FX_TEST(mount, synthetic_mountpoint)
{
	FX_ASSERT_OK(uvfs_make_synthetic_mountpoint(fx.vfs, &fx.cred, "/a/b/c", &fx.root));
	cr_assert_eq(fx_mode("/a"), S_IFDIR | 0755);
	cr_assert_eq(fx_mode("/a/b"), S_IFDIR | 0755);
	cr_assert_eq(fx_mode("/a/b/c"), S_IFDIR | 0755);
	/* Again: existing is fine. */
	FX_ASSERT_OK(uvfs_make_synthetic_mountpoint(fx.vfs, &fx.cred, "/a/b/c", &fx.root));
	/* An existing regular file as the final component is accepted. */
	fx_must_write("/a/file", "x");
	FX_ASSERT_OK(uvfs_make_synthetic_mountpoint(fx.vfs, &fx.cred, "/a/file", &fx.root));
	cr_assert(S_ISREG(fx_mode("/a/file")));
	/* A file in the middle is not. */
	FX_ASSERT_ERR(uvfs_make_synthetic_mountpoint(fx.vfs, &fx.cred, "/a/file/x", &fx.root), -ENOTDIR);
	/* Mount on it. */
	FX_ASSERT_OK(fx_mount_tmpfs("/a/b/c", NULL, 0));
	fx_must_write("/a/b/c/in", "x");
	cr_assert_eq(fx_ino("/a/b/c/../.."), fx_ino("/a"));
}

FX_TEST(mount, mount_on_symlink_follows_it)
{
	fx_must_mkdir("/real", 0755);
	FX_ASSERT_OK(fx_symlink("real", "/link"));
	FX_ASSERT_OK(fx_mount_tmpfs("/link", NULL, 0));
	fx_must_write("/link/x", "x");
	cr_assert(exists("/real/x"), "the mount sits on the symlink's target");
	cr_assert(S_ISLNK(fx_mode("/link")));
}

FX_TEST(mount, crossing_in_the_middle_and_at_the_end)
{
	fx_must_mkdir("/a", 0755);
	fx_must_mkdir("/a/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/a/m", NULL, 0));
	fx_must_mkdir("/a/m/b", 0755);
	fx_must_mkdir("/a/m/b/m2", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/a/m/b/m2", NULL, 0));
	fx_must_write("/a/m/b/m2/leaf", "leaf");
	char buf[8];
	cr_assert_eq(fx_read_file("/a/m/b/m2/leaf", buf, sizeof buf), 4);
	cr_assert_str_eq(buf, "leaf");
	cr_assert_eq(fx_ino("/a/m/b/m2/../../.."), fx_ino("/a"));
	/* get_dentry_at of a mount point yields the mounted root. */
	struct uvfs_vd vd;
	get_vd("/a/m", &vd);
	cr_assert_neq(vd.mount, fx.root.mount);
	cr_assert_eq(vd.dentry, uvfs_mount_root(vd.mount));
	uvfs_vd_put(&vd);
	/* Readdir of the parent lists the mount point name. */
	char list[64];
	fx_list_dir("/a", list, sizeof list);
	cr_assert_str_eq(list, "m");
}

FX_TEST(mount, second_namespace_is_independent)
{
	struct uvfs_mntns *ns2 = NULL;
	struct uvfs_mount_opts o = { 0 };
	FX_ASSERT_OK(uvfs_mntns_new(fx.vfs, &fx.cred, "none", "tmpfs", &o, &ns2));
	struct uvfs_vd r2;
	uvfs_mntns_root(ns2, &r2);
	cr_assert_neq(r2.mount, fx.root.mount);
	fx_must_write("/only_in_1", "x");
	struct uvfs_pathop p = { .root = r2, .start = r2, .path = "/only_in_1" };
	struct statx st;
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st), -ENOENT);
	p.path = "/m";
	FX_ASSERT_OK(uvfs_mkdir_at(fx.vfs, &fx.cred, &p, 0755));
	struct uvfs_mount_opts mo = { 0 };
	p.flags = UVFS_PATH_FOLLOW;
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "none", &p, "tmpfs", &mo));
	/* Dropping the namespace tears down its mounts. */
	uvfs_vd_put(&r2);
	uvfs_mntns_put(ns2);
}

FX_TEST(mount, namespace_put_with_many_mounts_leaks_nothing)
{
	char path[32];
	for (int i = 0; i < 8; i++) {
		snprintf(path, sizeof path, "/m%d", i);
		fx_must_mkdir(path, 0755);
		FX_ASSERT_OK(fx_mount_tmpfs(path, NULL, 0));
		snprintf(path, sizeof path, "/m%d/sub", i);
		fx_must_mkdir(path, 0755);
		FX_ASSERT_OK(fx_mount_tmpfs(path, NULL, 0));
		snprintf(path, sizeof path, "/m%d/sub/f", i);
		fx_must_write(path, "x");
	}
	struct uvfs_live live;
	uvfs_live_counts(fx.vfs, &live);
	cr_assert_geq(live.mounts, 17, "1 root + 16 mounts, got %ld", live.mounts);
	cr_assert_geq(live.filesystems, 17);
	/* fx_teardown checks that everything goes away. */
}

FX_TEST(mount, detached_mount_dies_with_last_file)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/m/x", O_CREAT | O_RDWR, 0644, &f));
	struct uvfs_live before, after;
	uvfs_live_counts(fx.vfs, &before);
	FX_ASSERT_OK(fx_umount("/m", UVFS_UMOUNT_DETACH));
	uvfs_file_put(f);
	uvfs_live_counts(fx.vfs, &after);
	cr_assert_eq(after.mounts, before.mounts - 1, "mounts %ld -> %ld", before.mounts, after.mounts);
	cr_assert_eq(after.filesystems, before.filesystems - 1);
	cr_assert_eq(after.files, before.files - 1);
}

FX_TEST(mount, nodev_mount_refuses_device_nodes)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, UVFS_MNT_NODEV));
	struct uvfs_pathop p = fx_pop("/m/null");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFCHR | 0666, makedev(1, 3)));
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/m/null", O_RDONLY, 0, &f), -EACCES);
	cr_assert_null(f);
}

FX_TEST(mount, access_w_ok_on_readonly_mount_erofs)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	fx_must_write("/m/f", "x");
	FX_ASSERT_OK(fx_chmod("/m/f", 0666));
	struct uvfs_vd vd;
	get_vd("/m", &vd);
	FX_ASSERT_OK(uvfs_set_mount_readonly(vd.mount, true));
	struct uvfs_pathop p = fx_popf("/m/f");
	FX_ASSERT_ERR(uvfs_access_at(fx.vfs, &fx.cred, &p, W_OK), -EROFS);
	FX_ASSERT_OK(uvfs_access_at(fx.vfs, &fx.cred, &p, R_OK));
	p = fx_popf("/m");
	FX_ASSERT_ERR(uvfs_access_at(fx.vfs, &fx.cred, &p, W_OK), -EROFS);
	struct uvfs_setattr a = { .mask = STATX_SIZE, .size = 0 };
	p = fx_popf("/m/f");
	FX_ASSERT_ERR(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &a, UVFS_SETATTR_NEED_WRITE), -EROFS);
	uvfs_vd_put(&vd);
}

FX_TEST(mount, statfs_flags_reflect_mount_flags)
{
	fx_must_mkdir("/ro", 0755);
	fx_must_mkdir("/ne", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/ro", NULL, UVFS_MNT_RDONLY));
	FX_ASSERT_OK(fx_mount_tmpfs("/ne", NULL, UVFS_MNT_NOEXEC | UVFS_MNT_NOSUID));
	struct statfs sf;
	struct uvfs_pathop p = fx_popf("/ro");
	FX_ASSERT_OK(uvfs_statfs_at(fx.vfs, &fx.cred, &p, &sf));
	cr_assert(sf.f_flags & ST_RDONLY, "f_flags %#lx", (unsigned long)sf.f_flags);
	cr_assert_not(sf.f_flags & ST_NOEXEC);
	p = fx_popf("/ne");
	FX_ASSERT_OK(uvfs_statfs_at(fx.vfs, &fx.cred, &p, &sf));
	cr_assert(sf.f_flags & ST_NOEXEC, "f_flags %#lx", (unsigned long)sf.f_flags);
	cr_assert(sf.f_flags & ST_NOSUID);
	cr_assert_not(sf.f_flags & ST_RDONLY);
}

FX_TEST(mount, umount_bad_flags_einval)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	FX_ASSERT_ERR(fx_umount("/m", 0x100), -EINVAL);
	fx_must_write("/m/still", "x");
}

static int64_t atime_of(const char *path)
{
	struct statx st;
	FX_ASSERT_OK(fx_lstat(path, &st));
	return st.stx_atime.tv_sec;
}

FX_TEST(mount, noatime_mount_keeps_atime)
{
	fx_must_mkdir("/na", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/na", NULL, UVFS_MNT_NOATIME));
	fx_must_write("/na/f", "data");
	fx_must_write("/f", "data");
	struct uvfs_setattr a = { .mask = STATX_ATIME, .atime = { 1, 0 } };
	struct uvfs_pathop p = fx_popf("/na/f");
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &a, 0));
	p = fx_popf("/f");
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &a, 0));
	char buf[8];
	cr_assert_eq(fx_read_file("/na/f", buf, sizeof buf), 4);
	cr_assert_eq(fx_read_file("/f", buf, sizeof buf), 4);
	cr_assert_eq(atime_of("/na/f"), 1, "noatime: a read must not touch atime");
	cr_assert_gt(atime_of("/f"), 1000000000, "a read must update an ancient atime");
}

FX_TEST(mount, namespace_put_before_open_file)
{
	/* The namespace (and its mounts) go first; a file open on a submount
	 * keeps working and releases everything when put. */
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	fx_must_mkdir("/m/sub", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m/sub", NULL, 0));
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/m/sub/x", O_CREAT | O_RDWR, 0644, &f));
	struct uvfs_vd held;
	get_vd("/m", &held);
	uvfs_vd_put(&fx.root);
	uvfs_mntns_put(fx.ns);
	cr_assert_eq(uvfs_pwrite(f, "late", 4, 0), 4);
	char buf[8] = { 0 };
	cr_assert_eq(uvfs_pread(f, buf, 4, 0), 4);
	cr_assert_str_eq(buf, "late");
	/* The held vd still resolves relative paths inside its own mount. */
	struct uvfs_pathop p = { .root = held, .start = held, .path = "sub" };
	struct statx st;
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st));
	uvfs_file_put(f);
	uvfs_vd_put(&held);
	fx_destroy_checked(fx.vfs);
	/* fx_teardown must not run again: re-create an empty fixture. */
	fx_setup();
}
