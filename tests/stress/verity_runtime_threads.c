/* verity_runtime_threads.c — runtime enable under ThreadSanitizer.
 *
 * A verity mount without a root hash over a tmpfs lower. For each of FILES
 * files, readers open and pread it (plain reads before enable, verified
 * after), writers open it for writing and rewrite the same bytes (so the
 * content never changes), and enablers call FS_IOC_ENABLE_VERITY until it
 * succeeds (ETXTBSY while a writer is open, EEXIST once another enabler
 * won; a writer's open after that is EPERM). Every byte read must be the
 * file's byte, every errno one of those, each file must end up measured with
 * the digest of its bytes, and teardown must leave nothing alive. Prints
 * one summary line; exits non-zero on any of that failing. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/fsverity.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvfs.h"
#include "fsimpl/verity/verity.h"
#include "fsimpl/verity/merkle/merkle.h"

#define SIZE (300u * 1024 + 17)
#define FILES 6
#define THREADS 6
#define ROUNDS 40

static struct uvfs *vfs;
static struct uvfs_cred cred;
static struct uvfs_mount *vmnt;
static uint8_t *data;
static _Atomic long bad, errors, reads, enabled, busy, exists, eperm;

static uint8_t byte_at(size_t i) { return (uint8_t)((i * 29 + (i >> 12) * 5) % 251); }

static struct uvfs_pathop vpop(const char *path)
{
	struct uvfs_vd r = { vmnt, uvfs_mount_root(vmnt) };
	return (struct uvfs_pathop){ .root = r, .start = r, .path = path };
}

static pthread_barrier_t start;

static void *worker(void *arg)
{
	long id = (long)arg;
	unsigned seed = (unsigned)id * 2654435761u;
	uint8_t *buf = malloc(65536);
	pthread_barrier_wait(&start);
	for (int r = 0; r < ROUNDS; r++) {
		char name[16];
		snprintf(name, sizeof name, "f%d", (int)((r + id) % FILES));
		struct uvfs_pathop p = vpop(name);
		struct uvfs_file *f;
		seed = seed * 1103515245u + 12345u;
		int role = (int)((seed >> 16) % 3);
		if (role == 0) { /* write the same bytes back */
			int err = uvfs_open_at(vfs, &cred, &p, O_WRONLY, 0, 0, &f);
			if (err == -EPERM) {
				atomic_fetch_add(&eperm, 1);
				continue;
			}
			if (err) {
				atomic_fetch_add(&errors, 1);
				continue;
			}
			uint64_t off = (seed >> 4) % SIZE;
			size_t len = 1 + (seed >> 9) % 8192;
			if (off + len > SIZE)
				len = SIZE - off;
			if (uvfs_pwrite(f, data + off, len, (off_t)off) != (ssize_t)len)
				atomic_fetch_add(&errors, 1);
			uvfs_file_put(f);
			continue;
		}
		if (uvfs_open_at(vfs, &cred, &p, O_RDONLY, 0, 0, &f)) {
			atomic_fetch_add(&errors, 1);
			continue;
		}
		if (role == 1) {
			struct fsverity_enable_arg a = { .version = 1, .hash_algorithm = 1, .block_size = 4096 };
			long rc = uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a);
			if (!rc)
				atomic_fetch_add(&enabled, 1);
			else if (rc == -ETXTBSY)
				atomic_fetch_add(&busy, 1);
			else if (rc == -EEXIST)
				atomic_fetch_add(&exists, 1);
			else
				atomic_fetch_add(&errors, 1);
		}
		uint64_t off = (seed >> 5) % SIZE;
		size_t len = 1 + (seed >> 8) % 65536;
		ssize_t n = uvfs_pread(f, buf, len, (off_t)off);
		if (n < 0 || (size_t)n != (off + len > SIZE ? SIZE - off : len))
			atomic_fetch_add(&errors, 1);
		else if (memcmp(buf, data + off, (size_t)n))
			atomic_fetch_add(&bad, 1);
		atomic_fetch_add(&reads, 1);
		uvfs_file_put(f);
	}
	free(buf);
	return NULL;
}

int main(void)
{
	struct uvfs_mntns *ns;
	struct uvfs_vd root, lower;
	uvfs_cred_init_root(&cred);
	if (uvfs_create(&vfs) || uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, UVFS_FS_USER_MOUNT) ||
	    uvfs_register_fs_type(vfs, &uvfs_verity_type, 0) ||
	    uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &(struct uvfs_mount_opts){ 0 }, &ns))
		return 2;
	uvfs_mntns_root(ns, &root);
	struct uvfs_pathop p = { .root = root, .start = root, .path = "/lower" };
	data = malloc(SIZE);
	for (size_t i = 0; i < SIZE; i++)
		data[i] = byte_at(i);
	if (uvfs_mkdir_at(vfs, &cred, &p, 0755))
		return 2;
	for (int i = 0; i < FILES; i++) {
		char name[32];
		snprintf(name, sizeof name, "/lower/f%d", i);
		struct uvfs_pathop pf = { .root = root, .start = root, .path = name };
		struct uvfs_file *f;
		if (uvfs_open_at(vfs, &cred, &pf, O_CREAT | O_WRONLY, 0644, 0, &f) || uvfs_pwrite(f, data, SIZE, 0) != SIZE)
			return 2;
		uvfs_file_put(f);
	}
	if (uvfs_get_dentry_at(vfs, &cred, &p, 0, &lower))
		return 2;
	struct uvfs_verity_mount vm = { .lower = lower };
	struct uvfs_mount_opts mo = { .internal = &vm, .internal_mount = true, .data = "data_cache=128k" };
	if (uvfs_mount_disconnected(vfs, &cred, "none", "verity", &mo, &vmnt))
		return 2;
	uvfs_vd_put(&lower);
	pthread_t t[THREADS];
	pthread_barrier_init(&start, NULL, THREADS);
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);

	/* Whatever was not enabled in the race is enabled now; then every
	 * file measures as its bytes do. */
	struct uvfs_merkle_params mp = { 0 };
	struct uvfs_merkle_result res;
	if (uvfs_merkle_build_buf(&mp, data, SIZE, &res))
		return 2;
	long unmeasured = 0;
	for (int i = 0; i < FILES; i++) {
		char name[16];
		snprintf(name, sizeof name, "f%d", i);
		struct uvfs_pathop vp = vpop(name);
		struct uvfs_file *f;
		struct fsverity_enable_arg a = { .version = 1, .hash_algorithm = 1, .block_size = 4096 };
		_Alignas(8) uint8_t mdbuf[sizeof(struct fsverity_digest) + 64] = { 0 };
		struct fsverity_digest *mdh = (void *)mdbuf;
		mdh->digest_size = 64;
		long rc = uvfs_open_at(vfs, &cred, &vp, O_RDONLY, 0, 0, &f);
		if (rc) {
			unmeasured++;
			continue;
		}
		rc = uvfs_ioctl(f, FS_IOC_ENABLE_VERITY, &a);
		if ((rc && rc != -EEXIST) || uvfs_ioctl(f, FS_IOC_MEASURE_VERITY, mdh) || memcmp(mdh->digest, res.digest, 32))
			unmeasured++;
		uvfs_file_put(f);
	}
	uvfs_merkle_result_free(&res);
	uvfs_mount_put(vmnt);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	free(data);
	struct uvfs_live live;
	int leak = uvfs_destroy(vfs, &live);
	printf("verity_runtime_threads: %ld reads, %ld bad, %ld errors, enabled %ld, ETXTBSY %ld, EEXIST %ld, "
	       "EPERM %ld, unmeasured %ld, leak %d\n",
	       atomic_load(&reads), atomic_load(&bad), atomic_load(&errors), atomic_load(&enabled), atomic_load(&busy),
	       atomic_load(&exists), atomic_load(&eperm), unmeasured, leak);
	return atomic_load(&bad) || atomic_load(&errors) || unmeasured || leak ? 1 : 0;
}
