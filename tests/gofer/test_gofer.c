/* tests/gofer/test_gofer.c — the "9p" filesystem against a real diod
 * (started by uvfs_gofer_spawn on a fresh host directory), mounted at /g
 * of the standard fixture. Each operation runs in cache=fscache and in
 * cache=remote_revalidating; host-side changes are made with plain
 * syscalls on the exported directory. */
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fixture.h"
#include "fsimpl/gofer/gofer.h"

static char host[64];
static pid_t diod_pid;


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

static void host_read(const char *rel, char *buf, size_t len)
{
	FILE *f = fopen(hp(rel), "r");
	cr_assert_not_null(f, "host read %s", rel);
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
}

/* Mounts a gofer of a fresh host dir at mnt ("/g"), options extra. */
static bool direct_mode(void)
{
	const char *e = getenv("UVFS_GOFER_DIRECT");
	return e && !strcmp(e, "1");
}

static int gmount_at(const char *mnt, const char *dir, const char *extra, pid_t *pid)
{
	int fd;
	struct uvfs_gofer_proc *proc = NULL;
	char data[512];
	if (direct_mode()) { /* UVFS_GOFER_DIRECT=1: the in-process client, no diod */
		if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			return -errno;
		if (pid)
			*pid = 0;
		snprintf(data, sizeof(data), "trans=direct%s%s", *extra ? "," : "", extra);
	} else {
		int err = uvfs_gofer_spawn(dir, false, &fd, &proc);
		if (err)
			return err;
		if (pid)
			*pid = uvfs_gofer_pid(proc);
		snprintf(data, sizeof(data), "trans=fd,rfdno=%d,wfdno=%d,aname=%s%s%s", fd, fd, dir, *extra ? "," : "",
			 extra);
	}
	struct uvfs_gofer_internal in = { .proc = proc, .hostfd = direct_mode() ? fd : -1 };
	struct uvfs_mount_opts o = { .data = data, .internal = &in };
	struct uvfs_pathop p = fx_popf(mnt);
	return uvfs_mount_at(fx.vfs, &fx.cred, dir, &p, "9p", &o);
}

static void gsetup(const char *opts)
{
	fx_setup();
	cr_assert_eq(uvfs_register_fs_type(fx.vfs, &uvfs_gofer_type, UVFS_FS_USER_MOUNT), 0);
	snprintf(host, sizeof(host), "/tmp/uvfs-gofer-XXXXXX");
	cr_assert_not_null(mkdtemp(host));
	chmod(host, 0755);
	fx_must_mkdir("/g", 0755);
	int err = gmount_at("/g", host, opts, &diod_pid);
	cr_assert_eq(err, 0, "mount: %s", strerror(-err));
}

static void gteardown(void)
{
	fx_teardown(); /* the fs goes, diod exits and is reaped */
	nftw(host, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* One test per cache mode for each body. */
#define BOTH(name)                                                                                               \
	static void body_##name(bool reval);                                                                     \
	Test(gofer_fscache, name, .timeout = 60)                                                                \
	{                                                                                                        \
		gsetup("cache=fscache");                                                                         \
		body_##name(false);                                                                              \
		gteardown();                                                                                     \
	}                                                                                                        \
	Test(gofer_reval, name, .timeout = 60)                                                                  \
	{                                                                                                        \
		gsetup("cache=remote_revalidating");                                                             \
		body_##name(true);                                                                               \
		gteardown();                                                                                     \
	}                                                                                                        \
	static void body_##name(bool reval)

BOTH(host_file_is_read)
{
	host_write("a.txt", "hello from the host\n");
	char buf[64];
	cr_assert_eq(fx_read_file("/g/a.txt", buf, sizeof(buf)), 20);
	cr_assert_str_eq(buf, "hello from the host\n");
	struct statx st;
	cr_assert_eq(fx_stat("/g/a.txt", &st), 0);
	cr_assert_eq(st.stx_size, 20);
	cr_assert(S_ISREG(st.stx_mode));
	struct stat hs;
	stat(hp("a.txt"), &hs);
	cr_assert_eq(st.stx_ino, hs.st_ino, "the server's qid path is the host inode");
	cr_assert_eq(fx_stat("/g/missing", &st), -ENOENT);
	cr_assert_eq(fx_stat("/g/a.txt/x", &st), -ENOTDIR);
}

BOTH(create_write_read)
{
	cr_assert_eq(fx_write_file("/g/new", "written through uvfs"), 0);
	char buf[64];
	host_read("new", buf, sizeof(buf));
	cr_assert_str_eq(buf, "written through uvfs");
	cr_assert_eq(fx_read_file("/g/new", buf, sizeof(buf)), 20);
	struct statx st;
	cr_assert_eq(fx_stat("/g/new", &st), 0);
	cr_assert_eq(st.stx_size, 20);
	cr_assert_eq(st.stx_mode & 07777, 0644);
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/new", O_CREAT | O_EXCL | O_WRONLY, 0600, &f), -EEXIST);
	/* O_APPEND and O_TRUNC */
	cr_assert_eq(fx_open("/g/new", O_WRONLY | O_APPEND, 0, &f), 0);
	cr_assert_eq(uvfs_write(f, "!", 1), 1);
	uvfs_file_put(f);
	host_read("new", buf, sizeof(buf));
	cr_assert_str_eq(buf, "written through uvfs!");
	cr_assert_eq(fx_open("/g/new", O_WRONLY | O_TRUNC, 0, &f), 0);
	cr_assert_eq(uvfs_fsync(f, false), 0);
	uvfs_file_put(f);
	struct stat hs;
	stat(hp("new"), &hs);
	cr_assert_eq(hs.st_size, 0);
	cr_assert_eq(fx_stat("/g/new", &st), 0);
	cr_assert_eq(st.stx_size, 0);
}

BOTH(big_file_round_trip)
{
	size_t len = 1 << 20;
	char *buf = malloc(len), *back = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(i * 131 + (i >> 9));
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/big", O_CREAT | O_RDWR, 0644, &f), 0);
	cr_assert_eq(uvfs_pwrite(f, buf, len, 0), (ssize_t)len);
	cr_assert_eq(uvfs_pread(f, back, len, 0), (ssize_t)len);
	cr_assert_eq(memcmp(buf, back, len), 0);
	uvfs_file_put(f);
	struct stat hs;
	stat(hp("big"), &hs);
	cr_assert_eq(hs.st_size, (off_t)len);
	free(buf);
	free(back);
}

BOTH(mkdir_rmdir_unlink)
{
	cr_assert_eq(fx_mkdir("/g/d", 0750), 0);
	struct stat hs;
	cr_assert_eq(stat(hp("d"), &hs), 0);
	cr_assert(S_ISDIR(hs.st_mode));
	cr_assert_eq(hs.st_mode & 07777, 0750);
	cr_assert_eq(fx_mkdir("/g/d", 0750), -EEXIST);
	cr_assert_eq(fx_write_file("/g/d/f", "x"), 0);
	struct uvfs_pathop p = fx_pop("/g/d");
	cr_assert_eq(uvfs_rmdir_at(fx.vfs, &fx.cred, &p), -ENOTEMPTY);
	struct uvfs_pathop pf = fx_pop("/g/d/f");
	cr_assert_eq(uvfs_unlink_at(fx.vfs, &fx.cred, &pf), 0);
	cr_assert_eq(stat(hp("d/f"), &hs), -1);
	struct statx st;
	cr_assert_eq(fx_lstat("/g/d/f", &st), -ENOENT);
	cr_assert_eq(uvfs_rmdir_at(fx.vfs, &fx.cred, &p), 0);
	cr_assert_eq(stat(hp("d"), &hs), -1);
	cr_assert_eq(fx_lstat("/g/d", &st), -ENOENT);
}

BOTH(symlink_mknod_link)
{
	cr_assert_eq(fx_symlink("some/target", "/g/l"), 0);
	char buf[64];
	ssize_t n = readlink(hp("l"), buf, sizeof(buf));
	cr_assert_eq(n, 11);
	struct uvfs_pathop pl = fx_pop("/g/l");
	cr_assert_eq(uvfs_readlink_at(fx.vfs, &fx.cred, &pl, buf, sizeof(buf)), 11);
	cr_assert_eq(memcmp(buf, "some/target", 11), 0);
	struct uvfs_pathop pn = fx_pop("/g/fifo");
	cr_assert_eq(uvfs_mknod_at(fx.vfs, &fx.cred, &pn, S_IFIFO | 0640, 0), 0);
	struct stat hs;
	cr_assert_eq(lstat(hp("fifo"), &hs), 0);
	cr_assert(S_ISFIFO(hs.st_mode));
	cr_assert_eq(hs.st_mode & 07777, 0640);
	cr_assert_eq(fx_write_file("/g/a", "a"), 0);
	struct uvfs_pathop pa = fx_pop("/g/a"), pb = fx_pop("/g/b");
	cr_assert_eq(uvfs_link_at(fx.vfs, &fx.cred, &pa, &pb), 0);
	cr_assert_eq(stat(hp("b"), &hs), 0);
	cr_assert_eq(hs.st_nlink, 2);
	struct statx st;
	cr_assert_eq(fx_stat("/g/b", &st), 0);
	cr_assert_eq(st.stx_nlink, 2);
	cr_assert_eq(fx_stat("/g/a", &st), 0);
	cr_assert_eq(st.stx_nlink, 2);
}

/* git's object store: write tmp, link tmp -> final, unlink tmp. Whoever
 * still holds tmp's dentry (an open file, the FUSE node of the inode)
 * must reach the file through its other name, as on Linux. */
BOTH(link_then_unlink_first_name)
{
	cr_assert_eq(fx_write_file("/g/tmp", "data"), 0);
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/tmp", O_RDONLY, 0, &f), 0);
	struct uvfs_pathop pa = fx_pop("/g/tmp"), pb = fx_pop("/g/final");
	cr_assert_eq(uvfs_link_at(fx.vfs, &fx.cred, &pa, &pb), 0);
	cr_assert_eq(uvfs_unlink_at(fx.vfs, &fx.cred, &pa), 0);
	struct statx st;
	cr_assert_eq(uvfs_file_stat(f, STATX_BASIC_STATS, &st), 0, "fstat after the first name went");
	cr_assert_eq(st.stx_nlink, 1);
	cr_assert_eq(st.stx_size, 4);
	/* a fresh open through the held dentry (what the FUSE node does) */
	struct uvfs_vd vd;
	uvfs_file_vd(f, &vd);
	struct uvfs_pathop pe = { .root = vd, .start = vd, .path = "", .flags = UVFS_PATH_EMPTY };
	struct uvfs_file *g;
	cr_assert_eq(uvfs_open_at(fx.vfs, &fx.cred, &pe, O_RDONLY, 0, 0, &g), 0, "reopen through the held dentry");
	char buf[8] = "";
	cr_assert_eq(uvfs_read(g, buf, sizeof(buf)), 4);
	cr_assert_eq(memcmp(buf, "data", 4), 0);
	uvfs_file_put(g);
	uvfs_vd_put(&vd);
	uvfs_file_put(f);
	cr_assert_eq(fx_stat("/g/final", &st), 0);
	cr_assert_eq(st.stx_nlink, 1);
	cr_assert_eq(fx_read_file("/g/final", buf, sizeof(buf)), 4);
	cr_assert_eq(fx_stat("/g/tmp", &st), -ENOENT);
}

BOTH(rename_file_and_dir)
{
	cr_assert_eq(fx_write_file("/g/x", "data"), 0);
	struct uvfs_pathop px = fx_pop("/g/x"), py = fx_pop("/g/y");
	cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &px, &py, 0), 0);
	struct stat hs;
	cr_assert_eq(stat(hp("x"), &hs), -1);
	cr_assert_eq(stat(hp("y"), &hs), 0);
	char buf[16];
	cr_assert_eq(fx_read_file("/g/y", buf, sizeof(buf)), 4, "the moved inode still reaches its file");
	cr_assert_str_eq(buf, "data");
	struct statx st;
	cr_assert_eq(fx_stat("/g/x", &st), -ENOENT);
	/* Replace an existing name. */
	cr_assert_eq(fx_write_file("/g/z", "zz"), 0);
	struct uvfs_pathop pz = fx_pop("/g/z");
	cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &pz, &py, 0), 0);
	cr_assert_eq(fx_read_file("/g/y", buf, sizeof(buf)), 2);
	/* A directory with a cached child moves; the child stays usable. */
	cr_assert_eq(fx_mkdir("/g/d1", 0755), 0);
	cr_assert_eq(fx_write_file("/g/d1/c", "child"), 0);
	cr_assert_eq(fx_read_file("/g/d1/c", buf, sizeof(buf)), 5);
	struct uvfs_pathop pd1 = fx_pop("/g/d1"), pd2 = fx_pop("/g/d2");
	cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &pd1, &pd2, 0), 0);
	cr_assert_eq(stat(hp("d2/c"), &hs), 0);
	cr_assert_eq(fx_read_file("/g/d2/c", buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "child");
	cr_assert_eq(fx_write_file("/g/d2/c", "again"), 0);
	host_read("d2/c", buf, sizeof(buf));
	cr_assert_str_eq(buf, "again");
}

static int count_cb(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next)
{
	int *n = arg;
	if (!(len == 1 && name[0] == '.') && !(len == 2 && name[0] == '.' && name[1] == '.'))
		(*n)++;
	return 0;
}

BOTH(readdir_lists_host_entries)
{
	mkdir(hp("dir"), 0755);
	for (int i = 0; i < 300; i++) {
		char n[32];
		snprintf(n, sizeof(n), "dir/file-%03d", i);
		host_write(n, "");
	}
	mkdir(hp("dir/sub"), 0755);
	/* getdents64 with a small buffer: many calls, each resuming. */
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/dir", O_RDONLY | O_DIRECTORY, 0, &f), 0);
	char buf[512];
	int names = 0;
	bool saw_sub = false;
	for (;;) {
		ssize_t n = uvfs_getdents64(f, buf, sizeof(buf));
		cr_assert_geq(n, 0);
		if (n == 0)
			break;
		for (ssize_t o = 0; o < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + o);
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				names++;
			if (!strcmp(de->d_name, "sub")) {
				saw_sub = true;
				cr_assert_eq(de->d_type, DT_DIR);
			}
			o += de->d_reclen;
		}
	}
	uvfs_file_put(f);
	cr_assert_eq(names, 301);
	cr_assert(saw_sub);
	/* Rewind and list again in one go. */
	cr_assert_eq(fx_open("/g/dir", O_RDONLY | O_DIRECTORY, 0, &f), 0);
	int n2 = 0;
	cr_assert_eq(uvfs_iterate_dir(f, count_cb, &n2), 0);
	cr_assert_eq(uvfs_seek(f, 0, SEEK_SET), 0);
	int n3 = 0;
	cr_assert_eq(uvfs_iterate_dir(f, count_cb, &n3), 0);
	uvfs_file_put(f);
	cr_assert_eq(n2, 301);
	cr_assert_eq(n3, 301);
}

BOTH(setattr_statfs_xattr)
{
	cr_assert_eq(fx_write_file("/g/f", "0123456789"), 0);
	cr_assert_eq(fx_chmod("/g/f", 0600), 0);
	cr_assert_eq(fx_chown("/g/f", 1234, 5678), 0);
	struct uvfs_setattr a = { .mask = STATX_SIZE, .size = 3 };
	struct uvfs_pathop pf = fx_pop("/g/f");
	cr_assert_eq(uvfs_setstat_at(fx.vfs, &fx.cred, &pf, &a, 0), 0);
	struct uvfs_setattr t = { .mask = STATX_MTIME, .mtime = { .tv_sec = 1000000000, .tv_nsec = 5 } };
	cr_assert_eq(uvfs_setstat_at(fx.vfs, &fx.cred, &pf, &t, 0), 0);
	struct stat hs;
	cr_assert_eq(stat(hp("f"), &hs), 0);
	cr_assert_eq(hs.st_mode & 07777, 0600);
	cr_assert_eq(hs.st_uid, 1234);
	cr_assert_eq(hs.st_gid, 5678);
	cr_assert_eq(hs.st_size, 3);
	cr_assert_eq(hs.st_mtim.tv_sec, 1000000000);
	struct statx st;
	cr_assert_eq(fx_stat("/g/f", &st), 0);
	cr_assert_eq(st.stx_mode & 07777, 0600);
	cr_assert_eq(st.stx_uid, 1234);
	cr_assert_eq(st.stx_size, 3);
	cr_assert_eq(st.stx_mtime.tv_sec, 1000000000);

	struct statfs sf;
	struct uvfs_pathop pg = fx_popf("/g");
	cr_assert_eq(uvfs_statfs_at(fx.vfs, &fx.cred, &pg, &sf), 0);
	cr_assert_eq(sf.f_type, 0x01021997);
	cr_assert_gt(sf.f_blocks, 0);

	cr_assert_eq(uvfs_setxattr_at(fx.vfs, &fx.cred, &pf, "user.k", "v1", 2, 0), 0);
	char v[32];
	cr_assert_eq(getxattr(hp("f"), "user.k", v, sizeof(v)), 2);
	cr_assert_eq(uvfs_getxattr_at(fx.vfs, &fx.cred, &pf, "user.k", v, sizeof(v)), 2);
	cr_assert_eq(memcmp(v, "v1", 2), 0);
	cr_assert_eq(uvfs_getxattr_at(fx.vfs, &fx.cred, &pf, "user.none", v, sizeof(v)), -ENODATA);
	char list[64];
	ssize_t ln = uvfs_listxattr_at(fx.vfs, &fx.cred, &pf, list, sizeof(list));
	cr_assert_eq(ln, 7);
	cr_assert_str_eq(list, "user.k");
	cr_assert_eq(uvfs_removexattr_at(fx.vfs, &fx.cred, &pf, "user.k"), 0);
	cr_assert_eq(getxattr(hp("f"), "user.k", v, sizeof(v)), -1);
}

/* ------------------------------------------------- remote_revalidating */

Test(gofer_reval, host_changes_are_seen, .timeout = 60)
{
	gsetup("cache=remote_revalidating");
	struct statx st;
	char buf[64];
	host_write("f", "one");
	cr_assert_eq(fx_stat("/g/f", &st), 0);
	cr_assert_eq(st.stx_size, 3);
	uint64_t ino = st.stx_ino;
	/* Rewritten in place: same file, new size and content. */
	host_write("f", "three!");
	cr_assert_eq(fx_stat("/g/f", &st), 0);
	cr_assert_eq(st.stx_size, 6);
	cr_assert_eq(st.stx_ino, ino);
	cr_assert_eq(fx_read_file("/g/f", buf, sizeof(buf)), 6);
	cr_assert_str_eq(buf, "three!");
	/* Renamed on the host. */
	cr_assert_eq(rename(hp("f"), hp("g")), 0);
	cr_assert_eq(fx_stat("/g/f", &st), -ENOENT);
	cr_assert_eq(fx_read_file("/g/g", buf, sizeof(buf)), 6);
	/* Replaced by a directory. */
	cr_assert_eq(unlink(hp("g")), 0);
	cr_assert_eq(mkdir(hp("g"), 0700), 0);
	host_write("g/inner", "in");
	cr_assert_eq(fx_stat("/g/g", &st), 0);
	cr_assert(S_ISDIR(st.stx_mode), "mode %o", st.stx_mode);
	cr_assert_eq(fx_read_file("/g/g/inner", buf, sizeof(buf)), 2);
	/* A cached miss: the name appears on the host. */
	cr_assert_eq(fx_stat("/g/late", &st), -ENOENT);
	host_write("late", "now");
	cr_assert_eq(fx_stat("/g/late", &st), 0);
	/* Replaced by another file of the same name (new identity). */
	cr_assert_eq(unlink(hp("late")), 0);
	host_write("late.tmp", "other file");
	cr_assert_eq(rename(hp("late.tmp"), hp("late")), 0);
	cr_assert_eq(fx_read_file("/g/late", buf, sizeof(buf)), 10);
	cr_assert_str_eq(buf, "other file");
	gteardown();
}

/* fscache trusts its cache: a name the host removes stays cached (the
 * mount is the exclusive writer), and costs no round trip. */
Test(gofer_fscache, cached_names_are_trusted, .timeout = 60)
{
	gsetup("cache=fscache");
	struct statx st;
	host_write("f", "one");
	cr_assert_eq(fx_stat("/g/f", &st), 0);
	cr_assert_eq(unlink(hp("f")), 0);
	cr_assert_eq(fx_stat("/g/f", &st), 0, "served from the cache");
	cr_assert_eq(st.stx_size, 3);
	gteardown();
}

/* ------------------------------------------------------------ dead gofer */

struct writer {
	struct uvfs_file *f;
	int err;
	long rounds;
};

static void *write_until_error(void *arg)
{
	struct writer *w = arg;
	static char chunk[256 << 10];
	for (;;) {
		ssize_t n = uvfs_pwrite(w->f, chunk, sizeof(chunk), (off_t)(w->rounds % 64) * (off_t)sizeof(chunk));
		/* fscache keeps written data in memory until fsync: ask for it,
		 * so the server is reached every round in every mode. */
		if (n >= 0)
			n = uvfs_fsync(w->f, true);
		if (n < 0) {
			w->err = (int)n;
			return NULL;
		}
		w->rounds++;
	}
}

static void killed_gofer(const char *opts)
{
	if (direct_mode())
		cr_skip_test("direct mode: there is no gofer process to kill");
	gsetup(opts);
	cr_assert_eq(fx_write_file("/g/f", "data"), 0);
	struct uvfs_file *f;
	cr_assert_eq(fx_open("/g/f", O_RDWR, 0, &f), 0);
	struct writer w = { .f = f };
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, write_until_error, &w), 0);
	while (__atomic_load_n(&w.rounds, __ATOMIC_RELAXED) < 4)
		usleep(1000);
	cr_assert_eq(kill(diod_pid, SIGKILL), 0);
	pthread_join(th, NULL); /* a hang here is the bug */
	cr_assert(w.err == -ECONNRESET || w.err == -EIO, "pending write: %d", w.err);
	char buf[8];
	if (strstr(opts, "fscache")) /* cached data stays readable; what needs the server fails */
		cr_assert(uvfs_fsync(f, false) < 0, "later fsyncs fail");
	else
		cr_assert(uvfs_pread(f, buf, sizeof(buf), 0) < 0, "later reads fail");
	uvfs_file_put(f);
	cr_assert_lt(fx_write_file("/g/other", "x"), 0, "later creates fail");
	struct uvfs_pathop p = fx_pop("/g/f");
	cr_assert_lt(uvfs_unlink_at(fx.vfs, &fx.cred, &p), 0);
	/* Another mount, another gofer: unaffected. */
	char host2[64];
	snprintf(host2, sizeof(host2), "/tmp/uvfs-gofer-XXXXXX");
	cr_assert_not_null(mkdtemp(host2));
	fx_must_mkdir("/h", 0755);
	cr_assert_eq(gmount_at("/h", host2, opts, NULL), 0);
	cr_assert_eq(fx_write_file("/h/f", "fine"), 0);
	char back[8];
	cr_assert_eq(fx_read_file("/h/f", back, sizeof(back)), 4);
	gteardown();
	nftw(host2, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

Test(gofer_fscache, killed_gofer_fails_not_hangs, .timeout = 30) { killed_gofer("cache=fscache"); }
Test(gofer_reval, killed_gofer_fails_not_hangs, .timeout = 30) { killed_gofer("cache=remote_revalidating"); }

/* ---------------------------------------------------------------- LRU */

Test(gofer_fscache, dentry_cache_limit_bounds_the_lru, .timeout = 60)
{
	gsetup("cache=fscache,dentry_cache_limit=20");
	mkdir(hp("many"), 0755);
	for (int i = 0; i < 300; i++) {
		char n[32];
		snprintf(n, sizeof(n), "many/f%d", i);
		host_write(n, "");
	}
	struct uvfs_live before, after;
	struct statx st;
	cr_assert_eq(fx_stat("/g/many", &st), 0);
	uvfs_live_counts(fx.vfs, &before);
	for (int i = 0; i < 300; i++) {
		char n[32];
		snprintf(n, sizeof(n), "/g/many/f%d", i);
		cr_assert_eq(fx_stat(n, &st), 0);
	}
	uvfs_live_counts(fx.vfs, &after);
	cr_assert_leq(after.dentries - before.dentries, 21, "%ld cached past the limit of 20",
		      after.dentries - before.dentries);
	cr_assert_leq(after.inodes - before.inodes, 21);
	gteardown();
}

/* ------------------------------------------------------------ options */

Test(gofer_opts, bad_options_are_einval, .timeout = 30)
{
	fx_setup();
	cr_assert_eq(uvfs_register_fs_type(fx.vfs, &uvfs_gofer_type, UVFS_FS_USER_MOUNT), 0);
	fx_must_mkdir("/g", 0755);
	const char *bad[] = {
		"",
		"trans=fd",
		"trans=fd,rfdno=900",
		"trans=pigeon,rfdno=900,wfdno=900",
		"trans=fd,rfdno=900,wfdno=900,bogus=1",
		"trans=fd,rfdno=900,wfdno=900,cache=sometimes",
		"trans=fd,rfdno=900,wfdno=900,version=9P2000.u",
		"trans=fd,rfdno=900,wfdno=900,msize=12",
		"trans=fd,rfdno=900,wfdno=900,dentry_cache_limit=lots",
		"trans=fd,rfdno=900,wfdno=900,dfltuid=-1",
		"trans=fd,rfdno=900,wfdno=900,overlayfs_stale_read=yes",
		"trans=unix",
		"trans=tcp,addr=127.0.0.1:1,rfdno=900",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct uvfs_mount_opts o = { .data = bad[i] };
		struct uvfs_pathop p = fx_popf("/g");
		cr_assert_eq(uvfs_mount_at(fx.vfs, &fx.cred, "x", &p, "9p", &o), -EINVAL, "%s", bad[i]);
	}
	fx_teardown();
}

Test(gofer_opts, tcp_and_unix_transports, .timeout = 30)
{
	gsetup("cache=fscache"); /* for the fixture and the host dir */
	/* diod listening on a unix socket exporting the same host dir. */
	char sock[96];
	snprintf(sock, sizeof(sock), "%s.sock", host);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/usr/sbin/diod", "diod", "-f", "-l", sock, "-e", host, "-n", "-N", "-c", "/dev/null", "-L",
		      "/dev/null", (char *)NULL);
		_exit(127);
	}
	struct stat ss;
	for (int i = 0; i < 500 && stat(sock, &ss) < 0; i++)
		usleep(10000);
	usleep(50000);
	host_write("via-unix", "u");
	char data[256];
	snprintf(data, sizeof(data), "trans=unix,addr=%s,aname=%s,cache=remote_revalidating", sock, host);
	fx_must_mkdir("/u", 0755);
	struct uvfs_mount_opts o = { .data = data };
	struct uvfs_pathop p = fx_popf("/u");
	int err = uvfs_mount_at(fx.vfs, &fx.cred, host, &p, "9p", &o);
	cr_assert_eq(err, 0, "%s", strerror(-err));
	char buf[8];
	cr_assert_eq(fx_read_file("/u/via-unix", buf, sizeof(buf)), 1);
	gteardown();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(sock);
}

/* A held dentry below a directory renamed through the mount (the FUSE
 * export keeps one per node): its fid named the old path; it must be
 * re-walked, not answer ESTALE (cat of a moved file failed over FUSE). */
BOTH(held_dentry_survives_parent_rename)
{
	cr_assert_eq(fx_mkdir("/g/d1", 0755), 0);
	cr_assert_eq(fx_write_file("/g/d1/c", "child"), 0);
	struct uvfs_vd held;
	struct uvfs_pathop pc = fx_pop("/g/d1/c");
	cr_assert_eq(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pc, 0, &held), 0);
	struct uvfs_pathop pd1 = fx_pop("/g/d1"), pd2 = fx_pop("/g/d2");
	cr_assert_eq(uvfs_rename_at(fx.vfs, &fx.cred, &pd1, &pd2, 0), 0);
	struct uvfs_pathop self = { .root = fx.root, .start = held, .path = "", .flags = UVFS_PATH_EMPTY };
	struct statx st;
	cr_assert_eq(uvfs_stat_at(fx.vfs, &fx.cred, &self, STATX_BASIC_STATS, &st), 0);
	cr_assert_eq(st.stx_size, 5);
	struct uvfs_file *f;
	cr_assert_eq(uvfs_open_at(fx.vfs, &fx.cred, &self, O_RDONLY, 0, 0, &f), 0);
	char buf[8];
	cr_assert_eq(uvfs_pread(f, buf, sizeof(buf), 0), 5);
	uvfs_file_put(f);
	uvfs_vd_put(&held);
}

/* The server refuses mkdir (the host directory is immutable: even diod
 * as root gets EPERM); a directory made only to mount on is made in
 * memory (gVisor ForSyntheticMountpoint) and holds a mount. */
static void set_immutable(const char *path, bool on)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	cr_assert_geq(fd, 0);
	int fl = 0;
	cr_assert_eq(ioctl(fd, FS_IOC_GETFLAGS, &fl), 0);
	fl = on ? (fl | FS_IMMUTABLE_FL) : (fl & ~FS_IMMUTABLE_FL);
	cr_assert_eq(ioctl(fd, FS_IOC_SETFLAGS, &fl), 0, "chattr: %s", strerror(errno));
	close(fd);
}

static void synthetic(const char *opts)
{
	gsetup(opts);
	set_immutable(host, true);
	struct uvfs_pathop p = fx_pop("/g/mnt");
	int err = uvfs_mkdir_at(fx.vfs, &fx.cred, &p, 0755);
	cr_assert_eq(err, -EPERM, "plain mkdir: %d", err);
	struct uvfs_create_opts co = { .flags = UVFS_MKDIR_SYNTHETIC };
	cr_assert_eq(uvfs_mkdir_at2(fx.vfs, &fx.cred, &p, 0755, &co), 0);
	struct stat hs;
	cr_assert_eq(stat(hp("mnt"), &hs), -1, "nothing on the host");
	struct statx st;
	cr_assert_eq(fx_stat("/g/mnt", &st), 0);
	cr_assert(S_ISDIR(st.stx_mode));
	cr_assert_eq(fx_mount_tmpfs("/g/mnt", NULL, 0), 0);
	cr_assert_eq(fx_write_file("/g/mnt/x", "in tmpfs"), 0);
	char buf[16];
	cr_assert_eq(fx_read_file("/g/mnt/x", buf, sizeof(buf)), 8);
	cr_assert_eq(fx_umount("/g/mnt", 0), 0);
	cr_assert_eq(fx_write_file("/g/file", "x"), -EPERM, "the server still refuses the rest");
	set_immutable(host, false);
	gteardown();
}

Test(gofer_fscache, synthetic_mountpoint, .timeout = 60) { synthetic("cache=fscache"); }
Test(gofer_reval, synthetic_mountpoint, .timeout = 60) { synthetic("cache=remote_revalidating"); }
