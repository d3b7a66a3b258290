/* vfs/fstype.c — the filesystem-type registry (gVisor RegisterFilesystemType)
 * and /proc/filesystems.
 *
 * Lock: vfs->types_lock (a leaf) protects vfs->fs_types. */
#include <stdio.h>

#include "internal.h"

UVFS_API int uvfs_register_fs_type(struct uvfs *vfs, const struct uvfs_fs_type *type, unsigned flags)
{
	if (!type || !type->name || !type->name[0] || !type->get_fs)
		return -EINVAL;
	struct fs_type_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->type = type;
	e->flags = flags;
	pthread_mutex_lock(&vfs->types_lock);
	for (struct fs_type_entry *it = vfs->fs_types; it; it = it->next) {
		if (!strcmp(it->type->name, type->name)) {
			pthread_mutex_unlock(&vfs->types_lock);
			free(e);
			return -EEXIST;
		}
	}
	/* Keep the list sorted by name: /proc/filesystems is sorted. */
	struct fs_type_entry **pp = &vfs->fs_types;
	while (*pp && strcmp((*pp)->type->name, type->name) < 0)
		pp = &(*pp)->next;
	e->next = *pp;
	*pp = e;
	pthread_mutex_unlock(&vfs->types_lock);
	return 0;
}

HIDDEN int fs_type_find(struct uvfs *vfs, const char *name, const struct uvfs_fs_type **type, unsigned *flags)
{
	int err = -ENODEV;
	if (!name)
		return -ENODEV;
	pthread_mutex_lock(&vfs->types_lock);
	for (struct fs_type_entry *it = vfs->fs_types; it; it = it->next) {
		if (!strcmp(it->type->name, name)) {
			*type = it->type;
			*flags = it->flags;
			err = 0;
			break;
		}
	}
	pthread_mutex_unlock(&vfs->types_lock);
	return err;
}

UVFS_API int uvfs_fs_type_data(struct uvfs *vfs, const struct uvfs_fs_type *type, void *(*make)(void),
			       void (*data_free)(void *), void **out)
{
	int err = -ENODEV;
	pthread_mutex_lock(&vfs->types_lock);
	for (struct fs_type_entry *it = vfs->fs_types; it; it = it->next) {
		if (it->type != type)
			continue;
		err = 0;
		if (!it->data) {
			if ((it->data = make()))
				it->data_free = data_free;
			else
				err = -ENOMEM;
		}
		*out = it->data;
		break;
	}
	pthread_mutex_unlock(&vfs->types_lock);
	return err;
}

UVFS_API ssize_t uvfs_list_fs_types(struct uvfs *vfs, char *buf, size_t len)
{
	size_t need = 0;
	pthread_mutex_lock(&vfs->types_lock);
	for (struct fs_type_entry *it = vfs->fs_types; it; it = it->next) {
		if (!(it->flags & UVFS_FS_USER_LIST))
			continue;
		char line[128];
		int n = snprintf(line, sizeof(line), "%s\t%s\n", (it->flags & UVFS_FS_REQUIRES_DEV) ? "" : "nodev",
				 it->type->name);
		if (n < 0)
			continue;
		/* Copy the part that fits, keeping room for the NUL. */
		if (buf && len && need < len - 1) {
			size_t room = len - 1 - need;
			memcpy(buf + need, line, (size_t)n < room ? (size_t)n : room);
		}
		need += (size_t)n;
	}
	pthread_mutex_unlock(&vfs->types_lock);
	if (buf && len)
		buf[need < len ? need : len - 1] = 0;
	return (ssize_t)need;
}
