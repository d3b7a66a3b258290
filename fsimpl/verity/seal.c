/* fsimpl/verity/seal.c — uvfs_verity_seal: writes every tree and manifest
 * of a directory tree through the VFS and returns its root hash.
 *
 * Depth first: a directory's manifest needs its subdirectories' digests.
 * One walk, two backends: the VFS (any lower, tmpfs in the tests) and host
 * syscalls (the CLI's `uvfs verity seal DIR`), so both write the same bytes.
 * Names are collected before anything is written, so the hidden files being
 * written never show up in the listing being sealed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <dirent.h>
#include <unistd.h>

#include "fsimpl/verity/internal.h"
#include "fsimpl/verity/merkle/merkle.h"

#define SEAL_MAX_DEPTH 256

struct names {
	char **v;
	uint32_t n, cap;
	int err;
};

static int collect(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next)
{
	struct names *ns = arg;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.') || vm_is_hidden(name, len))
		return 0;
	if (ns->n == ns->cap) {
		uint32_t cap = ns->cap ? ns->cap * 2 : 16;
		char **v = cap > VM_ENTRY_MAX ? NULL : realloc(ns->v, cap * sizeof(*v));
		if (!v) {
			ns->err = -ENOMEM;
			return 1;
		}
		ns->v = v;
		ns->cap = cap;
	}
	if (!(ns->v[ns->n] = strndup(name, len))) {
		ns->err = -ENOMEM;
		return 1;
	}
	ns->n++;
	return 0;
}

/* ------------------------------------------------------------ the walk */

/* Where the tree lives: through the VFS (uvfs_verity_seal) or host
 * syscalls (uvfs_verity_seal_path, for the CLI). A directory handle is the
 * backend's (a vd, an fd). */
struct seal_ops {
	int (*list)(void *dir, struct names *ns); /* calls collect() for every name */
	int (*stat)(void *dir, const char *name, struct statx *st); /* no follow */
	int (*open_dir)(void *dir, const char *name, void **sub);
	void (*close_dir)(void *sub);
	/* Tree, descriptor and digest of regular file name of size bytes. */
	int (*build)(void *dir, const char *name, uint64_t size, struct uvfs_merkle_result *res);
	ssize_t (*readlink)(void *dir, const char *name, char *buf, size_t len);
	int (*write)(void *dir, const char *name, const void *p, size_t n);
	/* The tree directory's counterpart of subdirectory name: made
	 * (0755) unless it exists, then opened as open_dir does. */
	int (*make_dir)(void *dir, const char *name, void **sub);
};

/* Builds name's tree, writes VM_HIDDEN.name = descriptor ‖ tree, and fills
 * the entry's digest. */
static int seal_file(const struct seal_ops *ops, void *dir, void *meta, const char *name, uint64_t size,
		     struct vm_entry *e)
{
	struct uvfs_merkle_result res;
	char tname[256];
	int err = vl_tree_name(tname, name, strlen(name));
	if (err || (err = ops->build(dir, name, size, &res)))
		return err;
	uint8_t *buf = malloc(UVFS_VERITY_DESC_SIZE + res.tree_size);
	if (!buf) {
		uvfs_merkle_result_free(&res);
		return -ENOMEM;
	}
	memcpy(buf, res.descriptor, UVFS_VERITY_DESC_SIZE);
	if (res.tree_size)
		memcpy(buf + UVFS_VERITY_DESC_SIZE, res.tree, res.tree_size);
	err = ops->write(meta, tname, buf, UVFS_VERITY_DESC_SIZE + res.tree_size);
	free(buf);
	e->digest_len = VM_DIGEST;
	memcpy(e->digest, res.digest, VM_DIGEST);
	uvfs_merkle_result_free(&res);
	return err;
}

/* Seals directory dir, writing its manifest and its files' trees into
 * meta (== dir: beside the files; else the tree directory's mirror). */
static int seal_dir(const struct seal_ops *ops, void *dir, void *meta, const struct statx *self, int depth,
		    uint8_t digest[VM_DIGEST])
{
	struct names ns = { 0 };
	struct vmanifest m = { .mode = self->stx_mode, .uid = self->stx_uid, .gid = self->stx_gid };
	uint8_t *bytes = NULL;
	size_t blen;
	int err;

	if (depth > SEAL_MAX_DEPTH)
		return -ELOOP;
	err = ops->list(dir, &ns);
	if (!err)
		err = ns.err;
	if (!err && !(m.e = calloc(ns.n ? ns.n : 1, sizeof(*m.e))))
		err = -ENOMEM;
	for (uint32_t i = 0; !err && i < ns.n; i++) {
		struct vm_entry *e = &m.e[i];
		struct statx st;
		size_t len = strlen(ns.v[i]);
		m.n = i + 1;
		e->name = ns.v[i];
		e->name_len = (uint16_t)len;
		if (len > VM_NAME_MAX) {
			err = -ENAMETOOLONG;
			break;
		}
		if ((err = ops->stat(dir, ns.v[i], &st)))
			break;
		e->mode = st.stx_mode;
		e->uid = st.stx_uid;
		e->gid = st.stx_gid;
		if (S_ISREG(st.stx_mode)) {
			e->size = st.stx_size;
			err = seal_file(ops, dir, meta, ns.v[i], st.stx_size, e);
		} else if (S_ISDIR(st.stx_mode)) {
			void *sub;
			if (!(err = ops->open_dir(dir, ns.v[i], &sub))) {
				void *sub_meta = sub;
				e->digest_len = VM_DIGEST;
				if (meta != dir)
					err = ops->make_dir(meta, ns.v[i], &sub_meta);
				if (!err)
					err = seal_dir(ops, sub, sub_meta, &st, depth + 1, e->digest);
				if (sub_meta != sub)
					ops->close_dir(sub_meta);
				ops->close_dir(sub);
			}
		} else if (S_ISLNK(st.stx_mode)) {
			char *t = malloc(UVFS_PATH_MAX);
			ssize_t r = t ? ops->readlink(dir, ns.v[i], t, UVFS_PATH_MAX) : -ENOMEM;
			if (r <= 0 || r >= UVFS_PATH_MAX) {
				free(t);
				err = r < 0 ? (int)r : -EIO;
				break;
			}
			e->target = t;
			e->target_len = (uint16_t)r;
			e->size = (uint64_t)r;
		} else if (S_ISCHR(st.stx_mode) || S_ISBLK(st.stx_mode)) {
			e->rdev_major = st.stx_rdev_major;
			e->rdev_minor = st.stx_rdev_minor;
		}
	}
	if (!err)
		err = vm_sort(m.e, m.n);
	if (!err)
		err = vm_encode(&m, &bytes, &blen);
	if (!err)
		err = ops->write(meta, VM_HIDDEN, bytes, blen);
	if (!err)
		err = vm_sha256(bytes, blen, digest);
	free(bytes);
	for (uint32_t i = 0; i < m.n; i++)
		free((char *)m.e[i].target);
	free(m.e);
	for (uint32_t i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	return err;
}

/* ------------------------------------------------------- through the VFS */

struct vfs_ctx {
	struct uvfs *vfs;
	const struct uvfs_cred *cred;
};
struct vfs_dir {
	struct vfs_ctx *c;
	struct uvfs_vd vd;
};

static struct uvfs_pathop at(struct vfs_dir *d, const char *name)
{
	return (struct uvfs_pathop){ .root = d->vd, .start = d->vd, .path = name,
				     .flags = *name ? 0 : UVFS_PATH_EMPTY };
}

static int vfs_list(void *dir, struct names *ns)
{
	struct vfs_dir *d = dir;
	struct uvfs_pathop here = at(d, "");
	struct uvfs_file *df;
	int err = uvfs_open_at(d->c->vfs, d->c->cred, &here, O_RDONLY | O_DIRECTORY, 0, 0, &df);
	if (err)
		return err;
	err = uvfs_iterate_dir(df, collect, ns);
	uvfs_file_put(df);
	return err;
}

static int vfs_stat(void *dir, const char *name, struct statx *st)
{
	struct uvfs_pathop pop = at(dir, name);
	return uvfs_stat_at(((struct vfs_dir *)dir)->c->vfs, ((struct vfs_dir *)dir)->c->cred, &pop,
			    STATX_BASIC_STATS, st);
}

static int vfs_open_dir(void *dir, const char *name, void **sub)
{
	struct vfs_dir *d = dir, *s = calloc(1, sizeof(*s));
	struct uvfs_pathop pop = at(d, name);
	if (!s)
		return -ENOMEM;
	s->c = d->c;
	int err = uvfs_get_dentry_at(d->c->vfs, d->c->cred, &pop, 0, &s->vd);
	if (err)
		free(s);
	else
		*sub = s;
	return err;
}

static void vfs_close_dir(void *sub)
{
	struct vfs_dir *s = sub;
	uvfs_vd_put(&s->vd);
	free(s);
}

static ssize_t file_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	return vl_pread_full(ctx, buf, len, off);
}

static int vfs_build(void *dir, const char *name, uint64_t size, struct uvfs_merkle_result *res)
{
	struct vfs_dir *d = dir;
	struct uvfs_pathop pop = at(d, name);
	struct uvfs_file *f;
	int err = uvfs_open_at(d->c->vfs, d->c->cred, &pop, O_RDONLY | O_NOFOLLOW, 0, 0, &f);
	if (err)
		return err;
	struct uvfs_merkle_params p = { UVFS_VERITY_HASH_SHA256, 4096, NULL, 0, 1 };
	err = uvfs_merkle_build(&p, file_read, f, size, res);
	uvfs_file_put(f);
	return err;
}

static ssize_t vfs_readlink(void *dir, const char *name, char *buf, size_t len)
{
	struct uvfs_pathop pop = at(dir, name);
	return uvfs_readlink_at(((struct vfs_dir *)dir)->c->vfs, ((struct vfs_dir *)dir)->c->cred, &pop, buf, len);
}

static int vfs_write(void *dir, const char *name, const void *p, size_t n)
{
	struct vfs_dir *d = dir;
	return vl_write_all(d->c->vfs, d->c->cred, &d->vd, name, p, n);
}

static int vfs_make_dir(void *dir, const char *name, void **sub)
{
	struct vfs_dir *d = dir;
	struct uvfs_pathop pop = at(d, name);
	int err = uvfs_mkdir_at(d->c->vfs, d->c->cred, &pop, 0755);
	return err && err != -EEXIST ? err : vfs_open_dir(dir, name, sub);
}

static const struct seal_ops vfs_ops = { vfs_list, vfs_stat, vfs_open_dir, vfs_close_dir,
					 vfs_build, vfs_readlink, vfs_write, vfs_make_dir };

UVFS_API int uvfs_verity_seal_dirs(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *dir,
				   const struct uvfs_vd *tree_dir, uint8_t root_hash[UVFS_VERITY_ROOT_HASH_SIZE])
{
	struct statx st, mst;
	if (!vfs || !cred || !dir || !uvfs_vd_ok(dir) || !root_hash || (tree_dir && !uvfs_vd_ok(tree_dir)))
		return -EINVAL;
	struct vfs_ctx c = { vfs, cred };
	struct vfs_dir top = { &c, *dir }, mtop = { &c, tree_dir ? *tree_dir : *dir }; /* borrowed: not closed */
	int err = vfs_stat(&top, "", &st);
	if (!err && tree_dir)
		err = vfs_stat(&mtop, "", &mst);
	if (err)
		return err;
	if (!S_ISDIR(st.stx_mode) || (tree_dir && !S_ISDIR(mst.stx_mode)))
		return -ENOTDIR;
	return seal_dir(&vfs_ops, &top, tree_dir ? (void *)&mtop : (void *)&top, &st, 0, root_hash);
}

UVFS_API int uvfs_verity_seal(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *dir,
			      uint8_t root_hash[UVFS_VERITY_ROOT_HASH_SIZE])
{
	return uvfs_verity_seal_dirs(vfs, cred, dir, NULL, root_hash);
}

/* ------------------------------------------------------ host directories */

static int host_list(void *dir, struct names *ns)
{
	int fd = openat(*(int *)dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		return e;
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) && !collect(ns, de->d_name, strlen(de->d_name), de->d_ino, de->d_type, 0))
		errno = 0;
	int e = errno;
	closedir(d);
	return -e;
}

static int host_stat(void *dir, const char *name, struct statx *st)
{
	return statx(*(int *)dir, *name ? name : ".", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, st) ? -errno : 0;
}

static int host_open_dir(void *dir, const char *name, void **sub)
{
	int *fd = malloc(sizeof(int));
	if (!fd)
		return -ENOMEM;
	if ((*fd = openat(*(int *)dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		int e = -errno;
		free(fd);
		return e;
	}
	*sub = fd;
	return 0;
}

static void host_close_dir(void *sub)
{
	close(*(int *)sub);
	free(sub);
}

static int host_build(void *dir, const char *name, uint64_t size, struct uvfs_merkle_result *res)
{
	int fd = openat(*(int *)dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct uvfs_merkle_params p = { UVFS_VERITY_HASH_SHA256, 4096, NULL, 0, ncpu < 1 ? 1 : ncpu > 16 ? 16 : (unsigned)ncpu };
	int err = uvfs_merkle_build(&p, uvfs_merkle_fd_read, &fd, size, res);
	close(fd);
	return err;
}

static ssize_t host_readlink(void *dir, const char *name, char *buf, size_t len)
{
	ssize_t r = readlinkat(*(int *)dir, name, buf, len);
	return r < 0 ? -errno : r;
}

static int host_write(void *dir, const char *name, const void *p, size_t n)
{
	int fd = openat(*(int *)dir, name, O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t done = 0;
	int err = 0;
	while (done < n && !err) {
		ssize_t r = write(fd, (const char *)p + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			err = r < 0 ? -errno : -EIO;
		else
			done += (size_t)r;
	}
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static int host_make_dir(void *dir, const char *name, void **sub)
{
	if (mkdirat(*(int *)dir, name, 0755) && errno != EEXIST)
		return -errno;
	return host_open_dir(dir, name, sub);
}

static const struct seal_ops host_ops = { host_list, host_stat, host_open_dir, host_close_dir,
					  host_build, host_readlink, host_write, host_make_dir };

UVFS_API int uvfs_verity_seal_path_dirs(const char *path, const char *tree_dir,
					uint8_t root_hash[UVFS_VERITY_ROOT_HASH_SIZE])
{
	struct statx st;
	if (!path || !root_hash)
		return -EINVAL;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), mfd = fd;
	if (fd < 0)
		return -errno;
	if (tree_dir && (mfd = open(tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	int err = host_stat(&fd, "", &st);
	if (!err)
		err = seal_dir(&host_ops, &fd, tree_dir ? &mfd : &fd, &st, 0, root_hash);
	if (mfd != fd)
		close(mfd);
	close(fd);
	return err;
}

UVFS_API int uvfs_verity_seal_path(const char *path, uint8_t root_hash[UVFS_VERITY_ROOT_HASH_SIZE])
{
	return uvfs_verity_seal_path_dirs(path, NULL, root_hash);
}
