/* tests/gofer/test_gofer_gaps.c — issue 10's remaining gaps, against a
 * real diod in every caching mode that matters:
 *  - a close releases the owner's record locks taken through any other
 *    open of the file (POSIX; diod's locks are per open handle);
 *  - growing a file that is open and unlinked (diod resolves even an open
 *    fid by its path: a Tsetattr of the size is ENOENT);
 *  - the page cache's memory bound (pcache_max=): reads and write-back
 *    writes of a file larger than the bound stay under it, with the right
 *    bytes read and written. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "gofer_fx.h"
#include "fsimpl/gofer/p9/p9.h"


static void gsetup(const char *opts) { gfx_setup("ggap", opts); }

static void gteardown(void) { gfx_teardown(); }

static struct uvfs_filesystem *gofer_fs(void)
{
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g", O_PATH | O_DIRECTORY, 0, &f), 0);
	struct uvfs_vd vd;
	uvfs_file_vd(f, &vd);
	struct uvfs_filesystem *fs = uvfs_mount_fs(vd.mount); /* lives as long as the mount */
	uvfs_vd_put(&vd);
	uvfs_file_put(f);
	return fs;
}

#define ALL3(name)                                                                                               \
	static void body_##name(void);                                                                           \
	Test(gofer_gaps_fscache, name, .timeout = 60)                                                           \
	{                                                                                                        \
		gsetup("cache=fscache");                                                                         \
		body_##name();                                                                                   \
		gteardown();                                                                                     \
	}                                                                                                        \
	Test(gofer_gaps_writethrough, name, .timeout = 60)                                                      \
	{                                                                                                        \
		gsetup("cache=fscache_writethrough");                                                            \
		body_##name();                                                                                   \
		gteardown();                                                                                     \
	}                                                                                                        \
	Test(gofer_gaps_reval, name, .timeout = 60)                                                             \
	{                                                                                                        \
		gsetup("cache=remote_revalidating");                                                             \
		body_##name();                                                                                   \
		gteardown();                                                                                     \
	}                                                                                                        \
	static void body_##name(void)

static struct flock whole(short type)
{
	return (struct flock){ .l_type = type, .l_whence = SEEK_SET };
}

/* POSIX: closing any descriptor of a file releases every lock the process
 * holds on it, even those taken through another open. The sandbox's close
 * does that as an F_UNLCK of the whole file through the closing file
 * (sbx_locks_remove); diod keeps a lock per open handle, so the gofer must
 * release it on the other handles too. */
ALL3(close_releases_locks_taken_through_another_open)
{
	fx_must_write("/g/f", "0123456789");
	struct uvfs_file *a, *b, *c;
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &a), 0);
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &b), 0);
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &c), 0);
	struct flock l = whole(F_WRLCK);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	l = whole(F_WRLCK);
	cr_assert_eq(uvfs_file_lock(c, 2, F_SETLK, &l), -EAGAIN, "owner 1 holds it");
	/* Owner 1 closes b, which it never locked through. */
	l = whole(F_UNLCK);
	cr_assert_eq(uvfs_file_lock(b, 1, F_SETLK, &l), 0);
	uvfs_file_put(b);
	l = whole(F_WRLCK);
	int err = uvfs_file_lock(c, 2, F_SETLK, &l);
	cr_assert_eq(err, 0, "the close of another fd released owner 1's lock: %s", strerror(-err));
	l = whole(F_WRLCK);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), -EAGAIN, "owner 2 holds it now");
	l = whole(F_UNLCK);
	cr_assert_eq(uvfs_file_lock(c, 2, F_SETLK, &l), 0);
	/* Another owner's close releases nothing of owner 1's. */
	l = whole(F_WRLCK);
	cr_assert_eq(uvfs_file_lock(a, 1, F_SETLK, &l), 0);
	l = whole(F_UNLCK);
	cr_assert_eq(uvfs_file_lock(c, 2, F_SETLK, &l), 0);
	l = whole(F_WRLCK);
	cr_assert_eq(uvfs_file_lock(c, 2, F_SETLK, &l), -EAGAIN, "owner 2's unlock left owner 1's lock");
	uvfs_file_put(c);
	/* A file released with locks recorded leaves nothing stale behind
	 * (a later open reusing the fid number must not be unlocked). */
	uvfs_file_put(a);
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &a), 0);
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &b), 0);
	l = whole(F_WRLCK);
	cr_assert_eq(uvfs_file_lock(a, 3, F_SETLK, &l), 0);
	l = whole(F_UNLCK);
	cr_assert_eq(uvfs_file_lock(b, 1, F_SETLK, &l), 0);
	l = whole(F_WRLCK);
	cr_assert_eq(uvfs_file_lock(b, 4, F_SETLK, &l), -EAGAIN);
	uvfs_file_put(a);
	uvfs_file_put(b);
}

/* Growing a file unlinked while open (ftruncate through the open file):
 * Linux grows it (zeros after the old end); diod answers ENOENT for a
 * size Tsetattr on any fid of a removed path. */
ALL3(grow_an_unlinked_open_file)
{
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/u", O_RDWR | O_CREAT, 0644, &f), 0);
	cr_assert_eq(uvfs_pwrite(f, "abc", 3, 0), 3);
	cr_assert_eq(uvfs_flush(f), 0);
	struct uvfs_pathop p = fx_pop("/g/u");
	cr_assert_eq(uvfs_unlink_at(fx.vfs, &fx.cred, &p), 0);
	int err = uvfs_file_truncate(f, 200000);
	cr_assert_eq(err, 0, "grow an unlinked open file: %s", strerror(-err));
	struct statx st;
	cr_assert_eq(uvfs_file_stat(f, STATX_BASIC_STATS, &st), 0);
	cr_assert_eq(st.stx_size, 200000);
	cr_assert_eq(st.stx_nlink, 0);
	cr_assert_eq(uvfs_flush(f), 0);
	char buf[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	cr_assert_eq(uvfs_pread(f, buf, 3, 0), 3);
	cr_assert_eq(memcmp(buf, "abc", 3), 0);
	cr_assert_eq(uvfs_pread(f, buf, 8, 199996), 4, "reads stop at the new end");
	for (int i = 0; i < 4; i++)
		cr_assert_eq(buf[i], 0, "zeros past the old end");
	/* Writes after the grown end still work, and grow it again. */
	cr_assert_eq(uvfs_pwrite(f, "z", 1, 300000), 1);
	cr_assert_eq(uvfs_flush(f), 0);
	cr_assert_eq(uvfs_pread(f, buf, 2, 299999), 2);
	cr_assert_eq(buf[0], 0);
	cr_assert_eq(buf[1], 'z');
	/* Growing by one byte at a time keeps earlier data. */
	cr_assert_eq(uvfs_file_truncate(f, 300002), 0);
	cr_assert_eq(uvfs_pread(f, buf, 8, 299999), 3);
	cr_assert_eq(buf[1], 'z');
	cr_assert_eq(buf[2], 0);
	uvfs_file_put(f);
}

/* ------------------------------------------------------------ page cache bound */

#define BOUND (1u << 20)

static void fill_pattern(uint8_t *b, size_t len, uint64_t off, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(((off + i) * 131 + seed) ^ ((off + i) >> 16));
}

static void host_pattern_file(const char *rel, size_t size, uint8_t seed)
{
	int fd = open(hp(rel), O_CREAT | O_TRUNC | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	uint8_t *b = malloc(size);
	fill_pattern(b, size, 0, seed);
	cr_assert_eq(write(fd, b, size), (ssize_t)size);
	close(fd);
	free(b);
}

/* A sequential read of a file 8× the bound: the cache never holds more
 * than the bound, and every byte is right; a second pass reads right too. */
Test(gofer_gaps_pcache, read_of_a_file_larger_than_the_bound, .timeout = 60)
{
	gsetup("cache=fscache,pcache_max=1048576");
	struct uvfs_filesystem *fs = gofer_fs();
	const size_t size = 8 * BOUND + 12345;
	host_pattern_file("big", size, 7);
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/big", O_RDONLY, 0, &f), 0);
	uint8_t *buf = malloc(200000), *want = malloc(200000);
	for (int pass = 0; pass < 2; pass++) {
		uint64_t max = 0;
		for (size_t off = 0; off < size;) {
			ssize_t n = uvfs_pread(f, buf, 200000, (off_t)off);
			cr_assert_gt(n, 0, "read at %zu: %zd", off, n);
			fill_pattern(want, (size_t)n, off, 7);
			cr_assert_eq(memcmp(buf, want, (size_t)n), 0, "bytes at %zu", off);
			off += (size_t)n;
			uint64_t now = uvfs_gofer_pcache_bytes(fs);
			if (now > max)
				max = now;
		}
		cr_assert_leq(max, BOUND, "pass %d: the cache held %llu bytes (bound %u)", pass,
			      (unsigned long long)max, BOUND);
		cr_assert_gt(max, 0, "the cache was used");
	}
	uvfs_file_put(f);
	free(buf);
	free(want);
	gteardown();
}

/* fscache writes stay in memory until written back: past the bound,
 * dirty pages are written back before they are dropped, so the host file
 * has every byte at the end and the cache stayed under the bound. */
Test(gofer_gaps_pcache, dirty_pages_written_back_under_the_bound, .timeout = 60)
{
	gsetup("cache=fscache,pcache_max=1048576");
	struct uvfs_filesystem *fs = gofer_fs();
	const size_t size = 6 * BOUND + 777;
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/w", O_RDWR | O_CREAT, 0644, &f), 0);
	uint8_t *buf = malloc(size);
	fill_pattern(buf, size, 0, 3);
	uint64_t max = 0;
	for (size_t off = 0; off < size;) {
		size_t n = size - off < 100003 ? size - off : 100003; /* uneven, page-straddling */
		cr_assert_eq(uvfs_pwrite(f, buf + off, n, (off_t)off), (ssize_t)n);
		off += n;
		uint64_t now = uvfs_gofer_pcache_bytes(fs);
		if (now > max)
			max = now;
	}
	cr_assert_leq(max, BOUND, "the cache held %llu bytes (bound %u)", (unsigned long long)max, BOUND);
	/* Read back through us (some from the cache, some from the host). */
	uint8_t *back = malloc(size);
	cr_assert_eq(uvfs_pread(f, back, size, 0), (ssize_t)size);
	cr_assert_eq(memcmp(back, buf, size), 0);
	cr_assert_leq(uvfs_gofer_pcache_bytes(fs), BOUND);
	cr_assert_eq(uvfs_flush(f), 0);
	uvfs_file_put(f);
	int fd = open(hp("w"), O_RDONLY);
	cr_assert_geq(fd, 0);
	memset(back, 0, size);
	cr_assert_eq(read(fd, back, size), (ssize_t)size);
	close(fd);
	cr_assert_eq(memcmp(back, buf, size), 0, "the host file has every byte");
	free(back);
	free(buf);
	gteardown();
}

/* The bound is shared by every file of the mount; a file evicted whole
 * (inode dropped) gives its bytes back. */
Test(gofer_gaps_pcache, bound_is_per_mount, .timeout = 60)
{
	gsetup("cache=fscache,pcache_max=1048576");
	struct uvfs_filesystem *fs = gofer_fs();
	char rel[16], path[32];
	for (int i = 0; i < 4; i++) {
		snprintf(rel, sizeof(rel), "f%d", i);
		host_pattern_file(rel, BOUND / 2, (uint8_t)i);
	}
	uint8_t *buf = malloc(BOUND / 2), *want = malloc(BOUND / 2);
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/g/f%d", i);
		struct uvfs_file *f;
		cr_assert_eq(fx_open(path, O_RDONLY, 0, &f), 0);
		cr_assert_eq(uvfs_pread(f, buf, BOUND / 2, 0), (ssize_t)(BOUND / 2));
		fill_pattern(want, BOUND / 2, 0, (uint8_t)i);
		cr_assert_eq(memcmp(buf, want, BOUND / 2), 0);
		uvfs_file_put(f);
		cr_assert_leq(uvfs_gofer_pcache_bytes(fs), BOUND, "after file %d", i);
	}
	free(buf);
	free(want);
	gteardown();
}

Test(gofer_gaps_pcache, bad_bound_is_einval, .timeout = 30)
{
	fx_setup();
	cr_assert_eq(uvfs_register_fs_type(fx.vfs, &uvfs_gofer_type, UVFS_FS_USER_MOUNT), 0);
	fx_must_mkdir("/g", 0755);
	const char *bad[] = { "pcache_max=", "pcache_max=abc", "pcache_max=-1", "pcache_max=100" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int fd;
		struct uvfs_gofer_proc *proc;
		cr_assert_eq(uvfs_gofer_spawn("/tmp", true, &fd, &proc), 0);
		char data[256];
		snprintf(data, sizeof(data), "trans=fd,rfdno=%d,wfdno=%d,aname=/tmp,cache=fscache,%s", fd, fd, bad[i]);
		struct uvfs_gofer_internal in = { .proc = proc };
		struct uvfs_mount_opts o = { .data = data, .internal = &in };
		struct uvfs_pathop p = fx_popf("/g");
		cr_assert_eq(uvfs_mount_at(fx.vfs, &fx.cred, "/tmp", &p, "9p", &o), -EINVAL, "%s", bad[i]);
	}
	fx_teardown();
}

/* ------------------------------------------------------------ ls -l and live fids */

static int collect_names(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next)
{
	char (*names)[16] = arg;
	if (name[0] == '.')
		return 0;
	int k = 0;
	while (names[k][0])
		k++;
	snprintf(names[k], sizeof(names[k]), "%.*s", (int)len, name);
	return 0;
}

static uint64_t live_fids(struct uvfs_filesystem *fs)
{
	struct uvfs_p9_stats s;
	cr_assert_eq(uvfs_gofer_stats(fs, &s), 0);
	return s.fids_in_use;
}

static void host_put(const char *rel, const char *data)
{
	FILE *f = fopen(hp(rel), "w");
	cr_assert_not_null(f, "%s", rel);
	fputs(data, f);
	fclose(f);
}

/* fscache: readdir + stat of every entry of a large directory, with every
 * dentry kept cached, leaves few fids live on the server (diod hashes a
 * connection's fids into 64 lists: each live one slows every new one, so
 * ls -l of 50,000 entries was 13x the time of 10,000). Files fetched only
 * for their attributes hold no fid; every op on one afterwards walks it
 * again and works. */
Test(gofer_gaps_fscache, ls_l_keeps_few_fids_live, .timeout = 120)
{
	gsetup("cache=fscache,dentry_cache_limit=100000");
	struct uvfs_filesystem *fs = gofer_fs();
	cr_assert_eq(mkdir(hp("big"), 0755), 0);
	cr_assert_eq(mkdir(hp("big/sub"), 0755), 0);
	host_put("big/sub/inner", "in");
	cr_assert_eq(symlink("f1", hp("big/ln")), 0);
	for (int i = 0; i < 600; i++) {
		char rel[32];
		snprintf(rel, sizeof(rel), "big/f%d", i);
		host_put(rel, i % 2 ? "x" : "yy");
	}
	static char names[700][16];
	memset(names, 0, sizeof(names));
	struct uvfs_file *d;
	cr_assert_eq(fx_open("/g/big", O_RDONLY | O_DIRECTORY, 0, &d), 0);
	cr_assert_eq(uvfs_iterate_dir(d, collect_names, names), 0);
	struct uvfs_vd vd;
	uvfs_file_vd(d, &vd);
	int n = 0;
	for (; names[n][0]; n++) {
		struct uvfs_pathop p = fx_pop_at(&vd, names[n], 0);
		struct statx st;
		cr_assert_eq(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, &st), 0, "%s", names[n]);
		if (names[n][0] == 'f')
			cr_assert_eq(st.stx_size, atoi(names[n] + 1) % 2 ? 1 : 2, "%s", names[n]);
	}
	uvfs_vd_put(&vd);
	uvfs_file_put(d);
	cr_assert_eq(n, 602);
	uint64_t live = live_fids(fs);
	cr_assert_leq(live, 100, "%llu fids live after ls -l of 602 entries", (unsigned long long)live);

	/* Every op on a cached file that holds no fid. */
	struct uvfs_file *f;
	char buf[8] = { 0 };
	cr_assert_eq(fx_open("/g/big/f2", O_RDONLY, 0, &f), 0);
	cr_assert_eq(uvfs_pread(f, buf, sizeof(buf), 0), 2);
	cr_assert_str_eq(buf, "yy");
	uvfs_file_put(f);
	struct uvfs_pathop p = fx_pop("/g/big/f3");
	struct uvfs_setattr sm = { .mask = STATX_MODE, .mode = 0600 };
	cr_assert_eq(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &sm, 0), 0);
	struct stat hs;
	cr_assert_eq(stat(hp("big/f3"), &hs), 0);
	cr_assert_eq(hs.st_mode & 07777, 0600, "chmod reached the host");
	p = fx_pop("/g/big/f4");
	cr_assert_eq(uvfs_setxattr_at(fx.vfs, &fx.cred, &p, "user.k", "v", 1, 0), 0);
	char xv[4] = { 0 };
	cr_assert_eq(getxattr(hp("big/f4"), "user.k", xv, sizeof(xv)), 1);
	struct uvfs_pathop from = fx_pop("/g/big/f5"), to = fx_pop("/g/big/f5-renamed");
	cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &from, &to, 0), 0);
	cr_assert_eq(stat(hp("big/f5-renamed"), &hs), 0);
	struct uvfs_pathop lfrom = fx_pop("/g/big/f6"), lto = fx_pop("/g/big/f6-link");
	cr_assert_eq(uvfs_link_at(fx.vfs, &fx.cred, &lfrom, &lto), 0);
	cr_assert_eq(stat(hp("big/f6-link"), &hs), 0);
	cr_assert_eq(hs.st_nlink, 2);
	struct statx st;
	cr_assert_eq(fx_stat("/g/big/f6", &st), 0);
	cr_assert_eq(st.stx_nlink, 2, "the link's source sees its new link count");
	p = fx_pop("/g/big/f7");
	cr_assert_eq(uvfs_unlink_at(fx.vfs, &fx.cred, &p), 0);
	cr_assert_eq(stat(hp("big/f7"), &hs), -1);
	cr_assert_eq(fx_open("/g/big/f8", O_RDWR | O_TRUNC, 0, &f), 0);
	cr_assert_eq(uvfs_pwrite(f, "new", 3, 0), 3);
	uvfs_file_put(f);
	memset(buf, 0, sizeof(buf));
	FILE *hf = fopen(hp("big/f8"), "r");
	cr_assert_not_null(hf);
	cr_assert_eq(fread(buf, 1, sizeof(buf), hf), 3);
	fclose(hf);
	cr_assert_str_eq(buf, "new");
	p = fx_pop("/g/big/ln");
	cr_assert_eq(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, sizeof(buf)), 2);
	cr_assert_eq(fx_stat("/g/big/sub/inner", &st), 0);
	/* A file replaced on the host under a cached name that holds no fid:
	 * the walk finds another file, and the op says so. */
	cr_assert_eq(unlink(hp("big/f9")), 0);
	cr_assert_eq(mkdir(hp("big/f9"), 0755), 0);
	int err = fx_open("/g/big/f9", O_RDONLY, 0, &f);
	cr_assert(err == -ESTALE || err == -ENOENT, "open of a replaced file: %d", err);
	if (!err)
		uvfs_file_put(f);
	gteardown();
}

/* fscache: we are the only writer and keep the size ourselves. A refresh
 * of a live inode (another name's lookup, the ls -l look-ahead) must not
 * take the server's size over ours: its reply may predate one of our
 * writes (stress_gofer_fscache lost a file's tail so: a look-ahead reply
 * from before the last writes landed after them). Modelled here with a
 * server size that differs from ours and a lookup of a second name. */
Test(gofer_gaps_fscache, refresh_keeps_our_size, .timeout = 60)
{
	gsetup("cache=fscache");
	fx_must_write("/g/f", "0123456789abcdefghijklmnopqrstuvwxyz");
	struct statx st;
	cr_assert_eq(fx_stat("/g/f", &st), 0);
	cr_assert_eq(st.stx_size, 36);
	cr_assert_eq(truncate(hp("f"), 10), 0); /* what a stale reply would say */
	cr_assert_eq(link(hp("f"), hp("f2")), 0);
	cr_assert_eq(fx_stat("/g/f2", &st), 0); /* a second name: the inode is refreshed */
	cr_assert_eq(st.stx_size, 36, "a refresh took the server's size: %llu", (unsigned long long)st.stx_size);
	cr_assert_eq(fx_stat("/g/f", &st), 0);
	cr_assert_eq(st.stx_size, 36);
	gteardown();
}
