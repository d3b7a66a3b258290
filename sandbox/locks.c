/* sandbox/locks.c — POSIX record locks (fcntl F_GETLK/F_SETLK/F_SETLKW).
 *
 * As Linux's fs/locks.c for POSIX locks: the owner is the fd table (so
 * threads sharing a table share locks and a fork starts with none), the
 * holder's pid is the locking task's; setting a lock replaces the owner's
 * locks in the range (splitting them) and merges adjacent same-type ones;
 * closing any fd of an inode drops all its owner's locks on that inode.
 * The range list itself is vfs/rangelock.h's (the gofer's table uses it
 * too). Not done: deadlock detection (EDEADLK), leases.
 *
 * Open file description locks (F_OFD_*) share the lists: their owner is
 * the struct uvfs_file, their pid -1, and they go when the last reference
 * to the description does (uvfs_file_set_lock_release), not at a close.
 *
 * Lock: lk_mu (a leaf; held only over the list work, never across a VFS
 * call) protects every list; lk_cv wakes F_SETLKW waiters on any change.
 * Inodes are keys only: a lock exists only while its owner holds an fd
 * (POSIX) or is an open file (OFD), hence a reference on the inode, so the
 * address cannot be reused before the lock is gone. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "devices/wait.h"
#include "sandbox/sbx.h"
#include "vfs/rangelock.h"

struct lk_inode {
	struct lk_inode *next;
	const void *inode;
	struct uvfs_rlock *locks; /* owners: the sbx_fdtable addresses */
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

/* Linux fcntl_getlk / fcntl_setlk for one owner: POSIX (key the fd table,
 * pid the task's) or OFD (key the description, pid -1, which F_GETLK then
 * reports, as Linux's locks_translate_pid does for OFD holders). Both kinds
 * live in one list per inode, so they conflict with each other. */
static long lk_do(struct uvfs_sbx_task *t, uint64_t key, int32_t pid, struct uvfs_file *f, int cmd, bool ofd,
		  struct flock *fl)
{
	if (!fl)
		return -EFAULT;
	bool get = cmd == F_GETLK || cmd == F_OFD_GETLK, wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
	short type = fl->l_type;
	/* Linux's order: F_GETLK's own type check, flock_to_posix_lock (range,
	 * then type), the open mode, then an OFD request's l_pid. F_OFD_GETLK
	 * accepts F_UNLCK (it then finds write locks). */
	if (cmd == F_GETLK && type != F_RDLCK && type != F_WRLCK)
		return -EINVAL;
	int64_t s, e;
	long err = lk_range(f, fl, &s, &e);
	if (err)
		return err;
	if (type != F_RDLCK && type != F_WRLCK && type != F_UNLCK)
		return -EINVAL;
	int acc = uvfs_file_flags(f) & O_ACCMODE;
	if (!get && ((type == F_RDLCK && acc == O_WRONLY) || (type == F_WRLCK && acc == O_RDONLY)))
		return -EBADF;
	if (ofd && fl->l_pid != 0)
		return -EINVAL;
	/* A filesystem that keeps locks itself (the gofer: on the server). */
	if (uvfs_file_has_lock_op(f))
		return uvfs_file_lock(f, key, get ? F_GETLK : wait ? F_SETLKW : F_SETLK, fl);
	const void *inode = f->f_inode;
	pthread_mutex_lock(&lk_mu);
	struct lk_inode **pp = lk_slot(inode);
	if (get) {
		const struct uvfs_rlock *c = NULL;
		if (type == F_UNLCK) { /* F_OFD_GETLK: the description's own lock there (Linux >= 6.9) */
			for (c = *pp ? (*pp)->locks : NULL; c; c = c->next)
				if (c->owner == key && c->start <= e && s <= c->end)
					break;
		} else if (*pp) {
			c = uvfs_rl_conflict((*pp)->locks, key, type, s, e);
		}
		if (!c)
			fl->l_type = F_UNLCK;
		else
			uvfs_rl_to_flock(c, fl);
		pthread_mutex_unlock(&lk_mu);
		return 0;
	}
	while (type != F_UNLCK && *pp && uvfs_rl_conflict((*pp)->locks, key, type, s, e)) {
		if (!wait) {
			pthread_mutex_unlock(&lk_mu);
			return -EAGAIN;
		}
		/* Every change broadcasts lk_cv; uvfs_sbx_task_interrupt wakes
		 * the task's registered sleep at once. */
		if ((err = uvfs_dev_cond_wait(&lk_cv, &lk_mu, NULL))) {
			pthread_mutex_unlock(&lk_mu);
			return err;
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
		err = uvfs_rl_apply(&(*pp)->locks, key, pid, type, s, e);
	lk_gc(pp);
	pthread_cond_broadcast(&lk_cv);
	pthread_mutex_unlock(&lk_mu);
	return err;
}

HIDDEN long sbx_posix_lock(struct uvfs_sbx_task *t, struct sbx_fdtable *owner, struct uvfs_file *f, int cmd,
			   struct flock *fl)
{
	return lk_do(t, (uint64_t)(uintptr_t)owner, t->pid, f, cmd, false, fl);
}

/* The last reference to f went (uvfs_file_put): drop its OFD locks. */
static void ofd_release(struct uvfs_file *f)
{
	if (uvfs_file_has_lock_op(f)) {
		struct flock all = { .l_type = F_UNLCK, .l_whence = SEEK_SET };
		uvfs_file_lock(f, (uint64_t)(uintptr_t)f, F_SETLK, &all);
		return;
	}
	pthread_mutex_lock(&lk_mu);
	struct lk_inode **pp = lk_slot(f->f_inode);
	if (*pp && uvfs_rl_remove_owner(&(*pp)->locks, (uint64_t)(uintptr_t)f)) {
		lk_gc(pp);
		pthread_cond_broadcast(&lk_cv);
	}
	pthread_mutex_unlock(&lk_mu);
}

HIDDEN long sbx_ofd_lock(struct uvfs_sbx_task *t, struct uvfs_file *f, int cmd, struct flock *fl)
{
	/* Hooked before the first lock can exist, so that no lock of f can
	 * outlive it; a file locked by another table's rules is -EBUSY
	 * (none exists today). */
	if (cmd != F_OFD_GETLK && fl) {
		long err = uvfs_file_set_lock_release(f, ofd_release);
		if (err)
			return err;
	}
	return lk_do(t, (uint64_t)(uintptr_t)f, -1, f, cmd, true, fl);
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
		changed = uvfs_rl_remove_owner(&(*pp)->locks, (uint64_t)(uintptr_t)owner);
		lk_gc(pp);
	}
	if (changed)
		pthread_cond_broadcast(&lk_cv);
	pthread_mutex_unlock(&lk_mu);
}
