/* fuse/fuse_export.c — FUSE front end: serves a uvfs mount namespace through
 * the libfuse3 low-level API.
 *
 * Node ids are the addresses of struct node (the root is FUSE_ROOT_ID). A node
 * holds one uvfs_vd reference for as long as the kernel remembers it: every
 * entry reply (lookup, create, mkdir, mknod, symlink, link, readdirplus)
 * counts one lookup, forget/forget_multi drop them and the vd is put at zero.
 * Nodes are keyed by (mount, inode object), not by inode number: hard links
 * share one node id, bind mounts of one directory are separate nodes (mount
 * crossing differs below them), and a remote filesystem that reuses an
 * inode number for a new file gets a new node (its inode object is new;
 * the old one lives as long as the old node's vd). Each node has its own
 * generation number, so (node id, generation) never repeats even when an
 * address is reused after a FORGET.
 *
 * Always current: the export subscribes to the instance's change
 * notification (uvfs_watch_set). A change made in process becomes
 * notify_inval_entry / notify_inval_inode / notify_store messages for every
 * node of the changed inode, queued to a notifier thread (notifying from a
 * request handler, or from under a VFS lock, can deadlock with the kernel);
 * the changing thread waits (bounded) until they are sent, so its next look
 * through the mount is fresh. A change one of our request handlers makes
 * was asked for by the kernel, which updates that node itself: only the
 * inode's nodes on other mounts are told, and the handler waits at most 50 ms (notes_submit).
 *
 * Open files and directories are uvfs_files in fi->fh, so an unlinked file
 * stays readable until its last release. No host fd or thread per inode.
 *
 * Permissions are checked twice, and both answers are exact. The mount
 * always has default_permissions, so the kernel checks mode bits itself with
 * the caller's real capabilities and full group list on every operation,
 * including the ones it never sends us (opening FIFOs and sockets, exec,
 * walks through names it has cached). Each request we do get runs as the
 * caller: fsuid/fsgid from the request, effective capabilities from
 * capget(tid), and the complete supplementary group list from
 * /proc/<tid>/status, read only if a decision needs it (none of either if
 * reading fails), so uvfs's own checks agree with the kernel's. The view
 * options (struct view) change what the kernel checks, never uvfs's check.
 */
#define FUSE_USE_VERSION 34
#include "fuse/fuse_export.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/falloc.h>
#include <linux/fsverity.h>
#include <linux/ioctl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "vfs/uvfs_fs.h" /* fs->type->name, fs->flags only: per-filesystem reply policy */

struct node {
	struct uvfs_vd vd; /* immutable: the references this node holds */
	struct uvfs_inode *inode; /* immutable: vd's inode; key with vd.mount */
	uint64_t ino; /* immutable: fs inode number; key with vd.mount */
	uint64_t gen; /* immutable */
	double entry_to, attr_to; /* immutable: policy of the node's filesystem */
	bool pseudo; /* immutable: empty regular files may have content (direct_io) */
	uint64_t nlookup; /* ex->lock */
	struct node *next; /* ex->lock: hash chain */
	/* ex->lock: other names (hard links) the kernel got this node under,
	 * so a retire can invalidate them all; added, never removed, freed
	 * with the node. Each holds a dentry reference (vd.mount keeps the
	 * filesystem alive). */
	struct alias *aliases;
	unsigned naliases; /* ex->lock */
	bool retired; /* ex->lock: out of the table; new lookups get a new node */
};

/* One more dentry of a node's inode on the node's mount (a hard link). */
struct alias {
	struct alias *next; /* immutable once linked */
	struct uvfs_dentry *d; /* immutable: one reference */
};
/* Names beyond this many per node are not recorded: they stay stale after
 * an in-process truncate until their entry timeout. */
#define NODE_MAX_ALIASES 16

/* A message for the kernel, queued for the notifier thread. */
enum note_kind { NOTE_ENTRY, NOTE_INODE, NOTE_SIZE, NOTE_RETIRE };
struct note {
	struct note *next;
	enum note_kind kind;
	fuse_ino_t ino; /* ENTRY: the directory; INODE/SIZE: the inode */
	int64_t off, len; /* INODE: page range (off < 0: attributes only); SIZE: off = size */
	struct node *node; /* RETIRE: a lookup held on it until sent */
	size_t namelen;
	char name[]; /* ENTRY */
};

/* An open file or directory (fi->fh). Handles are listed so that teardown
 * can close what the kernel never released (server killed by a signal). */
struct handle {
	struct uvfs_file *f; /* immutable */
	struct handle *prev, *next; /* ex->fh_lock */
	pthread_mutex_t lock; /* directories: serialises readdir; protects pos */
	int64_t pos; /* directories: offset after the last entry replied */
};

/* The exported view: sshfs/bindfs options (-o uid=,gid=,umask=,map=,
 * kernel_cache). uid=, gid= and umask= change only what getattr shows: the
 * kernel's default_permissions check uses the view, uvfs's check the real
 * owners and mode for the real caller, and an operation needs both. map=
 * (bindfs syntax FROM/TO:@FROM/@TO, ids or names) is an idmapped mount:
 * owners FROM are shown as TO, and a caller whose fsuid (fsgid) is TO acts
 * as FROM in uvfs (checks, new files' owners, chown to TO stores FROM), so
 * both checks agree. Supplementary groups are not mapped. */
#define VIEW_MAX_MAP 32
struct view_map {
	uint32_t from, to;
	bool group;
};
struct view {
	int64_t uid, gid; /* shown for every file; -1: the file's own (mapped) */
	uint32_t umask; /* permission bits cleared in the view (not on symlinks) */
	bool kernel_cache; /* keep the page cache across opens, for every file */
	size_t nmap;
	struct view_map map[VIEW_MAX_MAP];
};

struct uvfs_fuse {
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct uvfs_vd root; /* namespace root, one reference */
	struct node *rootnode;
	struct uvfs_fuse_config cfg;
	struct view view; /* set before the session starts, read-only after */
	dev_t rootdev; /* st_dev of the root filesystem: its inode numbers pass unchanged */
	pthread_mutex_t lock; /* buckets, nbuckets, count, next_gen, node nlookup/next */
	struct node **buckets;
	struct node *retired; /* retired nodes the kernel still holds, through next */
	size_t nbuckets, count;
	uint64_t next_gen;
	struct fuse_session *se;
	pthread_t thread;
	bool thread_started;
	bool mounted;
	/* Set by op_init before any other request, read-only after: the
	 * kernel caches writes and owns size and times of regular files. */
	bool writeback;
	/* Set once by op_flush (atomic): a 9p mount was seen, whose files
	 * flush on close, so FLUSH is never refused (see op_flush). */
	bool flush_needed;
	/* Set once by op_flush (atomic): the kernel was told FLUSH is not
	 * implemented and sends none any more; op_release flushes instead. */
	bool flush_refused;
	unsigned max_read; /* -o max_read=N: libfuse wants it again in init() */
	pthread_mutex_t fh_lock; /* handles */
	struct handle handles; /* list head */
	/* Change notification: queue, sequence numbers and the thread, all
	 * under qlock; watching is set once subscribed (before the thread
	 * runs) and cleared after unsubscribing. */
	pthread_mutex_t qlock;
	pthread_cond_t qwake, qdone;
	struct note *qhead, **qtail;
	uint64_t qseq, qdone_seq;
	bool qstop;
	bool watching;
	pthread_t notifier;
};

/* Set on every thread that serves our requests (EX), with the mount of the
 * node the current request acts on (N, and the file ops): the kernel
 * updates its own caches for a change it asked for, so only the nodes of
 * the same inode on other mounts (bind-mount copies) are told, without
 * waiting. */
static __thread struct uvfs_fuse *tls_serving;
static __thread const struct uvfs_mount *tls_req_mount;
/* The inode of that node: an attribute change of another inode made while
 * serving (a stacking fs's copy-up of the parent directory) is not in the
 * reply, so it is told even on the request's mount (watch_inode_cb). */
static __thread const struct uvfs_inode *tls_req_inode;

/* ------------------------------------------------------------ node table */

/* By inode only: every node of one inode (one per mount it is seen
 * through) shares a chain, so a change notification finds them all. */
static size_t node_hash(const struct uvfs_inode *inode, size_t n)
{
	uint64_t h = (uint64_t)(uintptr_t)inode * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h ^ (h >> 29)) & (n - 1);
}

static void table_grow(struct uvfs_fuse *ex)
{
	size_t n = ex->nbuckets * 2;
	struct node **b = calloc(n, sizeof(*b));
	if (!b)
		return; /* keep the longer chains */
	for (size_t i = 0; i < ex->nbuckets; i++) {
		struct node *nd = ex->buckets[i], *next;
		for (; nd; nd = next) {
			next = nd->next;
			size_t h = node_hash(nd->inode, n);
			nd->next = b[h];
			b[h] = nd;
		}
	}
	free(ex->buckets);
	ex->buckets = b;
	ex->nbuckets = n;
}

#define TMPFS_ENTRY_TIMEOUT 3600.0 /* s; see policy_for */

static void policy_for(struct uvfs_fuse *ex, struct node *nd)
{
	const char *type = uvfs_mount_fs(nd->vd.mount)->type->name;
	/* tmpfs changes only through us, so the kernel may cache briefly;
	 * anything else may be dynamic (proc, sys): no caching, direct_io
	 * for files that claim to be empty. */
	bool stable = !strcmp(type, "tmpfs") ||
		      !strcmp(type, "overlay"); /* layers change only through it (overlayfs.rst) */
	double def = stable ? 1.0 : 0.0;
	/* A tmpfs name changes only through the kernel (which updates its own
	 * dentries) or in process (we invalidate it, watch_entry_cb), so the
	 * kernel may keep names as long as it likes: no LOOKUP to revalidate
	 * a name every second (an unlink of a name made more than a second
	 * ago, a warm walk). Without change notification, 1 s. */
	double def_entry = !strcmp(type, "tmpfs") && ex->watching ? TMPFS_ENTRY_TIMEOUT : def;
	nd->entry_to = ex->cfg.entry_timeout >= 0 ? ex->cfg.entry_timeout : def_entry;
	nd->attr_to = ex->cfg.attr_timeout >= 0 ? ex->cfg.attr_timeout : def;
	/* 9p files have real sizes (the server's): page cache and mmap work */
	nd->pseudo = !stable && strcmp(type, "9p");
}

/* The kernel now knows nd under d's name too: remember d if it is another
 * name of the inode (a hard link). ex->lock held. */
static void node_note_alias(struct node *nd, struct uvfs_dentry *d)
{
	if (d == nd->vd.dentry || nd->naliases >= NODE_MAX_ALIASES)
		return;
	for (struct alias *a = nd->aliases; a; a = a->next)
		if (a->d == d)
			return;
	struct alias *a = malloc(sizeof(*a));
	if (!a)
		return; /* that name stays stale until its timeout */
	uvfs_dentry_get(d);
	a->d = d;
	a->next = nd->aliases;
	nd->aliases = a;
	nd->naliases++;
}

/* Puts nd's references and frees it (no lock: it is out of every list). */
static void node_free(struct node *nd)
{
	for (struct alias *a = nd->aliases, *next; a; a = next) {
		next = a->next;
		uvfs_dentry_put(a->d);
		free(a);
	}
	uvfs_vd_put(&nd->vd);
	free(nd);
}

/* Finds or creates the node for (vd.mount, vd's inode) and counts one
 * lookup. vd's references are consumed (kept by a new node, dropped
 * otherwise). */
static struct node *node_get(struct uvfs_fuse *ex, struct uvfs_vd *vd, uint64_t ino)
{
	struct uvfs_inode *inode = uvfs_dentry_inode(vd->dentry);
	pthread_mutex_lock(&ex->lock);
	size_t h = node_hash(inode, ex->nbuckets);
	struct node *nd;
	for (nd = ex->buckets[h]; nd; nd = nd->next)
		if (nd->inode == inode && nd->vd.mount == vd->mount)
			break;
	if (nd) {
		nd->nlookup++;
		node_note_alias(nd, vd->dentry);
		pthread_mutex_unlock(&ex->lock);
		uvfs_vd_put(vd);
		return nd;
	}
	nd = calloc(1, sizeof(*nd));
	if (!nd) {
		pthread_mutex_unlock(&ex->lock);
		uvfs_vd_put(vd);
		return NULL;
	}
	nd->vd = *vd;
	*vd = (struct uvfs_vd){ 0 };
	nd->inode = inode;
	nd->ino = ino;
	nd->gen = ++ex->next_gen;
	nd->nlookup = 1;
	policy_for(ex, nd);
	nd->next = ex->buckets[h];
	ex->buckets[h] = nd;
	if (++ex->count > ex->nbuckets)
		table_grow(ex);
	pthread_mutex_unlock(&ex->lock);
	return nd;
}

/* Drops n lookups; at zero the node leaves the table and its vd is put. */
static void node_forget(struct uvfs_fuse *ex, struct node *nd, uint64_t n)
{
	pthread_mutex_lock(&ex->lock);
	if (nd->nlookup < n)
		n = nd->nlookup;
	nd->nlookup -= n;
	if (nd->nlookup || nd == ex->rootnode) {
		pthread_mutex_unlock(&ex->lock);
		return;
	}
	struct node **pp = nd->retired ? &ex->retired : &ex->buckets[node_hash(nd->inode, ex->nbuckets)];
	while (*pp && *pp != nd)
		pp = &(*pp)->next;
	if (*pp)
		*pp = nd->next;
	ex->count--;
	pthread_mutex_unlock(&ex->lock);
	node_free(nd);
}

/* The kernel never sends a request for a node it has forgotten, so the
 * pointer is valid for the duration of the request. */
static struct node *N(struct uvfs_fuse *ex, fuse_ino_t ino)
{
	struct node *nd = ino == FUSE_ROOT_ID ? ex->rootnode : (struct node *)(uintptr_t)ino;
	tls_req_mount = nd->vd.mount;
	tls_req_inode = nd->inode;
	return nd;
}

static fuse_ino_t node_id(struct uvfs_fuse *ex, struct node *nd)
{
	return nd == ex->rootnode ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)nd;
}

/* Drops every node (teardown: the kernel is gone). */
static void table_clear(struct uvfs_fuse *ex)
{
	for (size_t i = 0; i < ex->nbuckets; i++) {
		struct node *nd = ex->buckets[i], *next;
		for (; nd; nd = next) {
			next = nd->next;
			node_free(nd);
		}
		ex->buckets[i] = NULL;
	}
	for (struct node *nd = ex->retired, *next; nd; nd = next) {
		next = nd->next;
		node_free(nd);
	}
	ex->retired = NULL;
	ex->count = 0;
	ex->rootnode = NULL;
}

/* ---------------------------------------------------- staying current */

static void note_free(struct uvfs_fuse *ex, struct note *n);

/* Appends notes (a list) and returns the sequence number to wait for. */
static uint64_t notes_queue(struct uvfs_fuse *ex, struct note *first, struct note **last_next)
{
	pthread_mutex_lock(&ex->qlock);
	uint64_t seq = ex->qseq;
	if (ex->qstop) { /* the kernel is going away: nothing to keep current */
		pthread_mutex_unlock(&ex->qlock);
		while (first) {
			struct note *n = first;
			first = n->next;
			note_free(ex, n);
		}
		return seq;
	}
	*ex->qtail = first;
	ex->qtail = last_next;
	seq = ++ex->qseq;
	pthread_cond_signal(&ex->qwake);
	pthread_mutex_unlock(&ex->qlock);
	return seq;
}

/* The changing thread waits until its notes reached the kernel, so its next
 * look through the mount is fresh. Bounded: a notify stuck behind a kernel
 * lock must not hang the embedder (it then sees the old answer until the
 * timeout). */
static void notes_wait(struct uvfs_fuse *ex, uint64_t seq, long ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ex->qlock);
	while (ex->qdone_seq < seq && !ex->qstop)
		if (pthread_cond_timedwait(&ex->qdone, &ex->qlock, &until))
			break;
	pthread_mutex_unlock(&ex->qlock);
}

struct notes {
	struct note *first, **tail;
};

static struct note *note_add(struct notes *l, enum note_kind kind, fuse_ino_t ino, const char *name, size_t len)
{
	struct note *n = calloc(1, sizeof(*n) + len + 1);
	if (!n)
		return NULL; /* the kernel stays stale until its timeout */
	n->kind = kind;
	n->ino = ino;
	if (name)
		memcpy(n->name, name, len);
	n->namelen = len;
	*l->tail = n;
	l->tail = &n->next;
	return n;
}

/* Does a change by this thread need telling nd's kernel inode? */
static bool told(struct uvfs_fuse *ex, const struct node *nd)
{
	return tls_serving != ex || nd->vd.mount != tls_req_mount;
}

/* An attribute change: the reply to the request being served tells the
 * kernel only about the request's own inode; any other inode's change
 * (a copy-up made by an open for write turns the parent directory merged,
 * nlink 1) is told. Safe from a request: an attributes-only inval_inode
 * takes no inode or page lock in the kernel, and the notifier sends it
 * (the request waits at most NOTES_WAIT_REQUEST_MS for it). */
static bool told_attr(struct uvfs_fuse *ex, const struct node *nd)
{
	return told(ex, nd) || nd->inode != tls_req_inode;
}

/* A request thread waits briefly: its notes are for other mounts' nodes
 * (bind copies), and its caller may look through a copy as soon as the
 * reply arrives (nothing else delays it since FLUSH is gone). Briefly,
 * because the notifier may be blocked on a kernel lock held for the very
 * request being served (a rename between two copies): then the reply goes
 * after 50 ms and the notes right after it. */
#define NOTES_WAIT_REQUEST_MS 50
#define NOTES_WAIT_MS 2000

static void notes_submit(struct uvfs_fuse *ex, struct notes *l)
{
	if (!l->first)
		return;
	uint64_t seq = notes_queue(ex, l->first, l->tail);
	notes_wait(ex, seq, tls_serving == ex ? NOTES_WAIT_REQUEST_MS : NOTES_WAIT_MS);
}

/* uvfs_watch_ops.entry: name in dir changed meaning. Every node of dir (one
 * per mount) drops its kernel dentry; a removed or replaced child's link
 * count is refetched. No VFS lock is held; ex->lock is a leaf. */
static void watch_entry_cb(void *arg, enum uvfs_watch_event ev, struct uvfs_inode *dir, const char *name, size_t len,
			   struct uvfs_inode *child)
{
	struct uvfs_fuse *ex = arg;
	struct notes l = { NULL, &l.first };
	pthread_mutex_lock(&ex->lock);
	for (struct node *nd = ex->buckets[node_hash(dir, ex->nbuckets)]; nd; nd = nd->next)
		if (nd->inode == dir && told(ex, nd))
			note_add(&l, NOTE_ENTRY, node_id(ex, nd), name, len);
	if (child && ev == UVFS_WATCH_REMOVE)
		for (struct node *nd = ex->buckets[node_hash(child, ex->nbuckets)]; nd; nd = nd->next)
			if (nd->inode == child && told(ex, nd)) {
				struct note *n = note_add(&l, NOTE_INODE, node_id(ex, nd), NULL, 0);
				if (n)
					n->off = -1;
			}
	pthread_mutex_unlock(&ex->lock);
	notes_submit(ex, &l);
}

/* uvfs_watch_ops.inode: attributes or content changed. Under the writeback
 * cache the kernel keeps a regular file's size itself and never takes ours
 * again: a write that grows the file tells it the new size (a zero-byte
 * store at the end); a truncate retires the node (the kernel's next lookup
 * gets a new node id, hence a fresh inode with our size). */
static void watch_inode_cb(void *arg, enum uvfs_watch_event ev, struct uvfs_inode *inode, uint64_t off, uint64_t len)
{
	struct uvfs_fuse *ex = arg;
	struct notes l = { NULL, &l.first };
	bool reg = S_ISREG(__atomic_load_n(&inode->i_mode, __ATOMIC_RELAXED));
	pthread_mutex_lock(&ex->lock);
	struct node **pp = &ex->buckets[node_hash(inode, ex->nbuckets)];
	while (*pp) {
		struct node *nd = *pp;
		if (nd->inode != inode || !(ev == UVFS_WATCH_ATTR ? told_attr(ex, nd) : told(ex, nd))) {
			pp = &nd->next;
			continue;
		}
		struct note *n = note_add(&l, NOTE_INODE, node_id(ex, nd), NULL, 0);
		if (n)
			n->off = ev == UVFS_WATCH_DATA ? 0 : -1;
		if (ev != UVFS_WATCH_DATA || !reg || !ex->writeback) {
			pp = &nd->next;
		} else if (len) {
			if ((n = note_add(&l, NOTE_SIZE, 0, NULL, 0))) {
				nd->nlookup++; /* held by the note */
				n->node = nd;
			}
			pp = &nd->next;
		} else if (nd != ex->rootnode && (n = note_add(&l, NOTE_RETIRE, 0, NULL, 0))) {
			*pp = nd->next; /* out of the table, onto the retired list */
			nd->retired = true;
			nd->next = ex->retired;
			ex->retired = nd;
			nd->nlookup++; /* held by the note */
			n->node = nd;
		} else {
			pp = &nd->next;
		}
	}
	pthread_mutex_unlock(&ex->lock);
	notes_submit(ex, &l);
}

/* Does the export hold anything on mnt: a node, or an open file the
 * kernel has not released yet? */
static bool holds_mount(struct uvfs_fuse *ex, const struct uvfs_mount *mnt)
{
	bool held = false;
	pthread_mutex_lock(&ex->lock);
	for (size_t i = 0; i < ex->nbuckets && !held; i++)
		for (struct node *nd = ex->buckets[i]; nd && !held; nd = nd->next)
			held = nd->vd.mount == mnt;
	for (struct node *nd = ex->retired; nd && !held; nd = nd->next)
		held = nd->vd.mount == mnt;
	pthread_mutex_unlock(&ex->lock);
	pthread_mutex_lock(&ex->fh_lock);
	for (struct handle *h = ex->handles.next; h != &ex->handles && !held; h = h->next) {
		struct uvfs_vd vd;
		uvfs_file_vd(h->f, &vd);
		held = vd.mount == mnt;
		uvfs_vd_put(&vd);
	}
	pthread_mutex_unlock(&ex->fh_lock);
	return held;
}

/* How long a plain umount waits for the kernel to forget its nodes. */
#define UMOUNT_WAIT_MS 1000
#define UMOUNT_ROUND_MS 100
#define UMOUNT_NAMES 64

static void inval_name_of(struct uvfs_fuse *ex, struct uvfs_dentry *d);

/* Names of nodes the kernel still holds on mnt: a name below the mount
 * point that was in use when the mount point was invalidated stays
 * hashed (d_invalidate drops only what is unused), and the kernel then
 * keeps it, and its parents, once its file is closed. */
static void inval_names_on(struct uvfs_fuse *ex, const struct uvfs_mount *mnt)
{
	struct uvfs_dentry *ds[UMOUNT_NAMES];
	size_t k = 0;
	pthread_mutex_lock(&ex->lock);
	for (size_t i = 0; i < ex->nbuckets && k < UMOUNT_NAMES; i++)
		for (struct node *nd = ex->buckets[i]; nd && k < UMOUNT_NAMES; nd = nd->next)
			if (nd->vd.mount == mnt && nd->vd.dentry != uvfs_mount_root(mnt)) {
				uvfs_dentry_get(nd->vd.dentry);
				ds[k++] = nd->vd.dentry;
			}
	pthread_mutex_unlock(&ex->lock);
	for (size_t i = 0; i < k; i++) {
		inval_name_of(ex, ds[i]);
		uvfs_dentry_put(ds[i]);
	}
}

/* uvfs_watch_ops.umount: a non-lazy umount of mnt is about to count its
 * references, ours among them (every node on mnt holds one). The kernel
 * forgets the covered name in every node of dir, which drops its unused
 * dentries below it and sends FORGETs for their nodes; wait (bounded) until
 * none is left. Dentries in use (an open file, a cwd inside) stay, and the
 * umount is EBUSY, as on Linux. */
static void watch_umount_cb(void *arg, struct uvfs_mount *mnt, struct uvfs_inode *dir, const char *name, size_t len)
{
	struct uvfs_fuse *ex = arg;
	if (tls_serving == ex)
		return; /* the kernel waits for our reply: it cannot forget now */
	struct notes l = { NULL, &l.first };
	pthread_mutex_lock(&ex->lock);
	for (struct node *nd = ex->buckets[node_hash(dir, ex->nbuckets)]; nd; nd = nd->next)
		if (nd->inode == dir)
			note_add(&l, NOTE_ENTRY, node_id(ex, nd), name, len);
	pthread_mutex_unlock(&ex->lock);
	notes_submit(ex, &l);
	for (int ms = 0; ms < UMOUNT_WAIT_MS && holds_mount(ex, mnt); ms += 5) {
		if (ms && ms % UMOUNT_ROUND_MS == 0)
			inval_names_on(ex, mnt);
		usleep(5000);
	}
}

static const struct uvfs_watch_ops watch_ops = {
	.entry = watch_entry_cb,
	.inode = watch_inode_cb,
	.umount = watch_umount_cb,
};

static void node_forget(struct uvfs_fuse *ex, struct node *nd, uint64_t n);

/* The kernel forgets the name d has (in each node of d's parent). */
static void inval_name_of(struct uvfs_fuse *ex, struct uvfs_dentry *d)
{
	char name[256];
	size_t len = uvfs_dentry_name_copy(d, name, sizeof(name));
	struct uvfs_dentry *parent = uvfs_dentry_get_parent(d);
	if (parent && parent != d && len < sizeof(name)) {
		struct uvfs_inode *dir = uvfs_dentry_inode(parent);
		fuse_ino_t ids[16];
		size_t k = 0;
		pthread_mutex_lock(&ex->lock);
		for (struct node *p = ex->buckets[node_hash(dir, ex->nbuckets)]; p && k < 16; p = p->next)
			if (p->inode == dir)
				ids[k++] = node_id(ex, p);
		pthread_mutex_unlock(&ex->lock);
		for (size_t i = 0; i < k; i++)
			fuse_lowlevel_notify_inval_entry(ex->se, ids[i], name, len);
	}
	if (parent)
		uvfs_dentry_put(parent);
}

/* RETIRE: the kernel forgets every name of the node it can see: the one
 * it was made for and every hard link it was found under since, so each
 * is looked up again (and gets the new node). nd is held by the note, so
 * its alias list only grows; the entries read here stay referenced. */
static void send_retire(struct uvfs_fuse *ex, struct node *nd)
{
	inval_name_of(ex, nd->vd.dentry);
	pthread_mutex_lock(&ex->lock);
	struct alias *a = nd->aliases;
	pthread_mutex_unlock(&ex->lock);
	for (; a; a = a->next)
		inval_name_of(ex, a->d);
}

/* SIZE: the kernel moves its size up only for stored bytes, so store the
 * file's current last byte (read now, as root: the kernel already had it). */
static void send_size(struct uvfs_fuse *ex, struct node *nd)
{
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	struct uvfs_pathop p = { .root = ex->root, .start = nd->vd, .path = "", .flags = UVFS_PATH_EMPTY };
	struct uvfs_file *f;
	if (uvfs_open_at(ex->vfs, &root, &p, O_RDONLY | O_NOATIME, 0, 0, &f))
		return;
	struct statx x;
	char last;
	if (!uvfs_file_stat(f, STATX_SIZE, &x) && x.stx_size > 0 &&
	    uvfs_pread(f, &last, 1, (off_t)x.stx_size - 1) == 1) {
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(1);
		bv.buf[0].mem = &last;
		fuse_lowlevel_notify_store(ex->se, node_id(ex, nd), (off_t)x.stx_size - 1, &bv, 0);
	}
	uvfs_file_put(f);
}

static void note_free(struct uvfs_fuse *ex, struct note *n)
{
	if (n->node)
		node_forget(ex, n->node, 1);
	free(n);
}

static void note_send(struct uvfs_fuse *ex, struct note *n)
{
	switch (n->kind) {
	case NOTE_ENTRY:
		fuse_lowlevel_notify_inval_entry(ex->se, n->ino, n->name, n->namelen);
		break;
	case NOTE_INODE:
		fuse_lowlevel_notify_inval_inode(ex->se, n->ino, n->off, n->len);
		break;
	case NOTE_SIZE:
		send_size(ex, n->node);
		break;
	case NOTE_RETIRE:
		send_retire(ex, n->node);
		break;
	}
}

/* The notifier: sends queued notes in order. Errors (ENOENT: the kernel
 * has no such node or name cached) need no action. */
static void *notifier_main(void *arg)
{
	struct uvfs_fuse *ex = arg;
	uvfs_thread_enter();
	pthread_mutex_lock(&ex->qlock);
	for (;;) {
		while (!ex->qhead && !ex->qstop)
			pthread_cond_wait(&ex->qwake, &ex->qlock);
		struct note *batch = ex->qhead;
		uint64_t seq = ex->qseq;
		bool stop = ex->qstop;
		ex->qhead = NULL;
		ex->qtail = &ex->qhead;
		pthread_mutex_unlock(&ex->qlock);
		while (batch) {
			struct note *n = batch;
			batch = n->next;
			if (!stop)
				note_send(ex, n);
			note_free(ex, n);
		}
		pthread_mutex_lock(&ex->qlock);
		ex->qdone_seq = seq;
		pthread_cond_broadcast(&ex->qdone);
		if (stop && !ex->qhead)
			break;
	}
	pthread_mutex_unlock(&ex->qlock);
	uvfs_thread_leave();
	return NULL;
}

/* Subscribes once the session exists (each export of one instance has
 * its own subscription, up to UVFS_WATCH_MAX). */
static void watch_start(struct uvfs_fuse *ex)
{
	ex->qtail = &ex->qhead;
	if (pthread_create(&ex->notifier, NULL, notifier_main, ex))
		return;
	ex->watching = true;
	int err = uvfs_watch_set(ex->vfs, &watch_ops, ex);
	if (err) {
		uvfs_log(UVFS_LOG_WARN, "fuse: no change notification (%s): in-process changes show after the timeouts",
			 strerror(-err));
		pthread_mutex_lock(&ex->qlock);
		ex->qstop = true;
		pthread_cond_signal(&ex->qwake);
		pthread_mutex_unlock(&ex->qlock);
		pthread_join(ex->notifier, NULL);
		ex->watching = false;
	}
}

/* Before the session goes: no callback runs once it returns, and every
 * queued note has been dropped (its node lookups given back). */
static void watch_stop(struct uvfs_fuse *ex)
{
	if (!ex->watching)
		return;
	uvfs_watch_set(ex->vfs, NULL, ex); /* this export's subscription only */
	pthread_mutex_lock(&ex->qlock);
	ex->qstop = true;
	pthread_cond_signal(&ex->qwake);
	pthread_mutex_unlock(&ex->qlock);
	pthread_join(ex->notifier, NULL);
	ex->watching = false;
}

/* ------------------------------------------------------------- helpers */

static struct uvfs_fuse *EX(fuse_req_t req)
{
	struct uvfs_fuse *ex = fuse_req_userdata(req);
	tls_serving = ex;
	return ex;
}

/* Per-thread scratch for request credentials: the lazy group source a cred
 * points at, the caller's /proc status text and the group list the cred
 * borrows. A cred built by req_cred stays valid until the same thread's
 * next req_cred, i.e. for the request. */
struct cred_scratch {
	struct uvfs_groups_src src; /* first: load() gets it back as the scratch */
	pid_t tid;
	uint32_t fsuid, fsgid;
	char *text;
	size_t text_cap;
	uint32_t *groups;
	size_t groups_cap;
};

static pthread_key_t cred_key;
static pthread_once_t cred_key_once = PTHREAD_ONCE_INIT;

static void cred_scratch_free(void *p)
{
	struct cred_scratch *cs = p;
	free(cs->text);
	free(cs->groups);
	free(cs);
}

static void cred_key_init(void) { pthread_key_create(&cred_key, cred_scratch_free); }

static struct cred_scratch *cred_scratch(void)
{
	pthread_once(&cred_key_once, cred_key_init);
	struct cred_scratch *cs = pthread_getspecific(cred_key);
	if (!cs && (cs = calloc(1, sizeof(*cs))) && pthread_setspecific(cred_key, cs)) {
		free(cs);
		cs = NULL;
	}
	return cs;
}

/* Reads /proc/<tid>/status whole (a 65,536-group line is ~450 KiB) into
 * cs->text, NUL-terminated. */
static int read_status(struct cred_scratch *cs, pid_t tid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = 0;
	int err = 0;
	for (;;) {
		if (cs->text_cap - len < 2) {
			size_t cap = cs->text_cap ? cs->text_cap * 2 : 4096;
			char *t = realloc(cs->text, cap);
			if (!t) {
				err = -ENOMEM;
				break;
			}
			cs->text = t;
			cs->text_cap = cap;
		}
		ssize_t n = read(fd, cs->text + len, cs->text_cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (!err)
		cs->text[len] = 0;
	return err;
}

/* The value of "Key:\t..." in status text, or NULL. */
static const char *status_field(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, key, kl) && l[kl] == ':')
			return l + kl + 1;
	return NULL;
}

/* The 4th id of a "Uid:"/"Gid:" line: the filesystem id. */
static bool status_fsid(const char *text, const char *key, uint32_t *out)
{
	const char *v = status_field(text, key);
	unsigned long id[4];
	if (!v || sscanf(v, "%lu %lu %lu %lu", &id[0], &id[1], &id[2], &id[3]) != 4)
		return false;
	*out = (uint32_t)id[3];
	return true;
}

/* uvfs_groups_src.load: the caller's supplementary groups, read from its
 * status only when a permission decision needs them (most requests never
 * do: owners, and files whose group and other bits agree). */
static int load_groups(struct uvfs_groups_src *src, const uint32_t **groups, uint32_t *out_n)
{
	struct cred_scratch *cs = (struct cred_scratch *)src;
	uint32_t fsuid, fsgid;
	int err = read_status(cs, cs->tid);
	if (err)
		return err;
	/* The caller waits uninterruptibly for our reply, so its thread id
	 * cannot have been reused; check the ids anyway. */
	if (!status_fsid(cs->text, "Uid", &fsuid) || !status_fsid(cs->text, "Gid", &fsgid) || fsuid != cs->fsuid ||
	    fsgid != cs->fsgid)
		return -ESRCH;
	const char *gv = status_field(cs->text, "Groups");
	if (!gv)
		return -EINVAL;
	size_t n = 0;
	for (const char *p = gv; *p && *p != '\n';) {
		if (*p == ' ' || *p == '\t') {
			p++;
			continue;
		}
		char *end;
		errno = 0;
		unsigned long g = strtoul(p, &end, 10);
		if (errno || end == p || g > UINT32_MAX)
			return -EINVAL;
		if (n == cs->groups_cap) {
			size_t cap = cs->groups_cap ? cs->groups_cap * 2 : 64;
			uint32_t *ng = realloc(cs->groups, cap * sizeof(*ng));
			if (!ng)
				return -ENOMEM;
			cs->groups = ng;
			cs->groups_cap = cap;
		}
		cs->groups[n++] = (uint32_t)g;
		p = end;
	}
	struct uvfs_cred sorted; /* the kernel keeps the list sorted; make sure */
	uvfs_cred_set_groups(&sorted, cs->groups, (uint32_t)n);
	*groups = sorted.groups;
	*out_n = sorted.ngroups;
	return 0;
}

/* The effective capabilities of thread tid; none if they cannot be read
 * (fail closed: the kernel has already granted what the mode bits allow, so
 * we can only refuse more). One syscall, unlike the status file. */
static uint64_t caller_caps(pid_t tid)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = tid };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	if (tid <= 0 || syscall(SYS_capget, &h, d)) /* pid 0 would be ourselves */
		return 0;
	return d[0].effective | (uint64_t)d[1].effective << 32;
}

/* The caller of req as a uvfs credential (see the top of the file). */
/* map= in one direction: shown (to) from real (from), or back. */
static uint32_t view_id(const struct view *v, uint32_t id, bool group, bool back)
{
	for (size_t i = 0; i < v->nmap; i++)
		if (v->map[i].group == group && (back ? v->map[i].to : v->map[i].from) == id)
			return back ? v->map[i].from : v->map[i].to;
	return id;
}

static void req_cred(fuse_req_t req, struct uvfs_cred *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	const struct view *v = &((struct uvfs_fuse *)fuse_req_userdata(req))->view;
	uvfs_cred_init_user(c, view_id(v, ctx->uid, false, true), view_id(v, ctx->gid, true, true));
	c->caps = caller_caps(ctx->pid);
	struct cred_scratch *cs = cred_scratch();
	if (!cs || ctx->pid <= 0)
		return; /* no supplementary groups */
	cs->src = (struct uvfs_groups_src){ .load = load_groups };
	cs->tid = ctx->pid;
	cs->fsuid = ctx->uid; /* the real ids: load_groups matches them against /proc */
	cs->fsgid = ctx->gid;
	c->groups_src = &cs->src;
}

/* Path op on node nd: name, or nd itself for NULL/"". */
static struct uvfs_pathop pop_at(struct uvfs_fuse *ex, struct node *nd, const char *name)
{
	return (struct uvfs_pathop){ .root = ex->root,
				     .start = nd->vd,
				     .path = name ? name : "",
				     .flags = (name && name[0]) ? 0 : UVFS_PATH_EMPTY };
}

static uint64_t map_ino(struct uvfs_fuse *ex, dev_t dev, uint64_t ino)
{
	/* One st_dev for the whole mount: inode numbers of other filesystems
	 * get their minor in the high bits so they stay unique. */
	if (dev == ex->rootdev)
		return ino;
	return ino ^ ((uint64_t)(minor(dev) + 1) << 44);
}

static void statx_to_stat(struct uvfs_fuse *ex, const struct statx *x, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = map_ino(ex, makedev(x->stx_dev_major, x->stx_dev_minor), x->stx_ino);
	st->st_mode = x->stx_mode;
	st->st_nlink = x->stx_nlink;
	st->st_uid = x->stx_uid;
	st->st_gid = x->stx_gid;
	st->st_rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor);
	st->st_size = (off_t)x->stx_size;
	st->st_blksize = x->stx_blksize ? x->stx_blksize : 4096;
	st->st_blocks = (blkcnt_t)x->stx_blocks;
	st->st_atim.tv_sec = x->stx_atime.tv_sec;
	st->st_atim.tv_nsec = x->stx_atime.tv_nsec;
	st->st_mtim.tv_sec = x->stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = x->stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = x->stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = x->stx_ctime.tv_nsec;
	const struct view *v = &ex->view;
	st->st_uid = v->uid >= 0 ? (uid_t)v->uid : view_id(v, st->st_uid, false, false);
	st->st_gid = v->gid >= 0 ? (gid_t)v->gid : view_id(v, st->st_gid, true, false);
	if (!S_ISLNK(st->st_mode))
		st->st_mode &= ~(mode_t)v->umask;
}

static int stat_vd(struct uvfs_fuse *ex, const struct uvfs_cred *cred, const struct uvfs_vd *vd, struct statx *x)
{
	struct uvfs_pathop p = { .root = ex->root, .start = *vd, .path = "", .flags = UVFS_PATH_EMPTY };
	return uvfs_stat_at(ex->vfs, cred, &p, STATX_BASIC_STATS, x);
}

/* Turns vd (references consumed) with attributes x into an entry with one
 * lookup counted. */
static int make_entry_x(struct uvfs_fuse *ex, struct uvfs_vd *vd, const struct statx *x, struct fuse_entry_param *e,
			struct node **out)
{
	struct node *nd = node_get(ex, vd, x->stx_ino);
	if (!nd)
		return -ENOMEM;
	memset(e, 0, sizeof(*e));
	e->ino = node_id(ex, nd);
	e->generation = nd->gen;
	statx_to_stat(ex, x, &e->attr);
	e->attr_timeout = nd->attr_to;
	e->entry_timeout = nd->entry_to;
	*out = nd;
	return 0;
}

/* make_entry_x with vd's current attributes. */
static int make_entry(struct uvfs_fuse *ex, const struct uvfs_cred *cred, struct uvfs_vd *vd,
		      struct fuse_entry_param *e, struct node **out)
{
	struct statx x;
	int err = stat_vd(ex, cred, vd, &x);
	if (err) {
		uvfs_vd_put(vd);
		return err;
	}
	return make_entry_x(ex, vd, &x, e, out);
}

static void reply_entry(fuse_req_t req, struct uvfs_fuse *ex, const struct uvfs_cred *cred, struct uvfs_vd *vd)
{
	struct fuse_entry_param e;
	struct node *nd;
	int err = make_entry(ex, cred, vd, &e, &nd);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	if (fuse_reply_entry(req, &e))
		node_forget(ex, nd, 1); /* the kernel did not get it */
}

/* After a *_at2 creation call: reply with what it made (vd and x, no
 * second lookup), or its error. */
static void reply_new_entry(fuse_req_t req, struct uvfs_fuse *ex, int err, struct uvfs_vd *vd, const struct statx *x)
{
	struct fuse_entry_param e;
	struct node *nd;
	if (!err)
		err = make_entry_x(ex, vd, x, &e, &nd);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	if (fuse_reply_entry(req, &e))
		node_forget(ex, nd, 1); /* the kernel did not get it */
}

static void reply_attr_x(fuse_req_t req, struct uvfs_fuse *ex, struct node *nd, const struct statx *x)
{
	struct stat st;
	statx_to_stat(ex, x, &st);
	fuse_reply_attr(req, &st, nd->attr_to);
}

/* ---------------------------------------------------------------- ops */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	/* O_TRUNC goes to uvfs with the open. Setuid/setgid bits are dropped
	 * by uvfs on write, truncate and chown (HANDLE_KILLPRIV). */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Writeback caching: write() fills the kernel's page cache and the
	 * kernel sends large WRITEs later, keeping size and times itself. Only
	 * content that changes through this mount may be cached that way:
	 * files of other filesystem types are opened direct_io (set_open_flags);
	 * write-only opens get readable handles (reopen_rw) and the kernel's
	 * time updates are applied as the writer's (op_setattr). */
	struct uvfs_fuse *ex = userdata;
	if (ex->max_read)
		conn->max_read = ex->max_read;
	if ((conn->capable & FUSE_CAP_WRITEBACK_CACHE) && !ex->cfg.no_writeback) {
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
		ex->writeback = true;
	}
	if (conn->capable & FUSE_CAP_HANDLE_KILLPRIV)
		conn->want |= FUSE_CAP_HANDLE_KILLPRIV; /* see op_setattr */
	/* Attributes cost us no I/O, while a LOOKUP per name costs a round
	 * trip: always readdirplus, not only when the kernel guesses stats follow. */
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
	/* No FUSE_CAP_CACHE_SYMLINKS: proc's links change target (cwd, fd/N)
	 * and answer each caller differently (ptrace-style checks), and the
	 * kernel's symlink cache is per connection, not per inode. */
	conn->want &= ~(unsigned)FUSE_CAP_CACHE_SYMLINKS;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct node *pn = N(ex, parent);
	struct uvfs_pathop p = pop_at(ex, pn, name);
	struct uvfs_vd vd;
	int err = uvfs_get_dentry_at(ex->vfs, &cred, &p, 0, &vd);
	if (err == -ENOENT) {
		/* A negative entry the kernel may cache. */
		struct fuse_entry_param e = { .ino = 0 };
		e.entry_timeout = pn->entry_to;
		fuse_reply_entry(req, &e);
		return;
	}
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	reply_entry(req, ex, &cred, &vd);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct uvfs_fuse *ex = EX(req);
	node_forget(ex, N(ex, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct uvfs_fuse *ex = EX(req);
	for (size_t i = 0; i < count; i++)
		node_forget(ex, N(ex, forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct node *nd = N(ex, ino);
	struct statx x;
	int err = stat_vd(ex, &cred, &nd->vd, &x);
	if (err)
		fuse_reply_err(req, -err);
	else
		reply_attr_x(req, ex, nd, &x);
}

static struct handle *H(struct fuse_file_info *fi) { return (struct handle *)(uintptr_t)fi->fh; }
static struct uvfs_file *FH(struct fuse_file_info *fi) { return H(fi)->f; }

/* The request acts on f's node (tls_req_mount, tls_req_inode). */
static void req_file(struct uvfs_file *f)
{
	tls_req_mount = f->f_vd.mount;
	tls_req_inode = uvfs_dentry_inode(f->f_vd.dentry);
}

/* Wraps f (reference consumed) in a listed handle; NULL (f put) on ENOMEM. */
static struct handle *handle_new(struct uvfs_fuse *ex, struct uvfs_file *f)
{
	struct handle *h = calloc(1, sizeof(*h));
	if (!h) {
		uvfs_file_put(f);
		return NULL;
	}
	h->f = f;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_lock(&ex->fh_lock);
	h->next = ex->handles.next;
	h->prev = &ex->handles;
	h->next->prev = h;
	ex->handles.next = h;
	pthread_mutex_unlock(&ex->fh_lock);
	return h;
}

static void handle_free(struct uvfs_fuse *ex, struct handle *h)
{
	pthread_mutex_lock(&ex->fh_lock);
	h->prev->next = h->next;
	h->next->prev = h->prev;
	pthread_mutex_unlock(&ex->fh_lock);
	uvfs_file_put(h->f);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct node *nd = N(ex, ino);
	struct uvfs_setattr a = { 0 };
	if (to_set & FUSE_SET_ATTR_MODE) {
		a.mask |= STATX_MODE;
		a.mode = attr->st_mode;
		struct statx x;
		if (!stat_vd(ex, &cred, &nd->vd, &x)) {
			uint32_t cur = x.stx_mode & 07777, want = attr->st_mode & 07777;
			a.mode = want | (x.stx_mode & S_IFMT);
			/* Without HANDLE_KILLPRIV (libfuse 3.14 does not pass it on)
			 * the kernel drops setuid/setgid before a write or truncate
			 * by sending that mode change as the writer, who may not
			 * chmod. uvfs drops them itself on write and size change,
			 * so such a change is skipped rather than refused. */
			if (cred.fsuid != x.stx_uid && !uvfs_cred_has_cap(&cred, CAP_FOWNER) && want != cur &&
			    (cur & ~want) == ((cur & ~want) & (S_ISUID | S_ISGID)) && (want & ~cur) == 0)
				a.mask &= ~(unsigned)STATX_MODE;
		}
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		a.mask |= STATX_UID;
		a.uid = view_id(&ex->view, attr->st_uid, false, true);
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		a.mask |= STATX_GID;
		a.gid = view_id(&ex->view, attr->st_gid, true, true);
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		a.mask |= STATX_SIZE;
		a.size = (uint64_t)attr->st_size;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
		a.mask |= STATX_ATIME;
		a.atime = attr->st_atim;
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			a.atime.tv_nsec = UTIME_NOW;
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		a.mask |= STATX_MTIME;
		a.mtime = attr->st_mtim;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			a.mtime.tv_nsec = UTIME_NOW;
	}
	/* An empty mask is chown(f, -1, -1) (or the kill-priv mode change
	 * skipped above): uvfs still decides it and updates ctime. */
	int err;
	/* Writeback caching: the kernel keeps mtime itself and sends it on
	 * close, fsync and writeback as exactly MTIME|CTIME with the handle
	 * that wrote (fuse_flush_times); no user call has that shape. The
	 * writer may not own the file, and the kernel checked the write, so
	 * apply it with the handle's authority, not the caller's. */
	if (ex->writeback && fi && fi->fh && (to_set & ~FUSE_SET_ATTR_CTIME) == FUSE_SET_ATTR_MTIME)
		uvfs_cred_init_root(&cred);
	/* Under writeback the kernel adds its own MTIME|CTIME to a size
	 * change; uvfs sets both itself when the size changes, and the
	 * explicit time would need the owner (a writer's truncate is not). */
	if (ex->writeback && (to_set & FUSE_SET_ATTR_SIZE) && !(to_set & FUSE_SET_ATTR_MTIME_NOW))
		a.mask &= ~(unsigned)STATX_MTIME;
	if (fi && fi->fh) {
		err = uvfs_file_setstat(FH(fi), &cred, &a);
	} else {
		struct uvfs_pathop p = pop_at(ex, nd, NULL);
		err = uvfs_setstat_at(ex->vfs, &cred, &p, &a, (a.mask & STATX_SIZE) ? UVFS_SETATTR_NEED_WRITE : 0);
	}
	struct statx x;
	if (!err)
		err = stat_vd(ex, &cred, &nd->vd, &x);
	if (err)
		fuse_reply_err(req, -err);
	else
		reply_attr_x(req, ex, nd, &x);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct uvfs_pathop p = pop_at(ex, N(ex, ino), NULL);
	char buf[4097];
	/* The caller as the context's cred: proc's ptrace-style checks on its
	 * links (/proc/N/cwd, fd/N) see no other credentials. */
	struct uvfs_ctx ctx = { .cred = &cred };
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&ctx);
	ssize_t n = uvfs_readlink_at(ex->vfs, &cred, &p, buf, sizeof(buf) - 1);
	uvfs_ctx_leave(prev);
	if (n < 0) {
		fuse_reply_err(req, (int)-n);
		return;
	}
	buf[n] = 0;
	fuse_reply_readlink(req, buf);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct node *pn = N(ex, parent);
	struct uvfs_pathop p = pop_at(ex, pn, name);
	struct uvfs_vd vd;
	struct statx x;
	int err = uvfs_mknod_at2(ex->vfs, &cred, &p, mode, rdev, &(struct uvfs_create_opts){ .vd = &vd, .stat = &x });
	reply_new_entry(req, ex, err, &vd, &x);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct node *pn = N(ex, parent);
	struct uvfs_pathop p = pop_at(ex, pn, name);
	struct uvfs_vd vd;
	struct statx x;
	int err = uvfs_mkdir_at2(ex->vfs, &cred, &p, mode, &(struct uvfs_create_opts){ .vd = &vd, .stat = &x });
	reply_new_entry(req, ex, err, &vd, &x);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct node *pn = N(ex, parent);
	struct uvfs_pathop p = pop_at(ex, pn, name);
	struct uvfs_vd vd;
	struct statx x;
	int err = uvfs_symlink_at2(ex->vfs, &cred, link, &p, &(struct uvfs_create_opts){ .vd = &vd, .stat = &x });
	reply_new_entry(req, ex, err, &vd, &x);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct node *pn = N(ex, newparent);
	struct uvfs_pathop op = pop_at(ex, N(ex, ino), NULL);
	struct uvfs_pathop np = pop_at(ex, pn, newname);
	struct uvfs_vd vd;
	struct statx x;
	int err = uvfs_link_at2(ex->vfs, &cred, &op, &np, &(struct uvfs_create_opts){ .vd = &vd, .stat = &x });
	reply_new_entry(req, ex, err, &vd, &x);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct uvfs_pathop p = pop_at(ex, N(ex, parent), name);
	fuse_reply_err(req, -uvfs_unlink_at(ex->vfs, &cred, &p));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct uvfs_pathop p = pop_at(ex, N(ex, parent), name);
	fuse_reply_err(req, -uvfs_rmdir_at(ex->vfs, &cred, &p));
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct uvfs_pathop op = pop_at(ex, N(ex, parent), name);
	struct uvfs_pathop np = pop_at(ex, N(ex, newparent), newname);
	fuse_reply_err(req, -uvfs_rename_at(ex->vfs, &cred, &op, &np, flags));
}

static void set_open_flags(struct node *nd, struct handle *h, struct fuse_file_info *fi, bool writeback,
			   bool kernel_cache)
{
	struct statx x;
	struct uvfs_file *f = h->f;
	fi->fh = (uint64_t)(uintptr_t)h;
	/* Each close sends a FLUSH round trip unless the open says none is
	 * needed: only files whose filesystem has something to flush get it. */
	fi->noflush = !f->f_op->flush;
	if (nd->pseudo) {
		/* Size unknown until read (proc, sys): bypass the page cache. */
		if (!uvfs_file_stat(f, STATX_SIZE | STATX_TYPE, &x) && S_ISREG(x.stx_mode) &&
		    (x.stx_size == 0 || writeback))
			fi->direct_io = 1;
	} else if (kernel_cache || !strcmp(uvfs_mount_fs(nd->vd.mount)->type->name, "tmpfs") ||
		   !strcmp(uvfs_mount_fs(nd->vd.mount)->type->name, "overlay")) {
		/* tmpfs, overlay (its layers change only through it): every
		 * change comes through this mount, the cache stays valid.
		 * -o kernel_cache: the user says the same of the rest. */
		fi->keep_cache = 1;
	}
}

/* The kernel's __FMODE_EXEC: set in the open flags of an execve's open. */
#define KERNEL_FMODE_EXEC 0x20

/* The kernel computes append offsets from its own i_size; we write where it says. */
static int open_flags(int flags) { return flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_APPEND | KERNEL_FMODE_EXEC); }

/* With writeback caching the kernel reads through any handle to fill a
 * partly written page, also one its caller opened write-only. Once the
 * caller's open has passed every check, *f is replaced by a read-write
 * open of the same file for the kernel's own use: the caller's descriptor
 * stays write-only in the kernel, which never lets it read. Files of other
 * filesystem types are direct_io and keep the caller's open. */
static int reopen_rw(struct uvfs_fuse *ex, struct node *nd, int oflags, struct uvfs_file **f)
{
	if (!ex->writeback || nd->pseudo || (oflags & O_ACCMODE) != O_WRONLY)
		return 0;
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	struct uvfs_vd vd;
	uvfs_file_vd(*f, &vd);
	struct uvfs_pathop p = { .root = ex->root, .start = vd, .path = "", .flags = UVFS_PATH_EMPTY };
	struct uvfs_file *rw;
	int err = uvfs_open_at(ex->vfs, &root, &p,
			       (oflags & ~(O_ACCMODE | O_TRUNC | O_CREAT | O_EXCL | O_APPEND | O_NOCTTY)) | O_RDWR, 0, 0,
			       &rw);
	uvfs_vd_put(&vd);
	if (err)
		return err;
	uvfs_file_put(*f);
	*f = rw;
	return 0;
}

/* Open ino with oflags (and UVFS_OPEN_* uflags) as the caller and wrap the
 * file in a handle; on failure the request has been answered and NULL
 * comes back. */
static struct handle *open_handle(fuse_req_t req, fuse_ino_t ino, int oflags, unsigned uflags)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct uvfs_pathop p = pop_at(ex, N(ex, ino), NULL);
	struct uvfs_file *f;
	int err = uvfs_open_at(ex->vfs, &cred, &p, oflags, 0, uflags, &f);
	if (!err && (err = reopen_rw(ex, N(ex, ino), oflags, &f)))
		uvfs_file_put(f);
	if (err) {
		fuse_reply_err(req, -err);
		return NULL;
	}
	struct handle *h = handle_new(ex, f);
	if (!h)
		fuse_reply_err(req, ENOMEM);
	return h;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct uvfs_fuse *ex = EX(req);
	/* An exec's open needs execute permission too (noexec, non-regular). */
	unsigned uflags = (fi->flags & KERNEL_FMODE_EXEC) ? UVFS_OPEN_EXEC : 0;
	struct handle *h = open_handle(req, ino, open_flags(fi->flags), uflags);
	if (!h)
		return;
	set_open_flags(N(ex, ino), h, fi, ex->writeback, ex->view.kernel_cache);
	if (fuse_reply_open(req, fi))
		handle_free(ex, h);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct node *pn = N(ex, parent);
	struct uvfs_pathop p = pop_at(ex, pn, name);
	struct uvfs_file *f;
	int err = uvfs_open_at(ex->vfs, &cred, &p, (fi->flags & ~(O_APPEND | O_NOCTTY)) | O_CREAT, mode & 07777, 0, &f);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	struct uvfs_vd vd;
	uvfs_file_vd(f, &vd);
	struct fuse_entry_param e;
	struct node *nd;
	if ((err = make_entry(ex, &cred, &vd, &e, &nd))) {
		uvfs_file_put(f);
		fuse_reply_err(req, -err);
		return;
	}
	if ((err = reopen_rw(ex, nd, fi->flags, &f))) {
		uvfs_file_put(f);
		node_forget(ex, nd, 1);
		fuse_reply_err(req, -err);
		return;
	}
	struct handle *h = handle_new(ex, f);
	if (!h) {
		node_forget(ex, nd, 1);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	set_open_flags(nd, h, fi, ex->writeback, ex->view.kernel_cache);
	if (fuse_reply_create(req, &e, fi)) {
		node_forget(ex, nd, 1);
		handle_free(ex, h);
	}
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	char stackbuf[16384];
	char *buf = size <= sizeof(stackbuf) ? stackbuf : malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ssize_t n = uvfs_pread(FH(fi), buf, size, off);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	if (buf != stackbuf)
		free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	EX(req); /* marks this thread as serving: the kernel made this change */
	req_file(FH(fi));
	ssize_t n = uvfs_pwrite(FH(fi), buf, size, off);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static int find_9p(void *arg, const struct uvfs_mount_info *mi) { return !strcmp(mi->fstype, "9p"); }

/* A close of one of the caller's descriptors (Linux filp_close). Under the
 * writeback cache the kernel sends FLUSH on every close even when the open
 * said none is needed (FOPEN_NOFLUSH), a round trip per create. Only 9p
 * files have anything to flush (their page cache to the server; device
 * nodes and FIFOs are opened by the kernel itself), so while no 9p mount is
 * in the tree, the first FLUSH of a file with nothing to flush answers
 * ENOSYS: the kernel then sends no more FLUSH on this connection. A 9p
 * mount made after that is flushed at release instead (the last close,
 * asynchronous: its close() no longer reports writeback errors). */
static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_file *f = FH(fi);
	if (f->f_op->flush || !ex->writeback || __atomic_load_n(&ex->flush_needed, __ATOMIC_RELAXED)) {
		fuse_reply_err(req, -uvfs_flush(f));
		return;
	}
	if (uvfs_mntns_for_each(ex->ns, &ex->root, find_9p, NULL) == 1) {
		__atomic_store_n(&ex->flush_needed, true, __ATOMIC_RELAXED);
		fuse_reply_err(req, 0);
		return;
	}
	__atomic_store_n(&ex->flush_refused, true, __ATOMIC_RELAXED);
	fuse_reply_err(req, ENOSYS);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct uvfs_fuse *ex = EX(req);
	struct handle *h = H(fi);
	if (h->f->f_op->flush && __atomic_load_n(&ex->flush_refused, __ATOMIC_RELAXED))
		uvfs_flush(h->f); /* no FLUSH comes any more (op_flush) */
	handle_free(ex, h);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	fuse_reply_err(req, -uvfs_fsync(FH(fi), datasync != 0));
}

/* The kernel asks only for SEEK_DATA/SEEK_HOLE (sparse-aware cp, tar). The
 * handle's own position is not used by read/write, so seeking it is harmless. */
static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
{
	off_t r = uvfs_seek(FH(fi), off, whence);
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_lseek(req, r);
}

/* The VFS checks and the filesystem does the work (tmpfs frees punched
 * pages and reserves fallocated ones against size=). */
static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
	EX(req);
	req_file(FH(fi));
	fuse_reply_err(req, -uvfs_fallocate(FH(fi), mode, off, len));
}

/* Restricted FUSE ioctls (all a FUSE mount gets): the kernel sends only
 * commands that encode a direction and a size, copies in_bufsz bytes in and
 * takes out_bufsz bytes back; arg is the caller's pointer, useless here.
 * FS_IOC_MEASURE_VERITY is sized by the kernel from the caller's
 * digest_size (fuse_setup_measure_verity). TTY ioctls (TCGETS, TIOCGWINSZ)
 * encode no size, and device nodes and FIFOs are opened by the kernel
 * itself, never through us: those never arrive. A handler gets a zeroed
 * buffer at least as large as the command's encoded size. */
static void op_ioctl(fuse_req_t req, fuse_ino_t ino, int icmd, void *arg, struct fuse_file_info *fi, unsigned flags,
		     const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	EX(req);
	unsigned cmd = (unsigned)icmd; /* FUSE_USE_VERSION 34 passes the 32-bit command as int */
	if ((flags & FUSE_IOCTL_UNRESTRICTED) || _IOC_DIR(cmd) == _IOC_NONE || _IOC_SIZE(cmd) == 0) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	size_t size = _IOC_SIZE(cmd);
	if (in_bufsz > size)
		size = in_bufsz;
	if (out_bufsz > size)
		size = out_bufsz;
	char *buf = calloc(1, size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(buf, in_buf, in_bufsz);
	if (cmd == FS_IOC_MEASURE_VERITY) {
		/* The digest goes where the kernel has room for it. */
		struct fsverity_digest *d = (struct fsverity_digest *)buf;
		size_t room = out_bufsz > sizeof(*d) ? out_bufsz - sizeof(*d) : 0;
		if (d->digest_size > room)
			d->digest_size = (uint16_t)room;
	}
	long r = uvfs_ioctl(FH(fi), cmd, buf);
	/* MEASURE writes the size it needs back even on EOVERFLOW; FUSE
	 * returns data only with a result of 0 or more, as Linux's own
	 * ioctl copy-out does for these commands. */
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_ioctl(req, (int)r, out_bufsz ? buf : NULL, out_bufsz);
	free(buf);
}

/* ----------------------------------------------------------- directories */

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = open_handle(req, ino, O_RDONLY | O_DIRECTORY, 0);
	if (!h)
		return;
	fi->fh = (uint64_t)(uintptr_t)h;
	/* An overlay's directories change only through it (overlayfs.rst),
	 * so through this mount or with a notification: the kernel may keep
	 * their listings (fuse-overlayfs does; each listing of a 9p upper
	 * costs round trips). Changes through FUSE reset the kernel's copy. */
	if (!strcmp(uvfs_mount_fs(N(EX(req), ino)->vd.mount)->type->name, "overlay"))
		fi->cache_readdir = fi->keep_cache = 1;
	if (fuse_reply_open(req, fi))
		handle_free(EX(req), h);
}

struct rd {
	fuse_req_t req;
	struct uvfs_fuse *ex;
	struct node *dir;
	struct handle *dh;
	const struct uvfs_cred *cred;
	dev_t dev; /* the directory's filesystem, for d_ino mapping */
	double entry_to; /* for readdirplus entries */
	bool plus;
	bool attrs; /* plus, and looking entries up costs no I/O (in-memory fs) */
	char *buf;
	size_t size, used;
};

static int rd_emit(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next_off)
{
	struct rd *r = arg;
	char nm[256];
	if (len >= sizeof(nm))
		return 0; /* cannot happen: names are at most 255 bytes */
	memcpy(nm, name, len);
	nm[len] = 0;
	struct stat st = { .st_ino = map_ino(r->ex, r->dev, ino), .st_mode = (mode_t)dtype << 12 };
	size_t room = r->size - r->used, sz;
	if (!r->plus) {
		sz = fuse_add_direntry(r->req, r->buf + r->used, room, nm, &st, next_off);
		if (sz > room)
			return 1;
	} else {
		struct fuse_entry_param e = { .attr = st };
		struct node *nd = NULL;
		bool dots = nm[0] == '.' && (len == 1 || (len == 2 && nm[1] == '.'));
		if (!dots && r->attrs) {
			/* Each entry except . and .. counts a lookup. An entry
			 * that vanished meanwhile goes out without attributes
			 * (ino 0: the kernel does not link it). */
			struct uvfs_pathop p = pop_at(r->ex, r->dir, nm);
			struct uvfs_vd vd;
			if (!uvfs_get_dentry_at(r->ex->vfs, r->cred, &p, 0, &vd) &&
			    !make_entry(r->ex, r->cred, &vd, &e, &nd))
				e.entry_timeout = r->entry_to;
			else
				e = (struct fuse_entry_param){ .attr = st };
		}
		sz = fuse_add_direntry_plus(r->req, r->buf + r->used, room, nm, &e, next_off);
		if (sz > room) {
			if (nd)
				node_forget(r->ex, nd, 1);
			return 1;
		}
	}
	r->used += sz;
	r->dh->pos = next_off;
	return 0;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi, bool plus)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct handle *dh = H(fi);
	struct rd r = { .req = req, .ex = ex, .dir = N(ex, ino), .dh = dh, .cred = &cred, .plus = plus, .size = size };
	r.buf = malloc(size);
	if (!r.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	struct statx x;
	int err = stat_vd(ex, &cred, &r.dir->vd, &x);
	if (!err) {
		r.dev = makedev(x.stx_dev_major, x.stx_dev_minor);
		r.entry_to = r.dir->entry_to;
		/* Always readdirplus (op_init), but only an in-memory filesystem
		 * answers a lookup per entry for free; elsewhere the entries go
		 * out without attributes (ino 0: the kernel looks up on demand). */
		r.attrs = plus && (uvfs_mount_fs(r.dir->vd.mount)->flags & UVFS_FST_DCACHE_COMPLETE);
	}
	pthread_mutex_lock(&dh->lock);
	/* Seek only when the kernel asks for another offset: a seek would
	 * drop tmpfs's cursor and make big directories quadratic. */
	if (!err && off != dh->pos) {
		off_t o = uvfs_seek(dh->f, off, SEEK_SET);
		if (o < 0)
			err = (int)o;
		else
			dh->pos = off;
	}
	if (!err)
		err = uvfs_iterate_dir(dh->f, rd_emit, &r);
	pthread_mutex_unlock(&dh->lock);
	if (err && r.used == 0)
		fuse_reply_err(req, -err);
	else
		fuse_reply_buf(req, r.buf, r.used);
	free(r.buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	handle_free(EX(req), H(fi));
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	fuse_reply_err(req, -uvfs_fsync(FH(fi), datasync != 0));
}

/* ---------------------------------------------------------- misc ops */

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct uvfs_pathop p = pop_at(ex, N(ex, ino), NULL);
	struct statfs s;
	int err = uvfs_statfs_at(ex->vfs, &cred, &p, &s);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	struct statvfs v = {
		.f_bsize = (unsigned long)s.f_bsize,
		.f_frsize = (unsigned long)(s.f_frsize ? s.f_frsize : s.f_bsize),
		.f_blocks = s.f_blocks,
		.f_bfree = s.f_bfree,
		.f_bavail = s.f_bavail,
		.f_files = s.f_files,
		.f_ffree = s.f_ffree,
		.f_favail = s.f_ffree,
		.f_namemax = (unsigned long)s.f_namelen,
	};
	fuse_reply_statfs(req, &v);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct uvfs_pathop p = pop_at(ex, N(ex, ino), NULL);
	fuse_reply_err(req, -uvfs_setxattr_at(ex->vfs, &cred, &p, name, value, size, flags));
}

/* getxattr and listxattr: size 0 asks for the length. */
static void reply_xattr(fuse_req_t req, ssize_t n, char *buf, size_t size)
{
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct uvfs_pathop p = pop_at(ex, N(ex, ino), NULL);
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	reply_xattr(req, uvfs_getxattr_at(ex->vfs, &cred, &p, name, buf, size), buf, size);
	free(buf);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct uvfs_pathop p = pop_at(ex, N(ex, ino), NULL);
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	reply_xattr(req, uvfs_listxattr_at(ex->vfs, &cred, &p, buf, size), buf, size);
	free(buf);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct uvfs_pathop p = pop_at(ex, N(ex, ino), NULL);
	fuse_reply_err(req, -uvfs_removexattr_at(ex->vfs, &cred, &p, name));
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct uvfs_fuse *ex = EX(req);
	struct uvfs_cred cred;
	req_cred(req, &cred);
	struct uvfs_pathop p = pop_at(ex, N(ex, ino), NULL);
	fuse_reply_err(req, -uvfs_access_at(ex->vfs, &cred, &p, mask));
}

static const struct fuse_lowlevel_ops uvfs_fuse_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.symlink = op_symlink,
	.link = op_link,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.access = op_access,
	.lseek = op_lseek,
	.fallocate = op_fallocate,
	.ioctl = op_ioctl,
};

/* ------------------------------------------------------------- export */

/* The 3.2-era fuse_session_loop_mt of libfuse 3.14 warns about a max_threads
 * it was never given; the 3.12 config API is declared for every
 * FUSE_USE_VERSION and its loop is exported as fuse_session_loop_mt_312. */
int fuse_session_loop_mt_312(struct fuse_session *se, struct fuse_loop_config *config);

/* How many threads serve requests. Every idle worker waits on the one
 * /dev/fuse queue; with many more of them than CPUs, each request's
 * wake-up and the queue's spinlock cost CPU on both sides (on 2 CPUs, with
 * libfuse's default of 10, create and unlink of 20k files took about
 * twice the CPU time, client and server, of 2 workers). Our handlers run
 * on the CPU and never wait for each other, but one per CPU made dbench
 * collapse now and then on a loaded machine (a preempted worker stalls
 * half the pool), so two per CPU, at least 4. 9p requests wait for the
 * server, so a tree with a 9p mount keeps libfuse's 10. -o max_threads=N
 * sets it (libfuse's default, 10, reads as unset). */
#define LIBFUSE_DEFAULT_MAX_THREADS 10

static unsigned default_threads(struct uvfs_fuse *ex, unsigned asked)
{
	if (asked && asked != LIBFUSE_DEFAULT_MAX_THREADS)
		return asked;
	if (uvfs_mntns_for_each(ex->ns, &ex->root, find_9p, NULL) == 1)
		return LIBFUSE_DEFAULT_MAX_THREADS;
	long n = 2 * sysconf(_SC_NPROCESSORS_ONLN);
	return n < 4 ? 4 : n > LIBFUSE_DEFAULT_MAX_THREADS ? LIBFUSE_DEFAULT_MAX_THREADS : (unsigned)n;
}

static int loop_mt(struct fuse_session *se, int clone_fd, unsigned idle, unsigned max_threads)
{
	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	if (!lc)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(lc, (unsigned)clone_fd);
	if (idle && idle <= 10000) /* libfuse's "unset" is UINT_MAX */
		fuse_loop_cfg_set_idle_threads(lc, idle);
	fuse_loop_cfg_set_max_threads(lc, max_threads);
	int rc = fuse_session_loop_mt_312(se, lc);
	fuse_loop_cfg_destroy(lc);
	return rc;
}

static int export_init(struct uvfs_fuse *ex, struct uvfs *vfs, struct uvfs_mntns *ns, const struct uvfs_fuse_config *cfg)
{
	ex->vfs = vfs;
	ex->ns = ns;
	ex->cfg = cfg ? *cfg : (struct uvfs_fuse_config){ .entry_timeout = -1, .attr_timeout = -1 };
	pthread_mutex_init(&ex->lock, NULL);
	pthread_mutex_init(&ex->fh_lock, NULL);
	pthread_mutex_init(&ex->qlock, NULL);
	pthread_cond_init(&ex->qwake, NULL);
	pthread_cond_init(&ex->qdone, NULL);
	ex->qtail = &ex->qhead;
	ex->handles.next = ex->handles.prev = &ex->handles;
	ex->nbuckets = 1024;
	ex->buckets = calloc(ex->nbuckets, sizeof(*ex->buckets));
	if (!ex->buckets)
		return -ENOMEM;
	uvfs_mntns_root(ns, &ex->root);
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	struct statx x;
	int err = stat_vd(ex, &cred, &ex->root, &x);
	if (err)
		return err;
	ex->rootdev = makedev(x.stx_dev_major, x.stx_dev_minor);
	struct uvfs_vd vd = ex->root;
	uvfs_vd_get(&vd);
	ex->rootnode = node_get(ex, &vd, x.stx_ino);
	return ex->rootnode ? 0 : -ENOMEM;
}

/* Puts every reference the export holds (not vfs or ns). */
static void export_fini(struct uvfs_fuse *ex)
{
	watch_stop(ex);
	/* Files the kernel never released (the server stopped first). */
	while (ex->handles.next && ex->handles.next != &ex->handles)
		handle_free(ex, ex->handles.next);
	pthread_mutex_destroy(&ex->fh_lock);
	if (ex->buckets)
		table_clear(ex);
	free(ex->buckets);
	ex->buckets = NULL;
	if (uvfs_vd_ok(&ex->root))
		uvfs_vd_put(&ex->root);
	pthread_mutex_destroy(&ex->lock);
	pthread_mutex_destroy(&ex->qlock);
	pthread_cond_destroy(&ex->qwake);
	pthread_cond_destroy(&ex->qdone);
}

UVFS_API bool uvfs_report_teardown(int destroy_rc, const struct uvfs_live *l)
{
	long total = l->dentries + l->inodes + l->mounts + l->mntns + l->files + l->filesystems;
	if (total == 0 && destroy_rc == 0) {
		fprintf(stderr, "uvfs: teardown: 0 live objects\n");
		return true;
	}
	fprintf(stderr,
		"uvfs: teardown: %ld live objects (dentries %ld, inodes %ld, mounts %ld, mntns %ld, files %ld, "
		"filesystems %ld)%s\n",
		total, l->dentries, l->inodes, l->mounts, l->mntns, l->files, l->filesystems,
		destroy_rc && !total ? " (destroy failed)" : "");
	return false;
}

/* libfuse reports a failed mount in its own words on its own line; while
 * mounting, keep its errors and fold them into our one-line message. */
static _Thread_local bool log_capture;
static _Thread_local char log_captured[256];

static void fuse_log_fn(enum fuse_log_level level, const char *fmt, va_list ap)
{
	if (log_capture && level <= FUSE_LOG_ERR) {
		vsnprintf(log_captured, sizeof(log_captured), fmt, ap);
		log_captured[strcspn(log_captured, "\n")] = 0;
		return;
	}
	vfprintf(stderr, fmt, ap);
}

static int session_mount(struct fuse_session *se, const char *mp)
{
	fuse_set_log_func(fuse_log_fn);
	log_capture = true;
	log_captured[0] = 0;
	int rc = fuse_session_mount(se, mp);
	log_capture = false;
	return rc;
}

/* Is mp already the mount point of a FUSE filesystem (/proc/self/mountinfo)? */
static bool fuse_mounted_at(const char *mp)
{
	char real[4096];
	if (!realpath(mp, real))
		return false;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return false;
	char line[8192];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		/* id parent maj:min root mountpoint opts... - fstype source super */
		char mpt[4096], fstype[256];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mpt) != 1 || sscanf(dash + 3, "%255s", fstype) != 1)
			continue;
		found = !strcmp(mpt, real) && !strncmp(fstype, "fuse", 4);
	}
	fclose(f);
	return found;
}

/* One-line checks before libfuse's own messages. */
static int check_mountpoint(const char *mp)
{
	if (access("/dev/fuse", R_OK | W_OK)) {
		fprintf(stderr, "uvfs: /dev/fuse: %s (FUSE is not available here; try `uvfs ls /` instead)\n",
			strerror(errno));
		return -1;
	}
	struct stat st;
	if (stat(mp, &st)) {
		if (errno == ENOTCONN)
			fprintf(stderr, "uvfs: %s: busy (a dead FUSE mount; run fusermount3 -u %s)\n", mp, mp);
		else
			fprintf(stderr, "uvfs: bad mount point %s: %s\n", mp, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "uvfs: bad mount point %s: %s\n", mp, strerror(ENOTDIR));
		return -1;
	}
	if (fuse_mounted_at(mp)) {
		fprintf(stderr, "uvfs: %s: busy (already a FUSE mount point; unmount it first)\n", mp);
		return -1;
	}
	return 0;
}

struct cli_opts {
	double entry_timeout, attr_timeout;
	int writeback;
	unsigned max_read;
};

static const struct fuse_opt uvfs_opts[] = {
	{ "entry_timeout=%lf", offsetof(struct cli_opts, entry_timeout), 0 },
	{ "attr_timeout=%lf", offsetof(struct cli_opts, attr_timeout), 0 },
	{ "writeback=%d", offsetof(struct cli_opts, writeback), 0 },
	{ "max_read=%u", offsetof(struct cli_opts, max_read), 0 }, /* also kept for libfuse: uvfs_fuse_main */
	FUSE_OPT_END,
};

/* ------------------------------------------------ the view's options */

enum { VIEW_UID, VIEW_GID, VIEW_UMASK, VIEW_MAP, VIEW_KERNEL_CACHE };
static const struct fuse_opt view_opts[] = {
	FUSE_OPT_KEY("uid=", VIEW_UID),
	FUSE_OPT_KEY("gid=", VIEW_GID),
	FUSE_OPT_KEY("umask=", VIEW_UMASK),
	FUSE_OPT_KEY("map=", VIEW_MAP),
	FUSE_OPT_KEY("kernel_cache", VIEW_KERNEL_CACHE),
	FUSE_OPT_END,
};

/* A user or group: a number, or a name of the host's passwd/group. */
static bool parse_id(const char *s, bool group, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s && !*end && !errno && v < UINT32_MAX && s[0] != '-') {
		*out = (uint32_t)v;
		return true;
	}
	if (group) {
		struct group gb, *g = NULL;
		char buf[4096];
		if (getgrnam_r(s, &gb, buf, sizeof(buf), &g) || !g)
			return false;
		*out = g->gr_gid;
	} else {
		struct passwd pb, *pw = NULL;
		char buf[4096];
		if (getpwnam_r(s, &pb, buf, sizeof(buf), &pw) || !pw)
			return false;
		*out = pw->pw_uid;
	}
	return true;
}

/* map=A/B:@C/@D:... (bindfs --map): users A shown as B, groups @C as @D. */
static bool parse_map(struct view *v, const char *s)
{
	char *copy = strdup(s), *save = NULL;
	bool ok = copy != NULL;
	for (char *p = copy ? strtok_r(copy, ":", &save) : NULL; p && ok; p = strtok_r(NULL, ":", &save)) {
		char *slash = strchr(p, '/');
		bool group = p[0] == '@';
		ok = slash && v->nmap < VIEW_MAX_MAP && (slash[1] == '@') == group;
		if (!ok)
			break;
		*slash = 0;
		struct view_map *m = &v->map[v->nmap];
		m->group = group;
		ok = parse_id(p + group, group, &m->from) && parse_id(slash + 1 + group, group, &m->to);
		v->nmap += ok;
	}
	free(copy);
	return ok && v->nmap;
}

static int view_opt(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct view *v = data;
	const char *val = strchr(arg, '=');
	val = val ? val + 1 : "";
	uint32_t id;
	char *end;
	switch (key) {
	case VIEW_UID:
	case VIEW_GID:
		if (!parse_id(val, key == VIEW_GID, &id))
			break;
		*(key == VIEW_UID ? &v->uid : &v->gid) = id;
		return 0;
	case VIEW_UMASK: {
		unsigned long m = strtoul(val, &end, 8);
		if (!*val || *end || m > 07777)
			break;
		v->umask = (uint32_t)m;
		return 0;
	}
	case VIEW_MAP:
		if (!parse_map(v, val))
			break;
		return 0;
	case VIEW_KERNEL_CACHE:
		v->kernel_cache = true;
		return 0;
	default:
		return 1; /* everything else is libfuse's */
	}
	fprintf(stderr, "uvfs: invalid option '%s'%s\n", arg,
		key == VIEW_MAP ? " (expected map=USER/USER:@GROUP/@GROUP...)" : "");
	return -1;
}

/* Takes the view's options out of args into v. 0, or -1 (message printed). */
static int view_parse(struct fuse_args *args, struct view *v)
{
	*v = (struct view){ .uid = -1, .gid = -1 };
	return fuse_opt_parse(args, v, view_opts, view_opt);
}

/* Always on: the kernel checks mode bits with the caller's real credentials
 * wherever it does not ask us (see the top of the file). */
#define MOUNT_OPTS "-ofsname=uvfs,subtype=uvfs,default_permissions"

static void print_help(const char *prog)
{
	printf("usage: %s mount [options] MOUNTPOINT\n\n"
	       "Exports the uvfs default tree through FUSE. Unmount with\n"
	       "`fusermount3 -u MOUNTPOINT` or SIGINT/SIGTERM.\n\n"
	       "uvfs options:\n"
	       "    -o entry_timeout=SECS  cache names this long (default: per filesystem, tmpfs 1)\n"
	       "    -o attr_timeout=SECS   cache attributes this long (default: per filesystem, tmpfs 1)\n"
	       "    -o writeback=0         no kernel writeback cache: each write() reaches uvfs at once\n"
	       "    -o uid=N,gid=N         show every file as owned by N (as sshfs; checks unchanged)\n"
	       "    -o umask=M             clear mode bits M in what is shown (and what the kernel checks)\n"
	       "    -o map=U/V:@G/@H       idmapped view (as bindfs --map): owner U shown as V, and\n"
	       "                           caller V acts as U; groups likewise\n"
	       "    -o kernel_cache        keep file contents cached across opens on every filesystem\n"
	       "    -o allow_other         let every user in; the kernel and uvfs check permissions\n"
	       "                           with each caller's real ids, groups and capabilities\n\n",
	       prog);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

UVFS_API int uvfs_fuse_main(int argc, char **argv, uvfs_fuse_build_fn build, void *arg)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct cli_opts co = { .entry_timeout = -1, .attr_timeout = -1, .writeback = 1 };
	struct uvfs_fuse ex;
	int ret = 1;

	memset(&ex, 0, sizeof(ex));
	memset(&opts, 0, sizeof(opts));
	/* libfuse rejects a bad mount point as a usage error; we want our
	 * one-line message and exit 1, so look at it first. */
	const char *mp = NULL;
	bool info = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o"))
			i++;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-V") ||
			 !strcmp(argv[i], "--version"))
			info = true;
		else if (argv[i][0] != '-' && !mp)
			mp = argv[i];
	}
	if (mp && !info && check_mountpoint(mp))
		return 1;
	if (fuse_parse_cmdline(&args, &opts) != 0) {
		fuse_opt_free_args(&args);
		return 2;
	}
	if (opts.show_help) {
		print_help("uvfs");
		ret = 0;
		goto out_args;
	}
	if (opts.show_version) {
		printf("uvfs %s\n", UVFS_VERSION);
		fuse_lowlevel_version();
		ret = 0;
		goto out_args;
	}
	if (!opts.mountpoint) {
		fprintf(stderr, "uvfs: mount: no mount point given (try `uvfs mount --help`)\n");
		ret = 2;
		goto out_args;
	}
	if (fuse_opt_parse(&args, &co, uvfs_opts, NULL) == -1 || view_parse(&args, &ex.view) == -1) {
		ret = 2;
		goto out_args;
	}
	/* Name the mount in /proc/mounts; a user's -o fsname= comes later and wins. */
	fuse_opt_insert_arg(&args, 1, MOUNT_OPTS);
	ex.cfg = (struct uvfs_fuse_config){ co.entry_timeout, co.attr_timeout, !co.writeback };
	if ((ex.max_read = co.max_read)) {
		char mr[32];
		snprintf(mr, sizeof(mr), "-omax_read=%u", co.max_read);
		fuse_opt_add_arg(&args, mr);
	}

	struct fuse_session *se = fuse_session_new(&args, &uvfs_fuse_ops, sizeof(uvfs_fuse_ops), &ex);
	if (!se)
		goto out_args;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (session_mount(se, opts.mountpoint) != 0) {
		fprintf(stderr, "uvfs: cannot mount on %s: %s\n", opts.mountpoint,
			log_captured[0] ? log_captured : "libfuse refused");
		goto out_signals;
	}
	fuse_daemonize(opts.foreground);

	struct uvfs *vfs = NULL;
	struct uvfs_mntns *ns = NULL;
	int err = build(arg, &vfs, &ns);
	if (err) {
		fprintf(stderr, "uvfs: building the tree: %s\n", strerror(-err));
		goto out_unmount;
	}
	struct uvfs_fuse_config cfg = ex.cfg;
	err = export_init(&ex, vfs, ns, &cfg);
	if (err) {
		fprintf(stderr, "uvfs: export: %s\n", strerror(-err));
	} else {
		int lrc;
		ex.se = se;
		watch_start(&ex);
		if (opts.singlethread) {
			lrc = fuse_session_loop(se);
		} else {
			lrc = loop_mt(se, opts.clone_fd, opts.max_idle_threads, default_threads(&ex, opts.max_threads));
		}
		ret = lrc < 0 ? 1 : 0; /* a signal (lrc > 0) is a normal stop */
		if (lrc > 0)
			uvfs_log(UVFS_LOG_INFO, "fuse: %s: signal %d, unmounting", opts.mountpoint, lrc);
		else if (lrc == 0)
			uvfs_log(UVFS_LOG_INFO, "fuse: %s: unmounted from outside (fusermount3 -u, umount)",
				 opts.mountpoint);
		else
			uvfs_log(UVFS_LOG_ERROR, "fuse: %s: session loop: %s, unmounting", opts.mountpoint,
				 strerror(-lrc));
		watch_stop(&ex);
	}
	fuse_session_unmount(se);
	export_fini(&ex);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	memset(&live, 0, sizeof(live));
	int drc = uvfs_destroy(vfs, &live);
	if (!uvfs_report_teardown(drc, &live))
		ret = 3;
	goto out_signals;
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_args:
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}

/* ------------------------------------------------ background export */

static void *loop_thread(void *arg)
{
	struct uvfs_fuse *ex = arg;
	loop_mt(ex->se, 0, 0, default_threads(ex, 0));
	return NULL;
}

UVFS_API int uvfs_fuse_start(struct uvfs *vfs, struct uvfs_mntns *ns, const char *mountpoint, const char *options,
			     const struct uvfs_fuse_config *cfg, struct uvfs_fuse **out)
{
	if (access("/dev/fuse", R_OK | W_OK))
		return -errno;
	struct uvfs_fuse *ex = calloc(1, sizeof(*ex));
	if (!ex)
		return -ENOMEM;
	int err = export_init(ex, vfs, ns, cfg);
	if (err)
		goto fail;
	char *argv[4] = { "uvfs", MOUNT_OPTS, NULL, NULL };
	char optbuf[1024];
	int argc = 2;
	if (options && *options) {
		snprintf(optbuf, sizeof(optbuf), "-o%s", options);
		argv[argc++] = optbuf;
	}
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	err = -EINVAL;
	if (view_parse(&args, &ex->view) == -1) {
		fuse_opt_free_args(&args);
		goto fail;
	}
	ex->se = fuse_session_new(&args, &uvfs_fuse_ops, sizeof(uvfs_fuse_ops), ex);
	fuse_opt_free_args(&args);
	if (!ex->se)
		goto fail;
	err = -EIO;
	if (session_mount(ex->se, mountpoint) != 0) {
		uvfs_log(UVFS_LOG_WARN, "fuse: cannot mount on %s: %s", mountpoint,
			 log_captured[0] ? log_captured : "libfuse refused");
		goto fail;
	}
	ex->mounted = true;
	watch_start(ex);
	if ((err = -pthread_create(&ex->thread, NULL, loop_thread, ex)))
		goto fail;
	ex->thread_started = true;
	*out = ex;
	return 0;
fail:
	uvfs_fuse_stop(ex);
	return err;
}

UVFS_API void uvfs_fuse_stop(struct uvfs_fuse *ex)
{
	if (!ex)
		return;
	if (ex->se) {
		if (ex->mounted) {
			uvfs_log(UVFS_LOG_INFO, "fuse: export stopped, unmounting");
			/* Unmounting ends the connection, which ends the loop. */
			fuse_session_exit(ex->se);
			fuse_session_unmount(ex->se);
		}
		if (ex->thread_started)
			pthread_join(ex->thread, NULL);
		watch_stop(ex); /* the notifier uses the session */
		fuse_session_destroy(ex->se);
	}
	export_fini(ex);
	free(ex);
}
