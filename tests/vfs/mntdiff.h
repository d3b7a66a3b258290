/* tests/vfs/mntdiff.h — a differential runner for mount moves and
 * remounts: one table of steps run (a) by the host kernel in a forked child
 * with a private mount namespace, on a fresh tmpfs under /tmp whose path
 * prefixes every step's path, and (b) by a uvfs backend (the core calls in
 * tests/vfs, the syscall layer in tests/sandbox) on the fixture's tree.
 * Each step's result (0 or -errno) must be equal, and so must the mount
 * lists (mountinfo lines reduced to point, per-mount flags, type and the
 * superblock's ro/rw, size=, nr_inodes=, mode=; sorted). */
#pragma once

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	M_END,
	M_MKDIR, /* p */
	M_FILE, /* p: an empty file */
	M_MOUNT, /* p a=MS_* flags data: tmpfs */
	M_BIND, /* p=src p2=dst a=MS_REC or 0 */
	M_MOVE, /* p=from p2=to */
	M_REMOUNT, /* p a=MS_* flags (MS_REMOUNT added; MS_BIND: per-mount only) data */
	M_MSFLAGS, /* p a=raw mount(2) flags (propagation), NULL source/type/data */
	M_UMOUNT, /* p a=umount2 flags */
	M_OPENW, /* p slot: O_CREAT|O_RDWR, write "x", keep it open */
	M_CLOSE, /* slot */
	M_FREAD, /* slot: pread of the kept file: ret = bytes */
	M_WRITE, /* p: create a file and close it */
	M_CAT, /* p: bytes read */
	M_STATMODE, /* p: data = st_mode in octal */
	M_LIST, /* data = the reduced mount list */
	M_STATFS, /* p: data = "ro" or "rw" from statfs's ST_RDONLY */
};

struct mstep {
	int op;
	const char *p, *p2, *data;
	unsigned long a;
	int slot;
	int line;
};
#define MS_(o, ...) { .op = (o), ##__VA_ARGS__, .line = __LINE__ }
#define MS_END_ { .op = M_END }
#define MSTEPS 64
#define MDATA 512

struct mres {
	long ret;
	char data[MDATA];
};

/* mountinfo text -> "point mntopts | type superopts;..." sorted; prefix is
 * stripped from points (others are skipped). */
static inline int md_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static inline bool md_keep(const char *o, bool super)
{
	if (!strcmp(o, "ro") || !strcmp(o, "rw"))
		return true;
	if (!super)
		return !strcmp(o, "nosuid") || !strcmp(o, "nodev") || !strcmp(o, "noexec") || !strcmp(o, "noatime");
	return !strncmp(o, "size=", 5) || !strncmp(o, "nr_inodes=", 10) || !strncmp(o, "mode=", 5);
}
static inline void md_opts(char *dst, size_t len, const char *src, bool super)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", src);
	size_t n = 0;
	dst[0] = 0;
	for (char *sv, *o = strtok_r(buf, ",", &sv); o; o = strtok_r(NULL, ",", &sv))
		if (md_keep(o, super))
			n += (size_t)snprintf(dst + n, len > n ? len - n : 0, "%s%s", n ? "," : "", o);
}
static inline void md_reduce(const char *text, const char *prefix, char *out, size_t outlen)
{
	char *lines[64];
	int k = 0;
	size_t plen = strlen(prefix);
	char *copy = strdup(text);
	for (char *sv, *l = strtok_r(copy, "\n", &sv); l && k < 64; l = strtok_r(NULL, "\n", &sv)) {
		char *f[16];
		int nf = 0;
		for (char *sv2, *t = strtok_r(l, " ", &sv2); t && nf < 16; t = strtok_r(NULL, " ", &sv2))
			f[nf++] = t;
		int dash = 0;
		for (int i = 6; i < nf; i++)
			if (!strcmp(f[i], "-")) {
				dash = i;
				break;
			}
		if (nf < 10 || !dash || dash + 3 >= nf + 1 || strncmp(f[4], prefix, plen) ||
		    (f[4][plen] && f[4][plen] != '/'))
			continue;
		char mo[128], so[256];
		md_opts(mo, sizeof(mo), f[5], false);
		md_opts(so, sizeof(so), dash + 3 < nf ? f[dash + 3] : "", true);
		char *line;
		if (asprintf(&line, "%s %s | %s %s", f[4][plen] ? f[4] + plen : "/", mo, f[dash + 1], so) < 0)
			break;
		lines[k++] = line;
	}
	free(copy);
	qsort(lines, (size_t)k, sizeof(lines[0]), md_cmp);
	size_t n = 0;
	out[0] = 0;
	for (int i = 0; i < k; i++) {
		n += (size_t)snprintf(out + n, outlen > n ? outlen - n : 0, "%s;", lines[i]);
		free(lines[i]);
	}
}

/* ------------------------------------------------------------ host side */

static inline long md_sys(long r) { return r < 0 ? -errno : r; }

static inline void md_host_step(const char *d, const struct mstep *s, struct mres *r, int *slots)
{
	char p[512], p2[512];
	snprintf(p, sizeof(p), "%s%s", d, s->p ? s->p : "");
	snprintf(p2, sizeof(p2), "%s%s", d, s->p2 ? s->p2 : "");
	char buf[64];
	switch (s->op) {
	case M_MKDIR:
		r->ret = md_sys(mkdir(p, 0755));
		break;
	case M_FILE:
	case M_WRITE: {
		int fd = (int)md_sys(open(p, O_CREAT | O_WRONLY, 0644));
		r->ret = fd < 0 ? fd : md_sys(close(fd));
		break;
	}
	case M_MOUNT:
		r->ret = md_sys(mount("none", p, "tmpfs", s->a, s->data));
		break;
	case M_BIND:
		r->ret = md_sys(mount(p, p2, NULL, MS_BIND | s->a, NULL));
		break;
	case M_MOVE:
		r->ret = md_sys(mount(p, p2, NULL, MS_MOVE, NULL));
		break;
	case M_REMOUNT:
		r->ret = md_sys(mount(NULL, p, NULL, MS_REMOUNT | s->a, s->data));
		break;
	case M_MSFLAGS:
		r->ret = md_sys(mount(NULL, p, NULL, s->a, NULL));
		break;
	case M_UMOUNT:
		r->ret = md_sys(umount2(p, (int)s->a));
		break;
	case M_OPENW: {
		int fd = (int)md_sys(open(p, O_CREAT | O_RDWR, 0644));
		r->ret = fd < 0 ? fd : md_sys(write(fd, "x", 1)) == 1 ? 0 : -EIO;
		slots[s->slot] = fd;
		break;
	}
	case M_CLOSE:
		r->ret = md_sys(close(slots[s->slot]));
		break;
	case M_FREAD:
		r->ret = md_sys(pread(slots[s->slot], buf, sizeof(buf), 0));
		break;
	case M_CAT: {
		int fd = (int)md_sys(open(p, O_RDONLY));
		r->ret = fd < 0 ? fd : md_sys(read(fd, buf, sizeof(buf)));
		if (fd >= 0)
			close(fd);
		break;
	}
	case M_STATMODE: {
		struct stat st;
		r->ret = md_sys(stat(p, &st));
		if (!r->ret)
			snprintf(r->data, MDATA, "%o", st.st_mode);
		break;
	}
	case M_STATFS: {
		struct statfs sf;
		r->ret = md_sys(statfs(p, &sf));
		if (!r->ret)
			snprintf(r->data, MDATA, "%s", (sf.f_flags & ST_RDONLY) ? "ro" : "rw");
		break;
	}
	case M_LIST: {
		FILE *f = fopen("/proc/self/mountinfo", "r");
		char text[16384];
		size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
		text[n] = 0;
		if (f)
			fclose(f);
		md_reduce(text, d, r->data, MDATA);
		break;
	}
	default:
		r->ret = -9999;
	}
}

static inline void md_run_host(const struct mstep *st, int n, struct mres *out)
{
	struct mres *shm = mmap(NULL, sizeof(struct mres) * (size_t)n, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(shm != MAP_FAILED);
	char d[] = "/tmp/mntdiff.XXXXXX";
	cr_assert_not_null(mkdtemp(d));
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("none", d, "tmpfs", 0, "mode=1777"))
			_exit(11);
		int slots[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };
		for (int i = 0; i < n; i++) {
			memset(&shm[i], 0, sizeof(shm[i]));
			md_host_step(d, &st[i], &shm[i], slots);
		}
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	rmdir(d);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "host child failed (status %#x)", status);
	memcpy(out, shm, sizeof(struct mres) * (size_t)n);
	munmap(shm, sizeof(struct mres) * (size_t)n);
}

/* The uvfs side: one call per step, results as the host's. */
typedef void (*md_backend)(void *ctx, const struct mstep *s, struct mres *r);

static inline void md_diff(const struct mstep *st, md_backend uv, void *ctx)
{
	static struct mres h[MSTEPS], u[MSTEPS];
	int n = 0;
	while (st[n].op != M_END)
		n++;
	cr_assert(n < MSTEPS);
	md_run_host(st, n, h);
	for (int i = 0; i < n; i++) {
		memset(&u[i], 0, sizeof(u[i]));
		uv(ctx, &st[i], &u[i]);
	}
	for (int i = 0; i < n; i++)
		cr_expect(h[i].ret == u[i].ret && !strcmp(h[i].data, u[i].data),
			  "step at line %d: kernel %ld \"%s\", uvfs %ld \"%s\"", st[i].line, h[i].ret, h[i].data,
			  u[i].ret, u[i].data);
}
