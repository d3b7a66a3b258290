/* fsimpl/gofer/p9_conn.c — connection core of the 9P client.
 *
 * Callers send their own messages (whole messages under wmu, so frames
 * never interleave) and then sleep on their request's condvar.  One
 * receiver thread reads the stream, finds the request by tag and completes
 * it; it is the only thread that completes requests, which is what makes
 * "the caller's stack request stays valid while the receiver writes into
 * it" hold.  When the stream ends or turns out malformed, the receiver
 * fails every registered request and refuses new ones, so nobody hangs on
 * a dead server.
 *
 * The fds are switched to non-blocking and every wait polls an eventfd as
 * well, so a writer stuck on a full pipe and the receiver stuck on an idle
 * one both wake up when the connection is torn down (pipes, unlike
 * sockets, cannot be shut down to wake a blocked reader). */
#include "fsimpl/gofer/p9_conn.h"

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

static int load_dead(struct uvfs_p9_client *c)
{
	pthread_mutex_lock(&c->mu);
	int d = c->dead;
	pthread_mutex_unlock(&c->mu);
	return d ? d : -ECONNRESET;
}

/* Marks the connection dead (first error wins) and wakes every poller.
 * Requests are failed by the receiver when it notices. */
static void conn_kill(struct uvfs_p9_client *c, int err)
{
	pthread_mutex_lock(&c->mu);
	if (!c->dead)
		c->dead = err;
	pthread_cond_broadcast(&c->tag_cv);
	pthread_mutex_unlock(&c->mu);
	uint64_t one = 1;
	ssize_t n = write(c->wakefd, &one, sizeof(one));
	(void)n; /* eventfd saturation is harmless: it is already readable */
}

/* Waits until fd is ready for `ev` or the connection is killed. */
static int wait_fd(struct uvfs_p9_client *c, int fd, short ev)
{
	struct pollfd p[2] = { { .fd = fd, .events = ev }, { .fd = c->wakefd, .events = POLLIN } };
	for (;;) {
		int n = poll(p, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (p[1].revents)
			return load_dead(c);
		return 0; /* ready, or HUP/ERR: the next read/write reports it */
	}
}

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
				err = wait_fd(c, c->wfd, POLLOUT);
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
		pthread_cond_wait(&c->tag_cv, &c->mu);
	}
	c->reqs[slot] = req;
	c->nrequests++;
	pthread_mutex_unlock(&c->mu);

	msg[5] = (uint8_t)req->tag;
	msg[6] = (uint8_t)(req->tag >> 8);
	struct iovec iov[2] = { { msg, len }, { (void *)data, dlen } };
	/* On failure the request stays registered and the receiver fails it,
	 * so the caller's p9_wait is the single place results come from. */
	send_all(c, iov, dlen ? 2 : 1);
	return 0;
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
	uint32_t tmo = req->is_flush ? 0 : __atomic_load_n(&c->timeout_ms, __ATOMIC_RELAXED);
	struct timespec dl;
	int cancel_err = 0;
	bool flushed = false;

	if (tmo)
		deadline_after(&dl, tmo);
	pthread_mutex_lock(&c->mu);
	while (!req->done) {
		if (!cancel_err && !req->is_flush && req->cancel)
			cancel_err = -EINTR;
		if (cancel_err) {
			/* 9P: the tag stays reserved until Rflush; a reply that
			 * arrives before it is honoured (the call took effect). */
			c->nflushes++;
			pthread_mutex_unlock(&c->mu);
			int ferr = send_flush(c, req->tag);
			pthread_mutex_lock(&c->mu);
			if (!ferr && !req->done) {
				flushed = true;
				break;
			}
			while (!req->done) /* dead connection: receiver fails us */
				pthread_cond_wait(&req->cv, &c->mu);
			break;
		}
		if (tmo) {
			if (pthread_cond_timedwait(&req->cv, &c->mu, &dl) == ETIMEDOUT && !req->done)
				cancel_err = -ETIMEDOUT;
		} else {
			pthread_cond_wait(&req->cv, &c->mu);
		}
	}
	int err = flushed ? cancel_err : (req->rmsg || req->zc) ? 0 : req->err;
	if (req->tag == P9_NOTAG) {
		c->reqs[c->max_tags] = NULL;
	} else {
		c->reqs[req->tag] = NULL;
		c->free_tags[c->nfree++] = req->tag;
	}
	pthread_cond_broadcast(&c->tag_cv);
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

/* ------------------------------------------------------------ receiving */

struct rxbuf {
	uint8_t *buf;
	size_t pos, end;
};

/* Makes at least `need` (<= RXBUF) bytes available in the buffer. */
static int rx_fill(struct uvfs_p9_client *c, struct rxbuf *b, size_t need)
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
		int err = wait_fd(c, c->rfd, POLLIN);
		if (err)
			return err;
	}
	return 0;
}

/* Moves n bytes of the stream to dst: what is buffered, then straight from
 * the fd (large payloads skip the bounce buffer). */
static int rx_take(struct uvfs_p9_client *c, struct rxbuf *b, uint8_t *dst, size_t n)
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
		int err = wait_fd(c, c->rfd, POLLIN);
		if (err)
			return err;
	}
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void complete(struct uvfs_p9_client *c, struct p9_req *req)
{
	pthread_mutex_lock(&c->mu);
	req->done = true;
	pthread_cond_signal(&req->cv);
	pthread_mutex_unlock(&c->mu);
}

/* Reads and routes one reply.  Returns -errno when the stream is unusable. */
static int rx_one(struct uvfs_p9_client *c, struct rxbuf *b)
{
	struct p9_hdr h;
	int err = rx_fill(c, b, P9_HDRSZ);
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
	if (h.type == P9_RREAD && req->rdst && !hook) {
		err = rx_fill(c, b, P9_HDRSZ + 4);
		if (err)
			return err;
		uint32_t count = le32(b->buf + b->pos + P9_HDRSZ);
		if (p9_check_io(h.size, count, req->rcap))
			return -EPROTO;
		b->pos += P9_HDRSZ + 4;
		err = rx_take(c, b, req->rdst, count);
		if (err)
			return err;
		pthread_mutex_lock(&c->mu);
		req->zc = true;
		req->zc_count = count;
		pthread_mutex_unlock(&c->mu);
		complete(c, req);
		return 0;
	}
	uint8_t *m = malloc(h.size);
	if (!m)
		return -ENOMEM;
	err = rx_take(c, b, m, h.size);
	if (err) {
		free(m);
		return err;
	}
	if (hook)
		hook(c->hook_arg, m, h.size);
	pthread_mutex_lock(&c->mu);
	req->rmsg = m;
	req->rlen = h.size;
	pthread_mutex_unlock(&c->mu);
	complete(c, req);
	return 0;
}

static void *rx_main(void *arg)
{
	struct uvfs_p9_client *c = arg;
	struct rxbuf b = { .buf = malloc(RXBUF) };
	int err = b.buf ? 0 : -ENOMEM;

	while (!err)
		err = rx_one(c, &b);
	free(b.buf);

	/* Fail everyone still waiting and refuse new requests. */
	conn_kill(c, err);
	pthread_mutex_lock(&c->mu);
	for (uint32_t i = 0; i <= c->max_tags; i++) {
		struct p9_req *req = c->reqs[i];
		if (req && !req->done) {
			req->done = true;
			req->err = c->dead;
			pthread_cond_signal(&req->cv);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
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
	c->reqs = calloc(c->max_tags + 1, sizeof(*c->reqs));
	c->free_tags = calloc(c->max_tags, sizeof(*c->free_tags));
	if (!c->reqs || !c->free_tags)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->max_tags; i++)
		c->free_tags[i] = (uint16_t)(c->max_tags - 1 - i); /* pop 0 first */
	c->nfree = c->max_tags;

	/* The receiver never handles signals: they belong to the callers. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&c->rx, NULL, rx_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return err;
	c->rx_started = true;
	return 0;
}

void p9_conn_destroy(struct uvfs_p9_client *c)
{
	if (c->rx_started) {
		conn_kill(c, -ESHUTDOWN);
		pthread_join(c->rx, NULL);
	}
	if (c->rfd >= 0)
		close(c->rfd);
	if (c->wfd >= 0 && c->wfd != c->rfd)
		close(c->wfd);
	if (c->wakefd >= 0)
		close(c->wakefd);
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
