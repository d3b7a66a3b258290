/* fixture.h — shared set-up for the criterion suites of the VFS core.
 *
 * Every FX_TEST gets a fresh struct uvfs with tmpfs registered (user-mount,
 * user-list), a mount namespace rooted at a fresh tmpfs, and the namespace
 * root vd in fx.root. After the body returns, fx_teardown() puts the root
 * and the namespace, calls uvfs_destroy() and asserts that every live count
 * is zero (a failing body skips the teardown: it has failed already).
 *
 * Criterion runs each test in its own forked child, so the global fx is
 * private to the test.
 */
#pragma once

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "uvfs.h"

struct fx {
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct uvfs_vd root; /* namespace root, one reference */
	struct uvfs_cred cred; /* root with every capability */
	struct uvfs_cred user; /* uid 1000, gid 1000, no caps */
	struct uvfs_cred user2; /* uid 1001, gid 1001, no caps */
};
extern struct fx fx;

/* Creates the instance and namespace (asserting success). */
void fx_setup(void);
/* Same with a mount data string / flags for the root tmpfs. */
void fx_setup_opts(const char *data, unsigned mnt_flags);
/* Puts fx.root and fx.ns, destroys the instance and asserts no leaks. */
void fx_teardown(void);
/* Asserts uvfs_destroy(vfs) reports zero of everything (vfs is destroyed). */
void fx_destroy_checked(struct uvfs *vfs);

/* A test with the standard fixture: set-up, body, checked teardown. */
#define FX_TEST(suite, name, ...)                                                                                \
	static void fxbody_##suite##_##name(void);                                                               \
	Test(suite, name, .timeout = 60, ##__VA_ARGS__)                                                         \
	{                                                                                                        \
		fx_setup();                                                                                      \
		fxbody_##suite##_##name();                                                                       \
		fx_teardown();                                                                                   \
	}                                                                                                        \
	static void fxbody_##suite##_##name(void)

/* Path operations rooted at the namespace root. */
struct uvfs_pathop fx_pop(const char *path); /* start = root, no final follow */
struct uvfs_pathop fx_popf(const char *path); /* start = root, UVFS_PATH_FOLLOW */
struct uvfs_pathop fx_pop_at(const struct uvfs_vd *start, const char *path, unsigned flags);

/* Convenience wrappers as root (fx.cred). Return 0 / -errno. */
int fx_mkdir(const char *path, mode_t mode);
int fx_write_file(const char *path, const char *data); /* O_CREAT|O_TRUNC|O_WRONLY, 0644 */
ssize_t fx_read_file(const char *path, char *buf, size_t len); /* NUL-terminates if room */
int fx_stat(const char *path, struct statx *st); /* follows a final symlink */
int fx_lstat(const char *path, struct statx *st);
int fx_symlink(const char *target, const char *path);
int fx_open(const char *path, int oflags, mode_t mode, struct uvfs_file **out); /* follows */
int fx_open_as(const struct uvfs_cred *cred, const char *path, int oflags, mode_t mode, struct uvfs_file **out);
int fx_chmod(const char *path, mode_t mode);
int fx_chown(const char *path, uint32_t uid, uint32_t gid);
int fx_mount_tmpfs(const char *path, const char *data, unsigned flags);
int fx_umount(const char *path, int flags);
/* Asserting forms. */
uint64_t fx_ino(const char *path); /* lstat's ino; asserts success */
uint32_t fx_mode(const char *path); /* lstat's full st_mode; asserts success */
void fx_must_mkdir(const char *path, mode_t mode);
void fx_must_write(const char *path, const char *data);
/* Names in directory path (excluding "." and ".."), sorted, joined with ','. */
void fx_list_dir(const char *path, char *out, size_t len);

/* A user cred with one capability added. */
struct uvfs_cred fx_user_with_cap(int cap);

/* errno name for messages ("ENOENT"), or the number. */
const char *fx_err(long rc);

/* Assert rc == expected errno (negative) with a readable message. */
#define FX_ASSERT_ERR(rc, expected)                                                                              \
	do {                                                                                                     \
		long fx_rc_ = (long)(rc);                                                                        \
		long fx_ex_ = (long)(expected);                                                                  \
		cr_assert(fx_rc_ == fx_ex_, "%s: expected %s, got %s", #rc, fx_err(fx_ex_), fx_err(fx_rc_));    \
	} while (0)
#define FX_ASSERT_OK(rc) FX_ASSERT_ERR(rc, 0)
