/* boot/register.c — runsc's registerFilesystems: the filesystem types with
 * the seed's flags (spec §1.1) and the devices. */
#include <errno.h>
#include <string.h>

#include "boot/internal.h"
#include "devices/devices.h"
#include "fsimpl/cgroup/cgroup.h"
#include "fsimpl/devpts/devpts.h"
#include "fsimpl/devtmpfs/devtmpfs.h"
#include "fsimpl/gofer/gofer.h"
#include "fsimpl/overlay/overlay.h"
#include "fsimpl/proc/proc.h"
#include "fsimpl/sys/sys.h"
#include "fsimpl/verity/verity.h"

#define UM UVFS_FS_USER_MOUNT
#define UL UVFS_FS_USER_LIST

/* The seed's table; fuse has no filesystem yet (only its device). */
static const struct {
	const struct uvfs_fs_type *type;
	unsigned flags;
} fs_table[] = {
	{ &uvfs_cgroupfs_type, UM | UL },
	{ &uvfs_devpts_type, UL }, /* seed: not user-mountable (b/29356795) */
	{ &uvfs_devtmpfs_type, UM | UL },
	{ &uvfs_gofer_type, UL }, /* 9p: internal mounts only */
	{ &uvfs_overlay_type, UM | UL },
	{ &uvfs_proc_type, UM | UL },
	{ &uvfs_sysfs_type, UM | UL },
	{ &uvfs_tmpfs_type, UM | UL },
	{ &uvfs_verity_type, UM | UL },
};

/* uvfs_devices_register borrows its options until uvfs_destroy: one static
 * set per flag combination. */
static const struct uvfs_devices_opts dev_opts[4] = {
	{ .net_stack = false, .fuse = false },
	{ .net_stack = false, .fuse = true },
	{ .net_stack = true, .fuse = false },
	{ .net_stack = true, .fuse = true },
};

HIDDEN const struct uvfs_devices_opts *boot_devices_opts(unsigned flags)
{
	return &dev_opts[((flags & UVFS_BOOT_TUN) ? 2 : 0) | ((flags & UVFS_BOOT_FUSE) ? 1 : 0)];
}

UVFS_API int uvfs_boot_register_filesystems(struct uvfs *vfs, unsigned flags)
{
	if (!vfs || (flags & ~(unsigned)(UVFS_BOOT_FUSE | UVFS_BOOT_TUN)))
		return -EINVAL;
	for (size_t i = 0; i < sizeof fs_table / sizeof fs_table[0]; i++) {
		int err = uvfs_register_fs_type(vfs, fs_table[i].type, fs_table[i].flags);
		if (err) {
			uvfs_log(UVFS_LOG_ERROR, "boot: registering filesystem %s: %s", fs_table[i].type->name,
				 strerror(-err));
			return err;
		}
	}
	int err = uvfs_devices_register(vfs, boot_devices_opts(flags));
	if (err) {
		uvfs_log(UVFS_LOG_ERROR, "boot: registering devices: %s", strerror(-err));
		return err;
	}
	/* Job control through the booted trees' process groups (boot/jobctl.c):
	 * devpts finds the boot of the calling context. */
	if ((err = uvfs_devpts_register_devices_opts(vfs, &boot_devpts_opts))) {
		uvfs_log(UVFS_LOG_ERROR, "boot: registering devpts devices: %s", strerror(-err));
		return err;
	}
	return 0;
}
