/* cli/cmd_mount.c — `uvfs mount [options] MOUNTPOINT`: the default tree
 * through FUSE, or `uvfs mount -t TYPE [-o OPTIONS] SOURCE MOUNTPOINT`: one
 * filesystem of TYPE (cli/mount_spec.h), e.g. `-t 9p HOSTDIR`. See
 * fuse/fuse_export.h for the other options and the exit codes. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/mount_spec.h"
#include "boot/boot.h"
#include "fuse/fuse_export.h"

/* Runs after libfuse daemonized: the gofer diod is a child of the server. */
static int build_spec(void *arg, struct uvfs **vfs, struct uvfs_mntns **ns)
{
	return cli_build_tree(arg, vfs, ns);
}

int cmd_mount(int argc, char **argv)
{
	struct cli_mount_spec spec;
	if (cli_take_mount_args(&argc, argv, &spec))
		return 2;
	/* libfuse derives the subtype (fuse.<name> in /proc/mounts) from argv[0]. */
	argv[0] = "uvfs";
	if (!spec.type)
		return uvfs_fuse_main(argc, argv, uvfs_default_tree_build, NULL);
	/* The tree is built after libfuse daemonized into "/". */
	char *abs = NULL;
	if (!strcmp(spec.type, "overlay") && !(spec.opts = abs = cli_overlay_abs_opts(spec.opts)))
		return 1;
	int rc = uvfs_fuse_main(argc, argv, build_spec, &spec);
	free(abs);
	return rc;
}
