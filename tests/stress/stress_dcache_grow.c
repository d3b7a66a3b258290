/* stress_dcache_grow.c — the dentry hash grows from 4096 buckets past
 * 100k entries while other threads rename and look names up (review C1:
 * a resize once deadlocked against rename and stopped every lookup).
 * Built with -fsanitize=thread and run by `make check`.
 *
 * Threads:
 *  - NCREATORS creators make /gC/dD/fI (mknod S_IFREG), unlinking every
 *    UNLINK_EVERY-th name again, and publish how far they got;
 *  - one renamer moves /ra/xK <-> /rb/xK (K < NREN) and knows where each is;
 *  - NREADERS readers stat names the creators have published (must exist,
 *    or be ENOENT only if unlinked) and the moving xK (0 or ENOENT, and
 *    always the ino xK was created with).
 * A watchdog (the main thread) fails the run when the total operation
 * count stops moving for STRESS_STALL_SECONDS (default 20): a deadlock
 * hangs lookups, it does not return errors.
 *
 * At the end: every surviving name resolves, every unlinked one is ENOENT,
 * each directory lists exactly the names it should, each xK is in exactly
 * one of /ra, /rb, and uvfs_destroy reports no live object.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "uvfs.h"

#define NCREATORS 2
#define NDIRS 4 /* per creator: several parents, so hashes differ by parent too */
#define PER_CREATOR 55000 /* 110k names in all, 3 resizes (4096, 16384, 65536) */
#define UNLINK_EVERY 9
#define NREADERS 2
#define NREN 8

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static atomic_bool stop;
static atomic_long progress, n_stats, n_renames, n_inconsistent;
static atomic_long published[NCREATORS]; /* names [0, published) exist or were unlinked */
static uint64_t x_ino[NREN];

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void bad(const char *fmt, ...)
{
	if (atomic_fetch_add(&n_inconsistent, 1) < 20) {
		va_list ap;
		va_start(ap, fmt);
		fprintf(stderr, "INCONSISTENT: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

static struct uvfs_pathop pop(const char *path)
{
	return (struct uvfs_pathop){ .root = root, .start = root, .path = path };
}

static int stat_ino(const char *path, uint64_t *ino)
{
	struct uvfs_pathop p = pop(path);
	struct statx st;
	int err = uvfs_stat_at(vfs, &cred, &p, STATX_INO, &st);
	if (!err && ino)
		*ino = st.stx_ino;
	return err;
}

static void name_of(char *buf, size_t len, int c, long i)
{
	snprintf(buf, len, "/g%d/d%ld/f%ld", c, i % NDIRS, i);
}

static bool unlinked(long i) { return i % UNLINK_EVERY == UNLINK_EVERY - 1; }

static void die(const char *what, int rc)
{
	fprintf(stderr, "stress_dcache_grow: %s failed: %d (%s)\n", what, rc, strerror(-rc));
	exit(2);
}

static void *creator(void *arg)
{
	int c = (int)(long)arg;
	char path[64];
	uvfs_thread_enter();
	for (long i = 0; i < PER_CREATOR; i++) {
		name_of(path, sizeof(path), c, i);
		struct uvfs_pathop p = pop(path);
		int err = uvfs_mknod_at(vfs, &cred, &p, S_IFREG | 0644, 0);
		if (err)
			bad("create %s: %d", path, err);
		if (unlinked(i) && (err = uvfs_unlink_at(vfs, &cred, &p)))
			bad("unlink %s: %d", path, err);
		atomic_store(&published[c], i + 1);
		atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
	}
	uvfs_thread_leave();
	return NULL;
}

static void *renamer(void *arg)
{
	(void)arg;
	bool in_b[NREN] = { false };
	char from[32], to[32];
	uvfs_thread_enter();
	for (unsigned long n = 0; !atomic_load(&stop); n++) {
		int k = (int)(n % NREN);
		snprintf(from, sizeof(from), "/r%c/x%d", in_b[k] ? 'b' : 'a', k);
		snprintf(to, sizeof(to), "/r%c/x%d", in_b[k] ? 'a' : 'b', k);
		struct uvfs_pathop a = pop(from), b = pop(to);
		int err = uvfs_rename_at(vfs, &cred, &a, &b, 0);
		if (err)
			bad("rename %s -> %s: %d", from, to, err);
		else
			in_b[k] = !in_b[k];
		atomic_fetch_add_explicit(&n_renames, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
	}
	uvfs_thread_leave();
	return NULL;
}

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(long)arg * 7919u + 1;
	char path[64];
	uvfs_thread_enter();
	while (!atomic_load(&stop)) {
		int c = (int)(rand_r(&seed) % NCREATORS);
		long pub = atomic_load(&published[c]);
		if (pub > 0) {
			long i = (long)(rand_r(&seed) % (unsigned long)pub);
			name_of(path, sizeof(path), c, i);
			int err = stat_ino(path, NULL);
			if (unlinked(i) ? (err != 0 && err != -ENOENT) : err != 0)
				bad("stat %s: %d", path, err);
		}
		int k = (int)(rand_r(&seed) % NREN);
		for (int side = 0; side < 2; side++) {
			uint64_t ino = 0;
			snprintf(path, sizeof(path), "/r%c/x%d", side ? 'b' : 'a', k);
			int err = stat_ino(path, &ino);
			if (err == 0 ? ino != x_ino[k] : err != -ENOENT)
				bad("stat %s: %d ino %llu (want %llu)", path, err, (unsigned long long)ino,
				    (unsigned long long)x_ino[k]);
		}
		atomic_fetch_add_explicit(&n_stats, 3, memory_order_relaxed);
		atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
	}
	uvfs_thread_leave();
	return NULL;
}

static void must_mkdir(const char *path)
{
	struct uvfs_pathop p = pop(path);
	int err = uvfs_mkdir_at(vfs, &cred, &p, 0755);
	if (err)
		die(path, err);
}

/* Names listed in dir (without "." and ".."). */
static long count_dir(const char *path)
{
	struct uvfs_pathop p = pop(path);
	struct uvfs_file *f;
	int err = uvfs_open_at(vfs, &cred, &p, O_RDONLY | O_DIRECTORY, 0, 0, &f);
	if (err)
		die(path, err);
	static char buf[65536];
	long n = 0;
	ssize_t got;
	while ((got = uvfs_getdents64(f, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < got;) {
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			const char *name = buf + off + 19;
			if (strcmp(name, ".") && strcmp(name, ".."))
				n++;
			off += reclen;
		}
	}
	if (got < 0)
		die("getdents64", (int)got);
	uvfs_file_put(f);
	return n;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	const char *e = getenv("STRESS_STALL_SECONDS");
	int stall_limit = e ? atoi(e) : 20;
	uvfs_cred_init_root(&cred);
	int err;
	if ((err = uvfs_create(&vfs)))
		die("uvfs_create", err);
	if ((err = uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, 0)))
		die("register tmpfs", err);
	if ((err = uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns)))
		die("mntns", err);
	uvfs_mntns_root(ns, &root);
	char path[64];
	for (int c = 0; c < NCREATORS; c++) {
		snprintf(path, sizeof(path), "/g%d", c);
		must_mkdir(path);
		for (int d = 0; d < NDIRS; d++) {
			snprintf(path, sizeof(path), "/g%d/d%d", c, d);
			must_mkdir(path);
		}
	}
	must_mkdir("/ra");
	must_mkdir("/rb");
	for (int k = 0; k < NREN; k++) {
		snprintf(path, sizeof(path), "/ra/x%d", k);
		struct uvfs_pathop p = pop(path);
		if ((err = uvfs_mknod_at(vfs, &cred, &p, S_IFREG | 0644, 0)) || (err = stat_ino(path, &x_ino[k])))
			die(path, err);
	}

	double t0 = now_s();
	pthread_t ct[NCREATORS], rt, lt[NREADERS];
	for (long c = 0; c < NCREATORS; c++)
		pthread_create(&ct[c], NULL, creator, (void *)c);
	pthread_create(&rt, NULL, renamer, NULL);
	for (long r = 0; r < NREADERS; r++)
		pthread_create(&lt[r], NULL, reader, (void *)r);

	/* Watchdog: the creators must finish and everyone must keep moving. */
	long last = -1;
	int stalled = 0;
	for (;;) {
		bool done = true;
		for (int c = 0; c < NCREATORS; c++)
			done &= atomic_load(&published[c]) == PER_CREATOR;
		if (done)
			break;
		sleep(1);
		long p = atomic_load(&progress);
		stalled = p == last ? stalled + 1 : 0;
		last = p;
		if (stalled >= stall_limit) {
			fprintf(stderr, "stress_dcache_grow: no progress for %d s (created %ld + %ld): deadlock?\n",
				stalled, atomic_load(&published[0]), atomic_load(&published[1]));
			_exit(3);
		}
	}
	for (int c = 0; c < NCREATORS; c++)
		pthread_join(ct[c], NULL);
	atomic_store(&stop, true);
	pthread_join(rt, NULL);
	for (int r = 0; r < NREADERS; r++)
		pthread_join(lt[r], NULL);
	double t1 = now_s();

	/* Consistency: every surviving name is found, no unlinked one is. */
	long expect_total = 0;
	for (int c = 0; c < NCREATORS; c++) {
		long per_dir[NDIRS] = { 0 };
		for (long i = 0; i < PER_CREATOR; i++) {
			name_of(path, sizeof(path), c, i);
			err = stat_ino(path, NULL);
			if (unlinked(i) ? err != -ENOENT : err != 0)
				bad("after: stat %s: %d", path, err);
			if (!unlinked(i))
				per_dir[i % NDIRS]++;
		}
		for (int d = 0; d < NDIRS; d++) {
			snprintf(path, sizeof(path), "/g%d/d%d", c, d);
			long n = count_dir(path);
			if (n != per_dir[d])
				bad("after: %s lists %ld names, want %ld", path, n, per_dir[d]);
			expect_total += per_dir[d];
		}
	}
	for (int k = 0; k < NREN; k++) {
		char a[32], b[32];
		snprintf(a, sizeof(a), "/ra/x%d", k);
		snprintf(b, sizeof(b), "/rb/x%d", k);
		if ((stat_ino(a, NULL) == 0) == (stat_ino(b, NULL) == 0))
			bad("after: x%d in both or neither of /ra, /rb", k);
	}
	if (count_dir("/ra") + count_dir("/rb") != NREN)
		bad("after: /ra + /rb do not list %d names", NREN);

	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int leak = uvfs_destroy(vfs, &live);
	long inc = atomic_load(&n_inconsistent);
	printf("stress_dcache_grow: %.1f s, %ld names kept (%d created), %ld renames, %ld stats, %ld "
	       "inconsistencies, destroy %d\n",
	       t1 - t0, expect_total, NCREATORS * PER_CREATOR, atomic_load(&n_renames), atomic_load(&n_stats), inc,
	       leak);
	return inc || leak ? 1 : 0;
}
