/* vfs/vfs.c — the instance (gVisor VirtualFilesystem): creation and teardown,
 * live-object counts, and liburcu thread registration. Credentials, the
 * type and device registries and filesystem objects have files of their own
 * (cred.c, fstype.c, device.c, fs.c). */
#include <stdio.h>
#include <sys/sysmacros.h>

#include "internal.h"

/* ------------------------------------------------ thread registration */

__thread bool uvfs_rcu_registered HIDDEN;
#ifdef UVFS_TSAN_BUILD
char uvfs_rcu_gp_token HIDDEN;
#endif
static pthread_key_t rcu_key;
static pthread_once_t rcu_key_once = PTHREAD_ONCE_INIT;

static void rcu_thread_exit(void *arg)
{
	(void)arg;
	if (uvfs_rcu_registered) {
		urcu_memb_unregister_thread();
		uvfs_rcu_registered = false;
	}
}

static void rcu_key_make(void) { pthread_key_create(&rcu_key, rcu_thread_exit); }

HIDDEN void rcu_thread_ensure(void)
{
	if (uvfs_rcu_registered)
		return;
	pthread_once(&rcu_key_once, rcu_key_make);
	urcu_memb_register_thread();
	uvfs_rcu_registered = true;
	/* A non-NULL value makes the destructor run at thread exit. */
	pthread_setspecific(rcu_key, (void *)1);
}

UVFS_API void uvfs_thread_enter(void) { rcu_thread_ensure(); }
UVFS_API void uvfs_thread_leave(void) { rcu_thread_exit(NULL); }

/* ---------------------------------------------------------- instance */

UVFS_API int uvfs_create(struct uvfs **out)
{
	rcu_enter();
	struct uvfs *vfs;
	if (posix_memalign((void **)&vfs, CACHELINE, sizeof(*vfs)))
		return -ENOMEM;
	memset(vfs, 0, sizeof(*vfs));
	pthread_mutex_init(&vfs->dcache_resize_lock, NULL);
	pthread_rwlockattr_t rwa;
	pthread_rwlockattr_init(&rwa);
	/* Readers never recurse (dirops.c), so a waiting path climb may go first. */
	pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&vfs->rename_rw, &rwa);
	pthread_rwlockattr_destroy(&rwa);
	pthread_mutex_init(&vfs->mount_lock, NULL);
	pthread_mutex_init(&vfs->types_lock, NULL);
	pthread_mutex_init(&vfs->watch_lock, NULL);
	pthread_mutex_init(&vfs->dev_lock, NULL);
	vfs->anon_minors = calloc(ANON_MINOR_MAX / 8, 1);
	vfs->anon_next = 1;
	vfs->next_mount_id = 1;
	vfs->next_ino = 1;
	int err = -ENOMEM;
	if (!vfs->anon_minors)
		goto fail;
	if ((err = dcache_init(vfs)))
		goto fail;
	if ((err = mount_table_init(vfs))) {
		dcache_fini(vfs);
		goto fail;
	}
	*out = vfs;
	return 0;
fail:
	free(vfs->anon_minors);
	free(vfs);
	return err;
}

UVFS_API void uvfs_live_counts(struct uvfs *vfs, struct uvfs_live *out)
{
	out->dentries = atomic_load(&vfs->live_dentries);
	out->inodes = atomic_load(&vfs->live_inodes);
	out->mounts = atomic_load(&vfs->live_mounts);
	out->mntns = atomic_load(&vfs->live_mntns);
	out->files = atomic_load(&vfs->live_files);
	out->filesystems = atomic_load(&vfs->live_fs);
}

UVFS_API int uvfs_destroy(struct uvfs *vfs, struct uvfs_live *leaks)
{
	rcu_enter();
	/* Run every pending call_rcu callback: frees happen there. */
	uvfs_rcu_barrier();
	RCU_TSAN_ACQUIRE();
	struct uvfs_live live;
	uvfs_live_counts(vfs, &live);
	if (leaks)
		*leaks = live;
	bool leaked = live.dentries || live.inodes || live.mounts || live.mntns || live.files || live.filesystems;
	if (leaked) {
		uvfs_log(UVFS_LOG_ERROR,
			 "destroy: live objects remain: %ld dentries, %ld inodes, %ld mounts, %ld mntns, %ld files, "
			 "%ld filesystems",
			 live.dentries, live.inodes, live.mounts, live.mntns, live.files, live.filesystems);
		/* Leave the instance allocated: freeing it under live objects
		 * would turn a leak into a use-after-free. */
		return -EBUSY;
	}
	while (vfs->fs_types) {
		struct fs_type_entry *e = vfs->fs_types;
		vfs->fs_types = e->next;
		if (e->data && e->data_free)
			e->data_free(e->data);
		free(e);
	}
	device_fini(vfs);
	watch_fini(vfs);
	mount_table_fini(vfs);
	dcache_fini(vfs);
	free(vfs->anon_minors);
	pthread_mutex_destroy(&vfs->dcache_resize_lock);
	pthread_rwlock_destroy(&vfs->rename_rw);
	pthread_mutex_destroy(&vfs->mount_lock);
	pthread_mutex_destroy(&vfs->types_lock);
	pthread_mutex_destroy(&vfs->watch_lock);
	pthread_mutex_destroy(&vfs->dev_lock);
	free(vfs);
	return 0;
}

/* ------------------------------------------------------- filesystems */
