/* tests/gofer/test_p9client.c — the 9P2000.L client against a real diod.
 *
 * Every test gets its own diod on a socketpair (the gofer's trans=fd shape)
 * exporting a fresh directory, attaches as root, and checks results both
 * through the protocol and on the host file system behind the server. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "fsimpl/gofer/p9/p9.h"
#include "tests/gofer/diod_harness.h"

static struct diod srv;
static struct diod d2; /* a second server some tests start; stop() reaps it */
static struct uvfs_p9_client *cl;
static uint32_t root;

static void start(void)
{
	int fd = diod_start_fd(&srv, 0, -1);
	cr_assert_geq(fd, 0, "diod: %s", strerror(-fd));
	int err = uvfs_p9_connect_fds(fd, fd, NULL, &cl);
	cr_assert_eq(err, 0, "connect: %s", strerror(-err));
	struct uvfs_p9_qid q;
	err = uvfs_p9_attach(cl, "root", 0, srv.dir, &root, &q);
	cr_assert_eq(err, 0, "attach: %s", strerror(-err));
	cr_assert(q.type & UVFS_P9_QTDIR);
}

static void stop(void)
{
	if (cl) {
		uvfs_p9_clunk(cl, root);
		uvfs_p9_close(cl);
		cl = NULL;
	}
	diod_stop(&srv);
	diod_stop(&d2);
}

TestSuite(p9, .init = start, .fini = stop, .timeout = 120);

static char *host_path(const char *rel)
{
	static char buf[4][512];
	static int i;
	char *b = buf[i++ % 4];
	snprintf(b, 512, "%s/%s", srv.dir, rel);
	return b;
}

static uint32_t walk(const char *path)
{
	uint32_t f;
	int err = uvfs_p9_walk_path(cl, root, path, &f, NULL);
	cr_assert_eq(err, 0, "walk %s: %s", path, strerror(-err));
	return f;
}

static uint64_t fids_in_use(void)
{
	struct uvfs_p9_stats s;
	uvfs_p9_get_stats(cl, &s);
	return s.fids_in_use;
}

/* Creates dir/name through the client; returns an open fid. */
static uint32_t create(const char *dir, const char *name, uint32_t mode)
{
	uint32_t f = walk(dir);
	int err = uvfs_p9_lcreate(cl, f, name, O_RDWR | O_CREAT | O_EXCL, mode, 0, NULL, NULL);
	cr_assert_eq(err, 0, "lcreate %s: %s", name, strerror(-err));
	return f;
}

/* ------------------------------------------------------------ session */

Test(p9, version_negotiates_msize)
{
	cr_assert_geq(uvfs_p9_msize(cl), 4096);
	cr_assert_leq(uvfs_p9_msize(cl), 1u << 20);

	/* A client asking for less gets exactly that, and I/O still works in
	 * msize-sized pieces. */
	int fd = diod_start_fd(&d2, 0, -1);
	cr_assert_geq(fd, 0);
	struct uvfs_p9_client *small;
	struct uvfs_p9_opts o = { .msize = 8192 };
	cr_assert_eq(uvfs_p9_connect_fds(fd, fd, &o, &small), 0);
	cr_assert_eq(uvfs_p9_msize(small), 8192);
	uint32_t r, f;
	cr_assert_eq(uvfs_p9_attach(small, "root", 0, d2.dir, &r, NULL), 0);
	cr_assert_eq(uvfs_p9_walk(small, r, 0, NULL, &f, NULL), 0);
	cr_assert_eq(uvfs_p9_lcreate(small, f, "x", O_RDWR | O_CREAT, 0600, 0, NULL, NULL), 0);
	size_t len = 100000;
	uint8_t *buf = malloc(len), *back = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(uvfs_p9_write(small, f, 0, buf, len), (long)len);
	struct uvfs_p9_stats st0, st1;
	uvfs_p9_get_stats(small, &st0);
	cr_assert_eq(uvfs_p9_read(small, f, 0, back, len), (long)len);
	uvfs_p9_get_stats(small, &st1);
	cr_assert_geq(st1.requests - st0.requests, len / (8192 - 24), "read was split by msize");
	cr_assert_eq(memcmp(buf, back, len), 0);
	free(buf);
	free(back);
	cr_assert_eq(uvfs_p9_clunk(small, f), 0);
	cr_assert_eq(uvfs_p9_clunk(small, r), 0);
	uvfs_p9_close(small);
	diod_stop(&d2);
}

Test(p9, attach_and_walk)
{
	struct uvfs_p9_qid q;
	uint64_t base = fids_in_use();
	cr_assert_eq(mkdir(host_path("a"), 0755), 0);
	cr_assert_eq(mkdir(host_path("a/b"), 0755), 0);
	cr_assert_eq(close(creat(host_path("a/b/f"), 0644)), 0);

	uint32_t f;
	cr_assert_eq(uvfs_p9_walk_path(cl, root, "a/b/f", &f, &q), 0);
	struct stat st;
	cr_assert_eq(stat(host_path("a/b/f"), &st), 0);
	cr_assert_eq(q.path, st.st_ino, "qid.path is the host inode for diod");
	cr_assert_eq(q.type & UVFS_P9_QTDIR, 0);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);

	/* Partial walks fail with ENOENT and leave no fid behind. */
	cr_assert_eq(uvfs_p9_walk_path(cl, root, "a/nope/f", &f, NULL), -ENOENT);
	cr_assert_eq(uvfs_p9_walk_path(cl, root, "zzz", &f, NULL), -ENOENT);
	cr_assert_eq(fids_in_use(), base);

	/* More than 16 components: batched Twalks. */
	char path[256] = "";
	for (int i = 0; i < 20; i++) {
		strcat(path, i ? "/d" : "d");
		cr_assert_eq(mkdir(host_path(path), 0755), 0);
	}
	struct uvfs_p9_qid qs[20];
	const char *names[20];
	for (int i = 0; i < 20; i++)
		names[i] = "d";
	cr_assert_eq(uvfs_p9_walk(cl, root, 20, names, &f, qs), 0);
	cr_assert_eq(stat(host_path(path), &st), 0);
	cr_assert_eq(qs[19].path, st.st_ino);
	cr_assert(qs[19].type & UVFS_P9_QTDIR);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
	/* Failing in the second batch clunks the half-walked fid. */
	names[18] = "missing";
	cr_assert_eq(uvfs_p9_walk(cl, root, 20, names, &f, NULL), -ENOENT);
	cr_assert_eq(fids_in_use(), base);
	/* Bad names never reach the wire. */
	const char *bad[] = { "a/b" };
	cr_assert_eq(uvfs_p9_walk(cl, root, 1, bad, &f, NULL), -EINVAL);
}

Test(p9, fids_are_reused_after_clunk)
{
	uint32_t a, b;
	cr_assert_eq(uvfs_p9_walk(cl, root, 0, NULL, &a, NULL), 0);
	cr_assert_eq(uvfs_p9_clunk(cl, a), 0);
	cr_assert_eq(uvfs_p9_walk(cl, root, 0, NULL, &b, NULL), 0);
	cr_assert_eq(a, b);
	cr_assert_eq(uvfs_p9_clunk(cl, b), 0);
	/* A clunked fid is dead on the server too. */
	struct uvfs_p9_attr at;
	cr_assert_lt(uvfs_p9_getattr(cl, b, UVFS_P9_GETATTR_BASIC, &at), 0);
}

/* ------------------------------------------------------------ data */

static uint64_t xs_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t fnv(const uint8_t *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

Test(p9, write_read_64MiB_checksum)
{
	const size_t len = 64u << 20;
	uint8_t *buf = malloc(len);
	cr_assert_not_null(buf);
	uint64_t s = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = xs_next(&s);
		memcpy(buf + i, &v, 8);
	}
	uint64_t sum = fnv(buf, len, 0xcbf29ce484222325ull);

	uint32_t f = create("", "big", 0644);
	/* Unaligned pieces exercise the split at msize boundaries. */
	size_t off = 0, piece = 3u << 20;
	while (off < len) {
		size_t n = len - off < piece ? len - off : piece;
		cr_assert_eq(uvfs_p9_write(cl, f, off, buf + off, n), (long)n);
		off += n;
		piece += 12345;
	}
	cr_assert_eq(uvfs_p9_fsync(cl, f, 0), 0);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);

	struct stat st;
	cr_assert_eq(stat(host_path("big"), &st), 0);
	cr_assert_eq((size_t)st.st_size, len);

	memset(buf, 0, len);
	f = walk("big");
	cr_assert_eq(uvfs_p9_lopen(cl, f, O_RDONLY, NULL, NULL), 0);
	cr_assert_eq(uvfs_p9_read(cl, f, 0, buf, len), (long)len);
	cr_assert_eq(fnv(buf, len, 0xcbf29ce484222325ull), sum, "data read back differs");
	/* At EOF: short, then zero. */
	cr_assert_eq(uvfs_p9_read(cl, f, len - 10, buf, 100), 10);
	cr_assert_eq(uvfs_p9_read(cl, f, len, buf, 100), 0);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);

	/* The host sees the same bytes. */
	int hfd = open(host_path("big"), O_RDONLY);
	cr_assert_geq(hfd, 0);
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(hfd, buf + got, len - got);
		cr_assert_gt(n, 0);
		got += (size_t)n;
	}
	close(hfd);
	cr_assert_eq(fnv(buf, len, 0xcbf29ce484222325ull), sum);
	free(buf);
}

struct dirscan {
	uint8_t *seen;
	int n, dots, bad;
	uint64_t last;
};

static int scan_cb(void *arg, const struct uvfs_p9_dirent *de)
{
	struct dirscan *ds = arg;
	ds->last = de->offset;
	if (!strcmp(de->name, ".") || !strcmp(de->name, "..")) {
		ds->dots++;
		return 0;
	}
	int i;
	if (sscanf(de->name, "entry-%d", &i) != 1 || i < 0 || i >= 10000 || ds->seen[i] || de->type != DT_REG) {
		ds->bad++;
		return 0;
	}
	ds->seen[i] = 1;
	ds->n++;
	return 0;
}

Test(p9, readdir_10000_entries)
{
	cr_assert_eq(mkdir(host_path("big"), 0755), 0);
	for (int i = 0; i < 10000; i++) {
		char name[64];
		snprintf(name, sizeof(name), "big/entry-%d", i);
		int fd = open(host_path(name), O_CREAT | O_WRONLY, 0644);
		cr_assert_geq(fd, 0);
		close(fd);
	}
	uint32_t f = walk("big");
	cr_assert_eq(uvfs_p9_lopen(cl, f, O_RDONLY | O_DIRECTORY, NULL, NULL), 0);
	struct dirscan ds = { .seen = calloc(10000, 1) };
	int calls = 0, n;
	while ((n = uvfs_p9_readdir(cl, f, ds.last, 0, scan_cb, &ds)) > 0)
		calls++;
	cr_assert_eq(n, 0, "readdir: %s", strerror(-n));
	cr_assert_eq(ds.bad, 0);
	cr_assert_eq(ds.n, 10000);
	cr_assert_eq(ds.dots, 2);
	cr_assert_gt(calls, 1, "10000 entries cannot fit one reply");
	free(ds.seen);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
}

static int stop_after_first(void *arg, const struct uvfs_p9_dirent *de)
{
	*(uint64_t *)arg = de->offset;
	return 1;
}

Test(p9, readdir_callback_can_stop)
{
	for (int i = 0; i < 5; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%d", i);
		close(creat(host_path(name), 0644));
	}
	uint32_t f = walk("");
	cr_assert_eq(uvfs_p9_lopen(cl, f, O_RDONLY, NULL, NULL), 0);
	uint64_t off = 0;
	int total = 0, n;
	while ((n = uvfs_p9_readdir(cl, f, off, 0, stop_after_first, &off)) > 0) {
		cr_assert_eq(n, 1);
		total++;
	}
	cr_assert_eq(n, 0);
	cr_assert_eq(total, 7, "5 files + . + .. one at a time");
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
}

/* ------------------------------------------------------------ namespace */

Test(p9, rename_and_renameat)
{
	uint32_t f = create("", "one", 0644);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
	cr_assert_eq(mkdir(host_path("sub"), 0755), 0);

	uint32_t file = walk("one"), sub = walk("sub");
	cr_assert_eq(uvfs_p9_rename(cl, file, sub, "two"), 0);
	cr_assert_eq(access(host_path("one"), F_OK), -1);
	cr_assert_eq(access(host_path("sub/two"), F_OK), 0);
	/* The fid follows the file. */
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(cl, file, UVFS_P9_GETATTR_BASIC, &a), 0);
	cr_assert(S_ISREG(a.mode));

	cr_assert_eq(uvfs_p9_renameat(cl, sub, "two", root, "three"), 0);
	cr_assert_eq(access(host_path("three"), F_OK), 0);
	cr_assert_eq(uvfs_p9_renameat(cl, sub, "two", root, "four"), -ENOENT);
	cr_assert_eq(uvfs_p9_renameat(cl, root, "three", root, "a/b"), -EINVAL);
	cr_assert_eq(uvfs_p9_clunk(cl, file), 0);
	cr_assert_eq(uvfs_p9_clunk(cl, sub), 0);
}

Test(p9, link_and_unlink)
{
	uint32_t f = create("", "orig", 0644);
	cr_assert_eq(uvfs_p9_write(cl, f, 0, "data", 4), 4);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
	f = walk("orig");
	cr_assert_eq(uvfs_p9_link(cl, root, f, "hard"), 0);
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(cl, f, UVFS_P9_GETATTR_ALL, &a), 0);
	cr_assert_eq(a.nlink, 2);
	struct stat s1, s2;
	cr_assert_eq(stat(host_path("orig"), &s1), 0);
	cr_assert_eq(stat(host_path("hard"), &s2), 0);
	cr_assert_eq(s1.st_ino, s2.st_ino);
	cr_assert_eq(uvfs_p9_link(cl, root, f, "hard"), -EEXIST);
	cr_assert_eq(uvfs_p9_unlinkat(cl, root, "hard", 0), 0);
	cr_assert_eq(uvfs_p9_getattr(cl, f, UVFS_P9_GETATTR_ALL, &a), 0);
	cr_assert_eq(a.nlink, 1);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);

	/* Tremove deletes and clunks. */
	uint64_t base = fids_in_use();
	f = walk("orig");
	cr_assert_eq(uvfs_p9_remove(cl, f), 0);
	cr_assert_eq(access(host_path("orig"), F_OK), -1);
	cr_assert_eq(fids_in_use(), base);
}

Test(p9, symlink_and_readlink)
{
	struct uvfs_p9_qid q;
	cr_assert_eq(uvfs_p9_symlink(cl, root, "ln", "some/where/../x", 0, &q), 0);
	cr_assert(q.type & UVFS_P9_QTSYMLINK);
	char host[64];
	ssize_t n = readlink(host_path("ln"), host, sizeof(host));
	cr_assert_eq(n, 15);
	cr_assert_eq(memcmp(host, "some/where/../x", 15), 0);

	uint32_t f = walk("ln");
	char buf[64];
	cr_assert_eq(uvfs_p9_readlink(cl, f, buf, sizeof(buf)), 15);
	cr_assert_str_eq(buf, "some/where/../x");
	cr_assert_eq(uvfs_p9_readlink(cl, f, buf, 8), -ENAMETOOLONG);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
	cr_assert_eq(uvfs_p9_symlink(cl, root, "ln", "x", 0, NULL), -EEXIST);
}

Test(p9, mknod_fifo_and_device)
{
	struct uvfs_p9_qid q;
	cr_assert_eq(uvfs_p9_mknod(cl, root, "fifo", S_IFIFO | 0600, 0, 0, 0, &q), 0);
	struct stat st;
	cr_assert_eq(lstat(host_path("fifo"), &st), 0);
	cr_assert(S_ISFIFO(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(q.path, st.st_ino);

	cr_assert_eq(uvfs_p9_mknod(cl, root, "null", S_IFCHR | 0666, 1, 3, 0, NULL), 0);
	uint32_t f = walk("null");
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(cl, f, UVFS_P9_GETATTR_ALL, &a), 0);
	cr_assert(S_ISCHR(a.mode));
	cr_assert_eq(major(a.rdev), 1);
	cr_assert_eq(minor(a.rdev), 3);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
}

Test(p9, mkdir_getattr_setattr)
{
	struct uvfs_p9_qid q;
	cr_assert_eq(uvfs_p9_mkdir(cl, root, "d", 0750, 0, &q), 0);
	cr_assert(q.type & UVFS_P9_QTDIR);
	uint32_t f = create("", "file", 0600);
	cr_assert_eq(uvfs_p9_write(cl, f, 0, "0123456789", 10), 10);

	struct uvfs_p9_setattr s = {
		.valid = UVFS_P9_SETATTR_MODE | UVFS_P9_SETATTR_SIZE | UVFS_P9_SETATTR_UID | UVFS_P9_SETATTR_GID |
			 UVFS_P9_SETATTR_MTIME | UVFS_P9_SETATTR_MTIME_SET | UVFS_P9_SETATTR_ATIME |
			 UVFS_P9_SETATTR_ATIME_SET,
		.mode = 0641, .size = 4, .uid = 1234, .gid = 4321,
		.mtime_sec = 1000000000, .mtime_nsec = 5, .atime_sec = 2000000000, .atime_nsec = 7,
	};
	cr_assert_eq(uvfs_p9_setattr(cl, f, &s), 0);
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(cl, f, UVFS_P9_GETATTR_ALL, &a), 0);
	cr_assert_eq(a.valid & UVFS_P9_GETATTR_BASIC, UVFS_P9_GETATTR_BASIC);
	cr_assert_eq(a.mode, S_IFREG | 0641);
	cr_assert_eq(a.size, 4);
	cr_assert_eq(a.uid, 1234);
	cr_assert_eq(a.gid, 4321);
	cr_assert_eq(a.mtime_sec, 1000000000);
	cr_assert_eq(a.mtime_nsec, 5);
	cr_assert_eq(a.atime_sec, 2000000000);
	struct stat st;
	cr_assert_eq(stat(host_path("file"), &st), 0);
	cr_assert_eq(st.st_size, 4);
	cr_assert_eq(st.st_uid, 1234);
	cr_assert_eq(st.st_mtim.tv_sec, 1000000000);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
}

Test(p9, xattrs)
{
	uint32_t f = create("", "x", 0644);
	cr_assert_eq(uvfs_p9_setxattr(cl, f, "user.colour", "blue", 4, 0), 0);
	char host[16];
	cr_assert_eq(getxattr(host_path("x"), "user.colour", host, sizeof(host)), 4);
	cr_assert_eq(memcmp(host, "blue", 4), 0);

	char buf[256];
	cr_assert_eq(uvfs_p9_getxattr(cl, f, "user.colour", NULL, 0), 4);
	cr_assert_eq(uvfs_p9_getxattr(cl, f, "user.colour", buf, sizeof(buf)), 4);
	cr_assert_eq(memcmp(buf, "blue", 4), 0);
	cr_assert_eq(uvfs_p9_getxattr(cl, f, "user.colour", buf, 2), -ERANGE);
	cr_assert_eq(uvfs_p9_getxattr(cl, f, "user.none", buf, sizeof(buf)), -ENODATA);

	/* XATTR_CREATE on an existing name fails at commit (the clunk). */
	cr_assert_eq(uvfs_p9_setxattr(cl, f, "user.colour", "red", 3, XATTR_CREATE), -EEXIST);
	/* A value needing several reads at a small msize would not fit ext4's
	 * one-block xattr limit; 3000 bytes still spans many readdir-sized
	 * pieces of the wire path. */
	size_t big = 3000;
	char *v = malloc(big), *w = malloc(big);
	for (size_t i = 0; i < big; i++)
		v[i] = (char)('a' + i % 26);
	cr_assert_eq(uvfs_p9_setxattr(cl, f, "user.big", v, big, 0), 0);
	cr_assert_eq(uvfs_p9_getxattr(cl, f, "user.big", w, big), (long)big);
	cr_assert_eq(memcmp(v, w, big), 0);
	free(v);
	free(w);

	long n = uvfs_p9_listxattr(cl, f, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	int found = 0;
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		found += !strcmp(p, "user.colour") || !strcmp(p, "user.big");
	cr_assert_eq(found, 2);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
}

Test(p9, statfs_matches_host)
{
	struct uvfs_p9_statfs s;
	cr_assert_eq(uvfs_p9_statfs(cl, root, &s), 0);
	struct statvfs h;
	cr_assert_eq(statvfs(srv.dir, &h), 0);
	cr_assert_eq(s.bsize, h.f_bsize);
	cr_assert_eq(s.blocks, h.f_blocks);
	cr_assert_eq(s.files, h.f_files);
	cr_assert_eq(s.namelen, h.f_namemax);
	cr_assert_leq(s.bfree, s.blocks);
}

Test(p9, fsync_and_locks)
{
	uint32_t f = create("", "locked", 0644);
	cr_assert_eq(uvfs_p9_fsync(cl, f, 1), 0);
	struct uvfs_p9_flock fl = { .type = UVFS_P9_LOCK_TYPE_WRLCK, .start = 0, .length = 100, .proc_id = 42 };
	strcpy(fl.client_id, "uvfs-test");
	uint8_t status = 0xff;
	cr_assert_eq(uvfs_p9_lock(cl, f, &fl, &status), 0);
	cr_assert_eq(status, UVFS_P9_LOCK_SUCCESS);
	struct uvfs_p9_flock q = { .type = UVFS_P9_LOCK_TYPE_WRLCK, .start = 0, .length = 10, .proc_id = 43 };
	strcpy(q.client_id, "other");
	cr_assert_eq(uvfs_p9_getlock(cl, f, &q), 0);
	/* Same server process holds it, so POSIX says unlocked-for-us. */
	cr_assert(q.type == UVFS_P9_LOCK_TYPE_UNLCK || q.type == UVFS_P9_LOCK_TYPE_WRLCK);
	fl.type = UVFS_P9_LOCK_TYPE_UNLCK;
	cr_assert_eq(uvfs_p9_lock(cl, f, &fl, &status), 0);
	cr_assert_eq(status, UVFS_P9_LOCK_SUCCESS);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
}

/* ------------------------------------------------------------ errors */

Test(p9, errors_enoent_eexist_enotempty)
{
	uint32_t f;
	cr_assert_eq(uvfs_p9_walk_path(cl, root, "missing", &f, NULL), -ENOENT);
	cr_assert_eq(uvfs_p9_unlinkat(cl, root, "missing", 0), -ENOENT);
	cr_assert_eq(uvfs_p9_mkdir(cl, root, "d", 0755, 0, NULL), 0);
	cr_assert_eq(uvfs_p9_mkdir(cl, root, "d", 0755, 0, NULL), -EEXIST);
	f = create("d", "inner", 0644);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
	f = walk("d");
	cr_assert_eq(uvfs_p9_lcreate(cl, f, "inner", O_RDWR | O_CREAT | O_EXCL, 0644, 0, NULL, NULL), -EEXIST);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
	cr_assert_eq(uvfs_p9_unlinkat(cl, root, "d", AT_REMOVEDIR), -ENOTEMPTY);
	uint32_t d = walk("d");
	cr_assert_eq(uvfs_p9_unlinkat(cl, d, "inner", 0), 0);
	cr_assert_eq(uvfs_p9_clunk(cl, d), 0);
	cr_assert_eq(uvfs_p9_unlinkat(cl, root, "d", AT_REMOVEDIR), 0);
	/* Names are checked before anything is sent. */
	cr_assert_eq(uvfs_p9_mkdir(cl, root, "x/y", 0755, 0, NULL), -EINVAL);
	cr_assert_eq(uvfs_p9_mkdir(cl, root, "", 0755, 0, NULL), -EINVAL);
}

Test(p9, eacces_as_non_root)
{
	/* diod running as root bypasses DAC (it expects the client kernel to
	 * enforce), so serve as uid 65534 instead: then the host kernel says
	 * EACCES and the client must carry it through. */
	stop();
	int fd = diod_start_fd(&srv, 0, 65534);
	cr_assert_geq(fd, 0);
	cr_assert_eq(mkdir(host_path("private"), 0700), 0);
	cr_assert_eq(close(creat(host_path("private/secret"), 0600)), 0);
	cr_assert_eq(close(creat(host_path("ro"), 0644)), 0);
	cr_assert_eq(uvfs_p9_connect_fds(fd, fd, NULL, &cl), 0);

	uint32_t nob, f;
	struct uvfs_p9_qid q;
	/* Only the runas user may attach. */
	cr_assert_lt(uvfs_p9_attach(cl, "root", 0, srv.dir, &nob, &q), 0);
	cr_assert_eq(uvfs_p9_attach(cl, "nobody", 65534, srv.dir, &nob, &q), 0);
	root = nob; /* so stop() clunks it */
	/* No read permission on private/; walking through it fails too (diod
	 * reports any failed lookup during a walk as ENOENT). */
	cr_assert_eq(uvfs_p9_walk_path(cl, nob, "private", &f, NULL), 0);
	cr_assert_eq(uvfs_p9_lopen(cl, f, O_RDONLY | O_DIRECTORY, NULL, NULL), -EACCES);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
	cr_assert_eq(uvfs_p9_walk_path(cl, nob, "private/secret", &f, NULL), -ENOENT);
	/* No write permission in the root-owned 0755 export. */
	cr_assert_eq(uvfs_p9_walk(cl, nob, 0, NULL, &f, NULL), 0);
	cr_assert_eq(uvfs_p9_lcreate(cl, f, "new", O_RDWR | O_CREAT, 0644, 65534, NULL, NULL), -EACCES);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
	cr_assert_eq(uvfs_p9_mkdir(cl, nob, "newdir", 0755, 65534, NULL), -EACCES);
	cr_assert_eq(uvfs_p9_unlinkat(cl, nob, "ro", 0), -EACCES);
	cr_assert_eq(uvfs_p9_walk_path(cl, nob, "ro", &f, NULL), 0);
	cr_assert_eq(uvfs_p9_lopen(cl, f, O_WRONLY, NULL, NULL), -EACCES);
	cr_assert_eq(uvfs_p9_lopen(cl, f, O_RDONLY, NULL, NULL), 0);
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
	cr_assert_eq(access(host_path("ro"), F_OK), 0);
}

/* ------------------------------------------------------------ transports */

Test(p9, tcp_loopback)
{
	int err = diod_start_tcp(&d2);
	cr_assert_eq(err, 0, "diod tcp: %s", strerror(-err));
	struct uvfs_p9_client *t;
	err = uvfs_p9_connect(d2.addr, NULL, &t);
	cr_assert_eq(err, 0, "connect %s: %s", d2.addr, strerror(-err));
	uint32_t r, f;
	cr_assert_eq(uvfs_p9_attach(t, "root", 0, d2.dir, &r, NULL), 0);
	cr_assert_eq(uvfs_p9_walk(t, r, 0, NULL, &f, NULL), 0);
	cr_assert_eq(uvfs_p9_lcreate(t, f, "over-tcp", O_RDWR | O_CREAT, 0644, 0, NULL, NULL), 0);
	size_t len = 1u << 20;
	uint8_t *a = malloc(len), *b = malloc(len);
	for (size_t i = 0; i < len; i++)
		a[i] = (uint8_t)(i ^ (i >> 8));
	cr_assert_eq(uvfs_p9_write(t, f, 0, a, len), (long)len);
	cr_assert_eq(uvfs_p9_read(t, f, 0, b, len), (long)len);
	cr_assert_eq(memcmp(a, b, len), 0);
	free(a);
	free(b);
	cr_assert_eq(uvfs_p9_clunk(t, f), 0);
	cr_assert_eq(uvfs_p9_clunk(t, r), 0);
	uvfs_p9_close(t);
	char addr[sizeof(d2.addr)];
	memcpy(addr, d2.addr, sizeof(addr));
	diod_stop(&d2);

	struct uvfs_p9_client *bad;
	cr_assert_eq(uvfs_p9_connect("bogus:1", NULL, &bad), -EINVAL);
	cr_assert_lt(uvfs_p9_connect(addr, NULL, &bad), 0, "nobody listens any more");
}

Test(p9, unix_socket)
{
	int err = diod_start_unix(&d2);
	cr_assert_eq(err, 0, "diod unix: %s", strerror(-err));
	struct uvfs_p9_client *u;
	err = uvfs_p9_connect(d2.addr, NULL, &u);
	cr_assert_eq(err, 0, "connect %s: %s", d2.addr, strerror(-err));
	int hfd = open(d2.dir, O_RDONLY | O_DIRECTORY);
	cr_assert_geq(hfd, 0);
	cr_assert_eq(mkdirat(hfd, "via-host", 0755), 0);
	close(hfd);
	uint32_t r, f;
	struct uvfs_p9_qid q;
	cr_assert_eq(uvfs_p9_attach(u, "root", 0, d2.dir, &r, NULL), 0);
	cr_assert_eq(uvfs_p9_walk_path(u, r, "via-host", &f, &q), 0);
	cr_assert(q.type & UVFS_P9_QTDIR);
	cr_assert_eq(uvfs_p9_clunk(u, f), 0);
	cr_assert_eq(uvfs_p9_clunk(u, r), 0);
	uvfs_p9_close(u);
	char addr[sizeof(d2.addr)];
	memcpy(addr, d2.addr, sizeof(addr));
	diod_stop(&d2);
	struct uvfs_p9_client *bad;
	cr_assert_eq(uvfs_p9_connect(addr, NULL, &bad), -ENOENT, "socket removed");
}

Test(p9, separate_read_and_write_pipes)
{
	int rfd, wfd;
	int err = diod_start_pipes(&d2, &rfd, &wfd);
	cr_assert_eq(err, 0, "diod pipes: %s", strerror(-err));
	struct uvfs_p9_client *pc;
	cr_assert_eq(uvfs_p9_connect_fds(rfd, wfd, NULL, &pc), 0);
	uint32_t r, f;
	cr_assert_eq(uvfs_p9_attach(pc, "root", 0, d2.dir, &r, NULL), 0);
	cr_assert_eq(uvfs_p9_walk(pc, r, 0, NULL, &f, NULL), 0);
	cr_assert_eq(uvfs_p9_lcreate(pc, f, "p", O_RDWR | O_CREAT, 0644, 0, NULL, NULL), 0);
	size_t len = 300000;
	uint8_t *a = malloc(len), *b = malloc(len);
	for (size_t i = 0; i < len; i++)
		a[i] = (uint8_t)(i * 13);
	cr_assert_eq(uvfs_p9_write(pc, f, 0, a, len), (long)len);
	cr_assert_eq(uvfs_p9_read(pc, f, 0, b, len), (long)len);
	cr_assert_eq(memcmp(a, b, len), 0);
	free(a);
	free(b);
	/* A dead server behind a pipe: the write gets EPIPE, which must come
	 * back as an error and not as a SIGPIPE killing us. */
	diod_kill(&d2);
	struct uvfs_p9_attr at;
	cr_assert_eq(uvfs_p9_getattr(pc, f, UVFS_P9_GETATTR_BASIC, &at), -ECONNRESET);
	cr_assert_eq(uvfs_p9_clunk(pc, f), -ECONNRESET);
	uvfs_p9_close(pc);
	diod_stop(&d2);
}

/* ------------------------------------------------------------ concurrency */

struct worker {
	int id;
	int errors;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[32], buf[4096], back[4096];
	for (int it = 0; it < 50; it++) {
		snprintf(name, sizeof(name), "t%d-%d", w->id, it);
		uint32_t f;
		if (uvfs_p9_walk(cl, root, 0, NULL, &f, NULL)) {
			w->errors++;
			continue;
		}
		memset(buf, 'a' + (w->id + it) % 26, sizeof(buf));
		if (uvfs_p9_lcreate(cl, f, name, O_RDWR | O_CREAT | O_EXCL, 0644, 0, NULL, NULL) ||
		    uvfs_p9_write(cl, f, 0, buf, sizeof(buf)) != (long)sizeof(buf) ||
		    uvfs_p9_read(cl, f, 0, back, sizeof(back)) != (long)sizeof(back) ||
		    memcmp(buf, back, sizeof(buf)))
			w->errors++;
		if (uvfs_p9_clunk(cl, f))
			w->errors++;
		struct uvfs_p9_attr a;
		uint32_t g;
		if (uvfs_p9_walk_path(cl, root, name, &g, NULL) ||
		    uvfs_p9_getattr(cl, g, UVFS_P9_GETATTR_BASIC, &a) || a.size != sizeof(buf))
			w->errors++;
		else if (uvfs_p9_clunk(cl, g))
			w->errors++;
		if (uvfs_p9_unlinkat(cl, root, name, 0))
			w->errors++;
	}
	return NULL;
}

Test(p9, eight_threads_at_once)
{
	pthread_t th[8];
	struct worker w[8];
	uint64_t base = fids_in_use();
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){ .id = i };
		cr_assert_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(w[i].errors, 0, "thread %d had %d errors", i, w[i].errors);
	}
	cr_assert_eq(fids_in_use(), base);
	DIR *dir = opendir(srv.dir);
	int left = 0;
	for (struct dirent *e; (e = readdir(dir));)
		left += e->d_name[0] == 't';
	closedir(dir);
	cr_assert_eq(left, 0);
}

struct reader_arg {
	struct uvfs_p9_client *c;
	uint32_t root;
	int errors;
};

static void *pipelined_reader(void *arg)
{
	struct reader_arg *ra = arg;
	size_t len = 1u << 20;
	uint8_t *b = malloc(len);
	for (int it = 0; it < 4; it++) {
		uint32_t f;
		if (uvfs_p9_walk_path(ra->c, ra->root, "shared", &f, NULL) ||
		    uvfs_p9_lopen(ra->c, f, O_RDONLY, NULL, NULL)) {
			ra->errors++;
			continue;
		}
		long n = uvfs_p9_read(ra->c, f, 0, b, len);
		if (n != (long)len || b[12345] != (uint8_t)(12345 * 31))
			ra->errors++;
		uvfs_p9_clunk(ra->c, f);
	}
	free(b);
	return NULL;
}

Test(p9, few_tags_many_pipelined_readers)
{
	/* 2 tags for 8 threads that each want 4 reads in flight: callers
	 * holding requests must not sleep on tags (their owners would never
	 * hand any back). */
	stop();
	int fd = diod_start_fd(&srv, 0, -1);
	cr_assert_geq(fd, 0);
	struct uvfs_p9_opts o = { .max_inflight = 2 };
	cr_assert_eq(uvfs_p9_connect_fds(fd, fd, &o, &cl), 0);
	cr_assert_eq(uvfs_p9_attach(cl, "root", 0, srv.dir, &root, NULL), 0);

	size_t len = 1u << 20;
	uint8_t *data = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 31);
	int hfd = open(host_path("shared"), O_CREAT | O_WRONLY, 0644);
	cr_assert_eq(write(hfd, data, len), (ssize_t)len);
	close(hfd);
	free(data);

	pthread_t th[8];
	struct reader_arg ra[8];
	for (int i = 0; i < 8; i++) {
		ra[i] = (struct reader_arg){ .c = cl, .root = root };
		cr_assert_eq(pthread_create(&th[i], NULL, pipelined_reader, &ra[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(ra[i].errors, 0, "thread %d", i);
	}
	cr_assert_eq(fids_in_use(), 1);
}

/* ------------------------------------------------------------ failure */

/* A Tlopen(O_RDONLY) of a FIFO blocks inside diod until a writer opens
 * the FIFO on the host: that is how these tests hold a request open. */
struct blocked_open {
	uint32_t fid;
	int ret;
};

static void *blocked_open_main(void *arg)
{
	struct blocked_open *b = arg;
	b->ret = uvfs_p9_lopen(cl, b->fid, O_RDONLY, NULL, NULL);
	return NULL;
}

static uint32_t server_fifo(void)
{
	cr_assert_eq(mkfifo(host_path("fifo"), 0600), 0);
	return walk("fifo");
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Opens the FIFO for writing after a delay, which lets diod's open finish. */
struct fifo_writer {
	char path[512];
	int delay_ms;
	int opened;
};

static void *fifo_writer_main(void *arg)
{
	struct fifo_writer *fw = arg;
	msleep(fw->delay_ms);
	for (int i = 0; i < 500 && !fw->opened; i++) { /* ENXIO until diod opens */
		int fd = open(fw->path, O_WRONLY | O_NONBLOCK);
		if (fd >= 0) {
			fw->opened = 1;
			msleep(50); /* let diod's open return before the last writer goes */
			close(fd);
		} else {
			msleep(10);
		}
	}
	return NULL;
}

static void start_writer(pthread_t *th, struct fifo_writer *fw, int delay_ms)
{
	fw->delay_ms = delay_ms;
	fw->opened = 0;
	snprintf(fw->path, sizeof(fw->path), "%s", host_path("fifo"));
	cr_assert_eq(pthread_create(th, NULL, fifo_writer_main, fw), 0);
}

Test(p9, server_killed_mid_request)
{
	struct blocked_open b = { .fid = server_fifo(), .ret = 1 };
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, blocked_open_main, &b), 0);
	msleep(200); /* the Tlopen is now stuck in diod */
	double t0 = now_s();
	diod_kill(&srv);
	pthread_join(th, NULL);
	cr_assert_lt(now_s() - t0, 5.0);
	cr_assert_eq(b.ret, -ECONNRESET, "got %d", b.ret);
	/* Everything afterwards fails at once instead of hanging. */
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(cl, root, UVFS_P9_GETATTR_BASIC, &a), -ECONNRESET);
	uint32_t f;
	cr_assert_eq(uvfs_p9_walk(cl, root, 0, NULL, &f, NULL), -ECONNRESET);
	cr_assert_eq(uvfs_p9_clunk(cl, b.fid), -ECONNRESET);
}

static void *getattr_loop(void *arg)
{
	long bad = 0;
	for (;;) {
		struct uvfs_p9_attr a;
		int err = uvfs_p9_getattr(cl, root, UVFS_P9_GETATTR_BASIC, &a);
		if (err == -ECONNRESET)
			break;
		if (err)
			bad++;
	}
	return (void *)bad;
}

Test(p9, server_killed_under_load_fails_every_waiter)
{
	pthread_t th[6];
	for (int i = 0; i < 6; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, getattr_loop, NULL), 0);
	msleep(300);
	diod_kill(&srv);
	for (int i = 0; i < 6; i++) {
		void *bad;
		pthread_join(th[i], &bad);
		cr_assert_eq((long)bad, 0, "only ECONNRESET may end the loop");
	}
}

Test(p9, timeout_sends_tflush_and_honours_late_reply)
{
	uint32_t f = server_fifo();
	pthread_t th;
	struct fifo_writer fw;
	start_writer(&th, &fw, 400);

	uvfs_p9_set_timeout(cl, 100);
	double t0 = now_s();
	int err = uvfs_p9_lopen(cl, f, O_RDONLY, NULL, NULL);
	double dt = now_s() - t0;
	pthread_join(th, NULL);
	uvfs_p9_set_timeout(cl, 0);

	struct uvfs_p9_stats st;
	uvfs_p9_get_stats(cl, &st);
	cr_assert_eq(st.flushes, 1, "the timeout sent one Tflush");
	/* diod answers a flush of a running request only after the request
	 * finishes, so the real reply arrives first and is kept (9P rule). */
	cr_assert_eq(err, 0, "got %d", err);
	cr_assert(fw.opened);
	cr_assert_geq(dt, 0.35);
	/* The connection is fine afterwards. */
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(cl, f, UVFS_P9_GETATTR_BASIC, &a), 0);
	cr_assert(S_ISFIFO(a.mode));
	cr_assert_eq(uvfs_p9_clunk(cl, f), 0);
}

Test(p9, flush_of_queued_request_cancels_it)
{
	/* One diod worker: the blocked open occupies it, so the next request
	 * waits in diod's queue and Tflush removes it without a reply. */
	stop();
	int fd = diod_start_fd(&srv, 1, -1);
	cr_assert_geq(fd, 0);
	cr_assert_eq(uvfs_p9_connect_fds(fd, fd, NULL, &cl), 0);
	cr_assert_eq(uvfs_p9_attach(cl, "root", 0, srv.dir, &root, NULL), 0);

	struct blocked_open b = { .fid = server_fifo(), .ret = 1 };
	uint32_t other = walk("");
	pthread_t th, wt;
	cr_assert_eq(pthread_create(&th, NULL, blocked_open_main, &b), 0);
	msleep(200);
	struct fifo_writer fw;
	start_writer(&wt, &fw, 1000);

	uvfs_p9_set_timeout(cl, 150);
	struct uvfs_p9_attr a;
	double t0 = now_s();
	int err = uvfs_p9_getattr(cl, other, UVFS_P9_GETATTR_BASIC, &a);
	double dt = now_s() - t0;
	uvfs_p9_set_timeout(cl, 0);
	cr_assert_eq(err, -ETIMEDOUT, "got %d after %.3fs", err, dt);
	cr_assert_lt(dt, 0.9, "cancelled before the worker freed up");

	pthread_join(wt, NULL);
	pthread_join(th, NULL);
	cr_assert_eq(b.ret, 0);
	/* The cancelled call's tag is reusable and the fid still works. */
	cr_assert_eq(uvfs_p9_getattr(cl, other, UVFS_P9_GETATTR_BASIC, &a), 0);
	cr_assert_eq(uvfs_p9_clunk(cl, other), 0);
	cr_assert_eq(uvfs_p9_clunk(cl, b.fid), 0);
}

Test(p9, interrupt_cancels_calls_in_flight)
{
	struct blocked_open b = { .fid = server_fifo(), .ret = 1 };
	pthread_t th, wt;
	cr_assert_eq(pthread_create(&th, NULL, blocked_open_main, &b), 0);
	msleep(200);
	struct fifo_writer fw;
	start_writer(&wt, &fw, 300);
	uvfs_p9_interrupt(cl);
	pthread_join(th, NULL);
	pthread_join(wt, NULL);
	struct uvfs_p9_stats st;
	uvfs_p9_get_stats(cl, &st);
	cr_assert_eq(st.flushes, 1);
	cr_assert_eq(b.ret, 0, "reply raced ahead of Rflush and was kept");
	cr_assert_eq(uvfs_p9_clunk(cl, b.fid), 0);
}

Test(p9, clunk_is_never_cancelled)
{
	/* One worker, held by a blocked open: a clunk queued behind it must
	 * wait it out despite a short timeout, or the fid would leak on the
	 * server while we reuse its number. */
	stop();
	int fd = diod_start_fd(&srv, 1, -1);
	cr_assert_geq(fd, 0);
	cr_assert_eq(uvfs_p9_connect_fds(fd, fd, NULL, &cl), 0);
	cr_assert_eq(uvfs_p9_attach(cl, "root", 0, srv.dir, &root, NULL), 0);
	struct blocked_open b = { .fid = server_fifo(), .ret = 1 };
	uint32_t other = walk("");
	pthread_t th, wt;
	cr_assert_eq(pthread_create(&th, NULL, blocked_open_main, &b), 0);
	msleep(200);
	struct fifo_writer fw;
	start_writer(&wt, &fw, 400);
	uvfs_p9_set_timeout(cl, 50);
	double t0 = now_s();
	cr_assert_eq(uvfs_p9_clunk(cl, other), 0);
	cr_assert_geq(now_s() - t0, 0.3, "waited for the worker");
	uvfs_p9_set_timeout(cl, 0);
	pthread_join(wt, NULL);
	pthread_join(th, NULL);
	struct uvfs_p9_stats st;
	uvfs_p9_get_stats(cl, &st);
	cr_assert_eq(st.flushes, 0);
	cr_assert_eq(uvfs_p9_clunk(cl, b.fid), 0);
}

static void restart_with(int nthreads, uint32_t max_inflight)
{
	stop();
	int fd = diod_start_fd(&srv, nthreads, -1);
	cr_assert_geq(fd, 0);
	struct uvfs_p9_opts o = { .max_inflight = max_inflight };
	cr_assert_eq(uvfs_p9_connect_fds(fd, fd, &o, &cl), 0);
	cr_assert_eq(uvfs_p9_attach(cl, "root", 0, srv.dir, &root, NULL), 0);
}

Test(p9, async_clunk_releases_fids_once_answered)
{
	/* One diod worker answers in order, so the reply to a later call is
	 * read only after every earlier Rclunk. */
	restart_with(1, 4);
	uint32_t maxfid = 0;
	for (int i = 0; i < 500; i++) {
		uint32_t f;
		cr_assert_eq(uvfs_p9_walk(cl, root, 0, NULL, &f, NULL), 0);
		if (f > maxfid)
			maxfid = f;
		cr_assert_eq(uvfs_p9_clunk_async(cl, f), 0);
	}
	cr_assert_lt(maxfid, 20, "fid numbers come back as Rclunks are read (max %u)", maxfid);
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(cl, root, UVFS_P9_GETATTR_BASIC, &a), 0);
	cr_assert_eq(fids_in_use(), 1, "only root is left");
}

Test(p9, async_clunk_burst_beyond_tags)
{
	/* 100 fids, then 100 async clunks on 2 tags and nobody else calling:
	 * the sender must read Rclunks itself to get tags back. */
	restart_with(0, 2);
	uint32_t f[100];
	for (int i = 0; i < 100; i++)
		cr_assert_eq(uvfs_p9_walk(cl, root, 0, NULL, &f[i], NULL), 0);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(uvfs_p9_clunk_async(cl, f[i]), 0);
	/* A server-side check: all 100 fids really are gone (reusing them
	 * would be refused by diod... it is LOOSEFID, so check via clunk). */
	for (int i = 0; i < 100; i++) {
		uint32_t g;
		cr_assert_eq(uvfs_p9_walk(cl, root, 0, NULL, &g, NULL), 0);
		cr_assert_eq(uvfs_p9_clunk(cl, g), 0);
	}
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(cl, root, UVFS_P9_GETATTR_BASIC, &a), 0);
}

Test(p9, async_clunks_pending_when_server_dies)
{
	uint32_t f[20];
	for (int i = 0; i < 20; i++)
		cr_assert_eq(uvfs_p9_walk(cl, root, 0, NULL, &f[i], NULL), 0);
	diod_kill(&srv);
	int failed = 0;
	for (int i = 0; i < 20; i++)
		failed += uvfs_p9_clunk_async(cl, f[i]) != 0;
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(cl, root, UVFS_P9_GETATTR_BASIC, &a), -ECONNRESET);
	cr_assert_eq(fids_in_use(), 1, "only root: the dead connection released the rest (%d sends failed)", failed);
	/* stop() closes the client: ASan checks nothing pending leaked. */
}
