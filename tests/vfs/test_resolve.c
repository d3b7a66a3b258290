/* test_resolve.c — openat2 resolve flags as path-op flags. Every expected
 * errno was checked with openat2(2) on the host kernel (6.18, a tmpfs under
 * /dev/shm with a tmpfs mounted at d/m), same layout, same calls. */
#include <pthread.h>
#include <stdatomic.h>

#include "fixture.h"

/* /f  /d/e/  /d/f  /d/abs -> /f  /d/up -> ../f  /d/rel -> e
 * /d/dang -> nothere  /d/m (a tmpfs) with /d/m/x/ and /d/m/mabs -> /f */
static struct uvfs_vd D, M;

static void layout(void)
{
	fx_must_write("/f", "outside");
	fx_must_mkdir("/d", 0755);
	fx_must_mkdir("/d/e", 0755);
	fx_must_write("/d/f", "inside");
	FX_ASSERT_OK(fx_symlink("/f", "/d/abs"));
	FX_ASSERT_OK(fx_symlink("../f", "/d/up"));
	FX_ASSERT_OK(fx_symlink("e", "/d/rel"));
	FX_ASSERT_OK(fx_symlink("nothere", "/d/dang"));
	fx_must_mkdir("/d/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/d/m", NULL, 0));
	fx_must_mkdir("/d/m/x", 0755);
	FX_ASSERT_OK(fx_symlink("/f", "/d/m/mabs"));
	struct uvfs_pathop p = fx_pop("/d");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, &D));
	p = fx_pop("/d/m");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, &M));
}

static void unlayout(void)
{
	uvfs_vd_put(&D);
	uvfs_vd_put(&M);
	uvfs_set_debug(fx.vfs, 0);
}

/* openat2(start, path, O_RDONLY [| extra], resolve): 0 or -errno. */
static int oa(const struct uvfs_vd *start, const char *path, int extra, unsigned resolve)
{
	struct uvfs_pathop p = { .root = fx.root, .start = *start, .path = path, .flags = resolve };
	struct uvfs_file *f = NULL;
	int err = uvfs_open_at(fx.vfs, &fx.cred, &p, O_RDONLY | extra, 0644, 0, &f);
	if (!err)
		uvfs_file_put(f);
	return err;
}

/* stat following the final link; the inode number in *ino. */
static int st(const struct uvfs_vd *start, const char *path, unsigned flags, uint64_t *ino)
{
	struct uvfs_pathop p = { .root = fx.root, .start = *start, .path = path, .flags = flags };
	struct statx sx;
	int err = uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, &sx);
	if (!err && ino)
		*ino = sx.stx_ino;
	return err;
}

#define BOTH_WALKS for (int ref_ = 0; ref_ < 2; uvfs_set_debug(fx.vfs, (++ref_ == 1) ? UVFS_DEBUG_REFWALK : 0))

FX_TEST(resolve, beneath)
{
	layout();
	BOTH_WALKS
	{
		FX_ASSERT_ERR(oa(&D, "/f", 0, UVFS_RESOLVE_BENEATH), -EXDEV);
		FX_ASSERT_ERR(oa(&D, "..", 0, UVFS_RESOLVE_BENEATH), -EXDEV);
		FX_ASSERT_OK(oa(&D, "e/../f", 0, UVFS_RESOLVE_BENEATH));
		FX_ASSERT_ERR(oa(&D, "e/../../d/f", 0, UVFS_RESOLVE_BENEATH), -EXDEV);
		FX_ASSERT_ERR(oa(&D, "abs", 0, UVFS_RESOLVE_BENEATH), -EXDEV);
		FX_ASSERT_ERR(oa(&D, "up", 0, UVFS_RESOLVE_BENEATH), -EXDEV);
		FX_ASSERT_OK(oa(&D, "rel", 0, UVFS_RESOLVE_BENEATH));
		FX_ASSERT_OK(oa(&D, "m/x", 0, UVFS_RESOLVE_BENEATH));
		FX_ASSERT_ERR(oa(&D, "", 0, UVFS_RESOLVE_BENEATH), -ENOENT);
		FX_ASSERT_ERR(st(&D, "up", UVFS_PATH_FOLLOW | UVFS_RESOLVE_BENEATH, NULL), -EXDEV);
		FX_ASSERT_ERR(st(&D, "/d/f", UVFS_RESOLVE_BENEATH, NULL), -EXDEV);
		/* ".." out of a mount root below the start is fine. */
		FX_ASSERT_OK(st(&D, "m/x/../../f", UVFS_RESOLVE_BENEATH, NULL));
	}
	FX_ASSERT_OK(oa(&D, "newb", O_CREAT, UVFS_RESOLVE_BENEATH));
	FX_ASSERT_ERR(oa(&D, "../newc", O_CREAT, UVFS_RESOLVE_BENEATH), -EXDEV);
	struct uvfs_pathop p = { .root = fx.root, .start = D, .path = "../x", .flags = UVFS_RESOLVE_BENEATH };
	FX_ASSERT_ERR(uvfs_mkdir_at(fx.vfs, &fx.cred, &p, 0755), -EXDEV);
	FX_ASSERT_ERR(fx_lstat("/newc", &(struct statx){ 0 }), -ENOENT);
	FX_ASSERT_ERR(fx_lstat("/x", &(struct statx){ 0 }), -ENOENT);
	unlayout();
}

FX_TEST(resolve, in_root)
{
	layout();
	uint64_t in = fx_ino("/d/f"), ino = 0;
	BOTH_WALKS
	{
		FX_ASSERT_OK(st(&D, "/f", UVFS_RESOLVE_IN_ROOT, &ino));
		cr_assert_eq(ino, in);
		FX_ASSERT_OK(st(&D, "../../f", UVFS_RESOLVE_IN_ROOT, &ino));
		cr_assert_eq(ino, in);
		FX_ASSERT_OK(st(&D, "up", UVFS_PATH_FOLLOW | UVFS_RESOLVE_IN_ROOT, &ino));
		cr_assert_eq(ino, in);
		FX_ASSERT_OK(st(&D, "abs", UVFS_PATH_FOLLOW | UVFS_RESOLVE_IN_ROOT, &ino));
		cr_assert_eq(ino, in);
		FX_ASSERT_OK(oa(&M, "..", 0, UVFS_RESOLVE_IN_ROOT));
		FX_ASSERT_ERR(st(&M, "../e", UVFS_RESOLVE_IN_ROOT, NULL), -ENOENT);
	}
	FX_ASSERT_ERR(oa(&D, "f", 0, UVFS_RESOLVE_IN_ROOT | UVFS_RESOLVE_BENEATH), -EINVAL);
	unlayout();
}

FX_TEST(resolve, no_xdev)
{
	layout();
	BOTH_WALKS
	{
		FX_ASSERT_ERR(oa(&D, "m/x", 0, UVFS_RESOLVE_NO_XDEV), -EXDEV);
		FX_ASSERT_ERR(oa(&D, "m", 0, UVFS_RESOLVE_NO_XDEV), -EXDEV);
		FX_ASSERT_ERR(oa(&D, "m", O_PATH, UVFS_RESOLVE_NO_XDEV), -EXDEV);
		FX_ASSERT_ERR(st(&D, "m", UVFS_RESOLVE_NO_XDEV, NULL), -EXDEV);
		FX_ASSERT_ERR(oa(&M, "..", 0, UVFS_RESOLVE_NO_XDEV), -EXDEV);
		FX_ASSERT_OK(oa(&M, "x/..", 0, UVFS_RESOLVE_NO_XDEV));
		/* An absolute path argument is allowed, an absolute link that
		 * jumps to the root from another mount is not. */
		FX_ASSERT_OK(oa(&M, "/f", 0, UVFS_RESOLVE_NO_XDEV));
		FX_ASSERT_OK(oa(&D, "abs", 0, UVFS_RESOLVE_NO_XDEV));
		FX_ASSERT_ERR(oa(&M, "mabs", 0, UVFS_RESOLVE_NO_XDEV), -EXDEV);
		FX_ASSERT_OK(oa(&D, "e/../f", 0, UVFS_RESOLVE_NO_XDEV));
	}
	unlayout();
}

FX_TEST(resolve, no_symlinks_and_no_magiclinks)
{
	layout();
	BOTH_WALKS
	{
		FX_ASSERT_ERR(oa(&D, "rel", 0, UVFS_RESOLVE_NO_SYMLINKS), -ELOOP);
		FX_ASSERT_ERR(oa(&D, "rel/", 0, UVFS_RESOLVE_NO_SYMLINKS), -ELOOP);
		FX_ASSERT_ERR(oa(&D, "rel/.", 0, UVFS_RESOLVE_NO_SYMLINKS), -ELOOP);
		FX_ASSERT_OK(oa(&D, "rel", O_PATH | O_NOFOLLOW, UVFS_RESOLVE_NO_SYMLINKS));
		FX_ASSERT_ERR(oa(&D, "rel", O_NOFOLLOW, UVFS_RESOLVE_NO_SYMLINKS), -ELOOP);
		FX_ASSERT_OK(st(&D, "rel", UVFS_RESOLVE_NO_SYMLINKS, NULL)); /* lstat */
		FX_ASSERT_ERR(st(&D, "rel", UVFS_PATH_FOLLOW | UVFS_RESOLVE_NO_SYMLINKS, NULL), -ELOOP);
		/* No magic links exist yet: the flag changes nothing. */
		FX_ASSERT_OK(oa(&D, "rel", 0, UVFS_RESOLVE_NO_MAGICLINKS));
	}
	FX_ASSERT_ERR(oa(&D, "dang", O_CREAT, UVFS_RESOLVE_NO_SYMLINKS), -ELOOP);
	FX_ASSERT_ERR(oa(&D, "dang", O_CREAT | O_EXCL, UVFS_RESOLVE_NO_SYMLINKS), -EEXIST);
	FX_ASSERT_ERR(fx_lstat("/d/nothere", &(struct statx){ 0 }), -ENOENT);
	unlayout();
}

FX_TEST(resolve, cached)
{
	layout();
	FX_ASSERT_OK(oa(&D, "e", 0, UVFS_RESOLVE_CACHED));
	FX_ASSERT_OK(oa(&D, "m/x", 0, UVFS_RESOLVE_CACHED));
	FX_ASSERT_OK(st(&D, "rel", UVFS_PATH_FOLLOW | UVFS_RESOLVE_CACHED, NULL));
	FX_ASSERT_ERR(oa(&D, "nope", 0, UVFS_RESOLVE_CACHED), -ENOENT);
	/* Creating or truncating would block: -EAGAIN, even if it exists. */
	FX_ASSERT_ERR(oa(&D, "f", O_CREAT, UVFS_RESOLVE_CACHED), -EAGAIN);
	FX_ASSERT_ERR(oa(&D, "newc", O_CREAT, UVFS_RESOLVE_CACHED), -EAGAIN);
	FX_ASSERT_ERR(oa(&D, "f", O_RDWR | O_TRUNC, UVFS_RESOLVE_CACHED), -EAGAIN);
	struct uvfs_pathop p = { .root = fx.root, .start = D, .path = "newd", .flags = UVFS_RESOLVE_CACHED };
	FX_ASSERT_ERR(uvfs_mkdir_at(fx.vfs, &fx.cred, &p, 0755), -EAGAIN);
	FX_ASSERT_ERR(fx_lstat("/d/newc", &(struct statx){ 0 }), -ENOENT);
	FX_ASSERT_ERR(fx_lstat("/d/newd", &(struct statx){ 0 }), -ENOENT);
	/* A lookup that needs the ref-walk: -EAGAIN. */
	uvfs_set_debug(fx.vfs, UVFS_DEBUG_REFWALK);
	FX_ASSERT_ERR(oa(&D, "e", 0, UVFS_RESOLVE_CACHED), -EAGAIN);
	FX_ASSERT_ERR(st(&D, "e", UVFS_RESOLVE_CACHED, NULL), -EAGAIN);
	unlayout();
}

FX_TEST(resolve, bad_flags)
{
	layout();
	FX_ASSERT_ERR(oa(&D, "f", 0, UVFS_RESOLVE_BENEATH | UVFS_RESOLVE_IN_ROOT), -EINVAL);
	FX_ASSERT_ERR(oa(&D, "f", 0, 0x8000), -EINVAL); /* reserved resolve bit */
	/* A scoped lookup needs its start even for an absolute path. */
	struct uvfs_pathop p = { .root = fx.root, .path = "/f", .flags = UVFS_RESOLVE_IN_ROOT };
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, &(struct statx){ 0 }), -EINVAL);
	unlayout();
}

/* Scoped lookups: a rename anywhere while the walk is inside means ".."
 * may have jumped out; Linux answers -EAGAIN (ref-walk, like here). */
static void *renamer(void *arg)
{
	_Atomic bool *stop = arg;
	struct uvfs_pathop a = fx_pop("/ra"), b = fx_pop("/rb");
	for (long i = 0; !atomic_load(stop); i++)
		cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, (i & 1) ? &b : &a, (i & 1) ? &a : &b, 0), 0);
	uvfs_thread_leave();
	return NULL;
}

FX_TEST(resolve, scoped_dotdot_racing_a_rename_eagain)
{
	layout();
	fx_must_mkdir("/ra", 0755);
	uvfs_set_debug(fx.vfs, UVFS_DEBUG_REFWALK);
	_Atomic bool stop = false;
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, renamer, &stop), 0);
	long again = 0;
	for (int i = 0; i < 200000 && !again; i++) {
		int rc = st(&D, "e/../f", UVFS_RESOLVE_BENEATH, NULL);
		if (rc == -EAGAIN)
			again++;
		else
			cr_assert_eq(rc, 0, "%s", fx_err(rc));
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	cr_assert_gt(again, 0, "no -EAGAIN while renames raced 200000 scoped '..' walks");
	unlayout();
}
