/* vfs/watch.c — change notification: up to UVFS_WATCH_MAX subscribers per
 * instance (uvfs_watch_set; two FUSE exports of one instance, issue 17)
 * hear about every change the VFS commits (names created, removed or
 * renamed, attributes and data changed, mounts added and removed), and
 * about the changes a filesystem reports on its own inodes
 * (uvfs_notify_inode/uvfs_notify_entry: a stacking fs's copy-up), so a
 * front end that caches (the FUSE export, through the kernel's dcache and
 * page cache) can drop what went stale.
 *
 * Locking: the slots vfs->watch[] are loaded under RCU by the changing
 * thread after it has dropped every VFS lock (LOCKING.md, "Change
 * notification"), which counts itself in each subscriber's active count
 * before leaving the read section: the callbacks themselves run outside
 * any RCU section, so they may wait (the FUSE export waits for its kernel
 * notifications) without holding up grace periods, which a dcache resize
 * waits for under a directory lock. Subscribing and unsubscribing write
 * the slots and vfs->watch_n under vfs->watch_lock (a leaf: held for no
 * callback and no grace period). Unsubscribing clears the slot, waits a
 * grace period (no thread can count itself in any more), then for active
 * to drain. With no subscriber a change costs one relaxed load of
 * watch_n (watch_entry/watch_inode in internal.h).
 */
#include "internal.h"

#include <unistd.h>

/* Removes (under watch_lock) the subscribers matching (ops, arg) — every
 * one when ops and arg are NULL — into out; returns how many. */
static unsigned watch_take(struct uvfs *vfs, const struct uvfs_watch_ops *ops, void *arg, struct watch **out)
{
	unsigned n = 0;
	for (unsigned i = 0; i < UVFS_WATCH_MAX; i++) {
		struct watch *w = vfs->watch[i];
		if (!w || (arg && w->arg != arg) || (ops && w->ops != ops))
			continue;
		rcu_store(vfs->watch[i], NULL);
		out[n++] = w;
	}
	__atomic_fetch_sub(&vfs->watch_n, n, __ATOMIC_RELAXED);
	return n;
}

UVFS_API int uvfs_watch_set(struct uvfs *vfs, const struct uvfs_watch_ops *ops, void *arg)
{
	rcu_enter();
	if (!ops) {
		struct watch *old[UVFS_WATCH_MAX];
		pthread_mutex_lock(&vfs->watch_lock);
		unsigned n = watch_take(vfs, NULL, arg, old);
		pthread_mutex_unlock(&vfs->watch_lock);
		if (!n)
			return 0;
		synchronize_rcu(); /* no thread can count itself in now */
		for (unsigned i = 0; i < n; i++) {
			while (atomic_load_explicit(&old[i]->active, memory_order_acquire))
				usleep(1000); /* callbacks still running finish first */
			free(old[i]);
		}
		return 0;
	}
	struct watch *w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ops = ops;
	w->arg = arg;
	atomic_init(&w->active, 0);
	int err = -EBUSY, slot = -1;
	pthread_mutex_lock(&vfs->watch_lock);
	for (unsigned i = 0; i < UVFS_WATCH_MAX; i++) {
		struct watch *o = vfs->watch[i];
		if (o && o->ops == ops && o->arg == arg) {
			slot = -1; /* subscribed already */
			break;
		}
		if (!o && slot < 0)
			slot = (int)i;
	}
	if (slot >= 0) {
		rcu_store(vfs->watch[slot], w);
		__atomic_fetch_add(&vfs->watch_n, 1, __ATOMIC_RELAXED);
		err = 0;
	}
	pthread_mutex_unlock(&vfs->watch_lock);
	if (err)
		free(w);
	return err;
}

/* uvfs_destroy: subscribers left behind are freed with the instance. */
HIDDEN void watch_fini(struct uvfs *vfs)
{
	for (unsigned i = 0; i < UVFS_WATCH_MAX; i++) {
		free(vfs->watch[i]);
		vfs->watch[i] = NULL;
	}
	vfs->watch_n = 0;
}

/* The subscribers, counted in; returns how many are in ws. */
static unsigned watch_enter(struct uvfs *vfs, struct watch **ws)
{
	unsigned n = 0;
	rcu_read_lock();
	for (unsigned i = 0; i < UVFS_WATCH_MAX; i++) {
		struct watch *w = rcu_load(vfs->watch[i]);
		if (w) {
			atomic_fetch_add_explicit(&w->active, 1, memory_order_relaxed);
			ws[n++] = w;
		}
	}
	rcu_read_unlock();
	return n;
}

static void watch_leave(struct watch *w) { atomic_fetch_sub_explicit(&w->active, 1, memory_order_release); }

HIDDEN void watch_entry_slow(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_inode *dir, const char *name,
			     size_t len, struct uvfs_inode *child)
{
	struct watch *ws[UVFS_WATCH_MAX];
	unsigned n = watch_enter(vfs, ws);
	for (unsigned i = 0; i < n; i++) {
		if (ws[i]->ops->entry)
			ws[i]->ops->entry(ws[i]->arg, ev, dir, name, len, child);
		watch_leave(ws[i]);
	}
}

HIDDEN void watch_inode_slow(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_inode *inode, uint64_t off,
			     uint64_t len)
{
	struct watch *ws[UVFS_WATCH_MAX];
	unsigned n = watch_enter(vfs, ws);
	for (unsigned i = 0; i < n; i++) {
		if (ws[i]->ops->inode)
			ws[i]->ops->inode(ws[i]->arg, ev, inode, off, len);
		watch_leave(ws[i]);
	}
}

/* Filesystem-facing: a change of the fs's own inode that no VFS op on it
 * reported (uvfs_fs.h). */
UVFS_API void uvfs_notify_inode(struct uvfs_inode *inode, enum uvfs_watch_event ev, uint64_t off, uint64_t len)
{
	if (!inode || (ev != UVFS_WATCH_ATTR && ev != UVFS_WATCH_DATA))
		return;
	watch_inode(inode->i_fs->vfs, ev, inode, off, len);
}

UVFS_API void uvfs_notify_entry(struct uvfs_inode *dir, enum uvfs_watch_event ev, const char *name, size_t len,
				struct uvfs_inode *child)
{
	if (!dir || !name || (ev != UVFS_WATCH_CREATE && ev != UVFS_WATCH_REMOVE))
		return;
	watch_entry(dir->i_fs->vfs, ev, dir, name, len, child);
}

/* The covered name of (parent, point), as the namespace shows it: a mount
 * on a mount's root covers the name of that mount's own mountpoint, so
 * climb to it. Returns point with references on it and on its parent
 * (*dp), or NULL (the namespace root has no name). The caller holds
 * references on parent and point. */
static struct uvfs_dentry *covered_name(struct uvfs *vfs, struct uvfs_mount *parent, struct uvfs_dentry *point,
					struct uvfs_dentry **dp)
{
	*dp = NULL;
	/* m_point and m_parent are read under the mount lock, with
	 * references taken before it is dropped. */
	pthread_mutex_lock(&vfs->mount_lock);
	while (parent && point == parent->m_root && parent->m_connected) {
		point = parent->m_point;
		parent = parent->m_parent;
	}
	if (parent && point && point != parent->m_root) {
		*dp = uvfs_dentry_get_parent(point);
		uvfs_dentry_get(point);
	} else {
		point = NULL;
	}
	pthread_mutex_unlock(&vfs->mount_lock);
	return point;
}

/* uvfs_umount_at, non-lazy, before its busy check, with no lock held: the
 * subscribers with an umount callback drop the references they cache on m
 * (the caller holds one on m). */
HIDDEN void watch_umount(struct uvfs *vfs, struct uvfs_mount *m)
{
	if (likely(!load_relaxed(vfs->watch_n)))
		return;
	struct uvfs_dentry *dp;
	struct uvfs_dentry *point = covered_name(vfs, m, m->m_root, &dp);
	if (!point)
		return;
	char name[UVFS_NAME_MAX + 1];
	size_t len = uvfs_dentry_name_copy(point, name, sizeof(name));
	if (dp && dp != point && len < sizeof(name)) {
		struct watch *ws[UVFS_WATCH_MAX];
		unsigned n = watch_enter(vfs, ws);
		for (unsigned i = 0; i < n; i++) {
			if (ws[i]->ops->umount)
				ws[i]->ops->umount(ws[i]->arg, m, dp->d_inode, name, len);
			watch_leave(ws[i]);
		}
	}
	if (dp)
		uvfs_dentry_put(dp);
	uvfs_dentry_put(point);
}

/* The caller holds references on parent and point. A mount on a mount's
 * root covers the name of that mount's own mountpoint: climb to it. The
 * namespace root has no name and is not reported. */
HIDDEN void watch_mount(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_mount *parent,
			struct uvfs_dentry *point, struct uvfs_inode *child)
{
	if (likely(!load_relaxed(vfs->watch_n)))
		return;
	/* Find the covered name, then report it with no lock held. */
	struct uvfs_dentry *dp;
	point = covered_name(vfs, parent, point, &dp);
	if (!point)
		return;
	char name[UVFS_NAME_MAX + 1];
	size_t len = uvfs_dentry_name_copy(point, name, sizeof(name));
	if (dp && dp != point && len < sizeof(name))
		watch_entry_slow(vfs, ev, dp->d_inode, name, len, child);
	if (dp)
		uvfs_dentry_put(dp);
	uvfs_dentry_put(point);
}
