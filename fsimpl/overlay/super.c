/* fsimpl/overlay/super.c — the overlay type: options (vds or the Data
 * string), filesystem creation and release, inodes and their numbers.
 *
 * Locks: ino_lock (leaf) guards the inode-number table; the layer vds are
 * immutable after get_fs. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/sysmacros.h>

#include "fsimpl/overlay/internal.h"

/* ------------------------------------------------------------- inodes */

/* Lower objects' numbers carry their layer in the top bits, so numbers of
 * different layers never collide (the kernel's xino does the same). */
#define OVL_INO_LAYER_SHIFT 48

uint64_t ovl_ino_for(struct ovl_fs *ofs, struct ovl_real r)
{
	uint64_t ino = uvfs_dentry_inode(r.d)->i_ino;
	if (r.layer != 0)
		return ino | ((uint64_t)r.layer << OVL_INO_LAYER_SHIFT);
	pthread_mutex_lock(&ofs->ino_lock);
	for (struct ovl_ino_ent *e = ofs->ino_hash[ino & 255]; e; e = e->next)
		if (e->upper_ino == ino) {
			ino = e->ino;
			break;
		}
	pthread_mutex_unlock(&ofs->ino_lock);
	return ino;
}

void ovl_ino_remember(struct ovl_fs *ofs, uint64_t upper_ino, uint64_t ino)
{
	struct ovl_ino_ent *e = malloc(sizeof(*e));
	if (!e)
		return; /* the number changes after copy-up: cosmetic */
	e->upper_ino = upper_ino;
	e->ino = ino;
	pthread_mutex_lock(&ofs->ino_lock);
	e->next = ofs->ino_hash[upper_ino & 255];
	ofs->ino_hash[upper_ino & 255] = e;
	pthread_mutex_unlock(&ofs->ino_lock);
}

void ovl_copy_attr(struct ovl_inode *oi)
{
	struct ovl_real r = ovl_top(oi);
	struct statx st;
	uvfs_inode_fill_statx(uvfs_dentry_inode(r.d), &st);
	struct uvfs_inode *i = &oi->vfs;
	uvfs_inode_attr_begin(i);
	/* Scalars that the lockless walk also reads with relaxed loads; only
	 * stored when they change (the VFS reads the type bits of i_mode
	 * without any, as they never change). */
#define SET(f, v)                                                     \
	do {                                                          \
		__typeof__(i->f) v_ = (v);                            \
		if (__atomic_load_n(&i->f, __ATOMIC_RELAXED) != v_)   \
			__atomic_store_n(&i->f, v_, __ATOMIC_RELAXED); \
	} while (0)
	SET(i_mode, (i->i_mode & S_IFMT) | (st.stx_mode & ~S_IFMT));
	SET(i_uid, st.stx_uid);
	SET(i_gid, st.stx_gid);
	SET(i_nlink, S_ISDIR(i->i_mode) && ovl_is_merge(oi) ? 1 : st.stx_nlink);
	SET(i_size, st.stx_size);
	SET(i_blocks, st.stx_blocks);
	SET(i_rdev, makedev(st.stx_rdev_major, st.stx_rdev_minor));
#undef SET
	i->i_atime = (struct timespec){ st.stx_atime.tv_sec, st.stx_atime.tv_nsec };
	i->i_mtime = (struct timespec){ st.stx_mtime.tv_sec, st.stx_mtime.tv_nsec };
	i->i_ctime = (struct timespec){ st.stx_ctime.tv_sec, st.stx_ctime.tv_nsec };
	i->i_btime = (struct timespec){ st.stx_btime.tv_sec, st.stx_btime.tv_nsec };
	uvfs_inode_attr_end(i);
}

int ovl_new_inode(struct ovl_fs *ofs, struct uvfs_dentry *upper, struct ovl_real lower, struct ovl_real *lowerdirs,
		  unsigned nlowerdirs, struct ovl_inode **out)
{
	struct ovl_real top = upper ? (struct ovl_real){ upper, 0 } : lower;
	struct uvfs_inode *ri = uvfs_dentry_inode(top.d);
	mode_t mode = ri->i_mode;
	char *link = NULL;
	if (S_ISLNK(mode)) {
		/* i_link lets the lockless walk follow it; the target of a
		 * symlink never changes (a copy-up copies it). */
		char buf[4096];
		struct uvfs_pathop pop = ovl_pop(ofs, top, NULL);
		ssize_t n = uvfs_readlink_at(ofs->vfs.vfs, &ofs->cred, &pop, buf, sizeof(buf) - 1);
		if (n < 0)
			return (int)n;
		if (!(link = strndup(buf, (size_t)n)))
			return -ENOMEM;
	}
	struct ovl_inode *oi = calloc(1, sizeof(*oi));
	if (!oi) {
		free(link);
		return -ENOMEM;
	}
	const struct uvfs_inode_ops *iop = S_ISDIR(mode) ? &ovl_dir_iops : &ovl_file_iops;
	const struct uvfs_file_ops *fop = S_ISDIR(mode) ? &ovl_dir_fops
					  : S_ISREG(mode) ? &ovl_file_fops
							  : &ovl_special_fops;
	uvfs_inode_init(&oi->vfs, &ofs->vfs, iop, fop, 0, mode);
	oi->vfs.i_link = link;
	atomic_init(&oi->upper, upper);
	oi->lower = lower;
	oi->lowerdirs = lowerdirs;
	oi->nlowerdirs = nlowerdirs;
	oi->vfs.i_ino = ovl_ino_for(ofs, top);
	ovl_copy_attr(oi);
	*out = oi;
	return 0;
}

static void ovl_evict_inode(struct uvfs_inode *inode)
{
	struct ovl_inode *oi = OI(inode);
	struct uvfs_dentry *u = ovl_upper(oi);
	if (u)
		uvfs_dentry_put(u);
	/* lower is lowerdirs[0] for directories: one reference for both. */
	if (oi->nlowerdirs) {
		for (unsigned i = 0; i < oi->nlowerdirs; i++)
			ovl_real_put(&oi->lowerdirs[i]);
	} else {
		ovl_real_put(&oi->lower);
	}
	free(oi->lowerdirs);
}

static void ovl_free_inode(struct uvfs_inode *inode)
{
	free((char *)inode->i_link);
	free(OI(inode));
}

/* ------------------------------------------------------------ the fs */

static void ovl_release(struct uvfs_filesystem *fs)
{
	struct ovl_fs *ofs = OFS(fs);
	for (unsigned i = 0; i < ofs->nlayers; i++)
		if (uvfs_vd_ok(&ofs->layers[i]))
			uvfs_vd_put(&ofs->layers[i]);
	if (uvfs_vd_ok(&ofs->work))
		uvfs_vd_put(&ofs->work);
	free(ofs->layers);
	for (int b = 0; b < 256; b++)
		for (struct ovl_ino_ent *e = ofs->ino_hash[b], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	pthread_mutex_destroy(&ofs->ino_lock);
	free(ofs);
}

static int ovl_statfs(struct uvfs_filesystem *fs, struct statfs *out)
{
	struct ovl_fs *ofs = OFS(fs);
	struct uvfs_pathop pop = { .root = ofs->layers[uvfs_vd_ok(&ofs->layers[0]) ? 0 : 1],
				   .start = ofs->layers[uvfs_vd_ok(&ofs->layers[0]) ? 0 : 1],
				   .path = "",
				   .flags = UVFS_PATH_EMPTY };
	int err = uvfs_statfs_at(fs->vfs, &ofs->cred, &pop, out);
	if (!err)
		out->f_type = 0x794c7630; /* OVERLAYFS_SUPER_MAGIC */
	return err;
}

static const struct uvfs_fs_ops ovl_fs_ops = {
	.release = ovl_release,
	.evict_inode = ovl_evict_inode,
	.free_inode = ovl_free_inode,
	.statfs = ovl_statfs,
};

/* ------------------------------------------------------------ options */

static int resolve_dir(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *root, const char *path,
		       struct uvfs_vd *out)
{
	if (!uvfs_vd_ok(root)) {
		uvfs_log(UVFS_LOG_ERROR, "overlay: layer paths need uvfs_overlay_opts.root");
		return -EINVAL;
	}
	struct uvfs_pathop pop = { .root = *root, .start = *root, .path = path, .flags = UVFS_PATH_FOLLOW };
	return uvfs_get_dentry_at(vfs, cred, &pop, UVFS_GET_SEARCHABLE, out);
}

/* Fills ofs->layers/nlayers/work from vds and/or the Data string. */
static int parse_layers(struct ovl_fs *ofs, const struct uvfs_cred *cred, const char *data,
			const struct uvfs_overlay_opts *in)
{
	struct uvfs *vfs = ofs->vfs.vfs;
	struct uvfs_opts o;
	int err = uvfs_opts_parse(&o, data ? data : "");
	if (err)
		return err;
	const char *lowerdir = uvfs_opts_take(&o, "lowerdir");
	const char *upperdir = uvfs_opts_take(&o, "upperdir");
	const char *workdir = uvfs_opts_take(&o, "workdir");
	if ((err = uvfs_opts_check_unused(&o, "overlay")))
		goto out;
	static const struct uvfs_vd no_root;
	const struct uvfs_vd *root = in ? &in->root : &no_root;
	bool in_lower = in && in->nlower, in_upper = in && uvfs_vd_ok(&in->upper);
	if (in_lower && !in->lower) {
		err = -EINVAL;
		goto out;
	}
	/* A regular-file upper root (boot's file mounts) has no workdir. */
	struct uvfs_inode *ui = in_upper ? uvfs_dentry_inode(in->upper.dentry) : NULL;
	bool file_upper = ui && S_ISREG(ui->i_mode);
	if ((lowerdir && in_lower) || ((upperdir || workdir) && in_upper) || (!!upperdir != !!workdir) ||
	    (in && !file_upper && !!uvfs_vd_ok(&in->upper) != !!uvfs_vd_ok(&in->work)) ||
	    (file_upper && uvfs_vd_ok(&in->work))) {
		err = -EINVAL;
		goto out;
	}
	unsigned nlower = in_lower ? in->nlower : 0;
	char *lcopy = NULL;
	if (lowerdir) {
		if (!(lcopy = strdup(lowerdir))) {
			err = -ENOMEM;
			goto out;
		}
		nlower = 1;
		for (char *p = lcopy; *p; p++)
			nlower += *p == ':';
	}
	bool has_upper = upperdir || in_upper;
	if (nlower == 0 || nlower > UVFS_OVERLAY_MAX_LOWER || (!has_upper && nlower < 2)) {
		uvfs_log(UVFS_LOG_ERROR, "overlay: %u lower layers%s", nlower, has_upper ? "" : " without upperdir");
		free(lcopy);
		err = -EINVAL;
		goto out;
	}
	if (!(ofs->layers = calloc(nlower + 1, sizeof(*ofs->layers)))) {
		free(lcopy);
		err = -ENOMEM;
		goto out;
	}
	ofs->nlayers = nlower + 1;
	if (lcopy) {
		char *save = NULL, *p = lcopy;
		for (unsigned i = 1; i <= nlower; i++, p = NULL) {
			char *tok = strtok_r(p, ":", &save);
			if (!tok || !*tok)
				err = -EINVAL;
			else
				err = resolve_dir(vfs, cred, root, tok, &ofs->layers[i]);
			if (err)
				break;
		}
		free(lcopy);
	} else {
		for (unsigned i = 1; i <= nlower; i++) {
			ofs->layers[i] = in->lower[i - 1];
			uvfs_vd_get(&ofs->layers[i]);
		}
	}
	if (err)
		goto out;
	if (upperdir) {
		if ((err = resolve_dir(vfs, cred, root, upperdir, &ofs->layers[0])) ||
		    (err = resolve_dir(vfs, cred, root, workdir, &ofs->work)))
			goto out;
	} else if (in_upper) {
		ofs->layers[0] = in->upper;
		uvfs_vd_get(&ofs->layers[0]);
		if (uvfs_vd_ok(&in->work)) {
			ofs->work = in->work;
			uvfs_vd_get(&ofs->work);
		}
	}
	/* Every layer a directory, or (internal form only) a regular-file
	 * root: exactly one lower file under an upper file to copy it into. */
	bool file_root = false;
	for (unsigned i = 0; i < ofs->nlayers; i++) {
		struct uvfs_inode *ri = uvfs_vd_ok(&ofs->layers[i]) ? uvfs_dentry_inode(ofs->layers[i].dentry) : NULL;
		file_root |= ri && S_ISREG(ri->i_mode);
	}
	if (file_root && (!in || lowerdir || !has_upper || nlower != 1)) {
		uvfs_log(UVFS_LOG_ERROR, "overlay: a regular-file root needs one lower file and an upper file");
		err = lowerdir ? -ENOTDIR : -EINVAL;
		goto out;
	}
	for (unsigned i = 0; i < ofs->nlayers; i++) {
		if (!uvfs_vd_ok(&ofs->layers[i]))
			continue;
		struct uvfs_inode *ri = uvfs_dentry_inode(ofs->layers[i].dentry);
		if (!ri || (file_root ? !S_ISREG(ri->i_mode) : !S_ISDIR(ri->i_mode))) {
			err = -ENOTDIR;
			goto out;
		}
	}
	if (file_root) {
		if (uvfs_mount_readonly(ofs->layers[0].mount))
			err = -EROFS;
	} else if (has_upper) {
		struct uvfs_inode *wi = uvfs_dentry_inode(ofs->work.dentry);
		if (!wi || !S_ISDIR(wi->i_mode)) {
			err = -ENOTDIR;
			goto out;
		}
		if (ofs->work.mount != ofs->layers[0].mount || ofs->work.dentry == ofs->layers[0].dentry) {
			uvfs_log(UVFS_LOG_ERROR, "overlay: workdir must be another directory of upperdir's mount");
			err = -EINVAL;
			goto out;
		}
		if (uvfs_mount_readonly(ofs->layers[0].mount)) {
			err = -EROFS;
			goto out;
		}
	}
out:
	uvfs_opts_free(&o);
	return err;
}

static int ovl_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		      const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	(void)source;
	struct ovl_fs *ofs = calloc(1, sizeof(*ofs));
	if (!ofs)
		return -ENOMEM;
	int err = uvfs_fs_init(&ofs->vfs, vfs, &uvfs_overlay_type, &ovl_fs_ops);
	if (err) {
		free(ofs);
		return err;
	}
	pthread_mutex_init(&ofs->ino_lock, NULL);
	/* The mounter's credentials, for every layer operation (Linux
	 * ovl_override_creds). The group list is borrowed by contract, so the
	 * copy keeps none. */
	ofs->cred = *cred;
	ofs->cred.ngroups = 0;
	ofs->cred.groups = NULL;
	ofs->cred.groups_src = NULL;
	if ((err = parse_layers(ofs, cred, opts ? opts->data : NULL, opts ? opts->internal : NULL)))
		goto fail;

	bool has_upper = uvfs_vd_ok(&ofs->layers[0]);
	if (has_upper && S_ISREG(uvfs_dentry_inode(ofs->layers[0].dentry)->i_mode)) {
		/* A regular-file root, copied up whole now: it never needs a
		 * copy-up later (and there is no workdir to make one in). */
		struct uvfs_dentry *up = ofs->layers[0].dentry, *low = ofs->layers[1].dentry;
		struct ovl_inode *root;
		if ((err = ovl_copy_up_file_root(ofs)))
			goto fail;
		uvfs_dentry_get(up);
		uvfs_dentry_get(low);
		if ((err = ovl_new_inode(ofs, up, (struct ovl_real){ low, 1 }, NULL, 0, &root))) {
			uvfs_dentry_put(up);
			uvfs_dentry_put(low);
			goto fail;
		}
		if ((err = uvfs_d_make_root(&ofs->vfs, &root->vfs, &ofs->vfs.root))) {
			uvfs_inode_put(&root->vfs);
			uvfs_rcu_barrier();
			goto fail;
		}
		*out = &ofs->vfs;
		return 0;
	}

	/* The root: upper root over every lower root, as a lookup would
	 * find it (opaque lower roots stop the merge). */
	struct ovl_real *ld = calloc(ofs->nlayers, sizeof(*ld));
	if (!ld) {
		err = -ENOMEM;
		goto fail;
	}
	unsigned n = 0;
	bool stop = has_upper && ovl_is_opaque(ofs, (struct ovl_real){ ofs->layers[0].dentry, 0 });
	for (unsigned i = 1; i < ofs->nlayers && !stop; i++) {
		ld[n] = (struct ovl_real){ ofs->layers[i].dentry, (int)i };
		uvfs_dentry_get(ld[n].d);
		stop = ovl_is_opaque(ofs, ld[n++]);
	}
	struct uvfs_dentry *up = has_upper ? ofs->layers[0].dentry : NULL;
	if (up)
		uvfs_dentry_get(up);
	struct ovl_inode *root;
	err = ovl_new_inode(ofs, up, n ? ld[0] : (struct ovl_real){ 0 }, ld, n, &root);
	if (err) {
		if (up)
			uvfs_dentry_put(up);
		for (unsigned i = 0; i < n; i++)
			ovl_real_put(&ld[i]);
		free(ld);
		goto fail;
	}
	if ((err = uvfs_d_make_root(&ofs->vfs, &root->vfs, &ofs->vfs.root))) {
		uvfs_inode_put(&root->vfs);
		uvfs_rcu_barrier();
		goto fail;
	}
	*out = &ofs->vfs;
	return 0;
fail:
	uvfs_fs_abort(&ofs->vfs);
	ofs->vfs.root = NULL;
	/* What release would do, without the fs accounting abort undid. */
	for (unsigned i = 0; i < ofs->nlayers; i++)
		if (uvfs_vd_ok(&ofs->layers[i]))
			uvfs_vd_put(&ofs->layers[i]);
	if (uvfs_vd_ok(&ofs->work))
		uvfs_vd_put(&ofs->work);
	free(ofs->layers);
	pthread_mutex_destroy(&ofs->ino_lock);
	free(ofs);
	return err;
}

/* RCU walk: overlay dentries need no revalidation (the layers change only
 * through the overlay), search permission is checked on the overlay
 * inode's own attributes (ovl_copy_attr keeps them, under i_seq), symlink
 * bodies are in i_link, and stat reads the real inode (ovl_getattr_rcu). */
const struct uvfs_fs_type uvfs_overlay_type = {
	.name = "overlay",
	.flags = UVFS_FST_RCU_WALK,
	.get_fs = ovl_get_fs,
};
