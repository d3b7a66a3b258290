/* tests/verity/test_verity_ioctl.c — the fs-verity ioctls through
 * uvfs_ioctl on a verity mount: FS_IOC_MEASURE_VERITY gives the file's
 * fs-verity digest (what `fsverity digest` prints for the same bytes),
 * FS_IOC_GETFLAGS shows FS_VERITY_FL, and FS_IOC_ENABLE_VERITY on a sealed
 * (read-only) mount is EROFS as on a read-only Linux mount. */
#include <linux/fs.h>
#include <linux/fsverity.h>

#include "verityfs_util.h"

#define N (5 * 4096 + 17)

FX_TEST(verity_ioctl, measure_and_getflags)
{
	uint8_t hash[32];
	struct uvfs_mount *m;
	struct uvfs_file *f, *d;
	fx_must_mkdir("/lower", 0755);
	vu_write("/lower/f", N, 4);
	vu_seal(hash);
	FX_ASSERT_OK(vu_mount(hash, NULL, &m));
	FX_ASSERT_OK(vu_open(m, "f", O_RDONLY, &f));

	/* The digest of the same bytes, computed independently. */
	uint8_t *p = vu_pattern(N, 4);
	struct uvfs_merkle_params mp = { 0 };
	struct uvfs_merkle_result res;
	FX_ASSERT_OK(uvfs_merkle_build_buf(&mp, p, N, &res));
	free(p);

	_Alignas(8) uint8_t mdbuf[sizeof(struct fsverity_digest) + 64] = { 0 };
	struct fsverity_digest *mdh = (void *)mdbuf;
	mdh->digest_size = 64;
	cr_assert_eq(uvfs_ioctl(f, FS_IOC_MEASURE_VERITY, mdh), 0);
	cr_assert_eq(mdh->digest_algorithm, FS_VERITY_HASH_ALG_SHA256);
	cr_assert_eq(mdh->digest_size, 32);
	cr_assert(!memcmp(mdh->digest, res.digest, 32));
	uvfs_merkle_result_free(&res);
	/* Too small a buffer: EOVERFLOW, and the size needed (Linux). */
	mdh->digest_size = 31;
	cr_assert_eq(uvfs_ioctl(f, FS_IOC_MEASURE_VERITY, mdh), -EOVERFLOW);
	cr_assert_eq(mdh->digest_size, 32);

	int fl = 0;
	cr_assert_eq(uvfs_ioctl(f, FS_IOC_GETFLAGS, &fl), 0);
	cr_assert(fl & FS_VERITY_FL);
	struct fsverity_enable_arg ea = { .version = 1, .hash_algorithm = 1, .block_size = 4096 };
	cr_assert_eq(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &ea), -EROFS);
	cr_assert_eq(uvfs_ioctl(f, 0x12345678, NULL), -ENOTTY);

	/* A directory has no verity digest of its own (ENODATA, as Linux). */
	FX_ASSERT_OK(vu_open(m, ".", O_RDONLY | O_DIRECTORY, &d));
	mdh->digest_size = 64;
	cr_assert_eq(uvfs_ioctl(d, FS_IOC_MEASURE_VERITY, mdh), -ENODATA);
	fl = -1;
	cr_assert_eq(uvfs_ioctl(d, FS_IOC_GETFLAGS, &fl), 0);
	cr_assert(!(fl & FS_VERITY_FL));
	uvfs_file_put(d);
	uvfs_file_put(f);
	uvfs_mount_put(m);
}
