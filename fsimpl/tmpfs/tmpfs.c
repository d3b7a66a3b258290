/* fsimpl/tmpfs/tmpfs.c — the tmpfs type: options, filesystem creation and
 * teardown, inode allocation and eviction, statfs.
 *
 * Lock order: see internal.h. get_fs publishes nothing before returning; the
 * counters are atomics; inode attribute helpers expect the caller to hold
 * the inode's i_lock (or the inode to be unpublished). */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fsimpl/tmpfs/internal.h"

/* Linux's defaults (mm/shmem.c shmem_default_max_blocks/_inodes): half the
 * RAM pages for both size= and nr_inodes= (no highmem here), so that one
 * user's files cannot take the whole process's memory. */
static long default_max(void)
{
	long pagesz = sysconf(_SC_PAGESIZE), npages = sysconf(_SC_PHYS_PAGES);
	if (pagesz <= 0 || npages <= 0)
		return 0;
	uint64_t pages = (uint64_t)pagesz * (uint64_t)npages / TMPFS_PAGE_SIZE / 2;
	return pages > (uint64_t)LONG_MAX ? 0 : (long)pages;
}

/* ---------------------------------------------------------- attributes */

void tmpfs_touch_c(struct uvfs_inode *inode, struct timespec now)
{
	uvfs_inode_attr_begin(inode);
	inode->i_ctime = now;
	uvfs_inode_attr_end(inode);
}

static bool ts_ge(struct statx_timestamp a, struct statx_timestamp b)
{
	return a.tv_sec != b.tv_sec ? a.tv_sec > b.tv_sec : a.tv_nsec >= b.tv_nsec;
}

/* atime keeps 1 ms resolution: a read leaves it alone (no i_lock, no seq
 * write, so parallel readers of one file do not serialise here) when it is
 * already at least mtime and ctime and less than 1 ms old. */
#define ATIME_SLACK_NS 1000000LL

void tmpfs_file_accessed(struct uvfs_file *f, bool held_by_caller)
{
	if ((f->f_flags & O_NOATIME) || (uvfs_mount_flags(f->f_vd.mount) & UVFS_MNT_NOATIME))
		return;
	struct uvfs_inode *inode = f->f_inode;
	struct timespec now = uvfs_now();
	struct statx st;
	uvfs_inode_fill_statx(inode, &st); /* the VFS's seq-validated lockless read */
	long long age = (now.tv_sec - st.stx_atime.tv_sec) * 1000000000LL + (now.tv_nsec - st.stx_atime.tv_nsec);
	if (age >= 0 && age < ATIME_SLACK_NS && ts_ge(st.stx_atime, st.stx_mtime) && ts_ge(st.stx_atime, st.stx_ctime))
		return;
	if (!held_by_caller)
		uvfs_lock_acquire(&inode->i_lock);
	uvfs_inode_attr_begin(inode);
	inode->i_atime = now;
	uvfs_inode_attr_end(inode);
	if (!held_by_caller)
		uvfs_lock_release(&inode->i_lock);
}

/* ------------------------------------------------------------ xattrs */

/* The VFS updates ctime after a successful set/remove. */
ssize_t tmpfs_getxattr(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name, void *buf, size_t len)
{
	return memxattr_get(&TI(inode)->xattrs, name, buf, len);
}

int tmpfs_setxattr(struct uvfs_dentry *d, struct uvfs_inode *inode,
		const char *name, const void *val, size_t len, int flags)
{
	return memxattr_set(&TI(inode)->xattrs, name, val, len, flags);
}

ssize_t tmpfs_listxattr(struct uvfs_dentry *d, struct uvfs_inode *inode, char *buf, size_t len)
{
	return memxattr_list(&TI(inode)->xattrs, buf, len);
}

int tmpfs_removexattr(struct uvfs_dentry *d, struct uvfs_inode *inode, const char *name)
{
	return memxattr_remove(&TI(inode)->xattrs, name);
}

/* -------------------------------------------------------------- inodes */

int tmpfs_new_inode(struct tmpfs_fs *fs, const struct uvfs_inode *dir, const struct uvfs_cred *cred, mode_t mode,
		    dev_t rdev, const char *link, struct tmpfs_inode **out)
{
	size_t linklen = 0;
	if (S_ISLNK(mode)) {
		linklen = strnlen(link, TMPFS_SYMLINK_MAX + 1);
		if (linklen == 0)
			return -ENOENT;
		if (linklen > TMPFS_SYMLINK_MAX)
			return -ENAMETOOLONG;
	}
	bool link_page = S_ISLNK(mode) && linklen >= TMPFS_SYMLINK_PAGE_MIN;
	int err = tmpfs_budget_take(&fs->inodes, 1);
	if (err)
		return err;
	if (link_page && (err = tmpfs_budget_take(&fs->pages, 1))) {
		tmpfs_budget_give(&fs->inodes, 1);
		return err;
	}
	struct tmpfs_inode *ti = calloc(1, sizeof(*ti) + (S_ISLNK(mode) ? linklen + 1 : 0));
	if (!ti) {
		tmpfs_budget_give(&fs->inodes, 1);
		if (link_page)
			tmpfs_budget_give(&fs->pages, 1);
		return -ENOMEM;
	}
	const struct uvfs_inode_ops *iop;
	const struct uvfs_file_ops *fop;
	switch (mode & S_IFMT) {
	case S_IFDIR:
		iop = &tmpfs_dir_iops;
		fop = &tmpfs_dir_fops;
		break;
	case S_IFREG:
		iop = &tmpfs_reg_iops;
		fop = &tmpfs_reg_fops;
		break;
	case S_IFLNK:
		iop = &tmpfs_symlink_iops;
		fop = &tmpfs_special_fops;
		break;
	default:
		iop = &tmpfs_special_iops;
		fop = &tmpfs_special_fops;
		break;
	}
	struct uvfs_inode *inode = &ti->vfs;
	uint64_t ino = atomic_fetch_add_explicit(&fs->next_ino, 1, memory_order_relaxed);
	uvfs_inode_init(inode, &fs->vfs, iop, fop, ino, mode);
	if (cred) {
		uvfs_inode_init_owner(inode, dir, cred, &mode);
	} else {
		inode->i_uid = 0;
		inode->i_gid = 0;
	}
	inode->i_mode = mode;
	inode->i_nlink = S_ISDIR(mode) ? 2 : 1;
	if (S_ISDIR(mode)) {
		inode->i_size = 2 * TMPFS_DIRENT_SIZE;
		inode->i_flags = UVFS_I_COMPLETE; /* names live only in the dcache */
	}
	inode->i_rdev = (S_ISCHR(mode) || S_ISBLK(mode)) ? rdev : 0;
	if (S_ISLNK(mode)) {
		char *t = (char *)(ti + 1);
		memcpy(t, link, linklen);
		t[linklen] = 0;
		inode->i_link = t;
		inode->i_size = linklen;
		inode->i_blocks = link_page ? TMPFS_PAGE_SIZE / 512 : 0;
	}
	struct timespec now = uvfs_now();
	inode->i_atime = inode->i_mtime = inode->i_ctime = inode->i_btime = now;
	*out = ti;
	return 0;
}

static void tmpfs_evict_inode(struct uvfs_inode *inode)
{
	struct tmpfs_inode *ti = TI(inode);
	struct tmpfs_fs *fs = TFS(inode->i_fs);
	if (ti->pages) {
		tmpfs_pages_destroy(ti->pages, &fs->pages);
		ti->pages = NULL;
	}
	memxattr_free(&ti->xattrs);
	if (S_ISLNK(inode->i_mode) && inode->i_size >= TMPFS_SYMLINK_PAGE_MIN)
		tmpfs_budget_give(&fs->pages, 1);
	tmpfs_budget_give(&fs->inodes, 1);
}

/* Returning deleted files' memory to the OS. Inodes, dentries and names are
 * small malloc objects; glibc keeps freed ones in its bins and fastbins and
 * gives nothing back unless the top of the heap is free, so after deleting
 * a million files RSS stayed where it was. malloc_trim consolidates and
 * releases the free pages inside the heap; it costs a walk of the heap, so
 * it runs once per TRIM_EVERY freed bytes (an inode counts with its dentry
 * and name, about FREED_PER_INODE), and when a filesystem goes away. */
#define FREED_PER_INODE 512
#define TRIM_EVERY (32L << 20)
static atomic_long freed_since_trim;

static void note_freed(long bytes)
{
	long v = atomic_fetch_add_explicit(&freed_since_trim, bytes, memory_order_relaxed) + bytes;
	if (v >= TRIM_EVERY && atomic_compare_exchange_strong(&freed_since_trim, &v, 0))
		malloc_trim(0);
}

/* An RCU callback: the dentries of the files deleted with this inode have
 * mostly been freed by now (their callbacks ran a grace period earlier). */
static void tmpfs_free_inode(struct uvfs_inode *inode)
{
	free(TI(inode));
	note_freed(FREED_PER_INODE);
}

/* ---------------------------------------------------------- filesystem */

static int tmpfs_statfs(struct uvfs_filesystem *vfs, struct statfs *out)
{
	struct tmpfs_fs *fs = TFS(vfs);
	long pused = atomic_load_explicit(&fs->pages.used, memory_order_relaxed);
	long iused = atomic_load_explicit(&fs->inodes.used, memory_order_relaxed);
	/* Unlimited (size=0, nr_inodes=0) reports 0 total and 0 free, as
	 * Linux's shmem_statfs does. */
	uint64_t pmax = (uint64_t)tmpfs_budget_max(&fs->pages), imax = (uint64_t)tmpfs_budget_max(&fs->inodes);
	memset(out, 0, sizeof(*out));
	out->f_type = TMPFS_MAGIC;
	out->f_bsize = TMPFS_PAGE_SIZE;
	out->f_frsize = TMPFS_PAGE_SIZE;
	out->f_blocks = pmax;
	out->f_bfree = out->f_bavail = pmax > (uint64_t)pused ? pmax - (uint64_t)pused : 0;
	out->f_files = imax;
	out->f_ffree = imax > (uint64_t)iused ? imax - (uint64_t)iused : 0;
	out->f_namelen = 255;
	uint64_t dev = vfs->dev;
	out->f_fsid.__val[0] = (int)(uint32_t)dev;
	out->f_fsid.__val[1] = (int)(uint32_t)(dev >> 32);
	return 0;
}

/* The effective options, as Linux shmem_show_options prints them: limits
 * when not the default (so size=0 shows as "size=0k"), the root's mode when
 * not 1777, owner ids when not 0. */
static int tmpfs_show_options(struct uvfs_filesystem *vfs, char *buf, size_t len)
{
	struct tmpfs_fs *fs = TFS(vfs);
	char tmp[160];
	size_t n = 0;
	tmp[0] = 0;
#define ADD(...) n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, __VA_ARGS__)
	long dflt = default_max(), pmax = tmpfs_budget_max(&fs->pages), imax = tmpfs_budget_max(&fs->inodes);
	if (pmax != dflt)
		ADD(",size=%luk", (unsigned long)pmax * (TMPFS_PAGE_SIZE / 1024));
	if (imax != dflt)
		ADD(",nr_inodes=%lu", (unsigned long)imax);
	if (fs->root_mode != 01777)
		ADD(",mode=%03o", (unsigned)fs->root_mode);
	if (fs->root_uid)
		ADD(",uid=%u", (unsigned)fs->root_uid);
	if (fs->root_gid)
		ADD(",gid=%u", (unsigned)fs->root_gid);
#undef ADD
	int w = snprintf(buf, len, "%s", n ? tmp + 1 : "");
	return (size_t)w < len ? 0 : -ERANGE;
}

static void tmpfs_release(struct uvfs_filesystem *vfs)
{
	struct tmpfs_fs *fs = TFS(vfs);
	bool big = atomic_load_explicit(&freed_since_trim, memory_order_relaxed) >= TRIM_EVERY / 8;
	free(fs);
	if (big)
		note_freed(TRIM_EVERY);
}

static int tmpfs_remount(struct uvfs_filesystem *vfs, unsigned flags, const char *data);

static const struct uvfs_fs_ops tmpfs_fs_ops = {
	.release = tmpfs_release,
	.evict_inode = tmpfs_evict_inode,
	.free_inode = tmpfs_free_inode,
	.statfs = tmpfs_statfs,
	.show_options = tmpfs_show_options,
	.remount = tmpfs_remount,
};

/* ------------------------------------------------------------- options */

struct tmpfs_params {
	uint32_t mode, uid, gid;
	bool have_mode, have_uid, have_gid;
	uint64_t max_pages, max_inodes; /* 0: unlimited; default: half the RAM pages */
};

/* nr_inodes: a count with an optional k/m/g suffix (no %, unlike size=). */
static int parse_count(const char *key, const char *s, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		goto bad;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		goto bad;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		goto bad;
	*out = (uint64_t)v << shift;
	return 0;
bad:
	uvfs_log(UVFS_LOG_ERROR, "tmpfs: bad value for %s: \"%s\"", key, s);
	return -EINVAL;
}

/* mode=: octal, masked to 07777 like Linux and gVisor (the shared
 * uvfs_opts_take_octal rejects values above 07777). */
static int take_mode(struct uvfs_opts *o, uint32_t *out, bool *present)
{
	const char *s = uvfs_opts_take(o, "mode");
	*present = s != NULL;
	if (!s)
		return 0;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 8);
	if (!*s || *s == '-' || *s == '+' || *s == ' ' || errno || *end || v > UINT32_MAX) {
		uvfs_log(UVFS_LOG_ERROR, "tmpfs: bad value for mode: \"%s\"", s);
		return -EINVAL;
	}
	*out = (uint32_t)v & 07777;
	return 0;
}

static int take_id(struct uvfs_opts *o, const char *key, uint32_t *out, bool *present)
{
	uint64_t v;
	int err = uvfs_opts_take_u64(o, key, &v, present);
	if (err)
		return err;
	if (*present && v >= UINT32_MAX) { /* (uid_t)-1 is "no id" */
		uvfs_log(UVFS_LOG_ERROR, "tmpfs: bad value for %s: %" PRIu64, key, v);
		return -EINVAL;
	}
	if (*present)
		*out = (uint32_t)v;
	return 0;
}

static int parse_options(const char *data, struct tmpfs_params *p)
{
	struct uvfs_opts o;
	int err = uvfs_opts_parse(&o, data);
	if (err)
		return err;
	bool present;
	uint64_t v;
	if ((err = take_mode(&o, &p->mode, &p->have_mode)))
		goto out;
	if ((err = take_id(&o, "uid", &p->uid, &p->have_uid)) || (err = take_id(&o, "gid", &p->gid, &p->have_gid)))
		goto out;
	long pagesz = sysconf(_SC_PAGESIZE), npages = sysconf(_SC_PHYS_PAGES);
	uint64_t ram = pagesz > 0 && npages > 0 ? (uint64_t)pagesz * (uint64_t)npages : 0;
	if ((err = uvfs_opts_take_size(&o, "size", ram, &v, &present)))
		goto out;
	p->max_pages = p->max_inodes = (uint64_t)default_max();
	if (present) { /* rounded up to whole pages; 0 = unlimited (Linux) */
		p->max_pages = v / TMPFS_PAGE_SIZE + (v % TMPFS_PAGE_SIZE != 0);
		if (p->max_pages > (uint64_t)LONG_MAX)
			p->max_pages = 0;
	}
	const char *s = uvfs_opts_take(&o, "nr_inodes");
	if (s) {
		if ((err = parse_count("nr_inodes", s, &v)))
			goto out;
		p->max_inodes = v > (uint64_t)LONG_MAX ? 0 : v;
	}
	err = uvfs_opts_check_unused(&o, "tmpfs");
out:
	uvfs_opts_free(&o);
	return err;
}

/* mount -o remount (Linux shmem_reconfigure): size= and nr_inodes= change
 * the limits (0: none), but an unlimited fs cannot be limited again and a
 * limit below what is in use is refused; mode=, uid= and gid= are checked
 * and ignored, as Linux does on remount. Read-only is the VFS's (flags).
 * The VFS serialises remounts; takers read the limits with relaxed loads
 * and may pass a just-lowered one once, as Linux's percpu counters may. */
static int tmpfs_remount(struct uvfs_filesystem *vfs, unsigned flags, const char *data)
{
	struct tmpfs_fs *fs = TFS(vfs);
	struct uvfs_opts o;
	int err = uvfs_opts_parse(&o, data);
	if (err)
		return err;
	uint32_t ignored;
	bool have, have_size, have_inodes = false;
	uint64_t v, pages = 0, inodes = 0;
	if ((err = take_mode(&o, &ignored, &have)) || (err = take_id(&o, "uid", &ignored, &have)) ||
	    (err = take_id(&o, "gid", &ignored, &have)))
		goto out;
	long pagesz = sysconf(_SC_PAGESIZE), npages = sysconf(_SC_PHYS_PAGES);
	uint64_t ram = pagesz > 0 && npages > 0 ? (uint64_t)pagesz * (uint64_t)npages : 0;
	if ((err = uvfs_opts_take_size(&o, "size", ram, &v, &have_size)))
		goto out;
	if (have_size) {
		pages = v / TMPFS_PAGE_SIZE + (v % TMPFS_PAGE_SIZE != 0);
		if (pages > (uint64_t)LONG_MAX)
			pages = 0;
	}
	const char *s = uvfs_opts_take(&o, "nr_inodes");
	if (s) {
		if ((err = parse_count("nr_inodes", s, &v)))
			goto out;
		inodes = v > (uint64_t)LONG_MAX ? 0 : v;
		have_inodes = true;
	}
	if ((err = uvfs_opts_check_unused(&o, "tmpfs")))
		goto out;
	const char *why = NULL;
	if (have_size && pages) {
		if (!tmpfs_budget_max(&fs->pages))
			why = "cannot retroactively limit size";
		else if (atomic_load(&fs->pages.used) > (long)pages)
			why = "too small a size for current use";
	}
	if (!why && have_inodes && inodes) {
		if (!tmpfs_budget_max(&fs->inodes))
			why = "cannot retroactively limit inodes";
		else if (atomic_load(&fs->inodes.used) > (long)inodes)
			why = "too few inodes for current use";
	}
	if (why) {
		uvfs_log(UVFS_LOG_ERROR, "tmpfs: remount: %s", why);
		err = -EINVAL;
		goto out;
	}
	if (have_size)
		__atomic_store_n(&fs->pages.max, (long)pages, __ATOMIC_RELAXED);
	if (have_inodes)
		__atomic_store_n(&fs->inodes.max, (long)inodes, __ATOMIC_RELAXED);
out:
	uvfs_opts_free(&o);
	return err;
}

static int tmpfs_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
			const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	struct tmpfs_params p = { 0 };
	const char *data = opts ? opts->data : NULL;
	const struct uvfs_tmpfs_internal *in = opts ? opts->internal : NULL;
	mode_t type = in && in->root_type ? in->root_type & S_IFMT : S_IFDIR;
	if (type != S_IFDIR && type != S_IFREG && type != S_IFLNK) {
		uvfs_log(UVFS_LOG_ERROR, "tmpfs: bad root file type 0%o", (unsigned)in->root_type);
		return -EINVAL;
	}
	if (type == S_IFLNK && (!in->root_symlink_target || !*in->root_symlink_target)) {
		uvfs_log(UVFS_LOG_ERROR, "tmpfs: symlink root without a target");
		return -EINVAL;
	}
	int err = parse_options(data, &p);
	if (err)
		return err;

	struct tmpfs_fs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->next_ino = 1;
	fs->pages.max = (long)p.max_pages;
	fs->inodes.max = (long)p.max_inodes;
	if ((err = uvfs_fs_init(&fs->vfs, vfs, &uvfs_tmpfs_type, &tmpfs_fs_ops))) {
		free(fs);
		return err;
	}

	mode_t perm = p.have_mode ? p.mode : (type == S_IFDIR ? 01777 : 0777);
	struct tmpfs_inode *root;
	err = tmpfs_new_inode(fs, NULL, NULL, type | perm, 0, in ? in->root_symlink_target : NULL, &root);
	if (err)
		goto fail;
	root->vfs.i_uid = p.have_uid ? p.uid : (cred ? cred->fsuid : 0);
	root->vfs.i_gid = p.have_gid ? p.gid : (cred ? cred->fsgid : 0);
	fs->root_mode = perm;
	fs->root_uid = root->vfs.i_uid;
	fs->root_gid = root->vfs.i_gid;
	if ((err = uvfs_d_make_root(&fs->vfs, &root->vfs, &fs->vfs.root))) {
		/* Not consumed on failure. free_inode runs after a grace period
		 * and needs the fs: wait for it before freeing the fs. */
		uvfs_inode_put(&root->vfs);
		uvfs_rcu_barrier();
		goto fail;
	}
	*out = &fs->vfs;
	return 0;
fail:
	/* uvfs_fs_abort does not call release: free here. */
	uvfs_fs_abort(&fs->vfs);
	free(fs);
	return err;
}

const struct uvfs_fs_type uvfs_tmpfs_type = {
	.name = "tmpfs",
	.flags = UVFS_FST_RCU_WALK | UVFS_FST_DCACHE_COMPLETE,
	.get_fs = tmpfs_get_fs,
};
