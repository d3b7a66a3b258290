/* test_fifo.c — FIFOs made with mknod(S_IFIFO) in a uvfs tmpfs, opened
 * through the VFS, against the pipe object of devices/fifo.c. Where Linux
 * defines the behaviour, the same sequence runs on a host FIFO (mkfifo in
 * a temporary directory) and the results are compared. */
#include "fixture.h"

#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tests/devices/intr.h"

#define HOST_PIPE_CAP 65536 /* Linux default pipe size */

static void mkfifo_u(const char *path)
{
	struct uvfs_pathop p = fx_pop(path);
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFIFO | 0666, 0));
}

static struct uvfs_file *open_u(const char *path, int flags)
{
	struct uvfs_file *f = NULL;
	int rc = fx_open(path, flags, 0, &f);
	cr_assert_eq(rc, 0, "open %s flags %#x: %s", path, flags, fx_err(rc));
	return f;
}

/* A host FIFO in a fresh directory; *dir is freed by host_fifo_done. */
static char host_dir[64], host_path[96];
static void host_fifo(void)
{
	strcpy(host_dir, "/tmp/uvfs-fifo-XXXXXX");
	cr_assert_not_null(mkdtemp(host_dir));
	snprintf(host_path, sizeof host_path, "%s/f", host_dir);
	cr_assert_eq(mkfifo(host_path, 0666), 0);
}
static void host_fifo_done(void)
{
	unlink(host_path);
	rmdir(host_dir);
}
static long hret(long r) { return r < 0 ? -errno : r; }

FX_TEST(fifo, open_nonblock_rules_match_host)
{
	mkfifo_u("/f");
	host_fifo();
	/* Writer first without a reader: ENXIO on both. */
	struct uvfs_file *f = NULL;
	long u = fx_open("/f", O_WRONLY | O_NONBLOCK, 0, &f);
	long h = hret(open(host_path, O_WRONLY | O_NONBLOCK));
	FX_ASSERT_ERR(u, h);
	FX_ASSERT_ERR(u, -ENXIO);
	/* A non-blocking reader succeeds alone; then a non-blocking writer too. */
	struct uvfs_file *r = open_u("/f", O_RDONLY | O_NONBLOCK);
	int hr = open(host_path, O_RDONLY | O_NONBLOCK);
	cr_assert_geq(hr, 0);
	/* No writer ever: read is EOF (0), not EAGAIN (Linux). */
	char buf[16];
	FX_ASSERT_ERR(uvfs_read(r, buf, sizeof buf), hret(read(hr, buf, sizeof buf)));
	struct uvfs_file *w = open_u("/f", O_WRONLY | O_NONBLOCK);
	int hw = open(host_path, O_WRONLY | O_NONBLOCK);
	cr_assert_geq(hw, 0);
	/* Writer present, nothing written: EAGAIN on both. */
	FX_ASSERT_ERR(uvfs_read(r, buf, sizeof buf), hret(read(hr, buf, sizeof buf)));
	FX_ASSERT_ERR(uvfs_read(r, buf, sizeof buf), -EAGAIN);
	FX_ASSERT_ERR(uvfs_write(w, "hello", 5), hret(write(hw, "hello", 5)));
	int un = -1, hn = -2;
	FX_ASSERT_OK(uvfs_ioctl(r, FIONREAD, &un));
	cr_assert_eq(ioctl(hr, FIONREAD, &hn), 0);
	cr_assert_eq(un, hn, "FIONREAD %d vs host %d", un, hn);
	cr_assert_eq(un, 5);
	char ub[16] = { 0 }, hb[16] = { 0 };
	FX_ASSERT_ERR(uvfs_read(r, ub, 3), hret(read(hr, hb, 3)));
	FX_ASSERT_ERR(uvfs_read(r, ub + 3, 10), hret(read(hr, hb + 3, 10)));
	cr_assert_str_eq(ub, hb);
	cr_assert_str_eq(ub, "hello");
	/* Seeking a FIFO: ESPIPE. */
	FX_ASSERT_ERR(uvfs_seek(r, 0, SEEK_CUR), hret(lseek(hr, 0, SEEK_CUR)));
	/* Zero-length transfers. */
	FX_ASSERT_ERR(uvfs_write(w, "", 0), hret(write(hw, "", 0)));
	/* All writers gone: EOF. */
	uvfs_file_put(w);
	close(hw);
	FX_ASSERT_ERR(uvfs_read(r, buf, sizeof buf), hret(read(hr, buf, sizeof buf)));
	FX_ASSERT_ERR(uvfs_read(r, buf, sizeof buf), 0);
	uvfs_file_put(r);
	close(hr);
	/* O_RDWR never blocks. */
	struct uvfs_file *rw = open_u("/f", O_RDWR);
	FX_ASSERT_ERR(uvfs_write(rw, "ab", 2), 2);
	FX_ASSERT_ERR(uvfs_read(rw, buf, sizeof buf), 2);
	uvfs_file_put(rw);
	host_fifo_done();
}

/* EPIPE (and no SIGPIPE: the test would die of it) when no reader is left. */
FX_TEST(fifo, epipe_without_readers)
{
	mkfifo_u("/f");
	struct uvfs_file *r = open_u("/f", O_RDONLY | O_NONBLOCK);
	struct uvfs_file *w = open_u("/f", O_WRONLY | O_NONBLOCK);
	uvfs_file_put(r);
	FX_ASSERT_ERR(uvfs_write(w, "x", 1), -EPIPE);
	FX_ASSERT_ERR(uvfs_poll(w, POLLOUT, 0), POLLOUT | POLLERR);
	uvfs_file_put(w);
}

/* Capacity: a non-blocking writer fills exactly 64 KiB, as Linux. */
FX_TEST(fifo, capacity_64k_matches_host)
{
	mkfifo_u("/f");
	host_fifo();
	struct uvfs_file *r = open_u("/f", O_RDONLY | O_NONBLOCK);
	struct uvfs_file *w = open_u("/f", O_WRONLY | O_NONBLOCK);
	int hr = open(host_path, O_RDONLY | O_NONBLOCK);
	int hw = open(host_path, O_WRONLY | O_NONBLOCK);
	cr_assert(hr >= 0 && hw >= 0);
	static char chunk[1000];
	memset(chunk, 'c', sizeof chunk);
	long ut = 0, ht = 0, n;
	/* Byte by byte from empty: exactly 64 KiB on both. */
	while ((n = uvfs_write(w, chunk, 1)) > 0)
		ut += n;
	FX_ASSERT_ERR(n, -EAGAIN);
	while ((n = write(hw, chunk, 1)) > 0)
		ht += n;
	cr_assert_eq(errno, EAGAIN);
	cr_assert_eq(ut, 65536, "uvfs took %ld", ut);
	cr_assert_eq(ht, ut, "host took %ld, uvfs %ld", ht, ut);
	static char drain[65536];
	FX_ASSERT_ERR(uvfs_read(r, drain, sizeof drain), 65536);
	cr_assert_eq(read(hr, drain, sizeof drain), 65536);
	/* 1000-byte (atomic) writes pack four to a page: 64000 on both. */
	for (ut = ht = 0; (n = uvfs_write(w, chunk, sizeof chunk)) > 0;)
		ut += n;
	FX_ASSERT_ERR(n, -EAGAIN);
	while ((n = write(hw, chunk, sizeof chunk)) > 0)
		ht += n;
	cr_assert_eq(ut, 64000, "uvfs took %ld", ut);
	cr_assert_eq(ht, ut, "host took %ld, uvfs %ld", ht, ut);
	/* The last page still takes 96 single bytes, then nothing. */
	while ((n = uvfs_write(w, chunk, 1)) > 0)
		ut += n;
	while ((n = write(hw, chunk, 1)) > 0)
		ht += n;
	cr_assert_eq(ut, 64096, "uvfs took %ld", ut);
	cr_assert_eq(ht, ut, "host took %ld, uvfs %ld", ht, ut);
	/* Full for PIPE_BUF writes: they are all-or-nothing. */
	FX_ASSERT_ERR(uvfs_write(w, chunk, 1), -EAGAIN);
	FX_ASSERT_ERR(uvfs_poll(w, POLLOUT, 0), 0);
	FX_ASSERT_ERR(uvfs_poll(r, POLLIN, 0), POLLIN);
	int un;
	FX_ASSERT_OK(uvfs_ioctl(r, FIONREAD, &un));
	cr_assert_eq(un, 64096);
	int hn;
	cr_assert_eq(ioctl(hr, FIONREAD, &hn), 0);
	cr_assert_eq(hn, un);
	/* Free less than PIPE_BUF: a PIPE_BUF write still fails. */
	static char big[PIPE_BUF];
	FX_ASSERT_ERR(uvfs_read(r, big, 100), 100);
	FX_ASSERT_ERR(uvfs_write(w, big, PIPE_BUF), -EAGAIN);
	cr_assert_eq(read(hr, big, 100), 100);
	cr_assert_eq(write(hw, big, PIPE_BUF), -1);
	cr_assert_eq(errno, EAGAIN);
	uvfs_file_put(r);
	uvfs_file_put(w);
	close(hr);
	close(hw);
	host_fifo_done();
}

/* A non-blocking write larger than PIPE_BUF may be partial. */
FX_TEST(fifo, nonblock_big_write_partial)
{
	mkfifo_u("/f");
	struct uvfs_file *r = open_u("/f", O_RDONLY | O_NONBLOCK);
	struct uvfs_file *w = open_u("/f", O_WRONLY | O_NONBLOCK);
	char *buf = calloc(1, 100000);
	FX_ASSERT_ERR(uvfs_write(w, buf, 100000), 65536);
	FX_ASSERT_ERR(uvfs_write(w, buf, 100000), -EAGAIN);
	free(buf);
	uvfs_file_put(r);
	uvfs_file_put(w);
}

/* Poll readiness on the reader and writer sides. */
FX_TEST(fifo, poll_states)
{
	mkfifo_u("/f");
	host_fifo();
	struct uvfs_file *r = open_u("/f", O_RDONLY | O_NONBLOCK);
	int hr = open(host_path, O_RDONLY | O_NONBLOCK);
	struct pollfd hp = { .fd = hr, .events = POLLIN | POLLOUT };
	/* A reader that never saw a writer: nothing (not POLLHUP). */
	cr_assert_eq(poll(&hp, 1, 0), 0);
	FX_ASSERT_ERR(uvfs_poll(r, POLLIN | POLLOUT, 0), 0);
	struct uvfs_file *w = open_u("/f", O_WRONLY | O_NONBLOCK);
	int hw = open(host_path, O_WRONLY | O_NONBLOCK);
	struct pollfd hpw = { .fd = hw, .events = POLLIN | POLLOUT };
	cr_assert_eq(poll(&hpw, 1, 0), 1);
	FX_ASSERT_ERR(uvfs_poll(w, POLLIN | POLLOUT, 0), hpw.revents);
	FX_ASSERT_ERR(uvfs_write(w, "z", 1), 1);
	cr_assert_eq(write(hw, "z", 1), 1);
	cr_assert_eq(poll(&hp, 1, 0), 1);
	FX_ASSERT_ERR(uvfs_poll(r, POLLIN | POLLOUT, 0), hp.revents);
	/* Writer gone with data left: POLLIN|POLLHUP. */
	uvfs_file_put(w);
	close(hw);
	cr_assert_eq(poll(&hp, 1, 0), 1);
	FX_ASSERT_ERR(uvfs_poll(r, POLLIN | POLLOUT, 0), hp.revents);
	cr_assert_eq(hp.revents, POLLIN | POLLHUP);
	uvfs_file_put(r);
	close(hr);
	host_fifo_done();
}

/* ------------------------------------------------ blocking behaviour */

struct opener {
	const char *path;
	int flags;
	struct uvfs_file *f;
	int rc;
	_Atomic int done;
};

static void *open_thread(void *arg)
{
	struct opener *o = arg;
	o->rc = fx_open(o->path, o->flags, 0, &o->f);
	atomic_store(&o->done, 1);
	return NULL;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A blocking reader open waits for a writer, and vice versa. */
FX_TEST(fifo, blocking_open_rendezvous)
{
	mkfifo_u("/f");
	struct opener rd = { .path = "/f", .flags = O_RDONLY };
	pthread_t t;
	pthread_create(&t, NULL, open_thread, &rd);
	sleep_ms(100);
	cr_assert_eq(atomic_load(&rd.done), 0, "reader open did not wait for a writer");
	struct uvfs_file *w = open_u("/f", O_WRONLY);
	pthread_join(t, NULL);
	FX_ASSERT_OK(rd.rc);
	uvfs_file_put(rd.f);
	uvfs_file_put(w);

	struct opener wr = { .path = "/f", .flags = O_WRONLY };
	pthread_create(&t, NULL, open_thread, &wr);
	sleep_ms(100);
	cr_assert_eq(atomic_load(&wr.done), 0, "writer open did not wait for a reader");
	struct uvfs_file *r = open_u("/f", O_RDONLY);
	pthread_join(t, NULL);
	FX_ASSERT_OK(wr.rc);
	uvfs_file_put(wr.f);
	uvfs_file_put(r);
}

struct reader {
	struct uvfs_file *f;
	char buf[64];
	long n;
	_Atomic int done;
};

static void *read_thread(void *arg)
{
	struct reader *rd = arg;
	rd->n = uvfs_read(rd->f, rd->buf, sizeof rd->buf);
	atomic_store(&rd->done, 1);
	return NULL;
}

/* A blocking read waits for data, then for all writers to go (EOF). */
FX_TEST(fifo, blocking_read_waits_for_data_then_eof)
{
	mkfifo_u("/f");
	struct uvfs_file *r = open_u("/f", O_RDONLY | O_NONBLOCK);
	struct uvfs_file *w = open_u("/f", O_WRONLY);
	FX_ASSERT_OK(uvfs_file_set_flags(r, &fx.cred, O_RDONLY)); /* blocking from now on */
	struct reader rd = { .f = r };
	pthread_t t;
	pthread_create(&t, NULL, read_thread, &rd);
	sleep_ms(100);
	cr_assert_eq(atomic_load(&rd.done), 0, "read did not block");
	FX_ASSERT_ERR(uvfs_write(w, "data", 4), 4);
	pthread_join(t, NULL);
	cr_assert_eq(rd.n, 4);
	cr_assert_eq(memcmp(rd.buf, "data", 4), 0);
	/* Blocked again; closing the writer gives EOF. */
	rd.done = 0;
	pthread_create(&t, NULL, read_thread, &rd);
	sleep_ms(100);
	cr_assert_eq(atomic_load(&rd.done), 0, "read did not block");
	uvfs_file_put(w);
	pthread_join(t, NULL);
	cr_assert_eq(rd.n, 0);
	uvfs_file_put(r);
}

/* A blocking write into a full pipe waits for a reader to make room; a
 * blocked poll wakes when data arrives. */
struct writer {
	struct uvfs_file *f;
	const void *buf;
	size_t len;
	long n;
	_Atomic int done;
};

static void *write_thread(void *arg)
{
	struct writer *wr = arg;
	wr->n = uvfs_write(wr->f, wr->buf, wr->len);
	atomic_store(&wr->done, 1);
	return NULL;
}

FX_TEST(fifo, blocking_write_waits_for_room)
{
	mkfifo_u("/f");
	struct uvfs_file *r = open_u("/f", O_RDONLY | O_NONBLOCK);
	struct uvfs_file *w = open_u("/f", O_WRONLY);
	char *big = malloc(65536 + 10);
	memset(big, 'b', 65536 + 10);
	struct writer wr = { .f = w, .buf = big, .len = 65536 + 10 };
	pthread_t t;
	pthread_create(&t, NULL, write_thread, &wr);
	sleep_ms(100);
	cr_assert_eq(atomic_load(&wr.done), 0, "write past capacity did not block");
	char *got = malloc(65536 + 10);
	long tot = 0;
	while (tot < 65536 + 10) {
		long n = uvfs_read(r, got + tot, 65536 + 10 - (size_t)tot);
		if (n == -EAGAIN) {
			sleep_ms(1);
			continue;
		}
		cr_assert_gt(n, 0);
		tot += n;
	}
	pthread_join(t, NULL);
	cr_assert_eq(wr.n, 65536 + 10);
	cr_assert_eq(memcmp(got, big, 65536 + 10), 0);
	free(got);
	free(big);
	uvfs_file_put(r);
	uvfs_file_put(w);
}

static void *delayed_write(void *arg)
{
	sleep_ms(100);
	uvfs_write(arg, "p", 1);
	return NULL;
}

FX_TEST(fifo, poll_wakes_on_data)
{
	mkfifo_u("/f");
	struct uvfs_file *r = open_u("/f", O_RDONLY | O_NONBLOCK);
	struct uvfs_file *w = open_u("/f", O_WRONLY);
	pthread_t t;
	pthread_create(&t, NULL, delayed_write, w);
	FX_ASSERT_ERR(uvfs_poll(r, POLLIN, 5000), POLLIN);
	pthread_join(t, NULL);
	uvfs_file_put(r);
	uvfs_file_put(w);
}

/* Independent FIFOs are independent pipes; a FIFO's data is dropped when
 * every end is closed (Linux frees the pipe). */
FX_TEST(fifo, separate_inodes_and_reset)
{
	mkfifo_u("/a");
	mkfifo_u("/b");
	struct uvfs_file *ra = open_u("/a", O_RDWR), *rb = open_u("/b", O_RDWR);
	FX_ASSERT_ERR(uvfs_write(ra, "A", 1), 1);
	int n;
	FX_ASSERT_OK(uvfs_ioctl(rb, FIONREAD, &n));
	cr_assert_eq(n, 0);
	uvfs_file_put(ra);
	uvfs_file_put(rb);
	ra = open_u("/a", O_RDWR);
	FX_ASSERT_OK(uvfs_ioctl(ra, FIONREAD, &n));
	cr_assert_eq(n, 0);
	uvfs_file_put(ra);
	/* A hard link is the same FIFO. */
	struct uvfs_pathop o = fx_pop("/a"), l = fx_pop("/a2");
	FX_ASSERT_OK(uvfs_link_at(fx.vfs, &fx.cred, &o, &l));
	ra = open_u("/a", O_RDWR);
	struct uvfs_file *ra2 = open_u("/a2", O_RDONLY);
	FX_ASSERT_ERR(uvfs_write(ra, "xy", 2), 2);
	char b[4];
	FX_ASSERT_ERR(uvfs_read(ra2, b, 4), 2);
	uvfs_file_put(ra2);
	uvfs_file_put(ra);
}

/* A FIFO is a stream: a reader blocked on one O_RDWR file description
 * must not stop a writer using the same description (Linux takes no
 * f_pos lock for FMODE_STREAM files), and pread/pwrite are ESPIPE. */
FX_TEST(fifo, same_file_read_blocked_write_proceeds)
{
	mkfifo_u("/f");
	struct uvfs_file *rw = open_u("/f", O_RDWR);
	struct reader rd = { .f = rw };
	pthread_t t;
	pthread_create(&t, NULL, read_thread, &rd);
	sleep_ms(100);
	cr_assert_eq(atomic_load(&rd.done), 0, "read did not block");
	struct writer wr = { .f = rw, .buf = "ping", .len = 4 };
	pthread_t t2;
	pthread_create(&t2, NULL, write_thread, &wr);
	for (int i = 0; i < 50 && !atomic_load(&wr.done); i++)
		sleep_ms(10);
	cr_assert_eq(atomic_load(&wr.done), 1, "a write on the same file waited behind the blocked read");
	pthread_join(t2, NULL);
	pthread_join(t, NULL);
	cr_assert_eq(rd.n, 4);
	uvfs_file_put(rw);
}

FX_TEST(fifo, pread_pwrite_espipe_as_host)
{
	mkfifo_u("/f");
	host_fifo();
	struct uvfs_file *rw = open_u("/f", O_RDWR);
	int h = open(host_path, O_RDWR);
	cr_assert_geq(h, 0);
	char b[4];
	FX_ASSERT_ERR(uvfs_pwrite(rw, "x", 1, 0), hret(pwrite(h, "x", 1, 0)));
	FX_ASSERT_ERR(uvfs_pread(rw, b, 1, 0), hret(pread(h, b, 1, 0)));
	FX_ASSERT_ERR(uvfs_pread(rw, b, 1, 0), -ESPIPE);
	struct iovec iov = { b, 1 };
	FX_ASSERT_ERR(uvfs_preadv(rw, &iov, 1, 0), hret(preadv(h, &iov, 1, 0)));
	uvfs_file_put(rw);
	close(h);
	host_fifo_done();
}

/* Interruptible waits: a blocked FIFO call whose caller context is
 * interrupted (a signal pending for the embedder's task) returns -EINTR
 * promptly, with nothing half-done (Linux: -ERESTARTSYS, the caller sees
 * EINTR), and the pipe keeps working. */
static long op_read(struct intr_op *op)
{
	char b[8];
	return uvfs_read(op->arg, b, sizeof b);
}

FX_TEST(fifo, blocked_read_interrupted_eintr)
{
	mkfifo_u("/f");
	struct uvfs_file *rw = open_u("/f", O_RDWR);
	struct intr_op op = { .fn = op_read, .arg = rw };
	cr_assert(intr_start(&op), "read did not block");
	bool ok = intr_interrupt(&op);
	if (!ok)
		uvfs_write(rw, "x", 1); /* unblock it to fail cleanly */
	intr_join(&op);
	cr_assert(ok, "a blocked read did not return when interrupted");
	FX_ASSERT_ERR(op.rc, -EINTR);
	FX_ASSERT_ERR(uvfs_write(rw, "ab", 2), 2);
	char b[4];
	FX_ASSERT_ERR(uvfs_read(rw, b, 4), 2);
	uvfs_file_put(rw);
}

struct open_arg {
	const char *path;
	int flags;
	struct uvfs_file *f;
};
static long op_open(struct intr_op *op)
{
	struct open_arg *a = op->arg;
	return fx_open(a->path, a->flags, 0, &a->f);
}

FX_TEST(fifo, blocked_open_interrupted_eintr_undone)
{
	mkfifo_u("/f");
	/* A non-blocking reader keeps the pipe alive (and its counts seen). */
	struct uvfs_file *r0 = open_u("/f", O_RDONLY | O_NONBLOCK);
	/* A blocking reader waiting for a writer. */
	struct open_arg oa = { "/f", O_RDONLY, NULL };
	struct intr_op op = { .fn = op_open, .arg = &oa };
	cr_assert(intr_start(&op), "reader open did not block");
	bool ok = intr_interrupt(&op);
	if (!ok) {
		struct uvfs_file *w = open_u("/f", O_WRONLY | O_NONBLOCK);
		uvfs_file_put(w);
	}
	intr_join(&op);
	if (oa.f)
		uvfs_file_put(oa.f);
	cr_assert(ok, "a reader's blocked open did not return when interrupted");
	FX_ASSERT_ERR(op.rc, -EINTR);
	cr_assert_null(oa.f);
	/* The failed open left no reader behind: once r0 goes, a write has
	 * no reader (EPIPE) and poll says POLLERR. */
	struct uvfs_file *w = open_u("/f", O_WRONLY | O_NONBLOCK);
	uvfs_file_put(r0);
	cr_assert(uvfs_poll(w, POLLOUT, 0) & POLLERR, "a reader was left behind");
	FX_ASSERT_ERR(uvfs_write(w, "x", 1), -EPIPE);

	/* A blocking writer waiting for a reader, w keeping the pipe. */
	oa = (struct open_arg){ "/f", O_WRONLY, NULL };
	cr_assert(intr_start(&op), "writer open did not block");
	ok = intr_interrupt(&op);
	if (!ok) {
		struct uvfs_file *r = open_u("/f", O_RDONLY | O_NONBLOCK);
		uvfs_file_put(r);
	}
	intr_join(&op);
	if (oa.f)
		uvfs_file_put(oa.f);
	cr_assert(ok, "a writer's blocked open did not return when interrupted");
	FX_ASSERT_ERR(op.rc, -EINTR);
	/* No writer left behind: once w goes, a reader reads EOF, not EAGAIN. */
	struct uvfs_file *r = open_u("/f", O_RDONLY | O_NONBLOCK);
	uvfs_file_put(w);
	char b[4];
	FX_ASSERT_ERR(uvfs_read(r, b, sizeof b), 0);
	uvfs_file_put(r);
}

struct write_arg {
	struct uvfs_file *f;
	const char *buf;
	size_t len;
};
static long op_write(struct intr_op *op)
{
	struct write_arg *a = op->arg;
	return uvfs_write(a->f, a->buf, a->len);
}

FX_TEST(fifo, blocked_write_interrupted_eintr_or_partial)
{
	mkfifo_u("/f");
	struct uvfs_file *rw = open_u("/f", O_RDWR);
	char *big = calloc(1, HOST_PIPE_CAP + 4096);
	cr_assert_not_null(big);
	/* Nothing written yet when interrupted: -EINTR, nothing went in. */
	FX_ASSERT_ERR(uvfs_write(rw, big, HOST_PIPE_CAP), HOST_PIPE_CAP);
	struct write_arg wa = { rw, "0123456789", 10 };
	struct intr_op op = { .fn = op_write, .arg = &wa };
	cr_assert(intr_start(&op), "write to a full pipe did not block");
	bool ok = intr_interrupt(&op);
	if (!ok)
		uvfs_read(rw, big, 4096);
	intr_join(&op);
	cr_assert(ok, "a blocked write did not return when interrupted");
	FX_ASSERT_ERR(op.rc, -EINTR);
	int n = -1;
	FX_ASSERT_OK(uvfs_ioctl(rw, FIONREAD, &n));
	cr_assert_eq(n, HOST_PIPE_CAP);
	/* Part written: the count so far (Linux pipe_write). */
	while (uvfs_ioctl(rw, FIONREAD, &n) == 0 && n > 0)
		uvfs_read(rw, big, 4096);
	wa = (struct write_arg){ rw, big, HOST_PIPE_CAP + 4096 };
	cr_assert(intr_start(&op), "an oversized write did not block");
	ok = intr_interrupt(&op);
	if (!ok)
		uvfs_read(rw, big, 4096);
	intr_join(&op);
	cr_assert(ok, "a blocked partial write did not return when interrupted");
	FX_ASSERT_ERR(op.rc, HOST_PIPE_CAP);
	free(big);
	uvfs_file_put(rw);
}
