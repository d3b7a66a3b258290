/* fsimpl/tmpfs/pagealloc.c — memory for tmpfs data pages, returned to the
 * OS when a page is freed.
 *
 * Pages come from 2 MiB chunks mapped with mmap (aligned, so a page finds its
 * chunk by masking its address; transparent huge pages off, so RSS follows
 * the pages in use). A freed page is dropped with MADV_DONTNEED before it is
 * marked free, which both returns its memory (RSS falls at once, as after a
 * truncate on the kernel's tmpfs) and makes it read as zeros when it is
 * handed out again: pages never need clearing. A chunk whose pages are all
 * free is unmapped, except one kept as a spare so that a small file created
 * and deleted in a loop does not map and unmap a chunk each time.
 *
 * malloc is not used for pages: glibc keeps freed 4 KiB blocks in its heap
 * (and ASan in its quarantine), so RSS never fell after a delete.
 *
 * Locking: `lock` (a leaf) protects every chunk header and the lists below.
 * The madvise and munmap calls run outside it, on pages still marked in use.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "fsimpl/tmpfs/internal.h"

#define CHUNK_SHIFT 21
#define CHUNK_SIZE (1UL << CHUNK_SHIFT)
#define CHUNK_PAGES (CHUNK_SIZE / TMPFS_PAGE_SIZE) /* page 0 is the header */
#define MAP_WORDS (CHUNK_PAGES / 64)

struct chunk {
	struct chunk *prev, *next; /* on `partial` while 0 < nfree < CHUNK_PAGES - 1 */
	unsigned nfree;
	uint64_t freemap[MAP_WORDS]; /* bit i: page i is free (bit 0, the header, never) */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct chunk *partial; /* chunks with free and used pages; under lock */
static struct chunk *spare; /* an all-free chunk kept mapped; under lock */
static atomic_long mapped_chunks; /* for tests and benches */

static void list_add(struct chunk *c)
{
	c->prev = NULL;
	c->next = partial;
	if (partial)
		partial->prev = c;
	partial = c;
}

static void list_del(struct chunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		partial = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static struct chunk *chunk_new(void)
{
	/* Twice the size, then trim to a CHUNK_SIZE-aligned chunk. */
	char *m = mmap(NULL, 2 * CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	char *c = (char *)(((uintptr_t)m + CHUNK_SIZE - 1) & ~(CHUNK_SIZE - 1));
	if (c > m)
		munmap(m, (size_t)(c - m));
	munmap(c + CHUNK_SIZE, (size_t)(m + CHUNK_SIZE - c));
	madvise(c, CHUNK_SIZE, MADV_NOHUGEPAGE); /* best effort */
	struct chunk *ch = (struct chunk *)c;
	ch->nfree = CHUNK_PAGES - 1;
	for (unsigned i = 0; i < MAP_WORDS; i++)
		ch->freemap[i] = ~0ULL;
	ch->freemap[0] &= ~1ULL;
	atomic_fetch_add_explicit(&mapped_chunks, 1, memory_order_relaxed);
	return ch;
}

static void chunk_unmap(struct chunk *c)
{
	munmap(c, CHUNK_SIZE);
	atomic_fetch_sub_explicit(&mapped_chunks, 1, memory_order_relaxed);
}

void *tmpfs_page_alloc(void)
{
	pthread_mutex_lock(&lock);
	struct chunk *c = partial;
	if (!c) {
		if (spare) {
			c = spare;
			spare = NULL;
		} else {
			pthread_mutex_unlock(&lock);
			struct chunk *n = chunk_new();
			if (!n)
				return NULL;
			pthread_mutex_lock(&lock);
			c = n;
		}
		list_add(c);
	}
	unsigned w = 0;
	while (!c->freemap[w])
		w++;
	unsigned bit = (unsigned)__builtin_ctzll(c->freemap[w]);
	c->freemap[w] &= ~(1ULL << bit);
	if (--c->nfree == 0)
		list_del(c);
	pthread_mutex_unlock(&lock);
	return (char *)c + (size_t)(w * 64 + bit) * TMPFS_PAGE_SIZE;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
	return x < y ? -1 : x > y;
}

void tmpfs_page_flush(struct tmpfs_page_batch *b)
{
	if (!b->n)
		return;
	/* Sorted, neighbouring pages go back to the OS in one call. */
	qsort(b->pg, b->n, sizeof(b->pg[0]), cmp_ptr);
	for (unsigned i = 0; i < b->n;) {
		unsigned j = i + 1;
		while (j < b->n && (char *)b->pg[j] == (char *)b->pg[j - 1] + TMPFS_PAGE_SIZE)
			j++;
		madvise(b->pg[i], (size_t)(j - i) * TMPFS_PAGE_SIZE, MADV_DONTNEED);
		i = j;
	}
	struct chunk *unmap[TMPFS_PAGE_BATCH];
	unsigned nunmap = 0;
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < b->n; i++) {
		struct chunk *c = (struct chunk *)((uintptr_t)b->pg[i] & ~(CHUNK_SIZE - 1));
		size_t idx = ((uintptr_t)b->pg[i] - (uintptr_t)c) / TMPFS_PAGE_SIZE;
		c->freemap[idx / 64] |= 1ULL << (idx % 64);
		if (c->nfree++ == 0)
			list_add(c);
		if (c->nfree == CHUNK_PAGES - 1) {
			list_del(c);
			if (!spare)
				spare = c;
			else
				unmap[nunmap++] = c;
		}
	}
	pthread_mutex_unlock(&lock);
	for (unsigned i = 0; i < nunmap; i++)
		chunk_unmap(unmap[i]);
	b->n = 0;
}

void tmpfs_page_free(struct tmpfs_page_batch *b, void *pg)
{
	if (b->n == TMPFS_PAGE_BATCH)
		tmpfs_page_flush(b);
	b->pg[b->n++] = pg;
}

long tmpfs_page_chunks(void) { return atomic_load_explicit(&mapped_chunks, memory_order_relaxed); }
