/* test_lifecycle.c — the file-op lifecycle contract (review C3) and the
 * non-complete-filesystem corners of rename and getdents64 (C10), on
 * "countfs": a tiny non-complete filesystem (a ->lookup, no
 * DCACHE_COMPLETE) whose root lists a few regular files and counts every
 * ->open, ->release, ->truncate and ->iterate call.
 *
 * Includes internal.h to look at dentry flags: the tests link the static
 * library, where hidden symbols and layouts are visible. */
#include "fixture.h"
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>

/* ----------------------------------------------------------- countfs */

#define CFS_MAX 8
static struct {
	int opens, releases, truncs, opens_at_trunc, iterates;
	int fail_open; /* next ->open returns -EIO */
	struct uvfs_dentry *held; /* a negative dentry the "cache" keeps */
	char names[CFS_MAX][32]; /* "" = free slot */
} cfs;

static void cfs_release_fs(struct uvfs_filesystem *fs) { free(fs); }
static void cfs_free_inode(struct uvfs_inode *inode) { free(inode); }
static const struct uvfs_fs_ops cfs_fs_ops = { .release = cfs_release_fs, .free_inode = cfs_free_inode };

static int f_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	(void)inode, (void)f;
	if (cfs.fail_open) {
		cfs.fail_open = 0;
		return -EIO;
	}
	cfs.opens++;
	return 0;
}
static void f_release(struct uvfs_file *f)
{
	(void)f;
	cfs.releases++;
}
static ssize_t f_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	(void)f, (void)buf, (void)len, (void)off;
	return 0;
}
static int f_truncate(struct uvfs_inode *inode, uint64_t size)
{
	cfs.truncs++;
	cfs.opens_at_trunc = cfs.opens;
	uvfs_inode_attr_begin(inode);
	inode->i_size = size;
	uvfs_inode_attr_end(inode);
	return 0;
}
static const struct uvfs_file_ops cfs_file_fops = { .open = f_open, .release = f_release, .read = f_read };
static const struct uvfs_inode_ops cfs_file_iops = { .truncate = f_truncate };

static struct uvfs_inode *cfs_inode(struct uvfs_filesystem *fs, const struct uvfs_inode_ops *iop,
				    const struct uvfs_file_ops *fop, uint64_t ino, mode_t mode)
{
	struct uvfs_inode *i = calloc(1, sizeof(*i));
	cr_assert(i);
	uvfs_inode_init(i, fs, iop, fop, ino, mode);
	i->i_mode = mode;
	i->i_nlink = S_ISDIR(mode) ? 2 : 1;
	i->i_size = 10;
	i->i_atime = i->i_mtime = i->i_ctime = i->i_btime = uvfs_now();
	return i;
}

static int cfs_find(const char *name, size_t len)
{
	for (int k = 0; k < CFS_MAX; k++)
		if (strlen(cfs.names[k]) == len && !memcmp(cfs.names[k], name, len))
			return k;
	return -1;
}

static int d_lookup_op(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	size_t len;
	const char *name = uvfs_dentry_name(d, &len);
	int k = cfs_find(name, len);
	if (k < 0) {
		if (len == 3 && !memcmp(name, "neg", 3) && !cfs.held) {
			/* Keep the negative answer alive, as an LRU would. */
			uvfs_dentry_get(d);
			cfs.held = d;
		}
		return 0;
	}
	uvfs_d_instantiate(d, cfs_inode(dir->i_fs, &cfs_file_iops, &cfs_file_fops, 10 + (uint64_t)k, S_IFREG | 0666));
	return 0;
}

static int d_rename_op(struct uvfs_inode *odir, struct uvfs_dentry *od, struct uvfs_inode *ndir,
		       struct uvfs_dentry *nd, unsigned flags, const struct uvfs_cred *cred, struct uvfs_dentry *wd)
{
	(void)odir, (void)ndir, (void)cred, (void)wd;
	if (flags)
		return -EINVAL;
	size_t ol, nl;
	const char *on = uvfs_dentry_name(od, &ol), *nn = uvfs_dentry_name(nd, &nl);
	int k = cfs_find(on, ol), v = cfs_find(nn, nl);
	if (k < 0 || nl >= sizeof(cfs.names[0]))
		return -ENOENT;
	if (v >= 0)
		cfs.names[v][0] = 0;
	memcpy(cfs.names[k], nn, nl);
	cfs.names[k][nl] = 0;
	return 0;
}

static int d_iterate(struct uvfs_file *f, struct uvfs_dir_ctx *ctx)
{
	cfs.iterates++;
	if (uvfs_dir_emit_dots(f, ctx))
		return 0;
	for (int k = (int)ctx->pos - 2; k >= 0 && k < CFS_MAX; k++) {
		if (cfs.names[k][0] && ctx->emit(ctx, cfs.names[k], strlen(cfs.names[k]), 10 + (uint64_t)k, DT_REG, k + 3))
			return 0;
		ctx->pos = k + 3;
	}
	return 0;
}

static const struct uvfs_inode_ops cfs_dir_iops = { .lookup = d_lookup_op, .rename = d_rename_op };
static const struct uvfs_file_ops cfs_dir_fops = { .iterate = d_iterate };

static int cfs_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		      const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out);
static const struct uvfs_fs_type countfs_type = { .name = "countfs", .get_fs = cfs_get_fs };

static int cfs_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		      const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	(void)cred, (void)source, (void)opts;
	struct uvfs_filesystem *fs = calloc(1, sizeof(*fs));
	cr_assert(fs);
	int err = uvfs_fs_init(fs, vfs, &countfs_type, &cfs_fs_ops);
	cr_assert_eq(err, 0);
	struct uvfs_inode *root = cfs_inode(fs, &cfs_dir_iops, &cfs_dir_fops, 1, S_IFDIR | 0777);
	cr_assert_eq(uvfs_d_make_root(fs, root, &fs->root), 0);
	*out = fs;
	return 0;
}

/* countfs on /c (read-only if ro), with files "f" and "g". */
static void cfs_mount(bool ro)
{
	memset(&cfs, 0, sizeof(cfs));
	strcpy(cfs.names[0], "f");
	strcpy(cfs.names[1], "g");
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &countfs_type, UVFS_FS_USER_MOUNT));
	fx_must_mkdir("/c", 0755);
	struct uvfs_pathop p = fx_pop("/c");
	struct uvfs_mount_opts o = { .flags = ro ? UVFS_MNT_RDONLY : 0 };
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "none", &p, "countfs", &o));
}

static void cfs_done(void)
{
	if (cfs.held)
		uvfs_dentry_put(cfs.held);
	cfs.held = NULL;
	FX_ASSERT_OK(fx_umount("/c", 0));
}

/* ------------------------------------------------------------------ C3 */

FX_TEST(lifecycle, o_path_never_calls_the_filesystem)
{
	cfs_mount(false);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/c/f", O_PATH, 0, &f));
	char b[4];
	FX_ASSERT_ERR(uvfs_read(f, b, sizeof b), -EBADF);
	uvfs_file_put(f);
	cr_assert_eq(cfs.opens, 0, "O_PATH ran ->open");
	cr_assert_eq(cfs.releases, 0, "O_PATH ran ->release %d times", cfs.releases);
	cfs_done();
}

FX_TEST(lifecycle, failed_o_trunc_balances_open_and_release)
{
	cfs_mount(true);
	struct uvfs_file *f;
	FX_ASSERT_ERR(fx_open("/c/f", O_RDONLY | O_TRUNC, 0, &f), -EROFS);
	cr_assert_eq(cfs.opens, cfs.releases, "opens %d, releases %d", cfs.opens, cfs.releases);
	cr_assert_eq(cfs.truncs, 0);
	/* A plain read-only open still pairs up. */
	FX_ASSERT_OK(fx_open("/c/f", O_RDONLY, 0, &f));
	uvfs_file_put(f);
	cr_assert_eq(cfs.opens, cfs.releases, "opens %d, releases %d", cfs.opens, cfs.releases);
	cfs_done();
}

FX_TEST(lifecycle, o_trunc_runs_after_open)
{
	cfs_mount(false);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/c/f", O_WRONLY | O_TRUNC, 0, &f));
	cr_assert_eq(cfs.truncs, 1);
	cr_assert_eq(cfs.opens_at_trunc, 1, "truncated before ->open");
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_SIZE, &st));
	cr_assert_eq(st.stx_size, 0);
	uvfs_file_put(f);
	cr_assert_eq(cfs.opens, 1);
	cr_assert_eq(cfs.releases, 1);
	cfs_done();
}

FX_TEST(lifecycle, failed_open_skips_release)
{
	cfs_mount(false);
	struct uvfs_file *f;
	cfs.fail_open = 1;
	FX_ASSERT_ERR(fx_open("/c/f", O_RDWR, 0, &f), -EIO);
	cr_assert_eq(cfs.releases, 0);
	/* ->open failing after the truncate-free path leaves no writer behind. */
	struct uvfs_vd vd;
	struct uvfs_pathop p = fx_pop("/c");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, &vd));
	FX_ASSERT_OK(uvfs_set_mount_readonly(vd.mount, true));
	uvfs_vd_put(&vd);
	cfs_done();
}

/* ----------------------------------------------------------------- C10 */

FX_TEST(lifecycle, rename_onto_negative_hashed_dentry_unhashes_it)
{
	cfs_mount(false);
	struct statx st;
	FX_ASSERT_ERR(fx_lstat("/c/neg", &st), -ENOENT);
	cr_assert(cfs.held, "lookup did not see neg");
	cr_assert(atomic_load(&cfs.held->d_flags) & DF_HASHED, "the negative answer is cached");
	struct uvfs_pathop o = fx_pop("/c/f"), n = fx_pop("/c/neg");
	FX_ASSERT_OK(uvfs_rename_at(fx.vfs, &fx.cred, &o, &n, 0));
	cr_assert(!(atomic_load(&cfs.held->d_flags) & DF_HASHED), "stale negative dentry still hashed under neg");
	FX_ASSERT_OK(fx_lstat("/c/neg", &st));
	FX_ASSERT_ERR(fx_lstat("/c/f", &st), -ENOENT);
	cfs_done();
}

/* The "does the next record fit" answer comes from the same pass. */
FX_TEST(lifecycle, getdents64_small_buffer_is_one_pass)
{
	cfs_mount(false);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/c", O_RDONLY | O_DIRECTORY, 0, &f));
	char buf[512];
	FX_ASSERT_ERR(uvfs_getdents64(f, buf, 8), -EINVAL);
	cr_assert_eq(cfs.iterates, 1, "->iterate ran %d times", cfs.iterates);
	/* "." fits in 24 bytes, ".." does not: one record, offset left at "..". */
	cr_assert_eq(uvfs_getdents64(f, buf, 24), 24);
	cr_assert_eq(cfs.iterates, 2);
	cr_assert_eq(uvfs_seek(f, 0, SEEK_CUR), 1);
	ssize_t n = uvfs_getdents64(f, buf, sizeof buf);
	cr_assert_eq(n, 3 * 24, "got %zd", n);
	struct dirent64 *de = (struct dirent64 *)buf;
	cr_assert_str_eq(de->d_name, "..");
	cr_assert_eq(uvfs_getdents64(f, buf, sizeof buf), 0);
	cr_assert_eq(uvfs_getdents64(f, buf, 8), 0, "at the end a small buffer is EOF, not EINVAL");
	uvfs_file_put(f);
	cfs_done();
}

/* Generic llseek (countfs has no ->llseek). */
FX_TEST(lifecycle, generic_seek_hole_data)
{
	cfs_mount(false);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/c/f", O_RDONLY, 0, &f));
	FX_ASSERT_ERR(uvfs_seek(f, -1, SEEK_DATA), -ENXIO);
	FX_ASSERT_ERR(uvfs_seek(f, -1, SEEK_HOLE), -ENXIO);
	cr_assert_eq(uvfs_seek(f, 3, SEEK_DATA), 3);
	cr_assert_eq(uvfs_seek(f, 3, SEEK_HOLE), 10);
	FX_ASSERT_ERR(uvfs_seek(f, 10, SEEK_DATA), -ENXIO);
	uvfs_file_put(f);
	FX_ASSERT_OK(fx_open("/c", O_RDONLY | O_DIRECTORY, 0, &f));
	FX_ASSERT_ERR(uvfs_seek(f, 0, SEEK_DATA), -EINVAL);
	FX_ASSERT_ERR(uvfs_seek(f, 0, SEEK_HOLE), -EINVAL);
	uvfs_file_put(f);
	cfs_done();
}
