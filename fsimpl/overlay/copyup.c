/* fsimpl/overlay/copyup.c — copy-up: making an upper copy of a lower
 * object (data, mode, owner, timestamps, xattrs), parents first.
 *
 * A non-directory is built under a temporary name in the work directory
 * and hard-linked into place only when complete (then its work name goes),
 * so a copy-up that fails leaves the lower object visible and nothing in
 * the upper directory. Not a rename, as Linux does: a rename on a layer
 * takes the instance's rename_rw, which comes before every filesystem lock
 * (vfs/LOCKING.md), and copy-ups run under overlay i_locks outside any
 * rename. A directory is made in place (empty: nothing half-copied to
 * see) and removed if its attributes cannot be set. Regular files are
 * copied sparsely (SEEK_DATA/SEEK_HOLE).
 * Locks: the inode's cu_lock (no other cu_lock held: parents are copied up
 * before it is taken), then layer locks inside the uvfs calls. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fsimpl/gofer/copyup.h"
#include "fsimpl/overlay/internal.h"

#define COPY_CHUNK (128 * 1024)

static int copy_data(struct uvfs_file *dst, struct uvfs_file *src, uint64_t size)
{
	char *buf = malloc(COPY_CHUNK);
	if (!buf)
		return -ENOMEM;
	int err = 0;
	int64_t off = 0;
	while ((uint64_t)off < size) {
		int64_t data = uvfs_seek(src, off, SEEK_DATA);
		if (data == -ENXIO)
			break;
		if (data < 0) {
			err = (int)data;
			break;
		}
		int64_t hole = uvfs_seek(src, data, SEEK_HOLE);
		if (hole < 0) {
			err = (int)hole;
			break;
		}
		for (off = data; off < hole && !err;) {
			size_t want = (size_t)(hole - off) < COPY_CHUNK ? (size_t)(hole - off) : COPY_CHUNK;
			ssize_t n = uvfs_pread(src, buf, want, off);
			if (n <= 0) {
				err = n < 0 ? (int)n : 0;
				hole = off; /* shrank under us: stop here */
				break;
			}
			for (ssize_t w = 0; w < n && !err;) {
				ssize_t m = uvfs_pwrite(dst, buf + w, (size_t)(n - w), off + w);
				if (m <= 0)
					err = m < 0 ? (int)m : -EIO;
				else
					w += m;
			}
			off += n;
		}
		if (err)
			break;
		off = hole;
	}
	free(buf);
	return err ? err : uvfs_file_truncate(dst, size);
}

static int copy_xattrs(struct ovl_fs *ofs, const struct uvfs_pathop *src, const struct uvfs_pathop *dst)
{
	struct uvfs *vfs = ofs->vfs.vfs;
	ssize_t len = uvfs_listxattr_at(vfs, &ofs->cred, src, NULL, 0);
	if (len == -EOPNOTSUPP || len == 0)
		return 0;
	if (len < 0)
		return (int)len;
	char *names = malloc((size_t)len), *val = malloc(65536);
	int err = 0;
	if (!names || !val) {
		err = -ENOMEM;
		goto out;
	}
	if ((len = uvfs_listxattr_at(vfs, &ofs->cred, src, names, (size_t)len)) < 0) {
		err = (int)len;
		goto out;
	}
	for (char *n = names; n < names + len && !err; n += strlen(n) + 1) {
		if (!strncmp(n, OVL_XATTR_PREFIX, strlen(OVL_XATTR_PREFIX)))
			continue;
		ssize_t vl = uvfs_getxattr_at(vfs, &ofs->cred, src, n, val, 65536);
		if (vl == -ENODATA)
			continue;
		if (vl < 0)
			err = (int)vl;
		else
			err = uvfs_setxattr_at(vfs, &ofs->cred, dst, n, val, (size_t)vl, 0);
	}
out:
	free(names);
	free(val);
	return err;
}

/* Copies xattrs, owner, mode and times of lp (attributes st) onto wp. */
static int copy_attrs(struct ovl_fs *ofs, const struct statx *st, const struct uvfs_pathop *lp,
		      const struct uvfs_pathop *wp)
{
	struct uvfs *vfs = ofs->vfs.vfs;
	int err = copy_xattrs(ofs, lp, wp);
	if (!err) {
		struct uvfs_setattr sa = { .mask = STATX_UID | STATX_GID, .uid = st->stx_uid, .gid = st->stx_gid };
		err = uvfs_setstat_at(vfs, &ofs->cred, wp, &sa, 0);
	}
	if (!err && !S_ISLNK(st->stx_mode)) {
		/* After chown, which may clear setuid/setgid. */
		struct uvfs_setattr sa = {
			.mask = STATX_MODE | STATX_ATIME | STATX_MTIME,
			.mode = st->stx_mode & 07777,
			.atime = { st->stx_atime.tv_sec, st->stx_atime.tv_nsec },
			.mtime = { st->stx_mtime.tv_sec, st->stx_mtime.tv_nsec },
		};
		err = uvfs_setstat_at(vfs, &ofs->cred, wp, &sa, 0);
	}
	return err;
}

/* Builds the copy of lower object r (attributes st) at wp; *made gets
 * its dentry (reference). */
static int make_copy(struct ovl_fs *ofs, struct ovl_real r, const struct statx *st, struct uvfs_pathop wp,
		     struct uvfs_dentry **made)
{
	struct uvfs *vfs = ofs->vfs.vfs;
	struct uvfs_pathop lp = ovl_pop(ofs, r, NULL);
	struct uvfs_vd vd = { 0 };
	struct uvfs_create_opts co = { .vd = &vd };
	mode_t type = st->stx_mode & S_IFMT;
	int err;
	switch (type) {
	case S_IFREG: {
		struct uvfs_file *dst, *src;
		if ((err = uvfs_open_at(vfs, &ofs->cred, &wp, O_WRONLY | O_CREAT | O_EXCL, 0600, 0, &dst)))
			return err;
		uvfs_file_vd(dst, &vd);
		if (!(err = uvfs_open_at(vfs, &ofs->cred, &lp, O_RDONLY, 0, 0, &src))) {
			err = copy_data(dst, src, st->stx_size);
			uvfs_file_put(src);
		}
		uvfs_file_put(dst);
		break;
	}
	case S_IFDIR:
		err = uvfs_mkdir_at2(vfs, &ofs->cred, &wp, 0700, &co);
		break;
	case S_IFLNK: {
		char buf[4096];
		ssize_t n = uvfs_readlink_at(vfs, &ofs->cred, &lp, buf, sizeof(buf) - 1);
		if (n < 0)
			return (int)n;
		buf[n] = 0;
		err = uvfs_symlink_at2(vfs, &ofs->cred, buf, &wp, &co);
		break;
	}
	default:
		err = uvfs_mknod_at2(vfs, &ofs->cred, &wp, type | 0600,
				     makedev(st->stx_rdev_major, st->stx_rdev_minor), &co);
		break;
	}
	if (!err)
		err = copy_attrs(ofs, st, &lp, &wp);
	if (err) {
		if (vd.mount)
			uvfs_vd_put(&vd);
		return err;
	}
	*made = vd.dentry;
	uvfs_mount_put(vd.mount);
	return 0;
}

/* The lower's xattrs other than trusted.overlay.* (for a layer's own
 * copy-up): *xs (each value malloc'd after the names) and *n; 0 or -errno. */
static int read_xattrs(struct ovl_fs *ofs, const struct uvfs_pathop *src, struct gofer_copyup_xattr **xs,
		       unsigned *n, char **names)
{
	struct uvfs *vfs = ofs->vfs.vfs;
	*xs = NULL;
	*n = 0;
	*names = NULL;
	ssize_t len = uvfs_listxattr_at(vfs, &ofs->cred, src, NULL, 0);
	if (len == -EOPNOTSUPP || len == 0)
		return 0;
	if (len < 0)
		return (int)len;
	if (!(*names = malloc((size_t)len)))
		return -ENOMEM;
	if ((len = uvfs_listxattr_at(vfs, &ofs->cred, src, *names, (size_t)len)) < 0)
		return (int)len;
	unsigned cap = 0;
	for (char *p = *names; p < *names + len; p += strlen(p) + 1)
		cap++;
	if (!cap || !(*xs = calloc(cap, sizeof(**xs))))
		return cap ? -ENOMEM : 0;
	for (char *p = *names; p < *names + len; p += strlen(p) + 1) {
		if (!strncmp(p, OVL_XATTR_PREFIX, strlen(OVL_XATTR_PREFIX)))
			continue;
		ssize_t vl = uvfs_getxattr_at(vfs, &ofs->cred, src, p, NULL, 0);
		void *v = vl > 0 ? malloc((size_t)vl) : NULL;
		if (vl > 0 && !v)
			return -ENOMEM;
		if (vl > 0)
			vl = uvfs_getxattr_at(vfs, &ofs->cred, src, p, v, (size_t)vl);
		if (vl == -ENODATA) {
			free(v);
			continue;
		}
		if (vl < 0) {
			free(v);
			return (int)vl;
		}
		(*xs)[(*n)++] = (struct gofer_copyup_xattr){ p, v, (size_t)vl };
	}
	return 0;
}

static void free_xattrs(struct gofer_copyup_xattr *xs, unsigned n, char *names)
{
	for (unsigned i = 0; i < n; i++)
		free((void *)xs[i].val);
	free(xs);
	free(names);
}

/* A regular file copied by the upper layer's own means when it has them
 * (a 9p upper: gofer_copyup_reg, six round trips instead of ~30): work
 * file, data, xattrs, attributes, moved to up, the parent's times put
 * back from pst. -EOPNOTSUPP: take the generic way. */
static int layer_copy(struct ovl_fs *ofs, struct ovl_real lower, const struct statx *st, const char *tmp,
		      const struct uvfs_pathop *up, const struct statx *pst, struct uvfs_dentry **made)
{
	struct uvfs *vfs = ofs->vfs.vfs;
	if (!S_ISREG(st->stx_mode))
		return -EOPNOTSUPP;
	struct uvfs_pathop lp = ovl_pop(ofs, lower, NULL);
	struct gofer_copyup cu = { .st = st, .times = true };
	struct gofer_copyup_xattr *xs;
	char *names;
	int err = read_xattrs(ofs, &lp, &xs, &cu.nxattrs, &names);
	cu.xattrs = xs;
	if (!err && pst) {
		cu.restore_ptimes = true;
		cu.patime = (struct timespec){ pst->stx_atime.tv_sec, pst->stx_atime.tv_nsec };
		cu.pmtime = (struct timespec){ pst->stx_mtime.tv_sec, pst->stx_mtime.tv_nsec };
	}
	if (!err)
		err = uvfs_open_at(vfs, &ofs->cred, &lp, O_RDONLY, 0, 0, &cu.src);
	if (!err) {
		struct uvfs_vd vd = { 0 };
		err = gofer_copyup_reg(vfs, &ofs->cred, ofs->work, tmp, up, &cu, &vd);
		uvfs_file_put(cu.src);
		if (!err) {
			*made = vd.dentry;
			uvfs_mount_put(vd.mount);
		}
	}
	free_xattrs(xs, cu.nxattrs, names);
	return err;
}

int ovl_copy_up(struct ovl_fs *ofs, struct uvfs_dentry *d)
{
	struct ovl_inode *oi = OI(uvfs_dentry_inode(d));
	if (ovl_upper(oi))
		return 0;
	if (!uvfs_vd_ok(&ofs->layers[0]))
		return -EROFS;
	for (;;) {
		struct uvfs_dentry *parent = uvfs_dentry_parent(d);
		if (parent == d)
			return -EROFS; /* the root always has an upper when there is one */
		int err = ovl_copy_up(ofs, parent);
		if (err)
			return err;
		uvfs_lock_acquire(&oi->cu_lock);
		if (ovl_upper(oi)) {
			uvfs_lock_release(&oi->cu_lock);
			return 0;
		}
		/* d's parent and name are stable now: renaming d needs its
		 * copy-up, which waits for cu_lock. */
		if (uvfs_dentry_parent(d) == parent)
			break;
		uvfs_lock_release(&oi->cu_lock);
	}
	struct ovl_inode *pi = OI(uvfs_dentry_inode(uvfs_dentry_parent(d)));
	size_t nlen;
	const char *nm = uvfs_dentry_name(d, &nlen);
	char name[256], tmp[64];
	snprintf(name, sizeof(name), "%.*s", (int)nlen, nm);
	ovl_tmpname(ofs, tmp, sizeof(tmp));

	struct uvfs *vfs = ofs->vfs.vfs;
	struct statx st;
	struct uvfs_pathop lp = ovl_pop(ofs, oi->lower, NULL);
	int err = uvfs_stat_at(vfs, &ofs->cred, &lp, STATX_BASIC_STATS, &st);
	struct uvfs_dentry *made = NULL;
	/* Not a change of the parent in the merged view: its times are put
	 * back afterwards (Linux ovl_set_timestamps). */
	struct ovl_real pu = { ovl_upper(pi), 0 };
	struct uvfs_pathop pp = ovl_pop(ofs, pu, NULL), up = ovl_pop(ofs, pu, name);
	struct statx pst;
	bool have_pst = uvfs_stat_at(vfs, &ofs->cred, &pp, STATX_ATIME | STATX_MTIME, &pst) == 0;
	if (!err && S_ISDIR(st.stx_mode)) {
		if ((err = make_copy(ofs, oi->lower, &st, up, &made)) && err != -EEXIST)
			uvfs_rmdir_at(vfs, &ofs->cred, &up);
	} else if (!err && (err = layer_copy(ofs, oi->lower, &st, tmp, &up, have_pst ? &pst : NULL, &made)) == 0) {
		have_pst = false; /* put back by the layer */
	} else if (err == -EOPNOTSUPP) {
		struct uvfs_pathop wp = ovl_work_pop(ofs, tmp);
		struct uvfs_dentry *wd;
		if (!(err = make_copy(ofs, oi->lower, &st, wp, &wd))) {
			struct uvfs_vd vd = { 0 };
			struct uvfs_create_opts co = { .vd = &vd };
			uvfs_dentry_put(wd);
			if (!(err = uvfs_link_at2(vfs, &ofs->cred, &wp, &up, &co))) {
				made = vd.dentry;
				uvfs_mount_put(vd.mount);
			}
		}
		ovl_work_cleanup(ofs, tmp);
	}
	if (have_pst) {
		struct uvfs_setattr sa = {
			.mask = STATX_ATIME | STATX_MTIME,
			.atime = { pst.stx_atime.tv_sec, pst.stx_atime.tv_nsec },
			.mtime = { pst.stx_mtime.tv_sec, pst.stx_mtime.tv_nsec },
		};
		uvfs_setstat_at(vfs, &ofs->cred, &pp, &sa, 0); /* best effort, as Linux */
	}
	if (!err && !S_ISDIR(st.stx_mode) && st.stx_nlink > 1) {
		/* Lower hard links, index=off as the kernel default: the link
		 * breaks, and the copy takes the upper's own number so that it
		 * never shares (dev, ino) with the lower names it left. */
		atomic_store_explicit(&oi->own_ino, uvfs_dentry_inode(made)->i_ino, memory_order_relaxed);
		atomic_store_explicit(&oi->upper, made, memory_order_release);
	} else if (!err) {
		ovl_ino_remember(ofs, uvfs_dentry_inode(made)->i_ino, oi->vfs.i_ino);
		atomic_store_explicit(&oi->upper, made, memory_order_release);
	}
	uvfs_lock_release(&oi->cu_lock);
	/* No VFS op on this inode reported it: a merged directory's nlink, a
	 * broken hard link's st_ino change with the copy-up. */
	if (!err)
		uvfs_notify_inode(&oi->vfs, UVFS_WATCH_ATTR, 0, 0);
	return err;
}

int ovl_layer_create_reg(struct ovl_fs *ofs, const struct uvfs_pathop *up, mode_t mode, uint32_t uid, uint32_t gid,
			 struct uvfs_vd *vd)
{
	struct statx st = { .stx_mode = S_IFREG | (mode & 07777), .stx_uid = uid, .stx_gid = gid };
	struct gofer_copyup cu = { .st = &st };
	char tmp[64];
	ovl_tmpname(ofs, tmp, sizeof(tmp));
	return gofer_copyup_reg(ofs->vfs.vfs, &ofs->cred, ofs->work, tmp, up, &cu, vd);
}

int ovl_copy_up_file_root(struct ovl_fs *ofs)
{
	struct uvfs *vfs = ofs->vfs.vfs;
	struct ovl_real lower = { ofs->layers[1].dentry, 1 }, upper = { ofs->layers[0].dentry, 0 };
	struct uvfs_pathop lp = ovl_pop(ofs, lower, NULL), up = ovl_pop(ofs, upper, NULL);
	struct statx st;
	struct uvfs_file *dst, *src;
	int err = uvfs_stat_at(vfs, &ofs->cred, &lp, STATX_BASIC_STATS, &st);
	if (err)
		return err;
	if ((err = uvfs_open_at(vfs, &ofs->cred, &up, O_WRONLY | O_TRUNC, 0, 0, &dst)))
		return err;
	if (!(err = uvfs_open_at(vfs, &ofs->cred, &lp, O_RDONLY, 0, 0, &src))) {
		err = copy_data(dst, src, st.stx_size);
		uvfs_file_put(src);
	}
	if (!err)
		err = copy_attrs(ofs, &st, &lp, &up);
	if (err)
		uvfs_file_truncate(dst, 0); /* no half copy left behind */
	uvfs_file_put(dst);
	return err;
}
