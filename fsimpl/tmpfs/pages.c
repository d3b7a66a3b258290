/* fsimpl/tmpfs/pages.c — sparse page store of regular files and the per-fs
 * budgets. No locks are taken here: callers hold tmpfs_pages.lock (and the
 * inode's i_lock for writes); budgets are atomics. Page memory comes from
 * pagealloc.c (zeroed, returned to the OS when freed); tree nodes from
 * malloc. */
#include <stdlib.h>

#include "fsimpl/tmpfs/internal.h"

#define FAN_SHIFT 6
#define FAN (1u << FAN_SHIFT)
#define MAX_HEIGHT 10 /* 64^10 pages > 2^63 bytes */

struct pnode {
	void *slot[FAN];
};

int tmpfs_budget_take(struct tmpfs_budget *b, long n)
{
	long max = tmpfs_budget_max(b);
	if (!max) {
		atomic_fetch_add_explicit(&b->used, n, memory_order_relaxed);
		return 0;
	}
	/* CAS, not add-then-undo: two takers near the limit must not both
	 * fail when one of them fits. */
	long cur = atomic_load_explicit(&b->used, memory_order_relaxed);
	do {
		if (cur + n > max)
			return -ENOSPC;
	} while (!atomic_compare_exchange_weak_explicit(&b->used, &cur, cur + n, memory_order_relaxed,
							memory_order_relaxed));
	return 0;
}

void tmpfs_budget_give(struct tmpfs_budget *b, long n) { atomic_fetch_sub_explicit(&b->used, n, memory_order_relaxed); }

struct tmpfs_pages *tmpfs_pages_new(void)
{
	struct tmpfs_pages *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	/* Writers first: a stream of readers must not starve a writer
	 * (readers never nest the lock, so this is safe). */
	pthread_rwlockattr_t a;
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	int err = pthread_rwlock_init(&p->lock, &a);
	pthread_rwlockattr_destroy(&a);
	if (err) {
		free(p);
		return NULL;
	}
	return p;
}

/* Number of page indexes a tree of height h covers (h <= MAX_HEIGHT). */
static inline uint64_t span(unsigned h) { return h >= MAX_HEIGHT ? UINT64_MAX : 1ULL << (FAN_SHIFT * h); }

static char *lookup(struct tmpfs_pages *p, uint64_t idx)
{
	void *n = p->root;
	if (idx >= span(p->height))
		return NULL;
	for (unsigned h = p->height; h > 0 && n; h--)
		n = ((struct pnode *)n)->slot[(idx >> (FAN_SHIFT * (h - 1))) & (FAN - 1)];
	return n;
}

/* The page at idx, allocated (zeroed) if absent, taking a page from b
 * (b NULL: the caller has reserved it). */
static int get_page(struct tmpfs_pages *p, struct tmpfs_budget *b, uint64_t idx, char **out)
{
	while (idx >= span(p->height)) {
		if (p->root) {
			struct pnode *n = calloc(1, sizeof(*n));
			if (!n)
				return -ENOMEM;
			n->slot[0] = p->root;
			p->root = n;
		}
		p->height++;
	}
	void **slot = &p->root;
	for (unsigned h = p->height; h > 0; h--) {
		if (!*slot && !(*slot = calloc(1, sizeof(struct pnode))))
			return -ENOMEM;
		slot = &((struct pnode *)*slot)->slot[(idx >> (FAN_SHIFT * (h - 1))) & (FAN - 1)];
	}
	if (!*slot) {
		int err = b ? tmpfs_budget_take(b, 1) : 0;
		if (err)
			return err;
		if (!(*slot = tmpfs_page_alloc())) {
			if (b)
				tmpfs_budget_give(b, 1);
			return -ENOMEM;
		}
		p->npages++;
	}
	*out = *slot;
	return 0;
}

void tmpfs_pages_read(struct tmpfs_pages *p, uint64_t off, void *buf, size_t len)
{
	char *dst = buf;
	while (len) {
		size_t po = off & (TMPFS_PAGE_SIZE - 1);
		size_t n = TMPFS_PAGE_SIZE - po < len ? TMPFS_PAGE_SIZE - po : len;
		const char *pg = lookup(p, off >> TMPFS_PAGE_SHIFT);
		if (pg)
			memcpy(dst, pg + po, n);
		else
			memset(dst, 0, n);
		dst += n;
		off += n;
		len -= n;
	}
}

ssize_t tmpfs_pages_write(struct tmpfs_pages *p, struct tmpfs_budget *b, uint64_t off, const void *buf, size_t len)
{
	const char *src = buf;
	size_t done = 0;
	while (done < len) {
		size_t po = off & (TMPFS_PAGE_SIZE - 1);
		size_t n = TMPFS_PAGE_SIZE - po < len - done ? TMPFS_PAGE_SIZE - po : len - done;
		char *pg;
		int err = get_page(p, b, off >> TMPFS_PAGE_SHIFT, &pg);
		if (err)
			return done ? (ssize_t)done : err;
		memcpy(pg + po, src + done, n);
		done += n;
		off += n;
	}
	return (ssize_t)done;
}

/* Free pages with index in [lo, hi] in the subtree n of height h whose
 * first index is base. Returns true if n is now empty (and freed). */
static bool trim(struct tmpfs_pages *p, struct tmpfs_budget *b, struct tmpfs_page_batch *fb, void *n, unsigned h,
		 uint64_t base, uint64_t lo, uint64_t hi)
{
	if (h == 0) {
		if (base < lo || base > hi)
			return false;
		tmpfs_page_free(fb, n);
		p->npages--;
		tmpfs_budget_give(b, 1);
		return true;
	}
	struct pnode *node = n;
	uint64_t child_span = span(h - 1); /* children of a node span at most 2^54 pages: no overflow */
	bool empty = true;
	for (unsigned i = 0; i < FAN; i++) {
		uint64_t cbase = base + i * child_span;
		if (!node->slot[i])
			continue;
		if (cbase + child_span - 1 < lo || cbase > hi) {
			empty = false; /* wholly kept */
			continue;
		}
		if (trim(p, b, fb, node->slot[i], h - 1, cbase, lo, hi))
			node->slot[i] = NULL;
		else
			empty = false;
	}
	if (empty)
		free(node);
	return empty;
}

/* Drop pages in [lo, hi], then shrink the tree while only slot 0 of the
 * root is used. */
static void drop_range(struct tmpfs_pages *p, struct tmpfs_budget *b, uint64_t lo, uint64_t hi)
{
	struct tmpfs_page_batch fb;
	fb.n = 0;
	if (p->root && lo <= hi && trim(p, b, &fb, p->root, p->height, 0, lo, hi)) {
		p->root = NULL;
		p->height = 0;
	}
	tmpfs_page_flush(&fb);
	while (p->height > 0 && p->root) {
		struct pnode *r = p->root;
		bool only0 = true;
		for (unsigned i = 1; i < FAN; i++)
			if (r->slot[i]) {
				only0 = false;
				break;
			}
		if (!only0)
			break;
		p->root = r->slot[0];
		p->height--;
		free(r);
	}
	if (!p->root)
		p->height = 0;
}

/* Clear bytes [off, end) of present pages (end > off). */
static void zero_bytes(struct tmpfs_pages *p, uint64_t off, uint64_t end)
{
	while (off < end) {
		uint64_t po = off & (TMPFS_PAGE_SIZE - 1);
		uint64_t n = TMPFS_PAGE_SIZE - po < end - off ? TMPFS_PAGE_SIZE - po : end - off;
		char *pg = lookup(p, off >> TMPFS_PAGE_SHIFT);
		if (pg)
			memset(pg + po, 0, (size_t)n);
		off += n;
	}
}

void tmpfs_pages_truncate(struct tmpfs_pages *p, struct tmpfs_budget *b, uint64_t size)
{
	uint64_t keep = (size >> TMPFS_PAGE_SHIFT) + ((size & (TMPFS_PAGE_SIZE - 1)) != 0);
	drop_range(p, b, keep, UINT64_MAX);
	size_t po = size & (TMPFS_PAGE_SIZE - 1);
	char *pg = po ? lookup(p, size >> TMPFS_PAGE_SHIFT) : NULL;
	if (pg)
		memset(pg + po, 0, TMPFS_PAGE_SIZE - po);
}

void tmpfs_pages_punch(struct tmpfs_pages *p, struct tmpfs_budget *b, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	uint64_t first = (off + TMPFS_PAGE_SIZE - 1) >> TMPFS_PAGE_SHIFT; /* first whole page */
	uint64_t stop = end >> TMPFS_PAGE_SHIFT; /* one past the last whole page */
	if (first >= stop) { /* within one page or two partial ones */
		zero_bytes(p, off, end);
		return;
	}
	zero_bytes(p, off, first << TMPFS_PAGE_SHIFT);
	zero_bytes(p, stop << TMPFS_PAGE_SHIFT, end);
	drop_range(p, b, first, stop - 1);
}

void tmpfs_pages_zero(struct tmpfs_pages *p, uint64_t off, uint64_t len)
{
	/* Present pages only: visiting each index of a sparse range would
	 * cost a lookup per hole. */
	uint64_t end = off + len;
	for (uint64_t idx = tmpfs_pages_next(p, off >> TMPFS_PAGE_SHIFT, true);
	     idx != UINT64_MAX && (idx << TMPFS_PAGE_SHIFT) < end; idx = tmpfs_pages_next(p, idx + 1, true)) {
		uint64_t s = idx << TMPFS_PAGE_SHIFT, e = s + TMPFS_PAGE_SIZE;
		zero_bytes(p, s > off ? s : off, e < end ? e : end);
	}
}

static uint64_t count(void *n, unsigned h, uint64_t base, uint64_t lo, uint64_t hi)
{
	if (!n)
		return 0;
	if (h == 0)
		return base >= lo && base <= hi;
	struct pnode *node = n;
	uint64_t cs = span(h - 1), c = 0;
	for (unsigned i = 0; i < FAN; i++) {
		uint64_t cbase = base + i * cs;
		if (cbase + cs - 1 >= lo && cbase <= hi)
			c += count(node->slot[i], h - 1, cbase, lo, hi);
	}
	return c;
}

uint64_t tmpfs_pages_count(struct tmpfs_pages *p, uint64_t first, uint64_t last)
{
	return p ? count(p->root, p->height, 0, first, last) : 0;
}

int tmpfs_pages_fill(struct tmpfs_pages *p, uint64_t first, uint64_t last, uint64_t *added)
{
	*added = 0;
	for (uint64_t idx = first;; idx++) {
		uint64_t before = p->npages;
		char *pg;
		int err = get_page(p, NULL, idx, &pg);
		if (err)
			return err;
		*added += p->npages - before;
		if (idx == last)
			return 0;
	}
}

/* First present page index >= from in subtree n (height h, first index
 * base), or UINT64_MAX. Skips empty subtrees whole. */
static uint64_t next_present(void *n, unsigned h, uint64_t base, uint64_t from)
{
	if (!n)
		return UINT64_MAX;
	if (h == 0)
		return base >= from ? base : UINT64_MAX;
	struct pnode *node = n;
	uint64_t cs = span(h - 1);
	unsigned i = from > base ? (unsigned)((from - base) / cs) : 0;
	for (; i < FAN; i++) {
		uint64_t r = next_present(node->slot[i], h - 1, base + i * cs, from);
		if (r != UINT64_MAX)
			return r;
	}
	return UINT64_MAX;
}

uint64_t tmpfs_pages_next(struct tmpfs_pages *p, uint64_t idx, bool data)
{
	if (data)
		return p && idx < span(p->height) ? next_present(p->root, p->height, 0, idx) : UINT64_MAX;
	/* Holes: every present page costs one lookup, and pages are real memory. */
	while (p && lookup(p, idx))
		idx++;
	return idx;
}

void tmpfs_pages_destroy(struct tmpfs_pages *p, struct tmpfs_budget *b)
{
	if (!p)
		return;
	tmpfs_pages_truncate(p, b, 0);
	pthread_rwlock_destroy(&p->lock);
	free(p);
}
