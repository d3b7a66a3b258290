/* boot/boot.h — building a container's tree. Today: the built-in default
 * tree; the OCI config.json boot (registerFilesystems, mountAll) lands here. */
#pragma once

#include "vfs/uvfs.h"

/* boot/default_tree.c: a fresh instance with tmpfs registered and the sample
 * tree documented in fuse/README.md. */
UVFS_API int uvfs_default_tree(struct uvfs **vfs, struct uvfs_mntns **ns);
/* Same signature as uvfs_fuse_build_fn (arg unused). */
UVFS_API int uvfs_default_tree_build(void *arg, struct uvfs **vfs, struct uvfs_mntns **ns);
