/* fuse/fuse_export.h — export a uvfs mount namespace through FUSE (libfuse3,
 * low-level API). Every operation goes through the uvfs_* entry points of
 * vfs/uvfs.h with the requesting process's credentials; permissions are
 * enforced by uvfs, so `-o allow_other` is safe without default_permissions.
 */
#pragma once

#include <stdbool.h>

#include "vfs/uvfs.h"

/* Per-export settings. A negative timeout means "the filesystem's default"
 * (tmpfs: 1 s; unknown types: 0 s and direct_io for empty regular files). */
struct uvfs_fuse_config {
	double entry_timeout;
	double attr_timeout;
	/* Do not ask for the kernel's writeback cache (-o writeback=0): every
	 * write() is a WRITE request, size and times come from uvfs. */
	bool no_writeback;
};

/* Builds the namespace to export. Called by uvfs_fuse_main after the mount
 * succeeded and after daemonizing (so no uvfs thread crosses a fork). On
 * success *vfs and *ns hold one reference each; ownership passes to the
 * caller of the hook (uvfs_fuse_main puts ns and destroys vfs). */
typedef int (*uvfs_fuse_build_fn)(void *arg, struct uvfs **vfs, struct uvfs_mntns **ns);

/* `uvfs mount`: libfuse command line (argv[0] is the program name): -f -d -s
 * -o opt,... --help --version MOUNTPOINT, plus -o entry_timeout=,attr_timeout=,writeback=
 * and the view's uid=,gid=,umask=,map=,kernel_cache (also in uvfs_fuse_start's
 * options; see fuse/README.md).
 * Mounts, builds the tree, serves until unmounted (fusermount3 -u) or
 * SIGINT/SIGTERM/SIGHUP, unmounts, tears the instance down and prints
 * "uvfs: teardown: 0 live objects" (or the leak counts) to stderr.
 * Returns the process exit status: 0, 1 on errors, 2 on usage errors,
 * 3 when teardown found live objects. */
UVFS_API int uvfs_fuse_main(int argc, char **argv, uvfs_fuse_build_fn build, void *arg);

/* A running export with its session loop in a background thread (for
 * `uvfs demo` and embedders). options is a libfuse -o string (may be NULL).
 * The caller keeps its references on vfs and ns; stop before putting them. */
struct uvfs_fuse;
UVFS_API int uvfs_fuse_start(struct uvfs *vfs, struct uvfs_mntns *ns, const char *mountpoint, const char *options,
			     const struct uvfs_fuse_config *cfg, struct uvfs_fuse **out);
/* Unmounts, joins the loop and drops every node reference. */
UVFS_API void uvfs_fuse_stop(struct uvfs_fuse *fx);

/* Prints the live-object report of uvfs_destroy's leak counts to stderr
 * ("uvfs: teardown: 0 live objects" or the counts). Returns true if none. */
UVFS_API bool uvfs_report_teardown(int destroy_rc, const struct uvfs_live *live);
