/* tests/fuse/pseudo.c — the FUSE export's policy for pseudo files: a tiny
 * proc-like filesystem (type "pseudofs": a directory with one file,
 * "counter", whose st_size is 0 and whose content changes on every read) is
 * mounted on /proc of a tmpfs namespace and exported with uvfs_fuse_start.
 * Through the mount, reads must return the content (direct_io), and a
 * second read must see new content (no page cache, zero timeouts); tmpfs
 * files next to it read normally. Teardown must leave zero live objects.
 * Prints "ok NAME" / "not ok NAME: why" lines. Built by t_fuse_pseudo.sh.
 *
 * usage: pseudo MOUNTPOINT
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot.h"
#include "fuse/fuse_export.h"
#include "vfs/uvfs_fs.h"

static atomic_int nreads;

static void p_release(struct uvfs_filesystem *fs) { free(fs); }
static void p_free_inode(struct uvfs_inode *inode) { free(inode); }
static const struct uvfs_fs_ops p_fs_ops = { .release = p_release, .free_inode = p_free_inode };

static ssize_t counter_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	char text[64];
	/* One generation per read from offset 0, like a proc file's snapshot. */
	int n = off == 0 ? atomic_fetch_add(&nreads, 1) + 1 : atomic_load(&nreads);
	int tl = snprintf(text, sizeof(text), "reads %d\n", n);
	if (off >= (uint64_t)tl)
		return 0;
	size_t k = (size_t)tl - off < len ? (size_t)tl - off : len;
	memcpy(buf, text + off, k);
	return (ssize_t)k;
}
static const struct uvfs_file_ops counter_fops = { .read = counter_read };
static const struct uvfs_inode_ops counter_iops = { 0 };

static struct uvfs_inode *new_inode(struct uvfs_filesystem *fs, const struct uvfs_inode_ops *iop,
				    const struct uvfs_file_ops *fop, uint64_t ino, mode_t mode)
{
	struct uvfs_inode *i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	uvfs_inode_init(i, fs, iop, fop, ino, mode);
	i->i_mode = mode;
	i->i_nlink = S_ISDIR(mode) ? 2 : 1;
	i->i_atime = i->i_mtime = i->i_ctime = i->i_btime = uvfs_now();
	return i;
}

/* "twin": another file with counter's inode number, as a remote
 * filesystem that reuses numbers shows it; the export must keep them
 * apart (its nodes are inode objects, not numbers). */
static ssize_t twin_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	static const char text[] = "twin\n";
	if (off >= sizeof(text) - 1)
		return 0;
	size_t k = sizeof(text) - 1 - off < len ? sizeof(text) - 1 - off : len;
	memcpy(buf, text + off, k);
	return (ssize_t)k;
}
static const struct uvfs_file_ops twin_fops = { .read = twin_read };

static int dir_lookup(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	size_t len;
	const char *name = uvfs_dentry_name(d, &len);
	if (len == 4 && !memcmp(name, "twin", 4)) {
		struct uvfs_inode *i = new_inode(dir->i_fs, &counter_iops, &twin_fops, 2, S_IFREG | 0444);
		if (!i)
			return -ENOMEM;
		uvfs_d_instantiate(d, i);
		return 0;
	}
	if (len != 7 || memcmp(name, "counter", 7))
		return 0; /* stays negative: ENOENT */
	struct uvfs_inode *i = new_inode(dir->i_fs, &counter_iops, &counter_fops, 2, S_IFREG | 0444);
	if (!i)
		return -ENOMEM;
	uvfs_d_instantiate(d, i);
	return 0;
}

static int dir_iterate(struct uvfs_file *f, struct uvfs_dir_ctx *ctx)
{
	if (uvfs_dir_emit_dots(f, ctx))
		return 0;
	if (ctx->pos == 2 && !ctx->emit(ctx, "counter", 7, 2, DT_REG, 3))
		ctx->pos = 3;
	return 0;
}
static const struct uvfs_inode_ops dir_iops = { .lookup = dir_lookup };
static const struct uvfs_file_ops dir_fops = { .iterate = dir_iterate };

static int p_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		    const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out);
static const struct uvfs_fs_type pseudo_type = { .name = "pseudofs", .flags = 0, .get_fs = p_get_fs };

static int p_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		    const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	struct uvfs_filesystem *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	int err = uvfs_fs_init(fs, vfs, &pseudo_type, &p_fs_ops);
	if (err) {
		free(fs);
		return err;
	}
	struct uvfs_inode *root = new_inode(fs, &dir_iops, &dir_fops, 1, S_IFDIR | 0555);
	if (!root || (err = uvfs_d_make_root(fs, root, &fs->root))) {
		if (root)
			uvfs_inode_put(root);
		uvfs_fs_abort(fs);
		free(fs);
		return root ? err : -ENOMEM;
	}
	*out = fs;
	return 0;
}

static int fails;
static void check(const char *name, int cond, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check(const char *name, int cond, const char *fmt, ...)
{
	if (cond) {
		printf("ok fuse-pseudo %s\n", name);
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	printf("not ok fuse-pseudo %s: ", name);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fails++;
}

static ssize_t slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = 0;
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pseudo MOUNTPOINT\n");
		return 2;
	}
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	int err = uvfs_default_tree(&vfs, &ns);
	if (!err)
		err = uvfs_register_fs_type(vfs, &pseudo_type, UVFS_FS_USER_MOUNT);
	struct uvfs_vd rvd = { 0 };
	if (!err) {
		uvfs_mntns_root(ns, &rvd);
		struct uvfs_pathop p = { .root = rvd, .start = rvd, .path = "proc" };
		err = uvfs_mkdir_at(vfs, &root, &p, 0555);
		if (!err)
			err = uvfs_mount_at(vfs, &root, "pseudo", &p, "pseudofs", &(struct uvfs_mount_opts){ 0 });
		uvfs_vd_put(&rvd);
	}
	if (err) {
		printf("not ok fuse-pseudo setup: %s\n", strerror(-err));
		return 1;
	}
	struct uvfs_fuse *fx;
	if ((err = uvfs_fuse_start(vfs, ns, argv[1], NULL, NULL, &fx))) {
		printf("not ok fuse-pseudo mount: %s\n", strerror(-err));
		return 1;
	}
	char path[4096], a[256], b[256];
	snprintf(path, sizeof(path), "%s/proc/counter", argv[1]);
	struct stat st;
	int rc = stat(path, &st);
	check("stat says size 0", rc == 0 && S_ISREG(st.st_mode) && st.st_size == 0, "rc %d size %lld", rc,
	      (long long)st.st_size);
	ssize_t n1 = slurp(path, a, sizeof(a)), n2 = slurp(path, b, sizeof(b));
	check("content read despite size 0", n1 > 0 && !strncmp(a, "reads ", 6), "read %zd '%s'", n1, n1 > 0 ? a : "");
	check("second read is fresh (no page cache)", n2 > 0 && strcmp(a, b), "'%s' then '%s'", a, n2 > 0 ? b : "");
	char tpath[4096];
	snprintf(tpath, sizeof(tpath), "%s/proc/twin", argv[1]);
	struct stat tst;
	int trc = stat(tpath, &tst);
	ssize_t n4 = slurp(tpath, b, sizeof(b)), n5 = slurp(path, a, sizeof(a));
	check("a reused inode number is another node", !trc && tst.st_ino == st.st_ino && n4 == 5 && !strcmp(b, "twin\n") &&
	      n5 > 0 && !strncmp(a, "reads ", 6), "twin stat %d ino %llu/%llu read '%s', counter '%s'", trc,
	      (unsigned long long)tst.st_ino, (unsigned long long)st.st_ino, n4 > 0 ? b : "", n5 > 0 ? a : "");
	snprintf(path, sizeof(path), "%s/proc/missing", argv[1]);
	check("missing name is ENOENT", stat(path, &st) && errno == ENOENT, "errno %d", errno);
	struct stat pst, rst;
	snprintf(path, sizeof(path), "%s/proc", argv[1]);
	int r1 = stat(path, &pst), r2 = stat(argv[1], &rst);
	/* Both roots are inode 1 of their filesystem; the export keeps st_ino unique. */
	check("inode numbers differ across filesystems", !r1 && !r2 && pst.st_ino != rst.st_ino, "both %llu",
	      (unsigned long long)rst.st_ino);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "ls %s/proc | grep -qx counter", argv[1]);
	check("ls shows counter", system(cmd) == 0, "ls output lacks counter");
	snprintf(path, sizeof(path), "%s/etc/hostname", argv[1]);
	ssize_t n3 = slurp(path, a, sizeof(a));
	check("tmpfs file next to it reads normally", n3 == 5 && !strcmp(a, "uvfs\n"), "read %zd", n3);

	uvfs_fuse_stop(fx);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	memset(&live, 0, sizeof(live));
	int drc = uvfs_destroy(vfs, &live);
	check("teardown leaves 0 live objects", uvfs_report_teardown(drc, &live), "see stderr");
	return fails ? 1 : 0;
}
