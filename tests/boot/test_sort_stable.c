/* test_sort_stable.c — the submount sort is stable by construction, not by
 * luck: glibc's qsort happens to be a merge sort (stable), musl's is not. Here
 * qsort is wrapped (-Wl,--wrap=qsort, see the .ldflags) to reverse its input
 * first, which turns any comparator that leaves equal lengths unordered into
 * a visible reordering. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"

void __real_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
void __wrap_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
void __wrap_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *b = base, tmp[512];
	cr_assert_leq(size, sizeof tmp);
	for (size_t i = 0; i < n / 2; i++) {
		memcpy(tmp, b + i * size, size);
		memcpy(b + i * size, b + (n - 1 - i) * size, size);
		memcpy(b + (n - 1 - i) * size, tmp, size);
	}
	__real_qsort(base, n, size, cmp);
}

Test(sort, equal_lengths_keep_spec_order_under_any_qsort)
{
	const char *j = "{\"ociVersion\": \"1\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"],"
			" \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}}, \"mounts\": ["
			"{\"destination\": \"/b\", \"type\": \"tmpfs\"}, {\"destination\": \"/c\", \"type\": \"tmpfs\"},"
			"{\"destination\": \"/a\", \"type\": \"tmpfs\"}, {\"destination\": \"/zz/y\", \"type\": \"tmpfs\"},"
			"{\"destination\": \"/aa/y\", \"type\": \"tmpfs\"}]}";
	char err[256];
	struct uvfs_oci_spec *s;
	struct uvfs_mount_plan *p;
	cr_assert_eq(uvfs_oci_parse(j, strlen(j), NULL, &s, err, sizeof err), 0, "%s", err);
	cr_assert_eq(uvfs_oci_compile_mounts(s, 0, &p, err, sizeof err), 0, "%s", err);
	const char *want[] = { "/b", "/c", "/a", "/sys", "/dev", "/proc", "/zz/y", "/aa/y", "/dev/pts" };
	cr_assert_eq(p->nmounts, 9);
	for (size_t i = 0; i < 9; i++)
		cr_assert_str_eq(p->mounts[i].destination, want[i], "position %zu", i);
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
}
