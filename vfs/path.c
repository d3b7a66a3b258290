/* vfs/path.c — the path of a vd (Linux fs/d_path.c, gVisor
 * PathnameWithDeleted / PathnameForGetcwd) and of a dentry within its
 * filesystem (dentry_path, mountinfo's root field).
 *
 * The path is built backwards from the end of the caller's buffer while
 * climbing d_parent and, at mount roots, m_parent/m_point. The climb first
 * runs under RCU with rename_seq and mount_seq sampled; a result (a path or
 * an error) counts only if neither changed, so a reader never returns a
 * path mixing two states of a rename. After a few failed tries (or with a
 * write section open) it takes rename_rw and mount_lock, under which
 * d_parent, d_name and the mount tree cannot change.
 *
 * A caller already holding mount_lock (mount enumeration) validates
 * against rename_seq only and gets -EAGAIN instead of the fallback, since
 * rename_rw comes first; it then retakes both itself.
 *
 * Lock order: rename_rw → mount_lock (LOCKING.md); the locked climb takes
 * no other lock and runs outside any RCU read section (a reader blocked on
 * a mutex must not hold up a grace period that a lock holder waits for).
 */
#include <sched.h>

#include "internal.h"

#define PATH_RCU_TRIES 3
/* Mount hops per climb; only a torn view of the mount tree loops. */
#define PATH_MAX_MOUNT_HOPS 100000

/* Backwards buffer: text occupies buf[pos, len). */
struct pbuf {
	char *buf;
	size_t len, pos;
};

static bool prepend(struct pbuf *b, const char *s, size_t n)
{
	if (n > b->pos)
		return false;
	b->pos -= n;
	memcpy(b->buf + b->pos, s, n);
	return true;
}

/* One climb from (mnt, d) to root (root->mount NULL: to d's filesystem
 * root, without crossing mounts). Caller holds RCU or both locks. */
static int climb(const struct uvfs_vd *root, struct uvfs_mount *mnt, struct uvfs_dentry *d, struct pbuf *b)
{
	long hops = 0;
	for (;;) {
		if (root->mount && d == root->dentry && mnt == root->mount)
			return PATH_REACHED;
		if (root->mount && d == mnt->m_root) {
			struct uvfs_mount *p = rcu_load(mnt->m_parent);
			struct uvfs_dentry *pt = rcu_load(mnt->m_point);
			if (!p || !pt)
				return PATH_UNREACHABLE; /* the namespace root, or detached */
			if (++hops > PATH_MAX_MOUNT_HOPS)
				return -ELOOP;
			mnt = p;
			d = pt;
			continue;
		}
		struct uvfs_dentry *parent = rcu_load(d->d_parent);
		if (parent == d)
			/* A filesystem root: without mounts, done; otherwise d
			 * was renamed out of its mount's subtree. */
			return root->mount ? PATH_ESCAPED : PATH_REACHED;
		const struct uvfs_dname *n = rcu_load(d->d_name);
		if (!prepend(b, n->name, n->len) || !prepend(b, "/", 1))
			return -ERANGE;
		d = parent;
	}
}

static bool seq_sample(uvfs_seq_t *s, uint32_t *out)
{
	*out = atomic_load_explicit(&s->seq, memory_order_acquire);
	return !(*out & 1);
}

HIDDEN int path_build(struct uvfs *vfs, const struct uvfs_vd *root, struct uvfs_mount *mnt, struct uvfs_dentry *d,
		      char *buf, size_t len, size_t *pos, enum path_locks locks)
{
	struct pbuf b = { buf, len, len };
	int r;
	if (locks == PATH_ALL_LOCKED)
		goto locked;
	for (int tries = 0; tries < PATH_RCU_TRIES; tries++) {
		uint32_t rs, ms = 0;
		b.pos = len;
		/* Under mount_lock the mount tree cannot change: only renames. */
		if (!seq_sample(&vfs->rename_seq, &rs) ||
		    (locks == PATH_UNLOCKED && !seq_sample(&vfs->mount_seq, &ms))) {
			sched_yield();
			continue;
		}
		rcu_read_lock();
		r = climb(root, mnt, d, &b);
		bool stale = uvfs_seq_read_retry(&vfs->rename_seq, rs) ||
			     (locks == PATH_UNLOCKED && uvfs_seq_read_retry(&vfs->mount_seq, ms));
		rcu_read_unlock();
		if (!stale)
			goto done;
	}
	if (locks == PATH_MOUNT_LOCKED)
		return -EAGAIN; /* rename_rw is outer to mount_lock: the caller escalates */
	pthread_rwlock_wrlock(&vfs->rename_rw);
	pthread_mutex_lock(&vfs->mount_lock);
locked:
	b.pos = len;
	r = climb(root, mnt, d, &b);
	if (locks == PATH_UNLOCKED) {
		pthread_mutex_unlock(&vfs->mount_lock);
		pthread_rwlock_unlock(&vfs->rename_rw);
	}
done:
	if (r == PATH_ESCAPED)
		b.pos = len; /* Linux: nothing of an escaped climb is shown */
	if (r >= 0 && b.pos == len && !prepend(&b, "/", 1))
		r = -ERANGE;
	*pos = b.pos;
	return r;
}

static bool d_unlinked(const struct uvfs_dentry *d)
{
	uint32_t fl = atomic_load(&((struct uvfs_dentry *)d)->d_flags);
	return (fl & DF_DEAD) && !(fl & DF_ROOT);
}

/* Moves text at buf[pos, len) to buf[skip...] and NUL-terminates, with
 * suffix appended; -ERANGE if it does not fit. */
static ssize_t path_finish(char *buf, size_t len, size_t pos, size_t skip, const char *suffix)
{
	size_t n = len - pos, sl = strlen(suffix);
	if (skip + n + sl + 1 > len)
		return -ERANGE;
	memmove(buf + skip, buf + pos, n);
	memcpy(buf + skip + n, suffix, sl + 1);
	return (ssize_t)(skip + n + sl);
}

#define UNREACHABLE "(unreachable)"

UVFS_API ssize_t uvfs_vd_path(struct uvfs *vfs, const struct uvfs_vd *root, const struct uvfs_vd *vd, char *buf,
			      size_t len, unsigned flags)
{
	rcu_enter();
	if (flags & ~(UVFS_VD_PATH_DELETED | UVFS_VD_PATH_GETCWD))
		return -EINVAL;
	if (!root || !vd || !uvfs_vd_ok(root) || !uvfs_vd_ok(vd) || (!buf && len))
		return -EINVAL;
	bool deleted = d_unlinked(vd->dentry);
	if ((flags & UVFS_VD_PATH_GETCWD) && deleted)
		return -ENOENT; /* Linux checks this before the length */
	if (len == 0)
		return -ERANGE;
	size_t pos;
	int r = path_build(vfs, root, vd->mount, vd->dentry, buf, len, &pos, PATH_UNLOCKED);
	if (r < 0)
		return r;
	/* The prefix goes in front: keep room for it at the start. */
	size_t skip = 0;
	if ((flags & UVFS_VD_PATH_GETCWD) && r != PATH_REACHED)
		skip = sizeof(UNREACHABLE) - 1;
	const char *suffix = (flags & UVFS_VD_PATH_DELETED) && deleted ? " (deleted)" : "";
	ssize_t n = path_finish(buf, len, pos, skip, suffix);
	if (n >= 0 && skip)
		memcpy(buf, UNREACHABLE, skip);
	return n;
}

HIDDEN ssize_t dentry_path(struct uvfs *vfs, struct uvfs_dentry *d, char *buf, size_t len, enum path_locks locks)
{
	if (len == 0)
		return -ERANGE;
	const struct uvfs_vd none = { 0 };
	size_t pos;
	int r = path_build(vfs, &none, NULL, d, buf, len, &pos, locks);
	if (r < 0)
		return r;
	/* Linux dentry_path: an unlinked dentry gets "//deleted". */
	return path_finish(buf, len, pos, 0, d_unlinked(d) ? "//deleted" : "");
}
