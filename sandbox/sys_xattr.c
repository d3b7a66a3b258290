/* sandbox/sys_xattr.c — get/set/list/removexattr and their l* (no final
 * follow) and f* (an fd; O_PATH is -EBADF as Linux's fdget) forms. The
 * name and size checks are the VFS's (uvfs_*xattr_at). */
#include <errno.h>

#include "sandbox/sbx.h"

/* The pathop for path (follow unless l*) or, with path NULL, for fd. */
static long xat_begin(struct uvfs_sbx_task *t, int fd, const char *path, bool follow, struct sbx_at *at)
{
	if (path)
		return sbx_at_begin(t, AT_FDCWD, path, follow ? SBX_AT_FOLLOW : 0, at);
	if (fd < 0)
		return -EBADF;
	long err = sbx_at_begin(t, fd, "", SBX_AT_EMPTY, at);
	if (!err && (uvfs_file_flags(at->dir) & O_PATH)) {
		sbx_at_end(at);
		return -EBADF;
	}
	return err;
}

static long do_get(struct uvfs_sbx_task *t, int fd, const char *path, bool follow, const char *name, void *value,
		   size_t size)
{
	if (!name)
		return -EFAULT;
	struct sbx_at at;
	long err = xat_begin(t, fd, path, follow, &at);
	if (err)
		return err;
	if (value || !size) {
		err = uvfs_getxattr_at(t->vfs, &t->cred, &at.pop, name, value, size);
	} else { /* NULL buffer: the kernel faults only when copying a value */
		err = uvfs_getxattr_at(t->vfs, &t->cred, &at.pop, name, NULL, 0);
		if (err > 0)
			err = -EFAULT;
	}
	sbx_at_end(&at);
	return err;
}

static long do_set(struct uvfs_sbx_task *t, int fd, const char *path, bool follow, const char *name,
		   const void *value, size_t size, int flags)
{
	if (!name || (!value && size))
		return -EFAULT; /* the kernel copies name and value first */
	struct sbx_at at;
	long err = xat_begin(t, fd, path, follow, &at);
	if (err)
		return err;
	err = uvfs_setxattr_at(t->vfs, &t->cred, &at.pop, name, value, size, flags);
	sbx_at_end(&at);
	return err;
}

static long do_list(struct uvfs_sbx_task *t, int fd, const char *path, bool follow, char *list, size_t size)
{
	struct sbx_at at;
	long err = xat_begin(t, fd, path, follow, &at);
	if (err)
		return err;
	if (list || !size) {
		err = uvfs_listxattr_at(t->vfs, &t->cred, &at.pop, list, size);
	} else {
		err = uvfs_listxattr_at(t->vfs, &t->cred, &at.pop, NULL, 0);
		if (err > 0)
			err = -EFAULT;
	}
	sbx_at_end(&at);
	return err;
}

static long do_remove(struct uvfs_sbx_task *t, int fd, const char *path, bool follow, const char *name)
{
	if (!name)
		return -EFAULT;
	struct sbx_at at;
	long err = xat_begin(t, fd, path, follow, &at);
	if (err)
		return err;
	err = uvfs_removexattr_at(t->vfs, &t->cred, &at.pop, name);
	sbx_at_end(&at);
	return err;
}

#define PATHCHK(p)                                                                                               \
	do {                                                                                                     \
		if (!(p))                                                                                        \
			return -EFAULT;                                                                          \
	} while (0)

UVFS_API long uvfs_sbx_getxattr(struct uvfs_sbx_task *t, const char *path, const char *name, void *value, size_t size)
{
	SBX_CTX(t);
	PATHCHK(path);
	return do_get(t, -1, path, true, name, value, size);
}
UVFS_API long uvfs_sbx_lgetxattr(struct uvfs_sbx_task *t, const char *path, const char *name, void *value,
				 size_t size)
{
	SBX_CTX(t);
	PATHCHK(path);
	return do_get(t, -1, path, false, name, value, size);
}
UVFS_API long uvfs_sbx_fgetxattr(struct uvfs_sbx_task *t, int fd, const char *name, void *value, size_t size)
{
	SBX_CTX(t);
	return do_get(t, fd, NULL, false, name, value, size);
}
UVFS_API long uvfs_sbx_setxattr(struct uvfs_sbx_task *t, const char *path, const char *name, const void *value,
				size_t size, int flags)
{
	SBX_CTX(t);
	PATHCHK(path);
	return do_set(t, -1, path, true, name, value, size, flags);
}
UVFS_API long uvfs_sbx_lsetxattr(struct uvfs_sbx_task *t, const char *path, const char *name, const void *value,
				 size_t size, int flags)
{
	SBX_CTX(t);
	PATHCHK(path);
	return do_set(t, -1, path, false, name, value, size, flags);
}
UVFS_API long uvfs_sbx_fsetxattr(struct uvfs_sbx_task *t, int fd, const char *name, const void *value, size_t size,
				 int flags)
{
	SBX_CTX(t);
	return do_set(t, fd, NULL, false, name, value, size, flags);
}
UVFS_API long uvfs_sbx_listxattr(struct uvfs_sbx_task *t, const char *path, char *list, size_t size)
{
	SBX_CTX(t);
	PATHCHK(path);
	return do_list(t, -1, path, true, list, size);
}
UVFS_API long uvfs_sbx_llistxattr(struct uvfs_sbx_task *t, const char *path, char *list, size_t size)
{
	SBX_CTX(t);
	PATHCHK(path);
	return do_list(t, -1, path, false, list, size);
}
UVFS_API long uvfs_sbx_flistxattr(struct uvfs_sbx_task *t, int fd, char *list, size_t size)
{
	SBX_CTX(t);
	return do_list(t, fd, NULL, false, list, size);
}
UVFS_API long uvfs_sbx_removexattr(struct uvfs_sbx_task *t, const char *path, const char *name)
{
	SBX_CTX(t);
	PATHCHK(path);
	return do_remove(t, -1, path, true, name);
}
UVFS_API long uvfs_sbx_lremovexattr(struct uvfs_sbx_task *t, const char *path, const char *name)
{
	SBX_CTX(t);
	PATHCHK(path);
	return do_remove(t, -1, path, false, name);
}
UVFS_API long uvfs_sbx_fremovexattr(struct uvfs_sbx_task *t, int fd, const char *name)
{
	SBX_CTX(t);
	return do_remove(t, fd, NULL, false, name);
}
