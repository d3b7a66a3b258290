/* fsimpl/gofer/p9/p9_direct.c — the "direct" kind of uvfs_p9_client
 * (gVisor's directfs): every p9.h call runs in process on host fds, with no
 * wire and no server. A fid is a host O_PATH|O_NOFOLLOW fd of the object a
 * walk reached (struct dnode, shared by clones) plus, after lopen/lcreate,
 * a real open fd. Walks open one name at a time from the fid's fd, never
 * "." or "..", never following a symlink, so nothing outside the root fd's
 * tree is reachable. Semantics follow what diod gives the gofer for the
 * same tree: qid.path = st_ino, qid.version = 0, Tlock = flock(2).
 *
 * Concurrency: calls come from any thread. The fid table (tab, ntab, free
 * list) is under tmu; a call takes a reference on its fid's struct dfid
 * under tmu and works outside it, so a racing clunk only drops the table's
 * reference and the fds close with the last user. */
#include "fsimpl/gofer/p9/p9_conn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fsimpl/gofer/p9/p9_direct.h"

#define D_MSIZE (1u << 20)
#define XATTR_LIST_MAX_ 65536

/* A host object reached by a walk: its O_PATH fd, and where it was reached
 * from (for Trename/Tremove by fid, which name the object by its fid). */
struct dnode {
	atomic_long ref;
	int fd;                /* O_PATH|O_NOFOLLOW; immutable */
	uint8_t qtype;         /* immutable: the type never changes */
	struct dnode *parent;  /* (d->nmu) NULL for the root; a reference */
	char *name;            /* (d->nmu) */
};

enum { XA_NONE, XA_READ, XA_WRITE };

struct dfid {
	atomic_long ref;       /* the table's plus each call's */
	pthread_mutex_t mu;    /* node, ofd, the directory position, xattr state */
	struct dnode *node;    /* (mu) changed only by lcreate */
	int ofd;               /* (mu) -1 until lopen/lcreate, then set once */
	int xa;                /* (mu) XA_*: an xattr fid (xattrwalk/xattrcreate) */
	char *xname;           /* (mu) XA_WRITE: the attribute to set at clunk */
	uint8_t *xbuf;         /* (mu) the value (XA_READ: read from; XA_WRITE: written to) */
	size_t xlen;           /* (mu) */
	uint32_t xflags;       /* (mu) XA_WRITE */
};

struct p9_direct {
	bool ro;               /* immutable */
	struct dnode *root;    /* immutable */
	pthread_mutex_t tmu;
	struct dfid **tab;     /* (tmu) indexed by fid number */
	uint32_t ntab;         /* (tmu) */
	uint32_t *free_fids;   /* (tmu) numbers to reuse */
	uint32_t nfree;        /* (tmu) */
	uint64_t in_use;       /* (tmu) */
	pthread_mutex_t nmu;   /* every dnode's parent and name */
	atomic_ulong nreq;     /* requests (= rounds: there is no wire) */
};

static struct p9_direct *D(struct uvfs_p9_client *c) { return c->direct; }

static void count(struct uvfs_p9_client *c)
{
	atomic_fetch_add_explicit(&D(c)->nreq, 1, memory_order_relaxed);
}

/* ------------------------------------------------------------ nodes */

static struct dnode *node_get(struct dnode *n)
{
	atomic_fetch_add_explicit(&n->ref, 1, memory_order_relaxed);
	return n;
}

static void node_put(struct dnode *n)
{
	while (n && atomic_fetch_sub_explicit(&n->ref, 1, memory_order_acq_rel) == 1) {
		struct dnode *p = n->parent;
		close(n->fd);
		free(n->name);
		free(n);
		n = p;
	}
}

static uint8_t qtype_of(mode_t m)
{
	return S_ISDIR(m) ? UVFS_P9_QTDIR : S_ISLNK(m) ? UVFS_P9_QTSYMLINK : 0;
}

static void qid_of(const struct stat *st, struct uvfs_p9_qid *q)
{
	q->type = qtype_of(st->st_mode);
	q->version = 0; /* as diod (diod_ustat2qid) */
	q->path = st->st_ino;
}

static int fd_stat(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

/* A new node for fd (ours from here on, closed on failure). */
static int node_new(int fd, struct dnode *parent, const char *name, struct dnode **out, struct uvfs_p9_qid *q)
{
	struct stat st;
	int err = fd_stat(fd, &st);
	struct dnode *n = err ? NULL : calloc(1, sizeof(*n));
	char *nm = n && name ? strdup(name) : NULL;
	if (!err && (!n || (name && !nm)))
		err = -ENOMEM;
	if (err) {
		free(n);
		close(fd);
		return err;
	}
	atomic_init(&n->ref, 1);
	n->fd = fd;
	n->qtype = qtype_of(st.st_mode);
	n->parent = parent ? node_get(parent) : NULL;
	n->name = nm;
	if (q)
		qid_of(&st, q);
	*out = n;
	return 0;
}

/* "." and ".." would leave the object or the tree: never walked. */
static bool name_bad(const char *s)
{
	return !s || !*s || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..");
}

/* One component from n, without following a symlink. */
static int node_walk1(struct dnode *n, const char *name, struct dnode **out, struct uvfs_p9_qid *q)
{
	if (name_bad(name))
		return name && (!strcmp(name, ".") || !strcmp(name, "..")) ? -ENOENT : -EINVAL;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	int fd = openat(n->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return node_new(fd, n, name, out, q);
}

static void proc_path(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/* ------------------------------------------------------------ fids */

static void fid_put(struct dfid *f)
{
	if (!f || atomic_fetch_sub_explicit(&f->ref, 1, memory_order_acq_rel) != 1)
		return;
	if (f->ofd >= 0)
		close(f->ofd);
	node_put(f->node);
	free(f->xname);
	free(f->xbuf);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

static struct dfid *fid_new(struct dnode *n)
{
	struct dfid *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	atomic_init(&f->ref, 1);
	pthread_mutex_init(&f->mu, NULL);
	f->node = n;
	f->ofd = -1;
	return f;
}

/* Installs f (the table takes the caller's reference) under a new number. */
static int fid_install(struct p9_direct *d, struct dfid *f, uint32_t *out)
{
	pthread_mutex_lock(&d->tmu);
	uint32_t id;
	if (d->nfree) {
		id = d->free_fids[--d->nfree];
	} else {
		if (d->ntab >= UVFS_P9_NOFID - 1) {
			pthread_mutex_unlock(&d->tmu);
			return -ENFILE;
		}
		uint32_t cap = d->ntab ? d->ntab * 2 : 64;
		struct dfid **t = realloc(d->tab, cap * sizeof(*t));
		uint32_t *fl = t ? realloc(d->free_fids, cap * sizeof(*fl)) : NULL;
		if (t)
			d->tab = t;
		if (!t || !fl) {
			pthread_mutex_unlock(&d->tmu);
			return -ENOMEM;
		}
		d->free_fids = fl;
		for (uint32_t i = d->ntab; i < cap; i++)
			t[i] = NULL;
		/* hand out low numbers first: push the new ones in reverse */
		for (uint32_t i = cap; i-- > d->ntab + 1;)
			fl[d->nfree++] = i;
		id = d->ntab;
		d->ntab = cap;
	}
	d->tab[id] = f;
	d->in_use++;
	pthread_mutex_unlock(&d->tmu);
	*out = id;
	return 0;
}

/* A reference on fid's entry, or NULL (-EBADF for the caller). */
static struct dfid *fid_ref(struct p9_direct *d, uint32_t fid)
{
	struct dfid *f = NULL;
	pthread_mutex_lock(&d->tmu);
	if (fid < d->ntab && (f = d->tab[fid]))
		atomic_fetch_add_explicit(&f->ref, 1, memory_order_relaxed);
	pthread_mutex_unlock(&d->tmu);
	return f;
}

/* Removes fid from the table; the caller gets the table's reference. */
static struct dfid *fid_take(struct p9_direct *d, uint32_t fid)
{
	struct dfid *f = NULL;
	pthread_mutex_lock(&d->tmu);
	if (fid < d->ntab && (f = d->tab[fid])) {
		d->tab[fid] = NULL;
		d->free_fids[d->nfree++] = fid;
		d->in_use--;
	}
	pthread_mutex_unlock(&d->tmu);
	return f;
}

/* The fid's node, referenced. */
static struct dnode *fid_node(struct dfid *f)
{
	pthread_mutex_lock(&f->mu);
	struct dnode *n = node_get(f->node);
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* The fid's open fd (-1: not opened); stays valid while f is referenced. */
static int fid_ofd(struct dfid *f)
{
	pthread_mutex_lock(&f->mu);
	int fd = f->ofd;
	pthread_mutex_unlock(&f->mu);
	return fd;
}

/* Looks fid up and takes its node: the common start of a call. */
static int node_of(struct uvfs_p9_client *c, uint32_t fid, struct dnode **out)
{
	struct dfid *f = fid_ref(D(c), fid);
	if (!f)
		return -EBADF;
	*out = fid_node(f);
	fid_put(f);
	return 0;
}

/* ------------------------------------------------------------ lifetime */

int uvfs_p9_connect_direct(int rootfd, bool readonly, struct uvfs_p9_client **out)
{
	*out = NULL;
	struct stat st;
	if (rootfd < 0)
		return -EBADF;
	if (fd_stat(rootfd, &st) || !S_ISDIR(st.st_mode)) {
		close(rootfd);
		return -ENOTDIR;
	}
	struct uvfs_p9_client *c = calloc(1, sizeof(*c));
	struct p9_direct *d = calloc(1, sizeof(*d));
	struct dnode *root = NULL;
	int err = c && d ? node_new(rootfd, NULL, NULL, &root, NULL) : (close(rootfd), -ENOMEM);
	if (err) {
		free(c);
		free(d);
		return err;
	}
	d->ro = readonly;
	d->root = root;
	pthread_mutex_init(&d->tmu, NULL);
	pthread_mutex_init(&d->nmu, NULL);
	atomic_init(&d->nreq, 0);
	c->direct = d;
	c->rfd = c->wfd = c->wakefd = c->kickfd = -1;
	c->msize = D_MSIZE;
	*out = c;
	return 0;
}

void p9d_close(struct uvfs_p9_client *c)
{
	struct p9_direct *d = D(c);
	for (uint32_t i = 0; i < d->ntab; i++)
		fid_put(d->tab[i]);
	free(d->tab);
	free(d->free_fids);
	node_put(d->root);
	pthread_mutex_destroy(&d->tmu);
	pthread_mutex_destroy(&d->nmu);
	free(d);
	free(c);
}

void p9d_get_stats(struct uvfs_p9_client *c, struct uvfs_p9_stats *s)
{
	struct p9_direct *d = D(c);
	s->requests = s->rounds = atomic_load_explicit(&d->nreq, memory_order_relaxed);
	s->flushes = 0;
	pthread_mutex_lock(&d->tmu);
	s->fids_in_use = d->in_use;
	pthread_mutex_unlock(&d->tmu);
}

/* ------------------------------------------------------------ fids */

int p9d_attach(struct uvfs_p9_client *c, uint32_t *fid, struct uvfs_p9_qid *qid)
{
	struct p9_direct *d = D(c);
	count(c);
	struct stat st;
	int err = fd_stat(d->root->fd, &st);
	if (err)
		return err;
	struct dfid *f = fid_new(node_get(d->root));
	if (!f) {
		node_put(d->root);
		return -ENOMEM;
	}
	if ((err = fid_install(d, f, fid))) {
		fid_put(f);
		return err;
	}
	if (qid)
		qid_of(&st, qid);
	return 0;
}

/* Walks names from n; *out gets the last node (or n for none). Returns the
 * number walked (< count: stopped at names[ret] with *err set). */
static size_t walk_nodes(struct dnode *n, size_t cnt, const char *const *names, struct uvfs_p9_qid *qids,
			 struct dnode **out, int *err)
{
	struct dnode *cur = node_get(n);
	size_t i;
	*err = 0;
	for (i = 0; i < cnt; i++) {
		struct dnode *next;
		struct uvfs_p9_qid q;
		if ((*err = node_walk1(cur, names[i], &next, &q)))
			break;
		node_put(cur);
		cur = next;
		if (qids)
			qids[i] = q;
	}
	*out = cur;
	return i;
}

int p9d_walk(struct uvfs_p9_client *c, uint32_t fid, size_t n, const char *const *names, uint32_t *newfid,
	     struct uvfs_p9_qid *qids)
{
	count(c);
	struct dnode *start, *end;
	int err = node_of(c, fid, &start);
	if (err)
		return err;
	size_t got = walk_nodes(start, n, names, qids, &end, &err);
	node_put(start);
	if (got < n) {
		node_put(end);
		return got ? -ENOENT : err; /* 9P: a partial walk makes no fid */
	}
	struct dfid *f = fid_new(end);
	if (!f) {
		node_put(end);
		return -ENOMEM;
	}
	if ((err = fid_install(D(c), f, newfid)))
		fid_put(f);
	return err;
}

int p9d_getattr(struct uvfs_p9_client *c, uint32_t fid, uint64_t mask, struct uvfs_p9_attr *a)
{
	count(c);
	struct dnode *n;
	int err = node_of(c, fid, &n);
	if (err)
		return err;
	struct stat st;
	err = fd_stat(n->fd, &st);
	node_put(n);
	if (err)
		return err;
	memset(a, 0, sizeof(*a));
	a->valid = UVFS_P9_GETATTR_BASIC; /* diod answers the basic set whatever was asked */
	qid_of(&st, &a->qid);
	a->mode = st.st_mode;
	a->uid = st.st_uid;
	a->gid = st.st_gid;
	a->nlink = st.st_nlink;
	a->rdev = st.st_rdev;
	a->size = (uint64_t)st.st_size;
	a->blksize = (uint64_t)st.st_blksize;
	a->blocks = (uint64_t)st.st_blocks;
	a->atime_sec = (uint64_t)st.st_atim.tv_sec;
	a->atime_nsec = (uint64_t)st.st_atim.tv_nsec;
	a->mtime_sec = (uint64_t)st.st_mtim.tv_sec;
	a->mtime_nsec = (uint64_t)st.st_mtim.tv_nsec;
	a->ctime_sec = (uint64_t)st.st_ctim.tv_sec;
	a->ctime_nsec = (uint64_t)st.st_ctim.tv_nsec;
	(void)mask;
	return 0;
}

int p9d_walk_getattr(struct uvfs_p9_client *c, uint32_t dfid, size_t n, const char *const *names,
		     struct uvfs_p9_qid *qids, const uint32_t *fids, uint64_t mask, struct uvfs_p9_attr *attrs,
		     int *errs)
{
	if (n == 0 || n > 16)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!names[i] || !names[i][0] || strchr(names[i], '/'))
			return -EINVAL;
	count(c);
	struct dnode *start, *end;
	int err = node_of(c, dfid, &start);
	int ret;
	if (err) {
		ret = err;
	} else {
		size_t got = walk_nodes(start, n, names, qids, &end, &err);
		node_put(start);
		node_put(end);
		ret = got == 0 && err != -ENOENT ? err : (int)got;
	}
	for (size_t i = 0; i < n; i++)
		errs[i] = fids[i] == UVFS_P9_NOFID ? -EAGAIN : p9d_getattr(c, fids[i], mask, &attrs[i]);
	return ret;
}

int p9d_walk_many(struct uvfs_p9_client *c, uint32_t dfid, size_t n, const char *const *names, uint32_t *newfids,
		  struct uvfs_p9_qid *qids, int *errs)
{
	for (size_t i = 0; i < n; i++) {
		newfids[i] = UVFS_P9_NOFID;
		if (!names[i] || !names[i][0] || strchr(names[i], '/') || strlen(names[i]) > 255) {
			errs[i] = -EINVAL;
			continue;
		}
		errs[i] = p9d_walk(c, dfid, 1, &names[i], &newfids[i], &qids[i]);
		if (errs[i])
			newfids[i] = UVFS_P9_NOFID;
	}
	return 0;
}

int p9d_getattr_many(struct uvfs_p9_client *c, size_t n, const uint32_t *fids, uint64_t mask,
		     struct uvfs_p9_attr *attrs, int *errs)
{
	for (size_t i = 0; i < n; i++)
		errs[i] = fids[i] == UVFS_P9_NOFID ? -EAGAIN : p9d_getattr(c, fids[i], mask, &attrs[i]);
	return 0;
}

/* An xattrcreate fid commits its value at clunk (9P). */
static int xattr_commit(struct p9_direct *d, struct dfid *f)
{
	pthread_mutex_lock(&f->mu);
	int err = 0;
	if (f->xa == XA_WRITE) {
		char pp[48];
		proc_path(pp, sizeof(pp), f->node->fd);
		/* An empty value removes (9P2000.L has no Tremovexattr; diod
		 * and Linux's v9fs agree on this). */
		if (f->xlen ? setxattr(pp, f->xname, f->xbuf, f->xlen, (int)f->xflags) : removexattr(pp, f->xname))
			err = -errno;
		f->xa = XA_NONE;
	}
	pthread_mutex_unlock(&f->mu);
	(void)d;
	return err;
}

int p9d_clunk(struct uvfs_p9_client *c, uint32_t fid)
{
	count(c);
	struct dfid *f = fid_take(D(c), fid);
	if (!f)
		return -EBADF;
	int err = xattr_commit(D(c), f);
	fid_put(f);
	return err;
}

int p9d_remove(struct uvfs_p9_client *c, uint32_t fid)
{
	struct p9_direct *d = D(c);
	struct dfid *f = fid_ref(d, fid);
	if (!f)
		return -EBADF;
	int err = -EROFS;
	if (!d->ro) {
		struct dnode *n = fid_node(f);
		pthread_mutex_lock(&d->nmu);
		struct dnode *p = n->parent ? node_get(n->parent) : NULL;
		char *name = n->name ? strdup(n->name) : NULL;
		pthread_mutex_unlock(&d->nmu);
		if (!p)
			err = -EBUSY; /* the root */
		else if (!name)
			err = -ENOMEM;
		else if (unlinkat(p->fd, name, n->qtype & UVFS_P9_QTDIR ? AT_REMOVEDIR : 0))
			err = -errno;
		else
			err = 0;
		free(name);
		node_put(p);
		node_put(n);
	}
	fid_put(f);
	int cerr = p9d_clunk(c, fid); /* the fid goes whatever the answer (9P) */
	return err ? err : cerr;
}

/* ------------------------------------------------------------ attributes */

int p9d_setattr(struct uvfs_p9_client *c, uint32_t fid, const struct uvfs_p9_setattr *s)
{
	count(c);
	struct dnode *n;
	int err = node_of(c, fid, &n);
	if (err)
		return err;
	if (D(c)->ro) {
		node_put(n);
		return -EROFS;
	}
	char pp[48];
	proc_path(pp, sizeof(pp), n->fd);
	/* diod's order: mode, owner, size, times. */
	if (!err && (s->valid & UVFS_P9_SETATTR_MODE) && fchmodat(AT_FDCWD, pp, s->mode & 07777, 0))
		err = -errno;
	if (!err && (s->valid & (UVFS_P9_SETATTR_UID | UVFS_P9_SETATTR_GID)) &&
	    fchownat(n->fd, "", s->valid & UVFS_P9_SETATTR_UID ? s->uid : (uid_t)-1,
		     s->valid & UVFS_P9_SETATTR_GID ? s->gid : (gid_t)-1, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		err = -errno;
	if (!err && (s->valid & UVFS_P9_SETATTR_SIZE)) {
		if (s->size > (uint64_t)INT64_MAX)
			err = -EFBIG;
		else if (truncate(pp, (off_t)s->size))
			err = -errno;
	}
	if (!err && (s->valid & (UVFS_P9_SETATTR_ATIME | UVFS_P9_SETATTR_MTIME))) {
		struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
		if (s->valid & UVFS_P9_SETATTR_ATIME)
			ts[0] = s->valid & UVFS_P9_SETATTR_ATIME_SET
					? (struct timespec){ (time_t)s->atime_sec, (long)s->atime_nsec }
					: (struct timespec){ .tv_nsec = UTIME_NOW };
		if (s->valid & UVFS_P9_SETATTR_MTIME)
			ts[1] = s->valid & UVFS_P9_SETATTR_MTIME_SET
					? (struct timespec){ (time_t)s->mtime_sec, (long)s->mtime_nsec }
					: (struct timespec){ .tv_nsec = UTIME_NOW };
		if (utimensat(AT_FDCWD, pp, ts, 0))
			err = -errno;
	}
	node_put(n);
	return err;
}

int p9d_setattr_walk(struct uvfs_p9_client *c, uint32_t fid, const struct uvfs_p9_setattr *s, uint32_t dfid,
		     const char *name, uint32_t *newfid, struct uvfs_p9_qid *qid, int *walk_err)
{
	*newfid = UVFS_P9_NOFID;
	if (!name || !*name || strchr(name, '/') || strlen(name) > 255)
		*walk_err = -EINVAL;
	else if ((*walk_err = p9d_walk(c, dfid, 1, &name, newfid, qid)))
		*newfid = UVFS_P9_NOFID;
	return p9d_setattr(c, fid, s);
}

int p9d_statfs(struct uvfs_p9_client *c, uint32_t fid, struct uvfs_p9_statfs *s)
{
	count(c);
	struct dnode *n;
	int err = node_of(c, fid, &n);
	if (err)
		return err;
	struct statfs sf;
	if (fstatfs(n->fd, &sf))
		err = -errno;
	node_put(n);
	if (err)
		return err;
	s->type = (uint32_t)sf.f_type;
	s->bsize = (uint32_t)sf.f_bsize;
	s->blocks = sf.f_blocks;
	s->bfree = sf.f_bfree;
	s->bavail = sf.f_bavail;
	s->files = sf.f_files;
	s->ffree = sf.f_ffree;
	uint64_t fsid;
	memcpy(&fsid, &sf.f_fsid, sizeof(fsid));
	s->fsid = fsid;
	s->namelen = (uint32_t)sf.f_namelen;
	return 0;
}

/* ------------------------------------------------------------ open, io */

static int open_flags(uint32_t flags)
{
	/* O_CREAT/O_EXCL mean nothing on an existing object; O_NOCTTY always. */
	return (int)(flags & ~(uint32_t)(O_CREAT | O_EXCL | O_NOFOLLOW | O_PATH | O_TMPFILE)) | O_NOCTTY | O_CLOEXEC;
}

static bool writes(uint32_t flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

int p9d_lopen(struct uvfs_p9_client *c, uint32_t fid, uint32_t flags, struct uvfs_p9_qid *qid, uint32_t *iounit)
{
	count(c);
	struct dfid *f = fid_ref(D(c), fid);
	if (!f)
		return -EBADF;
	int err = 0;
	pthread_mutex_lock(&f->mu);
	struct dnode *n = f->node;
	if (f->ofd >= 0 || f->xa != XA_NONE)
		err = -EINVAL; /* opened already */
	else if (n->qtype & UVFS_P9_QTSYMLINK)
		err = -ELOOP; /* O_NOFOLLOW: a symlink is never opened */
	else if (D(c)->ro && writes(flags))
		err = -EROFS; /* before the type, as diod -r */
	if (!err) {
		char pp[48];
		proc_path(pp, sizeof(pp), n->fd);
		int fd = open(pp, open_flags(flags));
		if (fd < 0)
			err = -errno;
		else
			f->ofd = fd;
	}
	struct stat st;
	if (!err && qid && !(err = fd_stat(n->fd, &st)))
		qid_of(&st, qid);
	pthread_mutex_unlock(&f->mu);
	fid_put(f);
	if (!err && iounit)
		*iounit = 0;
	return err;
}

/* diod running as root creates with the caller's gid: so do we. */
static void set_gid(int dirfd, const char *name, uint32_t gid)
{
	if (geteuid() == 0 && gid != UVFS_P9_NONUNAME && gid != (uint32_t)-1)
		(void)!fchownat(dirfd, name, (uid_t)-1, (gid_t)gid, AT_SYMLINK_NOFOLLOW);
}

int p9d_lcreate(struct uvfs_p9_client *c, uint32_t fid, const char *name, uint32_t flags, uint32_t mode,
		uint32_t gid, struct uvfs_p9_qid *qid, uint32_t *iounit)
{
	count(c);
	if (name_bad(name))
		return -EINVAL;
	struct dfid *f = fid_ref(D(c), fid);
	if (!f)
		return -EBADF;
	int err = 0;
	pthread_mutex_lock(&f->mu);
	struct dnode *dir = f->node, *nn = NULL;
	if (D(c)->ro)
		err = -EROFS;
	else if (f->ofd >= 0 || f->xa != XA_NONE)
		err = -EINVAL;
	else if (!(dir->qtype & UVFS_P9_QTDIR))
		err = -ENOTDIR;
	int fd = -1;
	if (!err) {
		fd = openat(dir->fd, name, open_flags(flags) | O_CREAT | O_NOFOLLOW | (int)(flags & O_EXCL),
			    (mode_t)(mode & 07777));
		if (fd < 0)
			err = -errno;
	}
	if (!err) {
		set_gid(dir->fd, name, gid);
		int pfd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		err = pfd < 0 ? -errno : node_new(pfd, dir, name, &nn, qid);
	}
	if (!err) {
		f->node = nn; /* the fid now names the new file (9P) */
		f->ofd = fd;
		node_put(dir);
	} else if (fd >= 0) {
		close(fd);
	}
	pthread_mutex_unlock(&f->mu);
	fid_put(f);
	if (!err && iounit)
		*iounit = 0;
	return err;
}

static long do_rw(struct uvfs_p9_client *c, bool wr, uint32_t fid, uint64_t off, void *buf, size_t len,
		  size_t cap)
{
	count(c);
	struct dfid *f = fid_ref(D(c), fid);
	if (!f)
		return -EBADF;
	if (len > cap)
		len = cap;
	long n;
	pthread_mutex_lock(&f->mu);
	if (f->xa != XA_NONE) {
		/* An xattr fid: the value in memory. */
		if (f->xa == XA_READ && !wr) {
			n = off >= f->xlen ? 0 : (long)(f->xlen - off < len ? f->xlen - off : len);
			if (n > 0)
				memcpy(buf, f->xbuf + off, (size_t)n);
		} else if (f->xa == XA_WRITE && wr) {
			n = off >= f->xlen ? 0 : (long)(f->xlen - off < len ? f->xlen - off : len);
			if (n > 0)
				memcpy(f->xbuf + off, buf, (size_t)n);
		} else {
			n = -EBADF;
		}
		pthread_mutex_unlock(&f->mu);
		fid_put(f);
		return n;
	}
	int fd = f->ofd;
	pthread_mutex_unlock(&f->mu);
	if (fd < 0) {
		fid_put(f);
		return -EBADF;
	}
	if (off > (uint64_t)INT64_MAX) {
		fid_put(f);
		return -EINVAL;
	}
	n = wr ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
	if (n < 0 && errno == ESPIPE) /* pipes, sockets, ttys: no position */
		n = wr ? write(fd, buf, len) : read(fd, buf, len);
	if (n < 0)
		n = -errno;
	fid_put(f);
	return n;
}

long p9d_read(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, void *buf, size_t len, bool one)
{
	return do_rw(c, false, fid, off, buf, len, one ? D_MSIZE - 24 : (size_t)LONG_MAX);
}

long p9d_write(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, const void *buf, size_t len, bool one)
{
	return do_rw(c, true, fid, off, (void *)buf, len, one ? D_MSIZE - 24 : (size_t)LONG_MAX);
}

struct linux_dirent64_ {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int p9d_readdir(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, uint32_t cnt, uvfs_p9_dirent_cb cb,
		void *arg)
{
	count(c);
	uint32_t max = D_MSIZE - 24;
	if (cnt == 0 || cnt > max)
		cnt = max;
	struct dfid *f = fid_ref(D(c), fid);
	if (!f)
		return -EBADF;
	size_t blen = cnt < 65536 ? 65536 : cnt;
	char *buf = malloc(blen);
	if (!buf) {
		fid_put(f);
		return -ENOMEM;
	}
	int nent = 0;
	/* The position is the fd's: one reader at a time per fid. */
	pthread_mutex_lock(&f->mu);
	int fd = f->ofd;
	long got = 0;
	if (fd < 0)
		nent = -EBADF;
	else if (off > (uint64_t)INT64_MAX || lseek(fd, (off_t)off, SEEK_SET) < 0)
		nent = off > (uint64_t)INT64_MAX ? -EINVAL : -errno;
	else if ((got = syscall(SYS_getdents64, fd, buf, blen)) < 0)
		nent = -errno;
	uint32_t used = 0;
	for (long pos = 0; nent >= 0 && pos < got;) {
		struct linux_dirent64_ *e = (struct linux_dirent64_ *)(buf + pos);
		pos += e->d_reclen;
		size_t nl = strlen(e->d_name);
		uint32_t sz = 24 + (uint32_t)nl; /* its size in an Rreaddir */
		if (used + sz > cnt && nent > 0)
			break;
		used += sz;
		struct uvfs_p9_dirent de = {
			.qid = { .type = e->d_type == DT_DIR ? UVFS_P9_QTDIR : e->d_type == DT_LNK ? UVFS_P9_QTSYMLINK : 0,
				 .version = 0, .path = e->d_ino },
			.offset = (uint64_t)e->d_off,
			.type = e->d_type,
			.name = e->d_name,
		};
		nent++;
		if (cb(arg, &de))
			break;
	}
	pthread_mutex_unlock(&f->mu);
	free(buf);
	fid_put(f);
	return nent;
}

int p9d_fsync(struct uvfs_p9_client *c, uint32_t fid, int datasync)
{
	count(c);
	struct dfid *f = fid_ref(D(c), fid);
	if (!f)
		return -EBADF;
	int fd = fid_ofd(f);
	int err = fd < 0 ? -EBADF : (datasync ? fdatasync(fd) : fsync(fd)) ? -errno : 0;
	fid_put(f);
	return err;
}

/* ------------------------------------------------------------ namespace */

/* The directory node of dfid for a modifying call on name. */
static int dir_for(struct uvfs_p9_client *c, uint32_t dfid, const char *name, struct dnode **out)
{
	count(c);
	if (name_bad(name))
		return -EINVAL;
	int err = node_of(c, dfid, out);
	if (err)
		return err;
	if (D(c)->ro) {
		node_put(*out);
		return -EROFS;
	}
	return 0;
}

static int qid_at(int dirfd, const char *name, struct uvfs_p9_qid *qid)
{
	struct stat st;
	if (!qid)
		return 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	qid_of(&st, qid);
	return 0;
}

int p9d_mkdir(struct uvfs_p9_client *c, uint32_t dfid, const char *name, uint32_t mode, uint32_t gid,
	      struct uvfs_p9_qid *qid)
{
	struct dnode *d;
	int err = dir_for(c, dfid, name, &d);
	if (err)
		return err;
	if (mkdirat(d->fd, name, (mode_t)(mode & 07777)))
		err = -errno;
	if (!err) {
		set_gid(d->fd, name, gid);
		err = qid_at(d->fd, name, qid);
	}
	node_put(d);
	return err;
}

int p9d_symlink(struct uvfs_p9_client *c, uint32_t dfid, const char *name, const char *target, uint32_t gid,
		struct uvfs_p9_qid *qid)
{
	if (!target)
		return -EINVAL;
	struct dnode *d;
	int err = dir_for(c, dfid, name, &d);
	if (err)
		return err;
	if (symlinkat(target, d->fd, name))
		err = -errno;
	if (!err) {
		set_gid(d->fd, name, gid);
		err = qid_at(d->fd, name, qid);
	}
	node_put(d);
	return err;
}

int p9d_mknod(struct uvfs_p9_client *c, uint32_t dfid, const char *name, uint32_t mode, uint32_t major,
	      uint32_t minor, uint32_t gid, struct uvfs_p9_qid *qid)
{
	struct dnode *d;
	int err = dir_for(c, dfid, name, &d);
	if (err)
		return err;
	if (mknodat(d->fd, name, (mode_t)mode, makedev(major, minor)))
		err = -errno;
	if (!err) {
		set_gid(d->fd, name, gid);
		err = qid_at(d->fd, name, qid);
	}
	node_put(d);
	return err;
}

int p9d_link(struct uvfs_p9_client *c, uint32_t dfid, uint32_t fid, const char *name)
{
	struct dnode *d, *n;
	int err = dir_for(c, dfid, name, &d);
	if (err)
		return err;
	if ((err = node_of(c, fid, &n))) {
		node_put(d);
		return err;
	}
	/* Through the fd's /proc link: linkat(AT_EMPTY_PATH) needs
	 * CAP_DAC_READ_SEARCH; this needs nothing. */
	char pp[48];
	proc_path(pp, sizeof(pp), n->fd);
	if (linkat(AT_FDCWD, pp, d->fd, name, AT_SYMLINK_FOLLOW))
		err = -errno;
	node_put(n);
	node_put(d);
	return err;
}

int p9d_rename(struct uvfs_p9_client *c, uint32_t fid, uint32_t dfid, const char *name)
{
	struct p9_direct *dd = D(c);
	struct dnode *d, *n;
	int err = dir_for(c, dfid, name, &d);
	if (err)
		return err;
	if ((err = node_of(c, fid, &n))) {
		node_put(d);
		return err;
	}
	char *nm = strdup(name);
	pthread_mutex_lock(&dd->nmu);
	if (!nm)
		err = -ENOMEM;
	else if (!n->parent)
		err = -EBUSY;
	else if (renameat(n->parent->fd, n->name, d->fd, name))
		err = -errno;
	if (!err) {
		/* The node now lives at d/name. */
		struct dnode *old = n->parent;
		free(n->name);
		n->name = nm;
		n->parent = node_get(d);
		nm = NULL;
		pthread_mutex_unlock(&dd->nmu);
		node_put(old);
	} else {
		pthread_mutex_unlock(&dd->nmu);
	}
	free(nm);
	node_put(n);
	node_put(d);
	return err;
}

int p9d_renameat(struct uvfs_p9_client *c, uint32_t olddfid, const char *oldname, uint32_t newdfid,
		 const char *newname)
{
	struct dnode *od, *nd;
	int err = dir_for(c, olddfid, oldname, &od);
	if (err)
		return err;
	if ((err = dir_for(c, newdfid, newname, &nd))) {
		node_put(od);
		return err;
	}
	if (renameat(od->fd, oldname, nd->fd, newname))
		err = -errno;
	node_put(od);
	node_put(nd);
	return err;
}

int p9d_unlinkat(struct uvfs_p9_client *c, uint32_t dfid, const char *name, uint32_t flags)
{
	struct dnode *d;
	int err = dir_for(c, dfid, name, &d);
	if (err)
		return err;
	if (unlinkat(d->fd, name, (int)flags))
		err = -errno;
	node_put(d);
	return err;
}

int p9d_readlink(struct uvfs_p9_client *c, uint32_t fid, char *buf, size_t size)
{
	count(c);
	struct dnode *n;
	int err = node_of(c, fid, &n);
	if (err)
		return err;
	char tmp[PATH_MAX + 1];
	ssize_t len = readlinkat(n->fd, "", tmp, sizeof(tmp));
	node_put(n);
	if (len < 0)
		return -errno;
	if ((size_t)len + 1 > size || (size_t)len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(buf, tmp, (size_t)len);
	buf[len] = '\0';
	return (int)len;
}

/* ------------------------------------------------------------ xattrs */

int p9d_xattrwalk(struct uvfs_p9_client *c, uint32_t fid, const char *name, uint32_t *newfid, uint64_t *size)
{
	count(c);
	struct dnode *n;
	int err = node_of(c, fid, &n);
	if (err)
		return err;
	char pp[48];
	proc_path(pp, sizeof(pp), n->fd);
	bool list = !name || !*name;
	/* Size, read, and again if it grew in between. */
	uint8_t *buf = NULL;
	ssize_t len;
	for (int tries = 0;; tries++) {
		len = list ? listxattr(pp, NULL, 0) : getxattr(pp, name, NULL, 0);
		if (len < 0) {
			err = -errno;
			break;
		}
		free(buf);
		buf = malloc(len ? (size_t)len : 1);
		if (!buf) {
			err = -ENOMEM;
			break;
		}
		ssize_t got = list ? listxattr(pp, (char *)buf, (size_t)len) : getxattr(pp, name, buf, (size_t)len);
		if (got >= 0) {
			len = got;
			break;
		}
		if (errno != ERANGE || tries > 4) {
			err = -errno;
			break;
		}
	}
	struct dfid *f = err ? NULL : fid_new(n);
	if (!err && !f)
		err = -ENOMEM;
	if (err) {
		free(buf);
		node_put(n);
		return err;
	}
	f->xa = XA_READ;
	f->xbuf = buf;
	f->xlen = (size_t)len;
	if ((err = fid_install(D(c), f, newfid))) {
		fid_put(f);
		return err;
	}
	*size = (uint64_t)len;
	return 0;
}

int p9d_xattrcreate(struct uvfs_p9_client *c, uint32_t fid, const char *name, uint64_t size, uint32_t flags)
{
	count(c);
	if (!name || !*name)
		return -EINVAL;
	if (D(c)->ro)
		return -EROFS;
	if (size > XATTR_LIST_MAX_)
		return -E2BIG;
	struct dfid *f = fid_ref(D(c), fid);
	if (!f)
		return -EBADF;
	int err = 0;
	char *nm = strdup(name);
	uint8_t *buf = calloc(1, size ? (size_t)size : 1);
	pthread_mutex_lock(&f->mu);
	if (!nm || !buf) {
		err = -ENOMEM;
	} else if (f->ofd >= 0 || f->xa != XA_NONE) {
		err = -EINVAL;
	} else {
		f->xa = XA_WRITE;
		f->xname = nm;
		f->xbuf = buf;
		f->xlen = (size_t)size;
		f->xflags = flags;
		nm = NULL;
		buf = NULL;
	}
	pthread_mutex_unlock(&f->mu);
	free(nm);
	free(buf);
	fid_put(f);
	return err;
}

/* ------------------------------------------------------------ locks */

/* Tlock as diod does it: flock(2) of the whole file on the fid's open fd. */
int p9d_lock(struct uvfs_p9_client *c, uint32_t fid, const struct uvfs_p9_flock *fl, uint8_t *status)
{
	count(c);
	struct dfid *f = fid_ref(D(c), fid);
	if (!f)
		return -EBADF;
	int fd = fid_ofd(f), err = 0;
	int op = fl->type == UVFS_P9_LOCK_TYPE_RDLCK   ? LOCK_SH
		 : fl->type == UVFS_P9_LOCK_TYPE_WRLCK ? LOCK_EX
		 : fl->type == UVFS_P9_LOCK_TYPE_UNLCK ? LOCK_UN
						       : -1;
	if (fd < 0)
		err = -EBADF;
	else if (op < 0)
		err = -EINVAL;
	else if (flock(fd, op | LOCK_NB) == 0)
		*status = UVFS_P9_LOCK_SUCCESS;
	else
		*status = errno == EWOULDBLOCK ? UVFS_P9_LOCK_BLOCKED : UVFS_P9_LOCK_ERROR;
	fid_put(f);
	return err;
}

/* Tgetlock: whether a lock of that type could be taken now, asked with a
 * second open file description (ours would not conflict with itself). */
int p9d_getlock(struct uvfs_p9_client *c, uint32_t fid, struct uvfs_p9_flock *fl)
{
	count(c);
	struct dfid *f = fid_ref(D(c), fid);
	if (!f)
		return -EBADF;
	int fd = fid_ofd(f), err = 0;
	if (fd < 0) {
		err = -EBADF;
	} else if (fl->type != UVFS_P9_LOCK_TYPE_UNLCK) {
		char pp[48];
		proc_path(pp, sizeof(pp), fd);
		int probe = open(pp, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (probe < 0) {
			err = -errno;
		} else {
			if (flock(probe, (fl->type == UVFS_P9_LOCK_TYPE_RDLCK ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
				fl->type = UVFS_P9_LOCK_TYPE_UNLCK;
			close(probe);
		}
	}
	fid_put(f);
	return err;
}

/* ------------------------------------------------------------ host fds */

bool uvfs_p9_is_direct(const struct uvfs_p9_client *c)
{
	return c && c->direct;
}

int uvfs_p9_host_fd(struct uvfs_p9_client *c, uint32_t fid)
{
	if (!c || !c->direct)
		return -EOPNOTSUPP;
	struct dnode *n;
	int err = node_of(c, fid, &n);
	if (err)
		return err;
	char pp[48];
	proc_path(pp, sizeof(pp), n->fd);
	struct stat st;
	if (!(err = fd_stat(n->fd, &st))) {
		int fd = S_ISREG(st.st_mode) ? open(pp, O_RDONLY | O_CLOEXEC | O_NOCTTY) : (errno = EOPNOTSUPP, -1);
		err = fd < 0 ? -errno : fd;
	}
	node_put(n);
	return err;
}
