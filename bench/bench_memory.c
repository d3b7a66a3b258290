/* bench/bench_memory.c — memory per tmpfs file, and what is left after the
 * files are deleted: uvfs (process RSS from /proc/self/statm) next to the
 * kernel's tmpfs doing the same (Shmem + Slab deltas from /proc/meminfo, on
 * a private tmpfs mounted for the run).
 *
 *   build/bench/bench_memory                 1M empty files in 1000 dirs
 *   BENCH_FILES=100000 build/bench/bench_memory
 *
 * Results: bench/results/memory.csv (one line per run, appended).
 * The kernel figures are machine-wide: other load on the host moves them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "uvfs.h"

#define PER_DIR 1000

static long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;
	if (!f || fscanf(f, "%ld %ld", &size, &res) != 2)
		res = 0;
	if (f)
		fclose(f);
	return res * sysconf(_SC_PAGESIZE);
}

/* Shmem + Slab from /proc/meminfo, in bytes. */
static long kernel_bytes(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long total = 0, v;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Shmem: %ld kB", &v) == 1 || sscanf(line, "Slab: %ld kB", &v) == 1)
			total += v * 1024;
	if (f)
		fclose(f);
	return total;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

__attribute__((noreturn)) static void die(const char *what, int err)
{
	fprintf(stderr, "bench_memory: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

struct result {
	double per_file; /* bytes per file while they exist */
	double left_mb; /* MiB still held after deleting them all */
	double secs;
};

static struct result run_uvfs(long nfiles)
{
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct uvfs_vd root;
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	int err;
	if ((err = uvfs_create(&vfs)) || (err = uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT)) ||
	    (err = uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns)))
		die("uvfs set-up", err);
	uvfs_mntns_root(ns, &root);
	long ndirs = (nfiles + PER_DIR - 1) / PER_DIR;
	char path[64];
	struct uvfs_pathop p = { .root = root, .start = root, .path = path };
	long before = rss_bytes();
	double t0 = now_s();
	for (long d = 0; d < ndirs; d++) {
		snprintf(path, sizeof(path), "/d%ld", d);
		if ((err = uvfs_mkdir_at(vfs, &cred, &p, 0755)))
			die("mkdir", err);
		for (long i = 0; i < PER_DIR && d * PER_DIR + i < nfiles; i++) {
			snprintf(path, sizeof(path), "/d%ld/file%ld", d, i);
			struct uvfs_file *f;
			if ((err = uvfs_open_at(vfs, &cred, &p, O_CREAT | O_WRONLY, 0644, 0, &f)))
				die("create", err);
			uvfs_file_put(f);
		}
	}
	long full = rss_bytes();
	for (long d = 0; d < ndirs; d++) {
		for (long i = 0; i < PER_DIR && d * PER_DIR + i < nfiles; i++) {
			snprintf(path, sizeof(path), "/d%ld/file%ld", d, i);
			if ((err = uvfs_unlink_at(vfs, &cred, &p)))
				die("unlink", err);
		}
		snprintf(path, sizeof(path), "/d%ld", d);
		if ((err = uvfs_rmdir_at(vfs, &cred, &p)))
			die("rmdir", err);
	}
	uvfs_rcu_barrier(); /* dentries and inodes go in RCU callbacks */
	double secs = now_s() - t0;
	long after = rss_bytes();
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	if (uvfs_destroy(vfs, &live))
		die("uvfs_destroy: live objects left", EBUSY);
	return (struct result){ (double)(full - before) / (double)nfiles, (double)(after - before) / 1048576.0, secs };
}

static char kdir[] = "/dev/shm/uvfs-bench-mem-XXXXXX";
static int kmounted;

static void cleanup(void)
{
	if (kmounted)
		umount2(kdir, MNT_DETACH);
	rmdir(kdir);
}

static struct result run_kernel(long nfiles)
{
	if (!mkdtemp(kdir))
		die("mkdtemp", errno);
	atexit(cleanup);
	/* A private tmpfs so that the whole tree goes at the end; without
	 * mount privilege, the plain directory on /dev/shm. */
	kmounted = mount("none", kdir, "tmpfs", 0, "nr_inodes=0") == 0;
	long ndirs = (nfiles + PER_DIR - 1) / PER_DIR;
	char path[128];
	sync();
	long before = kernel_bytes();
	double t0 = now_s();
	for (long d = 0; d < ndirs; d++) {
		snprintf(path, sizeof(path), "%s/d%ld", kdir, d);
		if (mkdir(path, 0755))
			die("kernel mkdir", errno);
		for (long i = 0; i < PER_DIR && d * PER_DIR + i < nfiles; i++) {
			snprintf(path, sizeof(path), "%s/d%ld/file%ld", kdir, d, i);
			int fd = open(path, O_CREAT | O_WRONLY, 0644);
			if (fd < 0)
				die("kernel create", errno);
			close(fd);
		}
	}
	long full = kernel_bytes();
	for (long d = 0; d < ndirs; d++) {
		for (long i = 0; i < PER_DIR && d * PER_DIR + i < nfiles; i++) {
			snprintf(path, sizeof(path), "%s/d%ld/file%ld", kdir, d, i);
			if (unlink(path))
				die("kernel unlink", errno);
		}
		snprintf(path, sizeof(path), "%s/d%ld", kdir, d);
		if (rmdir(path))
			die("kernel rmdir", errno);
	}
	double secs = now_s() - t0;
	sleep(1); /* let RCU-freed slab objects go */
	long after = kernel_bytes();
	return (struct result){ (double)(full - before) / (double)nfiles, (double)(after - before) / 1048576.0, secs };
}

int main(void)
{
	const char *e = getenv("BENCH_FILES");
	long nfiles = e ? atol(e) : 1000000;
	if (nfiles <= 0)
		nfiles = 1000000;
	struct result u = run_uvfs(nfiles);
	struct result k = run_kernel(nfiles);
	printf("memory, %ld empty files in dirs of %d:\n", nfiles, PER_DIR);
	printf("  %-28s %10s %10s %8s\n", "", "uvfs", "kernel", "ratio");
	printf("  %-28s %10.0f %10.0f %8.2f\n", "bytes per file", u.per_file, k.per_file,
	       k.per_file > 0 ? u.per_file / k.per_file : 0);
	printf("  %-28s %10.1f %10.1f\n", "MiB left after deleting all", u.left_mb, k.left_mb);
	printf("  %-28s %10.2f %10.2f\n", "create+delete seconds", u.secs, k.secs);
	mkdir("bench/results", 0755);
	FILE *csv = fopen("bench/results/memory.csv", "a");
	if (csv) {
		if (ftell(csv) == 0)
			fprintf(csv, "files,uvfs_bytes_per_file,kernel_bytes_per_file,ratio,uvfs_mib_left,kernel_mib_left\n");
		fprintf(csv, "%ld,%.0f,%.0f,%.2f,%.1f,%.1f\n", nfiles, u.per_file, k.per_file,
			k.per_file > 0 ? u.per_file / k.per_file : 0, u.left_mb, k.left_mb);
		fclose(csv);
	}
	return 0;
}
