/* tmpfs mount options, root variants, limits (size=, nr_inodes=), statfs. */
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "fsimpl/tmpfs/tmpfs.h"
#include "uvfs_fs.h"
#include "tt.h"

#define TMPFS_MAGIC 0x01021994

/* A fresh instance with tmpfs registered, no namespace. */
static struct uvfs *new_vfs(void)
{
	struct uvfs *vfs;
	cr_assert_eq(uvfs_create(&vfs), 0);
	int rc = uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST);
	cr_assert_eq(rc, 0, "register: %s", fx_err(rc));
	return vfs;
}

/* Mount a namespace with data; returns rc and, on success, puts it again. */
static int try_mount(struct uvfs *vfs, const char *data)
{
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	struct uvfs_mount_opts o = { .data = data };
	struct uvfs_mntns *ns = NULL;
	int rc = uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &o, &ns);
	if (!rc)
		uvfs_mntns_put(ns);
	else
		cr_assert_null(ns, "failed mntns_new must not return a namespace");
	return rc;
}

/* Run try_mount with stderr captured into buf. */
static int try_mount_log(struct uvfs *vfs, const char *data, char *buf, size_t len)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(p[1], 2);
	close(p[1]);
	int rc = try_mount(vfs, data);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = read(p[0], buf, len - 1);
	buf[n > 0 ? n : 0] = 0;
	close(p[0]);
	return rc;
}

Test(tmpfs_opts, defaults_root_dir_01777_owned_by_fsuid)
{
	fx_setup();
	struct statx st = tt_lstat("/");
	cr_assert_eq(st.stx_mode, S_IFDIR | 01777, "mode %o", st.stx_mode);
	cr_assert_eq(st.stx_uid, 0);
	cr_assert_eq(st.stx_nlink, 2);
	fx_teardown();

	/* Owner comes from the mounter's fsuid/fsgid. */
	struct uvfs *vfs = new_vfs();
	struct uvfs_cred c;
	uvfs_cred_init_root(&c);
	c.fsuid = 77;
	c.fsgid = 88;
	struct uvfs_mntns *ns;
	struct uvfs_mount_opts o = { 0 };
	cr_assert_eq(uvfs_mntns_new(vfs, &c, "none", "tmpfs", &o, &ns), 0);
	struct uvfs_vd root;
	uvfs_mntns_root(ns, &root);
	struct uvfs_pathop p = { .root = root, .start = root, .path = "", .flags = UVFS_PATH_EMPTY };
	cr_assert_eq(uvfs_stat_at(vfs, &c, &p, STATX_BASIC_STATS, &st), 0);
	cr_assert_eq(st.stx_uid, 77);
	cr_assert_eq(st.stx_gid, 88);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	fx_destroy_checked(vfs);
}

Test(tmpfs_opts, mode_uid_gid)
{
	fx_setup_opts("mode=0755,uid=123,gid=456", 0);
	struct statx st = tt_lstat("/");
	cr_assert_eq(st.stx_mode, S_IFDIR | 0755, "mode %o", st.stx_mode);
	cr_assert_eq(st.stx_uid, 123);
	cr_assert_eq(st.stx_gid, 456);
	fx_teardown();
}

Test(tmpfs_opts, mode_masked_to_07777)
{
	fx_setup_opts("mode=107777", 0);
	cr_assert_eq(fx_mode("/"), S_IFDIR | 07777, "mode %o", fx_mode("/"));
	fx_teardown();
}

Test(tmpfs_opts, bad_values_are_einval)
{
	static const char *bad[] = {
		"mode=abc", "mode=9", "mode=", "uid=x", "uid=-1", "uid=4294967295", "gid=1.5", "gid=",
		"size=abc", "size=10q", "size=-1", "nr_inodes=x", "nr_inodes=1q", "nr_inodes=10%", "nr_inodes=-3",
		"nr_inodes=", "size=", "size=99999999999999999999g",
	};
	struct uvfs *vfs = new_vfs();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = try_mount(vfs, bad[i]);
		cr_assert_eq(rc, -EINVAL, "%s: expected -EINVAL, got %s", bad[i], fx_err(rc));
	}
	fx_destroy_checked(vfs);
}

Test(tmpfs_opts, good_values_accepted)
{
	static const char *good[] = {
		"mode=0", "mode=1777", "uid=0,gid=0", "size=0", "size=1k", "size=4M", "size=1g", "size=50%",
		"nr_inodes=0", "nr_inodes=10", "nr_inodes=2k", "nr_inodes=1m", ",,mode=700,,", "size=1,size=2m",
	};
	struct uvfs *vfs = new_vfs();
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = try_mount(vfs, good[i]);
		cr_assert_eq(rc, 0, "%s: expected success, got %s", good[i], fx_err(rc));
	}
	fx_destroy_checked(vfs);
}

Test(tmpfs_opts, unknown_key_einval_and_logged_by_name)
{
	struct uvfs *vfs = new_vfs();
	char log[4096];
	int rc = try_mount_log(vfs, "mode=755,frobnicate=1", log, sizeof(log));
	FX_ASSERT_ERR(rc, -EINVAL);
	cr_assert(strstr(log, "frobnicate"), "log does not name the key: \"%s\"", log);
	rc = try_mount_log(vfs, "nosuid", log, sizeof(log));
	FX_ASSERT_ERR(rc, -EINVAL);
	cr_assert(strstr(log, "nosuid"), "log does not name the key: \"%s\"", log);
	fx_destroy_checked(vfs);
}

Test(tmpfs_opts, size_limit_enospc)
{
	fx_setup_opts("size=8k", 0);
	struct uvfs_file *f = tt_open("/f", O_RDWR | O_CREAT, 0644);
	char buf[3 * 4096];
	memset(buf, 'a', sizeof(buf));
	ssize_t n = uvfs_pwrite(f, buf, sizeof(buf), 0);
	cr_assert_eq(n, 8192, "short write to the limit, got %s", fx_err(n));
	FX_ASSERT_ERR(uvfs_pwrite(f, buf, 1, 8192), -ENOSPC);
	FX_ASSERT_ERR(tt_pwrite_fill("/g", 'b', 1, 0), -ENOSPC);
	/* Holes cost nothing; freeing gives room back. */
	FX_ASSERT_OK(uvfs_file_truncate(f, 1 << 20));
	FX_ASSERT_OK(uvfs_file_truncate(f, 4096));
	cr_assert_eq(tt_pwrite_fill("/g", 'b', 10, 0), 10);
	FX_ASSERT_ERR(tt_pwrite_fill("/g", 'b', 1, 4096), -ENOSPC);
	uvfs_file_put(f);
	FX_ASSERT_OK(tt_unlink("/f"));
	cr_assert_eq(tt_pwrite_fill("/g", 'b', 4096, 4096), 4096, "the unlinked file's page is free again");
	/* A long symlink target takes a page too (Linux), a short one does not. */
	char target[200];
	memset(target, 't', sizeof(target) - 1);
	target[sizeof(target) - 1] = 0;
	FX_ASSERT_ERR(fx_symlink(target, "/long"), -ENOSPC);
	FX_ASSERT_OK(fx_symlink("short", "/short"));
	FX_ASSERT_OK(tt_truncate("/g", 0));
	FX_ASSERT_OK(fx_symlink(target, "/long"));
	cr_assert_eq(tt_pwrite_fill("/g", 'b', 4096 + 1, 0), 4096, "short: the long symlink holds the other page");
	fx_teardown();
}

Test(tmpfs_opts, size_rounds_up_to_pages)
{
	fx_setup_opts("size=5000", 0);
	struct statfs sf;
	FX_ASSERT_OK(tt_statfs("/", &sf));
	cr_assert_eq(sf.f_blocks, 2);
	cr_assert_eq(tt_pwrite_fill("/f", 'x', 8192, 0), 8192);
	fx_teardown();
}

Test(tmpfs_opts, nr_inodes_limit_enospc)
{
	fx_setup_opts("nr_inodes=4", 0); /* the root counts */
	fx_must_write("/a", "1");
	fx_must_mkdir("/d", 0755);
	FX_ASSERT_OK(fx_symlink("a", "/s"));
	FX_ASSERT_ERR(fx_write_file("/b", "2"), -ENOSPC);
	FX_ASSERT_ERR(fx_mkdir("/d/e", 0755), -ENOSPC);
	FX_ASSERT_ERR(fx_symlink("a", "/t"), -ENOSPC);
	FX_ASSERT_ERR(tt_mknod("/p", S_IFIFO | 0644, 0), -ENOSPC);
	/* As on Linux, each extra hard link takes a slot (names pin memory). */
	FX_ASSERT_ERR(tt_link("/a", "/a2"), -ENOSPC);
	FX_ASSERT_OK(tt_unlink("/s"));
	FX_ASSERT_OK(tt_link("/a", "/a2"));
	FX_ASSERT_ERR(fx_write_file("/b", "2"), -ENOSPC);
	struct statfs sf;
	FX_ASSERT_OK(tt_statfs("/", &sf));
	cr_assert_eq(sf.f_files, 4);
	cr_assert_eq(sf.f_ffree, 0);
	FX_ASSERT_OK(tt_unlink("/a")); /* the inode lives on as /a2: one slot back */
	fx_must_write("/b", "2");
	FX_ASSERT_ERR(fx_write_file("/c", "3"), -ENOSPC);
	/* An unlinked but open file keeps its slot until closed. */
	struct uvfs_file *f = tt_open("/b", O_RDONLY, 0);
	FX_ASSERT_OK(tt_unlink("/b"));
	FX_ASSERT_ERR(fx_write_file("/c", "3"), -ENOSPC);
	uvfs_file_put(f);
	fx_must_write("/c", "3");
	fx_teardown();
}

Test(tmpfs_opts, statfs_reports_usage)
{
	fx_setup_opts("size=1m,nr_inodes=1k", 0);
	struct statfs sf;
	FX_ASSERT_OK(tt_statfs("/", &sf));
	cr_assert_eq(sf.f_type, TMPFS_MAGIC);
	cr_assert_eq(sf.f_bsize, 4096);
	cr_assert_eq(sf.f_namelen, 255);
	cr_assert_eq(sf.f_blocks, 256);
	cr_assert_eq(sf.f_bfree, 256);
	cr_assert_eq(sf.f_bavail, 256);
	cr_assert_eq(sf.f_files, 1024);
	cr_assert_eq(sf.f_ffree, 1023);
	cr_assert_eq(tt_pwrite_fill("/f", 'x', 3 * 4096 + 1, 0), 3 * 4096 + 1);
	/* Offsets are not limited, allocated pages are (as on Linux). */
	cr_assert_eq(tt_pwrite_fill("/sparse", 'x', 1, 100 << 20), 1);
	FX_ASSERT_OK(tt_statfs("/f", &sf));
	cr_assert_eq(sf.f_bfree, 256 - 5, "bfree %ld", (long)sf.f_bfree);
	cr_assert_eq(sf.f_ffree, 1024 - 3);
	FX_ASSERT_OK(tt_truncate("/f", 4096));
	FX_ASSERT_OK(tt_unlink("/sparse"));
	FX_ASSERT_OK(tt_statfs("/", &sf));
	cr_assert_eq(sf.f_bfree, 255);
	cr_assert_eq(sf.f_ffree, 1022);
	fx_teardown();
}

Test(tmpfs_opts, statfs_default_and_fsid)
{
	fx_setup();
	struct statfs a, b;
	FX_ASSERT_OK(tt_statfs("/", &a));
	cr_assert_eq(a.f_type, TMPFS_MAGIC);
	cr_assert_gt(a.f_blocks, 0); /* half of RAM: see test_memory.c */
	cr_assert_eq(a.f_blocks, a.f_bfree);
	cr_assert_gt(a.f_files, 0);
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	FX_ASSERT_OK(tt_statfs("/m", &b));
	cr_assert(memcmp(&a.f_fsid, &b.f_fsid, sizeof(a.f_fsid)), "two tmpfs instances share f_fsid");
	FX_ASSERT_OK(fx_umount("/m", 0));
	fx_teardown();
}

/* An internal mount with a non-directory root (overlay's use). */
static struct uvfs_mount *internal_mount(struct uvfs *vfs, const struct uvfs_tmpfs_internal *in, const char *data,
					 int *rc)
{
	struct uvfs_cred c;
	uvfs_cred_init_root(&c);
	struct uvfs_mount_opts o = { .data = data, .internal = in, .internal_mount = true };
	struct uvfs_mount *m = NULL;
	*rc = uvfs_mount_disconnected(vfs, &c, "none", "tmpfs", &o, &m);
	return m;
}

Test(tmpfs_opts, regular_file_root)
{
	struct uvfs *vfs = new_vfs();
	struct uvfs_tmpfs_internal in = { .root_type = S_IFREG };
	int rc;
	struct uvfs_mount *m = internal_mount(vfs, &in, NULL, &rc);
	FX_ASSERT_OK(rc);
	struct uvfs_cred c;
	uvfs_cred_init_root(&c);
	struct uvfs_vd vd = { m, uvfs_mount_root(m) };
	struct uvfs_pathop p = { .root = vd, .start = vd, .path = "", .flags = UVFS_PATH_EMPTY };
	struct statx st;
	FX_ASSERT_OK(uvfs_stat_at(vfs, &c, &p, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_mode, S_IFREG | 0777, "mode %o", st.stx_mode);
	cr_assert_eq(st.stx_size, 0);
	struct uvfs_file *f;
	FX_ASSERT_OK(uvfs_open_at(vfs, &c, &p, O_RDWR, 0, 0, &f));
	cr_assert_eq(uvfs_pwrite(f, "root file", 9, 0), 9);
	char buf[16] = { 0 };
	cr_assert_eq(uvfs_pread(f, buf, sizeof(buf), 0), 9);
	cr_assert_str_eq(buf, "root file");
	uvfs_file_put(f);
	uvfs_mount_put(m);

	/* mode= applies to a non-directory root too. */
	m = internal_mount(vfs, &in, "mode=0640", &rc);
	FX_ASSERT_OK(rc);
	vd = (struct uvfs_vd){ m, uvfs_mount_root(m) };
	p = (struct uvfs_pathop){ .root = vd, .start = vd, .path = "", .flags = UVFS_PATH_EMPTY };
	FX_ASSERT_OK(uvfs_stat_at(vfs, &c, &p, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_mode, S_IFREG | 0640, "mode %o", st.stx_mode);
	uvfs_mount_put(m);
	fx_destroy_checked(vfs);
}

Test(tmpfs_opts, symlink_root_and_bad_internal)
{
	struct uvfs *vfs = new_vfs();
	struct uvfs_tmpfs_internal in = { .root_type = S_IFLNK, .root_symlink_target = "/some/where" };
	int rc;
	struct uvfs_mount *m = internal_mount(vfs, &in, NULL, &rc);
	FX_ASSERT_OK(rc);
	struct uvfs_cred c;
	uvfs_cred_init_root(&c);
	struct uvfs_vd vd = { m, uvfs_mount_root(m) };
	struct uvfs_pathop p = { .root = vd, .start = vd, .path = "", .flags = UVFS_PATH_EMPTY };
	char buf[64];
	ssize_t n = uvfs_readlink_at(vfs, &c, &p, buf, sizeof(buf));
	cr_assert_eq(n, 11, "readlink: %s", fx_err(n));
	cr_assert(!memcmp(buf, "/some/where", 11));
	uvfs_mount_put(m);

	struct uvfs_tmpfs_internal nolink = { .root_type = S_IFLNK };
	cr_assert_null(internal_mount(vfs, &nolink, NULL, &rc));
	FX_ASSERT_ERR(rc, -EINVAL);
	struct uvfs_tmpfs_internal chr = { .root_type = S_IFCHR };
	cr_assert_null(internal_mount(vfs, &chr, NULL, &rc));
	FX_ASSERT_ERR(rc, -EINVAL);
	struct uvfs_tmpfs_internal dir = { .root_type = S_IFDIR };
	m = internal_mount(vfs, &dir, "mode=700", &rc);
	FX_ASSERT_OK(rc);
	uvfs_mount_put(m);
	fx_destroy_checked(vfs);
}

Test(tmpfs_opts, listed_in_filesystems)
{
	struct uvfs *vfs = new_vfs();
	char buf[256];
	ssize_t n = uvfs_list_fs_types(vfs, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert(strstr(buf, "nodev\ttmpfs\n"), "got \"%s\"", buf);
	fx_destroy_checked(vfs);
}

/* Garbage option strings: only 0 or -EINVAL, never a crash or a leak. */
Test(tmpfs_opts, random_option_strings)
{
	static const char *parts[] = { "mode", "uid", "gid", "size", "nr_inodes", "=", ",", "0", "1777", "-1",
				       "k", "m", "g", "%", "x", "999999999999999999999", "", "bogus", "==", " " };
	struct uvfs *vfs = new_vfs();
	srand(7);
	char buf[128];
	int ok = 0, inval = 0;
	for (int i = 0; i < 400; i++) {
		buf[0] = 0;
		int n = 1 + rand() % 8;
		for (int j = 0; j < n; j++)
			strncat(buf, parts[rand() % (int)(sizeof(parts) / sizeof(parts[0]))], sizeof(buf) - strlen(buf) - 1);
		int p[2];
		cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
		int saved = dup(2);
		dup2(p[1], 2); /* keep the expected error lines out of the output */
		close(p[1]);
		int rc = try_mount(vfs, buf);
		dup2(saved, 2);
		close(saved);
		close(p[0]);
		cr_assert(rc == 0 || rc == -EINVAL, "\"%s\": %s", buf, fx_err(rc));
		rc ? inval++ : ok++;
	}
	cr_assert_gt(ok, 0);
	cr_assert_gt(inval, 0);
	fx_destroy_checked(vfs);
}

/* Writers racing for the last pages of size=: the limit holds exactly and
 * statfs agrees with the files' blocks afterwards. */
struct fill_arg {
	int id;
	_Atomic long enospc;
};
static void *filler(void *p)
{
	struct fill_arg *a = p;
	char path[32], buf[4096];
	memset(buf, 'f', sizeof(buf));
	snprintf(path, sizeof(path), "/w%d", a->id);
	struct uvfs_file *f;
	if (fx_open(path, O_RDWR | O_CREAT, 0644, &f))
		return NULL;
	for (int i = 0; i < 200; i++) {
		ssize_t n = uvfs_pwrite(f, buf, sizeof(buf), (off_t)i * 4096);
		if (n == -ENOSPC)
			atomic_fetch_add(&a->enospc, 1);
	}
	uvfs_file_put(f);
	return NULL;
}

Test(tmpfs_opts, size_limit_exact_under_concurrent_writers)
{
	fx_setup_opts("size=400k", 0); /* 100 pages for 4 writers wanting 200 each */
	pthread_t t[4];
	struct fill_arg a[4];
	for (int i = 0; i < 4; i++) {
		a[i] = (struct fill_arg){ .id = i };
		pthread_create(&t[i], NULL, filler, &a[i]);
	}
	long blocks = 0, enospc = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		char path[32];
		snprintf(path, sizeof(path), "/w%d", i);
		blocks += (long)tt_lstat(path).stx_blocks;
		enospc += atomic_load(&a[i].enospc);
	}
	cr_assert_eq(blocks, 100 * 8, "all 100 pages used, got %ld blocks", blocks);
	cr_assert_eq(enospc, 4 * 200 - 100);
	struct statfs sf;
	FX_ASSERT_OK(tt_statfs("/", &sf));
	cr_assert_eq(sf.f_bfree, 0);
	fx_teardown();
}

static void show(char *buf, size_t len)
{
	struct uvfs_filesystem *fs = uvfs_mount_fs(fx.root.mount);
	cr_assert_not_null(fs->ops->show_options);
	FX_ASSERT_OK(fs->ops->show_options(fs, buf, len));
}

Test(tmpfs_opts, show_options_effective_values)
{
	char buf[128];
	fx_setup();
	show(buf, sizeof(buf));
	cr_assert_str_eq(buf, "", "defaults show nothing");
	fx_teardown();
	fx_setup_opts("size=1,size=2m,nr_inodes=1k,mode=0755,uid=5,gid=6", 0);
	show(buf, sizeof(buf));
	cr_assert_str_eq(buf, "size=2048k,nr_inodes=1024,mode=755,uid=5,gid=6");
	struct uvfs_filesystem *fs = uvfs_mount_fs(fx.root.mount);
	FX_ASSERT_ERR(fs->ops->show_options(fs, buf, 10), -ERANGE);
	fx_teardown();
}
