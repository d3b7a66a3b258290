/* tests/verity/test_verity_treedir.c — trees and manifests in a separate
 * directory (uvfs_verity_seal_dirs, struct uvfs_verity_mount.tree_dir,
 * tree_dir=PATH): the data directory stays untouched, the root hash is the
 * same as with trees beside the files, tampering with either side is EIO
 * for exactly the affected object, the pair moves as a whole (copied
 * elsewhere with owners and modes, same root hash), and runtime enable
 * stores its trees there too. */
#include <linux/fs.h>
#include <linux/fsverity.h>
#include <stdio.h>

#include "verityfs_util.h"

#define N (70 * 4096 + 9) /* a two-level tree */

/* /SRC: f, l -> f, sub/ (0750) x (uid 1000), sub/deep/y. */
static void make_tree(const char *src)
{
	char p[128];
	fx_must_mkdir(src, 0755);
	snprintf(p, sizeof p, "%s/sub", src);
	fx_must_mkdir(p, 0750);
	snprintf(p, sizeof p, "%s/sub/deep", src);
	fx_must_mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/f", src);
	vu_write(p, N, 1);
	snprintf(p, sizeof p, "%s/sub/x", src);
	vu_write(p, 5000, 2);
	FX_ASSERT_OK(fx_chown(p, 1000, 1000));
	snprintf(p, sizeof p, "%s/sub/deep/y", src);
	vu_write(p, 10, 3);
	snprintf(p, sizeof p, "%s/l", src);
	FX_ASSERT_OK(fx_symlink("f", p));
}

static struct uvfs_vd get(const char *path)
{
	struct uvfs_vd vd;
	struct uvfs_pathop pop = fx_pop(path);
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pop, 0, &vd));
	return vd;
}

static void seal_dirs(const char *data, const char *trees, uint8_t hash[32])
{
	struct uvfs_vd d = get(data), t = { 0 };
	if (trees)
		t = get(trees);
	FX_ASSERT_OK(uvfs_verity_seal_dirs(fx.vfs, &fx.cred, &d, trees ? &t : NULL, hash));
	uvfs_vd_put(&d);
	if (trees)
		uvfs_vd_put(&t);
}

static int mount_td(const uint8_t *hash, const char *data, const char *lower, const char *trees,
		    struct uvfs_mount **out)
{
	int rr = uvfs_register_fs_type(fx.vfs, &uvfs_verity_type, UVFS_FS_USER_LIST);
	cr_assert(rr == 0 || rr == -EEXIST);
	struct uvfs_verity_mount vm = { .root_hash = hash, .action = UVFS_VERITY_ACTION_ERROR, .lower = get(lower) };
	if (trees)
		vm.tree_dir = get(trees);
	struct uvfs_mount_opts mo = { .data = data, .internal = &vm, .internal_mount = true };
	int err = uvfs_mount_disconnected(fx.vfs, &fx.cred, "none", "verity", &mo, out);
	uvfs_vd_put(&vm.lower);
	if (trees)
		uvfs_vd_put(&vm.tree_dir);
	return err;
}

/* 0 if path reads back whole through m (pattern seed, n bytes), else the
 * first error. */
static int read_back(struct uvfs_mount *m, const char *path)
{
	struct uvfs_file *f;
	int err = vu_open(m, path, O_RDONLY, &f);
	if (err)
		return err;
	uint8_t buf[8192];
	ssize_t r;
	uint64_t off = 0;
	while ((r = uvfs_pread(f, buf, sizeof buf, (off_t)off)) > 0)
		off += (uint64_t)r;
	uvfs_file_put(f);
	return r < 0 ? (int)r : 0;
}

static int list(struct uvfs_mount *m, const char *path)
{
	struct uvfs_file *d;
	int err = vu_open(m, path, O_RDONLY | O_DIRECTORY, &d);
	if (err)
		return err;
	char buf[4096];
	ssize_t r;
	while ((r = uvfs_getdents64(d, buf, sizeof buf)) > 0)
		;
	uvfs_file_put(d);
	return r < 0 ? (int)r : 0;
}

static void all_good(struct uvfs_mount *m)
{
	FX_ASSERT_OK(read_back(m, "f"));
	FX_ASSERT_OK(read_back(m, "l"));
	FX_ASSERT_OK(read_back(m, "sub/x"));
	FX_ASSERT_OK(read_back(m, "sub/deep/y"));
	FX_ASSERT_OK(list(m, "."));
	FX_ASSERT_OK(list(m, "sub"));
	FX_ASSERT_OK(list(m, "sub/deep"));
}

FX_TEST(verity_treedir, sealed_layout_and_tamper)
{
	uint8_t h_sep[32], h_beside[32];
	struct uvfs_mount *m;
	make_tree("/lower");
	fx_must_mkdir("/trees", 0700);
	seal_dirs("/lower", "/trees", h_sep);

	/* The data directory is untouched; the mirror holds everything. */
	char names[256];
	fx_list_dir("/lower", names, sizeof names);
	cr_assert_str_eq(names, "f,l,sub");
	fx_list_dir("/lower/sub", names, sizeof names);
	cr_assert_str_eq(names, "deep,x");
	fx_list_dir("/trees", names, sizeof names);
	cr_assert_str_eq(names, ".merkle.verity,.merkle.verity.f,sub");
	fx_list_dir("/trees/sub/deep", names, sizeof names);
	cr_assert_str_eq(names, ".merkle.verity,.merkle.verity.y");

	FX_ASSERT_OK(mount_td(h_sep, NULL, "/lower", "/trees", &m));
	all_good(m);
	uvfs_mount_put(m);
	/* The option form: a path from the root of the lower's mount. */
	FX_ASSERT_OK(mount_td(h_sep, "tree_dir=/trees", "/lower", NULL, &m));
	all_good(m);
	uvfs_mount_put(m);
	FX_ASSERT_ERR(mount_td(h_sep, "tree_dir=/nope", "/lower", NULL, &m), -ENOENT);
	FX_ASSERT_ERR(mount_td(h_sep, "tree_dir=/lower/f", "/lower", NULL, &m), -ENOTDIR);
	/* Without the tree directory the lower has no manifest: EIO. */
	FX_ASSERT_ERR(mount_td(h_sep, NULL, "/lower", NULL, &m), -EIO);

	/* Tampering on the data side: EIO for that file only. */
	struct uvfs_file *w;
	FX_ASSERT_OK(fx_open("/lower/f", O_WRONLY, 0, &w));
	cr_assert_eq(uvfs_pwrite(w, "!", 1, 40 * 4096), 1);
	uvfs_file_put(w);
	FX_ASSERT_OK(mount_td(h_sep, NULL, "/lower", "/trees", &m));
	FX_ASSERT_ERR(read_back(m, "f"), -EIO);
	FX_ASSERT_OK(read_back(m, "sub/x"));
	uvfs_mount_put(m);
	vu_write("/lower/f", N, 1); /* restored */

	/* On the tree side: a replaced tree block of sub/x's... */
	FX_ASSERT_OK(fx_open("/trees/sub/.merkle.verity.x", O_WRONLY | O_TRUNC, 0, &w));
	uvfs_file_put(w);
	FX_ASSERT_OK(mount_td(h_sep, NULL, "/lower", "/trees", &m));
	FX_ASSERT_ERR(read_back(m, "sub/x"), -EIO);
	FX_ASSERT_OK(read_back(m, "f"));
	FX_ASSERT_OK(read_back(m, "sub/deep/y"));
	uvfs_mount_put(m);
	/* ...and a missing mirror directory: EIO for that directory. */
	seal_dirs("/lower", "/trees", h_sep);
	struct uvfs_pathop pop = fx_pop("/trees/sub/deep/.merkle.verity");
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &pop));
	pop = fx_pop("/trees/sub/deep/.merkle.verity.y");
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &pop));
	pop = fx_pop("/trees/sub/deep");
	FX_ASSERT_OK(uvfs_rmdir_at(fx.vfs, &fx.cred, &pop));
	FX_ASSERT_OK(mount_td(h_sep, NULL, "/lower", "/trees", &m));
	FX_ASSERT_ERR(read_back(m, "sub/deep/y"), -EIO);
	FX_ASSERT_OK(read_back(m, "sub/x"));
	FX_ASSERT_OK(read_back(m, "f"));
	uvfs_mount_put(m);

	/* The root hash does not depend on where the trees live. */
	seal_dirs("/lower", NULL, h_beside);
	cr_assert(!memcmp(h_sep, h_beside, 32));
}

/* Copies the tree at src to dst keeping modes and owners (tar's job). */
static void copy_tree(const char *src, const char *dst)
{
	struct statx st;
	FX_ASSERT_OK(fx_lstat(src, &st));
	if (S_ISDIR(st.stx_mode)) {
		fx_must_mkdir(dst, 0700);
		struct uvfs_file *d;
		FX_ASSERT_OK(fx_open(src, O_RDONLY | O_DIRECTORY, 0, &d));
		char buf[4096];
		ssize_t r;
		while ((r = uvfs_getdents64(d, buf, sizeof buf)) > 0) {
			for (ssize_t o = 0; o < r;) {
				struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; }
					*e = (void *)(buf + o);
				o += e->reclen;
				if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
					continue;
				char s2[4352], d2[4352];
				snprintf(s2, sizeof s2, "%s/%s", src, e->name);
				snprintf(d2, sizeof d2, "%s/%s", dst, e->name);
				copy_tree(s2, d2);
			}
		}
		cr_assert_eq(r, 0);
		uvfs_file_put(d);
	} else if (S_ISLNK(st.stx_mode)) {
		char t[256];
		struct uvfs_pathop pop = fx_pop(src);
		ssize_t n = uvfs_readlink_at(fx.vfs, &fx.cred, &pop, t, sizeof t - 1);
		cr_assert_gt(n, 0);
		t[n] = 0;
		FX_ASSERT_OK(fx_symlink(t, dst));
		return; /* symlinks: root-owned either way here */
	} else {
		uint8_t *p = malloc(st.stx_size + 1);
		struct uvfs_file *f;
		FX_ASSERT_OK(fx_open(src, O_RDONLY, 0, &f));
		cr_assert_eq(uvfs_pread(f, p, st.stx_size, 0), (ssize_t)st.stx_size);
		uvfs_file_put(f);
		FX_ASSERT_OK(fx_open(dst, O_WRONLY | O_CREAT | O_EXCL, 0600, &f));
		cr_assert_eq(uvfs_pwrite(f, p, st.stx_size, 0), (ssize_t)st.stx_size);
		uvfs_file_put(f);
		free(p);
	}
	FX_ASSERT_OK(fx_chown(dst, st.stx_uid, st.stx_gid));
	FX_ASSERT_OK(fx_chmod(dst, st.stx_mode & 07777));
}

/* A sealed pair moved elsewhere (both layouts) mounts with the same hash. */
FX_TEST(verity_treedir, moves_as_a_whole)
{
	uint8_t h[32], h2[32];
	struct uvfs_mount *m;
	make_tree("/lower");
	fx_must_mkdir("/trees", 0755);
	seal_dirs("/lower", "/trees", h);
	fx_must_mkdir("/elsewhere", 0755);
	copy_tree("/lower", "/elsewhere/data");
	copy_tree("/trees", "/elsewhere/trees");
	FX_ASSERT_OK(mount_td(h, NULL, "/elsewhere/data", "/elsewhere/trees", &m));
	all_good(m);
	uvfs_mount_put(m);

	/* Beside the files: the one directory moves. */
	fx_must_mkdir("/b", 0755);
	make_tree("/b/lower");
	seal_dirs("/b/lower", NULL, h2);
	cr_assert(!memcmp(h, h2, 32));
	copy_tree("/b/lower", "/elsewhere/beside");
	FX_ASSERT_OK(mount_td(h, NULL, "/elsewhere/beside", NULL, &m));
	all_good(m);
	uvfs_mount_put(m);
}

/* Runtime enable with a tree directory: the tree lands in the mirror
 * (made on demand), the lower is untouched, and a new mount finds it. */
FX_TEST(verity_treedir, runtime_enable_stores_in_tree_dir)
{
	struct uvfs_mount *m;
	struct uvfs_file *f;
	make_tree("/lower");
	fx_must_mkdir("/rt", 0755);
	FX_ASSERT_OK(mount_td(NULL, NULL, "/lower", "/rt", &m));
	FX_ASSERT_OK(vu_open(m, "sub/deep/y", O_RDONLY, &f));
	struct fsverity_enable_arg a = { .version = 1, .hash_algorithm = 1, .block_size = 4096 };
	FX_ASSERT_OK(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a));
	uvfs_file_put(f);
	uvfs_mount_put(m);
	char names[256];
	fx_list_dir("/rt/sub/deep", names, sizeof names);
	cr_assert_str_eq(names, ".merkle.verity.y");
	fx_list_dir("/lower/sub/deep", names, sizeof names);
	cr_assert_str_eq(names, "y");

	FX_ASSERT_OK(mount_td(NULL, NULL, "/lower", "/rt", &m));
	FX_ASSERT_OK(vu_open(m, "sub/deep/y", O_RDONLY, &f));
	int fl = 0;
	FX_ASSERT_OK(uvfs_ioctl(f, FS_IOC_GETFLAGS, &fl));
	cr_assert(fl & FS_VERITY_FL);
	vu_check(f, 10, 3);
	uvfs_file_put(f);
	FX_ASSERT_ERR(vu_open(m, "sub/deep/y", O_WRONLY, &f), -EPERM);
	uvfs_mount_put(m);
}
