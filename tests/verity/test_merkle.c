/* tests/verity/test_merkle.c — tree building against the fs-verity format:
 * the reference vectors, a property test against the `fsverity` tool, and
 * argument checking. */
#include "verity_test_util.h"

static uint8_t *pattern(size_t n, unsigned mul, unsigned mod)
{
	uint8_t *p = malloc(n ? n : 1);
	cr_assert_not_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * mul) % mod);
	return p;
}

static void expect_digest(const void *data, size_t n, unsigned alg, unsigned bs,
			  const char *salt_hex, const char *want)
{
	uint8_t salt[32];
	size_t salt_size = strlen(salt_hex) / 2;
	for (size_t i = 0; i < salt_size; i++)
		sscanf(salt_hex + 2 * i, "%2hhx", &salt[i]);
	struct uvfs_merkle_params p = { alg, bs, salt, salt_size, 0 };
	struct uvfs_merkle_result r;
	char got[320];
	int rc = vt_build_mem(data, n, &p, &r);
	cr_assert_eq(rc, 0, "build(n=%zu) = %d", n, rc);
	vt_fmt_digest(&r, got, sizeof(got));
	cr_expect_str_eq(got, want, "n=%zu alg=%u bs=%u salt=%s", n, alg, bs, salt_hex);
	uvfs_merkle_result_free(&r);
}

/* ecosystem.md (c): digests printed by `fsverity digest` 1.5. */
Test(vectors, reference_digests)
{
	uint8_t *z = calloc(1, 4097);
	uint8_t *m = pattern(1 << 20, 1, 251);
	uint8_t *s = pattern(614523, 7, 256);

	expect_digest("", 0, 1, 4096, "",
		      "sha256:3d248ca542a24fc62d1c43b916eae5016878e2533c88238480b26128a1f1af95");
	expect_digest("a", 1, 1, 4096, "",
		      "sha256:bce75948b9e7510293f8f2720412af9697c1479281323f3f220623fb8e94b557");
	expect_digest(z, 4096, 1, 4096, "",
		      "sha256:babc284ee4ffe7f449377fbf6692715b43aec7bc39c094a95878904d34bac97e");
	expect_digest(z, 4097, 1, 4096, "",
		      "sha256:093756e4ea9683329106d4a16982682ed182c14bf076463a9e7f97305cbac743");
	expect_digest(m, 1 << 20, 1, 4096, "",
		      "sha256:93c995656d665b81c3a87eed032fcf06a8f9cecef51e3f5e5af7fa59fef1d439");
	expect_digest(m, 1 << 20, 1, 4096, "deadbeef",
		      "sha256:69c2bbe11d3641c3961a6a864217f726596f82efe08bc364ab4988053522fbba");
	expect_digest(s, 614523, 1, 4096, "",
		      "sha256:b319a7a4b9e8cf837163418c57136d81595879a1dd40c72a210f04dcb620691c");
	expect_digest(s, 614523, 1, 1024, "",
		      "sha256:8078bdd557b83921cb4fd7179e89b58a4bce26b562e6929fcf4476885e62eed9");
	expect_digest("a", 1, 2, 4096, "",
		      "sha512:829b82e4646ed8804b8481d26202f11dafed5acde87623a34e9e813fed884e86a787bb38095921f6128e2a53f116145b4528b2bfe218c6df6717a03d0be90f4b");
	free(z);
	free(m);
	free(s);
}

/* 1 MiB, SHA-256, 4K: 256 data blocks -> level 0 = 2 blocks, level 1 = 1. */
Test(vectors, tree_shape_1mib)
{
	uint8_t *m = pattern(1 << 20, 1, 251);
	struct uvfs_merkle_params p = { 1, 4096, NULL, 0, 0 };
	struct uvfs_merkle_result r;
	cr_assert_eq(vt_build_mem(m, 1 << 20, &p, &r), 0);
	cr_expect_eq(r.tree_size, 12288);
	cr_expect_eq(r.levels, 2);
	cr_expect_eq(r.digest_size, 32);
	/* Level 0 (stored last) holds 256 hashes: 8192 bytes exactly, no
	 * padding; level 1 (stored first) holds 2 hashes then zeros. */
	for (size_t i = 64; i < 4096; i++)
		cr_assert_eq(r.tree[i], 0, "level-1 padding byte %zu", i);
	uint64_t ts = 0;
	unsigned lv = 0;
	cr_expect_eq(uvfs_merkle_tree_size(&p, 1 << 20, &lv, &ts), 0);
	cr_expect_eq(ts, 12288);
	cr_expect_eq(lv, 2);
	struct uvfs_verity_descriptor d;
	cr_assert_eq(uvfs_verity_descriptor_parse(r.descriptor, &d), 0);
	cr_expect_eq(d.version, 1);
	cr_expect_eq(d.hash_alg, 1);
	cr_expect_eq(d.log_block_size, 12);
	cr_expect_eq(d.data_size, 1 << 20);
	cr_expect_eq(memcmp(d.root_hash, r.root_hash, 32), 0);
	uvfs_merkle_result_free(&r);
	free(m);
}

/* Builds one case and compares digest, tree and descriptor with fsverity. */
static void compare_with_tool(const uint8_t *data, size_t n, const struct uvfs_merkle_params *p,
			      uint64_t seed)
{
	struct uvfs_merkle_result r;
	struct vt_oracle o;
	char got[320];
	int rc = vt_build_mem(data, n, p, &r);
	cr_assert_eq(rc, 0, "seed=%llu n=%zu alg=%u bs=%u salt=%zu: build = %d",
		     (unsigned long long)seed, n, p->hash_alg, p->block_size, p->salt_size, rc);
	vt_oracle_run(data, n, p, &o);
	vt_fmt_digest(&r, got, sizeof(got));
	cr_expect_str_eq(got, o.digest, "seed=%llu n=%zu alg=%u bs=%u salt=%zu",
			 (unsigned long long)seed, n, p->hash_alg, p->block_size, p->salt_size);
	cr_expect_eq(r.tree_size, o.tree_size, "seed=%llu n=%zu bs=%u: tree %zu vs %zu",
		     (unsigned long long)seed, n, p->block_size, r.tree_size, o.tree_size);
	if (r.tree_size == o.tree_size && r.tree_size)
		cr_expect_eq(memcmp(r.tree, o.tree, r.tree_size), 0, "seed=%llu n=%zu: tree bytes",
			     (unsigned long long)seed, n);
	cr_expect_eq(o.desc_size, UVFS_VERITY_DESC_SIZE);
	cr_expect_eq(memcmp(r.descriptor, o.desc, UVFS_VERITY_DESC_SIZE), 0,
		     "seed=%llu n=%zu: descriptor bytes", (unsigned long long)seed, n);
	uint64_t ts;
	unsigned lv;
	cr_expect_eq(uvfs_merkle_tree_size(p, n, &lv, &ts), 0);
	cr_expect_eq(ts, r.tree_size);
	cr_expect_eq(lv, r.levels);
	vt_oracle_free(&o);
	uvfs_merkle_result_free(&r);
}

static void random_params(uint64_t *s, struct uvfs_merkle_params *p, uint8_t *salt)
{
	p->hash_alg = 1 + (unsigned)(vt_rand(s) % 2);
	p->block_size = 1024u << (vt_rand(s) % 7); /* 1K .. 64K */
	p->salt_size = (vt_rand(s) % 3 == 0) ? 0 : (size_t)(vt_rand(s) % 33);
	vt_fill_random(salt, p->salt_size, s);
	p->salt = salt;
	p->threads = (unsigned)(vt_rand(s) % 4); /* 0..3: the result must not depend on it */
}

/* Boundary sizes for every (alg, block size): 0, 1, B-1, B, B+1, one full
 * level-0 block of hashes (hpb*B) and one more block (two levels), and a
 * three-level size where it stays under 64 MiB. Random salts. */
Test(property, boundary_sizes_vs_fsverity, .timeout = 600)
{
	uint64_t seed = vt_seed(), s = seed;
	size_t max = (64u << 20) + 65536;
	uint8_t *data = malloc(max);
	uint8_t salt[32];
	cr_assert_not_null(data);
	vt_fill_random(data, max, &s);

	for (unsigned alg = 1; alg <= 2; alg++) {
		for (unsigned bs = 1024; bs <= 65536; bs *= 2) {
			size_t hpb = bs / uvfs_verity_digest_size(alg);
			size_t sizes[] = { 0, 1, bs - 1, bs, bs + 1, hpb * bs, hpb * bs + 1,
					   hpb * hpb * bs + 1 };
			for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
				if (sizes[i] > max)
					continue;
				struct uvfs_merkle_params p = { alg, bs, salt, 0, 0 };
				p.salt_size = (size_t)(vt_rand(&s) % 33);
				vt_fill_random(salt, p.salt_size, &s);
				compare_with_tool(data, sizes[i], &p, seed);
			}
		}
	}
	free(data);
}

/* Random sizes (mostly small, some up to 64 MiB), random parameters. */
Test(property, random_sizes_vs_fsverity, .timeout = 600)
{
	uint64_t seed = vt_seed(), s = seed;
	size_t max = 64u << 20;
	uint8_t *data = malloc(max);
	uint8_t salt[32];
	cr_assert_not_null(data);
	vt_fill_random(data, max, &s);

	for (int iter = 0; iter < 40; iter++) {
		struct uvfs_merkle_params p;
		random_params(&s, &p, salt);
		size_t n;
		switch (iter % 4) {
		case 0: n = (size_t)(vt_rand(&s) % (4u * p.block_size)); break;
		case 1: n = (size_t)(vt_rand(&s) % (1u << 20)); break;
		case 2: n = (size_t)(vt_rand(&s) % (8u << 20)); break;
		default: n = (iter % 8 == 3) ? (size_t)(vt_rand(&s) % max) + 1 : (size_t)(vt_rand(&s) % (2u << 20)); break;
		}
		compare_with_tool(data, n, &p, seed);
	}
	/* The largest allowed case, once, on two threads. */
	struct uvfs_merkle_params p = { 1, 4096, NULL, 0, 2 };
	compare_with_tool(data, max, &p, seed);
	free(data);
}

/* Threaded and in-memory builds give byte-identical trees, at chunk-boundary
 * sizes too. */
Test(build, threads_give_identical_results, .timeout = 300)
{
	uint64_t seed = vt_seed(), s = seed;
	size_t max = 24u << 20;
	uint8_t *data = malloc(max);
	cr_assert_not_null(data);
	vt_fill_random(data, max, &s);
	size_t sizes[] = { 0, 1, 4096, (1u << 20) - 1, 1u << 20, (1u << 20) + 1, (2u << 20) + 4097,
			   (5u << 20) + 3, max, (size_t)(vt_rand(&s) % max) };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct uvfs_merkle_params p = { 1 + (unsigned)(i % 2), 1024u << (i % 7), NULL, 0, 1 };
		struct uvfs_merkle_result one, many;
		cr_assert_eq(vt_build_mem(data, sizes[i], &p, &one), 0);
		for (unsigned t = 1; t <= 9; t += 4) {
			p.threads = t;
			/* the in-memory entry point, then the reader one */
			cr_assert_eq(uvfs_merkle_build_buf(&p, data, sizes[i], &many), 0);
			cr_expect_eq(many.tree_size, one.tree_size);
			cr_expect_eq(memcmp(many.digest, one.digest, one.digest_size), 0,
				     "buf: seed=%llu n=%zu threads=%u", (unsigned long long)seed,
				     sizes[i], t);
			if (many.tree_size == one.tree_size && one.tree_size)
				cr_expect_eq(memcmp(many.tree, one.tree, one.tree_size), 0);
			uvfs_merkle_result_free(&many);
			if (t == 1)
				continue;
			cr_assert_eq(vt_build_mem(data, sizes[i], &p, &many), 0);
			cr_expect_eq(many.tree_size, one.tree_size);
			cr_expect_eq(memcmp(many.digest, one.digest, one.digest_size), 0,
				     "seed=%llu n=%zu threads=%u", (unsigned long long)seed, sizes[i], t);
			if (many.tree_size == one.tree_size && one.tree_size)
				cr_expect_eq(memcmp(many.tree, one.tree, one.tree_size), 0);
			uvfs_merkle_result_free(&many);
		}
		uvfs_merkle_result_free(&one);
	}
	free(data);
}

/* ------------------------------------------------------------ API errors */

static ssize_t short_reader(void *ctx, void *buf, size_t len, uint64_t off)
{
	size_t have = *(size_t *)ctx;
	if (off >= have)
		return 0;
	size_t n = have - off < len ? (size_t)(have - off) : len;
	memset(buf, 0x5a, n);
	return (ssize_t)n;
}

static ssize_t failing_reader(void *ctx, void *buf, size_t len, uint64_t off)
{
	(void)buf;
	(void)len;
	return off >= *(uint64_t *)ctx ? -EACCES : (ssize_t)(len > 4096 ? 4096 : len);
}

static ssize_t lying_reader(void *ctx, void *buf, size_t len, uint64_t off)
{
	return (ssize_t)len + 1; /* claims more than asked for */
}

Test(api, rejects_bad_params)
{
	struct uvfs_merkle_result r;
	struct uvfs_merkle_mem m = { "abc", 3 };
	uint8_t salt[40] = { 0 };
	struct {
		struct uvfs_merkle_params p;
	} bad[] = {
		{ { 1, 512, NULL, 0, 0 } },  { { 1, 3000, NULL, 0, 0 } }, { { 1, 131072, NULL, 0, 0 } },
		{ { 3, 4096, NULL, 0, 0 } }, { { 99, 4096, NULL, 0, 0 } }, { { 1, 4096, salt, 33, 0 } },
		{ { 1, 4096, NULL, 4, 0 } }, { { 2, 1023, NULL, 0, 0 } },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&r, 0xff, sizeof(r));
		cr_expect_eq(uvfs_merkle_build(&bad[i].p, uvfs_merkle_mem_read, &m, 3, &r), -EINVAL,
			     "case %zu", i);
		cr_expect_null(r.tree, "case %zu leaves no allocation", i);
		cr_expect_eq(uvfs_merkle_tree_size(&bad[i].p, 3, NULL, NULL), -EINVAL);
	}
	struct uvfs_merkle_params ok = { 0, 0, NULL, 0, 0 }; /* defaults: sha256, 4096 */
	cr_expect_eq(uvfs_merkle_build(NULL, uvfs_merkle_mem_read, &m, 3, &r), -EINVAL);
	cr_expect_eq(uvfs_merkle_build(&ok, NULL, &m, 3, &r), -EINVAL);
	cr_expect_eq(uvfs_merkle_build(&ok, uvfs_merkle_mem_read, &m, 3, NULL), -EINVAL);
	cr_expect_eq(uvfs_merkle_build_buf(&ok, NULL, 3, &r), -EINVAL);
	cr_expect_null(r.tree);
	cr_expect_eq(uvfs_merkle_build_buf(&bad[0].p, "abc", 3, &r), -EINVAL);
	cr_expect_eq(uvfs_merkle_build_buf(&ok, NULL, 0, &r), 0); /* empty file */
	cr_expect_eq(r.descriptor[0], 1);
	cr_assert_eq(uvfs_merkle_build(&ok, uvfs_merkle_mem_read, &m, 3, &r), 0);
	cr_expect_eq(r.hash_alg, 1);
	cr_expect_eq(r.descriptor[2], 12);
	uvfs_merkle_result_free(&r);
	uvfs_merkle_result_free(NULL);
}

Test(api, reader_shorter_than_size_is_eio)
{
	struct uvfs_merkle_params p = { 1, 4096, NULL, 0, 0 };
	struct uvfs_merkle_result r;
	size_t have = 10000;
	cr_expect_eq(uvfs_merkle_build(&p, short_reader, &have, 10001, &r), -EIO);
	cr_expect_null(r.tree);
	cr_expect_eq(uvfs_merkle_build(&p, short_reader, &have, 3 << 20, &r), -EIO);
	cr_expect_eq(uvfs_merkle_build(&p, short_reader, &have, 10000, &r), 0);
	uvfs_merkle_result_free(&r);
	uint64_t fail_at = 8192;
	cr_expect_eq(uvfs_merkle_build(&p, failing_reader, &fail_at, 1 << 20, &r), -EACCES);
	cr_expect_null(r.tree);
	/* The same failures on worker threads: a late error in one share. */
	struct uvfs_merkle_params pt = { 1, 4096, NULL, 0, 4 };
	fail_at = 7u << 20;
	cr_expect_eq(uvfs_merkle_build(&pt, failing_reader, &fail_at, 8u << 20, &r), -EACCES);
	cr_expect_null(r.tree);
	have = (5u << 20) + 3;
	cr_expect_eq(uvfs_merkle_build(&pt, short_reader, &have, 8u << 20, &r), -EIO);
	cr_expect_null(r.tree);
	cr_expect_eq(uvfs_merkle_build(&p, lying_reader, NULL, 1 << 20, &r), -EIO);
}

Test(api, geometry_of_huge_sizes)
{
	struct uvfs_merkle_params p = { 2, 1024, NULL, 0, 0 };
	uint64_t ts = 0;
	unsigned lv = 0;
	/* 2^64-1 bytes with 1K blocks and SHA-512 (16 hashes per block):
	 * 2^54 data blocks -> ceil(54/4) = 14 levels; the tree size is
	 * about 2^64/15 bytes and must be reported without overflow. */
	cr_assert_eq(uvfs_merkle_tree_size(&p, UINT64_MAX, &lv, &ts), 0);
	cr_expect_eq(lv, 14);
	cr_expect_gt(ts, UINT64_MAX / 16);
	/* Levels sum: n_l = ceil(2^54 / 16^(l+1)) for l = 0..13. */
	uint64_t want = 0;
	for (unsigned l = 0; l < 14; l++) {
		uint64_t n = (uint64_t)1 << 54;
		for (unsigned k = 0; k <= l; k++)
			n = n / 16 + (n % 16 != 0);
		want += n;
	}
	cr_expect_eq(ts, want << 10);
	struct uvfs_merkle_params q = { 1, 4096, NULL, 0, 0 };
	cr_assert_eq(uvfs_merkle_tree_size(&q, 0, &lv, &ts), 0);
	cr_expect_eq(lv, 0);
	cr_expect_eq(ts, 0);
	cr_assert_eq(uvfs_merkle_tree_size(&q, 4096, &lv, &ts), 0);
	cr_expect_eq(lv, 0);
	cr_assert_eq(uvfs_merkle_tree_size(&q, 4097, &lv, &ts), 0);
	cr_expect_eq(lv, 1);
	cr_expect_eq(ts, 4096);
}

Test(api, names_and_sizes)
{
	cr_expect_eq(uvfs_verity_digest_size(1), 32);
	cr_expect_eq(uvfs_verity_digest_size(2), 64);
	cr_expect_eq(uvfs_verity_digest_size(0), 0);
	cr_expect_eq(uvfs_verity_digest_size(3), 0);
	cr_expect_str_eq(uvfs_verity_hash_name(2), "sha512");
	cr_expect_null(uvfs_verity_hash_name(7));
	cr_expect_eq(uvfs_verity_hash_by_name("sha256"), 1);
	cr_expect_eq(uvfs_verity_hash_by_name("md5"), 0);
	cr_expect_eq(uvfs_verity_hash_by_name(NULL), 0);
}

Test(api, descriptor_parse_rejects_malformed)
{
	struct uvfs_merkle_params p = { 1, 4096, (const uint8_t *)"\x01\x02", 2, 0 };
	struct uvfs_merkle_result r;
	struct uvfs_verity_descriptor d;
	cr_assert_eq(vt_build_mem("hello", 5, &p, &r), 0);
	cr_assert_eq(uvfs_verity_descriptor_parse(r.descriptor, &d), 0);
	cr_expect_eq(d.salt_size, 2);
	cr_expect_eq(d.salt[1], 2);
	cr_expect_eq(d.data_size, 5);
	/* Each of these single-byte changes makes the descriptor invalid. */
	struct { size_t off; uint8_t val; } bad[] = {
		{ 0, 0 }, { 0, 2 }, { 1, 0 }, { 1, 3 }, { 2, 9 }, { 2, 17 }, { 3, 33 },
		{ 4, 1 }, { 7, 0x80 }, { 16 + 32, 1 }, { 79, 1 }, { 80 + 2, 1 }, { 111, 1 },
		{ 112, 1 }, { 255, 1 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t desc[256];
		memcpy(desc, r.descriptor, 256);
		desc[bad[i].off] = bad[i].val;
		cr_expect_eq(uvfs_verity_descriptor_parse(desc, &d), -EINVAL, "byte %zu = %u",
			     bad[i].off, bad[i].val);
	}
	cr_expect_eq(uvfs_verity_descriptor_parse(NULL, &d), -EINVAL);
	uvfs_merkle_result_free(&r);
}

Test(api, readers)
{
	uint8_t buf[16];
	struct uvfs_merkle_mem m = { "0123456789", 10 };
	cr_expect_eq(uvfs_merkle_mem_read(&m, buf, 16, 0), 10);
	cr_expect_eq(memcmp(buf, "0123456789", 10), 0);
	cr_expect_eq(uvfs_merkle_mem_read(&m, buf, 16, 7), 3);
	cr_expect_eq(uvfs_merkle_mem_read(&m, buf, 16, 10), 0);
	cr_expect_eq(uvfs_merkle_mem_read(&m, buf, 16, UINT64_MAX), 0);
	cr_expect_eq(uvfs_merkle_mem_read(NULL, buf, 16, 0), -EINVAL);
	char *path = vt_tmpfile("abcdef", 6);
	int fd = open(path, O_RDONLY);
	cr_assert(fd >= 0);
	cr_expect_eq(uvfs_merkle_fd_read(&fd, buf, 16, 2), 4);
	cr_expect_eq(memcmp(buf, "cdef", 4), 0);
	cr_expect_eq(uvfs_merkle_fd_read(&fd, buf, 16, 6), 0);
	cr_expect_eq(uvfs_merkle_fd_read(&fd, buf, 16, UINT64_MAX), -EINVAL);
	close(fd);
	int bad = -1;
	cr_expect_eq(uvfs_merkle_fd_read(&bad, buf, 16, 0), -EBADF);
	/* A build through the fd reader equals one from memory. */
	fd = open(path, O_RDONLY);
	struct uvfs_merkle_params p = { 2, 1024, NULL, 0, 0 };
	struct uvfs_merkle_result a, b;
	cr_assert_eq(uvfs_merkle_build(&p, uvfs_merkle_fd_read, &fd, 6, &a), 0);
	cr_assert_eq(vt_build_mem("abcdef", 6, &p, &b), 0);
	cr_expect_eq(memcmp(a.digest, b.digest, 64), 0);
	close(fd);
	unlink(path);
	free(path);
}

/* uvfs_merkle_digest (the streaming form `uvfs verity digest` uses) gives
 * exactly the build's root, descriptor and digest, with no tree: at every
 * level boundary, for both hashes, small blocks and salts, one and several
 * threads, and across its 32 MiB windows. */
Test(stream, digest_equals_build, .timeout = 300)
{
	size_t max = (40u << 20) + 4097;
	uint8_t *data = malloc(max);
	cr_assert_not_null(data);
	uint64_t seed = 99;
	vt_fill_random(data, max, &seed);
	uint8_t salt[5] = { 1, 2, 3, 4, 5 };
	struct { unsigned alg, bs; size_t salt; } ps[] = { { 1, 1024, 0 }, { 2, 1024, 5 }, { 1, 4096, 5 }, { 2, 4096, 0 } };
	for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
		unsigned hpb = ps[k].bs / uvfs_verity_digest_size(ps[k].alg);
		size_t b = ps[k].bs, sizes[] = { 0, 1, b - 1, b, b + 1, hpb * b, hpb * b + 1, hpb * hpb * b,
						 hpb * hpb * b + 1, 3 * hpb * b + 77 };
		for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
			if (sizes[i] > max)
				continue;
			for (unsigned threads = 1; threads <= 3; threads += 2) {
				struct uvfs_merkle_params p = { ps[k].alg, ps[k].bs, salt, ps[k].salt, threads };
				struct uvfs_merkle_result a, d;
				struct uvfs_merkle_mem m = { data, sizes[i] };
				cr_assert_eq(uvfs_merkle_build_buf(&p, data, sizes[i], &a), 0);
				cr_assert_eq(uvfs_merkle_digest(&p, uvfs_merkle_mem_read, &m, sizes[i], &d), 0);
				cr_assert(d.tree == NULL && d.tree_size == 0);
				cr_assert_eq(d.levels, a.levels, "alg %u bs %zu size %zu", ps[k].alg, b, sizes[i]);
				cr_assert(!memcmp(d.root_hash, a.root_hash, a.digest_size), "root: alg %u bs %zu size %zu",
					  ps[k].alg, b, sizes[i]);
				cr_assert(!memcmp(d.descriptor, a.descriptor, 256));
				cr_assert(!memcmp(d.digest, a.digest, a.digest_size));
				uvfs_merkle_result_free(&a);
			}
		}
	}
	/* several windows */
	struct uvfs_merkle_params p = { 1, 4096, NULL, 0, 2 };
	struct uvfs_merkle_result a, d;
	struct uvfs_merkle_mem m = { data, max };
	cr_assert_eq(uvfs_merkle_build_buf(&p, data, max, &a), 0);
	cr_assert_eq(uvfs_merkle_digest(&p, uvfs_merkle_mem_read, &m, max, &d), 0);
	cr_assert(!memcmp(d.digest, a.digest, 32));
	uvfs_merkle_result_free(&a);
	/* a reader shorter than the size is EIO; bad arguments EINVAL */
	m.size = 5000;
	cr_assert_eq(uvfs_merkle_digest(&p, uvfs_merkle_mem_read, &m, 9000, &d), -EIO);
	cr_assert_eq(uvfs_merkle_digest(&p, NULL, &m, 9000, &d), -EINVAL);
	cr_assert_eq(uvfs_merkle_digest(NULL, uvfs_merkle_mem_read, &m, 9000, &d), -EINVAL);
	p.block_size = 3000;
	cr_assert_eq(uvfs_merkle_digest(&p, uvfs_merkle_mem_read, &m, 10, &d), -EINVAL);
	free(data);
}
