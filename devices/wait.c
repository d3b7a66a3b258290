/* devices/wait.c — interruptible condition waits (devices/wait.h).
 *
 * A context with an intr (uvfs_ctx_interrupt) registers the sleep with
 * uvfs_ctx_wait_begin and is woken at once. The callback form
 * (interrupted(task)) is only a check, so such a sleeper sleeps in slices
 * of UVFS_DEV_INTR_POLL_NS and re-checks between them; a sleeper with
 * neither sleeps plainly and costs nothing. No lock of its own: the
 * caller's mu. */
#include <errno.h>

#include "devices/wait.h"
#include "vfs/uvfs_fs.h"

static int ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

DEV_WAIT_HIDDEN int uvfs_dev_cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu, const struct timespec *deadline)
{
	int err = uvfs_ctx_interrupted();
	if (err)
		return err;
	const struct uvfs_ctx *c = uvfs_current_ctx();
	struct uvfs_intr_waiter w;
	int reg = uvfs_ctx_wait_begin(&w, cv, mu);
	if (reg < 0)
		return reg;
	/* Slices only for what cannot wake us: the callback form, or an intr
	 * whose task is registered asleep elsewhere. */
	bool poll = c->interrupted || (reg == 0 && c->intr);
	struct timespec now, slice;
	if (!poll) {
		int rc = deadline ? pthread_cond_timedwait(cv, mu, deadline) : pthread_cond_wait(cv, mu);
		if (reg > 0 && (err = uvfs_ctx_wait_end(&w)))
			return err;
		return rc == ETIMEDOUT ? -ETIMEDOUT : 0;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (deadline && !ts_before(&now, deadline)) {
		if (reg > 0)
			uvfs_ctx_wait_end(&w);
		return -ETIMEDOUT;
	}
	slice = now;
	slice.tv_nsec += UVFS_DEV_INTR_POLL_NS;
	if (slice.tv_nsec >= 1000000000L) {
		slice.tv_sec++;
		slice.tv_nsec -= 1000000000L;
	}
	if (deadline && ts_before(deadline, &slice))
		slice = *deadline;
	pthread_cond_timedwait(cv, mu, &slice);
	if (reg > 0)
		uvfs_ctx_wait_end(&w);
	if ((err = uvfs_ctx_interrupted()))
		return err;
	if (deadline) {
		clock_gettime(CLOCK_REALTIME, &now);
		if (!ts_before(&now, deadline))
			return -ETIMEDOUT;
	}
	return 0;
}
