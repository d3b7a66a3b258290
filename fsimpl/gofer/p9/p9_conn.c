/* fsimpl/gofer/p9_conn.c — connection core of the 9P client.
 *
 * Callers send their own messages (whole messages under wmu, so frames
 * never interleave) and then wait.  There is no receiver thread: a waiter
 * that finds nobody reading becomes the reader ("leader/follower"), reads
 * replies, completes whichever request each belongs to (by tag) and keeps
 * going until its own reply is in; then it hands the role to a sleeping
 * waiter, if any.  A lone caller thus reads its own reply with no thread
 * switch on our side, and many callers still share one connection.
 *
 * When the stream ends or turns out malformed, the reader fails every
 * registered request and new ones are refused, so nobody hangs on a dead
 * server.  The fds are non-blocking and every wait polls an eventfd that
 * turns readable when the connection is killed (pipes, unlike sockets,
 * cannot be shut down to wake a blocked reader), plus a kick eventfd that
 * makes the reader look at cancellations between frames. */
#include "fsimpl/gofer/p9/p9_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RXBUF (64u * 1024u)

static void fail_all_locked(struct uvfs_p9_client *c, int err);

static int load_dead(struct uvfs_p9_client *c)
{
	pthread_mutex_lock(&c->mu);
	int d = c->dead;
	pthread_mutex_unlock(&c->mu);
	return d ? d : -ECONNRESET;
}

/* Marks the connection dead (first error wins) and wakes every poller.
 * With nobody reading, the waiting calls (and pending async clunks) are
 * failed right here; otherwise the reader does it when it sees wakefd. */
static void conn_kill(struct uvfs_p9_client *c, int err)
{
	pthread_mutex_lock(&c->mu);
	if (!c->dead)
		c->dead = err;
	if (!c->reading)
		fail_all_locked(c, err);
	pthread_cond_broadcast(&c->tag_cv);
	pthread_mutex_unlock(&c->mu);
	uint64_t one = 1;
	ssize_t n = write(c->wakefd, &one, sizeof(one));
	(void)n; /* eventfd saturation is harmless: it is already readable */
}

#define P9_RX_IDLE 1 /* reader stopped between frames (deadline or kick) */

/* Milliseconds left until *dl (rounded up), for poll. */
static int ms_left(const struct timespec *dl)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ns = (long long)(dl->tv_sec - now.tv_sec) * 1000000000LL + (dl->tv_nsec - now.tv_nsec);
	if (ns <= 0)
		return 0;
	return (int)((ns + 999999) / 1000000);
}

/* Waits until fd is ready for `ev` or the connection is killed.  With
 * idle_ok, a kick or passing *dl returns P9_RX_IDLE; otherwise kicks are
 * consumed and ignored (the reader is in the middle of a frame).  With
 * idle_ok and or_writable, the request fd turning writable also returns
 * P9_RX_IDLE: a writer that took the reader role must go back to writing
 * when the server waits for the rest of its request rather than replying. */
static int wait_fd(struct uvfs_p9_client *c, int fd, short ev, bool idle_ok, const struct timespec *dl,
		   bool or_writable)
{
	struct pollfd p[4] = { { .fd = fd, .events = ev },
			       { .fd = c->wakefd, .events = POLLIN },
			       { .fd = c->kickfd, .events = POLLIN },
			       { .fd = c->wfd, .events = POLLOUT } };
	nfds_t np = idle_ok && or_writable ? 4 : 3;
	for (;;) {
		int tmo = idle_ok && dl ? ms_left(dl) : -1;
		int n = poll(p, np, tmo);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (p[1].revents)
			return load_dead(c);
		if (p[2].revents) {
			uint64_t v;
			ssize_t k = read(c->kickfd, &v, sizeof(v));
			(void)k;
			if (idle_ok)
				return P9_RX_IDLE;
		}
		if (p[0].revents)
			return 0; /* ready, or HUP/ERR: the next read/write reports it */
		if (np == 4 && p[3].revents)
			return P9_RX_IDLE;
		if (n == 0)
			return P9_RX_IDLE; /* only reachable with idle_ok && dl */
	}
}

void p9_kick(struct uvfs_p9_client *c)
{
	uint64_t one = 1;
	ssize_t n = write(c->kickfd, &one, sizeof(one));
	(void)n;
}

static int rx_one(struct uvfs_p9_client *c, const struct timespec *dl, bool or_writable);
static void orphan_retire_locked(struct uvfs_p9_client *c, struct p9_req *req);
static void hand_off_locked(struct uvfs_p9_client *c);

/* ------------------------------------------------------------ sending */

static bool is_socket(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* writev that cannot raise SIGPIPE: sockets use MSG_NOSIGNAL; for pipes
 * the signal is blocked around the call and a pending one consumed. */
static ssize_t write_nosig(struct uvfs_p9_client *c, struct iovec *iov, int n, bool sock)
{
	if (sock) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		return sendmsg(c->wfd, &mh, MSG_NOSIGNAL);
	}
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	ssize_t r = writev(c->wfd, iov, n);
	int e = errno;
	if (r < 0 && e == EPIPE) {
		struct timespec zero = { 0, 0 };
		sigset_t pending;
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return r;
}

/* Waits for room to write.  A server may stop reading requests while its
 * replies back up; if nobody is reading them, this writer does, so callers
 * blocked in writes can never starve the stream. */
static int wait_writable(struct uvfs_p9_client *c)
{
	struct pollfd p[3] = { { .fd = c->wfd, .events = POLLOUT },
			       { .fd = c->wakefd, .events = POLLIN },
			       { .fd = c->rfd, .events = POLLIN } };
	bool other_reads = false;
	for (;;) {
		/* While someone else reads, rfd stays readable: leave it out,
		 * but look again soon, as that reader may stop at any time. */
		int n = poll(p, other_reads ? 2 : 3, other_reads ? 10 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (p[1].revents)
			return load_dead(c);
		if (p[0].revents)
			return 0;
		if (other_reads || !p[2].revents) {
			other_reads = false;
			continue;
		}
		pthread_mutex_lock(&c->mu);
		bool mine = !c->reading && !c->dead;
		if (mine)
			c->reading = true;
		pthread_mutex_unlock(&c->mu);
		if (!mine) {
			other_reads = true;
			continue;
		}
		/* rfd looked readable, but the reader before us may have
		 * taken those bytes: stop as soon as we can write again. */
		int err = rx_one(c, NULL, true);
		pthread_mutex_lock(&c->mu);
		c->reading = false;
		if (err < 0)
			fail_all_locked(c, err);
		hand_off_locked(c);
		pthread_mutex_unlock(&c->mu);
		if (err < 0)
			return err;
	}
}

static int send_all(struct uvfs_p9_client *c, struct iovec *iov, int n)
{
	int err = 0;
	pthread_mutex_lock(&c->wmu);
	while (n > 0) {
		ssize_t w = write_nosig(c, iov, n, c->wsock);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				err = wait_writable(c);
				if (err)
					break;
				continue;
			}
			err = errno == EPIPE ? -ECONNRESET : -errno;
			break;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	pthread_mutex_unlock(&c->wmu);
	/* A half-sent frame desynchronises the stream: the connection is over. */
	if (err)
		conn_kill(c, err);
	return err;
}

void p9_req_init(struct p9_req *req, uint8_t ttype, void *rdst, uint32_t rcap)
{
	memset(req, 0, sizeof(*req));
	req->ttype = ttype;
	req->rdst = rdst;
	req->rcap = rcap;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&req->cv, &ca);
	pthread_condattr_destroy(&ca);
}

void p9_req_free(struct p9_req *req)
{
	free(req->rmsg);
	req->rmsg = NULL;
	pthread_cond_destroy(&req->cv);
}

int p9_send(struct uvfs_p9_client *c, struct p9_req *req, uint8_t *msg, size_t len, const void *data,
	    size_t dlen, bool notag)
{
	return p9_send_ex(c, req, msg, len, data, dlen, notag, false);
}

int p9_send_ex(struct uvfs_p9_client *c, struct p9_req *req, uint8_t *msg, size_t len, const void *data,
	       size_t dlen, bool notag, bool nowait)
{
	uint32_t slot;
	if (len + dlen > __atomic_load_n(&c->msize, __ATOMIC_RELAXED))
		return -EMSGSIZE;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		if (c->dead) {
			int err = c->dead;
			pthread_mutex_unlock(&c->mu);
			return err;
		}
		if (notag) {
			if (!c->reqs[c->max_tags]) {
				slot = c->max_tags;
				req->tag = P9_NOTAG;
				break;
			}
		} else if (c->nfree > (req->is_flush ? 0 : P9_FLUSH_RESERVE)) {
			slot = c->free_tags[--c->nfree];
			req->tag = (uint16_t)slot;
			break;
		}
		if (nowait) {
			pthread_mutex_unlock(&c->mu);
			return -EAGAIN;
		}
		/* Tags come back when their owners retire them, or - for
		 * orphans (async clunks) - when someone reads their replies:
		 * with nobody reading, that someone is us. */
		c->tag_waiters++;
		if (!c->reading) {
			c->reading = true;
			pthread_mutex_unlock(&c->mu);
			int err = rx_one(c, NULL, false);
			pthread_mutex_lock(&c->mu);
			c->reading = false;
			if (err < 0)
				fail_all_locked(c, err);
			hand_off_locked(c);
		} else {
			pthread_cond_wait(&c->tag_cv, &c->mu);
		}
		c->tag_waiters--;
	}
	c->reqs[slot] = req;
	c->nrequests++;
	/* A round trip: a caller sending with nothing of its own in flight
	 * (pipelined requests go with nowait; async clunks wait for nobody). */
	if (!nowait && !req->orphan && !req->is_flush)
		c->nrounds++;
	uint16_t tag = req->tag; /* an orphan may be freed once we unlock */
	pthread_mutex_unlock(&c->mu);

	msg[5] = (uint8_t)tag;
	msg[6] = (uint8_t)(tag >> 8);
	struct iovec iov[2] = { { msg, len }, { (void *)data, dlen } };
	/* On failure the request stays registered and is failed by whoever
	 * reads next, so the caller's p9_wait is the one place results come
	 * from. */
	send_all(c, iov, dlen ? 2 : 1);
	return 0;
}

/* ------------------------------------------------------------ receiving */

/* Makes at least `need` (<= RXBUF) bytes available in the buffer.  With
 * idle_ok (nothing of a frame read yet) a deadline or kick may stop it. */
static int rx_fill(struct uvfs_p9_client *c, struct p9_rxbuf *b, size_t need, bool idle_ok,
		   const struct timespec *dl, bool or_writable)
{
	if (b->end - b->pos >= need)
		return 0;
	if (RXBUF - b->pos < need) {
		memmove(b->buf, b->buf + b->pos, b->end - b->pos);
		b->end -= b->pos;
		b->pos = 0;
	}
	while (b->end - b->pos < need) {
		ssize_t n = read(c->rfd, b->buf + b->end, RXBUF - b->end);
		if (n > 0) {
			b->end += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return errno == EPIPE ? -ECONNRESET : -errno;
		int err = wait_fd(c, c->rfd, POLLIN, idle_ok && b->end == b->pos, dl, or_writable);
		if (err)
			return err;
	}
	return 0;
}

/* Moves n bytes of the stream to dst: what is buffered, then straight from
 * the fd (large payloads skip the bounce buffer). */
static int rx_take(struct uvfs_p9_client *c, struct p9_rxbuf *b, uint8_t *dst, size_t n)
{
	size_t have = b->end - b->pos;
	size_t k = have < n ? have : n;
	memcpy(dst, b->buf + b->pos, k);
	b->pos += k;
	if (b->pos == b->end)
		b->pos = b->end = 0;
	while (k < n) {
		ssize_t r = read(c->rfd, dst + k, n - k);
		if (r > 0) {
			k += (size_t)r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		int err = wait_fd(c, c->rfd, POLLIN, false, NULL, false);
		if (err)
			return err;
	}
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads and routes one reply (caller holds the reader role, not mu).
 * Returns 0, P9_RX_IDLE, or -errno when the stream is unusable. */
static int rx_one(struct uvfs_p9_client *c, const struct timespec *dl, bool or_writable)
{
	struct p9_rxbuf *b = &c->rx;
	struct p9_hdr h;
	int err = rx_fill(c, b, P9_HDRSZ, true, dl, or_writable);
	if (err)
		return err;
	if (p9_parse_hdr(b->buf + b->pos, P9_HDRSZ, __atomic_load_n(&c->msize, __ATOMIC_RELAXED), &h))
		return -EPROTO;

	pthread_mutex_lock(&c->mu);
	uint32_t slot = h.tag == P9_NOTAG ? c->max_tags : h.tag;
	struct p9_req *req = slot <= c->max_tags ? c->reqs[slot] : NULL;
	bool ok = req && !req->done;
	pthread_mutex_unlock(&c->mu);
	if (!ok)
		return -EPROTO; /* a reply nobody asked for: the server is confused */

	uvfs_p9_reply_hook hook = __atomic_load_n(&c->hook, __ATOMIC_ACQUIRE);
	uint8_t *m = NULL;
	uint32_t count = 0;
	bool zc = h.type == P9_RREAD && req->rdst && !hook;
	if (zc) {
		err = rx_fill(c, b, P9_HDRSZ + 4, false, NULL, false);
		if (err)
			return err;
		count = le32(b->buf + b->pos + P9_HDRSZ);
		if (p9_check_io(h.size, count, req->rcap))
			return -EPROTO;
		b->pos += P9_HDRSZ + 4;
		err = rx_take(c, b, req->rdst, count);
		if (err)
			return err;
	} else {
		m = malloc(h.size);
		if (!m)
			return -ENOMEM;
		err = rx_take(c, b, m, h.size);
		if (err) {
			free(m);
			return err;
		}
		if (hook)
			hook(__atomic_load_n(&c->hook_arg, __ATOMIC_ACQUIRE), m, h.size);
	}
	pthread_mutex_lock(&c->mu);
	if (req->orphan) {
		/* Nobody waits for an async clunk: its reply only frees things. */
		orphan_retire_locked(c, req);
		pthread_mutex_unlock(&c->mu);
		free(m);
		return 0;
	}
	req->zc = zc;
	req->zc_count = count;
	req->rmsg = m;
	req->rlen = h.size;
	req->done = true;
	pthread_cond_signal(&req->cv);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* Frees a tag (mu held) and tells whoever waits for one.  A caller that
 * became the reader while waiting for a tag may be blocked in poll with
 * nothing left to read: the kick gets it out. */
static void put_tag_locked(struct uvfs_p9_client *c, struct p9_req *req)
{
	if (req->tag == P9_NOTAG) {
		c->reqs[c->max_tags] = NULL;
	} else {
		c->reqs[req->tag] = NULL;
		c->free_tags[c->nfree++] = req->tag;
	}
	pthread_cond_broadcast(&c->tag_cv);
	if (c->tag_waiters)
		p9_kick(c);
}

/* Retires and frees a completed orphan (mu held; fidmu nests inside mu). */
static void orphan_retire_locked(struct uvfs_p9_client *c, struct p9_req *req)
{
	put_tag_locked(c, req);
	p9_fid_free(c, req->orphan_fid);
	p9_req_free(req);
	free(req);
}

/* The stream is unusable: fail everyone still waiting (mu held). */
static void fail_all_locked(struct uvfs_p9_client *c, int err)
{
	if (!c->dead)
		c->dead = err;
	for (uint32_t i = 0; i <= c->max_tags; i++) {
		struct p9_req *req = c->reqs[i];
		if (req && req->orphan) {
			orphan_retire_locked(c, req);
		} else if (req && !req->done) {
			req->done = true;
			req->err = c->dead;
			pthread_cond_signal(&req->cv);
		}
	}
	pthread_cond_broadcast(&c->tag_cv);
	uint64_t one = 1;
	ssize_t n = write(c->wakefd, &one, sizeof(one));
	(void)n;
}

/* Nobody reads any more: wake one sleeping waiter to take over (mu held). */
static void hand_off_locked(struct uvfs_p9_client *c)
{
	for (uint32_t i = 0; i <= c->max_tags; i++) {
		struct p9_req *req = c->reqs[i];
		if (req && req->sleeping && !req->done) {
			pthread_cond_signal(&req->cv);
			return;
		}
	}
}

/* ------------------------------------------------------------ waiting */

static int send_flush(struct uvfs_p9_client *c, uint16_t oldtag)
{
	struct p9_req f;
	struct p9_rmsg r;
	uint8_t buf[16];
	struct p9_enc e;

	p9_req_init(&f, P9_TFLUSH, NULL, 0);
	f.is_flush = true;
	p9_enc_begin(&e, buf, sizeof(buf), P9_TFLUSH, 0);
	p9_put16(&e, oldtag);
	long len = p9_enc_finish(&e, 0);
	int err = p9_send(c, &f, buf, (size_t)len, NULL, 0, false);
	if (!err)
		err = p9_wait(c, &f, &r);
	p9_req_free(&f);
	return err;
}

static void deadline_after(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int p9_wait(struct uvfs_p9_client *c, struct p9_req *req, struct p9_rmsg *r)
{
	bool cancellable = !req->is_flush && !req->nocancel;
	uint32_t tmo = cancellable ? __atomic_load_n(&c->timeout_ms, __ATOMIC_RELAXED) : 0;
	/* Tversion and Tflush cannot be cancelled, so their deadline is
	 * fatal: a server that does not answer them is declared dead (every
	 * waiter fails) rather than waited for forever. */
	bool fatal = req->is_flush || req->ttype == P9_TVERSION;
	if (fatal) {
		uint32_t t = __atomic_load_n(&c->timeout_ms, __ATOMIC_RELAXED);
		tmo = req->is_flush ? (t > P9_FLUSH_GRACE_MS ? t : P9_FLUSH_GRACE_MS)
				    : (t ? t : P9_VERSION_TIMEOUT_MS);
	}
	struct timespec dl;
	int cancel_err = 0;
	bool flushed = false;

	if (tmo)
		deadline_after(&dl, tmo);
	pthread_mutex_lock(&c->mu);
	while (!req->done) {
		if (fatal && ms_left(&dl) == 0) {
			fail_all_locked(c, -ECONNRESET); /* marks req done too */
			cancel_err = -ETIMEDOUT;
			flushed = true; /* report the timeout, not the reset */
			break;
		}
		if (!cancel_err && cancellable) {
			if (req->cancel)
				cancel_err = -EINTR;
			else if (tmo && ms_left(&dl) == 0)
				cancel_err = -ETIMEDOUT;
			if (cancel_err) {
				/* 9P: the tag stays reserved until Rflush; a reply
				 * arriving before it is honoured (the call took
				 * effect). */
				c->nflushes++;
				pthread_mutex_unlock(&c->mu);
				int ferr = send_flush(c, req->tag);
				pthread_mutex_lock(&c->mu);
				if (!ferr && !req->done) {
					flushed = true;
					break;
				}
				continue; /* answered first, or dead: loop sees done */
			}
		}
		if (!c->reading) {
			/* Become the reader until our reply is in. */
			c->reading = true;
			pthread_mutex_unlock(&c->mu);
			int err = rx_one(c, tmo && !cancel_err ? &dl : NULL, false);
			pthread_mutex_lock(&c->mu);
			c->reading = false;
			if (err < 0)
				fail_all_locked(c, err);
			if (err == P9_RX_IDLE)
				hand_off_locked(c); /* we may go and flush now */
			continue; /* look at done / deadline / cancel again */
		}
		req->sleeping = true;
		if (tmo && !cancel_err)
			pthread_cond_timedwait(&req->cv, &c->mu, &dl);
		else
			pthread_cond_wait(&req->cv, &c->mu);
		req->sleeping = false;
	}
	if (!c->reading)
		hand_off_locked(c);
	int err = flushed ? cancel_err : (req->rmsg || req->zc) ? 0 : req->err;
	put_tag_locked(c, req);
	pthread_mutex_unlock(&c->mu);

	memset(r, 0, sizeof(*r));
	if (err)
		return err;
	if (req->zc) {
		r->type = P9_RREAD;
		r->tag = req->tag;
		r->u.io.count = req->zc_count;
		r->u.io.data = req->rdst;
		return 0;
	}
	err = p9_decode_reply(req->rmsg, req->rlen, req->ttype, r);
	if (!err && req->rdst && r->type == P9_RREAD) {
		if (r->u.io.count > req->rcap)
			return -EPROTO;
		if (r->u.io.count)
			memcpy(req->rdst, r->u.io.data, r->u.io.count);
	}
	return err;
}

/* ------------------------------------------------------------ lifetime */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int p9_conn_init(struct uvfs_p9_client *c, int rfd, int wfd, const struct uvfs_p9_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->rfd = rfd;
	c->wfd = wfd;
	c->wakefd = -1;
	c->kickfd = -1;
	c->msize = o && o->msize ? o->msize : 1u << 20;
	c->timeout_ms = o ? o->timeout_ms : 0;
	c->max_tags = o && o->max_inflight ? o->max_inflight : 256;
	if (c->msize < P9_MIN_MSIZE)
		c->msize = P9_MIN_MSIZE;
	/* Tags 0..65534 exist; the reserve is added on top of the limit. */
	c->max_tags += P9_FLUSH_RESERVE;
	if (c->max_tags > 0xfffe)
		c->max_tags = 0xfffe;
	c->next_fid = 1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->wmu, NULL);
	pthread_mutex_init(&c->fidmu, NULL);
	pthread_cond_init(&c->tag_cv, NULL);

	c->wsock = is_socket(wfd);
	int err = set_nonblock(rfd);
	if (!err && wfd != rfd)
		err = set_nonblock(wfd);
	if (err)
		return err;
	c->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wakefd < 0)
		return -errno;
	c->kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->kickfd < 0)
		return -errno;
	c->reqs = calloc(c->max_tags + 1, sizeof(*c->reqs));
	c->free_tags = calloc(c->max_tags, sizeof(*c->free_tags));
	if (!c->reqs || !c->free_tags)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->max_tags; i++)
		c->free_tags[i] = (uint16_t)(c->max_tags - 1 - i); /* pop 0 first */
	c->nfree = c->max_tags;

	c->rx.buf = malloc(RXBUF);
	if (!c->rx.buf)
		return -ENOMEM;
	return 0;
}

void p9_conn_destroy(struct uvfs_p9_client *c)
{
	/* No call may be in flight any more (API contract), so nobody reads;
	 * async clunks whose replies were never read are freed here. */
	if (c->reqs) {
		pthread_mutex_lock(&c->mu);
		for (uint32_t i = 0; i <= c->max_tags; i++)
			if (c->reqs[i] && c->reqs[i]->orphan)
				orphan_retire_locked(c, c->reqs[i]);
		pthread_mutex_unlock(&c->mu);
	}
	free(c->rx.buf);
	if (c->rfd >= 0)
		close(c->rfd);
	if (c->wfd >= 0 && c->wfd != c->rfd)
		close(c->wfd);
	if (c->wakefd >= 0)
		close(c->wakefd);
	if (c->kickfd >= 0)
		close(c->kickfd);
	free(c->reqs);
	free(c->free_tags);
	free(c->free_fids);
	pthread_cond_destroy(&c->tag_cv);
	pthread_mutex_destroy(&c->fidmu);
	pthread_mutex_destroy(&c->wmu);
	pthread_mutex_destroy(&c->mu);
}

/* ------------------------------------------------------------ fids */

int p9_fid_alloc(struct uvfs_p9_client *c, uint32_t *fid)
{
	int err = 0;
	pthread_mutex_lock(&c->fidmu);
	if (c->nfree_fids)
		*fid = c->free_fids[--c->nfree_fids];
	else if (c->next_fid != UVFS_P9_NOFID)
		*fid = c->next_fid++;
	else
		err = -EMFILE;
	if (!err)
		c->fids_in_use++;
	pthread_mutex_unlock(&c->fidmu);
	return err;
}

void p9_fid_free(struct uvfs_p9_client *c, uint32_t fid)
{
	pthread_mutex_lock(&c->fidmu);
	if (c->nfree_fids == c->cap_free_fids) {
		size_t ncap = c->cap_free_fids ? c->cap_free_fids * 2 : 64;
		uint32_t *n = realloc(c->free_fids, ncap * sizeof(*n));
		if (!n) {
			/* Can't remember it for reuse: leak the number, not memory. */
			c->fids_in_use--;
			pthread_mutex_unlock(&c->fidmu);
			return;
		}
		c->free_fids = n;
		c->cap_free_fids = ncap;
	}
	c->free_fids[c->nfree_fids++] = fid;
	c->fids_in_use--;
	pthread_mutex_unlock(&c->fidmu);
}
