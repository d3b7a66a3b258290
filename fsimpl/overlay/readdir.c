/* fsimpl/overlay/readdir.c — the merged directory listing: the upper
 * directory's entries, then each lower's, first name wins, whiteouts
 * removed. An open directory caches its list (f_private) from the first
 * read at offset 0 on, so offsets stay valid across seeks; a rewind to 0
 * rebuilds it (Linux ovl_iterate refreshes on rewinddir too).
 * No lock held while the list is built; the cache is under the file's
 * f_lock (the VFS holds it around ->iterate). */
#include <fcntl.h>
#include <stdio.h>

#include "fsimpl/overlay/internal.h"

/* A set of names seen so far (open addressing, grows at half full). */
struct nameset {
	char **slot;
	size_t cap, n;
};

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* 1 if added, 0 if present, -ENOMEM. name is borrowed (kept). */
static int nameset_add(struct nameset *s, char *name)
{
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **slot = calloc(cap, sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i]) {
				size_t j = hash_name(s->slot[i]) & (cap - 1);
				while (slot[j])
					j = (j + 1) & (cap - 1);
				slot[j] = s->slot[i];
			}
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	size_t j = hash_name(name) & (s->cap - 1);
	for (; s->slot[j]; j = (j + 1) & (s->cap - 1))
		if (!strcmp(s->slot[j], name))
			return 0;
	s->slot[j] = name;
	s->n++;
	return 1;
}

struct layer_ents {
	struct ovl_dirent *e;
	size_t n, cap;
};

static int collect(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next)
{
	(void)next;
	struct layer_ents *l = arg;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct ovl_dirent *e = realloc(l->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		l->e = e;
		l->cap = cap;
	}
	if (!(l->e[l->n].name = strndup(name, len)))
		return -ENOMEM;
	l->e[l->n].ino = ino;
	l->e[l->n].type = (unsigned char)dtype;
	l->n++;
	return 0;
}

static int read_layer(struct ovl_fs *ofs, struct ovl_real dir, struct layer_ents *out)
{
	struct uvfs_pathop pop = ovl_pop(ofs, dir, NULL);
	struct uvfs_file *f;
	int err = uvfs_open_at(ofs->vfs.vfs, &ofs->cred, &pop, O_RDONLY | O_DIRECTORY, 0, 0, &f);
	if (err)
		return err;
	err = uvfs_iterate_dir(f, collect, out);
	uvfs_file_put(f);
	return err;
}

void ovl_dirlist_free(struct ovl_dirlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	*l = (struct ovl_dirlist){ 0 };
}

int ovl_dir_read_merged(struct ovl_fs *ofs, struct ovl_inode *oi, struct ovl_dirlist *out)
{
	*out = (struct ovl_dirlist){ 0 };
	struct nameset seen = { 0 };
	struct uvfs_dentry *up = ovl_upper(oi);
	unsigned nl = (up ? 1 : 0) + oi->nlowerdirs;
	int err = 0;
	for (unsigned k = 0; k < nl && !err; k++) {
		struct ovl_real dir = up ? (k == 0 ? (struct ovl_real){ up, 0 } : oi->lowerdirs[k - 1])
					 : oi->lowerdirs[k];
		struct layer_ents le = { 0 };
		err = read_layer(ofs, dir, &le);
		for (size_t i = 0; i < le.n; i++) {
			struct ovl_dirent *e = &le.e[i];
			int added = err ? -1 : nameset_add(&seen, e->name);
			if (added < 0 && !err)
				err = added;
			if (added <= 0) {
				free(e->name);
				continue;
			}
			/* The name is now the set's; a whiteout hides it below
			 * but is not listed. */
			bool show = true;
			struct ovl_real c = { 0 };
			if (ovl_layer_lookup(ofs, dir, e->name, &c) == 0) {
				show = !ovl_is_whiteout_dentry(c.d);
				if (show)
					e->ino = ovl_ino_for(ofs, c);
				ovl_real_put(&c);
			}
			if (!show)
				continue;
			if (out->n == out->cap) {
				size_t cap = out->cap ? out->cap * 2 : 32;
				struct ovl_dirent *ne = realloc(out->e, cap * sizeof(*ne));
				if (!ne) {
					err = -ENOMEM;
					continue;
				}
				out->e = ne;
				out->cap = cap;
			}
			out->e[out->n] = *e;
			if (!(out->e[out->n].name = strdup(e->name))) {
				err = -ENOMEM;
				continue;
			}
			out->n++;
		}
		free(le.e);
	}
	for (size_t i = 0; i < seen.cap; i++)
		free(seen.slot[i]);
	free(seen.slot);
	if (err)
		ovl_dirlist_free(out);
	return err;
}

/* ---------------------------------------------------------- dir files */

static int ovl_dir_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	(void)inode;
	f->f_private = NULL;
	return 0;
}

static void ovl_dir_release(struct uvfs_file *f)
{
	struct ovl_dirlist *l = f->f_private;
	if (l) {
		ovl_dirlist_free(l);
		free(l);
	}
}

static int ovl_iterate(struct uvfs_file *f, struct uvfs_dir_ctx *ctx)
{
	struct ovl_dirlist *l = f->f_private;
	if (!l || ctx->pos == 0) {
		struct ovl_dirlist *nl = calloc(1, sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		int err = ovl_dir_read_merged(ofs_of(f->f_inode), OI(f->f_inode), nl);
		if (err) {
			free(nl);
			return err;
		}
		ovl_dir_release(f);
		f->f_private = l = nl;
	}
	if (uvfs_dir_emit_dots(f, ctx))
		return 0;
	while (ctx->pos >= 2 && (uint64_t)ctx->pos - 2 < l->n) {
		struct ovl_dirent *e = &l->e[ctx->pos - 2];
		if (ctx->emit(ctx, e->name, strlen(e->name), e->ino, e->type, ctx->pos + 1))
			return 0;
		ctx->pos++;
	}
	return 0;
}

static int64_t ovl_dir_llseek(struct uvfs_file *f, int64_t off, int whence)
{
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)f->f_pos : -1;
	if (base < 0 || off + base < 0)
		return -EINVAL;
	return base + off;
}

const struct uvfs_file_ops ovl_dir_fops = {
	.open = ovl_dir_open,
	.release = ovl_dir_release,
	.iterate = ovl_iterate,
	.llseek = ovl_dir_llseek,
};
