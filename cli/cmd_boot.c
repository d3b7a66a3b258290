/* cli/cmd_boot.c — `uvfs boot --bundle DIR --print [--json] [--overlay] [--cgroupfs]
 * [--file-access=..] [--file-access-mounts=..]`: boots an OCI bundle in
 * process (registerFilesystems, compileMounts, mountAll), prints the booted
 * tree's /proc/self/mountinfo (or, with --json, the same table as JSON) and the init's executable
 * (ResolveExecutablePath), and tears down with the live-object report.
 * Exit 1 on a boot error (one line naming the step) or when the executable
 * is not found, 2 on usage errors, 3 when teardown finds live objects.
 *
 * `--host` instead of `--bundle DIR` boots runsc do's default: the host's /
 * read-only under a tmpfs overlay, runc spec's mounts (uvfs_oci_host_spec).
 *
 * Also the --bundle helpers of cli/bundle.h: `uvfs mount --bundle` and
 * `uvfs ls|stat|cat|tree --bundle` boot through them. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "boot/boot.h"
#include "cli/bundle.h"
#include "fuse/fuse_export.h"

int cmd_boot(int argc, char **argv);

/* ------------------------------------------------------------ --bundle */

int cli_bundle_take_args(int *argc, char **argv, struct cli_bundle *b)
{
	memset(b, 0, sizeof *b);
	int n = *argc, out = 1;
	bool any = false;
	for (int i = 1; i < n; i++)
		if (!strcmp(argv[i], "--bundle") || !strncmp(argv[i], "--bundle=", 9) || !strcmp(argv[i], "--host"))
			any = true;
	if (!any)
		return 0;
	for (int i = 1; i < n; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--bundle")) {
			if (i + 1 >= n) {
				fprintf(stderr, "uvfs: --bundle needs a directory\n");
				return -1;
			}
			b->dir = argv[++i];
		} else if (!strncmp(a, "--bundle=", 9)) {
			b->dir = a + 9;
		} else if (!strcmp(a, "--host")) {
			b->host = true;
		} else if (!strcmp(a, "--overlay")) {
			b->flags |= UVFS_OCI_OVERLAY;
		} else if (!strcmp(a, "--cgroupfs")) {
			b->flags |= UVFS_OCI_CGROUPFS;
		} else if (!strcmp(a, "--file-access=shared")) {
			b->flags |= UVFS_OCI_ROOT_SHARED;
		} else if (!strcmp(a, "--file-access=exclusive")) {
			b->flags &= ~(unsigned)UVFS_OCI_ROOT_SHARED;
		} else if (!strcmp(a, "--file-access-mounts=exclusive")) {
			b->flags |= UVFS_OCI_MOUNTS_EXCLUSIVE;
		} else if (!strcmp(a, "--file-access-mounts=shared")) {
			b->flags &= ~(unsigned)UVFS_OCI_MOUNTS_EXCLUSIVE;
		} else if (!strncmp(a, "--file-access", 13)) {
			fprintf(stderr, "uvfs: %s: expected exclusive or shared\n", a);
			return -1;
		} else {
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	*argc = out;
	if (b->host && b->dir) {
		fprintf(stderr, "uvfs: --host and --bundle are exclusive\n");
		return -1;
	}
	if (b->host) {
		b->flags |= UVFS_OCI_OVERLAY; /* runsc do: never write the host */
		b->dir = "/";
	}
	if ((b->flags & UVFS_OCI_OVERLAY) && (b->flags & UVFS_OCI_ROOT_SHARED)) {
		/* runsc's config validation */
		fprintf(stderr, "uvfs: --overlay and --file-access=shared are incompatible\n");
		return -1;
	}
	return 1;
}

int cli_bundle_boot(struct cli_bundle *b, struct uvfs **vfsp, struct uvfs_mntns **nsp)
{
	char err[1024] = "", path[4096];
	snprintf(path, sizeof path, "%s/config.json", b->dir);
	struct uvfs *vfs = NULL;
	int rc = b->host ? uvfs_oci_host_spec(&b->spec, err, sizeof err) : uvfs_oci_load(path, &b->spec, err, sizeof err);
	if (!rc)
		rc = uvfs_oci_compile_mounts(b->spec, b->flags, &b->plan, err, sizeof err);
	if (rc) {
		fprintf(stderr, "uvfs: boot: %s\n", err);
		goto fail;
	}
	/* The plan's warnings were already logged (uvfs_log, WARN) as they were
	 * found; printing b->plan->warnings again would say each twice. */
	if ((rc = uvfs_create(&vfs)) || (rc = uvfs_boot_register_filesystems(vfs, 0))) {
		fprintf(stderr, "uvfs: boot: registering filesystems: %s\n", strerror(-rc));
		goto fail;
	}
	rc = uvfs_boot_mount_all(
		vfs, b->plan,
		&(struct uvfs_boot_opts){ .spec = b->spec, .bundle_dir = b->dir, .err = err, .errlen = sizeof err },
		&b->boot);
	if (rc) {
		fprintf(stderr, "uvfs: boot: %s\n", err);
		goto fail;
	}
	*nsp = uvfs_boot_mntns(b->boot);
	uvfs_mntns_get(*nsp);
	*vfsp = vfs;
	return 0;
fail:
	cli_bundle_release(b);
	if (vfs) { /* the report shows that a failed boot left nothing */
		struct uvfs_live l;
		memset(&l, 0, sizeof l);
		int drc = uvfs_destroy(vfs, &l);
		uvfs_report_teardown(drc, &l);
	}
	return rc;
}

void cli_bundle_release(struct cli_bundle *b)
{
	uvfs_boot_destroy(b->boot);
	uvfs_mount_plan_free(b->plan);
	uvfs_oci_spec_free(b->spec);
	b->boot = NULL;
	b->plan = NULL;
	b->spec = NULL;
}

static int teardown(struct uvfs *vfs)
{
	struct uvfs_live l;
	memset(&l, 0, sizeof l);
	int drc = uvfs_destroy(vfs, &l);
	return uvfs_report_teardown(drc, &l) ? 0 : 3;
}

/* Still mounted: the mount point's device differs from its parent's. */
static bool still_mounted(const char *mnt, dev_t parent)
{
	struct stat st;
	return stat(mnt, &st) == 0 && st.st_dev != parent;
}

int cli_bundle_mount(struct cli_bundle *b, int argc, char **argv)
{
	const char *mnt = NULL, *opts = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			opts = argv[++i];
		else if (!strcmp(argv[i], "-f"))
			continue; /* always in the foreground: the diods are our children */
		else if (argv[i][0] != '-' && !mnt)
			mnt = argv[i];
		else {
			fprintf(stderr, "usage: uvfs mount --bundle DIR [--overlay] [--cgroupfs] "
					"[--file-access=..] [--file-access-mounts=..] [-o FUSEOPTS] MOUNTPOINT\n");
			return 2;
		}
	}
	if (!mnt) {
		fprintf(stderr, "uvfs: mount --bundle: no mount point\n");
		return 2;
	}
	char parent[4096];
	struct stat pst;
	snprintf(parent, sizeof parent, "%s/..", mnt);
	if (stat(parent, &pst)) {
		fprintf(stderr, "uvfs: mount: %s: %s\n", mnt, strerror(errno));
		return 1;
	}
	/* The signals are waited for here: block them before any thread starts. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	if (cli_bundle_boot(b, &vfs, &ns))
		return 1;
	struct uvfs_fuse *fx = NULL;
	int rc = uvfs_fuse_start(vfs, ns, mnt, opts, NULL, &fx);
	if (rc) {
		fprintf(stderr, "uvfs: mount: exporting at %s: %s\n", mnt, strerror(-rc));
	} else {
		fprintf(stderr, "uvfs: %s booted and mounted at %s\n", b->dir, mnt);
		const struct timespec tick = { 0, 100 * 1000 * 1000 };
		while (still_mounted(mnt, pst.st_dev))
			if (sigtimedwait(&set, NULL, &tick) > 0)
				break;
		uvfs_fuse_stop(fx);
	}
	uvfs_mntns_put(ns);
	cli_bundle_release(b);
	int t = teardown(vfs);
	return rc ? 1 : t;
}

/* ------------------------------------------------------------ uvfs boot */

static int usage(void)
{
	fprintf(stderr, "usage: uvfs boot --bundle DIR|--host --print [--json] [--overlay] [--cgroupfs] "
			"[--file-access=exclusive|shared] [--file-access-mounts=shared|exclusive]\n");
	return 2;
}

/* --json: the mount table as findmnt -J would need it, one object per
 * mountinfo line (same fields, flags as a list), plus the executable. */
static int mount_json(void *arg, const struct uvfs_mount_info *mi)
{
	static const struct { unsigned flag; const char *name; } flags[] = {
		{ UVFS_MNT_NOSUID, "nosuid" }, { UVFS_MNT_NODEV, "nodev" },
		{ UVFS_MNT_NOEXEC, "noexec" }, { UVFS_MNT_NOATIME, "noatime" },
	};
	json_t *opts = json_array();
	json_array_append_new(opts, json_string(mi->flags & UVFS_MNT_RDONLY ? "ro" : "rw"));
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (mi->flags & flags[i].flag)
			json_array_append_new(opts, json_string(flags[i].name));
	char dev[32];
	snprintf(dev, sizeof dev, "%u:%u", mi->dev_major, mi->dev_minor);
	json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:s}", "id", (json_int_t)mi->id, "parent_id",
			      (json_int_t)mi->parent_id, "dev", dev, "root", mi->root, "target", mi->mount_point,
			      "fstype", mi->fstype, "source", mi->source, "options", opts, "fs_options", mi->fs_options);
	if (!o)
		return -ENOMEM;
	return json_array_append_new(arg, o) ? -ENOMEM : 0;
}

static int print_json(struct cli_bundle *b, struct uvfs_mntns *ns, const struct uvfs_vd *root)
{
	json_t *mounts = json_array();
	int rc = uvfs_mntns_for_each(ns, root, mount_json, mounts);
	if (rc) {
		fprintf(stderr, "uvfs: boot: mountinfo: %s\n", strerror(-rc));
		json_decref(mounts);
		return rc;
	}
	int erc;
	const char *msg, *exe = uvfs_boot_executable(b->boot, &erc, &msg);
	json_t *top = json_pack("{s:o,s:s?}", "mounts", mounts, "executable", exe);
	if (!exe) {
		fprintf(stderr, "uvfs: boot: %s\n", msg);
		rc = erc;
	}
	if (!top || json_dumpf(top, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF)
		rc = rc ? rc : -EIO;
	json_decref(top);
	fflush(stdout);
	return rc;
}

int cmd_boot(int argc, char **argv)
{
	struct cli_bundle b;
	if (cli_bundle_take_args(&argc, argv, &b) != 1)
		return usage();
	bool print = false, json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--print"))
			print = true;
		else
			return usage();
	}
	if (!print)
		return usage();
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	if (cli_bundle_boot(&b, &vfs, &ns))
		return 1;
	struct uvfs_vd root;
	char *text = NULL;
	int rc = 0;
	uvfs_mntns_root(ns, &root);
	if (json) {
		rc = print_json(&b, ns, &root);
		uvfs_vd_put(&root);
		goto out;
	}
	ssize_t n = uvfs_mntns_show(ns, &root, UVFS_SHOW_MOUNTINFO, &text);
	uvfs_vd_put(&root);
	if (n < 0) {
		rc = (int)n;
		fprintf(stderr, "uvfs: boot: mountinfo: %s\n", strerror(-rc));
	} else {
		fwrite(text, 1, (size_t)n, stdout);
		/* ResolveExecutablePath's answer; runsc would fail the start. */
		int erc;
		const char *msg, *exe = uvfs_boot_executable(b.boot, &erc, &msg);
		if (exe) {
			printf("executable: %s\n", exe);
		} else {
			fprintf(stderr, "uvfs: boot: %s\n", msg);
			rc = erc;
		}
		fflush(stdout);
	}
out:
	free(text);
	uvfs_mntns_put(ns);
	cli_bundle_release(&b);
	int t = teardown(vfs);
	return rc ? 1 : t;
}
