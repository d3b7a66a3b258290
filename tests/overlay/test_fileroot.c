/* A regular-file root (the internal form boot uses for a file bind mount,
 * gVisor configureOverlay): the lower file is copied up whole into the
 * upper layer's regular-file root at mount time; the lower is never
 * written. */
#include "fsimpl/tmpfs/tmpfs.h"
#include "ov.h"
#include "uvfs_fs.h"

/* A tmpfs whose root is a regular file, disconnected. */
static struct uvfs_mount *file_tmpfs(void)
{
	struct uvfs_tmpfs_internal ti = { .root_type = S_IFREG };
	struct uvfs_mount *m = NULL;
	FX_ASSERT_OK(uvfs_mount_disconnected(fx.vfs, &fx.cred, "none", "tmpfs",
					     &(struct uvfs_mount_opts){ .internal = &ti, .internal_mount = true }, &m));
	return m;
}

static struct uvfs_vd vd_of(const char *path)
{
	struct uvfs_vd vd;
	struct uvfs_pathop p = fx_pop(path);
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, &vd));
	return vd;
}

static int mount_ovl(struct uvfs_vd *upper, struct uvfs_vd *work, struct uvfs_vd *lower, unsigned nlower,
		     struct uvfs_mount **out)
{
	struct uvfs_overlay_opts in = { .nlower = nlower, .lower = lower };
	if (upper)
		in.upper = *upper;
	if (work)
		in.work = *work;
	return uvfs_mount_disconnected(fx.vfs, &fx.cred, "overlay", "overlay",
				       &(struct uvfs_mount_opts){ .internal = &in, .internal_mount = true }, out);
}

static struct uvfs_pathop self_pop(struct uvfs_mount *m)
{
	struct uvfs_vd r = { m, uvfs_mount_root(m) };
	return (struct uvfs_pathop){ .root = r, .start = r, .path = "", .flags = UVFS_PATH_EMPTY };
}

static void read_all(struct uvfs_pathop *p, char *buf, size_t len)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.cred, p, O_RDONLY, 0, 0, &f));
	ssize_t n = uvfs_pread(f, buf, len - 1, 0);
	cr_assert_geq(n, 0, "%s", fx_err(n));
	buf[n] = 0;
	uvfs_file_put(f);
}

FX_TEST(ovl_fileroot, copied_up_whole_at_mount)
{
	ov_layers();
	fx_must_write("/l1/f", "lower file contents");
	FX_ASSERT_OK(fx_chown("/l1/f", 1234, 567));
	FX_ASSERT_OK(fx_chmod("/l1/f", 0640));
	FX_ASSERT_OK(ov_setx("/l1/f", "user.k", "v1"));
	struct uvfs_setattr t = { .mask = STATX_ATIME | STATX_MTIME, .atime = { 1000, 5 }, .mtime = { 2000, 7 } };
	struct uvfs_pathop pf = fx_pop("/l1/f");
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &pf, &t, 0));

	struct uvfs_mount *um = file_tmpfs();
	struct uvfs_vd upper = { um, uvfs_mount_root(um) };
	struct uvfs_vd lower = vd_of("/l1/f");
	struct uvfs_mount *om = NULL;
	int rc = mount_ovl(&upper, NULL, &lower, 1, &om);
	uvfs_vd_put(&lower);
	cr_assert_eq(rc, 0, "mount: %s", fx_err(rc));

	/* The upper root file holds the whole copy before anything is written. */
	char buf[128];
	struct uvfs_pathop up = self_pop(um);
	struct statx st; /* before reading it, which moves atime (relatime) */
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &up, STATX_BASIC_STATS, &st));
	cr_assert(S_ISREG(st.stx_mode));
	cr_assert_eq(st.stx_mode & 07777, 0640);
	cr_assert_eq(st.stx_uid, 1234);
	cr_assert_eq(st.stx_gid, 567);
	cr_assert_eq(st.stx_mtime.tv_sec, 2000);
	cr_assert_eq(st.stx_mtime.tv_nsec, 7);
	cr_assert_eq(st.stx_atime.tv_sec, 1000);
	read_all(&up, buf, sizeof buf);
	cr_assert_str_eq(buf, "lower file contents");
	char v[16];
	cr_assert_eq(uvfs_getxattr_at(fx.vfs, &fx.cred, &up, "user.k", v, sizeof v), 2);

	/* Through the overlay: the same file, and writes stay in the upper. */
	struct uvfs_pathop op = self_pop(om);
	read_all(&op, buf, sizeof buf);
	cr_assert_str_eq(buf, "lower file contents");
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &op, STATX_BASIC_STATS, &st));
	cr_assert(S_ISREG(st.stx_mode));
	cr_assert_eq(st.stx_mode & 07777, 0640);
	cr_assert_eq(st.stx_size, 19);
	struct uvfs_file *f;
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.cred, &op, O_WRONLY | O_TRUNC, 0, 0, &f));
	cr_assert_eq(uvfs_pwrite(f, "new", 3, 0), 3);
	uvfs_file_put(f);
	read_all(&op, buf, sizeof buf);
	cr_assert_str_eq(buf, "new");
	read_all(&up, buf, sizeof buf);
	cr_assert_str_eq(buf, "new");
	ov_expect_file("/l1/f", "lower file contents");
	struct uvfs_setattr ch = { .mask = STATX_MODE, .mode = 0600 };
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &op, &ch, 0));
	cr_assert_eq(fx_mode("/l1/f") & 07777, 0640);

	uvfs_mount_put(om);
	uvfs_mount_put(um);
}

FX_TEST(ovl_fileroot, sparse_copy_keeps_holes)
{
	ov_layers();
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/l1/f", O_CREAT | O_WRONLY, 0644, &f));
	cr_assert_eq(uvfs_pwrite(f, "end", 3, 8 << 20), 3);
	uvfs_file_put(f);
	struct uvfs_mount *um = file_tmpfs();
	struct uvfs_vd upper = { um, uvfs_mount_root(um) };
	struct uvfs_vd lower = vd_of("/l1/f");
	struct uvfs_mount *om = NULL;
	int rc = mount_ovl(&upper, NULL, &lower, 1, &om);
	uvfs_vd_put(&lower);
	cr_assert_eq(rc, 0, "mount: %s", fx_err(rc));
	struct uvfs_pathop up = self_pop(um);
	struct statx st;
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &up, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_size, (8 << 20) + 3);
	cr_assert_lt(st.stx_blocks, 64, "blocks %llu: holes filled", (unsigned long long)st.stx_blocks);
	uvfs_mount_put(om);
	uvfs_mount_put(um);
}

/* As Linux and gVisor: layers of a file root must all be files (ENOTDIR
 * for a directory mixed in), one lower, and an upper to copy into. */
FX_TEST(ovl_fileroot, bad_layer_combinations)
{
	ov_layers();
	fx_must_write("/l1/f", "x");
	fx_must_write("/l2/g", "y");
	struct uvfs_mount *um = file_tmpfs(), *om = NULL;
	struct uvfs_vd fup = { um, uvfs_mount_root(um) };
	struct uvfs_vd lows[2] = { vd_of("/l1/f"), vd_of("/l2/g") };
	struct uvfs_vd dlow = vd_of("/l2"), dup = vd_of("/up/u"), dwork = vd_of("/up/w");
	FX_ASSERT_ERR(mount_ovl(&fup, NULL, lows, 2, &om), -EINVAL); /* two lowers */
	FX_ASSERT_ERR(mount_ovl(NULL, NULL, lows, 2, &om), -EINVAL); /* read-only: nothing to copy into */
	FX_ASSERT_ERR(mount_ovl(&dup, &dwork, lows, 1, &om), -ENOTDIR); /* file under a dir upper */
	FX_ASSERT_ERR(mount_ovl(&fup, NULL, &dlow, 1, &om), -ENOTDIR); /* dir under a file upper */
	FX_ASSERT_ERR(mount_ovl(&fup, &dwork, lows, 1, &om), -EINVAL); /* no workdir for a file */
	/* The failed attempts wrote nothing into the upper file. */
	struct statx st;
	struct uvfs_pathop up = self_pop(um);
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &up, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_size, 0);
	for (int i = 0; i < 2; i++)
		uvfs_vd_put(&lows[i]);
	uvfs_vd_put(&dlow);
	uvfs_vd_put(&dup);
	uvfs_vd_put(&dwork);
	uvfs_mount_put(um);
}
