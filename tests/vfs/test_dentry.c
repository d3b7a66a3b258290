/* test_dentry.c — dentry lifecycle on a non-complete ("remote") filesystem:
 * dentry ops (revalidate in RCU-walk and ref-walk, release, d_fsdata), the
 * -ESTALE third try, the per-fs LRU of unreferenced dentries (positive and
 * negative), invalidation, and completeness per directory. The filesystem
 * is tests/lib/testfs.c, mounted on /t of the fixture's tmpfs. */
#include "fixture.h"
#include "testfs.h"

#include <urcu/urcu-memb.h>

/* Dentry ->release runs after an RCU grace period: wait for it. */
static int releases(void)
{
	uvfs_rcu_barrier();
	return atomic_load(&testfs_calls.releases);
}

static void tf_mount(long lru_max)
{
	testfs_reset();
	testfs_policy.lru_max = lru_max;
	int rc = uvfs_register_fs_type(fx.vfs, &testfs_type, UVFS_FS_USER_MOUNT);
	cr_assert_eq(rc, 0, "register testfs: %s", fx_err(rc));
	fx_must_mkdir("/t", 0755);
	struct uvfs_pathop p = fx_popf("/t");
	struct uvfs_mount_opts o = { 0 };
	rc = uvfs_mount_at(fx.vfs, &fx.cred, "srv", &p, "testfs", &o);
	cr_assert_eq(rc, 0, "mount testfs: %s", fx_err(rc));
	cr_assert_not_null(testfs_last_fs());
}

/* Umount and check that every dentry went, with its fsdata. */
static void tf_umount(void)
{
	FX_ASSERT_OK(fx_umount("/t", 0));
	cr_assert_null(testfs_last_fs(), "testfs instance not released at umount");
	cr_assert_eq(atomic_load(&testfs_calls.fsdata_live), 0, "%d d_fsdata blocks not released",
		     atomic_load(&testfs_calls.fsdata_live));
}

#define TF_TEST(name, lru)                                                                                      \
	static void tfbody_##name(void);                                                                         \
	FX_TEST(dentry, name)                                                                                    \
	{                                                                                                        \
		tf_mount(lru);                                                                                   \
		tfbody_##name();                                                                                 \
		tf_umount();                                                                                     \
	}                                                                                                        \
	static void tfbody_##name(void)

static int lookups(void) { return atomic_load(&testfs_calls.lookups); }
static long lru_count(void) { return testfs_last_fs()->lru_count; }

static void must_stat(const char *path)
{
	struct statx st;
	int rc = fx_stat(path, &st);
	cr_assert_eq(rc, 0, "stat %s: %s", path, fx_err(rc));
}

TF_TEST(negative_dentry_cached, 0)
{
	struct statx st;
	FX_ASSERT_ERR(fx_stat("/t/nope", &st), -ENOENT);
	cr_assert_eq(lookups(), 1);
	/* Nobody holds the negative dentry: it stays cached on the LRU. */
	FX_ASSERT_ERR(fx_stat("/t/nope", &st), -ENOENT);
	FX_ASSERT_ERR(fx_lstat("/t/nope", &st), -ENOENT);
	cr_assert_eq(lookups(), 1, "a cached negative dentry still cost %d lookups", lookups());
	cr_assert_eq(lru_count(), 1);
}

TF_TEST(positive_dentry_cached, 0)
{
	testfs_add(TESTFS_ROOT, "a", S_IFREG | 0644);
	must_stat("/t/a");
	must_stat("/t/a");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/t/a", O_RDONLY, 0, &f)); /* revives the parked dentry */
	uvfs_file_put(f);
	must_stat("/t/a");
	cr_assert_eq(lookups(), 1, "unreferenced positive dentry was not kept (%d lookups)", lookups());
}

TF_TEST(revalidate_rcu_hit_stays_in_rcu_walk, 0)
{
	uint64_t d = testfs_add(TESTFS_ROOT, "d", S_IFDIR | 0755);
	testfs_add(d, "f", S_IFREG | 0644);
	must_stat("/t/d/f");
	cr_assert_eq(lookups(), 2);
	atomic_store(&testfs_calls.revalidates, 0);
	atomic_store(&testfs_calls.revalidates_rcu, 0);
	must_stat("/t/d/f");
	cr_assert_eq(atomic_load(&testfs_calls.revalidates_rcu), 2, "RCU revalidates: %d",
		     atomic_load(&testfs_calls.revalidates_rcu));
	cr_assert_eq(atomic_load(&testfs_calls.revalidates), 0, "fell back to ref-walk");
	cr_assert_eq(lookups(), 2);
}

TF_TEST(revalidate_echild_falls_back_to_ref_walk, 0)
{
	testfs_add(TESTFS_ROOT, "a", S_IFREG | 0644);
	must_stat("/t/a");
	testfs_policy.rcu_echild = true;
	must_stat("/t/a");
	cr_assert_geq(atomic_load(&testfs_calls.revalidates_rcu), 1);
	cr_assert_eq(atomic_load(&testfs_calls.revalidates), 1);
	cr_assert_eq(lookups(), 1);
}

TF_TEST(revalidate_sees_server_changes, 0)
{
	struct statx st;
	FX_ASSERT_ERR(fx_stat("/t/x", &st), -ENOENT);
	uint64_t x = testfs_add(TESTFS_ROOT, "x", S_IFREG | 0600);
	FX_ASSERT_OK(fx_stat("/t/x", &st)); /* the negative dentry is invalid now */
	cr_assert_eq(st.stx_mode, S_IFREG | 0600);
	cr_assert_eq(lookups(), 2);
	testfs_remove(x);
	FX_ASSERT_ERR(fx_stat("/t/x", &st), -ENOENT);
	cr_assert_eq(lookups(), 3);
	/* A replaced file: same name, new identity. */
	uint64_t y = testfs_add(TESTFS_ROOT, "y", S_IFREG | 0644);
	FX_ASSERT_OK(fx_stat("/t/y", &st));
	uint64_t ino1 = st.stx_ino;
	cr_assert_eq(ino1, y);
	uint64_t y2 = testfs_replace(y);
	FX_ASSERT_OK(fx_stat("/t/y", &st));
	cr_assert_eq(st.stx_ino, y2, "stale inode %llu served", (unsigned long long)st.stx_ino);
	cr_assert_geq(releases(), 2, "invalid dentries not released");
}

TF_TEST(estale_walk_is_retried_with_reval, 0)
{
	uint64_t a = testfs_add(TESTFS_ROOT, "a", S_IFDIR | 0755);
	testfs_add(a, "x", S_IFREG | 0644);
	must_stat("/t/a/x");
	/* The cache trusts itself until asked to revalidate for real... */
	testfs_policy.trust_cache = true;
	uint64_t a2 = testfs_replace(a);
	testfs_add(a2, "y", S_IFREG | 0644);
	/* ...so the walk asks the old directory for y: -ESTALE; the third
	 * try revalidates /t/a with UVFS_LOOKUP_REVAL and finds the new one. */
	struct statx st;
	FX_ASSERT_OK(fx_stat("/t/a/y", &st));
	cr_assert_geq(atomic_load(&testfs_calls.revalidates_reval), 1);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/t/a/x", O_RDONLY, 0, &f));
	uvfs_file_put(f);
}

TF_TEST(lru_is_bounded_and_evicts_oldest, 8)
{
	char path[64];
	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof path, "f%02d", i);
		testfs_add(TESTFS_ROOT, path, S_IFREG | 0644);
	}
	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof path, "/t/f%02d", i);
		must_stat(path);
		cr_assert_leq(lru_count(), 8, "LRU holds %ld > 8", lru_count());
	}
	cr_assert_eq(lookups(), 50);
	cr_assert_eq(lru_count(), 8);
	must_stat("/t/f49"); /* young: still cached */
	cr_assert_eq(lookups(), 50);
	must_stat("/t/f00"); /* evicted long ago */
	cr_assert_eq(lookups(), 51);
	cr_assert_eq(releases(), 50 - 8 + 1 - 0, "releases %d",
		     releases());
	cr_assert_eq(uvfs_fs_shrink(testfs_last_fs(), 0), 0);
	releases();
	cr_assert_eq(atomic_load(&testfs_calls.fsdata_live), 0);
}

TF_TEST(eviction_drops_parent_reference, 2)
{
	uint64_t d1 = testfs_add(TESTFS_ROOT, "d1", S_IFDIR | 0755);
	testfs_add(d1, "f", S_IFREG | 0644);
	testfs_add(TESTFS_ROOT, "g1", S_IFREG | 0644);
	testfs_add(TESTFS_ROOT, "g2", S_IFREG | 0644);
	must_stat("/t/d1/f"); /* LRU: f (d1 is held by f) */
	cr_assert_eq(lru_count(), 1);
	must_stat("/t/g1");
	must_stat("/t/g2"); /* f evicted → d1 parked → g1 evicted */
	cr_assert_eq(lru_count(), 2);
	int n = lookups();
	must_stat("/t/d1");
	must_stat("/t/g2");
	cr_assert_eq(lookups(), n, "d1 or g2 should still be cached");
	must_stat("/t/d1/f");
	cr_assert_eq(lookups(), n + 1);
}

TF_TEST(lru_zero_means_no_cache, -1)
{
	struct statx st;
	FX_ASSERT_ERR(fx_stat("/t/nope", &st), -ENOENT);
	FX_ASSERT_ERR(fx_stat("/t/nope", &st), -ENOENT);
	cr_assert_eq(lookups(), 2);
	cr_assert_eq(lru_count(), 0);
}

static void get_vd(const char *path, struct uvfs_vd *out)
{
	struct uvfs_pathop p = fx_pop(path);
	int rc = uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, out);
	cr_assert_eq(rc, 0, "get_dentry_at %s: %s", path, fx_err(rc));
}

TF_TEST(invalidate_drops_cached_subtree, 0)
{
	uint64_t d1 = testfs_add(TESTFS_ROOT, "d1", S_IFDIR | 0755);
	testfs_add(d1, "f", S_IFREG | 0644);
	struct statx st;
	must_stat("/t/d1/f");
	FX_ASSERT_ERR(fx_stat("/t/d1/neg", &st), -ENOENT);
	cr_assert_eq(lookups(), 3);
	struct uvfs_vd vd;
	get_vd("/t/d1", &vd);
	int rel = releases();
	FX_ASSERT_OK(uvfs_d_invalidate(vd.dentry));
	/* f and neg were unreferenced: freed at once; d1 is still ours. */
	cr_assert_eq(releases(), rel + 2);
	/* Lookups below the dead directory find nothing and ask nobody. */
	struct uvfs_pathop p = fx_pop_at(&vd, "f", 0);
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, &st), -ENOENT);
	cr_assert_eq(lookups(), 3);
	rel = releases();
	uvfs_vd_put(&vd); /* the dead d1 goes with its last reference */
	cr_assert_eq(releases(), rel + 1);
	/* From the top, everything is looked up again. */
	must_stat("/t/d1/f");
	cr_assert_eq(lookups(), 5);
}

TF_TEST(invalidate_refuses_mountpoints_and_complete_dirs, 0)
{
	uint64_t p = testfs_add(TESTFS_ROOT, "p", S_IFDIR | 0755);
	testfs_add(p, "m", S_IFDIR | 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/t/p/m", NULL, 0));
	struct uvfs_vd vd;
	get_vd("/t/p", &vd);
	FX_ASSERT_ERR(uvfs_d_invalidate(vd.dentry), -EBUSY);
	must_stat("/t/p/m"); /* nothing changed */
	FX_ASSERT_OK(fx_umount("/t/p/m", 0));
	FX_ASSERT_OK(uvfs_d_invalidate(vd.dentry));
	uvfs_vd_put(&vd);
	struct uvfs_vd s1, root;
	get_vd("/t/static/s1", &s1);
	FX_ASSERT_ERR(uvfs_d_invalidate(s1.dentry), -EINVAL);
	uvfs_vd_put(&s1);
	get_vd("/t", &root);
	FX_ASSERT_ERR(uvfs_d_invalidate(root.dentry), -EINVAL);
	uvfs_vd_put(&root);
	FX_ASSERT_ERR(uvfs_d_invalidate(NULL), -EINVAL);
	must_stat("/t/p/m");
}

TF_TEST(completeness_is_per_directory, 0)
{
	struct statx st;
	/* The complete directory answers misses itself. */
	FX_ASSERT_ERR(fx_stat("/t/static/nope", &st), -ENOENT);
	FX_ASSERT_ERR(fx_stat("/t/static/nope", &st), -ENOENT);
	must_stat("/t/static/s1");
	must_stat("/t/static/s2");
	/* A fixed entry in the non-complete root needs no lookup either. */
	must_stat("/t/fixed");
	cr_assert_eq(lookups(), 0, "->lookup called %d times for complete/fixed entries", lookups());
	/* A dynamic name in the same root does. */
	testfs_add(TESTFS_ROOT, "dyn", S_IFDIR | 0755);
	must_stat("/t/dyn");
	FX_ASSERT_ERR(fx_stat("/t/other", &st), -ENOENT);
	cr_assert_eq(lookups(), 2);
	char names[256];
	fx_list_dir("/", names, sizeof names); /* tmpfs readdir unaffected */
	cr_assert_str_eq(names, "t");
}

TF_TEST(create_on_cached_negative_is_refused_by_fs, 0)
{
	/* testfs refuses the create (-EPERM): the cached negative dentry
	 * stays negative and consistent for later lookups. */
	testfs_policy.no_create = true;
	struct statx st;
	FX_ASSERT_ERR(fx_stat("/t/n", &st), -ENOENT);
	struct uvfs_file *f = NULL;
	int rc = fx_open("/t/n", O_CREAT | O_WRONLY, 0644, &f);
	cr_assert(rc < 0, "create without a create op succeeded");
	FX_ASSERT_ERR(fx_stat("/t/n", &st), -ENOENT);
	cr_assert_eq(lookups(), 1);
}

/* tmpfs: every directory is complete; nothing parks on its LRU. */
FX_TEST(dentry, tmpfs_dirs_are_complete_and_uncached)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/f", "x");
	struct statx st;
	FX_ASSERT_ERR(fx_stat("/d/nope", &st), -ENOENT);
	struct uvfs_vd vd;
	get_vd("/d", &vd);
	struct uvfs_inode *i = uvfs_dentry_inode(vd.dentry);
	cr_assert(i->i_flags & UVFS_I_COMPLETE, "tmpfs directory not UVFS_I_COMPLETE");
	cr_assert_eq(i->i_fs->lru_count, 0, "tmpfs parked %ld dentries", i->i_fs->lru_count);
	FX_ASSERT_ERR(uvfs_d_invalidate(vd.dentry), -EINVAL);
	uvfs_vd_put(&vd);
	must_stat("/d/f");
}
