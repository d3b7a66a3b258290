/* devices/devices.h — the character devices of uvfs (gVisor's memdev, ttydev,
 * tundev, fuse registrations at boot) and their registration in one call.
 *
 *   mem   1:3 null, 1:5 zero, 1:7 full, 1:8 random, 1:9 urandom
 *   tty   5:0 tty (the caller's controlling terminal, via the embedder)
 *   misc  10:200 net/tun (only with opts->net_stack), 10:229 fuse (only
 *         with opts->fuse): both open with -ENODEV until the network stack
 *         and FUSE-in-the-sandbox exist (no fake success).
 *
 * FIFOs need no registration: the VFS serves every FIFO inode with the pipe
 * of devices/fifo.c. */
#pragma once

#include <stdbool.h>

#include "vfs/uvfs.h"

#define UVFS_MEM_MAJOR 1
#define UVFS_NULL_MINOR 3
#define UVFS_ZERO_MINOR 5
#define UVFS_FULL_MINOR 7
#define UVFS_RANDOM_MINOR 8
#define UVFS_URANDOM_MINOR 9
#define UVFS_TTYAUX_MAJOR 5
#define UVFS_TTY_MINOR 0
#define UVFS_MISC_MAJOR 10
#define UVFS_TUN_MINOR 200
#define UVFS_FUSE_MINOR 229

struct uvfs_devices_opts {
	/* /dev/tty: the calling task's controlling terminal. Return 0 and a new
	 * reference to an open file on that terminal in *out (flags: the
	 * O_* flags /dev/tty is being opened with), or -ENXIO when the task
	 * has none, as Linux. Called on the opening thread (an embedder finds
	 * its task from it). The /dev/tty file then reads, writes, polls and
	 * ioctls through that file and puts it at its release. NULL: every
	 * open of /dev/tty is -ENXIO. */
	int (*ctty_open)(void *arg, int flags, struct uvfs_file **out);
	void *ctty_arg;
	bool net_stack; /* register net/tun 10:200 */
	bool fuse; /* register fuse 10:229 */
};

/* Registers every device above in vfs, each under its /proc/devices group
 * name (mem, tty, misc). opts may be NULL (no controlling terminal, no tun,
 * no fuse); otherwise it is borrowed until uvfs_destroy(vfs): /dev/tty
 * calls opts->ctty_open. Returns 0, or the first registration error
 * (-EBUSY if a number is taken; what was registered before stays). */
UVFS_API int uvfs_devices_register(struct uvfs *vfs, const struct uvfs_devices_opts *opts);
