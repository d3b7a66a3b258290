/* test_sbx_ofd.c — open file description locks (fcntl F_OFD_GETLK,
 * F_OFD_SETLK, F_OFD_SETLKW) of the syscall layer, against the kernel:
 * each case runs one sequence of opens, dups, closes and lock calls on a
 * host tmpfs file (/dev/shm) with real fcntl and on the sandbox, and the
 * results must match step by step (errno, and F_*GETLK's l_type,
 * l_whence, l_start, l_len and l_pid: -1 for an OFD holder, "a pid" for a
 * POSIX one). Then what the host cannot show side by side: F_OFD_SETLKW
 * woken by an unlock and ended by uvfs_sbx_task_interrupt, and a lock kept
 * while a reference to the description outlives its last fd. */
#include <pthread.h>
#include <time.h>

#include "harness.h"

enum { O_END, O_OPEN, O_DUP, O_CLOSE, O_LOCK };
struct ostep {
	int op, slot;
	int a; /* O_OPEN: open flags; O_DUP: source slot; O_LOCK: cmd */
	short type;
	long start, len;
	int pid; /* l_pid on input */
	int whence;
	int line;
};
#define OS(o, ...) { .op = (o), __VA_ARGS__, .line = __LINE__ }
#define NSLOT 8
#define NSTEP 64

struct ores {
	long ret;
	char data[96];
};

static void fmt_getlk(const struct flock *fl, char *out)
{
	char pid[16];
	if (fl->l_pid > 0)
		snprintf(pid, sizeof(pid), "a pid");
	else
		snprintf(pid, sizeof(pid), "%d", fl->l_pid);
	snprintf(out, 96, "type=%d whence=%d start=%lld len=%lld pid=%s", fl->l_type, fl->l_whence,
		 (long long)fl->l_start, (long long)fl->l_len, pid);
}

static void prep(const struct ostep *s, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = s->type;
	fl->l_whence = (short)s->whence;
	fl->l_start = s->start;
	fl->l_len = s->len;
	fl->l_pid = s->pid;
}

static bool is_getlk(int cmd) { return cmd == F_GETLK || cmd == F_OFD_GETLK; }

static void ofd_host(const struct ostep *st, struct ores *out)
{
	char dir[] = "/dev/shm/sbxofd.XXXXXX", path[64];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	int fd = open(path, O_CREAT | O_RDWR, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "0123456789", 10), 10);
	close(fd);
	int slot[NSLOT];
	for (int i = 0; i < NSLOT; i++)
		slot[i] = -1;
	for (int i = 0; st[i].op != O_END; i++) {
		const struct ostep *s = &st[i];
		struct ores *r = &out[i];
		memset(r, 0, sizeof(*r));
		switch (s->op) {
		case O_OPEN:
			r->ret = h_sys(slot[s->slot] = open(path, s->a));
			break;
		case O_DUP:
			r->ret = h_sys(slot[s->slot] = dup(slot[s->a]));
			break;
		case O_CLOSE:
			r->ret = h_sys(close(slot[s->slot]));
			slot[s->slot] = -1;
			break;
		case O_LOCK: {
			struct flock fl;
			prep(s, &fl);
			r->ret = h_sys(fcntl(slot[s->slot], s->a, &fl));
			if (!r->ret && is_getlk(s->a))
				fmt_getlk(&fl, r->data);
			break;
		}
		}
		if (r->ret > 0)
			r->ret = 0; /* fd numbers differ */
	}
	for (int i = 0; i < NSLOT; i++)
		if (slot[i] >= 0)
			close(slot[i]);
	unlink(path);
	rmdir(dir);
}

static struct uvfs_sbx_task *new_task(void)
{
	struct uvfs_sbx_task *t;
	struct uvfs_sbx_task_params p = { .vfs = fx.vfs, .mntns = fx.ns, .root = &fx.root, .umask = 022, .tid = 77 };
	cr_assert_eq(uvfs_sbx_task_new(&p, &t), 0);
	return t;
}

static void ofd_sbx(const struct ostep *st, struct ores *out)
{
	struct uvfs_sbx_task *t = new_task();
	long fd = uvfs_sbx_openat(t, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(uvfs_sbx_write(t, (int)fd, "0123456789", 10), 10);
	uvfs_sbx_close(t, (int)fd);
	int slot[NSLOT];
	for (int i = 0; i < NSLOT; i++)
		slot[i] = -1;
	for (int i = 0; st[i].op != O_END; i++) {
		const struct ostep *s = &st[i];
		struct ores *r = &out[i];
		memset(r, 0, sizeof(*r));
		switch (s->op) {
		case O_OPEN:
			r->ret = slot[s->slot] = (int)uvfs_sbx_openat(t, AT_FDCWD, "/f", s->a, 0);
			break;
		case O_DUP:
			r->ret = slot[s->slot] = (int)uvfs_sbx_dup(t, slot[s->a]);
			break;
		case O_CLOSE:
			r->ret = uvfs_sbx_close(t, slot[s->slot]);
			slot[s->slot] = -1;
			break;
		case O_LOCK: {
			struct flock fl;
			prep(s, &fl);
			r->ret = uvfs_sbx_fcntl(t, slot[s->slot], s->a, (unsigned long)&fl);
			if (!r->ret && is_getlk(s->a))
				fmt_getlk(&fl, r->data);
			break;
		}
		}
		if (r->ret > 0)
			r->ret = 0;
	}
	uvfs_sbx_task_put(t);
}

static void diff(const struct ostep *st)
{
	static struct ores h[NSTEP], u[NSTEP];
	int n = 0;
	while (st[n].op != O_END)
		n++;
	cr_assert(n < NSTEP);
	ofd_host(st, h);
	ofd_sbx(st, u);
	for (int i = 0; i < n; i++) {
		cr_expect(h[i].ret == u[i].ret && !strcmp(h[i].data, u[i].data),
			  "step at line %d: kernel %ld \"%s\", sandbox %ld \"%s\"", st[i].line, h[i].ret, h[i].data,
			  u[i].ret, u[i].data);
	}
}

#define LOCK(sl, cmd, ty, s, l, ...) OS(O_LOCK, .slot = (sl), .a = (cmd), .type = (ty), .start = (s), .len = (l), ##__VA_ARGS__)
#define END { .op = O_END }

/* OFD holders conflict with each other across descriptions of one process,
 * and with the process's POSIX locks, in both directions. */
FX_TEST(sbx_ofd, conflicts_with_ofd_and_posix)
{
	const struct ostep st[] = {
		OS(O_OPEN, .slot = 0, .a = O_RDWR),
		OS(O_OPEN, .slot = 1, .a = O_RDWR),
		LOCK(0, F_OFD_SETLK, F_WRLCK, 0, 10),
		LOCK(1, F_OFD_GETLK, F_WRLCK, 5, 0),
		LOCK(1, F_OFD_GETLK, F_RDLCK, 10, 5),
		LOCK(1, F_OFD_SETLK, F_RDLCK, 5, 1),
		LOCK(0, F_OFD_GETLK, F_WRLCK, 0, 0), /* own lock: no conflict */
		LOCK(1, F_SETLK, F_WRLCK, 0, 1), /* POSIX against OFD */
		LOCK(1, F_GETLK, F_WRLCK, 0, 1), /* a POSIX query sees the OFD holder, pid -1 */
		LOCK(0, F_OFD_SETLK, F_UNLCK, 0, 0),
		LOCK(1, F_SETLK, F_WRLCK, 20, 10), /* POSIX lock now */
		LOCK(0, F_OFD_GETLK, F_WRLCK, 25, 1), /* OFD query sees the POSIX holder */
		LOCK(0, F_OFD_SETLK, F_RDLCK, 29, 3),
		LOCK(0, F_OFD_SETLK, F_RDLCK, 30, 3),
		LOCK(1, F_OFD_SETLK, F_RDLCK, 0, 0), /* desc 1's OFD vs its own process's POSIX lock */
		LOCK(0, F_OFD_SETLKW, F_RDLCK, 0, 20), /* no conflict: does not wait */
		LOCK(1, F_OFD_GETLK, F_WRLCK, 0, 0),
		END,
	};
	diff(st);
}

/* l_pid must be 0 on input for every OFD command. */
FX_TEST(sbx_ofd, l_pid_must_be_zero)
{
	const struct ostep st[] = {
		OS(O_OPEN, .slot = 0, .a = O_RDWR),
		LOCK(0, F_OFD_SETLK, F_WRLCK, 0, 10, .pid = 5),
		LOCK(0, F_OFD_SETLKW, F_WRLCK, 0, 10, .pid = -1),
		LOCK(0, F_OFD_GETLK, F_WRLCK, 0, 10, .pid = 1),
		LOCK(0, F_OFD_SETLK, F_UNLCK, 0, 10, .pid = 3),
		LOCK(0, F_SETLK, F_WRLCK, 0, 10, .pid = 5), /* POSIX ignores it */
		LOCK(0, F_OFD_SETLK, F_WRLCK, 0, 10),
		OS(O_OPEN, .slot = 1, .a = O_RDWR),
		LOCK(1, F_OFD_GETLK, F_RDLCK, 0, 1, .pid = 9),
		LOCK(1, F_OFD_GETLK, F_RDLCK, 0, 1),
		END,
	};
	diff(st);
}

/* The owner is the description: closing one dup keeps the lock, closing
 * the last drops it; a POSIX lock goes with the close of any fd of the
 * inode, even of another description. */
FX_TEST(sbx_ofd, released_by_last_close_only)
{
	const struct ostep st[] = {
		OS(O_OPEN, .slot = 0, .a = O_RDWR),
		OS(O_DUP, .slot = 1, .a = 0),
		OS(O_OPEN, .slot = 2, .a = O_RDONLY),
		LOCK(0, F_OFD_SETLK, F_WRLCK, 0, 4),
		LOCK(1, F_OFD_SETLK, F_RDLCK, 2, 2), /* same owner through the dup: replaces part */
		LOCK(2, F_OFD_GETLK, F_WRLCK, 0, 0),
		OS(O_CLOSE, .slot = 0),
		LOCK(2, F_OFD_GETLK, F_WRLCK, 0, 0), /* still held through slot 1 */
		OS(O_OPEN, .slot = 3, .a = O_RDWR),
		OS(O_CLOSE, .slot = 3), /* another description's close: no effect on OFD */
		LOCK(2, F_OFD_GETLK, F_WRLCK, 0, 0),
		OS(O_CLOSE, .slot = 1),
		LOCK(2, F_OFD_GETLK, F_WRLCK, 0, 0), /* gone */
		/* POSIX for contrast */
		OS(O_OPEN, .slot = 4, .a = O_RDWR),
		LOCK(4, F_SETLK, F_WRLCK, 0, 4),
		OS(O_OPEN, .slot = 5, .a = O_RDWR),
		LOCK(5, F_OFD_GETLK, F_WRLCK, 0, 0),
		OS(O_CLOSE, .slot = 2), /* any fd of the inode */
		LOCK(5, F_OFD_GETLK, F_WRLCK, 0, 0),
		END,
	};
	diff(st);
}

/* Argument checks and ranges: types, whence, open modes, negative
 * lengths, splitting and merging of one description's locks. */
FX_TEST(sbx_ofd, arguments_and_ranges)
{
	const struct ostep st[] = {
		OS(O_OPEN, .slot = 0, .a = O_RDONLY),
		OS(O_OPEN, .slot = 1, .a = O_WRONLY),
		OS(O_OPEN, .slot = 2, .a = O_RDWR),
		LOCK(0, F_OFD_SETLK, F_WRLCK, 0, 1), /* EBADF */
		LOCK(1, F_OFD_SETLK, F_RDLCK, 0, 1), /* EBADF */
		LOCK(0, F_OFD_SETLK, 7, 0, 1),
		LOCK(0, F_OFD_GETLK, 7, 0, 1),
		LOCK(0, F_OFD_SETLK, F_RDLCK, 0, 1, .whence = 9),
		LOCK(0, F_OFD_SETLK, F_RDLCK, -1, 1),
		LOCK(0, F_OFD_SETLK, F_RDLCK, 5, -6),
		LOCK(0, F_OFD_SETLK, F_RDLCK, 5, -5), /* [0, 5) */
		LOCK(2, F_OFD_GETLK, F_WRLCK, 0, 0),
		LOCK(0, F_OFD_SETLK, F_UNLCK, 0, 0),
		LOCK(1, F_OFD_SETLK, F_WRLCK, 0, 100),
		LOCK(1, F_OFD_SETLK, F_UNLCK, 10, 10), /* a hole */
		LOCK(2, F_OFD_GETLK, F_WRLCK, 0, 0),
		LOCK(2, F_OFD_GETLK, F_WRLCK, 10, 10),
		LOCK(2, F_OFD_GETLK, F_WRLCK, 12, 0),
		LOCK(1, F_OFD_SETLK, F_WRLCK, 10, 10), /* merged again */
		LOCK(2, F_OFD_GETLK, F_RDLCK, 50, 1),
		LOCK(1, F_OFD_SETLK, F_WRLCK, 0, 0, .whence = SEEK_END), /* from EOF (10) */
		LOCK(2, F_OFD_GETLK, F_RDLCK, 200, 1),
		OS(O_OPEN, .slot = 3, .a = O_PATH),
		LOCK(3, F_OFD_GETLK, F_RDLCK, 0, 0), /* O_PATH: EBADF */
		LOCK(3, F_OFD_SETLK, F_RDLCK, 0, 0),
		LOCK(2, F_OFD_GETLK, F_UNLCK, 0, 0), /* Linux >= 6.9: the caller's own locks */
		LOCK(1, F_OFD_GETLK, F_UNLCK, 5, 0),
		LOCK(1, F_OFD_GETLK, F_UNLCK, 100, 0),
		END,
	};
	diff(st);
}

/* ------------------------------------------------------ sandbox only */

static struct uvfs_sbx_task *wt;
static int wfd_a, wfd_b;

static void *unlock_later(void *a)
{
	(void)a;
	usleep(150 * 1000);
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };
	uvfs_sbx_fcntl(wt, wfd_a, F_OFD_SETLK, (unsigned long)&fl);
	return NULL;
}
static void *interrupt_later(void *a)
{
	(void)a;
	usleep(150 * 1000);
	uvfs_sbx_task_interrupt(wt);
	return NULL;
}
static void *close_later(void *a)
{
	(void)a;
	usleep(150 * 1000);
	uvfs_sbx_close(wt, wfd_a);
	return NULL;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static long setlkw_with(void *(*helper)(void *), long *ms)
{
	wt = new_task();
	wfd_a = (int)uvfs_sbx_openat(wt, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644);
	wfd_b = (int)uvfs_sbx_openat(wt, AT_FDCWD, "/f", O_RDWR, 0);
	cr_assert(wfd_a >= 0 && wfd_b >= 0);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 10 };
	cr_assert_eq(uvfs_sbx_fcntl(wt, wfd_a, F_OFD_SETLK, (unsigned long)&fl), 0);
	pthread_t th;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&th, NULL, helper, NULL);
	fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1 };
	long r = uvfs_sbx_fcntl(wt, wfd_b, F_OFD_SETLKW, (unsigned long)&fl);
	*ms = ms_since(&t0);
	pthread_join(th, NULL);
	return r;
}

FX_TEST(sbx_ofd, setlkw_woken_by_unlock)
{
	long ms, r = setlkw_with(unlock_later, &ms);
	cr_expect_eq(r, 0);
	cr_expect(ms >= 100 && ms < 5000, "woke after %ld ms", ms);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	cr_expect_eq(uvfs_sbx_fcntl(wt, wfd_a, F_OFD_GETLK, (unsigned long)&fl), 0);
	cr_expect_eq(fl.l_type, F_RDLCK);
	cr_expect_eq(fl.l_pid, -1);
	uvfs_sbx_task_put(wt);
}

FX_TEST(sbx_ofd, setlkw_woken_by_last_close)
{
	long ms, r = setlkw_with(close_later, &ms);
	cr_expect_eq(r, 0);
	cr_expect(ms >= 100 && ms < 5000, "woke after %ld ms", ms);
	uvfs_sbx_task_put(wt);
}

FX_TEST(sbx_ofd, setlkw_interrupted)
{
	long ms, r = setlkw_with(interrupt_later, &ms);
	cr_expect_eq(r, -EINTR);
	cr_expect(ms >= 100 && ms < 5000, "returned after %ld ms", ms);
	uvfs_sbx_task_interrupt_clear(wt);
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1 };
	cr_expect_eq(uvfs_sbx_fcntl(wt, wfd_b, F_OFD_SETLK, (unsigned long)&fl), -EAGAIN);
	uvfs_sbx_task_put(wt);
}

/* The description outlives its last fd (an interceptor's reference, as a
 * mapping or a passed fd would on Linux): the lock stays until that
 * reference goes too. */
FX_TEST(sbx_ofd, held_while_description_lives)
{
	struct uvfs_sbx_task *t = new_task();
	int a = (int)uvfs_sbx_openat(t, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644);
	int b = (int)uvfs_sbx_openat(t, AT_FDCWD, "/f", O_RDWR, 0);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	cr_assert_eq(uvfs_sbx_fcntl(t, a, F_OFD_SETLK, (unsigned long)&fl), 0);
	struct uvfs_file *held;
	cr_assert_eq(uvfs_sbx_fd_get(t, a, &held), 0);
	cr_assert_eq(uvfs_sbx_close(t, a), 0);
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
	cr_assert_eq(uvfs_sbx_fcntl(t, b, F_OFD_GETLK, (unsigned long)&fl), 0);
	cr_expect_eq(fl.l_type, F_WRLCK);
	uvfs_file_put(held);
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
	cr_assert_eq(uvfs_sbx_fcntl(t, b, F_OFD_GETLK, (unsigned long)&fl), 0);
	cr_expect_eq(fl.l_type, F_UNLCK);
	/* a forked task shares the description: its lock too */
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
	cr_assert_eq(uvfs_sbx_fcntl(t, b, F_OFD_SETLK, (unsigned long)&fl), 0);
	struct uvfs_sbx_task *c;
	cr_assert_eq(uvfs_sbx_task_fork(t, 0, 78, &c), 0);
	cr_assert_eq(uvfs_sbx_close(t, b), 0);
	int d = (int)uvfs_sbx_openat(c, AT_FDCWD, "/f", O_RDWR, 0);
	fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET };
	cr_expect_eq(uvfs_sbx_fcntl(c, d, F_OFD_SETLK, (unsigned long)&fl), -EAGAIN);
	cr_expect_eq(uvfs_sbx_fcntl(c, b, F_OFD_SETLK, (unsigned long)&fl), 0); /* the owner itself */
	uvfs_sbx_task_put(c);
	uvfs_sbx_task_put(t);
}

/* Hostile arguments: a NULL struct flock, a closed fd, an fd past the
 * table; nothing is locked or leaked. */
FX_TEST(sbx_ofd, bad_arguments)
{
	struct uvfs_sbx_task *t = new_task();
	int a = (int)uvfs_sbx_openat(t, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644);
	cr_expect_eq(uvfs_sbx_fcntl(t, a, F_OFD_SETLK, 0), -EFAULT);
	cr_expect_eq(uvfs_sbx_fcntl(t, a, F_OFD_SETLKW, 0), -EFAULT);
	cr_expect_eq(uvfs_sbx_fcntl(t, a, F_OFD_GETLK, 0), -EFAULT);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	cr_expect_eq(uvfs_sbx_fcntl(t, 77, F_OFD_SETLK, (unsigned long)&fl), -EBADF);
	cr_expect_eq(uvfs_sbx_fcntl(t, 1 << 25, F_OFD_SETLK, (unsigned long)&fl), -EBADF);
	cr_expect_eq(uvfs_sbx_fcntl(t, -1, F_OFD_GETLK, (unsigned long)&fl), -EBADF);
	int b = (int)uvfs_sbx_openat(t, AT_FDCWD, "/f", O_RDWR, 0);
	cr_expect_eq(uvfs_sbx_fcntl(t, b, F_OFD_SETLK, (unsigned long)&fl), 0); /* nothing was left locked */
	uvfs_sbx_task_put(t);
}
