/* fsimpl/gofer/file.c — attributes (getattr, setattr, xattrs) and open
 * files: regular file I/O straight to the server (no page cache yet),
 * directory streams over Treaddir.
 *
 * Locks: setattr and the xattr ops run under the inode's i_lock (held by
 * the VFS); getattr and write take it to store attributes; read, write and
 * iterate run under the file's f_lock (VFS), which protects the directory
 * stream position in struct gofer_file. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/xattr.h>

#include "fsimpl/gofer/internal.h"
#include "vfs/rangelock.h"

/* ------------------------------------------------------------ attributes */

/* inode's path is gone on the host but the file is open here: Linux keeps
 * the inode, and fstat answers with nlink 0. The attributes come from an
 * open fid when the server answers for one (diod 1.0.24 does not: it
 * resolves even an open fid by its path, ENOENT), else they are the last
 * ones we knew, with nlink 0. -ENOENT when nothing is open. */
static int open_fid_attrs(struct uvfs_inode *inode)
{
	struct gofer_inode *gi = GI(inode);
	bool any = false;
	for (unsigned k = 0;; k++) {
		uvfs_lock_acquire(&gi->fid_lock);
		uint32_t fid = k < gi->nopen ? gi->open_fids[k] : UVFS_P9_NOFID;
		uvfs_lock_release(&gi->fid_lock);
		if (fid == UVFS_P9_NOFID)
			break;
		any = true;
		/* A file being released takes its fid out of the list before
		 * clunking it, maybe while we ask: the qid check catches a
		 * number reused meanwhile. */
		struct uvfs_p9_attr a;
		if (uvfs_p9_getattr(GC(inode), fid, UVFS_P9_GETATTR_ALL, &a) || a.qid.path != gi->qid_path)
			continue;
		uvfs_lock_acquire(&inode->i_lock);
		gofer_attr_store(inode, &a);
		uvfs_lock_release(&inode->i_lock);
		return 0;
	}
	if (!any)
		return -ENOENT;
	uvfs_lock_acquire(&inode->i_lock);
	uvfs_inode_attr_begin(inode);
	inode->i_nlink = 0;
	uvfs_inode_attr_end(inode);
	uvfs_lock_release(&inode->i_lock);
	return 0;
}

static void open_fid_add(struct gofer_inode *gi, uint32_t fid)
{
	uvfs_lock_acquire(&gi->fid_lock);
	uint32_t *o = realloc(gi->open_fids, (gi->nopen + 1) * sizeof(*o));
	if (o) {
		gi->open_fids = o;
		o[gi->nopen++] = fid;
	}
	uvfs_lock_release(&gi->fid_lock);
}

static void open_fid_del(struct gofer_inode *gi, uint32_t fid)
{
	uvfs_lock_acquire(&gi->fid_lock);
	for (unsigned k = 0; k < gi->nopen; k++)
		if (gi->open_fids[k] == fid) {
			gi->open_fids[k] = gi->open_fids[--gi->nopen];
			break;
		}
	uvfs_lock_release(&gi->fid_lock);
}

/* remote_revalidating and none only (fscache stats from the cache). */
int gofer_getattr(struct uvfs_dentry *d, unsigned mask, struct statx *out)
{
	struct uvfs_inode *inode = uvfs_dentry_inode(d);
	uint32_t fid;
	int err = gofer_fresh_fid(d, &fid);
	if (!err)
		err = gofer_refresh(inode, false);
	if ((err == -ENOENT || err == -ESTALE) && open_fid_attrs(inode) == 0)
		err = 0; /* gone on the host, still open here: Linux keeps it */
	if (err == -ENOENT) {
		/* The fid walks d's own path (made fresh above): nothing is at
		 * that path now (say a directory above was renamed on the host),
		 * which ENOENT says as of this call; a retried walk could lose
		 * the same race again and leak ESTALE (stress_gofer). An inode
		 * shared by hard links may walk another name: walk again. */
		uvfs_lock_acquire(&GI(inode)->fid_lock);
		bool shared = GI(inode)->nlinks > 0;
		uvfs_lock_release(&GI(inode)->fid_lock);
		err = shared ? -ESTALE : -ENOENT;
	}
	if (err)
		return err;
	uvfs_inode_fill_statx(inode, out);
	return 0;
}

/* Attributes kept in memory only (caller holds i_lock). */
static void setattr_local(struct uvfs_inode *inode, const struct uvfs_setattr *attr)
{
	uvfs_inode_attr_begin(inode);
	if (attr->mask & STATX_MODE)
		__atomic_store_n(&inode->i_mode, (inode->i_mode & S_IFMT) | (attr->mode & 07777),
				 __ATOMIC_RELAXED); /* read by lockless walkers */
	if ((attr->mask & STATX_UID) && attr->uid != (uint32_t)-1)
		__atomic_store_n(&inode->i_uid, attr->uid, __ATOMIC_RELAXED);
	if ((attr->mask & STATX_GID) && attr->gid != (uint32_t)-1)
		__atomic_store_n(&inode->i_gid, attr->gid, __ATOMIC_RELAXED);
	if (attr->mask & STATX_ATIME)
		inode->i_atime = attr->atime;
	if (attr->mask & STATX_MTIME)
		inode->i_mtime = attr->mtime;
	inode->i_ctime = uvfs_now();
	uvfs_inode_attr_end(inode);
}

/* Open here but gone on the host (diod 1.0.24 resolves even an open fid
 * by its path, so Tsetattr on it is ENOENT): nobody can reach the host
 * file by a name any more, so mode, owner and times live in memory, as
 * Linux keeps them on an unlinked open inode (FUSE's writeback cache sets
 * the times at close: without this close(2) failed with EIO). */
static bool open_here(struct uvfs_inode *inode)
{
	struct gofer_inode *gi = GI(inode);
	uvfs_lock_acquire(&gi->fid_lock);
	bool open = gi->nopen > 0;
	uvfs_lock_release(&gi->fid_lock);
	return open;
}

/* A size change of a file open here but gone on the host (diod answers
 * ENOENT for a size Tsetattr even on the open fid): diod still writes
 * through the open fid, so growing writes one zero byte at the new end - 1
 * (the host file gets a hole, which reads as zeros), after any cached
 * data. Shrinking cannot be said that way: still -ENOENT. i_lock held. */
static int grow_unlinked(struct uvfs_inode *inode, struct uvfs_file *file, uint64_t size)
{
	struct gofer_fs *fs = GFS(inode->i_fs);
	struct gofer_file *gf = file ? file->f_private : NULL;
	if (!gf || gf->fid == UVFS_P9_NOFID || (file->f_flags & O_ACCMODE) == O_RDONLY)
		return -ENOENT;
	int err = gofer_pc_enabled(inode) ? gofer_pc_writeback(inode, gf->fid) : 0;
	if (err)
		return err;
	uint64_t cur = __atomic_load_n(&inode->i_size, __ATOMIC_RELAXED);
	if (size < cur)
		return -ENOENT;
	if (size > cur) {
		long n = uvfs_p9_write(fs->c, gf->fid, size - 1, "", 1);
		if (n < 0)
			return gofer_err(fs, (int)n);
		if (n != 1)
			return -EIO;
	}
	uvfs_inode_attr_begin(inode);
	inode->i_size = size;
	inode->i_blocks = (size + 511) / 512;
	uvfs_inode_attr_end(inode);
	return 0;
}

int gofer_setattr(struct uvfs_dentry *d, const struct uvfs_setattr *attr, struct uvfs_file *file)
{
	struct uvfs_inode *inode = uvfs_dentry_inode(d);
	struct gofer_fs *fs = GFS(inode->i_fs);
	uint32_t fid;
	int err;
	if (file && file->f_private && ((struct gofer_file *)file->f_private)->fid != UVFS_P9_NOFID)
		fid = ((struct gofer_file *)file->f_private)->fid;
	else if ((err = gofer_fresh_fid(d, &fid)) && (fid = gofer_fid(inode)) == GOFER_LAZYFID)
		return err; /* no fid to fall back on */
	if (fid == UVFS_P9_NOFID) {
		setattr_local(inode, attr); /* synthetic directory: in memory only */
		return 0;
	}
	struct uvfs_p9_setattr s = { 0 };
	if (attr->mask & STATX_MODE) {
		s.valid |= UVFS_P9_SETATTR_MODE;
		s.mode = attr->mode & 07777;
	}
	if ((attr->mask & STATX_UID) && attr->uid != (uint32_t)-1) {
		s.valid |= UVFS_P9_SETATTR_UID;
		s.uid = attr->uid;
	}
	if ((attr->mask & STATX_GID) && attr->gid != (uint32_t)-1) {
		s.valid |= UVFS_P9_SETATTR_GID;
		s.gid = attr->gid;
	}
	if (attr->mask & STATX_SIZE) {
		if (S_ISDIR(GI(inode)->type))
			return -EISDIR;
		s.valid |= UVFS_P9_SETATTR_SIZE;
		s.size = attr->size;
	}
	if (attr->mask & STATX_ATIME) {
		s.valid |= UVFS_P9_SETATTR_ATIME | UVFS_P9_SETATTR_ATIME_SET;
		s.atime_sec = (uint64_t)attr->atime.tv_sec;
		s.atime_nsec = (uint64_t)attr->atime.tv_nsec;
	}
	if (attr->mask & STATX_MTIME) {
		s.valid |= UVFS_P9_SETATTR_MTIME | UVFS_P9_SETATTR_MTIME_SET;
		s.mtime_sec = (uint64_t)attr->mtime.tv_sec;
		s.mtime_nsec = (uint64_t)attr->mtime.tv_nsec;
	}
	err = 0;
	/* Cached data first: its write-back would move the server's times
	 * past the ones set here (cp -a, tar). */
	if ((s.valid & (UVFS_P9_SETATTR_ATIME | UVFS_P9_SETATTR_MTIME)) && gofer_pc_enabled(inode) &&
	    (err = gofer_pc_writeback(inode, UVFS_P9_NOFID)))
		return err;
	if (s.valid && (err = uvfs_p9_setattr(fs->c, fid, &s))) {
		if (err == -ENOENT && open_here(inode)) {
			if ((s.valid & UVFS_P9_SETATTR_SIZE) && (err = grow_unlinked(inode, file, s.size)))
				return err;
			setattr_local(inode, attr);
			return 0;
		}
		return gofer_err(fs, err);
	}
	if ((s.valid & UVFS_P9_SETATTR_SIZE) && gofer_pc_enabled(inode)) {
		gofer_pc_truncate(inode, s.size);
		uvfs_inode_attr_begin(inode); /* the new end, even with dirty pages left */
		inode->i_size = s.size;
		uvfs_inode_attr_end(inode);
	}
	err = gofer_refresh(inode, true);
	return err == -ESTALE ? 0 : err; /* the change was made; the name moved on */
}

/* The path fid the xattr ops use: diod names files by path, so after a
 * directory rename through us the inode's fid may name the old path; the
 * dentry the VFS passes gives the current one (gofer_fresh_fid). -ESTALE
 * (the name reaches another file now) keeps the old fid, as setattr does. */
static int xattr_fid(struct uvfs_dentry *d, struct uvfs_inode *inode, uint32_t *fid)
{
	int err = gofer_fresh_fid(d, fid);
	if (err == -ESTALE && (*fid = gofer_fid(inode)) != GOFER_LAZYFID)
		err = 0;
	return err;
}

ssize_t gofer_getxattr(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name, void *buf, size_t len)
{
	uint32_t fid;
	int err = xattr_fid(d, inode, &fid);
	if (err)
		return err;
	if (fid == UVFS_P9_NOFID)
		return -ENODATA;
	return gofer_err(GFS(inode->i_fs), (int)uvfs_p9_getxattr(GC(inode), fid, name, buf, len));
}

int gofer_setxattr(struct uvfs_dentry *d, struct uvfs_inode *inode,
		const char *name, const void *val, size_t len, int flags)
{
	uint32_t fid;
	int err = xattr_fid(d, inode, &fid);
	if (err)
		return err;
	if (fid == UVFS_P9_NOFID)
		return -EOPNOTSUPP;
	return gofer_err(GFS(inode->i_fs), uvfs_p9_setxattr(GC(inode), fid, name, val, len, (uint32_t)flags));
}

ssize_t gofer_listxattr(struct uvfs_dentry *d, struct uvfs_inode *inode, char *buf, size_t len)
{
	uint32_t fid;
	int err = xattr_fid(d, inode, &fid);
	if (err)
		return err;
	if (fid == UVFS_P9_NOFID)
		return 0;
	return gofer_err(GFS(inode->i_fs), (int)uvfs_p9_listxattr(GC(inode), fid, buf, len));
}

/* 9P2000.L has no Tremovexattr: Txattrcreate of an empty value with
 * XATTR_REPLACE is how Linux's v9fs removes one. */
int gofer_removexattr(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name)
{
	uint32_t fid;
	int err = xattr_fid(d, inode, &fid);
	if (err)
		return err;
	if (fid == UVFS_P9_NOFID)
		return -ENODATA;
	return gofer_err(GFS(inode->i_fs), uvfs_p9_setxattr(GC(inode), fid, name, NULL, 0, XATTR_REPLACE));
}

/* ------------------------------------------------------------ open files */

static int gofer_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	struct gofer_fs *fs = GFS(inode->i_fs);
	struct gofer_file *gf = calloc(1, sizeof(*gf));
	if (!gf)
		return -ENOMEM;
	gf->fid = UVFS_P9_NOFID;
	gf->synth_base = -1;
	uint32_t pfid;
	int ferr = gofer_fresh_fid(f->f_vd.dentry, &pfid);
	if (ferr) {
		free(gf);
		return ferr;
	}
	if (pfid != UVFS_P9_NOFID) {
		uint32_t fid;
		int err = uvfs_p9_walk(fs->c, pfid, 0, NULL, &fid, NULL);
		if (err) {
			free(gf);
			return gofer_err(fs, err);
		}
		/* O_TRUNC is the VFS's (a setattr after open); O_APPEND is
		 * ours (write asks for the size). */
		uint32_t flags = S_ISDIR(GI(inode)->type) ? O_RDONLY : (uint32_t)(f->f_flags & O_ACCMODE);
		err = uvfs_p9_lopen(fs->c, fid, flags, NULL, NULL);
		if (err) {
			uvfs_p9_clunk_async(fs->c, fid);
			free(gf);
			return gofer_err(fs, err);
		}
		gf->fid = fid;
		if (GI(inode)->type == S_IFREG)
			open_fid_add(GI(inode), fid);
	}
	f->f_private = gf;
	return 0;
}

/* ------------------------------------------------------------ lock owners */

/* Locks are kept in gi->ranges (exact POSIX ranges among the owners of
 * this process) and, to exclude other clients, as ONE whole-file lock on
 * the server (diod's Tlock is flock(2)) through a fid of the inode's own
 * (srv_fid): shared while every range is a read lock, exclusive if any is
 * a write lock, none when no range is left. All under lk_lock. */

/* owner locked through fid: remember it (a release of fid drops owner's
 * locks, as the close of any descriptor does on Linux). lk_lock held. */
static int lk_note(struct gofer_inode *gi, uint64_t owner, uint32_t fid)
{
	unsigned k;
	for (k = 0; k < gi->nlks && (gi->lks[k].owner != owner || gi->lks[k].fid != fid); k++)
		;
	if (k < gi->nlks)
		return 0;
	struct gofer_lockrec *r = realloc(gi->lks, (gi->nlks + 1) * sizeof(*r));
	if (!r)
		return -ENOLCK;
	gi->lks = r;
	r[gi->nlks++] = (struct gofer_lockrec){ owner, fid };
	return 0;
}

/* Records of owners that hold no range any more go. lk_lock held. */
static void lk_prune(struct gofer_inode *gi)
{
	for (unsigned k = 0; k < gi->nlks;) {
		bool holds = false;
		for (const struct uvfs_rlock *l = gi->ranges; l && !holds; l = l->next)
			holds = l->owner == gi->lks[k].owner;
		if (holds)
			k++;
		else
			gi->lks[k] = gi->lks[--gi->nlks];
	}
	if (!gi->nlks) {
		free(gi->lks);
		gi->lks = NULL;
	}
}

/* The server lock the ranges call for. lk_lock held. */
static uint8_t lk_want(const struct gofer_inode *gi)
{
	uint8_t want = UVFS_P9_LOCK_TYPE_UNLCK;
	for (const struct uvfs_rlock *l = gi->ranges; l; l = l->next)
		want = l->type == F_WRLCK ? UVFS_P9_LOCK_TYPE_WRLCK : want == UVFS_P9_LOCK_TYPE_WRLCK ? want : UVFS_P9_LOCK_TYPE_RDLCK;
	return want;
}

/* One non-blocking whole-file Tlock of type on srv_fid: 0, -EAGAIN if
 * another client holds the file, or an error. */
static int srv_tlock(struct gofer_fs *fs, struct gofer_inode *gi, uint8_t type)
{
	struct uvfs_p9_flock p = { .type = type, .start = 0, .length = 0, .proc_id = (uint32_t)getpid() };
	snprintf(p.client_id, sizeof(p.client_id), "uvfs-%d", (int)getpid());
	uint8_t status = UVFS_P9_LOCK_ERROR;
	int err = uvfs_p9_lock(fs->c, gi->srv_fid, &p, &status);
	if (err)
		return gofer_err(fs, err);
	if (status == UVFS_P9_LOCK_SUCCESS)
		return 0;
	return status == UVFS_P9_LOCK_ERROR ? -ENOLCK : -EAGAIN; /* BLOCKED or GRACE */
}

/* Brings the server lock to want (spare: an open fid to hold it through
 * if none is held yet; taken, set to NOFID, if used). -EAGAIN if another
 * client holds the file. A failed upgrade may have dropped the shared lock
 * (flock(2) converts by unlocking first): it is taken back. lk_lock held. */
static int srv_set(struct gofer_fs *fs, struct gofer_inode *gi, uint8_t want, uint32_t *spare)
{
	if (want == UVFS_P9_LOCK_TYPE_UNLCK) {
		if (!gi->srv_held)
			return 0;
		int err = srv_tlock(fs, gi, UVFS_P9_LOCK_TYPE_UNLCK);
		if (err)
			uvfs_log(UVFS_LOG_WARN, "9p: %s: releasing the file lock: %s", fs->source, strerror(-err));
		uvfs_p9_clunk_async(fs->c, gi->srv_fid); /* closes diod's descriptor: the flock goes anyway */
		gi->srv_held = false;
		gi->srv_fid = UVFS_P9_NOFID;
		return 0;
	}
	if (gi->srv_held && gi->srv_type == want)
		return 0;
	if (!gi->srv_held) {
		if (!spare || *spare == UVFS_P9_NOFID)
			return -ENOLCK;
		gi->srv_fid = *spare;
		int err = srv_tlock(fs, gi, want);
		if (err) {
			gi->srv_fid = UVFS_P9_NOFID;
			return err; /* the caller clunks its spare */
		}
		*spare = UVFS_P9_NOFID;
		gi->srv_held = true;
		gi->srv_type = want;
		return 0;
	}
	int err = srv_tlock(fs, gi, want);
	if (!err) {
		gi->srv_type = want;
		return 0;
	}
	if (want == UVFS_P9_LOCK_TYPE_WRLCK && srv_tlock(fs, gi, UVFS_P9_LOCK_TYPE_RDLCK)) {
		/* Another client got in between: our read ranges are no longer
		 * covered on the server. Nothing better to do than say so. */
		uvfs_log(UVFS_LOG_WARN, "9p: %s: lost the shared file lock on a failed upgrade", fs->source);
	}
	return err;
}

/* The server lock follows the ranges after a removal. lk_lock held. */
static void lk_sync(struct gofer_fs *fs, struct gofer_inode *gi)
{
	lk_prune(gi);
	uint8_t want = lk_want(gi);
	/* A downgrade (WR -> RD) cannot conflict: keep WR if it fails. */
	if (want != UVFS_P9_LOCK_TYPE_WRLCK)
		srv_set(fs, gi, want, NULL);
}

/* fid goes (release, before its clunk): every owner that locked through
 * it loses its locks on the file (POSIX close). */
static void lk_forget_fid(struct gofer_fs *fs, struct gofer_inode *gi, uint32_t fid)
{
	uvfs_lock_acquire(&gi->lk_lock);
	for (unsigned k = 0; k < gi->nlks; k++)
		if (gi->lks[k].fid == fid)
			uvfs_rl_remove_owner(&gi->ranges, gi->lks[k].owner);
	lk_sync(fs, gi);
	uvfs_lock_release(&gi->lk_lock);
}

static void gofer_release_file(struct uvfs_file *f)
{
	struct gofer_file *gf = f->f_private;
	if (!gf)
		return;
	if (gf->fid != UVFS_P9_NOFID) {
		if (gofer_pc_enabled(f->f_inode) && (f->f_flags & O_ACCMODE) != O_RDONLY) {
			int err = gofer_pc_writeback(f->f_inode, gf->fid);
			if (err)
				uvfs_log(UVFS_LOG_ERROR, "9p: %s: writing cached data back at close failed: %s",
					 GFS(f->f_inode->i_fs)->source, strerror(-err));
		}
		if (gofer_pc_enabled(f->f_inode))
			gofer_pc_forget_fid(f->f_inode, gf->fid);
		open_fid_del(GI(f->f_inode), gf->fid);
		lk_forget_fid(GFS(f->f_inode->i_fs), GI(f->f_inode), gf->fid);
		uvfs_p9_clunk_async(GC(f->f_inode), gf->fid);
	}
	gofer_names_abort(gf->names);
	free(gf);
	f->f_private = NULL;
}

static ssize_t gofer_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	struct gofer_file *gf = f->f_private;
	if (gofer_pc_enabled(f->f_inode))
		return gofer_pc_read(f->f_inode, gf->fid, buf, len, off);
	long n = uvfs_p9_read(GC(f->f_inode), gf->fid, off, buf, len);
	return n < 0 ? gofer_err(GFS(f->f_inode->i_fs), (int)n) : n;
}

static ssize_t gofer_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	struct uvfs_inode *inode = f->f_inode;
	struct gofer_fs *fs = GFS(inode->i_fs);
	struct gofer_file *gf = f->f_private;
	if (f->f_flags & O_APPEND) {
		/* The host file may have grown behind our back (shared modes). */
		if (fs->cache >= GOFER_CACHE_REVAL) {
			int err = gofer_refresh(inode, false);
			if (err && err != -ESTALE)
				return err;
		}
		*off = __atomic_load_n(&inode->i_size, __ATOMIC_RELAXED);
	}
	long n = gofer_pc_enabled(inode) ? gofer_pc_write(f, gf->fid, buf, len, *off)
					 : uvfs_p9_write(fs->c, gf->fid, *off, buf, len);
	if (n < 0)
		return gofer_err(fs, (int)n);
	uvfs_lock_acquire(&inode->i_lock);
	struct timespec now = uvfs_now();
	uvfs_inode_attr_begin(inode);
	if (*off + (uint64_t)n > inode->i_size) {
		inode->i_size = *off + (uint64_t)n;
		inode->i_blocks = (inode->i_size + 511) / 512;
	}
	inode->i_mtime = inode->i_ctime = now;
	uvfs_inode_attr_end(inode);
	uvfs_lock_release(&inode->i_lock);
	*off += (uint64_t)n;
	return n;
}

static int gofer_fsync(struct uvfs_file *f, bool datasync)
{
	struct gofer_file *gf = f->f_private;
	if (!gf || gf->fid == UVFS_P9_NOFID)
		return 0;
	if (gofer_pc_enabled(f->f_inode) && (f->f_flags & O_ACCMODE) != O_RDONLY) {
		int err = gofer_pc_writeback(f->f_inode, gf->fid);
		if (err)
			return err;
	}
	return gofer_err(GFS(f->f_inode->i_fs), uvfs_p9_fsync(GC(f->f_inode), gf->fid, datasync));
}

/* Each close writes cached data back (as NFS and v9fs do), reporting
 * what failed. */
static int gofer_flush(struct uvfs_file *f)
{
	struct gofer_file *gf = f->f_private;
	if (!gf || gf->fid == UVFS_P9_NOFID || !gofer_pc_enabled(f->f_inode) || (f->f_flags & O_ACCMODE) == O_RDONLY)
		return 0;
	return gofer_pc_writeback(f->f_inode, gf->fid);
}

/* ------------------------------------------------------- directory stream */

struct rd {
	struct uvfs_dir_ctx *ctx;
	struct gofer_file *gf; /* loop detection state, entries seen */
	uint64_t start, cookie; /* cookie the batch was asked from; after the last consumed entry */
	uint64_t skip; /* entries to pass over before emitting (a seek) */
	struct gofer_synth *synth; /* the directory's synthetic children: their names hide the server's */
	size_t nsynth;
	bool stop;
	int err;
};

/* Does the server cycle through its cookies? Brent's algorithm: O(1)
 * memory, and any cycle is caught within twice its length. */
static bool cookie_loops(struct gofer_file *gf, uint64_t c)
{
	if (c == gf->brent_saved)
		return true;
	if (++gf->brent_steps == gf->brent_power) {
		gf->brent_saved = c;
		gf->brent_power *= 2;
		gf->brent_steps = 0;
	}
	return false;
}

static int rd_cb(void *arg, const struct uvfs_p9_dirent *de)
{
	struct rd *r = arg;
	/* A server that hands back an offset it was asked from, the previous
	 * one or any earlier one would make the stream loop forever; one
	 * that never ends is cut off. */
	if (de->offset == r->start || de->offset == r->cookie) {
		uvfs_log(UVFS_LOG_ERROR, "9p: readdir: the server repeats offset %" PRIu64, de->offset);
		r->err = -EIO;
		return 1;
	}
	if (++r->gf->dir_seen > GOFER_MAX_DIRENTS) {
		uvfs_log(UVFS_LOG_ERROR, "9p: readdir: more than %ld entries: the directory never ends?",
			 (long)GOFER_MAX_DIRENTS);
		r->err = -EIO;
		return 1;
	}
	size_t len = strlen(de->name);
	bool dots = de->name[0] == '.' && (len == 1 || (len == 2 && de->name[1] == '.'));
	bool hidden = false;
	for (size_t i = 0; !dots && i < r->nsynth && !hidden; i++)
		hidden = !strcmp(r->synth[i].name, de->name);
	if (!dots && !gofer_name_ok(de->name, len)) {
		uvfs_log(UVFS_LOG_WARN, "9p: readdir: skipping an entry with an unusable name (%zu bytes)", len);
	} else if (hidden) {
		/* Listed once, with the synthetic children (a lookup finds the
		 * synthetic one too). */
	} else if (!dots && r->skip) {
		r->skip--;
	} else if (!dots) {
		if (r->ctx->emit(r->ctx, de->name, len, de->qid.path, de->type, r->ctx->pos + 1)) {
			r->stop = true;
			return 1; /* not consumed: the cookie stays before it */
		}
		r->ctx->pos++;
		if (r->gf->names && !gofer_names_add(r->gf->names, de->name, len)) {
			gofer_names_abort(r->gf->names); /* out of memory: just not complete */
			r->gf->names = NULL;
		}
	}
	/* Only consumed entries count: one the caller refused comes again. */
	if (cookie_loops(r->gf, de->offset)) {
		uvfs_log(UVFS_LOG_ERROR, "9p: readdir: the server cycles back to offset %" PRIu64, de->offset);
		r->err = -EIO;
		return 1;
	}
	r->cookie = de->offset;
	return 0;
}

/* After the server's last name: the synthetic children, at positions
 * from gf->synth_base on in creation order (the list only grows, so an
 * offset names the same child again). */
static void emit_synth(struct gofer_file *gf, struct uvfs_dir_ctx *ctx, struct rd *r)
{
	if (gf->synth_base < 0)
		gf->synth_base = ctx->pos - (int64_t)r->skip; /* where the first one is (or would be) */
	for (int64_t i = ctx->pos - gf->synth_base; i >= 0 && (size_t)i < r->nsynth; i++) {
		struct gofer_synth *c = &r->synth[i];
		unsigned dtype = (unsigned)(GI(c->inode)->type >> 12); /* DT_DIR, DT_REG */
		if (ctx->emit(ctx, c->name, strlen(c->name), c->inode->i_ino, dtype, ctx->pos + 1))
			return;
		ctx->pos++;
	}
}

static int gofer_iterate(struct uvfs_file *f, struct uvfs_dir_ctx *ctx)
{
	struct gofer_file *gf = f->f_private;
	struct uvfs_inode *inode = f->f_inode;
	if (gf->fid == UVFS_P9_NOFID)
		return uvfs_dcache_iterate(f, f->f_vd.dentry, ctx); /* synthetic: names in the dcache */
	if (uvfs_dir_emit_dots(f, ctx))
		return 0;
	struct gofer_fs *fs = GFS(inode->i_fs);
	struct rd r = { .ctx = ctx, .gf = gf };
	int err = gofer_synth_copy(inode, &r.synth, &r.nsynth);
	if (err)
		return err;
	if (ctx->pos == gf->dir_pos && gf->dir_pos > 2) {
		r.cookie = gf->dir_cookie; /* resume where the last call stopped */
	} else {
		r.skip = (uint64_t)(ctx->pos - 2); /* a seek: count from the start */
		gf->synth_base = -1;
		gf->brent_saved = 0; /* the start cookie */
		gf->brent_steps = 0;
		gf->brent_power = 1;
		gf->dir_seen = 0;
		/* Exclusive modes: a stream read from its start collects the
		 * names, which make the directory complete at its end. */
		gofer_names_abort(gf->names);
		gf->names = !r.skip && fs->cache < GOFER_CACHE_REVAL ? gofer_names_begin(inode) : NULL;
	}
	uint32_t count = uvfs_p9_msize(fs->c) - 24; /* diod: at most msize - 24 */
	for (;;) {
		r.start = r.cookie;
		int n = uvfs_p9_readdir(fs->c, gf->fid, r.cookie, count, rd_cb, &r);
		if (r.err) {
			err = r.err;
			break;
		}
		if (n < 0) {
			err = gofer_err(fs, n);
			break;
		}
		if (r.stop || n == 0)
			break;
	}
	if (!err && !r.stop && r.nsynth)
		emit_synth(gf, ctx, &r);
	gofer_synth_free(r.synth, r.nsynth);
	gf->dir_pos = ctx->pos;
	gf->dir_cookie = r.cookie;
	if (gf->names && (err || !r.stop)) {
		/* The end (or a failure): publish only a whole listing. */
		if (err)
			gofer_names_abort(gf->names);
		else
			gofer_names_publish(inode, gf->names);
		gf->names = NULL;
	}
	return err;
}

/* ------------------------------------------------------------ locks */

/* POSIX record locks: exact among this process's owners (gi->ranges),
 * whole-file against other clients (the server lock, see lock owners).
 * F_SETLKW retries with a backoff (1 to 50 ms), polling the caller's
 * interrupt check: a conflict may be another client's, which nothing here
 * would wake us for. No EDEADLK detection. */
static int gofer_lock(struct uvfs_file *f, uint64_t owner, int cmd, struct flock *fl)
{
	struct gofer_file *gf = f->f_private;
	struct gofer_fs *fs = GFS(f->f_inode->i_fs);
	struct gofer_inode *gi = GI(f->f_inode);
	if (!gf || gf->fid == UVFS_P9_NOFID)
		return -ENOLCK;
	int64_t s, e;
	uvfs_rl_range(fl, &s, &e);
	short type = fl->l_type;
	if (cmd == F_GETLK) {
		uvfs_lock_acquire(&gi->lk_lock);
		const struct uvfs_rlock *c = uvfs_rl_conflict(gi->ranges, owner, type, s, e);
		bool held = gi->srv_held;
		if (c)
			uvfs_rl_to_flock(c, fl);
		uvfs_lock_release(&gi->lk_lock);
		if (c)
			return 0;
		fl->l_type = F_UNLCK;
		if (held) /* no other client can hold a conflicting lock but a
			   * shared one (not seen: our own flock would answer) */
			return 0;
		/* Another client's lock: the server knows (whole-file). */
		struct uvfs_p9_flock p = { .type = type == F_RDLCK ? UVFS_P9_LOCK_TYPE_RDLCK : UVFS_P9_LOCK_TYPE_WRLCK,
					   .start = (uint64_t)fl->l_start,
					   .length = (uint64_t)fl->l_len,
					   .proc_id = (uint32_t)getpid() };
		snprintf(p.client_id, sizeof(p.client_id), "uvfs-%d", (int)getpid());
		int err = uvfs_p9_getlock(fs->c, gf->fid, &p);
		if (err)
			return gofer_err(fs, err);
		if (p.type == UVFS_P9_LOCK_TYPE_UNLCK)
			return 0;
		if (p.type != UVFS_P9_LOCK_TYPE_RDLCK && p.type != UVFS_P9_LOCK_TYPE_WRLCK)
			return -EIO;
		fl->l_type = p.type == UVFS_P9_LOCK_TYPE_RDLCK ? F_RDLCK : F_WRLCK;
		fl->l_whence = SEEK_SET;
		fl->l_start = (off_t)(p.start > INT64_MAX ? INT64_MAX : p.start);
		fl->l_len = (off_t)(p.length > INT64_MAX ? 0 : p.length);
		fl->l_pid = (pid_t)p.proc_id;
		return 0;
	}
	const struct uvfs_ctx *ctx = uvfs_current_ctx();
	int32_t pid = ctx && ctx->tid ? ctx->tid : (int32_t)getpid();
	uint32_t spare = UVFS_P9_NOFID;
	int err;
	for (unsigned delay_ms = 1;; delay_ms = delay_ms < 50 ? delay_ms * 2 : 50) {
		/* The first lock of the file needs a fid to hold the server
		 * lock through; made outside lk_lock (a walk). */
		uvfs_lock_acquire(&gi->lk_lock);
		bool need = type != F_UNLCK && !gi->srv_held;
		uvfs_lock_release(&gi->lk_lock);
		if (need && spare == UVFS_P9_NOFID) {
			uint32_t pfid, fid;
			if ((err = gofer_fresh_fid(f->f_vd.dentry, &pfid)))
				break;
			if (pfid == UVFS_P9_NOFID) {
				err = -ENOLCK;
				break;
			}
			if ((err = uvfs_p9_walk(fs->c, pfid, 0, NULL, &fid, NULL))) {
				err = gofer_err(fs, err);
				break;
			}
			if ((err = uvfs_p9_lopen(fs->c, fid, (uint32_t)(f->f_flags & O_ACCMODE), NULL, NULL))) {
				uvfs_p9_clunk_async(fs->c, fid);
				err = gofer_err(fs, err);
				break;
			}
			spare = fid;
		}
		uvfs_lock_acquire(&gi->lk_lock);
		if (type == F_UNLCK) {
			err = uvfs_rl_apply(&gi->ranges, owner, pid, type, s, e);
			lk_sync(fs, gi);
		} else if (uvfs_rl_conflict(gi->ranges, owner, type, s, e)) {
			err = -EAGAIN;
		} else if (!gi->srv_held && spare == UVFS_P9_NOFID) {
			/* The server lock went since we looked: make a fid. */
			uvfs_lock_release(&gi->lk_lock);
			continue;
		} else if (!(err = lk_note(gi, owner, gf->fid))) {
			uint8_t want = type == F_WRLCK ? UVFS_P9_LOCK_TYPE_WRLCK : lk_want(gi);
			if (want == UVFS_P9_LOCK_TYPE_UNLCK)
				want = UVFS_P9_LOCK_TYPE_RDLCK;
			err = srv_set(fs, gi, want, &spare);
			if (!err)
				err = uvfs_rl_apply(&gi->ranges, owner, pid, type, s, e) ? -ENOLCK : 0;
			lk_sync(fs, gi); /* a failure leaves nothing behind */
		}
		uvfs_lock_release(&gi->lk_lock);
		if (err != -EAGAIN || cmd != F_SETLKW)
			break;
		struct timespec ts = { 0, (long)delay_ms * 1000000L };
		nanosleep(&ts, NULL);
		if (uvfs_ctx_interrupted()) {
			err = -EINTR;
			break;
		}
	}
	if (spare != UVFS_P9_NOFID)
		uvfs_p9_clunk_async(fs->c, spare);
	return err;
}

/* The host file itself, for direct mounts (9P clients: -EOPNOTSUPP). Our
 * own cached writes reach it first, as at close; another file's dirty
 * pages do not (the same view a second host process would have). */
static int gofer_host_fd(struct uvfs_file *f)
{
	struct gofer_file *gf = f->f_private;
	struct uvfs_p9_client *c = GC(f->f_inode);
	uint32_t fid = gf && gf->fid != UVFS_P9_NOFID ? gf->fid : gofer_fid(f->f_inode);
	if (!uvfs_p9_is_direct(c) || fid == UVFS_P9_NOFID)
		return -EOPNOTSUPP;
	int err = gofer_flush(f);
	if (err)
		return err;
	return gofer_err(GFS(f->f_inode->i_fs), uvfs_p9_host_fd(c, fid));
}

const struct uvfs_file_ops gofer_reg_fops = {
	.open = gofer_open,
	.release = gofer_release_file,
	.read = gofer_read,
	.write = gofer_write,
	.fsync = gofer_fsync,
	.flush = gofer_flush,
	.lock = gofer_lock,
	.host_fd = gofer_host_fd,
};

const struct uvfs_file_ops gofer_dir_fops = {
	.open = gofer_open,
	.release = gofer_release_file,
	.iterate = gofer_iterate,
	.fsync = gofer_fsync,
};

/* Symlinks, devices, FIFOs, sockets: nothing is opened on the server. */
const struct uvfs_file_ops gofer_special_fops = { 0 };
