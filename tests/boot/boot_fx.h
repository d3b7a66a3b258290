/* tests/boot/boot_fx.h — helpers shared by the boot suites that boot a
 * real bundle (busybox rootfs, real diods): make a bundle, boot it, read
 * through the booted tree, check mountinfo, tear down to zero live objects
 * and no child process. Header-only: each suite is its own binary. */
#pragma once

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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

static __attribute__((unused)) void shf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static __attribute__((unused)) void shf(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* A bundle dir with rootfs/bin/busybox and config.json = src. */
static __attribute__((unused)) void make_bundle(const char *config_src)
{
	if (access("/bin/busybox", X_OK))
		cr_skip_test("busybox-static not installed");
	if (access("/usr/sbin/diod", X_OK))
		cr_skip_test("diod not installed");
	snprintf(bundle, sizeof bundle, "/tmp/uvfs-bootfx-XXXXXX");
	cr_assert_not_null(mkdtemp(bundle));
	shf("mkdir -p %s/rootfs/bin && cp /bin/busybox %s/rootfs/bin/busybox", bundle, bundle);
	shf("cp %s %s/config.json", config_src, bundle);
}

static __attribute__((unused)) void rm_bundle(void) { shf("rm -rf %s", bundle); }

/* Prepends a JSON mount object to the bundle's "mounts" list. */
static __attribute__((unused)) void add_mount(const char *json) { shf("sed -i 's|\"mounts\": \\[|\"mounts\": [%s,|' %s/config.json", json, bundle); }

/* True while the test process has a child (a diod) left. */
static __attribute__((unused)) bool have_children(void)
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

static __attribute__((unused)) int boot(struct booted *t, unsigned oci_flags)
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

static __attribute__((unused)) void unboot(struct booted *t)
{
	uvfs_boot_destroy(t->b);
	uvfs_mount_plan_free(t->plan);
	uvfs_oci_spec_free(t->spec);
	fx_destroy_checked(t->vfs); /* zero live objects */
	cr_assert(!have_children(), "a diod is left after teardown");
}

/* A boot that failed: nothing may be left. */
static __attribute__((unused)) void unboot_failed(struct booted *t)
{
	cr_assert_null(t->b);
	unboot(t);
}

static __attribute__((unused)) int open_in(struct booted *t, const char *path, int oflags, struct uvfs_file **f)
{
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	struct uvfs_vd root;
	uvfs_mntns_root(uvfs_boot_mntns(t->b), &root);
	struct uvfs_pathop pop = { .root = root, .start = root, .path = path, .flags = UVFS_PATH_FOLLOW };
	int rc = uvfs_open_at(t->vfs, &cred, &pop, oflags, 0644, 0, f);
	uvfs_vd_put(&root);
	return rc;
}

/* The whole file at path in the booted tree. */
static __attribute__((unused)) char *read_all(struct booted *t, const char *path)
{
	struct uvfs_file *f;
	int rc = open_in(t, path, O_RDONLY, &f);
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

/* The booted tree's mountinfo (malloc'd). */
static __attribute__((unused)) char *mountinfo(struct booted *t)
{
	struct uvfs_vd root;
	char *mi = NULL;
	uvfs_mntns_root(uvfs_boot_mntns(t->b), &root);
	cr_assert_gt(uvfs_mntns_show(uvfs_boot_mntns(t->b), &root, UVFS_SHOW_MOUNTINFO, &mi), 0);
	uvfs_vd_put(&root);
	return mi;
}

/* The mountinfo line of mount point mp (field 5), or NULL. */
static __attribute__((unused)) const char *mi_line(const char *mi, const char *mp, char *line, size_t len)
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
static __attribute__((unused)) void expect_type(const char *mi, const char *mp, const char *type)
{
	char line[1024], want[64];
	cr_assert_not_null(mi_line(mi, mp, line, sizeof line), "no mount at %s in:\n%s", mp, mi);
	snprintf(want, sizeof want, " - %s ", type);
	cr_assert_not_null(strstr(line, want), "%s: want type %s: %s", mp, type, line);
}
