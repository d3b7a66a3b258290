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
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/escape.h"
#include "cli/bundle.h"
#include "cli/mount_spec.h"
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

static void mode_string(mode_t m, char out[11])
{
	const char *types = "?pc?d?b?-?l?s???";
	out[0] = types[(m >> 12) & 15];
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m & (0400 >> i)) ? rwx[i] : '-';
	if (m & S_ISUID)
		out[3] = (m & S_IXUSR) ? 's' : 'S';
	if (m & S_ISGID)
		out[6] = (m & S_IXGRP) ? 's' : 'S';
	if (m & S_ISVTX)
		out[9] = (m & S_IXOTH) ? 't' : 'T';
	out[10] = 0;
}

static int lstat_(struct env *e, const char *path, struct statx *x)
{
	struct uvfs_pathop p = pop(e, path, 0);
	return uvfs_stat_at(e->vfs, &e->cred, &p, STATX_BASIC_STATS, x);
}

static void print_long(struct env *e, const char *path, const char *name, const struct statx *x)
{
	char m[11], tbuf[32];
	mode_string(x->stx_mode, m);
	time_t t = (time_t)x->stx_mtime.tv_sec;
	struct tm tm;
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M", gmtime_r(&t, &tm));
	if (S_ISCHR(x->stx_mode) || S_ISBLK(x->stx_mode))
		printf("%s %3u %5u %5u %4u, %4u %s ", m, x->stx_nlink, x->stx_uid, x->stx_gid, x->stx_rdev_major,
		       x->stx_rdev_minor, tbuf);
	else
		printf("%s %3u %5u %5u %10llu %s ", m, x->stx_nlink, x->stx_uid, x->stx_gid,
		       (unsigned long long)x->stx_size, tbuf);
	cli_put_str(stdout, name);
	if (S_ISLNK(x->stx_mode)) {
		char target[4097];
		struct uvfs_pathop p = pop(e, path, 0);
		ssize_t n = uvfs_readlink_at(e->vfs, &e->cred, &p, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = 0;
			fputs(" -> ", stdout), cli_put_str(stdout, target);
		}
	}
	putchar('\n');
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

int cmd_ls(int argc, char **argv)
{
	struct env e;
	if (env_open_args(&e, &argc, argv))
		return 1;
	int rc = 0;
	char *deflt[] = { "/" };
	char **paths = argc > 1 ? argv + 1 : deflt;
	int np = argc > 1 ? argc - 1 : 1;
	for (int i = 0; i < np; i++) {
		struct statx x;
		int err = lstat_(&e, paths[i], &x);
		if (err) {
			fprintf(stderr, "uvfs: ls: %s: %s\n", paths[i], strerror(-err));
			rc = 1;
			continue;
		}
		if (!S_ISDIR(x.stx_mode)) {
			print_long(&e, paths[i], paths[i], &x);
			continue;
		}
		struct names nm;
		if ((err = list_dir(&e, paths[i], &nm))) {
			fprintf(stderr, "uvfs: ls: %s: %s\n", paths[i], strerror(-err));
			rc = 1;
			continue;
		}
		if (np > 1)
			printf("%s:\n", paths[i]);
		for (size_t j = 0; j < nm.n; j++) {
			char child[4096];
			join(child, sizeof(child), paths[i], nm.v[j]);
			if (!lstat_(&e, child, &x))
				print_long(&e, child, nm.v[j], &x);
		}
		names_free(&nm);
	}
	return env_close(&e, rc);
}

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return "regular file";
	case S_IFDIR:
		return "directory";
	case S_IFLNK:
		return "symbolic link";
	case S_IFCHR:
		return "character special file";
	case S_IFBLK:
		return "block special file";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	}
	return "unknown";
}

static void print_time(const char *label, const struct statx_timestamp *ts)
{
	time_t t = (time_t)ts->tv_sec;
	struct tm tm;
	char b[64];
	strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
	printf("%s: %s.%09u +0000\n", label, b, ts->tv_nsec);
}

int cmd_stat(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: uvfs stat PATH...\n");
		return 2;
	}
	struct env e;
	if (env_open_args(&e, &argc, argv))
		return 1;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		struct statx x;
		int err = lstat_(&e, argv[i], &x);
		if (err) {
			fprintf(stderr, "uvfs: stat: %s: %s\n", argv[i], strerror(-err));
			rc = 1;
			continue;
		}
		char m[11];
		mode_string(x.stx_mode, m);
		printf("  File: %s\n", argv[i]);
		printf("  Size: %-10llu Blocks: %-10llu %s\n", (unsigned long long)x.stx_size,
		       (unsigned long long)x.stx_blocks, type_name(x.stx_mode));
		printf("Device: %u,%u Inode: %-10llu Links: %u\n", x.stx_dev_major, x.stx_dev_minor,
		       (unsigned long long)x.stx_ino, x.stx_nlink);
		printf("Access: (%04o/%s)  Uid: %u  Gid: %u\n", x.stx_mode & 07777, m, x.stx_uid, x.stx_gid);
		print_time("Access", &x.stx_atime);
		print_time("Modify", &x.stx_mtime);
		print_time("Change", &x.stx_ctime);
		struct uvfs_pathop p = pop(&e, argv[i], 0);
		char names[4096];
		ssize_t n = uvfs_listxattr_at(e.vfs, &e.cred, &p, names, sizeof(names));
		for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
			char val[1024];
			ssize_t vl = uvfs_getxattr_at(e.vfs, &e.cred, &p, names + off, val, sizeof(val));
			if (vl >= 0) {
				fputs(" Xattr: ", stdout), cli_put_str(stdout, names + off), fputs("=\"", stdout);
				cli_put_name(stdout, val, (size_t)vl), fputs("\"\n", stdout);
			}
		}
	}
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
};

static void tree_walk(struct env *e, const char *path, const char *prefix, struct tree_count *c, int depth)
{
	struct names nm;
	if (depth > 64 || list_dir(e, path, &nm))
		return;
	for (size_t j = 0; j < nm.n; j++) {
		bool last = j + 1 == nm.n;
		char child[4096];
		join(child, sizeof(child), path, nm.v[j]);
		struct statx x;
		if (lstat_(e, child, &x))
			continue;
		printf("%s%s ", prefix, last ? "`--" : "|--"), cli_put_str(stdout, nm.v[j]);
		if (S_ISLNK(x.stx_mode)) {
			char t[4097];
			struct uvfs_pathop p = pop(e, child, 0);
			ssize_t n = uvfs_readlink_at(e->vfs, &e->cred, &p, t, sizeof(t) - 1);
			if (n >= 0) {
				t[n] = 0;
				fputs(" -> ", stdout), cli_put_str(stdout, t);
			}
		}
		putchar('\n');
		if (S_ISDIR(x.stx_mode)) {
			c->dirs++;
			char pre[1024];
			snprintf(pre, sizeof(pre), "%s%s", prefix, last ? "    " : "|   ");
			tree_walk(e, child, pre, c, depth + 1);
		} else {
			c->files++;
		}
	}
	names_free(&nm);
}

int cmd_tree(int argc, char **argv)
{
	struct env e;
	if (env_open_args(&e, &argc, argv))
		return 1;
	int rc = 0;
	char *deflt[] = { "/" };
	char **paths = argc > 1 ? argv + 1 : deflt;
	int np = argc > 1 ? argc - 1 : 1;
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
		struct tree_count c = { 0, 0 };
		printf("%s\n", paths[i]);
		tree_walk(&e, paths[i], "", &c, 0);
		printf("\n%ld directories, %ld files\n", c.dirs, c.files);
	}
	return env_close(&e, rc);
}
