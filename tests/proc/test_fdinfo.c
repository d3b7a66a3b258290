/* test_fdinfo.c — /proc/[pid]/fdinfo/N from the task's fd table: pos,
 * flags (octal, with O_LARGEFILE and O_CLOEXEC as Linux adds them), mnt_id
 * (the ID mountinfo shows) and ino; listing, ENOENT and staleness. */
#include <inttypes.h>

#include "proc_fx.h"

#if defined(__x86_64__)
#define K_O_LARGEFILE 0100000
#elif defined(__aarch64__)
#define K_O_LARGEFILE 0400000
#else
#define K_O_LARGEFILE 0
#endif

/* The mount ID mountinfo gives the mount at mount_point. */
static long mount_id_of(const char *mount_point)
{
	char *s, want[256];
	cr_assert_gt(pfx_read("/proc/self/mountinfo", &s), 0);
	snprintf(want, sizeof want, " %s ", mount_point);
	long id = -1;
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		/* id parent major:minor root mount_point ... */
		char *p = line;
		for (int field = 0; field < 4 && p; field++)
			p = strchr(p + 1, ' ');
		if (p && !strncmp(p, want, strlen(want)))
			id = strtol(line, NULL, 10);
	}
	free(s);
	return id;
}

PROC_TEST(fdinfo, contents)
{
	fx_must_write("/home/u/f", "0123456789");
	FX_ASSERT_OK(fx_mount_tmpfs("/home/u", NULL, 0));
	fx_must_write("/home/u/g", "abc");
	FX_ASSERT_OK(fx_open("/home/u/g", O_RDWR | O_APPEND, 0, &pfx_fds[3]));
	cr_assert_eq(uvfs_read(pfx_fds[3], (char[2]){ 0 }, 2), 2);
	char buf[256], want[256];
	cr_assert_gt(fx_read_file("/proc/1/fdinfo/3", buf, sizeof buf), 0);
	long mnt = mount_id_of("/home/u");
	cr_assert_gt(mnt, 0);
	snprintf(want, sizeof want, "pos:\t2\nflags:\t0%o\nmnt_id:\t%ld\nino:\t%" PRIu64 "\n",
		 O_RDWR | O_APPEND | K_O_LARGEFILE, mnt, fx_ino("/home/u/g"));
	cr_assert_str_eq(buf, want);
	/* Status flag changes show at once. */
	FX_ASSERT_OK(uvfs_file_set_flags(pfx_fds[3], &fx.cred, O_NONBLOCK));
	cr_assert_gt(fx_read_file("/proc/1/fdinfo/3", buf, sizeof buf), 0);
	snprintf(want, sizeof want, "flags:\t0%o\n", O_RDWR | O_NONBLOCK | K_O_LARGEFILE);
	cr_assert(strstr(buf, want), "%s", buf);
}

static int cloexec_flags(void *arg, int fd) { return fd == 4 ? FD_CLOEXEC : 0; }

PROC_TEST(fdinfo, cloexec_from_fd_flags)
{
	static const struct uvfs_task_fd_ops ops = { .list = pfx_fd_list, .get = pfx_fd_get, .fd_flags = cloexec_flags };
	fx_must_write("/home/u/f", "x");
	FX_ASSERT_OK(fx_open("/home/u/f", O_RDONLY, 0, &pfx_fds[4]));
	FX_ASSERT_OK(fx_open("/home/u/f", O_WRONLY, 0, &pfx_fds[5]));
	struct uvfs_vd r = pfx_vd("/");
	struct uvfs_task_params p = { .pid = 9, .root = &r, .cwd = &r, .mntns = fx.ns, .fd_ops = &ops };
	FX_ASSERT_OK(uvfs_task_register(T, &p));
	uvfs_vd_put(&r);
	char buf[256], want[64];
	cr_assert_gt(fx_read_file("/proc/9/fdinfo/4", buf, sizeof buf), 0);
	snprintf(want, sizeof want, "flags:\t0%o\n", O_RDONLY | O_CLOEXEC | K_O_LARGEFILE);
	cr_assert(strstr(buf, want), "%s", buf);
	cr_assert_gt(fx_read_file("/proc/9/fdinfo/5", buf, sizeof buf), 0);
	snprintf(want, sizeof want, "flags:\t0%o\n", O_WRONLY | K_O_LARGEFILE);
	cr_assert(strstr(buf, want), "%s", buf);
}

PROC_TEST(fdinfo, listing_and_staleness)
{
	fx_must_write("/home/u/f", "x");
	FX_ASSERT_OK(fx_open("/home/u/f", O_RDONLY, 0, &pfx_fds[3]));
	FX_ASSERT_OK(fx_open("/home/u/f", O_RDONLY, 0, &pfx_fds[6]));
	char list[64], buf[256];
	fx_list_dir("/proc/1/fdinfo", list, sizeof list);
	cr_assert_str_eq(list, "3,6");
	/* Linux: the directory is 0555 and its files 0444, owned by the task. */
	cr_assert_eq(fx_mode("/proc/1/fdinfo"), S_IFDIR | 0555);
	cr_assert_eq(fx_mode("/proc/1/fdinfo/3"), S_IFREG | 0444);
	struct statx st;
	FX_ASSERT_ERR(fx_stat("/proc/1/fdinfo/4", &st), -ENOENT);
	FX_ASSERT_ERR(fx_stat("/proc/1/fdinfo/03", &st), -ENOENT);
	/* A file opened before the close keeps its snapshot; a new open is ENOENT. */
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/proc/1/fdinfo/3", O_RDONLY, 0, &f));
	uvfs_file_put(pfx_fds[3]);
	pfx_fds[3] = NULL;
	cr_assert_gt(uvfs_read(f, buf, sizeof buf), 0);
	uvfs_file_put(f);
	FX_ASSERT_ERR(fx_open("/proc/1/fdinfo/3", O_RDONLY, 0, &f), -ENOENT);
	fx_list_dir("/proc/1/fdinfo", list, sizeof list);
	cr_assert_str_eq(list, "6");
	/* No fd table: empty. */
	FX_ASSERT_OK(pfx_register(2, 0, "/", "/", "nofd", NULL));
	fx_list_dir("/proc/2/fdinfo", list, sizeof list);
	cr_assert_str_eq(list, "");
}
