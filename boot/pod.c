/* boot/pod.c — the pod: state shared by the containers booted in one
 * instance. Today that is runsc's pod-shared tmpfs masters
 * (processHintsVFS2, spec §4.5): a hint of type tmpfs gets one filesystem,
 * mounted disconnected the first time a container of the pod names its
 * source, and every container mount matched by a pod hint binds that same
 * filesystem, so all containers see one tmpfs. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
	for (size_t i = 0; i < p->n; i++) {
		uvfs_mount_put(p->m[i].mnt);
		free(p->m[i].source);
	}
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

HIDDEN int pod_master(struct uvfs_pod *p, const struct uvfs_cred *cred, const struct uvfs_plan_hint *h,
		      struct uvfs_mount **out)
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
	rc = uvfs_mount_disconnected(p->vfs, cred, h->source, "tmpfs",
				     &(struct uvfs_mount_opts){ .flags = flags, .data = h->data, .internal_mount = true },
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
