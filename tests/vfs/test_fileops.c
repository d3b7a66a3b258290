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
