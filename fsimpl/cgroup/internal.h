/* fsimpl/cgroup/internal.h — what proc asks cgroupfs. */
#pragma once

#include "fsimpl/kernfs/kernfs.h"
#include "fsimpl/kernfs/task_internal.h"

/* /proc/[pid]/cgroup for tk: one "ID:controllers:/path" line per mounted
 * hierarchy of vfs, highest ID first (Linux's order). */
int cgroup_show_task(struct uvfs *vfs, struct task *tk, struct kernfs_buf *b);
