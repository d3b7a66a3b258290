/* tests/verity/test_verity_runtime.c — runtime enable: a verity mount with
 * no root hash is an unverified view of the lower in which
 * FS_IOC_ENABLE_VERITY builds and stores a file's fs-verity tree; from then
 * on reads of that file are verified, FS_IOC_MEASURE_VERITY gives what
 * `fsverity digest` prints for the same bytes and the file is immutable.
 * The errnos are Linux fs/verity/enable.c's (fsverity_ioctl_enable and
 * fsverity_file_open / fsverity_prepare_setattr), in the kernel's order.
 * (The host kernel here has no CONFIG_FS_VERITY, so the kernel itself
 * cannot be the oracle; `fsverity digest`, when installed, is.) */
#include <linux/fs.h>
#include <linux/fsverity.h>
#include <stdio.h>
#include <unistd.h>

#include "verityfs_util.h"

#define N (9 * 4096 + 123)

static struct fsverity_enable_arg ea(unsigned alg, unsigned bs)
{
	return (struct fsverity_enable_arg){ .version = 1, .hash_algorithm = alg, .block_size = bs };
}

static void measure(struct uvfs_file *f, uint8_t out[64], unsigned *alg, unsigned *size)
{
	_Alignas(8) uint8_t mdbuf[sizeof(struct fsverity_digest) + 64] = { 0 };
	struct fsverity_digest *mdh = (void *)mdbuf;
	mdh->digest_size = 64;
	FX_ASSERT_OK(uvfs_ioctl(f, FS_IOC_MEASURE_VERITY, mdh));
	memcpy(out, mdh->digest, 64);
	*alg = mdh->digest_algorithm;
	*size = mdh->digest_size;
}

/* `fsverity digest` of the same bytes (the pattern in a host file), or
 * NULL when the tool is missing. */
static char *fsverity_digest(size_t n, unsigned seed)
{
	if (system("command -v fsverity >/dev/null 2>&1"))
		return NULL;
	char path[] = "/tmp/uvfs-verity-rt-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	uint8_t *p = vu_pattern(n, seed);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
	free(p);
	char cmd[128], line[256];
	snprintf(cmd, sizeof cmd, "fsverity digest %s", path);
	FILE *pf = popen(cmd, "r");
	cr_assert_not_null(pf);
	cr_assert_not_null(fgets(line, sizeof line, pf));
	pclose(pf);
	unlink(path);
	*strchr(line, ' ') = 0;
	return strdup(line);
}

FX_TEST(verity_runtime, enable_measure_verify)
{
	struct uvfs_mount *m;
	struct uvfs_file *f;
	fx_must_mkdir("/lower", 0755);
	vu_write("/lower/f", N, 3);
	FX_ASSERT_OK(vu_mount(NULL, NULL, &m));
	FX_ASSERT_OK(vu_open(m, "f", O_RDONLY, &f));

	/* Not a verity file yet: no flag, no digest, reads unverified. */
	int fl = -1;
	FX_ASSERT_OK(uvfs_ioctl(f, FS_IOC_GETFLAGS, &fl));
	cr_assert(!(fl & FS_VERITY_FL));
	_Alignas(8) uint8_t mdbuf[sizeof(struct fsverity_digest) + 64] = { 0 };
	struct fsverity_digest *mdh = (void *)mdbuf;
	mdh->digest_size = 64;
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_MEASURE_VERITY, mdh), -ENODATA);
	vu_check(f, N, 3);
	struct uvfs_verity_stats st;
	FX_ASSERT_ERR(uvfs_verity_file_stats(f, &st), -EINVAL);

	struct fsverity_enable_arg a = ea(FS_VERITY_HASH_ALG_SHA256, 4096);
	FX_ASSERT_OK(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a));
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a), -EEXIST);

	uint8_t d[64];
	unsigned alg, size;
	measure(f, d, &alg, &size);
	cr_assert_eq(alg, FS_VERITY_HASH_ALG_SHA256);
	cr_assert_eq(size, 32);
	uint8_t *p = vu_pattern(N, 3);
	struct uvfs_merkle_params mp = { 0 };
	struct uvfs_merkle_result res;
	FX_ASSERT_OK(uvfs_merkle_build_buf(&mp, p, N, &res));
	free(p);
	cr_assert(!memcmp(d, res.digest, 32));
	uvfs_merkle_result_free(&res);
	char *want = fsverity_digest(N, 3);
	if (want) {
		char got[80] = "sha256:";
		uvfs_verity_hash_hex(d, got + 7);
		cr_assert_str_eq(got, want);
		free(want);
	}
	FX_ASSERT_OK(uvfs_ioctl(f, FS_IOC_GETFLAGS, &fl));
	cr_assert(fl & FS_VERITY_FL);

	/* Reads through the same open file are now verified. */
	vu_check(f, N, 3);
	FX_ASSERT_OK(uvfs_verity_file_stats(f, &st));
	cr_assert_gt(st.data_blocks_verified, 0);
	uvfs_file_put(f);

	/* The tree is stored beside the file, as sealing stores it. */
	struct statx sx;
	FX_ASSERT_OK(fx_stat("/lower/.merkle.verity.f", &sx));
	cr_assert_gt(sx.stx_size, 256);

	/* Immutable now (Linux: EPERM for write opens and size changes). */
	FX_ASSERT_ERR(vu_open(m, "f", O_WRONLY, &f), -EPERM);
	FX_ASSERT_ERR(vu_open(m, "f", O_RDONLY | O_TRUNC, &f), -EPERM);
	uvfs_mount_put(m);

	/* A byte flipped on the lower: a fresh mount finds the stored tree
	 * and that block reads EIO, the rest still reads; the digest stays. */
	struct uvfs_file *lf;
	FX_ASSERT_OK(fx_open("/lower/f", O_WRONLY, 0, &lf));
	cr_assert_eq(uvfs_pwrite(lf, "X", 1, 5 * 4096 + 7), 1);
	uvfs_file_put(lf);
	FX_ASSERT_OK(vu_mount(NULL, "", &m));
	FX_ASSERT_OK(vu_open(m, "f", O_RDONLY, &f));
	uint8_t d2[64], buf[4096];
	measure(f, d2, &alg, &size);
	cr_assert(!memcmp(d, d2, 32));
	cr_assert_eq(uvfs_pread(f, buf, sizeof buf, 0), 4096);
	FX_ASSERT_ERR(uvfs_pread(f, buf, sizeof buf, 5 * 4096), -EIO);
	uvfs_file_put(f);
	uvfs_mount_put(m);
}

/* The argument checks and the states, in fsverity_ioctl_enable's order. */
FX_TEST(verity_runtime, enable_errnos)
{
	struct uvfs_mount *m;
	struct uvfs_file *f, *w, *d;
	fx_must_mkdir("/lower", 0755);
	fx_must_mkdir("/lower/dir", 0755);
	vu_write("/lower/f", N, 1);
	vu_write("/lower/ro", 100, 2);
	FX_ASSERT_OK(fx_chmod("/lower/ro", 0444));
	FX_ASSERT_OK(vu_mount(NULL, "root_hash=", &m));
	FX_ASSERT_OK(vu_open(m, "f", O_RDONLY, &f));

	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, NULL), -EFAULT);
	struct fsverity_enable_arg a = ea(1, 4096);
	a.version = 2;
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a), -EINVAL);
	a = ea(1, 4096);
	a.__reserved1 = 1;
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a), -EINVAL);
	a = ea(1, 4096);
	a.__reserved2[3] = 1;
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a), -EINVAL);
	a = ea(1, 3000);
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a), -EINVAL);
	a = ea(1, 4096);
	a.salt_size = 33;
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a), -EMSGSIZE);
	a = ea(9, 4096);
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a), -EINVAL);
	a = ea(1, 512); /* below fs-verity's 1 KiB minimum */
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a), -EINVAL);
	a = ea(1, 8192); /* above the page size */
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a), -EINVAL);

	/* A file open for writing: ETXTBSY (deny_write_access); a write-only
	 * fd itself: EBADF (the tree is built by reading it). */
	a = ea(1, 4096);
	FX_ASSERT_OK(vu_open(m, "f", O_WRONLY, &w));
	FX_ASSERT_ERR(uvfs_ioctl(w, FS_IOC_ENABLE_VERITY, &a), -EBADF);
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a), -ETXTBSY);
	cr_assert_eq(uvfs_pwrite(w, "hello", 5, N), 5);
	uvfs_file_put(w);
	struct statx sx;
	struct uvfs_vd r = { m, uvfs_mount_root(m) };
	struct uvfs_pathop pop = { .root = r, .start = r, .path = "f" };
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &pop, STATX_BASIC_STATS, &sx));
	cr_assert_eq(sx.stx_size, N + 5); /* the write went through and shows */
	FX_ASSERT_OK(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a));
	FX_ASSERT_ERR(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a), -EEXIST);
	uvfs_file_put(f);

	/* Write permission is required (file_permission(MAY_WRITE)). */
	FX_ASSERT_OK(vu_open(m, "ro", O_RDONLY, &f));
	struct uvfs_file *uf;
	pop.path = "ro";
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.user, &pop, O_RDONLY, 0, 0, &uf));
	FX_ASSERT_ERR(uvfs_ioctl(uf, FS_IOC_ENABLE_VERITY, &a), -EACCES);
	uvfs_file_put(uf);
	/* root overrides the mode, as CAP_DAC_OVERRIDE does */
	FX_ASSERT_OK(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a));
	uvfs_file_put(f);

	/* Directories: EISDIR. */
	FX_ASSERT_OK(vu_open(m, "dir", O_RDONLY | O_DIRECTORY, &d));
	FX_ASSERT_ERR(uvfs_ioctl(d, FS_IOC_ENABLE_VERITY, &a), -EISDIR);
	uvfs_file_put(d);
	uvfs_mount_put(m);
}

/* SHA-512, a salt, 1 KiB blocks and an empty file: the measurement is
 * what the Merkle library (byte-identical to fsverity) gives. */
FX_TEST(verity_runtime, enable_params)
{
	struct uvfs_mount *m;
	struct uvfs_file *f;
	fx_must_mkdir("/lower", 0755);
	vu_write("/lower/f", N, 5);
	vu_write("/lower/e", 0, 5);
	FX_ASSERT_OK(vu_mount(NULL, NULL, &m));
	FX_ASSERT_OK(vu_open(m, "f", O_RDONLY, &f));
	static const uint8_t salt[5] = { 1, 2, 3, 4, 5 };
	struct fsverity_enable_arg a = ea(FS_VERITY_HASH_ALG_SHA512, 1024);
	a.salt_size = sizeof salt;
	a.salt_ptr = (uintptr_t)salt;
	FX_ASSERT_OK(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a));
	uint8_t d[64];
	unsigned alg, size;
	measure(f, d, &alg, &size);
	cr_assert_eq(alg, FS_VERITY_HASH_ALG_SHA512);
	cr_assert_eq(size, 64);
	uint8_t *p = vu_pattern(N, 5);
	struct uvfs_merkle_params mp = { .hash_alg = 2, .block_size = 1024, .salt = salt, .salt_size = 5 };
	struct uvfs_merkle_result res;
	FX_ASSERT_OK(uvfs_merkle_build_buf(&mp, p, N, &res));
	free(p);
	cr_assert(!memcmp(d, res.digest, 64));
	uvfs_merkle_result_free(&res);
	vu_check(f, N, 5);
	uvfs_file_put(f);

	FX_ASSERT_OK(vu_open(m, "e", O_RDONLY, &f));
	struct fsverity_enable_arg b = ea(1, 4096);
	FX_ASSERT_OK(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &b));
	measure(f, d, &alg, &size);
	struct uvfs_merkle_params mp0 = { 0 };
	FX_ASSERT_OK(uvfs_merkle_build_buf(&mp0, "", 0, &res));
	cr_assert(!memcmp(d, res.digest, 32));
	uvfs_merkle_result_free(&res);
	uvfs_file_put(f);
	uvfs_mount_put(m);

	/* A new mount picks both up from their stored trees. */
	FX_ASSERT_OK(vu_mount(NULL, NULL, &m));
	FX_ASSERT_OK(vu_open(m, "f", O_RDONLY, &f));
	vu_check(f, N, 5);
	measure(f, d, &alg, &size);
	cr_assert_eq(size, 64);
	uvfs_file_put(f);
	uvfs_mount_put(m);
}

/* Hidden names stay hidden in the runtime view: readdir skips the trees,
 * lookup of one is EPERM; mutations other than file data stay EROFS. */
FX_TEST(verity_runtime, hidden_and_readonly_namespace)
{
	struct uvfs_mount *m;
	struct uvfs_file *f;
	fx_must_mkdir("/lower", 0755);
	fx_must_mkdir("/lower/sub", 0755);
	vu_write("/lower/f", 10, 1);
	FX_ASSERT_OK(fx_symlink("f", "/lower/l"));
	FX_ASSERT_OK(vu_mount(NULL, NULL, &m));
	FX_ASSERT_OK(vu_open(m, "f", O_RDONLY, &f));
	struct fsverity_enable_arg a = ea(1, 4096);
	FX_ASSERT_OK(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a));
	uvfs_file_put(f);
	FX_ASSERT_ERR(vu_open(m, ".merkle.verity.f", O_RDONLY, &f), -EPERM);

	char names[256] = "";
	struct uvfs_file *d;
	FX_ASSERT_OK(vu_open(m, ".", O_RDONLY | O_DIRECTORY, &d));
	char ent[64][64];
	int n = 0;
	for (;;) {
		struct uvfs_dirent64 {
			uint64_t ino;
			int64_t off;
			unsigned short reclen;
			unsigned char type;
			char name[];
		};
		char buf[4096];
		ssize_t r = uvfs_getdents64(d, buf, sizeof buf);
		cr_assert_geq(r, 0);
		if (!r)
			break;
		for (ssize_t o = 0; o < r;) {
			struct uvfs_dirent64 *e = (void *)(buf + o);
			snprintf(ent[n++], 64, "%s", e->name);
			o += e->reclen;
		}
	}
	uvfs_file_put(d);
	for (int i = 0; i < n; i++)
		if (strcmp(ent[i], ".") && strcmp(ent[i], ".."))
			snprintf(names + strlen(names), sizeof names - strlen(names), "%s,", ent[i]);
	cr_assert(strstr(names, "f,") && strstr(names, "l,") && strstr(names, "sub,"), "%s", names);
	cr_assert(!strstr(names, ".merkle"), "%s", names);

	struct uvfs_vd r = { m, uvfs_mount_root(m) };
	struct uvfs_pathop pop = { .root = r, .start = r, .path = "new", .flags = 0 };
	FX_ASSERT_ERR(uvfs_mkdir_at(fx.vfs, &fx.cred, &pop, 0755), -EROFS);
	char t[16];
	pop.path = "l";
	cr_assert_eq(uvfs_readlink_at(fx.vfs, &fx.cred, &pop, t, sizeof t), 1);
	uvfs_mount_put(m);
}

static int vu_setstat(struct uvfs_mount *m, const struct uvfs_cred *cred, const char *path,
		      const struct uvfs_setattr *a)
{
	struct uvfs_vd r = { m, uvfs_mount_root(m) };
	struct uvfs_pathop pop = { .root = r, .start = r, .path = path };
	return uvfs_setstat_at(fx.vfs, cred, &pop, a, 0);
}

static void vu_stat(struct uvfs_mount *m, const char *path, struct statx *st)
{
	struct uvfs_vd r = { m, uvfs_mount_root(m) };
	struct uvfs_pathop pop = { .root = r, .start = r, .path = path };
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &pop, STATX_BASIC_STATS, st));
}

/* Linux lets the owner chmod, chown and touch a verity file (fs-verity
 * covers the data, not the metadata) and any file of a writable fs: a
 * runtime view follows it, by path and through an open file, and the
 * change reaches the lower. The VFS's own owner checks still apply. A
 * sealed tree's manifest covers mode/uid/gid, so there it stays EROFS. */
FX_TEST(verity_runtime, chmod_chown_like_linux)
{
	struct uvfs_mount *m;
	struct uvfs_file *f;
	fx_must_mkdir("/lower", 0755);
	fx_must_mkdir("/lower/sub", 0755);
	vu_write("/lower/v", N, 4);
	vu_write("/lower/p", 10, 5);
	FX_ASSERT_OK(vu_mount(NULL, NULL, &m));
	FX_ASSERT_OK(vu_open(m, "v", O_RDONLY, &f));
	struct fsverity_enable_arg a = ea(FS_VERITY_HASH_ALG_SHA256, 4096);
	FX_ASSERT_OK(uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a));
	uint8_t d[64], d2[64];
	unsigned alg, size;
	measure(f, d, &alg, &size);

	struct statx st;
	struct uvfs_setattr sa = { .mask = STATX_MODE, .mode = 0600 };
	FX_ASSERT_OK(vu_setstat(m, &fx.cred, "v", &sa));
	vu_stat(m, "v", &st);
	cr_assert_eq(st.stx_mode & 07777, 0600);
	FX_ASSERT_OK(fx_stat("/lower/v", &st));
	cr_assert_eq(st.stx_mode & 07777, 0600);

	sa = (struct uvfs_setattr){ .mask = STATX_UID | STATX_GID, .uid = 1000, .gid = 1000 };
	FX_ASSERT_OK(vu_setstat(m, &fx.cred, "v", &sa));
	vu_stat(m, "v", &st);
	cr_assert_eq(st.stx_uid, 1000);
	cr_assert_eq(st.stx_gid, 1000);
	FX_ASSERT_OK(fx_stat("/lower/v", &st));
	cr_assert_eq(st.stx_uid, 1000);

	/* Now the owner: fchmod and utimes; another user: EPERM. */
	sa = (struct uvfs_setattr){ .mask = STATX_MODE, .mode = 0640 };
	FX_ASSERT_OK(uvfs_file_setstat(f, &fx.user, &sa));
	sa = (struct uvfs_setattr){ .mask = STATX_MTIME, .mtime = { 12345, 0 } };
	FX_ASSERT_OK(vu_setstat(m, &fx.user, "v", &sa));
	vu_stat(m, "v", &st);
	cr_assert_eq(st.stx_mode & 07777, 0640);
	cr_assert_eq(st.stx_mtime.tv_sec, 12345);
	FX_ASSERT_OK(fx_stat("/lower/v", &st));
	cr_assert_eq(st.stx_mode & 07777, 0640);
	cr_assert_eq(st.stx_mtime.tv_sec, 12345);
	sa = (struct uvfs_setattr){ .mask = STATX_MODE, .mode = 0666 };
	FX_ASSERT_ERR(vu_setstat(m, &fx.user2, "v", &sa), -EPERM);

	/* Still a verity file: same measurement, verified reads, size EPERM. */
	measure(f, d2, &alg, &size);
	cr_assert(!memcmp(d, d2, 32));
	vu_check(f, N, 4);
	sa = (struct uvfs_setattr){ .mask = STATX_SIZE, .size = 1 };
	FX_ASSERT_ERR(vu_setstat(m, &fx.cred, "v", &sa), -EPERM);
	uvfs_file_put(f);

	/* A plain file and a directory too. */
	sa = (struct uvfs_setattr){ .mask = STATX_MODE, .mode = 0604 };
	FX_ASSERT_OK(vu_setstat(m, &fx.cred, "p", &sa));
	FX_ASSERT_OK(vu_setstat(m, &fx.cred, "sub", &sa));
	FX_ASSERT_OK(fx_stat("/lower/p", &st));
	cr_assert_eq(st.stx_mode & 07777, 0604);
	FX_ASSERT_OK(fx_stat("/lower/sub", &st));
	cr_assert_eq(st.stx_mode & 07777, 0604);
	uvfs_mount_put(m);

	/* A sealed tree: EROFS by path, EPERM through an open file. */
	uint8_t h[32];
	vu_seal(h);
	FX_ASSERT_OK(vu_mount(h, NULL, &m));
	sa = (struct uvfs_setattr){ .mask = STATX_MODE, .mode = 0644 };
	FX_ASSERT_ERR(vu_setstat(m, &fx.cred, "p", &sa), -EROFS);
	sa = (struct uvfs_setattr){ .mask = STATX_UID, .uid = 0 };
	FX_ASSERT_ERR(vu_setstat(m, &fx.cred, "v", &sa), -EROFS);
	FX_ASSERT_OK(vu_open(m, "p", O_RDONLY, &f));
	sa = (struct uvfs_setattr){ .mask = STATX_MODE, .mode = 0644 };
	FX_ASSERT_ERR(uvfs_file_setstat(f, &fx.cred, &sa), -EPERM);
	uvfs_file_put(f);
	uvfs_mount_put(m);
}
