/* tests/devices/intr.h — runs one blocking call on a thread whose caller
 * context (uvfs_ctx) can be interrupted, as an embedder's task with a
 * pending signal: shared by test_fifo.c and test_devpts.c. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "vfs/uvfs.h"

struct intr_op {
	long (*fn)(struct intr_op *op); /* the blocking call, run under the context */
	void *arg;
	atomic_int flag; /* the task's "signal pending" */
	atomic_int done;
	long rc;
	pthread_t t;
};

static int intr_pending(void *task) { return atomic_load(&((struct intr_op *)task)->flag); }

static void *intr_thread(void *a)
{
	struct intr_op *op = a;
	struct uvfs_ctx c = { .task = op, .interrupted = intr_pending };
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&c);
	op->rc = op->fn(op);
	uvfs_ctx_leave(prev);
	atomic_store(&op->done, 1);
	return NULL;
}

static void intr_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Starts op; false if it did not block for 100 ms. */
static bool intr_start(struct intr_op *op)
{
	atomic_store(&op->flag, 0);
	atomic_store(&op->done, 0);
	pthread_create(&op->t, NULL, intr_thread, op);
	intr_sleep_ms(100);
	return !atomic_load(&op->done);
}

/* Raises the interrupt; true if the call returned within 500 ms. The
 * caller must unblock it otherwise, then call intr_join. */
static bool intr_interrupt(struct intr_op *op)
{
	atomic_store(&op->flag, 1);
	for (int i = 0; i < 50 && !atomic_load(&op->done); i++)
		intr_sleep_ms(10);
	return atomic_load(&op->done);
}

static void intr_join(struct intr_op *op) { pthread_join(op->t, NULL); }
