/* fsimpl/gofer/p9.h — public API of the 9P2000.L client the gofer uses.
 *
 * One client = one connection (an fd pair as in trans=fd, or a TCP/unix
 * socket).  Every call is synchronous for its caller but any number of
 * threads may call at once: requests carry distinct tags, and whichever
 * waiting caller holds the reader role routes replies by tag.  Errors are
 * negative errno values: the server's Rlerror code, -EPROTO for a malformed
 * reply, -ECONNRESET once the server is gone, -ETIMEDOUT / -EINTR when a
 * call was cancelled (a Tflush was sent) and the server did not complete it
 * before acknowledging.  Design notes: fsimpl/gofer/README.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef UVFS_API
#define UVFS_API __attribute__((visibility("default")))
#endif

#define UVFS_P9_NOFID 0xffffffffu
#define UVFS_P9_NONUNAME 0xffffffffu

/* Qid types (high byte of a mode-like bitmask). */
#define UVFS_P9_QTDIR 0x80
#define UVFS_P9_QTSYMLINK 0x02

struct uvfs_p9_qid {
	uint8_t type;
	uint32_t version;
	uint64_t path;
};

/* Tgetattr request_mask / Rgetattr valid bits. */
#define UVFS_P9_GETATTR_MODE 0x1ull
#define UVFS_P9_GETATTR_NLINK 0x2ull
#define UVFS_P9_GETATTR_UID 0x4ull
#define UVFS_P9_GETATTR_GID 0x8ull
#define UVFS_P9_GETATTR_RDEV 0x10ull
#define UVFS_P9_GETATTR_ATIME 0x20ull
#define UVFS_P9_GETATTR_MTIME 0x40ull
#define UVFS_P9_GETATTR_CTIME 0x80ull
#define UVFS_P9_GETATTR_INO 0x100ull
#define UVFS_P9_GETATTR_SIZE 0x200ull
#define UVFS_P9_GETATTR_BLOCKS 0x400ull
#define UVFS_P9_GETATTR_BASIC 0x7ffull
#define UVFS_P9_GETATTR_ALL 0x3fffull

struct uvfs_p9_attr {
	uint64_t valid;
	struct uvfs_p9_qid qid;
	uint32_t mode, uid, gid;
	uint64_t nlink, rdev, size, blksize, blocks;
	uint64_t atime_sec, atime_nsec, mtime_sec, mtime_nsec;
	uint64_t ctime_sec, ctime_nsec, btime_sec, btime_nsec;
	uint64_t gen, data_version;
};

/* Tsetattr valid bits. */
#define UVFS_P9_SETATTR_MODE 0x1u
#define UVFS_P9_SETATTR_UID 0x2u
#define UVFS_P9_SETATTR_GID 0x4u
#define UVFS_P9_SETATTR_SIZE 0x8u
#define UVFS_P9_SETATTR_ATIME 0x10u
#define UVFS_P9_SETATTR_MTIME 0x20u
#define UVFS_P9_SETATTR_CTIME 0x40u
#define UVFS_P9_SETATTR_ATIME_SET 0x80u
#define UVFS_P9_SETATTR_MTIME_SET 0x100u

struct uvfs_p9_setattr {
	uint32_t valid;
	uint32_t mode, uid, gid;
	uint64_t size;
	uint64_t atime_sec, atime_nsec, mtime_sec, mtime_nsec;
};

struct uvfs_p9_statfs {
	uint32_t type, bsize;
	uint64_t blocks, bfree, bavail, files, ffree, fsid;
	uint32_t namelen;
};

/* One directory entry; name is NUL terminated and valid only during the
 * callback. It is a well-formed name (not empty, no '/' or NUL) but may be
 * ".", ".." or longer than NAME_MAX: the caller decides what it accepts. */
struct uvfs_p9_dirent {
	struct uvfs_p9_qid qid;
	uint64_t offset; /* cookie to resume readdir after this entry */
	uint8_t type;    /* DT_* */
	const char *name;
};

/* Tlock / Tgetlock. */
#define UVFS_P9_LOCK_TYPE_RDLCK 0
#define UVFS_P9_LOCK_TYPE_WRLCK 1
#define UVFS_P9_LOCK_TYPE_UNLCK 2
#define UVFS_P9_LOCK_FLAGS_BLOCK 1
#define UVFS_P9_LOCK_SUCCESS 0
#define UVFS_P9_LOCK_BLOCKED 1
#define UVFS_P9_LOCK_ERROR 2
#define UVFS_P9_LOCK_GRACE 3

struct uvfs_p9_flock {
	uint8_t type;
	uint32_t flags; /* Tlock only */
	uint64_t start, length;
	uint32_t proc_id;
	char client_id[256];
};

struct uvfs_p9_opts {
	uint32_t msize;       /* requested; 0 = 1 MiB (the seed's default) */
	uint32_t timeout_ms;  /* per-call timeout before Tflush; 0 = none */
	uint32_t max_inflight; /* calls in flight; 0 = 256 (+8 tags kept for Tflush) */
};

struct uvfs_p9_client;

/* Connects over an already connected fd pair (rfd may equal wfd), does
 * Tversion.  The client owns the fds from then on, even on failure. */
UVFS_API int uvfs_p9_connect_fds(int rfd, int wfd, const struct uvfs_p9_opts *o,
				 struct uvfs_p9_client **out);
/* addr: "tcp:HOST:PORT" or "unix:/path". */
UVFS_API int uvfs_p9_connect(const char *addr, const struct uvfs_p9_opts *o,
			     struct uvfs_p9_client **out);
/* A direct client (gVisor's directfs): every call below runs in process on
 * host fds under rootfd (an O_PATH or O_DIRECTORY fd of the exported
 * directory, owned by the client from then on, even on failure), as diod
 * would serve that directory, without a server or a wire. Walks open one
 * name at a time with O_NOFOLLOW and never "." or "..": nothing outside
 * rootfd is reachable. readonly: every modifying call is -EROFS. attach's
 * names are ignored; stats count requests (rounds = requests). */
UVFS_API int uvfs_p9_connect_direct(int rootfd, bool readonly, struct uvfs_p9_client **out);
/* A new host fd (O_RDONLY|O_CLOEXEC, the caller's) on the regular file fid
 * names: direct clients only; -EOPNOTSUPP for 9P clients and other types. */
UVFS_API int uvfs_p9_host_fd(struct uvfs_p9_client *c, uint32_t fid);
UVFS_API bool uvfs_p9_is_direct(const struct uvfs_p9_client *c);
/* Closes and frees; no call may be in flight. */
UVFS_API void uvfs_p9_close(struct uvfs_p9_client *c);

UVFS_API uint32_t uvfs_p9_msize(const struct uvfs_p9_client *c);
UVFS_API void uvfs_p9_set_timeout(struct uvfs_p9_client *c, uint32_t ms);
/* Cancels every call in flight right now (each sends Tflush).  Tclunk and
 * Tremove are exempt, as they are from timeouts: they release a fid and
 * must reach the server. */
UVFS_API void uvfs_p9_interrupt(struct uvfs_p9_client *c);
/* Observes each raw reply as received (for tracing/corpus capture).  The
 * hook runs on whichever calling thread is reading; set it before issuing
 * calls.  While a hook is set, Rread payloads are received whole (no
 * zero-copy) so it sees every byte. */
typedef void (*uvfs_p9_reply_hook)(void *arg, const uint8_t *msg, size_t len);
UVFS_API void uvfs_p9_set_reply_hook(struct uvfs_p9_client *c, uvfs_p9_reply_hook fn, void *arg);

struct uvfs_p9_stats {
	uint64_t requests, flushes, fids_in_use;
	/* Round trips: requests sent by a caller that had none of its own in
	 * flight (a pipelined batch counts once; async clunks not at all). */
	uint64_t rounds;
};
UVFS_API void uvfs_p9_get_stats(struct uvfs_p9_client *c, struct uvfs_p9_stats *s);

/* Fid management: every call that creates a fid returns it in *fid; the
 * caller releases it with clunk (or remove). */
UVFS_API int uvfs_p9_attach(struct uvfs_p9_client *c, const char *uname, uint32_t n_uname,
			    const char *aname, uint32_t *fid, struct uvfs_p9_qid *qid);
/* Walks n names (any n; split into Twalk batches of 16).  n == 0 clones.
 * A walk that stops early is -ENOENT and allocates nothing.  qids may be
 * NULL or hold n entries. */
UVFS_API int uvfs_p9_walk(struct uvfs_p9_client *c, uint32_t fid, size_t n, const char *const *names,
			  uint32_t *newfid, struct uvfs_p9_qid *qids);
/* Walks a '/'-separated relative path ("" or "/" clones); qid of the last
 * component in *qid if non-NULL. */
UVFS_API int uvfs_p9_walk_path(struct uvfs_p9_client *c, uint32_t fid, const char *path,
			       uint32_t *newfid, struct uvfs_p9_qid *qid);
/* One round trip for a whole path (remote revalidation): a Twalk of n
 * names (1..16) from dfid, whose new fid is clunked at once, and a Tgetattr
 * of each fids[i] != UVFS_P9_NOFID, all in flight together. Returns the
 * number of names walked (0..n: the walk stopped at names[ret] when < n)
 * with their qids in qids, or -errno for the walk; errs[i] is 0 with
 * attrs[i] filled, or the -errno of that getattr (-EAGAIN: not sent, out
 * of tags). */
UVFS_API int uvfs_p9_walk_getattr(struct uvfs_p9_client *c, uint32_t dfid, size_t n, const char *const *names,
				  struct uvfs_p9_qid *qids, const uint32_t *fids, uint64_t mask,
				  struct uvfs_p9_attr *attrs, int *errs);
/* Pipelined, one round trip for all: n one-name Twalks from dfid
 * (newfids[i] is the new fid when errs[i] == 0, else UVFS_P9_NOFID), and
 * n Tgetattrs (fids[i] == UVFS_P9_NOFID skipped). Per-entry errors in errs
 * (-EAGAIN: not sent, out of tags or fids); the return is 0 or -ENOMEM. */
UVFS_API int uvfs_p9_walk_many(struct uvfs_p9_client *c, uint32_t dfid, size_t n, const char *const *names,
			       uint32_t *newfids, struct uvfs_p9_qid *qids, int *errs);
UVFS_API int uvfs_p9_getattr_many(struct uvfs_p9_client *c, size_t n, const uint32_t *fids, uint64_t mask,
				  struct uvfs_p9_attr *attrs, int *errs);
UVFS_API int uvfs_p9_clunk(struct uvfs_p9_client *c, uint32_t fid);
UVFS_API int uvfs_p9_remove(struct uvfs_p9_client *c, uint32_t fid);
/* Sends Tclunk without waiting for Rclunk (saves a round trip when a
 * dentry is dropped).  The fid number is reused only after the reply has
 * been read by some later call; the server's answer is not reported. */
UVFS_API int uvfs_p9_clunk_async(struct uvfs_p9_client *c, uint32_t fid);

UVFS_API int uvfs_p9_getattr(struct uvfs_p9_client *c, uint32_t fid, uint64_t mask,
			     struct uvfs_p9_attr *a);
UVFS_API int uvfs_p9_setattr(struct uvfs_p9_client *c, uint32_t fid, const struct uvfs_p9_setattr *s);
/* Pipelined, one round trip: Tsetattr of fid and an independent one-name
 * Twalk from dfid (*newfid and *qid when *walk_err is 0). Returns the
 * setattr's result. */
UVFS_API int uvfs_p9_setattr_walk(struct uvfs_p9_client *c, uint32_t fid, const struct uvfs_p9_setattr *s,
				  uint32_t dfid, const char *name, uint32_t *newfid, struct uvfs_p9_qid *qid,
				  int *walk_err);
UVFS_API int uvfs_p9_statfs(struct uvfs_p9_client *c, uint32_t fid, struct uvfs_p9_statfs *s);

/* flags are Linux open(2) flags. */
UVFS_API int uvfs_p9_lopen(struct uvfs_p9_client *c, uint32_t fid, uint32_t flags,
			   struct uvfs_p9_qid *qid, uint32_t *iounit);
/* On success fid (a directory fid) now refers to the new open file. */
UVFS_API int uvfs_p9_lcreate(struct uvfs_p9_client *c, uint32_t fid, const char *name, uint32_t flags,
			     uint32_t mode, uint32_t gid, struct uvfs_p9_qid *qid, uint32_t *iounit);
/* Read/write any size of a regular file: split by msize; once the first
 * request moved a full chunk the rest go several in flight.  Stops at the
 * first short transfer.  Returns bytes transferred or -errno. */
UVFS_API long uvfs_p9_read(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, void *buf, size_t len);
UVFS_API long uvfs_p9_write(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, const void *buf,
			    size_t len);
/* Exactly one Tread/Twrite of at most msize-24 bytes: for pipes, sockets and
 * devices, where splitting or reordering would change the data. */
UVFS_API long uvfs_p9_read1(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, void *buf, size_t len);
UVFS_API long uvfs_p9_write1(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, const void *buf,
			     size_t len);
/* One Treaddir from cookie `off`; calls cb per entry (non-zero return stops).
 * Returns entries delivered (0 = end of directory) or -errno. */
typedef int (*uvfs_p9_dirent_cb)(void *arg, const struct uvfs_p9_dirent *de);
UVFS_API int uvfs_p9_readdir(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, uint32_t count,
			     uvfs_p9_dirent_cb cb, void *arg);
UVFS_API int uvfs_p9_fsync(struct uvfs_p9_client *c, uint32_t fid, int datasync);

UVFS_API int uvfs_p9_mkdir(struct uvfs_p9_client *c, uint32_t dfid, const char *name, uint32_t mode,
			   uint32_t gid, struct uvfs_p9_qid *qid);
UVFS_API int uvfs_p9_symlink(struct uvfs_p9_client *c, uint32_t dfid, const char *name, const char *target,
			     uint32_t gid, struct uvfs_p9_qid *qid);
UVFS_API int uvfs_p9_mknod(struct uvfs_p9_client *c, uint32_t dfid, const char *name, uint32_t mode,
			   uint32_t major, uint32_t minor, uint32_t gid, struct uvfs_p9_qid *qid);
UVFS_API int uvfs_p9_link(struct uvfs_p9_client *c, uint32_t dfid, uint32_t fid, const char *name);
UVFS_API int uvfs_p9_rename(struct uvfs_p9_client *c, uint32_t fid, uint32_t dfid, const char *name);
UVFS_API int uvfs_p9_renameat(struct uvfs_p9_client *c, uint32_t olddfid, const char *oldname,
			      uint32_t newdfid, const char *newname);
/* flags: 0 or AT_REMOVEDIR. */
UVFS_API int uvfs_p9_unlinkat(struct uvfs_p9_client *c, uint32_t dfid, const char *name, uint32_t flags);
/* Copies the target NUL terminated; returns its length or -ENAMETOOLONG. */
UVFS_API int uvfs_p9_readlink(struct uvfs_p9_client *c, uint32_t fid, char *buf, size_t size);

/* Raw xattr messages: xattrwalk makes a new fid to read the value from
 * (name "" lists names); xattrcreate turns fid into one to write it to,
 * committed by clunk. */
UVFS_API int uvfs_p9_xattrwalk(struct uvfs_p9_client *c, uint32_t fid, const char *name,
			       uint32_t *newfid, uint64_t *size);
UVFS_API int uvfs_p9_xattrcreate(struct uvfs_p9_client *c, uint32_t fid, const char *name,
				 uint64_t size, uint32_t flags);
/* getxattr/listxattr semantics: size 0 asks the length; -ERANGE if small. */
UVFS_API long uvfs_p9_getxattr(struct uvfs_p9_client *c, uint32_t fid, const char *name, void *buf,
			       size_t size);
UVFS_API long uvfs_p9_listxattr(struct uvfs_p9_client *c, uint32_t fid, char *buf, size_t size);
/* flags: 0, XATTR_CREATE or XATTR_REPLACE. */
UVFS_API int uvfs_p9_setxattr(struct uvfs_p9_client *c, uint32_t fid, const char *name, const void *val,
			      size_t size, uint32_t flags);

/* Tlock: *status gets UVFS_P9_LOCK_*.  Tgetlock: fl in/out. */
UVFS_API int uvfs_p9_lock(struct uvfs_p9_client *c, uint32_t fid, const struct uvfs_p9_flock *fl,
			  uint8_t *status);
UVFS_API int uvfs_p9_getlock(struct uvfs_p9_client *c, uint32_t fid, struct uvfs_p9_flock *fl);

/* Decodes one raw reply (header included) to the T-message type `ttype`,
 * with the client's strict rules; for tools and the fuzzer.  0, -errno from
 * Rlerror, or -EPROTO. */
UVFS_API int uvfs_p9_check_reply(const uint8_t *msg, size_t len, uint8_t ttype);
