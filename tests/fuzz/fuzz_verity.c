/* tests/fuzz/fuzz_verity.c — the verifier on hostile input.
 *
 * Input layout: 256-byte descriptor | le16 tree length | tree | data.
 * The trusted digest is taken as the hash of the given descriptor, so the
 * fuzzer gets past the digest check and reaches descriptor validation,
 * geometry and the tree walk with arbitrary sizes, salts and trees. Every
 * read must return verified bytes equal to the data given, or an error;
 * never crash, over-read or leak. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/verity/merkle/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	uint8_t desc[256] = { 0 }, dig[64];
	size_t take = n < 256 ? n : 256;
	memcpy(desc, in, take);
	in += take;
	n -= take;
	size_t tlen = 0;
	if (n >= 2) {
		tlen = (size_t)in[0] | (size_t)in[1] << 8;
		in += 2;
		n -= 2;
	}
	if (tlen > n)
		tlen = n;
	struct uvfs_merkle_mem tm = { in, tlen }, dm = { in + tlen, n - tlen };

	unsigned alg = desc[1] == 2 ? 2 : 1;
	EVP_Digest(desc, 256, dig, NULL, alg == 2 ? EVP_sha512() : EVP_sha256(), NULL);
	struct uvfs_verity_open_args a = {
		.hash_alg = alg, .digest = dig, .digest_size = uvfs_verity_digest_size(alg),
		.descriptor = desc, .descriptor_size = 256,
		.read_tree = uvfs_merkle_mem_read, .tree_ctx = &tm,
		.read_data = uvfs_merkle_mem_read, .data_ctx = &dm,
		.cache_bytes = (size_t)(desc[200] & 3) << 12, /* 0 (default) .. 3 blocks of 4K */
	};
	struct uvfs_verity_verifier *v = NULL;
	int r = uvfs_verity_open(&a, &v);
	if (r) {
		if (r != -EIO && r != -EINVAL)
			abort();
		return 0;
	}
	uint64_t size = uvfs_verity_data_size(v);
	uint8_t buf[5000];
	/* A few reads: start, a spot derived from the input, and the end. */
	uint64_t offs[3] = { 0, size / 3, size > 100 ? size - 100 : 0 };
	for (int i = 0; i < 3; i++) {
		ssize_t got = uvfs_verity_read(v, buf, sizeof(buf), offs[i]);
		if (got > 0) {
			/* Verified bytes must be exactly the data supplied. */
			if (offs[i] + (uint64_t)got > dm.size ||
			    memcmp(buf, (const uint8_t *)dm.data + offs[i], (size_t)got))
				abort();
		} else if (got < 0 && got != -EIO) {
			abort();
		}
	}
	if (size <= (1u << 20))
		(void)uvfs_verity_verify_all(v);
	uvfs_verity_close(v);
	return 0;
}
