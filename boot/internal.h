/* boot/internal.h — declarations shared by the files of boot/ (not installed).
 * Nothing here is shared between threads: a spec or plan belongs to the one
 * thread that builds it. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "boot/boot.h"
#include "vfs/uvfs_fs.h" /* uvfs_log */

#ifndef HIDDEN
#define HIDDEN __attribute__((visibility("hidden")))
#endif

/* snprintf into err (if any); returns rc so callers can `return berr(...)`. */
HIDDEN int berr(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A NULL-terminated-free string vector helper: frees n strings and the array. */
HIDDEN void strv_free(char **v, size_t n);
/* Deep copy; *out NULL when n == 0. */
HIDDEN int strv_dup(char *const *v, size_t n, char ***out);

/* path.Clean of "/" + p when p is relative (OCI: relative destinations are
 * relative to "/"). Returns a malloc'd string or NULL. */
HIDDEN char *clean_abs_path(const char *p);

/* ---- fd_dispenser.c: runsc's fdDispenser over a borrowed array. */
struct fd_dispenser {
	const int *fds;
	size_t n, next;
};
/* Pops the first fd. -EBADF when empty (the seed panics). */
HIDDEN int fdd_remove(struct fd_dispenser *d, int *fd);
HIDDEN bool fdd_empty(const struct fd_dispenser *d);
/* -EINVAL "not all gofer FDs were consumed, remaining: [a b]" if any is left. */
HIDDEN int fdd_check(const struct fd_dispenser *d, char *err, size_t errlen);

/* ---- hints.c: pod mount hints from annotations. */
HIDDEN int hints_parse(const struct uvfs_oci_spec *spec, struct uvfs_plan_hint **out, size_t *n, char *err,
		       size_t errlen);
HIDDEN void hints_free(struct uvfs_plan_hint *h, size_t n);
/* First hint whose source equals source, or -1. */
HIDDEN int hints_find(const struct uvfs_plan_hint *h, size_t n, const char *source);
/* tmpfs hint shared by the pod: mounted once, bound into each container. */
HIDDEN bool hint_is_supported(const struct uvfs_plan_hint *h);
/* checkCompatible; bind_typed selects our fix (flags only, design.md §6). */
HIDDEN int hint_check_compatible(const struct uvfs_plan_hint *h, const char *type, char *const *opts, size_t nopts,
				 bool bind_typed, char *err, size_t errlen);
/* specutils.ValidateMountOptions (+ mode=/uid=/gid=, design.md §6). */
HIDDEN int validate_mount_options(char *const *opts, size_t n, char *err, size_t errlen);

/* ---- compile_mounts.c helpers used by hints.c */
/* parseAndFilterOptions: keep (in order) options whose key is allowed;
 * "invalid option" for more than one '='. Result joined with ','. */
HIDDEN int filter_options(char *const *opts, size_t n, const char *const *allowed, char **data, char *err,
			  size_t errlen);
HIDDEN extern const char *const tmpfs_allowed_data[];
/* isSupportedMountFlag */
HIDDEN bool is_supported_mount_flag(const char *fstype, const char *opt);
/* mountFlags: rw/ro/noatime/noexec (bind/rbind ignored). */
HIDDEN void mount_flags(char *const *opts, size_t n, bool *ro, bool *noatime, bool *noexec);

/* ---- register.c: the devices' options for UVFS_BOOT_* flags (static, so
 * uvfs_devices_register may borrow them for the instance's life). */
struct uvfs_devices_opts;
HIDDEN const struct uvfs_devices_opts *boot_devices_opts(unsigned flags);

/* ---- pod.c: the pod's shared master for hint h (by source), mounted on
 * first use: a tmpfs, or for a bind hint a 9p mount over a gofer the pod
 * starts (its source relative to bundle_dir, NULL: the current
 * directory); *out is a new reference. */
struct uvfs_cred;
HIDDEN int pod_master(struct uvfs_pod *p, const struct uvfs_cred *cred, const struct uvfs_plan_hint *h,
		      const char *bundle_dir, struct uvfs_mount **out);

/* ---- jobctl.c: the booted tree's process groups for devpts job control. */
struct boot_jobctl;
/* A table holding the init (1, 1, 1), registered so the devpts task model
 * finds b from a ctx's task. */
HIDDEN int boot_jobctl_new(struct uvfs_boot *b, const struct uvfs_boot_jobctl *opts, struct boot_jobctl **out);
HIDDEN void boot_jobctl_free(struct boot_jobctl *j);
HIDDEN struct boot_jobctl *boot_jobctl_of(struct uvfs_boot *b);
struct uvfs_devpts_opts;
/* The devpts task model of booted trees (uvfs_boot_register_filesystems). */
HIDDEN extern const struct uvfs_devpts_opts boot_devpts_opts;
