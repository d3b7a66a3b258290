/* stress_intr_wake.c — uvfs_ctx_interrupt against sleepers under
 * ThreadSanitizer (vfs/ctx.c, devices/wait.c).
 *
 * Each of TASKS sleeper threads loops: it allocates a fresh mutex and
 * condvar, sleeps on them in uvfs_dev_cond_wait with a short deadline,
 * then destroys and frees them at once, so an interrupter that still used
 * a finished sleep's condvar would touch freed memory (TSan/ASan report
 * it; the wait_end pin drain must prevent it). An interrupter thread per
 * task interrupts it at random moments; the sleeper clears each interrupt
 * it sees. Every sleep must end in 0, -ETIMEDOUT or -EINTR, and the last
 * interrupt of the run must wake a sleep with no deadline. A watchdog
 * fails the run after 120 s (a lost wake-up would hang). Prints one line.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "devices/wait.h"
#include "uvfs.h"

#define TASKS 3
#define ROUNDS 4000

struct task {
	struct uvfs_intr intr;
	struct uvfs_ctx ctx;
	atomic_int stop;
	atomic_int final_asleep;
	long eintr, timeouts, bad;
};

static void *sleeper(void *a)
{
	struct task *t = a;
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&t->ctx);
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_t *mu = malloc(sizeof(*mu));
		pthread_cond_t *cv = malloc(sizeof(*cv));
		pthread_mutex_init(mu, NULL);
		pthread_cond_init(cv, NULL);
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_nsec += 50000 + (i % 7) * 20000;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(mu);
		int rc = uvfs_dev_cond_wait(cv, mu, &dl);
		pthread_mutex_unlock(mu);
		pthread_cond_destroy(cv);
		pthread_mutex_destroy(mu);
		free(cv);
		free(mu);
		if (rc == -EINTR) {
			t->eintr++;
			uvfs_ctx_interrupt_clear(&t->ctx);
		} else if (rc == -ETIMEDOUT) {
			t->timeouts++;
		} else if (rc) {
			t->bad++;
		}
	}
	atomic_store(&t->stop, 1);
	/* Final sleep, no deadline: only the interrupter can end it. */
	uvfs_ctx_interrupt_clear(&t->ctx);
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	pthread_mutex_lock(&mu);
	atomic_store(&t->final_asleep, 1);
	int rc;
	while (!(rc = uvfs_dev_cond_wait(&cv, &mu, NULL)))
		;
	pthread_mutex_unlock(&mu);
	if (rc != -EINTR)
		t->bad++;
	uvfs_ctx_leave(prev);
	return NULL;
}

static void *interrupter(void *a)
{
	struct task *t = a;
	unsigned seed = (unsigned)(uintptr_t)a;
	while (!atomic_load(&t->stop)) {
		uvfs_ctx_interrupt(&t->ctx);
		struct timespec ts = { 0, (long)(rand_r(&seed) % 200) * 1000L };
		nanosleep(&ts, NULL);
	}
	while (!atomic_load(&t->final_asleep))
		sched_yield();
	uvfs_ctx_interrupt(&t->ctx);
	return NULL;
}

static void *watchdog(void *a)
{
	(void)a;
	sleep(120);
	fprintf(stderr, "stress_intr_wake: watchdog: a sleeper hung (lost wake-up)\n");
	_exit(2);
}

int main(void)
{
	static struct task tasks[TASKS];
	pthread_t s[TASKS], in[TASKS], wd;
	pthread_create(&wd, NULL, watchdog, NULL);
	pthread_detach(wd);
	for (int i = 0; i < TASKS; i++) {
		uvfs_intr_init(&tasks[i].intr);
		tasks[i].ctx.intr = &tasks[i].intr;
		pthread_create(&s[i], NULL, sleeper, &tasks[i]);
		pthread_create(&in[i], NULL, interrupter, &tasks[i]);
	}
	long eintr = 0, to = 0, bad = 0;
	for (int i = 0; i < TASKS; i++) {
		pthread_join(s[i], NULL);
		pthread_join(in[i], NULL);
		eintr += tasks[i].eintr;
		to += tasks[i].timeouts;
		bad += tasks[i].bad;
	}
	printf("stress_intr_wake: %d sleeps, %ld EINTR, %ld timeouts, %ld bad\n", TASKS * ROUNDS, eintr, to, bad);
	return bad || !eintr ? 1 : 0;
}
