/* fsimpl/devpts/internal.h — shared by devpts.c (the filesystem) and pty.c
 * (the pairs and their line discipline). */
#pragma once

#include <pthread.h>

#include "fsimpl/devpts/devpts.h"
#include "vfs/uvfs_fs.h"

#define DP_HIDDEN __attribute__((visibility("hidden")))

struct pty;

/* The pty table of one devpts instance (its singleton's priv). Fields
 * under devpts_mu. */
struct devpts_inst {
	struct pty **ptys; /* by index; NULL = free */
	unsigned nptys;
};

/* Protects the instance list, each instance's pty table and every pty's
 * `refs`. Taken before any pty's mu. */
extern pthread_mutex_t devpts_mu DP_HIDDEN;
/* devpts_mu held: the live instance of vfs, or NULL. */
DP_HIDDEN struct devpts_inst *devpts_find(struct uvfs *vfs);
DP_HIDDEN bool devpts_is(const struct uvfs_filesystem *fs);
