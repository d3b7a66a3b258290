/* boot/default_tree.c — the sample tree `uvfs mount|demo|ls|stat|cat|tree`
 * show until the boot issue provides an OCI sandbox tree. Documented in
 * fuse/README.md; built through the public API only.
 *
 *   /                   tmpfs (mode 0755)
 *   /bin -> usr/bin     symlink
 *   /etc/hostname       "uvfs"
 *   /etc/os-release     a few os-release(5) lines
 *   /home/user/         0755, owned by 1000:1000
 *   /home/user/notes.txt  owned by 1000:1000, xattr user.comment="hello from uvfs"
 *   /root/              0700
 *   /tmp/               1777
 *   /usr/bin/hello      0755 shell script
 *   /usr/bin/hi         hard link to hello
 *   /mnt/scratch/       a second tmpfs, size=16m, with README
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "boot/boot.h"

struct tb {
	struct uvfs *vfs;
	struct uvfs_cred cred;
	struct uvfs_vd root;
	int err; /* first error; later steps are skipped */
};

static struct uvfs_pathop P(struct tb *t, const char *path)
{
	return (struct uvfs_pathop){ .root = t->root, .start = t->root, .path = path };
}

static void step(struct tb *t, int err)
{
	if (!t->err && err)
		t->err = err;
}

static void mkdir_(struct tb *t, const char *path, mode_t mode)
{
	if (t->err)
		return;
	struct uvfs_pathop p = P(t, path);
	step(t, uvfs_mkdir_at(t->vfs, &t->cred, &p, mode));
	/* mkdir masks S_ISVTX-like bits on some paths; set the exact mode.
	 * The type bits are included: the core stores a.mode verbatim when
	 * the mode does not change (see the report on vfs/attr.c). */
	struct uvfs_setattr a = { .mask = STATX_MODE, .mode = S_IFDIR | mode };
	if (!t->err)
		step(t, uvfs_setstat_at(t->vfs, &t->cred, &p, &a, 0));
}

static void file_(struct tb *t, const char *path, mode_t mode, const char *data)
{
	if (t->err)
		return;
	struct uvfs_pathop p = P(t, path);
	struct uvfs_file *f;
	int err = uvfs_open_at(t->vfs, &t->cred, &p, O_WRONLY | O_CREAT | O_TRUNC, mode, 0, &f);
	if (err) {
		step(t, err);
		return;
	}
	size_t len = strlen(data);
	ssize_t n = uvfs_write(f, data, len);
	uvfs_file_put(f);
	step(t, n < 0 ? (int)n : (size_t)n != len ? -EIO : 0);
}

static void chown_(struct tb *t, const char *path, uint32_t uid, uint32_t gid)
{
	if (t->err)
		return;
	struct uvfs_pathop p = P(t, path);
	struct uvfs_setattr a = { .mask = STATX_UID | STATX_GID, .uid = uid, .gid = gid };
	step(t, uvfs_setstat_at(t->vfs, &t->cred, &p, &a, 0));
}

UVFS_API int uvfs_default_tree(struct uvfs **vfs_out, struct uvfs_mntns **ns_out)
{
	struct tb t = { 0 };
	struct uvfs_mntns *ns = NULL;
	uvfs_cred_init_root(&t.cred);
	int err = uvfs_create(&t.vfs);
	if (err)
		return err;
	if ((err = uvfs_register_fs_type(t.vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT | UVFS_FS_USER_LIST)))
		goto fail;
	struct uvfs_mount_opts mo = { .data = "mode=0755" };
	if ((err = uvfs_mntns_new(t.vfs, &t.cred, "uvfs", "tmpfs", &mo, &ns)))
		goto fail;
	uvfs_mntns_root(ns, &t.root);

	mkdir_(&t, "etc", 0755);
	file_(&t, "etc/hostname", 0644, "uvfs\n");
	file_(&t, "etc/os-release", 0644,
	      "NAME=\"uvfs sample tree\"\nID=uvfs\nVERSION_ID=" UVFS_VERSION "\n"
	      "PRETTY_NAME=\"uvfs " UVFS_VERSION " (default tree)\"\n");
	mkdir_(&t, "home", 0755);
	mkdir_(&t, "home/user", 0755);
	chown_(&t, "home/user", 1000, 1000);
	file_(&t, "home/user/notes.txt", 0644, "This tree lives in a uvfs tmpfs, in process.\n");
	chown_(&t, "home/user/notes.txt", 1000, 1000);
	if (!t.err) {
		struct uvfs_pathop p = P(&t, "home/user/notes.txt");
		const char v[] = "hello from uvfs";
		step(&t, uvfs_setxattr_at(t.vfs, &t.cred, &p, "user.comment", v, sizeof(v) - 1, 0));
	}
	mkdir_(&t, "root", 0700);
	mkdir_(&t, "tmp", 01777);
	mkdir_(&t, "usr", 0755);
	mkdir_(&t, "usr/bin", 0755);
	file_(&t, "usr/bin/hello", 0755, "#!/bin/sh\necho \"hello from uvfs\"\n");
	if (!t.err) {
		struct uvfs_pathop o = P(&t, "usr/bin/hello"), n = P(&t, "usr/bin/hi");
		step(&t, uvfs_link_at(t.vfs, &t.cred, &o, &n));
	}
	if (!t.err) {
		struct uvfs_pathop p = P(&t, "bin");
		step(&t, uvfs_symlink_at(t.vfs, &t.cred, "usr/bin", &p));
	}
	mkdir_(&t, "mnt", 0755);
	mkdir_(&t, "mnt/scratch", 0755);
	if (!t.err) {
		struct uvfs_pathop p = P(&t, "mnt/scratch");
		struct uvfs_mount_opts so = { .data = "size=16m,mode=0755" };
		step(&t, uvfs_mount_at(t.vfs, &t.cred, "scratch", &p, "tmpfs", &so));
	}
	file_(&t, "mnt/scratch/README", 0644, "A second tmpfs (size=16m) mounted on /mnt/scratch.\n");
	uvfs_vd_put(&t.root);
	if ((err = t.err))
		goto fail;
	*vfs_out = t.vfs;
	*ns_out = ns;
	return 0;
fail:
	if (ns)
		uvfs_mntns_put(ns);
	uvfs_destroy(t.vfs, NULL);
	return err;
}

UVFS_API int uvfs_default_tree_build(void *arg, struct uvfs **vfs, struct uvfs_mntns **ns)
{
	return uvfs_default_tree(vfs, ns);
}
