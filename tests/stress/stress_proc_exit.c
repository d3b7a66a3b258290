/* stress_proc_exit.c — tasks exit while readers walk their /proc fd views.
 * Built with TSan.
 *
 * Each writer registers a task whose fd_ops read an embedder fd table (a
 * heap struct holding open files), lets readers at it for a moment, then
 * unregisters it and at once poisons and frees that table, as an embedder
 * does when its process exits (task.h: the table may go once
 * uvfs_task_unregister returns). Readers list /proc/N/fd and /proc/N/fdinfo,
 * readlink fd links and read fdinfo files of those tasks.
 *
 * Invariants:
 *  - no fd_ops call sees a poisoned table (and TSan/ASan see no access to
 *    the freed one): unregister must wait for calls in flight;
 *  - every operation either works or fails with ENOENT or ESRCH;
 *  - a link reads "/f<k>" and an fdinfo says "flags:";
 *  - teardown leaves zero live objects.
 * STRESS_SECONDS (default 3) bounds the run. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsimpl/proc/proc.h"
#include "uvfs.h"

#define NWRITERS 2
#define NREADERS 3
#define NFDS 3
#define ALIVE 0x600dfd7au

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static struct uvfs_tasks *tasks;
static struct uvfs_file *files[NFDS]; /* /f0.. /f2, opened once */
static atomic_bool stop;
static atomic_long n_cycles, n_lists, n_links, n_infos, n_gone, n_inconsistent;

/* The embedder's fd table (cf. sandbox/fdtable.c), freed at exit. */
struct fdtab {
	unsigned magic;
	struct uvfs_file *f[NFDS];
};

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void bad(const char *fmt, ...)
{
	if (atomic_fetch_add(&n_inconsistent, 1) < 20) {
		va_list ap;
		va_start(ap, fmt);
		fprintf(stderr, "INCONSISTENT: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "stress_proc_exit: setup %s failed: %d (%s)\n", what, rc, strerror(-rc));
	exit(2);
}

static bool check_tab(struct fdtab *t)
{
	if (t->magic == ALIVE)
		return true;
	bad("fd_ops called on an exited task's table (magic %#x)", t->magic);
	return false;
}

static int tab_list(void *arg, int after, int *fds, int max)
{
	struct fdtab *t = arg;
	if (!check_tab(t))
		return -EIO;
	sched_yield(); /* widen the window an exit could slip into */
	int n = 0;
	for (int i = after + 1; i < NFDS && n < max; i++)
		if (t->f[i])
			fds[n++] = i;
	return check_tab(t) ? n : -EIO;
}

static int tab_get(void *arg, int fd, struct uvfs_file **out)
{
	struct fdtab *t = arg;
	if (!check_tab(t))
		return -EIO;
	sched_yield();
	if (fd < 0 || fd >= NFDS || !t->f[fd])
		return -EBADF;
	uvfs_file_get(t->f[fd]);
	*out = t->f[fd];
	return 0;
}

static int tab_flags(void *arg, int fd)
{
	struct fdtab *t = arg;
	return check_tab(t) && fd == 1 ? FD_CLOEXEC : 0;
}

static const struct uvfs_task_fd_ops tab_ops = { .list = tab_list, .get = tab_get, .fd_flags = tab_flags };

static struct uvfs_pathop pop(const char *path, unsigned flags)
{
	return (struct uvfs_pathop){ .root = root, .start = root, .path = path, .flags = flags };
}

static int32_t writer_pid(int w) { return 100 + w; }

static void *writer(void *arg)
{
	int w = (int)(long)arg;
	while (!atomic_load(&stop)) {
		struct fdtab *t = calloc(1, sizeof(*t));
		if (!t)
			die("calloc", -ENOMEM);
		t->magic = ALIVE;
		for (int i = 0; i < NFDS; i++) {
			uvfs_file_get(files[i]);
			t->f[i] = files[i];
		}
		struct uvfs_task_params p = {
			.pid = writer_pid(w), .root = &root, .cwd = &root, .mntns = ns, .fd_ops = &tab_ops, .fd_arg = t,
		};
		int rc = uvfs_task_register(tasks, &p);
		if (rc)
			bad("register %d: %d", p.pid, rc);
		usleep(200);
		if ((rc = uvfs_task_unregister(tasks, p.pid)))
			bad("unregister %d: %d", p.pid, rc);
		/* The embedder's exit: the table goes at once. */
		t->magic = 0xdeadu;
		for (int i = 0; i < NFDS; i++) {
			uvfs_file_put(t->f[i]);
			t->f[i] = NULL;
		}
		free(t);
		atomic_fetch_add(&n_cycles, 1);
	}
	return NULL;
}

static bool gone(long rc) { return rc == -ENOENT || rc == -ESRCH; }

struct names {
	int fds[16];
	int n;
};
static int collect(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t off)
{
	struct names *nm = arg;
	if (name[0] >= '0' && name[0] <= '9' && nm->n < 16)
		nm->fds[nm->n++] = atoi(name);
	return 0;
}

static void list_dir(const char *path, struct names *nm)
{
	struct uvfs_pathop p = pop(path, UVFS_PATH_FOLLOW);
	struct uvfs_file *d;
	nm->n = 0;
	int rc = uvfs_open_at(vfs, &cred, &p, O_RDONLY | O_DIRECTORY, 0, 0, &d);
	if (rc) {
		if (!gone(rc))
			bad("open %s: %d", path, rc);
		atomic_fetch_add(&n_gone, 1);
		return;
	}
	rc = uvfs_iterate_dir(d, collect, nm);
	if (rc && !gone(rc))
		bad("iterate %s: %d", path, rc);
	uvfs_file_put(d);
	atomic_fetch_add(&n_lists, 1);
	for (int i = 0; i < nm->n; i++)
		if (nm->fds[i] < 0 || nm->fds[i] >= NFDS)
			bad("%s lists fd %d", path, nm->fds[i]);
}

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(long)arg * 7919u + 3;
	while (!atomic_load(&stop)) {
		int32_t pid = writer_pid((int)(rand_r(&seed) % NWRITERS));
		char path[96], buf[512];
		struct names nm;
		snprintf(path, sizeof path, "/proc/%d/fd", pid);
		list_dir(path, &nm);
		for (int i = 0; i < nm.n; i++) {
			snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, nm.fds[i]);
			struct uvfs_pathop p = pop(path, 0);
			ssize_t n = uvfs_readlink_at(vfs, &cred, &p, buf, sizeof buf - 1);
			if (n < 0) {
				if (!gone(n))
					bad("readlink %s: %zd", path, n);
				atomic_fetch_add(&n_gone, 1);
			} else {
				buf[n] = 0;
				char want[8];
				snprintf(want, sizeof want, "/f%d", nm.fds[i]);
				if (strcmp(buf, want))
					bad("%s -> %s, not %s", path, buf, want);
				atomic_fetch_add(&n_links, 1);
			}
		}
		snprintf(path, sizeof path, "/proc/%d/fdinfo", pid);
		list_dir(path, &nm);
		for (int i = 0; i < nm.n; i++) {
			snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, nm.fds[i]);
			struct uvfs_pathop p = pop(path, UVFS_PATH_FOLLOW);
			struct uvfs_file *f;
			int rc = uvfs_open_at(vfs, &cred, &p, O_RDONLY, 0, 0, &f);
			ssize_t n = rc;
			if (!rc) {
				n = uvfs_read(f, buf, sizeof buf - 1);
				uvfs_file_put(f);
			}
			if (n < 0) {
				if (!gone(n))
					bad("read %s: %zd", path, n);
				atomic_fetch_add(&n_gone, 1);
			} else {
				buf[n] = 0;
				if (!strstr(buf, "flags:"))
					bad("%s: no flags line: %s", path, buf);
				atomic_fetch_add(&n_infos, 1);
			}
		}
	}
	return NULL;
}

int main(void)
{
	uvfs_cred_init_root(&cred);
	int rc = uvfs_create(&vfs);
	if (rc)
		die("uvfs_create", rc);
	if ((rc = uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST)) ||
	    (rc = uvfs_register_fs_type(vfs, &uvfs_proc_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST)))
		die("register", rc);
	struct uvfs_mount_opts o = { 0 };
	if ((rc = uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &o, &ns)))
		die("mntns", rc);
	uvfs_mntns_root(ns, &root);
	struct uvfs_pathop p = pop("/proc", 0);
	if ((rc = uvfs_mkdir_at(vfs, &cred, &p, 0755)))
		die("mkdir", rc);
	p = pop("/proc", UVFS_PATH_FOLLOW);
	if ((rc = uvfs_tasks_new(vfs, &tasks)) || (rc = uvfs_mount_at(vfs, &cred, "proc", &p, "proc", &o)))
		die("proc", rc);
	for (int i = 0; i < NFDS; i++) {
		char name[8];
		snprintf(name, sizeof name, "/f%d", i);
		p = pop(name, UVFS_PATH_FOLLOW);
		if ((rc = uvfs_open_at(vfs, &cred, &p, O_RDWR | O_CREAT, 0644, 0, &files[i])))
			die("open", rc);
	}
	struct uvfs_task_params ip = { .pid = 1, .root = &root, .cwd = &root, .mntns = ns };
	if ((rc = uvfs_task_register(tasks, &ip)))
		die("init task", rc);

	const char *secs_env = getenv("STRESS_SECONDS");
	int secs = secs_env ? atoi(secs_env) : 3;
	pthread_t th[NWRITERS + NREADERS];
	for (long i = 0; i < NWRITERS; i++)
		pthread_create(&th[i], NULL, writer, (void *)i);
	for (long i = 0; i < NREADERS; i++)
		pthread_create(&th[NWRITERS + i], NULL, reader, (void *)i);
	sleep((unsigned)secs);
	atomic_store(&stop, true);
	for (int i = 0; i < NWRITERS + NREADERS; i++)
		pthread_join(th[i], NULL);

	for (int i = 0; i < NFDS; i++)
		uvfs_file_put(files[i]);
	uvfs_tasks_destroy(tasks);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live leaks;
	rc = uvfs_destroy(vfs, &leaks);
	printf("stress_proc_exit: cycles=%ld listings=%ld links=%ld fdinfos=%ld gone=%ld inconsistent=%ld "
	       "leaks=%ld/%ld/%ld/%ld/%ld/%ld\n",
	       atomic_load(&n_cycles), atomic_load(&n_lists), atomic_load(&n_links), atomic_load(&n_infos),
	       atomic_load(&n_gone), atomic_load(&n_inconsistent), leaks.dentries, leaks.inodes, leaks.mounts,
	       leaks.mntns, leaks.files, leaks.filesystems);
	return rc || atomic_load(&n_inconsistent) ? 1 : 0;
}
