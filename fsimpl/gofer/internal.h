/* fsimpl/gofer/internal.h — declarations shared by the gofer filesystem's
 * .c files only.
 *
 * Each inode holds a 9P fid walked to its file (the "path fid"); open
 * files hold fids of their own (a clone of it, Tlopen'ed). diod names
 * files by path, so a rename through us walks a fresh path fid for the
 * moved inode, and fids below a renamed directory are re-walked on their
 * next use (gofer_fresh_fid); an old fid is retired (kept until the inode
 * is evicted, because another thread may be using it right now) rather
 * than clunked.
 *
 * Lock order: the VFS's (vfs/LOCKING.md). Directory ops run under the
 * directory's i_lock (held by the VFS); the gofer takes an inode's i_lock
 * itself only where the VFS does not hold it (getattr, revalidate, write)
 * to store attributes. A gofer inode's fid_lock is a leaf inside all of
 * them. The 9P client has its own internal locks, all
 * leaves with respect to ours. No gofer lock is held across a 9P call
 * except the VFS-held i_locks above.
 */
#pragma once

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "uvfs.h"
#include "uvfs_fs.h"
#include "fsimpl/gofer/gofer.h"
#include "fsimpl/gofer/p9/p9.h"

#define GOFER_HIDDEN __attribute__((visibility("hidden")))

#define V9FS_MAGIC 0x01021997
#define GOFER_NAME_MAX 255
/* A directory stream yields at most this many entries (from its start): a
 * server whose directory never ends cannot keep a reader (and the memory
 * of an `ls` collecting names) growing forever. */
#define GOFER_MAX_DIRENTS (1L << 20)
/* A lazy path fid (fscache modes, non-directories listed by a readdir and
 * fetched by the ls -l look-ahead): the inode holds no fid on the server
 * until an op needs one; gofer_fresh_fid walks it from the parent then
 * (its fid_gen is GOFER_LAZYGEN, never current). diod keeps a
 * connection's fids in a 64-bucket hash of lists, so every live fid
 * slows every new one: 50,000 cached files cost 13x the time of 10,000. */
#define GOFER_LAZYFID (UVFS_P9_NOFID - 1)
#define GOFER_LAZYGEN (~0UL)
/* The smallest page cache bound (pcache_max=): four 64 KiB pages. */
#define GOFER_PC_MIN (256u << 10)

enum gofer_cache {
	GOFER_CACHE_FSCACHE, /* exclusive: dentries and attributes trusted */
	GOFER_CACHE_FSCACHE_WT, /* same here: writes always go through */
	GOFER_CACHE_REVAL, /* shared: every cached dentry revalidated on a walk */
	GOFER_CACHE_NONE, /* as REVAL, and nothing kept unreferenced */
};

struct gofer_fs {
	struct uvfs_filesystem vfs;
	/* All immutable after get_fs. */
	struct uvfs_p9_client *c;
	struct uvfs_gofer_proc *proc; /* reaped at release; may be NULL */
	enum gofer_cache cache;
	uint32_t dfltuid, dfltgid, msize, timeout_ms;
	bool stale_read;
	char *source, *aname, *trans;
	atomic_bool lost_logged; /* the connection loss was logged */
	/* Directory renames made through this mount. diod's fids name paths,
	 * so a fid walked before a directory moved may point at the old
	 * path: cached dentries whose fid is older are re-walked (fscache)
	 * on their next lookup. */
	_Atomic unsigned long dir_renames;
	/* Live non-directory inodes by qid.path (itab.c): a leaf lock over
	 * the buckets and the inodes' itab_next/in_itab. */
	struct uvfs_lock itab_lock;
	struct gofer_inode **itab;
	size_t itab_size, itab_count;
	/* The page cache's memory bound (pcache.c, fscache modes): pc_max is
	 * immutable (pcache_max=); pc_bytes (atomic) counts cached pages'
	 * bytes, reservations included; pc_lru (under pc_lru_lock, a leaf
	 * inside any inode's pc_lock) lists every cached page, least
	 * recently used first. */
	uint64_t pc_max;
	_Atomic uint64_t pc_bytes;
	struct uvfs_lock pc_lru_lock;
	struct uvfs_list_head pc_lru;
	/* A spare WB_MAX bounce buffer for fetches and write-backs (taken and
	 * given back with atomic exchanges; freed at release): a fresh 4 MiB
	 * malloc per fetch is an mmap whose pages all fault in again. */
	_Atomic(uint8_t *) pc_spare;
};

struct gofer_inode {
	struct uvfs_inode vfs;
	/* The path fid (UVFS_P9_NOFID: a synthetic directory, in memory
	 * only). Loaded atomically by any op; replaced (rename, re-walk)
	 * under fid_lock, the old one going to retired. */
	_Atomic uint32_t fid;
	/* fs->dir_renames sampled before fid was walked; stored with fid. */
	_Atomic unsigned long fid_gen;
	uint64_t qid_path; /* immutable: the server's identity of the file */
	/* immutable: S_IFMT bits. Read this, not vfs.i_mode, outside the
	 * attribute seqlock: i_mode's permission bits are rewritten by every
	 * refresh, so a plain read of the word races (TSan, stress_gofer). */
	mode_t type;
	/* The first gofer_attr_store is done (gofer_new_inode, before the
	 * inode is published); later ones are refreshes (under i_lock). */
	bool attrs_set;
	/* A leaf lock (inside any i_lock; never held across a 9P call):
	 * fid replacement and the retired list. */
	struct uvfs_lock fid_lock;
	uint32_t *retired; /* under fid_lock: old path fids, clunked at evict */
	unsigned nretired; /* under fid_lock */
	/* Path fids of the file's other names made by a link through us (the
	 * new name shares this inode, as on a local fs): when the name fid
	 * walks goes, gofer_repoint moves fid to a live one. Under fid_lock;
	 * clunked at evict. */
	uint32_t *links;
	unsigned nlinks;
	/* Directories, remote_revalidating/none: the name the last walk took
	 * from here and its inode (NULL: a negative name), so a revalidation
	 * batch can follow a path down from its first cached component
	 * (reval.c). Under fid_lock; hint holds an inode reference, put when
	 * replaced or at evict. */
	struct uvfs_inode *hint;
	char *hint_name;
	/* Directories, fscache modes: every name the server listed, sorted,
	 * after a complete readdir with no change through us since it began
	 * (NULL: unknown). A lookup of another name is ENOENT without asking.
	 * Under the inode's i_lock; dir_gen counts namespace changes through
	 * us in this directory (under i_lock too). */
	struct gofer_names *names;
	unsigned long dir_gen;
	/* With names: walked fids and attributes of the next names in
	 * listing order, fetched pipelined by a lookup (names.c); under
	 * i_lock. */
	struct gofer_prefetch *pf;
	/* Under the fs's itab_lock. */
	struct gofer_inode *itab_next;
	bool in_itab;
	/* Open fids of this file (regular files), under fid_lock: a getattr
	 * whose path is gone on the host asks one of them (an open file
	 * removed on the host keeps its attributes, as on Linux). */
	uint32_t *open_fids;
	unsigned nopen;
	/* POSIX record locks (file.c, "lock owners"), all under lk_lock:
	 * ranges, exact among this process's owners; (owner, open fid)
	 * records, so that releasing a fid drops the locks of every owner
	 * that locked through it (POSIX close); and the whole-file server
	 * lock excluding other clients (diod's Tlock is flock(2)), held
	 * through srv_fid (its own open fid) while any range exists, of
	 * srv_type (9P RDLCK/WRLCK). lk_lock IS held across the Tlocks;
	 * nothing else is taken inside it but the 9P client's leaves. */
	struct uvfs_lock lk_lock;
	struct uvfs_rlock *ranges;
	struct gofer_lockrec *lks;
	unsigned nlks;
	bool srv_held;
	uint8_t srv_type;
	uint32_t srv_fid;
	/* fscache modes, regular files: cached data (pcache.c), under
	 * pc_lock; pc_dirty (atomic) says some page is dirty. */
	struct uvfs_lock pc_lock;
	struct gofer_page **pages;
	size_t npages;
	atomic_bool pc_dirty;
	uint32_t wb_fid; /* under pc_lock: the last writer's open fid (0 or NOFID: none) */
	uint64_t ra_next; /* under pc_lock: where a sequential read would go on (readahead) */
	uint64_t ra_win; /* under pc_lock: the readahead window, grown while reads stay sequential */
	uint64_t wr_end; /* under pc_lock: end of the write in progress (its bytes are past i_size yet) */
	/* Directories on the server: the synthetic children made here
	 * (gVisor's syntheticChildren), in creation order, each holding a
	 * reference on its inode: lookup finds them before the server (an
	 * evicted dentry comes back), readdir lists them after the server's
	 * names. Only ever appended; freed at evict. Under the directory's
	 * i_lock. */
	struct gofer_synth *synth;
	size_t nsynth;
	/* Symlinks: the target follows the struct (vfs.i_link points there). */
};

struct gofer_synth {
	char *name;
	struct uvfs_inode *inode; /* one reference */
};

struct gofer_lockrec {
	uint64_t owner;
	uint32_t fid;
};

/* An open file's state (f_private). */
struct gofer_file {
	uint32_t fid; /* immutable: open fid, clunked at release */
	/* Directories, under the VFS's f_lock: where the last iterate stopped,
	 * as (VFS position, 9P cookie) so the next call resumes there. */
	int64_t dir_pos;
	uint64_t dir_cookie;
	/* Loop detection over the cookies of this stream (Brent): the
	 * cookie saved at the last power-of-two step; a cookie equal to it
	 * means the server cycles. dir_seen counts entries from the start. */
	uint64_t brent_saved, brent_steps, brent_power;
	int64_t dir_seen;
	/* fscache modes, under f_lock: the names of a stream read from its
	 * start (names.c); NULL when not collecting. */
	struct gofer_names_build *names;
	/* Under f_lock: the stream position of the directory's first
	 * synthetic child (after the server's names), -1 until the server's
	 * end was reached from the stream's start or a seek. */
	int64_t synth_base;
};

static inline struct gofer_fs *GFS(struct uvfs_filesystem *fs) { return container_of(fs, struct gofer_fs, vfs); }
static inline struct gofer_inode *GI(struct uvfs_inode *i) { return container_of(i, struct gofer_inode, vfs); }
static inline uint32_t gofer_fid(struct uvfs_inode *i)
{
	return atomic_load_explicit(&GI(i)->fid, memory_order_acquire);
}
static inline struct uvfs_p9_client *GC(struct uvfs_inode *i) { return GFS(i->i_fs)->c; }

/* Passes err through; a lost connection is logged once per mount, with its
 * source. */
GOFER_HIDDEN int gofer_err(struct gofer_fs *fs, int err);
/* A name from the server is usable: not empty, ".", "..", no '/' or NUL,
 * at most GOFER_NAME_MAX bytes. */
GOFER_HIDDEN bool gofer_name_ok(const char *name, size_t len);

/* A new inode for the file behind path fid `fid` (consumed: clunked on
 * failure), of attributes a; symlinks read their target. One reference. */
GOFER_HIDDEN int gofer_new_inode(struct gofer_fs *fs, uint32_t fid, const struct uvfs_p9_attr *a,
				 struct gofer_inode **out);
/* Walks name from directory dir and makes its inode: -ENOENT if absent. */
GOFER_HIDDEN int gofer_walk_new(struct gofer_fs *fs, struct uvfs_inode *dir, const char *name,
				struct gofer_inode **out);
/* Store a's attributes in inode: caller holds i_lock (or the inode is not
 * published yet). */
GOFER_HIDDEN void gofer_attr_store(struct uvfs_inode *inode, const struct uvfs_p9_attr *a);
/* d's inode's path fid, re-walked first if a directory rename through this
 * mount may have left it naming an old path (no lock held). 0 or -ESTALE
 * (the name now reaches another file) or -errno. */
GOFER_HIDDEN int gofer_fresh_fid(struct uvfs_dentry *d, uint32_t *fid);
/* Make fid (walked when fs->dir_renames was gen) gi's path fid, retiring
 * the old one. false (nothing changed) when out of memory. */
GOFER_HIDDEN bool gofer_swap_fid(struct gofer_inode *gi, uint32_t fid, unsigned long gen);
/* Remembers fid (walked to another name of gi's file) in gi->links. */
GOFER_HIDDEN bool gofer_add_link_fid(struct gofer_inode *gi, uint32_t fid);
/* A name of gi's file went: if its path fid no longer reaches the file,
 * take a live one from gi->links (dead ones are retired). */
GOFER_HIDDEN void gofer_repoint(struct gofer_inode *gi);
/* Re-read inode's attributes from the server and store them (i_lock held
 * by the caller iff locked). */
GOFER_HIDDEN int gofer_refresh(struct uvfs_inode *inode, bool locked);

/* The page cache (pcache.c). */
struct gofer_page;
GOFER_HIDDEN bool gofer_pc_enabled(struct uvfs_inode *inode);
GOFER_HIDDEN ssize_t gofer_pc_read(struct uvfs_inode *inode, uint32_t fid, void *buf, size_t len, uint64_t off);
GOFER_HIDDEN ssize_t gofer_pc_write(struct uvfs_file *f, uint32_t fid, const void *buf, size_t len, uint64_t off);
/* fid UVFS_P9_NOFID: the last writer's fid, if its file is still open
 * (setattr of times must come after the data, or the write-back would
 * move the server's mtime again: cp -a). */
GOFER_HIDDEN int gofer_pc_writeback(struct uvfs_inode *inode, uint32_t fid);
/* A file with open fid fid goes: it is no longer the write-back fid. */
GOFER_HIDDEN void gofer_pc_forget_fid(struct uvfs_inode *inode, uint32_t fid);
/* i_lock held (setattr). */
GOFER_HIDDEN void gofer_pc_truncate(struct uvfs_inode *inode, uint64_t size);
GOFER_HIDDEN void gofer_pc_free(struct gofer_inode *gi);
/* get_fs: the bound (bytes) and the empty LRU. */
GOFER_HIDDEN void gofer_pc_init(struct gofer_fs *fs, uint64_t max);
GOFER_HIDDEN void gofer_pc_fini(struct gofer_fs *fs);

/* The inode table (itab.c). get: a referenced inode of that qid, or NULL. */
GOFER_HIDDEN void gofer_itab_add(struct gofer_fs *fs, struct gofer_inode *gi);
GOFER_HIDDEN void gofer_itab_del(struct gofer_fs *fs, struct gofer_inode *gi);
GOFER_HIDDEN struct gofer_inode *gofer_itab_get(struct gofer_fs *fs, uint64_t qid_path);
GOFER_HIDDEN void gofer_itab_free(struct gofer_fs *fs);

/* Remote revalidation (reval.c): the dentry op, and the hint a walk
 * leaves in directory dir for its child name (inode NULL: negative). */
GOFER_HIDDEN int gofer_revalidate(struct uvfs_dentry *d, unsigned flags);
GOFER_HIDDEN void gofer_set_hint(struct uvfs_inode *dir, const char *name, size_t len, struct uvfs_inode *child);
GOFER_HIDDEN void gofer_batch_forget(void);
/* Frees gi's hint (evict). */
GOFER_HIDDEN void gofer_drop_hint(struct gofer_inode *gi);

/* Complete directories (names.c). Under the directory's i_lock: a
 * namespace change through us (create, remove, rename) forgets the set;
 * lookup: 1 listed, 0 not listed, -1 no set. */
struct gofer_names;
struct gofer_names_build;
GOFER_HIDDEN void gofer_dir_changed(struct uvfs_inode *dir);
/* fscache lookup of name in a listed dir (i_lock held): 0 with *out (a
 * new or shared inode), -ENOENT (not listed), -EAGAIN (no listing: ask
 * alone), other -errno. Fetches the next names' fids and attributes in
 * two pipelined round trips (ls -l: readdir, then stat every entry). */
GOFER_HIDDEN int gofer_listed_lookup(struct uvfs_inode *dir, const char *name, struct gofer_inode **out);
GOFER_HIDDEN void gofer_prefetch_drop(struct gofer_inode *gi);
/* The inode for walked fid (consumed) of attributes a: shared with a live
 * inode of the same file (itab) or new. */
GOFER_HIDDEN int gofer_inode_from(struct gofer_fs *fs, uint32_t fid, const struct uvfs_p9_attr *a, unsigned long gen,
				  struct gofer_inode **out);
GOFER_HIDDEN int gofer_names_lookup(struct uvfs_inode *dir, const char *name);
GOFER_HIDDEN void gofer_names_drop(struct gofer_names *s);
/* A stream's collection (no lock held: takes dir's i_lock to publish). */
GOFER_HIDDEN struct gofer_names_build *gofer_names_begin(struct uvfs_inode *dir);
GOFER_HIDDEN bool gofer_names_add(struct gofer_names_build *b, const char *name, size_t len);
GOFER_HIDDEN void gofer_names_abort(struct gofer_names_build *b);
GOFER_HIDDEN void gofer_names_publish(struct uvfs_inode *dir, struct gofer_names_build *b);

/* Synthetic children (dir.c). A copy of dir's list (takes dir's
 * i_lock): names malloc'd, inode references held; gofer_synth_free. */
GOFER_HIDDEN int gofer_synth_copy(struct uvfs_inode *dir, struct gofer_synth **out, size_t *n);
GOFER_HIDDEN void gofer_synth_free(struct gofer_synth *s, size_t n);

GOFER_HIDDEN extern const struct uvfs_inode_ops gofer_dir_iops, gofer_reg_iops, gofer_symlink_iops,
	gofer_special_iops;
GOFER_HIDDEN extern const struct uvfs_inode_ops gofer_dir_iops_reval, gofer_reg_iops_reval,
	gofer_symlink_iops_reval, gofer_special_iops_reval;
GOFER_HIDDEN extern const struct uvfs_file_ops gofer_dir_fops, gofer_reg_fops, gofer_special_fops;
GOFER_HIDDEN extern const struct uvfs_dentry_ops gofer_reval_dops;

/* Shared inode ops (file.c). */
GOFER_HIDDEN int gofer_getattr(struct uvfs_dentry *d, unsigned mask, struct statx *out);
GOFER_HIDDEN int gofer_setattr(struct uvfs_dentry *d, const struct uvfs_setattr *attr, struct uvfs_file *file);
GOFER_HIDDEN ssize_t gofer_getxattr(struct uvfs_dentry *d, struct uvfs_inode *inode,
		const char *name, void *buf, size_t len);
GOFER_HIDDEN int gofer_setxattr(struct uvfs_dentry *d, struct uvfs_inode *inode,
		const char *name, const void *val, size_t len, int flags);
GOFER_HIDDEN ssize_t gofer_listxattr(struct uvfs_dentry *d, struct uvfs_inode *inode, char *buf, size_t len);
GOFER_HIDDEN int gofer_removexattr(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name);
