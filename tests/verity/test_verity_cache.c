/* tests/verity/test_verity_cache.c — the verified-data cache of a verity
 * mount is an LRU bounded by data_cache=: reading more than the budget
 * keeps the memory within it, and the blocks read last stay cached (a
 * re-read of them hashes nothing) even after the budget was spent. */
#include "verityfs_util.h"

#define BUDGET (64 * 1024) /* 16 blocks */
#define BIG (40 * 4096 + 5) /* more than twice the budget */
#define SMALL (8 * 4096)

static struct uvfs_verity_stats stats(struct uvfs_file *f)
{
	struct uvfs_verity_stats s;
	FX_ASSERT_OK(uvfs_verity_file_stats(f, &s));
	cr_assert_leq(s.data_cache_bytes, BUDGET, "cache holds %llu bytes, budget %d",
		      (unsigned long long)s.data_cache_bytes, BUDGET);
	return s;
}

FX_TEST(verity_cache, lru_stays_bounded_and_keeps_recent_blocks)
{
	uint8_t hash[32];
	struct uvfs_mount *m;
	struct uvfs_file *big, *small;
	fx_must_mkdir("/lower", 0755);
	vu_write("/lower/big", BIG, 1);
	vu_write("/lower/small", SMALL, 2);
	vu_seal(hash);
	FX_ASSERT_OK(vu_mount(hash, "data_cache=64k", &m));
	FX_ASSERT_OK(vu_open(m, "big", O_RDONLY, &big));
	FX_ASSERT_OK(vu_open(m, "small", O_RDONLY, &small));

	/* Twice over more than the budget: bounded, and the bytes right. */
	vu_check(big, BIG, 1);
	struct uvfs_verity_stats s = stats(big);
	cr_assert_gt(s.data_cache_bytes, 0);
	vu_check(big, BIG, 1);
	stats(big);

	/* The budget is spent by big; small's blocks must still get in
	 * (evicting big's oldest), so its second read hashes nothing. */
	vu_check(small, SMALL, 2);
	uint64_t before = stats(small).data_blocks_verified;
	cr_assert_eq(before, SMALL / 4096);
	vu_check(small, SMALL, 2);
	s = stats(small);
	cr_assert_eq(s.data_blocks_verified, before, "a re-read of recently read blocks hashed %llu blocks",
		     (unsigned long long)(s.data_blocks_verified - before));
	cr_assert_eq(s.data_cache_bytes, BUDGET);

	/* Closing a file drops nothing shared; unmounting frees it all
	 * (the fixture checks no object is left). */
	uvfs_file_put(small);
	uvfs_file_put(big);
	uvfs_mount_put(m);
}
