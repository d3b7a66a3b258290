/* verity_fs_threads.c — concurrent readers of one verity file under
 * ThreadSanitizer.
 *
 * A 2 MiB file (a two-level tree) on a tmpfs lower is sealed and mounted
 * through the verity filesystem. Threads open the file on their own (racing
 * the first open, which builds the verifier) or share one open file, and
 * pread random ranges; others stat and list the tree. Every byte read must
 * be the sealed byte and no read may fail; teardown must leave nothing
 * alive. Prints one summary line; exits non-zero on a bad byte, an error or
 * a leak. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvfs.h"
#include "fsimpl/verity/verity.h"

#define SIZE (2u << 20)
#define THREADS 6
#define ROUNDS 300
#define NSMALL 64 /* small files every thread opens in the same order, racing each first open */
#define SMALL 20000

static struct uvfs *vfs;
static struct uvfs_cred cred;
static struct uvfs_mount *vmnt;
static _Atomic(struct uvfs_file *) shared; /* opened while the readers start: they race the first open */
static _Atomic long bad, errors, reads;

static uint8_t byte_at(size_t i) { return (uint8_t)((i * 31 + (i >> 12) * 7) % 253); }

static struct uvfs_pathop vpop(const char *path)
{
	struct uvfs_vd r = { vmnt, uvfs_mount_root(vmnt) };
	return (struct uvfs_pathop){ .root = r, .start = r, .path = path };
}

static void check(const uint8_t *buf, ssize_t n, uint64_t off)
{
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != byte_at(off + (size_t)i)) {
			atomic_fetch_add(&bad, 1);
			return;
		}
}

static pthread_barrier_t start;

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(long)arg * 2654435761u;
	uint8_t *buf = malloc(65536);
	pthread_barrier_wait(&start);
	for (int i = 0; i < NSMALL; i++) {
		char name[32];
		snprintf(name, sizeof name, "/dir/s%d", i);
		struct uvfs_pathop p = vpop(name);
		struct uvfs_file *f;
		ssize_t n = uvfs_open_at(vfs, &cred, &p, O_RDONLY, 0, 0, &f);
		if (!n) {
			n = uvfs_pread(f, buf, SMALL, 0);
			uvfs_file_put(f);
		}
		if (n != SMALL)
			atomic_fetch_add(&errors, 1);
		else
			check(buf, n, 0);
	}
	for (int r = 0; r < ROUNDS; r++) {
		struct uvfs_file *f = atomic_load(&shared);
		bool own = !f || r == 0 || r % 3 == (int)((long)arg % 3);
		if (own) {
			struct uvfs_pathop p = vpop("/dir/file");
			if (uvfs_open_at(vfs, &cred, &p, O_RDONLY, 0, 0, &f)) {
				atomic_fetch_add(&errors, 1);
				continue;
			}
		}
		seed = seed * 1103515245u + 12345u;
		uint64_t off = (seed >> 4) % SIZE;
		size_t len = 1 + (seed >> 8) % 65536;
		ssize_t n = uvfs_pread(f, buf, len, (off_t)off);
		if (n < 0 || (size_t)n != (off + len > SIZE ? SIZE - off : len))
			atomic_fetch_add(&errors, 1);
		else
			check(buf, n, off);
		atomic_fetch_add(&reads, 1);
		if (own)
			uvfs_file_put(f);
		if (r % 50 == 0) {
			struct statx st;
			struct uvfs_pathop p = vpop("/dir/file");
			if (uvfs_stat_at(vfs, &cred, &p, STATX_BASIC_STATS, &st) || st.stx_size != SIZE)
				atomic_fetch_add(&errors, 1);
			struct uvfs_file *d;
			p = vpop("/dir");
			if (uvfs_open_at(vfs, &cred, &p, O_RDONLY | O_DIRECTORY, 0, 0, &d)) {
				atomic_fetch_add(&errors, 1);
			} else {
				char dents[4096];
				if (uvfs_getdents64(d, dents, sizeof dents) <= 0)
					atomic_fetch_add(&errors, 1);
				uvfs_file_put(d);
			}
		}
	}
	free(buf);
	return NULL;
}

int main(void)
{
	struct uvfs_mntns *ns;
	struct uvfs_vd root, lower;
	uint8_t hash[UVFS_VERITY_ROOT_HASH_SIZE];
	uvfs_cred_init_root(&cred);
	if (uvfs_create(&vfs) || uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_register_fs_type(vfs, &uvfs_verity_type, 0) ||
	    uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns))
		return 2;
	uvfs_mntns_root(ns, &root);
	struct uvfs_pathop p = { .root = root, .start = root, .path = "/lower" };
	struct uvfs_pathop pd = { .root = root, .start = root, .path = "/lower/dir" };
	struct uvfs_pathop pf = { .root = root, .start = root, .path = "/lower/dir/file" };
	struct uvfs_file *f;
	uint8_t *data = malloc(SIZE);
	for (size_t i = 0; i < SIZE; i++)
		data[i] = byte_at(i);
	if (uvfs_mkdir_at(vfs, &cred, &p, 0755) || uvfs_mkdir_at(vfs, &cred, &pd, 0755) ||
	    uvfs_open_at(vfs, &cred, &pf, O_CREAT | O_WRONLY, 0644, 0, &f))
		return 2;
	if (uvfs_pwrite(f, data, SIZE, 0) != SIZE)
		return 2;
	uvfs_file_put(f);
	for (int i = 0; i < NSMALL; i++) {
		char name[32];
		snprintf(name, sizeof name, "/lower/dir/s%d", i);
		struct uvfs_pathop ps = { .root = root, .start = root, .path = name };
		if (uvfs_open_at(vfs, &cred, &ps, O_CREAT | O_WRONLY, 0644, 0, &f) || uvfs_pwrite(f, data, SMALL, 0) != SMALL)
			return 2;
		uvfs_file_put(f);
	}
	free(data);
	if (uvfs_get_dentry_at(vfs, &cred, &p, 0, &lower) || uvfs_verity_seal(vfs, &cred, &lower, hash))
		return 2;
	struct uvfs_verity_mount vm = { .lower = lower, .root_hash = hash };
	/* A data cache far below the 2 MiB file: readers race evictions of
	 * each other's blocks (the mount's LRU) as well as hits and fills. */
	struct uvfs_mount_opts mo = { .internal = &vm, .internal_mount = true, .flags = UVFS_MNT_RDONLY,
				      .data = "data_cache=256k" };
	if (uvfs_mount_disconnected(vfs, &cred, "none", "verity", &mo, &vmnt))
		return 2;
	uvfs_vd_put(&lower);
	pthread_t t[THREADS];
	pthread_barrier_init(&start, NULL, THREADS);
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, reader, (void *)i);
	struct uvfs_pathop vf = vpop("/dir/file");
	struct uvfs_file *sf;
	if (uvfs_open_at(vfs, &cred, &vf, O_RDONLY, 0, 0, &sf))
		return 2;
	atomic_store(&shared, sf);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);

	uvfs_file_put(sf);
	uvfs_mount_put(vmnt);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	int leak = uvfs_destroy(vfs, &live);
	printf("verity_fs_threads: %ld reads, %ld bad, %ld errors, leak %d\n", atomic_load(&reads),
	       atomic_load(&bad), atomic_load(&errors), leak);
	return atomic_load(&bad) || atomic_load(&errors) || leak ? 1 : 0;
}
