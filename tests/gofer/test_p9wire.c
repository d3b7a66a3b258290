/* tests/gofer/test_p9wire.c — the codec byte by byte, and the client facing
 * a hostile server (a thread on a socketpair that answers Tversion properly
 * and then lies).  A malformed reply must give EPROTO, never a crash, an
 * over-read or a hang. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsimpl/gofer/gofer.h"
#include "fsimpl/gofer/p9/p9.h"
#include "fsimpl/gofer/p9/p9_wire.h"
#include "vfs/uvfs.h"

/* ------------------------------------------------------------ codec */

Test(p9wire, twalk_bytes_are_exact)
{
	uint8_t buf[64];
	struct p9_enc e;
	p9_enc_begin(&e, buf, sizeof(buf), P9_TWALK, 0x1234);
	p9_put32(&e, 1);
	p9_put32(&e, 2);
	p9_put16(&e, 2);
	p9_putstr(&e, "ab");
	p9_putstr(&e, "c");
	long n = p9_enc_finish(&e, 0);
	const uint8_t want[] = { 24, 0, 0, 0, 110, 0x34, 0x12, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0,
				 2, 0, 'a', 'b', 1, 0, 'c' };
	cr_assert_eq(n, (long)sizeof(want));
	cr_assert_eq(memcmp(buf, want, sizeof(want)), 0);
}

Test(p9wire, encoder_overflow_is_emsgsize)
{
	uint8_t buf[12];
	struct p9_enc e;
	p9_enc_begin(&e, buf, sizeof(buf), P9_TWALK, 0);
	p9_put32(&e, 1);
	p9_put32(&e, 2); /* 15 > 12 */
	cr_assert_eq(p9_enc_finish(&e, 0), -EMSGSIZE);
	/* Payload sizes that overflow the 32-bit size field. */
	p9_enc_begin(&e, buf, sizeof(buf), P9_TWRITE, 0);
	cr_assert_eq(p9_enc_finish(&e, UINT32_MAX), -EMSGSIZE);
}

static size_t build(uint8_t *buf, size_t cap, uint8_t type, void (*body)(struct p9_enc *))
{
	struct p9_enc e;
	p9_enc_begin(&e, buf, cap, type, 7);
	if (body)
		body(&e);
	long n = p9_enc_finish(&e, 0);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

static void qid_body(struct p9_enc *e)
{
	p9_put8(e, UVFS_P9_QTDIR);
	p9_put32(e, 9);
	p9_put64(e, 0x1122334455667788ull);
}

Test(p9wire, decodes_good_replies)
{
	uint8_t buf[256];
	struct p9_rmsg r;
	size_t n = build(buf, sizeof(buf), P9_RATTACH, qid_body);
	cr_assert_eq(p9_decode_reply(buf, n, P9_TATTACH, &r), 0);
	cr_assert_eq(r.tag, 7);
	cr_assert_eq(r.u.qid.type, UVFS_P9_QTDIR);
	cr_assert_eq(r.u.qid.version, 9);
	cr_assert_eq(r.u.qid.path, 0x1122334455667788ull);
	/* Same bytes answer the wrong question: EPROTO. */
	cr_assert_eq(p9_decode_reply(buf, n, P9_TMKDIR, &r), -EPROTO);
	cr_assert_eq(p9_decode_reply(buf, n, P9_TWALK, &r), -EPROTO);
}

static void lerror_body(struct p9_enc *e)
{
	p9_put32(e, ENOENT);
}

static void lerror0_body(struct p9_enc *e)
{
	p9_put32(e, 0);
}

static void lerror_huge_body(struct p9_enc *e)
{
	p9_put32(e, 100000);
}

Test(p9wire, rlerror_maps_to_negative_errno)
{
	uint8_t buf[64];
	struct p9_rmsg r;
	size_t n = build(buf, sizeof(buf), P9_RLERROR, lerror_body);
	cr_assert_eq(p9_decode_reply(buf, n, P9_TWALK, &r), -ENOENT);
	n = build(buf, sizeof(buf), P9_RLERROR, lerror0_body);
	cr_assert_eq(p9_decode_reply(buf, n, P9_TWALK, &r), -EPROTO, "error 0 is no error");
	n = build(buf, sizeof(buf), P9_RLERROR, lerror_huge_body);
	cr_assert_eq(p9_decode_reply(buf, n, P9_TWALK, &r), -EPROTO);
}

static void walk17_body(struct p9_enc *e)
{
	p9_put16(e, 17);
	for (int i = 0; i < 17; i++)
		qid_body(e);
}

static void walk_short_body(struct p9_enc *e)
{
	p9_put16(e, 2);
	qid_body(e); /* one qid missing */
}

static void readlink_overrun_body(struct p9_enc *e)
{
	p9_put16(e, 500); /* longer than the message */
	p9_putbytes(e, "abc", 3);
}

static void readlink_nul_body(struct p9_enc *e)
{
	p9_putstr(e, "ab");
	e->buf[e->len - 1] = '\0';
}

static void read_count_lies_body(struct p9_enc *e)
{
	p9_put32(e, 10);
	p9_putbytes(e, "12345", 5);
}

static void attach_trailing_body(struct p9_enc *e)
{
	qid_body(e);
	p9_put8(e, 0);
}

Test(p9wire, rejects_malformed_replies)
{
	uint8_t buf[512];
	struct p9_rmsg r;
	size_t n;
	n = build(buf, sizeof(buf), P9_RWALK, walk17_body);
	cr_assert_eq(p9_decode_reply(buf, n, P9_TWALK, &r), -EPROTO, "more than 16 qids");
	n = build(buf, sizeof(buf), P9_RWALK, walk_short_body);
	cr_assert_eq(p9_decode_reply(buf, n, P9_TWALK, &r), -EPROTO, "truncated qid list");
	n = build(buf, sizeof(buf), P9_RREADLINK, readlink_overrun_body);
	cr_assert_eq(p9_decode_reply(buf, n, P9_TREADLINK, &r), -EPROTO, "string past the end");
	n = build(buf, sizeof(buf), P9_RREADLINK, readlink_nul_body);
	cr_assert_eq(p9_decode_reply(buf, n, P9_TREADLINK, &r), -EPROTO, "NUL inside a target");
	n = build(buf, sizeof(buf), P9_RREAD, read_count_lies_body);
	cr_assert_eq(p9_decode_reply(buf, n, P9_TREAD, &r), -EPROTO, "count beyond data");
	n = build(buf, sizeof(buf), P9_RATTACH, attach_trailing_body);
	cr_assert_eq(p9_decode_reply(buf, n, P9_TATTACH, &r), -EPROTO, "trailing byte");
	/* The frame's size must match what we were given. */
	n = build(buf, sizeof(buf), P9_RATTACH, qid_body);
	cr_assert_eq(p9_decode_reply(buf, n - 1, P9_TATTACH, &r), -EPROTO);
	cr_assert_eq(p9_decode_reply(buf, 3, P9_TATTACH, &r), -EPROTO);
	buf[0] = 5; /* size below the header */
	cr_assert_eq(p9_decode_reply(buf, 5, P9_TATTACH, &r), -EPROTO);
	/* A truncated qid in every qid-bearing reply. */
	for (size_t cut = P9_HDRSZ; cut < P9_HDRSZ + P9_QIDSZ; cut++) {
		n = build(buf, sizeof(buf), P9_RMKDIR, qid_body);
		buf[0] = (uint8_t)cut;
		cr_assert_eq(p9_decode_reply(buf, cut, P9_TMKDIR, &r), -EPROTO);
	}
}

static void put_dirent(struct p9_enc *e, const char *name, size_t len)
{
	qid_body(e);
	p9_put64(e, 42);
	p9_put8(e, 4);
	p9_put16(e, (uint16_t)len);
	p9_putbytes(e, name, len);
}

Test(p9wire, dirent_iteration_is_strict)
{
	uint8_t data[256];
	struct p9_enc e = { .buf = data, .cap = sizeof(data) };
	put_dirent(&e, "one", 3);
	put_dirent(&e, "two", 3);
	struct p9_dec d;
	struct p9_dirent_raw de;
	p9_dec_init(&d, data, e.len);
	cr_assert_eq(p9_dirent_next(&d, &de), 1);
	cr_assert_eq(de.namelen, 3);
	cr_assert_eq(memcmp(de.name, "one", 3), 0);
	cr_assert_eq(de.offset, 42);
	cr_assert_eq(p9_dirent_next(&d, &de), 1);
	cr_assert_eq(p9_dirent_next(&d, &de), 0);

	p9_dec_init(&d, data, e.len - 1); /* second entry cut short */
	cr_assert_eq(p9_dirent_next(&d, &de), 1);
	cr_assert_eq(p9_dirent_next(&d, &de), -EPROTO);

	const char *bad[] = { "a/b", "" };
	for (int i = 0; i < 2; i++) {
		e.len = 0;
		put_dirent(&e, bad[i], strlen(bad[i]));
		p9_dec_init(&d, data, e.len);
		cr_assert_eq(p9_dirent_next(&d, &de), -EPROTO, "name '%s'", bad[i]);
	}
	e.len = 0;
	put_dirent(&e, "a\0b", 3);
	p9_dec_init(&d, data, e.len);
	cr_assert_eq(p9_dirent_next(&d, &de), -EPROTO, "NUL in a name");
}

/* ------------------------------------------------------------ hostile server */

/* The fake server's script: given a request, write whatever bytes to fd.
 * Returning non-zero stops the server (closes its end). */
typedef int (*scene_fn)(int fd, uint8_t type, uint16_t tag, const uint8_t *body, size_t blen);

struct fake {
	int fd;
	scene_fn scene;
	uint32_t msize;
	const char *version;
	bool mute_version; /* never answer Tversion */
	pthread_t th;
};

static int read_full(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void write_full(int fd, const void *p, size_t n)
{
	ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
	(void)w;
}

static void reply(int fd, uint8_t type, uint16_t tag, const void *body, size_t blen)
{
	uint8_t m[512];
	struct p9_enc e;
	p9_enc_begin(&e, m, sizeof(m), type, tag);
	p9_putbytes(&e, body, blen);
	long n = p9_enc_finish(&e, 0);
	write_full(fd, m, (size_t)n);
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	static uint8_t buf[1 << 16];
	for (;;) {
		if (read_full(f->fd, buf, 4))
			break;
		uint32_t size = buf[0] | buf[1] << 8 | buf[2] << 16 | (uint32_t)buf[3] << 24;
		if (size < 7 || size > sizeof(buf) || read_full(f->fd, buf + 4, size - 4))
			break;
		uint8_t type = buf[4];
		uint16_t tag = (uint16_t)(buf[5] | buf[6] << 8);
		if (type == P9_TVERSION && f->mute_version)
			continue;
		if (type == P9_TVERSION) {
			uint8_t b[64];
			struct p9_enc e = { .buf = b, .cap = sizeof(b) };
			p9_put32(&e, f->msize);
			p9_putstr(&e, f->version);
			reply(f->fd, P9_RVERSION, tag, b, e.len);
			continue;
		}
		if (f->scene(f->fd, type, tag, buf + 7, size - 7))
			break;
	}
	close(f->fd);
	return NULL;
}

static struct fake fk;

static int start_fake(scene_fn scene, uint32_t msize, const char *version, struct uvfs_p9_client **c)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fk = (struct fake){ .fd = sv[1], .scene = scene, .msize = msize, .version = version };
	cr_assert_eq(pthread_create(&fk.th, NULL, fake_main, &fk), 0);
	struct uvfs_p9_opts o = { .msize = 65536 };
	return uvfs_p9_connect_fds(sv[0], sv[0], &o, c);
}

static void end_fake(struct uvfs_p9_client *c)
{
	uvfs_p9_close(c); /* closing our end ends the fake's read loop */
	pthread_join(fk.th, NULL);
}

static int scene_unknown_tag(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	uint8_t q[13] = { 0 };
	reply(fd, (uint8_t)(type + 1), (uint16_t)(tag + 100), q, sizeof(q));
	return 0;
}

Test(p9hostile, reply_with_unknown_tag_kills_connection)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(start_fake(scene_unknown_tag, 65536, "9P2000.L", &c), 0);
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(c, 1, 0, &a), -EPROTO);
	cr_assert_eq(uvfs_p9_getattr(c, 1, 0, &a), -EPROTO, "the stream is unusable now");
	end_fake(c);
}

static int scene_oversize(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	uint8_t m[7] = { 0xff, 0xff, 0xff, 0x7f, (uint8_t)(type + 1), (uint8_t)tag, (uint8_t)(tag >> 8) };
	write_full(fd, m, sizeof(m));
	return 0;
}

Test(p9hostile, frame_larger_than_msize)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(start_fake(scene_oversize, 65536, "9P2000.L", &c), 0);
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(c, 1, 0, &a), -EPROTO);
	end_fake(c);
}

static int scene_tiny_frame(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	uint8_t m[7] = { 3, 0, 0, 0, (uint8_t)(type + 1), (uint8_t)tag, (uint8_t)(tag >> 8) };
	write_full(fd, m, sizeof(m));
	return 0;
}

Test(p9hostile, frame_smaller_than_header)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(start_fake(scene_tiny_frame, 65536, "9P2000.L", &c), 0);
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(c, 1, 0, &a), -EPROTO);
	end_fake(c);
}

/* Well framed but the body is wrong: only that call fails. */
static int scene_short_getattr(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	uint8_t body[40] = { 0 };
	if (type == P9_TGETATTR)
		reply(fd, P9_RGETATTR, tag, body, sizeof(body)); /* needs 153 bytes */
	else
		reply(fd, (uint8_t)(type + 1), tag, NULL, 0);
	return 0;
}

Test(p9hostile, malformed_body_fails_only_that_call)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(start_fake(scene_short_getattr, 65536, "9P2000.L", &c), 0);
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(c, 1, 0, &a), -EPROTO);
	cr_assert_eq(uvfs_p9_fsync(c, 1, 0), 0, "framing intact: connection lives");
	end_fake(c);
}

static int scene_read_too_much(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	uint8_t body[4 + 100] = { 100 };
	reply(fd, P9_RREAD, tag, body, sizeof(body));
	return 0;
}

Test(p9hostile, rread_larger_than_asked)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(start_fake(scene_read_too_much, 65536, "9P2000.L", &c), 0);
	char buf[10];
	cr_assert_eq(uvfs_p9_read1(c, 1, 0, buf, sizeof(buf)), -EPROTO);
	end_fake(c);
}

static int scene_hangup_mid_frame(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	uint8_t m[9] = { 100, 0, 0, 0, (uint8_t)(type + 1), (uint8_t)tag, (uint8_t)(tag >> 8), 1, 2 };
	write_full(fd, m, sizeof(m));
	return 1; /* and hang up */
}

Test(p9hostile, eof_inside_a_frame)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(start_fake(scene_hangup_mid_frame, 65536, "9P2000.L", &c), 0);
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(c, 1, 0, &a), -ECONNRESET);
	end_fake(c);
}

static int scene_bad_dirent(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	uint8_t body[128];
	struct p9_enc e = { .buf = body, .cap = sizeof(body) };
	p9_put32(&e, 0);
	put_dirent(&e, "ok", 2);
	put_dirent(&e, "../../etc", 9);
	uint32_t cnt = (uint32_t)e.len - 4;
	memcpy(body, &cnt, 4);
	reply(fd, P9_RREADDIR, tag, body, e.len);
	return 0;
}

static int count_cb(void *arg, const struct uvfs_p9_dirent *de)
{
	(*(int *)arg)++;
	return 0;
}

Test(p9hostile, readdir_name_with_slash)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(start_fake(scene_bad_dirent, 65536, "9P2000.L", &c), 0);
	int seen = 0;
	cr_assert_eq(uvfs_p9_readdir(c, 1, 0, 0, count_cb, &seen), -EPROTO);
	cr_assert_eq(seen, 0, "nothing of a bad batch is delivered");
	end_fake(c);
}

static int scene_walk_too_many(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	uint8_t body[2 + 2 * 13] = { 2 };
	reply(fd, P9_RWALK, tag, body, sizeof(body));
	return 0;
}

Test(p9hostile, rwalk_more_qids_than_names)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(start_fake(scene_walk_too_many, 65536, "9P2000.L", &c), 0);
	uint32_t f;
	const char *one[] = { "x" };
	cr_assert_eq(uvfs_p9_walk(c, 1, 1, one, &f, NULL), -EPROTO);
	struct uvfs_p9_stats st;
	uvfs_p9_get_stats(c, &st);
	cr_assert_eq(st.fids_in_use, 0);
	end_fake(c);
}

static int scene_silent(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	if (type == P9_TFLUSH)
		reply(fd, P9_RFLUSH, tag, NULL, 0);
	return 0; /* never answers anything else */
}

Test(p9hostile, silent_server_times_out_with_flush)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(start_fake(scene_silent, 65536, "9P2000.L", &c), 0);
	uvfs_p9_set_timeout(c, 10);
	struct uvfs_p9_attr a;
	for (int i = 0; i < 300; i++) /* more than there are tags: all come back */
		cr_assert_eq(uvfs_p9_getattr(c, 1, 0, &a), -ETIMEDOUT);
	struct uvfs_p9_stats st;
	uvfs_p9_get_stats(c, &st);
	cr_assert_eq(st.flushes, 300);
	end_fake(c);
}

static int scene_never(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	return 0;
}

Test(p9hostile, version_negotiation_checks)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(start_fake(scene_never, 1 << 20, "9P2000.L", &c), -EPROTO, "msize above ours");
	pthread_join(fk.th, NULL);
	cr_assert_eq(start_fake(scene_never, 100, "9P2000.L", &c), -EPROTO, "msize too small");
	pthread_join(fk.th, NULL);
	cr_assert_eq(start_fake(scene_never, 8192, "9P2000.u", &c), -EPROTONOSUPPORT);
	pthread_join(fk.th, NULL);
	cr_assert_eq(start_fake(scene_never, 8192, "9P2000.L", &c), 0);
	cr_assert_eq(uvfs_p9_msize(c), 8192);
	end_fake(c);
}

/* A server that never answers Tversion: connecting must give up at the
 * deadline, not block forever (uvfs 9p ls used to hang here). */
Test(p9hostile, silent_version_times_out, .timeout = 10)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fk = (struct fake){ .fd = sv[1], .scene = scene_never, .msize = 65536, .version = "9P2000.L",
			    .mute_version = true };
	cr_assert_eq(pthread_create(&fk.th, NULL, fake_main, &fk), 0);
	struct uvfs_p9_client *c = NULL;
	struct uvfs_p9_opts o = { .msize = 65536, .timeout_ms = 50 };
	cr_assert_eq(uvfs_p9_connect_fds(sv[0], sv[0], &o, &c), -ETIMEDOUT);
	cr_assert_null(c);
	pthread_join(fk.th, NULL); /* our end was closed: the fake sees EOF */
}

/* A server that answers Tversion and then nothing, not even Tflush: the
 * cancelled call's flush gets a grace period, then the connection is dead
 * and every call fails at once instead of waiting for an Rflush forever. */
Test(p9hostile, unanswered_flush_kills_connection, .timeout = 10)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(start_fake(scene_never, 65536, "9P2000.L", &c), 0);
	uvfs_p9_set_timeout(c, 20);
	struct uvfs_p9_attr a;
	int err = uvfs_p9_getattr(c, 1, 0, &a);
	cr_assert(err == -ETIMEDOUT || err == -ECONNRESET, "got %d", err);
	cr_assert_eq(uvfs_p9_getattr(c, 1, 0, &a), -ECONNRESET, "the connection is dead now");
	cr_assert_eq(uvfs_p9_fsync(c, 1, 0), -ECONNRESET);
	end_fake(c);
}

/* A server that handles one request at a time and blocks writing each
 * reply: when its replies back up it stops reading requests.  One thread
 * streams big Twrites while another waits for big Rreads; if the writer
 * (holding the write lock) only waited for room, and nobody read, both
 * sides would wait forever. */
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int scene_sync_io(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	static uint8_t out[P9_HDRSZ + 4 + 65536];
	if (type == P9_TREAD && n >= 16) {
		uint64_t off = get32(b + 4) | (uint64_t)get32(b + 8) << 32;
		uint32_t count = get32(b + 12);
		if (count > 65536 - 11)
			count = 65536 - 11;
		struct p9_enc e;
		p9_enc_begin(&e, out, sizeof(out), P9_RREAD, tag);
		p9_put32(&e, count);
		for (uint32_t i = 0; i < count; i++)
			p9_put8(&e, (uint8_t)((off + i) * 7));
		long len = p9_enc_finish(&e, 0);
		write_full(fd, out, (size_t)len);
	} else if (type == P9_TWRITE && n >= 16) {
		uint8_t body[4];
		memcpy(body, b + 12, 4);
		reply(fd, P9_RWRITE, tag, body, 4);
	} else {
		reply(fd, (uint8_t)(type + 1), tag, NULL, 0);
	}
	return 0;
}

struct io_arg {
	struct uvfs_p9_client *c;
	int bad;
};

static void *io_writer(void *arg)
{
	struct io_arg *a = arg;
	size_t len = 256 * 1024;
	uint8_t *buf = calloc(1, len);
	for (int i = 0; i < 30; i++)
		a->bad += uvfs_p9_write(a->c, 1, (uint64_t)i * len, buf, len) != (long)len;
	free(buf);
	return NULL;
}

static void *io_reader(void *arg)
{
	struct io_arg *a = arg;
	size_t len = 256 * 1024;
	uint8_t *buf = malloc(len);
	for (int i = 0; i < 30; i++) {
		uint64_t off = (uint64_t)i * 1000;
		if (uvfs_p9_read(a->c, 2, off, buf, len) != (long)len) {
			a->bad++;
			continue;
		}
		for (size_t k = 0; k < len; k++)
			if (buf[k] != (uint8_t)((off + k) * 7)) {
				a->bad++;
				break;
			}
	}
	free(buf);
	return NULL;
}

Test(p9hostile, server_that_stops_reading_while_replies_back_up, .timeout = 60)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	int small = 4096;
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	fk = (struct fake){ .fd = sv[1], .scene = scene_sync_io, .msize = 65536, .version = "9P2000.L" };
	cr_assert_eq(pthread_create(&fk.th, NULL, fake_main, &fk), 0);
	struct uvfs_p9_client *c;
	struct uvfs_p9_opts o = { .msize = 65536 };
	cr_assert_eq(uvfs_p9_connect_fds(sv[0], sv[0], &o, &c), 0);
	struct io_arg w = { .c = c }, r = { .c = c };
	pthread_t tw, tr;
	cr_assert_eq(pthread_create(&tw, NULL, io_writer, &w), 0);
	cr_assert_eq(pthread_create(&tr, NULL, io_reader, &r), 0);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	cr_assert_eq(w.bad, 0);
	cr_assert_eq(r.bad, 0);
	end_fake(c);
}

/* ------------------------------------------- the 9p filesystem vs a liar */

/* A fake export: one directory (the root) whose Treaddir answers come from
 * rd_mode; everything the mount and an open need is answered truthfully. */
static int rd_mode;
enum { RD_REPEAT, RD_CYCLE, RD_ENDLESS, RD_NAMES };

static void put_ent(struct p9_enc *e, const char *name, size_t len, uint64_t off)
{
	p9_put8(e, 0);
	p9_put32(e, 0);
	p9_put64(e, 1000 + off);
	p9_put64(e, off);
	p9_put8(e, 8);
	p9_put16(e, (uint16_t)len);
	p9_putbytes(e, name, len);
}

static void reply_big(int fd, uint8_t type, uint16_t tag, const uint8_t *body, size_t blen)
{
	static uint8_t m[1 << 16];
	struct p9_enc e;
	p9_enc_begin(&e, m, sizeof(m), type, tag);
	p9_putbytes(&e, body, blen);
	long n = p9_enc_finish(&e, 0);
	write_full(fd, m, (size_t)n);
}

static int scene_fs(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	static uint8_t body[1 << 16];
	struct p9_enc e = { .buf = body, .cap = sizeof(body) };
	switch (type) {
	case P9_TATTACH:
		qid_body(&e);
		break;
	case P9_TWALK: /* clones only */
		p9_put16(&e, 0);
		break;
	case P9_TGETATTR:
		p9_put64(&e, UVFS_P9_GETATTR_BASIC);
		qid_body(&e);
		p9_put32(&e, S_IFDIR | 0755);
		p9_put32(&e, 0);
		p9_put32(&e, 0);
		for (int i = 0; i < 5; i++) /* nlink rdev size blksize blocks */
			p9_put64(&e, i == 0 ? 2 : 4096);
		for (int i = 0; i < 10; i++) /* 4 times, gen, data_version */
			p9_put64(&e, 0);
		break;
	case P9_TLOPEN:
		qid_body(&e);
		p9_put32(&e, 0);
		break;
	case P9_TREADDIR: {
		uint64_t off = get32(b + 4) | (uint64_t)get32(b + 8) << 32;
		uint32_t count = get32(b + 12);
		p9_put32(&e, 0);
		char nm[32];
		switch (rd_mode) {
		case RD_REPEAT: /* always the same entry and cookie */
			put_ent(&e, "same", 4, 7);
			break;
		case RD_CYCLE: /* 0 -> 1 -> 2 -> 0 ... */
			snprintf(nm, sizeof(nm), "c%u", (unsigned)off);
			put_ent(&e, nm, strlen(nm), (off + 1) % 3);
			break;
		case RD_ENDLESS: /* fresh names and cookies, for ever */
			for (uint64_t k = off; e.len + 40 < count; k++) {
				snprintf(nm, sizeof(nm), "n%llu", (unsigned long long)k);
				put_ent(&e, nm, strlen(nm), k + 1);
			}
			break;
		case RD_NAMES:
			if (off == 0) {
				char longname[300];
				memset(longname, 'L', sizeof(longname));
				put_ent(&e, ".", 1, 1);
				put_ent(&e, "..", 2, 2);
				put_ent(&e, longname, sizeof(longname), 3);
				put_ent(&e, "ok", 2, 4);
			}
			break;
		}
		uint32_t cnt = (uint32_t)e.len - 4;
		memcpy(body, &cnt, 4);
		break;
	}
	default: /* Tclunk and the rest: an empty R-message */
		break;
	}
	reply_big(fd, (uint8_t)(type + 1), tag, body, e.len);
	return 0;
}

struct names {
	int n;
	char first[8][16];
};

static int names_cb(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next)
{
	struct names *a = arg;
	if (a->n < 8)
		snprintf(a->first[a->n], sizeof(a->first[0]), "%.*s", (int)(len < 15 ? len : 15), name);
	a->n++;
	return 0;
}

/* Mounts the fake as a 9p root and lists it; the listing's result. */
static int list_fake(int mode, struct names *out)
{
	rd_mode = mode;
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fk = (struct fake){ .fd = sv[1], .scene = scene_fs, .msize = 65536, .version = "9P2000.L" };
	cr_assert_eq(pthread_create(&fk.th, NULL, fake_main, &fk), 0);
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct uvfs_cred cred;
	uvfs_cred_init_root(&cred);
	cr_assert_eq(uvfs_create(&vfs), 0);
	cr_assert_eq(uvfs_register_fs_type(vfs, &uvfs_gofer_type, 0), 0);
	char data[96];
	snprintf(data, sizeof(data), "trans=fd,rfdno=%d,wfdno=%d,cache=fscache,msize=65536", sv[0], sv[0]);
	struct uvfs_mount_opts mo = { .data = data };
	cr_assert_eq(uvfs_mntns_new(vfs, &cred, "fake", "9p", &mo, &ns), 0);
	struct uvfs_vd root;
	uvfs_mntns_root(ns, &root);
	struct uvfs_pathop p = { .root = root, .start = root, .path = "/", .flags = UVFS_PATH_FOLLOW };
	struct uvfs_file *f;
	cr_assert_eq(uvfs_open_at(vfs, &cred, &p, O_RDONLY | O_DIRECTORY, 0, 0, &f), 0);
	memset(out, 0, sizeof(*out));
	int rc = uvfs_iterate_dir(f, names_cb, out);
	uvfs_file_put(f);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	cr_assert_eq(uvfs_destroy(vfs, &live), 0, "nothing left alive");
	pthread_join(fk.th, NULL); /* the fs closed the connection */
	return rc;
}

Test(p9fs, readdir_repeating_offset_is_eio, .timeout = 10)
{
	struct names nm;
	cr_assert_eq(list_fake(RD_REPEAT, &nm), -EIO);
	cr_assert_leq(nm.n, 4, "%d entries", nm.n);
}

Test(p9fs, readdir_cycle_is_eio, .timeout = 10)
{
	struct names nm;
	cr_assert_eq(list_fake(RD_CYCLE, &nm), -EIO);
	cr_assert_leq(nm.n, 16, "%d entries", nm.n);
}

Test(p9fs, readdir_that_never_ends_is_cut_off, .timeout = 30)
{
	struct names nm;
	cr_assert_eq(list_fake(RD_ENDLESS, &nm), -EIO);
	cr_assert_leq(nm.n, (1 << 20) + 2, "%d entries", nm.n);
}

Test(p9fs, readdir_skips_dots_and_overlong_names, .timeout = 10)
{
	struct names nm;
	cr_assert_eq(list_fake(RD_NAMES, &nm), 0);
	cr_assert_eq(nm.n, 3, "%d entries", nm.n); /* the VFS's . and .., then ok */
	cr_assert_str_eq(nm.first[2], "ok");
}

/* A name longer than NAME_MAX before a good one: the validation pass used
 * to forget the error and copy it into a 256-byte stack buffer. Names
 * are delivered whole; the filesystem decides what it accepts. */
static int scene_long_name(int fd, uint8_t type, uint16_t tag, const uint8_t *b, size_t n)
{
	static uint8_t body[1024];
	struct p9_enc e = { .buf = body, .cap = sizeof(body) };
	char longname[300];
	memset(longname, 'L', sizeof(longname));
	p9_put32(&e, 0);
	put_ent(&e, longname, sizeof(longname), 1);
	put_ent(&e, "ok", 2, 2);
	uint32_t cnt = (uint32_t)e.len - 4;
	memcpy(body, &cnt, 4);
	reply_big(fd, P9_RREADDIR, tag, body, e.len);
	return 0;
}

static int len_cb(void *arg, const struct uvfs_p9_dirent *de)
{
	size_t *lens = arg;
	lens[lens[0] + 1] = strlen(de->name);
	lens[0]++;
	return 0;
}

Test(p9hostile, readdir_name_longer_than_name_max)
{
	struct uvfs_p9_client *c;
	cr_assert_eq(start_fake(scene_long_name, 65536, "9P2000.L", &c), 0);
	size_t lens[4] = { 0 };
	cr_assert_eq(uvfs_p9_readdir(c, 1, 0, 0, len_cb, lens), 2);
	cr_assert_eq(lens[1], 300);
	cr_assert_eq(lens[2], 2);
	end_fake(c);
}
