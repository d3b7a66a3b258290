/* stress_walk.c — concurrent path resolution against create/unlink,
 * cross-directory renames (files and a directory) and mount/umount in the
 * same tree. Built with -fsanitize=thread and run by `make check`.
 *
 * Invariants checked by the readers:
 *  - /stable/... is never modified: it always resolves, with the same ino,
 *    and its content reads back;
 *  - /ren{1,2}/rfN and /ren{1,2}/rd/inner move between the two directories:
 *    a stat gives either ENOENT or the one ino that name ever had;
 *  - /churn/fN is created and unlinked: 0 or ENOENT, nothing else;
 *  - /mnt is mounted over and unmounted: /mnt/under is either visible with
 *    its ino (not mounted) or ENOENT (mounted), never another error.
 * Writers check that their own operations succeed. The last line of output
 * counts operations per kind and inconsistencies; exit status is nonzero on
 * any inconsistency or on a leak reported by uvfs_destroy().
 *
 * STRESS_SECONDS (default 3) bounds the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "uvfs.h"

#define NREADERS 3
#define NCHURN 16
#define NREN 6

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static atomic_bool stop;

static atomic_long n_lookups, n_opens, n_creates, n_unlinks, n_renames, n_mounts, n_umounts, n_detaches,
	n_inconsistent, n_mounted_seen, n_unmounted_seen;

static uint64_t stable_file_ino, stable_dir_ino, under_ino, rd_ino, inner_ino;
static uint64_t rf_ino[NREN];

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void bad(const char *fmt, ...)
{
	long n = atomic_fetch_add(&n_inconsistent, 1);
	if (n < 20) {
		va_list ap;
		va_start(ap, fmt);
		fprintf(stderr, "INCONSISTENT: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

static struct uvfs_pathop pop(const char *path, unsigned flags)
{
	struct uvfs_pathop p = { .root = root, .start = root, .path = path, .flags = flags };
	return p;
}

static int stat_path(const char *path, struct statx *st)
{
	struct uvfs_pathop p = pop(path, UVFS_PATH_FOLLOW);
	memset(st, 0, sizeof *st);
	return uvfs_stat_at(vfs, &cred, &p, STATX_INO | STATX_TYPE, st);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "stress_walk: setup %s failed: %d (%s)\n", what, rc, strerror(-rc));
	exit(2);
}

static uint64_t must_ino(const char *path)
{
	struct statx st;
	int rc = stat_path(path, &st);
	if (rc)
		die(path, rc);
	return st.stx_ino;
}

static void must_mkdir(const char *path)
{
	struct uvfs_pathop p = pop(path, 0);
	int rc = uvfs_mkdir_at(vfs, &cred, &p, 0755);
	if (rc)
		die(path, rc);
}

static void must_file(const char *path, const char *data)
{
	struct uvfs_pathop p = pop(path, UVFS_PATH_FOLLOW);
	struct uvfs_file *f;
	int rc = uvfs_open_at(vfs, &cred, &p, O_CREAT | O_EXCL | O_WRONLY, 0644, 0, &f);
	if (rc)
		die(path, rc);
	ssize_t n = uvfs_write(f, data, strlen(data));
	uvfs_file_put(f);
	if (n != (ssize_t)strlen(data))
		die("write", (int)n);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ readers */

static void check_stable(unsigned *seed)
{
	static const char *paths[] = { "/stable/a/b/c/file", "//stable/./a/b/../b/c/file",
				       "/stable/a/b/c/../../../a/b/c/file", "/ren1/../stable/a/b/c/file" };
	const char *p = paths[rand_r(seed) % 4];
	struct statx st;
	int rc = stat_path(p, &st);
	atomic_fetch_add_explicit(&n_lookups, 1, memory_order_relaxed);
	if (rc != 0 || st.stx_ino != stable_file_ino)
		bad("stat %s: rc %d ino %llu (want %llu)", p, rc, (unsigned long long)st.stx_ino,
		    (unsigned long long)stable_file_ino);
	rc = stat_path("/stable/a", &st);
	atomic_fetch_add_explicit(&n_lookups, 1, memory_order_relaxed);
	if (rc != 0 || st.stx_ino != stable_dir_ino)
		bad("stat /stable/a: rc %d", rc);
}

static void check_open_stable(void)
{
	struct uvfs_pathop p = pop("/stable/a/b/c/file", UVFS_PATH_FOLLOW);
	struct uvfs_file *f = NULL;
	int rc = uvfs_open_at(vfs, &cred, &p, O_RDONLY, 0, 0, &f);
	atomic_fetch_add_explicit(&n_opens, 1, memory_order_relaxed);
	if (rc) {
		bad("open stable: %d", rc);
		return;
	}
	char buf[16] = { 0 };
	ssize_t n = uvfs_pread(f, buf, sizeof buf - 1, 0);
	if (n != 6 || memcmp(buf, "stable", 6) != 0)
		bad("read stable: %zd '%s'", n, buf);
	uvfs_file_put(f);
}

static void check_renamed(unsigned *seed)
{
	char path[64];
	int i = rand_r(seed) % NREN;
	int d = 1 + rand_r(seed) % 2;
	struct statx st;
	snprintf(path, sizeof path, "/ren%d/rf%d", d, i);
	int rc = stat_path(path, &st);
	atomic_fetch_add_explicit(&n_lookups, 1, memory_order_relaxed);
	if (!(rc == -ENOENT || (rc == 0 && st.stx_ino == rf_ino[i])))
		bad("stat %s: rc %d ino %llu (want ENOENT or %llu)", path, rc, (unsigned long long)st.stx_ino,
		    (unsigned long long)rf_ino[i]);
	snprintf(path, sizeof path, "/ren%d/rd/inner", d);
	rc = stat_path(path, &st);
	atomic_fetch_add_explicit(&n_lookups, 1, memory_order_relaxed);
	if (!(rc == -ENOENT || (rc == 0 && st.stx_ino == inner_ino)))
		bad("stat %s: rc %d ino %llu (want ENOENT or %llu)", path, rc, (unsigned long long)st.stx_ino,
		    (unsigned long long)inner_ino);
	snprintf(path, sizeof path, "/ren%d/rd/../rd", d);
	rc = stat_path(path, &st);
	atomic_fetch_add_explicit(&n_lookups, 1, memory_order_relaxed);
	if (!(rc == -ENOENT || (rc == 0 && st.stx_ino == rd_ino)))
		bad("stat %s: rc %d ino %llu (want ENOENT or %llu)", path, rc, (unsigned long long)st.stx_ino,
		    (unsigned long long)rd_ino);
}

static void check_churn(unsigned *seed)
{
	char path[64];
	snprintf(path, sizeof path, "/churn/f%d", rand_r(seed) % NCHURN);
	struct statx st;
	int rc = stat_path(path, &st);
	atomic_fetch_add_explicit(&n_lookups, 1, memory_order_relaxed);
	if (rc != 0 && rc != -ENOENT)
		bad("stat %s: rc %d", path, rc);
	if (rc == 0 && !S_ISREG(st.stx_mode))
		bad("stat %s: mode %o", path, st.stx_mode);
}

static void check_mount(void)
{
	struct statx st;
	int rc = stat_path("/mnt/under", &st);
	atomic_fetch_add_explicit(&n_lookups, 1, memory_order_relaxed);
	if (rc == 0 && st.stx_ino == under_ino)
		atomic_fetch_add_explicit(&n_unmounted_seen, 1, memory_order_relaxed);
	else if (rc == -ENOENT)
		atomic_fetch_add_explicit(&n_mounted_seen, 1, memory_order_relaxed);
	else
		bad("stat /mnt/under: rc %d ino %llu (want %llu or ENOENT)", rc, (unsigned long long)st.stx_ino,
		    (unsigned long long)under_ino);
	rc = stat_path("/mnt/over", &st);
	atomic_fetch_add_explicit(&n_lookups, 1, memory_order_relaxed);
	if (rc != 0 && rc != -ENOENT)
		bad("stat /mnt/over: rc %d", rc);
	/* get_dentry_at holds references across a possible umount. */
	struct uvfs_pathop p = pop("/mnt", UVFS_PATH_FOLLOW);
	struct uvfs_vd vd;
	rc = uvfs_get_dentry_at(vfs, &cred, &p, 0, &vd);
	atomic_fetch_add_explicit(&n_lookups, 1, memory_order_relaxed);
	if (rc)
		bad("get_dentry_at /mnt: rc %d", rc);
	else
		uvfs_vd_put(&vd);
}

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int k = 0; k < 16; k++) {
			switch (rand_r(&seed) % 5) {
			case 0: check_stable(&seed); break;
			case 1: check_renamed(&seed); break;
			case 2: check_churn(&seed); break;
			case 3: check_mount(); break;
			case 4: check_open_stable(); break;
			}
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ writers */

static void *churner(void *arg)
{
	unsigned seed = 12345;
	char path[64];
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		snprintf(path, sizeof path, "/churn/f%d", rand_r(&seed) % NCHURN);
		struct uvfs_pathop p = pop(path, UVFS_PATH_FOLLOW);
		struct uvfs_file *f = NULL;
		int rc = uvfs_open_at(vfs, &cred, &p, O_CREAT | O_EXCL | O_WRONLY, 0644, 0, &f);
		if (rc == 0) {
			uvfs_file_put(f);
			atomic_fetch_add_explicit(&n_creates, 1, memory_order_relaxed);
		} else if (rc == -EEXIST) {
			struct uvfs_pathop u = pop(path, 0); /* unlink never follows */
			rc = uvfs_unlink_at(vfs, &cred, &u);
			if (rc)
				bad("unlink %s: %d", path, rc);
			else
				atomic_fetch_add_explicit(&n_unlinks, 1, memory_order_relaxed);
		} else {
			bad("create %s: %d", path, rc);
		}
	}
	return NULL;
}

static void *renamer(void *arg)
{
	int where[NREN];
	int rd_where = 1;
	for (int i = 0; i < NREN; i++)
		where[i] = 1;
	unsigned seed = 777;
	char from[64], to[64];
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int i = rand_r(&seed) % (NREN + 1);
		int rc;
		if (i == NREN) {
			snprintf(from, sizeof from, "/ren%d/rd", rd_where);
			snprintf(to, sizeof to, "/ren%d/rd", 3 - rd_where);
			rd_where = 3 - rd_where;
		} else {
			snprintf(from, sizeof from, "/ren%d/rf%d", where[i], i);
			snprintf(to, sizeof to, "/ren%d/rf%d", 3 - where[i], i);
			where[i] = 3 - where[i];
		}
		struct uvfs_pathop a = pop(from, 0), b = pop(to, 0);
		rc = uvfs_rename_at(vfs, &cred, &a, &b, 0);
		if (rc) {
			bad("rename %s -> %s: %d", from, to, rc);
			break;
		}
		atomic_fetch_add_explicit(&n_renames, 1, memory_order_relaxed);
	}
	return NULL;
}

static void *mounter(void *arg)
{
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct uvfs_pathop p = pop("/mnt", UVFS_PATH_FOLLOW);
		struct uvfs_mount_opts o = { 0 };
		int rc = uvfs_mount_at(vfs, &cred, "none", &p, "tmpfs", &o);
		if (rc) {
			bad("mount /mnt: %d", rc);
			break;
		}
		atomic_fetch_add_explicit(&n_mounts, 1, memory_order_relaxed);
		struct uvfs_pathop q = pop("/mnt/over", UVFS_PATH_FOLLOW);
		struct uvfs_file *f = NULL;
		rc = uvfs_open_at(vfs, &cred, &q, O_CREAT | O_WRONLY, 0644, 0, &f);
		if (rc)
			bad("create /mnt/over: %d", rc);
		else
			uvfs_file_put(f);
		struct timespec ts = { 0, 200 * 1000 };
		nanosleep(&ts, NULL);
		rc = uvfs_umount_at(vfs, &cred, &p, 0);
		if (rc == -EBUSY) {
			rc = uvfs_umount_at(vfs, &cred, &p, UVFS_UMOUNT_DETACH);
			if (rc == 0)
				atomic_fetch_add_explicit(&n_detaches, 1, memory_order_relaxed);
		} else if (rc == 0) {
			atomic_fetch_add_explicit(&n_umounts, 1, memory_order_relaxed);
		}
		if (rc) {
			bad("umount /mnt: %d", rc);
			break;
		}
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(void)
{
	double secs = 3.0;
	const char *env = getenv("STRESS_SECONDS");
	if (env && atof(env) > 0)
		secs = atof(env);

	uvfs_cred_init_root(&cred);
	int rc = uvfs_create(&vfs);
	if (rc)
		die("uvfs_create", rc);
	rc = uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST);
	if (rc)
		die("register", rc);
	struct uvfs_mount_opts o = { 0 };
	rc = uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &o, &ns);
	if (rc)
		die("mntns_new", rc);
	uvfs_mntns_root(ns, &root);

	must_mkdir("/stable");
	must_mkdir("/stable/a");
	must_mkdir("/stable/a/b");
	must_mkdir("/stable/a/b/c");
	must_file("/stable/a/b/c/file", "stable");
	must_mkdir("/churn");
	must_mkdir("/ren1");
	must_mkdir("/ren2");
	must_mkdir("/ren1/rd");
	must_file("/ren1/rd/inner", "inner");
	must_mkdir("/mnt");
	must_file("/mnt/under", "under");
	char path[64];
	for (int i = 0; i < NREN; i++) {
		snprintf(path, sizeof path, "/ren1/rf%d", i);
		must_file(path, "r");
		rf_ino[i] = must_ino(path);
	}
	stable_file_ino = must_ino("/stable/a/b/c/file");
	stable_dir_ino = must_ino("/stable/a");
	under_ino = must_ino("/mnt/under");
	rd_ino = must_ino("/ren1/rd");
	inner_ino = must_ino("/ren1/rd/inner");

	pthread_t r[NREADERS], w[3];
	for (int i = 0; i < NREADERS; i++)
		pthread_create(&r[i], NULL, reader, (void *)(uintptr_t)(i + 1));
	pthread_create(&w[0], NULL, churner, NULL);
	pthread_create(&w[1], NULL, renamer, NULL);
	pthread_create(&w[2], NULL, mounter, NULL);
	double t0 = now_s();
	while (now_s() - t0 < secs) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(r[i], NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(w[i], NULL);

	/* The stable tree is intact after the storm. */
	if (must_ino("/stable/a/b/c/file") != stable_file_ino)
		bad("stable file changed ino");
	if (must_ino("/mnt/under") != under_ino)
		bad("/mnt/under changed after the last umount");

	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	memset(&live, 0, sizeof live);
	rc = uvfs_destroy(vfs, &live);
	int leak = rc != 0 || live.dentries || live.inodes || live.mounts || live.mntns || live.files ||
		   live.filesystems;
	if (leak)
		fprintf(stderr,
			"stress_walk: LEAK at teardown (rc %d): %ld dentries, %ld inodes, %ld mounts, %ld mntns, "
			"%ld files, %ld filesystems\n",
			rc, live.dentries, live.inodes, live.mounts, live.mntns, live.files, live.filesystems);
	long bad_n = atomic_load(&n_inconsistent);
	printf("stress_walk: %ld lookups, %ld opens, %ld creates, %ld unlinks, %ld renames, %ld mounts, "
	       "%ld umounts, %ld detaches (mounted seen %ld, unmounted seen %ld), %ld inconsistencies%s\n",
	       atomic_load(&n_lookups), atomic_load(&n_opens), atomic_load(&n_creates), atomic_load(&n_unlinks),
	       atomic_load(&n_renames), atomic_load(&n_mounts), atomic_load(&n_umounts), atomic_load(&n_detaches),
	       atomic_load(&n_mounted_seen), atomic_load(&n_unmounted_seen), bad_n, leak ? ", LEAK" : "");
	return (bad_n || leak) ? 1 : 0;
}
