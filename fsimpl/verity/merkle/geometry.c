/* fsimpl/verity/geometry.c — where each tree level lives, for a file size.
 *
 * fs-verity stores the root-most level first, so a level's storage offset
 * depends on the sizes of all levels above it; computing the whole shape up
 * front lets the builder write each hash straight to its final place and
 * lets the verifier address any tree block without reading the others. */
#include <errno.h>
#include <string.h>

#include "fsimpl/verity/merkle/verity_int.h"

int merkle_geom_compute(const struct vparams *vp, uint64_t size, struct vgeom *g)
{
	uint64_t hpb = (uint64_t)1 << vp->log_hpb;

	memset(g, 0, sizeof(*g));
	/* Written this way so that size near UINT64_MAX cannot overflow. */
	g->data_blocks = (size >> vp->log_bs) + ((size & (vp->bs - 1)) != 0);
	uint64_t n = g->data_blocks;
	while (n > 1) {
		if (g->levels >= VERITY_MAX_LEVELS)
			return -EFBIG;
		n = n / hpb + (n % hpb != 0);
		g->level_blocks[g->levels++] = n;
	}
	uint64_t start = 0;
	for (unsigned l = g->levels; l-- > 0;) {
		g->level_start[l] = start;
		start += g->level_blocks[l];
	}
	g->tree_blocks = start;
	return 0;
}

UVFS_API int uvfs_merkle_tree_size(const struct uvfs_merkle_params *p, uint64_t size,
				   unsigned *levels, uint64_t *tree_size)
{
	struct vparams vp;
	struct vgeom g;
	int r;

	if (!p)
		return -EINVAL;
	r = merkle_params_init(&vp, p->hash_alg, p->block_size, p->salt, p->salt_size);
	if (r)
		return r;
	r = merkle_geom_compute(&vp, size, &g);
	if (!r && g.tree_blocks > (UINT64_MAX >> vp.log_bs))
		r = -EFBIG;
	if (!r) {
		if (levels)
			*levels = g.levels;
		if (tree_size)
			*tree_size = g.tree_blocks << vp.log_bs;
	}
	merkle_params_fini(&vp);
	return r;
}
