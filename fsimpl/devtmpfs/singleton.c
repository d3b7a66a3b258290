/* fsimpl/devtmpfs/singleton.c — a tmpfs per uvfs instance shared by every
 * mount of a type (singleton.h says how it is remembered and locked). */
#include <errno.h>
#include <stdlib.h>

#include "fsimpl/devtmpfs/singleton.h"

struct fs_singleton_entry {
	struct uvfs *vfs;
	struct uvfs_filesystem *fs; /* no reference */
	void *priv;
	struct fs_singleton_entry *next;
};

static void singleton_release(struct uvfs_filesystem *fs)
{
	struct fs_singletons *s = container_of(fs->ops, struct fs_singletons, ops);
	pthread_mutex_lock(s->mu);
	for (struct fs_singleton_entry **pp = &s->list; *pp; pp = &(*pp)->next) {
		if ((*pp)->fs == fs) {
			struct fs_singleton_entry *e = *pp;
			*pp = e->next;
			if (s->teardown)
				s->teardown(e->priv);
			free(e);
			break;
		}
	}
	const struct uvfs_fs_ops *inner = s->inner;
	pthread_mutex_unlock(s->mu);
	inner->release(fs);
}

static bool fs_tryget(struct uvfs_filesystem *fs)
{
	long r = atomic_load(&fs->refs);
	while (r > 0)
		if (atomic_compare_exchange_weak(&fs->refs, &r, r + 1))
			return true;
	return false;
}

SINGLETON_HIDDEN void *fs_singleton_find(struct fs_singletons *s, struct uvfs *vfs)
{
	for (struct fs_singleton_entry *e = s->list; e; e = e->next)
		if (e->vfs == vfs && atomic_load(&e->fs->refs) > 0)
			return e->priv;
	return NULL;
}

SINGLETON_HIDDEN int fs_singleton_get(struct fs_singletons *s, struct uvfs *vfs, const char *source,
				      struct uvfs_filesystem **out)
{
	int err = 0;
	pthread_mutex_lock(s->mu);
	for (struct fs_singleton_entry *e = s->list; e; e = e->next) {
		if (e->vfs == vfs && fs_tryget(e->fs)) {
			*out = e->fs;
			goto out;
		}
	}
	struct fs_singleton_entry *e = calloc(1, sizeof(*e));
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	/* Owned by root whoever mounts first. */
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	struct uvfs_filesystem *fs;
	if ((err = uvfs_tmpfs_type.get_fs(vfs, &root, source, &(struct uvfs_fs_opts){ .data = s->tmpfs_data }, &fs))) {
		free(e);
		goto out;
	}
	if (!s->inner) {
		s->inner = fs->ops;
		s->ops = *fs->ops;
		s->ops.release = singleton_release;
	}
	/* Not published yet: the type and ops may still be set. */
	fs->ops = &s->ops;
	fs->type = s->type;
	e->vfs = vfs;
	e->fs = fs;
	e->next = s->list;
	s->list = e;
	if (s->setup && (err = s->setup(vfs, fs, &e->priv))) {
		pthread_mutex_unlock(s->mu);
		uvfs_fs_put(fs); /* the release wrapper takes mu and unlists it */
		return err;
	}
	*out = fs;
out:
	pthread_mutex_unlock(s->mu);
	return err;
}
