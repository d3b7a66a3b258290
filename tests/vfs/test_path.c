/* test_path.c — uvfs_vd_path: d_path and getcwd semantics (Linux
 * fs/d_path.c, gVisor PathnameWithDeleted / PathnameForGetcwd), checked
 * against what the host kernel prints for the same situations. */
#include "fixture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static void vd_of(const char *path, struct uvfs_vd *out)
{
	struct uvfs_pathop p = fx_popf(path);
	int rc = uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, out);
	cr_assert_eq(rc, 0, "get_dentry_at %s: %s", path, fx_err(rc));
}

/* Path of the vd at `path` seen from the namespace root. */
static void expect_path(const struct uvfs_vd *root, const struct uvfs_vd *vd, unsigned flags, const char *want)
{
	char buf[256];
	memset(buf, 'X', sizeof buf);
	ssize_t n = uvfs_vd_path(fx.vfs, root, vd, buf, sizeof buf, flags);
	cr_assert(n >= 0, "vd_path: %s (want %s)", fx_err(n), want);
	cr_assert_str_eq(buf, want);
	cr_assert_eq((size_t)n, strlen(want));
}

static void expect_at(const char *path, const char *want)
{
	struct uvfs_vd vd;
	vd_of(path, &vd);
	expect_path(&fx.root, &vd, 0, want);
	expect_path(&fx.root, &vd, UVFS_VD_PATH_GETCWD, want);
	expect_path(&fx.root, &vd, UVFS_VD_PATH_DELETED, want);
	uvfs_vd_put(&vd);
}

FX_TEST(path, plain_paths_and_root)
{
	expect_at("/", "/");
	fx_must_mkdir("/a", 0755);
	fx_must_mkdir("/a/b c", 0755);
	fx_must_write("/a/b c/f", "x");
	expect_at("/a", "/a");
	expect_at("/a/b c/f", "/a/b c/f");
	expect_at("/a/b c/../b c/./f", "/a/b c/f");
}

FX_TEST(path, crosses_mounts_upward)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	fx_must_mkdir("/m/n", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m/n", NULL, 0));
	fx_must_mkdir("/m/n/d", 0755);
	expect_at("/m", "/m");
	expect_at("/m/n", "/m/n");
	expect_at("/m/n/d", "/m/n/d");
	/* Stacked on the same point: the top mount's root has the same path. */
	FX_ASSERT_OK(fx_mount_tmpfs("/m/n", NULL, 0));
	expect_at("/m/n", "/m/n");
	FX_ASSERT_OK(fx_umount("/m/n", 0));
	FX_ASSERT_OK(fx_umount("/m/n", 0));
	FX_ASSERT_OK(fx_umount("/m", 0));
}

FX_TEST(path, relative_to_a_subdirectory_root)
{
	fx_must_mkdir("/jail", 0755);
	fx_must_mkdir("/jail/in", 0755);
	fx_must_mkdir("/jail/in/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/jail/in/m", NULL, 0));
	fx_must_mkdir("/out", 0755);
	struct uvfs_vd jail, in, m, out;
	vd_of("/jail", &jail);
	vd_of("/jail/in", &in);
	vd_of("/jail/in/m", &m);
	vd_of("/out", &out);
	expect_path(&jail, &jail, 0, "/");
	expect_path(&jail, &jail, UVFS_VD_PATH_GETCWD, "/");
	expect_path(&jail, &in, UVFS_VD_PATH_GETCWD, "/in");
	expect_path(&jail, &m, UVFS_VD_PATH_GETCWD, "/in/m");
	/* Host (chroot /t/jail, cwd /t/out): getcwd gives "(unreachable)/t/out",
	 * the fd link "/t/out": the path from the top of the mount tree. */
	expect_path(&jail, &out, 0, "/out");
	expect_path(&jail, &out, UVFS_VD_PATH_GETCWD, "(unreachable)/out");
	uvfs_vd_put(&jail);
	uvfs_vd_put(&in);
	uvfs_vd_put(&m);
	uvfs_vd_put(&out);
	FX_ASSERT_OK(fx_umount("/jail/in/m", 0));
}

FX_TEST(path, deleted_file_and_cwd)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/f", "x");
	fx_must_mkdir("/d/gone", 0755);
	struct uvfs_vd f, gone;
	vd_of("/d/f", &f);
	vd_of("/d/gone", &gone);
	struct uvfs_pathop p = fx_pop("/d/f");
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &p));
	p = fx_pop("/d/gone");
	FX_ASSERT_OK(uvfs_rmdir_at(fx.vfs, &fx.cred, &p));
	/* Host: readlink /proc/self/fd/N of an unlinked file gives
	 * "/t/gone (deleted)"; getcwd in a removed directory ENOENT (even with
	 * a buffer too small for the path). */
	expect_path(&fx.root, &f, UVFS_VD_PATH_DELETED, "/d/f (deleted)");
	expect_path(&fx.root, &f, 0, "/d/f");
	expect_path(&fx.root, &gone, UVFS_VD_PATH_DELETED, "/d/gone (deleted)");
	char buf[64];
	FX_ASSERT_ERR(uvfs_vd_path(fx.vfs, &fx.root, &gone, buf, sizeof buf, UVFS_VD_PATH_GETCWD), -ENOENT);
	FX_ASSERT_ERR(uvfs_vd_path(fx.vfs, &fx.root, &gone, buf, 2, UVFS_VD_PATH_GETCWD), -ENOENT);
	uvfs_vd_put(&f);
	uvfs_vd_put(&gone);
}

FX_TEST(path, erange_exactly_at_the_boundary)
{
	fx_must_mkdir("/abc", 0755);
	fx_must_write("/abc/de", "x");
	struct uvfs_vd vd, root;
	vd_of("/abc/de", &vd);
	vd_of("/", &root);
	char buf[32];
	/* "/abc/de" is 7 bytes plus the NUL. */
	FX_ASSERT_ERR(uvfs_vd_path(fx.vfs, &fx.root, &vd, buf, 7, 0), -ERANGE);
	FX_ASSERT_ERR(uvfs_vd_path(fx.vfs, &fx.root, &vd, buf, 0, 0), -ERANGE);
	FX_ASSERT_ERR(uvfs_vd_path(fx.vfs, &fx.root, &vd, buf, 8, 0), 7);
	cr_assert_str_eq(buf, "/abc/de");
	FX_ASSERT_ERR(uvfs_vd_path(fx.vfs, &fx.root, &root, buf, 1, 0), -ERANGE);
	FX_ASSERT_ERR(uvfs_vd_path(fx.vfs, &fx.root, &root, buf, 2, 0), 1);
	cr_assert_str_eq(buf, "/");
	/* The suffix counts too. */
	struct uvfs_pathop p = fx_pop("/abc/de");
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &p));
	FX_ASSERT_ERR(uvfs_vd_path(fx.vfs, &fx.root, &vd, buf, 17, UVFS_VD_PATH_DELETED), -ERANGE);
	FX_ASSERT_ERR(uvfs_vd_path(fx.vfs, &fx.root, &vd, buf, 18, UVFS_VD_PATH_DELETED), 17);
	/* "(unreachable)" too: root /abc, vd "/" -> "(unreachable)/" (14). */
	struct uvfs_vd abc;
	vd_of("/abc", &abc);
	FX_ASSERT_ERR(uvfs_vd_path(fx.vfs, &abc, &root, buf, 14, UVFS_VD_PATH_GETCWD), -ERANGE);
	FX_ASSERT_ERR(uvfs_vd_path(fx.vfs, &abc, &root, buf, 15, UVFS_VD_PATH_GETCWD), 14);
	cr_assert_str_eq(buf, "(unreachable)/");
	FX_ASSERT_ERR(uvfs_vd_path(fx.vfs, &fx.root, &root, buf, sizeof buf, 0x80), -EINVAL);
	uvfs_vd_put(&abc);
	uvfs_vd_put(&vd);
	uvfs_vd_put(&root);
}

/* Host: chroot into a bind mount of /t/sub, cwd /t/sub/y/z, then rename
 * /t/sub/y to /t/yy: getcwd gives "(unreachable)/", the fd link "/". */
FX_TEST(path, renamed_out_of_a_bind_mount)
{
	fx_must_mkdir("/src", 0755);
	fx_must_mkdir("/src/y", 0755);
	fx_must_mkdir("/src/y/z", 0755);
	fx_must_mkdir("/b", 0755);
	struct uvfs_pathop s = fx_popf("/src"), d = fx_popf("/b");
	FX_ASSERT_OK(uvfs_bind_at(fx.vfs, &fx.cred, &s, &d, 0));
	struct uvfs_vd b, z;
	vd_of("/b", &b);
	vd_of("/b/y/z", &z);
	expect_path(&fx.root, &z, 0, "/b/y/z");
	expect_path(&b, &z, UVFS_VD_PATH_GETCWD, "/y/z");
	struct uvfs_pathop o = fx_pop("/src/y"), n = fx_pop("/yy");
	FX_ASSERT_OK(uvfs_rename_at(fx.vfs, &fx.cred, &o, &n, 0));
	expect_path(&b, &z, UVFS_VD_PATH_GETCWD, "(unreachable)/");
	expect_path(&b, &z, 0, "/");
	expect_path(&fx.root, &z, 0, "/");
	uvfs_vd_put(&b);
	uvfs_vd_put(&z);
	FX_ASSERT_OK(fx_umount("/b", 0));
}

/* A lazily umounted mount: the path from its own root, unreachable. */
FX_TEST(path, detached_mount)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	fx_must_mkdir("/m/x", 0755);
	struct uvfs_vd x;
	vd_of("/m/x", &x);
	FX_ASSERT_OK(fx_umount("/m", UVFS_UMOUNT_DETACH));
	expect_path(&fx.root, &x, 0, "/x");
	expect_path(&fx.root, &x, UVFS_VD_PATH_GETCWD, "(unreachable)/x");
	uvfs_vd_put(&x);
}

/* ------------------------------------------------ concurrent renames */

/* /U0/m/m/.../m/L0/leaf, DEPTH m's: the climb reads L long before U. */
#define DEPTH 100

struct race {
	atomic_bool stop;
	char mid[2 * DEPTH + 1]; /* "/m" * DEPTH */
};

static void *renamer(void *arg)
{
	struct race *r = arg;
	char l0[300], l1[300];
	snprintf(l0, sizeof l0, "/U0%s/L0", r->mid);
	snprintf(l1, sizeof l1, "/U0%s/L1", r->mid);
	struct uvfs_pathop pl0 = fx_pop(l0), pl1 = fx_pop(l1), u0 = fx_pop("/U0"), u1 = fx_pop("/U1");
	while (!atomic_load(&r->stop)) {
		/* States: (L0,U0) (L1,U0) (L1,U1) (L1,U0) (L0,U0). (L0,U1) never
		 * exists: a reader that took L0 before the first rename and U1
		 * after the second would return a torn path. */
		cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &pl0, &pl1, 0), 0);
		cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &u0, &u1, 0), 0);
		cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &u1, &u0, 0), 0);
		cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &pl1, &pl0, 0), 0);
	}
	return NULL;
}

static void *mounter(void *arg)
{
	struct race *r = arg;
	while (!atomic_load(&r->stop)) {
		cr_assert_eq(fx_mount_tmpfs("/mnt", NULL, 0), 0);
		cr_assert_eq(fx_umount("/mnt", 0), 0);
	}
	return NULL;
}

FX_TEST(path, never_torn_under_concurrent_renames_and_mounts)
{
	struct race r;
	atomic_init(&r.stop, false);
	for (int i = 0; i < DEPTH; i++)
		memcpy(r.mid + 2 * i, "/m", 2);
	r.mid[2 * DEPTH] = 0;
	char p[300], want[3][300];
	fx_must_mkdir("/U0", 0755);
	for (int i = 1; i <= DEPTH; i++) {
		snprintf(p, sizeof p, "/U0%.*s", 2 * i, r.mid);
		fx_must_mkdir(p, 0755);
	}
	snprintf(p, sizeof p, "/U0%s/L0", r.mid);
	fx_must_mkdir(p, 0755);
	snprintf(p, sizeof p, "/U0%s/L0/leaf", r.mid);
	fx_must_mkdir(p, 0755);
	snprintf(want[0], sizeof want[0], "/U0%s/L0/leaf", r.mid);
	snprintf(want[1], sizeof want[1], "/U0%s/L1/leaf", r.mid);
	snprintf(want[2], sizeof want[2], "/U1%s/L1/leaf", r.mid);
	fx_must_mkdir("/mnt", 0755);
	fx_must_mkdir("/mnt/under", 0755);
	struct uvfs_vd leaf, under;
	vd_of(p, &leaf);
	vd_of("/mnt/under", &under);
	pthread_t t1, t2;
	pthread_create(&t1, NULL, renamer, &r);
	pthread_create(&t2, NULL, mounter, &r);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long n = 0, seen[3] = { 0 };
	char buf[300];
	for (;; n++) {
		ssize_t len = uvfs_vd_path(fx.vfs, &fx.root, &leaf, buf, sizeof buf, 0);
		cr_assert(len > 0, "%s", fx_err(len));
		int k = 0;
		while (k < 3 && strcmp(buf, want[k]))
			k++;
		cr_assert(k < 3, "torn path after %ld calls: %.12s...%s", n, buf, buf + len - 12);
		seen[k]++;
		len = uvfs_vd_path(fx.vfs, &fx.root, &under, buf, sizeof buf, 0);
		cr_assert(len > 0 && !strcmp(buf, "/mnt/under"), "under: %s", buf);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= 2)
			break;
	}
	atomic_store(&r.stop, true);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	cr_log_info("%ld calls: %ld L0U0, %ld L1U0, %ld L1U1", n, seen[0], seen[1], seen[2]);
	uvfs_vd_put(&leaf);
	uvfs_vd_put(&under);
}
