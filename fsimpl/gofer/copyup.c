/* fsimpl/gofer/copyup.c — copy-up of a regular file into a 9p layer in few
 * round trips (overlay over a diod-served upper directory), and the same
 * for a new empty file (overlay's create, also built in work).
 *
 * The generic way (open O_CREAT in work, write, chown, chmod+utimes,
 * link into place, unlink the work name, restore the parent's times) costs
 * about 30 round trips through the VFS, each op walking and re-reading
 * attributes. Here the server's calls are used directly on one fid:
 *   1 Twalk (clone work's fid)   2 Tlcreate tmp (the fid is now the open file)
 *   3 Twrite (pipelined chunks)  4 Tsetattr (uid, gid, mode, times, size) on
 *     the open fid, and a Twalk to tmp in flight with it (the path fid)
 *   5 Trename to dst             6 Tsetattr of dst's directory (its times)
 * (xattrs: Txattrcreate per name, before 4). The path fid becomes the new
 * inode's, and the inode's attributes are the ones just set, so nothing is
 * read back.
 *
 * Steps 5 and 6 run inside the VFS's create of dst (uvfs_mknod_at2):
 * gofer_create adopts the prepared file instead of making one, so the
 * dcache, dst's directory lock and watchers see an ordinary new name. The
 * hand-over is a per-thread record (the create runs on the calling
 * thread), matched by directory inode and name.
 *
 * Locks: none of ours; the VFS holds dst's directory i_lock around the
 * adoption (gofer_create). */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fsimpl/gofer/copyup.h"
#include "fsimpl/gofer/internal.h"

#define CHUNK (256 * 1024)

/* The file a copy-up on this thread prepared, waiting for gofer_create. */
struct adopt {
	struct gofer_fs *fs;
	uint32_t fid; /* path fid of the prepared file (work/tmp; NOFID: none) */
	struct uvfs_p9_qid qid;
	const struct gofer_copyup *cu;
	uint64_t blocks;
	bool taken; /* gofer_create used it (then fid is consumed) */
};
static __thread struct adopt *cur_adopt;

/* Writes the source's data extents to fid; the blocks written (512-byte
 * units, whole 4 KiB pages) in *blocks. */
static int copy_data(struct gofer_fs *fs, uint32_t fid, struct uvfs_file *src, uint64_t size, uint64_t *blocks)
{
	if (!size)
		return 0;
	char *buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	int err = 0;
	int64_t off = 0;
	while ((uint64_t)off < size && !err) {
		int64_t data = uvfs_seek(src, off, SEEK_DATA);
		if (data == -ENXIO)
			break;
		int64_t hole = data < 0 ? data : uvfs_seek(src, data, SEEK_HOLE);
		if (hole < 0) {
			err = (int)hole;
			break;
		}
		for (off = data; off < hole && !err;) {
			size_t want = (size_t)(hole - off) < CHUNK ? (size_t)(hole - off) : CHUNK;
			ssize_t n = uvfs_pread(src, buf, want, off);
			if (n <= 0) {
				err = (int)n;
				hole = off; /* shrank under us: the size is set anyway */
				break;
			}
			long w = uvfs_p9_write(fs->c, fid, (uint64_t)off, buf, (size_t)n);
			if (w < 0)
				err = gofer_err(fs, (int)w);
			else if (w != n)
				err = -EIO;
			*blocks += ((uint64_t)n + 4095) / 4096 * 8;
			off += n;
		}
		off = hole;
	}
	free(buf);
	return err;
}

/* gofer_create's hook, dir's i_lock held by the VFS: if this thread's
 * copy-up is placing a file at d, move it there and instantiate d. */
bool gofer_copyup_adopt(struct uvfs_inode *dir, struct uvfs_dentry *d, int *err)
{
	struct adopt *ad = cur_adopt;
	if (!ad || ad->taken || GFS(dir->i_fs) != ad->fs)
		return false;
	ad->taken = true; /* one create only, whatever happens */
	struct gofer_fs *fs = ad->fs;
	const struct gofer_copyup *cu = ad->cu;
	uint32_t dfid = gofer_fid(dir);
	if (dfid == UVFS_P9_NOFID) {
		*err = -EPERM;
		return true;
	}
	unsigned long gen = atomic_load_explicit(&fs->dir_renames, memory_order_acquire);
	/* 5: into place. diod has no Trenameat; Trename moves the fid's own
	 * path, so fid then names dst. */
	int e = uvfs_p9_rename(fs->c, ad->fid, dfid, uvfs_dentry_name(d, NULL));
	if (e) {
		*err = gofer_err(fs, e);
		return true;
	}
	gofer_dir_changed(dir);
	/* 6: not a change of the directory in the merged view (Linux
	 * ovl_set_timestamps); best effort, as Linux. The cached times stay
	 * the ones put back. */
	if (cu->restore_ptimes) {
		struct uvfs_p9_setattr s = {
			.valid = UVFS_P9_SETATTR_ATIME | UVFS_P9_SETATTR_ATIME_SET | UVFS_P9_SETATTR_MTIME |
				 UVFS_P9_SETATTR_MTIME_SET,
			.atime_sec = (uint64_t)cu->patime.tv_sec,
			.atime_nsec = (uint64_t)cu->patime.tv_nsec,
			.mtime_sec = (uint64_t)cu->pmtime.tv_sec,
			.mtime_nsec = (uint64_t)cu->pmtime.tv_nsec,
		};
		uvfs_p9_setattr(fs->c, dfid, &s);
	} else {
		/* The server stamped the directory at the rename: the cached
		 * times follow without a Tgetattr (ours are within the round
		 * trip of its; fscache trusts the cache from here on). */
		struct timespec t = uvfs_now();
		uvfs_inode_attr_begin(dir);
		dir->i_mtime = dir->i_ctime = t;
		uvfs_inode_attr_end(dir);
	}
	/* The attributes just set (ctime: the rename's, ours to the second). */
	const struct statx *st = cu->st;
	struct timespec now = uvfs_now();
	struct uvfs_p9_attr a = {
		.valid = UVFS_P9_GETATTR_BASIC & ~UVFS_P9_GETATTR_RDEV,
		.qid = ad->qid,
		.mode = S_IFREG | (st->stx_mode & 07777),
		.uid = st->stx_uid,
		.gid = st->stx_gid,
		.nlink = 1,
		.size = st->stx_size,
		.blocks = ad->blocks,
		.atime_sec = (uint64_t)(cu->times ? st->stx_atime.tv_sec : now.tv_sec),
		.atime_nsec = cu->times ? st->stx_atime.tv_nsec : (uint64_t)now.tv_nsec,
		.mtime_sec = (uint64_t)(cu->times ? st->stx_mtime.tv_sec : now.tv_sec),
		.mtime_nsec = cu->times ? st->stx_mtime.tv_nsec : (uint64_t)now.tv_nsec,
		.ctime_sec = (uint64_t)now.tv_sec,
		.ctime_nsec = (uint64_t)now.tv_nsec,
	};
	struct gofer_inode *gi;
	e = gofer_inode_from(fs, ad->fid, &a, gen, &gi); /* consumes the fid */
	ad->fid = UVFS_P9_NOFID;
	if (e) {
		uvfs_p9_unlinkat(fs->c, dfid, uvfs_dentry_name(d, NULL), 0); /* nothing half-made at dst */
		*err = e;
		return true;
	}
	uvfs_d_instantiate(d, &gi->vfs);
	*err = 0;
	return true;
}

int gofer_copyup_reg(struct uvfs *vfs, const struct uvfs_cred *cred, struct uvfs_vd work, const char *tmp,
		     const struct uvfs_pathop *dst, const struct gofer_copyup *cu, struct uvfs_vd *made)
{
	if (uvfs_mount_fs(work.mount)->type != &uvfs_gofer_type || !S_ISREG(cu->st->stx_mode))
		return -EOPNOTSUPP;
	struct uvfs_inode *wi = uvfs_dentry_inode(work.dentry);
	struct gofer_fs *fs = GFS(wi->i_fs);
	uint32_t wfid;
	int err = gofer_fresh_fid(work.dentry, &wfid);
	if (err)
		return err;
	if (wfid == UVFS_P9_NOFID)
		return -EOPNOTSUPP;
	struct adopt ad = { .fs = fs, .cu = cu, .fid = UVFS_P9_NOFID };
	uint32_t iounit, ofid;
	/* 1, 2: the work file, created open (owner root: the mounter's fsuid
	 * and fsgid; set below if the source's differ). */
	if ((err = uvfs_p9_walk(fs->c, wfid, 0, NULL, &ofid, NULL)))
		return gofer_err(fs, err);
	if ((err = uvfs_p9_lcreate(fs->c, ofid, tmp, O_WRONLY | O_EXCL, 0600, cred->fsgid, &ad.qid, &iounit))) {
		uvfs_p9_clunk_async(fs->c, ofid);
		return gofer_err(fs, err);
	}
	/* 3: data. */
	uint64_t size = cu->st->stx_size;
	err = cu->src ? copy_data(fs, ofid, cu->src, size, &ad.blocks) : 0;
	for (unsigned i = 0; !err && i < cu->nxattrs; i++) {
		const struct gofer_copyup_xattr *x = &cu->xattrs[i];
		if ((err = uvfs_p9_setxattr(fs->c, ofid, x->name, x->val, x->len, 0)))
			err = gofer_err(fs, err);
	}
	/* 4: owner, mode, times and size in one Tsetattr. diod applies the
	 * mode before the owner, and a chown clears setuid/setgid: a setuid or
	 * setgid file is chowned by a Tsetattr of its own first. */
	if (!err) {
		const struct statx *st = cu->st;
		struct uvfs_p9_setattr s = {
			.valid = UVFS_P9_SETATTR_MODE | UVFS_P9_SETATTR_SIZE |
				 (cu->times ? UVFS_P9_SETATTR_ATIME | UVFS_P9_SETATTR_ATIME_SET | UVFS_P9_SETATTR_MTIME |
						      UVFS_P9_SETATTR_MTIME_SET
					    : 0),
			.mode = st->stx_mode & 07777,
			.size = size,
			.atime_sec = (uint64_t)st->stx_atime.tv_sec,
			.atime_nsec = st->stx_atime.tv_nsec,
			.mtime_sec = (uint64_t)st->stx_mtime.tv_sec,
			.mtime_nsec = st->stx_mtime.tv_nsec,
		};
		if (st->stx_uid != cred->fsuid || st->stx_gid != cred->fsgid) {
			struct uvfs_p9_setattr o = { .valid = UVFS_P9_SETATTR_UID | UVFS_P9_SETATTR_GID,
						     .uid = st->stx_uid,
						     .gid = st->stx_gid };
			if (!(st->stx_mode & (S_ISUID | S_ISGID))) {
				s.valid |= o.valid;
				s.uid = o.uid;
				s.gid = o.gid;
			} else if ((err = uvfs_p9_setattr(fs->c, ofid, &o))) /* its own, first */
				err = gofer_err(fs, err);
		}
		/* With it, the path fid the new inode keeps (diod cannot
		 * Trename an open fid: the server dies). */
		int werr = 0;
		if (!err && (err = uvfs_p9_setattr_walk(fs->c, ofid, &s, wfid, tmp, &ad.fid, &ad.qid, &werr)))
			err = gofer_err(fs, err);
		else if (werr)
			err = gofer_err(fs, werr);
	}
	uvfs_p9_clunk_async(fs->c, ofid);
	if (!err) {
		/* 5, 6: through the VFS's create of dst (gofer_copyup_adopt). */
		struct uvfs_create_opts co = { .vd = made };
		cur_adopt = &ad;
		err = uvfs_mknod_at2(vfs, cred, dst, S_IFREG | 0600, 0, &co);
		cur_adopt = NULL;
		if (ad.taken && !err)
			return 0; /* the fid belongs to the new inode */
		if (!err) {
			/* Another filesystem's create took it (dst not on this
			 * mount): undo that, drop ours. */
			uvfs_unlink_at(vfs, cred, dst);
			uvfs_vd_put(made);
			err = -EXDEV;
		}
	}
	if (ad.fid != UVFS_P9_NOFID)
		uvfs_p9_remove(fs->c, ad.fid); /* removes work/tmp (not renamed) and clunks */
	else if (!ad.taken)
		uvfs_p9_unlinkat(fs->c, wfid, tmp, 0);
	return err;
}
