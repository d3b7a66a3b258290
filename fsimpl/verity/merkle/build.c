/* fsimpl/verity/build.c — builds an fs-verity Merkle tree, root hash,
 * descriptor and file digest from a reader.
 *
 * The whole tree is kept in one buffer laid out in storage order (root-most
 * level first), so each hash is written straight to its final offset and the
 * caller gets exactly what `fsverity digest --out-merkle-tree` writes. Data is
 * read in large chunks so the reader callback costs little per block, and
 * level 0 (all but 1/hashes-per-block of the work) can be split over
 * threads. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/verity/merkle/verity_int.h"

#define BUILD_CHUNK (1u << 20)
#define BUILD_MAX_THREADS 64

/* Fills buf[0..n) from off; a reader that stops early means the file is
 * shorter than the size we were told: -EIO. */
static int read_full(uvfs_merkle_read_fn read, void *ctx, uint8_t *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(ctx, buf + got, n - got, off + got);
		if (r < 0)
			return r < -4095 ? -EIO : (int)r;
		if (r == 0 || (size_t)r > n - got)
			return -EIO;
		got += (size_t)r;
	}
	return 0;
}

/* Hashes nblocks consecutive B-byte blocks of src (the last one may be
 * short: total bytes = len) into consecutive digests at dst. */
static int hash_blocks(struct vhasher *h, const uint8_t *src, size_t len, uint8_t *dst)
{
	const struct vparams *vp = h->vp;
	for (size_t o = 0; o < len; o += vp->bs) {
		size_t n = len - o < vp->bs ? len - o : vp->bs;
		int r = merkle_hash_block(h, src + o, n, dst);
		if (r)
			return r;
		dst += vp->ds;
	}
	return 0;
}

/* Level 0 over data bytes [off, end): one job per thread. */
struct leaf_job {
	const struct vparams *vp;
	uvfs_merkle_read_fn read;
	void *ctx;
	const uint8_t *mem; /* whole file in memory: hash in place, no reads */
	uint64_t off, end;
	size_t chunk_size;
	uint8_t *dst; /* where the hash of the block at off goes */
	atomic_int *stop; /* set by the first job that fails: the rest quit */
	int err;
	pthread_t tid;
};

static void *leaf_job_run(void *arg)
{
	struct leaf_job *j = arg;
	const struct vparams *vp = j->vp;
	struct vhasher h;
	uint8_t *chunk = j->mem ? NULL : malloc(j->chunk_size);
	uint8_t *dst = j->dst;

	j->err = chunk || j->mem ? merkle_hasher_init(&h, vp) : -ENOMEM;
	if (j->err) {
		free(chunk);
		return NULL;
	}
	for (uint64_t off = j->off; off < j->end && !j->err; off += j->chunk_size) {
		size_t n = j->end - off < j->chunk_size ? (size_t)(j->end - off) : j->chunk_size;
		if (atomic_load_explicit(j->stop, memory_order_relaxed))
			break;
		if (j->mem)
			j->err = hash_blocks(&h, j->mem + off, n, dst);
		else if (!(j->err = read_full(j->read, j->ctx, chunk, n, off)))
			j->err = hash_blocks(&h, chunk, n, dst);
		dst += (n >> vp->log_bs) * vp->ds + ((n & (vp->bs - 1)) ? vp->ds : 0);
	}
	if (j->err)
		atomic_store_explicit(j->stop, 1, memory_order_relaxed);
	merkle_hasher_fini(&h);
	free(chunk);
	return NULL;
}

/* Hashes all data blocks into dst, on up to `threads` threads. Each thread
 * takes a contiguous, chunk-aligned share, reads it itself and writes its
 * own slice of dst, so the threads share nothing but the read callback. */
int merkle_hash_leaves(const struct vparams *vp, uvfs_merkle_read_fn read, void *ctx,
		       const uint8_t *mem, uint64_t size, unsigned threads, uint8_t *dst)
{
	size_t chunk_size = BUILD_CHUNK > vp->bs ? BUILD_CHUNK : vp->bs;
	uint64_t nchunks = size / chunk_size + (size % chunk_size != 0);
	struct leaf_job jobs[BUILD_MAX_THREADS];
	atomic_int stop = 0;
	int r = 0;

	if (size < chunk_size)
		chunk_size = size ? (size_t)size : 1;
	if (threads > BUILD_MAX_THREADS)
		threads = BUILD_MAX_THREADS;
	/* Below a couple of chunks per thread, threads cost more than they save. */
	if (threads < 1 || nchunks < 2ull * threads)
		threads = 1;
	uint64_t per = nchunks / threads, extra = nchunks % threads, off = 0;
	for (unsigned t = 0; t < threads; t++) {
		uint64_t len = (per + (t < extra)) * chunk_size;
		jobs[t] = (struct leaf_job){ .vp = vp, .read = read, .ctx = ctx, .mem = mem, .off = off,
					     .end = off + len < size ? off + len : size,
					     .chunk_size = chunk_size, .stop = &stop,
					     .dst = dst + (off >> vp->log_bs) * vp->ds };
		off = jobs[t].end;
	}
	unsigned started = 1;
	for (unsigned t = 1; t < threads; t++, started++) {
		if (pthread_create(&jobs[t].tid, NULL, leaf_job_run, &jobs[t])) {
			r = -EAGAIN;
			atomic_store(&stop, 1);
			break;
		}
	}
	if (!r)
		leaf_job_run(&jobs[0]);
	for (unsigned t = 1; t < started; t++)
		pthread_join(jobs[t].tid, NULL);
	for (unsigned t = 0; t < started && !r; t++)
		r = jobs[t].err;
	return r;
}

static int build(const struct uvfs_merkle_params *p, uvfs_merkle_read_fn read, void *ctx,
		 const uint8_t *mem, uint64_t size, struct uvfs_merkle_result *out)
{
	struct vparams vp;
	struct vgeom g;
	struct vhasher h = { 0 };
	uint8_t *tree = NULL;
	int r;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!p || (!read && !mem))
		return -EINVAL;
	r = merkle_params_init(&vp, p->hash_alg, p->block_size, p->salt, p->salt_size);
	if (r)
		return r;
	r = merkle_geom_compute(&vp, size, &g);
	if (r)
		goto out;
	if (g.tree_blocks > (SIZE_MAX >> vp.log_bs)) {
		r = -EFBIG;
		goto out;
	}
	size_t tree_size = (size_t)g.tree_blocks << vp.log_bs;
	if (tree_size && !(tree = calloc(1, tree_size))) {
		r = -ENOMEM;
		goto out;
	}
	r = merkle_hasher_init(&h, &vp);
	if (r)
		goto out;

	/* Level 0 (or, for a single-block file, the root itself). */
	r = merkle_hash_leaves(&vp, read, ctx, mem, size, g.levels ? p->threads : 1,
			g.levels ? tree + (g.level_start[0] << vp.log_bs) : out->root_hash);
	if (r)
		goto out;
	/* Upper levels hash whole blocks of the level below (1/hashes-per-block
	 * of the work, so single-threaded); the zero padding of each level's
	 * last block comes from calloc. */
	for (unsigned l = 1; l < g.levels; l++) {
		r = hash_blocks(&h, tree + (g.level_start[l - 1] << vp.log_bs),
				(size_t)g.level_blocks[l - 1] << vp.log_bs,
				tree + (g.level_start[l] << vp.log_bs));
		if (r)
			goto out;
	}
	if (g.levels) {
		/* The top level is one block at storage offset 0. */
		r = merkle_hash_block(&h, tree, vp.bs, out->root_hash);
		if (r)
			goto out;
	}

	merkle_desc_encode(&vp, size, out->root_hash, out->descriptor);
	r = merkle_hash_plain(&vp, out->descriptor, UVFS_VERITY_DESC_SIZE, out->digest);
	if (r)
		goto out;
	out->tree = tree;
	out->tree_size = tree_size;
	out->levels = g.levels;
	out->hash_alg = vp.alg;
	out->digest_size = vp.ds;
	tree = NULL;
out:
	merkle_hasher_fini(&h);
	free(tree);
	merkle_params_fini(&vp);
	if (r)
		memset(out, 0, sizeof(*out));
	return r;
}

UVFS_API int uvfs_merkle_build(const struct uvfs_merkle_params *p, uvfs_merkle_read_fn read,
			       void *ctx, uint64_t size, struct uvfs_merkle_result *out)
{
	if (!read) {
		if (out)
			memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return build(p, read, ctx, NULL, size, out);
}

UVFS_API int uvfs_merkle_build_buf(const struct uvfs_merkle_params *p, const void *data,
				   size_t size, struct uvfs_merkle_result *out)
{
	if (!data && size) {
		if (out)
			memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	/* A non-NULL pointer even for size 0 selects the in-memory path. */
	return build(p, NULL, NULL, data ? data : (const void *)"", size, out);
}

UVFS_API void uvfs_merkle_result_free(struct uvfs_merkle_result *r)
{
	if (!r)
		return;
	free(r->tree);
	r->tree = NULL;
	r->tree_size = 0;
}
