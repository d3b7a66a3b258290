/* vfs/vfs.c — the instance (gVisor VirtualFilesystem): creation and
 * teardown, the filesystem-type and device registries, anonymous device
 * minors, credentials, and liburcu thread registration.
 *
 * Lock order: types_lock and dev_lock are leaves. */
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

/* ------------------------------------------------------------- creds */

UVFS_API void uvfs_cred_init_root(struct uvfs_cred *c)
{
	memset(c, 0, sizeof(*c));
	c->caps = UVFS_CAPS_ALL;
}

UVFS_API void uvfs_cred_init_user(struct uvfs_cred *c, uint32_t uid, uint32_t gid)
{
	memset(c, 0, sizeof(*c));
	c->uid = c->euid = c->fsuid = uid;
	c->gid = c->egid = c->fsgid = gid;
}

UVFS_API bool uvfs_cred_has_cap(const struct uvfs_cred *c, int cap) { return (c->caps >> cap) & 1; }

UVFS_API bool uvfs_cred_in_group(const struct uvfs_cred *c, uint32_t gid)
{
	if (c->fsgid == gid)
		return true;
	for (uint32_t i = 0; i < c->ngroups && i < UVFS_NGROUPS_MAX; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

/* ---------------------------------------------------------- instance */

#define ANON_MINOR_MAX (1u << 20)

UVFS_API int uvfs_create(struct uvfs **out)
{
	rcu_enter();
	struct uvfs *vfs;
	if (posix_memalign((void **)&vfs, CACHELINE, sizeof(*vfs)))
		return -ENOMEM;
	memset(vfs, 0, sizeof(*vfs));
	pthread_mutex_init(&vfs->dcache_resize_lock, NULL);
	pthread_mutex_init(&vfs->rename_lock, NULL);
	pthread_mutex_init(&vfs->mount_lock, NULL);
	pthread_mutex_init(&vfs->types_lock, NULL);
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
	urcu_memb_barrier();
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
		free(e);
	}
	while (vfs->devices) {
		struct dev_entry *e = vfs->devices;
		vfs->devices = e->next;
		free(e);
	}
	mount_table_fini(vfs);
	dcache_fini(vfs);
	free(vfs->anon_minors);
	pthread_mutex_destroy(&vfs->dcache_resize_lock);
	pthread_mutex_destroy(&vfs->rename_lock);
	pthread_mutex_destroy(&vfs->mount_lock);
	pthread_mutex_destroy(&vfs->types_lock);
	pthread_mutex_destroy(&vfs->dev_lock);
	free(vfs);
	return 0;
}

/* ----------------------------------------------------- fs type registry */

UVFS_API int uvfs_register_fs_type(struct uvfs *vfs, const struct uvfs_fs_type *type, unsigned flags)
{
	if (!type || !type->name || !type->name[0] || !type->get_fs)
		return -EINVAL;
	struct fs_type_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->type = type;
	e->flags = flags;
	pthread_mutex_lock(&vfs->types_lock);
	for (struct fs_type_entry *it = vfs->fs_types; it; it = it->next) {
		if (!strcmp(it->type->name, type->name)) {
			pthread_mutex_unlock(&vfs->types_lock);
			free(e);
			return -EEXIST;
		}
	}
	/* Keep the list sorted by name: /proc/filesystems is sorted. */
	struct fs_type_entry **pp = &vfs->fs_types;
	while (*pp && strcmp((*pp)->type->name, type->name) < 0)
		pp = &(*pp)->next;
	e->next = *pp;
	*pp = e;
	pthread_mutex_unlock(&vfs->types_lock);
	return 0;
}

HIDDEN int fs_type_find(struct uvfs *vfs, const char *name, const struct uvfs_fs_type **type, unsigned *flags);
HIDDEN int fs_type_find(struct uvfs *vfs, const char *name, const struct uvfs_fs_type **type, unsigned *flags)
{
	int err = -ENODEV;
	if (!name)
		return -ENODEV;
	pthread_mutex_lock(&vfs->types_lock);
	for (struct fs_type_entry *it = vfs->fs_types; it; it = it->next) {
		if (!strcmp(it->type->name, name)) {
			*type = it->type;
			*flags = it->flags;
			err = 0;
			break;
		}
	}
	pthread_mutex_unlock(&vfs->types_lock);
	return err;
}

UVFS_API ssize_t uvfs_list_fs_types(struct uvfs *vfs, char *buf, size_t len)
{
	size_t need = 0;
	pthread_mutex_lock(&vfs->types_lock);
	for (struct fs_type_entry *it = vfs->fs_types; it; it = it->next) {
		if (!(it->flags & UVFS_FS_USER_LIST))
			continue;
		char line[128];
		int n = snprintf(line, sizeof(line), "%s\t%s\n", (it->flags & UVFS_FS_REQUIRES_DEV) ? "" : "nodev",
				 it->type->name);
		if (n < 0)
			continue;
		/* Copy the part that fits, keeping room for the NUL. */
		if (buf && len && need < len - 1) {
			size_t room = len - 1 - need;
			memcpy(buf + need, line, (size_t)n < room ? (size_t)n : room);
		}
		need += (size_t)n;
	}
	pthread_mutex_unlock(&vfs->types_lock);
	if (buf && len)
		buf[need < len ? need : len - 1] = 0;
	return (ssize_t)need;
}

/* ------------------------------------------------------------ devices */

UVFS_API int uvfs_register_device(struct uvfs *vfs, int kind, uint32_t major, uint32_t minor,
				  const struct uvfs_file_ops *fops, void *priv, const char *group)
{
	if ((kind != UVFS_DEV_CHAR && kind != UVFS_DEV_BLOCK) || !fops)
		return -EINVAL;
	struct dev_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct dev_entry){ .kind = kind, .major = major, .minor = minor, .fops = fops, .priv = priv };
	if (group)
		snprintf(e->group, sizeof(e->group), "%s", group);
	pthread_mutex_lock(&vfs->dev_lock);
	for (struct dev_entry *it = vfs->devices; it; it = it->next) {
		if (it->kind == kind && it->major == major && it->minor == minor) {
			pthread_mutex_unlock(&vfs->dev_lock);
			free(e);
			return -EEXIST;
		}
	}
	e->next = vfs->devices;
	vfs->devices = e;
	pthread_mutex_unlock(&vfs->dev_lock);
	return 0;
}

HIDDEN int device_lookup(struct uvfs *vfs, int kind, dev_t rdev, const struct uvfs_file_ops **fops, void **priv)
{
	int err = -ENXIO;
	pthread_mutex_lock(&vfs->dev_lock);
	for (struct dev_entry *it = vfs->devices; it; it = it->next) {
		if (it->kind == kind && it->major == major(rdev) && it->minor == minor(rdev)) {
			*fops = it->fops;
			*priv = it->priv;
			err = 0;
			break;
		}
	}
	pthread_mutex_unlock(&vfs->dev_lock);
	return err;
}

/* Smallest free minor at or after the hint (gVisor GetAnonBlockDevMinor). */
UVFS_API int uvfs_get_anon_minor(struct uvfs *vfs, uint32_t *minor)
{
	int err = -EMFILE;
	pthread_mutex_lock(&vfs->dev_lock);
	for (uint32_t i = 0, m = vfs->anon_next; i < ANON_MINOR_MAX; i++, m++) {
		if (m >= ANON_MINOR_MAX - 1 || m == 0)
			m = 1;
		if (!(vfs->anon_minors[m / 8] & (1u << (m % 8)))) {
			vfs->anon_minors[m / 8] |= (uint8_t)(1u << (m % 8));
			vfs->anon_next = m + 1;
			*minor = m;
			err = 0;
			break;
		}
	}
	pthread_mutex_unlock(&vfs->dev_lock);
	return err;
}

UVFS_API void uvfs_put_anon_minor(struct uvfs *vfs, uint32_t minor)
{
	if (minor == 0 || minor >= ANON_MINOR_MAX)
		return;
	pthread_mutex_lock(&vfs->dev_lock);
	vfs->anon_minors[minor / 8] &= (uint8_t) ~(1u << (minor % 8));
	if (minor < vfs->anon_next)
		vfs->anon_next = minor;
	pthread_mutex_unlock(&vfs->dev_lock);
}

/* ------------------------------------------------------- filesystems */

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
	LIVE_INC(vfs, fs);
	return 0;
}

UVFS_API void uvfs_fs_abort(struct uvfs_filesystem *fs)
{
	if (fs->root) {
		struct uvfs_dentry *r = fs->root;
		fs->root = NULL;
		d_shrink_fs(fs);
		uvfs_dentry_put(r);
	}
	uvfs_put_anon_minor(fs->vfs, minor(fs->dev));
	LIVE_DEC(fs->vfs, fs);
}

UVFS_API void uvfs_fs_get(struct uvfs_filesystem *fs) { atomic_fetch_add(&fs->refs, 1); }

UVFS_API void uvfs_fs_put(struct uvfs_filesystem *fs)
{
	if (atomic_fetch_sub(&fs->refs, 1) != 1)
		return;
	struct uvfs *vfs = fs->vfs;
	dev_t dev = fs->dev;
	/* No mount holds the fs: every dentry left is a pin or the root. */
	struct uvfs_dentry *root = fs->root;
	if (root) {
		if (fs->flags & UVFS_FST_DCACHE_COMPLETE)
			d_shrink_fs(fs);
		fs->root = NULL;
		uvfs_dentry_put(root);
	}
	/* Inodes are freed via call_rcu and their free_inode may still need
	 * the fs: wait for them before the fs goes. */
	urcu_memb_barrier();
	RCU_TSAN_ACQUIRE();
	fs->ops->release(fs);
	uvfs_put_anon_minor(vfs, minor(dev));
	LIVE_DEC(vfs, fs);
}
