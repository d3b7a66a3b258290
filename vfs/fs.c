/* vfs/fs.c — filesystem objects: init, abort, references, release. */
#include "internal.h"

UVFS_API int uvfs_fs_init(struct uvfs_filesystem *fs, struct uvfs *vfs, const struct uvfs_fs_type *type,
			  const struct uvfs_fs_ops *ops)
{
	uint32_t minor;
	int err = uvfs_get_anon_minor(vfs, &minor);
	if (err)
		return err;
	fs->vfs = vfs;
	fs->type = type;
	fs->ops = ops;
	fs->root = NULL;
	fs->dev = makedev(0, minor);
	fs->flags = type->flags;
	atomic_init(&fs->refs, 1);
	d_lru_init(fs);
	fs->rename_lock = (struct uvfs_lock)UVFS_LOCK_INIT;
	fs->remount_lock = (struct uvfs_lock)UVFS_LOCK_INIT;
	atomic_init(&fs->sb_flags, 0);
	LIVE_INC(vfs, fs);
	return 0;
}

UVFS_API void uvfs_fs_abort(struct uvfs_filesystem *fs)
{
	if (fs->root) {
		struct uvfs_dentry *r = fs->root;
		d_shrink_fs(fs);
		fs->root = NULL;
		uvfs_dentry_put(r);
	}
	uvfs_put_anon_minor(fs->vfs, minor(fs->dev));
	LIVE_DEC(fs->vfs, fs);
}

UVFS_API void uvfs_fs_get(struct uvfs_filesystem *fs) { atomic_fetch_add(&fs->refs, 1); }

/* The calling thread's put batch (uvfs_fs_put_batch_begin): thread-local,
 * so no lock. */
static __thread struct {
	int depth;
	struct uvfs_filesystem *head, **tail;
} put_batch;

static void fs_release(struct uvfs_filesystem *fs, struct uvfs *vfs, dev_t dev)
{
	fs->ops->release(fs);
	uvfs_put_anon_minor(vfs, minor(dev));
	LIVE_DEC(vfs, fs);
}

UVFS_API void uvfs_fs_put(struct uvfs_filesystem *fs)
{
	if (atomic_fetch_sub(&fs->refs, 1) != 1)
		return;
	struct uvfs *vfs = fs->vfs;
	dev_t dev = fs->dev;
	/* No mount holds the fs: every dentry left is the root, pinned or
	 * cached (on the LRU). */
	struct uvfs_dentry *root = fs->root;
	if (root) {
		d_shrink_fs(fs);
		fs->root = NULL;
		uvfs_dentry_put(root);
	}
	if (put_batch.depth) {
		fs->put_next = NULL;
		*put_batch.tail = fs;
		put_batch.tail = &fs->put_next;
		return;
	}
	/* Inodes are freed via call_rcu and their free_inode may still need
	 * the fs: wait for them before the fs goes. */
	uvfs_rcu_barrier();
	RCU_TSAN_ACQUIRE();
	fs_release(fs, vfs, dev);
}

UVFS_API void uvfs_fs_put_batch_begin(void)
{
	if (!put_batch.depth++) {
		put_batch.head = NULL;
		put_batch.tail = &put_batch.head;
	}
}

UVFS_API void uvfs_fs_put_batch_end(void)
{
	if (--put_batch.depth)
		return;
	/* Releases may put more filesystems (an overlay's layers): they join
	 * the next round, so each round costs one barrier. */
	while (put_batch.head) {
		struct uvfs_filesystem *fs = put_batch.head;
		put_batch.head = NULL;
		put_batch.tail = &put_batch.head;
		put_batch.depth++;
		uvfs_rcu_barrier(); /* one for the whole round (see uvfs_fs.h) */
		RCU_TSAN_ACQUIRE();
		while (fs) {
			struct uvfs_filesystem *next = fs->put_next;
			fs_release(fs, fs->vfs, fs->dev);
			fs = next;
		}
		put_batch.depth--;
	}
}
