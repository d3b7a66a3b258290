/* fsimpl/overlay/layer.c — operations on the layers: lookups, whiteouts,
 * opaque directories, temporaries in the work directory. Every call goes
 * through the VFS on a layer (never on the overlay itself) with the
 * mounter's credentials; no overlay lock is taken here. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/sysmacros.h>

#include "fsimpl/overlay/internal.h"

struct uvfs_pathop ovl_pop(struct ovl_fs *ofs, struct ovl_real r, const char *name)
{
	struct uvfs_vd start = { ofs->layers[r.layer].mount, r.d };
	bool self = !name || !*name;
	return (struct uvfs_pathop){ .root = ofs->layers[r.layer], .start = start, .path = self ? "" : name,
				     .flags = self ? UVFS_PATH_EMPTY : 0 };
}

struct uvfs_pathop ovl_work_pop(struct ovl_fs *ofs, const char *name)
{
	return (struct uvfs_pathop){ .root = ofs->layers[0], .start = ofs->work, .path = name };
}

void ovl_real_put(struct ovl_real *r)
{
	if (r->d)
		uvfs_dentry_put(r->d);
	r->d = NULL;
}

int ovl_layer_lookup(struct ovl_fs *ofs, struct ovl_real dir, const char *name, struct ovl_real *out)
{
	struct uvfs_pathop pop = ovl_pop(ofs, dir, name);
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(ofs->vfs.vfs, &ofs->cred, &pop, 0, &vd);
	if (err)
		return err == -ENAMETOOLONG || err == -ENOTDIR ? -ENOENT : err;
	/* Layers have no submounts: the result is on the layer's mount. */
	out->d = vd.dentry;
	out->layer = dir.layer;
	uvfs_mount_put(vd.mount);
	return 0;
}

bool ovl_is_whiteout_dentry(struct uvfs_dentry *d)
{
	struct uvfs_inode *i = uvfs_dentry_inode(d);
	if (!i)
		return false;
	struct statx st;
	uvfs_inode_fill_statx(i, &st);
	return S_ISCHR(st.stx_mode) && st.stx_rdev_major == 0 && st.stx_rdev_minor == 0;
}

bool ovl_is_opaque(struct ovl_fs *ofs, struct ovl_real r)
{
	char v[2];
	struct uvfs_pathop pop = ovl_pop(ofs, r, NULL);
	ssize_t n = uvfs_getxattr_at(ofs->vfs.vfs, &ofs->cred, &pop, OVL_XATTR_OPAQUE, v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

bool ovl_lower_positive(struct ovl_fs *ofs, struct ovl_inode *dir, const char *name)
{
	for (unsigned i = 0; i < dir->nlowerdirs; i++) {
		struct ovl_real r;
		if (ovl_layer_lookup(ofs, dir->lowerdirs[i], name, &r))
			continue;
		bool wh = ovl_is_whiteout_dentry(r.d);
		ovl_real_put(&r);
		return !wh;
	}
	return false;
}

void ovl_tmpname(struct ovl_fs *ofs, char *buf, size_t len)
{
	snprintf(buf, len, "#uvfs-%lu", atomic_fetch_add(&ofs->tmp_seq, 1));
}

struct names {
	char **v;
	size_t n, cap;
	bool chr_only;
};

static int collect(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next)
{
	(void)ino, (void)next;
	struct names *nm = arg;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (nm->chr_only && dtype != DT_CHR)
		return 0;
	if (nm->n == nm->cap) {
		size_t cap = nm->cap ? nm->cap * 2 : 16;
		char **v = realloc(nm->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		nm->v = v;
		nm->cap = cap;
	}
	if (!(nm->v[nm->n] = strndup(name, len)))
		return -ENOMEM;
	nm->n++;
	return 0;
}

static void names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
}

int ovl_purge_whiteouts(struct ovl_fs *ofs, struct ovl_real r)
{
	struct uvfs_pathop pop = ovl_pop(ofs, r, NULL);
	struct uvfs_file *f;
	int err = uvfs_open_at(ofs->vfs.vfs, &ofs->cred, &pop, O_RDONLY | O_DIRECTORY, 0, 0, &f);
	if (err)
		return err;
	struct names nm = { .chr_only = true };
	err = uvfs_iterate_dir(f, collect, &nm);
	uvfs_file_put(f);
	for (size_t i = 0; !err && i < nm.n; i++) {
		struct ovl_real c;
		if (ovl_layer_lookup(ofs, r, nm.v[i], &c))
			continue;
		bool wh = ovl_is_whiteout_dentry(c.d);
		ovl_real_put(&c);
		if (wh) {
			struct uvfs_pathop cp = ovl_pop(ofs, r, nm.v[i]);
			err = uvfs_unlink_at(ofs->vfs.vfs, &ofs->cred, &cp);
		}
	}
	names_free(&nm);
	return err;
}

void ovl_work_cleanup(struct ovl_fs *ofs, const char *name)
{
	struct uvfs_pathop pop = ovl_work_pop(ofs, name);
	if (uvfs_unlink_at(ofs->vfs.vfs, &ofs->cred, &pop) != -EISDIR)
		return;
	struct ovl_real dir;
	struct ovl_real work = { ofs->work.dentry, 0 };
	if (ovl_layer_lookup(ofs, work, name, &dir) == 0) {
		ovl_purge_whiteouts(ofs, dir);
		ovl_real_put(&dir);
	}
	uvfs_rmdir_at(ofs->vfs.vfs, &ofs->cred, &pop);
}
