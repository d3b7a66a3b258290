/* stress_overlay.c — overlay copy-up under ThreadSanitizer.
 *
 * Each round, several threads open the same lower file for writing at
 * once (concurrent copy-ups of one file and of its parent directory) and
 * write their own byte; readers list the directory and read the file
 * meanwhile; a renamer moves upper-only files back and forth in the same
 * directory; a statter stats every file of the round lock-free (the RCU
 * walk and ->getattr_rcu, RESOLVE_CACHED) while a chmodder copies the other
 * files up. Checks: every copy-up keeps the lower data, every write lands
 * in the one upper copy, a listing never lacks a lower name nor repeats
 * one, a stat racing a copy-up sees a whole file (its st_ino, type, size,
 * the overlay's st_dev) and most stats are served lock-free, nothing is
 * left in the work directory, and teardown leaves no live object. Prints
 * one summary line; exits non-zero on any failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/overlay/overlay.h"
#include "uvfs.h"

#define ROUNDS 40
#define WRITERS 4
#define READERS 2
#define NFILES 8

static struct uvfs *vfs;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static _Atomic long bad, listings, stats_cached, stats_ref;
static struct statx first[NFILES]; /* round 0's files before any copy-up */
static pthread_barrier_t start;

static struct uvfs_pathop P(const char *path)
{
	return (struct uvfs_pathop){ .root = root, .start = root, .path = path };
}

static void fail(const char *what, long v)
{
	fprintf(stderr, "stress_overlay: %s (%ld)\n", what, v);
	atomic_fetch_add(&bad, 1);
}

static void *writer(void *arg)
{
	long id = (long)arg;
	for (int r = 0; r < ROUNDS; r++) {
		pthread_barrier_wait(&start);
		char p[64];
		snprintf(p, sizeof p, "/m/r%d/f0", r);
		struct uvfs_pathop pp = P(p);
		struct uvfs_file *f;
		int e = uvfs_open_at(vfs, &cred, &pp, O_WRONLY, 0, 0, &f);
		if (e) {
			fail("open for write", e);
		} else {
			char c = (char)('A' + id);
			if (uvfs_pwrite(f, &c, 1, 100 + id) != 1)
				fail("pwrite", id);
			uvfs_file_put(f);
		}
		pthread_barrier_wait(&start);
	}
	return NULL;
}

struct seen {
	int count[NFILES];
	int other;
};
static int list_cb(void *arg, const char *name, size_t len, uint64_t ino, unsigned type, int64_t off)
{
	(void)ino, (void)type, (void)off;
	struct seen *s = arg;
	if (len == 2 && name[0] == 'f' && name[1] >= '0' && name[1] < '0' + NFILES)
		s->count[name[1] - '0']++;
	else if (name[0] != '.')
		s->other++;
	return 0;
}

static void *reader(void *arg)
{
	(void)arg;
	for (int r = 0; r < ROUNDS; r++) {
		pthread_barrier_wait(&start);
		char p[64];
		snprintf(p, sizeof p, "/m/r%d", r);
		for (int k = 0; k < 3; k++) {
			struct uvfs_pathop pp = P(p);
			struct uvfs_file *d;
			if (uvfs_open_at(vfs, &cred, &pp, O_RDONLY | O_DIRECTORY, 0, 0, &d)) {
				fail("open dir", r);
				continue;
			}
			struct seen s = { 0 };
			if (uvfs_iterate_dir(d, list_cb, &s))
				fail("iterate", r);
			uvfs_file_put(d);
			for (int i = 0; i < NFILES; i++)
				if (s.count[i] != 1)
					fail("listing lost or repeated a lower name", i);
			atomic_fetch_add(&listings, 1);
			char q[64], buf[8];
			snprintf(q, sizeof q, "/m/r%d/f0", r);
			struct uvfs_pathop pq = P(q);
			struct uvfs_file *f;
			if (uvfs_open_at(vfs, &cred, &pq, O_RDONLY, 0, 0, &f) == 0) {
				if (uvfs_pread(f, buf, 4, 0) != 4 || memcmp(buf, "lowe", 4))
					fail("lower data lost", r);
				uvfs_file_put(f);
			}
		}
		pthread_barrier_wait(&start);
	}
	return NULL;
}

static void *renamer(void *arg)
{
	(void)arg;
	for (int r = 0; r < ROUNDS; r++) {
		pthread_barrier_wait(&start);
		char a[64], b[64];
		snprintf(a, sizeof a, "/m/r%d/up-a", r);
		snprintf(b, sizeof b, "/m/r%d/up-b", r);
		struct uvfs_pathop pa = P(a), pb = P(b);
		struct uvfs_file *f;
		if (uvfs_open_at(vfs, &cred, &pa, O_CREAT | O_WRONLY, 0644, 0, &f) == 0)
			uvfs_file_put(f);
		for (int k = 0; k < 20; k++) {
			uvfs_rename_at(vfs, &cred, &pa, &pb, 0);
			uvfs_rename_at(vfs, &cred, &pb, &pa, 0);
		}
		pthread_barrier_wait(&start);
	}
	return NULL;
}

/* Lock-free stats of every file of the round while they are copied up. */
static void *statter(void *arg)
{
	(void)arg;
	for (int r = 0; r < ROUNDS; r++) {
		pthread_barrier_wait(&start);
		uint64_t ino[NFILES] = { 0 };
		for (int k = 0; k < 30; k++)
			for (int i = 0; i < NFILES; i++) {
				char p[64];
				snprintf(p, sizeof p, "/m/r%d/f%d", r, i);
				struct uvfs_pathop pp = P(p);
				pp.flags |= UVFS_RESOLVE_CACHED;
				struct statx st;
				int e = uvfs_stat_at(vfs, &cred, &pp, STATX_BASIC_STATS, &st);
				if (e == -EAGAIN) {
					pp.flags &= ~UVFS_RESOLVE_CACHED;
					e = uvfs_stat_at(vfs, &cred, &pp, STATX_BASIC_STATS, &st);
					atomic_fetch_add(&stats_ref, 1);
				} else if (!e) {
					atomic_fetch_add(&stats_cached, 1);
				}
				if (e) {
					fail("stat during copy-up", e);
					continue;
				}
				if (!S_ISREG(st.stx_mode) || st.stx_size < 10 || st.stx_dev_major != first[0].stx_dev_major ||
				    st.stx_dev_minor != first[0].stx_dev_minor)
					fail("a stat saw a half-made copy or another device", i);
				if (r == 0 && st.stx_ino != first[i].stx_ino)
					fail("st_ino changed across copy-up", i);
				if (!ino[i])
					ino[i] = st.stx_ino;
				else if (st.stx_ino != ino[i])
					fail("st_ino changed across copy-up", i);
			}
		pthread_barrier_wait(&start);
	}
	return NULL;
}

/* Copies up f1.. of the round (chmod) while the statter reads them. */
static void *chmodder(void *arg)
{
	(void)arg;
	for (int r = 0; r < ROUNDS; r++) {
		pthread_barrier_wait(&start);
		for (int i = NFILES - 1; i >= 1; i--) {
			char p[64];
			snprintf(p, sizeof p, "/m/r%d/f%d", r, i);
			struct uvfs_pathop pp = P(p);
			struct uvfs_setattr sa = { .mask = STATX_MODE, .mode = 0640 };
			int e = uvfs_setstat_at(vfs, &cred, &pp, &sa, 0);
			if (e)
				fail("chmod (copy-up)", e);
		}
		pthread_barrier_wait(&start);
	}
	return NULL;
}

int main(void)
{
	uvfs_cred_init_root(&cred);
	if (uvfs_create(&vfs) || uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_register_fs_type(vfs, &uvfs_overlay_type, UVFS_FS_USER_MOUNT))
		return 2;
	struct uvfs_mntns *ns;
	if (uvfs_mntns_new(vfs, &cred, "none", "tmpfs", NULL, &ns))
		return 2;
	uvfs_mntns_root(ns, &root);
	const char *dirs[] = { "/l", "/up", "/m" };
	for (int i = 0; i < 3; i++) {
		struct uvfs_pathop p = P(dirs[i]);
		if (uvfs_mkdir_at(vfs, &cred, &p, 0755))
			return 2;
	}
	struct uvfs_pathop pl = P("/l"), pu = P("/up");
	if (uvfs_mount_at(vfs, &cred, "none", &pl, "tmpfs", NULL) || uvfs_mount_at(vfs, &cred, "none", &pu, "tmpfs", NULL))
		return 2;
	struct uvfs_pathop puu = P("/up/u"), pw = P("/up/w");
	uvfs_mkdir_at(vfs, &cred, &puu, 0755);
	uvfs_mkdir_at(vfs, &cred, &pw, 0755);
	for (int r = 0; r < ROUNDS; r++) {
		char p[64];
		snprintf(p, sizeof p, "/l/r%d", r);
		struct uvfs_pathop pd = P(p);
		uvfs_mkdir_at(vfs, &cred, &pd, 0755);
		for (int i = 0; i < NFILES; i++) {
			snprintf(p, sizeof p, "/l/r%d/f%d", r, i);
			struct uvfs_pathop pf = P(p);
			struct uvfs_file *f;
			if (uvfs_open_at(vfs, &cred, &pf, O_CREAT | O_WRONLY, 0644, 0, &f))
				return 2;
			uvfs_pwrite(f, "lower data", 10, 0);
			uvfs_file_put(f);
		}
	}
	struct uvfs_overlay_opts in = { .root = root };
	struct uvfs_mount_opts mo = { .data = "lowerdir=/l,upperdir=/up/u,workdir=/up/w", .internal = &in };
	struct uvfs_pathop pm = P("/m");
	int e = uvfs_mount_at(vfs, &cred, "overlay", &pm, "overlay", &mo);
	if (e) {
		fprintf(stderr, "overlay mount: %d\n", e);
		return 2;
	}

	for (int i = 0; i < NFILES; i++) {
		char p[64];
		snprintf(p, sizeof p, "/m/r0/f%d", i);
		struct uvfs_pathop pp = P(p);
		if ((e = uvfs_stat_at(vfs, &cred, &pp, STATX_BASIC_STATS, &first[i])))
			return 2;
	}
	int n = WRITERS + READERS + 3;
	pthread_barrier_init(&start, NULL, (unsigned)n);
	pthread_t t[WRITERS + READERS + 3];
	for (long i = 0; i < WRITERS; i++)
		pthread_create(&t[i], NULL, writer, (void *)i);
	for (int i = 0; i < READERS; i++)
		pthread_create(&t[WRITERS + i], NULL, reader, NULL);
	pthread_create(&t[n - 3], NULL, statter, NULL);
	pthread_create(&t[n - 2], NULL, chmodder, NULL);
	pthread_create(&t[n - 1], NULL, renamer, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);

	/* every writer's byte is in the one upper copy, after the lower data */
	for (int r = 0; r < ROUNDS; r++) {
		char p[64], buf[128];
		snprintf(p, sizeof p, "/up/u/r%d/f0", r);
		struct uvfs_pathop pp = P(p);
		struct uvfs_file *f;
		if ((e = uvfs_open_at(vfs, &cred, &pp, O_RDONLY, 0, 0, &f))) {
			fail("no upper copy", r);
			continue;
		}
		ssize_t got = uvfs_pread(f, buf, sizeof buf, 0);
		uvfs_file_put(f);
		if (got != 100 + WRITERS || memcmp(buf, "lower data", 10))
			fail("upper copy size/data", got);
		for (int i = 0; got == 100 + WRITERS && i < WRITERS; i++)
			if (buf[100 + i] != 'A' + i)
				fail("a write went to another copy", i);
	}
	struct uvfs_pathop pwork = P("/up/w");
	struct uvfs_file *wd;
	struct seen s = { 0 };
	if (uvfs_open_at(vfs, &cred, &pwork, O_RDONLY | O_DIRECTORY, 0, 0, &wd) == 0) {
		uvfs_iterate_dir(wd, list_cb, &s);
		uvfs_file_put(wd);
	}
	if (s.other)
		fail("temporaries left in work", s.other);
	pthread_barrier_destroy(&start);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	e = uvfs_destroy(vfs, &live);
	if (e)
		fail("live objects after teardown", live.dentries + live.inodes + live.mounts + live.files);
	/* The statter's stats must mostly take the lock-free path (each
	 * file's first stat of a round warms its dentry in ref-walk). */
	if (atomic_load(&stats_cached) < atomic_load(&stats_ref))
		fail("stats through the overlay were not served lock-free", atomic_load(&stats_cached));
	printf("stress_overlay: %d rounds, %d concurrent copy-ups each, %ld listings, %ld lock-free stats (%ld ref), "
	       "%ld failures\n",
	       ROUNDS, WRITERS, atomic_load(&listings), atomic_load(&stats_cached), atomic_load(&stats_ref),
	       atomic_load(&bad));
	return atomic_load(&bad) ? 1 : 0;
}
