/* fsimpl/verity/merkle/stream.c — the file digest without keeping the tree.
 *
 * uvfs_merkle_build keeps the whole tree (1/128 of the file for SHA-256/4K:
 * 128 MiB for 16 GiB) because it returns it. A digest needs only one
 * pending block per level, as fsverity-utils' compute_root_hash: level 0 is
 * hashed window by window (on threads, as build does) and each window's
 * hashes are pushed up through the pending blocks. Memory stays bounded by
 * the window whatever the file size. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/verity/merkle/verity_int.h"

/* Level-0 work per window: its hashes are ds/bs of it (256 KiB for 32 MiB). */
#define STREAM_WINDOW (32u << 20)

struct stream {
	const struct vparams *vp;
	struct vhasher h;
	unsigned levels;
	uint8_t *pending[VERITY_MAX_LEVELS]; /* one block per level */
	size_t fill[VERITY_MAX_LEVELS];
};

/* Appends one hash to level l's pending block; a full block below the top
 * is hashed into level l + 1. */
static int push(struct stream *s, unsigned l, const uint8_t *hash)
{
	const struct vparams *vp = s->vp;
	uint8_t out[UVFS_VERITY_MAX_DIGEST];
	for (;;) {
		if (s->fill[l] + vp->ds > vp->bs)
			return -EIO; /* the top level overflowed: cannot happen for a right geometry */
		memcpy(s->pending[l] + s->fill[l], hash, vp->ds);
		s->fill[l] += vp->ds;
		if (s->fill[l] < vp->bs || l + 1 == s->levels)
			return 0;
		int r = merkle_hash_block(&s->h, s->pending[l], vp->bs, out);
		if (r)
			return r;
		s->fill[l] = 0;
		hash = out;
		l++;
	}
}

/* A reader shifted by base, so build's leaf hashing can run on one window. */
struct shifted {
	uvfs_merkle_read_fn read;
	void *ctx;
	uint64_t base;
};
static ssize_t shifted_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct shifted *sh = ctx;
	return sh->read(sh->ctx, buf, len, sh->base + off);
}

UVFS_API int uvfs_merkle_digest(const struct uvfs_merkle_params *p, uvfs_merkle_read_fn read, void *ctx,
				uint64_t size, struct uvfs_merkle_result *out)
{
	struct vparams vp;
	struct vgeom g;
	struct stream s = { .vp = &vp };
	uint8_t *hashes = NULL;
	int r;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!p || !read)
		return -EINVAL;
	if ((r = merkle_params_init(&vp, p->hash_alg, p->block_size, p->salt, p->salt_size)))
		return r;
	if ((r = merkle_geom_compute(&vp, size, &g)) || (r = merkle_hasher_init(&s.h, &vp)))
		goto out;
	s.levels = g.levels;
	size_t window = STREAM_WINDOW > vp.bs ? STREAM_WINDOW : vp.bs;
	if (!(hashes = malloc((window >> vp.log_bs) * vp.ds))) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned l = 0; l < g.levels; l++)
		if (!(s.pending[l] = calloc(1, vp.bs))) {
			r = -ENOMEM;
			goto out;
		}
	if (!g.levels) {
		/* 0 < size <= B: the root is the data block's hash; size 0: zeros. */
		if (size)
			r = merkle_hash_leaves(&vp, read, ctx, NULL, size, 1, out->root_hash);
		if (r)
			goto out;
	} else {
		for (uint64_t off = 0; off < size; off += window) {
			uint64_t n = size - off < window ? size - off : window;
			struct shifted sh = { read, ctx, off };
			if ((r = merkle_hash_leaves(&vp, shifted_read, &sh, NULL, n, p->threads, hashes)))
				goto out;
			uint64_t nh = (n >> vp.log_bs) + ((n & (vp.bs - 1)) != 0);
			for (uint64_t i = 0; i < nh; i++)
				if ((r = push(&s, 0, hashes + i * vp.ds)))
					goto out;
		}
		/* Flush each level's partial last block (zero padded) upward; the
		 * top level's one block hashes into the root. */
		uint8_t h[UVFS_VERITY_MAX_DIGEST];
		for (unsigned l = 0; l + 1 < g.levels; l++) {
			if (!s.fill[l])
				continue;
			memset(s.pending[l] + s.fill[l], 0, vp.bs - s.fill[l]);
			if ((r = merkle_hash_block(&s.h, s.pending[l], vp.bs, h)) || (r = push(&s, l + 1, h)))
				goto out;
			s.fill[l] = 0;
		}
		if ((r = merkle_hash_block(&s.h, s.pending[g.levels - 1], vp.bs, out->root_hash)))
			goto out;
	}
	merkle_desc_encode(&vp, size, out->root_hash, out->descriptor);
	if ((r = merkle_hash_plain(&vp, out->descriptor, UVFS_VERITY_DESC_SIZE, out->digest)))
		goto out;
	out->levels = g.levels;
	out->hash_alg = vp.alg;
	out->digest_size = vp.ds;
out:
	for (unsigned l = 0; l < VERITY_MAX_LEVELS; l++)
		free(s.pending[l]);
	free(hashes);
	merkle_hasher_fini(&s.h);
	merkle_params_fini(&vp);
	if (r)
		memset(out, 0, sizeof(*out));
	return r;
}
