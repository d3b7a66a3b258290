/* test_diff_io.c — I/O and attribute calls against the kernel (harness.h):
 * vectored and positional I/O, EBADF/EISDIR rules by open mode, fallocate,
 * utimensat's special values, statfs, the l* and f* xattr forms, FIONREAD,
 * resumable getdents offsets. */
#include <linux/falloc.h>
#include <stdio.h>

#include "harness.h"

FX_TEST(sbx_diff, io)
{
	static const struct step s[] = {
		ST(S_OPEN, .p1 = "/f", .a = O_CREAT | O_RDWR, .b = 0644),
		ST(S_WRITEV, .fd = 3, .p1 = "hello ", .p2 = "world"),
		ST(S_LSEEK, .fd = 3, .a = 0, .b = SEEK_CUR),
		ST(S_LSEEK, .fd = 3, .a = 0, .b = SEEK_SET),
		ST(S_READV, .fd = 3, .a = 3, .b = 100),
		ST(S_READV, .fd = 3, .a = 3, .b = 100),
		ST(S_PREADV, .fd = 3, .a = 4, .b = 4, .c = 2),
		ST(S_PWRITEV, .fd = 3, .p1 = "AB", .p2 = "CD", .c = 20),
		ST(S_FSTAT, .fd = 3),
		ST(S_PREAD, .fd = 3, .a = 100, .b = 0),
		ST(S_PREAD, .fd = 3, .a = 10, .b = -1),
		ST(S_PWRITE, .fd = 3, .p1 = "x", .b = -5),
		ST(S_LSEEK, .fd = 3, .a = -1, .b = SEEK_SET),
		ST(S_LSEEK, .fd = 3, .a = 0, .b = 7),
		ST(S_LSEEK, .fd = 3, .a = -2, .b = SEEK_END),
		ST(S_READ, .fd = 3, .a = 10),
		ST(S_LSEEK, .fd = 3, .a = 0, .b = SEEK_DATA),
		ST(S_LSEEK, .fd = 3, .a = 0, .b = SEEK_HOLE),
		ST(S_FIONREAD, .fd = 3),
		ST(S_OPEN, .p1 = "/f", .a = O_RDONLY),
		ST(S_WRITE, .fd = 4, .p1 = "no"),
		ST(S_FTRUNCATE, .fd = 4, .a = 1),
		ST(S_FALLOCATE, .fd = 4, .a = 0, .b = 0, .c = 10),
		ST(S_OPEN, .p1 = "/f", .a = O_WRONLY),
		ST(S_READ, .fd = 5, .a = 10),
		ST(S_OPEN, .p1 = "/f", .a = O_PATH),
		ST(S_READ, .fd = 6, .a = 10),
		ST(S_WRITE, .fd = 6, .p1 = "no"),
		ST(S_FSTAT, .fd = 6),
		ST(S_FCHMOD, .fd = 6, .a = 0600),
		ST(S_FSTATFS, .fd = 6),
		ST(S_FIONREAD, .fd = 6),
		ST(S_OPEN, .p1 = "/", .a = O_RDONLY | O_DIRECTORY),
		ST(S_READ, .fd = 7, .a = 10),
		ST(S_WRITE, .fd = 7, .p1 = "no"),
		ST(S_FSTATFS, .fd = 7),
		ST(S_FALLOCATE, .fd = 3, .a = 0, .b = 8192, .c = 100),
		ST(S_FALLOCATE, .fd = 3, .a = FALLOC_FL_KEEP_SIZE, .b = 100000, .c = 4096),
		ST(S_FALLOCATE, .fd = 3, .a = FALLOC_FL_PUNCH_HOLE, .b = 0, .c = 4096),
		ST(S_FALLOCATE, .fd = 3, .a = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, .b = 0, .c = 4096),
		ST(S_FALLOCATE, .fd = 3, .a = 0, .b = -1, .c = 10),
		ST(S_FALLOCATE, .fd = 3, .a = 0, .b = 0, .c = 0),
		ST(S_FALLOCATE, .fd = 7, .a = 0, .b = 0, .c = 10),
		ST(S_FALLOCATE, .fd = 99, .a = 0, .b = 0, .c = 10),
		ST(S_FTRUNCATE, .fd = 3, .a = 3),
		ST(S_FTRUNCATE, .fd = 7, .a = 3),
		ST(S_FSTAT, .fd = 3),
		ST(S_POLL, .fd = 3, .a = POLLIN | POLLOUT | POLLPRI),
		ST(S_POLL, .fd = 6, .a = POLLIN),
		ST(S_POLL, .fd = -1, .a = POLLIN),
		ST(S_OPEN, .p1 = "/app", .a = O_CREAT | O_RDWR | O_APPEND, .b = 0644),
		ST(S_WRITE, .fd = 8, .p1 = "0123456789"),
		ST(S_PWRITE, .fd = 8, .p1 = "AB", .b = 0),
		ST(S_PREAD, .fd = 8, .a = 100, .b = 0),
		ST(S_PWRITEV, .fd = 8, .p1 = "C", .p2 = "D", .c = 1),
		ST(S_PREAD, .fd = 8, .a = 100, .b = 0),
		ST(S_LSEEK, .fd = 8, .a = 100, .b = SEEK_SET),
		ST(S_READ, .fd = 8, .a = 10),
		ST(S_FCNTL, .fd = 8, .a = F_SETFL, .b = 0),
		ST(S_PWRITE, .fd = 8, .p1 = "z", .b = 20),
		ST(S_FSTAT, .fd = 8),
		ST(S_PREAD, .fd = 8, .a = 100, .b = 0),
		ST(S_LSEEK, .fd = 8, .a = 0, .b = SEEK_HOLE),
		ST(S_LSEEK, .fd = 8, .a = 30, .b = SEEK_DATA),
		ST(S_READV, .fd = 8, .a = 0, .b = 0),
		ST_END,
	};
	run_diff(s);
}

FX_TEST(sbx_diff, times_and_modes)
{
	static const struct step s[] = {
		ST(S_OPEN, .p1 = "/f", .a = O_CREAT | O_RDWR, .b = 0644),
		ST(S_SYMLINK, .p1 = "f", .p2 = "/l"),
		ST(S_UTIMENS, .p1 = "/f", .a = 100, .b = 200),
		ST(S_UTIMES_SPECIAL, .p1 = "/f", .a = UTIME_OMIT, .b = UTIME_OMIT),
		ST(S_UTIMES_SPECIAL, .p1 = "/f", .a = 0, .b = UTIME_OMIT),
		ST(S_UTIMES_SPECIAL, .p1 = "/f", .a = UTIME_NOW, .b = 0),
		ST(S_UTIMES_SPECIAL, .p1 = "/f", .a = 1000000000, .b = 0),
		ST(S_UTIMES_SPECIAL, .p1 = "/f", .a = -1, .b = 0),
		ST(S_UTIMES_SPECIAL, .p1 = "/f", .p2 = "null"),
		ST(S_UTIMES_SPECIAL, .p1 = "/f", .c = 0x8),
		ST(S_UTIMES_SPECIAL, .dir = 3, .p1 = "/f", .p2 = "nopath"),
		ST(S_UTIMES_SPECIAL, .dir = 3, .p1 = "/f", .p2 = "nopath", .c = AT_SYMLINK_NOFOLLOW),
		ST(S_UTIMES_SPECIAL, .dir = 99, .p1 = "/f", .p2 = "nopath"),
		ST(S_UTIMENS, .p1 = "/l", .a = 300, .b = 400, .c = AT_SYMLINK_NOFOLLOW),
		ST(S_STAT, .p1 = "/f"),
		ST(S_CHMOD2, .p1 = "/l", .a = 0600, .b = AT_SYMLINK_NOFOLLOW),
		ST(S_CHMOD2, .p1 = "/f", .a = 0600, .b = AT_SYMLINK_NOFOLLOW),
		ST(S_CHMOD2, .p1 = "/f", .a = 0600, .b = 0x8),
		ST(S_CHMOD2, .dir = 3, .p1 = "", .a = 0640, .b = AT_EMPTY_PATH),
		ST(S_CHMOD, .p1 = "/l", .a = 0444),
		ST(S_STAT, .p1 = "/f"),
		ST(S_CHOWN, .p1 = "/l", .a = 5, .b = 6, .c = AT_SYMLINK_NOFOLLOW),
		ST(S_STAT, .p1 = "/l", .a = AT_SYMLINK_NOFOLLOW),
		ST(S_CHOWN, .dir = 3, .p1 = "", .a = 7, .b = 8, .c = AT_EMPTY_PATH),
		ST(S_CHOWN, .p1 = "/f", .a = 7, .b = 8, .c = 0x8),
		ST(S_FSTAT, .fd = 3),
		ST(S_UMASK, .a = 077),
		ST(S_MKDIR, .p1 = "/d", .a = 01777),
		ST(S_STAT, .p1 = "/d"),
		ST(S_OPEN, .p1 = "/d/g", .a = O_CREAT | O_WRONLY, .b = 06777),
		ST(S_STAT, .p1 = "/d/g"),
		ST(S_MKNOD, .p1 = "/d/p", .a = S_IFIFO | 0666),
		ST(S_STAT, .p1 = "/d/p"),
		ST(S_UMASK, .a = 022),
		ST_END,
	};
	run_diff(s);
}

FX_TEST(sbx_diff, xattrs_and_dirents)
{
	static const struct step s[] = {
		ST(S_OPEN, .p1 = "/f", .a = O_CREAT | O_RDWR, .b = 0644),
		ST(S_SYMLINK, .p1 = "f", .p2 = "/l"),
		ST(S_XATTR_LF, .fd = 3, .p2 = "user.a", .a = 0),
		ST(S_XATTR_LF, .fd = 3, .p2 = "user.a", .a = 1),
		ST(S_XATTR_LF, .fd = 3, .a = 2),
		ST(S_XATTR_LF, .p1 = "/l", .p2 = "user.a", .a = 1),
		ST(S_XATTR_LF, .p1 = "/l", .p2 = "user.b", .a = 0),
		ST(S_XATTR_LF, .p1 = "/l", .p2 = "trusted.b", .a = 0),
		ST(S_XATTR_LF, .p1 = "/l", .p2 = "trusted.b", .a = 1),
		ST(S_GETXATTR, .p1 = "/l", .p2 = "user.a", .a = 100),
		ST(S_XATTR_LF, .p1 = "/l", .a = 2),
		ST(S_XATTR_LF, .p1 = "/f", .p2 = "user.a", .a = 3),
		ST(S_XATTR_LF, .fd = 3, .p2 = "user.a", .a = 3),
		ST(S_XATTR_LF, .fd = 3, .p2 = "", .a = 0),
		ST(S_XATTR_LF, .fd = 3, .p2 = "bogus.x", .a = 0),
		ST(S_XATTR_LF, .fd = 99, .p2 = "user.a", .a = 1),
		ST(S_OPEN, .p1 = "/f", .a = O_PATH),
		ST(S_XATTR_LF, .fd = 4, .p2 = "user.a", .a = 1),
		ST(S_MKDIR, .p1 = "/d", .a = 0755),
		ST(S_MKDIR, .p1 = "/d/sub", .a = 0755),
		ST(S_SYMLINK, .p1 = "x", .p2 = "/d/link"),
		ST(S_MKNOD, .p1 = "/d/fifo", .a = S_IFIFO | 0644),
		ST(S_OPEN, .p1 = "/d/a", .a = O_CREAT | O_WRONLY, .b = 0644),
		ST(S_OPEN, .p1 = "/d/bb", .a = O_CREAT | O_WRONLY, .b = 0644),
		ST(S_OPEN, .p1 = "/d/a-rather-long-name-to-change-the-record-size", .a = O_CREAT | O_WRONLY, .b = 0644),
		ST(S_CLOSE_RANGE, .a = 5, .b = ~0U),
		ST(S_OPEN, .p1 = "/d", .a = O_RDONLY | O_DIRECTORY),
		ST(S_GETDENTS, .fd = 5, .a = 4096),
		ST(S_DENTS_RESUME, .fd = 5),
		ST(S_UNLINK, .p1 = "/d/bb"),
		ST(S_DENTS_RESUME, .fd = 5),
		ST(S_GETDENTS, .fd = 5, .a = 4096),
		ST(S_OPEN, .p1 = "/d/sub", .a = O_RDONLY | O_DIRECTORY),
		ST(S_UNLINK, .p1 = "/d/sub", .a = AT_REMOVEDIR),
		ST(S_GETDENTS, .fd = 6, .a = 4096),
		ST(S_OPEN, .dir = 6, .p1 = "new", .a = O_CREAT | O_WRONLY, .b = 0644),
		ST(S_FSTAT, .fd = 6),
		ST_END,
	};
	run_diff(s);
}

/* POSIX record locks as one process sees them: argument checks, access
 * mode rules, and that a process's own locks never conflict. */
FX_TEST(sbx_diff, record_locks)
{
	static const struct step s[] = {
		ST(S_OPEN, .p1 = "/f", .a = O_CREAT | O_RDWR, .b = 0644),
		ST(S_WRITE, .fd = 3, .p1 = "0123456789"),
		ST(S_OPEN, .p1 = "/f", .a = O_RDONLY),
		ST(S_OPEN, .p1 = "/f", .a = O_WRONLY),
		ST(S_OPEN, .p1 = "/f", .a = O_PATH),
		ST(S_LOCK, .fd = 3, .a = F_SETLK, .b = F_WRLCK, .c = 0, .d = 5),
		ST(S_LOCK, .fd = 3, .a = F_GETLK, .b = F_WRLCK, .c = 0, .d = 0),
		ST(S_LOCK, .fd = 4, .a = F_SETLK, .b = F_RDLCK, .c = 2, .d = 10),
		ST(S_LOCK, .fd = 4, .a = F_SETLK, .b = F_WRLCK, .c = 0, .d = 1),
		ST(S_LOCK, .fd = 5, .a = F_SETLK, .b = F_RDLCK, .c = 0, .d = 1),
		ST(S_LOCK, .fd = 5, .a = F_SETLKW, .b = F_WRLCK, .c = 0, .d = 1),
		ST(S_LOCK, .fd = 6, .a = F_SETLK, .b = F_RDLCK, .c = 0, .d = 1),
		ST(S_LOCK, .fd = 6, .a = F_GETLK, .b = F_RDLCK, .c = 0, .d = 1),
		ST(S_LOCK, .fd = 3, .a = F_SETLK, .b = 7, .c = 0, .d = 1),
		ST(S_LOCK, .fd = 3, .a = F_GETLK, .b = F_UNLCK, .c = 0, .d = 1),
		ST(S_LOCK, .fd = 3, .a = F_SETLK, .b = F_RDLCK, .p1 = "bad"),
		ST(S_LOCK, .fd = 3, .a = F_SETLK, .b = F_RDLCK, .c = -1, .d = 1),
		ST(S_LOCK, .fd = 3, .a = F_SETLK, .b = F_RDLCK, .c = 5, .d = -6),
		ST(S_LOCK, .fd = 3, .a = F_SETLK, .b = F_RDLCK, .c = 5, .d = -5),
		ST(S_LOCK, .fd = 3, .a = F_SETLK, .b = F_RDLCK, .c = -3, .d = 2, .p1 = "end"),
		ST(S_LOCK, .fd = 3, .a = F_SETLK, .b = F_RDLCK, .c = -30, .d = 2, .p1 = "end"),
		ST(S_LOCK, .fd = 3, .a = F_SETLK, .b = F_RDLCK, .c = 0, .d = 2, .p1 = "cur"),
		ST(S_LOCK, .fd = 3, .a = F_SETLK, .b = F_RDLCK, .c = INT64_MAX, .d = 2),
		ST(S_LOCK, .fd = 3, .a = F_SETLK, .b = F_UNLCK, .c = 0, .d = 0),
		ST(S_LOCK, .fd = 99, .a = F_SETLK, .b = F_RDLCK),
		ST(S_CLOSE, .fd = 4),
		ST(S_LOCK, .fd = 3, .a = F_GETLK, .b = F_WRLCK, .c = 0, .d = 0),
		ST_END,
	};
	run_diff(s);
}

/* poll with timeouts on a FIFO: a timeout with nothing to read, writable at
 * once, readable after a write, POLLHUP once the writer is gone, POLLNVAL
 * for a closed fd (and no wait then). */
FX_TEST(sbx_diff, poll_fifo)
{
	static const struct step s[] = {
		ST(S_MKNOD, .p1 = "/p", .a = S_IFIFO | 0644),
		ST(S_OPEN, .p1 = "/p", .a = O_RDONLY | O_NONBLOCK),
		ST(S_POLL, .fd = 3, .a = POLLIN, .b = 30),
		ST(S_OPEN, .p1 = "/p", .a = O_WRONLY),
		ST(S_POLL, .fd = 3, .a = POLLIN, .b = 30),
		ST(S_POLL, .fd = 4, .a = POLLOUT, .b = -1),
		ST(S_WRITE, .fd = 4, .p1 = "x"),
		ST(S_POLL, .fd = 3, .a = POLLIN, .b = -1),
		ST(S_POLL, .fd = 3, .a = POLLOUT, .b = 30),
		ST(S_CLOSE, .fd = 4),
		ST(S_READ, .fd = 3, .a = 10),
		ST(S_POLL, .fd = 3, .a = POLLIN, .b = -1),
		ST(S_POLL, .fd = 99, .a = POLLIN, .b = -1),
		ST_END,
	};
	run_diff(s);
}
