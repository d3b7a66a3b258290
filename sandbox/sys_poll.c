/* sandbox/sys_poll.c — poll, ppoll and pselect6 over the task's fds,
 * blocking on the files' wait queues (vfs/poll.c) with the kernel's
 * timeout and EINTR rules.
 *
 * The VFS's poller sleeps on a condition variable of its own, which an
 * interrupt cannot reach; so a wait without a near deadline runs in
 * slices of SLICE_MS, checking the task's interrupt between them. A file
 * that becomes ready wakes the poller at once through its wait queue; an
 * interrupt ends the wait within one slice (-EINTR). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "sandbox/sbx.h"

#define SLICE_MS 20
/* Linux POLLIN_SET, POLLOUT_SET, POLLEX_SET (fs/select.c) */
#define SEL_IN (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define SEL_OUT (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define SEL_EX (POLLPRI)

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* timeout_ms < 0: no limit. p[i].file NULL entries are skipped; nval
 * entries (already POLLNVAL) count as ready. Returns the ready count, or
 * -errno (-EINTR: interrupted while waiting). */
static long wait_files(struct uvfs_pollfd *p, size_t n, size_t nval, int64_t timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? now_ns() + timeout_ms * 1000000 : 0;
	for (bool first = true;; first = false) {
		/* whole ms, rounded up: never wake before the deadline */
		int64_t left = timeout_ms < 0 ? SLICE_MS
			       : timeout_ms == 0 || nval ? 0
							  : (deadline - now_ns() + 999999) / 1000000;
		if (left < 0)
			left = 0;
		if (!first && !left)
			return 0; /* the deadline passed during the last slice's look */
		int r = uvfs_poll_files(p, n, (int)(left > SLICE_MS ? SLICE_MS : left));
		if (r < 0)
			return r;
		if (r || nval || !left)
			return r + (long)nval;
		if (uvfs_ctx_interrupted())
			return -EINTR;
	}
}

/* pollfds → uvfs_pollfds (file references taken): *nval counts fds that
 * are not open (POLLNVAL). */
static long get_files(struct uvfs_sbx_task *t, const struct pollfd *fds, nfds_t nfds, struct uvfs_pollfd **out,
		      size_t *nval)
{
	struct uvfs_pollfd *p = calloc(nfds ? nfds : 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*nval = 0;
	for (nfds_t i = 0; i < nfds; i++) {
		p[i].events = fds[i].events;
		if (fds[i].fd >= 0 && sbx_file(t, fds[i].fd, &p[i].file)) {
			p[i].file = NULL;
			p[i].revents = POLLNVAL;
			(*nval)++;
		}
	}
	*out = p;
	return 0;
}

static void put_files(struct uvfs_pollfd *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].file)
			uvfs_file_put(p[i].file);
	free(p);
}

static long do_poll(struct uvfs_sbx_task *t, struct pollfd *fds, nfds_t nfds, int64_t timeout_ms)
{
	if (nfds > t->nofile)
		return -EINVAL;
	if (nfds && !fds)
		return -EFAULT;
	struct uvfs_pollfd *p;
	size_t nval;
	long r = get_files(t, fds, nfds, &p, &nval);
	if (r)
		return r;
	r = wait_files(p, nfds, nval, timeout_ms);
	for (nfds_t i = 0; r >= 0 && i < nfds; i++)
		fds[i].revents = p[i].file ? p[i].revents : fds[i].fd >= 0 ? POLLNVAL : 0;
	put_files(p, nfds);
	return r;
}

static int ts_ms(const struct timespec *ts, int64_t *ms)
{
	if (!ts) {
		*ms = -1;
		return 0;
	}
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
		return -EINVAL;
	/* rounded up, as the kernel's slack never ends a wait early */
	*ms = ts->tv_sec > INT32_MAX ? -1 : (int64_t)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
	return 0;
}

UVFS_API long uvfs_sbx_poll(struct uvfs_sbx_task *t, struct pollfd *fds, nfds_t nfds, int timeout)
{
	SBX_CTX(t);
	return do_poll(t, fds, nfds, timeout < 0 ? -1 : timeout);
}

UVFS_API long uvfs_sbx_ppoll(struct uvfs_sbx_task *t, struct pollfd *fds, nfds_t nfds, const struct timespec *timeout)
{
	SBX_CTX(t);
	int64_t ms;
	int err = ts_ms(timeout, &ms);
	return err ? err : do_poll(t, fds, nfds, ms);
}

UVFS_API long uvfs_sbx_pselect6(struct uvfs_sbx_task *t, int nfds, fd_set *readfds, fd_set *writefds,
				fd_set *exceptfds, const struct timespec *timeout)
{
	SBX_CTX(t);
	int64_t ms;
	if (nfds < 0)
		return -EINVAL;
	int err = ts_ms(timeout, &ms);
	if (err)
		return err;
	if ((unsigned)nfds > t->nofile) /* Linux caps nfds at the table's size */
		nfds = (int)t->nofile;
	if (nfds > FD_SETSIZE)
		nfds = FD_SETSIZE;
	size_t n = 0;
	struct pollfd *pf = calloc((size_t)nfds + 1, sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	for (int fd = 0; fd < nfds; fd++) {
		short ev = (short)((readfds && FD_ISSET(fd, readfds) ? SEL_IN : 0) |
				   (writefds && FD_ISSET(fd, writefds) ? SEL_OUT : 0) |
				   (exceptfds && FD_ISSET(fd, exceptfds) ? SEL_EX : 0));
		if (ev)
			pf[n++] = (struct pollfd){ .fd = fd, .events = ev };
	}
	struct uvfs_pollfd *p;
	size_t nval;
	long r = get_files(t, pf, n, &p, &nval);
	if (r) {
		free(pf);
		return r;
	}
	if (nval)
		r = -EBADF; /* select: a set names an fd that is not open */
	else
		r = wait_files(p, n, 0, ms);
	if (r >= 0) {
		long bits = 0;
		if (readfds)
			FD_ZERO(readfds);
		if (writefds)
			FD_ZERO(writefds);
		if (exceptfds)
			FD_ZERO(exceptfds);
		for (size_t i = 0; i < n; i++) {
			short rv = p[i].revents;
			if (readfds && (pf[i].events & POLLIN) && (rv & SEL_IN))
				FD_SET(pf[i].fd, readfds), bits++;
			if (writefds && (pf[i].events & POLLOUT) && (rv & SEL_OUT))
				FD_SET(pf[i].fd, writefds), bits++;
			if (exceptfds && (pf[i].events & POLLPRI) && (rv & SEL_EX))
				FD_SET(pf[i].fd, exceptfds), bits++;
		}
		r = bits;
	}
	put_files(p, n);
	free(pf);
	return r;
}
