/* vfs/internal.h — declarations shared by the VFS core's .c files only.
 *
 * Global lock order (outer → inner): vfs->rename_rw, then per filesystem (a stacking fs's op
 * may nest the whole order of its layers' filesystems, see LOCKING.md):
 *   fs->rename_lock
 *     → directory i_lock (ancestor before descendant; unrelated: by address)
 *       → non-directory i_lock (victims of unlink/rename)
 *         → vfs->mount_lock
 *           → dentry d_lock (children list, own last put) → fs lru_lock
 *             → one dcache stripe lock (never two), vfs->types_lock,
 *               vfs->dev_lock, file f_lock
 *         → vfs->rename_seq_lock (renames' rename_seq write sections)
 *           → d_lock, one stripe lock (d_move)
 * The dcache resizer: dcache_resize_lock (trylock) → one stripe at a time.
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
/* Deferred frees and their barrier run on a worker of our own
 * (rcu_defer.c: liburcu's costs >= 10 ms per barrier). */
void uvfs_rcu_defer(struct rcu_head *h, void (*fn)(struct rcu_head *)) HIDDEN;
static inline void call_rcu(struct rcu_head *h, void (*fn)(struct rcu_head *))
{
	RCU_TSAN_RELEASE();
	uvfs_rcu_defer(h, fn);
}
/* First and last statements of every call_rcu callback (the exit pairs
 * with the acquire after uvfs_rcu_barrier). */
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

/* One list type for the core and the public per-fs LRU (uvfs_fs.h). */
#define list_head uvfs_list_head
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
#define DF_LRU 0x20 /* on d_fs's LRU (set/cleared holding d_lock and lru_lock) */
#define DF_REVAL 0x40 /* d_op->revalidate exists: RCU fast loop hands d to walk_component */

/* d_ref of a dentry being freed: d_tryget fails. A count of 0 without it is
 * a parked (LRU) dentry that a lookup may revive (lockref style). */
#define DREF_DEAD (-(1L << 40))

/* Layout: the first 64-byte line holds everything an RCU-walk step reads
 * (chain link, hash, parent, inode, name pointer, flags) and the start of
 * the inline name, so a step over a short name touches one dentry line. */
struct uvfs_dentry {
	/* dcache chains: table t links its chains through d_hash_next[t->link].
	 * Two links so that a resize builds the new table's chains without
	 * touching those readers of the old table follow. Written under the
	 * bucket's stripe lock, read under RCU (dcache_first/dcache_next). */
	struct uvfs_dentry *d_hash_next[2];
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
	/* References; DREF_DEAD once being freed. 1 → 0 happens only under
	 * d_lock (uvfs_dentry_put), 0 → DREF_DEAD under d_lock too. */
	atomic_long d_ref;
	struct uvfs_lock d_lock; /* d_subdirs, children's d_child/d_off, and the 1 → 0 step of d_ref */
	uint64_t d_off; /* readdir offset in parent; under parent's d_lock */
	uint64_t d_next_off; /* next child offset; under d_lock */
	struct list_head d_child; /* in parent's d_subdirs; under parent's d_lock */
	union {
		struct list_head d_subdirs; /* children; under d_lock */
		struct rcu_head d_rcu; /* once dead: no children can exist then */
	};
	struct list_head d_lru; /* on d_fs->lru; under d_fs->lru_lock (see DF_LRU) */
	const struct uvfs_dentry_ops *d_op; /* set before d is published, then immutable */
	void *d_fsdata; /* the filesystem's */
};

#define DCACHE_STRIPES 256

/* A dcache bucket array. mask and link are immutable; each chain is
 * written under its stripe lock (bucket & (DCACHE_STRIPES-1)) and read
 * under RCU. Freed after a grace period once a resize has replaced it. */
struct dcache_table {
	uint64_t mask;
	unsigned link; /* index into d_hash_next: 0 and 1 alternate across resizes */
	struct uvfs_dentry *buckets[];
};

/* One stripe of the dcache: the lock of every bucket whose index is
 * congruent to it, and the tables whose chains writers keep up to date for
 * those buckets: tabs[0] always, tabs[1] during a resize once the new
 * table's chains of this stripe are built. Both under lock. */
struct dcache_stripe {
	struct uvfs_lock lock;
	struct dcache_table *tabs[2];
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
/* Chain walking for RCU readers (inline: the RCU-walk fast loop in namei.c
 * probes the table itself). t = rcu_load(vfs->dcache), loaded once inside
 * the read section; every table a reader can get is complete, resizes
 * included, so only renames (rename_seq) can make a reader miss. */
static inline struct uvfs_dentry *dcache_first(const struct dcache_table *t, uint64_t hash)
{
	return rcu_load(((struct dcache_table *)t)->buckets[hash & t->mask]);
}
static inline struct uvfs_dentry *dcache_next(const struct dcache_table *t, const struct uvfs_dentry *d)
{
	return rcu_load(((struct uvfs_dentry *)d)->d_hash_next[t->link]);
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
/* Unlink after unlink/rmdir: unhash, mark dead, drop the pin (and drop
 * any cached children of a removed directory). */
HIDDEN void d_delete(struct uvfs *vfs, struct uvfs_dentry *d);
/* Move d to (newparent, name): caller holds d_fs->rename_lock, rename_seq write. */
HIDDEN void d_move(struct uvfs *vfs, struct uvfs_dentry *d, struct uvfs_dentry *newparent,
		   const struct uvfs_dname *newname);
HIDDEN const struct uvfs_dname *d_name_alloc(const char *name, size_t len);
HIDDEN void d_name_free(const struct uvfs_dname *n);
HIDDEN bool d_tryget(struct uvfs_dentry *d);
HIDDEN bool d_is_ancestor(const struct uvfs_dentry *anc, const struct uvfs_dentry *d);
/* Teardown (no mount left): drop every cached dentry but the root and
 * empty the LRU. */
HIDDEN void d_shrink_fs(struct uvfs_filesystem *fs);
HIDDEN void d_lru_init(struct uvfs_filesystem *fs);

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
	char *m_source; /* immutable; NULL shows as "none" */
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
/* Mounts in m's subtree, m included; mount_lock held. */
HIDDEN size_t mnt_count_subtree(struct uvfs_mount *m);

/* ---------------------------------------------------------- instance */

struct fs_type_entry {
	const struct uvfs_fs_type *type;
	unsigned flags;
	/* uvfs_fs_type_data's slot: set once under types_lock, freed by
	 * uvfs_destroy after every filesystem is gone. */
	void *data;
	void (*data_free)(void *);
	struct fs_type_entry *next;
};

struct dev_table; /* device.c */

#define ANON_MINOR_MAX (1u << 20) /* anonymous device minors (bitmap size in bits) */
#define MOUNT_BUCKETS 1024

struct uvfs {
	/* Read-mostly: sampled by every RCU walk. Writers: renames
	 * (rename_seq, under rename_seq_lock), mount/umount (mount_seq). */
	uvfs_seq_t rename_seq __attribute__((aligned(CACHELINE)));
	uvfs_seq_t mount_seq;
	struct dcache_table *dcache; /* RCU; the table new readers use; written by the resizer */
	struct uvfs_mount **mount_hash; /* immutable array; chains RCU */
	_Atomic unsigned debug; /* UVFS_DEBUG_*: uvfs_set_debug; relaxed loads by each walk */

	/* Written often: keep off the read-mostly line. */
	atomic_long dcache_count __attribute__((aligned(CACHELINE)));
	_Atomic uint64_t dcache_size; /* buckets in vfs->dcache: the resize trigger */
	struct dcache_stripe dcache_stripes[DCACHE_STRIPES];
	pthread_mutex_t dcache_resize_lock; /* one resize at a time (trylock: inserts never wait) */
	/* Serialises rename_seq writers (renames; any rename lock, global or
	 * per filesystem, is not enough once there are several). */
	pthread_mutex_t rename_seq_lock;

	/* Shared by every rename, exclusive for path.c's locked climb (no
	 * d_parent moves in any filesystem); outer to fs->rename_lock. */
	pthread_rwlock_t rename_rw;
	pthread_mutex_t mount_lock; /* mount tree, mount table writes, writers/ro */
	pthread_mutex_t types_lock; /* fs_types */
	pthread_mutex_t dev_lock; /* devices, anon minors */
	struct fs_type_entry *fs_types;
	struct dev_table *devices; /* RCU-read at open; replaced under dev_lock */
	uint8_t *anon_minors; /* bitmap */
	uint32_t anon_next;
	/* Change subscribers (watch.c): the slots are RCU-read by every
	 * committed change that finds watch_n nonzero (one relaxed load when
	 * nobody listens); slots and watch_n are written under watch_lock. */
	unsigned watch_n; /* __atomic builtins */
	struct watch *watch[UVFS_WATCH_MAX];
	pthread_mutex_t watch_lock; /* leaf */
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
	uint32_t rseq, mseq; /* RCU-walk, and ref-walk of a scoped lookup */
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
/* The pathop's openat2 resolve flags, kept at their UVFS_RESOLVE_* values. */
#define ND_NO_XDEV UVFS_RESOLVE_NO_XDEV
#define ND_NO_SYMLINKS UVFS_RESOLVE_NO_SYMLINKS
#define ND_BENEATH UVFS_RESOLVE_BENEATH
#define ND_IN_ROOT UVFS_RESOLVE_IN_ROOT
#define ND_CACHED UVFS_RESOLVE_CACHED
#define ND_SCOPED (ND_BENEATH | ND_IN_ROOT) /* root = start; ".." re-validated */
#define ND_RESOLVE                                                                                            \
	(UVFS_RESOLVE_NO_XDEV | UVFS_RESOLVE_NO_MAGICLINKS | UVFS_RESOLVE_NO_SYMLINKS | UVFS_RESOLVE_BENEATH | \
	 UVFS_RESOLVE_IN_ROOT | UVFS_RESOLVE_CACHED)
#define ND_RESOLVE_RESERVED (0xff00u & ~ND_RESOLVE)
#define ND_REVAL 0x10 /* third try after -ESTALE: revalidate with UVFS_LOOKUP_REVAL */

/* Resolve pop. WALK_FINAL: *out = the final vd with refs. WALK_PARENT:
 * *out = parent dir with refs; nd->last/last_len name the last component
 * (valid until walk_end). */
HIDDEN int walk_path(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
		     enum walk_final final, struct nameidata *nd, struct uvfs_vd *out);
HIDDEN void walk_end(struct nameidata *nd);
/* O_CREAT through a symlink: continue a WALK_PARENT walk through link's
 * body with the same link budget; replaces *parent and nd->last. */
HIDDEN int walk_parent_follow(struct nameidata *nd, struct uvfs_dentry *link, struct uvfs_vd *parent);
/* O_CREAT open of an existing jump link: *parent becomes its target. */
HIDDEN int walk_jump_final(struct nameidata *nd, struct uvfs_dentry *link, struct uvfs_vd *parent);
/* Ref mode: cross the mounts stacked on *vd (references replaced); -EXDEV
 * with ND_NO_XDEV in ndflags. */
HIDDEN int follow_mounts_ref(struct uvfs *vfs, struct uvfs_vd *vd, unsigned ndflags);
/* Look up one child of parent (a referenced vd, a directory) by name in ref
 * mode, calling the fs lookup on misses; does not cross mounts. Returns a
 * referenced dentry (possibly negative) or -errno. Caller holds no locks. */
HIDDEN int lookup_one(struct uvfs *vfs, struct uvfs_dentry *parent, const char *name, size_t len,
		      struct uvfs_dentry **out);
/* Same, but the caller holds parent's i_lock. */
HIDDEN int lookup_one_locked(struct uvfs *vfs, struct uvfs_dentry *parent, const char *name, size_t len,
			     struct uvfs_dentry **out);

/* ------------------------------------------------------------ permission */

#define MAY_EXEC UVFS_MAY_EXEC
#define MAY_WRITE UVFS_MAY_WRITE
#define MAY_READ UVFS_MAY_READ

/* Mode, uid and gid from one attribute state (i_seq). */
HIDDEN int inode_permission(const struct uvfs_cred *cred, struct uvfs_inode *inode, int mask);
/* Both call the inode's ->permission op when it has one (UVFS_MAY_NOT_BLOCK
 * for the RCU form). */
/* Same for RCU-walk: -ECHILD if a writer holds i_seq past a bounded spin. */
HIDDEN int inode_permission_rcu(const struct uvfs_cred *cred, struct uvfs_inode *inode, int mask);
HIDDEN bool inode_owner_or_capable(const struct uvfs_cred *cred, const struct uvfs_inode *inode);
HIDDEN int may_delete_sticky(const struct uvfs_cred *cred, struct uvfs_inode *dir, struct uvfs_inode *victim);

/* Copy the attributes of inode under its seqcount. Inline so the RCU-walk
 * stat (namei.c) copies without a call. bounded (RCU readers): false if a
 * writer kept i_seq odd past a bounded spin; otherwise waits. */
static inline __attribute__((always_inline)) bool inode_fill_statx_seq(struct uvfs_inode *i, struct statx *st,
									bool bounded)
{
	const dev_t fsdev = i->i_fs->dev;
	uint32_t seq;
	/* Zero with plain 16-byte stores: gcc turns a 256-byte zeroing into
	 * rep stosq, whose start-up costs more than the rest of a short stat. */
	typedef long long v2 __attribute__((vector_size(16), may_alias, aligned(8))); /* statx is only 8-aligned */
	_Static_assert(sizeof(struct statx) == 16 * sizeof(v2), "statx is 256 bytes");
	v2 *q = (v2 *)st;
	const v2 z = { 0, 0 };
	/* Unrolled on purpose: a loop is turned back into rep stosq. */
	q[0] = z, q[1] = z, q[2] = z, q[3] = z, q[4] = z, q[5] = z, q[6] = z, q[7] = z;
	q[8] = z, q[9] = z, q[10] = z, q[11] = z, q[12] = z, q[13] = z, q[14] = z, q[15] = z;
	do {
		if (!bounded)
			seq = uvfs_seq_read_begin(&i->i_seq);
		else if (!uvfs_seq_read_try_begin(&i->i_seq, &seq))
			return false;
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
	return true;
}
static inline __attribute__((always_inline)) void inode_fill_statx(struct uvfs_inode *i, struct statx *st)
{
	inode_fill_statx_seq(i, st, false);
}
/* The lock-free getattr (RCU read section held, no reference on d): the
 * generic one, or the inode's ->getattr_rcu; 0 or -ECHILD. */
static inline __attribute__((always_inline)) int stat_dentry_rcu(struct uvfs_dentry *d, unsigned mask,
								 struct statx *st)
{
	struct uvfs_inode *i = rcu_load(d->d_inode);
	if (unlikely(!i))
		return -ECHILD;
	if (likely(!i->i_op->getattr))
		return inode_fill_statx_seq(i, st, true) ? 0 : -ECHILD;
	if (!i->i_op->getattr_rcu || i->i_op->getattr_rcu(d, mask, st))
		return -ECHILD;
	return 0;
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
/* A file's copy of its opener's cred: no borrowed pointers survive; the group
 * list is copied (owned by the file, freed with it) only when with_groups. */
HIDDEN int cred_copy_for_file(const struct uvfs_cred *src, struct uvfs_cred *dst, bool with_groups); /* cred.c */
HIDDEN int stat_dentry(struct uvfs_dentry *d, unsigned mask, struct statx *out); /* stat.c */
HIDDEN int setattr_truncate(struct uvfs_file *f, const struct uvfs_cred *cred, uint64_t size); /* attr.c */
/* setuid/setgid bits a write or truncate by cred removes from a file of
 * (mode, gid): Linux setattr_should_drop_suidgid. attr.c. */
HIDDEN uint32_t suidgid_to_drop(const struct uvfs_cred *cred, uint32_t mode, uint32_t gid);
HIDDEN void rename_seq_begin(struct uvfs *vfs); /* dcache.c */
HIDDEN void rename_seq_end(struct uvfs *vfs);
HIDDEN int fs_type_find(struct uvfs *vfs, const char *name, const struct uvfs_fs_type **type, unsigned *flags); /* fstype.c */
HIDDEN int device_lookup(struct uvfs *vfs, int kind, dev_t rdev, const struct uvfs_file_ops **fops, void **priv);
HIDDEN void device_fini(struct uvfs *vfs); /* device.c: after the last RCU barrier */
/* rw.c / file.c: the read and write entry points share these. */
HIDDEN int file_may_read(struct uvfs_file *f); /* -EBADF, -EISDIR, -EINVAL (no read op) */
HIDDEN int file_may_write(struct uvfs_file *f); /* -EBADF, -EINVAL (no write op) */
HIDDEN void file_remove_privs(struct uvfs_file *f);
/* file.c: report a committed write (no lock held). */
HIDDEN void write_done(struct uvfs_file *f, ssize_t n, uint64_t at);
HIDDEN ssize_t rw_verify_area(struct uvfs_file *f, int64_t pos, size_t count);
HIDDEN ssize_t rw_read(struct uvfs_file *f, void *buf, size_t len, int64_t pos); /* verifies, then ->read or ->read_iter */
HIDDEN ssize_t rw_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *pos); /* len verified */
HIDDEN int file_setfl(struct uvfs_file *f, const struct uvfs_cred *cred, int flags); /* setfl.c; cred NULL: no O_NOATIME check */
HIDDEN int file_alloc(struct uvfs_vd *vd, struct uvfs_inode *inode, int flags, struct uvfs_file **out);
/* path.c: build the path of (mnt, d) seen from root at the end of buf
 * (text in buf[*pos, len), no NUL). Returns PATH_* (root not reached: the
 * path from the top of the mount tree; escaped a bind root: empty, shown
 * as "/"), -ERANGE, or with PATH_MOUNT_LOCKED -EAGAIN when renames kept
 * racing (retry holding rename_lock too). */
enum { PATH_REACHED, PATH_UNREACHABLE, PATH_ESCAPED };
enum path_locks {
	PATH_UNLOCKED, /* caller holds no lock */
	PATH_MOUNT_LOCKED, /* caller holds mount_lock */
	PATH_ALL_LOCKED, /* caller holds rename_lock and mount_lock */
};
HIDDEN int path_build(struct uvfs *vfs, const struct uvfs_vd *root, struct uvfs_mount *mnt, struct uvfs_dentry *d,
		      char *buf, size_t len, size_t *pos, enum path_locks locks);
/* Path of d from its filesystem's root, NUL-terminated ("//deleted" suffix
 * when unlinked); length, -ERANGE or -EAGAIN as path_build. */
HIDDEN ssize_t dentry_path(struct uvfs *vfs, struct uvfs_dentry *d, char *buf, size_t len, enum path_locks locks);

/* ------------------------------------------------------------- watch.c */

struct watch {
	const struct uvfs_watch_ops *ops; /* immutable */
	void *arg; /* immutable */
	atomic_long active; /* callbacks running (watch.c) */
};
HIDDEN void watch_entry_slow(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_inode *dir, const char *name,
			     size_t len, struct uvfs_inode *child);
HIDDEN void watch_inode_slow(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_inode *inode, uint64_t off,
			     uint64_t len);
/* Mount added on / removed from (parent, point): reported as an entry
 * change of the name the covered dentry has in its directory. */
HIDDEN void watch_umount(struct uvfs *vfs, struct uvfs_mount *m);
HIDDEN void watch_mount(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_mount *parent,
			struct uvfs_dentry *point, struct uvfs_inode *child);
HIDDEN void watch_fini(struct uvfs *vfs);
/* Report a committed change; callers hold no VFS lock (LOCKING.md). */
static inline void watch_entry(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_inode *dir, const char *name,
			       size_t len, struct uvfs_inode *child)
{
	if (unlikely(load_relaxed(vfs->watch_n)))
		watch_entry_slow(vfs, ev, dir, name, len, child);
}
static inline void watch_inode(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_inode *inode, uint64_t off,
			       uint64_t len)
{
	if (unlikely(load_relaxed(vfs->watch_n)))
		watch_inode_slow(vfs, ev, inode, off, len);
}
