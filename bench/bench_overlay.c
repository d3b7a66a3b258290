/* bench/bench_overlay.c — the overlay's own costs, in process, one run:
 *   stat8   warm uvfs_stat_at of a depth-8 path through the overlay vs the
 *           same path on its upper tmpfs (issue 11 target: <= 1.5x); and
 *           of a depth-8 path that exists only in the lower layer (merged
 *           directories all the way) vs the same path on the lower tmpfs;
 *           and (when diod is installed) a lower-only path of an overlay
 *           whose lower is a 9p mount (diod, cache=fscache) with a tmpfs
 *           upper, vs the same path on that 9p mount and vs the upper
 *           tmpfs's depth-8 path (issue 11's target: <= 1.5x)
 *   copyup  copy-up of a 1 GiB file (lower tmpfs -> upper tmpfs, triggered
 *           by an open for write) vs a plain copy of it between two tmpfs
 *           files with 128 KiB pread/pwrite (what cp does)
 * Medians of REPS interleaved runs, wall and CPU. Writes
 * bench/results/overlay.csv. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fsimpl/gofer/gofer.h"
#include "fsimpl/overlay/overlay.h"
#include "uvfs.h"

#define REPS 7
#define STATS 200000
#define BIG (1ull << 30)
#define CHUNK (128u << 10)

struct t {
	double wall, cpu;
};

static struct t now(void)
{
	struct timespec w, c;
	clock_gettime(CLOCK_MONOTONIC, &w);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
	return (struct t){ w.tv_sec + w.tv_nsec * 1e-9, c.tv_sec + c.tv_nsec * 1e-9 };
}
static struct t since(struct t a)
{
	struct t b = now();
	return (struct t){ b.wall - a.wall, b.cpu - a.cpu };
}
static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}
static struct t median(const struct t *v, int n)
{
	double w[REPS], c[REPS];
	for (int i = 0; i < n; i++)
		w[i] = v[i].wall, c[i] = v[i].cpu;
	qsort(w, n, sizeof(double), cmpd);
	qsort(c, n, sizeof(double), cmpd);
	return (struct t){ w[n / 2], c[n / 2] };
}

static struct uvfs *vfs;
static struct uvfs_cred cred;
static struct uvfs_vd root;

static void die(const char *what, long rc)
{
	fprintf(stderr, "bench_overlay: %s: %s\n", what, strerror((int)-rc));
	exit(1);
}
static struct uvfs_pathop pop(const char *p) { return (struct uvfs_pathop){ .root = root, .start = root, .path = p }; }
static void must(int rc, const char *what)
{
	if (rc)
		die(what, rc);
}
static void mkdir_p(const char *p)
{
	struct uvfs_pathop o = pop(p);
	int rc = uvfs_mkdir_at(vfs, &cred, &o, 0755);
	if (rc && rc != -EEXIST)
		die(p, rc);
}
static void mount_tmpfs(const char *p)
{
	mkdir_p(p);
	struct uvfs_pathop o = pop(p);
	must(uvfs_mount_at(vfs, &cred, "none", &o, "tmpfs", &(struct uvfs_mount_opts){ .data = "mode=0755" }), p);
}
static struct uvfs_file *open_(const char *p, int fl)
{
	struct uvfs_file *f;
	struct uvfs_pathop o = pop(p);
	must(uvfs_open_at(vfs, &cred, &o, fl, 0644, 0, &f), p);
	return f;
}
static void write_file(const char *p, const char *s)
{
	struct uvfs_file *f = open_(p, O_WRONLY | O_CREAT | O_TRUNC);
	if (uvfs_pwrite(f, s, strlen(s), 0) != (ssize_t)strlen(s))
		die(p, -EIO);
	uvfs_file_put(f);
}

static struct t time_stats(const char *path)
{
	struct uvfs_pathop o = pop(path);
	struct statx st;
	struct t a = now();
	for (int i = 0; i < STATS; i++)
		if (uvfs_stat_at(vfs, &cred, &o, STATX_BASIC_STATS, &st))
			die(path, -EIO);
	return since(a);
}

static void copy_plain(const char *from, const char *to, char *buf)
{
	struct uvfs_file *s = open_(from, O_RDONLY), *d = open_(to, O_WRONLY | O_CREAT | O_TRUNC);
	for (off_t off = 0;; off += CHUNK) {
		ssize_t n = uvfs_pread(s, buf, CHUNK, off);
		if (n < 0)
			die("read", n);
		if (n == 0)
			break;
		if (uvfs_pwrite(d, buf, (size_t)n, off) != n)
			die("write", -EIO);
	}
	uvfs_file_put(s);
	uvfs_file_put(d);
}

static void unlink_(const char *p)
{
	struct uvfs_pathop o = pop(p);
	must(uvfs_unlink_at(vfs, &cred, &o), p);
}

/* A 9p mount of a fresh host directory holding a depth-8 path (diod,
 * cache=fscache) at /g, and an overlay of it under a tmpfs upper at /m9.
 * Fills the two paths; false when diod cannot be started. */
static char hostdir[64] = "/tmp/bench_overlay9p.XXXXXX";
static bool setup_9p(char *on_9p, char *through, size_t len)
{
	if (!mkdtemp(hostdir))
		return false;
	char hp[256];
	snprintf(hp, sizeof hp, "%s", hostdir);
	snprintf(on_9p, len, "/g");
	snprintf(through, len, "/m9");
	for (int i = 0; i < 8; i++) {
		char c[8];
		snprintf(c, sizeof c, "/n%d", i);
		strcat(hp, c);
		strcat(on_9p, c);
		strcat(through, c);
		if (mkdir(hp, 0755))
			return false;
	}
	strcat(hp, "/f");
	strcat(on_9p, "/f");
	strcat(through, "/f");
	FILE *f = fopen(hp, "w");
	if (!f)
		return false;
	fputs("x", f);
	fclose(f);
	int fd;
	struct uvfs_gofer_proc *proc;
	if (uvfs_gofer_spawn(hostdir, true, &fd, &proc))
		return false;
	char data[512];
	snprintf(data, sizeof data, "trans=fd,rfdno=%d,wfdno=%d,aname=%s,cache=fscache", fd, fd, hostdir);
	struct uvfs_gofer_internal gin = { .proc = proc };
	mkdir_p("/g");
	struct uvfs_pathop g = pop("/g");
	if (uvfs_mount_at(vfs, &cred, hostdir, &g, "9p", &(struct uvfs_mount_opts){ .data = data, .internal = &gin }))
		return false;
	mkdir_p("/up/u9");
	mkdir_p("/up/w9");
	mkdir_p("/m9");
	struct uvfs_overlay_opts in = { .root = root };
	struct uvfs_pathop m = pop("/m9");
	return uvfs_mount_at(vfs, &cred, "overlay", &m, "overlay",
			     &(struct uvfs_mount_opts){ .data = "lowerdir=/g,upperdir=/up/u9,workdir=/up/w9", .internal = &in }) == 0;
}

static void rm_host(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", hostdir);
	if (system(cmd))
		fprintf(stderr, "bench_overlay: could not remove %s\n", hostdir);
}

int main(void)
{
	uvfs_cred_init_root(&cred);
	must(uvfs_create(&vfs), "uvfs_create");
	must(uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST), "register");
	must(uvfs_register_fs_type(vfs, &uvfs_overlay_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST), "register");
	must(uvfs_register_fs_type(vfs, &uvfs_gofer_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST), "register");
	struct uvfs_mntns *ns;
	must(uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns), "mntns");
	uvfs_mntns_root(ns, &root);
	mount_tmpfs("/l");
	mount_tmpfs("/up");
	mkdir_p("/up/u");
	mkdir_p("/up/w");
	mkdir_p("/m");
	/* lower-only deep path, and big file */
	char lp[256] = "/l", up_[256] = "/m";
	for (int i = 0; i < 8; i++) {
		char c[8];
		snprintf(c, sizeof c, "/l%d", i);
		strcat(lp, c);
		mkdir_p(lp);
	}
	strcat(lp, "/f");
	write_file(lp, "x");
	char *buf = malloc(CHUNK);
	if (!buf)
		die("malloc", -ENOMEM);
	for (unsigned i = 0; i < CHUNK; i++)
		buf[i] = (char)(i * 131 + 7);
	struct uvfs_file *bf = open_("/l/big", O_WRONLY | O_CREAT | O_TRUNC);
	for (off_t off = 0; off < (getenv("BENCH_OVL_STAT_ONLY") ? 0 : (off_t)BIG); off += CHUNK)
		if (uvfs_pwrite(bf, buf, CHUNK, off) != CHUNK)
			die("fill", -EIO);
	uvfs_file_put(bf);
	struct uvfs_overlay_opts in = { .root = root };
	struct uvfs_pathop mp = pop("/m");
	must(uvfs_mount_at(vfs, &cred, "overlay", &mp, "overlay",
			   &(struct uvfs_mount_opts){ .data = "lowerdir=/l,upperdir=/up/u,workdir=/up/w", .internal = &in }),
	     "overlay");
	/* upper deep path, made through the overlay (so in upper only) */
	for (int i = 0; i < 8; i++) {
		char c[8];
		snprintf(c, sizeof c, "/u%d", i);
		strcat(up_, c);
		mkdir_p(up_);
	}
	strcat(up_, "/f");
	write_file(up_, "x");
	char on_upper[300], ov_lower[300];
	snprintf(on_upper, sizeof on_upper, "/up/u%s", up_ + 2);
	snprintf(ov_lower, sizeof ov_lower, "/m%s", lp + 2);

	char on_9p[300], ov_9p[300];
	bool have9p = setup_9p(on_9p, ov_9p, sizeof on_9p);
	if (!have9p)
		fprintf(stderr, "bench_overlay: no 9p lower (diod missing?): skipping those rows\n");

	struct t su[REPS], so[REPS], sl[REPS], sol[REPS], sg[REPS], sog[REPS];
	time_stats(up_), time_stats(on_upper), time_stats(lp), time_stats(ov_lower); /* warm */
	if (have9p)
		time_stats(on_9p), time_stats(ov_9p);
	for (int r = 0; r < REPS; r++) {
		so[r] = time_stats(up_);
		su[r] = time_stats(on_upper);
		sol[r] = time_stats(ov_lower);
		sl[r] = time_stats(lp);
		if (have9p) {
			sog[r] = time_stats(ov_9p);
			sg[r] = time_stats(on_9p);
		}
	}
	struct t mo = median(so, REPS), mu = median(su, REPS), mol = median(sol, REPS), ml = median(sl, REPS);
	struct t mog = have9p ? median(sog, REPS) : (struct t){ 0, 0 }, mg = have9p ? median(sg, REPS) : (struct t){ 1, 1 };

	/* copy-up vs plain copy, 3 reps each (1 GiB each time), interleaved */
	int CREPS = getenv("BENCH_OVL_STAT_ONLY") ? 0 : 3; /* profiling the stats */
	struct t cu[REPS], cp[REPS];
	for (int r = 0; r < CREPS; r++) {
		struct t a = now();
		copy_plain("/l/big", "/up/plain", buf);
		cp[r] = since(a);
		unlink_("/up/plain");
		a = now();
		struct uvfs_file *f = open_("/m/big", O_WRONLY); /* the copy-up */
		cu[r] = since(a);
		uvfs_file_put(f);
		/* back to lower-only: drop the upper copy (a whiteout would
		 * hide the lower), then forget the overlay's cached dentry by
		 * remounting */
		struct uvfs_pathop m = pop("/m");
		must(uvfs_umount_at(vfs, &cred, &m, 0), "umount");
		unlink_("/up/u/big");
		must(uvfs_mount_at(vfs, &cred, "overlay", &m, "overlay",
				   &(struct uvfs_mount_opts){ .data = "lowerdir=/l,upperdir=/up/u,workdir=/up/w",
							      .internal = &in }),
		     "overlay");
	}
	struct t mcu = CREPS ? median(cu, CREPS) : (struct t){ 1, 1 }, mcp = CREPS ? median(cp, CREPS) : (struct t){ 1, 1 };

	double gib = (double)BIG / (1 << 20);
	printf("%-48s %12s %12s %8s %8s\n", "metric", "wall", "cpu", "x wall", "x cpu");
	printf("%-48s %9.0f ns %9.0f ns\n", "stat depth-8 on upper tmpfs", mu.wall / STATS * 1e9, mu.cpu / STATS * 1e9);
	printf("%-48s %9.0f ns %9.0f ns %8.2f %8.2f\n", "stat depth-8 through overlay (upper-only path)",
	       mo.wall / STATS * 1e9, mo.cpu / STATS * 1e9, mo.wall / mu.wall, mo.cpu / mu.cpu);
	printf("%-48s %9.0f ns %9.0f ns\n", "stat depth-8 on lower tmpfs", ml.wall / STATS * 1e9, ml.cpu / STATS * 1e9);
	printf("%-48s %9.0f ns %9.0f ns %8.2f %8.2f\n", "stat depth-8 through overlay (lower-only path)",
	       mol.wall / STATS * 1e9, mol.cpu / STATS * 1e9, mol.wall / ml.wall, mol.cpu / ml.cpu);
	if (have9p) {
		printf("%-48s %9.0f ns %9.0f ns\n", "stat depth-8 on the 9p lower", mg.wall / STATS * 1e9,
		       mg.cpu / STATS * 1e9);
		printf("%-48s %9.0f ns %9.0f ns %8.2f %8.2f\n", "stat depth-8 through overlay (9p lower-only path)",
		       mog.wall / STATS * 1e9, mog.cpu / STATS * 1e9, mog.wall / mg.wall, mog.cpu / mg.cpu);
		printf("%-48s %12s %12s %8.2f %8.2f\n", "  same, vs the upper tmpfs depth-8 stat", "", "",
		       mog.wall / mu.wall, mog.cpu / mu.cpu);
	}
	printf("%-48s %9.0f MB/s %7.0f MB/s\n", "plain copy 1 GiB tmpfs->tmpfs (128 KiB)", gib / mcp.wall, gib / mcp.cpu);
	printf("%-48s %9.0f MB/s %7.0f MB/s %8.2f %8.2f\n", "copy-up 1 GiB (open for write)", gib / mcu.wall,
	       gib / mcu.cpu, mcu.wall / mcp.wall, mcu.cpu / mcp.cpu);
	FILE *csv = fopen("bench/results/overlay.csv", "w");
	if (csv) {
		fprintf(csv, "metric,wall,cpu,unit,ratio_wall,ratio_cpu,ratio_of\n");
		fprintf(csv, "stat depth-8 upper tmpfs,%.1f,%.1f,ns,,,\n", mu.wall / STATS * 1e9, mu.cpu / STATS * 1e9);
		fprintf(csv, "stat depth-8 overlay upper-only,%.1f,%.1f,ns,%.3f,%.3f,upper tmpfs\n",
			mo.wall / STATS * 1e9, mo.cpu / STATS * 1e9, mo.wall / mu.wall, mo.cpu / mu.cpu);
		fprintf(csv, "stat depth-8 lower tmpfs,%.1f,%.1f,ns,,,\n", ml.wall / STATS * 1e9, ml.cpu / STATS * 1e9);
		fprintf(csv, "stat depth-8 overlay lower-only,%.1f,%.1f,ns,%.3f,%.3f,lower tmpfs\n",
			mol.wall / STATS * 1e9, mol.cpu / STATS * 1e9, mol.wall / ml.wall, mol.cpu / ml.cpu);
		if (have9p) {
			fprintf(csv, "stat depth-8 9p lower,%.1f,%.1f,ns,,,\n", mg.wall / STATS * 1e9, mg.cpu / STATS * 1e9);
			fprintf(csv, "stat depth-8 overlay 9p-lower-only,%.1f,%.1f,ns,%.3f,%.3f,9p lower\n",
				mog.wall / STATS * 1e9, mog.cpu / STATS * 1e9, mog.wall / mg.wall, mog.cpu / mg.cpu);
			fprintf(csv, "stat depth-8 overlay 9p-lower-only,%.1f,%.1f,ns,%.3f,%.3f,upper tmpfs\n",
				mog.wall / STATS * 1e9, mog.cpu / STATS * 1e9, mog.wall / mu.wall, mog.cpu / mu.cpu);
		}
		fprintf(csv, "plain copy 1GiB,%.1f,%.1f,MB/s,,,\n", gib / mcp.wall, gib / mcp.cpu);
		fprintf(csv, "copy-up 1GiB,%.1f,%.1f,MB/s,%.3f,%.3f,time of plain copy\n", gib / mcu.wall,
			gib / mcu.cpu, mcu.wall / mcp.wall, mcu.cpu / mcp.cpu);
		fclose(csv);
	}
	free(buf);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int rc = uvfs_destroy(vfs, &live);
	printf("uvfs_destroy: %s\n", rc ? "LEAKS" : "ok");
	if (have9p)
		rm_host(); /* the gofer is gone with its filesystem */
	return rc ? 1 : 0;
}
