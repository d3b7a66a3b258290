/* vfs/namei.c — path resolution.
 *
 * Outline (Linux's three tries, gVisor's semantics):
 *  1. RCU-walk: inside rcu_read_lock, no lock, no reference, no
 *     allocation. Per component: check search permission from the cached
 *     inode, probe the dcache, cross mounts through the mount table,
 *     handle "." / ".." / symlinks (i_link) in place. The walk samples
 *     vfs->rename_seq and vfs->mount_seq first and validates them before it
 *     trusts any result, including errors. Anything it cannot do without
 *     blocking (a cache miss in a directory that is not UVFS_I_COMPLETE,
 *     a revalidate op that answers anything but 0 under UVFS_LOOKUP_RCU, a
 *     filesystem that did not opt in, a symlink without i_link) returns
 *     -ECHILD.
 *  2. ref-walk: the same loop holding a reference on the current
 *     position, revalidating cached dentries (invalid ones are dropped) and
 *     calling ->lookup under the directory's i_lock on misses.
 *  3. a ref-walk that ends in -ESTALE is retried with UVFS_LOOKUP_REVAL,
 *     so the filesystem revalidates everything (once; a stat up to
 *     STAT_ESTALE_TRIES times).
 * -ECHILD never leaves this file.
 * Jump links (an S_IFLNK inode with ->get_link: /proc/self/fd/N) replace
 * the position with the vd the op returns (nd_jump_link), in ref-walk
 * only. A filesystem's ->permission is asked in both walks (RCU: with
 * UVFS_MAY_NOT_BLOCK); the fast loop's inline mode-bit check is only for
 * inodes without one.
 * openat2 resolve flags (UVFS_RESOLVE_*) ride in nd->flags (ND_NO_XDEV ...):
 * checked where Linux checks them (follow_mounts, "..", absolute links,
 * link following); RESOLVE_CACHED turns the ref-walk fallback into -EAGAIN.
 *
 * Locks: ref-walk takes a directory's i_lock only around ->lookup.
 */
#include <stdio.h>

#include "internal.h"

/* Revalidating retries of a stat that met -ESTALE (see uvfs_stat_at). */
#define STAT_ESTALE_TRIES 3

/* ------------------------------------------------------------ walker */

/* Move to (m, d): in ref mode takes references on the new position
 * (the caller passes already-referenced ones via `owned`). */
static inline void nd_set(struct nameidata *nd, struct uvfs_mount *m, struct uvfs_dentry *d)
{
	if (!(nd->flags & ND_RCU)) {
		struct uvfs_vd old = nd->cur;
		nd->cur.mount = m;
		nd->cur.dentry = d;
		uvfs_vd_get(&nd->cur);
		uvfs_vd_put(&old);
	} else {
		nd->cur.mount = m;
		nd->cur.dentry = d;
	}
}

/* Ref mode: cross every mount stacked on *vd (references held, replaced).
 * The one mount crossing of ref-walk, also used by O_CREAT opens (file.c)
 * on the dentry they found or made. ndflags: ND_NO_XDEV makes a crossing
 * -EXDEV (vd keeps its references). */
HIDDEN int follow_mounts_ref(struct uvfs *vfs, struct uvfs_vd *vd, unsigned ndflags)
{
	while (atomic_load_explicit(&vd->dentry->d_mounted, memory_order_acquire)) {
		struct uvfs_mount *m;
		for (;;) {
			rcu_read_lock();
			m = mnt_lookup_rcu(vfs, vd->mount, vd->dentry);
			bool ok = !m || mnt_tryget(m);
			rcu_read_unlock();
			if (ok)
				break;
			/* Being umounted: it leaves the table momentarily. */
			sched_yield();
		}
		if (!m)
			return 0;
		if (ndflags & ND_NO_XDEV) {
			uvfs_mount_put(m);
			return -EXDEV;
		}
		struct uvfs_vd old = *vd;
		vd->mount = m; /* reference from mnt_tryget */
		vd->dentry = m->m_root;
		uvfs_dentry_get(m->m_root);
		uvfs_vd_put(&old);
	}
	return 0;
}

/* Cross every mount stacked on nd->cur. */
static int follow_mounts(struct nameidata *nd)
{
	if (!(nd->flags & ND_RCU))
		return follow_mounts_ref(nd->vfs, &nd->cur, nd->flags);
	while (atomic_load_explicit(&nd->cur.dentry->d_mounted, memory_order_acquire)) {
		struct uvfs_mount *m = mnt_lookup_rcu(nd->vfs, nd->cur.mount, nd->cur.dentry);
		if (!m)
			return 0;
		if (nd->flags & ND_NO_XDEV)
			return -EXDEV;
		nd->cur.mount = m;
		nd->cur.dentry = m->m_root;
	}
	return 0;
}

/* Linux path_connected(): on a mount whose root is not its filesystem's
 * root (a bind mount), a dentry renamed out of the bound subtree must not
 * lead ".." above the mount's root, which it would never meet. Caller in an
 * RCU read section; RCU-walk validates with rename_seq at the end, ref-walk
 * re-checks rename_seq here. */
static bool path_connected(const struct uvfs_mount *m, const struct uvfs_dentry *d)
{
	const struct uvfs_dentry *r = m->m_root;
	if (atomic_load_explicit(&((struct uvfs_dentry *)r)->d_flags, memory_order_relaxed) & DF_ROOT)
		return true;
	return d_is_ancestor(r, d);
}

static bool path_connected_ref(struct uvfs *vfs, const struct uvfs_mount *m, const struct uvfs_dentry *d)
{
	for (;;) {
		rcu_read_lock();
		uint32_t seq = uvfs_seq_read_begin(&vfs->rename_seq);
		bool ok = path_connected(m, d);
		bool again = uvfs_seq_read_retry(&vfs->rename_seq, seq);
		rcu_read_unlock();
		if (!again)
			return ok;
	}
}

static int step_dotdot(struct nameidata *nd);

/* Scoped lookups (Linux LOOKUP_IS_SCOPED): a rename or mount since the walk
 * started may have let ".." jump out of the root; the caller retries. */
static int dotdot_scoped_check(struct nameidata *nd)
{
	if (uvfs_seq_read_retry(&nd->vfs->rename_seq, nd->rseq) || uvfs_seq_read_retry(&nd->vfs->mount_seq, nd->mseq))
		return (nd->flags & ND_RCU) ? -ECHILD : -EAGAIN;
	return 0;
}

static int handle_dotdot(struct nameidata *nd)
{
	int err = step_dotdot(nd);
	if (!err && (nd->flags & ND_SCOPED))
		err = dotdot_scoped_check(nd);
	return err;
}

static int step_dotdot(struct nameidata *nd)
{
	for (;;) {
		if (nd->cur.dentry == nd->root.dentry && nd->cur.mount == nd->root.mount)
			return (nd->flags & ND_BENEATH) ? -EXDEV : 0;
		struct uvfs_mount *m = nd->cur.mount;
		if (nd->cur.dentry == m->m_root) {
			/* Mount root: continue from the mountpoint in the parent. */
			if (nd->flags & ND_RCU) {
				struct uvfs_mount *p = rcu_load(m->m_parent);
				struct uvfs_dentry *pt = rcu_load(m->m_point);
				if (!p || !pt)
					return 0;
				if (nd->flags & ND_NO_XDEV)
					return -EXDEV;
				nd->cur.mount = p;
				nd->cur.dentry = pt;
				continue;
			}
			struct uvfs_mount *p = NULL;
			struct uvfs_dentry *pt = NULL;
			pthread_mutex_lock(&nd->vfs->mount_lock);
			if (m->m_connected) {
				p = m->m_parent;
				pt = m->m_point;
				uvfs_mount_get(p);
				uvfs_dentry_get(pt);
			}
			pthread_mutex_unlock(&nd->vfs->mount_lock);
			if (!p)
				return 0;
			struct uvfs_vd old = nd->cur;
			nd->cur.mount = p;
			nd->cur.dentry = pt;
			uvfs_vd_put(&old);
			if (nd->flags & ND_NO_XDEV)
				return -EXDEV;
			continue;
		}
		struct uvfs_dentry *d = nd->cur.dentry;
		if (nd->flags & ND_RCU) {
			nd->cur.dentry = rcu_load(d->d_parent);
			/* Disconnected: let ref-walk decide (and say ENOENT). */
			if (unlikely(!path_connected(m, nd->cur.dentry)))
				return -ECHILD;
		} else {
			struct uvfs_dentry *p;
			for (;;) {
				rcu_read_lock();
				p = rcu_load(d->d_parent);
				bool ok = d_tryget(p);
				rcu_read_unlock();
				if (ok)
					break;
			}
			nd->cur.dentry = p;
			uvfs_dentry_put(d);
			if (unlikely(!path_connected_ref(nd->vfs, m, p)))
				return -ENOENT;
		}
		break;
	}
	return follow_mounts(nd);
}

/* The cached child name of parent, revalidated when its ops ask for it:
 * 0 with a referenced *out, or *out NULL (not cached, or invalid and
 * dropped), or the -errno revalidate returned. */
static int d_lookup_valid(struct uvfs *vfs, struct uvfs_dentry *parent, const char *name, size_t len,
			  unsigned lflags, struct uvfs_dentry **out)
{
	struct uvfs_dentry *d = d_lookup(vfs, parent, name, len);
	*out = NULL;
	if (d && (atomic_load_explicit(&d->d_flags, memory_order_relaxed) & DF_REVAL)) {
		int r = d->d_op->revalidate(d, lflags);
		if (r < 0 && r != -ESTALE) {
			uvfs_dentry_put(d);
			return r;
		}
		/* Invalid: drop it and look again. A mountpoint cannot be
		 * dropped (-EBUSY) and stays in use, as in Linux. */
		if (r != 0 && uvfs_d_invalidate(d) == 0) {
			uvfs_dentry_put(d);
			d = NULL;
		}
	}
	*out = d;
	return 0;
}

static int lookup_locked(struct uvfs *vfs, struct uvfs_dentry *parent, const char *name, size_t len,
			 unsigned lflags, struct uvfs_dentry **out)
{
	struct uvfs_dentry *d;
	int err = d_lookup_valid(vfs, parent, name, len, lflags, &d);
	if (err || d) {
		*out = d;
		return err;
	}
	if ((err = d_alloc(parent, name, len, &d)))
		return err;
	struct uvfs_inode *dir = parent->d_inode;
	/* A complete directory's miss is final; so is one in a directory that
	 * was removed or invalidated (it has no children left). */
	if (!(load_relaxed(dir->i_flags) & UVFS_I_COMPLETE) && dir->i_op->lookup &&
	    !(atomic_load(&parent->d_flags) & DF_DEAD)) {
		err = dir->i_op->lookup(dir, d);
		if (err) {
			uvfs_dentry_put(d);
			return err;
		}
		/* Cache the answer (positive or negative) for the next walk;
		 * linked so that invalidation and teardown find it. */
		if (!(atomic_load(&d->d_flags) & DF_HASHED))
			d_hash_insert(vfs, d);
		if (!(atomic_load(&d->d_flags) & DF_LINKED))
			d_link_child(d);
	}
	*out = d;
	return 0;
}

HIDDEN int lookup_one_locked(struct uvfs *vfs, struct uvfs_dentry *parent, const char *name, size_t len,
			     struct uvfs_dentry **out)
{
	return lookup_locked(vfs, parent, name, len, 0, out);
}

static int lookup_one_flags(struct uvfs *vfs, struct uvfs_dentry *parent, const char *name, size_t len,
			    unsigned lflags, struct uvfs_dentry **out)
{
	struct uvfs_dentry *d;
	int err = d_lookup_valid(vfs, parent, name, len, lflags, &d);
	if (err)
		return err;
	struct uvfs_inode *dir = parent->d_inode;
	if (d || (load_relaxed(dir->i_flags) & UVFS_I_COMPLETE)) {
		*out = d;
		return d ? 0 : -ENOENT;
	}
	uvfs_lock_acquire(&dir->i_lock);
	err = lookup_locked(vfs, parent, name, len, lflags, &d);
	uvfs_lock_release(&dir->i_lock);
	if (!err)
		*out = d;
	return err;
}

/* Search permission on a directory of the walk. */
static inline int may_lookup(struct nameidata *nd, struct uvfs_inode *dir)
{
	if (nd->flags & ND_RCU)
		return inode_permission_rcu(nd->cred, dir, MAY_EXEC);
	return inode_permission(nd->cred, dir, MAY_EXEC);
}

HIDDEN int lookup_one(struct uvfs *vfs, struct uvfs_dentry *parent, const char *name, size_t len,
		      struct uvfs_dentry **out)
{
	return lookup_one_flags(vfs, parent, name, len, 0, out);
}

/* Look name up in nd->cur and make it the current position (following
 * nothing). Returns 0, -ENOENT, -ECHILD (RCU: cannot continue) or -errno. */
static int walk_component(struct nameidata *nd, const char *name, size_t len, struct uvfs_dentry **childp)
{
	struct uvfs_dentry *parent = nd->cur.dentry;
	if (nd->flags & ND_RCU) {
		struct uvfs_dentry *c = d_lookup_rcu(nd->vfs, parent, name, len, d_hash_name(parent, name, len));
		if (!c) {
			struct uvfs_inode *dir = rcu_load(parent->d_inode);
			return (load_relaxed(dir->i_flags) & UVFS_I_COMPLETE) ? -ENOENT : -ECHILD;
		}
		/* A valid cached answer keeps the walk in RCU mode; anything
		 * else is decided again in ref-walk. */
		if ((atomic_load_explicit(&c->d_flags, memory_order_relaxed) & DF_REVAL) &&
		    c->d_op->revalidate(c, UVFS_LOOKUP_RCU) != 0)
			return -ECHILD;
		if (!rcu_load(c->d_inode))
			return -ENOENT;
		*childp = c;
		return 0;
	}
	struct uvfs_dentry *c;
	int err = lookup_one_flags(nd->vfs, parent, name, len, (nd->flags & ND_REVAL) ? UVFS_LOOKUP_REVAL : 0, &c);
	if (err)
		return err;
	if (!c->d_inode) {
		uvfs_dentry_put(c);
		return -ENOENT;
	}
	*childp = c;
	return 0;
}

/* Push a symlink body. The top stack entry is replaced when it is used up,
 * so every entry below the top always has components left. */
static int push_link(struct nameidata *nd, const char *body)
{
	if (++nd->nlinks > UVFS_MAXSYMLINKS)
		return -ELOOP;
	if (!body[0])
		return -ENOENT;
	const char *top = nd->stack[nd->depth - 1];
	while (*top == '/')
		top++;
	if (*top == 0)
		nd->stack[nd->depth - 1] = body;
	else if (nd->depth < ND_MAX_STACK)
		nd->stack[nd->depth++] = body;
	else
		return -ELOOP;
	if (body[0] == '/') {
		/* Absolute target: restart at the root (Linux nd_jump_root). */
		if (nd->flags & ND_BENEATH)
			return -EXDEV;
		if ((nd->flags & ND_NO_XDEV) && nd->cur.mount != nd->root.mount)
			return -EXDEV;
		if (nd->flags & ND_RCU) {
			nd->cur = nd->root;
		} else {
			nd_set(nd, nd->root.mount, nd->root.dentry);
		}
	}
	return 0;
}

static int get_link(struct nameidata *nd, struct uvfs_dentry *link, const char **body)
{
	struct uvfs_inode *inode = rcu_load(link->d_inode);
	const char *l = rcu_load(inode->i_link);
	if (l && (nd->flags & ND_RCU)) {
		/* i_link is freed only after a grace period (free_inode). */
		*body = l;
		return 0;
	}
	if (nd->flags & ND_RCU)
		return -ECHILD;
	if (!l && !inode->i_op->readlink)
		return -EINVAL;
	if (nd->nbufs >= ND_MAX_STACK)
		return -ELOOP;
	/* Ref mode copies the body: the link's reference is dropped before
	 * the body is walked. */
	char *buf = malloc(4096);
	if (!buf)
		return -ENOMEM;
	ssize_t n;
	if (l) {
		n = (ssize_t)strnlen(l, 4095);
		memcpy(buf, l, (size_t)n);
	} else {
		n = inode->i_op->readlink(link, buf, 4095);
	}
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	buf[n] = 0;
	nd->bufs[nd->nbufs++] = buf;
	*body = buf;
	return 0;
}

/* Follow jump link `link` (ref mode; Linux nd_jump_link): the current
 * position becomes the vd its ->get_link returns. No body is pushed, so
 * what follows the link in the path continues from there. */
static int nd_jump_link(struct nameidata *nd, struct uvfs_dentry *link)
{
	if (nd->flags & (ND_NO_SYMLINKS | UVFS_RESOLVE_NO_MAGICLINKS))
		return -ELOOP;
	if (++nd->nlinks > UVFS_MAXSYMLINKS)
		return -ELOOP;
	struct uvfs_vd vd = { 0 };
	int err = link->d_inode->i_op->get_link(link, &vd);
	if (err)
		return err;
	if (!vd.mount || !vd.dentry)
		err = -EIO; /* a broken ->get_link: never a NULL position */
	else if ((nd->flags & ND_NO_XDEV) && vd.mount != nd->cur.mount)
		err = -EXDEV;
	else if (nd->flags & ND_SCOPED)
		err = -EXDEV; /* Linux: not safe for scoped lookups */
	if (err) {
		uvfs_vd_put(&vd); /* NULL members are skipped */
		return err;
	}
	struct uvfs_vd old = nd->cur;
	nd->cur = vd; /* the op's references */
	uvfs_vd_put(&old);
	return 0;
}

/* One path component, for both walk loops: skips p's leading slashes and
 * returns the name there (the end of p, with *len 0, when only slashes
 * remain); *rest is the text after the name with its slashes skipped and
 * *trailing says whether a slash followed the name. Inlined: it is on the
 * RCU fast path. */
static inline __attribute__((always_inline)) const char *next_component(const char *p, size_t *len,
									const char **rest, bool *trailing)
{
	while (*p == '/')
		p++;
	size_t n = 0;
	while (p[n] && p[n] != '/')
		n++;
	const char *r = p + n;
	*trailing = *r == '/';
	while (*r == '/')
		r++;
	*len = n;
	*rest = r;
	return p;
}

/* The walk loop shared by both modes. With once, it returns 1 after it has consumed one
 * component (so the RCU fast loop can take over again), 0 at the end of the
 * path, or -errno. */
static int walk_loop(struct nameidata *nd, enum walk_final final, bool once)
{
	for (;;) {
		size_t len;
		const char *rest;
		bool trailing;
		const char *name = next_component(nd->stack[nd->depth - 1], &len, &rest, &trailing);
		if (len == 0) {
			if (nd->depth == 1)
				return 0;
			nd->depth--;
			continue;
		}
		nd->stack[nd->depth - 1] = rest;
		bool last = *rest == 0 && nd->depth == 1;
		if (last && trailing)
			nd->flags |= ND_MUST_DIR;

		struct uvfs_inode *dir = rcu_load(nd->cur.dentry->d_inode);
		if (!S_ISDIR(load_relaxed(dir->i_mode)))
			return -ENOTDIR;
		bool dot = len == 1 && name[0] == '.';
		bool dotdot = len == 2 && name[0] == '.' && name[1] == '.';
		if (last && final == WALK_PARENT) {
			nd->last = name;
			nd->last_len = len;
			nd->last_dot = dot || dotdot;
			nd->trailing_slash = trailing;
			/* Search permission on the parent is still needed. */
			int err = may_lookup(nd, dir);
			if (err)
				return err;
			if (!nd->last_dot && len > UVFS_NAME_MAX)
				return -ENAMETOOLONG;
			return 0;
		}
		if ((nd->flags & ND_RCU) && !(nd->cur.mount->m_fs->flags & UVFS_FST_RCU_WALK))
			return -ECHILD;
		int err = may_lookup(nd, dir);
		if (err)
			return err;
		if (dot)
			goto next;
		if (dotdot) {
			if ((err = handle_dotdot(nd)))
				return err;
			goto next;
		}
		if (len > UVFS_NAME_MAX)
			return -ENAMETOOLONG;
		struct uvfs_dentry *child;
		if ((err = walk_component(nd, name, len, &child)))
			return err;
		struct uvfs_inode *ci = rcu_load(child->d_inode);
		bool mounted = atomic_load_explicit(&child->d_mounted, memory_order_acquire);
		if (!mounted && S_ISLNK(load_relaxed(ci->i_mode)) && (!last || (nd->flags & (ND_FOLLOW | ND_MUST_DIR)))) {
			if (unlikely(ci->i_op->get_link)) {
				/* A jump link: ref-walk only (get_link may block). */
				if (nd->flags & ND_RCU)
					return -ECHILD;
				err = nd_jump_link(nd, child);
				uvfs_dentry_put(child);
				if (err)
					return err;
				goto next;
			}
			/* Follow: the body resolves relative to the current
			 * directory, which stays current. */
			const char *body = NULL;
			err = (nd->flags & ND_NO_SYMLINKS) ? -ELOOP : get_link(nd, child, &body);
			if (!(nd->flags & ND_RCU))
				uvfs_dentry_put(child);
			if (err || (err = push_link(nd, body)))
				return err;
			goto next;
		}
		/* Make the child current (ref mode: transfer its reference). */
		if (!(nd->flags & ND_RCU))
			uvfs_dentry_put(nd->cur.dentry);
		nd->cur.dentry = child;
		if (mounted && (err = follow_mounts(nd)))
			return err;
	next:
		if (once)
			return 1;
	}
}

/* The RCU-walk fast loop: plain components in directories every caller
 * may search, crossing mounts inline. A symlink, "." / "..", a trailing
 * slash, the last component of a WALK_PARENT walk or anything unusual is
 * handed to one step of walk_loop, after which the fast loop resumes: no
 * work is repeated. One dentry cache line and one inode cache line per
 * component in the common case. */
static void fast_steps(struct nameidata *nd, enum walk_final final)
{
	const struct dcache_table *t = rcu_load(nd->vfs->dcache);
	const uint32_t fsuid = nd->cred->fsuid;
	struct uvfs_mount *mnt = nd->cur.mount;
	struct uvfs_dentry *d = nd->cur.dentry;
	const char *p = nd->stack[nd->depth - 1];
	const bool xdev_ok = !(nd->flags & ND_NO_XDEV);
	if (!(mnt->m_fs->flags & UVFS_FST_RCU_WALK))
		return;
	for (;;) {
		size_t len;
		const char *next;
		bool trailing;
		/* On a break, p is left at the name, as walk_loop wants it. */
		const char *name = p = next_component(p, &len, &next, &trailing);
		if (!len)
			break;
		/* Trailing slashes and the last component of a WALK_PARENT
		 * walk are the general loop's business (it records them). */
		if (!*next && (trailing || (final == WALK_PARENT && nd->depth == 1)))
			break;
		if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
			break;
		if (len > UVFS_NAME_MAX)
			break;
		struct uvfs_inode *dir = rcu_load(d->d_inode);
		/* Search permission: the common cases without calling out,
		 * mode and owner from one attribute state (i_seq). */
		uint32_t seq;
		if (!uvfs_seq_read_try_begin(&dir->i_seq, &seq))
			break;
		uint32_t mode = load_relaxed(dir->i_mode);
		uint32_t uid = load_relaxed(dir->i_uid);
		if (uvfs_seq_read_retry(&dir->i_seq, seq) || !S_ISDIR(mode))
			break;
		bool ok = fsuid == uid ? (mode & S_IXUSR) : (mode & 0011) == 0011;
		/* A filesystem's own ->permission decides alone. */
		if ((!ok || unlikely(dir->i_op->permission)) && inode_permission_rcu(nd->cred, dir, MAY_EXEC))
			break;
		uint64_t hash = d_hash_name(d, name, len);
		struct uvfs_dentry *c;
		for (c = dcache_first(t, hash); c; c = dcache_next(t, c)) {
			if (load_relaxed(c->d_hash) != hash || rcu_load(c->d_parent) != d)
				continue;
			const struct uvfs_dname *n = rcu_load(c->d_name);
			if (n->len != len)
				continue;
			size_t i = 0;
			while (i < len && n->name[i] == name[i])
				i++;
			if (i == len)
				break;
		}
		/* Dead, or to be revalidated: walk_component decides. */
		if (!c || (atomic_load_explicit(&c->d_flags, memory_order_relaxed) & (DF_DEAD | DF_REVAL)))
			break;
		struct uvfs_inode *ci = rcu_load(c->d_inode);
		if (!ci || S_ISLNK(load_relaxed(ci->i_mode)))
			break;
		if (atomic_load_explicit(&c->d_mounted, memory_order_acquire)) {
			if (unlikely(!xdev_ok))
				break; /* walk_loop says -EXDEV */
			/* Cross every mount stacked here (validated by mount_seq). */
			struct uvfs_mount *m = mnt;
			struct uvfs_dentry *r = c;
			struct uvfs_mount *child;
			while ((child = mnt_lookup_rcu(nd->vfs, m, r))) {
				m = child;
				r = child->m_root;
				if (!atomic_load_explicit(&r->d_mounted, memory_order_acquire))
					break;
			}
			if (!(m->m_fs->flags & UVFS_FST_RCU_WALK))
				break;
			mnt = m;
			c = r;
		}
		d = c;
		p = next;
	}
	nd->cur.mount = mnt;
	nd->cur.dentry = d;
	nd->stack[nd->depth - 1] = p;
}

static int fast_walk(struct nameidata *nd, enum walk_final final)
{
	for (;;) {
		fast_steps(nd, final);
		/* Whole path consumed by the fast loop (the common case): done. */
		if (nd->depth == 1 && !*nd->stack[0])
			return 0;
		int r = walk_loop(nd, final, true);
		if (r != 1)
			return r;
	}
}

static void nd_init(struct nameidata *nd, struct uvfs *vfs, const struct uvfs_cred *cred,
		    const struct uvfs_pathop *pop, unsigned mode)
{
	nd->vfs = vfs;
	nd->cred = cred;
	nd->root = pop->root;
	nd->flags = mode | ((pop->flags & UVFS_PATH_FOLLOW) ? ND_FOLLOW : 0) | (pop->flags & ND_RESOLVE);
	nd->nlinks = 0;
	nd->depth = 1;
	nd->stack[0] = pop->path;
	nd->nbufs = 0;
	nd->last = NULL;
	nd->last_len = 0;
	nd->last_dot = false;
	nd->trailing_slash = false;
	nd->cur = pop->path[0] == '/' ? pop->root : pop->start;
	if (unlikely(pop->flags & ND_SCOPED))
		nd->root = nd->cur = pop->start; /* BENEATH with "/" was refused */
}

HIDDEN void walk_end(struct nameidata *nd)
{
	for (int i = 0; i < nd->nbufs; i++)
		free(nd->bufs[i]);
	nd->nbufs = 0;
}

static __attribute__((noinline)) int check_resolve(const struct uvfs_pathop *pop)
{
	unsigned f = pop->flags;
	if ((f & ND_RESOLVE_RESERVED) || (f & ND_SCOPED) == ND_SCOPED)
		return -EINVAL;
	if ((f & ND_SCOPED) && (!pop->start.mount || !pop->start.dentry))
		return -EINVAL;
	if ((f & ND_BENEATH) && pop->path[0] == '/')
		return -EXDEV;
	return 0;
}

static inline __attribute__((always_inline)) int check_pop(const struct uvfs_pathop *pop)
{
	if (!pop || !pop->path || !pop->root.mount || !pop->root.dentry)
		return -EINVAL;
	if (unlikely(pop->flags & 0xff00u)) {
		int err = check_resolve(pop);
		if (err)
			return err;
	}
	if (pop->path[0] != '/' && (!pop->start.mount || !pop->start.dentry))
		return -EINVAL;
	if (pop->path[0] == 0 && !(pop->flags & UVFS_PATH_EMPTY))
		return -ENOENT;
	/* PATH_MAX counts the NUL (Linux getname). */
	if (unlikely(strnlen(pop->path, UVFS_PATH_MAX) == UVFS_PATH_MAX))
		return -ENAMETOOLONG;
	return 0;
}

/* Sample rename_seq and mount_seq for an RCU walk; false (-ECHILD) if a
 * writer is in the middle of a rename, resize or mount. */
static inline __attribute__((always_inline)) bool nd_seq_begin(struct nameidata *nd)
{
	return uvfs_seq_read_try_begin(&nd->vfs->rename_seq, &nd->rseq) &&
	       uvfs_seq_read_try_begin(&nd->vfs->mount_seq, &nd->mseq);
}

/* One RCU attempt. On success (err == 0), out holds references. */
static int walk_rcu(struct nameidata *nd, enum walk_final final, struct uvfs_vd *out)
{
	struct uvfs *vfs = nd->vfs;
	rcu_read_lock();
	int err = nd_seq_begin(nd) ? fast_walk(nd, final) : -ECHILD;
	if (!err && final == WALK_FINAL && (nd->flags & ND_MUST_DIR) && !d_is_dir(nd->cur.dentry))
		err = -ENOTDIR;
	/* nd->last may point into a symlink's i_link, which lives only as
	 * long as the RCU section: let ref-walk copy the bodies. */
	if (!err && final == WALK_PARENT && nd->nlinks)
		err = -ECHILD;
	if (err != -ECHILD &&
	    (uvfs_seq_read_retry(&vfs->rename_seq, nd->rseq) || uvfs_seq_read_retry(&vfs->mount_seq, nd->mseq)))
		err = -ECHILD;
	if (!err) {
		if (!mnt_tryget(nd->cur.mount)) {
			err = -ECHILD;
		} else if (!d_tryget(nd->cur.dentry)) {
			rcu_read_unlock();
			uvfs_mount_put(nd->cur.mount);
			return -ECHILD;
		} else {
			*out = nd->cur;
		}
	}
	rcu_read_unlock();
	return err;
}

static int walk_ref(struct nameidata *nd, enum walk_final final, struct uvfs_vd *out)
{
	if (nd->flags & ND_SCOPED) {
		nd->rseq = uvfs_seq_read_begin(&nd->vfs->rename_seq);
		nd->mseq = uvfs_seq_read_begin(&nd->vfs->mount_seq);
	}
	uvfs_vd_get(&nd->cur);
	int err = walk_loop(nd, final, false);
	if (!err && final == WALK_FINAL && (nd->flags & ND_MUST_DIR) && !d_is_dir(nd->cur.dentry))
		err = -ENOTDIR;
	if (err) {
		uvfs_vd_put(&nd->cur);
		return err;
	}
	*out = nd->cur;
	return 0;
}

/* Test hook: force ref-walk (bench compares the two). */
UVFS_API void uvfs_set_debug(struct uvfs *vfs, unsigned flags)
{
	atomic_store_explicit(&vfs->debug, flags, memory_order_relaxed);
}

static bool force_refwalk(struct uvfs *vfs)
{
	return atomic_load_explicit(&vfs->debug, memory_order_relaxed) & UVFS_DEBUG_REFWALK;
}

HIDDEN int walk_path(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
		     enum walk_final final, struct nameidata *nd, struct uvfs_vd *out)
{
	int err = check_pop(pop);
	if (err)
		return err;
	if ((pop->flags & UVFS_RESOLVE_CACHED) && final == WALK_PARENT)
		return -EAGAIN;
	rcu_enter();
	if (!force_refwalk(vfs)) {
		nd_init(nd, vfs, cred, pop, ND_RCU);
		err = walk_rcu(nd, final, out);
		if (err != -ECHILD)
			return err;
	}
	/* RESOLVE_CACHED: the lockless walk or nothing; creation, removal and
	 * rename (WALK_PARENT callers) take locks. */
	if (pop->flags & UVFS_RESOLVE_CACHED)
		return -EAGAIN;
	nd_init(nd, vfs, cred, pop, 0);
	err = walk_ref(nd, final, out);
	if (err == -ESTALE) {
		/* Third try: the filesystem revalidates every cached step. */
		walk_end(nd);
		nd_init(nd, vfs, cred, pop, ND_REVAL);
		err = walk_ref(nd, final, out);
	}
	if (err)
		walk_end(nd);
	return err;
}

/* O_CREAT opens (Linux open_last_lookups): the caller found, under the
 * parent's lock, that the last name of a WALK_PARENT walk is a symlink to
 * follow. Continue the same walk through its body, in ref mode, against the
 * same link budget; *parent (references) is replaced by the new parent and
 * nd->last names the new last component. link stays the caller's. On error
 * *parent is put and cleared. */
HIDDEN int walk_parent_follow(struct nameidata *nd, struct uvfs_dentry *link, struct uvfs_vd *parent)
{
	nd->flags &= ~(ND_RCU | ND_MUST_DIR);
	nd->cur = *parent; /* takes over the references */
	*parent = (struct uvfs_vd){ 0 };
	nd->last = NULL;
	nd->last_len = 0;
	nd->last_dot = nd->trailing_slash = false;
	const char *body = NULL;
	int err = (nd->nlinks >= UVFS_MAXSYMLINKS || (nd->flags & ND_NO_SYMLINKS)) ? -ELOOP : get_link(nd, link, &body);
	if (!err)
		err = push_link(nd, body);
	if (!err)
		err = walk_loop(nd, WALK_PARENT, false);
	if (err) {
		uvfs_vd_put(&nd->cur);
		return err;
	}
	*parent = nd->cur;
	return 0;
}

/* O_CREAT opens whose last name is a jump link (file.c): the link's target
 * becomes the final position, in place of *parent (references replaced;
 * cleared on error), with the walk's flags and link budget. */
HIDDEN int walk_jump_final(struct nameidata *nd, struct uvfs_dentry *link, struct uvfs_vd *parent)
{
	nd->flags &= ~ND_RCU;
	nd->cur = *parent; /* takes over the references */
	*parent = (struct uvfs_vd){ 0 };
	int err = nd_jump_link(nd, link);
	if (err) {
		uvfs_vd_put(&nd->cur);
		return err;
	}
	*parent = nd->cur;
	return 0;
}

/* ------------------------------------------------------- entry points */

UVFS_API int uvfs_get_dentry_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
				unsigned flags, struct uvfs_vd *out)
{
	struct nameidata nd;
	int err = walk_path(vfs, cred, pop, WALK_FINAL, &nd, out);
	if (err)
		return err;
	walk_end(&nd);
	if (flags & UVFS_GET_SEARCHABLE) {
		struct uvfs_inode *i = out->dentry->d_inode;
		err = !S_ISDIR(load_relaxed(i->i_mode)) ? -ENOTDIR : inode_permission(cred, i, MAY_EXEC);
		if (err)
			uvfs_vd_put(out);
	}
	return err;
}

UVFS_API int uvfs_stat_at(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_pathop *pop,
			  unsigned mask, struct statx *out)
{
	int err = check_pop(pop);
	if (err)
		return err;
	rcu_enter();
	struct nameidata nd;
	if (!force_refwalk(vfs)) {
		/* Fast path: walk and read the attributes under RCU; no
		 * reference is ever taken. */
		nd_init(&nd, vfs, cred, pop, ND_RCU);
		rcu_read_lock();
		err = nd_seq_begin(&nd) ? fast_walk(&nd, WALK_FINAL) : -ECHILD;
		struct uvfs_inode *i = NULL;
		if (!err) {
			i = rcu_load(nd.cur.dentry->d_inode);
			if ((nd.flags & ND_MUST_DIR) && !S_ISDIR(load_relaxed(i->i_mode)))
				err = -ENOTDIR;
			else
				err = stat_dentry_rcu(nd.cur.dentry, mask, out);
		}
		if (err != -ECHILD && (uvfs_seq_read_retry(&vfs->rename_seq, nd.rseq) ||
				       uvfs_seq_read_retry(&vfs->mount_seq, nd.mseq)))
			err = -ECHILD;
		rcu_read_unlock();
		if (err != -ECHILD)
			return err;
	}
	if (pop->flags & UVFS_RESOLVE_CACHED)
		return -EAGAIN;
	/* After -ESTALE (from the walk or from getattr: a remote file
	 * replaced between the two) the walk is retried revalidating every
	 * component, a few times: a host that keeps replacing the name can
	 * make one retry lose the same race again (stress_gofer). */
	for (unsigned try = 0;; try++) {
		struct uvfs_vd vd;
		nd_init(&nd, vfs, cred, pop, try ? ND_REVAL : 0);
		err = walk_ref(&nd, WALK_FINAL, &vd);
		walk_end(&nd);
		if (!err) {
			err = stat_dentry(vd.dentry, mask, out);
			uvfs_vd_put(&vd);
		}
		if (err != -ESTALE || try == STAT_ESTALE_TRIES)
			return err;
	}
}
