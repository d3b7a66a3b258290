/* Unit tests of tmpfs's sparse page store and budgets (no VFS needed). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>

#include "fsimpl/tmpfs/internal.h"

#define PG TMPFS_PAGE_SIZE

static struct tmpfs_budget budget;
static struct tmpfs_pages *p;

static void setup(void)
{
	budget = (struct tmpfs_budget){ 0 };
	p = tmpfs_pages_new();
	cr_assert_not_null(p);
}
static void teardown(void)
{
	tmpfs_pages_destroy(p, &budget);
	cr_assert_eq(atomic_load(&budget.used), 0, "pages leaked from the budget: %ld", atomic_load(&budget.used));
}

TestSuite(pages, .init = setup, .fini = teardown);

static bool all(const char *b, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != c)
			return false;
	return true;
}

Test(pages, empty_reads_zeros)
{
	char buf[100];
	memset(buf, 'x', sizeof(buf));
	tmpfs_pages_read(p, 12345, buf, sizeof(buf));
	cr_assert(all(buf, sizeof(buf), 0));
	cr_assert_eq(p->npages, 0);
}

Test(pages, small_write_single_page_no_node)
{
	cr_assert_eq(tmpfs_pages_write(p, &budget, 10, "hello", 5), 5);
	cr_assert_eq(p->npages, 1);
	cr_assert_eq(p->height, 0, "a one-page file needs no index node");
	char buf[20];
	tmpfs_pages_read(p, 8, buf, 9);
	cr_assert(!memcmp(buf, "\0\0hello\0\0", 9));
}

Test(pages, sparse_far_write_holes_are_zero)
{
	uint64_t far = (uint64_t)1 << 40; /* 1 TiB */
	cr_assert_eq(tmpfs_pages_write(p, &budget, far - 2, "abcd", 4), 4); /* spans two pages */
	cr_assert_eq(p->npages, 2);
	cr_assert_eq(atomic_load(&budget.used), 2);
	char buf[8];
	tmpfs_pages_read(p, far - 4, buf, 8);
	cr_assert(!memcmp(buf, "\0\0abcd\0\0", 8));
	char *big = malloc(3 * PG);
	tmpfs_pages_read(p, 4096 * 1000, big, 3 * PG);
	cr_assert(all(big, 3 * PG, 0));
	free(big);
}

Test(pages, cross_page_write_and_read)
{
	size_t n = 3 * PG + 17;
	char *src = malloc(n), *dst = malloc(n);
	for (size_t i = 0; i < n; i++)
		src[i] = (char)(i * 7 + 1);
	cr_assert_eq(tmpfs_pages_write(p, &budget, PG - 5, src, n), (ssize_t)n);
	cr_assert_eq(p->npages, 5);
	tmpfs_pages_read(p, PG - 5, dst, n);
	cr_assert(!memcmp(src, dst, n));
	free(src);
	free(dst);
}

Test(pages, truncate_shrink_zeroes_tail_and_frees)
{
	char *src = malloc(10 * PG);
	memset(src, 'a', 10 * PG);
	cr_assert_eq(tmpfs_pages_write(p, &budget, 0, src, 10 * PG), (ssize_t)(10 * PG));
	cr_assert_eq(p->npages, 10);
	tmpfs_pages_truncate(p, &budget, 2 * PG + 100);
	cr_assert_eq(p->npages, 3);
	cr_assert_eq(atomic_load(&budget.used), 3);
	/* Growing again (size is the caller's) must read zeros past 2*PG+100. */
	char *buf = malloc(PG);
	tmpfs_pages_read(p, 2 * PG, buf, PG);
	cr_assert(all(buf, 100, 'a'));
	cr_assert(all(buf + 100, PG - 100, 0));
	tmpfs_pages_truncate(p, &budget, 0);
	cr_assert_eq(p->npages, 0);
	cr_assert_null(p->root);
	cr_assert_eq(p->height, 0);
	free(src);
	free(buf);
}

Test(pages, truncate_sparse_tree_shrinks_height)
{
	cr_assert_eq(tmpfs_pages_write(p, &budget, 0, "x", 1), 1);
	cr_assert_eq(tmpfs_pages_write(p, &budget, (uint64_t)1 << 36, "y", 1), 1);
	cr_assert(p->height >= 4);
	tmpfs_pages_truncate(p, &budget, 1);
	cr_assert_eq(p->npages, 1);
	cr_assert_eq(p->height, 0, "height back to 0, got %u", p->height);
	char c;
	tmpfs_pages_read(p, 0, &c, 1);
	cr_assert_eq(c, 'x');
}

Test(pages, budget_limit_gives_enospc_and_short_writes)
{
	budget.max = 2;
	char *src = malloc(3 * PG);
	memset(src, 'z', 3 * PG);
	cr_assert_eq(tmpfs_pages_write(p, &budget, 0, src, 3 * PG), (ssize_t)(2 * PG), "short write at the limit");
	cr_assert_eq(tmpfs_pages_write(p, &budget, 2 * PG, src, 1), -ENOSPC);
	cr_assert_eq(atomic_load(&budget.used), 2);
	/* Overwriting allocated pages needs no budget. */
	cr_assert_eq(tmpfs_pages_write(p, &budget, 0, src, 2 * PG), (ssize_t)(2 * PG));
	tmpfs_pages_truncate(p, &budget, PG);
	cr_assert_eq(tmpfs_pages_write(p, &budget, 5 * PG, src, 1), 1);
	free(src);
}

Test(pages, budget_take_give)
{
	struct tmpfs_budget b = { .max = 3 };
	cr_assert_eq(tmpfs_budget_take(&b, 2), 0);
	cr_assert_eq(tmpfs_budget_take(&b, 2), -ENOSPC);
	cr_assert_eq(atomic_load(&b.used), 2);
	cr_assert_eq(tmpfs_budget_take(&b, 1), 0);
	tmpfs_budget_give(&b, 3);
	cr_assert_eq(atomic_load(&b.used), 0);
	struct tmpfs_budget u = { .max = 0 };
	cr_assert_eq(tmpfs_budget_take(&u, 1L << 40), 0, "0 means unlimited");
}

Test(pages, many_random_writes_match_a_flat_model)
{
	enum { SZ = 64 * PG };
	char *model = calloc(1, SZ), *buf = malloc(SZ);
	srand(42);
	for (int i = 0; i < 500; i++) {
		size_t off = (size_t)rand() % SZ, len = (size_t)rand() % 9000;
		if (off + len > SZ)
			len = SZ - off;
		for (size_t j = 0; j < len; j++)
			model[off + j] = (char)rand();
		cr_assert_eq(tmpfs_pages_write(p, &budget, off, model + off, len), (ssize_t)len);
		if (i % 50 == 49) {
			size_t t = (size_t)rand() % SZ;
			tmpfs_pages_truncate(p, &budget, t);
			memset(model + t, 0, SZ - t);
		}
	}
	tmpfs_pages_read(p, 0, buf, SZ);
	cr_assert(!memcmp(model, buf, SZ));
	cr_assert_eq(atomic_load(&budget.used), (long)p->npages);
	free(model);
	free(buf);
}

Test(pages, next_data_and_hole)
{
	cr_assert_eq(tmpfs_pages_next(NULL, 5, true), UINT64_MAX);
	cr_assert_eq(tmpfs_pages_next(NULL, 5, false), 5);
	cr_assert_eq(tmpfs_pages_next(p, 0, true), UINT64_MAX);
	cr_assert_eq(tmpfs_pages_write(p, &budget, 3 * PG, "x", 1), 1);
	cr_assert_eq(tmpfs_pages_write(p, &budget, 4 * PG, "x", 1), 1);
	cr_assert_eq(tmpfs_pages_write(p, &budget, (uint64_t)PG << 30, "x", 1), 1);
	cr_assert_eq(tmpfs_pages_next(p, 0, true), 3);
	cr_assert_eq(tmpfs_pages_next(p, 4, true), 4);
	cr_assert_eq(tmpfs_pages_next(p, 5, true), 1ULL << 30);
	cr_assert_eq(tmpfs_pages_next(p, (1ULL << 30) + 1, true), UINT64_MAX);
	cr_assert_eq(tmpfs_pages_next(p, 0, false), 0);
	cr_assert_eq(tmpfs_pages_next(p, 3, false), 5);
	cr_assert_eq(tmpfs_pages_next(p, 1ULL << 30, false), (1ULL << 30) + 1);
	cr_assert_eq(tmpfs_pages_next(p, 1ULL << 50, true), UINT64_MAX, "beyond the tree");
}

/* Threads racing for the last units: exactly max succeed in total. */
struct race {
	struct tmpfs_budget *b;
	_Atomic long got;
};
static void *taker(void *arg)
{
	struct race *r = arg;
	for (int i = 0; i < 10000; i++)
		if (tmpfs_budget_take(r->b, 1) == 0)
			atomic_fetch_add(&r->got, 1);
	return NULL;
}

Test(pages, budget_exact_under_contention)
{
	struct tmpfs_budget b = { .max = 25000 };
	struct race r = { .b = &b };
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, taker, &r);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(atomic_load(&r.got), 25000);
	cr_assert_eq(atomic_load(&b.used), 25000);
}
