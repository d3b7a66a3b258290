/* stress_gofer_fscache.c — a "9p" mount of a real diod in cache=fscache
 * (exclusive: the host is not touched while it runs) under concurrency
 * (ThreadSanitizer build). stress_gofer.c covers remote_revalidating.
 *
 * What fscache adds and this exercises: the page cache (files up to
 * ~200 KB, several 64 KiB pages, written in uneven chunks and read back in
 * others, write-back at close), complete directories (a listing leaves the
 * names; a miss is then answered from memory, so a lost name shows as a
 * wrong ENOENT) and hard links sharing one inode.
 *
 * Workers (own names dN/wT_S, links dN/lT_S) create+write, read back,
 * rename between directories, unlink, list a directory (their own files
 * in it must be listed, their others not), and make a hard link, write
 * through it, read through the first name (one inode, nlink 2), unlink it.
 * A watchdog fails the run when no operation completes for 60 s.
 *
 * At the end: the mount goes (writing back), uvfs_destroy must report no
 * live object, diod must have been reaped, and the host directory must
 * hold exactly the files workers believe alive, each with its content.
 *
 * Two runs: cache=fscache with pcache_max=256k (four pages for every
 * file of the mount: eviction and write-back of other threads' dirty
 * pages all the time), then cache=fscache_writethrough.
 *
 * STRESS_SECONDS (default 6) bounds each run.
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
#include <unistd.h>

#include "fsimpl/gofer/gofer.h"
#include "tests/gofer/diod_harness.h" /* diod_rm_one */
#include "vfs/uvfs.h"

#define NWORK 4
#define NDIRS 3
#define NSLOT 6
#define MAXSZ 200000

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static char host[64];
static atomic_bool stop;
static atomic_long n_ops, n_bad;

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

struct slot {
	int dir;      /* -1: absent */
	unsigned ver; /* content: gen(id, slot, ver) */
};
struct worker {
	int id;
	struct slot s[NSLOT];
	unsigned char *want, *got; /* MAXSZ each */
};
static struct worker workers[NWORK];

static void wpath(char *b, size_t n, char kind, int dir, int id, int slot)
{
	snprintf(b, n, "/g/d%d/%c%d_%d", dir, kind, id, slot);
}

/* The content of version v of a worker's slot: its size and bytes. */
static size_t gen(unsigned char *b, int id, int k, unsigned v)
{
	unsigned h = (unsigned)id * 2654435761u ^ (unsigned)k * 40503u ^ v * 2246822519u;
	size_t n = 1 + (h >> 7) % MAXSZ;
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(id * 31 + k * 7 + v * 3 + i * 13 + (i >> 9));
	return n;
}

/* Writes len bytes in uneven chunks (page boundaries fall inside them). */
static int write_file(const char *p, const unsigned char *data, size_t len, int flags)
{
	struct uvfs_pathop o = pop(p);
	struct uvfs_file *f;
	int err = uvfs_open_at(vfs, &cred, &o, O_WRONLY | O_CREAT | flags, 0644, 0, &f);
	if (err)
		return err;
	for (size_t off = 0; off < len && !err;) {
		size_t c = len - off < 40000 ? len - off : 40000 - off % 1000;
		ssize_t n = uvfs_pwrite(f, data + off, c, (off_t)off);
		if (n <= 0)
			err = n < 0 ? (int)n : -EIO;
		else
			off += (size_t)n;
	}
	uvfs_file_put(f);
	return err;
}

/* Reads the whole file (chunks of 30000, reads until EOF). */
static ssize_t read_file(const char *p, unsigned char *buf)
{
	struct uvfs_pathop o = pop(p);
	struct uvfs_file *f;
	int err = uvfs_open_at(vfs, &cred, &o, O_RDONLY, 0, 0, &f);
	if (err)
		return err;
	size_t off = 0;
	for (;;) {
		ssize_t n = uvfs_pread(f, buf + off, off + 30000 > MAXSZ ? MAXSZ - off : 30000, (off_t)off);
		if (n < 0) {
			uvfs_file_put(f);
			return n;
		}
		if (n == 0 || off + (size_t)n >= MAXSZ) {
			off += (size_t)n;
			break;
		}
		off += (size_t)n;
	}
	uvfs_file_put(f);
	return (ssize_t)off;
}

static void check_content(struct worker *w, const char *p, int k, unsigned ver)
{
	size_t n = gen(w->want, w->id, k, ver);
	ssize_t got = read_file(p, w->got);
	if (got < 0 || (size_t)got != n || memcmp(w->got, w->want, n))
		BAD("read %s: %zd bytes want %zu (v%u)%s", p, got, n, ver,
		    got == (ssize_t)n ? ", bytes differ" : "");
}

struct listing {
	struct worker *w;
	int dir;
	unsigned seen; /* bit k: own file w<id>_k listed */
	int bogus;
};

static int list_cb(void *arg, const char *name, size_t namelen, uint64_t ino, unsigned dtype, int64_t next_off)
{
	(void)ino, (void)dtype, (void)next_off;
	struct listing *l = arg;
	char nm[64];
	int id, k;
	if (namelen >= sizeof(nm))
		return 0;
	memcpy(nm, name, namelen);
	nm[namelen] = 0;
	if (sscanf(nm, "w%d_%d", &id, &k) == 2 && id == l->w->id && k >= 0 && k < NSLOT) {
		if (l->seen & (1u << k))
			l->bogus++; /* listed twice */
		l->seen |= 1u << k;
	}
	return 0;
}

static void op(struct worker *w, unsigned *seed)
{
	int k = (int)(rnd(seed) % NSLOT);
	struct slot *s = &w->s[k];
	char p[64], q[64];
	int err;
	switch (rnd(seed) % 6) {
	case 0: { /* create or rewrite */
		int dir = s->dir >= 0 ? s->dir : (int)(rnd(seed) % NDIRS);
		wpath(p, sizeof(p), 'w', dir, w->id, k);
		size_t n = gen(w->want, w->id, k, s->ver + 1);
		if ((err = write_file(p, w->want, n, s->dir >= 0 ? O_TRUNC : O_EXCL)))
			BAD("write %s (%s): %d", p, s->dir >= 0 ? "exists" : "new", err);
		else
			s->dir = dir, s->ver++;
		break;
	}
	case 1: /* read back, or ENOENT */
		if (s->dir < 0) {
			wpath(p, sizeof(p), 'w', (int)(rnd(seed) % NDIRS), w->id, k);
			ssize_t n = read_file(p, w->got);
			if (n != -ENOENT)
				BAD("read of absent %s: %zd", p, n);
			break;
		}
		wpath(p, sizeof(p), 'w', s->dir, w->id, k);
		check_content(w, p, k, s->ver);
		break;
	case 2: { /* rename to another directory */
		if (s->dir < 0)
			break;
		int to = (s->dir + 1 + (int)(rnd(seed) % (NDIRS - 1))) % NDIRS;
		wpath(p, sizeof(p), 'w', s->dir, w->id, k);
		wpath(q, sizeof(q), 'w', to, w->id, k);
		struct uvfs_pathop a = pop(p), b = pop(q);
		if ((err = uvfs_rename_at(vfs, &cred, &a, &b, 0))) {
			BAD("rename %s -> %s: %d", p, q, err);
			break;
		}
		s->dir = to;
		struct statx st;
		if ((err = uvfs_stat_at(vfs, &cred, &a, STATX_BASIC_STATS, &st)) != -ENOENT)
			BAD("stat of renamed-away %s: %d", p, err);
		size_t n = gen(w->want, w->id, k, s->ver);
		if ((err = uvfs_stat_at(vfs, &cred, &b, STATX_BASIC_STATS, &st)) || st.stx_size != n)
			BAD("stat of renamed %s: %d size %llu want %zu", q, err, (unsigned long long)st.stx_size, n);
		break;
	}
	case 3: /* unlink */
		if (s->dir < 0 || rnd(seed) % 2)
			break;
		wpath(p, sizeof(p), 'w', s->dir, w->id, k);
		{
			struct uvfs_pathop a = pop(p);
			if ((err = uvfs_unlink_at(vfs, &cred, &a)))
				BAD("unlink %s: %d", p, err);
			else
				s->dir = -1;
		}
		break;
	case 4: { /* list: own files there are listed, own files elsewhere not */
		int dir = (int)(rnd(seed) % NDIRS);
		snprintf(p, sizeof(p), "/g/d%d", dir);
		struct uvfs_pathop o = pop(p);
		struct uvfs_file *f;
		if ((err = uvfs_open_at(vfs, &cred, &o, O_RDONLY | O_DIRECTORY, 0, 0, &f))) {
			BAD("opendir %s: %d", p, err);
			break;
		}
		struct listing l = { .w = w, .dir = dir };
		err = uvfs_iterate_dir(f, list_cb, &l);
		uvfs_file_put(f);
		unsigned want = 0;
		for (int j = 0; j < NSLOT; j++)
			if (w->s[j].dir == dir)
				want |= 1u << j;
		if (err || l.seen != want || l.bogus)
			BAD("readdir %s: %d, own files listed %#x want %#x, %d twice", p, err, l.seen, want, l.bogus);
		/* a name never created, right after the listing: ENOENT */
		snprintf(q, sizeof(q), "/g/d%d/never%d", dir, w->id);
		struct uvfs_pathop n = pop(q);
		struct statx st;
		if ((err = uvfs_stat_at(vfs, &cred, &n, STATX_BASIC_STATS, &st)) != -ENOENT)
			BAD("stat of %s: %d", q, err);
		break;
	}
	case 5: { /* hard link: one inode through both names */
		if (s->dir < 0)
			break;
		int ldir = (int)(rnd(seed) % NDIRS);
		wpath(p, sizeof(p), 'w', s->dir, w->id, k);
		wpath(q, sizeof(q), 'l', ldir, w->id, k);
		struct uvfs_pathop a = pop(p), b = pop(q);
		if ((err = uvfs_link_at(vfs, &cred, &a, &b))) {
			BAD("link %s -> %s: %d", p, q, err);
			break;
		}
		struct statx sa, sb;
		if (uvfs_stat_at(vfs, &cred, &a, STATX_BASIC_STATS, &sa) ||
		    uvfs_stat_at(vfs, &cred, &b, STATX_BASIC_STATS, &sb) || sa.stx_ino != sb.stx_ino ||
		    sa.stx_nlink != 2 || sb.stx_nlink != 2)
			BAD("link %s: ino %llu/%llu nlink %u/%u", q, (unsigned long long)sa.stx_ino,
			    (unsigned long long)sb.stx_ino, sa.stx_nlink, sb.stx_nlink);
		check_content(w, q, k, s->ver);
		size_t n = gen(w->want, w->id, k, s->ver + 1);
		if ((err = write_file(q, w->want, n, O_TRUNC)))
			BAD("write through link %s: %d", q, err);
		else
			s->ver++;
		check_content(w, p, k, s->ver);
		if ((err = uvfs_unlink_at(vfs, &cred, &b)))
			BAD("unlink link %s: %d", q, err);
		if ((err = uvfs_stat_at(vfs, &cred, &a, STATX_BASIC_STATS, &sa)) || sa.stx_nlink != 1 || sa.stx_size != n)
			BAD("stat after link gone %s: %d nlink %u size %llu", p, err, sa.stx_nlink,
			    (unsigned long long)sa.stx_size);
		break;
	}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned seed = 4321u + (unsigned)w->id * 7919u;
	while (!atomic_load(&stop)) {
		op(w, &seed);
		atomic_fetch_add(&n_ops, 1);
	}
	return NULL;
}

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
			fprintf(stderr, "stress_gofer_fscache: watchdog: no operation completed in 60 s (ops %ld)\n", now);
			_exit(2);
		}
	}
	return NULL;
}

/* The host holds exactly the files workers believe alive, with their
 * content (written back by close or at the unmount); no link is left. */
static long check_host(void)
{
	long bad = 0, seen = 0, want_n = 0;
	unsigned char *want = malloc(MAXSZ), *got = malloc(MAXSZ + 1);
	for (int d = 0; d < NDIRS && want && got; d++) {
		char dp[128];
		snprintf(dp, sizeof(dp), "%s/d%d", host, d);
		DIR *dir = opendir(dp);
		if (!dir) {
			fprintf(stderr, "INCONSISTENT: host %s gone\n", dp);
			bad++;
			continue;
		}
		struct dirent *de;
		while ((de = readdir(dir))) {
			int id, k;
			if (de->d_name[0] == '.')
				continue;
			seen++;
			if (sscanf(de->d_name, "w%d_%d", &id, &k) != 2 || id < 0 || id >= NWORK || k < 0 || k >= NSLOT ||
			    workers[id].s[k].dir != d) {
				fprintf(stderr, "INCONSISTENT: host has unexpected d%d/%s\n", d, de->d_name);
				bad++;
				continue;
			}
			char fp[400];
			snprintf(fp, sizeof(fp), "%s/%s", dp, de->d_name);
			size_t n = gen(want, id, k, workers[id].s[k].ver), g = 0;
			FILE *f = fopen(fp, "r");
			if (f) {
				g = fread(got, 1, MAXSZ + 1, f);
				fclose(f);
			}
			if (g != n || memcmp(got, want, n)) {
				fprintf(stderr, "INCONSISTENT: host d%d/%s: %zu bytes want %zu%s\n", d, de->d_name, g, n,
					g == n ? ", bytes differ" : "");
				bad++;
			}
		}
		closedir(dir);
	}
	for (int i = 0; i < NWORK; i++)
		for (int k = 0; k < NSLOT; k++)
			want_n += workers[i].s[k].dir >= 0;
	if (seen != want_n) {
		fprintf(stderr, "INCONSISTENT: host has %ld files, want %ld\n", seen, want_n);
		bad++;
	}
	free(want);
	free(got);
	return bad;
}

/* One run with the given mount options (the cache mode and more). */
static int run(const char *opts, int secs)
{
	atomic_store(&stop, false);
	atomic_store(&n_ops, 0);
	atomic_store(&n_bad, 0);
	memset(workers, 0, sizeof(workers));
	snprintf(host, sizeof(host), "/tmp/uvfs-stress-gofc-XXXXXX");
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
	/* a small dentry cache: eviction of cached pages and listed names too */
	if (direct)
		snprintf(data, sizeof(data), "trans=direct,%s,dentry_cache_limit=16", opts);
	else
		snprintf(data, sizeof(data), "trans=fd,rfdno=%d,wfdno=%d,aname=%s,%s,dentry_cache_limit=16", fd, fd,
			 host, opts);
	struct uvfs_gofer_internal in = { .proc = proc, .hostfd = direct ? fd : -1 };
	err = uvfs_mount_at(vfs, &cred, host, &g, "9p", &(struct uvfs_mount_opts){ .data = data, .internal = &in });
	if (err) {
		fprintf(stderr, "mount failed: %d\n", err);
		return 1;
	}
	pthread_t t[NWORK], wd;
	for (int i = 0; i < NWORK; i++) {
		workers[i].id = i;
		workers[i].want = malloc(MAXSZ);
		workers[i].got = malloc(MAXSZ);
		if (!workers[i].want || !workers[i].got)
			return 1;
		for (int k = 0; k < NSLOT; k++)
			workers[i].s[k].dir = -1;
		pthread_create(&t[i], NULL, worker_main, &workers[i]);
	}
	pthread_create(&wd, NULL, watchdog, NULL);
	sleep((unsigned)secs);
	atomic_store(&stop, true);
	for (int i = 0; i < NWORK; i++)
		pthread_join(t[i], NULL);
	pthread_join(wd, NULL);

	int urc = uvfs_umount_at(vfs, &cred, &g, 0);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int drc = uvfs_destroy(vfs, &live);
	int reaped = direct || (waitpid(dpid, NULL, WNOHANG) < 0 && errno == ECHILD);
	long hbad = check_host();
	printf("stress_gofer_fscache [%s]: ops %ld; umount %d, live dentries %ld inodes %ld files %ld fs %ld, diod %s, "
	       "inconsistent %ld, host mismatches %ld\n",
	       opts, n_ops, urc, live.dentries, live.inodes, live.files, live.filesystems, reaped ? "reaped" : "NOT reaped",
	       n_bad, hbad);
	nftw(host, diod_rm_one, 8, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < NWORK; i++)
		free(workers[i].want), free(workers[i].got);
	return urc || drc || live.dentries || live.inodes || live.files || live.filesystems || !reaped || n_bad || hbad ||
	       n_ops < 100;
}

int main(void)
{
	const char *secs_env = getenv("STRESS_SECONDS");
	int secs = secs_env ? atoi(secs_env) : 6;
	/* fscache with a page cache bound of four pages (eviction and
	 * write-back of other threads' files all the time), then
	 * fscache_writethrough. */
	int rc = run("cache=fscache,pcache_max=256k", secs);
	rc |= run("cache=fscache_writethrough", secs);
	return rc;
}
