/* stress_jump.c — jump links, a ->permission op and ->atomic_open under
 * concurrency (ThreadSanitizer build, run by `make check`).
 *
 * "jfs" is mounted on /j of a tmpfs namespace. Its root is a complete
 * directory with a ->permission op (uid 1000 may not search it, whatever
 * the mode says; with UVFS_MAY_NOT_BLOCK it answers from the mode bits
 * itself, RCU-safely), an ->atomic_open (it makes and opens regular files
 * in one call) and a pinned jump link "jl" whose ->get_link returns the
 * tmpfs directory /target. Threads:
 *  - walkers stat /j/jl/dK/f (0, or ENOENT while a renamer has moved dK)
 *    and readlink /j/jl (always "/target");
 *  - a renamer swaps /target/dK and /target/eK on the tmpfs;
 *  - a creator opens /j/nN with O_CREAT|O_EXCL (one ->atomic_open per
 *    create, never ->create), closes and unlinks it;
 *  - a denied user stats /j/jl/d0/f (always EACCES) while root's walks
 *    succeed through the same directory.
 * At the end every handle made by ->atomic_open must have been released,
 * and uvfs_destroy() must report no live object.
 *
 * STRESS_SECONDS (default 3) bounds the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uvfs_fs.h"

#define NDIRS 4
#define DENIED_UID 1000

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root, target; /* target: /target, set before the threads start */
static struct uvfs_cred cred, denied;
static atomic_bool stop;
static atomic_long n_stats, n_denied, n_readlinks, n_renames, n_creates, n_atomic, n_created_op, n_bad;
static atomic_long handles_live, n_get_links;

static const struct uvfs_inode_ops jf_dir_iops, jf_file_iops, jf_jump_iops;
static const struct uvfs_file_ops jf_fops, jf_dir_fops;
static _Atomic uint64_t next_ino = 10;

static struct uvfs_inode *jf_inode(struct uvfs_filesystem *fs, mode_t mode)
{
	struct uvfs_inode *i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	const struct uvfs_inode_ops *iop = S_ISDIR(mode) ? &jf_dir_iops : S_ISLNK(mode) ? &jf_jump_iops : &jf_file_iops;
	uvfs_inode_init(i, fs, iop, S_ISDIR(mode) ? &jf_dir_fops : &jf_fops, atomic_fetch_add(&next_ino, 1), mode);
	i->i_nlink = S_ISDIR(mode) ? 2 : 1;
	return i;
}

static int jf_permission(struct uvfs_inode *inode, const struct uvfs_cred *c, int mask, unsigned flags)
{
	if (c->fsuid == DENIED_UID)
		return -EACCES;
	return uvfs_generic_permission(inode, c, mask, flags);
}

static int jf_atomic_open(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *c, mode_t mode,
			  struct uvfs_file *f)
{
	atomic_fetch_add(&n_atomic, 1);
	struct uvfs_inode *i = jf_inode(dir->i_fs, mode);
	if (!i || !(f->f_private = malloc(1))) {
		if (i)
			uvfs_inode_put(i);
		return -ENOMEM;
	}
	atomic_fetch_add(&handles_live, 1);
	uvfs_inode_init_owner(i, dir, c, &mode);
	i->i_mode = mode;
	uvfs_d_instantiate(d, i);
	return 0;
}

static int jf_create(struct uvfs_inode *dir, struct uvfs_dentry *d, const struct uvfs_cred *c, mode_t mode, dev_t rdev)
{
	atomic_fetch_add(&n_created_op, 1); /* must never run: atomic_open covers O_CREAT */
	return -EPERM;
}

/* Complete directory: the VFS unhashes and unpins d; only the link count is ours. */
static int jf_unlink(struct uvfs_inode *dir, struct uvfs_dentry *d)
{
	struct uvfs_inode *i = uvfs_dentry_inode(d);
	uvfs_inode_attr_begin(i);
	i->i_nlink = 0;
	uvfs_inode_attr_end(i);
	return 0;
}

static int jf_get_link(struct uvfs_dentry *d, struct uvfs_vd *out)
{
	atomic_fetch_add(&n_get_links, 1);
	*out = target;
	uvfs_vd_get(out);
	return 0;
}

static void jf_release_file(struct uvfs_file *f)
{
	if (f->f_private) {
		free(f->f_private);
		atomic_fetch_sub(&handles_live, 1);
	}
}

static const struct uvfs_inode_ops jf_dir_iops = {
	.create = jf_create, .unlink = jf_unlink, .permission = jf_permission, .atomic_open = jf_atomic_open
};
static const struct uvfs_inode_ops jf_file_iops = { 0 };
static const struct uvfs_inode_ops jf_jump_iops = { .get_link = jf_get_link };
static const struct uvfs_file_ops jf_fops = { .release = jf_release_file };
static const struct uvfs_file_ops jf_dir_fops = { 0 };

static void jf_release(struct uvfs_filesystem *fs) { free(fs); }
static void jf_free_inode(struct uvfs_inode *inode) { free(inode); }
static const struct uvfs_fs_ops jf_fs_ops = { .release = jf_release, .free_inode = jf_free_inode };

static int jf_get_fs(struct uvfs *v, const struct uvfs_cred *c, const char *source, const struct uvfs_fs_opts *opts,
		     struct uvfs_filesystem **out);
static const struct uvfs_fs_type jf_type = { .name = "jfs", .flags = UVFS_FST_RCU_WALK, .get_fs = jf_get_fs };

static int jf_get_fs(struct uvfs *v, const struct uvfs_cred *c, const char *source, const struct uvfs_fs_opts *opts,
		     struct uvfs_filesystem **out)
{
	struct uvfs_filesystem *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	int err = uvfs_fs_init(fs, v, &jf_type, &jf_fs_ops);
	if (err) {
		free(fs);
		return err;
	}
	struct uvfs_inode *r = jf_inode(fs, S_IFDIR | 0777);
	if (!r || (err = uvfs_d_make_root(fs, r, &fs->root))) {
		if (r)
			uvfs_inode_put(r);
		uvfs_fs_abort(fs);
		free(fs);
		return r ? err : -ENOMEM;
	}
	r->i_flags |= UVFS_I_COMPLETE;
	struct uvfs_inode *jl = jf_inode(fs, S_IFLNK | 0777);
	if (!jl || (err = uvfs_d_add_static(fs->root, "jl", 2, jl, NULL))) {
		if (jl)
			uvfs_inode_put(jl);
		uvfs_fs_abort(fs);
		free(fs);
		return jl ? err : -ENOMEM;
	}
	*out = fs;
	return 0;
}

/* ------------------------------------------------------------ threads */

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void bad(const char *what, const char *path, long rc)
{
	fprintf(stderr, "INCONSISTENT: %s %s: %ld\n", what, path, rc);
	atomic_fetch_add(&n_bad, 1);
}

static void *walker(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg;
	char p[64], buf[64];
	while (!atomic_load(&stop)) {
		snprintf(p, sizeof p, "/j/jl/d%u/f", rnd(&s) % NDIRS);
		struct uvfs_pathop pop = { .root = root, .start = root, .path = p, .flags = UVFS_PATH_FOLLOW };
		struct statx st;
		int rc = uvfs_stat_at(vfs, &cred, &pop, STATX_BASIC_STATS, &st);
		if (rc && rc != -ENOENT)
			bad("stat", p, rc);
		atomic_fetch_add(&n_stats, 1);
		struct uvfs_pathop lp = { .root = root, .start = root, .path = "/j/jl" };
		ssize_t n = uvfs_readlink_at(vfs, &cred, &lp, buf, sizeof buf);
		if (n != 7 || memcmp(buf, "/target", 7))
			bad("readlink", "/j/jl", n);
		atomic_fetch_add(&n_readlinks, 1);
	}
	return NULL;
}

static void *renamer(void *arg)
{
	unsigned s = 3;
	char a[32], b[32];
	while (!atomic_load(&stop)) {
		unsigned k = rnd(&s) % NDIRS;
		snprintf(a, sizeof a, "/target/d%u", k);
		snprintf(b, sizeof b, "/target/e%u", k);
		struct uvfs_pathop pa = { .root = root, .start = root, .path = a };
		struct uvfs_pathop pb = { .root = root, .start = root, .path = b };
		int rc = uvfs_rename_at(vfs, &cred, &pa, &pb, 0);
		if (!rc)
			rc = uvfs_rename_at(vfs, &cred, &pb, &pa, 0);
		if (rc)
			bad("rename", a, rc);
		atomic_fetch_add(&n_renames, 1);
		usleep(20);
	}
	return NULL;
}

static void *creator(void *arg)
{
	char p[32];
	for (unsigned n = 0; !atomic_load(&stop); n++) {
		snprintf(p, sizeof p, "/j/n%u", n % 64);
		struct uvfs_pathop pop = { .root = root, .start = root, .path = p };
		struct uvfs_file *f;
		int rc = uvfs_open_at(vfs, &cred, &pop, O_CREAT | O_EXCL | O_RDWR, 0600, 0, &f);
		if (rc) {
			bad("create", p, rc);
			continue;
		}
		uvfs_file_put(f);
		if ((rc = uvfs_unlink_at(vfs, &cred, &pop)))
			bad("unlink", p, rc);
		atomic_fetch_add(&n_creates, 1);
	}
	return NULL;
}

static void *denied_walker(void *arg)
{
	while (!atomic_load(&stop)) {
		struct uvfs_pathop pop = { .root = root, .start = root, .path = "/j/jl/d0/f", .flags = UVFS_PATH_FOLLOW };
		struct statx st;
		int rc = uvfs_stat_at(vfs, &denied, &pop, STATX_BASIC_STATS, &st);
		if (rc != -EACCES)
			bad("denied stat", pop.path, rc);
		atomic_fetch_add(&n_denied, 1);
	}
	return NULL;
}

static int run(const char *path, int (*fn)(const char *))
{
	int rc = fn(path);
	if (rc)
		fprintf(stderr, "setup %s: %d\n", path, rc);
	return rc;
}
static int mkdir_p(const char *path)
{
	struct uvfs_pathop p = { .root = root, .start = root, .path = path };
	return uvfs_mkdir_at(vfs, &cred, &p, 0755);
}
static int mkfile(const char *path)
{
	struct uvfs_pathop p = { .root = root, .start = root, .path = path };
	struct uvfs_file *f;
	int rc = uvfs_open_at(vfs, &cred, &p, O_CREAT | O_WRONLY, 0644, 0, &f);
	if (!rc)
		uvfs_file_put(f);
	return rc;
}

int main(void)
{
	const char *secs_env = getenv("STRESS_SECONDS");
	int secs = secs_env ? atoi(secs_env) : 3;
	uvfs_cred_init_root(&cred);
	uvfs_cred_init_user(&denied, DENIED_UID, DENIED_UID);
	if (uvfs_create(&vfs) || uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_register_fs_type(vfs, &jf_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	uvfs_mntns_root(ns, &root);
	char p[32];
	if (run("/target", mkdir_p) || run("/j", mkdir_p))
		return 1;
	for (int k = 0; k < NDIRS; k++) {
		snprintf(p, sizeof p, "/target/d%d", k);
		if (run(p, mkdir_p))
			return 1;
		snprintf(p, sizeof p, "/target/d%d/f", k);
		if (run(p, mkfile))
			return 1;
	}
	struct uvfs_pathop tp = { .root = root, .start = root, .path = "/target" };
	struct uvfs_pathop jp = { .root = root, .start = root, .path = "/j" };
	if (uvfs_get_dentry_at(vfs, &cred, &tp, 0, &target) ||
	    uvfs_mount_at(vfs, &cred, "jfs", &jp, "jfs", &(struct uvfs_mount_opts){ 0 })) {
		fprintf(stderr, "mount failed\n");
		return 1;
	}
	pthread_t t[6];
	pthread_create(&t[0], NULL, walker, (void *)1);
	pthread_create(&t[1], NULL, walker, (void *)2);
	pthread_create(&t[2], NULL, renamer, NULL);
	pthread_create(&t[3], NULL, creator, NULL);
	pthread_create(&t[4], NULL, denied_walker, NULL);
	pthread_create(&t[5], NULL, walker, (void *)3);
	sleep((unsigned)secs);
	atomic_store(&stop, true);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	int rc = uvfs_umount_at(vfs, &cred, &jp, 0);
	uvfs_vd_put(&target);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int drc = uvfs_destroy(vfs, &live);
	long creates = atomic_load(&n_creates), atomics = atomic_load(&n_atomic);
	printf("stress_jump: stats %ld denied %ld readlinks %ld renames %ld creates %ld atomic_opens %ld get_links %ld; "
	       "umount %d, live dentries %ld inodes %ld files %ld fs %ld, handles %ld, inconsistent %ld\n",
	       atomic_load(&n_stats), atomic_load(&n_denied), atomic_load(&n_readlinks), atomic_load(&n_renames),
	       creates, atomics, atomic_load(&n_get_links), rc, live.dentries, live.inodes, live.files,
	       live.filesystems, atomic_load(&handles_live), atomic_load(&n_bad));
	bool ok = !rc && !drc && !atomic_load(&n_bad) && !atomic_load(&handles_live) && !atomic_load(&n_created_op) &&
		  creates > 0 && atomics == creates && atomic_load(&n_denied) > 0 && atomic_load(&n_get_links) > 0;
	return ok ? 0 : 1;
}
