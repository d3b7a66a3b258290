/* bench/bench_verity.c — fs-verity Merkle tree speed on this machine.
 *
 * Same process, same run, medians of REPS runs over a 64 MiB buffer:
 *   raw SHA-256   EVP one-shot hash of each 4 KiB block (what
 *                 `openssl speed -evp sha256 -bytes 4096` measures), plus
 *                 `openssl speed` itself when the tool is present
 *   tree build    uvfs_merkle_build, SHA-256 / 4 KiB (also salted, SHA-512,
 *                 and on one thread per CPU)
 *   reads         sequential 128 KiB reads through a fresh verifier vs the
 *                 same reads unverified, from memory and from a page-cached
 *                 file (pread); and 4 KiB reads (page-sized, as a VFS
 *                 layer issues them)
 * Prints a table and writes bench/results/verity.csv. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsimpl/verity/merkle.h"

#define SIZE (64u << 20)
#define REPS 7
#define CHUNK (128u << 10)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmpd);
	return v[n / 2];
}

static uint8_t *data;
static volatile uint8_t sink;

static double t_raw_sha(const EVP_MD *md)
{
	uint8_t out[64];
	double t = now();
	for (size_t o = 0; o < SIZE; o += 4096)
		EVP_Digest(data + o, 4096, out, NULL, md, NULL);
	sink ^= out[0];
	return now() - t;
}

static double t_build(unsigned alg, const uint8_t *salt, size_t salt_size, unsigned threads)
{
	struct uvfs_merkle_params p = { alg, 4096, salt, salt_size, threads };
	struct uvfs_merkle_mem m = { data, SIZE };
	struct uvfs_merkle_result r;
	double t = now();
	if (uvfs_merkle_build(&p, uvfs_merkle_mem_read, &m, SIZE, &r)) {
		fprintf(stderr, "build failed\n");
		exit(1);
	}
	t = now() - t;
	sink ^= r.digest[0];
	uvfs_merkle_result_free(&r);
	return t;
}

static double t_plain_read(uvfs_merkle_read_fn rd, void *ctx, uint8_t *buf, size_t chunk)
{
	double t = now();
	for (uint64_t o = 0; o < SIZE; o += chunk)
		if (rd(ctx, buf, chunk, o) != (ssize_t)chunk) {
			fprintf(stderr, "read failed\n");
			exit(1);
		}
	sink ^= buf[7];
	return now() - t;
}

static double t_verified_read(const struct uvfs_merkle_result *r, uvfs_merkle_read_fn rd,
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
	double t = now();
	if (uvfs_verity_open(&a, &v)) {
		fprintf(stderr, "open failed\n");
		exit(1);
	}
	for (uint64_t o = 0; o < SIZE; o += chunk)
		if (uvfs_verity_read(v, buf, chunk, o) != (ssize_t)chunk) {
			fprintf(stderr, "verified read failed\n");
			exit(1);
		}
	uvfs_verity_close(v);
	sink ^= buf[7];
	return now() - t;
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

struct row {
	const char *name;
	double secs;
};

int main(void)
{
	const double mb = SIZE / 1e6;
	uint8_t salt[32];
	uint8_t *buf = aligned_alloc(4096, CHUNK);
	data = aligned_alloc(4096, SIZE);
	if (!data || !buf)
		return 1;
	for (size_t i = 0; i < SIZE; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	for (int i = 0; i < 32; i++)
		salt[i] = (uint8_t)i;

	/* Page-cached file for the pread case. */
	char path[] = "/tmp/uvfs-bench-verity-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, data, SIZE) != (ssize_t)SIZE) {
		perror("temp file");
		return 1;
	}
	unlink(path);

	struct uvfs_merkle_params p = { 1, 4096, NULL, 0, 0 };
	struct uvfs_merkle_mem dm = { data, SIZE };
	struct uvfs_merkle_result r;
	if (uvfs_merkle_build(&p, uvfs_merkle_mem_read, &dm, SIZE, &r))
		return 1;

	EVP_MD *sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_MD *sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
	double raw[REPS], raw512[REPS], b256[REPS], b256s[REPS], b512[REPS], b256t[REPS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned nthr = ncpu < 2 ? 2 : ncpu > 16 ? 16 : (unsigned)ncpu;
	double pm[REPS], vm[REPS], pf[REPS], vf[REPS], p4[REPS], v4[REPS];
	t_raw_sha(sha256); /* warm up */
	t_plain_read(uvfs_merkle_fd_read, &fd, buf, CHUNK);
	/* Interleave the measurements so drift hits all of them alike. */
	for (int i = 0; i < REPS; i++) {
		raw[i] = t_raw_sha(sha256);
		b256[i] = t_build(1, NULL, 0, 1);
		b256s[i] = t_build(1, salt, 32, 1);
		b256t[i] = t_build(1, NULL, 0, nthr);
		raw512[i] = t_raw_sha(sha512);
		b512[i] = t_build(2, NULL, 0, 1);
		pm[i] = t_plain_read(uvfs_merkle_mem_read, &dm, buf, CHUNK);
		vm[i] = t_verified_read(&r, uvfs_merkle_mem_read, &dm, buf, CHUNK);
		pf[i] = t_plain_read(uvfs_merkle_fd_read, &fd, buf, CHUNK);
		vf[i] = t_verified_read(&r, uvfs_merkle_fd_read, &fd, buf, CHUNK);
		p4[i] = t_plain_read(uvfs_merkle_fd_read, &fd, buf, 4096);
		v4[i] = t_verified_read(&r, uvfs_merkle_fd_read, &fd, buf, 4096);
	}
	double mraw = median(raw, REPS), mraw512 = median(raw512, REPS);
	double mb256 = median(b256, REPS), mb256s = median(b256s, REPS), mb512 = median(b512, REPS);
	double mb256t = median(b256t, REPS);
	char tname[64];
	snprintf(tname, sizeof(tname), "tree build sha256 4K, %u threads", nthr);
	double mpm = median(pm, REPS), mvm = median(vm, REPS);
	double mpf = median(pf, REPS), mvf = median(vf, REPS);
	double mp4 = median(p4, REPS), mv4 = median(v4, REPS);
	double ossl = openssl_speed();

	FILE *csv = fopen("bench/results/verity.csv", "w");
	if (!csv)
		csv = fopen("verity.csv", "w");
	if (csv)
		fprintf(csv, "metric,MB_per_s,ratio,ratio_of\n");
	printf("fs-verity Merkle tree, %u MiB, median of %d runs\n", SIZE >> 20, REPS);
	printf("%-44s %10s %9s\n", "measurement", "MB/s", "ratio");
#define ROW(name, secs, ratio, of)                                                      \
	do {                                                                            \
		printf("%-44s %10.1f %8.1f%%  %s\n", name, mb / (secs), 100.0 * (ratio), of); \
		if (csv)                                                                \
			fprintf(csv, "%s,%.1f,%.4f,%s\n", name, mb / (secs), ratio, of); \
	} while (0)
	ROW("raw sha256 (EVP one-shot per 4 KiB block)", mraw, 1.0, "");
	if (ossl > 0) {
		printf("%-44s %10.1f %8.1f%%  %s\n", "openssl speed -evp sha256 -bytes 4096", ossl / 1e6,
		       100.0 * (SIZE / mraw) / ossl, "raw/openssl");
		if (csv)
			fprintf(csv, "openssl speed sha256 4096,%.1f,%.4f,raw/openssl\n", ossl / 1e6,
				(SIZE / mraw) / ossl);
	}
	ROW("tree build sha256 4K", mb256, mraw / mb256, "of raw sha256");
	ROW("tree build sha256 4K salt32", mb256s, mraw / mb256s, "of raw sha256");
	ROW(tname, mb256t, mraw / mb256t, "of raw sha256 (one core)");
	ROW("raw sha512 (EVP one-shot per 4 KiB block)", mraw512, 1.0, "");
	ROW("tree build sha512 4K", mb512, mraw512 / mb512, "of raw sha512");
	ROW("unverified read (memory)", mpm, 1.0, "");
	ROW("verified read (memory)", mvm, mpm / mvm, "of unverified");
	ROW("unverified read (pread, page cache)", mpf, 1.0, "");
	ROW("verified read (pread, page cache)", mvf, mpf / mvf, "of unverified");
	ROW("unverified 4 KiB reads (pread)", mp4, 1.0, "");
	ROW("verified 4 KiB reads (pread)", mv4, mp4 / mv4, "of unverified");
	/* The verifier cannot beat read + one hash of every byte; this is the
	 * part of the overhead that is the verifier's own. */
	double floor_m = mpm + mraw, floor_f = mpf + mraw, floor_4 = mp4 + mraw;
	ROW("verified read (memory) vs read+sha256", mvm, floor_m / mvm, "of read+hash floor");
	ROW("verified read (pread) vs read+sha256", mvf, floor_f / mvf, "of read+hash floor");
	ROW("verified 4 KiB reads vs read+sha256", mv4, floor_4 / mv4, "of read+hash floor");
	printf("\nbuild at %.1f%% of raw SHA-256 single-threaded, %.1f%% with %u threads (target >= 85%%)\n",
	       100.0 * mraw / mb256, 100.0 * mraw / mb256t, nthr);
	printf("verified read overhead vs unverified: memory %+.1f%%, pread %+.1f%% (target < 15%%)\n",
	       100.0 * (mvm / mpm - 1), 100.0 * (mvf / mpf - 1));
	printf("verifier's own overhead beyond read+hash: memory %+.1f%%, pread %+.1f%%, 4 KiB reads %+.1f%%\n",
	       100.0 * (mvm / floor_m - 1), 100.0 * (mvf / floor_f - 1), 100.0 * (mv4 / floor_4 - 1));
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
