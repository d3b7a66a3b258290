/* tests/stress/verity_threads.c — one verifier, many threads (TSan).
 *
 * A multi-threaded tree build must equal a single-threaded one. Then
 * threads read random ranges through a shared verifier whose cache is much
 * smaller than the tree, so verified tree blocks are evicted and refilled
 * while other threads read them. Every read must return the original bytes,
 * except reads touching one tampered block, which must fail with -EIO.
 * Exit status 0 and a summary line on success. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/verity/merkle/merkle.h"

#define SIZE (12u << 20) /* >= 2 build chunks per thread */
#define BS 1024u
#define NTHREADS 4
#define READS 3000

static uint8_t *orig, *data;
static struct uvfs_verity_verifier *v;
static uint64_t bad_block;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Fails from 9 MiB on, to check that one failing build thread stops the
 * others and its error comes back. */
static ssize_t failing_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	if (off >= (9u << 20))
		return -EACCES;
	return uvfs_merkle_mem_read(ctx, buf, len, off);
}

static void *worker(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
	uint8_t *buf = malloc(3 * BS * 4);
	long errors = 0;
	for (int k = 0; k < READS && buf; k++) {
		uint64_t off = rnd(&s) % SIZE;
		size_t len = 1 + (size_t)(rnd(&s) % (3 * BS * 4));
		ssize_t r = uvfs_verity_read(v, buf, len, off);
		uint64_t end = off + len > SIZE ? SIZE : off + len;
		int touches = off / BS <= bad_block && (end - 1) / BS >= bad_block;
		if (touches ? r != -EIO
			    : (r != (ssize_t)(end - off) || memcmp(buf, orig + off, (size_t)r)))
			errors++;
	}
	free(buf);
	return (void *)errors;
}

int main(void)
{
	struct uvfs_merkle_params p = { 2, BS, (const uint8_t *)"salt", 4, NTHREADS };
	struct uvfs_merkle_result single;
	struct uvfs_merkle_result res;
	orig = malloc(SIZE);
	data = malloc(SIZE);
	if (!orig || !data)
		return 1;
	uint64_t s = 42;
	for (size_t i = 0; i < SIZE; i++)
		orig[i] = (uint8_t)rnd(&s);
	memcpy(data, orig, SIZE);
	struct uvfs_merkle_mem dm = { data, SIZE };
	/* Threaded build first (shares the reader across threads), checked
	 * against a single-threaded one. */
	if (uvfs_merkle_build(&p, uvfs_merkle_mem_read, &dm, SIZE, &res))
		return 1;
	p.threads = 1;
	if (uvfs_merkle_build(&p, uvfs_merkle_mem_read, &dm, SIZE, &single))
		return 1;
	if (memcmp(single.digest, res.digest, res.digest_size) || single.tree_size != res.tree_size ||
	    memcmp(single.tree, res.tree, res.tree_size)) {
		printf("verity_threads: threaded build differs\n");
		return 1;
	}
	uvfs_merkle_result_free(&single);
	p.threads = NTHREADS;
	if (uvfs_merkle_build(&p, failing_read, &dm, SIZE, &single) != -EACCES || single.tree) {
		printf("verity_threads: threaded build did not report the reader's error\n");
		return 1;
	}
	bad_block = (SIZE / BS) * 2 / 3;
	data[bad_block * BS + 5] ^= 1;
	struct uvfs_merkle_mem tm = { res.tree, res.tree_size };
	struct uvfs_verity_open_args a = {
		.hash_alg = res.hash_alg, .digest = res.digest, .digest_size = res.digest_size,
		.descriptor = res.descriptor, .descriptor_size = UVFS_VERITY_DESC_SIZE,
		.read_tree = uvfs_merkle_mem_read, .tree_ctx = &tm,
		.read_data = uvfs_merkle_mem_read, .data_ctx = &dm,
		.cache_bytes = 16 * BS, /* tree is ~400 blocks: constant eviction */
	};
	if (uvfs_verity_open(&a, &v))
		return 1;
	pthread_t th[NTHREADS];
	for (uintptr_t i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(i + 1));
	long errors = 0;
	for (int i = 0; i < NTHREADS; i++) {
		void *e;
		pthread_join(th[i], &e);
		errors += (long)e;
	}
	struct uvfs_verity_stats st;
	uvfs_verity_get_stats(v, &st);
	uvfs_verity_close(v);
	uvfs_merkle_result_free(&res);
	free(orig);
	free(data);
	if (errors) {
		printf("verity_threads: %ld wrong results\n", errors);
		return 1;
	}
	printf("verity_threads: %d threads x %d reads ok, %llu tree blocks verified, %llu cache hits\n",
	       NTHREADS, READS, (unsigned long long)st.tree_blocks_verified,
	       (unsigned long long)st.cache_hits);
	return 0;
}
