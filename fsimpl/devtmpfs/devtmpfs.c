/* fsimpl/devtmpfs/devtmpfs.c — the devtmpfs type: a singleton tmpfs per
 * uvfs instance (fsimpl/devtmpfs/singleton.h: remembered weakly, so a
 * mount after the last one went gets a fresh, empty one), and its
 * accessor (gVisor fsimpl/devtmpfs).
 *
 * Lock: devtmpfs_mu, the singleton list's (singleton.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "fsimpl/devtmpfs/devtmpfs.h"
#include "fsimpl/devtmpfs/singleton.h"
#include "vfs/uvfs_fs.h"

static pthread_mutex_t devtmpfs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fs_singletons devtmpfs_singletons = {
	.mu = &devtmpfs_mu,
	.type = &uvfs_devtmpfs_type,
	.tmpfs_data = "mode=0755",
};

/* Mount data is ignored, as gVisor. */
static int devtmpfs_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
			   const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	return fs_singleton_get(&devtmpfs_singletons, vfs, source, out);
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
