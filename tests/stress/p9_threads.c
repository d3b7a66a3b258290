/* tests/stress/p9_threads.c — 8 threads share one 9P connection to diod
 * (TSan build): mixed namespace and I/O calls and readdirs while another
 * thread reads the stats, then the server killed under load.
 * Prints one summary line; exit 0 means every result was right. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/gofer/p9.h"
#include "tests/gofer/diod_harness.h"

#define NTHREADS 8
#define ITERS 200

static struct uvfs_p9_client *cl;
static uint32_t root;
static atomic_int errors;
static atomic_long ops;
static atomic_int stop_flag;

#define CHECK(cond, ...)                                           \
	do {                                                       \
		if (!(cond)) {                                     \
			fprintf(stderr, __VA_ARGS__);              \
			fputc('\n', stderr);                       \
			atomic_fetch_add(&errors, 1);              \
		}                                                  \
	} while (0)

static int count_cb(void *arg, const struct uvfs_p9_dirent *de)
{
	(*(int *)arg)++;
	return 0;
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	char name[64], dname[64];
	static _Thread_local char buf[100000], back[100000];
	snprintf(dname, sizeof(dname), "w%d", id);
	CHECK(uvfs_p9_mkdir(cl, root, dname, 0755, 0, NULL) == 0, "mkdir %s", dname);
	for (int it = 0; it < ITERS; it++) {
		uint32_t d, f;
		snprintf(name, sizeof(name), "f%d", it);
		if (uvfs_p9_walk_path(cl, root, dname, &d, NULL)) {
			CHECK(0, "walk %s", dname);
			continue;
		}
		uint32_t f2;
		CHECK(uvfs_p9_walk(cl, d, 0, NULL, &f, NULL) == 0, "clone");
		size_t len = (size_t)(it * 997) % sizeof(buf) + 1;
		memset(buf, 'a' + (id + it) % 26, len);
		CHECK(uvfs_p9_lcreate(cl, f, name, O_RDWR | O_CREAT | O_EXCL, 0644, 0, NULL, NULL) == 0, "create");
		CHECK(uvfs_p9_write(cl, f, 0, buf, len) == (long)len, "write");
		CHECK(uvfs_p9_read(cl, f, 0, back, len) == (long)len && !memcmp(buf, back, len), "read back");
		CHECK(uvfs_p9_clunk(cl, f) == 0, "clunk");
		const char *nm = name;
		CHECK(uvfs_p9_walk(cl, d, 1, &nm, &f2, NULL) == 0, "walk file");
		struct uvfs_p9_attr a;
		CHECK(uvfs_p9_getattr(cl, f2, UVFS_P9_GETATTR_BASIC, &a) == 0 && a.size == len, "getattr");
		CHECK(uvfs_p9_clunk(cl, f2) == 0, "clunk2");
		if (it % 20 == 19) {
			uint32_t r;
			int n = 0, got;
			CHECK(uvfs_p9_walk(cl, d, 0, NULL, &r, NULL) == 0, "clone dir");
			CHECK(uvfs_p9_lopen(cl, r, O_RDONLY, NULL, NULL) == 0, "opendir");
			got = uvfs_p9_readdir(cl, r, 0, 0, count_cb, &n);
			CHECK(got > 0 && n == 2 + 20, "readdir %d entries (got %d)", n, got);
			CHECK(uvfs_p9_clunk(cl, r) == 0, "clunk dir");
			for (int k = it - 19; k <= it; k++) {
				char victim[32];
				snprintf(victim, sizeof(victim), "f%d", k);
				CHECK(uvfs_p9_unlinkat(cl, d, victim, 0) == 0, "unlink %s", victim);
			}
		}
		CHECK(uvfs_p9_clunk(cl, d) == 0, "clunk d");
		atomic_fetch_add(&ops, 10);
	}
	return NULL;
}

/* Reads the shared counters while the workers run (lock coverage). */
static void *ticker(void *arg)
{
	while (!atomic_load(&stop_flag)) {
		struct uvfs_p9_stats st;
		uvfs_p9_get_stats(cl, &st);
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void *loader(void *arg)
{
	long *bad = arg;
	for (;;) {
		struct uvfs_p9_attr a;
		int err = uvfs_p9_getattr(cl, root, UVFS_P9_GETATTR_BASIC, &a);
		if (err == -ECONNRESET)
			return NULL;
		if (err)
			(*bad)++;
	}
}

int main(void)
{
	struct diod d;
	int fd = diod_start_fd(&d, 0, -1);
	if (fd < 0 || uvfs_p9_connect_fds(fd, fd, NULL, &cl) || uvfs_p9_attach(cl, "root", 0, d.dir, &root, NULL)) {
		fprintf(stderr, "setup failed\n");
		diod_stop(&d);
		return 1;
	}
	pthread_t th[NTHREADS], tk;
	pthread_create(&tk, NULL, ticker, NULL);
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	atomic_store(&stop_flag, 1);
	pthread_join(tk, NULL);

	struct uvfs_p9_stats st;
	uvfs_p9_get_stats(cl, &st);
	CHECK(st.fids_in_use == 1, "fids in use %llu (root only)", (unsigned long long)st.fids_in_use);

	/* Phase 2: the server dies under load; every thread must come back. */
	long bad[NTHREADS] = { 0 };
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, loader, &bad[i]);
	struct timespec ts = { 0, 200 * 1000000L };
	nanosleep(&ts, NULL);
	diod_kill(&d);
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK(bad[i] == 0, "thread %d saw %ld non-ECONNRESET errors", i, bad[i]);
	}
	uvfs_p9_close(cl);
	diod_stop(&d);
	printf("p9_threads: %d threads, %ld ops, %llu requests, %d errors\n", NTHREADS, atomic_load(&ops),
	       (unsigned long long)st.requests, atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}
