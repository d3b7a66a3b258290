/* boot/pod.c — the pod: state shared by the containers booted in one
 * instance. Today that is runsc's pod-shared masters (processHintsVFS2,
 * spec §4.5): a hint of type tmpfs gets one filesystem, mounted
 * disconnected the first time a container of the pod names its source,
 * and every container mount matched by a pod hint binds that same
 * filesystem, so all containers see one tmpfs. A bind hint (the seed's
 * TODO: "bind mounts require a common gofer") gets one gofer of the pod's
 * own, started by the first container naming it, and its 9p filesystem is
 * the master: every container's writes go through that one diod. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsimpl/gofer/gofer.h"

#include "boot/internal.h"

struct pod_master {
	char *source; /* the hint's source: the key containers match by */
	struct uvfs_mount *mnt; /* disconnected, never connected; one reference */
};

struct uvfs_pod {
	struct uvfs *vfs; /* immutable */
	pthread_mutex_t mu; /* protects m and n: containers may boot in parallel */
	struct pod_master *m;
	size_t n;
};

UVFS_API int uvfs_pod_new(struct uvfs *vfs, struct uvfs_pod **out)
{
	if (!vfs || !out)
		return -EINVAL;
	struct uvfs_pod *p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->vfs = vfs;
	pthread_mutex_init(&p->mu, NULL);
	*out = p;
	return 0;
}

UVFS_API void uvfs_pod_destroy(struct uvfs_pod *p)
{
	if (!p)
		return;
	uvfs_gofer_reap_batch_begin(); /* the bind masters' diods, waited for together */
	for (size_t i = 0; i < p->n; i++) {
		uvfs_mount_put(p->m[i].mnt);
		free(p->m[i].source);
	}
	uvfs_gofer_reap_batch_end();
	free(p->m);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

UVFS_API size_t uvfs_pod_nmasters(struct uvfs_pod *p)
{
	pthread_mutex_lock(&p->mu);
	size_t n = p->n;
	pthread_mutex_unlock(&p->mu);
	return n;
}

/* A bind hint's master: a diod serving the hint's source directory
 * (read-only with a read-only hint), mounted 9p disconnected; shared
 * access (another pod or the host may change the tree). The mount owns
 * the gofer from the call on. */
static int bind_master(struct uvfs_pod *p, const struct uvfs_cred *cred, const struct uvfs_plan_hint *h,
		       const char *bundle_dir, unsigned flags, struct uvfs_mount **out)
{
	char joined[PATH_MAX], real[PATH_MAX], data[96];
	int n = h->source[0] == '/' ? snprintf(joined, sizeof joined, "%s", h->source)
				    : snprintf(joined, sizeof joined, "%s/%s", bundle_dir ? bundle_dir : ".", h->source);
	if (n < 0 || (size_t)n >= sizeof joined)
		return -ENAMETOOLONG;
	struct stat st;
	if (!realpath(joined, real) || stat(real, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR; /* diod exports directories */
	int fd;
	struct uvfs_gofer_internal gi;
	int rc = uvfs_gofer_spawn(real, h->readonly, &fd, &gi.proc);
	if (rc)
		return rc;
	snprintf(data, sizeof data, "trans=fd,rfdno=%d,wfdno=%d,cache=remote_revalidating", fd, fd);
	return uvfs_mount_disconnected(p->vfs, cred, real, "9p",
				       &(struct uvfs_mount_opts){
					       .flags = flags, .data = data, .internal = &gi, .internal_mount = true },
				       out);
}

HIDDEN int pod_master(struct uvfs_pod *p, const struct uvfs_cred *cred, const struct uvfs_plan_hint *h,
		      const char *bundle_dir, struct uvfs_mount **out)
{
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->m[i].source, h->source)) {
			uvfs_mount_get(p->m[i].mnt);
			*out = p->m[i].mnt;
			goto out;
		}
	struct pod_master *nm = realloc(p->m, (p->n + 1) * sizeof *nm);
	if (!nm) {
		rc = -ENOMEM;
		goto out;
	}
	p->m = nm;
	struct pod_master *m = &p->m[p->n];
	if (!(m->source = strdup(h->source))) {
		rc = -ENOMEM;
		goto out;
	}
	/* mountSharedMasterVFS2: the hint's own tmpfs data and flags. */
	unsigned flags = (h->readonly ? UVFS_MNT_RDONLY : 0) | (h->noatime ? UVFS_MNT_NOATIME : 0) |
			 (h->noexec ? UVFS_MNT_NOEXEC : 0);
	if (!strcmp(h->type, "bind"))
		rc = bind_master(p, cred, h, bundle_dir, flags, &m->mnt);
	else
		rc = uvfs_mount_disconnected(p->vfs, cred, h->source, "tmpfs",
					     &(struct uvfs_mount_opts){
						     .flags = flags, .data = h->data, .internal_mount = true },
					     &m->mnt);
	if (rc) {
		free(m->source);
		goto out;
	}
	p->n++;
	uvfs_mount_get(m->mnt);
	*out = m->mnt;
out:
	pthread_mutex_unlock(&p->mu);
	return rc;
}
