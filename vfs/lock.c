/* vfs/lock.c — the 4-byte futex mutex used for per-object locks (i_lock,
 * d_lock, f_lock). Three states (Drepper, "Futexes are tricky"): 0 free,
 * 1 locked, 2 locked with possible waiters. Annotated for ThreadSanitizer,
 * which cannot see through raw futexes. */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#if defined(__SANITIZE_THREAD__)
#define UVFS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UVFS_TSAN 1
#endif
#endif

#ifdef UVFS_TSAN
#include <sanitizer/tsan_interface.h>
#define TSAN(x) x
#else
#define TSAN(x) \
	do {    \
	} while (0)
#endif

static void futex_wait(_Atomic uint32_t *p, uint32_t v)
{
	syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *p)
{
	syscall(SYS_futex, p, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

UVFS_API void uvfs_lock_acquire(struct uvfs_lock *l)
{
	TSAN(__tsan_mutex_pre_lock(l, 0));
	uint32_t c = 0;
	if (!atomic_compare_exchange_strong_explicit(&l->v, &c, 1, memory_order_acquire, memory_order_relaxed)) {
		if (c != 2)
			c = atomic_exchange_explicit(&l->v, 2, memory_order_acquire);
		while (c != 0) {
			futex_wait(&l->v, 2);
			c = atomic_exchange_explicit(&l->v, 2, memory_order_acquire);
		}
	}
	TSAN(__tsan_mutex_post_lock(l, 0, 0));
}

UVFS_API bool uvfs_lock_try(struct uvfs_lock *l)
{
	TSAN(__tsan_mutex_pre_lock(l, __tsan_mutex_try_lock));
	uint32_t c = 0;
	bool ok = atomic_compare_exchange_strong_explicit(&l->v, &c, 1, memory_order_acquire, memory_order_relaxed);
	TSAN(__tsan_mutex_post_lock(l, ok ? __tsan_mutex_try_lock : __tsan_mutex_try_lock_failed, 0));
	return ok;
}

UVFS_API void uvfs_lock_release(struct uvfs_lock *l)
{
	TSAN(__tsan_mutex_pre_unlock(l, 0));
	if (atomic_fetch_sub_explicit(&l->v, 1, memory_order_release) != 1) {
		atomic_store_explicit(&l->v, 0, memory_order_release);
		futex_wake(&l->v);
	}
	TSAN(__tsan_mutex_post_unlock(l, 0));
}
