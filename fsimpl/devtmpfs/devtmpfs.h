/* fsimpl/devtmpfs/devtmpfs.h — devtmpfs (gVisor fsimpl/devtmpfs): one tmpfs
 * (mode=0755) per uvfs instance, shared by every mount of type "devtmpfs"
 * (mount data is ignored, as gVisor), and an accessor that fills it with
 * root credentials at boot. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "devices/devices.h"
#include "vfs/uvfs.h"

/* Register with UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST (as the seed). The
 * shared tmpfs lives while some mount (or accessor) holds it; the next
 * mount after the last one went makes a fresh, empty one. */
UVFS_API extern const struct uvfs_fs_type uvfs_devtmpfs_type;

/* A private mount namespace on the shared devtmpfs and root credentials
 * (gVisor devtmpfs.Accessor). The type must be registered in vfs. */
struct uvfs_devtmpfs_accessor;
UVFS_API int uvfs_devtmpfs_accessor_new(struct uvfs *vfs, struct uvfs_devtmpfs_accessor **out);
UVFS_API void uvfs_devtmpfs_accessor_release(struct uvfs_devtmpfs_accessor *a);

/* mkdir -p of path's directory (0755), then a device node at path (path
 * relative to the devtmpfs root, with or without a leading '/'): kind is
 * UVFS_DEV_CHAR or UVFS_DEV_BLOCK, perms the permission bits. Errors as
 * uvfs_mknod_at (-EEXIST when the name is taken). */
UVFS_API int uvfs_devtmpfs_create_device(struct uvfs_devtmpfs_accessor *a, const char *path, int kind,
					 uint32_t major, uint32_t minor, mode_t perms);

/* The seed's UserspaceInit, in its order: symlinks fd → /proc/self/fd,
 * stdin/stdout/stderr → /proc/self/fd/0..2, ptmx → pts/ptmx; directories
 * shm (1777: gVisor's 0755 left /dev/shm unusable to non-root users,
 * google/gvisor#5687) and pts (0755). All owned by root. */
UVFS_API int uvfs_devtmpfs_userspace_init(struct uvfs_devtmpfs_accessor *a);

/* The device nodes of devices/ (mode 0666, root): null, zero, full, random,
 * urandom, tty, and net/tun and fuse when opts says so (opts may be NULL),
 * as the seed's memdev/ttydev/tundev/fuse CreateDevtmpfsFiles. */
UVFS_API int uvfs_devtmpfs_create_device_files(struct uvfs_devtmpfs_accessor *a,
					       const struct uvfs_devices_opts *opts);
