/* fsimpl/tmpfs/tmpfs.h — public interface of tmpfs beyond uvfs_tmpfs_type
 * (declared in uvfs.h): typed data for internal mounts. */
#pragma once

#include <sys/types.h>

/* Passed as uvfs_mount_opts.internal (internal mounts only) to give the
 * filesystem a root that is not a directory, e.g. an overlay upper layer over
 * a bind-mounted file. Unset (NULL internal) means a directory root. */
struct uvfs_tmpfs_internal {
	mode_t root_type; /* S_IFDIR (also 0), S_IFREG or S_IFLNK */
	const char *root_symlink_target; /* required for S_IFLNK, copied */
};
