/* stress_fuse_watch.c — change notification under ThreadSanitizer: three
 * threads create, write, rename, unlink and mount/umount in one tmpfs while
 * a fourth subscribes and unsubscribes over and over. Each subscription
 * owns a heap counter the callbacks write; unsubscribing must wait for
 * every running callback (the counter is freed right after, so a late
 * callback is a use-after-free TSan/ASan reports). Callbacks read the
 * inode they are given (its number and size), which must be alive.
 * Prints one summary line; exit 1 on any inconsistency.
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

#include "uvfs.h"
#include "uvfs_fs.h"

static struct uvfs *vfs;
static struct uvfs_vd root;
static struct uvfs_cred cred;
static atomic_bool stop;
static atomic_long ops, events, subs, bad;

struct sub {
	atomic_long ahits;
	uint64_t magic;
};
#define MAGIC 0x5ca1ab1e

static void on_entry(void *arg, enum uvfs_watch_event ev, struct uvfs_inode *dir, const char *name, size_t len,
		     struct uvfs_inode *child)
{
	struct sub *s = arg;
	if (s->magic != MAGIC || !dir || !len || (child && __atomic_load_n(&child->i_ino, __ATOMIC_RELAXED) == 0))
		atomic_fetch_add(&bad, 1);
	atomic_fetch_add(&s->ahits, 1);
	atomic_fetch_add(&events, 1);
}

static void on_inode(void *arg, enum uvfs_watch_event ev, struct uvfs_inode *inode, uint64_t off, uint64_t len)
{
	struct sub *s = arg;
	/* i_ino is immutable; i_size would need the attribute seqlock (a plain
	 * or relaxed read races tmpfs's write under it: TSan). */
	if (s->magic != MAGIC || inode->i_ino == 0)
		atomic_fetch_add(&bad, 1);
	atomic_fetch_add(&s->ahits, 1);
	atomic_fetch_add(&events, 1);
}

static const struct uvfs_watch_ops wops = { .entry = on_entry, .inode = on_inode };

static struct uvfs_pathop P(const char *p) { return (struct uvfs_pathop){ .root = root, .start = root, .path = p }; }

static void *changer(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char a[32], b[32];
	while (!atomic_load(&stop)) {
		unsigned r = rand_r(&seed);
		snprintf(a, sizeof(a), "/d/n%u", (r >> 4) % 6);
		snprintf(b, sizeof(b), "/d/n%u", (r >> 8) % 6);
		struct uvfs_pathop pa = P(a), pb = P(b);
		struct uvfs_file *f;
		switch (r % 6) {
		case 0:
			uvfs_mkdir_at(vfs, &cred, &pa, 0755);
			break;
		case 1:
			if (!uvfs_open_at(vfs, &cred, &pa, O_WRONLY | O_CREAT, 0644, 0, &f)) {
				uvfs_pwrite(f, "data", 4, (off_t)(r % 100));
				uvfs_file_put(f);
			}
			break;
		case 2:
			uvfs_rename_at(vfs, &cred, &pa, &pb, 0);
			break;
		case 3:
			if (uvfs_unlink_at(vfs, &cred, &pa) == -EISDIR)
				uvfs_rmdir_at(vfs, &cred, &pa);
			break;
		case 4:
			uvfs_mount_at(vfs, &cred, "none", &pa, "tmpfs", &(struct uvfs_mount_opts){ 0 });
			break;
		case 5:
			uvfs_umount_at(vfs, &cred, &pa, UVFS_UMOUNT_DETACH);
			break;
		}
		atomic_fetch_add(&ops, 1);
	}
	return NULL;
}

static void *subscriber(void *arg)
{
	while (!atomic_load(&stop)) {
		struct sub *s = calloc(1, sizeof(*s));
		s->magic = MAGIC;
		if (uvfs_watch_set(vfs, &wops, s)) {
			atomic_fetch_add(&bad, 1);
			free(s);
			break;
		}
		usleep(200);
		uvfs_watch_set(vfs, NULL, NULL);
		s->magic = 0; /* a callback after this is a failure */
		free(s);
		atomic_fetch_add(&subs, 1);
	}
	return NULL;
}

int main(void)
{
	uvfs_cred_init_root(&cred);
	struct uvfs_mntns *ns;
	if (uvfs_create(&vfs) || uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns)) {
		fprintf(stderr, "stress_fuse_watch: setup failed\n");
		return 1;
	}
	uvfs_mntns_root(ns, &root);
	struct uvfs_pathop d = P("/d");
	uvfs_mkdir_at(vfs, &cred, &d, 0755);
	pthread_t t[4];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, changer, (void *)(uintptr_t)(i + 1));
	pthread_create(&t[3], NULL, subscriber, NULL);
	sleep(3);
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int drc = uvfs_destroy(vfs, &live);
	long leaked = live.dentries + live.inodes + live.mounts + live.mntns + live.files + live.filesystems;
	printf("stress_fuse_watch: %ld changes, %ld events, %ld subscriptions, %ld bad, teardown %d (%ld live)\n",
	       atomic_load(&ops), atomic_load(&events), atomic_load(&subs), atomic_load(&bad), drc, leaked);
	return atomic_load(&bad) || drc || leaked || !atomic_load(&events) ? 1 : 0;
}
