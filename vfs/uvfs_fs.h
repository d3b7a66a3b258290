/* uvfs_fs.h — the interface between the VFS core and filesystem
 * implementations (fsimpl/<fs>/). Filesystems embed struct uvfs_filesystem
 * and struct uvfs_inode as the FIRST member of their own structs and recover
 * them with container_of; they fill const ops tables with designated
 * initializers. NULL ops mean "generic behaviour" or "not supported" as
 * documented per op.
 *
 * The VFS owns the dentry cache (dcache). A filesystem whose type sets
 * UVFS_FST_DCACHE_COMPLETE (tmpfs) keeps every entry in the dcache, pinned:
 * a cache miss means the name does not exist and no lookup op is needed.
 * Others implement lookup and get called on misses.
 *
 * Locking summary (details in vfs/LOCKING.md):
 *  - dir->i_lock is held (by the VFS) across every directory op on dir:
 *    lookup, create, mkdir, symlink, link, unlink, rmdir, rename (both dirs).
 *  - A non-directory's i_lock is held across setattr, truncate, xattr ops and
 *    write/truncate through the file ops (the fs may take it itself for
 *    read if it needs to).
 *  - Attribute fields of struct uvfs_inode are written only with i_lock held
 *    and inside uvfs_inode_attr_begin/end, so RCU-walk stat can read them
 *    locklessly.
 */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <urcu/urcu-memb.h>

#include "uvfs.h"

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

/* ------------------------------------------------------------ tiny lock */

/* A 4-byte sleeping mutex (futex based), used for i_lock and d_lock so that
 * per-object locks cost 4 bytes instead of pthread_mutex_t's 40. */
struct uvfs_lock {
	_Atomic uint32_t v; /* 0 unlocked, 1 locked, 2 locked with waiters */
};
#define UVFS_LOCK_INIT { 0 }
UVFS_API void uvfs_lock_acquire(struct uvfs_lock *l);
UVFS_API void uvfs_lock_release(struct uvfs_lock *l);
UVFS_API bool uvfs_lock_try(struct uvfs_lock *l);
static inline bool uvfs_lock_held(struct uvfs_lock *l) { return atomic_load_explicit(&l->v, memory_order_relaxed) != 0; }

/* ------------------------------------------------------------- seqcount */

typedef struct {
	_Atomic uint32_t seq;
} uvfs_seq_t;

/* ThreadSanitizer does not model standalone fences (gcc refuses them under
 * -fsanitize=thread), so TSan builds use acq_rel read-modify-writes, which
 * order the same way on x86 and which TSan understands. */
#if defined(__SANITIZE_THREAD__)
#define UVFS_TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UVFS_TSAN_BUILD 1
#endif
#endif

static inline uint32_t uvfs_seq_read_begin(uvfs_seq_t *s)
{
	uint32_t v;
	while ((v = atomic_load_explicit(&s->seq, memory_order_acquire)) & 1)
		__builtin_ia32_pause();
	return v;
}
static inline bool uvfs_seq_read_retry(uvfs_seq_t *s, uint32_t start)
{
#ifdef UVFS_TSAN_BUILD
	return atomic_fetch_add_explicit(&s->seq, 0, memory_order_acq_rel) != start;
#else
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&s->seq, memory_order_relaxed) != start;
#endif
}
/* Writers are serialised by the caller (a lock). */
static inline void uvfs_seq_write_begin(uvfs_seq_t *s)
{
#ifdef UVFS_TSAN_BUILD
	atomic_fetch_add_explicit(&s->seq, 1, memory_order_acq_rel);
#else
	atomic_store_explicit(&s->seq, atomic_load_explicit(&s->seq, memory_order_relaxed) + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
#endif
}
static inline void uvfs_seq_write_end(uvfs_seq_t *s)
{
	atomic_store_explicit(&s->seq, atomic_load_explicit(&s->seq, memory_order_relaxed) + 1, memory_order_release);
}

/* ---------------------------------------------------------- filesystems */

struct uvfs_fs_opts {
	const char *data; /* option string from the mount; may be NULL */
	const void *internal; /* typed data from an internal mount; may be NULL */
};

/* Type flags (properties of the implementation, not of the registration). */
#define UVFS_FST_RCU_WALK 0x1 /* lookups may run lockless (dcache + i_link + generic getattr) */
#define UVFS_FST_DCACHE_COMPLETE 0x2 /* the dcache holds every entry; misses are ENOENT */

struct uvfs_fs_type {
	const char *name;
	unsigned flags; /* UVFS_FST_* */
	/* Create a filesystem. On success *out holds one reference and
	 * (*out)->root is set (the fs holds that root reference until release).
	 * Unknown option keys must give -EINVAL and log the key. */
	int (*get_fs)(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		      const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out);
};

struct uvfs_inode;
struct uvfs_dentry;
struct uvfs_file;

struct uvfs_fs_ops {
	/* Last reference gone, every dentry and inode already released: free
	 * the fs (the VFS has already dropped root). Required. */
	void (*release)(struct uvfs_filesystem *fs);
	/* Last reference to an inode: free its data (pages, xattrs). The
	 * memory of the inode itself is freed by free_inode after an RCU grace
	 * period. May be NULL. */
	void (*evict_inode)(struct uvfs_inode *inode);
	/* Free the struct containing the inode (called from an RCU callback). Required. */
	void (*free_inode)(struct uvfs_inode *inode);
	/* NULL → zeroed statfs with f_type 0. */
	int (*statfs)(struct uvfs_filesystem *fs, struct statfs *out);
	/* Option string as shown in /proc/mounts: 0, or -ERANGE when buf is
	 * too small. NULL → "". */
	int (*show_options)(struct uvfs_filesystem *fs, char *buf, size_t len);
};

/* Embedded first in each filesystem's private struct. */
struct uvfs_filesystem {
	struct uvfs *vfs; /* immutable */
	const struct uvfs_fs_type *type; /* immutable */
	const struct uvfs_fs_ops *ops; /* immutable */
	struct uvfs_dentry *root; /* immutable after get_fs; the fs holds a reference */
	dev_t dev; /* immutable; makedev(0, anon minor) unless the fs sets another */
	unsigned flags; /* immutable: copy of type->flags, may be narrowed by the fs */
	atomic_long refs; /* mounts + transient holders */
	/* Serialises renames on this fs (Linux s_vfs_rename_mutex): keeps
	 * d_parent of its dentries, and so the ancestor checks, stable. Per
	 * fs so that a stacking fs's ->rename can rename on its layers. */
	struct uvfs_lock rename_lock;
};

/* Initialise the embedded struct: takes an anon minor (-EMFILE when none).
 * refs starts at 1. */
UVFS_API int uvfs_fs_init(struct uvfs_filesystem *fs, struct uvfs *vfs, const struct uvfs_fs_type *type,
			  const struct uvfs_fs_ops *ops);
/* Undo uvfs_fs_init when get_fs fails before returning the fs: drops the
 * root dentry if one was made and the anon minor. It does not call
 * ops->release; the fs frees its own struct. */
UVFS_API void uvfs_fs_abort(struct uvfs_filesystem *fs);
UVFS_API void uvfs_fs_get(struct uvfs_filesystem *fs);
UVFS_API void uvfs_fs_put(struct uvfs_filesystem *fs);

/* ---------------------------------------------------------------- inodes */

/* Directory iteration context handed to file ops ->iterate. */
struct uvfs_dir_ctx {
	/* Returns 0 to continue; nonzero means stop (entry not consumed). */
	int (*emit)(struct uvfs_dir_ctx *ctx, const char *name, size_t len, uint64_t ino, unsigned dtype,
		    int64_t next_off);
	int64_t pos; /* current offset: the fs starts from here */
};

struct uvfs_setattr;

struct uvfs_inode_ops {
	/* Non-complete filesystems: fill the negative dentry d (name
	 * uvfs_dentry_name(d)) with uvfs_d_instantiate, or leave it negative
	 * for ENOENT. Return 0 or -errno. dir->i_lock held. */
	int (*lookup)(struct uvfs_inode *dir, struct uvfs_dentry *d);
	/* Create a non-directory, non-symlink node (S_IFREG, S_IFIFO, S_IFSOCK,
	 * S_IFCHR, S_IFBLK in mode) at negative dentry d and instantiate it.
	 * The VFS has checked permissions; uid/gid come from cred (fsuid, and
	 * fsgid or the setgid directory's gid: see uvfs_inode_init_owner). */
	int (*create)(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
		      dev_t rdev);
	/* flags: UVFS_MKDIR_SYNTHETIC when the directory is made only to
	 * mount something on (gVisor MkdirOptions.ForSyntheticMountpoint: a
	 * remote fs may make it locally instead of on the server). */
	int (*mkdir)(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
		     unsigned flags);
	int (*symlink)(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred,
		       const char *target);
	/* Hard link of old's inode at negative dentry d. */
	int (*link)(struct uvfs_dentry *old, struct uvfs_inode *dir, struct uvfs_dentry *d);
	/* Remove non-directory d (fs drops nlink, updates times). The VFS
	 * unhashes d afterwards. */
	int (*unlink)(struct uvfs_inode *dir, struct uvfs_dentry *d);
	/* Remove directory d; the fs returns -ENOTEMPTY if it has entries.
	 * d's inode i_lock is held too. */
	int (*rmdir)(struct uvfs_inode *dir, struct uvfs_dentry *d);
	/* Rename od (in odir) to nd (in ndir). nd may be positive (replace;
	 * the VFS has checked types and held nd's inode lock; the fs checks
	 * emptiness of a replaced directory) unless RENAME_EXCHANGE, which
	 * swaps. The VFS moves the dentries afterwards. fs->rename_lock is
	 * held. With RENAME_WHITEOUT, whiteout is a negative dentry for od's
	 * name in odir: the fs must, only if the rename succeeds, instantiate
	 * it with a whiteout (char 0:0, mode 0, owned by cred) made in the
	 * same step; a fs that cannot returns -EINVAL (whiteout is NULL
	 * otherwise). Unknown flags: -EINVAL. */
	int (*rename)(struct uvfs_inode *odir, struct uvfs_dentry *od, struct uvfs_inode *ndir,
		      struct uvfs_dentry *nd, unsigned flags, const struct uvfs_cred *cred,
		      struct uvfs_dentry *whiteout);
	/* NULL → inode->i_link is copied. */
	ssize_t (*readlink)(struct uvfs_dentry *d, char *buf, size_t len);
	/* NULL → generic: attributes from the inode. */
	int (*getattr)(struct uvfs_dentry *d, unsigned mask, struct statx *out);
	/* Apply attr (already permission-checked by the VFS; setuid/setgid
	 * clearing already folded into attr->mode). NULL → generic: SIZE goes
	 * to ->truncate (-EINVAL if none), the rest to the inode fields.
	 * file is the open file when the change came through one (ftruncate,
	 * fchmod, fchown, futimens, O_TRUNC: Linux ATTR_FILE), so a remote fs
	 * can use its open handle; NULL for path calls. i_lock held. */
	int (*setattr)(struct uvfs_dentry *d, const struct uvfs_setattr *attr, struct uvfs_file *file);
	/* Change the size of a regular file (i_lock held). Must update i_size
	 * (inside an attr write section) and i_blocks. */
	int (*truncate)(struct uvfs_inode *inode, uint64_t size);
	/* Xattrs; the VFS has checked namespace permissions. i_lock held. */
	ssize_t (*getxattr)(struct uvfs_inode *inode, const char *name, void *buf, size_t len);
	int (*setxattr)(struct uvfs_inode *inode, const char *name, const void *val, size_t len, int flags);
	ssize_t (*listxattr)(struct uvfs_inode *inode, char *buf, size_t len);
	int (*removexattr)(struct uvfs_inode *inode, const char *name);
};

struct uvfs_file_ops {
	/* Called when a file is opened (never for O_PATH); f->f_inode is
	 * set. O_TRUNC is applied after it. May be NULL. */
	int (*open)(struct uvfs_inode *inode, struct uvfs_file *f);
	/* Last reference to a file whose ->open succeeded (or that has no
	 * ->open); never for O_PATH files. May be NULL. */
	void (*release)(struct uvfs_file *f);
	/* Positional I/O. read returns 0 at EOF. write with O_APPEND in
	 * f_flags must write at the end and store the resulting end offset in
	 * *off; otherwise at *off, advancing it. The fs takes whatever locks
	 * it needs. NULL → -EINVAL. */
	ssize_t (*read)(struct uvfs_file *f, void *buf, size_t len, uint64_t off);
	ssize_t (*write)(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off);
	/* Directory iteration from ctx->pos, including "." and ".." (see
	 * uvfs_dir_emit_dots). NULL → -ENOTDIR. */
	int (*iterate)(struct uvfs_file *f, struct uvfs_dir_ctx *ctx);
	/* NULL → generic (SEEK_SET/CUR/END on i_size). */
	int64_t (*llseek)(struct uvfs_file *f, int64_t off, int whence);
	/* NULL → 0. */
	int (*fsync)(struct uvfs_file *f, bool datasync);
};

/* Embedded first in each filesystem's inode struct. */
struct uvfs_inode {
	/* Immutable after uvfs_inode_init. */
	struct uvfs_filesystem *i_fs;
	const struct uvfs_inode_ops *i_op;
	const struct uvfs_file_ops *i_fop;
	uint64_t i_ino;
	/* Symlink target; set before the inode is published, then immutable.
	 * The RCU walk follows it without locks. NULL → use ->readlink. */
	const char *i_link;
	/* Attributes: written with i_lock held inside uvfs_inode_attr_begin/
	 * end (i_seq odd); read locklessly through i_seq. i_mode's file type
	 * bits never change. */
	uvfs_seq_t i_seq;
	uint32_t i_mode;
	uint32_t i_uid, i_gid;
	uint32_t i_nlink;
	uint64_t i_size;
	uint64_t i_blocks; /* 512-byte units */
	dev_t i_rdev;
	struct timespec i_atime, i_mtime, i_ctime, i_btime;
	struct uvfs_lock i_lock; /* see the top of this file */
	atomic_long i_count; /* each dentry pointing here, plus transient holders */
	struct rcu_head i_rcu;
};

UVFS_API void uvfs_inode_init(struct uvfs_inode *inode, struct uvfs_filesystem *fs, const struct uvfs_inode_ops *iop,
			      const struct uvfs_file_ops *fop, uint64_t ino, mode_t mode);
/* Owner of a new inode created by cred in dir: uid = fsuid; gid = fsgid, or
 * dir's gid if dir is setgid (then new directories inherit S_ISGID too).
 * Adjusts *mode accordingly. Caller is inside an attr write section or the
 * inode is not yet published. */
UVFS_API void uvfs_inode_init_owner(struct uvfs_inode *inode, const struct uvfs_inode *dir,
				    const struct uvfs_cred *cred, mode_t *mode);
UVFS_API void uvfs_inode_get(struct uvfs_inode *inode);
UVFS_API void uvfs_inode_put(struct uvfs_inode *inode);
static inline void uvfs_inode_attr_begin(struct uvfs_inode *i) { uvfs_seq_write_begin(&i->i_seq); }
static inline void uvfs_inode_attr_end(struct uvfs_inode *i) { uvfs_seq_write_end(&i->i_seq); }
/* Current time (CLOCK_REALTIME). */
UVFS_API struct timespec uvfs_now(void);
/* Fill out from the inode's attributes (generic getattr). */
UVFS_API void uvfs_inode_fill_statx(struct uvfs_inode *inode, struct statx *out);

/* --------------------------------------------------------------- dentries */

UVFS_API const char *uvfs_dentry_name(const struct uvfs_dentry *d, size_t *len);
UVFS_API struct uvfs_inode *uvfs_dentry_inode(const struct uvfs_dentry *d);
UVFS_API struct uvfs_dentry *uvfs_dentry_parent(const struct uvfs_dentry *d); /* no reference */
UVFS_API void uvfs_dentry_get(struct uvfs_dentry *d);
UVFS_API void uvfs_dentry_put(struct uvfs_dentry *d);
/* Attach inode to negative dentry d, consuming one inode reference. For
 * DCACHE_COMPLETE filesystems this also pins d (it lives as long as it is
 * linked) and hashes it. */
UVFS_API void uvfs_d_instantiate(struct uvfs_dentry *d, struct uvfs_inode *inode);
/* A root dentry for a new filesystem (consumes one inode reference on
 * success; on failure the caller still owns it). */
UVFS_API int uvfs_d_make_root(struct uvfs_filesystem *fs, struct uvfs_inode *inode, struct uvfs_dentry **out);

/* Iterate the positive children of directory dentry dir in creation order
 * (DCACHE_COMPLETE filesystems), starting at the first child whose offset
 * is >= ctx->pos, emitting each with next_off = its offset + 1. Offsets 0
 * and 1 are "." and "..". Used by tmpfs's iterate. */
UVFS_API int uvfs_dcache_iterate(struct uvfs_file *f, struct uvfs_dentry *dir, struct uvfs_dir_ctx *ctx);
/* Emit "." and ".." if ctx->pos < 2. Returns nonzero if the emitter stopped. */
UVFS_API int uvfs_dir_emit_dots(struct uvfs_file *f, struct uvfs_dir_ctx *ctx);
/* Number of positive children (DCACHE_COMPLETE filesystems); dir's i_lock held. */
UVFS_API bool uvfs_dcache_dir_empty(struct uvfs_dentry *dir);

/* ------------------------------------------------------------------ files */

/* The open file description (gVisor FileDescription). */
struct uvfs_file {
	atomic_long f_refs;
	struct uvfs_vd f_vd; /* immutable; references held (dentry, then mount) */
	struct uvfs_inode *f_inode; /* immutable; == f_vd.dentry's inode */
	const struct uvfs_file_ops *f_op; /* immutable (device nodes: the device's ops) */
	int f_flags; /* O_* status flags; O_APPEND/O_NONBLOCK change under f_lock */
	struct uvfs_lock f_lock; /* f_pos, f_flags, directory cursor */
	uint64_t f_pos; /* under f_lock */
	struct uvfs_dentry *f_dir_cursor; /* under f_lock: last child emitted by uvfs_dcache_iterate (ref held) */
	void *f_private; /* fs-owned (device nodes: the registered priv) */
	unsigned f_vfs_flags; /* immutable once the open returns: UVFS_FILE_* */
	/* immutable: the opener's credentials (Linux f_cred); write and
	 * ftruncate decide setuid/setgid clearing with them. */
	struct uvfs_cred f_cred;
};
#define UVFS_FILE_FSETID 0x1 /* opener had CAP_FSETID: writes keep setuid/setgid */
#define UVFS_FILE_OPENED 0x2 /* ->open succeeded (or there is none): ->release runs at the last put */
#define UVFS_FILE_WRITER 0x4 /* holds a writer count on its mount (not for special files) */
/* --------------------------------------------------- mount option parser */

/* The one option parser: splits "a=1,b,,c=2" on ',' (empty items skipped),
 * each item on the first '='. A later duplicate key wins. */
#define UVFS_OPTS_MAX 64
struct uvfs_opt {
	char *key;
	char *val; /* "" for a bare key */
	bool used;
};
struct uvfs_opts {
	char *buf;
	int n;
	struct uvfs_opt o[UVFS_OPTS_MAX];
};
/* -EINVAL on too many items or an empty key; -ENOMEM. */
UVFS_API int uvfs_opts_parse(struct uvfs_opts *o, const char *data);
UVFS_API void uvfs_opts_free(struct uvfs_opts *o);
/* Finds key and marks it used; NULL if absent. */
UVFS_API const char *uvfs_opts_take(struct uvfs_opts *o, const char *key);
/* Parsers for common value kinds: -EINVAL naming the key on bad values. */
UVFS_API int uvfs_opts_take_u64(struct uvfs_opts *o, const char *key, uint64_t *out, bool *present);
UVFS_API int uvfs_opts_take_octal(struct uvfs_opts *o, const char *key, uint32_t *out, bool *present);
/* Size with optional k/m/g/% suffix (% of `total`). */
UVFS_API int uvfs_opts_take_size(struct uvfs_opts *o, const char *key, uint64_t total, uint64_t *out,
				 bool *present);
/* -EINVAL (and a log line naming it) if any key was not taken. */
UVFS_API int uvfs_opts_check_unused(struct uvfs_opts *o, const char *fsname);

/* ------------------------------------------------------------ logging */

UVFS_API void uvfs_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
