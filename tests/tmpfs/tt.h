/* tt.h — small helpers shared by the tmpfs suites (on top of tests/lib). */
#pragma once

#include <linux/fs.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/xattr.h>
#include <time.h>

#include "fixture.h"

static inline int tt_cmp(struct statx_timestamp a, struct statx_timestamp b)
{
	if (a.tv_sec != b.tv_sec)
		return a.tv_sec < b.tv_sec ? -1 : 1;
	return a.tv_nsec < b.tv_nsec ? -1 : a.tv_nsec > b.tv_nsec;
}
#define TT_SAME(a, b) (tt_cmp((a), (b)) == 0)
#define TT_LATER(a, b) (tt_cmp((a), (b)) > 0)

/* Let the clock move so that a later timestamp differs. */
static inline void tt_tick(void)
{
	struct timespec t = { 0, 2 * 1000 * 1000 };
	nanosleep(&t, NULL);
}

static inline struct statx tt_lstat(const char *path)
{
	struct statx st;
	int rc = fx_lstat(path, &st);
	cr_assert_eq(rc, 0, "lstat %s: %s", path, fx_err(rc));
	return st;
}

static inline struct uvfs_file *tt_open(const char *path, int oflags, mode_t mode)
{
	struct uvfs_file *f;
	int rc = fx_open(path, oflags, mode, &f);
	cr_assert_eq(rc, 0, "open %s: %s", path, fx_err(rc));
	return f;
}

static inline int tt_mknod(const char *path, mode_t mode, dev_t rdev)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_mknod_at(fx.vfs, &fx.cred, &p, mode, rdev);
}

static inline int tt_unlink(const char *path)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_unlink_at(fx.vfs, &fx.cred, &p);
}

static inline int tt_rmdir(const char *path)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_rmdir_at(fx.vfs, &fx.cred, &p);
}

static inline int tt_link(const char *from, const char *to)
{
	struct uvfs_pathop a = fx_pop(from), b = fx_pop(to);
	return uvfs_link_at(fx.vfs, &fx.cred, &a, &b);
}

static inline int tt_rename(const char *from, const char *to, unsigned flags)
{
	struct uvfs_pathop a = fx_pop(from), b = fx_pop(to);
	return uvfs_rename_at(fx.vfs, &fx.cred, &a, &b, flags);
}

static inline int tt_truncate(const char *path, uint64_t size)
{
	struct uvfs_pathop p = fx_popf(path);
	struct uvfs_setattr a = { .mask = STATX_SIZE, .size = size };
	return uvfs_setstat_at(fx.vfs, &fx.cred, &p, &a, UVFS_SETATTR_NEED_WRITE);
}

static inline int tt_statfs(const char *path, struct statfs *out)
{
	struct uvfs_pathop p = fx_popf(path);
	return uvfs_statfs_at(fx.vfs, &fx.cred, &p, out);
}

/* Write len bytes of c at off through a fresh O_WRONLY|O_CREAT open. */
static inline ssize_t tt_pwrite_fill(const char *path, char c, size_t len, off_t off)
{
	struct uvfs_file *f;
	int rc = fx_open(path, O_WRONLY | O_CREAT, 0644, &f);
	if (rc)
		return rc;
	char *b = malloc(len ? len : 1);
	memset(b, c, len);
	ssize_t n = uvfs_pwrite(f, b, len, off);
	free(b);
	uvfs_file_put(f);
	return n;
}
