/* stress_fifo.c — FIFO readers and writers under ThreadSanitizer.
 *
 * Phase 1: four writers put PIPE_BUF-sized records (each filled with its
 * writer id and sequence number) into one FIFO made in a uvfs tmpfs, and
 * three readers take PIPE_BUF bytes at a time with blocking reads. Writes
 * of PIPE_BUF bytes are atomic and fill one page each, so every read must
 * be exactly one whole record, each reader must see each writer's records
 * in order, and together they must see every record once.
 * Phase 2: writers put records of random sizes up to PIPE_BUF (a header,
 * then a fill byte); one reader with O_NONBLOCK + poll parses the stream:
 * a record interleaved with another writer's bytes is an error.
 * Phase 3: readers open a third FIFO blocking, under a caller context an
 * interrupter thread keeps interrupting, while a writer opens and closes
 * it with O_NONBLOCK: each open either succeeds or ends in EINTR, and
 * afterwards no reader may be left behind (a non-blocking reader held
 * throughout keeps the pipe; once it goes, a write is EPIPE).
 * A watchdog fails the run after 120 s (a lost wake-up hangs otherwise).
 * Prints one summary line; exits non-zero on any error or a leak.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "uvfs.h"

#define WRITERS 4
#define READERS 3
#define RECORDS 1500 /* per writer and phase */

static struct uvfs *vfs;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static _Atomic long errors, records_seen;
static _Atomic unsigned char seen[WRITERS][RECORDS];
static _Atomic int done;
static _Atomic int p3_done, p3_flag;
static _Atomic long p3_eintr, p3_opened, p3_wopened;

static struct uvfs_pathop P(const char *path)
{
	return (struct uvfs_pathop){ .root = root, .start = root, .path = path, .flags = UVFS_PATH_FOLLOW };
}

static struct uvfs_file *xopen(const char *path, int flags)
{
	struct uvfs_file *f;
	struct uvfs_pathop p = P(path);
	int rc = uvfs_open_at(vfs, &cred, &p, flags, 0, 0, &f);
	if (rc) {
		fprintf(stderr, "stress_fifo: open %s: %d\n", path, rc);
		exit(1);
	}
	return f;
}

static void fail(const char *what, long a, long b)
{
	fprintf(stderr, "stress_fifo: %s (%ld, %ld)\n", what, a, b);
	atomic_fetch_add(&errors, 1);
}

/* ------------------------------------------------------------- phase 1 */

static int p3_pending(void *task) { return atomic_load(&p3_flag); }

static void *opener3(void *arg)
{
	struct uvfs_ctx c = { .task = arg, .interrupted = p3_pending };
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&c);
	while (!atomic_load(&p3_done)) {
		struct uvfs_file *f = NULL;
		struct uvfs_pathop p = P("/fifo3");
		int rc = uvfs_open_at(vfs, &cred, &p, O_RDONLY, 0, 0, &f);
		if (rc == 0) {
			atomic_fetch_add(&p3_opened, 1);
			uvfs_file_put(f);
		} else if (rc == -EINTR) {
			atomic_fetch_add(&p3_eintr, 1);
		} else {
			fail("phase 3 open", rc, 0);
		}
	}
	uvfs_ctx_leave(prev);
	return NULL;
}

static void *interrupter3(void *arg)
{
	(void)arg;
	for (int i = 0; i < 4000; i++) {
		atomic_store(&p3_flag, i % 2);
		struct timespec ts = { 0, 200000 };
		nanosleep(&ts, NULL);
	}
	atomic_store(&p3_done, 1);
	atomic_store(&p3_flag, 1); /* the last blocked opens end */
	return NULL;
}

static void *writer3(void *arg)
{
	(void)arg;
	while (!atomic_load(&p3_done)) {
		struct uvfs_file *f = NULL;
		struct uvfs_pathop p = P("/fifo3");
		int rc = uvfs_open_at(vfs, &cred, &p, O_WRONLY | O_NONBLOCK, 0, 0, &f);
		if (rc == 0) {
			atomic_fetch_add(&p3_wopened, 1);
			uvfs_file_put(f);
		} else if (rc != -ENXIO) {
			fail("phase 3 writer open", rc, 0);
		}
	}
	return NULL;
}

static void *writer1(void *arg)
{
	int id = (int)(long)arg;
	struct uvfs_file *w = xopen("/fifo", O_WRONLY);
	uint32_t rec[PIPE_BUF / 4];
	for (int i = 0; i < RECORDS; i++) {
		for (size_t k = 0; k < PIPE_BUF / 4; k++)
			rec[k] = (uint32_t)(id << 16 | i);
		ssize_t n = uvfs_write(w, rec, sizeof rec);
		if (n != (ssize_t)sizeof rec)
			fail("phase 1 write", n, i);
	}
	uvfs_file_put(w);
	return NULL;
}

static void *reader1(void *arg)
{
	(void)arg;
	struct uvfs_file *r = xopen("/fifo", O_RDONLY);
	uint32_t rec[PIPE_BUF / 4];
	int last[WRITERS];
	for (int i = 0; i < WRITERS; i++)
		last[i] = -1;
	for (;;) {
		ssize_t n = uvfs_read(r, rec, sizeof rec);
		if (n == 0)
			break;
		if (n != (ssize_t)sizeof rec) {
			fail("phase 1 short read", n, 0);
			break;
		}
		uint32_t v = rec[0];
		int id = (int)(v >> 16), seq = (int)(v & 0xffff);
		for (size_t k = 1; k < PIPE_BUF / 4; k++)
			if (rec[k] != v) {
				fail("phase 1 interleaved record", (long)v, (long)rec[k]);
				break;
			}
		if (id >= WRITERS || seq >= RECORDS) {
			fail("phase 1 bad record", id, seq);
			continue;
		}
		if (seq <= last[id])
			fail("phase 1 out of order", seq, last[id]);
		last[id] = seq;
		if (atomic_fetch_add(&seen[id][seq], 1))
			fail("phase 1 record read twice", id, seq);
		atomic_fetch_add(&records_seen, 1);
	}
	uvfs_file_put(r);
	return NULL;
}

/* ------------------------------------------------------------- phase 2 */

struct hdr {
	uint32_t magic, writer, seq, len; /* len: whole record, header included */
};
#define MAGIC 0x46494630u

static void *writer2(void *arg)
{
	int id = (int)(long)arg;
	struct uvfs_file *w = xopen("/fifo2", O_WRONLY);
	unsigned seed = (unsigned)id * 7919u + 1;
	char rec[PIPE_BUF];
	for (int i = 0; i < RECORDS; i++) {
		size_t len = sizeof(struct hdr) + (size_t)rand_r(&seed) % (PIPE_BUF - sizeof(struct hdr) + 1);
		struct hdr h = { MAGIC, (uint32_t)id, (uint32_t)i, (uint32_t)len };
		memcpy(rec, &h, sizeof h);
		memset(rec + sizeof h, 'a' + id, len - sizeof h);
		ssize_t n = uvfs_write(w, rec, len);
		if (n != (ssize_t)len)
			fail("phase 2 write", n, (long)len);
	}
	uvfs_file_put(w);
	return NULL;
}

/* Non-blocking reads woken by poll; parses records from the byte stream. */
static void *reader2(void *arg)
{
	(void)arg;
	struct uvfs_file *r = xopen("/fifo2", O_RDONLY | O_NONBLOCK);
	static char stream[2 * PIPE_BUF + 65536];
	size_t have = 0;
	int next[WRITERS] = { 0 };
	long got = 0, polls = 0;
	for (;;) {
		ssize_t n = uvfs_read(r, stream + have, sizeof stream - have);
		if (n == -EAGAIN) {
			int ev = uvfs_poll(r, POLLIN, 10000);
			polls++;
			if (ev == 0) {
				fail("phase 2 poll timed out", have, got);
				break;
			}
			continue;
		}
		if (n < 0) {
			fail("phase 2 read", n, 0);
			break;
		}
		if (n == 0)
			break; /* EOF: the main thread's writer goes only after every writer thread */
		have += (size_t)n;
		size_t at = 0;
		while (have - at >= sizeof(struct hdr)) {
			struct hdr h;
			memcpy(&h, stream + at, sizeof h);
			if (h.magic != MAGIC || h.writer >= WRITERS || h.len < sizeof h || h.len > PIPE_BUF) {
				fail("phase 2 bad header", (long)h.magic, (long)at);
				goto out;
			}
			if (have - at < h.len)
				break;
			for (size_t k = sizeof h; k < h.len; k++)
				if (stream[at + k] != (char)('a' + h.writer)) {
					fail("phase 2 interleaved record", h.writer, (long)k);
					goto out;
				}
			if ((int)h.seq != next[h.writer])
				fail("phase 2 out of order", h.seq, next[h.writer]);
			next[h.writer] = (int)h.seq + 1;
			got++;
			at += h.len;
		}
		memmove(stream, stream + at, have - at);
		have -= at;
	}
out:
	if (got != (long)WRITERS * RECORDS)
		fail("phase 2 records", got, (long)WRITERS * RECORDS);
	atomic_fetch_add(&records_seen, got);
	uvfs_file_put(r);
	return NULL;
}

static void *watchdog(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1200 && !atomic_load(&done); i++) {
		struct timespec ts = { 0, 100000000 };
		nanosleep(&ts, NULL);
	}
	if (!atomic_load(&done)) {
		fprintf(stderr, "stress_fifo: watchdog: no progress after 120 s (records seen %ld)\n",
			atomic_load(&records_seen));
		_exit(2);
	}
	return NULL;
}

int main(void)
{
	struct uvfs_mntns *ns;
	uvfs_cred_init_root(&cred);
	if (uvfs_create(&vfs) || uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns))
		return 1;
	uvfs_mntns_root(ns, &root);
	struct uvfs_pathop p1 = P("/fifo"), p2 = P("/fifo2"), p3 = P("/fifo3");
	p1.flags = p2.flags = p3.flags = 0;
	if (uvfs_mknod_at(vfs, &cred, &p1, S_IFIFO | 0600, 0) || uvfs_mknod_at(vfs, &cred, &p2, S_IFIFO | 0600, 0) ||
	    uvfs_mknod_at(vfs, &cred, &p3, S_IFIFO | 0600, 0))
		return 1;
	pthread_t wd, t[WRITERS + READERS];
	pthread_create(&wd, NULL, watchdog, NULL);

	/* Phase 1. The main thread's O_RDWR file keeps a writer present until
	 * every writer thread is done, so readers see EOF only at the end. */
	struct uvfs_file *keep = xopen("/fifo", O_RDWR);
	for (long i = 0; i < READERS; i++)
		pthread_create(&t[WRITERS + i], NULL, reader1, NULL);
	for (long i = 0; i < WRITERS; i++)
		pthread_create(&t[i], NULL, writer1, (void *)i);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	uvfs_file_put(keep);
	for (int i = 0; i < READERS; i++)
		pthread_join(t[WRITERS + i], NULL);
	long phase1 = atomic_load(&records_seen);
	if (phase1 != (long)WRITERS * RECORDS)
		fail("phase 1 records", phase1, (long)WRITERS * RECORDS);

	/* Phase 2. */
	keep = xopen("/fifo2", O_RDWR);
	pthread_create(&t[WRITERS], NULL, reader2, NULL);
	for (long i = 0; i < WRITERS; i++)
		pthread_create(&t[i], NULL, writer2, (void *)i);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	uvfs_file_put(keep);
	pthread_join(t[WRITERS], NULL);

	/* Phase 3. r3 keeps the pipe (and so its counts) alive throughout. */
	struct uvfs_file *r3 = xopen("/fifo3", O_RDONLY | O_NONBLOCK);
	static int task3[2];
	pthread_create(&t[0], NULL, opener3, &task3[0]);
	pthread_create(&t[1], NULL, opener3, &task3[1]);
	pthread_create(&t[2], NULL, writer3, NULL);
	pthread_create(&t[3], NULL, interrupter3, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	/* With r3 gone no reader may be left: a write is EPIPE. */
	struct uvfs_file *w3 = xopen("/fifo3", O_WRONLY | O_NONBLOCK);
	uvfs_file_put(r3);
	ssize_t wr3 = uvfs_write(w3, "x", 1);
	if (wr3 != -EPIPE)
		fail("phase 3: a reader left behind", (long)wr3, -EPIPE);
	uvfs_file_put(w3);
	if (!atomic_load(&p3_eintr))
		fail("phase 3: no open was interrupted", 0, 0);
	atomic_store(&done, 1);
	pthread_join(wd, NULL);

	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int leak = uvfs_destroy(vfs, &live);
	printf("stress_fifo: %ld records (phase 1 %ld), phase 3 %ld opens, %ld interrupted, %ld writer opens, %ld errors, "
	       "teardown %s\n",
	       atomic_load(&records_seen), phase1, atomic_load(&p3_opened), atomic_load(&p3_eintr),
	       atomic_load(&p3_wopened), atomic_load(&errors), leak ? "LEAKED" : "clean");
	return atomic_load(&errors) || leak ? 1 : 0;
}
