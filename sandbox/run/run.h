/* sandbox/run/run.h — `uvfs run`: run an unmodified program whose file
 * system is a uvfs tree, through seccomp user notification (see README.md
 * in this folder for the design: which syscalls are intercepted, how uvfs
 * files become fds in the tracee, exec, fork). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vfs/uvfs.h"

struct uvfs_run_opts {
	struct uvfs *vfs; /* the tree: borrowed */
	struct uvfs_mntns *ns; /* borrowed; its root is the tracee's / and initial cwd */
	const char *cwd; /* initial cwd in the tree (NULL: "/") */
	char *const *argv; /* PROGRAM ARGS: argv[0] is looked up in the tree (PATH search if no '/') */
	char *const *envp; /* NULL: the supervisor's environ */
	/* fork/clone/vfork fail with EAGAIN once this many tracee processes
	 * live (as RLIMIT_NPROC would); 0: UVFS_RUN_MAX_TASKS_DEFAULT */
	unsigned max_tasks;
	bool no_pseudo; /* no /proc, /sys, /dev, /dev/pts in the tree */
	/* set_user: the program runs with these ids (a bundle's process.user):
	 * the child sets its groups (exactly groups[0..ngroups)), gid and uid
	 * after loading the filter, before exec, as runc does. Only a root
	 * supervisor can take ids other than its own: else -EPERM. */
	bool set_user;
	uint32_t uid, gid;
	const uint32_t *groups;
	size_t ngroups;
	bool set_umask; /* process.user.umask given: the program's umask */
	unsigned umask;
};
#define UVFS_RUN_MAX_TASKS_DEFAULT 1024

/* Runs argv under the supervisor until the program exits, then writes
 * every file the tracee changed back into the tree. Returns the program's
 * wait status (as waitpid) in *status and 0, or -errno when the supervisor
 * failed (the tracee is then killed, never left blocked), with a message on
 * stderr. */
UVFS_API int uvfs_run(const struct uvfs_run_opts *opts, int *status);
