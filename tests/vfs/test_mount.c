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

/* ------------------------------------------------ bind and enumeration */

static int bind(const char *src, const char *dst, unsigned flags)
{
	struct uvfs_pathop s = fx_popf(src), d = fx_popf(dst);
	return uvfs_bind_at(fx.vfs, &fx.cred, &s, &d, flags);
}

static ssize_t show(const struct uvfs_vd *root, int format, char *out, size_t len)
{
	char *text = NULL;
	ssize_t n = uvfs_mntns_show(fx.ns, root, format, &text);
	cr_assert(n >= 0, "mntns_show: %s", fx_err(n));
	cr_assert_eq(strlen(text), (size_t)n);
	snprintf(out, len, "%s", text);
	free(text);
	return n;
}

/* mountinfo with the ids and device numbers replaced by letters, so the
 * expected text does not depend on allocation order. */
static void show_info_shape(const struct uvfs_vd *root, char *out, size_t len)
{
	char text[4096];
	show(root, UVFS_SHOW_MOUNTINFO, text, sizeof text);
	size_t o = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long id, pid;
		unsigned ma, mi;
		int skip;
		cr_assert_eq(sscanf(line, "%llu %llu %u:%u %n", &id, &pid, &ma, &mi, &skip), 4, "%s", line);
		o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "|" : "", line + skip);
	}
}

FX_TEST(mount, bind_shows_the_subtree_at_a_second_place)
{
	fx_must_mkdir("/src", 0755);
	fx_must_mkdir("/src/sub", 0755);
	fx_must_write("/src/sub/f", "data");
	fx_must_mkdir("/b", 0755);
	FX_ASSERT_OK(bind("/src/sub", "/b", 0));
	char buf[64];
	cr_assert_eq(fx_read_file("/b/f", buf, sizeof buf), 4);
	cr_assert_str_eq(buf, "data");
	cr_assert_eq(fx_ino("/b"), fx_ino("/src/sub"));
	cr_assert_eq(devminor("/b"), devminor("/src"), "a bind shares the filesystem");
	fx_must_write("/b/g", "new");
	cr_assert(exists("/src/sub/g"));
	/* ".." at the bind root leaves through the mountpoint, not into /src. */
	cr_assert_eq(fx_ino("/b/.."), fx_ino("/"));
	FX_ASSERT_ERR(fx_umount("/src/sub", 0), -EINVAL);
	FX_ASSERT_OK(fx_umount("/b", 0));
	cr_assert_not(exists("/b/f"));
	cr_assert(exists("/src/sub/f"));
}

FX_TEST(mount, bind_errors)
{
	fx_must_mkdir("/d", 0755);
	fx_must_mkdir("/d2", 0755);
	fx_must_write("/f", "x");
	fx_must_write("/f2", "y");
	struct uvfs_pathop s = fx_popf("/d"), t = fx_popf("/d2");
	FX_ASSERT_ERR(uvfs_bind_at(fx.vfs, &fx.user, &s, &t, 0), -EPERM);
	struct uvfs_cred admin = fx_user_with_cap(CAP_SYS_ADMIN);
	FX_ASSERT_OK(uvfs_bind_at(fx.vfs, &admin, &s, &t, 0));
	FX_ASSERT_OK(fx_umount("/d2", 0));
	FX_ASSERT_ERR(uvfs_bind_at(fx.vfs, &fx.cred, &s, &t, 0x100), -EINVAL);
	FX_ASSERT_ERR(bind("/missing", "/d2", 0), -ENOENT);
	FX_ASSERT_ERR(bind("/d", "/missing", 0), -ENOENT);
	/* Linux graft_tree: a directory over a file or a file over a directory. */
	FX_ASSERT_ERR(bind("/d", "/f", 0), -ENOTDIR);
	FX_ASSERT_ERR(bind("/f", "/d", 0), -ENOTDIR);
	FX_ASSERT_OK(bind("/f", "/f2", 0));
	char buf[8];
	cr_assert_eq(fx_read_file("/f2", buf, sizeof buf), 1);
	cr_assert_str_eq(buf, "x");
	FX_ASSERT_OK(fx_umount("/f2", 0));
	/* A deleted target: -ENOENT. */
	struct uvfs_vd gone;
	fx_must_mkdir("/gone", 0755);
	get_vd("/gone", &gone);
	struct uvfs_pathop rm = fx_pop("/gone");
	FX_ASSERT_OK(uvfs_rmdir_at(fx.vfs, &fx.cred, &rm));
	struct uvfs_pathop g = fx_pop_at(&gone, "", UVFS_PATH_EMPTY);
	FX_ASSERT_ERR(uvfs_bind_at(fx.vfs, &fx.cred, &s, &g, 0), -ENOENT);
	uvfs_vd_put(&gone);
	/* A source outside the namespace (lazily umounted): -EINVAL. */
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	struct uvfs_vd m;
	get_vd("/m", &m);
	FX_ASSERT_OK(fx_umount("/m", UVFS_UMOUNT_DETACH));
	struct uvfs_pathop ms = fx_pop_at(&m, "", UVFS_PATH_EMPTY);
	FX_ASSERT_ERR(uvfs_bind_at(fx.vfs, &fx.cred, &ms, &t, 0), -EINVAL);
	uvfs_vd_put(&m);
	/* ... or in another namespace. */
	struct uvfs_mntns *ns2;
	struct uvfs_vd root2;
	FX_ASSERT_OK(uvfs_mntns_new(fx.vfs, &fx.cred, "none", "tmpfs", NULL, &ns2));
	uvfs_mntns_root(ns2, &root2);
	struct uvfs_pathop o = { .root = root2, .start = root2, .path = "/" };
	FX_ASSERT_ERR(uvfs_bind_at(fx.vfs, &fx.cred, &o, &t, 0), -EINVAL);
	uvfs_vd_put(&root2);
	uvfs_mntns_put(ns2);
}

FX_TEST(mount, bind_keeps_the_source_mount_flags)
{
	fx_must_mkdir("/ro", 0755);
	fx_must_mkdir("/b", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/ro", NULL, UVFS_MNT_RDONLY | UVFS_MNT_NOEXEC));
	FX_ASSERT_OK(bind("/ro", "/b", 0));
	FX_ASSERT_ERR(fx_mkdir("/b/x", 0755), -EROFS);
	struct uvfs_vd b;
	get_vd("/b", &b);
	cr_assert_eq(uvfs_mount_flags(b.mount), UVFS_MNT_RDONLY | UVFS_MNT_NOEXEC);
	uvfs_vd_put(&b);
	FX_ASSERT_OK(fx_umount("/b", 0));
	FX_ASSERT_OK(fx_umount("/ro", 0));
}

FX_TEST(mount, recursive_bind_copies_submounts)
{
	fx_must_mkdir("/src", 0755);
	fx_must_mkdir("/src/in", 0755);
	fx_must_mkdir("/src/in/sub", 0755);
	fx_must_mkdir("/src/out", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/src/in/sub", NULL, 0));
	fx_must_mkdir("/src/in/sub/deep", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/src/in/sub/deep", NULL, 0));
	fx_must_write("/src/in/sub/deep/f", "d");
	FX_ASSERT_OK(fx_mount_tmpfs("/src/out", NULL, 0));
	fx_must_mkdir("/plain", 0755);
	fx_must_mkdir("/rec", 0755);
	FX_ASSERT_OK(bind("/src/in", "/plain", 0));
	FX_ASSERT_OK(bind("/src/in", "/rec", UVFS_BIND_REC));
	cr_assert_not(exists("/plain/sub/deep"), "a plain bind leaves submounts behind");
	cr_assert(exists("/rec/sub/deep/f"));
	cr_assert_eq(devminor("/rec/sub/deep"), devminor("/src/in/sub/deep"));
	char shape[1024];
	show_info_shape(&fx.root, shape, sizeof shape);
	cr_assert_str_eq(shape, "/ / rw - tmpfs none rw"
				"|/ /src/in/sub rw - tmpfs none rw"
				"|/ /src/in/sub/deep rw - tmpfs none rw"
				"|/ /src/out rw - tmpfs none rw"
				"|/src/in /plain rw - tmpfs none rw"
				"|/src/in /rec rw - tmpfs none rw"
				"|/ /rec/sub rw - tmpfs none rw"
				"|/ /rec/sub/deep rw - tmpfs none rw");
	/* The copy is its own tree: umounting the original leaves it. */
	FX_ASSERT_OK(fx_umount("/src/in/sub/deep", 0));
	cr_assert(exists("/rec/sub/deep/f"));
	FX_ASSERT_ERR(fx_umount("/rec/sub", 0), -EBUSY);
	FX_ASSERT_OK(fx_umount("/rec", UVFS_UMOUNT_DETACH));
}

/* mount --rbind / /mnt: the copy is made before it is attached, so it does
 * not contain itself. */
FX_TEST(mount, recursive_bind_into_itself_terminates)
{
	fx_must_mkdir("/a", 0755);
	fx_must_mkdir("/mnt", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/a", NULL, 0));
	FX_ASSERT_OK(bind("/", "/mnt", UVFS_BIND_REC));
	char shape[1024];
	show_info_shape(&fx.root, shape, sizeof shape);
	cr_assert_str_eq(shape, "/ / rw - tmpfs none rw"
				"|/ /a rw - tmpfs none rw"
				"|/ /mnt rw - tmpfs none rw"
				"|/ /mnt/a rw - tmpfs none rw");
	cr_assert(exists("/mnt/mnt"));
	cr_assert_not(exists("/mnt/mnt/a"));
}

struct collect {
	int n;
	uint64_t ids[16], parents[16];
	char points[16][64];
	int stop_after;
};

static int collect_cb(void *arg, const struct uvfs_mount_info *mi)
{
	struct collect *c = arg;
	cr_assert_lt(c->n, 16);
	c->ids[c->n] = mi->id;
	c->parents[c->n] = mi->parent_id;
	snprintf(c->points[c->n], sizeof c->points[0], "%s", mi->mount_point);
	c->n++;
	return c->n == c->stop_after ? 42 : 0;
}

FX_TEST(mount, enumeration_order_ids_and_stop)
{
	fx_must_mkdir("/a", 0755);
	fx_must_mkdir("/b", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/a", NULL, 0));
	FX_ASSERT_OK(fx_mount_tmpfs("/b", NULL, 0));
	fx_must_mkdir("/a/c", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/a/c", NULL, 0));
	/* A disconnected mount made before /x exists, then connected under
	 * it: its id is lower than its parent's, and it still comes after. */
	struct uvfs_mount *early;
	FX_ASSERT_OK(uvfs_mount_disconnected(fx.vfs, &fx.cred, "early", "tmpfs", NULL, &early));
	fx_must_mkdir("/x", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/x", NULL, 0));
	fx_must_mkdir("/x/e", 0755);
	struct uvfs_pathop e = fx_popf("/x/e");
	FX_ASSERT_OK(uvfs_connect_mount_at(fx.vfs, &fx.cred, early, &e));
	uvfs_mount_put(early);
	struct collect c = { 0 };
	FX_ASSERT_OK(uvfs_mntns_for_each(fx.ns, &fx.root, collect_cb, &c));
	cr_assert_eq(c.n, 6);
	const char *want[] = { "/", "/a", "/b", "/a/c", "/x", "/x/e" };
	for (int i = 0; i < 6; i++)
		cr_assert_str_eq(c.points[i], want[i], "entry %d", i);
	cr_assert_eq(c.parents[0], c.ids[0], "the namespace root is its own parent");
	cr_assert_eq(c.parents[1], c.ids[0]);
	cr_assert_eq(c.parents[3], c.ids[1]);
	cr_assert_eq(c.parents[5], c.ids[4]);
	cr_assert_lt(c.ids[5], c.ids[4]);
	for (int i = 1; i < 5; i++)
		cr_assert_lt(c.ids[i - 1], c.ids[i]);
	struct collect s = { .stop_after = 2 };
	FX_ASSERT_ERR(uvfs_mntns_for_each(fx.ns, &fx.root, collect_cb, &s), 42);
	cr_assert_eq(s.n, 2);
	FX_ASSERT_OK(fx_umount("/x", UVFS_UMOUNT_DETACH));
}

/* Host, in a chroot: /proc/self/mounts lists only mounts under the root,
 * with paths relative to it. */
FX_TEST(mount, enumeration_from_a_subdirectory_root_skips_the_rest)
{
	fx_must_mkdir("/jail", 0755);
	fx_must_mkdir("/jail/m", 0755);
	fx_must_mkdir("/out", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/out", NULL, 0));
	FX_ASSERT_OK(fx_mount_tmpfs("/jail/m", NULL, 0));
	struct uvfs_vd jail;
	get_vd("/jail", &jail);
	char text[1024];
	show(&jail, UVFS_SHOW_MOUNTS, text, sizeof text);
	cr_assert_str_eq(text, "none /m tmpfs rw 0 0\n");
	/* A bind of /jail at /jail/m/j shows from inside as /m/j. */
	fx_must_mkdir("/jail/m/j", 0755);
	FX_ASSERT_OK(bind("/jail", "/jail/m/j", 0));
	show(&jail, UVFS_SHOW_MOUNTS, text, sizeof text);
	cr_assert_str_eq(text, "none /m tmpfs rw 0 0\nnone /m/j tmpfs rw 0 0\n");
	uvfs_vd_put(&jail);
}

/* Host (Linux 6.18): mount -t tmpfs -o size=1m "my src" /t; mount --bind
 * "/t/sub dir" /b; remount,bind,ro,nosuid,nodev,noexec,noatime /b gives
 *   75 50 0:43 /sub\040dir /tmp/h7/b ro,nosuid,nodev,noexec,noatime - tmpfs my\040src rw,size=1024k
 *   my\040src /tmp/h7/b tmpfs ro,nosuid,nodev,noexec,noatime,size=1024k 0 0
 * (uvfs has no relatime; the rest must match byte for byte). */
FX_TEST(mount, mounts_and_mountinfo_lines_match_linux)
{
	fx_must_mkdir("/t", 0755);
	struct uvfs_pathop t = fx_popf("/t");
	struct uvfs_mount_opts o = { .data = "size=1m" };
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "my src", &t, "tmpfs", &o));
	fx_must_mkdir("/t/sub dir", 0755);
	fx_must_mkdir("/b\\x\ty", 0755);
	FX_ASSERT_OK(bind("/t/sub dir", "/b\\x\ty", 0));
	struct uvfs_vd b;
	get_vd("/b\\x\ty", &b);
	/* The flags a remount would set (no remount API yet). */
	FX_ASSERT_OK(uvfs_set_mount_readonly(b.mount, true));
	uvfs_vd_put(&b);
	char text[2048];
	show(&fx.root, UVFS_SHOW_MOUNTS, text, sizeof text);
	cr_assert_str_eq(text, "none / tmpfs rw 0 0\n"
			       "my\\040src /t tmpfs rw,size=1024k 0 0\n"
			       "my\\040src /b\\134x\\011y tmpfs ro,size=1024k 0 0\n");
	show_info_shape(&fx.root, text, sizeof text);
	cr_assert_str_eq(text, "/ / rw - tmpfs none rw"
			       "|/ /t rw - tmpfs my\\040src rw,size=1024k"
			       "|/sub\\040dir /b\\134x\\011y ro - tmpfs my\\040src rw,size=1024k");
}

FX_TEST(mount, format_flags_and_truncation)
{
	struct uvfs_mount_info mi = {
		.id = 75, .parent_id = 50, .dev_major = 0, .dev_minor = 43,
		.flags = UVFS_MNT_RDONLY | UVFS_MNT_NOSUID | UVFS_MNT_NODEV | UVFS_MNT_NOEXEC | UVFS_MNT_NOATIME,
		.root = "/sub dir", .mount_point = "/tmp/h7/b", .fstype = "tmpfs", .source = "my src",
		.fs_options = "size=1024k",
	};
	const char *info = "75 50 0:43 /sub\\040dir /tmp/h7/b ro,nosuid,nodev,noexec,noatime - tmpfs my\\040src "
			   "rw,size=1024k\n";
	const char *mounts = "my\\040src /tmp/h7/b tmpfs ro,nosuid,nodev,noexec,noatime,size=1024k 0 0\n";
	char buf[256];
	cr_assert_eq(uvfs_mount_info_format(&mi, UVFS_SHOW_MOUNTINFO, buf, sizeof buf), (ssize_t)strlen(info));
	cr_assert_str_eq(buf, info);
	cr_assert_eq(uvfs_mount_info_format(&mi, UVFS_SHOW_MOUNTS, buf, sizeof buf), (ssize_t)strlen(mounts));
	cr_assert_str_eq(buf, mounts);
	/* snprintf-like: the needed length, a truncated NUL-terminated prefix. */
	cr_assert_eq(uvfs_mount_info_format(&mi, UVFS_SHOW_MOUNTS, buf, 10), (ssize_t)strlen(mounts));
	cr_assert_str_eq(buf, "my\\040src");
	cr_assert_eq(uvfs_mount_info_format(&mi, UVFS_SHOW_MOUNTS, NULL, 0), (ssize_t)strlen(mounts));
	FX_ASSERT_ERR(uvfs_mount_info_format(&mi, 7, buf, sizeof buf), -EINVAL);
}

/* Reading /proc/mounts must not make a mount busy, nor hold a lock the
 * callback could need: the callback umounts a mount not yet reported. */
static int umount_cb(void *arg, const struct uvfs_mount_info *mi)
{
	int *rc = arg;
	if (!strcmp(mi->mount_point, "/a"))
		*rc = fx_umount("/b", 0);
	return 0;
}

FX_TEST(mount, enumeration_does_not_make_mounts_busy)
{
	fx_must_mkdir("/a", 0755);
	fx_must_mkdir("/b", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/a", NULL, 0));
	FX_ASSERT_OK(fx_mount_tmpfs("/b", NULL, 0));
	int rc = 1;
	FX_ASSERT_OK(uvfs_mntns_for_each(fx.ns, &fx.root, umount_cb, &rc));
	FX_ASSERT_OK(rc);
	cr_assert_eq(devminor("/b"), devminor("/"));
}
