/* test_sbx_poll.c — blocking poll, ppoll and pselect6 of the syscall layer
 * on a FIFO of the tree: a waiter is woken by a writer thread (through the
 * FIFO's wait queue), a timeout ends the wait after (not before) its time,
 * and uvfs_sbx_task_interrupt ends a wait without limit with -EINTR. */
#include <pthread.h>
#include <time.h>

#include "harness.h"

static struct uvfs_sbx_task *task;
static int rfd, wfd;

static void setup_fifo(void)
{
	struct uvfs_sbx_task_params p = { .vfs = fx.vfs, .mntns = fx.ns, .root = &fx.root, .umask = 022 };
	cr_assert_eq(uvfs_sbx_task_new(&p, &task), 0);
	cr_assert_eq(uvfs_sbx_mknodat(task, AT_FDCWD, "/p", S_IFIFO | 0644, 0), 0);
	rfd = (int)uvfs_sbx_openat(task, AT_FDCWD, "/p", O_RDONLY | O_NONBLOCK, 0);
	wfd = (int)uvfs_sbx_openat(task, AT_FDCWD, "/p", O_WRONLY, 0);
	cr_assert(rfd >= 0 && wfd >= 0, "%d %d", rfd, wfd);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void *writer(void *a)
{
	(void)a;
	usleep(150 * 1000);
	uvfs_sbx_write(task, wfd, "x", 1);
	return NULL;
}

static void *interrupter(void *a)
{
	(void)a;
	usleep(150 * 1000);
	uvfs_sbx_task_interrupt(task);
	return NULL;
}

/* runs fn's wait with a helper thread; returns its result and elapsed ms */
static long with_thread(void *(*helper)(void *), long (*wait)(void), long *ms)
{
	pthread_t th;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&th, NULL, helper, NULL);
	long r = wait();
	*ms = ms_since(&t0);
	pthread_join(th, NULL);
	return r;
}

static struct pollfd pfd;
static long poll_forever(void)
{
	pfd = (struct pollfd){ .fd = rfd, .events = POLLIN };
	return uvfs_sbx_poll(task, &pfd, 1, -1);
}
static long ppoll_forever(void)
{
	pfd = (struct pollfd){ .fd = rfd, .events = POLLIN };
	return uvfs_sbx_ppoll(task, &pfd, 1, NULL);
}
static fd_set rs;
static long select_5s(void)
{
	FD_ZERO(&rs);
	FD_SET(rfd, &rs);
	return uvfs_sbx_pselect6(task, rfd + 1, &rs, NULL, NULL, &(struct timespec){ 5, 0 });
}

FX_TEST(sbx_poll, writer_wakes_poll)
{
	setup_fifo();
	long ms, r = with_thread(writer, poll_forever, &ms);
	cr_expect_eq(r, 1);
	cr_expect_eq(pfd.revents, POLLIN);
	cr_expect(ms >= 100, "woke after %ld ms, before the write", ms);
	uvfs_sbx_task_put(task);
}

FX_TEST(sbx_poll, writer_wakes_ppoll_and_select)
{
	setup_fifo();
	long ms, r = with_thread(writer, ppoll_forever, &ms);
	cr_expect_eq(r, 1);
	cr_expect(ms >= 100 && ms < 2000, "%ld ms", ms);
	char b[4];
	cr_assert_eq(uvfs_sbx_read(task, rfd, b, sizeof(b)), 1);
	r = with_thread(writer, select_5s, &ms);
	cr_expect_eq(r, 1);
	cr_expect(FD_ISSET(rfd, &rs));
	cr_expect(ms >= 100 && ms < 2000, "%ld ms", ms);
	uvfs_sbx_task_put(task);
}

FX_TEST(sbx_poll, timeouts)
{
	setup_fifo();
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd = (struct pollfd){ .fd = rfd, .events = POLLIN };
	cr_expect_eq(uvfs_sbx_poll(task, &pfd, 1, 120), 0);
	long ms = ms_since(&t0);
	cr_expect(ms >= 120 && ms < 2000, "poll(120) took %ld ms", ms);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_expect_eq(uvfs_sbx_ppoll(task, &pfd, 1, &(struct timespec){ 0, 90 * 1000000L }), 0);
	ms = ms_since(&t0);
	cr_expect(ms >= 90 && ms < 2000, "ppoll(90 ms) took %ld ms", ms);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	FD_ZERO(&rs);
	FD_SET(rfd, &rs);
	cr_expect_eq(uvfs_sbx_pselect6(task, rfd + 1, &rs, NULL, NULL, &(struct timespec){ 0, 60 * 1000000L }), 0);
	ms = ms_since(&t0);
	cr_expect(ms >= 60 && ms < 2000, "pselect6(60 ms) took %ld ms", ms);
	cr_expect(!FD_ISSET(rfd, &rs));
	/* writable at once; a closed fd in a set is EBADF */
	fd_set ws;
	FD_ZERO(&ws);
	FD_SET(wfd, &ws);
	cr_expect_eq(uvfs_sbx_pselect6(task, wfd + 1, NULL, &ws, NULL, NULL), 1);
	FD_SET(40, &ws);
	cr_expect_eq(uvfs_sbx_pselect6(task, 41, NULL, &ws, NULL, NULL), -EBADF);
	uvfs_sbx_task_put(task);
}

FX_TEST(sbx_poll, interrupt_is_eintr)
{
	setup_fifo();
	long ms, r = with_thread(interrupter, poll_forever, &ms);
	cr_expect_eq(r, -EINTR);
	cr_expect(ms >= 100 && ms < 2000, "%ld ms", ms);
	/* still interrupted until cleared: a wait returns -EINTR at once */
	pfd = (struct pollfd){ .fd = rfd, .events = POLLIN };
	cr_expect_eq(uvfs_sbx_poll(task, &pfd, 1, 1000), -EINTR);
	uvfs_sbx_task_interrupt_clear(task);
	cr_expect_eq(uvfs_sbx_poll(task, &pfd, 1, 30), 0);
	r = with_thread(interrupter, select_5s, &ms);
	cr_expect_eq(r, -EINTR);
	uvfs_sbx_task_put(task);
}
