/* test_direct.c — the direct 9p client (trans=direct, p9_direct.c): no fd
 * leaks, names that would leave the tree refused, host symlinks never
 * followed, ro refusing writes, and uvfs_file_host_fd (a real host fd on
 * direct mounts and through an overlay whose lower is one; -EOPNOTSUPP on
 * diod mounts and tmpfs). The gofer's own suites also run over trans=direct
 * with UVFS_GOFER_DIRECT=1. */
#include <dirent.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fixture.h"
#include "fsimpl/gofer/gofer.h"
#include "fsimpl/gofer/p9/p9.h"
#include "fsimpl/overlay/overlay.h"

static char host[64];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) { return remove(p); }

static const char *hp(const char *rel)
{
	static char b[4][256];
	static int k;
	char *s = b[k++ & 3];
	snprintf(s, 256, "%s/%s", host, rel);
	return s;
}

static void host_write(const char *rel, const char *data)
{
	FILE *f = fopen(hp(rel), "w");
	cr_assert_not_null(f, "host write %s", rel);
	fputs(data, f);
	fclose(f);
}

static void make_host(void)
{
	snprintf(host, sizeof(host), "/tmp/uvfs-direct-XXXXXX");
	cr_assert_not_null(mkdtemp(host));
	chmod(host, 0755);
	cr_assert_eq(mkdir(hp("sub"), 0755), 0);
	host_write("f", "host data\n");
	host_write("sub/g", "deeper\n");
	cr_assert_eq(symlink("/etc", hp("etc")), 0);
	cr_assert_eq(symlink("../../../../../../etc", hp("up")), 0);
}

static void rm_host(void) { nftw(host, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	cr_assert_not_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Mounts host at mnt over trans=direct (extra options after it). */
static int dmount(const char *mnt, const char *extra)
{
	int fd = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	char data[256];
	snprintf(data, sizeof(data), "trans=direct%s%s", *extra ? "," : "", extra);
	struct uvfs_gofer_internal in = { .hostfd = fd };
	struct uvfs_mount_opts o = { .data = data, .internal = &in };
	struct uvfs_pathop p = fx_popf(mnt);
	return uvfs_mount_at(fx.vfs, &fx.cred, host, &p, "9p", &o);
}

static void dsetup(void)
{
	fx_setup();
	cr_assert_eq(uvfs_register_fs_type(fx.vfs, &uvfs_gofer_type, UVFS_FS_USER_MOUNT), 0);
	make_host();
	fx_must_mkdir("/g", 0755);
}

static void dteardown(void)
{
	fx_teardown();
	rm_host();
}

static struct uvfs_p9_client *dconnect(bool ro, uint32_t *root)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(uvfs_p9_connect_direct(open(host, O_PATH | O_DIRECTORY | O_CLOEXEC), ro, &c), 0);
	cr_assert_eq(uvfs_p9_attach(c, "root", 0, "ignored", root, NULL), 0);
	return c;
}

/* ------------------------------------------------------------ fds */

Test(direct, no_fd_leak_after_walks_and_close, .timeout = 60)
{
	make_host();
	int before = count_fds();
	uint32_t root;
	struct uvfs_p9_client *c = dconnect(false, &root);
	for (int i = 0; i < 500; i++) {
		const char *names[] = { "sub", "g" };
		uint32_t f;
		cr_assert_eq(uvfs_p9_walk(c, root, 2, names, &f, NULL), 0);
		if (i % 2) {
			cr_assert_eq(uvfs_p9_lopen(c, f, O_RDONLY, NULL, NULL), 0);
			char buf[16];
			cr_assert_eq(uvfs_p9_read(c, f, 0, buf, sizeof(buf)), 7);
		}
		cr_assert_eq(uvfs_p9_clunk(c, f), 0);
		const char *bad[] = { "sub", "nope" };
		cr_assert_eq(uvfs_p9_walk(c, root, 2, bad, &f, NULL), -ENOENT); /* partial: nothing kept */
	}
	/* fids still open at close are closed by it */
	uint32_t f;
	cr_assert_eq(uvfs_p9_walk(c, root, 0, NULL, &f, NULL), 0);
	cr_assert_eq(uvfs_p9_lopen(c, f, O_RDONLY | O_DIRECTORY, NULL, NULL), 0);
	struct uvfs_p9_stats st;
	uvfs_p9_get_stats(c, &st);
	cr_assert_eq(st.fids_in_use, 2);
	cr_assert_gt(st.requests, 1000);
	cr_assert_eq(st.rounds, st.requests);
	uvfs_p9_close(c);
	cr_assert_eq(count_fds(), before, "host fds leaked");
	rm_host();
}

Test(direct, no_fd_leak_after_mount_and_umount, .timeout = 60)
{
	dsetup();
	for (int i = 0; i < 40; i++) {
		char rel[32];
		snprintf(rel, sizeof(rel), "sub/n%d", i);
		host_write(rel, "x");
	}
	int before = count_fds();
	for (int round = 0; round < 3; round++) {
		cr_assert_eq(dmount("/g", round ? "cache=remote_revalidating" : "cache=fscache"), 0);
		char list[2048];
		fx_list_dir("/g/sub", list, sizeof(list));
		cr_assert(strstr(list, "n39"));
		for (int i = 0; i < 40; i++) {
			char p[32];
			struct statx st;
			snprintf(p, sizeof(p), "/g/sub/n%d", i);
			cr_assert_eq(fx_stat(p, &st), 0);
		}
		char buf[32];
		cr_assert_eq(fx_read_file("/g/f", buf, sizeof(buf)), 10);
		cr_assert_eq(fx_write_file("/g/new", "made"), 0);
		cr_assert_eq(fx_umount("/g", 0), 0);
	}
	cr_assert_eq(count_fds(), before, "host fds leaked by mount/umount");
	dteardown();
}

/* A cached tree costs its directories' host fds, not one per file: a
 * walk of 10,000 files must not run into RLIMIT_NOFILE. */
Test(direct, cached_files_hold_no_host_fd, .timeout = 60)
{
	dsetup();
	cr_assert_eq(mkdir(hp("many"), 0755), 0);
	for (int i = 0; i < 300; i++) {
		char rel[32];
		snprintf(rel, sizeof(rel), "many/f%d", i);
		host_write(rel, "x");
	}
	cr_assert_eq(dmount("/g", "cache=fscache,dentry_cache_limit=100000"), 0);
	int before = count_fds();
	for (int i = 0; i < 300; i++) {
		char p[32];
		struct statx st;
		snprintf(p, sizeof(p), "/g/many/f%d", i);
		cr_assert_eq(fx_stat(p, &st), 0);
		cr_assert_eq(st.stx_size, 1);
	}
	int held = count_fds() - before;
	cr_assert_leq(held, 4, "300 cached files hold %d host fds", held);
	/* and they still work by name: read, host replacing one, xattrs */
	char buf[8];
	cr_assert_eq(fx_read_file("/g/many/f7", buf, sizeof(buf)), 1);
	struct uvfs_pathop p = fx_pop("/g/many/f8");
	cr_assert_eq(uvfs_setxattr_at(fx.vfs, &fx.cred, &p, "user.k", "v", 1, 0), 0);
	char v[4];
	cr_assert_eq(getxattr(hp("many/f8"), "user.k", v, sizeof(v)), 1);
	dteardown();
}

/* A directory larger than one getdents batch and than one Rreaddir:
 * every name exactly once, resuming from each batch's last cookie. */
struct rd_state {
	int seen[3000];
	int other;
	uint64_t last;
};

static int count_cb(void *arg, const struct uvfs_p9_dirent *de)
{
	struct rd_state *st = arg;
	int i;
	if (sscanf(de->name, "entry-with-a-rather-long-name-to-fill-batches-%d", &i) == 1 && i >= 0 && i < 3000)
		st->seen[i]++;
	else if (strcmp(de->name, ".") && strcmp(de->name, ".."))
		st->other++;
	st->last = de->offset;
	return 0;
}

Test(direct, readdir_of_a_large_directory, .timeout = 120)
{
	make_host();
	cr_assert_eq(mkdir(hp("big"), 0755), 0);
	for (int i = 0; i < 3000; i++) {
		char rel[96];
		snprintf(rel, sizeof(rel), "big/entry-with-a-rather-long-name-to-fill-batches-%d", i);
		int fd = open(hp(rel), O_CREAT | O_WRONLY, 0644);
		cr_assert_geq(fd, 0);
		close(fd);
	}
	uint32_t root, f;
	struct uvfs_p9_client *c = dconnect(true, &root);
	const char *n = "big";
	cr_assert_eq(uvfs_p9_walk(c, root, 1, &n, &f, NULL), 0);
	cr_assert_eq(uvfs_p9_lopen(c, f, O_RDONLY | O_DIRECTORY, NULL, NULL), 0);
	static struct rd_state st;
	int calls = 0, got;
	while ((got = uvfs_p9_readdir(c, f, st.last, 8192, count_cb, &st)) > 0)
		calls++;
	cr_assert_eq(got, 0);
	cr_assert_gt(calls, 20, "8 KiB replies: %d calls", calls);
	for (int i = 0; i < 3000; i++)
		cr_assert_eq(st.seen[i], 1, "entry %d seen %d times", i, st.seen[i]);
	cr_assert_eq(st.other, 0);
	/* a big count: the whole directory in few calls */
	memset(&st, 0, sizeof(st));
	calls = 0;
	while ((got = uvfs_p9_readdir(c, f, st.last, 0, count_cb, &st)) > 0)
		calls++;
	cr_assert_leq(calls, 8);
	for (int i = 0; i < 3000; i++)
		cr_assert_eq(st.seen[i], 1, "entry %d seen %d times", i, st.seen[i]);
	uvfs_p9_clunk(c, f);
	uvfs_p9_clunk(c, root);
	uvfs_p9_close(c);
	rm_host();
}

/* ------------------------------------------------------------ names */

Test(direct, dot_names_and_slashes_are_refused, .timeout = 30)
{
	make_host();
	uint32_t root, f;
	struct uvfs_p9_client *c = dconnect(false, &root);
	const char *dd = "..", *d = ".", *sl = "sub/g";
	cr_assert_eq(uvfs_p9_walk(c, root, 1, &dd, &f, NULL), -ENOENT);
	cr_assert_eq(uvfs_p9_walk(c, root, 1, &d, &f, NULL), -ENOENT);
	cr_assert_eq(uvfs_p9_walk(c, root, 1, &sl, &f, NULL), -EINVAL);
	const char *up[] = { "sub", ".." };
	cr_assert_eq(uvfs_p9_walk(c, root, 2, up, &f, NULL), -ENOENT);
	cr_assert_eq(uvfs_p9_walk_path(c, root, "sub/../..", &f, NULL), -ENOENT);
	cr_assert_eq(uvfs_p9_mkdir(c, root, "..", 0755, 0, NULL), -EINVAL);
	cr_assert_eq(uvfs_p9_mkdir(c, root, "a/b", 0755, 0, NULL), -EINVAL);
	cr_assert_eq(uvfs_p9_renameat(c, root, "f", root, ".."), -EINVAL);
	cr_assert_eq(uvfs_p9_lcreate(c, root, "..", O_RDWR, 0644, 0, NULL, NULL), -EINVAL);
	/* bad fids are errors, not crashes */
	cr_assert_eq(uvfs_p9_walk(c, 12345, 0, NULL, &f, NULL), -EBADF);
	cr_assert_eq(uvfs_p9_clunk(c, 12345), -EBADF);
	cr_assert_eq(uvfs_p9_read(c, root, 0, &f, sizeof(f)), -EBADF); /* not opened */
	uvfs_p9_clunk(c, root);
	uvfs_p9_close(c);
	struct stat st;
	cr_assert_neq(stat("/tmp/..", &st), -1);
	rm_host();
}

Test(direct, host_symlinks_are_never_followed, .timeout = 30)
{
	make_host();
	uint32_t root, f;
	struct uvfs_p9_client *c = dconnect(false, &root);
	const char *through[] = { "etc", "passwd" };
	cr_assert_neq(uvfs_p9_walk(c, root, 2, through, &f, NULL), 0, "walked through a host symlink to /etc");
	const char *lnk = "etc";
	struct uvfs_p9_qid q;
	cr_assert_eq(uvfs_p9_walk(c, root, 1, &lnk, &f, &q), 0);
	cr_assert_eq(q.type, UVFS_P9_QTSYMLINK);
	cr_assert_eq(uvfs_p9_lopen(c, f, O_RDONLY, NULL, NULL), -ELOOP);
	char buf[64];
	cr_assert_eq(uvfs_p9_readlink(c, f, buf, sizeof(buf)), 4);
	cr_assert_str_eq(buf, "/etc");
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(c, f, UVFS_P9_GETATTR_BASIC, &a), 0);
	cr_assert(S_ISLNK(a.mode), "getattr followed the link");
	cr_assert_eq(uvfs_p9_host_fd(c, f), -EOPNOTSUPP);
	uvfs_p9_clunk(c, f);
	uvfs_p9_clunk(c, root);
	uvfs_p9_close(c);
	rm_host();
}

Test(direct, symlinks_resolve_inside_the_mount, .timeout = 30)
{
	dsetup();
	cr_assert_eq(dmount("/g", "cache=fscache"), 0);
	struct statx st;
	/* "/etc" and "../../.." resolve in uvfs's namespace, never the host's */
	cr_assert_eq(fx_stat("/g/etc/passwd", &st), -ENOENT);
	cr_assert_eq(fx_stat("/g/up/passwd", &st), -ENOENT);
	cr_assert_eq(fx_lstat("/g/etc", &st), 0);
	cr_assert(S_ISLNK(st.stx_mode));
	dteardown();
}

/* ------------------------------------------------------------ ro */

Test(direct, ro_refuses_every_write_with_erofs, .timeout = 30)
{
	dsetup();
	cr_assert_eq(dmount("/g", "cache=fscache,ro"), 0);
	char buf[32];
	cr_assert_eq(fx_read_file("/g/f", buf, sizeof(buf)), 10);
	cr_assert_eq(fx_write_file("/g/f", "changed"), -EROFS);
	cr_assert_eq(fx_write_file("/g/new", "x"), -EROFS);
	cr_assert_eq(fx_mkdir("/g/d", 0755), -EROFS);
	cr_assert_eq(fx_chmod("/g/f", 0600), -EROFS);
	struct uvfs_pathop p = fx_pop("/g/sub/g");
	cr_assert_eq(uvfs_unlink_at(fx.vfs, &fx.cred, &p), -EROFS);
	cr_assert_eq(uvfs_setxattr_at(fx.vfs, &fx.cred, &p, "user.k", "v", 1, 0), -EROFS);
	struct stat st;
	cr_assert_eq(stat(hp("f"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644, "host file changed");
	cr_assert_eq(st.st_size, 10);
	cr_assert_eq(stat(hp("new"), &st), -1);
	cr_assert_eq(stat(hp("sub/g"), &st), 0);
	dteardown();
}

Test(direct, ro_client_calls, .timeout = 30)
{
	make_host();
	uint32_t root, f;
	struct uvfs_p9_client *c = dconnect(true, &root);
	const char *n = "f";
	cr_assert_eq(uvfs_p9_walk(c, root, 1, &n, &f, NULL), 0);
	cr_assert_eq(uvfs_p9_lopen(c, f, O_RDWR, NULL, NULL), -EROFS);
	cr_assert_eq(uvfs_p9_lopen(c, f, O_RDONLY | O_TRUNC, NULL, NULL), -EROFS);
	struct uvfs_p9_setattr s = { .valid = UVFS_P9_SETATTR_SIZE, .size = 0 };
	cr_assert_eq(uvfs_p9_setattr(c, f, &s), -EROFS);
	cr_assert_eq(uvfs_p9_link(c, root, f, "f2"), -EROFS);
	cr_assert_eq(uvfs_p9_remove(c, f), -EROFS); /* and the fid is gone */
	cr_assert_eq(uvfs_p9_mknod(c, root, "p", S_IFIFO | 0644, 0, 0, 0, NULL), -EROFS);
	cr_assert_eq(uvfs_p9_symlink(c, root, "s", "t", 0, NULL), -EROFS);
	cr_assert_eq(uvfs_p9_renameat(c, root, "f", root, "g"), -EROFS);
	cr_assert_eq(uvfs_p9_unlinkat(c, root, "f", 0), -EROFS);
	cr_assert_eq(uvfs_p9_lcreate(c, root, "new", O_RDWR, 0644, 0, NULL, NULL), -EROFS);
	struct stat st;
	cr_assert_eq(stat(hp("f"), &st), 0);
	cr_assert_eq(st.st_size, 10);
	uvfs_p9_clunk(c, root);
	uvfs_p9_close(c);
	rm_host();
}

/* ------------------------------------------------------------ host fds */

static void check_host_fd(struct uvfs_file *f, const char *want)
{
	int hfd = uvfs_file_host_fd(f);
	cr_assert_geq(hfd, 0, "host fd: %s", strerror(-hfd));
	char buf[64] = { 0 };
	cr_assert_eq(pread(hfd, buf, sizeof(buf) - 1, 0), (ssize_t)strlen(want));
	cr_assert_str_eq(buf, want);
	cr_assert_eq(fcntl(hfd, F_GETFL) & O_ACCMODE, O_RDONLY);
	cr_assert(fcntl(hfd, F_GETFD) & FD_CLOEXEC);
	close(hfd);
}

Test(direct, host_fd_of_a_direct_file, .timeout = 30)
{
	dsetup();
	cr_assert_eq(dmount("/g", "cache=fscache"), 0);
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/sub/g", O_RDONLY, 0, &f), 0);
	check_host_fd(f, "deeper\n");
	uvfs_file_put(f);
	/* our cached writes reach the host file before it is handed out */
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &f), 0);
	cr_assert_eq(uvfs_pwrite(f, "HOST", 4, 0), 4);
	check_host_fd(f, "HOST data\n");
	uvfs_file_put(f);
	cr_assert_eq(fx_open("/g/sub", O_RDONLY | O_DIRECTORY, 0, &f), 0);
	cr_assert_eq(uvfs_file_host_fd(f), -EOPNOTSUPP);
	uvfs_file_put(f);
	dteardown();
}

Test(direct, host_fd_through_an_overlay, .timeout = 30)
{
	dsetup();
	cr_assert_eq(uvfs_register_fs_type(fx.vfs, &uvfs_overlay_type, UVFS_FS_USER_MOUNT), 0);
	cr_assert_eq(dmount("/g", "cache=fscache,ro"), 0);
	fx_must_mkdir("/u", 0755);
	cr_assert_eq(fx_mount_tmpfs("/u", NULL, 0), 0);
	fx_must_mkdir("/u/upper", 0755);
	fx_must_mkdir("/u/work", 0755);
	fx_must_mkdir("/o", 0755);
	struct uvfs_overlay_opts ov = { .root = fx.root };
	struct uvfs_mount_opts o = { .data = "lowerdir=/g,upperdir=/u/upper,workdir=/u/work", .internal = &ov };
	struct uvfs_pathop p = fx_popf("/o");
	cr_assert_eq(uvfs_mount_at(fx.vfs, &fx.cred, "overlay", &p, "overlay", &o), 0);
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/o/f", O_RDONLY, 0, &f), 0);
	check_host_fd(f, "host data\n"); /* lower-only: the host file */
	uvfs_file_put(f);
	cr_assert_eq(fx_write_file("/o/sub/g", "copied\n"), 0); /* copied up into tmpfs */
	cr_assert_eq(fx_open("/o/sub/g", O_RDONLY, 0, &f), 0);
	cr_assert_eq(uvfs_file_host_fd(f), -EOPNOTSUPP);
	uvfs_file_put(f);
	cr_assert_eq(fx_umount("/o", 0), 0);
	dteardown();
}

Test(direct, host_fd_is_eopnotsupp_on_diod_and_tmpfs, .timeout = 30)
{
	dsetup();
	int fd;
	struct uvfs_gofer_proc *proc;
	cr_assert_eq(uvfs_gofer_spawn(host, false, &fd, &proc), 0);
	char data[256];
	snprintf(data, sizeof(data), "trans=fd,rfdno=%d,wfdno=%d,aname=%s", fd, fd, host);
	struct uvfs_gofer_internal in = { .proc = proc };
	struct uvfs_mount_opts o = { .data = data, .internal = &in };
	struct uvfs_pathop p = fx_popf("/g");
	cr_assert_eq(uvfs_mount_at(fx.vfs, &fx.cred, host, &p, "9p", &o), 0);
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/f", O_RDONLY, 0, &f), 0);
	cr_assert_eq(uvfs_file_host_fd(f), -EOPNOTSUPP);
	uvfs_file_put(f);
	fx_must_write("/t", "tmpfs");
	cr_assert_eq(fx_open("/t", O_RDONLY, 0, &f), 0);
	cr_assert_eq(uvfs_file_host_fd(f), -EOPNOTSUPP);
	uvfs_file_put(f);
	dteardown();
}

/* ------------------------------------------------------------ options */

Test(direct, options, .timeout = 30)
{
	dsetup();
	struct uvfs_pathop p = fx_popf("/g");
	const char *bad[] = { "trans=direct", "trans=direct,hostfd=-1", "trans=fd,rfdno=900,wfdno=900,hostfd=3",
			      "trans=direct,hostfd=900,addr=x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct uvfs_mount_opts o = { .data = bad[i] };
		cr_assert_eq(uvfs_mount_at(fx.vfs, &fx.cred, host, &p, "9p", &o), -EINVAL, "%s", bad[i]);
	}
	/* hostfd= in the data string; a file is not a directory */
	int ffd = open(hp("f"), O_PATH | O_CLOEXEC);
	char data[64];
	snprintf(data, sizeof(data), "trans=direct,hostfd=%d", ffd);
	struct uvfs_mount_opts o = { .data = data };
	cr_assert_eq(uvfs_mount_at(fx.vfs, &fx.cred, host, &p, "9p", &o), -ENOTDIR);
	cr_assert_eq(fcntl(ffd, F_GETFD), -1, "the mount owns the fd even when it fails");
	int bfd = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(data, sizeof(data), "trans=direct,hostfd=%d,cache=sometimes", bfd);
	cr_assert_eq(uvfs_mount_at(fx.vfs, &fx.cred, host, &p, "9p", &o), -EINVAL);
	cr_assert_eq(fcntl(bfd, F_GETFD), -1, "a bad option still closes the mount's fd");
	bfd = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct uvfs_gofer_internal in = { .hostfd = bfd };
	struct uvfs_mount_opts oi = { .data = "trans=direct,bogus", .internal = &in };
	cr_assert_eq(uvfs_mount_at(fx.vfs, &fx.cred, host, &p, "9p", &oi), -EINVAL);
	cr_assert_eq(fcntl(bfd, F_GETFD), -1, "internal hostfd closed by a failed mount");
	int keep = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
	in.hostfd = keep;
	oi.data = "trans=fd,rfdno=900,wfdno=900,bogus";
	cr_assert_eq(uvfs_mount_at(fx.vfs, &fx.cred, host, &p, "9p", &oi), -EINVAL);
	cr_assert_geq(fcntl(keep, F_GETFD), 0, "hostfd is not another transport's to close");
	close(keep);
	int dfd = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(data, sizeof(data), "trans=direct,hostfd=%d,aname=/whatever", dfd);
	cr_assert_eq(uvfs_mount_at(fx.vfs, &fx.cred, host, &p, "9p", &o), 0);
	char buf[32];
	cr_assert_eq(fx_read_file("/g/f", buf, sizeof(buf)), 10);
	dteardown();
}
