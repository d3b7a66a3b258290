/* fuzz_path.c — libFuzzer target for path resolution.
 *
 * A small tree (directories, relative and absolute symlinks, a symlink
 * loop, a dangling link, a mount) is built once and rebuilt every
 * REBUILD_EVERY inputs after a checked teardown (uvfs_destroy() must report
 * nothing alive). Per input the
 * fuzzed bytes (first byte: flags/start selector; the rest, truncated to
 * 8 KiB and NUL-terminated, is the path) go to uvfs_stat_at, uvfs_open_at,
 * uvfs_get_dentry_at, uvfs_mkdir_at (undone with uvfs_rmdir_at), and as a
 * symlink target that is then walked through. Afterwards the tree must be
 * intact; any violation aborts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvfs.h"

#define MAX_PATH_BYTES 8192
#define REBUILD_EVERY 200

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root;
static struct uvfs_cred cred, user;

#define CHECK(cond, ...)                                                                                         \
	do {                                                                                                     \
		if (!(cond)) {                                                                                   \
			fprintf(stderr, "fuzz_path: check failed: %s: ", #cond);                                 \
			fprintf(stderr, __VA_ARGS__);                                                            \
			fputc('\n', stderr);                                                                     \
			abort();                                                                                 \
		}                                                                                                \
	} while (0)

static struct uvfs_pathop pop_at(const struct uvfs_vd *start, const char *path, unsigned flags)
{
	struct uvfs_pathop p = { .root = root, .start = *start, .path = path, .flags = flags };
	return p;
}

static uint64_t ino_of(const char *path, unsigned flags)
{
	struct uvfs_pathop p = pop_at(&root, path, flags);
	struct statx st;
	int rc = uvfs_stat_at(vfs, &cred, &p, STATX_INO, &st);
	CHECK(rc == 0, "stat %s: %d", path, rc);
	return st.stx_ino;
}

static void mk(const char *path, mode_t mode)
{
	struct uvfs_pathop p = pop_at(&root, path, 0);
	int rc = uvfs_mkdir_at(vfs, &cred, &p, mode);
	CHECK(rc == 0, "mkdir %s: %d", path, rc);
}

static void ln(const char *target, const char *path)
{
	struct uvfs_pathop p = pop_at(&root, path, 0);
	int rc = uvfs_symlink_at(vfs, &cred, target, &p);
	CHECK(rc == 0, "symlink %s: %d", path, rc);
}

static void file(const char *path)
{
	struct uvfs_pathop p = pop_at(&root, path, 0);
	struct uvfs_file *f;
	int rc = uvfs_open_at(vfs, &cred, &p, O_CREAT | O_WRONLY, 0644, 0, &f);
	CHECK(rc == 0, "create %s: %d", path, rc);
	CHECK(uvfs_write(f, "data", 4) == 4, "write");
	uvfs_file_put(f);
}

static uint64_t ino_d, ino_f, ino_m_inner, ino_priv;

static void setup(void)
{
	uvfs_cred_init_root(&cred);
	uvfs_cred_init_user(&user, 1000, 1000);
	CHECK(uvfs_create(&vfs) == 0, "create");
	CHECK(uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST) == 0, "register");
	struct uvfs_mount_opts o = { 0 };
	CHECK(uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &o, &ns) == 0, "mntns");
	uvfs_mntns_root(ns, &root);
	mk("/d", 0755);
	mk("/d/e", 0755);
	file("/d/e/f");
	mk("/priv", 0700);
	file("/priv/secret");
	ln("d/e", "/rel");
	ln("/d/e/f", "/abs");
	ln("loop2", "/loop1");
	ln("loop1", "/loop2");
	ln("nowhere", "/dangling");
	ln("../..", "/d/e/up");
	mk("/m", 0755);
	struct uvfs_pathop p = pop_at(&root, "/m", UVFS_PATH_FOLLOW);
	CHECK(uvfs_mount_at(vfs, &cred, "none", &p, "tmpfs", &o) == 0, "mount");
	mk("/m/inner", 0755);
	ln("/d", "/m/inner/toroot");
	ln("../../m", "/m/inner/back");
	ino_d = ino_of("/d", 0);
	ino_f = ino_of("/d/e/f", 0);
	ino_m_inner = ino_of("/m/inner", 0);
	ino_priv = ino_of("/priv/secret", 0);
}

static void teardown(void)
{
	if (!vfs)
		return;
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	memset(&live, 0, sizeof live);
	int rc = uvfs_destroy(vfs, &live);
	CHECK(rc == 0 && !live.dentries && !live.inodes && !live.mounts && !live.mntns && !live.files &&
		      !live.filesystems,
	      "leak: rc %d dentries %ld inodes %ld mounts %ld mntns %ld files %ld fs %ld", rc, live.dentries,
	      live.inodes, live.mounts, live.mntns, live.files, live.filesystems);
	vfs = NULL;
}

static void errno_ok(int rc, const char *what)
{
	/* Results must be 0 or a plain path errno, never an internal one. */
	CHECK(rc == 0 || rc == -ENOENT || rc == -ENOTDIR || rc == -ELOOP || rc == -ENAMETOOLONG || rc == -EACCES ||
		      rc == -EEXIST || rc == -EISDIR || rc == -EINVAL || rc == -ENXIO || rc == -EPERM || rc == -EBUSY ||
		      rc == -ENOSPC,
	      "%s returned %d", what, rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	if (!quiet) {
		uvfs_log_set_level(-1);
		quiet = true;
	}
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	if (size > MAX_PATH_BYTES)
		size = MAX_PATH_BYTES;
	char *path = malloc(size + 1);
	memcpy(path, data, size);
	path[size] = 0;

	static int runs;
	if (runs++ % REBUILD_EVERY == 0) {
		if (vfs)
			teardown();
		else
			atexit(teardown);
		setup();
	}
	unsigned flags = 0;
	if (sel & 1)
		flags |= UVFS_PATH_FOLLOW;
	if (sel & 2)
		flags |= UVFS_PATH_EMPTY;
	const struct uvfs_cred *c = (sel & 4) ? &user : &cred;
	struct uvfs_vd start = root;
	struct uvfs_vd dvd = { 0 };
	if (sel & 8) {
		struct uvfs_pathop p = pop_at(&root, "/m/inner", 0);
		CHECK(uvfs_get_dentry_at(vfs, &cred, &p, 0, &dvd) == 0, "get /m/inner");
		start = dvd;
	}
	struct uvfs_pathop p = pop_at(&start, path, flags);

	struct statx st;
	errno_ok(uvfs_stat_at(vfs, c, &p, STATX_BASIC_STATS, &st), "stat_at");

	struct uvfs_file *f = NULL;
	int rc = uvfs_open_at(vfs, c, &p, (sel & 16) ? (O_RDONLY | O_DIRECTORY) : O_RDONLY, 0, 0, &f);
	errno_ok(rc, "open_at");
	if (rc == 0) {
		char buf[8];
		(void)uvfs_pread(f, buf, sizeof buf, 0);
		uvfs_file_put(f);
	}

	struct uvfs_vd vd;
	rc = uvfs_get_dentry_at(vfs, c, &p, (sel & 32) ? UVFS_GET_SEARCHABLE : 0, &vd);
	errno_ok(rc, "get_dentry_at");
	if (rc == 0)
		uvfs_vd_put(&vd);

	struct uvfs_pathop mp = pop_at(&start, path, 0);
	rc = uvfs_mkdir_at(vfs, c, &mp, 0755);
	errno_ok(rc, "mkdir_at");
	if (rc == 0) {
		/* Undo it: the same path names the new, empty directory. */
		rc = uvfs_rmdir_at(vfs, &cred, &mp);
		CHECK(rc == 0, "rmdir of the directory just made: %d", rc);
	}

	char lbuf[64];
	ssize_t ln_rc = uvfs_readlink_at(vfs, c, &mp, lbuf, sizeof lbuf);
	errno_ok(ln_rc < 0 ? (int)ln_rc : 0, "readlink_at");

	/* The fuzzed bytes as a symlink target, then walked through. */
	size_t tl = strlen(path);
	if (tl > 0 && tl < 4096) {
		struct uvfs_pathop lp = pop_at(&root, "/fz", 0);
		rc = uvfs_symlink_at(vfs, &cred, path, &lp);
		errno_ok(rc, "symlink_at");
		if (rc == 0) {
			struct uvfs_pathop fp = pop_at(&root, "/fz", UVFS_PATH_FOLLOW);
			errno_ok(uvfs_stat_at(vfs, c, &fp, STATX_INO, &st), "stat via link");
			fp.path = "/fz/x/..";
			errno_ok(uvfs_stat_at(vfs, c, &fp, STATX_INO, &st), "stat via link/x/..");
			ssize_t n = uvfs_readlink_at(vfs, &cred, &lp, lbuf, sizeof lbuf);
			CHECK(n == (ssize_t)(tl < sizeof lbuf ? tl : sizeof lbuf), "readlink length %zd for %zu", n, tl);
			CHECK(memcmp(lbuf, path, (size_t)n) == 0, "readlink content");
			CHECK(uvfs_unlink_at(vfs, &cred, &lp) == 0, "unlink /fz");
		}
	}

	if (dvd.mount)
		uvfs_vd_put(&dvd);

	/* The tree is intact. */
	CHECK(ino_of("/d", 0) == ino_d, "/d moved");
	CHECK(ino_of("/abs", UVFS_PATH_FOLLOW) == ino_f, "/abs");
	CHECK(ino_of("/rel/f", 0) == ino_f, "/rel/f");
	CHECK(ino_of("/m/inner/toroot/e/up/d/e/f", 0) == ino_f, "walk through mount and links");
	CHECK(ino_of("/m/inner/back/inner", 0) == ino_m_inner, "/m/inner/back/inner");
	CHECK(ino_of("/priv/secret", 0) == ino_priv, "/priv/secret");
	free(path);
	return 0;
}
