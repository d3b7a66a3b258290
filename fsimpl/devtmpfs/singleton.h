/* fsimpl/devtmpfs/singleton.h — a tmpfs shared by every mount of a type,
 * one per uvfs instance (gVisor's devtmpfs and devpts singletons), used by
 * devtmpfs and devpts.
 *
 * The singleton is remembered weakly: an entry {vfs, fs, priv} in the
 * type's list, holding no reference. Getting it revives it only while its
 * count is above zero (increment-if-not-zero), so a filesystem on its way
 * out is never resurrected; its release (a wrapper around tmpfs's) drops
 * the entry. So uvfs_destroy sees no extra live filesystem, and a mount
 * made after the last one went gets a fresh, empty filesystem.
 *
 * Lock: *mu (the user's, so it may also guard what priv holds) protects
 * the list; get holds it across the creation, so two first mounts make one
 * filesystem, and the release wrapper takes it (it runs with no VFS lock
 * held: uvfs_fs_put's last reference). An entry's fs stays valid while it
 * is listed, since the release that frees it must first take mu. */
#pragma once

#include <pthread.h>

#include "vfs/uvfs_fs.h"

#define SINGLETON_HIDDEN __attribute__((visibility("hidden")))

struct fs_singleton_entry;

/* One per filesystem type, static; the first four fields set by the user. */
struct fs_singletons {
	pthread_mutex_t *mu;
	const struct uvfs_fs_type *type;
	const char *tmpfs_data; /* the tmpfs mount data, e.g. "mode=0755" */
	/* Optional, mu held. setup: the fresh fs, listed but not returned yet
	 * (its priv set from *priv); an error makes get fail and drops the fs.
	 * teardown: the fs is being released; frees priv. */
	int (*setup)(struct uvfs *vfs, struct uvfs_filesystem *fs, void **priv);
	void (*teardown)(void *priv);
	/* Private, under *mu. */
	struct fs_singleton_entry *list;
	struct uvfs_fs_ops ops; /* tmpfs's with release wrapped */
	const struct uvfs_fs_ops *inner;
};

/* The instance of vfs with one more reference, created (with root
 * credentials, mount data s->tmpfs_data) if there is none alive. */
SINGLETON_HIDDEN int fs_singleton_get(struct fs_singletons *s, struct uvfs *vfs, const char *source,
				      struct uvfs_filesystem **out);
/* *mu held: the live instance's priv for vfs, or NULL (none, or on its
 * way out). */
SINGLETON_HIDDEN void *fs_singleton_find(struct fs_singletons *s, struct uvfs *vfs);
