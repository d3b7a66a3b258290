/* The core's deferred frees (vfs/rcu_defer.c): uvfs_rcu_barrier waits for
 * every callback queued before it, callbacks never run while a reader that
 * could see the object is still inside its read section. (Not in a
 * forked child: liburcu's memb flavour cannot wait for a grace period
 * there — its membarrier registration is the parent's — and nothing
 * uses the VFS after a fork without exec.) */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "uvfs_fs.h"

/* hidden in the library, reachable from a static link */
void uvfs_rcu_defer(struct rcu_head *h, void (*fn)(struct rcu_head *));

static atomic_long ran;

static void count_and_free(struct rcu_head *h)
{
	atomic_fetch_add(&ran, 1);
	free(h);
}

static void queue_one(void)
{
	struct rcu_head *h = calloc(1, sizeof(*h));
	cr_assert_not_null(h);
	uvfs_rcu_defer(h, count_and_free);
}

static void *queuer(void *arg)
{
	for (long i = 0; i < (long)(intptr_t)arg; i++)
		queue_one();
	return NULL;
}

Test(rcu_defer, barrier_waits_for_everything_queued_before_it, .timeout = 60)
{
	atomic_store(&ran, 0);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, queuer, (void *)(intptr_t)5000), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	uvfs_rcu_barrier();
	cr_assert_eq(atomic_load(&ran), 20000);
	/* and again with nothing queued: returns */
	uvfs_rcu_barrier();
	cr_assert_eq(atomic_load(&ran), 20000);
}

static atomic_int phase;

static void *reader(void *arg)
{
	(void)arg;
	urcu_memb_register_thread();
	urcu_memb_read_lock();
	atomic_store(&phase, 1);
	while (atomic_load(&phase) != 2)
		usleep(1000);
	/* the callback was queued while we are inside: it must not have run */
	usleep(50 * 1000);
	long seen = atomic_load(&ran);
	urcu_memb_read_unlock();
	urcu_memb_unregister_thread();
	return (void *)(intptr_t)seen;
}

Test(rcu_defer, no_callback_while_a_reader_is_inside, .timeout = 60)
{
	atomic_store(&ran, 0);
	atomic_store(&phase, 0);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, reader, NULL), 0);
	while (atomic_load(&phase) != 1)
		usleep(1000);
	queue_one();
	atomic_store(&phase, 2);
	void *seen;
	pthread_join(t, &seen);
	cr_assert_eq((long)(intptr_t)seen, 0, "a callback ran inside a reader's section");
	uvfs_rcu_barrier();
	cr_assert_eq(atomic_load(&ran), 1);
}
