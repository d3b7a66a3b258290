/* vfs/mount.c — mounts, mount namespaces and the mount table.
 *
 * The mount table maps (parent mount, mountpoint dentry) to the child mount
 * mounted there. Keying on the parent mount makes bind mounts and
 * namespaces distinct for free. Chains are published with release stores
 * and read under RCU; writers hold vfs->mount_lock and bracket changes with
 * vfs->mount_seq so an RCU walk that crossed (or missed) a mount while it
 * changed retries.
 *
 * References (gVisor's rules): a connected mount holds one reference on its
 * parent mount and one on its mountpoint dentry; the VFS holds one on every
 * connected mount; a mount holds its root dentry and its filesystem. A
 * namespace holds its root mount.
 *
 * Lock order: directory i_lock (of the mountpoint's parent) → mount_lock.
 */
#include <stdio.h>
#include <sys/sysmacros.h>

#include "internal.h"

#define CAP_SYS_ADMIN_NR 21 /* Linux CAP_SYS_ADMIN */

HIDDEN int mount_table_init(struct uvfs *vfs)
{
	vfs->mount_hash = calloc(MOUNT_BUCKETS, sizeof(vfs->mount_hash[0]));
	return vfs->mount_hash ? 0 : -ENOMEM;
}

HIDDEN void mount_table_fini(struct uvfs *vfs)
{
	free(vfs->mount_hash);
	vfs->mount_hash = NULL;
}

static inline unsigned mnt_hash(const struct uvfs_mount *parent, const struct uvfs_dentry *point)
{
	uint64_t h = (uint64_t)(uintptr_t)parent * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)point * 0xC2B2AE3D27D4EB4FULL;
	return (unsigned)((h ^ (h >> 29)) & (MOUNT_BUCKETS - 1));
}

HIDDEN struct uvfs_mount *mnt_lookup_rcu(struct uvfs *vfs, const struct uvfs_mount *parent,
					 const struct uvfs_dentry *point)
{
	for (struct uvfs_mount *m = rcu_load(vfs->mount_hash[mnt_hash(parent, point)]); m;
	     m = rcu_load(m->m_hash_next))
		if (rcu_load(m->m_parent) == parent && rcu_load(m->m_point) == point)
			return m;
	return NULL;
}

static void mnt_hash_insert(struct uvfs *vfs, struct uvfs_mount *m)
{
	struct uvfs_mount **b = &vfs->mount_hash[mnt_hash(m->m_parent, m->m_point)];
	rcu_store(m->m_hash_next, *b);
	rcu_store(*b, m);
}

static void mnt_hash_remove(struct uvfs *vfs, struct uvfs_mount *m)
{
	struct uvfs_mount **pp = &vfs->mount_hash[mnt_hash(m->m_parent, m->m_point)];
	while (*pp && *pp != m)
		pp = &(*pp)->m_hash_next;
	if (*pp)
		rcu_store(*pp, m->m_hash_next);
}

/* ------------------------------------------------------------ refcounts */

HIDDEN bool mnt_tryget(struct uvfs_mount *m)
{
	long v = atomic_load_explicit(&m->m_refs, memory_order_relaxed);
	do {
		if ((v & MNT_REF_UMOUNTED) || v <= 0)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&m->m_refs, &v, v + 1, memory_order_acquire,
							memory_order_relaxed));
	return true;
}

UVFS_API void uvfs_mount_get(struct uvfs_mount *m) { atomic_fetch_add_explicit(&m->m_refs, 1, memory_order_relaxed); }

static void mnt_free_rcu(struct rcu_head *h)
{
	RCU_CALLBACK_ENTER();
	struct uvfs_mount *m = container_of(h, struct uvfs_mount, m_rcu);
	free(m->m_source);
	free(m);
	RCU_CALLBACK_EXIT();
}

UVFS_API void uvfs_mount_put(struct uvfs_mount *m)
{
	long v = atomic_fetch_sub_explicit(&m->m_refs, 1, memory_order_acq_rel) - 1;
	if ((v & ~MNT_REF_UMOUNTED) != 0)
		return;
	struct uvfs *vfs = m->m_vfs;
	/* Last reference: a connected mount always holds the VFS's reference,
	 * so m is disconnected here. */
	uvfs_dentry_put(m->m_root);
	uvfs_fs_put(m->m_fs);
	LIVE_DEC(vfs, mounts);
	call_rcu(&m->m_rcu, mnt_free_rcu);
}

UVFS_API void uvfs_vd_get(const struct uvfs_vd *vd)
{
	uvfs_mount_get(vd->mount);
	uvfs_dentry_get(vd->dentry);
}

UVFS_API void uvfs_vd_put(struct uvfs_vd *vd)
{
	/* Dentry first: the mount may hold the last reference on the fs that
	 * the dentry's release needs. */
	if (vd->dentry)
		uvfs_dentry_put(vd->dentry);
	if (vd->mount)
		uvfs_mount_put(vd->mount);
	vd->dentry = NULL;
	vd->mount = NULL;
}

/* --------------------------------------------------------------- writers */

HIDDEN int mnt_want_write(struct uvfs_mount *m)
{
	/* seq_cst: count ourselves, then look at the fs's flag; a remount
	 * making the fs read-only sets the flag, then counts the writers
	 * (fs_has_writers_locked): one of the two sees the other. */
	long v = atomic_fetch_add_explicit(&m->m_writers, 1, memory_order_seq_cst);
	if ((v & MNT_WRITERS_RO) ||
	    (atomic_load_explicit(&m->m_fs->sb_flags, memory_order_seq_cst) & UVFS_MNT_RDONLY)) {
		atomic_fetch_sub_explicit(&m->m_writers, 1, memory_order_release);
		return -EROFS;
	}
	return 0;
}

HIDDEN void mnt_drop_write(struct uvfs_mount *m) { atomic_fetch_sub_explicit(&m->m_writers, 1, memory_order_release); }

UVFS_API int uvfs_set_mount_readonly(struct uvfs_mount *m, bool ro)
{
	struct uvfs *vfs = m->m_vfs;
	int err = 0;
	pthread_mutex_lock(&vfs->mount_lock);
	if (ro) {
		long zero = 0;
		long v = atomic_load(&m->m_writers);
		if (!(v & MNT_WRITERS_RO) && !atomic_compare_exchange_strong(&m->m_writers, &zero, MNT_WRITERS_RO))
			err = -EBUSY;
	} else {
		atomic_fetch_and(&m->m_writers, ~MNT_WRITERS_RO);
	}
	pthread_mutex_unlock(&vfs->mount_lock);
	return err;
}

static bool mnt_ro_flag(const struct uvfs_mount *m)
{
	return atomic_load(&((struct uvfs_mount *)m)->m_writers) & MNT_WRITERS_RO;
}

UVFS_API bool uvfs_fs_readonly(const struct uvfs_filesystem *fs)
{
	return atomic_load(&((struct uvfs_filesystem *)fs)->sb_flags) & UVFS_MNT_RDONLY;
}

UVFS_API bool uvfs_mount_readonly(const struct uvfs_mount *m) { return mnt_ro_flag(m) || uvfs_fs_readonly(m->m_fs); }

UVFS_API unsigned uvfs_mount_flags(const struct uvfs_mount *m)
{
	return atomic_load(&((struct uvfs_mount *)m)->m_flags) | (mnt_ro_flag(m) ? UVFS_MNT_RDONLY : 0);
}

UVFS_API struct uvfs_filesystem *uvfs_mount_fs(const struct uvfs_mount *m) { return m->m_fs; }
UVFS_API struct uvfs_dentry *uvfs_mount_root(const struct uvfs_mount *m) { return m->m_root; }
UVFS_API uint64_t uvfs_mount_id(const struct uvfs_mount *m) { return m->m_id; }

/* ---------------------------------------------------------- construction */

static int mnt_alloc(struct uvfs *vfs, struct uvfs_filesystem *fs, struct uvfs_dentry *root, const char *source,
		     unsigned flags, struct uvfs_mount **out)
{
	struct uvfs_mount *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (source && !(m->m_source = strdup(source))) {
		free(m);
		return -ENOMEM;
	}
	m->m_vfs = vfs;
	m->m_fs = fs;
	m->m_root = root;
	uvfs_fs_get(fs);
	uvfs_dentry_get(root);
	m->m_id = atomic_fetch_add(&vfs->next_mount_id, 1);
	atomic_init(&m->m_flags, flags & ~UVFS_MNT_RDONLY);
	atomic_init(&m->m_writers, (flags & UVFS_MNT_RDONLY) ? MNT_WRITERS_RO : 0);
	atomic_init(&m->m_refs, 1);
	list_init(&m->m_children);
	list_init(&m->m_sibling);
	LIVE_INC(vfs, mounts);
	*out = m;
	return 0;
}

UVFS_API int uvfs_new_disconnected_mount(struct uvfs *vfs, struct uvfs_filesystem *fs, struct uvfs_dentry *root,
					 const struct uvfs_mount_opts *opts, struct uvfs_mount **out)
{
	rcu_enter();
	if (!fs || !root)
		return -EINVAL;
	return mnt_alloc(vfs, fs, root, NULL, opts ? opts->flags : 0, out);
}

/* mount(2)'s data may carry superblock flag words, which the VFS takes
 * before the filesystem sees its options (Linux vfs_parse_sb_flag, which
 * matches the key only): "ro" and "rw" set the filesystem's read-only
 * state (*ro = 1 or 0, the last one wins; -1: neither); "sync", "async",
 * "dirsync", "lazytime", "nolazytime", "mand" and "nomand" are accepted
 * and have no effect here. *rest: the other items (malloc'd; NULL when
 * data is NULL). */
static int sb_flag_words(const char *data, char **rest, int *ro)
{
	static const char *const ignored[] = { "sync", "async", "dirsync", "lazytime", "nolazytime", "mand", "nomand" };
	*ro = -1;
	*rest = NULL;
	if (!data)
		return 0;
	size_t len = strlen(data), n = 0;
	char *out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	for (const char *p = data; *p;) {
		size_t tl = strcspn(p, ","), kl = strcspn(p, ",=");
		bool drop = false;
		if (kl == 2 && (!strncmp(p, "ro", 2) || !strncmp(p, "rw", 2))) {
			*ro = p[1] == 'o';
			drop = true;
		}
		for (size_t i = 0; !drop && i < sizeof(ignored) / sizeof(ignored[0]); i++)
			drop = strlen(ignored[i]) == kl && !strncmp(p, ignored[i], kl);
		if (!drop && tl) {
			if (n)
				out[n++] = ',';
			memcpy(out + n, p, tl);
			n += tl;
		}
		p += tl + (p[tl] == ',');
	}
	out[n] = 0;
	*rest = out;
	return 0;
}

static int get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source, const char *fstype,
		  const struct uvfs_mount_opts *opts, bool check_user, struct uvfs_filesystem **out)
{
	const struct uvfs_fs_type *type;
	unsigned tflags;
	int err = fs_type_find(vfs, fstype, &type, &tflags);
	if (err)
		return err;
	if (check_user && !(opts && opts->internal_mount) && !(tflags & UVFS_FS_USER_MOUNT))
		return -ENODEV;
	char *data;
	int ro;
	if ((err = sb_flag_words(opts ? opts->data : NULL, &data, &ro)))
		return err;
	struct uvfs_fs_opts fo = { .data = data, .internal = opts ? opts->internal : NULL,
				   .sb_flags = ro == 1 ? UVFS_MNT_RDONLY : 0 };
	struct uvfs_filesystem *fs = NULL;
	err = type->get_fs(vfs, cred, source, &fo, &fs);
	free(data);
	if (err)
		return err;
	if (ro == 1 && fs) /* before any mount of it exists: no writer to wait for */
		atomic_fetch_or(&fs->sb_flags, UVFS_MNT_RDONLY);
	if (!fs || !fs->root) {
		uvfs_log(UVFS_LOG_ERROR, "%s: get_fs returned no root", fstype);
		if (fs)
			uvfs_fs_put(fs);
		return -EIO;
	}
	*out = fs;
	return 0;
}

UVFS_API int uvfs_mount_disconnected(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
				     const char *fstype, const struct uvfs_mount_opts *opts,
				     struct uvfs_mount **out)
{
	rcu_enter();
	struct uvfs_filesystem *fs;
	int err = get_fs(vfs, cred, source, fstype, opts, true, &fs);
	if (err)
		return err;
	err = mnt_alloc(vfs, fs, fs->root, source, opts ? opts->flags : 0, out);
	uvfs_fs_put(fs);
	return err;
}

UVFS_API int uvfs_mntns_new(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
			    const char *fstype, const struct uvfs_mount_opts *opts, struct uvfs_mntns **out)
{
	rcu_enter();
	struct uvfs_filesystem *fs;
	/* gVisor's NewMountNamespace does not check AllowUserMount. */
	int err = get_fs(vfs, cred, source, fstype, opts, false, &fs);
	if (err)
		return err;
	struct uvfs_mntns *ns = calloc(1, sizeof(*ns));
	if (!ns) {
		uvfs_fs_put(fs);
		return -ENOMEM;
	}
	struct uvfs_mount *m;
	err = mnt_alloc(vfs, fs, fs->root, source, opts ? opts->flags : 0, &m);
	uvfs_fs_put(fs);
	if (err) {
		free(ns);
		return err;
	}
	m->m_ns = ns;
	atomic_init(&ns->ns_refs, 1);
	ns->ns_vfs = vfs;
	ns->ns_root = m;
	LIVE_INC(vfs, mntns);
	*out = ns;
	return 0;
}

UVFS_API void uvfs_mntns_get(struct uvfs_mntns *ns) { atomic_fetch_add(&ns->ns_refs, 1); }

UVFS_API void uvfs_mntns_root(struct uvfs_mntns *ns, struct uvfs_vd *out)
{
	out->mount = ns->ns_root;
	out->dentry = ns->ns_root->m_root;
	uvfs_vd_get(out);
}

/* ------------------------------------------------------------- umount */

/* What a umount leaves to drop once mount_lock is released. */
struct drop_list {
	struct uvfs_mount **mounts;
	struct uvfs_dentry **dentries;
	size_t nm, nd, cap;
};

static int drops_reserve(struct drop_list *dl, size_t more)
{
	if (dl->nm + more <= dl->cap && dl->nd + more <= dl->cap)
		return 0;
	size_t cap = (dl->cap + more) * 2;
	struct uvfs_mount **m = realloc(dl->mounts, cap * sizeof(*m));
	if (!m)
		return -ENOMEM;
	dl->mounts = m;
	struct uvfs_dentry **d = realloc(dl->dentries, cap * sizeof(*d));
	if (!d)
		return -ENOMEM;
	dl->dentries = d;
	dl->cap = cap;
	return 0;
}

static void drops_run(struct drop_list *dl)
{
	for (size_t i = 0; i < dl->nd; i++)
		uvfs_dentry_put(dl->dentries[i]);
	for (size_t i = 0; i < dl->nm; i++)
		uvfs_mount_put(dl->mounts[i]);
	free(dl->mounts);
	free(dl->dentries);
}

HIDDEN size_t mnt_count_subtree(struct uvfs_mount *m)
{
	size_t n = 1;
	for (struct list_head *l = m->m_children.next; l != &m->m_children; l = l->next)
		n += mnt_count_subtree(container_of(l, struct uvfs_mount, m_sibling));
	return n;
}

/* Disconnect m and everything below it. mount_lock held, inside mount_seq. */
static void umount_tree_locked(struct uvfs *vfs, struct uvfs_mount *m, struct drop_list *dl)
{
	while (!list_empty(&m->m_children))
		umount_tree_locked(vfs, container_of(m->m_children.next, struct uvfs_mount, m_sibling), dl);
	atomic_fetch_or(&m->m_refs, MNT_REF_UMOUNTED);
	if (!m->m_connected)
		return;
	mnt_hash_remove(vfs, m);
	list_del_init(&m->m_sibling);
	atomic_fetch_sub(&m->m_point->d_mounted, 1);
	dl->dentries[dl->nd++] = m->m_point;
	dl->mounts[dl->nm++] = m->m_parent;
	dl->mounts[dl->nm++] = m; /* the VFS's "connected" reference */
	rcu_store(m->m_parent, NULL);
	rcu_store(m->m_point, NULL);
	m->m_ns = NULL;
	m->m_connected = false;
}

UVFS_API void uvfs_mntns_put(struct uvfs_mntns *ns)
{
	if (atomic_fetch_sub(&ns->ns_refs, 1) != 1)
		return;
	struct uvfs *vfs = ns->ns_vfs;
	rcu_enter();
	struct drop_list dl = { 0 };
	pthread_mutex_lock(&vfs->mount_lock);
	size_t n = mnt_count_subtree(ns->ns_root);
	/* If this allocation fails the namespace leaks, which the live
	 * counters then report: better than a half-torn tree. */
	if (drops_reserve(&dl, 2 * n + 2) == 0) {
		uvfs_seq_write_begin(&vfs->mount_seq);
		umount_tree_locked(vfs, ns->ns_root, &dl);
		uvfs_seq_write_end(&vfs->mount_seq);
	}
	pthread_mutex_unlock(&vfs->mount_lock);
	drops_run(&dl);
	uvfs_mount_put(ns->ns_root);
	LIVE_DEC(vfs, mntns);
	free(ns);
}

UVFS_API int uvfs_umount_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *target,
			    int flags)
{
	rcu_enter();
	if (flags & ~(UVFS_UMOUNT_DETACH | 1 /* MNT_FORCE: accepted, nothing to force */))
		return -EINVAL;
	if (!uvfs_cred_has_cap(cred, CAP_SYS_ADMIN_NR))
		return -EPERM;
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(vfs, cred, target, 0, &vd);
	if (err)
		return err;
	struct uvfs_mount *m = vd.mount, *parent = NULL;
	struct uvfs_dentry *point = NULL;
	struct drop_list dl = { 0 };
	/* Caches of subscribers (the FUSE export's kernel nodes) hold
	 * references the busy check would count: they drop them first. */
	if (!(flags & UVFS_UMOUNT_DETACH) && vd.dentry == m->m_root)
		watch_umount(vfs, m);
	pthread_mutex_lock(&vfs->mount_lock);
	if (vd.dentry != m->m_root || !m->m_connected) {
		err = -EINVAL; /* not a mount root, or the namespace root */
		goto out;
	}
	if (!(flags & UVFS_UMOUNT_DETACH)) {
		/* Busy: submounts, or references beyond the VFS's and ours. */
		long refs = atomic_load(&m->m_refs) & ~MNT_REF_UMOUNTED;
		if (!list_empty(&m->m_children) || refs > 2) {
			err = -EBUSY;
			goto out;
		}
	}
	if ((err = drops_reserve(&dl, 2 * mnt_count_subtree(m) + 2)))
		goto out;
	/* The drop list keeps both referenced until drops_run. */
	parent = m->m_parent;
	point = m->m_point;
	uvfs_seq_write_begin(&vfs->mount_seq);
	umount_tree_locked(vfs, m, &dl);
	uvfs_seq_write_end(&vfs->mount_seq);
out:
	pthread_mutex_unlock(&vfs->mount_lock);
	if (point)
		watch_mount(vfs, UVFS_WATCH_UMOUNT, parent, point, point->d_inode);
	uvfs_vd_put(&vd);
	drops_run(&dl);
	return err;
}

/* ------------------------------------------------------------- connect */

/* Lock the directory containing d (in its filesystem) so d cannot be
 * deleted or renamed while it becomes a mountpoint. Returns the locked
 * parent's inode, or NULL for a filesystem root. */
static struct uvfs_inode *lock_parent_of(struct uvfs_dentry *d, struct uvfs_dentry **pp)
{
	for (;;) {
		/* d_parent may be renamed away and freed at any moment: read
		 * it under RCU and take a reference only if it is still live
		 * (as ref-walk ".." does). */
		rcu_read_lock();
		struct uvfs_dentry *p = rcu_load(d->d_parent);
		bool got = p != d && d_tryget(p);
		rcu_read_unlock();
		if (p == d) {
			*pp = NULL;
			return NULL;
		}
		if (!got)
			continue; /* d was moved: its parent changed */
		struct uvfs_inode *pi = p->d_inode;
		uvfs_lock_acquire(&pi->i_lock);
		if (rcu_load(d->d_parent) == p) {
			*pp = p;
			return pi;
		}
		uvfs_lock_release(&pi->i_lock);
		uvfs_dentry_put(p);
	}
}

/* Connect mnt at (parent, point). mount_lock held, inside mount_seq. */
static void mnt_attach_locked(struct uvfs *vfs, struct uvfs_mount *mnt, struct uvfs_mount *parent,
			      struct uvfs_dentry *point)
{
	uvfs_mount_get(parent);
	uvfs_dentry_get(point);
	mnt->m_parent = parent;
	mnt->m_point = point;
	mnt->m_ns = parent->m_ns;
	mnt->m_connected = true;
	uvfs_mount_get(mnt); /* the VFS's reference on a connected mount */
	list_add_tail(&mnt->m_sibling, &parent->m_children);
	atomic_fetch_add(&point->d_mounted, 1);
	mnt_hash_insert(vfs, mnt);
}

/* Connect mnt on top of whatever is mounted at (parent, point) already. */
static void mnt_attach_top_locked(struct uvfs *vfs, struct uvfs_mount *mnt, struct uvfs_mount *parent,
				  struct uvfs_dentry *point)
{
	struct uvfs_mount *c;
	while ((c = mnt_lookup_rcu(vfs, parent, point))) {
		parent = c;
		point = c->m_root;
	}
	mnt_attach_locked(vfs, mnt, parent, point);
}

UVFS_API int uvfs_connect_mount_at(struct uvfs *vfs, const struct uvfs_cred *cred, struct uvfs_mount *mnt,
				   const struct uvfs_pathop *target)
{
	rcu_enter();
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(vfs, cred, target, 0, &vd);
	if (err)
		return err;
	struct uvfs_dentry *parent;
	struct uvfs_inode *pi = lock_parent_of(vd.dentry, &parent);
	pthread_mutex_lock(&vfs->mount_lock);
	if (mnt->m_connected || (atomic_load(&mnt->m_refs) & MNT_REF_UMOUNTED) || mnt->m_ns) {
		err = -EINVAL;
		goto out;
	}
	if ((atomic_load(&vd.dentry->d_flags) & DF_DEAD) ||
	    (atomic_load(&vd.mount->m_refs) & MNT_REF_UMOUNTED)) {
		err = -ENOENT;
		goto out;
	}
	uvfs_seq_write_begin(&vfs->mount_seq);
	mnt_attach_top_locked(vfs, mnt, vd.mount, vd.dentry);
	uvfs_seq_write_end(&vfs->mount_seq);
out:
	pthread_mutex_unlock(&vfs->mount_lock);
	if (pi) {
		uvfs_lock_release(&pi->i_lock);
		uvfs_dentry_put(parent);
	}
	if (!err)
		watch_mount(vfs, UVFS_WATCH_MOUNT, vd.mount, vd.dentry, mnt->m_root->d_inode);
	uvfs_vd_put(&vd);
	return err;
}

UVFS_API int uvfs_mount_at(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
			   const struct uvfs_pathop *target, const char *fstype, const struct uvfs_mount_opts *opts)
{
	struct uvfs_mount *m;
	int err = uvfs_mount_disconnected(vfs, cred, source, fstype, opts, &m);
	if (err)
		return err;
	err = uvfs_connect_mount_at(vfs, cred, m, target);
	uvfs_mount_put(m);
	return err;
}

UVFS_API int uvfs_make_synthetic_mountpoint(struct uvfs *vfs, const struct uvfs_cred *cred, const char *path,
					    const struct uvfs_vd *root)
{
	size_t len = strlen(path);
	if (len == 0 || path[0] != '/')
		return -EINVAL;
	char *buf = strdup(path);
	if (!buf)
		return -ENOMEM;
	int err = 0;
	struct uvfs_pathop pop = { .root = *root, .start = *root, .path = buf };
	/* Create each prefix in turn; existing ones are fine. Mode 0755: gVisor
	 * used 0777 here, which left world-writable directories behind. */
	for (size_t i = 1; i <= len; i++) {
		if (i < len && buf[i] != '/')
			continue;
		if (i < len && buf[i - 1] == '/')
			continue;
		char saved = buf[i];
		buf[i] = 0;
		err = uvfs_mkdir_at2(vfs, cred, &pop, 0755, &(struct uvfs_create_opts){ .flags = UVFS_MKDIR_SYNTHETIC });
		buf[i] = saved;
		if (err == -EEXIST)
			err = 0;
		if (err)
			break;
	}
	free(buf);
	return err;
}

/* ---------------------------------------------------------------- bind */

struct bind_item {
	struct uvfs_mount *orig, *copy;
	size_t parent; /* index of the item whose copy this one's copy mounts on */
};

/* Clone from's subtree (mount_lock held): items[0] is the copy of from
 * rooted at root; with rec, each mount below follows its parent, those
 * directly on from only if their mountpoint lies under root (Linux
 * copy_tree). Returns the item count or -ENOMEM (copies made so far are in
 * items[0..*made) for the caller to put). */
static ssize_t bind_copy_locked(struct uvfs *vfs, struct uvfs_mount *from, struct uvfs_dentry *root, bool rec,
				struct bind_item *items, size_t cap, size_t *made)
{
	size_t n = 0;
	*made = 0;
	int err = mnt_alloc(vfs, from->m_fs, root, from->m_source, uvfs_mount_flags(from), &items[0].copy);
	if (err)
		return err;
	items[0].orig = from;
	*made = n = 1;
	for (size_t i = 0; rec && i < n; i++) {
		struct uvfs_mount *m = items[i].orig;
		for (struct list_head *l = m->m_children.next; l != &m->m_children; l = l->next) {
			struct uvfs_mount *c = container_of(l, struct uvfs_mount, m_sibling);
			if (i == 0) {
				rcu_read_lock(); /* d_parent chain */
				bool under = d_is_ancestor(root, c->m_point);
				rcu_read_unlock();
				if (!under)
					continue;
			}
			if (n == cap)
				return -ENOMEM; /* cannot happen: cap counts the subtree */
			err = mnt_alloc(vfs, c->m_fs, c->m_root, c->m_source, uvfs_mount_flags(c), &items[n].copy);
			if (err)
				return err;
			items[n].orig = c;
			items[n].parent = i;
			*made = ++n;
		}
	}
	return (ssize_t)n;
}

UVFS_API int uvfs_bind_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *src,
			  const struct uvfs_pathop *dst, unsigned flags)
{
	rcu_enter();
	if (flags & ~UVFS_BIND_REC)
		return -EINVAL;
	if (!uvfs_cred_has_cap(cred, CAP_SYS_ADMIN_NR))
		return -EPERM;
	struct uvfs_vd from, to;
	int err = uvfs_get_dentry_at(vfs, cred, src, 0, &from);
	if (err)
		return err;
	if ((err = uvfs_get_dentry_at(vfs, cred, dst, 0, &to))) {
		uvfs_vd_put(&from);
		return err;
	}
	struct uvfs_dentry *parent;
	struct uvfs_inode *pi = lock_parent_of(to.dentry, &parent);
	struct bind_item *items = NULL;
	struct uvfs_inode *bound = NULL;
	size_t made = 0;
	pthread_mutex_lock(&vfs->mount_lock);
	if ((atomic_load(&to.dentry->d_flags) & DF_DEAD) || !to.mount->m_ns) {
		err = -ENOENT;
		goto out;
	}
	if (!from.mount->m_ns || from.mount->m_ns != to.mount->m_ns) {
		err = -EINVAL; /* Linux check_mnt: both in the caller's namespace */
		goto out;
	}
	if (d_is_dir(from.dentry) != d_is_dir(to.dentry)) {
		err = -ENOTDIR; /* Linux graft_tree */
		goto out;
	}
	size_t cap = (flags & UVFS_BIND_REC) ? mnt_count_subtree(from.mount) : 1;
	if (!(items = calloc(cap, sizeof(*items)))) {
		err = -ENOMEM;
		goto out;
	}
	/* Copy everything before attaching anything, so a bind of a tree
	 * onto a point inside itself does not copy its own copy. */
	ssize_t n = bind_copy_locked(vfs, from.mount, from.dentry, flags & UVFS_BIND_REC, items, cap, &made);
	if (n < 0) {
		err = (int)n;
		goto out;
	}
	bound = items[0].copy->m_root->d_inode;
	uvfs_seq_write_begin(&vfs->mount_seq);
	mnt_attach_top_locked(vfs, items[0].copy, to.mount, to.dentry);
	for (ssize_t i = 1; i < n; i++)
		mnt_attach_locked(vfs, items[i].copy, items[items[i].parent].copy, items[i].orig->m_point);
	uvfs_seq_write_end(&vfs->mount_seq);
out:
	pthread_mutex_unlock(&vfs->mount_lock);
	if (pi) {
		uvfs_lock_release(&pi->i_lock);
		uvfs_dentry_put(parent);
	}
	if (!err)
		watch_mount(vfs, UVFS_WATCH_MOUNT, to.mount, to.dentry, bound);
	/* Connected copies hold the VFS's reference; failed ones die here. */
	for (size_t i = 0; i < made; i++)
		uvfs_mount_put(items[i].copy);
	free(items);
	uvfs_vd_put(&to);
	uvfs_vd_put(&from);
	return err;
}

/* ---------------------------------------------------------------- move */

UVFS_API int uvfs_move_mount_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *from,
				const struct uvfs_pathop *to)
{
	rcu_enter();
	if (!uvfs_cred_has_cap(cred, CAP_SYS_ADMIN_NR))
		return -EPERM;
	/* Linux looks the target up first (do_mount), then the source. */
	struct uvfs_vd old, dst;
	int err = uvfs_get_dentry_at(vfs, cred, to, 0, &dst);
	if (err)
		return err;
	if ((err = uvfs_get_dentry_at(vfs, cred, from, 0, &old))) {
		uvfs_vd_put(&dst);
		return err;
	}
	struct uvfs_mount *m = old.mount, *p = dst.mount, *oparent = NULL;
	struct uvfs_dentry *point = dst.dentry, *opoint = NULL, *parent;
	struct drop_list dl = { 0 };
	struct uvfs_inode *pi = lock_parent_of(dst.dentry, &parent);
	pthread_mutex_lock(&vfs->mount_lock);
	if ((atomic_load(&dst.dentry->d_flags) & DF_DEAD) || (atomic_load(&p->m_refs) & MNT_REF_UMOUNTED)) {
		err = -ENOENT; /* Linux lock_mount: cant_mount / unlinked */
		goto out;
	}
	/* The place it goes: on top of whatever is mounted there now. */
	for (struct uvfs_mount *c; (c = mnt_lookup_rcu(vfs, p, point));) {
		p = c;
		point = c->m_root;
	}
	/* Linux do_move_mount's checks, in its order (no propagation here). */
	if (!p->m_ns || p->m_ns != m->m_ns || !m->m_connected || old.dentry != m->m_root ||
	    d_is_dir(dst.dentry) != d_is_dir(old.dentry)) {
		err = -EINVAL;
		goto out;
	}
	for (struct uvfs_mount *q = p; q; q = q->m_connected ? q->m_parent : NULL)
		if (q == m) {
			err = -ELOOP; /* into its own tree */
			goto out;
		}
	if ((err = drops_reserve(&dl, 1)))
		goto out;
	oparent = m->m_parent;
	opoint = m->m_point;
	/* The old parent and point keep their references (dropped after
	 * unlock, reported first); the mount keeps the VFS's reference, its
	 * children and its namespace. */
	dl.mounts[dl.nm++] = oparent;
	dl.dentries[dl.nd++] = opoint;
	uvfs_seq_write_begin(&vfs->mount_seq);
	mnt_hash_remove(vfs, m);
	list_del_init(&m->m_sibling);
	atomic_fetch_sub(&opoint->d_mounted, 1);
	uvfs_mount_get(p);
	uvfs_dentry_get(point);
	rcu_store(m->m_parent, p);
	rcu_store(m->m_point, point);
	list_add_tail(&m->m_sibling, &p->m_children);
	atomic_fetch_add(&point->d_mounted, 1);
	mnt_hash_insert(vfs, m);
	uvfs_seq_write_end(&vfs->mount_seq);
out:
	pthread_mutex_unlock(&vfs->mount_lock);
	if (pi) {
		uvfs_lock_release(&pi->i_lock);
		uvfs_dentry_put(parent);
	}
	if (!err) {
		watch_mount(vfs, UVFS_WATCH_UMOUNT, oparent, opoint, opoint->d_inode);
		watch_mount(vfs, UVFS_WATCH_MOUNT, dst.mount, dst.dentry, m->m_root->d_inode);
	}
	drops_run(&dl);
	uvfs_vd_put(&old);
	uvfs_vd_put(&dst);
	return err;
}

/* ------------------------------------------------------------- remount */

#define MNT_USER_FLAGS (UVFS_MNT_RDONLY | UVFS_MNT_NOEXEC | UVFS_MNT_NOATIME | UVFS_MNT_NODEV | UVFS_MNT_NOSUID)

static bool mnt_has_writers(struct uvfs_mount *m)
{
	return (atomic_load(&m->m_writers) & ~MNT_WRITERS_RO) != 0;
}

/* Any writer on a mount of fs (mount_lock held): every connected mount is
 * in the mount table, a namespace root is the parent of its children or
 * extra's namespace root. A lazily detached mount of fs still open for
 * writing is not seen (its files keep writing; new writes fail). */
static bool fs_has_writers_locked(struct uvfs *vfs, struct uvfs_filesystem *fs, struct uvfs_mount *extra)
{
	if ((extra->m_fs == fs && mnt_has_writers(extra)) ||
	    (extra->m_ns && extra->m_ns->ns_root->m_fs == fs && mnt_has_writers(extra->m_ns->ns_root)))
		return true;
	for (unsigned b = 0; b < MOUNT_BUCKETS; b++)
		for (struct uvfs_mount *m = vfs->mount_hash[b]; m; m = m->m_hash_next)
			if ((m->m_fs == fs && mnt_has_writers(m)) ||
			    (m->m_parent->m_fs == fs && !m->m_parent->m_connected && mnt_has_writers(m->m_parent)))
				return true;
	return false;
}

/* Linux set_mount_attributes (mount_lock held); ro is set by the caller. */
static void mnt_set_flags_locked(struct uvfs_mount *m, unsigned flags, unsigned rflags)
{
	if (rflags & UVFS_REMOUNT_KEEP_ATIME)
		flags = (flags & ~UVFS_MNT_NOATIME) | (atomic_load(&m->m_flags) & UVFS_MNT_NOATIME);
	atomic_store(&m->m_flags, flags & ~UVFS_MNT_RDONLY);
	if (!(flags & UVFS_MNT_RDONLY))
		atomic_fetch_and(&m->m_writers, ~MNT_WRITERS_RO);
}

/* The target of a remount is a mount root of a live mount (Linux
 * check_mnt + path_mounted); mount_lock held. */
static int remount_target_locked(const struct uvfs_vd *vd)
{
	struct uvfs_mount *m = vd->mount;
	if (vd->dentry != m->m_root || !m->m_ns || (atomic_load(&m->m_refs) & MNT_REF_UMOUNTED))
		return -EINVAL;
	return 0;
}

UVFS_API int uvfs_remount_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *target,
			     unsigned mnt_flags, const char *data, unsigned flags)
{
	rcu_enter();
	if ((flags & ~(UVFS_REMOUNT_BIND | UVFS_REMOUNT_KEEP_ATIME)) || (mnt_flags & ~MNT_USER_FLAGS))
		return -EINVAL;
	if (!uvfs_cred_has_cap(cred, CAP_SYS_ADMIN_NR))
		return -EPERM;
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(vfs, cred, target, 0, &vd);
	if (err)
		return err;
	struct uvfs_mount *m = vd.mount;
	struct uvfs_filesystem *fs = m->m_fs;
	bool ro = mnt_flags & UVFS_MNT_RDONLY, fs_ro;
	char *rest = NULL;
	if (flags & UVFS_REMOUNT_BIND) { /* Linux do_reconfigure_mnt */
		pthread_mutex_lock(&vfs->mount_lock);
		if (!(err = remount_target_locked(&vd))) {
			long zero = 0;
			if (ro && !mnt_ro_flag(m) && !uvfs_fs_readonly(fs) &&
			    !atomic_compare_exchange_strong(&m->m_writers, &zero, MNT_WRITERS_RO))
				err = -EBUSY; /* mnt_make_readonly: writers */
			else if (ro)
				atomic_fetch_or(&m->m_writers, MNT_WRITERS_RO);
			if (!err)
				mnt_set_flags_locked(m, mnt_flags, flags);
		}
		pthread_mutex_unlock(&vfs->mount_lock);
		uvfs_vd_put(&vd);
		return err;
	}
	/* Linux do_remount: the filesystem first (reconfigure_super), then
	 * the mount's flags. The fs's read-only state is MS_RDONLY's unless
	 * the data says "ro" or "rw". */
	pthread_mutex_lock(&vfs->mount_lock);
	err = remount_target_locked(&vd);
	pthread_mutex_unlock(&vfs->mount_lock);
	int word;
	if (err || (err = sb_flag_words(data, &rest, &word)))
		goto out;
	fs_ro = word >= 0 ? word : ro;
	uvfs_lock_acquire(&fs->remount_lock);
	bool was_ro = uvfs_fs_readonly(fs), made_ro = false;
	if (fs_ro && !was_ro) { /* sb_prepare_remount_readonly */
		pthread_mutex_lock(&vfs->mount_lock);
		atomic_fetch_or_explicit(&fs->sb_flags, UVFS_MNT_RDONLY, memory_order_seq_cst);
		if (fs_has_writers_locked(vfs, fs, m)) {
			atomic_fetch_and(&fs->sb_flags, ~UVFS_MNT_RDONLY);
			err = -EBUSY;
		}
		pthread_mutex_unlock(&vfs->mount_lock);
		made_ro = !err;
	}
	if (!err) {
		if (fs->ops->remount)
			err = fs->ops->remount(fs, fs_ro ? UVFS_MNT_RDONLY : 0, rest);
		else if (rest && *rest)
			err = -EINVAL;
	}
	pthread_mutex_lock(&vfs->mount_lock);
	if (err && made_ro)
		atomic_fetch_and(&fs->sb_flags, ~UVFS_MNT_RDONLY);
	if (!err) {
		if (!fs_ro)
			atomic_fetch_and(&fs->sb_flags, ~UVFS_MNT_RDONLY);
		/* Linux sets the mount's flag without waiting for its writers:
		 * the files open for writing keep writing, new writers fail. */
		if (ro)
			atomic_fetch_or(&m->m_writers, MNT_WRITERS_RO);
		mnt_set_flags_locked(m, mnt_flags, flags);
	}
	pthread_mutex_unlock(&vfs->mount_lock);
	uvfs_lock_release(&fs->remount_lock);
out:
	free(rest);
	uvfs_vd_put(&vd);
	return err;
}
