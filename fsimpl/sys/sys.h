/* fsimpl/sys/sys.h — sysfs (type "sysfs"): gVisor's static tree (spec
 * §3.5) on the kernfs builder. /sys/fs accepts synthetic mount points
 * (UVFS_MKDIR_SYNTHETIC: cgroup hierarchies are mounted there); every
 * other mkdir is -EPERM. */
#pragma once

#include "uvfs.h"

UVFS_API extern const struct uvfs_fs_type uvfs_sysfs_type;

#define UVFS_SYSFS_MAGIC 0x62656572
