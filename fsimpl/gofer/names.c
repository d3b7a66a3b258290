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
	uint32_t *off; /* sorted by name: offsets into arena */
	char *arena; /* NUL-terminated names */
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
	if (gd->names) {
		gofer_names_drop(gd->names);
		gd->names = NULL;
	}
}

static int cmp_name(const void *a, const void *b, void *arena)
{
	return strcmp((const char *)arena + *(const uint32_t *)a, (const char *)arena + *(const uint32_t *)b);
}

int gofer_names_lookup(struct uvfs_inode *dir, const char *name)
{
	struct gofer_names *s = GI(dir)->names;
	if (!s)
		return -1;
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, s->arena + s->off[mid]);
		if (!c)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
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
	qsort_r(s->off, s->n, sizeof(*s->off), cmp_name, s->arena);
	unsigned long gen = b->gen;
	free(b);
	uvfs_lock_acquire(&dir->i_lock);
	struct gofer_inode *gd = GI(dir);
	if (gd->dir_gen == gen) { /* nothing changed through us meanwhile */
		struct gofer_names *old = gd->names;
		gd->names = s;
		s = old;
	}
	uvfs_lock_release(&dir->i_lock);
	gofer_names_drop(s);
}
