/* stress_sbx_ofd.c — open file description locks of the syscall layer
 * under ThreadSanitizer: threads of two tasks (fd tables) take an OFD
 * write lock on one file with F_OFD_SETLKW, each through its own
 * description; some release it by F_OFD_SETLK F_UNLCK, others by closing
 * the description (its last reference drops the lock and must wake the
 * waiters), while a POSIX locker competes for the same range and a thread
 * dups and closes descriptions of a locked file.
 * Invariants: at most one holder at a time in the locked range, and no
 * waiter is left asleep (a watchdog fails the run if the threads do not
 * finish). STRESS_SECONDS (default 3) bounds the run.
 *
 * POSIX semantics the accounting must respect (Linux, fcntl(2); checked
 * against the kernel by test_sbx_ofd's released_by_last_close_only): the
 * close of ANY fd of the file in the POSIX owner's fd table drops that
 * table's POSIX locks, even an fd of another description. So no thread of
 * the POSIX locker's table (task 0) closes an fd of the file during the
 * run: its OFD lockers keep one description open and unlock; the ones that
 * open, close and release by close live in task 1, with the duper. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/uvfs_sandbox.h"

#define NLOCKERS 5

/* task: the fd table; keep: one description for the whole run (closed by
 * main after the join), else one per lock; by_close: the last close of
 * the description releases the lock, else F_OFD_SETLK F_UNLCK. */
static const struct role {
	int task;
	bool keep, by_close;
} roles[NLOCKERS] = {
	{ 0, true, false }, { 0, true, false }, { 1, false, false }, { 1, false, true }, { 1, false, true },
};
static long kept_fd[NLOCKERS];

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root;
static struct uvfs_sbx_task *task[2];
static atomic_bool stop;
static atomic_int holders;
static atomic_long n_locks, n_closes, n_posix, n_dups, n_bad;

static void bad(const char *what, long v)
{
	if (atomic_fetch_add(&n_bad, 1) < 10)
		fprintf(stderr, "INCONSISTENT: %s: %ld\n", what, v);
}

static void must(long rc, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "%s: %ld\n", what, rc);
		abort();
	}
}

static void hold(void)
{
	if (atomic_fetch_add(&holders, 1) != 0)
		bad("two holders", atomic_load(&holders));
	for (volatile int i = 0; i < 200; i++)
		;
	atomic_fetch_sub(&holders, 1);
}

static void *locker(void *arg)
{
	long id = (long)arg;
	const struct role *r = &roles[id];
	struct uvfs_sbx_task *t = task[r->task];
	for (unsigned n = 0; !atomic_load(&stop); n++) {
		long fd = kept_fd[id];
		if (!r->keep) {
			fd = uvfs_sbx_openat(t, AT_FDCWD, "/f", O_RDWR, 0);
			must(fd, "open");
		}
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 10 };
		long rc = uvfs_sbx_fcntl(t, (int)fd, F_OFD_SETLKW, (unsigned long)&fl);
		if (rc) {
			bad("setlkw", rc);
			if (!r->keep)
				uvfs_sbx_close(t, (int)fd);
			continue;
		}
		hold();
		atomic_fetch_add(&n_locks, 1);
		if (r->by_close) { /* the close (last reference) releases it */
			atomic_fetch_add(&n_closes, 1);
		} else {
			fl.l_type = F_UNLCK;
			if ((rc = uvfs_sbx_fcntl(t, (int)fd, F_OFD_SETLK, (unsigned long)&fl)))
				bad("unlock", rc);
		}
		if (!r->keep)
			uvfs_sbx_close(t, (int)fd);
	}
	return NULL;
}

/* A POSIX lock of task 0's fd table on the same range: conflicts with
 * every OFD holder, including those of task 0 (its kept descriptions). */
static void *posix(void *arg)
{
	(void)arg;
	long fd = uvfs_sbx_openat(task[0], AT_FDCWD, "/f", O_RDWR, 0);
	must(fd, "open posix");
	while (!atomic_load(&stop)) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1 };
		long rc = uvfs_sbx_fcntl(task[0], (int)fd, F_SETLKW, (unsigned long)&fl);
		if (rc) {
			bad("posix setlkw", rc);
			continue;
		}
		hold();
		fl.l_type = F_UNLCK;
		uvfs_sbx_fcntl(task[0], (int)fd, F_SETLK, (unsigned long)&fl);
		atomic_fetch_add(&n_posix, 1);
	}
	uvfs_sbx_close(task[0], (int)fd);
	return NULL;
}

/* Dups and closes of a description that holds a lock elsewhere in the
 * file: the lock must outlive every close but the last. */
static void *duper(void *arg)
{
	(void)arg;
	struct uvfs_sbx_task *t = task[1];
	long fd = uvfs_sbx_openat(t, AT_FDCWD, "/f", O_RDWR, 0);
	must(fd, "open duper");
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 1 };
	must(uvfs_sbx_fcntl(t, (int)fd, F_OFD_SETLK, (unsigned long)&fl), "lock 100");
	long probe = uvfs_sbx_openat(t, AT_FDCWD, "/f", O_RDWR, 0);
	must(probe, "open probe");
	while (!atomic_load(&stop)) {
		long d = uvfs_sbx_dup(t, (int)fd);
		must(d, "dup");
		uvfs_sbx_close(t, (int)d);
		struct flock q = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 1 };
		if (uvfs_sbx_fcntl(t, (int)probe, F_OFD_GETLK, (unsigned long)&q) || q.l_type != F_WRLCK ||
		    q.l_pid != -1)
			bad("lock 100 lost after closing a dup", q.l_type);
		atomic_fetch_add(&n_dups, 1);
	}
	uvfs_sbx_close(t, (int)fd);
	struct flock q = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 1 };
	if (uvfs_sbx_fcntl(t, (int)probe, F_OFD_GETLK, (unsigned long)&q) || q.l_type != F_UNLCK)
		bad("lock 100 kept after the last close", q.l_type);
	uvfs_sbx_close(t, (int)probe);
	return NULL;
}

static void *watchdog(void *arg)
{
	int secs = *(int *)arg;
	sleep((unsigned)secs + 20);
	fprintf(stderr, "INCONSISTENT: threads still blocked %d s after the end (a waiter never woken)\n", 20);
	_exit(1);
}

int main(void)
{
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	must(uvfs_create(&vfs), "create");
	must(uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT), "register");
	must(uvfs_mntns_new(vfs, &cred, "none", "tmpfs", NULL, &ns), "mntns");
	uvfs_mntns_root(ns, &root);
	for (int i = 0; i < 2; i++) {
		struct uvfs_sbx_task_params p = { .vfs = vfs, .mntns = ns, .root = &root, .umask = 022, .tid = 10 + i };
		must(uvfs_sbx_task_new(&p, &task[i]), "task");
	}
	long fd = uvfs_sbx_openat(task[0], AT_FDCWD, "/f", O_CREAT | O_RDWR, 0644);
	must(fd, "create");
	uvfs_sbx_close(task[0], (int)fd);
	for (int i = 0; i < NLOCKERS; i++)
		if (roles[i].keep)
			must(kept_fd[i] = uvfs_sbx_openat(task[roles[i].task], AT_FDCWD, "/f", O_RDWR, 0), "open kept");

	const char *s = getenv("STRESS_SECONDS");
	int secs = s ? atoi(s) : 3;
	pthread_t wd, t[NLOCKERS + 2];
	pthread_create(&wd, NULL, watchdog, &secs);
	pthread_detach(wd);
	for (long i = 0; i < NLOCKERS; i++)
		pthread_create(&t[i], NULL, locker, (void *)i);
	pthread_create(&t[NLOCKERS], NULL, posix, NULL);
	pthread_create(&t[NLOCKERS + 1], NULL, duper, NULL);
	struct timespec ts = { secs, 0 };
	nanosleep(&ts, NULL);
	atomic_store(&stop, true);
	for (int i = 0; i < NLOCKERS + 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NLOCKERS; i++)
		if (roles[i].keep)
			uvfs_sbx_close(task[roles[i].task], (int)kept_fd[i]);
	uvfs_sbx_task_put(task[0]);
	uvfs_sbx_task_put(task[1]);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int leak = uvfs_destroy(vfs, &live);
	printf("stress_sbx_ofd: %ld OFD locks (%ld released by close), %ld POSIX locks, %ld dups, %ld "
	       "inconsistent%s\n",
	       atomic_load(&n_locks), atomic_load(&n_closes), atomic_load(&n_posix), atomic_load(&n_dups),
	       atomic_load(&n_bad), leak ? ", LEAK" : "");
	return atomic_load(&n_bad) || leak ? 1 : 0;
}
