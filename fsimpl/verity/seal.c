/* fsimpl/verity/seal.c — uvfs_verity_seal: writes every tree and manifest
 * of a directory tree through the VFS and returns its root hash.
 *
 * Depth first: a directory's manifest needs its subdirectories' digests.
 * Names are collected before anything is written, so the hidden files being
 * written never show up in the listing being sealed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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

static ssize_t file_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	return vl_pread_full(ctx, buf, len, off);
}

/* Builds name's tree, writes VM_HIDDEN.name = descriptor ‖ tree, and fills
 * the entry's digest. */
static int seal_file(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *dir, const char *name,
		     uint64_t size, struct vm_entry *e)
{
	struct uvfs_pathop pop = { .root = *dir, .start = *dir, .path = name };
	struct uvfs_file *f;
	struct uvfs_merkle_result res;
	char tname[256];
	int err = vl_tree_name(tname, name, strlen(name));
	if (err || (err = uvfs_open_at(vfs, cred, &pop, O_RDONLY | O_NOFOLLOW, 0, 0, &f)))
		return err;
	struct uvfs_merkle_params p = { UVFS_VERITY_HASH_SHA256, 4096, NULL, 0, 1 };
	err = uvfs_merkle_build(&p, file_read, f, size, &res);
	uvfs_file_put(f);
	if (err)
		return err;
	uint8_t *buf = malloc(UVFS_VERITY_DESC_SIZE + res.tree_size);
	if (!buf) {
		uvfs_merkle_result_free(&res);
		return -ENOMEM;
	}
	memcpy(buf, res.descriptor, UVFS_VERITY_DESC_SIZE);
	if (res.tree_size)
		memcpy(buf + UVFS_VERITY_DESC_SIZE, res.tree, res.tree_size);
	err = vl_write_all(vfs, cred, dir, tname, buf, UVFS_VERITY_DESC_SIZE + res.tree_size);
	free(buf);
	e->digest_len = VM_DIGEST;
	memcpy(e->digest, res.digest, VM_DIGEST);
	uvfs_merkle_result_free(&res);
	return err;
}

static int seal_dir(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *dir,
		    const struct statx *self, int depth, uint8_t digest[VM_DIGEST])
{
	struct uvfs_pathop here = { .root = *dir, .start = *dir, .path = "", .flags = UVFS_PATH_EMPTY };
	struct names ns = { 0 };
	struct vmanifest m = { .mode = self->stx_mode, .uid = self->stx_uid, .gid = self->stx_gid };
	struct uvfs_file *df;
	uint8_t *bytes = NULL;
	size_t blen;
	int err;

	if (depth > SEAL_MAX_DEPTH)
		return -ELOOP;
	if ((err = uvfs_open_at(vfs, cred, &here, O_RDONLY | O_DIRECTORY, 0, 0, &df)))
		return err;
	err = uvfs_iterate_dir(df, collect, &ns);
	uvfs_file_put(df);
	if (!err)
		err = ns.err;
	if (!err && !(m.e = calloc(ns.n ? ns.n : 1, sizeof(*m.e))))
		err = -ENOMEM;
	for (uint32_t i = 0; !err && i < ns.n; i++) {
		struct vm_entry *e = &m.e[i];
		struct uvfs_pathop pop = { .root = *dir, .start = *dir, .path = ns.v[i] };
		struct statx st;
		size_t len = strlen(ns.v[i]);
		m.n = i + 1;
		e->name = ns.v[i];
		e->name_len = (uint16_t)len;
		if (len > VM_NAME_MAX) {
			err = -ENAMETOOLONG;
			break;
		}
		if ((err = uvfs_stat_at(vfs, cred, &pop, STATX_BASIC_STATS, &st)))
			break;
		e->mode = st.stx_mode;
		e->uid = st.stx_uid;
		e->gid = st.stx_gid;
		if (S_ISREG(st.stx_mode)) {
			e->size = st.stx_size;
			err = seal_file(vfs, cred, dir, ns.v[i], st.stx_size, e);
		} else if (S_ISDIR(st.stx_mode)) {
			struct uvfs_vd sub;
			if (!(err = uvfs_get_dentry_at(vfs, cred, &pop, 0, &sub))) {
				e->digest_len = VM_DIGEST;
				err = seal_dir(vfs, cred, &sub, &st, depth + 1, e->digest);
				uvfs_vd_put(&sub);
			}
		} else if (S_ISLNK(st.stx_mode)) {
			char *t = malloc(UVFS_PATH_MAX);
			ssize_t r = t ? uvfs_readlink_at(vfs, cred, &pop, t, UVFS_PATH_MAX) : -ENOMEM;
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
		err = vl_write_all(vfs, cred, dir, VM_HIDDEN, bytes, blen);
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

UVFS_API int uvfs_verity_seal(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *dir,
			      uint8_t root_hash[UVFS_VERITY_ROOT_HASH_SIZE])
{
	struct uvfs_pathop here = { .root = *dir, .start = *dir, .path = "", .flags = UVFS_PATH_EMPTY };
	struct statx st;
	if (!vfs || !cred || !dir || !uvfs_vd_ok(dir) || !root_hash)
		return -EINVAL;
	int err = uvfs_stat_at(vfs, cred, &here, STATX_BASIC_STATS, &st);
	if (err)
		return err;
	if (!S_ISDIR(st.stx_mode))
		return -ENOTDIR;
	return seal_dir(vfs, cred, dir, &st, 0, root_hash);
}
