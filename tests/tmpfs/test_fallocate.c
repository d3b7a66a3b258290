/* fallocate(2) on tmpfs, differential: each step runs on a uvfs tmpfs file
 * and on a file of the host kernel's tmpfs (/dev/shm, or a private mount
 * with size= for ENOSPC), and the return codes, sizes, block counts and
 * contents must agree. ZERO_RANGE, which Linux's tmpfs lacks, is compared
 * with ext4 (size and contents). */
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvfs_fs.h"
#include "tt.h"

struct pair {
	int fd; /* host */
	struct uvfs_file *f; /* uvfs */
	char hpath[256];
};

static void pair_open(struct pair *p, const char *hostdir, const char *name)
{
	snprintf(p->hpath, sizeof(p->hpath), "%s/%s", hostdir, name);
	p->fd = open(p->hpath, O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(p->fd, 0, "open %s: %m", p->hpath);
	char up[256];
	snprintf(up, sizeof(up), "/%s", name);
	p->f = tt_open(up, O_RDWR | O_CREAT | O_TRUNC, 0644);
}

static void pair_close(struct pair *p)
{
	close(p->fd);
	unlink(p->hpath);
	uvfs_file_put(p->f);
}

/* Sizes, blocks and (up to 1 MiB) contents agree. */
static void same_state(struct pair *p, const char *step)
{
	struct stat hs;
	cr_assert_eq(fstat(p->fd, &hs), 0);
	struct statx us;
	FX_ASSERT_OK(uvfs_file_stat(p->f, STATX_BASIC_STATS, &us));
	cr_assert_eq(us.stx_size, (uint64_t)hs.st_size, "%s: size uvfs %llu, kernel %lld", step,
		     (unsigned long long)us.stx_size, (long long)hs.st_size);
	cr_assert_eq(us.stx_blocks, (uint64_t)hs.st_blocks, "%s: blocks uvfs %llu, kernel %lld", step,
		     (unsigned long long)us.stx_blocks, (long long)hs.st_blocks);
	size_t n = hs.st_size < (1 << 20) ? (size_t)hs.st_size : 0;
	if (!n)
		return;
	char *a = malloc(n), *b = malloc(n);
	cr_assert_eq(pread(p->fd, a, n, 0), (ssize_t)n);
	cr_assert_eq(uvfs_pread(p->f, b, n, 0), (ssize_t)n);
	cr_assert(!memcmp(a, b, n), "%s: contents differ", step);
	free(a);
	free(b);
}

static int host_falloc(int fd, int mode, off_t off, off_t len) { return fallocate(fd, mode, off, len) ? -errno : 0; }

static void both_falloc(struct pair *p, int mode, off_t off, off_t len, const char *step)
{
	int h = host_falloc(p->fd, mode, off, len);
	int u = uvfs_fallocate(p->f, mode, off, len);
	cr_assert_eq(u, h, "%s: uvfs %s, kernel %s", step, fx_err(u), fx_err(h));
	same_state(p, step);
}

static void both_write(struct pair *p, char c, size_t len, off_t off)
{
	char *b = malloc(len);
	memset(b, c, len);
	cr_assert_eq(pwrite(p->fd, b, len, off), (ssize_t)len);
	cr_assert_eq(uvfs_pwrite(p->f, b, len, off), (ssize_t)len);
	free(b);
	same_state(p, "write");
}

static void both_truncate(struct pair *p, off_t size, const char *step)
{
	cr_assert_eq(ftruncate(p->fd, size), 0);
	FX_ASSERT_OK(uvfs_file_truncate(p->f, (uint64_t)size));
	same_state(p, step);
}

static char hostdir[] = "/dev/shm/uvfs-falloc-XXXXXX";

static void host_init(void)
{
	cr_assert_not_null(mkdtemp(hostdir), "mkdtemp: %m");
}

static void host_fini(void) { rmdir(hostdir); }

#define KEEP FALLOC_FL_KEEP_SIZE
#define PUNCH (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)

Test(tmpfs_fallocate, modes_match_the_kernel, .init = host_init, .fini = host_fini)
{
	fx_setup();
	struct pair p;
	pair_open(&p, hostdir, "f");
	both_write(&p, 'a', 10000, 0);
	both_falloc(&p, 0, 0, 4096, "allocate inside");
	both_falloc(&p, 0, 10000, 20000, "allocate extends");
	both_falloc(&p, KEEP, 30000, 20000, "keep size past EOF");
	both_truncate(&p, 30000, "truncate to the same size drops pages past EOF");
	both_falloc(&p, KEEP, 30000, 8192, "keep size again");
	both_truncate(&p, 40000, "growing keeps them");
	both_write(&p, 'b', 40000, 0);
	both_falloc(&p, PUNCH, 100, 5000, "punch partial pages");
	both_falloc(&p, PUNCH, 8192, 8192, "punch whole pages");
	both_falloc(&p, PUNCH, 9000, 100, "punch inside a hole");
	both_falloc(&p, PUNCH, 35000, 100000, "punch past EOF");
	both_falloc(&p, KEEP, 0, 40000, "refill holes, keep size");
	both_falloc(&p, FALLOC_FL_PUNCH_HOLE, 0, 1, "punch without keep size");
	both_falloc(&p, 0, -1, 1, "negative offset");
	both_falloc(&p, 0, 0, 0, "zero length");
	both_falloc(&p, 0x100, 0, 0, "bad mode, zero length");
	both_falloc(&p, 0, INT64_MAX, 1, "offset + length overflows");
	both_falloc(&p, PUNCH, INT64_MAX, 1, "punch overflows");
	/* Every other mode bit combination: the kernel's errno. ZERO_RANGE
	 * (0x10, 0x11) is implemented here but not by Linux's tmpfs. */
	for (int m = 0; m < 256; m++) {
		if ((m & ~KEEP) == FALLOC_FL_ZERO_RANGE)
			continue;
		char step[32];
		snprintf(step, sizeof(step), "mode 0x%02x", m);
		both_falloc(&p, m, 4096, 4096, step);
	}
	both_falloc(&p, 0, 0x7fffffffffff0000LL, 1, "allocate near the maximum size");
	both_falloc(&p, PUNCH, 0x7fffffffffff0000LL, 1, "punch it again");
	pair_close(&p);

	/* A read-only open: EBADF after the range and mode checks. */
	pair_open(&p, hostdir, "ro");
	int hro = open(p.hpath, O_RDONLY);
	struct uvfs_file *uro = tt_open("/ro", O_RDONLY, 0);
	int modes[] = { 0, 0x100, FALLOC_FL_PUNCH_HOLE };
	for (unsigned i = 0; i < 3; i++) {
		int h = host_falloc(hro, modes[i], 0, 10), u = uvfs_fallocate(uro, modes[i], 0, 10);
		cr_assert_eq(u, h, "read-only, mode 0x%x: uvfs %s, kernel %s", modes[i], fx_err(u), fx_err(h));
		h = host_falloc(hro, modes[i], 0, 0), u = uvfs_fallocate(uro, modes[i], 0, 0);
		cr_assert_eq(u, h, "read-only, len 0, mode 0x%x: uvfs %s, kernel %s", modes[i], fx_err(u), fx_err(h));
	}
	close(hro);
	uvfs_file_put(uro);
	/* O_PATH: EBADF whatever the arguments. */
	int hp = open(p.hpath, O_PATH);
	struct uvfs_file *up = tt_open("/ro", O_PATH, 0);
	cr_assert_eq(uvfs_fallocate(up, 0, 0, 0), host_falloc(hp, 0, 0, 0));
	cr_assert_eq(uvfs_fallocate(up, 0, 0, 0), -EBADF);
	close(hp);
	uvfs_file_put(up);
	pair_close(&p);
	fx_teardown();
}

/* size= counts fallocated pages: a request that does not fit is ENOSPC and
 * changes nothing (the kernel undoes its partial allocation). */
Test(tmpfs_fallocate, enospc_matches_the_kernel, .init = host_init, .fini = host_fini)
{
	if (mount("none", hostdir, "tmpfs", 0, "size=64k") != 0)
		cr_skip_test("mount(2) of a host tmpfs: %m");
	fx_setup_opts("size=64k", 0);
	struct pair p;
	pair_open(&p, hostdir, "f");
	both_falloc(&p, 0, 0, 128 << 10, "larger than size=");
	both_falloc(&p, 0, 0, 32 << 10, "half of it");
	both_write(&p, 'x', 100, 40 << 10);
	both_falloc(&p, KEEP, 0, 64 << 10, "does not fit with what is there");
	both_falloc(&p, KEEP, 0, 60 << 10, "fits exactly");
	both_falloc(&p, 0, 60 << 10, 8192, "one page too many");
	both_falloc(&p, PUNCH, 0, 16 << 10, "punch frees");
	both_falloc(&p, 0, 60 << 10, 8192, "now it fits");
	struct statfs hs, us;
	cr_assert_eq(fstatfs(p.fd, &hs), 0);
	FX_ASSERT_OK(tt_statfs("/", &us));
	cr_assert_eq(us.f_bfree, hs.f_bfree, "statfs free: uvfs %ld, kernel %ld", (long)us.f_bfree,
		     (long)hs.f_bfree);
	pair_close(&p);
	umount(hostdir);
	fx_teardown();
}

/* ZERO_RANGE against ext4 (the host's /tmp when it is ext4): size and
 * contents; blocks: the range is allocated. */
Test(tmpfs_fallocate, zero_range_like_ext4)
{
	char dir[] = "/tmp/uvfs-zero-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct statfs sf;
	cr_assert_eq(statfs(dir, &sf), 0);
	fx_setup();
	struct pair p;
	pair_open(&p, dir, "z");
	if (host_falloc(p.fd, FALLOC_FL_ZERO_RANGE, 0, 1) == -EOPNOTSUPP) {
		pair_close(&p);
		rmdir(dir);
		fx_teardown();
		cr_skip_test("the host's /tmp has no ZERO_RANGE");
	}
	cr_assert_eq(ftruncate(p.fd, 0), 0);
	both_write(&p, 'z', 50000, 0);
	static const struct {
		int mode;
		off_t off, len;
	} steps[] = {
		{ FALLOC_FL_ZERO_RANGE, 100, 200 }, /* inside one page */
		{ FALLOC_FL_ZERO_RANGE, 4000, 10000 }, /* partial + whole pages */
		{ FALLOC_FL_ZERO_RANGE, 45000, 20000 }, /* extends the size */
		{ FALLOC_FL_ZERO_RANGE | KEEP, 60000, 30000 }, /* past EOF, size kept */
		{ FALLOC_FL_ZERO_RANGE, 70000, 1 }, /* extends into the kept pages */
	};
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char step[32];
		snprintf(step, sizeof(step), "zero range step %u", i);
		int h = host_falloc(p.fd, steps[i].mode, steps[i].off, steps[i].len);
		int u = uvfs_fallocate(p.f, steps[i].mode, steps[i].off, steps[i].len);
		cr_assert_eq(u, h, "%s: uvfs %s, kernel %s", step, fx_err(u), fx_err(h));
		struct stat hs;
		struct statx us;
		cr_assert_eq(fstat(p.fd, &hs), 0);
		FX_ASSERT_OK(uvfs_file_stat(p.f, STATX_BASIC_STATS, &us));
		cr_assert_eq(us.stx_size, (uint64_t)hs.st_size, "%s: size", step);
		char a[100000], b[100000];
		size_t n = (size_t)hs.st_size;
		cr_assert_eq(pread(p.fd, a, n, 0), (ssize_t)n);
		cr_assert_eq(uvfs_pread(p.f, b, n, 0), (ssize_t)n);
		cr_assert(!memcmp(a, b, n), "%s: contents", step);
	}
	/* Everything up to 90000 is allocated: 22 pages. */
	cr_assert_eq(tt_lstat("/z").stx_blocks, 22 * 8);
	pair_close(&p);
	rmdir(dir);
	fx_teardown();
}

/* ---------------------------------------------------- uvfs-only checks */

FX_TEST(tmpfs_fallocate, default_size_limit_is_enospc_not_oom)
{
	/* Half of RAM is the default: asking for all of it fails at once. */
	struct uvfs_file *f = tt_open("/big", O_RDWR | O_CREAT, 0644);
	off_t ram = (off_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
	FX_ASSERT_ERR(uvfs_fallocate(f, 0, 0, ram), -ENOSPC);
	FX_ASSERT_ERR(uvfs_fallocate(f, KEEP, 1 << 20, INT64_MAX - (1 << 20)), -ENOSPC);
	struct statx st = tt_lstat("/big");
	cr_assert_eq(st.stx_size, 0);
	cr_assert_eq(st.stx_blocks, 0);
	/* An 8 EiB punch frees nothing and allocates nothing. */
	FX_ASSERT_OK(uvfs_pwrite(f, "x", 1, 4096) == 1 ? 0 : -EIO);
	FX_ASSERT_OK(uvfs_fallocate(f, PUNCH, 0, INT64_MAX));
	st = tt_lstat("/big");
	cr_assert_eq(st.stx_size, 4097);
	cr_assert_eq(st.stx_blocks, 0);
	uvfs_file_put(f);
}

Test(tmpfs_fallocate, unlimited_fs_refuses_more_than_ram)
{
	fx_setup_opts("size=0", 0);
	struct uvfs_file *f = tt_open("/big", O_RDWR | O_CREAT, 0644);
	off_t ram = (off_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
	FX_ASSERT_ERR(uvfs_fallocate(f, 0, 0, ram + 4096), -ENOMEM);
	cr_assert_eq(tt_lstat("/big").stx_blocks, 0);
	uvfs_file_put(f);
	fx_teardown();
}

static const struct uvfs_file_ops dev_fops = { 0 };

FX_TEST(tmpfs_fallocate, device_is_enodev)
{
	FX_ASSERT_OK(uvfs_register_device(fx.vfs, UVFS_DEV_CHAR, 250, 1, &dev_fops, NULL, NULL));
	FX_ASSERT_OK(tt_mknod("/dev", S_IFCHR | 0666, makedev(250, 1)));
	struct uvfs_file *f = tt_open("/dev", O_RDWR, 0);
	FX_ASSERT_ERR(uvfs_fallocate(f, 0, 0, 1), -ENODEV);
	FX_ASSERT_ERR(uvfs_fallocate(f, FALLOC_FL_PUNCH_HOLE, 0, 1), -EOPNOTSUPP); /* mode first */
	FX_ASSERT_ERR(uvfs_fallocate(f, 0, INT64_MAX, 1), -ENODEV); /* type before EFBIG */
	uvfs_file_put(f);
}

FX_TEST(tmpfs_fallocate, updates_times_and_drops_setuid)
{
	fx_must_write("/s", "data");
	FX_ASSERT_OK(fx_chmod("/s", 06775));
	FX_ASSERT_OK(fx_chown("/s", 1000, 1000));
	struct statx before = tt_lstat("/s");
	tt_tick();
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/s", O_RDWR, 0, &f));
	FX_ASSERT_OK(uvfs_fallocate(f, PUNCH, 0, 2));
	struct statx after = tt_lstat("/s");
	cr_assert(TT_LATER(after.stx_mtime, before.stx_mtime));
	cr_assert(TT_LATER(after.stx_ctime, before.stx_ctime));
	cr_assert_eq(after.stx_mode & 07777, 0775, "mode %o: a write by a non-FSETID opener drops both",
		     after.stx_mode & 07777);
	char buf[4];
	cr_assert_eq(uvfs_pread(f, buf, 4, 0), 4);
	cr_assert(!memcmp(buf, "\0\0ta", 4));
	/* A failed call changes nothing. */
	before = tt_lstat("/s");
	tt_tick();
	FX_ASSERT_ERR(uvfs_fallocate(f, FALLOC_FL_COLLAPSE_RANGE, 0, 4096), -EOPNOTSUPP);
	after = tt_lstat("/s");
	cr_assert(TT_SAME(after.stx_mtime, before.stx_mtime));
	uvfs_file_put(f);
}

/* Reads racing with punches and allocations see either data or zeros and
 * the page budget balances afterwards. */
struct race {
	struct uvfs_file *f;
	_Atomic int stop;
};

static void *puncher(void *arg)
{
	struct race *r = arg;
	for (int i = 0; i < 2000; i++) {
		off_t off = (off_t)(i % 64) * 4096;
		uvfs_fallocate(r->f, PUNCH, off, 8192);
		uvfs_fallocate(r->f, KEEP, off, 8192);
		uvfs_pwrite(r->f, "yyyy", 4, off + 100);
	}
	atomic_store(&r->stop, 1);
	return NULL;
}

FX_TEST(tmpfs_fallocate, concurrent_punch_and_read)
{
	struct race r = { 0 };
	r.f = tt_open("/r", O_RDWR | O_CREAT, 0644);
	char *buf = malloc(64 * 4096);
	memset(buf, 'y', 64 * 4096);
	cr_assert_eq(uvfs_pwrite(r.f, buf, 64 * 4096, 0), 64 * 4096);
	pthread_t t;
	pthread_create(&t, NULL, puncher, &r);
	while (!atomic_load(&r.stop)) {
		ssize_t n = uvfs_pread(r.f, buf, 64 * 4096, 0);
		cr_assert_eq(n, 64 * 4096);
		for (ssize_t i = 0; i < n; i++)
			cr_assert(buf[i] == 'y' || buf[i] == 0, "byte %zd is %d", i, buf[i]);
	}
	pthread_join(t, NULL);
	free(buf);
	struct statfs sf;
	FX_ASSERT_OK(tt_statfs("/", &sf));
	cr_assert_eq(sf.f_blocks - sf.f_bfree, tt_lstat("/r").stx_blocks / 8);
	uvfs_file_put(r.f);
}
