/* vfs/dcache.c — the VFS-owned dentry cache.
 *
 * One hash table per instance keyed by (parent pointer, name), hashed with
 * XXH3 (seeded with the parent pointer). Buckets are singly linked chains
 * published with release stores; readers walk them under rcu_read_lock
 * with no lock, no write and no reference. Writers take the stripe lock of
 * the bucket (hash & (DCACHE_STRIPES-1): the same stripe in every table,
 * since a table never has fewer buckets than stripes).
 *
 * Growing never stops the world. Each dentry has two chain links and
 * successive tables use them alternately, so the resizer builds the new
 * table's chains (one stripe at a time, under that stripe's lock only)
 * without touching the chains readers of the old table follow. From the
 * moment a stripe is built until the old table is retired, writers update
 * both tables for that stripe (struct dcache_stripe's tabs). The new table
 * is published when every stripe is built; after a grace period nobody
 * reads the old one, writers drop it stripe by stripe, and it is freed.
 * Every table a reader can load is therefore complete: a resize needs no
 * read-side validation and holds at most one stripe lock.
 *
 * A rename moves a dentry to another chain (new parent/name, new hash),
 * which can make a reader standing on it skip the rest of its old chain,
 * so d_move runs inside a write section of vfs->rename_seq and readers
 * validate misses (and whole RCU walks) against it.
 *
 * Lock order: vfs->rename_seq_lock → parent's d_lock (children lists) →
 * one stripe lock. The resizer: dcache_resize_lock (trylock) → one stripe
 * lock at a time; it may run under a directory's i_lock (from an insert).
 * A dentry's own d_lock → its fs's lru_lock (the LRU side takes d_lock
 * only with trylock).
 *
 * Lifetime (lockref style): d_ref counts references; 0 means "parked":
 * still hashed, on its fs's LRU, revivable by d_tryget; DREF_DEAD means
 * "being freed" and only whoever moved it there (under d_lock) frees it.
 * The 1 → 0 step is taken under d_lock so that a concurrent reviver's own
 * last put cannot free d under our feet.
 */
#include "internal.h"

#define DCACHE_INITIAL_ORDER 12

/* Renames are the only writers of rename_seq. They are serialised by
 * vfs->rename_seq_lock, taken only around the write sections. */
HIDDEN void rename_seq_begin(struct uvfs *vfs)
{
	pthread_mutex_lock(&vfs->rename_seq_lock);
	uvfs_seq_write_begin(&vfs->rename_seq);
}
HIDDEN void rename_seq_end(struct uvfs *vfs)
{
	uvfs_seq_write_end(&vfs->rename_seq);
	pthread_mutex_unlock(&vfs->rename_seq_lock);
}

static struct dcache_table *table_alloc(unsigned order, unsigned link)
{
	uint64_t n = 1ULL << order;
	struct dcache_table *t = calloc(1, sizeof(*t) + n * sizeof(t->buckets[0]));
	if (t) {
		t->mask = n - 1;
		t->link = link;
	}
	return t;
}

HIDDEN int dcache_init(struct uvfs *vfs)
{
	_Static_assert((1u << DCACHE_INITIAL_ORDER) >= DCACHE_STRIPES, "a table has at least one bucket per stripe");
	struct dcache_table *t = table_alloc(DCACHE_INITIAL_ORDER, 0);
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&vfs->rename_seq_lock, NULL);
	for (int i = 0; i < DCACHE_STRIPES; i++)
		vfs->dcache_stripes[i].tabs[0] = t;
	vfs->dcache = t;
	atomic_store(&vfs->dcache_size, t->mask + 1);
	return 0;
}

/* No other thread may use vfs any more (no resize can be under way). */
HIDDEN void dcache_fini(struct uvfs *vfs)
{
	free(vfs->dcache);
	vfs->dcache = NULL;
	pthread_mutex_destroy(&vfs->rename_seq_lock);
}

/* ------------------------------------------------------------ alloc/free */

static void dname_free_rcu(struct rcu_head *h)
{
	RCU_CALLBACK_ENTER();
	free(h);
	RCU_CALLBACK_EXIT();
}

/* External name storage, freed with call_rcu after a rename. The rcu_head
 * lives in front of the name so the free needs no other bookkeeping. */
struct dname_ext {
	struct rcu_head rcu;
	struct uvfs_dname n;
};

static const struct uvfs_dname *dname_ext_alloc(const char *name, size_t len)
{
	struct dname_ext *e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	e->n.len = (uint32_t)len;
	memcpy(e->n.name, name, len);
	e->n.name[len] = 0;
	return &e->n;
}

static void dname_put(struct uvfs_dentry *d, const struct uvfs_dname *n, bool deferred)
{
	if (n == (const struct uvfs_dname *)&d->d_iname)
		return;
	struct dname_ext *e = container_of((struct uvfs_dname *)n, struct dname_ext, n);
	if (deferred)
		call_rcu(&e->rcu, dname_free_rcu);
	else
		free(e);
}

static void d_free_rcu(struct rcu_head *h)
{
	RCU_CALLBACK_ENTER();
	struct uvfs_dentry *d = container_of(h, struct uvfs_dentry, d_rcu);
	/* After the grace period: an RCU-walk revalidate may still have been
	 * reading d_fsdata until then. */
	if (d->d_op && d->d_op->release)
		d->d_op->release(d);
	dname_put(d, d->d_name, false);
	free(d);
	RCU_CALLBACK_EXIT();
}

HIDDEN int d_alloc(struct uvfs_dentry *parent, const char *name, size_t len, struct uvfs_dentry **out)
{
	struct uvfs_dentry *d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	memset(d, 0, sizeof(*d));
	if (len < DNAME_INLINE_LEN) {
		d->d_iname.len = (uint32_t)len;
		memcpy(d->d_iname.name, name, len);
		d->d_iname.name[len] = 0;
		d->d_name = (const struct uvfs_dname *)&d->d_iname;
	} else {
		d->d_name = dname_ext_alloc(name, len);
		if (!d->d_name) {
			free(d);
			return -ENOMEM;
		}
	}
	atomic_init(&d->d_ref, 1);
	list_init(&d->d_child);
	list_init(&d->d_subdirs);
	d->d_next_off = 2;
	uvfs_dentry_get(parent);
	d->d_parent = parent;
	d->d_fs = parent->d_fs;
	d->d_hash = d_hash_name(parent, name, len);
	list_init(&d->d_lru);
	uvfs_d_set_op(d, d->d_fs->d_op);
	LIVE_INC(d->d_fs->vfs, dentries);
	*out = d;
	return 0;
}

UVFS_API int uvfs_d_make_root(struct uvfs_filesystem *fs, struct uvfs_inode *inode, struct uvfs_dentry **out)
{
	struct uvfs_dentry *d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	memset(d, 0, sizeof(*d));
	d->d_name = (const struct uvfs_dname *)&d->d_iname;
	atomic_init(&d->d_ref, 1);
	list_init(&d->d_child);
	list_init(&d->d_subdirs);
	d->d_next_off = 2;
	d->d_parent = d;
	d->d_fs = fs;
	d->d_inode = inode;
	d->d_flags = DF_ROOT;
	list_init(&d->d_lru);
	d->d_op = fs->d_op; /* roots are never revalidated: no DF_REVAL */
	LIVE_INC(fs->vfs, dentries);
	*out = d;
	return 0;
}

/* Succeeds on a parked (zero-reference) dentry, never on one being freed. */
HIDDEN bool d_tryget(struct uvfs_dentry *d)
{
	long v = atomic_load_explicit(&d->d_ref, memory_order_relaxed);
	do {
		if (v < 0)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&d->d_ref, &v, v + 1, memory_order_acquire,
							memory_order_relaxed));
	return true;
}

UVFS_API void uvfs_dentry_get(struct uvfs_dentry *d) { atomic_fetch_add_explicit(&d->d_ref, 1, memory_order_relaxed); }

static void d_unlink_child(struct uvfs_dentry *d)
{
	struct uvfs_dentry *p = d->d_parent;
	if (p == d)
		return;
	uvfs_lock_acquire(&p->d_lock);
	if (atomic_load(&d->d_flags) & DF_LINKED) {
		list_del_init(&d->d_child);
		atomic_fetch_and(&d->d_flags, ~DF_LINKED);
	}
	uvfs_lock_release(&p->d_lock);
}

/* Free d, which the caller moved to DREF_DEAD (nobody else can reach it
 * through a reference). Returns its parent, whose reference the caller
 * must drop, or NULL for a root. */
static struct uvfs_dentry *d_kill(struct uvfs_dentry *d)
{
	struct uvfs_filesystem *fs = d->d_fs;
	struct uvfs *vfs = fs->vfs;
	atomic_fetch_or(&d->d_flags, DF_DEAD);
	/* Nobody can park a dead dentry, so DF_LRU can only be cleared now. */
	if (atomic_load(&d->d_flags) & DF_LRU) {
		uvfs_lock_acquire(&fs->lru_lock);
		if (atomic_fetch_and(&d->d_flags, ~DF_LRU) & DF_LRU) {
			list_del_init(&d->d_lru);
			fs->lru_count--;
		}
		uvfs_lock_release(&fs->lru_lock);
	}
	if (atomic_load(&d->d_flags) & DF_HASHED)
		d_hash_remove(vfs, d);
	struct uvfs_dentry *parent = d->d_parent;
	if (atomic_load(&d->d_flags) & DF_LINKED)
		d_unlink_child(d);
	struct uvfs_inode *inode = d->d_inode;
	if (inode)
		uvfs_inode_put(inode);
	LIVE_DEC(vfs, dentries);
	call_rcu(&d->d_rcu, d_free_rcu);
	return parent == d ? NULL : parent;
}

/* Worth keeping unreferenced: still reachable by lookup (hashed, not
 * dead, parent not dead) on a filesystem with an LRU. */
static bool d_retain(struct uvfs_dentry *d)
{
	uint32_t f = atomic_load(&d->d_flags);
	if ((f & (DF_DEAD | DF_ROOT)) || !(f & DF_HASHED) || !d->d_fs->lru_max)
		return false;
	/* A reviver may rename d meanwhile: its old parent is RCU-freed. */
	rcu_enter();
	rcu_read_lock();
	bool parent_dead = atomic_load(&rcu_load(d->d_parent)->d_flags) & DF_DEAD;
	rcu_read_unlock();
	return !parent_dead;
}

/* Shrinks run on the putting thread; a shrink's own puts (parents of the
 * freed) must not start another one below it: the outer loop goes on. */
static _Thread_local bool in_shrink;

UVFS_API long uvfs_fs_shrink(struct uvfs_filesystem *fs, long keep)
{
	if (in_shrink)
		return -1;
	in_shrink = true;
	if (keep < 0)
		keep = 0;
	for (;;) {
		struct list_head victims;
		list_init(&victims);
		uvfs_lock_acquire(&fs->lru_lock);
		long skips = 0;
		while (fs->lru_count > keep && skips <= fs->lru_count) {
			struct uvfs_dentry *d = container_of(fs->lru.next, struct uvfs_dentry, d_lru);
			list_del_init(&d->d_lru);
			/* Lock order is d_lock → lru_lock: only try. Busy: retry later. */
			if (!uvfs_lock_try(&d->d_lock)) {
				list_add_tail(&d->d_lru, &fs->lru);
				skips++;
				continue;
			}
			atomic_fetch_and(&d->d_flags, ~DF_LRU);
			fs->lru_count--;
			/* Revived dentries just leave the LRU (lazy LRU): their
			 * last put parks them again. */
			long zero = 0;
			if (atomic_compare_exchange_strong(&d->d_ref, &zero, DREF_DEAD))
				list_add_tail(&d->d_lru, &victims);
			uvfs_lock_release(&d->d_lock);
		}
		uvfs_lock_release(&fs->lru_lock);
		if (list_empty(&victims))
			break;
		while (!list_empty(&victims)) {
			struct uvfs_dentry *d = container_of(victims.next, struct uvfs_dentry, d_lru);
			list_del_init(&d->d_lru);
			uvfs_dentry_put(d_kill(d)); /* may park the parent */
		}
	}
	uvfs_lock_acquire(&fs->lru_lock);
	long left = fs->lru_count;
	uvfs_lock_release(&fs->lru_lock);
	in_shrink = false;
	return left;
}

/* d_ref just went 1 → 0 under d_lock (held; released here). Park d on its
 * fs's LRU, or claim it (0 → DREF_DEAD) and free it. A lookup may revive d
 * meanwhile (d_tryget from 0): then the claim fails and the reviver's last
 * put decides. Returns the parent to put, or NULL. */
static struct uvfs_dentry *d_put_last(struct uvfs_dentry *d)
{
	struct uvfs_filesystem *fs = d->d_fs;
	if (d_retain(d)) {
		uvfs_lock_acquire(&fs->lru_lock);
		if (atomic_load(&d->d_flags) & DF_LRU) {
			list_del_init(&d->d_lru); /* used again: move to the young end */
		} else {
			atomic_fetch_or(&d->d_flags, DF_LRU);
			fs->lru_count++;
		}
		list_add_tail(&d->d_lru, &fs->lru);
		bool over = (unsigned long)fs->lru_count > fs->lru_max;
		uvfs_lock_release(&fs->lru_lock);
		uvfs_lock_release(&d->d_lock);
		if (over)
			uvfs_fs_shrink(fs, (long)fs->lru_max);
		return NULL;
	}
	long zero = 0;
	bool mine = atomic_compare_exchange_strong(&d->d_ref, &zero, DREF_DEAD);
	uvfs_lock_release(&d->d_lock);
	return mine ? d_kill(d) : NULL;
}

UVFS_API void uvfs_dentry_put(struct uvfs_dentry *d)
{
	while (d) {
		long v = atomic_load_explicit(&d->d_ref, memory_order_relaxed);
		while (v > 1)
			if (atomic_compare_exchange_weak_explicit(&d->d_ref, &v, v - 1, memory_order_acq_rel,
								  memory_order_relaxed))
				return;
		/* Possibly the last reference: step to 0 under d_lock. */
		uvfs_lock_acquire(&d->d_lock);
		if (atomic_fetch_sub_explicit(&d->d_ref, 1, memory_order_acq_rel) != 1) {
			uvfs_lock_release(&d->d_lock); /* revived meanwhile: not the last */
			return;
		}
		d = d_put_last(d);
	}
}

/* ---------------------------------------------------------- fs LRU */

HIDDEN void d_lru_init(struct uvfs_filesystem *fs)
{
	fs->d_op = NULL;
	fs->lru_max = UVFS_DENTRY_CACHE_LIMIT;
	fs->lru_lock = (struct uvfs_lock)UVFS_LOCK_INIT;
	fs->lru_count = 0;
	list_init(&fs->lru);
}

/* ------------------------------------------------------------ hash table */

static inline struct dcache_stripe *stripe_of(struct uvfs *vfs, uint64_t hash)
{
	return &vfs->dcache_stripes[hash & (DCACHE_STRIPES - 1)];
}

HIDDEN struct uvfs_dentry *d_lookup_rcu(struct uvfs *vfs, const struct uvfs_dentry *parent, const char *name,
					size_t len, uint64_t hash)
{
	const struct dcache_table *t = rcu_load(vfs->dcache);
	for (struct uvfs_dentry *d = dcache_first(t, hash); d; d = dcache_next(t, d)) {
		if (load_relaxed(d->d_hash) != hash || rcu_load(d->d_parent) != parent)
			continue;
		const struct uvfs_dname *n = rcu_load(d->d_name);
		if (n->len != len || memcmp(n->name, name, len))
			continue;
		if (atomic_load_explicit(&d->d_flags, memory_order_relaxed) & DF_DEAD)
			continue;
		return d;
	}
	return NULL;
}

HIDDEN struct uvfs_dentry *d_lookup(struct uvfs *vfs, struct uvfs_dentry *parent, const char *name, size_t len)
{
	uint64_t hash = d_hash_name(parent, name, len);
	for (;;) {
		uint32_t seq = uvfs_seq_read_begin(&vfs->rename_seq);
		rcu_read_lock();
		struct uvfs_dentry *d = d_lookup_rcu(vfs, parent, name, len, hash);
		if (d && !d_tryget(d))
			d = NULL;
		rcu_read_unlock();
		if (d || !uvfs_seq_read_retry(&vfs->rename_seq, seq))
			return d;
	}
}

/* Chain edits; the caller holds the stripe lock of d's bucket. Readers may
 * be anywhere on the chain: a new node's link is set before the node is
 * published, and an unlinked node keeps its link so readers on it go on. */
static void chain_push(struct dcache_table *t, struct uvfs_dentry *d)
{
	struct uvfs_dentry **b = &t->buckets[d->d_hash & t->mask];
	rcu_store(d->d_hash_next[t->link], load_relaxed(*b));
	rcu_store(*b, d);
}

static void chain_unlink(struct dcache_table *t, struct uvfs_dentry *d)
{
	struct uvfs_dentry **pp = &t->buckets[d->d_hash & t->mask];
	struct uvfs_dentry *c;
	while ((c = load_relaxed(*pp)) && c != d)
		pp = &c->d_hash_next[t->link];
	if (c)
		rcu_store(*pp, load_relaxed(d->d_hash_next[t->link]));
}

/* Grow the table to about two buckets per entry while everything else goes
 * on (see the top of the file). Returns at once if another resize runs. */
static void dcache_resize(struct uvfs *vfs)
{
	if (pthread_mutex_trylock(&vfs->dcache_resize_lock))
		return;
	struct dcache_table *old = vfs->dcache; /* only the resize lock holder replaces it */
	long count = atomic_load(&vfs->dcache_count);
	if ((uint64_t)count <= old->mask + 1) {
		pthread_mutex_unlock(&vfs->dcache_resize_lock);
		return;
	}
	unsigned order = 0;
	while ((1ULL << order) < (uint64_t)count * 2)
		order++;
	struct dcache_table *nt = table_alloc(order, !old->link);
	if (!nt) { /* keep the old table: chains just get longer */
		pthread_mutex_unlock(&vfs->dcache_resize_lock);
		return;
	}
	/* Build: the old buckets of stripe s are s, s + STRIPES, ... Nothing
	 * reads nt's chains yet; nt's link of these dentries belongs to the
	 * table before old, retired after a grace period: nobody reads it. */
	for (int s = 0; s < DCACHE_STRIPES; s++) {
		struct dcache_stripe *st = &vfs->dcache_stripes[s];
		uvfs_lock_acquire(&st->lock);
		for (uint64_t b = (uint64_t)s; b <= old->mask; b += DCACHE_STRIPES)
			for (struct uvfs_dentry *d = old->buckets[b]; d; d = d->d_hash_next[old->link])
				chain_push(nt, d);
		st->tabs[1] = nt;
		uvfs_lock_release(&st->lock);
	}
	/* Publish: nt is complete and kept so by every writer. */
	rcu_store(vfs->dcache, nt);
	atomic_store(&vfs->dcache_size, nt->mask + 1);
	/* Readers that loaded old are gone after this; then writers stop
	 * keeping it, and its link becomes free for the next resize. */
	synchronize_rcu();
	for (int s = 0; s < DCACHE_STRIPES; s++) {
		struct dcache_stripe *st = &vfs->dcache_stripes[s];
		uvfs_lock_acquire(&st->lock);
		st->tabs[0] = nt;
		st->tabs[1] = NULL;
		uvfs_lock_release(&st->lock);
	}
	pthread_mutex_unlock(&vfs->dcache_resize_lock);
	free(old);
}

static void d_hash_insert_noresize(struct uvfs *vfs, struct uvfs_dentry *d)
{
	struct dcache_stripe *st = stripe_of(vfs, d->d_hash);
	uvfs_lock_acquire(&st->lock);
	for (int i = 0; i < 2; i++)
		if (st->tabs[i])
			chain_push(st->tabs[i], d);
	atomic_fetch_or(&d->d_flags, DF_HASHED);
	uvfs_lock_release(&st->lock);
	atomic_fetch_add_explicit(&vfs->dcache_count, 1, memory_order_relaxed);
}

HIDDEN void d_hash_insert(struct uvfs *vfs, struct uvfs_dentry *d)
{
	d_hash_insert_noresize(vfs, d);
	long n = atomic_load_explicit(&vfs->dcache_count, memory_order_relaxed);
	/* Never resize from inside a read section (synchronize_rcu would wait
	 * for ourselves). */
	if (unlikely((uint64_t)n > atomic_load_explicit(&vfs->dcache_size, memory_order_relaxed)) &&
	    !urcu_memb_read_ongoing())
		dcache_resize(vfs);
}

HIDDEN void d_hash_remove(struct uvfs *vfs, struct uvfs_dentry *d)
{
	struct dcache_stripe *st = stripe_of(vfs, d->d_hash);
	uvfs_lock_acquire(&st->lock);
	if (atomic_load(&d->d_flags) & DF_HASHED) {
		for (int i = 0; i < 2; i++)
			if (st->tabs[i])
				chain_unlink(st->tabs[i], d);
		atomic_fetch_and(&d->d_flags, ~DF_HASHED);
		atomic_fetch_sub_explicit(&vfs->dcache_count, 1, memory_order_relaxed);
	}
	uvfs_lock_release(&st->lock);
}

/* ------------------------------------------------------ children lists */

HIDDEN void d_link_child(struct uvfs_dentry *d)
{
	struct uvfs_dentry *p = d->d_parent;
	uvfs_lock_acquire(&p->d_lock);
	d->d_off = p->d_next_off++;
	list_add_tail(&d->d_child, &p->d_subdirs);
	atomic_fetch_or(&d->d_flags, DF_LINKED);
	uvfs_lock_release(&p->d_lock);
}

/* Pin d (one self reference), hash it and link it under its parent. */
static void d_pin(struct uvfs_dentry *d)
{
	uvfs_dentry_get(d);
	atomic_fetch_or(&d->d_flags, DF_PINNED);
	if (!(atomic_load(&d->d_flags) & DF_HASHED))
		d_hash_insert(d->d_fs->vfs, d);
	if (!(atomic_load(&d->d_flags) & DF_LINKED))
		d_link_child(d);
}

UVFS_API void uvfs_d_instantiate(struct uvfs_dentry *d, struct uvfs_inode *inode)
{
	rcu_store(d->d_inode, inode);
	struct uvfs_dentry *p = d->d_parent;
	if (p != d && (load_relaxed(p->d_inode->i_flags) & UVFS_I_COMPLETE))
		d_pin(d);
}

UVFS_API int uvfs_d_add_static(struct uvfs_dentry *parent, const char *name, size_t len,
			       struct uvfs_inode *inode, struct uvfs_dentry **out)
{
	if (!parent || !name || !inode || !len || len > UVFS_NAME_MAX || !d_is_dir(parent))
		return -EINVAL;
	struct uvfs_dentry *d = d_lookup(parent->d_fs->vfs, parent, name, len);
	if (d) {
		uvfs_dentry_put(d);
		return -EEXIST;
	}
	int err = d_alloc(parent, name, len, &d);
	if (err)
		return err;
	rcu_store(d->d_inode, inode);
	d_pin(d);
	uvfs_dentry_put(d); /* the pin keeps it */
	if (out)
		*out = d;
	return 0;
}

/* Mark d dead, unhash it, take it off its parent's list, drop its pin. */
static void d_drop_dead(struct uvfs *vfs, struct uvfs_dentry *d)
{
	atomic_fetch_or(&d->d_flags, DF_DEAD);
	d_hash_remove(vfs, d);
	d_unlink_child(d);
	if (atomic_fetch_and(&d->d_flags, ~DF_PINNED) & DF_PINNED)
		uvfs_dentry_put(d);
}

/* Drop every cached dentry below top, children first (the caller holds a
 * reference on top). Unreferenced ones are freed now; referenced ones when
 * their holders let go. The walk holds one reference on the dentry it
 * stands on (top: the caller's), so climbing back up is always safe. A
 * rename moving a dentry out of the subtree during the walk (possible only
 * through a reference into it) can make the walk drop the cache of the
 * dentry's new siblings: cache only, never a pinned complete-dir entry,
 * since invalidation refuses complete directories. */
static void d_prune(struct uvfs_dentry *top)
{
	struct uvfs *vfs = top->d_fs->vfs;
	struct uvfs_dentry *d = top;
	long depth = 0;
	for (;;) {
		struct uvfs_dentry *c = NULL;
		bool busy = false;
		uvfs_lock_acquire(&d->d_lock);
		for (struct list_head *l = d->d_subdirs.next; l != &d->d_subdirs; l = l->next) {
			c = container_of(l, struct uvfs_dentry, d_child);
			if (d_tryget(c))
				break;
			c = NULL; /* being freed elsewhere: it leaves the list shortly */
			busy = true;
		}
		uvfs_lock_release(&d->d_lock);
		if (c) {
			if (d != top)
				uvfs_dentry_put(d); /* c's parent reference keeps d */
			d = c;
			depth++;
			continue;
		}
		if (busy) {
			sched_yield();
			continue;
		}
		if (depth == 0)
			break;
		struct uvfs_dentry *p = d->d_parent;
		if (--depth)
			uvfs_dentry_get(p);
		d_drop_dead(vfs, d);
		uvfs_dentry_put(d);
		d = depth ? p : top;
	}
}

HIDDEN void d_delete(struct uvfs *vfs, struct uvfs_dentry *d)
{
	d_drop_dead(vfs, d);
	d_prune(d); /* a removed directory's cached (negative) children */
}

/* Is a mount on d or below it? Caller holds mount_lock. */
static bool d_has_mounts_below(struct uvfs *vfs, struct uvfs_dentry *d)
{
	bool found = false;
	rcu_read_lock(); /* d_is_ancestor follows d_parent */
	for (unsigned b = 0; b < MOUNT_BUCKETS && !found; b++)
		for (struct uvfs_mount *m = vfs->mount_hash[b]; m; m = m->m_hash_next)
			if (m->m_connected && m->m_point && m->m_point->d_fs == d->d_fs &&
			    d_is_ancestor(d, m->m_point)) {
				found = true;
				break;
			}
	rcu_read_unlock();
	return found;
}

UVFS_API int uvfs_d_invalidate(struct uvfs_dentry *d)
{
	if (!d || (atomic_load(&d->d_flags) & DF_ROOT))
		return -EINVAL;
	struct uvfs_inode *pi = rcu_load(d->d_parent->d_inode);
	if (load_relaxed(pi->i_flags) & UVFS_I_COMPLETE)
		return -EINVAL;
	struct uvfs *vfs = d->d_fs->vfs;
	rcu_enter();
	/* Marking d dead under mount_lock: a later mount on d sees DF_DEAD. */
	pthread_mutex_lock(&vfs->mount_lock);
	if (atomic_load(&d->d_mounted) || d_has_mounts_below(vfs, d)) {
		pthread_mutex_unlock(&vfs->mount_lock);
		return -EBUSY;
	}
	atomic_fetch_or(&d->d_flags, DF_DEAD);
	pthread_mutex_unlock(&vfs->mount_lock);
	uvfs_dentry_get(d); /* d_drop_dead may drop the pin: keep d for the prune */
	d_drop_dead(vfs, d);
	d_prune(d);
	uvfs_dentry_put(d);
	return 0;
}

UVFS_API void *uvfs_dentry_fsdata(const struct uvfs_dentry *d) { return d->d_fsdata; }
UVFS_API void uvfs_dentry_set_fsdata(struct uvfs_dentry *d, void *data) { d->d_fsdata = data; }
UVFS_API void uvfs_d_set_op(struct uvfs_dentry *d, const struct uvfs_dentry_ops *op)
{
	d->d_op = op;
	if (op && op->revalidate)
		atomic_fetch_or(&d->d_flags, DF_REVAL);
	else
		atomic_fetch_and(&d->d_flags, ~DF_REVAL);
}

HIDDEN const struct uvfs_dname *d_name_alloc(const char *name, size_t len) { return dname_ext_alloc(name, len); }

HIDDEN void d_name_free(const struct uvfs_dname *n)
{
	free(container_of((struct uvfs_dname *)n, struct dname_ext, n));
}

/* The new name is allocated by the caller before the filesystem commits
 * the rename, so the dcache move itself cannot fail. */
HIDDEN void d_move(struct uvfs *vfs, struct uvfs_dentry *d, struct uvfs_dentry *newparent,
		   const struct uvfs_dname *nn)
{
	const char *name = nn->name;
	size_t len = nn->len;
	bool linked = atomic_load(&d->d_flags) & DF_LINKED;
	bool hashed = atomic_load(&d->d_flags) & DF_HASHED;
	if (hashed)
		d_hash_remove(vfs, d);
	if (linked)
		d_unlink_child(d);
	const struct uvfs_dname *old = d->d_name;
	struct uvfs_dentry *oldparent = d->d_parent;
	rcu_store(d->d_name, nn);
	if (newparent != oldparent) {
		uvfs_dentry_get(newparent);
		rcu_store(d->d_parent, newparent);
	}
	store_relaxed(d->d_hash, d_hash_name(newparent, name, len));
	if (hashed) /* inside a rename_seq write section: no resize here */
		d_hash_insert_noresize(vfs, d);
	if (linked)
		d_link_child(d);
	dname_put(d, old, true);
	if (newparent != oldparent)
		uvfs_dentry_put(oldparent); /* the caller still references it: never the last */
}

HIDDEN bool d_is_ancestor(const struct uvfs_dentry *anc, const struct uvfs_dentry *d)
{
	for (;;) {
		if (d == anc)
			return true;
		const struct uvfs_dentry *p = rcu_load(((struct uvfs_dentry *)d)->d_parent);
		if (p == d)
			return false;
		d = p;
	}
}

HIDDEN void d_shrink_fs(struct uvfs_filesystem *fs)
{
	if (fs->root)
		d_prune(fs->root);
	/* Children of dentries that an old invalidation disconnected are
	 * reachable only from the LRU. */
	uvfs_fs_shrink(fs, 0);
}

/* ---------------------------------------------------------- accessors */

UVFS_API const char *uvfs_dentry_name(const struct uvfs_dentry *d, size_t *len)
{
	const struct uvfs_dname *n = rcu_load(((struct uvfs_dentry *)d)->d_name);
	if (len)
		*len = n->len;
	return n->name;
}

UVFS_API struct uvfs_inode *uvfs_dentry_inode(const struct uvfs_dentry *d)
{
	return rcu_load(((struct uvfs_dentry *)d)->d_inode);
}

UVFS_API struct uvfs_dentry *uvfs_dentry_parent(const struct uvfs_dentry *d)
{
	return rcu_load(((struct uvfs_dentry *)d)->d_parent);
}

UVFS_API struct uvfs_dentry *uvfs_dentry_get_parent(const struct uvfs_dentry *d)
{
	struct uvfs_dentry *dd = (struct uvfs_dentry *)d;
	rcu_read_lock();
	for (;;) {
		struct uvfs_dentry *p = rcu_load(dd->d_parent);
		/* The parent cannot be freed inside the read section; if it is
		 * dying, d has moved (a dentry pins its parent): read again. */
		if (d_tryget(p)) {
			rcu_read_unlock();
			return p;
		}
		uvfs_cpu_relax();
	}
}

UVFS_API size_t uvfs_dentry_name_copy(const struct uvfs_dentry *d, char *buf, size_t len)
{
	rcu_read_lock();
	const struct uvfs_dname *n = rcu_load(((struct uvfs_dentry *)d)->d_name);
	size_t l = n->len;
	if (len) {
		size_t k = l < len - 1 ? l : len - 1;
		memcpy(buf, n->name, k);
		buf[k] = 0;
	}
	rcu_read_unlock();
	return l;
}

UVFS_API bool uvfs_dcache_dir_empty(struct uvfs_dentry *dir)
{
	bool empty = true;
	uvfs_lock_acquire(&dir->d_lock);
	for (struct list_head *l = dir->d_subdirs.next; l != &dir->d_subdirs; l = l->next) {
		struct uvfs_dentry *c = container_of(l, struct uvfs_dentry, d_child);
		if (c->d_inode && !(atomic_load(&c->d_flags) & DF_DEAD)) {
			empty = false;
			break;
		}
	}
	uvfs_lock_release(&dir->d_lock);
	return empty;
}

