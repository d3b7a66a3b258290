/* test_walk_limits.c — the walker's limits (review C10): PATH_MAX at the
 * API edge and one 40-link budget for a whole open, O_CREAT through
 * symlinks included. Expected errnos checked against the host kernel
 * (openat on a tmpfs under /dev/shm): a 4095-byte path works, 4096 bytes
 * is ENAMETOOLONG; a chain of 41 dangling links opened with O_CREAT is
 * ELOOP, 40 creates the target. */
#include <pthread.h>

#include "fixture.h"

static char *long_path(size_t len, const char *tail)
{
	char *p = malloc(len + 1);
	cr_assert_not_null(p);
	size_t tl = strlen(tail);
	memset(p, '/', len - tl);
	memcpy(p + len - tl, tail, tl);
	p[len] = 0;
	return p;
}

FX_TEST(walk_limits, path_max_4095_ok_4096_enametoolong)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/f", "x");
	for (int ref = 0; ref < 2; ref++) {
		uvfs_set_debug(fx.vfs, ref ? UVFS_DEBUG_REFWALK : 0);
		char *ok = long_path(4095, "d/f"), *bad = long_path(4096, "d/f");
		struct statx st;
		FX_ASSERT_OK(fx_stat(ok, &st));
		FX_ASSERT_ERR(fx_stat(bad, &st), -ENAMETOOLONG);
		FX_ASSERT_ERR(fx_lstat(bad, &st), -ENAMETOOLONG);
		struct uvfs_file *f = NULL;
		FX_ASSERT_ERR(fx_open(bad, O_RDONLY, 0, &f), -ENAMETOOLONG);
		FX_ASSERT_OK(fx_open(ok, O_RDONLY, 0, &f));
		uvfs_file_put(f);
		free(ok);
		free(bad);
		/* Creation calls and relative paths too. */
		bad = long_path(4096, "d/new");
		struct uvfs_pathop p = fx_pop(bad);
		FX_ASSERT_ERR(uvfs_mkdir_at(fx.vfs, &fx.cred, &p, 0755), -ENAMETOOLONG);
		FX_ASSERT_ERR(fx_open(bad, O_CREAT | O_WRONLY, 0644, &f), -ENAMETOOLONG);
		bad[0] = '.';
		p = fx_pop(bad);
		FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, &st), -ENAMETOOLONG);
		free(bad);
	}
	uvfs_set_debug(fx.vfs, 0);
	FX_ASSERT_ERR(fx_lstat("/d/new", &(struct statx){ 0 }), -ENOENT);
}

/* name(i) -> name(i+1), ..., name(n) -> target. */
static void chain(const char *dir, const char *pfx, int n, const char *target)
{
	char name[64], t[64];
	for (int i = 1; i <= n; i++) {
		snprintf(name, sizeof name, "%s/%s%d", dir, pfx, i);
		if (i == n)
			snprintf(t, sizeof t, "%s", target);
		else
			snprintf(t, sizeof t, "%s%d", pfx, i + 1);
		int rc = fx_symlink(t, name);
		cr_assert_eq(rc, 0, "symlink %s: %s", name, fx_err(rc));
	}
}

FX_TEST(walk_limits, o_creat_chain_of_41_dangling_links_eloop)
{
	fx_must_mkdir("/d", 0755);
	chain("/d", "c", 41, "created");
	struct uvfs_file *f = NULL;
	for (int ref = 0; ref < 2; ref++) {
		uvfs_set_debug(fx.vfs, ref ? UVFS_DEBUG_REFWALK : 0);
		FX_ASSERT_ERR(fx_open("/d/c1", O_CREAT | O_WRONLY, 0644, &f), -ELOOP);
		FX_ASSERT_ERR(fx_lstat("/d/created", &(struct statx){ 0 }), -ENOENT);
	}
	/* 40 links: the target is created, then the 41-link path still fails. */
	FX_ASSERT_OK(fx_open("/d/c2", O_CREAT | O_WRONLY, 0644, &f));
	uvfs_file_put(f);
	cr_assert(S_ISREG(fx_mode("/d/created")));
	FX_ASSERT_ERR(fx_open("/d/c1", O_CREAT | O_WRONLY, 0644, &f), -ELOOP);
	uvfs_set_debug(fx.vfs, 0);
}

FX_TEST(walk_limits, o_creat_budget_spans_directory_and_final_links)
{
	/* 20 links to reach the directory, then 21 (or 20) final links: one
	 * budget for the whole open, as Linux's total_link_count. */
	fx_must_mkdir("/d", 0755);
	chain("", "dl", 20, "d");
	chain("/d", "c", 21, "created");
	struct uvfs_file *f = NULL;
	for (int ref = 0; ref < 2; ref++) {
		uvfs_set_debug(fx.vfs, ref ? UVFS_DEBUG_REFWALK : 0);
		FX_ASSERT_ERR(fx_open("/dl1/c1", O_CREAT | O_WRONLY, 0644, &f), -ELOOP);
		FX_ASSERT_ERR(fx_lstat("/d/created", &(struct statx){ 0 }), -ENOENT);
	}
	uvfs_set_debug(fx.vfs, 0);
	FX_ASSERT_OK(fx_open("/dl1/c2", O_CREAT | O_WRONLY, 0644, &f)); /* 20 + 20 */
	uvfs_file_put(f);
	cr_assert(S_ISREG(fx_mode("/d/created")));
}

FX_TEST(walk_limits, o_creat_link_bodies_through_links)
{
	/* Each final link's body walks 10 directory links again: 4 hops of
	 * 1 + 10 links stay within 40 (44 does not). */
	fx_must_mkdir("/d", 0755);
	chain("", "dl", 10, "d");
	FX_ASSERT_OK(fx_symlink("/dl1/b2", "/d/b1"));
	FX_ASSERT_OK(fx_symlink("/dl1/b3", "/d/b2"));
	FX_ASSERT_OK(fx_symlink("/dl1/new", "/d/b3"));
	struct uvfs_file *f = NULL;
	/* /d/b1 (1) + [b2: 1 + 10] + [b3: 1 + 10] + [new: 10] = 33. */
	FX_ASSERT_OK(fx_open("/d/b1", O_CREAT | O_WRONLY, 0644, &f));
	uvfs_file_put(f);
	cr_assert(S_ISREG(fx_mode("/d/new")));
	/* Through the directory chain once more: 10 + 33 = 43. */
	FX_ASSERT_ERR(fx_open("/dl1/b1", O_CREAT | O_WRONLY, 0644, &f), -ELOOP);
}

/* An O_CREAT open through 40 links on a small thread stack (embedders such
 * as libfuse or green threads): no per-link stack frames. */
static void *open_chain(void *arg)
{
	struct uvfs_file *f = NULL;
	int *rc = arg;
	*rc = fx_open("/d/c2", O_CREAT | O_WRONLY, 0644, &f);
	if (!*rc)
		uvfs_file_put(f);
	uvfs_thread_leave();
	return NULL;
}

FX_TEST(walk_limits, o_creat_through_40_links_on_a_small_stack)
{
	fx_must_mkdir("/d", 0755);
	chain("/d", "c", 41, "created");
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 128 * 1024);
	pthread_t t;
	int rc = 1;
	uvfs_set_debug(fx.vfs, UVFS_DEBUG_REFWALK);
	cr_assert_eq(pthread_create(&t, &a, open_chain, &rc), 0);
	pthread_join(t, NULL);
	uvfs_set_debug(fx.vfs, 0);
	FX_ASSERT_OK(rc);
	cr_assert(S_ISREG(fx_mode("/d/created")));
}
