/* cli/cmd_boot.c — `uvfs boot --bundle DIR --print [--overlay] [--cgroupfs]`:
 * boots an OCI bundle in process (registerFilesystems, compileMounts,
 * mountAll), prints the booted tree's /proc/self/mountinfo and the init's
 * executable (ResolveExecutablePath), and tears down with the live-object
 * report. Exit 1 on a boot error (one line naming the step) or when the
 * executable is not found, 2 on usage errors, 3 when teardown finds live
 * objects. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"

int cmd_boot(int argc, char **argv);

static int usage(void)
{
	fprintf(stderr, "usage: uvfs boot --bundle DIR --print [--overlay] [--cgroupfs]\n");
	return 2;
}

static int teardown(struct uvfs *vfs)
{
	struct uvfs_live l;
	if (uvfs_destroy(vfs, &l)) {
		fprintf(stderr,
			"uvfs: teardown: live objects: %ld dentries, %ld inodes, %ld mounts, %ld namespaces, %ld files, "
			"%ld filesystems\n",
			l.dentries, l.inodes, l.mounts, l.mntns, l.files, l.filesystems);
		return 3;
	}
	fprintf(stderr, "uvfs: teardown: 0 live objects\n");
	return 0;
}

int cmd_boot(int argc, char **argv)
{
	static const struct option lo[] = { { "bundle", required_argument, NULL, 'b' },
					    { "print", no_argument, NULL, 'p' },
					    { "overlay", no_argument, NULL, 'o' },
					    { "cgroupfs", no_argument, NULL, 'c' },
					    { NULL, 0, NULL, 0 } };
	const char *bundle = NULL;
	bool print = false;
	unsigned flags = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'b': bundle = optarg; break;
		case 'p': print = true; break;
		case 'o': flags |= UVFS_OCI_OVERLAY; break;
		case 'c': flags |= UVFS_OCI_CGROUPFS; break;
		default: return usage();
		}
	}
	if (!bundle || !print || optind != argc)
		return usage();

	char err[1024] = "", path[4096];
	snprintf(path, sizeof path, "%s/config.json", bundle);
	struct uvfs_oci_spec *spec = NULL;
	struct uvfs_mount_plan *plan = NULL;
	struct uvfs *vfs = NULL;
	struct uvfs_boot *b = NULL;
	int rc = uvfs_oci_load(path, &spec, err, sizeof err);
	if (!rc)
		rc = uvfs_oci_compile_mounts(spec, flags, &plan, err, sizeof err);
	if (rc) {
		fprintf(stderr, "uvfs: boot: %s\n", err);
		uvfs_oci_spec_free(spec);
		return 1;
	}
	for (size_t i = 0; i < plan->nwarnings; i++)
		fprintf(stderr, "uvfs: boot: warning: %s\n", plan->warnings[i]);
	if ((rc = uvfs_create(&vfs)) || (rc = uvfs_boot_register_filesystems(vfs, 0))) {
		fprintf(stderr, "uvfs: boot: registering filesystems: %s\n", strerror(-rc));
		goto out;
	}
	rc = uvfs_boot_mount_all(vfs, plan,
				 &(struct uvfs_boot_opts){ .spec = spec, .bundle_dir = bundle, .err = err, .errlen = sizeof err },
				 &b);
	if (rc) {
		fprintf(stderr, "uvfs: boot: %s\n", err);
		goto out;
	}
	struct uvfs_vd root;
	char *text = NULL;
	uvfs_mntns_root(uvfs_boot_mntns(b), &root);
	ssize_t n = uvfs_mntns_show(uvfs_boot_mntns(b), &root, UVFS_SHOW_MOUNTINFO, &text);
	uvfs_vd_put(&root);
	if (n < 0) {
		rc = (int)n;
		fprintf(stderr, "uvfs: boot: mountinfo: %s\n", strerror(-rc));
	} else {
		fwrite(text, 1, (size_t)n, stdout);
		/* ResolveExecutablePath's answer; runsc would fail the start. */
		int erc;
		const char *msg, *exe = uvfs_boot_executable(b, &erc, &msg);
		if (exe) {
			printf("executable: %s\n", exe);
		} else {
			fprintf(stderr, "uvfs: boot: %s\n", msg);
			rc = erc;
		}
		fflush(stdout);
	}
	free(text);
out:
	uvfs_boot_destroy(b);
	uvfs_mount_plan_free(plan);
	uvfs_oci_spec_free(spec);
	int t = vfs ? teardown(vfs) : 0;
	return rc ? 1 : t;
}
