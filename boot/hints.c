/* boot/hints.c — pod mount hints from annotations
 * (dev.gvisor.spec.mount.NAME.{source,type,share,options}, spec §4.4), with
 * the seed's validation and error wording. Go iterates the annotation map in
 * random order; we take the annotations in file order, so the first error
 * reported is always the same one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/internal.h"

#define MOUNT_PREFIX "dev.gvisor.spec.mount."

/* mount(8) flag words specutils.ValidateMountOptions accepts. */
static const char *const flag_words[] = {
	"acl",	       "async",	   "atime",	 "bind",      "defaults",   "dev",	  "diratime",
	"dirsync",     "exec",	   "noexec",	 "iversion",  "loud",	    "mand",	  "noacl",
	"noatime",     "nodev",	   "nodiratime", "noiversion", "nomand",     "norelatime", "nostrictatime",
	"nosuid",      "rbind",	   "relatime",	 "remount",   "ro",	    "rw",	  "silent",
	"strictatime", "suid",	   "sync",	 "private",   "rprivate",   "slave",	  "rslave",
	"unbindable",  "runbindable", NULL,
};

static bool in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (!strcmp(*l, s))
			return true;
	return false;
}

static bool key_is(const char *opt, const char *key)
{
	size_t n = strlen(key);
	return !strncmp(opt, key, n) && opt[n] == '=';
}

HIDDEN int validate_mount_options(char *const *opts, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const char *o = opts[i];
		if (!strcmp(o, "shared") || !strcmp(o, "rshared"))
			return berr(err, errlen, -EINVAL, "mount option \"%s\" is not supported", o);
		if (in_list(flag_words, o) || key_is(o, "verity.roothash") || key_is(o, "verity.action"))
			continue;
		/* design.md §6: a pod tmpfs may say its mode and owner. */
		if ((key_is(o, "mode") || key_is(o, "uid") || key_is(o, "gid")) && strchr(o, '=')[1])
			continue;
		return berr(err, errlen, -EINVAL, "unknown mount option \"%s\"", o);
	}
	return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Splits val on ',' (every piece kept, empty ones too, as Go's Split). */
static int split_commas(const char *val, char ***out, size_t *n)
{
	size_t cnt = 1;
	for (const char *p = val; *p; p++)
		cnt += *p == ',';
	char **v = calloc(cnt, sizeof *v);
	if (!v)
		return -ENOMEM;
	const char *s = val;
	for (size_t i = 0; i < cnt; i++) {
		const char *e = strchr(s, ',');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		if (!(v[i] = strndup(s, l))) {
			strv_free(v, i);
			return -ENOMEM;
		}
		s = e ? e + 1 : s + l;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static int set_field(struct uvfs_plan_hint *h, const char *field, const char *val, char *err, size_t errlen)
{
	if (!strcmp(field, "source")) {
		if (!val[0])
			return berr(err, errlen, -EINVAL, "source cannot be empty");
		free(h->source);
		return (h->source = strdup(val)) ? 0 : -ENOMEM;
	}
	if (!strcmp(field, "type")) {
		if (strcmp(val, "tmpfs") && strcmp(val, "bind"))
			return berr(err, errlen, -EINVAL, "invalid type \"%s\"", val);
		free(h->type);
		return (h->type = strdup(val)) ? 0 : -ENOMEM;
	}
	if (!strcmp(field, "share")) {
		if (!strcmp(val, "container"))
			h->share = UVFS_SHARE_CONTAINER;
		else if (!strcmp(val, "pod"))
			h->share = UVFS_SHARE_POD;
		else if (!strcmp(val, "shared"))
			h->share = UVFS_SHARE_SHARED;
		else
			return berr(err, errlen, -EINVAL, "invalid share value \"%s\"", val);
		return 0;
	}
	if (!strcmp(field, "options")) {
		char **v;
		size_t n;
		int rc = split_commas(val, &v, &n);
		if (rc)
			return rc;
		if ((rc = validate_mount_options(v, n, err, errlen))) {
			strv_free(v, n);
			return rc;
		}
		/* Sorted so it compares with the container mount's options. */
		qsort(v, n, sizeof *v, cmp_str);
		strv_free(h->options, h->noptions);
		h->options = v;
		h->noptions = n;
		return 0;
	}
	return berr(err, errlen, -EINVAL, "invalid mount annotation: %s=%s", field, val);
}

HIDDEN void hints_free(struct uvfs_plan_hint *h, size_t n)
{
	if (!h)
		return;
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].source);
		free(h[i].type);
		free(h[i].data);
		strv_free(h[i].options, h[i].noptions);
	}
	free(h);
}

/* Prefixes a message already in err with the file and the annotation. */
static int wrap(const struct uvfs_oci_spec *s, const char *key, int rc, char *err, size_t errlen)
{
	if (rc == -ENOMEM)
		return berr(err, errlen, rc, "%s: annotations: out of memory", s->file);
	if (err && errlen) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", err);
		if (key)
			snprintf(err, errlen, "%s: annotations[\"%s\"]: %s", s->file, key, msg);
		else
			snprintf(err, errlen, "%s: annotations: %s", s->file, msg);
	}
	return rc;
}

static int finish_hint(struct uvfs_plan_hint *h, char *err, size_t errlen)
{
	if (h->share == UVFS_SHARE_INVALID)
		return berr(err, errlen, -EINVAL, "share field for \"%s\" has not been set", h->name);
	if (!h->source)
		return berr(err, errlen, -EINVAL, "source field for \"%s\" has not been set", h->name);
	if (!h->type)
		return berr(err, errlen, -EINVAL, "type field for \"%s\" has not been set", h->name);
	mount_flags(h->options, h->noptions, &h->readonly, &h->noatime, &h->noexec);
	if (!strcmp(h->type, "tmpfs"))
		return filter_options(h->options, h->noptions, tmpfs_allowed_data, &h->data, err, errlen);
	return 0;
}

HIDDEN int hints_parse(const struct uvfs_oci_spec *s, struct uvfs_plan_hint **out, size_t *nout, char *err,
		       size_t errlen)
{
	struct uvfs_plan_hint *h = NULL;
	size_t n = 0;
	int rc = 0;
	*out = NULL;
	*nout = 0;
	for (size_t i = 0; i < s->nannotations && !rc; i++) {
		const char *k = s->annotations[i].key, *v = s->annotations[i].value;
		if (strncmp(k, MOUNT_PREFIX, strlen(MOUNT_PREFIX)))
			continue;
		const char *rest = k + strlen(MOUNT_PREFIX), *dot = strchr(rest, '.');
		if (!dot || strchr(dot + 1, '.')) {
			rc = wrap(s, k, berr(err, errlen, -EINVAL, "invalid mount annotation: %s=%s", k, v), err,
				  errlen);
			break;
		}
		size_t nl = (size_t)(dot - rest);
		if (!nl) {
			rc = wrap(s, k, berr(err, errlen, -EINVAL, "invalid mount name: "), err, errlen);
			break;
		}
		size_t j;
		for (j = 0; j < n; j++)
			if (strlen(h[j].name) == nl && !strncmp(h[j].name, rest, nl))
				break;
		if (j == n) {
			struct uvfs_plan_hint *nh = realloc(h, (n + 1) * sizeof *h);
			if (!nh) {
				rc = -ENOMEM;
				break;
			}
			h = nh;
			memset(&h[n], 0, sizeof *h);
			n++;
			if (!(h[j].name = strndup(rest, nl))) {
				rc = -ENOMEM;
				break;
			}
		}
		if ((rc = set_field(&h[j], dot + 1, v, err, errlen)))
			rc = wrap(s, k, rc, err, errlen);
	}
	/* Validate all hints after parsing, as the seed does. */
	for (size_t i = 0; i < n && !rc; i++) {
		if ((rc = finish_hint(&h[i], err, errlen))) {
			rc = wrap(s, NULL, rc, err, errlen);
			break;
		}
		for (size_t j = 0; j < n; j++) {
			if (i != j && h[j].source && !strcmp(h[i].source, h[j].source)) {
				rc = wrap(s, NULL,
					  berr(err, errlen, -EINVAL, "mounts \"%s\" and \"%s\" have the same mount source \"%s\"",
					       h[i].name, h[j].name, h[i].source),
					  err, errlen);
				break;
			}
		}
	}
	if (rc) {
		hints_free(h, n);
		return rc;
	}
	*out = h;
	*nout = n;
	return 0;
}

HIDDEN int hints_find(const struct uvfs_plan_hint *h, size_t n, const char *source)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(h[i].source, source))
			return (int)i;
	return -1;
}

HIDDEN bool hint_is_supported(const struct uvfs_plan_hint *h)
{
	/* The seed shared tmpfs only ("bind mounts require a common gofer"):
	 * the pod starts that gofer for each bind hint (pod.c). */
	return (!strcmp(h->type, "tmpfs") || !strcmp(h->type, "bind")) && h->share == UVFS_SHARE_POD;
}

/* Options that change the mount's behaviour, sorted, joined with ' '. */
static int filtered(const char *type, char *const *opts, size_t n, char **out)
{
	size_t cnt = 0, len = 1;
	const char **v = calloc(n ? n : 1, sizeof *v);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (is_supported_mount_flag(type, opts[i])) {
			v[cnt++] = opts[i];
			len += strlen(opts[i]) + 1;
		}
	qsort(v, cnt, sizeof *v, cmp_str);
	char *s = malloc(len);
	if (!s) {
		free(v);
		return -ENOMEM;
	}
	char *q = s;
	for (size_t i = 0; i < cnt; i++) {
		if (i)
			*q++ = ' ';
		size_t l = strlen(v[i]);
		memcpy(q, v[i], l);
		q += l;
	}
	*q = 0;
	free(v);
	*out = s;
	return 0;
}

HIDDEN int hint_check_compatible(const struct uvfs_plan_hint *h, const char *type, char *const *opts, size_t nopts,
				 bool bind_typed, char *err, size_t errlen)
{
	/* A bind-typed container mount (k8s emptyDir) carries no tmpfs data, so
	 * only the flags both can express are compared (design.md §6). */
	const char *mtype = bind_typed ? "bind" : h->type;
	char *a = NULL, *b = NULL;
	int rc = filtered(mtype, h->options, h->noptions, &a);
	if (!rc)
		rc = filtered(bind_typed ? "bind" : type, opts, nopts, &b);
	if (!rc && strcmp(a, b))
		rc = berr(err, errlen, -EINVAL,
			  "mount options in annotations differ from container mount, annotation: [%s], mount: [%s]", a, b);
	free(a);
	free(b);
	return rc;
}
