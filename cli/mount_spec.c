/* cli/mount_spec.c — the table of mountable types behind `-t TYPE` and the
 * argument parsing shared by `uvfs mount|ls|stat|cat|tree` (see
 * mount_spec.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "cli/mount_spec.h"
#include "fsimpl/gofer/gofer.h"
#include "fsimpl/overlay/overlay.h"
#include "fsimpl/verity/verity.h"
#include "vfs/uvfs_fs.h"

/* What a row prepares for uvfs_mntns_new: the data string (malloc'd), the
 * mount flags, the typed internal data. */
struct prepared {
	char *data;
	unsigned flags;
	struct uvfs_gofer_internal gofer;
	struct uvfs_verity_mount verity;
	struct uvfs_mount *lower; /* a stacked type's lower mount: put after the mount */
	struct uvfs_overlay_host *ovh; /* overlay's host layers: put after the mount */
	struct uvfs_mount *trees; /* verity's tree_dir= mount, the same */
	const void *internal;
};

/* Splits opts into (ro?, the rest without ro and without trans=diod) and
 * reports the trans= value (NULL if none). */
static char *strip_opts(const char *opts, bool *ro, char *trans, size_t tlen)
{
	char *out = calloc(1, (opts ? strlen(opts) : 0) + 1);
	if (!out)
		return NULL;
	*ro = false;
	trans[0] = 0;
	if (!opts)
		return out;
	char *copy = strdup(opts), *save = NULL;
	if (!copy) {
		free(out);
		return NULL;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "ro")) {
			*ro = true;
			continue;
		}
		if (!strcmp(tok, "rw"))
			continue;
		if (!strncmp(tok, "trans=", 6)) {
			snprintf(trans, tlen, "%s", tok + 6);
			if (!strcmp(tok + 6, "diod"))
				continue;
		}
		if (*out)
			strcat(out, ",");
		strcat(out, tok);
	}
	free(copy);
	return out;
}

static int prep_tmpfs(struct uvfs *vfs, const struct cli_mount_spec *s, struct prepared *p)
{
	bool ro;
	char trans[16];
	p->data = strip_opts(s->opts, &ro, trans, sizeof(trans));
	if (!p->data)
		return -ENOMEM;
	p->flags = ro ? UVFS_MNT_RDONLY : 0;
	return 0;
}

static int prep_9p(struct uvfs *vfs, const struct cli_mount_spec *s, struct prepared *p)
{
	bool ro;
	char trans[16];
	char *rest = strip_opts(s->opts, &ro, trans, sizeof(trans));
	if (!rest)
		return -ENOMEM;
	p->flags = ro ? UVFS_MNT_RDONLY : 0;
	if (trans[0] && strcmp(trans, "diod")) {
		/* A running server: SOURCE is the aname unless -o gives one. */
		bool has_aname = strstr(rest, "aname=") != NULL;
		size_t n = strlen(rest) + strlen(s->source) + 16;
		p->data = malloc(n);
		if (!p->data) {
			free(rest);
			return -ENOMEM;
		}
		snprintf(p->data, n, "%s%s%s", rest, has_aname ? "" : ",aname=", has_aname ? "" : s->source);
		free(rest);
		return 0;
	}
	char dir[PATH_MAX];
	if (!realpath(s->source, dir)) {
		int e = -errno;
		fprintf(stderr, "uvfs: 9p: %s: %s\n", s->source, strerror(errno));
		free(rest);
		return e;
	}
	int fd;
	struct uvfs_gofer_proc *proc;
	int err = uvfs_gofer_spawn(dir, ro, &fd, &proc);
	if (err) {
		fprintf(stderr, "uvfs: 9p: starting diod for %s: %s\n", dir, strerror(-err));
		free(rest);
		return err;
	}
	size_t n = strlen(rest) + strlen(dir) + 64;
	p->data = malloc(n);
	if (!p->data) {
		free(rest);
		close(fd); /* diod sees EOF and exits */
		uvfs_gofer_reap(proc);
		return -ENOMEM;
	}
	snprintf(p->data, n, "trans=fd,rfdno=%d,wfdno=%d,aname=%s%s%s", fd, fd, dir, *rest ? "," : "", rest);
	free(rest);
	uvfs_log(UVFS_LOG_INFO, "9p: started diod for %s%s (fd %d)", dir, ro ? " read-only" : "", fd);
	p->gofer.proc = proc; /* the mount owns it (and the fd) from here */
	p->internal = &p->gofer;
	return 0;
}

/* Removes key=VALUE from the comma-separated opts in place; a malloc'd
 * VALUE, or NULL if absent (*err: -ENOMEM). */
static char *take_opt(char *opts, const char *key, int *err)
{
	size_t kl = strlen(key);
	*err = 0;
	for (char *tok = opts; *tok;) {
		char *end = strchrnul(tok, ',');
		if ((size_t)(end - tok) > kl && !strncmp(tok, key, kl) && tok[kl] == '=') {
			char *v = strndup(tok + kl + 1, (size_t)(end - tok) - kl - 1);
			if (!v)
				*err = -ENOMEM;
			if (*end)
				memmove(tok, end + 1, strlen(end + 1) + 1);
			else
				*(tok > opts ? tok - 1 : tok) = 0;
			return v;
		}
		tok = *end ? end + 1 : end;
	}
	return NULL;
}

/* A read-only gofer serving the host directory dir, mounted disconnected. */
static int serve_ro(struct uvfs *vfs, const char *dir, struct uvfs_mount **out)
{
	struct cli_mount_spec lower = { .type = "9p", .opts = "ro", .source = dir };
	struct prepared lp = { 0 };
	int err = prep_9p(vfs, &lower, &lp);
	if (err)
		return err;
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	struct uvfs_mount_opts mo = { .flags = lp.flags, .data = lp.data, .internal = lp.internal,
				      .internal_mount = true };
	err = uvfs_mount_disconnected(vfs, &cred, dir, "9p", &mo, out);
	free(lp.data);
	if (err)
		fprintf(stderr, "uvfs: verity: serving %s: %s\n", dir, strerror(-err));
	return err;
}

/* verity over a host directory sealed by `uvfs verity seal`: a read-only
 * gofer serves SOURCE (as -t 9p does), and verity wraps that mount; -o goes
 * to verity (root_hash=HEX, action=, data_cache=; ro is implied), except
 * tree_dir=HOSTPATH: a host directory (sealed with --tree-dir) that a
 * second read-only gofer serves, given to verity as its tree directory. */
static int prep_verity(struct uvfs *vfs, const struct cli_mount_spec *s, struct prepared *p)
{
	bool ro;
	char trans[16];
	int err = uvfs_register_fs_type(vfs, &uvfs_gofer_type, 0);
	if (err)
		return err;
	if (!(p->data = strip_opts(s->opts, &ro, trans, sizeof(trans))))
		return -ENOMEM;
	char *td = take_opt(p->data, "tree_dir", &err);
	if (err)
		return err;
	char *lower = take_opt(p->data, "lower", &err);
	if (!err && ((td && !*td) || (lower && !*lower))) {
		fprintf(stderr, "uvfs: verity: %s= needs a host directory\n", td && !*td ? "tree_dir" : "lower");
		err = -EINVAL;
	}
	if (!err) /* lower=HOSTDIR stands for SOURCE (cli_source_in_opts) */
		err = serve_ro(vfs, lower ? lower : s->source, &p->lower);
	free(lower);
	if (!err && td)
		err = serve_ro(vfs, td, &p->trees);
	free(td);
	if (err)
		return err;
	p->verity.lower = (struct uvfs_vd){ p->lower, uvfs_mount_root(p->lower) }; /* borrowed */
	if (p->trees)
		p->verity.tree_dir = (struct uvfs_vd){ p->trees, uvfs_mount_root(p->trees) }; /* borrowed */
	p->verity.action = UVFS_VERITY_ACTION_ERROR;
	p->internal = &p->verity;
	p->flags = UVFS_MNT_RDONLY;
	return 0;
}

/* overlay of host directories, as mount -t overlay / fuse-overlayfs:
 * -o lowerdir=A:B,upperdir=U,workdir=W (SOURCE is a name, e.g. overlay);
 * each layer is served by a gofer (fsimpl/overlay/overlay.h). */
static int prep_overlay(struct uvfs *vfs, const struct cli_mount_spec *s, struct prepared *p)
{
	bool ro;
	char trans[16];
	int err = uvfs_register_fs_type(vfs, &uvfs_gofer_type, 0);
	if (err)
		return err;
	char *rest = strip_opts(s->opts, &ro, trans, sizeof(trans));
	if (!rest)
		return -ENOMEM;
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	err = uvfs_overlay_host_layers(vfs, &cred, rest, &p->ovh);
	free(rest);
	if (err) {
		fprintf(stderr, "uvfs: overlay: %s\n", strerror(-err));
		return err;
	}
	if (!(p->data = strdup(uvfs_overlay_host_data(p->ovh))))
		return -ENOMEM;
	p->internal = uvfs_overlay_host_opts(p->ovh);
	p->flags = ro ? UVFS_MNT_RDONLY : 0;
	return 0;
}

static const struct {
	const char *name;
	const struct uvfs_fs_type *type;
	int (*prep)(struct uvfs *vfs, const struct cli_mount_spec *s, struct prepared *p);
} types[] = {
	{ "tmpfs", &uvfs_tmpfs_type, prep_tmpfs },
	{ "9p", &uvfs_gofer_type, prep_9p },
	{ "verity", &uvfs_verity_type, prep_verity },
	{ "overlay", &uvfs_overlay_type, prep_overlay },
};

bool cli_source_in_opts(const char *type, const char *opts)
{
	if (!type || strcmp(type, "verity") || !opts)
		return false;
	for (const char *tok = opts; tok; tok = strchr(tok, ','), tok = tok ? tok + 1 : NULL)
		if (!strncmp(tok, "lower=", 6))
			return true;
	return false;
}

int cli_take_mount_args(int *argc, char **argv, struct cli_mount_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	int out = 1;
	bool want_source = false;
	int n = *argc;
	/* Two passes: -t decides whether the first positional is SOURCE. */
	for (int i = 1; i < n; i++)
		if (!strcmp(argv[i], "-t") && i + 1 < n)
			want_source = true;
	if (!want_source)
		return 0; /* nothing to take: today's arguments unchanged */
	for (int i = 1; i + 1 < n; i++) /* the options may name the source */
		if (!strcmp(argv[i], "-t") || !strcmp(argv[i], "-o")) {
			*(argv[i][1] == 't' ? &spec->type : &spec->opts) = argv[i + 1];
			i++;
		}
	if (cli_source_in_opts(spec->type, spec->opts))
		spec->source = spec->type; /* a name only, as overlay's */
	for (int i = 1; i < n; i++) {
		if ((!strcmp(argv[i], "-t") || !strcmp(argv[i], "-o")) && i + 1 < n) {
			if (argv[i][1] == 't')
				spec->type = argv[i + 1];
			else
				spec->opts = argv[i + 1];
			i++;
			continue;
		}
		if (argv[i][0] != '-' && !spec->source) {
			spec->source = argv[i];
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc = out;
	if (!spec->source) {
		fprintf(stderr, "uvfs: -t %s needs a SOURCE\n", spec->type);
		return -1;
	}
	return 0;
}

char *cli_abs_path_opts(const char *opts)
{
	size_t cap = (opts ? strlen(opts) : 0) + 1;
	char *out = calloc(1, cap), *copy = opts ? strdup(opts) : NULL, *save = NULL;
	if (!out || (opts && !copy))
		goto fail;
	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		bool paths = !strncmp(tok, "lowerdir=", 9) || !strncmp(tok, "upperdir=", 9) ||
			     !strncmp(tok, "workdir=", 8) || !strncmp(tok, "lower=", 6) || !strncmp(tok, "tree_dir=", 9);
		char *eq = strchr(tok, '=');
		size_t need = strlen(out) + strlen(tok) + 2;
		if (paths)
			need += (size_t)PATH_MAX * (1 + strlen(eq)); /* generous: each ':' item may grow */
		char *n = realloc(out, need);
		if (!n)
			goto fail;
		out = n;
		if (*out)
			strcat(out, ",");
		if (!paths) {
			strcat(out, tok);
			continue;
		}
		strncat(out, tok, (size_t)(eq - tok) + 1);
		char *s2 = NULL, abs[PATH_MAX];
		bool first = true;
		for (char *it = strtok_r(eq + 1, ":", &s2); it; it = strtok_r(NULL, ":", &s2), first = false) {
			if (!first)
				strcat(out, ":");
			strcat(out, realpath(it, abs) ? abs : it); /* a bad path fails the mount later */
		}
	}
	free(copy);
	return out;
fail:
	free(out);
	free(copy);
	return NULL;
}

int cli_build_tree(const struct cli_mount_spec *spec, struct uvfs **vfsp, struct uvfs_mntns **nsp)
{
	if (!spec->type)
		return uvfs_default_tree(vfsp, nsp);
	size_t k;
	for (k = 0; k < sizeof(types) / sizeof(types[0]) && strcmp(types[k].name, spec->type); k++)
		;
	if (k == sizeof(types) / sizeof(types[0])) {
		fprintf(stderr, "uvfs: unknown filesystem type '%s' (known:", spec->type);
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			fprintf(stderr, " %s", types[i].name);
		fprintf(stderr, ")\n");
		return -ENODEV;
	}
	struct uvfs *vfs;
	int err = uvfs_create(&vfs);
	if (err)
		return err;
	if ((err = uvfs_register_fs_type(vfs, types[k].type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST))) {
		uvfs_destroy(vfs, NULL);
		return err;
	}
	struct prepared p = { 0 };
	if ((err = types[k].prep(vfs, spec, &p))) {
		free(p.data);
		if (p.lower)
			uvfs_mount_put(p.lower);
		uvfs_overlay_host_put(p.ovh);
		if (p.trees)
			uvfs_mount_put(p.trees);
		uvfs_destroy(vfs, NULL);
		return err;
	}
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	struct uvfs_mount_opts mo = { .flags = p.flags, .data = p.data, .internal = p.internal };
	struct uvfs_mntns *ns;
	err = uvfs_mntns_new(vfs, &cred, spec->source, spec->type, &mo, &ns);
	free(p.data);
	if (p.lower)
		uvfs_mount_put(p.lower); /* the stacked fs holds its own references */
	uvfs_overlay_host_put(p.ovh);
	if (p.trees)
		uvfs_mount_put(p.trees);
	if (err) {
		fprintf(stderr, "uvfs: mounting %s (%s): %s\n", spec->source, spec->type, strerror(-err));
		uvfs_destroy(vfs, NULL);
		return err;
	}
	*vfsp = vfs;
	*nsp = ns;
	return 0;
}
