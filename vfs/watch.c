/* vfs/watch.c — change notification: one subscriber per instance
 * (uvfs_watch_set) hears about every change the VFS commits (names created,
 * removed or renamed, attributes and data changed, mounts added and removed),
 * so a front end that caches (the FUSE export, through the kernel's dcache
 * and page cache) can drop what went stale.
 *
 * Locking: vfs->watch is read under RCU by the changing thread after it has
 * dropped every VFS lock (LOCKING.md, "Change notification"); the pointer is
 * swapped with an atomic exchange and the old one freed after a grace
 * period, so an unsubscribe returns only once no callback runs. With no
 * subscriber a change costs one relaxed load (watch_entry/watch_inode in
 * internal.h).
 */
#include "internal.h"

UVFS_API int uvfs_watch_set(struct uvfs *vfs, const struct uvfs_watch_ops *ops, void *arg)
{
	rcu_enter();
	if (!ops) {
		struct watch *old = __atomic_exchange_n(&vfs->watch, NULL, __ATOMIC_ACQ_REL);
		if (old) {
			synchronize_rcu(); /* callbacks still running finish first */
			free(old);
		}
		return 0;
	}
	struct watch *w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ops = ops;
	w->arg = arg;
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

HIDDEN void watch_entry_slow(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_inode *dir, const char *name,
			     size_t len, struct uvfs_inode *child)
{
	rcu_read_lock();
	struct watch *w = rcu_load(vfs->watch);
	if (w && w->ops->entry)
		w->ops->entry(w->arg, ev, dir, name, len, child);
	rcu_read_unlock();
}

HIDDEN void watch_inode_slow(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_inode *inode, uint64_t off,
			     uint64_t len)
{
	rcu_read_lock();
	struct watch *w = rcu_load(vfs->watch);
	if (w && w->ops->inode)
		w->ops->inode(w->arg, ev, inode, off, len);
	rcu_read_unlock();
}

/* The caller holds references on parent and point. A mount on a mount's
 * root covers the name of that mount's own mountpoint: climb to it. The
 * namespace root has no name and is not reported. */
HIDDEN void watch_mount(struct uvfs *vfs, enum uvfs_watch_event ev, struct uvfs_mount *parent,
			struct uvfs_dentry *point, struct uvfs_inode *child)
{
	if (likely(!load_relaxed(vfs->watch)))
		return;
	rcu_read_lock();
	struct watch *w = rcu_load(vfs->watch);
	while (parent && point == parent->m_root) {
		point = rcu_load(parent->m_point);
		parent = rcu_load(parent->m_parent);
	}
	struct uvfs_dentry *dp = point ? rcu_load(point->d_parent) : NULL;
	if (w && w->ops->entry && parent && dp && dp != point) {
		const struct uvfs_dname *n = rcu_load(point->d_name);
		w->ops->entry(w->arg, ev, rcu_load(dp->d_inode), n->name, n->len, child);
	}
	rcu_read_unlock();
}
