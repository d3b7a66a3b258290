/* stress_gofer.c — a "9p" mount of a real diod (cache=remote_revalidating,
 * a small dentry_cache_limit so the LRU evicts and clunks all the time)
 * under concurrency (ThreadSanitizer build, run by `make check`).
 *
 * Workers (one namespace of names each: dN/wT_S) create+write, read back,
 * rename between directories and unlink their own files, checking every
 * result strictly; they also stat and list names the host owns (h*), where
 * 0, ENOENT and ENOTDIR are the only right answers. Meanwhile a host thread
 * changes the exported directory under the mount with plain syscalls:
 * files rewritten, renamed, removed, replaced by a directory, and a host
 * directory (hd, holding files the walkers stat) renamed back and forth.
 * A watchdog fails the run when no operation completes for 60 s (a lost
 * reply or a lock cycle hangs otherwise).
 *
 * At the end: the mount goes, uvfs_destroy must report no live object,
 * diod must have been reaped (waitpid: ECHILD), and every file a worker
 * believes alive is on the host with the content it wrote, nothing else.
 *
 * STRESS_SECONDS (default 6) bounds the run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsimpl/gofer/gofer.h"
#include "tests/gofer/diod_harness.h" /* diod_rm_one */
#include "vfs/uvfs.h"

#define NWORK 4
#define NDIRS 3
#define NSLOT 8  /* files per worker */
#define NHOST 6  /* host-owned names h0..h5 per directory */

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static char host[64];
static atomic_bool stop;
static atomic_long n_ops, n_hostops, n_bad;

#define BAD(...)                                              \
	do {                                                  \
		fprintf(stderr, "INCONSISTENT: " __VA_ARGS__); \
		fputc('\n', stderr);                          \
		atomic_fetch_add(&n_bad, 1);                  \
	} while (0)

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static struct uvfs_pathop pop(const char *p) { return (struct uvfs_pathop){ .root = root, .start = root, .path = p }; }

/* ---------------------------------------------------------- workers */

struct slot {
	int dir;      /* -1: absent */
	unsigned ver; /* content "wT sS vV\n" */
};

struct worker {
	int id;
	struct slot s[NSLOT];
};
static struct worker workers[NWORK];

static void wpath(char *b, size_t n, int dir, int id, int slot) { snprintf(b, n, "/g/d%d/w%d_%d", dir, id, slot); }
static int content(char *b, size_t n, int id, int slot, unsigned v)
{
	return snprintf(b, n, "w%d s%d v%u\n", id, slot, v);
}

static int write_file(const char *p, const char *data, int flags)
{
	struct uvfs_pathop o = pop(p);
	struct uvfs_file *f;
	int err = uvfs_open_at(vfs, &cred, &o, O_WRONLY | O_CREAT | flags, 0644, 0, &f);
	if (err)
		return err;
	ssize_t n = uvfs_write(f, data, strlen(data));
	uvfs_file_put(f);
	return n == (ssize_t)strlen(data) ? 0 : n < 0 ? (int)n : -EIO;
}

static ssize_t read_file(const char *p, char *buf, size_t len)
{
	struct uvfs_pathop o = pop(p);
	struct uvfs_file *f;
	int err = uvfs_open_at(vfs, &cred, &o, O_RDONLY, 0, 0, &f);
	if (err)
		return err;
	ssize_t n = uvfs_read(f, buf, len - 1);
	uvfs_file_put(f);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

static int count_cb(void *arg, const char *name, size_t namelen, uint64_t ino, unsigned dtype, int64_t next_off)
{
	(void)name, (void)namelen, (void)ino, (void)dtype, (void)next_off;
	(*(int *)arg)++;
	return 0;
}

/* One own-file operation, checked strictly. */
static void own_op(struct worker *w, unsigned *seed)
{
	int k = (int)(rnd(seed) % NSLOT);
	struct slot *s = &w->s[k];
	char p[64], q[64], want[64], got[64];
	switch (rnd(seed) % 4) {
	case 0: /* create or rewrite */ {
		int dir = s->dir >= 0 ? s->dir : (int)(rnd(seed) % NDIRS);
		wpath(p, sizeof(p), dir, w->id, k);
		content(want, sizeof(want), w->id, k, s->ver + 1);
		int err = write_file(p, want, s->dir >= 0 ? O_TRUNC : O_EXCL);
		if (err)
			BAD("write %s (%s): %d", p, s->dir >= 0 ? "exists" : "new", err);
		else
			s->dir = dir, s->ver++;
		break;
	}
	case 1: /* read back, or ENOENT */ {
		int dir = s->dir >= 0 ? s->dir : (int)(rnd(seed) % NDIRS);
		wpath(p, sizeof(p), dir, w->id, k);
		ssize_t n = read_file(p, got, sizeof(got));
		if (s->dir < 0) {
			if (n != -ENOENT)
				BAD("read of absent %s: %zd", p, n);
			break;
		}
		content(want, sizeof(want), w->id, k, s->ver);
		if (n < 0 || strcmp(got, want))
			BAD("read %s: %zd '%s' want '%s'", p, n, n >= 0 ? got : "", want);
		break;
	}
	case 2: /* rename to another directory */ {
		if (s->dir < 0)
			break;
		int to = (s->dir + 1 + (int)(rnd(seed) % (NDIRS - 1))) % NDIRS;
		wpath(p, sizeof(p), s->dir, w->id, k);
		wpath(q, sizeof(q), to, w->id, k);
		struct uvfs_pathop a = pop(p), b = pop(q);
		int err = uvfs_rename_at(vfs, &cred, &a, &b, 0);
		if (err) {
			BAD("rename %s -> %s: %d", p, q, err);
			break;
		}
		s->dir = to;
		struct statx st;
		if ((err = uvfs_stat_at(vfs, &cred, &a, STATX_BASIC_STATS, &st)) != -ENOENT)
			BAD("stat of renamed-away %s: %d", p, err);
		content(want, sizeof(want), w->id, k, s->ver);
		if ((err = uvfs_stat_at(vfs, &cred, &b, STATX_BASIC_STATS, &st)) || st.stx_size != strlen(want))
			BAD("stat of renamed %s: %d size %llu", q, err, (unsigned long long)st.stx_size);
		break;
	}
	case 3: /* unlink */ {
		if (s->dir < 0)
			break;
		wpath(p, sizeof(p), s->dir, w->id, k);
		struct uvfs_pathop a = pop(p);
		int err = uvfs_unlink_at(vfs, &cred, &a);
		if (err)
			BAD("unlink %s: %d", p, err);
		else
			s->dir = -1;
		break;
	}
	}
}

/* A look at names the host changes: only 0, ENOENT, ENOTDIR are right. */
static void host_op(unsigned *seed)
{
	char p[64];
	unsigned r = rnd(seed);
	struct statx st;
	int err;
	switch (r % 4) {
	case 0:
		snprintf(p, sizeof(p), "/g/d%u/h%u", (r >> 2) % NDIRS, (r >> 4) % NHOST);
		break;
	case 1: /* h may be a directory holding x, or a file */
		snprintf(p, sizeof(p), "/g/d%u/h%u/x", (r >> 2) % NDIRS, (r >> 4) % NHOST);
		break;
	case 2:
		snprintf(p, sizeof(p), "/g/%s/f%u", (r >> 2) & 1 ? "hd" : "hd2", (r >> 4) % NHOST);
		break;
	case 3: { /* list a directory */
		snprintf(p, sizeof(p), "/g/%s", (r >> 2) & 1 ? "hd" : "d0");
		struct uvfs_pathop o = pop(p);
		struct uvfs_file *f;
		err = uvfs_open_at(vfs, &cred, &o, O_RDONLY | O_DIRECTORY, 0, 0, &f);
		if (err == 0) {
			int n = 0;
			err = uvfs_iterate_dir(f, count_cb, &n);
			uvfs_file_put(f);
			/* a listed directory the host renamed away meanwhile: ENOENT is right */
			if (err && err != -ENOENT)
				BAD("readdir %s: %d", p, err);
		} else if (err != -ENOENT) {
			BAD("opendir %s: %d", p, err);
		}
		return;
	}
	}
	struct uvfs_pathop o = pop(p);
	err = uvfs_stat_at(vfs, &cred, &o, STATX_BASIC_STATS, &st);
	if (err && err != -ENOENT && err != -ENOTDIR)
		BAD("stat %s: %d", p, err);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned seed = 1234u + (unsigned)w->id * 7919u;
	while (!atomic_load(&stop)) {
		if (rnd(&seed) % 3)
			own_op(w, &seed);
		else
			host_op(&seed);
		atomic_fetch_add(&n_ops, 1);
	}
	return NULL;
}

/* ----------------------------------------------------- the host side */

static const char *hp(char *b, size_t n, const char *fmt, unsigned a, unsigned c)
{
	char rel[64];
	snprintf(rel, sizeof(rel), fmt, a, c);
	snprintf(b, n, "%s/%s", host, rel);
	return b;
}

static void host_write(const char *p, const char *data)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, data, strlen(data)) < 0)
			perror("host write");
		close(fd);
	}
}

static void rm_tree(const char *p) { nftw(p, diod_rm_one, 8, FTW_DEPTH | FTW_PHYS); }

static void *host_main(void *arg)
{
	(void)arg;
	unsigned seed = 99;
	char a[160], b[160], c[200], hd[160], hd2[160];
	snprintf(hd, sizeof(hd), "%s/hd", host);
	snprintf(hd2, sizeof(hd2), "%s/hd2", host);
	while (!atomic_load(&stop)) {
		unsigned r = rnd(&seed);
		unsigned d = (r >> 3) % NDIRS, h = (r >> 5) % NHOST, h2 = (r >> 9) % NHOST;
		hp(a, sizeof(a), "d%u/h%u", d, h);
		switch (r % 6) {
		case 0: /* (re)write a file */
			rm_tree(a);
			host_write(a, "host data\n");
			break;
		case 1: /* rename over another host name */
			hp(b, sizeof(b), "d%u/h%u", d, h2);
			if (h != h2) {
				rm_tree(b);
				rename(a, b);
			}
			break;
		case 2: /* remove */
			rm_tree(a);
			break;
		case 3: /* replace by a directory holding x */
			rm_tree(a);
			if (mkdir(a, 0755) == 0) {
				snprintf(c, sizeof(c), "%s/x", a);
				host_write(c, "x\n");
			}
			break;
		case 4: /* move the host directory back and forth */
			if (rename(hd, hd2) < 0)
				rename(hd2, hd);
			break;
		case 5: { /* rewrite a file inside it, whichever name it has now */
			char f[200];
			snprintf(f, sizeof(f), "%s/f%u", access(hd, F_OK) == 0 ? hd : hd2, h);
			host_write(f, "in hd\n");
			break;
		}
		}
		atomic_fetch_add(&n_hostops, 1);
		usleep(200);
	}
	return NULL;
}

/* ---------------------------------------------------------- watchdog */

static void *watchdog(void *arg)
{
	(void)arg;
	long last = -1;
	int still = 0;
	while (!atomic_load(&stop)) {
		sleep(1);
		long now = atomic_load(&n_ops);
		still = now == last ? still + 1 : 0;
		last = now;
		if (still >= 60) {
			fprintf(stderr, "stress_gofer: watchdog: no operation completed in 60 s (ops %ld)\n", now);
			_exit(2);
		}
	}
	return NULL;
}

/* Every file a worker believes alive is on the host with its content;
 * no other w* file is there. */
static long check_host(void)
{
	long bad = 0, seen = 0, want_n = 0;
	for (int d = 0; d < NDIRS; d++) {
		char dp[128];
		snprintf(dp, sizeof(dp), "%s/d%d", host, d);
		DIR *dir = opendir(dp);
		if (!dir) {
			fprintf(stderr, "INCONSISTENT: host %s gone\n", dp);
			return 1;
		}
		struct dirent *de;
		while ((de = readdir(dir))) {
			int id, k;
			if (sscanf(de->d_name, "w%d_%d", &id, &k) != 2)
				continue;
			seen++;
			if (id < 0 || id >= NWORK || k < 0 || k >= NSLOT || workers[id].s[k].dir != d) {
				fprintf(stderr, "INCONSISTENT: host has unexpected d%d/%s\n", d, de->d_name);
				bad++;
				continue;
			}
			char fp[400], got[64] = "", want[64];
			snprintf(fp, sizeof(fp), "%s/%s", dp, de->d_name);
			FILE *f = fopen(fp, "r");
			if (f) {
				size_t n = fread(got, 1, sizeof(got) - 1, f);
				got[n] = 0;
				fclose(f);
			}
			content(want, sizeof(want), id, k, workers[id].s[k].ver);
			if (strcmp(got, want)) {
				fprintf(stderr, "INCONSISTENT: host d%d/%s has '%s' want '%s'\n", d, de->d_name, got, want);
				bad++;
			}
		}
		closedir(dir);
	}
	for (int i = 0; i < NWORK; i++)
		for (int k = 0; k < NSLOT; k++)
			want_n += workers[i].s[k].dir >= 0;
	if (seen != want_n) {
		fprintf(stderr, "INCONSISTENT: host has %ld worker files, want %ld\n", seen, want_n);
		bad++;
	}
	return bad;
}

int main(void)
{
	const char *secs_env = getenv("STRESS_SECONDS");
	int secs = secs_env ? atoi(secs_env) : 6;
	snprintf(host, sizeof(host), "/tmp/uvfs-stress-gofer-XXXXXX");
	if (!mkdtemp(host)) {
		perror("mkdtemp");
		return 1;
	}
	chmod(host, 0755);
	char p[160];
	for (int d = 0; d < NDIRS; d++) {
		snprintf(p, sizeof(p), "%s/d%d", host, d);
		mkdir(p, 0755);
	}
	snprintf(p, sizeof(p), "%s/hd", host);
	mkdir(p, 0755);

	uvfs_cred_init_root(&cred);
	int fd;
	struct uvfs_gofer_proc *proc = NULL;
	/* UVFS_GOFER_DIRECT=1: the same over trans=direct (no diod) */
	bool direct = getenv("UVFS_GOFER_DIRECT") && !strcmp(getenv("UVFS_GOFER_DIRECT"), "1");
	if (uvfs_create(&vfs) || uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_register_fs_type(vfs, &uvfs_gofer_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	uvfs_mntns_root(ns, &root);
	struct uvfs_pathop g = pop("/g");
	int err = uvfs_mkdir_at(vfs, &cred, &g, 0755);
	if (!err && direct && (fd = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		err = -errno;
	else if (!err && !direct)
		err = uvfs_gofer_spawn(host, false, &fd, &proc);
	if (err) {
		fprintf(stderr, "spawn failed: %d\n", err);
		return 1;
	}
	pid_t dpid = direct ? 0 : uvfs_gofer_pid(proc);
	char data[256];
	if (direct)
		snprintf(data, sizeof(data), "trans=direct,cache=remote_revalidating,dentry_cache_limit=16");
	else
		snprintf(data, sizeof(data),
			 "trans=fd,rfdno=%d,wfdno=%d,aname=%s,cache=remote_revalidating,dentry_cache_limit=16", fd, fd,
			 host);
	struct uvfs_gofer_internal in = { .proc = proc, .hostfd = direct ? fd : -1 };
	err = uvfs_mount_at(vfs, &cred, host, &g, "9p", &(struct uvfs_mount_opts){ .data = data, .internal = &in });
	if (err) {
		fprintf(stderr, "mount failed: %d\n", err);
		return 1;
	}

	pthread_t t[NWORK], ht, wd;
	for (int i = 0; i < NWORK; i++) {
		workers[i].id = i;
		for (int k = 0; k < NSLOT; k++)
			workers[i].s[k].dir = -1;
		pthread_create(&t[i], NULL, worker_main, &workers[i]);
	}
	pthread_create(&ht, NULL, host_main, NULL);
	pthread_create(&wd, NULL, watchdog, NULL);
	sleep((unsigned)secs);
	atomic_store(&stop, true);
	for (int i = 0; i < NWORK; i++)
		pthread_join(t[i], NULL);
	pthread_join(ht, NULL);
	pthread_join(wd, NULL);

	int urc = uvfs_umount_at(vfs, &cred, &g, 0);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int drc = uvfs_destroy(vfs, &live);
	int reaped = direct || (waitpid(dpid, NULL, WNOHANG) < 0 && errno == ECHILD);
	long hbad = check_host();
	printf("stress_gofer: ops %ld host changes %ld; umount %d, live dentries %ld inodes %ld files %ld fs %ld, "
	       "diod %s, inconsistent %ld, host mismatches %ld\n",
	       n_ops, n_hostops, urc, live.dentries, live.inodes, live.files, live.filesystems,
	       reaped ? "reaped" : "NOT reaped", n_bad, hbad);
	rm_tree(host);
	return urc || drc || live.dentries || live.inodes || live.files || live.filesystems || !reaped || n_bad || hbad ||
	       n_ops < 100;
}
