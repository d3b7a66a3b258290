/* The overlay on the RCU walk: a warm stat through the overlay is served
 * lock-free (RESOLVE_CACHED succeeds, where a ref-walk would say EAGAIN)
 * and answers exactly what the ref-walk's ->getattr answers, before and
 * after copy-ups (st_ino kept, merged directories' nlink 1, the overlay's
 * st_dev, a broken lower hard link's own number). */
#include <sys/sysmacros.h>

#include "ov.h"
#include "uvfs_fs.h"

/* Lock-free stat (RESOLVE_CACHED: the RCU walk or -EAGAIN). */
static int cached_lstat(const char *p, struct statx *st)
{
	struct uvfs_pathop pp = fx_pop(p);
	pp.flags |= UVFS_RESOLVE_CACHED;
	return uvfs_stat_at(fx.vfs, &fx.cred, &pp, STATX_BASIC_STATS, st);
}

/* The same stat through the ref-walk (->getattr). */
static struct statx ref_lstat(const char *p)
{
	struct statx st;
	uvfs_set_debug(fx.vfs, UVFS_DEBUG_REFWALK);
	int rc = fx_lstat(p, &st);
	uvfs_set_debug(fx.vfs, 0);
	cr_assert_eq(rc, 0, "lstat %s: %s", p, fx_err(rc));
	return st;
}

/* Warm (a ref stat caches every dentry), then the lock-free stat must
 * succeed and agree with the ref-walk on every field. */
static struct statx expect_same(const char *p)
{
	struct statx ref = ref_lstat(p), fast;
	int rc = cached_lstat(p, &fast);
	cr_assert_eq(rc, 0, "cached stat %s: %s (not served by the RCU walk)", p, fx_err(rc));
	cr_assert_eq(fast.stx_ino, ref.stx_ino, "%s ino %llu vs %llu", p, (unsigned long long)fast.stx_ino,
		     (unsigned long long)ref.stx_ino);
	cr_assert_eq(fast.stx_mode, ref.stx_mode, "%s mode", p);
	cr_assert_eq(fast.stx_nlink, ref.stx_nlink, "%s nlink %u vs %u", p, fast.stx_nlink, ref.stx_nlink);
	cr_assert_eq(fast.stx_uid, ref.stx_uid, "%s uid", p);
	cr_assert_eq(fast.stx_gid, ref.stx_gid, "%s gid", p);
	cr_assert_eq(fast.stx_size, ref.stx_size, "%s size", p);
	cr_assert_eq(fast.stx_dev_major, ref.stx_dev_major, "%s dev", p);
	cr_assert_eq(fast.stx_dev_minor, ref.stx_dev_minor, "%s dev", p);
	cr_assert_eq(fast.stx_mtime.tv_sec, ref.stx_mtime.tv_sec, "%s mtime", p);
	cr_assert_eq(fast.stx_mtime.tv_nsec, ref.stx_mtime.tv_nsec, "%s mtime", p);
	return fast;
}

static void overlay_dev(unsigned *maj, unsigned *min)
{
	struct statx st = ref_lstat("/m");
	*maj = st.stx_dev_major;
	*min = st.stx_dev_minor;
}

FX_TEST(ovl_rcu, warm_stat_is_lock_free_and_matches_getattr)
{
	ov_layers();
	fx_must_mkdir("/l1/a", 0755);
	fx_must_mkdir("/l1/a/b", 0711);
	fx_must_write("/l1/a/b/f", "lower");
	fx_must_mkdir("/l2/a", 0755);
	fx_must_write("/l2/a/g", "lowest");
	FX_ASSERT_OK(fx_symlink("b/f", "/l1/a/s"));
	fx_must_mkdir("/up/u/x", 0755);
	fx_must_write("/up/u/x/y", "upper");
	ov_mount();
	unsigned maj, min;
	overlay_dev(&maj, &min);
	const char *paths[] = { "/m", "/m/a", "/m/a/b", "/m/a/b/f", "/m/a/g", "/m/a/s", "/m/x", "/m/x/y" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		struct statx st = expect_same(paths[i]);
		cr_assert(st.stx_dev_major == maj && st.stx_dev_minor == min, "%s: not the overlay's st_dev", paths[i]);
	}
	/* /m/a merges two lowers: nlink 1, as Linux reports merged dirs. */
	cr_assert_eq(expect_same("/m/a").stx_nlink, 1);
	/* A name that does not exist is cached negative: ENOENT lock-free. */
	struct statx st;
	FX_ASSERT_ERR(fx_lstat("/m/a/none", &st), -ENOENT);
	FX_ASSERT_ERR(cached_lstat("/m/a/none", &st), -ENOENT);
}

FX_TEST(ovl_rcu, copy_up_seen_by_the_lock_free_stat)
{
	ov_layers();
	fx_must_mkdir("/l1/d", 0755);
	fx_must_mkdir("/l1/d/sub", 0755);
	fx_must_write("/l1/d/f", "data");
	ov_mount();
	struct statx d0 = expect_same("/m/d"), f0 = expect_same("/m/d/f");
	cr_assert_eq(d0.stx_nlink, 3, "lower-only directory: the lower's nlink");
	/* chmod copies up /m/d and /m/d/f. */
	FX_ASSERT_OK(fx_chmod("/m/d/f", 0600));
	struct statx d1 = expect_same("/m/d"), f1 = expect_same("/m/d/f");
	cr_assert_eq(f1.stx_ino, f0.stx_ino, "st_ino kept across copy-up");
	cr_assert_eq(d1.stx_ino, d0.stx_ino, "st_ino kept across copy-up");
	cr_assert_eq(f1.stx_mode & 07777, 0600);
	cr_assert_eq(d1.stx_nlink, 1, "a directory merged by its copy-up reports nlink 1");
	/* The lower object is not what answers any more. */
	struct statx up = ref_lstat("/up/u/d/f");
	cr_assert_eq(up.stx_mode & 07777, 0600);
}

FX_TEST(ovl_rcu, broken_hard_link_gets_its_own_number)
{
	ov_layers();
	fx_must_write("/l1/h1", "x");
	FX_ASSERT_OK(ov_link("/l1/h1", "/l1/h2"));
	ov_mount();
	struct statx a0 = expect_same("/m/h1"), b0 = expect_same("/m/h2");
	cr_assert_eq(a0.stx_ino, b0.stx_ino, "two lower names of one inode are one file");
	FX_ASSERT_OK(fx_chmod("/m/h1", 0600)); /* copies h1 up, breaking the link */
	struct statx a1 = expect_same("/m/h1"), b1 = expect_same("/m/h2");
	cr_assert_neq(a1.stx_ino, b1.stx_ino, "the copy is another file");
	cr_assert_eq(b1.stx_ino, b0.stx_ino);
}
