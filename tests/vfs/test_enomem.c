/* tests/vfs/test_enomem.c — allocation failure injection.
 *
 * This binary is linked with -Wl,--wrap for malloc, calloc, realloc,
 * posix_memalign and strdup (test_enomem.ldflags), so every allocation the
 * library makes goes through the wrappers below. A scenario touching every
 * path-level operation (create, write, links, xattrs, rename incl. exchange,
 * mount/umount, readdir) runs once to count its allocations, then once per
 * allocation with that allocation failing (transient: only the Nth fails)
 * and once per allocation with every allocation from the Nth on failing
 * (persistent). Each run must see only clean errors, and after cleanup the
 * instance must tear down with zero live objects; ASan's leak checker
 * watches for lost memory.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvfs.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
char *__real_strdup(const char *s);

static long alloc_count; /* allocations seen since arming */
static long fail_at = -1; /* the allocation number that fails (1-based) */
static bool persistent; /* fail every allocation from fail_at on */
static bool armed;

static bool should_fail(void)
{
	if (!armed)
		return false;
	long n = ++alloc_count;
	return fail_at > 0 && (persistent ? n >= fail_at : n == fail_at);
}

void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return should_fail() ? NULL : __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) { return should_fail() ? ENOMEM : __real_posix_memalign(p, a, n); }
char *__wrap_strdup(const char *s) { return should_fail() ? NULL : __real_strdup(s); }

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static int bad_errors;

static struct uvfs_pathop P(const char *path, unsigned flags)
{
	return (struct uvfs_pathop){ .root = root, .start = root, .path = path, .flags = flags };
}
#define PP(pa, fl) (&(struct uvfs_pathop){ .root = root, .start = root, .path = (pa), .flags = (fl) })

/* An operation under injection may fail with ENOMEM, or with the error a
 * previous failed step explains (a missing or present name). */
static void check(const char *what, long r)
{
	if (r >= 0 || r == -ENOMEM || r == -ENOENT || r == -EEXIST || r == -ENOTEMPTY)
		return;
	bad_errors++;
	fprintf(stderr, "fail_at %ld%s: %s: unexpected %ld (%s)\n", fail_at, persistent ? "+" : "", what, r,
		strerror((int)-r));
}

static void setup(void)
{
	armed = false;
	uvfs_cred_init_root(&cred);
	cr_assert_eq(uvfs_create(&vfs), 0);
	cr_assert_eq(uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST), 0);
	struct uvfs_mount_opts o = { .data = "size=4m" };
	cr_assert_eq(uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &o, &ns), 0);
	uvfs_mntns_root(ns, &root);
}

static int count_entries(void *arg, const char *name, size_t len, uint64_t ino, unsigned t, int64_t off)
{
	(*(int *)arg)++;
	return 0;
}

static void scenario(void)
{
	char buf[10000];
	memset(buf, 'x', sizeof buf);
	check("mkdir /a", uvfs_mkdir_at(vfs, &cred, PP("/a", 0), 0755));
	check("mkdir /a/b", uvfs_mkdir_at(vfs, &cred, PP("/a/b", 0), 0755));
	check("mkdir long", uvfs_mkdir_at(vfs, &cred, PP("/a/a-directory-name-longer-than-the-inline-storage", 0), 0755));
	struct uvfs_file *f = NULL;
	long r = uvfs_open_at(vfs, &cred, PP("/a/b/f", 0), O_CREAT | O_RDWR, 0644, 0, &f);
	check("create /a/b/f", r);
	if (!r) {
		check("write", uvfs_write(f, buf, sizeof buf));
		check("pwrite far", uvfs_pwrite(f, buf, 100, 1 << 20));
		check("truncate", uvfs_file_truncate(f, 5000));
		uvfs_file_put(f);
	}
	check("symlink", uvfs_symlink_at(vfs, &cred, "b/f", PP("/a/l", 0)));
	struct uvfs_pathop q = P("/a/h", 0);
	check("link", uvfs_link_at(vfs, &cred, PP("/a/b/f", 0), &q));
	check("setxattr", uvfs_setxattr_at(vfs, &cred, PP("/a/b/f", 0), "user.k", "value", 5, 0));
	char xb[64];
	check("listxattr", uvfs_listxattr_at(vfs, &cred, PP("/a/b/f", 0), xb, sizeof xb));
	struct statx st;
	check("stat via symlink", uvfs_stat_at(vfs, &cred, PP("/a/l", UVFS_PATH_FOLLOW), STATX_BASIC_STATS, &st));
	q = P("/a/g", 0);
	check("rename", uvfs_rename_at(vfs, &cred, PP("/a/b/f", 0), &q, 0));
	q = P("/a/a-directory-name-longer-than-the-inline-storage-renamed", 0);
	check("rename long", uvfs_rename_at(vfs, &cred, PP("/a/a-directory-name-longer-than-the-inline-storage", 0), &q, 0));
	q = P("/a/b", 0);
	check("exchange", uvfs_rename_at(vfs, &cred, PP("/a/h", 0), &q, RENAME_EXCHANGE));
	check("mkdir /m", uvfs_mkdir_at(vfs, &cred, PP("/m", 0), 0755));
	struct uvfs_mount_opts o = { .data = "mode=0700" };
	r = uvfs_mount_at(vfs, &cred, "none", PP("/m", 0), "tmpfs", &o);
	check("mount", r);
	if (!r) {
		check("mkdir in mount", uvfs_mkdir_at(vfs, &cred, PP("/m/x", 0), 0755));
		check("stat in mount", uvfs_stat_at(vfs, &cred, PP("/m/x/../x", 0), STATX_BASIC_STATS, &st));
		check("umount", uvfs_umount_at(vfs, &cred, PP("/m", 0), 0));
	}
	struct uvfs_file *d = NULL;
	r = uvfs_open_at(vfs, &cred, PP("/a", 0), O_RDONLY | O_DIRECTORY, 0, 0, &d);
	check("opendir", r);
	if (!r) {
		int n = 0;
		check("iterate", uvfs_iterate_dir(d, count_entries, &n));
		uvfs_file_put(d);
	}
}

/* Remove everything the scenario may have left, without injection. */
static void cleanup(void)
{
	armed = false;
	/* A mount that survived a failed umount. */
	uvfs_umount_at(vfs, &cred, PP("/m", 0), UVFS_UMOUNT_DETACH);
	const char *files[] = { "/a/b/f", "/a/h/f", "/a/g", "/a/h", "/a/b", "/a/l", NULL };
	for (int i = 0; files[i]; i++) {
		struct uvfs_pathop p = P(files[i], 0);
		if (uvfs_unlink_at(vfs, &cred, &p) == -EISDIR)
			uvfs_rmdir_at(vfs, &cred, &p);
	}
	const char *dirs[] = { "/a/b", "/a/h", "/a/a-directory-name-longer-than-the-inline-storage",
			       "/a/a-directory-name-longer-than-the-inline-storage-renamed", "/a", "/m", NULL };
	for (int i = 0; dirs[i]; i++)
		uvfs_rmdir_at(vfs, &cred, PP(dirs[i], 0));
	struct statx st;
	cr_assert_eq(uvfs_stat_at(vfs, &cred, PP("/a", 0), STATX_BASIC_STATS, &st), -ENOENT,
		     "fail_at %ld: /a survived cleanup", fail_at);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int err = uvfs_destroy(vfs, &live);
	cr_assert_eq(err, 0,
		     "fail_at %ld%s: leaked %ld dentries, %ld inodes, %ld mounts, %ld mntns, %ld files, %ld filesystems",
		     fail_at, persistent ? "+" : "", live.dentries, live.inodes, live.mounts, live.mntns, live.files,
		     live.filesystems);
}

static long count_allocs(void)
{
	setup();
	alloc_count = 0;
	fail_at = -1;
	armed = true;
	scenario();
	armed = false;
	long n = alloc_count;
	cleanup();
	return n;
}

static void run_all(bool persist)
{
	long total = count_allocs();
	cr_assert_gt(total, 20, "the scenario should allocate (saw %ld)", total);
	cr_assert_eq(bad_errors, 0, "errors without injection");
	long failures_seen = 0;
	for (long k = 1; k <= total; k++) {
		setup();
		alloc_count = 0;
		fail_at = k;
		persistent = persist;
		armed = true;
		scenario();
		armed = false;
		failures_seen += alloc_count >= k;
		cleanup();
	}
	persistent = false;
	fprintf(stderr, "enomem: %s failure injected at each of %ld allocation points\n",
		persist ? "persistent" : "transient", total);
	cr_assert_eq(bad_errors, 0, "%d operations failed with something other than a clean error", bad_errors);
	cr_assert_eq(failures_seen, total, "every allocation point should have been hit");
}

Test(enomem, transient_failure_at_every_allocation, .timeout = 120) { run_all(false); }

Test(enomem, persistent_failure_from_every_allocation, .timeout = 120) { run_all(true); }
