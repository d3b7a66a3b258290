/* boot/boot.h — building a container's tree. Today: the built-in default
 * tree; the OCI config.json boot (registerFilesystems, mountAll) lands here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vfs/uvfs.h"

/* boot/default_tree.c: a fresh instance with tmpfs registered and the sample
 * tree documented in fuse/README.md. */
UVFS_API int uvfs_default_tree(struct uvfs **vfs, struct uvfs_mntns **ns);
/* Same signature as uvfs_fuse_build_fn (arg unused). */
UVFS_API int uvfs_default_tree_build(void *arg, struct uvfs **vfs, struct uvfs_mntns **ns);

/* ------------------------------------------------------------ OCI config.json
 *
 * uvfs_oci_load parses an OCI runtime bundle's config.json (jansson; duplicate
 * keys rejected; unknown keys ignored as the OCI spec requires) into plain C
 * strings and arrays. On error it returns -EINVAL (or the open/read errno, or
 * -ENOMEM) and writes one line to err such as
 *   config.json:14:22: mounts[3].destination: expected a string
 * (file, line and column of the offending value, the field, the problem).
 * Nothing is allocated on error. The spec owns all its memory. */

struct uvfs_oci_mount {
	char *destination; /* as written (non-empty) */
	char *type; /* "" when absent */
	char *source; /* "" when absent */
	char **options;
	size_t noptions;
};

struct uvfs_oci_kv {
	char *key;
	char *value;
};

struct uvfs_oci_spec {
	char *file; /* the name errors use */
	char *oci_version;
	char *root_path;
	bool root_readonly;
	struct uvfs_oci_mount *mounts;
	size_t nmounts;
	char **args; /* process.args, at least one */
	size_t nargs;
	char **env; /* process.env */
	size_t nenv;
	char *cwd; /* process.cwd, absolute */
	uint32_t uid, gid; /* process.user */
	uint32_t *additional_gids;
	size_t nadditional_gids;
	bool terminal;
	char *hostname; /* NULL when absent */
	struct uvfs_oci_kv *annotations; /* in file order */
	size_t nannotations;
	char *cgroups_path; /* linux.cgroupsPath, NULL when absent */
};

UVFS_API int uvfs_oci_load(const char *path, struct uvfs_oci_spec **out, char *err, size_t errlen);
/* Same from memory; name is used in messages. */
UVFS_API int uvfs_oci_parse(const char *buf, size_t len, const char *name, struct uvfs_oci_spec **out, char *err,
			    size_t errlen);
UVFS_API void uvfs_oci_spec_free(struct uvfs_oci_spec *spec);

/* boot/default_spec.c: `uvfs spec`'s config.json, the document `runc spec`
 * writes (rootless: `runc spec --rootless`, mapping container root to
 * uid/gid). *out is malloc'd JSON text ending in a newline. 0 or -ENOMEM. */
UVFS_API int uvfs_oci_default_spec(bool rootless, uint32_t uid, uint32_t gid, char **out);
/* The built-in default with no bundle, `runsc do`'s idea: runc spec's
 * mounts over the host's "/" as a writable root; compile it with
 * UVFS_OCI_OVERLAY so the root is a tmpfs overlay over a read-only gofer
 * of "/" (nothing reaches the host). Errors as uvfs_oci_parse. */
UVFS_API int uvfs_oci_host_spec(struct uvfs_oci_spec **out, char *err, size_t errlen);

/* ------------------------------------------------------------ the mount plan
 *
 * uvfs_oci_compile_mounts runs runsc's compileMounts + prepareMounts +
 * getMountNameAndOptions over a spec without touching a VFS: which filesystem
 * each mount becomes, with which data and flags, in which order, which mounts
 * need a gofer, and which pod hints apply. See boot/README.md for every rule
 * and our deliberate differences from the seed. */
enum {
	UVFS_OCI_CGROUPFS = 1u << 0, /* --cgroupfs: tmpfs /sys/fs/cgroup + cgroup memory, cpu */
	UVFS_OCI_OVERLAY = 1u << 1, /* --overlay: tmpfs upper over the root and writable binds */
	UVFS_OCI_NO_TMP = 1u << 2, /* never mount the internal /tmp tmpfs */
	UVFS_OCI_ROOT_SHARED = 1u << 3, /* --file-access=shared (default exclusive) */
	UVFS_OCI_MOUNTS_EXCLUSIVE = 1u << 4, /* --file-access-mounts=exclusive (default shared) */
};

enum uvfs_file_access { UVFS_ACCESS_EXCLUSIVE, UVFS_ACCESS_SHARED };
enum uvfs_share { UVFS_SHARE_INVALID, UVFS_SHARE_CONTAINER, UVFS_SHARE_POD, UVFS_SHARE_SHARED };

/* The /tmp rule's decision as far as the spec decides it. */
enum uvfs_tmp_rule {
	UVFS_TMP_IF_EMPTY, /* mount tmpfs mode=01777 at /tmp if the image's /tmp is missing or empty */
	UVFS_TMP_SPEC, /* the spec mounts /tmp itself: nothing */
	UVFS_TMP_DISABLED, /* UVFS_OCI_NO_TMP */
};

struct uvfs_plan_mount {
	char *destination; /* cleaned, absolute */
	char *source;
	char *type; /* compiled type: /dev forced devtmpfs, "bind" if options say (r)bind */
	char *fs_name; /* filesystem to mount ("9p" for bind, "sysfs" for none, "verity"); NULL: skipped */
	char *lower_fs_name; /* verity: the wrapped filesystem */
	char *lower_data; /* verity: the wrapped filesystem's data */
	char *data; /* filesystem data; for bind set by uvfs_mount_plan_bind_fds */
	char **options; /* spec options minus verity.* */
	size_t noptions;
	bool readonly, noatime, noexec;
	bool overlay; /* tmpfs upper over this mount */
	bool verity;
	bool verity_action_error; /* verity.action=error (default panic) */
	char *verity_roothash; /* "" when absent (runtime enable allowed) */
	bool added; /* a mandatory mount compileMounts prepended */
	int spec_index; /* index into spec->mounts, -1 when added */
	size_t order; /* position in the compiled (pre-sort) list */
	int gofer; /* index into the gofer fd list (0 is the root), -1 none */
	int fd; /* set by uvfs_mount_plan_bind_fds, else -1 */
	enum uvfs_file_access access; /* bind mounts */
	int hint; /* index into plan->hints matched by source, -1 none */
	bool shared; /* a bind of the hint's pod-shared tmpfs master */
};

struct uvfs_plan_hint {
	char *name, *source, *type;
	enum uvfs_share share;
	char **options; /* sorted */
	size_t noptions;
	char *data; /* master's tmpfs data (type tmpfs only, else NULL) */
	bool readonly, noatime, noexec; /* master's flags */
};

struct uvfs_mount_plan {
	struct {
		char *path;
		bool readonly;
		const char *fs_name; /* "9p", or "overlay" with UVFS_OCI_OVERLAY and a writable root */
		enum uvfs_file_access access;
		int fd; /* -1 until uvfs_mount_plan_bind_fds */
		char *data;
	} root;
	struct uvfs_plan_mount *mounts; /* mount order: stable sort by destination length */
	size_t nmounts;
	struct uvfs_plan_hint *hints; /* in annotation order */
	size_t nhints;
	size_t ngofers; /* gofer fds needed: the root + each bind mount without a shared master */
	enum uvfs_tmp_rule tmp;
	char **warnings;
	size_t nwarnings;
};

/* Errors: -EINVAL with a message in err (bad hint annotations, bad verity or
 * filesystem options, incompatible shared mounts), -ENOMEM. */
UVFS_API int uvfs_oci_compile_mounts(const struct uvfs_oci_spec *spec, unsigned flags, struct uvfs_mount_plan **out,
				     char *err, size_t errlen);
/* Hands out fds in the seed's order (root first, then gofer mounts in spec
 * order) and fills the 9p data strings. More fds than gofer mounts: -EINVAL
 * "not all gofer FDs were consumed, remaining: [...]"; fewer: -EBADF. The plan
 * does not own the fds. On error the plan is unchanged. */
UVFS_API int uvfs_mount_plan_bind_fds(struct uvfs_mount_plan *plan, const int *fds, size_t nfds, char *err,
				      size_t errlen);
/* One line per mount, in mount order, plus the root, hints and /tmp rule. */
UVFS_API int uvfs_mount_plan_print(const struct uvfs_mount_plan *plan, FILE *out);
UVFS_API void uvfs_mount_plan_free(struct uvfs_mount_plan *plan);

/* ------------------------------------------------------------ registerFilesystems
 *
 * boot/register.c: the seed's type table (spec §1.1: 9p and devpts not
 * user-mountable, every type listed), the devices of devices/ and devpts
 * (with the booted trees' job control: boot/jobctl.c, uvfs_boot_ctx).
 * UVFS_BOOT_FUSE / UVFS_BOOT_TUN add /dev/fuse and /dev/net/tun. The
 * devtmpfs contents (UserspaceInit + device files) are made by
 * uvfs_boot_mount_all: our devtmpfs lives only while a mount or accessor
 * holds it, so the accessor belongs to the booted sandbox. Errors: -errno
 * and a log line naming the type or step; what was registered stays (the
 * caller destroys the instance). */
enum {
	UVFS_BOOT_FUSE = 1u << 0,
	UVFS_BOOT_TUN = 1u << 1,
};
UVFS_API int uvfs_boot_register_filesystems(struct uvfs *vfs, unsigned flags);

/* ------------------------------------------------------------ mountAll
 *
 * boot/mount_all.c: executes a compiled plan (uvfs_oci_compile_mounts, fds
 * not yet bound) in vfs, registered by uvfs_boot_register_filesystems:
 * starts one diod per gofer (the root, then binds in spec order), mounts the
 * root (9p; overlay of a tmpfs upper over a read-only 9p with
 * UVFS_OCI_OVERLAY), fills devtmpfs, then each planned mount in sorted
 * order on a mount point made with synthetic directories where the lower
 * refuses mkdir; read-only mounts are set read-only only at the end, in
 * LIFO order. Bind mounts of regular files, pod-shared tmpfs masters
 * (opts->pod) and verity mounts are handled (boot/README.md). Registers the
 * container's init task (pid 1: args, env, cwd, user) in a new task table
 * that the proc mounts show, and resolves its executable
 * (uvfs_boot_executable). All set-up runs
 * with root credentials. On error: -errno, a message naming the step in
 * opts->err, nothing mounted and every diod reaped. */
/* boot/pod.c: a pod — what the containers booted in one instance share:
 * the pod-shared tmpfs masters of the mount hints (type tmpfs, share pod).
 * The first container naming a hint's source mounts its master; every
 * container mount matched by it binds the same filesystem. Destroy it
 * after (or before) the boots that used it, before uvfs_destroy. Boots may
 * share a pod from several threads. */
struct uvfs_pod;
UVFS_API int uvfs_pod_new(struct uvfs *vfs, struct uvfs_pod **out);
UVFS_API void uvfs_pod_destroy(struct uvfs_pod *pod);
UVFS_API size_t uvfs_pod_nmasters(struct uvfs_pod *pod); /* masters mounted so far */

/* Job control of a booted tree's ptys (boot/jobctl.c). The embedder runs
 * the processes; uvfs_boot_register_filesystems gives devpts a task model
 * that answers from the boot of the calling task (a uvfs_ctx filled by
 * uvfs_boot_ctx) and sends ISIG characters' and SIGWINCH's signals through
 * kill_pgrp, called on the thread of the uvfs call, no uvfs lock held. */
struct uvfs_boot_jobctl {
	void *arg;
	void (*kill_pgrp)(void *arg, int32_t pgid, int sig); /* NULL: no signals */
};

struct uvfs_gofer_proc; /* fsimpl/gofer/gofer.h */

/* Restore (configureRestore): a gofer connection handed to a restored
 * sandbox, matched to its mount by destination ("/" is the root). */
struct uvfs_boot_gofer_fd {
	const char *destination;
	int fd; /* the client end; the boot owns it from the call on */
	struct uvfs_gofer_proc *proc; /* its diod (reaped with the mount) or NULL; owned likewise */
	/* The directory the new gofer exports (its attach name; a file bind's
	 * directory), when not the map's host_dir: a restore may run on
	 * another host. NULL: the map's. */
	const char *host_dir;
};

struct uvfs_boot_opts {
	const struct uvfs_oci_spec *spec; /* the process of the init task; required */
	const char *bundle_dir; /* relative root.path and bind sources resolve here; NULL: "." */
	unsigned register_flags; /* the UVFS_BOOT_* given to uvfs_boot_register_filesystems */
	char *err; /* message buffer (may be NULL) */
	size_t errlen;
	struct uvfs_pod *pod; /* the container's pod; NULL: a pod of its own (destroyed with the boot) */
	const struct uvfs_boot_jobctl *jobctl; /* borrowed until uvfs_boot_destroy; NULL: no signals */
	/* Restore: the gofer fds by destination, instead of starting diods. Each
	 * gofer mount of the plan needs one (else -EBADF "restore: no gofer fd
	 * for /x"); one the plan has no gofer mount for is -EINVAL "restore: no
	 * gofer mount at /y". Every fd and proc is the boot's, even on error. */
	const struct uvfs_boot_gofer_fd *restore;
	size_t nrestore;
};

struct uvfs_boot; /* the booted sandbox tree */
struct uvfs_tasks;

UVFS_API int uvfs_boot_mount_all(struct uvfs *vfs, struct uvfs_mount_plan *plan, const struct uvfs_boot_opts *opts,
				 struct uvfs_boot **out);
/* Borrowed views, valid until uvfs_boot_destroy. */
UVFS_API struct uvfs_mntns *uvfs_boot_mntns(struct uvfs_boot *b);
UVFS_API struct uvfs_tasks *uvfs_boot_tasks(struct uvfs_boot *b);
/* The init's executable as ResolveExecutablePath found it in the booted
 * tree (borrowed), or NULL with *rc = -errno and *msg the seed's message
 * (`error finding executable "sh" in PATH [/usr/bin /bin]: no such file or
 * directory`). A boot does not fail on it: runsc would fail starting the
 * process, which uvfs does not start. rc and msg may be NULL. */
UVFS_API const char *uvfs_boot_executable(struct uvfs_boot *b, int *rc, const char **msg);

/* ------------------------------------------------------------ ResolveExecutablePath
 *
 * boot/resolve_exec.c: gVisor's user.ResolveExecutablePath (spec §4.9).
 * name = filename, or argv[0] when filename is NULL or empty (no argv:
 * -EINVAL "no filename or command provided"). Absolute: returned as is.
 * Containing '/' (not first): path.Join(cwd or "/", name) (a relative cwd:
 * -EINVAL "working directory \"x\" must be absolute"). Otherwise each
 * absolute entry of env's first PATH= (else /usr/local/sbin:/usr/local/bin:
 * /usr/sbin:/usr/bin:/sbin:/bin) is tried in the tree under root, opened
 * O_RDONLY for execution following symlinks with cred: -ENOENT and -EACCES
 * go on, another error stops; none found is -ENOENT. Errors name the name,
 * the PATH list and the errno as the seed words them. *out is malloc'd. */
struct uvfs_exec_args {
	const char *filename; /* NULL or "": argv[0] */
	char *const *argv;
	size_t argc;
	const char *cwd; /* NULL or "": "/" */
	char *const *env;
	size_t nenv;
};
UVFS_API int uvfs_resolve_executable_path(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *root,
					  const struct uvfs_exec_args *a, char **out, char *err, size_t errlen);
/* configureRestore's map: (destination, gofer fd index) of every gofer
 * mount, the root ("/", 0) first, then in gofer order (bind mounts in spec
 * order), with the host directory each gofer serves (a file bind's
 * directory) and whether it is served read-only: what a restorer needs to
 * start fresh gofers for uvfs_boot_opts.restore. *out is borrowed until
 * uvfs_boot_destroy; returns the count. */
struct uvfs_boot_restore_entry {
	const char *destination;
	int gofer;
	const char *host_dir;
	bool readonly;
};
UVFS_API size_t uvfs_boot_restore_map(struct uvfs_boot *b, const struct uvfs_boot_restore_entry **out);

/* boot/jobctl.c: the processes of the booted tree as job control sees
 * them. The init is pid 1, group 1, session 1. Adds pid or changes its
 * group and session: -EINVAL for ids < 1, -ESRCH when pgid != pid names no
 * group of session sid (Linux setpgid: a group joined must exist in the
 * caller's session), -EPERM when pid == sid names an existing group of
 * another session, -ENOMEM. uvfs_boot_exit_process forgets pid (-ESRCH if
 * unknown). */
UVFS_API int uvfs_boot_set_process(struct uvfs_boot *b, int32_t pid, int32_t pgid, int32_t sid);
UVFS_API int uvfs_boot_exit_process(struct uvfs_boot *b, int32_t pid);
/* Thread tid of process pid (a task of its thread group): calls made as
 * tid (uvfs_boot_ctx(b, tid, ...)) act for pid — its group, session and
 * terminal; signals to a group still go once per group. -EINVAL for ids
 * < 1, -ESRCH when pid is no process, -EEXIST when tid is a process or a
 * thread already, -ENOMEM. uvfs_boot_exit_thread forgets tid (-ESRCH if
 * unknown); a process's exit takes its threads. */
UVFS_API int uvfs_boot_set_thread(struct uvfs_boot *b, int32_t tid, int32_t pid);
UVFS_API int uvfs_boot_exit_thread(struct uvfs_boot *b, int32_t tid);
/* Fills c for calls made as process pid of the booted tree (cred NULL,
 * task = the boot, tid = pid): enter it with uvfs_ctx_enter around the
 * calls whose terminal job control acts for that process. */
UVFS_API void uvfs_boot_ctx(struct uvfs_boot *b, int32_t pid, struct uvfs_ctx *c);

/* Drops the task table, the namespace (every mount) and the devtmpfs
 * accessor; the gofer mounts reap their diod as their filesystems go.
 * Then uvfs_destroy(vfs) reports zero live objects. NULL is a no-op. */
UVFS_API void uvfs_boot_destroy(struct uvfs_boot *b);
