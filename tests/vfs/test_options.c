/* test_options.c — the shared mount option parser (uvfs_fs.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "uvfs_fs.h"

static struct uvfs_opts o;

static void parse_ok(const char *data)
{
	memset(&o, 0, sizeof o);
	int rc = uvfs_opts_parse(&o, data);
	cr_assert_eq(rc, 0, "parse \"%s\": %d", data ? data : "(null)", rc);
}

Test(opts, split_and_skip_empty)
{
	parse_ok("a=1,b,,c=2,");
	cr_assert_eq(o.n, 3);
	cr_assert_str_eq(o.o[0].key, "a");
	cr_assert_str_eq(o.o[0].val, "1");
	cr_assert_str_eq(o.o[1].key, "b");
	cr_assert_str_eq(o.o[1].val, "", "bare key has value \"\"");
	cr_assert_str_eq(o.o[2].key, "c");
	cr_assert_str_eq(o.o[2].val, "2");
	cr_assert_not(o.o[0].used);
	uvfs_opts_free(&o);
}

Test(opts, null_and_empty)
{
	parse_ok(NULL);
	cr_assert_eq(o.n, 0);
	cr_assert_eq(uvfs_opts_check_unused(&o, "test"), 0);
	uvfs_opts_free(&o);
	parse_ok("");
	cr_assert_eq(o.n, 0);
	uvfs_opts_free(&o);
	parse_ok(",,,");
	cr_assert_eq(o.n, 0);
	uvfs_opts_free(&o);
}

Test(opts, split_on_first_equals)
{
	parse_ok("k=v=w,x==");
	cr_assert_str_eq(uvfs_opts_take(&o, "k"), "v=w");
	cr_assert_str_eq(uvfs_opts_take(&o, "x"), "=");
	uvfs_opts_free(&o);
}

Test(opts, later_duplicate_wins)
{
	parse_ok("mode=0700,uid=1,mode=0755");
	cr_assert_str_eq(uvfs_opts_take(&o, "mode"), "0755");
	cr_assert_str_eq(uvfs_opts_take(&o, "uid"), "1");
	cr_assert_eq(uvfs_opts_check_unused(&o, "test"), 0, "taking a key consumes its duplicates too");
	uvfs_opts_free(&o);
}

Test(opts, take_and_check_unused)
{
	parse_ok("a=1,b=2");
	cr_assert_null(uvfs_opts_take(&o, "zzz"));
	cr_assert_null(uvfs_opts_take(&o, "A"), "keys are case-sensitive");
	cr_assert_str_eq(uvfs_opts_take(&o, "a"), "1");
	cr_assert_eq(uvfs_opts_check_unused(&o, "test"), -EINVAL);
	cr_assert_str_eq(uvfs_opts_take(&o, "b"), "2");
	cr_assert_eq(uvfs_opts_check_unused(&o, "test"), 0);
	/* Taking twice still works. */
	cr_assert_str_eq(uvfs_opts_take(&o, "a"), "1");
	uvfs_opts_free(&o);
}

Test(opts, empty_key_einval)
{
	memset(&o, 0, sizeof o);
	cr_assert_eq(uvfs_opts_parse(&o, "=x"), -EINVAL);
	memset(&o, 0, sizeof o);
	cr_assert_eq(uvfs_opts_parse(&o, "a=1,=2"), -EINVAL);
}

Test(opts, too_many_items_einval)
{
	char buf[1024] = "";
	for (int i = 0; i < UVFS_OPTS_MAX; i++) {
		char item[16];
		snprintf(item, sizeof item, "k%d,", i);
		strcat(buf, item);
	}
	parse_ok(buf);
	cr_assert_eq(o.n, UVFS_OPTS_MAX);
	uvfs_opts_free(&o);
	strcat(buf, "one_more");
	memset(&o, 0, sizeof o);
	cr_assert_eq(uvfs_opts_parse(&o, buf), -EINVAL);
}

Test(opts, take_u64)
{
	parse_ok("n=42,big=18446744073709551615,neg=-1,junk=12x,empty=,hex=0x10");
	uint64_t v = 7;
	bool present = false;
	cr_assert_eq(uvfs_opts_take_u64(&o, "n", &v, &present), 0);
	cr_assert(present);
	cr_assert_eq(v, 42);
	cr_assert_eq(uvfs_opts_take_u64(&o, "big", &v, &present), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(uvfs_opts_take_u64(&o, "neg", &v, &present), -EINVAL);
	cr_assert_eq(uvfs_opts_take_u64(&o, "junk", &v, &present), -EINVAL);
	cr_assert_eq(uvfs_opts_take_u64(&o, "empty", &v, &present), -EINVAL);
	v = 99;
	cr_assert_eq(uvfs_opts_take_u64(&o, "absent", &v, &present), 0);
	cr_assert_not(present);
	cr_assert_eq(v, 99, "absent key leaves the output alone");
	uvfs_opts_free(&o);
	parse_ok("over=18446744073709551616");
	cr_assert_eq(uvfs_opts_take_u64(&o, "over", &v, &present), -EINVAL);
	uvfs_opts_free(&o);
}

Test(opts, take_octal)
{
	parse_ok("mode=0755,m2=1777,bad=9,neg=-1,x=07a");
	uint32_t m = 0;
	bool present = false;
	cr_assert_eq(uvfs_opts_take_octal(&o, "mode", &m, &present), 0);
	cr_assert(present);
	cr_assert_eq(m, 0755);
	cr_assert_eq(uvfs_opts_take_octal(&o, "m2", &m, &present), 0);
	cr_assert_eq(m, 01777);
	cr_assert_eq(uvfs_opts_take_octal(&o, "bad", &m, &present), -EINVAL);
	cr_assert_eq(uvfs_opts_take_octal(&o, "neg", &m, &present), -EINVAL);
	cr_assert_eq(uvfs_opts_take_octal(&o, "x", &m, &present), -EINVAL);
	cr_assert_eq(uvfs_opts_take_octal(&o, "none", &m, &present), 0);
	cr_assert_not(present);
	uvfs_opts_free(&o);
}

Test(opts, take_size)
{
	parse_ok("a=100,b=4k,c=2m,d=1g,e=50%,f=3K,g=1M,h=1G,bad=1q,pct=200%");
	uint64_t v;
	bool present;
	cr_assert_eq(uvfs_opts_take_size(&o, "a", 1000, &v, &present), 0);
	cr_assert_eq(v, 100);
	cr_assert(present);
	cr_assert_eq(uvfs_opts_take_size(&o, "b", 1000, &v, &present), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(uvfs_opts_take_size(&o, "c", 1000, &v, &present), 0);
	cr_assert_eq(v, 2u << 20);
	cr_assert_eq(uvfs_opts_take_size(&o, "d", 1000, &v, &present), 0);
	cr_assert_eq(v, 1ull << 30);
	cr_assert_eq(uvfs_opts_take_size(&o, "e", 1000, &v, &present), 0);
	cr_assert_eq(v, 500);
	cr_assert_eq(uvfs_opts_take_size(&o, "f", 1000, &v, &present), 0);
	cr_assert_eq(v, 3072);
	cr_assert_eq(uvfs_opts_take_size(&o, "g", 1000, &v, &present), 0);
	cr_assert_eq(v, 1u << 20);
	cr_assert_eq(uvfs_opts_take_size(&o, "h", 1000, &v, &present), 0);
	cr_assert_eq(v, 1ull << 30);
	cr_assert_eq(uvfs_opts_take_size(&o, "bad", 1000, &v, &present), -EINVAL);
	cr_assert_eq(uvfs_opts_take_size(&o, "missing", 1000, &v, &present), 0);
	cr_assert_not(present);
	uvfs_opts_free(&o);
	parse_ok("huge=99999999999g");
	cr_assert_eq(uvfs_opts_take_size(&o, "huge", 1000, &v, &present), -EINVAL, "overflow must be rejected");
	uvfs_opts_free(&o);
}

Test(opts, check_unused_after_failed_take)
{
	parse_ok("mode=zzz");
	uint32_t m;
	bool present;
	cr_assert_eq(uvfs_opts_take_octal(&o, "mode", &m, &present), -EINVAL);
	/* The key was recognised (its value was bad): not "unknown". */
	cr_assert_eq(uvfs_opts_check_unused(&o, "test"), 0);
	uvfs_opts_free(&o);
}
