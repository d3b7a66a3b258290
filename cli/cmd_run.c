/* cli/cmd_run.c — `uvfs run [--root HOSTDIR [--gofer direct|diod] |
 * --bundle DIR] [--copy] [--cwd DIR] [--dump FILE] [--max-tasks N] --
 * PROGRAM ARGS`: runs an unmodified program whose file system is a uvfs
 * tree (sandbox/run/).
 *
 * The tree, never copied: --root is an overlay of a tmpfs upper over a
 * read-only 9p mount of HOSTDIR (trans=direct: host fds in process, or
 * with --gofer diod a diod child), as boot mounts an --overlay root;
 * --bundle boots the bundle (cli/bundle.h) with --overlay, and with no
 * PROGRAM runs its process args, env and cwd; neither writes the host.
 * --copy keeps the old tree: a tmpfs filled with a copy of HOSTDIR or of
 * the bundle's root.path (hard links become separate files; devices, FIFOs
 * and sockets are skipped). No option: the built-in default tree. --dump
 * FILE writes a listing of the tree after the run ("TYPE MODE SIZE PATH"
 * lines) for tests.
 * The exit status is the program's; a program killed by a signal kills
 * uvfs with the same signal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot/boot.h"
#include "cli/bundle.h"
#include "cli/cli.h"
#include "fsimpl/gofer/gofer.h"
#include "vfs/uvfs_fs.h"
#include "fsimpl/overlay/overlay.h"
#include "fuse/fuse_export.h"
#include "sandbox/run/run.h"

static int copy_tree(struct uvfs *vfs, const struct uvfs_cred *cr, const struct uvfs_vd *root, int dirfd,
		     const char *upath);

static int copy_attrs(struct uvfs *vfs, const struct uvfs_cred *cr, const struct uvfs_vd *root, const char *upath,
		      const struct stat *st, bool link)
{
	struct uvfs_pathop pop = { .root = *root, .start = *root, .path = upath };
	struct uvfs_setattr a = { .mask = STATX_UID | STATX_GID, .uid = st->st_uid, .gid = st->st_gid };
	int err = uvfs_setstat_at(vfs, cr, &pop, &a, 0);
	if (err || link)
		return err;
	a = (struct uvfs_setattr){ .mask = STATX_MODE | STATX_ATIME | STATX_MTIME, .mode = st->st_mode & 07777,
				   .atime = st->st_atim, .mtime = st->st_mtim };
	return uvfs_setstat_at(vfs, cr, &pop, &a, 0);
}

static int copy_file(struct uvfs *vfs, const struct uvfs_cred *cr, const struct uvfs_vd *root, int fd,
		     const char *upath)
{
	struct uvfs_pathop pop = { .root = *root, .start = *root, .path = upath };
	struct uvfs_file *f;
	int err = uvfs_open_at(vfs, cr, &pop, O_CREAT | O_EXCL | O_WRONLY, 0600, 0, &f);
	if (err)
		return err;
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0)
			err = -errno;
		if (n <= 0)
			break;
		if (uvfs_write(f, buf, (size_t)n) != n) {
			err = -EIO;
			break;
		}
	}
	int cerr = uvfs_file_close(f);
	return err ? err : cerr;
}

static int copy_entry(struct uvfs *vfs, const struct uvfs_cred *cr, const struct uvfs_vd *root, int dirfd,
		      const char *name, const char *upath)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	struct uvfs_pathop pop = { .root = *root, .start = *root, .path = upath };
	int err = 0;
	if (S_ISDIR(st.st_mode)) {
		err = uvfs_mkdir_at(vfs, cr, &pop, 0700);
		int sub = err ? -1 : openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (!err && sub < 0)
			err = -errno;
		if (!err)
			err = copy_tree(vfs, cr, root, sub, upath);
	} else if (S_ISREG(st.st_mode)) {
		int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		err = fd < 0 ? -errno : copy_file(vfs, cr, root, fd, upath);
		if (fd >= 0)
			close(fd);
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = 0;
		err = uvfs_symlink_at(vfs, cr, target, &pop);
	} else {
		return 0; /* devices, FIFOs, sockets: not copied */
	}
	return err ? err : copy_attrs(vfs, cr, root, upath, &st, S_ISLNK(st.st_mode));
}

/* Copies the directory dirfd (closed here) into upath ("" for the root). */
static int copy_tree(struct uvfs *vfs, const struct uvfs_cred *cr, const struct uvfs_vd *root, int dirfd,
		     const char *upath)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return -errno;
	}
	int err = 0;
	struct dirent *e;
	while (!err && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		size_t n = strlen(upath) + strlen(e->d_name) + 2;
		char *sub = malloc(n);
		if (!sub) {
			err = -ENOMEM;
			break;
		}
		snprintf(sub, n, "%s/%s", upath, e->d_name);
		err = copy_entry(vfs, cr, root, dirfd, e->d_name, sub);
		if (err)
			fprintf(stderr, "uvfs run: copying %s: %s\n", sub, strerror(-err));
		free(sub);
	}
	closedir(d);
	return err;
}

static int build_copy(const char *hostdir, struct uvfs **vfs, struct uvfs_mntns **ns)
{
	struct uvfs_cred cr;
	uvfs_cred_init_root(&cr);
	int err = uvfs_create(vfs);
	if (err)
		return err;
	err = uvfs_register_fs_type(*vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST);
	if (!err)
		err = uvfs_mntns_new(*vfs, &cr, "none", "tmpfs", &(struct uvfs_mount_opts){ .data = "mode=0755" }, ns);
	if (err) {
		uvfs_destroy(*vfs, NULL);
		*vfs = NULL;
		return err;
	}
	struct uvfs_vd root;
	uvfs_mntns_root(*ns, &root);
	int fd = open(hostdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	err = fd < 0 ? -errno : fstat(fd, &st) ? -errno : 0;
	if (!err) {
		struct uvfs_pathop pop = { .root = root, .start = root, .path = "/" };
		struct uvfs_setattr a = { .mask = STATX_MODE | STATX_UID | STATX_GID, .mode = st.st_mode & 07777,
					  .uid = st.st_uid, .gid = st.st_gid };
		err = uvfs_setstat_at(*vfs, &cr, &pop, &a, 0);
	}
	if (!err)
		err = copy_tree(*vfs, &cr, &root, fd, "");
	else if (fd >= 0)
		close(fd);
	uvfs_vd_put(&root);
	return err;
}

/* --root HOSTDIR: the tree boot mounts for an --overlay root
 * (boot/mount_all.c overlay_layers): an overlay of a fresh tmpfs upper over
 * a read-only 9p mount of HOSTDIR, by default trans=direct (the 9p calls
 * run in process on host fds under HOSTDIR, as gVisor's directfs: no
 * server to start, no round trip per cold file), with diod a diod child
 * serving it. Nothing is copied and the host is never written (the lower
 * refuses writes; writes copy up into the tmpfs). cache=fscache: the lower is ours alone for the run, as boot's
 * exclusive root. dentry_cache_limit (runsc's --dcache): with the default
 * 1000 unused dentries, a walk of a larger tree (find, tar) evicted what
 * its readdir had just listed and paid a 9P round trip per stat on every
 * pass (10k files: 1.26 s warm vs 0.17 s with the tree cached). The upper's root takes HOSTDIR's mode and owner, as the
 * copy did. */
static int build_overlay(const char *hostdir, bool diod, struct uvfs **vfs, struct uvfs_mntns **ns)
{
	struct uvfs_cred cr;
	uvfs_cred_init_root(&cr);
	struct stat st;
	char *real = realpath(hostdir, NULL);
	if (!real)
		return -errno;
	int err = stat(real, &st) ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (err) {
		free(real);
		return err;
	}
	err = uvfs_create(vfs);
	if (err) {
		free(real);
		return err;
	}
	const struct uvfs_fs_type *types[] = { &uvfs_tmpfs_type, &uvfs_gofer_type, &uvfs_overlay_type };
	for (size_t i = 0; !err && i < sizeof(types) / sizeof(types[0]); i++)
		err = uvfs_register_fs_type(*vfs, types[i], i == 1 ? UVFS_FS_USER_LIST : UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST);
	int fd = -1;
	struct uvfs_gofer_proc *proc = NULL;
	if (!err && diod)
		err = uvfs_gofer_spawn(real, true, &fd, &proc);
	else if (!err && (fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		err = -errno;
	struct uvfs_mount *lower = NULL, *upper = NULL;
	struct uvfs_vd vds[3] = { 0 };
	if (!err) {
		char data[96];
		if (diod)
			snprintf(data, sizeof(data), "trans=fd,rfdno=%d,wfdno=%d,cache=fscache,dentry_cache_limit=100000", fd,
				 fd);
		else
			snprintf(data, sizeof(data), "trans=direct,ro,cache=fscache,dentry_cache_limit=100000");
		/* the mount owns fd and proc from here on, even when it fails */
		struct uvfs_gofer_internal gi = { .proc = proc, .hostfd = diod ? -1 : fd };
		err = uvfs_mount_disconnected(*vfs, &cr, real, "9p",
					      &(struct uvfs_mount_opts){ .flags = UVFS_MNT_RDONLY, .data = data,
									 .internal = &gi, .internal_mount = true },
					      &lower);
	}
	if (!err)
		err = uvfs_mount_disconnected(*vfs, &cr, "none", "tmpfs",
					      &(struct uvfs_mount_opts){ .data = "mode=0755", .internal_mount = true }, &upper);
	if (!err) {
		vds[0] = (struct uvfs_vd){ lower, uvfs_mount_root(lower) };
		uvfs_vd_get(&vds[0]);
		struct uvfs_vd top = { upper, uvfs_mount_root(upper) };
		const char *names[2] = { "upper", "work" };
		for (int i = 0; i < 2 && !err; i++) {
			struct uvfs_pathop pop = { .root = top, .start = top, .path = names[i] };
			err = uvfs_mkdir_at2(*vfs, &cr, &pop, 0755, &(struct uvfs_create_opts){ .vd = &vds[1 + i] });
		}
		struct uvfs_pathop pop = { .root = top, .start = top, .path = "upper" };
		struct uvfs_setattr a = { .mask = STATX_MODE | STATX_UID | STATX_GID, .mode = st.st_mode & 07777,
					  .uid = st.st_uid, .gid = st.st_gid };
		if (!err)
			err = uvfs_setstat_at(*vfs, &cr, &pop, &a, 0);
	}
	if (!err) {
		struct uvfs_overlay_opts ov = { .upper = vds[1], .work = vds[2], .nlower = 1, .lower = &vds[0] };
		err = uvfs_mntns_new(*vfs, &cr, "overlay", "overlay",
				     &(struct uvfs_mount_opts){ .internal = &ov, .internal_mount = true }, ns);
	}
	if (!err) {
		/* the overlay's own dentries too (its default keeps 1,000
		 * unused): with the default, every pass of a find over a larger
		 * tree built each overlay dentry anew (0.50 s → 0.33 s per warm
		 * find -ls of 10,000 files) */
		struct uvfs_vd top;
		uvfs_mntns_root(*ns, &top);
		uvfs_mount_fs(top.mount)->lru_max = 100000;
		uvfs_vd_put(&top);
	}
	for (int i = 0; i < 3; i++)
		if (uvfs_vd_ok(&vds[i]))
			uvfs_vd_put(&vds[i]);
	if (lower)
		uvfs_mount_put(lower);
	if (upper)
		uvfs_mount_put(upper);
	free(real);
	if (err) {
		uvfs_destroy(*vfs, NULL);
		*vfs = NULL;
	}
	return err;
}

static void dump_walk(struct uvfs *vfs, const struct uvfs_vd *root, const char *path, FILE *out);

struct dump_ctx {
	struct uvfs *vfs;
	const struct uvfs_vd *root;
	const char *path;
	char **names;
	size_t n, cap;
};

static int dump_cb(void *arg, const char *name, size_t namelen, uint64_t ino, unsigned dtype, int64_t next_off)
{
	struct dump_ctx *d = arg;
	if ((namelen == 1 && name[0] == '.') || (namelen == 2 && !memcmp(name, "..", 2)))
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		char **nn = realloc(d->names, cap * sizeof(*nn));
		if (!nn)
			return 1;
		d->names = nn, d->cap = cap;
	}
	d->names[d->n] = strndup(name, namelen);
	if (!d->names[d->n])
		return 1;
	d->n++;
	return 0;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "TYPE MODE SIZE PATH" for every entry below path, sorted by name. */
static void dump_walk(struct uvfs *vfs, const struct uvfs_vd *root, const char *path, FILE *out)
{
	struct uvfs_cred cr;
	uvfs_cred_init_root(&cr);
	struct uvfs_pathop pop = { .root = *root, .start = *root, .path = path[0] ? path : "/" };
	struct uvfs_file *f;
	if (uvfs_open_at(vfs, &cr, &pop, O_RDONLY | O_DIRECTORY, 0, 0, &f))
		return;
	struct dump_ctx d = { .vfs = vfs, .root = root, .path = path };
	uvfs_iterate_dir(f, dump_cb, &d);
	uvfs_file_put(f);
	qsort(d.names, d.n, sizeof(*d.names), cmpstr);
	for (size_t i = 0; i < d.n; i++) {
		char sub[PATH_MAX];
		snprintf(sub, sizeof(sub), "%s/%s", path, d.names[i]);
		struct uvfs_pathop p = { .root = *root, .start = *root, .path = sub };
		struct statx x;
		if (!uvfs_stat_at(vfs, &cr, &p, STATX_BASIC_STATS, &x)) {
			char t = S_ISDIR(x.stx_mode) ? 'd' : S_ISLNK(x.stx_mode) ? 'l' : S_ISREG(x.stx_mode) ? 'f' : 'o';
			fprintf(out, "%c %04o %llu %s\n", t, x.stx_mode & 07777,
				S_ISDIR(x.stx_mode) ? 0ULL : (unsigned long long)x.stx_size, sub);
			if (S_ISDIR(x.stx_mode))
				dump_walk(vfs, root, sub, out);
		}
		free(d.names[i]);
	}
	free(d.names);
}

static int usage(void)
{
	fprintf(stderr, "usage: uvfs run [--root HOSTDIR [--gofer direct|diod] | --bundle DIR] [--copy] [--cwd DIR] [--dump FILE] [--max-tasks N] -- PROGRAM [ARGS]\n"
			"  --gofer: how --root's host directory is served: direct (default: host fds in process) or diod (a diod child)\n");
	return 2;
}

/* The tree of --root/--bundle/--copy or the default; *cb holds a booted
 * bundle (released by the caller after its ns reference). */
static int build_tree(const char *hostdir, bool copy, bool diod, struct cli_bundle *cb, struct uvfs **vfs,
		      struct uvfs_mntns **ns)
{
	if (cb->dir)
		return cli_bundle_boot(cb, vfs, ns) ? -1 : 0; /* the message is printed */
	int err = !hostdir ? uvfs_default_tree(vfs, ns) : copy ? build_copy(hostdir, vfs, ns)
							     : build_overlay(hostdir, diod, vfs, ns);
	if (err) {
		fprintf(stderr, "uvfs run: building the tree%s%s: %s\n", hostdir ? " from " : "", hostdir ? hostdir : "",
			strerror(-err));
		if (*ns)
			uvfs_mntns_put(*ns);
		if (*vfs)
			uvfs_destroy(*vfs, NULL);
	}
	return err;
}

/* An id of the bundle's user namespace on the host: through the mapping
 * (linux.uidMappings / gidMappings) when the bundle has one (a rootless
 * bundle's container root is the user who made it), else itself. */
static uint32_t map_id(json_t *maps, uint32_t id)
{
	size_t i;
	json_t *m;
	json_array_foreach(maps, i, m) {
		json_int_t c = json_integer_value(json_object_get(m, "containerID"));
		json_int_t h = json_integer_value(json_object_get(m, "hostID"));
		json_int_t n = json_integer_value(json_object_get(m, "size"));
		if (id >= c && id - c < n)
			return (uint32_t)(h + (id - c));
	}
	return id;
}

/* process.user for uvfs_run: the ids on the host (mapped as above) and the
 * umask, which the parsed spec does not keep. groups: ngroups entries,
 * freed by the caller. */
static int bundle_user(const char *bundle, const struct uvfs_oci_spec *ps, struct uvfs_run_opts *ro,
		       uint32_t **groups)
{
	char cfg[PATH_MAX];
	snprintf(cfg, sizeof(cfg), "%s/config.json", bundle);
	json_t *j = json_load_file(cfg, 0, NULL);
	json_t *lx = json_object_get(j, "linux");
	json_t *um = json_object_get(json_object_get(json_object_get(j, "process"), "user"), "umask");
	json_t *umap = json_object_get(lx, "uidMappings"), *gmap = json_object_get(lx, "gidMappings");
	*groups = calloc(ps->nadditional_gids + 1, sizeof(**groups));
	if (!*groups) {
		json_decref(j);
		return -ENOMEM;
	}
	ro->set_user = true;
	ro->uid = map_id(umap, ps->uid);
	ro->gid = map_id(gmap, ps->gid);
	for (size_t i = 0; i < ps->nadditional_gids; i++)
		(*groups)[i] = map_id(gmap, ps->additional_gids[i]);
	ro->groups = *groups;
	ro->ngroups = ps->nadditional_gids;
	if (json_is_integer(um) && json_integer_value(um) >= 0 && json_integer_value(um) <= 0777) {
		ro->set_umask = true;
		ro->umask = (unsigned)json_integer_value(um);
	}
	json_decref(j);
	return 0;
}

int cmd_run(int argc, char **argv)
{
	const char *hostdir = NULL, *bundle = NULL, *cwd = NULL, *dump = NULL, *maxt = NULL, *gofer = NULL;
	bool copy = false;
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--copy")) {
			copy = true;
			continue;
		}
		const char **opt = !strcmp(argv[i], "--root")     ? &hostdir
				   : !strcmp(argv[i], "--bundle") ? &bundle
				   : !strcmp(argv[i], "--cwd")    ? &cwd
				   : !strcmp(argv[i], "--dump")   ? &dump
				   : !strcmp(argv[i], "--max-tasks") ? &maxt
				   : !strcmp(argv[i], "--gofer")  ? &gofer
								  : NULL;
		if (!opt) {
			if (argv[i][0] == '-')
				return usage();
			break;
		}
		if (i + 1 >= argc)
			return usage();
		*opt = argv[++i];
	}
	if ((hostdir && bundle) || (copy && !hostdir && !bundle))
		return usage();
	if (gofer && (!hostdir || copy || (strcmp(gofer, "direct") && strcmp(gofer, "diod"))))
		return usage();
	bool diod = gofer && !strcmp(gofer, "diod");
	unsigned max_tasks = 0;
	if (maxt) {
		char *end;
		unsigned long v = strtoul(maxt, &end, 10);
		if (*end || end == maxt || v == 0 || v > 1u << 22)
			return usage();
		max_tasks = (unsigned)v;
	}
	struct uvfs_oci_spec *spec = NULL; /* --bundle --copy: ours; --bundle: the boot's */
	struct cli_bundle cb = { 0 };
	char rootbuf[PATH_MAX];
	if (bundle && copy) {
		char cfg[PATH_MAX], err[256];
		snprintf(cfg, sizeof(cfg), "%s/config.json", bundle);
		int e = uvfs_oci_load(cfg, &spec, err, sizeof(err));
		if (e) {
			fprintf(stderr, "uvfs run: %s\n", err);
			return 1;
		}
		if (spec->root_path[0] == '/')
			snprintf(rootbuf, sizeof(rootbuf), "%s", spec->root_path);
		else
			snprintf(rootbuf, sizeof(rootbuf), "%s/%s", bundle, spec->root_path);
		hostdir = rootbuf;
	} else if (bundle) {
		/* booted as `uvfs mount --bundle DIR --overlay` boots it: the
		 * root and writable binds under a tmpfs upper, so the run never
		 * writes the host */
		cb.dir = bundle;
		cb.flags = UVFS_OCI_OVERLAY;
	}
	if (i >= argc && !bundle)
		return usage();
	struct uvfs *vfs = NULL;
	struct uvfs_mntns *ns = NULL;
	if (build_tree(hostdir, copy, diod, &cb, &vfs, &ns)) {
		uvfs_oci_spec_free(spec);
		return 1;
	}
	const struct uvfs_oci_spec *ps = spec ? spec : cb.spec;
	if (ps && !cwd)
		cwd = ps->cwd;
	char **prog = argv + i;
	char **envp = NULL;
	char **pargv = NULL, **penv = NULL;
	int err = 0;
	if (i >= argc) {
		pargv = calloc(ps->nargs + 1, sizeof(*pargv));
		penv = calloc(ps->nenv + 1, sizeof(*penv));
		if (!pargv || !penv)
			err = -ENOMEM;
		else {
			memcpy(pargv, ps->args, ps->nargs * sizeof(*pargv));
			memcpy(penv, ps->env, ps->nenv * sizeof(*penv));
		}
		prog = pargv;
		envp = penv;
	}
	struct uvfs_run_opts ro = { .vfs = vfs, .ns = ns, .cwd = cwd, .argv = prog, .envp = envp, .max_tasks = max_tasks };
	uint32_t *groups = NULL;
	if (bundle && !err) /* process.user, as runc runs the program */
		err = bundle_user(bundle, ps, &ro, &groups);
	int status = 0;
	if (!err)
		err = uvfs_run(&ro, &status);
	if (dump) {
		FILE *out = fopen(dump, "we");
		if (out) {
			struct uvfs_vd root;
			uvfs_mntns_root(ns, &root);
			dump_walk(vfs, &root, "", out);
			uvfs_vd_put(&root);
			fclose(out);
		} else
			fprintf(stderr, "uvfs run: %s: %s\n", dump, strerror(errno));
	}
	free(pargv), free(penv), free(groups);
	uvfs_oci_spec_free(spec);
	uvfs_mntns_put(ns);
	cli_bundle_release(&cb);
	struct uvfs_live live;
	memset(&live, 0, sizeof(live));
	int drc = uvfs_destroy(vfs, &live);
	if (drc || live.dentries || live.inodes || live.mounts || live.mntns || live.files || live.filesystems) {
		uvfs_report_teardown(drc, &live);
		return 3;
	}
	if (err)
		return 1;
	fflush(stdout);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		signal(sig, SIG_DFL);
		raise(sig);
		return 128 + sig;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
