/* test_walk_seq.c — the walker and seqcounts: a writer that keeps a
 * seqcount odd must not stall lookups (the RCU-walk gives up after a
 * bounded spin and the ref-walk completes, review C7), and the RCU
 * permission check reads mode and owner from one attribute state (C9).
 * Uses internal.h to hold vfs->mount_seq the way mount/umount do. */
#include <pthread.h>
#include <time.h>

#include "fixture.h"
#include "internal.h"

struct stat_job {
	const char *path;
	const struct uvfs_cred *cred;
	int rc;
};

static void *stat_thread(void *arg)
{
	struct stat_job *j = arg;
	struct uvfs_pathop p = fx_popf(j->path);
	struct statx st;
	j->rc = uvfs_stat_at(fx.vfs, j->cred, &p, STATX_BASIC_STATS, &st);
	if (!j->rc) {
		struct uvfs_vd vd;
		j->rc = uvfs_get_dentry_at(fx.vfs, j->cred, &p, 0, &vd);
		if (!j->rc)
			uvfs_vd_put(&vd);
	}
	uvfs_thread_leave();
	return NULL;
}

/* Runs a stat of path in another thread while mount_seq is held odd;
 * returns true if it finished within 5 s. */
static bool stat_finishes_while_mount_seq_odd(const char *path, int *rc)
{
	struct stat_job j = { .path = path, .cred = &fx.cred, .rc = 1 };
	pthread_mutex_lock(&fx.vfs->mount_lock);
	uvfs_seq_write_begin(&fx.vfs->mount_seq);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, stat_thread, &j), 0);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	bool done = pthread_timedjoin_np(t, NULL, &deadline) == 0;
	uvfs_seq_write_end(&fx.vfs->mount_seq);
	pthread_mutex_unlock(&fx.vfs->mount_lock);
	if (!done)
		pthread_join(t, NULL);
	*rc = j.rc;
	return done;
}

FX_TEST(walk_seq, odd_mount_seq_does_not_stall_lookups)
{
	fx_must_mkdir("/d", 0755);
	fx_must_mkdir("/d/e", 0755);
	fx_must_write("/d/e/f", "x");
	int rc;
	cr_assert(stat_finishes_while_mount_seq_odd("/d/e/f", &rc), "a lookup spun on an odd mount_seq for 5 s");
	FX_ASSERT_OK(rc);
	cr_assert(stat_finishes_while_mount_seq_odd("/d/e/nope", &rc), "a lookup spun on an odd mount_seq for 5 s");
	FX_ASSERT_ERR(rc, -ENOENT);
}

/* C9: two attribute states that both deny uid 1000 search permission on
 * /d, but whose mixtures grant it: {0100, uid 0} (only the owner, root,
 * may search) and {0001, uid 1000} (owner 1000 gets the owner bits, 0:
 * Linux never falls through to "other"). A walker that reads the mode of
 * one state and the owner of the other succeeds. */
struct flipper {
	_Atomic bool stop;
	long flips;
};

static void *flip_thread(void *arg)
{
	struct flipper *fl = arg;
	struct uvfs_pathop p = fx_pop("/d");
	struct uvfs_setattr a = { .mask = STATX_MODE | STATX_UID };
	while (!atomic_load(&fl->stop)) {
		bool odd = fl->flips++ & 1;
		a.mode = odd ? 0001 : 0100;
		a.uid = odd ? 1000 : 0;
		cr_assert_eq(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &a, 0), 0);
	}
	uvfs_thread_leave();
	return NULL;
}

static void permission_never_mixed(bool refwalk)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/f", "x");
	FX_ASSERT_OK(fx_chmod("/d", 0100)); /* the flipper's first state */
	uvfs_set_debug(fx.vfs, refwalk ? UVFS_DEBUG_REFWALK : 0);
	struct flipper fl = { .stop = false };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, flip_thread, &fl), 0);
	struct uvfs_pathop p = fx_pop("/d/f");
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long n = 0, granted = 0;
	do {
		for (int i = 0; i < 1000; i++, n++) {
			struct statx st;
			int rc = uvfs_stat_at(fx.vfs, &fx.user, &p, STATX_BASIC_STATS, &st);
			if (rc == 0)
				granted++;
			else
				cr_assert_eq(rc, -EACCES, "stat: %s", fx_err(rc));
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - t0.tv_sec < 2);
	atomic_store(&fl.stop, true);
	pthread_join(t, NULL);
	uvfs_set_debug(fx.vfs, 0);
	cr_assert_eq(granted, 0, "%ld of %ld lookups as uid 1000 passed /d on a mixed attribute state (%ld flips)",
		     granted, n, fl.flips);
	cr_assert_gt(fl.flips, 100, "the flipper barely ran");
}

FX_TEST(walk_seq, permission_reads_one_attribute_state_rcu) { permission_never_mixed(false); }
FX_TEST(walk_seq, permission_reads_one_attribute_state_ref) { permission_never_mixed(true); }
