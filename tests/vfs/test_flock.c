/* tests/vfs/test_flock.c — uvfs_file_lock's own checks (Linux fcntl's
 * errnos), and -ENOLCK for a filesystem without a lock op (tmpfs: the
 * caller's table applies). The gofer's op is tested in
 * tests/gofer/test_gofer_core.c. */
#include <fcntl.h>

#include "../lib/fixture.h"

FX_TEST(flock, checks_then_enolck_without_op)
{
	fx_must_write("/f", "0123456789");
	struct uvfs_file *r, *w, *p;
	cr_assert_eq(fx_open("/f", O_RDONLY, 0, &r), 0);
	cr_assert_eq(fx_open("/f", O_WRONLY, 0, &w), 0);
	cr_assert_eq(fx_open("/f", O_PATH, 0, &p), 0);
	cr_assert(!uvfs_file_has_lock_op(r));
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	cr_assert_eq(uvfs_file_lock(r, 1, F_SETLK, &l), -EBADF, "write lock on a read-only file");
	l.l_type = F_RDLCK;
	cr_assert_eq(uvfs_file_lock(w, 1, F_SETLKW, &l), -EBADF, "read lock on a write-only file");
	cr_assert_eq(uvfs_file_lock(p, 1, F_GETLK, &l), -EBADF, "O_PATH");
	l.l_type = F_UNLCK;
	cr_assert_eq(uvfs_file_lock(r, 1, F_GETLK, &l), -EINVAL);
	l.l_type = 42;
	cr_assert_eq(uvfs_file_lock(r, 1, F_SETLK, &l), -EINVAL);
	l.l_type = F_RDLCK;
	cr_assert_eq(uvfs_file_lock(r, 1, F_SETFL, &l), -EINVAL, "not a lock command");
	cr_assert_eq(uvfs_file_lock(r, 1, F_SETLK, NULL), -EFAULT);
	cr_assert_eq(uvfs_file_lock(r, 1, F_SETLK, &l), -ENOLCK, "tmpfs has no lock op");
	cr_assert_eq(l.l_type, F_RDLCK, "fl untouched");
	uvfs_file_put(r);
	uvfs_file_put(w);
	uvfs_file_put(p);
}
