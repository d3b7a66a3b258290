/* fuzz_mountopts.c — libFuzzer target for the shared mount-option parser
 * and for tmpfs mounts with fuzzed option strings.
 *
 * Per input (truncated to 4 KiB, NUL-terminated): uvfs_opts_parse, a few
 * typed takes, check_unused, free; then a fresh instance mounting tmpfs
 * with data = input, both as a namespace root and on a directory; a
 * successful mount must be usable (mkdir + create inside; -EROFS when the
 * data made the filesystem read-only with "ro") and umountable, and a
 * remount with data = input (plain and read-only) must answer 0 or a
 * clean error, after which a remount read-write with no data succeeds.
 * The instance is torn down every REBUILD_EVERY inputs (and at exit) and
 * uvfs_destroy() must then report nothing alive; any violation aborts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvfs_fs.h"

#define CHECK(cond, ...)                                                                                         \
	do {                                                                                                     \
		if (!(cond)) {                                                                                   \
			fprintf(stderr, "fuzz_mountopts: check failed: %s: ", #cond);                            \
			fprintf(stderr, __VA_ARGS__);                                                            \
			fputc('\n', stderr);                                                                     \
			abort();                                                                                 \
		}                                                                                                \
	} while (0)

static void parser(const char *s)
{
	struct uvfs_opts o;
	memset(&o, 0, sizeof o);
	int rc = uvfs_opts_parse(&o, s);
	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "parse returned %d", rc);
	if (rc)
		return;
	CHECK(o.n >= 0 && o.n <= UVFS_OPTS_MAX, "n = %d", o.n);
	for (int i = 0; i < o.n; i++) {
		CHECK(o.o[i].key && o.o[i].key[0], "empty key at %d", i);
		CHECK(o.o[i].val, "NULL value at %d", i);
		CHECK(!strchr(o.o[i].key, ','), "comma in key");
		CHECK(!strchr(o.o[i].key, '='), "'=' in key");
		CHECK(!strchr(o.o[i].val, ','), "comma in value");
	}
	uint64_t u;
	uint32_t m;
	bool present;
	(void)uvfs_opts_take_u64(&o, "uid", &u, &present);
	(void)uvfs_opts_take_octal(&o, "mode", &m, &present);
	(void)uvfs_opts_take_size(&o, "size", 1ull << 30, &u, &present);
	(void)uvfs_opts_take(&o, "gid");
	rc = uvfs_opts_check_unused(&o, "fuzz");
	CHECK(rc == 0 || rc == -EINVAL, "check_unused returned %d", rc);
	/* After taking every key, nothing is unused. */
	for (int i = 0; i < o.n; i++)
		(void)uvfs_opts_take(&o, o.o[i].key);
	CHECK(uvfs_opts_check_unused(&o, "fuzz") == 0, "unused after taking all");
	uvfs_opts_free(&o);
}

static void use_mount(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *root, const char *dir)
{
	char path[64];
	snprintf(path, sizeof path, "%s/sub", dir);
	struct uvfs_pathop p = { .root = *root, .start = *root, .path = path };
	int rc = uvfs_mkdir_at(vfs, cred, &p, 0755);
	CHECK(rc == 0 || rc == -ENOSPC || rc == -EROFS, "mkdir in fuzzed mount: %d", rc);
	snprintf(path, sizeof path, "%s/file", dir);
	struct uvfs_file *f;
	rc = uvfs_open_at(vfs, cred, &p, O_CREAT | O_RDWR, 0644, 0, &f);
	if (rc == 0) {
		ssize_t n = uvfs_write(f, "abc", 3);
		CHECK(n == 3 || n == -ENOSPC, "write: %zd", n);
		uvfs_file_put(f);
	} else {
		CHECK(rc == -ENOSPC || rc == -EACCES || rc == -EROFS, "create in fuzzed mount: %d", rc);
	}
}

#define REBUILD_EVERY 100

static struct uvfs *vfs;
static struct uvfs_cred cred;
static struct uvfs_mntns *plain_ns;
static struct uvfs_vd plain_root;

static void teardown(void)
{
	if (!vfs)
		return;
	uvfs_vd_put(&plain_root);
	uvfs_mntns_put(plain_ns);
	struct uvfs_live live;
	memset(&live, 0, sizeof live);
	int rc = uvfs_destroy(vfs, &live);
	CHECK(rc == 0 && !live.dentries && !live.inodes && !live.mounts && !live.mntns && !live.files &&
		      !live.filesystems,
	      "leak: rc %d dentries %ld inodes %ld mounts %ld mntns %ld files %ld fs %ld", rc, live.dentries,
	      live.inodes, live.mounts, live.mntns, live.files, live.filesystems);
	vfs = NULL;
}

static void setup(void)
{
	uvfs_cred_init_root(&cred);
	CHECK(uvfs_create(&vfs) == 0, "create");
	CHECK(uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST) == 0, "register");
	struct uvfs_mount_opts plain = { 0 };
	CHECK(uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &plain, &plain_ns) == 0, "plain mntns");
	uvfs_mntns_root(plain_ns, &plain_root);
	struct uvfs_pathop p = { .root = plain_root, .start = plain_root, .path = "/m", .flags = 0 };
	CHECK(uvfs_mkdir_at(vfs, &cred, &p, 0755) == 0, "mkdir /m");
}

static void mounts(const char *s)
{
	static int runs;
	if (runs++ % REBUILD_EVERY == 0) {
		if (vfs)
			teardown();
		else
			atexit(teardown);
		setup();
	}

	/* As a namespace root. */
	struct uvfs_mount_opts o = { .data = s };
	struct uvfs_mntns *ns = NULL;
	int rc = uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &o, &ns);
	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM || rc == -ENOSPC, "mntns_new: %d", rc);
	if (rc == 0) {
		struct uvfs_vd root;
		uvfs_mntns_root(ns, &root);
		use_mount(vfs, &cred, &root, "");
		uvfs_vd_put(&root);
		uvfs_mntns_put(ns);
	}

	/* On a directory. */
	struct uvfs_pathop p = { .root = plain_root, .start = plain_root, .path = "/m", .flags = UVFS_PATH_FOLLOW };
	rc = uvfs_mount_at(vfs, &cred, "none", &p, "tmpfs", &o);
	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM || rc == -ENOSPC, "mount_at: %d", rc);
	if (rc == 0) {
		use_mount(vfs, &cred, &plain_root, "/m");
		for (unsigned fl = 0; fl <= UVFS_MNT_RDONLY; fl += UVFS_MNT_RDONLY) {
			rc = uvfs_remount_at(vfs, &cred, &p, fl, s, 0);
			CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "remount %#x: %d", fl, rc);
		}
		rc = uvfs_remount_at(vfs, &cred, &p, 0, NULL, 0);
		CHECK(rc == 0, "remount rw: %d", rc);
		struct uvfs_pathop w = { .root = plain_root, .start = plain_root, .path = "/m/after_remount" };
		rc = uvfs_mkdir_at(vfs, &cred, &w, 0755); /* writable again */
		CHECK(rc == 0 || rc == -ENOSPC, "mkdir after remount rw: %d", rc);
		rc = uvfs_umount_at(vfs, &cred, &p, 0);
		CHECK(rc == 0, "umount: %d", rc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	if (!quiet) {
		uvfs_log_set_level(-1);
		quiet = true;
	}
	if (size > 4096)
		size = 4096;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	parser(s);
	mounts(s);
	free(s);
	return 0;
}
