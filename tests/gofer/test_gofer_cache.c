/* tests/gofer/test_gofer_cache.c — what the gofer's caches cost and
 * keep, counted in 9P round trips (uvfs_gofer_stats) against a real diod:
 * batched revalidation in remote_revalidating, complete directories after
 * a listing in fscache, and that host-side changes are still caught. */
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gofer_fx.h"
#include "fsimpl/gofer/p9/p9.h"

static struct uvfs_filesystem *gfs;

static void host_write(const char *rel, const char *data)
{
	FILE *f = fopen(hp(rel), "w");
	cr_assert_not_null(f, "host write %s", rel);
	fputs(data, f);
	fclose(f);
}

static void gsetup(const char *opts) { gfx_setup("gcache", opts); }

static void gteardown(void)
{
	gfs = NULL;
	gfx_teardown();
}

/* Round trips so far on the mount at /g (the fs is looked up once, so
 * that counting costs nothing). */
static uint64_t rounds(void)
{
	if (!gfs) {
		struct uvfs_file *f;
		cr_assert_eq(fx_open("/g", O_PATH | O_DIRECTORY, 0, &f), 0);
		struct uvfs_vd vd;
		uvfs_file_vd(f, &vd);
		gfs = uvfs_mount_fs(vd.mount); /* lives as long as the mount */
		uvfs_vd_put(&vd);
		uvfs_file_put(f);
	}
	struct uvfs_p9_stats s;
	cr_assert_eq(uvfs_gofer_stats(gfs, &s), 0);
	return s.rounds;
}

#define DEEP "d1/d2/d3/d4/d5/d6/d7"

static void make_deep(void)
{
	char rel[128] = "";
	for (int i = 1; i <= 7; i++) {
		char c[16];
		snprintf(c, sizeof(c), "%sd%d", i > 1 ? "/" : "", i);
		strcat(rel, c);
		cr_assert_eq(mkdir(hp(rel), 0755), 0);
	}
	host_write(DEEP "/f", "deep\n");
}

/* A warm stat of a depth-8 path asks the server once for the whole path
 * (one Twalk + pipelined Tgetattrs) plus the stat's own getattr, not once
 * per component. */
Test(gofer_cache, reval_batches_a_deep_walk, .timeout = 60)
{
	gsetup("cache=remote_revalidating");
	GFX_SKIP_DIRECT("counts 9P round trips");
	make_deep();
	struct statx st;
	cr_assert_eq(fx_stat("/g/" DEEP "/f", &st), 0);
	cr_assert_eq(fx_stat("/g/" DEEP "/f", &st), 0);
	uint64_t r0 = rounds();
	cr_assert_eq(fx_stat("/g/" DEEP "/f", &st), 0);
	uint64_t used = rounds() - r0;
	cr_assert_eq(st.stx_size, 5);
	cr_assert_leq(used, 3, "a warm depth-8 stat took %llu round trips", (unsigned long long)used);
	/* A warm miss at the end of the path: the negative name is in the
	 * batch too. */
	cr_assert_eq(fx_stat("/g/" DEEP "/nope", &st), -ENOENT);
	r0 = rounds();
	cr_assert_eq(fx_stat("/g/" DEEP "/nope", &st), -ENOENT);
	used = rounds() - r0;
	cr_assert_leq(used, 2, "a warm depth-8 miss took %llu round trips", (unsigned long long)used);
	gteardown();
}

/* The batch still sees every host-side change on the path: a directory in
 * the middle replaced by another (other identity), a name appearing where
 * a negative was cached, a file replaced by a directory. */
Test(gofer_cache, reval_batch_sees_host_changes, .timeout = 60)
{
	gsetup("cache=remote_revalidating");
	make_deep();
	struct statx st;
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(fx_stat("/g/" DEEP "/f", &st), 0);
		cr_assert_eq(fx_stat("/g/" DEEP "/nope", &st), -ENOENT);
	}
	/* d3 replaced on the host by a new tree with another f. */
	cr_assert_eq(rename(hp("d1/d2/d3"), hp("old3")), 0);
	char rel[128] = "d1/d2/d3";
	cr_assert_eq(mkdir(hp(rel), 0755), 0);
	for (int i = 4; i <= 7; i++) {
		char c[16];
		snprintf(c, sizeof(c), "/d%d", i);
		strcat(rel, c);
		cr_assert_eq(mkdir(hp(rel), 0755), 0);
	}
	host_write(DEEP "/f", "replaced!\n");
	struct stat hs;
	cr_assert_eq(stat(hp(DEEP "/f"), &hs), 0);
	cr_assert_eq(fx_stat("/g/" DEEP "/f", &st), 0);
	cr_assert_eq(st.stx_ino, hs.st_ino, "the new file is seen");
	cr_assert_eq(st.stx_size, 10);
	char buf[32];
	cr_assert_eq(fx_read_file("/g/" DEEP "/f", buf, sizeof(buf)), 10);
	cr_assert_str_eq(buf, "replaced!\n");
	/* nope appears on the host (in the new tree). */
	cr_assert_eq(fx_stat("/g/" DEEP "/nope", &st), -ENOENT);
	host_write(DEEP "/nope", "x");
	cr_assert_eq(fx_stat("/g/" DEEP "/nope", &st), 0);
	cr_assert_eq(st.stx_size, 1);
	/* f becomes a directory; d6 becomes a file. */
	cr_assert_eq(unlink(hp(DEEP "/f")), 0);
	cr_assert_eq(mkdir(hp(DEEP "/f"), 0700), 0);
	cr_assert_eq(fx_stat("/g/" DEEP "/f", &st), 0);
	cr_assert(S_ISDIR(st.stx_mode));
	cr_assert_eq(rename(hp("d1/d2/d3/d4/d5/d6"), hp("old6")), 0);
	host_write("d1/d2/d3/d4/d5/d6", "now a file");
	cr_assert_eq(fx_stat("/g/" DEEP "/f", &st), -ENOTDIR);
	cr_assert_eq(fx_stat("/g/d1/d2/d3/d4/d5/d6", &st), 0);
	cr_assert(S_ISREG(st.stx_mode));
	gteardown();
}

/* fscache (exclusive): after a complete listing a directory knows all its
 * names, so a miss costs no round trip (google/gvisor#6665: hundreds of
 * milliseconds per ENOENT in a 50,000-entry directory); any create or
 * remove through us forgets that, and the next miss asks again. */
static void listed_dir_body(bool exclusive)
{
	cr_assert_eq(mkdir(hp("big"), 0755), 0);
	for (int i = 0; i < 300; i++) {
		char rel[32];
		snprintf(rel, sizeof(rel), "big/f%d", i);
		host_write(rel, "x");
	}
	static char list[8192];
	fx_list_dir("/g/big", list, sizeof(list));
	cr_assert(strstr(list, "f299"), "listed: %.60s", list);
	struct statx st;
	uint64_t r0 = rounds();
	for (int i = 0; i < 20; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/g/big/miss%d", i);
		cr_assert_eq(fx_stat(p, &st), -ENOENT);
	}
	uint64_t used = rounds() - r0;
	if (exclusive)
		cr_assert_eq(used, 0, "20 misses in a listed directory took %llu round trips", (unsigned long long)used);
	else
		cr_assert_geq(used, 20, "shared mode must ask the server (%llu)", (unsigned long long)used);
	/* A listed name that was never looked up is found. */
	cr_assert_eq(fx_stat("/g/big/f123", &st), 0);
	cr_assert_eq(st.stx_size, 1);
	if (!exclusive)
		return;
	/* A create through us forgets the listing: a miss asks again (and
	 * sees what the host added since, as a fresh lookup does). */
	fx_must_write("/g/big/ours", "y");
	host_write("big/hostnew", "zz");
	r0 = rounds();
	cr_assert_eq(fx_stat("/g/big/hostnew", &st), 0);
	cr_assert_eq(st.stx_size, 2);
	cr_assert_geq(rounds() - r0, 1);
	/* Listed again, then a remove through us forgets it too. */
	fx_list_dir("/g/big", list, sizeof(list));
	struct uvfs_pathop p = fx_pop("/g/big/f7");
	cr_assert_eq(uvfs_unlink_at(fx.vfs, &fx.cred, &p), 0);
	host_write("big/host2", "z");
	cr_assert_eq(fx_stat("/g/big/host2", &st), 0);
	cr_assert_eq(fx_stat("/g/big/f7", &st), -ENOENT);
}

Test(gofer_cache, fscache_listed_dir_misses_are_free, .timeout = 60)
{
	gsetup("cache=fscache");
	listed_dir_body(true);
	gteardown();
}

Test(gofer_cache, reval_listed_dir_misses_still_ask, .timeout = 60)
{
	gsetup("cache=remote_revalidating");
	listed_dir_body(false);
	gteardown();
}

/* Hard links made on the host are found by lookup as one inode (same
 * qid.path): a change through one name shows through the other, and nlink
 * follows an unlink through us, as on a local filesystem. */
static void host_links_body(void)
{
	host_write("a", "12345");
	cr_assert_eq(link(hp("a"), hp("b")), 0);
	struct statx sa, sb;
	cr_assert_eq(fx_stat("/g/a", &sa), 0);
	cr_assert_eq(fx_stat("/g/b", &sb), 0);
	cr_assert_eq(sa.stx_ino, sb.stx_ino);
	cr_assert_eq(sb.stx_nlink, 2);
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/a", O_WRONLY | O_APPEND, 0, &f), 0);
	cr_assert_eq(uvfs_write(f, "678", 3), 3);
	uvfs_file_put(f);
	cr_assert_eq(fx_stat("/g/b", &sb), 0);
	cr_assert_eq(sb.stx_size, 8, "a write through a shows through b");
	struct uvfs_pathop p = fx_pop("/g/a");
	cr_assert_eq(uvfs_unlink_at(fx.vfs, &fx.cred, &p), 0);
	cr_assert_eq(fx_stat("/g/b", &sb), 0);
	cr_assert_eq(sb.stx_nlink, 1, "nlink after unlinking the other name");
	char buf[16];
	cr_assert_eq(fx_read_file("/g/b", buf, sizeof(buf)), 8);
	cr_assert_str_eq(buf, "12345678");
}

Test(gofer_cache, fscache_host_hard_links_share_an_inode, .timeout = 60)
{
	gsetup("cache=fscache");
	host_links_body();
	gteardown();
}

Test(gofer_cache, reval_host_hard_links_share_an_inode, .timeout = 60)
{
	gsetup("cache=remote_revalidating");
	host_links_body();
	gteardown();
}

/* An open file removed on the host keeps answering fstat (Linux keeps
 * the inode: nlink 0), from its open fid. */
Test(gofer_cache, reval_fstat_of_file_removed_on_host, .timeout = 60)
{
	gsetup("cache=remote_revalidating");
	host_write("gone", "abcdef");
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/gone", O_RDWR, 0, &f), 0);
	cr_assert_eq(unlink(hp("gone")), 0);
	struct statx st;
	int err = uvfs_file_stat(f, STATX_BASIC_STATS, &st);
	cr_assert_eq(err, 0, "fstat: %s", strerror(-err));
	cr_assert_eq(st.stx_size, 6);
	cr_assert_eq(st.stx_nlink, 0);
	char buf[8] = { 0 };
	cr_assert_eq(uvfs_pread(f, buf, 6, 0), 6);
	cr_assert_str_eq(buf, "abcdef");
	uvfs_file_put(f);
	cr_assert_eq(fx_stat("/g/gone", &st), -ENOENT);
	gteardown();
}

static void host_read(const char *rel, char *buf, size_t len)
{
	FILE *f = fopen(hp(rel), "r");
	cr_assert_not_null(f, "host read %s", rel);
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
}

/* fscache: file data is cached in memory. Reads after the first are
 * served without a round trip; writes stay in memory (the host sees the
 * old bytes) until fsync or the last close write them back. */
Test(gofer_cache, fscache_page_cache_writes_back, .timeout = 60)
{
	gsetup("cache=fscache");
	static char big[200001];
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	host_write("data", big);
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/data", O_RDWR, 0, &f), 0);
	static char buf[200001];
	cr_assert_eq(uvfs_pread(f, buf, 200000, 0), 200000);
	cr_assert_eq(memcmp(buf, big, 200000), 0);
	uint64_t r0 = rounds();
	for (int k = 0; k < 10; k++) {
		cr_assert_eq(uvfs_pread(f, buf, 1000, k * 19000 + 7), 1000);
		cr_assert_eq(memcmp(buf, big + k * 19000 + 7, 1000), 0);
	}
	cr_assert_eq(uvfs_pread(f, buf, 100, 199950), 50, "short at EOF");
	uint64_t used = rounds() - r0;
	cr_assert_eq(used, 0, "cached reads took %llu round trips", (unsigned long long)used);
	r0 = rounds();
	cr_assert_eq(uvfs_pwrite(f, "HELLO", 5, 10), 5);
	cr_assert_eq(uvfs_pwrite(f, "TAIL!", 5, 200000), 5); /* extends */
	cr_assert_eq(rounds() - r0, 0, "writes stay in memory (%llu round trips)", (unsigned long long)(rounds() - r0));
	char h[32];
	host_read("data", h, 17);
	cr_assert_eq(memcmp(h, "abcdefghijklmnop", 16), 0, "not written back yet: %s", h);
	cr_assert_eq(uvfs_pread(f, buf, 5, 10), 5);
	cr_assert_eq(memcmp(buf, "HELLO", 5), 0, "reads see our writes");
	struct statx st;
	cr_assert_eq(fx_stat("/g/data", &st), 0);
	cr_assert_eq(st.stx_size, 200005);
	cr_assert_eq(uvfs_fsync(f, false), 0);
	host_read("data", h, 17);
	cr_assert_eq(memcmp(h, "abcdefghijHELLOp", 16), 0, "after fsync: %s", h);
	struct stat hs;
	cr_assert_eq(stat(hp("data"), &hs), 0);
	cr_assert_eq(hs.st_size, 200005);
	/* Written again, then closed: the last close writes back. */
	cr_assert_eq(uvfs_pwrite(f, "XY", 2, 0), 2);
	host_read("data", h, 5);
	cr_assert_eq(memcmp(h, "abcd", 4), 0);
	uvfs_file_put(f);
	host_read("data", h, 5);
	cr_assert_eq(memcmp(h, "XYcd", 4), 0, "after close: %s", h);
	/* A truncate through us drops cached bytes past the new end. */
	cr_assert_eq(fx_open("/g/data", O_RDWR | O_TRUNC, 0, &f), 0);
	cr_assert_eq(uvfs_pread(f, buf, 10, 0), 0);
	cr_assert_eq(uvfs_pwrite(f, "new", 3, 0), 3);
	uvfs_file_put(f);
	host_read("data", h, 32);
	cr_assert_str_eq(h, "new");
	gteardown();
}

/* fscache_writethrough: reads are cached the same way, writes reach the
 * host at once. */
Test(gofer_cache, writethrough_writes_at_once, .timeout = 60)
{
	gsetup("cache=fscache_writethrough");
	host_write("wt", "0123456789");
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/wt", O_RDWR, 0, &f), 0);
	char buf[16] = { 0 };
	cr_assert_eq(uvfs_pread(f, buf, 10, 0), 10);
	uint64_t r0 = rounds();
	cr_assert_eq(uvfs_pread(f, buf, 4, 3), 4);
	cr_assert_eq(rounds() - r0, 0, "cached read");
	cr_assert_eq(uvfs_pwrite(f, "ab", 2, 4), 2);
	char h[16];
	host_read("wt", h, sizeof(h));
	cr_assert_str_eq(h, "0123ab6789", "written through at once");
	cr_assert_eq(uvfs_pread(f, buf, 10, 0), 10);
	cr_assert_eq(memcmp(buf, "0123ab6789", 10), 0);
	uvfs_file_put(f);
	gteardown();
}

/* ls -l in fscache: after the listing, stat of every entry fetches the
 * names ahead in pipelined batches (a Twalk wave and a Tgetattr wave per
 * 64 names), not two round trips per entry (google/gvisor#6578). */
static int collect_cb(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next)
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

Test(gofer_cache, fscache_ls_l_is_pipelined, .timeout = 60)
{
	gsetup("cache=fscache");
	GFX_SKIP_DIRECT("counts 9P round trips");
	cr_assert_eq(mkdir(hp("big"), 0755), 0);
	for (int i = 0; i < 300; i++) {
		char rel[32];
		snprintf(rel, sizeof(rel), "big/f%d", i);
		host_write(rel, i % 2 ? "x" : "yy");
	}
	static char names[301][16];
	memset(names, 0, sizeof(names));
	struct uvfs_file *d;
	cr_assert_eq(fx_open("/g/big", O_RDONLY | O_DIRECTORY, 0, &d), 0);
	cr_assert_eq(uvfs_iterate_dir(d, collect_cb, names), 0);
	struct uvfs_vd vd;
	uvfs_file_vd(d, &vd);
	uint64_t r0 = rounds();
	int n = 0;
	for (; names[n][0]; n++) {
		struct uvfs_pathop p = fx_pop_at(&vd, names[n], 0);
		struct statx st;
		cr_assert_eq(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, &st), 0, "%s", names[n]);
		int i = atoi(names[n] + 1);
		cr_assert_eq(st.stx_size, i % 2 ? 1 : 2, "%s", names[n]);
	}
	uint64_t used = rounds() - r0;
	cr_assert_eq(n, 300);
	cr_assert_leq(used, 20, "stat of 300 listed entries took %llu round trips", (unsigned long long)used);
	uvfs_vd_put(&vd);
	uvfs_file_put(d);
	gteardown();
}

/* cp -a: data written (cached), then the times set by path, then close.
 * The host file must keep the times set, so cached data goes to the
 * server before the times do (found by t_gofer.sh's cp -a over FUSE). */
Test(gofer_cache, fscache_times_set_after_cached_writes_stick, .timeout = 60)
{
	gsetup("cache=fscache");
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/t", O_RDWR | O_CREAT, 0644, &f), 0);
	cr_assert_eq(uvfs_pwrite(f, "some data", 9, 0), 9);
	struct uvfs_setattr sa = { .mask = STATX_ATIME | STATX_MTIME,
				   .atime = { 1262304000, 0 }, .mtime = { 1262304000, 0 } };
	struct uvfs_pathop p = fx_pop("/g/t");
	cr_assert_eq(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &sa, 0), 0);
	uvfs_file_put(f);
	struct stat hs;
	cr_assert_eq(stat(hp("t"), &hs), 0);
	cr_assert_eq(hs.st_size, 9);
	cr_assert_eq(hs.st_mtim.tv_sec, 1262304000, "host mtime %ld", (long)hs.st_mtim.tv_sec);
	gteardown();
}

/* A file unlinked through us while open: writing to it and setting its
 * times through the open file (what FUSE sends at close with its
 * writeback cache: futimens-like SETATTR with the handle) succeed, as on
 * Linux, though diod answers ENOENT for every fid of a removed path; the
 * data stays readable (t_gofer_diff.sh: close of an unlinked file was EIO). */
static void unlinked_open_body(void)
{
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/u", O_RDWR | O_CREAT, 0644, &f), 0);
	cr_assert_eq(uvfs_pwrite(f, "still here", 10, 0), 10);
	struct uvfs_pathop p = fx_pop("/g/u");
	cr_assert_eq(uvfs_unlink_at(fx.vfs, &fx.cred, &p), 0);
	cr_assert_eq(uvfs_pwrite(f, "!", 1, 10), 1);
	struct uvfs_setattr sa = { .mask = STATX_ATIME | STATX_MTIME,
				   .atime = { 1262304000, 0 }, .mtime = { 1262304000, 5 } };
	int err = uvfs_file_setstat(f, &fx.cred, &sa);
	cr_assert_eq(err, 0, "setattr of an unlinked open file: %s", strerror(-err));
	struct uvfs_setattr sm = { .mask = STATX_MODE, .mode = 0600 };
	err = uvfs_file_setstat(f, &fx.cred, &sm);
	cr_assert_eq(err, 0, "chmod of an unlinked open file: %s", strerror(-err));
	struct statx st;
	cr_assert_eq(uvfs_file_stat(f, STATX_BASIC_STATS, &st), 0);
	cr_assert_eq(st.stx_nlink, 0);
	cr_assert_eq(st.stx_size, 11);
	cr_assert_eq(st.stx_mtime.tv_sec, 1262304000);
	cr_assert_eq(st.stx_mode & 07777, 0600);
	err = uvfs_flush(f);
	cr_assert_eq(err, 0, "flush: %s", strerror(-err));
	char buf[16] = { 0 };
	cr_assert_eq(uvfs_pread(f, buf, 11, 0), 11);
	cr_assert_str_eq(buf, "still here!");
	uvfs_file_put(f);
	cr_assert_eq(fx_stat("/g/u", &st), -ENOENT);
}

Test(gofer_cache, reval_setattr_of_unlinked_open_file, .timeout = 60)
{
	gsetup("cache=remote_revalidating");
	unlinked_open_body();
	gteardown();
}

Test(gofer_cache, fscache_setattr_of_unlinked_open_file, .timeout = 60)
{
	gsetup("cache=fscache");
	unlinked_open_body();
	gteardown();
}
