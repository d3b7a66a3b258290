/* vfs/watch.c — change notification: one subscriber per instance
 * (uvfs_watch_set) hears about every change the VFS commits (names created,
 * removed or renamed, attributes and data changed, mounts added and removed),
 * so a front end that caches (the FUSE export, through the kernel's dcache
 * and page cache) can drop what went stale.
 *
 * Locking: vfs->watch is loaded under RCU by the changing thread after it
 * has dropped every VFS lock (LOCKING.md, "Change notification"), which
 * counts itself in w->active before leaving the read section: the callback
 * itself runs outside any RCU section, so it may wait (the FUSE export waits
 * for its kernel notifications) without holding up grace periods, which a
 * dcache resize waits for under a directory lock. Unsubscribing swaps the
 * pointer out (atomic exchange), waits a grace period (no thread can count
 * itself in any more), then for active to drain. With no subscriber a
 * change costs one relaxed load (watch_entry/watch_inode in internal.h).
 */
#include "internal.h"

#include <unistd.h>

UVFS_API int uvfs_watch_set(struct uvfs *vfs, const struct uvfs_watch_ops *ops, void *arg)
{
	rcu_enter();
	if (!ops) {
		struct watch *old = __atomic_exchange_n(&vfs->watch, NULL, __ATOMIC_ACQ_REL);
		if (old) {
			synchronize_rcu(); /* no thread can count itself in now */
			while (atomic_load_explicit(&old->active, memory_order_acquire))
				usleep(1000); /* callbacks still running finish first */
			free(old);
		}
		return 0;
	}
	struct watch *w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ops = ops;
	w->arg = arg;
	atomic_init(&w->active, 0);
	struct watch *none = NULL;
	if (!__atomic_compare_exchange_n(&vfs->watch, &none, w, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
		free(w);
		return -EBUSY;
	}
	return 0;
}

/* uvfs_destroy: a subscriber left behind is freed with the instance. */
HIDDEN void watch_fini(struct uvfs *vfs)
{
	free(vfs->watch);
	vfs->watch = NULL;
}

/* The subscriber, counted in (NULL if none). */
static struct watch *watch_enter(struct uvfs *vfs)
{
	rcu_read_lock();
	struct watch *w = rcu_load(vfs->watch);
	if (w)
		atomic_fetch_add_explicit(&w->active, 1, memory_order_relaxed);
	rcu_read_unlock();
	return w;
}

static void watch_leave(struct watch *w) { atomic_fetch_sub_explicit(&w->active, 1, memory_order_release); }

HIDDEN void watch_entry_slow(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_inode *dir, const char *name,
			     size_t len, struct uvfs_inode *child)
{
	struct watch *w = watch_enter(vfs);
	if (!w)
		return;
	if (w->ops->entry)
		w->ops->entry(w->arg, ev, dir, name, len, child);
	watch_leave(w);
}

HIDDEN void watch_inode_slow(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_inode *inode, uint64_t off,
			     uint64_t len)
{
	struct watch *w = watch_enter(vfs);
	if (!w)
		return;
	if (w->ops->inode)
		w->ops->inode(w->arg, ev, inode, off, len);
	watch_leave(w);
}

/* The caller holds references on parent and point. A mount on a mount's
 * root covers the name of that mount's own mountpoint: climb to it. The
 * namespace root has no name and is not reported. */
HIDDEN void watch_mount(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_mount *parent,
			struct uvfs_dentry *point, struct uvfs_inode *child)
{
	if (likely(!load_relaxed(vfs->watch)))
		return;
	/* Find the covered name under the mount lock (m_point, m_parent),
	 * with references, then report it with no lock held. */
	struct uvfs_dentry *dp = NULL;
	pthread_mutex_lock(&vfs->mount_lock);
	while (parent && point == parent->m_root && parent->m_connected) {
		point = parent->m_point;
		parent = parent->m_parent;
	}
	if (parent && point && point != parent->m_root) {
		dp = uvfs_dentry_get_parent(point);
		uvfs_dentry_get(point);
	} else {
		point = NULL;
	}
	pthread_mutex_unlock(&vfs->mount_lock);
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
