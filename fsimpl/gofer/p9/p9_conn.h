/* fsimpl/gofer/p9_conn.h — the client's connection core (internal):
 * tags, reading replies, cancellation, fid numbers.  p9_client.c builds
 * the per-message calls on top of it. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "fsimpl/gofer/p9/p9_wire.h"

#define P9_NOTAG 0xffffu
/* Tags kept back for Tflush so that cancelling can always make progress
 * even when every other tag belongs to a call waiting to be flushed. */
#define P9_FLUSH_RESERVE 8u
/* Deadlines of the calls that cannot be cancelled (p9_wait): Tversion
 * when no per-call timeout is set, and Tflush at least this long (or the
 * per-call timeout if longer); past them the connection is dead. */
#define P9_VERSION_TIMEOUT_MS 10000u
#define P9_FLUSH_GRACE_MS 1000u

/* Messages the server answered EOPNOTSUPP to (diod 1.0.24 lacks both):
 * later calls go straight to the walk+Tremove / walk+Trename fallback. */
#define P9_QUIRK_NO_UNLINKAT 0x1u
#define P9_QUIRK_NO_RENAMEAT 0x2u

/* One request in flight.  Lives on the caller's stack; registered in
 * c->reqs[tag] from send until its owner retires it.  Fields marked (mu)
 * are protected by the client's mu.  Whoever is the reader may write
 * rdst/rmsg of any registered request outside the lock, between finding
 * it by tag and marking it done; the owner never returns before done. */
struct p9_req {
	uint16_t tag;        /* set at registration, then immutable */
	uint8_t ttype;       /* T-message type sent; immutable */
	bool is_flush;       /* immutable */
	bool nocancel;       /* immutable: no timeout/interrupt (Tclunk, Tremove:
	                      * a fid must never be left half-released) */
	bool orphan;         /* immutable: heap-allocated, nobody waits; whoever
	                      * completes or fails it retires and frees it */
	uint32_t orphan_fid; /* immutable: fid released when an orphan retires */
	void *rdst;          /* zero-copy Rread destination or NULL; immutable */
	uint32_t rcap;       /* bytes asked for (Tread count); immutable */
	pthread_cond_t cv;   /* signalled on completion, cancellation, hand-off */
	bool done;           /* (mu) reply or failure delivered */
	bool cancel;         /* (mu) uvfs_p9_interrupt asked to cancel */
	bool sleeping;       /* (mu) owner is blocked on cv (may take over reading) */
	int err;             /* (mu) transport error if done without reply */
	uint8_t *rmsg;       /* (mu) whole reply (malloc), owned by the req */
	uint32_t rlen;       /* (mu) */
	bool zc;             /* (mu) Rread payload went straight to rdst */
	uint32_t zc_count;   /* (mu) its count */
};

/* Receive buffer; owned by whichever caller currently has c->reading. */
struct p9_rxbuf {
	uint8_t *buf;
	size_t pos, end;
};

struct p9_direct;

struct uvfs_p9_client {
	/* Immutable: non-NULL for a direct client (p9_direct.c), whose calls
	 * never reach the wire fields below (left unset). */
	struct p9_direct *direct;
	int rfd, wfd;     /* immutable after connect; closed by uvfs_p9_close */
	bool wsock;       /* wfd is a socket (MSG_NOSIGNAL works); immutable */
	int wakefd;       /* eventfd: readable once the connection is dead */
	int kickfd;       /* eventfd: wakes the reader to look at cancellations */
	uint32_t msize;   /* atomic: negotiated by Tversion, read by the reader */
	uint32_t timeout_ms; /* atomic */
	uint32_t quirks;  /* atomic: P9_QUIRK_* learnt from the server's replies */
	uvfs_p9_reply_hook hook; /* atomic; swap it only while no call runs */
	void *hook_arg;   /* atomic */

	pthread_mutex_t mu;
	pthread_cond_t tag_cv;  /* (mu) signalled when a tag frees up */
	bool reading;           /* (mu) some caller is reading the stream */
	struct p9_rxbuf rx;     /* owned by the caller that set `reading` */
	uint32_t max_tags;      /* immutable */
	struct p9_req **reqs;   /* (mu) [max_tags + 1], last slot = NOTAG */
	uint16_t *free_tags;    /* (mu) stack of free tags */
	uint32_t nfree;         /* (mu) */
	int dead;               /* (mu) 0 or the -errno every call now gets */
	uint64_t nrequests;     /* (mu) stats */
	uint64_t nflushes;      /* (mu) stats */
	uint64_t nrounds;       /* (mu) stats: sends by a caller with nothing else in flight */
	uint32_t tag_waiters;   /* (mu) callers waiting in p9_send for a tag */

	pthread_mutex_t wmu;    /* serialises whole messages onto wfd */

	pthread_mutex_t fidmu;
	uint32_t next_fid;      /* (fidmu) never-used fids start here */
	uint32_t *free_fids;    /* (fidmu) stack of clunked fids for reuse */
	size_t nfree_fids, cap_free_fids; /* (fidmu) */
	uint64_t fids_in_use;   /* (fidmu) */
};

int p9_conn_init(struct uvfs_p9_client *c, int rfd, int wfd, const struct uvfs_p9_opts *o);
void p9_conn_destroy(struct uvfs_p9_client *c);

/* Registers req (allocating a tag, or NOTAG when notag), patches the tag
 * into msg and sends msg followed by data.  On failure nothing is
 * registered. */
int p9_send(struct uvfs_p9_client *c, struct p9_req *req, uint8_t *msg, size_t len,
	    const void *data, size_t dlen, bool notag);
/* Same; with nowait, -EAGAIN instead of waiting for a free tag.  A caller
 * that already has requests in flight must not wait for tags: tags are
 * only returned by their owners, and an owner stuck here returns none. */
int p9_send_ex(struct uvfs_p9_client *c, struct p9_req *req, uint8_t *msg, size_t len,
	       const void *data, size_t dlen, bool notag, bool nowait);
/* Waits for req, reading the stream itself when nobody else is (cancelling
 * with Tflush on timeout or interrupt), then decodes the reply into r.
 * Always retires req; the caller frees the reply with p9_req_free after
 * reading r (strings in r point into it). */
int p9_wait(struct uvfs_p9_client *c, struct p9_req *req, struct p9_rmsg *r);
void p9_req_init(struct p9_req *req, uint8_t ttype, void *rdst, uint32_t rcap);
void p9_req_free(struct p9_req *req);
/* Wakes the current reader so it notices cancellations. */
void p9_kick(struct uvfs_p9_client *c);

int p9_fid_alloc(struct uvfs_p9_client *c, uint32_t *fid);
void p9_fid_free(struct uvfs_p9_client *c, uint32_t fid);
