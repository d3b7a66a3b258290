/* test_formats.c — the generated files parsed by the real tools: findmnt
 * (util-linux) on mountinfo and mounts, procps (free, uptime, vmstat) on
 * meminfo, stat, uptime and loadavg bound over the host's /proc files in
 * a private mount namespace (unshare -m), and busybox applets (ps, mount,
 * top) in a chroot whose /proc holds copies of the generated tree.
 * Needs root, util-linux, procps and busybox-static (scripts/deps.sh). */
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "proc_fx.h"

static char tmpdir[64];

/* Copies /proc/<rel> of the sandbox to <tmpdir>/root/proc/<rel>. */
static void dump(const char *rel)
{
	char src[128], dst[256];
	snprintf(src, sizeof src, "/proc/%s", rel);
	snprintf(dst, sizeof dst, "%s/root/proc/%s", tmpdir, rel);
	char *s;
	ssize_t n = pfx_read(src, &s);
	cr_assert_geq(n, 0, "%s: %s", src, fx_err(n));
	FILE *f = fopen(dst, "w");
	cr_assert_not_null(f, "%s", dst);
	cr_assert_eq(fwrite(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	free(s);
}

/* Runs a shell command; returns its stdout (static buffer) and asserts
 * exit status 0. */
static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *run(const char *fmt, ...)
{
	static char out[16384];
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p, "%s", cmd);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	int st = pclose(p);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "`%s` failed (status %d): %s", cmd, st, out);
	return out;
}

static void make_tree(void)
{
	strcpy(tmpdir, "/tmp/uvfs-proc-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	run("mkdir -p %s/root/proc/1/task/1 %s/root/bin %s/root/proc/sys/kernel && ln -s 1 %s/root/proc/self", tmpdir,
	    tmpdir, tmpdir, tmpdir);
	const char *files[] = { "meminfo", "stat", "cpuinfo", "loadavg", "uptime", "version", "filesystems",
				"mounts", "cmdline", "1/stat", "1/status", "1/cmdline", "1/comm", "1/statm",
				"1/environ", "1/mounts", "1/mountinfo", "1/task/1/stat", "sys/kernel/hostname",
				"sys/kernel/osrelease", NULL };
	for (int i = 0; files[i]; i++)
		dump(files[i]);
}

static void remove_tree(void)
{
	if (!getenv("UVFS_PROC_KEEP"))
		run("rm -rf %s", tmpdir);
}

PROC_TEST(formats, findmnt_mountinfo)
{
	fx_must_mkdir("/mnt a", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/mnt a", "size=1m", UVFS_MNT_NOATIME));
	fx_must_mkdir("/ro", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/ro", NULL, UVFS_MNT_RDONLY));
	make_tree();
	char *o = run("findmnt -F %s/root/proc/1/mountinfo -n -P -o TARGET,FSTYPE,SOURCE,VFS-OPTIONS,FS-OPTIONS", tmpdir);
	cr_assert(strstr(o, "TARGET=\"/proc\" FSTYPE=\"proc\" SOURCE=\"proc\" VFS-OPTIONS=\"rw,nosuid,nodev,noexec\""),
		  "%s", o);
	cr_assert(strstr(o, "TARGET=\"/mnt a\" FSTYPE=\"tmpfs\" SOURCE=\"none\" VFS-OPTIONS=\"rw,noatime\" "
			    "FS-OPTIONS=\"rw,size=1024k"),
		  "%s", o);
	cr_assert(strstr(o, "TARGET=\"/ro\" FSTYPE=\"tmpfs\" SOURCE=\"none\" VFS-OPTIONS=\"ro\""), "%s", o);
	/* The tree findmnt builds from parent IDs: /proc under /. */
	o = run("findmnt -F %s/root/proc/1/mountinfo -n -r -o TARGET --target '/mnt a'", tmpdir);
	cr_assert_str_eq(o, "/mnt\\x20a\n");
	/* mounts (fstab-like format) too. */
	o = run("findmnt -F %s/root/proc/mounts -n -P -o TARGET,FSTYPE,OPTIONS", tmpdir);
	cr_assert(strstr(o, "TARGET=\"/mnt a\" FSTYPE=\"tmpfs\" OPTIONS=\"rw,noatime,size=1024k"), "%s", o);
	remove_tree();
}

PROC_TEST(formats, procps)
{
	make_tree();
	char *mem;
	pfx_read("/proc/meminfo", &mem);
	unsigned long long total = strtoull(mem + strlen("MemTotal:"), NULL, 10);
	free(mem);
	char *o = run("unshare -m sh -c 'for f in meminfo stat uptime loadavg; do mount --bind %s/root/proc/$f /proc/$f "
		      "|| exit 1; done; free -k; uptime; vmstat 1 1'",
		      tmpdir);
	unsigned long long shown = 0;
	char *m = strstr(o, "\nMem:");
	cr_assert(m && sscanf(m, "\nMem: %llu", &shown) == 1, "%s", o);
	cr_assert_eq(shown, total, "free -k does not show MemTotal %llu:\n%s", total, o);
	cr_assert(strstr(o, "load average: 0.00, 0.00, 0.00"), "%s", o);
	cr_assert(strstr(o, "procs -----------memory----------"), "%s", o);
	remove_tree();
}

PROC_TEST(formats, busybox_chroot)
{
	make_tree();
	run("cp /bin/busybox %s/root/bin/busybox", tmpdir);
	char *o = run("chroot %s/root /bin/busybox ps -o pid,comm,args", tmpdir);
	int pid = 0;
	char comm[32], args[64];
	char *l = strchr(o, '\n');
	cr_assert(l && sscanf(l, " %d %31s %63[^\n]", &pid, comm, args) == 3, "%s", o);
	cr_assert_eq(pid, 1, "%s", o);
	cr_assert_str_eq(comm, "sh");
	cr_assert_str_eq(args, "/bin/sh -c x y");
	o = run("chroot %s/root /bin/busybox mount", tmpdir);
	cr_assert(strstr(o, "proc on /proc type proc (rw,nosuid,nodev,noexec)"), "%s", o);
	o = run("chroot %s/root /bin/busybox top -b -n 1", tmpdir);
	cr_assert(strstr(o, "Mem: "), "%s", o);
	cr_assert(strstr(o, "Load average: 0.00 0.00 0.00 0/1 1"), "%s", o);
	remove_tree();
}
