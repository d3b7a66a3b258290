/* fsimpl/verity/verify.c — reads file data, returning only bytes proven to
 * match a trusted fs-verity file digest.
 *
 * Trust flows downward: trusted digest -> descriptor (hash must match) ->
 * root hash -> top tree block -> ... -> level-0 block -> data block. A tree
 * block is verified by hashing it and comparing with the entry in its
 * (already verified) parent. Verified tree blocks are cached, and the walk
 * up from a data block stops at the first cached ancestor, so a sequential
 * read hashes every tree block once (as long as the tree fits the cache),
 * the way the kernel stops at a page already marked verified.
 *
 * Nothing read from the tree or data reader is trusted until hashed: a short
 * read, a reader error or any mismatch is -EIO and the caller's buffer is
 * zeroed, so unverified bytes are never handed out. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/verity/merkle/verity_int.h"

#define DEFAULT_CACHE_BYTES (16u << 20)

/* Per-call scratch: a hasher and block buffers. Pooled so that a read does
 * not allocate. */
struct worker {
	struct worker *next;
	struct vhasher h;
	uint8_t *blk;  /* a tree block being checked */
	uint8_t *leaf; /* verified hashes (level-0 block layout) for the current data */
	uint8_t *dblk; /* a partially requested data block (kept apart from blk:
			* tree loads must not clobber data being returned) */
	uint64_t data_blocks; /* verified since last worker_put() */
};

/* One cache slot: a verified copy of a tree block. */
struct slot {
	uint64_t tag; /* storage block index + 1; 0 = empty */
	uint8_t *buf;
};

struct uvfs_verity_verifier {
	/* Immutable after open: safe to read without the lock. */
	struct vparams vp;
	struct vgeom g;
	uint64_t size;
	uint8_t root[UVFS_VERITY_MAX_DIGEST];
	uvfs_merkle_read_fn read_tree, read_data;
	void *tree_ctx, *data_ctx;
	size_t nslots;

	pthread_mutex_t lock;
	struct slot *slots;     /* lock: tags and buffer contents */
	struct worker *idle;    /* lock */
	struct uvfs_verity_stats stats; /* lock */
};

static int read_exact(uvfs_merkle_read_fn read, void *ctx, uint8_t *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(ctx, buf + got, n - got, off + got);
		if (r < 0)
			return r < -4095 ? -EIO : (int)r;
		if (r == 0 || (size_t)r > n - got)
			return -EIO; /* truncated file or tree */
		got += (size_t)r;
	}
	return 0;
}

/* ------------------------------------------------------------ cache */

static uint64_t gindex(const struct uvfs_verity_verifier *v, unsigned level, uint64_t idx)
{
	return v->g.level_start[level] + idx;
}

/* Copies len bytes at byte offset `at` of verified tree block (level, idx)
 * into out, if cached. */
static bool cache_get(struct uvfs_verity_verifier *v, unsigned level, uint64_t idx, size_t at,
		      size_t len, uint8_t *out)
{
	uint64_t gi = gindex(v, level, idx);
	struct slot *s = &v->slots[gi % v->nslots];
	bool hit;

	pthread_mutex_lock(&v->lock);
	hit = s->tag == gi + 1;
	if (hit) {
		memcpy(out, s->buf + at, len);
		v->stats.cache_hits++;
	}
	pthread_mutex_unlock(&v->lock);
	return hit;
}

/* Records a just-verified tree block. Allocation failure only costs a
 * future re-verification, so it is not an error. */
static void cache_put(struct uvfs_verity_verifier *v, unsigned level, uint64_t idx,
		      const uint8_t *blk)
{
	uint64_t gi = gindex(v, level, idx);
	struct slot *s = &v->slots[gi % v->nslots];
	uint8_t *fresh = NULL;

	pthread_mutex_lock(&v->lock);
	if (!s->buf) {
		/* First use of the slot: allocate without holding the lock. */
		pthread_mutex_unlock(&v->lock);
		fresh = malloc(v->vp.bs);
		pthread_mutex_lock(&v->lock);
		if (!s->buf) {
			s->buf = fresh;
			fresh = NULL;
		}
	}
	v->stats.tree_blocks_verified++;
	if (s->buf) {
		memcpy(s->buf, blk, v->vp.bs);
		s->tag = gi + 1;
	}
	pthread_mutex_unlock(&v->lock);
	free(fresh);
}

/* ------------------------------------------------------------ walk */

/* Reads tree block (level, idx) into w->blk and checks it against want. */
static int load_tree_block(struct uvfs_verity_verifier *v, struct worker *w, unsigned level,
			   uint64_t idx, const uint8_t *want)
{
	uint8_t got[UVFS_VERITY_MAX_DIGEST];
	int r;

	if (idx >= v->g.level_blocks[level])
		return -EIO;
	r = read_exact(v->read_tree, v->tree_ctx, w->blk, v->vp.bs,
		       gindex(v, level, idx) << v->vp.log_bs);
	if (r)
		return r;
	r = merkle_hash_block(&w->h, w->blk, v->vp.bs, got);
	if (r)
		return r;
	if (memcmp(got, want, v->vp.ds))
		return -EIO;
	cache_put(v, level, idx, w->blk);
	return 0;
}

/* want := the trusted hash of tree block (level, idx), taken from its
 * parent (verifying the parent first if it is not cached) or the root. */
static int expected_hash(struct uvfs_verity_verifier *v, struct worker *w, unsigned level,
			 uint64_t idx, uint8_t *want)
{
	if (level == v->g.levels - 1) {
		memcpy(want, v->root, v->vp.ds);
		return 0;
	}
	uint64_t pidx = idx >> v->vp.log_hpb;
	size_t at = (size_t)(idx & (((uint64_t)1 << v->vp.log_hpb) - 1)) * v->vp.ds;
	if (cache_get(v, level + 1, pidx, at, v->vp.ds, want))
		return 0;
	uint8_t pwant[UVFS_VERITY_MAX_DIGEST];
	int r = expected_hash(v, w, level + 1, pidx, pwant);
	if (r)
		return r;
	r = load_tree_block(v, w, level + 1, pidx, pwant);
	if (r)
		return r;
	memcpy(want, w->blk + at, v->vp.ds);
	return 0;
}

/* out[at, at+len) := the same bytes of verified level-0 block idx. Only
 * the hashes a read needs are copied out of the cache. */
static int get_leaf(struct uvfs_verity_verifier *v, struct worker *w, uint64_t idx, size_t at,
		    size_t len, uint8_t *out)
{
	uint8_t want[UVFS_VERITY_MAX_DIGEST];
	int r;

	if (cache_get(v, 0, idx, at, len, out + at))
		return 0;
	r = expected_hash(v, w, 0, idx, want);
	if (r)
		return r;
	r = load_tree_block(v, w, 0, idx, want);
	if (r)
		return r;
	memcpy(out + at, w->blk + at, len);
	return 0;
}

/* ------------------------------------------------------------ workers */

static void worker_free(struct worker *w)
{
	if (!w)
		return;
	merkle_hasher_fini(&w->h);
	free(w->blk);
	free(w->leaf);
	free(w->dblk);
	free(w);
}

static struct worker *worker_get(struct uvfs_verity_verifier *v)
{
	struct worker *w;

	pthread_mutex_lock(&v->lock);
	w = v->idle;
	if (w)
		v->idle = w->next;
	pthread_mutex_unlock(&v->lock);
	if (w)
		return w;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->blk = malloc(v->vp.bs);
	w->leaf = malloc(v->vp.bs);
	w->dblk = malloc(v->vp.bs);
	if (!w->blk || !w->leaf || !w->dblk || merkle_hasher_init(&w->h, &v->vp)) {
		worker_free(w);
		return NULL;
	}
	return w;
}

static void worker_put(struct uvfs_verity_verifier *v, struct worker *w)
{
	pthread_mutex_lock(&v->lock);
	v->stats.data_blocks_verified += w->data_blocks;
	w->data_blocks = 0;
	w->next = v->idle;
	v->idle = w;
	pthread_mutex_unlock(&v->lock);
}

/* ------------------------------------------------------------ API */

UVFS_API int uvfs_verity_open(const struct uvfs_verity_open_args *a,
			      struct uvfs_verity_verifier **out)
{
	struct uvfs_verity_descriptor d;
	uint8_t dig[UVFS_VERITY_MAX_DIGEST];
	struct uvfs_verity_verifier *v;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!a || !a->digest || !a->descriptor || !a->read_tree || !a->read_data)
		return -EINVAL;
	unsigned ds = uvfs_verity_digest_size(a->hash_alg);
	if (!ds || a->digest_size != ds || a->descriptor_size != UVFS_VERITY_DESC_SIZE)
		return -EINVAL;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* First, tie the untrusted descriptor to the trusted digest. */
	r = merkle_params_init(&v->vp, a->hash_alg, UVFS_VERITY_DEFAULT_BLOCK, NULL, 0);
	if (r)
		goto fail_params;
	r = merkle_hash_plain(&v->vp, a->descriptor, UVFS_VERITY_DESC_SIZE, dig);
	merkle_params_fini(&v->vp);
	if (r)
		goto fail_params;
	if (memcmp(dig, a->digest, ds)) {
		r = -EIO;
		goto fail_params;
	}
	/* The descriptor is now trusted, but must still make sense. */
	if (uvfs_verity_descriptor_parse(a->descriptor, &d) || d.hash_alg != a->hash_alg) {
		r = -EIO;
		goto fail_params;
	}
	r = merkle_params_init(&v->vp, d.hash_alg, 1u << d.log_block_size, d.salt, d.salt_size);
	if (r) {
		r = r == -EINVAL ? -EIO : r;
		goto fail_params;
	}
	r = merkle_geom_compute(&v->vp, d.data_size, &v->g);
	if (r) {
		r = -EIO;
		goto fail;
	}
	v->size = d.data_size;
	memcpy(v->root, d.root_hash, ds);
	v->read_tree = a->read_tree;
	v->tree_ctx = a->tree_ctx;
	v->read_data = a->read_data;
	v->data_ctx = a->data_ctx;

	size_t cache = a->cache_bytes ? a->cache_bytes : DEFAULT_CACHE_BYTES;
	uint64_t nslots = cache >> v->vp.log_bs;
	if (nslots > v->g.tree_blocks)
		nslots = v->g.tree_blocks;
	v->nslots = nslots ? (size_t)nslots : 1;
	v->slots = calloc(v->nslots, sizeof(*v->slots));
	if (!v->slots) {
		r = -ENOMEM;
		goto fail;
	}
	if (pthread_mutex_init(&v->lock, NULL)) {
		free(v->slots);
		r = -ENOMEM;
		goto fail;
	}
	*out = v;
	return 0;
fail:
	merkle_params_fini(&v->vp);
fail_params:
	free(v);
	return r;
}

UVFS_API void uvfs_verity_close(struct uvfs_verity_verifier *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nslots; i++)
		free(v->slots[i].buf);
	free(v->slots);
	while (v->idle) {
		struct worker *w = v->idle;
		v->idle = w->next;
		worker_free(w);
	}
	pthread_mutex_destroy(&v->lock);
	merkle_params_fini(&v->vp);
	free(v);
}

UVFS_API uint64_t uvfs_verity_data_size(const struct uvfs_verity_verifier *v)
{
	return v ? v->size : 0;
}

UVFS_API void uvfs_verity_get_stats(struct uvfs_verity_verifier *v, struct uvfs_verity_stats *s)
{
	if (!v || !s)
		return;
	pthread_mutex_lock(&v->lock);
	*s = v->stats;
	pthread_mutex_unlock(&v->lock);
}

/* Verifies data blocks [first, first+n) whose contents are at src (n*B
 * bytes except that the file's last block may be short: len bytes total). */
static int check_blocks(struct uvfs_verity_verifier *v, struct worker *w, uint64_t first,
			const uint8_t *src, size_t len)
{
	const struct vparams *vp = &v->vp;
	uint64_t hmask = ((uint64_t)1 << vp->log_hpb) - 1;
	uint64_t leaf_idx = UINT64_MAX;
	uint64_t last = first + ((len - 1) >> vp->log_bs); /* len > 0 */
	uint8_t got[UVFS_VERITY_MAX_DIGEST];
	int r;

	for (size_t o = 0; o < len; o += vp->bs) {
		uint64_t b = first + (o >> vp->log_bs);
		size_t n = len - o < vp->bs ? len - o : vp->bs;
		const uint8_t *want;

		r = merkle_hash_block(&w->h, src + o, n, got);
		if (r)
			return r;
		if (v->g.levels == 0) {
			want = v->root;
		} else {
			if ((b >> vp->log_hpb) != leaf_idx) {
				/* Fetch the hashes of blocks b..min(last, end of
				 * this leaf) in one go. */
				leaf_idx = b >> vp->log_hpb;
				uint64_t upto = (b | hmask) < last ? (b | hmask) : last;
				r = get_leaf(v, w, leaf_idx, (size_t)(b & hmask) * vp->ds,
					     (size_t)(upto - b + 1) * vp->ds, w->leaf);
				if (r)
					return r;
			}
			want = w->leaf + (size_t)(b & hmask) * vp->ds;
		}
		if (memcmp(got, want, vp->ds))
			return -EIO;
		w->data_blocks++;
	}
	return 0;
}

/* Reads and verifies [off, off+len) (already clipped to the file). Whole
 * blocks are read straight into buf; a partial head or tail block goes
 * through w->dblk. */
static int read_range(struct uvfs_verity_verifier *v, struct worker *w, uint8_t *buf, size_t len,
		      uint64_t off)
{
	const struct vparams *vp = &v->vp;
	uint64_t bmask = vp->bs - 1;
	uint64_t end = off + len;
	int r;

	while (off < end) {
		uint64_t b = off >> vp->log_bs;
		uint64_t bstart = b << vp->log_bs;
		uint64_t bend = bstart + vp->bs;
		if (bend > v->size)
			bend = v->size;
		if ((off & bmask) == 0 && (end >= bend)) {
			/* Run of whole blocks (the file's short last block
			 * counts as whole: it ends at EOF). */
			uint64_t run_end = end >= v->size ? v->size : (end & ~bmask);
			size_t n = (size_t)(run_end - off);
			r = read_exact(v->read_data, v->data_ctx, buf, n, off);
			if (r)
				return r;
			r = check_blocks(v, w, b, buf, n);
			if (r)
				return r;
			buf += n;
			off += n;
		} else {
			size_t blen = (size_t)(bend - bstart);
			r = read_exact(v->read_data, v->data_ctx, w->dblk, blen, bstart);
			if (r)
				return r;
			r = check_blocks(v, w, b, w->dblk, blen);
			if (r)
				return r;
			size_t take = (size_t)((end < bend ? end : bend) - off);
			memcpy(buf, w->dblk + (off - bstart), take);
			buf += take;
			off += take;
		}
	}
	return 0;
}

UVFS_API ssize_t uvfs_verity_read(struct uvfs_verity_verifier *v, void *buf, size_t len,
				  uint64_t off)
{
	if (!v || (!buf && len))
		return -EINVAL;
	if (off >= v->size || len == 0)
		return 0;
	if (len > v->size - off)
		len = (size_t)(v->size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;

	struct worker *w = worker_get(v);
	if (!w)
		return -ENOMEM;
	int r = read_range(v, w, buf, len, off);
	worker_put(v, w);
	if (r) {
		memset(buf, 0, len); /* never leave unverified bytes behind */
		return r;
	}
	return (ssize_t)len;
}

UVFS_API int uvfs_verity_verify_all(struct uvfs_verity_verifier *v)
{
	if (!v)
		return -EINVAL;
	size_t chunk = (size_t)1 << 20;
	uint8_t *buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	int r = 0;
	for (uint64_t off = 0; off < v->size;) {
		ssize_t n = uvfs_verity_read(v, buf, chunk, off);
		if (n <= 0) {
			r = n < 0 ? (int)n : -EIO;
			break;
		}
		off += (uint64_t)n;
	}
	free(buf);
	return r;
}
