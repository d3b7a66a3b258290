/* test_fs_batch.c — uvfs_fs_put_batch_begin/end: inside a batch the last
 * put of a filesystem drops its tree but defers the release (one RCU
 * barrier for all at the end); the end releases every one, nested batches
 * release at the outermost end, and an instance torn down after it has no
 * live filesystem left. */
#include "fixture.h"

#include "uvfs_fs.h"

static long live_fs(void)
{
	struct uvfs_live l;
	uvfs_live_counts(fx.vfs, &l);
	return l.filesystems;
}

static struct uvfs_mount *tmpfs_with_file(void)
{
	struct uvfs_mount_opts o = { .data = "mode=0755" };
	struct uvfs_mount *mnt;
	FX_ASSERT_OK(uvfs_mount_disconnected(fx.vfs, &fx.cred, "none", "tmpfs", &o, &mnt));
	struct uvfs_vd r = { .mount = mnt, .dentry = uvfs_mount_root(mnt) };
	struct uvfs_pathop p = { .root = r, .start = r, .path = "f" };
	struct uvfs_file *f;
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.cred, &p, O_CREAT | O_WRONLY, 0644, 0, &f));
	cr_assert_eq(uvfs_write(f, "data", 4), 4);
	uvfs_file_close(f);
	return mnt;
}

FX_TEST(fs_batch, release_deferred_to_the_end)
{
	long base = live_fs();
	struct uvfs_mount *m[5];
	for (int i = 0; i < 5; i++)
		m[i] = tmpfs_with_file();
	cr_assert_eq(live_fs(), base + 5);
	uvfs_fs_put_batch_begin();
	for (int i = 0; i < 5; i++)
		uvfs_mount_put(m[i]);
	cr_assert_eq(live_fs(), base + 5, "released inside the batch");
	uvfs_fs_put_batch_end();
	cr_assert_eq(live_fs(), base, "not released at the batch's end");
}

FX_TEST(fs_batch, nested_batches_release_at_the_outermost_end)
{
	long base = live_fs();
	struct uvfs_mount *a = tmpfs_with_file(), *b = tmpfs_with_file();
	uvfs_fs_put_batch_begin();
	uvfs_fs_put_batch_begin();
	uvfs_mount_put(a);
	uvfs_fs_put_batch_end();
	cr_assert_eq(live_fs(), base + 2, "an inner end released");
	uvfs_mount_put(b);
	uvfs_fs_put_batch_end();
	cr_assert_eq(live_fs(), base);
}

FX_TEST(fs_batch, no_batch_releases_at_once)
{
	long base = live_fs();
	struct uvfs_mount *a = tmpfs_with_file();
	uvfs_mount_put(a);
	cr_assert_eq(live_fs(), base);
	/* an empty batch is harmless */
	uvfs_fs_put_batch_begin();
	uvfs_fs_put_batch_end();
	cr_assert_eq(live_fs(), base);
}
