/* tests/gofer/test_gofer_lock.c — record locks through the filesystem
 * (uvfs_file_lock → the gofer's Tlock/Tgetlock) and xattrs after a
 * directory rename, against a real diod (cache=fscache and
 * remote_revalidating). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fixture.h"
#include "fsimpl/gofer/gofer.h"

static char host[64];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) { return remove(p); }

static void gsetup(const char *opts)
{
	fx_setup();
	cr_assert_eq(uvfs_register_fs_type(fx.vfs, &uvfs_gofer_type, UVFS_FS_USER_MOUNT), 0);
	snprintf(host, sizeof(host), "/tmp/uvfs-gofl-XXXXXX");
	cr_assert_not_null(mkdtemp(host));
	chmod(host, 0755);
	fx_must_mkdir("/g", 0755);
	int fd;
	struct uvfs_gofer_proc *proc;
	cr_assert_eq(uvfs_gofer_spawn(host, false, &fd, &proc), 0);
	char data[512];
	snprintf(data, sizeof(data), "trans=fd,rfdno=%d,wfdno=%d,aname=%s,%s", fd, fd, host, opts);
	struct uvfs_gofer_internal in = { .proc = proc };
	struct uvfs_mount_opts o = { .data = data, .internal = &in };
	struct uvfs_pathop p = fx_popf("/g");
	int err = uvfs_mount_at(fx.vfs, &fx.cred, host, &p, "9p", &o);
	cr_assert_eq(err, 0, "mount: %s", strerror(-err));
}

static void gteardown(void)
{
	fx_teardown();
	nftw(host, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#define BOTH(name)                                                                                               \
	static void body_##name(void);                                                                           \
	Test(gofer_lock_fscache, name, .timeout = 60)                                                           \
	{                                                                                                        \
		gsetup("cache=fscache");                                                                         \
		body_##name();                                                                                   \
		gteardown();                                                                                     \
	}                                                                                                        \
	Test(gofer_lock_reval, name, .timeout = 60)                                                             \
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

/* A lock taken through uvfs is a real lock on the host file, but diod
 * (1.0.24) takes it with flock(2) on its own descriptor, whole-file: a
 * host process's flock(LOCK_EX|LOCK_NB) fails, its fcntl(F_GETLK) sees
 * nothing (flock and POSIX locks are separate on Linux). */
#include <sys/file.h>
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
