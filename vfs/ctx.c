/* vfs/ctx.c — the calling thread's context (struct uvfs_ctx).
 *
 * A thread-local pointer: written only by the embedder's enter/leave on its
 * own thread, read only by filesystem ops on that thread, so it needs no
 * lock and the VFS's own paths (the RCU walk included) never touch it. */
#include "internal.h"

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
	return c && c->interrupted && c->interrupted(c->task) ? -EINTR : 0;
}
