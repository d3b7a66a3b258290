/* tests/boot/test_symlink_binds.c — hand-written specs: bind mounts whose
 * destination is a symlink in the image (followed inside the container's
 * root, as runc's securejoin and Linux's mount(2) do: the mount lands on
 * the target, an absolute or escaping link stays under the root), and file
 * mount points made below synthetic directories of a read-only gofer root
 * (diod refuses mkdir there). */
#include "boot_fx.h"

#define BIND(dest, src, opts)                                                                                \
	"{\"destination\": \"" dest "\", \"type\": \"bind\", \"source\": \"" src "\", \"options\": [\"rbind\"" \
	opts "]}"

static void setup(void)
{
	make_bundle(DATA "runc/config.json");
	shf("mkdir -p %s/A %s/rootfs/data %s/rootfs/real %s/rootfs/run && echo A > %s/A/f", bundle, bundle, bundle,
	    bundle, bundle);
	shf("echo host > %s/conf && echo image > %s/rootfs/run/resolv.conf", bundle, bundle);
}
static void teardown(void) { rm_bundle(); }

static void expect_read(struct booted *t, const char *path, const char *want)
{
	char *s = read_all(t, path);
	cr_assert_str_eq(s, want, "%s", path);
	free(s);
}

Test(symlink_binds, relative_link_mounts_on_target, .init = setup, .fini = teardown, .timeout = 60)
{
	shf("ln -s data %s/rootfs/link", bundle);
	add_mount(BIND("/link", "A", ));
	struct booted t;
	cr_assert_eq(boot(&t, 0), 0, "%s", t.err);
	expect_read(&t, "/link/f", "A\n");
	expect_read(&t, "/data/f", "A\n");
	char *mi = mountinfo(&t), line[1024];
	expect_type(mi, "/data", "9p");
	cr_assert_null(mi_line(mi, "/link", line, sizeof line), "mounted on the link itself: %s", line);
	free(mi);
	unboot(&t);
}

Test(symlink_binds, absolute_and_escaping_links_stay_in_root, .init = setup, .fini = teardown, .timeout = 60)
{
	shf("ln -s /real %s/rootfs/abs && ln -s ../../../../../../real %s/rootfs/esc", bundle, bundle);
	add_mount(BIND("/abs", "A", ));
	struct booted t;
	cr_assert_eq(boot(&t, 0), 0, "%s", t.err);
	expect_read(&t, "/real/f", "A\n");
	char *mi = mountinfo(&t);
	expect_type(mi, "/real", "9p");
	free(mi);
	unboot(&t);
	shf("test ! -e %s/rootfs/real/f && test ! -e /real", bundle);
	shf("sed -i 's|\"destination\": \"/abs\"|\"destination\": \"/esc\"|' %s/config.json", bundle);
	cr_assert_eq(boot(&t, 0), 0, "%s", t.err);
	expect_read(&t, "/real/f", "A\n");
	unboot(&t);
}

Test(symlink_binds, file_bind_over_link_to_file, .init = setup, .fini = teardown, .timeout = 60)
{
	shf("mkdir -p %s/rootfs/etc && ln -s ../run/resolv.conf %s/rootfs/etc/resolv.conf", bundle, bundle);
	add_mount(BIND("/etc/resolv.conf", "conf", ));
	struct booted t;
	cr_assert_eq(boot(&t, 0), 0, "%s", t.err);
	expect_read(&t, "/etc/resolv.conf", "host\n");
	expect_read(&t, "/run/resolv.conf", "host\n");
	char *mi = mountinfo(&t);
	expect_type(mi, "/run/resolv.conf", "9p");
	free(mi);
	unboot(&t);
}

static void unfreeze(void)
{
	shf("chattr -i %s/rootfs", bundle);
	rm_bundle();
}

/* A gofer root that refuses mkdir (the image's root directory immutable:
 * diod -o ro still lets root mkdir): /x/y/z are synthetic directories and
 * a directory bind mounts on them; nothing reaches the image. A file mount
 * point there is a synthetic file. */
static void freeze(void)
{
	char cmd[400];
	snprintf(cmd, sizeof cmd, "chattr +i %s/rootfs 2>/dev/null", bundle);
	if (system(cmd))
		cr_skip_test("chattr +i is not supported here");
}

Test(symlink_binds, dir_bind_below_synthetic_dirs, .init = setup, .fini = unfreeze, .timeout = 60)
{
	add_mount(BIND("/x/y/z/d", "A", ));
	freeze();
	struct booted t;
	cr_assert_eq(boot(&t, 0), 0, "%s", t.err);
	expect_read(&t, "/x/y/z/d/f", "A\n");
	char *mi = mountinfo(&t);
	expect_type(mi, "/x/y/z/d", "9p");
	free(mi);
	struct uvfs_file *f;
	cr_assert_eq(open_in(&t, "/x/y/z/other", O_CREAT | O_WRONLY, &f), -EROFS);
	unboot(&t);
	shf("test ! -e %s/rootfs/x", bundle);
}

/* A file mount point below synthetic directories is synthetic too. */
Test(symlink_binds, file_bind_below_synthetic_dirs, .init = setup, .fini = unfreeze, .timeout = 60)
{
	add_mount(BIND("/x/y/z/conf", "conf", ", \"ro\""));
	freeze();
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "%d %s", rc, t.err);
	expect_read(&t, "/x/y/z/conf", "host\n");
	char *mi = mountinfo(&t);
	expect_type(mi, "/x/y/z/conf", "9p");
	free(mi);
	unboot(&t);
	shf("test ! -e %s/rootfs/x", bundle);
}

/* A dangling link: the mount point is made at its target (runc creates
 * the securejoin'ed path), inside the root. */
Test(symlink_binds, dangling_link_target_is_made, .init = setup, .fini = teardown, .timeout = 60)
{
	shf("sed -i 's/\"readonly\": true/\"readonly\": false/' %s/config.json", bundle);
	shf("ln -s /made/here %s/rootfs/dang", bundle);
	add_mount(BIND("/dang", "A", ));
	struct booted t;
	cr_assert_eq(boot(&t, 0), 0, "%s", t.err);
	expect_read(&t, "/made/here/f", "A\n");
	unboot(&t);
	shf("test -d %s/rootfs/made/here && test ! -e /made", bundle);
}

/* A dangling link in the middle of the destination (runc's securejoin):
 * /a -> b/c with no b; the mount lands on /b/c/d, whose missing
 * directories are made (on the host image when the root is writable,
 * synthetic under a read-only one). */
Test(symlink_binds, dangling_link_mid_destination, .init = setup, .fini = teardown, .timeout = 60)
{
	shf("sed -i 's/\"readonly\": true/\"readonly\": false/' %s/config.json", bundle);
	shf("ln -s b/c %s/rootfs/a", bundle);
	add_mount(BIND("/a/d", "A", ));
	struct booted t;
	cr_assert_eq(boot(&t, 0), 0, "%s", t.err);
	expect_read(&t, "/b/c/d/f", "A\n");
	expect_read(&t, "/a/d/f", "A\n");
	char *mi = mountinfo(&t);
	expect_type(mi, "/b/c/d", "9p");
	free(mi);
	unboot(&t);
	shf("test -d %s/rootfs/b/c/d && test -L %s/rootfs/a", bundle, bundle);
}

Test(symlink_binds, dangling_link_mid_destination_ro_root, .init = setup, .fini = teardown, .timeout = 60)
{
	shf("ln -s /b/../b/c %s/rootfs/a && ln -s ../../x/y %s/rootfs/e", bundle, bundle);
	add_mount(BIND("/a/d", "A", ));
	add_mount(BIND("/e/conf", "conf", ));
	struct booted t;
	cr_assert_eq(boot(&t, 0), 0, "%s", t.err);
	expect_read(&t, "/a/d/f", "A\n");
	expect_read(&t, "/x/y/conf", "host\n");
	char *mi = mountinfo(&t);
	expect_type(mi, "/b/c/d", "9p");
	expect_type(mi, "/x/y/conf", "9p");
	free(mi);
	unboot(&t);
	shf("test ! -e %s/rootfs/b && test ! -e %s/rootfs/x", bundle, bundle);
}
