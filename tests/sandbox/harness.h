/* tests/sandbox/harness.h — the differential harness: one table of
 * syscall steps run (a) by the host kernel on a fresh Linux tmpfs (in a
 * forked child with its own mount namespace, chrooted into that tmpfs, so
 * absolute paths and fd numbers mean the same on both sides) and (b) by
 * uvfs_sbx_* on a uvfs tmpfs. Return values, errnos and the data each step
 * yields (bytes, stat fields minus ino/dev/times, sorted getdents
 * name/type pairs, link targets, cwd) must be equal step by step.
 *
 * Both sides start with fds 0, 1, 2 open and nothing else, umask 022, as
 * root with no supplementary groups; S_CRED switches the ids (the host
 * keeps saved uid 0 so that S_CRED 0 can switch back). */
#pragma once

#include <dirent.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <grp.h>
#include <unistd.h>

#include "../lib/fixture.h"
#include "sandbox/uvfs_sandbox.h"

enum {
	S_END,
	S_CRED, /* a=uid b=gid */
	S_UMASK, /* a=mask */
	S_NOFILE, /* a=limit */
	S_OPEN, /* dir p1 a=flags b=mode */
	S_OPENAT2, /* dir p1 a=flags b=mode c=resolve */
	S_CLOSE, /* fd */
	S_READ, /* fd a=count */
	S_WRITE, /* fd p1=data */
	S_PREAD, /* fd a=count b=off */
	S_PWRITE, /* fd p1=data b=off */
	S_LSEEK, /* fd a=off b=whence */
	S_FSTAT, /* fd */
	S_STAT, /* dir p1 a=flags (newfstatat) */
	S_STATX, /* dir p1 a=flags b=mask */
	S_GETDENTS, /* fd a=bufsize: until 0, sorted "name/type" list; ret = entries */
	S_READLINK, /* dir p1 a=bufsiz */
	S_GETCWD, /* a=size */
	S_CHDIR, /* p1 */
	S_FCHDIR, /* fd */
	S_MKDIR, /* dir p1 a=mode */
	S_MKNOD, /* dir p1 a=mode b=dev */
	S_SYMLINK, /* p1=target dir p2=link */
	S_UNLINK, /* dir p1 a=flags */
	S_RENAME, /* dir p1 p2 a=flags (both relative to dir) */
	S_LINK, /* dir p1 p2 a=flags */
	S_DUP, /* fd */
	S_DUP2, /* fd a=newfd */
	S_DUP3, /* fd a=newfd b=flags */
	S_FCNTL, /* fd a=cmd b=arg */
	S_CLOSE_RANGE, /* a=first b=last c=flags */
	S_ACCESS, /* dir p1 a=mode b=flags (faccessat2) */
	S_CHMOD, /* dir p1 a=mode */
	S_FCHMOD, /* fd a=mode */
	S_CHOWN, /* dir p1 a=uid b=gid c=flags */
	S_TRUNCATE, /* p1 a=len */
	S_FTRUNCATE, /* fd a=len */
	S_SETXATTR, /* p1 p2=name a=flags (value "val") */
	S_GETXATTR, /* p1 p2=name a=size */
	S_POLL, /* fd a=events b=timeout ms */
	S_FCHOWN, /* fd a=uid b=gid */
	S_UTIMENS, /* dir p1 a=atime sec b=mtime sec c=flags (nsec 0); data: stat's times */
	S_READV, /* fd a=len of the first segment b=len of the second */
	S_WRITEV, /* fd p1 p2 (two segments) */
	S_PREADV, /* fd a=len1 b=len2 c=off */
	S_PWRITEV, /* fd p1 p2 c=off */
	S_FALLOCATE, /* fd a=mode b=off c=len */
	S_UTIMES_SPECIAL, /* dir p1 a=atime nsec b=mtime nsec (UTIME_NOW/OMIT) c=flags; p2 "null": times NULL, "nopath": path NULL */
	S_FSTATFS, /* fd */
	S_XATTR_LF, /* p1 (l* forms) or fd (f* forms, when p1 NULL) p2=name a=0 set,1 get,2 list,3 remove */
	S_FIONREAD, /* fd */
	S_DENTS_RESUME, /* fd: every d_off resumes at the next entry ("ok" or the first failure) */
	S_CHMOD2, /* dir p1 a=mode b=flags (fchmodat2) */
	S_CHROOT, /* p1 */
	S_MOUNT, /* p1=target p2=fstype ("bind:SRC" binds SRC) a=flags */
	S_UMOUNT, /* p1 a=flags */
	S_STATFS, /* p1 */
	S_SYMLINKAT, /* p1=target fd=newdirfd p2=link */
	S_RENAMEAT, /* dir p1 fd=newdirfd p2 a=flags */
	S_LOCK, /* fd a=cmd b=l_type c=l_start d=l_len, l_whence from p1 ("cur", "end", "bad"; default SEEK_SET) */
};

struct step {
	int op;
	int dir; /* dirfd; 0 means AT_FDCWD */
	int fd;
	const char *p1, *p2;
	long a, b, c, d;
	int line;
};
#define ST(o, ...) { .op = (o), __VA_ARGS__, .line = __LINE__ }
#define ST_END { .op = S_END }

#define RES_DATA 1024
struct res {
	long ret;
	int len;
	char data[RES_DATA];
};

static inline int h_dir(const struct step *s) { return s->dir ? s->dir : AT_FDCWD; }
static inline long h_sys(long r) { return r < 0 ? -errno : r; }

static inline void fmt_statx(struct res *r, const struct statx *x)
{
	r->len = snprintf(r->data, RES_DATA, "mode=%o nlink=%u uid=%u gid=%u size=%llu blocks=%llu rdev=%u:%u",
			  x->stx_mode, x->stx_nlink, x->stx_uid, x->stx_gid, (unsigned long long)x->stx_size,
			  (unsigned long long)x->stx_blocks, x->stx_rdev_major, x->stx_rdev_minor);
}

static inline void fmt_stat(struct res *r, const struct stat *st)
{
	r->len = snprintf(r->data, RES_DATA, "mode=%o nlink=%lu uid=%u gid=%u size=%lld blocks=%lld rdev=%u:%u blksize=%ld",
			  st->st_mode, (unsigned long)st->st_nlink, st->st_uid, st->st_gid, (long long)st->st_size,
			  (long long)st->st_blocks, major(st->st_rdev), minor(st->st_rdev), (long)st->st_blksize);
}

static inline int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Collects linux_dirent64 records of buf[0..n) into names[]. */
static inline int dents_collect(const char *buf, long n, char names[][300], int k, int max)
{
	for (long off = 0; off < n && k < max;) {
		const struct dirent64 *d = (const void *)(buf + off);
		snprintf(names[k++], 300, "%s/%u", d->d_name, d->d_type);
		off += d->d_reclen;
	}
	return k;
}

static inline void dents_finish(struct res *r, char names[][300], int k)
{
	char *ptrs[128];
	for (int i = 0; i < k; i++)
		ptrs[i] = names[i];
	qsort(ptrs, (size_t)k, sizeof(ptrs[0]), cmp_str);
	r->len = 0;
	for (int i = 0; i < k && r->len < RES_DATA - 300; i++)
		r->len += snprintf(r->data + r->len, RES_DATA - r->len, "%s,", ptrs[i]);
	r->ret = k;
}

static inline void fmt_statfs(struct res *r, const struct statfs *f)
{
	r->len = snprintf(r->data, RES_DATA, "type=%lx bsize=%ld namelen=%ld flags=%lx", (long)f->f_type, (long)f->f_bsize,
			  (long)f->f_namelen, (long)f->f_flags);
}

/* getdents through gd (host or uvfs); checks that seeking to each entry's
 * d_off yields the next entry first. */
typedef long (*dents_fn)(void *ctx, int fd, void *buf, size_t len);
typedef long (*seek_fn)(void *ctx, int fd, long off);
static inline void dents_resume(void *ctx, dents_fn gd, seek_fn sk, int fd, struct res *r)
{
	static char all[64][300];
	static long offs[64];
	char buf[8192];
	int k = 0;
	r->ret = sk(ctx, fd, 0);
	long n;
	while (r->ret >= 0 && (n = gd(ctx, fd, buf, sizeof buf)) > 0)
		for (long off = 0; off < n && k < 64;) {
			const struct dirent64 *d = (const void *)(buf + off);
			snprintf(all[k], 300, "%s", d->d_name);
			offs[k++] = d->d_off;
			off += d->d_reclen;
		}
	if (r->ret < 0)
		return;
	for (int i = 0; i + 1 < k; i++) {
		sk(ctx, fd, offs[i]);
		n = gd(ctx, fd, buf, 64);
		const struct dirent64 *d = (const void *)buf;
		if (n <= 0 || strcmp(d->d_name, all[i + 1])) {
			r->len = snprintf(r->data, RES_DATA, "after %s: got %s", all[i], n > 0 ? d->d_name : "nothing");
			return;
		}
	}
	r->ret = k;
	r->len = snprintf(r->data, RES_DATA, "ok");
}
static inline long host_gd(void *ctx, int fd, void *buf, size_t len) { return h_sys(syscall(SYS_getdents64, fd, buf, len)); }
static inline long host_sk(void *ctx, int fd, long off) { return h_sys(syscall(SYS_lseek, fd, off, SEEK_SET)); }

static inline void lock_prep(const struct step *s, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = (short)s->b;
	fl->l_whence = !s->p1 ? SEEK_SET : !strcmp(s->p1, "cur") ? SEEK_CUR : !strcmp(s->p1, "end") ? SEEK_END : 9;
	fl->l_start = s->c;
	fl->l_len = s->d;
}
static inline void lock_fmt(const struct step *s, struct res *r, const struct flock *fl)
{
	if (!r->ret && (s->a == F_GETLK || s->a == F_OFD_GETLK))
		r->len = snprintf(r->data, RES_DATA, "type=%d whence=%d start=%lld len=%lld", fl->l_type, fl->l_whence,
				  (long long)fl->l_start, (long long)fl->l_len);
}

/* ------------------------------------------------------------ host side */

static inline void host_step(const struct step *s, struct res *r)
{
	char buf[8192];
	struct stat st;
	struct statx x;
	int dir = h_dir(s);
	switch (s->op) {
	case S_CRED:
		if (s->a == 0) {
			r->ret = h_sys(setresuid(0, 0, 0));
			if (!r->ret)
				r->ret = h_sys(setresgid((gid_t)s->b, (gid_t)s->b, 0));
		} else {
			r->ret = h_sys(setresuid(0, 0, 0));
			if (!r->ret)
				r->ret = h_sys(setresgid((gid_t)s->b, (gid_t)s->b, 0));
			if (!r->ret)
				r->ret = h_sys(setresuid((uid_t)s->a, (uid_t)s->a, 0));
		}
		break;
	case S_UMASK:
		r->ret = umask((mode_t)s->a);
		break;
	case S_NOFILE: {
		struct rlimit rl = { (rlim_t)s->a, (rlim_t)s->a };
		r->ret = h_sys(setrlimit(RLIMIT_NOFILE, &rl));
		break;
	}
	case S_OPEN:
		r->ret = h_sys(syscall(SYS_openat, dir, s->p1, s->a, s->b));
		break;
	case S_OPENAT2: {
		struct open_how how = { .flags = (uint64_t)s->a, .mode = (uint64_t)s->b, .resolve = (uint64_t)s->c };
		r->ret = h_sys(syscall(SYS_openat2, dir, s->p1, &how, sizeof(how)));
		break;
	}
	case S_CLOSE:
		r->ret = h_sys(syscall(SYS_close, s->fd));
		break;
	case S_READ:
		r->ret = h_sys(syscall(SYS_read, s->fd, buf, s->a));
		if (r->ret > 0)
			memcpy(r->data, buf, (size_t)(r->len = (int)(r->ret < RES_DATA ? r->ret : RES_DATA)));
		break;
	case S_WRITE:
		r->ret = h_sys(syscall(SYS_write, s->fd, s->p1, strlen(s->p1)));
		break;
	case S_PREAD:
		r->ret = h_sys(syscall(SYS_pread64, s->fd, buf, s->a, s->b));
		if (r->ret > 0)
			memcpy(r->data, buf, (size_t)(r->len = (int)(r->ret < RES_DATA ? r->ret : RES_DATA)));
		break;
	case S_PWRITE:
		r->ret = h_sys(syscall(SYS_pwrite64, s->fd, s->p1, strlen(s->p1), s->b));
		break;
	case S_LSEEK:
		r->ret = h_sys(syscall(SYS_lseek, s->fd, s->a, s->b));
		break;
	case S_FSTAT:
		r->ret = h_sys(syscall(SYS_fstat, s->fd, &st));
		if (!r->ret)
			fmt_stat(r, &st);
		break;
	case S_STAT:
		r->ret = h_sys(syscall(SYS_newfstatat, dir, s->p1, &st, s->a));
		if (!r->ret)
			fmt_stat(r, &st);
		break;
	case S_STATX:
		r->ret = h_sys(syscall(SYS_statx, dir, s->p1, s->a, s->b, &x));
		if (!r->ret)
			fmt_statx(r, &x);
		break;
	case S_GETDENTS: {
		static char names[128][300];
		int k = 0;
		long n;
		while ((n = h_sys(syscall(SYS_getdents64, s->fd, buf, s->a))) > 0)
			k = dents_collect(buf, n, names, k, 128);
		if (n < 0)
			r->ret = n;
		else
			dents_finish(r, names, k);
		break;
	}
	case S_READLINK:
		r->ret = h_sys(syscall(SYS_readlinkat, dir, s->p1, buf, s->a));
		if (r->ret > 0)
			memcpy(r->data, buf, (size_t)(r->len = (int)r->ret));
		break;
	case S_GETCWD:
		r->ret = h_sys(syscall(SYS_getcwd, buf, s->a));
		if (r->ret > 0)
			memcpy(r->data, buf, (size_t)(r->len = (int)r->ret));
		break;
	case S_CHDIR:
		r->ret = h_sys(syscall(SYS_chdir, s->p1));
		break;
	case S_FCHDIR:
		r->ret = h_sys(syscall(SYS_fchdir, s->fd));
		break;
	case S_MKDIR:
		r->ret = h_sys(syscall(SYS_mkdirat, dir, s->p1, s->a));
		break;
	case S_MKNOD:
		r->ret = h_sys(syscall(SYS_mknodat, dir, s->p1, s->a, s->b));
		break;
	case S_SYMLINK:
		r->ret = h_sys(syscall(SYS_symlinkat, s->p1, dir, s->p2));
		break;
	case S_UNLINK:
		r->ret = h_sys(syscall(SYS_unlinkat, dir, s->p1, s->a));
		break;
	case S_RENAME:
		r->ret = h_sys(syscall(SYS_renameat2, dir, s->p1, dir, s->p2, s->a));
		break;
	case S_LINK:
		r->ret = h_sys(syscall(SYS_linkat, dir, s->p1, dir, s->p2, s->a));
		break;
	case S_DUP:
		r->ret = h_sys(syscall(SYS_dup, s->fd));
		break;
	case S_DUP2:
		r->ret = h_sys(syscall(SYS_dup2, s->fd, s->a));
		break;
	case S_DUP3:
		r->ret = h_sys(syscall(SYS_dup3, s->fd, s->a, s->b));
		break;
	case S_FCNTL:
		r->ret = h_sys(syscall(SYS_fcntl, s->fd, s->a, s->b));
		break;
	case S_CLOSE_RANGE:
		r->ret = h_sys(syscall(SYS_close_range, s->a, s->b, s->c));
		break;
	case S_ACCESS:
		r->ret = h_sys(syscall(SYS_faccessat2, dir, s->p1, s->a, s->b));
		break;
	case S_CHMOD:
		r->ret = h_sys(syscall(SYS_fchmodat, dir, s->p1, s->a));
		break;
	case S_FCHMOD:
		r->ret = h_sys(syscall(SYS_fchmod, s->fd, s->a));
		break;
	case S_CHOWN:
		r->ret = h_sys(syscall(SYS_fchownat, dir, s->p1, s->a, s->b, s->c));
		break;
	case S_FCHOWN:
		r->ret = h_sys(syscall(SYS_fchown, s->fd, s->a, s->b));
		break;
	case S_TRUNCATE:
		r->ret = h_sys(syscall(SYS_truncate, s->p1, s->a));
		break;
	case S_FTRUNCATE:
		r->ret = h_sys(syscall(SYS_ftruncate, s->fd, s->a));
		break;
	case S_SETXATTR:
		r->ret = h_sys(syscall(SYS_setxattr, s->p1, s->p2, "val", 3, s->a));
		break;
	case S_GETXATTR:
		r->ret = h_sys(syscall(SYS_getxattr, s->p1, s->p2, buf, s->a));
		if (r->ret > 0 && s->a)
			memcpy(r->data, buf, (size_t)(r->len = (int)r->ret));
		break;
	case S_POLL: {
		struct pollfd p = { .fd = s->fd, .events = (short)s->a };
		r->ret = h_sys(syscall(SYS_poll, &p, 1, (int)s->b));
		r->len = snprintf(r->data, RES_DATA, "revents=%#x", p.revents);
		break;
	}
	case S_UTIMENS: {
		struct timespec ts[2] = { { s->a, 0 }, { s->b, 0 } };
		r->ret = h_sys(syscall(SYS_utimensat, dir, s->p1, ts, s->c));
		if (!r->ret && !syscall(SYS_newfstatat, dir, s->p1, &st, s->c & AT_SYMLINK_NOFOLLOW))
			r->len = snprintf(r->data, RES_DATA, "atime=%ld mtime=%ld", (long)st.st_atime, (long)st.st_mtime);
		break;
	}
	case S_READV:
	case S_PREADV: {
		char b1[256], b2[256];
		struct iovec iov[2] = { { b1, (size_t)s->a }, { b2, (size_t)s->b } };
		r->ret = s->op == S_READV ? h_sys(syscall(SYS_readv, s->fd, iov, 2)) : h_sys(syscall(SYS_preadv, s->fd, iov, 2, s->c, 0));
		if (r->ret > 0) {
			size_t n1 = (size_t)r->ret < (size_t)s->a ? (size_t)r->ret : (size_t)s->a;
			memcpy(r->data, b1, n1);
			memcpy(r->data + n1, b2, (size_t)r->ret - n1);
			r->len = (int)r->ret;
		}
		break;
	}
	case S_WRITEV:
	case S_PWRITEV: {
		struct iovec iov[2] = { { (void *)s->p1, strlen(s->p1) }, { (void *)s->p2, strlen(s->p2) } };
		r->ret = s->op == S_WRITEV ? h_sys(syscall(SYS_writev, s->fd, iov, 2)) : h_sys(syscall(SYS_pwritev, s->fd, iov, 2, s->c, 0));
		break;
	}
	case S_FALLOCATE:
		r->ret = h_sys(syscall(SYS_fallocate, s->fd, s->a, s->b, s->c));
		if (!r->ret && !syscall(SYS_fstat, s->fd, &st))
			fmt_stat(r, &st);
		break;
	case S_UTIMES_SPECIAL: {
		struct timespec ts[2] = { { 5, s->a }, { 7, s->b } };
		bool null_times = s->p2 && !strcmp(s->p2, "null"), no_path = s->p2 && !strcmp(s->p2, "nopath");
		const char *path = no_path ? NULL : s->p1;
		const struct timespec *tp = null_times ? NULL : ts;
		r->ret = h_sys(syscall(SYS_utimensat, dir, path, tp, s->c));
		if (!r->ret && !syscall(SYS_newfstatat, AT_FDCWD, s->p1, &st, 0))
			r->len = snprintf(r->data, RES_DATA, "atime_is5=%d mtime_is7=%d", st.st_atime == 5, st.st_mtime == 7);
		break;
	}
	case S_FSTATFS: {
		struct statfs f;
		r->ret = h_sys(syscall(SYS_fstatfs, s->fd, &f));
		if (!r->ret)
			fmt_statfs(r, &f);
		break;
	}
	case S_XATTR_LF:
		if (s->a == 0)
			r->ret = s->p1 ? h_sys(syscall(SYS_lsetxattr, s->p1, s->p2, "lv", 2, 0)) : h_sys(syscall(SYS_fsetxattr, s->fd, s->p2, "fv", 2, 0));
		else if (s->a == 1)
			r->ret = s->p1 ? h_sys(syscall(SYS_lgetxattr, s->p1, s->p2, buf, 100)) : h_sys(syscall(SYS_fgetxattr, s->fd, s->p2, buf, 100));
		else if (s->a == 2)
			r->ret = s->p1 ? h_sys(syscall(SYS_llistxattr, s->p1, buf, 1000)) : h_sys(syscall(SYS_flistxattr, s->fd, buf, 1000));
		else
			r->ret = s->p1 ? h_sys(syscall(SYS_lremovexattr, s->p1, s->p2)) : h_sys(syscall(SYS_fremovexattr, s->fd, s->p2));
		if (r->ret > 0 && (s->a == 1 || s->a == 2))
			memcpy(r->data, buf, (size_t)(r->len = (int)r->ret));
		break;
	case S_FIONREAD: {
		int v = -1;
		r->ret = h_sys(syscall(SYS_ioctl, s->fd, FIONREAD, &v));
		r->len = snprintf(r->data, RES_DATA, "%d", v);
		break;
	}
	case S_DENTS_RESUME:
		dents_resume(NULL, host_gd, host_sk, s->fd, r);
		break;
	case S_CHMOD2:
		r->ret = h_sys(syscall(452 /* fchmodat2 */, dir, s->p1, s->a, s->b));
		break;
	case S_CHROOT:
		r->ret = h_sys(syscall(SYS_chroot, s->p1));
		break;
	case S_MOUNT: {
		bool bind = !strncmp(s->p2, "bind:", 5);
		r->ret = bind ? h_sys(mount(s->p2 + 5, s->p1, NULL, MS_BIND | (unsigned long)s->a, NULL)) : h_sys(mount("none", s->p1, s->p2, (unsigned long)s->a, NULL));
		break;
	}
	case S_UMOUNT:
		r->ret = h_sys(syscall(SYS_umount2, s->p1, s->a));
		break;
	case S_STATFS: {
		struct statfs f;
		r->ret = h_sys(syscall(SYS_statfs, s->p1, &f));
		if (!r->ret)
			fmt_statfs(r, &f);
		break;
	}
	case S_SYMLINKAT:
		r->ret = h_sys(syscall(SYS_symlinkat, s->p1, s->fd, s->p2));
		break;
	case S_RENAMEAT:
		r->ret = h_sys(syscall(SYS_renameat2, dir, s->p1, s->fd, s->p2, s->a));
		break;
	case S_LOCK: {
		struct flock fl;
		lock_prep(s, &fl);
		r->ret = h_sys(syscall(SYS_fcntl, s->fd, s->a, &fl));
		lock_fmt(s, r, &fl);
		break;
	}
	default:
		r->ret = -9999;
	}
}

/* Runs steps on a fresh kernel tmpfs in a forked child; results land in
 * shared memory (the child closes every fd above 2). */
static inline void run_host(const struct step *steps, int n, struct res *out)
{
	struct res *shm = mmap(NULL, sizeof(struct res) * (size_t)n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			       -1, 0);
	cr_assert(shm != MAP_FAILED);
	char dir[] = "/tmp/sbxdiff.XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		for (int fd = 0; fd < 3; fd++)
			if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
				_exit(10);
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("none", dir, "tmpfs", 0, "mode=1777") || chroot(dir) || chdir("/") || setgroups(0, NULL))
			_exit(11);
		umask(022);
		syscall(SYS_close_range, 3, ~0U, 0);
		for (int i = 0; i < n; i++) {
			memset(&shm[i], 0, sizeof(shm[i]));
			host_step(&steps[i], &shm[i]);
		}
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	rmdir(dir);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "host child failed (status %#x)", status);
	memcpy(out, shm, sizeof(struct res) * (size_t)n);
	munmap(shm, sizeof(struct res) * (size_t)n);
}

/* ------------------------------------------------------------ uvfs side */

static inline long uv_gd(void *ctx, int fd, void *buf, size_t len) { return uvfs_sbx_getdents64(ctx, fd, buf, len); }
static inline long uv_sk(void *ctx, int fd, long off) { return uvfs_sbx_lseek(ctx, fd, off, SEEK_SET); }

static inline void uvfs_step(struct uvfs_sbx_task *t, const struct step *s, struct res *r)
{
	char buf[8192];
	struct stat st;
	struct statx x;
	int dir = h_dir(s);
	switch (s->op) {
	case S_CRED: {
		struct uvfs_cred c;
		if (s->a == 0) {
			uvfs_cred_init_root(&c);
			c.gid = c.egid = c.fsgid = (uint32_t)s->b;
		} else {
			uvfs_cred_init_user(&c, (uint32_t)s->a, (uint32_t)s->b);
		}
		r->ret = uvfs_sbx_task_set_cred(t, &c);
		break;
	}
	case S_UMASK:
		r->ret = uvfs_sbx_umask(t, (mode_t)s->a);
		break;
	case S_NOFILE:
		r->ret = uvfs_sbx_task_set_nofile(t, (unsigned)s->a);
		break;
	case S_OPEN:
		r->ret = uvfs_sbx_openat(t, dir, s->p1, (int)s->a, (mode_t)s->b);
		break;
	case S_OPENAT2: {
		struct open_how how = { .flags = (uint64_t)s->a, .mode = (uint64_t)s->b, .resolve = (uint64_t)s->c };
		r->ret = uvfs_sbx_openat2(t, dir, s->p1, &how, sizeof(how));
		break;
	}
	case S_CLOSE:
		r->ret = uvfs_sbx_close(t, s->fd);
		break;
	case S_READ:
		r->ret = uvfs_sbx_read(t, s->fd, buf, (size_t)s->a);
		if (r->ret > 0)
			memcpy(r->data, buf, (size_t)(r->len = (int)(r->ret < RES_DATA ? r->ret : RES_DATA)));
		break;
	case S_WRITE:
		r->ret = uvfs_sbx_write(t, s->fd, s->p1, strlen(s->p1));
		break;
	case S_PREAD:
		r->ret = uvfs_sbx_pread64(t, s->fd, buf, (size_t)s->a, s->b);
		if (r->ret > 0)
			memcpy(r->data, buf, (size_t)(r->len = (int)(r->ret < RES_DATA ? r->ret : RES_DATA)));
		break;
	case S_PWRITE:
		r->ret = uvfs_sbx_pwrite64(t, s->fd, s->p1, strlen(s->p1), s->b);
		break;
	case S_LSEEK:
		r->ret = uvfs_sbx_lseek(t, s->fd, s->a, (int)s->b);
		break;
	case S_FSTAT:
		r->ret = uvfs_sbx_fstat(t, s->fd, &st);
		if (!r->ret)
			fmt_stat(r, &st);
		break;
	case S_STAT:
		r->ret = uvfs_sbx_newfstatat(t, dir, s->p1, &st, (int)s->a);
		if (!r->ret)
			fmt_stat(r, &st);
		break;
	case S_STATX:
		r->ret = uvfs_sbx_statx(t, dir, s->p1, (int)s->a, (unsigned)s->b, &x);
		if (!r->ret)
			fmt_statx(r, &x);
		break;
	case S_GETDENTS: {
		static char names[128][300];
		int k = 0;
		long n;
		while ((n = uvfs_sbx_getdents64(t, s->fd, buf, (size_t)s->a)) > 0)
			k = dents_collect(buf, n, names, k, 128);
		if (n < 0)
			r->ret = n;
		else
			dents_finish(r, names, k);
		break;
	}
	case S_READLINK:
		r->ret = uvfs_sbx_readlinkat(t, dir, s->p1, buf, (size_t)s->a);
		if (r->ret > 0)
			memcpy(r->data, buf, (size_t)(r->len = (int)r->ret));
		break;
	case S_GETCWD:
		r->ret = uvfs_sbx_getcwd(t, buf, (size_t)s->a);
		if (r->ret > 0)
			memcpy(r->data, buf, (size_t)(r->len = (int)r->ret));
		break;
	case S_CHDIR:
		r->ret = uvfs_sbx_chdir(t, s->p1);
		break;
	case S_FCHDIR:
		r->ret = uvfs_sbx_fchdir(t, s->fd);
		break;
	case S_MKDIR:
		r->ret = uvfs_sbx_mkdirat(t, dir, s->p1, (mode_t)s->a);
		break;
	case S_MKNOD:
		r->ret = uvfs_sbx_mknodat(t, dir, s->p1, (mode_t)s->a, (dev_t)s->b);
		break;
	case S_SYMLINK:
		r->ret = uvfs_sbx_symlinkat(t, s->p1, dir, s->p2);
		break;
	case S_UNLINK:
		r->ret = uvfs_sbx_unlinkat(t, dir, s->p1, (int)s->a);
		break;
	case S_RENAME:
		r->ret = uvfs_sbx_renameat2(t, dir, s->p1, dir, s->p2, (unsigned)s->a);
		break;
	case S_LINK:
		r->ret = uvfs_sbx_linkat(t, dir, s->p1, dir, s->p2, (int)s->a);
		break;
	case S_DUP:
		r->ret = uvfs_sbx_dup(t, s->fd);
		break;
	case S_DUP2:
		r->ret = uvfs_sbx_dup2(t, s->fd, (int)s->a);
		break;
	case S_DUP3:
		r->ret = uvfs_sbx_dup3(t, s->fd, (int)s->a, (int)s->b);
		break;
	case S_FCNTL:
		r->ret = uvfs_sbx_fcntl(t, s->fd, (int)s->a, (unsigned long)s->b);
		break;
	case S_CLOSE_RANGE:
		r->ret = uvfs_sbx_close_range(t, (unsigned)s->a, (unsigned)s->b, (unsigned)s->c);
		break;
	case S_ACCESS:
		r->ret = uvfs_sbx_faccessat2(t, dir, s->p1, (int)s->a, (int)s->b);
		break;
	case S_CHMOD:
		r->ret = uvfs_sbx_fchmodat(t, dir, s->p1, (mode_t)s->a, 0);
		break;
	case S_FCHMOD:
		r->ret = uvfs_sbx_fchmod(t, s->fd, (mode_t)s->a);
		break;
	case S_CHOWN:
		r->ret = uvfs_sbx_fchownat(t, dir, s->p1, (uid_t)s->a, (gid_t)s->b, (int)s->c);
		break;
	case S_FCHOWN:
		r->ret = uvfs_sbx_fchown(t, s->fd, (uid_t)s->a, (gid_t)s->b);
		break;
	case S_TRUNCATE:
		r->ret = uvfs_sbx_truncate(t, s->p1, s->a);
		break;
	case S_FTRUNCATE:
		r->ret = uvfs_sbx_ftruncate(t, s->fd, s->a);
		break;
	case S_SETXATTR:
		r->ret = uvfs_sbx_setxattr(t, s->p1, s->p2, "val", 3, (int)s->a);
		break;
	case S_GETXATTR:
		r->ret = uvfs_sbx_getxattr(t, s->p1, s->p2, buf, (size_t)s->a);
		if (r->ret > 0 && s->a)
			memcpy(r->data, buf, (size_t)(r->len = (int)r->ret));
		break;
	case S_POLL: {
		struct pollfd p = { .fd = s->fd, .events = (short)s->a };
		r->ret = uvfs_sbx_poll(t, &p, 1, (int)s->b);
		r->len = snprintf(r->data, RES_DATA, "revents=%#x", p.revents);
		break;
	}
	case S_UTIMENS: {
		struct timespec ts[2] = { { s->a, 0 }, { s->b, 0 } };
		r->ret = uvfs_sbx_utimensat(t, dir, s->p1, ts, (int)s->c);
		if (!r->ret && !uvfs_sbx_newfstatat(t, dir, s->p1, &st, (int)(s->c & AT_SYMLINK_NOFOLLOW)))
			r->len = snprintf(r->data, RES_DATA, "atime=%ld mtime=%ld", (long)st.st_atime, (long)st.st_mtime);
		break;
	}
	case S_READV:
	case S_PREADV: {
		char b1[256], b2[256];
		struct iovec iov[2] = { { b1, (size_t)s->a }, { b2, (size_t)s->b } };
		r->ret = s->op == S_READV ? uvfs_sbx_readv(t, s->fd, iov, 2) : uvfs_sbx_preadv(t, s->fd, iov, 2, s->c);
		if (r->ret > 0) {
			size_t n1 = (size_t)r->ret < (size_t)s->a ? (size_t)r->ret : (size_t)s->a;
			memcpy(r->data, b1, n1);
			memcpy(r->data + n1, b2, (size_t)r->ret - n1);
			r->len = (int)r->ret;
		}
		break;
	}
	case S_WRITEV:
	case S_PWRITEV: {
		struct iovec iov[2] = { { (void *)s->p1, strlen(s->p1) }, { (void *)s->p2, strlen(s->p2) } };
		r->ret = s->op == S_WRITEV ? uvfs_sbx_writev(t, s->fd, iov, 2) : uvfs_sbx_pwritev(t, s->fd, iov, 2, s->c);
		break;
	}
	case S_FALLOCATE:
		r->ret = uvfs_sbx_fallocate(t, s->fd, (int)s->a, s->b, s->c);
		if (!r->ret && !uvfs_sbx_fstat(t, s->fd, &st))
			fmt_stat(r, &st);
		break;
	case S_UTIMES_SPECIAL: {
		struct timespec ts[2] = { { 5, s->a }, { 7, s->b } };
		bool null_times = s->p2 && !strcmp(s->p2, "null"), no_path = s->p2 && !strcmp(s->p2, "nopath");
		const char *path = no_path ? NULL : s->p1;
		const struct timespec *tp = null_times ? NULL : ts;
		r->ret = uvfs_sbx_utimensat(t, dir, path, tp, (int)s->c);
		if (!r->ret && !uvfs_sbx_newfstatat(t, AT_FDCWD, s->p1, &st, 0))
			r->len = snprintf(r->data, RES_DATA, "atime_is5=%d mtime_is7=%d", st.st_atime == 5, st.st_mtime == 7);
		break;
	}
	case S_FSTATFS: {
		struct statfs f;
		r->ret = uvfs_sbx_fstatfs(t, s->fd, &f);
		if (!r->ret)
			fmt_statfs(r, &f);
		break;
	}
	case S_XATTR_LF:
		if (s->a == 0)
			r->ret = s->p1 ? uvfs_sbx_lsetxattr(t, s->p1, s->p2, "lv", 2, 0) : uvfs_sbx_fsetxattr(t, s->fd, s->p2, "fv", 2, 0);
		else if (s->a == 1)
			r->ret = s->p1 ? uvfs_sbx_lgetxattr(t, s->p1, s->p2, buf, 100) : uvfs_sbx_fgetxattr(t, s->fd, s->p2, buf, 100);
		else if (s->a == 2)
			r->ret = s->p1 ? uvfs_sbx_llistxattr(t, s->p1, buf, 1000) : uvfs_sbx_flistxattr(t, s->fd, buf, 1000);
		else
			r->ret = s->p1 ? uvfs_sbx_lremovexattr(t, s->p1, s->p2) : uvfs_sbx_fremovexattr(t, s->fd, s->p2);
		if (r->ret > 0 && (s->a == 1 || s->a == 2))
			memcpy(r->data, buf, (size_t)(r->len = (int)r->ret));
		break;
	case S_FIONREAD: {
		int v = -1;
		r->ret = uvfs_sbx_ioctl(t, s->fd, FIONREAD, &v);
		r->len = snprintf(r->data, RES_DATA, "%d", v);
		break;
	}
	case S_DENTS_RESUME:
		dents_resume(t, uv_gd, uv_sk, s->fd, r);
		break;
	case S_CHMOD2:
		r->ret = uvfs_sbx_fchmodat(t, dir, s->p1, (mode_t)s->a, (int)s->b);
		break;
	case S_CHROOT:
		r->ret = uvfs_sbx_chroot(t, s->p1);
		break;
	case S_MOUNT: {
		bool bind = !strncmp(s->p2, "bind:", 5);
		r->ret = bind ? uvfs_sbx_mount(t, s->p2 + 5, s->p1, NULL, MS_BIND | (unsigned long)s->a, NULL) : uvfs_sbx_mount(t, "none", s->p1, s->p2, (unsigned long)s->a, NULL);
		break;
	}
	case S_UMOUNT:
		r->ret = uvfs_sbx_umount2(t, s->p1, (int)s->a);
		break;
	case S_STATFS: {
		struct statfs f;
		r->ret = uvfs_sbx_statfs(t, s->p1, &f);
		if (!r->ret)
			fmt_statfs(r, &f);
		break;
	}
	case S_SYMLINKAT:
		r->ret = uvfs_sbx_symlinkat(t, s->p1, s->fd, s->p2);
		break;
	case S_RENAMEAT:
		r->ret = uvfs_sbx_renameat2(t, dir, s->p1, s->fd, s->p2, (unsigned)s->a);
		break;
	case S_LOCK: {
		struct flock fl;
		lock_prep(s, &fl);
		r->ret = uvfs_sbx_fcntl(t, s->fd, (int)s->a, (unsigned long)&fl);
		lock_fmt(s, r, &fl);
		break;
	}
	default:
		r->ret = -9999;
	}
}

/* A task on the fixture's namespace with fds 0-2 taken, umask 022. */
static inline struct uvfs_sbx_task *h_task(void)
{
	struct uvfs_sbx_task *t;
	struct uvfs_sbx_task_params p = { .vfs = fx.vfs, .mntns = fx.ns, .root = &fx.root, .umask = 022 };
	cr_assert_eq(uvfs_sbx_task_new(&p, &t), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(uvfs_sbx_openat(t, AT_FDCWD, "/", O_PATH, 0), i);
	return t;
}

static inline void run_uvfs(const struct step *steps, int n, struct res *out)
{
	struct uvfs_sbx_task *t = h_task();
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		uvfs_step(t, &steps[i], &out[i]);
	}
	uvfs_sbx_task_put(t);
}

static inline const char *op_name(int op)
{
	static const char *names[] = { "END", "CRED", "UMASK", "NOFILE", "OPEN", "OPENAT2", "CLOSE", "READ", "WRITE",
				       "PREAD", "PWRITE", "LSEEK", "FSTAT", "STAT", "STATX", "GETDENTS", "READLINK",
				       "GETCWD", "CHDIR", "FCHDIR", "MKDIR", "MKNOD", "SYMLINK", "UNLINK", "RENAME",
				       "LINK", "DUP", "DUP2", "DUP3", "FCNTL", "CLOSE_RANGE", "ACCESS", "CHMOD",
				       "FCHMOD", "CHOWN", "TRUNCATE", "FTRUNCATE", "SETXATTR", "GETXATTR", "POLL",
				       "FCHOWN", "UTIMENS", "READV", "WRITEV", "PREADV", "PWRITEV", "FALLOCATE", "UTIMES_SPECIAL", "FSTATFS", "XATTR_LF", "FIONREAD", "DENTS_RESUME", "CHMOD2", "CHROOT", "MOUNT", "UMOUNT", "STATFS", "SYMLINKAT", "RENAMEAT", "LOCK" };
	return op >= 0 && op < (int)(sizeof(names) / sizeof(names[0])) ? names[op] : "?";
}

/* Runs the table on both sides and fails listing every step that differs. */
static inline void run_diff(const struct step *steps)
{
	int n = 0;
	while (steps[n].op != S_END)
		n++;
	struct res *host = calloc((size_t)n, sizeof(*host)), *uv = calloc((size_t)n, sizeof(*uv));
	cr_assert(host && uv);
	run_host(steps, n, host);
	run_uvfs(steps, n, uv);
	int bad = 0;
	for (int i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		bool same = host[i].ret == uv[i].ret && host[i].len == uv[i].len &&
			    !memcmp(host[i].data, uv[i].data, (size_t)host[i].len);
		if (same)
			continue;
		bad++;
		cr_log_error("line %d %s(%s%s%s): kernel %s [%.*s] vs uvfs %s [%.*s]", s->line, op_name(s->op),
			     s->p1 ? s->p1 : "", s->p2 ? ", " : "", s->p2 ? s->p2 : "", fx_err(host[i].ret),
			     host[i].len, host[i].data, fx_err(uv[i].ret), uv[i].len, uv[i].data);
	}
	free(host);
	free(uv);
	cr_assert_eq(bad, 0, "%d of %d steps differ from the kernel (see the log)", bad, n);
}
