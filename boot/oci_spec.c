/* boot/oci_spec.c — config.json → struct uvfs_oci_spec.
 *
 * jansson does the parsing (syntax errors come with its line and column;
 * duplicate keys are rejected). jansson keeps no positions for values, so
 * for a field error we find the value again in the text: locate() walks the
 * (already validated) JSON along the field's path of keys and indices and
 * turns the offset into line:column. Unknown keys are ignored, as the OCI
 * runtime spec requires of runtimes.
 *
 * Every field is copied out of jansson into plain malloc'd C data; on any
 * error the partly built spec is freed whole (all arrays count only the
 * entries that were filled, and everything starts zeroed).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/internal.h"

#define MAX_CONFIG_BYTES (64u << 20) /* a config.json is a few KiB; refuse absurd files */
#define MAX_DEPTH 8

HIDDEN int berr(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

HIDDEN void strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

HIDDEN int strv_dup(char *const *v, size_t n, char ***out)
{
	*out = NULL;
	if (!n)
		return 0;
	char **r = calloc(n, sizeof *r);
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r[i] = strdup(v[i]);
		if (!r[i]) {
			strv_free(r, i);
			return -ENOMEM;
		}
	}
	*out = r;
	return 0;
}

/* ------------------------------------------------------------ error location */

struct pathel {
	const char *key; /* NULL: array index */
	size_t idx;
};

struct pctx {
	const char *name; /* file name for messages */
	const char *text;
	size_t len;
	char *err;
	size_t errlen;
	struct pathel path[MAX_DEPTH];
	int depth;
};

static size_t skip_ws(const char *t, size_t len, size_t i)
{
	while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	return i;
}

/* t[i] == '"': index just past the closing quote. */
static size_t skip_string(const char *t, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (t[i] == '\\')
			i++;
		else if (t[i] == '"')
			return i + 1;
	}
	return len;
}

/* Index just past the value starting at i (no recursion: bracket depth). */
static size_t skip_value(const char *t, size_t len, size_t i)
{
	if (i >= len)
		return len;
	if (t[i] == '"')
		return skip_string(t, len, i);
	if (t[i] == '{' || t[i] == '[') {
		size_t depth = 0;
		while (i < len) {
			char c = t[i];
			if (c == '"') {
				i = skip_string(t, len, i);
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if ((c == '}' || c == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return len;
	}
	while (i < len && !strchr(",]} \t\r\n", t[i]))
		i++;
	return i;
}

/* Does the JSON string token at [i, end) decode to key? jansson decodes it. */
static bool key_equals(const char *t, size_t i, size_t end, const char *key)
{
	json_t *s = json_loadb(t + i, end - i, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	bool eq = s && json_is_string(s) && json_string_length(s) == strlen(key) &&
		  memcmp(json_string_value(s), key, strlen(key)) == 0;
	json_decref(s);
	return eq;
}

/* Offset of the value at path[0..depth), or of the deepest ancestor found. */
static size_t locate(const struct pctx *c, int depth)
{
	const char *t = c->text;
	size_t len = c->len;
	size_t at = skip_ws(t, len, 0);
	for (int d = 0; d < depth; d++) {
		const struct pathel *pe = &c->path[d];
		size_t i = at;
		if (i >= len || t[i] != (pe->key ? '{' : '['))
			return at;
		i = skip_ws(t, len, i + 1);
		size_t n = 0;
		bool found = false;
		while (i < len && t[i] != '}' && t[i] != ']') {
			if (pe->key) {
				size_t kend = skip_string(t, len, i);
				bool match = key_equals(t, i, kend, pe->key);
				i = skip_ws(t, len, kend);
				if (i < len && t[i] == ':')
					i = skip_ws(t, len, i + 1);
				if (match) {
					found = true;
					break;
				}
			} else if (n++ == pe->idx) {
				found = true;
				break;
			}
			i = skip_ws(t, len, skip_value(t, len, i));
			if (i < len && t[i] == ',')
				i = skip_ws(t, len, i + 1);
		}
		if (!found)
			return at;
		at = i;
	}
	return at;
}

static void line_col(const char *t, size_t off, int *line, int *col)
{
	int l = 1, c = 1;
	for (size_t i = 0; i < off; i++) {
		if (t[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)t[i] & 0xc0) != 0x80) {
			c++; /* columns count characters, as jansson's do */
		}
	}
	*line = l;
	*col = c;
}

static bool plain_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

/* "mounts[3].destination", keys that are not identifiers as ["a.b"]. */
static void field_name(const struct pctx *c, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (int d = 0; d < c->depth && o < len; d++) {
		const struct pathel *pe = &c->path[d];
		int w;
		if (!pe->key)
			w = snprintf(buf + o, len - o, "[%zu]", pe->idx);
		else if (plain_key(pe->key))
			w = snprintf(buf + o, len - o, "%s%s", d ? "." : "", pe->key);
		else
			w = snprintf(buf + o, len - o, "[\"%.64s\"]", pe->key);
		if (w < 0)
			break;
		o += (size_t)w;
	}
	if (!buf[0])
		snprintf(buf, len, "(top level)");
}

/* The error for the field at the current path. */
static int ferr(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ferr(struct pctx *c, const char *fmt, ...)
{
	if (!c->err || !c->errlen)
		return -EINVAL;
	char field[256], msg[256];
	int line, col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	field_name(c, field, sizeof field);
	line_col(c->text, locate(c, c->depth), &line, &col);
	snprintf(c->err, c->errlen, "%s:%d:%d: %s: %s", c->name, line, col, field, msg);
	return -EINVAL;
}

static void push_key(struct pctx *c, const char *key)
{
	c->path[c->depth].key = key;
	c->path[c->depth].idx = 0;
	c->depth++;
}

static void push_idx(struct pctx *c, size_t idx)
{
	c->path[c->depth].key = NULL;
	c->path[c->depth].idx = idx;
	c->depth++;
}

static void pop(struct pctx *c) { c->depth--; }

/* ------------------------------------------------------------ typed getters */

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* String at the current path into *out (strdup). */
static int get_string(struct pctx *c, const json_t *v, char **out)
{
	if (!json_is_string(v))
		return ferr(c, "expected a string, got %s", type_name(v));
	if (!(*out = strdup(json_string_value(v))))
		return -ENOMEM;
	return 0;
}

/* Optional member: absent → 0 and *out untouched; present → must be a string. */
static int opt_string(struct pctx *c, const json_t *obj, const char *key, char **out)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	push_key(c, key);
	int rc = get_string(c, v, out);
	pop(c);
	return rc;
}

static int req_string(struct pctx *c, const json_t *obj, const char *key, char **out)
{
	push_key(c, key);
	json_t *v = json_object_get(obj, key);
	int rc = v ? get_string(c, v, out) : ferr(c, "required");
	pop(c);
	return rc;
}

static int opt_bool(struct pctx *c, const json_t *obj, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	push_key(c, key);
	int rc = 0;
	if (json_is_boolean(v))
		*out = json_is_true(v);
	else
		rc = ferr(c, "expected a boolean, got %s", type_name(v));
	pop(c);
	return rc;
}

static int get_u32(struct pctx *c, const json_t *v, uint32_t *out)
{
	if (!json_is_integer(v))
		return ferr(c, "expected an integer, got %s", type_name(v));
	json_int_t i = json_integer_value(v);
	if (i < 0 || i > (json_int_t)UINT32_MAX)
		return ferr(c, "%lld is out of range [0, 4294967295]", (long long)i);
	*out = (uint32_t)i;
	return 0;
}

static int req_u32(struct pctx *c, const json_t *obj, const char *key, uint32_t *out)
{
	push_key(c, key);
	json_t *v = json_object_get(obj, key);
	int rc = v ? get_u32(c, v, out) : ferr(c, "required");
	pop(c);
	return rc;
}

/* Optional array of strings at obj[key]; *n counts the entries filled. */
static int opt_strv(struct pctx *c, const json_t *obj, const char *key, char ***out, size_t *n)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	push_key(c, key);
	int rc = 0;
	if (!json_is_array(v)) {
		rc = ferr(c, "expected an array of strings, got %s", type_name(v));
		goto out;
	}
	size_t len = json_array_size(v);
	if (len && !(*out = calloc(len, sizeof **out))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < len && !rc; i++) {
		push_idx(c, i);
		rc = get_string(c, json_array_get(v, i), &(*out)[i]);
		if (!rc)
			*n = i + 1;
		pop(c);
	}
out:
	pop(c);
	return rc;
}

/* Member key must be an object if present; *out NULL when absent. */
static int opt_object(struct pctx *c, const json_t *obj, const char *key, json_t **out)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_object(v)) {
		push_key(c, key);
		int rc = ferr(c, "expected an object, got %s", type_name(v));
		pop(c);
		return rc;
	}
	*out = v;
	return 0;
}

/* ------------------------------------------------------------ sections */

static int parse_root(struct pctx *c, const json_t *top, struct uvfs_oci_spec *s)
{
	json_t *root;
	int rc = opt_object(c, top, "root", &root);
	if (rc)
		return rc;
	if (!root) {
		push_key(c, "root");
		rc = ferr(c, "required (the sandbox needs a root filesystem)");
		pop(c);
		return rc;
	}
	push_key(c, "root");
	rc = req_string(c, root, "path", &s->root_path);
	if (!rc && !s->root_path[0]) {
		push_key(c, "path");
		rc = ferr(c, "must not be empty");
		pop(c);
	}
	if (!rc)
		rc = opt_bool(c, root, "readonly", &s->root_readonly);
	pop(c);
	return rc;
}

static int parse_mount(struct pctx *c, const json_t *m, struct uvfs_oci_mount *out)
{
	if (!json_is_object(m))
		return ferr(c, "expected an object, got %s", type_name(m));
	int rc = req_string(c, m, "destination", &out->destination);
	if (!rc && !out->destination[0]) {
		push_key(c, "destination");
		rc = ferr(c, "must not be empty");
		pop(c);
	}
	if (!rc)
		rc = opt_string(c, m, "type", &out->type);
	if (!rc)
		rc = opt_string(c, m, "source", &out->source);
	if (!rc)
		rc = opt_strv(c, m, "options", &out->options, &out->noptions);
	if (!rc && !out->type && !(out->type = strdup("")))
		rc = -ENOMEM;
	if (!rc && !out->source && !(out->source = strdup("")))
		rc = -ENOMEM;
	return rc;
}

static int parse_mounts(struct pctx *c, const json_t *top, struct uvfs_oci_spec *s)
{
	json_t *v = json_object_get(top, "mounts");
	if (!v)
		return 0;
	push_key(c, "mounts");
	int rc = 0;
	if (!json_is_array(v)) {
		rc = ferr(c, "expected an array of mounts, got %s", type_name(v));
		goto out;
	}
	size_t n = json_array_size(v);
	if (n && !(s->mounts = calloc(n, sizeof *s->mounts))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		push_idx(c, i);
		s->nmounts = i + 1; /* counted before filling: free handles partial entries */
		rc = parse_mount(c, json_array_get(v, i), &s->mounts[i]);
		pop(c);
	}
out:
	pop(c);
	return rc;
}

static int parse_process(struct pctx *c, const json_t *top, struct uvfs_oci_spec *s)
{
	json_t *p, *user;
	int rc = opt_object(c, top, "process", &p);
	if (rc)
		return rc;
	push_key(c, "process");
	if (!p) {
		rc = ferr(c, "required (the container's init process)");
		goto out;
	}
	if ((rc = opt_bool(c, p, "terminal", &s->terminal)))
		goto out;
	if ((rc = opt_strv(c, p, "args", &s->args, &s->nargs)))
		goto out;
	if (!s->nargs) {
		push_key(c, "args");
		rc = ferr(c, "at least one argument is required");
		pop(c);
		goto out;
	}
	if ((rc = opt_strv(c, p, "env", &s->env, &s->nenv)))
		goto out;
	if ((rc = req_string(c, p, "cwd", &s->cwd)))
		goto out;
	if (s->cwd[0] != '/') {
		push_key(c, "cwd");
		rc = ferr(c, "must be an absolute path");
		pop(c);
		goto out;
	}
	if ((rc = opt_object(c, p, "user", &user)))
		goto out;
	if (!user) {
		push_key(c, "user");
		rc = ferr(c, "required");
		pop(c);
		goto out;
	}
	push_key(c, "user");
	rc = req_u32(c, user, "uid", &s->uid);
	if (!rc)
		rc = req_u32(c, user, "gid", &s->gid);
	json_t *ag = json_object_get(user, "additionalGids");
	if (!rc && ag) {
		push_key(c, "additionalGids");
		if (!json_is_array(ag)) {
			rc = ferr(c, "expected an array of integers, got %s", type_name(ag));
		} else {
			size_t n = json_array_size(ag);
			if (n && !(s->additional_gids = calloc(n, sizeof(uint32_t))))
				rc = -ENOMEM;
			for (size_t i = 0; i < n && !rc; i++) {
				push_idx(c, i);
				rc = get_u32(c, json_array_get(ag, i), &s->additional_gids[i]);
				s->nadditional_gids = i + 1;
				pop(c);
			}
		}
		pop(c);
	}
	pop(c);
out:
	pop(c);
	return rc;
}

static int parse_annotations(struct pctx *c, const json_t *top, struct uvfs_oci_spec *s)
{
	json_t *a;
	int rc = opt_object(c, top, "annotations", &a);
	if (rc || !a)
		return rc;
	push_key(c, "annotations");
	size_t n = json_object_size(a);
	if (n && !(s->annotations = calloc(n, sizeof *s->annotations)))
		rc = -ENOMEM;
	const char *k;
	json_t *v;
	/* jansson iterates objects in file order (since 2.8). */
	json_object_foreach(a, k, v)
	{
		if (rc)
			break;
		push_key(c, k);
		struct uvfs_oci_kv *kv = &s->annotations[s->nannotations++];
		if (!(kv->key = strdup(k)))
			rc = -ENOMEM;
		else
			rc = get_string(c, v, &kv->value);
		pop(c);
	}
	pop(c);
	return rc;
}

static int parse_linux(struct pctx *c, const json_t *top, struct uvfs_oci_spec *s)
{
	json_t *l;
	int rc = opt_object(c, top, "linux", &l);
	if (rc || !l)
		return rc;
	push_key(c, "linux");
	rc = opt_string(c, l, "cgroupsPath", &s->cgroups_path);
	pop(c);
	return rc;
}

static int parse_top(struct pctx *c, const json_t *top, struct uvfs_oci_spec *s)
{
	if (!json_is_object(top))
		return ferr(c, "expected an object, got %s", type_name(top));
	int rc = req_string(c, top, "ociVersion", &s->oci_version);
	if (!rc)
		rc = parse_root(c, top, s);
	if (!rc)
		rc = parse_mounts(c, top, s);
	if (!rc)
		rc = parse_process(c, top, s);
	if (!rc)
		rc = opt_string(c, top, "hostname", &s->hostname);
	if (!rc)
		rc = parse_annotations(c, top, s);
	if (!rc)
		rc = parse_linux(c, top, s);
	return rc;
}

UVFS_API void uvfs_oci_spec_free(struct uvfs_oci_spec *s)
{
	if (!s)
		return;
	free(s->file);
	free(s->oci_version);
	free(s->root_path);
	for (size_t i = 0; i < s->nmounts; i++) {
		struct uvfs_oci_mount *m = &s->mounts[i];
		free(m->destination);
		free(m->type);
		free(m->source);
		strv_free(m->options, m->noptions);
	}
	free(s->mounts);
	strv_free(s->args, s->nargs);
	strv_free(s->env, s->nenv);
	free(s->cwd);
	free(s->additional_gids);
	free(s->hostname);
	for (size_t i = 0; i < s->nannotations; i++) {
		free(s->annotations[i].key);
		free(s->annotations[i].value);
	}
	free(s->annotations);
	free(s->cgroups_path);
	free(s);
}

UVFS_API int uvfs_oci_parse(const char *buf, size_t len, const char *name, struct uvfs_oci_spec **out, char *err,
			    size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!name)
		name = "config.json";
	json_error_t je;
	json_t *top = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!top)
		return berr(err, errlen, -EINVAL, "%s:%d:%d: invalid JSON: %s", name, je.line, je.column, je.text);
	struct pctx c = { .name = name, .text = buf, .len = len, .err = err, .errlen = errlen };
	struct uvfs_oci_spec *s = calloc(1, sizeof *s);
	int rc = s ? 0 : -ENOMEM;
	if (!rc && !(s->file = strdup(name)))
		rc = -ENOMEM;
	if (!rc)
		rc = parse_top(&c, top, s);
	json_decref(top);
	if (rc) {
		if (rc == -ENOMEM)
			berr(err, errlen, rc, "%s: out of memory", name);
		uvfs_oci_spec_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

UVFS_API int uvfs_oci_load(const char *path, struct uvfs_oci_spec **out, char *err, size_t errlen)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berr(err, errlen, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	int rc = 0;
	char *buf = NULL;
	if (fstat(fd, &st) < 0) {
		rc = berr(err, errlen, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = berr(err, errlen, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > MAX_CONFIG_BYTES) {
		rc = berr(err, errlen, -EFBIG, "%s: larger than %u bytes", path, MAX_CONFIG_BYTES);
		goto out;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	if (!(buf = malloc(cap))) {
		rc = berr(err, errlen, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		if (len == cap) { /* the file grew under us: read no more than the cap */
			rc = berr(err, errlen, -EFBIG, "%s: changed while being read", path);
			goto out;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = berr(err, errlen, -errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	rc = uvfs_oci_parse(buf, len, path, out, err, errlen);
out:
	free(buf);
	close(fd);
	return rc;
}
