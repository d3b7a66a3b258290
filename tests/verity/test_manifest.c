/* tests/verity/test_manifest.c — the manifest codec: encode → parse round
 * trip, and a strict parser that refuses (never crashes on) every
 * truncation, every single-bit flip it cannot accept, and non-canonical
 * forms. (The filesystem parses only manifests whose hash matched, but the
 * parser must hold on its own.) */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsimpl/verity/internal.h"

static void sample(uint8_t **raw, size_t *len)
{
	struct vm_entry e[4] = {
		{ .name = "zeta", .name_len = 4, .mode = S_IFREG | 0644, .size = 5, .digest_len = 32 },
		{ .name = "a", .name_len = 1, .mode = S_IFDIR | 0755, .uid = 7, .digest_len = 32 },
		{ .name = "ln", .name_len = 2, .mode = S_IFLNK | 0777, .size = 3, .target = "a/b", .target_len = 3 },
		{ .name = "dev", .name_len = 3, .mode = S_IFCHR | 0600, .rdev_major = 1, .rdev_minor = 3 },
	};
	memset(e[0].digest, 0xab, 32);
	memset(e[1].digest, 0xcd, 32);
	cr_assert_eq(vm_sort(e, 4), 0);
	struct vmanifest m = { .mode = S_IFDIR | 0750, .uid = 1, .gid = 2, .n = 4, .e = e };
	cr_assert_eq(vm_encode(&m, raw, len), 0);
}

Test(manifest, round_trip)
{
	uint8_t *raw, *again;
	size_t len, len2;
	sample(&raw, &len);
	struct vmanifest m;
	uint8_t *copy = malloc(len);
	memcpy(copy, raw, len);
	cr_assert_eq(vm_parse(copy, len, &m), 0);
	cr_assert_eq(m.n, 4);
	cr_assert_eq(m.uid, 1);
	const struct vm_entry *e = vm_find(&m, "ln", 2);
	cr_assert_not_null(e);
	cr_assert(e->target_len == 3 && !memcmp(e->target, "a/b", 3));
	cr_assert_null(vm_find(&m, "l", 1));
	cr_assert_eq(vm_find(&m, "zeta", 4)->size, 5);
	cr_assert_eq(vm_encode(&m, &again, &len2), 0);
	cr_assert(len2 == len && !memcmp(again, raw, len), "encoding is not canonical");
	free(again);
	vm_free(&m);
	free(raw);
}

Test(manifest, truncations_and_bit_flips_never_crash)
{
	uint8_t *raw;
	size_t len;
	sample(&raw, &len);
	struct vmanifest m;
	for (size_t n = 0; n < len; n++) {
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, raw, n);
		cr_assert_eq(vm_parse(c, n, &m), -EIO, "truncated to %zu accepted", n);
		free(c);
	}
	size_t accepted = 0;
	for (size_t bit = 0; bit < len * 8; bit++) {
		uint8_t *c = malloc(len);
		memcpy(c, raw, len);
		c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int r = vm_parse(c, len, &m);
		cr_assert(r == 0 || r == -EIO);
		if (r == 0) {
			accepted++; /* a flip that still makes a valid manifest (a digest byte, a mode bit) */
			vm_free(&m);
		} else {
			free(c);
		}
	}
	cr_assert(accepted < len * 8);
	/* extra bytes at the end */
	uint8_t *c = malloc(len + 1);
	memcpy(c, raw, len);
	c[len] = 0;
	cr_assert_eq(vm_parse(c, len + 1, &m), -EIO);
	free(c);
	free(raw);
}

Test(manifest, non_canonical_forms_refused)
{
	struct vm_entry two[2] = {
		{ .name = "b", .name_len = 1, .mode = S_IFIFO | 0644 },
		{ .name = "a", .name_len = 1, .mode = S_IFIFO | 0644 },
	};
	struct vmanifest m = { .mode = S_IFDIR | 0755, .n = 2, .e = two }, out;
	uint8_t *raw;
	size_t len;
	/* unsorted */
	cr_assert_eq(vm_encode(&m, &raw, &len), 0);
	cr_assert_eq(vm_parse(raw, len, &out), -EIO);
	free(raw);
	/* duplicates */
	two[0].name = "a";
	cr_assert_eq(vm_sort(two, 2), -EINVAL);
	/* hidden names, "..", a slash, a regular file without digest */
	const char *bad[] = { ".merkle.verity", ".merkle.verity.x", "..", "a/b" };
	for (size_t i = 0; i < 4; i++) {
		struct vm_entry e = { .name = bad[i], .name_len = (uint16_t)strlen(bad[i]), .mode = S_IFIFO | 0644 };
		struct vmanifest one = { .mode = S_IFDIR | 0755, .n = 1, .e = &e };
		cr_assert_eq(vm_encode(&one, &raw, &len), 0);
		cr_assert_eq(vm_parse(raw, len, &out), -EIO, "%s accepted", bad[i]);
		free(raw);
	}
	struct vm_entry reg = { .name = "f", .name_len = 1, .mode = S_IFREG | 0644 };
	struct vmanifest one = { .mode = S_IFDIR | 0755, .n = 1, .e = &reg };
	cr_assert_eq(vm_encode(&one, &raw, &len), 0);
	cr_assert_eq(vm_parse(raw, len, &out), -EIO);
	free(raw);
}
