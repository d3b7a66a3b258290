/* fsimpl/gofer/names.c — complete directories in the exclusive modes
 * (cache=fscache*): a readdir stream that went from the start to the end
 * with no namespace change through us in the directory since it began
 * leaves the sorted set of every name the server listed in the directory
 * inode; a lookup of any other name is then ENOENT with no round trip
 * (gVisor's childrenSet; google/gvisor#6665). The VFS's own completeness
 * (UVFS_I_COMPLETE) is not used: it would need a pinned dentry, and so a
 * lookup, for every child of a 50,000-entry directory.
 *
 * Locks: a directory's set and dir_gen live under its i_lock (held by the
 * VFS in lookup and in every namespace op; iterate takes it to publish).
 * A stream's builder is under the file's f_lock (VFS, around iterate). */
#include <stdlib.h>

#include "fsimpl/gofer/internal.h"

struct gofer_names {
	size_t n;
	uint32_t *off; /* listing order: offsets into arena */
	uint32_t *sorted; /* positions in off, sorted by name */
	char *arena; /* NUL-terminated names */
};

#define PF_MAX 64 /* names fetched ahead by one lookup */
struct gofer_prefetch {
	unsigned long gen; /* fs->dir_renames when walked */
	size_t n;
	const char *name[PF_MAX]; /* into the names arena (dropped with it) */
	uint32_t fid[PF_MAX]; /* UVFS_P9_NOFID: taken or failed */
	int err[PF_MAX];
	struct uvfs_p9_attr attr[PF_MAX];
};

struct gofer_names_build {
	unsigned long gen; /* the directory's dir_gen when the stream began */
	struct gofer_names s;
	size_t alen, acap, cap;
};

static void names_free(struct gofer_names *s)
{
	if (!s)
		return;
	free(s->sorted);
	free(s->off);
	free(s->arena);
}

void gofer_names_drop(struct gofer_names *s)
{
	names_free(s);
	free(s);
}

void gofer_dir_changed(struct uvfs_inode *dir)
{
	struct gofer_inode *gd = GI(dir);
	gd->dir_gen++;
	gofer_prefetch_drop(gd);
	if (gd->names) {
		gofer_names_drop(gd->names);
		gd->names = NULL;
	}
}

struct sort_ctx {
	const uint32_t *off;
	const char *arena;
};

static int cmp_pos(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	return strcmp(c->arena + c->off[*(const uint32_t *)a], c->arena + c->off[*(const uint32_t *)b]);
}

/* name's position in the listing, -1 if not listed, -2 with no listing. */
static long names_pos(struct uvfs_inode *dir, const char *name)
{
	struct gofer_names *s = GI(dir)->names;
	if (!s)
		return -2;
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, s->arena + s->off[s->sorted[mid]]);
		if (!c)
			return (long)s->sorted[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

int gofer_names_lookup(struct uvfs_inode *dir, const char *name)
{
	long p = names_pos(dir, name);
	return p == -2 ? -1 : p >= 0;
}

void gofer_prefetch_drop(struct gofer_inode *gi)
{
	struct gofer_prefetch *pf = gi->pf;
	if (!pf)
		return;
	gi->pf = NULL;
	for (size_t i = 0; i < pf->n; i++)
		if (pf->fid[i] != UVFS_P9_NOFID && pf->fid[i] != GOFER_LAZYFID)
			uvfs_p9_clunk_async(GC(&gi->vfs), pf->fid[i]);
	free(pf);
}

/* Walks and getattrs the names from listing position p on, pipelined. */
static struct gofer_prefetch *prefetch(struct gofer_fs *fs, struct uvfs_inode *dir, size_t p)
{
	struct gofer_names *s = GI(dir)->names;
	uint32_t dfid = gofer_fid(dir);
	struct gofer_prefetch *pf = calloc(1, sizeof(*pf));
	if (!pf || dfid == UVFS_P9_NOFID) {
		free(pf);
		return NULL;
	}
	pf->gen = atomic_load_explicit(&fs->dir_renames, memory_order_acquire);
	pf->n = s->n - p < PF_MAX ? s->n - p : PF_MAX;
	for (size_t i = 0; i < pf->n; i++)
		pf->name[i] = s->arena + s->off[p + i];
	struct uvfs_p9_qid qids[PF_MAX];
	int gerr[PF_MAX];
	if (uvfs_p9_walk_many(fs->c, dfid, pf->n, pf->name, pf->fid, qids, pf->err) ||
	    uvfs_p9_getattr_many(fs->c, pf->n, pf->fid, UVFS_P9_GETATTR_ALL, pf->attr, gerr)) {
		for (size_t i = 0; i < pf->n; i++)
			if (pf->fid[i] != UVFS_P9_NOFID)
				uvfs_p9_clunk_async(fs->c, pf->fid[i]);
		free(pf);
		return NULL;
	}
	for (size_t i = 0; i < pf->n; i++) {
		if (!pf->err[i])
			pf->err[i] = gerr[i];
		if (pf->err[i] && pf->fid[i] != UVFS_P9_NOFID) {
			uvfs_p9_clunk_async(fs->c, pf->fid[i]);
			pf->fid[i] = UVFS_P9_NOFID;
		}
		/* Fetched for its attributes: a file with one name keeps no
		 * fid on the server (GOFER_LAZYFID) until an op needs one.
		 * Directories keep theirs (lookups below walk from them);
		 * symlinks need theirs once more, to read the target. */
		mode_t t = pf->attr[i].mode & S_IFMT;
		if (!pf->err[i] && t != S_IFDIR && t != S_IFLNK && pf->attr[i].nlink <= 1) {
			uvfs_p9_clunk_async(fs->c, pf->fid[i]);
			pf->fid[i] = GOFER_LAZYFID;
		}
	}
	return pf;
}

static int take(struct gofer_fs *fs, struct gofer_prefetch *pf, const char *name, struct gofer_inode **out)
{
	if (pf->gen != atomic_load_explicit(&fs->dir_renames, memory_order_acquire))
		return -EAGAIN;
	for (size_t i = 0; i < pf->n; i++) {
		if (strcmp(pf->name[i], name))
			continue;
		if (pf->fid[i] == UVFS_P9_NOFID)
			return pf->err[i] == -ENOENT ? -ENOENT : -EAGAIN;
		uint32_t fid = pf->fid[i];
		pf->fid[i] = UVFS_P9_NOFID;
		pf->err[i] = -EAGAIN; /* taken: a second lookup asks alone */
		return gofer_inode_from(fs, fid, &pf->attr[i], pf->gen, out);
	}
	return -EAGAIN;
}

int gofer_listed_lookup(struct uvfs_inode *dir, const char *name, struct gofer_inode **out)
{
	struct gofer_fs *fs = GFS(dir->i_fs);
	struct gofer_inode *gd = GI(dir);
	long p = names_pos(dir, name);
	if (p == -1)
		return -ENOENT;
	if (p < 0)
		return -EAGAIN;
	int err = gd->pf ? take(fs, gd->pf, name, out) : -EAGAIN;
	if (err != -EAGAIN)
		return err;
	gofer_prefetch_drop(gd);
	gd->pf = prefetch(fs, dir, (size_t)p);
	if (!gd->pf)
		return -EAGAIN;
	err = take(fs, gd->pf, name, out);
	return err == -ENOENT ? -EAGAIN : err; /* listed but gone: ask alone */
}

struct gofer_names_build *gofer_names_begin(struct uvfs_inode *dir)
{
	struct gofer_names_build *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	uvfs_lock_acquire(&dir->i_lock);
	b->gen = GI(dir)->dir_gen;
	uvfs_lock_release(&dir->i_lock);
	return b;
}

bool gofer_names_add(struct gofer_names_build *b, const char *name, size_t len)
{
	if (b->alen + len + 1 > UINT32_MAX)
		return false;
	if (b->alen + len + 1 > b->acap) {
		size_t ncap = b->acap ? b->acap * 2 : 4096;
		while (ncap < b->alen + len + 1)
			ncap *= 2;
		char *a = realloc(b->s.arena, ncap);
		if (!a)
			return false;
		b->s.arena = a;
		b->acap = ncap;
	}
	if (b->s.n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 256;
		uint32_t *o = realloc(b->s.off, ncap * sizeof(*o));
		if (!o)
			return false;
		b->s.off = o;
		b->cap = ncap;
	}
	b->s.off[b->s.n++] = (uint32_t)b->alen;
	memcpy(b->s.arena + b->alen, name, len);
	b->s.arena[b->alen + len] = 0;
	b->alen += len + 1;
	return true;
}

void gofer_names_abort(struct gofer_names_build *b)
{
	if (!b)
		return;
	names_free(&b->s);
	free(b);
}

void gofer_names_publish(struct uvfs_inode *dir, struct gofer_names_build *b)
{
	struct gofer_names *s = malloc(sizeof(*s));
	if (!s) {
		gofer_names_abort(b);
		return;
	}
	*s = b->s;
	if (!s->arena && !(s->arena = calloc(1, 1))) { /* an empty directory */
		free(s);
		gofer_names_abort(b);
		return;
	}
	s->sorted = malloc((s->n ? s->n : 1) * sizeof(*s->sorted));
	if (!s->sorted) {
		free(s);
		gofer_names_abort(b);
		return;
	}
	for (size_t i = 0; i < s->n; i++)
		s->sorted[i] = (uint32_t)i;
	struct sort_ctx sc = { s->off, s->arena };
	qsort_r(s->sorted, s->n, sizeof(*s->sorted), cmp_pos, &sc);
	unsigned long gen = b->gen;
	free(b);
	uvfs_lock_acquire(&dir->i_lock);
	struct gofer_inode *gd = GI(dir);
	if (gd->dir_gen == gen) { /* nothing changed through us meanwhile */
		gofer_prefetch_drop(gd); /* its names point into the old set */
		struct gofer_names *old = gd->names;
		gd->names = s;
		s = old;
	}
	uvfs_lock_release(&dir->i_lock);
	gofer_names_drop(s);
}
