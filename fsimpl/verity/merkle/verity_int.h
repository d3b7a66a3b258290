/* fsimpl/verity/verity_int.h — internals shared by the verity sources
 * (hashing, geometry, descriptor). Nothing here is exported from the
 * library: the library is built with -fvisibility=hidden. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "fsimpl/verity/merkle/merkle.h"

/* Library-internal: never exported, whatever the build's visibility flags. */
#pragma GCC visibility push(hidden)

/* Enough for any legal file: B >= 1024 and digest <= 64 give >= 16 hashes
 * per block, so 2^64 bytes need at most 14 levels. */
#define VERITY_MAX_LEVELS 16
/* Largest hash input block (SHA-512: 128 bytes), for the padded salt. */
#define VERITY_MAX_HASH_INPUT 128

/* One configured hash: algorithm, block size and salt. Immutable after
 * merkle_params_init(), so it may be shared by threads. */
struct vparams {
	unsigned alg;
	unsigned ds;        /* digest size */
	unsigned bs;        /* Merkle block size B */
	unsigned log_bs;
	unsigned log_hpb;   /* log2(hashes per block) */
	size_t salt_size;   /* raw salt length */
	size_t padded_salt_size; /* 0 or a multiple of the hash input block */
	uint8_t salt[UVFS_VERITY_MAX_SALT];
	uint8_t padded_salt[VERITY_MAX_HASH_INPUT];
	EVP_MD *md;         /* fetched once; refcounted, thread-safe to share */
};

int merkle_params_init(struct vparams *vp, unsigned alg, unsigned bs, const uint8_t *salt,
		 size_t salt_size);
void merkle_params_fini(struct vparams *vp);

/* A per-thread hashing context. */
struct vhasher {
	const struct vparams *vp;
	EVP_MD_CTX *ctx;
	EVP_MD_CTX *salted; /* state after the padded salt; NULL when unsalted */
};

int merkle_hasher_init(struct vhasher *h, const struct vparams *vp);
void merkle_hasher_fini(struct vhasher *h);
/* out = H(padded_salt || blk zero-padded to B); len <= B. */
int merkle_hash_block(struct vhasher *h, const void *blk, size_t len, uint8_t *out);
/* Unsalted one-shot hash, for the descriptor -> file digest step. */
int merkle_hash_plain(const struct vparams *vp, const void *p, size_t n, uint8_t *out);

/* Tree geometry for a given file size. Level 0 hashes data blocks; level
 * levels-1 is the single top block hashed into the root. */
struct vgeom {
	uint64_t data_blocks;
	unsigned levels;
	uint64_t level_blocks[VERITY_MAX_LEVELS]; /* blocks in level L */
	uint64_t level_start[VERITY_MAX_LEVELS];  /* first block of level L in storage */
	uint64_t tree_blocks;
};

int merkle_geom_compute(const struct vparams *vp, uint64_t size, struct vgeom *g);

void merkle_desc_encode(const struct vparams *vp, uint64_t size, const uint8_t *root,
		  uint8_t desc[UVFS_VERITY_DESC_SIZE]);

/* Level 0: hashes of the data blocks of [0, size) (read through read, or
 * in place from mem) into dst, on up to threads threads (build.c). */
int merkle_hash_leaves(const struct vparams *vp, uvfs_merkle_read_fn read, void *ctx, const uint8_t *mem,
		       uint64_t size, unsigned threads, uint8_t *dst);

/* Zeroes used to pad short blocks. */
extern const uint8_t merkle_zero_block[UVFS_VERITY_MAX_BLOCK];

#pragma GCC visibility pop
