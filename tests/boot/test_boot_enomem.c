/* test_boot_enomem.c — allocation failure injection over load → compile →
 * bind fds → free. Linked with -Wl,--wrap for malloc, calloc, realloc,
 * strdup and strndup (test_boot_enomem.ldflags), so every allocation boot/
 * makes goes through the wrappers (jansson's own allocations do not). The
 * scenario runs once to count allocations, then once per allocation with
 * only that one failing, and once with every allocation from it on failing.
 * Each run must end in 0 or -ENOMEM with nothing handed out; LeakSanitizer
 * (scripts/run-tests.sh makes a leak fail the binary) catches lost memory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);

static long alloc_count, fail_at = -1;
static bool persistent, armed;

static bool should_fail(void)
{
	if (!armed)
		return false;
	long n = ++alloc_count;
	return fail_at > 0 && (persistent ? n >= fail_at : n == fail_at);
}

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return should_fail() ? NULL : __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return should_fail() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return should_fail() ? NULL : __real_strndup(s, n); }

/* Every feature at once: hints (shared tmpfs, bind-typed fix), verity,
 * none, unknown types, tmpfs filtering, cgroupfs and overlay flags. */
static const char spec_json[] =
	"{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}, \"hostname\": \"h\","
	" \"process\": {\"args\": [\"sh\", \"-c\"], \"env\": [\"A=1\"], \"cwd\": \"/\","
	"  \"user\": {\"uid\": 1, \"gid\": 2, \"additionalGids\": [3]}},"
	" \"mounts\": ["
	"  {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/k/vol\", \"options\": [\"rbind\", \"rw\"]},"
	"  {\"destination\": \"/t\", \"type\": \"tmpfs\", \"source\": \"/k/t\", \"options\": [\"rw\", \"mode=1777\"]},"
	"  {\"destination\": \"/v\", \"type\": \"bind\", \"source\": \"/h\", \"options\": [\"ro\", \"verity.roothash=ab\","
	"   \"verity.action=bad\"]},"
	"  {\"destination\": \"tmp/\", \"type\": \"tmpfs\", \"options\": [\"mode=1777\", \"nr_inodes=10\", \"x\"]},"
	"  {\"destination\": \"/n\", \"type\": \"none\"}, {\"destination\": \"/q\", \"type\": \"mqueue\"},"
	"  {\"destination\": \"/w\", \"type\": \"bind\", \"source\": \"/hw\"},"
	"  {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\"}],"
	" \"annotations\": {\"dev.gvisor.spec.mount.vol.source\": \"/k/vol\", \"dev.gvisor.spec.mount.vol.type\": \"tmpfs\","
	"  \"dev.gvisor.spec.mount.vol.share\": \"pod\", \"dev.gvisor.spec.mount.vol.options\": \"rw,mode=1777\","
	"  \"dev.gvisor.spec.mount.t.source\": \"/k/t\", \"dev.gvisor.spec.mount.t.type\": \"tmpfs\","
	"  \"dev.gvisor.spec.mount.t.share\": \"pod\", \"dev.gvisor.spec.mount.t.options\": \"mode=1777,rw\"},"
	" \"linux\": {\"cgroupsPath\": \"/c\"}}";

static int bad;

static void check(int rc, const void *out, const char *what)
{
	if (rc == 0 && out)
		return;
	if (rc != -ENOMEM || out) {
		fprintf(stderr, "fail_at %ld%s: %s: rc %d, out %p\n", fail_at, persistent ? " (persistent)" : "", what,
			rc, out);
		bad++;
	}
}

/* 0 when every step succeeded. */
static int scenario(void)
{
	char err[256];
	struct uvfs_oci_spec *s = (void *)1;
	int rc = uvfs_oci_parse(spec_json, sizeof spec_json - 1, "config.json", &s, err, sizeof err);
	check(rc, rc ? s : (void *)1, "parse");
	if (rc)
		return rc;
	struct uvfs_mount_plan *p = (void *)1;
	rc = uvfs_oci_compile_mounts(s, UVFS_OCI_CGROUPFS | UVFS_OCI_OVERLAY, &p, err, sizeof err);
	check(rc, rc ? p : (void *)1, "compile");
	if (!rc) {
		int fds[] = { 10, 11, 12, 13 };
		if (p->ngofers != 3) {
			fprintf(stderr, "ngofers %zu\n", p->ngofers);
			bad++;
		}
		rc = uvfs_mount_plan_bind_fds(p, fds, p->ngofers, err, sizeof err);
		if (rc && rc != -ENOMEM) {
			fprintf(stderr, "fail_at %ld: bind_fds rc %d: %s\n", fail_at, rc, err);
			bad++;
		}
		if (rc == -ENOMEM && p->root.fd != -1) {
			fprintf(stderr, "fail_at %ld: bind_fds changed the plan on error\n", fail_at);
			bad++;
		}
		uvfs_mount_plan_free(p);
	}
	uvfs_oci_spec_free(s);
	return rc;
}

Test(boot_enomem, every_allocation_failure_is_clean, .timeout = 120)
{
	uvfs_log_set_level(-1); /* the spec's warnings, once per run */
	armed = true;
	alloc_count = 0;
	fail_at = -1;
	cr_assert_eq(scenario(), 0, "the scenario itself must succeed");
	cr_assert_eq(bad, 0);
	long total = alloc_count;
	cr_assert_gt(total, 50, "only %ld allocations seen: wrappers not linked?", total);
	long failures = 0;
	for (int pers = 0; pers < 2; pers++) {
		persistent = pers;
		for (fail_at = 1; fail_at <= total; fail_at++) {
			alloc_count = 0;
			failures += scenario() != 0;
		}
	}
	armed = false;
	cr_assert_eq(bad, 0, "%d runs ended badly (see stderr)", bad);
	cr_assert_gt(failures, total, "%ld of %ld runs failed", failures, 2 * total);
}
