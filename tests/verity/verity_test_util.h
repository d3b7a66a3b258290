/* tests/verity/verity_test_util.h — helpers shared by the verity suites:
 * deterministic data, a seeded PRNG, and running the `fsverity` tool as the
 * oracle on a temporary file. Header-only (static) so each test binary is
 * self-contained. */
#pragma once

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsimpl/verity/merkle/merkle.h"

/* splitmix64: tiny, good enough for test data, reproducible from a seed. */
static inline uint64_t vt_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Seed from $UVFS_TEST_SEED if set (to replay a failure), else the clock.
 * Tests print it in every failure message. */
static inline uint64_t vt_seed(void)
{
	const char *e = getenv("UVFS_TEST_SEED");
	if (e && *e)
		return strtoull(e, NULL, 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
}

static inline void vt_fill_random(uint8_t *p, size_t n, uint64_t *s)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t r = vt_rand(s);
		memcpy(p + i, &r, 8);
	}
	if (i < n) {
		uint64_t r = vt_rand(s);
		memcpy(p + i, &r, n - i);
	}
}

static inline void vt_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = 0;
}

/* Writes n bytes to a fresh temp file; returns its path (caller frees and
 * unlinks). */
static inline char *vt_tmpfile(const void *data, size_t n)
{
	char *path = strdup("/tmp/uvfs-verity-XXXXXX");
	cr_assert_not_null(path);
	int fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(fd, (const uint8_t *)data + off, n - off);
		cr_assert(w > 0, "write: %s", strerror(errno));
		off += (size_t)w;
	}
	close(fd);
	return path;
}

static inline uint8_t *vt_slurp(const char *path, size_t *n)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	cr_assert(fd >= 0 && fstat(fd, &st) == 0, "%s: %s", path, strerror(errno));
	uint8_t *p = malloc(st.st_size ? (size_t)st.st_size : 1);
	cr_assert_not_null(p);
	ssize_t r = uvfs_merkle_fd_read(&fd, p, (size_t)st.st_size, 0);
	cr_assert(r == st.st_size, "%s: short read", path);
	close(fd);
	*n = (size_t)st.st_size;
	return p;
}

/* What `fsverity digest` says about data under these parameters. */
struct vt_oracle {
	char digest[320]; /* "sha256:HEX" */
	uint8_t *tree;
	size_t tree_size;
	uint8_t *desc;
	size_t desc_size;
};

static inline void vt_oracle_run(const void *data, size_t n, const struct uvfs_merkle_params *p,
				 struct vt_oracle *o)
{
	char salt_hex[2 * UVFS_VERITY_MAX_SALT + 1] = "";
	char cmd[1024], tpath[64], dpath[64];
	char *file = vt_tmpfile(data, n);

	vt_hex(p->salt ? p->salt : (const uint8_t *)"", p->salt_size, salt_hex);
	snprintf(tpath, sizeof(tpath), "%s.tree", file);
	snprintf(dpath, sizeof(dpath), "%s.desc", file);
	snprintf(cmd, sizeof(cmd),
		 "fsverity digest '%s' --hash-alg=%s --block-size=%u %s%s "
		 "--out-merkle-tree='%s' --out-descriptor='%s' --compact",
		 file, uvfs_verity_hash_name(p->hash_alg ? p->hash_alg : 1),
		 p->block_size ? p->block_size : 4096, p->salt_size ? "--salt=" : "", salt_hex,
		 tpath, dpath);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f, "popen %s", cmd);
	char line[256] = "";
	char *got = fgets(line, sizeof(line), f);
	int st = pclose(f);
	cr_assert(got && st == 0, "fsverity failed (status %d): %s", st, cmd);
	line[strcspn(line, "\n")] = 0;
	snprintf(o->digest, sizeof(o->digest), "%s:%s",
		 uvfs_verity_hash_name(p->hash_alg ? p->hash_alg : 1), line);
	o->tree = vt_slurp(tpath, &o->tree_size);
	o->desc = vt_slurp(dpath, &o->desc_size);
	unlink(file);
	unlink(tpath);
	unlink(dpath);
	free(file);
}

static inline void vt_oracle_free(struct vt_oracle *o)
{
	free(o->tree);
	free(o->desc);
}

static inline void vt_fmt_digest(const struct uvfs_merkle_result *r, char *out, size_t outsz)
{
	char hex[2 * UVFS_VERITY_MAX_DIGEST + 1];
	vt_hex(r->digest, r->digest_size, hex);
	snprintf(out, outsz, "%s:%s", uvfs_verity_hash_name(r->hash_alg), hex);
}

static inline int vt_build_mem(const void *data, size_t n, const struct uvfs_merkle_params *p,
			       struct uvfs_merkle_result *r)
{
	struct uvfs_merkle_mem m = { data, n };
	return uvfs_merkle_build(p, uvfs_merkle_mem_read, &m, n, r);
}
