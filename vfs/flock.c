/* vfs/flock.c — POSIX record locks handed to the filesystem (Linux
 * vfs_lock_file with f_op->lock). The VFS does what Linux's fcntl_getlk /
 * fcntl_setlk do before the fs sees the request: type and open-mode
 * checks and flock_to_posix_lock's range arithmetic, so the op gets an
 * absolute range. Filesystems without the op get -ENOLCK and the caller's
 * own lock table (sandbox/locks.c) applies. No state here: no lock.
 * The range-list helpers (rangelock.h) serve both tables. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "internal.h"
#include "rangelock.h"

UVFS_API bool uvfs_file_has_lock_op(const struct uvfs_file *f)
{
	return !(f->f_flags & O_PATH) && f->f_op && f->f_op->lock;
}

/* fl -> [start, start + len) with len 0 to EOF (flock_to_posix_lock). */
static int lock_range(struct uvfs_file *f, struct flock *fl)
{
	int64_t base;
	switch (fl->l_whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = uvfs_seek(f, 0, SEEK_CUR);
		if (base < 0)
			return (int)base;
		break;
	case SEEK_END: {
		struct statx x;
		int err = uvfs_file_stat(f, STATX_SIZE, &x);
		if (err)
			return err;
		base = (int64_t)x.stx_size;
		break;
	}
	default:
		return -EINVAL;
	}
	int64_t start, len = fl->l_len;
	if (__builtin_add_overflow(base, (int64_t)fl->l_start, &start))
		return -EOVERFLOW;
	if (start < 0)
		return -EINVAL;
	if (len > 0) {
		int64_t end;
		if (__builtin_add_overflow(start, len - 1, &end))
			return -EOVERFLOW;
	} else if (len < 0) {
		if (__builtin_add_overflow(start, len, &start) || start < 0)
			return -EINVAL;
		len = -len;
	}
	fl->l_whence = SEEK_SET;
	fl->l_start = start;
	fl->l_len = len;
	return 0;
}

UVFS_API int uvfs_file_lock(struct uvfs_file *f, uint64_t owner, int cmd, struct flock *fl)
{
	rcu_enter();
	if (!fl)
		return -EFAULT;
	if (f->f_flags & O_PATH) /* fcntl's fdget_raw allows O_PATH, but locks need a mode */
		return -EBADF;
	if (cmd != F_GETLK && cmd != F_SETLK && cmd != F_SETLKW)
		return -EINVAL;
	short type = fl->l_type;
	if (cmd == F_GETLK ? type != F_RDLCK && type != F_WRLCK
			   : type != F_RDLCK && type != F_WRLCK && type != F_UNLCK)
		return -EINVAL;
	int acc = f->f_flags & O_ACCMODE;
	if (cmd != F_GETLK && ((type == F_RDLCK && acc == O_WRONLY) || (type == F_WRLCK && acc == O_RDONLY)))
		return -EBADF;
	if (!uvfs_file_has_lock_op(f))
		return -ENOLCK;
	struct flock req = *fl;
	int err = lock_range(f, &req);
	if (err)
		return err;
	err = f->f_op->lock(f, owner, cmd, &req);
	if (!err && cmd == F_GETLK)
		*fl = req;
	return err;
}

/* ------------------------------------------------------------ range lists */

HIDDEN const struct uvfs_rlock *uvfs_rl_conflict(const struct uvfs_rlock *list, uint64_t owner, short type,
						 int64_t s, int64_t e)
{
	for (const struct uvfs_rlock *l = list; l; l = l->next)
		if (l->owner != owner && l->start <= e && s <= l->end && (l->type == F_WRLCK || type == F_WRLCK))
			return l;
	return NULL;
}

HIDDEN int uvfs_rl_apply(struct uvfs_rlock **list, uint64_t owner, int32_t pid, short type, int64_t s, int64_t e)
{
	/* Merge with same-type neighbours that touch the range. */
	for (bool grew = type != F_UNLCK; grew;) {
		grew = false;
		for (struct uvfs_rlock *l = *list; l; l = l->next)
			if (l->owner == owner && l->type == type && l->start <= (e == INT64_MAX ? e : e + 1) &&
			    (s == 0 ? 0 : s - 1) <= l->end && (l->start < s || l->end > e)) {
				s = l->start < s ? l->start : s;
				e = l->end > e ? l->end : e;
				grew = true;
			}
	}
	/* Where the owner's locks sit: the list keeps each owner's locks
	 * together, sorted by start, owners in the order of their first lock
	 * (Linux posix_lock_inode's list, whose order F_GETLK's answer
	 * follows). anchor: the lock after the owner's group. */
	bool had = false;
	const struct uvfs_rlock *anchor = NULL;
	for (const struct uvfs_rlock *l = *list; l; l = l->next) {
		if (l->owner == owner) {
			had = true;
		} else if (had) {
			anchor = l;
			break;
		}
	}
	/* Allocate first so that failure changes nothing: at most one split
	 * piece plus the new lock. */
	struct uvfs_rlock *spare = malloc(sizeof(*spare)), *add = type != F_UNLCK ? malloc(sizeof(*add)) : NULL;
	if (!spare || (type != F_UNLCK && !add)) {
		free(spare);
		free(add);
		return -ENOMEM;
	}
	for (struct uvfs_rlock **pp = list; *pp;) {
		struct uvfs_rlock *l = *pp;
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
		*add = (struct uvfs_rlock){ .owner = owner, .pid = pid, .type = type, .start = s, .end = e };
		/* Before the owner's first lock that starts later, else after its
		 * last one, else where its group was (anchor), else at the end. */
		struct uvfs_rlock **pp = list, **after_last = NULL;
		for (; *pp; pp = &(*pp)->next) {
			if ((*pp)->owner == owner) {
				if ((*pp)->start > s)
					break;
				after_last = &(*pp)->next;
			} else if (after_last || (had && *pp == anchor)) {
				break;
			}
		}
		add->next = *pp;
		*pp = add;
	}
	return 0;
}

HIDDEN bool uvfs_rl_remove_owner(struct uvfs_rlock **list, uint64_t owner)
{
	bool changed = false;
	for (struct uvfs_rlock **pp = list; *pp;) {
		struct uvfs_rlock *l = *pp;
		if (l->owner == owner) {
			*pp = l->next;
			free(l);
			changed = true;
		} else {
			pp = &l->next;
		}
	}
	return changed;
}

HIDDEN void uvfs_rl_to_flock(const struct uvfs_rlock *l, struct flock *fl)
{
	fl->l_type = l->type;
	fl->l_whence = SEEK_SET;
	fl->l_start = l->start;
	fl->l_len = l->end == INT64_MAX ? 0 : l->end - l->start + 1;
	fl->l_pid = l->pid;
}
