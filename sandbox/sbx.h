/* sandbox/sbx.h — internals of the syscall layer (not installed).
 *
 * Lock rules (see also vfs/LOCKING.md; these locks are leaves with respect
 * to the VFS: no uvfs call that can block or re-enter runs under them,
 * except reference gets/puts of vds and files, which take no sandbox lock):
 *  - sbx_fdtable.lock (pthread mutex) protects ents[] and cap. Files are
 *    flushed and put only after it is dropped (->flush may block).
 *  - sbx_fs.lock (pthread mutex) protects root, cwd and umask. Callers
 *    copy root/cwd with references under it and walk without it.
 *  - A task's cred, groups, nofile are written only by set_cred/set_nofile,
 *    which the embedder must not run concurrently with calls on the same
 *    task (one task is one thread of the tracee).
 *  Order: a task never holds both locks at once.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "sandbox/uvfs_sandbox.h"
#include "uvfs_fs.h"

#ifndef HIDDEN
#define HIDDEN __attribute__((visibility("hidden")))
#endif

struct sbx_fdent {
	struct uvfs_file *file; /* one reference; NULL: free slot */
	bool cloexec;
};

/* An fd table, shared by tasks forked with CLONE_FILES. */
struct sbx_fdtable {
	atomic_long refs; /* tasks using the table */
	pthread_mutex_t lock;
	struct sbx_fdent *ents; /* [cap], under lock */
	unsigned cap; /* under lock */
};

/* Root, cwd and umask, shared by tasks forked with CLONE_FS. */
struct sbx_fs {
	atomic_long refs;
	pthread_mutex_t lock;
	struct uvfs_vd root, cwd; /* references; under lock */
	mode_t umask; /* under lock */
	/* Registered tasks sharing this state (their /proc/[tid]/cwd follows
	 * every chdir, see sys_dir.c) and a count of cwd changes; under lock. */
	int32_t *tids;
	unsigned ntids, tcap;
	uint64_t cwd_gen;
};

struct uvfs_sbx_task {
	struct uvfs *vfs; /* immutable */
	struct uvfs_mntns *mntns; /* immutable, reference (may be NULL) */
	struct uvfs_cred cred; /* see the rules above; groups points at own copy */
	uint32_t *groups; /* malloc'd copy of the group list */
	unsigned nofile; /* fd limit */
	int32_t tid, pid; /* immutable */
	struct uvfs_tasks *tasks; /* immutable: where it is registered (NULL: nowhere) */
	struct sbx_fs *fs; /* reference; replaced only by the task's own thread */
	/* files_lock guards the files pointer for readers on other threads
	 * (proc's fd_ops): it is replaced (exec, close_range UNSHARE) by the
	 * task's own thread under files_lock. Order: files_lock, then
	 * fdt->lock. */
	pthread_mutex_t files_lock;
	struct sbx_fdtable *files; /* reference */
	/* Interrupt state (uvfs_sbx_task_interrupt): its own lock; every call's
	 * uvfs_ctx names it, so blocking calls return -EINTR. */
	struct uvfs_intr intr;
};

/* The caller context around each syscall: the VFS sees the task. */
static inline void sbx_ctx_leave_(const struct uvfs_ctx **prev) { uvfs_ctx_leave(*prev); }
#define SBX_CTX(t)                                                                                               \
	struct uvfs_ctx sbx_ctx_ = { .cred = &(t)->cred, .task = (t), .tid = (t)->tid, .intr = &(t)->intr };       \
	__attribute__((cleanup(sbx_ctx_leave_), unused)) const struct uvfs_ctx *sbx_prev_ = uvfs_ctx_enter(&sbx_ctx_)

/* task.c: the registered tasks sharing t's fs state */
HIDDEN int sbx_fs_add_tid(struct sbx_fs *fs, int32_t tid);

/* fdtable.c */
HIDDEN int fdt_new(struct sbx_fdtable **out);
HIDDEN int fdt_copy(struct sbx_fdtable *src, struct sbx_fdtable **out);
HIDDEN void fdt_get(struct sbx_fdtable *fdt);
HIDDEN void fdt_put(struct sbx_fdtable *fdt); /* the last put closes every file */
HIDDEN int fdt_file(struct sbx_fdtable *fdt, int fd, struct uvfs_file **out, bool *cloexec); /* ref; -EBADF */
/* Installs f (consuming the caller's reference on success) at the lowest
 * free fd in [minfd, limit); -EMFILE when none. */
HIDDEN long fdt_alloc(struct sbx_fdtable *fdt, struct uvfs_file *f, unsigned minfd, unsigned limit, bool cloexec);
/* Puts f (consuming a reference) at fd, returning what was there in *old
 * (NULL if free) for the caller to close. */
HIDDEN int fdt_replace(struct sbx_fdtable *fdt, unsigned fd, struct uvfs_file *f, bool cloexec,
		       struct uvfs_file **old);
/* An open's fd, taken before the walk (Linux order: -EMFILE first) and
 * then filled (consuming f's reference) or given back. The slot stays in
 * this table: the caller keeps its table reference until it installs. */
HIDDEN long fdt_reserve(struct sbx_fdtable *fdt, unsigned minfd, unsigned limit);
HIDDEN void fdt_install(struct sbx_fdtable *fdt, unsigned fd, struct uvfs_file *f, bool cloexec);
HIDDEN void fdt_unreserve(struct sbx_fdtable *fdt, unsigned fd);
HIDDEN int fdt_remove(struct sbx_fdtable *fdt, int fd, struct uvfs_file **old); /* -EBADF */
HIDDEN int fdt_set_cloexec(struct sbx_fdtable *fdt, int fd, bool on); /* -EBADF */
/* Closes fds in [first, last] (only the CLOEXEC ones if cloexec_only), or
 * with mark_cloexec sets their CLOEXEC flag instead. */
HIDDEN void fdt_close_range(struct sbx_fdtable *fdt, unsigned first, unsigned last, bool cloexec_only,
			    bool mark_cloexec);
HIDDEN int fdt_list(struct sbx_fdtable *fdt, int after, int *fds, int max);

/* locks.c */
/* fcntl F_GETLK/F_SETLK/F_SETLKW for f on behalf of owner (the fd table). */
HIDDEN long sbx_posix_lock(struct uvfs_sbx_task *t, struct sbx_fdtable *owner, struct uvfs_file *f, int cmd,
			   struct flock *fl);
/* fcntl F_OFD_GETLK/F_OFD_SETLK/F_OFD_SETLKW: the owner is f itself; its
 * locks go with f's last reference. */
HIDDEN long sbx_ofd_lock(struct uvfs_sbx_task *t, struct uvfs_file *f, int cmd, struct flock *fl);
/* Close of an fd of f by owner: drops all owner's locks on f's inode.
 * Call before the file is put (the inode must still be alive). */
HIDDEN void sbx_locks_remove(const struct sbx_fdtable *owner, const struct uvfs_file *f);

/* task.c */
HIDDEN struct sbx_fdtable *sbx_files(struct uvfs_sbx_task *t); /* with a reference: fdt_put it */
/* Replaces the task's table by a private copy when it is shared. */
HIDDEN int sbx_unshare_files(struct uvfs_sbx_task *t);
/* Borrows the task's file for fd (reference) — the common start of fd calls. */
HIDDEN int sbx_file(struct uvfs_sbx_task *t, int fd, struct uvfs_file **out);
HIDDEN mode_t sbx_umask(struct uvfs_sbx_task *t);

/* Each call holds a reference on the file for its duration, so a racing
 * close of the fd does not free it under the transfer (Linux fdget). */
#define WITH_FILE(t, fd, expr)                                                                                   \
	({                                                                                                       \
		struct uvfs_file *f_;                                                                            \
		long r_ = sbx_file((t), (fd), &f_);                                                              \
		if (!r_) {                                                                                       \
			struct uvfs_file *f = f_;                                                                \
			r_ = (expr);                                                                             \
			uvfs_file_put(f_);                                                                       \
		}                                                                                                \
		r_;                                                                                              \
	})

/* The same for calls Linux makes with fdget (not fdget_raw): an O_PATH
 * fd is -EBADF. */
#define WITH_FILE_NOPATH(t, fd, expr)                                                                            \
	({                                                                                                       \
		struct uvfs_file *f_;                                                                            \
		long r_ = sbx_file((t), (fd), &f_);                                                              \
		if (!r_) {                                                                                       \
			struct uvfs_file *f = f_;                                                                \
			r_ = (uvfs_file_flags(f_) & O_PATH) ? -EBADF : (expr);                                   \
			uvfs_file_put(f_);                                                                       \
		}                                                                                                \
		r_;                                                                                              \
	})

/* A path call's start: the pathop plus the references it borrows. */
struct sbx_at {
	struct uvfs_pathop pop;
	struct uvfs_vd root, cwd; /* references */
	struct uvfs_file *dir; /* reference when dirfd named a file */
};
#define SBX_AT_EMPTY 0x1 /* AT_EMPTY_PATH: "" names dirfd */
#define SBX_AT_FOLLOW 0x2 /* follow a final symlink */
#define SBX_AT_SCOPED 0x4 /* dirfd is the start even for an absolute path (RESOLVE_BENEATH/IN_ROOT) */
/* Linux's order: -EFAULT for a NULL path, -ENOENT for "" (without
 * SBX_AT_EMPTY), then -EBADF for a relative path's bad dirfd, -ENOTDIR when
 * it names a non-directory and the path is not empty. */
HIDDEN int sbx_at_begin(struct uvfs_sbx_task *t, int dirfd, const char *path, unsigned flags, struct sbx_at *at);
HIDDEN void sbx_at_end(struct sbx_at *at);
