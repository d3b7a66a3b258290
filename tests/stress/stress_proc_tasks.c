/* stress_proc_tasks.c — tasks registered, renamed, moved and removed while
 * readers list /proc and read the task directories. Built with TSan.
 *
 * Invariants checked by the readers:
 *  - every pid listed in /proc is a number a writer may have registered;
 *  - /proc/N/status, comm, cwd and task/ either work or fail with ENOENT
 *    or ESRCH (the task went away), never anything else;
 *  - a status that was read names its own task: "Tgid:\tN\n";
 *  - a thread's /proc/N/task/T/status says "Pid:\tT\n".
 * The run ends with uvfs_destroy() reporting zero live objects.
 * STRESS_SECONDS (default 3) bounds the run. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsimpl/proc/proc.h"
#include "uvfs.h"

#define NWRITERS 2
#define NREADERS 3
#define PIDS_PER_WRITER 40

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root, cwd_a, cwd_b;
static struct uvfs_cred cred;
static struct uvfs_tasks *tasks;
static atomic_bool stop;
static atomic_long n_reg, n_unreg, n_lists, n_reads, n_gone, n_inconsistent;

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
	fprintf(stderr, "stress_proc_tasks: setup %s failed: %d (%s)\n", what, rc, strerror(-rc));
	exit(2);
}

static struct uvfs_pathop pop(const char *path, unsigned flags)
{
	return (struct uvfs_pathop){ .root = root, .start = root, .path = path, .flags = flags };
}

static int reg(int32_t pid, int32_t tid)
{
	static const char *const argv[] = { "/bin/worker", "--flag", NULL };
	static const char *const envp[] = { "K=V", NULL };
	struct uvfs_task_params p = {
		.pid = pid, .tid = tid, .ppid = 1, .argv = argv, .envp = envp, .root = &root,
		.cwd = (pid & 1) ? &cwd_a : &cwd_b, .exe = &cwd_a, .mntns = ns,
	};
	return uvfs_task_register(tasks, &p);
}

static void *writer(void *arg)
{
	int w = (int)(long)arg;
	unsigned seed = (unsigned)w * 7919u + 1;
	bool live[PIDS_PER_WRITER] = { 0 };
	for (unsigned it = 0; !atomic_load(&stop); it++) {
		if (it % 8 == 0)
			usleep(20); /* let the readers see the table in many states */
		int k = (int)(rand_r(&seed) % PIDS_PER_WRITER);
		int32_t pid = 100 + w * 1000 + k * 10; /* threads at pid+1 */
		int rc;
		if (!live[k]) {
			if ((rc = reg(pid, 0)))
				bad("register %d: %d", pid, rc);
			if (rand_r(&seed) % 2 && (rc = reg(pid, pid + 1)))
				bad("register thread %d/%d: %d", pid, pid + 1, rc);
			live[k] = true;
			atomic_fetch_add(&n_reg, 1);
		} else {
			switch (rand_r(&seed) % 4) {
			case 0:
				uvfs_task_set_comm(tasks, pid, (rand_r(&seed) & 1) ? "alpha" : "beta");
				break;
			case 1:
				uvfs_task_set_cwd(tasks, pid, (rand_r(&seed) & 1) ? &cwd_a : &cwd_b);
				break;
			default:
				uvfs_task_unregister(tasks, pid + 1); /* the thread, if any */
				if ((rc = uvfs_task_unregister(tasks, pid)))
					bad("unregister %d: %d", pid, rc);
				live[k] = false;
				atomic_fetch_add(&n_unreg, 1);
			}
		}
	}
	return NULL;
}

static bool gone(long rc) { return rc == -ENOENT || rc == -ESRCH; }

static ssize_t read_path(const char *path, char *buf, size_t len)
{
	struct uvfs_pathop p = pop(path, UVFS_PATH_FOLLOW);
	struct uvfs_file *f;
	int rc = uvfs_open_at(vfs, &cred, &p, O_RDONLY, 0, 0, &f);
	if (rc)
		return rc;
	ssize_t n = uvfs_read(f, buf, len - 1);
	uvfs_file_put(f);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

struct names {
	int32_t pids[512];
	int n;
};
static int collect(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t off)
{
	struct names *nm = arg;
	if (name[0] >= '0' && name[0] <= '9' && nm->n < 512)
		nm->pids[nm->n++] = atoi(name);
	return 0;
}

static void check_task(int32_t pid)
{
	char path[96], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	ssize_t n = read_path(path, buf, sizeof buf);
	if (n < 0) {
		if (!gone(n))
			bad("%s: %zd", path, n);
		atomic_fetch_add(&n_gone, 1);
		return;
	}
	atomic_fetch_add(&n_reads, 1);
	char want[32];
	snprintf(want, sizeof want, "Tgid:\t%d\n", pid);
	if (!strstr(buf, want))
		bad("%s does not say %s", path, want);
	snprintf(path, sizeof path, "/proc/%d/comm", pid);
	if ((n = read_path(path, buf, sizeof buf)) < 0 ? !gone(n) : n == 0)
		bad("%s: %zd", path, n);
	snprintf(path, sizeof path, "/proc/%d/cwd", pid);
	struct uvfs_pathop p = pop(path, 0);
	n = uvfs_readlink_at(vfs, &cred, &p, buf, sizeof buf - 1);
	if (n < 0 ? !gone(n) : (n != 2 || buf[0] != '/'))
		bad("%s: %zd", path, n);
	snprintf(path, sizeof path, "/proc/%d/task/%d/status", pid, pid + 1);
	if ((n = read_path(path, buf, sizeof buf)) >= 0) {
		snprintf(want, sizeof want, "Pid:\t%d\n", pid + 1);
		if (!strstr(buf, want))
			bad("%s does not say %s", path, want);
	} else if (!gone(n)) {
		bad("%s: %zd", path, n);
	}
}

static void *reader(void *arg)
{
	while (!atomic_load(&stop)) {
		struct uvfs_pathop p = pop("/proc", UVFS_PATH_FOLLOW);
		struct uvfs_file *d;
		int rc = uvfs_open_at(vfs, &cred, &p, O_RDONLY | O_DIRECTORY, 0, 0, &d);
		if (rc) {
			bad("open /proc: %d", rc);
			continue;
		}
		struct names nm = { .n = 0 };
		if ((rc = uvfs_iterate_dir(d, collect, &nm)))
			bad("iterate /proc: %d", rc);
		uvfs_file_put(d);
		atomic_fetch_add(&n_lists, 1);
		for (int i = 0; i < nm.n; i++) {
			int32_t pid = nm.pids[i];
			if (pid != 1 && (pid < 100 || (pid - 100) % 10 != 0 || (pid - 100) % 1000 >= PIDS_PER_WRITER * 10))
				bad("listed pid %d was never registered as a leader", pid);
			if (i > 0 && pid <= nm.pids[i - 1])
				bad("listing not ascending: %d after %d", pid, nm.pids[i - 1]);
			check_task(pid);
		}
		char buf[8192];
		ssize_t n = read_path("/proc/self/mountinfo", buf, sizeof buf);
		if (n <= 0)
			bad("self/mountinfo: %zd", n);
		if ((n = read_path("/proc/loadavg", buf, sizeof buf)) <= 0)
			bad("loadavg: %zd", n);
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
	const char *dirs[] = { "/proc", "/a", "/b" };
	for (int i = 0; i < 3; i++) {
		struct uvfs_pathop p = pop(dirs[i], 0);
		if ((rc = uvfs_mkdir_at(vfs, &cred, &p, 0755)))
			die("mkdir", rc);
	}
	struct uvfs_pathop p = pop("/proc", UVFS_PATH_FOLLOW);
	if ((rc = uvfs_tasks_new(vfs, &tasks)) || (rc = uvfs_mount_at(vfs, &cred, "proc", &p, "proc", &o)))
		die("proc", rc);
	p = pop("/a", UVFS_PATH_FOLLOW);
	if ((rc = uvfs_get_dentry_at(vfs, &cred, &p, 0, &cwd_a)))
		die("a", rc);
	p = pop("/b", UVFS_PATH_FOLLOW);
	if ((rc = uvfs_get_dentry_at(vfs, &cred, &p, 0, &cwd_b)))
		die("b", rc);
	if ((rc = reg(1, 0)))
		die("init task", rc);

	const char *secs_env = getenv("STRESS_SECONDS");
	int secs = secs_env ? atoi(secs_env) : 3;
	pthread_t th[NWRITERS + NREADERS];
	for (long i = 0; i < NWRITERS; i++)
		pthread_create(&th[i], NULL, writer, (void *)i);
	for (long i = 0; i < NREADERS; i++)
		pthread_create(&th[NWRITERS + i], NULL, reader, NULL);
	sleep((unsigned)secs);
	atomic_store(&stop, true);
	for (int i = 0; i < NWRITERS + NREADERS; i++)
		pthread_join(th[i], NULL);

	uvfs_tasks_destroy(tasks);
	uvfs_vd_put(&cwd_a);
	uvfs_vd_put(&cwd_b);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live leaks;
	rc = uvfs_destroy(vfs, &leaks);
	printf("stress_proc_tasks: registers=%ld unregisters=%ld listings=%ld task_reads=%ld gone=%ld "
	       "inconsistent=%ld leaks=%ld/%ld/%ld/%ld/%ld/%ld\n",
	       atomic_load(&n_reg), atomic_load(&n_unreg), atomic_load(&n_lists), atomic_load(&n_reads),
	       atomic_load(&n_gone), atomic_load(&n_inconsistent), leaks.dentries, leaks.inodes, leaks.mounts,
	       leaks.mntns, leaks.files, leaks.filesystems);
	return rc || atomic_load(&n_inconsistent) ? 1 : 0;
}
