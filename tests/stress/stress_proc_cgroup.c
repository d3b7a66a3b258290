/* stress_proc_cgroup.c — cgroups made and removed, tasks registered,
 * moved (cgroup.procs, tasks) and removed, while readers read
 * /proc/N/cgroup and the cgroups' procs lists. Built with TSan.
 *
 * Invariants checked:
 *  - /proc/N/cgroup is one line "1:cpu,cpuacct:PATH" with PATH one of the
 *    cgroups the run makes, or fails with ENOENT/ESRCH (the task left);
 *  - cgroup.procs lists ascending pids the writers may have registered;
 *  - moves fail only with ESRCH (task left), ENOENT, or ENODEV when an
 *    rmdir of that cgroup ran during the move; cgroup.procs reads fail
 *    only with ENOENT, or ENODEV when an rmdir of that cgroup ran during
 *    the read (Linux kernfs: the file was opened, or looked up, before
 *    the rmdir deactivated it); rmdir only with EBUSY or ENOENT;
 *  - the run ends with zero live objects.
 * STRESS_SECONDS (default 3) bounds the run. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsimpl/cgroup/cgroup.h"
#include "fsimpl/proc/proc.h"
#include "uvfs.h"

#define NWRITERS 2
#define NREADERS 2
#define PIDS 30

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static struct uvfs_tasks *tasks;
static atomic_bool stop;
static atomic_long n_moves, n_mkdirs, n_rmdirs, n_busy, n_reads, n_enodev, n_inconsistent;

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
	fprintf(stderr, "stress_proc_cgroup: setup %s failed: %d (%s)\n", what, rc, strerror(-rc));
	exit(2);
}

static struct uvfs_pathop pop(const char *path, unsigned flags)
{
	return (struct uvfs_pathop){ .root = root, .start = root, .path = path, .flags = flags };
}

static const char *const cgroups[] = { "/g0", "/g1", "/t0", "/t0/sub", "/t1", "/t1/sub" };
#define NCG (sizeof cgroups / sizeof cgroups[0])

/* Per cgroup: odd while the churner's rmdir of it runs, bumped before and
 * after each. An ENODEV is legitimate only if an rmdir of that cgroup
 * overlapped the operation: odd at its start, or changed by its end. */
static atomic_ulong rmseq[NCG];

static size_t cg_index(const char *cg)
{
	for (size_t i = 0; i < NCG; i++)
		if (!strcmp(cgroups[i], cg))
			return i;
	abort();
}

static bool rmdir_overlapped(size_t i, unsigned long before)
{
	bool r = (before & 1) || atomic_load(&rmseq[i]) != before;
	atomic_fetch_add(&n_enodev, r);
	return r;
}

static int write_path(const char *path, const char *s)
{
	struct uvfs_pathop p = pop(path, UVFS_PATH_FOLLOW);
	struct uvfs_file *f;
	int rc = uvfs_open_at(vfs, &cred, &p, O_WRONLY, 0, 0, &f);
	if (rc)
		return rc;
	ssize_t n = uvfs_write(f, s, strlen(s));
	uvfs_file_put(f);
	return n < 0 ? (int)n : 0;
}

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

static int reg(int32_t pid, int32_t tid)
{
	struct uvfs_task_params p = { .pid = pid, .tid = tid, .root = &root, .cwd = &root, .mntns = ns };
	return uvfs_task_register(tasks, &p);
}

static void *writer(void *arg)
{
	int w = (int)(long)arg;
	unsigned seed = (unsigned)w * 7919u + 1;
	bool live[PIDS] = { 0 };
	for (unsigned it = 0; !atomic_load(&stop); it++) {
		int k = (int)(rand_r(&seed) % PIDS);
		int32_t pid = 100 + w * 1000 + k * 10;
		if (!live[k]) {
			if (reg(pid, 0) || reg(pid, pid + 1))
				bad("register %d", pid);
			live[k] = true;
			continue;
		}
		if (rand_r(&seed) % 4 == 0) {
			uvfs_task_unregister(tasks, pid + 1);
			uvfs_task_unregister(tasks, pid);
			live[k] = false;
			continue;
		}
		char path[64], s[16];
		/* Mostly the fixed cgroups, so that the churner's rmdirs succeed too. */
		size_t ci = rand_r(&seed) % 4 ? (size_t)(rand_r(&seed) % 2) : rand_r(&seed) % NCG;
		snprintf(path, sizeof path, "/cg%s/%s", cgroups[ci], rand_r(&seed) % 2 ? "tasks" : "cgroup.procs");
		snprintf(s, sizeof s, "%d\n", pid + (int)(rand_r(&seed) % 2));
		unsigned long seq = atomic_load(&rmseq[ci]);
		int rc = write_path(path, s);
		if (rc && rc != -ENOENT && !(rc == -ENODEV && rmdir_overlapped(ci, seq)))
			bad("move %s > %s: %d", s, path, rc);
		atomic_fetch_add(&n_moves, 1);
	}
	return NULL;
}

/* Makes and removes /cg/t0, /cg/t1 and their sub: EBUSY while in use. */
static void *churner(void *arg)
{
	unsigned seed = 4242;
	while (!atomic_load(&stop)) {
		char path[32];
		int t = (int)(rand_r(&seed) % 2);
		bool sub = rand_r(&seed) % 2;
		snprintf(path, sizeof path, "/cg/t%d%s", t, sub ? "/sub" : "");
		struct uvfs_pathop p = pop(path, 0);
		int rc;
		if (rand_r(&seed) % 2) {
			rc = uvfs_mkdir_at(vfs, &cred, &p, 0755);
			if (rc && rc != -EEXIST && rc != -ENOENT)
				bad("mkdir %s: %d", path, rc);
			atomic_fetch_add(&n_mkdirs, !rc);
		} else {
			size_t ci = cg_index(path + strlen("/cg"));
			atomic_fetch_add(&rmseq[ci], 1);
			rc = uvfs_rmdir_at(vfs, &cred, &p);
			atomic_fetch_add(&rmseq[ci], 1);
			if (rc == -EBUSY)
				atomic_fetch_add(&n_busy, 1);
			else if (rc && rc != -ENOENT)
				bad("rmdir %s: %d", path, rc);
			atomic_fetch_add(&n_rmdirs, !rc);
		}
		/* Pull tasks back to the root now and then so that rmdirs succeed. */
		if (rand_r(&seed) % 2 == 0) {
			char s[16];
			snprintf(s, sizeof s, "%d", 100 + (int)(rand_r(&seed) % 2) * 1000 + (int)(rand_r(&seed) % PIDS) * 10);
			write_path("/cg/cgroup.procs", s);
		}
	}
	return NULL;
}

static void check_line(const char *who, const char *buf)
{
	const char *pre = "1:cpu,cpuacct:";
	if (strncmp(buf, pre, strlen(pre))) {
		bad("%s: '%s'", who, buf);
		return;
	}
	const char *path = buf + strlen(pre);
	if (!strcmp(path, "/\n"))
		return;
	for (size_t i = 0; i < NCG; i++)
		if (!strncmp(path, cgroups[i], strlen(cgroups[i])) && !strcmp(path + strlen(cgroups[i]), "\n"))
			return;
	bad("%s: path '%s'", who, path);
}

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(long)arg + 99;
	while (!atomic_load(&stop)) {
		char path[64], buf[4096];
		int w = (int)(rand_r(&seed) % NWRITERS), k = (int)(rand_r(&seed) % PIDS);
		int32_t pid = 100 + w * 1000 + k * 10;
		snprintf(path, sizeof path, "/proc/%d/task/%d/cgroup", pid, pid + (int)(rand_r(&seed) % 2));
		ssize_t n = read_path(path, buf, sizeof buf);
		if (n >= 0)
			check_line(path, buf);
		else if (n != -ENOENT && n != -ESRCH)
			bad("%s: %zd", path, n);
		size_t ci = rand_r(&seed) % NCG;
		snprintf(path, sizeof path, "/cg%s/cgroup.procs", cgroups[ci]);
		unsigned long seq = atomic_load(&rmseq[ci]);
		n = read_path(path, buf, sizeof buf);
		if (n >= 0) {
			int prev = 0;
			for (char *l = buf; *l; l = strchr(l, '\n') + 1) {
				int v = atoi(l);
				if (v <= prev || (v != 1 && (v < 100 || (v - 100) % 10 != 0)))
					bad("%s lists %d after %d", path, v, prev);
				prev = v;
			}
		} else if (n != -ENOENT && n != -ESRCH && !(n == -ENODEV && rmdir_overlapped(ci, seq))) {
			bad("%s: %zd", path, n);
		}
		atomic_fetch_add(&n_reads, 1);
	}
	return NULL;
}

int main(void)
{
	uvfs_cred_init_root(&cred);
	int rc = uvfs_create(&vfs);
	if (rc)
		die("uvfs_create", rc);
	if ((rc = uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT)) ||
	    (rc = uvfs_register_fs_type(vfs, &uvfs_proc_type, UVFS_FS_USER_MOUNT)) ||
	    (rc = uvfs_register_fs_type(vfs, &uvfs_cgroupfs_type, UVFS_FS_USER_MOUNT)))
		die("register", rc);
	struct uvfs_mount_opts o = { 0 };
	if ((rc = uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &o, &ns)))
		die("mntns", rc);
	uvfs_mntns_root(ns, &root);
	const char *dirs[] = { "/proc", "/cg" };
	for (int i = 0; i < 2; i++) {
		struct uvfs_pathop p = pop(dirs[i], 0);
		if ((rc = uvfs_mkdir_at(vfs, &cred, &p, 0755)))
			die("mkdir", rc);
	}
	struct uvfs_pathop p = pop("/proc", UVFS_PATH_FOLLOW);
	if ((rc = uvfs_tasks_new(vfs, &tasks)) || (rc = uvfs_mount_at(vfs, &cred, "proc", &p, "proc", &o)))
		die("proc", rc);
	p = pop("/cg", UVFS_PATH_FOLLOW);
	if ((rc = uvfs_mount_at(vfs, &cred, "cgroup", &p, "cgroup", &(struct uvfs_mount_opts){ .data = "cpu,cpuacct" })))
		die("cgroup", rc);
	for (int i = 0; i < 2; i++) {
		p = pop(i ? "/cg/g1" : "/cg/g0", 0);
		if ((rc = uvfs_mkdir_at(vfs, &cred, &p, 0755)))
			die("mkdir cgroup", rc);
	}
	if ((rc = reg(1, 0)))
		die("init task", rc);

	const char *secs_env = getenv("STRESS_SECONDS");
	int secs = secs_env ? atoi(secs_env) : 3;
	pthread_t th[NWRITERS + NREADERS + 1];
	for (long i = 0; i < NWRITERS; i++)
		pthread_create(&th[i], NULL, writer, (void *)i);
	for (long i = 0; i < NREADERS; i++)
		pthread_create(&th[NWRITERS + i], NULL, reader, (void *)i);
	pthread_create(&th[NWRITERS + NREADERS], NULL, churner, NULL);
	sleep((unsigned)secs);
	atomic_store(&stop, true);
	for (int i = 0; i < NWRITERS + NREADERS + 1; i++)
		pthread_join(th[i], NULL);

	uvfs_tasks_destroy(tasks);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live leaks;
	rc = uvfs_destroy(vfs, &leaks);
	printf("stress_proc_cgroup: moves=%ld mkdirs=%ld rmdirs=%ld rmdir_busy=%ld reads=%ld enodev_raced=%ld inconsistent=%ld "
	       "leaks=%ld/%ld/%ld/%ld/%ld/%ld\n",
	       atomic_load(&n_moves), atomic_load(&n_mkdirs), atomic_load(&n_rmdirs), atomic_load(&n_busy),
	       atomic_load(&n_reads), atomic_load(&n_enodev), atomic_load(&n_inconsistent), leaks.dentries, leaks.inodes, leaks.mounts,
	       leaks.mntns, leaks.files, leaks.filesystems);
	return rc || atomic_load(&n_inconsistent) ? 1 : 0;
}
