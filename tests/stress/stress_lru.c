/* stress_lru.c — the dentry LRU, revalidation and invalidation under
 * concurrency (ThreadSanitizer build, run by `make check`).
 *
 * A small "remote" filesystem (lrufs: /dX/fY, X, Y < 8) is mounted on /r
 * of a tmpfs namespace with lru_max = 8, so unreferenced dentries are
 * parked, revived by lookups and evicted all the time. Files appear and
 * vanish on the "server" (an atomic bitmap bumped by a generation
 * counter); dentries revalidate against it, in RCU-walk from the
 * generation alone. Threads: readers stat random paths (0 or ENOENT,
 * nothing else), an opener opens and closes files, a mutator flips files
 * on the server, an invalidator drops random directories with
 * uvfs_d_invalidate. At the end the fs is unmounted and uvfs_destroy()
 * must report no live object, with every d_fsdata block released.
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
#include <time.h>
#include <unistd.h>

#include "uvfs_fs.h"

#define NDIR 8
#define NFILE 8

static struct uvfs *vfs;
static struct uvfs_mntns *ns;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static atomic_bool stop;
static _Atomic uint64_t present; /* bit X*NFILE+Y: /dX/fY exists */
static _Atomic unsigned gen = 1;
static atomic_long n_stats, n_opens, n_flips, n_invals, n_bad, fsdata_live, n_lookups;

/* ------------------------------------------------------------- lrufs */

struct lf_inode {
	struct uvfs_inode vfs;
	int dir, file; /* -1 -1: root; X -1: /dX; X Y: /dX/fY */
};
struct lf_dentry {
	_Atomic unsigned gen;
};

static const struct uvfs_inode_ops lf_dir_iops;
static const struct uvfs_inode_ops lf_file_iops = { 0 };
static const struct uvfs_file_ops lf_fops = { 0 };

static struct uvfs_inode *lf_inode(struct uvfs_filesystem *fs, int dir, int file)
{
	struct lf_inode *i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	mode_t mode = file >= 0 ? S_IFREG | 0644 : S_IFDIR | 0755;
	uvfs_inode_init(&i->vfs, fs, file >= 0 ? &lf_file_iops : &lf_dir_iops, &lf_fops,
			(uint64_t)(dir + 2) * 100 + (uint64_t)(file + 1), mode);
	i->dir = dir;
	i->file = file;
	return &i->vfs;
}

/* Parse "dN" / "fN" (N < limit); -1 otherwise. */
static int parse(const char *name, size_t len, char kind, int limit)
{
	if (len != 2 || name[0] != kind || name[1] < '0' || name[1] >= '0' + limit)
		return -1;
	return name[1] - '0';
}

static bool exists(int dir, int file)
{
	return file < 0 || (atomic_load(&present) >> (dir * NFILE + file)) & 1;
}

static int lf_lookup(struct uvfs_inode *dirino, struct uvfs_dentry *d)
{
	atomic_fetch_add(&n_lookups, 1);
	struct lf_inode *di = container_of(dirino, struct lf_inode, vfs);
	size_t len;
	const char *name = uvfs_dentry_name(d, &len);
	unsigned g = atomic_load(&gen);
	int dir = di->dir, file = -1;
	if (di->dir < 0)
		dir = parse(name, len, 'd', NDIR);
	else
		file = parse(name, len, 'f', NFILE);
	struct lf_dentry *ld = calloc(1, sizeof(*ld));
	if (!ld)
		return -ENOMEM;
	atomic_store(&ld->gen, g);
	atomic_fetch_add(&fsdata_live, 1);
	uvfs_dentry_set_fsdata(d, ld);
	if (dir >= 0 && (di->dir < 0 || file >= 0) && exists(dir, file)) {
		struct uvfs_inode *i = lf_inode(dirino->i_fs, dir, file);
		if (!i)
			return -ENOMEM;
		uvfs_d_instantiate(d, i);
	}
	return 0;
}
static const struct uvfs_inode_ops lf_dir_iops = { .lookup = lf_lookup };

static int lf_revalidate(struct uvfs_dentry *d, unsigned flags)
{
	struct lf_dentry *ld = uvfs_dentry_fsdata(d);
	unsigned g = atomic_load(&gen);
	if (ld && atomic_load(&ld->gen) == g)
		return 0;
	if (flags & UVFS_LOOKUP_RCU)
		return -ECHILD;
	struct uvfs_inode *i = uvfs_dentry_inode(d);
	struct lf_inode *pi = container_of(uvfs_dentry_inode(uvfs_dentry_parent(d)), struct lf_inode, vfs);
	size_t len;
	const char *name = uvfs_dentry_name(d, &len);
	bool now;
	if (pi->dir < 0) {
		now = parse(name, len, 'd', NDIR) >= 0;
	} else {
		int f = parse(name, len, 'f', NFILE);
		now = f >= 0 && exists(pi->dir, f);
	}
	if (now != (i != NULL))
		return 1;
	if (ld)
		atomic_store(&ld->gen, g);
	return 0;
}

static void lf_d_release(struct uvfs_dentry *d)
{
	struct lf_dentry *ld = uvfs_dentry_fsdata(d);
	if (ld) {
		atomic_fetch_sub(&fsdata_live, 1);
		free(ld);
	}
}
static const struct uvfs_dentry_ops lf_dops = { .revalidate = lf_revalidate, .release = lf_d_release };

static void lf_release(struct uvfs_filesystem *fs) { free(fs); }
static void lf_free_inode(struct uvfs_inode *i) { free(container_of(i, struct lf_inode, vfs)); }
static const struct uvfs_fs_ops lf_fs_ops = { .release = lf_release, .free_inode = lf_free_inode };

static int lf_get_fs(struct uvfs *v, const struct uvfs_cred *c, const char *source, const struct uvfs_fs_opts *opts,
		     struct uvfs_filesystem **out);
static const struct uvfs_fs_type lf_type = { .name = "lrufs", .flags = UVFS_FST_RCU_WALK, .get_fs = lf_get_fs };

static int lf_get_fs(struct uvfs *v, const struct uvfs_cred *c, const char *source, const struct uvfs_fs_opts *opts,
		     struct uvfs_filesystem **out)
{
	struct uvfs_filesystem *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	int err = uvfs_fs_init(fs, v, &lf_type, &lf_fs_ops);
	if (err) {
		free(fs);
		return err;
	}
	fs->d_op = &lf_dops;
	fs->lru_max = 8;
	struct uvfs_inode *r = lf_inode(fs, -1, -1);
	if (!r || (err = uvfs_d_make_root(fs, r, &fs->root))) {
		if (r)
			uvfs_inode_put(r);
		uvfs_fs_abort(fs);
		free(fs);
		return r ? err : -ENOMEM;
	}
	*out = fs;
	return 0;
}

/* ----------------------------------------------------------- threads */

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void path_of(char *buf, unsigned r)
{
	snprintf(buf, 32, "/r/d%u/f%u", r % NDIR, (r / NDIR) % NFILE);
}

static void *reader(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg;
	char p[32];
	while (!atomic_load(&stop)) {
		path_of(p, rnd(&s));
		struct uvfs_pathop pop = { .root = root, .start = root, .path = p };
		struct statx st;
		int rc = uvfs_stat_at(vfs, &cred, &pop, STATX_BASIC_STATS, &st);
		if (rc && rc != -ENOENT) {
			fprintf(stderr, "INCONSISTENT: stat %s: %d\n", p, rc);
			atomic_fetch_add(&n_bad, 1);
		}
		atomic_fetch_add(&n_stats, 1);
	}
	return NULL;
}

static void *opener(void *arg)
{
	unsigned s = 77;
	char p[32];
	while (!atomic_load(&stop)) {
		path_of(p, rnd(&s));
		struct uvfs_pathop pop = { .root = root, .start = root, .path = p };
		struct uvfs_file *f;
		int rc = uvfs_open_at(vfs, &cred, &pop, O_RDONLY, 0, 0, &f);
		if (rc == 0)
			uvfs_file_put(f);
		else if (rc != -ENOENT) {
			fprintf(stderr, "INCONSISTENT: open %s: %d\n", p, rc);
			atomic_fetch_add(&n_bad, 1);
		}
		atomic_fetch_add(&n_opens, 1);
	}
	return NULL;
}

static void *mutator(void *arg)
{
	unsigned s = 5;
	while (!atomic_load(&stop)) {
		atomic_fetch_xor(&present, 1ull << (rnd(&s) % (NDIR * NFILE)));
		atomic_fetch_add(&gen, 1);
		atomic_fetch_add(&n_flips, 1);
		usleep(50);
	}
	return NULL;
}

static void *invalidator(void *arg)
{
	unsigned s = 9;
	char p[32];
	while (!atomic_load(&stop)) {
		snprintf(p, sizeof p, "/r/d%u", rnd(&s) % NDIR);
		struct uvfs_pathop pop = { .root = root, .start = root, .path = p };
		struct uvfs_vd vd;
		if (uvfs_get_dentry_at(vfs, &cred, &pop, 0, &vd) == 0) {
			int rc = uvfs_d_invalidate(vd.dentry);
			if (rc) {
				fprintf(stderr, "INCONSISTENT: invalidate %s: %d\n", p, rc);
				atomic_fetch_add(&n_bad, 1);
			}
			uvfs_vd_put(&vd);
			atomic_fetch_add(&n_invals, 1);
		}
		usleep(200);
	}
	return NULL;
}

int main(void)
{
	const char *secs_env = getenv("STRESS_SECONDS");
	int secs = secs_env ? atoi(secs_env) : 3;
	uvfs_cred_init_root(&cred);
	if (uvfs_create(&vfs) || uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_register_fs_type(vfs, &lf_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	uvfs_mntns_root(ns, &root);
	struct uvfs_pathop r = { .root = root, .start = root, .path = "/r" };
	if (uvfs_mkdir_at(vfs, &cred, &r, 0755) ||
	    uvfs_mount_at(vfs, &cred, "srv", &r, "lrufs", &(struct uvfs_mount_opts){ 0 })) {
		fprintf(stderr, "mount failed\n");
		return 1;
	}
	atomic_store(&present, 0x5555555555555555ull);
	pthread_t t[6];
	pthread_create(&t[0], NULL, reader, (void *)1);
	pthread_create(&t[1], NULL, reader, (void *)2);
	pthread_create(&t[2], NULL, reader, (void *)3);
	pthread_create(&t[3], NULL, opener, NULL);
	pthread_create(&t[4], NULL, mutator, NULL);
	pthread_create(&t[5], NULL, invalidator, NULL);
	sleep((unsigned)secs);
	atomic_store(&stop, true);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	int rc = uvfs_umount_at(vfs, &cred, &r, 0);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int drc = uvfs_destroy(vfs, &live);
	printf("stress_lru: stats %ld opens %ld lookups %ld flips %ld invalidations %ld; umount %d, live dentries %ld "
	       "inodes %ld fs %ld, fsdata %ld, inconsistent %ld\n",
	       n_stats, n_opens, n_lookups, n_flips, n_invals, rc, live.dentries, live.inodes, live.filesystems,
	       fsdata_live, n_bad);
	return rc || drc || live.dentries || live.inodes || live.filesystems || fsdata_live || n_bad;
}
