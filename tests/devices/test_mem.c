/* test_mem.c — the mem devices against the host's: the same sequence of
 * read/write/lseek/pread/pwrite/readv/ioctl/poll (sizes 0, 1, 4096, 1 MiB)
 * on the host's /dev/X and on a node made with mknod in a uvfs tmpfs; the
 * results, errnos and bytes must match (random content excepted). Also
 * /dev/tty through the embedder's callback, and tun/fuse registration. */
#include "fixture.h"

#include <linux/random.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devices/devices.h"

enum op { RD, WR, SEEK, PRD, PWR, RDV, IOC_FIONREAD, IOC_ENTCNT, POLL };
struct step {
	enum op op;
	long a, b; /* size / offset / whence */
};

#define MIB (1L << 20)
static const struct step script[] = {
	{ RD, 0, 0 },	  { RD, 1, 0 },	   { RD, 4096, 0 },	   { RD, MIB, 0 },	  { SEEK, 0, SEEK_CUR },
	{ WR, 0, 0 },	  { WR, 1, 0 },	   { WR, 4096, 0 },	   { WR, MIB, 0 },	  { SEEK, 0, SEEK_CUR },
	{ SEEK, 100, SEEK_SET }, { SEEK, 5, SEEK_CUR }, { SEEK, 7, SEEK_END }, { SEEK, -1, SEEK_SET },
	{ SEEK, 0, SEEK_DATA }, { SEEK, 0, SEEK_HOLE }, { SEEK, 0, 99 },
	{ PRD, 10, 5 },	  { PRD, 0, 5 },   { PRD, 10, -1 },	   { PRD, MIB, 1 << 30 },
	{ PWR, 1, 5 },	  { PWR, 10, -1 }, { PWR, 4096, 0 },	   { RDV, 3, 0 },	  { RD, 1, 0 },
	{ SEEK, 0, SEEK_CUR }, { IOC_FIONREAD, 0, 0 }, { IOC_ENTCNT, 0, 0 },	   { POLL, 0, 0 },
};

static char *hbuf, *ubuf, *wbuf;

static long host_step(int fd, const struct step *s)
{
	long r = -1;
	struct iovec iov[2] = { { hbuf, 1 }, { hbuf + 1, (size_t)s->a } };
	int n = -1;
	switch (s->op) {
	case RD: r = read(fd, hbuf, (size_t)s->a); break;
	case WR: r = write(fd, wbuf, (size_t)s->a); break;
	case SEEK: r = lseek(fd, s->a, (int)s->b); break;
	case PRD: r = pread(fd, hbuf, (size_t)s->a, s->b); break;
	case PWR: r = pwrite(fd, wbuf, (size_t)s->a, s->b); break;
	case RDV: r = readv(fd, iov, 2); break;
	case IOC_FIONREAD:
		r = ioctl(fd, FIONREAD, &n);
		break;
	case IOC_ENTCNT:
		r = ioctl(fd, RNDGETENTCNT, &n);
		if (r == 0)
			r = n;
		break;
	case POLL: {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLPRI };
		r = poll(&p, 1, 0);
		if (r > 0)
			r = p.revents;
		break;
	}
	}
	return r < 0 ? -errno : r;
}

static long uvfs_step(struct uvfs_file *f, const struct step *s)
{
	struct iovec iov[2] = { { ubuf, 1 }, { ubuf + 1, (size_t)s->a } };
	int n = -1;
	long r;
	switch (s->op) {
	case RD: return uvfs_read(f, ubuf, (size_t)s->a);
	case WR: return uvfs_write(f, wbuf, (size_t)s->a);
	case SEEK: return uvfs_seek(f, s->a, (int)s->b);
	case PRD: return uvfs_pread(f, ubuf, (size_t)s->a, s->b);
	case PWR: return uvfs_pwrite(f, wbuf, (size_t)s->a, s->b);
	case RDV: return uvfs_readv(f, iov, 2);
	case IOC_FIONREAD: return uvfs_ioctl(f, FIONREAD, &n);
	case IOC_ENTCNT:
		r = uvfs_ioctl(f, RNDGETENTCNT, &n);
		return r == 0 ? n : r;
	case POLL: return uvfs_poll(f, POLLIN | POLLOUT | POLLPRI, 0);
	}
	return -1;
}

static bool all_zero(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Runs the script on /dev/<name> (host) and a <major:minor> node in uvfs. */
static void diff_device(const char *name, unsigned minor, bool random)
{
	hbuf = malloc(2 * MIB);
	ubuf = malloc(2 * MIB);
	wbuf = malloc(2 * MIB);
	memset(wbuf, 'w', 2 * MIB);
	FX_ASSERT_OK(uvfs_devices_register(fx.vfs, NULL));
	char path[32];
	snprintf(path, sizeof path, "/%s", name);
	struct uvfs_pathop p = fx_pop(path);
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFCHR | 0666, makedev(UVFS_MEM_MAJOR, minor)));
	char hpath[32];
	snprintf(hpath, sizeof hpath, "/dev/%s", name);
	int fd = open(hpath, O_RDWR);
	cr_assert_geq(fd, 0, "open %s: %s", hpath, strerror(errno));
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open(path, O_RDWR, 0, &f));
	long running = 0; /* gVisor's random offset: bytes read and written through the file position */
	for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
		const struct step *s = &script[i];
		memset(hbuf, 0x5a, 2 * MIB);
		memset(ubuf, 0x5a, 2 * MIB);
		long h = host_step(fd, s), u = uvfs_step(f, s);
		if (random && s->op == SEEK && h >= 0) {
			/* Documented difference: Linux's noop_llseek answers 0;
			 * gVisor (and uvfs) the running offset. */
			cr_assert_eq(h, 0, "%s step %zu: host lseek %ld", name, i, h);
			cr_assert_eq(u, running, "%s step %zu: lseek %ld, want the running offset %ld", name, i, u,
				     running);
			continue;
		}
		cr_assert_eq(u, h, "%s step %zu (op %d, %ld, %ld): uvfs %s, host %s", name, i, s->op, s->a, s->b,
			     fx_err(u), fx_err(h));
		if ((s->op == RD || s->op == WR || s->op == RDV) && u > 0)
			running += u;
		if ((s->op == RD || s->op == PRD || s->op == RDV) && u > 0) {
			size_t n = (size_t)u;
			if (random) {
				/* Bytes past the count untouched; content random. */
				cr_assert(n < 64 || !all_zero(ubuf, n), "%s: %zu zero bytes from random", name, n);
			} else {
				cr_assert_eq(memcmp(ubuf, hbuf, n), 0, "%s step %zu: data differs", name, i);
			}
			cr_assert_eq(memcmp(ubuf + n, hbuf + n, 64), 0, "%s step %zu: wrote past the count", name, i);
		}
	}
	close(fd);
	uvfs_file_put(f);
	free(hbuf);
	free(ubuf);
	free(wbuf);
}

FX_TEST(mem, null_matches_host) { diff_device("null", UVFS_NULL_MINOR, false); }
FX_TEST(mem, zero_matches_host) { diff_device("zero", UVFS_ZERO_MINOR, false); }
FX_TEST(mem, full_matches_host) { diff_device("full", UVFS_FULL_MINOR, false); }
FX_TEST(mem, random_matches_host) { diff_device("random", UVFS_RANDOM_MINOR, true); }
FX_TEST(mem, urandom_matches_host) { diff_device("urandom", UVFS_URANDOM_MINOR, true); }

/* Two reads of urandom differ (it is not a constant). */
FX_TEST(mem, urandom_not_constant)
{
	FX_ASSERT_OK(uvfs_devices_register(fx.vfs, NULL));
	struct uvfs_pathop p = fx_pop("/u");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFCHR | 0666, makedev(1, 9)));
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/u", O_RDONLY, 0, &f));
	char a[32], b[32];
	FX_ASSERT_ERR(uvfs_read(f, a, sizeof a), 32);
	FX_ASSERT_ERR(uvfs_read(f, b, sizeof b), 32);
	cr_assert_neq(memcmp(a, b, 32), 0);
	uvfs_file_put(f);
}

/* A second registration finds the numbers taken. */
FX_TEST(mem, register_twice_ebusy)
{
	FX_ASSERT_OK(uvfs_devices_register(fx.vfs, NULL));
	FX_ASSERT_ERR(uvfs_devices_register(fx.vfs, NULL), -EBUSY);
}

static struct uvfs_file *mknod_open(const char *path, dev_t dev, int flags, int *err)
{
	struct uvfs_pathop p = fx_pop(path);
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFCHR | 0666, dev));
	struct uvfs_file *f = NULL;
	*err = fx_open(path, flags, 0, &f);
	return f;
}

/* /dev/tty without a controlling terminal: ENXIO, as Linux for a task
 * without one. */
FX_TEST(tty, no_ctty_enxio)
{
	FX_ASSERT_OK(uvfs_devices_register(fx.vfs, NULL));
	int err;
	mknod_open("/tty", makedev(5, 0), O_RDWR, &err);
	FX_ASSERT_ERR(err, -ENXIO);
	/* The host agrees for a process without a controlling terminal. */
	if (fork() == 0) {
		setsid();
		_exit(open("/dev/tty", O_RDWR) < 0 && errno == ENXIO ? 0 : 1);
	}
	int st;
	wait(&st);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "host /dev/tty after setsid is not ENXIO");
}

/* The terminal: a FIFO in the same tmpfs stands in for it. */
static int ctty_calls;
static int my_ctty(void *arg, int flags, struct uvfs_file **out)
{
	ctty_calls++;
	return fx_open((const char *)arg, (flags & O_ACCMODE) | O_NONBLOCK, 0, out);
}

FX_TEST(tty, ctty_through_callback)
{
	struct uvfs_pathop p = fx_pop("/term");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFIFO | 0666, 0));
	static struct uvfs_devices_opts o = { .ctty_open = my_ctty, .ctty_arg = "/term" };
	FX_ASSERT_OK(uvfs_devices_register(fx.vfs, &o));
	int err;
	struct uvfs_file *t = mknod_open("/tty", makedev(5, 0), O_RDWR, &err);
	FX_ASSERT_OK(err);
	cr_assert_eq(ctty_calls, 1);
	FX_ASSERT_ERR(uvfs_write(t, "hi", 2), 2);
	int n = -1;
	FX_ASSERT_OK(uvfs_ioctl(t, FIONREAD, &n));
	cr_assert_eq(n, 2);
	FX_ASSERT_ERR(uvfs_poll(t, POLLIN, 0), POLLIN);
	char b[4];
	FX_ASSERT_ERR(uvfs_read(t, b, sizeof b), 2);
	FX_ASSERT_ERR(uvfs_seek(t, 0, SEEK_CUR), -ESPIPE);
	uvfs_file_put(t); /* puts the terminal's file too: teardown checks */
}

FX_TEST(misc, tun_fuse_absent_by_default)
{
	FX_ASSERT_OK(uvfs_devices_register(fx.vfs, NULL));
	int err;
	mknod_open("/tun", makedev(10, 200), O_RDWR, &err);
	FX_ASSERT_ERR(err, -ENXIO); /* not registered: no network stack */
	mknod_open("/fuse", makedev(10, 229), O_RDWR, &err);
	FX_ASSERT_ERR(err, -ENXIO);
}

FX_TEST(misc, tun_fuse_registered_enodev)
{
	static struct uvfs_devices_opts o = { .net_stack = true, .fuse = true };
	FX_ASSERT_OK(uvfs_devices_register(fx.vfs, &o));
	int err;
	mknod_open("/tun", makedev(10, 200), O_RDWR, &err);
	FX_ASSERT_ERR(err, -ENODEV);
	mknod_open("/fuse", makedev(10, 229), O_RDWR, &err);
	FX_ASSERT_ERR(err, -ENODEV);
}
