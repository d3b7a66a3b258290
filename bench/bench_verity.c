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
 * user waits. Prints a table and writes bench/results/verity.csv.
 *
 * Then the verity filesystem itself (issue 14's bench, bench_fs below),
 * over a tmpfs lower in one uvfs instance, medians of FS_REPS interleaved
 * runs, written to bench/results/verity_fs.csv:
 *   first read    a 256 MiB sealed file read sequentially (128 KiB reads)
 *                 through a fresh verity mount, vs raw SHA-256 of as many
 *                 bytes (target >= 85%) and vs the same read of the tmpfs;
 *                 with the data cache on: on a fresh mount (the cache takes
 *                 256 MiB of fresh memory from the kernel) and on a mount
 *                 whose cache is already full of another file (blocks are
 *                 recycled, as in a long run); and with it off
 *                 (data_cache=0: hashing and the tree only)
 *   re-read       the same open file again, every block cached, vs a
 *                 re-read of the tmpfs file (target >= 80%)
 *   lookup        stat of a depth-8 path on the sealed tree: cold (fresh
 *                 mount, every component verified) and warm (dcache), vs
 *                 the same stat on the tmpfs
 * BENCH_VERITY_FS_ONLY=1 skips the Merkle table. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsimpl/verity/merkle/merkle.h"
#include "fsimpl/verity/verity.h"
#include "uvfs.h"

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

/* ------------------------------------------------ the verity filesystem */

#define FS_SIZE (256u << 20)
#define FS_REPS 5
#define FS_LOOKUPS 200000
#define FS_COLD 41
#define DEEP "d1/d2/d3/d4/d5/d6/d7/d8/f"

static struct uvfs *fv;
static struct uvfs_cred froot;
static struct uvfs_mntns *fns;
static struct uvfs_vd ftop, flower;
static uint8_t fhash[UVFS_VERITY_ROOT_HASH_SIZE];

static void chk(int rc, const char *what)
{
	if (rc) {
		fprintf(stderr, "bench_verity: %s: %s\n", what, strerror(-rc));
		exit(1);
	}
}

static struct uvfs_pathop fpop(const struct uvfs_vd *at, const char *path)
{
	return (struct uvfs_pathop){ .root = *at, .start = *at, .path = path };
}

/* /lower/big (FS_SIZE bytes) and /lower/d1/../d8/f, sealed. */
static void fs_setup(void)
{
	uvfs_cred_init_root(&froot);
	chk(uvfs_create(&fv), "uvfs_create");
	chk(uvfs_register_fs_type(fv, &uvfs_tmpfs_type, UVFS_FS_USER_LIST), "register tmpfs");
	chk(uvfs_register_fs_type(fv, &uvfs_verity_type, UVFS_FS_USER_LIST), "register verity");
	chk(uvfs_mntns_new(fv, &froot, "none", "tmpfs", &(struct uvfs_mount_opts){ .data = "size=2g" }, &fns),
	    "tmpfs");
	uvfs_mntns_root(fns, &ftop);
	struct uvfs_pathop pop = fpop(&ftop, "lower");
	chk(uvfs_mkdir_at(fv, &froot, &pop, 0755), "mkdir");
	chk(uvfs_get_dentry_at(fv, &froot, &pop, 0, &flower), "lower");
	struct uvfs_file *f;
	for (int k = 0; k < 2; k++) {
		pop = fpop(&flower, k ? "big2" : "big");
		chk(uvfs_open_at(fv, &froot, &pop, O_WRONLY | O_CREAT, 0644, 0, &f), "create big");
		for (uint64_t off = 0; off < FS_SIZE; off += SIZE)
			if (uvfs_pwrite(f, data, SIZE, (off_t)off) != (ssize_t)SIZE)
				die("write big");
		uvfs_file_put(f);
	}
	char p[64] = "";
	for (int i = 1; i <= 8; i++) {
		snprintf(p + strlen(p), sizeof p - strlen(p), "%sd%d", i > 1 ? "/" : "", i);
		pop = fpop(&flower, p);
		chk(uvfs_mkdir_at(fv, &froot, &pop, 0755), "mkdir deep");
	}
	pop = fpop(&flower, DEEP);
	chk(uvfs_open_at(fv, &froot, &pop, O_WRONLY | O_CREAT, 0644, 0, &f), "create deep");
	uvfs_file_put(f);
	chk(uvfs_verity_seal(fv, &froot, &flower, fhash), "seal");
}

static void fs_teardown(void)
{
	uvfs_vd_put(&flower);
	uvfs_vd_put(&ftop);
	uvfs_mntns_put(fns);
	struct uvfs_live live;
	uvfs_destroy(fv, &live);
}

/* By default a cache that holds the whole file, so the re-read is all hits. */
static struct uvfs_mount *vmount(const char *opts)
{
	struct uvfs_verity_mount vm = { .lower = flower, .root_hash = fhash };
	struct uvfs_mount *m;
	struct uvfs_mount_opts mo = { .data = opts ? opts : "data_cache=512m", .internal = &vm,
				      .internal_mount = true };
	chk(uvfs_mount_disconnected(fv, &froot, "none", "verity", &mo, &m), "mount verity");
	return m;
}

static void read_all(struct uvfs_file *f, uint8_t *buf)
{
	for (uint64_t off = 0; off < FS_SIZE; off += CHUNK)
		if (uvfs_pread(f, buf, CHUNK, (off_t)off) != (ssize_t)CHUNK)
			die("read");
	sink ^= buf[7];
}

/* First read (open included) and re-read (the third read: the second
 * admits blocks to the cache) through a fresh verity mount;
 * with warm set, after reading big2 through it first, so the first read of
 * big recycles big2's cache blocks (a mount whose cache is full, as it is
 * in a long run) instead of taking fresh memory. */
static void t_fs_reads(uint8_t *buf, const char *opts, bool warm, struct t *first, struct t *again)
{
	struct uvfs_mount *m = vmount(opts);
	struct uvfs_vd r = { m, uvfs_mount_root(m) };
	struct uvfs_pathop pop = fpop(&r, "big2");
	struct uvfs_file *f;
	if (warm) { /* twice: a block enters the cache on its second read */
		chk(uvfs_open_at(fv, &froot, &pop, O_RDONLY, 0, 0, &f), "open verity big2");
		read_all(f, buf);
		read_all(f, buf);
		uvfs_file_put(f);
	}
	pop = fpop(&r, "big");
	struct t t0 = now();
	chk(uvfs_open_at(fv, &froot, &pop, O_RDONLY, 0, 0, &f), "open verity big");
	read_all(f, buf);
	*first = since(t0);
	if (again) {
		read_all(f, buf); /* the second read admits the blocks to the cache */
		t0 = now();
		read_all(f, buf);
		*again = since(t0);
	}
	uvfs_file_put(f);
	uvfs_mount_put(m);
}

static struct t t_lower_read(uint8_t *buf)
{
	struct uvfs_pathop pop = fpop(&flower, "big");
	struct uvfs_file *f;
	chk(uvfs_open_at(fv, &froot, &pop, O_RDONLY, 0, 0, &f), "open lower big");
	struct t t0 = now();
	read_all(f, buf);
	struct t d = since(t0);
	uvfs_file_put(f);
	return d;
}

/* Raw SHA-256 of FS_SIZE bytes, one EVP call per 4 KiB block. */
static struct t t_raw_fs(const EVP_MD *md)
{
	uint8_t out[64];
	struct t t0 = now();
	for (uint64_t off = 0; off < FS_SIZE; off += 4096)
		if (!EVP_Digest(data + off % SIZE, 4096, out, NULL, md, NULL))
			die("EVP_Digest");
	sink ^= out[0];
	return since(t0);
}

/* ns per stat of DEEP from the root of at, n times. */
static double t_stat(const struct uvfs_vd *at, int n)
{
	struct uvfs_pathop pop = fpop(at, DEEP);
	struct statx st;
	struct t t0 = now();
	for (int i = 0; i < n; i++)
		chk(uvfs_stat_at(fv, &froot, &pop, STATX_BASIC_STATS, &st), "stat deep");
	return since(t0).wall * 1e9 / n;
}

static double t_cold_lookup(void)
{
	struct uvfs_mount *m = vmount(NULL);
	struct uvfs_vd r = { m, uvfs_mount_root(m) };
	double ns = t_stat(&r, 1);
	uvfs_mount_put(m);
	return ns;
}

static void bench_fs(const EVP_MD *sha256)
{
	uint8_t *buf = aligned_alloc(4096, CHUNK);
	if (!buf)
		die("alloc");
	fs_setup();
	enum { RAWF, FIRST, WARM, AGAIN, NOCACHE, LOWER, NOPOOL, NF };
	struct t m[NF][FS_REPS], md[NF];
	t_lower_read(buf); /* warm up */
	for (int i = 0; i < FS_REPS; i++) {
		m[RAWF][i] = t_raw_fs(sha256);
		/* A fresh mount with the idle slab pool off: all of its
		 * cache is fresh memory (the code before the pool). */
		uvfs_verity_set_slab_pool(fv, 0);
		t_fs_reads(buf, NULL, false, &m[NOPOOL][i], NULL);
		uvfs_verity_set_slab_pool(fv, 256ull << 20);
		/* WARM's unmount leaves its 256 MiB of slabs in the pool:
		 * FIRST is a fresh mount of a process that mounted before. */
		t_fs_reads(buf, "data_cache=256m", true, &m[WARM][i], NULL);
		t_fs_reads(buf, NULL, false, &m[FIRST][i], &m[AGAIN][i]);
		t_fs_reads(buf, "data_cache=0", false, &m[NOCACHE][i], NULL);
		m[LOWER][i] = t_lower_read(buf);
	}
	for (int k = 0; k < NF; k++)
		md[k] = median(m[k], FS_REPS);
	double cold[FS_COLD], warm_v[FS_REPS], warm_l[FS_REPS];
	for (int i = 0; i < FS_COLD; i++)
		cold[i] = t_cold_lookup();
	struct uvfs_mount *vm = vmount(NULL);
	struct uvfs_vd vr = { vm, uvfs_mount_root(vm) };
	t_stat(&vr, 1000);
	t_stat(&flower, 1000);
	for (int i = 0; i < FS_REPS; i++) {
		warm_v[i] = t_stat(&vr, FS_LOOKUPS);
		warm_l[i] = t_stat(&flower, FS_LOOKUPS);
	}
	uvfs_mount_put(vm);
	qsort(cold, FS_COLD, sizeof(double), cmpd);
	qsort(warm_v, FS_REPS, sizeof(double), cmpd);
	qsort(warm_l, FS_REPS, sizeof(double), cmpd);
	double c = cold[FS_COLD / 2], wv = warm_v[FS_REPS / 2], wl = warm_l[FS_REPS / 2];
	fs_teardown();
	free(buf);

	const double mb = FS_SIZE / 1e6;
	FILE *out = fopen("bench/results/verity_fs.csv", "w");
	if (!out)
		out = fopen("verity_fs.csv", "w");
	if (out)
		fprintf(out, "metric,value_wall,value_cpu,unit,ratio_wall,ratio_cpu,ratio_of,target\n");
	printf("\nthe verity filesystem over tmpfs, %u MiB file, 128 KiB reads, median of %d runs\n", FS_SIZE >> 20,
	       FS_REPS);
	printf("%-44s %10s %10s %8s %8s\n", "measurement", "wall", "cpu", "r.wall", "r.cpu");
#define ROW(name, mt, ref, of, target)                                                                         \
	do {                                                                                                   \
		printf("%-44s %10.1f %10.1f %7.1f%% %7.1f%%  MB/s, %s%s%s%s\n", name, mb / (mt).wall, mb / (mt).cpu,  \
		       100.0 * (ref).wall / (mt).wall, 100.0 * (ref).cpu / (mt).cpu, of,                        \
		       *target ? " (target " : "", target, *target ? ")" : "");                                 \
		if (out)                                                                                       \
			fprintf(out, "%s,%.1f,%.1f,MB/s,%.4f,%.4f,%s,%s\n", name, mb / (mt).wall, mb / (mt).cpu, \
				(ref).wall / (mt).wall, (ref).cpu / (mt).cpu, of, target);                    \
	} while (0)
	ROW("raw sha256 (EVP per 4 KiB block)", md[RAWF], md[RAWF], "itself", "");
	ROW("tmpfs read (the lower)", md[LOWER], md[LOWER], "itself", "");
	ROW("verity first read vs raw sha256", md[FIRST], md[RAWF], "of raw sha256", ">= 85%");
	ROW("verity first read, no slab pool vs raw sha", md[NOPOOL], md[RAWF], "of raw sha256", "");
	ROW("verity first read, full cache vs raw sha", md[WARM], md[RAWF], "of raw sha256", ">= 85%");
	ROW("verity first read, data_cache=0 vs raw sha", md[NOCACHE], md[RAWF], "of raw sha256", "");
	ROW("verity first read vs tmpfs read", md[FIRST], md[LOWER], "of tmpfs read", "");
	ROW("verity re-read (cached) vs tmpfs re-read", md[AGAIN], md[LOWER], "of tmpfs re-read", ">= 80%");
#undef ROW
	printf("%-44s %10.0f ns  (tmpfs warm %.0f ns: %.1fx)\n", "lookup depth 8, cold (fresh verity mount)", c, wl,
	       c / wl);
	printf("%-44s %10.0f ns  (tmpfs warm %.0f ns: %.1f%% of its speed)\n", "lookup depth 8, warm", wv, wl,
	       100.0 * wl / wv);
	if (out) {
		fprintf(out, "lookup depth 8 cold,%.0f,,ns,%.4f,,tmpfs warm / this,\n", c, wl / c);
		fprintf(out, "lookup depth 8 warm,%.0f,,ns,%.4f,,tmpfs warm / this,\n", wv, wl / wv);
		fprintf(out, "tmpfs lookup depth 8 warm,%.0f,,ns,1,,itself,\n", wl);
		fclose(out);
	}
}

int main(void)
{
	uint8_t salt[32];
	uint8_t *buf = aligned_alloc(4096, CHUNK);
	data = aligned_alloc(4096, SIZE);
	if (!data || !buf)
		return 1;
	for (size_t i = 0; i < SIZE; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	if (getenv("BENCH_VERITY_FS_ONLY")) {
		EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
		if (!md)
			die("EVP_MD_fetch");
		bench_fs(md);
		EVP_MD_free(md);
		free(buf);
		free(data);
		return (int)(sink & 0);
	}
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
	bench_fs(sha256);
	EVP_MD_free(sha256);
	EVP_MD_free(sha512);
	uvfs_merkle_result_free(&r);
	close(fd);
	free(buf);
	free(data);
	return (int)(sink & 0);
}
