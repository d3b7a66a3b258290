/* fsimpl/tmpfs/internal.h — declarations shared by tmpfs's .c files only.
 *
 * Lock order (outer → inner), within the VFS order of vfs/internal.h:
 *   directory i_lock (held by the VFS for directory ops)
 *     → non-directory i_lock (victims; file writes, truncate, xattrs, atime)
 *       → tmpfs_pages.lock (rwlock: page contents and, once the store
 *         exists, i_size of a regular file)
 *         → pagealloc.c's lock (process-wide leaf: the chunk headers)
 * Per-fs counters (pages, inodes) are atomics.
 */
#pragma once

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "uvfs.h"
#include "uvfs_fs.h"
#include "fsimpl/tmpfs/tmpfs.h"

#define TMPFS_HIDDEN __attribute__((visibility("hidden")))

#define TMPFS_MAGIC 0x01021994
#define TMPFS_PAGE_SHIFT 12
#define TMPFS_PAGE_SIZE (1UL << TMPFS_PAGE_SHIFT)
#define TMPFS_MAX_FILE_SIZE ((uint64_t)INT64_MAX)
#define TMPFS_SYMLINK_MAX 4095 /* PATH_MAX - 1 */
/* Symlink targets this long or longer take a page (blocks and size=
 * budget), as on Linux, where shorter ones are stored inline. */
#define TMPFS_SYMLINK_PAGE_MIN 128
/* A directory's size grows by this per entry, as on Linux tmpfs
 * (BOGO_DIRENT_SIZE); an empty directory counts "." and "..". */
#define TMPFS_DIRENT_SIZE 20

/* What the VFS holds when it calls file ops (vfs/file.c): f_lock, not
 * i_lock, across ->write, ->read and ->iterate; i_lock across ->truncate.
 * The lock is not recursive, so tmpfs takes i_lock itself only where the
 * VFS does not hold it. */
#define TMPFS_VFS_LOCKS_WRITE 0
#define TMPFS_VFS_LOCKS_ITERATE 0

/* ------------------------------------------------------------ budgets */

/* A counted resource with an optional limit (0 = unlimited). */
struct tmpfs_budget {
	atomic_long used;
	long max; /* set by get_fs; changed by a remount (relaxed atomic store): read it with tmpfs_budget_max */
};
static inline long tmpfs_budget_max(const struct tmpfs_budget *b) { return __atomic_load_n(&b->max, __ATOMIC_RELAXED); }

/* Reserve n units: 0 or -ENOSPC. */
TMPFS_HIDDEN int tmpfs_budget_take(struct tmpfs_budget *b, long n);
TMPFS_HIDDEN void tmpfs_budget_give(struct tmpfs_budget *b, long n);

/* ------------------------------------------------------ page memory */

/* Data pages (pagealloc.c): page-aligned, zeroed, from mmap'd chunks; freed
 * pages go back to the OS. Thread-safe (a leaf lock of its own). */
TMPFS_HIDDEN void *tmpfs_page_alloc(void); /* NULL: out of memory */
/* Frees are batched so that neighbouring pages are released in one call:
 * add with tmpfs_page_free, finish with tmpfs_page_flush. */
#define TMPFS_PAGE_BATCH 64
struct tmpfs_page_batch {
	unsigned n;
	void *pg[TMPFS_PAGE_BATCH];
};
TMPFS_HIDDEN void tmpfs_page_free(struct tmpfs_page_batch *b, void *pg);
TMPFS_HIDDEN void tmpfs_page_flush(struct tmpfs_page_batch *b);
/* Chunks currently mapped (tests, benches). */
TMPFS_HIDDEN long tmpfs_page_chunks(void);

/* --------------------------------------------------------- page store */

/* Sparse page index of a regular file: a radix tree of 64-slot nodes whose
 * height grows with the largest page index; height 0 means root is the page
 * of index 0 itself (small files need no node). Absent pages are holes. */
struct tmpfs_pages {
	/* Readers: page contents and i_size. Writers (also holding i_lock):
	 * everything below, page contents and i_size. */
	pthread_rwlock_t lock;
	void *root;
	unsigned height;
	uint64_t npages; /* allocated pages */
};

TMPFS_HIDDEN struct tmpfs_pages *tmpfs_pages_new(void);
/* Frees every page (returning them to b) and the store. */
TMPFS_HIDDEN void tmpfs_pages_destroy(struct tmpfs_pages *p, struct tmpfs_budget *b);
/* Copy len bytes at off into buf; holes read as zeros. Caller bounds the
 * range by i_size. Lock held (read). */
TMPFS_HIDDEN void tmpfs_pages_read(struct tmpfs_pages *p, uint64_t off, void *buf, size_t len);
/* Write len bytes at off, allocating pages from b. Returns bytes written
 * (short only when the budget runs out) or -ENOSPC/-ENOMEM if none were.
 * Lock held (write). */
TMPFS_HIDDEN ssize_t tmpfs_pages_write(struct tmpfs_pages *p, struct tmpfs_budget *b, uint64_t off,
				       const void *buf, size_t len);
/* First page index >= idx that holds data (data) or is a hole (!data);
 * UINT64_MAX if no data follows. p may be NULL (all holes). Lock held (read). */
TMPFS_HIDDEN uint64_t tmpfs_pages_next(struct tmpfs_pages *p, uint64_t idx, bool data);
/* Drop pages at and beyond size and zero the tail of the last partial page,
 * so that later growth reads zeros. Lock held (write). */
TMPFS_HIDDEN void tmpfs_pages_truncate(struct tmpfs_pages *p, struct tmpfs_budget *b, uint64_t size);
/* Make [off, off + len) read as zeros: whole pages are freed, partial ones
 * cleared (FALLOC_FL_PUNCH_HOLE). Lock held (write). */
TMPFS_HIDDEN void tmpfs_pages_punch(struct tmpfs_pages *p, struct tmpfs_budget *b, uint64_t off, uint64_t len);
/* Clear [off, off + len) in the pages present (ZERO_RANGE). Lock held (write). */
TMPFS_HIDDEN void tmpfs_pages_zero(struct tmpfs_pages *p, uint64_t off, uint64_t len);
/* Pages present with index in [first, last]. p may be NULL. Lock held. */
TMPFS_HIDDEN uint64_t tmpfs_pages_count(struct tmpfs_pages *p, uint64_t first, uint64_t last);
/* Allocate every absent page with index in [first, last], their budget
 * already reserved by the caller. Returns 0, or -ENOMEM with *added (the
 * pages allocated before the failure) so the caller can give back the rest.
 * Lock held (write). */
TMPFS_HIDDEN int tmpfs_pages_fill(struct tmpfs_pages *p, uint64_t first, uint64_t last, uint64_t *added);

/* -------------------------------------------------------------- xattrs */

/* In-memory xattr store, NULL until the first set. The caller serialises
 * every call (tmpfs: the inode's i_lock). flags: XATTR_CREATE/REPLACE. */
struct memxattr;
#define MEMXATTR_NAME_MAX 255
#define MEMXATTR_VALUE_MAX 65536
TMPFS_HIDDEN ssize_t memxattr_get(struct memxattr *const *x, const char *name, void *buf, size_t len);
TMPFS_HIDDEN int memxattr_set(struct memxattr **x, const char *name, const void *val, size_t len, int flags);
TMPFS_HIDDEN ssize_t memxattr_list(struct memxattr *const *x, char *buf, size_t len);
TMPFS_HIDDEN int memxattr_remove(struct memxattr **x, const char *name);
TMPFS_HIDDEN void memxattr_free(struct memxattr **x);

/* ------------------------------------------------------- fs and inodes */

struct tmpfs_fs {
	struct uvfs_filesystem vfs;
	_Atomic uint64_t next_ino; /* atomic; 1 is the root */
	struct tmpfs_budget pages; /* data pages */
	struct tmpfs_budget inodes; /* live inodes (root included) + extra hard links */
	uint32_t root_mode, root_uid, root_gid; /* immutable: as mounted, for show_options */
};

struct tmpfs_inode {
	struct uvfs_inode vfs;
	/* Regular files: page store, NULL until the first write that stores
	 * data. Published with release order under i_lock; freed at evict. */
	struct tmpfs_pages *pages;
	struct memxattr *xattrs; /* under i_lock */
	/* Symlinks: the target follows the struct (vfs.i_link points there),
	 * so it is freed with the inode after the RCU grace period. */
};

static inline struct tmpfs_fs *TFS(struct uvfs_filesystem *fs) { return container_of(fs, struct tmpfs_fs, vfs); }
static inline struct tmpfs_inode *TI(struct uvfs_inode *i) { return container_of(i, struct tmpfs_inode, vfs); }

/* A new inode of type/permissions mode owned per cred (dir: parent for the
 * setgid rule, NULL for the root; cred NULL: root 0:0). One reference. */
TMPFS_HIDDEN int tmpfs_new_inode(struct tmpfs_fs *fs, const struct uvfs_inode *dir, const struct uvfs_cred *cred,
				 mode_t mode, dev_t rdev, const char *link, struct tmpfs_inode **out);

/* Attribute helpers: caller holds i_lock. */
TMPFS_HIDDEN void tmpfs_touch_c(struct uvfs_inode *inode, struct timespec now);
/* atime of a read/readdir unless noatime (mount) or O_NOATIME (file), at
 * 1 ms resolution; takes i_lock unless held_by_caller. */
TMPFS_HIDDEN void tmpfs_file_accessed(struct uvfs_file *f, bool held_by_caller);

TMPFS_HIDDEN extern const struct uvfs_inode_ops tmpfs_dir_iops, tmpfs_reg_iops, tmpfs_symlink_iops,
	tmpfs_special_iops;
TMPFS_HIDDEN extern const struct uvfs_file_ops tmpfs_dir_fops, tmpfs_reg_fops, tmpfs_special_fops;

/* Shared xattr ops (xattr.c) for the ops tables. */
TMPFS_HIDDEN ssize_t tmpfs_getxattr(struct uvfs_dentry *d, struct uvfs_inode *inode,
		const char *name, void *buf, size_t len);
TMPFS_HIDDEN int tmpfs_setxattr(struct uvfs_dentry *d, struct uvfs_inode *inode,
		const char *name, const void *val, size_t len, int flags);
TMPFS_HIDDEN ssize_t tmpfs_listxattr(struct uvfs_dentry *d, struct uvfs_inode *inode, char *buf, size_t len);
TMPFS_HIDDEN int tmpfs_removexattr(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name);
TMPFS_HIDDEN int tmpfs_truncate(struct uvfs_inode *inode, uint64_t size);
