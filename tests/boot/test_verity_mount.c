/* test_verity_mount.c — verity mounts in mountAll: a bind mount with
 * verity.roothash/verity.action becomes a verity filesystem over the
 * gofer's 9p, keeps its ro/noexec flags (design.md §6), checks every byte
 * (a tampered file reads -EIO with action=error), and a wrong or missing
 * root hash fails the boot naming the mount, leaving nothing behind. */
#include "boot_fx.h"
#include "fsimpl/verity/verity.h"

/* bundle/V sealed; its root hash in hex. */
static void sealed_dir(char hex[65])
{
	shf("mkdir -p %s/V/sub && echo good > %s/V/f && echo deep > %s/V/sub/g", bundle, bundle, bundle);
	char dir[300];
	uint8_t h[UVFS_VERITY_ROOT_HASH_SIZE];
	snprintf(dir, sizeof dir, "%s/V", bundle);
	cr_assert_eq(uvfs_verity_seal_path(dir, h), 0);
	uvfs_verity_hash_hex(h, hex);
}

static void add_verity(const char *opts)
{
	char m[512];
	snprintf(m, sizeof m,
		 "{\"destination\": \"/v\", \"type\": \"bind\", \"source\": \"V\", \"options\": [\"rbind\", \"ro\", "
		 "\"noexec\", %s]}",
		 opts);
	add_mount(m);
}

Test(verity_mount, sealed_bind_reads_and_keeps_flags, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	char hex[65], o[200];
	sealed_dir(hex);
	snprintf(o, sizeof o, "\"verity.roothash=%s\", \"verity.action=error\"", hex);
	add_verity(o);
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	char *s = read_all(&t, "/v/f"), *g = read_all(&t, "/v/sub/g");
	cr_assert_str_eq(s, "good\n");
	cr_assert_str_eq(g, "deep\n");
	free(s);
	free(g);
	char *mi = mountinfo(&t), line[1024];
	expect_type(mi, "/v", "verity");
	mi_line(mi, "/v", line, sizeof line);
	cr_assert_not_null(strstr(line, " ro,"), "%s", line);
	cr_assert_not_null(strstr(line, "noexec"), "%s", line);
	free(mi);
	unboot(&t);
	rm_bundle();
}

Test(verity_mount, tampered_file_is_eio, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	char hex[65], o[200];
	sealed_dir(hex);
	shf("echo evil > %s/V/f", bundle);
	snprintf(o, sizeof o, "\"verity.roothash=%s\", \"verity.action=error\"", hex);
	add_verity(o);
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	struct uvfs_file *f;
	char buf[64];
	rc = open_in(&t, "/v/f", O_RDONLY, &f);
	if (!rc) {
		rc = (int)uvfs_read(f, buf, sizeof buf);
		uvfs_file_put(f);
	}
	cr_assert_eq(rc, -EIO, "%d", rc);
	char *g = read_all(&t, "/v/sub/g");
	cr_assert_str_eq(g, "deep\n");
	free(g);
	unboot(&t);
	rm_bundle();
}

Test(verity_mount, wrong_root_hash_fails_boot, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	char hex[65];
	sealed_dir(hex);
	add_verity("\"verity.roothash=" "0000000000000000000000000000000000000000000000000000000000000000\", "
		   "\"verity.action=error\"");
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_lt(rc, 0);
	cr_assert_not_null(strstr(t.err, "mounting verity (bind) at /v: "), "%s", t.err);
	unboot_failed(&t);
	rm_bundle();
}

/* No verity.roothash: gVisor's run-time enable; ours has none, refused. */
Test(verity_mount, no_root_hash_refused, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	char hex[65];
	sealed_dir(hex);
	add_verity("\"verity.action=error\"");
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, -EINVAL, "%d %s", rc, t.err);
	cr_assert_str_eq(t.err, "mounting verity (bind) at /v: Invalid argument: no verity.roothash (enabling verity "
				"at run time is not supported)");
	unboot_failed(&t);
	rm_bundle();
}

/* --overlay and a writable verity bind: the seed's configureOverlay mounts
 * the verity filesystem as the lower layer under a tmpfs upper. Reads are
 * verified (a tampered file is -EIO through the overlay), writes land in
 * the upper and never on the host. */
Test(verity_mount, overlay_over_verity, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	char hex[65], o[300];
	sealed_dir(hex);
	shf("echo bad > %s/V/sub/g", bundle);
	snprintf(o, sizeof o,
		 "{\"destination\": \"/v\", \"type\": \"bind\", \"source\": \"V\", \"options\": [\"rbind\", \"rw\", "
		 "\"verity.roothash=%s\", \"verity.action=error\"]}",
		 hex);
	add_mount(o);
	struct booted t;
	int rc = boot(&t, UVFS_OCI_OVERLAY);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	char *mi = mountinfo(&t);
	expect_type(mi, "/v", "overlay");
	free(mi);
	char *s = read_all(&t, "/v/f");
	cr_assert_str_eq(s, "good\n");
	free(s);
	struct uvfs_file *f;
	char buf[64];
	rc = open_in(&t, "/v/sub/g", O_RDONLY, &f);
	if (!rc) {
		rc = (int)uvfs_read(f, buf, sizeof buf);
		uvfs_file_put(f);
	}
	cr_assert_eq(rc, -EIO, "tampered lower file through the overlay: %d", rc);
	cr_assert_eq(open_in(&t, "/v/new", O_WRONLY | O_CREAT, &f), 0);
	cr_assert_eq(uvfs_write(f, "up\n", 3), 3);
	uvfs_file_put(f);
	s = read_all(&t, "/v/new");
	cr_assert_str_eq(s, "up\n");
	free(s);
	char host[400];
	snprintf(host, sizeof host, "%s/V/new", bundle);
	cr_assert_neq(access(host, F_OK), 0, "the write reached the host");
	unboot(&t);
	rm_bundle();
}
