/* fsimpl/overlay/attr.c — attributes and xattrs. Reads go to the object
 * that answers for the inode (upper, else the topmost lower); changes copy
 * up first. trusted.overlay.* names are the overlay's own: hidden from
 * listxattr and refused (-EOPNOTSUPP) to callers, as Linux does.
 * setattr and the xattr ops run with the overlay inode's i_lock held (VFS),
 * which covers the ovl_copy_attr that follows each change. */
#include <stdio.h>
#include <sys/sysmacros.h>

#include "fsimpl/overlay/internal.h"

static bool ovl_private_xattr(const char *name)
{
	return !strncmp(name, OVL_XATTR_PREFIX, strlen(OVL_XATTR_PREFIX));
}

/* What the overlay reports over the real object's attributes: one device
 * for the whole overlay, numbers that survive copy-up, merged directories'
 * nlink. top is the real object the attributes came from: own_ino (set
 * before upper is published) applies only to the upper copy, so a reader
 * that saw no upper reports the lower file's number, as before the copy. */
static void ovl_fix_stat(struct ovl_fs *ofs, struct ovl_inode *oi, struct ovl_real top, struct statx *out)
{
	out->stx_dev_major = major(ofs->vfs.dev);
	out->stx_dev_minor = minor(ofs->vfs.dev);
	uint64_t own = top.layer == 0 ? atomic_load_explicit(&oi->own_ino, memory_order_relaxed) : 0;
	out->stx_ino = own ? own : oi->vfs.i_ino;
	/* i_mode's type bits never change, but chmod stores the rest: relaxed. */
	if (S_ISDIR(__atomic_load_n(&oi->vfs.i_mode, __ATOMIC_RELAXED)) && (top.layer == 0 ? oi->nlowerdirs > 0 : oi->nlowerdirs > 1))
		out->stx_nlink = 1; /* Linux: counting merged subdirectories is not worth it */
}

int ovl_getattr(struct uvfs_dentry *d, unsigned mask, struct statx *out)
{
	struct uvfs_inode *inode = uvfs_dentry_inode(d);
	struct ovl_inode *oi = OI(inode);
	struct ovl_fs *ofs = ofs_of(inode);
	struct ovl_real top = ovl_top(oi);
	struct uvfs_pathop pop = ovl_pop(ofs, top, NULL);
	int err = uvfs_stat_at(ofs->vfs.vfs, &ofs->cred, &pop, mask, out);
	if (err)
		return err;
	ovl_fix_stat(ofs, oi, top, out);
	return 0;
}

/* RCU-walk stat: d and its inode live until a grace period after the
 * walk's section; upper, once published (release), stays referenced until
 * the inode is evicted, lower is immutable, and both real dentries and
 * their inodes are freed after a grace period (LOCKING.md, "Stacking
 * filesystems on the RCU walk"). The layers' mounts are not needed: the
 * real object's attributes do not depend on them. */
int ovl_getattr_rcu(struct uvfs_dentry *d, unsigned mask, struct statx *out)
{
	struct uvfs_inode *inode = uvfs_dentry_inode(d);
	struct ovl_inode *oi = OI(inode);
	struct ovl_real top = ovl_top(oi);
	if (!top.d || uvfs_getattr_rcu(top.d, mask, out))
		return -ECHILD;
	ovl_fix_stat(ofs_of(inode), oi, top, out);
	return 0;
}

int ovl_setattr(struct uvfs_dentry *d, const struct uvfs_setattr *attr, struct uvfs_file *file)
{
	(void)file;
	struct ovl_inode *oi = OI(uvfs_dentry_inode(d));
	struct ovl_fs *ofs = ofs_of(&oi->vfs);
	int err = ovl_copy_up(ofs, d);
	if (err)
		return err;
	struct uvfs_pathop pop = ovl_pop(ofs, (struct ovl_real){ ovl_upper(oi), 0 }, NULL);
	if ((err = uvfs_setstat_at(ofs->vfs.vfs, &ofs->cred, &pop, attr, 0)))
		return err;
	ovl_copy_attr(oi);
	return 0;
}

ssize_t ovl_getxattr(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name, void *buf, size_t len)
{
	if (ovl_private_xattr(name))
		return -EOPNOTSUPP;
	struct ovl_fs *ofs = ofs_of(inode);
	struct uvfs_pathop pop = ovl_pop(ofs, ovl_top(OI(inode)), NULL);
	return uvfs_getxattr_at(ofs->vfs.vfs, &ofs->cred, &pop, name, buf, len);
}

static int xattr_change(struct uvfs_inode *inode, const char *name, const void *val, size_t len, int flags,
			bool remove)
{
	if (ovl_private_xattr(name))
		return -EOPNOTSUPP;
	struct ovl_inode *oi = OI(inode);
	struct ovl_fs *ofs = ofs_of(inode);
	int err = ovl_upper(oi) ? 0 : oi->alias ? ovl_copy_up(ofs, oi->alias) : -EROFS;
	if (err)
		return err;
	struct uvfs_pathop pop = ovl_pop(ofs, (struct ovl_real){ ovl_upper(oi), 0 }, NULL);
	err = remove ? uvfs_removexattr_at(ofs->vfs.vfs, &ofs->cred, &pop, name)
		     : uvfs_setxattr_at(ofs->vfs.vfs, &ofs->cred, &pop, name, val, len, flags);
	if (!err)
		ovl_copy_attr(oi);
	return err;
}

int ovl_setxattr(struct uvfs_dentry *d, struct uvfs_inode *inode,
		const char *name, const void *val, size_t len, int flags)
{
	return xattr_change(inode, name, val, len, flags, false);
}

int ovl_removexattr(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name)
{
	return xattr_change(inode, name, NULL, 0, 0, true);
}

ssize_t ovl_listxattr(struct uvfs_dentry *d, struct uvfs_inode *inode, char *buf, size_t len)
{
	struct ovl_fs *ofs = ofs_of(inode);
	struct uvfs_pathop pop = ovl_pop(ofs, ovl_top(OI(inode)), NULL);
	for (;;) {
		ssize_t n = uvfs_listxattr_at(ofs->vfs.vfs, &ofs->cred, &pop, NULL, 0);
		if (n <= 0)
			return n;
		char *all = malloc((size_t)n);
		if (!all)
			return -ENOMEM;
		ssize_t got = uvfs_listxattr_at(ofs->vfs.vfs, &ofs->cred, &pop, all, (size_t)n);
		if (got == -ERANGE) {
			free(all); /* grew meanwhile */
			continue;
		}
		if (got < 0) {
			free(all);
			return got;
		}
		size_t out = 0;
		ssize_t ret = 0;
		for (char *p = all; p < all + got; p += strlen(p) + 1) {
			size_t l = strlen(p) + 1;
			if (ovl_private_xattr(p))
				continue;
			if (len && out + l > len) {
				ret = -ERANGE;
				break;
			}
			if (len)
				memcpy(buf + out, p, l);
			out += l;
		}
		free(all);
		return ret ? ret : (ssize_t)out;
	}
}
