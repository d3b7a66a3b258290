/* test_readdir_dotdot.c — getdents' ".." entry reads the parent dentry
 * safely while the directory is renamed away and its old parent removed
 * and freed (review C4: it read d_parent with neither RCU nor a reference).
 *
 * A debug hook (UVFS_DEBUG builds) runs between loading ".."'s dentry and
 * reading its inode; there the test moves the directory to another parent,
 * removes the old parent and waits long enough for an RCU callback to free
 * it. Without a read section around the two loads, ASan reports the read
 * of the freed dentry. */
#include <unistd.h>

#include "fixture.h"

extern void (*uvfs_debug_dotdot_hook)(void);

static int hook_calls;

static void move_and_remove_parent(void)
{
	if (hook_calls++)
		return;
	struct uvfs_pathop a = fx_pop("/p1/dir"), b = fx_pop("/p2/dir"), p1 = fx_pop("/p1");
	cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &a, &b, 0), 0);
	cr_assert_eq(uvfs_rmdir_at(fx.vfs, &fx.cred, &p1), 0);
	/* Grace periods run in liburcu's threads: give the free time. */
	usleep(300 * 1000);
}

FX_TEST(readdir, dotdot_parent_renamed_and_freed)
{
	fx_must_mkdir("/p1", 0755);
	fx_must_mkdir("/p2", 0755);
	fx_must_mkdir("/p1/dir", 0755);
	uint64_t p1_ino = fx_ino("/p1"), p2_ino = fx_ino("/p2");
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/p1/dir", O_RDONLY | O_DIRECTORY, 0, &f));
	uvfs_debug_dotdot_hook = move_and_remove_parent;
	char buf[4096];
	ssize_t n = uvfs_getdents64(f, buf, sizeof(buf));
	uvfs_debug_dotdot_hook = NULL;
	cr_assert_eq(hook_calls, 1);
	cr_assert_gt(n, 0);
	uint64_t dotdot = 0;
	for (ssize_t off = 0; off < n;) {
		uint64_t ino;
		unsigned short reclen;
		memcpy(&ino, buf + off, sizeof(ino));
		memcpy(&reclen, buf + off + 16, sizeof(reclen));
		if (!strcmp(buf + off + 19, ".."))
			dotdot = ino;
		off += reclen;
	}
	/* Either parent is a right answer for a getdents racing the rename. */
	cr_assert(dotdot == p1_ino || dotdot == p2_ino, ".. ino %llu", (unsigned long long)dotdot);
	uvfs_file_put(f);
	FX_ASSERT_ERR(fx_stat("/p1", &(struct statx){ 0 }), -ENOENT);
}
