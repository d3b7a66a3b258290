/* vfs/file.c — open file descriptions: open, read/write, seek, truncate,
 * fsync, stat, directory iteration, data copy.
 *
 * A file holds references on its mount and dentry and, when writable, a
 * writer count on its mount (so a mount cannot turn read-only under it).
 * f_lock serialises f_pos and the directory cursor (Linux f_pos_lock).
 * Lock order: f_lock → the filesystem's inode locks.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/sysmacros.h>

#include "internal.h"
#include "devices/fifo.h"

#define OPEN_FLAGS_MASK                                                                                      \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC |      \
	 O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_SYNC | O_PATH | O_TMPFILE)

/* The kernel's __O_TMPFILE (glibc's includes O_DIRECTORY). */
#define O_TMPFILE_BIT (O_TMPFILE & ~O_DIRECTORY)

static bool f_readable(const struct uvfs_file *f)
{
	int acc = f->f_flags & O_ACCMODE;
	return !(f->f_flags & O_PATH) && (acc == O_RDONLY || acc == O_RDWR);
}

static bool f_writable(const struct uvfs_file *f)
{
	int acc = f->f_flags & O_ACCMODE;
	return !(f->f_flags & O_PATH) && (acc == O_WRONLY || acc == O_RDWR);
}

static const struct uvfs_file_ops no_fops;

/* vd's references are transferred to the file. */
HIDDEN int file_alloc(struct uvfs_vd *vd, struct uvfs_inode *inode, int flags, struct uvfs_file **out)
{
	struct uvfs_file *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	atomic_init(&f->f_refs, 1);
	f->f_vd = *vd;
	f->f_inode = inode;
	/* An O_PATH file never reaches the filesystem's file ops. */
	/* inode NULL: an atomic_open file, whose inode the op makes. */
	f->f_op = inode && inode->i_fop && !(flags & O_PATH) ? inode->i_fop : &no_fops;
	f->f_flags = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
	LIVE_INC(vd->mount->m_vfs, files);
	*out = f;
	return 0;
}

UVFS_API void uvfs_file_get(struct uvfs_file *f) { atomic_fetch_add_explicit(&f->f_refs, 1, memory_order_relaxed); }

UVFS_API void uvfs_file_put(struct uvfs_file *f)
{
	if (atomic_fetch_sub_explicit(&f->f_refs, 1, memory_order_acq_rel) != 1)
		return;
	rcu_enter();
	struct uvfs *vfs = f->f_vd.mount->m_vfs;
	if ((f->f_vfs_flags & UVFS_FILE_OPENED) && f->f_op->release)
		f->f_op->release(f);
	if (f->f_dir_cursor)
		uvfs_dentry_put(f->f_dir_cursor);
	if (f->f_vfs_flags & UVFS_FILE_WRITER)
		mnt_drop_write(f->f_vd.mount);
	uvfs_vd_put(&f->f_vd);
	LIVE_DEC(vfs, files);
	free((void *)f->f_cred.groups); /* owned copy (see finish_open) */
	free(f);
}

UVFS_API void uvfs_file_vd(struct uvfs_file *f, struct uvfs_vd *out)
{
	*out = f->f_vd;
	uvfs_vd_get(out);
}

UVFS_API int uvfs_file_flags(const struct uvfs_file *f) { return f->f_flags; }
UVFS_API struct uvfs_inode *uvfs_file_inode(struct uvfs_file *f) { return f->f_inode; }
UVFS_API struct uvfs_mount *uvfs_file_mount(struct uvfs_file *f) { return f->f_vd.mount; }

/* ------------------------------------------------------------------ open */

static int access_mask(int flags, unsigned oflags)
{
	int m = 0;
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		m = MAY_READ;
		break;
	case O_WRONLY:
		m = MAY_WRITE;
		break;
	default:
		m = MAY_READ | MAY_WRITE;
		break;
	}
	if (flags & O_TRUNC)
		m |= MAY_WRITE;
	if (oflags & UVFS_OPEN_EXEC)
		m |= MAY_EXEC;
	return m;
}

static bool open_for_write(int flags)
{
	int acc = flags & O_ACCMODE;
	return acc == O_WRONLY || acc == O_RDWR || acc == 3;
}

/* O_PATH: no permission check and no call into the filesystem. vd's
 * references are consumed. */
static int open_path(struct uvfs_vd *vd, int flags, struct uvfs_file **out)
{
	struct uvfs_inode *inode = vd->dentry->d_inode;
	int err;
	if ((flags & O_DIRECTORY) && !S_ISDIR(load_relaxed(inode->i_mode)))
		err = -ENOTDIR;
	else
		err = file_alloc(vd, inode, flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW), out);
	if (err)
		uvfs_vd_put(vd);
	return err;
}

/* Linux may_open: the type, permission and mount checks of a non-O_PATH
 * open, and the ops of a device node or FIFO (*devops stays NULL for
 * others). A just-created file skips the permission check. */
static int may_open(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *vd, int flags,
		    unsigned oflags, bool created, const struct uvfs_file_ops **devops, void **devpriv)
{
	struct uvfs_inode *inode = vd->dentry->d_inode;
	uint32_t mode = load_relaxed(inode->i_mode);
	int err;
	if (S_ISLNK(mode))
		return -ELOOP;
	if (S_ISDIR(mode) && (open_for_write(flags) || (flags & (O_TRUNC | O_CREAT))))
		return -EISDIR;
	if ((flags & O_DIRECTORY) && !S_ISDIR(mode))
		return -ENOTDIR;
	if (S_ISSOCK(mode))
		return -ENXIO;
	if ((oflags & UVFS_OPEN_EXEC) && (!S_ISREG(mode) || (uvfs_mount_flags(vd->mount) & UVFS_MNT_NOEXEC)))
		return -EACCES;
	if (!created && (err = inode_permission(cred, inode, access_mask(flags, oflags))))
		return err;
	if ((flags & O_NOATIME) && !inode_owner_or_capable(cred, inode))
		return -EPERM;
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		if (uvfs_mount_flags(vd->mount) & UVFS_MNT_NODEV)
			return -EACCES;
		return device_lookup(vfs, S_ISCHR(mode) ? UVFS_DEV_CHAR : UVFS_DEV_BLOCK, inode->i_rdev, devops,
				     devpriv);
	}
	if (S_ISFIFO(mode))
		*devops = &uvfs_fifo_fops; /* devices/fifo.c: the inode's pipe, on any fs */
	return 0;
}

/* The open file for a checked target, not yet ->open'ed: writer count,
 * flags and its copy of the credential. vd's references are consumed
 * (by *out on success). */
static int open_file_alloc(const struct uvfs_cred *cred, struct uvfs_vd *vd, int flags, struct uvfs_file **out)
{
	struct uvfs_inode *inode = vd->dentry->d_inode;
	uint32_t mode = load_relaxed(inode->i_mode);
	int acc = flags & O_ACCMODE;
	bool wr = open_for_write(flags);
	int err;
	/* Writing to a device node, FIFO or socket does not write to the
	 * filesystem: Linux skips mnt_want_write for them (special_file). */
	bool want = wr && !(S_ISCHR(mode) || S_ISBLK(mode) || S_ISFIFO(mode) || S_ISSOCK(mode));
	if (want && (err = mnt_want_write(vd->mount))) {
		uvfs_vd_put(vd);
		return err;
	}
	struct uvfs_file *f;
	if ((err = file_alloc(vd, inode, (flags & ~O_ACCMODE) | (acc == 3 ? O_RDWR : acc), &f))) {
		if (want)
			mnt_drop_write(vd->mount);
		uvfs_vd_put(vd);
		return err;
	}
	/* The cred's group list is borrowed for this call only: the file
	 * keeps its own copy, and only where it can matter (setgid clearing
	 * on write/ftruncate of a setgid regular file by a caller without
	 * CAP_FSETID). Without one, "not in the group" clears setgid: the
	 * safe direction. */
	if ((err = cred_copy_for_file(cred, &f->f_cred,
				      wr && S_ISREG(mode) && !uvfs_cred_has_cap(cred, CAP_FSETID) &&
					      (load_relaxed(inode->i_mode) & S_ISGID)))) {
		if (want)
			mnt_drop_write(vd->mount);
		uvfs_file_put(f); /* puts vd */
		return err;
	}
	if (want)
		f->f_vfs_flags |= UVFS_FILE_WRITER;
	if (uvfs_cred_has_cap(cred, CAP_FSETID))
		f->f_vfs_flags |= UVFS_FILE_FSETID;
	*out = f;
	return 0;
}

/* Linux handle_truncate: O_TRUNC of an existing regular file, after
 * ->open, as Linux and gVisor do: a filesystem may need its open state
 * (overlay copy-up, a gofer fid) to truncate. */
static int open_truncate(struct uvfs_file *f, const struct uvfs_cred *cred, int flags, bool created)
{
	if (!(flags & O_TRUNC) || !S_ISREG(load_relaxed(f->f_inode->i_mode)) || created)
		return 0;
	return setattr_truncate(f, cred, 0);
}

/* Checks and file creation for an existing (or just created) target. vd's
 * references are consumed. */
static int finish_open(struct uvfs *vfs, const struct uvfs_cred *cred, struct uvfs_vd *vd, int flags,
		       unsigned oflags, bool created, struct uvfs_file **out)
{
	struct uvfs_inode *inode = vd->dentry->d_inode;
	const struct uvfs_file_ops *devops = NULL;
	void *devpriv = NULL;
	if (flags & O_PATH)
		return open_path(vd, flags, out);
	int err = may_open(vfs, cred, vd, flags, oflags, created, &devops, &devpriv);
	if (err) {
		uvfs_vd_put(vd);
		return err;
	}
	struct uvfs_file *f;
	if ((err = open_file_alloc(cred, vd, flags, &f)))
		return err;
	if (devops) {
		f->f_op = devops;
		f->f_private = devpriv;
	}
	/* ->release runs only for a file whose ->open succeeded. */
	if (f->f_op->open && (err = f->f_op->open(inode, f))) {
		uvfs_file_put(f);
		return err;
	}
	f->f_vfs_flags |= UVFS_FILE_OPENED;
	if ((err = open_truncate(f, cred, flags, created))) {
		uvfs_file_put(f);
		return err;
	}
	*out = f;
	return 0;
}

/* O_CREAT on a miss in a directory with ->atomic_open: the file is built
 * first (writer count, cred copy), the op creates the node, instantiates d
 * and opens f in one step. dir->i_lock and a writer count on parent's
 * mount held; d stays the caller's. */
static int open_atomic(const struct uvfs_cred *cred, const struct uvfs_vd *parent, struct uvfs_inode *dir,
		       struct uvfs_dentry *d, int flags, mode_t mode, struct uvfs_file **out)
{
	int acc = flags & O_ACCMODE;
	bool wr = acc == O_WRONLY || acc == O_RDWR || acc == 3;
	mode_t m = S_IFREG | (mode & 07777);
	if (wr && mnt_want_write(parent->mount))
		return -EROFS; /* cannot happen: the caller holds a writer count */
	struct uvfs_vd vd = { parent->mount, d };
	uvfs_vd_get(&vd);
	struct uvfs_file *f;
	int err = file_alloc(&vd, NULL, (flags & ~O_ACCMODE) | (acc == 3 ? O_RDWR : acc), &f);
	if (err) {
		uvfs_vd_put(&vd);
		if (wr)
			mnt_drop_write(parent->mount);
		return err;
	}
	if (wr)
		f->f_vfs_flags |= UVFS_FILE_WRITER; /* dropped by the put */
	if (uvfs_cred_has_cap(cred, CAP_FSETID))
		f->f_vfs_flags |= UVFS_FILE_FSETID;
	/* As finish_open: the group list only where setgid clearing needs it. */
	if ((err = cred_copy_for_file(cred, &f->f_cred, wr && !(f->f_vfs_flags & UVFS_FILE_FSETID) && (m & S_ISGID))) ||
	    (err = dir->i_op->atomic_open(dir, d, cred, m, f))) {
		uvfs_file_put(f); /* not opened: no ->release */
		return err;
	}
	if (!d->d_inode) {
		/* The op said yes but made nothing: refuse rather than open a
		 * negative dentry. */
		uvfs_log(UVFS_LOG_ERROR, "atomic_open returned 0 without instantiating the dentry");
		uvfs_file_put(f);
		return -EIO;
	}
	f->f_inode = d->d_inode;
	f->f_op = f->f_inode->i_fop ? f->f_inode->i_fop : &no_fops;
	f->f_vfs_flags |= UVFS_FILE_OPENED;
	*out = f;
	return 0;
}

/* O_CREAT on a negative d (Linux lookup_open's create half): create the
 * file, or create and open it in one step through ->atomic_open, which
 * sets *opened and *out. dir->i_lock held; d stays the caller's. */
static int open_create_new(const struct uvfs_cred *cred, const struct uvfs_vd *parent, struct uvfs_inode *dir,
			   struct uvfs_dentry *d, int flags, mode_t mode, unsigned oflags, bool *opened,
			   struct uvfs_file **out)
{
	int err = mnt_want_write(parent->mount);
	if (err)
		return err;
	err = inode_permission(cred, dir, MAY_WRITE | MAY_EXEC);
	if (!err && dir->i_op->atomic_open && !(flags & O_DIRECTORY) && !(oflags & UVFS_OPEN_EXEC)) {
		/* One call creates and opens (a remote fs's single round
		 * trip); the file is complete when it returns. */
		err = open_atomic(cred, parent, dir, d, flags, mode, out);
		*opened = !err;
	} else if (!err) {
		err = dir->i_op->create ? dir->i_op->create(dir, d, cred, S_IFREG | (mode & 07777), 0) : -EPERM;
	}
	mnt_drop_write(parent->mount);
	return err;
}

/* A symlink as the last name of an O_CREAT open; d (consumed) is the link,
 * dir->i_lock already released. A jump link names an existing object:
 * returns 1 with *target set to it and *parent emptied. Otherwise the walk
 * goes on to the link's target, resolved from the link's directory, and
 * returns 0 with *parent and nd's last name replaced. */
static int open_create_follow(struct nameidata *nd, struct uvfs_dentry *d, struct uvfs_vd *parent,
			      struct uvfs_vd *target)
{
	bool jump = d->d_inode->i_op->get_link != NULL;
	int err = jump ? walk_jump_final(nd, d, parent) : walk_parent_follow(nd, d, parent);
	uvfs_dentry_put(d);
	if (err || !jump)
		return err;
	*target = *parent;
	*parent = (struct uvfs_vd){ 0 };
	return 1;
}

/* O_CREAT: resolve the parent, then create or open the last name under
 * the parent's lock. A symlink there is followed (unless O_EXCL or
 * O_NOFOLLOW) by continuing the same walk (walk_parent_follow), so the
 * whole open shares one 40-link budget, as Linux's open_last_lookups. */
static int open_create(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop, int flags,
		       mode_t mode, unsigned oflags, struct uvfs_file **out)
{
	struct nameidata nd;
	struct uvfs_vd parent;
	int err = walk_path(vfs, cred, pop, WALK_PARENT, &nd, &parent);
	if (err)
		return err;
	struct uvfs_inode *dir;
	struct uvfs_dentry *d;
	bool created;
again:
	if (!nd.last || nd.last_dot || nd.trailing_slash) {
		err = -EISDIR;
		goto out_put;
	}
	dir = parent.dentry->d_inode;
	uvfs_lock_acquire(&dir->i_lock);
	d = NULL;
	created = false;
	if (atomic_load(&parent.dentry->d_flags) & DF_DEAD) {
		err = -ENOENT;
		goto out_unlock;
	}
	if ((err = lookup_one_locked(vfs, parent.dentry, nd.last, nd.last_len, &d)))
		goto out_unlock;
	if (d->d_inode) {
		if (flags & O_EXCL) {
			err = -EEXIST;
			goto out_unlock;
		}
		if (S_ISLNK(load_relaxed(d->d_inode->i_mode)) && !(flags & O_NOFOLLOW)) {
			uvfs_lock_release(&dir->i_lock);
			struct uvfs_vd target;
			err = open_create_follow(&nd, d, &parent, &target);
			if (err == 0)
				goto again;
			if (err > 0)
				err = finish_open(vfs, cred, &target, flags, oflags, false, out);
			goto out_put;
		}
	} else {
		bool opened = false;
		err = open_create_new(cred, &parent, dir, d, flags, mode, oflags, &opened, out);
		if (err || opened)
			goto out_unlock;
		created = true;
	}
	uvfs_lock_release(&dir->i_lock);
	if (created)
		watch_entry(vfs, UVFS_WATCH_CREATE, dir, nd.last, nd.last_len, d->d_inode);
	struct uvfs_vd vd = { parent.mount, d };
	uvfs_mount_get(parent.mount);
	/* Something may be mounted on an existing target. */
	if ((err = follow_mounts_ref(vfs, &vd, nd.flags))) {
		uvfs_vd_put(&vd);
		goto out_put;
	}
	err = finish_open(vfs, cred, &vd, flags, oflags, created, out);
	goto out_put;
out_unlock:
	uvfs_lock_release(&dir->i_lock);
	if (!err && d && d->d_inode) /* made and opened by ->atomic_open */
		watch_entry(vfs, UVFS_WATCH_CREATE, dir, nd.last, nd.last_len, d->d_inode);
	if (d)
		uvfs_dentry_put(d);
out_put:
	if (uvfs_vd_ok(&parent))
		uvfs_vd_put(&parent);
	walk_end(&nd);
	return err;
}

/* O_TMPFILE (Linux do_o_tmpfile): the directory pop names (following a
 * final symlink unless O_NOFOLLOW) gets an unnamed file from its fs's
 * ->tmpfile, which we open through a dentry that is dead from birth: no
 * lookup finds it, and it goes with the last file reference. */
static int open_tmpfile(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop, int oflags,
			mode_t mode, unsigned flags, struct uvfs_file **out)
{
	struct uvfs_pathop p = *pop;
	p.flags &= ~UVFS_PATH_FOLLOW;
	if (!(oflags & O_NOFOLLOW))
		p.flags |= UVFS_PATH_FOLLOW;
	struct uvfs_vd dirvd;
	int err = uvfs_get_dentry_at(vfs, cred, &p, 0, &dirvd);
	if (err)
		return err;
	struct uvfs_inode *dir = dirvd.dentry->d_inode, *inode = NULL;
	if (!S_ISDIR(load_relaxed(dir->i_mode))) {
		uvfs_vd_put(&dirvd);
		return -ENOTDIR;
	}
	if ((err = mnt_want_write(dirvd.mount))) {
		uvfs_vd_put(&dirvd);
		return err;
	}
	if (!(err = inode_permission(cred, dir, MAY_WRITE | MAY_EXEC))) {
		if (!dir->i_op->tmpfile) {
			err = -EOPNOTSUPP;
		} else {
			uvfs_lock_acquire(&dir->i_lock);
			err = dir->i_op->tmpfile(dir, cred, S_IFREG | (mode & 07777), &inode);
			uvfs_lock_release(&dir->i_lock);
		}
	}
	struct uvfs_dentry *d = NULL;
	if (!err) {
		/* Linux d_tmpfile's name: "#<ino>" (what /proc/self/fd shows). */
		char name[32];
		int n = snprintf(name, sizeof name, "#%llu", (unsigned long long)inode->i_ino);
		if ((err = d_alloc(dirvd.dentry, name, (size_t)n, &d))) {
			uvfs_inode_put(inode);
		} else {
			if (!(oflags & O_EXCL)) {
				uvfs_lock_acquire(&inode->i_lock);
				store_relaxed(inode->i_flags, load_relaxed(inode->i_flags) | UVFS_I_LINKABLE);
				uvfs_lock_release(&inode->i_lock);
			}
			atomic_fetch_or(&d->d_flags, DF_DEAD);
			rcu_store(d->d_inode, inode); /* the dentry's inode reference */
		}
	}
	if (err) {
		mnt_drop_write(dirvd.mount);
		uvfs_vd_put(&dirvd);
		return err;
	}
	struct uvfs_vd vd = { dirvd.mount, d };
	uvfs_mount_get(vd.mount);
	/* created: no permission check on the new file, no truncate. */
	err = finish_open(vfs, cred, &vd, oflags & ~(O_TMPFILE | O_CREAT | O_EXCL), flags, true, out);
	mnt_drop_write(dirvd.mount);
	uvfs_vd_put(&dirvd);
	return err;
}

UVFS_API int uvfs_open_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			  int oflags_in, mode_t mode, unsigned flags, struct uvfs_file **out)
{
	rcu_enter();
	int oflags = oflags_in & OPEN_FLAGS_MASK;
	if (oflags & O_SYNC)
		oflags |= O_DSYNC;
	if (oflags & O_TMPFILE_BIT) {
		/* Linux build_open_flags: exactly O_TMPFILE (with O_DIRECTORY,
		 * without O_CREAT), opened for writing. */
		if ((oflags & (O_TMPFILE | O_CREAT)) != O_TMPFILE ||
		    !((oflags & O_ACCMODE) == O_WRONLY || (oflags & O_ACCMODE) == O_RDWR))
			return -EINVAL;
		if (!pop)
			return -EINVAL;
		if (pop->flags & UVFS_RESOLVE_CACHED)
			return -EAGAIN;
		return open_tmpfile(vfs, cred, pop, oflags, mode, flags, out);
	}
	if (oflags & O_PATH)
		oflags &= O_PATH | O_DIRECTORY | O_NOFOLLOW;
	if (!pop)
		return -EINVAL;
	/* openat2 RESOLVE_CACHED: creating or truncating would block. */
	if ((pop->flags & UVFS_RESOLVE_CACHED) && (oflags & (O_CREAT | O_TRUNC)))
		return -EAGAIN;
	if ((oflags & O_CREAT) && !(oflags & O_PATH) && pop->path && pop->path[0])
		return open_create(vfs, cred, pop, oflags, mode, flags, out);
	struct uvfs_pathop p = *pop;
	p.flags &= ~UVFS_PATH_FOLLOW;
	if (!(oflags & O_NOFOLLOW))
		p.flags |= UVFS_PATH_FOLLOW;
	struct nameidata nd;
	struct uvfs_vd vd;
	int err = walk_path(vfs, cred, &p, WALK_FINAL, &nd, &vd);
	if (err)
		return err;
	walk_end(&nd);
	return finish_open(vfs, cred, &vd, oflags, flags, false, out);
}

/* ------------------------------------------------------------------- I/O */

/* Linux vfs_read's order: -EBADF, then -EISDIR/-EINVAL, then the range
 * (rw.c). */
HIDDEN int file_may_read(struct uvfs_file *f)
{
	if (!f_readable(f))
		return -EBADF;
	if (S_ISDIR(load_relaxed(f->f_inode->i_mode)))
		return -EISDIR;
	return f->f_op->read || f->f_op->read_iter ? 0 : -EINVAL;
}

HIDDEN int file_may_write(struct uvfs_file *f)
{
	if (!f_writable(f))
		return -EBADF;
	return f->f_op->write || f->f_op->write_iter ? 0 : -EINVAL;
}

static ssize_t do_read(struct uvfs_file *f, void *buf, size_t len, int64_t off)
{
	int err = file_may_read(f);
	return err ? err : rw_read(f, buf, len, off);
}

/* Linux file_remove_privs: a write by an opener without CAP_FSETID drops
 * setuid, and setgid when group-executable or when the opener is not in
 * the file's group (suidgid_to_drop). */
HIDDEN void file_remove_privs(struct uvfs_file *f)
{
	struct uvfs_inode *i = f->f_inode;
	uint32_t mode = load_relaxed(i->i_mode);
	if (!S_ISREG(mode) || (f->f_vfs_flags & UVFS_FILE_FSETID) || !(mode & (S_ISUID | S_ISGID)))
		return;
	uvfs_lock_acquire(&i->i_lock);
	mode = i->i_mode & ~suidgid_to_drop(&f->f_cred, i->i_mode, i->i_gid);
	if (mode != i->i_mode) {
		uvfs_inode_attr_begin(i);
		store_relaxed(i->i_mode, mode); /* read by lockless walkers */
		i->i_ctime = uvfs_now();
		uvfs_inode_attr_end(i);
	}
	uvfs_lock_release(&i->i_lock);
}

static ssize_t do_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	int err = file_may_write(f);
	if (err)
		return err;
	ssize_t n = rw_verify_area(f, (int64_t)*off, len);
	if (n < 0)
		return n;
	if (n)
		file_remove_privs(f);
	return rw_write(f, buf, (size_t)n, off);
}

static bool f_stream(const struct uvfs_file *f) { return f->f_op->fop_flags & UVFS_FOP_STREAM; }

/* After a write with no lock held: n bytes went to [at, at + n) (at: where
 * the fs says they went, O_APPEND included). Only regular files have
 * content anyone caches. */
HIDDEN void write_done(struct uvfs_file *f, ssize_t n, uint64_t at)
{
	if (n > 0 && S_ISREG(load_relaxed(f->f_inode->i_mode)))
		watch_inode(f->f_vd.mount->m_vfs, UVFS_WATCH_DATA, f->f_inode, at, (uint64_t)n);
}

UVFS_API ssize_t uvfs_read(struct uvfs_file *f, void *buf, size_t len)
{
	rcu_enter();
	if (f_stream(f))
		return do_read(f, buf, len, 0);
	uvfs_lock_acquire(&f->f_lock);
	ssize_t n = do_read(f, buf, len, (int64_t)f->f_pos);
	if (n > 0)
		f->f_pos += (uint64_t)n;
	uvfs_lock_release(&f->f_lock);
	return n;
}

UVFS_API ssize_t uvfs_write(struct uvfs_file *f, const void *buf, size_t len)
{
	rcu_enter();
	if (f_stream(f)) {
		uint64_t zero = 0;
		return do_write(f, buf, len, &zero);
	}
	uvfs_lock_acquire(&f->f_lock);
	uint64_t off = f->f_pos;
	ssize_t n = do_write(f, buf, len, &off);
	if (n >= 0)
		f->f_pos = off;
	uvfs_lock_release(&f->f_lock);
	write_done(f, n, off - (uint64_t)(n > 0 ? n : 0));
	return n;
}

UVFS_API ssize_t uvfs_pread(struct uvfs_file *f, void *buf, size_t len, off_t off)
{
	rcu_enter();
	if (off < 0)
		return -EINVAL;
	if (f_stream(f))
		return -ESPIPE;
	return do_read(f, buf, len, off);
}

UVFS_API ssize_t uvfs_pwrite(struct uvfs_file *f, const void *buf, size_t len, off_t off)
{
	rcu_enter();
	if (off < 0)
		return -EINVAL;
	if (f_stream(f))
		return -ESPIPE;
	/* pwrite ignores O_APPEND's position on Linux? No: with O_APPEND,
	 * Linux appends anyway; the fs implements that from f_flags. */
	uint64_t o = (uint64_t)off;
	ssize_t n = do_write(f, buf, len, &o);
	write_done(f, n, o - (uint64_t)(n > 0 ? n : 0));
	return n;
}

UVFS_API off_t uvfs_seek(struct uvfs_file *f, off_t off, int whence)
{
	rcu_enter();
	if (f->f_flags & O_PATH)
		return -EBADF;
	if (whence < 0 || whence > SEEK_HOLE)
		return -EINVAL; /* Linux ksys_lseek: before any llseek */
	uvfs_lock_acquire(&f->f_lock);
	int64_t r;
	if (f->f_op->llseek)
		r = f->f_op->llseek(f, off, whence);
	else if (S_ISDIR(load_relaxed(f->f_inode->i_mode)) && whence != SEEK_SET && !(whence == SEEK_CUR && off == 0))
		r = -EINVAL;
	else
		r = uvfs_generic_llseek(f, off, whence, (int64_t)load_relaxed(f->f_inode->i_size));
	if (r >= 0)
		f->f_pos = (uint64_t)r;
	uvfs_lock_release(&f->f_lock);
	return (off_t)r;
}

UVFS_API int uvfs_file_truncate(struct uvfs_file *f, uint64_t size)
{
	rcu_enter();
	if (f->f_flags & O_PATH)
		return -EBADF;
	if (!f_writable(f) || !S_ISREG(load_relaxed(f->f_inode->i_mode)))
		return -EINVAL;
	if ((int64_t)size < 0)
		return -EINVAL;
	return setattr_truncate(f, NULL, size);
}

UVFS_API int uvfs_fsync(struct uvfs_file *f, bool datasync)
{
	rcu_enter();
	if (f->f_flags & O_PATH)
		return -EBADF;
	return f->f_op->fsync ? f->f_op->fsync(f, datasync) : 0;
}

UVFS_API int uvfs_file_host_fd(struct uvfs_file *f)
{
	rcu_enter();
	if ((f->f_flags & O_PATH) || !f->f_inode || !S_ISREG(load_relaxed(f->f_inode->i_mode)) || !f->f_op->host_fd)
		return -EOPNOTSUPP;
	return f->f_op->host_fd(f);
}

UVFS_API int uvfs_file_stat(struct uvfs_file *f, unsigned mask, struct statx *out)
{
	rcu_enter();
	return stat_dentry(f->f_vd.dentry, mask, out);
}

/* -------------------------------------------------------------- readdir */

UVFS_API ssize_t uvfs_copy_file_data(struct uvfs_file *dst, struct uvfs_file *src)
{
	char *buf = malloc(32768);
	if (!buf)
		return -ENOMEM;
	ssize_t total = 0;
	for (;;) {
		ssize_t n = uvfs_read(src, buf, 32768);
		if (n <= 0) {
			if (n < 0 && total == 0)
				total = n;
			break;
		}
		ssize_t off = 0;
		while (off < n) {
			ssize_t w = uvfs_write(dst, buf + off, (size_t)(n - off));
			if (w <= 0) {
				free(buf);
				return total ? total : (w ? w : -EIO);
			}
			off += w;
			total += w;
		}
	}
	free(buf);
	return total;
}
