/* tests/verity/test_verity_boot.c — the boot form,
 * uvfs_verity_mount_internal: verity over a wrapped mount with the option
 * string boot compiles from the spec ("root_hash=HEX,root_name=NAME", the
 * seed's form; an empty root_hash means runtime enable), keeping the
 * wrapped mount's ro/noexec/noatime (the seed dropped them: design.md §6). */
#include <linux/fs.h>
#include <linux/fsverity.h>
#include <stdio.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>

#include "verityfs_util.h"

#define N (3 * 4096 + 5)

/* A tmpfs with one executable file, mounted at /lower (the wrapped mount). */
static struct uvfs_mount *wrapped(void)
{
	fx_must_mkdir("/lower", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/lower", NULL, 0));
	vu_write("/lower/prog", N, 7);
	FX_ASSERT_OK(fx_chmod("/lower/prog", 0755));
	struct uvfs_vd vd;
	struct uvfs_pathop pop = fx_popf("/lower");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pop, 0, &vd));
	struct uvfs_mount *m = vd.mount;
	uvfs_mount_get(m);
	uvfs_vd_put(&vd);
	int rr = uvfs_register_fs_type(fx.vfs, &uvfs_verity_type, UVFS_FS_USER_LIST);
	cr_assert(rr == 0 || rr == -EEXIST);
	return m;
}

/* An open for execution (what execve does) or for writing. (access(X_OK)
 * is not used: the core does not check noexec there yet.) */
static int access_in(struct uvfs_mount *m, const char *path, int mode)
{
	struct uvfs_vd r = { m, uvfs_mount_root(m) };
	struct uvfs_pathop pop = { .root = r, .start = r, .path = path, .flags = UVFS_PATH_FOLLOW };
	struct uvfs_file *f;
	int err = uvfs_open_at(fx.vfs, &fx.cred, &pop, mode == X_OK ? O_RDONLY : O_WRONLY, 0,
			       mode == X_OK ? UVFS_OPEN_EXEC : 0, &f);
	if (!err)
		uvfs_file_put(f);
	return err;
}

static unsigned long statfs_flags(struct uvfs_mount *m)
{
	struct uvfs_vd r = { m, uvfs_mount_root(m) };
	struct uvfs_pathop pop = { .root = r, .start = r, .path = "", .flags = UVFS_PATH_EMPTY };
	struct statfs sf;
	FX_ASSERT_OK(uvfs_statfs_at(fx.vfs, &fx.cred, &pop, &sf));
	return sf.f_flags;
}

FX_TEST(verity_boot, flags_kept_sealed)
{
	struct uvfs_mount *lower = wrapped(), *m;
	uint8_t hash[32];
	char hex[65], data[160];
	vu_seal(hash);
	uvfs_verity_hash_hex(hash, hex);
	snprintf(data, sizeof data, "root_hash=%s,root_name=lower", hex);

	/* Without flags: exec allowed (the file is 0755). */
	FX_ASSERT_OK(uvfs_verity_mount_internal(fx.vfs, &fx.cred, lower, data, UVFS_VERITY_ACTION_ERROR, 0, &m));
	FX_ASSERT_OK(access_in(m, "prog", X_OK));
	cr_assert(!uvfs_mount_readonly(m));
	uvfs_mount_put(m);

	unsigned fl = UVFS_MNT_RDONLY | UVFS_MNT_NOEXEC | UVFS_MNT_NOATIME;
	FX_ASSERT_OK(uvfs_verity_mount_internal(fx.vfs, &fx.cred, lower, data, UVFS_VERITY_ACTION_ERROR, fl, &m));
	cr_assert(uvfs_mount_readonly(m));
	cr_assert(uvfs_mount_flags(m) & UVFS_MNT_NOEXEC);
	cr_assert(uvfs_mount_flags(m) & UVFS_MNT_NOATIME);
	unsigned long sff = statfs_flags(m);
	cr_assert((sff & ST_RDONLY) && (sff & ST_NOEXEC) && (sff & ST_NOATIME), "%#lx", sff);
	FX_ASSERT_ERR(access_in(m, "prog", X_OK), -EACCES); /* noexec kept */
	FX_ASSERT_ERR(access_in(m, "prog", W_OK), -EROFS);
	struct uvfs_file *f;
	FX_ASSERT_OK(vu_open(m, "prog", O_RDONLY, &f));
	vu_check(f, N, 7);
	uvfs_file_put(f);
	uvfs_mount_put(m);

	/* A wrong hash still fails the mount. */
	hex[3] = hex[3] == 'a' ? 'b' : 'a';
	snprintf(data, sizeof data, "root_hash=%s,root_name=lower", hex);
	FX_ASSERT_ERR(uvfs_verity_mount_internal(fx.vfs, &fx.cred, lower, data, UVFS_VERITY_ACTION_ERROR, fl, &m),
		      -EIO);
	uvfs_mount_put(lower);
	FX_ASSERT_OK(fx_umount("/lower", 0));
}

/* The seed's "root_hash=," (no hash): runtime enable, and on a read-only
 * mount FS_IOC_ENABLE_VERITY is EROFS (mnt_want_write_file). */
FX_TEST(verity_boot, runtime_form_readonly)
{
	struct uvfs_mount *lower = wrapped(), *m;
	FX_ASSERT_OK(uvfs_verity_mount_internal(fx.vfs, &fx.cred, lower, "root_hash=,root_name=lower",
						UVFS_VERITY_ACTION_PANIC, UVFS_MNT_RDONLY | UVFS_MNT_NOEXEC, &m));
	cr_assert(uvfs_mount_readonly(m));
	FX_ASSERT_ERR(access_in(m, "prog", X_OK), -EACCES);
	struct uvfs_file *f;
	FX_ASSERT_OK(vu_open(m, "prog", O_RDONLY, &f));
	struct fsverity_enable_arg a = { .version = 1, .hash_algorithm = 1, .block_size = 4096 };
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a), -EROFS);
	vu_check(f, N, 7);
	uvfs_file_put(f);
	uvfs_mount_put(m);
	/* Bad arguments. */
	FX_ASSERT_ERR(uvfs_verity_mount_internal(fx.vfs, &fx.cred, NULL, "", 0, 0, &m), -EINVAL);
	FX_ASSERT_ERR(uvfs_verity_mount_internal(fx.vfs, &fx.cred, lower, "root_hash=zz", 0, 0, &m), -EINVAL);
	uvfs_mount_put(lower);
	FX_ASSERT_OK(fx_umount("/lower", 0));
}
