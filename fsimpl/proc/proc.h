/* fsimpl/proc/proc.h — the proc filesystem (type "proc"), generated from
 * the VFS's mount tree and a task table (fsimpl/kernfs/task.h). */
#pragma once

#include "fsimpl/kernfs/task.h"
#include "uvfs.h"

UVFS_API extern const struct uvfs_fs_type uvfs_proc_type;

/* Typed mount data (uvfs_mount_opts.internal): the task table to show.
 * Without it a mount uses the vfs's default table (uvfs_tasks_new). */
struct uvfs_proc_internal {
	struct uvfs_tasks *tasks;
};

#define UVFS_PROC_SUPER_MAGIC 0x9fa0
