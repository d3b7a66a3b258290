/* vfs/rcu_defer.c — frees deferred past an RCU grace period (call_rcu)
 * and the barrier that waits for them, on a worker of our own.
 *
 * Why not liburcu's call_rcu: its worker sleeps 10 ms after every wake-up
 * to gather a batch, so each urcu_memb_barrier() costs at least 10 ms
 * however little is queued. A VFS teardown needs several (each filesystem
 * release waits for its inodes' frees), which made a `uvfs run` of
 * /bin/true spend ~100 ms after the program had exited. Here the worker
 * takes whatever is queued as soon as it is woken, waits one grace period
 * (urcu_memb_synchronize_rcu: membarrier-based, microseconds), runs the
 * callbacks in order, and goes back for more; work queued during a grace
 * period forms the next batch, so a steady stream still costs one grace
 * period per batch, not per object.
 *
 * Protected by dq.lock: the queue (head/last, linked through the first
 * word of each rcu_head, which liburcu reserves for its own queue link and
 * we use instead), enq_seq, done_seq, busy, started. The callbacks run on
 * the worker, registered as an RCU reader thread, never under dq.lock.
 * After fork the child gets a fresh lock and no worker; a batch that was
 * in flight in the parent is dropped in the child (its memory leaks there,
 * nothing is freed twice). A grace period cannot end in a forked child
 * (liburcu memb's membarrier registration is the parent's), as with
 * liburcu's own call_rcu: nothing uses the VFS after fork without exec. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work; /* the queue became non-empty */
	pthread_cond_t done; /* a batch finished */
	struct rcu_head *head, *last; /* FIFO */
	uint64_t enq_seq;   /* callbacks queued so far */
	uint64_t taken_seq; /* ... of which taken by the worker */
	uint64_t done_seq;  /* ... of which run */
	bool started, busy;
	bool fallback; /* some went to liburcu's call_rcu (no worker thread) */
} dq = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
};

_Static_assert(sizeof(((struct rcu_head *)0)->next) >= sizeof(void *), "rcu_head link");

static struct rcu_head *link_get(const struct rcu_head *h)
{
	struct rcu_head *n;
	memcpy(&n, &h->next, sizeof(n));
	return n;
}

static void link_set(struct rcu_head *h, struct rcu_head *n)
{
	memcpy(&h->next, &n, sizeof(n));
}

static void *worker(void *arg)
{
	(void)arg;
	urcu_memb_register_thread();
	pthread_mutex_lock(&dq.lock);
	for (;;) {
		while (!dq.head)
			pthread_cond_wait(&dq.work, &dq.lock);
		struct rcu_head *batch = dq.head;
		dq.head = dq.last = NULL;
		uint64_t seq = dq.enq_seq;
		dq.taken_seq = seq;
		dq.busy = true;
		pthread_mutex_unlock(&dq.lock);
		synchronize_rcu();
		while (batch) {
			struct rcu_head *next = link_get(batch);
			batch->func(batch);
			batch = next;
		}
		pthread_mutex_lock(&dq.lock);
		dq.busy = false;
		dq.done_seq = seq;
		pthread_cond_broadcast(&dq.done);
	}
	return NULL;
}

static void after_fork_child(void)
{
	pthread_mutex_init(&dq.lock, NULL);
	pthread_cond_init(&dq.work, NULL);
	pthread_cond_init(&dq.done, NULL);
	dq.started = false;
	if (dq.busy) {
		dq.busy = false;
		dq.done_seq = dq.taken_seq; /* dropped with the parent's worker */
	}
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_init(void)
{
	pthread_atfork(NULL, NULL, after_fork_child);
}

/* Under dq.lock. */
static bool ensure_worker(void)
{
	if (dq.started)
		return true;
	pthread_attr_t a;
	pthread_t t;
	if (pthread_attr_init(&a))
		return false;
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	bool ok = !pthread_create(&t, &a, worker, NULL);
	pthread_attr_destroy(&a);
	dq.started = ok;
	return ok;
}

HIDDEN void uvfs_rcu_defer(struct rcu_head *h, void (*fn)(struct rcu_head *))
{
	pthread_once(&atfork_once, atfork_init);
	h->func = fn;
	link_set(h, NULL);
	pthread_mutex_lock(&dq.lock);
	if (!ensure_worker()) {
		/* no thread to be had: liburcu's worker (slower barrier) */
		dq.fallback = true;
		pthread_mutex_unlock(&dq.lock);
		urcu_memb_call_rcu(h, fn);
		return;
	}
	bool wake = !dq.head;
	if (dq.head)
		link_set(dq.last, h);
	else
		dq.head = h;
	dq.last = h;
	dq.enq_seq++;
	if (wake)
		pthread_cond_signal(&dq.work);
	pthread_mutex_unlock(&dq.lock);
}

UVFS_API void uvfs_rcu_barrier(void)
{
	pthread_mutex_lock(&dq.lock);
	uint64_t target = dq.enq_seq;
	while (dq.done_seq < target)
		pthread_cond_wait(&dq.done, &dq.lock);
	bool fallback = dq.fallback;
	pthread_mutex_unlock(&dq.lock);
	if (fallback)
		urcu_memb_barrier();
}
