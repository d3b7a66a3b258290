/* fixture.c — see fixture.h. */
#include "fixture.h"

#include <stdlib.h>

struct fx fx;

const char *fx_err(long rc)
{
	static char bufs[8][48];
	static int next;
	char *b = bufs[next++ & 7];
	if (rc >= 0) {
		snprintf(b, sizeof bufs[0], "%ld", rc);
	} else {
		const char *n = strerrorname_np((int)-rc);
		if (n)
			snprintf(b, sizeof bufs[0], "-%s", n);
		else
			snprintf(b, sizeof bufs[0], "-errno %ld", -rc);
	}
	return b;
}

void fx_setup_opts(const char *data, unsigned mnt_flags)
{
	memset(&fx, 0, sizeof fx);
	uvfs_cred_init_root(&fx.cred);
	uvfs_cred_init_user(&fx.user, 1000, 1000);
	uvfs_cred_init_user(&fx.user2, 1001, 1001);
	cr_assert_eq(uvfs_create(&fx.vfs), 0, "uvfs_create failed");
	cr_assert_not_null(fx.vfs);
	int rc = uvfs_register_fs_type(fx.vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST);
	cr_assert_eq(rc, 0, "register tmpfs: %s", fx_err(rc));
	struct uvfs_mount_opts opts = { .flags = mnt_flags, .data = data };
	rc = uvfs_mntns_new(fx.vfs, &fx.cred, "none", "tmpfs", &opts, &fx.ns);
	cr_assert_eq(rc, 0, "uvfs_mntns_new: %s", fx_err(rc));
	cr_assert_not_null(fx.ns);
	uvfs_mntns_root(fx.ns, &fx.root);
	cr_assert(uvfs_vd_ok(&fx.root), "namespace root vd not ok");
	cr_assert_not_null(fx.root.dentry);
}

void fx_setup(void) { fx_setup_opts(NULL, 0); }

void fx_destroy_checked(struct uvfs *vfs)
{
	struct uvfs_live live;
	memset(&live, 0x55, sizeof live);
	int rc = uvfs_destroy(vfs, &live);
	cr_assert_eq(live.dentries, 0, "leaked %ld dentries", live.dentries);
	cr_assert_eq(live.inodes, 0, "leaked %ld inodes", live.inodes);
	cr_assert_eq(live.mounts, 0, "leaked %ld mounts", live.mounts);
	cr_assert_eq(live.mntns, 0, "leaked %ld mount namespaces", live.mntns);
	cr_assert_eq(live.files, 0, "leaked %ld files", live.files);
	cr_assert_eq(live.filesystems, 0, "leaked %ld filesystems", live.filesystems);
	cr_assert_eq(rc, 0, "uvfs_destroy returned %s with zero live counts", fx_err(rc));
}

void fx_teardown(void)
{
	uvfs_vd_put(&fx.root);
	cr_assert_null(fx.root.mount, "uvfs_vd_put must clear the vd");
	uvfs_mntns_put(fx.ns);
	fx.ns = NULL;
	fx_destroy_checked(fx.vfs);
	fx.vfs = NULL;
}

struct uvfs_pathop fx_pop_at(const struct uvfs_vd *start, const char *path, unsigned flags)
{
	struct uvfs_pathop p = { .root = fx.root, .start = *start, .path = path, .flags = flags };
	return p;
}
struct uvfs_pathop fx_pop(const char *path) { return fx_pop_at(&fx.root, path, 0); }
struct uvfs_pathop fx_popf(const char *path) { return fx_pop_at(&fx.root, path, UVFS_PATH_FOLLOW); }

int fx_mkdir(const char *path, mode_t mode)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_mkdir_at(fx.vfs, &fx.cred, &p, mode);
}

int fx_open_as(const struct uvfs_cred *cred, const char *path, int oflags, mode_t mode, struct uvfs_file **out)
{
	struct uvfs_pathop p = fx_popf(path);
	*out = NULL;
	return uvfs_open_at(fx.vfs, cred, &p, oflags, mode, 0, out);
}

int fx_open(const char *path, int oflags, mode_t mode, struct uvfs_file **out)
{
	return fx_open_as(&fx.cred, path, oflags, mode, out);
}

int fx_write_file(const char *path, const char *data)
{
	struct uvfs_file *f;
	int rc = fx_open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644, &f);
	if (rc)
		return rc;
	size_t len = strlen(data);
	ssize_t n = len ? uvfs_write(f, data, len) : 0;
	uvfs_file_put(f);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EIO;
}

ssize_t fx_read_file(const char *path, char *buf, size_t len)
{
	struct uvfs_file *f;
	int rc = fx_open(path, O_RDONLY, 0, &f);
	if (rc)
		return rc;
	size_t got = 0;
	while (got < len) {
		ssize_t n = uvfs_read(f, buf + got, len - got);
		if (n < 0) {
			uvfs_file_put(f);
			return n;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	uvfs_file_put(f);
	if (got < len)
		buf[got] = 0;
	return (ssize_t)got;
}

int fx_stat(const char *path, struct statx *st)
{
	struct uvfs_pathop p = fx_popf(path);
	memset(st, 0, sizeof *st);
	return uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, st);
}

int fx_lstat(const char *path, struct statx *st)
{
	struct uvfs_pathop p = fx_pop(path);
	memset(st, 0, sizeof *st);
	return uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, st);
}

int fx_symlink(const char *target, const char *path)
{
	struct uvfs_pathop p = fx_pop(path);
	return uvfs_symlink_at(fx.vfs, &fx.cred, target, &p);
}

int fx_chmod(const char *path, mode_t mode)
{
	struct uvfs_pathop p = fx_popf(path);
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = mode };
	return uvfs_setstat_at(fx.vfs, &fx.cred, &p, &a, 0);
}

int fx_chown(const char *path, uint32_t uid, uint32_t gid)
{
	struct uvfs_pathop p = fx_popf(path);
	struct uvfs_setattr a = { .mask = STATX_UID | STATX_GID, .uid = uid, .gid = gid };
	return uvfs_setstat_at(fx.vfs, &fx.cred, &p, &a, 0);
}

int fx_mount_tmpfs(const char *path, const char *data, unsigned flags)
{
	struct uvfs_pathop p = fx_popf(path);
	struct uvfs_mount_opts o = { .flags = flags, .data = data };
	return uvfs_mount_at(fx.vfs, &fx.cred, "none", &p, "tmpfs", &o);
}

int fx_umount(const char *path, int flags)
{
	struct uvfs_pathop p = fx_popf(path);
	return uvfs_umount_at(fx.vfs, &fx.cred, &p, flags);
}

uint64_t fx_ino(const char *path)
{
	struct statx st;
	int rc = fx_lstat(path, &st);
	cr_assert_eq(rc, 0, "lstat %s: %s", path, fx_err(rc));
	cr_assert(st.stx_mask & STATX_INO, "lstat %s: no STATX_INO in mask", path);
	return st.stx_ino;
}

uint32_t fx_mode(const char *path)
{
	struct statx st;
	int rc = fx_lstat(path, &st);
	cr_assert_eq(rc, 0, "lstat %s: %s", path, fx_err(rc));
	cr_assert(st.stx_mask & STATX_MODE, "lstat %s: no STATX_MODE in mask", path);
	return st.stx_mode;
}

void fx_must_mkdir(const char *path, mode_t mode)
{
	int rc = fx_mkdir(path, mode);
	cr_assert_eq(rc, 0, "mkdir %s: %s", path, fx_err(rc));
}

void fx_must_write(const char *path, const char *data)
{
	int rc = fx_write_file(path, data);
	cr_assert_eq(rc, 0, "write %s: %s", path, fx_err(rc));
}

struct list_ctx {
	char names[64][64];
	int n;
};

static int list_cb(void *arg, const char *name, size_t namelen, uint64_t ino, unsigned dtype, int64_t next_off)
{
	struct list_ctx *c = arg;
	if ((namelen == 1 && name[0] == '.') || (namelen == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (c->n < 64) {
		size_t l = namelen < 63 ? namelen : 63;
		memcpy(c->names[c->n], name, l);
		c->names[c->n][l] = 0;
		c->n++;
	}
	return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(a, b); }

void fx_list_dir(const char *path, char *out, size_t len)
{
	struct uvfs_file *f;
	int rc = fx_open(path, O_RDONLY | O_DIRECTORY, 0, &f);
	cr_assert_eq(rc, 0, "open dir %s: %s", path, fx_err(rc));
	static struct list_ctx c;
	memset(&c, 0, sizeof c);
	rc = uvfs_iterate_dir(f, list_cb, &c);
	uvfs_file_put(f);
	cr_assert_eq(rc, 0, "iterate %s: %s", path, fx_err(rc));
	qsort(c.names, (size_t)c.n, sizeof c.names[0], cmp_names);
	out[0] = 0;
	for (int i = 0; i < c.n; i++) {
		if (i)
			strncat(out, ",", len - strlen(out) - 1);
		strncat(out, c.names[i], len - strlen(out) - 1);
	}
}

struct uvfs_cred fx_user_with_cap(int cap)
{
	struct uvfs_cred c;
	uvfs_cred_init_user(&c, 1000, 1000);
	c.caps |= UVFS_CAP(cap);
	return c;
}
