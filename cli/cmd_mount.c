/* cli/cmd_mount.c — `uvfs mount [options] MOUNTPOINT`: the default tree
 * through FUSE (see fuse/fuse_export.h for options and exit codes). */
#include "cli/cli.h"
#include "boot/boot.h"
#include "fuse/fuse_export.h"

int cmd_mount(int argc, char **argv)
{
	/* libfuse derives the subtype (fuse.<name> in /proc/mounts) from argv[0]. */
	argv[0] = "uvfs";
	return uvfs_fuse_main(argc, argv, uvfs_default_tree_build, NULL);
}
