/* fsimpl/kernfs/kernfs.c — see kernfs.h.
 *
 * Locks: nodes are immutable once made (their data pointer and template
 * never change), so directory ops need only what the VFS holds. A file's
 * per-open buffer is guarded by its own lock (struct kfile.lock), because
 * pread runs without f_lock. */
#include "fsimpl/kernfs/kernfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ buffers */

void kernfs_write(struct kernfs_buf *b, const void *data, size_t len)
{
	if (b->err)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = 0;
}

void kernfs_printf(struct kernfs_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = -EINVAL;
		return;
	}
	if ((size_t)n < sizeof small) {
		kernfs_write(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		b->err = -ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	kernfs_write(b, big, (size_t)n);
	free(big);
}

/* --------------------------------------------------------------- nodes */

uint64_t kernfs_ino(uint64_t parent_ino, const char *name, size_t len)
{
	/* FNV-1a over the parent's number and the name: the same node gets
	 * the same number at every lookup and in readdir, without a table. */
	uint64_t h = 0xcbf29ce484222325ULL;
	for (int i = 0; i < 8; i++) {
		h ^= (parent_ino >> (8 * i)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	return h > 1 ? h : h + 2; /* 1 is the root */
}

static const struct uvfs_inode_ops kn_dir_iops, kn_file_iops, kn_link_iops;
static const struct uvfs_file_ops kn_dir_fops, kn_file_fops, kn_link_fops;

struct kernfs_node *kernfs_new_node(struct kernfs_fs *kfs, struct kernfs_node *parent, const struct kernfs_entry *ent,
				    void *data, uint64_t ino)
{
	struct kernfs_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	mode_t mode = ent->mode;
	const struct uvfs_inode_ops *iop = &kn_file_iops;
	const struct uvfs_file_ops *fop = &kn_file_fops;
	if (S_ISDIR(mode)) {
		iop = &kn_dir_iops;
		fop = &kn_dir_fops;
	} else if (S_ISLNK(mode)) {
		iop = &kn_link_iops;
		fop = &kn_link_fops;
	}
	if (!ino)
		ino = parent ? kernfs_ino(parent->vfs.i_ino, ent->name, strlen(ent->name)) : 1;
	uvfs_inode_init(&n->vfs, &kfs->vfs, iop, fop, ino, mode);
	n->vfs.i_nlink = S_ISDIR(mode) ? 2 : 1;
	struct timespec now = uvfs_now();
	n->vfs.i_atime = n->vfs.i_mtime = n->vfs.i_ctime = n->vfs.i_btime = now;
	n->ent = ent;
	n->data = data;
	if (data && kfs->dops) {
		kfs->dops->get(data);
		if (kfs->dops->owner)
			kfs->dops->owner(data, &n->vfs.i_uid, &n->vfs.i_gid);
	}
	return n;
}

static bool node_alive(struct kernfs_node *n)
{
	struct kernfs_fs *kfs = kernfs_node_fs(n);
	return !n->data || !kfs->dops || !kfs->dops->alive || kfs->dops->alive(n->data);
}

/* --------------------------------------------------------- directories */

static const struct kernfs_entry *find_child(const struct kernfs_entry *ent, const char *name, size_t len)
{
	for (const struct kernfs_entry *c = ent->children; c && c->name; c++)
		if (strlen(c->name) == len && !memcmp(c->name, name, len))
			return c;
	return NULL;
}

static int kn_lookup(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct kernfs_node *dn = KN(dir);
	if (!node_alive(dn))
		return 0; /* the task is gone: nothing below its directory */
	size_t len;
	const char *name = uvfs_dentry_name(d, &len);
	struct kernfs_fs *kfs = kernfs_node_fs(dn);
	const struct kernfs_entry *c = find_child(dn->ent, name, len);
	struct kernfs_node *n = NULL;
	if (c) {
		if (!(n = kernfs_new_node(kfs, dn, c, dn->data, 0)))
			return -ENOMEM;
	} else if (dn->ent->dyn) {
		int err = dn->ent->dyn->lookup(dn, name, len, &n);
		if (err)
			return err;
	}
	if (n)
		uvfs_d_instantiate(d, &n->vfs);
	return 0;
}

static int kn_mkdir(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
		    unsigned flags)
{
	struct kernfs_node *dn = KN(dir);
	if (!dn->ent->mkdir)
		return -EPERM;
	size_t len;
	const char *name = uvfs_dentry_name(d, &len);
	if (find_child(dn->ent, name, len))
		return -EEXIST;
	struct kernfs_node *n = NULL;
	int err = dn->ent->mkdir(dn, name, len, flags, &n);
	if (err)
		return err;
	uvfs_inode_attr_begin(dir);
	dir->i_nlink++;
	uvfs_inode_attr_end(dir);
	uvfs_d_instantiate(d, &n->vfs);
	return 0;
}

static int kn_rmdir(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct kernfs_node *dn = KN(dir);
	struct uvfs_inode *ci = uvfs_dentry_inode(d);
	if (!dn->ent->rmdir || !ci)
		return -EPERM;
	int err = dn->ent->rmdir(dn, KN(ci));
	if (err)
		return err;
	uvfs_inode_attr_begin(dir);
	dir->i_nlink--;
	uvfs_inode_attr_end(dir);
	return 0;
}

/* The template's check first (it may block: an RCU walk asks again in
 * ref-walk), then the mode bits. */
static int kn_permission(struct uvfs_inode *inode, const struct uvfs_cred *cred, int mask, unsigned flags)
{
	struct kernfs_node *n = KN(inode);
	if (n->ent->permission) {
		if (flags & UVFS_MAY_NOT_BLOCK)
			return -ECHILD;
		int err = n->ent->permission(n, cred, mask);
		if (err)
			return err;
	}
	return uvfs_generic_permission(inode, cred, mask, flags);
}

static unsigned dtype_of(mode_t mode) { return (mode >> 12) & 15; }

static int64_t nchildren(const struct kernfs_entry *ent)
{
	int64_t n = 0;
	for (const struct kernfs_entry *c = ent->children; c && c->name; c++)
		n++;
	return n;
}

/* Offsets: 0 ".", 1 "..", 2.. the table, then the dynamic children at
 * 2 + (table size) + their own offsets. */
static int kn_iterate(struct uvfs_file *f, struct uvfs_dir_ctx *ctx)
{
	if (uvfs_dir_emit_dots(f, ctx))
		return 0;
	struct kernfs_node *dn = KN(f->f_inode);
	if (!node_alive(dn))
		return -ENOENT;
	int64_t nt = nchildren(dn->ent);
	while (ctx->pos >= 2 && ctx->pos < 2 + nt) {
		const struct kernfs_entry *c = &dn->ent->children[ctx->pos - 2];
		size_t len = strlen(c->name);
		if (ctx->emit(ctx, c->name, len, kernfs_ino(dn->vfs.i_ino, c->name, len), dtype_of(c->mode),
			      ctx->pos + 1))
			return 0;
		ctx->pos++;
	}
	if (!dn->ent->dyn)
		return 0;
	return dn->ent->dyn->iterate(dn, ctx, ctx->pos - 2 - nt);
}

int kernfs_emit(struct uvfs_dir_ctx *ctx, struct kernfs_node *dir, const char *name, uint64_t ino, unsigned dtype,
		int64_t off)
{
	int64_t base = 2 + nchildren(dir->ent);
	if (ctx->emit(ctx, name, strlen(name), ino, dtype, base + off + 1))
		return 1;
	ctx->pos = base + off + 1;
	return 0;
}

static int64_t kn_dir_llseek(struct uvfs_file *f, int64_t off, int whence)
{
	/* Offsets are cookies: only absolute and relative moves. */
	int64_t pos = whence == SEEK_SET ? off : whence == SEEK_CUR ? (int64_t)f->f_pos + off : -1;
	if (pos < 0 || (whence != SEEK_SET && whence != SEEK_CUR))
		return -EINVAL;
	return pos;
}

/* ------------------------------------------------------------ symlinks */

static ssize_t kn_readlink(struct uvfs_dentry *d, char *buf, size_t len)
{
	struct kernfs_node *n = KN(uvfs_dentry_inode(d));
	if (!node_alive(n))
		return -ENOENT;
	return n->ent->readlink(n, buf, len);
}

/* --------------------------------------------------------------- files */

struct kfile {
	struct uvfs_lock lock; /* everything below */
	struct kernfs_buf buf;
	bool have; /* buf holds a generation */
	uint64_t read_end; /* end of the last read; a read at 0 after reads regenerates */
};

static int dead_err(struct kernfs_node *n)
{
	int e = kernfs_node_fs(n)->dead_errno;
	return e ? -e : -ESRCH;
}

static int generate(struct kernfs_node *n, struct kfile *kf)
{
	if (!node_alive(n))
		return dead_err(n);
	struct kernfs_buf b = { 0 };
	int err = n->ent->show(n, &b);
	if (!err)
		err = b.err;
	if (err) {
		free(b.p);
		return err;
	}
	free(kf->buf.p);
	kf->buf = b;
	kf->have = true;
	return 0;
}

static int kn_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	struct kernfs_node *n = KN(inode);
	int acc = f->f_flags & O_ACCMODE;
	if (acc != O_RDONLY && !n->ent->store)
		return -EACCES;
	if (acc != O_WRONLY && !n->ent->show)
		return -EACCES;
	if (n->ent->open) {
		int err = n->ent->open(n, f);
		if (err)
			return err;
	}
	struct kfile *kf = calloc(1, sizeof(*kf));
	if (!kf)
		return -ENOMEM;
	if (acc != O_WRONLY) {
		int err = generate(n, kf);
		if (err) {
			free(kf);
			return err;
		}
	}
	f->f_private = kf;
	return 0;
}

static void kn_release(struct uvfs_file *f)
{
	struct kfile *kf = f->f_private;
	if (kf) {
		free(kf->buf.p);
		free(kf);
	}
}

static ssize_t kn_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	struct kfile *kf = f->f_private;
	struct kernfs_node *n = KN(f->f_inode);
	if (!kf || !n->ent->show)
		return -EINVAL;
	uvfs_lock_acquire(&kf->lock);
	if (off == 0 && kf->read_end != 0) {
		int err = generate(n, kf);
		if (err) {
			uvfs_lock_release(&kf->lock);
			return err;
		}
	}
	size_t got = 0;
	if (off < kf->buf.len) {
		got = kf->buf.len - (size_t)off;
		if (got > len)
			got = len;
		memcpy(buf, kf->buf.p + off, got);
	}
	kf->read_end = off + got;
	uvfs_lock_release(&kf->lock);
	return (ssize_t)got;
}

static ssize_t kn_fwrite(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	struct kernfs_node *n = KN(f->f_inode);
	if (!n->ent->store)
		return -EINVAL;
	if (!node_alive(n))
		return dead_err(n);
	ssize_t r = n->ent->store(n, f, buf, len, *off);
	if (r > 0)
		*off += (uint64_t)r;
	return r;
}

/* seq_lseek: SEEK_SET and SEEK_CUR only, never negative. */
static int64_t kn_llseek(struct uvfs_file *f, int64_t off, int whence) { return kn_dir_llseek(f, off, whence); }

/* ---------------------------------------------------------- the tables */

static int kn_setattr(struct uvfs_dentry *d, const struct uvfs_setattr *attr, struct uvfs_file *file)
{
	/* Generated attributes: chmod, chown, utimes are refused as proc does
	 * for most of its files; O_TRUNC on a writable file is harmless (the
	 * layer adds the mtime a truncation stamps: ignored with it). */
	unsigned ok = STATX_SIZE | ((attr->mask & STATX_SIZE) ? STATX_MTIME | STATX_CTIME : 0);
	return (attr->mask & ~ok) ? -EPERM : 0;
}

static const struct uvfs_inode_ops kn_dir_iops = {
	.lookup = kn_lookup, .mkdir = kn_mkdir, .rmdir = kn_rmdir, .setattr = kn_setattr, .permission = kn_permission,
};
static const struct uvfs_inode_ops kn_file_iops = { .setattr = kn_setattr, .permission = kn_permission };
static const struct uvfs_inode_ops kn_link_iops = { .readlink = kn_readlink, .setattr = kn_setattr };
static const struct uvfs_file_ops kn_dir_fops = { .iterate = kn_iterate, .llseek = kn_dir_llseek };
static const struct uvfs_file_ops kn_file_fops = {
	.open = kn_open, .release = kn_release, .read = kn_read, .write = kn_fwrite, .llseek = kn_llseek,
};
static const struct uvfs_file_ops kn_link_fops = { 0 };

/* Cached dentries: a negative one may be filled later (a task registers
 * under a pid looked up before), a positive one dies with its data. */
static int kn_revalidate(struct uvfs_dentry *d, unsigned flags)
{
	struct uvfs_inode *i = uvfs_dentry_inode(d);
	if (i && !KN(i)->data && !KN(i)->ent->valid)
		return 0; /* fixed node: immutable */
	if (flags & UVFS_LOOKUP_RCU)
		return -ECHILD; /* data liveness is checked with a reference held */
	if (!i) {
		/* Only a dynamic directory can gain names. */
		struct uvfs_dentry *p = uvfs_dentry_parent(d);
		struct uvfs_inode *pi = p ? uvfs_dentry_inode(p) : NULL;
		return pi && KN(pi)->ent->dyn ? 1 : 0;
	}
	struct kernfs_node *n = KN(i);
	return node_alive(n) && (!n->ent->valid || n->ent->valid(n)) ? 0 : 1;
}
static const struct uvfs_dentry_ops kn_dops = { .revalidate = kn_revalidate };

static void kn_evict(struct uvfs_inode *inode)
{
	struct kernfs_node *n = KN(inode);
	struct kernfs_fs *kfs = kernfs_node_fs(n);
	if (n->data && kfs->dops)
		kfs->dops->put(n->data);
	n->data = NULL;
}
static void kn_free_inode(struct uvfs_inode *inode) { free(KN(inode)); }
static void kn_fs_release(struct uvfs_filesystem *fs) { KFS(fs)->release(KFS(fs)); }
static int kn_statfs(struct uvfs_filesystem *fs, struct statfs *out)
{
	memset(out, 0, sizeof(*out));
	out->f_type = KFS(fs)->magic;
	out->f_bsize = 4096;
	out->f_namelen = 255;
	out->f_frsize = 4096;
	return 0;
}
static int kn_show_options(struct uvfs_filesystem *fs, char *buf, size_t len)
{
	if (KFS(fs)->show_options)
		return KFS(fs)->show_options(KFS(fs), buf, len);
	if (!len)
		return -ERANGE;
	buf[0] = 0;
	return 0;
}
static const struct uvfs_fs_ops kn_fs_ops = {
	.release = kn_fs_release, .evict_inode = kn_evict, .free_inode = kn_free_inode, .statfs = kn_statfs,
	.show_options = kn_show_options,
};

int kernfs_take_common_opts(struct uvfs_opts *o, const char *fsname, uint64_t *limit)
{
	bool have;
	*limit = UVFS_DENTRY_CACHE_LIMIT;
	int err = uvfs_opts_take_u64(o, "dentry_cache_limit", limit, &have);
	return err ? err : uvfs_opts_check_unused(o, fsname);
}

int kernfs_fs_init(struct kernfs_fs *kfs, struct uvfs *vfs, const struct uvfs_fs_type *type,
		   const struct kernfs_entry *root, void *data, unsigned long lru_max)
{
	int err = uvfs_fs_init(&kfs->vfs, vfs, type, &kn_fs_ops);
	if (err)
		return err;
	kfs->vfs.d_op = &kn_dops;
	kfs->vfs.lru_max = lru_max;
	struct kernfs_node *r = kernfs_new_node(kfs, NULL, root, data, 1);
	if (!r) {
		uvfs_fs_abort(&kfs->vfs);
		return -ENOMEM;
	}
	if ((err = uvfs_d_make_root(&kfs->vfs, &r->vfs, &kfs->vfs.root))) {
		uvfs_inode_put(&r->vfs);
		uvfs_rcu_barrier(); /* free_inode runs after a grace period and needs the fs */
		uvfs_fs_abort(&kfs->vfs);
		return err;
	}
	return 0;
}
