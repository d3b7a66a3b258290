/* sandbox/uvfs_sandbox.h — the syscall layer: a task object and one
 * function per file-system syscall, with the kernel's ABI.
 *
 * An interceptor (seccomp user notification, ptrace, a binary translator)
 * copies the tracee's arguments into its own memory and calls
 * uvfs_sbx_<syscall>(task, args...) with the syscall's own argument list;
 * the result is what the syscall returns (>= 0) or -errno, exactly as Linux
 * returns it for the same call on the same tree. Pointers are pointers in
 * the caller's (the supervisor's) address space: the struct layouts are the
 * kernel's (struct stat of the host ABI, struct statx, linux_dirent64,
 * struct open_how, struct statfs, struct pollfd), so the interceptor copies
 * them back byte for byte.
 *
 * Each call runs "as" the task: its credentials for every permission check,
 * a uvfs_ctx entered around the call (so /proc/self is the task), its root
 * and cwd for path resolution, its umask for creation.
 *
 * Threads: any thread may call for any task; calls for the same task may
 * run concurrently (the fd table and the fs state each have their lock).
 */
#pragma once

#include <linux/openat2.h> /* struct open_how, RESOLVE_* */
#include <poll.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "uvfs.h"

#ifdef __cplusplus
extern "C" {
#endif

struct uvfs_sbx_task;
struct uvfs_tasks;

/* ------------------------------------------------------------------- tasks */

/* Default and hard limit of open descriptors per table (RLIMIT_NOFILE's
 * soft default); an fd >= the limit is -EMFILE (open, dup) or -EINVAL
 * (dup2/F_DUPFD target: -EBADF as Linux). */
#define UVFS_SBX_NOFILE_DEFAULT 1024
#define UVFS_SBX_NOFILE_MAX (1 << 20) /* Linux's nr_open default */

struct uvfs_sbx_task_params {
	struct uvfs *vfs; /* required */
	struct uvfs_mntns *mntns; /* reference taken; may be NULL (no mount/umount2) */
	const struct uvfs_vd *root; /* required: root and initial cwd (references taken) */
	const struct uvfs_vd *cwd; /* NULL: root */
	const struct uvfs_cred *cred; /* copied, group list too (groups_src is loaded and copied); NULL: root */
	mode_t umask; /* 0: 022 is NOT assumed; the value is used as is */
	unsigned nofile; /* fd limit; 0: UVFS_SBX_NOFILE_DEFAULT */
	int32_t tid; /* the tid given to uvfs_ctx (and the proc table); 0: none */
	struct uvfs_tasks *tasks; /* optional: register the task there (fd_ops read this fd table) */
	int32_t pid, ppid; /* for the task table: pid 0 means pid = tid */
};

/* A new task with an empty fd table. -EINVAL for missing vfs/root. */
UVFS_API int uvfs_sbx_task_new(const struct uvfs_sbx_task_params *p, struct uvfs_sbx_task **out);

/* clone(2) flags the fork honours: CLONE_FILES shares the fd table (else
 * it is copied, with its CLOEXEC bits), CLONE_FS shares root, cwd and
 * umask (else they are copied). The child gets tid (0: none) and, if the
 * parent is registered in a task table, is registered there too with the
 * parent's tid as ppid (pid = tid for a new process; for CLONE_THREAD the
 * parent's pid). */
#define UVFS_SBX_CLONE_FILES 0x1
#define UVFS_SBX_CLONE_FS 0x2
#define UVFS_SBX_CLONE_THREAD 0x4
UVFS_API int uvfs_sbx_task_fork(struct uvfs_sbx_task *parent, unsigned flags, int32_t tid,
				struct uvfs_sbx_task **child);
/* execve(2) succeeded: unshares the fd table (a table shared by
 * CLONE_FILES is copied first, as Linux's unshare_files) and closes every
 * CLOEXEC descriptor. */
UVFS_API int uvfs_sbx_task_exec(struct uvfs_sbx_task *t);
/* Task exit: drops the task's references on the fd table (closing files
 * when it was the last user), root, cwd and namespace, and unregisters it
 * from its task table. */
UVFS_API void uvfs_sbx_task_put(struct uvfs_sbx_task *t);

/* Credentials: a copy (the group list is copied too). */
UVFS_API int uvfs_sbx_task_set_cred(struct uvfs_sbx_task *t, const struct uvfs_cred *cred);
/* Borrowed view of the task's cred (valid until the next set_cred). */
UVFS_API const struct uvfs_cred *uvfs_sbx_task_cred(const struct uvfs_sbx_task *t);
UVFS_API int uvfs_sbx_task_set_nofile(struct uvfs_sbx_task *t, unsigned limit); /* -EINVAL above MAX or 0 */
UVFS_API int32_t uvfs_sbx_task_tid(const struct uvfs_sbx_task *t);
/* From any thread: the task has a signal to handle. A call of the task
 * blocked in uvfs (poll, ppoll, select, F_SETLKW, a blocking read of a
 * FIFO or tty …) returns -EINTR, and so does every blocking call until
 * uvfs_sbx_task_interrupt_clear (the signal was delivered). */
UVFS_API int uvfs_sbx_task_interrupt(struct uvfs_sbx_task *t);
UVFS_API void uvfs_sbx_task_interrupt_clear(struct uvfs_sbx_task *t);

/* For interceptors: the open file behind fd, with a reference (put it), or
 * -EBADF. */
UVFS_API int uvfs_sbx_fd_get(struct uvfs_sbx_task *t, int fd, struct uvfs_file **out);
/* Installs f (a new reference is taken) at the lowest free fd >= minfd;
 * returns the fd or -EMFILE. cloexec: FD_CLOEXEC. */
UVFS_API long uvfs_sbx_fd_install(struct uvfs_sbx_task *t, struct uvfs_file *f, int minfd, bool cloexec);
/* Lists open fds > after, ascending, at most max (the proc fd_ops shape). */
UVFS_API int uvfs_sbx_fd_list(struct uvfs_sbx_task *t, int after, int *fds, int max);

/* execve/execveat's open (Linux do_open_execat), for an interceptor that
 * runs programs living in the uvfs tree: path as execveat takes it (flags
 * AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW — a final symlink is then -ELOOP);
 * needs exec permission (not read), a regular file (-EACCES otherwise)
 * and a mount without noexec (-EACCES). On success *out is the file opened
 * for reading (a reference: put it) — the supervisor reads or maps it on
 * the task's behalf, as the kernel does, even when the task may not read
 * it. The fd table is not touched; call uvfs_sbx_task_exec once the exec
 * commits. */
UVFS_API long uvfs_sbx_open_exec(struct uvfs_sbx_task *t, int dirfd, const char *path, int flags,
				 struct uvfs_file **out);

/* ----------------------------------------------------------------- syscalls */
/* dirfd is an fd of the task or AT_FDCWD. Paths are NUL-terminated. */

UVFS_API long uvfs_sbx_umask(struct uvfs_sbx_task *t, mode_t mask); /* returns the old mask */

/* open */
UVFS_API long uvfs_sbx_openat(struct uvfs_sbx_task *t, int dirfd, const char *path, int flags, mode_t mode);
UVFS_API long uvfs_sbx_openat2(struct uvfs_sbx_task *t, int dirfd, const char *path, const struct open_how *how,
			       size_t size);
UVFS_API long uvfs_sbx_close(struct uvfs_sbx_task *t, int fd);
UVFS_API long uvfs_sbx_close_range(struct uvfs_sbx_task *t, unsigned first, unsigned last, unsigned flags);
UVFS_API long uvfs_sbx_dup(struct uvfs_sbx_task *t, int oldfd);
UVFS_API long uvfs_sbx_dup2(struct uvfs_sbx_task *t, int oldfd, int newfd);
UVFS_API long uvfs_sbx_dup3(struct uvfs_sbx_task *t, int oldfd, int newfd, int flags);
UVFS_API long uvfs_sbx_fcntl(struct uvfs_sbx_task *t, int fd, int cmd, unsigned long arg);

/* read / write */
UVFS_API long uvfs_sbx_read(struct uvfs_sbx_task *t, int fd, void *buf, size_t count);
UVFS_API long uvfs_sbx_write(struct uvfs_sbx_task *t, int fd, const void *buf, size_t count);
UVFS_API long uvfs_sbx_pread64(struct uvfs_sbx_task *t, int fd, void *buf, size_t count, off_t off);
UVFS_API long uvfs_sbx_pwrite64(struct uvfs_sbx_task *t, int fd, const void *buf, size_t count, off_t off);
UVFS_API long uvfs_sbx_readv(struct uvfs_sbx_task *t, int fd, const struct iovec *iov, int iovcnt);
UVFS_API long uvfs_sbx_writev(struct uvfs_sbx_task *t, int fd, const struct iovec *iov, int iovcnt);
UVFS_API long uvfs_sbx_preadv(struct uvfs_sbx_task *t, int fd, const struct iovec *iov, int iovcnt, off_t off);
UVFS_API long uvfs_sbx_pwritev(struct uvfs_sbx_task *t, int fd, const struct iovec *iov, int iovcnt, off_t off);
UVFS_API long uvfs_sbx_lseek(struct uvfs_sbx_task *t, int fd, off_t off, int whence);

/* attributes */
UVFS_API long uvfs_sbx_fstat(struct uvfs_sbx_task *t, int fd, struct stat *st);
UVFS_API long uvfs_sbx_newfstatat(struct uvfs_sbx_task *t, int dirfd, const char *path, struct stat *st, int flags);
UVFS_API long uvfs_sbx_statx(struct uvfs_sbx_task *t, int dirfd, const char *path, int flags, unsigned mask,
			     struct statx *stx);
UVFS_API long uvfs_sbx_faccessat(struct uvfs_sbx_task *t, int dirfd, const char *path, int mode);
UVFS_API long uvfs_sbx_faccessat2(struct uvfs_sbx_task *t, int dirfd, const char *path, int mode, int flags);
UVFS_API long uvfs_sbx_fchmod(struct uvfs_sbx_task *t, int fd, mode_t mode);
UVFS_API long uvfs_sbx_fchmodat(struct uvfs_sbx_task *t, int dirfd, const char *path, mode_t mode, int flags);
UVFS_API long uvfs_sbx_fchown(struct uvfs_sbx_task *t, int fd, uid_t uid, gid_t gid);
UVFS_API long uvfs_sbx_fchownat(struct uvfs_sbx_task *t, int dirfd, const char *path, uid_t uid, gid_t gid,
				int flags);
/* times NULL: both now. path NULL: dirfd itself (the old futimens form). */
UVFS_API long uvfs_sbx_utimensat(struct uvfs_sbx_task *t, int dirfd, const char *path,
				 const struct timespec times[2], int flags);
UVFS_API long uvfs_sbx_truncate(struct uvfs_sbx_task *t, const char *path, off_t length);
UVFS_API long uvfs_sbx_ftruncate(struct uvfs_sbx_task *t, int fd, off_t length);
UVFS_API long uvfs_sbx_fallocate(struct uvfs_sbx_task *t, int fd, int mode, off_t off, off_t len);
UVFS_API long uvfs_sbx_fsync(struct uvfs_sbx_task *t, int fd);
UVFS_API long uvfs_sbx_fdatasync(struct uvfs_sbx_task *t, int fd);
UVFS_API long uvfs_sbx_statfs(struct uvfs_sbx_task *t, const char *path, struct statfs *buf);
UVFS_API long uvfs_sbx_fstatfs(struct uvfs_sbx_task *t, int fd, struct statfs *buf);

/* directories and names */
UVFS_API long uvfs_sbx_getdents64(struct uvfs_sbx_task *t, int fd, void *dirp, size_t count);
UVFS_API long uvfs_sbx_readlinkat(struct uvfs_sbx_task *t, int dirfd, const char *path, char *buf, size_t bufsiz);
UVFS_API long uvfs_sbx_mkdirat(struct uvfs_sbx_task *t, int dirfd, const char *path, mode_t mode);
UVFS_API long uvfs_sbx_mknodat(struct uvfs_sbx_task *t, int dirfd, const char *path, mode_t mode, dev_t dev);
UVFS_API long uvfs_sbx_unlinkat(struct uvfs_sbx_task *t, int dirfd, const char *path, int flags);
UVFS_API long uvfs_sbx_renameat2(struct uvfs_sbx_task *t, int olddirfd, const char *oldpath, int newdirfd,
				 const char *newpath, unsigned flags);
UVFS_API long uvfs_sbx_linkat(struct uvfs_sbx_task *t, int olddirfd, const char *oldpath, int newdirfd,
			      const char *newpath, int flags);
UVFS_API long uvfs_sbx_symlinkat(struct uvfs_sbx_task *t, const char *target, int newdirfd, const char *linkpath);

/* extended attributes (l*: do not follow a final symlink; f*: an fd) */
UVFS_API long uvfs_sbx_getxattr(struct uvfs_sbx_task *t, const char *path, const char *name, void *value,
				size_t size);
UVFS_API long uvfs_sbx_lgetxattr(struct uvfs_sbx_task *t, const char *path, const char *name, void *value,
				 size_t size);
UVFS_API long uvfs_sbx_fgetxattr(struct uvfs_sbx_task *t, int fd, const char *name, void *value, size_t size);
UVFS_API long uvfs_sbx_setxattr(struct uvfs_sbx_task *t, const char *path, const char *name, const void *value,
				size_t size, int flags);
UVFS_API long uvfs_sbx_lsetxattr(struct uvfs_sbx_task *t, const char *path, const char *name, const void *value,
				 size_t size, int flags);
UVFS_API long uvfs_sbx_fsetxattr(struct uvfs_sbx_task *t, int fd, const char *name, const void *value, size_t size,
				 int flags);
UVFS_API long uvfs_sbx_listxattr(struct uvfs_sbx_task *t, const char *path, char *list, size_t size);
UVFS_API long uvfs_sbx_llistxattr(struct uvfs_sbx_task *t, const char *path, char *list, size_t size);
UVFS_API long uvfs_sbx_flistxattr(struct uvfs_sbx_task *t, int fd, char *list, size_t size);
UVFS_API long uvfs_sbx_removexattr(struct uvfs_sbx_task *t, const char *path, const char *name);
UVFS_API long uvfs_sbx_lremovexattr(struct uvfs_sbx_task *t, const char *path, const char *name);
UVFS_API long uvfs_sbx_fremovexattr(struct uvfs_sbx_task *t, int fd, const char *name);

/* root and cwd */
UVFS_API long uvfs_sbx_chdir(struct uvfs_sbx_task *t, const char *path);
UVFS_API long uvfs_sbx_fchdir(struct uvfs_sbx_task *t, int fd);
/* The syscall's contract: returns the length including the NUL, -ERANGE
 * when size is too small, -ENOENT when the cwd was unlinked. */
UVFS_API long uvfs_sbx_getcwd(struct uvfs_sbx_task *t, char *buf, size_t size);
UVFS_API long uvfs_sbx_chroot(struct uvfs_sbx_task *t, const char *path);

/* files */
UVFS_API long uvfs_sbx_ioctl(struct uvfs_sbx_task *t, int fd, unsigned long cmd, void *arg);
/* poll(2): fills revents (POLLNVAL for an fd that is not open, 0 for a
 * negative fd) and returns how many entries have revents != 0, waiting on
 * the files' wait queues until one is ready or timeout ms passed (< 0: no
 * limit; 0: just look). -EINVAL for nfds above the fd limit; -EINTR when
 * the task is interrupted while it waits (uvfs_sbx_task_interrupt). */
UVFS_API long uvfs_sbx_poll(struct uvfs_sbx_task *t, struct pollfd *fds, nfds_t nfds, int timeout);
/* ppoll(2) without the signal mask (the interceptor applies it): timeout
 * NULL waits without limit; a negative or unnormalised one is -EINVAL. The
 * remaining time is not written back. */
UVFS_API long uvfs_sbx_ppoll(struct uvfs_sbx_task *t, struct pollfd *fds, nfds_t nfds, const struct timespec *timeout);
/* pselect6(2) without the signal mask (select's timeval: the caller
 * converts): the sets (each may be NULL) are rewritten with the ready fds
 * and the count of set bits returned; an fd in a set that is not open is
 * -EBADF; nfds < 0 or a bad timeout -EINVAL. Readable: POLLIN, POLLHUP,
 * POLLERR; writable: POLLOUT, POLLERR; exceptional: POLLPRI (Linux
 * POLLIN_SET, POLLOUT_SET, POLLEX_SET). */
UVFS_API long uvfs_sbx_pselect6(struct uvfs_sbx_task *t, int nfds, fd_set *readfds, fd_set *writefds,
				fd_set *exceptfds, const struct timespec *timeout);

/* mounts (types registered on the instance; CAP_SYS_ADMIN in the task's
 * cred). mount: new mounts, MS_BIND[|MS_REC], MS_MOVE, MS_REMOUNT and
 * MS_REMOUNT|MS_BIND, in Linux path_mount's precedence; propagation flags
 * are -EINVAL (uvfs has none). fcntl: F_DUPFD*, F_GETFD/SETFD,
 * F_GETFL/SETFL, POSIX locks and OFD locks (F_OFD_GETLK/SETLK/SETLKW). */
UVFS_API long uvfs_sbx_mount(struct uvfs_sbx_task *t, const char *source, const char *target, const char *fstype,
			     unsigned long flags, const void *data);
UVFS_API long uvfs_sbx_umount2(struct uvfs_sbx_task *t, const char *target, int flags);

#ifdef __cplusplus
}
#endif
