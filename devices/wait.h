/* devices/wait.h — interruptible condition waits for the blocking device
 * ops (FIFOs here, pty pairs in fsimpl/devpts). */
#pragma once

#include <pthread.h>
#include <time.h>

#define DEV_WAIT_HIDDEN __attribute__((visibility("hidden")))

/* How often a sleeper whose caller context has only the interrupted()
 * callback re-checks it: the latency of such an interrupt (a context with
 * an intr is woken at once by uvfs_ctx_interrupt). */
#define UVFS_DEV_INTR_POLL_NS 5000000L /* 5 ms */

/* mu held: sleep on cv until a broadcast, the CLOCK_REALTIME deadline
 * (NULL: none) or an interrupt of the caller's context (uvfs_ctx_interrupted).
 * Returns 0 (woken, maybe spuriously: re-check the condition),
 * -ETIMEDOUT or -EINTR. Checks the interrupt before sleeping too.
 * Callers without an interruptible context sleep plainly. */
DEV_WAIT_HIDDEN int uvfs_dev_cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu, const struct timespec *deadline);
