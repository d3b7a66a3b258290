/* sandbox/run/dispatch.c — the syscall handlers and the dispatch table.
 *
 * Each handler copies its arguments out of the tracee (mem.c), re-checks
 * that the notification is still live (SECCOMP_IOCTL_NOTIF_ID_VALID: the
 * pid we read from is still the caller), calls the syscall layer
 * (sandbox/uvfs_sandbox.h) on the caller's task — whose credentials and
 * umask were just set from /proc/<pid>/status — and copies results back.
 * A tracee fd that names a uvfs file (vfd.c) is installed in the task's
 * fd table for the duration of the call only: the layer sees the same
 * open file (same directory position), the kernel keeps the real fd. Calls on host fds (stdin, pipes, sockets: anything that is
 * not one of our placeholders, see vfd.c) continue in the kernel
 * untouched. Paths never reach the host: every path-taking syscall of the
 * native ABI is in the table, those we do not serve answer an errno. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sandbox/run/internal.h"

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452 /* Linux 6.6; older headers lack it */
#endif

#define ARG(i) (c->req->data.args[(i)])
#define IARG(i) ((int)ARG(i))

#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif
/* the open(2) flags the kernel knows (its VALID_OPEN_FLAGS) */
#define VALID_OPEN_FLAGS_RUN                                                                                     \
	(O_RDONLY | O_WRONLY | O_RDWR | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | \
	 FASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH |          \
	 __O_TMPFILE | O_SYNC)

/* -------------------------------------------------------------- helpers */

#define SBX (c->task->sbx)

/* Reads a path argument, then checks the notification is still live. */
static int get_path(struct run_call *c, uint64_t addr, char *buf)
{
	int err = run_read_path(c->pid, addr, buf, PATH_MAX);
	if (!err && !run_id_valid(c))
		err = -ESRCH;
	return err;
}

/* A tracee fd as an fd of the caller's task, for one call. */
struct tfd {
	int sfd;
	bool installed;
};

static void tfd_put(struct run_call *c, struct tfd *t)
{
	if (t->installed)
		uvfs_sbx_close(SBX, t->sfd);
	t->installed = false;
}

/* *host: fd is open but not a uvfs file. */
static int tfd_get(struct run_call *c, int fd, struct tfd *t, bool *host)
{
	*t = (struct tfd){ .sfd = fd };
	*host = false;
	if (fd == AT_FDCWD)
		return 0;
	int err;
	struct run_vfd *v = run_vfd_lookup(c->s, c->pid, fd, &err);
	if (err)
		return err;
	if (!v) {
		*host = true;
		return 0;
	}
	if (v->pseudo) { /* an fd on proc: it may list /proc/<pid>/fd */
		char vp[64];
		ssize_t n = uvfs_vd_path(c->s->vfs, &c->s->root, &v->vd, vp, sizeof(vp), 0);
		run_fdview_fill(c, n > 0 && (size_t)n < sizeof(vp) ? vp : NULL);
	}
	struct uvfs_file *f = v->file;
	if (!f) { /* REG: the content is the memfd; the layer needs a uvfs file */
		if (!v->rfile) {
			struct uvfs_cred root;
			uvfs_cred_init_root(&root);
			struct uvfs_pathop pop = { .root = c->s->root, .start = v->vd, .path = "",
						   .flags = UVFS_PATH_EMPTY };
			err = uvfs_open_at(c->s->vfs, &root, &pop, O_RDONLY, 0, 0, &v->rfile);
			if (err)
				return err;
		}
		f = v->rfile;
	}
	if (c->fdview) { /* fdview.c put it at its own number already */
		struct uvfs_file *g;
		if (!uvfs_sbx_fd_get(SBX, fd, &g)) {
			bool same = g == f;
			uvfs_file_put(g);
			if (same)
				return 0;
		}
	}
	long r = uvfs_sbx_fd_install(SBX, f, 0, false);
	if (r < 0)
		return (int)r;
	t->sfd = (int)r;
	t->installed = true;
	return 0;
}

static bool is_proc_path(const char *p)
{
	return p[0] == '/' && p[1] == 'p' && p[2] == 'r' && p[3] == 'o' && p[4] == 'c' && (!p[5] || p[5] == '/');
}

/* A (dirfd, path, AT_* flags) argument triple: 0 to go on with t->sfd,
 * 1 when the kernel answers (an empty path on a host fd: c->cont set),
 * or -errno. */
static int at_prep(struct run_call *c, int dirfd, uint64_t addr, int atflags, char *path, struct tfd *t)
{
	*t = (struct tfd){ .sfd = AT_FDCWD };
	int err;
	if (!addr && (atflags & AT_EMPTY_PATH))
		path[0] = 0; /* Linux >= 6.11: NULL with AT_EMPTY_PATH is "" */
	else if ((err = get_path(c, addr, path)))
		return err;
	if (is_proc_path(path))
		run_fdview_fill(c, path); /* it may read /proc/<pid>/fd */
	if (path[0] == '/')
		return 0; /* dirfd is not even looked at */
	if (!path[0] && !(atflags & AT_EMPTY_PATH))
		return -ENOENT;
	bool host;
	if ((err = tfd_get(c, dirfd, t, &host)))
		return err;
	if (host) {
		if (path[0])
			return -ENOTDIR;
		c->cont = true;
		return 1;
	}
	return 0;
}

/* An fd argument: 0 to go on, 1 when it is a host fd (c->cont set), or
 * -errno. */
static int fd_prep(struct run_call *c, int fd, struct tfd *t)
{
	bool host;
	int err = tfd_get(c, fd, t, &host);
	if (err)
		return err;
	if (host) {
		c->cont = true;
		return 1;
	}
	return 0;
}

/* Runs expr with the argument triple prepared; host fds continue. */
#define AT_CALL(dirfd, addr, atflags, expr)                                                                      \
	({                                                                                                       \
		char path[PATH_MAX];                                                                             \
		struct tfd t;                                                                                    \
		long r_ = at_prep(c, (dirfd), (addr), (atflags), path, &t);                                      \
		if (r_ == 0)                                                                                     \
			r_ = (expr);                                                                             \
		else if (r_ > 0)                                                                                 \
			r_ = 0;                                                                                  \
		tfd_put(c, &t);                                                                                  \
		r_;                                                                                              \
	})
#define FD_CALL(fd, expr)                                                                                        \
	({                                                                                                       \
		struct tfd t;                                                                                    \
		long r_ = fd_prep(c, (fd), &t);                                                                  \
		if (r_ == 0)                                                                                     \
			r_ = (expr);                                                                             \
		else if (r_ > 0)                                                                                 \
			r_ = 0;                                                                                  \
		tfd_put(c, &t);                                                                                  \
		r_;                                                                                              \
	})

static long put_out(struct run_call *c, long r, uint64_t addr, const void *buf, size_t len)
{
	if (r < 0)
		return r;
	return run_write_mem(c->pid, addr, buf, len) ? -EFAULT : r;
}

/* ----------------------------------------------------------------- open */

/* /dev/fd/N and /proc/self/fd/N where the tracee's fd N is one of ours:
 * Linux's magic link reopens the file, so open its vd as the task (the
 * interpreter of a script run from the tree reads it so, see exec.c; a
 * bare "N" the tree does not have names a script's fd too, when the exec
 * path was too short for "/dev/fd/N"). Else the tree decides. */
static long open_fd_link(struct run_call *c, int sfd, const char *path, const struct open_how *how, size_t size)
{
	const char *n = !strncmp(path, "/dev/fd/", 8) ? path + 8 : !strncmp(path, "/proc/self/fd/", 14) ? path + 14 : NULL;
	bool bare = !n;
	if (bare) {
		long r = uvfs_sbx_openat2(SBX, sfd, path, how, size);
		if (r != -ENOENT || sfd != AT_FDCWD || path[0] < '0' || path[0] > '9')
			return r;
		n = path;
	}
	char *e;
	long fd = *n >= '0' && *n <= '9' ? strtol(n, &e, 10) : -1;
	int err;
	struct run_vfd *v = fd >= 0 && !*e && fd < INT_MAX ? run_vfd_lookup(c->s, c->pid, (int)fd, &err) : NULL;
	if (!v || (bare && !v->alias) || (how->flags & (O_CREAT | __O_TMPFILE)))
		return bare ? -ENOENT : uvfs_sbx_openat2(SBX, sfd, path, how, size);
	struct uvfs_pathop pop = { .root = c->s->root, .start = v->vd, .path = "", .flags = UVFS_PATH_EMPTY };
	struct uvfs_file *f;
	err = uvfs_open_at(c->s->vfs, uvfs_sbx_task_cred(SBX), &pop, (int)how->flags & ~O_CLOEXEC, 0, 0, &f);
	if (err)
		return err;
	long r = uvfs_sbx_fd_install(SBX, f, 0, false);
	uvfs_file_put(f);
	return r;
}

static long do_open(struct run_call *c, int dirfd, uint64_t addr, const struct open_how *how, size_t size)
{
	long fd = AT_CALL(dirfd, addr, 0, open_fd_link(c, t.sfd, path, how, size));
	if (fd < 0 || c->cont)
		return fd;
	struct uvfs_file *f;
	int err = uvfs_sbx_fd_get(SBX, (int)fd, &f);
	uvfs_sbx_close(SBX, (int)fd);
	if (err)
		return err;
	return run_vfd_install(c->s, c->req->id, f, (int)how->flags); /* consumes f */
}

/* open/openat/creat: openat2 without its strictness (unknown flags are
 * ignored, mode is masked), as the kernel's build_open_how. */
static long do_open_legacy(struct run_call *c, int dirfd, uint64_t addr, int flags, mode_t mode)
{
	struct open_how how = { .flags = (uint64_t)(unsigned)flags & VALID_OPEN_FLAGS_RUN };
	if (how.flags & (O_CREAT | __O_TMPFILE))
		how.mode = mode & 07777;
	if (how.flags & O_PATH)
		how.flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	return do_open(c, dirfd, addr, &how, sizeof(how));
}

static long h_open(struct run_call *c)
{
	return do_open_legacy(c, AT_FDCWD, ARG(0), IARG(1), (mode_t)ARG(2));
}
static long h_creat(struct run_call *c)
{
	return do_open_legacy(c, AT_FDCWD, ARG(0), O_CREAT | O_WRONLY | O_TRUNC, (mode_t)ARG(1));
}
static long h_openat(struct run_call *c)
{
	return do_open_legacy(c, IARG(0), ARG(1), IARG(2), (mode_t)ARG(3));
}
static long h_openat2(struct run_call *c)
{
	size_t size = ARG(3);
	if (size < 24) /* OPEN_HOW_SIZE_VER0 */
		return -EINVAL;
	if (size > 4096)
		return -E2BIG;
	char buf[4096];
	if (run_read_mem(c->pid, ARG(2), buf, size))
		return -EFAULT;
	for (size_t i = sizeof(struct open_how); i < size; i++)
		if (buf[i])
			return -E2BIG;
	struct open_how how;
	memcpy(&how, buf, sizeof(how));
	return do_open(c, IARG(0), ARG(1), &how, sizeof(how));
}

/* ----------------------------------------------------------------- stat */

static long h_newfstatat(struct run_call *c)
{
	struct stat st;
	long r = AT_CALL(IARG(0), ARG(1), IARG(3), uvfs_sbx_newfstatat(SBX, t.sfd, path, &st, IARG(3)));
	return c->cont ? 0 : put_out(c, r, ARG(2), &st, sizeof(st));
}
static long h_stat(struct run_call *c)
{
	struct stat st;
	long r = AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_newfstatat(SBX, t.sfd, path, &st, 0));
	return put_out(c, r, ARG(1), &st, sizeof(st));
}
static long h_lstat(struct run_call *c)
{
	struct stat st;
	long r = AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_newfstatat(SBX, t.sfd, path, &st, AT_SYMLINK_NOFOLLOW));
	return put_out(c, r, ARG(1), &st, sizeof(st));
}
static long h_statx(struct run_call *c)
{
	struct statx x;
	long r = AT_CALL(IARG(0), ARG(1), IARG(2),
			 uvfs_sbx_statx(SBX, t.sfd, path, IARG(2), (unsigned)ARG(3), &x));
	return c->cont ? 0 : put_out(c, r, ARG(4), &x, sizeof(x));
}
static long h_fstat(struct run_call *c)
{
	struct stat st;
	long r = FD_CALL(IARG(0), uvfs_sbx_fstat(SBX, t.sfd, &st));
	return c->cont ? 0 : put_out(c, r, ARG(1), &st, sizeof(st));
}
static long h_statfs(struct run_call *c)
{
	struct statfs sf;
	long r = AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_statfs(SBX, path, &sf));
	return put_out(c, r, ARG(1), &sf, sizeof(sf));
}
static long h_fstatfs(struct run_call *c)
{
	struct statfs sf;
	long r = FD_CALL(IARG(0), uvfs_sbx_fstatfs(SBX, t.sfd, &sf));
	return c->cont ? 0 : put_out(c, r, ARG(1), &sf, sizeof(sf));
}

/* --------------------------------------------------------------- access */

static long h_access(struct run_call *c)
{
	return AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_faccessat(SBX, t.sfd, path, IARG(1)));
}
static long h_faccessat(struct run_call *c)
{
	return AT_CALL(IARG(0), ARG(1), 0, uvfs_sbx_faccessat(SBX, t.sfd, path, IARG(2)));
}
static long h_faccessat2(struct run_call *c)
{
	return AT_CALL(IARG(0), ARG(1), IARG(3), uvfs_sbx_faccessat2(SBX, t.sfd, path, IARG(2), IARG(3)));
}

/* ------------------------------------------------------------ directories */

static long h_getdents64(struct run_call *c)
{
	size_t len = ARG(2) > (1u << 20) ? (1u << 20) : (size_t)ARG(2);
	char *buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	long n = FD_CALL(IARG(0), uvfs_sbx_getdents64(SBX, t.sfd, buf, len));
	if (!c->cont && n > 0 && run_write_mem(c->pid, ARG(1), buf, (size_t)n))
		n = -EFAULT;
	free(buf);
	return n;
}

static long h_lseek(struct run_call *c)
{
	int err;
	struct run_vfd *v = run_vfd_lookup(c->s, c->pid, IARG(0), &err);
	if (!err && (!v || v->type == RUN_VFD_REG)) {
		c->cont = true; /* a host file, or the memfd of a regular file */
		return 0;
	}
	return FD_CALL(IARG(0), uvfs_sbx_lseek(SBX, t.sfd, (off_t)ARG(1), IARG(2)));
}

static long h_mkdir(struct run_call *c)
{
	return AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_mkdirat(SBX, t.sfd, path, (mode_t)ARG(1)));
}
static long h_mkdirat(struct run_call *c)
{
	return AT_CALL(IARG(0), ARG(1), 0, uvfs_sbx_mkdirat(SBX, t.sfd, path, (mode_t)ARG(2)));
}
static long h_mknod(struct run_call *c)
{
	return AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_mknodat(SBX, t.sfd, path, (mode_t)ARG(1), (dev_t)ARG(2)));
}
static long h_mknodat(struct run_call *c)
{
	return AT_CALL(IARG(0), ARG(1), 0, uvfs_sbx_mknodat(SBX, t.sfd, path, (mode_t)ARG(2), (dev_t)ARG(3)));
}
static long h_unlink(struct run_call *c)
{
	return AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_unlinkat(SBX, t.sfd, path, 0));
}
static long h_rmdir(struct run_call *c)
{
	return AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_unlinkat(SBX, t.sfd, path, AT_REMOVEDIR));
}
static long h_unlinkat(struct run_call *c)
{
	return AT_CALL(IARG(0), ARG(1), 0, uvfs_sbx_unlinkat(SBX, t.sfd, path, IARG(2)));
}

/* Two (dirfd, path) pairs: rename and link. */
static long two_paths(struct run_call *c, int ofd, uint64_t oaddr, int oatfl, int nfd, uint64_t naddr,
		      long (*fn)(struct run_call *c, int, const char *, int, const char *, long), long arg)
{
	char op[PATH_MAX], np[PATH_MAX];
	struct tfd ot, nt = { .sfd = AT_FDCWD };
	long r = at_prep(c, ofd, oaddr, oatfl, op, &ot);
	if (r > 0) { /* linkat(hostfd, "", AT_EMPTY_PATH): not into the tree */
		c->cont = false;
		r = -EXDEV;
	}
	if (!r)
		r = at_prep(c, nfd, naddr, 0, np, &nt);
	if (r > 0) {
		c->cont = false;
		r = -ENOENT;
	}
	if (!r)
		r = fn(c, ot.sfd, op, nt.sfd, np, arg);
	tfd_put(c, &ot);
	tfd_put(c, &nt);
	return r;
}
static long rename_fn(struct run_call *c, int ofd, const char *op, int nfd, const char *np, long fl)
{
	return uvfs_sbx_renameat2(SBX, ofd, op, nfd, np, (unsigned)fl);
}
static long link_fn(struct run_call *c, int ofd, const char *op, int nfd, const char *np, long fl)
{
	return uvfs_sbx_linkat(SBX, ofd, op, nfd, np, (int)fl);
}
static long h_rename(struct run_call *c)
{
	return two_paths(c, AT_FDCWD, ARG(0), 0, AT_FDCWD, ARG(1), rename_fn, 0);
}
static long h_renameat(struct run_call *c)
{
	return two_paths(c, IARG(0), ARG(1), 0, IARG(2), ARG(3), rename_fn, 0);
}
static long h_renameat2(struct run_call *c)
{
	return two_paths(c, IARG(0), ARG(1), 0, IARG(2), ARG(3), rename_fn, (long)ARG(4));
}
static long h_link(struct run_call *c)
{
	return two_paths(c, AT_FDCWD, ARG(0), 0, AT_FDCWD, ARG(1), link_fn, 0);
}
static long h_linkat(struct run_call *c)
{
	return two_paths(c, IARG(0), ARG(1), IARG(4) & AT_EMPTY_PATH, IARG(2), ARG(3), link_fn, IARG(4));
}

static long do_symlink(struct run_call *c, uint64_t taddr, int dirfd, uint64_t addr)
{
	char target[PATH_MAX];
	int err = get_path(c, taddr, target);
	if (err)
		return err;
	return AT_CALL(dirfd, addr, 0, uvfs_sbx_symlinkat(SBX, target, t.sfd, path));
}
static long h_symlink(struct run_call *c)
{
	return do_symlink(c, ARG(0), AT_FDCWD, ARG(1));
}
static long h_symlinkat(struct run_call *c)
{
	return do_symlink(c, ARG(0), IARG(1), ARG(2));
}

static long do_readlink(struct run_call *c, int dirfd, uint64_t addr, uint64_t buf, int64_t size)
{
	if (size <= 0)
		return -EINVAL;
	char out[PATH_MAX];
	size_t len = size < PATH_MAX ? (size_t)size : PATH_MAX;
	long n = AT_CALL(dirfd, addr, AT_EMPTY_PATH, uvfs_sbx_readlinkat(SBX, t.sfd, path, out, len));
	if (c->cont) { /* readlinkat(hostfd, ""): host files here are never symlinks */
		c->cont = false;
		return -ENOENT;
	}
	return n > 0 ? put_out(c, n, buf, out, (size_t)n) : n;
}
static long h_readlink(struct run_call *c)
{
	return do_readlink(c, AT_FDCWD, ARG(0), ARG(1), (int64_t)ARG(2));
}
static long h_readlinkat(struct run_call *c)
{
	return do_readlink(c, IARG(0), ARG(1), ARG(2), (int64_t)ARG(3));
}

/* ------------------------------------------------------------ attributes */

static long h_chmod(struct run_call *c)
{
	return AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_fchmodat(SBX, t.sfd, path, (mode_t)ARG(1), 0));
}
static long h_fchmod(struct run_call *c)
{
	return FD_CALL(IARG(0), uvfs_sbx_fchmod(SBX, t.sfd, (mode_t)ARG(1)));
}
static long h_fchmodat(struct run_call *c)
{
	return AT_CALL(IARG(0), ARG(1), 0, uvfs_sbx_fchmodat(SBX, t.sfd, path, (mode_t)ARG(2), 0));
}
static long h_fchmodat2(struct run_call *c)
{
	return AT_CALL(IARG(0), ARG(1), IARG(3), uvfs_sbx_fchmodat(SBX, t.sfd, path, (mode_t)ARG(2), IARG(3)));
}
static long h_chown(struct run_call *c)
{
	return AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_fchownat(SBX, t.sfd, path, (uid_t)ARG(1), (gid_t)ARG(2), 0));
}
static long h_lchown(struct run_call *c)
{
	return AT_CALL(AT_FDCWD, ARG(0), 0,
		       uvfs_sbx_fchownat(SBX, t.sfd, path, (uid_t)ARG(1), (gid_t)ARG(2), AT_SYMLINK_NOFOLLOW));
}
static long h_fchown(struct run_call *c)
{
	return FD_CALL(IARG(0), uvfs_sbx_fchown(SBX, t.sfd, (uid_t)ARG(1), (gid_t)ARG(2)));
}
static long h_fchownat(struct run_call *c)
{
	return AT_CALL(IARG(0), ARG(1), IARG(4),
		       uvfs_sbx_fchownat(SBX, t.sfd, path, (uid_t)ARG(2), (gid_t)ARG(3), IARG(4)));
}

static long h_truncate(struct run_call *c)
{
	struct statx x;
	long r = AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_truncate(SBX, path, (off_t)ARG(1)));
	/* the memfd of an open regular file follows the new size */
	if (!r && !AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_statx(SBX, AT_FDCWD, path, 0, STATX_INO, &x)))
		run_vfd_truncated(c->s, &x, ARG(1));
	return r;
}

/* times from the tracee: timespec[2] (utimensat), timeval[2] (utimes,
 * futimesat) or utimbuf (utime); NULL: now. */
enum { TS_SPEC, TS_VAL, TS_UTIMBUF };
static int get_times(struct run_call *c, uint64_t addr, int kind, struct timespec ts[2], bool *null)
{
	*null = !addr;
	if (!addr)
		return 0;
	if (kind == TS_SPEC)
		return run_read_mem(c->pid, addr, ts, 2 * sizeof(*ts));
	if (kind == TS_UTIMBUF) {
		int64_t t[2];
		if (run_read_mem(c->pid, addr, t, sizeof(t)))
			return -EFAULT;
		ts[0] = (struct timespec){ t[0], 0 };
		ts[1] = (struct timespec){ t[1], 0 };
		return 0;
	}
	struct timeval tv[2];
	if (run_read_mem(c->pid, addr, tv, sizeof(tv)))
		return -EFAULT;
	for (int i = 0; i < 2; i++) {
		if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
			return -EINVAL;
		ts[i] = (struct timespec){ tv[i].tv_sec, tv[i].tv_usec * 1000 };
	}
	return 0;
}
static long do_utimes(struct run_call *c, int dirfd, uint64_t addr, uint64_t taddr, int kind, int fl)
{
	struct timespec ts[2];
	bool null;
	int err = get_times(c, taddr, kind, ts, &null);
	if (err)
		return err;
	if (!addr) /* futimens / futimesat(fd, NULL): the fd itself */
		return FD_CALL(dirfd, uvfs_sbx_utimensat(SBX, t.sfd, NULL, null ? NULL : ts, fl));
	return AT_CALL(dirfd, addr, fl, uvfs_sbx_utimensat(SBX, t.sfd, path, null ? NULL : ts, fl));
}
static long h_utimensat(struct run_call *c)
{
	return do_utimes(c, IARG(0), ARG(1), ARG(2), TS_SPEC, IARG(3));
}
static long h_utimes(struct run_call *c)
{
	return do_utimes(c, AT_FDCWD, ARG(0), ARG(1), TS_VAL, 0);
}
static long h_futimesat(struct run_call *c)
{
	return do_utimes(c, IARG(0), ARG(1), ARG(2), TS_VAL, 0);
}
static long h_utime(struct run_call *c)
{
	return do_utimes(c, AT_FDCWD, ARG(0), ARG(1), TS_UTIMBUF, 0);
}

/* ------------------------------------------------------------- cwd */

static long h_chdir(struct run_call *c)
{
	return AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_chdir(SBX, path));
}
static long h_fchdir(struct run_call *c)
{
	long r = FD_CALL(IARG(0), uvfs_sbx_fchdir(SBX, t.sfd));
	if (c->cont) { /* a host fd is never a directory of the tree */
		c->cont = false;
		r = -ENOTDIR;
	}
	return r;
}
static long h_getcwd(struct run_call *c)
{
	char buf[PATH_MAX];
	size_t size = ARG(1) < sizeof(buf) ? (size_t)ARG(1) : sizeof(buf);
	long n = uvfs_sbx_getcwd(SBX, buf, size);
	return n > 0 ? put_out(c, n, ARG(0), buf, (size_t)n) : n;
}
static long h_chroot(struct run_call *c)
{
	return AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_chroot(SBX, path));
}

/* ------------------------------------------------------------- xattrs */

#define XATTR_SIZE_MAX_RUN 65536

static int get_name(struct run_call *c, uint64_t addr, char *name)
{
	int err = run_read_path(c->pid, addr, name, 257);
	if (err == -ENAMETOOLONG || (!err && (strlen(name) > 255 || !name[0])))
		return -ERANGE;
	return err;
}

/* get/list: a value buffer copied out; set: copied in. */
static long xa(struct run_call *c, int kind, int op)
{
	char name[PATH_MAX];
	uint64_t vaddr = op == 'l' ? ARG(1) : ARG(2);
	size_t size = op == 'l' ? ARG(2) : ARG(3);
	int err = op == 'l' ? 0 : get_name(c, ARG(1), name);
	if (err)
		return err;
	if (op == 's' && size > XATTR_SIZE_MAX_RUN)
		return -E2BIG;
	if (size > XATTR_SIZE_MAX_RUN)
		size = XATTR_SIZE_MAX_RUN;
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	if (op == 's' && size && run_read_mem(c->pid, vaddr, buf, size)) {
		free(buf);
		return -EFAULT;
	}
	int fl = IARG(4);
	long r;
	if (kind == 'f') {
		r = op == 'g'	? FD_CALL(IARG(0), uvfs_sbx_fgetxattr(SBX, t.sfd, name, buf, size))
		    : op == 's' ? FD_CALL(IARG(0), uvfs_sbx_fsetxattr(SBX, t.sfd, name, buf, size, fl))
		    : op == 'l' ? FD_CALL(IARG(0), uvfs_sbx_flistxattr(SBX, t.sfd, buf, size))
				: FD_CALL(IARG(0), uvfs_sbx_fremovexattr(SBX, t.sfd, name));
	} else if (kind == 'l') {
		r = op == 'g'	? AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_lgetxattr(SBX, path, name, buf, size))
		    : op == 's' ? AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_lsetxattr(SBX, path, name, buf, size, fl))
		    : op == 'l' ? AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_llistxattr(SBX, path, buf, size))
				: AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_lremovexattr(SBX, path, name));
	} else {
		r = op == 'g'	? AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_getxattr(SBX, path, name, buf, size))
		    : op == 's' ? AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_setxattr(SBX, path, name, buf, size, fl))
		    : op == 'l' ? AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_listxattr(SBX, path, buf, size))
				: AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_removexattr(SBX, path, name));
	}
	if (!c->cont && r > 0 && size && (op == 'g' || op == 'l'))
		r = put_out(c, r, vaddr, buf, (size_t)r);
	free(buf);
	return r;
}
#define XA(kind, op, fname)                                                                                      \
	static long fname(struct run_call *c)                                                                    \
	{                                                                                                        \
		return xa(c, kind, op);                                                                          \
	}
XA('p', 'g', h_getxattr)
XA('l', 'g', h_lgetxattr)
XA('f', 'g', h_fgetxattr)
XA('p', 's', h_setxattr)
XA('l', 's', h_lsetxattr)
XA('f', 's', h_fsetxattr)
XA('p', 'l', h_listxattr)
XA('l', 'l', h_llistxattr)
XA('f', 'l', h_flistxattr)
XA('p', 'r', h_removexattr)
XA('l', 'r', h_lremovexattr)
XA('f', 'r', h_fremovexattr)

/* --------------------------------------------------------------- mounts */

static long h_mount(struct run_call *c)
{
	char src[PATH_MAX], type[256], data[4096];
	const char *srcp = NULL, *typep = NULL, *datap = NULL;
	int err;
	if (ARG(0) && (err = get_path(c, ARG(0), src)))
		return err;
	if (ARG(0))
		srcp = src;
	if (ARG(2)) {
		if ((err = run_read_path(c->pid, ARG(2), type, sizeof(type))))
			return err == -ENAMETOOLONG ? -ENODEV : err;
		typep = type;
	}
	if (ARG(4)) { /* a page at most, as the kernel's copy_mount_options */
		memset(data, 0, sizeof(data));
		err = run_read_path(c->pid, ARG(4), data, sizeof(data));
		if (err == -EFAULT)
			return err;
		data[sizeof(data) - 1] = 0;
		datap = data;
	}
	return AT_CALL(AT_FDCWD, ARG(1), 0, uvfs_sbx_mount(SBX, srcp, path, typep, ARG(3), datap));
}
static long h_umount2(struct run_call *c)
{
	return AT_CALL(AT_FDCWD, ARG(0), 0, uvfs_sbx_umount2(SBX, path, IARG(1)));
}

/* --------------------------------------------------------------- exec */

static long do_execve(struct run_call *c, int dirfd, uint64_t addr, uint64_t argv, int fl)
{
	if (fl & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	char path0[PATH_MAX] = "";
	int err;
	if (!addr && !(fl & AT_EMPTY_PATH))
		return -EFAULT;
	if (addr && (err = get_path(c, addr, path0)))
		return err;
	if ((!addr || !path0[0]) && (fl & AT_EMPTY_PATH)) {
		/* fexecve: the fd is a memfd holding the program (or a host
		 * file): the kernel can exec it as it is, once a tree file's
		 * interpreter is the tree's (exec.c swaps in the image) */
		err = run_exec_fd(c, dirfd);
		if (err)
			return err;
		run_caller_stale(c->s, c->st.tgid);
		c->cont = true;
		return 0;
	}
	/* the layer checks exec permission (not read), the type and noexec,
	 * and hands back the program opened for reading */
	struct uvfs_file *f = NULL;
	err = (int)AT_CALL(dirfd, addr, 0, uvfs_sbx_open_exec(SBX, t.sfd, path, fl, &f));
	if (err)
		return err;
	/* the kernel resolves our relative name in dirfd: a directory of the
	 * tree has a host placeholder directory (vfd.c) to put it in */
	char ldir[PATH_MAX];
	const char *linkdir = c->s->hostdir;
	if (dirfd != AT_FDCWD) {
		struct run_vfd *dv = run_vfd_lookup(c->s, c->pid, dirfd, &err);
		if (!dv || run_vfd_dir_path(c->s, dv, ldir)) {
			uvfs_file_put(f);
			return -ENOEXEC; /* an absolute path with a host dirfd */
		}
		linkdir = ldir;
	}
	long r = run_exec(c, f, addr, argv, linkdir);
	uvfs_file_put(f);
	run_caller_stale(c->s, c->st.tgid); /* exec recomputes capabilities */
	return r;
}
static long h_execve(struct run_call *c)
{
	return do_execve(c, AT_FDCWD, ARG(0), ARG(1), 0);
}
static long h_execveat(struct run_call *c)
{
	return do_execve(c, IARG(0), ARG(1), ARG(2), IARG(4));
}

/* ------------------------------------------------------ shared mappings */

/* mmap with PROT_WRITE and MAP_SHARED (the filter sends no other mmap):
 * stores to a file of the tree through it are found by hash (vfd.c). */
static long h_mmap(struct run_call *c)
{
	int err;
	struct run_vfd *v = run_vfd_lookup(c->s, c->pid, IARG(4), &err);
	if (v)
		run_vfd_mapped(c->s, v);
	c->cont = true;
	return 0;
}
/* msync: changed files were written back before this call (loop.c) */
static long h_msync(struct run_call *c)
{
	c->cont = true;
	return 0;
}

/* ------------------------------------------------- credential changes */

/* set*id, setgroups, capset, umask, prctl: the kernel does them; the
 * cached status of the process is read again at its next call. */
static long h_creds(struct run_call *c)
{
	run_caller_stale(c->s, c->st.tgid);
	c->cont = true;
	return 0;
}

/* --------------------------------------------- refused: never the host's */

static long h_eperm(struct run_call *c)
{
	return -EPERM;
}
static long h_enosys(struct run_call *c)
{
	return -ENOSYS;
}

/* -------------------------------------------------------------- table */

#define H(name, fn) { __NR_##name, #name, fn }
const struct run_handler run_handlers[] = {
	H(open, h_open), H(creat, h_creat), H(openat, h_openat), H(openat2, h_openat2),
	H(stat, h_stat), H(lstat, h_lstat), H(newfstatat, h_newfstatat), H(statx, h_statx), H(fstat, h_fstat),
	H(statfs, h_statfs), H(fstatfs, h_fstatfs),
	H(access, h_access), H(faccessat, h_faccessat), H(faccessat2, h_faccessat2),
	H(getdents64, h_getdents64), H(lseek, h_lseek),
	H(mkdir, h_mkdir), H(mkdirat, h_mkdirat), H(mknod, h_mknod), H(mknodat, h_mknodat),
	H(unlink, h_unlink), H(rmdir, h_rmdir), H(unlinkat, h_unlinkat),
	H(rename, h_rename), H(renameat, h_renameat), H(renameat2, h_renameat2),
	H(link, h_link), H(linkat, h_linkat), H(symlink, h_symlink), H(symlinkat, h_symlinkat),
	H(readlink, h_readlink), H(readlinkat, h_readlinkat),
	H(chmod, h_chmod), H(fchmod, h_fchmod), H(fchmodat, h_fchmodat), H(fchmodat2, h_fchmodat2),
	H(chown, h_chown), H(lchown, h_lchown), H(fchown, h_fchown), H(fchownat, h_fchownat),
	H(truncate, h_truncate),
	H(utimensat, h_utimensat), H(utimes, h_utimes), H(futimesat, h_futimesat), H(utime, h_utime),
	H(chdir, h_chdir), H(fchdir, h_fchdir), H(getcwd, h_getcwd),
	H(getxattr, h_getxattr), H(lgetxattr, h_lgetxattr), H(fgetxattr, h_fgetxattr),
	H(setxattr, h_setxattr), H(lsetxattr, h_lsetxattr), H(fsetxattr, h_fsetxattr),
	H(listxattr, h_listxattr), H(llistxattr, h_llistxattr), H(flistxattr, h_flistxattr),
	H(removexattr, h_removexattr), H(lremovexattr, h_lremovexattr), H(fremovexattr, h_fremovexattr),
	H(execve, h_execve), H(execveat, h_execveat), H(mmap, h_mmap), H(msync, h_msync),
	H(mprotect, run_h_mprotect), H(pkey_mprotect, run_h_mprotect),
	H(setuid, h_creds), H(setgid, h_creds), H(setreuid, h_creds), H(setregid, h_creds),
	H(setresuid, h_creds), H(setresgid, h_creds), H(setfsuid, h_creds), H(setfsgid, h_creds),
	H(setgroups, h_creds), H(capset, h_creds), H(umask, h_creds), H(prctl, h_creds),
	/* path-taking calls we do not serve: an errno, never the host's file */
	H(chroot, h_chroot), H(mount, h_mount), H(umount2, h_umount2), H(pivot_root, h_eperm),
	H(swapon, h_eperm), H(swapoff, h_eperm), H(acct, h_eperm), H(quotactl, h_eperm),
	H(name_to_handle_at, h_eperm), H(open_by_handle_at, h_eperm),
	H(open_tree, h_eperm), H(move_mount, h_eperm), H(fsopen, h_eperm), H(fspick, h_eperm),
	H(mount_setattr, h_eperm),
	/* fork bound (fork.c): EAGAIN past --max-tasks processes, else on */
	H(clone, run_h_clone), H(clone3, run_h_clone3), H(fork, run_h_fork), H(vfork, run_h_fork),
	H(inotify_add_watch, h_enosys), H(fanotify_mark, h_enosys), H(uselib, h_enosys),
	/* pty.c: TIOCGPTN, TIOCGPTPEER, TIOCSPTLCK only (filter.c) */
	H(ioctl, run_h_ioctl),
};
const size_t run_nhandlers = sizeof(run_handlers) / sizeof(run_handlers[0]);

void run_dispatch(struct run_call *c)
{
	long r = -ENOSYS;
	/* the task acts with the caller's ids and umask as they are now */
	int err = uvfs_sbx_task_set_cred(c->task->sbx, &c->st.cred);
	if (err)
		r = err;
	uvfs_sbx_umask(c->task->sbx, c->st.umask);
	run_pty_before(c);
	for (size_t i = 0; !err && i < run_nhandlers; i++)
		if (run_handlers[i].nr == c->req->data.nr) {
			r = run_handlers[i].fn(c);
			break;
		}
	c->resp->id = c->req->id;
	if (c->cont) {
		c->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		c->resp->val = 0;
		c->resp->error = 0;
	} else if (r < 0) {
		c->resp->flags = 0;
		c->resp->val = 0;
		c->resp->error = (int32_t)r;
	} else {
		c->resp->flags = 0;
		c->resp->val = r;
		c->resp->error = 0;
	}
}
