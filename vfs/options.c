/* vfs/options.c — the one mount option parser every filesystem uses. */
#include <ctype.h>
#include <stdio.h>
#include <sys/sysinfo.h>

#include "internal.h"

UVFS_API int uvfs_opts_parse(struct uvfs_opts *o, const char *data)
{
	memset(o, 0, sizeof(*o));
	if (!data || !*data)
		return 0;
	o->buf = strdup(data);
	if (!o->buf)
		return -ENOMEM;
	char *save = NULL;
	for (char *item = strtok_r(o->buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		char *val = "";
		if (eq) {
			*eq = 0;
			val = eq + 1;
		}
		if (!*item) {
			uvfs_log(UVFS_LOG_WARN, "mount options: empty key in \"%s\"", data);
			uvfs_opts_free(o);
			return -EINVAL;
		}
		/* A later duplicate wins: replace in place. */
		int i;
		for (i = 0; i < o->n; i++)
			if (!strcmp(o->o[i].key, item))
				break;
		if (i == o->n) {
			if (o->n == UVFS_OPTS_MAX) {
				uvfs_log(UVFS_LOG_WARN, "mount options: more than %d items", UVFS_OPTS_MAX);
				uvfs_opts_free(o);
				return -EINVAL;
			}
			o->n++;
		}
		o->o[i].key = item;
		o->o[i].val = val;
		o->o[i].used = false;
	}
	return 0;
}

UVFS_API void uvfs_opts_free(struct uvfs_opts *o)
{
	free(o->buf);
	o->buf = NULL;
	o->n = 0;
}

UVFS_API const char *uvfs_opts_take(struct uvfs_opts *o, const char *key)
{
	for (int i = 0; i < o->n; i++) {
		if (!strcmp(o->o[i].key, key)) {
			o->o[i].used = true;
			return o->o[i].val;
		}
	}
	return NULL;
}

static int parse_u64(const char *s, int base, uint64_t *out, const char **end)
{
	if (!*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	char *e;
	unsigned long long v = strtoull(s, &e, base);
	if (errno)
		return -EINVAL;
	*out = v;
	*end = e;
	return 0;
}

UVFS_API int uvfs_opts_take_u64(struct uvfs_opts *o, const char *key, uint64_t *out, bool *present)
{
	const char *v = uvfs_opts_take(o, key);
	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	const char *end;
	if (parse_u64(v, 10, out, &end) || *end) {
		uvfs_log(UVFS_LOG_WARN, "mount option %s: invalid number \"%s\"", key, v);
		return -EINVAL;
	}
	return 0;
}

UVFS_API int uvfs_opts_take_octal(struct uvfs_opts *o, const char *key, uint32_t *out, bool *present)
{
	const char *v = uvfs_opts_take(o, key);
	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	const char *end;
	uint64_t n;
	if (parse_u64(v, 8, &n, &end) || *end || n > 07777) {
		uvfs_log(UVFS_LOG_WARN, "mount option %s: invalid mode \"%s\"", key, v);
		return -EINVAL;
	}
	*out = (uint32_t)n;
	return 0;
}

UVFS_API int uvfs_opts_take_size(struct uvfs_opts *o, const char *key, uint64_t total, uint64_t *out,
				 bool *present)
{
	const char *v = uvfs_opts_take(o, key);
	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	const char *end;
	uint64_t n;
	if (parse_u64(v, 10, &n, &end))
		goto bad;
	uint64_t mul = 1;
	switch (*end) {
	case 0:
		break;
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	case 't': case 'T': mul = 1ULL << 40; end++; break;
	case '%':
		if (n > 100)
			goto bad;
		*out = total / 100 * n;
		if (end[1])
			goto bad;
		return 0;
	default:
		goto bad;
	}
	if (*end || (n && mul > UINT64_MAX / n))
		goto bad;
	*out = n * mul;
	return 0;
bad:
	uvfs_log(UVFS_LOG_WARN, "mount option %s: invalid size \"%s\"", key, v);
	return -EINVAL;
}

UVFS_API int uvfs_opts_check_unused(struct uvfs_opts *o, const char *fsname)
{
	for (int i = 0; i < o->n; i++) {
		if (!o->o[i].used) {
			uvfs_log(UVFS_LOG_WARN, "%s: unknown mount option \"%s\"", fsname, o->o[i].key);
			return -EINVAL;
		}
	}
	return 0;
}
