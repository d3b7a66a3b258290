/* tests/gofer/test_gofer_core.c — record locks through the filesystem
 * (uvfs_file_lock → the gofer's Tlock/Tgetlock) and xattrs after a
 * directory rename, against a real diod (cache=fscache and
 * remote_revalidating). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "gofer_fx.h"


static void gsetup(const char *opts) { gfx_setup("gofl", opts); }

static void gteardown(void) { gfx_teardown(); }

#define BOTH(name)                                                                                               \
	static void body_##name(void);                                                                           \
	Test(gofer_core_fscache, name, .timeout = 60)                                                           \
	{                                                                                                        \
		gsetup("cache=fscache");                                                                         \
		body_##name();                                                                                   \
		gteardown();                                                                                     \
	}                                                                                                        \
	Test(gofer_core_reval, name, .timeout = 60)                                                             \
	{                                                                                                        \
		gsetup("cache=remote_revalidating");                                                             \
		body_##name();                                                                                   \
		gteardown();                                                                                     \
	}                                                                                                        \
	static void body_##name(void)

static struct flock fl(short type, off_t start, off_t len)
{
	return (struct flock){ .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
}

/* Two opens with different owners conflict as two processes do on Linux;
 * unlock lets the other in; F_GETLK reports the holder. */
BOTH(two_owners_conflict)
{
	fx_must_write("/g/f", "0123456789");
	struct uvfs_file *a, *b;
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &a), 0);
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &b), 0);
	cr_assert(uvfs_file_has_lock_op(a));
	struct flock l = fl(F_WRLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	l = fl(F_WRLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), -EAGAIN);
	l = fl(F_RDLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), -EAGAIN);
	l = fl(F_RDLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(b, 2, F_GETLK, &l), 0);
	cr_assert_eq(l.l_type, F_WRLCK, "F_GETLK sees the other owner's lock");
	cr_assert_eq(l.l_whence, SEEK_SET);
	/* The same owner relocks its own range freely. */
	l = fl(F_RDLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	l = fl(F_UNLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	l = fl(F_WRLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), 0, "free after unlock");
	l = fl(F_WRLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(a, 1, F_GETLK, &l), 0);
	cr_assert_eq(l.l_type, F_WRLCK);
	l = fl(F_UNLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), 0);
	l = fl(F_WRLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(a, 1, F_GETLK, &l), 0);
	cr_assert_eq(l.l_type, F_UNLCK);
	uvfs_file_put(a);
	uvfs_file_put(b);
}

/* The VFS's checks, as Linux's fcntl: bad type, mode, whence, range. */
BOTH(lock_argument_errors)
{
	fx_must_write("/g/f", "x");
	struct uvfs_file *r;
	cr_assert_eq(fx_open("/g/f", O_RDONLY, 0, &r), 0);
	struct flock l = fl(F_WRLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(r, 1, F_SETLK, &l), -EBADF);
	l = fl(F_UNLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(r, 1, F_GETLK, &l), -EINVAL);
	l = fl(7, 0, 0);
	cr_assert_eq(uvfs_file_lock(r, 1, F_SETLK, &l), -EINVAL);
	l = fl(F_RDLCK, -1, 0);
	cr_assert_eq(uvfs_file_lock(r, 1, F_SETLK, &l), -EINVAL);
	l = fl(F_RDLCK, 0, 0);
	l.l_whence = 9;
	cr_assert_eq(uvfs_file_lock(r, 1, F_SETLK, &l), -EINVAL);
	uvfs_file_put(r);
}

/* F_SETLKW waits for the holder: a thread blocks until the unlock. */
struct waiter {
	struct uvfs_file *f;
	int rc;
};
static void *wait_lock(void *arg)
{
	struct waiter *w = arg;
	struct flock l = fl(F_WRLCK, 0, 0);
	w->rc = uvfs_file_lock(w->f, 2, F_SETLKW, &l);
	return NULL;
}

BOTH(setlkw_waits)
{
	fx_must_write("/g/f", "x");
	struct uvfs_file *a, *b;
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &a), 0);
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &b), 0);
	struct flock l = fl(F_WRLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	struct waiter w = { .f = b, .rc = 1 };
	pthread_t t;
	pthread_create(&t, NULL, wait_lock, &w);
	usleep(100 * 1000);
	cr_assert_eq(__atomic_load_n(&w.rc, __ATOMIC_SEQ_CST), 1, "still waiting");
	l = fl(F_UNLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	pthread_join(t, NULL);
	cr_assert_eq(w.rc, 0);
	uvfs_file_put(a);
	uvfs_file_put(b);
}

/* F_SETLKW waits for every conflicting range: unlocking part of the
 * holder's range (splitting nothing left of [0,0]) is not enough. */
BOTH(setlkw_waits_for_the_rest_of_a_range)
{
	fx_must_write("/g/f", "0123456789");
	struct uvfs_file *a, *b;
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &a), 0);
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &b), 0);
	struct flock l = fl(F_WRLCK, 0, 2);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	struct waiter w = { .f = b, .rc = 1 };
	pthread_t t;
	pthread_create(&t, NULL, wait_lock, &w);
	usleep(100 * 1000);
	cr_assert_eq(__atomic_load_n(&w.rc, __ATOMIC_SEQ_CST), 1, "waiting for [0,1]");
	l = fl(F_UNLCK, 0, 1);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	usleep(200 * 1000);
	cr_assert_eq(__atomic_load_n(&w.rc, __ATOMIC_SEQ_CST), 1, "[1,1] is still held");
	l = fl(F_UNLCK, 1, 1);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	pthread_join(t, NULL);
	cr_assert_eq(w.rc, 0);
	l = fl(F_RDLCK, 9, 1);
	cr_assert_eq(uvfs_file_lock(a, 1, F_GETLK, &l), 0);
	cr_assert_eq(l.l_type, F_WRLCK);
	cr_assert_eq(l.l_start, 0);
	cr_assert_eq(l.l_len, 0, "owner 2 holds the whole file");
	uvfs_file_put(a);
	uvfs_file_put(b);
}

/* A lock taken through uvfs is a real lock on the host file: while we
 * hold a range, the gofer holds diod's whole-file flock(2), so a host
 * process's flock(LOCK_EX|LOCK_NB) fails; its fcntl(F_GETLK) sees nothing
 * (flock and POSIX locks are separate on Linux). */
BOTH(host_sees_lock)
{
	fx_must_write("/g/f", "0123456789");
	struct uvfs_file *a;
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &a), 0);
	struct flock l = fl(F_WRLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	char p[128];
	snprintf(p, sizeof(p), "%s/f", host);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(p, O_RDWR);
		struct flock h = fl(F_WRLCK, 0, 0);
		if (fd < 0 || fcntl(fd, F_GETLK, &h))
			_exit(2);
		if (h.l_type != F_UNLCK)
			_exit(3); /* diod changed: document it */
		_exit(flock(fd, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "host check: exit %d", WEXITSTATUS(st));
	l = fl(F_UNLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	pid = fork();
	if (pid == 0) {
		int fd = open(p, O_RDWR);
		_exit(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "host flock after unlock");
	uvfs_file_put(a);
}

/* xattrs of a file whose parent directory was renamed through uvfs: diod
 * names files by path, so the file's cached path fid still names d1/f
 * (gone); the ops must reach the file by its current path. */
BOTH(xattr_after_parent_rename)
{
	fx_must_mkdir("/g/d1", 0755);
	fx_must_write("/g/d1/f", "x");
	struct uvfs_pathop pf = fx_popf("/g/d1/f");
	cr_assert_eq(uvfs_setxattr_at(fx.vfs, &fx.cred, &pf, "user.a", "1", 1, 0), 0);
	struct uvfs_pathop p1 = fx_pop("/g/d1"), p2 = fx_pop("/g/d2");
	cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &p1, &p2, 0), 0);
	struct uvfs_pathop pg = fx_popf("/g/d2/f");
	char v[16] = { 0 };
	cr_assert_eq(uvfs_getxattr_at(fx.vfs, &fx.cred, &pg, "user.a", v, sizeof(v)), 1);
	cr_assert_str_eq(v, "1");
	cr_assert_eq(uvfs_setxattr_at(fx.vfs, &fx.cred, &pg, "user.b", "22", 2, 0), 0);
	char host_p[128];
	snprintf(host_p, sizeof(host_p), "%s/d2/f", host);
	memset(v, 0, sizeof(v));
	cr_assert_eq(getxattr(host_p, "user.b", v, sizeof(v)), 2, "set on the host file");
	cr_assert_str_eq(v, "22");
	char list[64];
	ssize_t n = uvfs_listxattr_at(fx.vfs, &fx.cred, &pg, list, sizeof(list));
	cr_assert_eq(n, (ssize_t)sizeof("user.a") + (ssize_t)sizeof("user.b"), "list: %zd", n);
	cr_assert_eq(uvfs_removexattr_at(fx.vfs, &fx.cred, &pg, "user.a"), 0);
	cr_assert_eq(getxattr(host_p, "user.a", v, sizeof(v)), -1);
	cr_assert_eq(errno, ENODATA);
	/* The directory itself, renamed again. */
	struct uvfs_pathop p3 = fx_pop("/g/d3"), pd2 = fx_pop("/g/d2");
	cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &pd2, &p3, 0), 0);
	struct uvfs_pathop pd3 = fx_popf("/g/d3");
	cr_assert_eq(uvfs_setxattr_at(fx.vfs, &fx.cred, &pd3, "user.d", "3", 1, 0), 0);
	snprintf(host_p, sizeof(host_p), "%s/d3", host);
	cr_assert_eq(getxattr(host_p, "user.d", v, sizeof(v)), 1);
}

/* Byte ranges among the owners of this process are exact (the gofer's
 * own range table; diod 1.0.24's Tlock is a whole-file flock(2), used
 * only to exclude other clients): disjoint ranges of two owners are both
 * granted, overlapping ones conflict, F_GETLK reports the conflicting
 * lock's real range, and unlocking the middle of a range splits it. */
BOTH(ranges_exact_among_owners)
{
	fx_must_write("/g/f", "0123456789");
	struct uvfs_file *a, *b;
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &a), 0);
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &b), 0);
	struct flock l = fl(F_WRLCK, 0, 2);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	l = fl(F_WRLCK, 5, 2);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), 0, "disjoint ranges of two owners");
	l = fl(F_RDLCK, 1, 2);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), -EAGAIN, "overlaps owner 1's [0,1]");
	l = fl(F_WRLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(b, 2, F_GETLK, &l), 0);
	cr_assert_eq(l.l_type, F_WRLCK);
	cr_assert_eq(l.l_start, 0);
	cr_assert_eq(l.l_len, 2, "the conflicting lock's own range, not the whole file");
	cr_assert_eq(l.l_pid, getpid(), "the holder (no task context: this process)");
	l = fl(F_WRLCK, 3, 0);
	cr_assert_eq(uvfs_file_lock(a, 1, F_GETLK, &l), 0);
	cr_assert_eq(l.l_type, F_WRLCK);
	cr_assert_eq(l.l_start, 5);
	cr_assert_eq(l.l_len, 2);
	l = fl(F_WRLCK, 2, 3);
	cr_assert_eq(uvfs_file_lock(a, 1, F_GETLK, &l), 0);
	cr_assert_eq(l.l_type, F_UNLCK, "[2,4] is free");
	/* Owner 1 extends to [0,9] then unlocks [3,6]: [0,2] and [7,9]
	 * remain (owner 2 must have let go of [5,6] first). */
	l = fl(F_UNLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), 0);
	l = fl(F_WRLCK, 0, 10);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	l = fl(F_UNLCK, 3, 4);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	l = fl(F_WRLCK, 3, 4);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), 0, "the hole is free");
	l = fl(F_WRLCK, 2, 1);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), -EAGAIN, "[0,2] still held");
	l = fl(F_WRLCK, 7, 1);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), -EAGAIN, "[7,9] still held");
	l = fl(F_RDLCK, 8, 0);
	cr_assert_eq(uvfs_file_lock(b, 2, F_GETLK, &l), 0);
	cr_assert_eq(l.l_type, F_WRLCK);
	cr_assert_eq(l.l_start, 7);
	cr_assert_eq(l.l_len, 3);
	/* Read locks share. */
	l = fl(F_UNLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), 0);
	l = fl(F_RDLCK, 0, 5);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	l = fl(F_RDLCK, 2, 5);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), 0);
	l = fl(F_WRLCK, 4, 1);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), -EAGAIN, "owner 1 reads [0,4]");
	uvfs_file_put(a);
	uvfs_file_put(b);
}

/* While this process holds any range, the host file is flock()ed (so
 * other clients are excluded); a read range takes a shared flock, a write
 * range an exclusive one; when the last range goes, the host is free. */
static int host_flock(int how)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/f", host);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(p, O_RDWR);
		_exit(fd < 0 ? 2 : flock(fd, how | LOCK_NB) == 0 ? 0 : errno == EWOULDBLOCK ? 1 : 3);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 4;
}

BOTH(host_excluded_while_ranges_held)
{
	fx_must_write("/g/f", "0123456789");
	struct uvfs_file *a, *b;
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &a), 0);
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &b), 0);
	struct flock l = fl(F_RDLCK, 0, 2);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	cr_assert_eq(host_flock(LOCK_SH), 0, "a read range lets the host share");
	cr_assert_eq(host_flock(LOCK_EX), 1, "a read range excludes the host's writer");
	l = fl(F_WRLCK, 5, 2);
	cr_assert_eq(uvfs_file_lock(b, 2, F_SETLK, &l), 0);
	cr_assert_eq(host_flock(LOCK_SH), 1, "a write range excludes the host");
	/* Owner 1's read range goes first: owner 2's write range still
	 * holds the host out. */
	l = fl(F_UNLCK, 0, 0);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	cr_assert_eq(host_flock(LOCK_SH), 1, "owner 2 still holds a write range");
	/* The close of b releases owner 2's last range: the host is free. */
	uvfs_file_put(b);
	cr_assert_eq(host_flock(LOCK_EX), 0, "no range left");
	/* A host flock excludes a new range of ours. */
	char p[128];
	snprintf(p, sizeof(p), "%s/f", host);
	int fd = open(p, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	l = fl(F_RDLCK, 0, 1);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), -EAGAIN, "the host holds the file");
	close(fd);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	uvfs_file_put(a);
	cr_assert_eq(host_flock(LOCK_EX), 0, "the close released the range");
}
