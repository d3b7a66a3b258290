/* sandbox/sys_file.c — ioctl (FIOCLEX/FIONCLEX at the fd level, the rest
 * to the file), mount (new, bind, move, remount) and umount2 (poll:
 * sys_poll.c). */
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>

#include "sandbox/sbx.h"

UVFS_API long uvfs_sbx_ioctl(struct uvfs_sbx_task *t, int fd, unsigned long cmd, void *arg)
{
	SBX_CTX(t);
	struct uvfs_file *f;
	long err = sbx_file(t, fd, &f);
	if (err)
		return err;
	if (uvfs_file_flags(f) & O_PATH) {
		err = -EBADF;
	} else if (cmd == FIOCLEX || cmd == FIONCLEX) {
		struct sbx_fdtable *fdt = sbx_files(t);
		err = fdt_set_cloexec(fdt, fd, cmd == FIOCLEX);
		fdt_put(fdt);
	} else {
		err = uvfs_ioctl(f, cmd, arg);
	}
	uvfs_file_put(f);
	return err;
}

/* The per-mount flags of mount(2)'s flags (Linux path_mount). */
static unsigned ms_mnt_flags(unsigned long flags)
{
	return ((flags & MS_RDONLY) ? UVFS_MNT_RDONLY : 0) | ((flags & MS_NOEXEC) ? UVFS_MNT_NOEXEC : 0) |
	       ((flags & MS_NOATIME) ? UVFS_MNT_NOATIME : 0) | ((flags & MS_NODEV) ? UVFS_MNT_NODEV : 0) |
	       ((flags & MS_NOSUID) ? UVFS_MNT_NOSUID : 0);
}

UVFS_API long uvfs_sbx_mount(struct uvfs_sbx_task *t, const char *source, const char *target, const char *fstype,
			     unsigned long flags, const void *data)
{
	SBX_CTX(t);
	if (!target)
		return -EFAULT;
	if (!uvfs_cred_has_cap(&t->cred, CAP_SYS_ADMIN))
		return -EPERM;
	if ((flags & MS_MGC_MSK) == MS_MGC_VAL) /* the pre-2.4 magic number: discarded */
		flags &= ~MS_MGC_MSK;
	struct sbx_at dst;
	long err = sbx_at_begin(t, AT_FDCWD, target, SBX_AT_FOLLOW, &dst);
	if (err)
		return err;
	/* Linux path_mount's precedence: remount (bind: the mount's flags
	 * only), bind, propagation, move, new mount. A remount naming no atime
	 * flag keeps the mount's. */
	unsigned keep_atime =
		(flags & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)) ? 0 : UVFS_REMOUNT_KEEP_ATIME;
	if ((flags & (MS_REMOUNT | MS_BIND)) == (MS_REMOUNT | MS_BIND)) {
		err = uvfs_remount_at(t->vfs, &t->cred, &dst.pop, ms_mnt_flags(flags), NULL,
				      UVFS_REMOUNT_BIND | keep_atime);
	} else if (flags & MS_REMOUNT) {
		err = uvfs_remount_at(t->vfs, &t->cred, &dst.pop, ms_mnt_flags(flags), data, keep_atime);
	} else if (flags & MS_BIND) {
		struct sbx_at src;
		err = source ? sbx_at_begin(t, AT_FDCWD, source, SBX_AT_FOLLOW, &src) : -EFAULT;
		if (!err) {
			err = uvfs_bind_at(t->vfs, &t->cred, &src.pop, &dst.pop, (flags & MS_REC) ? UVFS_BIND_REC : 0);
			sbx_at_end(&src);
		}
	} else if (flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) {
		err = -EINVAL; /* uvfs has no mount propagation */
	} else if (flags & MS_MOVE) {
		struct sbx_at src;
		err = source && *source ? sbx_at_begin(t, AT_FDCWD, source, SBX_AT_FOLLOW, &src) : -EINVAL;
		if (!err) {
			err = uvfs_move_mount_at(t->vfs, &t->cred, &src.pop, &dst.pop);
			sbx_at_end(&src);
		}
	} else if (!fstype) {
		err = -EFAULT;
	} else {
		struct uvfs_mount_opts o = { .flags = ms_mnt_flags(flags), .data = data };
		err = uvfs_mount_at(t->vfs, &t->cred, source ? source : "none", &dst.pop, fstype, &o);
	}
	sbx_at_end(&dst);
	return err;
}

UVFS_API long uvfs_sbx_umount2(struct uvfs_sbx_task *t, const char *target, int flags)
{
	SBX_CTX(t);
	if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW))
		return -EINVAL;
	if (!uvfs_cred_has_cap(&t->cred, CAP_SYS_ADMIN))
		return -EPERM;
	struct sbx_at at;
	long err = sbx_at_begin(t, AT_FDCWD, target, (flags & UMOUNT_NOFOLLOW) ? 0 : SBX_AT_FOLLOW, &at);
	if (err)
		return err;
	err = uvfs_umount_at(t->vfs, &t->cred, &at.pop, (flags & MNT_DETACH) ? UVFS_UMOUNT_DETACH : 0);
	sbx_at_end(&at);
	return err;
}
