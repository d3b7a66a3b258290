/* sandbox/run/dispatch.c — the syscall handlers and the dispatch table.
 *
 * Each handler copies its arguments out of the tracee (mem.c), re-checks
 * that the notification is still live (SECCOMP_IOCTL_NOTIF_ID_VALID: the
 * pid we read from is still the caller), acts on the tree with the
 * caller's credentials and umask from /proc/<pid>/status, and copies
 * results back. Calls on host fds (stdin, pipes, sockets: anything that is
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

/* -------------------------------------------------------------- helpers */

/* Reads a path argument, then checks the notification is still live. */
static int get_path(struct run_call *c, uint64_t addr, char *buf)
{
	int err = run_read_path(c->pid, addr, buf, PATH_MAX);
	if (!err && !run_id_valid(c))
		err = -ESRCH;
	return err;
}

/* Resolves (dirfd, path addr, AT_* flags) to a pathop. *host: the call is
 * on a host fd with an empty path: let the kernel do it. follow: whether
 * the final symlink is followed without AT_SYMLINK_NOFOLLOW. */
static int path_at(struct run_call *c, int dirfd, uint64_t addr, int atflags, bool follow, char *buf,
		   struct uvfs_pathop *pop, bool *host)
{
	int err;
	*host = false;
	if (!addr && (atflags & AT_EMPTY_PATH)) {
		buf[0] = 0; /* Linux >= 6.11: NULL with AT_EMPTY_PATH is "" */
	} else if ((err = get_path(c, addr, buf)))
		return err;
	*pop = (struct uvfs_pathop){ .root = c->s->root, .start = c->task->cwd, .path = buf };
	if (follow && !(atflags & AT_SYMLINK_NOFOLLOW))
		pop->flags |= UVFS_PATH_FOLLOW;
	if (buf[0] == '/')
		return 0;
	bool empty = !buf[0] && (atflags & AT_EMPTY_PATH);
	if (empty)
		pop->flags |= UVFS_PATH_EMPTY;
	if (dirfd == AT_FDCWD)
		return 0;
	struct run_vfd *v = run_vfd_lookup(c->s, c->pid, dirfd, &err);
	if (err)
		return err;
	if (!v) {
		if (empty) {
			*host = true;
			return 0;
		}
		return -ENOTDIR;
	}
	if (v->type != RUN_VFD_DIR && !empty)
		return -ENOTDIR;
	pop->start = v->vd;
	return 0;
}

static struct uvfs_pathop vd_pop(struct run_call *c, const struct run_vfd *v)
{
	return (struct uvfs_pathop){ .root = c->s->root, .start = v->vd, .path = "", .flags = UVFS_PATH_EMPTY };
}

/* The vfd behind fd, or *host when fd is a host file. */
static int fd_vfd(struct run_call *c, int fd, struct run_vfd **v, bool *host)
{
	int err;
	*v = run_vfd_lookup(c->s, c->pid, fd, &err);
	*host = !err && !*v;
	return err;
}

static const struct uvfs_cred *cred(struct run_call *c)
{
	return &c->st.cred;
}

static mode_t umasked(struct run_call *c, mode_t mode)
{
	return mode & ~c->st.umask & 07777;
}

/* ----------------------------------------------------------------- open */

static long do_open(struct run_call *c, int dirfd, uint64_t addr, int flags, mode_t mode, unsigned resolve)
{
	char path[PATH_MAX];
	struct uvfs_pathop pop;
	bool host;
	int err = path_at(c, dirfd, addr, 0, !(flags & O_NOFOLLOW), path, &pop, &host);
	if (err)
		return err;
	pop.flags |= resolve << 8;
	if (flags & (O_CREAT | __O_TMPFILE))
		mode = umasked(c, mode);
	struct uvfs_file *f;
	err = uvfs_open_at(c->s->vfs, cred(c), &pop, flags & ~O_CLOEXEC, mode, 0, &f);
	if (err)
		return err;
	return run_vfd_install(c->s, c->req->id, f, flags);
}

static long h_open(struct run_call *c)
{
	return do_open(c, AT_FDCWD, ARG(0), IARG(1), (mode_t)ARG(2), 0);
}
static long h_creat(struct run_call *c)
{
	return do_open(c, AT_FDCWD, ARG(0), O_CREAT | O_WRONLY | O_TRUNC, (mode_t)ARG(1), 0);
}
static long h_openat(struct run_call *c)
{
	return do_open(c, IARG(0), ARG(1), IARG(2), (mode_t)ARG(3), 0);
}
static long h_openat2(struct run_call *c)
{
	struct open_how how;
	if (ARG(3) < sizeof(how))
		return -EINVAL;
	if (run_read_mem(c->pid, ARG(2), &how, sizeof(how)))
		return -EFAULT;
	if (how.flags > INT_MAX || how.mode > 07777 || (how.resolve & ~0x3fULL))
		return -EINVAL;
	return do_open(c, IARG(0), ARG(1), (int)how.flags, (mode_t)how.mode, (unsigned)how.resolve);
}

/* ----------------------------------------------------------------- stat */

static void to_stat(const struct statx *x, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(x->stx_dev_major, x->stx_dev_minor);
	st->st_ino = x->stx_ino;
	st->st_nlink = x->stx_nlink;
	st->st_mode = x->stx_mode;
	st->st_uid = x->stx_uid;
	st->st_gid = x->stx_gid;
	st->st_rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor);
	st->st_size = (off_t)x->stx_size;
	st->st_blksize = x->stx_blksize;
	st->st_blocks = (blkcnt_t)x->stx_blocks;
	st->st_atim = (struct timespec){ x->stx_atime.tv_sec, x->stx_atime.tv_nsec };
	st->st_mtim = (struct timespec){ x->stx_mtime.tv_sec, x->stx_mtime.tv_nsec };
	st->st_ctim = (struct timespec){ x->stx_ctime.tv_sec, x->stx_ctime.tv_nsec };
}

static long stat_common(struct run_call *c, int dirfd, uint64_t addr, int atflags, uint64_t out, bool is_statx,
			unsigned mask)
{
	char path[PATH_MAX];
	struct uvfs_pathop pop;
	bool host;
	int err = path_at(c, dirfd, addr, atflags, true, path, &pop, &host);
	if (err)
		return err;
	if (host) {
		c->cont = true;
		return 0;
	}
	struct statx x;
	err = uvfs_stat_at(c->s->vfs, cred(c), &pop, is_statx ? mask | STATX_BASIC_STATS : STATX_BASIC_STATS, &x);
	if (err)
		return err;
	if (is_statx)
		return run_write_mem(c->pid, out, &x, sizeof(x));
	struct stat st;
	to_stat(&x, &st);
	return run_write_mem(c->pid, out, &st, sizeof(st));
}

static long h_stat(struct run_call *c)
{
	return stat_common(c, AT_FDCWD, ARG(0), 0, ARG(1), false, 0);
}
static long h_lstat(struct run_call *c)
{
	return stat_common(c, AT_FDCWD, ARG(0), AT_SYMLINK_NOFOLLOW, ARG(1), false, 0);
}
static long h_newfstatat(struct run_call *c)
{
	int fl = IARG(3);
	if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	return stat_common(c, IARG(0), ARG(1), fl, ARG(2), false, 0);
}
static long h_statx(struct run_call *c)
{
	int fl = IARG(2);
	if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if ((fl & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || (ARG(3) & STATX__RESERVED))
		return -EINVAL;
	return stat_common(c, IARG(0), ARG(1), fl, ARG(4), true, (unsigned)ARG(3));
}
static long h_fstat(struct run_call *c)
{
	struct run_vfd *v;
	bool host;
	int err = fd_vfd(c, IARG(0), &v, &host);
	if (err || host) {
		c->cont = host;
		return err;
	}
	struct uvfs_pathop pop = vd_pop(c, v);
	struct statx x;
	err = uvfs_stat_at(c->s->vfs, cred(c), &pop, STATX_BASIC_STATS, &x);
	if (err)
		return err;
	struct stat st;
	to_stat(&x, &st);
	return run_write_mem(c->pid, ARG(1), &st, sizeof(st));
}

static long statfs_common(struct run_call *c, struct uvfs_pathop *pop, uint64_t out)
{
	struct statfs sf;
	int err = uvfs_statfs_at(c->s->vfs, cred(c), pop, &sf);
	return err ? err : run_write_mem(c->pid, out, &sf, sizeof(sf));
}
static long h_statfs(struct run_call *c)
{
	char path[PATH_MAX];
	struct uvfs_pathop pop;
	bool host;
	int err = path_at(c, AT_FDCWD, ARG(0), 0, true, path, &pop, &host);
	return err ? err : statfs_common(c, &pop, ARG(1));
}
static long h_fstatfs(struct run_call *c)
{
	struct run_vfd *v;
	bool host;
	int err = fd_vfd(c, IARG(0), &v, &host);
	if (err || host) {
		c->cont = host;
		return err;
	}
	struct uvfs_pathop pop = vd_pop(c, v);
	return statfs_common(c, &pop, ARG(1));
}

/* --------------------------------------------------------------- access */

static long access_common(struct run_call *c, int dirfd, uint64_t addr, int mode, int fl)
{
	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (fl & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	char path[PATH_MAX];
	struct uvfs_pathop pop;
	bool host;
	int err = path_at(c, dirfd, addr, fl, true, path, &pop, &host);
	if (err)
		return err;
	if (host) {
		c->cont = true;
		return 0;
	}
	struct uvfs_cred cr = c->st.cred;
	if (!(fl & AT_EACCESS)) {
		/* access(2) checks the real ids; root keeps its capabilities */
		cr.fsuid = cr.uid;
		cr.fsgid = cr.gid;
		if (cr.uid != 0)
			cr.caps = 0;
	}
	return uvfs_access_at(c->s->vfs, &cr, &pop, mode);
}
static long h_access(struct run_call *c)
{
	return access_common(c, AT_FDCWD, ARG(0), IARG(1), 0);
}
static long h_faccessat(struct run_call *c)
{
	return access_common(c, IARG(0), ARG(1), IARG(2), 0);
}
static long h_faccessat2(struct run_call *c)
{
	return access_common(c, IARG(0), ARG(1), IARG(2), IARG(3));
}

/* ------------------------------------------------------------ directories */

static long h_getdents64(struct run_call *c)
{
	struct run_vfd *v;
	bool host;
	int err = fd_vfd(c, IARG(0), &v, &host);
	if (err || host) {
		c->cont = host;
		return err;
	}
	if (v->type != RUN_VFD_DIR)
		return -ENOTDIR;
	size_t len = ARG(2) > (1u << 20) ? (1u << 20) : (size_t)ARG(2);
	char *buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	ssize_t n = uvfs_getdents64(v->file, buf, len);
	if (n > 0 && run_write_mem(c->pid, ARG(1), buf, (size_t)n))
		n = -EFAULT;
	free(buf);
	return n;
}

static long h_lseek(struct run_call *c)
{
	struct run_vfd *v;
	bool host;
	int err = fd_vfd(c, IARG(0), &v, &host);
	if (err || host || v->type == RUN_VFD_REG) {
		c->cont = !err;
		return err;
	}
	return uvfs_seek(v->file, (off_t)ARG(1), IARG(2));
}

static long do_mkdir(struct run_call *c, int dirfd, uint64_t addr, mode_t mode)
{
	char path[PATH_MAX];
	struct uvfs_pathop pop;
	bool host;
	int err = path_at(c, dirfd, addr, 0, false, path, &pop, &host);
	return err ? err : uvfs_mkdir_at(c->s->vfs, cred(c), &pop, umasked(c, mode));
}
static long h_mkdir(struct run_call *c)
{
	return do_mkdir(c, AT_FDCWD, ARG(0), (mode_t)ARG(1));
}
static long h_mkdirat(struct run_call *c)
{
	return do_mkdir(c, IARG(0), ARG(1), (mode_t)ARG(2));
}

static long do_mknod(struct run_call *c, int dirfd, uint64_t addr, mode_t mode, dev_t dev)
{
	char path[PATH_MAX];
	struct uvfs_pathop pop;
	bool host;
	int err = path_at(c, dirfd, addr, 0, false, path, &pop, &host);
	if (err)
		return err;
	if (!(mode & S_IFMT))
		mode |= S_IFREG;
	return uvfs_mknod_at(c->s->vfs, cred(c), &pop, (mode & S_IFMT) | umasked(c, mode), dev);
}
static long h_mknod(struct run_call *c)
{
	return do_mknod(c, AT_FDCWD, ARG(0), (mode_t)ARG(1), (dev_t)ARG(2));
}
static long h_mknodat(struct run_call *c)
{
	return do_mknod(c, IARG(0), ARG(1), (mode_t)ARG(2), (dev_t)ARG(3));
}

static long do_unlink(struct run_call *c, int dirfd, uint64_t addr, int fl)
{
	if (fl & ~AT_REMOVEDIR)
		return -EINVAL;
	char path[PATH_MAX];
	struct uvfs_pathop pop;
	bool host;
	int err = path_at(c, dirfd, addr, 0, false, path, &pop, &host);
	if (err)
		return err;
	return fl ? uvfs_rmdir_at(c->s->vfs, cred(c), &pop) : uvfs_unlink_at(c->s->vfs, cred(c), &pop);
}
static long h_unlink(struct run_call *c)
{
	return do_unlink(c, AT_FDCWD, ARG(0), 0);
}
static long h_rmdir(struct run_call *c)
{
	return do_unlink(c, AT_FDCWD, ARG(0), AT_REMOVEDIR);
}
static long h_unlinkat(struct run_call *c)
{
	return do_unlink(c, IARG(0), ARG(1), IARG(2));
}

static long do_rename(struct run_call *c, int ofd, uint64_t oaddr, int nfd, uint64_t naddr, unsigned fl)
{
	char op[PATH_MAX], np[PATH_MAX];
	struct uvfs_pathop opop, npop;
	bool host;
	int err = path_at(c, ofd, oaddr, 0, false, op, &opop, &host);
	if (!err)
		err = path_at(c, nfd, naddr, 0, false, np, &npop, &host);
	return err ? err : uvfs_rename_at(c->s->vfs, cred(c), &opop, &npop, fl);
}
static long h_rename(struct run_call *c)
{
	return do_rename(c, AT_FDCWD, ARG(0), AT_FDCWD, ARG(1), 0);
}
static long h_renameat(struct run_call *c)
{
	return do_rename(c, IARG(0), ARG(1), IARG(2), ARG(3), 0);
}
static long h_renameat2(struct run_call *c)
{
	return do_rename(c, IARG(0), ARG(1), IARG(2), ARG(3), (unsigned)ARG(4));
}

static long do_link(struct run_call *c, int ofd, uint64_t oaddr, int nfd, uint64_t naddr, int fl)
{
	if (fl & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	char op[PATH_MAX], np[PATH_MAX];
	struct uvfs_pathop opop, npop;
	bool host;
	int err = path_at(c, ofd, oaddr, fl & AT_EMPTY_PATH, false, op, &opop, &host);
	if (!err && host)
		err = -EXDEV; /* a host file cannot be linked into the tree */
	if (!err && (fl & AT_SYMLINK_FOLLOW))
		opop.flags |= UVFS_PATH_FOLLOW;
	if (!err)
		err = path_at(c, nfd, naddr, 0, false, np, &npop, &host);
	return err ? err : uvfs_link_at(c->s->vfs, cred(c), &opop, &npop);
}
static long h_link(struct run_call *c)
{
	return do_link(c, AT_FDCWD, ARG(0), AT_FDCWD, ARG(1), 0);
}
static long h_linkat(struct run_call *c)
{
	return do_link(c, IARG(0), ARG(1), IARG(2), ARG(3), IARG(4));
}

static long do_symlink(struct run_call *c, uint64_t taddr, int dirfd, uint64_t addr)
{
	char target[PATH_MAX], path[PATH_MAX];
	struct uvfs_pathop pop;
	bool host;
	int err = get_path(c, taddr, target);
	if (!err)
		err = path_at(c, dirfd, addr, 0, false, path, &pop, &host);
	return err ? err : uvfs_symlink_at(c->s->vfs, cred(c), target, &pop);
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
	char path[PATH_MAX], out[PATH_MAX];
	struct uvfs_pathop pop;
	bool host;
	int err = path_at(c, dirfd, addr, AT_EMPTY_PATH, false, path, &pop, &host);
	if (err)
		return err;
	if (host || !path[0]) {
		if (host)
			return -ENOENT; /* readlinkat(fd, "") on a non-symlink host file */
	}
	ssize_t n = uvfs_readlink_at(c->s->vfs, cred(c), &pop, out, size < PATH_MAX ? (size_t)size : PATH_MAX);
	if (n > 0 && run_write_mem(c->pid, buf, out, (size_t)n))
		return -EFAULT;
	return n;
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

static long setattr_common(struct run_call *c, int dirfd, uint64_t addr, int fl, bool fdcall,
			   const struct uvfs_setattr *a, unsigned sflags)
{
	char path[PATH_MAX];
	struct uvfs_pathop pop;
	bool host;
	int err;
	if (fdcall) {
		struct run_vfd *v;
		err = fd_vfd(c, dirfd, &v, &host);
		if (err || host) {
			c->cont = host;
			return err;
		}
		pop = vd_pop(c, v);
	} else {
		err = path_at(c, dirfd, addr, fl, true, path, &pop, &host);
		if (err)
			return err;
		if (host) {
			c->cont = true;
			return 0;
		}
	}
	err = uvfs_setstat_at(c->s->vfs, cred(c), &pop, a, sflags);
	if (!err && (a->mask & STATX_SIZE)) {
		struct statx x;
		if (!uvfs_stat_at(c->s->vfs, cred(c), &pop, STATX_INO, &x))
			run_vfd_truncated(c->s, &x, a->size);
	}
	return err;
}

static long h_chmod(struct run_call *c)
{
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = (mode_t)ARG(1) & 07777 };
	return setattr_common(c, AT_FDCWD, ARG(0), 0, false, &a, 0);
}
static long h_fchmod(struct run_call *c)
{
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = (mode_t)ARG(1) & 07777 };
	return setattr_common(c, IARG(0), 0, 0, true, &a, 0);
}
static long h_fchmodat(struct run_call *c)
{
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = (mode_t)ARG(2) & 07777 };
	return setattr_common(c, IARG(0), ARG(1), 0, false, &a, 0);
}
static long h_fchmodat2(struct run_call *c)
{
	int fl = IARG(3);
	if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (fl & AT_SYMLINK_NOFOLLOW)
		return -EOPNOTSUPP; /* Linux: symlinks have no mode of their own */
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = (mode_t)ARG(2) & 07777 };
	return setattr_common(c, IARG(0), ARG(1), fl, false, &a, 0);
}

static struct uvfs_setattr chown_attr(uint64_t uid, uint64_t gid)
{
	struct uvfs_setattr a = { .uid = (uint32_t)uid, .gid = (uint32_t)gid };
	if ((uint32_t)uid != (uint32_t)-1)
		a.mask |= STATX_UID;
	if ((uint32_t)gid != (uint32_t)-1)
		a.mask |= STATX_GID;
	if (!a.mask) /* chown(f, -1, -1) still is a chown: ctime */
		a.mask = STATX_UID;
	return a;
}
static long h_chown(struct run_call *c)
{
	struct uvfs_setattr a = chown_attr(ARG(1), ARG(2));
	return setattr_common(c, AT_FDCWD, ARG(0), 0, false, &a, 0);
}
static long h_lchown(struct run_call *c)
{
	struct uvfs_setattr a = chown_attr(ARG(1), ARG(2));
	return setattr_common(c, AT_FDCWD, ARG(0), AT_SYMLINK_NOFOLLOW, false, &a, 0);
}
static long h_fchown(struct run_call *c)
{
	struct uvfs_setattr a = chown_attr(ARG(1), ARG(2));
	return setattr_common(c, IARG(0), 0, 0, true, &a, 0);
}
static long h_fchownat(struct run_call *c)
{
	int fl = IARG(4);
	if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct uvfs_setattr a = chown_attr(ARG(2), ARG(3));
	return setattr_common(c, IARG(0), ARG(1), fl, false, &a, 0);
}

static long h_truncate(struct run_call *c)
{
	if ((int64_t)ARG(1) < 0)
		return -EINVAL;
	struct uvfs_setattr a = { .mask = STATX_SIZE, .size = ARG(1) };
	return setattr_common(c, AT_FDCWD, ARG(0), 0, false, &a, UVFS_SETATTR_NEED_WRITE);
}

static int times_attr(struct run_call *c, uint64_t addr, bool timeval, struct uvfs_setattr *a)
{
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	if (addr && timeval) {
		struct timeval tv[2];
		if (run_read_mem(c->pid, addr, tv, sizeof(tv)))
			return -EFAULT;
		for (int i = 0; i < 2; i++) {
			if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
				return -EINVAL;
			ts[i] = (struct timespec){ tv[i].tv_sec, tv[i].tv_usec * 1000 };
		}
	} else if (addr) {
		if (run_read_mem(c->pid, addr, ts, sizeof(ts)))
			return -EFAULT;
		for (int i = 0; i < 2; i++)
			if (ts[i].tv_nsec != UTIME_NOW && ts[i].tv_nsec != UTIME_OMIT &&
			    (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000))
				return -EINVAL;
	}
	*a = (struct uvfs_setattr){ .atime = ts[0], .mtime = ts[1] };
	if (ts[0].tv_nsec != UTIME_OMIT)
		a->mask |= STATX_ATIME;
	if (ts[1].tv_nsec != UTIME_OMIT)
		a->mask |= STATX_MTIME;
	return 0;
}
static long h_utimensat(struct run_call *c)
{
	int fl = IARG(3);
	if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct uvfs_setattr a;
	int err = times_attr(c, ARG(2), false, &a);
	if (err)
		return err;
	if (!a.mask)
		return 0;
	if (!ARG(1)) /* futimens: the fd itself */
		return setattr_common(c, IARG(0), 0, 0, true, &a, 0);
	return setattr_common(c, IARG(0), ARG(1), fl, false, &a, 0);
}
static long h_utimes(struct run_call *c)
{
	struct uvfs_setattr a;
	int err = times_attr(c, ARG(1), true, &a);
	return err ? err : setattr_common(c, AT_FDCWD, ARG(0), 0, false, &a, 0);
}
static long h_futimesat(struct run_call *c)
{
	struct uvfs_setattr a;
	int err = times_attr(c, ARG(2), true, &a);
	if (err)
		return err;
	if (!ARG(1))
		return setattr_common(c, IARG(0), 0, 0, true, &a, 0);
	return setattr_common(c, IARG(0), ARG(1), 0, false, &a, 0);
}
static long h_utime(struct run_call *c)
{
	struct uvfs_setattr a;
	int err;
	if (ARG(1)) {
		int64_t t[2]; /* struct utimbuf: actime, modtime */
		if (run_read_mem(c->pid, ARG(1), t, sizeof(t)))
			return -EFAULT;
		a = (struct uvfs_setattr){ .mask = STATX_ATIME | STATX_MTIME, .atime = { t[0], 0 }, .mtime = { t[1], 0 } };
	} else if ((err = times_attr(c, 0, false, &a)))
		return err;
	return setattr_common(c, AT_FDCWD, ARG(0), 0, false, &a, 0);
}

/* ------------------------------------------------------------- cwd */

static long set_cwd(struct run_call *c, struct uvfs_pathop *pop)
{
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(c->s->vfs, cred(c), pop, UVFS_GET_SEARCHABLE, &vd);
	if (err)
		return err;
	uvfs_vd_put(&c->task->cwd);
	c->task->cwd = vd;
	return 0;
}
static long h_chdir(struct run_call *c)
{
	char path[PATH_MAX];
	struct uvfs_pathop pop;
	bool host;
	int err = path_at(c, AT_FDCWD, ARG(0), 0, true, path, &pop, &host);
	return err ? err : set_cwd(c, &pop);
}
static long h_fchdir(struct run_call *c)
{
	struct run_vfd *v;
	bool host;
	int err = fd_vfd(c, IARG(0), &v, &host);
	if (err)
		return err;
	if (host || v->type != RUN_VFD_DIR)
		return -ENOTDIR;
	struct uvfs_pathop pop = vd_pop(c, v);
	return set_cwd(c, &pop);
}
static long h_getcwd(struct run_call *c)
{
	char buf[PATH_MAX];
	size_t size = ARG(1) < sizeof(buf) ? (size_t)ARG(1) : sizeof(buf);
	ssize_t n = uvfs_vd_path(c->s->vfs, &c->s->root, &c->task->cwd, buf, size, UVFS_VD_PATH_GETCWD);
	if (n < 0)
		return n;
	if (run_write_mem(c->pid, ARG(0), buf, (size_t)n + 1))
		return -EFAULT;
	return n + 1;
}

/* ------------------------------------------------------------- xattrs */

/* Which xattr call: path (follow or not) or fd; the first argument. */
enum { XA_PATH, XA_LPATH, XA_FD };

static int xattr_target(struct run_call *c, int kind, char *path, struct uvfs_pathop *pop)
{
	bool host;
	int err;
	if (kind == XA_FD) {
		struct run_vfd *v;
		err = fd_vfd(c, IARG(0), &v, &host);
		if (err || host) {
			c->cont = host;
			return err ? err : 1;
		}
		*pop = vd_pop(c, v);
		return 0;
	}
	return path_at(c, AT_FDCWD, ARG(0), kind == XA_LPATH ? AT_SYMLINK_NOFOLLOW : 0, true, path, pop, &host);
}

static int xattr_name(struct run_call *c, uint64_t addr, char *name)
{
	char buf[PATH_MAX];
	int err = run_read_path(c->pid, addr, buf, 257);
	if (err == -ENAMETOOLONG || (!err && strlen(buf) > 255))
		return -ERANGE;
	if (!err && !buf[0])
		return -ERANGE;
	if (!err)
		strcpy(name, buf);
	return err;
}

static long xa_get(struct run_call *c, int kind)
{
	char path[PATH_MAX], name[256];
	struct uvfs_pathop pop;
	int err = xattr_target(c, kind, path, &pop);
	if (err)
		return err > 0 ? 0 : err;
	if ((err = xattr_name(c, ARG(1), name)))
		return err;
	size_t size = ARG(3) > 65536 ? 65536 : (size_t)ARG(3);
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	ssize_t n = uvfs_getxattr_at(c->s->vfs, cred(c), &pop, name, buf, size);
	if (n > 0 && size && run_write_mem(c->pid, ARG(2), buf, (size_t)n))
		n = -EFAULT;
	free(buf);
	return n;
}
static long xa_set(struct run_call *c, int kind)
{
	char path[PATH_MAX], name[256];
	struct uvfs_pathop pop;
	int err = xattr_target(c, kind, path, &pop);
	if (err)
		return err > 0 ? 0 : err;
	if ((err = xattr_name(c, ARG(1), name)))
		return err;
	if (ARG(3) > 65536)
		return -E2BIG;
	char *buf = malloc(ARG(3) ? ARG(3) : 1);
	if (!buf)
		return -ENOMEM;
	err = ARG(3) && run_read_mem(c->pid, ARG(2), buf, ARG(3)) ? -EFAULT : 0;
	if (!err)
		err = uvfs_setxattr_at(c->s->vfs, cred(c), &pop, name, buf, ARG(3), IARG(4));
	free(buf);
	return err;
}
static long xa_list(struct run_call *c, int kind)
{
	char path[PATH_MAX];
	struct uvfs_pathop pop;
	int err = xattr_target(c, kind, path, &pop);
	if (err)
		return err > 0 ? 0 : err;
	size_t size = ARG(2) > 65536 ? 65536 : (size_t)ARG(2);
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	ssize_t n = uvfs_listxattr_at(c->s->vfs, cred(c), &pop, buf, size);
	if (n > 0 && size && run_write_mem(c->pid, ARG(1), buf, (size_t)n))
		n = -EFAULT;
	free(buf);
	return n;
}
static long xa_remove(struct run_call *c, int kind)
{
	char path[PATH_MAX], name[256];
	struct uvfs_pathop pop;
	int err = xattr_target(c, kind, path, &pop);
	if (err)
		return err > 0 ? 0 : err;
	if ((err = xattr_name(c, ARG(1), name)))
		return err;
	return uvfs_removexattr_at(c->s->vfs, cred(c), &pop, name);
}
#define XA(op, kind)                                                                                             \
	static long h_##kind##op(struct run_call *c)                                                             \
	{                                                                                                        \
		return xa_##op(c, kind);                                                                         \
	}
XA(get, XA_PATH)
XA(get, XA_LPATH)
XA(get, XA_FD)
XA(set, XA_PATH)
XA(set, XA_LPATH)
XA(set, XA_FD)
XA(list, XA_PATH)
XA(list, XA_LPATH)
XA(list, XA_FD)
XA(remove, XA_PATH)
XA(remove, XA_LPATH)
XA(remove, XA_FD)

/* --------------------------------------------------------------- exec */

static long do_execve(struct run_call *c, int dirfd, uint64_t addr, uint64_t argv, int fl)
{
	char path[PATH_MAX];
	struct uvfs_pathop pop;
	bool host;
	if (fl & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	int err = path_at(c, dirfd, addr, fl, true, path, &pop, &host);
	if (err)
		return err;
	if (host || (pop.flags & UVFS_PATH_EMPTY)) {
		/* fexecve: the fd is a memfd holding the program (or a host
		 * file): the kernel can exec it as it is. */
		c->cont = true;
		return 0;
	}
	if (dirfd != AT_FDCWD && path[0] != '/')
		return -ENOEXEC; /* our rewritten name is relative to the host cwd, not dirfd */
	/* exec needs search and execute permission only (not read): check
	 * as the task, then read the content with the supervisor's rights */
	err = uvfs_access_at(c->s->vfs, cred(c), &pop, X_OK);
	if (err)
		return err;
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	struct uvfs_file *f;
	err = uvfs_open_at(c->s->vfs, &root, &pop, O_RDONLY, 0, UVFS_OPEN_EXEC, &f);
	if (err)
		return err;
	long r = run_exec(c, f, addr, argv);
	uvfs_file_put(f);
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
	H(getxattr, h_XA_PATHget), H(lgetxattr, h_XA_LPATHget), H(fgetxattr, h_XA_FDget),
	H(setxattr, h_XA_PATHset), H(lsetxattr, h_XA_LPATHset), H(fsetxattr, h_XA_FDset),
	H(listxattr, h_XA_PATHlist), H(llistxattr, h_XA_LPATHlist), H(flistxattr, h_XA_FDlist),
	H(removexattr, h_XA_PATHremove), H(lremovexattr, h_XA_LPATHremove), H(fremovexattr, h_XA_FDremove),
	H(execve, h_execve), H(execveat, h_execveat),
	/* path-taking calls we do not serve: an errno, never the host's file */
	H(chroot, h_eperm), H(mount, h_eperm), H(umount2, h_eperm), H(pivot_root, h_eperm),
	H(swapon, h_eperm), H(swapoff, h_eperm), H(acct, h_eperm), H(quotactl, h_eperm),
	H(name_to_handle_at, h_eperm), H(open_by_handle_at, h_eperm),
	H(open_tree, h_eperm), H(move_mount, h_eperm), H(fsopen, h_eperm), H(fspick, h_eperm),
	H(mount_setattr, h_eperm),
	H(inotify_add_watch, h_enosys), H(fanotify_mark, h_enosys), H(uselib, h_enosys),
};
const size_t run_nhandlers = sizeof(run_handlers) / sizeof(run_handlers[0]);

void run_dispatch(struct run_call *c)
{
	long r = -ENOSYS;
	for (size_t i = 0; i < run_nhandlers; i++)
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
