/* fsimpl/gofer/p9_wire.c — 9P2000.L encoding and strict reply decoding.
 *
 * 9P is little endian with 2-byte-length strings.  The decoder never trusts
 * a length: each read is checked against what is left of the message, and
 * the whole message must be consumed exactly, so a hostile server can only
 * ever produce -EPROTO. */
#include "fsimpl/gofer/p9/p9_wire.h"

#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------ encoding */

static uint8_t *enc_room(struct p9_enc *e, size_t n)
{
	if (e->overflow || n > e->cap - e->len) {
		e->overflow = true;
		return NULL;
	}
	uint8_t *p = e->buf + e->len;
	e->len += n;
	return p;
}

void p9_put8(struct p9_enc *e, uint8_t v)
{
	uint8_t *p = enc_room(e, 1);
	if (p)
		p[0] = v;
}

void p9_put16(struct p9_enc *e, uint16_t v)
{
	uint8_t *p = enc_room(e, 2);
	if (p) {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
	}
}

void p9_put32(struct p9_enc *e, uint32_t v)
{
	uint8_t *p = enc_room(e, 4);
	if (p)
		for (int i = 0; i < 4; i++)
			p[i] = (uint8_t)(v >> (8 * i));
}

void p9_put64(struct p9_enc *e, uint64_t v)
{
	uint8_t *p = enc_room(e, 8);
	if (p)
		for (int i = 0; i < 8; i++)
			p[i] = (uint8_t)(v >> (8 * i));
}

void p9_putbytes(struct p9_enc *e, const void *src, size_t n)
{
	uint8_t *p = enc_room(e, n);
	if (p && n)
		memcpy(p, src, n);
}

void p9_putstr(struct p9_enc *e, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n > UINT16_MAX) {
		e->overflow = true;
		return;
	}
	p9_put16(e, (uint16_t)n);
	p9_putbytes(e, s, n);
}

void p9_enc_begin(struct p9_enc *e, void *buf, size_t cap, uint8_t type, uint16_t tag)
{
	e->buf = buf;
	e->cap = cap;
	e->len = 0;
	e->overflow = false;
	p9_put32(e, 0); /* size, patched by finish */
	p9_put8(e, type);
	p9_put16(e, tag);
}

long p9_enc_finish(struct p9_enc *e, size_t extra)
{
	if (e->overflow || e->len < P9_HDRSZ || extra > UINT32_MAX - e->len)
		return -EMSGSIZE;
	uint32_t size = (uint32_t)(e->len + extra);
	for (int i = 0; i < 4; i++)
		e->buf[i] = (uint8_t)(size >> (8 * i));
	return (long)e->len;
}

/* ------------------------------------------------------------ decoding */

void p9_dec_init(struct p9_dec *d, const void *p, size_t len)
{
	d->p = p;
	d->left = len;
	d->bad = false;
}

const uint8_t *p9_getbytes(struct p9_dec *d, size_t n)
{
	if (d->bad || n > d->left) {
		d->bad = true;
		return NULL;
	}
	const uint8_t *p = d->p;
	d->p += n;
	d->left -= n;
	return p;
}

uint8_t p9_get8(struct p9_dec *d)
{
	const uint8_t *p = p9_getbytes(d, 1);
	return p ? p[0] : 0;
}

uint16_t p9_get16(struct p9_dec *d)
{
	const uint8_t *p = p9_getbytes(d, 2);
	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t p9_get32(struct p9_dec *d)
{
	const uint8_t *p = p9_getbytes(d, 4);
	uint32_t v = 0;
	if (p)
		for (int i = 3; i >= 0; i--)
			v = v << 8 | p[i];
	return v;
}

uint64_t p9_get64(struct p9_dec *d)
{
	const uint8_t *p = p9_getbytes(d, 8);
	uint64_t v = 0;
	if (p)
		for (int i = 7; i >= 0; i--)
			v = v << 8 | p[i];
	return v;
}

void p9_getstr(struct p9_dec *d, struct p9_str *s)
{
	s->len = p9_get16(d);
	s->s = (const char *)p9_getbytes(d, s->len);
	if (!s->s) {
		s->len = 0;
		s->s = "";
	}
}

void p9_getqid(struct p9_dec *d, struct uvfs_p9_qid *q)
{
	q->type = p9_get8(d);
	q->version = p9_get32(d);
	q->path = p9_get64(d);
}

int p9_parse_hdr(const uint8_t *buf, size_t len, uint32_t msize, struct p9_hdr *h)
{
	struct p9_dec d;
	p9_dec_init(&d, buf, len);
	h->size = p9_get32(&d);
	h->type = p9_get8(&d);
	h->tag = p9_get16(&d);
	if (d.bad || h->size < P9_HDRSZ || h->size > msize)
		return -EPROTO;
	return 0;
}

bool p9_name_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	return !memchr(s, '/', len) && !memchr(s, '\0', len);
}

int p9_check_io(uint32_t size, uint32_t count, uint32_t asked)
{
	/* size covers header + count[4] + data exactly. */
	if (size < P9_HDRSZ + 4 || count > asked || count != size - P9_HDRSZ - 4)
		return -EPROTO;
	return 0;
}

static void get_attr(struct p9_dec *d, struct uvfs_p9_attr *a)
{
	a->valid = p9_get64(d);
	p9_getqid(d, &a->qid);
	a->mode = p9_get32(d);
	a->uid = p9_get32(d);
	a->gid = p9_get32(d);
	a->nlink = p9_get64(d);
	a->rdev = p9_get64(d);
	a->size = p9_get64(d);
	a->blksize = p9_get64(d);
	a->blocks = p9_get64(d);
	a->atime_sec = p9_get64(d);
	a->atime_nsec = p9_get64(d);
	a->mtime_sec = p9_get64(d);
	a->mtime_nsec = p9_get64(d);
	a->ctime_sec = p9_get64(d);
	a->ctime_nsec = p9_get64(d);
	a->btime_sec = p9_get64(d);
	a->btime_nsec = p9_get64(d);
	a->gen = p9_get64(d);
	a->data_version = p9_get64(d);
}

int p9_decode_reply(const uint8_t *msg, size_t len, uint8_t ttype, struct p9_rmsg *r)
{
	struct p9_hdr h;
	struct p9_dec d;

	memset(r, 0, sizeof(*r));
	/* The frame must be exactly what its size field says. */
	if (p9_parse_hdr(msg, len, UINT32_MAX, &h) || h.size != len)
		return -EPROTO;
	r->type = h.type;
	r->tag = h.tag;
	p9_dec_init(&d, msg + P9_HDRSZ, len - P9_HDRSZ);

	if (h.type == P9_RLERROR) {
		uint32_t ecode = p9_get32(&d);
		if (d.bad || d.left || ecode == 0 || ecode > 4095)
			return -EPROTO;
		return -(int)ecode;
	}
	if (h.type != (uint8_t)(ttype + 1))
		return -EPROTO;

	switch (h.type) {
	case P9_RVERSION:
		r->u.version.msize = p9_get32(&d);
		p9_getstr(&d, &r->u.version.version);
		break;
	case P9_RATTACH:
	case P9_RAUTH:
	case P9_RMKDIR:
	case P9_RSYMLINK:
	case P9_RMKNOD:
		p9_getqid(&d, &r->u.qid);
		break;
	case P9_RWALK:
		r->u.walk.nwqid = p9_get16(&d);
		if (r->u.walk.nwqid > P9_MAXWELEM)
			return -EPROTO;
		for (unsigned i = 0; i < r->u.walk.nwqid; i++)
			p9_getqid(&d, &r->u.walk.wqid[i]);
		break;
	case P9_RLOPEN:
	case P9_RLCREATE:
		p9_getqid(&d, &r->u.open.qid);
		r->u.open.iounit = p9_get32(&d);
		break;
	case P9_RREAD:
	case P9_RREADDIR:
		r->u.io.count = p9_get32(&d);
		r->u.io.data = p9_getbytes(&d, r->u.io.count);
		break;
	case P9_RWRITE:
		r->u.write.count = p9_get32(&d);
		break;
	case P9_RGETATTR:
		get_attr(&d, &r->u.attr);
		break;
	case P9_RSTATFS:
		r->u.statfs.type = p9_get32(&d);
		r->u.statfs.bsize = p9_get32(&d);
		r->u.statfs.blocks = p9_get64(&d);
		r->u.statfs.bfree = p9_get64(&d);
		r->u.statfs.bavail = p9_get64(&d);
		r->u.statfs.files = p9_get64(&d);
		r->u.statfs.ffree = p9_get64(&d);
		r->u.statfs.fsid = p9_get64(&d);
		r->u.statfs.namelen = p9_get32(&d);
		break;
	case P9_RREADLINK:
		p9_getstr(&d, &r->u.target);
		/* A target is a C string on both ends; an embedded NUL would
		 * silently truncate it. */
		if (!d.bad && memchr(r->u.target.s, '\0', r->u.target.len))
			return -EPROTO;
		break;
	case P9_RXATTRWALK:
		r->u.xattr_size = p9_get64(&d);
		break;
	case P9_RLOCK:
		r->u.lock_status = p9_get8(&d);
		break;
	case P9_RGETLOCK:
		r->u.getlock.type = p9_get8(&d);
		r->u.getlock.start = p9_get64(&d);
		r->u.getlock.length = p9_get64(&d);
		r->u.getlock.proc_id = p9_get32(&d);
		p9_getstr(&d, &r->u.getlock.client_id);
		break;
	case P9_RFLUSH:
	case P9_RCLUNK:
	case P9_RREMOVE:
	case P9_RSETATTR:
	case P9_RXATTRCREATE:
	case P9_RFSYNC:
	case P9_RLINK:
	case P9_RRENAME:
	case P9_RRENAMEAT:
	case P9_RUNLINKAT:
		break;
	default:
		return -EPROTO; /* not a reply we ever ask for */
	}
	if (d.bad || d.left)
		return -EPROTO;
	return 0;
}

int p9_dirent_next(struct p9_dec *d, struct p9_dirent_raw *de)
{
	if (d->left == 0 && !d->bad)
		return 0;
	p9_getqid(d, &de->qid);
	de->offset = p9_get64(d);
	de->type = p9_get8(d);
	struct p9_str s;
	p9_getstr(d, &s);
	if (d->bad || !p9_name_ok(s.s, s.len))
		return -EPROTO;
	de->name = s.s;
	de->namelen = s.len;
	return 1;
}

int uvfs_p9_check_reply(const uint8_t *msg, size_t len, uint8_t ttype)
{
	struct p9_rmsg r;
	int err = p9_decode_reply(msg, len, ttype, &r);
	if (err)
		return err;
	if (r.type == P9_RREADDIR) {
		struct p9_dec d;
		struct p9_dirent_raw de;
		p9_dec_init(&d, r.u.io.data, r.u.io.count);
		while ((err = p9_dirent_next(&d, &de)) > 0)
			;
		return err;
	}
	return 0;
}
