/* sandbox/run/fdview.c — /proc/<pid>/fd of a tracee.
 *
 * proc lists a task's fds from its uvfs_sbx task's fd table, but that
 * table is scratch in `uvfs run` (dispatch.c): the real fds live in the
 * kernel. For a call that may read /proc (a path starting with /proc, or
 * an fd on proc), the tracee's uvfs fds — its host fds that are our
 * placeholders, found as vfd.c finds them — are installed in the table at
 * their own numbers before the handler runs and closed after it. Host fds
 * (pipes, ttys, sockets, the host devices vfd.c hands out) have no uvfs
 * file and are not listed. The cost (a scan of /proc/<pid>/fd) is paid
 * only by calls on /proc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "sandbox/run/internal.h"

void run_fdview_fill(struct run_call *c)
{
	if (c->fdview || !c->s->tasks_table)
		return;
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fd", (int)c->pid);
	DIR *d = opendir(p);
	if (!d)
		return;
	c->fdview = true;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long n = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || n < 0 || n > INT32_MAX)
			continue;
		int err;
		struct run_vfd *v = run_vfd_lookup(c->s, c->pid, (int)n, &err);
		if (!v)
			continue;
		struct uvfs_file *f = v->file;
		if (!f) { /* REG: a read-only handle of the inode (tfd_get makes the same) */
			if (!v->rfile) {
				struct uvfs_cred root;
				uvfs_cred_init_root(&root);
				struct uvfs_pathop pop = { .root = c->s->root, .start = v->vd, .path = "",
							   .flags = UVFS_PATH_EMPTY };
				if (uvfs_open_at(c->s->vfs, &root, &pop, O_RDONLY, 0, 0, &v->rfile))
					continue;
			}
			f = v->rfile;
		}
		long r = uvfs_sbx_fd_install(c->task->sbx, f, (int)n, false);
		if (r >= 0 && r != n)
			uvfs_sbx_close(c->task->sbx, (int)r); /* that number is taken for this call */
	}
	closedir(d);
}

void run_fdview_clear(struct run_call *c)
{
	/* outside a call the table is empty: whatever is there now is ours */
	uvfs_sbx_close_range(c->task->sbx, 0, ~0u, 0);
	c->fdview = false;
}
