/* Unit tests of the in-memory xattr store (fsimpl/tmpfs/xattr.c). */
#include <criterion/criterion.h>
#include <sys/xattr.h>

#include "fsimpl/tmpfs/internal.h"

static struct memxattr *x;
static void teardown(void)
{
	memxattr_free(&x);
	cr_assert_null(x);
}
TestSuite(memxattr, .fini = teardown);

Test(memxattr, get_absent_is_enodata)
{
	char b[4];
	cr_assert_eq(memxattr_get(&x, "user.a", b, sizeof(b)), -ENODATA);
	cr_assert_eq(memxattr_remove(&x, "user.a"), -ENODATA);
	cr_assert_null(x, "reads allocate nothing");
}

Test(memxattr, set_get_size_and_erange)
{
	char b[16];
	cr_assert_eq(memxattr_set(&x, "user.k", "value", 5, 0), 0);
	cr_assert_eq(memxattr_get(&x, "user.k", NULL, 0), 5, "len 0 returns the size");
	cr_assert_eq(memxattr_get(&x, "user.k", b, 4), -ERANGE);
	cr_assert_eq(memxattr_get(&x, "user.k", b, sizeof(b)), 5);
	cr_assert(!memcmp(b, "value", 5));
}

Test(memxattr, empty_value)
{
	char b[1];
	cr_assert_eq(memxattr_set(&x, "user.e", "", 0, 0), 0);
	cr_assert_eq(memxattr_get(&x, "user.e", b, 1), 0);
	cr_assert_eq(memxattr_get(&x, "user.e", NULL, 0), 0);
}

Test(memxattr, create_replace_flags)
{
	cr_assert_eq(memxattr_set(&x, "user.a", "1", 1, XATTR_REPLACE), -ENODATA);
	cr_assert_eq(memxattr_set(&x, "user.a", "1", 1, XATTR_CREATE), 0);
	cr_assert_eq(memxattr_set(&x, "user.a", "2", 1, XATTR_CREATE), -EEXIST);
	cr_assert_eq(memxattr_set(&x, "user.a", "33", 2, XATTR_REPLACE), 0);
	char b[4];
	cr_assert_eq(memxattr_get(&x, "user.a", b, sizeof(b)), 2);
	cr_assert(!memcmp(b, "33", 2));
	cr_assert_eq(memxattr_set(&x, "user.a", "1", 1, XATTR_CREATE | XATTR_REPLACE), -EINVAL);
}

Test(memxattr, limits)
{
	static char big[MEMXATTR_VALUE_MAX + 1];
	cr_assert_eq(memxattr_set(&x, "user.big", big, MEMXATTR_VALUE_MAX + 1, 0), -E2BIG);
	cr_assert_eq(memxattr_set(&x, "user.big", big, MEMXATTR_VALUE_MAX, 0), 0);
	char name[300];
	memset(name, 'n', sizeof(name));
	name[256] = 0; /* 256 chars */
	cr_assert_eq(memxattr_set(&x, name, "v", 1, 0), -ERANGE);
	name[255] = 0;
	cr_assert_eq(memxattr_set(&x, name, "v", 1, 0), 0);
	cr_assert_eq(memxattr_set(&x, "", "v", 1, 0), -ERANGE);
}

Test(memxattr, list_order_size_erange_and_remove)
{
	char b[64];
	cr_assert_eq(memxattr_list(&x, b, sizeof(b)), 0);
	cr_assert_eq(memxattr_set(&x, "user.one", "1", 1, 0), 0);
	cr_assert_eq(memxattr_set(&x, "trusted.two", "2", 1, 0), 0);
	cr_assert_eq(memxattr_set(&x, "user.three", "3", 1, 0), 0);
	cr_assert_eq(memxattr_set(&x, "user.one", "11", 2, 0), 0); /* replace keeps the order */
	const char want[] = "user.one\0trusted.two\0user.three";
	cr_assert_eq(memxattr_list(&x, NULL, 0), (ssize_t)sizeof(want));
	cr_assert_eq(memxattr_list(&x, b, sizeof(want) - 1), -ERANGE);
	cr_assert_eq(memxattr_list(&x, b, sizeof(b)), (ssize_t)sizeof(want));
	cr_assert(!memcmp(b, want, sizeof(want)));
	cr_assert_eq(memxattr_remove(&x, "user.three"), 0); /* the tail */
	cr_assert_eq(memxattr_set(&x, "user.four", "4", 1, 0), 0);
	const char want2[] = "user.one\0trusted.two\0user.four";
	cr_assert_eq(memxattr_list(&x, b, sizeof(b)), (ssize_t)sizeof(want2));
	cr_assert(!memcmp(b, want2, sizeof(want2)));
	cr_assert_eq(memxattr_remove(&x, "user.one"), 0);
	cr_assert_eq(memxattr_remove(&x, "trusted.two"), 0);
	cr_assert_eq(memxattr_remove(&x, "user.four"), 0);
	cr_assert_null(x, "an emptied store is freed");
	cr_assert_eq(memxattr_list(&x, NULL, 0), 0);
}
