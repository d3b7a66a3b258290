/* fsimpl/gofer/gofer.h — the 9P-backed filesystem (type "9p", gVisor's
 * fsimpl/gofer) and the launcher of its gofer process (Debian's diod).
 *
 * Mount data keys (gVisor p9MountData, plus remote transports):
 *   trans=fd,rfdno=N,wfdno=N   a connected fd pair (rfdno may equal wfdno);
 *                              the mount owns the fds from then on
 *   trans=unix,addr=PATH | trans=tcp,addr=HOST:PORT
 *   trans=direct[,hostfd=N][,ro]  no server: the calls run in process on
 *                              host fds under the directory fd N (or
 *                              uvfs_gofer_internal.hostfd), owned by the
 *                              mount; ro refuses writes (EROFS) as diod -r;
 *                              aname is ignored (gVisor's directfs)
 *   aname=PATH  version=9P2000.L  msize=N  dfltuid=N  dfltgid=N
 *   cache=fscache|fscache_writethrough|remote_revalidating|none
 *   dentry_cache_limit=N  overlayfs_stale_read  timeout=MS (ours: per call)
 *   pcache_max=SIZE (ours: the fscache modes' page cache bound per mount;
 *                    k/m/g or % of RAM; default 25%, at least 256k)
 * Unknown keys and bad values are -EINVAL with a log line naming the key. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vfs/uvfs.h"

UVFS_API extern const struct uvfs_fs_type uvfs_gofer_type;

/* A gofer process (diod) serving one host directory on a socketpair. */
struct uvfs_gofer_proc;

/* Starts `diod -f -r FD -w FD -e hostdir` as a child of the caller (killed
 * if the caller dies); *client_fd is our end (CLOEXEC). ro exports the
 * directory read-only. 0 or -errno. */
UVFS_API int uvfs_gofer_spawn(const char *hostdir, bool ro, int *client_fd, struct uvfs_gofer_proc **out);
/* The server's pid (tests kill it). */
UVFS_API pid_t uvfs_gofer_pid(const struct uvfs_gofer_proc *p);
/* Waits for the server to exit (it does once its client fd is closed),
 * killing it after a short grace, and frees p. NULL is a no-op. */
UVFS_API void uvfs_gofer_reap(struct uvfs_gofer_proc *p);
/* Overlapping waits: between begin and end (nestable; per thread), the
 * calling thread's uvfs_gofer_reap calls (a 9p filesystem's release among
 * them) only queue their proc; the outermost end waits for all of them at
 * once, with the same grace each, and frees them. */
UVFS_API void uvfs_gofer_reap_batch_begin(void);
UVFS_API void uvfs_gofer_reap_batch_end(void);

struct uvfs_filesystem;
struct uvfs_p9_stats;
/* The 9P client counters of a "9p" filesystem (tests and benches count
 * round trips with them): 0, or -EINVAL for another type. */
UVFS_API int uvfs_gofer_stats(struct uvfs_filesystem *fs, struct uvfs_p9_stats *out);
/* Bytes the page cache of a "9p" filesystem holds now (0 for another
 * type): at most its pcache_max. */
UVFS_API uint64_t uvfs_gofer_pcache_bytes(struct uvfs_filesystem *fs);

/* uvfs_mount_opts.internal for a "9p" mount: the mount takes ownership of
 * proc (reaped when the filesystem goes away, or at once if the mount
 * fails). */
struct uvfs_gofer_internal {
	struct uvfs_gofer_proc *proc;
	/* trans=direct without hostfd=: the exported directory's fd (O_PATH or
	 * O_DIRECTORY), owned by the mount from then on, even if it fails.
	 * Ignored (and left open) with any other transport. */
	int hostfd;
};
