/* fsimpl/gofer/copyup.h — a stacking filesystem's copy-up of a regular
 * file into a 9p layer in few round trips (overlay's copyup.c calls it).
 * Library-internal: not part of the public API. */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#include "uvfs.h"

struct uvfs_inode;
struct uvfs_dentry;

struct gofer_copyup_xattr {
	const char *name;
	const void *val;
	size_t len;
};

struct gofer_copyup {
	const struct statx *st; /* the source: mode, uid, gid, atime, mtime, size */
	bool times; /* set atime and mtime from st (else the server's now) */
	struct uvfs_file *src; /* open for reading (read sparsely: SEEK_DATA/SEEK_HOLE); NULL: no data */
	const struct gofer_copyup_xattr *xattrs;
	unsigned nxattrs;
	bool restore_ptimes; /* put the target directory's times back to these */
	struct timespec patime, pmtime;
};

/* Builds a copy of cu->src (data, xattrs, owner, mode, times) as `tmp` in
 * directory `work` with the server's own calls (Tlcreate's open fid, one
 * Tsetattr), then moves it to dst (Trename, through the VFS's create of
 * dst so that dcache, locks and watchers see a new name) and restores
 * the target directory's times: six round trips for a small file with no
 * xattrs. dst must be on the same 9p mount as work, with cred allowed to
 * create there. *made gets the new name's vd. -EOPNOTSUPP (nothing done)
 * when work is not a 9p directory; on any other error nothing is left in
 * work or at dst. */
__attribute__((visibility("hidden"))) int gofer_copyup_reg(struct uvfs *vfs, const struct uvfs_cred *cred,
							   struct uvfs_vd work, const char *tmp,
							   const struct uvfs_pathop *dst,
							   const struct gofer_copyup *cu, struct uvfs_vd *made);

/* gofer_create's hook (dir's i_lock held): true if this thread's copy-up
 * placed its file at d (*err: the result), false to create as usual. */
__attribute__((visibility("hidden"))) bool gofer_copyup_adopt(struct uvfs_inode *dir, struct uvfs_dentry *d, int *err);
