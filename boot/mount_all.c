/* boot/mount_all.c — runsc's mountAll (spec §4.2–§4.8), first slice:
 * gofers, the root (9p or overlay over 9p), devtmpfs contents, the planned
 * submounts in sorted order, the /tmp rule, read-only flags restored LIFO,
 * and the container's init task; bind mounts of regular files (the diod
 * serves the file's directory, the mount is rooted at the file);
 * pod-shared tmpfs masters (boot/pod.c) bound into the container; verity
 * mounts over their lower filesystem.
 *
 * A struct uvfs_boot belongs to the thread that boots and destroys it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/internal.h"
#include "devices/devices.h"
#include "fsimpl/devtmpfs/devtmpfs.h"
#include "fsimpl/gofer/gofer.h"
#include "fsimpl/kernfs/task.h"
#include "fsimpl/overlay/overlay.h"
#include "fsimpl/proc/proc.h"
#include "fsimpl/tmpfs/tmpfs.h"
#include "fsimpl/verity/verity.h"

struct gofer_slot {
	char *dir; /* host directory served (absolute, resolved) */
	char *file; /* a file bind: its name in dir (the mount's root), else NULL */
	bool ro;
	int fd; /* our end until a mount takes it, else -1 */
	struct uvfs_gofer_proc *proc; /* until a mount takes it, else NULL */
};

struct uvfs_boot {
	struct uvfs *vfs;
	struct uvfs_cred cred; /* root: all set-up runs with it (design.md §6) */
	struct uvfs_mntns *ns;
	struct uvfs_tasks *tasks;
	struct uvfs_devtmpfs_accessor *dev;
	struct gofer_slot *g;
	size_t ng;
	struct uvfs_pod *pod; /* the container's pod (shared tmpfs masters) */
	bool own_pod; /* made for this boot alone: destroyed with it */
	const char *why; /* a mount step's reason for its errno, for the error line, or NULL */
	struct uvfs_mount **ro; /* mounts to make read-only at the end, in mount order; a reference each */
	size_t nro;
	/* ResolveExecutablePath of the init's args[0], done at boot: the path,
	 * or NULL and the error (-errno, message). Set once before return. */
	char *exec;
	int exec_rc;
	char exec_err[512];
	struct boot_jobctl *jc; /* process groups for devpts job control; set before return */
	struct uvfs_boot_restore_entry *rmap; /* configureRestore's map, one per gofer; set before return */
	size_t nrmap;
};

static void slots_release(struct uvfs_boot *b)
{
	for (size_t i = 0; i < b->ng; i++) {
		if (b->g[i].fd >= 0)
			close(b->g[i].fd); /* diod sees EOF and exits */
		uvfs_gofer_reap(b->g[i].proc);
		free(b->g[i].dir);
		free(b->g[i].file);
	}
	free(b->g);
	b->g = NULL;
	b->ng = 0;
}

UVFS_API void uvfs_boot_destroy(struct uvfs_boot *b)
{
	if (!b)
		return;
	/* Every diod's wait overlaps: each 9p filesystem closes its
	 * connection as it goes, the batch's end waits for all at once. */
	uvfs_gofer_reap_batch_begin();
	uvfs_fs_put_batch_begin(); /* one RCU barrier for every filesystem */
	for (size_t i = 0; i < b->nro; i++)
		uvfs_mount_put(b->ro[i]);
	free(b->ro);
	/* Tasks hold vds and the namespace: they go first. */
	if (b->tasks)
		uvfs_tasks_destroy(b->tasks);
	if (b->ns)
		uvfs_mntns_put(b->ns); /* gofer filesystems reap their diod as they go */
	if (b->own_pod)
		uvfs_pod_destroy(b->pod);
	if (b->dev)
		uvfs_devtmpfs_accessor_release(b->dev);
	slots_release(b);
	boot_jobctl_free(b->jc);
	for (size_t i = 0; i < b->nrmap; i++)
		free((char *)b->rmap[i].destination);
	free(b->rmap);
	free(b->exec);
	free(b);
	uvfs_fs_put_batch_end(); /* releases them: 9p ones close their gofer connection */
	uvfs_gofer_reap_batch_end();
}

UVFS_API size_t uvfs_boot_restore_map(struct uvfs_boot *b, const struct uvfs_boot_restore_entry **out)
{
	*out = b->rmap;
	return b->nrmap;
}

/* Closes the restore fds and reaps the procs not taken (used[i] false;
 * used NULL: none taken). */
static void restore_release(const struct uvfs_boot_opts *o, const bool *used)
{
	for (size_t i = 0; i < o->nrestore; i++)
		if (!used || !used[i]) {
			if (o->restore[i].fd >= 0)
				close(o->restore[i].fd);
			uvfs_gofer_reap(o->restore[i].proc);
		}
}

/* Gives slot g the restore fd of destination dest (taken: used[k]). */
static int restore_take(struct uvfs_boot *b, const struct uvfs_boot_opts *o, bool *used, size_t g, const char *dest)
{
	for (size_t k = 0; k < o->nrestore; k++)
		if (!used[k] && o->restore[k].destination && !strcmp(o->restore[k].destination, dest)) {
			used[k] = true;
			b->g[g].fd = o->restore[k].fd;
			b->g[g].proc = o->restore[k].proc;
			if (o->restore[k].host_dir) {
				char *d = strdup(o->restore[k].host_dir);
				if (!d)
					return -ENOMEM;
				free(b->g[g].dir);
				b->rmap[g].host_dir = b->g[g].dir = d;
			}
			return 0;
		}
	return berr(o->err, o->errlen, -EBADF, "restore: no gofer fd for %s", dest);
}

HIDDEN struct boot_jobctl *boot_jobctl_of(struct uvfs_boot *b) { return b->jc; }

UVFS_API struct uvfs_mntns *uvfs_boot_mntns(struct uvfs_boot *b) { return b->ns; }
UVFS_API struct uvfs_tasks *uvfs_boot_tasks(struct uvfs_boot *b) { return b->tasks; }

UVFS_API const char *uvfs_boot_executable(struct uvfs_boot *b, int *rc, const char **msg)
{
	if (rc)
		*rc = b->exec_rc;
	if (msg)
		*msg = b->exec ? NULL : b->exec_err;
	return b->exec;
}

/* bundle_dir/p (p as is when absolute), resolved. A source that is not a
 * directory is split: *out its directory (what diod serves: it exports
 * directories only), *file its name. */
static int host_dir(const char *bundle, const char *p, char **out, char **file)
{
	char joined[PATH_MAX], real[PATH_MAX];
	int n = p[0] == '/' ? snprintf(joined, sizeof joined, "%s", p)
			    : snprintf(joined, sizeof joined, "%s/%s", bundle ? bundle : ".", p);
	if (n < 0 || (size_t)n >= sizeof joined)
		return -ENAMETOOLONG;
	if (!realpath(joined, real))
		return -errno;
	struct stat st;
	if (stat(real, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) && file) {
		char *slash = strrchr(real, '/');
		if (!(*file = strdup(slash + 1)))
			return -ENOMEM;
		slash[slash == real ? 1 : 0] = 0; /* "/f" serves "/" */
	}
	return (*out = strdup(real)) ? 0 : -ENOMEM;
}

/* Resolves and starts every gofer (root first, then gofer mounts in spec
 * order: the plan's gofer indices), then binds their fds into the plan. */
static int start_gofers_in(struct uvfs_boot *b, struct uvfs_mount_plan *plan, const struct uvfs_boot_opts *o,
			   bool *used)
{
	char *err = o->err;
	size_t errlen = o->errlen;
	if (!(b->g = calloc(plan->ngofers ? plan->ngofers : 1, sizeof *b->g)))
		return -ENOMEM;
	for (size_t i = 0; i < plan->ngofers; i++)
		b->g[i].fd = -1;
	b->ng = plan->ngofers;
	if (!(b->rmap = calloc(plan->ngofers ? plan->ngofers : 1, sizeof *b->rmap)))
		return -ENOMEM;
	for (size_t i = 0; i < plan->ngofers; i++) {
		const char *src = NULL, *dest = "/";
		bool ro = false;
		if (i == 0) {
			src = plan->root.path;
			/* An overlay never writes its lower layer. */
			ro = plan->root.readonly || !strcmp(plan->root.fs_name, "overlay");
		} else {
			for (size_t k = 0; k < plan->nmounts; k++)
				if (plan->mounts[k].gofer == (int)i) {
					src = plan->mounts[k].source;
					dest = plan->mounts[k].destination;
					ro = plan->mounts[k].readonly || plan->mounts[k].overlay;
				}
		}
		if (!src)
			return berr(err, errlen, -EINVAL, "gofer %zu: no mount in the plan uses it", i);
		int rc = host_dir(o->bundle_dir, src, &b->g[i].dir, i ? &b->g[i].file : NULL);
		if (rc)
			return berr(err, errlen, rc, "gofer for %s: %s", src, strerror(-rc));
		b->g[i].ro = ro;
		struct uvfs_boot_restore_entry *e = &b->rmap[b->nrmap];
		*e = (struct uvfs_boot_restore_entry){ .destination = strdup(dest), .gofer = (int)i,
							.host_dir = b->g[i].dir, .readonly = ro };
		if (!e->destination)
			return -ENOMEM;
		b->nrmap++;
	}
	int *fds = calloc(b->ng ? b->ng : 1, sizeof *fds);
	if (!fds)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < b->ng && !rc; i++) {
		if (o->restore) {
			rc = restore_take(b, o, used, i, b->rmap[i].destination);
		} else {
			rc = uvfs_gofer_spawn(b->g[i].dir, b->g[i].ro, &b->g[i].fd, &b->g[i].proc);
			if (rc)
				berr(err, errlen, rc, "starting gofer (diod) for %s: %s", b->g[i].dir, strerror(-rc));
		}
		fds[i] = b->g[i].fd;
	}
	for (size_t k = 0; !rc && k < o->nrestore; k++)
		if (!used[k])
			rc = berr(err, errlen, -EINVAL, "restore: no gofer mount at %s",
				  o->restore[k].destination ? o->restore[k].destination : "(null)");

	if (!rc)
		rc = uvfs_mount_plan_bind_fds(plan, fds, b->ng, err, errlen);
	free(fds);
	return rc;
}

/* start_gofers_in, owning the restore fds: every one no slot took is
 * closed (and its diod reaped) whatever happens; slots own the others. */
static int start_gofers(struct uvfs_boot *b, struct uvfs_mount_plan *plan, const struct uvfs_boot_opts *o)
{
	if (!o->restore)
		return start_gofers_in(b, plan, o, NULL);
	bool *used = calloc(o->nrestore + 1, sizeof *used);
	int rc = used ? start_gofers_in(b, plan, o, used) : -ENOMEM;
	restore_release(o, used);
	free(used);
	return rc;
}

/* The typed data of a 9p mount of slot g; the mount owns fd and proc from
 * the call on (it reaps proc itself if it fails). */
static const char *take_slot(struct uvfs_boot *b, size_t g, struct uvfs_gofer_internal *gi)
{
	gi->proc = b->g[g].proc;
	b->g[g].proc = NULL;
	b->g[g].fd = -1;
	return b->g[g].dir;
}

/* A disconnected 9p mount of slot g (read-only: an overlay's lower) and a
 * tmpfs with upper/ and work/; fills ov. The caller puts *lower, *upper
 * after mounting the overlay. */
static int overlay_layers(struct uvfs_boot *b, size_t g, const char *data, struct uvfs_mount **lower,
			  struct uvfs_mount **upper, struct uvfs_vd vds[3], struct uvfs_overlay_opts *ov)
{
	struct uvfs_gofer_internal gi;
	const char *dir = take_slot(b, g, &gi);
	int rc = uvfs_mount_disconnected(
		b->vfs, &b->cred, dir, "9p",
		&(struct uvfs_mount_opts){ .flags = UVFS_MNT_RDONLY, .data = data, .internal = &gi, .internal_mount = true },
		lower);
	if (rc)
		return rc;
	rc = uvfs_mount_disconnected(b->vfs, &b->cred, "none", "tmpfs",
				     &(struct uvfs_mount_opts){ .data = "mode=0755", .internal_mount = true }, upper);
	if (rc)
		return rc;
	uvfs_mount_get(*lower);
	vds[0] = (struct uvfs_vd){ *lower, uvfs_mount_root(*lower) };
	uvfs_dentry_get(vds[0].dentry);
	struct uvfs_vd top = { *upper, uvfs_mount_root(*upper) };
	const char *names[2] = { "upper", "work" };
	for (int i = 0; i < 2 && !rc; i++) {
		struct uvfs_pathop pop = { .root = top, .start = top, .path = names[i] };
		rc = uvfs_mkdir_at2(b->vfs, &b->cred, &pop, 0755, &(struct uvfs_create_opts){ .vd = &vds[1 + i] });
	}
	if (rc)
		return rc;
	*ov = (struct uvfs_overlay_opts){ .upper = vds[1], .work = vds[2], .nlower = 1, .lower = &vds[0] };
	return 0;
}

/* An overlay with flags over lower (borrowed) under a fresh tmpfs upper. */
static int overlay_on(struct uvfs_boot *b, struct uvfs_mount *lower, unsigned flags, struct uvfs_mount **out)
{
	struct uvfs_mount *upper = NULL;
	struct uvfs_vd vds[3] = { { lower, uvfs_mount_root(lower) } };
	uvfs_mount_get(lower);
	uvfs_dentry_get(vds[0].dentry);
	int rc = uvfs_mount_disconnected(b->vfs, &b->cred, "none", "tmpfs",
					 &(struct uvfs_mount_opts){ .data = "mode=0755", .internal_mount = true }, &upper);
	struct uvfs_vd top = rc ? (struct uvfs_vd){ 0 } : (struct uvfs_vd){ upper, uvfs_mount_root(upper) };
	const char *names[2] = { "upper", "work" };
	for (int i = 0; i < 2 && !rc; i++) {
		struct uvfs_pathop pop = { .root = top, .start = top, .path = names[i] };
		rc = uvfs_mkdir_at2(b->vfs, &b->cred, &pop, 0755, &(struct uvfs_create_opts){ .vd = &vds[1 + i] });
	}
	if (!rc) {
		struct uvfs_overlay_opts ov = { .upper = vds[1], .work = vds[2], .nlower = 1, .lower = &vds[0] };
		rc = uvfs_mount_disconnected(b->vfs, &b->cred, "overlay", "overlay",
					     &(struct uvfs_mount_opts){ .flags = flags, .internal = &ov, .internal_mount = true },
					     out);
	}
	for (int i = 0; i < 3; i++)
		if (uvfs_vd_ok(&vds[i]))
			uvfs_vd_put(&vds[i]);
	if (upper)
		uvfs_mount_put(upper);
	return rc;
}

static void overlay_layers_put(struct uvfs_mount *lower, struct uvfs_mount *upper, struct uvfs_vd vds[3])
{
	for (int i = 0; i < 3; i++)
		if (uvfs_vd_ok(&vds[i]))
			uvfs_vd_put(&vds[i]);
	if (lower)
		uvfs_mount_put(lower);
	if (upper)
		uvfs_mount_put(upper);
}

static int remember_ro(struct uvfs_boot *b, struct uvfs_mount *m)
{
	struct uvfs_mount **n = realloc(b->ro, (b->nro + 1) * sizeof *n);
	if (!n)
		return -ENOMEM;
	b->ro = n;
	uvfs_mount_get(m);
	b->ro[b->nro++] = m;
	return 0;
}

static int mount_root(struct uvfs_boot *b, struct uvfs_mount_plan *plan)
{
	int rc;
	if (!strcmp(plan->root.fs_name, "overlay")) {
		struct uvfs_mount *lower = NULL, *upper = NULL;
		struct uvfs_vd vds[3] = { 0 };
		struct uvfs_overlay_opts ov;
		rc = overlay_layers(b, 0, plan->root.data, &lower, &upper, vds, &ov);
		if (!rc)
			rc = uvfs_mntns_new(b->vfs, &b->cred, "overlay", "overlay",
					    &(struct uvfs_mount_opts){ .internal = &ov, .internal_mount = true }, &b->ns);
		overlay_layers_put(lower, upper, vds);
		return rc;
	}
	struct uvfs_gofer_internal gi;
	const char *dir = take_slot(b, 0, &gi);
	/* Read-write during set-up so mount points can be made (synthetic
	 * ones: diod itself refuses writes to a read-only root). */
	rc = uvfs_mntns_new(b->vfs, &b->cred, dir, "9p",
			    &(struct uvfs_mount_opts){ .data = plan->root.data, .internal = &gi, .internal_mount = true },
			    &b->ns);
	if (!rc && plan->root.readonly) {
		struct uvfs_vd root;
		uvfs_mntns_root(b->ns, &root);
		rc = remember_ro(b, root.mount);
		uvfs_vd_put(&root);
	}
	return rc;
}

/* devtmpfs as gVisor's boot fills it: UserspaceInit, then the devices. */
static int fill_devtmpfs(struct uvfs_boot *b, unsigned reg_flags)
{
	int rc = uvfs_devtmpfs_accessor_new(b->vfs, &b->dev);
	if (!rc)
		rc = uvfs_devtmpfs_userspace_init(b->dev);
	/* One devtmpfs per instance (gVisor: per kernel): another container of
	 * this instance, still booted, holds it filled already. */
	if (rc == -EEXIST)
		return 0;
	if (!rc)
		rc = uvfs_devtmpfs_create_device_files(b->dev, boot_devices_opts(reg_flags));
	return rc;
}

/* makeMountPoint. An existing destination must be of the source's kind
 * (Linux's graft_tree: -ENOTDIR; the seed did not check); a missing one is
 * made: a directory with synthetic parents, or for a file bind an empty
 * 0644 file under synthetic parents, as runc makes it; where the gofer
 * refuses it (a read-only root, below a synthetic directory) the file is
 * synthetic too, in memory (UVFS_MKNOD_SYNTHETIC). */
/* runc's securejoin: dest resolved inside the root one component at a
 * time, every symlink followed (an absolute target starts again at the
 * root, ".." stops at it) whether or not what it names exists, so the
 * result names no symlink and its missing part is what makeMountPoint
 * makes. malloc'd, or NULL (-ENOMEM, -ELOOP after 255 links, or another
 * readlink error) with *rc set. */
static char *secure_join(struct uvfs_boot *b, const struct uvfs_vd *root, const char *dest, int *rc)
{
	size_t cap = strlen(dest) + 2;
	char *todo = malloc(cap), *res = malloc(PATH_MAX);
	*rc = -ENOMEM;
	if (!todo || !res)
		goto fail;
	snprintf(todo, cap, "%s", dest); /* what is left to walk */
	strcpy(res, "/");
	for (int links = 0; *todo;) {
		char *p = todo;
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		char comp[NAME_MAX + 1];
		if (n > NAME_MAX) {
			*rc = -ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		memmove(todo, p + n, strlen(p + n) + 1);
		if (!n || !strcmp(comp, "."))
			continue;
		size_t rl = strlen(res);
		if (!strcmp(comp, "..")) {
			char *slash = strrchr(res, '/');
			slash[slash == res] = 0; /* "/a/b" → "/a", "/a" → "/", "/" stays */
			continue;
		}
		if (rl + 1 + n >= PATH_MAX) {
			*rc = -ENAMETOOLONG;
			goto fail;
		}
		snprintf(res + rl, PATH_MAX - rl, "%s%s", rl > 1 ? "/" : "", comp);
		char target[PATH_MAX];
		struct uvfs_pathop pop = { .root = *root, .start = *root, .path = res };
		ssize_t t = uvfs_readlink_at(b->vfs, &b->cred, &pop, target, sizeof target - 1);
		if (t == -EINVAL || t == -ENOENT || t == -ENOTDIR)
			continue; /* no link (or nothing yet): keep the name */
		if (t < 0) {
			*rc = (int)t;
			goto fail;
		}
		if (++links > 255) {
			*rc = -ELOOP;
			goto fail;
		}
		target[t] = 0;
		res[rl > 1 ? rl : 1] = 0; /* drop the link's name */
		if (target[0] == '/')
			strcpy(res, "/");
		size_t need = (size_t)t + 1 + strlen(todo) + 1;
		char *nt = malloc(need);
		if (!nt)
			goto fail;
		snprintf(nt, need, "%s/%s", target, todo);
		free(todo);
		todo = nt;
	}
	free(todo);
	return res;
fail:
	free(todo);
	free(res);
	return NULL;
}

static int make_mount_point(struct uvfs_boot *b, const struct uvfs_vd *root, const char *dest, bool dir)
{
	struct uvfs_pathop pop = { .root = *root, .start = *root, .path = dest, .flags = UVFS_PATH_FOLLOW };
	struct statx st;
	int rc = uvfs_stat_at(b->vfs, &b->cred, &pop, STATX_TYPE, &st);
	if (!rc)
		return S_ISDIR(st.stx_mode) == dir ? 0 : -ENOTDIR;
	if (rc != -ENOENT || dir)
		return uvfs_make_synthetic_mountpoint(b->vfs, &b->cred, dest, root);
	char *parent = strdup(dest);
	if (!parent)
		return -ENOMEM;
	*strrchr(parent, '/') = 0; /* dest is absolute and clean */
	rc = parent[0] ? uvfs_make_synthetic_mountpoint(b->vfs, &b->cred, parent, root) : 0;
	free(parent);
	if (rc)
		return rc;
	pop.flags = 0;
	rc = uvfs_mknod_at2(b->vfs, &b->cred, &pop, S_IFREG | 0644, 0,
			    &(struct uvfs_create_opts){ .flags = UVFS_MKNOD_SYNTHETIC });
	if (rc == -EPERM || rc == -EROFS || rc == -EACCES)
		b->why = "the filesystem refuses to create the file mount point";
	return rc;
}

/* --overlay over a writable file bind: gVisor's configureOverlay for a
 * regular-file lower, an overlay with a regular-file root: src (the
 * gofer's file) the lower layer, the file root of a fresh tmpfs the upper
 * (the overlay copies the file up whole, with mode, owner, times and
 * xattrs, at mount time): writes never reach the host. */
static int file_overlay(struct uvfs_boot *b, const struct uvfs_vd *src, unsigned flags, struct uvfs_mount **out)
{
	struct uvfs_pathop sp = { .root = *src, .start = *src, .path = "", .flags = UVFS_PATH_EMPTY };
	struct statx st;
	int rc = uvfs_stat_at(b->vfs, &b->cred, &sp, STATX_TYPE, &st);
	if (rc)
		return rc;
	if (!S_ISREG(st.stx_mode))
		return -EINVAL; /* configureOverlay: only a directory or a regular file */
	struct uvfs_mount *t = NULL;
	rc = uvfs_mount_disconnected(b->vfs, &b->cred, "none", "tmpfs",
				     &(struct uvfs_mount_opts){ .internal = &(struct uvfs_tmpfs_internal){ .root_type = S_IFREG },
								.internal_mount = true },
				     &t);
	if (rc)
		return rc;
	struct uvfs_overlay_opts ov = { .upper = { t, uvfs_mount_root(t) }, .nlower = 1, .lower = src };
	rc = uvfs_mount_disconnected(b->vfs, &b->cred, "overlay", "overlay",
				     &(struct uvfs_mount_opts){ .flags = flags, .internal = &ov, .internal_mount = true },
				     out);
	uvfs_mount_put(t);
	return rc;
}

/* A bind of a host file: a 9p mount of the file's directory (diod exports
 * directories only), and a mount of that filesystem rooted at the file. */
static int file_bind(struct uvfs_boot *b, const struct uvfs_plan_mount *m, unsigned flags, struct uvfs_mount **out)
{
	size_t g = (size_t)m->gofer;
	struct uvfs_gofer_internal gi;
	char *file = b->g[g].file;
	const char *dir = take_slot(b, g, &gi);
	struct uvfs_mount *dmnt = NULL;
	int rc = uvfs_mount_disconnected(b->vfs, &b->cred, dir, "9p",
					 &(struct uvfs_mount_opts){ .flags = flags | (m->overlay ? UVFS_MNT_RDONLY : 0),
								    .data = m->data,
								    .internal = &gi,
								    .internal_mount = true },
					 &dmnt);
	if (rc)
		return rc;
	struct uvfs_vd top = { dmnt, uvfs_mount_root(dmnt) }, vd = { 0 };
	struct uvfs_pathop pop = { .root = top, .start = top, .path = file };
	rc = uvfs_get_dentry_at(b->vfs, &b->cred, &pop, 0, &vd);
	if (!rc && m->overlay)
		rc = file_overlay(b, &vd, flags, out);
	else if (!rc)
		rc = uvfs_new_disconnected_mount(b->vfs, uvfs_mount_fs(dmnt), vd.dentry,
						 &(struct uvfs_mount_opts){ .flags = flags, .internal_mount = true }, out);
	if (uvfs_vd_ok(&vd))
		uvfs_vd_put(&vd);
	uvfs_mount_put(dmnt);
	return rc;
}

/* mountSharedSubmountVFS2: a new mount of the pod's master filesystem
 * with the container mount's flags (the plan made the compatibility check). */
static int shared_mount(struct uvfs_boot *b, const struct uvfs_plan_hint *h, unsigned flags, struct uvfs_mount **out)
{
	struct uvfs_mount *master;
	int rc = pod_master(b->pod, &b->cred, h, NULL, &master); /* made by processHints */
	if (rc)
		return rc;
	rc = uvfs_new_disconnected_mount(b->vfs, uvfs_mount_fs(master), uvfs_mount_root(master),
					 &(struct uvfs_mount_opts){ .flags = flags, .internal_mount = true }, out);
	uvfs_mount_put(master);
	return rc;
}

/* A verity mount: the lower filesystem (a gofer's 9p, or the planned type)
 * mounted read-only and disconnected, and verity over its root, with the
 * option-string form root_hash=HEX,action=error|panic. The plan's
 * root_name= is gVisor's Merkle layout; ours hashes the root manifest. */
static int verity_mount(struct uvfs_boot *b, const struct uvfs_plan_mount *m, unsigned flags, struct uvfs_mount **out)
{
	if (!*m->verity_roothash) {
		b->why = "no verity.roothash (enabling verity at run time is not supported)";
		return -EINVAL;
	}
	struct uvfs_mount *lower = NULL;
	int rc;
	if (m->gofer > 0) {
		if (b->g[m->gofer].file) {
			b->why = "a verity mount's source must be a directory";
			return -ENOTDIR;
		}
		struct uvfs_gofer_internal gi;
		const char *dir = take_slot(b, (size_t)m->gofer, &gi);
		rc = uvfs_mount_disconnected(b->vfs, &b->cred, dir, "9p",
					     &(struct uvfs_mount_opts){ .flags = UVFS_MNT_RDONLY,
									.data = m->lower_data,
									.internal = &gi,
									.internal_mount = true },
					     &lower);
	} else {
		rc = uvfs_mount_disconnected(
			b->vfs, &b->cred, *m->source ? m->source : m->lower_fs_name, m->lower_fs_name,
			&(struct uvfs_mount_opts){ .flags = UVFS_MNT_RDONLY, .data = m->lower_data, .internal_mount = true },
			&lower);
	}
	if (rc)
		return rc;
	char *data = NULL;
	if (asprintf(&data, "root_hash=%s,action=%s", m->verity_roothash, m->verity_action_error ? "error" : "panic") <
	    0) {
		uvfs_mount_put(lower);
		return -ENOMEM;
	}
	struct uvfs_verity_mount vm = { .lower = { lower, uvfs_mount_root(lower) },
					.action = m->verity_action_error ? UVFS_VERITY_ACTION_ERROR
									 : UVFS_VERITY_ACTION_PANIC };
	/* With an overlay (the seed's configureOverlay over a verity lower), the
	 * verity mount is the read-only lower layer under a tmpfs upper. */
	struct uvfs_mount *v = NULL;
	rc = uvfs_mount_disconnected(
		b->vfs, &b->cred, *m->source ? m->source : "verity", "verity",
		&(struct uvfs_mount_opts){
			.flags = m->overlay ? UVFS_MNT_RDONLY : flags, .data = data, .internal = &vm, .internal_mount = true },
		&v);
	if (rc == -EINVAL)
		b->why = "bad verity options or root hash (see the log)";
	free(data);
	uvfs_mount_put(lower);
	if (rc || !m->overlay) {
		*out = v;
		return rc;
	}
	rc = overlay_on(b, v, flags, out);
	uvfs_mount_put(v);
	return rc;
}

/* The planned mount m, on the mount point dest (made). */
static int mount_at(struct uvfs_boot *b, const struct uvfs_vd *root, const struct uvfs_mount_plan *plan,
		    const struct uvfs_plan_mount *m, const char *dest, bool file)
{
	int rc;
	unsigned flags = (m->noatime ? UVFS_MNT_NOATIME : 0) | (m->noexec ? UVFS_MNT_NOEXEC : 0);
	struct uvfs_mount *mnt = NULL;
	if (m->shared) {
		rc = shared_mount(b, &plan->hints[m->hint], flags, &mnt);
	} else if (m->verity) {
		rc = verity_mount(b, m, flags, &mnt);
	} else if (file) {
		rc = file_bind(b, m, flags, &mnt);
	} else if (m->gofer > 0 && m->overlay) {
		struct uvfs_mount *lower = NULL, *upper = NULL;
		struct uvfs_vd vds[3] = { 0 };
		struct uvfs_overlay_opts ov;
		rc = overlay_layers(b, (size_t)m->gofer, m->data, &lower, &upper, vds, &ov);
		if (!rc)
			rc = uvfs_mount_disconnected(
				b->vfs, &b->cred, "overlay", "overlay",
				&(struct uvfs_mount_opts){ .flags = flags, .internal = &ov, .internal_mount = true }, &mnt);
		overlay_layers_put(lower, upper, vds);
	} else if (m->gofer > 0) {
		struct uvfs_gofer_internal gi;
		const char *dir = take_slot(b, (size_t)m->gofer, &gi);
		rc = uvfs_mount_disconnected(
			b->vfs, &b->cred, dir, "9p",
			&(struct uvfs_mount_opts){ .flags = flags, .data = m->data, .internal = &gi, .internal_mount = true },
			&mnt);
	} else {
		struct uvfs_proc_internal pi = { .tasks = b->tasks };
		bool proc = !strcmp(m->fs_name, "proc");
		rc = uvfs_mount_disconnected(b->vfs, &b->cred, *m->source ? m->source : m->fs_name, m->fs_name,
					     &(struct uvfs_mount_opts){ .flags = flags,
									.data = m->data,
									.internal = proc ? &pi : NULL,
									.internal_mount = true },
					     &mnt);
	}
	if (rc)
		return rc;
	struct uvfs_pathop pop = { .root = *root, .start = *root, .path = dest, .flags = UVFS_PATH_FOLLOW };
	rc = uvfs_connect_mount_at(b->vfs, &b->cred, mnt, &pop);
	if (!rc && m->readonly)
		rc = remember_ro(b, mnt);
	uvfs_mount_put(mnt);
	return rc;
}

/* One planned mount, on a mount point made at its destination. */
static int mount_one(struct uvfs_boot *b, const struct uvfs_vd *root, const struct uvfs_mount_plan *plan,
		     const struct uvfs_plan_mount *m)
{
	bool file = m->gofer > 0 && b->g[m->gofer].file && !m->verity && !m->shared;
	/* runc makes the mount point where the destination's links lead
	 * (securejoin, dangling ones too) and mounts there. */
	int rc;
	char *dest = secure_join(b, root, m->destination, &rc);
	if (!dest)
		return rc;
	rc = make_mount_point(b, root, dest, !file);
	if (!rc)
		rc = mount_at(b, root, plan, m, dest, file);
	free(dest);
	return rc;
}

/* The /tmp rule: true when the image's /tmp is missing or an empty directory. */
static bool tmp_wanted(struct uvfs_boot *b, const struct uvfs_vd *root)
{
	struct uvfs_pathop pop = { .root = *root, .start = *root, .path = "/tmp", .flags = UVFS_PATH_FOLLOW };
	struct uvfs_file *f;
	int rc = uvfs_open_at(b->vfs, &b->cred, &pop, O_RDONLY | O_DIRECTORY, 0, 0, &f);
	if (rc == -ENOENT)
		return true;
	if (rc)
		return false; /* a file or something odd: leave it alone */
	char buf[4096];
	bool empty = true;
	ssize_t n;
	while (empty && (n = uvfs_getdents64(f, buf, sizeof buf)) > 0)
		for (ssize_t off = 0; off < n;) {
			uint16_t reclen;
			memcpy(&reclen, buf + off + 16, sizeof reclen);
			if (!reclen)
				break;
			const char *name = buf + off + 19;
			if (strcmp(name, ".") && strcmp(name, ".."))
				empty = false;
			off += reclen;
		}
	uvfs_file_put(f);
	return empty;
}

static int register_init(struct uvfs_boot *b, const struct uvfs_oci_spec *s, const struct uvfs_vd *root)
{
	int rc = 0;
	if (s->hostname && (rc = uvfs_tasks_set_uts(b->tasks, s->hostname, NULL, NULL)))
		return rc;
	const char **argv = calloc(s->nargs + 1, sizeof *argv);
	const char **envp = calloc(s->nenv + 1, sizeof *envp);
	uint32_t *groups = calloc(s->nadditional_gids + 1, sizeof *groups);
	struct uvfs_vd cwd = { 0 };
	if (!argv || !envp || !groups) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->nargs; i++)
		argv[i] = s->args[i];
	for (size_t i = 0; i < s->nenv; i++)
		envp[i] = s->env[i];
	struct uvfs_cred cred;
	if (s->uid == 0)
		uvfs_cred_init_root(&cred);
	else
		uvfs_cred_init_user(&cred, s->uid, s->gid);
	cred.gid = cred.egid = cred.fsgid = s->gid;
	if (s->nadditional_gids) /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(groups, s->additional_gids, s->nadditional_gids * sizeof *groups);
	uvfs_cred_set_groups(&cred, groups, (uint32_t)s->nadditional_gids);
	struct uvfs_pathop pop = { .root = *root, .start = *root, .path = s->cwd, .flags = UVFS_PATH_FOLLOW };
	if ((rc = uvfs_get_dentry_at(b->vfs, &b->cred, &pop, UVFS_GET_SEARCHABLE, &cwd)))
		goto out;
	/* As setupContainerVFS2: the executable is resolved in the finished
	 * tree with the process's credentials (not root's). Its failure is
	 * kept for the caller (no process is started here). */
	b->exec_rc = uvfs_resolve_executable_path(
		b->vfs, &cred, root,
		&(struct uvfs_exec_args){
			.argv = s->args, .argc = s->nargs, .cwd = s->cwd, .env = s->env, .nenv = s->nenv },
		&b->exec, b->exec_err, sizeof b->exec_err);
	if (b->exec_rc == -ENOMEM) {
		rc = -ENOMEM;
		goto out;
	}
	rc = uvfs_task_register(b->tasks, &(struct uvfs_task_params){ .pid = 1,
								       .cred = &cred,
								       .argv = argv,
								       .envp = envp,
								       .root = root,
								       .cwd = &cwd,
								       .mntns = b->ns,
								       .state = 'S' });
	if (!rc)
		rc = uvfs_tasks_set_init(b->tasks, 1);
out:
	if (uvfs_vd_ok(&cwd))
		uvfs_vd_put(&cwd);
	free(argv);
	free(envp);
	free(groups);
	return rc;
}

UVFS_API int uvfs_boot_mount_all(struct uvfs *vfs, struct uvfs_mount_plan *plan, const struct uvfs_boot_opts *o,
				 struct uvfs_boot **out)
{
	if (!vfs || !plan || !o || !o->spec || !out)
		return -EINVAL;
	*out = NULL;
	char *err = o->err;
	size_t errlen = o->errlen;
	if (err && errlen)
		err[0] = 0;
	struct uvfs_boot *b = calloc(1, sizeof *b);
	if (!b) {
		if (o->restore)
			restore_release(o, NULL);
		return -ENOMEM;
	}
	b->vfs = vfs;
	uvfs_cred_init_root(&b->cred);
	struct uvfs_vd root = { 0 };
	int rc = boot_jobctl_new(b, o->jobctl, &b->jc);
	if (rc) {
		free(b);
		if (o->restore)
			restore_release(o, NULL);
		return berr(err, errlen, rc, "creating the process groups: %s", strerror(-rc));
	}
	rc = start_gofers(b, plan, o);
	if (rc) {
		if (err && errlen && !err[0])
			berr(err, errlen, rc, "starting gofers: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = mount_root(b, plan))) {
		berr(err, errlen, rc, "mounting the root (%s of %s): %s", plan->root.fs_name, plan->root.path,
		     strerror(-rc));
		goto fail;
	}
	uvfs_mntns_root(b->ns, &root);
	if ((rc = fill_devtmpfs(b, o->register_flags))) {
		berr(err, errlen, rc, "filling devtmpfs: %s", strerror(-rc));
		goto fail;
	}
	/* processHintsVFS2: the pod's masters, mounted by its first container. */
	b->pod = o->pod;
	if (!b->pod && (rc = uvfs_pod_new(vfs, &b->pod))) {
		berr(err, errlen, rc, "creating the pod: %s", strerror(-rc));
		goto fail;
	}
	b->own_pod = !o->pod;
	for (size_t i = 0; i < plan->nhints; i++) {
		struct uvfs_mount *master;
		/* Every tmpfs hint (the seed), and the bind hints the pod shares. */
		if (strcmp(plan->hints[i].type, "tmpfs") && !hint_is_supported(&plan->hints[i]))
			continue;
		if ((rc = pod_master(b->pod, &b->cred, &plan->hints[i], o->bundle_dir, &master))) {
			berr(err, errlen, rc, "mounting shared master \"%s\": %s", plan->hints[i].name, strerror(-rc));
			goto fail;
		}
		uvfs_mount_put(master);
	}
	/* The task table before the mounts: proc mounts show it. */
	if ((rc = uvfs_tasks_new(vfs, &b->tasks))) {
		berr(err, errlen, rc, "creating the task table: %s", strerror(-rc));
		goto fail;
	}
	for (size_t i = 0; i < plan->nmounts; i++) {
		const struct uvfs_plan_mount *m = &plan->mounts[i];
		if (!m->fs_name)
			continue; /* skipped type: the plan carries its warning */
		if ((rc = mount_one(b, &root, plan, m))) {
			berr(err, errlen, rc, "mounting %s (%s) at %s: %s%s%s", m->fs_name, m->type, m->destination,
			     strerror(-rc), b->why ? ": " : "", b->why ? b->why : "");
			goto fail;
		}
	}
	if (plan->tmp == UVFS_TMP_IF_EMPTY && tmp_wanted(b, &root)) {
		struct uvfs_plan_mount t = { .destination = "/tmp", .source = "", .type = "tmpfs", .fs_name = "tmpfs",
					     .data = "mode=01777", .gofer = -1 };
		if ((rc = mount_one(b, &root, plan, &t))) {
			berr(err, errlen, rc, "mounting tmpfs at /tmp: %s", strerror(-rc));
			goto fail;
		}
	}
	/* Read-only last, innermost first (LIFO): set-up wrote through them. */
	for (size_t i = b->nro; i-- > 0;)
		if ((rc = uvfs_set_mount_readonly(b->ro[i], true))) {
			berr(err, errlen, rc, "making a mount read-only: %s", strerror(-rc));
			goto fail;
		}
	if ((rc = register_init(b, o->spec, &root))) {
		berr(err, errlen, rc, "registering the init task: %s", strerror(-rc));
		goto fail;
	}
	uvfs_vd_put(&root);
	*out = b;
	return 0;
fail:
	if (uvfs_vd_ok(&root))
		uvfs_vd_put(&root);
	uvfs_boot_destroy(b);
	return rc;
}
