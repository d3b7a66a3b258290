/* fsimpl/overlay/host.c — layers that are host directories: each lower
 * served by its own read-only gofer (diod), upperdir and workdir by one
 * gofer serving their nearest common ancestor (the overlay needs both on
 * one mount, as the kernel needs them on one filesystem). The upper layer
 * is then written in the kernel's on-disk format into a real directory.
 * No lock: the result is private to the caller until it mounts. */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "fsimpl/gofer/gofer.h"
#include "fsimpl/overlay/internal.h"

struct uvfs_overlay_host {
	struct uvfs_overlay_opts opts; /* lower points at vds + 3 */
	unsigned nmounts, nvds;
	struct uvfs_mount **mounts; /* one per gofer, referenced */
	struct uvfs_vd *vds; /* [0] upper, [1] work, [2] unused, [3..) lowers */
	char *rest;
};

/* A disconnected 9p mount of host directory dir served by a fresh diod. */
static int serve(struct uvfs *vfs, const struct uvfs_cred *cred, const char *dir, bool ro, struct uvfs_mount **out)
{
	int fd;
	struct uvfs_gofer_proc *proc;
	int err = uvfs_gofer_spawn(dir, ro, &fd, &proc);
	if (err) {
		uvfs_log(UVFS_LOG_ERROR, "overlay: starting diod for %s: %s", dir, strerror(-err));
		return err;
	}
	size_t n = strlen(dir) + 64;
	char *data = malloc(n);
	if (!data) {
		close(fd); /* diod sees EOF and exits */
		uvfs_gofer_reap(proc);
		return -ENOMEM;
	}
	/* The layers change only through the overlay (Linux overlayfs.rst:
	 * changing them underneath is undefined), so the gofer's cache needs
	 * no revalidation: cache=fscache (lockless walks); the upper writes
	 * through, so the host directory is always the kernel-readable truth. */
	snprintf(data, n, "trans=fd,rfdno=%d,wfdno=%d,aname=%s,cache=%s", fd, fd, dir,
		 ro ? "fscache" : "fscache_writethrough");
	struct uvfs_gofer_internal gi = { .proc = proc }; /* the mount owns proc and fd */
	err = uvfs_mount_disconnected(vfs, cred, dir, "9p",
				      &(struct uvfs_mount_opts){ .flags = ro ? UVFS_MNT_RDONLY : 0,
								 .data = data,
								 .internal = &gi,
								 .internal_mount = true },
				      out);
	free(data);
	if (err)
		uvfs_log(UVFS_LOG_ERROR, "overlay: serving %s: %s", dir, strerror(-err));
	return err;
}

static int host_realpath(const char *p, char *out)
{
	if (!realpath(p, out)) {
		int e = -errno;
		uvfs_log(UVFS_LOG_ERROR, "overlay: %s: %s", p, strerror(errno));
		return e;
	}
	return 0;
}

static int add_mount(struct uvfs_overlay_host *h, struct uvfs *vfs, const struct uvfs_cred *cred, const char *dir,
		     bool ro)
{
	struct uvfs_mount *m;
	int err = serve(vfs, cred, dir, ro, &m);
	if (!err)
		h->mounts[h->nmounts++] = m;
	return err;
}

/* vd of path rel ("" = the root) inside mount m. */
static int vd_in(struct uvfs *vfs, const struct uvfs_cred *cred, struct uvfs_mount *m, const char *rel,
		 struct uvfs_vd *out)
{
	struct uvfs_vd r = { m, uvfs_mount_root(m) };
	struct uvfs_pathop pop = { .root = r, .start = r, .path = rel, .flags = *rel ? 0 : UVFS_PATH_EMPTY };
	return uvfs_get_dentry_at(vfs, cred, &pop, UVFS_GET_SEARCHABLE, out);
}

int uvfs_overlay_host_layers(struct uvfs *vfs, const struct uvfs_cred *cred, const char *data,
			     struct uvfs_overlay_host **out)
{
	struct uvfs_opts o;
	int err = uvfs_opts_parse(&o, data ? data : "");
	if (err)
		return err;
	const char *lowerdir = uvfs_opts_take(&o, "lowerdir");
	const char *upperdir = uvfs_opts_take(&o, "upperdir");
	const char *workdir = uvfs_opts_take(&o, "workdir");
	struct uvfs_overlay_host *h = calloc(1, sizeof(*h));
	char *lcopy = lowerdir ? strdup(lowerdir) : NULL;
	char *up = malloc(PATH_MAX), *wk = malloc(PATH_MAX), *common = malloc(PATH_MAX);
	if (!h || (lowerdir && !lcopy) || !up || !wk || !common) {
		err = -ENOMEM;
		goto out;
	}
	if (!lowerdir || !!upperdir != !!workdir) {
		uvfs_log(UVFS_LOG_ERROR, "overlay: needs lowerdir=, and upperdir= with workdir=");
		err = -EINVAL;
		goto out;
	}
	unsigned nlower = 1;
	for (char *p = lcopy; *p; p++)
		nlower += *p == ':';
	if (nlower > UVFS_OVERLAY_MAX_LOWER) {
		err = -EINVAL;
		goto out;
	}
	/* The options the overlay itself takes (e.g. none yet; unknown ones
	 * make its mount fail with -EINVAL, as the kernel). */
	size_t restlen = 1;
	for (int i = 0; i < o.n; i++)
		restlen += strlen(o.o[i].key) + strlen(o.o[i].val) + 1 + 1;
	if (!(h->rest = calloc(1, restlen)) || !(h->mounts = calloc(nlower + 1, sizeof(*h->mounts))) ||
	    !(h->vds = calloc(nlower + 3, sizeof(*h->vds)))) {
		err = -ENOMEM;
		goto out;
	}
	h->nvds = nlower + 3;
	for (int i = 0; i < o.n; i++) {
		if (o.o[i].used)
			continue;
		if (*h->rest)
			strcat(h->rest, ",");
		strcat(h->rest, o.o[i].key);
		if (*o.o[i].val) {
			strcat(h->rest, "=");
			strcat(h->rest, o.o[i].val);
		}
	}
	char *save = NULL, *p = lcopy;
	for (unsigned i = 0; i < nlower; i++, p = NULL) {
		char *tok = strtok_r(p, ":", &save);
		if (!tok || !*tok) {
			err = -EINVAL;
			goto out;
		}
		if ((err = host_realpath(tok, common)) || (err = add_mount(h, vfs, cred, common, true)) ||
		    (err = vd_in(vfs, cred, h->mounts[h->nmounts - 1], "", &h->vds[3 + i])))
			goto out;
	}
	h->opts = (struct uvfs_overlay_opts){ .nlower = nlower, .lower = h->vds + 3 };
	if (upperdir) {
		if ((err = host_realpath(upperdir, up)) || (err = host_realpath(workdir, wk)))
			goto out;
		/* Nearest common ancestor of the two (at a '/' boundary). */
		size_t n = 0;
		for (size_t i = 0; up[i] && up[i] == wk[i]; i++)
			if (up[i] == '/')
				n = i;
		size_t cl = strlen(up) < strlen(wk) ? strlen(up) : strlen(wk);
		if (!strncmp(up, wk, cl) && (up[cl] == '/' || wk[cl] == '/' || up[cl] == wk[cl])) {
			uvfs_log(UVFS_LOG_ERROR, "overlay: workdir and upperdir must be separate subtrees");
			err = -EINVAL;
			goto out;
		}
		snprintf(common, PATH_MAX, "%.*s", n ? (int)n : 1, up);
		const char *urel = up + n + 1, *wrel = wk + n + 1;
		if ((err = add_mount(h, vfs, cred, common, false)) ||
		    (err = vd_in(vfs, cred, h->mounts[h->nmounts - 1], urel, &h->vds[0])) ||
		    (err = vd_in(vfs, cred, h->mounts[h->nmounts - 1], wrel, &h->vds[1])))
			goto out;
		h->opts.upper = h->vds[0];
		h->opts.work = h->vds[1];
	}
	*out = h;
	h = NULL;
out:
	uvfs_overlay_host_put(h);
	free(lcopy);
	free(up);
	free(wk);
	free(common);
	uvfs_opts_free(&o);
	return err;
}

const struct uvfs_overlay_opts *uvfs_overlay_host_opts(const struct uvfs_overlay_host *h) { return &h->opts; }
const char *uvfs_overlay_host_data(const struct uvfs_overlay_host *h) { return h->rest; }

void uvfs_overlay_host_put(struct uvfs_overlay_host *h)
{
	if (!h)
		return;
	for (unsigned i = 0; i < h->nvds; i++)
		if (uvfs_vd_ok(&h->vds[i]))
			uvfs_vd_put(&h->vds[i]);
	for (unsigned i = 0; i < h->nmounts; i++)
		uvfs_mount_put(h->mounts[i]);
	free(h->mounts);
	free(h->vds);
	free(h->rest);
	free(h);
}
