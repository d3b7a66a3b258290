/* bench/bench_p9.c — the 9P client against diod vs the host doing the same.
 *
 * Same run, same file, warm page cache on both sides:
 *   read  256 MiB: uvfs_p9_read (1 MiB calls)     vs read() of the host file
 *   write 256 MiB: uvfs_p9_write (1 MiB calls)    vs write() of a host file
 *                  (both overwrite an existing file in place: this VM's
 *                  first-touch page allocation is too noisy to compare)
 *   walk+getattr : walk "a/b/c" + Tgetattr + clunk vs stat("a/b/c"), with
 *                  the clunk waited for or sent async
 * Medians of several rounds; ratios are host time / client time for
 * throughput (1.0 = as fast as the host) and client / host for latency.
 * Results: stdout table and bench/results/p9.csv. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsimpl/gofer/p9/p9.h"
#include "tests/gofer/diod_harness.h"

#define FILE_MB 256
#define ROUNDS 7
#define LAT_OPS 2000
#define CHUNK (1u << 20)

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

static void die(const char *what, long err)
{
	fprintf(stderr, "bench_p9: %s: %s\n", what, strerror((int)-err));
	exit(1);
}

static struct diod srv;
static struct uvfs_p9_client *cl;
static uint32_t root;
static uint8_t *buf;
static const size_t total = (size_t)FILE_MB << 20;

static char *hp(const char *rel)
{
	static char b[2][512];
	static int i;
	char *s = b[i++ % 2];
	snprintf(s, 512, "%s/%s", srv.dir, rel);
	return s;
}

static double host_read(void)
{
	int fd = open(hp("data"), O_RDONLY);
	double t = now();
	size_t got = 0;
	ssize_t n;
	while ((n = read(fd, buf, CHUNK)) > 0)
		got += (size_t)n;
	t = now() - t;
	close(fd);
	if (got != total)
		die("host read short", -EIO);
	return t;
}

static double client_read(bool one_at_a_time)
{
	uint32_t f;
	long err = uvfs_p9_walk_path(cl, root, "data", &f, NULL);
	if (err || (err = uvfs_p9_lopen(cl, f, O_RDONLY, NULL, NULL)))
		die("open data", err);
	double t = now();
	size_t got = 0;
	long n;
	while ((n = one_at_a_time ? uvfs_p9_read1(cl, f, got, buf, CHUNK) : uvfs_p9_read(cl, f, got, buf, CHUNK)) > 0)
		got += (size_t)n;
	t = now() - t;
	if (n < 0 || got != total)
		die("client read", n < 0 ? n : -EIO);
	uvfs_p9_clunk(cl, f);
	return t;
}

static double host_write(void)
{
	int fd = open(hp("hw"), O_WRONLY);
	double t = now();
	for (size_t off = 0; off < total; off += CHUNK)
		if (write(fd, buf, CHUNK) != (ssize_t)CHUNK)
			die("host write", -EIO);
	t = now() - t;
	close(fd);
	return t;
}

static double client_write(void)
{
	uint32_t f;
	long err = uvfs_p9_walk_path(cl, root, "cw", &f, NULL);
	if (err || (err = uvfs_p9_lopen(cl, f, O_WRONLY, NULL, NULL)))
		die("open cw", err);
	double t = now();
	for (size_t off = 0; off < total; off += CHUNK)
		if ((err = uvfs_p9_write(cl, f, off, buf, CHUNK)) != (long)CHUNK)
			die("client write", err < 0 ? err : -EIO);
	t = now() - t;
	uvfs_p9_clunk(cl, f);
	return t;
}

static double host_stat(void)
{
	struct stat st;
	const char *p = hp("a/b/c");
	double t = now();
	for (int i = 0; i < LAT_OPS; i++)
		if (stat(p, &st))
			die("stat", -errno);
	return (now() - t) / LAT_OPS;
}

static double client_walk_getattr(bool async_clunk)
{
	double t = now();
	for (int i = 0; i < LAT_OPS; i++) {
		uint32_t f;
		struct uvfs_p9_attr a;
		long err = uvfs_p9_walk_path(cl, root, "a/b/c", &f, NULL);
		if (err || (err = uvfs_p9_getattr(cl, f, UVFS_P9_GETATTR_BASIC, &a)))
			die("walk+getattr", err);
		if (async_clunk)
			uvfs_p9_clunk_async(cl, f);
		else
			uvfs_p9_clunk(cl, f);
	}
	return (now() - t) / LAT_OPS;
}

int main(void)
{
	/* diod logs client mistakes to stderr; a bench has none to show. */
	int fd = diod_start_fd(&srv, 0, -1);
	long err = fd < 0 ? fd : uvfs_p9_connect_fds(fd, fd, NULL, &cl);
	if (err || (err = uvfs_p9_attach(cl, "root", 0, srv.dir, &root, NULL)))
		die("setup", err);
	buf = malloc(CHUNK);
	uint64_t s = 88172645463325252ull;
	for (size_t i = 0; i < CHUNK; i += 8) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		memcpy(buf + i, &s, 8);
	}
	const char *files[] = { "data", "hw", "cw" };
	for (int i = 0; i < 3; i++) {
		int hfd = open(hp(files[i]), O_WRONLY | O_CREAT, 0644);
		for (size_t off = 0; off < total; off += CHUNK)
			if (write(hfd, buf, CHUNK) != (ssize_t)CHUNK)
				die("make data", -EIO);
		close(hfd);
	}
	mkdir(hp("a"), 0755);
	mkdir(hp("a/b"), 0755);
	close(creat(hp("a/b/c"), 0644));

	double hr[ROUNDS], cr[ROUNDS], c1[ROUNDS], hw[ROUNDS], cw[ROUNDS], hl[ROUNDS], cl_[ROUNDS], ca[ROUNDS];
	host_read();
	client_read(false); /* warm both paths */
	for (int r = 0; r < ROUNDS; r++) {
		hr[r] = host_read();
		cr[r] = client_read(false);
		c1[r] = client_read(true);
		hw[r] = host_write();
		cw[r] = client_write();
		hl[r] = host_stat();
		cl_[r] = client_walk_getattr(false);
		ca[r] = client_walk_getattr(true);
	}
	double mb = (double)FILE_MB;
	double Hr = mb / median(hr, ROUNDS), Cr = mb / median(cr, ROUNDS), C1 = mb / median(c1, ROUNDS);
	double Hw = mb / median(hw, ROUNDS), Cw = mb / median(cw, ROUNDS);
	double Hl = median(hl, ROUNDS) * 1e6, Cl = median(cl_, ROUNDS) * 1e6, Ca = median(ca, ROUNDS) * 1e6;

	printf("9P client vs host (diod over a socketpair, msize %u, %d MiB file, median of %d)\n",
	       uvfs_p9_msize(cl), FILE_MB, ROUNDS);
	printf("%-34s %12s %12s %8s\n", "metric", "uvfs 9p", "host", "ratio");
	printf("%-34s %9.0f MB/s %7.0f MB/s %8.3f\n", "read 256 MiB (pipelined)", Cr, Hr, Cr / Hr);
	printf("%-34s %9.0f MB/s %7.0f MB/s %8.3f\n", "read 256 MiB (one request at once)", C1, Hr, C1 / Hr);
	printf("%-34s %9.0f MB/s %7.0f MB/s %8.3f\n", "write 256 MiB (pipelined)", Cw, Hw, Cw / Hw);
	printf("%-34s %10.2f us %10.2f us %8.1f\n", "walk(3)+getattr+clunk vs stat", Cl, Hl, Cl / Hl);
	printf("%-34s %10.2f us %10.2f us %8.1f\n", "walk(3)+getattr+async clunk", Ca, Hl, Ca / Hl);

	FILE *csv = fopen("bench/results/p9.csv", "w");
	if (csv) {
		fprintf(csv, "metric,uvfs,host,unit,ratio\n");
		fprintf(csv, "read_256MiB_pipelined,%.1f,%.1f,MB/s,%.4f\n", Cr, Hr, Cr / Hr);
		fprintf(csv, "read_256MiB_serial,%.1f,%.1f,MB/s,%.4f\n", C1, Hr, C1 / Hr);
		fprintf(csv, "write_256MiB_pipelined,%.1f,%.1f,MB/s,%.4f\n", Cw, Hw, Cw / Hw);
		fprintf(csv, "walk_getattr_latency,%.3f,%.3f,us,%.2f\n", Cl, Hl, Cl / Hl);
		fprintf(csv, "walk_getattr_async_clunk_latency,%.3f,%.3f,us,%.2f\n", Ca, Hl, Ca / Hl);
		fclose(csv);
	}
	free(buf);
	uvfs_p9_clunk(cl, root);
	uvfs_p9_close(cl);
	diod_stop(&srv);
	return 0;
}
