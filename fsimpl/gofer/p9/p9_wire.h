/* fsimpl/gofer/p9_wire.h — 9P2000.L wire codec (internal to the gofer).
 *
 * Encoding builds T-messages into a caller buffer; decoding parses
 * R-messages strictly: every length and count is checked against the bytes
 * actually present, trailing garbage is rejected, and any violation is
 * -EPROTO.  Decoded strings point into the message buffer (not NUL
 * terminated); callers copy what they keep.  No allocation happens here, so
 * the decoder can be fuzzed in isolation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fsimpl/gofer/p9/p9.h"

enum {
	P9_TLERROR = 6, P9_RLERROR = 7,
	P9_TSTATFS = 8, P9_RSTATFS,
	P9_TLOPEN = 12, P9_RLOPEN,
	P9_TLCREATE = 14, P9_RLCREATE,
	P9_TSYMLINK = 16, P9_RSYMLINK,
	P9_TMKNOD = 18, P9_RMKNOD,
	P9_TRENAME = 20, P9_RRENAME,
	P9_TREADLINK = 22, P9_RREADLINK,
	P9_TGETATTR = 24, P9_RGETATTR,
	P9_TSETATTR = 26, P9_RSETATTR,
	P9_TXATTRWALK = 30, P9_RXATTRWALK,
	P9_TXATTRCREATE = 32, P9_RXATTRCREATE,
	P9_TREADDIR = 40, P9_RREADDIR,
	P9_TFSYNC = 50, P9_RFSYNC,
	P9_TLOCK = 52, P9_RLOCK,
	P9_TGETLOCK = 54, P9_RGETLOCK,
	P9_TLINK = 70, P9_RLINK,
	P9_TMKDIR = 72, P9_RMKDIR,
	P9_TRENAMEAT = 74, P9_RRENAMEAT,
	P9_TUNLINKAT = 76, P9_RUNLINKAT,
	P9_TVERSION = 100, P9_RVERSION,
	P9_TAUTH = 102, P9_RAUTH,
	P9_TATTACH = 104, P9_RATTACH,
	P9_TFLUSH = 108, P9_RFLUSH,
	P9_TWALK = 110, P9_RWALK,
	P9_TREAD = 116, P9_RREAD,
	P9_TWRITE = 118, P9_RWRITE,
	P9_TCLUNK = 120, P9_RCLUNK,
	P9_TREMOVE = 122, P9_RREMOVE,
};

#define P9_HDRSZ 7u         /* size[4] type[1] tag[2] */
#define P9_QIDSZ 13u        /* type[1] version[4] path[8] */
#define P9_IOHDRSZ 24u      /* Twrite header incl. count: room to leave in msize */
#define P9_MAXWELEM 16u     /* names per Twalk (protocol limit) */
#define P9_MIN_MSIZE 4096u  /* below this nothing useful fits */

/* ------------------------------------------------------------ encoding */

/* A T-message under construction.  Writes past cap set `overflow` instead
 * of touching memory; p9_enc_finish then reports -EMSGSIZE. */
struct p9_enc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

void p9_enc_begin(struct p9_enc *e, void *buf, size_t cap, uint8_t type, uint16_t tag);
void p9_put8(struct p9_enc *e, uint8_t v);
void p9_put16(struct p9_enc *e, uint16_t v);
void p9_put32(struct p9_enc *e, uint32_t v);
void p9_put64(struct p9_enc *e, uint64_t v);
/* A 9P string; -EMSGSIZE via overflow if longer than 65535 bytes. */
void p9_putstr(struct p9_enc *e, const char *s);
void p9_putbytes(struct p9_enc *e, const void *p, size_t n);
/* Patches size[4]; `extra` counts payload bytes sent separately (Twrite
 * data via writev).  Returns the header+fields length or -EMSGSIZE. */
long p9_enc_finish(struct p9_enc *e, size_t extra);

/* ------------------------------------------------------------ decoding */

/* Cursor over a received message.  Every get checks the remaining length
 * first; a short read sets `bad` and returns zeros, never reading past end. */
struct p9_dec {
	const uint8_t *p;
	size_t left;
	bool bad;
};

struct p9_str {
	const char *s; /* points into the message; not NUL terminated */
	uint16_t len;
};

void p9_dec_init(struct p9_dec *d, const void *p, size_t len);
uint8_t p9_get8(struct p9_dec *d);
uint16_t p9_get16(struct p9_dec *d);
uint32_t p9_get32(struct p9_dec *d);
uint64_t p9_get64(struct p9_dec *d);
void p9_getstr(struct p9_dec *d, struct p9_str *s);
void p9_getqid(struct p9_dec *d, struct uvfs_p9_qid *q);
const uint8_t *p9_getbytes(struct p9_dec *d, size_t n);

/* Header of a framed message: size, type, tag. */
struct p9_hdr {
	uint32_t size;
	uint8_t type;
	uint16_t tag;
};

/* Parses the 7-byte header and checks P9_HDRSZ <= size <= msize. */
int p9_parse_hdr(const uint8_t *buf, size_t len, uint32_t msize, struct p9_hdr *h);

/* A decoded R-message.  Which member is valid follows `type`. */
struct p9_rmsg {
	uint8_t type;
	uint16_t tag;
	union {
		struct { uint32_t msize; struct p9_str version; } version;
		struct uvfs_p9_qid qid; /* attach, mkdir, symlink, mknod */
		struct { uint16_t nwqid; struct uvfs_p9_qid wqid[P9_MAXWELEM]; } walk;
		struct { struct uvfs_p9_qid qid; uint32_t iounit; } open; /* lopen, lcreate */
		struct { uint32_t count; const uint8_t *data; } io; /* read, readdir */
		struct { uint32_t count; } write;
		struct uvfs_p9_attr attr;
		struct uvfs_p9_statfs statfs;
		struct p9_str target; /* readlink */
		uint64_t xattr_size;
		uint8_t lock_status;
		struct { uint8_t type; uint64_t start, length; uint32_t proc_id; struct p9_str client_id; } getlock;
	} u;
};

/* Decodes a whole message (header included).  `ttype` is the T-message
 * type that was sent: the reply must be ttype+1 or Rlerror.  Returns 0,
 * -errno from a well-formed Rlerror (1..4095, anything else is -EPROTO), or
 * -EPROTO for any malformed/unexpected message. */
int p9_decode_reply(const uint8_t *msg, size_t len, uint8_t ttype, struct p9_rmsg *r);

/* Checks an Rread/Rreaddir's framing: `count` bytes follow and fill the
 * message exactly, and count <= asked.  Shared by the decoder and the
 * client's zero-copy receive path. */
int p9_check_io(uint32_t size, uint32_t count, uint32_t asked);

/* Iterates Rreaddir payload entries.  Returns 1 with *de filled, 0 at the
 * end, -EPROTO on a malformed entry (truncated, empty name, a name
 * containing '/' or NUL; "." and ".." pass, the server sends them).
 * de->name is NOT terminated: use de->namelen. */
struct p9_dirent_raw {
	struct uvfs_p9_qid qid;
	uint64_t offset;
	uint8_t type;
	const char *name;
	uint16_t namelen;
};
int p9_dirent_next(struct p9_dec *d, struct p9_dirent_raw *de);

/* True if the bytes form a safe path component (non-empty, no '/', no NUL). */
bool p9_name_ok(const char *s, size_t len);
