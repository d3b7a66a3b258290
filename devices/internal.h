/* devices/internal.h — declarations shared by the drivers in devices/ only. */
#pragma once

#include "devices/devices.h"
#include "vfs/uvfs_fs.h"

#define DEV_HIDDEN __attribute__((visibility("hidden")))

/* Each driver registers its numbers (devices.c calls them in turn). */
DEV_HIDDEN int mem_register(struct uvfs *vfs);
DEV_HIDDEN int tty_register(struct uvfs *vfs, const struct uvfs_devices_opts *opts);
DEV_HIDDEN int misc_register(struct uvfs *vfs, const struct uvfs_devices_opts *opts);
