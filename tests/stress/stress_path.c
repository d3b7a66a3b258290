/* stress_path.c — uvfs_vd_path and mount enumeration against concurrent
 * renames, mounts, binds and umounts, under ThreadSanitizer.
 *
 * Invariants checked by the readers:
 *  - the leaf under /U?/m.../L?/leaf only ever has the paths of the states
 *    the renamer passes through: (L0,U0) (L1,U0) (L1,U1); (L0,U1) would be
 *    a torn path;
 *  - /mnt/under keeps its path while /mnt is mounted over and unmounted;
 *  - uvfs_mntns_show lists "/" first, then only /mnt and /bind, each at
 *    most once.
 * Exit status is nonzero on any inconsistency or leak.
 * STRESS_SECONDS (default 3) bounds the run.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uvfs.h"

#define DEPTH 20
#define NREADERS 2

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root, leaf, under;
static struct uvfs_cred cred;
static atomic_bool stop;
static atomic_long n_paths, n_shows, n_renames, n_mounts, n_bad;
static char mid[2 * DEPTH + 1], want[3][256];

static struct uvfs_pathop pop(const char *p) { return (struct uvfs_pathop){ root, root, p, 0 }; }

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

static void *renamer(void *arg)
{
	(void)arg;
	char l0[256], l1[256];
	snprintf(l0, sizeof l0, "/U0%s/L0", mid);
	snprintf(l1, sizeof l1, "/U0%s/L1", mid);
	struct uvfs_pathop pl0 = pop(l0), pl1 = pop(l1), u0 = pop("/U0"), u1 = pop("/U1");
	while (!atomic_load(&stop)) {
		must(uvfs_rename_at(vfs, &cred, &pl0, &pl1, 0), "rename L0");
		must(uvfs_rename_at(vfs, &cred, &u0, &u1, 0), "rename U0");
		must(uvfs_rename_at(vfs, &cred, &u1, &u0, 0), "rename U1");
		must(uvfs_rename_at(vfs, &cred, &pl1, &pl0, 0), "rename L1");
		atomic_fetch_add(&n_renames, 4);
	}
	return NULL;
}

static void *mounter(void *arg)
{
	(void)arg;
	struct uvfs_pathop mnt = pop("/mnt"), src = pop("/src"), b = pop("/bind");
	struct uvfs_mount_opts o = { 0 };
	while (!atomic_load(&stop)) {
		must(uvfs_mount_at(vfs, &cred, "none", &mnt, "tmpfs", &o), "mount");
		must(uvfs_bind_at(vfs, &cred, &src, &b, UVFS_BIND_REC), "bind");
		must(uvfs_umount_at(vfs, &cred, &b, 0), "umount bind");
		must(uvfs_umount_at(vfs, &cred, &mnt, 0), "umount");
		atomic_fetch_add(&n_mounts, 2);
	}
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	char buf[256];
	while (!atomic_load(&stop)) {
		ssize_t n = uvfs_vd_path(vfs, &root, &leaf, buf, sizeof buf, 0);
		if (n < 0 || (strcmp(buf, want[0]) && strcmp(buf, want[1]) && strcmp(buf, want[2])))
			bad("leaf", n < 0 ? "error" : buf);
		n = uvfs_vd_path(vfs, &root, &under, buf, sizeof buf, UVFS_VD_PATH_GETCWD);
		if (n < 0 || strcmp(buf, "/mnt/under"))
			bad("under", n < 0 ? "error" : buf);
		atomic_fetch_add(&n_paths, 2);
		char *text;
		n = uvfs_mntns_show(ns, &root, UVFS_SHOW_MOUNTS, &text);
		if (n < 0) {
			bad("show", "error");
			continue;
		}
		int nm = 0, nb = 0;
		if (strncmp(text, "none / tmpfs rw 0 0\n", 20))
			bad("show: first line", text);
		for (char *l = strchr(text, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
			if (!strncmp(l + 1, "none /mnt tmpfs rw 0 0\n", 23))
				nm++;
			else if (!strncmp(l + 1, "none /bind tmpfs rw 0 0\n", 24))
				nb++;
			else
				bad("show: line", l + 1);
		}
		if (nm > 1 || nb > 1)
			bad("show: duplicate", text);
		free(text);
		atomic_fetch_add(&n_shows, 1);
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
	for (int i = 0; i < DEPTH; i++)
		memcpy(mid + 2 * i, "/m", 2);
	char p[256];
	const char *dirs[] = { "/U0", "/mnt", "/mnt/under", "/src", "/bind" };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		struct uvfs_pathop d = pop(dirs[i]);
		must(uvfs_mkdir_at(vfs, &cred, &d, 0755), dirs[i]);
	}
	for (int i = 1; i <= DEPTH + 2; i++) {
		if (i <= DEPTH)
			snprintf(p, sizeof p, "/U0%.*s", 2 * i, mid);
		else
			snprintf(p, sizeof p, "/U0%s/L0%s", mid, i == DEPTH + 2 ? "/leaf" : "");
		struct uvfs_pathop d = pop(p);
		must(uvfs_mkdir_at(vfs, &cred, &d, 0755), p);
	}
	snprintf(want[0], sizeof want[0], "/U0%s/L0/leaf", mid);
	snprintf(want[1], sizeof want[1], "/U0%s/L1/leaf", mid);
	snprintf(want[2], sizeof want[2], "/U1%s/L1/leaf", mid);
	struct uvfs_pathop lp = pop(want[0]), up = pop("/mnt/under");
	must(uvfs_get_dentry_at(vfs, &cred, &lp, 0, &leaf), "leaf");
	must(uvfs_get_dentry_at(vfs, &cred, &up, 0, &under), "under");

	const char *s = getenv("STRESS_SECONDS");
	int secs = s ? atoi(s) : 3;
	pthread_t t[NREADERS + 2];
	pthread_create(&t[0], NULL, renamer, NULL);
	pthread_create(&t[1], NULL, mounter, NULL);
	for (int i = 0; i < NREADERS; i++)
		pthread_create(&t[2 + i], NULL, reader, NULL);
	struct timespec ts = { secs, 0 };
	nanosleep(&ts, NULL);
	atomic_store(&stop, true);
	for (int i = 0; i < NREADERS + 2; i++)
		pthread_join(t[i], NULL);
	uvfs_vd_put(&leaf);
	uvfs_vd_put(&under);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int leak = uvfs_destroy(vfs, &live);
	printf("stress_path: %ld paths, %ld shows, %ld renames, %ld mount ops, %ld inconsistent%s\n",
	       atomic_load(&n_paths), atomic_load(&n_shows), atomic_load(&n_renames), atomic_load(&n_mounts),
	       atomic_load(&n_bad), leak ? ", LEAK" : "");
	return atomic_load(&n_bad) || leak ? 1 : 0;
}
