/* tmpfs regular files (sparse data, truncate, append), hard links,
 * symlinks, special nodes, many files, concurrent readers and writers. */
#include <fcntl.h>
#include <sys/sysmacros.h>

#include "fsimpl/tmpfs/internal.h"
#include "tt.h"

static bool all(const char *b, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != c)
			return false;
	return true;
}

FX_TEST(tmpfs_file, write_read_roundtrip)
{
	fx_must_write("/f", "hello world");
	char buf[32];
	cr_assert_eq(fx_read_file("/f", buf, sizeof(buf)), 11);
	cr_assert_str_eq(buf, "hello world");
	struct statx st = tt_lstat("/f");
	cr_assert_eq(st.stx_size, 11);
	cr_assert_eq(st.stx_blocks, 8, "one 4 KiB page = 8 blocks, got %llu", (unsigned long long)st.stx_blocks);
	cr_assert_eq(st.stx_mode, S_IFREG | 0644);
	cr_assert_eq(st.stx_nlink, 1);
}

FX_TEST(tmpfs_file, empty_file_has_no_blocks)
{
	fx_must_write("/e", "");
	struct statx st = tt_lstat("/e");
	cr_assert_eq(st.stx_size, 0);
	cr_assert_eq(st.stx_blocks, 0);
	char b[4];
	cr_assert_eq(fx_read_file("/e", b, sizeof(b)), 0);
}

FX_TEST(tmpfs_file, sparse_holes_read_zero)
{
	struct uvfs_file *f = tt_open("/s", O_RDWR | O_CREAT, 0600);
	cr_assert_eq(uvfs_pwrite(f, "x", 1, 1 << 20), 1);
	cr_assert_eq(uvfs_pwrite(f, "y", 1, (off_t)1 << 40), 1);
	struct statx st = tt_lstat("/s");
	cr_assert_eq(st.stx_size, (1ULL << 40) + 1);
	cr_assert_eq(st.stx_blocks, 16, "two pages allocated, got %llu blocks", (unsigned long long)st.stx_blocks);
	char *buf = malloc(3 * 4096);
	memset(buf, 'q', 3 * 4096);
	cr_assert_eq(uvfs_pread(f, buf, 3 * 4096, (1 << 20) - 4096), 3 * 4096);
	cr_assert(all(buf, 4096, 0));
	cr_assert_eq(buf[4096], 'x');
	cr_assert(all(buf + 4097, 2 * 4096 - 1, 0));
	cr_assert_eq(uvfs_pread(f, buf, 10, ((off_t)1 << 40) - 5), 6, "read stops at EOF");
	cr_assert(all(buf, 5, 0));
	cr_assert_eq(buf[5], 'y');
	cr_assert_eq(uvfs_pread(f, buf, 10, ((off_t)1 << 40) + 1), 0, "EOF");
	cr_assert_eq(uvfs_pread(f, buf, 10, ((off_t)1 << 50)), 0, "beyond EOF");
	free(buf);
	uvfs_file_put(f);
}

FX_TEST(tmpfs_file, truncate_shrink_then_grow_reads_zeros)
{
	cr_assert_eq(tt_pwrite_fill("/t", 'a', 10000, 0), 10000);
	cr_assert_eq(tt_lstat("/t").stx_blocks, 24);
	FX_ASSERT_OK(tt_truncate("/t", 100));
	struct statx st = tt_lstat("/t");
	cr_assert_eq(st.stx_size, 100);
	cr_assert_eq(st.stx_blocks, 8);
	FX_ASSERT_OK(tt_truncate("/t", 9000));
	st = tt_lstat("/t");
	cr_assert_eq(st.stx_size, 9000);
	cr_assert_eq(st.stx_blocks, 8, "growing allocates nothing");
	char buf[9000];
	cr_assert_eq(fx_read_file("/t", buf, sizeof(buf)), 9000);
	cr_assert(all(buf, 100, 'a'));
	cr_assert(all(buf + 100, 8900, 0), "old data must not reappear after shrink+grow");
	FX_ASSERT_OK(tt_truncate("/t", 0));
	st = tt_lstat("/t");
	cr_assert_eq(st.stx_size, 0);
	cr_assert_eq(st.stx_blocks, 0);
}

FX_TEST(tmpfs_file, ftruncate_and_o_trunc)
{
	struct uvfs_file *f = tt_open("/t", O_RDWR | O_CREAT, 0644);
	cr_assert_eq(uvfs_pwrite(f, "abcdef", 6, 0), 6);
	FX_ASSERT_OK(uvfs_file_truncate(f, 3));
	char b[8] = { 0 };
	cr_assert_eq(uvfs_pread(f, b, sizeof(b), 0), 3);
	cr_assert_str_eq(b, "abc");
	uvfs_file_put(f);
	f = tt_open("/t", O_RDWR | O_TRUNC, 0);
	cr_assert_eq(tt_lstat("/t").stx_size, 0);
	cr_assert_eq(uvfs_pread(f, b, sizeof(b), 0), 0);
	uvfs_file_put(f);
}

FX_TEST(tmpfs_file, truncate_errors)
{
	fx_must_mkdir("/d", 0755);
	int rc = tt_truncate("/d", 0);
	cr_assert(rc == -EISDIR || rc == -EINVAL, "truncate dir: %s", fx_err(rc));
	fx_must_write("/f", "x");
	FX_ASSERT_ERR(tt_truncate("/f", (uint64_t)INT64_MAX + 1), -EINVAL); /* a negative off_t */
	fx_must_mkdir("/d/x", 0755);
	FX_ASSERT_OK(fx_symlink("f", "/s"));
	FX_ASSERT_OK(tt_truncate("/s", 0)); /* follows the symlink to /f */
	cr_assert_eq(tt_lstat("/s").stx_size, 1);
	cr_assert_eq(tt_lstat("/f").stx_size, 0);
}

FX_TEST(tmpfs_file, append)
{
	fx_must_write("/a", "abc");
	struct uvfs_file *f = tt_open("/a", O_WRONLY | O_APPEND, 0);
	cr_assert_eq(uvfs_write(f, "def", 3), 3);
	cr_assert_eq(uvfs_seek(f, 0, SEEK_CUR), 6, "offset at the end after an append");
	cr_assert_eq(uvfs_seek(f, 0, SEEK_SET), 0);
	cr_assert_eq(uvfs_write(f, "gh", 2), 2, "O_APPEND ignores the offset");
	uvfs_file_put(f);
	char b[16];
	cr_assert_eq(fx_read_file("/a", b, sizeof(b)), 8);
	cr_assert_str_eq(b, "abcdefgh");
}

FX_TEST(tmpfs_file, sequential_writes_advance_offset)
{
	struct uvfs_file *f = tt_open("/w", O_RDWR | O_CREAT, 0644);
	cr_assert_eq(uvfs_write(f, "12345", 5), 5);
	cr_assert_eq(uvfs_write(f, "678", 3), 3);
	cr_assert_eq(uvfs_seek(f, 2, SEEK_SET), 2);
	char b[8] = { 0 };
	cr_assert_eq(uvfs_read(f, b, 4), 4);
	cr_assert_str_eq(b, "3456");
	cr_assert_eq(uvfs_seek(f, 0, SEEK_END), 8);
	uvfs_file_put(f);
}

FX_TEST(tmpfs_file, dir_read_write_fail)
{
	fx_must_mkdir("/d", 0755);
	struct uvfs_file *f = tt_open("/d", O_RDONLY | O_DIRECTORY, 0);
	char b[4];
	FX_ASSERT_ERR(uvfs_read(f, b, sizeof(b)), -EISDIR);
	uvfs_file_put(f);
	struct uvfs_file *g;
	FX_ASSERT_ERR(fx_open("/d", O_WRONLY, 0, &g), -EISDIR);
}

FX_TEST(tmpfs_file, hard_links)
{
	fx_must_write("/a", "data");
	FX_ASSERT_OK(tt_link("/a", "/b"));
	fx_must_mkdir("/d", 0755);
	FX_ASSERT_OK(tt_link("/a", "/d/c"));
	struct statx a = tt_lstat("/a"), b = tt_lstat("/b");
	cr_assert_eq(a.stx_ino, b.stx_ino);
	cr_assert_eq(a.stx_nlink, 3);
	cr_assert_eq(tt_lstat("/d/c").stx_nlink, 3);
	FX_ASSERT_ERR(tt_link("/a", "/b"), -EEXIST);
	FX_ASSERT_ERR(tt_link("/d", "/d2"), -EPERM);
	FX_ASSERT_OK(tt_unlink("/a"));
	cr_assert_eq(tt_lstat("/b").stx_nlink, 2);
	char buf[8];
	cr_assert_eq(fx_read_file("/d/c", buf, sizeof(buf)), 4);
	cr_assert_str_eq(buf, "data");
	/* A write through one name shows through the other. */
	struct uvfs_file *f = tt_open("/b", O_WRONLY, 0);
	cr_assert_eq(uvfs_pwrite(f, "DA", 2, 0), 2);
	uvfs_file_put(f);
	cr_assert_eq(fx_read_file("/d/c", buf, sizeof(buf)), 4);
	cr_assert_str_eq(buf, "DAta");
	FX_ASSERT_OK(tt_unlink("/b"));
	FX_ASSERT_OK(tt_unlink("/d/c"));
}

FX_TEST(tmpfs_file, unlinked_open_file_keeps_data)
{
	struct uvfs_file *f = tt_open("/u", O_RDWR | O_CREAT, 0644);
	cr_assert_eq(uvfs_pwrite(f, "still", 5, 0), 5);
	FX_ASSERT_OK(tt_unlink("/u"));
	struct statx st;
	FX_ASSERT_ERR(fx_lstat("/u", &st), -ENOENT);
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_nlink, 0);
	char b[8] = { 0 };
	cr_assert_eq(uvfs_pread(f, b, sizeof(b), 0), 5);
	cr_assert_str_eq(b, "still");
	cr_assert_eq(uvfs_pwrite(f, "!", 1, 5), 1);
	uvfs_file_put(f);
}

FX_TEST(tmpfs_file, symlinks)
{
	fx_must_write("/target", "T");
	FX_ASSERT_OK(fx_symlink("target", "/rel"));
	FX_ASSERT_OK(fx_symlink("/target", "/abs"));
	FX_ASSERT_OK(fx_symlink("nowhere", "/dangling"));
	struct statx st = tt_lstat("/rel");
	cr_assert_eq(st.stx_mode, S_IFLNK | 0777);
	cr_assert_eq(st.stx_size, 6);
	cr_assert_eq(st.stx_nlink, 1);
	char buf[64];
	struct uvfs_pathop p = fx_pop("/abs");
	cr_assert_eq(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, sizeof(buf)), 7);
	cr_assert(!memcmp(buf, "/target", 7));
	cr_assert_eq(uvfs_readlink_at(fx.vfs, &fx.cred, &p, buf, 3), 3, "readlink truncates");
	FX_ASSERT_OK(fx_stat("/rel", &st));
	cr_assert_eq(st.stx_mode, S_IFREG | 0644);
	cr_assert_eq(fx_read_file("/abs", buf, sizeof(buf)), 1);
	FX_ASSERT_ERR(fx_stat("/dangling", &st), -ENOENT);
	FX_ASSERT_ERR(fx_symlink("x", "/rel"), -EEXIST);
	FX_ASSERT_ERR(fx_symlink("", "/empty"), -ENOENT);
	char *long_target = malloc(5000);
	memset(long_target, 'a', 4999);
	long_target[4999] = 0;
	FX_ASSERT_ERR(fx_symlink(long_target, "/long"), -ENAMETOOLONG);
	long_target[4095] = 0;
	FX_ASSERT_OK(fx_symlink(long_target, "/long"));
	cr_assert_eq(tt_lstat("/long").stx_size, 4095);
	cr_assert_eq(tt_lstat("/long").stx_blocks, 8, "long targets take a page, as on Linux");
	cr_assert_eq(tt_lstat("/rel").stx_blocks, 0, "short targets are inline");
	free(long_target);
	/* Symlinks can be hard-linked. */
	FX_ASSERT_OK(tt_link("/rel", "/rel2"));
	cr_assert_eq(tt_lstat("/rel").stx_nlink, 2);
}

FX_TEST(tmpfs_file, special_nodes)
{
	FX_ASSERT_OK(tt_mknod("/chr", S_IFCHR | 0600, makedev(1, 3)));
	FX_ASSERT_OK(tt_mknod("/blk", S_IFBLK | 0600, makedev(8, 1)));
	FX_ASSERT_OK(tt_mknod("/fifo", S_IFIFO | 0644, 0));
	FX_ASSERT_OK(tt_mknod("/sock", S_IFSOCK | 0644, 0));
	FX_ASSERT_OK(tt_mknod("/reg", S_IFREG | 0644, 0));
	struct statx st = tt_lstat("/chr");
	cr_assert_eq(st.stx_mode, S_IFCHR | 0600);
	cr_assert_eq(st.stx_rdev_major, 1);
	cr_assert_eq(st.stx_rdev_minor, 3);
	st = tt_lstat("/blk");
	cr_assert_eq(st.stx_mode, S_IFBLK | 0600);
	cr_assert_eq(st.stx_rdev_major, 8);
	cr_assert_eq(st.stx_rdev_minor, 1);
	cr_assert_eq(tt_lstat("/fifo").stx_mode, S_IFIFO | 0644);
	cr_assert_eq(tt_lstat("/sock").stx_mode, S_IFSOCK | 0644);
	cr_assert_eq(tt_lstat("/reg").stx_mode, S_IFREG | 0644);
	cr_assert_eq(tt_lstat("/fifo").stx_rdev_major, 0);
	struct uvfs_file *f;
	FX_ASSERT_ERR(fx_open("/sock", O_RDONLY, 0, &f), -ENXIO);
	FX_ASSERT_ERR(fx_open("/chr", O_RDONLY, 0, &f), -ENXIO); /* unregistered device */
	FX_ASSERT_ERR(tt_mknod("/chr", S_IFCHR | 0600, makedev(1, 3)), -EEXIST);
	FX_ASSERT_OK(tt_unlink("/chr"));
	FX_ASSERT_OK(tt_unlink("/fifo"));
}

static ssize_t dev_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	memset(buf, 'D', len);
	return (ssize_t)len;
}
static const struct uvfs_file_ops dev_fops = { .read = dev_read };

FX_TEST(tmpfs_file, registered_device_node_opens_device)
{
	FX_ASSERT_OK(uvfs_register_device(fx.vfs, UVFS_DEV_CHAR, 240, 7, &dev_fops, NULL, "test"));
	FX_ASSERT_OK(tt_mknod("/dev0", S_IFCHR | 0666, makedev(240, 7)));
	struct uvfs_file *f = tt_open("/dev0", O_RDONLY, 0);
	char b[4];
	cr_assert_eq(uvfs_read(f, b, 4), 4);
	cr_assert(all(b, 4, 'D'));
	uvfs_file_put(f);
}

FX_TEST(tmpfs_file, many_files)
{
	enum { N = 5000 };
	char path[64];
	fx_must_mkdir("/many", 0755);
	struct statfs before, after;
	FX_ASSERT_OK(tt_statfs("/", &before));
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/many/file-%05d", i);
		int rc = tt_mknod(path, S_IFREG | 0644, 0);
		cr_assert_eq(rc, 0, "mknod %s: %s", path, fx_err(rc));
	}
	FX_ASSERT_OK(tt_statfs("/", &after));
	cr_assert_eq(before.f_ffree - after.f_ffree, N);
	/* Distinct inode numbers, all listed once. */
	uint64_t i0 = fx_ino("/many/file-00000"), i1 = fx_ino("/many/file-04999");
	cr_assert_neq(i0, i1);
	struct uvfs_file *f = tt_open("/many", O_RDONLY | O_DIRECTORY, 0);
	char *buf = malloc(1 << 16);
	long entries = 0;
	ssize_t n;
	while ((n = uvfs_getdents64(f, buf, 1 << 16)) > 0) {
		for (ssize_t o = 0; o < n;) {
			unsigned short reclen = *(unsigned short *)(buf + o + 16);
			entries++;
			o += reclen;
		}
	}
	cr_assert_eq(n, 0);
	cr_assert_eq(entries, N + 2);
	free(buf);
	uvfs_file_put(f);
	cr_assert_eq(tt_lstat("/many").stx_nlink, 2);
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/many/file-%05d", i);
		FX_ASSERT_OK(tt_unlink(path));
	}
	FX_ASSERT_OK(tt_rmdir("/many"));
	FX_ASSERT_OK(tt_statfs("/", &after));
	cr_assert_eq(after.f_ffree, before.f_ffree + 1);
}

/* Memory budget: the tmpfs part of a file stays small. */
Test(tmpfs_file, inode_struct_is_small)
{
	cr_assert_leq(sizeof(struct tmpfs_inode), sizeof(struct uvfs_inode) + 16, "tmpfs_inode is %zu bytes",
		      sizeof(struct tmpfs_inode));
}

/* Readers racing a writer that rewrites and truncates the file see only
 * bytes that were written (letters), never garbage or a crash. */
struct rw_arg {
	struct uvfs_file *f;
	_Atomic bool stop;
	_Atomic long reads;
	_Atomic long bad; /* first bad byte + 1 (asserts stay in the main thread) */
};

static void *reader(void *p)
{
	struct rw_arg *a = p;
	char buf[8192];
	while (!atomic_load(&a->stop)) {
		ssize_t n = uvfs_pread(a->f, buf, sizeof(buf), 0);
		if (n < 0)
			atomic_store(&a->bad, -1);
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] < 'a' || buf[i] > 'z')
				atomic_store(&a->bad, buf[i] + 1000);
		atomic_fetch_add(&a->reads, 1);
	}
	return NULL;
}

FX_TEST(tmpfs_file, concurrent_readers_and_writer)
{
	struct rw_arg a = { .f = tt_open("/c", O_RDWR | O_CREAT, 0644) };
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, reader, &a);
	char buf[8192];
	for (int i = 0; i < 4000 || atomic_load(&a.reads) < 1000; i++) {
		memset(buf, 'a' + i % 26, sizeof(buf));
		size_t len = (size_t)(i % 8192) + 1;
		cr_assert_eq(uvfs_pwrite(a.f, buf, len, 0), (ssize_t)len);
		if (i % 100 == 99)
			FX_ASSERT_OK(uvfs_file_truncate(a.f, (uint64_t)(i % 7)));
	}
	atomic_store(&a.stop, true);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(atomic_load(&a.bad), 0, "a reader saw %ld", atomic_load(&a.bad));
	uvfs_file_put(a.f);
}

FX_TEST(tmpfs_file, seek_data_and_hole)
{
	struct uvfs_file *f = tt_open("/h", O_RDWR | O_CREAT, 0644);
	FX_ASSERT_ERR(uvfs_seek(f, 0, SEEK_DATA), -ENXIO); /* empty file */
	cr_assert_eq(uvfs_pwrite(f, "a", 1, 10 * 4096 + 5), 1); /* data in page 10 */
	cr_assert_eq(uvfs_pwrite(f, "b", 1, ((off_t)1 << 36)), 1); /* and far away */
	cr_assert_eq(uvfs_seek(f, 0, SEEK_DATA), 10 * 4096);
	cr_assert_eq(uvfs_seek(f, 10 * 4096 + 100, SEEK_DATA), 10 * 4096 + 100, "inside data: itself");
	cr_assert_eq(uvfs_seek(f, 0, SEEK_HOLE), 0);
	cr_assert_eq(uvfs_seek(f, 10 * 4096 + 7, SEEK_HOLE), 11 * 4096);
	cr_assert_eq(uvfs_seek(f, 11 * 4096, SEEK_DATA), (off_t)1 << 36, "skips the empty subtrees");
	cr_assert_eq(uvfs_seek(f, ((off_t)1 << 36), SEEK_HOLE), ((off_t)1 << 36) + 1, "EOF is a hole");
	FX_ASSERT_ERR(uvfs_seek(f, ((off_t)1 << 36) + 1, SEEK_DATA), -ENXIO);
	FX_ASSERT_ERR(uvfs_seek(f, ((off_t)1 << 36) + 1, SEEK_HOLE), -ENXIO);
	FX_ASSERT_ERR(uvfs_seek(f, -1, SEEK_DATA), -ENXIO);
	/* The offset moved with the last successful seek. */
	cr_assert_eq(uvfs_seek(f, 0, SEEK_CUR), ((off_t)1 << 36) + 1);
	/* A file grown by truncate only is one hole. */
	FX_ASSERT_OK(uvfs_file_truncate(f, 0));
	FX_ASSERT_OK(uvfs_file_truncate(f, 1 << 20));
	FX_ASSERT_ERR(uvfs_seek(f, 0, SEEK_DATA), -ENXIO);
	cr_assert_eq(uvfs_seek(f, 4096, SEEK_HOLE), 4096);
	/* Plain whences. */
	cr_assert_eq(uvfs_seek(f, 10, SEEK_SET), 10);
	cr_assert_eq(uvfs_seek(f, 5, SEEK_CUR), 15);
	cr_assert_eq(uvfs_seek(f, -6, SEEK_END), (1 << 20) - 6);
	FX_ASSERT_ERR(uvfs_seek(f, -1, SEEK_SET), -EINVAL);
	FX_ASSERT_ERR(uvfs_seek(f, 0, 42), -EINVAL);
	uvfs_file_put(f);
}

FX_TEST(tmpfs_file, fsync_and_dir_ops_on_files)
{
	fx_must_write("/f", "x");
	struct uvfs_file *f = tt_open("/f", O_RDWR, 0);
	FX_ASSERT_OK(uvfs_fsync(f, false));
	FX_ASSERT_OK(uvfs_fsync(f, true));
	char buf[256];
	FX_ASSERT_ERR(uvfs_getdents64(f, buf, sizeof(buf)), -ENOTDIR);
	uvfs_file_put(f);
	FX_ASSERT_ERR(fx_mkdir("/f/sub", 0755), -ENOTDIR);
	struct uvfs_file *g;
	FX_ASSERT_ERR(fx_open("/f", O_RDONLY | O_DIRECTORY, 0, &g), -ENOTDIR);
}

FX_TEST(tmpfs_file, large_file_many_pages)
{
	enum { SZ = 8 << 20 };
	char *w = malloc(SZ), *r = malloc(SZ);
	for (size_t i = 0; i < SZ; i++)
		w[i] = (char)(i * 2654435761u >> 24);
	struct uvfs_file *f = tt_open("/big", O_RDWR | O_CREAT, 0644);
	cr_assert_eq(uvfs_write(f, w, SZ), SZ);
	cr_assert_eq(uvfs_pread(f, r, SZ, 0), SZ);
	cr_assert(!memcmp(w, r, SZ));
	struct statx st = tt_lstat("/big");
	cr_assert_eq(st.stx_size, SZ);
	cr_assert_eq(st.stx_blocks, SZ / 512);
	/* Unaligned overwrite in the middle. */
	cr_assert_eq(uvfs_pwrite(f, "ZZZZZ", 5, 4095), 5);
	memcpy(w + 4095, "ZZZZZ", 5);
	cr_assert_eq(uvfs_pread(f, r, SZ, 0), SZ);
	cr_assert(!memcmp(w, r, SZ));
	uvfs_file_put(f);
	free(w);
	free(r);
}

FX_TEST(tmpfs_file, copy_file_data_between_tmpfs_files)
{
	struct uvfs_file *src = tt_open("/src", O_RDWR | O_CREAT, 0644);
	cr_assert_eq(uvfs_pwrite(src, "head", 4, 0), 4);
	cr_assert_eq(uvfs_pwrite(src, "tail", 4, 3 * 4096 + 10), 4);
	struct uvfs_file *dst = tt_open("/dst", O_RDWR | O_CREAT, 0644);
	ssize_t n = uvfs_copy_file_data(dst, src);
	cr_assert_eq(n, 3 * 4096 + 14, "copied %s", fx_err(n));
	char a[3 * 4096 + 14], b[3 * 4096 + 14];
	cr_assert_eq(uvfs_pread(src, a, sizeof(a), 0), (ssize_t)sizeof(a));
	cr_assert_eq(uvfs_pread(dst, b, sizeof(b), 0), (ssize_t)sizeof(b));
	cr_assert(!memcmp(a, b, sizeof(a)));
	uvfs_file_put(src);
	uvfs_file_put(dst);
}
