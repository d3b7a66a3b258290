/* fsimpl/overlay/overlay.h — the overlay filesystem type (Linux overlayfs
 * semantics, its upper-layer format: whiteouts are char 0:0 nodes, opaque
 * directories carry trusted.overlay.opaque=y).
 *
 * Two ways to give the layers (gVisor's overlay.FilesystemOptions and the
 * Data string); both go through uvfs_mount_opts.internal = a struct
 * uvfs_overlay_opts:
 *  - vds: upper/work (optional: no upper is a read-only overlay, which then
 *    needs at least two lowers) and nlower lower vds, top first. The
 *    filesystem takes its own references.
 *  - the Data string "lowerdir=A:B,upperdir=U,workdir=W": the paths are
 *    resolved (following symlinks) from `root`, the caller's root, since a
 *    uvfs call has no current task to take it from. Data and vds for the
 *    same layer: -EINVAL.
 * upperdir and workdir must be directories of the same mount (the copy-up
 * links from one to the other). Layers must not have submounts.
 * A regular-file root (vds only, gVisor configureOverlay for a file bind
 * mount): one lower vd naming a regular file, `upper` the regular-file root
 * of a tmpfs (uvfs_tmpfs_internal.root_type = S_IFREG), no work; the lower
 * file's data, mode, owner, times and xattrs are copied into the upper file
 * at mount time. Other mixes of files and directories: -ENOTDIR; a file
 * root with two lowers, no upper or a workdir: -EINVAL. */
#pragma once

#include "uvfs.h"

UVFS_API extern const struct uvfs_fs_type uvfs_overlay_type;

#define UVFS_OVERLAY_MAX_LOWER 500

struct uvfs_overlay_opts {
	struct uvfs_vd root; /* resolves Data paths; borrowed */
	struct uvfs_vd upper, work; /* borrowed; both unset: no upper (or from Data) */
	unsigned nlower;
	const struct uvfs_vd *lower; /* borrowed, top first */
};

/* Layers that are host directories (`uvfs mount -t overlay`): from the
 * Data string "lowerdir=A:B,upperdir=U,workdir=W[,...]" (host paths),
 * each lower is served read-only by its own gofer (diod) and upperdir and
 * workdir by one gofer serving their nearest common ancestor, as
 * disconnected 9p mounts of vfs (the "9p" type must be registered). Then
 * mount "overlay" with .internal = uvfs_overlay_host_opts(h) and .data =
 * uvfs_overlay_host_data(h) (the options other than the three paths), and
 * put h (the overlay keeps its own references). -EINVAL without lowerdir,
 * with upperdir but no workdir or nested ones; -errno of realpath or of a
 * gofer. */
struct uvfs_overlay_host;
UVFS_API int uvfs_overlay_host_layers(struct uvfs *vfs, const struct uvfs_cred *cred, const char *data,
				      struct uvfs_overlay_host **out);
UVFS_API const struct uvfs_overlay_opts *uvfs_overlay_host_opts(const struct uvfs_overlay_host *h);
UVFS_API const char *uvfs_overlay_host_data(const struct uvfs_overlay_host *h);
UVFS_API void uvfs_overlay_host_put(struct uvfs_overlay_host *h);
