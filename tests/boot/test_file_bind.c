/* test_file_bind.c — bind mounts whose source is a regular file (runsc's
 * file bind mounts, e.g. /etc/resolv.conf): onto an existing file, onto a
 * missing destination (a file mount point is made, parents synthetic), with
 * --overlay (a tmpfs copy: writes never reach the host), read-only, and the
 * type mismatches Linux refuses with ENOTDIR. Real diods; run from the
 * repository root. */
#include "boot_fx.h"

#define FILE_BIND(dst, src, extra)                                                                              \
	"{\"destination\": \"" dst "\", \"type\": \"bind\", \"source\": \"" src "\", \"options\": [\"rbind\"" extra "]}"

Test(file_bind, onto_existing_file, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	shf("mkdir -p %s/rootfs/etc && echo image > %s/rootfs/etc/hosts && echo host > %s/hosts", bundle, bundle, bundle);
	add_mount(FILE_BIND("/etc/hosts", "hosts", ", \"ro\""));
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	char *s = read_all(&t, "/etc/hosts");
	cr_assert_str_eq(s, "host\n");
	free(s);
	char *mi = mountinfo(&t), line[1024];
	expect_type(mi, "/etc/hosts", "9p");
	cr_assert_not_null(strstr(mi_line(mi, "/etc/hosts", line, sizeof line), " ro"), "%s", line);
	free(mi);
	struct uvfs_file *f;
	cr_assert_eq(open_in(&t, "/etc/hosts", O_WRONLY, &f), -EROFS);
	unboot(&t);
	rm_bundle();
}

/* Missing destination under a writable root: a file mount point is made
 * (parents too), and writes go through the bind to the host file. */
Test(file_bind, onto_missing_destination, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	shf("sed -i 's/\"readonly\": true/\"readonly\": false/' %s/config.json", bundle);
	shf("echo host > %s/conf", bundle);
	add_mount(FILE_BIND("/new/dir/conf", "conf", ""));
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	char *s = read_all(&t, "/new/dir/conf");
	cr_assert_str_eq(s, "host\n");
	free(s);
	char *mi = mountinfo(&t);
	expect_type(mi, "/new/dir/conf", "9p");
	free(mi);
	struct uvfs_file *f;
	cr_assert_eq(open_in(&t, "/new/dir/conf", O_WRONLY | O_TRUNC, &f), 0);
	cr_assert_eq(uvfs_write(f, "new\n", 4), 4);
	uvfs_file_put(f);
	unboot(&t);
	shf("grep -qx new %s/conf", bundle);
	rm_bundle();
}

/* Under a read-only root the gofer is read-only from the start (diod's
 * config export with opts "ro"), so a missing file mount point cannot be
 * made on the host image: it is a synthetic file, in memory (gVisor's
 * gofer), and the host image is untouched. An existing file mount point
 * works as well. */
Test(file_bind, missing_destination_ro_root, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	shf("echo host > %s/conf", bundle);
	add_mount(FILE_BIND("/etc/conf", "conf", ""));
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	char *s = read_all(&t, "/etc/conf");
	cr_assert_str_eq(s, "host\n");
	free(s);
	unboot(&t);
	shf("test ! -e %s/rootfs/etc/conf", bundle);
	shf("mkdir -p %s/rootfs/etc && touch %s/rootfs/etc/conf", bundle, bundle);
	rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	s = read_all(&t, "/etc/conf");
	cr_assert_str_eq(s, "host\n");
	free(s);
	struct uvfs_file *f;
	cr_assert_eq(open_in(&t, "/etc/other", O_CREAT | O_WRONLY, &f), -EROFS, "the root is read-only");
	unboot(&t);
	rm_bundle();
}

/* --overlay: a writable file bind is a private copy; the host keeps its file. */
Test(file_bind, overlay_copy, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	shf("sed -i 's/\"readonly\": true/\"readonly\": false/' %s/config.json", bundle);
	shf("echo host > %s/conf && chmod 0640 %s/conf", bundle, bundle);
	add_mount(FILE_BIND("/conf", "conf", ""));
	struct booted t;
	int rc = boot(&t, UVFS_OCI_OVERLAY);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	char *s = read_all(&t, "/conf");
	cr_assert_str_eq(s, "host\n");
	free(s);
	struct uvfs_file *f;
	cr_assert_eq(open_in(&t, "/conf", O_WRONLY | O_APPEND, &f), 0);
	cr_assert_eq(uvfs_write(f, "more\n", 5), 5);
	uvfs_file_put(f);
	s = read_all(&t, "/conf");
	cr_assert_str_eq(s, "host\nmore\n");
	free(s);
	struct statx st;
	struct uvfs_cred cred;
	struct uvfs_vd root;
	uvfs_cred_init_root(&cred);
	uvfs_mntns_root(uvfs_boot_mntns(t.b), &root);
	struct uvfs_pathop pop = { .root = root, .start = root, .path = "/conf" };
	cr_assert_eq(uvfs_stat_at(t.vfs, &cred, &pop, STATX_BASIC_STATS, &st), 0);
	cr_assert_eq(st.stx_mode & 07777, 0640, "mode %o", st.stx_mode);
	uvfs_vd_put(&root);
	unboot(&t);
	shf("grep -qx host %s/conf && test $(wc -l < %s/conf) = 1", bundle, bundle);
	rm_bundle();
}

/* --overlay: the file bind is an overlay with a regular-file root (gVisor's
 * configureOverlay for a file): the gofer's file the lower layer, a tmpfs
 * file the upper, copied up whole with its xattrs and times. */
Test(file_bind, overlay_file_root, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	shf("sed -i 's/\"readonly\": true/\"readonly\": false/' %s/config.json", bundle);
	shf("echo host > %s/conf && setfattr -n user.k -v v1 %s/conf && touch -d 2001-02-03 %s/conf", bundle, bundle,
	    bundle);
	add_mount(FILE_BIND("/conf", "conf", ""));
	struct booted t;
	int rc = boot(&t, UVFS_OCI_OVERLAY);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	char *mi = mountinfo(&t);
	expect_type(mi, "/conf", "overlay");
	free(mi);
	struct uvfs_cred cred;
	struct uvfs_vd root;
	uvfs_cred_init_root(&cred);
	uvfs_mntns_root(uvfs_boot_mntns(t.b), &root);
	struct uvfs_pathop pop = { .root = root, .start = root, .path = "/conf" };
	char v[16] = "";
	cr_assert_eq(uvfs_getxattr_at(t.vfs, &cred, &pop, "user.k", v, sizeof v), 2);
	cr_assert_eq(memcmp(v, "v1", 2), 0);
	struct statx st;
	cr_assert_eq(uvfs_stat_at(t.vfs, &cred, &pop, STATX_BASIC_STATS, &st), 0);
	cr_assert_eq(st.stx_mtime.tv_sec, 981158400, "mtime %lld", (long long)st.stx_mtime.tv_sec);
	uvfs_vd_put(&root);
	struct uvfs_file *f;
	cr_assert_eq(open_in(&t, "/conf", O_WRONLY | O_TRUNC, &f), 0);
	cr_assert_eq(uvfs_write(f, "mem\n", 4), 4);
	uvfs_file_put(f);
	char *s = read_all(&t, "/conf");
	cr_assert_str_eq(s, "mem\n");
	free(s);
	unboot(&t);
	shf("grep -qx host %s/conf", bundle);
	rm_bundle();
}

/* Linux: mount --bind of a file onto a directory (and back) is ENOTDIR;
 * the error names the mount and nothing is left. */
Test(file_bind, file_onto_dir_enotdir, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	shf("echo host > %s/conf", bundle);
	add_mount(FILE_BIND("/bin", "conf", ""));
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, -ENOTDIR, "%d %s", rc, t.err);
	cr_assert_not_null(strstr(t.err, "/bin"), "%s", t.err);
	unboot_failed(&t);
	rm_bundle();
}

Test(file_bind, dir_onto_file_enotdir, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	shf("mkdir -p %s/d", bundle);
	add_mount(FILE_BIND("/bin/busybox", "d", ""));
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, -ENOTDIR, "%d %s", rc, t.err);
	cr_assert_not_null(strstr(t.err, "/bin/busybox"), "%s", t.err);
	unboot_failed(&t);
	rm_bundle();
}
