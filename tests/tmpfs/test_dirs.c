/* tmpfs directories: nlink bookkeeping, rmdir, rename (replace, exchange,
 * across parents), readdir. */
#include <dirent.h>
#include <fcntl.h>

#include "tt.h"

static uint32_t nlink(const char *path) { return tt_lstat(path).stx_nlink; }

FX_TEST(tmpfs_dir, nlink_is_two_plus_subdirs)
{
	cr_assert_eq(nlink("/"), 2);
	fx_must_mkdir("/a", 0755);
	fx_must_mkdir("/b", 0755);
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_symlink("a", "/s"));
	cr_assert_eq(nlink("/"), 4, "files and symlinks do not count");
	cr_assert_eq(nlink("/a"), 2);
	fx_must_mkdir("/a/x", 0755);
	cr_assert_eq(nlink("/a"), 3);
	FX_ASSERT_OK(tt_rmdir("/a/x"));
	cr_assert_eq(nlink("/a"), 2);
	FX_ASSERT_OK(tt_rmdir("/b"));
	cr_assert_eq(nlink("/"), 3);
}

FX_TEST(tmpfs_dir, mkdir_mode_and_type)
{
	fx_must_mkdir("/d", 0750);
	cr_assert_eq(fx_mode("/d"), S_IFDIR | 0750);
	fx_must_mkdir("/sticky", 01777);
	cr_assert_eq(fx_mode("/sticky"), S_IFDIR | 01777);
	FX_ASSERT_ERR(fx_mkdir("/d", 0755), -EEXIST);
}

FX_TEST(tmpfs_dir, setgid_dir_inheritance)
{
	fx_must_mkdir("/g", 0755);
	FX_ASSERT_OK(fx_chown("/g", 0, 500));
	FX_ASSERT_OK(fx_chmod("/g", 02775));
	fx_must_mkdir("/g/sub", 0755);
	fx_must_write("/g/file", "x");
	struct statx st = tt_lstat("/g/sub");
	cr_assert_eq(st.stx_gid, 500);
	cr_assert(st.stx_mode & S_ISGID, "subdir inherits S_ISGID");
	st = tt_lstat("/g/file");
	cr_assert_eq(st.stx_gid, 500);
	cr_assert(!(st.stx_mode & S_ISGID));
}

FX_TEST(tmpfs_dir, rmdir_not_empty_and_not_dir)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/f", "x");
	FX_ASSERT_ERR(tt_rmdir("/d"), -ENOTEMPTY);
	FX_ASSERT_ERR(tt_rmdir("/d/f"), -ENOTDIR);
	FX_ASSERT_ERR(tt_unlink("/d"), -EISDIR);
	FX_ASSERT_OK(tt_unlink("/d/f"));
	FX_ASSERT_OK(tt_rmdir("/d"));
	struct statx st;
	FX_ASSERT_ERR(fx_lstat("/d", &st), -ENOENT);
}

FX_TEST(tmpfs_dir, rmdir_of_open_dir_nlink_zero)
{
	fx_must_mkdir("/d", 0755);
	struct uvfs_file *f = tt_open("/d", O_RDONLY | O_DIRECTORY, 0);
	FX_ASSERT_OK(tt_rmdir("/d"));
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_nlink, 0);
	uvfs_file_put(f);
}

FX_TEST(tmpfs_dir, rename_file_same_dir_and_across)
{
	fx_must_write("/a", "A");
	uint64_t ino = fx_ino("/a");
	FX_ASSERT_OK(tt_rename("/a", "/b", 0));
	cr_assert_eq(fx_ino("/b"), ino);
	fx_must_mkdir("/d", 0755);
	FX_ASSERT_OK(tt_rename("/b", "/d/c", 0));
	cr_assert_eq(fx_ino("/d/c"), ino);
	cr_assert_eq(nlink("/d"), 2);
	cr_assert_eq(nlink("/"), 3);
	char buf[4];
	cr_assert_eq(fx_read_file("/d/c", buf, sizeof(buf)), 1);
}

FX_TEST(tmpfs_dir, rename_dir_across_parents_moves_nlink)
{
	fx_must_mkdir("/p1", 0755);
	fx_must_mkdir("/p2", 0755);
	fx_must_mkdir("/p1/x", 0755);
	cr_assert_eq(nlink("/p1"), 3);
	FX_ASSERT_OK(tt_rename("/p1/x", "/p2/y", 0));
	cr_assert_eq(nlink("/p1"), 2);
	cr_assert_eq(nlink("/p2"), 3);
	cr_assert_eq(nlink("/p2/y"), 2);
	/* Same parent: no change. */
	FX_ASSERT_OK(tt_rename("/p2/y", "/p2/z", 0));
	cr_assert_eq(nlink("/p2"), 3);
}

FX_TEST(tmpfs_dir, rename_replaces_file_victim)
{
	fx_must_write("/a", "new");
	fx_must_write("/b", "old");
	FX_ASSERT_OK(tt_link("/b", "/b2"));
	cr_assert_eq(nlink("/b2"), 2);
	FX_ASSERT_OK(tt_rename("/a", "/b", 0));
	cr_assert_eq(nlink("/b2"), 1, "the replaced inode loses a link");
	char buf[8];
	cr_assert_eq(fx_read_file("/b", buf, sizeof(buf)), 3);
	cr_assert_str_eq(buf, "new");
	cr_assert_eq(fx_read_file("/b2", buf, sizeof(buf)), 3);
	cr_assert_str_eq(buf, "old");
	struct statx st;
	FX_ASSERT_ERR(fx_lstat("/a", &st), -ENOENT);
}

FX_TEST(tmpfs_dir, rename_replaces_empty_dir_not_full_dir)
{
	fx_must_mkdir("/p1", 0755);
	fx_must_mkdir("/p2", 0755);
	fx_must_mkdir("/p1/src", 0755);
	fx_must_mkdir("/p2/empty", 0755);
	fx_must_mkdir("/p2/full", 0755);
	fx_must_write("/p2/full/f", "x");
	cr_assert_eq(nlink("/p2"), 4);
	FX_ASSERT_ERR(tt_rename("/p1/src", "/p2/full", 0), -ENOTEMPTY);
	cr_assert_eq(nlink("/p1"), 3, "failed rename changes nothing");
	cr_assert_eq(nlink("/p2"), 4);
	struct uvfs_file *f = tt_open("/p2/empty", O_RDONLY | O_DIRECTORY, 0);
	FX_ASSERT_OK(tt_rename("/p1/src", "/p2/empty", 0));
	struct statx st;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_nlink, 0, "replaced dir has nlink 0");
	uvfs_file_put(f);
	cr_assert_eq(nlink("/p1"), 2);
	cr_assert_eq(nlink("/p2"), 4, "lost the victim, gained the source");
}

FX_TEST(tmpfs_dir, rename_noreplace)
{
	fx_must_write("/a", "a");
	fx_must_write("/b", "b");
	FX_ASSERT_ERR(tt_rename("/a", "/b", RENAME_NOREPLACE), -EEXIST);
	FX_ASSERT_OK(tt_rename("/a", "/c", RENAME_NOREPLACE));
}

FX_TEST(tmpfs_dir, rename_exchange_dir_and_file_across_parents)
{
	fx_must_mkdir("/p1", 0755);
	fx_must_mkdir("/p2", 0755);
	fx_must_mkdir("/p1/d", 0755);
	fx_must_write("/p2/f", "F");
	uint64_t di = fx_ino("/p1/d"), fi = fx_ino("/p2/f");
	FX_ASSERT_OK(tt_rename("/p1/d", "/p2/f", RENAME_EXCHANGE));
	cr_assert_eq(fx_ino("/p1/d"), fi);
	cr_assert_eq(fx_ino("/p2/f"), di);
	cr_assert(S_ISREG(fx_mode("/p1/d")));
	cr_assert(S_ISDIR(fx_mode("/p2/f")));
	cr_assert_eq(nlink("/p1"), 2);
	cr_assert_eq(nlink("/p2"), 3);
	/* Two dirs: counts unchanged. */
	fx_must_mkdir("/p1/e", 0755);
	FX_ASSERT_OK(tt_rename("/p1/e", "/p2/f", RENAME_EXCHANGE));
	cr_assert_eq(nlink("/p1"), 3);
	cr_assert_eq(nlink("/p2"), 3);
	FX_ASSERT_ERR(tt_rename("/p1/e", "/p2/none", RENAME_EXCHANGE), -ENOENT);
}

FX_TEST(tmpfs_dir, rename_hardlinks_of_same_inode_is_noop)
{
	fx_must_write("/a", "x");
	FX_ASSERT_OK(tt_link("/a", "/b"));
	FX_ASSERT_OK(tt_rename("/a", "/b", 0));
	cr_assert_eq(nlink("/b"), 2);
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/a", &st)); /* POSIX: both names stay */
}

struct names {
	char seen[16][32];
	int n;
	uint64_t ino[16];
	unsigned type[16];
};

static int collect(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next)
{
	struct names *c = arg;
	if (c->n < 16) {
		snprintf(c->seen[c->n], sizeof(c->seen[0]), "%.*s", (int)len, name);
		c->ino[c->n] = ino;
		c->type[c->n] = dtype;
		c->n++;
	}
	return 0;
}

FX_TEST(tmpfs_dir, readdir_dots_order_and_types)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/one", "1");
	fx_must_mkdir("/d/two", 0755);
	FX_ASSERT_OK(fx_symlink("one", "/d/three"));
	struct uvfs_file *f = tt_open("/d", O_RDONLY | O_DIRECTORY, 0);
	struct names c = { 0 };
	FX_ASSERT_OK(uvfs_iterate_dir(f, collect, &c));
	cr_assert_eq(c.n, 5, "got %d entries", c.n);
	cr_assert_str_eq(c.seen[0], ".");
	cr_assert_str_eq(c.seen[1], "..");
	cr_assert_eq(c.ino[0], fx_ino("/d"));
	cr_assert_eq(c.ino[1], fx_ino("/"));
	cr_assert_str_eq(c.seen[2], "one", "creation order");
	cr_assert_str_eq(c.seen[3], "two");
	cr_assert_str_eq(c.seen[4], "three");
	cr_assert_eq(c.type[2], DT_REG);
	cr_assert_eq(c.type[3], DT_DIR);
	cr_assert_eq(c.type[4], DT_LNK);
	cr_assert_eq(c.ino[2], fx_ino("/d/one"));
	/* At the end: nothing more. */
	struct names c2 = { 0 };
	FX_ASSERT_OK(uvfs_iterate_dir(f, collect, &c2));
	cr_assert_eq(c2.n, 0);
	uvfs_file_put(f);
	char list[128];
	FX_ASSERT_OK(tt_unlink("/d/one"));
	fx_list_dir("/d", list, sizeof(list));
	cr_assert_str_eq(list, "three,two");
}

/* Directory sizes follow Linux tmpfs: 20 bytes per entry, "." and ".." included. */
FX_TEST(tmpfs_dir, dir_size_counts_entries)
{
	fx_must_mkdir("/d", 0755);
	cr_assert_eq(tt_lstat("/d").stx_size, 40);
	fx_must_write("/d/a", "");
	fx_must_mkdir("/d/b", 0755);
	FX_ASSERT_OK(fx_symlink("a", "/d/c"));
	FX_ASSERT_OK(tt_link("/d/a", "/d/a2"));
	cr_assert_eq(tt_lstat("/d").stx_size, 40 + 4 * 20);
	fx_must_mkdir("/e", 0755);
	FX_ASSERT_OK(tt_rename("/d/a", "/e/a", 0));
	cr_assert_eq(tt_lstat("/d").stx_size, 40 + 3 * 20);
	cr_assert_eq(tt_lstat("/e").stx_size, 60);
	FX_ASSERT_OK(tt_rename("/d/a2", "/e/a", 0)); /* same inode: a no-op */
	cr_assert_eq(tt_lstat("/d").stx_size, 40 + 3 * 20);
	FX_ASSERT_OK(tt_unlink("/d/a2"));
	fx_must_write("/d/x", "");
	FX_ASSERT_OK(tt_rename("/d/x", "/e/a", 0)); /* replaces: e keeps its count */
	cr_assert_eq(tt_lstat("/d").stx_size, 40 + 2 * 20);
	cr_assert_eq(tt_lstat("/e").stx_size, 60);
	FX_ASSERT_OK(tt_rename("/d/c", "/e/a", RENAME_EXCHANGE));
	cr_assert_eq(tt_lstat("/d").stx_size, 80);
	cr_assert_eq(tt_lstat("/e").stx_size, 60);
	FX_ASSERT_OK(tt_unlink("/d/c"));
	FX_ASSERT_OK(tt_rmdir("/d/b"));
	cr_assert_eq(tt_lstat("/d").stx_size, 40);
}

FX_TEST(tmpfs_dir, create_in_removed_dir_is_enoent)
{
	fx_must_mkdir("/d", 0755);
	struct uvfs_file *f = tt_open("/d", O_RDONLY | O_DIRECTORY, 0);
	struct uvfs_vd dvd;
	uvfs_file_vd(f, &dvd);
	FX_ASSERT_OK(tt_rmdir("/d"));
	struct uvfs_pathop p = fx_pop_at(&dvd, "x", 0);
	struct uvfs_file *g;
	FX_ASSERT_ERR(uvfs_open_at(fx.vfs, &fx.cred, &p, O_CREAT | O_WRONLY, 0644, 0, &g), -ENOENT);
	FX_ASSERT_ERR(uvfs_mkdir_at(fx.vfs, &fx.cred, &p, 0755), -ENOENT);
	FX_ASSERT_ERR(uvfs_symlink_at(fx.vfs, &fx.cred, "t", &p), -ENOENT);
	struct names c = { 0 };
	FX_ASSERT_OK(uvfs_iterate_dir(f, collect, &c));
	cr_assert_leq(c.n, 2, "a removed directory lists at most . and ..");
	uvfs_vd_put(&dvd);
	uvfs_file_put(f);
}
