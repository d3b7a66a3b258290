/* cli/bundle.h — `--bundle DIR` for the commands that show a tree
 * (`uvfs boot`, `uvfs mount`, `uvfs ls|stat|cat|tree`): an OCI bundle booted
 * in process (registerFilesystems, compileMounts, mountAll). Implemented
 * in cli/cmd_boot.c. A booted bundle needs more than uvfs_mntns_put before
 * uvfs_destroy (its task table, devtmpfs accessor, pod): cli_bundle_release. */
#pragma once

#include "boot/boot.h"

struct cli_bundle {
	const char *dir; /* NULL: no --bundle */
	bool host; /* --host: uvfs_oci_host_spec, the host's / under a tmpfs overlay */
	unsigned flags; /* UVFS_OCI_* from --overlay, --cgroupfs, --file-access*, --no-tmp */
	struct uvfs_oci_spec *spec;
	struct uvfs_mount_plan *plan;
	struct uvfs_boot *boot;
};

/* Takes --bundle DIR (or --bundle=DIR) or --host, --overlay, --cgroupfs,
 * --file-access=exclusive|shared, --file-access-mounts=shared|exclusive
 * out of argv (argv[0] stays; other arguments keep their order). Returns
 * 1 when --bundle was given, 0 when not (argv unchanged), -1 after a usage
 * message. --host counts as --bundle. */
int cli_bundle_take_args(int *argc, char **argv, struct cli_bundle *b);
/* Boots b in a new instance; *ns is a new reference. 0, or -errno after a
 * one-line message on stderr naming the step (nothing is left behind). */
int cli_bundle_boot(struct cli_bundle *b, struct uvfs **vfs, struct uvfs_mntns **ns);
/* Drops the booted sandbox (after the caller's own ns reference, before
 * uvfs_destroy). A bundle never booted is a no-op. */
void cli_bundle_release(struct cli_bundle *b);
/* `uvfs mount --bundle DIR [--overlay ...] [-o FUSEOPTS] MOUNTPOINT`: boots
 * b, exports it through FUSE in the foreground until unmounted
 * (fusermount3 -u) or SIGINT/SIGTERM/SIGHUP, then tears down with the
 * live-object report. Exit status as uvfs_fuse_main's. */
int cli_bundle_mount(struct cli_bundle *b, int argc, char **argv);
