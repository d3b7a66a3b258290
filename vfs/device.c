/* vfs/device.c — the device registry (kind, major, minor → file ops) and
 * anonymous device minors for filesystems.
 *
 * Lock: vfs->dev_lock (a leaf) protects vfs->devices and the minor bitmap. */
#include <stdio.h>

#include "internal.h"

UVFS_API int uvfs_register_device(struct uvfs *vfs, int kind, uint32_t major, uint32_t minor,
				  const struct uvfs_file_ops *fops, void *priv, const char *group)
{
	if ((kind != UVFS_DEV_CHAR && kind != UVFS_DEV_BLOCK) || !fops)
		return -EINVAL;
	struct dev_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct dev_entry){ .kind = kind, .major = major, .minor = minor, .fops = fops, .priv = priv };
	if (group)
		snprintf(e->group, sizeof(e->group), "%s", group);
	pthread_mutex_lock(&vfs->dev_lock);
	for (struct dev_entry *it = vfs->devices; it; it = it->next) {
		if (it->kind == kind && it->major == major && it->minor == minor) {
			pthread_mutex_unlock(&vfs->dev_lock);
			free(e);
			return -EEXIST;
		}
	}
	e->next = vfs->devices;
	vfs->devices = e;
	pthread_mutex_unlock(&vfs->dev_lock);
	return 0;
}

HIDDEN int device_lookup(struct uvfs *vfs, int kind, dev_t rdev, const struct uvfs_file_ops **fops, void **priv)
{
	int err = -ENXIO;
	pthread_mutex_lock(&vfs->dev_lock);
	for (struct dev_entry *it = vfs->devices; it; it = it->next) {
		if (it->kind == kind && it->major == major(rdev) && it->minor == minor(rdev)) {
			*fops = it->fops;
			*priv = it->priv;
			err = 0;
			break;
		}
	}
	pthread_mutex_unlock(&vfs->dev_lock);
	return err;
}

/* Smallest free minor at or after the hint (gVisor GetAnonBlockDevMinor). */
UVFS_API int uvfs_get_anon_minor(struct uvfs *vfs, uint32_t *minor)
{
	int err = -EMFILE;
	pthread_mutex_lock(&vfs->dev_lock);
	for (uint32_t i = 0, m = vfs->anon_next; i < ANON_MINOR_MAX; i++, m++) {
		if (m >= ANON_MINOR_MAX - 1 || m == 0)
			m = 1;
		if (!(vfs->anon_minors[m / 8] & (1u << (m % 8)))) {
			vfs->anon_minors[m / 8] |= (uint8_t)(1u << (m % 8));
			vfs->anon_next = m + 1;
			*minor = m;
			err = 0;
			break;
		}
	}
	pthread_mutex_unlock(&vfs->dev_lock);
	return err;
}

UVFS_API void uvfs_put_anon_minor(struct uvfs *vfs, uint32_t minor)
{
	if (minor == 0 || minor >= ANON_MINOR_MAX)
		return;
	pthread_mutex_lock(&vfs->dev_lock);
	vfs->anon_minors[minor / 8] &= (uint8_t) ~(1u << (minor % 8));
	if (minor < vfs->anon_next)
		vfs->anon_next = minor;
	pthread_mutex_unlock(&vfs->dev_lock);
}
