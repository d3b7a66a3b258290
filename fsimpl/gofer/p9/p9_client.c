/* fsimpl/gofer/p9_client.c — the 9P2000.L calls, one function per message,
 * on top of the connection core (p9_conn.c). */
#include "fsimpl/gofer/p9/p9_conn.h"
#include "fsimpl/gofer/p9/p9_direct.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TBUF 8192
#define P9_NAME_SLOT 300 /* a one-name Twalk: 17 + 2 + 255 bytes */ /* largest T-message we build on the stack (walk of 16 names, symlink) */

/* One synchronous call: request, T-message buffer, decoded reply. */
struct call {
	struct p9_req req;
	struct p9_enc e;
	struct p9_rmsg r;
	uint8_t buf[TBUF];
};

static void call_begin(struct call *k, uint8_t type)
{
	p9_req_init(&k->req, type, NULL, 0);
	p9_enc_begin(&k->e, k->buf, sizeof(k->buf), type, 0);
}

/* Sends what was encoded (plus optional payload) and waits for the reply.
 * call_end must follow in every case. */
static int call_run(struct uvfs_p9_client *c, struct call *k, const void *data, size_t dlen)
{
	long len = p9_enc_finish(&k->e, dlen);
	if (len < 0)
		return (int)len;
	int err = p9_send(c, &k->req, k->buf, (size_t)len, data, dlen, false);
	if (err)
		return err;
	return p9_wait(c, &k->req, &k->r);
}

static void call_end(struct call *k)
{
	p9_req_free(&k->req);
}

static bool name_ok(const char *s)
{
	return s && p9_name_ok(s, strlen(s));
}

/* ------------------------------------------------------------ lifetime */

static int do_version(struct uvfs_p9_client *c)
{
	struct call k;
	uint32_t asked = c->msize;
	call_begin(&k, P9_TVERSION);
	p9_put32(&k.e, asked);
	p9_putstr(&k.e, "9P2000.L");
	long len = p9_enc_finish(&k.e, 0);
	int err = p9_send(c, &k.req, k.buf, (size_t)len, NULL, 0, true);
	if (!err)
		err = p9_wait(c, &k.req, &k.r);
	if (!err) {
		const struct p9_str *v = &k.r.u.version.version;
		if (v->len != 8 || memcmp(v->s, "9P2000.L", 8))
			err = -EPROTONOSUPPORT; /* server speaks another dialect */
		else if (k.r.u.version.msize < P9_MIN_MSIZE || k.r.u.version.msize > asked)
			err = -EPROTO;
		else
			__atomic_store_n(&c->msize, k.r.u.version.msize, __ATOMIC_RELAXED);
	}
	call_end(&k);
	return err;
}

int uvfs_p9_connect_fds(int rfd, int wfd, const struct uvfs_p9_opts *o, struct uvfs_p9_client **out)
{
	*out = NULL;
	struct uvfs_p9_client *c = malloc(sizeof(*c));
	if (!c) {
		close(rfd);
		if (wfd != rfd)
			close(wfd);
		return -ENOMEM;
	}
	int err = p9_conn_init(c, rfd, wfd, o);
	if (!err)
		err = do_version(c);
	if (err) {
		p9_conn_destroy(c);
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void uvfs_p9_close(struct uvfs_p9_client *c)
{
	if (!c)
		return;
	if (c->direct)
		return p9d_close(c);
	p9_conn_destroy(c);
	free(c);
}

uint32_t uvfs_p9_msize(const struct uvfs_p9_client *c)
{
	return __atomic_load_n(&c->msize, __ATOMIC_RELAXED);
}

void uvfs_p9_set_timeout(struct uvfs_p9_client *c, uint32_t ms)
{
	__atomic_store_n(&c->timeout_ms, ms, __ATOMIC_RELAXED);
}

void uvfs_p9_interrupt(struct uvfs_p9_client *c)
{
	if (c->direct)
		return; /* nothing waits on a server */
	pthread_mutex_lock(&c->mu);
	for (uint32_t i = 0; i <= c->max_tags; i++) {
		struct p9_req *req = c->reqs[i];
		if (req && !req->is_flush && !req->nocancel && !req->done) {
			req->cancel = true;
			pthread_cond_signal(&req->cv);
		}
	}
	pthread_mutex_unlock(&c->mu);
	p9_kick(c); /* the reader may be blocked in poll on its own request */
}

void uvfs_p9_set_reply_hook(struct uvfs_p9_client *c, uvfs_p9_reply_hook fn, void *arg)
{
	__atomic_store_n(&c->hook, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&c->hook_arg, arg, __ATOMIC_RELEASE);
	__atomic_store_n(&c->hook, fn, __ATOMIC_RELEASE);
}

void uvfs_p9_get_stats(struct uvfs_p9_client *c, struct uvfs_p9_stats *s)
{
	if (c->direct)
		return p9d_get_stats(c, s);
	pthread_mutex_lock(&c->mu);
	s->requests = c->nrequests;
	s->flushes = c->nflushes;
	s->rounds = c->nrounds;
	pthread_mutex_unlock(&c->mu);
	pthread_mutex_lock(&c->fidmu);
	s->fids_in_use = c->fids_in_use;
	pthread_mutex_unlock(&c->fidmu);
}

/* ------------------------------------------------------------ fids */

int uvfs_p9_attach(struct uvfs_p9_client *c, const char *uname, uint32_t n_uname, const char *aname,
		   uint32_t *fid, struct uvfs_p9_qid *qid)
{
	if (c->direct)
		return p9d_attach(c, fid, qid);
	struct call k;
	uint32_t f;
	int err = p9_fid_alloc(c, &f);
	if (err)
		return err;
	call_begin(&k, P9_TATTACH);
	p9_put32(&k.e, f);
	p9_put32(&k.e, UVFS_P9_NOFID);
	p9_putstr(&k.e, uname ? uname : "");
	p9_putstr(&k.e, aname ? aname : "");
	p9_put32(&k.e, n_uname);
	err = call_run(c, &k, NULL, 0);
	if (!err) {
		*fid = f;
		if (qid)
			*qid = k.r.u.qid;
	} else {
		p9_fid_free(c, f);
	}
	call_end(&k);
	return err;
}

static int simple_fid_call(struct uvfs_p9_client *c, uint8_t type, uint32_t fid)
{
	struct call k;
	call_begin(&k, type);
	k.req.nocancel = true; /* only ever Tclunk / Tremove */
	p9_put32(&k.e, fid);
	int err = call_run(c, &k, NULL, 0);
	call_end(&k);
	return err;
}

/* The fid is gone after Tclunk/Tremove whatever the reply (9P semantics). */
int uvfs_p9_clunk(struct uvfs_p9_client *c, uint32_t fid)
{
	if (c->direct)
		return p9d_clunk(c, fid);
	int err = simple_fid_call(c, P9_TCLUNK, fid);
	p9_fid_free(c, fid);
	return err;
}

int uvfs_p9_clunk_async(struct uvfs_p9_client *c, uint32_t fid)
{
	if (c->direct)
		return p9d_clunk(c, fid);
	struct p9_req *req = malloc(sizeof(*req));
	if (!req)
		return uvfs_p9_clunk(c, fid);
	p9_req_init(req, P9_TCLUNK, NULL, 0);
	req->nocancel = true;
	req->orphan = true;
	req->orphan_fid = fid;
	uint8_t buf[16];
	struct p9_enc e;
	p9_enc_begin(&e, buf, sizeof(buf), P9_TCLUNK, 0);
	p9_put32(&e, fid);
	long len = p9_enc_finish(&e, 0);
	int err = p9_send(c, req, buf, (size_t)len, NULL, 0, false);
	if (err) { /* never registered: ours to free */
		p9_req_free(req);
		free(req);
		p9_fid_free(c, fid);
	}
	return err;
}

int uvfs_p9_remove(struct uvfs_p9_client *c, uint32_t fid)
{
	if (c->direct)
		return p9d_remove(c, fid);
	int err = simple_fid_call(c, P9_TREMOVE, fid);
	p9_fid_free(c, fid);
	return err;
}

/* One Twalk of at most 16 names.  Returns the number of qids or -errno. */
static int walk1(struct uvfs_p9_client *c, uint32_t fid, uint32_t newfid, size_t n, const char *const *names,
		 struct uvfs_p9_qid *qids)
{
	struct call k;
	call_begin(&k, P9_TWALK);
	p9_put32(&k.e, fid);
	p9_put32(&k.e, newfid);
	p9_put16(&k.e, (uint16_t)n);
	for (size_t i = 0; i < n; i++)
		p9_putstr(&k.e, names[i]);
	int err = call_run(c, &k, NULL, 0);
	if (!err) {
		if (k.r.u.walk.nwqid > n)
			err = -EPROTO;
		else if (k.r.u.walk.nwqid == 0 && n > 0)
			err = -EPROTO; /* must be Rlerror, not an empty Rwalk */
		else
			err = k.r.u.walk.nwqid;
		if (err > 0 && qids)
			memcpy(qids, k.r.u.walk.wqid, (size_t)err * sizeof(*qids));
	}
	call_end(&k);
	return err;
}

int uvfs_p9_walk(struct uvfs_p9_client *c, uint32_t fid, size_t n, const char *const *names, uint32_t *newfid,
		 struct uvfs_p9_qid *qids)
{
	if (c->direct)
		return p9d_walk(c, fid, n, names, newfid, qids);
	uint32_t nf;
	for (size_t i = 0; i < n; i++)
		if (!names[i] || !names[i][0] || strchr(names[i], '/'))
			return -EINVAL;
	int err = p9_fid_alloc(c, &nf);
	if (err)
		return err;
	size_t done = 0;
	bool made = false; /* does nf exist on the server yet? */
	do {
		size_t batch = n - done > P9_MAXWELEM ? P9_MAXWELEM : n - done;
		/* (no pointer arithmetic on NULL: a clone passes names == NULL) */
		int got = walk1(c, made ? nf : fid, nf, batch, n ? names + done : NULL, qids && n ? qids + done : NULL);
		if (got >= 0 && (size_t)got == batch) {
			made = true;
			done += batch;
			continue;
		}
		/* 9P: newfid is only created when the whole batch walked. */
		err = got < 0 ? got : -ENOENT;
		if (made)
			uvfs_p9_clunk(c, nf);
		else
			p9_fid_free(c, nf);
		return err;
	} while (done < n);
	*newfid = nf;
	return 0;
}

/* One pipelined Tgetattr. */
struct ga_slot {
	struct p9_req req;
	struct p9_rmsg r;
	uint8_t hdr[32];
	bool sent;
};

int uvfs_p9_walk_getattr(struct uvfs_p9_client *c, uint32_t dfid, size_t n, const char *const *names,
			 struct uvfs_p9_qid *qids, const uint32_t *fids, uint64_t mask, struct uvfs_p9_attr *attrs,
			 int *errs)
{
	if (c->direct)
		return p9d_walk_getattr(c, dfid, n, names, qids, fids, mask, attrs, errs);
	if (n == 0 || n > P9_MAXWELEM)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!names[i] || !names[i][0] || strchr(names[i], '/'))
			return -EINVAL;
	struct ga_slot *ga = calloc(n, sizeof(*ga));
	if (!ga)
		return -ENOMEM;
	uint32_t nf;
	int err = p9_fid_alloc(c, &nf);
	if (err) {
		free(ga);
		return err;
	}
	struct call k;
	call_begin(&k, P9_TWALK);
	p9_put32(&k.e, dfid);
	p9_put32(&k.e, nf);
	p9_put16(&k.e, (uint16_t)n);
	for (size_t i = 0; i < n; i++)
		p9_putstr(&k.e, names[i]);
	long len = p9_enc_finish(&k.e, 0);
	err = len < 0 ? (int)len : p9_send(c, &k.req, k.buf, (size_t)len, NULL, 0, false);
	bool walk_sent = !err;
	/* The getattrs ride behind the walk: the caller has it in flight, so
	 * they must not wait for tags (p9_send_ex). */
	for (size_t i = 0; i < n; i++) {
		errs[i] = -EAGAIN;
		if (fids[i] == UVFS_P9_NOFID || !walk_sent)
			continue;
		struct p9_enc e;
		p9_req_init(&ga[i].req, P9_TGETATTR, NULL, 0);
		p9_enc_begin(&e, ga[i].hdr, sizeof(ga[i].hdr), P9_TGETATTR, 0);
		p9_put32(&e, fids[i]);
		p9_put64(&e, mask);
		long gl = p9_enc_finish(&e, 0);
		if (gl < 0 || p9_send_ex(c, &ga[i].req, ga[i].hdr, (size_t)gl, NULL, 0, false, true)) {
			p9_req_free(&ga[i].req);
			continue;
		}
		ga[i].sent = true;
	}
	if (walk_sent) {
		err = p9_wait(c, &k.req, &k.r);
		if (!err) {
			if (k.r.u.walk.nwqid > n || k.r.u.walk.nwqid == 0)
				err = -EPROTO;
			else
				err = k.r.u.walk.nwqid;
			if (err > 0)
				memcpy(qids, k.r.u.walk.wqid, (size_t)err * sizeof(*qids));
		} else if (err == -ENOENT) {
			err = 0; /* the first name is absent */
		}
	}
	call_end(&k);
	if (err >= 0 && (size_t)err == n)
		uvfs_p9_clunk_async(c, nf);
	else
		p9_fid_free(c, nf); /* not created (a partial walk: 9P says none) */
	for (size_t i = 0; i < n; i++) {
		if (!ga[i].sent)
			continue;
		errs[i] = p9_wait(c, &ga[i].req, &ga[i].r);
		if (!errs[i])
			attrs[i] = ga[i].r.u.attr;
		p9_req_free(&ga[i].req);
	}
	free(ga);
	return err;
}

/* One pipelined single-name Twalk or Tgetattr. */
struct many_slot {
	struct p9_req req;
	struct p9_rmsg r;
	uint8_t buf[P9_NAME_SLOT];
	bool sent;
};

int uvfs_p9_walk_many(struct uvfs_p9_client *c, uint32_t dfid, size_t n, const char *const *names, uint32_t *newfids,
		      struct uvfs_p9_qid *qids, int *errs)
{
	if (c->direct)
		return p9d_walk_many(c, dfid, n, names, newfids, qids, errs);
	struct many_slot *sl = calloc(n ? n : 1, sizeof(*sl));
	if (!sl)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		errs[i] = -EAGAIN;
		newfids[i] = UVFS_P9_NOFID;
		if (!name_ok(names[i]) || strlen(names[i]) > 255) {
			errs[i] = -EINVAL;
			continue;
		}
		if (p9_fid_alloc(c, &newfids[i])) {
			newfids[i] = UVFS_P9_NOFID;
			continue;
		}
		struct p9_enc e;
		p9_req_init(&sl[i].req, P9_TWALK, NULL, 0);
		p9_enc_begin(&e, sl[i].buf, sizeof(sl[i].buf), P9_TWALK, 0);
		p9_put32(&e, dfid);
		p9_put32(&e, newfids[i]);
		p9_put16(&e, 1);
		p9_putstr(&e, names[i]);
		long len = p9_enc_finish(&e, 0);
		bool first = true;
		for (size_t k = 0; k < i; k++)
			first &= !sl[k].sent;
		if (len < 0 || p9_send_ex(c, &sl[i].req, sl[i].buf, (size_t)len, NULL, 0, false, !first)) {
			p9_req_free(&sl[i].req);
			p9_fid_free(c, newfids[i]);
			newfids[i] = UVFS_P9_NOFID;
			continue;
		}
		sl[i].sent = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (!sl[i].sent)
			continue;
		errs[i] = p9_wait(c, &sl[i].req, &sl[i].r);
		if (!errs[i] && sl[i].r.u.walk.nwqid != 1)
			errs[i] = -EPROTO;
		if (!errs[i])
			qids[i] = sl[i].r.u.walk.wqid[0];
		p9_req_free(&sl[i].req);
		if (errs[i]) {
			if (errs[i] == -EPROTO)
				uvfs_p9_clunk_async(c, newfids[i]);
			else
				p9_fid_free(c, newfids[i]); /* not created */
			newfids[i] = UVFS_P9_NOFID;
		}
	}
	free(sl);
	return 0;
}

int uvfs_p9_getattr_many(struct uvfs_p9_client *c, size_t n, const uint32_t *fids, uint64_t mask,
			 struct uvfs_p9_attr *attrs, int *errs)
{
	if (c->direct)
		return p9d_getattr_many(c, n, fids, mask, attrs, errs);
	struct many_slot *sl = calloc(n ? n : 1, sizeof(*sl));
	if (!sl)
		return -ENOMEM;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		errs[i] = -EAGAIN;
		if (fids[i] == UVFS_P9_NOFID)
			continue;
		struct p9_enc e;
		p9_req_init(&sl[i].req, P9_TGETATTR, NULL, 0);
		p9_enc_begin(&e, sl[i].buf, sizeof(sl[i].buf), P9_TGETATTR, 0);
		p9_put32(&e, fids[i]);
		p9_put64(&e, mask);
		long len = p9_enc_finish(&e, 0);
		if (len < 0 || p9_send_ex(c, &sl[i].req, sl[i].buf, (size_t)len, NULL, 0, false, any)) {
			p9_req_free(&sl[i].req);
			continue;
		}
		sl[i].sent = any = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (!sl[i].sent)
			continue;
		errs[i] = p9_wait(c, &sl[i].req, &sl[i].r);
		if (!errs[i])
			attrs[i] = sl[i].r.u.attr;
		p9_req_free(&sl[i].req);
	}
	free(sl);
	return 0;
}

int uvfs_p9_walk_path(struct uvfs_p9_client *c, uint32_t fid, const char *path, uint32_t *newfid,
		      struct uvfs_p9_qid *qid)
{
	size_t plen = strlen(path);
	char *copy = malloc(plen + 1);
	const char **names = calloc(plen / 2 + 1, sizeof(*names));
	struct uvfs_p9_qid *qids = NULL;
	int err = -ENOMEM;
	if (!copy || !names)
		goto out;
	memcpy(copy, path, plen + 1);
	size_t n = 0;
	for (char *save = NULL, *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save))
		if (strcmp(t, "."))
			names[n++] = t;
	qids = calloc(n ? n : 1, sizeof(*qids));
	if (!qids)
		goto out;
	err = uvfs_p9_walk(c, fid, n, names, newfid, qids);
	if (!err && qid && n)
		*qid = qids[n - 1];
	if (!err && qid && !n) { /* a clone has no walk qid: ask for it */
		struct uvfs_p9_attr a;
		err = uvfs_p9_getattr(c, *newfid, UVFS_P9_GETATTR_INO, &a);
		if (!err)
			*qid = a.qid;
		else
			uvfs_p9_clunk(c, *newfid);
	}
out:
	free(qids);
	free(names);
	free(copy);
	return err;
}

/* ------------------------------------------------------------ attributes */

int uvfs_p9_getattr(struct uvfs_p9_client *c, uint32_t fid, uint64_t mask, struct uvfs_p9_attr *a)
{
	if (c->direct)
		return p9d_getattr(c, fid, mask, a);
	struct call k;
	call_begin(&k, P9_TGETATTR);
	p9_put32(&k.e, fid);
	p9_put64(&k.e, mask);
	int err = call_run(c, &k, NULL, 0);
	if (!err)
		*a = k.r.u.attr;
	call_end(&k);
	return err;
}

int uvfs_p9_setattr(struct uvfs_p9_client *c, uint32_t fid, const struct uvfs_p9_setattr *s)
{
	if (c->direct)
		return p9d_setattr(c, fid, s);
	struct call k;
	call_begin(&k, P9_TSETATTR);
	p9_put32(&k.e, fid);
	p9_put32(&k.e, s->valid);
	p9_put32(&k.e, s->mode);
	p9_put32(&k.e, s->uid);
	p9_put32(&k.e, s->gid);
	p9_put64(&k.e, s->size);
	p9_put64(&k.e, s->atime_sec);
	p9_put64(&k.e, s->atime_nsec);
	p9_put64(&k.e, s->mtime_sec);
	p9_put64(&k.e, s->mtime_nsec);
	int err = call_run(c, &k, NULL, 0);
	call_end(&k);
	return err;
}

int uvfs_p9_statfs(struct uvfs_p9_client *c, uint32_t fid, struct uvfs_p9_statfs *s)
{
	if (c->direct)
		return p9d_statfs(c, fid, s);
	struct call k;
	call_begin(&k, P9_TSTATFS);
	p9_put32(&k.e, fid);
	int err = call_run(c, &k, NULL, 0);
	if (!err)
		*s = k.r.u.statfs;
	call_end(&k);
	return err;
}

/* ------------------------------------------------------------ open, io */

int uvfs_p9_lopen(struct uvfs_p9_client *c, uint32_t fid, uint32_t flags, struct uvfs_p9_qid *qid,
		  uint32_t *iounit)
{
	if (c->direct)
		return p9d_lopen(c, fid, flags, qid, iounit);
	struct call k;
	call_begin(&k, P9_TLOPEN);
	p9_put32(&k.e, fid);
	p9_put32(&k.e, flags);
	int err = call_run(c, &k, NULL, 0);
	if (!err) {
		if (qid)
			*qid = k.r.u.open.qid;
		if (iounit)
			*iounit = k.r.u.open.iounit;
	}
	call_end(&k);
	return err;
}

int uvfs_p9_lcreate(struct uvfs_p9_client *c, uint32_t fid, const char *name, uint32_t flags, uint32_t mode,
		    uint32_t gid, struct uvfs_p9_qid *qid, uint32_t *iounit)
{
	if (c->direct)
		return p9d_lcreate(c, fid, name, flags, mode, gid, qid, iounit);
	if (!name_ok(name))
		return -EINVAL;
	struct call k;
	call_begin(&k, P9_TLCREATE);
	p9_put32(&k.e, fid);
	p9_putstr(&k.e, name);
	p9_put32(&k.e, flags);
	p9_put32(&k.e, mode);
	p9_put32(&k.e, gid);
	int err = call_run(c, &k, NULL, 0);
	if (!err) {
		if (qid)
			*qid = k.r.u.open.qid;
		if (iounit)
			*iounit = k.r.u.open.iounit;
	}
	call_end(&k);
	return err;
}

/* Requests kept in flight by a large read or write: enough to hide the
 * round trip behind the server's copy. */
#define IO_DEPTH 4 /* measured best of 1..16 on diod over a socketpair */

struct io_slot {
	struct p9_req req;
	struct p9_rmsg r;
	uint8_t hdr[32];
	uint32_t want;
};

/* Sends one Tread/Twrite of `want` bytes at off into/from p. */
static int io_send(struct uvfs_p9_client *c, struct io_slot *s, bool wr, uint32_t fid, uint64_t off,
		   uint8_t *p, uint32_t want, bool nowait)
{
	struct p9_enc e;
	s->want = want;
	p9_req_init(&s->req, wr ? P9_TWRITE : P9_TREAD, wr ? NULL : p, wr ? 0 : want);
	p9_enc_begin(&e, s->hdr, sizeof(s->hdr), wr ? P9_TWRITE : P9_TREAD, 0);
	p9_put32(&e, fid);
	p9_put64(&e, off);
	p9_put32(&e, want);
	long len = p9_enc_finish(&e, wr ? want : 0);
	int err = p9_send_ex(c, &s->req, s->hdr, (size_t)len, wr ? p : NULL, wr ? want : 0, false, nowait);
	if (err)
		p9_req_free(&s->req);
	return err;
}

/* Waits for one slot; returns bytes moved or -errno. */
static long io_wait(struct uvfs_p9_client *c, struct io_slot *s, bool wr)
{
	long n = p9_wait(c, &s->req, &s->r);
	if (!n) {
		uint32_t cnt = wr ? s->r.u.write.count : s->r.u.io.count;
		n = cnt > s->want ? -EPROTO : (long)cnt;
	}
	p9_req_free(&s->req);
	return n;
}

static uint32_t io_chunk(struct uvfs_p9_client *c)
{
	return uvfs_p9_msize(c) - P9_IOHDRSZ;
}

/* Moves len bytes in msize-sized requests.  The first goes alone; only if it
 * moved a full chunk (a regular file) are the rest pipelined IO_DEPTH deep.
 * Stops at the first short transfer. */
static long do_io(struct uvfs_p9_client *c, bool wr, uint32_t fid, uint64_t off, uint8_t *buf, size_t len,
		  bool pipeline)
{
	struct io_slot slots[IO_DEPTH];
	uint32_t chunk = io_chunk(c);
	size_t sent = 0, done = 0;
	unsigned head = 0, inflight = 0;
	bool no_more = false; /* issue nothing further */
	bool counting = true; /* results still add up, in order */
	long err = 0, send_err = 0;

	if (len > (size_t)LONG_MAX)
		len = (size_t)LONG_MAX;
	if (len == 0) {
		/* A zero-length transfer is still a request (EOF/permission probe). */
		int e = io_send(c, &slots[0], wr, fid, off, buf, 0, false);
		return e ? e : io_wait(c, &slots[0], wr);
	}
	while ((sent < len && !no_more) || inflight) {
		unsigned depth = pipeline && done > 0 ? IO_DEPTH : 1;
		while (!no_more && sent < len && inflight < depth) {
			uint32_t want = len - sent > chunk ? chunk : (uint32_t)(len - sent);
			int e = io_send(c, &slots[(head + inflight) % IO_DEPTH], wr, fid, off + sent, buf + sent, want,
					inflight > 0);
			if (e == -EAGAIN)
				break; /* out of tags: retire the oldest first */
			if (e) {
				send_err = e;
				no_more = true;
				break;
			}
			sent += want;
			inflight++;
		}
		if (!inflight)
			break;
		struct io_slot *s = &slots[head];
		long n = io_wait(c, s, wr);
		head = (head + 1) % IO_DEPTH;
		inflight--;
		if (!counting)
			continue; /* after a short or failed piece nothing else counts */
		if (n < 0) {
			if (!done)
				err = n;
			counting = false;
			no_more = true;
		} else {
			done += (size_t)n;
			if ((uint32_t)n < s->want) {
				counting = false;
				no_more = true;
			}
		}
	}
	if (!err && !done && send_err)
		err = send_err; /* nothing moved: report why */
	return err ? err : (long)done;
}

long uvfs_p9_read(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, void *buf, size_t len)
{
	if (c->direct)
		return p9d_read(c, fid, off, buf, len, false);
	return do_io(c, false, fid, off, buf, len, true);
}

long uvfs_p9_write(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, const void *buf, size_t len)
{
	if (c->direct)
		return p9d_write(c, fid, off, buf, len, false);
	return do_io(c, true, fid, off, (uint8_t *)buf, len, true);
}

long uvfs_p9_read1(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, void *buf, size_t len)
{
	if (c->direct)
		return p9d_read(c, fid, off, buf, len, true);
	return do_io(c, false, fid, off, buf, len > io_chunk(c) ? io_chunk(c) : len, false);
}

long uvfs_p9_write1(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, const void *buf, size_t len)
{
	if (c->direct)
		return p9d_write(c, fid, off, buf, len, true);
	return do_io(c, true, fid, off, (uint8_t *)buf, len > io_chunk(c) ? io_chunk(c) : len, false);
}

int uvfs_p9_readdir(struct uvfs_p9_client *c, uint32_t fid, uint64_t off, uint32_t count, uvfs_p9_dirent_cb cb,
		    void *arg)
{
	if (c->direct)
		return p9d_readdir(c, fid, off, count, cb, arg);
	/* diod (like Linux v9fs) caps count at msize - P9_IOHDRSZ. */
	uint32_t max = uvfs_p9_msize(c) - P9_IOHDRSZ;
	if (count == 0 || count > max)
		count = max;
	struct call k;
	call_begin(&k, P9_TREADDIR);
	p9_put32(&k.e, fid);
	p9_put64(&k.e, off);
	p9_put32(&k.e, count);
	int err = call_run(c, &k, NULL, 0);
	int nent = 0;
	if (!err && k.r.u.io.count > count)
		err = -EPROTO;
	if (!err) {
		struct p9_dec d;
		struct p9_dirent_raw raw;
		char small[256], *name = small;
		size_t longest = 0;
		p9_dec_init(&d, k.r.u.io.data, k.r.u.io.count);
		/* Validate the whole batch before delivering any of it, so the
		 * caller never sees half a reply. Names longer than NAME_MAX
		 * are delivered whole (in a buffer of their size): what to
		 * accept is the caller's decision. */
		while ((err = p9_dirent_next(&d, &raw)) > 0)
			if (raw.namelen > longest)
				longest = raw.namelen;
		if (!err && longest >= sizeof(small) && !(name = malloc(longest + 1)))
			err = -ENOMEM;
		p9_dec_init(&d, k.r.u.io.data, k.r.u.io.count);
		while (!err && p9_dirent_next(&d, &raw) > 0) {
			memcpy(name, raw.name, raw.namelen);
			name[raw.namelen] = '\0';
			struct uvfs_p9_dirent de = {
				.qid = raw.qid, .offset = raw.offset, .type = raw.type, .name = name,
			};
			nent++;
			if (cb(arg, &de))
				break;
		}
		if (name != small)
			free(name);
	}
	call_end(&k);
	return err ? err : nent;
}

int uvfs_p9_fsync(struct uvfs_p9_client *c, uint32_t fid, int datasync)
{
	if (c->direct)
		return p9d_fsync(c, fid, datasync);
	struct call k;
	call_begin(&k, P9_TFSYNC);
	p9_put32(&k.e, fid);
	p9_put32(&k.e, datasync ? 1 : 0); /* Linux's layout; diod reads only fid */
	int err = call_run(c, &k, NULL, 0);
	call_end(&k);
	return err;
}

/* ------------------------------------------------------------ namespace */

int uvfs_p9_mkdir(struct uvfs_p9_client *c, uint32_t dfid, const char *name, uint32_t mode, uint32_t gid,
		  struct uvfs_p9_qid *qid)
{
	if (c->direct)
		return p9d_mkdir(c, dfid, name, mode, gid, qid);
	if (!name_ok(name))
		return -EINVAL;
	struct call k;
	call_begin(&k, P9_TMKDIR);
	p9_put32(&k.e, dfid);
	p9_putstr(&k.e, name);
	p9_put32(&k.e, mode);
	p9_put32(&k.e, gid);
	int err = call_run(c, &k, NULL, 0);
	if (!err && qid)
		*qid = k.r.u.qid;
	call_end(&k);
	return err;
}

int uvfs_p9_symlink(struct uvfs_p9_client *c, uint32_t dfid, const char *name, const char *target, uint32_t gid,
		    struct uvfs_p9_qid *qid)
{
	if (c->direct)
		return p9d_symlink(c, dfid, name, target, gid, qid);
	if (!name_ok(name) || !target)
		return -EINVAL;
	struct call k;
	call_begin(&k, P9_TSYMLINK);
	p9_put32(&k.e, dfid);
	p9_putstr(&k.e, name);
	p9_putstr(&k.e, target);
	p9_put32(&k.e, gid);
	int err = call_run(c, &k, NULL, 0);
	if (err == -EMSGSIZE)
		err = -ENAMETOOLONG;
	if (!err && qid)
		*qid = k.r.u.qid;
	call_end(&k);
	return err;
}

int uvfs_p9_mknod(struct uvfs_p9_client *c, uint32_t dfid, const char *name, uint32_t mode, uint32_t major,
		  uint32_t minor, uint32_t gid, struct uvfs_p9_qid *qid)
{
	if (c->direct)
		return p9d_mknod(c, dfid, name, mode, major, minor, gid, qid);
	if (!name_ok(name))
		return -EINVAL;
	struct call k;
	call_begin(&k, P9_TMKNOD);
	p9_put32(&k.e, dfid);
	p9_putstr(&k.e, name);
	p9_put32(&k.e, mode);
	p9_put32(&k.e, major);
	p9_put32(&k.e, minor);
	p9_put32(&k.e, gid);
	int err = call_run(c, &k, NULL, 0);
	if (!err && qid)
		*qid = k.r.u.qid;
	call_end(&k);
	return err;
}

int uvfs_p9_link(struct uvfs_p9_client *c, uint32_t dfid, uint32_t fid, const char *name)
{
	if (c->direct)
		return p9d_link(c, dfid, fid, name);
	if (!name_ok(name))
		return -EINVAL;
	struct call k;
	call_begin(&k, P9_TLINK);
	p9_put32(&k.e, dfid);
	p9_put32(&k.e, fid);
	p9_putstr(&k.e, name);
	int err = call_run(c, &k, NULL, 0);
	call_end(&k);
	return err;
}

int uvfs_p9_rename(struct uvfs_p9_client *c, uint32_t fid, uint32_t dfid, const char *name)
{
	if (c->direct)
		return p9d_rename(c, fid, dfid, name);
	if (!name_ok(name))
		return -EINVAL;
	struct call k;
	call_begin(&k, P9_TRENAME);
	p9_put32(&k.e, fid);
	p9_put32(&k.e, dfid);
	p9_putstr(&k.e, name);
	int err = call_run(c, &k, NULL, 0);
	call_end(&k);
	return err;
}

static bool has_quirk(struct uvfs_p9_client *c, uint32_t q)
{
	return __atomic_load_n(&c->quirks, __ATOMIC_RELAXED) & q;
}

/* Records that the server lacks a message if err says so; true if the
 * caller should use its fallback. */
static bool learn_quirk(struct uvfs_p9_client *c, int err, uint32_t q)
{
	if (err != -EOPNOTSUPP && err != -ENOSYS)
		return false;
	__atomic_fetch_or(&c->quirks, q, __ATOMIC_RELAXED);
	return true;
}

/* "." and ".." would walk to the directory itself or its parent. */
static bool is_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

int uvfs_p9_renameat(struct uvfs_p9_client *c, uint32_t olddfid, const char *oldname, uint32_t newdfid,
		     const char *newname)
{
	if (c->direct)
		return p9d_renameat(c, olddfid, oldname, newdfid, newname);
	if (!name_ok(oldname) || !name_ok(newname) || is_dot(oldname) || is_dot(newname))
		return -EINVAL;
	int err;
	if (!has_quirk(c, P9_QUIRK_NO_RENAMEAT)) {
		struct call k;
		call_begin(&k, P9_TRENAMEAT);
		p9_put32(&k.e, olddfid);
		p9_putstr(&k.e, oldname);
		p9_put32(&k.e, newdfid);
		p9_putstr(&k.e, newname);
		err = call_run(c, &k, NULL, 0);
		call_end(&k);
		if (!learn_quirk(c, err, P9_QUIRK_NO_RENAMEAT))
			return err;
	}
	/* Fallback for servers without Trenameat: rename by fid. */
	uint32_t f;
	err = uvfs_p9_walk(c, olddfid, 1, &oldname, &f, NULL);
	if (err)
		return err;
	err = uvfs_p9_rename(c, f, newdfid, newname);
	int cerr = uvfs_p9_clunk(c, f);
	return err ? err : cerr;
}

int uvfs_p9_unlinkat(struct uvfs_p9_client *c, uint32_t dfid, const char *name, uint32_t flags)
{
	if (c->direct)
		return p9d_unlinkat(c, dfid, name, flags);
	if (!name_ok(name) || flags & ~(uint32_t)AT_REMOVEDIR)
		return -EINVAL;
	if (is_dot(name))
		return !strcmp(name, ".") ? -EINVAL : -ENOTEMPTY; /* as rmdir(2) */
	int err;
	if (!has_quirk(c, P9_QUIRK_NO_UNLINKAT)) {
		struct call k;
		call_begin(&k, P9_TUNLINKAT);
		p9_put32(&k.e, dfid);
		p9_putstr(&k.e, name);
		p9_put32(&k.e, flags);
		err = call_run(c, &k, NULL, 0);
		call_end(&k);
		if (!learn_quirk(c, err, P9_QUIRK_NO_UNLINKAT))
			return err;
	}
	/* Fallback for servers without Tunlinkat: walk, check the type the
	 * flags demand (the server's remove() would take either), Tremove. */
	uint32_t f;
	struct uvfs_p9_qid q;
	err = uvfs_p9_walk(c, dfid, 1, &name, &f, &q);
	if (err)
		return err;
	bool isdir = q.type & UVFS_P9_QTDIR;
	if (isdir != !!(flags & AT_REMOVEDIR)) {
		uvfs_p9_clunk(c, f);
		return isdir ? -EISDIR : -ENOTDIR;
	}
	return uvfs_p9_remove(c, f);
}

int uvfs_p9_readlink(struct uvfs_p9_client *c, uint32_t fid, char *buf, size_t size)
{
	if (c->direct)
		return p9d_readlink(c, fid, buf, size);
	struct call k;
	call_begin(&k, P9_TREADLINK);
	p9_put32(&k.e, fid);
	int err = call_run(c, &k, NULL, 0);
	if (!err) {
		size_t n = k.r.u.target.len;
		if (n + 1 > size) {
			err = -ENAMETOOLONG;
		} else {
			memcpy(buf, k.r.u.target.s, n);
			buf[n] = '\0';
			err = (int)n;
		}
	}
	call_end(&k);
	return err;
}

/* ------------------------------------------------------------ xattrs */

int uvfs_p9_xattrwalk(struct uvfs_p9_client *c, uint32_t fid, const char *name, uint32_t *newfid,
		      uint64_t *size)
{
	if (c->direct)
		return p9d_xattrwalk(c, fid, name, newfid, size);
	uint32_t nf;
	int err = p9_fid_alloc(c, &nf);
	if (err)
		return err;
	struct call k;
	call_begin(&k, P9_TXATTRWALK);
	p9_put32(&k.e, fid);
	p9_put32(&k.e, nf);
	p9_putstr(&k.e, name ? name : "");
	err = call_run(c, &k, NULL, 0);
	if (!err) {
		*newfid = nf;
		*size = k.r.u.xattr_size;
	} else {
		p9_fid_free(c, nf);
	}
	call_end(&k);
	return err;
}

int uvfs_p9_xattrcreate(struct uvfs_p9_client *c, uint32_t fid, const char *name, uint64_t size, uint32_t flags)
{
	if (c->direct)
		return p9d_xattrcreate(c, fid, name, size, flags);
	struct call k;
	call_begin(&k, P9_TXATTRCREATE);
	p9_put32(&k.e, fid);
	p9_putstr(&k.e, name);
	p9_put64(&k.e, size);
	p9_put32(&k.e, flags);
	int err = call_run(c, &k, NULL, 0);
	call_end(&k);
	return err;
}

/* Reads a whole xattr fid (value or name list) with getxattr(2) sizing. */
static long xattr_read(struct uvfs_p9_client *c, uint32_t fid, const char *name, void *buf, size_t size)
{
	uint32_t xf;
	uint64_t len;
	long err = uvfs_p9_xattrwalk(c, fid, name, &xf, &len);
	if (err)
		return err;
	if (len > 65536 * 16) /* XATTR_SIZE_MAX is 64 KiB; lists stay small */
		err = -E2BIG;
	else if (size == 0)
		err = (long)len;
	else if (len > size)
		err = -ERANGE;
	else if (len == 0)
		err = 0;
	else if ((err = uvfs_p9_read(c, xf, 0, buf, len)) >= 0 && (uint64_t)err != len)
		err = -EIO; /* the server said len and then gave us less */
	int cerr = uvfs_p9_clunk(c, xf);
	return err < 0 ? err : cerr ? cerr : err;
}

long uvfs_p9_getxattr(struct uvfs_p9_client *c, uint32_t fid, const char *name, void *buf, size_t size)
{
	if (!name || !*name)
		return -EINVAL;
	return xattr_read(c, fid, name, buf, size);
}

long uvfs_p9_listxattr(struct uvfs_p9_client *c, uint32_t fid, char *buf, size_t size)
{
	return xattr_read(c, fid, "", buf, size);
}

int uvfs_p9_setxattr(struct uvfs_p9_client *c, uint32_t fid, const char *name, const void *val, size_t size,
		     uint32_t flags)
{
	if (!name || !*name)
		return -EINVAL;
	uint32_t xf;
	/* Txattrcreate consumes the fid it is given: work on a clone. */
	int err = uvfs_p9_walk(c, fid, 0, NULL, &xf, NULL);
	if (err)
		return err;
	err = uvfs_p9_xattrcreate(c, xf, name, size, flags);
	if (!err && size) {
		long n = uvfs_p9_write(c, xf, 0, val, size);
		if (n >= 0 && (size_t)n != size)
			n = -EIO;
		if (n < 0)
			err = (int)n;
	}
	/* The value is committed by the clunk, which may fail on its own. */
	int cerr = uvfs_p9_clunk(c, xf);
	return err ? err : cerr;
}

/* ------------------------------------------------------------ locks */

int uvfs_p9_lock(struct uvfs_p9_client *c, uint32_t fid, const struct uvfs_p9_flock *fl, uint8_t *status)
{
	if (c->direct)
		return p9d_lock(c, fid, fl, status);
	struct call k;
	call_begin(&k, P9_TLOCK);
	p9_put32(&k.e, fid);
	p9_put8(&k.e, fl->type);
	p9_put32(&k.e, fl->flags);
	p9_put64(&k.e, fl->start);
	p9_put64(&k.e, fl->length);
	p9_put32(&k.e, fl->proc_id);
	p9_putstr(&k.e, fl->client_id);
	int err = call_run(c, &k, NULL, 0);
	if (!err)
		*status = k.r.u.lock_status;
	call_end(&k);
	return err;
}

int uvfs_p9_getlock(struct uvfs_p9_client *c, uint32_t fid, struct uvfs_p9_flock *fl)
{
	if (c->direct)
		return p9d_getlock(c, fid, fl);
	struct call k;
	call_begin(&k, P9_TGETLOCK);
	p9_put32(&k.e, fid);
	p9_put8(&k.e, fl->type);
	p9_put64(&k.e, fl->start);
	p9_put64(&k.e, fl->length);
	p9_put32(&k.e, fl->proc_id);
	p9_putstr(&k.e, fl->client_id);
	int err = call_run(c, &k, NULL, 0);
	if (!err) {
		const struct p9_str *id = &k.r.u.getlock.client_id;
		if (id->len >= sizeof(fl->client_id) || memchr(id->s, '\0', id->len)) {
			err = -EPROTO;
		} else {
			fl->type = k.r.u.getlock.type;
			fl->start = k.r.u.getlock.start;
			fl->length = k.r.u.getlock.length;
			fl->proc_id = k.r.u.getlock.proc_id;
			memcpy(fl->client_id, id->s, id->len);
			fl->client_id[id->len] = '\0';
		}
	}
	call_end(&k);
	return err;
}

int uvfs_p9_setattr_walk(struct uvfs_p9_client *c, uint32_t fid, const struct uvfs_p9_setattr *s, uint32_t dfid,
			 const char *name, uint32_t *newfid, struct uvfs_p9_qid *qid, int *walk_err)
{
	if (c->direct)
		return p9d_setattr_walk(c, fid, s, dfid, name, newfid, qid, walk_err);
	*newfid = UVFS_P9_NOFID;
	*walk_err = -EAGAIN;
	if (!name_ok(name) || strlen(name) > 255) {
		*walk_err = -EINVAL;
		return uvfs_p9_setattr(c, fid, s);
	}
	struct many_slot w = { 0 };
	uint32_t nf;
	if (!p9_fid_alloc(c, &nf)) {
		struct p9_enc e;
		p9_req_init(&w.req, P9_TWALK, NULL, 0);
		p9_enc_begin(&e, w.buf, sizeof(w.buf), P9_TWALK, 0);
		p9_put32(&e, dfid);
		p9_put32(&e, nf);
		p9_put16(&e, 1);
		p9_putstr(&e, name);
		long len = p9_enc_finish(&e, 0);
		if (len >= 0 && !p9_send_ex(c, &w.req, w.buf, (size_t)len, NULL, 0, false, false))
			w.sent = true;
		else {
			p9_req_free(&w.req);
			p9_fid_free(c, nf);
		}
	}
	/* The Tsetattr goes while the walk is in flight (nowait: one round). */
	struct call k;
	call_begin(&k, P9_TSETATTR);
	p9_put32(&k.e, fid);
	p9_put32(&k.e, s->valid);
	p9_put32(&k.e, s->mode);
	p9_put32(&k.e, s->uid);
	p9_put32(&k.e, s->gid);
	p9_put64(&k.e, s->size);
	p9_put64(&k.e, s->atime_sec);
	p9_put64(&k.e, s->atime_nsec);
	p9_put64(&k.e, s->mtime_sec);
	p9_put64(&k.e, s->mtime_nsec);
	long len = p9_enc_finish(&k.e, 0);
	int err = len < 0 ? (int)len : p9_send_ex(c, &k.req, k.buf, (size_t)len, NULL, 0, false, w.sent);
	if (!err)
		err = p9_wait(c, &k.req, &k.r);
	call_end(&k);
	if (w.sent) {
		*walk_err = p9_wait(c, &w.req, &w.r);
		if (!*walk_err && w.r.u.walk.nwqid != 1)
			*walk_err = -EPROTO;
		p9_req_free(&w.req);
		if (!*walk_err) {
			*newfid = nf;
			*qid = w.r.u.walk.wqid[0];
		} else if (*walk_err == -EPROTO) {
			uvfs_p9_clunk_async(c, nf);
		} else {
			p9_fid_free(c, nf); /* not created */
		}
	}
	return err;
}
