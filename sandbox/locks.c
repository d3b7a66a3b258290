/* sandbox/locks.c — POSIX record locks (fcntl F_GETLK/F_SETLK/F_SETLKW).
 *
 * As Linux's fs/locks.c for POSIX locks: the owner is the fd table (so
 * threads sharing a table share locks and a fork starts with none), the
 * holder's pid is the locking task's; setting a lock replaces the owner's
 * locks in the range (splitting them) and merges adjacent same-type ones;
 * closing any fd of an inode drops all its owner's locks on that inode.
 * Not done: deadlock detection (EDEADLK), OFD locks, leases.
 *
 * Lock: lk_mu (a leaf; held only over the list work, never across a VFS
 * call) protects every list; lk_cv wakes F_SETLKW waiters on any change.
 * Inodes are keys only: a lock exists only while its owner holds an fd
 * (hence a reference) on the inode, so the address cannot be reused
 * before the lock is gone. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "sandbox/sbx.h"

struct lk {
	struct lk *next;
	const void *owner; /* the sbx_fdtable */
	int32_t pid;
	short type; /* F_RDLCK / F_WRLCK */
	int64_t start, end; /* inclusive; end INT64_MAX: to EOF and beyond */
};

struct lk_inode {
	struct lk_inode *next;
	const void *inode;
	struct lk *locks;
};

#define LK_BUCKETS 256
static pthread_mutex_t lk_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lk_cv = PTHREAD_COND_INITIALIZER;
static struct lk_inode *lk_table[LK_BUCKETS]; /* under lk_mu */

static struct lk_inode **lk_slot(const void *inode)
{
	uintptr_t h = (uintptr_t)inode;
	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	struct lk_inode **pp = &lk_table[(h >> 32) % LK_BUCKETS];
	while (*pp && (*pp)->inode != inode)
		pp = &(*pp)->next;
	return pp;
}

/* The first lock of another owner that conflicts with type over [s, e]. */
static struct lk *lk_conflict(struct lk_inode *li, const void *owner, short type, int64_t s, int64_t e)
{
	for (struct lk *l = li ? li->locks : NULL; l; l = l->next)
		if (l->owner != owner && l->start <= e && s <= l->end && (l->type == F_WRLCK || type == F_WRLCK))
			return l;
	return NULL;
}

/* Replaces owner's locks over [s, e] by type (F_UNLCK: none). Under lk_mu;
 * -ENOMEM leaves the list unchanged. */
static int lk_apply(struct lk_inode *li, const void *owner, int32_t pid, short type, int64_t s, int64_t e)
{
	/* Merge with same-type neighbours that touch the range. */
	for (bool grew = type != F_UNLCK; grew;) {
		grew = false;
		for (struct lk *l = li->locks; l; l = l->next)
			if (l->owner == owner && l->type == type && l->start <= (e == INT64_MAX ? e : e + 1) &&
			    (s == 0 ? 0 : s - 1) <= l->end && (l->start < s || l->end > e)) {
				s = l->start < s ? l->start : s;
				e = l->end > e ? l->end : e;
				grew = true;
			}
	}
	/* Allocate first so that failure changes nothing: at most one split
	 * piece plus the new lock. */
	struct lk *spare = malloc(sizeof(*spare)), *add = type != F_UNLCK ? malloc(sizeof(*add)) : NULL;
	if (!spare || (type != F_UNLCK && !add)) {
		free(spare);
		free(add);
		return -ENOMEM;
	}
	for (struct lk **pp = &li->locks; *pp;) {
		struct lk *l = *pp;
		if (l->owner != owner || l->end < s || e < l->start) {
			pp = &l->next;
			continue;
		}
		if (l->start < s && l->end > e) { /* a hole in the middle: split */
			*spare = *l;
			spare->start = e + 1;
			l->end = s - 1;
			spare->next = l->next;
			l->next = spare;
			spare = NULL;
			break; /* nothing else of this owner can overlap */
		}
		if (l->start < s) {
			l->end = s - 1;
			pp = &l->next;
		} else if (l->end > e) {
			l->start = e + 1;
			pp = &l->next;
		} else {
			*pp = l->next;
			free(l);
		}
	}
	free(spare);
	if (add) {
		*add = (struct lk){ .next = li->locks, .owner = owner, .pid = pid, .type = type, .start = s, .end = e };
		li->locks = add;
	}
	return 0;
}

static void lk_gc(struct lk_inode **pp)
{
	struct lk_inode *li = *pp;
	if (li && !li->locks) {
		*pp = li->next;
		free(li);
	}
}

/* flock -> [s, e] (Linux flock_to_posix_lock). */
static long lk_range(struct uvfs_file *f, const struct flock *fl, int64_t *s, int64_t *e)
{
	int64_t base;
	switch (fl->l_whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = uvfs_seek(f, 0, SEEK_CUR);
		if (base < 0)
			return base;
		break;
	case SEEK_END: {
		struct statx x;
		long err = uvfs_file_stat(f, STATX_SIZE, &x);
		if (err)
			return err;
		base = (int64_t)x.stx_size;
		break;
	}
	default:
		return -EINVAL;
	}
	int64_t start;
	if (__builtin_add_overflow(base, (int64_t)fl->l_start, &start))
		return -EOVERFLOW;
	if (start < 0)
		return -EINVAL;
	int64_t len = fl->l_len, end;
	if (len > 0) {
		if (__builtin_add_overflow(start, len - 1, &end))
			return -EOVERFLOW;
	} else if (len == 0) {
		end = INT64_MAX;
	} else {
		end = start - 1;
		if (__builtin_add_overflow(start, len, &start) || start < 0)
			return -EINVAL;
	}
	*s = start;
	*e = end;
	return 0;
}

HIDDEN long sbx_posix_lock(struct uvfs_sbx_task *t, struct sbx_fdtable *owner, struct uvfs_file *f, int cmd,
			   struct flock *fl)
{
	if (!fl)
		return -EFAULT;
	/* A filesystem that keeps locks itself (the gofer: on the server). */
	if (uvfs_file_has_lock_op(f))
		return uvfs_file_lock(f, (uint64_t)(uintptr_t)owner, cmd, fl);
	short type = fl->l_type;
	if (cmd == F_GETLK ? type != F_RDLCK && type != F_WRLCK
			   : type != F_RDLCK && type != F_WRLCK && type != F_UNLCK)
		return -EINVAL;
	int acc = uvfs_file_flags(f) & O_ACCMODE;
	if (cmd != F_GETLK && ((type == F_RDLCK && acc == O_WRONLY) || (type == F_WRLCK && acc == O_RDONLY)))
		return -EBADF;
	int64_t s, e;
	long err = lk_range(f, fl, &s, &e);
	if (err)
		return err;
	const void *inode = f->f_inode;
	pthread_mutex_lock(&lk_mu);
	struct lk_inode **pp = lk_slot(inode);
	if (cmd == F_GETLK) {
		struct lk *c = lk_conflict(*pp, owner, type, s, e);
		if (!c) {
			fl->l_type = F_UNLCK;
		} else {
			fl->l_type = c->type;
			fl->l_whence = SEEK_SET;
			fl->l_start = c->start;
			fl->l_len = c->end == INT64_MAX ? 0 : c->end - c->start + 1;
			fl->l_pid = c->pid;
		}
		pthread_mutex_unlock(&lk_mu);
		return 0;
	}
	while (type != F_UNLCK && lk_conflict(*pp, owner, type, s, e)) {
		if (cmd != F_SETLKW) {
			pthread_mutex_unlock(&lk_mu);
			return -EAGAIN;
		}
		/* Wait, polling the caller's interrupt check now and then. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000)
			ts.tv_sec++, ts.tv_nsec -= 1000000000;
		pthread_cond_timedwait(&lk_cv, &lk_mu, &ts);
		if (uvfs_ctx_interrupted()) {
			pthread_mutex_unlock(&lk_mu);
			return -EINTR;
		}
		pp = lk_slot(inode);
	}
	if (!*pp && type != F_UNLCK) {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp) {
			pthread_mutex_unlock(&lk_mu);
			return -ENOMEM;
		}
		(*pp)->inode = inode;
	}
	if (*pp)
		err = lk_apply(*pp, owner, t->pid, type, s, e);
	lk_gc(pp);
	pthread_cond_broadcast(&lk_cv);
	pthread_mutex_unlock(&lk_mu);
	return err;
}

HIDDEN void sbx_locks_remove(const struct sbx_fdtable *owner, const struct uvfs_file *f)
{
	if (uvfs_file_has_lock_op(f)) {
		struct flock all = { .l_type = F_UNLCK, .l_whence = SEEK_SET };
		uvfs_file_lock((struct uvfs_file *)f, (uint64_t)(uintptr_t)owner, F_SETLK, &all);
		return;
	}
	const void *inode = f->f_inode;
	pthread_mutex_lock(&lk_mu);
	struct lk_inode **pp = lk_slot(inode);
	bool changed = false;
	if (*pp) {
		for (struct lk **lp = &(*pp)->locks; *lp;) {
			struct lk *l = *lp;
			if (l->owner == owner) {
				*lp = l->next;
				free(l);
				changed = true;
			} else {
				lp = &l->next;
			}
		}
		lk_gc(pp);
	}
	if (changed)
		pthread_cond_broadcast(&lk_cv);
	pthread_mutex_unlock(&lk_mu);
}
