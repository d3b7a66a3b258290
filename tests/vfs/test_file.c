/* test_file.c — open flags and file operations. */
#include "fixture.h"

#include <dirent.h>
#include <stdlib.h>

static int exists(const char *path)
{
	struct statx st;
	int rc = fx_lstat(path, &st);
	cr_assert(rc == 0 || rc == -ENOENT, "lstat %s: %s", path, fx_err(rc));
	return rc == 0;
}

static uint64_t size_of(const char *path)
{
	struct statx st;
	FX_ASSERT_OK(fx_stat(path, &st));
	return st.stx_size;
}

FX_TEST(file, o_creat_creates_with_mode)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/n", O_CREAT | O_RDWR, 0640, &f));
	cr_assert_eq(fx_mode("/n"), S_IFREG | 0640);
	int fl = uvfs_file_flags(f);
	cr_assert_eq(fl & O_ACCMODE, O_RDWR);
	cr_assert_eq(fl & (O_CREAT | O_EXCL | O_TRUNC), 0, "creation flags are not status flags (got %#x)", fl);
	uvfs_file_put(f);
	/* O_CREAT on an existing file opens it without touching the mode. */
	FX_ASSERT_OK(fx_open("/n", O_CREAT | O_RDONLY, 0777, &f));
	uvfs_file_put(f);
	cr_assert_eq(fx_mode("/n"), S_IFREG | 0640);
	/* Without O_CREAT a missing name is ENOENT. */
	FX_ASSERT_ERR(fx_open("/missing", O_RDONLY, 0, &f), -ENOENT);
	/* O_CREAT of "." is EISDIR. */
	FX_ASSERT_ERR(fx_open(".", O_CREAT | O_RDONLY, 0644, &f), -EISDIR);
}

FX_TEST(file, o_excl)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/x", O_CREAT | O_EXCL | O_WRONLY, 0600, &f));
	uvfs_file_put(f);
	FX_ASSERT_ERR(fx_open("/x", O_CREAT | O_EXCL | O_WRONLY, 0600, &f), -EEXIST);
}

FX_TEST(file, directory_open_rules)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/f", "x");
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/d", O_WRONLY, 0, &f), -EISDIR);
	FX_ASSERT_ERR(fx_open("/d", O_RDWR, 0, &f), -EISDIR);
	FX_ASSERT_ERR(fx_open("/f", O_RDONLY | O_DIRECTORY, 0, &f), -ENOTDIR);
	FX_ASSERT_OK(fx_open("/d", O_RDONLY, 0, &f));
	char c;
	FX_ASSERT_ERR(uvfs_read(f, &c, 1), -EISDIR);
	uvfs_file_put(f);
	FX_ASSERT_OK(fx_open("/d", O_RDONLY | O_DIRECTORY, 0, &f));
	uvfs_file_put(f);
}

FX_TEST(file, o_trunc)
{
	fx_must_write("/f", "0123456789");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_RDONLY, 0, &f));
	uvfs_file_put(f);
	cr_assert_eq(size_of("/f"), 10, "O_RDONLY must not truncate");
	FX_ASSERT_OK(fx_open("/f", O_WRONLY | O_TRUNC, 0, &f));
	cr_assert_eq(size_of("/f"), 0);
	cr_assert_eq(uvfs_write(f, "ab", 2), 2);
	uvfs_file_put(f);
	char buf[16];
	cr_assert_eq(fx_read_file("/f", buf, sizeof buf), 2);
	cr_assert_str_eq(buf, "ab");
}

FX_TEST(file, o_append)
{
	fx_must_write("/f", "abc");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_WRONLY | O_APPEND, 0, &f));
	cr_assert(uvfs_file_flags(f) & O_APPEND);
	cr_assert_eq(uvfs_seek(f, 0, SEEK_SET), 0);
	cr_assert_eq(uvfs_write(f, "de", 2), 2);
	cr_assert_eq(uvfs_seek(f, 0, SEEK_CUR), 5, "the offset follows the end after an append");
	cr_assert_eq(uvfs_seek(f, 1, SEEK_SET), 1);
	cr_assert_eq(uvfs_write(f, "f", 1), 1);
	uvfs_file_put(f);
	char buf[16];
	cr_assert_eq(fx_read_file("/f", buf, sizeof buf), 6);
	cr_assert_str_eq(buf, "abcdef");
}

FX_TEST(file, o_nofollow)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_symlink("f", "/l"));
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/l", O_RDONLY | O_NOFOLLOW, 0, &f), -ELOOP);
	FX_ASSERT_ERR(fx_open("/l", O_WRONLY | O_CREAT | O_NOFOLLOW, 0644, &f), -ELOOP);
	FX_ASSERT_OK(fx_open("/f", O_RDONLY | O_NOFOLLOW, 0, &f));
	uvfs_file_put(f);
	/* Without FOLLOW in the pathop and without O_NOFOLLOW: either way a
	 * symlink is never opened as a file. */
	struct uvfs_pathop p = fx_pop("/l");
	int rc = uvfs_open_at(fx.vfs, &fx.cred, &p, O_RDONLY, 0, 0, &f);
	if (rc == 0) {
		struct statx st;
		FX_ASSERT_OK(uvfs_file_stat(f, STATX_TYPE, &st));
		cr_assert(S_ISREG(st.stx_mode), "opened a symlink itself");
		uvfs_file_put(f);
	} else {
		FX_ASSERT_ERR(rc, -ELOOP);
	}
}

FX_TEST(file, read_write_seek)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_CREAT | O_RDWR, 0644, &f));
	cr_assert_eq(uvfs_write(f, "hello world", 11), 11);
	cr_assert_eq(uvfs_seek(f, 0, SEEK_CUR), 11);
	char buf[32] = { 0 };
	cr_assert_eq(uvfs_read(f, buf, sizeof buf), 0, "read at EOF returns 0");
	cr_assert_eq(uvfs_seek(f, 6, SEEK_SET), 6);
	cr_assert_eq(uvfs_read(f, buf, 5), 5);
	cr_assert(memcmp(buf, "world", 5) == 0);
	cr_assert_eq(uvfs_seek(f, -5, SEEK_END), 6);
	cr_assert_eq(uvfs_seek(f, -1, SEEK_CUR), 5);
	FX_ASSERT_ERR(uvfs_seek(f, -1, SEEK_SET), -EINVAL);
	FX_ASSERT_ERR(uvfs_seek(f, -100, SEEK_END), -EINVAL);
	cr_assert_eq(uvfs_seek(f, 0, SEEK_CUR), 5, "failed seeks leave the offset");
	/* Seeking past the end and writing leaves a hole that reads as zeros. */
	cr_assert_eq(uvfs_seek(f, 20, SEEK_SET), 20);
	cr_assert_eq(uvfs_write(f, "Z", 1), 1);
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_SIZE, &st));
	cr_assert_eq(st.stx_size, 21);
	memset(buf, 0x7f, sizeof buf);
	cr_assert_eq(uvfs_pread(f, buf, 32, 0), 21);
	cr_assert(memcmp(buf, "hello world", 11) == 0);
	for (int i = 11; i < 20; i++)
		cr_assert_eq(buf[i], 0, "hole byte %d is %d", i, buf[i]);
	cr_assert_eq(buf[20], 'Z');
	uvfs_file_put(f);
}

FX_TEST(file, pread_pwrite_do_not_move_offset)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_CREAT | O_RDWR, 0644, &f));
	cr_assert_eq(uvfs_pwrite(f, "abcdef", 6, 0), 6);
	cr_assert_eq(uvfs_seek(f, 0, SEEK_CUR), 0);
	cr_assert_eq(uvfs_pwrite(f, "XY", 2, 2), 2);
	char buf[8] = { 0 };
	cr_assert_eq(uvfs_pread(f, buf, 3, 1), 3);
	cr_assert(memcmp(buf, "bXY", 3) == 0);
	cr_assert_eq(uvfs_seek(f, 0, SEEK_CUR), 0);
	cr_assert_eq(uvfs_pread(f, buf, 8, 100), 0);
	FX_ASSERT_ERR(uvfs_pread(f, buf, 1, -1), -EINVAL);
	FX_ASSERT_ERR(uvfs_pwrite(f, buf, 1, -1), -EINVAL);
	uvfs_file_put(f);
}

FX_TEST(file, access_mode_enforced)
{
	fx_must_write("/f", "abc");
	struct uvfs_file *r, *w;
	FX_ASSERT_OK(fx_open("/f", O_RDONLY, 0, &r));
	FX_ASSERT_OK(fx_open("/f", O_WRONLY, 0, &w));
	char c;
	FX_ASSERT_ERR(uvfs_write(r, "x", 1), -EBADF);
	FX_ASSERT_ERR(uvfs_pwrite(r, "x", 1, 0), -EBADF);
	FX_ASSERT_ERR(uvfs_read(w, &c, 1), -EBADF);
	FX_ASSERT_ERR(uvfs_pread(w, &c, 1, 0), -EBADF);
	/* ftruncate on a file not open for writing: EINVAL (Linux). */
	FX_ASSERT_ERR(uvfs_file_truncate(r, 0), -EINVAL);
	cr_assert_eq(size_of("/f"), 3);
	uvfs_file_put(r);
	uvfs_file_put(w);
}

FX_TEST(file, truncate_both_ways)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_CREAT | O_RDWR, 0644, &f));
	cr_assert_eq(uvfs_write(f, "abcdefgh", 8), 8);
	FX_ASSERT_OK(uvfs_file_truncate(f, 3));
	cr_assert_eq(size_of("/f"), 3);
	FX_ASSERT_OK(uvfs_file_truncate(f, 6));
	char buf[8];
	memset(buf, 0x7f, sizeof buf);
	cr_assert_eq(uvfs_pread(f, buf, 8, 0), 6);
	cr_assert(memcmp(buf, "abc\0\0\0", 6) == 0, "extended area reads as zeros");
	/* Through setstat with NEED_WRITE too. */
	struct uvfs_setattr a = { .mask = STATX_SIZE, .size = 1 };
	struct uvfs_pathop p = fx_popf("/f");
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &a, UVFS_SETATTR_NEED_WRITE));
	cr_assert_eq(size_of("/f"), 1);
	FX_ASSERT_ERR(uvfs_setstat_at(fx.vfs, &fx.user, &p, &a, UVFS_SETATTR_NEED_WRITE), -EACCES);
	fx_must_mkdir("/d", 0755);
	p = fx_popf("/d");
	FX_ASSERT_ERR(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &a, UVFS_SETATTR_NEED_WRITE), -EISDIR);
	uvfs_file_put(f);
}

FX_TEST(file, fsync)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_CREAT | O_RDWR, 0644, &f));
	cr_assert_eq(uvfs_write(f, "a", 1), 1);
	FX_ASSERT_OK(uvfs_fsync(f, false));
	FX_ASSERT_OK(uvfs_fsync(f, true));
	uvfs_file_put(f);
}

FX_TEST(file, large_write_spans_pages)
{
	size_t n = 3 * 4096 + 123;
	char *data = malloc(n), *back = malloc(n + 10);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7 + 3);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_CREAT | O_RDWR, 0644, &f));
	cr_assert_eq(uvfs_pwrite(f, data, n, 4000), (ssize_t)n);
	cr_assert_eq(uvfs_pread(f, back, n + 10, 4000), (ssize_t)n);
	cr_assert(memcmp(data, back, n) == 0);
	uvfs_file_put(f);
	cr_assert_eq(size_of("/f"), 4000 + n);
	free(data);
	free(back);
}

FX_TEST(file, open_unlinked_stays_readable)
{
	fx_must_write("/f", "still here");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_RDWR, 0, &f));
	struct uvfs_pathop p = fx_pop("/f");
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &p));
	cr_assert_not(exists("/f"));
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_NLINK | STATX_SIZE, &st));
	cr_assert_eq(st.stx_nlink, 0);
	cr_assert_eq(st.stx_size, 10);
	char buf[16] = { 0 };
	cr_assert_eq(uvfs_read(f, buf, sizeof buf), 10);
	cr_assert_str_eq(buf, "still here");
	cr_assert_eq(uvfs_pwrite(f, "S", 1, 0), 1);
	cr_assert_eq(uvfs_pread(f, buf, 1, 0), 1);
	cr_assert_eq(buf[0], 'S');
	uvfs_file_put(f);
}

FX_TEST(file, exec_open)
{
	fx_must_write("/prog", "x");
	FX_ASSERT_OK(fx_chmod("/prog", 0755));
	struct uvfs_pathop p = fx_popf("/prog");
	struct uvfs_file *f = NULL;
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.cred, &p, O_RDONLY, 0, UVFS_OPEN_EXEC, &f));
	uvfs_file_put(f);
	FX_ASSERT_OK(fx_chmod("/prog", 0644));
	FX_ASSERT_ERR(uvfs_open_at(fx.vfs, &fx.cred, &p, O_RDONLY, 0, UVFS_OPEN_EXEC, &f), -EACCES);
}

/* ------------------------------------------------------------ readdir */

struct ent {
	char name[64];
	uint64_t ino;
	unsigned type;
	int64_t next;
};
struct collect {
	struct ent e[128];
	int n;
	int stop_after; /* refuse the entry after this many (0 = never) */
};

static int collect_cb(void *arg, const char *name, size_t namelen, uint64_t ino, unsigned dtype, int64_t next_off)
{
	struct collect *c = arg;
	if (c->stop_after && c->n >= c->stop_after)
		return 1;
	cr_assert_lt(c->n, 128);
	cr_assert_lt(namelen, 64);
	memcpy(c->e[c->n].name, name, namelen);
	c->e[c->n].name[namelen] = 0;
	c->e[c->n].ino = ino;
	c->e[c->n].type = dtype;
	c->e[c->n].next = next_off;
	c->n++;
	return 0;
}

static int find(struct collect *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->e[i].name, name) == 0)
			return i;
	return -1;
}

FX_TEST(file, iterate_dir_dots_and_types)
{
	fx_must_mkdir("/d", 0755);
	fx_must_mkdir("/d/sub", 0755);
	fx_must_write("/d/file", "x");
	FX_ASSERT_OK(fx_symlink("file", "/d/link"));
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/d", O_RDONLY | O_DIRECTORY, 0, &f));
	static struct collect c;
	memset(&c, 0, sizeof c);
	FX_ASSERT_OK(uvfs_iterate_dir(f, collect_cb, &c));
	cr_assert_eq(c.n, 5);
	cr_assert_str_eq(c.e[0].name, ".");
	cr_assert_str_eq(c.e[1].name, "..");
	cr_assert_eq(c.e[0].ino, fx_ino("/d"));
	cr_assert_eq(c.e[1].ino, fx_ino("/"));
	cr_assert_eq(c.e[0].type, DT_DIR);
	cr_assert_eq(c.e[1].type, DT_DIR);
	int s = find(&c, "sub"), fl = find(&c, "file"), l = find(&c, "link");
	cr_assert(s >= 2 && fl >= 2 && l >= 2);
	cr_assert_eq(c.e[s].type, DT_DIR);
	cr_assert_eq(c.e[fl].type, DT_REG);
	cr_assert_eq(c.e[l].type, DT_LNK);
	cr_assert_eq(c.e[fl].ino, fx_ino("/d/file"));
	/* A second call at the end delivers nothing. */
	int before = c.n;
	FX_ASSERT_OK(uvfs_iterate_dir(f, collect_cb, &c));
	cr_assert_eq(c.n, before);
	uvfs_file_put(f);
}

FX_TEST(file, iterate_dir_dotdot_of_mount_root_and_ns_root)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/", O_RDONLY | O_DIRECTORY, 0, &f));
	static struct collect c;
	memset(&c, 0, sizeof c);
	FX_ASSERT_OK(uvfs_iterate_dir(f, collect_cb, &c));
	cr_assert_geq(c.n, 2);
	cr_assert_str_eq(c.e[1].name, "..");
	cr_assert_eq(c.e[1].ino, fx_ino("/"), "root's .. is itself");
	uvfs_file_put(f);
}

FX_TEST(file, iterate_dir_resumes_after_refusal)
{
	fx_must_mkdir("/d", 0755);
	char path[32];
	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof path, "/d/n%02d", i);
		fx_must_write(path, "");
	}
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/d", O_RDONLY | O_DIRECTORY, 0, &f));
	static struct collect all;
	memset(&all, 0, sizeof all);
	/* Take 3 entries per call: refused entries are re-delivered. */
	for (int round = 0; round < 30; round++) {
		static struct collect c;
		memset(&c, 0, sizeof c);
		c.stop_after = 3;
		FX_ASSERT_OK(uvfs_iterate_dir(f, collect_cb, &c));
		for (int i = 0; i < c.n; i++)
			all.e[all.n++] = c.e[i];
		if (c.n == 0)
			break;
	}
	cr_assert_eq(all.n, 22, "got %d entries", all.n);
	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof path, "n%02d", i);
		cr_assert_geq(find(&all, path), 0, "missing %s", path);
	}
	/* Every entry exactly once. */
	for (int i = 0; i < all.n; i++)
		for (int j = i + 1; j < all.n; j++)
			cr_assert(strcmp(all.e[i].name, all.e[j].name) != 0, "duplicate %s", all.e[i].name);
	uvfs_file_put(f);
}

FX_TEST(file, iterate_dir_seek_to_next_off)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/a", "");
	fx_must_write("/d/b", "");
	fx_must_write("/d/c", "");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/d", O_RDONLY | O_DIRECTORY, 0, &f));
	static struct collect c;
	memset(&c, 0, sizeof c);
	FX_ASSERT_OK(uvfs_iterate_dir(f, collect_cb, &c));
	cr_assert_eq(c.n, 5);
	/* Seek to the offset after entry 2 and re-read the rest. */
	cr_assert_eq(uvfs_seek(f, c.e[2].next, SEEK_SET), c.e[2].next);
	static struct collect r;
	memset(&r, 0, sizeof r);
	FX_ASSERT_OK(uvfs_iterate_dir(f, collect_cb, &r));
	cr_assert_eq(r.n, 2);
	cr_assert_str_eq(r.e[0].name, c.e[3].name);
	cr_assert_str_eq(r.e[1].name, c.e[4].name);
	/* Rewind. */
	cr_assert_eq(uvfs_seek(f, 0, SEEK_SET), 0);
	memset(&r, 0, sizeof r);
	FX_ASSERT_OK(uvfs_iterate_dir(f, collect_cb, &r));
	cr_assert_eq(r.n, 5);
	cr_assert_str_eq(r.e[0].name, ".");
	uvfs_file_put(f);
}

FX_TEST(file, iterate_dir_with_concurrent_removal)
{
	/* Removing the entry the cursor sits on must not lose the others. */
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/a", "");
	fx_must_write("/d/b", "");
	fx_must_write("/d/c", "");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/d", O_RDONLY | O_DIRECTORY, 0, &f));
	static struct collect c;
	memset(&c, 0, sizeof c);
	c.stop_after = 3; /* ".", "..", first child */
	FX_ASSERT_OK(uvfs_iterate_dir(f, collect_cb, &c));
	cr_assert_eq(c.n, 3);
	char first[80];
	snprintf(first, sizeof first, "/d/%s", c.e[2].name);
	struct uvfs_pathop p = fx_pop(first);
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &p));
	c.stop_after = 0;
	FX_ASSERT_OK(uvfs_iterate_dir(f, collect_cb, &c));
	cr_assert_eq(c.n, 5, "got %d entries", c.n);
	uvfs_file_put(f);
}

FX_TEST(file, iterate_not_a_directory)
{
	fx_must_write("/f", "x");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_RDONLY, 0, &f));
	static struct collect c;
	memset(&c, 0, sizeof c);
	FX_ASSERT_ERR(uvfs_iterate_dir(f, collect_cb, &c), -ENOTDIR);
	char buf[256];
	FX_ASSERT_ERR(uvfs_getdents64(f, buf, sizeof buf), -ENOTDIR);
	uvfs_file_put(f);
}

struct ld64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

FX_TEST(file, getdents64)
{
	fx_must_mkdir("/d", 0755);
	char path[64];
	for (int i = 0; i < 30; i++) {
		snprintf(path, sizeof path, "/d/entry_with_a_longish_name_%02d", i);
		fx_must_write(path, "");
	}
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/d", O_RDONLY | O_DIRECTORY, 0, &f));
	/* Too small for even one record. */
	char tiny[8];
	FX_ASSERT_ERR(uvfs_getdents64(f, tiny, sizeof tiny), -EINVAL);
	_Alignas(8) char buf[200];
	int seen = 0, dots = 0, calls = 0;
	for (;;) {
		ssize_t n = uvfs_getdents64(f, buf, sizeof buf);
		cr_assert_geq(n, 0, "getdents64: %s", fx_err(n));
		if (n == 0)
			break;
		calls++;
		for (ssize_t off = 0; off < n;) {
			struct ld64 *d = (struct ld64 *)(buf + off);
			cr_assert_gt(d->d_reclen, 19);
			cr_assert_eq(d->d_reclen % 8, 0, "reclen %u not 8-aligned", d->d_reclen);
			cr_assert_leq(off + d->d_reclen, n);
			cr_assert_neq(d->d_ino, 0);
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				dots++;
			else {
				cr_assert(strncmp(d->d_name, "entry_with_a_longish_name_", 26) == 0, "bad name %s", d->d_name);
				cr_assert_eq(d->d_type, DT_REG);
				seen++;
			}
			off += d->d_reclen;
		}
	}
	cr_assert_eq(dots, 2);
	cr_assert_eq(seen, 30);
	cr_assert_gt(calls, 1, "a 200-byte buffer needs several calls");
	uvfs_file_put(f);
}

FX_TEST(file, copy_file_data)
{
	size_t n = 100000;
	char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i % 251);
	struct uvfs_file *src, *dst;
	FX_ASSERT_OK(fx_open("/src", O_CREAT | O_RDWR, 0644, &src));
	cr_assert_eq(uvfs_write(src, data, n), (ssize_t)n);
	cr_assert_eq(uvfs_seek(src, 10, SEEK_SET), 10);
	FX_ASSERT_OK(fx_open("/dst", O_CREAT | O_WRONLY, 0644, &dst));
	cr_assert_eq(uvfs_copy_file_data(dst, src), (ssize_t)(n - 10));
	uvfs_file_put(src);
	uvfs_file_put(dst);
	char *back = malloc(n);
	cr_assert_eq(fx_read_file("/dst", back, n), (ssize_t)(n - 10));
	cr_assert(memcmp(back, data + 10, n - 10) == 0);
	/* Nothing to copy: 0. */
	FX_ASSERT_OK(fx_open("/src", O_RDONLY, 0, &src));
	cr_assert_eq(uvfs_seek(src, 0, SEEK_END), (off_t)n);
	FX_ASSERT_OK(fx_open("/dst", O_WRONLY, 0, &dst));
	cr_assert_eq(uvfs_copy_file_data(dst, src), 0);
	/* Copying into a read-only file: EBADF. */
	struct uvfs_file *ro;
	FX_ASSERT_OK(fx_open("/dst", O_RDONLY, 0, &ro));
	cr_assert_eq(uvfs_seek(src, 0, SEEK_SET), 0);
	FX_ASSERT_ERR(uvfs_copy_file_data(ro, src), -EBADF);
	uvfs_file_put(ro);
	uvfs_file_put(src);
	uvfs_file_put(dst);
	free(data);
	free(back);
}

FX_TEST(file, file_vd_and_refs)
{
	fx_must_write("/f", "x");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_RDONLY, 0, &f));
	struct uvfs_vd vd;
	uvfs_file_vd(f, &vd);
	cr_assert_eq(vd.mount, fx.root.mount);
	uvfs_file_get(f);
	uvfs_file_put(f);
	uvfs_file_put(f); /* last ref; vd still holds its own */
	struct uvfs_pathop p = fx_pop_at(&vd, "", UVFS_PATH_EMPTY);
	struct statx st;
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st));
	cr_assert_eq(st.stx_ino, fx_ino("/f"));
	uvfs_vd_put(&vd);
}

FX_TEST(file, erofs_writers_on_ro_mount)
{
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	fx_must_write("/m/f", "x");
	struct uvfs_vd vd;
	struct uvfs_pathop p = fx_popf("/m");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, &vd));
	FX_ASSERT_OK(uvfs_set_mount_readonly(vd.mount, true));
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/m/f", O_WRONLY, 0, &f), -EROFS);
	FX_ASSERT_ERR(fx_open("/m/f", O_RDONLY | O_TRUNC, 0, &f), -EROFS);
	FX_ASSERT_OK(fx_open("/m/f", O_RDONLY, 0, &f));
	FX_ASSERT_ERR(uvfs_write(f, "y", 1), -EBADF);
	uvfs_file_put(f);
	/* Writable again: a writer blocks going read-only. */
	FX_ASSERT_OK(uvfs_set_mount_readonly(vd.mount, false));
	FX_ASSERT_OK(fx_open("/m/f", O_RDWR, 0, &f));
	FX_ASSERT_ERR(uvfs_set_mount_readonly(vd.mount, true), -EBUSY);
	uvfs_file_put(f);
	FX_ASSERT_OK(uvfs_set_mount_readonly(vd.mount, true));
	uvfs_vd_put(&vd);
}

FX_TEST(file, o_creat_on_directory_eisdir)
{
	fx_must_mkdir("/d", 0755);
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/d", O_CREAT | O_RDONLY, 0644, &f), -EISDIR);
	FX_ASSERT_ERR(fx_open("/nf/", O_CREAT | O_EXCL | O_WRONLY, 0644, &f), -EISDIR);
	cr_assert_null(f);
}

FX_TEST(file, pwrite_with_o_append_appends)
{
	/* Linux: pwrite on an O_APPEND file ignores the offset. */
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_CREAT | O_RDWR | O_APPEND, 0644, &f));
	cr_assert_eq(uvfs_write(f, "abc", 3), 3);
	cr_assert_eq(uvfs_pwrite(f, "Z", 1, 0), 1);
	char buf[8] = { 0 };
	cr_assert_eq(uvfs_pread(f, buf, sizeof buf, 0), 4);
	cr_assert_str_eq(buf, "abcZ");
	uvfs_file_put(f);
}

FX_TEST(file, truncate_negative_einval)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_CREAT | O_RDWR, 0644, &f));
	cr_assert_eq(uvfs_write(f, "abc", 3), 3);
	FX_ASSERT_ERR(uvfs_file_truncate(f, (uint64_t)-1), -EINVAL);
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_SIZE, &st));
	cr_assert_eq(st.stx_size, 3);
	uvfs_file_put(f);
}

FX_TEST(file, o_noatime_needs_ownership)
{
	fx_must_write("/rootf", "x");
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open_as(&fx.user, "/rootf", O_RDONLY | O_NOATIME, 0, &f), -EPERM);
	FX_ASSERT_OK(fx_open_as(&fx.user, "/rootf", O_RDONLY, 0, &f));
	uvfs_file_put(f);
	FX_ASSERT_OK(fx_open("/rootf", O_RDONLY | O_NOATIME, 0, &f));
	uvfs_file_put(f);
}

FX_TEST(file, file_setstat)
{
	fx_must_write("/f", "abcdef");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/f", O_RDWR, 0, &f));
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = 0600 };
	FX_ASSERT_OK(uvfs_file_setstat(f, &fx.cred, &a));
	cr_assert_eq(fx_mode("/f"), S_IFREG | 0600);
	a = (struct uvfs_setattr){ .mask = STATX_SIZE, .size = 2 };
	FX_ASSERT_OK(uvfs_file_setstat(f, &fx.cred, &a));
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_SIZE, &st));
	cr_assert_eq(st.stx_size, 2);
	a = (struct uvfs_setattr){ .mask = STATX_MODE, .mode = 0644 };
	FX_ASSERT_ERR(uvfs_file_setstat(f, &fx.user, &a), -EPERM);
	uvfs_file_put(f);
}

FX_TEST(file, rename_over_open_file_keeps_old_inode)
{
	fx_must_write("/old", "old data");
	fx_must_write("/new", "new");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/old", O_RDONLY, 0, &f));
	struct uvfs_pathop a = fx_pop("/new"), b = fx_pop("/old");
	FX_ASSERT_OK(uvfs_rename_at(fx.vfs, &fx.cred, &a, &b, 0));
	char buf[16] = { 0 };
	cr_assert_eq(uvfs_pread(f, buf, sizeof buf, 0), 8);
	cr_assert_str_eq(buf, "old data");
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_NLINK, &st));
	cr_assert_eq(st.stx_nlink, 0);
	cr_assert_eq(fx_read_file("/old", buf, sizeof buf), 3);
	uvfs_file_put(f);
}

FX_TEST(file, many_links_unlinked_while_open)
{
	fx_must_write("/f", "x");
	char path[32];
	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof path, "/l%d", i);
		struct uvfs_pathop a = fx_pop("/f"), b = fx_pop(path);
		FX_ASSERT_OK(uvfs_link_at(fx.vfs, &fx.cred, &a, &b));
	}
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/f", &st));
	cr_assert_eq(st.stx_nlink, 51);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/l7", O_RDWR, 0, &f));
	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof path, "/l%d", i);
		struct uvfs_pathop a = fx_pop(path);
		FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &a));
	}
	struct uvfs_pathop a = fx_pop("/f");
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &a));
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_NLINK, &st));
	cr_assert_eq(st.stx_nlink, 0);
	cr_assert_eq(uvfs_write(f, "y", 1), 1);
	uvfs_file_put(f);
}

FX_TEST(file, getdents64_large_directory_while_growing)
{
	fx_must_mkdir("/d", 0755);
	char path[64];
	for (int i = 0; i < 500; i++) {
		snprintf(path, sizeof path, "/d/e%04d", i);
		FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &(struct uvfs_pathop){ .root = fx.root, .start = fx.root, .path = path },
					   S_IFREG | 0644, 0));
	}
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/d", O_RDONLY | O_DIRECTORY, 0, &f));
	static char seen[1000];
	memset(seen, 0, sizeof seen);
	_Alignas(8) char buf[512];
	int total = 0, added = 0;
	for (;;) {
		ssize_t n = uvfs_getdents64(f, buf, sizeof buf);
		cr_assert_geq(n, 0);
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			struct ld64 *d = (struct ld64 *)(buf + off);
			if (d->d_name[0] == 'e') {
				int idx = atoi(d->d_name + 1);
				cr_assert(idx >= 0 && idx < 1000);
				cr_assert_not(seen[idx], "entry %s delivered twice", d->d_name);
				seen[idx] = 1;
				total++;
			}
			off += d->d_reclen;
		}
		/* Grow the directory while reading it. */
		if (added < 100) {
			snprintf(path, sizeof path, "/d/e%04d", 500 + added++);
			FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred,
						   &(struct uvfs_pathop){ .root = fx.root, .start = fx.root, .path = path },
						   S_IFREG | 0644, 0));
		}
	}
	for (int i = 0; i < 500; i++)
		cr_assert(seen[i], "pre-existing entry e%04d missing", i);
	cr_assert_geq(total, 500);
	cr_assert_leq(total, 500 + added);
	uvfs_file_put(f);
}
