/* vfs/poll.c — readiness: wait queues that filesystems and devices own,
 * and poll(2) over open files (Linux fs/select.c do_poll, in miniature).
 *
 * A poller is a mutex + condvar + "triggered" flag on the caller's stack.
 * The first pass over the files registers one wait entry per wait queue a
 * file's ->poll names (uvfs_poll_wait); later passes only ask for the mask.
 * A wake sets triggered, so a wake between a pass and the sleep is never
 * lost. Every entry is removed before uvfs_poll_files returns; removal
 * takes the queue's lock, so no wake callback can still be touching the
 * poller afterwards.
 *
 * Lock order: waitq lock → poller mutex (the wake callback). The poller
 * never takes a queue's lock while holding its own mutex. */
#include <poll.h>
#include <time.h>

#include "internal.h"

#define DEFAULT_POLLMASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
#define POLL_MAX_FDS 65536 /* RLIMIT_NOFILE-like bound, as poll(2)'s EINVAL */

/* ------------------------------------------------------------ wait queues */

UVFS_API void uvfs_waitq_init(struct uvfs_waitq *wq)
{
	memset(wq, 0, sizeof(*wq));
	wq->head.next = wq->head.prev = &wq->head;
}

UVFS_API void uvfs_waitq_add(struct uvfs_waitq *wq, struct uvfs_wait_entry *e)
{
	uvfs_lock_acquire(&wq->lock);
	e->next = &wq->head;
	e->prev = wq->head.prev;
	wq->head.prev->next = e;
	wq->head.prev = e;
	uvfs_lock_release(&wq->lock);
}

UVFS_API void uvfs_waitq_remove(struct uvfs_waitq *wq, struct uvfs_wait_entry *e)
{
	uvfs_lock_acquire(&wq->lock);
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->next = e->prev = e;
	uvfs_lock_release(&wq->lock);
}

UVFS_API void uvfs_waitq_wake(struct uvfs_waitq *wq, unsigned events)
{
	uvfs_lock_acquire(&wq->lock);
	for (struct uvfs_wait_entry *e = wq->head.next; e != &wq->head; e = e->next)
		e->wake(e, events);
	uvfs_lock_release(&wq->lock);
}

UVFS_API bool uvfs_waitq_active(struct uvfs_waitq *wq)
{
	uvfs_lock_acquire(&wq->lock);
	bool active = wq->head.next != &wq->head;
	uvfs_lock_release(&wq->lock);
	return active;
}

/* ------------------------------------------------------------- pollers */

struct poll_entry {
	struct uvfs_wait_entry we; /* priv: the table */
	struct uvfs_waitq *wq;
	struct poll_entry *next; /* the table's list; owner only */
};

#define POLL_INLINE 8

struct uvfs_poll_table {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool triggered; /* under mu */
	int error; /* registration failure (owner only) */
	struct poll_entry *entries; /* every registration, to remove (owner only) */
	int ninline;
	struct poll_entry inline_entries[POLL_INLINE];
};

static void poller_wake(struct uvfs_wait_entry *e, unsigned events)
{
	(void)events;
	struct uvfs_poll_table *pt = e->priv;
	pthread_mutex_lock(&pt->mu);
	pt->triggered = true;
	pthread_cond_signal(&pt->cv);
	pthread_mutex_unlock(&pt->mu);
}

UVFS_API void uvfs_poll_wait(struct uvfs_file *f, struct uvfs_waitq *wq, struct uvfs_poll_table *pt)
{
	(void)f;
	if (!pt || !wq)
		return;
	struct poll_entry *pe;
	if (pt->ninline < POLL_INLINE) {
		pe = &pt->inline_entries[pt->ninline++];
	} else if (!(pe = malloc(sizeof(*pe)))) {
		pt->error = -ENOMEM;
		return;
	}
	pe->we.wake = poller_wake;
	pe->we.priv = pt;
	pe->wq = wq;
	pe->next = pt->entries;
	pt->entries = pe;
	uvfs_waitq_add(wq, &pe->we);
}

static bool is_inline(struct uvfs_poll_table *pt, struct poll_entry *pe)
{
	return pe >= pt->inline_entries && pe < pt->inline_entries + POLL_INLINE;
}

static unsigned poll_one(struct uvfs_pollfd *p, struct uvfs_poll_table *pt)
{
	struct uvfs_file *f = p->file;
	if (!f)
		return 0;
	if (f->f_flags & O_PATH)
		return POLLNVAL;
	unsigned mask = f->f_op->poll ? f->f_op->poll(f, pt) : DEFAULT_POLLMASK;
	return mask & ((unsigned)(unsigned short)p->events | POLLERR | POLLHUP);
}

/* Sleep until a wake or the deadline; false once the deadline passed. */
static bool poller_sleep(struct uvfs_poll_table *pt, const struct timespec *deadline)
{
	bool timed_out = false;
	pthread_mutex_lock(&pt->mu);
	while (!pt->triggered && !timed_out)
		timed_out = deadline ? pthread_cond_timedwait(&pt->cv, &pt->mu, deadline) == ETIMEDOUT
				     : (pthread_cond_wait(&pt->cv, &pt->mu), false);
	if (pt->triggered)
		timed_out = false; /* a wake that raced the timeout still counts */
	pt->triggered = false;
	pthread_mutex_unlock(&pt->mu);
	return !timed_out;
}

UVFS_API int uvfs_poll_files(struct uvfs_pollfd *fds, size_t nfds, int timeout_ms)
{
	rcu_enter();
	if (nfds > POLL_MAX_FDS)
		return -EINVAL;
	if (nfds && !fds)
		return -EFAULT;
	struct uvfs_poll_table pt = { .triggered = false };
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pt.cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&pt.mu, NULL);
	struct timespec deadline, *dl = NULL;
	if (timeout_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		dl = &deadline;
	}
	/* Register on the first pass only; a zero timeout never sleeps. */
	struct uvfs_poll_table *reg = timeout_ms ? &pt : NULL;
	bool last = false;
	int count;
	for (;;) {
		count = 0;
		for (size_t i = 0; i < nfds; i++) {
			fds[i].revents = (short)poll_one(&fds[i], reg);
			if (fds[i].revents)
				count++;
		}
		reg = NULL;
		if (count || last || timeout_ms == 0 || pt.error)
			break;
		/* After the deadline, look once more (Linux do_poll), then stop. */
		last = !poller_sleep(&pt, dl);
	}
	while (pt.entries) {
		struct poll_entry *pe = pt.entries;
		pt.entries = pe->next;
		uvfs_waitq_remove(pe->wq, &pe->we);
		if (!is_inline(&pt, pe))
			free(pe);
	}
	pthread_cond_destroy(&pt.cv);
	pthread_mutex_destroy(&pt.mu);
	return count ? count : (pt.error ? pt.error : 0);
}

UVFS_API int uvfs_poll(struct uvfs_file *f, short events, int timeout_ms)
{
	if (!f)
		return -EBADF;
	struct uvfs_pollfd p = { .file = f, .events = events };
	int n = uvfs_poll_files(&p, 1, timeout_ms);
	return n < 0 ? n : (unsigned short)p.revents;
}
