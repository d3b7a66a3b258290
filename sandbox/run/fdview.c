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
 * only by calls on /proc. A path /proc/<pid>/... (or an fd on such a
 * directory) fills that process's table as well. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/run/internal.h"

/* The tracee tgid's uvfs fds into task t's (empty) scratch table. */
static void fill_task(struct run_sup *s, struct run_task *t)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fd", (int)t->tgid);
	DIR *d = opendir(p);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long n = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || n < 0 || n > INT32_MAX)
			continue;
		int err;
		struct run_vfd *v = run_vfd_lookup(s, t->tgid, (int)n, &err);
		if (!v)
			continue;
		struct uvfs_file *f = v->file;
		if (!f) { /* REG: a read-only handle of the inode (tfd_get makes the same) */
			if (!v->rfile) {
				struct uvfs_cred root;
				uvfs_cred_init_root(&root);
				struct uvfs_pathop pop = { .root = s->root, .start = v->vd, .path = "",
							   .flags = UVFS_PATH_EMPTY };
				if (uvfs_open_at(s->vfs, &root, &pop, O_RDONLY, 0, 0, &v->rfile))
					continue;
			}
			f = v->rfile;
		}
		long r = uvfs_sbx_fd_install(t->sbx, f, (int)n, false);
		if (r >= 0 && r != n)
			uvfs_sbx_close(t->sbx, (int)r); /* that number is taken for this call */
	}
	closedir(d);
}

/* The tasks filled for the call being served (the supervisor serves one
 * call at a time): the caller, and the process a /proc/<pid> path names. */
static struct run_task *filled[2];
static int nfilled;

static void fill_once(struct run_call *c, struct run_task *t)
{
	for (int i = 0; i < nfilled; i++)
		if (filled[i] == t)
			return;
	if (nfilled == (int)(sizeof(filled) / sizeof(filled[0])))
		return;
	filled[nfilled++] = t;
	c->fdview = true;
	fill_task(c->s, t);
}

void run_fdview_fill(struct run_call *c, const char *path)
{
	if (!c->s->tasks_table)
		return;
	fill_once(c, c->task);
	/* /proc/<pid>/...: that process's view too (ls -l /proc/$$/fd) */
	if (path && !strncmp(path, "/proc/", 6) && path[6] >= '0' && path[6] <= '9') {
		long pid = strtol(path + 6, NULL, 10);
		for (struct run_task *t = c->s->tasks; t; t = t->next)
			if (t->tgid == pid) {
				fill_once(c, t);
				break;
			}
	}
}

void run_fdview_clear(struct run_call *c)
{
	/* outside a call the tables are empty: whatever is there now is ours */
	for (int i = 0; i < nfilled; i++)
		uvfs_sbx_close_range(filled[i]->sbx, 0, ~0u, 0);
	nfilled = 0;
	c->fdview = false;
}
