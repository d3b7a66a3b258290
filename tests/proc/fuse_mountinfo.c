/* tests/proc/fuse_mountinfo.c — /proc/self/mountinfo read through the FUSE
 * export while the namespace changes in process: a tmpfs root with proc on
 * /proc and an init task is exported with uvfs_fuse_start; each in-process
 * mount, bind, read-only flip and umount must show in the next read of
 * MNT/proc/self/mountinfo at once (direct_io, zero timeouts: no kernel
 * cache), also on the same descriptor after lseek(0), and util-linux
 * findmnt must parse it. Prints "ok NAME" / "not ok NAME: why".
 * Built and run by tests/sh/t_proc_fuse.sh; not a criterion suite.
 *
 * usage: fuse_mountinfo MOUNTPOINT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsimpl/proc/proc.h"
#include "fsimpl/tmpfs/tmpfs.h"
#include "fuse/fuse_export.h"
#include "vfs/uvfs_fs.h"

static int fails;
static void check(const char *name, int cond, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check(const char *name, int cond, const char *fmt, ...)
{
	if (cond) {
		printf("ok proc-fuse %s\n", name);
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	printf("not ok proc-fuse %s: ", name);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fails++;
}

static char text[65536];
static const char *read_fd(int fd)
{
	ssize_t n, len = 0;
	while ((n = read(fd, text + len, sizeof text - 1 - (size_t)len)) > 0)
		len += n;
	text[len] = 0;
	return n < 0 ? "" : text;
}
static const char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return "";
	read_fd(fd);
	close(fd);
	return text;
}

/* findmnt's TARGET column for the file, one per line. */
static const char *findmnt(const char *file)
{
	static char out[4096];
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "findmnt -F '%s' -n -l -o TARGET,FSTYPE,OPTIONS 2>&1", file);
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
	out[n] = 0;
	int rc = p ? pclose(p) : -1;
	return rc == 0 ? out : "(findmnt failed)";
}

static struct uvfs *vfs;
static struct uvfs_cred root;
static struct uvfs_vd rvd;
static struct uvfs_pathop at(const char *path) { return (struct uvfs_pathop){ .root = rvd, .start = rvd, .path = path }; }

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuse_mountinfo MOUNTPOINT\n");
		return 2;
	}
	struct uvfs_mntns *ns;
	struct uvfs_tasks *tasks;
	uvfs_cred_init_root(&root);
	int err = uvfs_create(&vfs);
	if (!err)
		err = uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT);
	if (!err)
		err = uvfs_register_fs_type(vfs, &uvfs_proc_type, UVFS_FS_USER_MOUNT);
	if (!err)
		err = uvfs_mntns_new(vfs, &root, "none", "tmpfs", &(struct uvfs_mount_opts){ .data = "size=1m" }, &ns);
	if (err) {
		printf("not ok proc-fuse setup: %s\n", strerror(-err));
		return 1;
	}
	uvfs_mntns_root(ns, &rvd);
	struct uvfs_pathop proc = at("/proc"), mnt = at("/mnt"), mnt2 = at("/mnt2");
	err = uvfs_mkdir_at(vfs, &root, &proc, 0555);
	if (!err)
		err = uvfs_mkdir_at(vfs, &root, &mnt, 0755);
	if (!err)
		err = uvfs_mkdir_at(vfs, &root, &mnt2, 0755);
	if (!err)
		err = uvfs_tasks_new(vfs, &tasks);
	if (!err)
		err = uvfs_mount_at(vfs, &root, "proc", &proc, "proc", &(struct uvfs_mount_opts){ 0 });
	if (!err)
		err = uvfs_task_register(tasks, &(struct uvfs_task_params){ .pid = 1, .root = &rvd, .cwd = &rvd, .mntns = ns });
	struct uvfs_fuse *fx = NULL;
	if (!err)
		err = uvfs_fuse_start(vfs, ns, argv[1], NULL, NULL, &fx);
	if (err) {
		printf("not ok proc-fuse start: %s\n", strerror(-err));
		return 1;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/proc/self/mountinfo", argv[1]);
	int fd = open(path, O_RDONLY);
	check("open MNT/proc/self/mountinfo", fd >= 0, "%s", strerror(errno));
	const char *s = read_fd(fd);
	check("initial: / and /proc, no /mnt", strstr(s, " / / rw") && strstr(s, " / /proc rw") && !strstr(s, " /mnt"),
	      "%s", s);
	const char *fm = findmnt(path);
	check("findmnt parses it", !strncmp(fm, "/ ", 2) && strstr(fm, "\n/proc ") && strstr(fm, " proc "), "%s", fm);

	/* mount */
	err = uvfs_mount_at(vfs, &root, "scratch", &mnt, "tmpfs", &(struct uvfs_mount_opts){ .data = "size=2m" });
	s = slurp(path);
	check("mount shows at once", !err && strstr(s, " / /mnt rw - tmpfs scratch rw,size=2048k"), "%d %s", err, s);
	fm = findmnt(path);
	check("findmnt sees the mount", strstr(fm, "\n/mnt ") && strstr(fm, "size=2048k"), "%s", fm);
	/* the same descriptor, read again from 0 (seq_file's re-read) */
	lseek(fd, 0, SEEK_SET);
	s = read_fd(fd);
	check("same fd after lseek 0 shows it", strstr(s, " /mnt ") != NULL, "%s", s);

	/* bind */
	err = uvfs_bind_at(vfs, &root, &mnt, &mnt2, 0);
	s = slurp(path);
	check("bind shows at once", !err && strstr(s, " / /mnt2 rw - tmpfs scratch"), "%d %s", err, s);

	/* read-only flip */
	struct uvfs_vd v2;
	err = uvfs_get_dentry_at(vfs, &root, &(struct uvfs_pathop){ .root = rvd, .start = rvd, .path = "/mnt2", .flags = UVFS_PATH_FOLLOW }, 0, &v2);
	if (!err) {
		err = uvfs_set_mount_readonly(v2.mount, true);
		s = slurp(path);
		check("read-only flip shows at once", !err && strstr(s, " / /mnt2 ro - tmpfs"), "%d %s", err, s);
		err = uvfs_set_mount_readonly(v2.mount, false);
		s = slurp(path);
		check("and back", !err && strstr(s, " / /mnt2 rw - tmpfs"), "%d %s", err, s);
		uvfs_vd_put(&v2);
	} else {
		check("read-only flip", 0, "lookup /mnt2: %s", strerror(-err));
	}

	/* umount and detach */
	err = uvfs_umount_at(vfs, &root, &mnt2, 0);
	s = slurp(path);
	check("umount shows at once", !err && !strstr(s, " /mnt2 ") && strstr(s, " /mnt "), "%d %s", err, s);
	err = uvfs_umount_at(vfs, &root, &mnt, UVFS_UMOUNT_DETACH);
	lseek(fd, 0, SEEK_SET);
	s = read_fd(fd);
	check("detach shows at once (same fd)", !err && !strstr(s, " /mnt"), "%d %s", err, s);
	close(fd);

	/* Generated files and links through FUSE. */
	char link[64];
	snprintf(path, sizeof path, "%s/proc/self", argv[1]);
	ssize_t ln = readlink(path, link, sizeof link - 1);
	check("MNT/proc/self is the init task", ln == 1 && link[0] == '1', "%zd", ln);
	snprintf(path, sizeof path, "%s/proc/1/cgroup", argv[1]);
	check("MNT/proc/1/cgroup reads (no hierarchy: empty)", access(path, R_OK) == 0 && !strcmp(slurp(path), ""),
	      "%s", slurp(path));

	uvfs_fuse_stop(fx);
	uvfs_vd_put(&rvd);
	uvfs_tasks_destroy(tasks);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	memset(&live, 0, sizeof live);
	int drc = uvfs_destroy(vfs, &live);
	check("teardown leaves 0 live objects", uvfs_report_teardown(drc, &live), "see stderr");
	return fails ? 1 : 0;
}
