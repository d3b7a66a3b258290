/* fsimpl/cgroup/cgroup.h — cgroupfs v1 (type "cgroup") on the kernfs
 * builder: one hierarchy per controller set and instance, control files
 * with gVisor's defaults, cgroup.procs/tasks listing the default task
 * table's tasks. */
#pragma once

#include "uvfs.h"

UVFS_API extern const struct uvfs_fs_type uvfs_cgroupfs_type;

#define UVFS_CGROUP_SUPER_MAGIC 0x27e0eb
