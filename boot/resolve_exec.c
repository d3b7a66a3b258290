/* boot/resolve_exec.c — gVisor's user.ResolveExecutablePath (spec §4.9):
 * which file the container's first process runs. An absolute name is
 * taken as is; a name with a '/' past its first byte is joined to the
 * working directory; any other is looked up along $PATH (absolute entries
 * only) in the container's tree with the process's credentials, opened for
 * execution: ENOENT and EACCES try the next entry, any other error stops.
 * Error texts are the seed's (Go's lower-case errno strings included).
 * Stateless: any thread may call it. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "boot/internal.h"

/* user.DefaultPath */
static const char *const default_path[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
					    "/usr/bin",        "/sbin",           "/bin" };

/* Go's syscall.Errno strings are glibc's with a lower-case first letter. */
static void go_strerror(int e, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(e));
	buf[0] = (char)tolower((unsigned char)buf[0]);
}

/* "[a b c]", Go's %v of a []string. */
static char *go_list(char **v, size_t n)
{
	size_t len = 3;
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	*p++ = '[';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? " " : "", v[i]);
	strcpy(p, "]");
	return s;
}

/* getPath: the first PATH= of env split on ':' (empty entries kept, as
 * strings.Split keeps them), else DefaultPath. */
static int get_path(char *const *env, size_t nenv, char ***out, size_t *n)
{
	const char *val = NULL;
	for (size_t i = 0; i < nenv && !val; i++)
		if (!strncmp(env[i], "PATH=", 5))
			val = env[i] + 5;
	if (!val) {
		*n = sizeof default_path / sizeof *default_path;
		return strv_dup((char *const *)default_path, *n, out);
	}
	size_t cnt = 1;
	for (const char *p = val; *p; p++)
		cnt += *p == ':';
	char **v = calloc(cnt, sizeof *v);
	if (!v)
		return -ENOMEM;
	const char *s = val;
	for (size_t i = 0; i < cnt; i++) {
		const char *e = strchrnul(s, ':');
		if (!(v[i] = strndup(s, (size_t)(e - s)))) {
			strv_free(v, i);
			return -ENOMEM;
		}
		s = *e ? e + 1 : e;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* path.Join(dir, name) for an absolute dir. */
static char *join(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *j = malloc(len);
	if (!j)
		return NULL;
	snprintf(j, len, "%s/%s", dir, name);
	char *c = clean_abs_path(j);
	free(j);
	return c;
}

UVFS_API int uvfs_resolve_executable_path(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *root,
					  const struct uvfs_exec_args *a, char **out, char *err, size_t errlen)
{
	if (!vfs || !cred || !root || !a || !out)
		return -EINVAL;
	*out = NULL;
	const char *name = a->filename && *a->filename ? a->filename : a->argc ? a->argv[0] : NULL;
	if (!name)
		return berr(err, errlen, -EINVAL, "no filename or command provided");
	if (name[0] == '/')
		return (*out = strdup(name)) ? 0 : -ENOMEM;
	if (strchr(name, '/')) {
		const char *wd = a->cwd && *a->cwd ? a->cwd : "/";
		if (wd[0] != '/')
			return berr(err, errlen, -EINVAL, "working directory \"%s\" must be absolute", wd);
		return (*out = join(wd, name)) ? 0 : -ENOMEM;
	}
	char **paths = NULL;
	size_t np = 0;
	int rc = get_path(a->env, a->nenv, &paths, &np);
	if (rc)
		return rc;
	rc = -ENOENT;
	for (size_t i = 0; i < np && rc == -ENOENT; i++) {
		if (paths[i][0] != '/') {
			uvfs_log(UVFS_LOG_WARN, "boot: skipping relative path \"%s\" in $PATH", paths[i]);
			continue;
		}
		char *bin = join(paths[i], name);
		if (!bin) {
			rc = -ENOMEM;
			break;
		}
		struct uvfs_pathop pop = { .root = *root, .start = *root, .path = bin, .flags = UVFS_PATH_FOLLOW };
		struct uvfs_file *f;
		rc = uvfs_open_at(vfs, cred, &pop, O_RDONLY, 0, UVFS_OPEN_EXEC, &f);
		if (!rc) {
			uvfs_file_put(f);
			*out = bin;
			break;
		}
		free(bin);
		if (rc == -EACCES)
			rc = -ENOENT; /* not here: try the next entry */
	}
	if (rc && rc != -ENOMEM) {
		char e[128], *list = go_list(paths, np);
		go_strerror(-rc, e, sizeof e);
		berr(err, errlen, rc, "error finding executable \"%s\" in PATH %s: %s", name, list ? list : "[...]", e);
		free(list);
	}
	strv_free(paths, np);
	return rc;
}
