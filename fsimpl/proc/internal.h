/* fsimpl/proc/internal.h — shared between proc's files. */
#pragma once

#include "fsimpl/kernfs/kernfs.h"
#include "fsimpl/kernfs/task_internal.h"
#include "fsimpl/proc/proc.h"

struct proc_fs {
	struct kernfs_fs k;
	struct uvfs_tasks *tasks; /* immutable; one reference */
};

static inline struct proc_fs *proc_fs_of(struct kernfs_node *n) { return container_of(kernfs_node_fs(n), struct proc_fs, k); }

/* The task /proc/self names (a reference), or NULL. */
struct task *current_task(struct proc_fs *fs);

/* Dynamic children of the root: one directory per thread group leader. */
extern const struct kernfs_dyn_ops proc_pid_dyn;
extern const struct kernfs_data_ops proc_task_dops;
/* Target of thread-self and self. */
ssize_t proc_self_readlink(struct kernfs_node *n, char *buf, size_t len);
ssize_t proc_thread_self_readlink(struct kernfs_node *n, char *buf, size_t len);
