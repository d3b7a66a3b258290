/* tests/verity/test_verify.c — the verifier: correct bytes for any range,
 * each tree block verified once on a sequential read, and -EIO (never wrong
 * bytes) for a flipped bit in data, any tree level, the descriptor, the
 * trusted digest, or a truncated file or tree. */
#include <openssl/evp.h>
#include <pthread.h>

#include "verity_test_util.h"

/* A built file plus mutable copies of what the verifier will read. */
struct fx {
	uint8_t *data;
	size_t n;
	struct uvfs_merkle_params p;
	uint8_t salt[32];
	struct uvfs_merkle_result r;
	struct uvfs_merkle_mem dm, tm;
	uint8_t *tree; /* copy of r.tree, may be tampered */
	uint8_t desc[256];
	uint8_t digest[64];
};

static void fx_init(struct fx *f, size_t n, unsigned alg, unsigned bs, size_t salt_size,
		    uint64_t *s)
{
	memset(f, 0, sizeof(*f));
	f->n = n;
	f->data = malloc(n ? n : 1);
	cr_assert_not_null(f->data);
	vt_fill_random(f->data, n, s);
	vt_fill_random(f->salt, salt_size, s);
	f->p = (struct uvfs_merkle_params){ alg, bs, f->salt, salt_size, 0 };
	cr_assert_eq(vt_build_mem(f->data, n, &f->p, &f->r), 0);
	f->tree = malloc(f->r.tree_size ? f->r.tree_size : 1);
	cr_assert_not_null(f->tree);
	if (f->r.tree_size)
		memcpy(f->tree, f->r.tree, f->r.tree_size);
	memcpy(f->desc, f->r.descriptor, 256);
	memcpy(f->digest, f->r.digest, f->r.digest_size);
	f->dm = (struct uvfs_merkle_mem){ f->data, n };
	f->tm = (struct uvfs_merkle_mem){ f->tree, f->r.tree_size };
}

static void fx_fini(struct fx *f)
{
	free(f->data);
	free(f->tree);
	uvfs_merkle_result_free(&f->r);
}

static int fx_open(struct fx *f, size_t cache, struct uvfs_verity_verifier **v)
{
	struct uvfs_verity_open_args a = {
		.hash_alg = f->r.hash_alg, .digest = f->digest, .digest_size = f->r.digest_size,
		.descriptor = f->desc, .descriptor_size = 256,
		.read_tree = uvfs_merkle_mem_read, .tree_ctx = &f->tm,
		.read_data = uvfs_merkle_mem_read, .data_ctx = &f->dm,
		.cache_bytes = cache,
	};
	return uvfs_verity_open(&a, v);
}

static struct uvfs_verity_verifier *fx_open_ok(struct fx *f, size_t cache)
{
	struct uvfs_verity_verifier *v = NULL;
	int r = fx_open(f, cache, &v);
	cr_assert_eq(r, 0, "open = %d", r);
	cr_assert_not_null(v);
	return v;
}

/* Reads [off, off+len) and checks it matches the original data. */
static void read_ok(struct uvfs_verity_verifier *v, struct fx *f, uint64_t off, size_t len,
		    uint64_t seed)
{
	uint8_t *buf = malloc(len ? len : 1);
	cr_assert_not_null(buf);
	ssize_t got = uvfs_verity_read(v, buf, len, off);
	size_t want = off >= f->n ? 0 : (f->n - off < len ? (size_t)(f->n - off) : len);
	cr_assert_eq(got, (ssize_t)want, "seed=%llu n=%zu read(%llu,%zu) = %zd, want %zu",
		     (unsigned long long)seed, f->n, (unsigned long long)off, len, got, want);
	if (want)
		cr_assert_eq(memcmp(buf, f->data + off, want), 0, "seed=%llu bytes differ at %llu",
			     (unsigned long long)seed, (unsigned long long)off);
	free(buf);
}

/* Reads [off, off+len) expecting -EIO and an all-zero buffer. */
static void read_eio(struct uvfs_verity_verifier *v, uint64_t off, size_t len, const char *what)
{
	uint8_t *buf = malloc(len);
	cr_assert_not_null(buf);
	memset(buf, 0xa5, len);
	ssize_t got = uvfs_verity_read(v, buf, len, off);
	cr_assert_eq(got, -EIO, "%s: read(%llu,%zu) = %zd, want -EIO", what,
		     (unsigned long long)off, len, got);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], 0, "%s: byte %zu left in buffer after EIO", what, i);
	free(buf);
}

static uint64_t tree_blocks(const struct fx *f)
{
	return f->r.tree_size / (f->p.block_size ? f->p.block_size : 4096);
}

/* ------------------------------------------------------------ correctness */

Test(verify, random_ranges_return_the_data, .timeout = 300)
{
	uint64_t seed = vt_seed(), s = seed;
	for (int iter = 0; iter < 30; iter++) {
		unsigned alg = 1 + (unsigned)(vt_rand(&s) % 2);
		unsigned bs = 1024u << (vt_rand(&s) % 7);
		size_t hpb = bs / uvfs_verity_digest_size(alg);
		size_t sizes[] = { 0, 1, bs - 1, bs, bs + 1, hpb * bs + 1,
				   (size_t)(vt_rand(&s) % (6u << 20)) };
		size_t n = sizes[iter % 7];
		struct fx f;
		fx_init(&f, n, alg, bs, (size_t)(vt_rand(&s) % 33), &s);
		struct uvfs_verity_verifier *v = fx_open_ok(&f, 0);
		cr_expect_eq(uvfs_verity_data_size(v), n);
		read_ok(v, &f, 0, n + 10, seed); /* whole file, asking past EOF */
		for (int k = 0; k < 40; k++) {
			uint64_t off = n ? vt_rand(&s) % (n + 2) : vt_rand(&s) % 3;
			size_t len = (size_t)(vt_rand(&s) % (3 * bs));
			read_ok(v, &f, off, len, seed);
		}
		read_ok(v, &f, (uint64_t)n + 5, 100, seed);
		read_ok(v, &f, UINT64_MAX - 3, 100, seed);
		cr_expect_eq(uvfs_verity_verify_all(v), 0);
		uvfs_verity_close(v);
		fx_fini(&f);
	}
}

/* A sequential read hashes each tree block exactly once, and a second pass
 * hashes none (all cached). */
Test(verify, sequential_read_verifies_each_tree_block_once)
{
	uint64_t seed = vt_seed(), s = seed;
	struct {
		unsigned alg, bs;
		size_t n;
	} cases[] = {
		{ 1, 4096, 3u << 20 },          /* 2 levels */
		{ 1, 1024, (5u << 20) + 777 },  /* 3 levels */
		{ 2, 1024, (1u << 20) + 1 },    /* 4 levels (16 hashes per block) */
		{ 2, 65536, 9u << 20 },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct fx f;
		fx_init(&f, cases[c].n, cases[c].alg, cases[c].bs, 7, &s);
		struct uvfs_verity_verifier *v = fx_open_ok(&f, 0);
		struct uvfs_verity_stats st;
		size_t chunk = cases[c].bs * 3;
		for (uint64_t off = 0; off < f.n; off += chunk)
			read_ok(v, &f, off, chunk, seed);
		uvfs_verity_get_stats(v, &st);
		uint64_t nblocks = (f.n + cases[c].bs - 1) / cases[c].bs;
		cr_expect_eq(st.tree_blocks_verified, tree_blocks(&f), "case %zu: %llu vs %llu", c,
			     (unsigned long long)st.tree_blocks_verified,
			     (unsigned long long)tree_blocks(&f));
		cr_expect_eq(st.data_blocks_verified, nblocks, "case %zu", c);
		/* Unaligned second pass: data is re-hashed, the tree is not. */
		for (uint64_t off = 100; off < f.n; off += chunk)
			read_ok(v, &f, off, chunk, seed);
		struct uvfs_verity_stats st2;
		uvfs_verity_get_stats(v, &st2);
		cr_expect_eq(st2.tree_blocks_verified, st.tree_blocks_verified, "case %zu", c);
		cr_expect_gt(st2.data_blocks_verified, st.data_blocks_verified);
		uvfs_verity_close(v);
		fx_fini(&f);
	}
}

/* Counts what a reader hands out, to check which blocks a read touches. */
struct counting {
	struct uvfs_merkle_mem m;
	uint64_t calls, bytes;
	uint64_t offs[64];
};

static ssize_t counting_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct counting *c = ctx;
	if (c->calls < 64)
		c->offs[c->calls] = off;
	c->calls++;
	ssize_t r = uvfs_merkle_mem_read(&c->m, buf, len, off);
	if (r > 0)
		c->bytes += (uint64_t)r;
	return r;
}

/* A small read on a fresh verifier reads one data block and exactly one
 * tree block per level (the path to the root); a second read in the same
 * leaf reads no tree block at all. */
Test(verify, reads_only_the_blocks_it_needs)
{
	uint64_t seed = vt_seed(), s = seed;
	unsigned bs = 1024;
	struct fx f;
	fx_init(&f, (5u << 20) + 99, 2, bs, 0, &s); /* SHA-512/1K: 16 per block, 4 levels */
	cr_assert_eq(f.r.levels, 4);
	struct counting dc = { { f.data, f.n }, 0, 0, { 0 } };
	struct counting tc = { { f.tree, f.r.tree_size }, 0, 0, { 0 } };
	struct uvfs_verity_open_args a = {
		.hash_alg = 2, .digest = f.digest, .digest_size = 64,
		.descriptor = f.desc, .descriptor_size = 256,
		.read_tree = counting_read, .tree_ctx = &tc,
		.read_data = counting_read, .data_ctx = &dc,
	};
	struct uvfs_verity_verifier *v = NULL;
	cr_assert_eq(uvfs_verity_open(&a, &v), 0);
	cr_expect_eq(dc.calls + tc.calls, 0, "open reads nothing");
	uint64_t off = 3u << 20; /* data block 3072 */
	read_ok(v, &f, off + 5, 10, seed);
	cr_expect_eq(dc.bytes, bs, "one data block read");
	cr_expect_eq(dc.offs[0], off);
	cr_expect_eq(tc.bytes, 4 * bs, "one tree block per level, got %llu bytes",
		     (unsigned long long)tc.bytes);
	/* Storage order is root-most first: the walk reads top down. The
	 * blocks are level 3 block 0, level 2 block 3072/16^3 = 0, level 1
	 * block 3072/16^2 = 12, level 0 block 3072/16 = 192. */
	uint64_t nb = (f.n + bs - 1) / bs, cnt[4], start[4], acc = 0;
	for (unsigned l = 0; l < 4; l++)
		cnt[l] = nb = (nb + 15) / 16;
	for (unsigned l = 4; l-- > 0;) {
		start[l] = acc;
		acc += cnt[l];
	}
	uint64_t want[4] = { start[3], start[2], start[1] + 12, start[0] + 192 };
	for (unsigned i = 0; i < 4 && i < tc.calls; i++)
		cr_expect_eq(tc.offs[i], want[i] * bs, "tree read %u at block %llu, want %llu", i,
			     (unsigned long long)(tc.offs[i] / bs), (unsigned long long)want[i]);
	/* Same leaf (blocks 3072..3087): only the data blocks are read. */
	uint64_t tb = tc.bytes;
	read_ok(v, &f, off + 8 * bs, 3 * bs, seed);
	cr_expect_eq(tc.bytes, tb, "no tree reads within a verified leaf");
	cr_expect_eq(dc.bytes, bs + 3 * bs, "just the 3 data blocks touched");
	/* Next leaf: only its level-0 block is new. */
	read_ok(v, &f, off + 20 * bs, 1, seed);
	cr_expect_eq(tc.bytes, tb + bs);
	uvfs_verity_close(v);
	fx_fini(&f);
}

/* With a one-block cache everything is still correct and checked. */
Test(verify, tiny_cache_still_correct)
{
	uint64_t seed = vt_seed(), s = seed;
	struct fx f;
	fx_init(&f, (3u << 20) + 5, 2, 1024, 3, &s);
	struct uvfs_verity_verifier *v = fx_open_ok(&f, 1);
	for (int k = 0; k < 200; k++)
		read_ok(v, &f, vt_rand(&s) % f.n, (size_t)(vt_rand(&s) % 9000), seed);
	cr_expect_eq(uvfs_verity_verify_all(v), 0);
	uvfs_verity_close(v);
	/* and a tampered leaf-level block is still caught */
	f.tree[f.r.tree_size - 1000] ^= 0x10;
	v = fx_open_ok(&f, 1);
	cr_expect_eq(uvfs_verity_verify_all(v), -EIO);
	uvfs_verity_close(v);
	fx_fini(&f);
}

/* Trees and descriptors made by the fsverity tool verify here. */
Test(verify, accepts_fsverity_tool_output)
{
	uint64_t seed = vt_seed(), s = seed;
	for (int iter = 0; iter < 6; iter++) {
		struct fx f;
		unsigned alg = 1 + (unsigned)(iter % 2);
		unsigned bs = 1024u << (vt_rand(&s) % 7);
		fx_init(&f, (size_t)(vt_rand(&s) % (3u << 20)), alg, bs, (size_t)(vt_rand(&s) % 33), &s);
		struct vt_oracle o;
		vt_oracle_run(f.data, f.n, &f.p, &o);
		const char *hex = strchr(o.digest, ':') + 1;
		uint8_t dig[64];
		for (size_t i = 0; i < f.r.digest_size; i++)
			sscanf(hex + 2 * i, "%2hhx", &dig[i]);
		struct uvfs_merkle_mem tm = { o.tree, o.tree_size };
		struct uvfs_verity_open_args a = {
			.hash_alg = alg, .digest = dig, .digest_size = f.r.digest_size,
			.descriptor = o.desc, .descriptor_size = o.desc_size,
			.read_tree = uvfs_merkle_mem_read, .tree_ctx = &tm,
			.read_data = uvfs_merkle_mem_read, .data_ctx = &f.dm,
		};
		struct uvfs_verity_verifier *v = NULL;
		cr_assert_eq(uvfs_verity_open(&a, &v), 0, "seed=%llu", (unsigned long long)seed);
		read_ok(v, &f, 0, f.n, seed);
		uvfs_verity_close(v);
		vt_oracle_free(&o);
		fx_fini(&f);
	}
}

/* ------------------------------------------------------------ tampering */

Test(tamper, data_blocks)
{
	uint64_t seed = vt_seed(), s = seed;
	unsigned bs = 4096;
	struct fx f;
	fx_init(&f, 200 * 4096 + 123, 1, bs, 5, &s); /* last block is short */
	uint64_t nb = (f.n + bs - 1) / bs;
	uint64_t victims[] = { 0, 1, 127, 128, nb / 2, nb - 2, nb - 1 };
	for (size_t i = 0; i < sizeof(victims) / sizeof(victims[0]); i++) {
		uint64_t b = victims[i];
		uint64_t bstart = b * bs, blen = b == nb - 1 ? f.n - bstart : bs;
		uint64_t pos = bstart + vt_rand(&s) % blen;
		uint8_t bit = (uint8_t)(1u << (vt_rand(&s) % 8));
		f.data[pos] ^= bit;
		struct uvfs_verity_verifier *v = fx_open_ok(&f, 0);
		char what[64];
		snprintf(what, sizeof(what), "seed=%llu data block %llu", (unsigned long long)seed,
			 (unsigned long long)b);
		read_eio(v, pos, 1, what);               /* the byte itself */
		read_eio(v, bstart, (size_t)blen, what); /* the whole block */
		read_eio(v, 0, f.n, what);               /* a read spanning it */
		cr_expect_eq(uvfs_verity_verify_all(v), -EIO, "%s", what);
		/* Untouched blocks still read fine (only needed blocks checked). */
		uint64_t other = b == 0 ? bs : 0;
		read_ok(v, &f, other, bs, seed);
		uvfs_verity_close(v);
		f.data[pos] ^= bit;
	}
	fx_fini(&f);
}

/* Every byte of the last (short) data block, including the zero padding
 * region the file does not have: bytes past EOF are not read at all. */
Test(tamper, every_byte_of_last_block)
{
	uint64_t seed = vt_seed(), s = seed;
	struct fx f;
	fx_init(&f, 5 * 1024 + 300, 2, 1024, 0, &s);
	for (size_t pos = 5 * 1024; pos < f.n; pos++) {
		f.data[pos] ^= 0x80;
		struct uvfs_verity_verifier *v = fx_open_ok(&f, 0);
		cr_assert_eq(uvfs_verity_verify_all(v), -EIO, "byte %zu", pos);
		uvfs_verity_close(v);
		f.data[pos] ^= 0x80;
	}
	fx_fini(&f);
}

/* For each tree level: its first and last block, including the zero padding
 * at the end of a level's last block. */
Test(tamper, each_tree_level)
{
	uint64_t seed = vt_seed(), s = seed;
	unsigned bs = 1024;
	struct fx f;
	fx_init(&f, (4u << 20) + 4321, 2, bs, 32, &s); /* SHA-512/1K: 16 per block, 4 levels */
	unsigned levels = f.r.levels;
	cr_assert_geq(levels, 4);
	/* Level block counts, root-most first in storage. */
	uint64_t cnt[16], start[16], nb = (f.n + bs - 1) / bs, acc = 0;
	for (unsigned l = 0; l < levels; l++) {
		nb = (nb + 15) / 16;
		cnt[l] = nb;
	}
	for (unsigned l = levels; l-- > 0;) {
		start[l] = acc;
		acc += cnt[l];
	}
	cr_assert_eq(acc * bs, f.r.tree_size);
	for (unsigned l = 0; l < levels; l++) {
		uint64_t which[] = { 0, cnt[l] - 1 };
		for (int w = 0; w < 2; w++) {
			uint64_t blk = which[w];
			/* w=1: the last byte of the level, i.e. padding when the
			 * level does not fill its last block. */
			size_t at = w == 0 ? (size_t)(vt_rand(&s) % bs) : bs - 1;
			size_t pos = (size_t)((start[l] + blk) * bs) + at;
			f.tree[pos] ^= 1;
			struct uvfs_verity_verifier *v = fx_open_ok(&f, 0);
			char what[96];
			snprintf(what, sizeof(what), "seed=%llu level %u block %llu byte %zu",
				 (unsigned long long)seed, l, (unsigned long long)blk, at);
			cr_expect_eq(uvfs_verity_verify_all(v), -EIO, "%s", what);
			/* Data under the tampered block fails... */
			uint64_t span = (uint64_t)bs;
			for (unsigned k = 0; k <= l; k++)
				span *= 16;
			uint64_t doff = blk * span;
			read_eio(v, doff, 10, what);
			/* ...data elsewhere (outside its subtree) does not. */
			if (l + 1 < levels) {
				uint64_t other = blk == 0 ? span : 0;
				if (other < f.n)
					read_ok(v, &f, other, 10, seed);
			}
			uvfs_verity_close(v);
			f.tree[pos] ^= 1;
		}
	}
	/* After restoring, all good. */
	struct uvfs_verity_verifier *v = fx_open_ok(&f, 0);
	cr_expect_eq(uvfs_verity_verify_all(v), 0);
	uvfs_verity_close(v);
	fx_fini(&f);
}

/* Exhaustive on a small tree: a flipped bit in any tree byte is caught. */
Test(tamper, every_tree_byte_small, .timeout = 120)
{
	uint64_t seed = vt_seed(), s = seed;
	struct fx f;
	fx_init(&f, 70 * 1024 + 17, 2, 1024, 9, &s); /* 71 blocks: 5 + 1 tree blocks */
	cr_assert_eq(f.r.tree_size, 6 * 1024);
	for (size_t pos = 0; pos < f.r.tree_size; pos++) {
		uint8_t bit = (uint8_t)(1u << (pos % 8));
		f.tree[pos] ^= bit;
		struct uvfs_verity_verifier *v = fx_open_ok(&f, 0);
		cr_assert_eq(uvfs_verity_verify_all(v), -EIO, "tree byte %zu", pos);
		uvfs_verity_close(v);
		f.tree[pos] ^= bit;
	}
	fx_fini(&f);
}

/* Any flipped bit in the descriptor (every byte, every field: version,
 * algorithm, block size, salt size, reserved, data size, root hash, salt)
 * makes it not hash to the trusted digest: open fails with -EIO. */
Test(tamper, every_descriptor_byte)
{
	uint64_t seed = vt_seed(), s = seed;
	struct fx f;
	fx_init(&f, 100000, 1, 4096, 4, &s);
	for (size_t pos = 0; pos < 256; pos++) {
		for (int bit = 0; bit < 8; bit += 7) {
			f.desc[pos] ^= (uint8_t)(1u << bit);
			struct uvfs_verity_verifier *v = NULL;
			cr_assert_eq(fx_open(&f, 0, &v), -EIO, "descriptor byte %zu bit %d", pos, bit);
			cr_assert_null(v);
			f.desc[pos] ^= (uint8_t)(1u << bit);
		}
	}
	struct uvfs_verity_verifier *v = fx_open_ok(&f, 0);
	uvfs_verity_close(v);
	fx_fini(&f);
}

/* A trusted digest that does not match: any bit of it, or the wrong
 * algorithm. */
Test(tamper, trusted_digest)
{
	uint64_t s = vt_seed();
	struct fx f;
	fx_init(&f, 5000, 1, 4096, 0, &s);
	struct uvfs_verity_verifier *v = NULL;
	for (size_t i = 0; i < 32; i++) {
		f.digest[i] ^= 0x40;
		cr_expect_eq(fx_open(&f, 0, &v), -EIO, "digest byte %zu", i);
		f.digest[i] ^= 0x40;
	}
	/* Claiming SHA-512 for a SHA-256 descriptor. */
	uint8_t d512[64] = { 0 };
	struct uvfs_verity_open_args a = {
		.hash_alg = 2, .digest = d512, .digest_size = 64,
		.descriptor = f.desc, .descriptor_size = 256,
		.read_tree = uvfs_merkle_mem_read, .tree_ctx = &f.tm,
		.read_data = uvfs_merkle_mem_read, .data_ctx = &f.dm,
	};
	EVP_Digest(f.desc, 256, d512, NULL, EVP_sha512(), NULL); /* right bytes, wrong alg */
	cr_expect_eq(uvfs_verity_open(&a, &v), -EIO);
	fx_fini(&f);
}

/* A descriptor that does hash to the trusted digest but is malformed (a
 * trusted party signed garbage) is refused too. */
Test(tamper, trusted_but_malformed_descriptor)
{
	uint64_t s = vt_seed();
	struct fx f;
	fx_init(&f, 5000, 1, 4096, 0, &s);
	size_t offs[] = { 0, 2, 3, 4, 200 };
	uint8_t vals[] = { 2, 20, 40, 1, 1 };
	for (size_t i = 0; i < 5; i++) {
		uint8_t desc[256];
		memcpy(desc, f.r.descriptor, 256);
		desc[offs[i]] = vals[i];
		memcpy(f.desc, desc, 256);
		EVP_Digest(desc, 256, f.digest, NULL, EVP_sha256(), NULL);
		struct uvfs_verity_verifier *v = NULL;
		cr_expect_eq(fx_open(&f, 0, &v), -EIO, "byte %zu = %u", offs[i], vals[i]);
	}
	fx_fini(&f);
}

/* The size: the data file shorter than the descriptor says, a tree that is
 * truncated, and the size field itself changed with a re-trusted digest
 * (the tree then no longer matches). */
Test(tamper, sizes)
{
	uint64_t seed = vt_seed(), s = seed;
	struct fx f;
	fx_init(&f, 300000, 1, 4096, 0, &s);
	struct uvfs_verity_verifier *v = fx_open_ok(&f, 0);
	f.dm.size = f.n - 1; /* data truncated by one byte */
	read_eio(v, f.n - 100, 100, "truncated data");
	cr_expect_eq(uvfs_verity_verify_all(v), -EIO);
	read_ok(v, &f, 0, 4096, seed); /* earlier blocks unaffected */
	f.dm.size = f.n;
	uvfs_verity_close(v);

	f.tm.size = f.r.tree_size - 1; /* tree truncated */
	v = fx_open_ok(&f, 0);
	cr_expect_eq(uvfs_verity_verify_all(v), -EIO);
	uvfs_verity_close(v);
	f.tm.size = f.r.tree_size;

	/* Data longer than the descriptor says: only data_size bytes exist. */
	uint8_t *longer = malloc(f.n + 4096);
	memcpy(longer, f.data, f.n);
	memset(longer + f.n, 0x77, 4096);
	f.dm.data = longer;
	f.dm.size = f.n + 4096;
	v = fx_open_ok(&f, 0);
	read_ok(v, &f, 0, f.n + 4096, seed);
	uvfs_verity_close(v);
	f.dm = (struct uvfs_merkle_mem){ f.data, f.n };
	free(longer);

	/* Size field changed by +-1 and +B, descriptor re-trusted. */
	int64_t deltas[] = { 1, -1, 4096, -4096 };
	for (size_t i = 0; i < 4; i++) {
		uint64_t ns = f.n + (uint64_t)deltas[i];
		for (int k = 0; k < 8; k++)
			f.desc[8 + k] = (uint8_t)(ns >> (8 * k));
		EVP_Digest(f.desc, 256, f.digest, NULL, EVP_sha256(), NULL);
		v = fx_open_ok(&f, 0);
		cr_expect_eq(uvfs_verity_verify_all(v), -EIO, "size %+lld", (long long)deltas[i]);
		uvfs_verity_close(v);
	}
	fx_fini(&f);
}

/* A correct tree of a different file. */
Test(tamper, swapped_tree)
{
	uint64_t s = vt_seed();
	struct fx a, b;
	fx_init(&a, 1 << 20, 1, 4096, 0, &s);
	fx_init(&b, 1 << 20, 1, 4096, 0, &s);
	a.tm = b.tm;
	struct uvfs_verity_verifier *v = fx_open_ok(&a, 0);
	cr_expect_eq(uvfs_verity_verify_all(v), -EIO);
	uvfs_verity_close(v);
	fx_fini(&a);
	fx_fini(&b);
}

/* Random single-bit flips anywhere in the data or the tree, random reads:
 * every read returns either -EIO or exactly the original bytes, never the
 * flipped ones, and a full verification always fails. */
Test(tamper, random_flips_never_return_wrong_bytes, .timeout = 300)
{
	uint64_t seed = vt_seed(), s = seed;
	for (int iter = 0; iter < 150; iter++) {
		unsigned alg = 1 + (unsigned)(vt_rand(&s) % 2);
		unsigned bs = 1024u << (vt_rand(&s) % 3);
		struct fx f;
		fx_init(&f, 1 + (size_t)(vt_rand(&s) % (400u << 10)), alg, bs,
			(size_t)(vt_rand(&s) % 33), &s);
		uint8_t *orig = malloc(f.n);
		cr_assert_not_null(orig);
		memcpy(orig, f.data, f.n);
		bool in_tree = f.r.tree_size && vt_rand(&s) % 2;
		size_t pos = (size_t)(vt_rand(&s) % (in_tree ? f.r.tree_size : f.n));
		uint8_t bit = (uint8_t)(1u << (vt_rand(&s) % 8));
		(in_tree ? f.tree : f.data)[pos] ^= bit;
		struct uvfs_verity_verifier *v = fx_open_ok(&f, vt_rand(&s) % 2 ? 0 : 2 * bs);
		uint8_t *buf = malloc(3 * bs);
		cr_assert_not_null(buf);
		for (int k = 0; k < 30; k++) {
			uint64_t off = vt_rand(&s) % f.n;
			size_t len = 1 + (size_t)(vt_rand(&s) % (3 * bs));
			ssize_t r = uvfs_verity_read(v, buf, len, off);
			if (r == -EIO)
				continue;
			size_t want = f.n - off < len ? (size_t)(f.n - off) : len;
			cr_assert_eq(r, (ssize_t)want, "seed=%llu iter %d: read = %zd",
				     (unsigned long long)seed, iter, r);
			cr_assert_eq(memcmp(buf, orig + off, want), 0,
				     "seed=%llu iter %d: wrong bytes returned (flip in %s at %zu)",
				     (unsigned long long)seed, iter, in_tree ? "tree" : "data", pos);
			if (!in_tree)
				cr_assert(pos < off || pos >= off + want,
					  "seed=%llu: read over the flipped byte succeeded",
					  (unsigned long long)seed);
		}
		cr_assert_eq(uvfs_verity_verify_all(v), -EIO, "seed=%llu iter %d: flip in %s at %zu",
			     (unsigned long long)seed, iter, in_tree ? "tree" : "data", pos);
		uvfs_verity_close(v);
		free(buf);
		free(orig);
		fx_fini(&f);
	}
}

/* ------------------------------------------------------------ API */

static ssize_t eacces_reader(void *ctx, void *buf, size_t len, uint64_t off)
{
	return -EACCES;
}

Test(api, bad_arguments_and_reader_errors)
{
	uint64_t s = vt_seed();
	struct fx f;
	fx_init(&f, 10000, 1, 4096, 0, &s);
	struct uvfs_verity_verifier *v = (void *)1;
	struct uvfs_verity_open_args a = {
		.hash_alg = 1, .digest = f.digest, .digest_size = 32,
		.descriptor = f.desc, .descriptor_size = 256,
		.read_tree = uvfs_merkle_mem_read, .tree_ctx = &f.tm,
		.read_data = uvfs_merkle_mem_read, .data_ctx = &f.dm,
	};
	cr_expect_eq(uvfs_verity_open(NULL, &v), -EINVAL);
	cr_expect_null(v);
	cr_expect_eq(uvfs_verity_open(&a, NULL), -EINVAL);
	struct uvfs_verity_open_args b = a;
	b.digest_size = 31;
	cr_expect_eq(uvfs_verity_open(&b, &v), -EINVAL);
	b = a;
	b.descriptor_size = 255;
	cr_expect_eq(uvfs_verity_open(&b, &v), -EINVAL);
	b = a;
	b.hash_alg = 9;
	cr_expect_eq(uvfs_verity_open(&b, &v), -EINVAL);
	b = a;
	b.read_data = NULL;
	cr_expect_eq(uvfs_verity_open(&b, &v), -EINVAL);
	b = a;
	b.digest = NULL;
	cr_expect_eq(uvfs_verity_open(&b, &v), -EINVAL);

	b = a;
	b.read_data = eacces_reader;
	cr_assert_eq(uvfs_verity_open(&b, &v), 0);
	uint8_t buf[100];
	cr_expect_eq(uvfs_verity_read(v, buf, sizeof(buf), 0), -EACCES);
	cr_expect_eq(uvfs_verity_read(v, NULL, 10, 0), -EINVAL);
	cr_expect_eq(uvfs_verity_read(NULL, buf, 10, 0), -EINVAL);
	cr_expect_eq(uvfs_verity_read(v, buf, 0, 0), 0);
	uvfs_verity_close(v);

	b = a;
	b.read_tree = eacces_reader;
	cr_assert_eq(uvfs_verity_open(&b, &v), 0);
	cr_expect_eq(uvfs_verity_read(v, buf, sizeof(buf), 0), -EACCES);
	uvfs_verity_close(v);
	uvfs_verity_close(NULL);
	cr_expect_eq(uvfs_verity_verify_all(NULL), -EINVAL);
	fx_fini(&f);
}

/* Empty file: opens, reads return 0, a non-zero root is refused. */
Test(api, empty_file)
{
	uint64_t s = vt_seed();
	struct fx f;
	fx_init(&f, 0, 2, 4096, 3, &s);
	struct uvfs_verity_verifier *v = fx_open_ok(&f, 0);
	uint8_t buf[8];
	cr_expect_eq(uvfs_verity_read(v, buf, 8, 0), 0);
	cr_expect_eq(uvfs_verity_verify_all(v), 0);
	uvfs_verity_close(v);
	f.desc[16] = 1;
	EVP_Digest(f.desc, 256, f.digest, NULL, EVP_sha512(), NULL);
	cr_expect_eq(fx_open(&f, 0, &v), -EIO);
	fx_fini(&f);
}

/* ------------------------------------------------------------ threads */

struct thr {
	struct uvfs_verity_verifier *v;
	struct fx *f;
	uint64_t seed;
	uint64_t bad_lo, bad_hi; /* tampered byte range */
	int errors;
};

static void *reader_thread(void *arg)
{
	struct thr *t = arg;
	uint64_t s = t->seed;
	uint8_t *buf = malloc(40000);
	for (int k = 0; k < 300 && buf; k++) {
		uint64_t off = vt_rand(&s) % t->f->n;
		size_t len = 1 + (size_t)(vt_rand(&s) % 40000);
		ssize_t r = uvfs_verity_read(t->v, buf, len, off);
		uint64_t end = off + len > t->f->n ? t->f->n : off + len;
		/* block-granular: any read touching the bad block fails */
		uint64_t blo = t->bad_lo / 4096 * 4096, bhi = (t->bad_hi + 4095) / 4096 * 4096;
		bool touches = off < bhi && end > blo;
		if (touches ? r != -EIO : (r != (ssize_t)(end - off) ||
					    memcmp(buf, t->f->data + off, (size_t)r)))
			t->errors++;
	}
	free(buf);
	return NULL;
}

Test(threads, concurrent_reads_share_one_verifier)
{
	uint64_t seed = vt_seed(), s = seed;
	struct fx f;
	fx_init(&f, 8u << 20, 1, 4096, 11, &s);
	/* Tamper one data byte so some readers must fail and others not. */
	uint64_t bad = (5u << 20) + 12345;
	uint8_t *good = malloc(f.n);
	memcpy(good, f.data, f.n);
	f.data[bad] ^= 4;
	struct uvfs_verity_verifier *v = fx_open_ok(&f, 64 * 4096); /* smaller than the tree */
	/* readers compare with the original bytes */
	struct fx view = f;
	view.data = good;
	pthread_t th[4];
	struct thr t[4];
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){ v, &view, seed + (uint64_t)i * 7919, bad, bad + 1, 0 };
		cr_assert_eq(pthread_create(&th[i], NULL, reader_thread, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(t[i].errors, 0, "seed=%llu thread %d: %d wrong results",
			     (unsigned long long)seed, i, t[i].errors);
	}
	uvfs_verity_close(v);
	free(good);
	fx_fini(&f);
}
