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

	/* Over more than the budget: bounded, and the bytes right (the
	 * first read caches nothing, the second admits). */
	vu_check(big, BIG, 1);
	struct uvfs_verity_stats s = stats(big);
	cr_assert_eq(s.data_cache_bytes, 0);
	vu_check(big, BIG, 1);
	s = stats(big);
	cr_assert_gt(s.data_cache_bytes, 0);
	vu_check(big, BIG, 1);
	stats(big);

	/* The budget is spent by big; small's blocks must still get in on
	 * their second read (evicting big's oldest), so a third hashes nothing. */
	vu_check(small, SMALL, 2);
	vu_check(small, SMALL, 2);
	uint64_t before = stats(small).data_blocks_verified;
	cr_assert_eq(before, 2 * SMALL / 4096);
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

/* A fresh mount reuses the slabs of an unmounted one (the instance's
 * idle pool, bounded by uvfs_verity_set_slab_pool) instead of faulting in
 * fresh memory; the bytes read through it are still the file's, and the
 * pool never holds more than its bound. */
#define POOLED (3 * 512 * 4096) /* three whole 2 MiB slabs */
FX_TEST(verity_cache, slabs_reused_across_mounts)
{
	uint8_t hash[32];
	struct uvfs_mount *m;
	struct uvfs_file *f;
	fx_must_mkdir("/lower", 0755);
	vu_write("/lower/a", POOLED, 3);
	vu_write("/lower/b", POOLED, 4);
	vu_seal(hash);
	vu_register();
	FX_ASSERT_OK(uvfs_verity_set_slab_pool(fx.vfs, 64 << 20));
	uint64_t base = uvfs_verity_slab_pool_bytes(fx.vfs);

	FX_ASSERT_OK(vu_mount(hash, "data_cache=6m", &m));
	FX_ASSERT_OK(vu_open(m, "a", O_RDONLY, &f));
	vu_check(f, POOLED, 3);
	vu_check(f, POOLED, 3); /* the second read caches */
	uvfs_file_put(f);
	uvfs_mount_put(m);
	cr_assert_eq(uvfs_verity_slab_pool_bytes(fx.vfs), base + POOLED);

	/* The next mount takes them back, and its cache holds b's bytes (not
	 * a's): every block read twice compares equal. */
	FX_ASSERT_OK(vu_mount(hash, "data_cache=6m", &m));
	FX_ASSERT_OK(vu_open(m, "b", O_RDONLY, &f));
	vu_check(f, POOLED, 4);
	vu_check(f, POOLED, 4);
	cr_assert_eq(uvfs_verity_slab_pool_bytes(fx.vfs), base);
	struct uvfs_verity_stats s1, s2;
	FX_ASSERT_OK(uvfs_verity_file_stats(f, &s1));
	vu_check(f, POOLED, 4);
	FX_ASSERT_OK(uvfs_verity_file_stats(f, &s2));
	cr_assert_eq(s1.data_blocks_verified, s2.data_blocks_verified, "the re-read hashed");
	uvfs_file_put(f);
	uvfs_mount_put(m);

	/* A lower bound trims the pool at once; 0 keeps nothing. */
	FX_ASSERT_OK(uvfs_verity_set_slab_pool(fx.vfs, 2 << 20));
	cr_assert_leq(uvfs_verity_slab_pool_bytes(fx.vfs), 2 << 20);
	FX_ASSERT_OK(uvfs_verity_set_slab_pool(fx.vfs, 0));
	cr_assert_eq(uvfs_verity_slab_pool_bytes(fx.vfs), 0);
	FX_ASSERT_OK(vu_mount(hash, "data_cache=6m", &m));
	FX_ASSERT_OK(vu_open(m, "a", O_RDONLY, &f));
	vu_check(f, POOLED, 3);
	uvfs_file_put(f);
	uvfs_mount_put(m);
	cr_assert_eq(uvfs_verity_slab_pool_bytes(fx.vfs), 0);
}

/* The pool is the instance's (issue 18: no process-wide switches): slabs
 * an unmount leaves in one uvfs are not another's, a bound set in one
 * does not reach the other, an instance without verity registered has
 * none (-ENODEV), and uvfs_destroy frees the slabs still idle (the
 * fixture destroys fx.vfs holding some; LeakSanitizer checks at exit). */
FX_TEST(verity_cache, slab_pool_per_instance)
{
	uint8_t hash[32];
	struct uvfs_mount *m;
	struct uvfs_file *f;
	struct uvfs *other, *bare;
	FX_ASSERT_OK(uvfs_create(&other));
	FX_ASSERT_OK(uvfs_register_fs_type(other, &uvfs_verity_type, UVFS_FS_USER_LIST));
	FX_ASSERT_OK(uvfs_create(&bare));
	cr_assert_eq(uvfs_verity_set_slab_pool(bare, 1 << 20), -ENODEV);
	cr_assert_eq(uvfs_verity_slab_pool_bytes(bare), 0);

	fx_must_mkdir("/lower", 0755);
	vu_write("/lower/a", POOLED, 3);
	vu_seal(hash);
	FX_ASSERT_OK(uvfs_verity_set_slab_pool(other, 0));
	FX_ASSERT_OK(vu_mount(hash, "data_cache=6m", &m));
	FX_ASSERT_OK(vu_open(m, "a", O_RDONLY, &f));
	vu_check(f, POOLED, 3);
	vu_check(f, POOLED, 3); /* the second read caches */
	uvfs_file_put(f);
	uvfs_mount_put(m);
	/* other's bound of 0 did not apply here, and other got nothing. */
	cr_assert_eq(uvfs_verity_slab_pool_bytes(fx.vfs), POOLED);
	cr_assert_eq(uvfs_verity_slab_pool_bytes(other), 0);

	FX_ASSERT_OK(uvfs_destroy(other, NULL));
	FX_ASSERT_OK(uvfs_destroy(bare, NULL));
}

/* A block enters the cache on its second read (issue 14's first-read
 * target): a streaming first read of a fresh mount hashes every block and
 * takes no cache memory (fresh memory costs about as much as the hashing),
 * the second read hashes again and keeps the blocks, a third hashes nothing. */
FX_TEST(verity_cache, admitted_on_second_read)
{
	uint8_t hash[32];
	struct uvfs_mount *m;
	struct uvfs_file *f;
	struct uvfs_verity_stats s0, s1, s2;
	fx_must_mkdir("/lower", 0755);
	vu_write("/lower/a", SMALL, 5);
	vu_seal(hash);
	FX_ASSERT_OK(vu_mount(hash, NULL, &m));
	FX_ASSERT_OK(vu_open(m, "a", O_RDONLY, &f));
	vu_check(f, SMALL, 5);
	FX_ASSERT_OK(uvfs_verity_file_stats(f, &s0));
	cr_assert_eq(s0.data_blocks_verified, SMALL / 4096);
	cr_assert_eq(s0.data_cache_bytes, 0, "a first read cached %llu bytes", (unsigned long long)s0.data_cache_bytes);
	vu_check(f, SMALL, 5);
	FX_ASSERT_OK(uvfs_verity_file_stats(f, &s1));
	cr_assert_eq(s1.data_blocks_verified, 2 * (SMALL / 4096));
	cr_assert_eq(s1.data_cache_bytes, SMALL);
	vu_check(f, SMALL, 5);
	FX_ASSERT_OK(uvfs_verity_file_stats(f, &s2));
	cr_assert_eq(s2.data_blocks_verified, s1.data_blocks_verified, "a third read hashed");
	uvfs_file_put(f);
	uvfs_mount_put(m);
}
