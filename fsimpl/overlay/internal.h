/* fsimpl/overlay/internal.h — overlay's private structures.
 *
 * Locking (see vfs/LOCKING.md "Filesystems that call back into the VFS"):
 * every layer operation is a uvfs_*_at call on a layer (another
 * filesystem), made with the mounter's credentials; the layer's own locks
 * then nest inside whatever overlay locks the VFS holds. Order:
 *   overlay rename_lock → overlay i_lock(s) (VFS) → ovl_inode.cu_lock
 *     → layer locks (inside the uvfs_*_at calls)
 * cu_lock is never held while another cu_lock is taken: copy-up does the
 * parent first, then takes its own. */
#pragma once

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/overlay/overlay.h"
#include "uvfs_fs.h"

#define OVL_XATTR_PREFIX "trusted.overlay."
#define OVL_XATTR_OPAQUE "trusted.overlay.opaque"

/* A real object on one layer: the layer's mount is ofs->layers[layer].mount. */
struct ovl_real {
	struct uvfs_dentry *d; /* reference held */
	int layer; /* 0 = upper, 1.. = lowers (top first) */
};

struct ovl_ino_ent {
	uint64_t upper_ino, ino;
	struct ovl_ino_ent *next;
};

struct ovl_fs {
	struct uvfs_filesystem vfs;
	struct uvfs_cred cred; /* immutable: the mounter's, without groups (layer ops) */
	/* immutable: layers[0] is the upper root (mount NULL: read-only
	 * overlay), layers[1..nlayers) the lower roots, top first. */
	struct uvfs_vd *layers;
	unsigned nlayers;
	struct uvfs_vd work; /* immutable; same mount as layers[0] */
	atomic_ulong tmp_seq; /* names of temporaries in work */
	/* upper inode number → overlay inode number for copied-up objects,
	 * so that st_ino stays what it was before the copy-up. */
	pthread_mutex_t ino_lock;
	struct ovl_ino_ent *ino_hash[256]; /* under ino_lock */
};

struct ovl_inode {
	struct uvfs_inode vfs;
	/* Serialises copy-up of this inode (and reading the dentry's name
	 * and parent during it: a rename of it copies it up first). */
	struct uvfs_lock cu_lock;
	/* The upper object: NULL until created or copied up (under cu_lock),
	 * then immutable; readers load it with acquire. */
	struct uvfs_dentry *_Atomic upper;
	struct ovl_real lower; /* immutable: topmost lower object (d NULL: none) */
	/* 0, or the st_ino of a copy-up that broke a lower hard link (index=off:
	 * the copy is another file than the other names): set once under
	 * cu_lock, read with a relaxed load; i_ino itself is immutable. */
	_Atomic uint64_t own_ino;
	/* The dentry of an inode found only in a lower layer (no reference):
	 * such an inode has exactly this one dentry, which lives as long as
	 * the inode, so the xattr ops (given only the inode) can copy it up.
	 * Set before the inode is published; unused once upper is set. */
	struct uvfs_dentry *alias;
	/* Directories, immutable: the lower directories merged below the
	 * upper one, top first (includes `lower`; empty when opaque). */
	unsigned nlowerdirs;
	struct ovl_real *lowerdirs;
};

#define OFS(fs) container_of(fs, struct ovl_fs, vfs)
#define OI(inode) container_of(inode, struct ovl_inode, vfs)

static inline struct ovl_fs *ofs_of(struct uvfs_inode *i) { return OFS(i->i_fs); }
static inline struct uvfs_dentry *ovl_upper(struct ovl_inode *oi)
{
	return atomic_load_explicit(&oi->upper, memory_order_acquire);
}
/* The object that answers for oi: upper if any, else the topmost lower. */
static inline struct ovl_real ovl_top(struct ovl_inode *oi)
{
	struct uvfs_dentry *u = ovl_upper(oi);
	return u ? (struct ovl_real){ u, 0 } : oi->lower;
}
/* Merged directory as Linux counts it (OVL_TYPE_MERGE): nlink 1. */
static inline bool ovl_is_merge(struct ovl_inode *oi)
{
	return ovl_upper(oi) ? oi->nlowerdirs > 0 : oi->nlowerdirs > 1;
}

/* layer.c: layer operations, all with the mounter's credentials. A pathop
 * for `name` in real directory r (name NULL or "": r itself). */
struct uvfs_pathop ovl_pop(struct ovl_fs *ofs, struct ovl_real r, const char *name);
struct uvfs_pathop ovl_work_pop(struct ovl_fs *ofs, const char *name);
/* Looks name up in directory r: 0 and *out (reference) or -ENOENT. */
int ovl_layer_lookup(struct ovl_fs *ofs, struct ovl_real dir, const char *name, struct ovl_real *out);
bool ovl_is_whiteout_dentry(struct uvfs_dentry *d);
bool ovl_is_opaque(struct ovl_fs *ofs, struct ovl_real r);
/* Whether name is positive in dir's lower layers (Linux ovl_lower_positive). */
bool ovl_lower_positive(struct ovl_fs *ofs, struct ovl_inode *dir, const char *name);
void ovl_real_put(struct ovl_real *r);
/* A fresh name for a temporary in work ("#uvfs-N"). */
void ovl_tmpname(struct ovl_fs *ofs, char *buf, size_t len);
/* Removes work/name whatever it is (a directory with its contents, one
 * level of whiteouts deep); best effort. */
void ovl_work_cleanup(struct ovl_fs *ofs, const char *name);
/* Removes every whiteout directly in real directory r (upper). */
int ovl_purge_whiteouts(struct ovl_fs *ofs, struct ovl_real r);

/* super.c */
int ovl_new_inode(struct ovl_fs *ofs, struct uvfs_dentry *upper, struct ovl_real lower, struct ovl_real *lowerdirs,
		  unsigned nlowerdirs, struct ovl_inode **out);
/* Copies the real object's attributes into the overlay inode: i_lock held
 * or the inode unpublished. */
void ovl_copy_attr(struct ovl_inode *oi);
uint64_t ovl_ino_for(struct ovl_fs *ofs, struct ovl_real r);
void ovl_ino_remember(struct ovl_fs *ofs, uint64_t upper_ino, uint64_t ino);

/* copyup.c */
int ovl_copy_up(struct ovl_fs *ofs, struct uvfs_dentry *d);
/* A regular-file root (layers[0] and layers[1] are files): copies the
 * lower file whole, with its attributes, into the upper one (gVisor
 * configureOverlay); on failure the upper file is left empty. */
int ovl_copy_up_file_root(struct ovl_fs *ofs);
/* A new empty regular file of mode and owner at up (upper), built in work
 * by the upper layer's own means when it has them (a 9p upper); *vd its
 * vd. -EOPNOTSUPP: nothing done, create the generic way. */
int ovl_layer_create_reg(struct ovl_fs *ofs, const struct uvfs_pathop *up, mode_t mode, uint32_t uid, uint32_t gid,
			 struct uvfs_vd *vd);

/* readdir.c: the merged entries of directory oi (whiteouts removed). */
struct ovl_dirent {
	char *name;
	uint64_t ino;
	unsigned char type;
};
struct ovl_dirlist {
	struct ovl_dirent *e;
	size_t n, cap;
};
int ovl_dir_read_merged(struct ovl_fs *ofs, struct ovl_inode *oi, struct ovl_dirlist *out);
void ovl_dirlist_free(struct ovl_dirlist *l);

/* attr.c: attribute and xattr ops, shared by every inode type. */
int ovl_getattr(struct uvfs_dentry *d, unsigned mask, struct statx *out);
int ovl_getattr_rcu(struct uvfs_dentry *d, unsigned mask, struct statx *out);
int ovl_setattr(struct uvfs_dentry *d, const struct uvfs_setattr *attr, struct uvfs_file *file);
ssize_t ovl_getxattr(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name, void *buf, size_t len);
int ovl_setxattr(struct uvfs_dentry *d, struct uvfs_inode *inode,
		const char *name, const void *val, size_t len, int flags);
ssize_t ovl_listxattr(struct uvfs_dentry *d, struct uvfs_inode *inode, char *buf, size_t len);
int ovl_removexattr(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name);
#define OVL_ATTR_IOPS                                                                                  \
	.getattr = ovl_getattr, .getattr_rcu = ovl_getattr_rcu, .setattr = ovl_setattr,                  \
	.getxattr = ovl_getxattr, .setxattr = ovl_setxattr, .listxattr = ovl_listxattr,                  \
	.removexattr = ovl_removexattr

extern const struct uvfs_inode_ops ovl_dir_iops, ovl_file_iops;
extern const struct uvfs_file_ops ovl_dir_fops, ovl_file_fops, ovl_special_fops;
