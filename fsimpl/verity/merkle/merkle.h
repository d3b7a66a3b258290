/* fsimpl/verity/merkle.h — Merkle trees in the Linux fs-verity format.
 *
 * Builds and checks the exact trees, descriptors and file digests of Linux
 * fs-verity (Documentation/filesystems/fsverity.rst), so a digest computed
 * here equals what `fsverity digest` prints and what the kernel measures.
 *
 * Format summary (the why of every constant below):
 *   - every hashed item is one block of B bytes (B a power of two,
 *     1024..65536), short input zero-padded to B;
 *   - with a salt, H(salt zero-padded to the hash's input block size ‖ block);
 *   - level 0 hashes the data blocks, each next level hashes the previous
 *     level's blocks, until a level fits in one block; the root hash is the
 *     hash of that block and is not part of the stored tree;
 *   - the tree is stored root-most level first, leaf level last;
 *   - the 256-byte descriptor records version, algorithm, log2(B), salt,
 *     data size and root hash; the file digest is the plain (unsalted) hash
 *     of the descriptor.
 *
 * Errors are negative errno values. Verification failures are -EIO.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef UVFS_API
#define UVFS_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Hash algorithm ids, as in the kernel's FS_VERITY_HASH_ALG_*. */
#define UVFS_VERITY_HASH_SHA256 1
#define UVFS_VERITY_HASH_SHA512 2

#define UVFS_VERITY_MAX_DIGEST 64 /* SHA-512 */
#define UVFS_VERITY_MAX_SALT 32
#define UVFS_VERITY_DESC_SIZE 256
#define UVFS_VERITY_MIN_BLOCK 1024
#define UVFS_VERITY_MAX_BLOCK 65536
#define UVFS_VERITY_DEFAULT_BLOCK 4096

/* Reads up to len bytes at offset off into buf. Returns the number of bytes
 * read (short only at end of file), or a negative errno. Used for both file
 * data and stored trees. */
typedef ssize_t (*uvfs_merkle_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

/* Tree parameters. hash_alg 0 means SHA-256; block_size 0 means 4096. */
struct uvfs_merkle_params {
	unsigned hash_alg;
	unsigned block_size;
	const uint8_t *salt; /* may be NULL when salt_size == 0 */
	size_t salt_size;    /* 0..32 */
	/* uvfs_merkle_build only: 0 or 1 = hash in the calling thread; N > 1 =
	 * up to N threads (capped at 64), each calling the reader on its own
	 * disjoint ranges, so the reader must then be thread-safe (the
	 * mem and fd readers below are). The result is identical. */
	unsigned threads;
};

/* Everything uvfs_merkle_build() produces. tree is malloc'ed (NULL when the
 * tree is empty, i.e. size <= block size); free it with
 * uvfs_merkle_result_free(). */
struct uvfs_merkle_result {
	uint8_t *tree;       /* stored order: root-most level first */
	size_t tree_size;    /* bytes; a multiple of the block size */
	unsigned levels;     /* number of tree levels (0 when size <= B) */
	unsigned hash_alg;
	unsigned digest_size; /* 32 or 64 */
	uint8_t root_hash[UVFS_VERITY_MAX_DIGEST];
	uint8_t descriptor[UVFS_VERITY_DESC_SIZE];
	uint8_t digest[UVFS_VERITY_MAX_DIGEST]; /* the fs-verity file digest */
};

/* Builds the tree over size bytes read through read(ctx, ...). Fails with
 * -EINVAL for bad parameters, -EIO if the reader returns fewer than size
 * bytes, -ENOMEM, -EFBIG if the tree would not fit in memory, or the reader's
 * own negative errno. On failure *out holds no allocation. */
UVFS_API int uvfs_merkle_build(const struct uvfs_merkle_params *p, uvfs_merkle_read_fn read,
			       void *ctx, uint64_t size, struct uvfs_merkle_result *out);
/* The same for a file already in memory: hashes in place, without copying
 * through a reader (about 10% faster). params.threads applies here too. */
UVFS_API int uvfs_merkle_build_buf(const struct uvfs_merkle_params *p, const void *data,
				   size_t size, struct uvfs_merkle_result *out);
UVFS_API void uvfs_merkle_result_free(struct uvfs_merkle_result *r);
/* The same result without the tree (out->tree NULL, tree_size 0): streams
 * the file in bounded memory whatever its size (a 1 MiB read buffer per
 * thread, 256 KiB of leaf hashes, one block per level). */
UVFS_API int uvfs_merkle_digest(const struct uvfs_merkle_params *p, uvfs_merkle_read_fn read, void *ctx,
				uint64_t size, struct uvfs_merkle_result *out);

/* Geometry without hashing: number of levels and stored tree size for a file
 * of size bytes. -EINVAL for bad parameters, -EFBIG on overflow. */
UVFS_API int uvfs_merkle_tree_size(const struct uvfs_merkle_params *p, uint64_t size,
				   unsigned *levels, uint64_t *tree_size);

/* Digest size of an algorithm id, or 0 if unknown. */
UVFS_API unsigned uvfs_verity_digest_size(unsigned hash_alg);
/* "sha256" / "sha512" / NULL, and the reverse (0 if unknown). */
UVFS_API const char *uvfs_verity_hash_name(unsigned hash_alg);
UVFS_API unsigned uvfs_verity_hash_by_name(const char *name);

/* Decoded descriptor. */
struct uvfs_verity_descriptor {
	unsigned version;
	unsigned hash_alg;
	unsigned log_block_size;
	unsigned salt_size;
	uint64_t data_size;
	uint8_t root_hash[UVFS_VERITY_MAX_DIGEST];
	uint8_t salt[UVFS_VERITY_MAX_SALT];
};

/* Parses and strictly validates a 256-byte descriptor (version 1, known
 * algorithm, block size in range, reserved bytes and unused fill zero).
 * -EINVAL if malformed. */
UVFS_API int uvfs_verity_descriptor_parse(const uint8_t desc[UVFS_VERITY_DESC_SIZE],
					  struct uvfs_verity_descriptor *d);

/* Verifier: reads byte ranges of a file and returns only bytes proven to
 * match a trusted file digest. */
struct uvfs_verity_verifier;

struct uvfs_verity_open_args {
	/* The trusted value: algorithm and file digest (e.g. from a signed
	 * manifest). The descriptor must hash to exactly this. */
	unsigned hash_alg;
	const uint8_t *digest;
	size_t digest_size;
	/* The untrusted descriptor (256 bytes) stored with the file. */
	const uint8_t *descriptor;
	size_t descriptor_size;
	/* Untrusted tree (stored order) and data, read on demand. */
	uvfs_merkle_read_fn read_tree;
	void *tree_ctx;
	uvfs_merkle_read_fn read_data;
	void *data_ctx;
	/* Bound on cached verified tree blocks, in bytes; 0 = default (16 MiB).
	 * Trees at most this large are cached whole, so every tree block is
	 * verified at most once. */
	size_t cache_bytes;
};

/* Creates a verifier. The descriptor is checked against the trusted digest
 * here: -EIO if it does not match or is malformed, -EINVAL for bad
 * arguments (unknown algorithm, NULL callbacks, wrong sizes). Nothing of the
 * tree or data is read yet. */
UVFS_API int uvfs_verity_open(const struct uvfs_verity_open_args *a,
			      struct uvfs_verity_verifier **out);

/* Reads up to len bytes at off, verifying every data block touched and the
 * tree blocks on their path to the root (stopping at blocks already verified
 * and cached). Returns bytes read (0 at or past EOF, short only at EOF),
 * -EIO on any mismatch or short/failed read of data or tree (buf contents are
 * then unspecified and must not be used), or the reader's negative errno.
 * Thread-safe: concurrent reads on one verifier are allowed; the cache is
 * protected by an internal mutex. */
UVFS_API ssize_t uvfs_verity_read(struct uvfs_verity_verifier *v, void *buf, size_t len,
				  uint64_t off);

/* Verifies the whole file. 0 or -EIO (or reader errno). */
UVFS_API int uvfs_verity_verify_all(struct uvfs_verity_verifier *v);

UVFS_API uint64_t uvfs_verity_data_size(const struct uvfs_verity_verifier *v);

/* Counters for tests and benches. */
struct uvfs_verity_stats {
	uint64_t data_blocks_verified;
	uint64_t tree_blocks_verified; /* tree blocks read and hashed */
	uint64_t cache_hits;
	/* uvfs_verity_file_stats only (0 from a bare verifier): bytes of
	 * verified data blocks the whole verity mount keeps (its data_cache=
	 * LRU). */
	uint64_t data_cache_bytes;
};
UVFS_API void uvfs_verity_get_stats(struct uvfs_verity_verifier *v, struct uvfs_verity_stats *s);

UVFS_API void uvfs_verity_close(struct uvfs_verity_verifier *v);

/* A reader over a memory buffer, for trees or data already in memory. */
struct uvfs_merkle_mem {
	const void *data;
	size_t size;
};
UVFS_API ssize_t uvfs_merkle_mem_read(void *ctx, void *buf, size_t len, uint64_t off);

/* A reader over a file descriptor (pread, retrying EINTR and short reads);
 * ctx points to an int holding the fd. */
UVFS_API ssize_t uvfs_merkle_fd_read(void *ctx, void *buf, size_t len, uint64_t off);

#ifdef __cplusplus
}
#endif
