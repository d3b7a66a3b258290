/* fsimpl/kernfs/task_internal.h — the task table's internals, for proc. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>

#include "fsimpl/kernfs/task.h"
#include "uvfs_fs.h"

/* One registered task. Immutable after register: ids, cred (and its
 * groups), argv/env, start_ns, fd_ops/fd_arg, tasks. Under lock: comm,
 * state, root, cwd, exe, mntns (these are released at unregister, so a
 * reader takes its own references under lock after checking dead). */
struct task {
	atomic_long refs; /* the table's (until unregister) + readers' + proc nodes' */
	atomic_bool dead; /* set once, at unregister: proc nodes go stale */
	int32_t pid, tid, ppid;
	struct uvfs_cred cred; /* groups points at groups_buf */
	uint32_t *groups_buf;
	char *argv; /* NUL-separated, each NUL-terminated */
	size_t argv_len;
	char *env;
	size_t env_len;
	uint64_t start_ns;
	const struct uvfs_task_fd_ops *fd_ops;
	void *fd_arg; /* embedder state: only touched inside fd_rw (below) */
	/* Read-held around every fd_ops call, after checking dead; unregister
	 * sets dead, then takes it for writing once, so when it returns no call
	 * is running and none can start: the embedder may free fd_arg. */
	pthread_rwlock_t fd_rw;
	struct uvfs_tasks *tasks; /* no reference: proc holds the table */
	pthread_mutex_t lock;
	char comm[16];
	char state;
	struct uvfs_vd root, cwd, exe;
	struct uvfs_mntns *mntns;
};

/* The table. lock guards everything but refs; readers (proc lookups and
 * listings) take it briefly, copy or reference what they need, and drop
 * it before calling into the VFS. */
struct uvfs_tasks {
	atomic_long refs; /* the owner's + each proc filesystem's */
	struct uvfs *vfs; /* immutable */
	uint64_t boot_ns; /* immutable: CLOCK_MONOTONIC at creation */
	pthread_mutex_t lock;
	bool closed;
	struct task **v; /* sorted by tid */
	size_t n, cap;
	int32_t init_tid; /* 0: pid 1 */
	int32_t last_pid;
	char hostname[65], release[65], version[128];
	int ncpus; /* 0: the host's online CPUs */
};

void task_get(struct task *tk);
void task_put(struct task *tk);
/* A reference to task tid, or NULL. */
struct task *tasks_find(struct uvfs_tasks *t, int32_t tid);
/* current_task: the calling task; with no caller context yet, the init task. */
struct task *tasks_current(struct uvfs_tasks *t);
/* Up to max tasks with tid >= from (leaders only if leaders), referenced, ascending. */
int tasks_list(struct uvfs_tasks *t, int32_t from, bool leaders, int32_t pid, struct task **out, int max);
/* Counts: tasks and leaders, running ones. */
void tasks_counts(struct uvfs_tasks *t, int *ntasks, int *nrunning, int32_t *last_pid);
void tasks_get(struct uvfs_tasks *t);
void tasks_put(struct uvfs_tasks *t);
/* The default table of vfs (a reference), or NULL. */
struct uvfs_tasks *tasks_default(struct uvfs *vfs);
/* References on the task's vds / mntns under its lock; -ESRCH if dead. */
int task_get_vd(struct task *tk, int which, struct uvfs_vd *out);
int task_get_mntns(struct task *tk, struct uvfs_mntns **out);
enum { TASK_ROOT, TASK_CWD, TASK_EXE };
/* The fd_ops hooks, guarded against the task's exit (fd_rw above). An
 * exited task is -ENOENT, as Linux's get_proc_task failing; no hook:
 * list 0, get -ENOENT, flags 0. */
int task_fd_list(struct task *tk, int after, int *fds, int max);
int task_fd_get(struct task *tk, int fd, struct uvfs_file **out);
int task_fd_flags(struct task *tk, int fd);
uint64_t tasks_now_ns(void);
/* The configured CPU count, else the host's online CPUs (>= 1). */
int tasks_ncpus(struct uvfs_tasks *t);
