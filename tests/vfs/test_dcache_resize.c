/* test_dcache_resize.c — the dentry hash grows while renames, lookups and
 * inserts keep running (review C1: rename vs. resize deadlocked).
 *
 * Each round uses a fresh instance: one thread renames /a/x <-> /b/x in a
 * loop, another stats /a/x and /b/x, while the test thread creates more
 * files than the table has buckets (4096 at start), so the table grows at
 * least once mid-rename. A watchdog thread aborts the test (a crash, so a
 * failure) when no thread makes progress for WATCHDOG_S seconds: a deadlock
 * hangs every lookup, it does not return an error. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"

#define WATCHDOG_S 10
#define ROUNDS 40
#define NFILES 4200

static atomic_ulong progress;
static atomic_bool stop, watchdog_off;

static void *watchdog(void *arg)
{
	(void)arg;
	unsigned long last = atomic_load(&progress);
	int idle = 0;
	while (!atomic_load(&watchdog_off)) {
		sleep(1);
		unsigned long now = atomic_load(&progress);
		idle = now == last ? idle + 1 : 0;
		last = now;
		if (idle >= WATCHDOG_S) {
			fprintf(stderr, "watchdog: no progress for %d s (rename vs resize deadlock?)\n", idle);
			abort();
		}
	}
	return NULL;
}

static int rename_p(const char *from, const char *to)
{
	struct uvfs_pathop a = fx_pop(from), b = fx_pop(to);
	return uvfs_rename_at(fx.vfs, &fx.cred, &a, &b, 0);
}

static void *renamer(void *arg)
{
	(void)arg;
	uvfs_thread_enter();
	unsigned long bad = 0;
	for (unsigned long i = 0; !atomic_load(&stop); i++) {
		if (rename_p(i & 1 ? "/b/x" : "/a/x", i & 1 ? "/a/x" : "/b/x"))
			bad++;
		atomic_fetch_add(&progress, 1);
	}
	uvfs_thread_leave();
	return (void *)bad;
}

static void *looker(void *arg)
{
	(void)arg;
	uvfs_thread_enter();
	unsigned long found = 0;
	struct statx st;
	while (!atomic_load(&stop)) {
		/* Exactly one of the two exists at any instant, but the two stats
		 * are not atomic together: count hits only. */
		found += fx_lstat("/a/x", &st) == 0;
		found += fx_lstat("/b/x", &st) == 0;
		atomic_fetch_add(&progress, 1);
	}
	uvfs_thread_leave();
	return (void *)found;
}

Test(dcache_resize, rename_during_growth, .timeout = 600)
{
	pthread_t wd;
	cr_assert_eq(pthread_create(&wd, NULL, watchdog, NULL), 0);
	for (int round = 0; round < ROUNDS; round++) {
		fx_setup();
		fx_must_mkdir("/a", 0755);
		fx_must_mkdir("/b", 0755);
		fx_must_mkdir("/c", 0755);
		fx_must_write("/a/x", "x");
		atomic_store(&stop, false);
		pthread_t rt, lt;
		cr_assert_eq(pthread_create(&rt, NULL, renamer, NULL), 0);
		cr_assert_eq(pthread_create(&lt, NULL, looker, NULL), 0);
		char path[64];
		for (int i = 0; i < NFILES; i++) {
			snprintf(path, sizeof(path), "/c/f%d", i);
			FX_ASSERT_OK(fx_write_file(path, ""));
			atomic_fetch_add(&progress, 1);
		}
		atomic_store(&stop, true);
		void *bad, *found;
		pthread_join(rt, &bad);
		pthread_join(lt, &found);
		cr_assert_eq((unsigned long)bad, 0, "round %d: %lu renames failed", round, (unsigned long)bad);
		/* Every created name is still there, and the renamed file sits in
		 * exactly one of its two places. */
		struct statx st;
		for (int i = 0; i < NFILES; i++) {
			snprintf(path, sizeof(path), "/c/f%d", i);
			FX_ASSERT_OK(fx_lstat(path, &st));
		}
		cr_assert((fx_lstat("/a/x", &st) == 0) != (fx_lstat("/b/x", &st) == 0), "round %d: x lost or doubled",
			  round);
		fx_teardown();
	}
	atomic_store(&watchdog_off, true);
	pthread_join(wd, NULL);
}

/* Growth across several resizes in one instance, with a name removed and
 * re-created in every step: nothing is lost, nothing is found twice. */
FX_TEST(dcache_resize, many_resizes_keep_every_name)
{
	enum { N = 70000 };
	char path[64];
	fx_must_mkdir("/d", 0755);
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/d/n%d", i);
		FX_ASSERT_OK(fx_write_file(path, ""));
		if (i % 7 == 3) {
			struct uvfs_pathop p = fx_pop(path);
			FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &p));
		}
	}
	struct statx st;
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/d/n%d", i);
		if (i % 7 == 3)
			FX_ASSERT_ERR(fx_lstat(path, &st), -ENOENT);
		else
			FX_ASSERT_OK(fx_lstat(path, &st));
	}
}
