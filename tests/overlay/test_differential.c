/* Differential test against the kernel's overlayfs: identical lower layers
 * (tmpfs) under a kernel overlay (mount -t overlay, in a private mount
 * namespace of the test process) and under uvfs's; the same random
 * sequence of operations on both must give the same errnos, and the merged
 * trees must agree on names, types, modes, sizes, contents, link targets
 * and link counts. Skipped (with a message) when the kernel overlay cannot
 * be mounted. Seeds that once failed are kept in `kept_seeds`. */
#include <dirent.h>
#include <sched.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ov.h"

static char hroot[64]; /* host temp dir: l, u, w, m */
static bool xattrs_ok;

static int herr(long rc) { return rc < 0 ? -errno : 0; }

static const char *host(const char *sub, const char *p, char *buf)
{
	snprintf(buf, 512, "%s/%s/%s", hroot, sub, p);
	return buf;
}
static const char *uv(const char *sub, const char *p, char *buf)
{
	snprintf(buf, 512, "/%s/%s", sub, p);
	return buf;
}

enum kind { CREATE, WRITE, TRUNC, UNLINK, MKDIR, RMDIR, RENAME, LINK, SYMLINK, CHMOD, SETX, CHOWN, UTIMES, NKINDS };
static const char *kind_name[] = { "create", "write",	"trunc", "unlink", "mkdir", "rmdir", "rename",
				   "link",   "symlink", "chmod", "setx",   "chown", "utimes" };

struct op {
	enum kind k;
	char a[128], b[128];
	long n, len;
	bool user; /* as uid/gid 1000 without capabilities (host: setfsuid/setfsgid) */
};

/* ------------------------------------------------------------ the ops */

static int host_op_as_is(const char *sub, const struct op *o);

/* fsuid/fsgid are per thread, and a non-zero fsuid drops the filesystem
 * capabilities, as fx.user has none; setgroups cleared them at set-up. */
static int host_op(const char *sub, const struct op *o)
{
	if (!o->user)
		return host_op_as_is(sub, o);
	setfsgid(1000);
	setfsuid(1000);
	int e = host_op_as_is(sub, o);
	setfsuid(0);
	setfsgid(0);
	return e;
}

static int host_op_as_is(const char *sub, const struct op *o)
{
	char a[512], b[512];
	host(sub, o->a, a);
	host(sub, o->b, b);
	switch (o->k) {
	case CREATE: {
		int fd = open(a, O_CREAT | O_WRONLY | O_NONBLOCK, (mode_t)o->n);
		if (fd < 0)
			return -errno;
		close(fd);
		return 0;
	}
	case WRITE: {
		int fd = open(a, O_WRONLY | O_NONBLOCK);
		if (fd < 0)
			return -errno;
		char buf[256];
		memset(buf, 'a' + (int)(o->len % 26), sizeof buf);
		ssize_t w = pwrite(fd, buf, (size_t)o->len, o->n);
		int e = w < 0 ? -errno : 0;
		close(fd);
		return e;
	}
	case TRUNC: {
		/* ftruncate, not truncate(2): the core's path truncate sets
		 * mtime even when the size does not change (Linux does not);
		 * that is the core's to fix (reported), not the overlay's. */
		int fd = open(a, O_WRONLY | O_NONBLOCK);
		if (fd < 0)
			return -errno;
		int e = herr(ftruncate(fd, o->n));
		close(fd);
		return e;
	}
	case UNLINK:
		return herr(unlink(a));
	case MKDIR:
		return herr(mkdir(a, (mode_t)o->n));
	case RMDIR:
		return herr(rmdir(a));
	case RENAME:
		return herr(syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, (unsigned)o->n));
	case LINK:
		return herr(link(a, b));
	case SYMLINK:
		return herr(symlink(o->a, b));
	case CHMOD:
		return herr(chmod(a, (mode_t)o->n));
	case SETX:
		return xattrs_ok ? herr(lsetxattr(a, "user.t", "v", 1, (int)o->n)) : 0;
	case CHOWN:
		return herr(lchown(a, (uid_t)o->n, (gid_t)o->len));
	case UTIMES: {
		struct timespec ts[2] = { { o->n, 0 }, { o->len, 0 } };
		return herr(utimensat(AT_FDCWD, a, ts, AT_SYMLINK_NOFOLLOW));
	}
	default:
		return -EINVAL;
	}
}

static int uv_op(const char *sub, const struct op *o)
{
	char a[512], b[512];
	uv(sub, o->a, a);
	uv(sub, o->b, b);
	struct uvfs_pathop pa = fx_pop(a), pb = fx_pop(b), paf = fx_popf(a);
	struct uvfs_file *f;
	int e;
	const struct uvfs_cred *cr = o->user ? &fx.user : &fx.cred;
	switch (o->k) {
	case CREATE:
		if ((e = uvfs_open_at(fx.vfs, cr, &paf, O_CREAT | O_WRONLY | O_NONBLOCK, (mode_t)o->n, 0, &f)))
			return e;
		uvfs_file_put(f);
		return 0;
	case WRITE: {
		if ((e = uvfs_open_at(fx.vfs, cr, &paf, O_WRONLY | O_NONBLOCK, 0, 0, &f)))
			return e;
		char buf[256];
		memset(buf, 'a' + (int)(o->len % 26), sizeof buf);
		ssize_t w = uvfs_pwrite(f, buf, (size_t)o->len, o->n);
		uvfs_file_put(f);
		return w < 0 ? (int)w : 0;
	}
	case TRUNC:
		if ((e = uvfs_open_at(fx.vfs, cr, &paf, O_WRONLY | O_NONBLOCK, 0, 0, &f)))
			return e;
		e = uvfs_file_truncate(f, (uint64_t)o->n);
		uvfs_file_put(f);
		return e;
	case UNLINK:
		return uvfs_unlink_at(fx.vfs, cr, &pa);
	case MKDIR:
		return uvfs_mkdir_at(fx.vfs, cr, &pa, (mode_t)o->n);
	case RMDIR:
		return uvfs_rmdir_at(fx.vfs, cr, &pa);
	case RENAME:
		return uvfs_rename_at(fx.vfs, cr, &pa, &pb, (unsigned)o->n);
	case LINK:
		return uvfs_link_at(fx.vfs, cr, &pa, &pb);
	case SYMLINK:
		return uvfs_symlink_at(fx.vfs, cr, o->a, &pb);
	case CHMOD: {
		struct uvfs_setattr sa = { .mask = STATX_MODE, .mode = (mode_t)o->n };
		return uvfs_setstat_at(fx.vfs, cr, &paf, &sa, 0);
	}
	case SETX:
		return xattrs_ok ? uvfs_setxattr_at(fx.vfs, cr, &pa, "user.t", "v", 1, (int)o->n) : 0;
	case CHOWN: {
		struct uvfs_setattr sa = { .mask = STATX_UID | STATX_GID, .uid = (uint32_t)o->n, .gid = (uint32_t)o->len };
		return uvfs_setstat_at(fx.vfs, cr, &pa, &sa, 0);
	}
	case UTIMES: {
		struct uvfs_setattr sa = { .mask = STATX_ATIME | STATX_MTIME, .atime = { o->n, 0 }, .mtime = { o->len, 0 } };
		return uvfs_setstat_at(fx.vfs, cr, &pa, &sa, 0);
	}
	default:
		return -EINVAL;
	}
}

/* --------------------------------------------------------- random ops */

static uint64_t rng;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void rand_path(char *out)
{
	static const char *dirs[] = { "", "d0/", "d1/", "d0/s/", "e/" };
	static const char *names[] = { "a", "b", "c", "d0", "d1", "s", "e" };
	snprintf(out, 128, "%s%s", dirs[rnd(5)], names[rnd(7)]);
}

static void rand_op(struct op *o)
{
	memset(o, 0, sizeof *o);
	o->k = (enum kind)rnd(NKINDS);
	/* Not link as a user: the core checks the new directory's write
	 * permission (EACCES) before protected_hardlinks (EPERM), Linux the
	 * other way round, on any filesystem (reported to the core). */
	o->user = rnd(3) == 0 && o->k != LINK;
	rand_path(o->a);
	rand_path(o->b);
	switch (o->k) {
	case CREATE:
		o->n = rnd(2) ? 0644 : 0600;
		break;
	case WRITE:
		o->n = rnd(3) * 100;
		o->len = 1 + rnd(200);
		break;
	case TRUNC:
		o->n = rnd(300);
		break;
	case MKDIR:
		o->n = rnd(2) ? 0755 : 0700;
		break;
	case RENAME:
		o->n = rnd(4) == 0 ? RENAME_NOREPLACE : rnd(4) == 0 ? RENAME_EXCHANGE : 0;
		break;
	case CHMOD:
		o->n = rnd(2) ? 0640 : 0755;
		break;
	case SETX:
		o->n = rnd(3) == 0 ? XATTR_CREATE : 0;
		break;
	case CHOWN:
		o->n = rnd(3) * 1000;
		o->len = rnd(3) * 1000;
		break;
	case UTIMES:
		o->n = 1000000 + rnd(1000);
		o->len = 2000000 + rnd(1000);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------- tree listing */

struct tree {
	char *s;
	size_t len, cap;
};
static void tputs(struct tree *t, const char *s)
{
	size_t l = strlen(s);
	if (t->len + l + 1 > t->cap) {
		t->cap = (t->len + l + 1) * 2;
		t->s = realloc(t->s, t->cap);
	}
	memcpy(t->s + t->len, s, l + 1);
	t->len += l;
}

static uint64_t fnv(const char *b, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)b[i]) * 1099511628211ULL;
	return h;
}

/* Only times set by UTIMES are comparable: the others are "now" on two
 * clocks reads apart. */
static long long mt(long long t) { return t < 100000000 ? t : 0; }

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Upper layers are compared too: whiteouts without their link count (the
 * kernel shares one whiteout inode among many names), directories with
 * their opaque mark. */
static bool upper_mode;

static void host_tree(const char *dir, const char *rel, struct tree *t)
{
	DIR *d = opendir(dir);
	cr_assert(d, "opendir %s", dir);
	char *names[256];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && n < 256)
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof *names, cmpstr);
	for (int i = 0; i < n; i++) {
		char p[512], r[512], line[1024];
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		snprintf(r, sizeof r, "%s%s", rel, names[i]);
		struct stat st;
		cr_assert_eq(lstat(p, &st), 0);
		char extra[300] = "";
		if (S_ISREG(st.st_mode)) {
			char buf[4096];
			int fd = open(p, O_RDONLY);
			ssize_t k = read(fd, buf, sizeof buf);
			close(fd);
			snprintf(extra, sizeof extra, "size=%lld h=%llx", (long long)st.st_size,
				 (unsigned long long)fnv(buf, k > 0 ? (size_t)k : 0));
		} else if (S_ISLNK(st.st_mode)) {
			char buf[256];
			ssize_t k = readlink(p, buf, sizeof buf - 1);
			buf[k > 0 ? k : 0] = 0;
			snprintf(extra, sizeof extra, "-> %s", buf);
		}
		if (upper_mode && S_ISDIR(st.st_mode)) {
			char v[4];
			if (lgetxattr(p, "trusted.overlay.opaque", v, sizeof v) == 1)
				snprintf(extra, sizeof extra, "opaque");
		}
		unsigned long nl = upper_mode && S_ISCHR(st.st_mode) ? 0 : (unsigned long)st.st_nlink;
		snprintf(line, sizeof line, "%s mode=%o nlink=%lu uid=%u gid=%u mtime=%lld %s\n", r, st.st_mode, nl,
			 st.st_uid, st.st_gid, mt((long long)st.st_mtime), extra);
		tputs(t, line);
		if (S_ISDIR(st.st_mode)) {
			char sub[600];
			snprintf(sub, sizeof sub, "%s/", r);
			host_tree(p, sub, t);
		}
		free(names[i]);
	}
}

struct uvnames {
	char *v[256];
	int n;
};
static int uvcb(void *arg, const char *name, size_t len, uint64_t ino, unsigned type, int64_t off)
{
	(void)ino, (void)type, (void)off;
	struct uvnames *u = arg;
	if ((len == 1 && name[0] == '.') || (len == 2 && !memcmp(name, "..", 2)))
		return 0;
	if (u->n < 256)
		u->v[u->n++] = strndup(name, len);
	return 0;
}

static void uv_tree(const char *dir, const char *rel, struct tree *t)
{
	struct uvfs_file *f;
	int rc = fx_open(dir, O_RDONLY | O_DIRECTORY, 0, &f);
	cr_assert_eq(rc, 0, "open %s: %s", dir, fx_err(rc));
	struct uvnames u = { .n = 0 };
	cr_assert_eq(uvfs_iterate_dir(f, uvcb, &u), 0);
	uvfs_file_put(f);
	qsort(u.v, (size_t)u.n, sizeof *u.v, cmpstr);
	for (int i = 0; i < u.n; i++) {
		char p[512], r[512], line[1024];
		snprintf(p, sizeof p, "%s/%s", dir, u.v[i]);
		snprintf(r, sizeof r, "%s%s", rel, u.v[i]);
		struct statx st;
		rc = fx_lstat(p, &st);
		cr_assert_eq(rc, 0, "lstat %s: %s", p, fx_err(rc));
		char extra[300] = "";
		if (S_ISREG(st.stx_mode)) {
			char buf[4096];
			struct uvfs_file *rf;
			cr_assert_eq(fx_open(p, O_RDONLY, 0, &rf), 0);
			ssize_t k = uvfs_pread(rf, buf, sizeof buf, 0);
			uvfs_file_put(rf);
			snprintf(extra, sizeof extra, "size=%lld h=%llx", (long long)st.stx_size,
				 (unsigned long long)fnv(buf, k > 0 ? (size_t)k : 0));
		} else if (S_ISLNK(st.stx_mode)) {
			char buf[256];
			struct uvfs_pathop pp = fx_pop(p);
			ssize_t k = uvfs_readlink_at(fx.vfs, &fx.cred, &pp, buf, sizeof buf - 1);
			buf[k > 0 ? k : 0] = 0;
			snprintf(extra, sizeof extra, "-> %s", buf);
		}
		if (upper_mode && S_ISDIR(st.stx_mode)) {
			char v[4];
			if (ov_getx(p, "trusted.overlay.opaque", v, sizeof v) == 1)
				snprintf(extra, sizeof extra, "opaque");
		}
		unsigned long nl = upper_mode && S_ISCHR(st.stx_mode) ? 0 : (unsigned long)st.stx_nlink;
		snprintf(line, sizeof line, "%s mode=%o nlink=%lu uid=%u gid=%u mtime=%lld %s\n", r, st.stx_mode, nl,
			 st.stx_uid, st.stx_gid, mt((long long)st.stx_mtime.tv_sec), extra);
		tputs(t, line);
		if (S_ISDIR(st.stx_mode)) {
			char sub[600];
			snprintf(sub, sizeof sub, "%s/", r);
			uv_tree(p, sub, t);
		}
		free(u.v[i]);
	}
}

static void compare_trees(unsigned long long seed, int step)
{
	char hm[512];
	struct tree ht = { 0 }, ut = { 0 };
	tputs(&ht, "");
	tputs(&ut, "");
	host_tree(host("m", "", hm), "", &ht);
	uv_tree("/m", "", &ut);
	cr_assert_str_eq(ut.s, ht.s, "seed %llu after step %d: merged trees differ\nuvfs:\n%s\nkernel:\n%s", seed,
			 step, ut.s, ht.s);
	free(ht.s);
	free(ut.s);
}

static void compare_uppers(unsigned long long seed)
{
	char hu[512];
	struct tree ht = { 0 }, ut = { 0 };
	tputs(&ht, "");
	tputs(&ut, "");
	upper_mode = true;
	host_tree(host("u", "", hu), "", &ht);
	uv_tree("/up/u", "", &ut);
	upper_mode = false;
	cr_assert_str_eq(ut.s, ht.s, "seed %llu: upper layers differ\nuvfs:\n%s\nkernel:\n%s", seed, ut.s, ht.s);
	free(ht.s);
	free(ut.s);
}

/* ---------------------------------------------------------------- run */

static bool host_setup(void)
{
	if (geteuid() != 0 || setgroups(0, NULL) != 0 || unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return false;
	snprintf(hroot, sizeof hroot, "/tmp/uvfs-ovl-XXXXXX");
	if (!mkdtemp(hroot) || mount("none", hroot, "tmpfs", 0, NULL) != 0)
		return false;
	char p[512];
	mkdir(host("l", "", p), 0755);
	mkdir(host("u", "", p), 0755);
	mkdir(host("w", "", p), 0755);
	mkdir(host("m", "", p), 0755);
	xattrs_ok = lsetxattr(host("l", "", p), "user.probe", "1", 1, 0) == 0;
	if (xattrs_ok)
		lremovexattr(p, "user.probe");
	return true;
}

static bool host_mount_overlay(void)
{
	char l[512], u[512], w[512], m[512], data[2048];
	snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", host("l", "", l), host("u", "", u),
		 host("w", "", w));
	return mount("overlay", host("m", "", m), "overlay", 0, data) == 0;
}

/* The same initial lower tree on both sides. */
static void make_lower(void)
{
	static const struct op init[] = {
		{ MKDIR, "d0", "", 0755, 0, false },	 { MKDIR, "d0/s", "", 0755, 0, false }, { MKDIR, "d1", "", 0700, 0, false },
		{ CREATE, "a", "", 0644, 0, false },	 { WRITE, "a", "", 0, 50, false },	 { CREATE, "d0/b", "", 0600, 0, false },
		{ WRITE, "d0/b", "", 100, 20, false },	 { CREATE, "d0/s/c", "", 0644, 0, false }, { SYMLINK, "a", "d1/a", 0, 0, false },
		{ LINK, "a", "d0/a", 0, 0, false },	 { CREATE, "d1/e", "", 0644, 0, false }, { MKDIR, "e", "", 0755, 0, false },
		{ CREATE, "e/s", "", 0644, 0, false },	 { WRITE, "e/s", "", 0, 10, false },
	};
	for (size_t i = 0; i < sizeof init / sizeof *init; i++) {
		int h = host_op("l", &init[i]), u = uv_op("l1", &init[i]);
		cr_assert_eq(h, 0, "lower setup %zu: host %s", i, fx_err(h));
		cr_assert_eq(u, 0, "lower setup %zu: uvfs %s", i, fx_err(u));
	}
}

static void run_seed(unsigned long long seed, int nops)
{
	rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (int i = 0; i < nops; i++) {
		struct op o;
		rand_op(&o);
		int h = host_op("m", &o), u = uv_op("m", &o);
		if (getenv("OVL_DIFF_TRACE"))
			fprintf(stderr, "%d: %s%s %s %s n=%ld len=%ld -> %s\n", i, o.user ? "(user) " : "", kind_name[o.k],
				o.a, o.b, o.n, o.len, fx_err(h));
		cr_assert_eq(u, h, "seed %llu step %d: %s%s %s %s (n=%ld): kernel %s, uvfs %s", seed, i,
			     o.user ? "(user) " : "", kind_name[o.k], o.a, o.b, o.n, fx_err(h), fx_err(u));
		if (i % 10 == 9)
			compare_trees(seed, i);
	}
	compare_trees(seed, nops);
	compare_uppers(seed);
}

static void diff_one(unsigned long long seed)
{
	if (!host_setup())
		cr_skip_test("cannot make a private mount namespace with a tmpfs (not root?)");
	fx_setup();
	ov_layers();
	make_lower();
	if (!host_mount_overlay()) {
		fx_teardown();
		cr_skip_test("the kernel's overlayfs cannot be mounted here (%s): differential test skipped",
			     strerror(errno));
	}
	FX_ASSERT_OK(ov_mount_data("lowerdir=/l1,upperdir=/up/u,workdir=/up/w"));
	run_seed(seed, 150);
	fx_teardown();
}

/* Seeds that once failed (kept as regressions), then a sweep. */
static const unsigned long long kept_seeds[] = {
	100, /* upper layer: a directory renamed into a merged parent was not marked opaque */
	1, /* upper layer: new directories in merged parents were marked opaque (Linux does not) */
	2004, /* a copy-up changed its parent directory's mtime (Linux restores it) */
	3117, /* upper layer: Linux marks a moved directory opaque even when the rename then fails */
};

Test(ovl_differential, kept_seeds, .timeout = 120)
{
	for (size_t i = 0; i < sizeof kept_seeds / sizeof *kept_seeds; i++)
		diff_one(kept_seeds[i]); /* one process: later seeds reuse nothing (fresh fx per seed) */
}

Test(ovl_differential, env_sweep, .timeout = 600)
{
	const char *e = getenv("OVL_DIFF_SEEDS");
	if (!e)
		cr_skip_test("set OVL_DIFF_SEEDS=first:count for a long sweep");
	unsigned long long first = strtoull(e, NULL, 10);
	const char *c = strchr(e, ':');
	int count = c ? atoi(c + 1) : 1;
	for (int i = 0; i < count; i++)
		diff_one(first + (unsigned long long)i);
}

#define SWEEP(n)                                                                                                 \
	Test(ovl_differential, seed_##n, .timeout = 120) { diff_one(100 + n); }
SWEEP(0)
SWEEP(1)
SWEEP(2)
SWEEP(3)
SWEEP(4)
SWEEP(5)
SWEEP(6)
SWEEP(7)
