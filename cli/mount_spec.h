/* cli/mount_spec.h — `-t TYPE [-o OPTIONS] SOURCE`, the mount(8)-shaped
 * arguments of `uvfs mount` and the in-process browsing commands: one
 * filesystem of TYPE mounted at the root of a fresh namespace.
 *
 * Types come from a table (cli/mount_spec.c): tmpfs and 9p today; a new
 * filesystem adds a row. For 9p, no trans= (or trans=diod) with SOURCE a
 * host directory starts a diod serving it (uvfs_gofer_spawn); trans=fd,
 * trans=unix,addr=PATH and trans=tcp,addr=HOST:PORT pass through with
 * SOURCE as the aname. `ro` becomes a read-only mount (and export). */
#pragma once

#include <stdbool.h>

#include "vfs/uvfs.h"

struct cli_mount_spec {
	const char *type; /* NULL: no -t given (the default tree) */
	const char *opts; /* -o, may be NULL */
	const char *source;
};

/* Takes -t TYPE, -o OPTS and (when -t was given) the first positional
 * argument, SOURCE, out of argv (argv[0] stays), shifting the rest down.
 * Other arguments keep their order. 0, or -1 after printing a usage error. */
int cli_take_mount_args(int *argc, char **argv, struct cli_mount_spec *spec);
/* -t verity -o ...,lower=HOSTDIR: the options name the lower, so there is
 * no positional SOURCE (issue 14's `lower=` for the command line). */
bool cli_source_in_opts(const char *type, const char *opts);
/* Builds the instance and namespace for spec (the default tree if
 * spec->type is NULL). 0 or -errno (after a message on stderr). */
int cli_build_tree(const struct cli_mount_spec *spec, struct uvfs **vfs, struct uvfs_mntns **ns);
/* -o with the host paths made absolute (realpath): overlay's lowerdir,
 * upperdir, workdir and verity's lower and tree_dir, for a server that
 * changes directory before mounting; malloc'd, NULL on ENOMEM. */
char *cli_abs_path_opts(const char *opts);
