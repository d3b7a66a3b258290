/* Copy-up over a 9p upper (host directories served by diod, as `uvfs mount
 * -t overlay` has them): what it costs in round trips to the upper's
 * server (uvfs_gofer_stats), and that the result on the host is the
 * complete copy (data, mode, owner, times, xattrs) with nothing left in
 * workdir. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fixture.h"
#include "fsimpl/gofer/gofer.h"
#include "fsimpl/gofer/p9/p9.h"
#include "fsimpl/overlay/overlay.h"

static char host[64];
static struct uvfs_filesystem *upfs, *lowfs;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) { return remove(p); }

static const char *hp(const char *rel)
{
	static char b[4][512];
	static int k;
	char *s = b[k++ & 3];
	snprintf(s, 512, "%s/%s", host, rel);
	return s;
}

static void host_write(const char *rel, const char *data, mode_t mode)
{
	int fd = open(hp(rel), O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert_geq(fd, 0, "host write %s", rel);
	cr_assert_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	fchmod(fd, mode);
	close(fd);
}

/* host/{lower,upper,work}; the overlay of them at /m. */
static void osetup(void)
{
	fx_setup();
	cr_assert_eq(uvfs_register_fs_type(fx.vfs, &uvfs_gofer_type, UVFS_FS_USER_MOUNT), 0);
	cr_assert_eq(uvfs_register_fs_type(fx.vfs, &uvfs_overlay_type, UVFS_FS_USER_MOUNT), 0);
	snprintf(host, sizeof(host), "/tmp/uvfs-ovl9p-XXXXXX");
	cr_assert_not_null(mkdtemp(host));
	chmod(host, 0755);
	cr_assert_eq(mkdir(hp("lower"), 0755), 0);
	cr_assert_eq(mkdir(hp("upper"), 0755), 0);
	cr_assert_eq(mkdir(hp("work"), 0755), 0);
}

static void omount(void)
{
	fx_must_mkdir("/m", 0755);
	char data[512];
	snprintf(data, sizeof(data), "lowerdir=%s,upperdir=%s,workdir=%s", hp("lower"), hp("upper"), hp("work"));
	struct uvfs_overlay_host *h;
	int err = uvfs_overlay_host_layers(fx.vfs, &fx.cred, data, &h);
	cr_assert_eq(err, 0, "host layers: %s", strerror(-err));
	const struct uvfs_overlay_opts *in = uvfs_overlay_host_opts(h);
	upfs = uvfs_mount_fs(in->upper.mount); /* lives as long as the overlay */
	lowfs = uvfs_mount_fs(in->lower[0].mount);
	struct uvfs_mount_opts mo = { .data = uvfs_overlay_host_data(h), .internal = (void *)in };
	struct uvfs_pathop t = fx_pop("/m");
	err = uvfs_mount_at(fx.vfs, &fx.cred, "overlay", &t, "overlay", &mo);
	uvfs_overlay_host_put(h);
	cr_assert_eq(err, 0, "mount overlay: %s", strerror(-err));
}

static void oteardown(void)
{
	upfs = lowfs = NULL;
	fx_teardown();
	nftw(host, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t rounds(struct uvfs_filesystem *fs)
{
	struct uvfs_p9_stats s;
	cr_assert_eq(uvfs_gofer_stats(fs, &s), 0);
	return s.rounds;
}

static int work_entries(void)
{
	int n = 0;
	DIR *d = opendir(hp("work"));
	cr_assert_not_null(d);
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* Copies up /m/f by an open for write and returns the upper server's
 * round trips for it (open and close). */
static uint64_t copy_up_rounds(const char *path, uint64_t *lower_used)
{
	struct statx st;
	cr_assert_eq(fx_lstat(path, &st), 0); /* looked up and cached beforehand */
	uint64_t u0 = rounds(upfs), l0 = rounds(lowfs);
	struct uvfs_file *f;
	int err = fx_open(path, O_WRONLY, 0, &f);
	cr_assert_eq(err, 0, "open for write: %s", strerror(-err));
	uvfs_file_put(f);
	if (lower_used)
		*lower_used = rounds(lowfs) - l0;
	return rounds(upfs) - u0;
}

/* A small file with no xattrs: at most 6 round trips to the upper's
 * server for the copy-up (clone work's fid, Tlcreate, Twrite, Tsetattr
 * with a Twalk in flight, Trename, the parent's times) and 2 for the
 * open of the copy itself (Twalk, Tlopen). Through the VFS's generic
 * calls it was 29. */
Test(ovl_copyup_9p, small_file_round_trips, .timeout = 60)
{
	osetup();
	host_write("lower/f", "lower data\n", 0640);
	cr_assert_eq(chown(hp("lower/f"), 1234, 567), 0);
	struct timespec ts[2] = { { 1000, 5 }, { 2000, 7 } };
	cr_assert_eq(utimensat(AT_FDCWD, hp("lower/f"), ts, 0), 0);
	omount();
	uint64_t lower_used;
	uint64_t used = copy_up_rounds("/m/f", &lower_used);
	fprintf(stderr, "open for write with copy-up of a small file: %llu round trips to the upper, %llu to the lower\n",
		(unsigned long long)used, (unsigned long long)lower_used);
	/* The copy is complete on the host, and workdir is empty. */
	struct stat hs;
	cr_assert_eq(lstat(hp("upper/f"), &hs), 0);
	cr_assert_eq(hs.st_mode, S_IFREG | 0640);
	cr_assert_eq(hs.st_uid, 1234);
	cr_assert_eq(hs.st_gid, 567);
	cr_assert_eq(hs.st_nlink, 1);
	cr_assert_eq(hs.st_size, 11);
	cr_assert_eq(hs.st_mtim.tv_sec, 2000);
	cr_assert_eq(hs.st_mtim.tv_nsec, 7);
	cr_assert_eq(hs.st_atim.tv_sec, 1000);
	char buf[64] = "";
	int fd = open(hp("upper/f"), O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(read(fd, buf, sizeof(buf)), 11);
	close(fd);
	cr_assert_str_eq(buf, "lower data\n");
	cr_assert_eq(work_entries(), 0, "workdir left non-empty");
	struct statx st;
	cr_assert_eq(fx_lstat("/m/f", &st), 0);
	cr_assert_eq(st.stx_size, 11);
	cr_assert_eq(st.stx_mode, S_IFREG | 0640);
	cr_assert_leq(used, 6 + 2, "open for write with copy-up of a small file took %llu round trips to the upper",
		      (unsigned long long)used);
	oteardown();
}

/* With xattrs on the lower file they are copied (one more round trip per
 * xattr at most), owner and mode included; setuid survives the chown. */
Test(ovl_copyup_9p, xattrs_and_setuid, .timeout = 60)
{
	osetup();
	cr_assert_eq(mkdir(hp("lower/d"), 0750), 0);
	host_write("lower/d/f", "x", 04750);
	cr_assert_eq(chown(hp("lower/d/f"), 1234, 567), 0);
	cr_assert_eq(chmod(hp("lower/d/f"), 04750), 0);
	cr_assert_eq(setxattr(hp("lower/d/f"), "user.a", "1", 1, 0), 0);
	cr_assert_eq(setxattr(hp("lower/d/f"), "user.bb", "22", 2, 0), 0);
	omount();
	uint64_t used = copy_up_rounds("/m/d/f", NULL);
	fprintf(stderr, "copy-up of a file with 2 xattrs and its parent: %llu round trips\n",
		(unsigned long long)used);
	struct stat hs;
	cr_assert_eq(lstat(hp("upper/d"), &hs), 0);
	cr_assert_eq(hs.st_mode, S_IFDIR | 0750);
	cr_assert_eq(lstat(hp("upper/d/f"), &hs), 0);
	cr_assert_eq(hs.st_mode, S_IFREG | 04750);
	cr_assert_eq(hs.st_uid, 1234);
	cr_assert_eq(hs.st_gid, 567);
	char v[8] = "";
	cr_assert_eq(getxattr(hp("upper/d/f"), "user.a", v, sizeof(v)), 1);
	cr_assert_eq(getxattr(hp("upper/d/f"), "user.bb", v, sizeof(v)), 2);
	cr_assert_eq(memcmp(v, "22", 2), 0);
	cr_assert_eq(work_entries(), 0, "workdir left non-empty");
	oteardown();
}

/* An empty file and a symlink copy up too (no data to write; a symlink
 * has no mode to set). */
Test(ovl_copyup_9p, empty_file_and_symlink, .timeout = 60)
{
	osetup();
	host_write("lower/e", "", 0600);
	cr_assert_eq(symlink("target", hp("lower/s")), 0);
	cr_assert_eq(lchown(hp("lower/s"), 77, 88), 0);
	omount();
	uint64_t used = copy_up_rounds("/m/e", NULL);
	cr_assert_leq(used, 5 + 2, "open for write with copy-up of an empty file took %llu round trips",
		      (unsigned long long)used);
	struct statx st;
	cr_assert_eq(fx_lstat("/m/s", &st), 0);
	struct uvfs_pathop p = fx_pop("/m/s");
	struct uvfs_setattr sa = { .mask = STATX_UID | STATX_GID, .uid = 99, .gid = 88 };
	cr_assert_eq(uvfs_setstat_at(fx.vfs, &fx.cred, &p, &sa, 0), 0); /* lchown copies up */
	struct stat hs;
	cr_assert_eq(lstat(hp("upper/e"), &hs), 0);
	cr_assert_eq(hs.st_mode, S_IFREG | 0600);
	cr_assert_eq(hs.st_size, 0);
	cr_assert_eq(lstat(hp("upper/s"), &hs), 0);
	cr_assert(S_ISLNK(hs.st_mode));
	cr_assert_eq(hs.st_uid, 99);
	char t[16] = "";
	cr_assert_eq(readlink(hp("upper/s"), t, sizeof(t)), 6);
	cr_assert_str_eq(t, "target");
	cr_assert_eq(work_entries(), 0, "workdir left non-empty");
	oteardown();
}

/* A new file in an upper directory is built in work too (Linux builds it
 * in place unless over a whiteout; ours always, as the generic path): 5
 * round trips for the create (clone, Tlcreate, Tsetattr with a Twalk in
 * flight, Trename, and the lookup of the work name by the VFS), 2 for the
 * open; it was 23. Owner and mode are the caller's, also in a setgid
 * directory, and workdir is left empty. */
Test(ovl_copyup_9p, create_round_trips, .timeout = 60)
{
	osetup();
	cr_assert_eq(mkdir(hp("upper/e"), 0777), 0);
	cr_assert_eq(chmod(hp("upper/e"), 0777), 0);
	cr_assert_eq(mkdir(hp("upper/sg"), 0777), 0);
	cr_assert_eq(chown(hp("upper/sg"), 0, 4242), 0);
	cr_assert_eq(chmod(hp("upper/sg"), 02777), 0);
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	cr_assert_eq(utimensat(AT_FDCWD, hp("upper/e"), old, 0), 0);
	omount();
	struct statx st;
	cr_assert_eq(fx_lstat("/m/e/nope", &st), -ENOENT);
	cr_assert_eq(fx_lstat("/m/e", &st), 0);
	cr_assert_eq(st.stx_mtime.tv_sec, 1000);
	uint64_t u0 = rounds(upfs);
	struct uvfs_file *f;
	cr_assert_eq(fx_open_as(&fx.user, "/m/e/f", O_CREAT | O_WRONLY | O_EXCL, 0640, &f), 0);
	uint64_t used = rounds(upfs) - u0;
	cr_assert_eq(uvfs_write(f, "abc", 3), 3);
	uvfs_file_put(f);
	fprintf(stderr, "create of a new file: %llu round trips to the upper\n", (unsigned long long)used);
	cr_assert_eq(fx_open_as(&fx.user, "/m/sg/g", O_CREAT | O_WRONLY | O_EXCL, 02755, &f), 0);
	uvfs_file_put(f);
	struct stat hs;
	cr_assert_eq(lstat(hp("upper/e/f"), &hs), 0);
	cr_assert_eq(hs.st_mode, S_IFREG | 0640);
	cr_assert_eq(hs.st_uid, 1000);
	cr_assert_eq(hs.st_gid, 1000);
	cr_assert_eq(hs.st_size, 3);
	cr_assert_eq(lstat(hp("upper/sg/g"), &hs), 0);
	cr_assert_eq(hs.st_uid, 1000);
	cr_assert_eq(hs.st_gid, 4242, "a setgid directory's group");
	/* Not in group 4242: setgid stripped, as Linux's mode_strip_sgid. */
	cr_assert_eq(hs.st_mode & 07777, 0755, "mode %o", hs.st_mode & 07777);
	cr_assert_eq(fx_lstat("/m/e/f", &st), 0);
	cr_assert_eq(st.stx_uid, 1000);
	cr_assert_eq(st.stx_mode, S_IFREG | 0640);
	/* The directory changed: its cached times too (fscache trusts them). */
	cr_assert_eq(fx_lstat("/m/e", &st), 0);
	cr_assert_gt(st.stx_mtime.tv_sec, 1000, "stale directory mtime after a create");
	cr_assert_eq(work_entries(), 0, "workdir left non-empty");
	cr_assert_leq(used, 5 + 2, "create of a new file took %llu round trips", (unsigned long long)used);
	oteardown();
}
