/* test_devtmpfs.c — the devtmpfs singleton, its accessor, the seed's
 * UserspaceInit entries and the device nodes (types, modes, owners and
 * numbers), and opening them through devices/. */
#include "fixture.h"

#include "devices/devices.h"
#include "fsimpl/devtmpfs/devtmpfs.h"

static void setup_type(void)
{
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &uvfs_devtmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST));
}

static int mount_dev(const char *path, const char *data)
{
	fx_mkdir(path, 0755);
	struct uvfs_pathop p = fx_popf(path);
	struct uvfs_mount_opts o = { .data = data };
	return uvfs_mount_at(fx.vfs, &fx.cred, "devtmpfs", &p, "devtmpfs", &o);
}

FX_TEST(devtmpfs, mounts_share_one_tmpfs)
{
	setup_type();
	FX_ASSERT_OK(mount_dev("/d1", NULL));
	FX_ASSERT_OK(mount_dev("/d2", "size=1k,whatever")); /* data ignored, as gVisor */
	fx_must_write("/d1/x", "shared");
	char buf[16];
	FX_ASSERT_ERR(fx_read_file("/d2/x", buf, sizeof buf), 6);
	cr_assert_str_eq(buf, "shared");
	struct statx a, b;
	FX_ASSERT_OK(fx_stat("/d1", &a));
	FX_ASSERT_OK(fx_stat("/d2", &b));
	cr_assert_eq(a.stx_dev_minor, b.stx_dev_minor);
	cr_assert_eq(a.stx_ino, b.stx_ino);
	cr_assert_eq(a.stx_mode, S_IFDIR | 0755, "root mode %o", a.stx_mode);
	/* The accessor sees the same files too. */
	struct uvfs_devtmpfs_accessor *acc;
	FX_ASSERT_OK(uvfs_devtmpfs_accessor_new(fx.vfs, &acc));
	FX_ASSERT_OK(uvfs_devtmpfs_create_device(acc, "/sub/dir/n", UVFS_DEV_CHAR, 1, 3, 0600));
	uvfs_devtmpfs_accessor_release(acc);
	FX_ASSERT_OK(fx_lstat("/d2/sub/dir/n", &a));
	cr_assert_eq(a.stx_mode, S_IFCHR | 0600);
	cr_assert_eq(a.stx_rdev_major, 1);
	cr_assert_eq(a.stx_rdev_minor, 3);
	cr_assert_eq(fx_mode("/d1/sub"), S_IFDIR | 0755);
	/* /proc/mounts names the type devtmpfs. */
	char *txt;
	cr_assert_gt(uvfs_mntns_show(fx.ns, &fx.root, UVFS_SHOW_MOUNTS, &txt), 0);
	cr_assert_not_null(strstr(txt, "devtmpfs /d1 devtmpfs rw"), "%s", txt);
	free(txt);
	FX_ASSERT_OK(fx_umount("/d1", 0));
	FX_ASSERT_OK(fx_umount("/d2", 0));
}

/* Once every mount has gone, the next mount starts empty (nothing keeps
 * the old one alive: teardown's zero-live check covers the rest). */
FX_TEST(devtmpfs, fresh_after_last_umount)
{
	setup_type();
	FX_ASSERT_OK(mount_dev("/d1", NULL));
	fx_must_write("/d1/x", "old");
	FX_ASSERT_OK(fx_umount("/d1", 0));
	FX_ASSERT_OK(mount_dev("/d1", NULL));
	char list[64];
	fx_list_dir("/d1", list, sizeof list);
	cr_assert_str_eq(list, "");
}

/* Each uvfs instance has its own devtmpfs. */
FX_TEST(devtmpfs, one_per_instance)
{
	setup_type();
	FX_ASSERT_OK(mount_dev("/d1", NULL));
	fx_must_write("/d1/x", "mine");
	struct uvfs *v2;
	FX_ASSERT_OK(uvfs_create(&v2));
	FX_ASSERT_OK(uvfs_register_fs_type(v2, &uvfs_devtmpfs_type, UVFS_FS_USER_MOUNT));
	struct uvfs_devtmpfs_accessor *acc;
	FX_ASSERT_OK(uvfs_devtmpfs_accessor_new(v2, &acc));
	/* Empty: x is not there, so a node named x can be made. */
	FX_ASSERT_OK(uvfs_devtmpfs_create_device(acc, "x", UVFS_DEV_CHAR, 1, 3, 0666));
	uvfs_devtmpfs_accessor_release(acc);
	fx_destroy_checked(v2);
	cr_assert_eq(fx_mode("/d1/x"), S_IFREG | 0644);
}

struct want {
	const char *name;
	uint32_t mode; /* type | perms */
	uint32_t major, minor; /* devices */
	const char *target; /* symlinks */
};

static void check_entries(const char *dir, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[64];
		snprintf(path, sizeof path, "%s/%s", dir, w[i].name);
		struct statx st;
		FX_ASSERT_OK(fx_lstat(path, &st));
		if (S_ISLNK(w[i].mode))
			cr_assert_eq(st.stx_mode & S_IFMT, S_IFLNK, "%s: mode %o", path, st.stx_mode);
		else
			cr_assert_eq(st.stx_mode, w[i].mode, "%s: mode %o, want %o", path, st.stx_mode, w[i].mode);
		cr_assert_eq(st.stx_uid, 0, "%s uid", path);
		cr_assert_eq(st.stx_gid, 0, "%s gid", path);
		if (S_ISCHR(w[i].mode)) {
			cr_assert_eq(st.stx_rdev_major, w[i].major, "%s major %u", path, st.stx_rdev_major);
			cr_assert_eq(st.stx_rdev_minor, w[i].minor, "%s minor %u", path, st.stx_rdev_minor);
		}
		if (w[i].target) {
			char buf[64] = { 0 };
			struct uvfs_pathop p = fx_pop(path);
			FX_ASSERT_ERR(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, sizeof buf - 1),
				      (long)strlen(w[i].target));
			cr_assert_str_eq(buf, w[i].target, "%s -> %s", path, buf);
		}
	}
}

FX_TEST(devtmpfs, userspace_init_and_device_files)
{
	setup_type();
	struct uvfs_devtmpfs_accessor *acc;
	FX_ASSERT_OK(uvfs_devtmpfs_accessor_new(fx.vfs, &acc));
	FX_ASSERT_OK(uvfs_devtmpfs_userspace_init(acc));
	struct uvfs_devices_opts o = { .net_stack = true, .fuse = true };
	FX_ASSERT_OK(uvfs_devtmpfs_create_device_files(acc, &o));
	/* Mounted by a user later, the contents are there (the accessor may go). */
	FX_ASSERT_OK(mount_dev("/dev", NULL));
	uvfs_devtmpfs_accessor_release(acc);
	static const struct want w[] = {
		{ "fd", S_IFLNK, 0, 0, "/proc/self/fd" },
		{ "stdin", S_IFLNK, 0, 0, "/proc/self/fd/0" },
		{ "stdout", S_IFLNK, 0, 0, "/proc/self/fd/1" },
		{ "stderr", S_IFLNK, 0, 0, "/proc/self/fd/2" },
		{ "ptmx", S_IFLNK, 0, 0, "pts/ptmx" },
		{ "shm", S_IFDIR | 01777, 0, 0, NULL },
		{ "pts", S_IFDIR | 0755, 0, 0, NULL },
		{ "null", S_IFCHR | 0666, 1, 3, NULL },
		{ "zero", S_IFCHR | 0666, 1, 5, NULL },
		{ "full", S_IFCHR | 0666, 1, 7, NULL },
		{ "random", S_IFCHR | 0666, 1, 8, NULL },
		{ "urandom", S_IFCHR | 0666, 1, 9, NULL },
		{ "tty", S_IFCHR | 0666, 5, 0, NULL },
		{ "net", S_IFDIR | 0755, 0, 0, NULL },
		{ "net/tun", S_IFCHR | 0666, 10, 200, NULL },
		{ "fuse", S_IFCHR | 0666, 10, 229, NULL },
	};
	check_entries("/dev", w, sizeof w / sizeof w[0]);
	char list[256];
	fx_list_dir("/dev", list, sizeof list);
	cr_assert_str_eq(list, "fd,full,fuse,net,null,ptmx,pts,random,shm,stderr,stdin,stdout,tty,urandom,zero");
	/* A second init finds the names taken. */
	FX_ASSERT_OK(uvfs_devtmpfs_accessor_new(fx.vfs, &acc));
	FX_ASSERT_ERR(uvfs_devtmpfs_userspace_init(acc), -EEXIST);
	FX_ASSERT_ERR(uvfs_devtmpfs_create_device(acc, "x", 3, 1, 3, 0666), -EINVAL);
	FX_ASSERT_ERR(uvfs_devtmpfs_create_device(acc, "/", UVFS_DEV_CHAR, 1, 3, 0666), -EINVAL);
	uvfs_devtmpfs_accessor_release(acc);
	/* The nodes work with the drivers registered; a user can write to
	 * /dev/shm (1777) but not make files in /dev. */
	FX_ASSERT_OK(uvfs_devices_register(fx.vfs, NULL));
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/dev/zero", O_RDONLY, 0, &f));
	char z[8] = "xxxxxxx";
	FX_ASSERT_ERR(uvfs_read(f, z, sizeof z), 8);
	cr_assert_eq(z[0] | z[7], 0);
	uvfs_file_put(f);
	FX_ASSERT_OK(fx_open_as(&fx.user, "/dev/shm/seg", O_CREAT | O_RDWR, 0600, &f));
	uvfs_file_put(f);
	FX_ASSERT_ERR(fx_open_as(&fx.user, "/dev/mine", O_CREAT | O_RDWR, 0600, &f), -EACCES);
	FX_ASSERT_OK(fx_umount("/dev", 0));
}
