/* devices/devices.c — uvfs_devices_register: every driver of devices/ in
 * one call (gVisor's boot: memdev.Register, ttydev.Register, tundev and
 * fuse when enabled). */
#include "devices/internal.h"

UVFS_API int uvfs_devices_register(struct uvfs *vfs, const struct uvfs_devices_opts *opts)
{
	int err = mem_register(vfs);
	if (!err)
		err = tty_register(vfs, opts);
	if (!err)
		err = misc_register(vfs, opts);
	return err;
}
