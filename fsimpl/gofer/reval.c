/* fsimpl/gofer/reval.c — revalidation for cache=remote_revalidating|none,
 * in batches: the first cached component of a walk that needs asking
 * sends one multi-component Twalk (up to 16 names, as 9P allows) of the
 * path below it and a Tgetattr of each component's fid, all in flight
 * together: one round trip for up to 16 components instead of one each.
 *
 * The VFS asks per dentry and does not tell a filesystem the rest of the
 * path, so the path is predicted: every directory remembers the child its
 * last walk went to (gofer_inode.hint, set on each revalidation and
 * lookup), and the batch follows those hints down from the component
 * asked about. The verdicts of the components below it are kept in a
 * thread-local batch and answered, without a round trip, only when the
 * same thread asks next for exactly the next predicted (parent inode,
 * name, inode) — that is, the walk goes on down the path just validated —
 * and within BATCH_TTL_NS; anything else drops the batch. Every walk
 * starts in RCU mode, whose revalidate call drops the batch too, so a
 * batch never outlives the walk that made it except for walks that start
 * in ref mode (then the TTL bounds it).
 *
 * Verdicts: a positive component is valid when the walk reached its name
 * with the inode's qid and its getattr (diod resolves fids by path)
 * answered the same qid and type — the attributes are stored then; a name
 * that is absent or reaches another file or type is invalid (dropped and
 * looked up again by the VFS). A negative component is valid when the walk
 * stopped at it. Anything unclear (a getattr not sent, a fid from before a
 * directory rename) is asked alone, as before.
 *
 * Locks: none held across the 9P calls; a hint is read and replaced under
 * its directory's fid_lock (a leaf), and the inode reference it holds is
 * put outside it. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fsimpl/gofer/internal.h"

#define BATCH_MAX 16 /* names in one Twalk (9P MAXWELEM) */
#define BATCH_TTL_NS 20000000ull /* 20 ms */

struct batch_ent {
	/* Identity only: never dereferenced after the batch was made. */
	const struct uvfs_inode *parent, *inode;
	char name[GOFER_NAME_MAX + 1];
	int verdict; /* 0 valid, 1 invalid, -1 ask alone */
	struct uvfs_p9_attr attr; /* verdict 0, positive: fresh attributes */
};

static __thread struct {
	const struct gofer_fs *fs;
	unsigned n, k; /* entries, next one to answer */
	uint64_t when;
	struct batch_ent e[BATCH_MAX];
} tl;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void gofer_batch_forget(void) { tl.n = tl.k = 0; }

void gofer_set_hint(struct uvfs_inode *dir, const char *name, size_t len, struct uvfs_inode *child)
{
	struct gofer_inode *gd = GI(dir);
	if (gd->type != S_IFDIR || len > GOFER_NAME_MAX)
		return;
	uvfs_lock_acquire(&gd->fid_lock);
	if (gd->hint == child && gd->hint_name && strlen(gd->hint_name) == len && !memcmp(gd->hint_name, name, len)) {
		uvfs_lock_release(&gd->fid_lock);
		return;
	}
	uvfs_lock_release(&gd->fid_lock);
	char *nm = malloc(len + 1);
	if (!nm)
		return;
	memcpy(nm, name, len);
	nm[len] = 0;
	if (child)
		uvfs_inode_get(child);
	uvfs_lock_acquire(&gd->fid_lock);
	struct uvfs_inode *old = gd->hint;
	char *oldname = gd->hint_name;
	gd->hint = child;
	gd->hint_name = nm;
	uvfs_lock_release(&gd->fid_lock);
	free(oldname);
	if (old)
		uvfs_inode_put(old);
}

void gofer_drop_hint(struct gofer_inode *gi)
{
	uvfs_lock_acquire(&gi->fid_lock);
	struct uvfs_inode *old = gi->hint;
	char *oldname = gi->hint_name;
	gi->hint = NULL;
	gi->hint_name = NULL;
	uvfs_lock_release(&gi->fid_lock);
	free(oldname);
	if (old)
		uvfs_inode_put(old);
}

/* One dentry, one round trip (a component the batch could not judge). */
static int revalidate_one(struct uvfs_dentry *d)
{
	struct uvfs_inode *inode = uvfs_dentry_inode(d);
	if (inode) {
		uint32_t fid;
		int err = gofer_fresh_fid(d, &fid);
		if (!err)
			err = gofer_refresh(inode, false);
		return err == -ENOENT || err == -ESTALE ? 1 : err;
	}
	struct uvfs_dentry *parent = uvfs_dentry_get_parent(d);
	struct uvfs_inode *dir = parent != d ? uvfs_dentry_inode(parent) : NULL;
	int ret = 0;
	uint32_t dfid = dir ? gofer_fid(dir) : UVFS_P9_NOFID;
	if (dfid != UVFS_P9_NOFID) {
		struct gofer_fs *fs = GFS(dir->i_fs);
		char name[GOFER_NAME_MAX + 1];
		uvfs_dentry_name_copy(d, name, sizeof(name));
		const char *np = name;
		uint32_t fid;
		int err = uvfs_p9_walk(fs->c, dfid, 1, &np, &fid, NULL);
		if (err == -ENOENT)
			ret = 0; /* still absent */
		else if (err)
			ret = gofer_err(fs, err);
		else {
			uvfs_p9_clunk_async(fs->c, fid);
			ret = 1; /* the name exists now */
		}
	}
	uvfs_dentry_put(parent);
	return ret;
}

/* Applies a verdict to d (referenced by the caller). */
static int apply(struct uvfs_dentry *d, const struct batch_ent *e)
{
	if (e->verdict < 0)
		return revalidate_one(d);
	struct uvfs_inode *inode = uvfs_dentry_inode(d);
	if (!e->verdict && inode) {
		uvfs_lock_acquire(&inode->i_lock);
		gofer_attr_store(inode, &e->attr);
		uvfs_lock_release(&inode->i_lock);
	}
	return e->verdict;
}

/* Collects the predicted path from d down (d first) into tl.e with the
 * data the requests need. Returns the number of components (0: d cannot
 * be batched). refs[] get the inode references taken on the way. */
static unsigned collect(struct gofer_fs *fs, struct uvfs_dentry *d, uint32_t *dfid, uint32_t *fids,
			uint64_t *qpath, mode_t *types, struct uvfs_inode **refs, unsigned *nrefs)
{
	unsigned long gen = atomic_load_explicit(&fs->dir_renames, memory_order_acquire);
	struct uvfs_dentry *parent = uvfs_dentry_get_parent(d);
	struct uvfs_inode *pdir = parent != d ? uvfs_dentry_inode(parent) : NULL;
	unsigned n = 0;
	*nrefs = 0;
	if (!pdir || (*dfid = gofer_fid(pdir)) == UVFS_P9_NOFID ||
	    atomic_load_explicit(&GI(pdir)->fid_gen, memory_order_relaxed) != gen)
		goto out;
	uvfs_inode_get(pdir);
	refs[(*nrefs)++] = pdir;
	struct uvfs_inode *inode = uvfs_dentry_inode(d);
	if (inode)
		uvfs_inode_get(inode);
	refs[(*nrefs)++] = inode;
	size_t len = uvfs_dentry_name_copy(d, tl.e[0].name, sizeof(tl.e[0].name));
	if (len > GOFER_NAME_MAX)
		goto out;
	const struct uvfs_inode *up = pdir;
	for (;;) {
		struct batch_ent *e = &tl.e[n];
		e->parent = up;
		e->inode = inode;
		if (inode) {
			struct gofer_inode *gi = GI(inode);
			fids[n] = gofer_fid(inode);
			if (fids[n] == UVFS_P9_NOFID || atomic_load_explicit(&gi->fid_gen, memory_order_relaxed) != gen)
				break; /* synthetic, or stale after a directory rename: alone */
			qpath[n] = gi->qid_path;
			types[n] = gi->type;
		} else {
			fids[n] = UVFS_P9_NOFID;
		}
		n++;
		if (!inode || GI(inode)->type != S_IFDIR || n == BATCH_MAX)
			break;
		/* Down the hint: the child the last walk took. */
		struct gofer_inode *gi = GI(inode);
		uvfs_lock_acquire(&gi->fid_lock);
		struct uvfs_inode *child = gi->hint;
		bool have = gi->hint_name != NULL;
		if (have) {
			snprintf(tl.e[n].name, sizeof(tl.e[n].name), "%s", gi->hint_name);
			if (child)
				uvfs_inode_get(child);
		}
		uvfs_lock_release(&gi->fid_lock);
		if (!have)
			break;
		refs[(*nrefs)++] = child;
		up = inode;
		inode = child;
	}
out:
	uvfs_dentry_put(parent);
	return n;
}

/* Is d the next component of this thread's batch? Then its entry. */
static const struct batch_ent *batch_next(struct gofer_fs *fs, struct uvfs_dentry *d, const struct uvfs_inode *pdir)
{
	if (tl.fs != fs || tl.k >= tl.n || now_ns() - tl.when > BATCH_TTL_NS)
		return NULL;
	const struct batch_ent *e = &tl.e[tl.k];
	char name[GOFER_NAME_MAX + 1];
	if (e->parent != pdir || e->inode != uvfs_dentry_inode(d) ||
	    uvfs_dentry_name_copy(d, name, sizeof(name)) > GOFER_NAME_MAX || strcmp(name, e->name))
		return NULL;
	tl.k++;
	return e;
}

/* Asks the server about the predicted path from d down in one round trip;
 * fills tl and answers for d. */
static int batch_new(struct gofer_fs *fs, struct uvfs_dentry *d)
{
	uint32_t dfid = UVFS_P9_NOFID, fids[BATCH_MAX];
	uint64_t qpath[BATCH_MAX];
	mode_t types[BATCH_MAX];
	struct uvfs_inode *refs[BATCH_MAX + 2];
	unsigned nrefs;
	gofer_batch_forget();
	unsigned n = collect(fs, d, &dfid, fids, qpath, types, refs, &nrefs);
	int ret;
	if (!n) {
		ret = revalidate_one(d);
		goto out;
	}
	const char *names[BATCH_MAX];
	struct uvfs_p9_qid qids[BATCH_MAX];
	struct uvfs_p9_attr *attrs = calloc(n, sizeof(*attrs));
	int errs[BATCH_MAX];
	if (!attrs) {
		ret = revalidate_one(d);
		goto out;
	}
	for (unsigned i = 0; i < n; i++)
		names[i] = tl.e[i].name;
	int m = uvfs_p9_walk_getattr(fs->c, dfid, n, names, qids, fids, UVFS_P9_GETATTR_ALL, attrs, errs);
	if (m < 0) {
		free(attrs);
		ret = m == -EINVAL ? revalidate_one(d) : gofer_err(fs, m);
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		struct batch_ent *e = &tl.e[i];
		bool positive = e->inode != NULL;
		if ((int)i > m) {
			e->verdict = -1; /* the walk stopped above: unknown */
		} else if ((int)i == m) {
			e->verdict = positive ? 1 : 0; /* absent */
		} else if (!positive) {
			e->verdict = 1; /* the name exists now */
		} else if (qids[i].path != qpath[i]) {
			e->verdict = 1; /* another file under the name */
		} else if (!errs[i] && attrs[i].qid.path == qpath[i] && (attrs[i].mode & S_IFMT) == types[i]) {
			e->verdict = 0;
			e->attr = attrs[i];
		} else if (errs[i] == -ENOENT || (!errs[i] && (attrs[i].mode & S_IFMT) != types[i])) {
			e->verdict = 1;
		} else {
			e->verdict = -1;
		}
	}
	free(attrs);
	tl.fs = fs;
	tl.n = n;
	tl.k = 1;
	tl.when = now_ns();
	ret = apply(d, &tl.e[0]);
out:
	for (unsigned i = 0; i < nrefs; i++)
		if (refs[i])
			uvfs_inode_put(refs[i]);
	return ret;
}

int gofer_revalidate(struct uvfs_dentry *d, unsigned flags)
{
	if (flags & UVFS_LOOKUP_RCU) {
		gofer_batch_forget(); /* a walk begins (or leaves RCU mode) */
		return -ECHILD;
	}
	struct uvfs_dentry *parent = uvfs_dentry_get_parent(d);
	struct uvfs_inode *pdir = parent != d ? uvfs_dentry_inode(parent) : NULL;
	int ret = 0;
	if (!pdir)
		goto out;
	struct gofer_fs *fs = GFS(pdir->i_fs);
	/* The walk went through here: later batches follow it. */
	char name[GOFER_NAME_MAX + 1];
	size_t len = uvfs_dentry_name_copy(d, name, sizeof(name));
	if (len <= GOFER_NAME_MAX)
		gofer_set_hint(pdir, name, len, uvfs_dentry_inode(d));
	const struct batch_ent *e = (flags & UVFS_LOOKUP_REVAL) ? NULL : batch_next(fs, d, pdir);
	ret = e ? apply(d, e) : batch_new(fs, d);
	if (ret)
		gofer_batch_forget(); /* the walk takes another way now */
out:
	uvfs_dentry_put(parent);
	return ret;
}
