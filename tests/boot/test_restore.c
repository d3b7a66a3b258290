/* tests/boot/test_restore.c — configureRestore's destination → gofer fd map:
 * a booted sandbox lists (destination, gofer index, host directory); a
 * "restored" sandbox boots the same plan with fresh diods handed over by
 * destination (in any order) instead of starting its own, and reads
 * through the restored mounts. */
#include "boot_fx.h"
#include "fsimpl/gofer/gofer.h"

#ifndef RESTORE
#define RESTORE(r) (r) /* -DRESTORE(r)=NULL shows the tests fail without restore */
#endif

static void setup(void)
{
	make_bundle(DATA "runc/config.json");
	shf("mkdir -p %s/A %s/B && echo A > %s/A/f && echo B > %s/B/f && echo R > %s/rootfs/r", bundle, bundle,
	    bundle, bundle, bundle);
	add_mount("{\"destination\": \"/a\", \"type\": \"bind\", \"source\": \"A\", \"options\": [\"rbind\"]}");
	add_mount("{\"destination\": \"/deep/b\", \"type\": \"bind\", \"source\": \"B\", \"options\": [\"rbind\", "
		  "\"ro\"]}");
}
static void teardown(void) { rm_bundle(); }

/* Boots t with restore fds (NULL: ordinary boot). */
static int boot_r(struct booted *t, const struct uvfs_boot_gofer_fd *r, size_t nr)
{
	char path[300];
	snprintf(path, sizeof path, "%s/config.json", bundle);
	memset(t, 0, sizeof *t);
	cr_assert_eq(uvfs_oci_load(path, &t->spec, t->err, sizeof t->err), 0, "%s", t->err);
	cr_assert_eq(uvfs_oci_compile_mounts(t->spec, 0, &t->plan, t->err, sizeof t->err), 0, "%s", t->err);
	cr_assert_eq(uvfs_create(&t->vfs), 0);
	cr_assert_eq(uvfs_boot_register_filesystems(t->vfs, 0), 0);
	return uvfs_boot_mount_all(t->vfs, t->plan,
				   &(struct uvfs_boot_opts){ .spec = t->spec, .bundle_dir = bundle, .err = t->err,
							     .errlen = sizeof t->err, .restore = RESTORE(r), .nrestore = nr },
				   &t->b);
}

struct saved {
	char dest[64], dir[300];
	int gofer;
	bool ro;
};

/* Boots, saves the restore map, tears down. */
static size_t save_map(struct saved s[8])
{
	struct booted t;
	cr_assert_eq(boot_r(&t, NULL, 0), 0, "%s", t.err);
	const struct uvfs_boot_restore_entry *e;
	size_t n = uvfs_boot_restore_map(t.b, &e);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		snprintf(s[i].dest, sizeof s[i].dest, "%s", e[i].destination);
		snprintf(s[i].dir, sizeof s[i].dir, "%s", e[i].host_dir);
		s[i].gofer = e[i].gofer;
		s[i].ro = e[i].readonly;
	}
	unboot(&t);
	return n;
}

Test(boot_restore, map_lists_gofer_mounts_by_destination, .init = setup, .fini = teardown, .timeout = 60)
{
	struct saved s[8];
	save_map(s);
	char real[300];
	cr_assert_not_null(realpath(bundle, real));
	/* The seed's order: the root first, then bind mounts in spec order. */
	cr_assert_str_eq(s[0].dest, "/");
	cr_assert_eq(s[0].gofer, 0);
	cr_assert_str_eq(s[1].dest, "/deep/b"); /* add_mount prepends: /deep/b is first in the spec */
	cr_assert_eq(s[1].gofer, 1);
	cr_assert_str_eq(s[2].dest, "/a");
	cr_assert_eq(s[2].gofer, 2);
	char want[400];
	snprintf(want, sizeof want, "%s/A", real);
	cr_assert_str_eq(s[2].dir, want);
	cr_assert(s[0].ro && s[1].ro && !s[2].ro, "root (readonly spec), /deep/b ro, /a rw");
}

Test(boot_restore, restored_mounts_read_through_fresh_gofers, .init = setup, .fini = teardown, .timeout = 60)
{
	struct saved s[8];
	size_t n = save_map(s);
	/* Fresh diods, handed over in reverse order: matched by destination.
	 * /a's serves a changed copy (the state moved on while checkpointed):
	 * reading it proves the restored mount uses the fd it was given. */
	shf("cp -r %s/A %s/A2 && echo A2 > %s/A2/f", bundle, bundle, bundle);
	char a2[400];
	snprintf(a2, sizeof a2, "%s/A2", bundle);
	struct uvfs_boot_gofer_fd r[8] = { 0 };
	for (size_t i = 0; i < n; i++) {
		struct uvfs_boot_gofer_fd *x = &r[n - 1 - i];
		x->destination = s[i].dest;
		x->host_dir = strcmp(s[i].dest, "/a") ? NULL : a2;
		cr_assert_eq(uvfs_gofer_spawn(x->host_dir ? x->host_dir : s[i].dir, s[i].ro, &x->fd, &x->proc), 0);
	}
	struct booted t;
	cr_assert_eq(boot_r(&t, r, n), 0, "%s", t.err);
	char *a = read_all(&t, "/a/f"), *b = read_all(&t, "/deep/b/f"), *root = read_all(&t, "/r");
	cr_assert_str_eq(a, "A2\n");
	cr_assert_str_eq(b, "B\n");
	cr_assert_str_eq(root, "R\n");
	free(a);
	free(b);
	free(root);
	unboot(&t); /* the restored mounts reap the diods they were given */
}

Test(boot_restore, missing_or_unknown_destination_fails_cleanly, .init = setup, .fini = teardown, .timeout = 60)
{
	struct saved s[8];
	size_t n = save_map(s);
	struct uvfs_boot_gofer_fd r[8] = { 0 };
	for (size_t i = 0; i < n; i++) {
		r[i].destination = i == 1 ? "/nowhere" : s[i].dest;
		cr_assert_eq(uvfs_gofer_spawn(s[i].dir, s[i].ro, &r[i].fd, &r[i].proc), 0);
	}
	struct booted t;
	int rc = boot_r(&t, r, n);
	cr_assert_eq(rc, -EBADF, "%d %s", rc, t.err);
	cr_assert_str_eq(t.err, "restore: no gofer fd for /deep/b");
	unboot_failed(&t); /* every fd closed, every diod given reaped */
	for (size_t i = 0; i < n - 1; i++) {
		r[i].destination = s[i].dest;
		cr_assert_eq(uvfs_gofer_spawn(s[i].dir, s[i].ro, &r[i].fd, &r[i].proc), 0);
	}
	r[n - 1].destination = "/nowhere";
	cr_assert_eq(uvfs_gofer_spawn(s[0].dir, true, &r[n - 1].fd, &r[n - 1].proc), 0);
	rc = boot_r(&t, r, n);
	cr_assert_eq(rc, -EBADF, "%d %s", rc, t.err);
	cr_assert_str_eq(t.err, "restore: no gofer fd for /a");
	unboot_failed(&t);
	/* every destination given, plus one the plan does not have */
	struct uvfs_boot_gofer_fd r2[8] = { 0 };
	for (size_t i = 0; i <= n; i++) {
		r2[i].destination = i < n ? s[i].dest : "/nowhere";
		cr_assert_eq(uvfs_gofer_spawn(s[i < n ? i : 0].dir, true, &r2[i].fd, &r2[i].proc), 0);
	}
	rc = boot_r(&t, r2, n + 1);
	cr_assert_eq(rc, -EINVAL, "%d %s", rc, t.err);
	cr_assert_str_eq(t.err, "restore: no gofer mount at /nowhere");
	unboot_failed(&t);
}
