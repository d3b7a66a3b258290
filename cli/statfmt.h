/* cli/statfmt.h — one way to show a file's attributes, shared by `uvfs
 * stat`, `uvfs 9p stat` and `uvfs ls -l` (text like stat(1) and ls -l, with
 * local-time dates), and their --json objects (jansson). */
#pragma once

#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>

#include "vfs/uvfs.h"

/* "drwxr-xr-x" (with s/S/t/T). */
void cli_mode_string(mode_t m, char out[11]);
/* "regular file", "directory", ... as stat(1) says. */
const char *cli_type_name(mode_t m);
/* stat(1)-like block. target: a symlink's target or NULL; extra: one more
 * line (without newline) or NULL. */
void cli_print_stat(FILE *f, const char *name, const struct statx *x, const char *target, const char *extra);
/* One ls -l line (name escaped; " -> target" for symlinks). */
void cli_print_long(FILE *f, const char *name, const struct statx *x, const char *target);
/* {"name", "type", "mode", "perms", "nlink", "uid", "gid", "size", "blocks",
 * "ino", "dev", "rdev" (devices), "atime", "mtime", "ctime" (RFC 3339 with
 * nanoseconds), "target" (symlinks)}; NULL on ENOMEM. */
json_t *cli_stat_json(const char *name, const struct statx *x, const char *target);
/* Prints j (indented) and a newline, then frees it. 0 or -1. */
int cli_json_print(json_t *j);
