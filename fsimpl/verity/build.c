/* fsimpl/verity/build.c — builds an fs-verity Merkle tree, root hash,
 * descriptor and file digest from a reader.
 *
 * The whole tree is kept in one buffer laid out in storage order (root-most
 * level first), so each hash is written straight to its final offset and the
 * caller gets exactly what `fsverity digest --out-merkle-tree` writes. Data is
 * read in large chunks so the reader callback costs little per block. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/verity/verity_int.h"

#define BUILD_CHUNK (1u << 20)

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
		int r = verity_hash_block(h, src + o, n, dst);
		if (r)
			return r;
		dst += vp->ds;
	}
	return 0;
}

UVFS_API int uvfs_merkle_build(const struct uvfs_merkle_params *p, uvfs_merkle_read_fn read,
			       void *ctx, uint64_t size, struct uvfs_merkle_result *out)
{
	struct vparams vp;
	struct vgeom g;
	struct vhasher h = { 0 };
	uint8_t *tree = NULL, *chunk = NULL;
	int r;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!p || !read)
		return -EINVAL;
	r = verity_params_init(&vp, p->hash_alg, p->block_size, p->salt, p->salt_size);
	if (r)
		return r;
	r = verity_geom_compute(&vp, size, &g);
	if (r)
		goto out;
	if (g.tree_blocks > (SIZE_MAX >> vp.log_bs)) {
		r = -EFBIG;
		goto out;
	}
	size_t tree_size = (size_t)g.tree_blocks << vp.log_bs;
	size_t chunk_size = BUILD_CHUNK > vp.bs ? BUILD_CHUNK : vp.bs;
	if (size < chunk_size)
		chunk_size = size ? (size_t)size : 1;
	if (tree_size && !(tree = calloc(1, tree_size))) {
		r = -ENOMEM;
		goto out;
	}
	if (!(chunk = malloc(chunk_size))) {
		r = -ENOMEM;
		goto out;
	}
	r = verity_hasher_init(&h, &vp);
	if (r)
		goto out;

	/* Level 0 (or, for a single-block file, the root itself). */
	uint8_t *dst = g.levels ? tree + (g.level_start[0] << vp.log_bs) : out->root_hash;
	for (uint64_t off = 0; off < size; off += chunk_size) {
		size_t n = size - off < chunk_size ? (size_t)(size - off) : chunk_size;
		r = read_full(read, ctx, chunk, n, off);
		if (r)
			goto out;
		r = hash_blocks(&h, chunk, n, dst);
		if (r)
			goto out;
		dst += (n >> vp.log_bs) * vp.ds + ((n & (vp.bs - 1)) ? vp.ds : 0);
	}
	/* Upper levels hash whole blocks of the level below; the zero padding
	 * of each level's last block comes from calloc. */
	for (unsigned l = 1; l < g.levels; l++) {
		r = hash_blocks(&h, tree + (g.level_start[l - 1] << vp.log_bs),
				(size_t)g.level_blocks[l - 1] << vp.log_bs,
				tree + (g.level_start[l] << vp.log_bs));
		if (r)
			goto out;
	}
	if (g.levels) {
		/* The top level is one block at storage offset 0. */
		r = verity_hash_block(&h, tree, vp.bs, out->root_hash);
		if (r)
			goto out;
	}

	verity_desc_encode(&vp, size, out->root_hash, out->descriptor);
	r = verity_hash_plain(&vp, out->descriptor, UVFS_VERITY_DESC_SIZE, out->digest);
	if (r)
		goto out;
	out->tree = tree;
	out->tree_size = tree_size;
	out->levels = g.levels;
	out->hash_alg = vp.alg;
	out->digest_size = vp.ds;
	tree = NULL;
out:
	verity_hasher_fini(&h);
	free(chunk);
	free(tree);
	verity_params_fini(&vp);
	if (r)
		memset(out, 0, sizeof(*out));
	return r;
}

UVFS_API void uvfs_merkle_result_free(struct uvfs_merkle_result *r)
{
	if (!r)
		return;
	free(r->tree);
	r->tree = NULL;
	r->tree_size = 0;
}
