/* fsimpl/gofer/gofer.c — the "9p" filesystem type: mount options (gVisor's
 * p9MountData keys), connecting and attaching, inodes, statfs, teardown.
 *
 * Locks: see internal.h. get_fs publishes nothing before it returns;
 * attribute stores happen under the inode's i_lock (held by the VFS or
 * taken by the caller) inside an attribute write section. */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "fsimpl/gofer/internal.h"
#include "vfs/rangelock.h"

#define GOFER_DEFAULT_TIMEOUT_MS 60000u

int gofer_err(struct gofer_fs *fs, int err)
{
	if ((err == -ECONNRESET || err == -EPROTO || err == -EPIPE) &&
	    !atomic_exchange_explicit(&fs->lost_logged, true, memory_order_relaxed))
		uvfs_log(UVFS_LOG_ERROR, "9p: %s: connection to the server lost (%s); every operation on this mount fails now",
			 fs->source, strerror(-err));
	return err;
}

bool gofer_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > GOFER_NAME_MAX || memchr(name, '/', len) || memchr(name, '\0', len))
		return false;
	return !(name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')));
}

/* ---------------------------------------------------------------- inodes */

static struct timespec ts_of(uint64_t sec, uint64_t nsec)
{
	return (struct timespec){ .tv_sec = (time_t)sec, .tv_nsec = (long)(nsec % 1000000000u) };
}

void gofer_attr_store(struct uvfs_inode *i, const struct uvfs_p9_attr *a)
{
	uvfs_inode_attr_begin(i);
	/* The type never changes. Written only when the permission bits did
	 * (a chmod on the host): the core reads i_mode's type bits without the
	 * seqlock in many places (some plainly, e.g. uvfs_iterate_dir), so a
	 * refresh must not rewrite the word for nothing (TSan, stress_gofer). */
	uint32_t mode = (i->i_mode & S_IFMT) | (a->mode & 07777);
	if ((a->valid & UVFS_P9_GETATTR_MODE) && mode != i->i_mode)
		__atomic_store_n(&i->i_mode, mode, __ATOMIC_RELAXED);
	/* the owner is read locklessly (relaxed) by the RCU walk's search
	 * check and by permission checks: relaxed stores, as the core's
	 * setattr (TSan, stress_gofer_fscache) */
	if (a->valid & UVFS_P9_GETATTR_UID)
		__atomic_store_n(&i->i_uid, a->uid, __ATOMIC_RELAXED);
	if (a->valid & UVFS_P9_GETATTR_GID)
		__atomic_store_n(&i->i_gid, a->gid, __ATOMIC_RELAXED);
	if (a->valid & UVFS_P9_GETATTR_NLINK)
		i->i_nlink = a->nlink > UINT32_MAX ? UINT32_MAX : (uint32_t)a->nlink;
	if (a->valid & UVFS_P9_GETATTR_RDEV)
		i->i_rdev = (dev_t)a->rdev;
	/* In the fscache modes we are the file's only writer and keep its
	 * size ourselves (every write, truncate and page write-back of ours
	 * sets it): a refresh — another name's lookup, the ls -l look-ahead —
	 * may carry a size from before one of our writes, its reply having
	 * raced the write (stress_gofer_fscache). Otherwise dirty cached data
	 * may end past the server's size (pcache.c). */
	struct gofer_inode *gi = GI(i);
	bool own_size = gi->attrs_set && GFS(i->i_fs)->cache <= GOFER_CACHE_FSCACHE_WT;
	if ((a->valid & UVFS_P9_GETATTR_SIZE) && !own_size &&
	    !(atomic_load_explicit(&gi->pc_dirty, memory_order_relaxed) && a->size < i->i_size))
		i->i_size = a->size;
	if ((a->valid & UVFS_P9_GETATTR_BLOCKS) && !own_size)
		i->i_blocks = a->blocks;
	gi->attrs_set = true;
	if (a->valid & UVFS_P9_GETATTR_ATIME)
		i->i_atime = ts_of(a->atime_sec, a->atime_nsec);
	if (a->valid & UVFS_P9_GETATTR_MTIME)
		i->i_mtime = ts_of(a->mtime_sec, a->mtime_nsec);
	if (a->valid & UVFS_P9_GETATTR_CTIME)
		i->i_ctime = ts_of(a->ctime_sec, a->ctime_nsec);
	if (a->valid & 0x800ull) /* BTIME */
		i->i_btime = ts_of(a->btime_sec, a->btime_nsec);
	uvfs_inode_attr_end(i);
}

bool gofer_swap_fid(struct gofer_inode *gi, uint32_t fid, unsigned long gen)
{
	uvfs_lock_acquire(&gi->fid_lock);
	uint32_t *r = realloc(gi->retired, (gi->nretired + 1) * sizeof(*r));
	if (r) {
		gi->retired = r;
		uint32_t old = atomic_load_explicit(&gi->fid, memory_order_relaxed);
		if (old != GOFER_LAZYFID) /* nothing on the server to clunk */
			r[gi->nretired++] = old;
		atomic_store_explicit(&gi->fid, fid, memory_order_release);
		atomic_store_explicit(&gi->fid_gen, gen, memory_order_relaxed);
	}
	uvfs_lock_release(&gi->fid_lock);
	return r != NULL;
}

bool gofer_add_link_fid(struct gofer_inode *gi, uint32_t fid)
{
	uvfs_lock_acquire(&gi->fid_lock);
	uint32_t *l = realloc(gi->links, (gi->nlinks + 1) * sizeof(*l));
	if (l) {
		gi->links = l;
		l[gi->nlinks++] = fid;
	}
	uvfs_lock_release(&gi->fid_lock);
	return l != NULL;
}

static void retire_fid(struct gofer_inode *gi, uint32_t fid)
{
	uvfs_lock_acquire(&gi->fid_lock);
	uint32_t *r = realloc(gi->retired, (gi->nretired + 1) * sizeof(*r));
	if (r) {
		gi->retired = r;
		r[gi->nretired++] = fid;
	}
	uvfs_lock_release(&gi->fid_lock);
	if (!r)
		uvfs_p9_clunk_async(GC(&gi->vfs), fid); /* nobody else has it */
}

void gofer_repoint(struct gofer_inode *gi)
{
	struct uvfs_p9_client *c = GC(&gi->vfs);
	struct uvfs_p9_attr a;
	uint32_t cur = gofer_fid(&gi->vfs);
	if (cur == UVFS_P9_NOFID || cur == GOFER_LAZYFID || (!uvfs_p9_getattr(c, cur, UVFS_P9_GETATTR_BASIC, &a) && a.qid.path == gi->qid_path))
		return;
	for (;;) {
		uvfs_lock_acquire(&gi->fid_lock);
		uint32_t fid = gi->nlinks ? gi->links[--gi->nlinks] : UVFS_P9_NOFID;
		uvfs_lock_release(&gi->fid_lock);
		if (fid == UVFS_P9_NOFID)
			return;
		if (!uvfs_p9_getattr(c, fid, UVFS_P9_GETATTR_BASIC, &a) && a.qid.path == gi->qid_path &&
		    gofer_swap_fid(gi, fid, atomic_load_explicit(&gi->fid_gen, memory_order_relaxed)))
			return;
		retire_fid(gi, fid);
	}
}

int gofer_refresh(struct uvfs_inode *inode, bool locked)
{
	struct gofer_fs *fs = GFS(inode->i_fs);
	uint32_t fid = gofer_fid(inode);
	if (fid == UVFS_P9_NOFID || fid == GOFER_LAZYFID)
		return 0; /* synthetic: nothing on the server; lazy: attributes trusted (fscache) */
	struct uvfs_p9_attr a;
	int err = uvfs_p9_getattr(fs->c, fid, UVFS_P9_GETATTR_ALL, &a);
	if (err)
		return gofer_err(fs, err);
	/* diod names files by path: the same fid may now reach another file. */
	if (a.qid.path != GI(inode)->qid_path || ((a.mode & S_IFMT) != GI(inode)->type))
		return -ESTALE;
	if (!locked)
		uvfs_lock_acquire(&inode->i_lock);
	gofer_attr_store(inode, &a);
	if (!locked)
		uvfs_lock_release(&inode->i_lock);
	return 0;
}

int gofer_new_inode(struct gofer_fs *fs, uint32_t fid, const struct uvfs_p9_attr *a, struct gofer_inode **out)
{
	mode_t type = a->mode & S_IFMT;
	char target[PATH_MAX];
	size_t tlen = 0;
	if (!(a->valid & UVFS_P9_GETATTR_MODE) || !type) {
		if (fid != GOFER_LAZYFID)
			uvfs_p9_clunk_async(fs->c, fid);
		return -EPROTO;
	}
	if (S_ISLNK(type)) {
		int n = uvfs_p9_readlink(fs->c, fid, target, sizeof(target));
		if (n < 0) {
			uvfs_p9_clunk_async(fs->c, fid);
			return gofer_err(fs, n);
		}
		tlen = (size_t)n;
	}
	struct gofer_inode *gi = calloc(1, sizeof(*gi) + (S_ISLNK(type) ? tlen + 1 : 0));
	if (!gi) {
		if (fid != GOFER_LAZYFID)
			uvfs_p9_clunk_async(fs->c, fid);
		return -ENOMEM;
	}
	bool reval = fs->cache >= GOFER_CACHE_REVAL;
	const struct uvfs_inode_ops *iop;
	const struct uvfs_file_ops *fop;
	switch (type) {
	case S_IFDIR:
		iop = reval ? &gofer_dir_iops_reval : &gofer_dir_iops;
		fop = &gofer_dir_fops;
		break;
	case S_IFREG:
		iop = reval ? &gofer_reg_iops_reval : &gofer_reg_iops;
		fop = &gofer_reg_fops;
		break;
	case S_IFLNK:
		iop = reval ? &gofer_symlink_iops_reval : &gofer_symlink_iops;
		fop = &gofer_special_fops;
		break;
	default:
		iop = reval ? &gofer_special_iops_reval : &gofer_special_iops;
		fop = &gofer_special_fops;
		break;
	}
	uvfs_inode_init(&gi->vfs, &fs->vfs, iop, fop, a->qid.path, type);
	atomic_init(&gi->fid, fid);
	gi->qid_path = a->qid.path;
	gi->type = type;
	if (S_ISLNK(type)) {
		char *t = (char *)(gi + 1);
		memcpy(t, target, tlen);
		t[tlen] = 0;
		gi->vfs.i_link = t;
	}
	gofer_attr_store(&gi->vfs, a);
	*out = gi;
	return 0;
}

int gofer_walk_new(struct gofer_fs *fs, struct uvfs_inode *dir, const char *name, struct gofer_inode **out)
{
	uint32_t dfid = gofer_fid(dir);
	if (dfid == UVFS_P9_NOFID)
		return -ENOENT; /* a synthetic directory has nothing on the server */
	uint32_t fid;
	struct uvfs_p9_qid qid;
	unsigned long gen = atomic_load_explicit(&fs->dir_renames, memory_order_acquire);
	int err = uvfs_p9_walk(fs->c, dfid, 1, &name, &fid, &qid);
	if (err)
		return gofer_err(fs, err);
	struct uvfs_p9_attr a;
	err = uvfs_p9_getattr(fs->c, fid, UVFS_P9_GETATTR_ALL, &a);
	if (err) {
		uvfs_p9_clunk_async(fs->c, fid);
		return gofer_err(fs, err);
	}
	return gofer_inode_from(fs, fid, &a, gen, out);
}

int gofer_inode_from(struct gofer_fs *fs, uint32_t fid, const struct uvfs_p9_attr *ap, unsigned long gen,
		     struct gofer_inode **out)
{
	struct uvfs_p9_attr a = *ap;
	int err;
	/* Another name of a file we have (a hard link made on the host):
	 * share its inode, and keep this fid as one of its names. An inode
	 * with no link left or of another type is a stale one whose number
	 * the host reused: not shared. */
	struct gofer_inode *old = (a.mode & S_IFMT) != S_IFDIR && fid != GOFER_LAZYFID ? gofer_itab_get(fs, a.qid.path)
											    : NULL;
	/* The host reuses inode numbers: share only when old's own name
	 * still reaches this very file (diod resolves its fid by path). */
	struct uvfs_p9_attr oa;
	if (old && old->type == (a.mode & S_IFMT) && gofer_fid(&old->vfs) != GOFER_LAZYFID &&
	    !uvfs_p9_getattr(fs->c, gofer_fid(&old->vfs), UVFS_P9_GETATTR_BASIC, &oa) && oa.qid.path == a.qid.path) {
		/* Lock order: a directory's i_lock (held by lookup) before a
		 * non-directory's, as for unlink's victim. */
		uvfs_lock_acquire(&old->vfs.i_lock);
		bool live = old->vfs.i_nlink > 0;
		if (live)
			gofer_attr_store(&old->vfs, &a);
		uvfs_lock_release(&old->vfs.i_lock);
		if (live && gofer_add_link_fid(old, fid)) {
			*out = old;
			return 0;
		}
	}
	if (old)
		uvfs_inode_put(&old->vfs);
	if ((err = gofer_new_inode(fs, fid, &a, out)))
		return err;
	atomic_store_explicit(&(*out)->fid_gen, fid == GOFER_LAZYFID ? GOFER_LAZYGEN : gen, memory_order_relaxed);
	gofer_itab_add(fs, *out);
	return 0;
}

static void gofer_evict_inode(struct uvfs_inode *inode)
{
	struct gofer_inode *gi = GI(inode);
	gofer_itab_del(GFS(inode->i_fs), gi);
	gofer_pc_free(gi);
	free(gi->open_fids);
	gi->open_fids = NULL;
	free(gi->lks); /* empty once every file is released */
	gi->lks = NULL;
	while (gi->ranges) /* likewise: a release drops its owners' ranges */
		uvfs_rl_remove_owner(&gi->ranges, gi->ranges->owner);
	if (gi->srv_held)
		uvfs_p9_clunk_async(GC(inode), gi->srv_fid);
	gi->srv_held = false;
	struct uvfs_p9_client *c = GC(inode);
	uint32_t fid = atomic_load_explicit(&gi->fid, memory_order_relaxed);
	if (fid != UVFS_P9_NOFID && fid != GOFER_LAZYFID)
		uvfs_p9_clunk_async(c, fid);
	for (unsigned k = 0; k < gi->nretired; k++)
		uvfs_p9_clunk_async(c, gi->retired[k]);
	free(gi->retired);
	gi->retired = NULL;
	gi->nretired = 0;
	for (unsigned k = 0; k < gi->nlinks; k++)
		uvfs_p9_clunk_async(c, gi->links[k]);
	free(gi->links);
	gi->links = NULL;
	gi->nlinks = 0;
	gofer_drop_hint(gi); /* may evict the hinted child in turn */
	gofer_names_drop(gi->names);
	gi->names = NULL;
	gofer_prefetch_drop(gi);
	gofer_synth_free(gi->synth, gi->nsynth);
	gi->synth = NULL;
	gi->nsynth = 0;
}

static void gofer_free_inode(struct uvfs_inode *inode) { free(GI(inode)); }

/* ------------------------------------------------------------ filesystem */

static int gofer_statfs(struct uvfs_filesystem *vfs, struct statfs *out)
{
	struct gofer_fs *fs = GFS(vfs);
	struct uvfs_p9_statfs s;
	int err = uvfs_p9_statfs(fs->c, gofer_fid(vfs->root ? uvfs_dentry_inode(vfs->root) : NULL), &s);
	if (err)
		return gofer_err(fs, err);
	memset(out, 0, sizeof(*out));
	out->f_type = V9FS_MAGIC;
	out->f_bsize = s.bsize;
	out->f_frsize = s.bsize;
	out->f_blocks = s.blocks;
	out->f_bfree = s.bfree;
	out->f_bavail = s.bavail;
	out->f_files = s.files;
	out->f_ffree = s.ffree;
	out->f_namelen = s.namelen ? s.namelen : GOFER_NAME_MAX;
	out->f_fsid.__val[0] = (int)(uint32_t)s.fsid;
	out->f_fsid.__val[1] = (int)(uint32_t)(s.fsid >> 32);
	return 0;
}

static const char *cache_name[] = { "fscache", "fscache_writethrough", "remote_revalidating", "none" };

static int gofer_show_options(struct uvfs_filesystem *vfs, char *buf, size_t len)
{
	struct gofer_fs *fs = GFS(vfs);
	int w = snprintf(buf, len, "trans=%s,aname=%s,cache=%s,dfltuid=%u,dfltgid=%u,msize=%u,version=9P2000.L", fs->trans,
			 fs->aname, cache_name[fs->cache], fs->dfltuid, fs->dfltgid, uvfs_p9_msize(fs->c));
	return w >= 0 && (size_t)w < len ? 0 : -ERANGE;
}

int uvfs_gofer_stats(struct uvfs_filesystem *vfs, struct uvfs_p9_stats *out)
{
	if (!vfs || vfs->type != &uvfs_gofer_type)
		return -EINVAL;
	uvfs_p9_get_stats(GFS(vfs)->c, out);
	return 0;
}

uint64_t uvfs_gofer_pcache_bytes(struct uvfs_filesystem *vfs)
{
	if (!vfs || vfs->type != &uvfs_gofer_type)
		return 0;
	return atomic_load_explicit(&GFS(vfs)->pc_bytes, memory_order_relaxed);
}

static void gofer_fs_free(struct gofer_fs *fs)
{
	uvfs_p9_close(fs->c);
	uvfs_gofer_reap(fs->proc);
	gofer_itab_free(fs);
	gofer_pc_fini(fs);
	free(fs->source);
	free(fs->aname);
	free(fs->trans);
	free(fs);
}

static void gofer_release(struct uvfs_filesystem *vfs) { gofer_fs_free(GFS(vfs)); }

static const struct uvfs_fs_ops gofer_fs_ops = {
	.release = gofer_release,
	.evict_inode = gofer_evict_inode,
	.free_inode = gofer_free_inode,
	.statfs = gofer_statfs,
	.show_options = gofer_show_options,
};

/* ------------------------------------------------------------- options */

struct gofer_params {
	char trans[8];
	int rfd, wfd;
	int hostfd; /* trans=direct: hostfd= (-1: from uvfs_gofer_internal) */
	bool ro;    /* trans=direct: refuse writes as diod -r does */
	const char *addr, *aname;
	enum gofer_cache cache;
	uint32_t dfltuid, dfltgid, msize, timeout_ms;
	uint64_t lru_max, pc_max;
	bool stale_read;
};

static int bad(const char *key, const char *val)
{
	uvfs_log(UVFS_LOG_ERROR, "9p: bad value for %s: \"%s\"", key, val ? val : "");
	return -EINVAL;
}

static int take_u32(struct uvfs_opts *o, const char *key, uint64_t lo, uint64_t hi, uint32_t *out, bool *present)
{
	uint64_t v;
	int err = uvfs_opts_take_u64(o, key, &v, present);
	if (err)
		return err;
	if (*present) {
		if (v < lo || v > hi) {
			uvfs_log(UVFS_LOG_ERROR, "9p: bad value for %s: %" PRIu64 " (%" PRIu64 "..%" PRIu64 ")", key,
				 v, lo, hi);
			return -EINVAL;
		}
		*out = (uint32_t)v;
	}
	return 0;
}

static int parse_options(struct uvfs_opts *o, struct gofer_params *p)
{
	bool present;
	int err;
	const char *s = uvfs_opts_take(o, "trans");
	if (!s) {
		uvfs_log(UVFS_LOG_ERROR, "9p: trans= is required (fd, unix, tcp or direct)");
		return -EINVAL;
	}
	if (strcmp(s, "fd") && strcmp(s, "unix") && strcmp(s, "tcp") && strcmp(s, "direct"))
		return bad("trans", s);
	snprintf(p->trans, sizeof(p->trans), "%s", s);
	uint32_t v = 0;
	p->rfd = p->wfd = -1;
	if ((err = take_u32(o, "rfdno", 0, INT_MAX, &v, &present)))
		return err;
	if (present)
		p->rfd = (int)v;
	if ((err = take_u32(o, "wfdno", 0, INT_MAX, &v, &present)))
		return err;
	if (present)
		p->wfd = (int)v;
	p->addr = uvfs_opts_take(o, "addr");
	p->hostfd = -1;
	if ((err = take_u32(o, "hostfd", 0, INT_MAX, &v, &present)))
		return err;
	if (present)
		p->hostfd = (int)v;
	/* "ro" is a superblock word: the VFS takes it (gofer_get_fs reads
	 * it from the fs options) */
	bool direct = !strcmp(p->trans, "direct");
	if (!direct && p->hostfd >= 0) {
		uvfs_log(UVFS_LOG_ERROR, "9p: hostfd= needs trans=direct");
		return -EINVAL;
	}
	if (direct) {
		if (p->addr)
			return bad("addr", p->addr);
		if (p->rfd >= 0 || p->wfd >= 0) {
			uvfs_log(UVFS_LOG_ERROR, "9p: rfdno/wfdno need trans=fd");
			return -EINVAL;
		}
	} else if (!strcmp(p->trans, "fd")) {
		if (p->rfd < 0 || p->wfd < 0) {
			uvfs_log(UVFS_LOG_ERROR, "9p: trans=fd needs rfdno= and wfdno=");
			return -EINVAL;
		}
		if (p->addr)
			return bad("addr", p->addr);
	} else {
		if (!p->addr || !*p->addr)
			return bad("addr", p->addr);
		if (p->rfd >= 0 || p->wfd >= 0) {
			uvfs_log(UVFS_LOG_ERROR, "9p: rfdno/wfdno need trans=fd");
			return -EINVAL;
		}
	}
	p->aname = uvfs_opts_take(o, "aname");
	p->cache = GOFER_CACHE_REVAL;
	if ((s = uvfs_opts_take(o, "cache"))) {
		unsigned k;
		for (k = 0; k < 4 && strcmp(s, cache_name[k]); k++)
			;
		if (k == 4)
			return bad("cache", s);
		p->cache = (enum gofer_cache)k;
	}
	p->dfltuid = p->dfltgid = 65534; /* nobody, as gVisor's default */
	if ((err = take_u32(o, "dfltuid", 0, UINT32_MAX - 1, &p->dfltuid, &present)) ||
	    (err = take_u32(o, "dfltgid", 0, UINT32_MAX - 1, &p->dfltgid, &present)))
		return err;
	p->msize = 0;
	if ((err = take_u32(o, "msize", 4096, 16u << 20, &p->msize, &present)))
		return err;
	if ((s = uvfs_opts_take(o, "version")) && strcmp(s, "9P2000.L"))
		return bad("version", s);
	p->lru_max = UVFS_DENTRY_CACHE_LIMIT;
	if ((err = uvfs_opts_take_u64(o, "dentry_cache_limit", &p->lru_max, &present)))
		return err;
	if ((s = uvfs_opts_take(o, "overlayfs_stale_read"))) {
		if (*s)
			return bad("overlayfs_stale_read", s);
		p->stale_read = true;
	}
	p->timeout_ms = GOFER_DEFAULT_TIMEOUT_MS;
	if ((err = take_u32(o, "timeout", 0, UINT32_MAX, &p->timeout_ms, &present)))
		return err;
	/* The page cache's bound: a quarter of RAM by default (each mount). */
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t ram = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : (uint64_t)1 << 30;
	p->pc_max = ram / 4;
	if ((err = uvfs_opts_take_size(o, "pcache_max", ram, &p->pc_max, &present)))
		return err;
	if (p->pc_max < GOFER_PC_MIN) {
		uvfs_log(UVFS_LOG_ERROR, "9p: bad value for pcache_max: %" PRIu64 " (at least %u)", p->pc_max,
			 GOFER_PC_MIN);
		return -EINVAL;
	}
	return uvfs_opts_check_unused(o, "9p");
}

static int gofer_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
			const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	const struct uvfs_gofer_internal *in = opts ? opts->internal : NULL;
	struct uvfs_gofer_proc *proc = in ? in->proc : NULL; /* ours from here on */
	struct gofer_params p = { .hostfd = -1 };
	struct uvfs_opts o;
	int err = uvfs_opts_parse(&o, opts ? opts->data : NULL);
	if (!err && (err = parse_options(&o, &p)))
		uvfs_opts_free(&o);
	p.ro = opts && (opts->sb_flags & UVFS_MNT_RDONLY); /* a direct client refuses writes itself too */
	/* trans=direct: the root fd is the mount's from here on, from the
	 * data string or else from the internal data, even when the mount
	 * fails (never for other transports: a zeroed uvfs_gofer_internal
	 * must not cost fd 0). */
	bool direct = !strcmp(p.trans, "direct") || (err && opts && opts->data && strstr(opts->data, "trans=direct"));
	int hostfd = !direct ? -1 : p.hostfd >= 0 ? p.hostfd : in ? in->hostfd : -1;
	if (err && hostfd >= 0)
		close(hostfd);
	if (!err && direct && hostfd < 0) {
		uvfs_log(UVFS_LOG_ERROR, "9p: trans=direct needs hostfd= or uvfs_gofer_internal.hostfd");
		uvfs_opts_free(&o);
		err = -EINVAL;
	}
	if (err) {
		uvfs_gofer_reap(proc);
		return err;
	}
	struct gofer_fs *fs = calloc(1, sizeof(*fs));
	const char *aname = p.aname ? p.aname : (source && source[0] == '/' ? source : "/");
	if (fs) {
		fs->source = strdup(source && *source ? source : "none");
		fs->aname = strdup(aname);
		fs->trans = strdup(p.trans);
	}
	if (!fs || !fs->source || !fs->aname || !fs->trans) {
		if (fs) {
			free(fs->source);
			free(fs->aname);
			free(fs->trans);
		}
		free(fs);
		uvfs_opts_free(&o);
		uvfs_gofer_reap(proc);
		if (hostfd >= 0)
			close(hostfd);
		return -ENOMEM;
	}
	fs->proc = proc;
	fs->cache = p.cache;
	fs->dfltuid = p.dfltuid;
	fs->dfltgid = p.dfltgid;
	fs->timeout_ms = p.timeout_ms;
	fs->stale_read = p.stale_read;
	gofer_pc_init(fs, p.pc_max);
	struct uvfs_p9_opts po = { .msize = p.msize, .timeout_ms = p.timeout_ms };
	if (direct) {
		err = uvfs_p9_connect_direct(hostfd, p.ro, &fs->c); /* owns hostfd now */
	} else if (!strcmp(p.trans, "fd")) {
		err = uvfs_p9_connect_fds(p.rfd, p.wfd, &po, &fs->c); /* owns the fds now */
	} else {
		char addr[4200];
		snprintf(addr, sizeof(addr), "%s:%s", p.trans, p.addr);
		err = uvfs_p9_connect(addr, &po, &fs->c);
	}
	uvfs_opts_free(&o);
	if (err) {
		uvfs_log(UVFS_LOG_ERROR, "9p: %s: connecting: %s", fs->source, strerror(-err));
		gofer_fs_free(fs);
		return err;
	}
	uint32_t rootfid;
	struct uvfs_p9_qid qid;
	struct uvfs_p9_attr a;
	err = uvfs_p9_attach(fs->c, "root", (uint32_t)geteuid(), fs->aname, &rootfid, &qid);
	if (err) {
		uvfs_log(UVFS_LOG_ERROR, "9p: %s: attach to \"%s\": %s", fs->source, fs->aname, strerror(-err));
		gofer_fs_free(fs);
		return err;
	}
	if ((err = uvfs_p9_getattr(fs->c, rootfid, UVFS_P9_GETATTR_ALL, &a))) {
		uvfs_p9_clunk(fs->c, rootfid);
		gofer_fs_free(fs);
		return err;
	}
	if (!S_ISDIR(a.mode)) {
		uvfs_log(UVFS_LOG_ERROR, "9p: %s: the root is not a directory", fs->source);
		uvfs_p9_clunk(fs->c, rootfid);
		gofer_fs_free(fs);
		return -ENOTDIR;
	}
	if ((err = uvfs_fs_init(&fs->vfs, vfs, &uvfs_gofer_type, &gofer_fs_ops))) {
		uvfs_p9_clunk(fs->c, rootfid);
		gofer_fs_free(fs);
		return err;
	}
	fs->vfs.lru_max = fs->cache == GOFER_CACHE_NONE ? 0 : (unsigned long)p.lru_max;
	/* fscache: no dentry ops, so cached paths take the RCU fast path
	 * untouched; ops re-walk fids left stale by a directory rename. */
	if (fs->cache >= GOFER_CACHE_REVAL)
		fs->vfs.d_op = &gofer_reval_dops;
	if (fs->cache >= GOFER_CACHE_REVAL)
		fs->vfs.flags &= ~(unsigned)UVFS_FST_RCU_WALK; /* every walk asks the server */
	struct gofer_inode *root;
	if ((err = gofer_new_inode(fs, rootfid, &a, &root)))
		goto fail;
	if ((err = uvfs_d_make_root(&fs->vfs, &root->vfs, &fs->vfs.root))) {
		uvfs_inode_put(&root->vfs); /* evict clunks the fid */
		uvfs_rcu_barrier(); /* free_inode runs after a grace period */
		goto fail;
	}
	uvfs_log(UVFS_LOG_DEBUG, "9p: %s: cache=%s: %s (unused dentries kept: %lu)", fs->source, cache_name[fs->cache],
		 fs->cache >= GOFER_CACHE_REVAL ? "every walk revalidates with the server"
						 : "names and attributes trusted, walks stay in memory (RCU)",
		 fs->vfs.lru_max);
	*out = &fs->vfs;
	return 0;
fail:
	uvfs_fs_abort(&fs->vfs);
	gofer_fs_free(fs);
	return err;
}

const struct uvfs_fs_type uvfs_gofer_type = {
	.name = "9p",
	.flags = UVFS_FST_RCU_WALK, /* narrowed per filesystem: cache=fscache* only */
	.get_fs = gofer_get_fs,
};
