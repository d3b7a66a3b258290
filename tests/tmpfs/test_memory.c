/* tmpfs memory as a resource: Linux's default limits (half of RAM), and file
 * memory returned to the OS after truncate, punch and unlink (process RSS
 * falls, as it does with the kernel's tmpfs). */
#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "uvfs_fs.h"
#include "tt.h"

/* Linux (mm/shmem.c): size= and nr_inodes= default to half the RAM pages. */
static uint64_t half_ram_pages(void)
{
	uint64_t bytes = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	return bytes / 4096 / 2;
}

Test(tmpfs_memory, default_limits_are_half_of_ram)
{
	fx_setup();
	struct statfs sf;
	FX_ASSERT_OK(tt_statfs("/", &sf));
	cr_assert_eq(sf.f_blocks, half_ram_pages(), "blocks %llu, want %llu", (unsigned long long)sf.f_blocks,
		     (unsigned long long)half_ram_pages());
	cr_assert_eq(sf.f_bfree, sf.f_blocks);
	cr_assert_eq(sf.f_files, half_ram_pages());
	cr_assert_eq(sf.f_ffree, sf.f_files - 1);
	char buf[128];
	struct uvfs_filesystem *fs = uvfs_mount_fs(fx.root.mount);
	FX_ASSERT_OK(fs->ops->show_options(fs, buf, sizeof(buf)));
	cr_assert_str_eq(buf, "", "defaults are not shown (Linux)");
	fx_teardown();
}

Test(tmpfs_memory, size_0_and_nr_inodes_0_are_unlimited)
{
	/* Linux reports an unlimited tmpfs as 0 blocks and 0 inodes (df
	 * shows "-"), and shows the zeros as they differ from the default. */
	fx_setup_opts("size=0,nr_inodes=0", 0);
	struct statfs sf;
	FX_ASSERT_OK(tt_statfs("/", &sf));
	cr_assert_eq(sf.f_blocks, 0);
	cr_assert_eq(sf.f_bfree, 0);
	cr_assert_eq(sf.f_files, 0);
	cr_assert_eq(sf.f_ffree, 0);
	cr_assert_eq(tt_pwrite_fill("/f", 'x', 3 * 4096, 0), 3 * 4096);
	char buf[128];
	struct uvfs_filesystem *fs = uvfs_mount_fs(fx.root.mount);
	FX_ASSERT_OK(fs->ops->show_options(fs, buf, sizeof(buf)));
	cr_assert_str_eq(buf, "size=0k,nr_inodes=0");
	fx_teardown();
	/* An explicit size equal to the default is not shown either. */
	char opt[64];
	snprintf(opt, sizeof(opt), "size=%lluk", (unsigned long long)half_ram_pages() * 4);
	fx_setup_opts(opt, 0);
	fs = uvfs_mount_fs(fx.root.mount);
	FX_ASSERT_OK(fs->ops->show_options(fs, buf, sizeof(buf)));
	cr_assert_str_eq(buf, "");
	fx_teardown();
}

/* ------------------------------------------------------------------ RSS */

static long rss_mib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	cr_assert_not_null(f);
	long size = 0, res = 0;
	cr_assert_eq(fscanf(f, "%ld %ld", &size, &res), 2);
	fclose(f);
	return res * sysconf(_SC_PAGESIZE) >> 20;
}

#define BIG_MIB 256

/* Writes BIG_MIB MiB to path and checks the RSS grew by most of it. */
static struct uvfs_file *fill_big(const char *path, long *before)
{
	size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	memset(buf, 'm', chunk);
	*before = rss_mib();
	struct uvfs_file *f = tt_open(path, O_RDWR | O_CREAT, 0644);
	for (int i = 0; i < BIG_MIB; i++)
		cr_assert_eq(uvfs_pwrite(f, buf, chunk, (off_t)i * (off_t)chunk), (ssize_t)chunk);
	free(buf);
	long grown = rss_mib() - *before;
	cr_assert_geq(grown, BIG_MIB * 9 / 10, "RSS grew by %ld MiB for %d MiB of data", grown, BIG_MIB);
	return f;
}

/* RSS must come back to within 10% of the data size of where it was. */
static void expect_returned(long before, const char *what)
{
	uvfs_rcu_barrier(); /* inodes and dentries freed from RCU callbacks */
	long left = rss_mib() - before;
	cr_assert_leq(left, BIG_MIB / 10, "after %s, %ld MiB of %d MiB still resident", what, left, BIG_MIB);
}

FX_TEST(tmpfs_memory, unlink_returns_memory_to_the_os)
{
	long before;
	struct uvfs_file *f = fill_big("/big", &before);
	uvfs_file_put(f);
	FX_ASSERT_OK(tt_unlink("/big"));
	expect_returned(before, "unlink");
}

FX_TEST(tmpfs_memory, truncate_returns_memory_to_the_os)
{
	long before;
	struct uvfs_file *f = fill_big("/big", &before);
	FX_ASSERT_OK(uvfs_file_truncate(f, 4096));
	expect_returned(before, "truncate");
	uvfs_file_put(f);
}

FX_TEST(tmpfs_memory, punch_hole_returns_memory_to_the_os)
{
	long before;
	struct uvfs_file *f = fill_big("/big", &before);
	FX_ASSERT_OK(uvfs_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, (off_t)BIG_MIB << 20));
	expect_returned(before, "punch");
	cr_assert_eq(tt_lstat("/big").stx_size, (uint64_t)BIG_MIB << 20);
	cr_assert_eq(tt_lstat("/big").stx_blocks, 8);
	uvfs_file_put(f);
}

/* Memory freed by one file is reused by the next without growing RSS. */
FX_TEST(tmpfs_memory, freed_pages_are_reused)
{
	long before;
	struct uvfs_file *f = fill_big("/a", &before);
	uvfs_file_put(f);
	FX_ASSERT_OK(tt_unlink("/a"));
	long mid;
	f = fill_big("/b", &mid);
	long total = rss_mib() - before;
	cr_assert_leq(total, BIG_MIB + BIG_MIB / 10, "two files in turn cost %ld MiB", total);
	/* And the data is intact. */
	char c[2];
	cr_assert_eq(uvfs_pread(f, c, 2, ((off_t)BIG_MIB << 20) - 2), 2);
	cr_assert(c[0] == 'm' && c[1] == 'm');
	uvfs_file_put(f);
}
