/* fsimpl/verity/verityfs.c — the filesystem type "verity": a read-only
 * view of a sealed lower directory in which every name, attribute, symlink
 * target and data byte is checked against the root hash.
 *
 * Trust flows down: the root manifest is hashed against the root hash at
 * mount; a child is checked at lookup against its verified parent's
 * manifest (type, mode, owner, size, target; a directory's manifest against
 * its digest), once: the answer is cached with the dentry (no revalidate:
 * nothing of the verity fs can change). A regular file's data is verified
 * block by block on read by the Merkle verifier, anchored by the file digest
 * from the manifest; verified tree blocks stay cached in the verifier.
 * Readdir compares the lower listing with the manifest.
 *
 * The fs calls the VFS only on the lower mount (vfs/LOCKING.md "Filesystems
 * that call back into the VFS"), with its own root credentials: access to
 * the verity tree is checked by the VFS on the verity inodes, whose
 * attributes come from the manifests.
 *
 * Locks: the VFS holds the directory's i_lock across ->lookup (lower calls
 * nest inside it, layering order); vt_inode.open_lock (a pthread mutex,
 * leaf apart from lower calls) serialises a regular file's first open. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <dirent.h>
#include <linux/fs.h>
#include <linux/fsverity.h>

#include "uvfs_fs.h"
#include "fsimpl/verity/internal.h"
#include "fsimpl/verity/merkle/merkle.h"
#include "fsimpl/verity/merkle/verity_int.h"

struct vt_fs {
	struct uvfs_filesystem vfs;
	struct uvfs_vd lower; /* immutable; references held until release */
	struct uvfs_cred cred; /* immutable: root, for calls on the lower */
	uint8_t root_hash[UVFS_VERITY_ROOT_HASH_SIZE]; /* immutable */
	int action; /* immutable */
	/* immutable: no root hash was given: an unverified view of the lower
	 * in which FS_IOC_ENABLE_VERITY builds a file's tree (runtime enable,
	 * gVisor's AllowRuntimeEnable). */
	bool runtime;
	/* immutable, references held: the root of the trees and manifests:
	 * tree_dir= (struct uvfs_verity_mount.tree_dir), else the lower. */
	struct uvfs_vd meta;
	uint64_t cache_max; /* immutable: bytes of verified data blocks kept (data_cache=) */
	/* The verified-data cache, one LRU for the mount: cache_lock (a
	 * leaf mutex) protects lru, every inode's blocks[] and the blocks
	 * themselves, the slabs and the free list; cache_used is written
	 * under it and read without it (stats). */
	pthread_mutex_t cache_lock;
	struct vt_block *lru_head, *lru_tail; /* most recently used first */
	_Atomic uint64_t cache_used; /* bytes in the LRU */
	/* Blocks come from slabs mapped whole and pre-faulted (one
	 * MAP_POPULATE instead of a page fault and a malloc per block: they
	 * were half the cost of a first read), kept until release; at most
	 * cache_max bytes of them. */
	struct vt_slab *slabs;
	struct vt_block *free_blocks; /* linked by next */
	uint64_t cache_alloc; /* bytes mapped in slabs */
	struct vt_pool *pool; /* immutable: the instance's idle slabs, or NULL */
};

/* One cached verified data block of one inode (or free). */
struct vt_block {
	struct vt_block *prev, *next; /* the fs's LRU (free: next only) */
	struct vt_inode *owner;
	uint64_t idx; /* owner->blocks[idx] == this */
	uint8_t *data; /* VT_BLOCK bytes in its slab */
};

struct vt_slab {
	struct vt_slab *next;
	uint8_t *mem;
	size_t len;
	struct vt_block hdr[];
};
#define VT_SLAB_BLOCKS 512u /* 2 MiB */

#define VT_BLOCK 4096u /* the data block size of sealed trees */
#define VT_RUN 32u /* blocks read and verified at once on a miss */
#define VT_MAX_CACHED_BLOCKS (1u << 18) /* files above 1 GiB are not cached */
#define VT_DEFAULT_CACHE (64ull << 20)
/* blocks[i] of a block read (and verified) once but not cached: a block
 * enters the cache on its second read, so a streaming first read costs
 * the hashing only (fresh cache memory costs as much again: its page
 * faults and zeroing; bench notes). */
#define VT_SEEN ((struct vt_block *)1)

struct vt_inode {
	struct uvfs_inode vfs;
	/* Immutable after creation (before the inode is published). */
	struct uvfs_vd lower; /* this object on the lower; references held */
	char *path; /* for log lines: "/a/b" from the verity root */
	struct vmanifest man; /* directories (sealed mounts): the verified manifest */
	struct uvfs_vd meta; /* directories (sealed mounts): where the manifest and the files' trees live; refs held */
	char *link; /* symlinks: the verified target (i_link) */
	/* Regular files. A sealed mount fills digest, desc and tree at lookup,
	 * before the inode is published. A runtime-enable mount fills them at
	 * lookup when a stored tree is found, or in FS_IOC_ENABLE_VERITY under
	 * open_lock; either way before the release store of ver, and they
	 * are immutable from then on. */
	unsigned alg, digest_size; /* the tree's hash algorithm and its digest size */
	uint8_t digest[UVFS_VERITY_MAX_DIGEST]; /* the file digest (the parent's manifest's, or the descriptor's hash) */
	uint8_t desc[UVFS_VERITY_DESC_SIZE]; /* the descriptor */
	struct uvfs_file *tree; /* VM_HIDDEN.name, open */
	bool has_tree; /* a verity file: ver is (or is about to be) set up */
	/* The verifier, made at the first open (or at enable) under
	 * open_lock, then read without it (acquire load): non-NULL means the
	 * file's reads are verified. */
	pthread_mutex_t open_lock;
	struct uvfs_file *data; /* under open_lock, then immutable */
	_Atomic(struct uvfs_verity_verifier *) ver;
	int writers; /* runtime mounts: files open for writing, under open_lock (ETXTBSY) */
	/* Regular files: verified data blocks by index (NULL: never read,
	 * VT_SEEN: read once or evicted, not cached), so a re-read hashes nothing (the kernel's PG_checked). The array
	 * and its slots are under the fs's cache_lock. */
	struct vt_block **blocks;
};

#define VT_FS(fs) container_of(fs, struct vt_fs, vfs)
#define VT_I(i) container_of(i, struct vt_inode, vfs)

static _Atomic(void (*)(const char *)) panic_hook;

UVFS_API void uvfs_verity_set_panic_hook(void (*hook)(const char *what)) { atomic_store(&panic_hook, hook); }

/* A verification failure: the log line names the file; -EIO, or the panic
 * action. */
static int violation(struct vt_fs *fs, const char *path, const char *what)
{
	char msg[512];
	snprintf(msg, sizeof msg, "verity: %s: %s", path && *path ? path : "/", what);
	uvfs_log(UVFS_LOG_ERROR, "%s", msg);
	if (fs->action == UVFS_VERITY_ACTION_PANIC) {
		void (*h)(const char *) = atomic_load(&panic_hook);
		if (h)
			h(msg);
		else
			abort();
	}
	return -EIO;
}

static const struct uvfs_inode_ops vt_dir_iops, vt_other_iops;
static const struct uvfs_file_ops vt_dir_fops, vt_reg_fops, vt_other_fops;

/* ------------------------------------------------------------ mutations */

static int vt_erofs_create(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *c, mode_t m,
			   dev_t r) { return -EROFS; }
static int vt_erofs_mkdir(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *c, mode_t m,
			  unsigned f) { return -EROFS; }
static int vt_erofs_symlink(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *c,
			    const char *t) { return -EROFS; }
static int vt_erofs_link(struct uvfs_dentry *o, struct uvfs_inode *dir, struct uvfs_dentry *d) { return -EROFS; }
static int vt_erofs_unlink(struct uvfs_inode *dir, struct uvfs_dentry *d) { return -EROFS; }
static int vt_erofs_rename(struct uvfs_inode *odir, struct uvfs_dentry *od, struct uvfs_inode *ndir,
			   struct uvfs_dentry *nd, unsigned flags, const struct uvfs_cred *cred,
			   struct uvfs_dentry *w) { return -EROFS; }
/* Path calls: EROFS; through an open file (fchmod, futimens, ...): EPERM,
 * as gVisor's verity does — except a size change, which is EROFS either
 * way (open with O_TRUNC truncates through the new file, and Linux gives
 * EROFS there). */
static int rt_truncate(struct uvfs_inode *inode, struct uvfs_file *f, uint64_t size);
static int rt_setattr(struct uvfs_inode *inode, struct uvfs_file *f, const struct uvfs_setattr *a);
static int vt_setattr(struct uvfs_dentry *d, const struct uvfs_setattr *a, struct uvfs_file *f)
{
	struct uvfs_inode *inode = uvfs_dentry_inode(d);
	if (VT_FS(inode->i_fs)->runtime)
		return rt_setattr(inode, f, a);
	return f && !(a->mask & STATX_SIZE) ? -EPERM : -EROFS;
}
static int vt_setxattr(struct uvfs_dentry *d, struct uvfs_inode *i, const char *n, const void *v, size_t l, int f)
{
	return -EROFS;
}
static int vt_removexattr(struct uvfs_dentry *d, struct uvfs_inode *i, const char *n) { return -EROFS; }

/* --------------------------------------------------------------- inodes */

static struct vt_inode *vt_new_inode(struct vt_fs *fs, const struct statx *st, uint32_t mode, uint32_t uid,
				     uint32_t gid, uint64_t size)
{
	struct vt_inode *vi = calloc(1, sizeof(*vi));
	if (!vi)
		return NULL;
	const struct uvfs_inode_ops *iop = S_ISDIR(mode) ? &vt_dir_iops : &vt_other_iops;
	const struct uvfs_file_ops *fop = S_ISDIR(mode) ? &vt_dir_fops : S_ISREG(mode) ? &vt_reg_fops : &vt_other_fops;
	uvfs_inode_init(&vi->vfs, &fs->vfs, iop, fop, st->stx_ino, mode);
	pthread_mutex_init(&vi->open_lock, NULL);
	/* Not published yet: no attr write section needed. */
	vi->vfs.i_uid = uid;
	vi->vfs.i_gid = gid;
	vi->vfs.i_size = size;
	vi->vfs.i_nlink = S_ISDIR(mode) ? 2 : 1;
	vi->vfs.i_blocks = st->stx_blocks;
	vi->vfs.i_atime = (struct timespec){ st->stx_atime.tv_sec, st->stx_atime.tv_nsec };
	vi->vfs.i_mtime = (struct timespec){ st->stx_mtime.tv_sec, st->stx_mtime.tv_nsec };
	vi->vfs.i_ctime = (struct timespec){ st->stx_ctime.tv_sec, st->stx_ctime.tv_nsec };
	vi->vfs.i_btime = vi->vfs.i_ctime;
	return vi;
}

/* LRU list edits; cache_lock held. */
static void lru_unlink(struct vt_fs *fs, struct vt_block *b)
{
	*(b->prev ? &b->prev->next : &fs->lru_head) = b->next;
	*(b->next ? &b->next->prev : &fs->lru_tail) = b->prev;
	b->prev = b->next = NULL;
}

static void lru_push(struct vt_fs *fs, struct vt_block *b)
{
	b->prev = NULL;
	b->next = fs->lru_head;
	*(fs->lru_head ? &fs->lru_head->prev : &fs->lru_tail) = b;
	fs->lru_head = b;
}

static void vt_evict_inode(struct uvfs_inode *inode)
{
	struct vt_inode *vi = VT_I(inode);
	uvfs_verity_close(atomic_load(&vi->ver));
	if (vi->data)
		uvfs_file_put(vi->data);
	if (vi->tree)
		uvfs_file_put(vi->tree);
	if (uvfs_vd_ok(&vi->lower))
		uvfs_vd_put(&vi->lower);
	if (uvfs_vd_ok(&vi->meta))
		uvfs_vd_put(&vi->meta);
	vm_free(&vi->man);
	if (vi->blocks) {
		struct vt_fs *fs = VT_FS(inode->i_fs);
		uint64_t n = (vi->vfs.i_size + VT_BLOCK - 1) / VT_BLOCK;
		pthread_mutex_lock(&fs->cache_lock);
		for (uint64_t b = 0; b < n; b++)
			if (vi->blocks[b] && vi->blocks[b] != VT_SEEN) {
				struct vt_block *blk = vi->blocks[b];
				lru_unlink(fs, blk);
				blk->next = fs->free_blocks;
				fs->free_blocks = blk;
				atomic_fetch_sub(&fs->cache_used, VT_BLOCK);
			}
		pthread_mutex_unlock(&fs->cache_lock);
		free(vi->blocks);
	}
	pthread_mutex_destroy(&vi->open_lock);
}

static void vt_free_inode(struct uvfs_inode *inode)
{
	struct vt_inode *vi = VT_I(inode);
	free(vi->path);
	free(vi->link);
	free(vi);
}

/* Reads and checks the manifest of lower directory dir against digest. */
static int load_manifest(struct vt_fs *fs, const struct uvfs_vd *dir, const char *path, const uint8_t *digest,
			 struct vmanifest *m)
{
	uint8_t *raw, h[VM_DIGEST];
	size_t len;
	int err = vl_read_all(fs->vfs.vfs, &fs->cred, dir, VM_HIDDEN, VM_MANIFEST_MAX, &raw, &len);
	if (err == -ENOENT || err == -EFBIG || err == -EIO)
		return violation(fs, path, "directory manifest missing or not a sealed manifest");
	if (err)
		return err;
	if ((err = vm_sha256(raw, len, h))) {
		free(raw);
		return err;
	}
	if (memcmp(h, digest, VM_DIGEST)) {
		free(raw);
		return violation(fs, path, "directory manifest does not match its digest");
	}
	if ((err = vm_parse(raw, len, m))) {
		free(raw);
		return err == -EIO ? violation(fs, path, "malformed directory manifest") : err;
	}
	return 0;
}

static char *join_path(const char *parent, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", strcmp(parent, "/") ? parent : "", name) < 0)
		return NULL;
	return p;
}

/* A directory's place under the tree directory: the same relative path
 * (a sealed tree directory mirrors the lower's directories), or the lower
 * directory itself when trees live beside the files. */
static int child_meta(struct vt_fs *fs, struct vt_inode *parent, const char *name, struct vt_inode *vi)
{
	if (fs->meta.dentry == fs->lower.dentry && fs->meta.mount == fs->lower.mount) {
		vi->meta = vi->lower;
		uvfs_vd_get(&vi->meta);
		return 0;
	}
	struct uvfs_pathop pop = { .root = parent->meta, .start = parent->meta, .path = name };
	int err = uvfs_get_dentry_at(fs->vfs.vfs, &fs->cred, &pop, 0, &vi->meta);
	return err == -ENOENT || err == -ENOTDIR ? violation(fs, vi->path, "missing from the tree directory") : err;
}

/* Checks what the lower holds for entry e against e; on success fills the
 * new inode's type-specific state. */
static int check_child(struct vt_fs *fs, struct vt_inode *parent, const struct vm_entry *e, const char *name,
		       const struct statx *st, struct vt_inode *vi)
{
	struct uvfs *vfs = fs->vfs.vfs;
	const char *path = vi->path;
	if (st->stx_mode != e->mode)
		return violation(fs, path, "type or mode differs from the manifest");
	if (st->stx_uid != e->uid || st->stx_gid != e->gid)
		return violation(fs, path, "owner differs from the manifest");
	if (S_ISDIR(e->mode)) {
		int err = child_meta(fs, parent, name, vi);
		if (err)
			return err;
		err = load_manifest(fs, &vi->meta, path, e->digest, &vi->man);
		if (err)
			return err;
		if (vi->man.mode != e->mode || vi->man.uid != e->uid || vi->man.gid != e->gid)
			return violation(fs, path, "manifest header differs from the parent's entry");
		return 0;
	}
	if (S_ISREG(e->mode)) {
		if (st->stx_size != e->size)
			return violation(fs, path, "size differs from the manifest");
		char tname[256];
		int err = vl_tree_name(tname, name, strlen(name));
		struct uvfs_pathop pop = { .root = parent->meta, .start = parent->meta, .path = tname };
		if (err || (err = uvfs_open_at(vfs, &fs->cred, &pop, O_RDONLY | O_NOFOLLOW, 0, 0, &vi->tree)))
			return err == -ENOENT ? violation(fs, path, "Merkle tree missing") : err;
		uint8_t h[VM_DIGEST];
		struct uvfs_verity_descriptor dd;
		ssize_t r = vl_pread_full(vi->tree, vi->desc, sizeof vi->desc, 0);
		if (r < 0)
			return (int)r;
		if (r != (ssize_t)sizeof vi->desc || vm_sha256(vi->desc, sizeof vi->desc, h) ||
		    memcmp(h, e->digest, VM_DIGEST))
			return violation(fs, path, "fs-verity descriptor does not match the file digest");
		if (uvfs_verity_descriptor_parse(vi->desc, &dd) || dd.data_size != e->size)
			return violation(fs, path, "fs-verity descriptor does not match the manifest");
		memcpy(vi->digest, e->digest, VM_DIGEST);
		vi->alg = UVFS_VERITY_HASH_SHA256;
		vi->digest_size = VM_DIGEST;
		vi->has_tree = true;
		return 0;
	}
	if (S_ISLNK(e->mode)) {
		char buf[UVFS_PATH_MAX];
		struct uvfs_pathop pop = { .root = vi->lower, .start = vi->lower, .path = "", .flags = UVFS_PATH_EMPTY };
		ssize_t r = uvfs_readlink_at(vfs, &fs->cred, &pop, buf, sizeof buf);
		if (r < 0)
			return (int)r;
		if ((size_t)r != e->target_len || memcmp(buf, e->target, e->target_len))
			return violation(fs, path, "symlink target differs from the manifest");
		if (!(vi->link = strndup(e->target, e->target_len)))
			return -ENOMEM;
		vi->vfs.i_link = vi->link;
		return 0;
	}
	if ((S_ISCHR(e->mode) || S_ISBLK(e->mode)) &&
	    (st->stx_rdev_major != e->rdev_major || st->stx_rdev_minor != e->rdev_minor))
		return violation(fs, path, "device number differs from the manifest");
	if (S_ISCHR(e->mode) || S_ISBLK(e->mode))
		vi->vfs.i_rdev = makedev(e->rdev_major, e->rdev_minor);
	return 0;
}

/* ------------------------------------------------ runtime-enable mounts */

/* The path of name's tree under fs->meta: "DIR/.merkle.verity.BASE" for
 * a file at vi_path "/DIR/BASE" (without a leading slash; the root's
 * files: ".merkle.verity.BASE"). */
static int rt_tree_path(const char *vi_path, char *out, size_t len)
{
	const char *base = strrchr(vi_path, '/') + 1;
	size_t dlen = (size_t)(base - vi_path) - 1; /* "/DIR" */
	char tname[256];
	int err = vl_tree_name(tname, base, strlen(base));
	if (err)
		return err;
	int n = dlen ? snprintf(out, len, "%.*s/%s", (int)dlen - 1, vi_path + 1, tname) : snprintf(out, len, "%s", tname);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Takes in a stored tree (descriptor then tree, opened as vi->tree) for
 * a regular file of size bytes. Nothing vouches for the descriptor but
 * itself (as on Linux: the measurement is what a user checks), but it must
 * describe this file's size. */
static int rt_take_tree(struct vt_fs *fs, struct vt_inode *vi, uint64_t size)
{
	struct uvfs_verity_descriptor dd;
	ssize_t r = vl_pread_full(vi->tree, vi->desc, sizeof vi->desc, 0);
	if (r < 0)
		return (int)r;
	if (r != (ssize_t)sizeof vi->desc || uvfs_verity_descriptor_parse(vi->desc, &dd))
		return violation(fs, vi->path, "stored fs-verity descriptor is malformed");
	if (dd.data_size != size)
		return violation(fs, vi->path, "size differs from the stored fs-verity descriptor");
	struct vparams vp;
	int err = merkle_params_init(&vp, dd.hash_alg, 1u << dd.log_block_size, NULL, 0);
	if (err)
		return err;
	err = merkle_hash_plain(&vp, vi->desc, sizeof vi->desc, vi->digest);
	vi->alg = dd.hash_alg;
	vi->digest_size = vp.ds;
	merkle_params_fini(&vp);
	if (!err)
		vi->has_tree = true;
	return err;
}

/* Lookup without a root hash: the lower's attributes as they are; a
 * regular file with a stored tree is a verity file. */
static int rt_lookup(struct vt_fs *fs, struct vt_inode *parent, struct uvfs_dentry *d, const char *name)
{
	struct uvfs *vfs = fs->vfs.vfs;
	struct uvfs_pathop pop = { .root = parent->lower, .start = parent->lower, .path = name };
	struct uvfs_vd lv = { 0 };
	int err = uvfs_get_dentry_at(vfs, &fs->cred, &pop, 0, &lv);
	if (err)
		return err == -ENOENT ? 0 : err; /* a negative dentry */
	struct statx st;
	struct uvfs_pathop here = { .root = lv, .start = lv, .path = "", .flags = UVFS_PATH_EMPTY };
	char *path = join_path(parent->path, name);
	struct vt_inode *vi = NULL;
	if (!path)
		err = -ENOMEM;
	else if (!(err = uvfs_stat_at(vfs, &fs->cred, &here, STATX_BASIC_STATS, &st)) &&
		 !(vi = vt_new_inode(fs, &st, st.stx_mode, st.stx_uid, st.stx_gid, st.stx_size)))
		err = -ENOMEM;
	if (!vi) {
		uvfs_vd_put(&lv);
		free(path);
		return err;
	}
	vi->lower = lv;
	vi->path = path;
	if (S_ISREG(st.stx_mode)) {
		char tpath[UVFS_PATH_MAX];
		struct uvfs_pathop tp = { .root = fs->meta, .start = fs->meta, .path = tpath };
		if (!(err = rt_tree_path(path, tpath, sizeof tpath)) &&
		    !(err = uvfs_open_at(vfs, &fs->cred, &tp, O_RDONLY | O_NOFOLLOW, 0, 0, &vi->tree)))
			err = rt_take_tree(fs, vi, st.stx_size);
		else if (err == -ENOENT || err == -ENAMETOOLONG)
			err = 0; /* no tree: a plain file (one that cannot have a tree, too) */
	} else if (S_ISLNK(st.stx_mode)) {
		char buf[UVFS_PATH_MAX];
		ssize_t r = uvfs_readlink_at(vfs, &fs->cred, &here, buf, sizeof buf);
		if (r < 0)
			err = (int)r;
		else if (!(vi->link = strndup(buf, (size_t)r)))
			err = -ENOMEM;
		else
			vi->vfs.i_link = vi->link;
	} else if (S_ISCHR(st.stx_mode) || S_ISBLK(st.stx_mode)) {
		vi->vfs.i_rdev = makedev(st.stx_rdev_major, st.stx_rdev_minor);
	}
	if (err) {
		uvfs_inode_put(&vi->vfs);
		return err;
	}
	uvfs_d_instantiate(d, &vi->vfs);
	return 0;
}

static int vt_lookup(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct vt_fs *fs = VT_FS(dir->i_fs);
	struct vt_inode *parent = VT_I(dir);
	size_t len;
	const char *dname = uvfs_dentry_name(d, &len);
	char name[256];
	if (len >= sizeof name)
		return -ENAMETOOLONG;
	memcpy(name, dname, len);
	name[len] = 0;
	if (vm_is_hidden(name, len))
		return -EPERM; /* the trees and manifests are not part of the view */
	if (fs->runtime)
		return rt_lookup(fs, parent, d, name);

	const struct vm_entry *e = vm_find(&parent->man, name, len);
	struct uvfs_pathop pop = { .root = parent->lower, .start = parent->lower, .path = name };
	struct uvfs_vd lv = { 0 };
	int err = uvfs_get_dentry_at(fs->vfs.vfs, &fs->cred, &pop, 0, &lv);
	char *path = join_path(parent->path, name);
	if (!path) {
		if (!err)
			uvfs_vd_put(&lv);
		return -ENOMEM;
	}
	if (!e) {
		if (!err) {
			uvfs_vd_put(&lv);
			err = violation(fs, path, "present on the lower but not in the manifest");
		} else if (err == -ENOENT) {
			err = 0; /* a true negative: cached as such */
		}
		free(path);
		return err;
	}
	if (err) {
		if (err == -ENOENT)
			err = violation(fs, path, "in the manifest but missing on the lower");
		free(path);
		return err;
	}
	struct statx st;
	struct uvfs_pathop here = { .root = lv, .start = lv, .path = "", .flags = UVFS_PATH_EMPTY };
	if ((err = uvfs_stat_at(fs->vfs.vfs, &fs->cred, &here, STATX_BASIC_STATS, &st))) {
		uvfs_vd_put(&lv);
		free(path);
		return err;
	}
	struct vt_inode *vi = vt_new_inode(fs, &st, e->mode, e->uid, e->gid, e->size);
	if (!vi) {
		uvfs_vd_put(&lv);
		free(path);
		return -ENOMEM;
	}
	vi->lower = lv;
	vi->path = path;
	if ((err = check_child(fs, parent, e, name, &st, vi))) {
		uvfs_inode_put(&vi->vfs); /* evicts: drops lv and whatever check_child took */
		return err;
	}
	uvfs_d_instantiate(d, &vi->vfs);
	return 0;
}

/* ---------------------------------------------------------------- files */

static ssize_t tree_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct vt_inode *vi = ctx;
	return vl_pread_full(vi->tree, buf, len, off + UVFS_VERITY_DESC_SIZE);
}

static ssize_t data_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	return vl_pread_full(ctx, buf, len, off);
}

static int vt_check_open(struct uvfs_file *f)
{
	return (f->f_flags & O_ACCMODE) != O_RDONLY || (f->f_flags & O_TRUNC) ? -EROFS : 0;
}

/* Makes vi's verifier (open_lock held; vi->has_tree). */
static int make_verifier(struct vt_fs *fs, struct vt_inode *vi)
{
	struct uvfs_pathop here = { .root = vi->lower, .start = vi->lower, .path = "", .flags = UVFS_PATH_EMPTY };
	int err = 0;
	if (!vi->data)
		err = uvfs_open_at(fs->vfs.vfs, &fs->cred, &here, O_RDONLY, 0, 0, &vi->data);
	struct uvfs_verity_open_args a = {
		.hash_alg = vi->alg, .digest = vi->digest, .digest_size = vi->digest_size,
		.descriptor = vi->desc, .descriptor_size = sizeof vi->desc,
		.read_tree = tree_read, .tree_ctx = vi, .read_data = data_read, .data_ctx = vi->data,
	};
	struct uvfs_verity_verifier *v = NULL;
	if (!err && (err = uvfs_verity_open(&a, &v)) == -EIO)
		err = violation(fs, vi->path, "fs-verity descriptor does not match the file digest");
	if (!err)
		atomic_store_explicit(&vi->ver, v, memory_order_release);
	return err;
}

static bool open_writes(const struct uvfs_file *f)
{
	return (f->f_flags & O_ACCMODE) != O_RDONLY || (f->f_flags & O_TRUNC);
}

/* Sealed mounts: read-only, verified. Runtime mounts: a verity file as
 * on Linux (a write open is EPERM, fsverity_file_open); any other file
 * opens on the lower (f_private), writable ones counted for ETXTBSY. */
static int vt_reg_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	struct vt_inode *vi = VT_I(inode);
	struct vt_fs *fs = VT_FS(inode->i_fs);
	int err = fs->runtime ? 0 : vt_check_open(f);
	if (err || (!open_writes(f) && atomic_load_explicit(&vi->ver, memory_order_acquire)))
		return err;
	pthread_mutex_lock(&vi->open_lock);
	if (vi->has_tree) {
		if (open_writes(f))
			err = -EPERM;
		else if (!atomic_load_explicit(&vi->ver, memory_order_relaxed))
			err = make_verifier(fs, vi);
	} else {
		/* Unverified until enabled: reads and writes go to the lower
		 * (O_TRUNC arrives as a setattr through this file). */
		struct uvfs_pathop here = { .root = vi->lower, .start = vi->lower, .path = "", .flags = UVFS_PATH_EMPTY };
		struct uvfs_file *lf;
		if (!(err = uvfs_open_at(fs->vfs.vfs, &fs->cred, &here, f->f_flags & O_ACCMODE, 0, 0, &lf))) {
			f->f_private = lf;
			if ((f->f_flags & O_ACCMODE) != O_RDONLY)
				vi->writers++;
		}
	}
	pthread_mutex_unlock(&vi->open_lock);
	return err;
}

static void vt_reg_release(struct uvfs_file *f)
{
	struct vt_inode *vi = VT_I(f->f_inode);
	struct uvfs_file *lf = f->f_private;
	if (!lf)
		return;
	if ((f->f_flags & O_ACCMODE) != O_RDONLY) {
		pthread_mutex_lock(&vi->open_lock);
		vi->writers--;
		pthread_mutex_unlock(&vi->open_lock);
	}
	uvfs_file_put(lf);
}

/* Runtime mounts, files not (yet) verity: the lower's bytes as they are. */
static ssize_t vt_plain_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	struct uvfs_file *lf = f->f_private;
	return lf ? uvfs_pread(lf, buf, len, (off_t)off) : -EIO;
}

/* Runtime mounts: a size change (truncate, O_TRUNC) of a file that is not
 * verity goes to the lower; a verity file's is EPERM (Linux
 * fsverity_prepare_setattr). i_lock held by the VFS. */
static int rt_truncate(struct uvfs_inode *inode, struct uvfs_file *f, uint64_t size)
{
	struct vt_inode *vi = VT_I(inode);
	struct vt_fs *fs = VT_FS(inode->i_fs);
	/* open_lock held throughout, so enable cannot hash the old size
	 * while we cut it (Linux: do_truncate's get_write_access). */
	pthread_mutex_lock(&vi->open_lock);
	if (vi->has_tree) {
		pthread_mutex_unlock(&vi->open_lock);
		return -EPERM;
	}
	struct uvfs_file *lf = f ? f->f_private : NULL;
	int err = 0;
	if (lf)
		uvfs_file_get(lf);
	else {
		struct uvfs_pathop here = { .root = vi->lower, .start = vi->lower, .path = "", .flags = UVFS_PATH_EMPTY };
		err = uvfs_open_at(fs->vfs.vfs, &fs->cred, &here, O_WRONLY, 0, 0, &lf);
	}
	if (!err)
		err = uvfs_file_truncate(lf, size);
	if (lf)
		uvfs_file_put(lf);
	if (!err) {
		struct timespec now = uvfs_now();
		uvfs_inode_attr_begin(inode);
		inode->i_size = size;
		inode->i_mtime = now;
		inode->i_ctime = now;
		uvfs_inode_attr_end(inode);
	}
	pthread_mutex_unlock(&vi->open_lock);
	return err;
}

/* Runtime mounts: attribute changes go to the lower, as on Linux, where
 * fs-verity covers a file's data and not its metadata (chmod, chown and
 * utimes of a verity file succeed); a sealed tree's manifest covers them,
 * so there they stay EROFS (vt_setattr). The VFS has made the permission
 * checks against this inode and resolved the change (full mode, times);
 * the lower is changed with our credentials (relaxed stores: the lockless
 * walk reads mode and ids). A size change: rt_truncate
 * (EPERM for a verity file, fsverity_prepare_setattr). i_lock held. */
static int rt_setattr(struct uvfs_inode *inode, struct uvfs_file *f, const struct uvfs_setattr *a)
{
	if ((a->mask & STATX_SIZE) && !S_ISREG(inode->i_mode))
		return -EINVAL;
	int err = (a->mask & STATX_SIZE) ? rt_truncate(inode, f, a->size) : 0;
	struct uvfs_setattr la = *a;
	la.mask &= STATX_MODE | STATX_UID | STATX_GID | STATX_ATIME | STATX_MTIME;
	if (err || !la.mask)
		return err;
	struct vt_inode *vi = VT_I(inode);
	struct vt_fs *fs = VT_FS(inode->i_fs);
	struct uvfs_pathop here = { .root = vi->lower, .start = vi->lower, .path = "", .flags = UVFS_PATH_EMPTY };
	if ((err = uvfs_setstat_at(fs->vfs.vfs, &fs->cred, &here, &la, 0)))
		return err;
	struct timespec now = uvfs_now();
	uvfs_inode_attr_begin(inode);
	if (la.mask & STATX_MODE)
		__atomic_store_n(&inode->i_mode, (inode->i_mode & S_IFMT) | (la.mode & 07777), __ATOMIC_RELAXED);
	if (la.mask & STATX_UID)
		__atomic_store_n(&inode->i_uid, la.uid, __ATOMIC_RELAXED);
	if (la.mask & STATX_GID)
		__atomic_store_n(&inode->i_gid, la.gid, __ATOMIC_RELAXED);
	if (la.mask & STATX_ATIME)
		inode->i_atime = la.atime;
	if (la.mask & STATX_MTIME)
		inode->i_mtime = la.mtime;
	inode->i_ctime = now;
	uvfs_inode_attr_end(inode);
	return 0;
}

/* Runtime mounts: writes to a file that is not verity (only such a file
 * can be open for writing: enable waits for no writers, and a verity file
 * refuses write opens). i_lock orders writes with the size they set. */
static ssize_t vt_reg_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	struct uvfs_inode *inode = f->f_inode;
	struct uvfs_file *lf = f->f_private;
	if (!lf || (f->f_flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	uvfs_lock_acquire(&inode->i_lock);
	uint64_t pos = (f->f_flags & O_APPEND) ? inode->i_size : *off;
	ssize_t r = uvfs_pwrite(lf, buf, len, (off_t)pos);
	if (r > 0) {
		struct timespec now = uvfs_now();
		pos += (uint64_t)r;
		uvfs_inode_attr_begin(inode);
		if (pos > inode->i_size)
			inode->i_size = pos;
		inode->i_mtime = now;
		inode->i_ctime = now;
		uvfs_inode_attr_end(inode);
		*off = pos;
	}
	uvfs_lock_release(&inode->i_lock);
	return r;
}

static ssize_t read_failed(struct uvfs_file *f, size_t len, uint64_t off)
{
	char what[96];
	snprintf(what, sizeof what, "data or Merkle tree mismatch reading %zu bytes at %llu", len,
		 (unsigned long long)off);
	return violation(VT_FS(f->f_inode->i_fs), VT_I(f->f_inode)->path, what);
}

/* len bytes of fresh memory for a slab; a whole slab is 2 MiB-aligned and
 * asks for a transparent huge page (one fault and one page to zero
 * instead of 512: fresh memory was most of a first read's cost). */
static void *slab_map(size_t len)
{
	const size_t huge = (size_t)VT_SLAB_BLOCKS * VT_BLOCK;
	if (len < huge) {
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	uint8_t *p = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uint8_t *a = (uint8_t *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (p + len + huge > a + len)
		munmap(a + len, (size_t)(p + len + huge - (a + len)));
	madvise(a, len, MADV_HUGEPAGE); /* a hint: 4 KiB pages otherwise */
	return a;
}

/* The idle slab pool (verity.h) of one uvfs instance (the verity type's
 * uvfs_fs_type_data, freed by uvfs_destroy): whole slabs of released
 * mounts, linked by next, under lock (a leaf, taken under cache_lock or
 * alone); bytes is written under it and read without it (stats), max
 * likewise. */
struct vt_pool {
	pthread_mutex_t lock;
	struct vt_slab *head;
	_Atomic uint64_t bytes, max;
};

static void slab_free(struct vt_slab *sl)
{
	munmap(sl->mem, sl->len);
	free(sl);
}

static void *pool_make(void)
{
	struct vt_pool *p = calloc(1, sizeof(*p));
	if (p) {
		pthread_mutex_init(&p->lock, NULL);
		atomic_store(&p->max, VT_DEFAULT_CACHE); /* one default data_cache */
	}
	return p;
}

static void pool_free(void *arg)
{
	struct vt_pool *p = arg;
	for (struct vt_slab *sl = p->head, *next; sl; sl = next) {
		next = sl->next;
		slab_free(sl);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* vfs's pool, NULL when verity is not registered there (then every slab
 * is fresh memory and freed at unmount) or on ENOMEM. */
static struct vt_pool *pool_of(struct uvfs *vfs)
{
	void *p = NULL;
	return uvfs_fs_type_data(vfs, &uvfs_verity_type, pool_make, pool_free, &p) ? NULL : p;
}

/* Keeps sl idle if it is whole and fits the bound; else frees it. */
static void pool_put(struct vt_pool *p, struct vt_slab *sl)
{
	if (p && sl->len == (size_t)VT_SLAB_BLOCKS * VT_BLOCK) {
		pthread_mutex_lock(&p->lock);
		if (atomic_load(&p->bytes) + sl->len <= atomic_load(&p->max)) {
			/* Kept resident: MADV_FREE here measured slower
			 * (80% vs 85% of raw SHA-256, bench notes). */
			sl->next = p->head;
			p->head = sl;
			atomic_fetch_add(&p->bytes, sl->len);
			sl = NULL;
		}
		pthread_mutex_unlock(&p->lock);
	}
	if (sl)
		slab_free(sl);
}

static struct vt_slab *pool_take(struct vt_pool *p)
{
	if (!p)
		return NULL;
	pthread_mutex_lock(&p->lock);
	struct vt_slab *sl = p->head;
	if (sl) {
		p->head = sl->next;
		atomic_fetch_sub(&p->bytes, sl->len);
	}
	pthread_mutex_unlock(&p->lock);
	return sl;
}

UVFS_API int uvfs_verity_set_slab_pool(struct uvfs *vfs, uint64_t max_bytes)
{
	struct vt_pool *p = pool_of(vfs);
	if (!p)
		return -ENODEV;
	struct vt_slab *drop = NULL;
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->max, max_bytes);
	while (p->head && atomic_load(&p->bytes) > max_bytes) {
		struct vt_slab *sl = p->head;
		p->head = sl->next;
		atomic_fetch_sub(&p->bytes, sl->len);
		sl->next = drop;
		drop = sl;
	}
	pthread_mutex_unlock(&p->lock);
	while (drop) {
		struct vt_slab *next = drop->next;
		slab_free(drop);
		drop = next;
	}
	return 0;
}

UVFS_API uint64_t uvfs_verity_slab_pool_bytes(struct uvfs *vfs)
{
	struct vt_pool *p = pool_of(vfs);
	return p ? atomic_load(&p->bytes) : 0;
}

/* A free block, from the free list or a slab (an idle one from the pool,
 * else fresh memory) while the budget allows; NULL when it is spent
 * (cache_lock held). Every block is written whole before it is read, so
 * a pooled slab's old (or, after MADV_FREE, zeroed) bytes never show. */
static struct vt_block *block_get(struct vt_fs *fs)
{
	if (!fs->free_blocks && fs->cache_alloc + VT_BLOCK <= fs->cache_max) {
		uint64_t n = (fs->cache_max - fs->cache_alloc) / VT_BLOCK;
		if (n > VT_SLAB_BLOCKS)
			n = VT_SLAB_BLOCKS;
		struct vt_slab *sl = n == VT_SLAB_BLOCKS ? pool_take(fs->pool) : NULL;
		if (!sl) {
			sl = malloc(sizeof(*sl) + n * sizeof(struct vt_block));
			void *mem = sl ? slab_map(n * VT_BLOCK) : NULL;
			if (!mem) {
				free(sl);
				return NULL;
			}
			sl->mem = mem;
			sl->len = n * VT_BLOCK;
		}
		sl->next = fs->slabs;
		fs->slabs = sl;
		for (uint64_t i = n; i-- > 0;) {
			sl->hdr[i] = (struct vt_block){ .next = fs->free_blocks, .data = sl->mem + i * VT_BLOCK };
			fs->free_blocks = &sl->hdr[i];
		}
		fs->cache_alloc += n * VT_BLOCK;
	}
	struct vt_block *b = fs->free_blocks;
	if (b) {
		fs->free_blocks = b->next;
		b->next = NULL;
		atomic_fetch_add(&fs->cache_used, VT_BLOCK);
	}
	return b;
}

/* Keeps verified blocks [first, first + n) (their bytes at src) that were
 * read before (VT_SEEN; others are marked so), evicting the least recently
 * used blocks of the mount beyond its budget. */
static void cache_fill(struct vt_fs *fs, struct vt_inode *vi, uint64_t first, const uint8_t *src, uint64_t n)
{
	uint64_t nb = (vi->vfs.i_size + VT_BLOCK - 1) / VT_BLOCK;
	pthread_mutex_lock(&fs->cache_lock);
	if (!vi->blocks && nb <= VT_MAX_CACHED_BLOCKS)
		vi->blocks = calloc(nb, sizeof(*vi->blocks));
	for (uint64_t i = 0; vi->blocks && i < n; i++) {
		if (!vi->blocks[first + i]) { /* the first read: remember it only */
			vi->blocks[first + i] = VT_SEEN;
			continue;
		}
		if (vi->blocks[first + i] && vi->blocks[first + i] != VT_SEEN)
			continue;
		struct vt_block *b = NULL;
		if (atomic_load(&fs->cache_used) + VT_BLOCK > fs->cache_max || !(b = block_get(fs))) {
			/* Reuse the oldest block (never one of this run: those
			 * are the newest). */
			if (!(b = fs->lru_tail))
				break;
			lru_unlink(fs, b);
			b->owner->blocks[b->idx] = VT_SEEN; /* read twice: back on its next read */
		}
		uint64_t at = (first + i) * VT_BLOCK, have = vi->vfs.i_size - at;
		memcpy(b->data, src + i * VT_BLOCK, have < VT_BLOCK ? have : VT_BLOCK);
		if (have < VT_BLOCK)
			memset(b->data + have, 0, VT_BLOCK - have);
		b->owner = vi;
		b->idx = first + i;
		vi->blocks[first + i] = b;
		lru_push(fs, b);
	}
	pthread_mutex_unlock(&fs->cache_lock);
}

/* Copies the cached part of block b at in..in+n to out and marks it
 * recently used; false on a miss. */
static bool cache_get(struct vt_fs *fs, struct vt_inode *vi, uint64_t b, size_t in, size_t n, uint8_t *out)
{
	pthread_mutex_lock(&fs->cache_lock);
	struct vt_block *blk = vi->blocks ? vi->blocks[b] : NULL;
	if (blk == VT_SEEN)
		blk = NULL;
	if (blk) {
		memcpy(out, blk->data + in, n);
		if (fs->lru_head != blk) {
			lru_unlink(fs, blk);
			lru_push(fs, blk);
		}
	}
	pthread_mutex_unlock(&fs->cache_lock);
	return blk != NULL;
}

static ssize_t vt_reg_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	struct vt_inode *vi = VT_I(f->f_inode);
	struct vt_fs *fs = VT_FS(f->f_inode->i_fs);
	struct uvfs_verity_verifier *v = atomic_load_explicit(&vi->ver, memory_order_acquire);
	if (!v)
		return vt_plain_read(f, buf, len, off);
	uint64_t size = vi->vfs.i_size; /* immutable: nothing changes a verity file */
	if (off >= size || !len)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	uint64_t nb = (size + VT_BLOCK - 1) / VT_BLOCK;
	/* Not cacheable (too big, or no cache): verify in place. */
	if (nb > VT_MAX_CACHED_BLOCKS || fs->cache_max < VT_BLOCK) {
		ssize_t r = uvfs_verity_read(v, buf, len, off);
		return r == -EIO ? read_failed(f, len, off) : r;
	}
	uint8_t *out = buf, *tmp = NULL;
	uint64_t pos = off, end = off + len;
	while (pos < end) {
		uint64_t b = pos / VT_BLOCK;
		size_t in = (size_t)(pos % VT_BLOCK);
		size_t n = (size_t)(end - pos < VT_BLOCK - in ? end - pos : VT_BLOCK - in);
		if (cache_get(fs, vi, b, in, n, out)) {
			out += n;
			pos += n;
			continue;
		}
		/* A miss: verify a run of blocks from b (the cache fills whole
		 * blocks only with verified bytes). */
		uint64_t e = (end + VT_BLOCK - 1) / VT_BLOCK;
		if (e - b > VT_RUN)
			e = b + VT_RUN;
		size_t rlen = (size_t)((e * VT_BLOCK < size ? e * VT_BLOCK : size) - b * VT_BLOCK);
		/* A run wholly inside the caller's range (aligned reads) is
		 * verified in place, saving a copy. */
		bool direct = pos == b * VT_BLOCK && b * VT_BLOCK + rlen <= end;
		if (!direct && !tmp && !(tmp = malloc(VT_RUN * VT_BLOCK)))
			return -ENOMEM;
		uint8_t *dst = direct ? out : tmp;
		ssize_t r = uvfs_verity_read(v, dst, rlen, b * VT_BLOCK);
		if (r != (ssize_t)rlen) {
			if (direct) /* no unverified bytes left behind, even with the error */
				memset(dst, 0, rlen);
			free(tmp);
			return r == -EIO || r >= 0 ? read_failed(f, len, off) : r;
		}
		cache_fill(fs, vi, b, dst, e - b);
		uint64_t stop = e * VT_BLOCK < end ? e * VT_BLOCK : end;
		if (!direct)
			memcpy(out, tmp + (pos - b * VT_BLOCK), (size_t)(stop - pos));
		out += stop - pos;
		pos = stop;
	}
	free(tmp);
	return (ssize_t)len;
}

UVFS_API int uvfs_verity_file_stats(struct uvfs_file *f, struct uvfs_verity_stats *out)
{
	if (!f || !out || !f->f_inode || f->f_inode->i_fs->type != &uvfs_verity_type || f->f_op != &vt_reg_fops)
		return -EINVAL;
	struct uvfs_verity_verifier *v = atomic_load_explicit(&VT_I(f->f_inode)->ver, memory_order_acquire);
	if (!v)
		return -EINVAL;
	uvfs_verity_get_stats(v, out);
	out->data_cache_bytes = atomic_load(&VT_FS(f->f_inode->i_fs)->cache_used);
	return 0;
}

/* The directory under fs->meta that holds the tree of the file at vi_path
 * ("/DIR/BASE"), made if missing (a tree directory mirrors the lower's
 * directories on demand). *out: references held. */
static int rt_meta_dir(struct vt_fs *fs, const char *vi_path, struct uvfs_vd *out)
{
	struct uvfs *vfs = fs->vfs.vfs;
	struct uvfs_vd cur = fs->meta;
	uvfs_vd_get(&cur);
	const char *p = vi_path + 1, *slash;
	while ((slash = strchr(p, '/'))) {
		char comp[256];
		size_t n = (size_t)(slash - p);
		if (n >= sizeof comp) {
			uvfs_vd_put(&cur);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		struct uvfs_pathop pop = { .root = cur, .start = cur, .path = comp };
		struct uvfs_vd next;
		int err = uvfs_mkdir_at(vfs, &fs->cred, &pop, 0755);
		if (!err || err == -EEXIST)
			err = uvfs_get_dentry_at(vfs, &fs->cred, &pop, 0, &next);
		uvfs_vd_put(&cur);
		if (err)
			return err;
		cur = next;
		p = slash + 1;
	}
	*out = cur;
	return 0;
}

/* Builds and stores the tree of vi (i_lock and open_lock held, no
 * writers), then makes vi a verity file. */
static int rt_build(struct vt_fs *fs, struct vt_inode *vi, const struct uvfs_merkle_params *mp)
{
	struct uvfs *vfs = fs->vfs.vfs;
	struct uvfs_pathop here = { .root = vi->lower, .start = vi->lower, .path = "", .flags = UVFS_PATH_EMPTY };
	struct statx st;
	int err = 0;
	if (!vi->data)
		err = uvfs_open_at(vfs, &fs->cred, &here, O_RDONLY, 0, 0, &vi->data);
	if (err || (err = uvfs_stat_at(vfs, &fs->cred, &here, STATX_BASIC_STATS, &st)))
		return err;
	struct uvfs_merkle_result res;
	if ((err = uvfs_merkle_build(mp, data_read, vi->data, st.stx_size, &res)))
		return err == -EFBIG ? -EFBIG : err;
	uint8_t *buf = malloc(UVFS_VERITY_DESC_SIZE + res.tree_size);
	const char *base = strrchr(vi->path, '/') + 1;
	char tname[256];
	struct uvfs_vd dir = { 0 };
	if (!buf)
		err = -ENOMEM;
	else if (!(err = vl_tree_name(tname, base, strlen(base))) && !(err = rt_meta_dir(fs, vi->path, &dir))) {
		memcpy(buf, res.descriptor, UVFS_VERITY_DESC_SIZE);
		if (res.tree_size)
			memcpy(buf + UVFS_VERITY_DESC_SIZE, res.tree, res.tree_size);
		struct uvfs_pathop tp = { .root = dir, .start = dir, .path = tname };
		err = vl_write_all(vfs, &fs->cred, &dir, tname, buf, UVFS_VERITY_DESC_SIZE + res.tree_size);
		if (!err)
			err = uvfs_open_at(vfs, &fs->cred, &tp, O_RDONLY | O_NOFOLLOW, 0, 0, &vi->tree);
		if (err) /* no half-written tree left to fail later lookups */
			uvfs_unlink_at(vfs, &fs->cred, &tp);
		uvfs_vd_put(&dir);
	}
	free(buf);
	if (!err) {
		memcpy(vi->desc, res.descriptor, UVFS_VERITY_DESC_SIZE);
		memcpy(vi->digest, res.digest, res.digest_size);
		vi->alg = res.hash_alg;
		vi->digest_size = res.digest_size;
		vi->has_tree = true;
		if (st.stx_size != vi->vfs.i_size) { /* changed under us on the lower */
			uvfs_inode_attr_begin(&vi->vfs);
			vi->vfs.i_size = st.stx_size;
			uvfs_inode_attr_end(&vi->vfs);
		}
		if ((err = make_verifier(fs, vi))) {
			vi->has_tree = false;
			uvfs_file_put(vi->tree);
			vi->tree = NULL;
		}
	}
	uvfs_merkle_result_free(&res);
	return err;
}

#define VT_MAX_SIG_SIZE 16128 /* Linux FS_VERITY_MAX_SIGNATURE_SIZE */

/* FS_IOC_ENABLE_VERITY, with Linux's checks in Linux's order
 * (fsverity_ioctl_enable, then enable_verity). */
static int vt_enable(struct uvfs_file *f, const struct fsverity_enable_arg *a)
{
	struct uvfs_inode *inode = f->f_inode;
	struct vt_inode *vi = VT_I(inode);
	struct vt_fs *fs = VT_FS(inode->i_fs);
	if (!a)
		return -EFAULT;
	if (a->version != 1)
		return -EINVAL;
	bool reserved = a->__reserved1;
	for (size_t i = 0; i < sizeof a->__reserved2 / sizeof a->__reserved2[0]; i++)
		reserved |= a->__reserved2[i] != 0;
	if (reserved || !a->block_size || (a->block_size & (a->block_size - 1)))
		return -EINVAL;
	if (a->salt_size > UVFS_VERITY_MAX_SALT || a->sig_size > VT_MAX_SIG_SIZE)
		return -EMSGSIZE;
	/* A sealed fs is read-only as a whole: Linux's sb_permission answers
	 * EROFS to MAY_WRITE before the mode bits are looked at. */
	if (!fs->runtime && (S_ISREG(inode->i_mode) || S_ISDIR(inode->i_mode)))
		return -EROFS;
	int err = uvfs_generic_permission(inode, &f->f_cred, UVFS_MAY_WRITE, 0);
	if (err)
		return err;
	if ((f->f_flags & O_ACCMODE) == O_WRONLY)
		return -EBADF; /* the tree is built by reading through this file */
	if (S_ISDIR(inode->i_mode))
		return -EISDIR;
	if (!S_ISREG(inode->i_mode))
		return -EINVAL;
	/* A sealed mount is read-only whatever its flags (mnt_want_write). */
	if (!fs->runtime || uvfs_mount_readonly(f->f_vd.mount))
		return -EROFS;
	if ((a->salt_size && !a->salt_ptr) || (a->sig_size && !a->sig_ptr))
		return -EFAULT;
	uvfs_lock_acquire(&inode->i_lock);
	pthread_mutex_lock(&vi->open_lock);
	struct uvfs_merkle_params mp = { .hash_alg = a->hash_algorithm, .block_size = a->block_size,
					 .salt = (const uint8_t *)(uintptr_t)a->salt_ptr, .salt_size = a->salt_size };
	if (vi->writers)
		err = -ETXTBSY; /* deny_write_access */
	else if (!uvfs_verity_digest_size(a->hash_algorithm) || a->block_size < 1024 || a->block_size > 4096)
		err = -EINVAL; /* Linux: 1 KiB up to the page size */
	else if (vi->has_tree)
		err = -EEXIST;
	else if (a->sig_size)
		err = -EOPNOTSUPP; /* no builtin signatures (README) */
	else
		err = rt_build(fs, vi, &mp);
	pthread_mutex_unlock(&vi->open_lock);
	uvfs_lock_release(&inode->i_lock);
	return err;
}

/* The fs-verity ioctls (Linux fs/verity/). A verity file (every regular
 * file of a sealed tree; on a runtime-enable mount, one with a tree) has
 * MEASURE give its digest and GETFLAGS show FS_VERITY_FL; other files give
 * ENODATA and no flag. ENABLE: vt_enable (EROFS on a sealed mount). */
static long vt_ioctl(struct uvfs_file *f, unsigned long cmd, void *arg)
{
	bool reg = S_ISREG(f->f_inode->i_mode);
	struct vt_inode *vi = VT_I(f->f_inode);
	/* An open regular file is verity exactly when its verifier is set
	 * (made at open, or by enable). */
	bool verity = reg && atomic_load_explicit(&vi->ver, memory_order_acquire);
	switch (cmd) {
	case FS_IOC_GETFLAGS:
		if (!arg)
			return -EFAULT;
		*(int *)arg = verity ? FS_VERITY_FL : 0;
		return 0;
	case FS_IOC_MEASURE_VERITY: {
		struct fsverity_digest *d = arg;
		if (!d)
			return -EFAULT;
		if (!verity)
			return -ENODATA;
		/* As fsverity_ioctl_measure: the size needed is written back
		 * even when the caller's buffer is too small. */
		uint16_t room = d->digest_size;
		d->digest_algorithm = (uint16_t)vi->alg;
		d->digest_size = (uint16_t)vi->digest_size;
		if (room < vi->digest_size)
			return -EOVERFLOW;
		memcpy(d->digest, vi->digest, vi->digest_size);
		return 0;
	}
	case FS_IOC_ENABLE_VERITY:
		return vt_enable(f, arg);
	}
	return -ENOTTY;
}

static int vt_other_open(struct uvfs_inode *inode, struct uvfs_file *f) { return vt_check_open(f); }

/* A directory's verified listing for one open file (f_private): the lower
 * inode numbers of the manifest's entries, in manifest order. */
struct vt_list {
	uint32_t n;
	uint64_t ino[];
};

struct lower_names {
	struct vm_entry *e; /* name and ino (in size) only */
	uint32_t n, cap;
	int err;
	bool any_len; /* runtime mounts: names of any length (no manifest to fit) */
};

static int collect_lower(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next)
{
	struct lower_names *ln = arg;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.') || vm_is_hidden(name, len))
		return 0;
	if (ln->n == ln->cap) {
		uint32_t cap = ln->cap ? ln->cap * 2 : 32;
		struct vm_entry *e = cap > 2 * VM_ENTRY_MAX ? NULL : realloc(ln->e, cap * sizeof(*e));
		if (!e) {
			ln->err = -ENOMEM;
			return 1;
		}
		ln->e = e;
		ln->cap = cap;
	}
	char *copy = len <= VM_NAME_MAX || ln->any_len ? strndup(name, len) : NULL;
	if (!copy) {
		ln->err = len > VM_NAME_MAX ? -ENAMETOOLONG : -ENOMEM;
		return 1;
	}
	ln->e[ln->n++] = (struct vm_entry){ .name = copy, .name_len = (uint16_t)len, .size = ino, .mode = dtype };
	return 0;
}

static int vt_build_list(struct vt_fs *fs, struct vt_inode *vi, struct vt_list **out)
{
	struct uvfs_pathop here = { .root = vi->lower, .start = vi->lower, .path = "", .flags = UVFS_PATH_EMPTY };
	struct lower_names ln = { 0 };
	struct uvfs_file *df;
	int err = uvfs_open_at(fs->vfs.vfs, &fs->cred, &here, O_RDONLY | O_DIRECTORY, 0, 0, &df);
	if (err)
		return err;
	err = uvfs_iterate_dir(df, collect_lower, &ln);
	uvfs_file_put(df);
	if (!err)
		err = ln.err;
	if (err == -ENAMETOOLONG)
		err = violation(fs, vi->path, "lower listing has a name no manifest can hold");
	if (!err && (vm_sort(ln.e, ln.n) || ln.n != vi->man.n))
		err = violation(fs, vi->path, "lower listing differs from the manifest");
	for (uint32_t i = 0; !err && i < ln.n; i++)
		if (vm_name_cmp(ln.e[i].name, ln.e[i].name_len, vi->man.e[i].name, vi->man.e[i].name_len))
			err = violation(fs, vi->path, "lower listing differs from the manifest");
	struct vt_list *l = err ? NULL : malloc(sizeof(*l) + ln.n * sizeof(uint64_t));
	if (!err && !l)
		err = -ENOMEM;
	if (!err) {
		l->n = ln.n;
		for (uint32_t i = 0; i < ln.n; i++)
			l->ino[i] = ln.e[i].size;
		*out = l;
	}
	for (uint32_t i = 0; i < ln.n; i++)
		free((char *)ln.e[i].name);
	free(ln.e);
	return err;
}

static void free_names(struct lower_names *ln)
{
	for (uint32_t i = 0; ln && i < ln->n; i++)
		free((char *)ln->e[i].name);
	if (ln)
		free(ln->e);
	free(ln);
}

/* Runtime mounts: the lower's listing minus the hidden names, as it is
 * when the directory is read from the start (f_private). */
static int rt_iterate(struct uvfs_file *f, struct uvfs_dir_ctx *ctx)
{
	struct vt_inode *vi = VT_I(f->f_inode);
	struct vt_fs *fs = VT_FS(f->f_inode->i_fs);
	struct lower_names *ln = f->f_private; /* under f_lock, held by the VFS here */
	if (!ln || ctx->pos == 0) {
		free_names(ln);
		f->f_private = NULL;
		struct uvfs_pathop here = { .root = vi->lower, .start = vi->lower, .path = "", .flags = UVFS_PATH_EMPTY };
		struct uvfs_file *df;
		if (!(ln = calloc(1, sizeof(*ln))))
			return -ENOMEM;
		ln->any_len = true;
		int err = uvfs_open_at(fs->vfs.vfs, &fs->cred, &here, O_RDONLY | O_DIRECTORY, 0, 0, &df);
		if (!err) {
			err = uvfs_iterate_dir(df, collect_lower, ln);
			uvfs_file_put(df);
		}
		if (!err)
			err = ln->err;
		if (err) {
			free_names(ln);
			return err;
		}
		f->f_private = ln;
	}
	if (uvfs_dir_emit_dots(f, ctx))
		return 0;
	for (uint64_t i = (uint64_t)ctx->pos - 2; i < ln->n; i++) {
		const struct vm_entry *e = &ln->e[i];
		if (ctx->emit(ctx, e->name, e->name_len, e->size, e->mode, (int64_t)i + 3))
			return 0;
		ctx->pos = (int64_t)i + 3;
	}
	return 0;
}

static int vt_iterate(struct uvfs_file *f, struct uvfs_dir_ctx *ctx)
{
	if (VT_FS(f->f_inode->i_fs)->runtime)
		return rt_iterate(f, ctx);
	struct vt_inode *vi = VT_I(f->f_inode);
	struct vt_list *l = f->f_private; /* under f_lock, held by the VFS here */
	if (!l) {
		int err = vt_build_list(VT_FS(f->f_inode->i_fs), vi, &l);
		if (err)
			return err;
		f->f_private = l;
	}
	if (uvfs_dir_emit_dots(f, ctx))
		return 0;
	for (uint64_t i = (uint64_t)ctx->pos - 2; i < l->n; i++) {
		const struct vm_entry *e = &vi->man.e[i];
		if (ctx->emit(ctx, e->name, e->name_len, l->ino[i], (e->mode & S_IFMT) >> 12, (int64_t)i + 3))
			return 0;
		ctx->pos = (int64_t)i + 3;
	}
	return 0;
}

static int vt_dir_open(struct uvfs_inode *inode, struct uvfs_file *f) { return vt_check_open(f); }
static void vt_dir_release(struct uvfs_file *f)
{
	if (VT_FS(f->f_inode->i_fs)->runtime)
		free_names(f->f_private);
	else
		free(f->f_private);
}

static const struct uvfs_inode_ops vt_dir_iops = {
	.lookup = vt_lookup, .create = vt_erofs_create, .mkdir = vt_erofs_mkdir, .symlink = vt_erofs_symlink,
	.link = vt_erofs_link, .unlink = vt_erofs_unlink, .rmdir = vt_erofs_unlink, .rename = vt_erofs_rename,
	.setattr = vt_setattr, .setxattr = vt_setxattr, .removexattr = vt_removexattr,
};
static const struct uvfs_inode_ops vt_other_iops = {
	.setattr = vt_setattr, .setxattr = vt_setxattr, .removexattr = vt_removexattr,
};
static const struct uvfs_file_ops vt_dir_fops = { .open = vt_dir_open, .release = vt_dir_release,
						  .iterate = vt_iterate, .ioctl = vt_ioctl };
static const struct uvfs_file_ops vt_reg_fops = { .open = vt_reg_open, .release = vt_reg_release, .read = vt_reg_read,
						  .write = vt_reg_write, .ioctl = vt_ioctl };
static const struct uvfs_file_ops vt_other_fops = { .open = vt_other_open };

/* ----------------------------------------------------------- filesystem */

static void vt_release(struct uvfs_filesystem *fs)
{
	struct vt_fs *v = VT_FS(fs);
	uvfs_vd_put(&v->lower);
	uvfs_vd_put(&v->meta);
	pthread_mutex_destroy(&v->cache_lock); /* every inode is gone: the LRU is empty */
	for (struct vt_slab *sl = v->slabs, *next; sl; sl = next) {
		next = sl->next;
		pool_put(v->pool, sl);
	}
	free(v);
}

static int vt_show_options(struct uvfs_filesystem *fs, char *buf, size_t len)
{
	struct vt_fs *v = VT_FS(fs);
	char hex[65];
	uvfs_verity_hash_hex(v->root_hash, hex);
	int n = snprintf(buf, len, "root_hash=%s,action=%s", v->runtime ? "" : hex,
			 v->action == UVFS_VERITY_ACTION_PANIC ? "panic" : "error");
	return n < 0 || (size_t)n >= len ? -ERANGE : 0;
}

static const struct uvfs_fs_ops vt_fs_ops = {
	.release = vt_release, .evict_inode = vt_evict_inode, .free_inode = vt_free_inode,
	.show_options = vt_show_options,
};

static int parse_hex(const char *s, uint8_t out[UVFS_VERITY_ROOT_HASH_SIZE])
{
	if (strlen(s) != 2 * UVFS_VERITY_ROOT_HASH_SIZE)
		return -EINVAL;
	for (int i = 0; i < 2 * UVFS_VERITY_ROOT_HASH_SIZE; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0)
			return -EINVAL;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] << 4 | v : v);
	}
	return 0;
}

static int parse_options(struct uvfs *vfs, const struct uvfs_fs_opts *opts, struct vt_fs *v)
{
	const struct uvfs_verity_mount *m = opts ? opts->internal : NULL;
	struct uvfs_opts o;
	bool have = false;
	if (!m || !uvfs_vd_ok(&m->lower)) {
		uvfs_log(UVFS_LOG_WARN, "verity: needs internal mount data naming the lower directory");
		return -EINVAL;
	}
	if (m->root_hash) {
		memcpy(v->root_hash, m->root_hash, UVFS_VERITY_ROOT_HASH_SIZE);
		have = true;
	}
	v->action = m->action;
	int err = uvfs_opts_parse(&o, opts->data);
	if (err)
		return err;
	const char *rh = uvfs_opts_take(&o, "root_hash");
	const char *act = uvfs_opts_take(&o, "action");
	const char *td = uvfs_opts_take(&o, "tree_dir");
	(void)uvfs_opts_take(&o, "root_name"); /* the seed's boot form passes it; our log lines name "/" */
	bool have_cache;
	v->cache_max = VT_DEFAULT_CACHE;
	if (!err)
		err = uvfs_opts_take_size(&o, "data_cache", 0, &v->cache_max, &have_cache);
	if (!err && rh && *rh) { /* root_hash= empty: the seed's "no hash" */
		if (parse_hex(rh, v->root_hash)) {
			uvfs_log(UVFS_LOG_WARN, "verity: root_hash must be 64 hex digits");
			err = -EINVAL;
		}
		have = true;
	}
	if (!err && act) {
		if (!strcmp(act, "error"))
			v->action = UVFS_VERITY_ACTION_ERROR;
		else if (!strcmp(act, "panic"))
			v->action = UVFS_VERITY_ACTION_PANIC;
		else {
			uvfs_log(UVFS_LOG_WARN, "verity: action must be error or panic");
			err = -EINVAL;
		}
	}
	if (!err && td && uvfs_vd_ok(&m->tree_dir)) {
		uvfs_log(UVFS_LOG_WARN, "verity: tree_dir given twice (option and internal data)");
		err = -EINVAL;
	}
	if (!err && td) {
		/* From the root of the lower's mount (the only namespace an
		 * option string can name for an internal mount). */
		struct uvfs_vd r = { m->lower.mount, uvfs_mount_root(m->lower.mount) };
		struct uvfs_pathop pop = { .root = r, .start = r, .path = td, .flags = UVFS_PATH_FOLLOW };
		if (!*td)
			err = -EINVAL;
		else if ((err = uvfs_get_dentry_at(vfs, &v->cred, &pop, 0, &v->meta)))
			uvfs_log(UVFS_LOG_WARN, "verity: tree_dir=%s: %d", td, err);
	} else if (!err && uvfs_vd_ok(&m->tree_dir)) {
		v->meta = m->tree_dir;
		uvfs_vd_get(&v->meta);
	}
	if (!err)
		err = uvfs_opts_check_unused(&o, "verity");
	uvfs_opts_free(&o);
	v->runtime = !have;
	if (!err && v->action != UVFS_VERITY_ACTION_ERROR && v->action != UVFS_VERITY_ACTION_PANIC)
		err = -EINVAL;
	return err;
}

static int vt_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		     const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	struct vt_fs *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	uvfs_cred_init_root(&v->cred);
	int err = parse_options(vfs, opts, v);
	if (!err && uvfs_vd_ok(&v->meta)) {
		/* A tree directory must be a directory. */
		struct uvfs_pathop mp = { .root = v->meta, .start = v->meta, .path = "", .flags = UVFS_PATH_EMPTY };
		struct statx mst;
		if (!(err = uvfs_stat_at(vfs, &v->cred, &mp, STATX_TYPE, &mst)) && !S_ISDIR(mst.stx_mode))
			err = -ENOTDIR;
	}
	if (err) {
		if (uvfs_vd_ok(&v->meta))
			uvfs_vd_put(&v->meta);
		free(v);
		return err;
	}
	const struct uvfs_verity_mount *m = opts->internal;
	v->pool = pool_of(vfs);
	pthread_mutex_init(&v->cache_lock, NULL);
	if ((err = uvfs_fs_init(&v->vfs, vfs, &uvfs_verity_type, &vt_fs_ops))) {
		if (uvfs_vd_ok(&v->meta))
			uvfs_vd_put(&v->meta);
		pthread_mutex_destroy(&v->cache_lock);
		free(v);
		return err;
	}
	v->lower = m->lower;
	uvfs_vd_get(&v->lower);
	if (!uvfs_vd_ok(&v->meta)) { /* trees beside the files */
		v->meta = v->lower;
		uvfs_vd_get(&v->meta);
	}

	struct uvfs_pathop here = { .root = v->lower, .start = v->lower, .path = "", .flags = UVFS_PATH_EMPTY };
	struct statx st;
	struct vt_inode *root = NULL;
	if ((err = uvfs_stat_at(vfs, &v->cred, &here, STATX_BASIC_STATS, &st)))
		goto fail;
	if (!S_ISDIR(st.stx_mode)) {
		err = -ENOTDIR;
		goto fail;
	}
	if (!(root = vt_new_inode(v, &st, st.stx_mode, st.stx_uid, st.stx_gid, 0))) {
		err = -ENOMEM;
		goto fail;
	}
	root->lower = v->lower;
	uvfs_vd_get(&root->lower);
	root->meta = v->meta;
	uvfs_vd_get(&root->meta);
	if (!(root->path = strdup("/"))) {
		err = -ENOMEM;
		goto fail;
	}
	if (v->runtime)
		goto made;
	/* A wrong root hash (or a tampered root manifest) fails the mount. */
	if ((err = load_manifest(v, &v->meta, "/", v->root_hash, &root->man))) {
		if (err == -EIO)
			uvfs_log(UVFS_LOG_ERROR, "verity: the root hash does not match the lower tree");
		goto fail;
	}
	if (root->man.mode != st.stx_mode || root->man.uid != st.stx_uid || root->man.gid != st.stx_gid) {
		err = violation(v, "/", "root directory attributes differ from its manifest");
		goto fail;
	}
made:
	if ((err = uvfs_d_make_root(&v->vfs, &root->vfs, &v->vfs.root)))
		goto fail;
	*out = &v->vfs;
	return 0;
fail:
	if (root) {
		/* free_inode runs after a grace period and needs the fs: wait
		 * for it before freeing the fs (as tmpfs does). */
		uvfs_inode_put(&root->vfs);
		uvfs_rcu_barrier();
	}
	uvfs_vd_put(&v->lower);
	uvfs_vd_put(&v->meta);
	uvfs_fs_abort(&v->vfs);
	pthread_mutex_destroy(&v->cache_lock);
	free(v);
	return err;
}

UVFS_API const struct uvfs_fs_type uvfs_verity_type = { .name = "verity", .flags = UVFS_FST_RCU_WALK,
							.get_fs = vt_get_fs };

UVFS_API int uvfs_verity_mount_internal(struct uvfs *vfs, const struct uvfs_cred *cred, struct uvfs_mount *lower,
					const char *data, int action, unsigned flags, struct uvfs_mount **out)
{
	if (!vfs || !cred || !lower || !out)
		return -EINVAL;
	struct uvfs_verity_mount vm = { .lower = { lower, uvfs_mount_root(lower) }, .action = action };
	/* The flags are the wrapped mount's, kept (the seed replaced the
	 * whole mount options with verity's and lost them). */
	struct uvfs_mount_opts mo = { .flags = flags, .data = data, .internal = &vm, .internal_mount = true };
	return uvfs_mount_disconnected(vfs, cred, "verity", "verity", &mo, out);
}
