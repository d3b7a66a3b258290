/* vfs/mountinfo.c — enumeration of a namespace's mounts and the
 * /proc/[pid]/mounts and mountinfo lines (Linux fs/proc_namespace.c).
 *
 * The walk snapshots the tree under mount_lock (a reference on each
 * mount), then computes paths and calls back with no lock held: paths are
 * built by path.c, which may take rename_lock, outer to mount_lock. A mount
 * umounted after the snapshot has no parent any more and is skipped as
 * unreachable, as Linux skips mounts outside the reader's root.
 */
#include <stdio.h>

#include "internal.h"

struct snap {
	struct uvfs_mount *m; /* reference held */
	uint64_t parent_id;
	uint64_t key; /* max id on the way from the namespace root */
	unsigned depth;
};

static size_t snap_tree(struct uvfs_mount *m, uint64_t parent_id, uint64_t key, unsigned depth, struct snap *s,
			size_t n, size_t cap)
{
	if (n == cap)
		return n;
	key = m->m_id > key ? m->m_id : key;
	uvfs_mount_get(m);
	s[n++] = (struct snap){ m, parent_id, key, depth };
	for (struct list_head *l = m->m_children.next; l != &m->m_children; l = l->next)
		n = snap_tree(container_of(l, struct uvfs_mount, m_sibling), m->m_id, key, depth + 1, s, n, cap);
	return n;
}

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
	return x->m->m_id < y->m->m_id ? -1 : x->m->m_id > y->m->m_id;
}

/* Grows *buf (doubling, up to 1 MiB) while fill returns -ERANGE. */
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

struct strbufs {
	char *point, *root, *opts;
	size_t point_len, root_len, opts_len;
};

static int mount_strings(struct uvfs *vfs, const struct uvfs_vd *root, struct uvfs_mount *m, struct strbufs *b,
			 const char **point, bool *reachable)
{
	size_t pos;
	int r;
	/* path_build leaves the text at the end of the buffer (no NUL). */
	while ((r = path_build(vfs, root, m, m->m_root, b->point, b->point_len - 1, &pos)) == -ERANGE)
		if ((r = grow(&b->point, &b->point_len)))
			return r;
	if (r < 0)
		return r;
	*reachable = r == PATH_REACHED;
	size_t k = b->point_len - 1 - pos;
	memmove(b->point, b->point + pos, k);
	b->point[k] = 0;
	*point = b->point;
	ssize_t n;
	while ((n = dentry_path(vfs, m->m_root, b->root, b->root_len)) == -ERANGE)
		if ((r = grow(&b->root, &b->root_len)))
			return r;
	if (n < 0)
		return (int)n;
	b->opts[0] = 0;
	if (m->m_fs->ops && m->m_fs->ops->show_options) {
		while ((r = m->m_fs->ops->show_options(m->m_fs, b->opts, b->opts_len)) == -ERANGE)
			if ((r = grow(&b->opts, &b->opts_len)))
				return r;
		if (r < 0)
			return r;
	}
	return 0;
}

UVFS_API int uvfs_mntns_for_each(struct uvfs_mntns *ns, const struct uvfs_vd *root, uvfs_mount_cb cb, void *arg)
{
	rcu_enter();
	if (!ns || !root || !uvfs_vd_ok(root) || !cb)
		return -EINVAL;
	struct uvfs *vfs = ns->ns_vfs;
	struct strbufs b = { .point_len = 256, .root_len = 256, .opts_len = 256 };
	b.point = malloc(b.point_len);
	b.root = malloc(b.root_len);
	b.opts = malloc(b.opts_len);
	pthread_mutex_lock(&vfs->mount_lock);
	size_t cap = mnt_count_subtree(ns->ns_root);
	struct snap *s = b.point && b.root && b.opts ? malloc(cap * sizeof(*s)) : NULL;
	size_t n = s ? snap_tree(ns->ns_root, ns->ns_root->m_id, 0, 0, s, 0, cap) : 0;
	pthread_mutex_unlock(&vfs->mount_lock);
	int err = s ? 0 : -ENOMEM;
	qsort(s, n, sizeof(*s), snap_cmp);
	for (size_t i = 0; i < n && !err; i++) {
		struct uvfs_mount *m = s[i].m;
		const char *point;
		bool reachable;
		if ((err = mount_strings(vfs, root, m, &b, &point, &reachable)) || !reachable)
			continue;
		const struct uvfs_mount_info mi = {
			.id = m->m_id,
			.parent_id = s[i].parent_id,
			.dev_major = major(m->m_fs->dev),
			.dev_minor = minor(m->m_fs->dev),
			.flags = uvfs_mount_flags(m),
			.root = b.root,
			.mount_point = point,
			.fstype = m->m_fs->type->name,
			.source = m->m_source ? m->m_source : "none",
			.fs_options = b.opts,
		};
		err = cb(arg, &mi);
	}
	for (size_t i = 0; i < n; i++)
		uvfs_mount_put(s[i].m);
	free(s);
	free(b.point);
	free(b.root);
	free(b.opts);
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
		put_mnt_opts(&o, mi->flags);
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
		/* Superblock flags: uvfs has no read-only superblocks. */
		puts_(&o, " rw");
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
