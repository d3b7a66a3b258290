/* fsimpl/devtmpfs/devtmpfs.c — the devtmpfs type: a singleton tmpfs per
 * uvfs instance, and its accessor (gVisor fsimpl/devtmpfs).
 *
 * The singleton is remembered weakly: an entry {vfs, fs} in a process-wide
 * list, holding no reference. get_fs revives it only while its count is
 * still above zero (increment-if-not-zero), so a filesystem on its way out
 * is never resurrected; its release (our wrapper around tmpfs's) drops the
 * entry. So uvfs_destroy sees no extra live filesystem, and a mount made
 * after the last one went gets a fresh, empty devtmpfs.
 *
 * Lock: singletons.mu protects the list; it is taken by get_fs (around the
 * tmpfs creation, so two first mounts cannot make two filesystems) and by
 * the release wrapper, which holds no VFS lock when it runs (uvfs_fs_put's
 * last reference). An entry's fs memory stays valid while the entry is
 * listed, since the release that frees it must first take mu. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "fsimpl/devtmpfs/devtmpfs.h"
#include "vfs/uvfs_fs.h"

struct singleton {
	struct uvfs *vfs;
	struct uvfs_filesystem *fs; /* no reference: see above */
	struct singleton *next;
};

static struct {
	pthread_mutex_t mu;
	struct singleton *list;
} singletons = { .mu = PTHREAD_MUTEX_INITIALIZER };

static struct uvfs_fs_ops devtmpfs_fs_ops; /* tmpfs's, with release wrapped; set under mu */
static const struct uvfs_fs_ops *tmpfs_fs_ops; /* the wrapped table; set under mu */

static void devtmpfs_release(struct uvfs_filesystem *fs)
{
	pthread_mutex_lock(&singletons.mu);
	for (struct singleton **pp = &singletons.list; *pp; pp = &(*pp)->next) {
		if ((*pp)->fs == fs) {
			struct singleton *s = *pp;
			*pp = s->next;
			free(s);
			break;
		}
	}
	const struct uvfs_fs_ops *inner = tmpfs_fs_ops;
	pthread_mutex_unlock(&singletons.mu);
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

static int devtmpfs_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
			   const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	int err = 0;
	pthread_mutex_lock(&singletons.mu);
	for (struct singleton *s = singletons.list; s; s = s->next) {
		if (s->vfs == vfs && fs_tryget(s->fs)) {
			*out = s->fs;
			goto out;
		}
	}
	struct singleton *s = malloc(sizeof(*s));
	if (!s) {
		err = -ENOMEM;
		goto out;
	}
	/* Owned by root whoever mounts first; mount data is ignored. */
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	struct uvfs_filesystem *fs;
	if ((err = uvfs_tmpfs_type.get_fs(vfs, &root, source, &(struct uvfs_fs_opts){ .data = "mode=0755" }, &fs))) {
		free(s);
		goto out;
	}
	/* Not published yet: the type and ops may still be set. */
	if (!tmpfs_fs_ops) {
		tmpfs_fs_ops = fs->ops;
		devtmpfs_fs_ops = *fs->ops;
		devtmpfs_fs_ops.release = devtmpfs_release;
	}
	fs->ops = &devtmpfs_fs_ops;
	fs->type = &uvfs_devtmpfs_type;
	s->vfs = vfs;
	s->fs = fs;
	s->next = singletons.list;
	singletons.list = s;
	*out = fs;
out:
	pthread_mutex_unlock(&singletons.mu);
	return err;
}

UVFS_API const struct uvfs_fs_type uvfs_devtmpfs_type = {
	.name = "devtmpfs",
	.flags = UVFS_FST_RCU_WALK | UVFS_FST_DCACHE_COMPLETE,
	.get_fs = devtmpfs_get_fs,
};

/* ---------------------------------------------------------------- accessor */

struct uvfs_devtmpfs_accessor {
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct uvfs_vd root;
	struct uvfs_cred cred; /* root, every capability */
};

UVFS_API int uvfs_devtmpfs_accessor_new(struct uvfs *vfs, struct uvfs_devtmpfs_accessor **out)
{
	struct uvfs_devtmpfs_accessor *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->vfs = vfs;
	uvfs_cred_init_root(&a->cred);
	struct uvfs_mount_opts mo = { .internal_mount = true };
	int err = uvfs_mntns_new(vfs, &a->cred, "devtmpfs", uvfs_devtmpfs_type.name, &mo, &a->ns);
	if (err) {
		free(a);
		return err;
	}
	uvfs_mntns_root(a->ns, &a->root);
	*out = a;
	return 0;
}

UVFS_API void uvfs_devtmpfs_accessor_release(struct uvfs_devtmpfs_accessor *a)
{
	if (!a)
		return;
	uvfs_vd_put(&a->root);
	uvfs_mntns_put(a->ns);
	free(a);
}

static struct uvfs_pathop pop(struct uvfs_devtmpfs_accessor *a, const char *path)
{
	return (struct uvfs_pathop){ .root = a->root, .start = a->root, .path = path };
}

UVFS_API int uvfs_devtmpfs_create_device(struct uvfs_devtmpfs_accessor *a, const char *path, int kind,
					 uint32_t major, uint32_t minor, mode_t perms)
{
	if (!path || (kind != UVFS_DEV_CHAR && kind != UVFS_DEV_BLOCK) || (perms & ~07777))
		return -EINVAL;
	while (*path == '/')
		path++;
	size_t len = strlen(path);
	if (!len || len >= UVFS_PATH_MAX)
		return -EINVAL;
	char buf[UVFS_PATH_MAX];
	memcpy(buf, path, len + 1);
	/* mkdir -p of each parent, 0755 (gVisor MkdirAllAt). */
	for (char *sl = strchr(buf, '/'); sl; sl = strchr(sl + 1, '/')) {
		*sl = 0;
		struct uvfs_pathop d = pop(a, buf);
		int err = uvfs_mkdir_at(a->vfs, &a->cred, &d, 0755);
		*sl = '/';
		if (err && err != -EEXIST)
			return err;
	}
	struct uvfs_pathop p = pop(a, buf);
	return uvfs_mknod_at(a->vfs, &a->cred, &p, (kind == UVFS_DEV_CHAR ? S_IFCHR : S_IFBLK) | perms,
			     makedev(major, minor));
}

UVFS_API int uvfs_devtmpfs_userspace_init(struct uvfs_devtmpfs_accessor *a)
{
	static const struct {
		const char *name, *target;
	} links[] = {
		{ "fd", "/proc/self/fd" },	   { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" }, { "ptmx", "pts/ptmx" },
	};
	static const struct {
		const char *name;
		mode_t mode;
	} dirs[] = { { "shm", 01777 }, { "pts", 0755 } };
	int err;
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		struct uvfs_pathop p = pop(a, links[i].name);
		if ((err = uvfs_symlink_at(a->vfs, &a->cred, links[i].target, &p)))
			return err;
	}
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		struct uvfs_pathop p = pop(a, dirs[i].name);
		if ((err = uvfs_mkdir_at(a->vfs, &a->cred, &p, dirs[i].mode)))
			return err;
	}
	return 0;
}

UVFS_API int uvfs_devtmpfs_create_device_files(struct uvfs_devtmpfs_accessor *a,
					       const struct uvfs_devices_opts *opts)
{
	static const struct {
		const char *path;
		uint32_t major, minor;
	} nodes[] = {
		{ "null", UVFS_MEM_MAJOR, UVFS_NULL_MINOR },	   { "zero", UVFS_MEM_MAJOR, UVFS_ZERO_MINOR },
		{ "full", UVFS_MEM_MAJOR, UVFS_FULL_MINOR },	   { "random", UVFS_MEM_MAJOR, UVFS_RANDOM_MINOR },
		{ "urandom", UVFS_MEM_MAJOR, UVFS_URANDOM_MINOR }, { "tty", UVFS_TTYAUX_MAJOR, UVFS_TTY_MINOR },
	};
	int err;
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
		if ((err = uvfs_devtmpfs_create_device(a, nodes[i].path, UVFS_DEV_CHAR, nodes[i].major, nodes[i].minor,
						       0666)))
			return err;
	if (opts && opts->net_stack &&
	    (err = uvfs_devtmpfs_create_device(a, "net/tun", UVFS_DEV_CHAR, UVFS_MISC_MAJOR, UVFS_TUN_MINOR, 0666)))
		return err;
	if (opts && opts->fuse &&
	    (err = uvfs_devtmpfs_create_device(a, "fuse", UVFS_DEV_CHAR, UVFS_MISC_MAJOR, UVFS_FUSE_MINOR, 0666)))
		return err;
	return 0;
}
