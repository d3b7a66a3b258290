/* stress_mount_move.c — uvfs_move_mount_at and uvfs_remount_at against
 * concurrent lookups, path builds, mount listings and writers, under
 * ThreadSanitizer.
 *
 * A tmpfs M (with a submount S at M/s) moves between /x/p and /y/p over
 * and over; another thread remounts M read-only and back (and changes its
 * size=) while a writer opens files on it for writing through a bind
 * mount of M at /b. Invariants:
 *  - a lookup of /x/p/f or /y/p/f finds M's file or nothing, never another
 *    object; S's root seen through a held vd always has the path
 *    /x/p/s or /y/p/s (never torn across a move);
 *  - uvfs_mntns_show lists M exactly once, at /x/p or /y/p, and S right
 *    under wherever M is;
 *  - while a remount read-only stands, no writer holds M open for writing
 *    (a remount that found one returned -EBUSY instead), and every
 *    remount returns 0 or -EBUSY.
 * Exit status is nonzero on any inconsistency or leak.
 * STRESS_SECONDS (default 3) bounds the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uvfs.h"

#define NREADERS 2

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root, mroot, sroot, broot;
static struct uvfs_cred cred;
static uint64_t m_ino;
static atomic_bool stop;
static atomic_long n_moves, n_looks, n_shows, n_remounts, n_busy, n_writes, n_erofs, n_bad, open_writers;

static struct uvfs_pathop pop(const char *p) { return (struct uvfs_pathop){ root, root, p, 0 }; }
static struct uvfs_pathop mpop(const char *p, unsigned fl) { return (struct uvfs_pathop){ root, mroot, p, fl }; }

static void bad(const char *what, const char *got)
{
	if (atomic_fetch_add(&n_bad, 1) < 10)
		fprintf(stderr, "INCONSISTENT: %s: %s\n", what, got);
}

static void must(int rc, const char *what)
{
	if (rc) {
		fprintf(stderr, "%s: %d\n", what, rc);
		abort();
	}
}

static void *mover(void *arg)
{
	(void)arg;
	struct uvfs_pathop x = pop("/x/p"), y = pop("/y/p");
	while (!atomic_load(&stop)) {
		must(uvfs_move_mount_at(vfs, &cred, &x, &y), "move x -> y");
		must(uvfs_move_mount_at(vfs, &cred, &y, &x), "move y -> x");
		atomic_fetch_add(&n_moves, 2);
	}
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	char buf[256];
	while (!atomic_load(&stop)) {
		const char *paths[] = { "/x/p/f", "/y/p/f" };
		for (int i = 0; i < 2; i++) {
			struct uvfs_pathop p = pop(paths[i]);
			struct statx st;
			int rc = uvfs_stat_at(vfs, &cred, &p, STATX_INO, &st);
			if (rc == 0 && st.stx_ino != m_ino)
				bad("stat found another file", paths[i]);
			else if (rc && rc != -ENOENT)
				bad("stat error", paths[i]);
		}
		ssize_t n = uvfs_vd_path(vfs, &root, &sroot, buf, sizeof(buf), 0);
		if (n < 0 || (strcmp(buf, "/x/p/s") && strcmp(buf, "/y/p/s")))
			bad("path of S", n < 0 ? "error" : buf);
		atomic_fetch_add(&n_looks, 1);
		char *text;
		if (uvfs_mntns_show(ns, &root, UVFS_SHOW_MOUNTS, &text) < 0) {
			bad("show", "error");
			continue;
		}
		bool x = strstr(text, " /x/p tmpfs ") != NULL, y = strstr(text, " /y/p tmpfs ") != NULL;
		bool xs = strstr(text, " /x/p/s tmpfs ") != NULL, ys = strstr(text, " /y/p/s tmpfs ") != NULL;
		if (x == y || xs != x || ys != y)
			bad("mount list", text);
		free(text);
		atomic_fetch_add(&n_shows, 1);
	}
	return NULL;
}

static void *remounter(void *arg)
{
	(void)arg;
	struct uvfs_pathop self = mpop("", UVFS_PATH_EMPTY);
	for (unsigned i = 0; !atomic_load(&stop); i++) {
		int rc = uvfs_remount_at(vfs, &cred, &self, UVFS_MNT_RDONLY, (i & 1) ? "size=2m" : "size=3m", 0);
		if (rc == -EBUSY) {
			atomic_fetch_add(&n_busy, 1);
			continue;
		}
		if (rc) {
			bad("remount ro", strerror(-rc));
			continue;
		}
		for (int k = 0; k < 50; k++) {
			if (atomic_load(&open_writers))
				bad("writer while read-only", "open_writers > 0");
			sched_yield();
		}
		if ((rc = uvfs_remount_at(vfs, &cred, &self, 0, NULL, 0)))
			bad("remount rw", strerror(-rc));
		atomic_fetch_add(&n_remounts, 1);
	}
	return NULL;
}

/* Writes through a bind mount of M: only M's filesystem being read-only
 * (not M's own flag) stops it. */
static void *writer(void *arg)
{
	(void)arg;
	struct uvfs_pathop w = { root, broot, "w", 0 };
	while (!atomic_load(&stop)) {
		struct uvfs_file *f;
		int rc = uvfs_open_at(vfs, &cred, &w, O_CREAT | O_WRONLY | O_TRUNC, 0644, 0, &f);
		if (rc == -EROFS) {
			atomic_fetch_add(&n_erofs, 1);
			continue;
		}
		if (rc) {
			bad("open for writing", strerror(-rc));
			continue;
		}
		atomic_fetch_add(&open_writers, 1);
		char page[4096] = { 1 };
		uvfs_write(f, page, sizeof(page));
		atomic_fetch_sub(&open_writers, 1);
		uvfs_file_put(f);
		atomic_fetch_add(&n_writes, 1);
	}
	return NULL;
}

int main(void)
{
	uvfs_cred_init_root(&cred);
	must(uvfs_create(&vfs), "create");
	must(uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT), "register");
	must(uvfs_mntns_new(vfs, &cred, "none", "tmpfs", NULL, &ns), "mntns");
	uvfs_mntns_root(ns, &root);
	const char *dirs[] = { "/x", "/y", "/x/p", "/y/p" };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		struct uvfs_pathop d = pop(dirs[i]);
		must(uvfs_mkdir_at(vfs, &cred, &d, 0755), dirs[i]);
	}
	struct uvfs_pathop xp = pop("/x/p"), xs = pop("/x/p/s"), xf = pop("/x/p/f");
	must(uvfs_mount_at(vfs, &cred, "none", &xp, "tmpfs", NULL), "mount M");
	must(uvfs_mkdir_at(vfs, &cred, &xs, 0755), "mkdir s");
	must(uvfs_mount_at(vfs, &cred, "none", &xs, "tmpfs", NULL), "mount S");
	struct uvfs_file *f;
	must(uvfs_open_at(vfs, &cred, &xf, O_CREAT | O_WRONLY, 0644, 0, &f), "create f");
	uvfs_file_put(f);
	struct statx st;
	must(uvfs_stat_at(vfs, &cred, &xf, STATX_INO, &st), "stat f");
	m_ino = st.stx_ino;
	must(uvfs_get_dentry_at(vfs, &cred, &xp, 0, &mroot), "M");
	must(uvfs_get_dentry_at(vfs, &cred, &xs, 0, &sroot), "S");
	struct uvfs_pathop b = pop("/b");
	must(uvfs_mkdir_at(vfs, &cred, &b, 0755), "mkdir b");
	must(uvfs_bind_at(vfs, &cred, &xp, &b, 0), "bind M at /b");
	must(uvfs_get_dentry_at(vfs, &cred, &b, 0, &broot), "B");

	const char *s = getenv("STRESS_SECONDS");
	int secs = s ? atoi(s) : 3;
	pthread_t t[NREADERS + 3];
	pthread_create(&t[0], NULL, mover, NULL);
	pthread_create(&t[1], NULL, remounter, NULL);
	pthread_create(&t[2], NULL, writer, NULL);
	for (int i = 0; i < NREADERS; i++)
		pthread_create(&t[3 + i], NULL, reader, NULL);
	struct timespec ts = { secs, 0 };
	nanosleep(&ts, NULL);
	atomic_store(&stop, true);
	for (int i = 0; i < NREADERS + 3; i++)
		pthread_join(t[i], NULL);
	uvfs_vd_put(&sroot);
	uvfs_vd_put(&broot);
	uvfs_vd_put(&mroot);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int leak = uvfs_destroy(vfs, &live);
	printf("stress_mount_move: %ld moves, %ld lookups, %ld listings, %ld remounts (%ld busy), %ld writes (%ld "
	       "EROFS), %ld inconsistent%s\n",
	       atomic_load(&n_moves), atomic_load(&n_looks), atomic_load(&n_shows), atomic_load(&n_remounts),
	       atomic_load(&n_busy), atomic_load(&n_writes), atomic_load(&n_erofs), atomic_load(&n_bad),
	       leak ? ", LEAK" : "");
	return atomic_load(&n_bad) || leak ? 1 : 0;
}
