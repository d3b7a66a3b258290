/* fsimpl/kernfs/task.h — the task table: the processes and threads of one
 * sandbox pid namespace, registered by the embedder, read by proc (and by
 * cgroupfs later).
 *
 * Tasks are named by tid; a thread group is the tasks sharing a pid (the
 * leader has tid == pid). /proc/self resolves through the table's current
 * task: today the namespace's init task (uvfs_tasks_set_init, default pid
 * 1), later the calling task. */
#pragma once

#include <stdint.h>

#include "uvfs.h"

struct uvfs_tasks;

/* The fd table hook: /proc/[pid]/fd lists and reads through it.
 * Lifetime rule: calls run only while the task is registered.
 * uvfs_task_unregister waits for the calls in flight and no call starts
 * after it returns (the task's fd views then fail with ENOENT, as an
 * exited task's in Linux), so the embedder may free fd_arg once it has
 * returned. Hence the hooks must not unregister a task, and unregister
 * must not be called holding a lock the hooks take. */
struct uvfs_task_fd_ops {
	/* Fills fds with the open descriptors > after, ascending, at most max;
	 * returns how many. */
	int (*list)(void *arg, int after, int *fds, int max);
	/* The open file of fd, with a reference (uvfs_file_put it), or -EBADF. */
	int (*get)(void *arg, int fd, struct uvfs_file **out);
	/* Optional: the descriptor flags of fd (FD_CLOEXEC), shown in
	 * fdinfo's flags as O_CLOEXEC; NULL: none. */
	int (*fd_flags)(void *arg, int fd);
};

struct uvfs_task_params {
	int32_t pid; /* thread group id (> 0) */
	int32_t tid; /* 0: == pid (the leader) */
	int32_t ppid; /* 0: none */
	const struct uvfs_cred *cred; /* copied (its group list too); NULL: root */
	const char *comm; /* NULL: the basename of argv[0]; truncated to 15 bytes */
	const char *const *argv; /* NULL-terminated; may be NULL */
	const char *const *envp; /* NULL-terminated; may be NULL */
	const struct uvfs_vd *root, *cwd, *exe; /* references taken; exe may be empty */
	struct uvfs_mntns *mntns; /* reference taken; required */
	char state; /* 'R', 'S', 'D', 'T', 'Z'...; 0: 'S' */
	uint64_t start_ns; /* since the table's boot; 0: now */
	const struct uvfs_task_fd_ops *fd_ops; /* may be NULL (fd/ is empty) */
	void *fd_arg;
};

/* A new table for vfs. It becomes vfs's default table (the one a "proc"
 * mount without internal data uses) if vfs has none. */
UVFS_API int uvfs_tasks_new(struct uvfs *vfs, struct uvfs_tasks **out);
/* The owner's end: unregisters every task (dropping their vds and
 * namespaces, which may hold the proc mount), stops new registrations
 * (-ESHUTDOWN) and drops the owner's reference. proc mounts keep the
 * memory until they go. */
UVFS_API void uvfs_tasks_destroy(struct uvfs_tasks *t);

/* -EINVAL for bad ids or no mntns/root/cwd, -EEXIST for a tid in use,
 * -ESRCH for a thread whose group leader is not registered. */
UVFS_API int uvfs_task_register(struct uvfs_tasks *t, const struct uvfs_task_params *p);
/* Removes the task (its /proc entries go stale at once); -ESRCH if none.
 * Returns once no fd_ops call of the task runs (see uvfs_task_fd_ops). */
UVFS_API int uvfs_task_unregister(struct uvfs_tasks *t, int32_t tid);
UVFS_API int uvfs_task_set_state(struct uvfs_tasks *t, int32_t tid, char state);
UVFS_API int uvfs_task_set_comm(struct uvfs_tasks *t, int32_t tid, const char *comm);
UVFS_API int uvfs_task_set_cwd(struct uvfs_tasks *t, int32_t tid, const struct uvfs_vd *cwd);
/* The task /proc/self names when there is no calling task. */
UVFS_API int uvfs_tasks_set_init(struct uvfs_tasks *t, int32_t tid);
/* The sandbox's CPU count (/proc/cpuinfo entries, /proc/stat lines, and
 * sysfs's online/possible/present and cpuN, if t is the vfs's default
 * table), shown by every mount at once, including ones made before; the
 * default is the host's online CPUs. -EINVAL unless 1..8192. */
UVFS_API int uvfs_tasks_set_ncpus(struct uvfs_tasks *t, int ncpus);
/* UTS values shown in /proc/version and /proc/sys/kernel (NULL: keep). */
UVFS_API int uvfs_tasks_set_uts(struct uvfs_tasks *t, const char *hostname, const char *release,
				const char *version);
