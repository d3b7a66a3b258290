/* tests/stress/stress_sbx_fdtable.c — threads of one sandbox process share
 * an fd table (CLONE_FILES) and fs state (CLONE_FS) under TSan: openers
 * check their own data through their fds while others dup/close, mark
 * ranges CLOEXEC, fork copies of the table (and exec them), list it, and
 * chdir/getcwd race, and two processes take a record lock in turns. Prints one summary line; exit 0 means every result was
 * right and no object was left alive. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/uvfs_sandbox.h"

#define ITERS 400
static atomic_int errors;
static atomic_long ops;
static atomic_int stop_flag;

#define CHECK(cond, ...)                                                                                         \
	do {                                                                                                     \
		if (!(cond)) {                                                                                   \
			fprintf(stderr, __VA_ARGS__);                                                            \
			fputc('\n', stderr);                                                                     \
			atomic_fetch_add(&errors, 1);                                                            \
		}                                                                                                \
	} while (0)

static struct uvfs_sbx_task *tasks[6], *procs[2];
static int counter_in_lock; /* only touched under the F_SETLKW lock: TSan sees the lock's ordering */

/* Two processes (separate fd tables) take a write lock in turns. */
static void *locker(void *arg)
{
	struct uvfs_sbx_task *t = procs[(long)arg];
	long fd = uvfs_sbx_openat(t, AT_FDCWD, "/lockfile", O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0, "open lockfile %ld", fd);
	for (int i = 0; i < ITERS / 4; i++) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
		CHECK(uvfs_sbx_fcntl(t, (int)fd, F_SETLKW, (unsigned long)&fl) == 0, "setlkw");
		counter_in_lock++;
		fl.l_type = F_UNLCK;
		CHECK(uvfs_sbx_fcntl(t, (int)fd, F_SETLK, (unsigned long)&fl) == 0, "unlock");
		atomic_fetch_add(&ops, 2);
	}
	uvfs_sbx_close(t, (int)fd);
	return NULL;
}

static void *opener(void *arg)
{
	int id = (int)(long)arg;
	struct uvfs_sbx_task *t = tasks[id];
	char path[32], data[32], back[32];
	for (int i = 0; i < ITERS; i++) {
		snprintf(path, sizeof path, "/w%d_%d", id, i % 8);
		int n = snprintf(data, sizeof data, "%d:%d", id, i);
		long fd = uvfs_sbx_openat(t, AT_FDCWD, path, O_CREAT | O_RDWR | O_TRUNC, 0644);
		CHECK(fd >= 0, "open %s: %ld", path, fd);
		if (fd < 0)
			continue;
		CHECK(uvfs_sbx_write(t, (int)fd, data, (size_t)n) == n, "write");
		CHECK(uvfs_sbx_pread64(t, (int)fd, back, sizeof back, 0) == n && !memcmp(back, data, (size_t)n),
		      "read back %s", path);
		CHECK(uvfs_sbx_close(t, (int)fd) == 0, "close");
		atomic_fetch_add(&ops, 4);
	}
	return NULL;
}

static void *duper(void *arg)
{
	struct uvfs_sbx_task *t = tasks[2];
	long fd = uvfs_sbx_openat(t, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, 0);
	CHECK(fd >= 0, "open /");
	for (int i = 0; i < ITERS; i++) {
		long d = uvfs_sbx_fcntl(t, (int)fd, i & 1 ? F_DUPFD_CLOEXEC : F_DUPFD, 200);
		CHECK(d >= 200, "dupfd %ld", d);
		if (d >= 0)
			CHECK(uvfs_sbx_close(t, (int)d) == 0, "close dup");
		atomic_fetch_add(&ops, 2);
	}
	uvfs_sbx_close(t, (int)fd);
	return NULL;
}

static void *marker(void *arg)
{
	struct uvfs_sbx_task *t = tasks[3];
	int fds[64];
	while (!atomic_load(&stop_flag)) {
		uvfs_sbx_close_range(t, 300, ~0U, CLOSE_RANGE_CLOEXEC);
		uvfs_sbx_fd_list(t, -1, fds, 64);
		for (int fd = 0; fd < 8; fd++)
			uvfs_sbx_fcntl(t, fd, F_GETFD, 0);
		struct uvfs_sbx_task *c;
		if (!uvfs_sbx_task_fork(t, 0, 0, &c)) {
			uvfs_sbx_task_exec(c);
			uvfs_sbx_task_put(c);
		}
		atomic_fetch_add(&ops, 12);
	}
	return NULL;
}

static void *cwd_racer(void *arg)
{
	int id = (int)(long)arg;
	struct uvfs_sbx_task *t = tasks[id];
	char buf[64];
	for (int i = 0; i < ITERS; i++) {
		if (id == 4) {
			CHECK(uvfs_sbx_chdir(t, i & 1 ? "/d1" : "/d0") == 0, "chdir");
		} else {
			long n = uvfs_sbx_getcwd(t, buf, sizeof buf);
			CHECK(n == 4 && (!strcmp(buf, "/d0") || !strcmp(buf, "/d1")) , "getcwd %ld %s", n, buf);
		}
		atomic_fetch_add(&ops, 1);
	}
	return NULL;
}

int main(void)
{
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct uvfs_vd root;
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	if (uvfs_create(&vfs) || uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	uvfs_mntns_root(ns, &root);
	struct uvfs_sbx_task_params p = { .vfs = vfs, .mntns = ns, .root = &root, .umask = 022 };
	if (uvfs_sbx_task_new(&p, &tasks[0]))
		return 1;
	uvfs_sbx_mkdirat(tasks[0], AT_FDCWD, "/d0", 0755);
	uvfs_sbx_mkdirat(tasks[0], AT_FDCWD, "/d1", 0755);
	uvfs_sbx_chdir(tasks[0], "/d0");
	for (int i = 1; i < 6; i++)
		if (uvfs_sbx_task_fork(tasks[0], UVFS_SBX_CLONE_FILES | UVFS_SBX_CLONE_FS | UVFS_SBX_CLONE_THREAD, 0,
				       &tasks[i]))
			return 1;
	for (int i = 0; i < 2; i++)
		if (uvfs_sbx_task_fork(tasks[0], 0, 0, &procs[i]))
			return 1;
	pthread_t th[8];
	pthread_create(&th[0], NULL, opener, (void *)0L);
	pthread_create(&th[1], NULL, opener, (void *)1L);
	pthread_create(&th[2], NULL, duper, NULL);
	pthread_create(&th[3], NULL, marker, NULL);
	pthread_create(&th[4], NULL, cwd_racer, (void *)4L);
	pthread_create(&th[5], NULL, cwd_racer, (void *)5L);
	pthread_create(&th[6], NULL, locker, (void *)0L);
	pthread_create(&th[7], NULL, locker, (void *)1L);
	for (int i = 0; i < 8; i++)
		if (i != 3)
			pthread_join(th[i], NULL);
	atomic_store(&stop_flag, 1);
	pthread_join(th[3], NULL);
	CHECK(counter_in_lock == ITERS / 2, "lock counter %d", counter_in_lock);
	for (int i = 0; i < 6; i++)
		uvfs_sbx_task_put(tasks[i]);
	uvfs_sbx_task_put(procs[0]);
	uvfs_sbx_task_put(procs[1]);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int rc = uvfs_destroy(vfs, &live);
	CHECK(rc == 0, "live objects after teardown: files %ld dentries %ld", live.files, live.dentries);
	printf("stress_sbx_fdtable: %ld ops, %d errors\n", atomic_load(&ops), atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}
