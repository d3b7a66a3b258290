/* tests/fuse/devtree.c — a uvfs tree with devtmpfs on /dev (filled as
 * gVisor's boot fills it: UserspaceInit, then the device files) and devpts
 * on /dev/pts, exported through FUSE with uvfs_fuse_main. Built and run by
 * tests/sh/t_dev_fuse.sh; arguments as `uvfs mount`.
 *
 * usage: devtree [-f] [-o opts] MOUNTPOINT */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "boot/boot.h"
#include "fsimpl/devtmpfs/devtmpfs.h"
#include "fuse/fuse_export.h"

static int mkdir_at(struct uvfs *vfs, const struct uvfs_cred *c, struct uvfs_vd root, const char *path)
{
	struct uvfs_pathop p = { .root = root, .start = root, .path = path };
	return uvfs_mkdir_at(vfs, c, &p, 0755);
}

static int mount_at(struct uvfs *vfs, const struct uvfs_cred *c, struct uvfs_vd root, const char *path,
		    const char *type)
{
	struct uvfs_pathop p = { .root = root, .start = root, .path = path, .flags = UVFS_PATH_FOLLOW };
	/* internal_mount: devpts is not user-mountable (as the seed); boot mounts it so too. */
	return uvfs_mount_at(vfs, c, type, &p, type, &(struct uvfs_mount_opts){ .internal_mount = true });
}

static int build(void *arg, struct uvfs **vfs_out, struct uvfs_mntns **ns_out)
{
	struct uvfs *vfs;
	struct uvfs_mntns *ns = NULL;
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	int err = uvfs_create(&vfs);
	if (err)
		return err;
	struct uvfs_devtmpfs_accessor *a = NULL;
	struct uvfs_vd r = { 0 };
	if ((err = uvfs_boot_register_filesystems(vfs, 0)))
		goto out;
	if ((err = uvfs_mntns_new(vfs, &root, "root", "tmpfs", &(struct uvfs_mount_opts){ .data = "mode=0755" }, &ns)))
		goto out;
	uvfs_mntns_root(ns, &r);
	if ((err = mkdir_at(vfs, &root, r, "dev")) || (err = mount_at(vfs, &root, r, "dev", "devtmpfs")))
		goto out;
	/* The accessor reaches the devtmpfs just mounted (one per instance). */
	if ((err = uvfs_devtmpfs_accessor_new(vfs, &a)) || (err = uvfs_devtmpfs_userspace_init(a)) ||
	    (err = uvfs_devtmpfs_create_device_files(a, NULL)))
		goto out;
	err = mount_at(vfs, &root, r, "dev/pts", "devpts");
out:
	uvfs_devtmpfs_accessor_release(a);
	if (r.mount)
		uvfs_vd_put(&r);
	if (err) {
		fprintf(stderr, "devtree: %s\n", strerror(-err));
		if (ns)
			uvfs_mntns_put(ns);
		uvfs_destroy(vfs, NULL);
		return err;
	}
	*vfs_out = vfs;
	*ns_out = ns;
	return 0;
}

int main(int argc, char **argv)
{
	argv[0] = "uvfs";
	return uvfs_fuse_main(argc, argv, build, NULL);
}
