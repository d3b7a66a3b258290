/* tests/fuse/difftest.c — differential syscall test: runs one fixed program
 * of syscalls under DIR and prints every result (value or errno name, and
 * the stat fields that must agree) one per line. t_fuse.sh runs it against
 * a kernel tmpfs directory and against the uvfs FUSE mount and diffs the
 * two transcripts. Not a criterion test (built by the shell script).
 *
 * usage: difftest DIR    (DIR must exist and be empty; run as root; the
 * permission phase switches fsuid/fsgid to 1000, so the FUSE side needs
 * -o allow_other)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/wait.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static int step;
/* DIFFTEST_9P=1 (both runs, t_gofer_diff.sh): leave out what 9P2000.L
 * cannot say (fallocate, RENAME_EXCHANGE, an empty xattr value, which the
 * protocol's Txattrcreate of size 0 makes a removal, as on Linux's v9fs). */
static int gaps9p;

static void res(const char *what, long rc, int err)
{
	if (rc < 0)
		printf("%03d %s = -1 %s\n", ++step, what, strerrorname_np(err) ? strerrorname_np(err) : "E?");
	else
		printf("%03d %s = %ld\n", ++step, what, rc);
}
#define R(what, expr)                                                                                            \
	do {                                                                                                     \
		errno = 0;                                                                                       \
		long r_ = (long)(expr);                                                                          \
		res(what, r_, errno);                                                                            \
	} while (0)

/* The fields both sides must agree on (no inode numbers, times, blocks,
 * or directory sizes, which differ between filesystems by design). */
static void st(const char *what, const char *path, int follow)
{
	struct stat s;
	int rc = fstatat(AT_FDCWD, path, &s, follow ? 0 : AT_SYMLINK_NOFOLLOW);
	if (rc) {
		res(what, -1, errno);
		return;
	}
	printf("%03d %s: mode %06o nlink %lu uid %u gid %u", ++step, what, s.st_mode, (unsigned long)s.st_nlink,
	       s.st_uid, s.st_gid);
	if (!S_ISDIR(s.st_mode))
		printf(" size %lld", (long long)s.st_size);
	if (S_ISCHR(s.st_mode) || S_ISBLK(s.st_mode))
		printf(" rdev %u:%u", major(s.st_rdev), minor(s.st_rdev));
	printf("\n");
}

static void fst(const char *what, int fd)
{
	struct stat s;
	if (fstat(fd, &s)) {
		res(what, -1, errno);
		return;
	}
	printf("%03d %s: mode %06o nlink %lu size %lld\n", ++step, what, s.st_mode, (unsigned long)s.st_nlink,
	       (long long)s.st_size);
}

static void times_(const char *what, const char *path)
{
	struct stat s;
	if (lstat(path, &s)) {
		res(what, -1, errno);
		return;
	}
	printf("%03d %s: atime %lld.%09ld mtime %lld.%09ld\n", ++step, what, (long long)s.st_atim.tv_sec,
	       s.st_atim.tv_nsec, (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void ls(const char *what, const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		res(what, -1, errno);
		return;
	}
	char *names[512];
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < 512) {
		char b[300];
		snprintf(b, sizeof(b), "%s/%d", de->d_name, de->d_type);
		names[n++] = strdup(b);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), cmp);
	printf("%03d %s:", ++step, what);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

static void readall(const char *what, const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		res(what, -1, errno);
		return;
	}
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		res(what, -1, errno);
		return;
	}
	unsigned long h = 5381;
	int zeros = 0;
	for (ssize_t i = 0; i < n; i++) {
		h = h * 33 + (unsigned char)buf[i];
		zeros += !buf[i];
	}
	printf("%03d %s: %zd bytes, %d zero, hash %lx\n", ++step, what, n, zeros, h);
}

static void xlist(const char *what, const char *path)
{
	char buf[4096];
	ssize_t n = llistxattr(path, buf, sizeof(buf));
	if (n < 0) {
		res(what, -1, errno);
		return;
	}
	char *names[64];
	int k = 0;
	for (ssize_t off = 0; off < n && k < 64; off += (ssize_t)strlen(buf + off) + 1)
		if (strncmp(buf + off, "security.", 9)) /* SELinux-style labels are host-only */
			names[k++] = buf + off;
	qsort(names, (size_t)k, sizeof(*names), cmp);
	printf("%03d %s:", ++step, what);
	for (int i = 0; i < k; i++)
		printf(" %s", names[i]);
	printf("\n");
}

static void xget(const char *what, const char *path, const char *name, size_t len)
{
	char buf[256] = { 0 };
	ssize_t n = lgetxattr(path, name, len ? buf : NULL, len);
	if (n < 0)
		res(what, -1, errno);
	else
		printf("%03d %s = %zd '%.*s'\n", ++step, what, n, len ? (int)n : 0, buf);
}

static int wfile(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, strlen(data));
	close(fd);
	return n < 0 ? -1 : (int)n;
}

int main(int argc, char **argv)
{
	if (argc != 2 || chdir(argv[1])) {
		fprintf(stderr, "usage: difftest DIR\n");
		return 2;
	}
	umask(022);
	gaps9p = getenv("DIFFTEST_9P") != NULL;
	if (chmod(".", 0755)) {
		perror("chmod DIR");
		return 2;
	}
	char name256[257], name255[256];
	memset(name256, 'n', 256);
	name256[256] = 0;
	memset(name255, 'm', 255);
	name255[255] = 0;

	/* directories */
	R("mkdir d", mkdir("d", 0755));
	R("mkdir d again", mkdir("d", 0755));
	R("mkdir 256-byte name", mkdir(name256, 0755));
	R("mkdir 255-byte name", mkdir(name255, 0755));
	R("mkdir missing/x", mkdir("missing/x", 0755));
	R("mkdir odd mode 0751", mkdir("d/odd", 0751));
	st("stat d", "d", 0);
	st("stat d/odd", "d/odd", 0);

	/* files, sparse writes, reads */
	int fd;
	R("open d/f creat", (fd = open("d/f", O_WRONLY | O_CREAT, 0644)) >= 0 ? 0 : -1);
	R("write hello", write(fd, "hello world", 11));
	R("pwrite at 8192", pwrite(fd, "tail", 4, 8192));
	fst("fstat d/f", fd);
	R("read on O_WRONLY", read(fd, (char[8]){ 0 }, 8));
	R("close", close(fd));
	readall("read d/f", "d/f");
	R("open excl existing", open("d/f", O_WRONLY | O_CREAT | O_EXCL, 0644));
	R("open missing", open("d/nope", O_RDONLY));
	R("open dir for write", open("d", O_WRONLY));
	R("open file O_DIRECTORY", open("d/f", O_RDONLY | O_DIRECTORY));
	R("open through file", open("d/f/x", O_RDONLY));
	R("open 256-byte name", open(name256, O_RDONLY | O_CREAT, 0644));
	R("create 255-byte name", (fd = open(name255 + 0, O_RDONLY)) >= 0 ? close(fd) : -1);
	R("append open", (fd = open("d/f", O_WRONLY | O_APPEND)) >= 0 ? 0 : -1);
	R("append write", write(fd, "++", 2));
	R("append lseek cur", lseek(fd, 0, SEEK_CUR));
	R("close", close(fd));
	st("stat after append", "d/f", 0);
	R("open rdwr", (fd = open("d/f", O_RDWR)) >= 0 ? 0 : -1);
	R("lseek end", lseek(fd, 0, SEEK_END));
	R("lseek negative", lseek(fd, -100000, SEEK_SET));
	R("lseek SEEK_DATA 0", lseek(fd, 0, SEEK_DATA));
	R("lseek SEEK_DATA past end", lseek(fd, 100000, SEEK_DATA));
	R("lseek SEEK_HOLE past end", lseek(fd, 100000, SEEK_HOLE));
	R("close", close(fd));

	/* truncate */
	R("truncate 5", truncate("d/f", 5));
	readall("read after truncate 5", "d/f");
	R("truncate 10000", truncate("d/f", 10000));
	readall("read after truncate 10000", "d/f");
	R("truncate dir", truncate("d", 0));
	R("truncate negative", truncate("d/f", -1));
	R("open O_TRUNC", (fd = open("d/f", O_WRONLY | O_TRUNC)) >= 0 ? 0 : -1);
	R("write after O_TRUNC", write(fd, "abc", 3));
	R("ftruncate 2", ftruncate(fd, 2));
	fst("fstat after ftruncate", fd);
	R("close", close(fd));

	/* fallocate */
	R("write fa", wfile("d/fa", "0123456789abcdef", 0644));
	R("open fa", (fd = open("d/fa", O_RDWR)) >= 0 ? 0 : -1);
	if (!gaps9p) {
		R("fallocate extend", fallocate(fd, 0, 10, 100));
		fst("fstat after fallocate", fd);
		R("fallocate keep size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 5000));
		fst("fstat after keep size", fd);
		R("fallocate punch", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4, 6));
	}
	/* Plain ZERO_RANGE differs on purpose: uvfs's tmpfs implements it (as
	 * ext4 does), Linux's tmpfs does not; tests/tmpfs/test_fallocate.c
	 * compares it with ext4. */
	R("fallocate zero range with punch", fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_PUNCH_HOLE, 100, 20));
	R("fallocate punch without keep", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 1));
	R("fallocate bad len", fallocate(fd, 0, 0, 0));
	R("close", close(fd));
	readall("read fa", "d/fa");
	R("open fa rdonly", (fd = open("d/fa", O_RDONLY)) >= 0 ? 0 : -1);
	R("fallocate on O_RDONLY", fallocate(fd, 0, 0, 10));
	R("close", close(fd));
	R("unlink fa", unlink("d/fa"));

	/* rename */
	R("rename f g", rename("d/f", "d/g"));
	st("stat old name", "d/f", 0);
	st("stat new name", "d/g", 0);
	R("rename missing", rename("d/nope", "d/x"));
	R("rename dir into itself", rename("d", "d/odd/x"));
	R("mkdir e", mkdir("e", 0700));
	R("rename file over dir", rename("d/g", "e"));
	R("write k", wfile("k", "kkk", 0600));
	R("rename dir over file", rename("e", "k"));
	R("renameat2 noreplace", renameat2(AT_FDCWD, "k", AT_FDCWD, "d/g", RENAME_NOREPLACE));
	if (!gaps9p) {
		R("renameat2 exchange", renameat2(AT_FDCWD, "k", AT_FDCWD, "d/g", RENAME_EXCHANGE));
		readall("k after exchange", "k");
		readall("d/g after exchange", "d/g");
	}
	R("rename over file", rename("k", "d/g"));
	st("k gone", "k", 0);
	R("mkdir e/sub", mkdir("e/sub", 0755));
	R("rename over nonempty dir", rename("d/odd", "e"));
	R("rename dir over empty dir", rename("e/sub", "d/odd"));
	st("stat moved dir", "d/odd", 0);

	/* hard links */
	R("link g h", link("d/g", "d/h"));
	st("nlink after link", "d/g", 0);
	R("link onto existing", link("d/g", "d/h"));
	R("link dir", link("d", "dl"));
	R("link missing", link("d/nope", "d/x"));

	/* symlinks */
	R("symlink s -> g", symlink("g", "d/s"));
	char lb[256];
	ssize_t ln = readlink("d/s", lb, sizeof(lb));
	printf("%03d readlink d/s = %zd '%.*s'\n", ++step, ln, ln > 0 ? (int)ln : 0, lb);
	st("lstat s", "d/s", 0);
	st("stat s", "d/s", 1);
	R("symlink dangling", symlink("nowhere", "d/dang"));
	R("open dangling", open("d/dang", O_RDONLY));
	R("readlink non-link", readlink("d/g", lb, sizeof(lb)));
	R("symlink onto existing", symlink("x", "d/g"));
	R("open O_NOFOLLOW on link", open("d/s", O_RDONLY | O_NOFOLLOW));
	R("create through dangling link", (fd = open("d/dang", O_WRONLY | O_CREAT, 0644)) >= 0 ? close(fd) : -1);
	st("dangling target created", "d/nowhere", 0);

	/* readdir */
	ls("ls d", "d");
	ls("ls .", ".");

	/* xattrs */
	R("setxattr user.a", lsetxattr("d/g", "user.a", "1", 1, 0));
	R("setxattr user.b", lsetxattr("d/g", "user.b", "two", 3, 0));
	xget("getxattr user.a", "d/g", "user.a", 64);
	xget("getxattr size query", "d/g", "user.b", 0);
	xget("getxattr small buffer", "d/g", "user.b", 1);
	xget("getxattr missing", "d/g", "user.zz", 64);
	R("setxattr create existing", lsetxattr("d/g", "user.a", "x", 1, XATTR_CREATE));
	R("setxattr replace missing", lsetxattr("d/g", "user.c", "x", 1, XATTR_REPLACE));
	R("setxattr replace", lsetxattr("d/g", "user.a", "333", 3, XATTR_REPLACE));
	xget("getxattr replaced", "d/g", "user.a", 64);
	if (!gaps9p) {
		R("setxattr empty value", lsetxattr("d/g", "user.empty", "", 0, 0));
		xget("getxattr empty value", "d/g", "user.empty", 64);
	}
	xlist("listxattr", "d/g");
	xlist("listxattr hard link", "d/h");
	R("removexattr", lremovexattr("d/g", "user.b"));
	R("removexattr missing", lremovexattr("d/g", "user.b"));
	xlist("listxattr after remove", "d/g");
	R("setxattr bad namespace", lsetxattr("d/g", "bogus.a", "1", 1, 0));
	R("setxattr trusted", lsetxattr("d/g", "trusted.t", "1", 1, 0));
	xget("getxattr trusted", "d/g", "trusted.t", 64);
	R("setxattr user on symlink", lsetxattr("d/s", "user.a", "1", 1, 0));
	R("setxattr user on dir", lsetxattr("d", "user.dir", "1", 1, 0));

	/* chmod / chown / utimens */
	R("chmod 0600", chmod("d/g", 0600));
	st("after chmod 0600", "d/g", 0);
	R("chmod 04755", chmod("d/g", 04755));
	st("after chmod 04755", "d/g", 0);
	R("chmod same mode", chmod("d/g", 04755));
	st("after chmod same", "d/g", 0);
	R("chmod 02710", chmod("d/g", 02710));
	st("after chmod 02710", "d/g", 0);
	R("chown 1000:1000", chown("d/g", 1000, 1000));
	st("after chown (suid/sgid cleared)", "d/g", 0);
	R("lchown symlink", lchown("d/s", 7, 8));
	st("symlink owner", "d/s", 0);
	R("chmod 0644", chmod("d/g", 0644));
	struct timespec ts[2] = { { 1000000000, 123456789 }, { 1200000000, 987654321 } };
	R("utimensat exact", utimensat(AT_FDCWD, "d/g", ts, 0));
	times_("times exact", "d/g");
	struct timespec omit[2] = { { 5, UTIME_OMIT }, { 1300000000, 5 } };
	R("utimensat omit atime", utimensat(AT_FDCWD, "d/g", omit, 0));
	times_("times after omit", "d/g");
	struct timespec now2[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };
	R("utimensat now atime", utimensat(AT_FDCWD, "d/g", now2, 0));
	R("utimensat symlink nofollow", utimensat(AT_FDCWD, "d/s", ts, AT_SYMLINK_NOFOLLOW));
	times_("symlink times", "d/s");

	/* special files */
	R("mkfifo", mkfifo("d/fifo", 0640));
	st("stat fifo", "d/fifo", 0);
	R("mknod chr 1:3", mknod("d/null", S_IFCHR | 0666, makedev(1, 3)));
	st("stat chr", "d/null", 0);
	R("mknod blk 7:0", mknod("d/blk", S_IFBLK | 0600, makedev(7, 0)));
	st("stat blk", "d/blk", 0);
	R("mknod on existing", mknod("d/fifo", S_IFIFO | 0600, 0));
	R("write to char dev 1:3", (fd = open("d/null", O_WRONLY)) >= 0 ? (int)write(fd, "x", 1) + 0 * close(fd) : -1);

	/* open, unlinked file: nlink 0, data readable until close */
	R("write u", wfile("d/u", "still here", 0644));
	int ufd = open("d/u", O_RDWR);
	R("open u", ufd >= 0 ? 0 : -1);
	R("unlink u", unlink("d/u"));
	fst("fstat unlinked", ufd);
	char ub[32] = { 0 };
	R("pread unlinked", pread(ufd, ub, sizeof(ub), 0));
	printf("%03d unlinked data '%s'\n", ++step, ub);
	R("pwrite unlinked", pwrite(ufd, "!", 1, 10));
	fst("fstat after write", ufd);
	R("close unlinked", close(ufd));

	/* unlink / rmdir */
	R("unlink h", unlink("d/h"));
	st("nlink after unlink", "d/g", 0);
	R("unlink h again", unlink("d/h"));
	R("unlink dir", unlink("d"));
	R("rmdir nonempty", rmdir("d"));
	R("rmdir file", rmdir("d/g"));
	R("rmdir dot", rmdir("d/odd/."));
	R("rmdir missing", rmdir("d/nope"));
	R("rmdir d/odd", rmdir("d/odd"));

	/* relative paths close to PATH_MAX */
	{
		char comp[201];
		memset(comp, 'p', 200);
		comp[200] = 0;
		char path[PATH_MAX + 300] = "deep";
		int ok = mkdir("deep", 0755);
		int depth = 0;
		while (!ok && strlen(path) + 201 < PATH_MAX - 20) {
			strcat(path, "/");
			strcat(path, comp);
			ok = mkdir(path, 0755);
			depth++;
		}
		printf("%03d deep mkdir to depth %d len %zu = %d\n", ++step, depth, strlen(path), ok);
		strcat(path, "/file");
		R("create at near-PATH_MAX", (fd = open(path, O_WRONLY | O_CREAT, 0644)) >= 0 ? close(fd) : -1);
		st("stat near-PATH_MAX", path, 0);
		strcat(path, "/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		R("path over PATH_MAX", open(path, O_RDONLY));
	}

	/* statfs and access */
	struct statfs sf;
	R("statfs", statfs(".", &sf));
	printf("%03d statfs namelen %ld\n", ++step, (long)sf.f_namelen);
	R("access d/g R_OK", access("d/g", R_OK));
	R("access d/g X_OK", access("d/g", X_OK));
	R("access missing", access("d/nope", F_OK));

	/* permissions as fsuid/fsgid 1000 (caps drop with fsuid) */
	R("mkdir pub 1777", mkdir("pub", 0777));
	R("chmod pub 1777", chmod("pub", 01777));
	R("mkdir priv 0700", mkdir("priv", 0700));
	R("write priv/secret", wfile("priv/secret", "s", 0644));
	R("write rootfile 0600", wfile("rootfile", "r", 0600));
	R("write pub/rootown", wfile("pub/rootown", "r", 0666));
	R("write pub/suid", wfile("pub/suid", "#!/bin/sh\n", 0644));
	R("chmod pub/suid 04777", chmod("pub/suid", 04777));
	R("write pub/sgid", wfile("pub/sgid", "#!/bin/sh\n", 0644));
	R("chmod pub/sgid 02777", chmod("pub/sgid", 02777));
	R("mkdir sgid", mkdir("sgid", 0775));
	R("chown sgid :4242", chown("sgid", 0, 4242));
	R("chmod sgid 02777", chmod("sgid", 02777));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		/* A real unprivileged user: every capability goes. */
		if (setgroups(0, NULL) || setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000)) {
			perror("setresuid");
			_exit(1);
		}
		R("user: create in root dir", open("userfile", O_WRONLY | O_CREAT, 0644));
		R("user: mkdir in root dir", mkdir("userdir", 0755));
		R("user: open 0600 root file", open("rootfile", O_RDONLY));
		st("user: stat in 0700 dir", "priv/secret", 0);
		R("user: readdir 0700 dir", opendir("priv") ? 0 : -1);
		R("user: chmod root file", chmod("rootfile", 0666));
		R("user: chown root file", chown("rootfile", 1000, 1000));
		R("user: utimes root file explicit", utimensat(AT_FDCWD, "rootfile", ts, 0));
		R("user: create in 1777", wfile("pub/mine", "m", 0640));
		st("user: owner of new file", "pub/mine", 0);
		R("user: mkdir in 1777", mkdir("pub/mydir", 0750));
		st("user: owner of new dir", "pub/mydir", 0);
		R("user: symlink in 1777", symlink("mine", "pub/mylink"));
		st("user: owner of new symlink", "pub/mylink", 0);
		R("user: mkfifo in 1777", mkfifo("pub/myfifo", 0600));
		st("user: owner of new fifo", "pub/myfifo", 0);
		R("user: unlink other's file in sticky dir", unlink("pub/rootown"));
		R("user: write other's 0666 file", wfile("pub/rootown", "w", 0));
		R("user: rename own file", rename("pub/mine", "pub/mine2"));
		R("user: unlink own file", unlink("pub/mine2"));
		R("user: create in setgid dir", wfile("sgid/f", "x", 0644));
		st("user: setgid dir passes its gid", "sgid/f", 0);
		R("user: mkdir in setgid dir", mkdir("sgid/sub", 0755));
		st("user: setgid subdir", "sgid/sub", 0);
		R("user: mknod chr", mknod("pub/dev", S_IFCHR | 0600, makedev(1, 3)));
		R("user: open rootfile for write", open("rootfile", O_WRONLY));
		R("user: setxattr user on root file", lsetxattr("rootfile", "user.x", "1", 1, 0));
		R("user: setxattr trusted", lsetxattr("pub/mydir", "trusted.x", "1", 1, 0));
		R("user: truncate root file", truncate("rootfile", 0));
		R("user: link other's file", link("rootfile", "pub/hl"));
		R("user: write a setuid file", wfile("pub/suid", "echo\n", 0));
		R("user: truncate a setgid file", truncate("pub/sgid", 3));
		R("user: access rootfile W_OK", access("rootfile", W_OK));
		R("user: access pub W_OK", access("pub", W_OK | X_OK));
		R("user: chdir priv", chdir("priv"));
	fflush(stdout);
	_exit(0);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "difftest: user phase failed\n");
		return 1;
	}
	st("root again", "rootfile", 0);
	st("setuid dropped by user's write", "pub/suid", 0);
	st("setgid dropped by user's truncate", "pub/sgid", 0);
	R("root writes a setuid file", (chmod("pub/suid", 04755) || wfile("pub/suid", "x\n", 0) < 0) ? -1 : 0);
	st("setuid kept for root (CAP_FSETID)", "pub/suid", 0);
	ls("ls pub", "pub");
	return 0;
}
