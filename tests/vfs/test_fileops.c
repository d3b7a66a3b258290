/* test_fileops.c — the file-operation interface as a filesystem or device
 * sees it: the VFS's range checks (rw_verify_area), vectored I/O, ioctl,
 * poll and wait queues, flush on close, F_SETFL and the generic llseek.
 * Each is exercised through a test device defined here (a character
 * device registered in the device registry, opened through a node on the
 * fixture's tmpfs), so the ops under test are this file's, not tmpfs's. */
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

#include "uvfs_fs.h"

#define MAX_RW_COUNT 0x7ffff000L

/* ------------------------------------------------------- a test device */

/* A recording device: reads fill 'r' and remember the (len, off) they got;
 * writes accept everything up to 'wlimit' bytes per call. */
struct rec {
	size_t last_len;
	uint64_t last_off;
	int calls;
	size_t wlimit; /* 0: no limit */
	char data[64]; /* what writes stored, concatenated */
	size_t ndata;
};
static struct rec rec;

static ssize_t rec_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	rec.last_len = len;
	rec.last_off = off;
	rec.calls++;
	size_t n = len < 16 ? len : 16; /* never touch more than 16 bytes */
	memset(buf, 'r', n);
	return (ssize_t)n;
}
static ssize_t rec_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	rec.last_len = len;
	rec.last_off = *off;
	rec.calls++;
	size_t n = len;
	if (rec.wlimit && n > rec.wlimit)
		n = rec.wlimit;
	if (n > 16)
		n = 16; /* huge lengths in tests point at small buffers */
	if (rec.ndata + n <= sizeof(rec.data)) {
		memcpy(rec.data + rec.ndata, buf, n);
		rec.ndata += n;
	}
	*off += n;
	return (ssize_t)n;
}
static const struct uvfs_file_ops rec_ops = { .read = rec_read, .write = rec_write };

#define REC_MAJOR 240
static struct uvfs_file *open_dev(const struct uvfs_file_ops *ops, uint32_t minor, int oflags)
{
	char path[32];
	snprintf(path, sizeof path, "/dev%u", minor);
	struct uvfs_pathop p = fx_pop(path);
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFCHR | 0666, makedev(REC_MAJOR, minor)));
	FX_ASSERT_OK(uvfs_register_device(fx.vfs, UVFS_DEV_CHAR, REC_MAJOR, minor, ops, NULL, "test"));
	struct uvfs_file *f = NULL;
	FX_ASSERT_OK(fx_open(path, oflags, 0, &f));
	return f;
}

/* ----------------------------------------------------- rw_verify_area */

FX_TEST(fileops, verify_area_overflow_is_einval_before_the_device)
{
	struct uvfs_file *f = open_dev(&rec_ops, 1, O_RDWR);
	char buf[32];
	/* pos + count past INT64_MAX: -EINVAL and the device is not called
	 * (Linux: pread(fd, b, 100, LLONG_MAX - 10) is EINVAL). */
	FX_ASSERT_ERR(uvfs_pread(f, buf, 100, INT64_MAX - 10), -EINVAL);
	FX_ASSERT_ERR(uvfs_pwrite(f, buf, 100, INT64_MAX - 10), -EINVAL);
	FX_ASSERT_ERR(uvfs_pread(f, buf, 10, -1), -EINVAL);
	FX_ASSERT_ERR(uvfs_pwrite(f, buf, 10, INT64_MIN), -EINVAL);
	cr_assert_eq(rec.calls, 0, "the device was called %d times with a bad range", rec.calls);
	/* Exactly up to INT64_MAX is fine. */
	cr_assert_eq(uvfs_pread(f, buf, 10, INT64_MAX - 10), 10);
	cr_assert_eq(rec.last_off, (uint64_t)INT64_MAX - 10);
	uvfs_file_put(f);
}

FX_TEST(fileops, verify_area_caps_count_at_max_rw_count)
{
	struct uvfs_file *f = open_dev(&rec_ops, 1, O_RDWR);
	char buf[32];
	/* The device sees at most MAX_RW_COUNT (it writes 16 bytes only). */
	cr_assert_eq(uvfs_pread(f, buf, (size_t)INT_MAX + 100, 0), 16);
	cr_assert_eq(rec.last_len, (size_t)MAX_RW_COUNT, "device got len %zu", rec.last_len);
	cr_assert_eq(uvfs_pwrite(f, buf, (size_t)1 << 40, 0), 16);
	cr_assert_eq(rec.last_len, (size_t)MAX_RW_COUNT, "device got len %zu", rec.last_len);
	/* A count that is negative as ssize_t is -EINVAL (rw_verify_area). */
	rec.calls = 0;
	FX_ASSERT_ERR(uvfs_read(f, buf, (size_t)SSIZE_MAX + 1), -EINVAL);
	FX_ASSERT_ERR(uvfs_write(f, buf, SIZE_MAX), -EINVAL);
	cr_assert_eq(rec.calls, 0);
	uvfs_file_put(f);
}

FX_TEST(fileops, verify_area_checks_the_file_position)
{
	/* read/write at f_pos = INT64_MAX: pos + count overflows → EINVAL
	 * (host tmpfs: read and write after lseek(fd, LLONG_MAX) are EINVAL;
	 * a zero-length write is 0). */
	fx_must_write("/f", "data");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_RDWR, 0, &f));
	cr_assert_eq(uvfs_seek(f, INT64_MAX, SEEK_SET), INT64_MAX);
	char buf[8];
	FX_ASSERT_ERR(uvfs_read(f, buf, sizeof buf), -EINVAL);
	FX_ASSERT_ERR(uvfs_write(f, "abc", 3), -EINVAL);
	cr_assert_eq(uvfs_write(f, "", 0), 0);
	uvfs_file_put(f);
}

/* -------------------------------------------------------- generic seek */

FX_TEST(fileops, generic_seek_without_llseek_op_matches_linux)
{
	/* The device has no llseek: the VFS's generic seek on i_size (0 for a
	 * node). Linux generic_file_llseek: SEEK_DATA/SEEK_HOLE at or past
	 * EOF, negative offsets included, are ENXIO; overflow is EINVAL. */
	struct uvfs_file *f = open_dev(&rec_ops, 1, O_RDWR);
	cr_assert_eq(uvfs_seek(f, 5, SEEK_END), 5);
	cr_assert_eq(uvfs_seek(f, 7, SEEK_CUR), 12);
	FX_ASSERT_ERR(uvfs_seek(f, -1, SEEK_DATA), -ENXIO);
	FX_ASSERT_ERR(uvfs_seek(f, -1, SEEK_HOLE), -ENXIO);
	FX_ASSERT_ERR(uvfs_seek(f, 0, SEEK_DATA), -ENXIO);
	cr_assert_eq(uvfs_seek(f, INT64_MAX, SEEK_SET), INT64_MAX);
	FX_ASSERT_ERR(uvfs_seek(f, 1, SEEK_CUR), -EINVAL);
	FX_ASSERT_ERR(uvfs_seek(f, -1, SEEK_SET), -EINVAL);
	FX_ASSERT_ERR(uvfs_seek(f, 0, 42), -EINVAL);
	cr_assert_eq(uvfs_seek(f, 0, SEEK_CUR), INT64_MAX, "failed seeks leave the position alone");
	uvfs_file_put(f);
}

/* A driver's llseek never sees a whence lseek(2) itself refuses (Linux
 * ksys_lseek: whence > SEEK_MAX is EINVAL before vfs_llseek). */
static int seek_calls;
static int64_t any_llseek(struct uvfs_file *f, int64_t off, int whence)
{
	seek_calls++;
	return 0;
}
static const struct uvfs_file_ops seek_ops = { .read = rec_read, .llseek = any_llseek };

FX_TEST(fileops, bad_whence_never_reaches_the_driver)
{
	struct uvfs_file *f = open_dev(&seek_ops, 2, O_RDONLY);
	FX_ASSERT_ERR(uvfs_seek(f, 0, SEEK_HOLE + 1), -EINVAL);
	FX_ASSERT_ERR(uvfs_seek(f, 0, -1), -EINVAL);
	cr_assert_eq(seek_calls, 0);
	cr_assert_eq(uvfs_seek(f, 0, SEEK_HOLE), 0);
	cr_assert_eq(seek_calls, 1);
	uvfs_file_put(f);
}

/* --------------------------------------------------------- vectored I/O */

FX_TEST(fileops, readv_loops_plain_read_and_stops_at_short)
{
	struct uvfs_file *f = open_dev(&rec_ops, 1, O_RDWR);
	char a[10], b[10], c[30];
	/* rec_read moves at most 16 bytes a call: 10 + 10 are both full. */
	struct iovec v[3] = { { a, 10 }, { b, 10 }, { c, 30 } };
	rec.calls = 0;
	cr_assert_eq(uvfs_preadv(f, v, 2, 100), 20);
	cr_assert_eq(rec.calls, 2);
	cr_assert_eq(rec.last_off, 110, "second segment at pos + first, got %llu", (unsigned long long)rec.last_off);
	/* 30 gets 16: short, the loop stops before the next segment. */
	struct iovec w[2] = { { c, 30 }, { a, 10 } };
	rec.calls = 0;
	cr_assert_eq(uvfs_readv(f, w, 2), 16);
	cr_assert_eq(rec.calls, 1, "stopped after the short segment");
	cr_assert_eq(uvfs_seek(f, 0, SEEK_CUR), 16, "f_pos advanced by the total");
	uvfs_file_put(f);
}

FX_TEST(fileops, writev_fallback_short_write_and_checks)
{
	struct uvfs_file *f = open_dev(&rec_ops, 1, O_RDWR);
	rec.wlimit = 3;
	struct iovec v[2] = { { "abcdef", 6 }, { "XY", 2 } };
	cr_assert_eq(uvfs_writev(f, v, 2), 3, "first segment short: stop");
	cr_assert_eq(rec.ndata, 3);
	rec.wlimit = 0;
	rec.ndata = 0;
	cr_assert_eq(uvfs_pwritev(f, v, 2, 0), 8);
	cr_assert(memcmp(rec.data, "abcdefXY", 8) == 0);
	/* Linux import_iovec / rw_verify_area errors, and nothing reaches the device. */
	rec.calls = 0;
	FX_ASSERT_ERR(uvfs_writev(f, v, -1), -EINVAL);
	FX_ASSERT_ERR(uvfs_writev(f, v, 1025), -EINVAL);
	struct iovec big[2] = { { "a", 1 }, { "b", (size_t)SSIZE_MAX + 1 } };
	FX_ASSERT_ERR(uvfs_writev(f, big, 2), -EINVAL);
	FX_ASSERT_ERR(uvfs_pwritev(f, v, 2, -1), -EINVAL);
	FX_ASSERT_ERR(uvfs_pwritev(f, v, 2, INT64_MAX - 4), -EINVAL);
	struct iovec empty[2] = { { "a", 0 }, { "b", 0 } };
	cr_assert_eq(uvfs_writev(f, empty, 2), 0);
	cr_assert_eq(uvfs_readv(f, NULL, 0), 0);
	cr_assert_eq(rec.calls, 0, "the device was called %d times", rec.calls);
	uvfs_file_put(f);
	/* EBADF comes before the iovec checks (Linux vfs_writev). */
	struct uvfs_file *ro;
	FX_ASSERT_OK(fx_open("/dev1", O_RDONLY, 0, &ro));
	FX_ASSERT_ERR(uvfs_writev(ro, v, -1), -EBADF);
	uvfs_file_put(ro);
}

/* A device with only vectored ops: plain read/write go through them. */
static int iter_calls;
static ssize_t it_read(struct uvfs_file *f, const struct iovec *iov, int cnt, uint64_t off)
{
	iter_calls++;
	ssize_t n = 0;
	for (int i = 0; i < cnt; i++) {
		memset(iov[i].iov_base, 'i', iov[i].iov_len);
		n += (ssize_t)iov[i].iov_len;
	}
	return n;
}
static ssize_t it_write(struct uvfs_file *f, const struct iovec *iov, int cnt, uint64_t *off)
{
	iter_calls++;
	size_t n = 0;
	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	*off += n;
	return (ssize_t)n;
}
static const struct uvfs_file_ops iter_ops = { .read_iter = it_read, .write_iter = it_write };

FX_TEST(fileops, iter_ops_serve_vectored_and_plain_io)
{
	struct uvfs_file *f = open_dev(&iter_ops, 2, O_RDWR);
	char a[3], b[5];
	struct iovec v[2] = { { a, 3 }, { b, 5 } };
	cr_assert_eq(uvfs_readv(f, v, 2), 8);
	cr_assert_eq(iter_calls, 1, "one call for the whole vector");
	cr_assert(a[0] == 'i' && b[4] == 'i');
	cr_assert_eq(uvfs_read(f, a, 3), 3);
	cr_assert_eq(uvfs_write(f, "abcd", 4), 4);
	cr_assert_eq(uvfs_writev(f, v, 2), 8);
	cr_assert_eq(iter_calls, 4);
	cr_assert_eq(uvfs_seek(f, 0, SEEK_CUR), 3 + 8 + 4 + 8);
	uvfs_file_put(f);
}

FX_TEST(fileops, tmpfs_readv_writev_roundtrip)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/t", O_CREAT | O_RDWR, 0644, &f));
	struct iovec w[3] = { { "hello", 5 }, { ", ", 2 }, { "world", 5 } };
	cr_assert_eq(uvfs_writev(f, w, 3), 12);
	char a[4], b[20] = { 0 };
	struct iovec r[2] = { { a, 4 }, { b, sizeof b } };
	cr_assert_eq(uvfs_preadv(f, r, 2, 0), 12, "short at EOF: the second segment gets the rest");
	cr_assert(memcmp(a, "hell", 4) == 0);
	cr_assert_str_eq(b, "o, world");
	uvfs_file_put(f);
}

/* --------------------------------------------------------------- ioctl */

#define TEST_IOC_DOUBLE 0x7401
#define TEST_IOC_UNKNOWN 0x7402
static long dev_ioctl(struct uvfs_file *f, unsigned long cmd, void *arg)
{
	switch (cmd) {
	case TEST_IOC_DOUBLE:
		*(int *)arg *= 2; /* arg is a pointer in our address space */
		return 7;
	default:
		return -UVFS_ENOIOCTLCMD;
	}
}
static const struct uvfs_file_ops ioctl_ops = { .read = rec_read, .ioctl = dev_ioctl };

FX_TEST(fileops, ioctl_reaches_the_device_and_defaults_to_enotty)
{
	struct uvfs_file *f = open_dev(&ioctl_ops, 3, O_RDWR);
	int x = 21;
	cr_assert_eq(uvfs_ioctl(f, TEST_IOC_DOUBLE, &x), 7);
	cr_assert_eq(x, 42);
	FX_ASSERT_ERR(uvfs_ioctl(f, TEST_IOC_UNKNOWN, &x), -ENOTTY);
	/* Generic commands are the VFS's: FIONBIO flips O_NONBLOCK. */
	int on = 1;
	FX_ASSERT_OK(uvfs_ioctl(f, FIONBIO, &on));
	cr_assert(uvfs_file_flags(f) & O_NONBLOCK);
	on = 0;
	FX_ASSERT_OK(uvfs_ioctl(f, FIONBIO, &on));
	cr_assert(!(uvfs_file_flags(f) & O_NONBLOCK));
	FX_ASSERT_ERR(uvfs_ioctl(f, FIONBIO, NULL), -EFAULT);
	uvfs_file_put(f);
	/* No ioctl op: ENOTTY (host tmpfs: ioctl(fd, TCGETS) is ENOTTY). */
	fx_must_write("/r", "0123456789");
	FX_ASSERT_OK(fx_open("/r", O_RDONLY, 0, &f));
	FX_ASSERT_ERR(uvfs_ioctl(f, TCGETS, &x), -ENOTTY);
	cr_assert_eq(uvfs_seek(f, 3, SEEK_SET), 3);
	int avail = -1;
	FX_ASSERT_OK(uvfs_ioctl(f, FIONREAD, &avail));
	cr_assert_eq(avail, 7, "FIONREAD: size - pos");
	uvfs_file_put(f);
	FX_ASSERT_OK(fx_open("/r", O_PATH, 0, &f));
	FX_ASSERT_ERR(uvfs_ioctl(f, FIONREAD, &avail), -EBADF);
	uvfs_file_put(f);
}

/* ------------------------------------------------------------- F_SETFL */

static int setfl_seen;
static int veto_setfl(struct uvfs_file *f, int flags)
{
	setfl_seen = flags;
	return (flags & O_DIRECT) ? -EINVAL : 0;
}
static const struct uvfs_file_ops setfl_ops = { .read = rec_read, .setfl = veto_setfl };

FX_TEST(fileops, set_flags_changes_only_setfl_bits)
{
	fx_must_write("/s", "x");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/s", O_RDONLY, 0, &f));
	/* Host tmpfs: F_SETFL with APPEND|NONBLOCK|NOATIME|WRONLY|TRUNC|SYNC
	 * leaves the access mode, ignores TRUNC/SYNC; O_ASYNC without fasync
	 * does not stick. */
	FX_ASSERT_OK(uvfs_file_set_flags(f, &fx.cred,
					 O_APPEND | O_NONBLOCK | O_NOATIME | O_WRONLY | O_TRUNC | O_SYNC | O_ASYNC));
	int fl = uvfs_file_flags(f);
	cr_assert_eq(fl & O_ACCMODE, O_RDONLY);
	cr_assert(fl & O_APPEND);
	cr_assert(fl & O_NONBLOCK);
	cr_assert(fl & O_NOATIME);
	cr_assert(!(fl & (O_TRUNC | O_ASYNC)), "flags %#x", fl);
	cr_assert(!(fl & O_SYNC & ~O_DSYNC), "flags %#x", fl);
	FX_ASSERT_OK(uvfs_file_set_flags(f, &fx.cred, 0));
	fl = uvfs_file_flags(f);
	cr_assert(!(fl & (O_APPEND | O_NONBLOCK | O_NOATIME)), "flags %#x", fl);
	uvfs_file_put(f);
	/* O_NOATIME: owner or CAP_FOWNER (host: EPERM for nobody). */
	FX_ASSERT_OK(fx_chmod("/s", 0666));
	FX_ASSERT_OK(fx_open_as(&fx.user, "/s", O_RDWR, 0, &f));
	FX_ASSERT_ERR(uvfs_file_set_flags(f, &fx.user, O_NOATIME), -EPERM);
	FX_ASSERT_OK(uvfs_file_set_flags(f, &fx.user, O_APPEND));
	struct uvfs_cred fowner = fx_user_with_cap(CAP_FOWNER);
	FX_ASSERT_OK(uvfs_file_set_flags(f, &fowner, O_NOATIME));
	cr_assert(uvfs_file_flags(f) & O_NOATIME);
	uvfs_file_put(f);
	FX_ASSERT_OK(fx_open("/s", O_PATH, 0, &f));
	FX_ASSERT_ERR(uvfs_file_set_flags(f, &fx.cred, O_APPEND), -EBADF);
	uvfs_file_put(f);
}

FX_TEST(fileops, set_flags_op_vetoes_and_enables_async)
{
	struct uvfs_file *f = open_dev(&setfl_ops, 4, O_RDONLY);
	FX_ASSERT_ERR(uvfs_file_set_flags(f, &fx.cred, O_DIRECT | O_NONBLOCK), -EINVAL);
	cr_assert(!(uvfs_file_flags(f) & (O_DIRECT | O_NONBLOCK)), "a vetoed call changes nothing");
	FX_ASSERT_OK(uvfs_file_set_flags(f, &fx.cred, O_ASYNC | O_NONBLOCK));
	cr_assert_eq(setfl_seen & (O_ASYNC | O_NONBLOCK | O_ACCMODE), O_ASYNC | O_NONBLOCK | O_RDONLY,
		     "the op sees the whole new word");
	cr_assert(uvfs_file_flags(f) & O_ASYNC, "a file whose op accepts O_ASYNC keeps it");
	uvfs_file_put(f);
}

/* --------------------------------------------------------------- flush */

static int flushes, releases, flush_ret;
static int cnt_flush(struct uvfs_file *f)
{
	flushes++;
	return flush_ret;
}
static void cnt_release(struct uvfs_file *f) { releases++; }
static const struct uvfs_file_ops flush_ops = { .read = rec_read, .flush = cnt_flush, .release = cnt_release };

FX_TEST(fileops, flush_runs_on_every_close_release_on_the_last)
{
	struct uvfs_file *f = open_dev(&flush_ops, 5, O_RDWR);
	uvfs_file_get(f); /* a dup'ed descriptor */
	FX_ASSERT_OK(uvfs_file_close(f));
	cr_assert_eq(flushes, 1);
	cr_assert_eq(releases, 0);
	flush_ret = -EIO; /* a deferred write error shows at close */
	FX_ASSERT_ERR(uvfs_file_close(f), -EIO);
	cr_assert_eq(flushes, 2);
	cr_assert_eq(releases, 1);
	/* No flush op: 0; O_PATH files never reach the fs. */
	fx_must_write("/p", "x");
	FX_ASSERT_OK(fx_open("/p", O_RDONLY, 0, &f));
	FX_ASSERT_OK(uvfs_flush(f));
	uvfs_file_put(f);
	FX_ASSERT_OK(fx_open("/dev5", O_PATH, 0, &f));
	FX_ASSERT_OK(uvfs_file_close(f));
	cr_assert_eq(flushes, 2);
}

/* ---------------------------------------------------------------- poll */

/* A device whose readiness another thread flips. */
struct flipdev {
	struct uvfs_waitq wq;
	atomic_int ready;
	atomic_int polls;
};
static struct flipdev flip;

static unsigned flip_poll(struct uvfs_file *f, struct uvfs_poll_table *pt)
{
	struct flipdev *d = f->f_private;
	atomic_fetch_add(&d->polls, 1);
	uvfs_poll_wait(f, &d->wq, pt); /* register first, then read the state */
	return atomic_load(&d->ready) ? POLLIN | POLLRDNORM : POLLOUT;
}
static const struct uvfs_file_ops flip_ops = { .read = rec_read, .poll = flip_poll };

static struct uvfs_file *open_flip(void)
{
	uvfs_waitq_init(&flip.wq);
	struct uvfs_pathop p = fx_pop("/flip");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFCHR | 0666, makedev(REC_MAJOR, 9)));
	FX_ASSERT_OK(uvfs_register_device(fx.vfs, UVFS_DEV_CHAR, REC_MAJOR, 9, &flip_ops, &flip, "test"));
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/flip", O_RDONLY, 0, &f));
	return f;
}

static void *flipper(void *arg)
{
	usleep(100 * 1000);
	atomic_store(&flip.ready, 1);
	uvfs_waitq_wake(&flip.wq, POLLIN);
	return NULL;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

FX_TEST(fileops, poll_wakes_when_another_thread_flips_readiness)
{
	struct uvfs_file *f = open_flip();
	FX_ASSERT_ERR(uvfs_poll(f, POLLIN, 0), 0); /* not ready, do not wait */
	pthread_t t;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(pthread_create(&t, NULL, flipper, NULL), 0);
	int r = uvfs_poll(f, POLLIN, 20000);
	long ms = ms_since(&t0);
	pthread_join(t, NULL);
	cr_assert_eq(r, POLLIN, "revents %#x", r);
	cr_assert_geq(ms, 90, "returned after %ld ms, before the flip", ms);
	cr_assert_lt(ms, 10000, "woken only after %ld ms: the wake was lost", ms);
	cr_assert(!uvfs_waitq_active(&flip.wq), "the poller left its entry on the queue");
	uvfs_file_put(f);
}

FX_TEST(fileops, poll_timeout_and_several_files)
{
	struct uvfs_file *d = open_flip();
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	FX_ASSERT_ERR(uvfs_poll(d, POLLIN, 150), 0);
	long ms = ms_since(&t0);
	cr_assert_geq(ms, 140, "timed out after %ld ms", ms);
	cr_assert(!uvfs_waitq_active(&flip.wq));
	/* Regular files without ->poll are always ready; POLLOUT of the device
	 * is filtered out when not asked for; NULL entries are skipped. */
	fx_must_write("/reg", "x");
	struct uvfs_file *r, *pathf;
	FX_ASSERT_OK(fx_open("/reg", O_RDWR, 0, &r));
	FX_ASSERT_OK(fx_open("/reg", O_PATH, 0, &pathf));
	struct uvfs_pollfd fds[4] = {
		{ .file = d, .events = POLLIN }, { .file = r, .events = POLLIN | POLLOUT },
		{ .file = NULL, .events = POLLIN }, { .file = pathf, .events = POLLIN }
	};
	cr_assert_eq(uvfs_poll_files(fds, 4, -1), 2);
	cr_assert_eq(fds[0].revents, 0);
	cr_assert_eq(fds[1].revents, POLLIN | POLLOUT);
	cr_assert_eq(fds[2].revents, 0);
	cr_assert_eq(fds[3].revents, POLLNVAL, "O_PATH: POLLNVAL as Linux");
	cr_assert_eq(uvfs_poll(d, POLLOUT, 0), POLLOUT);
	FX_ASSERT_ERR(uvfs_poll_files(fds, 65537, 0), -EINVAL);
	uvfs_file_put(pathf);
	uvfs_file_put(r);
	uvfs_file_put(d);
}
