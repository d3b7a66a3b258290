/* test_dirops2.c — the directory-op interface for stacking and remote
 * filesystems (issue 9): setattr with the open file, UVFS_MKDIR_SYNTHETIC,
 * RENAME_WHITEOUT and uvfs_whiteout_at, the per-filesystem rename lock
 * (a stacking fs renaming on its layer from inside its own ->rename) and
 * the creation calls that return what they made.
 *
 * "recfs" below is a small non-complete filesystem (->lookup, no
 * DCACHE_COMPLETE) that records what the VFS hands to its ops; its
 * ->rename renames the same names on the tmpfs mounted at /lower, as an
 * overlay renames on its upper layer.
 *
 * Expected results were checked against the host kernel's tmpfs (6.x):
 * RENAME_WHITEOUT leaves "c--------- 0,0" owned by the caller, needs no
 * CAP_MKNOD, is EINVAL with RENAME_EXCHANGE and ENOSPC when the whiteout
 * inode does not fit (nothing renamed then). */
#include "fixture.h"
#include "internal.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT (1 << 2)
#endif

/* ------------------------------------------------------------- recfs */

#define REC_MAX 16
struct rec_ent {
	char name[32]; /* "" = free */
	uint64_t parent, ino;
	mode_t mode;
};
static struct {
	struct rec_ent e[REC_MAX];
	uint64_t next_ino;
	int setattrs;
	struct uvfs_file *setattr_file; /* file given to the last ->setattr */
	int mkdirs;
	unsigned mkdir_flags_and, mkdir_flags_or;
	int renames;
	unsigned rename_flags;
	bool forward; /* ->rename renames on /lower too */
} rec;

static void rec_release_fs(struct uvfs_filesystem *fs) { free(fs); }
static void rec_free_inode(struct uvfs_inode *inode) { free(inode); }
static const struct uvfs_fs_ops rec_fs_ops = { .release = rec_release_fs, .free_inode = rec_free_inode };
static const struct uvfs_inode_ops rec_dir_iops, rec_file_iops;
static const struct uvfs_file_ops rec_dir_fops, rec_file_fops;

static struct uvfs_inode *rec_inode(struct uvfs_filesystem *fs, uint64_t ino, mode_t mode)
{
	struct uvfs_inode *i = calloc(1, sizeof(*i));
	cr_assert(i);
	bool dir = S_ISDIR(mode);
	uvfs_inode_init(i, fs, dir ? &rec_dir_iops : &rec_file_iops, dir ? &rec_dir_fops : &rec_file_fops, ino, mode);
	i->i_mode = mode;
	i->i_nlink = dir ? 2 : 1;
	i->i_atime = i->i_mtime = i->i_ctime = i->i_btime = uvfs_now();
	return i;
}

static struct rec_ent *rec_find(uint64_t parent, const char *name, size_t len)
{
	for (int k = 0; k < REC_MAX; k++)
		if (rec.e[k].name[0] && rec.e[k].parent == parent && strlen(rec.e[k].name) == len &&
		    !memcmp(rec.e[k].name, name, len))
			return &rec.e[k];
	return NULL;
}

static struct rec_ent *rec_add(uint64_t parent, const char *name, size_t len, mode_t mode)
{
	for (int k = 0; k < REC_MAX; k++)
		if (!rec.e[k].name[0]) {
			cr_assert(len < sizeof(rec.e[k].name));
			memcpy(rec.e[k].name, name, len);
			rec.e[k].name[len] = 0;
			rec.e[k].parent = parent;
			rec.e[k].ino = rec.next_ino++;
			rec.e[k].mode = mode;
			return &rec.e[k];
		}
	return NULL;
}

static int rec_lookup(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	size_t len;
	const char *name = uvfs_dentry_name(d, &len);
	struct rec_ent *e = rec_find(dir->i_ino, name, len);
	if (e)
		uvfs_d_instantiate(d, rec_inode(dir->i_fs, e->ino, e->mode));
	return 0;
}

static int rec_make(struct uvfs_inode *dir, struct uvfs_dentry *d, mode_t mode)
{
	size_t len;
	const char *name = uvfs_dentry_name(d, &len);
	struct rec_ent *e = rec_add(dir->i_ino, name, len, mode);
	if (!e)
		return -ENOSPC;
	uvfs_d_instantiate(d, rec_inode(dir->i_fs, e->ino, mode));
	return 0;
}

static int rec_create(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
		      dev_t rdev)
{
	(void)cred, (void)rdev;
	return rec_make(dir, d, mode);
}

static int rec_mkdir(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
		     unsigned flags)
{
	(void)cred;
	rec.mkdirs++;
	rec.mkdir_flags_and &= flags;
	rec.mkdir_flags_or |= flags;
	return rec_make(dir, d, S_IFDIR | (mode & 07777));
}

static int rec_rename(struct uvfs_inode *odir, struct uvfs_dentry *od, struct uvfs_inode *ndir,
		      struct uvfs_dentry *nd, unsigned flags, const struct uvfs_cred *cred,
		      struct uvfs_dentry *whiteout)
{
	(void)whiteout;
	rec.renames++;
	rec.rename_flags = flags;
	if (flags)
		return -EINVAL; /* no whiteouts, no exchange here */
	size_t ol, nl;
	const char *on = uvfs_dentry_name(od, &ol), *nn = uvfs_dentry_name(nd, &nl);
	struct rec_ent *e = rec_find(odir->i_ino, on, ol);
	if (!e || nl >= sizeof(e->name))
		return -ENOENT;
	if (rec.forward) {
		/* The layer below is another fs of the same instance: this
		 * must not wait for the rename lock the VFS holds for us. */
		char op[64], np[64];
		snprintf(op, sizeof op, "/lower/%.*s", (int)ol, on);
		snprintf(np, sizeof np, "/lower/%.*s", (int)nl, nn);
		struct uvfs_pathop o = fx_pop(op), n = fx_pop(np);
		int err = uvfs_rename_at(fx.vfs, cred, &o, &n, 0);
		if (err)
			return err;
	}
	struct rec_ent *v = rec_find(ndir->i_ino, nn, nl);
	if (v)
		v->name[0] = 0;
	memcpy(e->name, nn, nl);
	e->name[nl] = 0;
	e->parent = ndir->i_ino;
	return 0;
}

static int rec_setattr(struct uvfs_dentry *d, const struct uvfs_setattr *attr, struct uvfs_file *file)
{
	struct uvfs_inode *i = uvfs_dentry_inode(d);
	rec.setattrs++;
	rec.setattr_file = file;
	uvfs_inode_attr_begin(i);
	if (attr->mask & STATX_MODE)
		i->i_mode = attr->mode;
	if (attr->mask & STATX_SIZE)
		i->i_size = attr->size;
	i->i_ctime = uvfs_now();
	uvfs_inode_attr_end(i);
	return 0;
}

static ssize_t rec_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	(void)f, (void)buf, (void)len, (void)off;
	return 0;
}
static ssize_t rec_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	(void)f, (void)buf;
	*off += len;
	return (ssize_t)len;
}

static const struct uvfs_inode_ops rec_dir_iops = {
	.lookup = rec_lookup, .create = rec_create, .mkdir = rec_mkdir, .rename = rec_rename, .setattr = rec_setattr
};
static const struct uvfs_inode_ops rec_file_iops = { .setattr = rec_setattr };
static const struct uvfs_file_ops rec_dir_fops = { 0 };
static const struct uvfs_file_ops rec_file_fops = { .read = rec_read, .write = rec_write };

static int rec_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		      const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out);
static const struct uvfs_fs_type recfs_type = { .name = "recfs", .get_fs = rec_get_fs };

static int rec_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		      const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	(void)cred, (void)source, (void)opts;
	struct uvfs_filesystem *fs = calloc(1, sizeof(*fs));
	cr_assert(fs);
	cr_assert_eq(uvfs_fs_init(fs, vfs, &recfs_type, &rec_fs_ops), 0);
	cr_assert_eq(uvfs_d_make_root(fs, rec_inode(fs, 1, S_IFDIR | 0777), &fs->root), 0);
	*out = fs;
	return 0;
}

/* recfs on /r with regular files named in files (comma-free list). */
static void rec_mount(const char *const *files)
{
	memset(&rec, 0, sizeof(rec));
	rec.next_ino = 10;
	rec.mkdir_flags_and = ~0u;
	for (; files && *files; files++)
		cr_assert(rec_add(1, *files, strlen(*files), S_IFREG | 0666));
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &recfs_type, UVFS_FS_USER_MOUNT));
	fx_must_mkdir("/r", 0755);
	struct uvfs_pathop p = fx_pop("/r");
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "none", &p, "recfs", &(struct uvfs_mount_opts){ 0 }));
}

/* ------------------------------------------------ 1. setattr with file */

#define NOT_CALLED ((struct uvfs_file *)(uintptr_t)1)

FX_TEST(dirops2, setattr_gets_the_open_file)
{
	rec_mount((const char *[]){ "f", NULL });
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/r/f", O_RDWR, 0, &f));
	rec.setattr_file = NOT_CALLED;
	FX_ASSERT_OK(uvfs_file_truncate(f, 3));
	cr_assert_eq(rec.setattr_file, f, "ftruncate gave %p, not the file", (void *)rec.setattr_file);
	rec.setattr_file = NOT_CALLED;
	FX_ASSERT_OK(uvfs_file_setstat(f, &fx.cred, &(struct uvfs_setattr){ .mask = STATX_MODE, .mode = 0600 }));
	cr_assert_eq(rec.setattr_file, f, "fchmod gave %p, not the file", (void *)rec.setattr_file);
	rec.setattr_file = NOT_CALLED;
	FX_ASSERT_OK(uvfs_file_setstat(f, &fx.cred, &(struct uvfs_setattr){ .mask = STATX_UID | STATX_GID }));
	cr_assert_eq(rec.setattr_file, f, "fchown gave %p", (void *)rec.setattr_file);
	uvfs_file_put(f);
	/* Path calls have no file. */
	rec.setattr_file = NOT_CALLED;
	struct uvfs_pathop p = fx_pop("/r/f");
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &(struct uvfs_setattr){ .mask = STATX_MODE, .mode = 0644 },
				     0));
	cr_assert_null(rec.setattr_file, "chmod by path gave a file");
	/* O_TRUNC truncates through the file being opened. */
	rec.setattr_file = NOT_CALLED;
	FX_ASSERT_OK(fx_open("/r/f", O_WRONLY | O_TRUNC, 0, &f));
	cr_assert_eq(rec.setattr_file, f, "O_TRUNC gave %p, not the new file", (void *)rec.setattr_file);
	uvfs_file_put(f);
	FX_ASSERT_OK(fx_umount("/r", 0));
}

/* ------------------------------------------- 2. UVFS_MKDIR_SYNTHETIC */

FX_TEST(dirops2, synthetic_mountpoint_mkdir_carries_the_flag)
{
	rec_mount(NULL);
	FX_ASSERT_OK(uvfs_make_synthetic_mountpoint(fx.vfs, &fx.cred, "/r/x/y", &fx.root));
	cr_assert_eq(rec.mkdirs, 2);
	cr_assert_eq(rec.mkdir_flags_and, UVFS_MKDIR_SYNTHETIC, "flags seen: and %#x", rec.mkdir_flags_and);
	cr_assert_eq(rec.mkdir_flags_or, UVFS_MKDIR_SYNTHETIC, "flags seen: or %#x", rec.mkdir_flags_or);
	/* An existing prefix is fine and makes nothing. */
	FX_ASSERT_OK(uvfs_make_synthetic_mountpoint(fx.vfs, &fx.cred, "/r/x/y", &fx.root));
	cr_assert_eq(rec.mkdirs, 2);
	/* A plain mkdir passes no flag; the *_at2 form passes it through. */
	rec.mkdir_flags_or = 0;
	FX_ASSERT_OK(fx_mkdir("/r/plain", 0755));
	cr_assert_eq(rec.mkdir_flags_or, 0);
	struct uvfs_pathop p = fx_pop("/r/syn");
	FX_ASSERT_OK(uvfs_mkdir_at2(fx.vfs, &fx.cred, &p, 0755,
				    &(struct uvfs_create_opts){ .flags = UVFS_MKDIR_SYNTHETIC }));
	cr_assert_eq(rec.mkdir_flags_or, UVFS_MKDIR_SYNTHETIC);
	p = fx_pop("/r/bad");
	FX_ASSERT_ERR(uvfs_mkdir_at2(fx.vfs, &fx.cred, &p, 0755, &(struct uvfs_create_opts){ .flags = 0x100 }),
		      -EINVAL);
	cr_assert_eq(rec.mkdirs, 4, "a bad flag reached ->mkdir");
	/* The flag is for mkdir only. */
	p = fx_pop("/r/node");
	FX_ASSERT_ERR(uvfs_mknod_at2(fx.vfs, &fx.cred, &p, S_IFREG | 0644, 0,
				     &(struct uvfs_create_opts){ .flags = UVFS_MKDIR_SYNTHETIC }),
		      -EINVAL);
	FX_ASSERT_OK(fx_umount("/r", 0));
}

/* ---------------------------------------------------- 3. whiteouts */

static int rename2(const struct uvfs_cred *cred, const char *from, const char *to, unsigned flags)
{
	struct uvfs_pathop o = fx_pop(from), n = fx_pop(to);
	return uvfs_rename_at(fx.vfs, cred, &o, &n, flags);
}

static void assert_whiteout(const char *path, uint32_t uid)
{
	struct statx st;
	FX_ASSERT_OK(fx_lstat(path, &st));
	cr_assert_eq(st.stx_mode, S_IFCHR, "%s: mode %o", path, st.stx_mode);
	cr_assert_eq(st.stx_rdev_major, 0);
	cr_assert_eq(st.stx_rdev_minor, 0);
	cr_assert_eq(st.stx_uid, uid, "%s: uid %u", path, st.stx_uid);
	cr_assert_eq(st.stx_nlink, 1);
}

FX_TEST(dirops2, rename_whiteout_leaves_a_whiteout)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/a", "data");
	uint64_t ino = fx_ino("/d/a");
	struct statx before, after;
	FX_ASSERT_OK(fx_lstat("/d", &before));
	FX_ASSERT_OK(rename2(&fx.cred, "/d/a", "/d/c", RENAME_WHITEOUT));
	assert_whiteout("/d/a", 0);
	cr_assert_eq(fx_ino("/d/c"), ino, "the file did not move");
	cr_assert_neq(fx_ino("/d/a"), ino);
	FX_ASSERT_OK(fx_lstat("/d", &after));
	cr_assert_gt(after.stx_size, before.stx_size, "the whiteout is an entry (host: size +20)");
	cr_assert_eq(after.stx_nlink, before.stx_nlink);
	char names[64];
	fx_list_dir("/d", names, sizeof names);
	cr_assert_str_eq(names, "a,c");
	/* Replacing a target, and moving to another directory. */
	fx_must_write("/d/b", "b");
	FX_ASSERT_ERR(rename2(&fx.cred, "/d/c", "/d/b", RENAME_WHITEOUT | RENAME_NOREPLACE), -EEXIST);
	FX_ASSERT_OK(rename2(&fx.cred, "/d/c", "/d/b", RENAME_WHITEOUT));
	assert_whiteout("/d/c", 0);
	cr_assert_eq(fx_ino("/d/b"), ino);
	fx_must_mkdir("/e", 0755);
	FX_ASSERT_OK(rename2(&fx.cred, "/d/b", "/e/x", RENAME_WHITEOUT));
	assert_whiteout("/d/b", 0);
	cr_assert_eq(fx_ino("/e/x"), ino);
	/* A directory leaves one too; the parent's link count stays. */
	fx_must_mkdir("/d/sub", 0755);
	FX_ASSERT_OK(fx_lstat("/d", &before));
	FX_ASSERT_OK(rename2(&fx.cred, "/d/sub", "/e/sub", RENAME_WHITEOUT));
	assert_whiteout("/d/sub", 0);
	cr_assert_eq(fx_mode("/e/sub"), S_IFDIR | 0755);
	FX_ASSERT_OK(fx_lstat("/d", &after));
	cr_assert_eq(after.stx_nlink, before.stx_nlink - 1, "the subdirectory's \"..\" left /d");
	cr_assert_eq(after.stx_size, before.stx_size);
	/* Whiteouts are removable like any node. */
	struct uvfs_pathop p = fx_pop("/d/a");
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &p));
}

FX_TEST(dirops2, rename_whiteout_errors_match_linux)
{
	fx_must_write("/a", "a");
	fx_must_write("/b", "b");
	uint64_t ia = fx_ino("/a");
	FX_ASSERT_ERR(rename2(&fx.cred, "/a", "/b", RENAME_WHITEOUT | RENAME_EXCHANGE), -EINVAL);
	FX_ASSERT_ERR(rename2(&fx.cred, "/nonexist", "/b", RENAME_WHITEOUT | RENAME_EXCHANGE), -EINVAL);
	FX_ASSERT_ERR(rename2(&fx.cred, "/a", "/b", RENAME_WHITEOUT | RENAME_NOREPLACE), -EEXIST);
	FX_ASSERT_ERR(rename2(&fx.cred, "/nonexist", "/q", RENAME_WHITEOUT), -ENOENT);
	FX_ASSERT_ERR(rename2(&fx.cred, "/a", "/b", 1u << 3), -EINVAL);
	/* Same file: nothing happens, no whiteout. */
	FX_ASSERT_OK(rename2(&fx.cred, "/a", "/a", RENAME_WHITEOUT));
	cr_assert_eq(fx_mode("/a"), S_IFREG | 0644);
	/* A failed rename leaves no whiteout behind. */
	fx_must_mkdir("/d", 0755);
	fx_must_mkdir("/full", 0755);
	fx_must_write("/full/x", "x");
	FX_ASSERT_ERR(rename2(&fx.cred, "/d", "/full", RENAME_WHITEOUT), -ENOTEMPTY);
	cr_assert_eq(fx_mode("/d"), S_IFDIR | 0755);
	FX_ASSERT_ERR(rename2(&fx.cred, "/d", "/a", RENAME_WHITEOUT), -ENOTDIR);
	cr_assert_eq(fx_mode("/d"), S_IFDIR | 0755);
	cr_assert_eq(fx_ino("/a"), ia);
	/* Without write permission on the parent: EACCES, nothing left. */
	fx_must_write("/d/f", "f");
	FX_ASSERT_OK(fx_chmod("/d", 0555));
	FX_ASSERT_ERR(rename2(&fx.user, "/d/f", "/d/g", RENAME_WHITEOUT), -EACCES);
	cr_assert_eq(fx_mode("/d/f"), S_IFREG | 0644);
}

FX_TEST(dirops2, whiteouts_need_no_cap_mknod)
{
	/* Linux >= 5.8 (vfs_mknod's is_whiteout): checked on the host. */
	fx_must_mkdir("/u", 0777);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/u/a", O_CREAT | O_WRONLY, 0644, &f));
	uvfs_file_put(f);
	FX_ASSERT_OK(rename2(&fx.user, "/u/a", "/u/z", RENAME_WHITEOUT));
	assert_whiteout("/u/a", 1000);
	struct uvfs_pathop p = fx_pop("/u/w");
	FX_ASSERT_OK(uvfs_whiteout_at(fx.vfs, &fx.user, &p));
	assert_whiteout("/u/w", 1000);
	FX_ASSERT_ERR(uvfs_whiteout_at(fx.vfs, &fx.user, &p), -EEXIST);
	/* mknod c 0 0 is a whiteout too (the mode stays); other devices are not. */
	p = fx_pop("/u/m");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.user, &p, S_IFCHR | 0644, makedev(0, 0)));
	cr_assert_eq(fx_mode("/u/m"), S_IFCHR | 0644);
	p = fx_pop("/u/null");
	FX_ASSERT_ERR(uvfs_mknod_at(fx.vfs, &fx.user, &p, S_IFCHR | 0644, makedev(1, 3)), -EPERM);
	FX_ASSERT_ERR(uvfs_mknod_at(fx.vfs, &fx.user, &p, S_IFBLK | 0644, makedev(0, 0)), -EPERM);
}

Test(dirops2, rename_whiteout_without_room_renames_nothing, .timeout = 60)
{
	fx_setup_opts("nr_inodes=3", 0); /* root, a, b: no room for a whiteout */
	fx_must_write("/a", "a");
	fx_must_write("/b", "b");
	FX_ASSERT_ERR(rename2(&fx.cred, "/a", "/c", RENAME_WHITEOUT), -ENOSPC);
	cr_assert_eq(fx_mode("/a"), S_IFREG | 0644);
	struct statx st;
	FX_ASSERT_ERR(fx_lstat("/c", &st), -ENOENT);
	FX_ASSERT_OK(rename2(&fx.cred, "/a", "/c", 0));
	fx_teardown();
}

FX_TEST(dirops2, rename_whiteout_unsupported_is_einval)
{
	rec_mount((const char *[]){ "p", NULL });
	FX_ASSERT_ERR(rename2(&fx.cred, "/r/p", "/r/q", RENAME_WHITEOUT), -EINVAL);
	cr_assert_eq(rec.rename_flags, RENAME_WHITEOUT);
	cr_assert_eq(fx_mode("/r/p"), S_IFREG | 0666);
	FX_ASSERT_OK(fx_umount("/r", 0));
}

/* ------------------------------------------- 4. per-fs rename lock */

static void watchdog(int sig)
{
	(void)sig;
	static const char m[] = "watchdog: rename deadlocked\n";
	ssize_t n = write(2, m, sizeof m - 1);
	(void)n;
	_exit(3);
}

FX_TEST(dirops2, stacking_rename_renames_on_its_layer)
{
	rec_mount((const char *[]){ "p", NULL });
	rec.forward = true;
	fx_must_mkdir("/lower", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/lower", NULL, 0));
	fx_must_write("/lower/p", "lower");
	signal(SIGALRM, watchdog);
	alarm(10);
	FX_ASSERT_OK(rename2(&fx.cred, "/r/p", "/r/q", 0));
	alarm(0);
	cr_assert_eq(rec.renames, 1);
	cr_assert_eq(fx_mode("/r/q"), S_IFREG | 0666);
	cr_assert_eq(fx_mode("/lower/q"), S_IFREG | 0644);
	struct statx st;
	FX_ASSERT_ERR(fx_lstat("/lower/p", &st), -ENOENT);
	FX_ASSERT_ERR(fx_lstat("/r/p", &st), -ENOENT);
	/* The layer's error comes back, and nothing moved. */
	alarm(10);
	FX_ASSERT_ERR(rename2(&fx.cred, "/r/q", "/r/p2", 0), 0);
	FX_ASSERT_OK(fx_umount("/lower", 0));
	FX_ASSERT_OK(fx_mount_tmpfs("/lower", NULL, 0));
	FX_ASSERT_ERR(rename2(&fx.cred, "/r/p2", "/r/p3", 0), -ENOENT);
	alarm(0);
	cr_assert_eq(fx_mode("/r/p2"), S_IFREG | 0666);
	FX_ASSERT_OK(fx_umount("/lower", 0));
	FX_ASSERT_OK(fx_umount("/r", 0));
}

FX_TEST(dirops2, rename_across_filesystems_is_exdev_first)
{
	rec_mount((const char *[]){ "p", NULL });
	fx_must_write("/t", "t");
	/* EXDEV comes before the names are looked up (Linux do_renameat2). */
	FX_ASSERT_ERR(rename2(&fx.cred, "/r/nonexist", "/x", 0), -EXDEV);
	FX_ASSERT_ERR(rename2(&fx.cred, "/t", "/r/t", RENAME_WHITEOUT), -EXDEV);
	FX_ASSERT_ERR(rename2(&fx.cred, "/r/p", "/p", RENAME_NOREPLACE), -EXDEV);
	cr_assert_eq(rec.renames, 0);
	FX_ASSERT_OK(fx_umount("/r", 0));
}

/* ------------------------------------------ 5. creation results */

static void assert_same_dentry(const struct uvfs_vd *vd, const char *path)
{
	struct uvfs_pathop p = fx_pop(path);
	struct uvfs_vd got;
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, &got));
	cr_assert_eq(got.dentry, vd->dentry, "%s: another dentry", path);
	cr_assert_eq(got.mount, vd->mount, "%s: another mount", path);
	uvfs_vd_put(&got);
}

FX_TEST(dirops2, creation_calls_return_vd_and_statx)
{
	struct uvfs_vd vd = { 0 };
	struct statx st;
	memset(&st, 0, sizeof st);
	struct uvfs_create_opts o = { .vd = &vd, .stat = &st };
	struct uvfs_pathop p = fx_pop("/d");
	FX_ASSERT_OK(uvfs_mkdir_at2(fx.vfs, &fx.cred, &p, 0750, &o));
	cr_assert(uvfs_vd_ok(&vd), "no vd");
	assert_same_dentry(&vd, "/d");
	cr_assert_eq(st.stx_ino, fx_ino("/d"));
	cr_assert_eq(st.stx_mode, S_IFDIR | 0750);
	cr_assert_eq(st.stx_mask & STATX_BASIC_STATS, STATX_BASIC_STATS);
	uvfs_vd_put(&vd);

	p = fx_pop("/d/fifo");
	FX_ASSERT_OK(uvfs_mknod_at2(fx.vfs, &fx.cred, &p, S_IFIFO | 0600, 0, &o));
	assert_same_dentry(&vd, "/d/fifo");
	cr_assert_eq(st.stx_mode, S_IFIFO | 0600);
	uvfs_vd_put(&vd);

	p = fx_pop("/d/ln");
	FX_ASSERT_OK(uvfs_symlink_at2(fx.vfs, &fx.cred, "fifo", &p, &o));
	assert_same_dentry(&vd, "/d/ln");
	cr_assert_eq(st.stx_mode, S_IFLNK | 0777);
	cr_assert_eq(st.stx_size, 4);
	uvfs_vd_put(&vd);

	fx_must_write("/d/f", "x");
	struct uvfs_pathop src = fx_pop("/d/f");
	p = fx_pop("/d/hard");
	FX_ASSERT_OK(uvfs_link_at2(fx.vfs, &fx.cred, &src, &p, &o));
	assert_same_dentry(&vd, "/d/hard");
	cr_assert_eq(st.stx_ino, fx_ino("/d/f"));
	cr_assert_eq(st.stx_nlink, 2);
	uvfs_vd_put(&vd);

	/* The whiteout helper through the generic path too. */
	p = fx_pop("/d/wh");
	FX_ASSERT_OK(uvfs_mknod_at2(fx.vfs, &fx.cred, &p, S_IFCHR, 0, &(struct uvfs_create_opts){ .stat = &st }));
	cr_assert_eq(st.stx_mode, S_IFCHR);
}

FX_TEST(dirops2, creation_results_are_optional_and_cleared_on_error)
{
	struct statx st;
	struct uvfs_pathop p = fx_pop("/a");
	FX_ASSERT_OK(uvfs_mkdir_at2(fx.vfs, &fx.cred, &p, 0755, NULL));
	p = fx_pop("/b");
	FX_ASSERT_OK(uvfs_mkdir_at2(fx.vfs, &fx.cred, &p, 0755, &(struct uvfs_create_opts){ .stat = &st }));
	cr_assert_eq(st.stx_ino, fx_ino("/b"));
	struct uvfs_vd vd;
	p = fx_pop("/c");
	FX_ASSERT_OK(uvfs_symlink_at2(fx.vfs, &fx.cred, "a", &p, &(struct uvfs_create_opts){ .vd = &vd }));
	assert_same_dentry(&vd, "/c");
	uvfs_vd_put(&vd);
	/* Errors clear *vd, whatever it held. */
	memset(&vd, 0x5a, sizeof vd);
	p = fx_pop("/a");
	FX_ASSERT_ERR(uvfs_mkdir_at2(fx.vfs, &fx.cred, &p, 0755, &(struct uvfs_create_opts){ .vd = &vd }), -EEXIST);
	cr_assert(!uvfs_vd_ok(&vd) && !vd.dentry, "vd not cleared");
	memset(&vd, 0x5a, sizeof vd);
	struct uvfs_pathop src = fx_pop("/nonexist");
	p = fx_pop("/h");
	FX_ASSERT_ERR(uvfs_link_at2(fx.vfs, &fx.cred, &src, &p, &(struct uvfs_create_opts){ .vd = &vd }), -ENOENT);
	cr_assert(!uvfs_vd_ok(&vd) && !vd.dentry, "vd not cleared");
	memset(&vd, 0x5a, sizeof vd);
	p = fx_pop("/x");
	FX_ASSERT_ERR(uvfs_mknod_at2(fx.vfs, &fx.user, &p, S_IFCHR | 0600, makedev(1, 3),
				     &(struct uvfs_create_opts){ .vd = &vd }),
		      -EPERM);
	cr_assert(!uvfs_vd_ok(&vd) && !vd.dentry, "vd not cleared");
}

FX_TEST(dirops2, creation_results_on_a_lookup_filesystem)
{
	rec_mount(NULL);
	struct uvfs_vd vd;
	struct statx st;
	struct uvfs_pathop p = fx_pop("/r/dir");
	FX_ASSERT_OK(uvfs_mkdir_at2(fx.vfs, &fx.cred, &p, 0700, &(struct uvfs_create_opts){ .vd = &vd, .stat = &st }));
	assert_same_dentry(&vd, "/r/dir");
	cr_assert_eq(st.stx_mode, S_IFDIR | 0700);
	uvfs_vd_put(&vd);
	FX_ASSERT_OK(fx_umount("/r", 0));
}
