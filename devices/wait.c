/* devices/wait.c — interruptible condition waits (devices/wait.h).
 *
 * uvfs_ctx offers a check (interrupted(task)), not a wake-up, so a sleeper
 * whose context has one sleeps in slices of UVFS_DEV_INTR_POLL_NS and
 * re-checks between them; a sleeper without one sleeps plainly and costs
 * nothing. No lock of its own: the caller's mu. */
#include <errno.h>

#include "devices/wait.h"
#include "vfs/uvfs.h"

static int ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

DEV_WAIT_HIDDEN int uvfs_dev_cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu, const struct timespec *deadline)
{
	int err = uvfs_ctx_interrupted();
	if (err)
		return err;
	if (!uvfs_current_ctx()->interrupted) {
		if (!deadline) {
			pthread_cond_wait(cv, mu);
			return 0;
		}
		return pthread_cond_timedwait(cv, mu, deadline) == ETIMEDOUT ? -ETIMEDOUT : 0;
	}
	struct timespec now, slice;
	clock_gettime(CLOCK_REALTIME, &now);
	if (deadline && !ts_before(&now, deadline))
		return -ETIMEDOUT;
	slice = now;
	slice.tv_nsec += UVFS_DEV_INTR_POLL_NS;
	if (slice.tv_nsec >= 1000000000L) {
		slice.tv_sec++;
		slice.tv_nsec -= 1000000000L;
	}
	if (deadline && ts_before(deadline, &slice))
		slice = *deadline;
	pthread_cond_timedwait(cv, mu, &slice);
	if ((err = uvfs_ctx_interrupted()))
		return err;
	if (deadline) {
		clock_gettime(CLOCK_REALTIME, &now);
		if (!ts_before(&now, deadline))
			return -ETIMEDOUT;
	}
	return 0;
}
