/* tests/stress/p9_threads.c — 8 threads share one 9P connection to diod
 * (TSan build): mixed namespace and I/O calls, async clunks and readdirs
 * while another thread reads the stats; then, on a client with only two tags, pipelined
 * reads while interrupts rain in; then the server killed under load.
 * Prints one summary line; exit 0 means every result was right. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/gofer/p9/p9.h"
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
		CHECK(uvfs_p9_clunk_async(cl, f2) == 0, "clunk2");
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

/* Phase 2: few tags, pipelined reads, and interrupts raining in.  Any
 * call may come back cancelled (-EINTR) or short, but every byte it does
 * return must be right, and nothing may hang or leak a fid. */
static struct uvfs_p9_client *cl2;
static uint32_t root2;
#define SHARED_LEN (1u << 20)

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 31 + (i >> 11));
}

static void *cancel_reader(void *arg)
{
	uint8_t *b = malloc(SHARED_LEN);
	for (int it = 0; it < 40; it++) {
		uint32_t f;
		int err = uvfs_p9_walk_path(cl2, root2, "shared", &f, NULL);
		if (err == -EINTR)
			continue;
		CHECK(err == 0, "walk shared: %d", err);
		if (err)
			continue;
		err = uvfs_p9_lopen(cl2, f, O_RDONLY, NULL, NULL);
		CHECK(err == 0 || err == -EINTR, "lopen: %d", err);
		long n = err ? 0 : uvfs_p9_read(cl2, f, 0, b, SHARED_LEN);
		CHECK(n >= 0 || n == -EINTR, "read: %ld", n);
		for (long i = 0; i < n; i++)
			if (b[i] != pattern((size_t)i)) {
				CHECK(0, "byte %ld wrong", i);
				break;
			}
		err = it % 2 ? uvfs_p9_clunk_async(cl2, f) : uvfs_p9_clunk(cl2, f);
		CHECK(err == 0, "clunk: %d", err);
		atomic_fetch_add(&ops, 3);
	}
	free(b);
	return NULL;
}

static void *interrupter(void *arg)
{
	while (!atomic_load(&stop_flag)) {
		uvfs_p9_interrupt(cl2);
		struct timespec ts = { 0, 300000 };
		nanosleep(&ts, NULL);
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

	/* Async clunks are released as later calls read their replies. */
	struct uvfs_p9_stats st;
	for (int i = 0; i < 1000; i++) {
		uvfs_p9_get_stats(cl, &st);
		if (st.fids_in_use == 1)
			break;
		struct uvfs_p9_attr a;
		CHECK(uvfs_p9_getattr(cl, root, UVFS_P9_GETATTR_BASIC, &a) == 0, "drain getattr");
	}
	CHECK(st.fids_in_use == 1, "fids in use %llu (root only)", (unsigned long long)st.fids_in_use);

	/* Phase 2: a second server, two tags, cancellations everywhere. */
	struct diod d2;
	int fd2 = diod_start_fd(&d2, 0, -1);
	struct uvfs_p9_opts o = { .max_inflight = 2 };
	if (fd2 < 0 || uvfs_p9_connect_fds(fd2, fd2, &o, &cl2) ||
	    uvfs_p9_attach(cl2, "root", 0, d2.dir, &root2, NULL)) {
		fprintf(stderr, "setup 2 failed\n");
		return 1;
	}
	{
		char path[256];
		snprintf(path, sizeof(path), "%s/shared", d2.dir);
		int hfd = open(path, O_CREAT | O_WRONLY, 0644);
		uint8_t *b = malloc(SHARED_LEN);
		for (size_t i = 0; i < SHARED_LEN; i++)
			b[i] = pattern(i);
		CHECK(write(hfd, b, SHARED_LEN) == (ssize_t)SHARED_LEN, "write shared");
		close(hfd);
		free(b);
	}
	atomic_store(&stop_flag, 0);
	pthread_t it;
	pthread_create(&it, NULL, interrupter, NULL);
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, cancel_reader, NULL);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	atomic_store(&stop_flag, 1);
	pthread_join(it, NULL);
	struct uvfs_p9_stats st2;
	for (int i = 0; i < 1000; i++) {
		uvfs_p9_get_stats(cl2, &st2);
		if (st2.fids_in_use == 1)
			break;
		struct uvfs_p9_attr a;
		CHECK(uvfs_p9_getattr(cl2, root2, UVFS_P9_GETATTR_BASIC, &a) == 0, "drain getattr 2");
	}
	CHECK(st2.fids_in_use == 1, "phase 2 fids in use %llu", (unsigned long long)st2.fids_in_use);
	uvfs_p9_clunk(cl2, root2);
	uvfs_p9_close(cl2);
	diod_stop(&d2);

	/* Phase 3: the server dies under load; every thread must come back. */
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
	printf("p9_threads: %d threads, %ld ops, %llu requests, %llu flushes under interrupts, %d errors\n",
	       NTHREADS, atomic_load(&ops), (unsigned long long)(st.requests + st2.requests),
	       (unsigned long long)st2.flushes, atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}
