/* bench/bench_gofer.c — the "9p" filesystem (a diod per host directory) in
 * process, against the host doing the same, in one run:
 *   ls -l   : readdir + stat of every entry of 10,000 and 50,000 host
 *             entries on a fresh mount (cold caches: a new instance and a
 *             new diod each round), vs the host's own `ls -l DIR` and vs
 *             gVisor's published 2.4 s (10,000) and 10.1 s (40,000 — we
 *             list 50,000) from google/gvisor#6578;
 *   seq I/O : 256 MiB read and write through a uvfs file (1 MiB calls),
 *             fscache (page cache; the write is written back by a close,
 *             uvfs_flush, not fsync'ed) and remote_revalidating (straight
 *             to the server), vs host `dd` of the same file (conv=notrunc);
 *   stat    : a warm depth-8 path, fscache and remote_revalidating (with
 *             9P round trips per stat), vs tmpfs in process and the
 *             kernel's fstatat of the host path.
 * Medians of ROUNDS. Results: stdout and bench/results/gofer.csv. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsimpl/gofer/gofer.h"
#include "fsimpl/gofer/p9/p9.h"
#include "fsimpl/tmpfs/tmpfs.h"
#include "vfs/uvfs.h"

#define ROUNDS 3
#define STATS 2000
#define IO_MB 256

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_gofer: %s: %s\n", what, strerror(-err));
	exit(1);
}

/* One instance with the host dir mounted at /g (or a tmpfs when dir is NULL). */
struct inst {
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct uvfs_vd root;
	struct uvfs_cred cred;
	struct uvfs_filesystem *fs;
	pid_t diod; /* the gofer's pid (0: none) */
};

static struct uvfs_pathop pop(struct inst *in, const char *path)
{
	return (struct uvfs_pathop){ .root = in->root, .start = in->root, .path = path };
}

static void inst_up(struct inst *in, const char *dir, const char *cache)
{
	memset(in, 0, sizeof(*in));
	uvfs_cred_init_root(&in->cred);
	int err;
	if ((err = uvfs_create(&in->vfs)) ||
	    (err = uvfs_register_fs_type(in->vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT)) ||
	    (err = uvfs_register_fs_type(in->vfs, &uvfs_gofer_type, UVFS_FS_USER_MOUNT)) ||
	    (err = uvfs_mntns_new(in->vfs, &in->cred, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &in->ns)))
		die("instance", err);
	uvfs_mntns_root(in->ns, &in->root);
	struct uvfs_pathop g = pop(in, "/g");
	if ((err = uvfs_mkdir_at(in->vfs, &in->cred, &g, 0755)))
		die("mkdir /g", err);
	if (!dir)
		return;
	int fd;
	struct uvfs_gofer_proc *proc;
	if ((err = uvfs_gofer_spawn(dir, false, &fd, &proc)))
		die("spawn diod", err);
	char data[512];
	snprintf(data, sizeof(data), "trans=fd,rfdno=%d,wfdno=%d,aname=%s,cache=%s,dentry_cache_limit=%s", fd,
		 fd, dir, cache, getenv("BENCH_GOFER_LIMIT") ? getenv("BENCH_GOFER_LIMIT") : "100000");
	in->diod = uvfs_gofer_pid(proc);
	struct uvfs_gofer_internal gi = { .proc = proc };
	struct uvfs_mount_opts o = { .data = data, .internal = &gi };
	if ((err = uvfs_mount_at(in->vfs, &in->cred, dir, &g, "9p", &o)))
		die("mount 9p", err);
	struct uvfs_file *f;
	if ((err = uvfs_open_at(in->vfs, &in->cred, &g, O_PATH | O_DIRECTORY, 0, 0, &f)))
		die("open /g", err);
	struct uvfs_vd vd;
	uvfs_file_vd(f, &vd);
	in->fs = uvfs_mount_fs(vd.mount);
	uvfs_vd_put(&vd);
	uvfs_file_put(f);
}

static void inst_down(struct inst *in)
{
	uvfs_vd_put(&in->root);
	uvfs_mntns_put(in->ns);
	struct uvfs_live l;
	if (uvfs_destroy(in->vfs, &l))
		fprintf(stderr, "bench_gofer: live objects left: %ld dentries %ld inodes\n", l.dentries, l.inodes);
}

static uint64_t rounds_of(struct inst *in)
{
	struct uvfs_p9_stats s;
	return in->fs && !uvfs_gofer_stats(in->fs, &s) ? s.rounds : 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) { return remove(p); }

static double run_cmd(const char *cmd)
{
	double t = now();
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_gofer: %s failed\n", cmd);
		exit(1);
	}
	return now() - t;
}

/* ------------------------------------------------------------ ls -l */

struct names {
	char **v;
	size_t n, cap;
};

static int collect(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next)
{
	struct names *ns = arg;
	if ((len == 1 && name[0] == '.') || (len == 2 && !memcmp(name, "..", 2)))
		return 0;
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 1024;
		ns->v = realloc(ns->v, ns->cap * sizeof(*ns->v));
	}
	ns->v[ns->n++] = strndup(name, len);
	return 0;
}

/* CPU seconds used so far by this process and by the gofer (the machine
 * may be shared: CPU time says what the work costs, wall time what it
 * took). */
static double cpu_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static double cpu_of(pid_t pid)
{
	char p[64], b[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return 0;
	size_t n = fread(b, 1, sizeof(b) - 1, f);
	fclose(f);
	b[n] = 0;
	char *s = strrchr(b, ')');
	unsigned long ut = 0, st = 0;
	if (s && sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
		return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

static double ls_cpu_client, ls_cpu_diod; /* of the last uvfs_ls_l */

/* readdir + stat of every entry, as ls -l; returns seconds. */
static double uvfs_ls_l(const char *dir, const char *cache, size_t want, uint64_t *rt)
{
	struct inst in;
	inst_up(&in, dir, cache);
	double t = now(), c0 = cpu_self(), d0 = cpu_of(in.diod);
	uint64_t r0 = rounds_of(&in);
	struct uvfs_pathop d = pop(&in, "/g");
	struct uvfs_file *f;
	int err = uvfs_open_at(in.vfs, &in.cred, &d, O_RDONLY | O_DIRECTORY, 0, 0, &f);
	if (err)
		die("open dir", err);
	struct names ns = { 0 };
	if ((err = uvfs_iterate_dir(f, collect, &ns)))
		die("readdir", err);
	struct uvfs_vd vd;
	uvfs_file_vd(f, &vd);
	for (size_t i = 0; i < ns.n; i++) {
		struct uvfs_pathop p = { .root = in.root, .start = vd, .path = ns.v[i] };
		struct statx st;
		if ((err = uvfs_stat_at(in.vfs, &in.cred, &p, STATX_BASIC_STATS, &st)))
			die("stat entry", err);
	}
	t = now() - t;
	ls_cpu_client = cpu_self() - c0;
	ls_cpu_diod = cpu_of(in.diod) - d0;
	*rt = rounds_of(&in) - r0;
	uvfs_vd_put(&vd);
	uvfs_file_put(f);
	if (ns.n != want) {
		fprintf(stderr, "bench_gofer: listed %zu entries, want %zu\n", ns.n, want);
		exit(1);
	}
	for (size_t i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	inst_down(&in);
	return t;
}

static FILE *csv;

static void row(const char *metric, double uvfs, double other, const char *unit, double ratio)
{
	printf("%-44s %12.3f %12.3f %-6s %8.3f\n", metric, uvfs, other, unit, ratio);
	fprintf(csv, "%s,%.4f,%.4f,%s,%.4f\n", metric, uvfs, other, unit, ratio);
}

static void bench_ls(const char *base, size_t n, double gvisor_s)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/ls%zu", base, n);
	mkdir(dir, 0755);
	for (size_t i = 0; i < n; i++) {
		char p[300];
		snprintf(p, sizeof(p), "%s/file-%07zu", dir, i);
		int fd = open(p, O_CREAT | O_WRONLY, 0644);
		if (fd < 0 || close(fd)) {
			perror(p);
			exit(1);
		}
	}
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "ls -l %s > /dev/null", dir);
	double h[ROUNDS], fc[ROUNDS], rv[ROUNDS];
	uint64_t rt_fc = 0, rt_rv = 0;
	double cc[ROUNDS], cd[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		h[r] = run_cmd(cmd);
		fc[r] = uvfs_ls_l(dir, "fscache", n, &rt_fc);
		cc[r] = ls_cpu_client;
		cd[r] = ls_cpu_diod;
		rv[r] = uvfs_ls_l(dir, "remote_revalidating", n, &rt_rv);
	}
	double hm = median(h, ROUNDS), fm = median(fc, ROUNDS), rm = median(rv, ROUNDS);
	char m[80];
	snprintf(m, sizeof(m), "ls_l_%zu_fscache_vs_host_ls", n);
	row(m, fm, hm, "s", fm / hm);
	snprintf(m, sizeof(m), "ls_l_%zu_fscache_vs_gvisor", n);
	row(m, fm, gvisor_s, "s", gvisor_s / fm);
	snprintf(m, sizeof(m), "ls_l_%zu_reval_vs_host_ls", n);
	row(m, rm, hm, "s", rm / hm);
	snprintf(m, sizeof(m), "ls_l_%zu_reval_vs_gvisor", n);
	row(m, rm, gvisor_s, "s", gvisor_s / rm);
	snprintf(m, sizeof(m), "ls_l_%zu_fscache_cpu_client_diod", n);
	double ccm = median(cc, ROUNDS), cdm = median(cd, ROUNDS);
	row(m, ccm, cdm, "s", ccm / (cdm > 0 ? cdm : 1));
	snprintf(m, sizeof(m), "ls_l_%zu_round_trips_fscache_reval", n);
	row(m, (double)rt_fc, (double)rt_rv, "rt", (double)rt_fc / (double)(rt_rv ? rt_rv : 1));
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------ seq I/O */

static double seq_cpu; /* client + diod CPU seconds of the last uvfs_seq */

static double uvfs_seq(const char *dir, const char *cache, bool wr)
{
	struct inst in;
	inst_up(&in, dir, cache);
	struct uvfs_pathop p = pop(&in, "/g/big");
	struct uvfs_file *f;
	int err = uvfs_open_at(in.vfs, &in.cred, &p, wr ? O_RDWR : O_RDONLY, 0, 0, &f);
	if (err)
		die("open big", err);
	static char buf[1 << 20];
	memset(buf, 'w', sizeof(buf));
	double t = now(), c0 = cpu_self(), d0 = cpu_of(in.diod);
	for (size_t off = 0; off < ((size_t)IO_MB << 20); off += sizeof(buf)) {
		ssize_t n = wr ? uvfs_pwrite(f, buf, sizeof(buf), (off_t)off) : uvfs_pread(f, buf, sizeof(buf), (off_t)off);
		if (n != (ssize_t)sizeof(buf))
			die(wr ? "write" : "read", n < 0 ? (int)n : -EIO);
	}
	if (wr && (err = uvfs_flush(f)))
		die("flush", err);
	t = now() - t;
	seq_cpu = cpu_self() - c0 + cpu_of(in.diod) - d0;
	uvfs_file_put(f);
	inst_down(&in);
	return t;
}

static void bench_io(const char *base)
{
	char file[256], cmd[512];
	snprintf(file, sizeof(file), "%s/big", base);
	snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s bs=1M count=%d status=none", file, IO_MB);
	run_cmd(cmd);
	double mb = IO_MB;
	for (int wr = 0; wr < 2; wr++) {
		double h[ROUNDS], fc[ROUNDS], rv[ROUNDS], cfc[ROUNDS], crv[ROUNDS];
		for (int r = 0; r < ROUNDS; r++) {
			if (wr)
				snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s bs=1M count=%d conv=notrunc status=none",
					 file, IO_MB);
			else
				snprintf(cmd, sizeof(cmd), "dd if=%s of=/dev/null bs=1M status=none", file);
			h[r] = run_cmd(cmd);
			fc[r] = uvfs_seq(base, "fscache", wr);
			cfc[r] = seq_cpu;
			rv[r] = uvfs_seq(base, "remote_revalidating", wr);
			crv[r] = seq_cpu;
		}
		double cf = median(cfc, ROUNDS), cr = median(crv, ROUNDS);
		row(wr ? "write_256MiB_cpu_s_fscache_vs_reval" : "read_256MiB_cpu_s_fscache_vs_reval", cf, cr, "s",
		    cf / cr);
		double hm = mb / median(h, ROUNDS), fm = mb / median(fc, ROUNDS), rm = mb / median(rv, ROUNDS);
		row(wr ? "write_256MiB_fscache_vs_dd" : "read_256MiB_fscache_vs_dd", fm, hm, "MB/s", fm / hm);
		row(wr ? "write_256MiB_reval_vs_dd" : "read_256MiB_reval_vs_dd", rm, hm, "MB/s", rm / hm);
	}
	unlink(file);
}

/* ------------------------------------------------------------ depth-8 stat */

static double stat_loop(struct inst *in, const char *path)
{
	struct uvfs_pathop p = pop(in, path);
	struct statx st;
	for (int i = 0; i < 100; i++)
		if (uvfs_stat_at(in->vfs, &in->cred, &p, STATX_BASIC_STATS, &st))
			die("stat", -EIO);
	double t = now();
	for (int i = 0; i < STATS; i++)
		uvfs_stat_at(in->vfs, &in->cred, &p, STATX_BASIC_STATS, &st);
	return (now() - t) / STATS * 1e9;
}

static void bench_stat(const char *base)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/deep", base);
	mkdir(p, 0755);
	const char *rel = "d1/d2/d3/d4/d5/d6/d7";
	char acc[512];
	snprintf(acc, sizeof(acc), "%s", p);
	for (int i = 1; i <= 7; i++) {
		size_t l = strlen(acc);
		snprintf(acc + l, sizeof(acc) - l, "/d%d", i);
		mkdir(acc, 0755);
	}
	size_t l = strlen(acc);
	snprintf(acc + l, sizeof(acc) - l, "/f");
	close(open(acc, O_CREAT | O_WRONLY, 0644));
	char upath[128];
	snprintf(upath, sizeof(upath), "/g/%s/f", rel);
	double host[ROUNDS], tm[ROUNDS], fc[ROUNDS], rv[ROUNDS], rtps = 0;
	for (int r = 0; r < ROUNDS; r++) {
		struct stat hs;
		double t = now();
		for (int i = 0; i < STATS; i++)
			fstatat(AT_FDCWD, acc, &hs, 0);
		host[r] = (now() - t) / STATS * 1e9;
		struct inst in;
		inst_up(&in, NULL, NULL); /* the same path on tmpfs */
		char tp[128] = "/g";
		for (int i = 1; i <= 7; i++) {
			size_t k = strlen(tp);
			snprintf(tp + k, sizeof(tp) - k, "/d%d", i);
			struct uvfs_pathop mp = pop(&in, tp);
			uvfs_mkdir_at(in.vfs, &in.cred, &mp, 0755);
		}
		struct uvfs_pathop fp = pop(&in, upath);
		struct uvfs_file *f;
		if (uvfs_open_at(in.vfs, &in.cred, &fp, O_CREAT | O_WRONLY, 0644, 0, &f) == 0)
			uvfs_file_put(f);
		tm[r] = stat_loop(&in, upath);
		inst_down(&in);
		inst_up(&in, p, "fscache");
		fc[r] = stat_loop(&in, upath);
		inst_down(&in);
		inst_up(&in, p, "remote_revalidating");
		uint64_t r0 = rounds_of(&in) + 0;
		rv[r] = stat_loop(&in, upath);
		rtps = (double)(rounds_of(&in) - r0) / (STATS + 100);
		inst_down(&in);
	}
	double hm = median(host, ROUNDS), tmm = median(tm, ROUNDS), fm = median(fc, ROUNDS), rm = median(rv, ROUNDS);
	row("stat_depth8_fscache_vs_tmpfs", fm, tmm, "ns", fm / tmm);
	row("stat_depth8_fscache_vs_host_fstatat", fm, hm, "ns", fm / hm);
	row("stat_depth8_reval_vs_host_fstatat", rm, hm, "ns", rm / hm);
	row("stat_depth8_reval_round_trips_per_stat", rtps, 9.0, "rt", rtps / 9.0);
	nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
	char base[] = "/tmp/uvfs-bench-gofer-XXXXXX";
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	chmod(base, 0755);
	if (argc > 2 && !strcmp(argv[1], "--ls")) {
		/* One cold `ls -l` of N entries (for profiling): --ls N [cache] */
		size_t n = strtoul(argv[2], NULL, 10);
		const char *cache = argc > 3 ? argv[3] : "fscache";
		char dir[300];
		snprintf(dir, sizeof(dir), "%s/ls", base);
		mkdir(dir, 0755);
		for (size_t i = 0; i < n; i++) {
			char p[400];
			snprintf(p, sizeof(p), "%s/file-%07zu", dir, i);
			close(open(p, O_CREAT | O_WRONLY, 0644));
		}
		uint64_t rt = 0;
		double t = uvfs_ls_l(dir, cache, n, &rt);
		printf("ls -l %zu %s: %.3f s, %llu round trips, cpu: client %.3f s, diod %.3f s\n", n, cache, t,
		       (unsigned long long)rt, ls_cpu_client, ls_cpu_diod);
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--io")) { /* only the sequential I/O rows, CSV not written */
		csv = fopen("/dev/null", "w");
		bench_io(base);
		fclose(csv);
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return 0;
	}
	mkdir("bench/results", 0755);
	csv = fopen("bench/results/gofer.csv", "w");
	if (!csv) {
		perror("bench/results/gofer.csv");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fprintf(csv, "metric,uvfs,other,unit,ratio\n");
	printf("%-44s %12s %12s %-6s %8s\n", "metric", "uvfs", "other", "unit", "ratio");
	bool quick = argc > 1 && !strcmp(argv[1], "--quick");
	bench_stat(base);
	bench_ls(base, quick ? 1000 : 10000, 2.4);
	if (!quick)
		bench_ls(base, 50000, 10.1);
	bench_io(base);
	fclose(csv);
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
