/* tests/verity/test_verityfs.c — the verity filesystem over a tmpfs lower in
 * the same instance: a sealed tree reads back whole; each kind of tampering
 * gives EIO for exactly the affected file or directory and leaves the rest
 * readable; a wrong root hash fails the mount; every mutation is EROFS. */
#include <linux/fs.h>
#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"
#include "fsimpl/verity/verity.h"
#include "uvfs_fs.h"
#include "fsimpl/verity/merkle/merkle.h"

#define BIG (600 * 1024 + 123) /* 147 blocks: a two-level tree */
#define SMALL (3 * 4096 + 100)

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n);
	cr_assert_not_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 7 + seed * 131 + (i >> 12)) % 251);
	return p;
}

static void write_bytes(const char *path, const void *p, size_t n, off_t off, int extra_flags)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open(path, O_WRONLY | O_CREAT | extra_flags, 0644, &f));
	cr_assert_eq(uvfs_pwrite(f, p, n, off), (ssize_t)n);
	uvfs_file_put(f);
}

/* /lower: a.txt, b.txt (same size, other bytes), big, empty, link -> a.txt,
 * sub/c.txt, sub/deep/d.txt, fifo. */
static void make_tree(void)
{
	fx_must_mkdir("/lower", 0755);
	fx_must_mkdir("/lower/sub", 0750);
	fx_must_mkdir("/lower/sub/deep", 0755);
	uint8_t *a = pattern(SMALL, 1), *b = pattern(SMALL, 2), *big = pattern(BIG, 3);
	write_bytes("/lower/a.txt", a, SMALL, 0, O_TRUNC);
	write_bytes("/lower/b.txt", b, SMALL, 0, O_TRUNC);
	write_bytes("/lower/big", big, BIG, 0, O_TRUNC);
	free(a);
	free(b);
	free(big);
	fx_must_write("/lower/empty", "");
	fx_must_write("/lower/sub/c.txt", "hello c\n");
	fx_must_write("/lower/sub/deep/d.txt", "deep d\n");
	FX_ASSERT_OK(fx_symlink("a.txt", "/lower/link"));
	struct uvfs_pathop fifo = fx_pop("/lower/fifo");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &fifo, S_IFIFO | 0640, 0));
	FX_ASSERT_OK(fx_chown("/lower/sub/c.txt", 1000, 1000));
}

static void seal(uint8_t hash[32])
{
	struct uvfs_vd lower;
	struct uvfs_pathop pop = fx_pop("/lower");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pop, 0, &lower));
	FX_ASSERT_OK(uvfs_verity_seal(fx.vfs, &fx.cred, &lower, hash));
	uvfs_vd_put(&lower);
}

static int mount_verity(const uint8_t *hash, const char *data, struct uvfs_mount **out)
{
	static bool registered;
	if (!registered) {
		FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &uvfs_verity_type, UVFS_FS_USER_LIST));
		registered = true;
	}
	struct uvfs_verity_mount vm = { .root_hash = hash, .action = UVFS_VERITY_ACTION_ERROR };
	struct uvfs_pathop pop = fx_pop("/lower");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pop, 0, &vm.lower));
	struct uvfs_mount_opts mo = { .data = data, .internal = &vm, .internal_mount = true };
	int err = uvfs_mount_disconnected(fx.vfs, &fx.cred, "none", "verity", &mo, out);
	uvfs_vd_put(&vm.lower);
	return err;
}

static struct uvfs_mount *mnt;

static struct uvfs_pathop vpop(const char *path, unsigned flags)
{
	struct uvfs_vd r = { mnt, uvfs_mount_root(mnt) };
	return (struct uvfs_pathop){ .root = r, .start = r, .path = path, .flags = flags };
}

/* Reads the whole file at path on the verity mount: its size or -errno. */
static ssize_t vread(const char *path, uint8_t *buf, size_t cap)
{
	struct uvfs_pathop pop = vpop(path, UVFS_PATH_FOLLOW);
	struct uvfs_file *f;
	int err = uvfs_open_at(fx.vfs, &fx.cred, &pop, O_RDONLY, 0, 0, &f);
	if (err)
		return err;
	size_t got = 0;
	ssize_t r;
	while ((r = uvfs_pread(f, buf + got, cap - got, (off_t)got)) > 0)
		got += (size_t)r;
	uvfs_file_put(f);
	return r < 0 ? r : (ssize_t)got;
}

/* Names in a verity directory, sorted, joined by ','; or -errno. */
static int vlist(const char *path, char *out, size_t len)
{
	struct uvfs_pathop pop = vpop(path, UVFS_PATH_FOLLOW);
	struct uvfs_file *f;
	int err = uvfs_open_at(fx.vfs, &fx.cred, &pop, O_RDONLY | O_DIRECTORY, 0, 0, &f);
	if (err)
		return err;
	char buf[4096];
	char names[64][64];
	int n = 0;
	ssize_t r;
	while ((r = uvfs_getdents64(f, buf, sizeof buf)) > 0) {
		for (ssize_t o = 0; o < r;) {
			struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *de =
				(void *)(buf + o);
			if (strcmp(de->name, ".") && strcmp(de->name, "..") && n < 64)
				snprintf(names[n++], 64, "%s", de->name);
			o += de->reclen;
		}
	}
	uvfs_file_put(f);
	if (r < 0)
		return (int)r;
	qsort(names, (size_t)n, 64, (int (*)(const void *, const void *))strcmp);
	out[0] = 0;
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "", names[i]);
	return 0;
}

/* The expected content of each file, by verity path. */
static ssize_t expect(const char *path, uint8_t **out)
{
	if (!strcmp(path, "/a.txt") || !strcmp(path, "/link"))
		return *out = pattern(SMALL, 1), SMALL;
	if (!strcmp(path, "/b.txt"))
		return *out = pattern(SMALL, 2), SMALL;
	if (!strcmp(path, "/big"))
		return *out = pattern(BIG, 3), BIG;
	*out = malloc(16);
	if (!strcmp(path, "/empty"))
		return 0;
	if (!strcmp(path, "/sub/c.txt"))
		return memcpy(*out, "hello c\n", 8), 8;
	if (!strcmp(path, "/sub/deep/d.txt"))
		return memcpy(*out, "deep d\n", 7), 7;
	cr_assert_fail("no expectation for %s", path);
	return -1;
}

static const char *const files[] = { "/a.txt", "/b.txt", "/big", "/empty", "/link", "/sub/c.txt",
				     "/sub/deep/d.txt" };
static const char *const dirs[] = { "/", "/sub", "/sub/deep" };
static const char *const listings[] = { "a.txt,b.txt,big,empty,fifo,link,sub", "c.txt,deep", "d.txt" };

static bool in(const char *path, const char *const *bad)
{
	for (; bad && *bad; bad++)
		if (!strcmp(*bad, path))
			return true;
	return false;
}

/* Every file reads back exactly, every directory lists exactly, except
 * those in bad, which give EIO. */
static void check_all(const char *const *bad)
{
	uint8_t *buf = malloc(BIG + 4096);
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		ssize_t r = vread(files[i], buf, BIG + 4096);
		if (in(files[i], bad)) {
			cr_assert_eq(r, -EIO, "%s: expected EIO, got %s", files[i], fx_err(r));
			continue;
		}
		uint8_t *want;
		ssize_t n = expect(files[i], &want);
		cr_assert_eq(r, n, "%s: read %s, expected %zd bytes", files[i], r < 0 ? fx_err(r) : "", n);
		cr_assert(!memcmp(buf, want, (size_t)n), "%s: wrong bytes", files[i]);
		free(want);
	}
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		char got[1024];
		int r = vlist(dirs[i], got, sizeof got);
		if (in(dirs[i], bad)) {
			cr_assert_eq(r, -EIO, "%s: listing expected EIO, got %s", dirs[i], fx_err(r));
			continue;
		}
		FX_ASSERT_OK(r);
		cr_assert_str_eq(got, listings[i], "%s", dirs[i]);
	}
	free(buf);
}

static void umount_verity(void)
{
	uvfs_mount_put(mnt);
	mnt = NULL;
}

/* Seal, tamper (as root on the lower), mount, check. */
static void tamper_case(void (*tamper)(void), const char *const *bad)
{
	uint8_t hash[32];
	make_tree();
	seal(hash);
	tamper();
	FX_ASSERT_OK(mount_verity(hash, NULL, &mnt));
	check_all(bad);
	umount_verity();
}

FX_TEST(verityfs, sealed_tree_reads_back)
{
	uint8_t hash[32], hash2[32];
	make_tree();
	seal(hash);
	seal(hash2); /* re-sealing is stable: trees and manifests are not part of what is sealed */
	cr_assert(!memcmp(hash, hash2, 32));
	FX_ASSERT_OK(mount_verity(hash, NULL, &mnt));
	check_all(NULL);
	/* attributes come from the manifest */
	struct statx st;
	struct uvfs_pathop pop = vpop("/sub/c.txt", 0);
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &pop, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_mode, S_IFREG | 0644);
	cr_assert_eq(st.stx_uid, 1000);
	cr_assert_eq(st.stx_size, 8);
	pop = vpop("/sub", 0);
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &pop, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_mode, S_IFDIR | 0750);
	pop = vpop("/fifo", 0);
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &pop, STATX_BASIC_STATS, &st));
	cr_assert_eq(st.stx_mode, S_IFIFO | 0640);
	char t[64];
	pop = vpop("/link", 0);
	cr_assert_eq(uvfs_readlink_at(fx.vfs, &fx.cred, &pop, t, sizeof t), 5);
	cr_assert(!memcmp(t, "a.txt", 5));
	/* the hidden trees and manifests are not part of the view */
	pop = vpop(".merkle.verity", 0);
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &pop, STATX_BASIC_STATS, &st), -EPERM);
	pop = vpop("sub/.merkle.verity.c.txt", 0);
	struct uvfs_file *f;
	FX_ASSERT_ERR(uvfs_open_at(fx.vfs, &fx.cred, &pop, O_RDONLY, 0, 0, &f), -EPERM);
	pop = vpop("nonexistent", 0);
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &pop, STATX_BASIC_STATS, &st), -ENOENT);
	/* permission checks use the sealed attributes: sub is 0750 root */
	pop = vpop("/sub/c.txt", 0);
	FX_ASSERT_ERR(uvfs_open_at(fx.vfs, &fx.user2, &pop, O_RDONLY, 0, 0, &f), -EACCES);
	umount_verity();
}

FX_TEST(verityfs, every_mutation_is_erofs)
{
	uint8_t hash[32];
	make_tree();
	seal(hash);
	FX_ASSERT_OK(mount_verity(hash, NULL, &mnt));
	struct uvfs_pathop pop = vpop("/newdir", 0);
	FX_ASSERT_ERR(uvfs_mkdir_at(fx.vfs, &fx.cred, &pop, 0755), -EROFS);
	struct uvfs_file *f;
	pop = vpop("/newfile", 0);
	FX_ASSERT_ERR(uvfs_open_at(fx.vfs, &fx.cred, &pop, O_CREAT | O_WRONLY, 0644, 0, &f), -EROFS);
	FX_ASSERT_ERR(uvfs_symlink_at(fx.vfs, &fx.cred, "x", &pop), -EROFS);
	pop = vpop("/a.txt", 0);
	FX_ASSERT_ERR(uvfs_open_at(fx.vfs, &fx.cred, &pop, O_WRONLY, 0, 0, &f), -EROFS);
	FX_ASSERT_ERR(uvfs_open_at(fx.vfs, &fx.cred, &pop, O_RDWR, 0, 0, &f), -EROFS);
	FX_ASSERT_ERR(uvfs_open_at(fx.vfs, &fx.cred, &pop, O_RDONLY | O_TRUNC, 0, 0, &f), -EROFS);
	FX_ASSERT_ERR(uvfs_unlink_at(fx.vfs, &fx.cred, &pop), -EROFS);
	struct uvfs_pathop to = vpop("/a2.txt", 0);
	FX_ASSERT_ERR(uvfs_rename_at(fx.vfs, &fx.cred, &pop, &to, 0), -EROFS);
	FX_ASSERT_ERR(uvfs_link_at(fx.vfs, &fx.cred, &pop, &to), -EROFS);
	struct uvfs_setattr sa = { .mask = STATX_MODE, .mode = 0600 };
	FX_ASSERT_ERR(uvfs_setstat_at(fx.vfs, &fx.cred, &pop, &sa, 0), -EROFS);
	FX_ASSERT_ERR(uvfs_setxattr_at(fx.vfs, &fx.cred, &pop, "user.x", "1", 1, 0), -EROFS);
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.cred, &pop, O_RDONLY, 0, 0, &f));
	FX_ASSERT_ERR(uvfs_file_setstat(f, &fx.cred, &sa), -EPERM); /* through the file: EPERM */
	FX_ASSERT_ERR(uvfs_write(f, "x", 1), -EBADF);
	uvfs_file_put(f);
	pop = vpop("/sub/deep", 0);
	FX_ASSERT_ERR(uvfs_rmdir_at(fx.vfs, &fx.cred, &pop), -EROFS);
	/* nothing changed below */
	check_all(NULL);
	umount_verity();
}

static void flip_big(void)
{
	uint8_t b;
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/lower/big", O_RDWR, 0, &f));
	cr_assert_eq(uvfs_pread(f, &b, 1, 300000), 1);
	b ^= 0x10;
	cr_assert_eq(uvfs_pwrite(f, &b, 1, 300000), 1);
	uvfs_file_put(f);
}
FX_TEST(verityfs, flipped_byte)
{
	/* The log line names the file: capture stderr. */
	FILE *log = tmpfile();
	int saved = dup(2);
	dup2(fileno(log), 2);
	tamper_case(flip_big, (const char *[]){ "/big", NULL });
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char text[4096] = { 0 };
	rewind(log);
	size_t n = fread(text, 1, sizeof text - 1, log);
	fclose(log);
	cr_assert(n > 0 && strstr(text, "verity: /big:"), "log: %s", text);
}

/* Only the block that changed is refused: the file's first block still reads. */
FX_TEST(verityfs, flipped_byte_other_blocks_read)
{
	uint8_t hash[32], buf[4096];
	make_tree();
	seal(hash);
	flip_big();
	FX_ASSERT_OK(mount_verity(hash, NULL, &mnt));
	struct uvfs_pathop pop = vpop("/big", 0);
	struct uvfs_file *f;
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.cred, &pop, O_RDONLY, 0, 0, &f));
	uint8_t *want = pattern(BIG, 3);
	cr_assert_eq(uvfs_pread(f, buf, 4096, 0), 4096);
	cr_assert(!memcmp(buf, want, 4096));
	FX_ASSERT_ERR(uvfs_pread(f, buf, 100, 300000 - 50), -EIO);
	cr_assert_eq(uvfs_pread(f, buf, 4096, BIG - 4096), 4096);
	cr_assert(!memcmp(buf, want + BIG - 4096, 4096));
	free(want);
	uvfs_file_put(f);
	umount_verity();
}

static void append_a(void) { write_bytes("/lower/a.txt", "x", 1, SMALL, 0); }
FX_TEST(verityfs, appended_byte) { tamper_case(append_a, (const char *[]){ "/a.txt", "/link", NULL }); }

static void truncate_c(void)
{
	struct uvfs_pathop pop = fx_pop("/lower/sub/c.txt");
	struct uvfs_setattr sa = { .mask = STATX_SIZE, .size = 7 };
	FX_ASSERT_OK(uvfs_setstat_at(fx.vfs, &fx.cred, &pop, &sa, 0));
}
FX_TEST(verityfs, truncated_byte) { tamper_case(truncate_c, (const char *[]){ "/sub/c.txt", NULL }); }

static void rename_b(void)
{
	struct uvfs_pathop from = fx_pop("/lower/b.txt"), to = fx_pop("/lower/b2.txt");
	FX_ASSERT_OK(uvfs_rename_at(fx.vfs, &fx.cred, &from, &to, 0));
}
FX_TEST(verityfs, renamed_file)
{
	tamper_case(rename_b, (const char *[]){ "/b.txt", "/", NULL });
}

static void add_file(void) { fx_must_write("/lower/sub/deep/new", "new\n"); }
FX_TEST(verityfs, added_file) { tamper_case(add_file, (const char *[]){ "/sub/deep", NULL }); }

static void remove_c(void)
{
	struct uvfs_pathop pop = fx_pop("/lower/sub/c.txt");
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &pop));
}
FX_TEST(verityfs, removed_file) { tamper_case(remove_c, (const char *[]){ "/sub/c.txt", "/sub", NULL }); }

/* The renamed or added name itself is refused too, not shown as new. */
FX_TEST(verityfs, extra_names_are_eio)
{
	uint8_t hash[32];
	struct statx st;
	make_tree();
	seal(hash);
	rename_b();
	add_file();
	FX_ASSERT_OK(mount_verity(hash, NULL, &mnt));
	struct uvfs_pathop pop = vpop("/b2.txt", 0);
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &pop, STATX_BASIC_STATS, &st), -EIO);
	pop = vpop("/sub/deep/new", 0);
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &pop, STATX_BASIC_STATS, &st), -EIO);
	pop = vpop("/sub/deep/d.txt", 0);
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &pop, STATX_BASIC_STATS, &st));
	umount_verity();
}

static void chmod_a(void) { FX_ASSERT_OK(fx_chmod("/lower/a.txt", 0600)); }
static void chown_a(void) { FX_ASSERT_OK(fx_chown("/lower/a.txt", 5, (uint32_t)-1)); }
static void chgrp_a(void) { FX_ASSERT_OK(fx_chown("/lower/a.txt", (uint32_t)-1, 5)); }
static void chmod_sub(void) { FX_ASSERT_OK(fx_chmod("/lower/sub/deep", 0700)); }
FX_TEST(verityfs, changed_mode) { tamper_case(chmod_a, (const char *[]){ "/a.txt", "/link", NULL }); }
FX_TEST(verityfs, changed_uid) { tamper_case(chown_a, (const char *[]){ "/a.txt", "/link", NULL }); }
FX_TEST(verityfs, changed_gid) { tamper_case(chgrp_a, (const char *[]){ "/a.txt", "/link", NULL }); }
FX_TEST(verityfs, changed_dir_mode)
{
	tamper_case(chmod_sub, (const char *[]){ "/sub/deep", "/sub/deep/d.txt", NULL });
}

static void relink(void)
{
	struct uvfs_pathop pop = fx_pop("/lower/link");
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &pop));
	FX_ASSERT_OK(fx_symlink("b.txt", "/lower/link"));
}
FX_TEST(verityfs, changed_symlink_target)
{
	tamper_case(relink, (const char *[]){ "/link", NULL });
}

static void replace_tree_block(void)
{
	uint8_t junk[4096];
	memset(junk, 0x5a, sizeof junk);
	/* storage order: the top level block, then level 0's two blocks */
	write_bytes("/lower/.merkle.verity.big", junk, sizeof junk, 256 + 4096, 0);
}
FX_TEST(verityfs, replaced_tree_block) { tamper_case(replace_tree_block, (const char *[]){ "/big", NULL }); }

static void swap(const char *x, const char *y)
{
	struct uvfs_pathop a = fx_pop(x), b = fx_pop(y);
	FX_ASSERT_OK(uvfs_rename_at(fx.vfs, &fx.cred, &a, &b, RENAME_EXCHANGE));
}
static void swap_manifests(void) { swap("/lower/sub/.merkle.verity", "/lower/sub/deep/.merkle.verity"); }
FX_TEST(verityfs, swapped_manifest)
{
	tamper_case(swap_manifests, (const char *[]){ "/sub", "/sub/c.txt", "/sub/deep", "/sub/deep/d.txt", NULL });
}

static void swap_data(void) { swap("/lower/a.txt", "/lower/b.txt"); }
FX_TEST(verityfs, file_swapped_with_other_sealed_file)
{
	tamper_case(swap_data, (const char *[]){ "/a.txt", "/b.txt", "/link", NULL });
}
static void swap_data_and_trees(void)
{
	swap("/lower/a.txt", "/lower/b.txt");
	swap("/lower/.merkle.verity.a.txt", "/lower/.merkle.verity.b.txt");
}
FX_TEST(verityfs, file_and_tree_swapped_with_other_sealed_file)
{
	tamper_case(swap_data_and_trees, (const char *[]){ "/a.txt", "/b.txt", "/link", NULL });
}

FX_TEST(verityfs, wrong_root_hash_fails_mount)
{
	uint8_t hash[32];
	char hex[65], data[128];
	make_tree();
	seal(hash);
	hash[7] ^= 1;
	FX_ASSERT_ERR(mount_verity(hash, NULL, &mnt), -EIO);
	hash[7] ^= 1;
	/* root_hash= in the options wins over the field */
	uvfs_verity_hash_hex(hash, hex);
	hex[0] = hex[0] == '0' ? '1' : '0';
	snprintf(data, sizeof data, "root_hash=%s", hex);
	FX_ASSERT_ERR(mount_verity(hash, data, &mnt), -EIO);
	/* bad hex, wrong length, bad action, unknown key: EINVAL */
	FX_ASSERT_ERR(mount_verity(NULL, "root_hash=xyz", &mnt), -EINVAL);
	hex[0] = 'g';
	snprintf(data, sizeof data, "root_hash=%s", hex);
	FX_ASSERT_ERR(mount_verity(NULL, data, &mnt), -EINVAL);
	/* no root hash at all: the runtime-enable view (test_verity_runtime.c) */
	FX_ASSERT_OK(mount_verity(NULL, NULL, &mnt));
	umount_verity();
	FX_ASSERT_ERR(mount_verity(hash, "action=maybe", &mnt), -EINVAL);
	FX_ASSERT_ERR(mount_verity(hash, "colour=red", &mnt), -EINVAL);
	/* the right hash in hex, with action=error */
	uvfs_verity_hash_hex(hash, hex);
	snprintf(data, sizeof data, "root_hash=%s,action=error", hex);
	FX_ASSERT_OK(mount_verity(NULL, data, &mnt));
	umount_verity();
	/* a tampered root manifest fails the mount */
	write_bytes("/lower/.merkle.verity", "X", 1, 30, 0);
	FX_ASSERT_ERR(mount_verity(hash, NULL, &mnt), -EIO);
	/* so does a changed root directory mode */
	seal(hash);
	FX_ASSERT_OK(mount_verity(hash, NULL, &mnt));
	umount_verity();
	FX_ASSERT_OK(fx_chmod("/lower", 0700));
	FX_ASSERT_ERR(mount_verity(hash, NULL, &mnt), -EIO);
}

/* The CLI's host seal and the VFS seal write the same format: the same
 * tree on the host and on tmpfs has the same root hash. */
FX_TEST(verityfs, host_seal_equals_vfs_seal)
{
	char dir[] = "/tmp/uvfs-verity-XXXXXX", p[256];
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0755), 0);
	snprintf(p, sizeof p, "%s/sub", dir);
	cr_assert_eq(mkdir(p, 0750), 0);
	cr_assert_eq(chmod(p, 0750), 0);
	snprintf(p, sizeof p, "%s/sub/c.txt", dir);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	uint8_t *big = pattern(BIG, 3);
	cr_assert_eq(fwrite(big, 1, BIG, f), BIG);
	fclose(f);
	cr_assert_eq(chmod(p, 0644), 0);
	snprintf(p, sizeof p, "%s/link", dir);
	cr_assert_eq(symlink("sub/c.txt", p), 0);
	uint8_t h1[32], h2[32];
	FX_ASSERT_OK(uvfs_verity_seal_path(dir, h1));

	fx_must_mkdir("/lower", 0755);
	fx_must_mkdir("/lower/sub", 0750);
	write_bytes("/lower/sub/c.txt", big, BIG, 0, O_TRUNC);
	FX_ASSERT_OK(fx_symlink("sub/c.txt", "/lower/link"));
	free(big);
	seal(h2);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert(!memcmp(h1, h2, 32), "host and VFS seals differ");
}

static char panic_msg[512];
static void on_panic(const char *what) { snprintf(panic_msg, sizeof panic_msg, "%s", what); }

/* action=panic calls the embedder's hook with the violation; /proc/mounts
 * shows the options. */
FX_TEST(verityfs, action_panic_calls_hook)
{
	uint8_t hash[32], buf[BIG];
	char hex[65], want[128], opts[256];
	make_tree();
	seal(hash);
	flip_big();
	uvfs_verity_set_panic_hook(on_panic);
	FX_ASSERT_OK(mount_verity(hash, "action=panic", &mnt));
	cr_assert_eq(panic_msg[0], 0);
	cr_assert_eq(vread("/a.txt", buf, sizeof buf), SMALL);
	cr_assert_eq(panic_msg[0], 0);
	cr_assert_eq(vread("/big", buf, sizeof buf), -EIO);
	cr_assert(strstr(panic_msg, "verity: /big:"), "hook got '%s'", panic_msg);
	cr_assert_eq(uvfs_mount_fs(mnt)->ops->show_options(uvfs_mount_fs(mnt), opts, sizeof opts), 0);
	uvfs_verity_hash_hex(hash, hex);
	snprintf(want, sizeof want, "root_hash=%s,action=panic", hex);
	cr_assert_str_eq(opts, want);
	umount_verity();
	uvfs_verity_set_panic_hook(NULL);
}

/* A re-read while cached (from the second read on) hashes nothing (the kernel's PG_checked idea):
 * neither data blocks nor tree blocks are verified again. */
FX_TEST(verityfs, reread_hashes_nothing)
{
	uint8_t hash[32];
	make_tree();
	seal(hash);
	FX_ASSERT_OK(mount_verity(hash, NULL, &mnt));
	struct uvfs_pathop pop = vpop("/big", 0);
	struct uvfs_file *f;
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.cred, &pop, O_RDONLY, 0, 0, &f));
	uint8_t *buf = malloc(BIG), *want = pattern(BIG, 3);
	struct uvfs_verity_stats s1, s2;
	/* twice: a block enters the cache on its second read */
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(uvfs_pread(f, buf, BIG, 0), BIG);
		cr_assert(!memcmp(buf, want, BIG));
	}
	FX_ASSERT_OK(uvfs_verity_file_stats(f, &s1));
	cr_assert_eq(s1.data_blocks_verified, 2 * ((BIG + 4095) / 4096));
	memset(buf, 0, BIG);
	/* unaligned pieces, then the whole file again */
	cr_assert_eq(uvfs_pread(f, buf + 5000, 10000, 5000), 10000);
	cr_assert_eq(uvfs_pread(f, buf, BIG, 0), BIG);
	cr_assert(!memcmp(buf, want, BIG));
	FX_ASSERT_OK(uvfs_verity_file_stats(f, &s2));
	cr_assert_eq(s2.data_blocks_verified, s1.data_blocks_verified, "re-read hashed %llu more data blocks",
		     (unsigned long long)(s2.data_blocks_verified - s1.data_blocks_verified));
	cr_assert_eq(s2.tree_blocks_verified, s1.tree_blocks_verified);
	/* the lower changing under a cached block does not change what is served */
	flip_big();
	cr_assert_eq(uvfs_pread(f, buf, BIG, 0), BIG);
	cr_assert(!memcmp(buf, want, BIG));
	FX_ASSERT_ERR(uvfs_verity_file_stats(NULL, &s2), -EINVAL);
	free(buf);
	free(want);
	uvfs_file_put(f);
	umount_verity();
}

/* data_cache=0: every read verifies in place; same answers. */
FX_TEST(verityfs, uncached_reads)
{
	uint8_t hash[32];
	make_tree();
	seal(hash);
	FX_ASSERT_OK(mount_verity(hash, "data_cache=0", &mnt));
	check_all(NULL);
	check_all(NULL);
	umount_verity();
	flip_big();
	FX_ASSERT_OK(mount_verity(hash, "data_cache=0", &mnt));
	check_all((const char *[]){ "/big", NULL });
	umount_verity();
	FX_ASSERT_ERR(mount_verity(hash, "data_cache=lots", &mnt), -EINVAL);
}
