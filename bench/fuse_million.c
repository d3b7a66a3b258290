/* bench/fuse_million.c — a tree of NDIRS x NFILES empty files built in
 * process (uvfs tmpfs), exported with uvfs_fuse_start and walked through
 * the mount with `find -type f | wc -l`. Prints one CSV-ish line:
 *   files=N found=N build_s=.. find_s=.. rss_mb=.. threads=.. fds=.. teardown=ok|leak
 * showing that the walk needs no host fd or thread per inode. Built and run
 * by bench/fuse_bench.sh (not a bench_*.c binary).
 *
 * usage: fuse_million MOUNTPOINT [NDIRS NFILES]   (default 1000 1000)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot/boot.h"
#include "fuse/fuse_export.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long count_dir(const char *path)
{
	DIR *d = opendir(path);
	long n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2;
}

static long rss_mb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb / 1024;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: fuse_million MOUNTPOINT [NDIRS NFILES]\n");
		return 2;
	}
	int nd = argc == 4 ? atoi(argv[2]) : 1000, nf = argc == 4 ? atoi(argv[3]) : 1000;
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	int err = uvfs_default_tree(&vfs, &ns);
	if (err) {
		fprintf(stderr, "fuse_million: tree: %s\n", strerror(-err));
		return 1;
	}
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	struct uvfs_vd root;
	uvfs_mntns_root(ns, &root);
	double t0 = now();
	char path[256];
	for (int d = 0; d < nd && !err; d++) {
		snprintf(path, sizeof(path), "tmp/m/d%04d", d);
		struct uvfs_pathop p = { .root = root, .start = root, .path = path };
		if (d == 0) {
			struct uvfs_pathop m = { .root = root, .start = root, .path = "tmp/m" };
			err = uvfs_mkdir_at(vfs, &cred, &m, 0755);
		}
		if (!err)
			err = uvfs_mkdir_at(vfs, &cred, &p, 0755);
		for (int f = 0; f < nf && !err; f++) {
			snprintf(path, sizeof(path), "tmp/m/d%04d/f%05d", d, f);
			err = uvfs_mknod_at(vfs, &cred, &p, S_IFREG | 0644, 0);
		}
	}
	uvfs_vd_put(&root);
	double build = now() - t0;
	if (err) {
		fprintf(stderr, "fuse_million: build: %s\n", strerror(-err));
		return 1;
	}
	struct uvfs_fuse *fx;
	if ((err = uvfs_fuse_start(vfs, ns, argv[1], NULL, NULL, &fx))) {
		fprintf(stderr, "fuse_million: mount: %s\n", strerror(-err));
		return 1;
	}
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "find '%s/tmp/m' -type f | wc -l", argv[1]);
	t0 = now();
	FILE *p = popen(cmd, "r");
	long found = -1;
	if (!p || fscanf(p, "%ld", &found) != 1)
		found = -1;
	if (p)
		pclose(p);
	double walk = now() - t0;
	long rss = rss_mb(), threads = count_dir("/proc/self/task"), fds = count_dir("/proc/self/fd");
	uvfs_fuse_stop(fx);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	memset(&live, 0, sizeof(live));
	bool clean = uvfs_report_teardown(uvfs_destroy(vfs, &live), &live);
	printf("files=%ld found=%ld build_s=%.2f find_s=%.2f rss_mb=%ld threads=%ld fds=%ld teardown=%s\n",
	       (long)nd * nf, found, build, walk, rss, threads, fds, clean ? "ok" : "leak");
	return found == (long)nd * nf && clean ? 0 : 1;
}
