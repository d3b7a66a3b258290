/* stress_pty.c — a devpts pair under ThreadSanitizer.
 *
 * A typist writes numbered lines of random length to the master in random
 * chunks (lines split across writes); a reader reads the replica in
 * canonical mode with blocking reads and must get each line whole, once
 * and in order; an echo reader drains the master and must see the typed
 * stream with "\n" turned into "\r\n" (ONLCR); a fourth thread keeps
 * reading termios and changing the window size (SIGWINCH through a fake
 * task model's kill callback) while it takes, reads, moves and gives up the
 * terminal as a session leader (job control ioctls); a fifth thread sits
 * in blocking reads on a second, silent pair and is interrupted through its
 * caller context over and over (each read must end in EINTR). A watchdog fails the run
 * after 120 s (a lost wake-up or a full queue that never drains hangs
 * otherwise). Prints one summary line; exits non-zero on error or leak.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "fsimpl/devpts/devpts.h"
#include "uvfs.h"

#define LINES 20000

static struct uvfs *vfs;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static struct uvfs_file *master, *replica;
static _Atomic long errors, lines_read, echo_bytes;
static _Atomic int done;
static long typed_bytes; /* set by the typist before it finishes; read after join */
static struct uvfs_file *master2, *replica2; /* the silent pair */
static _Atomic long signals, eintrs;
static _Atomic int intr_flag;

/* A fake task model: one session leader, pid = pgid = sid = 1. */
static int fake_ids(void *arg, void *task, struct uvfs_tty_task_ids *out)
{
	*out = (struct uvfs_tty_task_ids){ 1, 1, 1 };
	return 0;
}
static int fake_pgrp_session(void *arg, int32_t pgid, int32_t *sid)
{
	*sid = 1;
	return pgid == 1 ? 0 : -ESRCH;
}
static void fake_kill(void *arg, int32_t pgid, int sig) { atomic_fetch_add(&signals, 1); }
static const struct uvfs_devpts_opts fake_opts = {
	.task_ids = fake_ids, .pgrp_session = fake_pgrp_session, .kill_pgrp = fake_kill
};
static int fake_task;
static int intr_pending(void *task) { return atomic_load(&intr_flag); }

static void fail(const char *what, long a, long b)
{
	fprintf(stderr, "stress_pty: %s (%ld, %ld)\n", what, a, b);
	atomic_fetch_add(&errors, 1);
}

/* Line i: "<i>:" then (i * 7919 % 200) letters, then '\n'. */
static size_t make_line(long i, char *buf)
{
	int n = snprintf(buf, 32, "%ld:", i);
	size_t len = (size_t)n + (size_t)(i * 7919 % 200);
	for (size_t k = (size_t)n; k < len; k++)
		buf[k] = (char)('a' + (i + (long)k) % 26);
	buf[len] = '\n';
	return len + 1;
}

static void *typist(void *arg)
{
	(void)arg;
	unsigned seed = 42;
	static char stream[LINES * 220];
	size_t total = 0;
	long echo_due = 0;
	for (long i = 0; i < LINES; i++)
		total += make_line(i, stream + total);
	for (size_t at = 0; at < total;) {
		size_t n = 1 + (size_t)rand_r(&seed) % 700;
		if (n > total - at)
			n = total - at;
		ssize_t w = uvfs_write(master, stream + at, n);
		if (w <= 0) {
			fail("master write", w, (long)at);
			break;
		}
		for (ssize_t k = 0; k < w; k++)
			echo_due += 1 + (stream[at + (size_t)k] == '\n');
		at += (size_t)w;
		/* Echoes beyond the master's 64 KiB output queue are dropped (as
		 * Linux drops them): let the echo reader keep up. */
		while (echo_due - atomic_load(&echo_bytes) > 32768 && !atomic_load(&errors)) {
			struct timespec ts = { 0, 100000 };
			nanosleep(&ts, NULL);
		}
	}
	typed_bytes = (long)total;
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	char buf[4096], want[256];
	for (long i = 0; i < LINES; i++) {
		ssize_t n = uvfs_read(replica, buf, sizeof buf);
		size_t wl = make_line(i, want);
		if (n != (ssize_t)wl || memcmp(buf, want, wl)) {
			fail("replica line", n, i);
			break;
		}
		atomic_fetch_add(&lines_read, 1);
	}
	return NULL;
}

/* Echo: the typed text, "\n" as "\r\n". */
static void *echo_reader(void *arg)
{
	(void)arg;
	long line = 0;
	size_t pos = 0, wl;
	char want[256], buf[4096];
	wl = make_line(0, want);
	bool cr_seen = false;
	while (line < LINES) {
		ssize_t n = uvfs_read(master, buf, sizeof buf);
		if (n <= 0) {
			fail("master read", n, line);
			break;
		}
		atomic_fetch_add(&echo_bytes, n);
		for (ssize_t k = 0; k < n && line < LINES; k++) {
			char c = buf[k];
			if (want[pos] == '\n' && !cr_seen) {
				if (c != '\r') {
					fail("echo: missing CR", line, (long)pos);
					return NULL;
				}
				cr_seen = true;
				continue;
			}
			if (c != want[pos]) {
				fail("echo: wrong byte", line, (long)pos);
				return NULL;
			}
			if (++pos == wl) {
				line++;
				pos = 0;
				cr_seen = false;
				wl = make_line(line, want);
			}
		}
	}
	return NULL;
}

static void *fiddler(void *arg)
{
	(void)arg;
	unsigned char term[64];
	struct uvfs_ctx c = { .task = &fake_task, .tid = 1 };
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&c);
	for (unsigned short i = 0; !atomic_load(&done); i++) {
		int32_t pg = 1;
		if (i % 64 == 0)
			uvfs_ioctl(replica, TIOCSCTTY, 0);
		else if (i % 64 == 32)
			uvfs_ioctl(replica, TIOCNOTTY, 0);
		uvfs_ioctl(replica, TIOCSPGRP, &pg);
		uvfs_ioctl(replica, TIOCGPGRP, &pg);
		if (i % 16 == 0)
			atomic_store(&intr_flag, 1);
		struct winsize w = { .ws_row = i, .ws_col = (unsigned short)(i + 1) };
		uvfs_ioctl(master, TIOCSWINSZ, &w);
		uvfs_ioctl(replica, TIOCGWINSZ, &w);
		uvfs_ioctl(replica, TCGETS, term);
		int n;
		uvfs_ioctl(replica, FIONREAD, &n);
		uvfs_poll(master, 1 /* POLLIN */, 0);
	}
	uvfs_ctx_leave(prev);
	return NULL;
}

/* Blocking reads of the silent replica, each ended by an interrupt. */
static void *intr_reader(void *arg)
{
	(void)arg;
	struct uvfs_ctx c = { .task = &fake_task, .interrupted = intr_pending };
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&c);
	char b[16];
	while (!atomic_load(&done)) {
		ssize_t n = uvfs_read(replica2, b, sizeof b);
		if (n != -EINTR)
			fail("silent replica read", (long)n, -EINTR);
		atomic_fetch_add(&eintrs, 1);
		atomic_store(&intr_flag, 0);
	}
	uvfs_ctx_leave(prev);
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
		fprintf(stderr, "stress_pty: watchdog: stuck after 120 s (lines read %ld, echo bytes %ld)\n",
			atomic_load(&lines_read), atomic_load(&echo_bytes));
		_exit(2);
	}
	return NULL;
}

int main(void)
{
	struct uvfs_mntns *ns;
	uvfs_cred_init_root(&cred);
	if (uvfs_create(&vfs) || uvfs_register_fs_type(vfs, &uvfs_devpts_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_devpts_register_devices_opts(vfs, &fake_opts) ||
	    uvfs_mntns_new(vfs, &cred, "devpts", "devpts", &(struct uvfs_mount_opts){ 0 }, &ns))
		return 1;
	uvfs_mntns_root(ns, &root);
	struct uvfs_pathop pm = { .root = root, .start = root, .path = "/ptmx" };
	if (uvfs_open_at(vfs, &cred, &pm, O_RDWR, 0, 0, &master))
		return 1;
	unsigned idx;
	int unlock = 0;
	char name[16];
	if (uvfs_ioctl(master, TIOCGPTN, &idx) || uvfs_ioctl(master, TIOCSPTLCK, &unlock))
		return 1;
	snprintf(name, sizeof name, "/%u", idx);
	struct uvfs_pathop pr = { .root = root, .start = root, .path = name };
	if (uvfs_open_at(vfs, &cred, &pr, O_RDWR, 0, 0, &replica))
		return 1;
	struct uvfs_pathop pm2 = { .root = root, .start = root, .path = "/ptmx" };
	if (uvfs_open_at(vfs, &cred, &pm2, O_RDWR, 0, 0, &master2) || uvfs_ioctl(master2, TIOCGPTN, &idx) ||
	    uvfs_ioctl(master2, TIOCSPTLCK, &unlock))
		return 1;
	snprintf(name, sizeof name, "/%u", idx);
	struct uvfs_pathop pr2 = { .root = root, .start = root, .path = name };
	if (uvfs_open_at(vfs, &cred, &pr2, O_RDWR, 0, 0, &replica2))
		return 1;
	pthread_t wd, t[5];
	pthread_create(&wd, NULL, watchdog, NULL);
	pthread_create(&t[0], NULL, reader, NULL);
	pthread_create(&t[1], NULL, echo_reader, NULL);
	pthread_create(&t[2], NULL, fiddler, NULL);
	pthread_create(&t[3], NULL, typist, NULL);
	pthread_create(&t[4], NULL, intr_reader, NULL);
	pthread_join(t[3], NULL);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	atomic_store(&done, 1);
	pthread_join(t[2], NULL);
	atomic_store(&intr_flag, 1); /* the fiddler may have stopped before the last interrupt */
	pthread_join(t[4], NULL);
	pthread_join(wd, NULL);
	uvfs_file_put(replica2);
	uvfs_file_put(master2);
	uvfs_file_put(replica);
	uvfs_file_put(master);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int leak = uvfs_destroy(vfs, &live);
	printf("stress_pty: %ld lines, %ld bytes typed, %ld echoed, %ld signals, %ld interrupted reads, %ld errors, "
	       "teardown %s\n",
	       atomic_load(&lines_read), typed_bytes, atomic_load(&echo_bytes), atomic_load(&signals),
	       atomic_load(&eintrs), atomic_load(&errors), leak ? "LEAKED" : "clean");
	return atomic_load(&errors) || leak || atomic_load(&lines_read) != LINES || !atomic_load(&signals) ||
			       !atomic_load(&eintrs)
		       ? 1
		       : 0;
}
