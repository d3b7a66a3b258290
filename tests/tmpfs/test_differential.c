/* Differential test: the same operations on the host's tmpfs (/dev/shm,
 * through syscalls) and on our tmpfs (through the uvfs API) must give the
 * same results (0 or the same errno) and leave trees that agree on type,
 * permissions, nlink, size and blocks of every entry, and on user xattrs.
 * Skipped when /dev/shm is not a tmpfs. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tt.h"

enum kind { MKDIR, WRITE, TRUNC, LINK, SYMLINK, MKNOD, RENAME, UNLINK, RMDIR, SETX, RMX, CREAT_EXCL, CHMOD, CHOWN };

struct op {
	enum kind k;
	const char *a, *b; /* paths (SYMLINK: a = target; SETX/RMX: b = name) */
	long n; /* mode, offset, size, flags or uid */
	long len; /* WRITE: length; CHOWN: gid */
};

static char host_dir[64];
/* Host tmpfs has user.* xattrs only from Linux 6.6 (Debian 12 runs 6.1):
 * without them, xattr steps are skipped on both sides. */
static bool xattrs_ok;

static int err(int rc) { return rc < 0 ? -errno : rc; }

static int host_op(const struct op *o)
{
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/%s", host_dir, o->a);
	snprintf(b, sizeof(b), "%s/%s", host_dir, o->b ? o->b : "");
	switch (o->k) {
	case MKDIR:
		return err(mkdir(a, (mode_t)o->n));
	case WRITE: {
		int fd = open(a, O_WRONLY | O_CREAT | O_NONBLOCK, 0644);
		if (fd < 0)
			return -errno;
		char *buf = malloc((size_t)o->len);
		memset(buf, 'w', (size_t)o->len);
		ssize_t n = pwrite(fd, buf, (size_t)o->len, o->n);
		int e = n < 0 ? -errno : 0;
		free(buf);
		close(fd);
		return e;
	}
	case TRUNC:
		return err(truncate(a, o->n));
	case LINK:
		return err(link(a, b));
	case SYMLINK:
		return err(symlink(o->a, b));
	case MKNOD:
		return err(mknod(a, (mode_t)o->n, 0));
	case RENAME:
		return err((int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, (unsigned)o->n));
	case UNLINK:
		return err(unlink(a));
	case RMDIR:
		return err(rmdir(a));
	case SETX:
		return xattrs_ok ? err(lsetxattr(a, o->b, "v", 1, (int)o->n)) : 0;
	case RMX:
		return xattrs_ok ? err(lremovexattr(a, o->b)) : 0;
	case CREAT_EXCL: {
		int fd = open(a, O_WRONLY | O_CREAT | O_EXCL, (mode_t)o->n);
		if (fd < 0)
			return -errno;
		close(fd);
		return 0;
	}
	case CHMOD:
		return err(chmod(a, (mode_t)o->n));
	case CHOWN:
		return err(lchown(a, (uid_t)o->n, (gid_t)o->len));
	}
	return -ENOSYS;
}

static int uvfs_op(const struct op *o)
{
	char a[512], b[512];
	snprintf(a, sizeof(a), "/%s", o->a);
	snprintf(b, sizeof(b), "/%s", o->b ? o->b : "");
	struct uvfs_pathop pa = fx_pop(a), pb = fx_pop(b);
	switch (o->k) {
	case MKDIR:
		return uvfs_mkdir_at(fx.vfs, &fx.cred, &pa, (mode_t)o->n);
	case WRITE: {
		struct uvfs_file *f;
		int rc = fx_open(a, O_WRONLY | O_CREAT | O_NONBLOCK, 0644, &f);
		if (rc)
			return rc;
		char *buf = malloc((size_t)o->len);
		memset(buf, 'w', (size_t)o->len);
		ssize_t n = uvfs_pwrite(f, buf, (size_t)o->len, o->n);
		free(buf);
		uvfs_file_put(f);
		return n < 0 ? (int)n : 0;
	}
	case TRUNC:
		return tt_truncate(a, (uint64_t)o->n);
	case LINK:
		return uvfs_link_at(fx.vfs, &fx.cred, &pa, &pb);
	case SYMLINK:
		return uvfs_symlink_at(fx.vfs, &fx.cred, o->a, &pb);
	case MKNOD:
		return uvfs_mknod_at(fx.vfs, &fx.cred, &pa, (mode_t)o->n, 0);
	case RENAME:
		return uvfs_rename_at(fx.vfs, &fx.cred, &pa, &pb, (unsigned)o->n);
	case UNLINK:
		return uvfs_unlink_at(fx.vfs, &fx.cred, &pa);
	case RMDIR:
		return uvfs_rmdir_at(fx.vfs, &fx.cred, &pa);
	case SETX:
		return xattrs_ok ? uvfs_setxattr_at(fx.vfs, &fx.cred, &pa, o->b, "v", 1, (int)o->n) : 0;
	case RMX:
		return xattrs_ok ? uvfs_removexattr_at(fx.vfs, &fx.cred, &pa, o->b) : 0;
	case CREAT_EXCL: {
		struct uvfs_file *f;
		int rc = fx_open(a, O_WRONLY | O_CREAT | O_EXCL, (mode_t)o->n, &f);
		if (!rc)
			uvfs_file_put(f);
		return rc;
	}
	case CHMOD:
		return fx_chmod(a, (mode_t)o->n);
	case CHOWN: {
		struct uvfs_setattr at = { .mask = 0 };
		if (o->n != -1) {
			at.mask |= STATX_UID;
			at.uid = (uint32_t)o->n;
		}
		if (o->len != -1) {
			at.mask |= STATX_GID;
			at.gid = (uint32_t)o->len;
		}
		return uvfs_setstat_at(fx.vfs, &fx.cred, &pa, &at, 0);
	}
	}
	return -ENOSYS;
}

/* ------------------------------------------------------- tree snapshots */

struct snap {
	char *lines[256];
	int n;
};

static void snap_add(struct snap *s, const char *path, unsigned mode, unsigned uid, unsigned gid, unsigned nlink,
		     unsigned long long size, unsigned long long blocks, const char *xattrs, const char *extra)
{
	cr_assert_lt(s->n, 256);
	/* Directory sizes are compared as well: Linux counts 20 bytes per entry. */
	if (asprintf(&s->lines[s->n++], "%s mode=%o owner=%u:%u nlink=%u size=%llu blocks=%llu xattrs=[%s] %s", path,
		     mode, uid, gid, nlink, size, blocks, xattrs, extra) < 0)
		cr_assert_fail("asprintf");
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* NUL-separated list → sorted, comma-separated user.* names. */
static void xlist(char *list, ssize_t n, char *out, size_t outlen)
{
	char *names[32];
	int k = 0;
	for (ssize_t off = 0; off < n && k < 32; off += (ssize_t)strlen(list + off) + 1)
		if (!strncmp(list + off, "user.", 5))
			names[k++] = list + off;
	qsort(names, (size_t)k, sizeof(names[0]), cmpstr);
	out[0] = 0;
	for (int i = 0; i < k; i++) {
		if (i)
			strncat(out, ",", outlen - strlen(out) - 1);
		strncat(out, names[i], outlen - strlen(out) - 1);
	}
}

/* FNV-1a of a file's bytes. */
static uint64_t fnv(uint64_t h, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)b[i]) * 0x100000001b3ULL;
	return h;
}

/* Content digest, SEEK_DATA/SEEK_HOLE from 0 and from 4096 (regular files)
 * or the target (symlinks). */
static void host_extra(const char *path, mode_t mode, char *out, size_t len)
{
	out[0] = 0;
	if (S_ISLNK(mode)) {
		char t[4096];
		ssize_t n = readlink(path, t, sizeof(t));
		snprintf(out, len, "target=%.*s", (int)(n > 0 ? n : 0), t);
	} else if (S_ISREG(mode)) {
		int fd = open(path, O_RDONLY);
		cr_assert_geq(fd, 0);
		char buf[65536];
		uint64_t h = 0xcbf29ce484222325ULL;
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			h = fnv(h, buf, (size_t)n);
		long d0 = (long)lseek(fd, 0, SEEK_DATA), h0 = (long)lseek(fd, 0, SEEK_HOLE);
		long d1 = (long)lseek(fd, 4096, SEEK_DATA), h1 = (long)lseek(fd, 4096, SEEK_HOLE);
		close(fd);
		snprintf(out, len, "fnv=%016llx data0=%ld hole0=%ld data1=%ld hole1=%ld", (unsigned long long)h, d0, h0,
			 d1, h1);
	}
}

static void uvfs_extra(const char *path, mode_t mode, char *out, size_t len)
{
	out[0] = 0;
	if (S_ISLNK(mode)) {
		char t[4096];
		struct uvfs_pathop p = fx_pop(path);
		ssize_t n = uvfs_readlink_at(fx.vfs, &fx.cred, &p, t, sizeof(t));
		snprintf(out, len, "target=%.*s", (int)(n > 0 ? n : 0), t);
	} else if (S_ISREG(mode)) {
		struct uvfs_file *f = tt_open(path, O_RDONLY, 0);
		char *buf = malloc(65536);
		uint64_t h = 0xcbf29ce484222325ULL;
		ssize_t n;
		while ((n = uvfs_read(f, buf, 65536)) > 0)
			h = fnv(h, buf, (size_t)n);
		free(buf);
		/* Linux returns -1/ENXIO; ours -ENXIO: print both as -1. */
		long d0 = (long)uvfs_seek(f, 0, SEEK_DATA), h0 = (long)uvfs_seek(f, 0, SEEK_HOLE);
		long d1 = (long)uvfs_seek(f, 4096, SEEK_DATA), h1 = (long)uvfs_seek(f, 4096, SEEK_HOLE);
		uvfs_file_put(f);
		snprintf(out, len, "fnv=%016llx data0=%ld hole0=%ld data1=%ld hole1=%ld", (unsigned long long)h,
			 d0 < 0 ? -1 : d0, h0 < 0 ? -1 : h0, d1 < 0 ? -1 : d1, h1 < 0 ? -1 : h1);
	}
}

static void host_walk(const char *rel, struct snap *s)
{
	char path[512];
	snprintf(path, sizeof(path), "%s%s", host_dir, rel);
	DIR *d = opendir(path);
	cr_assert_not_null(d, "opendir %s", path);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char crel[512], cpath[600];
		snprintf(crel, sizeof(crel), "%s/%s", rel, e->d_name);
		snprintf(cpath, sizeof(cpath), "%s%s", host_dir, crel);
		struct stat st;
		cr_assert_eq(lstat(cpath, &st), 0);
		char list[512], xs[512];
		ssize_t n = llistxattr(cpath, list, sizeof(list));
		xlist(list, n, xs, sizeof(xs));
		char extra[4200];
		host_extra(cpath, st.st_mode, extra, sizeof(extra));
		snap_add(s, crel, st.st_mode, st.st_uid, st.st_gid, (unsigned)st.st_nlink, (unsigned long long)st.st_size,
			 (unsigned long long)st.st_blocks, xs, extra);
		if (S_ISDIR(st.st_mode))
			host_walk(crel, s);
	}
	closedir(d);
}

struct names {
	char name[64][64];
	int n;
};
static int collect(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next)
{
	struct names *c = arg;
	if ((len == 1 && name[0] == '.') || (len == 2 && !memcmp(name, "..", 2)) || c->n >= 64)
		return 0;
	snprintf(c->name[c->n++], 64, "%.*s", (int)len, name);
	return 0;
}

static void uvfs_walk(const char *rel, struct snap *s)
{
	struct uvfs_file *f = tt_open(rel[0] ? rel : "/", O_RDONLY | O_DIRECTORY, 0);
	struct names *c = calloc(1, sizeof(*c));
	FX_ASSERT_OK(uvfs_iterate_dir(f, collect, c));
	uvfs_file_put(f);
	for (int i = 0; i < c->n; i++) {
		char crel[512];
		snprintf(crel, sizeof(crel), "%s/%s", rel, c->name[i]);
		struct statx st = tt_lstat(crel);
		char list[512], xs[512];
		struct uvfs_pathop p = fx_pop(crel);
		ssize_t n = uvfs_listxattr_at(fx.vfs, &fx.cred, &p, list, sizeof(list));
		xlist(list, n, xs, sizeof(xs));
		char extra[4200];
		uvfs_extra(crel, st.stx_mode, extra, sizeof(extra));
		snap_add(s, crel, st.stx_mode, st.stx_uid, st.stx_gid, st.stx_nlink, (unsigned long long)st.stx_size,
			 (unsigned long long)st.stx_blocks, xs, extra);
		if (S_ISDIR(st.stx_mode))
			uvfs_walk(crel, s);
	}
	free(c);
}

static void snap_free(struct snap *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->lines[i]);
	s->n = 0;
}

static void compare_trees(int step)
{
	struct snap h = { 0 }, u = { 0 };
	host_walk("", &h);
	uvfs_walk("", &u);
	qsort(h.lines, (size_t)h.n, sizeof(char *), cmpstr);
	qsort(u.lines, (size_t)u.n, sizeof(char *), cmpstr);
	static char hl[4400], ul[4400];
	bool same = true;
	for (int i = 0; same && (i < h.n || i < u.n); i++) {
		snprintf(hl, sizeof(hl), "%s", i < h.n ? h.lines[i] : "(none)");
		snprintf(ul, sizeof(ul), "%s", i < u.n ? u.lines[i] : "(none)");
		same = !strcmp(hl, ul);
	}
	snap_free(&h);
	snap_free(&u);
	cr_assert(same, "after step %d: uvfs \"%s\" vs host \"%s\"", step, ul, hl);
}

static void rm_rf(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		cr_log_warn("cleanup of %s failed", path);
}

static const char *long_target =
	"a-symlink-target-longer-than-one-hundred-and-twenty-seven-bytes-so-that-linux-tmpfs-stores-it-in-a-page-"
	"rather-than-inline-xxxxxxxxxxxxxxxxxxxx";

static const struct op script[] = {
	{ MKDIR, "d", 0, 0755, 0 },
	{ MKDIR, "d", 0, 0755, 0 }, /* EEXIST */
	{ MKDIR, "d/sub", 0, 0700, 0 },
	{ MKDIR, "e", 0, 01777, 0 },
	{ WRITE, "d/f", 0, 0, 100 },
	{ WRITE, "d/f", 0, 1 << 20, 1 }, /* sparse */
	{ WRITE, "d/g", 0, 4090, 10 }, /* across a page boundary */
	{ TRUNC, "d/f", 0, 5000, 0 },
	{ TRUNC, "d/f", 0, 3 << 20, 0 },
	{ TRUNC, "d/g", 0, 0, 0 },
	{ TRUNC, "d", 0, 0, 0 }, /* EISDIR */
	{ LINK, "d/f", "e/f2", 0, 0 },
	{ LINK, "d", "e/d2", 0, 0 }, /* EPERM */
	{ LINK, "d/f", "e/f2", 0, 0 }, /* EEXIST */
	{ SYMLINK, "f", "d/s", 0, 0 },
	{ SYMLINK, NULL, "d/long", 0, 0 }, /* long_target, filled in below */
	{ SYMLINK, "", "d/empty", 0, 0 }, /* ENOENT */
	{ MKNOD, "d/fifo", 0, S_IFIFO | 0640, 0 },
	{ MKNOD, "d/sock", 0, S_IFSOCK | 0600, 0 },
	{ CREAT_EXCL, "d/x", 0, 0600, 0 },
	{ CREAT_EXCL, "d/x", 0, 0600, 0 }, /* EEXIST */
	{ RMDIR, "d", 0, 0, 0 }, /* ENOTEMPTY */
	{ RMDIR, "d/f", 0, 0, 0 }, /* ENOTDIR */
	{ UNLINK, "d/sub", 0, 0, 0 }, /* EISDIR */
	{ RENAME, "d/sub", "e/sub", 0, 0 },
	{ RENAME, "e", "e/sub/inside", 0, 0 }, /* EINVAL */
	{ RENAME, "d/x", "d/g", 0, 0 }, /* replace a file */
	{ RENAME, "d/g", "e/f2", RENAME_NOREPLACE, 0 }, /* EEXIST */
	{ RENAME, "d/s", "e/sub", RENAME_EXCHANGE, 0 },
	{ RENAME, "e/none", "d/f", RENAME_EXCHANGE, 0 }, /* ENOENT */
	{ MKDIR, "e/empty", 0, 0755, 0 },
	{ MKDIR, "e/full", 0, 0755, 0 },
	{ WRITE, "e/full/z", 0, 0, 1 },
	{ RENAME, "d/s", "e/full", 0, 0 }, /* d/s is now the dir: ENOTEMPTY */
	{ RENAME, "d/s", "e/empty", 0, 0 }, /* replaces an empty dir */
	{ SETX, "d/f", "user.a", 0, 0 },
	{ SETX, "d/f", "user.a", XATTR_CREATE, 0 }, /* EEXIST */
	{ SETX, "d/f", "user.b", XATTR_REPLACE, 0 }, /* ENODATA */
	{ SETX, "e", "user.dir", 0, 0 },
	{ RMX, "d/f", "user.zz", 0, 0 }, /* ENODATA */
	{ UNLINK, "d/f", 0, 0, 0 }, /* e/f2 remains, nlink 1 */
	{ UNLINK, "e/full/z", 0, 0, 0 },
	{ RMDIR, "e/full", 0, 0, 0 },
	{ RMDIR, "e/sub", 0, 0, 0 }, /* e/sub is the symlink now: ENOTDIR */
	{ CHMOD, "e", 0, 02775, 0 },
	{ CHOWN, "e", 0, 0, 100 },
	{ MKDIR, "e/sg", 0, 0755, 0 }, /* inherits the group and S_ISGID */
	{ CREAT_EXCL, "e/sg/file", 0, 02755, 0 }, /* root is in no group 100 but has CAP_FSETID */
	{ CHMOD, "e/f2", 0, 06755, 0 },
	{ WRITE, "e/f2", 0, 0, 1 }, /* root (CAP_FSETID): bits stay */
	{ TRUNC, "e/f2", 0, 10, 0 },
	{ CHOWN, "e/f2", 0, 0, 0 }, /* any chown of a non-dir, even to the same ids, kills setuid/setgid(+x) */
	{ CHMOD, "e/f2", 0, 02745, 0 },
	{ CHOWN, "e/f2", 0, 5, 6 }, /* setgid without group x survives */
	{ CHMOD, "e/sg", 0, 06755, 0 },
	{ CHOWN, "e/sg", 0, 7, -1 }, /* directories keep their bits */
	{ LINK, "d/long", "e/long2", 0, 0 }, /* symlinks can be hard-linked */
	{ MKDIR, "e/sg/deeper", 0, 0700, 0 },
	{ RENAME, "e/sg", "d/moved", 0, 0 },
	/* A target that is an ancestor of the source: ENOTEMPTY before any type check. */
	{ RENAME, "d/moved/deeper", "d/moved", 0, 0 },
	{ RENAME, "d/moved/file", "d/moved", 0, 0 },
	{ RENAME, "d/moved/file", "d", 0, 0 },
	{ RENAME, "d/moved/file", "d/moved", RENAME_EXCHANGE, 0 }, /* exchange: EINVAL? the host decides */
};

/* Runs after the body even when an assertion failed. */
static void cleanup(void)
{
	if (host_dir[0])
		rm_rf(host_dir);
}

/* Directories of earlier runs killed by a timeout (no .fini then). */
static void remove_stale(void)
{
	DIR *d = opendir("/dev/shm");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int pid;
		char path[300];
		if (sscanf(e->d_name, "uvfs-diff-%d", &pid) == 1 && pid > 0 && kill(pid, 0) && errno == ESRCH) {
			snprintf(path, sizeof(path), "/dev/shm/%s", e->d_name);
			rm_rf(path);
		}
	}
	closedir(d);
}

/* The host directory and our fixture; skips without root or a tmpfs /dev/shm. */
static void host_setup(void)
{
	struct statfs sf;
	if (statfs("/dev/shm", &sf) || sf.f_type != 0x01021994 || geteuid() != 0)
		cr_skip_test("needs root and a tmpfs /dev/shm");
	remove_stale();
	snprintf(host_dir, sizeof(host_dir), "/dev/shm/uvfs-diff-%d", (int)getpid());
	umask(0);
	cr_assert_eq(mkdir(host_dir, 01777), 0);
	xattrs_ok = lsetxattr(host_dir, "user.probe", "1", 1, 0) == 0;
	if (xattrs_ok)
		lremovexattr(host_dir, "user.probe");
	else
		cr_log_warn("host tmpfs has no user xattrs (Linux < 6.6): xattr steps skipped");
	fx_setup();
}

Test(tmpfs_diff, same_results_as_host_tmpfs, .timeout = 60, .fini = cleanup)
{
	host_setup();
	for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		struct op o = script[i];
		if (o.k == SYMLINK && !o.a)
			o.a = long_target;
		int h = host_op(&o), u = uvfs_op(&o);
		cr_assert_eq(u, h, "step %zu (%d %s %s): uvfs %s, host %s", i, o.k, o.a, o.b ? o.b : "", fx_err(u),
			     fx_err(h));
		compare_trees((int)i);
	}
	fx_teardown();
}

/* ------------------------------------------------- random sequences */

static const char *names[] = { "a", "b", "c", "d", "d/a", "d/b", "d/d", "d/d/a", "e", "e/a", "d/d/d" };
#define NNAMES (sizeof(names) / sizeof(names[0]))
#define PICK(arr) (arr)[(size_t)rand() % (sizeof(arr) / sizeof((arr)[0]))]

static struct op random_op(void)
{
	static const long offs[] = { 0, 1, 4095, 8192, 1 << 20 }, lens[] = { 1, 100, 5000 };
	static const long sizes[] = { 0, 10, 4096, 5000, 1 << 20 };
	static const long modes[] = { 0755, 0700, 06755, 02775, 01777, 0644 };
	static const long rflags[] = { 0, 0, 0, RENAME_NOREPLACE, RENAME_EXCHANGE };
	/* Relative and never "..": the host side must not escape its directory. */
	static const char *targets[] = { "a", "d/a", "nowhere", "d", "e/a" };
	static const char *xnames[] = { "user.one", "user.two" };
	struct op o = { .a = names[(size_t)rand() % NNAMES], .b = names[(size_t)rand() % NNAMES] };
	switch (rand() % 14) {
	case 0:
	case 1:
		o.k = MKDIR;
		o.n = PICK(modes) & 07777;
		break;
	case 2:
	case 3:
		o.k = WRITE;
		o.n = PICK(offs);
		o.len = PICK(lens);
		break;
	case 4:
		o.k = TRUNC;
		o.n = PICK(sizes);
		break;
	case 5:
		o.k = LINK;
		break;
	case 6:
		o.k = SYMLINK;
		o.a = PICK(targets);
		break;
	case 7:
		o.k = MKNOD;
		o.n = (rand() % 2 ? S_IFIFO : S_IFREG) | 0644;
		break;
	case 8:
	case 9:
		o.k = RENAME;
		o.n = PICK(rflags);
		break;
	case 10:
		o.k = UNLINK;
		break;
	case 11:
		o.k = RMDIR;
		break;
	case 12:
		o.k = rand() % 2 ? CHMOD : CHOWN;
		o.n = o.k == CHMOD ? PICK(modes) : (rand() % 2 ? 0 : 5);
		o.len = rand() % 2 ? 0 : 100;
		break;
	default:
		o.k = rand() % 3 ? SETX : RMX;
		o.b = PICK(xnames);
		o.n = rand() % 3 == 0 ? XATTR_CREATE : 0;
		break;
	}
	return o;
}

static void run_random(unsigned seed, int steps)
{
	host_setup();
	srand(seed);
	for (int i = 0; i < steps; i++) {
		struct op o = random_op();
		int h = host_op(&o), u = uvfs_op(&o);
		if (getenv("DIFF_TRACE"))
			fprintf(stderr, "step %d: op %d a=%s b=%s n=%lo len=%ld -> %s\n", i, o.k, o.a, o.b ? o.b : "", o.n,
				o.len, fx_err(h));
		cr_assert_eq(u, h, "seed %u step %d (op %d a=%s b=%s n=%lo len=%ld): uvfs %s, host %s", seed, i, o.k,
			     o.a, o.b ? o.b : "", o.n, o.len, fx_err(u), fx_err(h));
		compare_trees(i);
	}
	fx_teardown();
}

Test(tmpfs_diff, random_sequence_seed1, .timeout = 120, .fini = cleanup) { run_random(1, 400); }
Test(tmpfs_diff, random_sequence_seed2, .timeout = 120, .fini = cleanup) { run_random(2, 400); }
Test(tmpfs_diff, random_sequence_seed3, .timeout = 120, .fini = cleanup) { run_random(3, 400); }
/* These two found the rename-onto-an-ancestor deadlock (b7da265). */
Test(tmpfs_diff, random_sequence_seed11, .timeout = 120, .fini = cleanup) { run_random(11, 600); }
Test(tmpfs_diff, random_sequence_seed27, .timeout = 120, .fini = cleanup) { run_random(27, 600); }
