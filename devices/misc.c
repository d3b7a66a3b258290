/* devices/misc.c — misc devices, major 10, group "misc": net/tun (10:200)
 * and fuse (10:229). Each is registered only when the embedder says the
 * subsystem behind it exists (uvfs_devices_opts.net_stack / .fuse), as
 * gVisor registers them only with a network stack / FUSE enabled. Neither
 * subsystem exists in uvfs yet, so open is -ENODEV (Linux's answer for a
 * misc minor without a driver): never a file that pretends to work. */
#include <errno.h>

#include "devices/internal.h"

static int absent_open(struct uvfs_inode *inode, struct uvfs_file *f) { return -ENODEV; }

static const struct uvfs_file_ops absent_fops = { .open = absent_open };

DEV_HIDDEN int misc_register(struct uvfs *vfs, const struct uvfs_devices_opts *opts)
{
	int err = 0;
	if (opts && opts->net_stack)
		err = uvfs_register_chrdev_region(vfs, UVFS_DEV_CHAR, UVFS_MISC_MAJOR, UVFS_TUN_MINOR, 1, &absent_fops,
						  NULL, "misc");
	if (!err && opts && opts->fuse)
		err = uvfs_register_chrdev_region(vfs, UVFS_DEV_CHAR, UVFS_MISC_MAJOR, UVFS_FUSE_MINOR, 1,
						  &absent_fops, NULL, "misc");
	return err;
}
