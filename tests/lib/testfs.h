/* testfs.h — a "remote" filesystem for the dcache tests.
 *
 * The names live in a backing table (the "server") that a test changes
 * behind the VFS's back with testfs_add/remove/replace; every change bumps
 * a generation counter. The filesystem (type "testfs") is not complete: a
 * dcache miss calls ->lookup, which reads the table; dentry ops revalidate
 * cached dentries against it. Counters let a test see which calls the VFS
 * made. Under the root, "static" is a UVFS_I_COMPLETE directory whose
 * children ("s1", "s2") are pinned at mount time, and "fixed" is a pinned
 * entry in the (non-complete) root: /proc's mix of fixed and looked-up
 * entries.
 *
 * The directories have ->permission and ->create (and ->atomic_open by
 * policy), S_IFLNK nodes are jump links, and the ops record the caller's
 * context (uvfs_current_ctx) so tests can see it; a lookup of a name that
 * starts with "intr" asks uvfs_ctx_interrupted() first, as a remote call
 * would.
 *
 * One backing table per process (criterion forks per test); testfs_reset()
 * empties it (root only, id 1) and zeroes the counters.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "uvfs_fs.h"

#define TESTFS_ROOT 1

struct testfs_counters {
	atomic_int lookups; /* ->lookup calls */
	atomic_int revalidates; /* ->revalidate calls in ref-walk */
	atomic_int revalidates_rcu; /* ->revalidate calls with UVFS_LOOKUP_RCU */
	atomic_int revalidates_reval; /* ->revalidate calls with UVFS_LOOKUP_REVAL */
	atomic_int releases; /* dentry ->release calls */
	atomic_int fsdata_live; /* d_fsdata blocks allocated and not released */
	/* Interface calls (test_ctxops.c). */
	atomic_int perms; /* ->permission calls in ref-walk */
	atomic_int perms_rcu; /* ->permission calls with UVFS_MAY_NOT_BLOCK */
	atomic_int creates; /* ->create calls */
	atomic_int atomic_opens; /* ->atomic_open calls */
	atomic_int file_opens; /* file ->open calls */
	atomic_int file_releases; /* file ->release calls */
	atomic_int handles_live; /* per-open handles (f_private) not yet released */
	atomic_int get_links; /* jump link ->get_link calls */
	_Atomic(void *) lookup_task; /* uvfs_current_ctx()->task seen by the last ->lookup */
	_Atomic(void *) read_task; /* ... by the last file ->read */
};
extern struct testfs_counters testfs_calls;

/* Behaviour switches (default false). */
struct testfs_policy {
	/* Without UVFS_LOOKUP_REVAL, revalidate answers "valid" without
	 * asking the server (like an attribute cache with a timeout). */
	bool trust_cache;
	/* Revalidate in RCU mode always answers -ECHILD. */
	bool rcu_echild;
	/* No dentry ops at all (a filesystem that never revalidates). */
	bool no_dops;
	/* lru_max of the next mounted instance (0 → the VFS default, <0 → 0). */
	long lru_max;
	/* Directories made from now on have ->atomic_open (set before mount
	 * for the root). */
	bool atomic_open;
	/* ->permission (on every directory): -EACCES for this fsuid whatever
	 * the mode says (0: nobody), otherwise uvfs_generic_permission. */
	uint32_t deny_uid;
	/* ->create (and ->atomic_open) answer -EPERM. */
	bool no_create;
	/* ->permission with UVFS_MAY_NOT_BLOCK answers -ECHILD. */
	bool perm_rcu_echild;
};
extern struct testfs_policy testfs_policy;

extern const struct uvfs_fs_type testfs_type;

/* Nodes added with S_IFLNK mode are jump links: ->get_link returns this
 * vd (borrowed: the test keeps its references while the links are used;
 * -ENOENT while it is unset). */
extern struct uvfs_vd testfs_jump_target;

void testfs_reset(void);
/* Server-side changes. Return the new node's id (or 0). */
uint64_t testfs_add(uint64_t parent, const char *name, mode_t mode);
void testfs_remove(uint64_t id);
/* Replace node id by a new node (same parent and name, the children move
 * over); lookups in the old id answer -ESTALE from now on. */
uint64_t testfs_replace(uint64_t id);
unsigned testfs_gen(void);

/* The filesystem of the most recent testfs mount (no reference). */
struct uvfs_filesystem *testfs_last_fs(void);
