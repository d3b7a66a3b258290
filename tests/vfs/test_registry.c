/* test_registry.c — filesystem type registry, /proc/filesystems listing,
 * device registry, anonymous minors, and the leak reporting of
 * uvfs_destroy itself. */
#include "fixture.h"

#include <pthread.h>
#include <stdatomic.h>

#include "uvfs_fs.h"

extern void __lsan_disable(void) __attribute__((weak));

/* A copy of tmpfs under another name. */
static struct uvfs_fs_type alias_named(const char *name)
{
	struct uvfs_fs_type t = uvfs_tmpfs_type;
	t.name = name;
	return t;
}

FX_TEST(registry, duplicate_registration_eexist)
{
	FX_ASSERT_ERR(uvfs_register_fs_type(fx.vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT), -EEXIST);
	static struct uvfs_fs_type other;
	other = alias_named("tmpfs"); /* same name, different struct */
	FX_ASSERT_ERR(uvfs_register_fs_type(fx.vfs, &other, 0), -EEXIST);
}

FX_TEST(registry, unknown_type_enodev)
{
	struct uvfs_mount_opts o = { 0 };
	struct uvfs_mntns *ns = NULL;
	FX_ASSERT_ERR(uvfs_mntns_new(fx.vfs, &fx.cred, "none", "nosuchfs", &o, &ns), -ENODEV);
	cr_assert_null(ns);
	struct uvfs_mount *m = NULL;
	FX_ASSERT_ERR(uvfs_mount_disconnected(fx.vfs, &fx.cred, "none", "nosuchfs", &o, &m), -ENODEV);
	cr_assert_null(m);
	fx_must_mkdir("/m", 0755);
	struct uvfs_pathop p = fx_popf("/m");
	FX_ASSERT_ERR(uvfs_mount_at(fx.vfs, &fx.cred, "none", &p, "nosuchfs", &o), -ENODEV);
	FX_ASSERT_ERR(uvfs_mount_at(fx.vfs, &fx.cred, "none", &p, "", &o), -ENODEV);
}

FX_TEST(registry, user_mount_flag_requires_internal_mount)
{
	static struct uvfs_fs_type kern;
	kern = alias_named("kernonly");
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &kern, UVFS_FS_USER_LIST));
	fx_must_mkdir("/m", 0755);
	struct uvfs_pathop p = fx_popf("/m");
	struct uvfs_mount_opts o = { 0 };
	FX_ASSERT_ERR(uvfs_mount_at(fx.vfs, &fx.cred, "none", &p, "kernonly", &o), -ENODEV);
	struct uvfs_mount *m = NULL;
	FX_ASSERT_ERR(uvfs_mount_disconnected(fx.vfs, &fx.cred, "none", "kernonly", &o, &m), -ENODEV);
	o.internal_mount = true;
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "none", &p, "kernonly", &o));
	fx_must_write("/m/x", "mounted");
	FX_ASSERT_OK(uvfs_mount_disconnected(fx.vfs, &fx.cred, "none", "kernonly", &o, &m));
	uvfs_mount_put(m);
	/* tmpfs was registered user-mountable. */
	o.internal_mount = false;
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "none", &p, "tmpfs", &o));
}

FX_TEST(registry, list_fs_types_sorted)
{
	static struct uvfs_fs_type zzz, aaa, hidden, mmm;
	zzz = alias_named("zzz");
	aaa = alias_named("aaa");
	hidden = alias_named("hidden");
	mmm = alias_named("mmm");
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &zzz, UVFS_FS_USER_LIST | UVFS_FS_REQUIRES_DEV));
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &aaa, UVFS_FS_USER_LIST | UVFS_FS_USER_MOUNT));
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &hidden, UVFS_FS_USER_MOUNT));
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &mmm, UVFS_FS_USER_LIST));
	const char *want = "nodev\taaa\nnodev\tmmm\nnodev\ttmpfs\n\tzzz\n";
	char buf[256];
	memset(buf, 'X', sizeof buf);
	ssize_t n = uvfs_list_fs_types(fx.vfs, buf, sizeof buf);
	cr_assert_eq(n, (ssize_t)strlen(want), "length %zd", n);
	cr_assert_str_eq(buf, want);
	/* Asking for the size. */
	cr_assert_eq(uvfs_list_fs_types(fx.vfs, NULL, 0), (ssize_t)strlen(want));
	/* A short buffer holds a NUL-terminated prefix of the text (whole
	 * lines or a byte prefix); the return is still the full length. */
	for (size_t len = 1; len < strlen(want); len++) {
		memset(buf, 'X', sizeof buf);
		cr_assert_eq(uvfs_list_fs_types(fx.vfs, buf, len), (ssize_t)strlen(want));
		size_t got = strnlen(buf, len);
		cr_assert_lt(got, len, "len %zu: not NUL-terminated within len", len);
		cr_assert(memcmp(buf, want, got) == 0, "len %zu: \"%.*s\" is not a prefix of the listing", len, (int)got,
			  buf);
		cr_assert_eq(buf[len], 'X', "len %zu: wrote past len", len);
	}
}

/* ------------------------------------------------------------ devices */

static int dev_opens;
static ssize_t dev_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	cr_assert_str_eq((const char *)f->f_private, "devpriv");
	memset(buf, 'Z', len);
	return (ssize_t)len;
}
static ssize_t dev_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off) { return (ssize_t)len; }
static int dev_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	dev_opens++;
	return 0;
}
static const struct uvfs_file_ops zdev_ops = { .open = dev_open, .read = dev_read, .write = dev_write };
static char devpriv[] = "devpriv";

FX_TEST(registry, device_nodes)
{
	struct uvfs_pathop p = fx_pop("/zero");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFCHR | 0666, makedev(1, 5)));
	p = fx_pop("/blk");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFBLK | 0666, makedev(1, 5)));
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/zero", O_RDONLY, 0, &f), -ENXIO);
	cr_assert_null(f);
	FX_ASSERT_OK(uvfs_register_device(fx.vfs, UVFS_DEV_CHAR, 1, 5, &zdev_ops, devpriv, "mem"));
	FX_ASSERT_ERR(uvfs_register_device(fx.vfs, UVFS_DEV_CHAR, 1, 5, &zdev_ops, devpriv, "mem"), -EEXIST);
	FX_ASSERT_OK(fx_open("/zero", O_RDWR, 0, &f));
	cr_assert_eq(dev_opens, 1);
	char buf[8] = { 0 };
	cr_assert_eq(uvfs_read(f, buf, 7), 7);
	cr_assert_str_eq(buf, "ZZZZZZZ");
	cr_assert_eq(uvfs_write(f, "abc", 3), 3);
	uvfs_file_put(f);
	/* The block node with the same numbers is a different device. */
	FX_ASSERT_ERR(fx_open("/blk", O_RDONLY, 0, &f), -ENXIO);
	/* Registered devices are served on any filesystem. */
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	p = fx_pop("/m/z2");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFCHR | 0666, makedev(1, 5)));
	FX_ASSERT_OK(fx_open("/m/z2", O_RDONLY, 0, &f));
	cr_assert_eq(uvfs_read(f, buf, 2), 2);
	cr_assert_eq(buf[0], 'Z');
	uvfs_file_put(f);
	/* Permission checks still apply to device nodes. */
	FX_ASSERT_OK(fx_chmod("/zero", 0600));
	FX_ASSERT_ERR(fx_open_as(&fx.user, "/zero", O_RDONLY, 0, &f), -EACCES);
}

Test(registry, anon_minors_allocate_free_reuse, .timeout = 30)
{
	struct uvfs *vfs;
	FX_ASSERT_OK(uvfs_create(&vfs));
	uint32_t a, b, c, d;
	FX_ASSERT_OK(uvfs_get_anon_minor(vfs, &a));
	FX_ASSERT_OK(uvfs_get_anon_minor(vfs, &b));
	FX_ASSERT_OK(uvfs_get_anon_minor(vfs, &c));
	cr_assert_neq(a, 0, "minor 0 is reserved");
	cr_assert_neq(a, b);
	cr_assert_neq(b, c);
	cr_assert_neq(a, c);
	uvfs_put_anon_minor(vfs, b);
	FX_ASSERT_OK(uvfs_get_anon_minor(vfs, &d));
	cr_assert_eq(d, b, "freed minor %u must be reused, got %u", b, d);
	/* Many allocations stay distinct. */
	static uint32_t many[2000];
	for (int i = 0; i < 2000; i++) {
		FX_ASSERT_OK(uvfs_get_anon_minor(vfs, &many[i]));
		cr_assert(many[i] != a && many[i] != c && many[i] != d);
	}
	for (int i = 1; i < 2000; i++)
		cr_assert_neq(many[i], many[i - 1]);
	for (int i = 0; i < 2000; i++)
		uvfs_put_anon_minor(vfs, many[i]);
	uvfs_put_anon_minor(vfs, a);
	uvfs_put_anon_minor(vfs, c);
	uvfs_put_anon_minor(vfs, d);
	fx_destroy_checked(vfs);
}

FX_TEST(registry, filesystems_get_distinct_anon_devs)
{
	fx_must_mkdir("/m1", 0755);
	fx_must_mkdir("/m2", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m1", NULL, 0));
	FX_ASSERT_OK(fx_mount_tmpfs("/m2", NULL, 0));
	struct statx r, a, b;
	FX_ASSERT_OK(fx_lstat("/", &r));
	FX_ASSERT_OK(fx_lstat("/m1", &a));
	FX_ASSERT_OK(fx_lstat("/m2", &b));
	cr_assert_eq(r.stx_dev_major, 0, "anonymous devices have major 0");
	cr_assert_eq(a.stx_dev_major, 0);
	cr_assert_neq(r.stx_dev_minor, 0);
	cr_assert_neq(r.stx_dev_minor, a.stx_dev_minor);
	cr_assert_neq(a.stx_dev_minor, b.stx_dev_minor);
	cr_assert_neq(r.stx_dev_minor, b.stx_dev_minor);
}

Test(registry, empty_instance_destroys_clean, .timeout = 30)
{
	struct uvfs *vfs;
	FX_ASSERT_OK(uvfs_create(&vfs));
	FX_ASSERT_OK(uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST));
	struct uvfs_live live;
	uvfs_live_counts(vfs, &live);
	cr_assert_eq(live.mounts + live.files + live.dentries + live.inodes + live.filesystems + live.mntns, 0);
	fx_destroy_checked(vfs);
}

Test(registry, destroy_reports_leaks, .timeout = 30)
{
	/* The leak detector itself must be able to fail: leak a file on
	 * purpose and expect -EBUSY with the right counts. */
	if (__lsan_disable)
		__lsan_disable(); /* the leak is intentional */
	fx_setup();
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/m/leak", O_CREAT | O_RDWR, 0644, &f));
	uvfs_vd_put(&fx.root);
	uvfs_mntns_put(fx.ns);
	struct uvfs_live live;
	memset(&live, 0, sizeof live);
	FX_ASSERT_ERR(uvfs_destroy(fx.vfs, &live), -EBUSY);
	cr_assert_eq(live.files, 1, "files %ld", live.files);
	cr_assert_geq(live.mounts, 1, "the leaked file pins its mount");
	cr_assert_geq(live.filesystems, 1);
	cr_assert_geq(live.dentries, 1);
	cr_assert_geq(live.inodes, 1);
}

/* ------------------------------------------------------ device regions */

static int region_releases;
static ssize_t region_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	/* Answers with its minor: one ops table serves a range. */
	uint32_t m = minor(f->f_inode->i_rdev);
	return snprintf(buf, len, "%u", m);
}
static void region_release(struct uvfs_file *f) { region_releases++; }
static const struct uvfs_file_ops region_ops = { .read = region_read, .release = region_release };

static void mknod_chr(const char *path, uint32_t maj, uint32_t min)
{
	struct uvfs_pathop p = fx_pop(path);
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFCHR | 0666, makedev(maj, min)));
}

FX_TEST(registry, chrdev_region_serves_its_range_only)
{
	FX_ASSERT_OK(uvfs_register_chrdev_region(fx.vfs, UVFS_DEV_CHAR, 240, 10, 10, &region_ops, NULL, "r"));
	const uint32_t minors[] = { 9, 10, 15, 19, 20 };
	for (size_t i = 0; i < 5; i++) {
		char path[16];
		snprintf(path, sizeof path, "/n%u", minors[i]);
		mknod_chr(path, 240, minors[i]);
		struct uvfs_file *f = NULL;
		int err = fx_open(path, O_RDONLY, 0, &f);
		if (minors[i] < 10 || minors[i] >= 20) {
			FX_ASSERT_ERR(err, -ENXIO);
			continue;
		}
		FX_ASSERT_OK(err);
		char buf[8] = { 0 }, want[8];
		snprintf(want, sizeof want, "%u", minors[i]);
		cr_assert_eq(uvfs_read(f, buf, sizeof buf), (ssize_t)strlen(want));
		cr_assert_str_eq(buf, want);
		uvfs_file_put(f);
	}
	/* Another major, or the block space, is not this region. */
	mknod_chr("/other", 241, 12);
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/other", O_RDONLY, 0, &f), -ENXIO);
}

FX_TEST(registry, overlapping_regions_ebusy_adjacent_ok)
{
	struct uvfs *v = fx.vfs;
	FX_ASSERT_OK(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 240, 10, 10, &region_ops, NULL, "a"));
	FX_ASSERT_ERR(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 240, 15, 10, &region_ops, NULL, "b"), -EBUSY);
	FX_ASSERT_ERR(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 240, 5, 6, &region_ops, NULL, "b"), -EBUSY);
	FX_ASSERT_ERR(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 240, 0, 100, &region_ops, NULL, "b"), -EBUSY);
	FX_ASSERT_ERR(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 240, 12, 1, &region_ops, NULL, "b"), -EBUSY);
	FX_ASSERT_ERR(uvfs_register_device(v, UVFS_DEV_CHAR, 240, 19, &region_ops, NULL, "b"), -EEXIST);
	FX_ASSERT_OK(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 240, 5, 5, &region_ops, NULL, "below"));
	FX_ASSERT_OK(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 240, 20, 1, &region_ops, NULL, "above"));
	FX_ASSERT_OK(uvfs_register_chrdev_region(v, UVFS_DEV_BLOCK, 240, 10, 10, &region_ops, NULL, "blk"));
	FX_ASSERT_OK(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 239, 0, 1u << 20, &region_ops, NULL, "all"));
	/* Bad ranges. */
	FX_ASSERT_ERR(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 250, 0, 0, &region_ops, NULL, "x"), -EINVAL);
	FX_ASSERT_ERR(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 250, (1u << 20) - 1, 2, &region_ops, NULL, "x"),
		      -EINVAL);
	FX_ASSERT_ERR(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 250, 1, UINT32_MAX, &region_ops, NULL, "x"),
		      -EINVAL);
	FX_ASSERT_ERR(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 4096, 0, 1, &region_ops, NULL, "x"), -EINVAL);
	FX_ASSERT_ERR(uvfs_register_chrdev_region(v, 3, 250, 0, 1, &region_ops, NULL, "x"), -EINVAL);
	FX_ASSERT_ERR(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 250, 0, 1, NULL, NULL, "x"), -EINVAL);
	/* Unregistration names exactly a registered range. */
	FX_ASSERT_ERR(uvfs_unregister_device_region(v, UVFS_DEV_CHAR, 240, 10, 5), -ENOENT);
	FX_ASSERT_ERR(uvfs_unregister_device_region(v, UVFS_DEV_CHAR, 240, 11, 9), -ENOENT);
	FX_ASSERT_ERR(uvfs_unregister_device_region(v, UVFS_DEV_CHAR, 241, 10, 10), -ENOENT);
	FX_ASSERT_OK(uvfs_unregister_device_region(v, UVFS_DEV_CHAR, 240, 10, 10));
	FX_ASSERT_ERR(uvfs_unregister_device_region(v, UVFS_DEV_CHAR, 240, 10, 10), -ENOENT);
	/* The freed range can be taken again, in other shapes. */
	FX_ASSERT_OK(uvfs_register_chrdev_region(v, UVFS_DEV_CHAR, 240, 12, 8, &region_ops, NULL, "again"));
}

FX_TEST(registry, unregister_while_open_keeps_the_open_file)
{
	mknod_chr("/d", 240, 3);
	FX_ASSERT_OK(uvfs_register_chrdev_region(fx.vfs, UVFS_DEV_CHAR, 240, 0, 8, &region_ops, NULL, "r"));
	struct uvfs_file *f = NULL, *g = NULL;
	FX_ASSERT_OK(fx_open("/d", O_RDONLY, 0, &f));
	FX_ASSERT_OK(uvfs_unregister_device_region(fx.vfs, UVFS_DEV_CHAR, 240, 0, 8));
	/* Linux cdev_del: existing opens keep their ops; new opens fail. */
	FX_ASSERT_ERR(fx_open("/d", O_RDONLY, 0, &g), -ENXIO);
	cr_assert_null(g);
	char buf[4] = { 0 };
	cr_assert_eq(uvfs_read(f, buf, sizeof buf), 1);
	cr_assert_str_eq(buf, "3");
	cr_assert_eq(region_releases, 0);
	uvfs_file_put(f);
	cr_assert_eq(region_releases, 1, "->release still runs for the file opened before");
}

FX_TEST(registry, many_regions_lookup_by_binary_search)
{
	/* 500 two-minor regions with one-minor gaps, registered out of order:
	 * every minor maps to its region's priv or to ENXIO. */
	static char tags[500];
	for (int k = 0; k < 500; k++) {
		int i = (k * 7) % 500; /* 7 is coprime with 500: a permutation */
		FX_ASSERT_OK(uvfs_register_chrdev_region(fx.vfs, UVFS_DEV_CHAR, 200, (uint32_t)i * 3, 2, &zdev_ops,
							 &tags[i], "many"));
	}
	for (uint32_t m = 0; m < 1500; m++) {
		/* A node per probed minor: every gap, and a sample of the rest. */
		if (m % 37 != 0 && m % 3 != 2 && m != 1498)
			continue;
		char path[16];
		snprintf(path, sizeof path, "/p%u", m);
		mknod_chr(path, 200, m);
		struct uvfs_file *f = NULL;
		int err = fx_open(path, O_RDONLY, 0, &f);
		if (m % 3 == 2) {
			FX_ASSERT_ERR(err, -ENXIO);
		} else {
			FX_ASSERT_OK(err);
			cr_assert_eq(f->f_private, &tags[m / 3], "minor %u got the wrong region", m);
			uvfs_file_put(f);
		}
	}
}

/* Opens racing registration changes: every open either finds the device
 * or gets ENXIO, never anything else (nor a crash under ASan). */
static atomic_int race_stop;
static struct uvfs *race_vfs;
static void *race_registrar(void *arg)
{
	uvfs_thread_enter();
	for (int i = 0; !atomic_load(&race_stop) && i < 2000; i++) {
		cr_assert_eq(uvfs_register_chrdev_region(race_vfs, UVFS_DEV_CHAR, 240, 0, 4, &zdev_ops, devpriv, "r"),
			     0);
		uvfs_register_chrdev_region(race_vfs, UVFS_DEV_CHAR, 240, 100 + (uint32_t)(i % 50), 1, &zdev_ops,
					    devpriv, "noise");
		cr_assert_eq(uvfs_unregister_device_region(race_vfs, UVFS_DEV_CHAR, 240, 0, 4), 0);
	}
	uvfs_thread_leave();
	return NULL;
}

FX_TEST(registry, opens_race_registration)
{
	mknod_chr("/d", 240, 2);
	race_vfs = fx.vfs;
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, race_registrar, NULL), 0);
	int ok = 0, nx = 0;
	for (int i = 0; i < 2000; i++) {
		struct uvfs_file *f = NULL;
		int err = fx_open("/d", O_RDONLY, 0, &f);
		if (err == 0) {
			ok++;
			uvfs_file_put(f);
		} else {
			FX_ASSERT_ERR(err, -ENXIO);
			nx++;
		}
	}
	atomic_store(&race_stop, 1);
	pthread_join(t, NULL);
	cr_assert_eq(ok + nx, 2000);
}
