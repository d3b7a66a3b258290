/* vfs/mountinfo.c — enumeration of a namespace's mounts and the
 * /proc/[pid]/mounts and mountinfo lines (Linux fs/proc_namespace.c).
 *
 * The walk copies what each line needs under mount_lock (paths validated
 * against rename_seq; if renames keep racing, again under rename_rw and
 * mount_lock), keeping only a reference on each filesystem, then calls
 * back with no lock held. Mounts whose root is not reachable from the
 * reader's root are skipped, as Linux skips mounts outside a chroot.
 *
 * Lock order: rename_rw → mount_lock; show_options runs unlocked.
 */
#include <stdio.h>

#include "internal.h"

struct snap {
	uint64_t id, parent_id;
	uint64_t key; /* max id on the way from the namespace root */
	unsigned depth, flags, fs_flags;
	bool reachable;
	struct uvfs_filesystem *fs; /* reference held: show_options runs unlocked */
	char *source, *root, *point; /* malloc'd */
};

/* Mount ID order (Linux lists a namespace's mounts by ID), except that a
 * child mounted from an older disconnected mount still follows its parent:
 * sorting by (max ID from the root, depth) keeps both. */
static int snap_cmp(const void *a, const void *b)
{
	const struct snap *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void snaps_free(struct snap *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uvfs_fs_put(s[i].fs);
		free(s[i].source);
		free(s[i].root);
		free(s[i].point);
	}
	free(s);
}

/* Doubles *buf (up to 1 MiB) after -ERANGE. */
#define GROW_MAX (1u << 20)
static int grow(char **buf, size_t *len)
{
	if (*len >= GROW_MAX)
		return -ERANGE;
	char *n = realloc(*buf, *len * 2);
	if (!n)
		return -ENOMEM;
	*buf = n;
	*len *= 2;
	return 0;
}

struct walk {
	struct uvfs *vfs;
	const struct uvfs_vd *root;
	enum path_locks locks;
	char *buf;
	size_t len;
	struct snap *s;
	size_t n, cap;
};

/* Strings of m into w->s[w->n]. mount_lock held (and rename_rw with
 * PATH_ALL_LOCKED). */
static int snap_one(struct walk *w, struct uvfs_mount *m, struct snap *sn)
{
	size_t pos;
	int r;
	while ((r = path_build(w->vfs, w->root, m, m->m_root, w->buf, w->len, &pos, w->locks)) == -ERANGE)
		if ((r = grow(&w->buf, &w->len)))
			return r;
	if (r < 0)
		return r;
	sn->reachable = r == PATH_REACHED;
	if (!(sn->point = strndup(w->buf + pos, w->len - pos)))
		return -ENOMEM;
	ssize_t k;
	while ((k = dentry_path(w->vfs, m->m_root, w->buf, w->len, w->locks)) == -ERANGE)
		if ((r = grow(&w->buf, &w->len)))
			return r;
	if (k < 0)
		return (int)k;
	if (!(sn->root = strdup(w->buf)) || (m->m_source && !(sn->source = strdup(m->m_source))))
		return -ENOMEM;
	return 0;
}

static int snap_tree(struct walk *w, struct uvfs_mount *m, uint64_t parent_id, uint64_t key, unsigned depth)
{
	if (w->n == w->cap)
		return -EAGAIN; /* cannot happen: the tree is locked */
	struct snap *sn = &w->s[w->n++];
	key = m->m_id > key ? m->m_id : key;
	*sn = (struct snap){ .id = m->m_id, .parent_id = parent_id, .key = key, .depth = depth,
			     .flags = uvfs_mount_flags(m),
			     .fs_flags = uvfs_fs_readonly(m->m_fs) ? UVFS_MNT_RDONLY : 0, .fs = m->m_fs };
	uvfs_fs_get(m->m_fs);
	int err = snap_one(w, m, sn);
	for (struct list_head *l = m->m_children.next; !err && l != &m->m_children; l = l->next)
		err = snap_tree(w, container_of(l, struct uvfs_mount, m_sibling), m->m_id, key, depth + 1);
	return err;
}

/* Everything the callbacks need is copied under the locks, so the
 * callbacks run with no lock and no mount reference held: reading
 * /proc/mounts never makes a mount busy, and a callback may call uvfs. */
static int snapshot(struct uvfs_mntns *ns, const struct uvfs_vd *root, struct walk *w)
{
	struct uvfs *vfs = ns->ns_vfs;
	int err;
	for (int attempt = 0;; attempt++) {
		/* First under mount_lock alone; if renames keep racing the
		 * climbs, again with rename_rw (outer) held as well. */
		w->locks = attempt ? PATH_ALL_LOCKED : PATH_MOUNT_LOCKED;
		if (attempt)
			pthread_rwlock_wrlock(&vfs->rename_rw);
		pthread_mutex_lock(&vfs->mount_lock);
		w->cap = mnt_count_subtree(ns->ns_root);
		w->n = 0;
		w->s = calloc(w->cap, sizeof(*w->s));
		err = w->s ? snap_tree(w, ns->ns_root, ns->ns_root->m_id, 0, 0) : -ENOMEM;
		pthread_mutex_unlock(&vfs->mount_lock);
		if (attempt)
			pthread_rwlock_unlock(&vfs->rename_rw);
		if (err != -EAGAIN || attempt)
			return err;
		snaps_free(w->s, w->n);
		w->s = NULL;
	}
}

UVFS_API int uvfs_mntns_for_each(struct uvfs_mntns *ns, const struct uvfs_vd *root, uvfs_mount_cb cb, void *arg)
{
	rcu_enter();
	if (!ns || !root || !uvfs_vd_ok(root) || !cb)
		return -EINVAL;
	struct walk w = { .vfs = ns->ns_vfs, .root = root, .len = 256 };
	size_t olen = 256;
	char *opts = malloc(olen);
	if (!opts || !(w.buf = malloc(w.len))) {
		free(opts);
		return -ENOMEM;
	}
	int err = snapshot(ns, root, &w);
	if (!err)
		qsort(w.s, w.n, sizeof(*w.s), snap_cmp);
	for (size_t i = 0; i < w.n && !err; i++) {
		struct snap *sn = &w.s[i];
		if (!sn->reachable)
			continue;
		opts[0] = 0;
		if (sn->fs->ops && sn->fs->ops->show_options) {
			while ((err = sn->fs->ops->show_options(sn->fs, opts, olen)) == -ERANGE)
				if ((err = grow(&opts, &olen)))
					break;
			if (err)
				break;
		}
		const struct uvfs_mount_info mi = {
			.id = sn->id,
			.parent_id = sn->parent_id,
			.dev_major = major(sn->fs->dev),
			.dev_minor = minor(sn->fs->dev),
			.flags = sn->flags,
			.root = sn->root,
			.mount_point = sn->point,
			.fstype = sn->fs->type->name,
			.source = sn->source ? sn->source : "none",
			.fs_options = opts,
			.fs_flags = sn->fs_flags,
		};
		err = cb(arg, &mi);
	}
	snaps_free(w.s, w.n);
	free(w.buf);
	free(opts);
	return err;
}

/* ------------------------------------------------------------- format */

/* snprintf-like appender: counts what it could not write. */
struct out {
	char *buf;
	size_t len, n;
};

static void put(struct out *o, const char *s, size_t k)
{
	if (o->n < o->len) {
		size_t room = o->len - o->n;
		memcpy(o->buf + o->n, s, k < room ? k : room);
	}
	o->n += k;
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

/* Linux mangle(): space, tab, newline and backslash as \ooo. */
static void put_mangled(struct out *o, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\') {
			char e[5];
			snprintf(e, sizeof e, "\\%03o", (unsigned char)*s);
			put(o, e, 4);
		} else {
			put(o, s, 1);
		}
	}
}

/* Linux show_mnt_opts order. */
static void put_mnt_opts(struct out *o, unsigned fl)
{
	puts_(o, fl & UVFS_MNT_RDONLY ? "ro" : "rw");
	if (fl & UVFS_MNT_NOSUID)
		puts_(o, ",nosuid");
	if (fl & UVFS_MNT_NODEV)
		puts_(o, ",nodev");
	if (fl & UVFS_MNT_NOEXEC)
		puts_(o, ",noexec");
	if (fl & UVFS_MNT_NOATIME)
		puts_(o, ",noatime");
}

static void put_fs_opts(struct out *o, const char *opts)
{
	if (*opts) {
		puts_(o, ",");
		put_mangled(o, opts);
	}
}

UVFS_API ssize_t uvfs_mount_info_format(const struct uvfs_mount_info *mi, int format, char *buf, size_t len)
{
	if (!mi || (!buf && len))
		return -EINVAL;
	struct out o = { buf, len, 0 };
	char num[64];
	switch (format) {
	case UVFS_SHOW_MOUNTS: /* "source point type opts 0 0" */
		put_mangled(&o, mi->source);
		puts_(&o, " ");
		put_mangled(&o, mi->mount_point);
		puts_(&o, " ");
		put_mangled(&o, mi->fstype);
		puts_(&o, " ");
		put_mnt_opts(&o, mi->flags | (mi->fs_flags & UVFS_MNT_RDONLY)); /* Linux __mnt_is_readonly */
		put_fs_opts(&o, mi->fs_options);
		puts_(&o, " 0 0\n");
		break;
	case UVFS_SHOW_MOUNTINFO: /* "id parent maj:min root point opts - type source superopts" */
		snprintf(num, sizeof num, "%llu %llu %u:%u ", (unsigned long long)mi->id,
			 (unsigned long long)mi->parent_id, mi->dev_major, mi->dev_minor);
		puts_(&o, num);
		put_mangled(&o, mi->root);
		puts_(&o, " ");
		put_mangled(&o, mi->mount_point);
		puts_(&o, " ");
		put_mnt_opts(&o, mi->flags);
		puts_(&o, " - ");
		put_mangled(&o, mi->fstype);
		puts_(&o, " ");
		put_mangled(&o, mi->source);
		puts_(&o, (mi->fs_flags & UVFS_MNT_RDONLY) ? " ro" : " rw"); /* superblock flags */
		put_fs_opts(&o, mi->fs_options);
		puts_(&o, "\n");
		break;
	default:
		return -EINVAL;
	}
	if (len)
		buf[o.n < len ? o.n : len - 1] = 0;
	return (ssize_t)o.n;
}

struct show {
	int format;
	char *buf;
	size_t len, cap;
};

static int show_one(void *arg, const struct uvfs_mount_info *mi)
{
	struct show *s = arg;
	for (;;) {
		ssize_t n = uvfs_mount_info_format(mi, s->format, s->buf + s->len, s->cap - s->len);
		if (n < 0)
			return (int)n;
		if ((size_t)n < s->cap - s->len) {
			s->len += (size_t)n;
			return 0;
		}
		size_t cap = s->cap * 2 + (size_t)n;
		char *b = realloc(s->buf, cap);
		if (!b)
			return -ENOMEM;
		s->buf = b;
		s->cap = cap;
	}
}

UVFS_API ssize_t uvfs_mntns_show(struct uvfs_mntns *ns, const struct uvfs_vd *root, int format, char **out)
{
	if (format != UVFS_SHOW_MOUNTS && format != UVFS_SHOW_MOUNTINFO)
		return -EINVAL;
	struct show s = { format, malloc(1024), 0, 1024 };
	if (!s.buf)
		return -ENOMEM;
	s.buf[0] = 0;
	int err = uvfs_mntns_for_each(ns, root, show_one, &s);
	if (err) {
		free(s.buf);
		return err;
	}
	*out = s.buf;
	return (ssize_t)s.len;
}
