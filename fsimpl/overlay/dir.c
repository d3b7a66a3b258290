/* fsimpl/overlay/dir.c — directory operations: lookup through the layers,
 * creation (in the upper layer, over a whiteout when there is one),
 * removal (leaving whiteouts), rename within the upper layer.
 *
 * The VFS holds the overlay locks listed in vfs/LOCKING.md; every layer
 * change below is a uvfs_*_at call on the upper layer with the mounter's
 * credentials. New objects are made in the work directory and renamed into
 * place, so the merged view never shows a half-made object. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/sysmacros.h>

#include "fsimpl/overlay/internal.h"

static void dname(struct uvfs_dentry *d, char *buf, size_t len)
{
	size_t n;
	const char *s = uvfs_dentry_name(d, &n);
	snprintf(buf, len, "%.*s", (int)n, s);
}

/* ------------------------------------------------------------- lookup */

static int ovl_lookup(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct ovl_fs *ofs = ofs_of(dir);
	struct ovl_inode *di = OI(dir);
	char name[256];
	dname(d, name, sizeof(name));
	struct uvfs_dentry *udir = ovl_upper(di);
	struct ovl_real upper = { 0 }, top = { 0 };
	struct ovl_real *ld = NULL;
	unsigned n = 0;
	bool stop = false;
	int err = 0;
	if (udir) {
		err = ovl_layer_lookup(ofs, (struct ovl_real){ udir, 0 }, name, &upper);
		if (err == -ENOENT)
			err = 0;
		else if (err)
			return err;
		if (upper.d) {
			if (ovl_is_whiteout_dentry(upper.d)) {
				ovl_real_put(&upper);
				return 0;
			}
			stop = !S_ISDIR(uvfs_dentry_inode(upper.d)->i_mode) || ovl_is_opaque(ofs, upper);
		}
	}
	bool is_dir = upper.d && S_ISDIR(uvfs_dentry_inode(upper.d)->i_mode);
	for (unsigned i = 0; i < di->nlowerdirs && !stop; i++) {
		struct ovl_real c;
		err = ovl_layer_lookup(ofs, di->lowerdirs[i], name, &c);
		if (err == -ENOENT) {
			err = 0;
			continue;
		}
		if (err)
			break;
		if (ovl_is_whiteout_dentry(c.d)) {
			ovl_real_put(&c);
			break;
		}
		bool cdir = S_ISDIR(uvfs_dentry_inode(c.d)->i_mode);
		if (!upper.d && !top.d) {
			is_dir = cdir;
			if (!cdir) {
				top = c;
				break;
			}
		} else if (!cdir || !is_dir) {
			/* A non-directory below a directory ends the merge. */
			ovl_real_put(&c);
			break;
		}
		if (!ld && !(ld = calloc(di->nlowerdirs, sizeof(*ld)))) {
			ovl_real_put(&c);
			err = -ENOMEM;
			break;
		}
		ld[n++] = c;
		if (!top.d)
			top = c;
		stop = ovl_is_opaque(ofs, c);
	}
	if (!err && (upper.d || top.d)) {
		struct ovl_inode *oi;
		err = ovl_new_inode(ofs, upper.d, top, ld, n, &oi);
		if (!err) {
			oi->alias = d;
			uvfs_d_instantiate(d, &oi->vfs);
			return 0;
		}
	}
	/* Failure or nothing found: drop what we hold (top is in ld for dirs). */
	ovl_real_put(&upper);
	for (unsigned i = 0; i < n; i++)
		ovl_real_put(&ld[i]);
	if (top.d && !n)
		ovl_real_put(&top);
	free(ld);
	return err;
}

/* ----------------------------------------------------------- creation */

/* Puts a new object, built at work/tmp by make(), in place as name in
 * directory dir (already copied up) and instantiates d with it. */
struct newobj {
	mode_t mode; /* type and permissions */
	dev_t rdev;
	const char *target; /* symlink */
	struct uvfs_dentry *link_src; /* link: the upper object to link */
};

/* Owner and exact mode of a new object (chown may drop setgid: mode after). */
static int set_owner_mode(struct ovl_fs *ofs, const struct uvfs_pathop *p, const struct uvfs_inode *owner, mode_t mode,
			  mode_t type)
{
	struct uvfs_setattr sa = { .mask = STATX_UID | STATX_GID, .uid = owner->i_uid, .gid = owner->i_gid };
	int err = uvfs_setstat_at(ofs->vfs.vfs, &ofs->cred, p, &sa, 0);
	if (!err && type != S_IFLNK) {
		struct uvfs_setattr sm = { .mask = STATX_MODE, .mode = mode & 07777 };
		err = uvfs_setstat_at(ofs->vfs.vfs, &ofs->cred, p, &sm, 0);
	}
	return err;
}

static int ovl_create_obj(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred,
			  struct newobj *no, struct uvfs_inode *linked)
{
	struct ovl_fs *ofs = ofs_of(dir);
	struct uvfs *vfs = ofs->vfs.vfs;
	int err = ovl_copy_up(ofs, uvfs_dentry_parent(d));
	if (err)
		return err;
	struct ovl_real udir = { ovl_upper(OI(dir)), 0 };
	char name[256], tmp[64];
	dname(d, name, sizeof(name));
	/* What the upper layer has at name: nothing or a whiteout (anything
	 * else would have made d positive). */
	struct ovl_real cur;
	bool over_whiteout = false;
	if (ovl_layer_lookup(ofs, udir, name, &cur) == 0) {
		over_whiteout = ovl_is_whiteout_dentry(cur.d);
		ovl_real_put(&cur);
		if (!over_whiteout)
			return -EEXIST;
	}
	mode_t type = no->mode & S_IFMT;
	/* The owner the caller would get (fsuid, fsgid or a setgid
	 * directory's group) and, for directories, setgid inheritance. */
	struct uvfs_inode owner = { 0 };
	mode_t mode = no->mode;
	if (!no->link_src)
		uvfs_inode_init_owner(&owner, dir, cred, &mode);
	struct uvfs_pathop up = ovl_pop(ofs, udir, name);
	struct uvfs_vd vd = { 0 };
	struct uvfs_create_opts co = { .vd = &vd };
	if (type == S_IFDIR || no->link_src) {
		/* Made in place: an empty directory or a link to a complete
		 * file shows nothing half-made. The whiteout goes first and
		 * comes back if the creation fails (gVisor does the same). */
		if (over_whiteout && (err = uvfs_unlink_at(vfs, &ofs->cred, &up)))
			return err;
		if (no->link_src) {
			struct uvfs_pathop sp = ovl_pop(ofs, (struct ovl_real){ no->link_src, 0 }, NULL);
			err = uvfs_link_at2(vfs, &ofs->cred, &sp, &up, &co);
		} else {
			err = uvfs_mkdir_at2(vfs, &ofs->cred, &up, 0700, &co);
			if (!err)
				err = set_owner_mode(ofs, &up, &owner, mode, type);
			/* A directory over a whiteout hides what the lowers had there. */
			if (!err && over_whiteout)
				err = uvfs_setxattr_at(vfs, &ofs->cred, &up, OVL_XATTR_OPAQUE, "y", 1, 0);
			if (err && vd.mount) {
				uvfs_vd_put(&vd);
				uvfs_rmdir_at(vfs, &ofs->cred, &up);
			}
		}
		if (err) {
			if (over_whiteout)
				uvfs_whiteout_at(vfs, &ofs->cred, &up);
			return err;
		}
	} else if (type == S_IFREG && !over_whiteout &&
		   (err = ovl_layer_create_reg(ofs, &up, mode, owner.i_uid, owner.i_gid, &vd)) != -EOPNOTSUPP) {
		if (err)
			return err; /* a 9p upper: 4 round trips, not ~20 (copyup.c) */
	} else {
		/* Built complete in work, then linked into place: not renamed,
		 * see copyup.c (a layer rename here would invert rename_rw). */
		ovl_tmpname(ofs, tmp, sizeof(tmp));
		struct uvfs_pathop wp = ovl_work_pop(ofs, tmp);
		struct uvfs_vd wvd = { 0 };
		struct uvfs_create_opts wco = { .vd = &wvd };
		if (type == S_IFLNK)
			err = uvfs_symlink_at2(vfs, &ofs->cred, no->target, &wp, &wco);
		else
			err = uvfs_mknod_at2(vfs, &ofs->cred, &wp, mode, no->rdev, &wco);
		if (err)
			return err;
		uvfs_vd_put(&wvd);
		err = set_owner_mode(ofs, &wp, &owner, mode, type);
		if (!err && over_whiteout)
			err = uvfs_unlink_at(vfs, &ofs->cred, &up);
		if (!err && (err = uvfs_link_at2(vfs, &ofs->cred, &wp, &up, &co)) && over_whiteout)
			uvfs_whiteout_at(vfs, &ofs->cred, &up);
		ovl_work_cleanup(ofs, tmp);
		if (err)
			return err;
	}
	struct uvfs_dentry *made = vd.dentry;
	uvfs_mount_put(vd.mount);
	if (linked) {
		uvfs_dentry_put(made);
		uvfs_inode_get(linked);
		ovl_copy_attr(OI(linked)); /* nlink; the VFS holds its i_lock */
		uvfs_d_instantiate(d, linked);
		return 0;
	}
	struct ovl_inode *oi;
	if ((err = ovl_new_inode(ofs, made, (struct ovl_real){ 0 }, NULL, 0, &oi))) {
		/* The object exists in the upper layer; a later lookup finds it. */
		uvfs_dentry_put(made);
		return err;
	}
	uvfs_d_instantiate(d, &oi->vfs);
	return 0;
}

static int ovl_create(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
		      dev_t rdev)
{
	struct newobj no = { .mode = mode, .rdev = rdev };
	return ovl_create_obj(dir, d, cred, &no, NULL);
}

static int ovl_mkdir(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
		     unsigned flags)
{
	(void)flags;
	struct newobj no = { .mode = S_IFDIR | (mode & 07777) };
	return ovl_create_obj(dir, d, cred, &no, NULL);
}

static int ovl_symlink(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred,
		       const char *target)
{
	struct newobj no = { .mode = S_IFLNK | 0777, .target = target };
	return ovl_create_obj(dir, d, cred, &no, NULL);
}

static int ovl_link(struct uvfs_dentry *old, struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct ovl_fs *ofs = ofs_of(dir);
	int err = ovl_copy_up(ofs, old);
	if (err)
		return err;
	struct uvfs_inode *src = uvfs_dentry_inode(old);
	struct newobj no = { .mode = src->i_mode, .link_src = ovl_upper(OI(src)) };
	return ovl_create_obj(dir, d, &ofs->cred, &no, src);
}

/* ------------------------------------------------------------ removal */

/* Removes name from dir's upper directory, leaving a whiteout when a lower
 * layer has the name. */
static int remove_name(struct ovl_fs *ofs, struct ovl_inode *dir, const char *name, bool is_dir)
{
	struct uvfs *vfs = ofs->vfs.vfs;
	struct ovl_real udir = { ovl_upper(dir), 0 };
	bool whiteout = ovl_lower_positive(ofs, dir, name);
	struct ovl_real cur;
	bool has_upper = ovl_layer_lookup(ofs, udir, name, &cur) == 0;
	struct uvfs_pathop up = ovl_pop(ofs, udir, name);
	if (has_upper) {
		bool wh = ovl_is_whiteout_dentry(cur.d);
		ovl_real_put(&cur);
		if (wh)
			return -ENOENT;
	}
	if (!has_upper && !whiteout)
		return -ENOENT;
	int err = 0;
	if (has_upper && is_dir) {
		/* Empty in the merged view: only whiteouts may be left in it. */
		struct ovl_real c;
		if (!(err = ovl_layer_lookup(ofs, udir, name, &c))) {
			err = ovl_purge_whiteouts(ofs, c);
			ovl_real_put(&c);
		}
		if (!err)
			err = uvfs_rmdir_at(vfs, &ofs->cred, &up);
	} else if (has_upper) {
		err = uvfs_unlink_at(vfs, &ofs->cred, &up);
	}
	/* Two steps, not a rename with RENAME_WHITEOUT (see copyup.c); the
	 * overlay directory's i_lock keeps the merged view from seeing the
	 * gap. */
	if (!err && whiteout)
		err = uvfs_whiteout_at(vfs, &ofs->cred, &up);
	return err;
}

static void drop_nlink(struct uvfs_inode *i, bool dir)
{
	uvfs_inode_attr_begin(i);
	__atomic_store_n(&i->i_nlink, dir || i->i_nlink == 0 ? 0 : i->i_nlink - 1, __ATOMIC_RELAXED);
	i->i_ctime = uvfs_now();
	uvfs_inode_attr_end(i);
}

static int ovl_unlink(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct ovl_fs *ofs = ofs_of(dir);
	int err = ovl_copy_up(ofs, uvfs_dentry_parent(d));
	if (err)
		return err;
	char name[256];
	dname(d, name, sizeof(name));
	if ((err = remove_name(ofs, OI(dir), name, false)))
		return err;
	struct ovl_inode *oi = OI(uvfs_dentry_inode(d));
	if (ovl_upper(oi))
		ovl_copy_attr(oi); /* the victim's i_lock is held */
	else
		drop_nlink(&oi->vfs, false);
	return 0;
}

static int ovl_rmdir(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct ovl_fs *ofs = ofs_of(dir);
	struct ovl_inode *oi = OI(uvfs_dentry_inode(d));
	struct ovl_dirlist l;
	int err = ovl_dir_read_merged(ofs, oi, &l);
	if (err)
		return err;
	size_t n = l.n;
	ovl_dirlist_free(&l);
	if (n)
		return -ENOTEMPTY;
	if ((err = ovl_copy_up(ofs, uvfs_dentry_parent(d))))
		return err;
	char name[256];
	dname(d, name, sizeof(name));
	if ((err = remove_name(ofs, OI(dir), name, true)))
		return err;
	drop_nlink(&oi->vfs, true);
	return 0;
}

/* ------------------------------------------------------------- rename */

/* Sets the opaque mark on directory oi's upper copy unless it has one. */
static int set_opaque(struct ovl_fs *ofs, struct ovl_inode *oi)
{
	struct ovl_real u = { ovl_upper(oi), 0 };
	if (ovl_is_opaque(ofs, u))
		return 0;
	struct uvfs_pathop sp = ovl_pop(ofs, u, NULL);
	return uvfs_setxattr_at(ofs->vfs.vfs, &ofs->cred, &sp, OVL_XATTR_OPAQUE, "y", 1, 0);
}

/* RENAME_EXCHANGE: both names stay positive, so no whiteout; both objects
 * are copied up and swapped in the upper layer. A directory landing in a
 * merged parent is marked opaque (Linux ovl_rename). */
static int ovl_exchange(struct ovl_fs *ofs, struct uvfs_inode *odir, struct uvfs_dentry *od, struct uvfs_inode *ndir,
			struct uvfs_dentry *nd)
{
	struct ovl_inode *oi = OI(uvfs_dentry_inode(od)), *ni = OI(uvfs_dentry_inode(nd));
	bool odirp = S_ISDIR(oi->vfs.i_mode), ndirp = S_ISDIR(ni->vfs.i_mode);
	if (ndirp && ni->nlowerdirs)
		return -EXDEV;
	if (od == nd)
		return 0;
	int err = ovl_copy_up(ofs, od);
	if (!err)
		err = ovl_copy_up(ofs, nd);
	if (!err && odirp && ovl_is_merge(OI(ndir)))
		err = set_opaque(ofs, oi);
	if (!err && ndirp && ovl_is_merge(OI(odir)))
		err = set_opaque(ofs, ni);
	if (err)
		return err;
	char oname[256], nname[256];
	dname(od, oname, sizeof(oname));
	dname(nd, nname, sizeof(nname));
	struct uvfs_pathop op = ovl_pop(ofs, (struct ovl_real){ ovl_upper(OI(odir)), 0 }, oname);
	struct uvfs_pathop np = ovl_pop(ofs, (struct ovl_real){ ovl_upper(OI(ndir)), 0 }, nname);
	return uvfs_rename_at(ofs->vfs.vfs, &ofs->cred, &op, &np, RENAME_EXCHANGE);
}

static int ovl_rename(struct uvfs_inode *odir, struct uvfs_dentry *od, struct uvfs_inode *ndir,
		      struct uvfs_dentry *nd, unsigned flags, const struct uvfs_cred *cred,
		      struct uvfs_dentry *whiteout)
{
	(void)cred, (void)whiteout;
	struct ovl_fs *ofs = ofs_of(odir);
	struct uvfs *vfs = ofs->vfs.vfs;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL; /* RENAME_WHITEOUT: as Linux */
	struct ovl_inode *oi = OI(uvfs_dentry_inode(od));
	struct uvfs_inode *ninode = uvfs_dentry_inode(nd);
	struct ovl_inode *ni = ninode ? OI(ninode) : NULL;
	bool is_dir = S_ISDIR(oi->vfs.i_mode);
	if (!uvfs_vd_ok(&ofs->layers[0]))
		return -EROFS;
	/* Without redirect_dir a directory with lower entries cannot move. */
	if (is_dir && oi->nlowerdirs)
		return -EXDEV;
	if (flags & RENAME_EXCHANGE)
		return ovl_exchange(ofs, odir, od, ndir, nd);
	/* A replaced directory with lower entries is checked in the merged
	 * view here; a pure upper one by the upper rename itself, after the
	 * source was marked opaque below — Linux's order, which leaves that
	 * mark even when the rename fails (same upper layer as the kernel). */
	if (ni && S_ISDIR(ni->vfs.i_mode) && ni->nlowerdirs) {
		struct ovl_dirlist l;
		int err = ovl_dir_read_merged(ofs, ni, &l);
		if (err)
			return err;
		size_t n = l.n;
		ovl_dirlist_free(&l);
		if (n)
			return -ENOTEMPTY;
	}
	if (od == nd)
		return 0;
	int err = ovl_copy_up(ofs, od);
	if (!err)
		err = ovl_copy_up(ofs, uvfs_dentry_parent(nd));
	if (err)
		return err;
	char oname[256], nname[256];
	dname(od, oname, sizeof(oname));
	dname(nd, nname, sizeof(nname));
	struct ovl_real uodir = { ovl_upper(OI(odir)), 0 }, undir = { ovl_upper(OI(ndir)), 0 };
	bool old_lower = ovl_lower_positive(ofs, OI(odir), oname);
	bool new_lower = ovl_lower_positive(ofs, OI(ndir), nname);
	struct ovl_real cur;
	bool new_whiteout = false, new_upper = false;
	if (ovl_layer_lookup(ofs, undir, nname, &cur) == 0) {
		new_whiteout = ovl_is_whiteout_dentry(cur.d);
		new_upper = !new_whiteout;
		ovl_real_put(&cur);
	}
	/* A replaced merged directory: its upper holds only whiteouts. */
	if (new_upper && ni && S_ISDIR(ni->vfs.i_mode) &&
	    (err = ovl_purge_whiteouts(ofs, (struct ovl_real){ ovl_upper(ni), 0 })))
		return err;
	struct uvfs_pathop op = ovl_pop(ofs, uodir, oname), np = ovl_pop(ofs, undir, nname);
	/* The moved directory must hide what lowers have at the new name:
	 * as Linux, it is marked opaque whenever the new parent is merged
	 * (a new directory made there is not). */
	if (is_dir && (new_lower || ovl_is_merge(OI(ndir))) && (err = set_opaque(ofs, oi)))
		return err;
	unsigned fl = 0;
	bool drop_whiteout_at_old = false;
	if (new_whiteout && is_dir) {
		/* A directory cannot replace the whiteout: swap them, and the
		 * whiteout lands at the old name, which needs one or not. */
		fl = RENAME_EXCHANGE;
		drop_whiteout_at_old = !old_lower;
	} else if (old_lower) {
		fl = RENAME_WHITEOUT;
	}
	err = uvfs_rename_at(vfs, &ofs->cred, &op, &np, fl);
	if (err == -EINVAL && fl) {
		/* An upper layer without RENAME_WHITEOUT/RENAME_EXCHANGE (9P2000.L
		 * has neither): the same result in steps — the new name's
		 * whiteout goes, the rename, then the old name's whiteout (the
		 * rename is undone if that cannot be made). */
		if (fl == RENAME_EXCHANGE && (err = uvfs_unlink_at(vfs, &ofs->cred, &np)))
			return err;
		if ((err = uvfs_rename_at(vfs, &ofs->cred, &op, &np, 0))) {
			if (fl == RENAME_EXCHANGE)
				uvfs_whiteout_at(vfs, &ofs->cred, &np);
			return err;
		}
		if (old_lower && (err = uvfs_whiteout_at(vfs, &ofs->cred, &op))) {
			uvfs_rename_at(vfs, &ofs->cred, &np, &op, 0);
			if (fl == RENAME_EXCHANGE)
				uvfs_whiteout_at(vfs, &ofs->cred, &np);
			return err;
		}
		drop_whiteout_at_old = false;
	}
	if (err)
		return err;
	if (drop_whiteout_at_old)
		uvfs_unlink_at(vfs, &ofs->cred, &op);
	if (ni) {
		if (S_ISDIR(ni->vfs.i_mode))
			drop_nlink(&ni->vfs, true);
		else if (ovl_upper(ni))
			ovl_copy_attr(ni);
		else
			drop_nlink(&ni->vfs, false);
	}
	return 0;
}

const struct uvfs_inode_ops ovl_dir_iops = {
	OVL_ATTR_IOPS,
	.lookup = ovl_lookup,
	.create = ovl_create,
	.mkdir = ovl_mkdir,
	.symlink = ovl_symlink,
	.link = ovl_link,
	.unlink = ovl_unlink,
	.rmdir = ovl_rmdir,
	.rename = ovl_rename,
};
