/* test_mountinfo.c — /proc/[pid]/mounts and mountinfo from the namespace's
 * real mounts: every change (mount, bind, umount, detach, ro flip) shows
 * in the next read of an already open file, lines are in mount-ID order,
 * escaped as Linux does, relative to the task's root, and noatime is
 * added to the mount options rather than replacing them. */
#include "proc_fx.h"

/* Re-read f from the start (a read at 0 regenerates). */
static char *reread(struct uvfs_file *f)
{
	static char buf[16384];
	cr_assert_eq(uvfs_seek(f, 0, SEEK_SET), 0);
	size_t len = 0;
	ssize_t n;
	while ((n = uvfs_read(f, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	cr_assert_geq(n, 0);
	buf[len] = 0;
	return buf;
}

static int nlines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

PROC_TEST(mountinfo, round_trip)
{
	struct uvfs_file *mi, *mo;
	FX_ASSERT_OK(fx_open("/proc/self/mountinfo", O_RDONLY, 0, &mi));
	FX_ASSERT_OK(fx_open("/proc/mounts", O_RDONLY, 0, &mo));
	char *s = reread(mi);
	cr_assert_eq(nlines(s), 2, "%s", s);
	cr_assert(strstr(s, " / / rw - tmpfs "), "%s", s);
	cr_assert(strstr(s, " / /proc rw,nosuid,nodev,noexec - proc proc rw\n"), "%s", s);
	s = reread(mo);
	cr_assert(strstr(s, "proc /proc proc rw,nosuid,nodev,noexec 0 0\n"), "%s", s);

	/* A mount with a space in its name, noatime and fs options. */
	fx_must_mkdir("/mnt a", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/mnt a", "size=1m", UVFS_MNT_NOATIME));
	s = reread(mi);
	cr_assert_eq(nlines(s), 3, "%s", s);
	char *l = strstr(s, " / /mnt\\040a rw,noatime - tmpfs none rw,");
	cr_assert(l, "%s", s);
	cr_assert(!strncmp(strchr(l, '\n') - 10, "size=1024k", 10), "fs options kept: %s", l);
	s = reread(mo);
	cr_assert(strstr(s, "none /mnt\\040a tmpfs rw,noatime,"), "%s", s);

	/* Bind of a subdirectory to names needing \011, \012, \134. */
	fx_must_mkdir("/home/u/sub", 0755);
	fx_must_mkdir("/b\tc", 0755);
	fx_must_mkdir("/n\nl", 0755);
	fx_must_mkdir("/bs\\x", 0755);
	struct uvfs_pathop src = fx_popf("/home/u/sub"), dst = fx_popf("/b\tc");
	FX_ASSERT_OK(uvfs_bind_at(fx.vfs, &fx.cred, &src, &dst, 0));
	dst = fx_popf("/n\nl");
	FX_ASSERT_OK(uvfs_bind_at(fx.vfs, &fx.cred, &src, &dst, 0));
	dst = fx_popf("/bs\\x");
	FX_ASSERT_OK(uvfs_bind_at(fx.vfs, &fx.cred, &src, &dst, 0));
	s = reread(mi);
	cr_assert_eq(nlines(s), 6, "%s", s);
	cr_assert(strstr(s, " /home/u/sub /b\\011c rw - tmpfs "), "%s", s);
	cr_assert(strstr(s, " /home/u/sub /n\\012l rw - tmpfs "), "%s", s);
	cr_assert(strstr(s, " /home/u/sub /bs\\134x rw - tmpfs "), "%s", s);

	/* Mount-ID order, each parent shown before its children. */
	unsigned long long prev = 0;
	for (char *p = s; *p; p = strchr(p, '\n') + 1) {
		unsigned long long id = strtoull(p, NULL, 10);
		cr_assert_gt(id, prev, "%s", s);
		prev = id;
	}

	/* Read-only flip shows at once. */
	struct uvfs_vd v = pfx_vd("/mnt a");
	FX_ASSERT_OK(uvfs_set_mount_readonly(v.mount, true));
	s = reread(mi);
	cr_assert(strstr(s, " / /mnt\\040a ro,noatime - tmpfs "), "%s", s);
	s = reread(mo);
	cr_assert(strstr(s, "none /mnt\\040a tmpfs ro,noatime,"), "%s", s);
	FX_ASSERT_OK(uvfs_set_mount_readonly(v.mount, false));
	uvfs_vd_put(&v);
	s = reread(mi);
	cr_assert(strstr(s, " / /mnt\\040a rw,noatime - tmpfs "), "%s", s);

	/* umount and detach. */
	FX_ASSERT_OK(fx_umount("/b\tc", 0));
	s = reread(mi);
	cr_assert_eq(nlines(s), 5, "%s", s);
	cr_assert_null(strstr(s, "/b\\011c"), "%s", s);
	struct uvfs_file *busy;
	FX_ASSERT_OK(fx_open("/n\nl", O_RDONLY | O_DIRECTORY, 0, &busy));
	FX_ASSERT_ERR(fx_umount("/n\nl", 0), -EBUSY);
	FX_ASSERT_OK(fx_umount("/n\nl", UVFS_UMOUNT_DETACH));
	s = reread(mi);
	cr_assert_eq(nlines(s), 4, "%s", s);
	cr_assert_null(strstr(s, "/n\\012l"), "%s", s);
	uvfs_file_put(busy);
	uvfs_file_put(mi);
	uvfs_file_put(mo);
}

/* All three names of the mount table agree. */
PROC_TEST(mountinfo, self_and_pid_agree)
{
	FX_ASSERT_OK(fx_mount_tmpfs("/home", NULL, 0));
	char *a, *b, *c;
	cr_assert_gt(pfx_read("/proc/mounts", &a), 0);
	cr_assert_gt(pfx_read("/proc/self/mounts", &b), 0);
	cr_assert_gt(pfx_read("/proc/1/mounts", &c), 0);
	cr_assert_str_eq(a, b);
	cr_assert_str_eq(a, c);
	free(a);
	free(b);
	free(c);
}

/* A chrooted task sees the mounts below its root, relative to it. */
PROC_TEST(mountinfo, relative_to_task_root)
{
	fx_must_mkdir("/home/u/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/home/u/m", NULL, 0));
	fx_must_mkdir("/elsewhere", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/elsewhere", NULL, 0));
	FX_ASSERT_OK(pfx_register(5, 0, "/home", "/home/u", "jail", NULL));
	char *s;
	cr_assert_gt(pfx_read("/proc/5/mountinfo", &s), 0);
	/* As Linux's seq_path_root: the mount holding the root lies above
	 * it (its mount point is unreachable) and is skipped. */
	cr_assert_eq(nlines(s), 1, "%s", s);
	cr_assert(strstr(s, " / /u/m rw - tmpfs "), "%s", s);
	cr_assert_null(strstr(s, "elsewhere"), "%s", s);
	cr_assert_null(strstr(s, "proc"), "%s", s);
	free(s);
	cr_assert_gt(pfx_read("/proc/5/mounts", &s), 0);
	cr_assert_str_eq(s, "none /u/m tmpfs rw 0 0\n");
	free(s);
	/* Its cwd link is relative to the reader's root (the init task's). */
	char buf[128];
	cr_assert_gt(pfx_readlink("/proc/5/cwd", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "/home/u");
}
