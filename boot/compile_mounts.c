/* boot/compile_mounts.c — the spec's mounts → a mount plan, step for step as
 * runsc's compileMounts, prepareMountsVFS2 and getMountNameAndOptionsVFS2
 * (spec §4.2–§4.6), with the decisions of design.md §6:
 *  - submounts are sorted by destination length with a STABLE sort;
 *  - verity keeps the wrapped mount's ro/noexec/noatime;
 *  - tmpfs accepts size= and nr_inodes= besides mode/uid/gid;
 *  - a pod-shared hint matched by a bind-typed mount binds the shared master
 *    (and so needs no gofer);
 * and one of ours: destinations are cleaned (relative ones are relative to
 * "/", as the OCI spec says), so "/tmp/" counts as "/tmp".
 * Nothing here touches a VFS: mountAll executes the plan.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/internal.h"

HIDDEN const char *const tmpfs_allowed_data[] = { "mode", "size", "uid", "gid", "nr_inodes", NULL };
static const char *const cgroup_allowed_data[] = { "all", "cpu", "cpuacct", "cpuset", "job", "memory", NULL };

static bool in_list(const char *const *l, const char *s, size_t n)
{
	for (; *l; l++)
		if (strlen(*l) == n && !strncmp(*l, s, n))
			return true;
	return false;
}

/* parseMountOption: key allowed? -EINVAL for more than one '='. */
static int option_allowed(const char *o, const char *const *allowed, bool *ok)
{
	const char *eq = strchr(o, '=');
	if (eq && strchr(eq + 1, '='))
		return -EINVAL;
	*ok = in_list(allowed, o, eq ? (size_t)(eq - o) : strlen(o));
	return 0;
}

HIDDEN int filter_options(char *const *opts, size_t n, const char *const *allowed, char **data, char *err,
			  size_t errlen)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(opts[i]) + 1;
	char *s = malloc(len), *p = s;
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		bool ok;
		if (option_allowed(opts[i], allowed, &ok)) {
			free(s);
			return berr(err, errlen, -EINVAL, "invalid option \"%s\"", opts[i]);
		}
		if (!ok)
			continue;
		if (p != s)
			*p++ = ',';
		size_t l = strlen(opts[i]);
		memcpy(p, opts[i], l);
		p += l;
	}
	*p = 0;
	*data = s;
	return 0;
}

HIDDEN bool is_supported_mount_flag(const char *fstype, const char *opt)
{
	if (!strcmp(opt, "rw") || !strcmp(opt, "ro") || !strcmp(opt, "noatime") || !strcmp(opt, "noexec"))
		return true;
	bool ok = false;
	if (!strcmp(fstype, "tmpfs"))
		return !option_allowed(opt, tmpfs_allowed_data, &ok) && ok;
	if (!strcmp(fstype, "cgroup"))
		return !option_allowed(opt, cgroup_allowed_data, &ok) && ok;
	return false;
}

HIDDEN void mount_flags(char *const *opts, size_t n, bool *ro, bool *noatime, bool *noexec)
{
	*ro = *noatime = *noexec = false;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(opts[i], "rw"))
			*ro = false;
		else if (!strcmp(opts[i], "ro"))
			*ro = true;
		else if (!strcmp(opts[i], "noatime"))
			*noatime = true;
		else if (!strcmp(opts[i], "noexec"))
			*noexec = true;
	}
}

HIDDEN char *clean_abs_path(const char *p)
{
	/* Go's path.Clean on "/" + p: drop empty and "." elements, ".." pops
	 * (clamped at "/"). */
	size_t len = strlen(p);
	char *out = malloc(len + 2);
	if (!out)
		return NULL;
	size_t o = 1;
	out[0] = '/';
	const char *s = p;
	while (*s) {
		while (*s == '/')
			s++;
		const char *e = s;
		while (*e && *e != '/')
			e++;
		size_t l = (size_t)(e - s);
		if (l == 0 || (l == 1 && s[0] == '.')) {
			/* skip */
		} else if (l == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--; /* the separator */
		} else {
			if (o > 1)
				out[o++] = '/';
			memcpy(out + o, s, l);
			o += l;
		}
		s = e;
	}
	out[o] = 0;
	return out;
}

/* ------------------------------------------------------------ plan building */

struct builder {
	const char *file; /* for messages */
	struct uvfs_mount_plan *p;
	size_t cap;
	unsigned flags;
	char *err;
	size_t errlen;
};

static int warn(struct uvfs_mount_plan *p, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int warn(struct uvfs_mount_plan *p, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	uvfs_log(level, "boot: %s", buf);
	char **nw = realloc(p->warnings, (p->nwarnings + 1) * sizeof *nw);
	if (!nw)
		return -ENOMEM;
	p->warnings = nw;
	if (!(nw[p->nwarnings] = strdup(buf)))
		return -ENOMEM;
	p->nwarnings++;
	return 0;
}

static struct uvfs_plan_mount *add_mount(struct builder *b)
{
	struct uvfs_mount_plan *p = b->p;
	if (p->nmounts == b->cap) {
		size_t nc = b->cap ? 2 * b->cap : 16;
		struct uvfs_plan_mount *nm = realloc(p->mounts, nc * sizeof *nm);
		if (!nm)
			return NULL;
		p->mounts = nm;
		b->cap = nc;
	}
	struct uvfs_plan_mount *m = &p->mounts[p->nmounts++];
	memset(m, 0, sizeof *m);
	m->spec_index = -1;
	m->gofer = -1;
	m->fd = -1;
	m->hint = -1;
	return m;
}

/* A mandatory mount compileMounts prepends. */
static int add_mandatory(struct builder *b, const char *type, const char *dest, const char *opt)
{
	struct uvfs_plan_mount *m = add_mount(b);
	if (!m)
		return -ENOMEM;
	m->added = true;
	if (!(m->type = strdup(type)) || !(m->destination = strdup(dest)) || !(m->source = strdup("")))
		return -ENOMEM;
	if (opt) {
		if (!(m->options = calloc(1, sizeof *m->options)))
			return -ENOMEM;
		if (!(m->options[0] = strdup(opt)))
			return -ENOMEM;
		m->noptions = 1;
	}
	return 0;
}

static int add_spec_mount(struct builder *b, const struct uvfs_oci_mount *sm, int idx, const char *dest,
			  const char *type)
{
	struct uvfs_plan_mount *m = add_mount(b);
	if (!m)
		return -ENOMEM;
	m->spec_index = idx;
	if (!(m->destination = strdup(dest)) || !(m->type = strdup(type)) || !(m->source = strdup(sm->source)))
		return -ENOMEM;
	return strv_dup(sm->options, sm->noptions, &m->options) ? -ENOMEM : (m->noptions = sm->noptions, 0);
}

/* compileMounts: drop cgroup mounts, force /dev and /dev/pts types, and put
 * the mandatory mounts (absent ones only) first. */
static int compile(struct builder *b, const struct uvfs_oci_spec *s)
{
	bool proc = false, sys = false, dev = false, devpts = false;
	/* Mandatory mounts come first but depend on the spec: decide, then build. */
	char **dests = calloc(s->nmounts ? s->nmounts : 1, sizeof *dests);
	if (!dests)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < s->nmounts && !rc; i++) {
		if (!strcmp(s->mounts[i].type, "cgroup"))
			continue;
		if (!(dests[i] = clean_abs_path(s->mounts[i].destination))) {
			rc = -ENOMEM;
			break;
		}
		proc |= !strcmp(dests[i], "/proc");
		sys |= !strcmp(dests[i], "/sys");
		dev |= !strcmp(dests[i], "/dev");
		devpts |= !strcmp(dests[i], "/dev/pts");
	}
	if (!rc && (b->flags & UVFS_OCI_CGROUPFS)) {
		rc = add_mandatory(b, "tmpfs", "/sys/fs/cgroup", NULL);
		if (!rc)
			rc = add_mandatory(b, "cgroup", "/sys/fs/cgroup/memory", "memory");
		if (!rc)
			rc = add_mandatory(b, "cgroup", "/sys/fs/cgroup/cpu", "cpu");
	}
	if (!rc && !proc)
		rc = add_mandatory(b, "proc", "/proc", NULL);
	if (!rc && !sys)
		rc = add_mandatory(b, "sysfs", "/sys", NULL);
	if (!rc && !dev)
		rc = add_mandatory(b, "devtmpfs", "/dev", NULL);
	if (!rc && !devpts)
		rc = add_mandatory(b, "devpts", "/dev/pts", NULL);
	for (size_t i = 0; i < s->nmounts && !rc; i++) {
		if (!dests[i])
			continue; /* cgroup: dropped; runsc adds its own with --cgroupfs */
		const char *type = s->mounts[i].type;
		if (!strcmp(dests[i], "/dev"))
			type = "devtmpfs";
		else if (!strcmp(dests[i], "/dev/pts"))
			type = "devpts";
		rc = add_spec_mount(b, &s->mounts[i], (int)i, dests[i], type);
	}
	strv_free(dests, s->nmounts);
	return rc;
}

/* specutils.MaybeConvertToBindMount */
static int maybe_convert_to_bind(struct uvfs_plan_mount *m)
{
	if (!strcmp(m->type, "bind"))
		return 0;
	for (size_t i = 0; i < m->noptions; i++) {
		if (!strcmp(m->options[i], "bind") || !strcmp(m->options[i], "rbind")) {
			char *t = strdup("bind");
			if (!t)
				return -ENOMEM;
			free(m->type);
			m->type = t;
			return 0;
		}
	}
	return 0;
}

/* parseVerityMountOptions: takes verity.* out of m->options. */
static int parse_verity(struct builder *b, struct uvfs_plan_mount *m)
{
	size_t keep = 0;
	int rc = 0;
	for (size_t i = 0; i < m->noptions; i++) {
		char *o = m->options[i];
		if (strncmp(o, "verity.", 7) || rc) {
			m->options[keep++] = o;
			continue;
		}
		char *eq = strchr(o, '=');
		if (!eq) {
			rc = berr(b->err, b->errlen, -EINVAL, "invalid verity mount option with no value: \"%s\"", o);
			m->options[keep++] = o;
			continue;
		}
		/* Go trims spaces around key and value. */
		const char *k = o, *v = eq + 1;
		size_t kl = (size_t)(eq - o);
		while (*k == ' ' || *k == '\t')
			k++, kl--;
		while (kl && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
			kl--;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t vl = strlen(v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		m->verity = true;
		if (kl == 15 && !strncmp(k, "verity.roothash", kl)) {
			free(m->verity_roothash);
			if (!(m->verity_roothash = strndup(v, vl)))
				rc = -ENOMEM;
		} else if (kl == 13 && !strncmp(k, "verity.action", kl)) {
			if (vl == 5 && !strncmp(v, "error", 5)) {
				m->verity_action_error = true;
			} else {
				m->verity_action_error = false;
				if (!(vl == 5 && !strncmp(v, "panic", 5)))
					rc = warn(b->p, UVFS_LOG_WARN, "%s: invalid verity action \"%.*s\", using panic",
						  m->destination, (int)vl, v);
			}
		} else {
			rc = berr(b->err, b->errlen, -EINVAL, "unknown verity mount option: \"%.*s\"", (int)kl, k);
		}
		free(o);
	}
	m->noptions = keep;
	if (!rc && m->verity && !m->verity_roothash && !(m->verity_roothash = strdup("")))
		rc = -ENOMEM;
	return rc;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return (s && s[1]) ? s + 1 : "/";
}

/* getMountNameAndOptionsVFS2, without the fd (bind data comes with the fds). */
static int name_and_options(struct builder *b, struct uvfs_plan_mount *m)
{
	int rc = parse_verity(b, m);
	if (rc)
		return rc;
	const char *t = m->type, *fs = NULL;
	char *data = NULL;
	if (!strcmp(t, "devpts") || !strcmp(t, "devtmpfs") || !strcmp(t, "proc") || !strcmp(t, "sysfs")) {
		fs = t;
	} else if (!strcmp(t, "none")) {
		fs = "sysfs";
		if ((rc = warn(b->p, UVFS_LOG_INFO, "%s: type \"none\" mounted as sysfs", m->destination)))
			return rc;
	} else if (!strcmp(t, "tmpfs")) {
		fs = "tmpfs";
		rc = filter_options(m->options, m->noptions, tmpfs_allowed_data, &data, b->err, b->errlen);
	} else if (!strcmp(t, "bind")) {
		fs = "9p";
		m->overlay = (b->flags & UVFS_OCI_OVERLAY) != 0; /* unless read-only, below */
	} else if (!strcmp(t, "cgroup")) {
		fs = "cgroup";
		rc = filter_options(m->options, m->noptions, cgroup_allowed_data, &data, b->err, b->errlen);
	} else {
		/* The seed skips the mount (no mount point either) with a warning. */
		return warn(b->p, UVFS_LOG_WARN, "%s: ignoring unknown filesystem type \"%s\"", m->destination, t);
	}
	if (rc)
		return rc;
	if (!data && !(data = strdup("")))
		return -ENOMEM;
	m->data = data;
	if (!(m->fs_name = strdup(fs)))
		return -ENOMEM;
	mount_flags(m->options, m->noptions, &m->readonly, &m->noatime, &m->noexec);
	if (m->readonly)
		m->overlay = false;
	for (size_t i = 0; i < m->noptions; i++) {
		const char *o = m->options[i];
		if (strcmp(o, "rw") && strcmp(o, "ro") && strcmp(o, "noatime") && strcmp(o, "noexec") &&
		    strcmp(o, "bind") && strcmp(o, "rbind"))
			uvfs_log(UVFS_LOG_DEBUG, "boot: %s: ignoring mount option \"%s\"", m->destination, o);
	}
	if (m->verity) {
		/* Our fix: the verity mount keeps the wrapped mount's flags. */
		size_t l = strlen(m->verity_roothash) + strlen(base_name(m->destination)) + 32;
		char *vd = malloc(l);
		if (!vd)
			return -ENOMEM;
		snprintf(vd, l, "root_hash=%s,root_name=%s", m->verity_roothash, base_name(m->destination));
		m->lower_fs_name = m->fs_name;
		if (!(m->fs_name = strdup("verity"))) {
			free(vd);
			return -ENOMEM;
		}
		m->lower_data = m->data;
		m->data = vd;
	}
	return 0;
}

/* p9MountData */
static char *p9_data(int fd, enum uvfs_file_access a, bool root)
{
	char *s = NULL;
	if (asprintf(&s, "trans=fd,rfdno=%d,wfdno=%d%s%s", fd, fd, a == UVFS_ACCESS_SHARED ? ",cache=remote_revalidating" : "",
		     root ? ",overlayfs_stale_read" : "") < 0)
		return NULL;
	return s;
}

/* Prefixes the message in b->err with the file and the spec mount. */
static int name_mount(struct builder *b, const struct uvfs_plan_mount *m, int rc)
{
	if (rc != -EINVAL || !b->err || !b->errlen)
		return rc;
	char msg[512];
	snprintf(msg, sizeof msg, "%s", b->err);
	if (m->spec_index >= 0)
		snprintf(b->err, b->errlen, "%s: mounts[%d] (%s): %s", b->file, m->spec_index, m->destination, msg);
	else
		snprintf(b->err, b->errlen, "%s: %s: %s", b->file, m->destination, msg);
	return rc;
}

/* prepareMountsVFS2 up to the sort, one mount at a time in compiled order:
 * bind conversion, hints, gofer indices (so in spec order), then options. */
static int prepare_one(struct builder *b, struct uvfs_plan_mount *m);

static int prepare(struct builder *b)
{
	int rc = 0;
	for (size_t i = 0; i < b->p->nmounts && !rc; i++)
		rc = name_mount(b, &b->p->mounts[i], prepare_one(b, &b->p->mounts[i]));
	return rc;
}

static int prepare_one(struct builder *b, struct uvfs_plan_mount *m)
{
	struct uvfs_mount_plan *p = b->p;
	int rc = maybe_convert_to_bind(m);
	if (rc)
		return rc;
	bool bind = !strcmp(m->type, "bind");
	/* A gofer serves only binds with a source (Is9PMount); taking an fd for
	 * one without would shift every later bind onto its neighbour's fd. */
	if (bind && !m->source[0])
		return berr(b->err, b->errlen, -EINVAL, "bind mount without a source");
	m->hint = hints_find(p->hints, p->nhints, m->source);
	if (m->hint >= 0) {
		const struct uvfs_plan_hint *h = &p->hints[m->hint];
		m->access = h->share == UVFS_SHARE_CONTAINER ? UVFS_ACCESS_EXCLUSIVE : UVFS_ACCESS_SHARED;
		if (hint_is_supported(h)) {
			m->shared = true;
			rc = hint_check_compatible(h, m->type, m->options, m->noptions, bind, b->err, b->errlen);
			if (rc == -EINVAL) {
				char msg[400];
				snprintf(msg, sizeof msg, "%s", b->err ? b->err : "");
				berr(b->err, b->errlen, rc, "shared mount \"%s\": %s", h->name, msg);
			}
			if (rc)
				return rc;
		}
	} else {
		m->access = (b->flags & UVFS_OCI_MOUNTS_EXCLUSIVE) ? UVFS_ACCESS_EXCLUSIVE : UVFS_ACCESS_SHARED;
	}
	/* Only bind mounts take gofer fds; a bind of a pod-shared master is
	 * served by the master (design.md §6), not by a gofer. */
	if (bind && !m->shared)
		m->gofer = (int)p->ngofers++;
	if (m->shared && bind && !strcmp(p->hints[m->hint].type, "tmpfs")) {
		/* The master is a tmpfs: bind it with the container's flags. */
		free(m->type);
		if (!(m->type = strdup("tmpfs")))
			return -ENOMEM;
	}
	rc = name_and_options(b, m);
	if (!rc && m->shared) {
		/* The master's data and overlay were applied to the master. */
		free(m->data);
		m->data = strdup("");
		rc = m->data ? 0 : -ENOMEM;
		m->overlay = false;
	}
	return rc;
}

static int cmp_len(const void *a, const void *b)
{
	const struct uvfs_plan_mount *x = a, *y = b;
	size_t lx = strlen(x->destination), ly = strlen(y->destination);
	if (lx != ly)
		return lx < ly ? -1 : 1;
	/* Stable: equal lengths keep compiled order (design.md §6). */
	return x->order < y->order ? -1 : x->order > y->order;
}

static void plan_mount_free(struct uvfs_plan_mount *m)
{
	free(m->destination);
	free(m->source);
	free(m->type);
	free(m->fs_name);
	free(m->lower_fs_name);
	free(m->data);
	free(m->lower_data);
	free(m->verity_roothash);
	strv_free(m->options, m->noptions);
}

UVFS_API void uvfs_mount_plan_free(struct uvfs_mount_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nmounts; i++)
		plan_mount_free(&p->mounts[i]);
	free(p->mounts);
	hints_free(p->hints, p->nhints);
	strv_free(p->warnings, p->nwarnings);
	free(p->root.path);
	free(p->root.data);
	free(p);
}

UVFS_API int uvfs_oci_compile_mounts(const struct uvfs_oci_spec *s, unsigned flags, struct uvfs_mount_plan **out,
				     char *err, size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	struct uvfs_mount_plan *p = calloc(1, sizeof *p);
	if (!p)
		return berr(err, errlen, -ENOMEM, "out of memory");
	struct builder b = { .p = p, .flags = flags, .err = err, .errlen = errlen, .file = s->file ? s->file : "config.json" };
	p->root.fd = -1;
	p->root.readonly = s->root_readonly;
	p->root.access = (flags & UVFS_OCI_ROOT_SHARED) ? UVFS_ACCESS_SHARED : UVFS_ACCESS_EXCLUSIVE;
	p->root.fs_name = ((flags & UVFS_OCI_OVERLAY) && !s->root_readonly) ? "overlay" : "9p";
	p->ngofers = 1; /* fd #0 is the root's */
	int rc = (p->root.path = strdup(s->root_path)) ? 0 : -ENOMEM;
	if (!rc)
		rc = hints_parse(s, &p->hints, &p->nhints, err, errlen);
	if (!rc)
		rc = compile(&b, s);
	if (!rc)
		rc = prepare(&b);
	if (!rc) {
		for (size_t i = 0; i < p->nmounts; i++)
			p->mounts[i].order = i;
		if (p->nmounts)
			qsort(p->mounts, p->nmounts, sizeof *p->mounts, cmp_len);
		/* mountTmpVFS2's first test: an exact "/tmp" in the compiled mounts. */
		p->tmp = (flags & UVFS_OCI_NO_TMP) ? UVFS_TMP_DISABLED : UVFS_TMP_IF_EMPTY;
		for (size_t i = 0; i < p->nmounts; i++)
			if (!strcmp(p->mounts[i].destination, "/tmp") && p->tmp == UVFS_TMP_IF_EMPTY)
				p->tmp = UVFS_TMP_SPEC;
	}
	if (rc) {
		if (rc == -ENOMEM)
			berr(err, errlen, rc, "%s: out of memory", s->file ? s->file : "config.json");
		uvfs_mount_plan_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

UVFS_API int uvfs_mount_plan_bind_fds(struct uvfs_mount_plan *p, const int *fds, size_t nfds, char *err,
				      size_t errlen)
{
	if (err && errlen)
		err[0] = 0;
	struct fd_dispenser d = { .fds = fds, .n = nfds };
	/* Mount order is sorted; the fds follow the gofer order (spec order). */
	int *byg = calloc(p->ngofers, sizeof *byg);
	size_t *midx = calloc(p->ngofers, sizeof *midx);
	char **datas = calloc(p->ngofers, sizeof *datas);
	int rc = (byg && datas && midx) ? 0 : -ENOMEM;
	for (size_t i = 0; !rc && i < p->nmounts; i++)
		if (p->mounts[i].gofer > 0)
			midx[p->mounts[i].gofer] = i;
	for (size_t g = 0; g < p->ngofers && !rc; g++) {
		const char *what = g ? p->mounts[midx[g]].destination : "/";
		if (fdd_remove(&d, &byg[g])) {
			rc = berr(err, errlen, -EBADF, "out of gofer FDs: %zu given, %zu needed (none left for %s)", nfds,
				  p->ngofers, what);
			break;
		}
		if (g && byg[g] == 0) {
			rc = berr(err, errlen, -EINVAL, "mount submount \"%s\": 9P mount requires a connection FD", what);
			break;
		}
		enum uvfs_file_access a = g ? p->mounts[midx[g]].access : p->root.access;
		if (!(datas[g] = p9_data(byg[g], a, g == 0)))
			rc = -ENOMEM;
	}
	if (!rc)
		rc = fdd_check(&d, err, errlen);
	if (!rc) {
		free(p->root.data);
		p->root.data = datas[0];
		p->root.fd = byg[0];
		datas[0] = NULL;
		for (size_t i = 0; i < p->nmounts; i++) {
			struct uvfs_plan_mount *m = &p->mounts[i];
			if (m->gofer < 0)
				continue;
			m->fd = byg[m->gofer];
			char **slot = m->verity ? &m->lower_data : &m->data;
			free(*slot);
			*slot = datas[m->gofer];
			datas[m->gofer] = NULL;
		}
	}
	if (datas)
		strv_free(datas, p->ngofers);
	free(byg);
	free(midx);
	if (rc == -ENOMEM)
		berr(err, errlen, rc, "out of memory");
	return rc;
}
