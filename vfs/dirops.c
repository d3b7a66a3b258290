/* vfs/dirops.c — namespace-changing operations: mkdir, mknod, symlink,
 * link, unlink, rmdir, rename, and readlink.
 *
 * Each resolves the parent directory (WALK_PARENT), locks it, looks the
 * last name up under the lock and calls the filesystem. Error precedence
 * follows Linux: for creation EEXIST beats EROFS beats EACCES; for removal
 * EROFS comes first, then ENOENT, EACCES, EPERM (sticky), type errors, EBUSY.
 *
 * Lock order: fs->rename_lock (per filesystem) → parent dirs' i_lock
 * (ancestor first, unrelated ones by address) → victims' i_lock (by
 * address) → mount_lock (not taken here; d_mounted is read atomically
 * under the parent lock, and connecting a mount takes the parent lock
 * too). A stacking fs's ops may call these functions on other
 * filesystems (its layers): their locks nest inside the caller's.
 */
#include <linux/capability.h>
#include <stdio.h>

#include "internal.h"

static bool d_dead(const struct uvfs_dentry *d) { return atomic_load(&((struct uvfs_dentry *)d)->d_flags) & DF_DEAD; }

/* Creation preamble: returns with the parent's i_lock held, *dp a
 * referenced negative dentry for the last name, and a write reference on
 * the mount. is_dir: a trailing slash is allowed. */
/* check_perm false: the caller checks the directory's write permission
 * itself, later (link: protected_hardlinks comes first, as in Linux). */
static int create_begin(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop, bool is_dir,
			bool check_perm, struct nameidata *nd, struct uvfs_vd *parent, struct uvfs_dentry **dp)
{
	int err = walk_path(vfs, cred, pop, WALK_PARENT, nd, parent);
	if (err)
		return err;
	if (!nd->last || nd->last_dot) {
		err = -EEXIST;
		goto out_put;
	}
	struct uvfs_inode *dir = parent->dentry->d_inode;
	int werr = mnt_want_write(parent->mount);
	uvfs_lock_acquire(&dir->i_lock);
	struct uvfs_dentry *d = NULL;
	if (d_dead(parent->dentry)) {
		err = -ENOENT;
		goto out_unlock;
	}
	if ((err = lookup_one_locked(vfs, parent->dentry, nd->last, nd->last_len, &d)))
		goto out_unlock;
	if (d->d_inode) {
		err = -EEXIST;
		goto out_unlock;
	}
	if (nd->trailing_slash && !is_dir) {
		err = -ENOENT;
		goto out_unlock;
	}
	if (werr) {
		err = werr;
		goto out_unlock;
	}
	if (check_perm && (err = inode_permission(cred, dir, MAY_WRITE | MAY_EXEC)))
		goto out_unlock;
	*dp = d;
	return 0;
out_unlock:
	uvfs_lock_release(&dir->i_lock);
	if (d)
		uvfs_dentry_put(d);
	if (!werr)
		mnt_drop_write(parent->mount);
out_put:
	uvfs_vd_put(parent);
	walk_end(nd);
	return err;
}

/* ev (0: none) reports the committed change of nd's last name, with every
 * lock dropped and the references still held. */
static void create_end(struct nameidata *nd, struct uvfs_vd *parent, struct uvfs_dentry *d,
		       enum uvfs_watch_event ev, struct uvfs_inode *child)
{
	struct uvfs_inode *dir = parent->dentry->d_inode;
	uvfs_lock_release(&dir->i_lock);
	if (ev)
		watch_entry(nd->vfs, ev, dir, nd->last, nd->last_len, child);
	uvfs_dentry_put(d);
	mnt_drop_write(parent->mount);
	uvfs_vd_put(parent);
	walk_end(nd);
}

/* What a creation call made, held for its *_at2 caller: references taken
 * on d (positive after the fs op) and the mount before the parent lock
 * goes, so the result is the object made, not whatever the name means by
 * the time the caller looks. */
static void result_hold(const struct uvfs_create_opts *opts, const struct uvfs_vd *parent, struct uvfs_dentry *d,
			struct uvfs_vd *res)
{
	*res = (struct uvfs_vd){ 0 };
	if (!opts || (!opts->vd && !opts->stat) || !d->d_inode)
		return;
	uvfs_mount_get(parent->mount);
	uvfs_dentry_get(d);
	res->mount = parent->mount;
	res->dentry = d;
}

/* Fills opts from res (locks dropped) or puts it; returns err or the stat error. */
static int result_give(const struct uvfs_create_opts *opts, struct uvfs_vd *res, int err)
{
	if (!res->dentry)
		return err;
	if (!err && opts->stat)
		err = stat_dentry(res->dentry, STATX_BASIC_STATS | STATX_BTIME, opts->stat);
	if (!err && opts->vd)
		*opts->vd = *res;
	else
		uvfs_vd_put(res);
	return err;
}

/* Clears the caller's out vd and checks flags (allowed: the call's own). */
static int opts_begin(const struct uvfs_create_opts *opts, unsigned allowed)
{
	if (!opts)
		return 0;
	if (opts->vd)
		*opts->vd = (struct uvfs_vd){ 0 };
	return (opts->flags & ~allowed) ? -EINVAL : 0;
}

/* One creation path for every node type: the type in mode picks the
 * filesystem op (mkdir, symlink with target, or create). */
static int do_create(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop, mode_t mode,
		     dev_t rdev, const char *target, const struct uvfs_create_opts *opts)
{
	if (pop && (pop->flags & UVFS_PATH_FOLLOW))
		return -EINVAL;
	struct nameidata nd;
	struct uvfs_vd parent, res;
	struct uvfs_dentry *d = NULL;
	int err = create_begin(vfs, cred, pop, S_ISDIR(mode), true, &nd, &parent, &d);
	if (err)
		return err;
	struct uvfs_inode *dir = parent.dentry->d_inode;
	const struct uvfs_inode_ops *op = dir->i_op;
	if (S_ISDIR(mode))
		err = op->mkdir ? op->mkdir(dir, d, cred, mode, opts ? opts->flags : 0) : -EPERM;
	else if (S_ISLNK(mode))
		err = op->symlink ? op->symlink(dir, d, cred, target) : -EPERM;
	else if (opts && (opts->flags & UVFS_MKNOD_SYNTHETIC) && op->create_synthetic)
		err = op->create_synthetic(dir, d, cred, mode);
	else
		err = op->create ? op->create(dir, d, cred, mode, rdev) : -EPERM;
	result_hold(err ? NULL : opts, &parent, d, &res);
	create_end(&nd, &parent, d, err ? 0 : UVFS_WATCH_CREATE, d->d_inode);
	return result_give(opts, &res, err);
}

UVFS_API int uvfs_mkdir_at2(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			    mode_t mode, const struct uvfs_create_opts *opts)
{
	int err = opts_begin(opts, UVFS_MKDIR_SYNTHETIC);
	if (err)
		return err;
	return do_create(vfs, cred, pop, S_IFDIR | (mode & (0777 | S_ISVTX)), 0, NULL, opts);
}

UVFS_API int uvfs_mkdir_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			   mode_t mode)
{
	return uvfs_mkdir_at2(vfs, cred, pop, mode, NULL);
}

UVFS_API int uvfs_mknod_at2(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			    mode_t mode, dev_t rdev, const struct uvfs_create_opts *opts)
{
	int err = opts_begin(opts, UVFS_MKNOD_SYNTHETIC);
	if (err)
		return err;
	mode_t type = mode & S_IFMT;
	if (opts && (opts->flags & UVFS_MKNOD_SYNTHETIC) && type != S_IFREG && type != 0)
		return -EINVAL; /* synthetic mount points are directories or regular files */
	switch (type) {
	case 0:
		type = S_IFREG;
		break;
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFCHR:
	case S_IFBLK:
		/* A whiteout (char 0:0) needs no privilege: Linux vfs_mknod
		 * since 5.8, so that overlay works in user namespaces. */
		if (!(type == S_IFCHR && rdev == 0) && !uvfs_cred_has_cap(cred, CAP_MKNOD))
			return -EPERM;
		break;
	case S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
	if (type != S_IFCHR && type != S_IFBLK)
		rdev = 0;
	return do_create(vfs, cred, pop, type | (mode & 07777), rdev, NULL, opts);
}

UVFS_API int uvfs_mknod_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			   mode_t mode, dev_t rdev)
{
	return uvfs_mknod_at2(vfs, cred, pop, mode, rdev, NULL);
}

UVFS_API int uvfs_whiteout_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop)
{
	return uvfs_mknod_at2(vfs, cred, pop, S_IFCHR, 0, NULL); /* Linux WHITEOUT_MODE 0, WHITEOUT_DEV 0 */
}

UVFS_API int uvfs_symlink_at2(struct uvfs *vfs, const struct uvfs_cred *cred, const char *target,
			      const struct uvfs_pathop *pop, const struct uvfs_create_opts *opts)
{
	int err = opts_begin(opts, 0);
	if (err)
		return err;
	if (!target || !target[0])
		return -ENOENT;
	if (strnlen(target, 4096) >= 4096)
		return -ENAMETOOLONG;
	return do_create(vfs, cred, pop, S_IFLNK | 0777, 0, target, opts);
}

UVFS_API int uvfs_symlink_at(struct uvfs *vfs, const struct uvfs_cred *cred, const char *target,
			     const struct uvfs_pathop *pop)
{
	return uvfs_symlink_at2(vfs, cred, target, pop, NULL);
}

/* Hard-link protection (gVisor MayLink / Linux protected_hardlinks). */
static int may_link(const struct uvfs_cred *cred, struct uvfs_inode *inode)
{
	if (inode_owner_or_capable(cred, inode))
		return 0;
	uint32_t mode = load_relaxed(inode->i_mode);
	if (!S_ISREG(mode) || (mode & S_ISUID) || ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)))
		return -EPERM;
	if (inode_permission(cred, inode, MAY_READ | MAY_WRITE))
		return -EPERM;
	return 0;
}

UVFS_API int uvfs_link_at2(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *oldpop,
			   const struct uvfs_pathop *newpop, const struct uvfs_create_opts *opts)
{
	int err = opts_begin(opts, 0);
	if (err)
		return err;
	if (newpop && (newpop->flags & UVFS_PATH_FOLLOW))
		return -EINVAL;
	struct uvfs_vd old, res;
	err = uvfs_get_dentry_at(vfs, cred, oldpop, 0, &old);
	if (err)
		return err;
	struct uvfs_inode *inode = old.dentry->d_inode;
	struct nameidata nd;
	struct uvfs_vd parent;
	struct uvfs_dentry *d = NULL;
	err = create_begin(vfs, cred, newpop, false, false, &nd, &parent, &d);
	if (err) {
		uvfs_vd_put(&old);
		return err;
	}
	struct uvfs_inode *dir = parent.dentry->d_inode;
	/* Linux order: the new name's errors, EXDEV, protected_hardlinks
	 * (do_linkat), the directory's permission (vfs_link's may_create),
	 * then EPERM for a directory. */
	if (parent.mount != old.mount)
		err = -EXDEV;
	else if ((err = may_link(cred, inode)))
		;
	else if ((err = inode_permission(cred, dir, MAY_WRITE | MAY_EXEC)))
		;
	else if (S_ISDIR(load_relaxed(inode->i_mode)))
		err = -EPERM;
	else if (!dir->i_op->link)
		err = -EPERM;
	else {
		uvfs_lock_acquire(&inode->i_lock);
		uint32_t iflags = load_relaxed(inode->i_flags);
		if (load_relaxed(inode->i_nlink) == 0 && !(iflags & UVFS_I_LINKABLE))
			err = -ENOENT; /* linking an unlinked file */
		else if (!(err = dir->i_op->link(old.dentry, dir, d)) && (iflags & UVFS_I_LINKABLE))
			store_relaxed(inode->i_flags, iflags & ~UVFS_I_LINKABLE); /* named now (Linux I_LINKABLE) */
		uvfs_lock_release(&inode->i_lock);
	}
	result_hold(err ? NULL : opts, &parent, d, &res);
	create_end(&nd, &parent, d, err ? 0 : UVFS_WATCH_CREATE, inode);
	if (!err)
		watch_inode(vfs, UVFS_WATCH_ATTR, inode, 0, 0); /* its link count */
	uvfs_vd_put(&old);
	return result_give(opts, &res, err);
}

UVFS_API int uvfs_link_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *oldpop,
			  const struct uvfs_pathop *newpop)
{
	return uvfs_link_at2(vfs, cred, oldpop, newpop, NULL);
}

/* Removal preamble: parent locked, *dp the referenced positive victim,
 * write reference on the mount held. */
static int remove_begin(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop, bool rmdir,
			struct nameidata *nd, struct uvfs_vd *parent, struct uvfs_dentry **dp)
{
	if (pop && (pop->flags & UVFS_PATH_FOLLOW))
		return -EINVAL;
	int err = walk_path(vfs, cred, pop, WALK_PARENT, nd, parent);
	if (err)
		return err;
	if (!nd->last) {
		err = rmdir ? -EBUSY : -EISDIR;
		goto out_put;
	}
	if (nd->last_dot) {
		if (!rmdir)
			err = -EISDIR;
		else
			err = nd->last_len == 1 ? -EINVAL : -ENOTEMPTY;
		goto out_put;
	}
	if ((err = mnt_want_write(parent->mount)))
		goto out_put;
	struct uvfs_inode *dir = parent->dentry->d_inode;
	uvfs_lock_acquire(&dir->i_lock);
	struct uvfs_dentry *d = NULL;
	if ((err = lookup_one_locked(vfs, parent->dentry, nd->last, nd->last_len, &d)))
		goto out_unlock;
	struct uvfs_inode *inode = d->d_inode;
	if (!inode) {
		err = -ENOENT;
		goto out_unlock;
	}
	if ((err = inode_permission(cred, dir, MAY_WRITE | MAY_EXEC)))
		goto out_unlock;
	if ((err = may_delete_sticky(cred, dir, inode)))
		goto out_unlock;
	if (rmdir && !S_ISDIR(load_relaxed(inode->i_mode))) {
		err = -ENOTDIR;
		goto out_unlock;
	}
	if (!rmdir && S_ISDIR(load_relaxed(inode->i_mode))) {
		err = -EISDIR;
		goto out_unlock;
	}
	if (!rmdir && nd->trailing_slash) {
		err = -ENOTDIR;
		goto out_unlock;
	}
	if (atomic_load(&d->d_mounted)) {
		err = -EBUSY;
		goto out_unlock;
	}
	*dp = d;
	return 0;
out_unlock:
	uvfs_lock_release(&dir->i_lock);
	if (d)
		uvfs_dentry_put(d);
	mnt_drop_write(parent->mount);
out_put:
	uvfs_vd_put(parent);
	walk_end(nd);
	return err;
}

static int do_remove(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop, bool rmdir)
{
	rcu_enter();
	struct nameidata nd;
	struct uvfs_vd parent;
	struct uvfs_dentry *d = NULL;
	int err = remove_begin(vfs, cred, pop, rmdir, &nd, &parent, &d);
	if (err)
		return err;
	struct uvfs_inode *dir = parent.dentry->d_inode, *inode = d->d_inode;
	/* create_end drops d, maybe the inode's last reference: keep it for
	 * the link-count notice after */
	uvfs_inode_get(inode);
	uvfs_lock_acquire(&inode->i_lock);
	if (rmdir)
		err = dir->i_op->rmdir ? dir->i_op->rmdir(dir, d) : -EPERM;
	else
		err = dir->i_op->unlink ? dir->i_op->unlink(dir, d) : -EPERM;
	if (!err)
		d_delete(vfs, d);
	uvfs_lock_release(&inode->i_lock);
	create_end(&nd, &parent, d, err ? 0 : UVFS_WATCH_REMOVE, inode);
	if (!err && !rmdir)
		watch_inode(vfs, UVFS_WATCH_ATTR, inode, 0, 0); /* its link count */
	uvfs_inode_put(inode);
	return err;
}

UVFS_API int uvfs_unlink_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop)
{
	return do_remove(vfs, cred, pop, false);
}

UVFS_API int uvfs_rmdir_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop)
{
	return do_remove(vfs, cred, pop, true);
}

/* ---------------------------------------------------------------- rename */

static void lock_two(struct uvfs_lock *a, struct uvfs_lock *b)
{
	if (a == b) {
		uvfs_lock_acquire(a);
	} else if (a < b) {
		uvfs_lock_acquire(a);
		uvfs_lock_acquire(b);
	} else {
		uvfs_lock_acquire(b);
		uvfs_lock_acquire(a);
	}
}

static void unlock_two(struct uvfs_lock *a, struct uvfs_lock *b)
{
	uvfs_lock_release(a);
	if (a != b)
		uvfs_lock_release(b);
}

/* Linux lock_rename: both parents' i_lock, ancestor first, unrelated ones
 * by address. The fs's rename_lock held (it keeps the ancestry stable:
 * only renames on this fs move its dentries). */
static void lock_rename(struct uvfs_dentry *opd, struct uvfs_dentry *npd)
{
	struct uvfs_inode *odir = opd->d_inode, *ndir = npd->d_inode;
	if (opd == npd)
		uvfs_lock_acquire(&odir->i_lock);
	else if (d_is_ancestor(opd, npd)) {
		uvfs_lock_acquire(&odir->i_lock);
		uvfs_lock_acquire(&ndir->i_lock);
	} else if (d_is_ancestor(npd, opd)) {
		uvfs_lock_acquire(&ndir->i_lock);
		uvfs_lock_acquire(&odir->i_lock);
	} else
		lock_two(&odir->i_lock, &ndir->i_lock);
}

static void unlock_rename(struct uvfs_dentry *opd, struct uvfs_dentry *npd)
{
	unlock_two(&opd->d_inode->i_lock, &npd->d_inode->i_lock);
}

/* Type, trap, permission and busy checks of renaming positive od (in opd)
 * onto nd (in npd; negative unless replacing or exchanging); both parents
 * locked. Returns 0 to go on, 1 when old and new are the same file
 * (nothing to do), or -errno. */
static int may_rename(const struct uvfs_cred *cred, struct uvfs_dentry *opd, struct uvfs_dentry *od,
		      struct uvfs_dentry *npd, struct uvfs_dentry *nd, bool old_slash, bool new_slash, unsigned flags)
{
	struct uvfs_inode *odir = opd->d_inode, *ndir = npd->d_inode;
	struct uvfs_inode *oi = od->d_inode, *ni = nd->d_inode;
	bool odir_is = S_ISDIR(load_relaxed(oi->i_mode));
	int err;
	if (!odir_is && (old_slash || (new_slash && !(ni && S_ISDIR(load_relaxed(ni->i_mode))))))
		return -ENOTDIR;
	if ((flags & RENAME_EXCHANGE) && !ni)
		return -ENOENT;
	if ((flags & RENAME_NOREPLACE) && ni)
		return -EEXIST;
	/* Linux's "trap" checks, before anything looks at the victim: the
	 * source may not be an ancestor of the target, nor the target an
	 * ancestor of the source (ENOTEMPTY; EINVAL for an exchange). They
	 * also keep the victim locks below distinct from the parents'. */
	if (od != nd && d_is_ancestor(od, npd))
		return -EINVAL;
	if (ni && od != nd && d_is_ancestor(nd, opd))
		return (flags & RENAME_EXCHANGE) ? -EINVAL : -ENOTEMPTY;
	if (od == nd || (ni && oi == ni && !(flags & RENAME_EXCHANGE)))
		return 1;
	if ((err = inode_permission(cred, odir, MAY_WRITE | MAY_EXEC)) ||
	    (err = inode_permission(cred, ndir, MAY_WRITE | MAY_EXEC)))
		return err;
	if ((err = may_delete_sticky(cred, odir, oi)) || (ni && (err = may_delete_sticky(cred, ndir, ni))))
		return err;
	if (ni && !(flags & RENAME_EXCHANGE)) {
		if (odir_is && !S_ISDIR(load_relaxed(ni->i_mode)))
			return -ENOTDIR;
		if (!odir_is && S_ISDIR(load_relaxed(ni->i_mode)))
			return -EISDIR;
	}
	/* Moving a directory to another parent rewrites its "..". */
	if (opd != npd && ((odir_is && (err = inode_permission(cred, oi, MAY_WRITE))) ||
			   ((flags & RENAME_EXCHANGE) && S_ISDIR(load_relaxed(ni->i_mode)) &&
			    (err = inode_permission(cred, ni, MAY_WRITE)))))
		return err;
	if (atomic_load(&od->d_mounted) || (ni && atomic_load(&nd->d_mounted)))
		return -EBUSY;
	if (!odir->i_op->rename)
		return -EPERM;
	return 0;
}

/* The filesystem's rename, then the dcache move under rename_seq; both
 * parents locked, may_rename passed. The victims' i_locks are taken here.
 * RENAME_WHITEOUT: the fs instantiates a fresh dentry for the old name
 * with the whiteout in the same step as the rename (for a moment both it
 * and od are hashed under that name: lookups find either, each a
 * consistent state, as on Linux). */
static int rename_commit(struct uvfs *vfs, const struct uvfs_cred *cred, struct uvfs_dentry *opd,
			 struct uvfs_dentry *od, struct uvfs_dentry *npd, struct uvfs_dentry *nd,
			 const struct nameidata *ond, const struct nameidata *nnd, unsigned flags)
{
	struct uvfs_inode *odir = opd->d_inode, *ndir = npd->d_inode;
	struct uvfs_inode *oi = od->d_inode, *ni = nd->d_inode;
	/* Names for the dcache move, allocated before the fs commits. */
	const struct uvfs_dname *to_new = d_name_alloc(nnd->last, nnd->last_len);
	const struct uvfs_dname *to_old = (flags & RENAME_EXCHANGE) ? d_name_alloc(ond->last, ond->last_len) : NULL;
	struct uvfs_dentry *wd = NULL;
	if (!to_new || ((flags & RENAME_EXCHANGE) && !to_old) ||
	    ((flags & RENAME_WHITEOUT) && d_alloc(opd, ond->last, ond->last_len, &wd))) {
		if (to_new)
			d_name_free(to_new);
		if (to_old)
			d_name_free(to_old);
		return -ENOMEM;
	}
	if (ni)
		lock_two(&oi->i_lock, &ni->i_lock);
	else
		uvfs_lock_acquire(&oi->i_lock);
	int err = odir->i_op->rename(odir, od, ndir, nd, flags, cred, wd);
	if (!err) {
		rename_seq_begin(vfs);
		if (flags & RENAME_EXCHANGE) {
			d_move(vfs, od, npd, to_new);
			d_move(vfs, nd, opd, to_old);
		} else {
			if (ni)
				d_delete(vfs, nd);
			else if (atomic_load(&nd->d_flags) & DF_HASHED)
				/* A cached negative answer (non-complete
				 * filesystems) must not shadow the moved entry. */
				d_hash_remove(vfs, nd);
			d_move(vfs, od, npd, to_new);
		}
		rename_seq_end(vfs);
		/* A non-complete fs's whiteout: cache it now that od has left
		 * the name (outside rename_seq: an insert may resize). */
		if (wd && wd->d_inode && !(atomic_load(&wd->d_flags) & DF_HASHED))
			d_hash_insert(vfs, wd);
	} else {
		d_name_free(to_new);
		if (to_old)
			d_name_free(to_old);
	}
	if (ni)
		unlock_two(&oi->i_lock, &ni->i_lock);
	else
		uvfs_lock_release(&oi->i_lock);
	if (wd)
		uvfs_dentry_put(wd); /* a complete fs's whiteout keeps its pin */
	return err;
}

/* vfs->rename_rw is held shared by every rename (outermost only: a
 * stacking fs's ->rename re-enters here for its layers, and a read lock
 * taken twice by one thread could deadlock behind a waiting writer), and
 * exclusive by path.c's locked climb, which needs every d_parent in the
 * instance to hold still across all filesystems at once. */
#define RENAME_NEST_MAX 8 /* Linux stacks at most 2 filesystems */
static __thread const struct uvfs *rename_held[RENAME_NEST_MAX];
static __thread int rename_nheld;

static int rename_rw_enter(struct uvfs *vfs)
{
	if (rename_nheld == RENAME_NEST_MAX)
		return -ELOOP;
	for (int i = 0; i < rename_nheld; i++)
		if (rename_held[i] == vfs) {
			rename_held[rename_nheld++] = NULL; /* nested: not taken */
			return 0;
		}
	pthread_rwlock_rdlock(&vfs->rename_rw);
	rename_held[rename_nheld++] = vfs;
	return 0;
}

static void rename_rw_exit(struct uvfs *vfs)
{
	if (rename_held[--rename_nheld])
		pthread_rwlock_unlock(&vfs->rename_rw);
}

UVFS_API int uvfs_rename_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *oldpop,
			    const struct uvfs_pathop *newpop, unsigned flags)
{
	rcu_enter();
	/* Linux do_renameat2's order; RENAME_WHITEOUT needs no CAP_MKNOD
	 * since Linux 5.8 (checked on the host's tmpfs). */
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	if ((oldpop && (oldpop->flags & UVFS_PATH_FOLLOW)) || (newpop && (newpop->flags & UVFS_PATH_FOLLOW)))
		return -EINVAL;
	struct nameidata ond, nnd;
	struct uvfs_vd op, np;
	int err = walk_path(vfs, cred, oldpop, WALK_PARENT, &ond, &op);
	if (err)
		return err;
	if ((err = walk_path(vfs, cred, newpop, WALK_PARENT, &nnd, &np))) {
		uvfs_vd_put(&op);
		walk_end(&ond);
		return err;
	}
	struct uvfs_dentry *od = NULL, *nd = NULL;
	struct uvfs_inode *moved = NULL, *victim = NULL; /* for the notification */
	bool wrote = false;
	if (!ond.last || ond.last_dot || !nnd.last || nnd.last_dot) {
		err = -EBUSY;
		goto out;
	}
	/* Before any name is looked up or lock taken: the rename lock is
	 * per filesystem, so one taken here could be the caller's own. */
	if (op.mount != np.mount) {
		err = -EXDEV;
		goto out;
	}
	if ((err = mnt_want_write(op.mount)))
		goto out;
	wrote = true;
	struct uvfs_dentry *opd = op.dentry, *npd = np.dentry;
	if ((err = rename_rw_enter(vfs)))
		goto out;
	/* Per fs, not per instance: a stacking fs's ->rename (called with
	 * its own rename_lock held) renames on its layers through here. */
	struct uvfs_lock *rlock = &op.mount->m_fs->rename_lock;
	uvfs_lock_acquire(rlock);
	lock_rename(opd, npd);
	if (d_dead(opd) || d_dead(npd))
		err = -ENOENT;
	else if (!(err = lookup_one_locked(vfs, opd, ond.last, ond.last_len, &od)) && !od->d_inode)
		err = -ENOENT;
	if (!err)
		err = lookup_one_locked(vfs, npd, nnd.last, nnd.last_len, &nd);
	if (!err)
		err = may_rename(cred, opd, od, npd, nd, ond.trailing_slash, nnd.trailing_slash, flags);
	if (!err) {
		moved = od->d_inode;
		victim = nd->d_inode;
		err = rename_commit(vfs, cred, opd, od, npd, nd, &ond, &nnd, flags);
		if (err)
			moved = victim = NULL;
	} else if (err == 1)
		err = 0; /* same file: nothing to do */
	unlock_rename(opd, npd);
	uvfs_lock_release(rlock);
	rename_rw_exit(vfs);
	if (moved) {
		/* Both names changed meaning; an exchange keeps both, a
		 * replaced victim lost a link. */
		bool xchg = flags & RENAME_EXCHANGE;
		watch_entry(vfs, xchg ? UVFS_WATCH_CREATE : UVFS_WATCH_REMOVE, opd->d_inode, ond.last, ond.last_len,
			    xchg ? victim : moved);
		watch_entry(vfs, UVFS_WATCH_CREATE, npd->d_inode, nnd.last, nnd.last_len, moved);
		if (victim && !xchg)
			watch_inode(vfs, UVFS_WATCH_ATTR, victim, 0, 0);
	}
out:
	if (od)
		uvfs_dentry_put(od);
	if (nd)
		uvfs_dentry_put(nd);
	if (wrote)
		mnt_drop_write(op.mount);
	uvfs_vd_put(&op);
	uvfs_vd_put(&np);
	walk_end(&ond);
	walk_end(&nnd);
	return err;
}
