/* tests/sandbox/test_run_mem.c — the supervisor's tracee-memory readers
 * (sandbox/run/mem.c) on our own pid: bad pointers are -EFAULT, a path
 * without a NUL in PATH_MAX bytes is -ENAMETOOLONG, a string ending right
 * before an unmapped page is read whole, one running into it is -EFAULT. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sandbox/run/internal.h"

static char buf[PATH_MAX];

Test(run_mem, bad_pointer_is_efault)
{
	cr_assert_eq(run_read_path(getpid(), 0, buf, sizeof(buf)), -EFAULT);
	cr_assert_eq(run_read_path(getpid(), 8, buf, sizeof(buf)), -EFAULT);
	cr_assert_eq(run_read_path(getpid(), ~0ULL - 16, buf, sizeof(buf)), -EFAULT);
	char x[8];
	cr_assert_eq(run_read_mem(getpid(), 16, x, sizeof(x)), -EFAULT);
	cr_assert_eq(run_write_mem(getpid(), 16, x, sizeof(x)), -EFAULT);
}

Test(run_mem, path_max_bounds)
{
	static char p[PATH_MAX + 64];
	memset(p, 'a', sizeof(p));
	p[PATH_MAX - 1] = 0; /* 4095 bytes + NUL: fits */
	cr_assert_eq(run_read_path(getpid(), (uintptr_t)p, buf, sizeof(buf)), 0);
	cr_assert_eq(strlen(buf), PATH_MAX - 1);
	p[PATH_MAX - 1] = 'a';
	p[PATH_MAX] = 0; /* 4096 bytes + NUL: too long */
	cr_assert_eq(run_read_path(getpid(), (uintptr_t)p, buf, sizeof(buf)), -ENAMETOOLONG);
	p[sizeof(p) - 1] = 0;
	cr_assert_eq(run_read_path(getpid(), (uintptr_t)p, buf, sizeof(buf)), -ENAMETOOLONG);
}

Test(run_mem, page_boundary)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(m, MAP_FAILED);
	cr_assert_eq(munmap(m + pg, pg), 0);
	memcpy(m + pg - 4, "abc", 4); /* NUL is the page's last byte */
	cr_assert_eq(run_read_path(getpid(), (uintptr_t)(m + pg - 4), buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "abc");
	memcpy(m + pg - 3, "abc", 3); /* runs into the unmapped page */
	cr_assert_eq(run_read_path(getpid(), (uintptr_t)(m + pg - 3), buf, sizeof(buf)), -EFAULT);
	munmap(m, pg);
}

Test(run_mem, write_then_read)
{
	char src[] = "hello", dst[6] = { 0 };
	cr_assert_eq(run_write_mem(getpid(), (uintptr_t)dst, src, sizeof(src)), 0);
	cr_assert_str_eq(dst, "hello");
	char ro_probe[6];
	cr_assert_eq(run_read_mem(getpid(), (uintptr_t)dst, ro_probe, sizeof(ro_probe)), 0);
	cr_assert_str_eq(ro_probe, "hello");
}

/* The first read of a path is short (256 bytes): paths longer than it,
 * starting anywhere in a page, and ones ending right before an unmapped
 * page, are read whole or fail exactly as before. */
Test(run_mem, longer_than_first_read)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(m, MAP_FAILED);
	size_t lens[] = { 255, 256, 257, 300, 1000, 3000 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t offs[] = { 0, 100, (size_t)pg - 128, (size_t)pg - lens[i] - 1 };
		for (size_t j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
			char *p = m + offs[j];
			memset(p, 'a' + (int)(i % 26), lens[i]);
			p[lens[i]] = 0;
			cr_assert_eq(run_read_path(getpid(), (uintptr_t)p, buf, sizeof(buf)), 0, "len %zu off %zu", lens[i], offs[j]);
			cr_assert_eq(strlen(buf), lens[i], "len %zu off %zu", lens[i], offs[j]);
		}
	}
	cr_assert_eq(munmap(m + pg, pg), 0);
	char *p = m + pg - 301; /* 300 bytes and the NUL in the page's last byte */
	memset(p, 'x', 300);
	p[300] = 0;
	cr_assert_eq(run_read_path(getpid(), (uintptr_t)p, buf, sizeof(buf)), 0);
	cr_assert_eq(strlen(buf), 300);
	p[300] = 'x'; /* runs into the unmapped page after 300 readable bytes */
	cr_assert_eq(run_read_path(getpid(), (uintptr_t)p, buf, sizeof(buf)), -EFAULT);
	munmap(m, pg);
}
