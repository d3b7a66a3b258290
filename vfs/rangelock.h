/* vfs/rangelock.h — a POSIX record-lock range list (Linux fs/locks.c's
 * posix_locks_conflict / posix_lock_inode reduced), shared by the lock
 * tables that keep POSIX semantics in this process: the sandbox's
 * (sandbox/locks.c) and the gofer's per-inode one (fsimpl/gofer/file.c).
 * No lock inside: the caller's lock protects the list it passes. */
#ifndef UVFS_RANGELOCK_H
#define UVFS_RANGELOCK_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>

struct uvfs_rlock {
	struct uvfs_rlock *next;
	uint64_t owner; /* opaque: the caller's lock owner */
	int32_t pid; /* reported by F_GETLK */
	short type; /* F_RDLCK / F_WRLCK */
	int64_t start, end; /* inclusive; end INT64_MAX: to EOF and beyond */
};

/* The first lock of another owner that conflicts with type over [s, e]. */
__attribute__((visibility("hidden"))) const struct uvfs_rlock *
uvfs_rl_conflict(const struct uvfs_rlock *list, uint64_t owner, short type, int64_t s, int64_t e);
/* Replaces owner's locks over [s, e] by type (F_UNLCK: by none), splitting
 * and merging as POSIX says. -ENOMEM leaves the list unchanged. */
__attribute__((visibility("hidden"))) int uvfs_rl_apply(struct uvfs_rlock **list, uint64_t owner, int32_t pid,
							short type, int64_t s, int64_t e);
/* Drops every lock of owner; true if there was one. */
__attribute__((visibility("hidden"))) bool uvfs_rl_remove_owner(struct uvfs_rlock **list, uint64_t owner);
/* l as F_GETLK reports it. */
__attribute__((visibility("hidden"))) void uvfs_rl_to_flock(const struct uvfs_rlock *l, struct flock *fl);
/* An absolute flock range (l_whence SEEK_SET, l_len >= 0, as the VFS hands
 * it to ->lock) as [s, e]. */
static inline void uvfs_rl_range(const struct flock *fl, int64_t *s, int64_t *e)
{
	*s = fl->l_start;
	*e = fl->l_len ? fl->l_start + fl->l_len - 1 : INT64_MAX;
}

#endif
