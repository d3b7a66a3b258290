/* tests/fuse/current_stress.c — in-process changes racing kernel-side
 * readers on the FUSE export (issue 17, always current), meant to run
 * under ASan (t_fuse_current_stress.sh builds it against libuvfs-san.a).
 * Two embedder threads mkdir, create, write, truncate, rename, unlink and
 * mount/umount (lazily) a small set of names while two reader threads stat,
 * read and list them through the mount, which has 60-second timeouts and
 * the writeback cache. Afterwards, with everything quiet, the mount must
 * agree with the tree on every name (existence, type, size), and teardown
 * must leave zero live objects. Prints "ok NAME" / "not ok NAME: why".
 *
 * usage: current_stress MOUNTPOINT SECONDS
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuse/fuse_export.h"

#define NNAMES 8
static struct uvfs *vfs;
static struct uvfs_vd rvd;
static struct uvfs_cred root;
static const char *mp;
static atomic_bool stop;
static atomic_long changes, reads;

static struct uvfs_pathop P(const char *path) { return (struct uvfs_pathop){ .root = rvd, .start = rvd, .path = path }; }

static void name_of(char *buf, size_t len, unsigned i) { snprintf(buf, len, "/s/n%u", i % NNAMES); }

static void *changer(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char a[64], b[64];
	while (!atomic_load(&stop)) {
		unsigned r = rand_r(&seed);
		name_of(a, sizeof(a), r >> 4);
		name_of(b, sizeof(b), r >> 12);
		struct uvfs_pathop pa = P(a), pb = P(b);
		struct uvfs_file *f;
		switch (r % 8) {
		case 0:
			uvfs_mkdir_at(vfs, &root, &pa, 0755);
			break;
		case 1:
		case 2:
			if (!uvfs_open_at(vfs, &root, &pa, O_WRONLY | O_CREAT | ((r & 16) ? O_APPEND : 0), 0644, 0, &f)) {
				char data[100];
				memset(data, 'a' + (int)(r % 26), sizeof(data));
				uvfs_pwrite(f, data, 1 + (r >> 8) % sizeof(data), (off_t)((r >> 16) % 5000));
				uvfs_file_put(f);
			}
			break;
		case 3:
			uvfs_setstat_at(vfs, &root, &pa, &(struct uvfs_setattr){ .mask = STATX_SIZE, .size = (r >> 8) % 300 },
					0);
			break;
		case 4:
			uvfs_rename_at(vfs, &root, &pa, &pb, 0);
			break;
		case 5:
			if (uvfs_unlink_at(vfs, &root, &pa) == -EISDIR)
				uvfs_rmdir_at(vfs, &root, &pa);
			break;
		case 6:
			uvfs_mount_at(vfs, &root, "none", &pa, "tmpfs", &(struct uvfs_mount_opts){ 0 });
			break;
		case 7:
			uvfs_umount_at(vfs, &root, &pa, UVFS_UMOUNT_DETACH);
			break;
		}
		atomic_fetch_add(&changes, 1);
	}
	return NULL;
}

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char path[4096], buf[8192], n[64];
	while (!atomic_load(&stop)) {
		unsigned r = rand_r(&seed);
		name_of(n, sizeof(n), r >> 4);
		snprintf(path, sizeof(path), "%s%s", mp, n);
		struct stat st;
		if (r % 3 == 0) {
			int fd = open(path, O_RDONLY);
			if (fd >= 0) {
				while (read(fd, buf, sizeof(buf)) > 0)
					;
				close(fd);
			}
		} else if (r % 3 == 1) {
			snprintf(path, sizeof(path), "%s/s", mp);
			DIR *d = opendir(path);
			if (d) {
				while (readdir(d))
					;
				closedir(d);
			}
		} else {
			stat(path, &st);
		}
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: current_stress MOUNTPOINT SECONDS\n");
		return 2;
	}
	mp = argv[1];
	int secs = atoi(argv[2]);
	struct uvfs_mntns *ns;
	uvfs_cred_init_root(&root);
	int err = uvfs_create(&vfs);
	if (!err)
		err = uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT);
	if (!err)
		err = uvfs_mntns_new(vfs, &root, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns);
	if (err) {
		printf("not ok fuse-current-stress: setup: %s\n", strerror(-err));
		return 1;
	}
	uvfs_mntns_root(ns, &rvd);
	struct uvfs_pathop ps = P("/s");
	uvfs_mkdir_at(vfs, &root, &ps, 0755);
	struct uvfs_fuse *fx;
	struct uvfs_fuse_config cfg = { .entry_timeout = 60, .attr_timeout = 60 };
	if ((err = uvfs_fuse_start(vfs, ns, mp, NULL, &cfg, &fx))) {
		printf("not ok fuse-current-stress: mount: %s\n", strerror(-err));
		return 1;
	}
	pthread_t th[4];
	for (int i = 0; i < 2; i++) {
		pthread_create(&th[i], NULL, changer, (void *)(uintptr_t)(i + 1));
		pthread_create(&th[2 + i], NULL, reader, (void *)(uintptr_t)(i + 7));
	}
	sleep((unsigned)secs);
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	/* Quiet now. Readers listed /s all along (readdirplus refreshes every
	 * entry), so first look at each name through the mount, flip it in
	 * process (absent: a file of i + 1 bytes; a file: gone; a directory:
	 * its mounts lazily unmounted), and only then compare, name by name. */
	int bad = 0;
	char why[512] = "";
	for (unsigned i = 0; i < NNAMES; i++) {
		char n[64], path[4096];
		name_of(n, sizeof(n), i);
		snprintf(path, sizeof(path), "%s%s", mp, n);
		struct uvfs_pathop p = P(n);
		struct statx x;
		struct stat st;
		stat(path, &st);
		int ue = uvfs_stat_at(vfs, &root, &p, STATX_BASIC_STATS, &x);
		struct uvfs_file *f;
		if (ue == -ENOENT && !uvfs_open_at(vfs, &root, &p, O_WRONLY | O_CREAT, 0644, 0, &f)) {
			uvfs_pwrite(f, "0123456789", i + 1, 0);
			uvfs_file_put(f);
		} else if (!ue && S_ISREG(x.stx_mode)) {
			uvfs_unlink_at(vfs, &root, &p);
		} else if (!ue) {
			while (!uvfs_umount_at(vfs, &root, &p, UVFS_UMOUNT_DETACH))
				;
		}
		ue = uvfs_stat_at(vfs, &root, &p, STATX_BASIC_STATS, &x);
		int ke = stat(path, &st) ? -errno : 0;
		bool same = ue == ke && (ue || ((x.stx_mode & S_IFMT) == (st.st_mode & S_IFMT) &&
						(S_ISDIR(st.st_mode) || (off_t)x.stx_size == st.st_size)));
		if (!same && !bad++)
			snprintf(why, sizeof(why), "%s: uvfs %d mode %o size %llu, mount %d mode %o size %lld", n, ue,
				 ue ? 0 : x.stx_mode, ue ? 0ULL : (unsigned long long)x.stx_size, ke, ke ? 0 : st.st_mode,
				 ke ? 0LL : (long long)st.st_size);
	}
	printf("%s fuse-current-stress: the mount agrees with the tree after %ld changes and %ld reads%s%s\n",
	       bad ? "not ok" : "ok", atomic_load(&changes), atomic_load(&reads), bad ? ": " : "", why);
	/* Unmount what the changers left mounted, then tear down. */
	uvfs_fuse_stop(fx);
	uvfs_vd_put(&rvd);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	memset(&live, 0, sizeof(live));
	int drc = uvfs_destroy(vfs, &live);
	bool clean = uvfs_report_teardown(drc, &live);
	printf("%s fuse-current-stress: teardown leaves 0 live objects\n", clean ? "ok" : "not ok");
	return bad || !clean ? 1 : 0;
}
