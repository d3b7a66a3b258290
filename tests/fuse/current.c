/* tests/fuse/current.c — the FUSE export stays current (issue 17): a tmpfs
 * namespace is exported with uvfs_fuse_start and 60-second entry and
 * attribute timeouts (plus the kernel's writeback cache), so without
 * invalidation every answer below would come from the kernel's caches.
 * Each check looks at a name through the mount (caching it), changes it in
 * process (this thread, not a FUSE request), and looks again at once.
 * Also: bind mounts of one directory are separate nodes, and teardown
 * leaves zero live objects. Prints "ok NAME" / "not ok NAME: why".
 *
 * usage: current MOUNTPOINT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse/fuse_export.h"

static int fails;
static struct uvfs *vfs;
static struct uvfs_vd rvd;
static struct uvfs_cred root;
static const char *mp;

static void check(const char *name, bool cond, const char *fmt, ...)
{
	if (cond) {
		printf("ok fuse-current: %s\n", name);
		return;
	}
	printf("not ok fuse-current: %s: ", name);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fails++;
}

static struct uvfs_pathop P(const char *path) { return (struct uvfs_pathop){ .root = rvd, .start = rvd, .path = path }; }

/* Through the kernel. */
static const char *K(const char *rel)
{
	static char buf[4][4096];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", mp, rel);
	return buf[i];
}
static int kstat(const char *rel, struct stat *st)
{
	struct stat dummy;
	return stat(K(rel), st ? st : &dummy) ? -errno : 0;
}
static ssize_t kread(const char *rel, char *buf, size_t len)
{
	int fd = open(K(rel), O_RDONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

static int uwrite(const char *path, const char *data, int flags, off_t off)
{
	struct uvfs_pathop p = P(path);
	struct uvfs_file *f;
	int err = uvfs_open_at(vfs, &root, &p, O_WRONLY | O_CREAT | flags, 0644, 0, &f);
	if (err)
		return err;
	ssize_t n = uvfs_pwrite(f, data, strlen(data), off);
	uvfs_file_put(f);
	return n < 0 ? (int)n : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: current MOUNTPOINT\n");
		return 2;
	}
	mp = argv[1];
	struct uvfs_mntns *ns;
	uvfs_cred_init_root(&root);
	int err = uvfs_create(&vfs);
	if (!err)
		err = uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT);
	if (!err)
		err = uvfs_mntns_new(vfs, &root, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns);
	if (err) {
		printf("not ok fuse-current: setup: %s\n", strerror(-err));
		return 1;
	}
	uvfs_mntns_root(ns, &rvd);
	struct uvfs_pathop p;
	struct uvfs_fuse *fx;
	struct uvfs_fuse_config cfg = { .entry_timeout = 60, .attr_timeout = 60 };
	if ((err = uvfs_fuse_start(vfs, ns, mp, NULL, &cfg, &fx))) {
		printf("not ok fuse-current: mount: %s\n", strerror(-err));
		return 1;
	}
	struct stat st, st2;
	char buf[256];

	/* A negative entry, then the name is made in process. */
	int r1 = kstat("new", NULL);
	p = P("/new");
	err = uvfs_mkdir_at(vfs, &root, &p, 0755);
	int r2 = kstat("new", &st);
	check("mkdir in process shows at once", r1 == -ENOENT && !err && r2 == 0 && S_ISDIR(st.st_mode),
	      "before %d mkdir %d after %d", r1, err, r2);

	uwrite("/gone", "x", 0, 0);
	r1 = kstat("gone", NULL);
	p = P("/gone");
	err = uvfs_unlink_at(vfs, &root, &p);
	r2 = kstat("gone", NULL);
	check("unlink in process shows at once", r1 == 0 && !err && r2 == -ENOENT, "before %d unlink %d after %d", r1,
	      err, r2);

	uwrite("/a", "a", 0, 0);
	r1 = kstat("a", &st);
	int r3 = kstat("b", NULL);
	struct uvfs_pathop pa = P("/a"), pb = P("/b");
	err = uvfs_rename_at(vfs, &root, &pa, &pb, 0);
	r2 = kstat("a", NULL);
	int r4 = kstat("b", &st2);
	check("rename in process shows at once",
	      !r1 && r3 == -ENOENT && !err && r2 == -ENOENT && !r4 && st.st_ino == st2.st_ino,
	      "a %d/%d b %d/%d rename %d", r1, r2, r3, r4, err);

	/* Content and size: the kernel has the page cached (keep_cache). */
	uwrite("/w", "one", 0, 0);
	ssize_t n1 = kread("w", buf, sizeof(buf));
	r1 = kstat("w", &st);
	err = uwrite("/w", "two and more", 0, 0);
	ssize_t n2 = kread("w", buf, sizeof(buf));
	r2 = kstat("w", &st2);
	check("write in process: new size and content at once",
	      n1 == 3 && !r1 && st.st_size == 3 && !err && n2 == 12 && !strcmp(buf, "two and more") && !r2 &&
		      st2.st_size == 12,
	      "read %zd then %zd '%s', size %lld then %lld", n1, n2, n2 > 0 ? buf : "", (long long)st.st_size,
	      (long long)st2.st_size);
	p = P("/w");
	err = uvfs_setstat_at(vfs, &root, &p, &(struct uvfs_setattr){ .mask = STATX_SIZE, .size = 2 }, 0);
	n2 = kread("w", buf, sizeof(buf));
	r2 = kstat("w", &st2);
	check("truncate in process: smaller size at once", !err && n2 == 2 && !strcmp(buf, "tw") && !r2 && st2.st_size == 2,
	      "truncate %d read %zd '%s' size %lld", err, n2, n2 > 0 ? buf : "", (long long)st2.st_size);
	err = uvfs_setstat_at(vfs, &root, &p, &(struct uvfs_setattr){ .mask = STATX_MODE, .mode = 0600 }, 0);
	r2 = kstat("w", &st2);
	check("chmod in process shows at once", !err && !r2 && (st2.st_mode & 07777) == 0600, "mode %o",
	      st2.st_mode & 07777);

	/* Hard links share one node (one kernel inode); a truncate in process
	 * must reach every name the kernel has cached, not only the one the
	 * node was first looked up by. Both orders: through the first name
	 * and through the second. */
	for (int order = 0; order < 2; order++) {
		const char *n1 = order ? "/hb1" : "/ha1", *n2 = order ? "/hb2" : "/ha2";
		uwrite(n1, "hello world", 0, 0);
		struct uvfs_pathop po = P(n1), pn = P(n2);
		err = uvfs_link_at(vfs, &root, &po, &pn);
		r1 = kstat(n1 + 1, &st);
		r2 = kstat(n2 + 1, &st2);
		bool same = !r1 && !r2 && st.st_ino == st2.st_ino && st.st_size == 11 && st2.st_size == 11;
		struct uvfs_pathop pt = order ? pn : po;
		int terr = uvfs_setstat_at(vfs, &root, &pt, &(struct uvfs_setattr){ .mask = STATX_SIZE, .size = 3 }, 0);
		r1 = kstat(n1 + 1, &st);
		r2 = kstat(n2 + 1, &st2);
		n1 = n1 + 1;
		ssize_t k1 = kread(n1, buf, sizeof(buf));
		ssize_t k2 = kread(n2 + 1, buf, sizeof(buf));
		check(order ? "truncate through a second hard link reaches every name"
			    : "truncate through the first hard link reaches every name",
		      !err && same && !terr && !r1 && !r2 && st.st_size == 3 && st2.st_size == 3 && k1 == 3 && k2 == 3,
		      "link %d same %d truncate %d sizes %lld/%lld reads %zd/%zd", err, same, terr, (long long)st.st_size,
		      (long long)st2.st_size, k1, k2);
	}

	/* Mounts: the mount point shows the mounted root at once, and the
	 * names below it are the new filesystem's. */
	p = P("/m");
	uvfs_mkdir_at(vfs, &root, &p, 0755);
	uwrite("/m/under", "u", 0, 0);
	r1 = kstat("m/under", NULL);
	kstat("m", &st);
	err = uvfs_mount_at(vfs, &root, "none", &p, "tmpfs", &(struct uvfs_mount_opts){ 0 });
	uwrite("/m/over", "o", 0, 0);
	r2 = kstat("m/under", NULL);
	r3 = kstat("m/over", NULL);
	r4 = kstat("m", &st2);
	check("mount in process shows at once", !r1 && !err && r2 == -ENOENT && !r3 && !r4 && st.st_dev == st2.st_dev &&
		      st.st_ino != st2.st_ino,
	      "under %d/%d over %d mount %d ino %llu/%llu", r1, r2, r3, err, (unsigned long long)st.st_ino,
	      (unsigned long long)st2.st_ino);
	err = uvfs_umount_at(vfs, &root, &p, UVFS_UMOUNT_DETACH); /* the kernel still holds nodes on it */
	r2 = kstat("m/under", NULL);
	r3 = kstat("m/over", NULL);
	r4 = kstat("m", &st2);
	check("umount in process shows at once", !err && !r2 && r3 == -ENOENT && !r4 && st.st_ino == st2.st_ino,
	      "umount %d under %d over %d", err, r2, r3);

	/* A plain (non-lazy) umount of a mount the kernel has browsed: the
	 * export makes the kernel drop its unused nodes under it first, so
	 * it succeeds; a file the kernel holds open inside keeps it busy, as
	 * on Linux, until it is closed. */
	p = P("/m");
	err = uvfs_mount_at(vfs, &root, "none", &p, "tmpfs", &(struct uvfs_mount_opts){ 0 });
	struct uvfs_pathop pd = P("/m/d");
	uvfs_mkdir_at(vfs, &root, &pd, 0755);
	uwrite("/m/d/f", "f", 0, 0);
	r1 = kstat("m/d/f", NULL);
	int ferr = uvfs_umount_at(vfs, &root, &p, 0);
	r2 = kstat("m/d", NULL);
	check("plain umount in process of a browsed mount", !err && !r1 && !ferr && r2 == -ENOENT,
	      "mount %d stat %d umount %d after %d", err, r1, ferr, r2);
	err = uvfs_mount_at(vfs, &root, "none", &p, "tmpfs", &(struct uvfs_mount_opts){ 0 });
	uwrite("/m/held", "h", 0, 0);
	int hfd = open(K("m/held"), O_RDONLY);
	ferr = uvfs_umount_at(vfs, &root, &p, 0);
	if (hfd >= 0)
		close(hfd);
	int ferr2 = -1;
	for (int i = 0; i < 20 && ferr2; i++) { /* the kernel releases the file asynchronously */
		ferr2 = uvfs_umount_at(vfs, &root, &p, 0);
		if (ferr2)
			usleep(50000);
	}
	check("plain umount in process with a file open inside is EBUSY", !err && hfd >= 0 && ferr == -EBUSY && !ferr2,
	      "mount %d open %d umount %d after close %d", err, hfd, ferr, ferr2);

	/* Bind mounts of one directory are separate nodes: a mount on one
	 * copy's subdirectory is not seen through the other. */
	const char *dirs[] = { "/src", "/src/sub", "/b1", "/b2" };
	for (int i = 0; i < 4; i++) {
		p = P(dirs[i]);
		uvfs_mkdir_at(vfs, &root, &p, 0755);
	}
	uwrite("/src/sub/plain", "p", 0, 0);
	struct uvfs_pathop ps = P("/src"), pb1 = P("/b1"), pb2 = P("/b2"), psub = P("/b1/sub");
	err = uvfs_bind_at(vfs, &root, &ps, &pb1, 0);
	if (!err)
		err = uvfs_bind_at(vfs, &root, &ps, &pb2, 0);
	r1 = kstat("b1/sub", &st);
	r2 = kstat("b2/sub", &st2);
	bool same_ino = !r1 && !r2 && st.st_ino == st2.st_ino; /* as on Linux: one inode */
	if (!err)
		err = uvfs_mount_at(vfs, &root, "none", &psub, "tmpfs", &(struct uvfs_mount_opts){ 0 });
	r1 = kstat("b1/sub/plain", NULL);
	r2 = kstat("b2/sub/plain", NULL);
	r3 = kstat("src/sub/plain", NULL);
	check("bind mounts are separate nodes", !err && same_ino && r1 == -ENOENT && !r2 && !r3,
	      "setup %d same ino %d b1 %d b2 %d src %d", err, same_ino, r1, r2, r3);

	/* A change through one bind-mount copy (a request the kernel makes on
	 * b2's nodes) reaches the kernel's cache of the other copy (b1's),
	 * page cache included (keep_cache). */
	uwrite("/src/f", "old", O_TRUNC, 0);
	n1 = kread("b1/f", buf, sizeof(buf));
	r1 = kstat("b1/made", NULL);
	int fd = open(K("b2/f"), O_WRONLY | O_TRUNC);
	ssize_t w = fd >= 0 ? write(fd, "brand new", 9) : -1;
	if (fd >= 0)
		close(fd); /* writeback: the data reaches uvfs at close */
	fd = open(K("b2/made"), O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	n2 = kread("b1/f", buf, sizeof(buf));
	r2 = kstat("b1/made", NULL);
	check("a change through one bind copy shows through the other", n1 == 3 && w == 9 && n2 == 9 &&
	      !strcmp(buf, "brand new") && r1 == -ENOENT && !r2, "read %zd then %zd '%s', made %d then %d", n1, n2,
	      n2 > 0 ? buf : "", r1, r2);

	uvfs_fuse_stop(fx);
	uvfs_vd_put(&rvd);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	memset(&live, 0, sizeof(live));
	int drc = uvfs_destroy(vfs, &live);
	check("teardown leaves 0 live objects", uvfs_report_teardown(drc, &live), "see stderr");
	return fails ? 1 : 0;
}
