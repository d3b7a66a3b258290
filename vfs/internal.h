/* vfs/internal.h — declarations shared by the VFS core's .c files only.
 *
 * Global lock order (outer → inner), per filesystem (a stacking fs's op
 * may nest the whole order of its layers' filesystems, see LOCKING.md):
 *   fs->rename_lock
 *     → directory i_lock (ancestor before descendant; unrelated: by address)
 *       → non-directory i_lock (victims of unlink/rename)
 *         → vfs->mount_lock
 *           → dentry d_lock (children list)
 *             → dcache bucket stripe locks, vfs->types_lock, vfs->dev_lock,
 *               file f_lock
 * RCU (liburcu memb flavour) protects every pointer the lookup fast path
 * follows: dcache chains, d_parent, d_name, d_inode, mount table chains,
 * mount fields. Objects reachable that way are freed with call_rcu.
 */
#pragma once

#define _LGPL_SOURCE 1 /* inline liburcu read-side fast paths */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/stat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <urcu/urcu-memb.h>

#include "uvfs.h"
#include "uvfs_fs.h"

#define HIDDEN __attribute__((visibility("hidden")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define UVFS_NAME_MAX 255
#define UVFS_MAXSYMLINKS 40
#define CACHELINE 64

/* RCU read sections and deferred frees. Under ThreadSanitizer, a grace
 * period is modelled as a release by every reader leaving its section and
 * an acquire by every callback (and synchronize caller): that is exactly
 * the ordering RCU guarantees, which TSan cannot see through liburcu. */
#ifdef UVFS_TSAN_BUILD
#include <sanitizer/tsan_interface.h>
extern char uvfs_rcu_gp_token HIDDEN;
#define RCU_TSAN_RELEASE() __tsan_release(&uvfs_rcu_gp_token)
#define RCU_TSAN_ACQUIRE() __tsan_acquire(&uvfs_rcu_gp_token)
#else
#define RCU_TSAN_RELEASE() ((void)0)
#define RCU_TSAN_ACQUIRE() ((void)0)
#endif
static inline void rcu_read_lock(void) { urcu_memb_read_lock(); }
static inline void rcu_read_unlock(void)
{
	RCU_TSAN_RELEASE();
	urcu_memb_read_unlock();
}
static inline void call_rcu(struct rcu_head *h, void (*fn)(struct rcu_head *))
{
	RCU_TSAN_RELEASE();
	urcu_memb_call_rcu(h, fn);
}
/* First and last statements of every call_rcu callback (the exit pairs
 * with the acquire after urcu_memb_barrier). */
#define RCU_CALLBACK_ENTER() RCU_TSAN_ACQUIRE()
#define RCU_CALLBACK_EXIT() RCU_TSAN_RELEASE()
static inline void synchronize_rcu(void)
{
	urcu_memb_synchronize_rcu();
	RCU_TSAN_ACQUIRE();
}

/* RCU pointer accessors with C11 atomics so ThreadSanitizer sees them. */
#define rcu_load(p) __atomic_load_n(&(p), __ATOMIC_CONSUME)
#define rcu_store(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define load_relaxed(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define store_relaxed(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)

/* ------------------------------------------------------------- lists */

struct list_head {
	struct list_head *next, *prev;
};
static inline void list_init(struct list_head *h) { h->next = h->prev = h; }
static inline bool list_empty(const struct list_head *h) { return h->next == h; }
static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}
static inline void list_del_init(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

/* ----------------------------------------------------------- dentries */

#define DNAME_INLINE_LEN 28

/* Name storage: immutable once published. A rename publishes a new one. */
struct uvfs_dname {
	uint32_t len;
	char name[]; /* NUL-terminated */
};

/* d_flags */
#define DF_HASHED 0x01 /* in the dcache hash table */
#define DF_DEAD 0x02 /* unlinked / killed: never revived by lookup */
#define DF_PINNED 0x04 /* holds one self reference (DCACHE_COMPLETE fs, linked) */
#define DF_LINKED 0x08 /* on its parent's d_subdirs list */
#define DF_ROOT 0x10 /* root of its filesystem (d_parent == self) */

/* Layout: the first 64-byte line holds everything an RCU-walk step reads
 * (chain link, hash, parent, inode, name pointer, flags) and the start of
 * the inline name, so a step over a short name touches one dentry line. */
struct uvfs_dentry {
	/* dcache chain; written under the bucket stripe lock, read under RCU. */
	struct uvfs_dentry *d_hash_next;
	/* Hash of (d_parent, name): changes only inside a rename_seq write section. */
	uint64_t d_hash;
	/* RCU-read; written under d_fs->rename_lock inside rename_seq. Root: self.
	 * A dentry holds a reference on its parent. */
	struct uvfs_dentry *d_parent;
	/* RCU-read; NULL = negative. Set once, under the parent's i_lock. */
	struct uvfs_inode *d_inode;
	/* RCU-read; replaced (never modified in place) under rename_seq. */
	const struct uvfs_dname *d_name;
	_Atomic uint32_t d_flags; /* DF_*; atomic bit operations */
	_Atomic uint32_t d_mounted; /* mounts on this dentry; changed under vfs->mount_lock */
	struct {
		uint32_t len;
		char name[DNAME_INLINE_LEN];
	} d_iname; /* immutable; d_name points here for short names */
	/* ---- cold: not read by the RCU walk */
	struct uvfs_filesystem *d_fs; /* immutable; no reference */
	atomic_long d_ref;
	struct uvfs_lock d_lock; /* d_subdirs, and children's d_child/d_off */
	uint64_t d_off; /* readdir offset in parent; under parent's d_lock */
	uint64_t d_next_off; /* next child offset; under d_lock */
	struct list_head d_child; /* in parent's d_subdirs; under parent's d_lock */
	union {
		struct list_head d_subdirs; /* children; under d_lock */
		struct rcu_head d_rcu; /* once dead: no children can exist then */
	};
};

HIDDEN int dcache_init(struct uvfs *vfs);
HIDDEN void dcache_fini(struct uvfs *vfs);
HIDDEN int d_alloc(struct uvfs_dentry *parent, const char *name, size_t len, struct uvfs_dentry **out);
/* (parent, name) hash: XXH3 seeded with the parent pointer. Inlined
 * (XXH_INLINE_ALL): Debian's libxxhash is a baseline build. */
#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>
__attribute__((noinline, unused)) static uint64_t d_hash_name_long(const struct uvfs_dentry *parent, const char *name,
								  size_t len)
{
	return XXH3_64bits_withSeed(name, len, (uint64_t)(uintptr_t)parent);
}
/* Most names are short: XXH3's 0-16 byte kernel, forced inline into the
 * walk (same value as XXH3_64bits_withSeed); long names call out. */
__attribute__((always_inline)) static inline uint64_t d_hash_name(const struct uvfs_dentry *parent, const char *name,
								size_t len)
{
	if (likely(len <= 16))
		return XXH3_len_0to16_64b((const xxh_u8 *)name, len, XXH3_kSecret, (uint64_t)(uintptr_t)parent);
	return d_hash_name_long(parent, name, len);
}
/* RCU lookup: caller inside rcu read section. No reference taken. */
HIDDEN struct uvfs_dentry *d_lookup_rcu(struct uvfs *vfs, const struct uvfs_dentry *parent, const char *name,
					size_t len, uint64_t hash);
/* Reference-taking lookup (retries across renames). */
HIDDEN struct uvfs_dentry *d_lookup(struct uvfs *vfs, struct uvfs_dentry *parent, const char *name, size_t len);
HIDDEN void d_hash_insert(struct uvfs *vfs, struct uvfs_dentry *d);
HIDDEN void d_hash_remove(struct uvfs *vfs, struct uvfs_dentry *d);
/* Link d under its parent (children list), parent's d_lock taken inside. */
HIDDEN void d_link_child(struct uvfs_dentry *d);
/* Unlink after unlink/rmdir: unhash, mark dead, drop the pin. */
HIDDEN void d_delete(struct uvfs *vfs, struct uvfs_dentry *d);
/* Move d to (newparent, name): caller holds d_fs->rename_lock, rename_seq write. */
HIDDEN void d_move(struct uvfs *vfs, struct uvfs_dentry *d, struct uvfs_dentry *newparent,
		   const struct uvfs_dname *newname);
HIDDEN const struct uvfs_dname *d_name_alloc(const char *name, size_t len);
HIDDEN void d_name_free(const struct uvfs_dname *n);
HIDDEN bool d_tryget(struct uvfs_dentry *d);
HIDDEN bool d_is_ancestor(const struct uvfs_dentry *anc, const struct uvfs_dentry *d);
/* Drop every pinned dentry of a DCACHE_COMPLETE fs (teardown). */
HIDDEN void d_shrink_fs(struct uvfs_filesystem *fs);

static inline bool d_is_dir(const struct uvfs_dentry *d)
{
	struct uvfs_inode *i = rcu_load(((struct uvfs_dentry *)d)->d_inode);
	return i && S_ISDIR(i->i_mode);
}

/* ------------------------------------------------------------- mounts */

/* m_flags bits beyond the UVFS_MNT_* user flags */
#define MNT_WRITERS_RO (1L << 62) /* in m_writers: read-only bit */

struct uvfs_mount {
	/* Mount table chain; under mount_lock for writes, RCU for reads. */
	struct uvfs_mount *m_hash_next;
	/* Key: (m_parent, m_point). RCU-read, written under mount_lock inside mount_seq. */
	struct uvfs_mount *m_parent; /* reference held while connected */
	struct uvfs_dentry *m_point; /* reference held while connected */
	struct uvfs_dentry *m_root; /* immutable; reference held */
	struct uvfs_filesystem *m_fs; /* immutable; reference held */
	struct uvfs_mntns *m_ns; /* under mount_lock; no reference */
	struct uvfs *m_vfs; /* immutable */
	uint64_t m_id; /* immutable */
	_Atomic unsigned m_flags; /* UVFS_MNT_* except RDONLY (which lives in m_writers) */
	atomic_long m_refs; /* bit 62: umounted (tryget fails) */
	atomic_long m_writers; /* low bits: writers; MNT_WRITERS_RO: read-only */
	struct list_head m_children; /* under mount_lock */
	struct list_head m_sibling; /* in parent's m_children; under mount_lock */
	bool m_connected; /* under mount_lock */
	struct rcu_head m_rcu;
};

#define MNT_REF_UMOUNTED (1L << 62)

struct uvfs_mntns {
	atomic_long ns_refs;
	struct uvfs *ns_vfs;
	struct uvfs_mount *ns_root; /* immutable; reference held */
};

HIDDEN int mount_table_init(struct uvfs *vfs);
HIDDEN void mount_table_fini(struct uvfs *vfs);
/* RCU: the mount on (parent, point), no reference. */
HIDDEN struct uvfs_mount *mnt_lookup_rcu(struct uvfs *vfs, const struct uvfs_mount *parent,
					 const struct uvfs_dentry *point);
HIDDEN bool mnt_tryget(struct uvfs_mount *m);
HIDDEN int mnt_want_write(struct uvfs_mount *m);
HIDDEN void mnt_drop_write(struct uvfs_mount *m);

/* ---------------------------------------------------------- instance */

struct fs_type_entry {
	const struct uvfs_fs_type *type;
	unsigned flags;
	struct fs_type_entry *next;
};

struct dev_entry {
	int kind;
	uint32_t major, minor;
	const struct uvfs_file_ops *fops;
	void *priv;
	char group[32];
	struct dev_entry *next;
};

struct dcache_table {
	uint64_t mask;
	struct uvfs_dentry *buckets[];
};

#define ANON_MINOR_MAX (1u << 20) /* anonymous device minors (bitmap size in bits) */
#define DCACHE_STRIPES 256
#define MOUNT_BUCKETS 1024

struct uvfs {
	/* Read-mostly: sampled by every RCU walk. Writers: renames and dcache
	 * resizes (rename_seq), mount/umount (mount_seq). */
	uvfs_seq_t rename_seq __attribute__((aligned(CACHELINE)));
	uvfs_seq_t mount_seq;
	struct dcache_table *dcache; /* RCU; replaced on resize under all stripes */
	struct uvfs_mount **mount_hash; /* immutable array; chains RCU */

	/* Written often: keep off the read-mostly line. */
	atomic_long dcache_count __attribute__((aligned(CACHELINE)));
	struct uvfs_lock dcache_stripes[DCACHE_STRIPES];
	pthread_mutex_t dcache_resize_lock;

	pthread_mutex_t mount_lock; /* mount tree, mount table writes, writers/ro */
	pthread_mutex_t types_lock; /* fs_types */
	pthread_mutex_t dev_lock; /* devices, anon minors */
	struct fs_type_entry *fs_types;
	struct dev_entry *devices;
	uint8_t *anon_minors; /* bitmap */
	uint32_t anon_next;
	_Atomic uint64_t next_mount_id;
	_Atomic uint64_t next_ino;

	/* Live object counters, written on alloc/free only. */
	atomic_long live_dentries __attribute__((aligned(CACHELINE)));
	atomic_long live_inodes, live_mounts, live_mntns, live_files, live_fs;
};

/* ------------------------------------------------------------- namei */

/* Lookup intents for the final component. */
enum walk_final {
	WALK_FINAL, /* resolve everything */
	WALK_PARENT, /* stop at the parent, return the last name */
};

#define ND_MAX_STACK (UVFS_MAXSYMLINKS + 1)

struct nameidata {
	struct uvfs *vfs;
	const struct uvfs_cred *cred;
	struct uvfs_vd root; /* borrowed */
	struct uvfs_vd cur; /* RCU mode: no refs; ref mode: refs held */
	unsigned flags; /* ND_* */
	int nlinks;
	int depth;
	const char *stack[ND_MAX_STACK]; /* remaining path pieces */
	char *bufs[ND_MAX_STACK]; /* ref mode: allocated link bodies (freed at end) */
	int nbufs;
	uint32_t rseq, mseq;
	/* WALK_PARENT result: */
	const char *last;
	size_t last_len;
	bool last_dot; /* last component is "." or ".." */
	bool trailing_slash;
};

#define ND_RCU 0x1
#define ND_FOLLOW 0x2
#define ND_MUST_DIR 0x4
#define ND_EMPTY_OK 0x8

/* Resolve pop. WALK_FINAL: *out = the final vd with refs. WALK_PARENT:
 * *out = parent dir with refs; nd->last/last_len name the last component
 * (valid until walk_end). */
HIDDEN int walk_path(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
		     enum walk_final final, struct nameidata *nd, struct uvfs_vd *out);
HIDDEN void walk_end(struct nameidata *nd);
/* Look up one child of parent (a referenced vd, a directory) by name in ref
 * mode, calling the fs lookup on misses; does not cross mounts. Returns a
 * referenced dentry (possibly negative) or -errno. Caller holds no locks. */
HIDDEN int lookup_one(struct uvfs *vfs, struct uvfs_dentry *parent, const char *name, size_t len,
		      struct uvfs_dentry **out);
/* Same, but the caller holds parent's i_lock. */
HIDDEN int lookup_one_locked(struct uvfs *vfs, struct uvfs_dentry *parent, const char *name, size_t len,
			     struct uvfs_dentry **out);

/* ------------------------------------------------------------ permission */

#define MAY_EXEC 1
#define MAY_WRITE 2
#define MAY_READ 4

HIDDEN int inode_permission(const struct uvfs_cred *cred, struct uvfs_inode *inode, int mask);
HIDDEN bool inode_owner_or_capable(const struct uvfs_cred *cred, const struct uvfs_inode *inode);
HIDDEN int may_delete_sticky(const struct uvfs_cred *cred, struct uvfs_inode *dir, struct uvfs_inode *victim);

/* Copy the attributes of inode under its seqcount. */
/* Inline so the RCU-walk stat (namei.c) copies without a call. */
static inline __attribute__((always_inline)) void inode_fill_statx(struct uvfs_inode *i, struct statx *st)
{
	const dev_t fsdev = i->i_fs->dev;
	uint32_t seq;
	/* Zero with plain 16-byte stores: gcc turns a 256-byte zeroing into
	 * rep stosq, whose start-up costs more than the rest of a short stat. */
	typedef long long v2 __attribute__((vector_size(16), may_alias));
	_Static_assert(sizeof(struct statx) == 16 * sizeof(v2), "statx is 256 bytes");
	v2 *q = (v2 *)st;
	const v2 z = { 0, 0 };
	/* Unrolled on purpose: a loop is turned back into rep stosq. */
	q[0] = z, q[1] = z, q[2] = z, q[3] = z, q[4] = z, q[5] = z, q[6] = z, q[7] = z;
	q[8] = z, q[9] = z, q[10] = z, q[11] = z, q[12] = z, q[13] = z, q[14] = z, q[15] = z;
	do {
		seq = uvfs_seq_read_begin(&i->i_seq);
		dev_t rdev = load_relaxed(i->i_rdev);
		st->stx_mask = STATX_BASIC_STATS | STATX_BTIME;
		st->stx_blksize = 4096;
		st->stx_mode = (uint16_t)load_relaxed(i->i_mode);
		st->stx_nlink = load_relaxed(i->i_nlink);
		st->stx_uid = load_relaxed(i->i_uid);
		st->stx_gid = load_relaxed(i->i_gid);
		st->stx_ino = i->i_ino;
		st->stx_size = load_relaxed(i->i_size);
		st->stx_blocks = load_relaxed(i->i_blocks);
		st->stx_atime.tv_sec = load_relaxed(i->i_atime.tv_sec);
		st->stx_atime.tv_nsec = (uint32_t)load_relaxed(i->i_atime.tv_nsec);
		st->stx_btime.tv_sec = load_relaxed(i->i_btime.tv_sec);
		st->stx_btime.tv_nsec = (uint32_t)load_relaxed(i->i_btime.tv_nsec);
		st->stx_ctime.tv_sec = load_relaxed(i->i_ctime.tv_sec);
		st->stx_ctime.tv_nsec = (uint32_t)load_relaxed(i->i_ctime.tv_nsec);
		st->stx_mtime.tv_sec = load_relaxed(i->i_mtime.tv_sec);
		st->stx_mtime.tv_nsec = (uint32_t)load_relaxed(i->i_mtime.tv_nsec);
		st->stx_rdev_major = major(rdev);
		st->stx_rdev_minor = minor(rdev);
		st->stx_dev_major = major(fsdev);
		st->stx_dev_minor = minor(fsdev);
	} while (uvfs_seq_read_retry(&i->i_seq, seq));
}

/* Counters */
#define LIVE_INC(vfs, what) atomic_fetch_add_explicit(&(vfs)->live_##what, 1, memory_order_relaxed)
#define LIVE_DEC(vfs, what) atomic_fetch_sub_explicit(&(vfs)->live_##what, 1, memory_order_relaxed)

/* Thread registration with liburcu (lazy). */
HIDDEN void rcu_thread_ensure(void);
static inline void rcu_enter(void)
{
	extern __thread bool uvfs_rcu_registered HIDDEN;
	if (unlikely(!uvfs_rcu_registered))
		rcu_thread_ensure();
}

/* Cross-file helpers. */
HIDDEN int stat_dentry(struct uvfs_dentry *d, unsigned mask, struct statx *out); /* stat.c */
HIDDEN int setattr_truncate(struct uvfs_file *f, const struct uvfs_cred *cred, uint64_t size); /* attr.c */
/* setuid/setgid bits a write or truncate by cred removes from a file of
 * (mode, gid): Linux setattr_should_drop_suidgid. attr.c. */
HIDDEN uint32_t suidgid_to_drop(const struct uvfs_cred *cred, uint32_t mode, uint32_t gid);
HIDDEN void rename_seq_begin(struct uvfs *vfs); /* dcache.c */
HIDDEN void rename_seq_end(struct uvfs *vfs);
HIDDEN int fs_type_find(struct uvfs *vfs, const char *name, const struct uvfs_fs_type **type, unsigned *flags); /* fstype.c */
HIDDEN int device_lookup(struct uvfs *vfs, int kind, dev_t rdev, const struct uvfs_file_ops **fops, void **priv);
HIDDEN int file_alloc(struct uvfs_vd *vd, struct uvfs_inode *inode, int flags, struct uvfs_file **out);
