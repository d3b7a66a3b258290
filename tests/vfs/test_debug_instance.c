/* test_debug_instance.c — the ref-walk switch (bench and walker tests) is
 * one instance's, not the process's: forcing it on one uvfs leaves another
 * instance's lookups on the RCU-walk. RESOLVE_CACHED tells the walks apart:
 * only the RCU-walk can answer it (the ref-walk says -EAGAIN). */
#include "fixture.h"

static int cached_lookup(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *root, const char *path)
{
	struct uvfs_pathop p = { .root = *root, .start = *root, .path = path, .flags = UVFS_RESOLVE_CACHED };
	struct uvfs_vd vd;
	int rc = uvfs_get_dentry_at(vfs, cred, &p, 0, &vd);
	if (!rc)
		uvfs_vd_put(&vd);
	return rc;
}

#define FORCE(vfs, on) uvfs_set_debug(vfs, (on) ? UVFS_DEBUG_REFWALK : 0)

FX_TEST(debug_instance, refwalk_switch_is_per_instance)
{
	fx_must_mkdir("/d", 0755);
	/* A second instance with the same tree. */
	struct uvfs *other;
	struct uvfs_mntns *ns;
	struct uvfs_vd root;
	cr_assert_eq(uvfs_create(&other), 0);
	cr_assert_eq(uvfs_register_fs_type(other, &uvfs_tmpfs_type, 0), 0);
	struct uvfs_mount_opts opts = { 0 };
	cr_assert_eq(uvfs_mntns_new(other, &fx.cred, "none", "tmpfs", &opts, &ns), 0);
	uvfs_mntns_root(ns, &root);
	struct uvfs_pathop mp = { .root = root, .start = root, .path = "/d" };
	cr_assert_eq(uvfs_mkdir_at(other, &fx.cred, &mp, 0755), 0);

	/* Warm both dcaches, then both answer a cached lookup. */
	cr_assert_eq(cached_lookup(fx.vfs, &fx.cred, &fx.root, "/d"), 0);
	cr_assert_eq(cached_lookup(other, &fx.cred, &root, "/d"), 0);

	FORCE(fx.vfs, 1);
	int forced = cached_lookup(fx.vfs, &fx.cred, &fx.root, "/d");
	int unforced = cached_lookup(other, &fx.cred, &root, "/d");
	FORCE(fx.vfs, 0);
	int after = cached_lookup(fx.vfs, &fx.cred, &fx.root, "/d");

	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	cr_assert_eq(uvfs_destroy(other, &live), 0, "second instance leaked");
	cr_expect_eq(forced, -EAGAIN, "the forced instance still RCU-walks: %s", fx_err(forced));
	cr_expect_eq(unforced, 0, "the other instance was forced onto the ref-walk too: %s", fx_err(unforced));
	cr_expect_eq(after, 0, "switching back off: %s", fx_err(after));
}
