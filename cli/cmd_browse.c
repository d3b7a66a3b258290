/* cli/cmd_browse.c — `uvfs ls|stat|cat|tree [-t TYPE [-o OPTS] SOURCE]
 * PATH...`: the default tree (or one filesystem of TYPE: cli/mount_spec.h)
 * in process, without FUSE (for machines without /dev/fuse and for scripts).
 * Paths are absolute in the tree ("etc" means "/etc"); a final symlink is
 * not followed except by cat. Exit status 1 if any path failed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/escape.h"
#include "cli/bundle.h"
#include "cli/mount_spec.h"
#include "cli/statfmt.h"
#include "boot/boot.h"
#include "fuse/fuse_export.h"

struct env {
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct uvfs_vd root;
	struct uvfs_cred cred;
};

static struct cli_bundle bundle; /* a booted --bundle, released by env_close */

/* Takes -t/-o/SOURCE out of argv, then builds that tree (or the default). */
static int env_open_args(struct env *e, int *argc, char **argv)
{
	int b = cli_bundle_take_args(argc, argv, &bundle); /* --bundle DIR: cli/bundle.h */
	if (b < 0 || (b > 0 && cli_bundle_boot(&bundle, &e->vfs, &e->ns)))
		return -1;
	struct cli_mount_spec spec = { 0 };
	if (!b && cli_take_mount_args(argc, argv, &spec))
		return -1;
	int err = b ? 0 : cli_build_tree(&spec, &e->vfs, &e->ns);
	if (err) {
		fprintf(stderr, "uvfs: building the %s tree: %s\n", spec.type ? spec.type : "default", strerror(-err));
		return -1;
	}
	uvfs_mntns_root(e->ns, &e->root);
	uvfs_cred_init_root(&e->cred);
	return 0;
}

/* Tears down and reports leaks; returns rc, or 3 on leaks. */
static int env_close(struct env *e, int rc)
{
	uvfs_vd_put(&e->root);
	uvfs_mntns_put(e->ns);
	cli_bundle_release(&bundle);
	struct uvfs_live live;
	memset(&live, 0, sizeof(live));
	int drc = uvfs_destroy(e->vfs, &live);
	if (drc || live.dentries || live.inodes || live.mounts || live.mntns || live.files || live.filesystems) {
		uvfs_report_teardown(drc, &live);
		return 3;
	}
	return rc;
}

static struct uvfs_pathop pop(struct env *e, const char *path, unsigned flags)
{
	return (struct uvfs_pathop){ .root = e->root, .start = e->root, .path = path, .flags = flags };
}

static int lstat_(struct env *e, const char *path, struct statx *x)
{
	struct uvfs_pathop p = pop(e, path, 0);
	return uvfs_stat_at(e->vfs, &e->cred, &p, STATX_BASIC_STATS, x);
}

/* path's symlink target into buf, or NULL. */
static const char *link_target(struct env *e, const char *path, const struct statx *x, char *buf, size_t len)
{
	if (!S_ISLNK(x->stx_mode))
		return NULL;
	struct uvfs_pathop p = pop(e, path, 0);
	ssize_t n = uvfs_readlink_at(e->vfs, &e->cred, &p, buf, len - 1);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return buf;
}

/* Takes the flags in `letters` (and --json) out of argv, in any position
 * before a "--"; an unknown one is a usage error (-1, message printed).
 * -t/-o and their values are left for cli_take_mount_args. */
static int take_flags(const char *cmd, int *argc, char **argv, const char *letters, bool *set, bool *json)
{
	int out = 1;
	bool dashdash = false;
	for (int i = 1; i < *argc; i++) {
		char *s = argv[i];
		if (dashdash || s[0] != '-' || !s[1]) {
			argv[out++] = s;
			continue;
		}
		if (!strcmp(s, "--")) {
			dashdash = true;
			continue;
		}
		if ((!strcmp(s, "-t") || !strcmp(s, "-o")) && i + 1 < *argc) {
			argv[out++] = s;
			argv[out++] = argv[++i];
			continue;
		}
		if (!strcmp(s, "--bundle") && i + 1 < *argc) { /* cli/bundle.h takes these later */
			argv[out++] = s;
			argv[out++] = argv[++i];
			continue;
		}
		if (!strncmp(s, "--bundle=", 9) || !strcmp(s, "--host") || !strcmp(s, "--overlay") ||
		    !strcmp(s, "--cgroupfs") || !strncmp(s, "--file-access", 13)) {
			argv[out++] = s;
			continue;
		}
		if (!strcmp(s, "--json") && json) {
			*json = true;
			continue;
		}
		for (const char *c = s + 1; *c; c++) {
			const char *k = s[1] == '-' ? NULL : strchr(letters, *c);
			if (!k) {
				fprintf(stderr, "uvfs: %s: unknown option '%s' (see `uvfs %s --help`)\n", cmd, s, cmd);
				return -1;
			}
			set[k - letters] = true;
		}
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

struct names {
	char **v;
	size_t n, cap;
};

static int collect(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next_off)
{
	struct names *nm = arg;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (nm->n == nm->cap) {
		size_t cap = nm->cap ? nm->cap * 2 : 32;
		char **v = realloc(nm->v, cap * sizeof(*v));
		if (!v)
			return 1;
		nm->v = v;
		nm->cap = cap;
	}
	nm->v[nm->n] = strndup(name, len);
	if (!nm->v[nm->n])
		return 1;
	nm->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
}

/* Sorted names of directory path (no . and ..). */
static int list_dir(struct env *e, const char *path, struct names *nm)
{
	struct uvfs_pathop p = pop(e, path, UVFS_PATH_FOLLOW | UVFS_PATH_EMPTY);
	struct uvfs_file *f;
	int err = uvfs_open_at(e->vfs, &e->cred, &p, O_RDONLY | O_DIRECTORY, 0, 0, &f);
	if (err)
		return err;
	memset(nm, 0, sizeof(*nm));
	err = uvfs_iterate_dir(f, collect, nm);
	uvfs_file_put(f);
	if (err) {
		names_free(nm);
		return err;
	}
	if (nm->n)
		qsort(nm->v, nm->n, sizeof(*nm->v), cmp_str);
	return 0;
}

static void join(char *out, size_t len, const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	snprintf(out, len, "%s%s%s", dir, (dl && dir[dl - 1] == '/') ? "" : "/", name);
}

struct ls_opts {
	bool all, recurse, json, lng, one;
};

/* Terminal width as GNU ls takes it: $COLUMNS, else the tty's, else 80. */
static size_t term_width(void)
{
	const char *c = getenv("COLUMNS");
	char *end;
	unsigned long v = c ? strtoul(c, &end, 10) : 0;
	if (c && *c && !*end && v > 0 && v < 100000)
		return v;
	struct winsize ws;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
		return ws.ws_col;
	return 80;
}

/* Columns a (escaped, so printable) name takes: UTF-8 continuation bytes
 * take none. */
static size_t name_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* ls(1)'s short format: one name a line unless stdout is a terminal, then
 * GNU ls's vertical columns (the most columns whose widths, each the
 * longest name in it plus 2 but the last, stay below the width). Names go
 * through cli_put_name first: they are data (cli/escape.h). */
static int print_short(char *const *names, size_t n, bool one)
{
	int rc = 0;
	if (!n)
		return 0;
	char **v = calloc(n, sizeof(*v));
	size_t *w = calloc(n, sizeof(*w));
	for (size_t i = 0; v && w && i < n; i++) {
		size_t len;
		FILE *m = open_memstream(&v[i], &len);
		if (!m) {
			rc = 1;
			goto out;
		}
		cli_put_str(m, names[i]);
		if (fclose(m)) {
			rc = 1;
			goto out;
		}
	}
	if (!v || !w) {
		rc = 1;
		goto out;
	}
	size_t width = one || !isatty(STDOUT_FILENO) ? 0 : term_width();
	size_t maxc = width / 3 < n ? width / 3 : n, cols = 1, rows = n;
	for (size_t c = maxc; c > 1; c--) {
		size_t r = (n + c - 1) / c, len = 0;
		memset(w, 0, c * sizeof(*w));
		for (size_t i = 0; i < n; i++) {
			size_t col = i / r, l = name_width(v[i]) + (col == c - 1 ? 0 : 2);
			if (l > w[col])
				w[col] = l;
		}
		for (size_t k = 0; k < c; k++)
			len += w[k];
		if (len < width) {
			cols = c;
			rows = r;
			break;
		}
	}
	for (size_t r = 0; r < rows; r++) {
		for (size_t i = r, col = 0; i < n; i += rows, col++) {
			fputs(v[i], stdout);
			if (cols > 1 && i + rows < n)
				printf("%*s", (int)(w[col] - name_width(v[i])), "");
		}
		putchar('\n');
	}
out:
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
	free(w);
	return rc;
}

/* Lists one directory (its entries in nm); -R recurses after it, as ls. */
static int ls_dir(struct env *e, const char *path, const struct ls_opts *o, bool header, json_t *arr, int depth)
{
	struct names nm;
	int err = list_dir(e, path, &nm);
	if (err) {
		fprintf(stderr, "uvfs: ls: %s: %s\n", path, strerror(-err));
		return 1;
	}
	int rc = 0;
	if (header && !o->json)
		printf("%s:\n", path);
	if (!o->lng && !o->json) {
		static char dot[] = ".", dotdot[] = "..";
		char **v = malloc((nm.n + 2) * sizeof(*v));
		size_t k = 0;
		if (v) {
			if (o->all) {
				v[k++] = dot;
				v[k++] = dotdot;
			}
			if (nm.n)
				memcpy(v + k, nm.v, nm.n * sizeof(*v));
			rc |= print_short(v, k + nm.n, o->one);
			free(v);
		} else {
			rc = 1;
		}
	} else if (o->all && !o->json) {
		static const char *const dots[] = { ".", ".." };
		for (int d = 0; d < 2; d++) {
			char p2[4096];
			struct statx x;
			join(p2, sizeof(p2), path, dots[d]);
			if (!lstat_(e, p2, &x))
				cli_print_long(stdout, dots[d], &x, NULL);
		}
	}
	for (size_t j = 0; (o->lng || o->json) && j < nm.n; j++) {
		char child[4096], t[4097];
		struct statx x;
		join(child, sizeof(child), path, nm.v[j]);
		if (lstat_(e, child, &x))
			continue;
		const char *tg = link_target(e, child, &x, t, sizeof(t));
		if (o->json) {
			json_t *ent = cli_stat_json(child, &x, tg);
			if (ent)
				json_array_append_new(arr, ent);
			else
				rc = 1;
		} else if (o->lng) {
			cli_print_long(stdout, nm.v[j], &x, tg);
		}
	}
	if (o->recurse && depth < 64) {
		for (size_t j = 0; j < nm.n; j++) {
			char child[4096];
			struct statx x;
			join(child, sizeof(child), path, nm.v[j]);
			if (lstat_(e, child, &x) || !S_ISDIR(x.stx_mode))
				continue;
			if (!o->json)
				putchar('\n');
			rc |= ls_dir(e, child, o, true, arr, depth + 1);
		}
	}
	names_free(&nm);
	return rc;
}

int cmd_ls(int argc, char **argv)
{
	bool f[4] = { 0 }; /* l a R 1 */
	struct ls_opts o = { 0 };
	if (take_flags("ls", &argc, argv, "laR1", f, &o.json))
		return 2;
	o.lng = f[0];
	o.all = f[1];
	o.recurse = f[2];
	o.one = f[3];
	struct env e;
	if (env_open_args(&e, &argc, argv))
		return 1;
	int rc = 0;
	char *deflt[] = { "/" };
	char **paths = argc > 1 ? argv + 1 : deflt;
	int np = argc > 1 ? argc - 1 : 1;
	json_t *arr = o.json ? json_array() : NULL;
	for (int i = 0; i < np; i++) {
		struct statx x;
		int err = lstat_(&e, paths[i], &x);
		if (err) {
			fprintf(stderr, "uvfs: ls: %s: %s\n", paths[i], strerror(-err));
			rc = 1;
			continue;
		}
		if (!S_ISDIR(x.stx_mode)) {
			char t[4097];
			const char *tg = link_target(&e, paths[i], &x, t, sizeof(t));
			if (o.json)
				json_array_append_new(arr, cli_stat_json(paths[i], &x, tg));
			else if (o.lng)
				cli_print_long(stdout, paths[i], &x, tg);
			else
				rc |= print_short(&paths[i], 1, true);
			continue;
		}
		if (i && !o.json)
			putchar('\n');
		rc |= ls_dir(&e, paths[i], &o, np > 1 || o.recurse, arr, 0);
	}
	if (o.json && cli_json_print(arr))
		rc = 1;
	return env_close(&e, rc);
}

int cmd_stat(int argc, char **argv)
{
	bool json = false;
	if (take_flags("stat", &argc, argv, "", NULL, &json))
		return 2;
	struct env e;
	if (env_open_args(&e, &argc, argv))
		return 1;
	if (argc < 2) {
		fprintf(stderr, "uvfs: stat: no PATH given (see `uvfs stat --help`)\n");
		return env_close(&e, 2);
	}
	int rc = 0;
	json_t *arr = json ? json_array() : NULL;
	for (int i = 1; i < argc; i++) {
		struct statx x;
		int err = lstat_(&e, argv[i], &x);
		if (err) {
			fprintf(stderr, "uvfs: stat: %s: %s\n", argv[i], strerror(-err));
			rc = 1;
			continue;
		}
		char t[4097];
		const char *tg = link_target(&e, argv[i], &x, t, sizeof(t));
		json_t *xa = json ? json_object() : NULL;
		struct uvfs_pathop p = pop(&e, argv[i], 0);
		char names[4096];
		ssize_t n = uvfs_listxattr_at(e.vfs, &e.cred, &p, names, sizeof(names));
		if (json) {
			json_t *j = cli_stat_json(argv[i], &x, tg);
			if (!j) {
				fprintf(stderr, "uvfs: stat: %s: cannot be shown as JSON (not UTF-8?)\n", argv[i]);
				rc = 1;
				json_decref(xa);
				continue;
			}
			json_object_set_new(j, "xattrs", xa);
			json_array_append_new(arr, j);
		} else {
			cli_print_stat(stdout, argv[i], &x, tg, NULL);
		}
		for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
			char val[1024];
			ssize_t vl = uvfs_getxattr_at(e.vfs, &e.cred, &p, names + off, val, sizeof(val));
			if (vl < 0)
				continue;
			if (json) {
				json_object_set_new(xa, names + off, json_stringn(val, (size_t)vl));
			} else {
				fputs(" Xattr: ", stdout), cli_put_str(stdout, names + off), fputs("=\"", stdout);
				cli_put_name(stdout, val, (size_t)vl), fputs("\"\n", stdout);
			}
		}
	}
	if (json && cli_json_print(arr))
		rc = 1;
	return env_close(&e, rc);
}

int cmd_cat(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: uvfs cat PATH...\n");
		return 2;
	}
	struct env e;
	if (env_open_args(&e, &argc, argv))
		return 1;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		struct uvfs_pathop p = pop(&e, argv[i], UVFS_PATH_FOLLOW);
		struct uvfs_file *f;
		int err = uvfs_open_at(e.vfs, &e.cred, &p, O_RDONLY, 0, 0, &f);
		char buf[65536];
		ssize_t n = 0;
		while (!err && (n = uvfs_read(f, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, stdout);
		if (!err) {
			uvfs_file_put(f);
			err = n < 0 ? (int)n : 0;
		}
		if (err) {
			fprintf(stderr, "uvfs: cat: %s: %s\n", argv[i], strerror(-err));
			rc = 1;
		}
	}
	fflush(stdout);
	return env_close(&e, rc);
}

struct tree_count {
	long dirs, files;
	bool all;
};

/* GNU tree's rules: dot names only with -a; a symlink is listed with its
 * target and counted as a directory if it resolves to one (not entered);
 * the top directory counts too. json: the entries' array, as tree -J. */
static void tree_walk(struct env *e, const char *path, const char *prefix, struct tree_count *c, int depth,
		      json_t *arr)
{
	struct names nm;
	if (depth > 64 || list_dir(e, path, &nm))
		return;
	size_t shown = 0, total = 0;
	for (size_t j = 0; j < nm.n; j++)
		total += c->all || nm.v[j][0] != '.';
	for (size_t j = 0; j < nm.n; j++) {
		if (!c->all && nm.v[j][0] == '.')
			continue;
		bool last = ++shown == total;
		char child[4096], t[4097];
		join(child, sizeof(child), path, nm.v[j]);
		struct statx x, fx;
		if (lstat_(e, child, &x))
			continue;
		const char *tg = link_target(e, child, &x, t, sizeof(t));
		bool isdir = S_ISDIR(x.stx_mode);
		if (tg) {
			struct uvfs_pathop p = pop(e, child, UVFS_PATH_FOLLOW);
			isdir = !uvfs_stat_at(e->vfs, &e->cred, &p, STATX_TYPE, &fx) && S_ISDIR(fx.stx_mode);
		}
		json_t *ent = NULL;
		if (arr) {
			ent = json_pack("{s:s, s:s}", "type", tg ? "link" : isdir ? "directory" : "file", "name", nm.v[j]);
			if (ent && tg)
				json_object_set_new(ent, "target", json_string(tg));
			if (ent)
				json_array_append_new(arr, ent);
		} else {
			printf("%s%s ", prefix, last ? "`--" : "|--"), cli_put_str(stdout, nm.v[j]);
			if (tg)
				fputs(" -> ", stdout), cli_put_str(stdout, tg);
			putchar('\n');
		}
		if (isdir) {
			c->dirs++;
			if (tg)
				continue;
			char pre[1024];
			snprintf(pre, sizeof(pre), "%s%s", prefix, last ? "    " : "|   ");
			json_t *sub = arr && ent ? json_array() : NULL;
			tree_walk(e, child, pre, c, depth + 1, sub);
			if (sub)
				json_object_set_new(ent, "contents", sub);
		} else {
			c->files++;
		}
	}
	names_free(&nm);
}

int cmd_tree(int argc, char **argv)
{
	bool f[1] = { false }, json = false;
	if (take_flags("tree", &argc, argv, "a", f, &json))
		return 2;
	struct env e;
	if (env_open_args(&e, &argc, argv))
		return 1;
	int rc = 0;
	char *deflt[] = { "/" };
	char **paths = argc > 1 ? argv + 1 : deflt;
	int np = argc > 1 ? argc - 1 : 1;
	struct tree_count c = { 0, 0, f[0] };
	json_t *top = json ? json_array() : NULL;
	for (int i = 0; i < np; i++) {
		struct statx x;
		int err = lstat_(&e, paths[i], &x);
		if (!err && !S_ISDIR(x.stx_mode))
			err = -ENOTDIR;
		if (err) {
			fprintf(stderr, "uvfs: tree: %s: %s\n", paths[i], strerror(-err));
			rc = 1;
			continue;
		}
		c.dirs++; /* the top directory, as GNU tree 2 counts it */
		json_t *contents = json ? json_array() : NULL;
		if (!json)
			printf("%s\n", paths[i]);
		tree_walk(&e, paths[i], "", &c, 0, contents);
		if (json)
			json_array_append_new(top, json_pack("{s:s, s:s, s:o}", "type", "directory", "name", paths[i],
							     "contents", contents));
	}
	if (json) {
		json_array_append_new(top, json_pack("{s:s, s:I, s:I}", "type", "report", "directories",
						     (json_int_t)c.dirs, "files", (json_int_t)c.files));
		if (cli_json_print(top))
			rc = 1;
	} else if (c.dirs || c.files) {
		printf("\n%ld director%s, %ld file%s\n", c.dirs, c.dirs == 1 ? "y" : "ies", c.files, c.files == 1 ? "" : "s");
	}
	return env_close(&e, rc);
}
