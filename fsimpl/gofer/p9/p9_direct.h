/* fsimpl/gofer/p9/p9_direct.h — the direct client's calls (internal):
 * p9_client.c sends each uvfs_p9_* call of a direct client (c->direct)
 * here, with the same contract as the 9P call it stands for. */
#pragma once

#include "fsimpl/gofer/p9/p9.h"

#include <stdbool.h>

void p9d_close(struct uvfs_p9_client *c);
void p9d_get_stats(struct uvfs_p9_client *c, struct uvfs_p9_stats *s);
int p9d_attach(struct uvfs_p9_client *c, uint32_t *fid, struct uvfs_p9_qid *qid);
int p9d_walk(struct uvfs_p9_client *c, uint32_t fid, size_t n, const char *const *names, uint32_t *newfid,
	     struct uvfs_p9_qid *qids);
int p9d_walk_getattr(struct uvfs_p9_client *c, uint32_t dfid, size_t n, const char *const *names,
		     struct uvfs_p9_qid *qids, const uint32_t *fids, uint64_t mask, struct uvfs_p9_attr *attrs,
		     int *errs);
int p9d_walk_many(struct uvfs_p9_client *c, uint32_t dfid, size_t n, const char *const *names, uint32_t *newfids,
		  struct uvfs_p9_qid *qids, int *errs);
int p9d_getattr_many(struct uvfs_p9_client *c, size_t n, const uint32_t *fids, uint64_t mask,
		     struct uvfs_p9_attr *attrs, int *errs);
int p9d_clunk(struct uvfs_p9_client *c, uint32_t fid);
int p9d_remove(struct uvfs_p9_client *c, uint32_t fid);
int p9d_getattr(struct uvfs_p9_client *c, uint32_t fid, uint64_t mask, struct uvfs_p9_attr *a);
int p9d_setattr(struct uvfs_p9_client *c, uint32_t fid, const struct uvfs_p9_setattr *s);
int p9d_setattr_walk(struct uvfs_p9_client *c, uint32_t fid, const struct uvfs_p9_setattr *s, uint32_t dfid,
		     const char *name, uint32_t *newfid, struct uvfs_p9_qid *qid, int *walk_err);
int p9d_statfs(struct uvfs_p9_client *c, uint32_t fid, struct uvfs_p9_statfs *s);
int p9d_lopen(struct uvfs_p9_client *c, uint32_t fid, uint32_t flags, struct uvfs_p9_qid *qid, uint32_t *iounit);
int p9d_lcreate(struct uvfs_p9_client *c, uint32_t fid, const char *name, uint32_t flags, uint32_t mode,
		uint32_t gid, struct uvfs_p9_qid *qid, uint32_t *iounit);
/* one: at most msize-24 bytes (read1/write1). */
long p9d_read(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, void *buf, size_t len, bool one);
long p9d_write(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, const void *buf, size_t len, bool one);
int p9d_readdir(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, uint32_t count, uvfs_p9_dirent_cb cb,
		void *arg);
int p9d_fsync(struct uvfs_p9_client *c, uint32_t fid, int datasync);
int p9d_mkdir(struct uvfs_p9_client *c, uint32_t dfid, const char *name, uint32_t mode, uint32_t gid,
	      struct uvfs_p9_qid *qid);
int p9d_symlink(struct uvfs_p9_client *c, uint32_t dfid, const char *name, const char *target, uint32_t gid,
		struct uvfs_p9_qid *qid);
int p9d_mknod(struct uvfs_p9_client *c, uint32_t dfid, const char *name, uint32_t mode, uint32_t major,
	      uint32_t minor, uint32_t gid, struct uvfs_p9_qid *qid);
int p9d_link(struct uvfs_p9_client *c, uint32_t dfid, uint32_t fid, const char *name);
int p9d_rename(struct uvfs_p9_client *c, uint32_t fid, uint32_t dfid, const char *name);
int p9d_renameat(struct uvfs_p9_client *c, uint32_t olddfid, const char *oldname, uint32_t newdfid,
		 const char *newname);
int p9d_unlinkat(struct uvfs_p9_client *c, uint32_t dfid, const char *name, uint32_t flags);
int p9d_readlink(struct uvfs_p9_client *c, uint32_t fid, char *buf, size_t size);
int p9d_xattrwalk(struct uvfs_p9_client *c, uint32_t fid, const char *name, uint32_t *newfid, uint64_t *size);
int p9d_xattrcreate(struct uvfs_p9_client *c, uint32_t fid, const char *name, uint64_t size, uint32_t flags);
int p9d_lock(struct uvfs_p9_client *c, uint32_t fid, const struct uvfs_p9_flock *fl, uint8_t *status);
int p9d_getlock(struct uvfs_p9_client *c, uint32_t fid, struct uvfs_p9_flock *fl);
