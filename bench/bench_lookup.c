/* bench/bench_lookup.c — lookup throughput: in-process uvfs against the kernel.
 *
 * For each case the same tree exists twice: in a uvfs tmpfs (uvfs_stat_at,
 * absolute path from the namespace root, in process) and in a host tmpfs
 * (fstatat(dirfd, relative path) — the same components, walked by the
 * kernel). Both run in this process and thread, after a warm-up; each
 * side is calibrated to ~run_ms of thread CPU time per run. Runs are
 * rep-major: every rep runs every case once, uvfs and kernel back to back
 * (order alternating), so machine noise is spread over cases and sides;
 * the reported figure is the median of the reps (and the fastest rep).
 *
 * Host side: a private tmpfs is mounted (mount(2), we are root) on a
 * mkdtemp directory under /dev/shm; the mount-crossing cases mount a second
 * real tmpfs inside it. Without CAP_SYS_ADMIN the tree lives in the plain
 * /dev/shm directory and the kernel mount-crossing cases are skipped.
 * Everything is unmounted and removed at exit, also on failure or signal.
 *
 * Cases (depth N = N nested directories + a final file, as gVisor's
 * BenchmarkVFS2TmpfsStat; the path has N+1 components):
 *   depthN         /DN/1/2/.../N-1/file, N = 1, 4, 8, 16, 64
 *   mountN         /MN/1/.../file, MN is the root of a second tmpfs
 *   longnames8     depth 8 with 16-byte names (longnames-dir-01/...)
 *   negative8      depth 8 with the final name missing (ENOENT)
 *   dotdot8        depth 8 with "4/../4" spliced in (/D8/1/2/3/4/../4/5/6/7/file)
 *   symlink8       depth 8 where component 4 is reached through a symlink
 *                  /D8/1/2/3/L/5/6/7/file, L -> "4" (one hop, +0 components)
 *   dir10/dir1M    /B10/f00000005 in a dir of 10 entries vs /B1M/f00500000
 *                  in a dir of 1,000,000 entries (same name length)
 *   dir10r/dir1Mr  same dirs, cycling through their 10 / 4096 random names
 *   threads1/2     depth 8, 1 vs 2 pinned threads, each its own loop; Mops/s
 *                  aggregate; a pure-CPU control loop run the same way
 *                  shows what the shared machine gives 2 threads
 *   refwalkN       depth N (1, 8, 64) with uvfs_set_debug(vfs, UVFS_DEBUG_REFWALK);
 *                  the kernel column is measured again alongside
 *   refwalk8-1T/2T depth 8, forced ref-walk, 1 vs 2 threads
 *   memory         RSS and malloc deltas of creating the 1M-entry directory
 *                  (and the machine-wide Slab+Shmem delta of the kernel's)
 * A null system call (getppid) is timed too, as context for the kernel.
 *
 * Output: table on stdout, bench/results/lookup.{csv,json}, and
 * bench/results/lookup_depth.png via bench/plot_lookup.sh (skipped with a
 * message if gnuplot is missing). Env: BENCH_QUICK=1 shortens the runs;
 * BENCH_ONLY=<case>[,<case>...] runs only those cases, "dir*" style
 * prefixes allowed (for profiling; nothing is written);
 * BENCH_NO_1M=1 skips the 1M-entry directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "uvfs.h"

#define REPS 15
#define MAX_PATHS 4096
#define BIG_N 1000000
#define OUT_DIR "bench/results"

static double run_ms = 30.0;
static int reps = REPS;

/* ------------------------------------------------------------ helpers */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Timed runs use this thread's CPU time (user + system, so the kernel's
 * syscall time counts): on a shared 2-CPU machine, time spent preempted by
 * other processes does not inflate either side. Contention between our own
 * threads (cache-line bouncing, spinning) still costs CPU time and shows. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmpd);
	return v[n / 2];
}

static double vmin(const double *v, int n)
{
	double m = v[0];
	for (int i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static double vmax(const double *v, int n)
{
	double m = v[0];
	for (int i = 1; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/* 1-minute load average: the machine is shared; reported with the results. */
static double loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}
static double load_start, load_end;

/* Which library we measured: HEAD plus "+dirty" if vfs/ or fsimpl/ have
 * uncommitted changes (the library is built from the working tree). */
static char git_rev[64] = "unknown";
static void read_git_rev(void)
{
	const char *env = getenv("BENCH_LIB_REV"); /* for builds outside the repo */
	if (env && *env) {
		snprintf(git_rev, sizeof git_rev, "%s", env);
		return;
	}
	FILE *p = popen("git rev-parse --short HEAD 2>/dev/null && "
			"(git diff --quiet HEAD -- vfs fsimpl 2>/dev/null || echo +dirty)",
			"r");
	if (!p)
		return;
	char a[32] = "", b[16] = "";
	if (fscanf(p, "%31s %15s", a, b) >= 1)
		snprintf(git_rev, sizeof git_rev, "%s%s", a, b);
	pclose(p);
}

/* ---------------------------------------------------- host side, cleanup */

static char host_dir[64]; /* mkdtemp result, "" if none */
static int host_mounted; /* private tmpfs mounted on host_dir */
static char host_submounts[8][4300];
static int n_host_submounts;
static int host_fd = -1;
static int can_mount = 1;

static int rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) ? -1 : 0;
	return unlink(path) ? -1 : 0;
}

static void host_cleanup(void)
{
	if (host_fd >= 0) {
		close(host_fd);
		host_fd = -1;
	}
	for (int i = n_host_submounts - 1; i >= 0; i--)
		if (umount2(host_submounts[i], MNT_DETACH))
			fprintf(stderr, "umount %s: %s\n", host_submounts[i], strerror(errno));
	n_host_submounts = 0;
	if (host_mounted) {
		/* Unmounting the private tmpfs frees the whole tree at once. */
		if (umount2(host_dir, MNT_DETACH))
			fprintf(stderr, "umount %s: %s\n", host_dir, strerror(errno));
		host_mounted = 0;
	}
	if (host_dir[0]) {
		if (nftw(host_dir, rm_cb, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT))
			fprintf(stderr, "removing %s: %s\n", host_dir, strerror(errno));
		host_dir[0] = 0;
	}
}

static void on_signal(int sig)
{
	/* Not async-signal-safe in theory; good enough to not leave mounts
	 * behind on ^C. */
	host_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench_lookup: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1); /* atexit runs host_cleanup */
}

static void host_setup(void)
{
	strcpy(host_dir, "/dev/shm/uvfs-bench-XXXXXX");
	if (!mkdtemp(host_dir)) {
		host_dir[0] = 0;
		die("mkdtemp: %s", strerror(errno));
	}
	if (mount("uvfs-bench", host_dir, "tmpfs", MS_NOATIME, "mode=0755,nr_inodes=0,size=4g") == 0) {
		host_mounted = 1;
	} else {
		fprintf(stderr, "note: cannot mount a private tmpfs (%s); using %s as is, "
				"kernel mount-crossing cases skipped\n",
			strerror(errno), host_dir);
		can_mount = 0;
	}
	host_fd = open(host_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (host_fd < 0)
		die("open %s: %s", host_dir, strerror(errno));
}

/* ---------------------------------------------------------- uvfs side */

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd uroot;
static struct uvfs_cred cred;

static struct uvfs_pathop upop(const char *path, unsigned flags)
{
	struct uvfs_pathop p = { .root = uroot, .start = uroot, .path = path, .flags = flags };
	return p;
}

/* rel is relative to the host dir; uvfs gets "/" rel. */
static void both_mkdir(const char *rel)
{
	char ap[4200];
	snprintf(ap, sizeof ap, "/%s", rel);
	struct uvfs_pathop p = upop(ap, 0);
	int rc = uvfs_mkdir_at(vfs, &cred, &p, 0755);
	if (rc)
		die("uvfs mkdir %s: %s", ap, strerror(-rc));
	if (mkdirat(host_fd, rel, 0755))
		die("mkdir %s: %s", rel, strerror(errno));
}

static void both_file(const char *rel)
{
	char ap[4200];
	snprintf(ap, sizeof ap, "/%s", rel);
	struct uvfs_pathop p = upop(ap, 0);
	int rc = uvfs_mknod_at(vfs, &cred, &p, S_IFREG | 0644, 0);
	if (rc)
		die("uvfs mknod %s: %s", ap, strerror(-rc));
	if (mknodat(host_fd, rel, S_IFREG | 0644, 0))
		die("mknod %s: %s", rel, strerror(errno));
}

static void both_symlink(const char *target, const char *rel)
{
	char ap[4200];
	snprintf(ap, sizeof ap, "/%s", rel);
	struct uvfs_pathop p = upop(ap, 0);
	int rc = uvfs_symlink_at(vfs, &cred, target, &p);
	if (rc)
		die("uvfs symlink %s: %s", ap, strerror(-rc));
	if (symlinkat(target, host_fd, rel))
		die("symlink %s: %s", rel, strerror(errno));
}

/* Mount a fresh tmpfs on rel on both sides. Returns 1 if the host side
 * could mount too. */
static int both_mount(const char *rel)
{
	char ap[4200];
	snprintf(ap, sizeof ap, "/%s", rel);
	struct uvfs_pathop p = upop(ap, 0);
	struct uvfs_mount_opts o = { 0 };
	int rc = uvfs_mount_at(vfs, &cred, "none", &p, "tmpfs", &o);
	if (rc)
		die("uvfs mount on %s: %s", ap, strerror(-rc));
	if (!can_mount || n_host_submounts == 8)
		return 0;
	char hp[4300];
	snprintf(hp, sizeof hp, "%s/%s", host_dir, rel);
	if (mount("uvfs-bench-sub", hp, "tmpfs", MS_NOATIME, "mode=0755")) {
		fprintf(stderr, "note: mount tmpfs on %s: %s\n", hp, strerror(errno));
		return 0;
	}
	snprintf(host_submounts[n_host_submounts++], sizeof host_submounts[0], "%s", hp);
	return 1;
}

/* Builds N nested dirs TOP/1/.../N-1 and the file; returns the rel path of
 * the file in out. If mount_first, TOP becomes a tmpfs mount point. */
static int build_chain(const char *top, int depth, int mount_first, char *out, size_t outlen)
{
	int host_ok = 1;
	both_mkdir(top);
	if (mount_first)
		host_ok = both_mount(top);
	size_t n = (size_t)snprintf(out, outlen, "%s", top);
	for (int i = 1; i < depth; i++) {
		n += (size_t)snprintf(out + n, outlen - n, "/%d", i);
		both_mkdir(out);
	}
	snprintf(out + n, outlen - n, "/file");
	both_file(out);
	return host_ok;
}

/* ---------------------------------------------------------- the loops */

struct target {
	int npaths;
	char *upath[MAX_PATHS]; /* "/..." */
	char *kpath[MAX_PATHS]; /* relative to host_fd */
	unsigned uflags; /* UVFS_PATH_FOLLOW */
	int kflags; /* AT_SYMLINK_NOFOLLOW */
	int expect; /* 0 or -ENOENT */
};

static volatile uint64_t sink;
static _Atomic long uvfs_calls; /* every uvfs_stat_at made, for Ir/op under callgrind */

static double loop_uvfs(const struct target *t, long iters)
{
	struct statx st;
	struct uvfs_pathop pop = upop(t->upath[0], t->uflags);
	long bad = 0;
	uint64_t acc = 0;
	int np = t->npaths, j = 0;
	double t0 = cpu_now();
	for (long i = 0; i < iters; i++) {
		if (np > 1) {
			pop.path = t->upath[j];
			if (++j == np)
				j = 0;
		}
		int rc = uvfs_stat_at(vfs, &cred, &pop, STATX_BASIC_STATS, &st);
		bad += rc != t->expect;
		acc += st.stx_ino;
	}
	double dt = cpu_now() - t0;
	sink += acc;
	atomic_fetch_add_explicit(&uvfs_calls, iters, memory_order_relaxed);
	if (bad) {
		struct uvfs_pathop q = upop(t->upath[0], t->uflags);
		int rc = uvfs_stat_at(vfs, &cred, &q, STATX_BASIC_STATS, &st);
		die("uvfs stat %s: got %d, expected %d (%ld bad)", t->upath[0], rc, t->expect, bad);
	}
	return dt;
}

static double loop_kernel(const struct target *t, long iters)
{
	struct stat st;
	long bad = 0;
	uint64_t acc = 0;
	int np = t->npaths, j = 0;
	const char *path = t->kpath[0];
	double t0 = cpu_now();
	for (long i = 0; i < iters; i++) {
		if (np > 1) {
			path = t->kpath[j];
			if (++j == np)
				j = 0;
		}
		int rc = fstatat(host_fd, path, &st, t->kflags);
		bad += (rc ? -errno : 0) != t->expect;
		acc += st.st_ino;
	}
	double dt = cpu_now() - t0;
	sink += acc;
	if (bad)
		die("fstatat %s: unexpected result (%ld bad, errno %s)", t->kpath[0], bad, strerror(errno));
	return dt;
}

/* Control for the thread-scaling case: register arithmetic in four
 * independent chains (high IPC, like the walk), no memory traffic, nothing
 * shared. Its 2T/1T ratio is what this machine gives two threads at that
 * moment (load on the other vCPU, or a host SMT sibling, decides). */
static double loop_control(long iters)
{
	uint64_t a = 0x9E3779B97F4A7C15ULL, b = 1, c = 2, d = 3;
	double t0 = cpu_now();
	for (long i = 0; i < iters; i++)
		for (int j = 0; j < 16; j++) {
			a ^= a << 13, b ^= b << 13, c ^= c << 13, d ^= d << 13;
			a ^= a >> 7, b ^= b >> 7, c ^= c >> 7, d ^= d >> 7;
			a ^= a << 17, b ^= b << 17, c ^= c << 17, d ^= d << 17;
		}
	double dt = cpu_now() - t0;
	sink += a + b + c + d;
	return dt;
}

enum side { UVFS, KERNEL, CONTROL };

static double run_side(enum side s, const struct target *t, long iters)
{
	return s == UVFS ? loop_uvfs(t, iters) : s == KERNEL ? loop_kernel(t, iters) : loop_control(iters);
}

/* Context for the kernel column: a null system call (getppid), ns. */
static double null_syscall_ns(void)
{
	double v[REPS];
	long it = 200000;
	for (int r = 0; r < reps; r++) {
		double t0 = cpu_now();
		for (long i = 0; i < it; i++)
			syscall(SYS_getppid);
		v[r] = (cpu_now() - t0) / (double)it * 1e9;
	}
	return median(v, reps);
}
static double syscall_ns;

/* ------------------------------------------------------------- threads */

static int ncpu;

static void pin(int cpu)
{
	if (ncpu < 1)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % ncpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set); /* best effort */
}

struct worker {
	pthread_t th;
	int cpu;
	enum side side;
	const struct target *t;
	long iters;
	double secs;
	pthread_barrier_t *bar;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	pin(w->cpu);
	uvfs_thread_enter();
	/* Short warm-up of this thread's caches, then start together. */
	run_side(w->side, w->t, w->iters / 20 + 1);
	pthread_barrier_wait(w->bar);
	w->secs = run_side(w->side, w->t, w->iters);
	uvfs_thread_leave();
	return NULL;
}

/* nthreads pinned threads each doing iters ops; returns aggregate ops/s
 * (sum of each thread's own rate). */
static double run_threads(enum side s, const struct target *t, long iters, int nthreads)
{
	struct worker w[8];
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .cpu = i, .side = s, .t = t, .iters = iters, .bar = &bar };
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i]))
			die("pthread_create");
	}
	double rate = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(w[i].th, NULL);
		rate += (double)iters / w[i].secs;
	}
	pthread_barrier_destroy(&bar);
	return rate;
}

/* ------------------------------------------------------------- results */

struct result {
	char name[32];
	char group[16]; /* depth, mount, misc, dir, threads, refwalk, memory */
	int depth; /* components walked (dirs), -1 if n/a */
	int threads;
	double u_ns, k_ns; /* median ns/op (per thread) */
	double u_best, k_best; /* fastest run's ns/op: the quiet-machine figure */
	double u_mops, k_mops; /* aggregate Mops/s */
	int k_valid;
	char note[96];
};

static struct result results[64];
static int nresults;
static const char *only;

/* BENCH_ONLY: comma-separated case names; a trailing '*' makes a prefix. */
static int wanted(const char *name)
{
	if (!only)
		return 1;
	for (const char *p = only; *p;) {
		size_t n = strcspn(p, ",");
		if (n && p[n - 1] == '*' ? strncmp(name, p, n - 1) == 0 : strlen(name) == n && !strncmp(name, p, n))
			return 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Iterations for ~run_ms on this side. */
static long calibrate(enum side s, const struct target *t)
{
	long it = 64;
	for (;;) {
		double dt = run_side(s, t, it);
		if (dt > 0.005 || it > (1L << 30)) {
			double per = dt / (double)it;
			long n = (long)(run_ms * 1e-3 / per);
			return n < 16 ? 16 : n;
		}
		it *= 4;
	}
}

static struct result *add_result(const char *name, const char *group, int depth, int threads)
{
	struct result *r = &results[nresults++];
	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
	snprintf(r->group, sizeof r->group, "%s", group);
	r->depth = depth;
	r->threads = threads;
	return r;
}

static void print_row(const struct result *r)
{
	if (r->k_valid)
		printf("%-14s %3d %2d %10.1f %9.2f %10.1f %9.2f %8.1fx %9.1fx  %s\n", r->name, r->depth, r->threads,
		       r->u_ns, r->u_mops, r->k_ns, r->k_mops, r->k_ns / r->u_ns, r->k_best / r->u_best, r->note);
	else
		printf("%-14s %3d %2d %10.1f %9.2f %10s %9s %9s %10s  %s\n", r->name, r->depth, r->threads, r->u_ns,
		       r->u_mops, "-", "-", "-", "-", r->note);
	fflush(stdout);
}

/* A registered case; all cases are measured together by run_cases(). */
struct bcase {
	char name[32], name2[32]; /* name2: the 2-thread row of a thread pair */
	const char *group;
	int depth, kernel_ok, refwalk;
	int pair; /* thread pair: 1 and 2 threads, aggregate rates */
	const struct target *t;
	long iu, ik, ic;
	double u[2][REPS], k[2][REPS]; /* ns/op (single) or ops/s (pair) */
	double ctl[2][REPS]; /* pair: control loop rates */
};
static struct bcase bcases[48];
static double ctl_scaling; /* control loop 2T/1T of the threads case */
static int nbcases;

static struct bcase *add_bcase(const char *name, const char *group, int depth, const struct target *t,
			       int kernel_ok, int refwalk)
{
	if (nbcases == (int)(sizeof bcases / sizeof bcases[0]))
		die("too many cases");
	struct bcase *c = &bcases[nbcases++];
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name);
	c->group = group;
	c->depth = depth;
	c->t = t;
	c->kernel_ok = kernel_ok;
	c->refwalk = refwalk;
	return c;
}

static void bench_case(const char *name, const char *group, int depth, const struct target *t, int kernel_ok,
		       int refwalk)
{
	if (wanted(name))
		add_bcase(name, group, depth, t, kernel_ok, refwalk);
}

/* Thread scaling: 1 and 2 threads (u1, u2, k1, k2 in every rep), so the
 * 2T/1T ratio is taken under the same machine load. Two rows: name1 and
 * name2; Mops/s is the aggregate (sum of per-thread rates). */
static void bench_threads(const char *name1, const char *name2, const char *group, int depth,
			  const struct target *t, int refwalk)
{
	if (!wanted(name1) && !wanted(name2))
		return;
	struct bcase *c = add_bcase(name1, group, depth, t, 1, refwalk);
	snprintf(c->name2, sizeof c->name2, "%s", name2);
	c->pair = 1;
}

/* Measure every registered case: warm-up and calibration first, then
 * rep-major — each rep runs every case once (uvfs and kernel back to back,
 * order alternating) — so a noisy phase of this shared machine lands in one
 * rep of many cases instead of in all reps of one case, and comparisons
 * between cases (slope, 1M vs 10 entries, 2T vs 1T) see the same load. */
static void run_cases(void)
{
	for (int i = 0; i < nbcases; i++) {
		struct bcase *c = &bcases[i];
		uvfs_set_debug(vfs, c->refwalk ? UVFS_DEBUG_REFWALK : 0);
		run_side(UVFS, c->t, 1000);
		if (c->kernel_ok)
			run_side(KERNEL, c->t, 200);
		c->iu = calibrate(UVFS, c->t);
		c->ik = c->kernel_ok ? calibrate(KERNEL, c->t) : 0;
		c->ic = c->pair ? calibrate(CONTROL, c->t) : 0;
	}
	uvfs_set_debug(vfs, 0);
	int tty = isatty(2);
	for (int r = 0; r < reps; r++) {
		if (tty)
			fprintf(stderr, "\rrep %d/%d ", r + 1, reps);
		for (int i = 0; i < nbcases; i++) {
			struct bcase *c = &bcases[i];
			uvfs_set_debug(vfs, c->refwalk ? UVFS_DEBUG_REFWALK : 0);
			if (c->pair) {
				for (int n = 0; n < 2; n++) {
					c->u[n][r] = run_threads(UVFS, c->t, c->iu, n + 1);
					c->k[n][r] = run_threads(KERNEL, c->t, c->ik, n + 1);
					c->ctl[n][r] = run_threads(CONTROL, c->t, c->ic, n + 1);
				}
				continue;
			}
			int kfirst = (r + i) & 1;
			if (kfirst && c->kernel_ok)
				c->k[0][r] = run_side(KERNEL, c->t, c->ik) / (double)c->ik * 1e9;
			c->u[0][r] = run_side(UVFS, c->t, c->iu) / (double)c->iu * 1e9;
			if (!kfirst && c->kernel_ok)
				c->k[0][r] = run_side(KERNEL, c->t, c->ik) / (double)c->ik * 1e9;
		}
		uvfs_set_debug(vfs, 0);
	}
	if (tty)
		fprintf(stderr, "\r            \r");
	for (int i = 0; i < nbcases; i++) {
		struct bcase *c = &bcases[i];
		if (!c->pair) {
			struct result *res = add_result(c->name, c->group, c->depth, 1);
			res->u_best = vmin(c->u[0], reps);
			res->u_ns = median(c->u[0], reps);
			res->u_mops = 1e3 / res->u_ns;
			if (c->kernel_ok) {
				res->k_valid = 1;
				res->k_best = vmin(c->k[0], reps);
				res->k_ns = median(c->k[0], reps);
				res->k_mops = 1e3 / res->k_ns;
			}
			if (wanted(res->name))
				print_row(res);
			continue;
		}
		for (int n = 0; n < 2; n++) {
			struct result *res = add_result(n ? c->name2 : c->name, c->group, c->depth, n + 1);
			res->u_best = 1e9 / vmax(c->u[n], reps) * (n + 1);
			res->k_best = 1e9 / vmax(c->k[n], reps) * (n + 1);
			res->u_mops = median(c->u[n], reps) / 1e6;
			res->k_mops = median(c->k[n], reps) / 1e6;
			res->u_ns = 1e3 / res->u_mops * (n + 1); /* per-thread latency */
			res->k_ns = 1e3 / res->k_mops * (n + 1);
			res->k_valid = 1;
			if (n)
				snprintf(res->note, sizeof res->note, "control loop 2T/1T %.2fx",
					 median(c->ctl[1], reps) / median(c->ctl[0], reps));
			print_row(res);
		}
		if (!strcmp(c->name, "threads1"))
			ctl_scaling = median(c->ctl[1], reps) / median(c->ctl[0], reps);
	}
}

static struct result *find(const char *name)
{
	for (int i = 0; i < nresults; i++)
		if (!strcmp(results[i].name, name))
			return &results[i];
	return NULL;
}

/* ---------------------------------------------------------- targets */

/* Every target lives until the end of main (cases run together). */
static struct target *all_targets[64];
static int n_targets;

static struct target *new_target(const char *rel, unsigned uflags, int kflags, int expect)
{
	struct target *t = calloc(1, sizeof *t);
	if (!t || n_targets == 64)
		die("oom");
	all_targets[n_targets++] = t;
	t->npaths = 1;
	t->kpath[0] = strdup(rel);
	if (asprintf(&t->upath[0], "/%s", rel) < 0 || !t->kpath[0])
		die("oom");
	t->uflags = uflags;
	t->kflags = kflags;
	t->expect = expect;
	return t;
}

static void free_target(struct target *t)
{
	for (int i = 0; i < t->npaths; i++) {
		free(t->upath[i]);
		free(t->kpath[i]);
	}
	free(t);
}

/* ---------------------------------------------------------- memory */

static long page_kb;

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;
	if (f) {
		if (fscanf(f, "%ld %ld", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * page_kb;
}

/* Kernel Slab + Shmem from /proc/meminfo, kB (machine-wide: noisy). */
static long meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = atol(line + kl + 1);
			break;
		}
	fclose(f);
	return v;
}

struct memres {
	long files;
	double rss_per_file, heap_per_file, kern_per_file;
	double u_build_s, k_build_s;
};
static struct memres mem;

/* Create the 1M-entry directory B1M on both sides, measuring memory. */
static void build_big(int n)
{
	char ap[64];
	both_mkdir("B1M");
	malloc_trim(0);
	long r0 = rss_kb();
	struct mallinfo2 m0 = mallinfo2();
	double t0 = now();
	for (int i = 0; i < n; i++) {
		snprintf(ap, sizeof ap, "/B1M/f%08d", i);
		struct uvfs_pathop p = upop(ap, 0);
		int rc = uvfs_mknod_at(vfs, &cred, &p, S_IFREG | 0644, 0);
		if (rc)
			die("uvfs mknod %s: %s", ap, strerror(-rc));
	}
	mem.u_build_s = now() - t0;
	long r1 = rss_kb();
	struct mallinfo2 m1 = mallinfo2();
	mem.files = n;
	mem.rss_per_file = (double)(r1 - r0) * 1024.0 / n;
	mem.heap_per_file = (double)((m1.uordblks + m1.hblkhd) - (m0.uordblks + m0.hblkhd)) / n;

	long s0 = meminfo_kb("Slab"), h0 = meminfo_kb("Shmem");
	t0 = now();
	for (int i = 0; i < n; i++) {
		snprintf(ap, sizeof ap, "B1M/f%08d", i);
		if (mknodat(host_fd, ap, S_IFREG | 0644, 0))
			die("mknod %s: %s", ap, strerror(errno));
	}
	mem.k_build_s = now() - t0;
	long s1 = meminfo_kb("Slab"), h1 = meminfo_kb("Shmem");
	mem.kern_per_file = (double)((s1 - s0) + (h1 - h0)) * 1024.0 / n;
}

/* ---------------------------------------------------------- output */

static void write_outputs(void)
{
	FILE *f = fopen(OUT_DIR "/lookup.csv", "w");
	if (!f)
		die("open %s/lookup.csv: %s", OUT_DIR, strerror(errno));
	fprintf(f, "case,group,depth,threads,uvfs_ns,uvfs_mops,kernel_ns,kernel_mops,ratio,uvfs_ns_best,kernel_ns_best,"
		   "ratio_best,value\n");
	for (int i = 0; i < nresults; i++) {
		struct result *r = &results[i];
		if (r->k_valid)
			fprintf(f, "%s,%s,%d,%d,%.2f,%.3f,%.2f,%.3f,%.2f,%.2f,%.2f,%.2f,\n", r->name, r->group, r->depth,
				r->threads, r->u_ns, r->u_mops, r->k_ns, r->k_mops, r->k_ns / r->u_ns, r->u_best, r->k_best,
				r->k_best / r->u_best);
		else
			fprintf(f, "%s,%s,%d,%d,%.2f,%.3f,,,,%.2f,,,\n", r->name, r->group, r->depth, r->threads, r->u_ns,
				r->u_mops, r->u_best);
	}
	if (mem.files) {
		/* Memory rows: depth = number of files, the figure in "value". */
		fprintf(f, "mem_uvfs_rss_bytes_per_file,memory,%ld,1,,,,,,,,,%.1f\n", mem.files, mem.rss_per_file);
		fprintf(f, "mem_uvfs_malloc_bytes_per_file,memory,%ld,1,,,,,,,,,%.1f\n", mem.files, mem.heap_per_file);
		fprintf(f, "mem_kernel_slab_shmem_bytes_per_file,memory,%ld,1,,,,,,,,,%.1f\n", mem.files,
			mem.kern_per_file);
	}
	fclose(f);

	f = fopen(OUT_DIR "/lookup.json", "w");
	if (!f)
		die("open %s/lookup.json: %s", OUT_DIR, strerror(errno));
	time_t tt = time(NULL);
	char ts[32];
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tt));
	fprintf(f,
		"{\n  \"date\": \"%s\",\n  \"cpus\": %d,\n  \"reps\": %d,\n  \"run_ms\": %.0f,\n"
		"  \"clock\": \"CLOCK_THREAD_CPUTIME_ID\",\n  \"loadavg_start\": %.2f,\n  \"loadavg_end\": %.2f,\n"
		"  \"git\": \"%s\",\n",
		ts, ncpu, reps, run_ms, load_start, load_end, git_rev);
	fprintf(f, "  \"threads_control_2T_over_1T\": %.2f,\n  \"null_syscall_ns\": %.1f,\n", ctl_scaling,
		syscall_ns);
	fprintf(f, "  \"kernel_side\": \"%s\",\n",
		host_mounted ? "fstatat(dirfd) on a private tmpfs mounted under /dev/shm; mount cases on a "
			       "second real tmpfs (mount(2))"
			     : "fstatat(dirfd) in a /dev/shm directory (no mount privilege)");
	fprintf(f, "  \"cases\": [\n");
	for (int i = 0; i < nresults; i++) {
		struct result *r = &results[i];
		fprintf(f,
			"    {\"case\": \"%s\", \"group\": \"%s\", \"depth\": %d, \"threads\": %d, "
			"\"uvfs_ns\": %.2f, \"uvfs_mops\": %.3f",
			r->name, r->group, r->depth, r->threads, r->u_ns, r->u_mops);
		fprintf(f, ", \"uvfs_ns_best\": %.2f", r->u_best);
		if (r->k_valid)
			fprintf(f,
				", \"kernel_ns\": %.2f, \"kernel_mops\": %.3f, \"ratio\": %.2f, \"kernel_ns_best\": %.2f, "
				"\"ratio_best\": %.2f",
				r->k_ns, r->k_mops, r->k_ns / r->u_ns, r->k_best, r->k_best / r->u_best);
		fprintf(f, "}%s\n", i + 1 < nresults ? "," : "");
	}
	fprintf(f, "  ]");
	if (mem.files)
		fprintf(f,
			",\n  \"memory\": {\"files\": %ld, \"rss_bytes_per_file\": %.1f, "
			"\"malloc_bytes_per_file\": %.1f, \"kernel_slab_shmem_bytes_per_file\": %.1f, "
			"\"uvfs_create_s\": %.3f, \"kernel_create_s\": %.3f}",
			mem.files, mem.rss_per_file, mem.heap_per_file, mem.kern_per_file, mem.u_build_s,
			mem.k_build_s);
	fprintf(f, ",\n  \"targets\": [\n");
	struct result *d8 = find("depth8"), *d16 = find("depth16"), *d64 = find("depth64");
	struct result *t1 = find("threads1"), *t2 = find("threads2"), *b10 = find("dir10"), *b1m = find("dir1M");
	int first = 1;
#define TGT(cond, nm, fmt, val, goal)                                                                              \
	do {                                                                                                       \
		if (cond) {                                                                                        \
			fprintf(f, "%s    {\"target\": \"%s\", \"value\": " fmt ", \"goal\": \"%s\"}",              \
				first ? "" : ",\n", nm, val, goal);                                                \
			first = 0;                                                                                 \
		}                                                                                                  \
	} while (0)
	TGT(d8 && d8->k_valid, "depth8_kernel_over_uvfs", "%.2f", d8 ? d8->k_ns / d8->u_ns : 0, ">= 15");
	TGT(d16 && d64, "slope_16_64_ns_per_component", "%.2f", d16 && d64 ? (d64->u_ns - d16->u_ns) / 48.0 : 0,
	    "<= 15");
	TGT(t1 && t2, "threads_2T_over_1T", "%.2f", t1 && t2 ? t2->u_mops / t1->u_mops : 0, ">= 1.8");
	TGT(b10 && b1m, "dir1M_over_dir10", "%.2f", b10 && b1m ? b1m->u_ns / b10->u_ns : 0, "<= 1.3");
	TGT(mem.files, "bytes_per_file_rss", "%.1f", mem.rss_per_file, "<= 400");
#undef TGT
	fprintf(f, "\n  ]\n}\n");
	fclose(f);
}

static void print_targets(void)
{
	struct result *d8 = find("depth8"), *d16 = find("depth16"), *d64 = find("depth64");
	struct result *t1 = find("threads1"), *t2 = find("threads2"), *b10 = find("dir10"), *b1m = find("dir1M");
	printf("\nTargets (reported, not asserted):\n");
	if (d8 && d8->k_valid) {
		double v = d8->k_ns / d8->u_ns;
		printf("  depth-8 stat kernel/uvfs      %6.2fx   goal >= 15x    %s  (fastest runs: %.2fx)\n", v,
		       v >= 15 ? "MET" : "MISSED", d8->k_best / d8->u_best);
	}
	if (d16 && d64) {
		double v = (d64->u_ns - d16->u_ns) / 48.0;
		printf("  slope depth 16->64            %6.2f ns/component  goal <= 15  %s  (kernel %.2f)\n", v,
		       v <= 15 ? "MET" : "MISSED", d64->k_valid ? (d64->k_ns - d16->k_ns) / 48.0 : 0.0);
	}
	if (t1 && t2) {
		double v = t2->u_mops / t1->u_mops;
		printf("  2 threads / 1 thread          %6.2fx   goal >= 1.8x   %s  (kernel %.2fx; pure-CPU control loop "
		       "%.2fx = what the machine gave 2 threads)\n",
		       v, v >= 1.8 ? "MET" : "MISSED", t2->k_mops / t1->k_mops, ctl_scaling);
	}
	if (b10 && b1m) {
		double v = b1m->u_ns / b10->u_ns;
		printf("  1M-entry dir / 10-entry dir   %6.2fx   goal <= 1.3x   %s  (kernel %.2fx)\n", v,
		       v <= 1.3 ? "MET" : "MISSED", b1m->k_ns / b10->k_ns);
	}
	if (mem.files) {
		printf("  bytes per tmpfs file (RSS)    %6.1f    goal <= 400    %s  (malloc in use %.1f; kernel "
		       "slab+shmem %.1f)\n",
		       mem.rss_per_file, mem.rss_per_file <= 400 ? "MET" : "MISSED", mem.heap_per_file,
		       mem.kern_per_file);
	}
}

static void plot(void)
{
	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		printf("gnuplot not found: skipping %s/lookup_depth.png\n", OUT_DIR);
		return;
	}
	int rc = system("sh bench/plot_lookup.sh");
	if (rc != 0)
		printf("plot failed (bench/plot_lookup.sh exit %d); CSV is still in %s\n", rc, OUT_DIR);
	else
		printf("plot: %s/lookup_depth.png\n", OUT_DIR);
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_lookup [--quick] [--only CASE[,CASE...]] [--no-1m]\n\n"
		   "Times path lookup (uvfs_stat_at) against the kernel's (fstatat on a tmpfs) on\n"
		   "this machine: ns/op and Mops/s per case, the ratio, and a null syscall for\n"
		   "context. Writes %s/lookup.{csv,json} and lookup_depth.png relative to the\n"
		   "current directory (`make bench` runs it in build/bench-run; SAVE=1 in the\n"
		   "repository, replacing the committed results).\n\n"
		   "  --quick        short runs (BENCH_QUICK=1)\n"
		   "  --only CASES   only these cases, prefixes like dir* allowed; writes nothing\n"
		   "                 (BENCH_ONLY=)\n"
		   "  --no-1m        skip the 1,000,000-entry directory (BENCH_NO_1M=1)\n\n"
		   "cases: depth1 depth4 depth8 depth16 depth64 mount8 longnames8 negative8 dotdot8\n"
		   "       symlink8 dir10 dir1M dir10r dir1Mr threads1 threads2 refwalk1 refwalk8\n"
		   "       refwalk64 refwalk8-1T refwalk8-2T memory\n\n"
		   "Instructions per lookup, which do not move with the machine: bench/profile_lookup.sh.\n"
		   "example:\n  build/bench/bench_lookup --quick --only depth8,depth64\n",
		OUT_DIR);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--quick")) {
			setenv("BENCH_QUICK", "1", 1);
		} else if (!strcmp(argv[i], "--no-1m")) {
			setenv("BENCH_NO_1M", "1", 1);
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			setenv("BENCH_ONLY", argv[++i], 1);
		} else if (!strncmp(argv[i], "--only=", 7)) {
			setenv("BENCH_ONLY", argv[i] + 7, 1);
		} else {
			fprintf(stderr, "bench_lookup: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	page_kb = sysconf(_SC_PAGESIZE) / 1024;
	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (getenv("BENCH_QUICK")) {
		run_ms = 15;
		reps = 3;
	}
	only = getenv("BENCH_ONLY");
	if (only && !*only)
		only = NULL;
	int do_big = !getenv("BENCH_NO_1M") && (!only || strstr(only, "dir") || strstr(only, "mem"));

	if (mkdir("bench", 0755) && errno != EEXIST)
		die("mkdir bench: %s", strerror(errno));
	if (mkdir(OUT_DIR, 0755) && errno != EEXIST)
		die("mkdir %s: %s", OUT_DIR, strerror(errno));

	atexit(host_cleanup);
	/* Cleanup also on signals and crashes (best effort), and no death by
	 * SIGPIPE when the output is piped into head: the write fails instead,
	 * the run finishes and cleans up. */
	signal(SIGPIPE, SIG_IGN);
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], on_signal);
	host_setup();
	pin(0);

	uvfs_cred_init_root(&cred);
	int rc = uvfs_create(&vfs);
	if (rc)
		die("uvfs_create: %s", strerror(-rc));
	rc = uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST);
	if (rc)
		die("register tmpfs: %s", strerror(-rc));
	struct uvfs_mount_opts mo = { 0 };
	rc = uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &mo, &ns);
	if (rc)
		die("uvfs_mntns_new: %s", strerror(-rc));
	uvfs_mntns_root(ns, &uroot);

	/* Memory first, on a fresh heap: the 1M-entry directory. */
	if (do_big) {
		printf("building 1,000,000-entry directory on both sides...\n");
		build_big(BIG_N);
		printf("  uvfs %.2f s, kernel %.2f s\n", mem.u_build_s, mem.k_build_s);
	}

	static const int depths[] = { 1, 4, 8, 16, 64 };
	char rel[4096], name[32];
	struct target *dt[5], *mt[5];
	int mount_host_ok[5];
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "D%d", depths[i]);
		build_chain(name, depths[i], 0, rel, sizeof rel);
		dt[i] = new_target(rel, 0, AT_SYMLINK_NOFOLLOW, 0);
		snprintf(name, sizeof name, "M%d", depths[i]);
		mount_host_ok[i] = build_chain(name, depths[i], 1, rel, sizeof rel);
		mt[i] = new_target(rel, 0, AT_SYMLINK_NOFOLLOW, 0);
	}
	/* Depth 8 with 16-byte names (names above are 1-2 bytes). */
	struct target *lt;
	{
		size_t n = (size_t)snprintf(rel, sizeof rel, "longnames-dir-00");
		both_mkdir(rel);
		for (int i = 1; i < 8; i++) {
			n += (size_t)snprintf(rel + n, sizeof rel - n, "/longnames-dir-%02d", i);
			both_mkdir(rel);
		}
		snprintf(rel + n, sizeof rel - n, "/longnames-file0");
		both_file(rel);
		lt = new_target(rel, 0, AT_SYMLINK_NOFOLLOW, 0);
	}
	/* Symlink D8/1/2/3/L -> 4. */
	both_symlink("4", "D8/1/2/3/L");
	/* Small directory B10 with 10 entries. */
	both_mkdir("B10");
	for (int i = 0; i < 10; i++) {
		snprintf(rel, sizeof rel, "B10/f%08d", i);
		both_file(rel);
	}

	printf("\nuvfs: uvfs_stat_at on tmpfs, in process; kernel: fstatat(dirfd) on %s\n",
	       host_mounted ? "a private tmpfs (mount(2)) under /dev/shm" : "a /dev/shm directory");
	load_start = loadavg();
	syscall_ns = null_syscall_ns();
	read_git_rev();
	printf("library: %s; null syscall (getppid) %.0f ns\n", git_rev, syscall_ns);
	printf("median of %d reps of ~%.0f ms (thread CPU time) per side; each rep runs every case, uvfs and kernel\n"
	       "back to back; %d CPUs, load average %.2f\n\n",
	       reps, run_ms, ncpu, load_start);
	printf("%-14s %3s %2s %10s %9s %10s %9s %9s %10s\n", "case", "dep", "T", "uvfs ns/op", "uvfs Mops", "kern ns/op",
	       "kern Mops", "kern/uvfs", "best k/u");

	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "depth%d", depths[i]);
		bench_case(name, "depth", depths[i], dt[i], 1, 0);
	}
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "mount%d", depths[i]);
		bench_case(name, "mount", depths[i], mt[i], mount_host_ok[i], 0);
	}
	bench_case("longnames8", "misc", 8, lt, 1, 0);
	struct target *t = new_target("D8/1/2/3/4/5/6/7/nofile", 0, AT_SYMLINK_NOFOLLOW, -ENOENT);
	bench_case("negative8", "misc", 8, t, 1, 0);
	t = new_target("D8/1/2/3/4/../4/5/6/7/file", 0, AT_SYMLINK_NOFOLLOW, 0);
	bench_case("dotdot8", "misc", 8, t, 1, 0);
	t = new_target("D8/1/2/3/L/5/6/7/file", 0, AT_SYMLINK_NOFOLLOW, 0);
	bench_case("symlink8", "misc", 8, t, 1, 0);

	if (do_big) {
		t = new_target("B10/f00000005", 0, AT_SYMLINK_NOFOLLOW, 0);
		bench_case("dir10", "dir", 1, t, 1, 0);
		t = new_target("B1M/f00500000", 0, AT_SYMLINK_NOFOLLOW, 0);
		bench_case("dir1M", "dir", 1, t, 1, 0);
		/* Random names: dir10r cycles through the 10 names, dir1Mr
		 * through 4096 random ones (cache misses on both sides). */
		t = new_target("B10/f00000000", 0, AT_SYMLINK_NOFOLLOW, 0);
		for (int i = 1; i < 10; i++) {
			snprintf(rel, sizeof rel, "B10/f%08d", i);
			t->kpath[i] = strdup(rel);
			if (asprintf(&t->upath[i], "/%s", rel) < 0 || !t->kpath[i])
				die("oom");
		}
		t->npaths = 10;
		bench_case("dir10r", "dir", 1, t, 1, 0);
		t = new_target("B1M/f00000000", 0, AT_SYMLINK_NOFOLLOW, 0);
		srandom(42);
		for (int i = 1; i < MAX_PATHS; i++) {
			snprintf(rel, sizeof rel, "B1M/f%08ld", random() % BIG_N);
			t->kpath[i] = strdup(rel);
			if (asprintf(&t->upath[i], "/%s", rel) < 0 || !t->kpath[i])
				die("oom");
		}
		t->npaths = MAX_PATHS;
		bench_case("dir1Mr", "dir", 1, t, 1, 0);
	}

	bench_threads("threads1", "threads2", "threads", 8, dt[2], 0);
	for (int i = 0; i < 5; i += 2) {
		snprintf(name, sizeof name, "refwalk%d", depths[i]);
		bench_case(name, "refwalk", depths[i], dt[i], 1, 1);
	}
	bench_threads("refwalk8-1T", "refwalk8-2T", "refwalk-mt", 8, dt[2], 1);
	run_cases();

	if (mem.files)
		printf("\nmemory: %ld files in one uvfs tmpfs dir: %.1f B/file RSS delta, %.1f B/file malloc in use "
		       "(uordblks+hblkhd; RSS - malloc = allocator overhead/fragmentation)\n"
		       "        kernel tmpfs, same files: ~%.1f B/file (Slab+Shmem delta, machine-wide, noisy)\n",
		       mem.files, mem.rss_per_file, mem.heap_per_file, mem.kern_per_file);
	load_end = loadavg();
	printf("load average at the end: %.2f\n", load_end);
	print_targets();
	if (only)
		printf("uvfs_stat_at calls: %ld\n", atomic_load(&uvfs_calls));
	if (!only) {
		write_outputs();
		printf("\nwrote %s/lookup.csv, %s/lookup.json\n", OUT_DIR, OUT_DIR);
		plot();
	}

	for (int i = 0; i < n_targets; i++)
		free_target(all_targets[i]);
	uvfs_vd_put(&uroot);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	rc = uvfs_destroy(vfs, &live);
	printf("uvfs_destroy: %s; live dentries %ld inodes %ld mounts %ld mntns %ld files %ld filesystems %ld\n",
	       rc ? "LEAKS" : "ok", live.dentries, live.inodes, live.mounts, live.mntns, live.files,
	       live.filesystems);
	host_cleanup();
	return rc ? 1 : 0;
}
