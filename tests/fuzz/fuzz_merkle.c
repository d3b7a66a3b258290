/* tests/fuzz/fuzz_merkle.c — differential fuzzing of the builder.
 *
 * Input: 1 byte algorithm/block-size selector, 1 byte salt length, salt,
 * then the file data. The tree is built three ways — from a buffer, through
 * a reader that returns short reads of input-chosen lengths, and on
 * several threads — and all must agree; the verifier must then return the
 * data unchanged. Any disagreement aborts. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/verity/merkle/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

struct choppy {
	const uint8_t *data;
	size_t size;
	unsigned step; /* max bytes per read call */
};

/* Returns between 1 and step bytes: exercises callers' short-read loops. */
static ssize_t choppy_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct choppy *c = ctx;
	if (off >= c->size)
		return 0;
	size_t n = c->size - off;
	if (n > len)
		n = len;
	size_t lim = 1 + (size_t)((off * 2654435761u) % c->step);
	if (n > lim)
		n = lim;
	memcpy(buf, c->data + off, n);
	return (ssize_t)n;
}

static void same(const struct uvfs_merkle_result *a, const struct uvfs_merkle_result *b)
{
	if (a->tree_size != b->tree_size || memcmp(a->digest, b->digest, a->digest_size) ||
	    memcmp(a->descriptor, b->descriptor, UVFS_VERITY_DESC_SIZE) ||
	    (a->tree_size && memcmp(a->tree, b->tree, a->tree_size)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	if (n < 2)
		return 0;
	unsigned sel = in[0];
	size_t salt_size = in[1] % 34; /* 33 is invalid on purpose */
	in += 2;
	n -= 2;
	if (salt_size > n)
		salt_size = n;
	const uint8_t *salt = in;
	in += salt_size;
	n -= salt_size;

	struct uvfs_merkle_params p = { 1 + (sel & 1), 1024u << ((sel >> 1) % 8), salt, salt_size,
					1 };
	struct uvfs_merkle_result a, b, c;
	int ra = uvfs_merkle_build_buf(&p, in, n, &a);
	bool valid = salt_size <= 32 && p.block_size <= 65536;
	if (ra != (valid ? 0 : -EINVAL))
		abort();
	if (ra)
		return 0;
	struct choppy ch = { in, n, 1 + (sel >> 4) * 97 };
	if (uvfs_merkle_build(&p, choppy_read, &ch, n, &b))
		abort();
	same(&a, &b);
	p.threads = 3;
	struct uvfs_merkle_mem m = { in, n };
	if (uvfs_merkle_build(&p, uvfs_merkle_mem_read, &m, n, &c))
		abort();
	same(&a, &c);

	/* Round trip through the verifier, tree read in choppy pieces too. */
	struct choppy tc = { a.tree, a.tree_size, 7 };
	struct uvfs_verity_open_args oa = {
		.hash_alg = a.hash_alg, .digest = a.digest, .digest_size = a.digest_size,
		.descriptor = a.descriptor, .descriptor_size = UVFS_VERITY_DESC_SIZE,
		.read_tree = choppy_read, .tree_ctx = &tc,
		.read_data = choppy_read, .data_ctx = &ch,
		.cache_bytes = sel & 8 ? 1 : 0,
	};
	struct uvfs_verity_verifier *v;
	if (uvfs_verity_open(&oa, &v))
		abort();
	uint8_t *buf = malloc(n + 1);
	if (!buf)
		abort();
	uint64_t off = n ? (uint64_t)(sel * 31u) % n : 0;
	ssize_t got = uvfs_verity_read(v, buf, n + 1, off);
	if (got != (ssize_t)(n - off) || memcmp(buf, in + off, n - off))
		abort();
	free(buf);
	uvfs_verity_close(v);
	uvfs_merkle_result_free(&a);
	uvfs_merkle_result_free(&b);
	uvfs_merkle_result_free(&c);
	return 0;
}
