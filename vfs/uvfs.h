/* uvfs.h — public API of the uvfs userspace VFS engine.
 *
 * Conventions (see README.md):
 *  - int returns are 0 or -errno; ssize_t returns are a count or -errno.
 *    Objects come back through out-parameters.
 *  - Reference counted objects: uvfs_X_get / uvfs_X_put. A struct uvfs_vd
 *    {mount, dentry} holds one reference on each; uvfs_vd_put drops the
 *    dentry first, then the mount.
 *  - Path operations take a struct uvfs_pathop whose root/start references
 *    are borrowed for the duration of the call.
 *  - Any thread may call any function; threads are registered with liburcu
 *    lazily on first entry and unregistered at thread exit.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/stat.h> /* struct statx, STATX_* */
#include <pthread.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/uio.h> /* struct iovec */
#include <time.h>

#include "uvfs_version.h" /* UVFS_VERSION_*, uvfs_version() */

#ifdef __cplusplus
extern "C" {
#endif

#ifndef UVFS_API
#define UVFS_API __attribute__((visibility("default")))
#endif

struct uvfs;
struct uvfs_mount;
struct uvfs_mntns;
struct uvfs_dentry;
struct uvfs_file;
struct uvfs_filesystem;
struct uvfs_fs_type;

/* ------------------------------------------------------------------ creds */

#define UVFS_CAP(c) (1ULL << (c)) /* c is a Linux CAP_* number */
#define UVFS_CAPS_ALL (~0ULL)

/* Credentials of a caller. Permission checks use fsuid/fsgid, groups and caps
 * (the effective capability set, Linux numbering). Value type: copy it freely.
 *
 * The supplementary group list has no bound (Linux allows 65,536) and is
 * borrowed, not owned: `groups` points at the caller's array, which must stay
 * valid and unchanged while any call that was given the cred runs. uvfs never
 * keeps a cred (or its group pointer) after the call returns, and never frees
 * or writes the array. The list must be sorted ascending, as the kernel keeps
 * it: uvfs_cred_set_groups sorts it for you; uvfs_cred_in_group searches it
 * by bisection. ngroups = 0 (groups may then be NULL) is no groups.
 *
 * A caller for whom the list is costly to learn (the FUSE export reads it
 * from /proc) may set groups_src instead: its load runs at most once per
 * source, on the first membership test that the fsgid does not answer —
 * possibly inside a lockless path walk, so it must not call back into uvfs.
 * groups_src is borrowed too, and used by one thread at a time. */
struct uvfs_groups_src {
	/* Sets *groups (sorted ascending, borrowed like uvfs_cred.groups) and
	 * *n, or returns nonzero: the caller then has no supplementary groups. */
	int (*load)(struct uvfs_groups_src *src, const uint32_t **groups, uint32_t *n);
	bool loaded; /* set by uvfs after the first load */
	uint32_t n;
	const uint32_t *groups;
};

struct uvfs_cred {
	uint32_t uid, gid, euid, egid, fsuid, fsgid;
	uint32_t ngroups;
	const uint32_t *groups; /* borrowed, sorted ascending, ngroups entries */
	uint64_t caps;
	struct uvfs_groups_src *groups_src; /* optional; when set, replaces ngroups/groups */
};

/* Root with every capability. */
UVFS_API void uvfs_cred_init_root(struct uvfs_cred *c);
/* An unprivileged user: all ids = uid/gid, no supplementary groups, no caps. */
UVFS_API void uvfs_cred_init_user(struct uvfs_cred *c, uint32_t uid, uint32_t gid);
UVFS_API bool uvfs_cred_has_cap(const struct uvfs_cred *c, int cap);
/* Is gid the fsgid or a supplementary group? O(log ngroups). */
UVFS_API bool uvfs_cred_in_group(const struct uvfs_cred *c, uint32_t gid);
/* Sorts groups[0..n) in place and makes it c's supplementary group list
 * (borrowed: see struct uvfs_cred). */
UVFS_API void uvfs_cred_set_groups(struct uvfs_cred *c, uint32_t *groups, uint32_t n);

/* --------------------------------------------------------- caller context */

/* Who is calling (gVisor's context.Context, reduced): a filesystem op
 * reads it with uvfs_current_ctx() — /proc/self needs the task, a remote
 * filesystem the interrupt check. It is per thread: the embedder sets it
 * around its calls with uvfs_ctx_enter/uvfs_ctx_leave, and every path and
 * file call made in between runs "as" that context. Per thread rather than
 * a parameter so that the existing uvfs_*_at(vfs, cred, ...) calls keep
 * working unchanged, and so that the lockless lookup pays nothing: the VFS
 * itself never reads the context, only the filesystem ops that want it.
 * The struct is borrowed: it must stay valid and unchanged until the
 * matching leave. */
struct uvfs_ctx {
	const struct uvfs_cred *cred; /* the task's credentials (may be NULL); the VFS checks the call's cred */
	void *task; /* opaque to uvfs: the embedder's task or thread (NULL: none) */
	/* The task's thread id in its pid namespace, as registered in a task
	 * table (fsimpl/kernfs/task.h): /proc/self and /proc/thread-self name
	 * it. 0: no task (a host process over FUSE): they name the table's
	 * init task. */
	int32_t tid;
	/* Nonzero when the task has a signal to handle (gVisor's
	 * Interrupted()); a filesystem that blocks (a remote call) polls it
	 * through uvfs_ctx_interrupted and returns -EINTR. NULL: never. */
	int (*interrupted)(void *task);
	/* The task's interrupt state for immediate wake-ups (NULL: none):
	 * see uvfs_ctx_interrupt. Not owned; it must outlive every context
	 * naming it. */
	struct uvfs_intr *intr;
};
/* Interrupt state of one task, owned by the embedder (uvfs_intr_init
 * before use; no destroy needed). Unlike the interrupted() callback,
 * which a sleeper can only poll (every 5 ms: devices/wait.h), this lets
 * the embedder wake a task blocked inside uvfs at once. */
struct uvfs_intr {
	pthread_mutex_t lock; /* guards waiter and pins; a leaf except for a waiter's mutex (vfs/ctx.c) */
	int pending; /* atomic (__atomic builtins): set by uvfs_ctx_interrupt, cleared by uvfs_ctx_interrupt_clear */
	unsigned pins; /* under lock: interrupters still using waiter's mutex and condvar */
	void *waiter; /* under lock: the task's registered sleep (struct uvfs_intr_waiter), or NULL */
};
UVFS_API void uvfs_intr_init(struct uvfs_intr *in);
/* From any thread: marks ctx's task interrupted (uvfs_ctx_interrupted is
 * then -EINTR on its thread until cleared) and wakes the task's sleeper, if
 * it is blocked in uvfs, at once (it returns -EINTR). -EINVAL if ctx has no
 * intr. */
UVFS_API int uvfs_ctx_interrupt(const struct uvfs_ctx *ctx);
/* The interrupt was handled (the signal delivered): clears the mark. */
UVFS_API void uvfs_ctx_interrupt_clear(const struct uvfs_ctx *ctx);
/* Makes ctx the calling thread's current context; returns the previous
 * one (NULL if none) for the matching uvfs_ctx_leave. Nests. */
UVFS_API const struct uvfs_ctx *uvfs_ctx_enter(const struct uvfs_ctx *ctx);
UVFS_API void uvfs_ctx_leave(const struct uvfs_ctx *prev);
/* The calling thread's context; never NULL (an empty one, task NULL, when
 * none was entered). */
UVFS_API const struct uvfs_ctx *uvfs_current_ctx(void);
/* -EINTR if the current context is interrupted (its intr is marked, or
 * its interrupted() says so), else 0. */
UVFS_API int uvfs_ctx_interrupted(void);

/* --------------------------------------------------------------- instance */

/* Live object counts; uvfs_destroy reports them after teardown. */
struct uvfs_live {
	long dentries, inodes, mounts, mntns, files, filesystems;
};

UVFS_API int uvfs_create(struct uvfs **out);
/* Tears the instance down. Every mount namespace, file and vd the caller took
 * must have been put. Fills *leaks (may be NULL) with what is still alive after
 * teardown and returns -EBUSY if anything is, 0 otherwise. */
UVFS_API int uvfs_destroy(struct uvfs *vfs, struct uvfs_live *leaks);
UVFS_API void uvfs_live_counts(struct uvfs *vfs, struct uvfs_live *out);

/* Optional explicit thread registration (registration is otherwise lazy). */
UVFS_API void uvfs_thread_enter(void);
UVFS_API void uvfs_thread_leave(void);

/* ----------------------------------------------------- filesystem types */

/* Registration flags (gVisor RegisterFilesystemTypeOptions). */
#define UVFS_FS_USER_MOUNT 0x1 /* mountable without internal_mount */
#define UVFS_FS_USER_LIST 0x2 /* listed by uvfs_list_fs_types (/proc/filesystems) */
#define UVFS_FS_REQUIRES_DEV 0x4 /* listed without "nodev" */

UVFS_API int uvfs_register_fs_type(struct uvfs *vfs, const struct uvfs_fs_type *type, unsigned flags);
/* Writes /proc/filesystems-format text ("nodev\tname\n"), sorted by name.
 * Returns the length it needs (it writes at most len bytes, NUL-terminated). */
UVFS_API ssize_t uvfs_list_fs_types(struct uvfs *vfs, char *buf, size_t len);

/* Built-in filesystem types. */
UVFS_API extern const struct uvfs_fs_type uvfs_tmpfs_type;

/* -------------------------------------------------------------- devices */

#define UVFS_DEV_CHAR 1
#define UVFS_DEV_BLOCK 2
struct uvfs_file_ops;
/* Registers the file operations served when a device node of kind
 * (UVFS_DEV_CHAR/BLOCK), major and a minor in [base_minor, base_minor +
 * count) is opened on any filesystem (Linux register_chrdev_region +
 * cdev_add). The open file gets f_op = fops and f_private = priv; fops->open
 * can tell the minors apart by f->f_inode->i_rdev. -EBUSY if the range
 * overlaps a registered one; -EINVAL for count 0, major >= 4096 or a range
 * past minor 2^20 - 1. Opening a node in no registered range gives -ENXIO.
 * Lookups at open are lockless (RCU, binary search). */
UVFS_API int uvfs_register_chrdev_region(struct uvfs *vfs, int kind, uint32_t major, uint32_t base_minor,
					 uint32_t count, const struct uvfs_file_ops *fops, void *priv,
					 const char *group);
/* Removes exactly the range registered with these numbers (-ENOENT if no
 * such registration). As Linux's cdev_del: files already open keep their
 * fops and priv and keep working; only new opens get -ENXIO. The caller must
 * keep fops and priv valid until those files are released (its ->release
 * sees each one go). */
UVFS_API int uvfs_unregister_device_region(struct uvfs *vfs, int kind, uint32_t major, uint32_t base_minor,
					   uint32_t count);
/* The count = 1 case of uvfs_register_chrdev_region, except that a taken
 * number gives -EEXIST (its original contract). */
UVFS_API int uvfs_register_device(struct uvfs *vfs, int kind, uint32_t major, uint32_t minor,
				  const struct uvfs_file_ops *fops, void *priv, const char *group);
UVFS_API int uvfs_get_anon_minor(struct uvfs *vfs, uint32_t *minor);
UVFS_API void uvfs_put_anon_minor(struct uvfs *vfs, uint32_t minor);

/* ----------------------------------------------------------------- paths */

struct uvfs_vd {
	struct uvfs_mount *mount;
	struct uvfs_dentry *dentry;
};

UVFS_API void uvfs_vd_get(const struct uvfs_vd *vd);
UVFS_API void uvfs_vd_put(struct uvfs_vd *vd); /* dentry first, then mount; clears *vd */
static inline bool uvfs_vd_ok(const struct uvfs_vd *vd) { return vd->mount != NULL; }

/* Path operation flags. */
#define UVFS_PATH_FOLLOW 0x1 /* follow a final symlink */
#define UVFS_PATH_EMPTY 0x2 /* "" names the start itself (AT_EMPTY_PATH) */
/* openat2(2) resolve flags (Linux RESOLVE_* << 8), same semantics and
 * errnos, for every path call:
 *  NO_XDEV: crossing a mount, up or down, or an absolute symlink from
 *    another mount than root's, is -EXDEV (an absolute path is allowed).
 *  NO_MAGICLINKS: -ELOOP on following a jump link (a link whose inode
 *    has ->get_link: /proc/self/fd/N style); one not followed (final,
 *    no UVFS_PATH_FOLLOW) is returned as itself.
 *  NO_SYMLINKS: following any symlink is -ELOOP (a final one that is not
 *    followed is returned as itself).
 *  BENEATH: the walk must stay below start: an absolute path or symlink,
 *    or ".." at start, is -EXDEV; a rename or mount during the walk makes
 *    ".." -EAGAIN (it may have jumped out).
 *  IN_ROOT: start acts as the root for "/", absolute symlinks and "..";
 *    -EAGAIN on a racing rename or mount as for BENEATH.
 *  CACHED: only the lockless walk: -EAGAIN if the lookup would need the
 *    locked walk, and for creation, removal, rename, O_CREAT and O_TRUNC.
 * BENEATH with IN_ROOT, or a reserved bit of 0xff00, is -EINVAL; both need
 * start even for an absolute path. */
#define UVFS_RESOLVE_NO_XDEV 0x100
#define UVFS_RESOLVE_NO_MAGICLINKS 0x200
#define UVFS_RESOLVE_NO_SYMLINKS 0x400
#define UVFS_RESOLVE_BENEATH 0x800
#define UVFS_RESOLVE_IN_ROOT 0x1000
#define UVFS_RESOLVE_CACHED 0x2000

/* Longest path a call accepts, counting the terminating NUL (Linux
 * PATH_MAX): a longer path is -ENAMETOOLONG before anything is looked up.
 * Each component is at most 255 bytes (NAME_MAX), and one call follows at
 * most 40 symlinks in all (an O_CREAT open through links included). */
#define UVFS_PATH_MAX 4096

/* A path relative to start (absolute paths start at root). References on
 * root and start are borrowed. An empty path is -ENOENT unless
 * UVFS_PATH_EMPTY is set. */
struct uvfs_pathop {
	struct uvfs_vd root;
	struct uvfs_vd start;
	const char *path;
	unsigned flags;
};

/* ---------------------------------------------------------------- mounts */

#define UVFS_MNT_RDONLY 0x01
#define UVFS_MNT_NOEXEC 0x02
#define UVFS_MNT_NOATIME 0x04
#define UVFS_MNT_NODEV 0x08
#define UVFS_MNT_NOSUID 0x10

struct uvfs_mount_opts {
	unsigned flags; /* UVFS_MNT_* */
	const char *data; /* filesystem option string, "k=v,k2" */
	const void *internal; /* filesystem-specific typed data (internal mounts only) */
	bool internal_mount; /* bypasses UVFS_FS_USER_MOUNT */
};

/* New mount namespace whose root is a fresh fstype filesystem. */
UVFS_API int uvfs_mntns_new(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
			    const char *fstype, const struct uvfs_mount_opts *opts, struct uvfs_mntns **out);
UVFS_API void uvfs_mntns_get(struct uvfs_mntns *ns);
UVFS_API void uvfs_mntns_put(struct uvfs_mntns *ns);
/* Root of the namespace, with references (put with uvfs_vd_put). */
UVFS_API void uvfs_mntns_root(struct uvfs_mntns *ns, struct uvfs_vd *out);

UVFS_API int uvfs_mount_disconnected(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
				     const char *fstype, const struct uvfs_mount_opts *opts,
				     struct uvfs_mount **out);
/* A new disconnected mount of fs rooted at root (takes its own references). */
UVFS_API int uvfs_new_disconnected_mount(struct uvfs *vfs, struct uvfs_filesystem *fs, struct uvfs_dentry *root,
					 const struct uvfs_mount_opts *opts, struct uvfs_mount **out);
/* Connects a disconnected mount on top of whatever is mounted at target.
 * The caller keeps its reference on mnt. */
UVFS_API int uvfs_connect_mount_at(struct uvfs *vfs, const struct uvfs_cred *cred, struct uvfs_mount *mnt,
				   const struct uvfs_pathop *target);
UVFS_API int uvfs_mount_at(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
			   const struct uvfs_pathop *target, const char *fstype, const struct uvfs_mount_opts *opts);
/* Unmount the mount whose root target names. -EINVAL if target is not a
 * mount root or is the namespace root; -EBUSY if it has submounts or other
 * references (open files, vds) unless UVFS_UMOUNT_DETACH, which detaches
 * the whole subtree and lets users finish; -EPERM without CAP_SYS_ADMIN. */
#define UVFS_UMOUNT_DETACH 0x2 /* MNT_DETACH */
UVFS_API int uvfs_umount_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *target,
			    int flags);
UVFS_API void uvfs_mount_get(struct uvfs_mount *mnt);
UVFS_API void uvfs_mount_put(struct uvfs_mount *mnt);
/* -EBUSY when turning read-only while files are open for writing. */
UVFS_API int uvfs_set_mount_readonly(struct uvfs_mount *mnt, bool ro);
UVFS_API bool uvfs_mount_readonly(const struct uvfs_mount *mnt);
UVFS_API unsigned uvfs_mount_flags(const struct uvfs_mount *mnt);
UVFS_API struct uvfs_filesystem *uvfs_mount_fs(const struct uvfs_mount *mnt); /* no reference */
UVFS_API struct uvfs_dentry *uvfs_mount_root(const struct uvfs_mount *mnt); /* no reference */
UVFS_API uint64_t uvfs_mount_id(const struct uvfs_mount *mnt); /* mountinfo's first field (fdinfo's mnt_id) */
/* mkdir -p of dirname(path) and path itself, mode 0755; an existing final
 * file of any type is accepted (mounting over a file is allowed). */
UVFS_API int uvfs_make_synthetic_mountpoint(struct uvfs *vfs, const struct uvfs_cred *cred, const char *path,
					    const struct uvfs_vd *root);

/* Bind mount (mount(2) with MS_BIND): a new mount of src's filesystem rooted
 * at src's dentry, with src's mount flags and source, connected on top of
 * whatever is mounted at dst. UVFS_BIND_REC (MS_REC) also copies the mounts
 * below src (those whose mountpoint lies under src's dentry, and everything
 * below them). -EPERM without CAP_SYS_ADMIN; -EINVAL if src's mount is not
 * in dst's namespace (or is umounted); -ENOTDIR if exactly one of src and
 * dst is a directory; -ENOENT if dst was deleted. */
#define UVFS_BIND_REC 0x1
UVFS_API int uvfs_bind_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *src,
			  const struct uvfs_pathop *dst, unsigned flags);

/* What /proc/[pid]/mounts and mountinfo say about one mount. Strings are
 * valid during the callback only. */
struct uvfs_mount_info {
	uint64_t id, parent_id; /* a namespace root is its own parent */
	uint32_t dev_major, dev_minor; /* st_dev of the filesystem */
	unsigned flags; /* UVFS_MNT_* */
	const char *root; /* the mount's root within its filesystem: "/", "/sub" ("//deleted" suffix when unlinked) */
	const char *mount_point; /* as seen from the enumeration root */
	const char *fstype;
	const char *source; /* "none" when the mount has none */
	const char *fs_options; /* the filesystem's show_options ("" if none) */
};
/* Return 0 to go on; anything else stops the walk and is returned. */
typedef int (*uvfs_mount_cb)(void *arg, const struct uvfs_mount_info *mi);
/* Calls cb for each mount of ns whose root is reachable from root (as
 * Linux, mounts outside a chroot are skipped), a parent before its
 * children, otherwise in mount ID order. */
UVFS_API int uvfs_mntns_for_each(struct uvfs_mntns *ns, const struct uvfs_vd *root, uvfs_mount_cb cb, void *arg);
#define UVFS_SHOW_MOUNTS 0 /* /proc/[pid]/mounts */
#define UVFS_SHOW_MOUNTINFO 1 /* /proc/[pid]/mountinfo */
/* One line in Linux's format (space, tab, newline and backslash escaped as
 * \ooo). snprintf-like: returns the length the line needs, writes at most
 * len bytes, NUL-terminated; -EINVAL for an unknown format. */
UVFS_API ssize_t uvfs_mount_info_format(const struct uvfs_mount_info *mi, int format, char *buf, size_t len);
/* The whole file for ns seen from root: *out is malloc'd (free() it),
 * NUL-terminated; returns its length or -errno. */
UVFS_API ssize_t uvfs_mntns_show(struct uvfs_mntns *ns, const struct uvfs_vd *root, int format, char **out);

/* Path of vd as seen from root (Linux d_path): crosses mounts upward; when
 * vd is not under root, the path from the top of its mount tree (or "/" if
 * vd was renamed out of its bind mount's subtree). Returns the length
 * written (without the NUL) or -errno: -ERANGE when len is too small.
 * Consistent against concurrent renames and mounts (never a torn path). */
#define UVFS_VD_PATH_DELETED 0x1 /* append " (deleted)" when vd's dentry was unlinked (/proc/self/fd links) */
#define UVFS_VD_PATH_GETCWD 0x2 /* getcwd(2): -ENOENT when unlinked, "(unreachable)" prefix when not under root */
UVFS_API ssize_t uvfs_vd_path(struct uvfs *vfs, const struct uvfs_vd *root, const struct uvfs_vd *vd, char *buf,
			      size_t len, unsigned flags);

/* ----------------------------------------------------------- path calls */

#define UVFS_GET_SEARCHABLE 0x1 /* result must be a searchable directory */
UVFS_API int uvfs_get_dentry_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
				unsigned flags, struct uvfs_vd *out);

#define UVFS_OPEN_EXEC 0x1 /* open for execution: noexec mounts and non-regular files give -EACCES */
UVFS_API int uvfs_open_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			  int oflags, mode_t mode, unsigned flags, struct uvfs_file **out);

/* statx semantics: fields outside mask may be filled too; out->stx_mask says
 * which are valid. */
UVFS_API int uvfs_stat_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			  unsigned mask, struct statx *out);

/* Attribute change: only fields in mask (STATX_MODE, STATX_UID, STATX_GID,
 * STATX_SIZE, STATX_ATIME, STATX_MTIME) change. tv_nsec may be UTIME_NOW.
 * uid or gid (uint32_t)-1 under STATX_UID/STATX_GID is chown(2)'s -1: that
 * id stays, but the call is a chown (ctime, setuid/setgid clearing). */
struct uvfs_setattr {
	unsigned mask;
	mode_t mode;
	uint32_t uid, gid;
	uint64_t size;
	struct timespec atime, mtime;
};
#define UVFS_SETATTR_NEED_WRITE 0x1 /* truncate(2): needs write permission */
UVFS_API int uvfs_setstat_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			     const struct uvfs_setattr *attr, unsigned flags);
UVFS_API int uvfs_statfs_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			    struct statfs *out);
/* access(2): mode is R_OK|W_OK|X_OK or F_OK; checked with fsuid/fsgid. */
UVFS_API int uvfs_access_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			    int mode);

/* Creation and removal calls never follow the final component; like
 * gVisor they reject UVFS_PATH_FOLLOW with -EINVAL. */
UVFS_API int uvfs_mkdir_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			   mode_t mode);
UVFS_API int uvfs_mknod_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			   mode_t mode, dev_t rdev);
UVFS_API int uvfs_symlink_at(struct uvfs *vfs, const struct uvfs_cred *cred, const char *target,
			     const struct uvfs_pathop *pop);
UVFS_API int uvfs_link_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *oldpop,
			  const struct uvfs_pathop *newpop);

/* Options and results of the creation calls' *_at2 forms (each pointer may
 * be NULL, and so may opts). On success *vd holds references on what was
 * made, {mount, dentry} (put with uvfs_vd_put), and *stat its attributes
 * (STATX_BASIC_STATS | STATX_BTIME, as uvfs_stat_at): the very object
 * created, even if another thread renames or unlinks it at once, with no
 * second lookup. On failure *vd is cleared and *stat untouched. */
#define UVFS_MKDIR_SYNTHETIC 0x1 /* mkdir: made only to mount on (passed to the fs's ->mkdir) */
#define UVFS_MKNOD_SYNTHETIC 0x2 /* mknod of a regular file made only to mount on (->create_synthetic) */
struct uvfs_create_opts {
	unsigned flags; /* UVFS_MKDIR_SYNTHETIC (mkdir), UVFS_MKNOD_SYNTHETIC (mknod, S_IFREG); others: -EINVAL */
	struct uvfs_vd *vd; /* out, optional */
	struct statx *stat; /* out, optional */
};
UVFS_API int uvfs_mkdir_at2(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			    mode_t mode, const struct uvfs_create_opts *opts);
UVFS_API int uvfs_mknod_at2(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			    mode_t mode, dev_t rdev, const struct uvfs_create_opts *opts);
UVFS_API int uvfs_symlink_at2(struct uvfs *vfs, const struct uvfs_cred *cred, const char *target,
			      const struct uvfs_pathop *pop, const struct uvfs_create_opts *opts);
UVFS_API int uvfs_link_at2(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *oldpop,
			   const struct uvfs_pathop *newpop, const struct uvfs_create_opts *opts);
/* An overlay whiteout at pop: a char 0:0 node of mode 0 (Linux
 * vfs_whiteout). Like Linux since 5.8, whiteouts need no CAP_MKNOD. */
UVFS_API int uvfs_whiteout_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop);
UVFS_API int uvfs_unlink_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop);
UVFS_API int uvfs_rmdir_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop);
/* flags: RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT (from
 * <stdio.h>/<linux/fs.h>). RENAME_WHITEOUT leaves a whiteout (see
 * uvfs_whiteout_at) at the old name in the same step; it needs no
 * CAP_MKNOD (Linux >= 5.8) and is -EINVAL with RENAME_EXCHANGE. Renames
 * between mounts are -EXDEV before any name is looked at or locked. */
UVFS_API int uvfs_rename_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *oldpop,
			    const struct uvfs_pathop *newpop, unsigned flags);
UVFS_API ssize_t uvfs_readlink_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
				  char *buf, size_t len);

UVFS_API ssize_t uvfs_getxattr_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
				  const char *name, void *buf, size_t len);
/* flags: XATTR_CREATE / XATTR_REPLACE */
UVFS_API int uvfs_setxattr_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			      const char *name, const void *val, size_t len, int flags);
/* NUL-separated names; len 0 asks for the size. */
UVFS_API ssize_t uvfs_listxattr_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
				   char *buf, size_t len);
UVFS_API int uvfs_removexattr_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
				 const char *name);

/* ----------------------------------------------------------------- files */

UVFS_API void uvfs_file_get(struct uvfs_file *f);
UVFS_API void uvfs_file_put(struct uvfs_file *f);
/* The file's {mount, dentry}, with references. */
UVFS_API void uvfs_file_vd(struct uvfs_file *f, struct uvfs_vd *out);
UVFS_API int uvfs_file_flags(const struct uvfs_file *f); /* O_* status flags */
/* A new host fd (O_RDONLY|O_CLOEXEC, owned by the caller) on the host file
 * behind a regular file, for native reads and mmaps; -EOPNOTSUPP for
 * O_PATH files, non-regular files and filesystems without host files. */
UVFS_API int uvfs_file_host_fd(struct uvfs_file *f);
UVFS_API ssize_t uvfs_read(struct uvfs_file *f, void *buf, size_t len);
UVFS_API ssize_t uvfs_write(struct uvfs_file *f, const void *buf, size_t len);
UVFS_API ssize_t uvfs_pread(struct uvfs_file *f, void *buf, size_t len, off_t off);
UVFS_API ssize_t uvfs_pwrite(struct uvfs_file *f, const void *buf, size_t len, off_t off);
UVFS_API off_t uvfs_seek(struct uvfs_file *f, off_t off, int whence);
/* Every read/write call checks its range once, as Linux's rw_verify_area:
 * a negative position is -EINVAL (pread/pwrite/preadv/pwritev: always),
 * position + count past INT64_MAX is -EINVAL, a count above SSIZE_MAX is
 * -EINVAL, and counts are capped at MAX_RW_COUNT (INT_MAX & PAGE_MASK,
 * 0x7ffff000): one call moves at most that many bytes. */
/* Vectored I/O: iovcnt in 0..1024 (UIO_MAXIOV, else -EINVAL), a segment
 * longer than SSIZE_MAX is -EINVAL, the total is capped at MAX_RW_COUNT, a
 * zero total returns 0 without calling the fs. Without read_iter/write_iter
 * ops the segments go one by one through read/write, stopping at the first
 * short transfer; an error after some bytes moved returns those bytes. */
UVFS_API ssize_t uvfs_readv(struct uvfs_file *f, const struct iovec *iov, int iovcnt);
UVFS_API ssize_t uvfs_writev(struct uvfs_file *f, const struct iovec *iov, int iovcnt);
UVFS_API ssize_t uvfs_preadv(struct uvfs_file *f, const struct iovec *iov, int iovcnt, off_t off);
UVFS_API ssize_t uvfs_pwritev(struct uvfs_file *f, const struct iovec *iov, int iovcnt, off_t off);

/* ioctl(2) on an open file. Handled by the VFS itself, as Linux's
 * do_vfs_ioctl: FIONBIO and FIOASYNC (arg: const int *; the same rules as
 * uvfs_file_set_flags) and FIONREAD on regular files (arg: int *, bytes
 * from the position to EOF). Anything else goes to the file's ->ioctl;
 * -ENOTTY without one. arg is a pointer in the caller's address space (or
 * an integer for commands that take one); NULL for a pointer command is
 * -EFAULT. O_PATH files: -EBADF. */
UVFS_API long uvfs_ioctl(struct uvfs_file *f, unsigned long cmd, void *arg);

/* F_SETFL: only O_APPEND, O_NONBLOCK, O_DIRECT, O_NOATIME and O_ASYNC
 * change, the other bits of flags are ignored (Linux setfl). Setting
 * O_NOATIME needs cred to own the inode or CAP_FOWNER (-EPERM). The file's
 * ->setfl may refuse (its errno is returned); O_ASYNC changes only when the
 * file has a ->setfl that accepts it (Linux: only with ->fasync). O_PATH
 * files: -EBADF. */
UVFS_API int uvfs_file_set_flags(struct uvfs_file *f, const struct uvfs_cred *cred, int flags);

/* Readiness. One entry per file; file NULL entries are skipped (revents 0),
 * as poll(2) skips negative fds. */
struct uvfs_pollfd {
	struct uvfs_file *file;
	short events; /* POLLIN, POLLOUT, ... */
	short revents; /* out: ready events among events, plus POLLERR/POLLHUP/POLLNVAL */
};
/* poll(2) over files: waits until one is ready or timeout_ms passes (< 0:
 * no limit, 0: just look). Returns how many entries have revents != 0 (0
 * on timeout) or -errno (-EINVAL for nfds > 65536, -ENOMEM). Files whose
 * fs has no ->poll are always readable and writable; O_PATH files report
 * POLLNVAL (Linux). */
UVFS_API int uvfs_poll_files(struct uvfs_pollfd *fds, size_t nfds, int timeout_ms);
/* One file: returns its revents (0 on timeout) or -errno. */
UVFS_API int uvfs_poll(struct uvfs_file *f, short events, int timeout_ms);

/* Close of one descriptor (Linux filp_close): calls the file's ->flush and
 * returns its result. Every close of an fd or FUSE handle calls it, also
 * when other references remain. It does not drop a reference:
 * uvfs_file_close does both. */
UVFS_API int uvfs_flush(struct uvfs_file *f);
UVFS_API int uvfs_file_close(struct uvfs_file *f); /* uvfs_flush, then uvfs_file_put; the flush result */
UVFS_API int uvfs_file_truncate(struct uvfs_file *f, uint64_t size);
UVFS_API int uvfs_fsync(struct uvfs_file *f, bool datasync);
UVFS_API int uvfs_file_stat(struct uvfs_file *f, unsigned mask, struct statx *out);
UVFS_API int uvfs_file_setstat(struct uvfs_file *f, const struct uvfs_cred *cred, const struct uvfs_setattr *attr);
/* fallocate(2): mode is 0 or FALLOC_FL_* (<linux/falloc.h>). The checks and
 * errnos are Linux's vfs_fallocate (-EINVAL bad range, -EOPNOTSUPP bad or
 * unsupported mode, -EBADF not open for writing, -ENODEV not a regular
 * file, -EFBIG past the maximum size); the filesystem's fallocate op does
 * the rest (tmpfs: allocate, KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE; -ENOSPC
 * past size=). */
UVFS_API int uvfs_fallocate(struct uvfs_file *f, int mode, off_t off, off_t len);
/* POSIX record locks through the filesystem (fcntl F_GETLK, F_SETLK,
 * F_SETLKW; struct flock from <fcntl.h>). owner is the caller's opaque lock
 * owner (Linux: the fd table): locks of one owner never conflict with each
 * other. fl is read with l_whence relative to f, and F_GETLK's answer is
 * SEEK_SET. Errnos as Linux's fcntl: -EINVAL bad type/whence/range,
 * -EBADF a type the open mode does not allow, -EAGAIN conflict
 * (F_SETLK), -EINTR. -ENOLCK: the filesystem has no lock op; the caller
 * keeps locks itself (the sandbox does, in sandbox/locks.c). */
struct flock;
UVFS_API int uvfs_file_lock(struct uvfs_file *f, uint64_t owner, int cmd, struct flock *fl);
/* Whether f's filesystem keeps record locks itself (uvfs_file_lock). */
UVFS_API bool uvfs_file_has_lock_op(const struct uvfs_file *f);

/* Directory iteration from the file's offset. The callback returns 0 to go
 * on, or anything else to stop; an entry the callback refused is delivered
 * again by the next call. Returns 0 at the end or when stopped, or -errno.
 * "." and ".." come first. next_off is the offset to seek to for the entry
 * after this one. */
typedef int (*uvfs_dirent_cb)(void *arg, const char *name, size_t namelen, uint64_t ino, unsigned dtype,
			      int64_t next_off);
UVFS_API int uvfs_iterate_dir(struct uvfs_file *f, uvfs_dirent_cb cb, void *arg);
/* linux_dirent64 records into buf; returns bytes, 0 at end, -EINVAL if the
 * first entry does not fit. */
UVFS_API ssize_t uvfs_getdents64(struct uvfs_file *f, void *buf, size_t len);

/* Copies src (from its offset) to dst until EOF; returns bytes copied, or
 * -errno if nothing was copied. */
UVFS_API ssize_t uvfs_copy_file_data(struct uvfs_file *dst, struct uvfs_file *src);

/* ------------------------------------------------- change notification */

/* Up to UVFS_WATCH_MAX subscribers per instance (each FUSE export of it,
 * say) hear about every change the VFS commits,
 * whoever made it and on every filesystem (a FUSE export keeps the kernel's
 * caches current with it). Callbacks run on the thread that made the
 * change, after it is committed, with no VFS lock held (vfs/LOCKING.md)
 * and outside any RCU read section: they may wait, but must not call back
 * into the VFS, and must not call uvfs_watch_set. The inode and vd
 * pointers are borrowed for the call (no reference survives it); name is
 * not NUL-terminated. Changes made inside a filesystem on its own (a remote
 * fs seeing its server change, generated files) are not reported. */
enum uvfs_watch_event {
	UVFS_WATCH_CREATE = 1, /* entry: name now exists in dir (child: its inode) */
	UVFS_WATCH_REMOVE, /* entry: name no longer exists in dir (child: the inode it named) */
	UVFS_WATCH_MOUNT, /* entry: a mount now covers name in dir (child: the mounted root's inode) */
	UVFS_WATCH_UMOUNT, /* entry: the mount on name in dir is gone (child: the covered inode) */
	UVFS_WATCH_ATTR, /* inode: attributes changed (setattr, xattrs, link count) */
	UVFS_WATCH_DATA, /* inode: content of [off, off + len) changed, size perhaps too */
};
struct uvfs_inode;
struct uvfs_watch_ops {
	void (*entry)(void *arg, enum uvfs_watch_event ev, struct uvfs_inode *dir, const char *name, size_t len,
		      struct uvfs_inode *child);
	void (*inode)(void *arg, enum uvfs_watch_event ev, struct uvfs_inode *inode, uint64_t off, uint64_t len);
	/* Optional: a non-lazy umount of mnt (covering name in dir) is about
	 * to check whether mnt is busy. A subscriber holding references on
	 * mnt for a cache it can drop (the FUSE export's kernel nodes) drops
	 * them now, waiting a bounded time. Not a change: the umount may
	 * still fail. */
	void (*umount)(void *arg, struct uvfs_mount *mnt, struct uvfs_inode *dir, const char *name, size_t len);
};
#define UVFS_WATCH_MAX 8
/* ops non-NULL: subscribes (ops, arg) beside the others (-EBUSY if that
 * pair is subscribed already or all UVFS_WATCH_MAX slots are taken).
 * ops NULL: unsubscribes every subscriber whose arg is arg (arg NULL: every
 * subscriber); when it returns none of their callbacks is running. */
UVFS_API int uvfs_watch_set(struct uvfs *vfs, const struct uvfs_watch_ops *ops, void *arg);

/* ----------------------------------------------------------------- debug */

/* Benchmarks and tests only, per instance: UVFS_DEBUG_REFWALK puts every
 * lookup of vfs on the ref-walk (no RCU-walk; RESOLVE_CACHED then fails
 * with -EAGAIN). flags replace the previous ones and apply to walks that
 * start afterwards. */
#define UVFS_DEBUG_REFWALK 0x1
UVFS_API void uvfs_set_debug(struct uvfs *vfs, unsigned flags);

/* --------------------------------------------------------------- logging */

enum { UVFS_LOG_ERROR, UVFS_LOG_WARN, UVFS_LOG_INFO, UVFS_LOG_DEBUG };
/* Level from $UVFS_LOG (error|warn|info|debug|off); default warn, to stderr.
 * An unknown $UVFS_LOG value is reported once (an error line) and means warn. */
UVFS_API void uvfs_log_set_level(int level);
/* Where log lines go instead of stderr: fn(level, message without newline,
 * arg), called from any thread that logs, with no uvfs lock held; it must
 * not call back into uvfs. NULL restores stderr. Process-wide, like the level. */
typedef void (*uvfs_log_fn)(int level, const char *msg, void *arg);
UVFS_API void uvfs_set_log_func(uvfs_log_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
