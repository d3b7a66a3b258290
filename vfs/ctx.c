/* vfs/ctx.c — the calling thread's context (struct uvfs_ctx).
 *
 * A thread-local pointer: written only by the embedder's enter/leave on its
 * own thread, read only by filesystem ops on that thread, so it needs no
 * lock and the VFS's own paths (the RCU walk included) never touch it.
 * The interrupt state a context may name (struct uvfs_intr) is shared
 * with other threads: its rules are below. */
#include "internal.h"

static bool intr_pending(const struct uvfs_intr *in) { return in && __atomic_load_n(&in->pending, __ATOMIC_SEQ_CST); }

static const struct uvfs_ctx no_ctx; /* task NULL, never interrupted */
static __thread const struct uvfs_ctx *cur_ctx; /* this thread's; NULL: no_ctx */

UVFS_API const struct uvfs_ctx *uvfs_ctx_enter(const struct uvfs_ctx *ctx)
{
	const struct uvfs_ctx *prev = cur_ctx;
	cur_ctx = ctx;
	return prev;
}

UVFS_API void uvfs_ctx_leave(const struct uvfs_ctx *prev) { cur_ctx = prev; }

UVFS_API const struct uvfs_ctx *uvfs_current_ctx(void) { return cur_ctx ? cur_ctx : &no_ctx; }

UVFS_API int uvfs_ctx_interrupted(void)
{
	const struct uvfs_ctx *c = cur_ctx;
	if (!c)
		return 0;
	return intr_pending(c->intr) || (c->interrupted && c->interrupted(c->task)) ? -EINTR : 0;
}

/* ------------------------------------------------------ immediate interrupt
 *
 * The task's intr->waiter names the one sleep it is in. An interrupter
 * marks pending, then, under intr->lock, pins the waiter and drops the
 * lock before taking the sleeper's mutex (the sleeper holds that mutex
 * when it takes intr->lock: the other order would deadlock). A pinned
 * waiter's cv and mu stay valid because the sleeper's wait_end waits for
 * pins to drain, releasing its mutex meanwhile so the interrupter can
 * finish. No wake is lost: the sleeper registers, then reads pending,
 * all under its mutex; the interrupter writes pending before it looks for
 * a waiter, and broadcasts with the mutex held, so it either finds the
 * registration (and its broadcast comes after the sleeper is inside
 * pthread_cond_wait or has left) or the sleeper sees pending. */

UVFS_API void uvfs_intr_init(struct uvfs_intr *in)
{
	pthread_mutex_init(&in->lock, NULL);
	__atomic_store_n(&in->pending, 0, __ATOMIC_RELAXED);
	in->pins = 0;
	in->waiter = NULL;
}

UVFS_API int uvfs_ctx_interrupt(const struct uvfs_ctx *ctx)
{
	struct uvfs_intr *in = ctx ? ctx->intr : NULL;
	if (!in)
		return -EINVAL;
	__atomic_store_n(&in->pending, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&in->lock);
	struct uvfs_intr_waiter *w = in->waiter;
	if (w)
		in->pins++;
	pthread_mutex_unlock(&in->lock);
	if (!w)
		return 0;
	pthread_mutex_lock(w->mu);
	pthread_cond_broadcast(w->cv);
	pthread_mutex_unlock(w->mu);
	pthread_mutex_lock(&in->lock);
	in->pins--;
	pthread_mutex_unlock(&in->lock);
	return 0;
}

UVFS_API void uvfs_ctx_interrupt_clear(const struct uvfs_ctx *ctx)
{
	if (ctx && ctx->intr)
		__atomic_store_n(&ctx->intr->pending, 0, __ATOMIC_SEQ_CST);
}

UVFS_API int uvfs_ctx_wait_begin(struct uvfs_intr_waiter *w, pthread_cond_t *cv, pthread_mutex_t *mu)
{
	const struct uvfs_ctx *c = cur_ctx;
	struct uvfs_intr *in = c ? c->intr : NULL;
	w->cv = cv;
	w->mu = mu;
	w->intr = NULL;
	if (!in)
		return 0;
	pthread_mutex_lock(&in->lock);
	bool busy = in->waiter != NULL;
	if (!busy)
		in->waiter = w;
	pthread_mutex_unlock(&in->lock);
	if (busy)
		return intr_pending(in) ? -EINTR : 0;
	w->intr = in;
	if (intr_pending(in)) {
		uvfs_ctx_wait_end(w);
		return -EINTR;
	}
	return 1;
}

UVFS_API int uvfs_ctx_wait_end(struct uvfs_intr_waiter *w)
{
	struct uvfs_intr *in = w->intr;
	if (!in)
		return 0;
	pthread_mutex_lock(&in->lock);
	in->waiter = NULL;
	/* An interrupter that pinned w before we unregistered may be waiting
	 * for our mutex: let it have it, then take it back. Rare and short. */
	while (in->pins) {
		pthread_mutex_unlock(&in->lock);
		pthread_mutex_unlock(w->mu);
		sched_yield();
		pthread_mutex_lock(w->mu);
		pthread_mutex_lock(&in->lock);
	}
	pthread_mutex_unlock(&in->lock);
	w->intr = NULL;
	return intr_pending(in) ? -EINTR : 0;
}
