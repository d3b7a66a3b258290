/* vfs/readdir.c — directory reading: "." and "..", iteration of a complete
 * directory's children list, and the caller-facing iterate/getdents64.
 *
 * Lock order: f_lock → dir d_lock → stripe locks (dentry puts). */
#include "internal.h"

#ifdef UVFS_DEBUG
/* Tests only: runs between loading ".."'s dentry and reading its inode, to
 * widen the window in which a concurrent rename + rmdir frees it. */
HIDDEN void (*uvfs_debug_dotdot_hook)(void);
#define DOTDOT_HOOK()                                 \
	do {                                          \
		if (uvfs_debug_dotdot_hook)           \
			uvfs_debug_dotdot_hook();     \
	} while (0)
#else
#define DOTDOT_HOOK() ((void)0)
#endif

UVFS_API int uvfs_dir_emit_dots(struct uvfs_file *f, struct uvfs_dir_ctx *ctx)
{
	struct uvfs_dentry *d = f->f_vd.dentry;
	if (ctx->pos == 0) {
		if (ctx->emit(ctx, ".", 1, d->d_inode->i_ino, DT_DIR, 1))
			return 1;
		ctx->pos = 1;
	}
	if (ctx->pos == 1) {
		/* ".." of a mount root is the mount root itself as far as this
		 * fs can tell; callers above the VFS see the same thing Linux
		 * shows for getdents on a mount root.
		 * A rename may move d and its old parent die meanwhile: we hold
		 * no reference on the parent, so read it under RCU. */
		rcu_enter();
		rcu_read_lock();
		struct uvfs_dentry *p = rcu_load(d->d_parent);
		DOTDOT_HOOK();
		uint64_t ino = rcu_load(p->d_inode)->i_ino;
		rcu_read_unlock();
		if (ctx->emit(ctx, "..", 2, ino, DT_DIR, 2))
			return 1;
		ctx->pos = 2;
	}
	return 0;
}

#define ITER_BATCH 32

struct iter_ent {
	uint64_t ino;
	uint64_t off;
	unsigned type;
	struct uvfs_dentry *d; /* reference held */
	uint32_t len;
	char name[UVFS_NAME_MAX + 1]; /* copied under d_lock: d_move changes a
				       * name only while the dentry is off the list */
};

static unsigned dtype_of(uint32_t mode) { return (mode >> 12) & 15; }

UVFS_API int uvfs_dcache_iterate(struct uvfs_file *f, struct uvfs_dentry *dir, struct uvfs_dir_ctx *ctx)
{
	if (uvfs_dir_emit_dots(f, ctx))
		return 0;
	struct iter_ent batch[ITER_BATCH];
	for (;;) {
		int n = 0;
		uvfs_lock_acquire(&dir->d_lock);
		struct list_head *l;
		struct uvfs_dentry *cur = f->f_dir_cursor;
		/* Resume after the cursor when it is still a child here and is
		 * exactly where we stopped; otherwise scan by offset. */
		if (cur && (atomic_load(&cur->d_flags) & DF_LINKED) && cur->d_parent == dir &&
		    cur->d_off + 1 == (uint64_t)ctx->pos)
			l = cur->d_child.next;
		else
			for (l = dir->d_subdirs.next; l != &dir->d_subdirs; l = l->next)
				if (container_of(l, struct uvfs_dentry, d_child)->d_off >= (uint64_t)ctx->pos)
					break;
		for (; l != &dir->d_subdirs && n < ITER_BATCH; l = l->next) {
			struct uvfs_dentry *c = container_of(l, struct uvfs_dentry, d_child);
			struct uvfs_inode *ci = c->d_inode;
			if (!ci || (atomic_load(&c->d_flags) & DF_DEAD))
				continue;
			uvfs_dentry_get(c);
			const struct uvfs_dname *nm = c->d_name;
			struct iter_ent *e = &batch[n++];
			e->ino = ci->i_ino;
			e->off = c->d_off;
			e->type = dtype_of(load_relaxed(ci->i_mode)); /* type bits never change */
			e->d = c;
			e->len = nm->len;
			memcpy(e->name, nm->name, nm->len + 1);
		}
		uvfs_lock_release(&dir->d_lock);
		if (n == 0)
			return 0;
		int i = 0, stopped = 0;
		for (; i < n; i++) {
			if (ctx->emit(ctx, batch[i].name, batch[i].len, batch[i].ino, batch[i].type,
				      (int64_t)batch[i].off + 1)) {
				stopped = 1;
				break;
			}
			ctx->pos = (int64_t)batch[i].off + 1;
		}
		struct uvfs_dentry *newcur = i > 0 ? batch[i - 1].d : NULL;
		if (newcur) {
			uvfs_dentry_get(newcur);
			struct uvfs_dentry *oldcur = f->f_dir_cursor;
			f->f_dir_cursor = newcur;
			if (oldcur)
				uvfs_dentry_put(oldcur);
		}
		for (int j = 0; j < n; j++)
			uvfs_dentry_put(batch[j].d);
		if (stopped)
			return 0;
	}
}

struct iter_adapter {
	struct uvfs_dir_ctx ctx;
	uvfs_dirent_cb cb;
	void *arg;
};

struct getdents_buf {
	char *buf;
	size_t len, used;
	bool full; /* a record did not fit: f_pos stays at it */
};

static int iter_emit(struct uvfs_dir_ctx *ctx, const char *name, size_t len, uint64_t ino, unsigned dtype,
		     int64_t next_off)
{
	struct iter_adapter *a = (struct iter_adapter *)ctx;
	return a->cb(a->arg, name, len, ino, dtype, next_off);
}

UVFS_API int uvfs_iterate_dir(struct uvfs_file *f, uvfs_dirent_cb cb, void *arg)
{
	rcu_enter();
	if ((f->f_flags & O_PATH))
		return -EBADF;
	if (!f->f_op->iterate || !S_ISDIR(load_relaxed(f->f_inode->i_mode)))
		return -ENOTDIR;
	uvfs_lock_acquire(&f->f_lock);
	struct iter_adapter a = { .ctx = { .emit = iter_emit, .pos = (int64_t)f->f_pos }, .cb = cb, .arg = arg };
	int err = f->f_op->iterate(f, &a.ctx);
	f->f_pos = (uint64_t)a.ctx.pos;
	uvfs_lock_release(&f->f_lock);
	return err;
}

static int getdents_cb(void *arg, const char *name, size_t namelen, uint64_t ino, unsigned dtype, int64_t next_off)
{
	struct getdents_buf *g = arg;
	size_t reclen = (offsetof(struct dirent64, d_name) + namelen + 1 + 7) & ~(size_t)7;
	if (g->used + reclen > g->len) {
		g->full = true;
		return 1;
	}
	struct dirent64 *de = (struct dirent64 *)(g->buf + g->used);
	de->d_ino = ino;
	de->d_off = next_off;
	de->d_reclen = (unsigned short)reclen;
	de->d_type = (unsigned char)dtype;
	memcpy(de->d_name, name, namelen);
	memset(de->d_name + namelen, 0, reclen - offsetof(struct dirent64, d_name) - namelen);
	g->used += reclen;
	return 0;
}

UVFS_API ssize_t uvfs_getdents64(struct uvfs_file *f, void *buf, size_t len)
{
	/* One pass: the iteration stops at the first record that does not
	 * fit and leaves f_pos on it; nothing emitted because of that is
	 * EINVAL, nothing emitted at the end is 0. */
	struct getdents_buf g = { .buf = buf, .len = len };
	int err = uvfs_iterate_dir(f, getdents_cb, &g);
	if (err)
		return err;
	if (g.used == 0 && g.full)
		return -EINVAL;
	return (ssize_t)g.used;
}
