/* test_intr_wake.c — uvfs_ctx_interrupt wakes a task asleep in a device
 * wait at once (vfs/ctx.c, devices/wait.c): the interrupted() callback
 * form can only be polled, every UVFS_DEV_INTR_POLL_NS (5 ms). */
#include "fixture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "devices/wait.h"
#include "uvfs_fs.h"

static long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

struct sleeper {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct uvfs_intr intr;
	struct uvfs_ctx ctx;
	atomic_int asleep, done, stop;
	atomic_long woke_ns;
	int rc;
	pthread_t t;
};

static int never(void *task) { return 0; }

/* Sleeps in uvfs_dev_cond_wait until interrupted or told to stop. */
static void *sleeper_main(void *a)
{
	struct sleeper *s = a;
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&s->ctx);
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->asleep, 1);
	int rc;
	while (!(rc = uvfs_dev_cond_wait(&s->cv, &s->mu, NULL)) && !atomic_load(&s->stop))
		;
	atomic_store(&s->woke_ns, now_ns());
	s->rc = rc;
	pthread_mutex_unlock(&s->mu);
	uvfs_ctx_leave(prev);
	atomic_store(&s->done, 1);
	return NULL;
}

/* One round: start a sleeper, interrupt it once it sleeps, return the
 * wake latency in ns (-1 if it did not wake within a second). */
static long one_round(bool with_callback, int *rc)
{
	struct sleeper *s = calloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	uvfs_intr_init(&s->intr);
	s->ctx.intr = &s->intr;
	if (with_callback)
		s->ctx.interrupted = never;
	pthread_create(&s->t, NULL, sleeper_main, s);
	while (!atomic_load(&s->asleep))
		sleep_ms(1);
	/* It took the mutex before saying so: once we get it, it is waiting. */
	pthread_mutex_lock(&s->mu);
	pthread_mutex_unlock(&s->mu);
	sleep_ms(2);
	long t0 = now_ns();
	cr_assert_eq(uvfs_ctx_interrupt(&s->ctx), 0);
	for (int i = 0; i < 1000 && !atomic_load(&s->done); i++)
		sleep_ms(1);
	long lat = atomic_load(&s->done) ? atomic_load(&s->woke_ns) - t0 : -1;
	if (lat < 0) { /* unblock it so that the test can report */
		atomic_store(&s->stop, 1);
		pthread_mutex_lock(&s->mu);
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	pthread_join(s->t, NULL);
	*rc = s->rc;
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return lat;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* A context with an intr and no callback: the sleeper wakes with -EINTR,
 * and at once (median well under the 5 ms poll; the polling path's median
 * is about 2.5 ms, the wake's tens of microseconds). */
Test(intr_wake, interrupt_wakes_sleeper_at_once, .timeout = 60)
{
	enum { N = 21 };
	long lat[N];
	for (int i = 0; i < N; i++) {
		int rc;
		lat[i] = one_round(false, &rc);
		cr_assert(lat[i] >= 0, "round %d: the sleeper did not wake within 1 s of uvfs_ctx_interrupt", i);
		FX_ASSERT_ERR(rc, -EINTR);
	}
	qsort(lat, N, sizeof(lat[0]), cmp_long);
	cr_log_info("wake latency: min %ld us, median %ld us, max %ld us", lat[0] / 1000, lat[N / 2] / 1000,
		    lat[N - 1] / 1000);
	cr_assert(lat[N / 2] < 1000000L, "median wake latency %ld us (polling?)", lat[N / 2] / 1000);
}

/* A context with both forms wakes at once too (it still polls the
 * callback, but the intr's broadcast ends the slice early). */
Test(intr_wake, interrupt_wakes_sleeper_with_callback_too, .timeout = 60)
{
	enum { N = 21 };
	long lat[N];
	for (int i = 0; i < N; i++) {
		int rc;
		lat[i] = one_round(true, &rc);
		cr_assert(lat[i] >= 0, "round %d: no wake", i);
		FX_ASSERT_ERR(rc, -EINTR);
	}
	qsort(lat, N, sizeof(lat[0]), cmp_long);
	cr_log_info("wake latency (with callback): median %ld us", lat[N / 2] / 1000);
	cr_assert(lat[N / 2] < 1000000L, "median wake latency %ld us (polling?)", lat[N / 2] / 1000);
}

Test(intr_wake, pending_mark_and_clear, .timeout = 10)
{
	struct uvfs_intr in;
	uvfs_intr_init(&in);
	struct uvfs_ctx c = { .intr = &in };
	struct uvfs_ctx none = { 0 };
	FX_ASSERT_ERR(uvfs_ctx_interrupt(&none), -EINVAL);
	FX_ASSERT_ERR(uvfs_ctx_interrupt(NULL), -EINVAL);
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&c);
	FX_ASSERT_OK(uvfs_ctx_interrupted());
	FX_ASSERT_OK(uvfs_ctx_interrupt(&c));
	FX_ASSERT_ERR(uvfs_ctx_interrupted(), -EINTR);
	/* A sleep begun while interrupted does not sleep. */
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	struct uvfs_intr_waiter w;
	pthread_mutex_lock(&mu);
	FX_ASSERT_ERR(uvfs_ctx_wait_begin(&w, &cv, &mu), -EINTR);
	FX_ASSERT_ERR(uvfs_dev_cond_wait(&cv, &mu, NULL), -EINTR);
	uvfs_ctx_interrupt_clear(&c);
	FX_ASSERT_OK(uvfs_ctx_interrupted());
	cr_assert_eq(uvfs_ctx_wait_begin(&w, &cv, &mu), 1);
	FX_ASSERT_OK(uvfs_ctx_wait_end(&w));
	pthread_mutex_unlock(&mu);
	uvfs_ctx_leave(prev);
}
