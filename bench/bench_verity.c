/* bench/bench_verity.c — fs-verity Merkle tree speed on this machine.
 *
 * Same process, same run, medians of REPS interleaved runs over 64 MiB:
 *   raw SHA-256   EVP one-shot hash of each 4 KiB block (what
 *                 `openssl speed -evp sha256 -bytes 4096` measures), plus
 *                 `openssl speed` itself when the tool is present
 *   tree build    uvfs_merkle_build through the memory reader, SHA-256 /
 *                 4 KiB (also salted, SHA-512, on one thread per CPU, from a
 *                 page-cached file as the CLI does, and uvfs_merkle_build_buf)
 *   reads         sequential 128 KiB reads through a fresh verifier vs the
 *                 same reads unverified, from memory and from a page-cached
 *                 file (pread); and 4 KiB reads (page-sized, as a VFS layer
 *                 issues them)
 * Each run records wall time and process CPU time. The machine is shared
 * (other builds and tests run beside us), so ratios are given on both: CPU
 * time says how efficient the code is whatever the load, wall time what a
 * user waits. Prints a table and writes bench/results/verity.csv. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsimpl/verity/merkle/merkle.h"

#define SIZE (64u << 20)
#define REPS 9
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

/* Medians of wall and CPU separately. */
static struct t median(const struct t *v, int n)
{
	double w[REPS], c[REPS];
	for (int i = 0; i < n; i++) {
		w[i] = v[i].wall;
		c[i] = v[i].cpu;
	}
	qsort(w, n, sizeof(double), cmpd);
	qsort(c, n, sizeof(double), cmpd);
	return (struct t){ w[n / 2], c[n / 2] };
}

static uint8_t *data;
static volatile uint8_t sink;

static void die(const char *what)
{
	fprintf(stderr, "bench_verity: %s failed\n", what);
	exit(1);
}

static struct t t_raw_sha(const EVP_MD *md)
{
	uint8_t out[64];
	struct t t = now();
	for (size_t o = 0; o < SIZE; o += 4096)
		EVP_Digest(data + o, 4096, out, NULL, md, NULL);
	sink ^= out[0];
	return since(t);
}

static struct t t_build(unsigned alg, const uint8_t *salt, size_t salt_size, unsigned threads)
{
	struct uvfs_merkle_params p = { alg, 4096, salt, salt_size, threads };
	struct uvfs_merkle_mem m = { data, SIZE };
	struct uvfs_merkle_result r;
	struct t t = now();
	if (uvfs_merkle_build(&p, uvfs_merkle_mem_read, &m, SIZE, &r))
		die("build");
	t = since(t);
	sink ^= r.digest[0];
	uvfs_merkle_result_free(&r);
	return t;
}

static struct t t_build_fd(int fd)
{
	struct uvfs_merkle_params p = { 1, 4096, NULL, 0, 1 };
	struct uvfs_merkle_result r;
	struct t t = now();
	if (uvfs_merkle_build(&p, uvfs_merkle_fd_read, &fd, SIZE, &r))
		die("build from fd");
	t = since(t);
	sink ^= r.digest[0];
	uvfs_merkle_result_free(&r);
	return t;
}

static struct t t_build_buf(void)
{
	struct uvfs_merkle_params p = { 1, 4096, NULL, 0, 1 };
	struct uvfs_merkle_result r;
	struct t t = now();
	if (uvfs_merkle_build_buf(&p, data, SIZE, &r))
		die("build_buf");
	t = since(t);
	sink ^= r.digest[0];
	uvfs_merkle_result_free(&r);
	return t;
}

static struct t t_plain_read(uvfs_merkle_read_fn rd, void *ctx, uint8_t *buf, size_t chunk)
{
	struct t t = now();
	for (uint64_t o = 0; o < SIZE; o += chunk)
		if (rd(ctx, buf, chunk, o) != (ssize_t)chunk)
			die("read");
	sink ^= buf[7];
	return since(t);
}

static struct t t_verified_read(const struct uvfs_merkle_result *r, uvfs_merkle_read_fn rd,
				void *ctx, uint8_t *buf, size_t chunk)
{
	struct uvfs_merkle_mem tm = { r->tree, r->tree_size };
	struct uvfs_verity_open_args a = {
		.hash_alg = r->hash_alg, .digest = r->digest, .digest_size = r->digest_size,
		.descriptor = r->descriptor, .descriptor_size = UVFS_VERITY_DESC_SIZE,
		.read_tree = uvfs_merkle_mem_read, .tree_ctx = &tm,
		.read_data = rd, .data_ctx = ctx,
	};
	struct uvfs_verity_verifier *v;
	struct t t = now();
	if (uvfs_verity_open(&a, &v))
		die("verifier open");
	for (uint64_t o = 0; o < SIZE; o += chunk)
		if (uvfs_verity_read(v, buf, chunk, o) != (ssize_t)chunk)
			die("verified read");
	uvfs_verity_close(v);
	sink ^= buf[7];
	return since(t);
}

/* `openssl speed -evp sha256 -bytes 4096`, in bytes/s, or 0 if unavailable. */
static double openssl_speed(void)
{
	FILE *f = popen("openssl speed -evp sha256 -bytes 4096 -seconds 2 2>/dev/null", "r");
	char line[512];
	double v = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		double k;
		if (sscanf(line, "%63s %lfk", name, &k) == 2 && !strcmp(name, "sha256"))
			v = k * 1000.0;
	}
	pclose(f);
	return v;
}

static FILE *csv;

/* One table row: throughput of m, and its speed relative to ref (ref time /
 * m time), by CPU and by wall time. */
static void row(const char *name, struct t m, const struct t *ref, const char *of)
{
	const double mb = SIZE / 1e6;
	if (ref)
		printf("%-42s %9.1f %9.1f %8.1f%% %8.1f%%  %s\n", name, mb / m.wall, mb / m.cpu,
		       100.0 * ref->cpu / m.cpu, 100.0 * ref->wall / m.wall, of);
	else
		printf("%-42s %9.1f %9.1f %9s %9s\n", name, mb / m.wall, mb / m.cpu, "", "");
	if (csv)
		fprintf(csv, "%s,%.1f,%.1f,%.4f,%.4f,%s\n", name, mb / m.wall, mb / m.cpu,
			ref ? ref->cpu / m.cpu : 1.0, ref ? ref->wall / m.wall : 1.0, ref ? of : "");
}

enum { RAW, RAW512, B256, B256S, B256T, B256B, B256F, B512, PM, VM, PF, VF, P4, V4, NM };

int main(void)
{
	uint8_t salt[32];
	uint8_t *buf = aligned_alloc(4096, CHUNK);
	data = aligned_alloc(4096, SIZE);
	if (!data || !buf)
		return 1;
	for (size_t i = 0; i < SIZE; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	for (int i = 0; i < 32; i++)
		salt[i] = (uint8_t)i;

	/* Page-cached file for the pread cases. */
	char path[] = "/tmp/uvfs-bench-verity-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, data, SIZE) != (ssize_t)SIZE)
		die("temp file");
	unlink(path);

	struct uvfs_merkle_params p = { 1, 4096, NULL, 0, 0 };
	struct uvfs_merkle_mem dm = { data, SIZE };
	struct uvfs_merkle_result r;
	if (uvfs_merkle_build(&p, uvfs_merkle_mem_read, &dm, SIZE, &r))
		die("build");

	EVP_MD *sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_MD *sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
	if (!sha256 || !sha512)
		die("EVP_MD_fetch");
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned nthr = ncpu < 2 ? 2 : ncpu > 16 ? 16 : (unsigned)ncpu;
	struct t m[NM][REPS], md[NM];

	t_raw_sha(sha256); /* warm up */
	t_plain_read(uvfs_merkle_fd_read, &fd, buf, CHUNK);
	/* Interleaved, so load changes hit every measurement alike. */
	for (int i = 0; i < REPS; i++) {
		m[RAW][i] = t_raw_sha(sha256);
		m[B256][i] = t_build(1, NULL, 0, 1);
		m[B256S][i] = t_build(1, salt, 32, 1);
		m[B256T][i] = t_build(1, NULL, 0, nthr);
		m[B256B][i] = t_build_buf();
		m[B256F][i] = t_build_fd(fd);
		m[RAW512][i] = t_raw_sha(sha512);
		m[B512][i] = t_build(2, NULL, 0, 1);
		m[PM][i] = t_plain_read(uvfs_merkle_mem_read, &dm, buf, CHUNK);
		m[VM][i] = t_verified_read(&r, uvfs_merkle_mem_read, &dm, buf, CHUNK);
		m[PF][i] = t_plain_read(uvfs_merkle_fd_read, &fd, buf, CHUNK);
		m[VF][i] = t_verified_read(&r, uvfs_merkle_fd_read, &fd, buf, CHUNK);
		m[P4][i] = t_plain_read(uvfs_merkle_fd_read, &fd, buf, 4096);
		m[V4][i] = t_verified_read(&r, uvfs_merkle_fd_read, &fd, buf, 4096);
	}
	for (int k = 0; k < NM; k++)
		md[k] = median(m[k], REPS);
	double ossl = openssl_speed();

	csv = fopen("bench/results/verity.csv", "w");
	if (!csv)
		csv = fopen("verity.csv", "w");
	if (csv)
		fprintf(csv, "metric,MB_per_s_wall,MB_per_s_cpu,ratio_cpu,ratio_wall,ratio_of\n");
	printf("fs-verity Merkle trees, %u MiB, median of %d interleaved runs, %ld CPUs\n",
	       SIZE >> 20, REPS, ncpu);
	printf("%-42s %9s %9s %9s %9s\n", "", "MB/s", "MB/s", "ratio", "ratio");
	printf("%-42s %9s %9s %9s %9s\n", "measurement", "wall", "cpu", "cpu", "wall");
	row("raw sha256 (EVP one-shot per 4 KiB block)", md[RAW], NULL, "");
	if (ossl > 0) {
		/* openssl speed times itself with CPU time by default. */
		printf("%-42s %9s %9.1f  (in-process raw is %.1f%% of it)\n",
		       "openssl speed -evp sha256 -bytes 4096", "", ossl / 1e6,
		       100.0 * (SIZE / md[RAW].cpu) / ossl);
		if (csv)
			fprintf(csv, "openssl speed -evp sha256 -bytes 4096,,%.1f,,,\n", ossl / 1e6);
	}
	row("tree build sha256 4K", md[B256], &md[RAW], "of raw sha256");
	row("tree build sha256 4K salt32", md[B256S], &md[RAW], "of raw sha256");
	row("tree build sha256 4K, in-memory buffer", md[B256B], &md[RAW], "of raw sha256");
	row("tree build sha256 4K, from file (pread)", md[B256F], &md[RAW], "of raw sha256");
	char tname[64];
	snprintf(tname, sizeof(tname), "tree build sha256 4K, %u threads", nthr);
	row(tname, md[B256T], &md[RAW], "of raw sha256 (one thread)");
	row("raw sha512 (EVP one-shot per 4 KiB block)", md[RAW512], NULL, "");
	row("tree build sha512 4K", md[B512], &md[RAW512], "of raw sha512");
	row("unverified 128 KiB reads (memory)", md[PM], NULL, "");
	row("verified 128 KiB reads (memory)", md[VM], &md[PM], "of unverified");
	row("unverified 128 KiB reads (pread)", md[PF], NULL, "");
	row("verified 128 KiB reads (pread)", md[VF], &md[PF], "of unverified");
	row("unverified 4 KiB reads (pread)", md[P4], NULL, "");
	row("verified 4 KiB reads (pread)", md[V4], &md[P4], "of unverified");
	/* Verification cannot beat reading plus hashing every byte once; the
	 * rest is the verifier's own cost. */
	struct t fl_m = { md[PM].wall + md[RAW].wall, md[PM].cpu + md[RAW].cpu };
	struct t fl_f = { md[PF].wall + md[RAW].wall, md[PF].cpu + md[RAW].cpu };
	struct t fl_4 = { md[P4].wall + md[RAW].wall, md[P4].cpu + md[RAW].cpu };
	row("verified 128 KiB (memory) vs read+sha256", md[VM], &fl_m, "of read+hash floor");
	row("verified 128 KiB (pread) vs read+sha256", md[VF], &fl_f, "of read+hash floor");
	row("verified 4 KiB (pread) vs read+sha256", md[V4], &fl_4, "of read+hash floor");

	printf("\nbuild: %.1f%% of raw SHA-256 on one thread (cpu; wall %.1f%%), "
	       "%.1f%% wall with %u threads (target >= 85%%)\n",
	       100.0 * md[RAW].cpu / md[B256].cpu, 100.0 * md[RAW].wall / md[B256].wall,
	       100.0 * md[RAW].wall / md[B256T].wall, nthr);
	printf("verified read overhead vs unverified (cpu): 128 KiB memory %+.1f%%, 128 KiB pread "
	       "%+.1f%%, 4 KiB pread %+.1f%% (target < 15%%)\n",
	       100.0 * (md[VM].cpu / md[PM].cpu - 1), 100.0 * (md[VF].cpu / md[PF].cpu - 1),
	       100.0 * (md[V4].cpu / md[P4].cpu - 1));
	printf("verifier's own overhead beyond read + one SHA-256 per block (cpu): %+.1f%%, %+.1f%%, "
	       "%+.1f%%\n",
	       100.0 * (md[VM].cpu / fl_m.cpu - 1), 100.0 * (md[VF].cpu / fl_f.cpu - 1),
	       100.0 * (md[V4].cpu / fl_4.cpu - 1));
	if (csv)
		fclose(csv);
	EVP_MD_free(sha256);
	EVP_MD_free(sha512);
	uvfs_merkle_result_free(&r);
	close(fd);
	free(buf);
	free(data);
	return (int)(sink & 0);
}
