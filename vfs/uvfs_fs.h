/* uvfs_fs.h — the interface between the VFS core and filesystem
 * implementations (fsimpl/<fs>/). Filesystems embed struct uvfs_filesystem
 * and struct uvfs_inode as the FIRST member of their own structs and recover
 * them with container_of; they fill const ops tables with designated
 * initializers. NULL ops mean "generic behaviour" or "not supported" as
 * documented per op.
 *
 * The VFS owns the dentry cache (dcache). Completeness is per directory:
 * a directory inode with UVFS_I_COMPLETE in i_flags keeps every child in
 * the dcache, pinned (a miss is ENOENT, ->lookup is never called); in any
 * other directory a miss calls ->lookup, and the answer (positive or
 * negative) is cached. Cached dentries that nobody references are kept on
 * a bounded per-filesystem LRU (lru_max, default UVFS_DENTRY_CACHE_LIMIT)
 * and revived by the next lookup; the oldest are freed past the limit.
 * A filesystem whose cache can go stale sets dentry ops (revalidate) and
 * calls uvfs_d_invalidate when it learns that a name changed.
 *
 * Dentry lifetime: unreferenced cached dentries sit on fs->lru (no
 * reference held; lru_lock nests inside the dentry's d_lock); a lookup
 * revives them, the shrinker frees the oldest past lru_max, umount frees
 * the rest. Details in vfs/LOCKING.md.
 *
 * Locking summary (details and the full table in vfs/LOCKING.md):
 *  - dir->i_lock is held (by the VFS) across every directory op on dir:
 *    lookup, create, mkdir, symlink, link, unlink, rmdir, rename (both dirs).
 *    The victim's i_lock is held too for unlink, rmdir and rename (a
 *    directory victim included), and the source's for link.
 *  - An inode's i_lock is held by the VFS across setattr (and the truncate
 *    the generic setattr calls) and the xattr ops. The lock is not
 *    recursive: never take it in those ops.
 *  - File I/O (read, write, fallocate, iterate, llseek, ...) runs with NO
 *    inode lock; the VFS holds only the file's f_lock for calls that use
 *    the file position. A filesystem that needs the inode locked while it
 *    writes or truncates through a file takes i_lock itself (tmpfs does).
 *  - Attribute fields of struct uvfs_inode are written only with i_lock held
 *    and inside uvfs_inode_attr_begin/end, so RCU-walk stat and permission
 *    checks can read them locklessly (validated by i_seq).
 *  - Ops that may be called in RCU mode (no reference, no lock, must not
 *    block; -ECHILD falls back to ref-walk): dentry revalidate with
 *    UVFS_LOOKUP_RCU and inode permission with UVFS_MAY_NOT_BLOCK. Jump
 *    links (get_link) are followed in ref-walk only.
 *
 * Who calls: any op may read the caller's context with uvfs_current_ctx()
 * (uvfs.h: the task, its credentials, an interrupt check that a blocking
 * op polls with uvfs_ctx_interrupted() to return -EINTR).
 */
#pragma once

#include <sched.h>
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

/* Spin-wait hint: pause on x86, yield on arm64, a compiler barrier elsewhere. */
static inline void uvfs_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Writers are ordinary preemptible threads: a reader must not spin on an
 * odd count for as long as a writer may be descheduled. */
#define UVFS_SEQ_SPIN 128

/* For lock-free readers (inside an RCU read section): false if the count
 * stayed odd for UVFS_SEQ_SPIN polls; the caller gives up (RCU-walk:
 * -ECHILD, then ref-walk) instead of waiting for the writer. */
static inline bool uvfs_seq_read_try_begin(uvfs_seq_t *s, uint32_t *out)
{
	for (unsigned n = 0;; n++) {
		uint32_t v = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (__builtin_expect(!(v & 1), 1)) {
			*out = v;
			return true;
		}
		if (n == UVFS_SEQ_SPIN)
			return false;
		uvfs_cpu_relax();
	}
}
/* For readers that may wait: a short spin, then yield the CPU until the
 * writer is done. */
static inline uint32_t uvfs_seq_read_begin(uvfs_seq_t *s)
{
	uint32_t v;
	for (unsigned n = 0; (v = atomic_load_explicit(&s->seq, memory_order_acquire)) & 1; n++) {
		if (n < UVFS_SEQ_SPIN)
			uvfs_cpu_relax();
		else
			sched_yield();
	}
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
	/* UVFS_MNT_RDONLY when the data said "ro" (Linux fc->sb_flags): the
	 * VFS takes that word out of data and marks the fs read-only after
	 * get_fs; a filesystem that must know sooner reads it here. */
	unsigned sb_flags;
};

/* Type flags (properties of the implementation, not of the registration). */
#define UVFS_FST_RCU_WALK 0x1 /* lookups may run lockless (dcache + i_link + generic getattr) */
/* Informational: every directory of this fs is UVFS_I_COMPLETE (the FUSE
 * export uses it); the core reads the per-directory flag only. */
#define UVFS_FST_DCACHE_COMPLETE 0x2

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
struct uvfs_poll_table; /* a poller's registration state (vfs/poll.c) */
struct iovec;

/* A doubly linked list node (the VFS's list type; used for the LRU). */
struct uvfs_list_head {
	struct uvfs_list_head *next, *prev;
};

/* Flags for dentry ops ->revalidate. */
#define UVFS_LOOKUP_RCU 0x1 /* RCU-walk: must not block or sleep; -ECHILD leaves RCU mode */
#define UVFS_LOOKUP_REVAL 0x2 /* the walk is retried after -ESTALE: do not trust any cache */

/* Dentry operations: fs->d_op is copied into every dentry the VFS
 * allocates for that fs (set it before uvfs_d_make_root); ->lookup may
 * replace a new dentry's ops with uvfs_d_set_op before instantiating it. */
struct uvfs_dentry_ops {
	/* Is cached dentry d (positive or negative) still right? Called on
	 * every lookup that finds d in the dcache, with no VFS lock held
	 * (except when the VFS looks a name up for a create/unlink/rename: the
	 * parent's i_lock). Return 0: valid. >0 or -ESTALE: invalid — the VFS
	 * invalidates d (uvfs_d_invalidate) and calls ->lookup again. Other
	 * -errno: the walk fails with it. With UVFS_LOOKUP_RCU the caller is
	 * inside an RCU read section holding no reference on d: read only
	 * RCU-safe state and return -ECHILD for anything that would block
	 * (anything but 0 sends the walk to ref-walk mode, which asks again).
	 * NULL → always valid. */
	int (*revalidate)(struct uvfs_dentry *d, unsigned flags);
	/* d is being freed: free d_fsdata. Called from the RCU callback
	 * thread after a grace period (an RCU-walk revalidate may read
	 * d_fsdata until then), before the filesystem's release: only d's
	 * name and d_fsdata may be used (its inode and parent may be gone).
	 * Must not call into the VFS. May be NULL. */
	void (*release)(struct uvfs_dentry *d);
};

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
	/* mount -o remount (uvfs_remount_at without UVFS_REMOUNT_BIND): apply
	 * the options in data (NULL or "": none), as Linux's ->reconfigure:
	 * -EINVAL, logging why, for an unknown option or one this fs cannot
	 * change now, and then nothing changes. flags: UVFS_MNT_RDONLY when
	 * the fs is to be read-only (the VFS has checked for writers and
	 * enforces it; an op may refuse). No VFS lock held; remounts of one fs
	 * are serialised (fs->remount_lock). NULL: only empty data is valid. */
	int (*remount)(struct uvfs_filesystem *fs, unsigned flags, const char *data);
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
	/* Set by the fs in get_fs (before uvfs_d_make_root), then immutable. */
	const struct uvfs_dentry_ops *d_op; /* NULL: no dentry ops */
	unsigned long lru_max; /* unreferenced dentries kept cached (0: none) */
	/* VFS-private: the LRU of unreferenced cached dentries, oldest first.
	 * lru_lock nests inside the dentry d_lock (vfs/LOCKING.md). */
	struct uvfs_lock lru_lock;
	long lru_count; /* under lru_lock */
	struct uvfs_list_head lru; /* under lru_lock: dentries' d_lru */
	/* Serialises renames on this fs (Linux s_vfs_rename_mutex): keeps
	 * d_parent of its dentries, and so the ancestor checks, stable. Per
	 * fs so that a stacking fs's ->rename can rename on its layers. */
	struct uvfs_lock rename_lock;
	/* VFS-private: serialises remounts (Linux s_umount for reconfigure). */
	struct uvfs_lock remount_lock;
	/* UVFS_MNT_RDONLY when the fs itself is read-only (a plain remount,ro:
	 * Linux SB_RDONLY). Written under vfs->mount_lock (and remount_lock);
	 * mnt_want_write reads it after counting its writer (seq_cst both
	 * sides, so a remount sees the writer or the writer sees the flag). */
	_Atomic unsigned sb_flags;
	/* VFS-private: the next fs whose release waits for the end of the
	 * putting thread's batch (uvfs_fs_put_batch_begin); that thread only. */
	struct uvfs_filesystem *put_next;
};

/* Waits until every object the VFS has queued for freeing after a grace
 * period (inodes, dentries, mounts: the core's call_rcu) so far is freed,
 * free_inode included. Filesystems call it before freeing what their
 * inodes' free_inode still needs; not from inside a read section or a
 * free callback. Costs about one grace period (vfs/rcu_defer.c), not
 * liburcu's 10 ms call_rcu round: use this, never urcu_memb_barrier, which
 * does not see the VFS's queue. */
UVFS_API void uvfs_rcu_barrier(void);

/* Releasing a filesystem waits for an RCU barrier (its inodes are freed by
 * call_rcu callbacks, which may still need it). Between begin and
 * end (per thread, nestable) uvfs_fs_put of the last reference only drops
 * the fs's dentries; the outermost end waits one barrier and releases them
 * all, in put order. For tearing down many filesystems at once (a booted
 * tree). Nothing may use a put fs in between, as after any last put. */
UVFS_API void uvfs_fs_put_batch_begin(void);
UVFS_API void uvfs_fs_put_batch_end(void);

/* A registered type's per-instance data (state its mounts share within
 * one uvfs, e.g. a cache outliving a mount; never process-wide): the
 * slot's value in *out, made by make() on first use (-ENOMEM when it
 * returns NULL) and passed to data_free by uvfs_destroy once every
 * filesystem is released. -ENODEV: type is not registered in vfs. */
UVFS_API int uvfs_fs_type_data(struct uvfs *vfs, const struct uvfs_fs_type *type, void *(*make)(void),
			       void (*data_free)(void *), void **out);

/* gVisor's default dentry_cache_limit. */
#define UVFS_DENTRY_CACHE_LIMIT 1000

/* Initialise the embedded struct: takes an anon minor (-EMFILE when none).
 * refs starts at 1, d_op NULL, lru_max UVFS_DENTRY_CACHE_LIMIT. */
UVFS_API int uvfs_fs_init(struct uvfs_filesystem *fs, struct uvfs *vfs, const struct uvfs_fs_type *type,
			  const struct uvfs_fs_ops *ops);
/* Undo uvfs_fs_init when get_fs fails before returning the fs: drops the
 * root dentry if one was made and the anon minor. It does not call
 * ops->release; the fs frees its own struct. */
UVFS_API void uvfs_fs_abort(struct uvfs_filesystem *fs);
UVFS_API void uvfs_fs_get(struct uvfs_filesystem *fs);
UVFS_API void uvfs_fs_put(struct uvfs_filesystem *fs);
/* Free unreferenced cached dentries of fs, oldest first, until at most
 * keep remain on its LRU (freeing a dentry may park its parent there).
 * Returns the number left, or -1 when called from inside a shrink (a
 * release op). */
UVFS_API long uvfs_fs_shrink(struct uvfs_filesystem *fs, long keep);

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
	/* The lockless form of getattr, for an inode that has ->getattr (a
	 * stacking fs answering from its real inode): called by the RCU-walk
	 * stat inside an RCU read section, with no reference on d and no
	 * lock. Read only RCU-safe state (what the RCU table in LOCKING.md
	 * lists, and the fs's own state published with release stores and
	 * freed after a grace period) and never block; return 0 with out
	 * filled, or -ECHILD (any nonzero answer counts as -ECHILD): the stat
	 * then runs again in ref-walk and calls ->getattr. A real object on
	 * another filesystem is read with uvfs_getattr_rcu. NULL → every stat
	 * of an inode with ->getattr takes the ref-walk. */
	int (*getattr_rcu)(struct uvfs_dentry *d, unsigned mask, struct statx *out);
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
	/* Xattrs; the VFS has checked namespace permissions. i_lock held.
	 * d is the dentry the caller reached inode by (its current name: a
	 * filesystem that names files by path, the gofer, needs it after a
	 * directory rename; Linux's xattr handlers get the dentry too). */
	ssize_t (*getxattr)(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name, void *buf, size_t len);
	int (*setxattr)(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name, const void *val, size_t len,
			int flags);
	ssize_t (*listxattr)(struct uvfs_dentry *d, struct uvfs_inode *inode, char *buf, size_t len);
	int (*removexattr)(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name);

	/* ---- Jump links, permission, atomic create+open. Each may be NULL;
	 * the filesystem may read the caller's context (uvfs_current_ctx). */

	/* Jump link (Linux nd_jump_link, gVisor's SymlinkTo a vd): an S_IFLNK
	 * inode whose target is an object, not text (/proc/self/cwd,
	 * /proc/N/fd/M). Store the target in *out with references (the VFS
	 * puts them); the walk continues from there. Counts as one of the 40
	 * links; -ELOOP under UVFS_RESOLVE_NO_MAGICLINKS, -EXDEV under
	 * RESOLVE_BENEATH/IN_ROOT, and under NO_XDEV when the target is on
	 * another mount (Linux). Called in ref-walk only (an RCU walk meeting
	 * one falls back), no lock held; i_link must be NULL. Without
	 * ->readlink, readlink(2) gives uvfs_vd_path of the target seen from
	 * the call's root, with " (deleted)" when unlinked. */
	int (*get_link)(struct uvfs_dentry *d, struct uvfs_vd *out);
	/* Replaces the mode-bit check (Linux ->permission: proc's ptrace-style
	 * checks, a remote fs that asks its server). mask is UVFS_MAY_* bits.
	 * uvfs_generic_permission is the default it may fall back to. With
	 * UVFS_MAY_NOT_BLOCK the caller is an RCU walk (no reference, no
	 * lock, inside an RCU read section): read only RCU-safe state and
	 * return -ECHILD for anything that would block; the walk then asks
	 * again in ref-walk. Otherwise no lock is held except as for the op
	 * being checked (the dir's i_lock for create/unlink/rename checks). */
	int (*permission)(struct uvfs_inode *inode, const struct uvfs_cred *cred, int mask, unsigned flags);
	/* Create and open in one step (Linux ->atomic_open, 9P Tlcreate):
	 * open(O_CREAT) on a name that does not exist calls this once instead
	 * of ->create and then the file's ->open. Create a regular file of
	 * mode (S_IFREG | perms) at negative dentry d, instantiate d, and
	 * prepare f as ->open would (f->f_flags holds the open flags;
	 * f_private is the fs's); f->f_inode and f->f_op are set by the VFS
	 * from d's new inode after the op returns 0, and the file's ->release
	 * runs at its last put, as after a successful ->open. On error d must
	 * stay negative and f untouched (release is not called). The VFS has
	 * checked write and search permission on dir and a writable mount;
	 * dir->i_lock held. Not used for O_DIRECTORY, O_TMPFILE or
	 * UVFS_OPEN_EXEC opens (they take ->create). */
	int (*atomic_open)(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred, mode_t mode,
			   struct uvfs_file *f);
	/* open(O_TMPFILE) (Linux ->tmpfile): make an unnamed regular file of
	 * mode (S_IFREG | perms) for dir, owned as ->create's would be
	 * (uvfs_inode_init_owner), with i_nlink 0, and return it in *out
	 * with one reference; dir itself does not change. The VFS gives it
	 * a dentry no lookup finds and opens it; unless O_EXCL it sets
	 * UVFS_I_LINKABLE first, which lets ->link give the inode its first
	 * name (nlink 0 → 1; the VFS clears the flag after). The VFS has
	 * checked write and search permission on dir and a writable mount;
	 * dir->i_lock held. NULL → -EOPNOTSUPP. */
	int (*tmpfile)(struct uvfs_inode *dir, const struct uvfs_cred *cred, mode_t mode, struct uvfs_inode **out);
	/* A regular file made only to mount a file on (uvfs_mknod_at2 with
	 * UVFS_MKNOD_SYNTHETIC; gVisor's gofer creates such mount points in
	 * memory when the server refuses them). Otherwise as ->create.
	 * NULL → ->create. */
	int (*create_synthetic)(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *cred,
				mode_t mode);
};

/* Access mask bits for ->permission and uvfs_generic_permission (Linux MAY_*). */
#define UVFS_MAY_EXEC 0x1
#define UVFS_MAY_WRITE 0x2
#define UVFS_MAY_READ 0x4
/* ->permission flags */
#define UVFS_MAY_NOT_BLOCK 0x1 /* RCU walk: must not block; -ECHILD falls back */
/* Mode bits, owner and group (one attribute state) against cred's fsuid,
 * groups and capabilities (Linux generic_permission): 0 or -EACCES; with
 * UVFS_MAY_NOT_BLOCK, -ECHILD instead of waiting for an attribute writer. */
UVFS_API int uvfs_generic_permission(struct uvfs_inode *inode, const struct uvfs_cred *cred, int mask,
				     unsigned flags);

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
	/* fallocate(2) after the VFS's checks (uvfs_fallocate): f is
	 * writable, off + len does not overflow, mode is one of 0,
	 * FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE|KEEP_SIZE, ZERO_RANGE
	 * (|KEEP_SIZE), UNSHARE_RANGE (|KEEP_SIZE), COLLAPSE_RANGE,
	 * INSERT_RANGE or WRITE_ZEROES; -EOPNOTSUPP for what the fs does not
	 * do. No lock held: the fs takes i_lock itself. Updates mtime/ctime
	 * on success; the VFS then drops setuid/setgid as a write does.
	 * NULL → -EOPNOTSUPP. */
	int (*fallocate)(struct uvfs_file *f, int mode, uint64_t off, uint64_t len);

	/* ---- Ops added for devices and the filesystems to come. None is
	 * called on an O_PATH file. */

	/* Device and filesystem control (uvfs_ioctl). arg is the caller's
	 * argument as is: uvfs runs in the caller's address space, so for
	 * pointer commands it is a pointer the op may dereference (a syscall
	 * layer copies user memory in and out around the call). Return >= 0
	 * or -errno; -ENOTTY (or UVFS_ENOIOCTLCMD) for unknown commands. No
	 * lock held; may block. NULL → -ENOTTY. */
	long (*ioctl)(struct uvfs_file *f, unsigned long cmd, void *arg);
	/* Readiness (uvfs_poll): call uvfs_poll_wait(f, wq, pt) for every wait
	 * queue whose wake can change the answer, THEN return the current
	 * POLL* mask (POLLIN, POLLOUT, POLLERR, POLLHUP, ...); the VFS filters
	 * it by the events asked for. Waking after a state change is the fs's
	 * job (uvfs_waitq_wake). No lock held; must not block. NULL → always
	 * ready: POLLIN|POLLOUT|POLLRDNORM|POLLWRNORM (Linux DEFAULT_POLLMASK). */
	unsigned (*poll)(struct uvfs_file *f, struct uvfs_poll_table *pt);
	/* Each close of a descriptor of this file (uvfs_flush), not only the
	 * last reference: write back and report deferred errors (NFS, FUSE).
	 * No lock held; may block. NULL → 0. */
	int (*flush)(struct uvfs_file *f);
	/* Vectored I/O (uvfs_readv ...). iov holds iovcnt segments whose total
	 * the VFS has checked and capped (rw_verify_area: at most
	 * MAX_RW_COUNT bytes, off + total <= INT64_MAX unless
	 * UVFS_FOP_UNSIGNED_OFFSET); offsets as for read/write. f_lock held for
	 * the non-positional calls. NULL → the VFS loops the plain op over the
	 * segments, stopping at the first short transfer (Linux's
	 * do_loop_readv_writev). A file with only these ops serves plain
	 * read/write through them too. */
	ssize_t (*read_iter)(struct uvfs_file *f, const struct iovec *iov, int iovcnt, uint64_t off);
	ssize_t (*write_iter)(struct uvfs_file *f, const struct iovec *iov, int iovcnt, uint64_t *off);
	/* F_SETFL veto (uvfs_file_set_flags): flags is the complete new status
	 * word about to be stored. Return 0 to accept, -errno to refuse (e.g.
	 * -EINVAL for O_DIRECT). Accepting a change of O_ASYNC is what makes
	 * O_ASYNC change at all: without this op it is ignored, as Linux does
	 * without ->fasync. No lock held; concurrent set_flags calls on one
	 * file may each call it (the last store wins, as on Linux). */
	int (*setfl)(struct uvfs_file *f, int flags);
	/* POSIX record locks (uvfs_file_lock: fcntl F_GETLK/F_SETLK/F_SETLKW)
	 * for filesystems whose locks live elsewhere (a 9P server). owner is
	 * the caller's opaque lock owner (an fd table, a process). The VFS has
	 * checked l_type (F_GETLK: F_RDLCK or F_WRLCK) and the open mode, and
	 * rewritten fl as SEEK_SET with l_start >= 0 and l_len >= 0 (0: to
	 * EOF). F_GETLK answers in fl (l_type F_UNLCK: no conflict). F_SETLKW
	 * may block; it polls uvfs_ctx_interrupted() for -EINTR. No lock held.
	 * NULL → uvfs_file_lock returns -ENOLCK and the caller keeps the locks
	 * in its own table (sandbox/locks.c). */
	int (*lock)(struct uvfs_file *f, uint64_t owner, int cmd, struct flock *fl);
	/* uvfs_file_host_fd: a new host fd opened O_RDONLY|O_CLOEXEC on the
	 * same host file (for zero-copy reads and mmaps by a sandbox), owned
	 * by the caller; -EOPNOTSUPP when the file has no host file behind
	 * it. Only called for regular, non-O_PATH files. No lock held.
	 * NULL → -EOPNOTSUPP. */
	int (*host_fd)(struct uvfs_file *f);
	unsigned fop_flags; /* UVFS_FOP_* */
};
/* fop_flags */
#define UVFS_FOP_UNSIGNED_OFFSET 0x1 /* negative positions are valid (Linux FOP_UNSIGNED_OFFSET, /dev/mem) */
/* A stream (pipe, FIFO, terminal; Linux FMODE_STREAM without FMODE_ATOMIC_POS):
 * no position, so read/write/readv/writev run without f_lock (a reader
 * blocked in the op must not stall a writer on the same file) and pass
 * offset 0; pread/pwrite/preadv/pwritev are -ESPIPE. */
#define UVFS_FOP_STREAM 0x2
/* An ioctl op may return this for an unknown command; callers see -ENOTTY. */
#define UVFS_ENOIOCTLCMD 515

/* ------------------------------------------------------------ wait queues */

/* A wait queue a file's ->poll registers pollers on (Linux
 * wait_queue_head_t). The fs owns it (in its inode, device or file
 * private data) and calls uvfs_waitq_wake after any change of readiness.
 * It must outlive every file whose ->poll can register on it (uvfs_poll
 * holds a file reference while registered, so "lives as long as the open
 * file" is enough). */
struct uvfs_wait_entry;
typedef void (*uvfs_wake_fn)(struct uvfs_wait_entry *e, unsigned events);
struct uvfs_wait_entry {
	struct uvfs_wait_entry *prev, *next; /* under the queue's lock */
	uvfs_wake_fn wake; /* set before add; runs under the queue's lock: must not block or re-enter the queue */
	void *priv; /* owner's */
};
struct uvfs_waitq {
	struct uvfs_lock lock; /* leaf lock: the entry list; wake callbacks run under it */
	struct uvfs_wait_entry head; /* circular list of waiters */
};
UVFS_API void uvfs_waitq_init(struct uvfs_waitq *wq);
UVFS_API void uvfs_waitq_add(struct uvfs_waitq *wq, struct uvfs_wait_entry *e);
/* After it returns, e's wake callback is not running and will not run. */
UVFS_API void uvfs_waitq_remove(struct uvfs_waitq *wq, struct uvfs_wait_entry *e);
/* Calls every waiter's wake(e, events); events is a POLL* hint (0: any). */
UVFS_API void uvfs_waitq_wake(struct uvfs_waitq *wq, unsigned events);
UVFS_API bool uvfs_waitq_active(struct uvfs_waitq *wq);
/* From ->poll: register the poller behind pt on wq (pt NULL: a re-poll that
 * needs no registration; a no-op). */
UVFS_API void uvfs_poll_wait(struct uvfs_file *f, struct uvfs_waitq *wq, struct uvfs_poll_table *pt);

/* ------------------------------------------------- interruptible sleeps */

/* A sleep of the current context's task on a condition variable, which
 * uvfs_ctx_interrupt wakes at once (it broadcasts cv with mu held). Use:
 *     mu held;  r = uvfs_ctx_wait_begin(&w, cv, mu);
 *     r < 0: -EINTR, already interrupted (nothing registered);
 *     r == 1: registered: pthread_cond_(timed)wait(cv, mu), then
 *             uvfs_ctx_wait_end(&w), which may drop and retake mu;
 *     r == 0: the context cannot wake this sleep (no intr, or its task is
 *             already asleep elsewhere): sleep in slices and poll
 *             uvfs_ctx_interrupted if the context has an interrupt at all.
 * cv and mu must stay valid until uvfs_ctx_wait_end returns. */
struct uvfs_intr_waiter {
	pthread_cond_t *cv; /* immutable while registered */
	pthread_mutex_t *mu;
	struct uvfs_intr *intr; /* the context's, set by begin */
};
UVFS_API int uvfs_ctx_wait_begin(struct uvfs_intr_waiter *w, pthread_cond_t *cv, pthread_mutex_t *mu);
/* Unregisters (mu held on entry and return); -EINTR if the task is now
 * interrupted, else 0. */
UVFS_API int uvfs_ctx_wait_end(struct uvfs_intr_waiter *w);

/* Generic SEEK_SET/CUR/END and SEEK_DATA/SEEK_HOLE (whole file data, EOF
 * the only hole) for a file of the given size (Linux
 * generic_file_llseek_size). Returns the new position or -EINVAL/-ENXIO;
 * it does not store it (the VFS does). f_lock held (it reads f_pos). */
UVFS_API int64_t uvfs_generic_llseek(struct uvfs_file *f, int64_t off, int whence, int64_t size);

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
	/* UVFS_I_*: set before the inode is published, or changed with i_lock
	 * held; read locklessly (relaxed) by the walk. */
	uint32_t i_flags;
	uint64_t i_size;
	uint64_t i_blocks; /* 512-byte units */
	dev_t i_rdev;
	struct timespec i_atime, i_mtime, i_ctime, i_btime;
	struct uvfs_lock i_lock; /* see the top of this file */
	atomic_long i_count; /* each dentry pointing here, plus transient holders */
	struct rcu_head i_rcu;
};

/* i_flags */
#define UVFS_I_COMPLETE 0x1 /* directory: the dcache holds every child; a miss is ENOENT */
/* An O_TMPFILE inode (nlink 0) that linkat may still name (not O_EXCL) */
#define UVFS_I_LINKABLE 0x2

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
/* Inside an RCU read section (from a ->getattr_rcu op): d's attributes
 * without blocking, as the lockless stat would read them: d's inode's
 * ->getattr_rcu, or the generic getattr when it has no ->getattr. 0, or
 * -ECHILD (->getattr without ->getattr_rcu, an attribute writer in the
 * way, a negative d): the caller falls back as its op's contract says. */
UVFS_API int uvfs_getattr_rcu(struct uvfs_dentry *d, unsigned mask, struct statx *out);

/* --------------------------------------------------------------- dentries */

/* Name and parent without a reference: stable only while a rename cannot
 * move d (inside an op given d's parent directory locked: lookup, create,
 * unlink, rename's own dentries) or inside an RCU read section (then the
 * pointer stays readable, but may be stale). Elsewhere use the two calls
 * below, which are safe from any context (review C4). */
UVFS_API const char *uvfs_dentry_name(const struct uvfs_dentry *d, size_t *len);
UVFS_API struct uvfs_inode *uvfs_dentry_inode(const struct uvfs_dentry *d);
UVFS_API struct uvfs_dentry *uvfs_dentry_parent(const struct uvfs_dentry *d); /* no reference */
/* d's current parent with a reference (the caller puts it); d itself for
 * a root. */
UVFS_API struct uvfs_dentry *uvfs_dentry_get_parent(const struct uvfs_dentry *d);
/* Copies d's current name into buf (NUL-terminated, truncated to len-1);
 * returns the full name length. */
UVFS_API size_t uvfs_dentry_name_copy(const struct uvfs_dentry *d, char *buf, size_t len);
UVFS_API void uvfs_dentry_get(struct uvfs_dentry *d);
UVFS_API void uvfs_dentry_put(struct uvfs_dentry *d);
/* Attach inode to negative dentry d, consuming one inode reference. In a
 * UVFS_I_COMPLETE directory this also pins d (it lives as long as it is
 * linked) and hashes it; elsewhere the VFS caches d after ->lookup. */
UVFS_API void uvfs_d_instantiate(struct uvfs_dentry *d, struct uvfs_inode *inode);
/* Add a pinned ("static") positive child name → inode under directory
 * dentry parent, consuming one inode reference: it stays in the dcache
 * until unlinked, invalidated or the fs goes (e.g. /proc's fixed entries
 * beside its looked-up pid directories). Caller holds parent's inode
 * i_lock or the fs is not mounted yet. *out (if out is not NULL) gets
 * the dentry without a reference (valid while it stays pinned). -EEXIST
 * if the name is cached, -EINVAL, -ENOMEM (the inode reference is then
 * still the caller's). */
UVFS_API int uvfs_d_add_static(struct uvfs_dentry *parent, const char *name, size_t len,
			       struct uvfs_inode *inode, struct uvfs_dentry **out);
/* Drop d and every cached dentry below it from the dcache: they are marked
 * dead (no lookup finds them again), unhashed, unpinned, and freed once
 * unreferenced; holders of references (open files, cwds) keep valid but
 * disconnected dentries, and lookups below a dead directory find nothing.
 * -EBUSY (nothing changed) if a mount sits on d or below it: we refuse
 * rather than detach mounts lazily. -EINVAL for a filesystem root or a
 * child of a UVFS_I_COMPLETE directory (their only copy of the name).
 * Call with no VFS lock held, or the parent directory's i_lock. */
UVFS_API int uvfs_d_invalidate(struct uvfs_dentry *d);
/* Per-dentry fs data (cold; the fs owns it, free it in ops->release). */
UVFS_API void *uvfs_dentry_fsdata(const struct uvfs_dentry *d);
UVFS_API void uvfs_dentry_set_fsdata(struct uvfs_dentry *d, void *data);
/* Replace d's ops (from ->lookup, before d is instantiated/cached). */
UVFS_API void uvfs_d_set_op(struct uvfs_dentry *d, const struct uvfs_dentry_ops *op);
/* A root dentry for a new filesystem (consumes one inode reference on
 * success; on failure the caller still owns it). */
UVFS_API int uvfs_d_make_root(struct uvfs_filesystem *fs, struct uvfs_inode *inode, struct uvfs_dentry **out);

/* Iterate the positive children of directory dentry dir in creation order
 * (UVFS_I_COMPLETE directories), starting at the first child whose offset
 * is >= ctx->pos, emitting each with next_off = its offset + 1. Offsets 0
 * and 1 are "." and "..". Used by tmpfs's iterate. */
UVFS_API int uvfs_dcache_iterate(struct uvfs_file *f, struct uvfs_dentry *dir, struct uvfs_dir_ctx *ctx);
/* Emit "." and ".." if ctx->pos < 2. Returns nonzero if the emitter stopped. */
UVFS_API int uvfs_dir_emit_dots(struct uvfs_file *f, struct uvfs_dir_ctx *ctx);
/* Whether dir has no positive cached child (UVFS_I_COMPLETE directories: no child); dir's i_lock held. */
UVFS_API bool uvfs_dcache_dir_empty(struct uvfs_dentry *dir);

/* ------------------------------------------------- change notification */

/* A filesystem reports a change of its OWN objects that no VFS op on them
 * committed (the VFS reports those itself), to the change subscribers
 * (uvfs_watch_set): a stacking fs's copy-up, which changes an overlay
 * directory's nlink or a file's st_ino without a VFS op on that inode.
 * uvfs_notify_inode takes UVFS_WATCH_ATTR or UVFS_WATCH_DATA ([off,
 * off + len)); uvfs_notify_entry takes UVFS_WATCH_CREATE or
 * UVFS_WATCH_REMOVE (name in dir, child its inode or NULL); other events
 * are ignored. Call after the change is committed, holding references on
 * the inodes, with no lock of the fs's own that a subscriber's callback
 * could wait for: a stacking fs's op may call it with the locks the VFS
 * gave the op (vfs/LOCKING.md, "Change notification"). With no subscriber
 * it costs one relaxed load. */
UVFS_API void uvfs_notify_inode(struct uvfs_inode *inode, enum uvfs_watch_event ev, uint64_t off, uint64_t len);
UVFS_API void uvfs_notify_entry(struct uvfs_inode *dir, enum uvfs_watch_event ev, const char *name, size_t len,
				struct uvfs_inode *child);

/* ------------------------------------------------------------------ files */

/* The open file description (gVisor FileDescription). */
struct uvfs_file {
	atomic_long f_refs;
	struct uvfs_vd f_vd; /* immutable; references held (dentry, then mount) */
	struct uvfs_inode *f_inode; /* immutable; == f_vd.dentry's inode */
	const struct uvfs_file_ops *f_op; /* immutable (device nodes: the device's ops) */
	int f_flags; /* O_* status flags; the F_SETFL bits change by atomic store (uvfs_file_set_flags) */
	struct uvfs_lock f_lock; /* f_pos, f_flags, directory cursor */
	uint64_t f_pos; /* under f_lock */
	struct uvfs_dentry *f_dir_cursor; /* under f_lock: last child emitted by uvfs_dcache_iterate (ref held) */
	void *f_private; /* fs-owned (device nodes: the registered priv) */
	unsigned f_vfs_flags; /* immutable once the open returns: UVFS_FILE_* */
	/* immutable: the opener's credentials (Linux f_cred); write and
	 * ftruncate decide setuid/setgid clearing with them. Its group list
	 * is the file's own copy (or NULL: see finish_open), never borrowed. */
	struct uvfs_cred f_cred;
	/* Set at most once, by uvfs_file_set_lock_release (atomic pointer
	 * store, read by the last put): the lock table that keeps locks owned
	 * by this description (OFD locks) drops them here. */
	void (*_Atomic f_lock_release)(struct uvfs_file *f);
};
/* A lock table that keys locks by the open file description (Linux OFD
 * locks: released when the last reference to the description goes, not at
 * the close of any fd) asks to hear of that last reference: fn(f) runs in
 * the last uvfs_file_put, before the file's ->release, on the putting
 * thread, with f's vd and inode still alive and no VFS lock held by the
 * VFS (the putter's own locks aside: fn must take only leaf locks). One
 * table per file: 0, or -EBUSY when another fn is set already (setting the
 * same fn again is 0). */
UVFS_API int uvfs_file_set_lock_release(struct uvfs_file *f, void (*fn)(struct uvfs_file *f));
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
