/* stress_tmpfs_io.c — concurrent data I/O on tmpfs under ThreadSanitizer.
 *
 * One writer rewrites a file from offset 0 with runs of one letter and
 * truncates it now and then; readers pread it and stat it; other threads
 * create, chmod, set xattrs on, unlink and list files in one directory.
 * A reader must never see a byte that no writer wrote (a zero from a size
 * published before its data), and teardown must leave nothing alive.
 * Prints one summary line; exits non-zero on a bad byte or a leak.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvfs.h"

static struct uvfs *vfs;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static struct uvfs_file *shared;
static _Atomic int stop;
static _Atomic long bad, reads, creates;

static struct uvfs_pathop P(const char *path)
{
	return (struct uvfs_pathop){ .root = root, .start = root, .path = path };
}

static void *reader(void *arg)
{
	(void)arg;
	char buf[8192];
	while (!atomic_load(&stop)) {
		ssize_t n = uvfs_pread(shared, buf, sizeof buf, 0);
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] < 'a' || buf[i] > 'z')
				atomic_fetch_add(&bad, 1);
		struct statx st;
		struct uvfs_pathop p = P("/c");
		uvfs_stat_at(vfs, &cred, &p, STATX_BASIC_STATS, &st);
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

static void *creator(void *arg)
{
	int id = (int)(long)arg;
	char name[32];
	for (int i = 0; !atomic_load(&stop); i++) {
		snprintf(name, sizeof name, "/d/%d-%d", id, i % 50);
		struct uvfs_pathop p = P(name);
		struct uvfs_file *g;
		if (!uvfs_open_at(vfs, &cred, &p, O_CREAT | O_RDWR, 0644, 0, &g)) {
			uvfs_pwrite(g, "abc", 3, i % 10000);
			uvfs_file_put(g);
			atomic_fetch_add(&creates, 1);
		}
		struct uvfs_setattr a = { .mask = STATX_MODE, .mode = 0600 };
		uvfs_setstat_at(vfs, &cred, &p, &a, 0);
		uvfs_setxattr_at(vfs, &cred, &p, "user.x", "1", 1, 0);
		if (i % 3 == 0)
			uvfs_unlink_at(vfs, &cred, &p);
		struct uvfs_pathop d = P("/d");
		struct uvfs_file *df;
		if (!uvfs_open_at(vfs, &cred, &d, O_RDONLY | O_DIRECTORY, 0, 0, &df)) {
			char b[4096];
			while (uvfs_getdents64(df, b, sizeof b) > 0)
				;
			uvfs_file_put(df);
		}
	}
	return NULL;
}

int main(void)
{
	int iters = getenv("STRESS_ITERS") ? atoi(getenv("STRESS_ITERS")) : 20000;
	uvfs_cred_init_root(&cred);
	struct uvfs_mntns *ns;
	struct uvfs_mount_opts o = { .data = "size=64m" };
	if (uvfs_create(&vfs) || uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &o, &ns)) {
		fprintf(stderr, "stress_tmpfs_io: setup failed\n");
		return 1;
	}
	uvfs_mntns_root(ns, &root);
	struct uvfs_pathop d = P("/d"), c = P("/c");
	if (uvfs_mkdir_at(vfs, &cred, &d, 0755) || uvfs_open_at(vfs, &cred, &c, O_CREAT | O_RDWR, 0644, 0, &shared)) {
		fprintf(stderr, "stress_tmpfs_io: setup failed\n");
		return 1;
	}
	pthread_t th[6];
	for (long i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, reader, NULL);
	for (long i = 3; i < 6; i++)
		pthread_create(&th[i], NULL, creator, (void *)i);
	char buf[8192];
	long writes = 0, truncs = 0;
	for (int i = 0; i < iters; i++) {
		memset(buf, 'a' + i % 26, sizeof buf);
		if (uvfs_pwrite(shared, buf, (size_t)(i % 8192) + 1, 0) > 0)
			writes++;
		if (i % 100 == 99 && !uvfs_file_truncate(shared, (uint64_t)(i % 7)))
			truncs++;
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 6; i++)
		pthread_join(th[i], NULL);
	uvfs_file_put(shared);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live l;
	int rc = uvfs_destroy(vfs, &l);
	printf("stress_tmpfs_io: %ld writes, %ld truncates, %ld reads, %ld creates, %ld bad bytes, teardown %d "
	       "(%ld dentries, %ld inodes, %ld files live)\n",
	       writes, truncs, atomic_load(&reads), atomic_load(&creates), atomic_load(&bad), rc, l.dentries,
	       l.inodes, l.files);
	return atomic_load(&bad) || rc ? 1 : 0;
}
