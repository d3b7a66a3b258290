/* tests/verity/verityfs_util.h — a small sealed tmpfs tree and a verity
 * mount over it, for the suites beside test_verityfs.c (ioctls, the data
 * cache). Header-only (static): each test binary is self-contained. */
#pragma once

#include <stdlib.h>

#include "fixture.h"
#include "fsimpl/verity/verity.h"
#include "fsimpl/verity/merkle/merkle.h"
#include "uvfs_fs.h"

static inline uint8_t *vu_pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n);
	cr_assert_not_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 7 + seed * 131 + (i >> 12)) % 251);
	return p;
}

/* /lower/NAME holding n bytes of pattern seed. */
static inline void vu_write(const char *path, size_t n, unsigned seed)
{
	uint8_t *p = vu_pattern(n, seed);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644, &f));
	cr_assert_eq(uvfs_pwrite(f, p, n, 0), (ssize_t)n);
	uvfs_file_put(f);
	free(p);
}

static inline void vu_seal(uint8_t hash[32])
{
	struct uvfs_vd lower;
	struct uvfs_pathop pop = fx_pop("/lower");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pop, 0, &lower));
	FX_ASSERT_OK(uvfs_verity_seal(fx.vfs, &fx.cred, &lower, hash));
	uvfs_vd_put(&lower);
}

static inline void vu_register(void)
{
	int rr = uvfs_register_fs_type(fx.vfs, &uvfs_verity_type, UVFS_FS_USER_LIST);
	cr_assert(rr == 0 || rr == -EEXIST); /* the second mount of a test */
}

/* hash NULL: no root hash (runtime enable). */
static inline int vu_mount(const uint8_t *hash, const char *data, struct uvfs_mount **out)
{
	vu_register();
	struct uvfs_verity_mount vm = { .root_hash = hash, .action = UVFS_VERITY_ACTION_ERROR };
	struct uvfs_pathop pop = fx_pop("/lower");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pop, 0, &vm.lower));
	struct uvfs_mount_opts mo = { .data = data, .internal = &vm, .internal_mount = true };
	int err = uvfs_mount_disconnected(fx.vfs, &fx.cred, "none", "verity", &mo, out);
	uvfs_vd_put(&vm.lower);
	return err;
}

static inline int vu_open(struct uvfs_mount *m, const char *path, int flags, struct uvfs_file **f)
{
	struct uvfs_vd r = { m, uvfs_mount_root(m) };
	struct uvfs_pathop pop = { .root = r, .start = r, .path = path, .flags = UVFS_PATH_FOLLOW };
	return uvfs_open_at(fx.vfs, &fx.cred, &pop, flags, 0, 0, f);
}

/* Reads all of f (n bytes) and checks it against pattern seed. */
static inline void vu_check(struct uvfs_file *f, size_t n, unsigned seed)
{
	uint8_t *want = vu_pattern(n, seed), *got = malloc(n + 1);
	size_t have = 0;
	ssize_t r;
	while ((r = uvfs_pread(f, got + have, n + 1 - have, (off_t)have)) > 0)
		have += (size_t)r;
	cr_assert_eq(r, 0, "read: %s", fx_err(r));
	cr_assert_eq(have, n);
	cr_assert(!memcmp(got, want, n));
	free(want);
	free(got);
}
