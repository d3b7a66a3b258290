/* test_mount_all.c — registerFilesystems + mountAll end to end: an unedited
 * `runc spec` bundle over a busybox rootfs boots with real diod gofers; the
 * mount table, /proc/mounts and /proc/self read through the booted tree;
 * teardown leaves zero live objects and no diod; errors name the step and
 * leave nothing behind. Run from the repository root. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot/boot.h"
#include "fixture.h"

#define DATA "tests/boot/data/"

static char bundle[256];

static void sh(const char *fmt, const char *a, const char *b)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, fmt, a, b);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* A bundle dir with rootfs/bin/busybox and config.json = src. */
static void make_bundle(const char *config_src)
{
	if (access("/bin/busybox", X_OK))
		cr_skip_test("busybox-static not installed");
	if (access("/usr/sbin/diod", X_OK))
		cr_skip_test("diod not installed");
	snprintf(bundle, sizeof bundle, "/tmp/uvfs-bootm-XXXXXX");
	cr_assert_not_null(mkdtemp(bundle));
	sh("mkdir -p %s/rootfs/bin && cp /bin/busybox %s/rootfs/bin/busybox", bundle, bundle);
	sh("cp %s %s/config.json", config_src, bundle);
}

static void rm_bundle(void) { sh("rm -rf %s%s", bundle, ""); }

/* True while the test process has a child (a diod) left. */
static bool have_children(void)
{
	siginfo_t si = { 0 };
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

struct booted {
	struct uvfs *vfs;
	struct uvfs_oci_spec *spec;
	struct uvfs_mount_plan *plan;
	struct uvfs_boot *b;
	char err[512];
};

static int boot(struct booted *t, unsigned oci_flags)
{
	char path[300];
	snprintf(path, sizeof path, "%s/config.json", bundle);
	memset(t, 0, sizeof *t);
	cr_assert_eq(uvfs_oci_load(path, &t->spec, t->err, sizeof t->err), 0, "%s", t->err);
	cr_assert_eq(uvfs_oci_compile_mounts(t->spec, oci_flags, &t->plan, t->err, sizeof t->err), 0, "%s", t->err);
	cr_assert_eq(uvfs_create(&t->vfs), 0);
	cr_assert_eq(uvfs_boot_register_filesystems(t->vfs, 0), 0);
	return uvfs_boot_mount_all(
		t->vfs, t->plan,
		&(struct uvfs_boot_opts){ .spec = t->spec, .bundle_dir = bundle, .err = t->err, .errlen = sizeof t->err },
		&t->b);
}

static void unboot(struct booted *t)
{
	uvfs_boot_destroy(t->b);
	uvfs_mount_plan_free(t->plan);
	uvfs_oci_spec_free(t->spec);
	fx_destroy_checked(t->vfs); /* zero live objects */
	cr_assert(!have_children(), "a diod is left after teardown");
}

/* The whole file at path in the booted tree. */
static char *read_all(struct booted *t, const char *path)
{
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	struct uvfs_vd root;
	uvfs_mntns_root(uvfs_boot_mntns(t->b), &root);
	struct uvfs_pathop pop = { .root = root, .start = root, .path = path, .flags = UVFS_PATH_FOLLOW };
	struct uvfs_file *f;
	int rc = uvfs_open_at(t->vfs, &cred, &pop, O_RDONLY, 0, 0, &f);
	uvfs_vd_put(&root);
	cr_assert_eq(rc, 0, "open %s: %d", path, rc);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	while ((n = uvfs_read(f, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	cr_assert_geq(n, 0);
	buf[len] = 0;
	uvfs_file_put(f);
	return buf;
}

/* The mountinfo line of mount point mp (" MP " field 5), or NULL. */
static const char *mi_line(const char *mi, const char *mp, char *line, size_t len)
{
	for (const char *p = mi; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		char a[16], b[16], c[32], d[256], m[256];
		snprintf(line, len, "%.*s", (int)l, p);
		if (sscanf(line, "%15s %15s %31s %255s %255s", a, b, c, d, m) == 5 && !strcmp(m, mp))
			return line;
		p += l + (e ? 1 : 0);
	}
	return NULL;
}

/* Field after " - " is the type. */
static void expect_type(const char *mi, const char *mp, const char *type)
{
	char line[1024], want[64];
	cr_assert_not_null(mi_line(mi, mp, line, sizeof line), "no mount at %s in:\n%s", mp, mi);
	snprintf(want, sizeof want, " - %s ", type);
	cr_assert_not_null(strstr(line, want), "%s: want type %s: %s", mp, type, line);
}

Test(mount_all, runc_spec_bundle_boots, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	cr_assert(have_children(), "no diod running while booted");

	struct uvfs_vd root;
	char *mi = NULL;
	uvfs_mntns_root(uvfs_boot_mntns(t.b), &root);
	cr_assert_gt(uvfs_mntns_show(uvfs_boot_mntns(t.b), &root, UVFS_SHOW_MOUNTINFO, &mi), 0);
	uvfs_vd_put(&root);
	expect_type(mi, "/", "9p");
	expect_type(mi, "/proc", "proc");
	expect_type(mi, "/dev", "devtmpfs");
	expect_type(mi, "/dev/pts", "devpts");
	expect_type(mi, "/dev/shm", "tmpfs");
	expect_type(mi, "/sys", "sysfs");
	expect_type(mi, "/tmp", "tmpfs"); /* the image has no /tmp */
	char line[1024];
	cr_assert_null(mi_line(mi, "/dev/mqueue", line, sizeof line), "mqueue should be skipped");
	/* runc spec: root.readonly, /sys ro. */
	cr_assert_not_null(strstr(mi_line(mi, "/", line, sizeof line), " / / ro"), "%s", line);
	cr_assert_not_null(strstr(mi_line(mi, "/sys", line, sizeof line), " ro,"), "%s", line);
	free(mi);

	/* Through the booted tree: /proc/mounts, /proc/self, /dev. */
	char *mounts = read_all(&t, "/proc/mounts");
	cr_assert_not_null(strstr(mounts, "devpts /dev/pts devpts "), "%s", mounts);
	cr_assert_not_null(strstr(mounts, " / 9p ro,"), "%s", mounts);
	free(mounts);
	char *cmdline = read_all(&t, "/proc/self/cmdline");
	cr_assert_str_eq(cmdline, "sh"); /* runc spec: args ["sh"] */
	free(cmdline);
	char *status = read_all(&t, "/proc/1/status");
	cr_assert_not_null(strstr(status, "Uid:\t0\t0\t0\t0"), "%s", status);
	free(status);
	char *zero = read_all(&t, "/dev/null");
	cr_assert_str_eq(zero, "");
	free(zero);
	char *bb = read_all(&t, "/bin/busybox"); /* served by diod */
	cr_assert_eq(memcmp(bb, "\177ELF", 4), 0);
	free(bb);

	/* The ro root is ro for writers, though set-up made mount points. */
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	uvfs_mntns_root(uvfs_boot_mntns(t.b), &root);
	struct uvfs_pathop pop = { .root = root, .start = root, .path = "/newdir" };
	cr_assert_eq(uvfs_mkdir_at(t.vfs, &cred, &pop, 0755), -EROFS);
	uvfs_vd_put(&root);

	unboot(&t);
	rm_bundle();
}

/* With --overlay and a writable root: an overlay of a tmpfs upper; writes
 * land in the upper, never on the host. */
Test(mount_all, overlay_root_writes_stay_inside, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	sh("sed -i 's/\"readonly\": true/\"readonly\": false/' %s/config.json%s", bundle, "");
	struct booted t;
	int rc = boot(&t, UVFS_OCI_OVERLAY);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	struct uvfs_vd root;
	char *mi = NULL;
	uvfs_mntns_root(uvfs_boot_mntns(t.b), &root);
	cr_assert_gt(uvfs_mntns_show(uvfs_boot_mntns(t.b), &root, UVFS_SHOW_MOUNTINFO, &mi), 0);
	expect_type(mi, "/", "overlay");
	free(mi);
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	struct uvfs_pathop pop = { .root = root, .start = root, .path = "/bin/new" };
	struct uvfs_file *f;
	cr_assert_eq(uvfs_open_at(t.vfs, &cred, &pop, O_CREAT | O_WRONLY, 0644, 0, &f), 0);
	cr_assert_eq(uvfs_write(f, "x", 1), 1);
	uvfs_file_put(f);
	uvfs_vd_put(&root);
	char host[400];
	snprintf(host, sizeof host, "%s/rootfs/bin/new", bundle);
	cr_assert_eq(access(host, F_OK), -1, "the write reached the host");
	unboot(&t);
	rm_bundle();
}

/* A bind mount of a missing host directory: the error names the step, and
 * the gofers already started are reaped. */
Test(mount_all, missing_bind_source_names_step, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	sh("sed -i 's|\"mounts\": \\[|\"mounts\": [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": "
	   "\"%s/nope\", \"options\": [\"rbind\"]},|' %s/config.json",
	   bundle, bundle);
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, -ENOENT, "%d %s", rc, t.err);
	cr_assert_not_null(strstr(t.err, "gofer for "), "%s", t.err);
	cr_assert_not_null(strstr(t.err, "/nope"), "%s", t.err);
	cr_assert_null(t.b);
	uvfs_mount_plan_free(t.plan);
	uvfs_oci_spec_free(t.spec);
	fx_destroy_checked(t.vfs);
	cr_assert(!have_children());
	rm_bundle();
}

/* A failure after the root and several submounts are up (a verity mount
 * whose root hash is malformed): nothing stays mounted, every diod is reaped. */
Test(mount_all, late_failure_unwinds_everything, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	sh("mkdir -p %s/data && sed -i 's|\"mounts\": \\[|\"mounts\": [{\"destination\": \"/zz/verity\", \"type\": "
	   "\"bind\", \"source\": \"data\", \"options\": [\"rbind\", \"verity.roothash=00\"]},|' %s/config.json",
	   bundle, bundle);
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, -EINVAL, "%d %s", rc, t.err);
	cr_assert_not_null(strstr(t.err, "/zz/verity"), "%s", t.err);
	cr_assert_null(t.b);
	uvfs_mount_plan_free(t.plan);
	uvfs_oci_spec_free(t.spec);
	fx_destroy_checked(t.vfs);
	cr_assert(!have_children());
	rm_bundle();
}

/* Two bind mounts, listed longest destination first: after the stable sort
 * each still gets its own diod (fds in spec order), and serves its own
 * directory; the image's non-empty /tmp gets no tmpfs. */
Test(mount_all, binds_get_their_own_gofer, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	sh("mkdir -p %s/rootfs/tmp %s/A", bundle, bundle);
	sh("mkdir -p %s/B && echo B > %s/B/f", bundle, bundle);
	sh("echo A > %s/A/f && echo keep > %s/rootfs/tmp/keep", bundle, bundle);
	sh("sed -i 's|\"mounts\": \\[|\"mounts\": [{\"destination\": \"/deep/er/b\", \"type\": \"bind\", \"source\": "
	   "\"B\", \"options\": [\"rbind\", \"ro\"]}, {\"destination\": \"/a\", \"type\": \"bind\", \"source\": "
	   "\"%s/A\", \"options\": [\"rbind\"]},|' %s/config.json",
	   bundle, bundle);
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	char *a = read_all(&t, "/a/f"), *b = read_all(&t, "/deep/er/b/f"), *k = read_all(&t, "/tmp/keep");
	cr_assert_str_eq(a, "A\n");
	cr_assert_str_eq(b, "B\n");
	cr_assert_str_eq(k, "keep\n");
	free(a);
	free(b);
	free(k);
	struct uvfs_vd root;
	char *mi = NULL, line[1024];
	uvfs_mntns_root(uvfs_boot_mntns(t.b), &root);
	cr_assert_gt(uvfs_mntns_show(uvfs_boot_mntns(t.b), &root, UVFS_SHOW_MOUNTINFO, &mi), 0);
	expect_type(mi, "/a", "9p");
	expect_type(mi, "/deep/er/b", "9p");
	cr_assert_not_null(strstr(mi_line(mi, "/deep/er/b", line, sizeof line), " ro"), "%s", line);
	cr_assert_null(mi_line(mi, "/tmp", line, sizeof line), "/tmp has content: no tmpfs");
	free(mi);
	/* The ro bind is read-only to writers. */
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	struct uvfs_pathop pop = { .root = root, .start = root, .path = "/deep/er/b/g" };
	cr_assert_eq(uvfs_mkdir_at(t.vfs, &cred, &pop, 0755), -EROFS);
	uvfs_vd_put(&root);
	unboot(&t);
	rm_bundle();
}
