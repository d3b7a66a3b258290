/* fsimpl/gofer/dir.c — directory inode operations (lookup, creation,
 * removal, rename), revalidation for cache=remote_revalidating|none, and
 * the inode ops tables.
 *
 * Locks: the VFS holds the directory's i_lock across every op here (and
 * the victim's or source's where uvfs_fs.h says so); attribute stores of
 * those inodes need no more. revalidate runs with no lock (or the parent's
 * i_lock) and takes the child's i_lock itself to store attributes. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/sysmacros.h>

#include "fsimpl/gofer/copyup.h"
#include "fsimpl/gofer/internal.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

/* ------------------------------------------------------------ revalidate */

const struct uvfs_dentry_ops gofer_reval_dops = {
	.revalidate = gofer_revalidate,
};

/* A fid walked before a directory was renamed through this mount may name
 * a path that no longer exists (diod resolves fids by path). Such an inode
 * gets a fresh fid walked from its parent (made fresh first, up to the
 * root) and keeps its dentry and identity. Returns the fid, or -ESTALE if
 * the name now reaches another file, or another -errno. */
int gofer_fresh_fid(struct uvfs_dentry *d, uint32_t *out)
{
	struct uvfs_inode *inode = uvfs_dentry_inode(d);
	struct gofer_inode *gi = GI(inode);
	struct gofer_fs *fs = GFS(inode->i_fs);
	unsigned long gen = atomic_load_explicit(&fs->dir_renames, memory_order_acquire);
	uint32_t cur = atomic_load_explicit(&gi->fid, memory_order_acquire);
	struct uvfs_dentry *parent = uvfs_dentry_parent(d);
	*out = cur;
	if (atomic_load_explicit(&gi->fid_gen, memory_order_relaxed) == gen || cur == UVFS_P9_NOFID || !parent ||
	    parent == d)
		return 0;
	uint32_t dfid;
	int err = gofer_fresh_fid(parent, &dfid);
	if (err)
		return err;
	char name[GOFER_NAME_MAX + 1];
	size_t len;
	urcu_memb_read_lock(); /* a rename may replace the name meanwhile */
	const char *n = uvfs_dentry_name(d, &len);
	if (len > GOFER_NAME_MAX)
		len = GOFER_NAME_MAX;
	memcpy(name, n, len);
	urcu_memb_read_unlock();
	name[len] = 0;
	const char *np = name;
	uint32_t fid;
	struct uvfs_p9_qid qid;
	if ((err = uvfs_p9_walk(fs->c, dfid, 1, &np, &fid, &qid)))
		return err == -ENOENT ? -ESTALE : gofer_err(fs, err);
	/* The type too: ext4 hands a freed inode number straight to the
	 * next file made (a host rm f; mkdir f). */
	uint8_t want = S_ISDIR(gi->type) ? UVFS_P9_QTDIR : S_ISLNK(gi->type) ? UVFS_P9_QTSYMLINK : 0;
	if (qid.path != gi->qid_path || (qid.type & (UVFS_P9_QTDIR | UVFS_P9_QTSYMLINK)) != want) {
		uvfs_p9_clunk_async(fs->c, fid);
		return -ESTALE;
	}
	if (!gofer_swap_fid(gi, fid, gen))
		uvfs_p9_clunk_async(fs->c, fid); /* out of memory: keep the old one */
	*out = gofer_fid(inode);
	return 0;
}

/* Before an op uses d's fid: re-walk it if it may be stale (errors are
 * left to the op, whose own call then fails). */
static void freshen(struct uvfs_dentry *d)
{
	uint32_t fid;
	if (d && uvfs_dentry_inode(d))
		gofer_fresh_fid(d, &fid);
}

/* ---------------------------------------------------------------- lookup */

static int gofer_lookup(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct gofer_fs *fs = GFS(dir->i_fs);
	freshen(uvfs_dentry_parent(d));
	size_t len;
	const char *name = uvfs_dentry_name(d, &len); /* stable: dir's i_lock */
	struct gofer_inode *gi;
	/* A synthetic child hides a name the host made later (gVisor). */
	for (size_t i = 0; i < GI(dir)->nsynth; i++)
		if (!strcmp(GI(dir)->synth[i].name, name)) {
			uvfs_inode_get(GI(dir)->synth[i].inode);
			uvfs_d_instantiate(d, GI(dir)->synth[i].inode);
			return 0;
		}
	/* Exclusive modes: a complete listing knows every name. */
	if (fs->cache < GOFER_CACHE_REVAL) {
		int lerr = gofer_listed_lookup(dir, name, &gi);
		if (lerr == -ENOENT)
			return 0; /* not listed: negative, no round trip */
		if (!lerr) {
			uvfs_d_instantiate(d, &gi->vfs);
			return 0;
		}
		if (lerr != -EAGAIN)
			return lerr;
	}
	if (fs->cache >= GOFER_CACHE_REVAL)
		gofer_batch_forget(); /* a new name: the walk left the batch's path */
	int err = gofer_walk_new(fs, dir, name, &gi);
	if (err == -ENOENT) {
		if (fs->cache >= GOFER_CACHE_REVAL)
			gofer_set_hint(dir, name, len, NULL);
		return 0; /* cached negative */
	}
	if (err)
		return err;
	if (fs->cache >= GOFER_CACHE_REVAL)
		gofer_set_hint(dir, name, len, &gi->vfs);
	uvfs_d_instantiate(d, &gi->vfs);
	return 0;
}

/* --------------------------------------------------------------- creation */

/* The owner a new file of cred in dir gets (setgid directories), and its
 * adjusted mode. */
static void new_owner(struct uvfs_inode *dir, const struct uvfs_cred *cred, mode_t *mode, uint32_t *uid,
		      uint32_t *gid)
{
	struct uvfs_inode tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.i_mode = *mode;
	uvfs_inode_init_owner(&tmp, dir, cred, mode);
	*uid = tmp.i_uid;
	*gid = tmp.i_gid;
}

/* The server made name in dir: walk to it, give it its owner (the server
 * created it as the attached user), instantiate d, refresh dir. */
static int finish_new(struct uvfs_inode *dir, struct uvfs_dentry *d, const char *name, bool chown, uint32_t uid,
		      uint32_t gid)
{
	struct gofer_fs *fs = GFS(dir->i_fs);
	struct gofer_inode *gi;
	gofer_dir_changed(dir);
	int err = gofer_walk_new(fs, dir, name, &gi);
	if (err)
		return err;
	if (chown && (gi->vfs.i_uid != uid || gi->vfs.i_gid != gid)) {
		struct uvfs_p9_setattr s = { .valid = UVFS_P9_SETATTR_UID | UVFS_P9_SETATTR_GID, .uid = uid, .gid = gid };
		struct uvfs_p9_attr a;
		uint32_t fid = gofer_fid(&gi->vfs);
		if (!(err = uvfs_p9_setattr(fs->c, fid, &s)) &&
		    !(err = uvfs_p9_getattr(fs->c, fid, UVFS_P9_GETATTR_ALL, &a)))
			gofer_attr_store(&gi->vfs, &a);
		if (err) {
			/* The file exists on the server now: unhide it anyway,
			 * as the caller's error. */
			uvfs_inode_put(&gi->vfs);
			return gofer_err(fs, err);
		}
	}
	uvfs_d_instantiate(d, &gi->vfs);
	gofer_refresh(dir, true);
	return 0;
}

static int gofer_create(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
			dev_t rdev)
{
	freshen(uvfs_dentry_parent(d));
	int aerr;
	if (gofer_copyup_adopt(dir, d, &aerr))
		return aerr; /* a copy-up's prepared file moved here (copyup.c) */
	struct gofer_fs *fs = GFS(dir->i_fs);
	uint32_t dfid = gofer_fid(dir);
	if (dfid == UVFS_P9_NOFID)
		return -EPERM; /* synthetic directories hold mountpoints only */
	if (!(mode & S_IFMT))
		mode |= S_IFREG;
	const char *name = uvfs_dentry_name(d, NULL);
	uint32_t uid, gid;
	new_owner(dir, cred, &mode, &uid, &gid);
	struct uvfs_p9_qid qid;
	int err;
	switch (mode & S_IFMT) {
	case S_IFREG: {
		/* Tlcreate turns a clone of the directory fid into the open
		 * new file; we only keep the name (->open opens its own). */
		uint32_t fid, iounit;
		if ((err = uvfs_p9_walk(fs->c, dfid, 0, NULL, &fid, NULL)))
			return gofer_err(fs, err);
		err = uvfs_p9_lcreate(fs->c, fid, name, O_RDONLY, mode & 07777, gid, &qid, &iounit);
		uvfs_p9_clunk_async(fs->c, fid);
		break;
	}
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		err = uvfs_p9_mknod(fs->c, dfid, name, mode & (S_IFMT | 07777), major(rdev), minor(rdev), gid, &qid);
		break;
	default:
		return -EINVAL;
	}
	if (err)
		return gofer_err(fs, err);
	return finish_new(dir, d, name, true, uid, gid);
}

/* ----------------------------------------------------- synthetic children */

int gofer_synth_copy(struct uvfs_inode *dir, struct gofer_synth **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	uvfs_lock_acquire(&dir->i_lock);
	struct gofer_inode *gd = GI(dir);
	size_t k = gd->nsynth;
	struct gofer_synth *s = k ? calloc(k, sizeof(*s)) : NULL;
	int err = k && !s ? -ENOMEM : 0;
	for (size_t i = 0; !err && i < k; i++) {
		if (!(s[i].name = strdup(gd->synth[i].name))) {
			err = -ENOMEM;
			break;
		}
		uvfs_inode_get(s[i].inode = gd->synth[i].inode);
	}
	uvfs_lock_release(&dir->i_lock);
	if (err) {
		gofer_synth_free(s, k);
		return err;
	}
	*out = s;
	*n = k;
	return 0;
}

void gofer_synth_free(struct gofer_synth *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++) {
		free(s[i].name);
		if (s[i].inode)
			uvfs_inode_put(s[i].inode);
	}
	free(s);
}

/* Remember d (positive, synthetic) in dir's list: dir's i_lock held. A
 * synthetic directory's own children are pinned in its complete dcache
 * and need no list. */
static int synth_add(struct uvfs_inode *dir, struct uvfs_dentry *d, struct uvfs_inode *inode)
{
	struct gofer_inode *gd = GI(dir);
	if (gofer_fid(dir) == UVFS_P9_NOFID)
		return 0;
	struct gofer_synth *n = realloc(gd->synth, (gd->nsynth + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	gd->synth = n;
	if (!(n[gd->nsynth].name = strdup(uvfs_dentry_name(d, NULL))))
		return -ENOMEM;
	uvfs_inode_get(inode);
	n[gd->nsynth++].inode = inode;
	return 0;
}

static const struct uvfs_file_ops synth_reg_fops;

/* A directory (S_IFDIR) or an empty regular file (S_IFREG) that exists
 * only in memory, to mount on when the server refuses to make it (gVisor
 * ForSyntheticMountpoint). A directory is complete: nothing else lives in
 * it but other synthetic mount points. */
static int synthetic_new(struct uvfs_inode *dir, struct uvfs_dentry *d, mode_t mode, uint32_t uid, uint32_t gid)
{
	static _Atomic uint64_t next_ino = 1ull << 62;
	struct gofer_inode *gi = calloc(1, sizeof(*gi));
	if (!gi)
		return -ENOMEM;
	uint64_t ino = atomic_fetch_add_explicit(&next_ino, 1, memory_order_relaxed);
	bool reval = GFS(dir->i_fs)->cache >= GOFER_CACHE_REVAL, isdir = S_ISDIR(mode);
	if (isdir)
		uvfs_inode_init(&gi->vfs, dir->i_fs, reval ? &gofer_dir_iops_reval : &gofer_dir_iops, &gofer_dir_fops,
				ino, S_IFDIR | (mode & 07777));
	else
		uvfs_inode_init(&gi->vfs, dir->i_fs, reval ? &gofer_reg_iops_reval : &gofer_reg_iops, &synth_reg_fops,
				ino, S_IFREG | (mode & 07777));
	atomic_init(&gi->fid, UVFS_P9_NOFID);
	gi->qid_path = ino;
	gi->type = isdir ? S_IFDIR : S_IFREG;
	gi->vfs.i_uid = uid;
	gi->vfs.i_gid = gid;
	gi->vfs.i_nlink = isdir ? 2 : 1;
	gi->vfs.i_flags = isdir ? UVFS_I_COMPLETE : 0;
	gi->vfs.i_atime = gi->vfs.i_mtime = gi->vfs.i_ctime = gi->vfs.i_btime = uvfs_now();
	int err = synth_add(dir, d, &gi->vfs);
	if (err) {
		uvfs_inode_put(&gi->vfs);
		return err;
	}
	gofer_dir_changed(dir);
	uvfs_d_instantiate(d, &gi->vfs);
	return 0;
}

/* A synthetic file is only ever covered by its mount: opened under it
 * (a lazy unmount's leftovers), it reads empty and takes no data. */
static ssize_t synth_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off) { return 0; }
static ssize_t synth_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off) { return -EPERM; }
static const struct uvfs_file_ops synth_reg_fops = { .read = synth_read, .write = synth_write };

/* The server may refuse a mount point for what it is: read-only (EROFS),
 * not ours (EACCES, EPERM), or below a synthetic directory (EPERM). */
static bool synth_ok(int err) { return err == -EROFS || err == -EACCES || err == -EPERM; }

static int gofer_create_synthetic(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred,
				  mode_t mode)
{
	int err = gofer_create(dir, d, cred, S_IFREG | (mode & 07777), 0);
	if (!err || !synth_ok(err))
		return err;
	uint32_t uid, gid;
	mode = S_IFREG | (mode & 07777);
	new_owner(dir, cred, &mode, &uid, &gid);
	return synthetic_new(dir, d, mode, uid, gid);
}

static int gofer_mkdir(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
		       unsigned flags)
{
	freshen(uvfs_dentry_parent(d));
	struct gofer_fs *fs = GFS(dir->i_fs);
	const char *name = uvfs_dentry_name(d, NULL);
	uint32_t uid, gid;
	mode = S_IFDIR | (mode & 01777);
	new_owner(dir, cred, &mode, &uid, &gid);
	uint32_t dfid = gofer_fid(dir);
	int err = dfid == UVFS_P9_NOFID ? -EROFS : uvfs_p9_mkdir(fs->c, dfid, name, mode & 07777, gid, NULL);
	if (err && (flags & UVFS_MKDIR_SYNTHETIC) && synth_ok(err))
		return synthetic_new(dir, d, mode, uid, gid);
	if (err)
		return gofer_err(fs, err);
	return finish_new(dir, d, name, true, uid, gid);
}

static int gofer_symlink(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred,
			 const char *target)
{
	freshen(uvfs_dentry_parent(d));
	struct gofer_fs *fs = GFS(dir->i_fs);
	uint32_t dfid = gofer_fid(dir);
	if (dfid == UVFS_P9_NOFID)
		return -EPERM;
	const char *name = uvfs_dentry_name(d, NULL);
	mode_t mode = S_IFLNK | 0777;
	uint32_t uid, gid;
	new_owner(dir, cred, &mode, &uid, &gid);
	int err = uvfs_p9_symlink(fs->c, dfid, name, target, gid, NULL);
	if (err)
		return gofer_err(fs, err);
	return finish_new(dir, d, name, true, uid, gid);
}

/* dir's and old's inode i_locks held. The new name gets an inode of its
 * own (hard links are not merged into one inode here). */
static int gofer_link(struct uvfs_dentry *old, struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	freshen(uvfs_dentry_parent(d));
	freshen(old);
	struct gofer_fs *fs = GFS(dir->i_fs);
	struct uvfs_inode *src = uvfs_dentry_inode(old);
	uint32_t dfid = gofer_fid(dir), sfid = gofer_fid(src);
	if (dfid == UVFS_P9_NOFID || sfid == UVFS_P9_NOFID)
		return -EPERM;
	if (sfid == GOFER_LAZYFID)
		return -ENOENT; /* freshen found no file under old's name */
	if (S_ISDIR(GI(src)->type))
		return -EPERM;
	const char *name = uvfs_dentry_name(d, NULL);
	int err = uvfs_p9_link(fs->c, dfid, sfid, name);
	if (err)
		return gofer_err(fs, err);
	gofer_dir_changed(dir);
	/* The new name shares src's inode (as on a local fs, and as the FUSE
	 * export keys nodes by inode number): its own path fid is kept so the
	 * inode survives the removal of the name its fid walks (git: link
	 * tmp -> object, unlink tmp). */
	uint32_t fid;
	struct uvfs_p9_qid qid;
	const char *np = name;
	if ((err = uvfs_p9_walk(fs->c, dfid, 1, &np, &fid, &qid)))
		return gofer_err(fs, err);
	if (qid.path != GI(src)->qid_path || !gofer_add_link_fid(GI(src), fid)) {
		uvfs_p9_clunk_async(fs->c, fid);
		return qid.path != GI(src)->qid_path ? -ESTALE : -ENOMEM; /* the host replaced it meanwhile */
	}
	gofer_refresh(src, true); /* nlink, ctime */
	uvfs_inode_get(src);
	uvfs_d_instantiate(d, src);
	gofer_refresh(dir, true);
	return 0;
}

/* ---------------------------------------------------------------- removal */

/* The victim lost a name (its i_lock held). */
static void drop_link(struct uvfs_inode *inode)
{
	uvfs_inode_attr_begin(inode);
	if (S_ISDIR(GI(inode)->type))
		inode->i_nlink = 0;
	else if (inode->i_nlink)
		inode->i_nlink--;
	inode->i_ctime = uvfs_now();
	uvfs_inode_attr_end(inode);
}

static int remove_name(struct uvfs_inode *dir, struct uvfs_dentry *d, unsigned flags)
{
	freshen(uvfs_dentry_parent(d));
	struct gofer_fs *fs = GFS(dir->i_fs);
	uint32_t dfid = gofer_fid(dir);
	struct uvfs_inode *victim = uvfs_dentry_inode(d);
	if (dfid == UVFS_P9_NOFID || gofer_fid(victim) == UVFS_P9_NOFID)
		return -EBUSY; /* synthetic mountpoints go with their mounts */
	int err = uvfs_p9_unlinkat(fs->c, dfid, uvfs_dentry_name(d, NULL), flags);
	if (err)
		return gofer_err(fs, err);
	gofer_dir_changed(dir);
	drop_link(victim);
	if (!S_ISDIR(GI(victim)->type) && victim->i_nlink > 0)
		gofer_repoint(GI(victim)); /* another name may carry the file now */
	gofer_refresh(dir, true);
	return 0;
}

static int gofer_unlink(struct uvfs_inode *dir, struct uvfs_dentry *d) { return remove_name(dir, d, 0); }

static int gofer_rmdir(struct uvfs_inode *dir, struct uvfs_dentry *d) { return remove_name(dir, d, AT_REMOVEDIR); }

/* ----------------------------------------------------------------- rename */

/* Both dirs', the source's and the victim's i_locks held. */
static int gofer_rename(struct uvfs_inode *odir, struct uvfs_dentry *od, struct uvfs_inode *ndir,
			struct uvfs_dentry *nd, unsigned flags, const struct uvfs_cred *cred,
			struct uvfs_dentry *whiteout)
{
	struct gofer_fs *fs = GFS(odir->i_fs);
	freshen(uvfs_dentry_parent(od));
	freshen(uvfs_dentry_parent(nd));
	freshen(od);
	struct uvfs_inode *src = uvfs_dentry_inode(od), *victim = uvfs_dentry_inode(nd);
	if (flags & ~(unsigned)RENAME_NOREPLACE)
		return -EINVAL; /* no exchange or whiteout in 9P2000.L */
	if (victim && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (victim == src)
		return 0;
	uint32_t ofid = gofer_fid(odir), nfid = gofer_fid(ndir), sfid = gofer_fid(src);
	if (ofid == UVFS_P9_NOFID || nfid == UVFS_P9_NOFID || sfid == UVFS_P9_NOFID ||
	    (victim && gofer_fid(victim) == UVFS_P9_NOFID))
		return -EBUSY;
	const char *oname = uvfs_dentry_name(od, NULL), *nname = uvfs_dentry_name(nd, NULL);
	int err = uvfs_p9_renameat(fs->c, ofid, oname, nfid, nname);
	if (err)
		return gofer_err(fs, err);
	gofer_dir_changed(odir);
	gofer_dir_changed(ndir);
	/* diod's fids name paths: walk the new one for the moved inode. The
	 * old fid may be in use by another thread: retire it until evict. */
	uint32_t fresh;
	struct gofer_inode *gs = GI(src);
	unsigned long gen = atomic_load_explicit(&fs->dir_renames, memory_order_relaxed);
	if (S_ISDIR(GI(src)->type)) /* every fid below it names an old path now */
		gen = atomic_fetch_add_explicit(&fs->dir_renames, 1, memory_order_acq_rel) + 1;
	if (!uvfs_p9_walk(fs->c, nfid, 1, &nname, &fresh, NULL) && !gofer_swap_fid(gs, fresh, gen))
		uvfs_p9_clunk_async(fs->c, fresh);
	if (victim)
		drop_link(victim);
	gofer_refresh(src, true);
	gofer_refresh(odir, true);
	if (ndir != odir)
		gofer_refresh(ndir, true);
	return 0;
}

/* ------------------------------------------------------------- ops tables */

#define DIR_OPS(getattr_op)                                                                                      \
	{                                                                                                        \
		.lookup = gofer_lookup, .create = gofer_create, .mkdir = gofer_mkdir, .symlink = gofer_symlink, \
		.link = gofer_link, .unlink = gofer_unlink, .rmdir = gofer_rmdir, .rename = gofer_rename,       \
		.create_synthetic = gofer_create_synthetic,                                                     \
		.getattr = getattr_op, .setattr = gofer_setattr, .getxattr = gofer_getxattr,                    \
		.setxattr = gofer_setxattr, .listxattr = gofer_listxattr, .removexattr = gofer_removexattr,     \
	}
#define FILE_OPS(getattr_op)                                                                                     \
	{                                                                                                        \
		.getattr = getattr_op, .setattr = gofer_setattr, .getxattr = gofer_getxattr,                    \
		.setxattr = gofer_setxattr, .listxattr = gofer_listxattr, .removexattr = gofer_removexattr,     \
	}

/* fscache: getattr NULL, so stat is the VFS's lockless generic one. */
const struct uvfs_inode_ops gofer_dir_iops = DIR_OPS(NULL);
const struct uvfs_inode_ops gofer_reg_iops = FILE_OPS(NULL);
const struct uvfs_inode_ops gofer_symlink_iops = FILE_OPS(NULL);
const struct uvfs_inode_ops gofer_special_iops = FILE_OPS(NULL);
/* remote_revalidating / none: attributes come from the server. */
const struct uvfs_inode_ops gofer_dir_iops_reval = DIR_OPS(gofer_getattr);
const struct uvfs_inode_ops gofer_reg_iops_reval = FILE_OPS(gofer_getattr);
const struct uvfs_inode_ops gofer_symlink_iops_reval = FILE_OPS(gofer_getattr);
const struct uvfs_inode_ops gofer_special_iops_reval = FILE_OPS(gofer_getattr);
